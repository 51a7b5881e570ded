/*
 * block.c: the input of --pipe cut into blocks of whole records (see
 * block.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block.h"
#include "ccmap.h"
#include "util.h"
#include "regex.h"
#include "scan.h"
#include "strbuf.h"

/* GNU parallel grows a block up to 2 GiB - 1, no further. */
#define BLOCK_GROW_MAX 2147483647.0

/* A read buffer, shared by the blocks cut from it. */
struct blockbuf {
	unsigned refs;
	size_t cap;
	char data[];
};

struct blocks {
	int fd, close_fd;
	int eof;		/* read(2) said the input ended */
	int done;		/* every block is cut */
	size_t bs;		/* the block size, as it grew */
	size_t records, lines;
	void (*warn)(void *arg, const char *msg);
	void *arg;

	struct strbuf sep;	/* recend then recstart */
	size_t endlen;		/* how much of sep is recend */
	struct regex *re;	/* --recsep, or NULL */
	struct rmatch *m;

	int in_header;		/* the header is not read yet */
	size_t hlines;		/* a header of so many lines, or */
	struct regex *hre;	/* one that matches this */
	struct rmatch *hm;
	struct strbuf header;

	struct blockbuf *cur;	/* the input read and not cut: data[0..len) */
	size_t len;
	size_t target;		/* this round reads up to here */
	struct block *q;	/* the blocks this round cut */
	size_t qn, qi, qcap;
};

static struct blockbuf *
buf_new(size_t cap)
{
	struct blockbuf *bb = util_malloc(sizeof *bb + cap);

	bb->refs = 1;
	bb->cap = cap;
	return bb;
}

static void
buf_unref(struct blockbuf *bb)
{
	if (bb && --bb->refs == 0)
		free(bb);
}

void
block_release(struct block *blk)
{
	buf_unref(blk->buf);
	blk->buf = NULL;
}

/* A --recstart or --recend: GNU parallel's escapes turned into bytes. */
static void
unescape(struct strbuf *out, const char *s)
{
	static const char esc[] = "0\0r\rn\nt\t''\"\"\\\\";

	for (; *s; s++) {
		const char *e = NULL;
		if (s[0] == '\\' && s[1])
			for (size_t i = 0; i + 1 < sizeof esc; i += 2)
				if (s[1] == esc[i]) {
					e = &esc[i + 1];
					break;
				}
		if (e) {
			strbuf_addch(out, *e);
			s++;
		} else {
			strbuf_addch(out, *s);
		}
	}
}

/* --header: N lines, ":" for one, else a regex matched at the start. */
static int
header_open(struct blocks *b, const char *h, char *err, size_t errlen)
{
	struct strbuf anchored = STRBUF_INIT;
	struct regex *check;
	const char *p = h;
	int r;

	if (strcmp(h, ":") == 0) {
		b->hlines = 1;
		b->in_header = 1;
		return 0;
	}
	while (*p >= '0' && *p <= '9')
		p++;
	if (p > h && *p == '\0') {
		b->hlines = strtoul(h, NULL, 10);
		b->in_header = b->hlines > 0;
		return 0;
	}
	/* Compiled alone first, so that a message shows the user's pattern. */
	if ((r = regex_compile(&check, "--header", h, err, errlen)) < 0)
		return r;
	regex_free(check);
	strbuf_addstr(&anchored, "\\A(?:");
	strbuf_addstr(&anchored, h);
	strbuf_addstr(&anchored, ")");
	r = regex_compile_flags(&b->hre, "--header", anchored.buf,
	    REGEX_PARTIAL, err, errlen);
	strbuf_release(&anchored);
	if (r < 0)
		return r;
	b->hm = rmatch_new(b->hre);
	b->in_header = 1;
	return 0;
}

int
blocks_new(struct blocks **bp, int fd, int close_fd,
    const struct block_opts *o, char *err, size_t errlen)
{
	struct blocks *b = util_calloc(1, sizeof *b);
	int r;

	b->fd = fd;
	b->close_fd = close_fd;
	b->bs = o->size ? o->size : BLOCK_DEFAULT;
	b->records = o->records;
	b->lines = o->lines;
	b->warn = o->warn;
	b->arg = o->arg;
	if (o->recsep) {
		if ((r = regex_compile(&b->re, "--recsep", o->recsep, err,
		    errlen)) < 0)
			goto fail;
		b->m = rmatch_new(b->re);
	} else {
		if (o->recend)
			unescape(&b->sep, o->recend);
		else if (!o->recstart)
			strbuf_addch(&b->sep, '\n');
		b->endlen = b->sep.len;
		if (o->recstart)
			unescape(&b->sep, o->recstart);
	}
	if (o->header && (r = header_open(b, o->header, err, errlen)) < 0)
		goto fail;
	b->cur = buf_new(b->bs);
	b->target = b->bs;
	*bp = b;
	return 0;
fail:
	blocks_free(b);
	return r;
}

