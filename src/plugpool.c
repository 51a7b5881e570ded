/*
 * plugpool.c: worker processes for plugins, with results in shared memory
 * (see plugpool.h).
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"
#include "plugpool.h"
#include "proto.h"
#include "scan.h"
#include "wpipe.h"

#define SHM_SIZE (1u << 20)
#define READ_CHUNK (64 * 1024)

/*
 * The start of a worker's shared buffer.  Two halves of results follow it:
 * the worker fills one while ccmap reads the other, so neither waits for
 * the other as long as ccmap keeps up.
 *
 * In a half, the items' output bytes grow from its start, one after
 * another, and an entry per item (struct rec) grows down from its end.
 * So the output of items that ran in a row lies in one piece, and ccmap
 * hands it on whole, not item by item.  committed[h] holds both counts in
 * one word, stored with release after each item: the number of entries
 * (high half) and of output bytes (low half).
 */
struct shm_hdr {
	atomic_ullong committed[2];
	atomic_int cur;			/* the half the worker fills */
	atomic_ullong busy_seq;		/* the item being mapped, or 0 */
	atomic_size_t busy_count;	/* and how many from it (map_batch) */
	atomic_llong busy_since;	/* since when (monotonic ns) */
	char pad[128 - 2 * sizeof(atomic_ullong) - sizeof(atomic_int) -
	    sizeof(atomic_ullong) - sizeof(atomic_size_t) -
	    sizeof(atomic_llong)];
};

#define HALF ((SHM_SIZE - sizeof(struct shm_hdr)) / 2 & ~(size_t)7)

static char *
half(struct shm_hdr *shm, int h)
{
	return (char *)(shm + 1) + (size_t)h * HALF;
}

/* One item's result: its olen + elen output bytes are elsewhere. */
struct rec {
	uint64_t seq;
	int32_t status;
	uint32_t olen, elen, pad;
};

/* The i-th entry of a half. */
static char *
rec_at(char *half, size_t i)
{
	return half + HALF - (i + 1) * sizeof(struct rec);
}

static uint64_t
pack_committed(size_t entries, size_t bytes)
{
	return (uint64_t)entries << 32 | bytes;
}

/* A chunk given to a worker and not finished. */
struct ppend {
	void *cookie;
	uint64_t first, next;	/* its first item, the next to report */
	size_t count;
	const char *block;	/* its items (the caller's, until done) */
	size_t len;		/* from block[0]: those not yet reported */
	int delim;		/* what ends each item in block */
};

struct pwork {
	struct wpipe p;
	unsigned slot;
	struct plugpool *pp;
	struct shm_hdr *shm;
	struct ppend *q;	/* a ring, oldest first */
	size_t qhead, qn, qcap;
	uint64_t chunks_done;	/* chunks of this worker reported done */
	int timed_out;
	uint64_t timeout_seq;	/* the item it was killed for */
};

struct plugpool {
	struct pwork *w;
	struct plugpool_opts opts;
	struct plugpool_ops ops;
	int stopping;
};

/* --- in a worker --------------------------------------------------------- */

static volatile sig_atomic_t worker_stopping;

static void
worker_on_signal(int sig)
{
	(void)sig;
	worker_stopping = 1;
}

/* What a worker process keeps. */
struct wproc {
	struct plugpool *pp;
	struct pwork *w;
	int in, out;
	struct strbuf inbuf;	/* frames read, from inoff on not yet used */
	size_t inoff;
	size_t ackoff;		/* searched for ACKs up to here */
	int acked[2];		/* ccmap is done with that half */
	uint64_t chunks_done;	/* chunks finished */
	uint64_t chunks_told;	/* and told of */
	uint64_t busy_ns, busy_items;	/* mapping since the last FLUSH */
	struct strbuf chunk;	/* the chunk being mapped (a copy) */
};

