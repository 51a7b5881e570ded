/*
 * procpool.c: pre-forked worker processes (see procpool.h).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"
#include "util.h"
#include "procpool.h"
#include "proto.h"
#include "wpipe.h"

/* A job sent to a worker and not finished yet. */
struct pend {
	void *cookie;
	uint64_t seq;
	char *frame;	/* its JOB frame, to send again if the worker dies */
	size_t len;
};

struct pworker {
	struct wpipe p;
	unsigned slot;
	struct pend *q;		/* its jobs, oldest first (a ring) */
	size_t qhead, qn, qcap;
	struct procpool *pp;
};

struct procpool {
	struct pworker *w;
	unsigned n;
	struct procpool_ops ops;
	int keep_fd;
	int stopping;		/* procpool_kill() was called */
	volatile sig_atomic_t *mail;	/* its signal, for the workers (shared) */
};

/*
 * In a worker: SIGINT or SIGTERM came, so queued jobs are not to run; the
 * signal goes on to the running job's process group.  SIGUSR1 stands for
 * the signal procpool_kill() left in the pool's mailbox (any, SIGKILL
 * included, which the worker could not be sent to pass on; or none).
 */
static volatile sig_atomic_t worker_stopping;
static volatile pid_t worker_job;
static volatile sig_atomic_t *worker_mail;

/* The signal for the job, or 0. */
static volatile sig_atomic_t worker_stop_sig;

static void
worker_on_signal(int sig)
{
	int saved = errno;

	worker_stop_sig = sig == SIGUSR1 ? *worker_mail : sig;
	worker_stopping = 1;
	if (worker_job > 0 && worker_stop_sig)
		kill(-worker_job, worker_stop_sig);
	errno = saved;
}

/* The worker process: its descriptors and the job it runs. */
struct wctx {
	struct procpool *pp;
	unsigned slot;
	int in, out;
	uint64_t seq;
	struct strbuf frame;
};

/*
 * A job was spawned.  A signal that came while it was being spawned found
 * no job to pass on to: it goes on now, or the job would run on unkilled
 * (and ccmap wait for it for ever).
 */
static void
worker_started(void *arg, pid_t pid)
{
	struct wctx *wc = arg;

	guard_set(wc->pp->ops.guard, wc->slot - 1, pid);
	worker_job = pid;
	if (pid && worker_stopping && worker_stop_sig)
		kill(-pid, worker_stop_sig);
}

static void
worker_data(void *arg, int stream, const char *buf, size_t len)
{
	struct wctx *wc = arg;

	wpipe_send(wc->out, stream == 1 ? FRAME_OUT : FRAME_ERR, wc->seq, buf,
	    len);
}

static void
worker_main(void *arg, int in, int out)
{
	struct pworker *w = arg;
	struct procpool *pp = w->pp;
	unsigned slot = w->slot;
	struct wctx wc = { .pp = pp, .slot = slot, .in = in, .out = out };
	int keep[3] = { in, out, pp->keep_fd };
	struct spawn_io io = {
		.capture = pp->ops.capture, .data = worker_data,
		.started = worker_started, .arg = &wc,
	};
	struct value *v = NULL;
	size_t nv = 0, vcap = 0;
	struct strbuf buf = STRBUF_INIT;
	unsigned tasks = 0;

	worker_mail = pp->mail;
	wpipe_worker_setup(worker_on_signal, pp->keep_fd, keep, 3);

	for (;;) {
		struct frame f;
		struct job_status st;
		int r = util_read_full(in, &f.h, sizeof f.h);

		if (r <= 0 || f.h.type != FRAME_JOB || f.h.len > FRAME_MAX)
			_exit(r == 0 ? 0 : 1);
		strbuf_reset(&buf);
		strbuf_grow(&buf, f.h.len);
		if (f.h.len && util_read_full(in, buf.buf, f.h.len) <= 0)
			_exit(1);
		f.payload = buf.buf;
		if (proto_job_values(&f, &v, &nv, &vcap) < 0)
			_exit(1);
		wc.seq = f.h.seq;
		if (worker_stopping)
			st = (struct job_status){ .err = ECANCELED };
		else
			pp->ops.job(pp->ops.arg, &(struct jobvals){ .v = v,
			    .n = nv, .seq = f.h.seq, .slot = slot }, &io, &st);
		strbuf_reset(&wc.frame);
		proto_put_done(&wc.frame, f.h.seq, &st);
		if (util_write_all(out, wc.frame.buf, wc.frame.len) < 0)
			_exit(1);	/* ccmap is gone */
		if (pp->ops.max_tasks && ++tasks >= pp->ops.max_tasks)
			_exit(0);	/* to be replaced */
	}
}

