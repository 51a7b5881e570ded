/*
 * exec-plugin.c: the plugin executor: a plugin's function mapped over
 * batches of items, each item's output in its place; here on worker
 * threads (exec-threads.c), in exec-plugin-procs.c in worker processes.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec-plugin.h"
#include "exec-threads.h"
#include "plugexit.h"
#include "plughost.h"
#include "plugin.h"
#include "record.h"
#include "signals.h"
#include "util.h"

void
exec_plugin_batch(struct ccmap *c, struct wstate *ws, struct job *job,
    unsigned slot, unsigned long long first, const struct value *items,
    size_t n, struct strbuf *outs, int *status)
{
	const struct ccmap_plugin *d = plugin_desc(c->cfg.plugin);
	struct ccmap_call *calls = util_calloc(n, sizeof *calls);
	struct ccmap_item *it = util_calloc(n, sizeof *it);
	struct strbuf *tags = c->cfg.tagt ? util_calloc(n, sizeof *tags) : NULL;
	long long now = c->cfg.opts.timeout_ns ? util_now_ns() : 0;

	for (size_t i = 0; i < n; i++) {
		calls[i] = (struct ccmap_call){
			.c = c, .job = job, .ws = ws, .seq = first + i,
			.slot = slot, .item = items[i].p, .len = items[i].len,
			.start = now, .bol = { 1, 1 }, .own = &outs[2 * i],
		};
		if (tags) {
			exec_plugin_tag(c, first + i, slot, items[i].p,
			    items[i].len, &tags[i]);
			calls[i].tag = &tags[i];
		}
		it[i] = (struct ccmap_item){ items[i].p, items[i].len,
		    &calls[i] };
		status[i] = 0;
	}
	if (ws->pinit < 0) {
		for (size_t i = 0; i < n; i++) {
			plughost_error(&calls[i], "%s: worker init failed: "
			    "%s", plugin_name(c->cfg.plugin), *ws->perr ?
			    ws->perr : "?");
			status[i] = 1;
		}
	} else {
		if (job)	/* (on a thread) */
			plugexit_site = (struct plugexit_site){ ws, job,
			    &calls[0], n };
		d->map_batch(&c->cfg.host, ws->pw, it, status, n);
	}
	for (size_t i = 0; tags && i < n; i++)
		strbuf_release(&tags[i]);
	free(tags);
	free(it);
	free(calls);
}

/* Map the plugin over one batch with map_batch, in a worker thread. */
static void
run_batch_whole(struct ccmap *c, struct wstate *ws, struct job *job,
    unsigned slot)
{
	struct value *items = job->v;
	struct strbuf *outs = util_calloc(2 * job->items, sizeof *outs);
	int *status = util_calloc(job->items, sizeof *status);
	size_t n = 0;

	if (!items) {
		struct batch_iter it;
		batch_begin(&it, c, job);
		items = util_calloc(job->items, sizeof *items);
		while (n < job->items && batch_item(&it, &items[n].p,
		    &items[n].len))
			n++;
	} else {
		n = job->items;
	}
	long long t0 = util_now_ns();
	exec_plugin_batch(c, ws, job, slot, job->first_item, items, n, outs,
	    status);
	/* --json: a batch's items share its time alike. */
	long long each = n ? (util_now_ns() - t0) / (long long)n : 0;
	for (size_t i = 0; i < n; i++) {
		if (record_active(c))
			status[i] = record_item(c, ws, job->first_item + i,
			    slot, items[i].p, items[i].len, status[i], 0, each,
			    &outs[2 * i]);
		for (int k = 0; k < 2; k++) {
			strbuf_add(&ws->bout[k], outs[2 * i + k].buf,
			    outs[2 * i + k].len);
			strbuf_release(&outs[2 * i + k]);
		}
		job->ran_items++;
		if (status[i])
			job->failed_items++;
		plughost_item_done(ws, job);
		if (ws->bout[0].len + ws->bout[1].len >= WRITE_FLUSH)
			plughost_flush(ws, job);
	}
	plughost_flush(ws, job);
	if (items != job->v)
		free(items);
	free(outs);
	free(status);
}

/*
 * run_batch's common case, lean: the job's delimited records, no tags, no
 * deadline.  Millions of items a second go through here: the records are
 * found 64 at a time, and the loop calls the plugin and little else.
 */
static void
map_records(struct thread_exec *te, const struct ccmap_plugin *d,
    struct ccmap_call *call)
{
	struct ccmap *c = te->x.c;
	struct job *job = call->job;
	int (*map)(const struct ccmap_host *, struct ccmap_call *, void *,
	    const char *, size_t) = d->map;
	void *pw = call->ws->pw;
	const char *ends[64], *pos = job->store.buf;
	size_t i = 0, n, failed = 0;
	struct scan s;

	scan_init(&s, job->store.buf, job->store.len, c->cfg.opts.delim);
	while (!atomic_load_explicit(&te->stop_sig, memory_order_relaxed) &&
	    (n = scan_fill(&s, ends, ARRAY_SIZE(ends))) > 0) {
		for (size_t k = 0; k < n; k++) {
			call->seq = job->first_item + i + k;
			call->item = pos;
			call->len = (size_t)(ends[k] - pos);
			call->bol[0] = call->bol[1] = 1;
			failed += map(&c->cfg.host, call, pw, pos,
			    call->len) != 0;
			plughost_item_done(call->ws, job);
			pos = ends[k] + 1;
		}
		i += n;
	}
	job->ran_items += i;
	job->failed_items += failed;
}

