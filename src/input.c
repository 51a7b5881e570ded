/*
 * input.c: sources of items and the tuples made from them (see input.h).
 */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ahead.h"
#include "input.h"
#include "reader.h"
#include "util.h"
#include "regex.h"
#include "scan.h"
#include "strbuf.h"

#define SPARES 16		/* read buffers kept for reuse */

/* A source read whole: its values point into store or into argv. */
struct list {
	struct value *v;	/* from v[0] on: the header, if taken */
	size_t n;
	char *store;
};

/*
 * Sources are taken in groups: a source linked to the one before it (:::+,
 * ::::+) joins that one's group, and the i-th tuple of a group holds the
 * i-th value of each of its sources (as many as the shortest has).  The
 * tuples are the groups' cartesian product, or with link, the i-th of each
 * group, shorter groups wrapping around.
 */
struct input {
	size_t nsrc;
	int link;
	int streamed;		/* source 0 comes from rd, not lists[0] */
	int fed;		/* rd's records come from input_feed() */
	struct reader rd;
	const char *name;	/* the streamed source's file name */
	const char *eof_str;	/* -E */
	size_t eof_len;
	int skip_blank;		/* -r */
	int ended;		/* the streamed source met the -E string */
	struct list *lists;	/* one per source (lists[0] unused if streamed) */
	size_t ngroups;
	size_t *gfirst;		/* each group's first source; gfirst[ngroups]
				   is nsrc */
	size_t *glen;		/* each group's tuples (group 0 streamed: the
				   bound its other sources set, or SIZE_MAX) */
	size_t pos0;		/* next tuple of group 0 */
	size_t *idx;		/* the odometer over groups 1..ngroups-1 */
	struct strbuf cur0;	/* the current value of a streamed source 0 */
	int have_cur0;
	size_t linkn, linki;	/* with link: tuples in all, the next one */
	struct value *out;	/* the tuple handed out */
	struct regex *recsep;	/* --recsep, or NULL */
	struct rmatch *recsep_m;
	struct value *headers;	/* --header: one per source */
	int *has_header;
	struct strbuf header0;	/* the streamed source's header */
	char *spare[SPARES];	/* read buffers back from their jobs, */
	size_t spare_cap;	/* all for a reader's cap of this */
	int nspare;
	struct ahead *ahead;	/* its records counted ahead, or NULL */
};

int
input_open_file(const char *path, int *close_fd, char *err,
    size_t errlen)
{
	struct stat st;
	int fd;

	if (strcmp(path, "-") == 0) {
		*close_fd = 0;
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		fd = -1;
		errno = EISDIR;
	}
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot read input file '%s': %s", path,
		    strerror(e));
		errno = e;
		return -1;
	}
	*close_fd = 1;
	return fd;
}

/* Perl's \s, which GNU parallel's -r uses: ASCII whitespace only. */
static int
blank(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr(" \t\n\r\f\v", p[i]) || !p[i])
			return 0;
	return 1;
}

/*
 * What -E and -r make of a value: 1 to keep it, 0 to drop it, -1 when it
 * ends its source.
 */
static int
value_filter(const struct input *in, const char *p, size_t len)
{
	if (in->eof_str && len == in->eof_len && memcmp(p, in->eof_str, len) == 0)
		return -1;
	return !(in->skip_blank && blank(p, len));
}

/* Read a whole file into a list of values. */
static int
load_file(struct input *in, struct list *l, const char *path, int delim,
    char *err, size_t errlen)
{
	struct reader rd;
	struct strbuf store = STRBUF_INIT;
	size_t *ends = NULL, n = 0, cap = 0;
	struct value rec;
	int close_fd, fd;
	long got;

	if ((fd = input_open_file(path, &close_fd, err, errlen)) < 0)
		return -errno;
	reader_init(&rd, fd, close_fd, delim);
	if (in->recsep)
		reader_set_regex(&rd, in->recsep, in->recsep_m);
	do {
		if ((got = reader_fill(&rd)) < 0) {
			snprintf(err, errlen, "cannot read input file '%s': %s",
			    path, strerror((int)-got));
			reader_release(&rd);
			free(ends);
			strbuf_release(&store);
			return (int)got;
		}
		while (reader_next(&rd, &rec)) {
			int keep = value_filter(in, rec.p, rec.len);
			if (keep < 0) {
				got = 0;
				break;
			}
			if (!keep)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				ends = util_realloc(ends, cap * sizeof *ends);
			}
			strbuf_add(&store, rec.p, rec.len);
			ends[n++] = store.len;
		}
	} while (got > 0);
	reader_release(&rd);

	l->store = strbuf_detach(&store, NULL);
	l->n = n;
	l->v = util_calloc(n, sizeof *l->v);
	for (size_t i = 0, at = 0; i < n; at = ends[i++]) {
		l->v[i].p = l->store + at;
		l->v[i].len = ends[i] - at;
	}
	free(ends);
	return 0;
}