static int
start_worker(struct pworker *w)
{
	return wpipe_start(&w->p, worker_main, w);
}

int
procpool_new(struct procpool **ppp, unsigned n, const struct procpool_ops *ops,
    int keep_fd)
{
	struct procpool *pp = util_calloc(1, sizeof *pp);
	int r = 0;

	pp->ops = *ops;
	pp->keep_fd = keep_fd;
	pp->mail = mmap(NULL, sizeof *pp->mail, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (pp->mail == MAP_FAILED) {
		r = -errno;
		free(pp);
		return r;
	}
	pp->w = util_calloc(n, sizeof *pp->w);
	for (; pp->n < n; pp->n++) {
		wpipe_init(&pp->w[pp->n].p);
		pp->w[pp->n].slot = pp->n + 1;
		pp->w[pp->n].pp = pp;
		if ((r = start_worker(&pp->w[pp->n])) < 0)
			break;
	}
	if (r < 0) {
		procpool_free(pp);
		return r;
	}
	*ppp = pp;
	return 0;
}

void
procpool_free(struct procpool *pp)
{
	if (!pp)
		return;
	for (unsigned i = 0; i < pp->n; i++) {
		struct pworker *w = &pp->w[i];
		wpipe_release(&w->p);
		for (size_t k = 0; k < w->qn; k++)
			free(w->q[(w->qhead + k) % w->qcap].frame);
		free(w->q);
	}
	free(pp->w);
	munmap((void *)pp->mail, sizeof *pp->mail);
	free(pp);
}

static void
push_pend(struct pworker *w, void *cookie, uint64_t seq, const char *frame,
    size_t len)
{
	if (w->qn == w->qcap) {
		size_t ncap = w->qcap ? w->qcap * 2 : 4;
		struct pend *nq = util_calloc(ncap, sizeof *nq);
		for (size_t k = 0; k < w->qn; k++)
			nq[k] = w->q[(w->qhead + k) % w->qcap];
		free(w->q);
		w->q = nq;
		w->qcap = ncap;
		w->qhead = 0;
	}
	w->q[(w->qhead + w->qn++) % w->qcap] = (struct pend){
		cookie, seq, util_memdup(frame, len), len,
	};
	strbuf_add(&w->p.wbuf, frame, len);
}

static struct pworker *
least_busy(struct procpool *pp)
{
	struct pworker *best = &pp->w[0];

	for (unsigned i = 1; i < pp->n; i++)
		if (pp->w[i].qn < best->qn)
			best = &pp->w[i];
	return best;
}

void
procpool_submit(struct procpool *pp, void *const *cookies,
    const struct jobvals *jv, size_t n)
{
	struct pworker *w = least_busy(pp);
	struct strbuf frame = STRBUF_INIT;

	for (size_t i = 0; i < n; i++) {
		strbuf_reset(&frame);
		proto_put_job(&frame, jv[i].seq, jv[i].v, jv[i].n);
		push_pend(w, cookies[i], jv[i].seq, frame.buf, frame.len);
	}
	strbuf_release(&frame);
	wpipe_flush(&w->p);
}

size_t
procpool_nfds(const struct procpool *pp)
{
	return 2 * (size_t)pp->n;
}

size_t
procpool_pollfds(struct procpool *pp, struct pollfd *fds)
{
	for (unsigned i = 0; i < pp->n; i++)
		wpipe_pollfds(&pp->w[i].p, fds + 2 * i);
	return 2 * (size_t)pp->n;
}

/* The oldest job of w. */
static struct pend *
front(struct pworker *w)
{
	return w->qn ? &w->q[w->qhead] : NULL;
}

static void
pop_front(struct pworker *w)
{
	free(w->q[w->qhead].frame);
	w->qhead = (w->qhead + 1) % w->qcap;
	w->qn--;
}

/* Parse and act on the complete frames in w's read buffer. */
static int
parse_frames(struct procpool *pp, struct pworker *w)
{
	size_t off = 0;
	struct frame f;
	long n;
	int r = 0;

	while ((n = proto_parse(w->p.rbuf.buf + off, w->p.rbuf.len - off,
	    &f)) > 0) {
		struct pend *p = front(w);
		struct job_status st;

		off += (size_t)n;
		if (!p || p->seq != f.h.seq) {
			r = -EPROTO;
			break;
		}
		if (f.h.type == FRAME_OUT || f.h.type == FRAME_ERR) {
			pp->ops.data(pp->ops.arg, p->cookie,
			    f.h.type == FRAME_OUT ? 1 : 2, f.payload, f.h.len);
		} else if (f.h.type == FRAME_DONE &&
		    proto_done_status(&f, &st) == 0) {
			void *cookie = p->cookie;
			pop_front(w);
			pp->ops.done(pp->ops.arg, cookie, &st);
		} else {
			r = -EPROTO;
			break;
		}
	}
	if (n < 0)
		r = (int)n;
	wpipe_consume(&w->p, off);
	return r;
}

/*
 * The worker died: its running job ends as the worker did, the rest go to
 * a new worker in its place.
 */
static int
replace_worker(struct procpool *pp, struct pworker *w)
{
	struct job_status st = { 0 };
	struct pend *p;
	int status = 0, r;

	status = wpipe_stop(&w->p);
	/* A job it left running goes with it. */
	guard_kill_slot(pp->ops.guard, w->slot - 1, SIGKILL);
	if (WIFSIGNALED(status))
		st.sig = WTERMSIG(status);
	else
		st.code = WEXITSTATUS(status) ? WEXITSTATUS(status) : 255;
	/* Exit status 0: it ended between jobs (--max-tasks-per-child). */
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) &&
	    (p = front(w)) != NULL) {
		void *cookie = p->cookie;
		pop_front(w);
		pp->ops.done(pp->ops.arg, cookie, &st);
	}
	if (pp->stopping) {
		/* No new worker: what it had queued is cancelled. */
		while ((p = front(w)) != NULL) {
			void *cookie = p->cookie;
			pop_front(w);
			pp->ops.done(pp->ops.arg, cookie,
			    &(struct job_status){ .err = ECANCELED });
		}
		return 0;
	}
	if ((r = start_worker(w)) < 0)
		return r;
	for (size_t k = 0; k < w->qn; k++) {
		p = &w->q[(w->qhead + k) % w->qcap];
		strbuf_add(&w->p.wbuf, p->frame, p->len);
	}
	wpipe_flush(&w->p);
	return 0;
}

int
procpool_handle(struct procpool *pp, const struct pollfd *fds, size_t n)
{
	int r = 0;

	for (unsigned i = 0; i < pp->n && 2 * i + 1 < n; i++) {
		struct pworker *w = &pp->w[i];

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
	return r;
}

void
procpool_kill(struct procpool *pp, int sig)
{
	pp->stopping = 1;
	*pp->mail = sig;
	for (unsigned i = 0; i < pp->n; i++)
		if (pp->w[i].p.pid > 0)
			kill(pp->w[i].p.pid, SIGUSR1);
}

void
procpool_abandon(struct procpool *pp)
{
	pp->stopping = 1;
	for (unsigned i = 0; i < pp->n; i++)
		if (pp->w[i].p.pid > 0)
			kill(pp->w[i].p.pid, SIGKILL);
	for (unsigned i = 0; i < pp->n; i++)
		guard_kill_slot(pp->ops.guard, pp->w[i].slot - 1, SIGKILL);
}

unsigned
procpool_busy(const struct procpool *pp)
{
	unsigned n = 0;

	for (unsigned i = 0; i < pp->n; i++)
		n += pp->w[i].qn > 0;
	return n;
}
