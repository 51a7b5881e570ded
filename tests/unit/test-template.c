/*
 * Unit tests for src/template.[ch].  The expected values for the path
 * replacement strings and the quoting are what GNU parallel 20221122
 * prints (parallel --will-cite -k echo {} {.} ... ::: PATH, and
 * parallel --will-cite --dry-run echo ::: STR).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ccmap.h"
#include "input.h"
#include "strbuf.h"
#include "task.h"

/* The engine takes char * arrays; string literals are fine here. */
#pragma GCC diagnostic ignored "-Wdiscarded-qualifiers"
#include "template.h"

/* Parse words (NULL-terminated) or fail the test. */
static struct template *parse(char **words, const char *replace, size_t nsrc)
{
	struct template *t = NULL;
	char err[256] = "";
	size_t n = 0;

	while (words[n])
		n++;
	if (template_parse(&t, words, n, replace, 0, nsrc, "/bin/sh", err,
			   sizeof err) != 0)
		FAIL("template_parse: %s", err);
	ASSERT_NOT_NULL(t);
	return t;
}

/* The job's values, one per source. */
static struct jobvals vals1(struct value *v, const char *s)
{
	v[0] = (struct value){ s, strlen(s) };
	return (struct jobvals){ .v = v, .n = 1, .seq = 1, .slot = 1 };
}

/* The argument vector as "arg|arg|...", into out (reset first). */
static void argv_str(const struct template *t, const struct jobvals *jv,
		     struct cmdbuf *cb, struct strbuf *out)
{
	template_argv(t, jv, cb);
	strbuf_reset(out);
	ASSERT_NOT_NULL(cb->argv);
	ASSERT_NULL(cb->argv[cb->argc]);
	for (size_t i = 0; i < cb->argc; i++) {
		if (i)
			strbuf_addch(out, '|');
		strbuf_addstr(out, cb->argv[i]);
	}
}

static void line_str(const struct template *t, const struct jobvals *jv,
		     struct strbuf *out)
{
	strbuf_reset(out);
	template_line(t, jv, out);
}

TEST_IMPL(template_appends_when_no_replacement)
{
	char *w[] = { "echo", "hello", NULL };
	struct template *t = parse(w, NULL, 1);
	struct strbuf s = STRBUF_INIT;
	struct cmdbuf cb;
	struct value v[1];
	struct jobvals jv = vals1(v, "a b");

	cmdbuf_init(&cb);
	ASSERT_EQ(template_direct(t), 1);
	line_str(t, &jv, &s);
	ASSERT_STR_EQ(s.buf, "echo hello 'a b'");
	argv_str(t, &jv, &cb, &s);
	ASSERT_STR_EQ(s.buf, "echo|hello|a b");
	ASSERT_EQ(cb.argc, 3);
	ASSERT_EQ(cb.shell, 0);
	cmdbuf_release(&cb);
	strbuf_release(&s);
	template_free(t);
	return 0;
}

TEST_IMPL(template_appends_every_source)
{
	char *w[] = { "echo", NULL };
	struct template *t = parse(w, NULL, 2);
	struct strbuf s = STRBUF_INIT;
	struct cmdbuf cb;
	struct value v[2] = { { "x y", 3 }, { "z", 1 } };
	struct jobvals jv = { .v = v, .n = 2, .seq = 1, .slot = 1 };

	cmdbuf_init(&cb);
	line_str(t, &jv, &s);
	ASSERT_STR_EQ(s.buf, "echo 'x y' z");
	argv_str(t, &jv, &cb, &s);
	ASSERT_STR_EQ(s.buf, "echo|x y|z");
	cmdbuf_release(&cb);
	strbuf_release(&s);
	template_free(t);
	return 0;
}