/*
 * Arguments after ::: as a list.  As in GNU parallel, the delimiter
 * separates items within an argument too: with -d , the argument "a,b" is
 * two items, and "c," is "c" and an empty one.
 */
static void
load_args(struct input *in, struct list *l, char **args, size_t nargs,
    int delim)
{
	size_t n = 0;

	for (size_t i = 0; i < nargs; i++) {
		n++;
		for (const char *p = args[i]; (p = strchr(p, delim)) && delim;
		    p++)
			n++;
	}
	l->v = util_calloc(n ? n : 1, sizeof *l->v);
	for (size_t i = 0; i < nargs; i++) {
		const char *p = args[i], *d;
		for (;;) {
			d = delim ? strchr(p, delim) : NULL;
			size_t len = d ? (size_t)(d - p) : strlen(p);
			int keep = value_filter(in, p, len);
			if (keep < 0)
				return;
			if (keep)
				l->v[l->n++] = (struct value){ p, len };
			if (!d)
				break;
			p = d + 1;
		}
	}
}

/* Group the sources by their links, and count each group's tuples. */
static void
make_groups(struct input *in, const struct ccmap_source *src)
{
	in->gfirst = util_calloc(in->nsrc + 1, sizeof *in->gfirst);
	in->glen = util_calloc(in->nsrc, sizeof *in->glen);
	for (size_t i = 0; i < in->nsrc; i++)
		if (i == 0 || !src[i].linked)
			in->gfirst[in->ngroups++] = i;
	in->gfirst[in->ngroups] = in->nsrc;
	for (size_t g = 0; g < in->ngroups; g++) {
		in->glen[g] = SIZE_MAX;
		for (size_t i = in->gfirst[g]; i < in->gfirst[g + 1]; i++)
			if (!(i == 0 && in->streamed) && in->lists[i].n < in->glen[g])
				in->glen[g] = in->lists[i].n;
	}
}

/*
 * --header: take the first value of each source out of its items.  The
 * streamed source is read (and waited for) up to its first record.
 */
static int
take_headers(struct input *in, char *err, size_t errlen)
{
	struct value rec = { NULL, 0 };
	long got = 1;

	in->headers = util_calloc(in->nsrc, sizeof *in->headers);
	in->has_header = util_calloc(in->nsrc, sizeof *in->has_header);
	for (size_t i = 0; i < in->nsrc; i++) {
		struct list *l = &in->lists[i];
		if (i > 0 || !in->streamed) {
			if (l->n == 0)
				continue;
			in->headers[i] = l->v[0];
			in->has_header[i] = 1;
			memmove(l->v, l->v + 1, --l->n * sizeof *l->v);
			continue;
		}
		while (!reader_next(&in->rd, &rec) && got > 0)
			got = reader_fill(&in->rd);
		if (got < 0) {
			snprintf(err, errlen, "cannot read '%s': %s",
			    input_name(in), strerror((int)-got));
			return (int)got;
		}
		if (rec.p == NULL)
			continue;	/* empty */
		strbuf_add(&in->header0, rec.p, rec.len);
		in->headers[i] = (struct value){ in->header0.buf,
		    in->header0.len };
		in->has_header[i] = 1;
	}
	return 0;
}

const struct value *
input_header(const struct input *in, size_t i)
{
	return in->has_header && in->has_header[i] ? &in->headers[i] : NULL;
}

