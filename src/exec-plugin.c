/*
 * exec-plugin.c: the plugin executor: a plugin's function mapped over
 * batches of items, on worker threads (exec-threads.c) or in worker
 * processes (plugpool.c), each item's output in its place.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec-threads.h"
#include "plugexit.h"
#include "plughost.h"
#include "plugin.h"
#include "plugpool.h"
#include "record.h"
#include "scan.h"
#include "signals.h"
#include "util.h"

/* The items of a batch, in turn: its values, or the records in its store. */
struct batch_iter {
	const struct value *v;
	size_t i;
	const char *pos;	/* the next record's start */
	struct scan s;
};

static void
batch_begin(struct batch_iter *it, const struct ccmap *c,
    const struct job *job)
{
	*it = (struct batch_iter){ .v = job->v, .pos = job->store.buf };
	if (!job->v)
		scan_init(&it->s, job->store.buf, job->store.len,
		    c->cfg.opts.delim);
}

/* 1 and the next item, or 0 after the last (the caller counts values). */
static inline int
batch_item(struct batch_iter *it, const char **item, size_t *len)
{
	if (it->v) {
		*item = it->v[it->i].p;
		*len = it->v[it->i++].len;
		return 1;
	}
	const char *d = scan_next(&it->s);
	if (!d)
		return 0;
	*item = it->pos;
	*len = (size_t)(d - it->pos);
	it->pos = d + 1;
	return 1;
}

/* Call the plugin d for one item. */
static inline int
map_one(struct ccmap *c, const struct ccmap_plugin *d, struct ccmap_call *call)
{
	struct wstate *ws = call->ws;
	int st;

	if (c->cfg.opts.timeout_ns)
		call->start = util_now_ns();
	if (ws->pinit < 0) {
		plughost_error(call, "%s: worker init failed: %s",
		    plugin_name(c->cfg.plugin), *ws->perr ? ws->perr : "?");
		return 1;
	}
	/* (Plugins with map_batch go through batch_call instead.) */
	st = d->map(&c->cfg.host, call, ws->pw, call->item, call->len);
	if (st && plughost_expired(call))
		plughost_error(call, "timed out");
	return st;
}

/*
 * Map n items (numbered from first) with the plugin's map_batch: item i's
 * output goes to outs[2 * i] and outs[2 * i + 1], its status to status[i].
 */
static void
batch_call(struct ccmap *c, struct wstate *ws, struct job *job, unsigned slot,
    unsigned long long first, const struct value *items, size_t n,
    struct strbuf *outs, int *status)
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
			struct jobvals jv = { .v = &items[i], .n = 1,
			    .seq = first + i, .slot = slot };
			template_text(c->cfg.tagt, &jv, &tags[i]);
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
	batch_call(c, ws, job, slot, job->first_item, items, n, outs, status);
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
	int st = map_one(c, d, call);

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
			struct value v = { call.item, call.len };
			strbuf_reset(&tag);
			template_text(c->cfg.tagt, &(struct jobvals){ .v = &v,
			    .n = 1, .seq = call.seq, .slot = slot }, &tag);
			call.tag = &tag;
		}
		if (record ? map_recorded(c, d, ws, job, &call) :
		    map_one(c, d, &call))
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

/* --- in worker processes -------------------------------------------------- */

struct pproc_exec {
	struct executor x;
	struct plugpool *pp;
	struct wstate ws;	/* a worker process's own */
	int stopping;		/* the run is being stopped: lost items
				   are not told of */
};

static struct pproc_exec *
pproc_exec(struct executor *x)
{
	return (struct pproc_exec *)x;
}

/* In a plugin's worker process: it starts. */
static void
pproc_start(void *arg, unsigned slot)
{
	struct pproc_exec *pe = arg;
	struct ccmap *c = pe->x.c;
	const struct ccmap_plugin *d = plugin_desc(c->cfg.plugin);

	pe->ws.pcall = util_calloc(1, sizeof *pe->ws.pcall);
	*pe->ws.pcall = (struct ccmap_call){ .c = c, .ws = &pe->ws,
	    .slot = slot };
	pe->ws.pinit = 1;
	if (d->worker_init && d->worker_init(&c->cfg.host,
	    plugin_state(c->cfg.plugin), &pe->ws.pw, pe->ws.perr,
	    sizeof pe->ws.perr) != 0)
		pe->ws.pinit = -1;
}

static void
pproc_end(void *arg)
{
	struct pproc_exec *pe = arg;
	struct ccmap *c = pe->x.c;
	const struct ccmap_plugin *d = plugin_desc(c->cfg.plugin);

	if (pe->ws.pinit > 0 && d->worker_fini)
		d->worker_fini(&c->cfg.host, pe->ws.pw);
	free(pe->ws.pcall);
	pe->ws.pcall = NULL;
}

/*
 * In a plugin's worker process: map one item, its output into out.  The
 * process is single-threaded: one call, made when it started, serves each
 * item in turn.
 */
