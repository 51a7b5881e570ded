/*
 * json.c: JSON strings from arbitrary bytes, and --json's records (see
 * json.h).
 */
#include <stdio.h>

#include "json.h"

/*
 * The length of the valid UTF-8 sequence of more than one byte at p, or 0
 * (the ranges of the Unicode standard's table of well-formed sequences).
 */
static size_t
utf8_len(const unsigned char *p, size_t left)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (left < n)
		return 0;
	/* The second byte's range rules out overlongs, surrogates, > 10FFFF. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/*
 * The bytes as a JSON string; gnu: as GNU parallel's --results FILE.json
 * writes them (every control character as \u00XX, DEL as it is).
 */
static void
string(struct strbuf *out, const char *s, size_t len, int gnu)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	strbuf_grow(out, len + 2);
	strbuf_addch(out, '"');
	while (i < len) {
		size_t run = i, n;
		/* Printable ASCII goes in runs. */
		while (run < len && p[run] >= 0x20 && (p[run] < 0x7f || (gnu &&
		    p[run] == 0x7f)) && p[run] != '"' && p[run] != '\\')
			run++;
		if (run > i) {
			strbuf_add(out, p + i, run - i);
			i = run;
			continue;
		}
		unsigned char c = p[i];
		if (c >= 0x80 && (n = utf8_len(p + i, len - i)) != 0) {
			strbuf_add(out, p + i, n);
			i += n;
			continue;
		}
		i++;
		switch (gnu && c < 0x20 ? 0x20 : c) {
		case '"':	strbuf_add(out, "\\\"", 2); continue;
		case '\\':	strbuf_add(out, "\\\\", 2); continue;
		case '\n':	strbuf_add(out, "\\n", 2); continue;
		case '\t':	strbuf_add(out, "\\t", 2); continue;
		case '\r':	strbuf_add(out, "\\r", 2); continue;
		case '\b':	strbuf_add(out, "\\b", 2); continue;
		case '\f':	strbuf_add(out, "\\f", 2); continue;
		}
		/* A control character, or a byte that is not UTF-8. */
		char esc[6] = { '\\', 'u', c < 0x80 ? '0' : 'd',
		    c < 0x80 ? '0' : 'c', hex[c >> 4], hex[c & 15] };
		strbuf_add(out, esc, sizeof esc);
	}
	strbuf_addch(out, '"');
}

void
json_string(struct strbuf *out, const char *s, size_t len)
{
	string(out, s, len, 0);
}

void
json_string_gnu(struct strbuf *out, const char *s, size_t len)
{
	string(out, s, len, 1);
}

void
json_record(struct strbuf *line, const struct json_record *r)
{
	long long ns = r->ns > 0 ? r->ns : 0;
	char num[64];

	snprintf(num, sizeof num, "{\"seq\":%llu,", r->seq);
	strbuf_addstr(line, num);
	if (r->args) {
		strbuf_addstr(line, "\"args\":[");
		for (size_t i = 0; i < r->n; i++) {
			if (i)
				strbuf_addch(line, ',');
			json_string(line, r->v[i].p, r->v[i].len);
		}
		strbuf_addch(line, ']');
	} else {
		strbuf_addstr(line, "\"item\":");
		json_string(line, r->n ? r->v[0].p : "", r->n ? r->v[0].len : 0);
	}
	if (r->sig)
		snprintf(num, sizeof num, ",\"exit\":null,\"signal\":%d,", r->sig);
	else
		snprintf(num, sizeof num, ",\"exit\":%d,\"signal\":0,", r->code);
	strbuf_addstr(line, num);
	snprintf(num, sizeof num, "\"duration\":%lld.%09lld,",
	    ns / 1000000000, ns % 1000000000);
	strbuf_addstr(line, num);
	strbuf_addstr(line, "\"stdout\":");
	json_string(line, r->out, r->olen);
	strbuf_addstr(line, ",\"stderr\":");
	json_string(line, r->err, r->elen);
	strbuf_addstr(line, "}\n");
}
