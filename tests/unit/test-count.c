/*
 * Unit tests for src/spool.[ch] and the counting ahead of src/input.c
 * (input_tuples, input_count_ahead): what --bar and --eta know of the
 * number of jobs before the input has been read.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ccmap.h"
#include "input.h"
#include "spool.h"
#include "strbuf.h"
#include "task.h"

/* The engine takes char * arrays; string literals are fine here. */
#pragma GCC diagnostic ignored "-Wdiscarded-qualifiers"

/* A private directory for temporary files. */
static void make_dir(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/ccmap-test-count.XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(dir));
}

/* How many entries dir holds. */
static int dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ASSERT_NOT_NULL(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* n lines "line K of the input" (K from 1), in out. */
static void make_lines(struct strbuf *out, size_t n)
{
	for (size_t k = 1; k <= n; k++)
		strbuf_addf(out, "line %zu of the input\n", k);
}

/*
 * A pipe whose write end a forked writer fills with data, all of it, then
 * closes.  Returns the read end; *pid is the writer.
 */
static int writer_pipe(const char *data, size_t len, pid_t *pid)
{
	int p[2];

	ASSERT_OK(pipe2(p, O_CLOEXEC));
	*pid = fork();
	ASSERT_GE(*pid, 0);
	if (*pid == 0) {
		close(p[0]);
		while (len) {
			ssize_t w = write(p[1], data, len);

			if (w < 0)
				_exit(1);
			data += w;
			len -= (size_t)w;
		}
		_exit(0);
	}
	close(p[1]);
	return p[0];
}

static void reap(pid_t pid)
{
	int status;

	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A file holding data; its path in path. */
static void write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* Every tuple's values joined by " ", each tuple ended by "\n". */
static size_t all_tuples(struct input *in, struct strbuf *out)
{
	struct tuple t;
	size_t n = 0;
	int r;

	while ((r = input_next(in, &t)) != INPUT_EOF) {
		if (r == INPUT_AGAIN) {
			struct pollfd pfd = { .fd = input_fd(in), .events = POLLIN };

			ASSERT_GE(pfd.fd, 0);
			ASSERT_EQ(poll(&pfd, 1, 30000), 1);
			ASSERT_GE(input_fill(in), 0);
			continue;
		}
		ASSERT_EQ(r, INPUT_TUPLE);
		for (size_t i = 0; i < t.n; i++) {
			if (i)
				strbuf_addch(out, ' ');
			strbuf_add(out, t.v[i].p, t.v[i].len);
		}
		strbuf_addch(out, '\n');
		n++;
	}
	return n;
}

/* The number of tuples, which must be known. */
static unsigned long long tuples(const struct input *in)
{
	unsigned long long n = 12345;

	ASSERT_EQ(input_tuples(in, &n), 1);
	return n;
}

/* Count a regular file to its end, as the run's loop does. */
static void count_file(struct input *in)
{
	int steps = 0;

	while (input_count_pending(in)) {
		input_count_step(in);
		ASSERT_LT(++steps, 100000);
	}
}

/* Read a pipe ahead to its end, as the run's loop does (no tuple taken). */
static void count_pipe(struct input *in)
{
	while (input_reads_ahead(in)) {
		struct pollfd pfd = { .fd = input_fd(in), .events = POLLIN };

		ASSERT_GE(pfd.fd, 0);
		ASSERT_EQ(poll(&pfd, 1, 30000), 1);
		ASSERT_GE(input_fill(in), 0);
	}
}

/* ---- spool ---------------------------------------------------------------- */

TEST_IMPL(spool_memory_bound_and_order)
{
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT;
	char dir[64], buf[1000];
	struct spool *s;
	size_t put = 0;

	make_dir(dir, sizeof dir);
	s = spool_new(4096, dir);
	for (int i = 0; i < 20000; i++)
		strbuf_addf(&in, "%05d,", i);
	/* Bytes in pieces of 1 to 997, some taken now and then. */
	for (size_t piece = 1; put < in.len; piece = piece * 7 % 997 + 1) {
		size_t n = in.len - put < piece ? in.len - put : piece;
		ASSERT_OK(spool_put(s, in.buf + put, n));
		put += n;
		ASSERT_LE(spool_mem(s), 4096);
		ASSERT_EQ(spool_len(s), put - out.len);
		if (piece % 3 == 0) {
			long got = spool_get(s, buf, piece);
			ASSERT_GT(got, 0);
			strbuf_add(&out, buf, (size_t)got);
		}
	}
	/* It spilled past the bound, into a file never linked. */
	ASSERT_GT(spool_len(s) - spool_mem(s), 0);
	ASSERT_EQ(dir_entries(dir), 0);
	for (long got; (got = spool_get(s, buf, sizeof buf)) != 0; ) {
		ASSERT_GT(got, 0);
		strbuf_add(&out, buf, (size_t)got);
	}
	ASSERT_EQ(spool_len(s), 0);
	ASSERT_MEM_EQ(out.buf, out.len, in.buf, in.len);
	/* Emptied, it takes bytes again, in memory first. */
	ASSERT_OK(spool_put(s, "again", 5));
	ASSERT_EQ(spool_mem(s), 5);
	ASSERT_EQ(spool_get(s, buf, sizeof buf), 5);
	ASSERT_MEM_EQ(buf, 5, "again", 5);
	spool_free(s);
	ASSERT_OK(rmdir(dir));
	strbuf_release(&in);
	strbuf_release(&out);
	return 0;
}

TEST_IMPL(spool_no_file_keeps_the_bytes)
{
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT;
	struct spool *s = spool_new(100, "/nonexistent/ccmap-test");
	char buf[64];

	make_lines(&in, 40);
	/* Past the bound the file cannot be made: said, nothing lost. */
	ASSERT_OK(spool_put(s, in.buf, 60));
	ASSERT_EQ(spool_put(s, in.buf + 60, 200), -ENOENT);
	ASSERT_OK(spool_put(s, in.buf + 260, in.len - 260));
	ASSERT_EQ(spool_len(s), in.len);
	for (long got; (got = spool_get(s, buf, sizeof buf)) != 0; ) {
		ASSERT_GT(got, 0);
		strbuf_add(&out, buf, (size_t)got);
	}
	ASSERT_MEM_EQ(out.buf, out.len, in.buf, in.len);
	spool_free(s);
	strbuf_release(&in);
	strbuf_release(&out);
	return 0;
}

/* ---- the number of tuples ------------------------------------------------- */

TEST_IMPL(count_args_known_at_once)
{
	char *a[] = { "a", "b" }, *b[] = { "1", "2", "3" }, *e[] = { "x" };
	struct ccmap_source src[3] = {
		{ .args = a, .nargs = 2 }, { .args = b, .nargs = 3 },
		{ .args = e, .nargs = 0 },
	};
	struct ccmap_opts o;
	struct input *in = NULL;
	char err[256] = "";

	ccmap_opts_init(&o);
	o.sources = src;
	o.nsources = 2;
	/* ::: a b ::: 1 2 3: the product, before any is read. */
	ASSERT_OK(input_open(&in, &o, err, sizeof err));
	ASSERT_EQ(tuples(in), 6);
	input_close(in);
	/* --link: the longest, as GNU parallel. */
	o.link = 1;
	ASSERT_OK(input_open(&in, &o, err, sizeof err));
	ASSERT_EQ(tuples(in), 3);
	input_close(in);
	/* :::+ (linked to the one before): the shortest. */
	o.link = 0;
	src[1].linked = 1;
	ASSERT_OK(input_open(&in, &o, err, sizeof err));
	ASSERT_EQ(tuples(in), 2);
	input_close(in);
	src[1].linked = 0;
	/* --header: the first of each is not an item. */
	o.header = ":";
	ASSERT_OK(input_open(&in, &o, err, sizeof err));
	ASSERT_EQ(tuples(in), 2);
	input_close(in);
	o.header = NULL;
	/* -E: what comes from it on is not read. */
	o.eof_str = "2";
	ASSERT_OK(input_open(&in, &o, err, sizeof err));
	ASSERT_EQ(tuples(in), 2);
	input_close(in);
	o.eof_str = NULL;
	/* An empty source: nothing at all. */
	o.nsources = 3;
	ASSERT_OK(input_open(&in, &o, err, sizeof err));
	ASSERT_EQ(tuples(in), 0);
	input_close(in);
	return 0;
}

TEST_IMPL(count_regular_file)
{
	char dir[64], path[96], *b[] = { "1", "2", "3" };
	struct ccmap_source src[2] = {
		{ .path = path }, { .args = b, .nargs = 3 },
	};
	struct strbuf data = STRBUF_INIT, got = STRBUF_INIT, want = STRBUF_INIT;
	struct ccmap_opts o;
	struct input *in = NULL;
	char err[256] = "";
	unsigned long long n;

	make_dir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/items", dir);
	/* Past what one step counts (16 reads of 64 KiB), no end delimiter. */
	make_lines(&data, 100000);
	strbuf_addstr(&data, "last, no newline");
	write_file(path, data.buf, data.len);
	ccmap_opts_init(&o);
	o.sources = src;
	o.nsources = 1;

	ASSERT_OK(input_open(&in, &o, err, sizeof err));
	/* Streamed: not known, until counted. */
	ASSERT_EQ(input_tuples(in, &n), 0);
	input_count_ahead(in, 0, dir);
	ASSERT_EQ(input_reads_ahead(in), 0);	/* pread, not read ahead */
	ASSERT_EQ(input_count_pending(in), 1);
	input_count_step(in);
	ASSERT_EQ(input_tuples(in, &n), 0);	/* one step is not all */
	count_file(in);
	ASSERT_EQ(tuples(in), 100001);
	/* The reading is as it was: every record, in order. */
	ASSERT_EQ(all_tuples(in, &got), 100001);
	strbuf_addch(&data, '\n');
	ASSERT_MEM_EQ(got.buf, got.len, data.buf, data.len);
	input_close(in);
	ASSERT_EQ(dir_entries(dir), 1);		/* no temporary file */

	/* -r, -E, --header, a second source: applied as the reading does. */
	write_file(path, "h\na\n \nb\nSTOP\nc\n", 15);
	o.nsources = 2;
	o.skip_blank = 1;
	o.eof_str = "STOP";
	o.header = ":";
	ASSERT_OK(input_open(&in, &o, err, sizeof err));
	input_count_ahead(in, 0, dir);
	count_file(in);
	ASSERT_EQ(tuples(in), 2 * 2);	/* (the header of ::: 1 2 3 is 1) */
	strbuf_reset(&got);
	ASSERT_EQ(all_tuples(in, &got), 4);
	ASSERT_STR_EQ(got.buf, "a 2\na 3\nb 2\nb 3\n");
	input_close(in);

	/* --recsep: records end at the regex's matches. */
	write_file(path, "a--b---c-d", 10);
	o.nsources = 1;
	o.skip_blank = 0;
	o.eof_str = NULL;
	o.header = NULL;
	o.recsep = "-{2,}";
	ASSERT_OK(input_open(&in, &o, err, sizeof err));
	input_count_ahead(in, 0, dir);
	count_file(in);
	ASSERT_EQ(tuples(in), 3);
	strbuf_reset(&got);
	ASSERT_EQ(all_tuples(in, &got), 3);
	ASSERT_STR_EQ(got.buf, "a\nb\nc-d\n");
	input_close(in);

	/* Standard input already partly read: counted from where it is. */
	o.recsep = NULL;
	src[0].path = "-";
	write_file(path, "skipped\nx\ny\n", 12);
	{
		int saved = dup(0), fd = open(path, O_RDONLY);
		char line[8];

		ASSERT_GE(fd, 0);
		ASSERT_EQ(read(fd, line, 8), 8);
		ASSERT_EQ(dup2(fd, 0), 0);
		close(fd);
		ASSERT_OK(input_open(&in, &o, err, sizeof err));
		input_count_ahead(in, 0, dir);
		count_file(in);
		ASSERT_EQ(tuples(in), 2);
		strbuf_reset(&got);
		ASSERT_EQ(all_tuples(in, &got), 2);
		ASSERT_STR_EQ(got.buf, "x\ny\n");
		input_close(in);
		ASSERT_EQ(dup2(saved, 0), 0);
		close(saved);
	}

	unlink(path);
	ASSERT_OK(rmdir(dir));
	strbuf_release(&data);
	strbuf_release(&got);
	strbuf_release(&want);
	return 0;
}

/*
 * A pipe read ahead through a spool of 64 KiB: the number is known when
 * the pipe has ended, before any tuple is taken; the temporary file is
 * never linked in the directory; then the tuples come out whole, in order.
 */
TEST_IMPL(count_pipe_read_ahead)
{
	char dir[64], *b[] = { "h", "1", "2" };
	struct ccmap_source src[2] = {
		{ .path = "-" }, { .args = b, .nargs = 3 },
	};
	struct strbuf data = STRBUF_INIT, got = STRBUF_INIT, want = STRBUF_INIT;
	struct ccmap_opts o;
	struct input *in = NULL;
	char err[256] = "";
	int saved = dup(0);
	pid_t pid;

	make_dir(dir, sizeof dir);
	make_lines(&data, 50000);	/* about 1.2 MB */
	ccmap_opts_init(&o);
	o.sources = src;
	o.nsources = 1;

	ASSERT_EQ(dup2(writer_pipe(data.buf, data.len, &pid), 0), 0);
	ASSERT_OK(input_open(&in, &o, err, sizeof err));
	input_count_ahead(in, 65536, dir);
	ASSERT_EQ(input_reads_ahead(in), 1);
	ASSERT_EQ(input_count_pending(in), 0);	/* the loop's poll drives it */
	count_pipe(in);
	reap(pid);			/* the writer is done: all was read */
	ASSERT_EQ(tuples(in), 50000);
	ASSERT_EQ(dir_entries(dir), 0);
	ASSERT_EQ(input_fd(in), -1);	/* nothing more to read from it */
	ASSERT_EQ(all_tuples(in, &got), 50000);
	ASSERT_MEM_EQ(got.buf, got.len, data.buf, data.len);
	input_close(in);

	/* Taken as blocks (a plugin's batches), the same bytes. */
	ASSERT_EQ(dup2(writer_pipe(data.buf, data.len, &pid), 0), 0);
	ASSERT_OK(input_open(&in, &o, err, sizeof err));
	input_count_ahead(in, 65536, dir);
	count_pipe(in);
	reap(pid);
	ASSERT_EQ(tuples(in), 50000);
	strbuf_reset(&got);
	for (;;) {
		struct strbuf blk = STRBUF_INIT;
		size_t count = 0;
		int r = input_take_block(in, 65536, 1000, &blk, &count);

		if (r == INPUT_EOF)
			break;
		ASSERT_EQ(r, INPUT_TUPLE);	/* never waits: all is there */
		ASSERT_LE(count, 1000);
		strbuf_add(&got, blk.buf, blk.len);
		input_recycle(in, &blk);
		strbuf_release(&blk);
	}
	ASSERT_MEM_EQ(got.buf, got.len, data.buf, data.len);
	input_close(in);

	/* With --header, and a second source: the rest, times two. */
	o.header = ":";
	o.nsources = 2;
	ASSERT_EQ(dup2(writer_pipe(data.buf, data.len, &pid), 0), 0);
	ASSERT_OK(input_open(&in, &o, err, sizeof err));
	input_count_ahead(in, 65536, dir);
	count_pipe(in);
	reap(pid);
	ASSERT_EQ(tuples(in), 2 * 49999);
	input_close(in);

	ASSERT_EQ(dup2(saved, 0), 0);
	close(saved);
	ASSERT_OK(rmdir(dir));
	strbuf_release(&data);
	strbuf_release(&got);
	strbuf_release(&want);
	return 0;
}

/*
 * The temporary file cannot be made: the counting gives up (the number is
 * known only at the end), and the reading loses nothing.
 */
TEST_IMPL(count_pipe_without_temp_file)
{
	struct ccmap_source src[1] = { { .path = "-" } };
	struct strbuf data = STRBUF_INIT, got = STRBUF_INIT;
	struct ccmap_opts o;
	struct input *in = NULL;
	char err[256] = "";
	unsigned long long n;
	int saved = dup(0);
	pid_t pid;

	make_lines(&data, 50000);
	ccmap_opts_init(&o);
	o.sources = src;
	o.nsources = 1;
	ASSERT_EQ(dup2(writer_pipe(data.buf, data.len, &pid), 0), 0);
	ASSERT_OK(input_open(&in, &o, err, sizeof err));
	input_count_ahead(in, 4096, "/nonexistent/ccmap-test");
	count_pipe(in);
	ASSERT_EQ(input_tuples(in, &n), 0);
	ASSERT_EQ(all_tuples(in, &got), 50000);
	ASSERT_MEM_EQ(got.buf, got.len, data.buf, data.len);
	reap(pid);
	input_close(in);
	ASSERT_EQ(dup2(saved, 0), 0);
	close(saved);
	strbuf_release(&data);
	strbuf_release(&got);
	return 0;
}

/*
 * Blocks of a few records taken from a pipe read ahead whole: the read
 * buffer takes from the spool what its room holds, and does not grow to
 * hold the spool (a block with no least size, --chunksize, asks for all).
 */
TEST_IMPL(count_take_block_bounded)
{
	struct ccmap_source src[1] = { { .path = "-" } };
	struct strbuf data = STRBUF_INIT, got = STRBUF_INIT;
	struct ccmap_opts o;
	struct input *in = NULL;
	char dir[64], err[256] = "";
	int saved = dup(0);
	pid_t pid;

	make_dir(dir, sizeof dir);
	make_lines(&data, 700000);	/* about 16 MB */
	ccmap_opts_init(&o);
	o.sources = src;
	o.nsources = 1;
	ASSERT_EQ(dup2(writer_pipe(data.buf, data.len, &pid), 0), 0);
	ASSERT_OK(input_open(&in, &o, err, sizeof err));
	input_count_ahead(in, 65536, dir);
	count_pipe(in);
	reap(pid);
	for (;;) {
		struct strbuf blk = STRBUF_INIT;
		size_t count = 0;
		int r = input_take_block(in, (size_t)-1, 10, &blk, &count);

		if (r == INPUT_EOF)
			break;
		ASSERT_EQ(r, INPUT_TUPLE);
		strbuf_add(&got, blk.buf, blk.len);
		input_recycle(in, &blk);
		strbuf_release(&blk);
		ASSERT_LE(input_buffer_size(in), 256 * 1024);
	}
	ASSERT_MEM_EQ(got.buf, got.len, data.buf, data.len);
	input_close(in);
	ASSERT_EQ(dup2(saved, 0), 0);
	close(saved);
	ASSERT_OK(rmdir(dir));
	strbuf_release(&data);
	strbuf_release(&got);
	return 0;
}
