/* Unit tests for held-back job output (src/output.[ch]). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"
#include "strbuf.h"
#include "task.h"

/* An unlinked temporary file to write output into. */
static int temp_fd(void)
{
	char tmpl[] = "/tmp/ccmap-test-output.XXXXXX";
	int fd = mkostemp(tmpl, O_CLOEXEC);

	ASSERT_GE(fd, 0);
	unlink(tmpl);
	return fd;
}

/* Everything written to fd so far, into out (reset first). */
static void contents(int fd, struct strbuf *out)
{
	struct stat st;
	ssize_t n;

	strbuf_reset(out);
	ASSERT_OK(fstat(fd, &st));
	strbuf_grow(out, (size_t)st.st_size);
	n = pread(fd, out->buf, (size_t)st.st_size, 0);
	ASSERT_EQ(n, st.st_size);
	out->len = (size_t)n;
	out->buf[n] = '\0';
}

static void data(struct output *o, struct joboutput *jo, int stream,
		 const char *s)
{
	output_data(o, jo, stream, s, strlen(s));
}

static struct output *new_output(int fd0, int fd1, size_t mem_limit,
				 int linebuffer)
{
	struct output_opts oo = {
		.linebuffer = linebuffer,
		.mem_limit = mem_limit,
		.tmpdir = "/tmp",
		.fd = { fd0, fd1 },
	};
	struct output *o = NULL;

	output_new(&o, &oo);
	ASSERT_NOT_NULL(o);
	return o;
}

TEST_IMPL(output_group_streams)
{
	int fo = temp_fd(), fe = temp_fd();
	struct output *o = new_output(fo, fe, 0, 0);
	struct joboutput a, b;
	struct strbuf got = STRBUF_INIT;

	joboutput_init(&a);
	joboutput_init(&b);
	/* Interleaved as two running jobs would produce it. */
	data(o, &a, 1, "a-out-1\n");
	data(o, &b, 1, "b-out-1\n");
	data(o, &a, 2, "a-err\n");
	data(o, &b, 2, "b-err");
	data(o, &a, 1, "a-out-2");
	data(o, &b, 1, "b-out-2\n");
	ASSERT_EQ(output_mem_used(o), 8 + 8 + 6 + 5 + 7 + 8);
	ASSERT_EQ(output_spilled(o), 0);

	/* Nothing is written before the job is emitted. */
	contents(fo, &got);
	ASSERT_EQ(got.len, 0);

	ASSERT_OK(output_emit(o, &b));
	ASSERT_OK(output_emit(o, &a));
	ASSERT_OK(output_flush(o));
	ASSERT_EQ(output_mem_used(o), 0);
	contents(fo, &got);
	ASSERT_STR_EQ(got.buf, "b-out-1\nb-out-2\na-out-1\na-out-2");
	contents(fe, &got);
	ASSERT_STR_EQ(got.buf, "b-erra-err\n");
	ASSERT_OK(output_error(o));

	output_free(o);
	strbuf_release(&got);
	close(fo);
	close(fe);
	return 0;
}

TEST_IMPL(output_tags_every_line)
{
	int fo = temp_fd(), fe = temp_fd();
	struct output *o = new_output(fo, fe, 0, 0);
	struct joboutput jo;
	struct strbuf got = STRBUF_INIT;

	joboutput_init(&jo);
	jo.tag = "T1";
	jo.taglen = 2;
	/* Lines split across calls: the tag goes only at line starts. */
	data(o, &jo, 1, "ab");
	data(o, &jo, 1, "c\nd");
	data(o, &jo, 1, "e\n\nf");
	data(o, &jo, 2, "x\n");
	data(o, &jo, 2, "y");
	ASSERT_OK(output_emit(o, &jo));
	ASSERT_OK(output_flush(o));
	contents(fo, &got);
	ASSERT_STR_EQ(got.buf, "T1\tabc\nT1\tde\nT1\t\nT1\tf");
	contents(fe, &got);
	ASSERT_STR_EQ(got.buf, "T1\tx\nT1\ty");

	/* The next job starts at a line start again, even though the last
	 * one ended mid-line. */
	joboutput_init(&jo);
	jo.tag = "T2";
	jo.taglen = 2;
	data(o, &jo, 1, "g\n");
	ASSERT_OK(output_emit(o, &jo));
	ASSERT_OK(output_flush(o));
	contents(fo, &got);
	ASSERT_STR_EQ(got.buf, "T1\tabc\nT1\tde\nT1\t\nT1\tfT2\tg\n");

	output_free(o);
	strbuf_release(&got);
	close(fo);
	close(fe);
	return 0;
}

