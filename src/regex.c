/*
 * regex.c: PCRE2 behind a small interface (see regex.h).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccmap.h"
#include "util.h"
#include "regex.h"
#include "strbuf.h"

struct regex {
	pcre2_code *code;
	unsigned groups;
};

int
regex_compile(struct regex **rp, const char *opt, const char *pattern,
    char *err, size_t errlen)
{
	return regex_compile_flags(rp, opt, pattern, 0, err, errlen);
}

int
regex_compile_flags(struct regex **rp, const char *opt, const char *pattern,
    unsigned flags, char *err, size_t errlen)
{
	int code;
	PCRE2_SIZE off;
	uint32_t options = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF |
	    (flags & REGEX_CASELESS ? PCRE2_CASELESS : 0) |
	    (flags & REGEX_MULTILINE ? PCRE2_MULTILINE : 0) |
	    (flags & REGEX_DOTALL ? PCRE2_DOTALL : 0) |
	    (flags & REGEX_EXTENDED ? PCRE2_EXTENDED : 0);
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    options, &code, &off, NULL);

	if (!re) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(code, msg, sizeof msg);
		snprintf(err, errlen, "%s: bad regex '%s': %s at offset %zu",
		    opt, pattern, (const char *)msg, (size_t)off);
		return CCMAP_EUSAGE;
	}
	/* Where JIT is not available, PCRE2 interprets. */
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE |
	    (flags & REGEX_PARTIAL ? PCRE2_JIT_PARTIAL_HARD : 0));

	struct regex *r = util_calloc(1, sizeof *r);
	uint32_t n = 0;
	pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &n);
	r->code = re;
	r->groups = n;
	*rp = r;
	return 0;
}

void
regex_free(struct regex *re)
{
	if (!re)
		return;
	pcre2_code_free(re->code);
	free(re);
}

unsigned
regex_groups(const struct regex *re)
{
	return re->groups;
}

int
regex_group_number(const struct regex *re, const char *name)
{
	int n = pcre2_substring_number_from_name(re->code, (PCRE2_SPTR)name);
	return n > 0 ? n : -1;
}

void
regex_each_name(const struct regex *re,
    void (*fn)(void *arg, const char *name, unsigned number), void *arg)
{
	uint32_t count = 0, size = 0;
	PCRE2_SPTR table;

	pcre2_pattern_info(re->code, PCRE2_INFO_NAMECOUNT, &count);
	pcre2_pattern_info(re->code, PCRE2_INFO_NAMEENTRYSIZE, &size);
	pcre2_pattern_info(re->code, PCRE2_INFO_NAMETABLE, &table);
	for (uint32_t i = 0; i < count; i++, table += size)
		fn(arg, (const char *)table + 2,
		    (unsigned)(table[0] << 8 | table[1]));
}

struct rmatch *
rmatch_new(const struct regex *re)
{
	struct rmatch *m = util_calloc(1, sizeof *m);
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re->code,
	    NULL);

	if (!md)
		util_oom(sizeof *m);
	m->md = md;
	m->ov = pcre2_get_ovector_pointer(md);
	return m;
}

void
rmatch_free(struct rmatch *m)
{
	if (!m)
		return;
	pcre2_match_data_free(m->md);
	free(m);
}

int
regex_match(const struct regex *re, struct rmatch *m, const char *s,
    size_t len, size_t start)
{
	int r = pcre2_match(re->code, (PCRE2_SPTR)s, len, start, 0, m->md,
	    NULL);

	if (r == PCRE2_ERROR_NOMATCH)
		return 0;
	if (r == 0)		/* the ovector is too small: cannot happen */
		return (int)re->groups + 1;
	return r > 0 ? r : -1;
}

int
regex_match_at(const struct regex *re, struct rmatch *m, const char *s,
    size_t len, size_t start, unsigned flags)
{
	int r = pcre2_match(re->code, (PCRE2_SPTR)s, len, start,
	    (flags & REGEX_NOTEMPTY_START ? PCRE2_NOTEMPTY_ATSTART : 0) |
	    (flags & REGEX_GOES_ON ? PCRE2_PARTIAL_HARD : 0), m->md, NULL);

	if (r == PCRE2_ERROR_NOMATCH)
		return 0;
	if (r == PCRE2_ERROR_PARTIAL)
		return REGEX_MORE;
	if (r == 0)
		return (int)re->groups + 1;
	return r > 0 ? r : -1;
}

int
regex_substitute(const struct regex *re, struct rmatch *m, const char *s,
    size_t len, const char *repl, size_t repl_len, int global,
    struct strbuf *out)
{
	uint32_t flags = PCRE2_SUBSTITUTE_OVERFLOW_LENGTH |
	    PCRE2_SUBSTITUTE_EXTENDED | PCRE2_SUBSTITUTE_UNSET_EMPTY |
	    (global ? PCRE2_SUBSTITUTE_GLOBAL : 0);
	PCRE2_SIZE n = len + repl_len + 64;

	for (int tries = 0; tries < 2; tries++) {
		strbuf_grow(out, n);
		PCRE2_SIZE room = out->alloc - out->len;
		int r = pcre2_substitute(re->code, (PCRE2_SPTR)s, len, 0, flags,
		    m->md, NULL, (PCRE2_SPTR)repl, repl_len,
		    (PCRE2_UCHAR *)out->buf + out->len, &room);
		if (r >= 0) {
			out->len += room;
			out->buf[out->len] = '\0';
			return 0;
		}
		if (r != PCRE2_ERROR_NOMEMORY)
			break;
		n = room;	/* the length it needs, NUL included */
	}
	strbuf_add(out, s, len);
	return -1;
}