/* {} {.} {/} {//} {/.} of one path: the five values GNU parallel gives. */
static void check_path(const char *path, const char *const expect[5])
{
	char *w[] = { "echo", "{}", "{.}", "{/}", "{//}", "{/.}", NULL };
	struct template *t = parse(w, NULL, 1), *tt = NULL;
	struct strbuf s = STRBUF_INIT, want = STRBUF_INIT;
	struct cmdbuf cb;
	struct value v[1];
	struct jobvals jv = vals1(v, path);
	char err[256];

	/* As text: "[..] [..] ...", the line parallel printed. */
	for (int i = 0; i < 5; i++) {
		strbuf_addstr(&want, i ? " [" : "[");
		strbuf_addstr(&want, expect[i]);
		strbuf_addch(&want, ']');
	}
	ASSERT_OK(template_parse_text(&tt, "[{}] [{.}] [{/}] [{//}] [{/.}]",
				      NULL, err, sizeof err));
	template_text(tt, &jv, &s);
	if (strcmp(s.buf, want.buf) != 0)
		FAIL("path '%s': got '%s', GNU parallel gives '%s'", path, s.buf,
		     want.buf);
	template_free(tt);

	/* As an argument vector: the same values, one argument each. */
	cmdbuf_init(&cb);
	ASSERT_EQ(template_direct(t), 1);
	template_argv(t, &jv, &cb);
	ASSERT_EQ(cb.argc, 6);
	ASSERT_EQ(cb.shell, 0);
	for (int i = 0; i < 5; i++)
		if (strcmp(cb.argv[i + 1], expect[i]) != 0)
			FAIL("path '%s': argument %d is '%s', expected '%s'",
			     path, i + 1, cb.argv[i + 1], expect[i]);
	cmdbuf_release(&cb);
	strbuf_release(&s);
	strbuf_release(&want);
	template_free(t);
}

