/*
 * hosts.h: the hosts of -S, connected.  Each remote host gets ssh
 * masters (ControlMaster) that ccmap starts before the first job, in a
 * private directory, and closes at the end; a job is one session over a
 * master, never a handshake of its own.  A master carries at most
 * HOSTS_SESSIONS jobs (sshd's MaxSessions is 10, the master's own session
 * counts), so a host with more slots gets more masters.
 *
 * A job's session runs a small POSIX sh wrapper on the host: it sets
 * CCMAP_SEQ, CCMAP_SLOT and CCMAP_HOST, runs the command, and kills the
 * session's process group when the session's stdin ends (ccmap gone, the
 * connection cut), so that no job outlives its run.  Its exit status is
 * the command's; a command's 255 is told from ssh's own failure by a
 * marker the wrapper writes last on stderr (hosts_marker()).
 *
 * Slots are taken and given back from any thread.
 */
#ifndef CCMAP_HOSTS_H
#define CCMAP_HOSTS_H

#include <stddef.h>

#include "ccmap.h"
#include "strbuf.h"
#include "template.h"

#define HOSTS_SESSIONS 9

struct hosts;
struct host;

/* A slot of a host, held by a job. */
struct hostslot {
	struct host *h;
	unsigned master;	/* which of its masters (remote hosts) */
};

/*
 * Connect to the hosts of opts (-S, --sshloginfile): each remote host's
 * first master, spaced by --sshdelay, its CPUs asked when the login does
 * not say, then the masters for its other slots.  A host that cannot be
 * reached is left out, with one warning.  *slots: the slots in all (-j
 * per host, or its CPUs).  0, or CCMAP_EUSAGE / -errno with err.  The
 * warnings, then and during the run, go to warn_fn(arg, msg) (NULL:
 * none), from the thread that takes or gives a slot.
 */
int hosts_open(struct hosts **hp, const struct ccmap_opts *opts,
    void (*warn_fn)(void *arg, const char *msg), void *arg, unsigned *slots,
    char *err, size_t errlen);
/* Close the masters and wait for them (killed: at once). */
void hosts_close(struct hosts *hs, int killed);

/*
 * Take a free slot, on another host than avoid if one has room (NULL: any
 * host), waiting for one: 0, or -1 when no host is left.
 */
int hosts_take(struct hosts *hs, const struct host *avoid,
    struct hostslot *slot);
/* The same, on host h only (--onall): -1 when h is gone. */
int hosts_take_on(struct hosts *hs, const struct host *h,
    struct hostslot *slot);
/*
 * The hosts in use, in the order given: the one after h (NULL: the
 * first), or NULL after the last.  (Those left out at the start are not.)
 */
const struct host *hosts_next(const struct hosts *hs, const struct host *h);
/*
 * Give it back: ok 0 if the job's session failed (ssh's 255 with no
 * marker; why: ssh's last line, or ""), which counts against the host
 * (dropped, with a warning, after a few in a row).
 */
void hosts_give(struct hosts *hs, const struct hostslot *slot, int ok,
    const char *why);

/* No host is left (hosts_take() failed): 1 the first time asked, then 0. */
int hosts_none_left(struct hosts *hs);

/* The host's name as written (the joblog's Host), and whether it is ":". */
const char *host_name(const struct host *h);
int host_local(const struct host *h);

/*
 * The argument vector that runs the command line cmd (as the shell sees
 * it) on the slot's host, as job seq in slot jobslot, in the directory wd
 * (made if missing; NULL or "": the login directory), into cb; with
 * block (--pipe), its stdin is that file (hosts_put_argv()), which is
 * removed when it ends.
 */
void hosts_argv(struct hosts *hs, const struct hostslot *slot,
    const char *cmd, size_t len, unsigned long long seq, unsigned jobslot,
    const char *wd, const char *block, struct cmdbuf *cb);
/*
 * --pipe: the name of job seq's block on a host, in its temporary
 * directory, and the argument vector that writes its stdin there.
 */
void hosts_block_name(const struct hosts *hs, unsigned long long seq,
    char *buf, size_t len);
void hosts_put_argv(struct hosts *hs, const struct hostslot *slot,
    const char *block, struct cmdbuf *cb);
/*
 * The first words of a session over the slot's master, into cb (reset,
 * not finished): the ssh command and its options, without the "--" and
 * the destination (for rsync's -e, with host_dest()).
 */
void hosts_client(struct hosts *hs, const struct hostslot *slot,
    struct cmdbuf *cb);
/* The socket of the slot's master, into buf (a session's io->mux). */
void hosts_ctl(const struct hosts *hs, const struct hostslot *slot,
    char *buf, size_t len);
/* Its [user@]host, as ssh takes it. */
const char *host_dest(const struct host *h);
/* Did the remote host say it has rsync (its first master's hello, read
   when the hosts were opened)? */
int host_rsync(const struct host *h);
/*
 * --remote-worker: does h run its jobs over its ccmap --worker (wconn.h)?
 * Then hosts_worker() gives its connection, held (wconn_release() it),
 * opened again if it failed (NULL if that fails, with why: the slot is
 * then given back as a failed session), and hosts_worker_line() the
 * line its worker runs for cmd (--env's variables first).
 */
struct wconn;
int host_worker(const struct host *h);
struct wconn *hosts_worker(struct hosts *hs, const struct hostslot *slot,
    char *why, size_t wlen);
void hosts_worker_line(const struct hosts *hs, const char *cmd, size_t len,
    struct strbuf *sb);
/* What the wrapper writes last on stderr when the command exited 255. */
const char *hosts_marker(const struct hosts *hs, size_t *len);

#endif
