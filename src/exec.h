/*
 * exec.h: the executors, behind one interface.
 *
 * An executor runs the jobs the engine gives it, a command's or a plugin's
 * batch of items, wherever it runs them: worker threads (exec-threads.c),
 * worker processes (procpool.c, plugpool.c), and next remote hosts.  The
 * engine's core (schedule.c, loop.c) calls it only through its ops; it
 * tells the engine what the jobs do only through the hooks the engine
 * filled in.  Neither knows the other by name.
 *
 * A job given to an executor is the engine's struct job (engine.h): the
 * executor reads its values (v, nv, seq, store, blk, first_item, items) and
 * the run's fixed part (c->cfg), and sets how it ended (st, skipped,
 * ran_items, failed_items, map_ns), then calls on.done for it, once, on
 * the main thread.
 */
#ifndef CCMAP_EXEC_H
#define CCMAP_EXEC_H

#include <poll.h>
#include <stddef.h>
#include <sys/types.h>

struct ccmap;
struct executor;
struct guard;
struct job;

/*
 * What the jobs do, told to the engine.  data, mark and end come from the
 * thread that runs the job: a worker thread when the executor's threads
 * flag is set, else the main thread.  started may come from a worker
 * process.  done and timing come from the main thread.
 */
struct exec_hooks {
	/* Output of the job on stream 1 (stdout) or 2 (stderr). */
	void (*data)(struct executor *x, struct job *job, int stream,
	    const char *buf, size_t len);
	/* The job's output so far is a group: a plugin's item (output.h). */
	void (*mark)(struct executor *x, struct job *job);
	/* The job's output has ended (before its thread runs another). */
	void (*end)(struct executor *x, struct job *job);
	/* A job's process group started in slot (from 0), or ended (0). */
	void (*started)(struct executor *x, unsigned slot, pid_t pgid);
	/* The job has ended: st, or skipped, or its items' counts, are set. */
	void (*done)(struct executor *x, struct job *job);
	/* A plugin mapped items in ns (the next batches are sized by it). */
	void (*timing)(struct executor *x, long long ns, size_t items);
};

struct executor_ops {
	const char *name;
	/* Start the workers: 0 or -errno. */
	int (*start)(struct executor *x);
	/*
	 * Run n jobs (a plugin's batches), in this order, as one chunk: the
	 * worker that takes the first runs them all.
	 */
	void (*submit)(struct executor *x, struct job **jobs, size_t n);
	/* Send what submit queued (or NULL: submit sends). */
	void (*flush)(struct executor *x);
	/* sig to the running jobs; from now on none starts. */
	void (*kill)(struct executor *x, int sig);
	/* Start none of the jobs given; those running go on (--halt soon). */
	void (*hold)(struct executor *x);
	/*
	 * SIGHUP: start no more jobs; those running end as they would (a
	 * plugin's batch stops between items).
	 */
	void (*hangup)(struct executor *x);
	/*
	 * The kill sequence is over: what still runs is past waiting for.
	 * 1 if it cannot be stopped (threads), and the run must be abandoned.
	 */
	int (*abandon)(struct executor *x);
	/* Jobs running now, not queued (--progress). */
	unsigned (*running)(struct executor *x);
	/* The descriptors to poll: at most nfds, filled by pollfds. */
	size_t (*nfds)(struct executor *x);
	size_t (*pollfds)(struct executor *x, struct pollfd *fds);
	/* Act on them (the hooks are called from here): 0 or -errno. */
	int (*handle)(struct executor *x, const struct pollfd *fds, size_t n);
	/* Milliseconds until the executor must be called again, or -1. */
	int (*timeout_ms)(struct executor *x);
	/*
	 * After SIGNALS_PLUGIN_EXIT, or at the end: why the executor cannot go
	 * on (a plugin called exit()), into msg, and 1; 0 if there is nothing
	 * (more) to tell.  May be NULL.
	 */
	int (*failure)(struct executor *x, char *msg, size_t len);
	/*
	 * The run is over (killed: by a signal; unfinished: jobs given have
	 * not ended, and are not waited for: the kill sequence is over).
	 * Stop and reap the workers and free x, and return 0; or, if some
	 * are stuck in a job that cannot be stopped (a thread), leave them
	 * and x be and return 1: the caller must end the process.
	 */
	int (*free)(struct executor *x, int killed, int unfinished);
};

struct executor {
	const struct executor_ops *ops;
	struct ccmap *c;	/* the run: its fixed part, c->cfg */
	int threads;		/* data, mark, end come from worker threads */
	/*
	 * The most jobs it should be given at once (0: no limit of its own):
	 * a process pool queues a job to one worker, where it would wait
	 * while another worker is free.
	 */
	size_t capacity;
	/* Set by start: an fd to write to to wake the loop (0: none). */
	int wake_fd;
	/* Filled in by the engine before start: */
	struct exec_hooks on;
	/* Where workers list their jobs, to die with ccmap (guard.h). */
	struct guard *guard;
};

/*
 * The executor the options ask for: the command or the plugin, on threads
 * or in processes.  It must then be started.
 */
struct executor *exec_new(struct ccmap *c);

/* The executors, each made for the run c. */
struct executor *exec_cmd_threads(struct ccmap *c);
struct executor *exec_cmd_procs(struct ccmap *c);
struct executor *exec_plugin_threads(struct ccmap *c);
struct executor *exec_plugin_procs(struct ccmap *c);
struct executor *exec_ssh(struct ccmap *c);	/* -S */

/* A worker's state (engine.h), for executor x; and let go. */
/*
 * --pipe: what job reads on its stdin, as iovecs into in (the --header
 * line, then its block): how many, 0 for a job with no block.
 */
struct iovec;
int exec_job_in(const struct ccmap *c, const struct job *job,
    struct iovec in[2]);

struct wstate;
void exec_wstate_init(struct wstate *ws, struct executor *x);
void exec_wstate_release(struct wstate *ws);

#endif
