/*
 * run.c: the engine.  The main thread reads the items, makes jobs of them,
 * hands them to the pool (threads or processes), and writes their output in
 * order; it is the only module that knows all the others.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ccmap.h"
#include "input.h"
#include "internal.h"
#include "output.h"
#include "plugin.h"
#include "plugpool.h"
#include "procpool.h"
#include "signals.h"
#include "job.h"
#include "template.h"
#include "threadpool.h"

/* Finished jobs held back for input order, at most. */
#define WINDOW (1u << 20)
/* -j0: as many jobs as possible. */
#define JOBS_MAX 256
/* A plugin's items go to a worker in blocks of about this many bytes. */
#define PLUGIN_BLOCK (64 * 1024)

/* One job: its values, its captured output, how it ended. */
struct job {
	struct tp_work work;
	struct job *chunk_next;	/* the next job of the same chunk */
	struct job *iprev, *inext;	/* the unfinished jobs, by seq */
	unsigned long long seq;
	struct value *v;
	size_t nv;
	size_t ntuples;		/* items (tuples) in v */
	struct strbuf store;	/* the values' bytes, each NUL-terminated */
	struct joboutput out;
	struct strbuf tag;
	struct job_status st;
	int skipped;		/* not run: the run was stopping */
	/* With a plugin, a job is a batch of items: */
	unsigned long long first_item;	/* the first item's number */
	size_t items;		/* how many; their values are v[], or the
				   delimited records in store when v is NULL */
	size_t ran_items;	/* items that ran */
	size_t failed_items;
	struct strbuf pend[2];	/* --procs: results gathered, not yet handed on */
};

/* What a worker (a thread, or a worker process) keeps between jobs. */
struct wstate {
	struct cmdbuf cb;
	struct jobenv env;
	pid_t pid;		/* its running job (threads), or 0 */
	void *pw;		/* the plugin's worker state */
	int pinit;		/* 1 after worker_init, -1 if it failed */
	char perr[256];		/* why it failed */
	struct strbuf scratch;	/* for host->printf and tags */
	struct strbuf bout[2];	/* a batch's output, not yet handed on */
};

/* One item being mapped by a plugin (struct ccmap_call, for the plugin). */
struct ccmap_call {
	struct ccmap *c;
	struct job *job;
	struct wstate *ws;
	unsigned long long seq;
	unsigned slot;
	const char *item;
	size_t len;
	long long start;	/* when its map began (for --timeout) */
	int bol[2];		/* each stream at the start of a line (--tag) */
	struct strbuf *tag;	/* this item's tag, or NULL */
	struct strbuf *own;	/* map_batch: its own two output buffers */
};

struct ccmap {
	struct ccmap_opts opts;
	struct input *in;
	struct template *tmpl;
	struct template *tagt;	/* --tag / --tagstring, or NULL */
	struct plugin *plugin;	/* --so, or NULL */
	struct ccmap_host host;
	struct spawn_ctx sctx;
	unsigned jobs, chunksize;
	size_t max_args;	/* items per job (-n) */
	struct job **chunk;	/* a chunk being made (chunksize of them) */
	struct jobvals *chunkjv;
	struct job *pending;	/* a job still taking items (-n) */
	size_t capacity;	/* jobs given to the pool and not finished */

	struct output *out;
	struct threadpool *tp;
	struct wstate *ws;	/* one per thread */
	pthread_mutex_t pid_lock;	/* guards ws[].pid and stop_sig */
	atomic_int stop_sig;	/* signal for jobs that start from now on */
	struct procpool *pp;
	struct plugpool *ppp;	/* --procs with a plugin */
	struct wstate pws;	/* the worker process's own */

	struct reorder ro;
	struct job *ifirst, *ilast;	/* the unfinished jobs, by seq */
	int streams;		/* the due job's output goes straight out */
	unsigned long long next_seq;
	unsigned long long next_item;	/* plugins: the next item's number */
	size_t inflight;
	int need_input, input_done, stopping;
	struct ccmap_result *res;
};

static const struct ccmap_host host_services;

void
ccmap_opts_init(struct ccmap_opts *opts)
{
	memset(opts, 0, sizeof *opts);
	opts->delim = '\n';
}

static unsigned
online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned)n : 1;
}

int
ccmap_parse_jobs(const char *s, unsigned *jobs)
{
	unsigned cpus = online_cpus();
	const char *p = s;
	char *end;
	long long n;
	int sign = 0;

	if (*p == '+' || *p == '-')
		sign = *p++ == '+' ? 1 : -1;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	n = strtoll(p, &end, 10);
	if (errno || n > 1000000)
		return -ERANGE;
	if (*end == '%' && !sign && end[1] == '\0')
		n = n * cpus / 100;
	else if (*end != '\0')
		return -EINVAL;
	else if (sign)
		n = (long long)cpus + sign * n;
	else if (n == 0)
		n = JOBS_MAX;
	*jobs = n < 1 ? 1 : (unsigned)n;
	return 0;
}