/* Read what the pipe has (blocking until something); 0 at its end. */
static int
wfill(struct wproc *wp)
{
	ssize_t n;

	if (wp->inoff == wp->inbuf.len) {
		strbuf_reset(&wp->inbuf);
		wp->inoff = wp->ackoff = 0;
	}
	strbuf_grow(&wp->inbuf, READ_CHUNK);
	do
		n = read(wp->in, wp->inbuf.buf + wp->inbuf.len, READ_CHUNK);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return 0;
	wp->inbuf.len += (size_t)n;
	return 1;
}

/*
 * Take the ACKs out of what was read (they may stand behind chunks that
 * wait their turn), marking them used (type 0).
 */
static void
wtake_acks(struct wproc *wp)
{
	size_t off = wp->ackoff > wp->inoff ? wp->ackoff : wp->inoff;
	struct frame f;
	long n;

	while ((n = proto_parse_any(wp->inbuf.buf + off, wp->inbuf.len - off,
	    &f)) > 0) {
		if (f.h.type == FRAME_ACK) {
			wp->acked[f.h.seq & 1] = 1;
			struct frame_hdr used = { 0, f.h.len, 0 };
			memcpy(wp->inbuf.buf + off, &used, sizeof used);
		}
		off += (size_t)n;
	}
	wp->ackoff = off;
}

/* Tell ccmap of the records in the half being filled and move on. */
static void
wflush(struct wproc *wp)
{
	struct shm_hdr *shm = wp->w->shm;
	int h = atomic_load(&shm->cur);

	if (!atomic_load(&shm->committed[h]) &&
	    wp->chunks_told == wp->chunks_done)
		return;
	uint64_t told[3] = { wp->chunks_done, wp->busy_ns, wp->busy_items };
	wp->acked[h] = 0;
	wpipe_send(wp->out, FRAME_FLUSH, (uint64_t)h, told, sizeof told);
	wp->chunks_told = wp->chunks_done;
	wp->busy_ns = wp->busy_items = 0;
	/* The other half, once ccmap has read it. */
	while (!wp->acked[h ^ 1]) {
		wtake_acks(wp);
		if (!wp->acked[h ^ 1] && !wfill(wp))
			_exit(0);	/* ccmap is gone */
	}
	atomic_store(&shm->committed[h ^ 1], 0);
	atomic_store(&shm->cur, h ^ 1);
}

/* wput when the half is full, or the result too big for it. */
static __attribute__((noinline)) void
wput_slow(struct wproc *wp, uint64_t seq, int status, struct strbuf out[2])
{
	struct shm_hdr *shm = wp->w->shm;
	int h = atomic_load(&shm->cur);
	size_t olen = out[0].len, elen = out[1].len;
	struct rec r = { seq, status, (uint32_t)olen, (uint32_t)elen, 0 };

	if (atomic_load(&shm->committed[h]))
		wflush(wp);	/* then there is room, unless it is too big */
	if (olen + elen + sizeof r <= HALF) {
		char *base = half(shm, atomic_load(&shm->cur));
		util_copy(base, out[0].buf, olen);
		util_copy(base + olen, out[1].buf, elen);
		memcpy(rec_at(base, 0), &r, sizeof r);
		atomic_store_explicit(&shm->committed[atomic_load(&shm->cur)],
		    pack_committed(1, olen + elen), memory_order_release);
		return;
	}
	/* Too big to share: through the pipe, in its turn. */
	struct strbuf big = STRBUF_INIT;
	strbuf_add(&big, &r, sizeof r);
	strbuf_add(&big, out[0].buf, olen);
	strbuf_add(&big, out[1].buf, elen);
	wpipe_send(wp->out, FRAME_RESULT, seq, big.buf, big.len);
	strbuf_release(&big);
}

