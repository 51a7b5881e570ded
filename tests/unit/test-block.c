/*
 * Unit tests for src/block.[ch]: how --pipe cuts its input into blocks.
 * The expected cuts are those of GNU parallel --pipe (20221122) on the
 * same input.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "block.h"
#include "ccmap.h"
#include "strbuf.h"
#include "task.h"

/* "1\n2\n...\nn\n", as seq n prints it. */
static char *
seq(int n)
{
	struct strbuf sb = STRBUF_INIT;
	char num[16];

	for (int i = 1; i <= n; i++) {
		snprintf(num, sizeof num, "%d\n", i);
		strbuf_addstr(&sb, num);
	}
	return strbuf_detach(&sb, NULL);
}

static void
count_warning(void *arg, const char *msg)
{
	(void)msg;
	(*(int *)arg)++;
}

/*
 * Cut len bytes of data as o says, written into a pipe piece bytes at a
 * time (0: all at once) by a child, so that reads end anywhere.  The
 * blocks go to out, each followed by '|', the header (if any) to hdr.
 * Returns the number of warnings.
 */
static int
cut(const char *data, size_t len, struct block_opts *o, size_t piece,
    struct strbuf *out, struct strbuf *hdr)
{
	struct blocks *b;
	struct block blk;
	char err[256];
	int p[2], r, warnings = 0, status;
	pid_t pid;

	ASSERT_OK(pipe(p));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		close(p[0]);
		for (size_t off = 0, n; off < len; off += n) {
			n = piece && len - off > piece ? piece : len - off;
			if (write(p[1], data + off, n) != (ssize_t)n)
				_exit(1);
		}
		_exit(0);
	}
	close(p[1]);
	o->warn = count_warning;
	o->arg = &warnings;
	ASSERT_OK(blocks_new(&b, p[0], 1, o, err, sizeof err));
	while ((r = blocks_next(b, &blk)) != INPUT_EOF) {
		if (r == INPUT_AGAIN) {
			ASSERT_GE(blocks_fill(b), 0);
			continue;
		}
		ASSERT_EQ(r, INPUT_TUPLE);
		ASSERT_GT(blk.len, 0);
		strbuf_add(out, blk.p, blk.len);
		strbuf_addch(out, '|');
		block_release(&blk);
	}
	if (hdr) {
		const char *h;
		size_t hl;
		blocks_header(b, &h, &hl);
		strbuf_add(hdr, h ? h : "", hl);
	}
	blocks_free(b);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return warnings;
}

/* cut() whole, then a byte at a time: the blocks must not change. */
static void
check_cut(const char *data, struct block_opts o, const char *want)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

	cut(data, strlen(data), &o, 0, &a, NULL);
	ASSERT_STR_EQ(a.buf ? a.buf : "", want);
	cut(data, strlen(data), &o, 1, &b, NULL);
	ASSERT_STR_EQ(b.buf ? b.buf : "", want);
	strbuf_release(&a);
	strbuf_release(&b);
}

TEST_IMPL(block_newline)
{
	char *s = seq(10);

	/* Up to 5 bytes each, cut after the last newline in them. */
	check_cut(s, (struct block_opts){ .size = 5 },
	    "1\n2\n|3\n4\n|5\n6\n|7\n8\n|9\n10\n|");
	/* The last block is what is left, newline or not. */
	check_cut("a\nb\nc", (struct block_opts){ .size = 100 }, "a\nb\nc|");
	free(s);
	return 0;
}

TEST_IMPL(block_default_size)
{
	struct strbuf out = STRBUF_INIT;
	size_t len = 3 * 1024 * 1024, lines = 0;
	char *data = malloc(len);

	/* Lines of 64 bytes: a 1 MiB block holds 16384 of them exactly. */
	for (size_t i = 0; i < len; i++)
		data[i] = i % 64 == 63 ? '\n' : 'x';
	cut(data, len, &(struct block_opts){ 0 }, 0, &out, NULL);
	for (size_t i = 0; i < out.len; i++)
		lines += out.buf[i] == '|';
	ASSERT_EQ(lines, 3);
	ASSERT_EQ(out.len, len + 3);
	ASSERT_EQ(out.buf[BLOCK_DEFAULT], '|');
	strbuf_release(&out);
	free(data);
	return 0;
}