/* Bytes 0..255 repeated, NULs and newlines included. */
static void pattern(char *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)((i * 7 + seed) & 0xff);
}

TEST_IMPL(output_spill_exact)
{
	int fo = temp_fd(), fe = temp_fd();
	struct output *o = new_output(fo, fe, 16, 0);
	struct joboutput a, b;
	struct strbuf got = STRBUF_INIT, wa = STRBUF_INIT, wb = STRBUF_INIT,
		      we = STRBUF_INIT;
	char chunk[300];
	size_t sizes[] = { 1, 5, 16, 17, 3, 100, 300, 2, 0, 64 };

	joboutput_init(&a);
	joboutput_init(&b);
	for (size_t round = 0; round < 20; round++) {
		for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
			size_t n = sizes[k];

			pattern(chunk, n, (unsigned)(round * 31 + k));
			output_data(o, &a, 1, chunk, n);
			strbuf_add(&wa, chunk, n);
			pattern(chunk, n, (unsigned)(round * 17 + k + 5));
			output_data(o, &b, 1, chunk, n);
			strbuf_add(&wb, chunk, n);
			if (k % 3 == 0) {
				output_data(o, &a, 2, "\0e\n", 3);
				strbuf_add(&we, "\0e\n", 3);
			}
		}
		/* The bound holds. */
		ASSERT_LE(output_mem_used(o), 16);
	}
	ASSERT_GT(output_spilled(o), 0);

	ASSERT_OK(output_emit(o, &a));
	ASSERT_OK(output_emit(o, &b));
	ASSERT_OK(output_flush(o));
	ASSERT_EQ(output_mem_used(o), 0);

	contents(fo, &got);
	ASSERT_EQ(got.len, wa.len + wb.len);
	ASSERT_MEM_EQ(got.buf, wa.len, wa.buf, wa.len);
	ASSERT_MEM_EQ(got.buf + wa.len, wb.len, wb.buf, wb.len);
	contents(fe, &got);
	ASSERT_MEM_EQ(got.buf, got.len, we.buf, we.len);

	output_free(o);
	strbuf_release(&got);
	strbuf_release(&wa);
	strbuf_release(&wb);
	strbuf_release(&we);
	close(fo);
	close(fe);
	return 0;
}

TEST_IMPL(output_spill_tagged)
{
	int fo = temp_fd(), fe = temp_fd();
	struct output *o = new_output(fo, fe, 16, 0);
	struct joboutput jo;
	struct strbuf got = STRBUF_INIT;
	static const char *const pieces[] = {
		"first line is longer than sixteen", "\nsecond", " line\n",
		"3\n4\n5", "\n", "a very long sixth line, spilled for sure\n",
	};

	joboutput_init(&jo);
	jo.tag = "t";
	jo.taglen = 1;
	for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++)
		data(o, &jo, 1, pieces[i]);
	ASSERT_GT(output_spilled(o), 0);
	ASSERT_OK(output_emit(o, &jo));
	ASSERT_OK(output_flush(o));
	contents(fo, &got);
	ASSERT_STR_EQ(got.buf, "t\tfirst line is longer than sixteen\n"
		      "t\tsecond line\nt\t3\nt\t4\nt\t5\n"
		      "t\ta very long sixth line, spilled for sure\n");
	ASSERT_EQ(output_mem_used(o), 0);
	output_free(o);
	strbuf_release(&got);
	close(fo);
	close(fe);
	return 0;
}

