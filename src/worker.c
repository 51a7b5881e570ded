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
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ccmap.h"
#include "engine.h"
#include "exec.h"
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
	unsigned max_tasks;		/* --max-tasks-per-child */
	char **strs;			/* SETUP's: host, plugin, its args */
	size_t nstrs;
	struct guard *guard;	/* the jobs die with the worker, SIGKILL too */
	struct wk_thread *t;		/* commands: the slots' threads */
	struct ccmap *c;		/* a plugin: its run, */
	struct executor *x;		/* and its worker processes */
	/*
	 * Batches given to its processes (at most slots: one queued behind
	 * a busy process would wait while another is free), and those
	 * waiting for room, oldest first.
	 */
	unsigned inflight;
	struct wk_batch *bfirst, *blast;
	long long map_ns;		/* the time its items took, */
	size_t mapped;			/* and how many */
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
	pthread_mutex_lock(&w->wlock);
	(void)proto_write(w->out, type, id, a, alen, b, blen);
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
	} else if (*j->wd || !cmdbuf_line(&cb, j->cmd, strlen(j->cmd))) {
		/* (A plain line runs directly, with no shell: as locally.) */
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
	}
	if (!j->sig) {
		/* (Its slot here: the head queues more than it runs.) */
		jobenv_set(&t->env, j->seq, t->i + 1);
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

/* A SETUP string: 0, or -EPROTO. */
static int
get_str(const char **p, const char *end, char **s)
{
	uint32_t len;

	if (end - *p < 4)
		return -EPROTO;
	memcpy(&len, *p, 4);
	*p += 4;
	if ((size_t)(end - *p) < len)
		return -EPROTO;
	*s = util_memdup(*p, len);
	*p += len;
	return 0;
}

/* The SETUP frame: 0 or -EPROTO. */
static int
setup(struct wk *w, const struct frame *f)
{
	const char *p = f->payload, *end = p + f->h.len;
	uint32_t slots, n, count;
	int64_t timeout;

	if (end - p < 16)
		return -EPROTO;
	memcpy(&slots, p, 4);
	memcpy(&timeout, p + 4, 8);
	memcpy(&n, p + 12, 4);
	p += 16;
	if (!slots || slots > 65536 || timeout < 0 || n > CCMAP_TERMSEQ_MAX ||
	    (size_t)(end - p) < n * 8u + 8)
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
	memcpy(&w->max_tasks, p, 4);
	memcpy(&count, p + 4, 4);
	p += 8;
	if (count < 4 || count > (size_t)(end - p) / 4)
		return -EPROTO;
	w->strs = util_calloc(count, sizeof *w->strs);
	for (w->nstrs = 0; w->nstrs < count; w->nstrs++)
		if (get_str(&p, end, &w->strs[w->nstrs]) < 0)
			return -EPROTO;
	if (p != end)
		return -EPROTO;
	setenv("CCMAP_HOST", w->strs[0], 1);
	w->slots = slots;
	w->sctx.timeout_ns = timeout;
	w->sctx.termseq = n ? &w->ts : NULL;
	return 0;
}

/* --- a plugin's batches (the head's --so) -------------------------------- */

/* A batch, as the engine's job its executor is given. */
struct wk_batch {
	struct job job;		/* (first: the executor's cookie) */
	uint64_t id;
	int delim;
	struct wk_batch *next;	/* waiting for room */
};

static void batch_submit(struct wk *w);

static struct wk *the_wk;	/* (the hooks have the executor only) */

/* A line on stderr: the head keeps the last, for why the worker ended. */
static void
say(const char *fmt, ...)
{
	char msg[1200];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof msg - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof msg - 2)
		n = sizeof msg - 2;
	msg[n++] = '\n';
	(void)!write(2, msg, (size_t)n);
}

static void
batch_data(struct executor *x, struct job *job, int stream, const char *buf,
    size_t len)
{
	(void)x;
	send_frame(the_wk, stream == 1 ? FRAME_OUT : FRAME_ERR,
	    ((struct wk_batch *)job)->id, buf, len, NULL, 0);
}

static void
batch_mark(struct executor *x, struct job *job)
{
	(void)x;
	send_frame(the_wk, FRAME_MARK, ((struct wk_batch *)job)->id, NULL, 0,
	    NULL, 0);
}

static void
batch_done(struct executor *x, struct job *job)
{
	struct wk_batch *b = (struct wk_batch *)job;
	struct strbuf sb = STRBUF_INIT;
	struct wk *w = the_wk;
	uint64_t u[3] = { job->ran_items, job->failed_items, 0 };

	/* (As the items so far took, on average: at least 1 ns.) */
	if (w->mapped)
		u[2] = (uint64_t)((double)w->map_ns / (double)w->mapped *
		    (double)job->ran_items);
	if (!u[2])
		u[2] = 1;

	(void)x;
	proto_put_done(&sb, b->id, &job->st);
	send_frame(the_wk, FRAME_BDONE, b->id, sb.buf + sizeof(struct
	    frame_hdr), sb.len - sizeof(struct frame_hdr), u, sizeof u);
	strbuf_release(&sb);
	w->inflight--;
	strbuf_release(&job->store);
	for (int i = 0; i < 2; i++)
		strbuf_release(&job->pend[i]);
	free(b);
	batch_submit(w);
}

