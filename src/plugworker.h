/*
 * plugworker.h: what runs in a plugin worker process (plugpool.h says
 * how the pool uses it).  The worker reads CHUNK frames, maps their items
 * with the plugin's ops, puts each item's result into its shared buffer
 * (plugshm.h) at once, and tells ccmap with a FLUSH frame when a half is
 * full and when it waits for more chunks, then waits for the ACK of the
 * other half before it fills that one.  SIGINT, SIGTERM and SIGUSR1 stop
 * it after the item it is on.
 */
#ifndef CCMAP_PLUGWORKER_H
#define CCMAP_PLUGWORKER_H

#include "plugpool.h"

struct plugshm;

/* All a worker knows of its pool. */
struct plugworker {
	const struct plugpool_ops *ops;
	const struct plugpool_opts *opts;
	unsigned slot;			/* from 1 */
	struct plugshm *shm;		/* its shared buffer */
};

/*
 * wpipe_start()'s child: arg is a struct plugworker, in and out the
 * pipes from and to ccmap.  It does not return.
 */
void plugworker_main(void *arg, int in, int out);

#endif