TEST_IMPL(output_large_job)
{
	/* More than the write buffer, in memory (default limit). */
	size_t n = 1 << 20;
	char *big = malloc(n);
	int fo = temp_fd(), fe = temp_fd();
	struct output *o = new_output(fo, fe, 0, 0);
	struct joboutput jo;
	struct strbuf got = STRBUF_INIT;

	ASSERT_NOT_NULL(big);
	pattern(big, n, 3);
	joboutput_init(&jo);
	for (size_t off = 0; off < n; off += 4096)
		output_data(o, &jo, 1, big + off, 4096);
	ASSERT_EQ(output_mem_used(o), n);
	ASSERT_OK(output_emit(o, &jo));
	ASSERT_OK(output_flush(o));
	ASSERT_EQ(output_mem_used(o), 0);
	contents(fo, &got);
	ASSERT_MEM_EQ(got.buf, got.len, big, n);
	output_free(o);
	strbuf_release(&got);
	free(big);
	close(fo);
	close(fe);
	return 0;
}

TEST_IMPL(output_release_unemitted)
{
	int fo = temp_fd(), fe = temp_fd();
	struct output *o = new_output(fo, fe, 0, 0);
	struct joboutput jo;
	struct strbuf got = STRBUF_INIT;

	joboutput_init(&jo);
	data(o, &jo, 1, "dropped\n");
	data(o, &jo, 2, "dropped too\n");
	ASSERT_EQ(output_mem_used(o), 20);
	joboutput_release(o, &jo);
	ASSERT_EQ(output_mem_used(o), 0);
	ASSERT_OK(output_flush(o));
	contents(fo, &got);
	ASSERT_EQ(got.len, 0);
	output_free(o);
	strbuf_release(&got);
	close(fo);
	close(fe);
	return 0;
}

TEST_IMPL(output_linebuffer)
{
	int fo = temp_fd(), fe = temp_fd();
	struct output *o = new_output(fo, fe, 0, 1);
	struct joboutput a, b;
	struct strbuf got = STRBUF_INIT;

	joboutput_init(&a);
	joboutput_init(&b);
	a.tag = "A";
	a.taglen = 1;
	b.tag = "B";
	b.taglen = 1;

	data(o, &a, 1, "a1");
	contents(fo, &got);
	ASSERT_EQ(got.len, 0);		/* no whole line yet */
	data(o, &b, 1, "b1\nb2");
	contents(fo, &got);
	ASSERT_STR_EQ(got.buf, "B\tb1\n");
	data(o, &a, 1, "-more\na2\na3");
	contents(fo, &got);
	ASSERT_STR_EQ(got.buf, "B\tb1\nA\ta1-more\nA\ta2\n");
	data(o, &a, 2, "err\n");
	contents(fe, &got);
	ASSERT_STR_EQ(got.buf, "A\terr\n");

	/* The rest of each job's last line comes out on emit. */
	ASSERT_OK(output_emit(o, &b));
	ASSERT_OK(output_flush(o));
	contents(fo, &got);
	ASSERT_STR_EQ(got.buf, "B\tb1\nA\ta1-more\nA\ta2\nB\tb2");
	ASSERT_OK(output_emit(o, &a));
	ASSERT_OK(output_flush(o));
	contents(fo, &got);
	ASSERT_STR_EQ(got.buf, "B\tb1\nA\ta1-more\nA\ta2\nB\tb2A\ta3");
	ASSERT_EQ(output_mem_used(o), 0);

	output_free(o);
	strbuf_release(&got);
	close(fo);
	close(fe);
	return 0;
}

/* Ordered line-buffer mode (-k --line-buffer). */
static struct output *new_ordered(int fd0, int fd1, size_t mem_limit)
{
	struct output_opts oo = {
		.linebuffer = 1,
		.ordered = 1,
		.mem_limit = mem_limit,
		.tmpdir = "/tmp",
		.fd = { fd0, fd1 },
	};
	struct output *o = NULL;

