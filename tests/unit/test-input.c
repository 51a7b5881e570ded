/* Unit tests for src/input.[ch]: the record reader and the sources. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ccmap.h"
#include "input.h"
#include "reader.h"
#include "strbuf.h"
#include "task.h"

/* The engine takes char * arrays; string literals are fine here. */
#pragma GCC diagnostic ignored "-Wdiscarded-qualifiers"

/*
 * A pipe whose write end is fed by a forked writer, piece bytes at a time
 * (0: all at once).  Returns the read end; *pid is the writer.
 */
static int feed_pipe(const char *data, size_t len, size_t piece, pid_t *pid)
{
	int p[2];

	ASSERT_OK(pipe2(p, O_CLOEXEC));
	*pid = fork();
	ASSERT_GE(*pid, 0);
	if (*pid == 0) {
		size_t off = 0;

		close(p[0]);
		if (!piece)
			piece = len;
		while (off < len) {
			size_t n = len - off < piece ? len - off : piece;
			ssize_t w = write(p[1], data + off, n);

			if (w < 0)
				_exit(1);
			off += (size_t)w;
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

/* A temporary file holding data, unlinked; its descriptor at offset 0. */
static int temp_file(const char *data, size_t len, char *path, size_t plen)
{
	char tmpl[] = "/tmp/ccmap-test-input.XXXXXX";
	int fd = mkstemp(tmpl);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(write(fd, data, len), (ssize_t)len);
	ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
	if (path)
		snprintf(path, plen, "%s", tmpl);
	else
		unlink(tmpl);
	return fd;
}

/*
 * Read every record of fd: each is appended to out as "[bytes]"; returns
 * how many, and in *fills how many reads returned data.
 */
static size_t read_records(int fd, int delim, struct strbuf *out,
			   size_t *fills)
{
	struct reader r;
	struct value v;
	size_t n = 0, nf = 0;

	reader_init(&r, fd, 1, delim);
	for (;;) {
		long got;

		while (reader_next(&r, &v)) {
			strbuf_addch(out, '[');
			strbuf_add(out, v.p, v.len);
			strbuf_addch(out, ']');
			n++;
		}
		if (r.eof)
			break;
		got = reader_fill(&r);
		ASSERT_GE(got, 0);
		if (got > 0)
			nf++;
	}
	/* At the end, nothing more comes out. */
	ASSERT_EQ(reader_next(&r, &v), 0);
	ASSERT_EQ(reader_fill(&r), 0);
	reader_release(&r);
	if (fills)
		*fills = nf;
	return n;
}

/*
 * Read data through a pipe of which the test holds both ends: write one
 * piece (piece bytes, the pipe has room for it), read once (the read gets
 * that piece whole, as nothing else is in the pipe), and take the records
 * that came out; then the next piece; at the end, close the write end.
 * Each record is appended to out as "[bytes]", and each read as "|", so
 * out shows which piece let each record out.
 */
static void piece_records(const char *data, size_t len, size_t piece,
			  int delim, struct strbuf *out)
{
	struct reader r;
	struct value v;
	size_t off = 0;
	int p[2];

	ASSERT_OK(pipe2(p, O_CLOEXEC));
	reader_init(&r, p[0], 1, delim);
	for (;;) {
		size_t n = len - off < piece ? len - off : piece;

		if (n > 0)
			ASSERT_EQ(write(p[1], data + off, n), (ssize_t)n);
		else if (p[1] >= 0) {
			close(p[1]);
			p[1] = -1;
		}
		off += n;
		ASSERT_EQ(reader_fill(&r), (long)n);
		strbuf_addch(out, '|');
		while (reader_next(&r, &v)) {
			strbuf_addch(out, '[');
			strbuf_add(out, v.p, v.len);
			strbuf_addch(out, ']');
		}
		if (n == 0)
			break;
	}
	ASSERT(r.eof);
	ASSERT_EQ(reader_next(&r, &v), 0);
	ASSERT_EQ(reader_fill(&r), 0);
	reader_release(&r);
}

/* The records of data, read from a temp file. */
static size_t file_records(const char *data, size_t len, int delim,
			   struct strbuf *out)
{
	return read_records(temp_file(data, len, NULL, 0), delim, out, NULL);
}

TEST_IMPL(input_reader_newline)
{
	struct strbuf out = STRBUF_INIT;

	ASSERT_EQ(file_records("a\nbb\nccc\n", 9, '\n', &out), 3);
	ASSERT_STR_EQ(out.buf, "[a][bb][ccc]");
	strbuf_release(&out);
	return 0;
}

TEST_IMPL(input_reader_nul_delim)
{
	struct strbuf out = STRBUF_INIT;

	/* With NUL as the delimiter, newlines are part of the records. */
	ASSERT_EQ(file_records("a b\0c\nd\0", 8, '\0', &out), 2);
	ASSERT_MEM_EQ(out.buf, out.len, "[a b][c\nd]", 10);
	strbuf_release(&out);
	return 0;
}

TEST_IMPL(input_reader_custom_delim)
{
	struct strbuf out = STRBUF_INIT;

	ASSERT_EQ(file_records("x,y\n,,z", 7, ',', &out), 4);
	ASSERT_STR_EQ(out.buf, "[x][y\n][][z]");
	strbuf_release(&out);
	return 0;
}

TEST_IMPL(input_reader_last_without_delim)
{
	struct strbuf out = STRBUF_INIT;

	ASSERT_EQ(file_records("one\ntwo", 7, '\n', &out), 2);
	ASSERT_STR_EQ(out.buf, "[one][two]");
	strbuf_reset(&out);
	ASSERT_EQ(file_records("solo", 4, '\n', &out), 1);
	ASSERT_STR_EQ(out.buf, "[solo]");
	strbuf_release(&out);
	return 0;
}

TEST_IMPL(input_reader_empty_records)
{
	struct strbuf out = STRBUF_INIT;

	ASSERT_EQ(file_records("a\n\nb\n", 5, '\n', &out), 3);
	ASSERT_STR_EQ(out.buf, "[a][][b]");
	strbuf_reset(&out);
	ASSERT_EQ(file_records("\n\n", 2, '\n', &out), 2);
	ASSERT_STR_EQ(out.buf, "[][]");
	strbuf_release(&out);
	return 0;
}

TEST_IMPL(input_reader_empty_input)
{
	struct strbuf out = STRBUF_INIT;
	pid_t pid;

	ASSERT_EQ(file_records("", 0, '\n', &out), 0);
	ASSERT_EQ(out.len, 0);
	/* The same through a pipe. */
	ASSERT_EQ(read_records(feed_pipe("", 0, 0, &pid), '\n', &out, NULL),
		  0);
	reap(pid);
	ASSERT_EQ(out.len, 0);
	strbuf_release(&out);
	return 0;
}

TEST_IMPL(input_reader_single_newline)
{
	struct strbuf out = STRBUF_INIT;

	ASSERT_EQ(file_records("\n", 1, '\n', &out), 1);
	ASSERT_STR_EQ(out.buf, "[]");
	strbuf_release(&out);
	return 0;
}

TEST_IMPL(input_reader_pieces_through_pipe)
{
	static const char data[] = "alpha\nbeta\n\ngamma-delta\nepsilon";
	struct strbuf out = STRBUF_INIT;

	/*
	 * Three bytes a read: a record comes out with the read that brings
	 * its delimiter, the last one with the end of the input.
	 */
	piece_records(data, sizeof data - 1, 3, '\n', &out);
	ASSERT_STR_EQ(out.buf,
	    /* alp ha\n bet a\n\n gam ma- del ta\n eps ilo n (end) */
	    "||[alpha]||[beta][]||||[gamma-delta]||||[epsilon]");
	strbuf_release(&out);
	return 0;
}

TEST_IMPL(input_reader_one_byte_pieces)
{
	static const char data[] = "a\0bc\0\0def\0";
	struct strbuf out = STRBUF_INIT;

	piece_records(data, sizeof data - 1, 1, '\0', &out);
	ASSERT_MEM_EQ(out.buf, out.len,
	    "||[a]|||[bc]|[]||||[def]|", 25);
	strbuf_release(&out);
	return 0;
}

TEST_IMPL(input_reader_long_record)
{
	size_t big = 1 << 20, i, len = big + 1 + 3 + big / 2;
	char *data = malloc(len);
	struct reader r;
	struct value v;
	size_t fills = 0;
	pid_t pid;
	int fd, k = 0;

	ASSERT_NOT_NULL(data);
	for (i = 0; i < big; i++)
		data[i] = (char)('a' + i % 23);
	data[big] = '\n';
	memcpy(data + big + 1, "xy\n", 3);
	for (i = big + 4; i < len; i++)
		data[i] = (char)('A' + i % 19);	/* no delimiter at the end */

	fd = feed_pipe(data, len, 4096, &pid);
	reader_init(&r, fd, 1, '\n');
	for (;;) {
		long got;

		while (reader_next(&r, &v)) {
			if (k == 0)
				ASSERT_MEM_EQ(v.p, v.len, data, big);
			else if (k == 1)
				ASSERT_MEM_EQ(v.p, v.len, "xy", 2);
			else if (k == 2)
				ASSERT_MEM_EQ(v.p, v.len, data + big + 4,
					      len - big - 4);
			k++;
		}
		if (r.eof)
			break;
		got = reader_fill(&r);
		ASSERT_GE(got, 0);
		fills += got > 0;
	}
	ASSERT_EQ(k, 3);
	ASSERT_GT(fills, 2);
	reader_release(&r);
	reap(pid);
	free(data);
	return 0;
}

TEST_IMPL(input_reader_release_closes)
{
	struct reader r;
	int fd = temp_file("x\n", 2, NULL, 0);
	int fd2 = temp_file("y\n", 2, NULL, 0);

	reader_init(&r, fd, 1, '\n');
	reader_release(&r);
	ASSERT_EQ(fcntl(fd, F_GETFD), -1);	/* closed by release */
	reader_init(&r, fd2, 0, '\n');
	ASSERT_GT(reader_fill(&r), 0);
	reader_release(&r);
	ASSERT_NE(fcntl(fd2, F_GETFD), -1);	/* not ours to close */
	close(fd2);
	return 0;
}

/* ---- input_open / input_next --------------------------------------------- */

/* Every tuple as "v1 v2 ...", joined by ",". */
static size_t all_tuples(struct input *in, struct strbuf *out)
{
	struct tuple t;
	size_t n = 0;
	int r;

	while ((r = input_next(in, &t)) != INPUT_EOF) {
		if (r == INPUT_AGAIN) {
			struct pollfd pfd = { .fd = input_fd(in), .events = POLLIN };

			ASSERT_GE(pfd.fd, 0);
			ASSERT_EQ(poll(&pfd, 1, 10000), 1);
			ASSERT_GE(input_fill(in), 0);
			continue;
		}
		ASSERT_EQ(r, INPUT_TUPLE);
		ASSERT_EQ(t.n, input_nsources(in));
		if (n)
			strbuf_addch(out, ',');
		for (size_t i = 0; i < t.n; i++) {
			if (i)
				strbuf_addch(out, ' ');
			strbuf_add(out, t.v[i].p, t.v[i].len);
		}
		n++;
	}
	/* EOF sticks. */
	ASSERT_EQ(input_next(in, &t), INPUT_EOF);
	return n;
}

TEST_IMPL(input_args_product)
{
	char *a[] = { "a", "b" }, *b[] = { "1", "2", "3" };
	struct ccmap_source src[2] = {
		{ .args = a, .nargs = 2 }, { .args = b, .nargs = 3 },
	};
	struct strbuf out = STRBUF_INIT;
	struct ccmap_opts o;
	struct input *in = NULL;
	char err[256] = "";

	ccmap_opts_init(&o);
	o.sources = src;
	o.nsources = 2;
	ASSERT_OK(input_open(&in, &o, err, sizeof err));
	ASSERT_EQ(input_nsources(in), 2);
	ASSERT_EQ(all_tuples(in, &out), 6);
	/* GNU parallel's order: the first source varies slowest. */
	ASSERT_STR_EQ(out.buf, "a 1,a 2,a 3,b 1,b 2,b 3");
	input_close(in);
	strbuf_release(&out);
	return 0;
}

TEST_IMPL(input_args_product_three)
{
	char *a[] = { "a", "b" }, *b[] = { "1" }, *c[] = { "x", "y" };
	struct ccmap_source src[3] = {
		{ .args = a, .nargs = 2 }, { .args = b, .nargs = 1 },
		{ .args = c, .nargs = 2 },
	};
	struct strbuf out = STRBUF_INIT;
	struct ccmap_opts o;
	struct input *in = NULL;
	char err[256] = "";

	ccmap_opts_init(&o);
	o.sources = src;
	o.nsources = 3;
	ASSERT_OK(input_open(&in, &o, err, sizeof err));
	ASSERT_EQ(all_tuples(in, &out), 4);
	ASSERT_STR_EQ(out.buf, "a 1 x,a 1 y,b 1 x,b 1 y");
	input_close(in);
	strbuf_release(&out);
	return 0;
}

TEST_IMPL(input_link_wraps)
{
	char *a[] = { "a", "b", "c", "d", "e" }, *b[] = { "1", "2" };
	struct ccmap_source src[2] = {
		{ .args = a, .nargs = 5 }, { .args = b, .nargs = 2 },
	};
	struct strbuf out = STRBUF_INIT;
	struct ccmap_opts o;
	struct input *in = NULL;
	char err[256] = "";

	ccmap_opts_init(&o);
	o.sources = src;
	o.nsources = 2;
	o.link = 1;
	ASSERT_OK(input_open(&in, &o, err, sizeof err));
	ASSERT_EQ(all_tuples(in, &out), 5);
	ASSERT_STR_EQ(out.buf, "a 1,b 2,c 1,d 2,e 1");
	input_close(in);

	/* The longer one may come second as well. */
	src[0] = (struct ccmap_source){ .args = b, .nargs = 2 };
	src[1] = (struct ccmap_source){ .args = a, .nargs = 3 };
	strbuf_reset(&out);
	ASSERT_OK(input_open(&in, &o, err, sizeof err));
	ASSERT_EQ(all_tuples(in, &out), 3);
	ASSERT_STR_EQ(out.buf, "1 a,2 b,1 c");
	input_close(in);
	strbuf_release(&out);
	return 0;
}

TEST_IMPL(input_empty_second_source)
{
	char *a[] = { "a", "b" };
	struct ccmap_source src[2] = {
		{ .args = a, .nargs = 2 }, { .args = NULL, .nargs = 0 },
	};
	struct strbuf out = STRBUF_INIT;
	struct ccmap_opts o;
	struct input *in = NULL;
	char err[256] = "";

	ccmap_opts_init(&o);
	o.sources = src;
	o.nsources = 2;
	ASSERT_OK(input_open(&in, &o, err, sizeof err));
	ASSERT_EQ(all_tuples(in, &out), 0);
	input_close(in);
	/* With --link too. */
	o.link = 1;
	ASSERT_OK(input_open(&in, &o, err, sizeof err));
	ASSERT_EQ(all_tuples(in, &out), 0);
	input_close(in);
	ASSERT_EQ(out.len, 0);
	strbuf_release(&out);
	return 0;
}

TEST_IMPL(input_file_source)
{
	char path[64], *b[] = { "1", "2" };
	struct ccmap_source src[2] = {
		{ .path = path }, { .args = b, .nargs = 2 },
	};
	struct strbuf out = STRBUF_INIT;
	struct ccmap_opts o;
	struct input *in = NULL;
	char err[256] = "";
	int fd = temp_file("x\ny y\n\nz", 8, path, sizeof path);

	close(fd);
	ccmap_opts_init(&o);
	o.sources = src;
	o.nsources = 1;
	/* Alone: streamed, one value per line, the empty one included. */
	ASSERT_OK(input_open(&in, &o, err, sizeof err));
	ASSERT_EQ(all_tuples(in, &out), 4);
	ASSERT_STR_EQ(out.buf, "x,y y,,z");
	input_close(in);

	/* First of two (streamed, values copied out of the reader). */
	o.nsources = 2;
	strbuf_reset(&out);
	ASSERT_OK(input_open(&in, &o, err, sizeof err));
	ASSERT_EQ(all_tuples(in, &out), 8);
	ASSERT_STR_EQ(out.buf, "x 1,x 2,y y 1,y y 2, 1, 2,z 1,z 2");
	input_close(in);

	/* Second of two (read whole). */
	src[0] = (struct ccmap_source){ .args = b, .nargs = 2 };
	src[1] = (struct ccmap_source){ .path = path };
	strbuf_reset(&out);
	ASSERT_OK(input_open(&in, &o, err, sizeof err));
	ASSERT_EQ(all_tuples(in, &out), 8);
	ASSERT_STR_EQ(out.buf, "1 x,1 y y,1 ,1 z,2 x,2 y y,2 ,2 z");
	input_close(in);

	/* Linked: both read whole. */
	o.link = 1;
	strbuf_reset(&out);
	ASSERT_OK(input_open(&in, &o, err, sizeof err));
	ASSERT_EQ(all_tuples(in, &out), 4);
	ASSERT_STR_EQ(out.buf, "1 x,2 y y,1 ,2 z");
	input_close(in);

	unlink(path);
	strbuf_release(&out);
	return 0;
}

TEST_IMPL(input_file_source_custom_delim)
{
	char path[64];
	struct ccmap_source src = { .path = path };
	struct strbuf out = STRBUF_INIT;
	struct ccmap_opts o;
	struct input *in = NULL;
	char err[256] = "";
	int fd = temp_file("a\nb\0c\0", 6, path, sizeof path);

	close(fd);
	ccmap_opts_init(&o);
	o.sources = &src;
	o.nsources = 1;
	o.delim = '\0';
	ASSERT_OK(input_open(&in, &o, err, sizeof err));
	ASSERT_EQ(all_tuples(in, &out), 2);
	ASSERT_STR_EQ(out.buf, "a\nb,c");
	input_close(in);
	unlink(path);
	strbuf_release(&out);
	return 0;
}

TEST_IMPL(input_missing_file)
{
	static const char *const missing = "/nonexistent-ccmap-dir/items.txt";
	char *a[] = { "a" };
	struct ccmap_source src[2] = {
		{ .path = missing }, { .args = a, .nargs = 1 },
	};
	struct ccmap_opts o;
	struct input *in = NULL;
	char err[256] = "";

	ccmap_opts_init(&o);
	o.sources = src;
	o.nsources = 1;
	ASSERT_EQ(input_open(&in, &o, err, sizeof err), -ENOENT);
	ASSERT_NOT_NULL(strstr(err, missing));
	ASSERT_NULL(strchr(err, '\n'));

	/* As a second source, read whole. */
	src[0] = (struct ccmap_source){ .args = a, .nargs = 1 };
	src[1] = (struct ccmap_source){ .path = missing };
	o.nsources = 2;
	err[0] = '\0';
	ASSERT_EQ(input_open(&in, &o, err, sizeof err), -ENOENT);
	ASSERT_NOT_NULL(strstr(err, missing));
	return 0;
}

TEST_IMPL(input_unreadable_file)
{
	char *a[] = { "a" };
	struct ccmap_source src[2] = {
		{ .args = a, .nargs = 1 }, { .path = "/" },
	};
	struct ccmap_opts o;
	struct input *in = NULL;
	char err[256] = "";

	/* A directory opens but cannot be read: EISDIR, with its name. */
	ccmap_opts_init(&o);
	o.sources = src;
	o.nsources = 2;
	ASSERT_EQ(input_open(&in, &o, err, sizeof err), -EISDIR);
	ASSERT_NOT_NULL(strstr(err, "'/'"));

	/* As the streamed first source: refused when opened, too. */
	src[0] = (struct ccmap_source){ .path = "/tmp" };
	o.nsources = 1;
	err[0] = '\0';
	ASSERT_EQ(input_open(&in, &o, err, sizeof err), -EISDIR);
	ASSERT_NOT_NULL(strstr(err, "'/tmp'"));
	return 0;
}

/*
 * Blocks of whole records, each as big as the read buffer (lines of 8
 * bytes fill 64 KiB exactly): the data comes out whole and in order though
 * the buffers that the blocks' owners give back are read into again.
 */
TEST_IMPL(input_take_block_recycles)
{
	const size_t lines = 3 * 65536 / 8 + 5;
	char path[64];
	struct ccmap_source src = { .path = path };
	struct strbuf all = STRBUF_INIT, got = STRBUF_INIT;
	struct ccmap_opts o;
	struct input *in = NULL;
	char err[256] = "";
	size_t nblocks = 0, records = 0, count;
	int fd, r;

	for (size_t i = 0; i < lines; i++) {
		char line[16];
		snprintf(line, sizeof line, "%07zu\n", i);
		strbuf_addstr(&all, line);
	}
	fd = temp_file(all.buf, all.len, path, sizeof path);
	close(fd);
	ccmap_opts_init(&o);
	o.sources = &src;
	o.nsources = 1;
	ASSERT_OK(input_open(&in, &o, err, sizeof err));
	/* One record at a time (--chunksize 1): in a buffer its size. */
	{
		struct strbuf one = STRBUF_INIT;

		while ((r = input_take_block(in, (size_t)-1, 1, &one,
		    &count)) == INPUT_AGAIN)
			ASSERT_GE(input_fill(in), 0);
		ASSERT_EQ(r, INPUT_TUPLE);
		ASSERT_EQ(count, 1);
		ASSERT_EQ(one.len, 8);
		ASSERT_LT(one.alloc, 1024);
		strbuf_add(&got, one.buf, one.len);
		records++;
		input_recycle(in, &one);
		strbuf_release(&one);
	}
	for (;;) {
		struct strbuf blk = STRBUF_INIT;

		r = input_take_block(in, 65536, (size_t)-1, &blk, &count);
		if (r == INPUT_EOF)
			break;
		if (r == INPUT_AGAIN) {
			ASSERT_GE(input_fill(in), 0);
			continue;
		}
		ASSERT_EQ(r, INPUT_TUPLE);
		ASSERT_EQ(blk.buf[blk.len], '\0');
		strbuf_add(&got, blk.buf, blk.len);
		records += count;
		nblocks++;
		input_recycle(in, &blk);
		ASSERT_NULL(blk.buf);	/* taken, to be read into again */
		strbuf_release(&blk);
	}
	ASSERT_EQ(records, lines);
	ASSERT_EQ(got.len, all.len);
	ASSERT(memcmp(got.buf, all.buf, all.len) == 0);
	ASSERT_GE(nblocks, 3);
	input_close(in);
	unlink(path);
	strbuf_release(&all);
	strbuf_release(&got);
	return 0;
}