TEST_IMPL(template_path_replacements)
{
	static const struct {
		const char *path;
		const char *v[5];	/* {} {.} {/} {//} {/.} */
	} cases[] = {
		{ "a/b.c", { "a/b.c", "a/b", "b.c", "a", "b" } },
		{ "a.tar.gz", { "a.tar.gz", "a.tar", "a.tar.gz", ".", "a.tar" } },
		{ ".bashrc", { ".bashrc", "", ".bashrc", ".", "" } },
		{ "a/", { "a/", "a/", "", ".", "" } },
		{ "/", { "/", "/", "", "/", "" } },
		{ "a//b", { "a//b", "a//b", "b", "a", "b" } },
		{ "dir.d/file", { "dir.d/file", "dir.d/file", "file", "dir.d",
				  "file" } },
		{ "a.b/c", { "a.b/c", "a.b/c", "c", "a.b", "c" } },
		{ "a/.x", { "a/.x", "a/", ".x", "a", "" } },
		{ "./a.b", { "./a.b", "./a", "a.b", ".", "a" } },
		{ "a/b/", { "a/b/", "a/b/", "", "a", "" } },
		{ "", { "", "", "", ".", "" } },
		{ "plain", { "plain", "plain", "plain", ".", "plain" } },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_path(cases[i].path, cases[i].v);
	return 0;
}

TEST_IMPL(template_seq_and_slot)
{
	char *w[] = { "echo", "{#}", "{%}", "x{#}y", NULL };
	struct template *t = parse(w, NULL, 1);
	struct strbuf s = STRBUF_INIT;
	struct cmdbuf cb;
	struct value v[1] = { { "val", 3 } };
	struct jobvals jv = { .v = v, .n = 1, .seq = 12345678901ULL, .slot = 7 };

	cmdbuf_init(&cb);
	/* {#} and {%} are replacement strings: no {} is appended. */
	argv_str(t, &jv, &cb, &s);
	ASSERT_STR_EQ(s.buf, "echo|12345678901|7|x12345678901y");
	line_str(t, &jv, &s);
	ASSERT_STR_EQ(s.buf, "echo 12345678901 7 x12345678901y");
	cmdbuf_release(&cb);
	strbuf_release(&s);
	template_free(t);
	return 0;
}

TEST_IMPL(template_positional)
{
	/* parallel --dry-run echo {1} {2.} {2/} {1/.} {} ::: x.txt
	 *     ::: dir/y.tar.gz
	 * prints: echo x.txt dir/y.tar y.tar.gz x x.txt dir/y.tar.gz */
	char *w[] = { "echo", "{1}", "{2.}", "{2/}", "{1/.}", "{}", NULL };
	char *w2[] = { "echo", "{2}-{1}", "{2//}", NULL };
	struct template *t = parse(w, NULL, 2);
	struct strbuf s = STRBUF_INIT;
	struct cmdbuf cb;
	struct value v[2] = { { "x.txt", 5 }, { "dir/y.tar.gz", 12 } };
	struct jobvals jv = { .v = v, .n = 2, .seq = 1, .slot = 1 };

	cmdbuf_init(&cb);
	line_str(t, &jv, &s);
	ASSERT_STR_EQ(s.buf, "echo x.txt dir/y.tar y.tar.gz x x.txt dir/y.tar.gz");
	argv_str(t, &jv, &cb, &s);
	ASSERT_STR_EQ(s.buf, "echo|x.txt|dir/y.tar|y.tar.gz|x|x.txt|dir/y.tar.gz");
	template_free(t);

	t = parse(w2, NULL, 2);
	argv_str(t, &jv, &cb, &s);
	ASSERT_STR_EQ(s.buf, "echo|dir/y.tar.gz-x.txt|dir");
	v[0] = (struct value){ "a b", 3 };
	line_str(t, &jv, &s);
	ASSERT_STR_EQ(s.buf, "echo dir/y.tar.gz-'a b' dir");
	cmdbuf_release(&cb);
	strbuf_release(&s);
	template_free(t);
	return 0;
}

TEST_IMPL(template_replace_option)
{
	/* parallel --dry-run -I XX echo XX {} {.} ::: v.x
	 * prints: echo v.x {} v */
	char *w[] = { "echo", "XX", "{}", "{.}", NULL };
	char *w2[] = { "echo", "pre-XX-post", NULL };
	struct template *t = parse(w, "XX", 1);
	struct strbuf s = STRBUF_INIT;
	struct cmdbuf cb;
	struct value v[1];
	struct jobvals jv = vals1(v, "v.x");

	cmdbuf_init(&cb);
	line_str(t, &jv, &s);
	ASSERT_STR_EQ(s.buf, "echo v.x {} v");
	/* The literal { is shell syntax: the line goes to the shell. */
	argv_str(t, &jv, &cb, &s);
	ASSERT_STR_EQ(s.buf, "/bin/sh|-c|echo v.x {} v");
	template_free(t);

	/* Inside a word; and XX counts as a replacement: nothing appended. */
	t = parse(w2, "XX", 1);
	argv_str(t, &jv, &cb, &s);
	ASSERT_STR_EQ(s.buf, "echo|pre-v.x-post");
	cmdbuf_release(&cb);
	strbuf_release(&s);
	template_free(t);
	return 0;
}

static void check_unterminated(const char *word)
{
	char *w[] = { "echo", (char *)word, NULL };
	struct template *t = NULL;
	char err[256] = "";

	ASSERT_EQ(template_parse(&t, w, 2, NULL, 0, 1, "/bin/sh", err, sizeof err),
		  CCMAP_EUSAGE);
	if (!err[0] || !strstr(err, word))
		FAIL("no message naming '%s': '%s'", word, err);
	ASSERT_NULL(strchr(err, '\n'));
}

TEST_IMPL(template_unterminated)
{
	check_unterminated("{1");
	check_unterminated("{/.");
	check_unterminated("{12");
	return 0;
}

/* shell_quote(s) as a C string. */
static void quote(struct strbuf *out, const char *s)
{
	strbuf_reset(out);
	shell_quote(out, s, strlen(s));
}

TEST_IMPL(template_shell_quote_parallel)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "abc", "abc" },
		{ "a-b_c.d+e/F9", "a-b_c.d+e/F9" },
		{ "a b", "'a b'" },
		{ "it's", "'it'\"'\"'s'" },
		{ "", "''" },
		{ "'x'", "\"'\"'x'\"'\"" },
		{ "'", "\"'\"" },
		{ "a'", "'a'\"'\"" },
		{ "$HOME", "'$HOME'" },
		{ "a\"b", "'a\"b'" },
		{ "tab\tx", "'tab\tx'" },
		{ "\xc3\xa9", "'\xc3\xa9'" },
		{ "a=b", "'a=b'" },
		{ "a,b", "'a,b'" },
		{ "x%y", "'x%y'" },
		{ "a@b", "'a@b'" },
		{ "a:b", "'a:b'" },
		{ "~", "'~'" },
	};
	struct strbuf s = STRBUF_INIT;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		quote(&s, cases[i].in);
		if (strcmp(s.buf, cases[i].out) != 0)
			FAIL("shell_quote(\"%s\") = %s, GNU parallel: %s",
			     cases[i].in, s.buf, cases[i].out);
	}
	strbuf_release(&s);
	return 0;
}

