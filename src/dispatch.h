/*
 * dispatch.h: items into jobs (main thread).
 */
#ifndef CCMAP_DISPATCH_H
#define CCMAP_DISPATCH_H

#include <stddef.h>

struct ccmap;
struct host;
struct job;
struct strbuf;

/* Make jobs of the items at hand while there is room, and give them. */
void dispatch_jobs(struct ccmap *c);
/* --bar, --eta: the jobs in all, once it can be known. */
void dispatch_show_total(struct ccmap *c);
/* A plugin mapped items in ns: the next batches are sized by it. */
void dispatch_item_time(struct ccmap *c, long long ns, size_t items);
/* The job's command line, as messages, -p and the joblog show it. */
void dispatch_job_line(struct ccmap *c, const struct job *job,
    struct strbuf *sb);
/* --onall: a copy of the job, numbered after the last one made. */
struct job *dispatch_job_copy(struct ccmap *c, const struct job *src);
/*
 * --onall: the job runs on h and nowhere else; --tag (without
 * --tagstring) tags its lines with the host's name, as GNU parallel.
 */
void dispatch_pin(struct ccmap *c, struct job *job, const struct host *h);
/* Free a job (made here, ended anywhere). */
void dispatch_job_free(struct ccmap *c, struct job *job);

#endif
