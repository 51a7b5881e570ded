/*
 * procpool.h: a pool of pre-forked worker processes that run jobs and send
 * the results back over pipes, in the framed protocol of proto.h.
 *
 * Each worker leads a process group of its own, and so does each job it
 * runs.  procpool_kill() signals the workers, which pass the signal on to
 * their job's group (SIGKILL as well) and live to report how the job
 * ended; from then on a worker reports the jobs queued to it as cancelled
 * (err ECANCELED) instead of running them.  A worker that dies is reaped and replaced (unless the pool
 * is stopping); its job is reported with the worker's end, and the jobs
 * queued behind it go to its replacement.
 *
 * The main process polls the descriptors procpool_pollfds() gives and
 * passes the results to procpool_handle(), which calls back data() and
 * done() with the cookie each job was submitted with.
 */
#ifndef CCMAP_PROCPOOL_H
#define CCMAP_PROCPOOL_H

#include <poll.h>
#include <stddef.h>

#include "job.h"
#include "value.h"

struct guard;

struct procpool_ops {
	/* In the worker: run one job to its end. */
	void (*job)(void *arg, const struct jobvals *jv,
	    const struct spawn_io *io, struct job_status *st);
	int capture;	/* send the job's output back (else it is inherited) */
	unsigned max_tasks;	/* jobs per worker, then a new one (0: no limit) */
	/* In ccmap: output of a job, and its end. */
	void (*data)(void *arg, void *cookie, int stream, const char *buf,
	    size_t len);
	void (*done)(void *arg, void *cookie, const struct job_status *st);
	void *arg;
	struct guard *guard;	/* the workers list their jobs there (or NULL) */
};

struct procpool;

/* Fork n workers.  keep_fd (or -1) stays open in them; 0 or -errno. */
int procpool_new(struct procpool **pp, unsigned n,
    const struct procpool_ops *ops, int keep_fd);
/* Close the workers' pipes, so they exit, and reap them. */
void procpool_free(struct procpool *pp);
/* Queue jobs (n of them) to one worker, as one chunk. */
void procpool_submit(struct procpool *pp, void *const *cookies,
    const struct jobvals *jv, size_t n);
/* How many descriptors procpool_pollfds() fills at most. */
size_t procpool_nfds(const struct procpool *pp);
/* Fill fds to poll; returns how many. */
size_t procpool_pollfds(struct procpool *pp, struct pollfd *fds);
/* Act on the polled fds; 0 or -errno on a protocol or pipe failure. */
int procpool_handle(struct procpool *pp, const struct pollfd *fds, size_t n);
/*
 * Have every worker pass sig on to its job's process group (0: none) and
 * run no more jobs.
 */
void procpool_kill(struct procpool *pp, int sig);
/*
 * The workers are past waiting for: SIGKILL to them, and to the jobs they
 * listed with the guard.  procpool_free() can then reap them.
 */
void procpool_abandon(struct procpool *pp);
/*
 * Workers with a job to run: running it, as a worker runs its jobs one
 * after the other (those queued behind it are not counted).
 */
unsigned procpool_busy(const struct procpool *pp);

#endif