	output_new(&o, &oo);
	ASSERT_NOT_NULL(o);
	return o;
}

/*
 * --group: the live job's stdout goes out as it comes, its stderr waits
 * for the end of its stdout, though written first (stdout and stderr one
 * file here, so the order shows).
 */
TEST_IMPL(output_group_live_stderr_last)
{
	int f = temp_fd();
	struct output *o = new_output(f, f, 0, 0);
	struct joboutput jo;
	struct strbuf got = STRBUF_INIT;

	joboutput_init(&jo);
	data(o, &jo, 2, "err-1\n");		/* held before its turn */
	data(o, &jo, 1, "out-1\n");
	output_go_live(o, &jo);
	data(o, &jo, 2, "err-2\n");
	data(o, &jo, 1, "out-2\n");
	contents(f, &got);
	ASSERT_STR_EQ(got.buf, "out-1\nout-2\n");
	ASSERT_OK(output_emit(o, &jo));
	ASSERT_OK(output_flush(o));
	contents(f, &got);
	ASSERT_STR_EQ(got.buf, "out-1\nout-2\nerr-1\nerr-2\n");
	ASSERT_EQ(output_mem_used(o), 0);
	output_free(o);
	strbuf_release(&got);
	close(f);
	return 0;
}

/*
 * output_mark() cuts a job's output in groups (a plugin's items), each its
 * stdout then its stderr, held in memory or spilled, whole or when the job
 * goes live midway; marks without stderr since the last are no groups.
 */
static void marked(size_t mem_limit, int live_at, int linebuffer)
{
	int f = temp_fd();
	struct output *o = linebuffer ? new_ordered(f, f, mem_limit) :
	    new_output(f, f, mem_limit, 0);
	struct joboutput jo;
	struct strbuf got = STRBUF_INIT, want = STRBUF_INIT;
	char line[64];

	joboutput_init(&jo);
	for (int i = 0; i < 12; i++) {
		if (i == live_at)
			output_go_live(o, &jo);
		/* Item i: stderr first (even items), stdout, more stdout. */
		snprintf(line, sizeof line, "e%d\n", i);
		if (i % 2 == 0)
			data(o, &jo, 2, line);
		snprintf(line, sizeof line, "o%d-a\n", i);
		data(o, &jo, 1, line);
		snprintf(line, sizeof line, "o%d-b\n", i);
		data(o, &jo, 1, line);
		output_mark(o, &jo);
		/* (In line-buffer mode a live job's lines go as they come.) */
		int lines_now = linebuffer && live_at >= 0 && i >= live_at;
		if (i % 2 == 0 && lines_now) {
			snprintf(line, sizeof line, "e%d\n", i);
			strbuf_addstr(&want, line);
		}
		snprintf(line, sizeof line, "o%d-a\no%d-b\n", i, i);
		strbuf_addstr(&want, line);
		if (i % 2 == 0 && !lines_now) {
			snprintf(line, sizeof line, "e%d\n", i);
			strbuf_addstr(&want, line);
		}
	}
	if (mem_limit)
		ASSERT_GT(output_spilled(o), 0);
	ASSERT_OK(output_emit(o, &jo));
	ASSERT_OK(output_flush(o));
	contents(f, &got);
	ASSERT_STR_EQ(got.buf, want.buf);
	ASSERT_EQ(output_mem_used(o), 0);
	output_free(o);
	strbuf_release(&got);
	strbuf_release(&want);
	close(f);
}

TEST_IMPL(output_marks)
{
	for (int lb = 0; lb < 2; lb++)
		for (int live_at = -1; live_at <= 12; live_at += 5) {
			marked(0, live_at, lb);		/* in memory */
			marked(8, live_at, lb);		/* spilled */
		}
	return 0;
}

