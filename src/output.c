/*
 * output.c: captured job output, the spill file, and ordered writing
 * (see output.h).
 */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"
#include "output.h"

#define DEFAULT_MEM_LIMIT (4u << 20)
#define WRITE_BUF (64 * 1024)

struct output {
	int linebuffer;
	size_t mem_limit;
	int fd[2];
	char *tmpdir;
	atomic_size_t mem_used;		/* bytes held in sinks' memory */
	atomic_int err;			/* the first write error */

	pthread_mutex_t spill_lock;	/* guards the three below */
	int spill_fd;			/* -1 until needed */
	off_t spill_end;
	int spill_broken;		/* could not make or write it */
	atomic_size_t spilled;

	pthread_mutex_t write_lock;	/* line-buffer mode: one writer */

	struct strbuf wbuf;		/* pending writes to wfd (main thread) */
	int wfd;
};

void
output_new(struct output **op, const struct output_opts *opts)
{
	struct output *o = ccmap__xcalloc(1, sizeof *o);
	const char *dir = opts->tmpdir ? opts->tmpdir : getenv("TMPDIR");

	o->linebuffer = opts->linebuffer;
	o->mem_limit = opts->mem_limit ? opts->mem_limit : DEFAULT_MEM_LIMIT;
	o->fd[0] = opts->fd[0];
	o->fd[1] = opts->fd[1];
	o->tmpdir = ccmap__xstrdup(dir && *dir ? dir : "/tmp");
	o->spill_fd = -1;
	o->wfd = -1;
	pthread_mutex_init(&o->spill_lock, NULL);
	pthread_mutex_init(&o->write_lock, NULL);
	*op = o;
}

void
output_free(struct output *o)
{
	if (!o)
		return;
	if (o->spill_fd >= 0)
		close(o->spill_fd);
	pthread_mutex_destroy(&o->spill_lock);
	pthread_mutex_destroy(&o->write_lock);
	strbuf_release(&o->wbuf);
	free(o->tmpdir);
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
	return atomic_load(&o->spilled);
}

static void
set_error(struct output *o, int e)
{
	int zero = 0;

	atomic_compare_exchange_strong(&o->err, &zero, e);
}

void
joboutput_init(struct joboutput *jo)
{
	memset(jo, 0, sizeof *jo);
}

void
joboutput_release(struct output *o, struct joboutput *jo)
{
	for (int i = 0; i < 2; i++) {
		if (!o->linebuffer)
			atomic_fetch_sub(&o->mem_used, jo->s[i].mem.len);
		strbuf_release(&jo->s[i].mem);
		free(jo->s[i].ext);
	}
	memset(jo->s, 0, sizeof jo->s);
}

/*
 * The spill file: made in the temporary directory and unlinked at once
 * (O_TMPFILE where the file system has it), so it disappears with us.
 * Called with spill_lock held.
 */
static int
spill_open(struct output *o)
{
	struct strbuf path = STRBUF_INIT;
	int fd;

	if (o->spill_fd >= 0 || o->spill_broken)
		return o->spill_fd;
	fd = open(o->tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		strbuf_addstr(&path, o->tmpdir);
		strbuf_addstr(&path, "/ccmap.XXXXXX");
		fd = mkostemp(path.buf, O_CLOEXEC);
		if (fd >= 0)
			unlink(path.buf);
		strbuf_release(&path);
	}
	if (fd < 0)
		o->spill_broken = 1;
	o->spill_fd = fd;
	return fd;
}

