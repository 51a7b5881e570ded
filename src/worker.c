/*
 * worker.c: `ccmap --worker` (see worker.h).
 *
 * The main thread reads the head's frames and queues the jobs; the slot
 * threads run them (spawn_job(), as locally) and write their frames, a
 * whole frame at a time under one lock.  A KILL for a job that has not
 * started yet is kept with it: it starts killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ccmap.h"
#include "guard.h"
#include "job.h"
#include "proto.h"
#include "strbuf.h"
#include "template.h"
#include "util.h"
#include "worker.h"

struct wk_job {
	uint64_t id;
	unsigned long long seq;
	unsigned slot;
	char *cmd, *wd;		/* NUL-terminated, in buf */
	struct iovec in;	/* its stdin (iov_len 0: /dev/null) */
	char *buf;		/* the RUN payload, copied */
	pid_t pgid;		/* running: its group (0: not yet) */
	int sig;		/* killed before it started */
	struct wk_job *next;
};

struct wk {
	int out;
	pthread_mutex_t wlock;		/* a frame at a time on out */
	pthread_mutex_t lock;		/* guards the rest */
	pthread_cond_t cond;		/* a job queued, or the end */
	struct wk_job *first, *last;	/* queued */
	struct wk_job **running;	/* by thread */
	unsigned slots;
	int ending;
	struct spawn_ctx sctx;
	struct ccmap_termseq ts;
	struct guard *guard;	/* the jobs die with the worker, SIGKILL too */
};

struct wk_thread {
	struct wk *w;
	unsigned i;
	pthread_t t;
	struct jobenv env;
	struct wk_job *job;
};

/* Write one whole frame; the head gone is not our concern here. */
static void
send_frame(struct wk *w, uint32_t type, uint64_t id, const void *a,
    size_t alen, const void *b, size_t blen)
{
	struct frame_hdr h = { type, (uint32_t)(alen + blen), id };

	pthread_mutex_lock(&w->wlock);
	if (util_write_all(w->out, &h, sizeof h) == 0 &&
	    (!alen || util_write_all(w->out, a, alen) == 0) && blen)
		(void)util_write_all(w->out, b, blen);
	pthread_mutex_unlock(&w->wlock);
}

static void
job_data(void *arg, int stream, const char *buf, size_t len)
{
	struct wk_thread *t = arg;

	send_frame(t->w, stream == 1 ? FRAME_OUT : FRAME_ERR, t->job->id,
	    buf, len, NULL, 0);
}

static void
job_started(void *arg, pid_t pgid)
{
	struct wk_thread *t = arg;
	struct wk *w = t->w;

	if (w->guard)
		guard_set(w->guard, t->i, pgid);
	pthread_mutex_lock(&w->lock);
	t->job->pgid = pgid;
	if (pgid && (t->job->sig || w->ending))
		kill(-pgid, t->job->sig ? t->job->sig : SIGTERM);
	pthread_mutex_unlock(&w->lock);
}

static void
run(struct wk_thread *t, struct wk_job *j)
{
	struct wk *w = t->w;
	struct cmdbuf cb;
	struct job_status st;
	struct spawn_io io = {
		.capture = 1,
		.data = job_data,
		.started = job_started,
		.arg = t,
		.in = j->in.iov_len ? &j->in : NULL,
		.nin = j->in.iov_len ? 1 : 0,
	};
	struct strbuf sb = STRBUF_INIT;

	cmdbuf_init(&cb);
	cmdbuf_reset(&cb);
	if (j->sig) {
		/* (Killed before it started: as a job killed at once.) */
		memset(&st, 0, sizeof st);
		st.start_ns = util_wall_ns();
		st.sig = j->sig;
	} else {
		cmdbuf_add(&cb, "/bin/sh", 7);
		cmdbuf_add(&cb, "-c", 2);
		if (*j->wd) {
			/* (Made if missing, as with the per-job wrapper.) */
			strbuf_addstr(&sb, "mkdir -p -- \"$1\" && cd -- \"$1\""
			    " && exec /bin/sh -c \"$2\"");
			cmdbuf_add(&cb, sb.buf, sb.len);
			cmdbuf_add(&cb, "sh", 2);
			cmdbuf_add(&cb, j->wd, strlen(j->wd));
		}
		cmdbuf_add(&cb, j->cmd, strlen(j->cmd));
		cmdbuf_finish(&cb);
		jobenv_set(&t->env, j->seq, j->slot);
		spawn_job(&w->sctx, &cb, t->env.envp, &io, &st);
	}
	strbuf_reset(&sb);
	proto_put_done(&sb, j->id, &st);
	pthread_mutex_lock(&w->lock);
	w->running[t->i] = NULL;
	pthread_mutex_unlock(&w->lock);
	send_frame(w, FRAME_DONE, j->id, sb.buf + sizeof(struct frame_hdr),
	    sb.len - sizeof(struct frame_hdr), NULL, 0);
	strbuf_release(&sb);
	cmdbuf_release(&cb);
}

