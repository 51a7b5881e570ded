/*
 * plugexit.h: a plugin that calls exit() on a worker thread (plugexit.c).
 */
#ifndef CCMAP_PLUGEXIT_H
#define CCMAP_PLUGEXIT_H

#include "exec-threads.h"

/*
 * What a worker thread is mapping, for a plugin that calls exit(): set
 * once a batch, so that the items' loop pays nothing for it.  call is the
 * item being mapped (its seq moves on with each item), or NULL while the
 * worker's state is made; with map_batch, the n items from call.
 */
struct plugexit_site {
	struct wstate *ws;
	struct job *job;
	const struct ccmap_call *call;
	size_t n;
};
extern __thread struct plugexit_site plugexit_site;

/*
 * Catch a plugin that calls exit() on a worker thread of te (NULL: the
 * run is over, let exit() be).
 */
void plugexit_watch(struct thread_exec *te);
/*
 * After SIGNALS_PLUGIN_EXIT, or at the end: the message saying which
 * item's plugin called exit(), and 1; 0 if none did, or if it was told
 * already.
 */
int plugexit_message(const struct ccmap *c, char *buf, size_t len);
/* Threads held in a plugin's exit(). */
int plugexit_parked(void);

#endif