/* Append a and b to the spill file as one extent of s; 0 or -1. */
static int
spill(struct output *o, struct sink *s, const char *a, size_t alen,
    const char *b, size_t blen)
{
	struct iovec iov[2] = {
		{ (void *)a, alen }, { (void *)b, blen },
	};
	size_t len = alen + blen, done = 0;
	off_t off;
	int r = -1;

	pthread_mutex_lock(&o->spill_lock);
	if (spill_open(o) < 0)
		goto out;
	off = o->spill_end;
	while (done < len) {
		ssize_t w = pwritev(o->spill_fd, iov, 2, off + (off_t)done);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto out;	/* disk full: keep it in memory */
		}
		done += (size_t)w;
		for (int i = 0; i < 2; i++) {
			size_t k = (size_t)w < iov[i].iov_len ? (size_t)w :
			    iov[i].iov_len;
			iov[i].iov_base = (char *)iov[i].iov_base + k;
			iov[i].iov_len -= k;
			w -= (ssize_t)k;
		}
	}
	o->spill_end += (off_t)len;
	r = 0;
out:
	pthread_mutex_unlock(&o->spill_lock);
	if (r < 0)
		return r;
	atomic_fetch_add(&o->spilled, len);
	if (s->next && s->ext[s->next - 1].off +
	    (off_t)s->ext[s->next - 1].len == off) {
		s->ext[s->next - 1].len += len;
		return 0;
	}
	if (s->next == s->extcap) {
		s->extcap = s->extcap ? s->extcap * 2 : 4;
		s->ext = ccmap__xrealloc(s->ext, s->extcap * sizeof *s->ext);
	}
	s->ext[s->next++] = (struct extent){ off, len };
	return 0;
}

/* Write len bytes to fd, each line prefixed with the tag; 0 or -errno. */
static int
write_tagged(int fd, const struct joboutput *jo, int *bol, const char *p,
    size_t len, struct strbuf *scratch)
{
	if (!jo->tag) {
		*bol = len ? p[len - 1] == '\n' : *bol;
		return ccmap__write_all(fd, p, len);
	}
	strbuf_reset(scratch);
	while (len) {
		const char *nl = memchr(p, '\n', len);
		size_t n = nl ? (size_t)(nl - p) + 1 : len;
		if (*bol) {
			strbuf_add(scratch, jo->tag, jo->taglen);
			strbuf_addch(scratch, '\t');
		}
		strbuf_add(scratch, p, n);
		*bol = nl != NULL;
		p += n;
		len -= n;
	}
	return ccmap__write_all(fd, scratch->buf, scratch->len);
}

/* Line-buffer mode: write the whole lines of s now. */
static void
write_lines(struct output *o, struct joboutput *jo, int stream, int all)
{
	struct sink *s = &jo->s[stream];
	struct strbuf scratch = STRBUF_INIT;
	const char *end;
	size_t n;
	int bol = 1, r;

	if (!s->mem.len)
		return;
	end = all ? s->mem.buf + s->mem.len :
	    memrchr(s->mem.buf, '\n', s->mem.len);
	if (!end)
		return;
	n = (size_t)(end - s->mem.buf) + !all;
	pthread_mutex_lock(&o->write_lock);
	if (!atomic_load(&o->err) && (r = write_tagged(o->fd[stream], jo, &bol,
	    s->mem.buf, n, &scratch)) < 0)
		set_error(o, r);
	pthread_mutex_unlock(&o->write_lock);
	memmove(s->mem.buf, s->mem.buf + n, s->mem.len - n);
	s->mem.len -= n;
	strbuf_release(&scratch);
}

void
output_data(struct output *o, struct joboutput *jo, int stream,
    const char *buf, size_t len)
{
	struct sink *s = &jo->s[stream - 1];

	if (o->linebuffer) {
		strbuf_add(&s->mem, buf, len);
		write_lines(o, jo, stream - 1, 0);
		return;
	}
	if (atomic_load(&o->mem_used) + len > o->mem_limit &&
	    spill(o, s, s->mem.buf, s->mem.len, buf, len) == 0) {
		atomic_fetch_sub(&o->mem_used, s->mem.len);
		strbuf_release(&s->mem);
		return;
	}
	atomic_fetch_add(&o->mem_used, len);
	strbuf_add(&s->mem, buf, len);
}