static int
pproc_map(void *arg, unsigned slot, unsigned long long seq, const char *item,
    size_t len, struct strbuf out[2])
{
	struct pproc_exec *pe = arg;
	struct ccmap *c = pe->x.c;
	struct ccmap_call *call = pe->ws.pcall;
	int st;

	(void)slot;
	call->seq = seq;
	call->item = item;
	call->len = len;
	call->bol[0] = call->bol[1] = 1;
	call->own = out;	/* the output goes straight where wanted */
	if (record_active(c)) {
		long long t0 = util_now_ns();
		st = map_one(c, plugin_desc(c->cfg.plugin), call);
		return record_item(c, &pe->ws, seq, call->slot, item,
		    len, st, 0, util_now_ns() - t0, out);
	}
	if (!c->cfg.tagt)
		return map_one(c, plugin_desc(c->cfg.plugin), call);
	struct strbuf tag = STRBUF_INIT;
	struct value v = { item, len };
	template_text(c->cfg.tagt, &(struct jobvals){ .v = &v, .n = 1,
	    .seq = seq, .slot = call->slot }, &tag);
	call->tag = &tag;
	st = map_one(c, plugin_desc(c->cfg.plugin), call);
	call->tag = NULL;
	strbuf_release(&tag);
	return st;
}

/* --procs: hand the results gathered for a batch on to the output. */
static void
hand_on(struct pproc_exec *pe, struct job *job)
{
	for (int i = 0; i < 2; i++) {
		if (job->pend[i].len)
			pe->x.on.data(&pe->x, job, i + 1, job->pend[i].buf,
			    job->pend[i].len);
		strbuf_reset(&job->pend[i]);
	}
}

/* In a plugin's worker process: map a chunk with map_batch. */
static void
pproc_map_batch(void *arg, unsigned slot, unsigned long long first,
    const struct value *items, size_t n, struct strbuf *outs, int *status)
{
	struct pproc_exec *pe = arg;
	struct ccmap *c = pe->x.c;
	long long t0 = util_now_ns();

	batch_call(c, &pe->ws, NULL, slot, first, items, n, outs, status);
	if (!record_active(c))
		return;
	/* --json: a batch's items share its time alike. */
	long long each = n ? (util_now_ns() - t0) / (long long)n : 0;
	for (size_t i = 0; i < n; i++)
		status[i] = record_item(c, &pe->ws, first + i, slot,
		    items[i].p, items[i].len, status[i], 0, each, &outs[2 * i]);
}

static void
pproc_result(void *arg, void *cookie, unsigned long long seq, size_t count,
    int status, const char *out, size_t olen, const char *err, size_t elen)
{
	struct pproc_exec *pe = arg;
	struct job *job = cookie;

	(void)seq;
	if (olen >= WRITE_FLUSH / 16 && !job->pend[0].len &&
	    !job->pend[1].len && !elen) {
		/* A large piece goes on as it is, not through pend. */
		pe->x.on.data(&pe->x, job, 1, out, olen);
	} else {
		strbuf_add(&job->pend[0], out, olen);
		strbuf_add(&job->pend[1], err, elen);
		if (elen) {
			/* (an item's stdout, then its stderr: see item_done) */
			hand_on(pe, job);
			pe->x.on.mark(&pe->x, job);
		} else if (job->pend[0].len + job->pend[1].len >= WRITE_FLUSH) {
			hand_on(pe, job);
		}
	}
	job->ran_items += count;
	if (status)
		job->failed_items++;
}

/*
 * --results, --json: an item whose worker died has its record too (its
 * output is lost with the worker; the signal, or exit 1 when the worker
 * just exited).
 */
static void
record_lost(struct pproc_exec *pe, struct job *job, unsigned long long seq,
    int sig)
{
	struct ccmap *c = pe->x.c;
	struct strbuf io[2] = { STRBUF_INIT, STRBUF_INIT };
	const char *item = "";
	size_t len = 0;
	struct batch_iter it;

	batch_begin(&it, c, job);
	for (size_t i = 0; i <= seq - job->first_item && i < job->items; i++)
		if (!batch_item(&it, &item, &len))
			break;
	record_item(c, &pe->ws, seq, 0, item, len, 1, sig, 0, io);
	for (int i = 0; i < 2; i++) {
		strbuf_add(&job->pend[i], io[i].buf, io[i].len);
		strbuf_release(&io[i]);
	}
}