TEST_IMPL(template_shell_quote_adjacent_quotes)
{
	/* parallel --dry-run echo ::: "''" prints: echo "'"''"'" */
	struct strbuf s = STRBUF_INIT;

	quote(&s, "''");
	ASSERT_STR_EQ(s.buf, "\"'\"''\"'\"");
	strbuf_release(&s);
	return 0;
}

/* What the shell makes of a quoted word: printf %s WORD through sh -c. */
TEST_IMPL(template_shell_quote_round_trip)
{
	static const char *const words[] = {
		"", "a b", "it's", "''", "'", "a\nb", "$(echo no)", "`x`",
		"\\", "a\\'b", "*", "~root", "!x", "a;b|c&d", "\t", "{a,b}",
		"\xff\xfe", "--", "-n", "x'y'z''", "\"", "%s%%",
	};
	struct strbuf cmd = STRBUF_INIT, got = STRBUF_INIT;

	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		FILE *f;
		char buf[256];
		size_t n;

		strbuf_reset(&cmd);
		strbuf_reset(&got);
		strbuf_addstr(&cmd, "printf %s ");
		shell_quote(&cmd, words[i], strlen(words[i]));
		f = popen(cmd.buf, "r");
		ASSERT_NOT_NULL(f);
		while ((n = fread(buf, 1, sizeof buf, f)) > 0)
			strbuf_add(&got, buf, n);
		ASSERT_OK(pclose(f));
		if (got.len != strlen(words[i]) ||
		    (got.len && memcmp(got.buf, words[i], got.len) != 0))
			FAIL("sh -c '%s' gave '%s'", cmd.buf,
			     got.buf ? got.buf : "");
	}
	strbuf_release(&cmd);
	strbuf_release(&got);
	return 0;
}

TEST_IMPL(template_direct_echo)
{
	char *w[] = { "echo", "{}", NULL };
	static const char *const nasty[] = {
		"a b", "it's", "\"q\"", "$HOME", "a|b", "; rm -rf x", "",
		"*", "\\n",
	};
	struct template *t = parse(w, NULL, 1);
	struct strbuf s = STRBUF_INIT;
	struct cmdbuf cb;
	struct value v[1];
	struct jobvals jv;

	cmdbuf_init(&cb);
	ASSERT_EQ(template_direct(t), 1);
	for (size_t i = 0; i < sizeof nasty / sizeof nasty[0]; i++) {
		jv = vals1(v, nasty[i]);
		template_argv(t, &jv, &cb);
		ASSERT_EQ(cb.shell, 0);
		ASSERT_EQ(cb.argc, 2);
		ASSERT_STR_EQ(cb.argv[0], "echo");
		ASSERT_STR_EQ(cb.argv[1], nasty[i]);
		ASSERT_NULL(cb.argv[2]);
		ASSERT_NOT_NULL(cb.file);
		/* Either resolved to a path, or to be looked up in PATH. */
		if (!cb.search) {
			ASSERT_NOT_NULL(strchr(cb.file, '/'));
			ASSERT_OK(access(cb.file, X_OK));
		} else {
			ASSERT_STR_EQ(cb.file, "echo");
		}
	}
	/* The line shows the quoting all the same. */
	jv = vals1(v, "a b");
	line_str(t, &jv, &s);
	ASSERT_STR_EQ(s.buf, "echo 'a b'");
	cmdbuf_release(&cb);
	strbuf_release(&s);
	template_free(t);
	return 0;
}

