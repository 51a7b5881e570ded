/*
 * wconn.h: a remote host's `ccmap --worker` (worker.h), over one session
 * of its ssh master, or as a process of ours that starts it there (srun
 * for --slurm): all the host's jobs go over this one connection.
 *
 * Jobs are run from any thread (exec-ssh.c's workers): wconn_run() sends
 * the job and waits for its end, while the connection's reader thread
 * hands the job's output on as it comes.  A connection that fails (the
 * worker, its master or the network gone) fails every job on it as lost,
 * to run again elsewhere; it is not used again (hosts.c opens another).
 *
 * A connection is held by whoever uses it: wconn_hold() and
 * wconn_release(); the last release closes it.
 */
#ifndef CCMAP_WCONN_H
#define CCMAP_WCONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "ccmap.h"
#include "job.h"

struct wconn;

struct wconn_setup {
	const char *ctl;	/* the master's socket */
	const char *cmd;	/* what the login shell runs: the worker */
	const char *const *argv;	/* or (not NULL) a command of ours that runs
				   it there, its stdio the connection's */
	const char *host;	/* its name (CCMAP_HOST, messages) */
	unsigned slots;		/* its jobs at once */
	long long timeout_ns;	/* --timeout (0: none) */
	const struct ccmap_termseq *termseq;	/* NULL: the default */
	unsigned max_tasks;	/* --max-tasks-per-child */
	const char *plugin;	/* --so (NULL: commands), */
	char *const *args;	/* its arguments, */
	size_t nargs;
	const char *tag;	/* its items' --tag/--tagstring (NULL: none), */
	const char *replace;	/* with -I's string (NULL: {}) */
};

/*
 * Start the worker and check its hello: 0 with *wp (held once), or
 * -EPROTONOSUPPORT (a worker of another protocol, or none there) or
 * -EHOSTUNREACH (the session failed), with one line in why.
 */
int wconn_open(struct wconn **wp, const struct wconn_setup *s, char *why,
    size_t wlen);
void wconn_hold(struct wconn *w);
void wconn_release(struct wconn *w);
/* Is it still up (no failure seen)? */
int wconn_up(struct wconn *w);
/*
 * The worker is to end: its stdin is closed (it ends its jobs), and a
 * killed run does not wait for it to say so.  Then released.  (Many at
 * once: wconn_end() each first, so that they all end meanwhile.)
 */
void wconn_end(struct wconn *w, int killed);
void wconn_close(struct wconn *w, int killed);

/* A plugin's batch of items, and how it went. */
struct wconn_batch {
	unsigned long long first;	/* its first item's number */
	size_t items;
	int delim;		/* what ends each item in bytes */
	const char *bytes;
	size_t len;
	/* Set by wconn_run(): */
	size_t ran, failed;	/* items that ran, that failed */
	long long map_ns;	/* how long they took */
};

/* A job for the worker: a command, or a plugin's batch. */
struct wconn_job {
	unsigned long long seq;
	unsigned slot;		/* CCMAP_SLOT */
	const char *cmd;	/* the command line, for /bin/sh -c */
	size_t len;
	const char *wd;		/* its directory (NULL: the login one) */
	const struct iovec *in;	/* --pipe: its stdin */
	int nin;
	struct wconn_batch *batch;	/* or this (seq, cmd... unused) */
	/* Its output, from the reader thread, as it comes... */
	void (*data)(void *arg, int stream, const char *buf, size_t len);
	/* ...and, for a batch, that the output so far is an item's. */
	void (*mark)(void *arg);
	/* It was sent as id (to wconn_kill() it): from the caller's thread. */
	void (*sent)(void *arg, struct wconn *w, uint64_t id);
	void *arg;
};

/*
 * Run it to its end: 0 with st; -1 if the connection failed first (the
 * job is lost: it may have run in part), with why.
 */
int wconn_run(struct wconn *w, const struct wconn_job *j,
    struct job_status *st, char *why, size_t wlen);
/* Pass sig on to job id (it has ended: nothing). */
void wconn_kill(struct wconn *w, uint64_t id, int sig);

#endif
