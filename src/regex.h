/*
 * regex.h: PCRE2 regexes, compiled once (JIT-compiled where the platform
 * allows) and matched from any thread, each with its own match data.
 *
 *	struct regex *re;
 *	if (regex_compile(&re, "--colsep", pattern, err, sizeof err) < 0)
 *		fail with err;
 *	struct rmatch *m = rmatch_new(re);	(one per thread)
 *	int n = regex_match(re, m, subject, len, 0);
 *	if (n > 0) group i is subject[m->ov[2*i] .. m->ov[2*i+1])
 *
 * Subjects are bytes: any byte sequence matches, invalid UTF-8 included.
 */
#ifndef CCMAP_REGEX_H
#define CCMAP_REGEX_H

#include <stddef.h>

struct regex;

/* A match's groups: ov[2*i], ov[2*i+1] bound group i (0: the whole match). */
struct rmatch {
	const size_t *ov;	/* PCRE2_UNSET for a group that did not take part */
	void *md;		/* pcre2_match_data */
};

/*
 * Compile pattern for the option opt (named in messages).  0, or
 * CCMAP_EUSAGE with one line in err: the option, the pattern, PCRE2's own
 * message and the offset.
 */
int regex_compile(struct regex **rp, const char *opt, const char *pattern,
    char *err, size_t errlen);

/* Compile flags for regex_compile_flags. */
#define REGEX_CASELESS	0x01	/* i: letters match either case */
#define REGEX_MULTILINE	0x02	/* m: ^ and $ match at every line */
#define REGEX_DOTALL	0x04	/* s: . matches a newline too */
#define REGEX_EXTENDED	0x08	/* x: white space and # comments ignored */
#define REGEX_PARTIAL	0x10	/* also JIT-compile for regex_match_partial */

/* regex_compile, with REGEX_* flags. */
int regex_compile_flags(struct regex **rp, const char *opt,
    const char *pattern, unsigned flags, char *err, size_t errlen);
void regex_free(struct regex *re);

/* Capture groups in the pattern (not counting the whole match). */
unsigned regex_groups(const struct regex *re);
/* The number of the group called name, or -1. */
int regex_group_number(const struct regex *re, const char *name);
/* Each named group: calls fn with its name and number. */
void regex_each_name(const struct regex *re,
    void (*fn)(void *arg, const char *name, unsigned number), void *arg);

/* Match data for one thread. */
struct rmatch *rmatch_new(const struct regex *re);
void rmatch_free(struct rmatch *m);

/*
 * Match s[start..len) (lookbehind may see s[0..start)).  The number of
 * groups set plus one (>0) on a match, 0 on none, or -1 on a matching
 * error (a resource limit): treat it as no match.
 */
int regex_match(const struct regex *re, struct rmatch *m, const char *s,
    size_t len, size_t start);

/* Match flags for regex_match_at. */
#define REGEX_NOTEMPTY_START	0x01	/* no empty match at start itself */
#define REGEX_GOES_ON		0x02	/* more input may follow len */

/*
 * regex_match with flags.  With REGEX_GOES_ON (compile with
 * REGEX_PARTIAL), a match that more input could change (one that reaches
 * len, or that len cuts short) is REGEX_MORE, with m->ov[0] where it
 * starts: no match is looked for after that.
 */
#define REGEX_MORE (-2)
int regex_match_at(const struct regex *re, struct rmatch *m, const char *s,
    size_t len, size_t start, unsigned flags);

/*
 * Substitute as {s/REGEX/REPLACEMENT/FLAGS} (global with g): append the
 * result for s[0..len) to out.  0, or -1 with out holding s unchanged.
 */
struct strbuf;
int regex_substitute(const struct regex *re, struct rmatch *m, const char *s,
    size_t len, const char *repl, size_t repl_len, int global,
    struct strbuf *out);

#endif