TEST_IMPL(block_recend)
{
	/* A record ends with "1": the cut falls after the last one. */
	check_cut("a1b1c1d", (struct block_opts){ .size = 5, .recend = "1" },
	    "a1b1|c1d|");
	/* The escapes of GNU parallel: \t is a tab. */
	check_cut("a\tb\tc", (struct block_opts){ .size = 3, .recend = "\\t" },
	    "a\t|b\t|c|");
	return 0;
}

TEST_IMPL(block_recstart)
{
	/* A record starts with ">": the cut falls before the last one. */
	check_cut(">a\n>b\n>c\n", (struct block_opts){ .size = 7,
	    .recstart = ">" }, ">a\n>b\n|>c\n|");
	return 0;
}

TEST_IMPL(block_recstart_recend)
{
	/* Only where "1\n" is followed by "2": between the two. */
	check_cut("11\n2\n1\n21\n2\n", (struct block_opts){ .size = 12,
	    .recend = "1\\n", .recstart = "2" }, "11\n2\n1\n21\n|2\n|");
	/* Both empty: any byte ends a record. */
	check_cut("abcdefg", (struct block_opts){ .size = 3, .recend = "" },
	    "abc|def|g|");
	return 0;
}

TEST_IMPL(block_recsep)
{
	/* A regex: a record ends after each match. */
	check_cut("a;b;;c;d", (struct block_opts){ .size = 6,
	    .recsep = ";+" }, "a;b;;|c;d|");
	check_cut("a;b;;c;d", (struct block_opts){ .records = 1,
	    .recsep = ";+" }, "a;|b;;|c;|d|");
	return 0;
}

TEST_IMPL(block_records)
{
	char *s = seq(7);

	/* -N 3: exactly three records, whatever the block size. */
	check_cut(s, (struct block_opts){ .records = 3 },
	    "1\n2\n3\n|4\n5\n6\n|7\n|");
	check_cut(s, (struct block_opts){ .records = 3, .size = 3 },
	    "1\n2\n3\n|4\n5\n6\n|7\n|");
	/* A separator at the very start of a block ends no record. */
	check_cut("\na\nb\n\n\nc\n", (struct block_opts){ .records = 1 },
	    "\na\n|b\n|\n\n|c\n|");
	free(s);
	return 0;
}

TEST_IMPL(block_lines)
{
	char *s = seq(7);

	/* -L 2: whole pairs of lines up to the block; the rest at the end. */
	check_cut(s, (struct block_opts){ .lines = 2 }, "1\n2\n3\n4\n5\n6\n|7\n|");
	check_cut(s, (struct block_opts){ .lines = 2, .size = 5 },
	    "1\n2\n|3\n4\n|5\n6\n|7\n|");
	/* -L 2 -N 2: four lines a block. */
	check_cut(s, (struct block_opts){ .lines = 2, .records = 2 },
	    "1\n2\n3\n4\n|5\n6\n7\n|");
	free(s);
	return 0;
}

TEST_IMPL(block_longer_record)
{
	struct strbuf out = STRBUF_INIT;
	const char *data = "aaaaaaaaaaaa\nb\nc\n";
	struct block_opts o = { .size = 3 };

	/* 3, 5, 8, 12, 17 (GNU parallel's steps): one block, four warnings. */
	ASSERT_EQ(cut(data, strlen(data), &o, 0, &out, NULL), 4);
	ASSERT_STR_EQ(out.buf, "aaaaaaaaaaaa\nb\nc\n|");
	strbuf_reset(&out);
	ASSERT_EQ(cut(data, strlen(data), &o, 1, &out, NULL), 4);
	ASSERT_STR_EQ(out.buf, "aaaaaaaaaaaa\nb\nc\n|");
	/* The grown size stays: 17-byte blocks from then on. */
	strbuf_reset(&out);
	data = "aaaa\nbbbbbbbbbbbbbbb\nc\nd\n";
	ASSERT_EQ(cut(data, strlen(data), &o, 0, &out, NULL), 4);
	ASSERT_STR_EQ(out.buf, "aaaa\n|bbbbbbbbbbbbbbb\n|c\nd\n|");
	strbuf_release(&out);
	return 0;
}

