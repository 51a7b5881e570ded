/*
 * halt.h: --halt, GNU parallel's rule for ending a run early.
 *
 * The engine tells halt_count() of every job that finishes (not of one
 * that will be retried, nor of one the halt itself killed); it answers
 * whether the run must halt now, and keeps the exit status the halt
 * decides, as GNU parallel computes it:
 *
 *	fail=1 or done=1	the status of the job that made it halt
 *				(128 + N for signal N, 255 for a timeout)
 *	fail=N or done=N	the number of failed jobs so far, at most 101
 *				(done=N with none failed: 101, as GNU
 *				parallel 20221122 exits)
 *	fail=N% or done=N%	the failed jobs in percent of all the jobs
 *	success=...		0
 *
 * A run with a percentage that never halts ends with the failed jobs in
 * percent of the started ones; one with a count, as any run.
 */
#ifndef CCMAP_HALT_H
#define CCMAP_HALT_H

#include "ccmap.h"

struct halt {
	struct ccmap_halt h;
	unsigned long long total;	/* all the run's jobs (percentages) */
	unsigned long long started;	/* attempts started (the engine counts) */
	unsigned long long completed, failed;
	int halted;		/* the threshold was reached: */
	int status;		/* the exit status it decided */
};

void halt_init(struct halt *hs, const struct ccmap_halt *h);
/* Does the halt need to know all the jobs before the first starts? */
int halt_needs_total(const struct halt *hs);
/*
 * Which word a finished job is reported with: "failed", "succeeded" or
 * "finished" (whatever the halt counts), or NULL for none.
 */
const char *halt_notice(const struct halt *hs, int failed);
/*
 * Count a job that finished, failed or not, with status its exit status as
 * a shell gives it.  Returns the halt's CCMAP_HALT_SOON or CCMAP_HALT_NOW
 * each time the threshold is met (again), else CCMAP_HALT_NEVER.
 */
enum ccmap_halt_when halt_count(struct halt *hs, int failed, int status);
/*
 * Count n plugin items, the first nfailed of them failed (status 1): the
 * last answer of halt_count() that was not CCMAP_HALT_NEVER, if any.
 */
enum ccmap_halt_when halt_count_items(struct halt *hs, size_t n,
    size_t nfailed);
/* At the end of the run: 1 and the exit status if the halt decides it. */
int halt_exit_status(const struct halt *hs, int *status);

#endif