void
blocks_free(struct blocks *b)
{
	if (!b)
		return;
	if (b->close_fd && b->fd >= 0)
		close(b->fd);
	while (b->qi < b->qn)
		block_release(&b->q[b->qi++]);
	free(b->q);
	buf_unref(b->cur);
	strbuf_release(&b->sep);
	strbuf_release(&b->header);
	rmatch_free(b->m);
	regex_free(b->re);
	rmatch_free(b->hm);
	regex_free(b->hre);
	free(b);
}

int
blocks_fd(const struct blocks *b)
{
	return b->eof ? -1 : b->fd;
}

void
blocks_header(const struct blocks *b, const char **p, size_t *len)
{
	*p = b->header.buf;
	*len = b->header.len;
}

/* Make room for cap bytes in the buffer being read (no block shares it). */
static void
reserve(struct blocks *b, size_t cap)
{
	if (b->cur->cap >= cap)
		return;
	b->cur = util_realloc(b->cur, sizeof *b->cur + cap);
	b->cur->cap = cap;
}

long
blocks_fill(struct blocks *b)
{
	size_t want;
	ssize_t n;

	if (b->eof)
		return 0;
	/* The header is looked for a block at a time, as GNU parallel does. */
	want = b->in_header ? b->len + b->bs : b->target;
	if (want <= b->len)
		return 1;	/* the round is full: nothing to read yet */
	reserve(b, want);
	do
		n = read(b->fd, b->cur->data + b->len, want - b->len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		b->eof = 1;
	b->len += (size_t)n;
	return (long)n;
}

/* A round reads up to the next multiple of the block size. */
static void
start_round(struct blocks *b)
{
	b->target = b->len + (b->bs - b->len % b->bs);
}

/* The header, once the input holds it (or has ended): 1, or 0 for more. */
static int
take_header(struct blocks *b)
{
	const char *d = b->cur->data;
	size_t hlen = 0;
	int found = 0;

	if (b->hre) {
		/*
		 * Greedy, as GNU parallel's match on the block it read first:
		 * a match that more input could make longer (one that
		 * reaches the end of what is read, as (%.*\n)* does on
		 * nothing yet) waits for that input, up to a block of it.
		 */
		int n = regex_match_at(b->hre, b->hm, d, b->len, 0,
		    b->eof || b->len >= b->bs ? 0 : REGEX_GOES_ON);
		if (n == REGEX_MORE)
			return 0;
		found = n > 0;
		if (found)
			hlen = b->hm->ov[1];
	} else {
		size_t n = 0;
		const char *q;
		while (n < b->hlines && (q = memchr(d + hlen, '\n',
		    b->len - hlen)) != NULL) {
			hlen = (size_t)(q - d) + 1;
			n++;
		}
		found = n == b->hlines;
	}
	if (!found && !b->eof)
		return 0;
	if (found) {
		/* No header at the end of the input: the data stays data. */
		strbuf_add(&b->header, d, hlen);
		memmove(b->cur->data, d + hlen, b->len - hlen);
		b->len -= hlen;
	}
	b->in_header = 0;
	start_round(b);
	return 1;
}

/* Where d[0..n) holds sep last, or -1 (a memrchr for strings). */
static long
last_sep(const char *d, size_t n, const char *sep, size_t seplen)
{
	const char *q;
	size_t end = n;

	if (seplen == 0)
		return (long)n;	/* records of no length: cut anywhere */
	if (seplen > n)
		return -1;
	end = n - seplen + 1;	/* a match starts before end */
	while (end > 0 && (q = memrchr(d, sep[0], end)) != NULL) {
		if (memcmp(q, sep, seplen) == 0)
			return q - d;
		end = (size_t)(q - d);
	}
	return -1;
}

/*
 * The end of the last regex match in d[0..n), or 0: looked for in a
 * window at the end first, a larger one while none is there.
 */
static size_t
last_match(struct blocks *b, const char *d, size_t n)
{
	size_t win = 64 * 1024;

	for (;;) {
		size_t from = n > win ? n - win : 0, pos = from, end = 0;
		while (pos < n && regex_match(b->re, b->m, d, n, pos) > 0) {
			size_t s = b->m->ov[0], e = b->m->ov[1];
			if (e > s)
				end = e;
			pos = e > s ? e : s + 1;
		}
		if (end || from == 0)
			return end;
		win *= 4;
	}
}

/*
 * Where a block of count records starting at d[at] ends, or 0 when the
 * buffer does not hold them all.  As GNU parallel, with strings a record
 * separator right at the start of the block does not count, and with
 * empty ones (--recend '') a record is a byte.
 */
static size_t
nth_end(struct blocks *b, const char *d, size_t at, size_t n, size_t count)
{
	size_t pos = at;

	if (b->re) {
		for (size_t k = 0; k < count; ) {
			if (pos >= n || regex_match(b->re, b->m, d, n, pos) <= 0)
				return 0;
			size_t s = b->m->ov[0], e = b->m->ov[1];
			if (e > s)
				k++;
			pos = e > s ? e : s + 1;
		}
		return pos;
	}
	if (b->sep.len == 0) {
		/* Each byte is a record, and the last block may fall short. */
		pos = n - at > count ? at + count : n;
		return pos > at ? pos : 0;
	}
	for (size_t k = 0; k < count; k++) {
		const char *q;
		if (pos + 1 >= n || (q = memmem(d + pos + 1, n - pos - 1,
		    b->sep.buf, b->sep.len)) == NULL)
			return 0;
		pos = (size_t)(q - d);
	}
	return pos + b->endlen;
}

/* After the last whole group of b->lines lines in d[0..n), or 0. */
static size_t
lines_end(struct blocks *b, const char *d, size_t n)
{
	size_t count = scan_count(d, n, '\n');
	size_t skip = count % b->lines, end = n;

	if (count == skip)
		return 0;
	for (size_t k = 0; k <= skip; k++)
		end = (size_t)((const char *)memrchr(d, '\n', end) - d);
	return end + 1;
}

static void
push(struct blocks *b, size_t from, size_t to)
{
	if (b->qn == b->qcap) {
		b->qcap = b->qcap ? 2 * b->qcap : 16;
		b->q = util_realloc(b->q, b->qcap * sizeof *b->q);
	}
	b->cur->refs++;
	b->q[b->qn++] = (struct block){ b->cur, b->cur->data + from,
	    to - from };
}

/* A record longer than the block: grow it, as GNU parallel does. */
static void
grow(struct blocks *b)
{
	char msg[160];
	size_t old = b->bs;

	double want = (double)b->bs * 1.3 + 1;	/* in floating point, as Perl */

	if ((double)b->bs >= BLOCK_GROW_MAX)
		return;
	if (want > BLOCK_GROW_MAX)
		want = BLOCK_GROW_MAX;
	b->bs = (size_t)want;
	if ((double)b->bs < want)
		b->bs++;		/* rounded up */
	if (b->warn) {
		snprintf(msg, sizeof msg, "a record was longer than --block "
		    "%zu: increasing --block to %zu", old, b->bs);
		b->warn(b->arg, msg);
	}
}

/* The round is read: cut it into blocks. */
static void
cut_round(struct blocks *b)
{
	const char *d = b->cur->data;
	size_t n = b->len, at = 0, end;

	b->qn = b->qi = 0;
	if (b->records) {
		size_t count = b->records * (b->lines ? b->lines : 1);
		while ((end = nth_end(b, d, at, n, count)) != 0) {
			push(b, at, end);
			at = end;
		}
	} else if (b->lines) {
		if ((end = lines_end(b, d, n)) != 0)
			push(b, 0, at = end);
	} else if (!b->eof) {
		if (b->re) {
			end = last_match(b, d, n);
		} else {
			long i = last_sep(d, n, b->sep.buf, b->sep.len);
			end = i < 0 ? 0 : (size_t)i + b->endlen;
		}
		if (end)
			push(b, 0, at = end);
	}
	if (b->eof) {
		if (at < n)
			push(b, at, n);
		buf_unref(b->cur);
		b->cur = NULL;
		b->len = 0;
		b->done = 1;
		return;
	}
	if (b->qn == 0) {
		grow(b);
		start_round(b);
		return;
	}
	/* What follows the last cut starts the next buffer. */
	struct blockbuf *next;
	b->len = n - at;
	start_round(b);
	next = buf_new(b->target);
	memcpy(next->data, d + at, b->len);
	buf_unref(b->cur);
	b->cur = next;
}

int
blocks_next(struct blocks *b, struct block *blk)
{
	if (b->qi == b->qn) {
		if (b->done)
			return INPUT_EOF;
		if (b->in_header && !take_header(b))
			return INPUT_AGAIN;
		if (b->len < b->target && !b->eof)
			return INPUT_AGAIN;
		cut_round(b);
		if (b->qi == b->qn)
			return b->done ? INPUT_EOF : INPUT_AGAIN;
	}
	*blk = b->q[b->qi++];
	return INPUT_TUPLE;
}
