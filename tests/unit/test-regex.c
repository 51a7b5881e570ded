/* Unit tests for src/regex.[ch]. */
#include <stdio.h>
#include <string.h>

#include "ccmap.h"
#include "regex.h"
#include "strbuf.h"
#include "task.h"

TEST_IMPL(regex_groups_and_names)
{
	struct regex *re;
	char err[256];

	ASSERT_OK(regex_compile(&re, "--match", "(?<user>\\w+)@(\\w+)", err,
	    sizeof err));
	ASSERT_EQ(regex_groups(re), 2);
	ASSERT_EQ(regex_group_number(re, "user"), 1);
	ASSERT_EQ(regex_group_number(re, "nope"), -1);

	struct rmatch *m = rmatch_new(re);
	const char *s = "mail: bob@host!";
	ASSERT_EQ(regex_match(re, m, s, strlen(s), 0), 3);
	ASSERT_MEM_EQ(s + m->ov[2], m->ov[3] - m->ov[2], "bob", 3);
	ASSERT_MEM_EQ(s + m->ov[4], m->ov[5] - m->ov[4], "host", 4);
	ASSERT_EQ(regex_match(re, m, "none", 4, 0), 0);
	rmatch_free(m);
	regex_free(re);
	return 0;
}

TEST_IMPL(regex_bad_pattern_names_option_and_offset)
{
	struct regex *re = NULL;
	char err[256];

	ASSERT_EQ(regex_compile(&re, "--colsep", "a(b", err, sizeof err),
	    CCMAP_EUSAGE);
	ASSERT_NULL(re);
	ASSERT_NOT_NULL(strstr(err, "--colsep: bad regex 'a(b': "));
	ASSERT_NOT_NULL(strstr(err, "missing closing parenthesis"));
	ASSERT_NOT_NULL(strstr(err, "at offset 3"));
	return 0;
}

TEST_IMPL(regex_binary_subject)
{
	struct regex *re;
	char err[256];

	ASSERT_OK(regex_compile(&re, "-C", "\\t+", err, sizeof err));
	struct rmatch *m = rmatch_new(re);
	const char s[] = "\xff\xfe\0x\t\tz";	/* invalid UTF-8, a NUL */
	ASSERT_GT(regex_match(re, m, s, sizeof s - 1, 0), 0);
	ASSERT_EQ(m->ov[0], 4);
	ASSERT_EQ(m->ov[1], 6);
	rmatch_free(m);
	regex_free(re);
	return 0;
}

TEST_IMPL(regex_substitute_once_and_global)
{
	struct regex *re;
	char err[256];
	struct strbuf out = STRBUF_INIT;

	ASSERT_OK(regex_compile(&re, "{s///}", "(o+)", err, sizeof err));
	struct rmatch *m = rmatch_new(re);
	ASSERT_OK(regex_substitute(re, m, "foo boo", 7, "[$1]", 4, 0, &out));
	ASSERT_STR_EQ(out.buf, "f[oo] boo");
	strbuf_reset(&out);
	ASSERT_OK(regex_substitute(re, m, "foo boo", 7, "<${1}>", 6, 1, &out));
	ASSERT_STR_EQ(out.buf, "f<oo> b<oo>");
	/* A result longer than the first guess. */
	strbuf_reset(&out);
	char big[300];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ASSERT_OK(regex_substitute(re, m, "oooo", 4, big, strlen(big), 1,
	    &out));
	ASSERT_EQ(out.len, strlen(big));
	strbuf_release(&out);
	rmatch_free(m);
	regex_free(re);
	return 0;
}