/* An item's result into the half being filled, committed at once. */
static inline void
wput(struct wproc *wp, uint64_t seq, int status, struct strbuf out[2])
{
	struct shm_hdr *shm = wp->w->shm;
	int h = atomic_load_explicit(&shm->cur, memory_order_relaxed);
	uint64_t c = atomic_load_explicit(&shm->committed[h],
	    memory_order_relaxed);
	size_t n = (size_t)(c >> 32), at = (uint32_t)c;
	size_t olen = out[0].len, elen = out[1].len;

	if (at + olen + elen + (n + 1) * sizeof(struct rec) > HALF) {
		wput_slow(wp, seq, status, out);
		return;
	}
	char *base = half(shm, h);
	struct rec r = { seq, status, (uint32_t)olen, (uint32_t)elen, 0 };
	util_copy(base + at, out[0].buf, olen);
	util_copy(base + at + olen, out[1].buf, elen);
	memcpy(rec_at(base, n), &r, sizeof r);
	atomic_store_explicit(&shm->committed[h],
	    pack_committed(n + 1, at + olen + elen), memory_order_release);
}

/*
 * Say what the worker is on, for ccmap to see should it die or run late.
 * busy_seq is stored last, with release: whoever sees it sees the rest.
 */
static void
set_busy(struct shm_hdr *shm, uint64_t seq, size_t count, int timed)
{
	if (timed)
		atomic_store_explicit(&shm->busy_since, util_now_ns(),
		    memory_order_relaxed);
	atomic_store_explicit(&shm->busy_count, count, memory_order_relaxed);
	atomic_store_explicit(&shm->busy_seq, seq, memory_order_release);
}

/* Map the items of one chunk (its first byte is the items' delimiter). */
static void
wchunk(struct wproc *wp, uint64_t seq, const char *p, size_t len,
    struct strbuf out[2])
{
	struct plugpool *pp = wp->pp;
	struct shm_hdr *shm = wp->w->shm;
	const char *end = p + len, *d;
	int delim = len ? (unsigned char)*p++ : 0;
	struct scan sc;
	long long t0 = util_now_ns();
	uint64_t first = seq;

	if (pp->ops.map_batch && !worker_stopping) {
		/* The whole chunk in one call: it stands or falls together. */
		struct value *items = NULL;
		size_t n = 0, cap = 0;
		scan_init(&sc, p, (size_t)(end - p), delim);
		for (; (d = scan_next(&sc)) != NULL; p = d + 1) {
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				items = util_realloc(items, cap * sizeof *items);
			}
			items[n++] = (struct value){ p, (size_t)(d - p) };
		}
		struct strbuf *outs = util_calloc(2 * n + 1, sizeof *outs);
		int *status = util_calloc(n + 1, sizeof *status);
		set_busy(shm, seq, n, pp->opts.timeout_ns != 0);
		pp->ops.map_batch(pp->ops.arg, wp->w->slot, seq, items, n, outs,
		    status);
		for (size_t i = 0; i < n; i++) {
			wput(wp, seq + i, status[i], &outs[2 * i]);
			strbuf_release(&outs[2 * i]);
			strbuf_release(&outs[2 * i + 1]);
		}
		set_busy(shm, 0, 0, 0);
		free(outs);
		free(status);
		free(items);
		seq += n;
		p = end;
	}
	/*
	 * Item by item.  busy_seq names the item being mapped; once its result
	 * is committed it may go on naming it (ccmap skips what was told),
	 * except with a timeout, where it must not look busy while it waits.
	 */
	int timed = pp->opts.timeout_ns != 0;
	if (!timed)
		set_busy(shm, seq, 1, 0);
	const char *ends[64];
	size_t n;
	scan_init(&sc, p, (size_t)(end - p), delim);
	while (!worker_stopping &&
	    (n = scan_fill(&sc, ends, ARRAY_SIZE(ends))) > 0) {
		for (size_t k = 0; k < n && !worker_stopping; k++) {
			int st;

			if (timed)
				set_busy(shm, seq, 1, 1);
			else
				atomic_store_explicit(&shm->busy_seq, seq,
				    memory_order_release);
			strbuf_reset(&out[0]);
			strbuf_reset(&out[1]);
			st = pp->ops.map(pp->ops.arg, wp->w->slot, seq, p,
			    (size_t)(ends[k] - p), out);
			wput(wp, seq, st, out);
			if (timed)
				set_busy(shm, 0, 0, 0);
			seq++;
			p = ends[k] + 1;
		}
	}
	set_busy(shm, 0, 0, 0);
	wp->chunks_done++;
	wp->busy_ns += (uint64_t)(util_now_ns() - t0);
	wp->busy_items += seq - first;
}

