/*
 * exec-threads.h: what the executors on worker threads share (the command
 * executor and the plugin executor): the pool, each worker's state, the
 * signal their jobs get, and the run of a chunk of jobs on a worker.
 * Only exec-threads.c and the thread executors (exec-cmd.c, exec-plugin.c,
 * exec-ssh.c) include it.
 */
#ifndef CCMAP_EXEC_THREADS_H
#define CCMAP_EXEC_THREADS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine.h"
#include "exec.h"

struct thread_exec {
	struct executor x;
	/* Run one job to its end on a worker, with that worker's state. */
	void (*run)(struct thread_exec *te, struct job *job, struct wstate *ws,
	    unsigned slot);
	struct threadpool *tp;
	struct wstate *ws;	/* one per thread */
	/* Shared with the workers: */
	pthread_mutex_t pid_lock;	/* guards ws[].pid and ws[].sock,
					   stop_sig's kill */
	atomic_int stop_sig;	/* the signal for jobs that start from now on */
	atomic_int no_start;	/* queued jobs do not start (--halt soon) */
	atomic_uint running;	/* jobs running now, not queued */
	pthread_mutex_t delay_lock;	/* guards last_start */
	long long last_start;	/* --delay: when the last job started */
};

static inline struct thread_exec *
thread_exec(struct executor *x)
{
	return (struct thread_exec *)x;
}

/* Make a thread executor with the kind's ops and its job runner. */
struct executor *exec_threads_new(struct ccmap *c,
    const struct executor_ops *ops,
    void (*run)(struct thread_exec *, struct job *, struct wstate *,
    unsigned));
/*
 * From a worker: its job's process group started (or ended: 0); killed
 * at once if the jobs are being stopped.
 */
void exec_threads_started(struct thread_exec *te, struct wstate *ws,
    pid_t pgid);

/*
 * The same for a session over an ssh master (mux.h) on socket fd (-1:
 * ended): shut down when the jobs are stopped.
 */
void exec_threads_opened(struct thread_exec *te, struct wstate *ws, int fd);

/*
 * The same for a job sent as id to a remote worker over wc (wconn.h;
 * NULL: ended): the stopping signal is passed on to it.
 */
struct wconn;
void exec_threads_remote(struct thread_exec *te, struct wstate *ws,
    struct wconn *wc, uint64_t id);

/* The ops of a thread executor that needs nothing of its own... */
#define EXEC_THREADS_OPS(kind) EXEC_THREADS_OPS_FREE(kind, exec_threads_free)
/* ...or only its own end (which calls exec_threads_free). */
#define EXEC_THREADS_OPS_FREE(kind, free_fn) {				\
	.name = kind,							\
	.start = exec_threads_start,					\
	.submit = exec_threads_submit,					\
	.kill = exec_threads_kill,					\
	.hold = exec_threads_hold,					\
	.hangup = exec_threads_hangup,					\
	.abandon = exec_threads_abandon,				\
	.running = exec_threads_running,				\
	.nfds = exec_threads_nfds,					\
	.pollfds = exec_threads_pollfds,				\
	.handle = exec_threads_handle,					\
	.free = free_fn,						\
}

/* The ops that every kind of thread executor uses as they are. */
int exec_threads_start(struct executor *x);
void exec_threads_submit(struct executor *x, struct job **jobs, size_t n);
void exec_threads_kill(struct executor *x, int sig);
void exec_threads_hold(struct executor *x);
void exec_threads_hangup(struct executor *x);
int exec_threads_abandon(struct executor *x);
unsigned exec_threads_running(struct executor *x);
size_t exec_threads_nfds(struct executor *x);
size_t exec_threads_pollfds(struct executor *x, struct pollfd *fds);
int exec_threads_handle(struct executor *x, const struct pollfd *fds,
    size_t n);
int exec_threads_free(struct executor *x, int killed, int unfinished);

#endif
