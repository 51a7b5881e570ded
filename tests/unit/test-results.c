/* Unit tests for src/results.[ch]: path components and a job's files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ccmap.h"
#include "results.h"
#include "task.h"

static void
check_escape(const char *s, size_t len, size_t max, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "pre/");
	results_escape(&sb, s, len, max);
	ASSERT_STR_EQ(sb.buf, want);
	strbuf_release(&sb);
}

TEST_IMPL(results_escape_special_bytes)
{
	check_escape("plain", 5, 0, "pre/plain");
	check_escape("", 0, 0, "pre/");
	check_escape("a/b", 3, 0, "pre/a\\_b");
	check_escape("x\\y", 3, 0, "pre/x\\\\y");
	check_escape("t\tb", 3, 0, "pre/t\\tb");
	check_escape("n\0l", 3, 0, "pre/n\\0l");
	/* Kept as they are: spaces, newlines, dots, quotes, high bytes. */
	check_escape(" .\n'\"\xff", 6, 0, "pre/ .\n'\"\xff");
	check_escape("..", 2, 0, "pre/..");
	/* A slash next to a backslash: each written on its own. */
	check_escape("\\/", 2, 0, "pre/\\\\\\_");
	return 0;
}

TEST_IMPL(results_escape_cut_to_max)
{
	/* Cut after escaping, as GNU parallel does (even inside an escape). */
	check_escape("abcdef", 6, 4, "pre/abcd");
	check_escape("ab", 2, 4, "pre/ab");
	check_escape("a/bc", 4, 2, "pre/a\\");
	check_escape("a/bc", 4, 3, "pre/a\\_");
	return 0;
}

static void
check_dirname(const char *const *names, size_t nsrc, const struct value *v,
    size_t n, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	results_dirname(&sb, names, names ? nsrc : 0, nsrc, v, n, 0);
	ASSERT_STR_EQ(sb.buf ? sb.buf : "", want);
	strbuf_release(&sb);
}

TEST_IMPL(results_dirname_sources_and_items)
{
	struct value v[4] = { { "a", 1 }, { "1/2", 3 }, { "b", 1 }, { "", 0 } };

	check_dirname(NULL, 1, v, 1, "1/a");
	check_dirname(NULL, 2, v, 2, "1/a/2/1\\_2");
	/* -n2, one source: each item under the source's number. */
	check_dirname(NULL, 1, v, 3, "1/a/1/1\\_2/1/b");
	/* -n2, two sources: each item's values in turn. */
	check_dirname(NULL, 2, v, 4, "1/a/2/1\\_2/1/b/2/");
	return 0;
}

TEST_IMPL(results_dirname_named_sources_sorted)
{
	struct value v[3] = { { "x", 1 }, { "y", 1 }, { "z", 1 } };
	const char *az[3] = { "Z", "a", "B" };
	const char *num[3] = { "10", "9", "1a" };
	const char *same[3] = { "n", "n", "m" };

	/* Not numbers (all 0): by their bytes. */
	check_dirname(az, 3, v, 3, "B/z/Z/x/a/y");
	/* By number first ("1a" is 1), then by bytes. */
	check_dirname(num, 3, v, 3, "1a/z/9/y/10/x");
	/* Equal names keep their sources' order. */
	check_dirname(same, 3, v, 3, "m/z/n/x/n/y");
	return 0;
}

