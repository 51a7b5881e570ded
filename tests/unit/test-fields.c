/*
 * Unit tests for src/fields.[ch] (columns, trimming, filters, names), the
 * {s///} replacement strings of src/template.c and --recsep's reader.  The
 * expected columns are Perl's split(/RE/, S, -1), as GNU parallel uses it.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ccmap.h"
#include "fields.h"
#include "reader.h"
#include "regex.h"
#include "strbuf.h"
#include "task.h"

#pragma GCC diagnostic ignored "-Wdiscarded-qualifiers"
#include "template.h"

/* The columns of s as "[a][b]...", or "-" if the tuple was dropped. */
static void
cols(struct fields *f, const char *s, struct strbuf *out)
{
	struct value v = { s, strlen(s) };
	struct tuple t = { 1, &v }, c;

	strbuf_reset(out);
	if (!fields_apply(f, &t, &c)) {
		strbuf_addstr(out, "-");
		return;
	}
	for (size_t i = 0; i < c.n; i++) {
		strbuf_addch(out, '[');
		strbuf_add(out, c.v[i].p, c.v[i].len);
		strbuf_addch(out, ']');
	}
}

static struct fields *
make(struct ccmap_opts *o)
{
	struct fields *f = NULL;
	char err[256];

	if (fields_new(&f, o, err, sizeof err) != 0)
		FAIL("fields_new: %s", err);
	return f;
}

TEST_IMPL(fields_colsep_as_perl_split)
{
	static const struct {
		const char *re, *s, *want;
	} cases[] = {
		{ ",", "a,b", "[a][b]" },
		{ ",", ",a,,b,", "[][a][][b][]" },
		{ ",", "", "[]" },
		{ ",*", ",a,,b,", "[][a][b][]" },
		{ "x*", "abc", "[a][b][c][]" },
		{ "(,)", "a,b", "[a][,][b]" },
		{ "(,)|(;)", "a;b", "[a][][;][b]" },
		{ "\\b", ",a,,b,", "[,][a][,,][b][,]" },
		{ "\\t", "a\tb\tc", "[a][b][c]" },
	};
	struct strbuf out = STRBUF_INIT;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ccmap_opts o;
		ccmap_opts_init(&o);
		o.colsep = cases[i].re;
		o.trim = "n";
		struct fields *f = make(&o);
		cols(f, cases[i].s, &out);
		ASSERT_STR_EQ(out.buf, cases[i].want);
		fields_free(f);
	}
	strbuf_release(&out);
	return 0;
}

TEST_IMPL(fields_trim_modes)
{
	static const struct {
		const char *trim, *want;
	} cases[] = {
		{ NULL, "[a][b]" }, { "n", "[ a ][\tb\v]" }, { "l", "[a ][b\v]" },
		{ "r", "[ a][\tb]" }, { "lr", "[a][b]" }, { "rl", "[a][b]" },
	};
	struct strbuf out = STRBUF_INIT;
	char err[256];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ccmap_opts o;
		ccmap_opts_init(&o);
		o.colsep = ",";
		o.trim = cases[i].trim;
		struct fields *f = make(&o);
		cols(f, " a ,\tb\v", &out);
		ASSERT_STR_EQ(out.buf, cases[i].want);
		fields_free(f);
	}
	struct ccmap_opts o;
	struct fields *f = NULL;
	ccmap_opts_init(&o);
	o.trim = "lrx";
	ASSERT_EQ(fields_new(&f, &o, err, sizeof err), CCMAP_EUSAGE);
	ASSERT_STR_EQ(err, "invalid value 'lrx' for --trim (want n, l, r, lr "
	    "or rl)");
	strbuf_release(&out);
	return 0;
}

