/*
 * Unit tests for packing items into commands: src/linemax.[ch] (the longest
 * line, as GNU parallel 20221122 finds it: --max-line-length-allowed prints
 * 130329 on Linux, and -X lines stay under 63664) and the template's
 * measuring of a line as it grows, and -X's repeated words.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccmap.h"
#include "input.h"
#include "linemax.h"
#include "strbuf.h"
#include "task.h"

#pragma GCC diagnostic ignored "-Wdiscarded-qualifiers"
#include "template.h"

TEST_IMPL(pack_limits_as_parallel)
{
	/* Linux: one argument of at most 32 pages, so 131071 bytes. */
	ASSERT_EQ(limits_real_max(2097152, 131072, 1600), 131071);
	ASSERT_EQ(limits_find_max(131071), 130329);
	ASSERT_EQ(limits_usable(130329), 63664);
	/* The search stops within 1%, whatever the real length near it. */
	ASSERT_EQ(limits_find_max(130500), 130329);
	ASSERT_EQ(limits_find_max(130000), 129114);
	/* A big environment leaves less. */
	ASSERT_EQ(limits_real_max(2097152, 131072, 2000000), 2097152 - 2000000 - 2048);
	ASSERT_EQ(limits_real_max(4096, 131072, 4000), 1);
	/* No per-argument limit: ARG_MAX less the environment. */
	ASSERT_EQ(limits_real_max(262144, 0, 1000), 262144 - 1000 - 2048);
	ASSERT_EQ(limits_usable(100), 1);
	return 0;
}

TEST_IMPL(pack_spread)
{
	ASSERT_EQ(limits_spread(10, 4), 3);
	ASSERT_EQ(limits_spread(6322, 3), 2108);
	ASSERT_EQ(limits_spread(2, 4), 1);
	ASSERT_EQ(limits_spread(7, 1), 7);
	ASSERT_EQ(limits_spread(8, 2), 4);
	return 0;
}

static struct template *
parse_ctx(char **words, int quote, int context, size_t nsrc)
{
	struct template *t = NULL;
	char err[256] = "";
	size_t n = 0;

	while (words[n])
		n++;
	if (template_parse(&t, words, n, NULL, quote, nsrc, "/bin/sh", err,
	    sizeof err) != 0)
		FAIL("template_parse: %s", err);
	template_set_context(t, context);
	return t;
}

static void
set_vals(struct value *v, char **items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v[i] = (struct value){ items[i], strlen(items[i]) };
}

/*
 * For each prefix of the items, the measured length equals the composed
 * line's: templates with every kind of part, in both modes.
 */
TEST_IMPL(pack_measure_is_the_line)
{
	static char *templates[][6] = {
		{ "echo", NULL },
		{ "echo", "x{}y", NULL },
		{ "echo", "{}", "{.}", "{#}", "{%}", NULL },
		{ "echo", "x{2}y{}z", "{1/}", NULL },
		{ "echo", "a{} b{/.}c", "{3}", NULL },
		{ "printf", "%s", "{//}{}", NULL },
	};
	char *items[] = { "a", "b c", "it's", "", "d/e.f", "'q'", "$x", "g",
	    "日本", "h.i/j" };
	size_t nitems = sizeof items / sizeof items[0];
	struct value v[10];

	set_vals(v, items, nitems);
	for (size_t k = 0; k < sizeof templates / sizeof templates[0]; k++)
		for (int context = 0; context < 2; context++) {
			struct template *t = parse_ctx(templates[k], 0, context, 1);
			struct tmeasure m;
			struct strbuf line = STRBUF_INIT;
			struct jobvals jv = { .v = v, .n = 1, .seq = 7, .slot = 2 };

			template_measure_start(t, &jv, &m);
			for (size_t n = 1; n <= nitems; n++) {
				if (n > 1) {
					struct jobvals rec = { .v = &v[n - 1],
					    .n = 1, .seq = 7, .slot = 2 };
					template_measure_add(t, &m, &rec);
				}
				jv.n = n;
				strbuf_reset(&line);
				template_line(t, &jv, &line);
				if (m.len != line.len)
					FAIL("template %zu, context %d, %zu values: "
					    "measured %zu, line '%s' is %zu", k,
					    context, n, m.len, line.buf, line.len);
			}
			strbuf_release(&line);
			template_free(t);
		}
	return 0;
}

