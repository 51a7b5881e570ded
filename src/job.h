/*
 * job.h: run one job: spawn its command, capture its output, reap it.
 *
 * Used alike by the threads of the thread pool and by the worker processes
 * of the process pool; it touches no shared state, so any number of threads
 * may run jobs at once.  Every descriptor the engine opens is close-on-exec,
 * so a job gets exactly stdin (/dev/null, or a pipe it reads its data
 * from), stdout and stderr.
 */
#ifndef CCMAP_JOB_H
#define CCMAP_JOB_H

#include <signal.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "ccmap.h"
#include "template.h"

/* How a job ended. */
struct job_status {
	int code;	/* exit code (127 not found, 126 not executable) */
	int sig;	/* the signal that killed it, or 0 */
	int err;	/* errno from starting it, or 0 */
	int timed_out;	/* killed for running past --timeout */
	long long start_ns;	/* when it started: wall clock, since the epoch */
	long long run_ns;	/* how long it ran */
	long long out_bytes;	/* stdout written to a file of its own
				   (--results DIR), not captured */
};

/* Where a job's output goes and who hears of it. */
struct spawn_io {
	int capture;	/* through pipes to data(); else our own fds */
	const int *to;	/* not captured: stdout and stderr go to to[0] and
			   to[1] instead of ours (NULL: ours) */
	/* Output of stream 1 (stdout) or 2 (stderr) as it comes. */
	void (*data)(void *arg, int stream, const char *buf, size_t len);
	/*
	 * The job started as pid (to be able to signal it), or with pid 0,
	 * it ended and is about to be reaped.  May be NULL.
	 */
	void (*started)(void *arg, pid_t pid);
	void *arg;
	/*
	 * --pipe: what the job reads on its stdin (at most SPAWN_IN_MAX
	 * pieces, written from where they are, in order), else it reads
	 * /dev/null.  A job that exits without reading it all is no error.
	 */
	const struct iovec *in;
	int nin;
	/*
	 * Else, with hold_in, its stdin is a pipe that stays open, and
	 * empty, until it has ended: an ssh client's far end sees its end
	 * (hosts.h) only when it has ended.
	 */
	int hold_in;
};
#define SPAWN_IN_MAX 4

/* The environment of a job: ours plus CCMAP_SEQ and CCMAP_SLOT. */
struct jobenv {
	char **envp;
	size_t n;		/* where CCMAP_SEQ goes; CCMAP_SLOT follows */
	char seq[48], slot[32];
};

void jobenv_init(struct jobenv *je);
void jobenv_release(struct jobenv *je);
void jobenv_set(struct jobenv *je, unsigned long long seq, unsigned slot);

/* Options that are the same for every job of a run. */
struct spawn_ctx {
	int devnull;		/* the job's stdin */
	int own_pgroup;		/* each job leads a process group */
	sigset_t sigdef;	/* signals to reset to their default */
	long long timeout_ns;	/* kill a job running longer (0: never) */
	const struct ccmap_termseq *termseq;	/* how (NULL: the default) */
};

/*
 * Run the command in cb to the end and fill st.  Returns 0, or -errno when
 * the job could not be started (st->err says why as well).
 */
int spawn_job(const struct spawn_ctx *ctx, const struct cmdbuf *cb,
    char *const envp[], const struct spawn_io *io, struct job_status *st);

/* Did the job fail? */
int job_failed(const struct job_status *st);

/* The name of a signal, "SIGKILL", or "signal N". */
const char *signal_name(int sig, char buf[16]);

#endif