/*
 * -k --line-buffer: the live job's whole lines go out at once; another's
 * wait, in memory or spilled, until its turn: then its whole lines, stdout
 * first, and from then on as they come; the rest of a last line at the end.
 */
static void ordered_lines(size_t mem_limit)
{
	int fo = temp_fd(), fe = temp_fd();
	struct output *o = new_ordered(fo, fe, mem_limit);
	struct joboutput a, b;
	struct strbuf got = STRBUF_INIT;

	joboutput_init(&a);
	joboutput_init(&b);
	output_go_live(o, &a);
	data(o, &a, 1, "a1\na");
	data(o, &b, 1, "b1\nb2 is longer than eight bytes\nb");
	data(o, &b, 2, "be1\nbe");
	data(o, &a, 2, "ae1\n");
	contents(fo, &got);
	ASSERT_STR_EQ(got.buf, "a1\n");
	contents(fe, &got);
	ASSERT_STR_EQ(got.buf, "ae1\n");
	if (mem_limit)
		ASSERT_GT(output_spilled(o), 0);
	data(o, &a, 1, "2\n");
	contents(fo, &got);
	ASSERT_STR_EQ(got.buf, "a1\na2\n");

	/* a ends: b's turn; its whole lines out, the rest of a line held. */
	output_end(o, &a);
	ASSERT_OK(output_emit(o, &a));
	output_go_live(o, &b);
	data(o, &b, 1, "3");
	contents(fo, &got);
	ASSERT_STR_EQ(got.buf, "a1\na2\nb1\nb2 is longer than eight bytes\n");
	contents(fe, &got);
	ASSERT_STR_EQ(got.buf, "ae1\nbe1\n");
	data(o, &b, 1, "\nb4");
	data(o, &b, 2, "2\n");
	contents(fo, &got);
	ASSERT_STR_EQ(got.buf, "a1\na2\nb1\nb2 is longer than eight bytes\nb3\n");
	contents(fe, &got);
	ASSERT_STR_EQ(got.buf, "ae1\nbe1\nbe2\n");
	output_end(o, &b);
	ASSERT_OK(output_emit(o, &b));
	ASSERT_OK(output_flush(o));
	contents(fo, &got);
	ASSERT_STR_EQ(got.buf,
		      "a1\na2\nb1\nb2 is longer than eight bytes\nb3\nb4");
	ASSERT_EQ(output_mem_used(o), 0);
	output_free(o);
	strbuf_release(&got);
	close(fo);
	close(fe);
}

TEST_IMPL(output_ordered_linebuffer)
{
	ordered_lines(0);
	ordered_lines(8);
	return 0;
}

/* A finished job held in ordered line-buffer mode folds like --group's. */
TEST_IMPL(output_ordered_hold)
{
	int fo = temp_fd(), fe = temp_fd();
	struct output *o = new_ordered(fo, fe, 0);
	struct joboutput jo;
	struct strbuf got = STRBUF_INIT;
	struct held *h;

	joboutput_init(&jo);
	data(o, &jo, 1, "a\nb");
	data(o, &jo, 2, "e");
	output_end(o, &jo);		/* not live: nothing goes */
	contents(fo, &got);
	ASSERT_EQ(got.len, 0);
	h = output_hold(o, &jo);
	ASSERT_NOT_NULL(h);
	ASSERT_OK(output_emit_held(o, h));
	ASSERT_OK(output_flush(o));
	contents(fo, &got);
	ASSERT_STR_EQ(got.buf, "a\nb");
	contents(fe, &got);
	ASSERT_STR_EQ(got.buf, "e");
	ASSERT_EQ(output_mem_used(o), 0);
	output_free(o);
	strbuf_release(&got);
	close(fo);
	close(fe);
	return 0;
}

/* A pipe whose reader is gone: writes fail with EPIPE. */
static int broken_pipe(void)
{
	int p[2];

	signal(SIGPIPE, SIG_IGN);
	ASSERT_OK(pipe2(p, O_CLOEXEC));
	close(p[0]);
	return p[1];
}

