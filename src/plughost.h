/*
 * plughost.h: the services a plugin gets, and the hand-off of what its
 * items wrote (for the plugin executor, exec-plugin.c).
 */
#ifndef CCMAP_PLUGHOST_H
#define CCMAP_PLUGHOST_H

#include "engine.h"
#include "exec.h"

/* A batch's output is handed on once it holds this much. */
#define WRITE_FLUSH (64 * 1024)

/* The services, for the plugin's calls (struct ccmap's cfg.host). */
extern const struct ccmap_host plughost;

/* Hand what the worker gathered of a batch's output on (ws->x's data). */
void plughost_flush(struct wstate *ws, struct job *job);
/* host->error: "NAME: item N: MESSAGE" on stderr, in the item's place. */
void plughost_error(struct ccmap_call *call, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* host->expired: is the item past its --timeout? */
int plughost_expired(struct ccmap_call *call);

/*
 * An item was mapped.  If it wrote on stderr, the batch's output so far is
 * handed on and marked as a group: each item's stdout, then its stderr,
 * before the next item's (--group, when stdout and stderr are one file).
 */
static inline void
plughost_item_done(struct wstate *ws, struct job *job)
{
	if (!ws->bout[1].len && !ws->eout)
		return;
	plughost_flush(ws, job);
	ws->x->on.mark(ws->x, job);
	ws->eout = 0;
}

#endif