TEST_IMPL(fields_match_and_skip)
{
	struct strbuf out = STRBUF_INIT;
	struct ccmap_opts o;
	struct fields *f;

	ccmap_opts_init(&o);
	o.match = "^(\\w)=(\\d)?$";
	o.skip = "z";
	f = make(&o);
	ASSERT_EQ(fields_active(f), 1);
	cols(f, "a=1", &out);
	ASSERT_STR_EQ(out.buf, "[a][1]");
	cols(f, "b=", &out);
	ASSERT_STR_EQ(out.buf, "[b][]");
	cols(f, "nope", &out);
	ASSERT_STR_EQ(out.buf, "-");
	cols(f, "z=1", &out);
	ASSERT_STR_EQ(out.buf, "-");
	fields_free(f);

	/* No groups: a filter only, the item whole. */
	o.match = "\\d";
	o.skip = NULL;
	f = make(&o);
	cols(f, "a1", &out);
	ASSERT_STR_EQ(out.buf, "[a1]");
	fields_free(f);

	/* Nothing asked: nothing to do. */
	ccmap_opts_init(&o);
	f = make(&o);
	ASSERT_EQ(fields_active(f), 0);
	fields_free(f);
	strbuf_release(&out);
	return 0;
}

TEST_IMPL(fields_header_names)
{
	struct ccmap_opts o;
	struct fields *f;
	char *w;

	ccmap_opts_init(&o);
	o.header = ":";
	f = make(&o);		/* --header alone: columns at tabs */
	fields_name_header(f, &(struct value){ "id\tname\t\r", 9 });
	fields_name_header(f, &(struct value){ "x", 1 });
	w = fields_rewrite(f, "{name}-{id.}/{x/}{x//}{x/.}{nope}{name s/a/b/}");
	ASSERT_STR_EQ(w, "{2}-{1.}/{3/}{3//}{3/.}{nope}{2 s/a/b/}");
	free(w);
	ASSERT_NULL(fields_rewrite(f, "{} {1} {names}"));
	fields_free(f);

	/* --match's named groups; the longest name wins. */
	ccmap_opts_init(&o);
	o.match = "(?<a>.)(?<ab>.)";
	f = make(&o);
	w = fields_rewrite(f, "{ab}{a}");
	ASSERT_STR_EQ(w, "{2}{1}");
	free(w);
	fields_free(f);
	return 0;
}

TEST_IMPL(fields_bad_combinations)
{
	struct ccmap_opts o;
	struct fields *f = NULL;
	char err[256];

	ccmap_opts_init(&o);
	o.match = "(a)";
	o.colsep = ",";
	ASSERT_EQ(fields_new(&f, &o, err, sizeof err), CCMAP_EUSAGE);
	ASSERT_NOT_NULL(strstr(err, "--match with capture groups"));
	ccmap_opts_init(&o);
	o.skip = "a)";
	ASSERT_EQ(fields_new(&f, &o, err, sizeof err), CCMAP_EUSAGE);
	ASSERT_STR_EQ(err, "--skip: bad regex 'a)': unmatched closing "
	    "parenthesis at offset 1");
	ASSERT_NULL(f);
	return 0;
}

/* The command line of template words over one value. */
static void
line_of(char **words, size_t n, const char *v0, const char *v1,
    struct strbuf *out)
{
	struct template *t = NULL;
	struct value v[2] = { { v0, strlen(v0) }, { v1 ? v1 : "", v1 ?
	    strlen(v1) : 0 } };
	char err[256];

	if (template_parse(&t, words, n, NULL, 0, v1 ? 2 : 1, "/bin/sh", err,
	    sizeof err))
		FAIL("template_parse: %s", err);
	strbuf_reset(out);
	template_line(t, &(struct jobvals){ .v = v, .n = v1 ? 2 : 1,
	    .seq = 1, .slot = 1 }, out);
	template_free(t);
}

