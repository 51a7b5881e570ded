/*
 * pmap.c: mapping a plugin's function over batches of items, on worker
 * threads or in worker processes, and the services the plugin gets (its
 * output gathered per batch and handed on in order, messages, deadlines).
 */
#include "config.h"

#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dispatch.h"
#include "engine.h"
#include "exec.h"
#include "record.h"
#include "schedule.h"
#include "util.h"
#include "plugin.h"
#include "scan.h"
#include "signals.h"

/* A batch's output is handed on once it holds this much. */
#define WRITE_FLUSH (64 * 1024)

/*
 * What a worker thread is mapping, for a plugin that calls exit(): set
 * once a batch, so that the items' loop pays nothing for it.  call is the
 * item being mapped (its seq moves on with each item), or NULL while the
 * worker's state is made; with map_batch, the n items from call.
 */
struct exit_site {
	struct wstate *ws;
	struct job *job;
	const struct ccmap_call *call;
	size_t n;
};
static __thread struct exit_site site;

/* Hand what the worker gathered of a batch's output on to the output. */
static void
flush_batch_output(struct ccmap *c, struct wstate *ws, struct job *job)
{
	if (ws->bout[1].len)
		ws->eout = 1;
	for (int i = 0; i < 2; i++) {
		if (!ws->bout[i].len)
			continue;
		output_data(c->emit.out, &job->out, i + 1, ws->bout[i].buf,
		    ws->bout[i].len);
		strbuf_reset(&ws->bout[i]);
	}
}

/*
 * An item was mapped.  If it wrote on stderr, the batch's output so far is
 * handed on and marked as a group: each item's stdout, then its stderr,
 * before the next item's (--group, when stdout and stderr are one file).
 */
static inline void
item_done(struct ccmap *c, struct wstate *ws, struct job *job)
{
	if (!ws->bout[1].len && !ws->eout)
		return;
	flush_batch_output(c, ws, job);
	output_mark(c->emit.out, &job->out);
	ws->eout = 0;
}

/* host_write for all but short, untagged writes with room to spare. */
static __attribute__((noinline)) int
write_slow(struct ccmap_call *call, struct strbuf *sb, int stream,
    const char *p, size_t len)
{
	if (!call->tag) {
		strbuf_add(sb, p, len);
	} else {
		while (len) {
			const char *nl = memchr(p, '\n', len);
			size_t n = nl ? (size_t)(nl - p) + 1 : len;
			if (call->bol[stream - 1]) {
				strbuf_add(sb, call->tag->buf, call->tag->len);
				strbuf_addch(sb, '\t');
			}
			strbuf_add(sb, p, n);
			call->bol[stream - 1] = nl != NULL;
			p += n;
			len -= n;
		}
	}
	if (sb->len >= WRITE_FLUSH && call->job && call->own == call->ws->bout)
		flush_batch_output(call->c, call->ws, call->job);
	return 0;
}

/*
 * host->write: gathered per batch (handed on whole, or every 64 KiB), each
 * line tagged with its item.  Plugins write a few bytes per item, millions
 * of times a second: that case is a handful of instructions.
 */
static int
host_write(struct ccmap_call *call, int stream, const void *buf, size_t len)
{
	struct strbuf *sb;
	const char *p = buf;

	if ((unsigned)stream - 1 > 1)
		return -1;
	sb = call->own + (stream - 1);
	size_t used = sb->len;
	if (call->tag || len > 16 || sb->alloc - used <= 16 ||
	    used >= WRITE_FLUSH)
		return write_slow(call, sb, stream, p, len);

	char *b = sb->buf + used;
	util_copy(b, p, len);
	b[len] = '\0';
	sb->len = used + len;
	return 0;
}

static int
host_vprintf(struct ccmap_call *call, int stream, const char *fmt,
    va_list ap)
{
	char small[512], *big = NULL;
	va_list copy;
	int n, r;

	va_copy(copy, ap);
	n = vsnprintf(small, sizeof small, fmt, ap);
	if (n < 0) {
		va_end(copy);
		return -1;
	}
	if ((size_t)n >= sizeof small) {
		big = util_malloc((size_t)n + 1);
		vsnprintf(big, (size_t)n + 1, fmt, copy);
	}
	va_end(copy);
	r = host_write(call, stream, big ? big : small, (size_t)n);
	free(big);
	return r;
}

static int
host_printf(struct ccmap_call *call, int stream, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = host_vprintf(call, stream, fmt, ap);
	va_end(ap);
	return r;
}

