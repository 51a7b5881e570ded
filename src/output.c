/*
 * output.c: captured job output, held in memory or in the spill file
 * (spill.c), and ordered writing (see output.h).
 */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util.h"
#include "output.h"
#include "spill.h"

#define DEFAULT_MEM_LIMIT (4u << 20)
#define WRITE_BUF (64 * 1024)

struct output {
	int linebuffer;
	int ordered;			/* line-buffer: the live job's lines only */
	size_t mem_limit;
	int fd[2];
	atomic_size_t mem_used;		/* bytes held in sinks' memory */
	atomic_int err;			/* the first write error */
	struct spill *spill;		/* past mem_limit */

	pthread_mutex_t write_lock;	/* line-buffer mode: one writer */

	struct strbuf wbuf;		/* pending writes to wfd (main thread) */
	int wfd;
	int wake_fd;			/* told of a write error, or -1 */
	void (*before_write)(void *arg, int fd, const char *buf, size_t len);
	void *hook_arg;
};

void
output_new(struct output **op, const struct output_opts *opts)
{
	struct output *o = util_calloc(1, sizeof *o);

	o->linebuffer = opts->linebuffer;
	o->ordered = opts->linebuffer && opts->ordered;
	o->mem_limit = opts->mem_limit ? opts->mem_limit : DEFAULT_MEM_LIMIT;
	o->fd[0] = opts->fd[0];
	o->fd[1] = opts->fd[1];
	o->spill = spill_new(opts->tmpdir);
	o->wfd = -1;
	o->wake_fd = opts->wake_fd;
	o->before_write = opts->before_write;
	o->hook_arg = opts->hook_arg;
	pthread_mutex_init(&o->write_lock, NULL);
	*op = o;
}

void
output_free(struct output *o)
{
	if (!o)
		return;
	spill_free(o->spill);
	pthread_mutex_destroy(&o->write_lock);
	strbuf_release(&o->wbuf);
	free(o);
}

int
output_error(struct output *o)
{
	return atomic_load(&o->err);
}

size_t
output_mem_used(struct output *o)
{
	return atomic_load(&o->mem_used);
}

size_t
output_spilled(struct output *o)
{
	return spill_size(o->spill);
}

/*
 * Line-buffer mode without order: every job's lines go out as they come,
 * written by whoever gives them.
 */
static int
direct(const struct output *o)
{
	return o->linebuffer && !o->ordered;
}

static void
set_error(struct output *o, int e)
{
	int zero = 0;

	atomic_compare_exchange_strong(&o->err, &zero, e);
}

void
output_set_wake(struct output *o, int fd)
{
	o->wake_fd = fd;
}

void
joboutput_init(struct joboutput *jo)
{
	memset(jo, 0, sizeof *jo);
	jo->bol[0] = jo->bol[1] = 1;
}

void
joboutput_release(struct output *o, struct joboutput *jo)
{
	for (int i = 0; i < 2; i++) {
		atomic_fetch_sub(&o->mem_used, jo->s[i].mem.len);
		strbuf_release(&jo->s[i].mem);
		free(jo->s[i].ext);
	}
	memset(jo->s, 0, sizeof jo->s);
	free(jo->mark);
	jo->mark = NULL;
	jo->nmarks = jo->markcap = 0;
}

/* Append a and b to the spill file as one extent of s; 0 or -1. */
static int
stash(struct output *o, struct sink *s, const char *a, size_t alen,
    const char *b, size_t blen)
{
	size_t len = alen + blen;
	off_t off;

	if (spill_append(o->spill, a, alen, b, blen, &off) < 0)
		return -1;
	if (s->next && s->ext[s->next - 1].off +
	    (off_t)s->ext[s->next - 1].len == off) {
		s->ext[s->next - 1].len += len;
		return 0;
	}
	if (s->next == s->extcap) {
		s->extcap = s->extcap ? s->extcap * 2 : 4;
		s->ext = util_realloc(s->ext, s->extcap * sizeof *s->ext);
	}
	s->ext[s->next++] = (struct extent){ off, len };
	return 0;
}

