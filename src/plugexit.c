/*
 * plugexit.c: a plugin that calls exit() on a worker thread.  That thread
 * ends its batch (the items before are kept, the rest are not run), tells
 * the main loop with SIGNALS_PLUGIN_EXIT, and is held there for good, so
 * that the process does not end before the finished output is written.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugexit.h"
#include "plughost.h"
#include "plugin.h"
#include "signals.h"
#include "threadpool.h"

__thread struct plugexit_site plugexit_site;

static struct thread_exec *_Atomic watched;	/* the run's, or NULL */
static pid_t watched_pid;		/* its process (not a worker's) */
static unsigned handlers;		/* exit handlers registered */
/* The first exit, told to the main thread once ready is set: */
static struct {
	atomic_int parked;	/* threads held there */
	atomic_int taken, ready;
	int status;		/* its status, or -1 if unknown */
	unsigned long long seq;	/* the item's number (0: in worker_init) */
	size_t n;		/* items in the call (map_batch), or 1 */
	char item[48];		/* the item, cut short */
	int cut;
} exited;

/*
 * Run by exit() (from the calling thread, before the process ends): on a
 * worker thread that maps, the batch ends here, the main loop hears of it,
 * and the thread waits for good, so that exit() never ends the process;
 * the main thread ends it, once the finished output is written.  Else
 * (the main thread, a worker process, no run) it lets exit() go on.
 */
static void
on_exit_handler(int status, void *arg)
{
	struct thread_exec *te = atomic_load(&watched);
	struct job *job = plugexit_site.job;
	const struct ccmap_call *call = plugexit_site.call;
	size_t n = call && plugexit_site.n ? plugexit_site.n : 1;

	(void)arg;
	if (!te || !job || getpid() != watched_pid)
		return;
	if (!atomic_exchange(&exited.taken, 1)) {
		exited.status = status;
		exited.seq = call ? call->seq : 0;
		exited.n = n;
		if (call) {
			size_t len = call->len < sizeof exited.item - 1 ?
			    call->len : sizeof exited.item - 1;
			memcpy(exited.item, call->item, len);
			exited.item[len] = '\0';
			exited.cut = len < call->len;
		}
		atomic_store(&exited.ready, 1);
	}
	/* What the batch's items wrote so far; those after are not run. */
	plughost_flush(plugexit_site.ws, job);
	job->ran_items = call ? (size_t)(call->seq - job->first_item) + n : 0;
	job->failed_items += n;
	te->x.on.end(&te->x, job);
	atomic_fetch_add(&exited.parked, 1);
	signals_post(SIGNALS_PLUGIN_EXIT);
	threadpool_complete(te->tp, &job->work);
	for (;;)
		pause();	/* (every signal is blocked in a worker) */
}

#ifndef HAVE_ON_EXIT
static void
at_exit_handler(void)
{
	on_exit_handler(-1, NULL);
}
#endif

void
plugexit_watch(struct thread_exec *te)
{
	if (te) {
		watched_pid = getpid();
		atomic_store(&exited.taken, 0);
		atomic_store(&exited.ready, 0);
		/*
		 * One handler for each thread that might call exit(): each
		 * caller takes the next one, so a second caller is held as
		 * well, not let through to end the process.
		 */
		for (; handlers <= te->x.c->cfg.jobs; handlers++)
#ifdef HAVE_ON_EXIT
			on_exit(on_exit_handler, NULL);
#else
			atexit(at_exit_handler);
#endif
	}
	atomic_store(&watched, te);
}

int
plugexit_message(const struct ccmap *c, char *buf, size_t len)
{
	char code[24] = "";
	int one = 1;

	/* (told once: 1 becomes 2) */
	if (!atomic_compare_exchange_strong(&exited.ready, &one, 2))
		return 0;
	if (exited.status >= 0)
		snprintf(code, sizeof code, "%d", exited.status);
	if (!exited.seq)
		snprintf(buf, len, "the plugin '%s' called exit(%s) as a "
		    "worker started", plugin_name(c->cfg.plugin), code);
	else if (exited.n > 1)
		snprintf(buf, len, "items %llu-%llu: the plugin '%s' called "
		    "exit(%s) in its map_batch", exited.seq, exited.seq +
		    exited.n - 1, plugin_name(c->cfg.plugin), code);
	else
		snprintf(buf, len, "item %llu '%s%s': the plugin '%s' called "
		    "exit(%s)", exited.seq, exited.item,
		    exited.cut ? "..." : "", plugin_name(c->cfg.plugin), code);
	return 1;
}

int
plugexit_parked(void)
{
	return atomic_load(&exited.parked);
}