/* host->error: "NAME: item N: MESSAGE" on stderr, in the item's place. */
static void
host_error(struct ccmap_call *call, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	host_printf(call, 2, "%sitem %llu: %s\n", util_prefix(), call->seq,
	    msg);
}

static int
host_expired(struct ccmap_call *call)
{
	return call->c->cfg.opts.timeout_ns &&
	    util_now_ns() - call->start >= call->c->cfg.opts.timeout_ns;
}

static unsigned long long
host_seq(const struct ccmap_call *call)
{
	return call->seq;
}

static unsigned
host_slot(const struct ccmap_call *call)
{
	return call->slot;
}

const struct ccmap_host plughost = {
	.abi = CCMAP_PLUGIN_ABI,
	.write = host_write,
	.printf = host_printf,
	.error = host_error,
	.expired = host_expired,
	.seq = host_seq,
	.slot = host_slot,
};

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
		host_error(call, "%s: worker init failed: %s",
		    plugin_name(c->cfg.plugin), *ws->perr ? ws->perr : "?");
		return 1;
	}
	/* (Plugins with map_batch go through batch_call instead.) */
	st = d->map(&c->cfg.host, call, ws->pw, call->item, call->len);
	if (st && host_expired(call))
		host_error(call, "timed out");
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
			template_text(c->cfg.tagt, &(struct jobvals){ .v = &items[i],
			    .n = 1, .seq = first + i, .slot = slot }, &tags[i]);
			calls[i].tag = &tags[i];
		}
		it[i] = (struct ccmap_item){ items[i].p, items[i].len,
		    &calls[i] };
		status[i] = 0;
	}
	if (ws->pinit < 0) {
		for (size_t i = 0; i < n; i++) {
			host_error(&calls[i], "%s: worker init failed: %s",
			    plugin_name(c->cfg.plugin), *ws->perr ? ws->perr : "?");
			status[i] = 1;
		}
	} else {
		if (job)	/* (on a thread) */
			site = (struct exit_site){ ws, job, &calls[0], n };
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
		item_done(c, ws, job);
		if (ws->bout[0].len + ws->bout[1].len >= WRITE_FLUSH)
			flush_batch_output(c, ws, job);
	}
	flush_batch_output(c, ws, job);
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
map_records(struct ccmap *c, const struct ccmap_plugin *d,
    struct ccmap_call *call)
{
	struct job *job = call->job;
	int (*map)(const struct ccmap_host *, struct ccmap_call *, void *,
	    const char *, size_t) = d->map;
	void *pw = call->ws->pw;
	const char *ends[64], *pos = job->store.buf;
	size_t i = 0, n, failed = 0;
	struct scan s;