/* Append p to dst, each line that starts here prefixed with the tag. */
static void
add_tagged(struct strbuf *dst, struct joboutput *jo, int stream,
    const char *p, size_t len)
{
	int *bol = &jo->bol[stream];

	if (!len)
		return;
	if (!jo->tag) {
		strbuf_add(dst, p, len);
		*bol = p[len - 1] == '\n';
		return;
	}
	while (len) {
		const char *nl = memchr(p, '\n', len);
		size_t n = nl ? (size_t)(nl - p) + 1 : len;
		if (*bol) {
			strbuf_add(dst, jo->tag, jo->taglen);
			strbuf_addch(dst, '\t');
		}
		strbuf_add(dst, p, n);
		*bol = nl != NULL;
		p += n;
		len -= n;
	}
}

static void
wake(struct output *o)
{
	uint64_t one = 1;

	if (o->wake_fd >= 0)
		(void)!write(o->wake_fd, &one, sizeof one);
}

/* Write to the job's stream now, from any thread. */
static void
put_now(struct output *o, struct joboutput *jo, int stream, const char *p,
    size_t len)
{
	struct strbuf tagged = STRBUF_INIT;
	int r = 0;

	if (!len)
		return;
	pthread_mutex_lock(&o->write_lock);
	if (!atomic_load(&o->err)) {
		if (jo->tag) {
			add_tagged(&tagged, jo, stream, p, len);
			p = tagged.buf;
			len = tagged.len;
		} else {
			jo->bol[stream] = p[len - 1] == '\n';
		}
		r = util_write_all(o->fd[stream], p, len);
	}
	pthread_mutex_unlock(&o->write_lock);
	strbuf_release(&tagged);
	if (r < 0) {
		set_error(o, r);
		wake(o);
	}
}

int
output_flush(struct output *o)
{
	int r = 0;

	if (o->wbuf.len && !atomic_load(&o->err)) {
		if (o->before_write)
			o->before_write(o->hook_arg, o->wfd, o->wbuf.buf,
			    o->wbuf.len);
		if ((r = util_write_all(o->wfd, o->wbuf.buf, o->wbuf.len)) < 0)
			set_error(o, r);
	}
	strbuf_reset(&o->wbuf);
	if (o->wbuf.alloc > 4 * WRITE_BUF)
		strbuf_release(&o->wbuf);
	return atomic_load(&o->err);
}

/* Queue output for the job's stream in the write buffer (main thread). */
static void
put_queued(struct output *o, struct joboutput *jo, int stream, const char *p,
    size_t len)
{
	if (o->wfd != o->fd[stream]) {
		output_flush(o);
		o->wfd = o->fd[stream];
	}
	add_tagged(&o->wbuf, jo, stream, p, len);
	if (o->wbuf.len >= WRITE_BUF)
		output_flush(o);
}

typedef void put_fn(struct output *o, struct joboutput *jo, int stream,
    const char *p, size_t len);

/* Hand all that a stream holds to put(), oldest first, and empty it. */
static void
drain(struct output *o, struct joboutput *jo, int stream, put_fn *put)
{
	struct sink *s = &jo->s[stream];
	char *buf = NULL;

	for (size_t e = 0; e < s->next && !atomic_load(&o->err); e++) {
		off_t off = s->ext[e].off;
		size_t left = s->ext[e].len;
		if (!buf)
			buf = util_malloc(WRITE_BUF);
		while (left) {
			ssize_t n = spill_read(o->spill, buf, left < WRITE_BUF ?
			    left : WRITE_BUF, off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				set_error(o, n < 0 ? -errno : -EIO);
				break;
			}
			put(o, jo, stream, buf, (size_t)n);
			off += n;
			left -= (size_t)n;
		}
	}
	free(buf);
	put(o, jo, stream, s->mem.buf, s->mem.len);
	atomic_fetch_sub(&o->mem_used, s->mem.len);
	strbuf_release(&s->mem);
	free(s->ext);
	s->ext = NULL;
	s->next = s->extcap = 0;
}

