/*
 * guard.h: the jobs die with ccmap, however it ends, SIGKILL included.
 *
 * Each job leads a process group of its own, so that it can be signalled
 * whole; but then nothing takes it down should ccmap die without stopping
 * it.  The guard is a small process that only waits on a pipe ccmap alone
 * holds open: when ccmap is gone, however, the pipe ends, and the guard
 * sends SIGKILL to the process group of every job still listed and exits.
 * The jobs are listed, a slot per worker, in a table in shared memory, by
 * whoever starts them: a thread of ccmap or a worker process forked after
 * the table was made.
 *
 * A job is listed from the moment its spawn returns until it has exited
 * (before it is reaped, so that its pid cannot be another's meanwhile).
 * The table is made when a run starts; the guard may be forked later (a
 * fork costs more than a short run), and guards the jobs from then on.
 */
#ifndef CCMAP_GUARD_H
#define CCMAP_GUARD_H

#include <sys/types.h>

struct guard;

/* Make the table of slots.  0 or -errno. */
int guard_new(struct guard **gp, unsigned slots);
/* Fork the guard, if it is not yet (main thread).  0 or -errno. */
int guard_start(struct guard *g);
/* List the job of slot (from 0) as pgid, or 0 for none; any thread or
   worker process. */
void guard_set(struct guard *g, unsigned slot, pid_t pgid);
/* Send sig to the group of the job listed in slot, if any, and unlist it. */
void guard_kill_slot(struct guard *g, unsigned slot, int sig);
/* Send sig to the group of every job listed. */
void guard_kill(struct guard *g, int sig);
/* Let the guard go (it kills what is still listed) and reap it. */
void guard_free(struct guard *g);

#endif