int
input_open(struct input **inp, const struct ccmap_opts *opts, char *err,
    size_t errlen)
{
	static const struct ccmap_source stdin_source = { .path = "-" };
	const struct ccmap_source *src = opts->nsources ? opts->sources :
	    &stdin_source;
	struct input *in = util_calloc(1, sizeof *in);
	int delim = opts->delim;
	int r;

	in->nsrc = opts->nsources ? opts->nsources : 1;
	in->link = opts->link && in->nsrc > 1;
	in->eof_str = opts->eof_str && *opts->eof_str ? opts->eof_str : NULL;
	in->eof_len = in->eof_str ? strlen(in->eof_str) : 0;
	in->skip_blank = opts->skip_blank;
	in->lists = util_calloc(in->nsrc, sizeof *in->lists);
	in->idx = util_calloc(in->nsrc, sizeof *in->idx);
	in->out = util_calloc(in->nsrc, sizeof *in->out);
	in->rd.fd = -1;
	if (opts->recsep) {
		if ((r = regex_compile_flags(&in->recsep, "--recsep",
		    opts->recsep, REGEX_PARTIAL, err, errlen)) < 0)
			goto fail;
		in->recsep_m = rmatch_new(in->recsep);
	}

	for (size_t i = 0; i < in->nsrc; i++) {
		if (!src[i].path) {
			load_args(in, &in->lists[i], src[i].args, src[i].nargs,
			    delim);
		} else if (i == 0 && !in->link) {
			int close_fd, fd = input_open_file(src[i].path,
			    &close_fd, err, errlen);
			if (fd < 0) {
				r = -errno;
				goto fail;
			}
			reader_init(&in->rd, fd, close_fd, delim);
			if (in->recsep)
				reader_set_regex(&in->rd, in->recsep,
				    in->recsep_m);
			in->streamed = 1;
			in->name = src[i].path;
		} else if ((r = load_file(in, &in->lists[i], src[i].path, delim,
		    err, errlen)) < 0) {
			goto fail;
		}
	}
	if (opts->header && strcmp(opts->header, "0") != 0 &&
	    (r = take_headers(in, err, errlen)) < 0)
		goto fail;
	make_groups(in, src);
	if (in->link) {
		for (size_t g = 0; g < in->ngroups; g++) {
			if (in->glen[g] == 0) {
				in->linkn = 0;
				break;
			}
			if (in->glen[g] > in->linkn)
				in->linkn = in->glen[g];
		}
	}
	*inp = in;
	return 0;
fail:
	input_close(in);
	return r;
}

/* The spare read buffers, freed. */
static void
drop_spares(struct input *in)
{
	while (in->nspare)
		free(in->spare[--in->nspare]);
}

void
input_close(struct input *in)
{
	if (!in)
		return;
	reader_release(&in->rd);
	ahead_free(in->ahead);
	drop_spares(in);
	for (size_t i = 0; i < in->nsrc; i++) {
		free(in->lists[i].v);
		free(in->lists[i].store);
	}
	free(in->lists);
	free(in->gfirst);
	free(in->glen);
	free(in->idx);
	free(in->out);
	strbuf_release(&in->cur0);
	strbuf_release(&in->header0);
	free(in->headers);
	free(in->has_header);
	rmatch_free(in->recsep_m);
	regex_free(in->recsep);
	free(in);
}

const char *
input_name(const struct input *in)
{
	return in->name && strcmp(in->name, "-") ? in->name : "standard input";
}

size_t
input_nsources(const struct input *in)
{
	return in ? in->nsrc : 1;	/* --pipe: no input, one empty value */
}

int
input_fd(const struct input *in)
{
	if (ahead_error(in->ahead))
		return in->rd.fd;	/* for input_fill() to say so */
	if (ahead_ended(in->ahead))
		return -1;		/* the spool holds the rest */
	return in->streamed && !in->fed && !in->rd.eof && !in->ended ?
	    in->rd.fd : -1;
}

void
input_set_fed(struct input *in)
{
	in->fed = in->streamed;
}

void
input_feed(struct input *in, const char *p, size_t len)
{
	if (in->fed)
		reader_feed(&in->rd, p, len);
}

void
input_feed_end(struct input *in)
{
	if (in->fed)
		in->rd.eof = 1;
}

long
input_fill(struct input *in)
{
	if (ahead_error(in->ahead))
		return ahead_error(in->ahead);
	if (!in->streamed || in->ended)
		return 0;
	if (ahead_reads(in->ahead))
		return ahead_read(in->ahead);
	return reader_fill(&in->rd);
}

/* value_filter, for ahead.c. */
static int
keeps(void *in, const char *p, size_t len)
{
	return value_filter(in, p, len);
}