/* Line-buffer mode: write the whole lines held for a stream now. */
static void
write_lines(struct output *o, struct joboutput *jo, int stream, put_fn *put)
{
	struct sink *s = &jo->s[stream];
	const char *end = s->mem.len ?
	    memrchr(s->mem.buf, '\n', s->mem.len) : NULL;
	size_t n;

	if (!end)
		return;
	n = (size_t)(end - s->mem.buf) + 1;
	put(o, jo, stream, s->mem.buf, n);
	memmove(s->mem.buf, s->mem.buf + n, s->mem.len - n);
	s->mem.len -= n;
	atomic_fetch_sub(&o->mem_used, n);
}

/* A place in what a stream holds: bytes passed, in extent e (or in mem). */
struct cursor {
	size_t done;
	size_t e;		/* s->next: in mem */
	size_t off;		/* bytes into the extent, or into mem */
};

/*
 * Hand p to put(), or with carry (line-buffer mode), whole lines only: the
 * rest of the last line waits in carry for the next bytes.
 */
static void
put_part(struct output *o, struct joboutput *jo, int stream, const char *p,
    size_t len, put_fn *put, struct strbuf *carry)
{
	const char *nl;
	size_t n;

	if (!carry) {
		put(o, jo, stream, p, len);
		return;
	}
	if (!len)
		return;
	if (!(nl = memrchr(p, '\n', len))) {
		strbuf_add(carry, p, len);
		return;
	}
	n = (size_t)(nl - p) + 1;
	if (carry->len) {
		strbuf_add(carry, p, n);
		put(o, jo, stream, carry->buf, carry->len);
		strbuf_reset(carry);
	} else {
		put(o, jo, stream, p, n);
	}
	strbuf_add(carry, p + n, len - n);
}

/*
 * Hand the next n bytes a stream holds (at most), from cur on, to put()
 * (through carry, see put_part()); they stay held until consume().
 */
static void
pass(struct output *o, struct joboutput *jo, int stream, struct cursor *cur,
    size_t n, put_fn *put, struct strbuf *carry)
{
	struct sink *s = &jo->s[stream];
	char *buf = NULL;

	while (n && cur->e < s->next && !atomic_load(&o->err)) {
		struct extent *x = &s->ext[cur->e];
		size_t k = x->len - cur->off < n ? x->len - cur->off : n;
		if (!buf)
			buf = util_malloc(WRITE_BUF);
		if (k) {
			ssize_t r = spill_read(o->spill, buf, k < WRITE_BUF ?
			    k : WRITE_BUF, x->off + (off_t)cur->off);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				set_error(o, r < 0 ? -errno : -EIO);
				break;
			}
			put_part(o, jo, stream, buf, (size_t)r, put, carry);
			cur->off += (size_t)r;
			cur->done += (size_t)r;
			n -= (size_t)r;
		}
		if (cur->off == x->len) {
			cur->e++;
			cur->off = 0;
		}
	}
	free(buf);
	if (n && cur->e >= s->next && cur->off < s->mem.len) {
		size_t k = s->mem.len - cur->off < n ? s->mem.len - cur->off : n;
		put_part(o, jo, stream, s->mem.buf + cur->off, k, put, carry);
		cur->off += k;
		cur->done += k;
	}
}

/* Drop what cur has passed of a stream. */
static void
consume(struct output *o, struct joboutput *jo, int stream,
    const struct cursor *cur)
{
	struct sink *s = &jo->s[stream];

	if (cur->e < s->next) {
		s->ext[cur->e].off += (off_t)cur->off;
		s->ext[cur->e].len -= cur->off;
		memmove(s->ext, s->ext + cur->e,
		    (s->next - cur->e) * sizeof *s->ext);
		s->next -= cur->e;
		return;
	}
	s->next = 0;
	if (!cur->off)
		return;
	memmove(s->mem.buf, s->mem.buf + cur->off, s->mem.len - cur->off);
	s->mem.len -= cur->off;
	atomic_fetch_sub(&o->mem_used, cur->off);
}

/* Hand what was held up to the last mark to put(), group by group. */
static void
pass_marked(struct output *o, struct joboutput *jo, struct cursor cur[2],
    put_fn *put, struct strbuf carry[2])
{
	for (size_t m = 0; m < jo->nmarks; m++)
		for (int i = 0; i < 2; i++)
			pass(o, jo, i, &cur[i], jo->mark[m].len[i] - cur[i].done,
			    put, carry ? &carry[i] : NULL);
	free(jo->mark);
	jo->mark = NULL;
	jo->nmarks = jo->markcap = 0;
}