int
ccmap_parse_duration(const char *s, long long *ns)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {
		{ "", 1e9 }, { "s", 1e9 }, { "ms", 1e6 }, { "m", 60e9 },
		{ "h", 3600e9 }, { "d", 86400e9 },
	};
	char *end;
	double v;

	if (!((*s >= '0' && *s <= '9') || *s == '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || v < 0)
		return -ERANGE;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (strcmp(end, units[i].unit) == 0) {
			if (v * units[i].ns > 9e18)
				return -ERANGE;
			*ns = (long long)(v * units[i].ns);
			return 0;
		}
	return -EINVAL;
}

int
ccmap_exit_status(const struct ccmap_result *res)
{
	if (res->error)
		return CCMAP_EXIT_ERROR;
	if (res->signal)
		return 128 + res->signal;
	if (res->failed > CCMAP_EXIT_MAX_COUNTED)
		return CCMAP_EXIT_MANY_FAILED;
	return (int)res->failed;
}

static void
warnf(struct ccmap *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!c->opts.warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	c->opts.warn(c->opts.data, msg);
}

int
ccmap_new(struct ccmap **cp, const struct ccmap_opts *opts, char *err,
    size_t errlen)
{
	struct ccmap *c = ccmap__xcalloc(1, sizeof *c);
	int r;

	c->opts = *opts;
	c->jobs = opts->jobs ? opts->jobs : online_cpus();
	c->chunksize = opts->chunksize ? opts->chunksize : 1;
	c->max_args = opts->max_args ? opts->max_args : 1;
	c->chunk = ccmap__xcalloc(c->chunksize, sizeof *c->chunk);
	c->chunkjv = ccmap__xcalloc(c->chunksize, sizeof *c->chunkjv);
	c->capacity = 2 * (size_t)c->jobs * c->chunksize;
	c->sctx.devnull = -1;
	pthread_mutex_init(&c->pid_lock, NULL);

	if ((r = input_open(&c->in, opts, err, errlen)) < 0)
		goto fail;
	c->host = host_services;
	c->next_item = 1;
	if (opts->plugin) {
		if ((r = plugin_open(&c->plugin, opts->plugin,
		    (int)opts->ncommand, opts->command, &c->host, err,
		    errlen)) < 0)
			goto fail;
		/*
		 * Small chunks: keep enough of them in flight that a worker
		 * finds the next one waiting, as Pool.map's task queue does.
		 */
		if (opts->chunksize && opts->chunksize < 2048)
			c->capacity = (size_t)c->jobs * (4096 / opts->chunksize);
		else
			c->capacity = 2 * (size_t)c->jobs;
		if (opts->executor == CCMAP_THREADS && c->jobs > 1 &&
		    !(plugin_desc(c->plugin)->flags & CCMAP_PLUGIN_THREADSAFE)) {
			snprintf(err, errlen, "--so: %s is not thread-safe: use "
			    "--procs, or -j1", plugin_name(c->plugin));
			r = CCMAP_EUSAGE;
			goto fail;
		}
	} else if ((r = template_parse(&c->tmpl, opts->command,
	    opts->ncommand, opts->replace, opts->quote, input_nsources(c->in),
	    opts->shell, err, errlen)) < 0) {
		goto fail;
	}
	if ((opts->tagstring || opts->tag) &&
	    (r = template_parse_text(&c->tagt, opts->tagstring ?
	    opts->tagstring : "{}", opts->tagstring ? opts->replace : NULL,
	    err, errlen)) < 0)
		goto fail;
	c->sctx.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (c->sctx.devnull < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open /dev/null: %s",
		    strerror(errno));
		goto fail;
	}
	c->sctx.own_pgroup = 1;
	c->sctx.timeout_ns = opts->timeout_ns;
	sigemptyset(&c->sctx.sigdef);
	sigaddset(&c->sctx.sigdef, SIGPIPE);
	sigaddset(&c->sctx.sigdef, SIGINT);
	sigaddset(&c->sctx.sigdef, SIGTERM);
	*cp = c;
	return 0;
fail:
	ccmap_free(c);
	return r;
}

void
ccmap_free(struct ccmap *c)
{
	if (!c)
		return;
	input_close(c->in);
	plugin_close(c->plugin);
	template_free(c->tmpl);
	template_free(c->tagt);
	if (c->sctx.devnull >= 0)
		close(c->sctx.devnull);
	pthread_mutex_destroy(&c->pid_lock);
	free(c->chunk);
	free(c->chunkjv);
	free(c);
}

static void
wstate_init(struct wstate *ws)
{
	memset(ws, 0, sizeof *ws);
	cmdbuf_init(&ws->cb);
	jobenv_init(&ws->env);
}

static void
wstate_release(struct ccmap *c, struct wstate *ws)
{
	if (c->plugin && ws->pinit > 0 && plugin_desc(c->plugin)->worker_fini)
		plugin_desc(c->plugin)->worker_fini(&c->host, ws->pw);
	cmdbuf_release(&ws->cb);
	jobenv_release(&ws->env);
	strbuf_release(&ws->scratch);
	strbuf_release(&ws->bout[0]);
	strbuf_release(&ws->bout[1]);
}