/*
 * A {-N} takes another value as values are added: the measure does not
 * keep their lengths, so its length is a bound on the line's, never less
 * (it stops a line under the hard limit, never past it); exact for a {-1}
 * of one value.  Tuples of ts values each.
 */
static void
check_back_bound(char **words, int context, size_t ts, struct value *v,
    size_t nitems)
{
	struct template *t = parse_ctx(words, 0, context, ts);
	struct tmeasure m;
	struct strbuf line = STRBUF_INIT;
	struct jobvals jv = { .v = v, .n = ts, .seq = 7, .slot = 2 };

	template_measure_start(t, &jv, &m);
	for (size_t n = ts; n <= nitems; n += ts) {
		if (n > ts) {
			struct jobvals rec = { .v = &v[n - ts], .n = ts,
			    .seq = 7, .slot = 2 };
			template_measure_add(t, &m, &rec);
		}
		jv.n = n;
		strbuf_reset(&line);
		template_line(t, &jv, &line);
		if (m.len < line.len)
			FAIL("'%s %s', context %d, %zu values by %zu: measured "
			    "%zu, line '%s' is %zu", words[0], words[1], context,
			    n, ts, m.len, line.buf, line.len);
		if (n == 1 && strcmp(words[1], "{-1}") == 0 && m.len != line.len)
			FAIL("{-1} of one value: measured %zu, line is %zu",
			    m.len, line.len);
	}
	strbuf_release(&line);
	template_free(t);
}

TEST_IMPL(pack_measure_bounds_back_positions)
{
	static char *templates[][5] = {
		{ "echo", "{-1}", NULL },
		{ "echo", "x{-2}y", "{}", NULL },
		{ "echo", "{-1}{}", "{-3/}", NULL },
		{ "echo", "a{} b{-1.}c", NULL },
	};
	char *items[] = { "long value here", "b c", "", "d/e.f", "'q'", "g",
	    "a much longer value than the others", "h" };
	size_t nitems = sizeof items / sizeof items[0];
	struct value v[8];

	set_vals(v, items, nitems);
	for (size_t k = 0; k < sizeof templates / sizeof templates[0]; k++)
		for (int context = 0; context < 2; context++)
			for (size_t ts = 1; ts <= 2; ts++)
				check_back_bound(templates[k], context, ts, v,
				    nitems);
	return 0;
}

/*
 * GNU parallel's reckoning of {-1} over tuples of two values: the last
 * value of each tuple, as its CommandLine::push counts it.
 */
TEST_IMPL(pack_estimate_back_positions)
{
	char *w1[] = { "echo", "{-1}", NULL }, *w2[] = { "echo", "{1}", NULL };
	struct template *tb = parse_ctx(w1, 0, 0, 2), *tf = parse_ctx(w2, 0, 0, 2);
	struct value v[2] = { { "aaaa", 4 }, { "b", 1 } };
	struct jobvals rec = { .v = v, .n = 2, .seq = 1, .slot = 1 };
	struct tmeasure mb, mf;

	template_measure_start(tb, &rec, &mb);
	template_measure_start(tf, &rec, &mf);
	for (int i = 0; i < 9; i++) {
		template_measure_add(tb, &mb, &rec);
		template_measure_add(tf, &mf, &rec);
	}
	/* Ten tuples: {-1} counts "b" ten times, {1} "aaaa" ten times. */
	ASSERT_EQ(mf.est - mb.est, 10 * 3);
	template_free(tb);
	template_free(tf);
	return 0;
}