/*
 * The job's turn came while it runs: what it wrote so far goes out, group
 * by group, then the rest of its stdout.  The rest of its stderr stays
 * held (--group), or in line-buffer mode goes out too, whole lines only,
 * the rest of each last line held.
 */
static void
went_live(struct output *o, struct joboutput *jo, put_fn *put)
{
	struct strbuf carry[2] = { STRBUF_INIT, STRBUF_INIT };
	struct strbuf *lines = o->linebuffer ? carry : NULL;
	struct cursor cur[2] = { { 0, 0, 0 }, { 0, 0, 0 } };

	jo->went_live = 1;
	pass_marked(o, jo, cur, put, lines);
	pass(o, jo, 0, &cur[0], SIZE_MAX, put, lines ? &carry[0] : NULL);
	consume(o, jo, 0, &cur[0]);
	if (!o->linebuffer) {
		consume(o, jo, 1, &cur[1]);
		return;
	}
	pass(o, jo, 1, &cur[1], SIZE_MAX, put, &carry[1]);
	consume(o, jo, 1, &cur[1]);
	for (int i = 0; i < 2; i++) {
		/* (Both streams wholly passed: their mem is empty.) */
		strbuf_release(&jo->s[i].mem);
		jo->s[i].mem = carry[i];
		atomic_fetch_add(&o->mem_used, carry[i].len);
	}
}

/* Keep output for later: in memory, or past the bound in the spill file. */
static void
hold(struct output *o, struct sink *s, const char *buf, size_t len)
{
	if (atomic_load(&o->mem_used) + len > o->mem_limit &&
	    stash(o, s, s->mem.buf, s->mem.len, buf, len) == 0) {
		atomic_fetch_sub(&o->mem_used, s->mem.len);
		strbuf_release(&s->mem);
		return;
	}
	atomic_fetch_add(&o->mem_used, len);
	strbuf_add(&s->mem, buf, len);
}

static void data(struct output *o, struct joboutput *jo, int stream,
    const char *buf, size_t len, put_fn *live_put);

void
output_data(struct output *o, struct joboutput *jo, int stream,
    const char *buf, size_t len)
{
	data(o, jo, stream, buf, len, put_now);
}

void
output_data_main(struct output *o, struct joboutput *jo, int stream,
    const char *buf, size_t len)
{
	data(o, jo, stream, buf, len, put_queued);
}

static void
data(struct output *o, struct joboutput *jo, int stream, const char *buf,
    size_t len, put_fn *live_put)
{
	struct sink *s = &jo->s[--stream];

	if (direct(o)) {
		atomic_fetch_add(&o->mem_used, len);
		strbuf_add(&s->mem, buf, len);
		write_lines(o, jo, stream, put_now);
		return;
	}
	if (atomic_load_explicit(&jo->live, memory_order_acquire)) {
		if (!jo->went_live)
			went_live(o, jo, live_put);
		if (o->linebuffer) {
			atomic_fetch_add(&o->mem_used, len);
			strbuf_add(&s->mem, buf, len);
			write_lines(o, jo, stream, live_put);
			return;
		}
		if (stream == 0) {
			live_put(o, jo, stream, buf, len);
			return;
		}
		/* --group: stderr waits for the end of the job's stdout. */
	}
	jo->held_len[stream] += len;
	hold(o, s, buf, len);
}

