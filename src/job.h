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
	/*
	 * -S: run the last word of the command as a session over the
	 * OpenSSH master listening on this socket, spoken to directly
	 * (mux.h), with no ssh client of its own; the command as a whole
	 * if that master cannot be spoken to so.  NULL: spawn it.
	 */
	const char *mux;
	/*
	 * Such a session opened on socket fd (shutdown() ends it), or
	 * ended: -1.  May be NULL.
	 */
	void (*opened)(void *arg, int fd);
	/*
	 * Or the job runs another way (a message to a remote ccmap
	 * --worker): run(run_arg, io, st) runs it to its end, its output to
	 * io's data, instead of a spawn.  NULL: spawn it.
	 */
	void (*run)(void *run_arg, const struct spawn_io *io,
	    struct job_status *st);
	void *run_arg;
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

/*
 * The ways of running a job (spawn_job, mux_job) share these: its pipes,
 * and the watch of them until it ends.
 */
struct job_pipes {
	int out[2], err[2];	/* captured stdout and stderr */
	int in[2];		/* what it reads (io->in) */
	int held;		/* io->hold_in: a stdin open until it ends */
};
/* Open what io asks for: 0, or -errno. */
int job_pipes_open(struct job_pipes *p, const struct spawn_io *io);
/* The job has its ends (spawned, or passed on): ours are closed. */
void job_pipes_given(struct job_pipes *p);
void job_pipes_close(struct job_pipes *p);

/* What ends a job besides its pipes: a process, a session. */
struct job_end {
	int fd;		/* readable when it has something to say (-1: none,
			   heard() is called now and then) */
	int ended;	/* it has ended (set by heard()) */
	void (*heard)(struct job_end *e);
	void (*kill)(struct job_end *e, int sig);
};
/*
 * Hand on its output and write its stdin until these end, and until end
 * ends; kill it with end->kill when its time (--timeout) is up.
 */
void job_watch(const struct spawn_ctx *ctx, struct job_end *end,
    struct job_pipes *p, const struct spawn_io *io, struct job_status *st);

/* Did the job fail? */
int job_failed(const struct job_status *st);

/* The name of a signal, "SIGKILL", or "signal N". */
const char *signal_name(int sig, char buf[16]);

#endif