static void
pproc_lost(void *arg, void *cookie, unsigned long long seq, int sig,
    int code, int timed_out)
{
	struct pproc_exec *pe = arg;
	struct ccmap *c = pe->x.c;
	struct job *job = cookie;
	char name[16], line[128];
	int n;

	if (timed_out)
		n = snprintf(line, sizeof line, "%sitem %llu: timed out\n",
		    util_prefix(), seq);
	else if (sig)
		n = snprintf(line, sizeof line, "%sitem %llu: killed by "
		    "%s\n", util_prefix(), seq, signal_name(sig, name));
	else if (code)
		n = snprintf(line, sizeof line, "%sitem %llu: its worker "
		    "exited with status %d\n", util_prefix(), seq, code);
	else
		n = snprintf(line, sizeof line, "%sitem %llu: its worker "
		    "exited\n", util_prefix(), seq);
	if (!pe->stopping)
		strbuf_add(&job->pend[1], line, (size_t)n);
	if (record_active(c))
		record_lost(pe, job, seq, sig ? sig : timed_out ? SIGKILL : 0);
	if (job->pend[1].len) {
		hand_on(pe, job);
		pe->x.on.mark(&pe->x, job);
	}
	job->ran_items++;
	job->failed_items++;
}

static void
pproc_timing(void *arg, long long ns, size_t items)
{
	struct pproc_exec *pe = arg;

	pe->x.on.timing(&pe->x, ns, items);
}

static void
pproc_done(void *arg, void *cookie)
{
	struct pproc_exec *pe = arg;

	hand_on(pe, cookie);
	pe->x.on.done(&pe->x, cookie);
}

static int
pproc_pool_start(struct executor *x)
{
	struct pproc_exec *pe = pproc_exec(x);
	struct ccmap *c = x->c;
	struct plugpool_opts po = {
		.workers = c->cfg.jobs,
		.max_tasks = c->cfg.opts.max_tasks,
		.timeout_ns = c->cfg.opts.timeout_ns,
		.keep_fd = c->cfg.sctx.devnull,
	};
	struct plugpool_ops ops = {
		.start = pproc_start,
		.end = pproc_end,
		.map = pproc_map,
		.map_batch = plugin_desc(c->cfg.plugin)->map_batch ?
		    pproc_map_batch : NULL,
		.result = pproc_result,
		.lost = pproc_lost,
		.done = pproc_done,
		.timing = pproc_timing,
		.arg = pe,
	};

	exec_wstate_init(&pe->ws, x);
	return plugpool_new(&pe->pp, &po, &ops);
}

static void
pproc_submit(struct executor *x, struct job **jobs, size_t n)
{
	struct pproc_exec *pe = pproc_exec(x);

	for (size_t i = 0; i < n; i++)
		plugpool_submit(pe->pp, jobs[i], jobs[i]->first_item,
		    jobs[i]->items, jobs[i]->store.buf, jobs[i]->store.len,
		    jobs[i]->v ? '\0' : x->c->cfg.opts.delim);
}

static void
pproc_flush(struct executor *x)
{
	plugpool_flush(pproc_exec(x)->pp);	/* the chunks, one write */
}

static void
pproc_kill(struct executor *x, int sig)
{
	pproc_exec(x)->stopping = 1;
	plugpool_kill(pproc_exec(x)->pp, sig);
}

static void
pproc_hold(struct executor *x)
{
	pproc_exec(x)->stopping = 1;
}

/* SIGHUP: the workers stop between items. */
static void
pproc_hangup(struct executor *x)
{
	pproc_kill(x, SIGTERM);
}

/* The workers were sent SIGKILL, and are reaped as they go. */
static int
pproc_abandon(struct executor *x)
{
	(void)x;
	return 0;
}

static unsigned
pproc_running(struct executor *x)
{
	return plugpool_busy(pproc_exec(x)->pp);
}

static size_t
pproc_nfds(struct executor *x)
{
	return plugpool_nfds(pproc_exec(x)->pp);
}

static size_t
pproc_pollfds(struct executor *x, struct pollfd *fds)
{
	return plugpool_pollfds(pproc_exec(x)->pp, fds);
}

static int
pproc_handle(struct executor *x, const struct pollfd *fds, size_t n)
{
	return plugpool_handle(pproc_exec(x)->pp, fds, n);
}

static int
pproc_timeout_ms(struct executor *x)
{
	return plugpool_timeout_ms(pproc_exec(x)->pp);
}

static int
pproc_free(struct executor *x, int killed, int unfinished)
{
	struct pproc_exec *pe = pproc_exec(x);

	(void)unfinished;
	if (pe->pp) {
		if (killed)
			plugpool_kill(pe->pp, SIGKILL);
		plugpool_free(pe->pp);
	}
	exec_wstate_release(&pe->ws);
	free(pe);
	return 0;
}

static const struct executor_ops pproc_ops = {
	.name = "processes",
	.start = pproc_pool_start,
	.submit = pproc_submit,
	.flush = pproc_flush,
	.kill = pproc_kill,
	.hold = pproc_hold,
	.hangup = pproc_hangup,
	.abandon = pproc_abandon,
	.running = pproc_running,
	.nfds = pproc_nfds,
	.pollfds = pproc_pollfds,
	.handle = pproc_handle,
	.timeout_ms = pproc_timeout_ms,
	.free = pproc_free,
};

struct executor *
exec_plugin_procs(struct ccmap *c)
{
	struct pproc_exec *pe = util_calloc(1, sizeof *pe);

	pe->x = (struct executor){ .ops = &pproc_ops, .c = c };
	return &pe->x;
}