static void
mark(struct output *o, struct joboutput *jo, put_fn *live_put)
{
	struct outmark *m = jo->nmarks ? &jo->mark[jo->nmarks - 1] : NULL;
	size_t len[2];

	if (direct(o))
		return;		/* (lines went out as they came) */
	if (atomic_load_explicit(&jo->live, memory_order_acquire)) {
		if (!jo->went_live)
			went_live(o, jo, live_put);
		if (!o->linebuffer)
			drain(o, jo, 1, live_put);	/* its stdout is out */
		return;
	}
	/* (Before its turn nothing of the job's output has gone.) */
	len[0] = jo->held_len[0];
	len[1] = jo->held_len[1];
	if (len[1] == (m ? m->len[1] : 0))
		return;		/* nothing on stderr since: no new group */
	if (m && m->len[0] == len[0]) {
		m->len[1] = len[1];	/* nor on stdout: the last one grows */
		return;
	}
	if (jo->nmarks == jo->markcap) {
		jo->markcap = jo->markcap ? jo->markcap * 2 : 4;
		jo->mark = util_realloc(jo->mark,
		    jo->markcap * sizeof *jo->mark);
	}
	jo->mark[jo->nmarks].len[0] = len[0];
	jo->mark[jo->nmarks++].len[1] = len[1];
}

void
output_mark(struct output *o, struct joboutput *jo)
{
	mark(o, jo, put_now);
}

void
output_mark_main(struct output *o, struct joboutput *jo)
{
	mark(o, jo, put_queued);
}

void
output_go_live(struct output *o, struct joboutput *jo)
{
	if (direct(o) || atomic_load(&jo->live))
		return;
	output_flush(o);
	atomic_store_explicit(&jo->live, 1, memory_order_release);
}

/* A finished job's output folded into one block: tag, stdout, stderr. */
struct held {
	size_t len[2];
	size_t taglen;
	int tagged;		/* lines get the tag, even an empty one */
	char data[];
};

struct held *
output_hold(struct output *o, struct joboutput *jo)
{
	struct held *h;

	if (direct(o) || jo->went_live || jo->s[0].next || jo->s[1].next ||
	    jo->nmarks)
		return NULL;
	h = util_malloc(sizeof *h + jo->taglen + jo->s[0].mem.len +
	    jo->s[1].mem.len);
	h->taglen = jo->tag ? jo->taglen : 0;
	h->tagged = jo->tag != NULL;
	memcpy(h->data, jo->tag ? jo->tag : "", h->taglen);
	char *p = h->data + h->taglen;
	for (int i = 0; i < 2; i++) {
		h->len[i] = jo->s[i].mem.len;
		if (h->len[i])
			memcpy(p, jo->s[i].mem.buf, h->len[i]);
		p += h->len[i];
		/* The bytes stay counted in mem_used: the block has them now. */
		strbuf_release(&jo->s[i].mem);
	}
	return h;
}

int
output_emit_held(struct output *o, struct held *h)
{
	struct joboutput jo;
	const char *p = h->data + h->taglen;

	joboutput_init(&jo);
	if (h->tagged) {
		jo.tag = h->data;
		jo.taglen = h->taglen;
	}
	for (int i = 0; i < 2 && !atomic_load(&o->err); i++) {
		put_queued(o, &jo, i, p, h->len[i]);
		p += h->len[i];
	}
	output_drop_held(o, h);
	return atomic_load(&o->err);
}

void
output_drop_held(struct output *o, struct held *h)
{
	atomic_fetch_sub(&o->mem_used, h->len[0] + h->len[1]);
	free(h);
}

void
output_end(struct output *o, struct joboutput *jo)
{
	if (!o->linebuffer)
		return;
	if (o->ordered) {
		/* Only the live job's: a held one's waits for its turn. */
		if (!atomic_load_explicit(&jo->live, memory_order_acquire))
			return;
		if (!jo->went_live)
			went_live(o, jo, put_now);
	}
	drain(o, jo, 0, put_now);
	drain(o, jo, 1, put_now);
}

int
output_emit(struct output *o, struct joboutput *jo)
{
	put_fn *put = direct(o) ? put_now : put_queued;

	if (jo->nmarks) {
		struct cursor cur[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
		pass_marked(o, jo, cur, put, NULL);
		consume(o, jo, 0, &cur[0]);
		consume(o, jo, 1, &cur[1]);
	}
	drain(o, jo, 0, put);
	drain(o, jo, 1, put);
	return atomic_load(&o->err);
}

int
output_emit_text(struct output *o, int stream, const char *p, size_t len)
{
	struct joboutput jo;

	joboutput_init(&jo);
	(direct(o) ? put_now : put_queued)(o, &jo, stream - 1, p, len);
	return atomic_load(&o->err);
}
