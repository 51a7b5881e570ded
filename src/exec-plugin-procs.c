/*
 * exec-plugin-procs.c: the plugin executor in worker processes
 * (plugpool.c): each worker calls the plugin on the items of the chunks it
 * is sent, and its results come back in shared memory, in their place.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec-plugin.h"
#include "plugpool.h"
#include "record.h"
#include "util.h"

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
		st = exec_plugin_map_one(c, plugin_desc(c->cfg.plugin), call);
		return record_item(c, &pe->ws, seq, call->slot, item,
		    len, st, 0, util_now_ns() - t0, out);
	}
	if (!c->cfg.tagt)
		return exec_plugin_map_one(c, plugin_desc(c->cfg.plugin), call);
	struct strbuf tag = STRBUF_INIT;
	exec_plugin_tag(c, seq, call->slot, item, len, &tag);
	call->tag = &tag;
	st = exec_plugin_map_one(c, plugin_desc(c->cfg.plugin), call);
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

	exec_plugin_batch(c, &pe->ws, NULL, slot, first, items, n, outs,
	    status);
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
