/* Unit tests for src/json.[ch]: JSON strings from any bytes, and records. */
#include <string.h>

#include "json.h"
#include "task.h"

/* s (len bytes) as a JSON string must be exactly want. */
static void
check(const char *s, size_t len, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	json_string(&sb, s, len);
	ASSERT_STR_EQ(sb.buf, want);
	strbuf_release(&sb);
}

#define CHECK(lit, want) check(lit, sizeof lit - 1, want)

TEST_IMPL(json_string_ascii_and_escapes)
{
	CHECK("", "\"\"");
	CHECK("plain text 123 ~", "\"plain text 123 ~\"");
	CHECK("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
	CHECK("\n\t\r\b\f", "\"\\n\\t\\r\\b\\f\"");
	/* Other control characters, NUL and DEL as \u00XX. */
	CHECK("\0\001\037\177x", "\"\\u0000\\u0001\\u001f\\u007fx\"");
	return 0;
}

TEST_IMPL(json_string_valid_utf8_passes)
{
	/* 2, 3 and 4 bytes, and the edges of the ranges. */
	CHECK("h\xc3\xa9llo", "\"h\xc3\xa9llo\"");
	CHECK("\xc2\x80\xdf\xbf", "\"\xc2\x80\xdf\xbf\"");
	CHECK("\xe0\xa0\x80\xe2\x82\xac\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf",
	    "\"\xe0\xa0\x80\xe2\x82\xac\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\"");
	CHECK("\xf0\x90\x80\x80\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf",
	    "\"\xf0\x90\x80\x80\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"");
	return 0;
}

TEST_IMPL(json_string_invalid_utf8_bytes)
{
	/* A lone continuation byte, bytes never in UTF-8. */
	CHECK("a\x80z", "\"a\\udc80z\"");
	CHECK("\xff\xfe", "\"\\udcff\\udcfe\"");
	CHECK("\xc0\xaf\xc1\xbf", "\"\\udcc0\\udcaf\\udcc1\\udcbf\"");
	/* Overlong three and four byte forms. */
	CHECK("\xe0\x80\xaf", "\"\\udce0\\udc80\\udcaf\"");
	CHECK("\xf0\x80\x80\xaf", "\"\\udcf0\\udc80\\udc80\\udcaf\"");
	/* An encoded surrogate, and past U+10FFFF. */
	CHECK("\xed\xa0\x80", "\"\\udced\\udca0\\udc80\"");
	CHECK("\xf4\x90\x80\x80", "\"\\udcf4\\udc90\\udc80\\udc80\"");
	CHECK("\xf5\x80\x80\x80", "\"\\udcf5\\udc80\\udc80\\udc80\"");
	/* Cut short, in the middle and at the end; the next byte is kept. */
	CHECK("\xe2\x82x", "\"\\udce2\\udc82x\"");
	CHECK("ok\xe2\x82", "\"ok\\udce2\\udc82\"");
	CHECK("\xf0\x9f\x98", "\"\\udcf0\\udc9f\\udc98\"");
	/* A valid sequence right after an invalid byte is kept whole. */
	CHECK("\xc3\xc3\xa9", "\"\\udcc3\xc3\xa9\"");
	return 0;
}

TEST_IMPL(json_string_all_bytes)
{
	char all[256];
	struct strbuf sb = STRBUF_INIT;

	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	json_string(&sb, all, sizeof all);
	/* No raw control character or byte >= 0x80 is left (none is UTF-8). */
	for (size_t i = 0; i < sb.len; i++) {
		unsigned char c = (unsigned char)sb.buf[i];
		ASSERT(c >= 0x20 && c < 0x7f);
	}
	ASSERT(strstr(sb.buf, "\\u0000\\u0001") != NULL);
	ASSERT(strstr(sb.buf, "\\udc80\\udc81") != NULL);
	ASSERT(strstr(sb.buf, "\\udcfe\\udcff\"") != NULL);
	strbuf_release(&sb);
	return 0;
}

TEST_IMPL(json_record_fields)
{
	struct strbuf sb = STRBUF_INIT;
	struct value v[2] = { { "a b", 3 }, { "\xff", 1 } };

	json_record(&sb, &(struct json_record){
	    .seq = 7, .v = v, .n = 1, .code = 3, .ns = 1500000001LL,
	    .out = "o\n", .olen = 2, .err = "e", .elen = 1 });
	ASSERT_STR_EQ(sb.buf, "{\"seq\":7,\"item\":\"a b\",\"exit\":3,"
	    "\"signal\":0,\"duration\":1.500000001,\"stdout\":\"o\\n\","
	    "\"stderr\":\"e\"}\n");
	strbuf_reset(&sb);
	json_record(&sb, &(struct json_record){
	    .seq = 12345678901ULL, .v = v, .n = 2, .args = 1, .sig = 9,
	    .ns = 42 });
	ASSERT_STR_EQ(sb.buf, "{\"seq\":12345678901,\"args\":[\"a b\","
	    "\"\\udcff\"],\"exit\":null,\"signal\":9,\"duration\":0.000000042,"
	    "\"stdout\":\"\",\"stderr\":\"\"}\n");
	strbuf_reset(&sb);
	json_record(&sb, &(struct json_record){ .seq = 1, .n = 0, .args = 1 });
	ASSERT(strstr(sb.buf, "\"args\":[],") != NULL);
	strbuf_release(&sb);
	return 0;
}

TEST_IMPL(json_string_gnu_style)
{
	struct strbuf sb = STRBUF_INIT;
	static const char in[] = "a\n\t\"\\\001\177\xc3\xa9\xff";

	/* As GNU parallel's --results .json: every control character as
	 * \u00XX, DEL kept; a byte that is not UTF-8 still escaped. */
	json_string_gnu(&sb, in, sizeof in - 1);
	ASSERT_STR_EQ(sb.buf, "\"a\\u000a\\u0009\\\"\\\\\\u0001\177\xc3\xa9"
	    "\\udcff\"");
	strbuf_release(&sb);
	return 0;
}
