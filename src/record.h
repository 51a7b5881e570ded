/*
 * record.h: --results and --json, where the job or item ran (a worker
 * thread or a worker process); what is to be printed goes on through the
 * ordinary output path.
 */
#ifndef CCMAP_RECORD_H
#define CCMAP_RECORD_H

#include <stddef.h>

struct ccmap;
struct job;
struct job_status;
struct jobvals;
struct spawn_io;
struct strbuf;
struct wstate;

/* Does the run record jobs (--results or --json)? */
int record_active(const struct ccmap *c);
/* --resume with --results DIR: did the job run before? */
int record_done_before(const struct ccmap *c, const struct job *job);
/*
 * Before a job's record is made, from what it wrote on stderr (which it
 * may shorten) and how it ended: nonzero for no record at all (the job
 * is to run again).
 */
typedef int record_settle_fn(void *arg, struct strbuf *err,
    const struct job_status *st);
/*
 * Run a job whose output goes to --results files (as it comes, unless
 * settle is given) or becomes a --json line, handed to io->data as
 * stdout.
 */
void record_job(struct ccmap *c, struct wstate *ws, const struct jobvals *jv,
    const struct spawn_io *io, struct job_status *st,
    record_settle_fn *settle, void *arg);
/*
 * A plugin's item was mapped (status, or killed by sig, in ns); io[0] and
 * io[1] hold its output, and are left holding what is to be written
 * instead (its --json line; nothing for --results alone).  Returns the
 * item's status (failed if its files could not be written).
 */
int record_item(struct ccmap *c, struct wstate *ws, unsigned long long seq,
    unsigned slot, const char *item, size_t len, int status, int sig,
    long long ns, struct strbuf io[2]);

#endif
