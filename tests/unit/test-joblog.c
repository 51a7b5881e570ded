/*
 * Unit tests for src/joblog.[ch]: lines in GNU parallel's joblog format,
 * and reading a joblog back for --resume and --resume-failed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "joblog.h"
#include "strbuf.h"
#include "task.h"

TEST_IMPL(joblog_format_fields)
{
	struct strbuf b = STRBUF_INIT;

	/* 1.0149 s is written 1.014: GNU parallel truncates, never rounds. */
	joblog_format(&b, &(struct joblog_entry){
		.seq = 2, .host = ":", .start_ns = 1795315390087000000LL,
		.run_ns = 1014999999LL, .send = 0, .receive = 2,
		.exitval = -1, .sig = 15, .cmd = "echo 3; sleep 3",
		.cmdlen = 15,
	});
	ASSERT_STR_EQ(b.buf, "2\t:\t1795315390.087\t     1.014\t0\t2\t-1\t15\t"
	    "echo 3; sleep 3\n");
	strbuf_reset(&b);
	joblog_format(&b, &(struct joblog_entry){
		.seq = 123456, .host = ":", .start_ns = 5000000,
		.run_ns = 12345678901234LL, .send = 7, .receive = 99999,
		.exitval = 3, .sig = 0, .cmd = "", .cmdlen = 0,
	});
	ASSERT_STR_EQ(b.buf, "123456\t:\t0.005\t 12345.678\t7\t99999\t3\t0\t\n");
	strbuf_release(&b);
	return 0;
}

TEST_IMPL(joblog_format_newline_in_command)
{
	struct strbuf b = STRBUF_INIT;
	const char want[] = "1\t:\t0.000\t     0.000\t0\t0\t0\t0\tprintf 'a\0b'\n";

	joblog_format(&b, &(struct joblog_entry){
		.seq = 1, .host = ":", .cmd = "printf 'a\nb'", .cmdlen = 12,
	});
	/* A newline is written as a NUL byte, so the line stays one job. */
	ASSERT_MEM_EQ(b.buf, b.len, want, sizeof want - 1);
	strbuf_release(&b);
	return 0;
}

TEST_IMPL(joblog_parse_lines)
{
	unsigned long long seq = 0;
	int ok = -1;
	const char *l;

	/* --resume: the job number is enough. */
	l = "12\tanything";
	ASSERT_EQ(joblog_parse_line(l, strlen(l), CCMAP_RESUME_ALL, &seq,
	    &ok), 1);
	ASSERT_EQ(seq, 12);
	l = "7";
	ASSERT_EQ(joblog_parse_line(l, strlen(l), CCMAP_RESUME_ALL, &seq,
	    &ok), 1);
	ASSERT_EQ(seq, 7);
	l = "Seq\tHost";
	ASSERT_EQ(joblog_parse_line(l, strlen(l), CCMAP_RESUME_ALL, &seq,
	    &ok), 0);
	ASSERT_EQ(joblog_parse_line("", 0, CCMAP_RESUME_ALL, &seq, &ok), 0);

	/* --resume-failed: the whole format, and whether it succeeded. */
	l = "3\t:\t1795315564.874\t     0.009\t0\t3\t0\t0\techo A0; exit 0";
	ASSERT_EQ(joblog_parse_line(l, strlen(l), CCMAP_RESUME_FAILED, &seq,
	    &ok), 1);
	ASSERT_EQ(seq, 3);
	ASSERT_EQ(ok, 1);
	l = "4\t:\t1795315564.884\t     0.003\t0\t3\t2\t0\techo A2; exit 2";
	ASSERT_EQ(joblog_parse_line(l, strlen(l), CCMAP_RESUME_FAILED, &seq,
	    &ok), 1);
	ASSERT_EQ(seq, 4);
	ASSERT_EQ(ok, 0);
	l = "5\t:\t1795315564.884\t     2.055\t0\t2\t-1\t15\t";
	ASSERT_EQ(joblog_parse_line(l, strlen(l), CCMAP_RESUME_FAILED, &seq,
	    &ok), 1);
	ASSERT_EQ(ok, 0);
	l = "6\t:\t1.0\t1.0\t0\t0\t0\t9\tx";	/* killed: failed */
	ASSERT_EQ(joblog_parse_line(l, strlen(l), CCMAP_RESUME_FAILED, &seq,
	    &ok), 1);
	ASSERT_EQ(ok, 0);
	l = "1\tgarbage";
	ASSERT_EQ(joblog_parse_line(l, strlen(l), CCMAP_RESUME_FAILED, &seq,
	    &ok), 0);
	l = "2\t:\tx\t1\t0\t0\t1\t0\tcmd";	/* not a number */
	ASSERT_EQ(joblog_parse_line(l, strlen(l), CCMAP_RESUME_FAILED, &seq,
	    &ok), 0);
	l = "2\t:\t1\t1\t0\t0\t1\t0";		/* no tab before the command */
	ASSERT_EQ(joblog_parse_line(l, strlen(l), CCMAP_RESUME_FAILED, &seq,
	    &ok), 0);
	return 0;
}