static void *
slot_thread(void *arg)
{
	struct wk_thread *t = arg;
	struct wk *w = t->w;

	for (;;) {
		struct wk_job *j;
		pthread_mutex_lock(&w->lock);
		while (!w->first && !w->ending)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->ending) {
			pthread_mutex_unlock(&w->lock);
			return NULL;
		}
		j = w->first;
		if (!(w->first = j->next))
			w->last = NULL;
		t->job = w->running[t->i] = j;
		pthread_mutex_unlock(&w->lock);
		run(t, j);
		free(j->buf);
		free(j);
	}
}

/* A RUN frame's job, queued: 0 or -EPROTO. */
static int
queue_run(struct wk *w, const struct frame *f)
{
	const char *p = f->payload, *end = p + f->h.len;
	struct wk_job *j;
	uint64_t seq;
	uint32_t slot, clen, wlen;

	if (end - p < 20)
		return -EPROTO;
	memcpy(&seq, p, 8);
	memcpy(&slot, p + 8, 4);
	memcpy(&clen, p + 12, 4);
	p += 16;
	if ((size_t)(end - p) < (size_t)clen + 4)
		return -EPROTO;
	memcpy(&wlen, p + clen, 4);
	if ((size_t)(end - p) - clen - 4 < wlen)
		return -EPROTO;
	j = util_calloc(1, sizeof *j);
	j->id = f->h.seq;
	j->seq = seq;
	j->slot = slot;
	/* (cmd NUL wd NUL stdin) */
	j->buf = util_malloc((size_t)(end - p) + 2);
	memcpy(j->buf, p, clen);
	j->buf[clen] = '\0';
	j->cmd = j->buf;
	memcpy(j->buf + clen + 1, p + clen + 4, wlen);
	j->buf[clen + 1 + wlen] = '\0';
	j->wd = j->buf + clen + 1;
	p += (size_t)clen + 4 + wlen;
	j->in.iov_base = j->wd + wlen + 1;
	j->in.iov_len = (size_t)(end - p);
	memcpy(j->in.iov_base, p, j->in.iov_len);
	pthread_mutex_lock(&w->lock);
	if (w->last)
		w->last->next = j;
	else
		w->first = j;
	w->last = j;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

/* A KILL: to the job's group, or kept for when it starts. */
static int
kill_job(struct wk *w, const struct frame *f)
{
	int32_t sig;

	if (f->h.len != sizeof sig)
		return -EPROTO;
	memcpy(&sig, f->payload, sizeof sig);
	if (sig <= 0 || sig >= NSIG)
		return -EPROTO;
	pthread_mutex_lock(&w->lock);
	for (struct wk_job *j = w->first; j; j = j->next)
		if (j->id == f->h.seq)
			j->sig = sig;
	for (unsigned i = 0; i < w->slots; i++) {
		struct wk_job *j = w->running[i];
		if (j && j->id == f->h.seq) {
			if (j->pgid)
				kill(-j->pgid, sig);
			else
				j->sig = sig;
		}
	}
	pthread_mutex_unlock(&w->lock);
	return 0;
}

/* The SETUP frame: 0 or -EPROTO. */
static int
setup(struct wk *w, const struct frame *f)
{
	const char *p = f->payload, *end = p + f->h.len;
	uint32_t slots, n;
	int64_t timeout;
	char *host;

	if (end - p < 16)
		return -EPROTO;
	memcpy(&slots, p, 4);
	memcpy(&timeout, p + 4, 8);
	memcpy(&n, p + 12, 4);
	p += 16;
	if (!slots || slots > 65536 || timeout < 0 || n > CCMAP_TERMSEQ_MAX ||
	    (size_t)(end - p) < n * 8u)
		return -EPROTO;
	w->ts.n = n;
	for (uint32_t i = 0; i < n; i++, p += 8) {
		int32_t sig;
		memcpy(&sig, p, 4);
		memcpy(&w->ts.step[i].ms, p + 4, 4);
		if (sig <= 0 || sig >= NSIG)
			return -EPROTO;
		w->ts.step[i].sig = sig;
	}
	host = util_malloc((size_t)(end - p) + 1);
	memcpy(host, p, (size_t)(end - p));
	host[end - p] = '\0';
	setenv("CCMAP_HOST", host, 1);
	free(host);
	w->slots = slots;
	w->sctx.timeout_ns = timeout;
	w->sctx.termseq = n ? &w->ts : NULL;
	return 0;
}

static volatile sig_atomic_t stop_sig;

static void
on_stop(int sig)
{
	stop_sig = sig;
}

/*
 * The end: the jobs running get TERM, and KILL a second later if still
 * there; queued ones never start.
 */
static void
end_jobs(struct wk *w)
{
	pthread_mutex_lock(&w->lock);
	w->ending = 1;
	pthread_cond_broadcast(&w->cond);
	for (int round = 0; round < 2; round++) {
		int left = 0;
		for (unsigned i = 0; w->running && i < w->slots; i++)
			if (w->running[i] && w->running[i]->pgid) {
				kill(-w->running[i]->pgid,
				    round ? SIGKILL : SIGTERM);
				left = 1;
			}
		if (!left || round)
			break;
		pthread_mutex_unlock(&w->lock);
		for (int k = 0; k < 100 && left; k++) {
			struct timespec ts = { 0, 10 * 1000 * 1000 };
			nanosleep(&ts, NULL);
			pthread_mutex_lock(&w->lock);
			left = 0;
			for (unsigned i = 0; i < w->slots; i++)
				left |= w->running[i] != NULL;
			pthread_mutex_unlock(&w->lock);
		}
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
}

int
worker_main(int in, int out)
{
	struct wk w = { .out = out };
	struct wk_thread *t = NULL;
	struct strbuf rbuf = STRBUF_INIT, hello = STRBUF_INIT;
	struct sigaction sa = { .sa_handler = on_stop };
	sigset_t stops, old;
	int r = 0, set = 0;

	pthread_mutex_init(&w.wlock, NULL);
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* (No SA_RESTART: a stop interrupts the read.) */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGHUP);
	sigaddset(&stops, SIGINT);
	if ((w.sctx.devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		return 1;
	w.sctx.own_pgroup = 1;
	sigemptyset(&w.sctx.sigdef);
	sigaddset(&w.sctx.sigdef, SIGPIPE);
	sigaddset(&w.sctx.sigdef, SIGINT);
	sigaddset(&w.sctx.sigdef, SIGTERM);
	sigaddset(&w.sctx.sigdef, SIGHUP);

	proto_put_hello(&hello);
	send_frame(&w, FRAME_HELLO, 0, hello.buf + sizeof(struct frame_hdr),
	    hello.len - sizeof(struct frame_hdr), NULL, 0);
	strbuf_release(&hello);
	while (!stop_sig) {
		struct frame f;
		long n;
		size_t at = 0;
		strbuf_grow(&rbuf, 65536);
		n = read(in, rbuf.buf + rbuf.len, rbuf.alloc - rbuf.len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		rbuf.len += (size_t)n;
		while ((n = proto_parse(rbuf.buf + at, rbuf.len - at, &f)) > 0) {
			at += (size_t)n;
			if (f.h.type == FRAME_SETUP && !set) {
				if ((r = setup(&w, &f)) < 0)
					break;
				set = 1;
				w.running = util_calloc(w.slots,
				    sizeof *w.running);
				if (guard_new(&w.guard, w.slots) < 0 ||
				    guard_start(w.guard) < 0) {
					guard_free(w.guard);
					w.guard = NULL;
				}
				t = util_calloc(w.slots, sizeof *t);
				/* (The threads leave the stops to this one.) */
				pthread_sigmask(SIG_BLOCK, &stops, &old);
				for (unsigned i = 0; i < w.slots; i++) {
					t[i].w = &w;
					t[i].i = i;
					jobenv_init(&t[i].env);
					if (pthread_create(&t[i].t, NULL,
					    slot_thread, &t[i]) != 0)
						util_oom(0);
				}
				pthread_sigmask(SIG_SETMASK, &old, NULL);
			} else if (f.h.type == FRAME_RUN && set) {
				r = queue_run(&w, &f);
			} else if (f.h.type == FRAME_KILL && set) {
				r = kill_job(&w, &f);
			} else {
				r = -EPROTO;
			}
			if (r < 0)
				break;
		}
		if (n < 0 || r < 0) {
			static const char msg[] =
			    "ccmap --worker: not the head's protocol\n";
			(void)!write(2, msg, sizeof msg - 1);
			r = -EPROTO;
			break;
		}
		memmove(rbuf.buf, rbuf.buf + at, rbuf.len - at);
		rbuf.len -= at;
	}
	end_jobs(&w);
	for (unsigned i = 0; t && i < w.slots; i++) {
		/*
		 * (A job's pipe held open by something it left in another
		 * process group keeps its thread: not waited for long.)
		 */
		struct timespec by;
		clock_gettime(CLOCK_REALTIME, &by);
		by.tv_sec += 2;
		if (pthread_timedjoin_np(t[i].t, NULL, &by) != 0)
			_exit(r < 0 ? 2 : 0);
	}
	for (struct wk_job *j = w.first, *next; j; j = next) {
		next = j->next;
		free(j->buf);
		free(j);
	}
	for (unsigned i = 0; t && i < w.slots; i++)
		jobenv_release(&t[i].env);
	free(t);
	free(w.running);
	guard_free(w.guard);
	strbuf_release(&rbuf);
	close(w.sctx.devnull);
	return r < 0 ? 2 : 0;
}

int
ccmap_worker(int in, int out)
{
	return worker_main(in, out);
}
