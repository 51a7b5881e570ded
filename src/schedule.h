/*
 * schedule.h: jobs handed to the executor and taken back (main thread).
 */
#ifndef CCMAP_SCHEDULE_H
#define CCMAP_SCHEDULE_H

#include <stddef.h>

struct ccmap;
struct job;

/* New jobs, made by dispatch.c: each starts when it may (-p: once asked). */
void sched_give(struct ccmap *c, struct job **chunk, size_t n);
/* Is there room in flight for another job (and in the reorder window)? */
int sched_room(const struct ccmap *c);
/* May a job start now?  (--delay, and a stopping run.) */
int sched_may_start(struct ccmap *c);
/* Start what waits: failed jobs again (--retries), the --halt N% backlog. */
void sched_start_waiting(struct ccmap *c);
/* A job has ended (main thread): count it, retry it, pass it on to emit. */
void sched_finish(struct ccmap *c, struct job *job);
/* -p: the answer to the question about the job being asked. */
void sched_answer(void *arg, int yes);
/* Stop starting jobs, and send sig to the running ones. */
void sched_kill(struct ccmap *c, int sig);
/*
 * Stop the run: no new job, and the kill sequence (--termseq) for the
 * running ones, first (when not 0) in place of its first signal.
 */
void sched_terminate(struct ccmap *c, int first);
/* The next step of the kill sequence, or its end (c->abandon). */
void sched_term_next(struct ccmap *c);
/* The run is over: the jobs made that will not run now are let go. */
void sched_drop(struct ccmap *c);

#endif