TEST_IMPL(output_write_error)
{
	int fo = broken_pipe(), fe = temp_fd();
	struct output *o = new_output(fo, fe, 0, 0);
	struct joboutput jo;
	int r;

	joboutput_init(&jo);
	data(o, &jo, 1, "lost\n");
	r = output_emit(o, &jo);
	ASSERT(r == 0 || r == -EPIPE);
	ASSERT_EQ(output_flush(o), -EPIPE);
	ASSERT_EQ(output_error(o), -EPIPE);
	ASSERT_EQ(output_mem_used(o), 0);
	/* The error sticks. */
	joboutput_init(&jo);
	data(o, &jo, 1, "more\n");
	ASSERT_EQ(output_emit(o, &jo), -EPIPE);
	ASSERT_EQ(output_flush(o), -EPIPE);
	output_free(o);
	close(fo);
	close(fe);
	return 0;
}

TEST_IMPL(output_write_error_large)
{
	/* More than the write buffer: output_emit itself sees the error. */
	size_t n = 256 * 1024;
	char *big = calloc(1, n);
	int fo = broken_pipe(), fe = temp_fd();
	struct output *o = new_output(fo, fe, 0, 0);
	struct joboutput jo;

	ASSERT_NOT_NULL(big);
	joboutput_init(&jo);
	output_data(o, &jo, 1, big, n);
	ASSERT_EQ(output_emit(o, &jo), -EPIPE);
	ASSERT_EQ(output_flush(o), -EPIPE);
	output_free(o);
	free(big);
	close(fo);
	close(fe);
	return 0;
}

TEST_IMPL(output_write_error_linebuffer)
{
	int fo = broken_pipe(), fe = temp_fd();
	struct output *o = new_output(fo, fe, 0, 1);
	struct joboutput jo;

	joboutput_init(&jo);
	data(o, &jo, 1, "whole line\n");
	ASSERT_EQ(output_error(o), -EPIPE);
	data(o, &jo, 1, "rest");
	ASSERT_EQ(output_emit(o, &jo), -EPIPE);
	ASSERT_EQ(output_flush(o), -EPIPE);
	output_free(o);
	close(fo);
	close(fe);
	return 0;
}

/* ---- from several threads at once (run under TSan too) ------------------ */

#include "util.h"
#include "threadpool.h"

struct cjob {
	struct tp_work w;
	struct joboutput jo;
	size_t id;
};

struct cshared {
	struct threadpool *tp;
	struct output *o;
};

/* Job id writes lines "id:k\n" for k < 50, in pieces of 1..7 bytes, to
 * stdout (even ids) or stderr (odd ones). */
static void cwork(struct tp_work *w, unsigned worker, void *arg)
{
	struct cshared *sh = arg;
	struct cjob *j = container_of(w, struct cjob, w);
	struct strbuf s = STRBUF_INIT;
	size_t off = 0, piece = 1;

	(void)worker;
	for (int k = 0; k < 50; k++) {
		char line[32];
		int n = snprintf(line, sizeof line, "%zu:%d\n", j->id, k);

		strbuf_add(&s, line, (size_t)n);
	}
	while (off < s.len) {
		size_t n = s.len - off < piece ? s.len - off : piece;

		output_data(sh->o, &j->jo, 1 + (int)(j->id % 2),
			    s.buf + off, n);
		off += n;
		piece = piece % 7 + 1;
	}
	strbuf_release(&s);
	threadpool_complete(sh->tp, w);
}