TEST_IMPL(block_header)
{
	struct strbuf out = STRBUF_INIT, hdr = STRBUF_INIT;
	char *s = seq(5);

	cut(s, strlen(s), &(struct block_opts){ .header = "2", .records = 2 },
	    1, &out, &hdr);
	ASSERT_STR_EQ(hdr.buf, "1\n2\n");
	ASSERT_STR_EQ(out.buf, "3\n4\n|5\n|");
	strbuf_reset(&out);
	strbuf_reset(&hdr);
	cut(s, strlen(s), &(struct block_opts){ .header = ":" }, 0, &out, &hdr);
	ASSERT_STR_EQ(hdr.buf, "1\n");
	ASSERT_STR_EQ(out.buf, "2\n3\n4\n5\n|");
	strbuf_reset(&out);
	strbuf_reset(&hdr);
	cut(s, strlen(s), &(struct block_opts){ .header = "1\\n\\d\\n" }, 0,
	    &out, &hdr);
	ASSERT_STR_EQ(hdr.buf, "1\n2\n");
	/* A header longer than the input: no header, the data stays. */
	strbuf_reset(&out);
	strbuf_reset(&hdr);
	cut(s, strlen(s), &(struct block_opts){ .header = "9" }, 0, &out, &hdr);
	ASSERT_EQ(hdr.len, 0);
	ASSERT_STR_EQ(out.buf, "1\n2\n3\n4\n5\n|");
	strbuf_release(&out);
	strbuf_release(&hdr);
	free(s);
	return 0;
}

/*
 * A header regex that can match nothing, as GNU parallel's tutorial has it,
 * (%.*\n)*: matched greedily at the start, however the input arrives
 * (whole, or a byte at a time); never the empty match on nothing read yet.
 */
TEST_IMPL(block_header_regex_greedy)
{
	static const struct {
		const char *in, *hdr, *out;
	} cases[] = {
		{ "%h1\n%h2\n1\n2\n3\n", "%h1\n%h2\n", "1\n2\n|3\n|" },
		/* No header lines: the empty header, all of it data. */
		{ "1\n2\n3\n", "", "1\n2\n|3\n|" },
		/* All of it header: no block. */
		{ "%a\n%b\n", "%a\n%b\n", "" },
		/* A last line without its newline is not header. */
		{ "%a\n%b", "%a\n", "%b|" },
	};
	struct block_opts o = { .header = "(%.*\\n)*", .records = 2 };
	struct strbuf out = STRBUF_INIT, hdr = STRBUF_INIT;

	for (size_t piece = 0; piece < 2; piece++)
		for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			strbuf_reset(&out);
			strbuf_reset(&hdr);
			cut(cases[i].in, strlen(cases[i].in), &o, piece, &out,
			    &hdr);
			ASSERT_STR_EQ(hdr.buf ? hdr.buf : "", cases[i].hdr);
			ASSERT_STR_EQ(out.buf ? out.buf : "", cases[i].out);
		}
	/* The match waits for a block at most: here, 4 bytes. */
	o.size = 4;
	for (size_t piece = 0; piece < 2; piece++) {
		strbuf_reset(&out);
		strbuf_reset(&hdr);
		cut("%h1\n%h2\n1\n", 11, &o, piece, &out, &hdr);
		ASSERT_STR_EQ(hdr.buf ? hdr.buf : "", "%h1\n");
	}
	strbuf_release(&out);
	strbuf_release(&hdr);
	return 0;
}

TEST_IMPL(block_empty_and_binary)
{
	struct strbuf out = STRBUF_INIT;
	static const char bin[] = "a\0b\nc\0\0\nd";

	/* No input, no block. */
	cut("", 0, &(struct block_opts){ 0 }, 0, &out, NULL);
	ASSERT_EQ(out.len, 0);
	/* NUL bytes are data; \0 can be a separator. */
	cut(bin, sizeof bin - 1, &(struct block_opts){ .records = 1 }, 1, &out,
	    NULL);
	ASSERT_MEM_EQ(out.buf, out.len, "a\0b\n|c\0\0\n|d|", 12);
	strbuf_reset(&out);
	cut(bin, sizeof bin - 1, &(struct block_opts){ .recend = "\\0",
	    .records = 2 }, 0, &out, NULL);
	ASSERT_MEM_EQ(out.buf, out.len, "a\0b\nc\0|\0\nd|", 11);
	strbuf_release(&out);
	return 0;
}

TEST_IMPL(block_bad_options)
{
	struct blocks *b;
	char err[256];

	ASSERT_EQ(blocks_new(&b, -1, 0, &(struct block_opts){ .recsep = "(" },
	    err, sizeof err), CCMAP_EUSAGE);
	ASSERT(strstr(err, "--recsep") != NULL);
	ASSERT_EQ(blocks_new(&b, -1, 0, &(struct block_opts){ .header = "[" },
	    err, sizeof err), CCMAP_EUSAGE);
	ASSERT(strstr(err, "--header: bad regex '['") != NULL);
	return 0;
}