/* The template runs through the shell: argv is [/bin/sh, -c, line]. */
static void check_shell(char **w, const char *value, const char *line)
{
	struct template *t = parse(w, NULL, 1);
	struct strbuf s = STRBUF_INIT;
	struct cmdbuf cb;
	struct value v[1];
	struct jobvals jv = vals1(v, value);

	cmdbuf_init(&cb);
	if (template_direct(t) != 0)
		FAIL("template starting '%s' should need a shell", w[0]);
	template_argv(t, &jv, &cb);
	ASSERT_EQ(cb.shell, 1);
	ASSERT_EQ(cb.argc, 3);
	ASSERT_STR_EQ(cb.argv[0], "/bin/sh");
	ASSERT_STR_EQ(cb.argv[1], "-c");
	ASSERT_STR_EQ(cb.argv[2], line);
	ASSERT_NULL(cb.argv[3]);
	ASSERT_STR_EQ(cb.file, "/bin/sh");
	line_str(t, &jv, &s);
	ASSERT_STR_EQ(s.buf, line);
	cmdbuf_release(&cb);
	strbuf_release(&s);
	template_free(t);
}

TEST_IMPL(template_needs_shell)
{
	char *pipe_w[] = { "echo", "{}", "|", "tr", "a", "b", NULL };
	char *cd_w[] = { "cd", "{}", NULL };
	char *assign_w[] = { "FOO=1", "env", NULL };
	char *var_w[] = { "echo", "$HOME", "{}", NULL };
	char *redir_w[] = { "echo", "{}", ">/dev/null", NULL };

	check_shell(pipe_w, "a b", "echo 'a b' | tr a b");
	check_shell(cd_w, "dir", "cd dir");
	check_shell(assign_w, "v", "FOO=1 env v");
	check_shell(var_w, "v", "echo $HOME v");
	check_shell(redir_w, "v", "echo v >/dev/null");
	/* A command that starts with {}: template_command_is_replacement. */
	return 0;
}

TEST_IMPL(template_exported_function_needs_shell)
{
	char *w[] = { "myfunc", "{}", NULL };
	struct template *t;

	ASSERT_OK(setenv("BASH_FUNC_myfunc%%", "() {  echo hi\n}", 1));
	t = parse(w, NULL, 1);
	ASSERT_EQ(template_direct(t), 0);
	template_free(t);
	ASSERT_OK(unsetenv("BASH_FUNC_myfunc%%"));
	t = parse(w, NULL, 1);
	ASSERT_EQ(template_direct(t), 1);
	template_free(t);
	return 0;
}

TEST_IMPL(template_raw_mode)
{
	struct template *t = NULL;
	struct strbuf s = STRBUF_INIT;
	struct cmdbuf cb;
	struct value v[1];
	struct jobvals jv;
	char err[256];

	ASSERT_OK(template_parse(&t, NULL, 0, NULL, 0, 1, "/bin/sh", err,
				 sizeof err));
	ASSERT_EQ(template_direct(t), -1);
	cmdbuf_init(&cb);

	/* A plain list of words runs directly, split on spaces. */
	jv = vals1(v, "echo  a b");
	argv_str(t, &jv, &cb, &s);
	ASSERT_STR_EQ(s.buf, "echo|a|b");
	ASSERT_EQ(cb.shell, 0);
	ASSERT_EQ(cb.argc, 3);
	if (!cb.search)
		ASSERT_OK(access(cb.file, X_OK));

	/* Shell syntax goes to the shell, unquoted. */
	jv = vals1(v, "echo a | tr a b");
	template_argv(t, &jv, &cb);
	ASSERT_EQ(cb.shell, 1);
	ASSERT_EQ(cb.argc, 3);
	ASSERT_STR_EQ(cb.argv[0], "/bin/sh");
	ASSERT_STR_EQ(cb.argv[1], "-c");
	ASSERT_STR_EQ(cb.argv[2], "echo a | tr a b");

	/* So does a builtin. */
	jv = vals1(v, "cd /tmp");
	template_argv(t, &jv, &cb);
	ASSERT_EQ(cb.shell, 1);
	ASSERT_STR_EQ(cb.argv[2], "cd /tmp");

	/* A path as the command is used as is. */
	jv = vals1(v, "/bin/true x");
	argv_str(t, &jv, &cb, &s);
	ASSERT_STR_EQ(s.buf, "/bin/true|x");
	ASSERT_EQ(cb.shell, 0);
	ASSERT_EQ(cb.search, 0);
	ASSERT_STR_EQ(cb.file, "/bin/true");

	/* The same cmdbuf is reused from a shell job to a direct one. */
	jv = vals1(v, "echo z");
	argv_str(t, &jv, &cb, &s);
	ASSERT_STR_EQ(s.buf, "echo|z");
	ASSERT_EQ(cb.shell, 0);

	/* The line is the item itself. */
	jv = vals1(v, "echo 'q r'");
	line_str(t, &jv, &s);
	ASSERT_STR_EQ(s.buf, "echo 'q r'");

	cmdbuf_release(&cb);
	strbuf_release(&s);
	template_free(t);
	return 0;
}