/*
 * --results, --json: map one item on a thread, its output on its own, and
 * record it; what is to be printed joins the batch's output.
 */
static int
map_recorded(struct ccmap *c, const struct ccmap_plugin *d, struct wstate *ws,
    struct job *job, struct ccmap_call *call)
{
	long long t0 = util_now_ns();
	int st = exec_plugin_map_one(c, d, call);

	st = record_item(c, ws, call->seq, call->slot, call->item,
	    call->len, st, 0, util_now_ns() - t0, ws->iout);
	for (int k = 0; k < 2; k++) {
		strbuf_add(&ws->bout[k], ws->iout[k].buf, ws->iout[k].len);
		strbuf_reset(&ws->iout[k]);
	}
	if (ws->bout[0].len + ws->bout[1].len >= WRITE_FLUSH)
		plughost_flush(ws, job);
	return st;
}

/* Map the plugin over one batch, on a worker thread. */
static void
run_batch(struct thread_exec *te, struct wstate *ws, struct job *job,
    unsigned slot)
{
	struct ccmap *c = te->x.c;
	const struct ccmap_plugin *d = plugin_desc(c->cfg.plugin);
	struct strbuf tag = STRBUF_INIT;

	ws->eout = 0;
	plugexit_site = (struct plugexit_site){ .ws = ws, .job = job };
	if (!ws->pinit) {
		ws->pinit = 1;
		if (d->worker_init && d->worker_init(&c->cfg.host,
		    plugin_state(c->cfg.plugin), &ws->pw, ws->perr,
		    sizeof ws->perr) != 0)
			ws->pinit = -1;
	}
	if (d->map_batch) {
		run_batch_whole(c, ws, job, slot);
		return;
	}
	struct ccmap_call call = { .c = c, .job = job, .ws = ws, .slot = slot,
	    .own = ws->bout };
	struct batch_iter it;
	size_t i;
	int record = record_active(c);

	plugexit_site.call = &call;

	if (!record && !c->cfg.tagt && !c->cfg.opts.timeout_ns &&
	    ws->pinit > 0 && !job->v) {
		map_records(te, d, &call);
		plughost_flush(ws, job);
		return;
	}
	if (record)
		call.own = ws->iout;	/* each item's output on its own */
	batch_begin(&it, c, job);
	for (i = 0; i < job->items; i++) {
		if (atomic_load_explicit(&te->stop_sig, memory_order_relaxed) ||
		    !batch_item(&it, &call.item, &call.len))
			break;	/* stopping: the rest of the batch is not run */
		call.seq = job->first_item + i;
		call.bol[0] = call.bol[1] = 1;
		if (c->cfg.tagt) {
			strbuf_reset(&tag);
			exec_plugin_tag(c, call.seq, slot, call.item,
			    call.len, &tag);
			call.tag = &tag;
		}
		if (record ? map_recorded(c, d, ws, job, &call) :
		    exec_plugin_map_one(c, d, &call))
			job->failed_items++;
		plughost_item_done(ws, job);
	}
	job->ran_items += i;
	plughost_flush(ws, job);
	strbuf_release(&tag);
}

/* --- on worker threads --------------------------------------------------- */

static void
thread_run(struct thread_exec *te, struct job *job, struct wstate *ws,
    unsigned slot)
{
	long long t0 = util_now_ns();

	run_batch(te, ws, job, slot);
	plugexit_site.job = NULL;
	job->map_ns = util_now_ns() - t0;
}

static int
thread_start(struct executor *x)
{
	int r = exec_threads_start(x);

	if (r == 0)
		plugexit_watch(thread_exec(x));
	return r;
}

/* SIGHUP: the batches running stop between items. */
static void
thread_hangup(struct executor *x)
{
	exec_threads_hangup(x);
	atomic_store(&thread_exec(x)->stop_sig, SIGHUP);
}

static int
thread_failure(struct executor *x, char *msg, size_t len)
{
	return plugexit_message(x->c, msg, len);
}

static int
thread_free(struct executor *x, int killed, int unfinished)
{
	/* A thread held in the plugin's exit() is never done. */
	if (unfinished || plugexit_parked())
		return 1;
	plugexit_watch(NULL);
	return exec_threads_free(x, killed, 0);
}

static const struct executor_ops thread_ops = {
	.name = "threads",
	.start = thread_start,
	.submit = exec_threads_submit,
	.kill = exec_threads_kill,
	.hold = exec_threads_hold,
	.hangup = thread_hangup,
	.abandon = exec_threads_abandon,
	.running = exec_threads_running,
	.nfds = exec_threads_nfds,
	.pollfds = exec_threads_pollfds,
	.handle = exec_threads_handle,
	.failure = thread_failure,
	.free = thread_free,
};

struct executor *
exec_plugin_threads(struct ccmap *c)
{
	return exec_threads_new(c, &thread_ops, thread_run);
}