	scan_init(&s, job->store.buf, job->store.len, c->cfg.opts.delim);
	while (!atomic_load_explicit(&c->stop_sig, memory_order_relaxed) &&
	    (n = scan_fill(&s, ends, ARRAY_SIZE(ends))) > 0) {
		for (size_t k = 0; k < n; k++) {
			call->seq = job->first_item + i + k;
			call->item = pos;
			call->len = (size_t)(ends[k] - pos);
			call->bol[0] = call->bol[1] = 1;
			failed += map(&c->cfg.host, call, pw, pos, call->len) != 0;
			item_done(c, call->ws, job);
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
		flush_batch_output(c, ws, job);
	return st;
}

/* Map the plugin over one batch, in a worker. */
static void
run_batch(struct ccmap *c, struct wstate *ws, struct job *job, unsigned slot)
{
	const struct ccmap_plugin *d = plugin_desc(c->cfg.plugin);
	struct strbuf tag = STRBUF_INIT;

	ws->eout = 0;
	site = (struct exit_site){ .ws = ws, .job = job };
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

	site.call = &call;

	if (!record && !c->cfg.tagt && !c->cfg.opts.timeout_ns && ws->pinit > 0 &&
	    !job->v) {
		map_records(c, d, &call);
		flush_batch_output(c, ws, job);
		return;
	}
	if (record)
		call.own = ws->iout;	/* each item's output on its own */
	batch_begin(&it, c, job);
	for (i = 0; i < job->items; i++) {
		if (atomic_load_explicit(&c->stop_sig, memory_order_relaxed) ||
		    !batch_item(&it, &call.item, &call.len))
			break;	/* stopping: the rest of the batch does not run */
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
		item_done(c, ws, job);
	}
	job->ran_items += i;
	flush_batch_output(c, ws, job);
	strbuf_release(&tag);
}

/* --- a plugin that calls exit() on a worker thread ---------------------- */

static struct ccmap *_Atomic watched;	/* the run, or NULL */
static pid_t watched_pid;		/* its process (not a worker's) */
static unsigned handlers;		/* exit handlers registered */
/* The first exit, told to the main thread once ready is set: */
static struct {
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
	struct ccmap *c = atomic_load(&watched);
	struct job *job = site.job;
	const struct ccmap_call *call = site.call;
	size_t n = call && site.n ? site.n : 1;

	(void)arg;
	if (!c || !job || getpid() != watched_pid)
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
	flush_batch_output(c, site.ws, job);
	job->ran_items = call ? (size_t)(call->seq - job->first_item) + n : 0;
	job->failed_items += n;
	output_end(c->emit.out, &job->out);
	atomic_fetch_add(&c->parked, 1);
	signals_post(SIGNALS_PLUGIN_EXIT);
	threadpool_complete(c->tp, &job->work);
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
plugexit_watch(struct ccmap *c)
{
	if (c) {
		watched_pid = getpid();
		atomic_store(&exited.taken, 0);
		atomic_store(&exited.ready, 0);
		/*
		 * One handler for each thread that might call exit(): each
		 * caller takes the next one, so a second caller is held as
		 * well, not let through to end the process.
		 */
		for (; handlers <= c->cfg.jobs; handlers++)
#ifdef HAVE_ON_EXIT
			on_exit(on_exit_handler, NULL);
#else
			atexit(at_exit_handler);
#endif
	}
	atomic_store(&watched, c);
}

int
plugexit_message(struct ccmap *c, char *buf, size_t len)
{
	char code[24] = "";
	int one = 1;

	/* (told once: 1 becomes 2) */
	if (!atomic_compare_exchange_strong(&exited.ready, &one, 2))
		return 0;
	if (exited.status >= 0)
		snprintf(code, sizeof code, "%d", exited.status);
	if (!exited.seq)
		snprintf(buf, len, "the plugin '%s' called exit(%s) as a worker "
		    "started", plugin_name(c->cfg.plugin), code);
	else if (exited.n > 1)
		snprintf(buf, len, "items %llu-%llu: the plugin '%s' called "
		    "exit(%s) in its map_batch", exited.seq, exited.seq +
		    exited.n - 1, plugin_name(c->cfg.plugin), code);
	else
		snprintf(buf, len, "item %llu '%s%s': the plugin '%s' called "
		    "exit(%s)", exited.seq, exited.item, exited.cut ? "..." : "",
		    plugin_name(c->cfg.plugin), code);
	return 1;
}

void
exec_plugin_work(struct tp_work *w, unsigned worker, void *arg)
{
	struct ccmap *c = arg;
	struct job *job = container_of(w, struct job, work), *next;
	unsigned slot = w->slot;	/* (w goes with the first job) */

	for (; job; job = next) {
		next = job->chunk_next;
		if (atomic_load(&c->stop_sig) || atomic_load(&c->no_start)) {
			job->skipped = 1;
		} else {
			long long t0 = util_now_ns();
			atomic_fetch_add(&c->running, 1);
			run_batch(c, &c->ws[worker], job, slot);
			atomic_fetch_sub(&c->running, 1);
			site.job = NULL;
			job->map_ns = util_now_ns() - t0;
		}
		output_end(c->emit.out, &job->out);
		threadpool_complete(c->tp, &job->work);
	}
}

/* In a plugin's worker process: it starts. */
static void
pproc_start(void *arg, unsigned slot)
{
	struct ccmap *c = arg;
	const struct ccmap_plugin *d = plugin_desc(c->cfg.plugin);

	c->pws.pcall = util_calloc(1, sizeof *c->pws.pcall);
	*c->pws.pcall = (struct ccmap_call){ .c = c, .ws = &c->pws,
	    .slot = slot };
	c->pws.pinit = 1;
	if (d->worker_init && d->worker_init(&c->cfg.host, plugin_state(c->cfg.plugin),
	    &c->pws.pw, c->pws.perr, sizeof c->pws.perr) != 0)
		c->pws.pinit = -1;
}

static void
pproc_end(void *arg)
{
	struct ccmap *c = arg;
	const struct ccmap_plugin *d = plugin_desc(c->cfg.plugin);

	if (c->pws.pinit > 0 && d->worker_fini)
		d->worker_fini(&c->cfg.host, c->pws.pw);
	free(c->pws.pcall);
	c->pws.pcall = NULL;
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
	struct ccmap *c = arg;
	struct ccmap_call *call = c->pws.pcall;
	int st;

	(void)slot;
	call->seq = seq;
	call->item = item;
	call->len = len;
	call->bol[0] = call->bol[1] = 1;
	call->own = out;	/* the output goes straight where it is wanted */
	if (record_active(c)) {
		long long t0 = util_now_ns();
		st = map_one(c, plugin_desc(c->cfg.plugin), call);
		return record_item(c, &c->pws, seq, call->slot, item,
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
hand_on(struct ccmap *c, struct job *job)
{
	for (int i = 0; i < 2; i++) {
		if (job->pend[i].len)
			output_data_main(c->emit.out, &job->out, i + 1,
			    job->pend[i].buf, job->pend[i].len);
		strbuf_reset(&job->pend[i]);
	}
}

/* In a plugin's worker process: map a chunk with map_batch. */
static void
pproc_map_batch(void *arg, unsigned slot, unsigned long long first,
    const struct value *items, size_t n, struct strbuf *outs, int *status)
{
	struct ccmap *c = arg;
	long long t0 = util_now_ns();

	batch_call(c, &c->pws, NULL, slot, first, items, n, outs, status);
	if (!record_active(c))
		return;
	/* --json: a batch's items share its time alike. */
	long long each = n ? (util_now_ns() - t0) / (long long)n : 0;
	for (size_t i = 0; i < n; i++)
		status[i] = record_item(c, &c->pws, first + i, slot,
		    items[i].p, items[i].len, status[i], 0, each, &outs[2 * i]);
}

static void
pproc_result(void *arg, void *cookie, unsigned long long seq, size_t count,
    int status, const char *out, size_t olen, const char *err, size_t elen)
{
	struct ccmap *c = arg;
	struct job *job = cookie;

	(void)seq;
	if (olen >= WRITE_FLUSH / 16 && !job->pend[0].len &&
	    !job->pend[1].len && !elen) {
		/* A large piece goes on as it is, not through pend. */
		output_data_main(c->emit.out, &job->out, 1, out, olen);
	} else {
		strbuf_add(&job->pend[0], out, olen);
		strbuf_add(&job->pend[1], err, elen);
		if (elen) {
			/* (an item's stdout, then its stderr: see item_done) */
			hand_on(c, job);
			output_mark_main(c->emit.out, &job->out);
		} else if (job->pend[0].len + job->pend[1].len >= WRITE_FLUSH) {
			hand_on(c, job);
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
record_lost(struct ccmap *c, struct job *job, unsigned long long seq, int sig)
{
	struct strbuf io[2] = { STRBUF_INIT, STRBUF_INIT };
	const char *item = "";
	size_t len = 0;
	struct batch_iter it;

	batch_begin(&it, c, job);
	for (size_t i = 0; i <= seq - job->first_item && i < job->items; i++)
		if (!batch_item(&it, &item, &len))
			break;
	record_item(c, &c->pws, seq, 0, item, len, 1, sig, 0, io);
	for (int i = 0; i < 2; i++) {
		strbuf_add(&job->pend[i], io[i].buf, io[i].len);
		strbuf_release(&io[i]);
	}
}

static void
pproc_lost(void *arg, void *cookie, unsigned long long seq, int sig,
    int code, int timed_out)
{
	struct ccmap *c = arg;
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
	if (!c->sched.stopping)
		strbuf_add(&job->pend[1], line, (size_t)n);
	if (record_active(c))
		record_lost(c, job, seq, sig ? sig : timed_out ? SIGKILL : 0);
	if (job->pend[1].len) {
		hand_on(c, job);
		output_mark_main(c->emit.out, &job->out);
	}
	job->ran_items++;
	job->failed_items++;
}

static void
pproc_timing(void *arg, long long ns, size_t items)
{
	dispatch_item_time(arg, ns, items);
}

static void
pproc_done(void *arg, void *cookie)
{
	hand_on(arg, cookie);
	sched_finish(arg, cookie);
}

void
exec_plugin_pool_ops(struct ccmap *c, struct plugpool_ops *ops)
{
	*ops = (struct plugpool_ops){
		.start = pproc_start,
		.end = pproc_end,
		.map = pproc_map,
		.map_batch = plugin_desc(c->cfg.plugin)->map_batch ?
		    pproc_map_batch : NULL,
		.result = pproc_result,
		.lost = pproc_lost,
		.done = pproc_done,
		.timing = pproc_timing,
		.arg = c,
	};
}
