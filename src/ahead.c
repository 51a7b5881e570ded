/*
 * ahead.c: counting a streamed source's records ahead of its reading
 * (see ahead.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ahead.h"
#include "regex.h"
#include "spool.h"
#include "util.h"

#define COUNT_READS 16		/* a regular file is counted this many reads
				   at a time */

/*
 * cnt reads the same bytes as the reader, and keeps no record.  A regular
 * file's come to it by pread() from count_off on; a pipe's are read ahead
 * into the spool, where the reader takes them from.
 */
struct ahead {
	int fd;			/* the reader's descriptor */
	ahead_filter *filter;
	void *arg;
	int counting;		/* records are being counted */
	int count_done;		/* all are: counted is the number */
	unsigned long long counted;
	struct reader cnt;
	struct rmatch *cnt_m;	/* its --recsep match data */
	int count_file;		/* a regular file: counted by pread() */
	off_t count_off;
	struct spool *spool;	/* a pipe's bytes read ahead, or NULL */
	int reads_ahead;	/* the descriptor is read into the spool */
	int ahead_end;		/* it has ended: the spool holds the rest */
	int spool_err;		/* the spool could not be read (-errno) */
};

/* Counting ends: with the number (done), or without (it gave up). */
static void
count_end(struct ahead *a, int done)
{
	a->counting = 0;
	a->count_done = done;
	reader_release(&a->cnt);
	if (a->reads_ahead) {
		/*
		 * Counted to the end (or to the -E value): the spool holds all
		 * the reading needs.  Else it takes the spool's bytes, then
		 * reads the descriptor itself again.
		 */
		a->reads_ahead = 0;
		a->ahead_end = done;
	}
}

/* Count the records cnt holds whole (at its end, all of them). */
static void
count_records(struct ahead *a)
{
	struct value rec;
	int keep;

	while (a->counting && reader_next(&a->cnt, &rec)) {
		if ((keep = a->filter(a->arg, rec.p, rec.len)) < 0) {
			count_end(a, 1);	/* -E: the rest is not read */
			return;
		}
		a->counted += (unsigned)keep;
	}
	if (a->counting && a->cnt.eof)
		count_end(a, 1);
}

struct ahead *
ahead_new(const struct reader *r, const struct regex *re, size_t mem_limit,
    const char *tmpdir, ahead_filter *filter, void *arg)
{
	struct ahead *a;
	struct stat st;
	off_t at = 0;

	if (fstat(r->fd, &st) < 0)
		return NULL;
	if (S_ISREG(st.st_mode)) {
		if ((at = lseek(r->fd, 0, SEEK_CUR)) < 0)
			return NULL;
	} else if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode)) {
		return NULL;	/* a terminal, a device: as it comes */
	}
	a = util_calloc(1, sizeof *a);
	a->fd = r->fd;
	a->filter = filter;
	a->arg = arg;
	reader_init(&a->cnt, -1, 0, r->delim);
	if (re) {
		a->cnt_m = rmatch_new(re);
		reader_set_regex(&a->cnt, re, a->cnt_m);
	}
	if (S_ISREG(st.st_mode)) {
		a->count_file = 1;
		a->count_off = at;
	} else {
		a->spool = spool_new(mem_limit, tmpdir);
		a->reads_ahead = 1;
	}
	a->counting = 1;
	/* The bytes read already (with --header) and not taken come first. */
	if (r->end > r->start) {
		reader_room(&a->cnt);
		if (a->cnt.cap < r->end - r->start) {
			a->cnt.cap = r->end - r->start;
			a->cnt.buf = util_realloc(a->cnt.buf,
			    READ_ALLOC(a->cnt.cap));
		}
		memcpy(a->cnt.buf, r->buf + r->start, r->end - r->start);
		a->cnt.end = r->end - r->start;
		count_records(a);
	}
	return a;
}

void
ahead_free(struct ahead *a)
{
	if (!a)
		return;
	reader_release(&a->cnt);
	rmatch_free(a->cnt_m);
	spool_free(a->spool);
	free(a);
}

int
ahead_pending(const struct ahead *a)
{
	return a && a->counting && a->count_file;
}

void
ahead_step(struct ahead *a)
{
	struct reader *c = &a->cnt;

	for (int i = 0; i < COUNT_READS && a->counting; i++) {
		ssize_t n;

		reader_room(c);
		do
			n = pread(a->fd, c->buf + c->end, c->cap - c->end,
			    a->count_off);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			count_end(a, 0);	/* the reading will say why */
			return;
		}
		if (n == 0)
			c->eof = 1;
		c->end += (size_t)n;
		a->count_off += n;
		count_records(a);
	}
}

int
ahead_reads(const struct ahead *a)
{
	return a && a->reads_ahead;
}

/*
 * A pipe's next bytes: read where cnt counts them, and queued in the
 * spool for the reader.
 */
long
ahead_read(struct ahead *a)
{
	struct reader *c = &a->cnt;
	ssize_t n;

	reader_room(c);
	do
		n = read(a->fd, c->buf + c->end, c->cap - c->end);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0) {
		c->eof = 1;
	} else if (spool_put(a->spool, c->buf + c->end, (size_t)n) < 0) {
		count_end(a, 0);	/* no room on disk: no more ahead */
		return (long)n;
	}
	c->end += (size_t)n;
	count_records(a);
	return (long)n;
}

int
ahead_total(const struct ahead *a, unsigned long long *n)
{
	if (!a || !a->count_done)
		return 0;
	*n = a->counted;
	return 1;
}

int
ahead_ended(const struct ahead *a)
{
	return a && a->ahead_end;
}

int
ahead_error(const struct ahead *a)
{
	return a ? a->spool_err : 0;
}

int
ahead_pull(struct ahead *a, struct reader *r)
{
	long n;

	if (!a || !a->spool || r->eof || a->spool_err)
		return 0;
	if (spool_len(a->spool)) {
		reader_room(r);
		if ((n = spool_get(a->spool, r->buf + r->end,
		    r->cap - r->end)) < 0) {
			a->spool_err = (int)n;
			return 0;
		}
		r->end += (size_t)n;
		return 1;
	}
	if (a->ahead_end) {
		r->eof = 1;
		return 1;
	}
	return 0;
}
