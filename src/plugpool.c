/*
 * plugpool.c: worker processes for plugins, ccmap's side: chunks out to
 * the workers, their results back from shared memory (see plugpool.h;
 * the workers' side is plugworker.c).
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
#include "plugshm.h"
#include "plugworker.h"
#include "proto.h"
#include "wpipe.h"

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
	struct plugshm *shm;
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

static int
start_worker(struct pwork *w)
{
	struct plugworker pw = {
		.ops = &w->pp->ops, .opts = &w->pp->opts, .slot = w->slot,
	};
	void *shm = mmap(NULL, PLUGSHM_SIZE, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int r;

	if (shm == MAP_FAILED)
		return -errno;
	w->shm = pw.shm = shm;
	w->timed_out = 0;
	w->chunks_done = 0;
	/* (The worker runs in the fork: pw is its copy, and stays.) */
	if ((r = wpipe_start(&w->p, plugworker_main, &pw)) < 0) {
		munmap(shm, PLUGSHM_SIZE);
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
			munmap(w->shm, PLUGSHM_SIZE);
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
	char *base = plugshm_half(w->shm, h);

	for (size_t i = 0; i < n; ) {
		struct plugshm_rec r, q;
		memcpy(&r, plugshm_rec(base, i), sizeof r);
		size_t k = 1, olen = r.olen;
		struct ppend *p = owner(pp, w, r.seq);
		if (p && !r.status && !r.elen) {
			uint64_t end = p->first + p->count;
			for (; i + k < n; k++) {
				memcpy(&q, plugshm_rec(base, i + k), sizeof q);
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
		    f.h.len >= sizeof(struct plugshm_rec)) {
			struct plugshm_rec r;
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
	munmap(w->shm, PLUGSHM_SIZE);
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