int
output_flush(struct output *o)
{
	int r = 0;

	if (o->wbuf.len && !atomic_load(&o->err)) {
		if ((r = ccmap__write_all(o->wfd, o->wbuf.buf, o->wbuf.len)) < 0)
			set_error(o, r);
	}
	strbuf_reset(&o->wbuf);
	if (o->wbuf.alloc > 4 * WRITE_BUF)
		strbuf_release(&o->wbuf);
	return atomic_load(&o->err);
}

/* Queue bytes for fd in the write buffer, with tags. */
static int
queue(struct output *o, int fd, const struct joboutput *jo, int *bol,
    const char *p, size_t len)
{
	if (o->wfd != fd) {
		output_flush(o);
		o->wfd = fd;
	}
	if (!jo->tag) {
		if (len)
			*bol = p[len - 1] == '\n';
		strbuf_add(&o->wbuf, p, len);
	} else {
		while (len) {
			const char *nl = memchr(p, '\n', len);
			size_t n = nl ? (size_t)(nl - p) + 1 : len;
			if (*bol) {
				strbuf_add(&o->wbuf, jo->tag, jo->taglen);
				strbuf_addch(&o->wbuf, '\t');
			}
			strbuf_add(&o->wbuf, p, n);
			*bol = nl != NULL;
			p += n;
			len -= n;
		}
	}
	if (o->wbuf.len >= WRITE_BUF)
		return output_flush(o);
	return 0;
}

int
output_emit(struct output *o, struct joboutput *jo)
{
	char *buf = NULL;

	if (o->linebuffer) {
		write_lines(o, jo, 0, 1);
		write_lines(o, jo, 1, 1);
		joboutput_release(o, jo);
		return atomic_load(&o->err);
	}
	for (int i = 0; i < 2 && !atomic_load(&o->err); i++) {
		struct sink *s = &jo->s[i];
		int bol = 1;
		for (size_t e = 0; e < s->next; e++) {
			off_t off = s->ext[e].off;
			size_t left = s->ext[e].len;
			if (!buf)
				buf = ccmap__xmalloc(WRITE_BUF);
			while (left) {
				ssize_t n = pread(o->spill_fd, buf, left < WRITE_BUF ?
				    left : WRITE_BUF, off);
				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0) {
					set_error(o, n < 0 ? -errno : -EIO);
					break;
				}
				queue(o, o->fd[i], jo, &bol, buf, (size_t)n);
				off += n;
				left -= (size_t)n;
			}
		}
		queue(o, o->fd[i], jo, &bol, s->mem.buf, s->mem.len);
	}
	free(buf);
	joboutput_release(o, jo);
	return atomic_load(&o->err);
}

void
reorder_init(struct reorder *r, unsigned long long first)
{
	r->cap = 64;
	r->slot = ccmap__xcalloc(r->cap, sizeof *r->slot);
	r->head = first;
	r->count = 0;
}

void
reorder_release(struct reorder *r)
{
	free(r->slot);
	r->slot = NULL;
}

void
reorder_put(struct reorder *r, unsigned long long seq, void *item)
{
	while (seq - r->head >= r->cap) {
		size_t ncap = r->cap * 2;
		void **ns = ccmap__xcalloc(ncap, sizeof *ns);
		for (size_t i = 0; i < r->cap; i++) {
			unsigned long long s = r->head + i;
			ns[s & (ncap - 1)] = r->slot[s & (r->cap - 1)];
		}
		free(r->slot);
		r->slot = ns;
		r->cap = ncap;
	}
	r->slot[seq & (r->cap - 1)] = item;
	r->count++;
}

void *
reorder_pop(struct reorder *r)
{
	void **p = &r->slot[r->head & (r->cap - 1)];
	void *item = *p;

	if (!item)
		return NULL;
	*p = NULL;
	r->head++;
	r->count--;
	return item;
}