/* The bytes of a file, NUL-terminated, in buf. */
static const char *
slurp(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	ASSERT(fd >= 0);
	n = read(fd, buf, size - 1);
	ASSERT(n >= 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

TEST_IMPL(results_write_dir_layout)
{
	char tmpl[] = "/tmp/ccmap-results-XXXXXX", dir[128], path[256];
	char buf[64], err[256];
	struct results *r;
	struct strbuf where = STRBUF_INIT;
	struct value v[2] = { { "a/b", 3 }, { "..", 2 } };
	struct stat sb;

	ASSERT_NOT_NULL(mkdtemp(tmpl));
	snprintf(dir, sizeof dir, "%s/out", tmpl);
	ASSERT_OK(results_new(&r, dir, NULL, err, sizeof err));
	ASSERT_OK(results_write(r, &(struct jobvals){ .v = v, .n = 1,
	    .seq = 12 }, 1, "o\n", 2, "", 0, &where));
	snprintf(path, sizeof path, "%s/1/a\\_b/", dir);
	ASSERT_STR_EQ(where.buf, path);
	snprintf(path, sizeof path, "%s/1/a\\_b/seq", dir);
	ASSERT_STR_EQ(slurp(path, buf, sizeof buf), "12");
	snprintf(path, sizeof path, "%s/1/a\\_b/stdout", dir);
	ASSERT_STR_EQ(slurp(path, buf, sizeof buf), "o\n");
	snprintf(path, sizeof path, "%s/1/a\\_b/stderr", dir);
	ASSERT_STR_EQ(slurp(path, buf, sizeof buf), "");

	/* Written again: overwritten, not appended. */
	ASSERT_OK(results_write(r, &(struct jobvals){ .v = v, .n = 1,
	    .seq = 3 }, 1, "x", 1, "e", 1, &where));
	snprintf(path, sizeof path, "%s/1/a\\_b/stdout", dir);
	ASSERT_STR_EQ(slurp(path, buf, sizeof buf), "x");

	/* Two sources, the second "..": DIR/1/a\_b/2/.. is DIR/1/a\_b. */
	ASSERT_OK(results_write(r, &(struct jobvals){ .v = v, .n = 2,
	    .seq = 4 }, 2, "y", 1, "", 0, &where));
	snprintf(path, sizeof path, "%s/1/a\\_b/seq", dir);
	ASSERT_STR_EQ(slurp(path, buf, sizeof buf), "4");
	snprintf(path, sizeof path, "%s/1/a\\_b/2", dir);
	ASSERT_OK(stat(path, &sb));
	ASSERT(S_ISDIR(sb.st_mode));
	results_free(r);

	/* A file where a directory is wanted: the path that failed. */
	snprintf(path, sizeof path, "%s/file", tmpl);
	close(open(path, O_WRONLY | O_CREAT, 0600));
	ASSERT_OK(results_new(&r, path, NULL, err, sizeof err));
	ASSERT_EQ(results_write(r, &(struct jobvals){ .v = v, .n = 1,
	    .seq = 1 }, 1, "", 0, "", 0, &where), -ENOTDIR);
	ASSERT(strncmp(where.buf, path, strlen(path)) == 0);
	results_free(r);
	strbuf_release(&where);
	snprintf(path, sizeof path, "rm -rf '%s'", tmpl);
	ASSERT_OK(system(path));
	return 0;
}

TEST_IMPL(results_write_template)
{
	char tmpl[] = "/tmp/ccmap-results-XXXXXX", spec[128], path[256];
	char buf[64], err[256];
	struct results *r;
	struct strbuf where = STRBUF_INIT;
	struct value v = { "sub/x", 5 };

	ASSERT_NOT_NULL(mkdtemp(tmpl));
	/* Not ending in '/': the stdout file, with .err and .seq. */
	snprintf(spec, sizeof spec, "%s/{}.{#}", tmpl);
	ASSERT_OK(results_new(&r, spec, NULL, err, sizeof err));
	ASSERT_OK(results_write(r, &(struct jobvals){ .v = &v, .n = 1,
	    .seq = 5 }, 1, "out", 3, "err", 3, &where));
	snprintf(path, sizeof path, "%s/sub/x.5", tmpl);
	ASSERT_STR_EQ(where.buf, path);
	ASSERT_STR_EQ(slurp(path, buf, sizeof buf), "out");
	snprintf(path, sizeof path, "%s/sub/x.5.err", tmpl);
	ASSERT_STR_EQ(slurp(path, buf, sizeof buf), "err");
	snprintf(path, sizeof path, "%s/sub/x.5.seq", tmpl);
	ASSERT_STR_EQ(slurp(path, buf, sizeof buf), "5");
	results_free(r);

	/* Ending in '/': a directory with the three files. */
	snprintf(spec, sizeof spec, "%s/d/{}/", tmpl);
	ASSERT_OK(results_new(&r, spec, NULL, err, sizeof err));
	ASSERT_OK(results_write(r, &(struct jobvals){ .v = &v, .n = 1,
	    .seq = 6 }, 1, "o", 1, "", 0, &where));
	snprintf(path, sizeof path, "%s/d/sub/x/stdout", tmpl);
	ASSERT_STR_EQ(slurp(path, buf, sizeof buf), "o");
	snprintf(path, sizeof path, "%s/d/sub/x/seq", tmpl);
	ASSERT_STR_EQ(slurp(path, buf, sizeof buf), "6");
	results_free(r);

	ASSERT_EQ(results_new(&r, "", NULL, err, sizeof err), CCMAP_EUSAGE);
	ASSERT(strstr(err, "--results") != NULL);
	strbuf_release(&where);
	snprintf(path, sizeof path, "rm -rf '%s'", tmpl);
	ASSERT_OK(system(path));
	return 0;
}

TEST_IMPL(results_record_csv_and_tsv)
{
	char err[256];
	struct results *csv, *tsv;
	struct strbuf sb = STRBUF_INIT;
	struct value v[3] = { { "plain", 5 }, { "a,b", 3 }, { "q\"t\tx", 5 } };
	struct results_rec rec = {
		.seq = 3, .start = 1700000000.1234, .ns = 1234999999LL,
		.code = 2, .cmd = "echo 'a b'", .v = v, .n = 3,
		.out = "o\n", .olen = 2, .err = "", .elen = 0,
	};

	ASSERT_OK(results_new(&csv, "x.CSV", NULL, err, sizeof err));
	ASSERT_OK(results_new(&tsv, "-.tsv", NULL, err, sizeof err));
	ASSERT_EQ(results_kind(csv), RESULTS_CSV);
	ASSERT_EQ(results_kind(tsv), RESULTS_TSV);
	ASSERT_EQ(results_open_records(tsv), 1);

	results_header(csv, &sb, 2);
	ASSERT_STR_EQ(sb.buf, "Seq,Host,Starttime,JobRuntime,Send,Receive,"
	    "Exitval,Signal,Command,V1,V2,Stdout,Stderr\n");
	strbuf_reset(&sb);
	/* Quoted: the separator, white space, '"' (doubled); runtime cut. */
	results_record(csv, &sb, &rec);
	ASSERT_STR_EQ(sb.buf, "3,:,1700000000.123,1.234,0,2,2,0,"
	    "\"echo 'a b'\",plain,\"a,b\",\"q\"\"t\tx\",\"o\n\",\n");
	strbuf_reset(&sb);
	results_record(tsv, &sb, &rec);
	ASSERT_STR_EQ(sb.buf, "3\t:\t1700000000.123\t1.234\t0\t2\t2\t0\t"
	    "\"echo 'a b'\"\tplain\ta,b\t\"q\"\"t\tx\"\t\"o\n\"\t\n");
	results_free(csv);
	results_free(tsv);
	strbuf_release(&sb);
	return 0;
}

TEST_IMPL(results_record_json)
{
	char err[256];
	struct results *r;
	struct strbuf sb = STRBUF_INIT;
	struct value v[2] = { { "a", 1 }, { "\"", 1 } };

	ASSERT_OK(results_new(&r, "dir/out.json", NULL, err, sizeof err));
	ASSERT_EQ(results_kind(r), RESULTS_JSON);
	results_header(r, &sb, 2);
	ASSERT_EQ(sb.len, 0);
	results_record(r, &sb, &(struct results_rec){
	    .seq = 1, .start = 2.5, .ns = 5000000, .sig = 9, .cmd = "kill",
	    .v = v, .n = 2, .out = "x\n", .olen = 2 });
	ASSERT_STR_EQ(sb.buf, "{ \"Seq\": 1, \"Host\": \":\", \"Starttime\": "
	    "2.500, \"JobRuntime\": 0.005, \"Send\": 0, \"Receive\": 2, "
	    "\"Exitval\": 0, \"Signal\": 9, \"Command\": \"kill\", \"V\": [ "
	    "\"a\",\"\\\"\" ], \"Stdout\": \"x\\u000a\", \"Stderr\": \"\" }\n");
	results_free(r);
	strbuf_release(&sb);
	return 0;
}