/*
 * The next chunk into wp->chunk: 1 and its first item's number in *seq,
 * or 0 at the end.  Before waiting for one, what is done is told.
 */
static int
wnext(struct wproc *wp, uint64_t *seq)
{
	struct frame f;
	long n;

	for (;;) {
		n = proto_parse_any(wp->inbuf.buf + wp->inoff,
		    wp->inbuf.len - wp->inoff, &f);
		if (n < 0)
			_exit(1);
		if (n > 0) {
			wp->inoff += (size_t)n;
			if (f.h.type == 0)
				continue;	/* an ACK already taken */
			if (f.h.type == FRAME_ACK) {
				wp->acked[f.h.seq & 1] = 1;
				continue;
			}
			if (f.h.type != FRAME_CHUNK)
				_exit(1);
			strbuf_reset(&wp->chunk);
			strbuf_add(&wp->chunk, f.payload, f.h.len);
			*seq = f.h.seq;
			return 1;
		}
		/* Nothing to do: say what is done, then wait for more. */
		size_t left = wp->inbuf.len - wp->inoff;
		wflush(wp);
		if (wp->inbuf.len - wp->inoff != left)
			continue;	/* more came while it waited for an ACK */
		if (!wfill(wp))
			return 0;
	}
}

static void
worker_main(void *arg, int in, int out)
{
	struct pwork *w = arg;
	struct plugpool *pp = w->pp;
	struct wproc wp = { .pp = pp, .w = w, .in = in, .out = out };
	struct strbuf res[2] = { STRBUF_INIT, STRBUF_INIT };
	unsigned tasks = 0;
	int keep[3] = { in, out, pp->opts.keep_fd };

	wpipe_worker_setup(worker_on_signal, pp->opts.keep_fd, keep, 3);

	pp->ops.start(pp->ops.arg, w->slot);
	wp.acked[0] = wp.acked[1] = 1;
	atomic_store(&w->shm->cur, 0);
	for (uint64_t seq; wnext(&wp, &seq); ) {
		wchunk(&wp, seq, wp.chunk.buf, wp.chunk.len, res);
		if (pp->opts.max_tasks && ++tasks >= pp->opts.max_tasks) {
			wflush(&wp);
			break;
		}
	}
	pp->ops.end(pp->ops.arg);
	_exit(0);
}

/* --- in ccmap ------------------------------------------------------------- */

