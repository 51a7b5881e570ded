/*
 * plugpool.h: worker processes that map a plugin over chunks of items.
 *
 * Each worker is forked once (so it inherits the loaded plugin and its
 * state), leads a process group of its own, and runs chunks of items that
 * ccmap sends it over a pipe (a CHUNK frame: the first item's number, the
 * delimiter, and the items' bytes, each ended by the delimiter).
 *
 * Results do not come back through the pipe item by item: the worker
 * appends each item's record (number, status, stdout and stderr bytes) to
 * a buffer shared with ccmap, and commits it; when the buffer is full and
 * at the end of each chunk it sends a FLUSH frame and waits for ccmap's
 * ACK.  So a worker that crashes loses nothing that it finished: ccmap
 * reads the committed records, reports the item it was mapping as failed
 * with the signal (or the timeout), and sends the items after it to a new
 * worker.  An item runs once, its output comes once.
 */
#ifndef CCMAP_PLUGPOOL_H
#define CCMAP_PLUGPOOL_H

#include <poll.h>
#include <stddef.h>

#include "strbuf.h"
#include "value.h"

struct plugpool_ops {
	/* In a worker: it starts (slot from 1) and ends. */
	void (*start)(void *arg, unsigned slot);
	void (*end)(void *arg);
	/* In a worker: map one item, its output into out[0] and out[1]. */
	int (*map)(void *arg, unsigned slot, unsigned long long seq,
	    const char *item, size_t len, struct strbuf out[2]);
	/*
	 * Or, if set, a chunk's n items at once (numbered from first): item
	 * i's output into outs[2i] and outs[2i+1], its status in status[i].
	 * A crash then loses every item of the chunk not yet reported.
	 */
	void (*map_batch)(void *arg, unsigned slot, unsigned long long first,
	    const struct value *items, size_t n, struct strbuf *outs,
	    int *status);
	/*
	 * In ccmap: the results of count items from seq: with count 1, an
	 * item's; with more, items that all succeeded and wrote nothing on
	 * stderr, whose outputs follow each other in out.
	 */
	void (*result)(void *arg, void *cookie, unsigned long long seq,
	    size_t count, int status, const char *out, size_t olen,
	    const char *err, size_t elen);
	/*
	 * In ccmap: an item whose worker died (of sig, or exiting with
	 * code) or ran out of time.
	 */
	void (*lost)(void *arg, void *cookie, unsigned long long seq, int sig,
	    int code, int timed_out);
	/* In ccmap: every item of the chunk has been reported. */
	void (*done)(void *arg, void *cookie);
	/* In ccmap: a worker spent ns mapping items (may be NULL). */
	void (*timing)(void *arg, long long ns, size_t items);
	void *arg;
};

struct plugpool_opts {
	unsigned workers;
	unsigned max_tasks;		/* chunks per worker, then a new one (0: no limit) */
	long long timeout_ns;		/* per item (0: none) */
	int keep_fd;			/* stays open in the workers (/dev/null) */
};

struct plugpool;

int plugpool_new(struct plugpool **pp, const struct plugpool_opts *opts,
    const struct plugpool_ops *ops);
/* Close the pipes, so the workers end, and reap them. */
void plugpool_free(struct plugpool *pp);
/*
 * Queue a chunk: count items from number first, each ended by delim, in
 * block, which must stay as it is until ops.done for cookie.  It is sent
 * by plugpool_flush() (or once much is queued).
 */
void plugpool_submit(struct plugpool *pp, void *cookie,
    unsigned long long first, size_t count, const char *block, size_t len,
    int delim);
/* Send what is queued, as far as the pipes take it now. */
void plugpool_flush(struct plugpool *pp);
size_t plugpool_nfds(const struct plugpool *pp);
size_t plugpool_pollfds(struct plugpool *pp, struct pollfd *fds);
/* Milliseconds until the next item's deadline, or -1. */
int plugpool_timeout_ms(const struct plugpool *pp);
/* Act on polled fds, and on deadlines; 0 or -errno. */
int plugpool_handle(struct plugpool *pp, const struct pollfd *fds, size_t n);
/* Send sig to every worker's group; queued chunks are cancelled. */
void plugpool_kill(struct plugpool *pp, int sig);
/* Workers with a chunk to map: mapping it. */
unsigned plugpool_busy(const struct plugpool *pp);

#endif
