/*
 * exec-threads.c: the executors on worker threads (threadpool.h), the part
 * that commands and plugins share: a chunk's jobs run in turn on the
 * worker that takes it, unless the run is stopping; the signal for the
 * jobs; --delay's spacing of the starts.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "exec-threads.h"
#include "threadpool.h"
#include "util.h"
#include "wconn.h"

/*
 * --delay, on a worker thread: the main thread hands jobs out the delay
 * apart, and this makes the starts themselves so, whatever the threads'
 * wake-ups: the threads pass one at a time, each the delay after the last.
 */
static void
delay_gate(struct thread_exec *te)
{
	pthread_mutex_lock(&te->delay_lock);
	util_pace(&te->last_start, te->x.c->cfg.opts.delay_ns);
	pthread_mutex_unlock(&te->delay_lock);
}

/* A chunk of jobs, on worker thread number worker. */
static void
thread_work(struct tp_work *w, unsigned worker, void *arg)
{
	struct thread_exec *te = arg;
	struct job *job = container_of(w, struct job, work), *next;
	unsigned slot = w->slot;	/* (w goes with the first job) */

	for (; job; job = next) {
		next = job->chunk_next;
		if (te->x.c->cfg.opts.delay_ns)
			delay_gate(te);
		if (atomic_load(&te->stop_sig) || atomic_load(&te->no_start)) {
			job->skipped = 1;
		} else {
			atomic_fetch_add(&te->running, 1);
			te->run(te, job, &te->ws[worker], slot);
			atomic_fetch_sub(&te->running, 1);
		}
		te->x.on.end(&te->x, job);
		threadpool_complete(te->tp, &job->work);
	}
}

struct executor *
exec_threads_new(struct ccmap *c, const struct executor_ops *ops,
    void (*run)(struct thread_exec *, struct job *, struct wstate *,
    unsigned))
{
	struct thread_exec *te = util_calloc(1, sizeof *te);

	te->x = (struct executor){ .ops = ops, .c = c, .threads = 1 };
	te->run = run;
	pthread_mutex_init(&te->pid_lock, NULL);
	pthread_mutex_init(&te->delay_lock, NULL);
	return &te->x;
}

int
exec_threads_start(struct executor *x)
{
	struct thread_exec *te = thread_exec(x);
	unsigned n = x->c->cfg.jobs;
	int r;

	te->ws = util_calloc(n, sizeof *te->ws);
	for (unsigned i = 0; i < n; i++)
		exec_wstate_init(&te->ws[i], x);
	if ((r = threadpool_new(&te->tp, n, te)) == 0)
		x->wake_fd = threadpool_fd(te->tp);
	return r;
}

void
exec_threads_started(struct thread_exec *te, struct wstate *ws, pid_t pgid)
{
	int sig;

	pthread_mutex_lock(&te->pid_lock);
	ws->pid = pgid;
	te->x.on.started(&te->x, (unsigned)(ws - te->ws), pgid);
	if (pgid && (sig = atomic_load(&te->stop_sig)) != 0)
		kill(-pgid, sig);
	pthread_mutex_unlock(&te->pid_lock);
}

void
exec_threads_opened(struct thread_exec *te, struct wstate *ws, int fd)
{
	pthread_mutex_lock(&te->pid_lock);
	ws->sock = fd;
	if (fd >= 0 && atomic_load(&te->stop_sig))
		shutdown(fd, SHUT_RDWR);
	pthread_mutex_unlock(&te->pid_lock);
}

void
exec_threads_remote(struct thread_exec *te, struct wstate *ws,
    struct wconn *wc, uint64_t id)
{
	int sig;

	pthread_mutex_lock(&te->pid_lock);
	ws->wc = wc;
	ws->wid = id;
	if (wc && (sig = atomic_load(&te->stop_sig)) != 0)
		wconn_kill(wc, id, sig);
	pthread_mutex_unlock(&te->pid_lock);
}

void
exec_threads_submit(struct executor *x, struct job **jobs, size_t n)
{
	struct thread_exec *te = thread_exec(x);

	for (size_t i = 0; i + 1 < n; i++)
		jobs[i]->chunk_next = jobs[i + 1];
	jobs[0]->work.work = thread_work;
	threadpool_post(te->tp, &jobs[0]->work);
}

void
exec_threads_kill(struct executor *x, int sig)
{
	struct thread_exec *te = thread_exec(x);

	pthread_mutex_lock(&te->pid_lock);
	atomic_store(&te->stop_sig, sig);
	for (unsigned i = 0; i < x->c->cfg.jobs; i++)
		if (te->ws[i].pid > 0)
			kill(-te->ws[i].pid, sig);
		else if (te->ws[i].sock >= 0)
			/* (The session ends; its wrapper kills the job.) */
			shutdown(te->ws[i].sock, SHUT_RDWR);
		else if (te->ws[i].wc)
			wconn_kill(te->ws[i].wc, te->ws[i].wid, sig);
	pthread_mutex_unlock(&te->pid_lock);
}

void
exec_threads_hold(struct executor *x)
{
	atomic_store(&thread_exec(x)->no_start, 1);
}

void
exec_threads_hangup(struct executor *x)
{
	exec_threads_hold(x);
}

/* Threads cannot be killed: what they are on is left to them. */
int
exec_threads_abandon(struct executor *x)
{
	(void)x;
	return 1;
}

unsigned
exec_threads_running(struct executor *x)
{
	return atomic_load(&thread_exec(x)->running);
}

size_t
exec_threads_nfds(struct executor *x)
{
	(void)x;
	return 1;
}

size_t
exec_threads_pollfds(struct executor *x, struct pollfd *fds)
{
	fds[0] = (struct pollfd){ .fd = threadpool_fd(thread_exec(x)->tp),
	    .events = POLLIN };
	return 1;
}

int
exec_threads_handle(struct executor *x, const struct pollfd *fds, size_t n)
{
	struct tp_work *w, *next;

	if (n < 1 || !fds[0].revents)
		return 0;
	for (w = threadpool_collect(thread_exec(x)->tp); w; w = next) {
		next = w->next;
		x->on.done(x, container_of(w, struct job, work));
	}
	return 0;
}

int
exec_threads_free(struct executor *x, int killed, int unfinished)
{
	struct thread_exec *te = thread_exec(x);

	(void)killed;
	/*
	 * Threads still on a job when the kill sequence is over cannot be
	 * stopped: they keep what they use.  (After an engine error their
	 * jobs were killed, and they are waited for.)
	 */
	if (unfinished)
		return 1;
	threadpool_free(te->tp);
	for (unsigned i = 0; te->ws && i < x->c->cfg.jobs; i++)
		exec_wstate_release(&te->ws[i]);
	free(te->ws);
	pthread_mutex_destroy(&te->pid_lock);
	pthread_mutex_destroy(&te->delay_lock);
	free(te);
	return 0;
}