/* Run one job to its end, in whichever worker. */
static void
run_job(struct ccmap *c, struct wstate *ws, const struct jobvals *jv,
    const struct spawn_io *io, struct job_status *st)
{
	template_argv(c->tmpl, jv, &ws->cb);
	jobenv_set(&ws->env, jv->seq, jv->slot);
	spawn_job(&c->sctx, &ws->cb, ws->env.envp, io, st);
}

/* --- the thread pool ----------------------------------------------------- */

struct thread_job {
	struct ccmap *c;
	struct job *job;
	struct wstate *ws;
};

static void
thread_data(void *arg, int stream, const char *buf, size_t len)
{
	struct thread_job *tj = arg;

	output_data(tj->c->out, &tj->job->out, stream, buf, len);
}

static void
thread_started(void *arg, pid_t pid)
{
	struct thread_job *tj = arg;
	int sig;

	pthread_mutex_lock(&tj->c->pid_lock);
	tj->ws->pid = pid;
	if (pid && (sig = atomic_load(&tj->c->stop_sig)) != 0)
		kill(-pid, sig);
	pthread_mutex_unlock(&tj->c->pid_lock);
}

static void
thread_work(struct tp_work *w, unsigned worker, void *arg)
{
	struct ccmap *c = arg;
	struct job *job = container_of(w, struct job, work), *next;

	for (; job; job = next) {
		struct thread_job tj = { c, job, &c->ws[worker] };
		struct spawn_io io = {
			.capture = c->opts.outmode != CCMAP_UNGROUP,
			.data = thread_data,
			.started = thread_started,
			.arg = &tj,
		};

		next = job->chunk_next;
		if (atomic_load(&c->stop_sig))
			job->skipped = 1;
		else
			run_job(c, tj.ws, &(struct jobvals){ .v = job->v,
			    .n = job->nv, .seq = job->seq, .slot = worker + 1 },
			    &io, &job->st);
		threadpool_complete(c->tp, &job->work);
	}
}

/* --- plugins ------------------------------------------------------------ */

/* Hand what the worker gathered of a batch's output on to the output. */
static void
flush_batch_output(struct ccmap *c, struct wstate *ws, struct job *job)
{
	for (int i = 0; i < 2; i++) {
		if (!ws->bout[i].len)
			continue;
		output_data(c->out, &job->out, i + 1, ws->bout[i].buf,
		    ws->bout[i].len);
		strbuf_reset(&ws->bout[i]);
	}
}

/*
 * host->write: gathered per batch (handed on whole, or every 64 KiB), each
 * line tagged with its item.
 */
