/*
 * spool.c: bytes read ahead, in memory up to a bound, then in a temporary
 * file (see spool.h).
 *
 * The bytes queued are, in order: those in front (memory), those in the
 * file, and those in back (memory again: what came while the file could
 * not take it).  New bytes go in front while nothing waits behind it and
 * there is room; else to the file; else (no file) in back.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "spool.h"
#include "strbuf.h"

#define DEFAULT_LIMIT (4u << 20)

/* Bytes in memory: buf[head..head+len). */
struct mqueue {
	char *buf;
	size_t cap, head, len;
};

struct spool {
	struct mqueue front, back;
	size_t limit;
	char *dir;
	int fd;			/* the file, or -1 until needed */
	int broken;		/* it could not be made or written */
	off_t roff, woff;	/* its queued bytes: [roff, woff) */
};

struct spool *
spool_new(size_t limit, const char *dir)
{
	struct spool *s = util_calloc(1, sizeof *s);

	if (!dir || !*dir)
		dir = getenv("TMPDIR");
	s->dir = util_strdup(dir && *dir ? dir : "/tmp");
	s->limit = limit ? limit : DEFAULT_LIMIT;
	s->fd = -1;
	return s;
}

void
spool_free(struct spool *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->front.buf);
	free(s->back.buf);
	free(s->dir);
	free(s);
}

/* Append to q, growing it no further than the bound needs. */
static void
mq_add(struct mqueue *q, const char *p, size_t n, size_t limit)
{
	if (q->head && q->head + q->len + n > q->cap) {
		memmove(q->buf, q->buf + q->head, q->len);
		q->head = 0;
	}
	if (q->len + n > q->cap) {
		size_t need = q->len + n, cap = q->cap ? 2 * q->cap : 65536;
		if (cap > limit)
			cap = limit;
		if (cap < need)
			cap = need;
		q->buf = util_realloc(q->buf, cap);
		q->cap = cap;
	}
	memcpy(q->buf + q->head + q->len, p, n);
	q->len += n;
}

static size_t
mq_take(struct mqueue *q, char *buf, size_t len)
{
	size_t n = len < q->len ? len : q->len;

	memcpy(buf, q->buf + q->head, n);
	q->head += n;
	q->len -= n;
	if (!q->len)
		q->head = 0;
	return n;
}

/*
 * The file: made in the directory and unlinked at once (O_TMPFILE where
 * the file system has it, never linked at all), so it goes with us.
 */
static int
file_open(struct spool *s)
{
	int fd;

	if (s->fd >= 0)
		return 0;
	if ((fd = util_tmpfile(s->dir, "ccmap-input")) < 0)
		return fd;
	s->fd = fd;
	return 0;
}

/* Append to the file; 0 or -errno (its end is then where it was). */
static int
file_add(struct spool *s, const char *p, size_t len)
{
	size_t done = 0;
	int r;

	if ((r = file_open(s)) < 0)
		return r;
	while (done < len) {
		ssize_t w = pwrite(s->fd, p + done, len - done,
		    s->woff + (off_t)done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		done += (size_t)w;
	}
	s->woff += (off_t)len;
	return 0;
}

int
spool_put(struct spool *s, const char *p, size_t len)
{
	int r;

	if (s->roff == s->woff && !s->back.len) {
		/* Nothing waits behind the front: it takes what fits. */
		size_t room = s->limit > s->front.len ?
		    s->limit - s->front.len : 0;
		size_t n = s->broken || len < room ? len : room;
		mq_add(&s->front, p, n, s->limit);
		p += n;
		len -= n;
	}
	if (!len)
		return 0;
	if (!s->broken && !s->back.len) {
		if ((r = file_add(s, p, len)) == 0)
			return 0;
		s->broken = 1;
	} else {
		r = 0;
	}
	mq_add(&s->back, p, len, SIZE_MAX);
	return r;
}

long
spool_get(struct spool *s, char *buf, size_t len)
{
	size_t n;

	if (!len)
		return 0;
	if (s->front.len)
		return (long)mq_take(&s->front, buf, len);
	if (s->roff < s->woff) {
		ssize_t got;
		n = (size_t)(s->woff - s->roff);
		if (n > len)
			n = len;
		do
			got = pread(s->fd, buf, n, s->roff);
		while (got < 0 && errno == EINTR);
		if (got < 0)
			return -errno;
		if (got == 0)
			return -EIO;	/* it was cut short under us */
		s->roff += got;
		if (s->roff == s->woff) {
			/* All read: the file starts again, its space freed. */
			s->roff = s->woff = 0;
			(void)!ftruncate(s->fd, 0);
		}
		return (long)got;
	}
	if (s->back.len) {
		/* What waited behind the file is the front now. */
		struct mqueue t = s->front;
		s->front = s->back;
		s->back = t;
		return (long)mq_take(&s->front, buf, len);
	}
	return 0;
}

size_t
spool_len(const struct spool *s)
{
	return s->front.len + (size_t)(s->woff - s->roff) + s->back.len;
}

size_t
spool_mem(const struct spool *s)
{
	return s->front.len + s->back.len;
}