static void
batch_none(struct executor *x, struct job *job)
{
	(void)x;
	(void)job;
}

static void
batch_started(struct executor *x, unsigned slot, pid_t pgid)
{
	(void)x;
	(void)slot;
	(void)pgid;
}

/* The items' time, for the head to size its batches by. */
static void
batch_timing(struct executor *x, long long ns, size_t items)
{
	(void)x;
	the_wk->map_ns += ns;
	the_wk->mapped += items;
}

static void
say_warn(void *data, const char *msg)
{
	(void)data;
	say("%s", msg);
}

/*
 * Load the plugin (strs[1]; its tags' template and -I's string strs[2]
 * and [3], its arguments after them) in a run of our own,
 * and start its worker processes (crash isolation, as --procs): 0, or -1
 * with why on stderr (the head hears of it as the end of the stream).
 */
static int
plugin_start(struct wk *w)
{
	struct ccmap_opts o;
	struct ccmap_source none = { 0 };
	char err[1024];

	ccmap_opts_init(&o);
	o.plugin = w->strs[1];
	o.tagstring = *w->strs[2] ? w->strs[2] : NULL;
	o.replace = *w->strs[3] ? w->strs[3] : NULL;
	o.command = w->strs + 4;
	o.ncommand = w->nstrs - 4;
	o.executor = CCMAP_PROCS;
	o.jobs = w->slots;
	o.timeout_ns = w->sctx.timeout_ns;
	o.termseq = w->ts;
	o.max_tasks = w->max_tasks;
	o.sources = &none;	/* (no items of its own: ::: with none) */
	o.nsources = 1;
	o.warn = say_warn;
	if (ccmap_new(&w->c, &o, err, sizeof err) < 0) {
		say("%s", err);
		return -1;
	}
	the_wk = w;
	w->x = exec_new(w->c);
	w->x->on = (struct exec_hooks){
		.data = batch_data, .mark = batch_mark, .end = batch_none,
		.started = batch_started, .done = batch_done,
		.timing = batch_timing,
	};
	if (w->x->ops->start(w->x) < 0) {
		say("cannot start the plugin's worker processes");
		return -1;
	}
	return 0;
}

/* A BATCH frame: given to the plugin's workers.  0 or -EPROTO. */
static int
queue_batch(struct wk *w, const struct frame *f)
{
	struct wk_batch *b;
	struct job *job;
	uint64_t first, items;
	int delim;

	if (!w->x || f->h.len < 17)
		return -EPROTO;
	memcpy(&first, f->payload, 8);
	memcpy(&items, f->payload + 8, 8);
	delim = (unsigned char)f->payload[16];
	b = util_calloc(1, sizeof *b);
	b->id = f->h.seq;
	job = &b->job;
	job->seq = f->h.seq;
	job->first_item = first;
	job->items = items;
	strbuf_add(&job->store, f->payload + 17, f->h.len - 17);
	b->delim = delim;
	if (w->blast)
		w->blast->next = b;
	else
		w->bfirst = b;
	w->blast = b;
	batch_submit(w);
	return 0;
}