TEST_IMPL(template_subst)
{
	struct strbuf out = STRBUF_INIT;

	line_of((char *[]){ "echo", "{s/a/b/}" }, 2, "aa", NULL, &out);
	ASSERT_STR_EQ(out.buf, "echo ba");
	line_of((char *[]){ "echo", "{s/A/b/gi}" }, 2, "aa", NULL, &out);
	ASSERT_STR_EQ(out.buf, "echo bb");
	line_of((char *[]){ "echo", "x{s/(a)(?<n>c)/[$2${n}$&$+{n}]/}y" }, 2,
	    "bac", NULL, &out);
	ASSERT_STR_EQ(out.buf, "echo x'b[ccacc]'y");
	/* Each value a word; {2 s///} only the second. */
	line_of((char *[]){ "echo", "{s/a/ /}", "{2 s/b/c/}", "{2s/b/d/}" }, 4,
	    "a", "b", &out);
	ASSERT_STR_EQ(out.buf, "echo ' ' b c d");
	/* A value past the last stands for nothing, substituted or not. */
	line_of((char *[]){ "echo", "{3s/a/b/}", "{3}", "{2}" }, 4, "a", "b",
	    &out);
	ASSERT_STR_EQ(out.buf, "echo   b");
	line_of((char *[]){ "echo", "{s/a/b\\/c/}", "{s/a//}" }, 3, "a", NULL,
	    &out);
	ASSERT_STR_EQ(out.buf, "echo b/c ''");
	strbuf_release(&out);
	return 0;
}

TEST_IMPL(template_subst_errors)
{
	static const struct {
		const char *word, *err;
	} cases[] = {
		{ "{s/a/b}", "unterminated replacement string '{s/a/b}'" },
		{ "{s/a}", "unterminated replacement string '{s/a}'" },
		{ "{s/a/b/y}", "unknown flag 'y' in replacement string" },
		{ "{s/(/b/}", "replacement string '{s/(/b/}': bad regex '(': "
		    "missing closing parenthesis at offset 1" },
	};
	char err[256];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct template *t = NULL;
		ASSERT_EQ(template_parse(&t, (char *[]){ "echo",
		    cases[i].word }, 2, NULL, 0, 1, "/bin/sh", err, sizeof err),
		    CCMAP_EUSAGE);
		ASSERT_NOT_NULL(strstr(err, cases[i].err));
	}
	return 0;
}

TEST_IMPL(template_subst_argv)
{
	struct template *t = NULL;
	struct cmdbuf cb;
	struct value v[1] = { { "a.b", 3 } };
	char err[256];

	ASSERT_OK(template_parse(&t, (char *[]){ "printf", "{s/\\./ /}",
	    "{2}", "x{2}" }, 4, NULL, 0, 1, "/bin/sh", err, sizeof err));
	cmdbuf_init(&cb);
	template_argv(t, &(struct jobvals){ .v = v, .n = 1, .seq = 1 }, &cb);
	ASSERT_EQ(cb.shell, 0);
	ASSERT_EQ(cb.argc, 3);	/* {2} past the values: no argument */
	ASSERT_STR_EQ(cb.argv[1], "a b");
	ASSERT_STR_EQ(cb.argv[2], "x");
	cmdbuf_release(&cb);
	template_free(t);
	return 0;
}

TEST_IMPL(reader_recsep_across_reads)
{
	struct regex *re;
	struct rmatch *m;
	struct reader r;
	struct value rec;
	struct strbuf got = STRBUF_INIT;
	char err[256];
	int fds[2];

	ASSERT_OK(regex_compile_flags(&re, "--recsep", ";+", REGEX_PARTIAL,
	    err, sizeof err));
	m = rmatch_new(re);
	ASSERT_OK(pipe(fds));
	reader_init(&r, fds[0], 1, '\n');
	reader_set_regex(&r, re, m);
	/* "a;" then ";b;;c": the first separator is not whole at first. */
	ASSERT_EQ(write(fds[1], "a;", 2), 2);
	ASSERT_GT(reader_fill(&r), 0);
	ASSERT_EQ(reader_next(&r, &rec), 0);
	ASSERT_EQ(write(fds[1], ";b;;c", 5), 5);
	close(fds[1]);
	while (reader_fill(&r) > 0 || !r.eof)
		;
	while (reader_next(&r, &rec)) {
		strbuf_add(&got, rec.p, rec.len);
		strbuf_addch(&got, '|');
	}
	ASSERT_STR_EQ(got.buf, "a|b|c|");
	reader_release(&r);
	rmatch_free(m);
	regex_free(re);
	strbuf_release(&got);
	return 0;
}