/*
 * GNU parallel's reckoning (what decides where a line ends) for the cases
 * its numbers show: -X echo over 1..12460 is 63658 bytes, the last that
 * fits under 63664.
 */
TEST_IMPL(pack_estimate_as_parallel)
{
	char *echo[] = { "echo", NULL }, *seqw[] = { "echo", "{}", "{#}", NULL };
	struct template *t = parse_ctx(echo, 0, 1, 1);
	struct template *ts = parse_ctx(seqw, 0, 1, 1);
	struct tmeasure m, ms;
	char buf[16];
	struct value v;
	struct jobvals rec = { .v = &v, .n = 1, .seq = 1, .slot = 1 };

	for (int i = 1; i <= 12461; i++) {
		v.len = (size_t)snprintf(buf, sizeof buf, "%d", i);
		v.p = buf;
		if (i == 1) {
			template_measure_start(t, &rec, &m);
			template_measure_start(ts, &rec, &ms);
		} else {
			template_measure_add(t, &m, &rec);
			template_measure_add(ts, &ms, &rec);
		}
		if (i == 12460)
			ASSERT_EQ(m.est, 63658);
	}
	ASSERT_EQ(m.est, 63664);
	ASSERT_EQ(m.len, m.est);
	/* {#} counts once per item in the reckoning, once in the line. */
	ASSERT_EQ(ms.est - ms.len, 12460 * 2);
	template_free(t);
	template_free(ts);
	return 0;
}

static void
argv_join(const struct template *t, const struct jobvals *jv,
    struct strbuf *out)
{
	struct cmdbuf cb;

	cmdbuf_init(&cb);
	template_argv(t, jv, &cb);
	strbuf_reset(out);
	for (size_t i = 0; i < cb.argc; i++) {
		if (i)
			strbuf_addch(out, '|');
		strbuf_addstr(out, cb.argv[i]);
	}
	cmdbuf_release(&cb);
}

/* The job's vector, args joined by '|', and its line (unless NULL). */
static void
expect(struct template *t, const struct jobvals *jv, const char *want_argv,
    const char *want_line)
{
	struct strbuf s = STRBUF_INIT;

	argv_join(t, jv, &s);
	ASSERT_STR_EQ(s.buf, want_argv);
	if (want_line) {
		strbuf_reset(&s);
		template_line(t, jv, &s);
		ASSERT_STR_EQ(s.buf, want_line);
	}
	strbuf_release(&s);
	template_free(t);
}

/* -X repeats a word with {} per value; positional parts stay once. */
TEST_IMPL(pack_context_words)
{
	char *w1[] = { "echo", "x{}y", "{#}", "p{2}q", NULL };
	char *w2[] = { "echo", "x{} y", NULL };
	char *w3[] = { "echo", "{3}", "{2}", NULL };
	char *items[] = { "a", "b c", "" };
	struct value v[3];
	struct jobvals jv = { .v = v, .n = 3, .seq = 4, .slot = 1 };

	set_vals(v, items, 3);
	expect(parse_ctx(w1, 0, 1, 1), &jv, "echo|xay|xb cy|xy|4|pb cq",
	    "echo xay x'b c'y x''y 4 p'b c'q");
	/* Without context, {} is every value, each an argument. */
	expect(parse_ctx(w1, 0, 0, 1), &jv, "echo|xa|b c|y|4|pb cq", NULL);
	/* With -q, a word is cut at whitespace; each argument quoted whole. */
	expect(parse_ctx(w2, 1, 1, 1), &jv, "echo|xa|xb c|x y",
	    "echo xa 'xb c' 'x y'");
	/* A missing value is no argument, unless -q keeps the word. */
	jv.n = 2;
	expect(parse_ctx(w3, 0, 1, 1), &jv, "echo|b c", "echo  'b c'");
	expect(parse_ctx(w3, 1, 1, 1), &jv, "echo||b c", NULL);
	return 0;
}
