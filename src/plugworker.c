/*
 * plugworker.c: what runs in a plugin worker process (see plugworker.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugshm.h"
#include "plugworker.h"
#include "proto.h"
#include "scan.h"
#include "util.h"
#include "wpipe.h"

#define READ_CHUNK (64 * 1024)

static volatile sig_atomic_t worker_stopping;

static void
worker_on_signal(int sig)
{
	(void)sig;
	worker_stopping = 1;
}

/* What a worker process keeps. */
struct wproc {
	const struct plugworker *pw;
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
	struct plugshm *shm = wp->pw->shm;
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
	struct plugshm *shm = wp->pw->shm;
	int h = atomic_load(&shm->cur);
	size_t olen = out[0].len, elen = out[1].len;
	struct plugshm_rec r = { seq, status, (uint32_t)olen, (uint32_t)elen,
	    0 };

	if (atomic_load(&shm->committed[h]))
		wflush(wp);	/* then there is room, unless it is too big */
	if (olen + elen + sizeof r <= PLUGSHM_HALF) {
		char *base = plugshm_half(shm, atomic_load(&shm->cur));
		util_copy(base, out[0].buf, olen);
		util_copy(base + olen, out[1].buf, elen);
		memcpy(plugshm_rec(base, 0), &r, sizeof r);
		atomic_store_explicit(&shm->committed[atomic_load(&shm->cur)],
		    plugshm_pack(1, olen + elen), memory_order_release);
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
	struct plugshm *shm = wp->pw->shm;
	int h = atomic_load_explicit(&shm->cur, memory_order_relaxed);
	uint64_t c = atomic_load_explicit(&shm->committed[h],
	    memory_order_relaxed);
	size_t n = (size_t)(c >> 32), at = (uint32_t)c;
	size_t olen = out[0].len, elen = out[1].len;

	if (at + olen + elen + (n + 1) * sizeof(struct plugshm_rec) >
	    PLUGSHM_HALF) {
		wput_slow(wp, seq, status, out);
		return;
	}
	char *base = plugshm_half(shm, h);
	struct plugshm_rec r = { seq, status, (uint32_t)olen, (uint32_t)elen,
	    0 };
	util_copy(base + at, out[0].buf, olen);
	util_copy(base + at + olen, out[1].buf, elen);
	memcpy(plugshm_rec(base, n), &r, sizeof r);
	atomic_store_explicit(&shm->committed[h],
	    plugshm_pack(n + 1, at + olen + elen), memory_order_release);
}

/*
 * Say what the worker is on, for ccmap to see should it die or run late.
 * busy_seq is stored last, with release: whoever sees it sees the rest.
 */
static void
set_busy(struct plugshm *shm, uint64_t seq, size_t count, int timed)
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
	const struct plugworker *pw = wp->pw;
	struct plugshm *shm = wp->pw->shm;
	const char *end = p + len, *d;
	int delim = len ? (unsigned char)*p++ : 0;
	struct scan sc;
	long long t0 = util_now_ns();
	uint64_t first = seq;

	if (pw->ops->map_batch && !worker_stopping) {
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
		set_busy(shm, seq, n, pw->opts->timeout_ns != 0);
		pw->ops->map_batch(pw->ops->arg, pw->slot, seq, items, n,
		    outs, status);
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
	int timed = pw->opts->timeout_ns != 0;
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
			st = pw->ops->map(pw->ops->arg, pw->slot, seq, p,
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

void
plugworker_main(void *arg, int in, int out)
{
	const struct plugworker *pw = arg;
	struct wproc wp = { .pw = pw, .in = in, .out = out };
	struct strbuf res[2] = { STRBUF_INIT, STRBUF_INIT };
	unsigned tasks = 0;
	int keep[3] = { in, out, pw->opts->keep_fd };

	wpipe_worker_setup(worker_on_signal, pw->opts->keep_fd, keep, 3);

	pw->ops->start(pw->ops->arg, pw->slot);
	wp.acked[0] = wp.acked[1] = 1;
	atomic_store(&pw->shm->cur, 0);
	for (uint64_t seq; wnext(&wp, &seq); ) {
		wchunk(&wp, seq, wp.chunk.buf, wp.chunk.len, res);
		if (pw->opts->max_tasks && ++tasks >= pw->opts->max_tasks) {
			wflush(&wp);
			break;
		}
	}
	pw->ops->end(pw->ops->arg);
	_exit(0);
}