void
input_count_ahead(struct input *in, size_t mem_limit, const char *tmpdir)
{
	if (!in->streamed || in->fed || in->ahead || in->rd.eof || in->ended)
		return;
	in->ahead = ahead_new(&in->rd, in->recsep, mem_limit, tmpdir, keeps,
	    in);
}

int
input_count_pending(const struct input *in)
{
	return ahead_pending(in->ahead) && !in->rd.eof && !in->ended;
}

void
input_count_step(struct input *in)
{
	if (in->ahead)
		ahead_step(in->ahead);
}

int
input_reads_ahead(const struct input *in)
{
	return ahead_reads(in->ahead);
}

size_t
input_buffer_size(const struct input *in)
{
	return in->rd.cap;
}

int
input_tuples(const struct input *in, unsigned long long *n)
{
	unsigned long long t, counted = 0;

	if (in->link) {
		*n = in->linkn;
		return 1;
	}
	if (in->streamed && !ahead_total(in->ahead, &counted))
		return 0;
	t = in->glen[0];
	if (in->streamed && counted < t)
		t = counted;
	for (size_t g = 1; g < in->ngroups; g++)
		t = in->glen[g] && t > ULLONG_MAX / in->glen[g] ? ULLONG_MAX :
		    t * in->glen[g];
	*n = t;
	return 1;
}

/* The streamed source's next record, taking what the spool holds. */
static int
next_record(struct input *in, struct value *rec)
{
	while (!reader_next(&in->rd, rec))
		if (!ahead_pull(in->ahead, &in->rd))
			return 0;
	return 1;
}

/* A buffer of the reader's size: a spare, or a new one. */
static char *
read_buffer(struct input *in)
{
	if (in->nspare && in->spare_cap == in->rd.cap)
		return in->spare[--in->nspare];
	return util_malloc(READ_ALLOC(in->rd.cap));
}

static int
take_block(struct input *in, size_t min, size_t max_records,
    struct strbuf *out, size_t *count)
{
	struct reader *r = &in->rd;
	const char *p, *end, *cut = NULL, *d;
	size_t n = 0;

	if (!in->streamed || in->nsrc != 1 || r->re || in->eof_str ||
	    in->skip_blank)
		return -EINVAL;
	p = r->buf + r->start;
	end = r->buf + r->end;
	if (p == end)
		return r->eof ? INPUT_EOF : INPUT_AGAIN;
	if (max_records <= 1024) {
		/* A few records: walk them. */
		for (const char *q = p; n < max_records && (cut == NULL ||
		    (size_t)(cut - p) < min) && (d = memchr(q, r->delim,
		    (size_t)(end - q))) != NULL; n++)
			cut = q = d + 1;
	} else {
		/* The records that end within min bytes, or the first one... */
		const char *q = (size_t)(end - p) > min ? p + min : end;
		if ((d = memrchr(p, r->delim, (size_t)(q - p))) == NULL)
			d = memchr(q, r->delim, (size_t)(end - q));
		if (d) {
			cut = d + 1;
			n = scan_count(p, (size_t)(cut - p), r->delim);
		}
		if (n > max_records) {
			/* ...but no more than max_records of them. */
			struct scan sc;
			scan_init(&sc, p, (size_t)(cut - p), r->delim);
			for (n = 0; n < max_records; n++)
				cut = scan_next(&sc) + 1;
		}
	}
	if (!cut) {
		if (!r->eof)
			return INPUT_AGAIN;
		/* The last record has no delimiter: give it one. */
		strbuf_add(out, p, (size_t)(end - p));
		strbuf_addch(out, r->delim);
		r->start = r->scan = r->end;
		*count = 1;
		return INPUT_TUPLE;
	}
	*count = n;
	if (p == r->buf && !out->alloc && (size_t)(cut - p) <= r->cap &&
	    end - cut <= cut - p) {
		/*
		 * Hand the read buffer itself over, records and all, and go on
		 * in a new one with what is left (when that is less than what
		 * it saves copying): the items are never copied.
		 */
		size_t tail = (size_t)(end - cut);
		char *fresh = read_buffer(in);
		memcpy(fresh, cut, tail);
		out->buf = r->buf;
		out->len = (size_t)(cut - p);
		out->alloc = READ_ALLOC(r->cap);
		out->buf[out->len] = '\0';
		r->buf = fresh;
		r->start = 0;
		r->end = tail;
		r->scan = 0;
		return INPUT_TUPLE;
	}
	if (!out->alloc && (size_t)(cut - p) <= r->cap &&
	    (size_t)(cut - p) >= r->cap / 2) {
		/* A big one, in a buffer input_recycle() takes back. */
		out->buf = read_buffer(in);
		out->alloc = READ_ALLOC(r->cap);
	}
	strbuf_add(out, p, (size_t)(cut - p));
	r->start = (size_t)(cut - r->buf);
	if (r->scan < r->start)
		r->scan = r->start;
	return INPUT_TUPLE;
}

