/*
 * reader.c: delimited records read from a descriptor (see reader.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reader.h"
#include "regex.h"
#include "util.h"

#define READ_SIZE (64 * 1024)

void
reader_init(struct reader *r, int fd, int close_fd, int delim)
{
	memset(r, 0, sizeof *r);
	r->fd = fd;
	r->close_fd = close_fd;
	r->delim = delim;
}

void
reader_set_regex(struct reader *r, const struct regex *re, struct rmatch *m)
{
	r->re = re;
	r->m = m;
}

void
reader_release(struct reader *r)
{
	if (r->close_fd && r->fd >= 0)
		close(r->fd);
	free(r->buf);
	memset(r, 0, sizeof *r);
	r->fd = -1;
}

void
reader_room(struct reader *r)
{
	if (r->start > 0) {
		size_t keep = r->end - r->start;
		memmove(r->buf, r->buf + r->start, keep);
		r->scan -= r->start;
		r->end = keep;
		r->start = 0;
	}
	if (r->cap - r->end < READ_SIZE / 2) {
		r->cap = r->cap ? r->cap * 2 : READ_SIZE;
		r->buf = util_realloc(r->buf, READ_ALLOC(r->cap));
	}
}

long
reader_fill(struct reader *r)
{
	ssize_t n;

	if (r->eof)
		return 0;
	reader_room(r);
	do
		n = read(r->fd, r->buf + r->end, r->cap - r->end);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		r->eof = 1;
	r->end += (size_t)n;
	return (long)n;
}

void
reader_feed(struct reader *r, const char *p, size_t len)
{
	if (r->eof)
		return;
	if (r->cap - r->end < len + 1 && r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->scan -= r->start;
		r->end -= r->start;
		r->start = 0;
	}
	if (r->cap - r->end < len + 1) {
		r->cap = r->end + len + 1 + READ_SIZE;
		r->buf = util_realloc(r->buf, READ_ALLOC(r->cap));
	}
	if (len)
		memcpy(r->buf + r->end, p, len);
	r->end += len;
	r->buf[r->end++] = (char)r->delim;
}

/*
 * reader_next with a regex: the record ends where a match starts.  A match
 * that the next read could change (it reaches the end of what is read, or
 * could begin there) waits for that read.
 */
static int
next_regex(struct reader *r, struct value *rec)
{
	const char *s = r->buf + r->start;
	size_t len = r->end - r->start, from = r->scan - r->start;
	unsigned flags = (from == 0 ? REGEX_NOTEMPTY_START : 0) |
	    (r->eof ? 0 : REGEX_GOES_ON);
	int n = len ? regex_match_at(r->re, r->m, s, len, from, flags) : 0;

	if (n > 0) {
		rec->p = s;
		rec->len = r->m->ov[0];
		r->start = r->scan = r->start + r->m->ov[1];
		return 1;
	}
	if (n == REGEX_MORE) {
		/* No match starts before ov[0]: search on from there. */
		r->scan = r->start + r->m->ov[0];
		return 0;
	}
	r->scan = r->end;
	if (r->eof && r->start < r->end) {
		rec->p = s;
		rec->len = len;
		r->start = r->scan = r->end;
		return 1;
	}
	return 0;
}

int
reader_next(struct reader *r, struct value *rec)
{
	char *q = NULL;

	if (r->re)
		return next_regex(r, rec);
	if (r->scan < r->end)
		q = memchr(r->buf + r->scan, r->delim, r->end - r->scan);
	if (q) {
		rec->p = r->buf + r->start;
		rec->len = (size_t)(q - rec->p);
		r->start = r->scan = (size_t)(q - r->buf) + 1;
		return 1;
	}
	r->scan = r->end;
	if (r->eof && r->start < r->end) {
		rec->p = r->buf + r->start;
		rec->len = r->end - r->start;
		r->start = r->scan = r->end;
		return 1;
	}
	return 0;
}
