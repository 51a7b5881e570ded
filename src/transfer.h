/*
 * transfer.h: the files of -S jobs, as GNU parallel's options: the
 * --transferfile (--transfer, --trc) files copied to the host before a
 * job, the --return files copied back after it, --cleanup removing both
 * on the host, the --basefile files copied to each host once before its
 * first job (those relative on the host: once in each working directory
 * that jobs run in there) and removed at the end with --cleanup, and
 * --workdir, the remote directory the jobs run in and the files' paths
 * are relative to.
 *
 * A path holding "/./" is cut there (as rsync -R does): what follows is
 * the path on the host, relative to the working directory; else a
 * relative path stays so (relative to the working directory there, and to
 * ccmap's current directory here), an absolute one stays absolute.
 *
 * Copies go by rsync over the host's master when both ends have it, else
 * by "cat" through an ssh session (regular files only; the mode bits
 * kept).  They run as the job does, so that they are killed with it.  A
 * file that cannot be copied to the host fails the job, which is not run;
 * one that cannot be copied back fails a job that had succeeded; each
 * with a warning naming the file and the host.  A job on ":" (this
 * machine) copies nothing.
 */
#ifndef CCMAP_TRANSFER_H
#define CCMAP_TRANSFER_H

#include <stddef.h>
#include <sys/types.h>

#include "ccmap.h"
#include "hosts.h"
#include "job.h"
#include "strbuf.h"
#include "value.h"

struct transfer;

/* One job's part, on the stack of the thread that runs it. */
struct xfer_job {
	/* Set by the caller: */
	struct hosts *hs;
	const struct hostslot *slot;
	const struct jobvals *jv;
	const struct spawn_ctx *sctx;
	/* The copies start (pid) and end (0), as spawn_io's started. */
	void (*started)(void *arg, pid_t pid);
	void *arg;
	/* Kept by transfer.c: */
	struct strbuf wd;	/* the remote working directory, or "" */
	struct strbuf clean;	/* remote paths to remove, NUL-terminated */
	int fresh;		/* wd is a "..." directory of its own */
};

/*
 * The templates of the options in o (NULL in *tp when the options ask
 * for nothing): 0, or CCMAP_EUSAGE with one line in err.  The warnings
 * go to warn_fn(arg, msg) (NULL: none), from the jobs' threads.
 */
int transfer_new(struct transfer **tp, const struct ccmap_opts *o,
    void (*warn_fn)(void *arg, const char *msg), void *arg, char *err,
    size_t errlen);
void transfer_free(struct transfer *tr);

/*
 * Before a job on a remote host: its working directory, the host's
 * basefiles (the first job on the host, or in that directory, copies
 * them, the others wait),
 * its transferfiles.  0, or -1 with st saying how the job failed (not
 * to be run).  tr may be NULL (nothing to do).
 */
int transfer_before(struct transfer *tr, struct xfer_job *xj,
    struct job_status *st);
/* The directory the job's wrapper runs it in ("": the login one). */
const char *transfer_workdir(const struct xfer_job *xj);
/*
 * After it: its --return files, then with --cleanup its files removed
 * on the host; st is the job's, made a failure if a file did not come
 * back from a job that succeeded.  Releases xj.
 */
void transfer_after(struct transfer *tr, struct xfer_job *xj,
    struct job_status *st);
/*
 * Instead of transfer_after, for a job that was not run (its files or its
 * --pipe block did not get there): no --return; with --cleanup, what got
 * there is removed.  Releases xj.
 */
void transfer_not_run(struct transfer *tr, struct xfer_job *xj);
/* Release xj without transfer_after (the job's session failed). */
void transfer_job_release(struct xfer_job *xj);

/*
 * At the end of a run that was not killed, with --cleanup: the basefiles
 * removed from the hosts that got them.
 */
void transfer_end(struct transfer *tr, struct hosts *hs,
    const struct spawn_ctx *sctx);

#endif