static int
host_write(struct ccmap_call *call, int stream, const void *buf, size_t len)
{
	struct strbuf *sb;
	const char *p = buf;

	if (stream != 1 && stream != 2)
		return -1;
	sb = call->own ? &call->own[stream - 1] : &call->ws->bout[stream - 1];
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
	if (sb->len >= 64 * 1024 && call->job && !call->own)
		flush_batch_output(call->c, call->ws, call->job);
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
		big = ccmap__xmalloc((size_t)n + 1);
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

/* host->error: "ccmap: item N: MESSAGE" on stderr, in the item's place. */
static void
host_error(struct ccmap_call *call, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	host_printf(call, 2, "ccmap: item %llu: %s\n", call->seq, msg);
}

static int
host_expired(struct ccmap_call *call)
{
	return call->c->opts.timeout_ns &&
	    ccmap__now_ns() - call->start >= call->c->opts.timeout_ns;
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

static const struct ccmap_host host_services = {
	.abi = CCMAP_PLUGIN_ABI,
	.write = host_write,
	.printf = host_printf,
	.error = host_error,
	.expired = host_expired,
	.seq = host_seq,
	.slot = host_slot,
};

/* The i-th item of a batch: from v[], or the next delimited record. */
static int
batch_item(struct ccmap *c, struct job *job, size_t i, const char **pos,
    const char **item, size_t *len)
{
	if (job->v) {
		*item = job->v[i].p;
		*len = job->v[i].len;
		return 1;
	}
	const char *end = job->store.buf + job->store.len;
	const char *d = memchr(*pos, c->opts.delim, (size_t)(end - *pos));
	if (!d)
		return 0;
	*item = *pos;
	*len = (size_t)(d - *pos);
	*pos = d + 1;
	return 1;
}

/* Call the plugin for one item. */
static int
map_one(struct ccmap *c, struct ccmap_call *call)
{
	const struct ccmap_plugin *d = plugin_desc(c->plugin);
	struct wstate *ws = call->ws;
	int st;

	if (c->opts.timeout_ns)
		call->start = ccmap__now_ns();
	if (ws->pinit < 0) {
		host_error(call, "%s: worker init failed: %s",
		    plugin_name(c->plugin), *ws->perr ? ws->perr : "?");
		return 1;
	}
	if (d->map) {
		st = d->map(&c->host, call, ws->pw, call->item, call->len);
	} else {
		struct ccmap_item it = { call->item, call->len, call };
		d->map_batch(&c->host, ws->pw, &it, &st, 1);
	}
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
	const struct ccmap_plugin *d = plugin_desc(c->plugin);
	struct ccmap_call *calls = ccmap__xcalloc(n, sizeof *calls);
	struct ccmap_item *it = ccmap__xcalloc(n, sizeof *it);
	struct strbuf *tags = c->tagt ? ccmap__xcalloc(n, sizeof *tags) : NULL;
	long long now = c->opts.timeout_ns ? ccmap__now_ns() : 0;

	for (size_t i = 0; i < n; i++) {
		calls[i] = (struct ccmap_call){
			.c = c, .job = job, .ws = ws, .seq = first + i,
			.slot = slot, .item = items[i].p, .len = items[i].len,
			.start = now, .bol = { 1, 1 }, .own = &outs[2 * i],
		};
		if (tags) {
			template_text(c->tagt, &(struct jobvals){ .v = &items[i],
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
			    plugin_name(c->plugin), *ws->perr ? ws->perr : "?");
			status[i] = 1;
		}
	} else {
		d->map_batch(&c->host, ws->pw, it, status, n);
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
	struct strbuf *outs = ccmap__xcalloc(2 * job->items, sizeof *outs);
	int *status = ccmap__xcalloc(job->items, sizeof *status);
	const char *pos = job->store.buf;
	size_t n = 0;

	if (!items) {
		items = ccmap__xcalloc(job->items, sizeof *items);
		while (n < job->items && batch_item(c, job, n, &pos,
		    &items[n].p, &items[n].len))
			n++;
	} else {
		n = job->items;
	}
	batch_call(c, ws, job, slot, job->first_item, items, n, outs, status);
	for (size_t i = 0; i < n; i++) {
		for (int k = 0; k < 2; k++) {
			strbuf_add(&ws->bout[k], outs[2 * i + k].buf,
			    outs[2 * i + k].len);
			strbuf_release(&outs[2 * i + k]);
		}
		job->ran_items++;
		if (status[i])
			job->failed_items++;
		if (ws->bout[0].len + ws->bout[1].len >= 64 * 1024)
			flush_batch_output(c, ws, job);
	}
	flush_batch_output(c, ws, job);
	if (items != job->v)
		free(items);
	free(outs);
	free(status);
}

/* Map the plugin over one batch, in a worker. */
static void
run_batch(struct ccmap *c, struct wstate *ws, struct job *job, unsigned slot)
{
	const struct ccmap_plugin *d = plugin_desc(c->plugin);
	const char *pos = job->store.buf;
	struct strbuf tag = STRBUF_INIT;

	if (!ws->pinit) {
		ws->pinit = 1;
		if (d->worker_init && d->worker_init(&c->host,
		    plugin_state(c->plugin), &ws->pw, ws->perr,
		    sizeof ws->perr) != 0)
			ws->pinit = -1;
	}
	if (d->map_batch) {
		run_batch_whole(c, ws, job, slot);
		return;
	}
	for (size_t i = 0; i < job->items; i++) {
		struct ccmap_call call = {
			.c = c, .job = job, .ws = ws,
			.seq = job->first_item + i, .slot = slot,
			.bol = { 1, 1 },
		};
		int st;

		if (atomic_load_explicit(&c->stop_sig, memory_order_relaxed) ||
		    !batch_item(c, job, i, &pos, &call.item, &call.len))
			break;	/* stopping: the rest of the batch does not run */
		if (c->tagt) {
			struct value v = { call.item, call.len };
			strbuf_reset(&tag);
			template_text(c->tagt, &(struct jobvals){ .v = &v,
			    .n = 1, .seq = call.seq, .slot = slot }, &tag);
			call.tag = &tag;
		}
		st = map_one(c, &call);
		job->ran_items++;
		if (st)
			job->failed_items++;
	}
	flush_batch_output(c, ws, job);
	strbuf_release(&tag);
}

static void finish(struct ccmap *c, struct job *job);

static void
plugin_work(struct tp_work *w, unsigned worker, void *arg)
{
	struct ccmap *c = arg;
	struct job *job = container_of(w, struct job, work), *next;

	for (; job; job = next) {
		next = job->chunk_next;
		if (atomic_load(&c->stop_sig))
			job->skipped = 1;
		else
			run_batch(c, &c->ws[worker], job, worker + 1);
		threadpool_complete(c->tp, &job->work);
	}
}

/* In a plugin's worker process: it starts. */
static void
pproc_start(void *arg, unsigned slot)
{
	struct ccmap *c = arg;
	const struct ccmap_plugin *d = plugin_desc(c->plugin);

	(void)slot;
	c->pws.pinit = 1;
	if (d->worker_init && d->worker_init(&c->host, plugin_state(c->plugin),
	    &c->pws.pw, c->pws.perr, sizeof c->pws.perr) != 0)
		c->pws.pinit = -1;
}

static void
pproc_end(void *arg)
{
	struct ccmap *c = arg;
	const struct ccmap_plugin *d = plugin_desc(c->plugin);

	if (c->pws.pinit > 0 && d->worker_fini)
		d->worker_fini(&c->host, c->pws.pw);
}

/* In a plugin's worker process: map one item, its output into out. */
static int
pproc_map(void *arg, unsigned slot, unsigned long long seq, const char *item,
    size_t len, struct strbuf out[2])
{
	struct ccmap *c = arg;
	struct ccmap_call call = {
		.c = c, .ws = &c->pws, .seq = seq, .slot = slot,
		.item = item, .len = len, .bol = { 1, 1 },
	};
	struct strbuf tag = STRBUF_INIT;
	int st;

	if (c->tagt) {
		struct value v = { item, len };
		template_text(c->tagt, &(struct jobvals){ .v = &v, .n = 1,
		    .seq = seq, .slot = slot }, &tag);
		call.tag = &tag;
	}
	st = map_one(c, &call);
	strbuf_release(&tag);
	for (int i = 0; i < 2; i++) {	/* hand the output over, no copy */
		struct strbuf t = out[i];
		out[i] = c->pws.bout[i];
		c->pws.bout[i] = t;
	}
	return st;
}

/* --procs: hand the results gathered for a batch on to the output. */
static void
hand_on(struct ccmap *c, struct job *job)
{
	for (int i = 0; i < 2; i++) {
		if (job->pend[i].len)
			output_data_main(c->out, &job->out, i + 1,
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

	batch_call(c, &c->pws, NULL, slot, first, items, n, outs, status);
}

static void
pproc_result(void *arg, void *cookie, unsigned long long seq, int status,
    const char *out, size_t olen, const char *err, size_t elen)
{
	struct ccmap *c = arg;
	struct job *job = cookie;

	(void)seq;
	strbuf_add(&job->pend[0], out, olen);
	strbuf_add(&job->pend[1], err, elen);
	if (job->pend[0].len + job->pend[1].len >= 64 * 1024)
		hand_on(c, job);
	job->ran_items++;
	if (status)
		job->failed_items++;
}

static void
pproc_lost(void *arg, void *cookie, unsigned long long seq, int sig,
    int timed_out)
{
	struct ccmap *c = arg;
	struct job *job = cookie;
	char name[16], line[128];
	int n;

	if (timed_out)
		n = snprintf(line, sizeof line, "ccmap: item %llu: timed out\n",
		    seq);
	else if (sig)
		n = snprintf(line, sizeof line, "ccmap: item %llu: killed by "
		    "%s\n", seq, signal_name(sig, name));
	else
		n = snprintf(line, sizeof line, "ccmap: item %llu: its worker "
		    "exited\n", seq);
	if (!c->stopping)
		strbuf_add(&job->pend[1], line, (size_t)n);
	job->ran_items++;
	job->failed_items++;
}

static void
pproc_done(void *arg, void *cookie)
{
	hand_on(arg, cookie);
	finish(arg, cookie);
}

/* --- the process pool ---------------------------------------------------- */

static void
proc_job(void *arg, const struct jobvals *jv, const struct spawn_io *io,
    struct job_status *st)
{
	struct ccmap *c = arg;

	run_job(c, &c->pws, jv, io, st);
}

static void
proc_data(void *arg, void *cookie, int stream, const char *buf, size_t len)
{
	struct ccmap *c = arg;
	struct job *job = cookie;

	output_data_main(c->out, &job->out, stream, buf, len);
}


static void
proc_done(void *arg, void *cookie, const struct job_status *st)
{
	struct job *job = cookie;

	if (st->err == ECANCELED)
		job->skipped = 1;	/* the run was stopping */
	else
		job->st = *st;
	finish(arg, job);
}

/* --- jobs ---------------------------------------------------------------- */

/* Start a job; its values come with job_add(), then job_seal(). */
static struct job *
job_begin(struct ccmap *c)
{
	struct job *job = ccmap__xcalloc(1, sizeof *job);

	job->seq = ++c->next_seq;
	joboutput_init(&job->out);
	return job;
}

/* Add one tuple's values to the job (-n takes several). */
static void
job_add(struct job *job, const struct tuple *t)
{
	job->v = ccmap__xrealloc(job->v, (job->nv + t->n) * sizeof *job->v);
	for (size_t i = 0; i < t->n; i++) {
		strbuf_add(&job->store, t->v[i].p, t->v[i].len);
		strbuf_addch(&job->store, '\0');
		job->v[job->nv++].len = t->v[i].len;
	}
	job->ntuples++;
}

/* The job has all its values: point them into the store. */
static struct job *
job_seal(struct ccmap *c, struct job *job)
{
	const char *p = job->store.buf;

	for (size_t i = 0; i < job->nv; i++) {
		job->v[i].p = p;
		p += job->v[i].len + 1;
	}
	if (c->tagt) {
		template_text(c->tagt, &(struct jobvals){ .v = job->v,
		    .n = job->nv, .seq = job->seq }, &job->tag);
		strbuf_grow(&job->tag, 0);
		job->out.tag = job->tag.buf;
		job->out.taglen = job->tag.len;
	}
	return job;
}

static void
job_free(struct job *job)
{
	strbuf_release(&job->tag);
	strbuf_release(&job->store);
	strbuf_release(&job->pend[0]);
	strbuf_release(&job->pend[1]);
	free(job->v);
	free(job);
}

/* Stop starting jobs, and send sig to the running ones. */
static void
stop_jobs(struct ccmap *c, int sig)
{
	c->stopping = 1;
	if (c->tp) {
		pthread_mutex_lock(&c->pid_lock);
		atomic_store(&c->stop_sig, sig);
		for (unsigned i = 0; i < c->jobs; i++)
			if (c->ws[i].pid > 0)
				kill(-c->ws[i].pid, sig);
		pthread_mutex_unlock(&c->pid_lock);
	}
	if (c->pp)
		procpool_kill(c->pp, sig);
	if (c->ppp)
		plugpool_kill(c->ppp, sig);
}

/* Note a write error: a closed pipe quietly, others as errors. */
static void
output_failed(struct ccmap *c, int e)
{
	if (c->stopping && (c->res->broken_pipe || c->res->error))
		return;
	if (e == -EPIPE) {
		c->res->broken_pipe = 1;
	} else {
		c->res->error = CCMAP_EOUTPUT;
		c->res->output_errno = -e;
	}
	stop_jobs(c, SIGTERM);
}

static void
report(struct ccmap *c, struct job *job)
{
	struct strbuf line = STRBUF_INIT;
	char name[16];

	if (c->stopping || (job->st.sig == SIGPIPE && !job->st.timed_out))
		return;
	if (!job->st.err && !job->st.sig && !job->st.timed_out)
		return;
	template_line(c->tmpl, &(struct jobvals){ .v = job->v, .n = job->nv,
	    .seq = job->seq, .slot = 0 }, &line);
	if (job->st.timed_out)
		warnf(c, "job %llu: '%s': timed out", job->seq, line.buf);
	else if (job->st.err == ENOENT)
		warnf(c, "job %llu: '%s': command not found", job->seq,
		    line.buf);
	else if (job->st.err)
		warnf(c, "job %llu: '%s': cannot run: %s", job->seq, line.buf,
		    strerror(job->st.err));
	else
		warnf(c, "job %llu: '%s': killed by %s", job->seq, line.buf,
		    signal_name(job->st.sig, name));
	strbuf_release(&line);
}

static void
emit(struct ccmap *c, struct job *job)
{
	int r;

	if (!job->skipped && (r = output_emit(c->out, &job->out)) < 0)
		output_failed(c, r);
	joboutput_release(c->out, &job->out);
	job_free(job);
}

/*
 * In input order, the oldest unfinished job's output is due next: let it
 * through as it comes.
 */
static void
promote(struct ccmap *c)
{
	if (c->streams && c->ifirst && c->ifirst->seq == c->ro.head)
		output_go_live(c->out, &c->ifirst->out);
}

/* A job ended (main thread): count it, and write what is due. */
static void
finish(struct ccmap *c, struct job *job)
{
	*(job->iprev ? &job->iprev->inext : &c->ifirst) = job->inext;
	*(job->inext ? &job->inext->iprev : &c->ilast) = job->iprev;
	c->inflight--;
	if (job->skipped) {
		/* not run */
	} else if (c->plugin) {
		c->res->started += job->ran_items;
		c->res->failed += job->failed_items;
	} else {
		c->res->started++;
		if (job_failed(&job->st))
			c->res->failed++;
		report(c, job);
	}
	if (c->opts.as_completed || c->opts.outmode == CCMAP_UNGROUP) {
		emit(c, job);
		return;
	}
	reorder_put(&c->ro, job->seq, job);
	while ((job = reorder_pop(&c->ro)) != NULL)
		emit(c, job);
	promote(c);
}

/* Hand one chunk of jobs to the pool. */
static void
submit(struct ccmap *c, struct job **chunk, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct job *job = chunk[i];
		job->iprev = c->ilast;
		*(c->ilast ? &c->ilast->inext : &c->ifirst) = job;
		c->ilast = job;
	}
	promote(c);
	if (c->tp) {
		for (size_t i = 0; i + 1 < n; i++)
			chunk[i]->chunk_next = chunk[i + 1];
		chunk[0]->work.work = c->plugin ? plugin_work : thread_work;
		threadpool_post(c->tp, &chunk[0]->work);
	} else if (c->ppp) {
		for (size_t i = 0; i < n; i++)
			plugpool_submit(c->ppp, chunk[i], chunk[i]->first_item,
			    chunk[i]->items, chunk[i]->store.buf,
			    chunk[i]->store.len, chunk[i]->v ? '\0' :
			    c->opts.delim);
	} else {
		for (size_t i = 0; i < n; i++)
			c->chunkjv[i] = (struct jobvals){ .v = chunk[i]->v,
			    .n = chunk[i]->nv, .seq = chunk[i]->seq };
		procpool_submit(c->pp, (void *const *)chunk, c->chunkjv, n);
	}
	c->inflight += n;
}

static int
room(const struct ccmap *c)
{
	return c->inflight < c->capacity &&
	    c->next_seq + 1 - c->ro.head < WINDOW;
}

/*
 * A plugin's batch: whole records of a single streamed source taken as one
 * block, or else items one by one (the values of several sources joined by
 * a tab).  INPUT_* as input_next.
 */
static int
next_batch(struct ccmap *c, struct job **jobp)
{
	size_t max = c->opts.chunksize ? c->opts.chunksize : (size_t)-1;
	size_t min = c->opts.chunksize ? (size_t)-1 : PLUGIN_BLOCK;
	struct job *job = c->pending ? c->pending : job_begin(c);
	size_t count;
	int r;

	c->pending = NULL;
	if (!job->v && (r = input_take_block(c->in, min, max, &job->store,
	    &count)) != -EINVAL) {
		if (r == INPUT_TUPLE) {
			job->first_item = c->next_item;
			job->items = count;
			c->next_item += count;
			*jobp = job;
		} else {
			c->pending = job;
		}
		return r;
	}
	if (!job->v)
		job->v = ccmap__xcalloc(1, sizeof *job->v);
	for (;;) {
		struct tuple t;
		r = input_next(c->in, &t);
		if (r == INPUT_TUPLE) {
			job->v = ccmap__xrealloc(job->v,
			    (job->items + 1) * sizeof *job->v);
			job->v[job->items].p = (const char *)(uintptr_t)job->store.len;
			for (size_t i = 0; i < t.n; i++) {
				if (i)
					strbuf_addch(&job->store, '\t');
				strbuf_add(&job->store, t.v[i].p, t.v[i].len);
			}
			job->v[job->items].len = job->store.len -
			    (size_t)(uintptr_t)job->v[job->items].p;
			strbuf_addch(&job->store, '\0');	/* a block for --procs */
			job->items++;
			if (job->items < max && job->store.len < PLUGIN_BLOCK)
				continue;
		}
		if (r == INPUT_AGAIN && !job->items) {
			c->pending = job;
			return r;
		}
		if (!job->items) {	/* INPUT_EOF */
			job_free(job);
			return r;
		}
		for (size_t i = 0; i < job->items; i++)	/* offsets to pointers */
			job->v[i].p = job->store.buf + (uintptr_t)job->v[i].p;
		job->first_item = c->next_item;
		c->next_item += job->items;
		*jobp = job;
		return INPUT_TUPLE;
	}
}

/* Make plugin batches of the items at hand while the pool has room. */
static void
dispatch_batches(struct ccmap *c)
{
	c->need_input = 0;
	while (!c->stopping && !c->input_done && room(c)) {
		struct job *job;
		int r = next_batch(c, &job);

		if (r == INPUT_TUPLE) {
			submit(c, &job, 1);
			continue;
		}
		if (r == INPUT_EOF)
			c->input_done = 1;
		else
			c->need_input = 1;
		break;
	}
}

/* Make jobs of the items at hand while the pool has room. */
static void
dispatch(struct ccmap *c)
{
	if (c->plugin) {
		dispatch_batches(c);
		return;
	}
	c->need_input = 0;
	while (!c->stopping && !c->input_done && room(c)) {
		size_t n = 0;
		int r = INPUT_TUPLE;

		while (n < c->chunksize && c->inflight + n < c->capacity) {
			struct tuple t;
			if ((r = input_next(c->in, &t)) != INPUT_TUPLE)
				break;
			if (!c->pending)
				c->pending = job_begin(c);
			job_add(c->pending, &t);
			if (c->pending->ntuples == c->max_args) {
				c->chunk[n++] = job_seal(c, c->pending);
				c->pending = NULL;
			}
		}
		if (r == INPUT_EOF) {
			/* The inner loop checked there is room for one more. */
			if (c->pending)
				c->chunk[n++] = job_seal(c, c->pending);
			c->pending = NULL;
			c->input_done = 1;
		}
		if (n)
			submit(c, c->chunk, n);
		if (r == INPUT_AGAIN) {
			c->need_input = 1;
			break;
		}
	}
}

static void
on_signal(struct ccmap *c, int sig)
{
	if (!c->res->signal) {
		c->res->signal = sig;
		stop_jobs(c, sig);
	} else {
		stop_jobs(c, SIGKILL);
	}
}

static int
loop(struct ccmap *c)
{
	size_t nfds = 3 + (c->pp ? procpool_nfds(c->pp) : 0) +
	    (c->ppp ? plugpool_nfds(c->ppp) : 0);
	struct pollfd *fds = ccmap__xcalloc(nfds, sizeof *fds);
	int r;

	for (;;) {
		dispatch(c);
		if ((c->input_done || c->stopping) && c->inflight == 0)
			break;
		if ((r = output_flush(c->out)) < 0)
			output_failed(c, r);

		size_t n = 0;
		fds[n++] = (struct pollfd){ .fd = signals_fd(), .events = POLLIN };
		fds[n++] = (struct pollfd){
			.fd = c->need_input && !c->stopping ? input_fd(c->in) : -1,
			.events = POLLIN,
		};
		if (c->tp)
			fds[n++] = (struct pollfd){ .fd = threadpool_fd(c->tp),
			    .events = POLLIN };
		else if (c->pp)
			n += procpool_pollfds(c->pp, fds + n);
		else
			n += plugpool_pollfds(c->ppp, fds + n);
		if (poll(fds, n, c->ppp ? plugpool_timeout_ms(c->ppp) : -1) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (fds[0].revents) {
			int sig;
			while ((sig = signals_take()) != 0)
				on_signal(c, sig);
		}
		if (fds[1].revents) {
			long got = input_fill(c->in);
			if (got < 0) {
				warnf(c, "cannot read '%s': %s", input_name(c->in),
				    strerror((int)-got));
				c->res->error = (int)got;
				stop_jobs(c, SIGTERM);
			}
		}
		if (c->tp && fds[2].revents) {
			struct tp_work *w = threadpool_collect(c->tp), *next;
			for (; w; w = next) {
				next = w->next;
				finish(c, container_of(w, struct job, work));
			}
		} else if ((c->pp && (r = procpool_handle(c->pp, fds + 2,
		    n - 2)) < 0) || (c->ppp && (r = plugpool_handle(c->ppp,
		    fds + 2, n - 2)) < 0)) {
			warnf(c, "lost a worker process: %s", strerror(-r));
			c->res->error = r;
			break;
		}
	}
	free(fds);
	if ((r = output_flush(c->out)) < 0)
		output_failed(c, r);
	return 0;
}

int
ccmap_run(struct ccmap *c, struct ccmap_result *res)
{
	struct output_opts oo = {
		.linebuffer = c->opts.outmode == CCMAP_LINEBUFFER,
		.mem_limit = c->opts.mem_limit,
		.tmpdir = c->opts.tmpdir,
		.fd = { 1, 2 },
		.wake_fd = -1,
	};
	int r;

	memset(res, 0, sizeof *res);
	c->res = res;
	reorder_init(&c->ro, 1);
	output_new(&c->out, &oo);
	if ((r = signals_init()) < 0)
		goto out;
	if (c->opts.executor == CCMAP_PROCS && c->plugin) {
		struct plugpool_ops ops = {
			.start = pproc_start,
			.end = pproc_end,
			.map = pproc_map,
			.map_batch = plugin_desc(c->plugin)->map_batch ?
			    pproc_map_batch : NULL,
			.result = pproc_result,
			.lost = pproc_lost,
			.done = pproc_done,
			.arg = c,
		};
		struct plugpool_opts po = {
			.workers = c->jobs,
			.max_tasks = c->opts.max_tasks,
			.timeout_ns = c->opts.timeout_ns,
			.keep_fd = c->sctx.devnull,
		};
		wstate_init(&c->pws);
		r = plugpool_new(&c->ppp, &po, &ops);
	} else if (c->opts.executor == CCMAP_PROCS) {
		struct procpool_ops ops = {
			.job = proc_job,
			.capture = c->opts.outmode != CCMAP_UNGROUP,
			.max_tasks = c->opts.max_tasks,
			.data = proc_data,
			.done = proc_done,
			.arg = c,
		};
		wstate_init(&c->pws);
		r = procpool_new(&c->pp, c->jobs, &ops, c->sctx.devnull);
	} else {
		c->ws = ccmap__xcalloc(c->jobs, sizeof *c->ws);
		for (unsigned i = 0; i < c->jobs; i++)
			wstate_init(&c->ws[i]);
		if ((r = threadpool_new(&c->tp, c->jobs, c)) == 0)
			output_set_wake(c->out, threadpool_fd(c->tp));
	}
	c->streams = !c->opts.as_completed && c->opts.outmode == CCMAP_GROUP;
	if (r < 0) {
		warnf(c, "cannot start the workers: %s", strerror(-r));
		res->error = r;
		goto out;
	}
	loop(c);
out:
	if (c->ppp) {
		if (res->signal)
			plugpool_kill(c->ppp, SIGKILL);
		plugpool_free(c->ppp);
		c->ppp = NULL;
		wstate_release(c, &c->pws);
	}
	if (c->pp) {
		if (res->signal)
			procpool_kill(c->pp, SIGKILL);
		procpool_free(c->pp);
		wstate_release(c, &c->pws);
	}
	threadpool_free(c->tp);
	c->tp = NULL;
	if (c->ws) {
		for (unsigned i = 0; i < c->jobs; i++)
			wstate_release(c, &c->ws[i]);
		free(c->ws);
		c->ws = NULL;
	}
	if (c->pending) {	/* a stopped run */
		job_free(c->pending);
		c->pending = NULL;
	}
	/* Jobs still held (a stopped run): drop them. */
	for (void *job; (job = reorder_pop(&c->ro)) != NULL; )
		emit(c, job);
	reorder_release(&c->ro);
	output_free(c->out);
	c->out = NULL;
	signals_restore();
	return res->error ? res->error : 0;
}