static int
start_worker(struct pwork *w)
{
	void *shm = mmap(NULL, SHM_SIZE, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int r;

	if (shm == MAP_FAILED)
		return -errno;
	w->shm = shm;
	w->timed_out = 0;
	w->chunks_done = 0;
	if ((r = wpipe_start(&w->p, worker_main, w)) < 0) {
		munmap(shm, SHM_SIZE);
		w->shm = NULL;
	}
	return r;
}

int
plugpool_new(struct plugpool **ppp, const struct plugpool_opts *opts,
    const struct plugpool_ops *ops)
{
	struct plugpool *pp = util_calloc(1, sizeof *pp);
	int r = 0;

	pp->opts = *opts;
	pp->ops = *ops;
	pp->w = util_calloc(opts->workers, sizeof *pp->w);
	for (unsigned i = 0; i < opts->workers; i++) {
		wpipe_init(&pp->w[i].p);
		pp->w[i].slot = i + 1;
		pp->w[i].pp = pp;
	}
	for (unsigned i = 0; i < opts->workers && r == 0; i++)
		r = start_worker(&pp->w[i]);
	if (r < 0) {
		plugpool_free(pp);
		return r;
	}
	*ppp = pp;
	return 0;
}

static void
pop_front(struct pwork *w)
{
	w->qhead = (w->qhead + 1) % w->qcap;
	w->qn--;
}

void
plugpool_free(struct plugpool *pp)
{
	if (!pp)
		return;
	for (unsigned i = 0; i < pp->opts.workers; i++) {
		struct pwork *w = &pp->w[i];
		wpipe_release(&w->p);
		while (w->qn)
			pop_front(w);
		free(w->q);
		if (w->shm)
			munmap(w->shm, SHM_SIZE);
	}
	free(pp->w);
	free(pp);
}

/* Queue the CHUNK frame of a pending chunk. */
static void
send_chunk(struct pwork *w, const struct ppend *p)
{
	proto_put_hdr(&w->p.wbuf, FRAME_CHUNK, (uint32_t)p->len + 1, p->first);
	strbuf_addch(&w->p.wbuf, p->delim);
	strbuf_add(&w->p.wbuf, p->block, p->len);
}

void
plugpool_submit(struct plugpool *pp, void *cookie, unsigned long long first,
    size_t count, const char *block, size_t len, int delim)
{
	struct pwork *w = &pp->w[0];

	for (unsigned i = 1; i < pp->opts.workers; i++)
		if (pp->w[i].qn < w->qn)
			w = &pp->w[i];
	if (w->qn == w->qcap) {
		size_t ncap = w->qcap ? w->qcap * 2 : 4;
		struct ppend *nq = util_calloc(ncap, sizeof *nq);
		for (size_t k = 0; k < w->qn; k++)
			nq[k] = w->q[(w->qhead + k) % w->qcap];
		free(w->q);
		w->q = nq;
		w->qcap = ncap;
		w->qhead = 0;
	}
	struct ppend *p = &w->q[(w->qhead + w->qn++) % w->qcap];
	*p = (struct ppend){ cookie, first, first, count, block, len, delim };
	send_chunk(w, p);
	if (w->p.wbuf.len >= 64 * 1024)
		wpipe_flush(&w->p);
}

void
plugpool_flush(struct plugpool *pp)
{
	for (unsigned i = 0; i < pp->opts.workers; i++)
		if (wpipe_pending(&pp->w[i].p))
			wpipe_flush(&pp->w[i].p);
}

size_t
plugpool_nfds(const struct plugpool *pp)
{
	return 2 * (size_t)pp->opts.workers;
}

size_t
plugpool_pollfds(struct plugpool *pp, struct pollfd *fds)
{
	for (unsigned i = 0; i < pp->opts.workers; i++)
		wpipe_pollfds(&pp->w[i].p, fds + 2 * i);
	return 2 * (size_t)pp->opts.workers;
}

int
plugpool_timeout_ms(const struct plugpool *pp)
{
	long long now = util_now_ns(), best = -1;

	if (!pp->opts.timeout_ns)
		return -1;
	for (unsigned i = 0; i < pp->opts.workers; i++) {
		struct pwork *w = &pp->w[i];
		long long left;
		if (!w->shm || !w->p.pid || w->timed_out || !w->qn)
			continue;
		if (!atomic_load(&w->shm->busy_seq)) {
			/*
			 * It has items but is on none: it may start one any
			 * moment and say nothing, so look again soon.
			 */
			left = pp->opts.timeout_ns / 4 < 100000000LL ?
			    pp->opts.timeout_ns / 4 : 100000000LL;
		} else {
			left = atomic_load(&w->shm->busy_since) +
			    pp->opts.timeout_ns - now;
		}
		if (left < 0)
			left = 0;
		if (best < 0 || left < best)
			best = left;
	}
	return best < 0 ? -1 : (int)((best + 999999) / 1000000);
}

static void
chunk_done(struct plugpool *pp, struct pwork *w)
{
	if (!w->qn)
		return;
	void *cookie = w->q[w->qhead].cookie;
	pop_front(w);
	w->chunks_done++;
	pp->ops.done(pp->ops.arg, cookie);
}

static int
complete(const struct ppend *p)
{
	return p->next >= p->first + p->count;
}

/*
 * The chunk item seq belongs to, if it was not told yet, else NULL.  The
 * chunks wholly told before it are done.
 */
static struct ppend *
owner(struct plugpool *pp, struct pwork *w, uint64_t seq)
{
	struct ppend *p;

	while (w->qn && complete(p = &w->q[w->qhead]) &&
	    seq >= p->first + p->count)
		chunk_done(pp, w);
	p = w->qn ? &w->q[w->qhead] : NULL;
	if (!p || seq < p->next || seq >= p->first + p->count)
		return NULL;	/* told already (or not ours) */
	return p;
}

/* Hand on count items of p from seq, whose output is out and err. */
static void
deliver(struct plugpool *pp, struct ppend *p, uint64_t seq, size_t count,
    int status, const char *out, size_t olen, const char *err, size_t elen)
{
	pp->ops.result(pp->ops.arg, p->cookie, seq, count, status, out, olen,
	    err, elen);
	p->next = seq + count;
}

/*
 * Hand on the results in one half of w's shared buffer: items that ran in
 * a row, succeeded and wrote nothing on stderr, as one piece.
 */
static void
drain_half(struct plugpool *pp, struct pwork *w, int h)
{
	uint64_t c = atomic_load_explicit(&w->shm->committed[h],
	    memory_order_acquire);
	size_t n = (size_t)(c >> 32), bytes = (uint32_t)c, at = 0;
	char *base = half(w->shm, h);

	for (size_t i = 0; i < n; ) {
		struct rec r, q;
		memcpy(&r, rec_at(base, i), sizeof r);
		size_t k = 1, olen = r.olen;
		struct ppend *p = owner(pp, w, r.seq);
		if (p && !r.status && !r.elen) {
			uint64_t end = p->first + p->count;
			for (; i + k < n; k++) {
				memcpy(&q, rec_at(base, i + k), sizeof q);
				if (q.seq != r.seq + k || q.seq >= end ||
				    q.status || q.elen)
					break;
				olen += q.olen;
			}
		}
		if (at + olen + r.elen > bytes)
			break;	/* cannot be: the worker wrote it before */
		if (p)
			deliver(pp, p, r.seq, k, r.status, base + at, olen,
			    base + at + olen, r.elen);
		at += olen + r.elen;
		i += k;
	}
}

/* Parse the frames that came from w. */
static int
parse_frames(struct plugpool *pp, struct pwork *w)
{
	size_t off = 0;
	struct frame f;
	long n;

	while ((n = proto_parse(w->p.rbuf.buf + off, w->p.rbuf.len - off,
	    &f)) > 0) {
		off += (size_t)n;
		if (f.h.type == FRAME_FLUSH && f.h.len == 3 * sizeof(uint64_t)) {
			uint64_t told[3];	/* chunks done, ns and items mapped */
			memcpy(told, f.payload, sizeof told);
			drain_half(pp, w, (int)(f.h.seq & 1));
			proto_put_hdr(&w->p.wbuf, FRAME_ACK, 0, f.h.seq & 1);
			if (pp->ops.timing && told[2])
				pp->ops.timing(pp->ops.arg, (long long)told[1],
				    (size_t)told[2]);
			while (w->qn && w->chunks_done < told[0])
				chunk_done(pp, w);
			wpipe_flush(&w->p);
		} else if (f.h.type == FRAME_RESULT &&
		    f.h.len >= sizeof(struct rec)) {
			struct rec r;
			struct ppend *p;
			memcpy(&r, f.payload, sizeof r);
			if (sizeof r + (size_t)r.olen + r.elen > f.h.len)
				return -EPROTO;
			if ((p = owner(pp, w, r.seq)) != NULL)
				deliver(pp, p, r.seq, 1, r.status,
				    f.payload + sizeof r, r.olen,
				    f.payload + sizeof r + r.olen, r.elen);
		} else {
			return -EPROTO;
		}
	}
	wpipe_consume(&w->p, off);
	return n < 0 ? (int)n : 0;
}

/*
 * w ended: what it committed is delivered, the item it was mapping is
 * lost, and its other items go to a new worker in its place.
 */
static int
replace_worker(struct plugpool *pp, struct pwork *w)
{
	int status = wpipe_stop(&w->p);
	uint64_t busy = atomic_load(&w->shm->busy_seq);
	struct ppend *p;

	/* What it committed and did not tell yet (told records are skipped). */
	drain_half(pp, w, atomic_load(&w->shm->cur) & 1);
	while (w->qn && complete(&w->q[w->qhead]))
		chunk_done(pp, w);
	p = w->qn ? &w->q[w->qhead] : NULL;
	/*
	 * The items it was on (several, for map_batch) and never reported.
	 * But killed for a timeout just as the late item ended, it was on
	 * another, which was not at fault: that one runs again, elsewhere.
	 */
	if (w->timed_out && busy != w->timeout_seq)
		busy = 0;
	uint64_t busy_end = busy + atomic_load(&w->shm->busy_count);
	for (uint64_t s = busy; p && busy && s < busy_end; s++) {
		if (s < p->next || s >= p->first + p->count)
			continue;
		int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
		int code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
		pp->ops.lost(pp->ops.arg, p->cookie, s, sig, code,
		    w->timed_out);
		p->next = s + 1;
	}
	munmap(w->shm, SHM_SIZE);
	w->shm = NULL;
	while (w->qn && complete(&w->q[w->qhead]))
		chunk_done(pp, w);
	if (pp->stopping) {
		while (w->qn)
			chunk_done(pp, w);
		return 0;
	}
	int r = start_worker(w);
	if (r < 0)
		return r;
	/* Send again what it had: the rest of the first chunk, and the others. */
	for (size_t k = 0; k < w->qn; k++) {
		p = &w->q[(w->qhead + k) % w->qcap];
		if (p->next > p->first) {
			/* Drop the items already reported from the block. */
			const char *b = p->block, *end = p->block + p->len;
			for (uint64_t s = p->first; s < p->next && b < end; s++) {
				const char *d = memchr(b, p->delim,
				    (size_t)(end - b));
				b = d ? d + 1 : end;
			}
			p->len -= (size_t)(b - p->block);
			p->block = b;
			p->count -= (size_t)(p->next - p->first);
			p->first = p->next;
		}
		send_chunk(w, p);
	}
	wpipe_flush(&w->p);
	return 0;
}

int
plugpool_handle(struct plugpool *pp, const struct pollfd *fds, size_t n)
{
	long long now = util_now_ns();
	int r;

	for (unsigned i = 0; i < pp->opts.workers && 2 * i + 1 < n; i++) {
		struct pwork *w = &pp->w[i];

		uint64_t busy;
		if (pp->opts.timeout_ns && w->p.pid && !w->timed_out &&
		    (busy = atomic_load(&w->shm->busy_seq)) != 0 &&
		    now - atomic_load(&w->shm->busy_since) >=
		    pp->opts.timeout_ns) {
			w->timed_out = 1;
			w->timeout_seq = busy;
			kill(-w->p.pid, SIGKILL);
		}
		long got = wpipe_handle(&w->p, fds + 2 * i);
		if (got == -EAGAIN)
			continue;
		if (got == 0) {
			if ((r = replace_worker(pp, w)) < 0)
				return r;
			continue;
		}
		if ((r = parse_frames(pp, w)) < 0)
			return r;
	}
	return 0;
}

void
plugpool_kill(struct plugpool *pp, int sig)
{
	pp->stopping = 1;
	for (unsigned i = 0; i < pp->opts.workers; i++)
		if (pp->w[i].p.pid > 0)
			kill(-pp->w[i].p.pid, sig);
}

unsigned
plugpool_busy(const struct plugpool *pp)
{
	unsigned n = 0;

	for (unsigned i = 0; i < pp->opts.workers; i++)
		n += pp->w[i].qn > 0;
	return n;
}