/* The line of words w (quote_words q) for the value val. */
static void line_of(char **w, int q, const char *val, struct strbuf *out)
{
	struct template *t = NULL;
	struct value v[1];
	struct jobvals jv = vals1(v, val);
	char err[256] = "";
	size_t n = 0;

	while (w[n])
		n++;
	if (template_parse(&t, w, n, NULL, q, 1, "/bin/sh", err, sizeof err))
		FAIL("template_parse: %s", err);
	line_str(t, &jv, out);
	template_free(t);
}

TEST_IMPL(template_command_is_replacement)
{
	/* parallel --dry-run {} arg ::: 'echo a  b|c' prints: echo a  b|c arg */
	char *w[] = { "{}", "arg", NULL };
	char *named[] = { "my_{}", NULL };
	char *dot[] = { "{.}", "{1}", NULL };
	char *arg[] = { "echo", "{}", NULL };
	char *assign[] = { "V={}", "x", NULL };
	char *spaced[] = { "echo {}", NULL };
	char *tabbed[] = { "x\t{}", NULL };
	struct template *t = parse(w, NULL, 1);
	struct strbuf s = STRBUF_INIT;
	struct cmdbuf cb;
	struct value v[1];
	struct jobvals jv = vals1(v, "echo a  b|c");

	cmdbuf_init(&cb);
	ASSERT_EQ(template_direct(t), -1);
	line_str(t, &jv, &s);
	ASSERT_STR_EQ(s.buf, "echo a  b|c arg");
	/* Shell syntax in the item: the shell runs the line. */
	template_argv(t, &jv, &cb);
	ASSERT_EQ(cb.shell, 1);
	ASSERT_STR_EQ(cb.argv[2], "echo a  b|c arg");
	/* A plain line runs directly, split as the shell would. */
	jv = vals1(v, "echo a  b");
	argv_str(t, &jv, &cb, &s);
	ASSERT_STR_EQ(s.buf, "echo|a|b|arg");
	ASSERT_EQ(cb.shell, 0);
	template_free(t);

	line_of(named, 0, "a b", &s);
	ASSERT_STR_EQ(s.buf, "my_a b");
	line_of(dot, 0, "echo x y.z", &s);
	ASSERT_STR_EQ(s.buf, "echo x y echo x y.z");
	/* {} as an argument, in an assignment, after a space, or with -q:
	 * quoted as ever. */
	line_of(arg, 0, "a b", &s);
	ASSERT_STR_EQ(s.buf, "echo 'a b'");
	line_of(assign, 0, "a b", &s);
	ASSERT_STR_EQ(s.buf, "V='a b' x");
	line_of(spaced, 0, "a b", &s);
	ASSERT_STR_EQ(s.buf, "echo 'a b'");
	line_of(tabbed, 0, "a b", &s);
	ASSERT_STR_EQ(s.buf, "x\t'a b'");
	line_of(w, 1, "echo a", &s);
	ASSERT_STR_EQ(s.buf, "'echo a' arg");

	cmdbuf_release(&cb);
	strbuf_release(&s);
	return 0;
}