static void concurrent(size_t mem_limit, int linebuffer)
{
	const size_t n = 64;
	int fo = temp_fd(), fe = temp_fd();
	struct cshared sh;
	struct cjob *jobs = calloc(n, sizeof *jobs);
	struct strbuf got = STRBUF_INIT, gote = STRBUF_INIT;
	size_t done = 0, lines = 0;

	ASSERT_NOT_NULL(jobs);
	sh.o = new_output(fo, fe, mem_limit, linebuffer);
	ASSERT_OK(threadpool_new(&sh.tp, 4, &sh));
	for (size_t i = 0; i < n; i++) {
		jobs[i].id = i;
		jobs[i].w.work = cwork;
		joboutput_init(&jobs[i].jo);
		threadpool_post(sh.tp, &jobs[i].w);
	}
	while (done < n) {
		struct pollfd pfd = { .fd = threadpool_fd(sh.tp), .events = POLLIN };
		struct tp_work *l;

		ASSERT_EQ(poll(&pfd, 1, 20000), 1);
		for (l = threadpool_collect(sh.tp); l; l = l->next) {
			struct cjob *j = container_of(l, struct cjob, w);

			ASSERT_OK(output_emit(sh.o, &j->jo));
			done++;
		}
	}
	ASSERT_OK(output_flush(sh.o));
	threadpool_free(sh.tp);
	ASSERT_EQ(output_mem_used(sh.o), 0);
	if (mem_limit && !linebuffer)
		ASSERT_GT(output_spilled(sh.o), 0);
	contents(fo, &got);
	contents(fe, &gote);
	/* Every line of every job arrived whole, once. */
	strbuf_add(&got, gote.buf, gote.len);
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 50; k++) {
			char line[32];
			const char *p = got.buf;
			int count = 0;

			snprintf(line, sizeof line, "%zu:%d\n", i, k);
			while ((p = strstr(p, line)) != NULL) {
				if (p == got.buf || p[-1] == '\n')
					count++;
				p++;
			}
			if (count != 1)
				FAIL("line %zu:%d seen %d times", i, k, count);
			lines++;
		}
	ASSERT_EQ(lines, n * 50);
	output_free(sh.o);
	strbuf_release(&got);
	strbuf_release(&gote);
	free(jobs);
	close(fo);
	close(fe);
}

TEST_IMPL(output_concurrent_spill)
{
	concurrent(64, 0);
	return 0;
}

TEST_IMPL(output_concurrent_linebuffer)
{
	concurrent(0, 1);
	return 0;
}

/*
 * In order, as run.c does it: the due job goes live while its worker
 * writes (stdout, stderr and marks); the others are held and spilled.
 * Each stream must come out as the jobs' outputs one after the other.
 */
struct ojob {
	struct tp_work w;
	struct joboutput jo;
	size_t id;
	int done;
};

static void ojob_lines(size_t id, int stream, struct strbuf *sb)
{
	for (int k = 0; k < 40; k++)
		strbuf_addf(sb, "%zu:%d:%d\n", id, stream, k);
}

static void owork(struct tp_work *w, unsigned worker, void *arg)
{
	struct cshared *sh = arg;
	struct ojob *j = container_of(w, struct ojob, w);
	struct strbuf s[2] = { STRBUF_INIT, STRBUF_INIT };
	size_t off[2] = { 0, 0 }, piece = 1;

	(void)worker;
	ojob_lines(j->id, 1, &s[0]);
	ojob_lines(j->id, 2, &s[1]);
	while (off[0] < s[0].len || off[1] < s[1].len) {
		for (int i = 0; i < 2; i++) {
			size_t n = s[i].len - off[i] < piece ?
			    s[i].len - off[i] : piece;
			output_data(sh->o, &j->jo, i + 1, s[i].buf + off[i], n);
			off[i] += n;
		}
		piece = piece % 9 + 1;
	}
	output_mark(sh->o, &j->jo);
	output_end(sh->o, &j->jo);
	strbuf_release(&s[0]);
	strbuf_release(&s[1]);
	threadpool_complete(sh->tp, w);
}