/* A file in /tmp holding text; its name in path (removed by the caller). */
static void
put_file(char *path, const char *text, size_t len)
{
	int fd = mkostemp(path, O_CLOEXEC);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		FAIL("cannot write %s", path);
	close(fd);
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	static char buf[4096];
	size_t n;

	if (!f)
		FAIL("cannot read %s", path);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

TEST_IMPL(joblog_resume_reads_and_appends)
{
	const char log[] = JOBLOG_HEADER
	    "1\t:\t1.000\t     0.003\t0\t3\t0\t0\techo A0\n"
	    "4\t:\t1.000\t     0.003\t0\t3\t2\t0\techo A2\n"
	    "2\t:\t1.000\t     0.012\t0\t3\t1\t0\techo A1\n"
	    "2\t:\t2.000\t     0.000\t0\t3\t0\t0\techo B1\n";
	char path[] = "/tmp/ccmap-test-joblog.XXXXXX";
	struct joblog *jl;
	char err[256] = "";

	put_file(path, log, sizeof log - 1);

	/* --resume: every job named, asked in rising order. */
	ASSERT_OK(joblog_open(&jl, path, CCMAP_RESUME_ALL, err, sizeof err));
	ASSERT_EQ(joblog_skip(jl, 1), 1);
	ASSERT_EQ(joblog_skip(jl, 2), 1);
	ASSERT_EQ(joblog_skip(jl, 3), 0);
	ASSERT_EQ(joblog_skip(jl, 4), 1);
	ASSERT_EQ(joblog_skip(jl, 5), 0);
	ASSERT_EQ(joblog_to_stdout(jl), 0);
	ASSERT_OK(joblog_write(jl, "5\t:\t3.000\t     0.001\t0\t0\t0\t0\tx\n",
	    31));
	joblog_close(jl);
	/* Appended: the header is not written again. */
	ASSERT_STR_EQ(slurp(path), "Seq\tHost\tStarttime\tJobRuntime\tSend\t"
	    "Receive\tExitval\tSignal\tCommand\n"
	    "1\t:\t1.000\t     0.003\t0\t3\t0\t0\techo A0\n"
	    "4\t:\t1.000\t     0.003\t0\t3\t2\t0\techo A2\n"
	    "2\t:\t1.000\t     0.012\t0\t3\t1\t0\techo A1\n"
	    "2\t:\t2.000\t     0.000\t0\t3\t0\t0\techo B1\n"
	    "5\t:\t3.000\t     0.001\t0\t0\t0\t0\tx\n");

	/* --resume-failed: those that succeeded once (2, on its 2nd try). */
	ASSERT_OK(joblog_open(&jl, path, CCMAP_RESUME_FAILED, err,
	    sizeof err));
	ASSERT_EQ(joblog_skip(jl, 1), 1);
	ASSERT_EQ(joblog_skip(jl, 2), 1);
	ASSERT_EQ(joblog_skip(jl, 3), 0);
	ASSERT_EQ(joblog_skip(jl, 4), 0);
	ASSERT_EQ(joblog_skip(jl, 5), 1);
	ASSERT_EQ(joblog_skip(jl, 6), 0);
	joblog_close(jl);
	unlink(path);
	return 0;
}

TEST_IMPL(joblog_open_new_and_errors)
{
	char path[] = "/tmp/ccmap-test-joblog.XXXXXX";
	struct joblog *jl;
	char err[256] = "";

	/* Without resume an existing file starts anew, with the header. */
	put_file(path, "old\n", 4);
	ASSERT_OK(joblog_open(&jl, path, CCMAP_RESUME_NONE, err, sizeof err));
	ASSERT_EQ(joblog_skip(jl, 1), 0);
	joblog_close(jl);
	ASSERT_STR_EQ(slurp(path), JOBLOG_HEADER);

	/* An empty file is no joblog: resumed, it gets the header. */
	ASSERT_OK(truncate(path, 0));
	ASSERT_OK(joblog_open(&jl, path, CCMAP_RESUME_ALL, err, sizeof err));
	joblog_close(jl);
	ASSERT_STR_EQ(slurp(path), JOBLOG_HEADER);

	/* +FILE appends. */
	char plus[64];
	snprintf(plus, sizeof plus, "+%s", path);
	ASSERT_OK(joblog_open(&jl, plus, CCMAP_RESUME_NONE, err, sizeof err));
	ASSERT_OK(joblog_write(jl, "x\n", 2));
	joblog_close(jl);
	ASSERT_STR_EQ(slurp(path), JOBLOG_HEADER "x\n");

	/* A line out of format stops a resume, naming the file and line. */
	ASSERT_EQ(joblog_open(&jl, path, CCMAP_RESUME_ALL, err, sizeof err),
	    CCMAP_EUSAGE);
	ASSERT(strstr(err, "line 2") && strstr(err, path) && strstr(err, "'x'"));
	unlink(path);

	/* "-" is stdout: the caller writes the header. */
	ASSERT_OK(joblog_open(&jl, "-", CCMAP_RESUME_NONE, err, sizeof err));
	ASSERT_EQ(joblog_to_stdout(jl), 1);
	ASSERT_EQ(joblog_wants_header(jl), 1);
	joblog_close(jl);

	ASSERT_LT(joblog_open(&jl, "/nonexistent/dir/log", CCMAP_RESUME_NONE,
	    err, sizeof err), 0);
	ASSERT(strstr(err, "--joblog") && strstr(err, "/nonexistent/dir/log"));
	return 0;
}