/* Give the batches waiting to the processes, while they have room. */
static void
batch_submit(struct wk *w)
{
	struct wk_batch *b;

	while (w->inflight < w->slots && (b = w->bfirst) != NULL) {
		struct job *job = &b->job;
		if (!(w->bfirst = b->next))
			w->blast = NULL;
		w->inflight++;
		/* (The executor reads the delimiter of the run: this one's.) */
		w->c->cfg.opts.delim = b->delim;
		w->x->ops->submit(w->x, &job, 1);
		if (w->x->ops->flush)
			w->x->ops->flush(w->x);
	}
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

/* The slot threads, for commands. */
static void
start_threads(struct wk *w)
{
	sigset_t stops, old;

	w->running = util_calloc(w->slots, sizeof *w->running);
	if (guard_new(&w->guard, w->slots) < 0 || guard_start(w->guard) < 0) {
		guard_free(w->guard);
		w->guard = NULL;
	}
	w->t = util_calloc(w->slots, sizeof *w->t);
	/* (The threads leave the stops to the main one.) */
	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGHUP);
	sigaddset(&stops, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stops, &old);
	for (unsigned i = 0; i < w->slots; i++) {
		w->t[i].w = w;
		w->t[i].i = i;
		jobenv_init(&w->t[i].env);
		if (pthread_create(&w->t[i].t, NULL, slot_thread,
		    &w->t[i]) != 0)
			util_oom(0);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Act on the frames read: 0, or -EPROTO. */
static int
frames(struct wk *w, struct strbuf *rbuf)
{
	struct frame f;
	size_t at = 0;
	long n;
	int r = 0;

	while (r == 0 &&
	    (n = proto_parse(rbuf->buf + at, rbuf->len - at, &f)) > 0) {
		at += (size_t)n;
		if (f.h.type == FRAME_SETUP && !w->slots) {
			if ((r = setup(w, &f)) < 0)
				break;
			/* (Its failure said why: no more to say.) */
			if (*w->strs[1] && plugin_start(w) < 0)
				r = -ECANCELED;
			else
				start_threads(w);
		} else if (f.h.type == FRAME_RUN && w->t) {
			r = queue_run(w, &f);
		} else if (f.h.type == FRAME_BATCH && w->x) {
			r = queue_batch(w, &f);
		} else if (f.h.type == FRAME_KILL && w->x) {
			int32_t sig;
			if (f.h.len != sizeof sig)
				return -EPROTO;
			memcpy(&sig, f.payload, sizeof sig);
			/* (The head stops the run: all of it.) */
			w->x->ops->kill(w->x, sig);
		} else if (f.h.type == FRAME_KILL && w->t) {
			r = kill_job(w, &f);
		} else {
			r = -EPROTO;
		}
	}
	if (n < 0)
		r = -EPROTO;
	memmove(rbuf->buf, rbuf->buf + at, rbuf->len - at);
	rbuf->len -= at;
	return r;
}

/* Read what the head sent: >0, 0 at its end, -1 on EINTR. */
static long
read_head(int in, struct strbuf *rbuf)
{
	long n;

	strbuf_grow(rbuf, 65536);
	n = read(in, rbuf->buf + rbuf->len, rbuf->alloc - rbuf->len - 1);
	if (n < 0 && errno == EINTR)
		return -1;
	if (n <= 0)
		return 0;
	rbuf->len += (size_t)n;
	return n;
}

int
worker_main(int in, int out)
{
	struct wk w = { .out = out };
	struct strbuf rbuf = STRBUF_INIT, hello = STRBUF_INIT;
	struct sigaction sa = { .sa_handler = on_stop };
	struct pollfd *fds = NULL;
	int r = 0;

	pthread_mutex_init(&w.wlock, NULL);
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* (No SA_RESTART: a stop interrupts the read.) */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
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
		size_t nx = w.x ? w.x->ops->nfds(w.x) : 0, n = 1;
		int ms = w.x && w.x->ops->timeout_ms ?
		    w.x->ops->timeout_ms(w.x) : -1;
		long got;
		fds = util_realloc(fds, (1 + nx) * sizeof *fds);
		fds[0] = (struct pollfd){ .fd = in, .events = POLLIN };
		if (w.x)
			n += w.x->ops->pollfds(w.x, fds + 1);
		if (poll(fds, n, ms) < 0 && errno != EINTR)
			break;
		if (w.x && (r = w.x->ops->handle(w.x, fds + 1, n - 1)) < 0) {
			say("the plugin's workers failed");
			break;
		}
		if (!fds[0].revents)
			continue;
		if ((got = read_head(in, &rbuf)) < 0)
			continue;
		if (got == 0)
			break;
		if ((r = frames(&w, &rbuf)) < 0) {
			if (r != -ECANCELED)
				say("--worker: not the head's protocol");
			break;
		}
	}
	free(fds);
	for (struct wk_batch *b = w.bfirst, *next; b; b = next) {
		next = b->next;
		strbuf_release(&b->job.store);
		free(b);
	}
	if (w.x) {
		w.x->ops->kill(w.x, SIGTERM);
		w.x->ops->free(w.x, 1, 1);
		ccmap_free(w.c);
	}
	end_jobs(&w);
	for (unsigned i = 0; w.t && i < w.slots; i++) {
		/*
		 * (A job's pipe held open by something it left in another
		 * process group keeps its thread: not waited for long.)
		 */
		struct timespec by;
		clock_gettime(CLOCK_REALTIME, &by);
		by.tv_sec += 2;
		if (pthread_timedjoin_np(w.t[i].t, NULL, &by) != 0)
			_exit(r < 0 ? 2 : 0);
	}
	for (struct wk_job *j = w.first, *next; j; j = next) {
		next = j->next;
		free(j->buf);
		free(j);
	}
	for (unsigned i = 0; w.t && i < w.slots; i++)
		jobenv_release(&w.t[i].env);
	for (size_t i = 0; i < w.nstrs; i++)
		free(w.strs[i]);
	free(w.strs);
	free(w.t);
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