/*
 * The line of words w (-I replace, NULL for {}) for the n values vals, as
 * GNU parallel 20221122 prints it with --dry-run: want.
 */
static void check_line(char **w, const char *replace, const char *const *vals,
		       size_t n, const char *want)
{
	struct template *t = parse(w, replace, n);
	struct strbuf s = STRBUF_INIT;
	struct value v[8];
	struct jobvals jv = { .v = v, .n = n, .seq = 3, .slot = 1 };

	for (size_t i = 0; i < n; i++)
		v[i] = (struct value){ vals[i], strlen(vals[i]) };
	line_str(t, &jv, &s);
	if (strcmp(s.buf, want) != 0)
		FAIL("'%s'...: line '%s', want '%s'", w[0], s.buf, want);
	strbuf_release(&s);
	template_free(t);
}

TEST_IMPL(template_negative_positional)
{
	static const char *const ab[] = { "a b", "d/c.x" };
	static const char *const one[] = { "A" };
	char *w[] = { "echo", "{-1}", "{-2}", "{-1.}", "{-1/}", "{-1//}",
		      "{-1/.}", "{-2 s/ /_/}", NULL };
	char *past[] = { "echo", "{-3}", "x{-2}y", NULL };
	char *cmd[] = { "{-1}", "{1}", NULL };
	struct template *t;
	struct strbuf s = STRBUF_INIT;
	struct cmdbuf cb;
	struct value v[2] = { { "x", 1 }, { "y z", 3 } };
	struct jobvals jv = { .v = v, .n = 2, .seq = 1, .slot = 1 };

	check_line(w, NULL, ab, 2, "echo d/c.x 'a b' d/c c.x d c a_b");
	/* Before the first value: nothing, as {3} of two is. */
	check_line(past, NULL, one, 1, "echo  xy");
	/* The command itself: unquoted (the items are code). */
	check_line(cmd, NULL, ab, 2, "d/c.x a b");

	/* In an argument vector, the absent {-3} is no argument at all. */
	t = parse(past, NULL, 2);
	cmdbuf_init(&cb);
	argv_str(t, &jv, &cb, &s);
	ASSERT_STR_EQ(s.buf, "echo|xxy");
	jv.n = 1;
	argv_str(t, &jv, &cb, &s);
	ASSERT_STR_EQ(s.buf, "echo|xy");
	template_free(t);
	cmdbuf_release(&cb);
	strbuf_release(&s);
	return 0;
}

TEST_IMPL(template_position_forms)
{
	static const char *const ab[] = { "a.b", "c.d" };
	/* parallel --dry-run echo '{1 .}' '{-1 .}' '{1  }' '{ 1}' '{01}'
	 *     '{-01}' {0} {0.} {00} {-0} {99999999999} ::: a.b ::: c.d */
	char *w[] = { "echo", "{1 .}", "{-1\t.}", "{1  }", "{ 1}", "{01}",
		      "{-01}", "{0}", "{0.}", "{00}", "{-0}", "{99999999999}",
		      "z", NULL };

	check_line(w, NULL, ab, 2,
		   "echo a c a.b { 1} a.b c.d a.b c.d a c    z");
	return 0;
}

TEST_IMPL(template_replace_option_positional)
{
	static const char *const one[] = { "a.b" };
	/* parallel --dry-run -I XX echo XX {1} {-1} {1.} {} ::: a.b
	 * prints: echo a.b {1} {-1} a {} */
	char *xx[] = { "echo", "XX", "{1}", "{-1}", "{1.}", "{}", NULL };
	/* parallel --dry-run -I {x} echo {x} {1} {1x} {-1x} '{1 x}' {}
	 * ::: a.b prints: echo a.b {1} a.b a.b a.b {} */
	char *bx[] = { "echo", "{x}", "{1}", "{1x}", "{-1x}", "{1 x}", "{}",
		       NULL };

	check_line(xx, "XX", one, 1, "echo a.b {1} {-1} a {}");
	check_line(bx, "{x}", one, 1, "echo a.b {1} a.b a.b a.b {}");
	return 0;
}