int
input_take_block(struct input *in, size_t min, size_t max_records,
    struct strbuf *out, size_t *count)
{
	size_t unread = in->rd.end - in->rd.start;
	int r;

	/*
	 * Read ahead: a block's worth from the spool, as a read would give
	 * it, into the room the buffer has (it grows only for a record
	 * longer than it, below).
	 */
	if (unread < min && unread <= in->rd.cap / 2)
		ahead_pull(in->ahead, &in->rd);
	while ((r = take_block(in, min, max_records, out, count)) ==
	    INPUT_AGAIN && ahead_pull(in->ahead, &in->rd))
		;
	return r;
}

void
input_recycle(struct input *in, struct strbuf *buf)
{
	if (buf->alloc != READ_ALLOC(in->rd.cap) || !buf->buf)
		return;		/* not one (or of an old size): freed */
	if (in->spare_cap != in->rd.cap) {
		drop_spares(in);
		in->spare_cap = in->rd.cap;
	}
	if (in->nspare == SPARES)
		return;
	in->spare[in->nspare++] = buf->buf;
	*buf = (struct strbuf)STRBUF_INIT;
}

/*
 * Take the next tuple of group 0 into out[]; INPUT_* as input_next.  The
 * other sources of the group are lists: the tuple's index picks their
 * values.
 */
static int
next_first(struct input *in)
{
	size_t end = in->gfirst[1];
	struct value rec;
	int keep;

	if (in->pos0 >= in->glen[0])
		return INPUT_EOF;
	if (!in->streamed) {
		for (size_t i = 0; i < end; i++)
			in->out[i] = in->lists[i].v[in->pos0];
		in->pos0++;
		return INPUT_TUPLE;
	}
	do {
		if (in->ended || !next_record(in, &rec))
			return in->rd.eof || in->ended ? INPUT_EOF : INPUT_AGAIN;
		if ((keep = value_filter(in, rec.p, rec.len)) < 0) {
			in->ended = 1;	/* the rest is not read */
			return INPUT_EOF;
		}
	} while (!keep);
	for (size_t i = 1; i < end; i++)
		in->out[i] = in->lists[i].v[in->pos0];
	in->pos0++;
	if (in->nsrc == 1) {
		/* Alone, the value can stay in the reader's buffer. */
		in->out[0] = rec;
		return INPUT_TUPLE;
	}
	strbuf_reset(&in->cur0);
	strbuf_add(&in->cur0, rec.p, rec.len);
	in->out[0].p = in->cur0.buf;
	in->out[0].len = in->cur0.len;
	return INPUT_TUPLE;
}

/* Put the values of group g's tuple number k into out[]. */
static void
group_values(struct input *in, size_t g, size_t k)
{
	for (size_t i = in->gfirst[g]; i < in->gfirst[g + 1]; i++)
		in->out[i] = in->lists[i].v[k];
}

int
input_next(struct input *in, struct tuple *t)
{
	t->n = in->nsrc;
	t->v = in->out;

	if (in->link) {
		if (in->linki == in->linkn)
			return INPUT_EOF;
		for (size_t g = 0; g < in->ngroups; g++)
			group_values(in, g, in->linki % in->glen[g]);
		in->linki++;
		return INPUT_TUPLE;
	}
	for (size_t g = 1; g < in->ngroups; g++)
		if (in->glen[g] == 0)
			return INPUT_EOF;
	if (!in->have_cur0) {
		int r = next_first(in);
		if (r != INPUT_TUPLE)
			return r;
		in->have_cur0 = 1;
	}
	for (size_t g = 1; g < in->ngroups; g++)
		group_values(in, g, in->idx[g]);

	/* Advance the odometer; when it wraps, group 0 moves on. */
	size_t k = in->ngroups;
	while (--k > 0) {
		if (++in->idx[k] < in->glen[k])
			break;
		in->idx[k] = 0;
	}
	if (k == 0)
		in->have_cur0 = 0;
	return INPUT_TUPLE;
}