static void concurrent_ordered(size_t mem_limit, int linebuffer)
{
	const size_t n = 48;
	int fo = temp_fd(), fe = temp_fd();
	struct cshared sh;
	struct ojob *jobs = calloc(n, sizeof *jobs);
	struct strbuf got = STRBUF_INIT, want = STRBUF_INIT;
	size_t next = 0;

	ASSERT_NOT_NULL(jobs);
	sh.o = linebuffer ? new_ordered(fo, fe, mem_limit) :
	    new_output(fo, fe, mem_limit, 0);
	ASSERT_OK(threadpool_new(&sh.tp, 4, &sh));
	for (size_t i = 0; i < n; i++) {
		jobs[i].id = i;
		jobs[i].w.work = owork;
		joboutput_init(&jobs[i].jo);
	}
	output_go_live(sh.o, &jobs[0].jo);
	for (size_t i = 0; i < n; i++)
		threadpool_post(sh.tp, &jobs[i].w);
	while (next < n) {
		struct pollfd pfd = { .fd = threadpool_fd(sh.tp), .events = POLLIN };
		struct tp_work *l;

		ASSERT_EQ(poll(&pfd, 1, 20000), 1);
		for (l = threadpool_collect(sh.tp); l; l = l->next)
			container_of(l, struct ojob, w)->done = 1;
		while (next < n && jobs[next].done) {
			ASSERT_OK(output_emit(sh.o, &jobs[next].jo));
			joboutput_release(sh.o, &jobs[next].jo);
			if (++next < n)
				output_go_live(sh.o, &jobs[next].jo);
		}
	}
	ASSERT_OK(output_flush(sh.o));
	threadpool_free(sh.tp);
	ASSERT_EQ(output_mem_used(sh.o), 0);
	for (int i = 0; i < 2; i++) {
		strbuf_reset(&want);
		for (size_t k = 0; k < n; k++)
			ojob_lines(k, i + 1, &want);
		contents(i ? fe : fo, &got);
		ASSERT_MEM_EQ(got.buf, got.len, want.buf, want.len);
	}
	output_free(sh.o);
	strbuf_release(&got);
	strbuf_release(&want);
	free(jobs);
	close(fo);
	close(fe);
}

TEST_IMPL(output_concurrent_ordered)
{
	concurrent_ordered(0, 0);
	concurrent_ordered(256, 0);
	concurrent_ordered(0, 1);
	concurrent_ordered(256, 1);
	return 0;
}

/*
 * A held job's output folded into a block comes out exactly as the job
 * would have written it, tags included, and its bytes leave mem_used then;
 * spilled output cannot be folded.
 */
TEST_IMPL(output_hold_block)
{
	int fo = temp_fd(), fe = temp_fd();
	struct output *o = new_output(fo, fe, 0, 0);
	struct joboutput jo;
	struct strbuf got = STRBUF_INIT;
	struct held *h;

	joboutput_init(&jo);
	jo.tag = "T";
	jo.taglen = 1;
	data(o, &jo, 1, "a\nb");
	data(o, &jo, 1, "c\n");
	data(o, &jo, 2, "e\n");
	ASSERT_EQ(output_mem_used(o), 7);
	h = output_hold(o, &jo);
	ASSERT_NOT_NULL(h);
	ASSERT_EQ(jo.s[0].mem.len, 0);
	ASSERT_EQ(output_mem_used(o), 7);
	ASSERT_OK(output_emit_held(o, h));
	ASSERT_OK(output_flush(o));
	ASSERT_EQ(output_mem_used(o), 0);
	contents(fo, &got);
	ASSERT_STR_EQ(got.buf, "T\ta\nT\tbc\n");
	contents(fe, &got);
	ASSERT_STR_EQ(got.buf, "T\te\n");
	output_free(o);

	/* Past a tiny memory bound the output spills: no block then. */
	o = new_output(fo, fe, 4, 0);
	joboutput_init(&jo);
	data(o, &jo, 1, "more than four bytes");
	ASSERT_GT(output_spilled(o), 0);
	ASSERT_NULL(output_hold(o, &jo));
	ASSERT_OK(output_emit(o, &jo));
	output_free(o);

	strbuf_release(&got);
	close(fo);
	close(fe);
	return 0;
}