TEST_IMPL(template_literal_braces)
{
	static const char *const one[] = { "A" };
	/* None is a replacement string in GNU parallel (without --plus):
	 * the item is appended. */
	char *w[] = { "echo", "{foo}", "{-1a}", "{1a}", "{ -1}", "{--1}",
		      "{-}", "{..}", "{+/}", "{##}", "=}", "{=}", "{=",
		      "'{print $1}'", NULL };

	check_line(w, NULL, one, 1,
		   "echo {foo} {-1a} {1a} { -1} {--1} {-} {..} {+/} {##} =} "
		   "{=} {= '{print $1}' A");
	return 0;
}

/* Parsing w (or text, with w NULL) fails naming want, on one line. */
static void check_refused(char **w, const char *text, const char *want)
{
	struct template *t = NULL;
	char err[512] = "";
	size_t n = 0;
	int r;

	while (w && w[n])
		n++;
	r = w ? template_parse(&t, w, n, NULL, 0, 2, "/bin/sh", err, sizeof err)
	      : template_parse_text(&t, text, NULL, err, sizeof err);
	ASSERT_EQ(r, CCMAP_EUSAGE);
	ASSERT_NULL(t);
	if (!strstr(err, want))
		FAIL("message '%s' does not hold '%s'", err, want);
	ASSERT_NULL(strchr(err, '\n'));
}

TEST_IMPL(template_unsupported)
{
	char *perl[] = { "echo", "{= s/a/b/ =}", NULL };
	char *split[] = { "echo", "{=", "s/a/b/gi;", "=}", NULL };
	char *pos[] = { "echo", "x{=-1 s/\\//_/ =}y", NULL };
	char *code[] = { "echo", "{= $_ .= 'x' =}", NULL };
	char *nested[] = { "echo", "{= a {= s/x/y/ =}", NULL };
	char *two[] = { "echo", "{= s/a/b/; s/c/d/ =}", NULL };
	char *seq[] = { "echo", "{1#}", NULL };
	char *slot[] = { "echo", "a{-2 %}b", NULL };
	char *unterm[] = { "echo", "{-12", NULL };

	check_refused(perl, NULL, "unsupported replacement string "
		      "'{= s/a/b/ =}' in the command");
	check_refused(perl, NULL, "write {s/a/b/}");
	check_refused(split, NULL, "'{= s/a/b/gi; =}'");
	check_refused(split, NULL, "write {s/a/b/gi}");
	check_refused(pos, NULL, "write {-1 s/\\//_/}");
	check_refused(code, NULL, "ccmap runs no Perl (see REPLACEMENT");
	check_refused(nested, NULL, "'{= s/x/y/ =}'");
	check_refused(two, NULL, "runs no Perl (see");
	check_refused(seq, NULL, "unsupported replacement string '{1#}'");
	check_refused(slot, NULL, "'{-2 %}' in the command");
	check_refused(unterm, NULL, "unterminated replacement string '{-12'");
	/* Text templates name their text. */
	check_refused(NULL, "<{=uc=}>", "'{=uc=}' in '<{=uc=}>'");
	check_refused(NULL, "d/{1#}", "'{1#}' in 'd/{1#}'");
	return 0;
}

TEST_IMPL(template_text_unquoted)
{
	struct template *t = NULL;
	struct strbuf s = STRBUF_INIT;
	struct value v[1];
	struct jobvals jv = vals1(v, "a b's/c.d");
	char err[256];

	ASSERT_OK(template_parse_text(&t, "<{}> {/.} #{#}", NULL, err, sizeof err));
	jv.seq = 9;
	template_text(t, &jv, &s);
	ASSERT_STR_EQ(s.buf, "<a b's/c.d> c #9");
	template_free(t);
	strbuf_release(&s);
	return 0;
}
