/*
 * run.c: the engine.  The main thread reads the items, makes jobs of them,
 * hands them to the pool (threads or processes), and writes their output in
 * order; it is the only module that knows all the others.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "guard.h"
#include "util.h"
#include "linemax.h"
#include "plugin.h"
#include "procpool.h"
#include "progress.h"
#include "signals.h"
#include "termseq.h"
#include "tty.h"

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
ccmap_parse_size(const char *s, size_t *n)
{
	static const char units[] = "kmgtp";
	const char *u;
	char *end;
	double v, scale = 1;

	if (!((*s >= '0' && *s <= '9') || *s == '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno)
		return -ERANGE;
	if (*end && (u = strchr(units, end[0] | 0x20)) != NULL) {
		int binary = end[1] == 'i' || end[1] == 'I' ||
		    (end[0] >= 'A' && end[0] <= 'Z');
		for (const char *k = units; k <= u; k++)
			scale *= binary ? 1024 : 1000;
		end += 1 + (end[1] == 'i' || end[1] == 'I');
	}
	if (*end)
		return -EINVAL;
	v *= scale;
	if (v < 1 || v > 9e18)
		return -ERANGE;
	*n = (size_t)v;
	return 0;
}

int
ccmap_exit_status(const struct ccmap_result *res)
{
	if (res->error)
		return CCMAP_EXIT_ERROR;
	if (res->signal)
		return 128 + res->signal;
	if (res->halted)
		return res->halt_status;
	if (res->failed > CCMAP_EXIT_MAX_COUNTED)
		return CCMAP_EXIT_MANY_FAILED;
	return (int)res->failed;
}

/* --- the terminal: hooks into tty.c and progress.c ---------------------- */

/* Output is about to go to fd: clear the prompt and progress lines. */
static void
screen_hide(void *arg, int fd, const char *buf, size_t len)
{
	struct ccmap *c = arg;

	if (c->tty)
		tty_hide(c->tty, fd, buf, len);
	if (c->prog)
		progress_hide(c->prog, fd);
}

/* Before waiting: draw them again. */
static void
screen_show(struct ccmap *c)
{
	if (c->tty)
		tty_show(c->tty);
	if (c->prog) {
		/* Jobs running now, not those waiting in a queue. */
		progress_running(c->prog, c->tp ? atomic_load(&c->running) :
		    c->pp ? procpool_busy(c->pp) : c->ppp ?
		    plugpool_busy(c->ppp) : 0);
		progress_draw(c->prog);
	}
}

static void
tty_item(void *arg, const char *line, size_t len)
{
	struct ccmap *c = arg;

	input_feed(c->in, line, len);
}

static void
tty_eof(void *arg)
{
	struct ccmap *c = arg;

	input_feed_end(c->in);
	if (c->prog)
		progress_pause(c->prog, 0);
}

static void tty_answer(void *arg, int yes);

static void
warnf(struct ccmap *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!c->opts.warn)
		return;
	screen_hide(c, 2, "\n", 1);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	c->opts.warn(c->opts.data, msg);
}

/*
 * --header and --match's named groups: give the columns their names, and
 * write the command and --tagstring with {NAME} as {ID}.
 */
static void
name_columns(struct ccmap *c)
{
	const struct ccmap_opts *o = &c->opts;
	size_t nsrc = input_nsources(c->in);

	for (size_t i = 0; o->header && i < nsrc; i++) {
		const struct value *h = input_header(c->in, i);
		const char *path = o->nsources ? o->sources[i].path : "-";
		if (h)
			fields_name_header(c->fields, h);
		else if (strcmp(o->header, "0") == 0 && path && strcmp(path, "-"))
			fields_name(c->fields, path, strlen(path), i + 1);
	}
	for (size_t i = 0; i < o->ncommand; i++) {
		char *w = fields_rewrite(c->fields, o->command[i]);
		if (!w)
			continue;
		if (!c->words) {
			c->words = util_calloc(o->ncommand, sizeof *c->words);
			memcpy(c->words, o->command, o->ncommand *
			    sizeof *c->words);
		}
		c->words[i] = w;
	}
	if (o->tagstring)
		c->tagstring = fields_rewrite(c->fields, o->tagstring);
}

/*
 * --header's names name the values in --results' paths and records.  As
 * in GNU parallel, file sources (-a, ::::) are named by their paths
 * instead, counted among the file sources only.
 */
static void
name_results(struct ccmap *c)
{
	const struct ccmap_opts *o = &c->opts;
	size_t n = fields_names(c->fields, NULL, 0), k = 0;

	if (n < o->nsources)
		n = o->nsources;
	const char **names = util_calloc(n ? n : 1, sizeof *names);
	fields_names(c->fields, names, n);
	for (size_t i = 0; i < o->nsources; i++)
		if (o->sources[i].path)
			names[k++] = o->sources[i].path;
	results_set_names(c->results, names, n);
	free(names);
}

static void
block_warn(void *arg, const char *msg)
{
	warnf(arg, "%s", msg);
}

/* The input of --pipe: stdin, or the one -a FILE, cut into blocks. */
static int
pipe_open(struct ccmap *c, const struct ccmap_opts *opts, char *err,
    size_t errlen)
{
	struct block_opts bo = {
		.size = opts->block,
		.recstart = opts->recstart,
		.recend = opts->recend,
		.recsep = opts->recsep,
		.records = opts->max_args,
		.lines = opts->max_lines,
		.header = opts->header,
		.warn = block_warn,
		.arg = c,
	};
	const char *path = opts->nsources ? opts->sources[0].path : "-";
	int close_fd, fd, r;

	if (opts->plugin)
		snprintf(err, errlen, "--pipe: a plugin (--so) cannot read "
		    "blocks: give a command");
	else if (opts->executor == CCMAP_PROCS)
		snprintf(err, errlen, "--pipe does not work with --procs: use "
		    "--threads");
	else if (opts->ncommand == 0)
		snprintf(err, errlen, "--pipe needs a command to pipe into "
		    "(e.g. cat)");
	else if (opts->nsources > 1 || !path)
		snprintf(err, errlen, "--pipe reads standard input or one -a "
		    "FILE, not ::: items or several sources");
	else
		err[0] = '\0';
	if (err[0])
		return CCMAP_EUSAGE;
	if ((fd = input_open_file(path, &close_fd, err, errlen)) < 0)
		return -errno;
	if ((r = blocks_new(&c->blocks, fd, close_fd, &bo, err, errlen)) < 0) {
		if (close_fd)
			close(fd);
		return r;
	}
	c->pipe_name = strcmp(path, "-") ? path : "standard input";
	/* Each job has one value, empty: -N counts records, not values. */
	c->max_args = 1;
	/* A block in hand for each slot, and the next one read. */
	c->capacity = (size_t)c->jobs + 1;
	return 0;
}

int
ccmap_new(struct ccmap **cp, const struct ccmap_opts *opts, char *err,
    size_t errlen)
{
	struct ccmap *c = util_calloc(1, sizeof *c);
	int r;

	c->opts = *opts;
	if (opts->json)
		c->opts.outmode = CCMAP_GROUP;	/* whole lines, whatever else */
	c->jobs = opts->jobs ? opts->jobs : online_cpus();
	c->chunksize = opts->chunksize ? opts->chunksize : 1;
	c->max_args = opts->max_args ? opts->max_args : 1;
	c->no_values = opts->exact_args && !opts->max_args;
	if (opts->fill)
		c->max_args = opts->max_args ? opts->max_args : SIZE_MAX;
	if (c->max_args > 1 && !c->no_values) {
		/* As GNU parallel, a job takes the items that fit its line. */
		struct limits l;
		limits_get(&l);
		c->line_max = l.usable;
		c->line_hard = l.hard;
		c->line_factor = opts->quote ? 3 : 1;	/* as GNU parallel */
		c->spread = opts->fill && opts->fill != CCMAP_FILL_XARGS;
	}
	/* Room for the jobs one item can end (see take_tuple). */
	c->chunk = util_calloc(c->chunksize + 2, sizeof *c->chunk);
	c->chunkjv = util_calloc(c->chunksize, sizeof *c->chunkjv);
	c->capacity = 2 * (size_t)c->jobs * c->chunksize;
	c->sctx.devnull = -1;
	c->rfd = -1;
	pthread_mutex_init(&c->pid_lock, NULL);
	pthread_mutex_init(&c->delay_lock, NULL);
	halt_init(&c->halt, &opts->halt);
	if (opts->halt.when != CCMAP_HALT_NEVER || opts->delay_ns) {
		/*
		 * A job starts when it is handed to the pool, none waits
		 * queued: so --halt soon stops what would start next, and
		 * --delay spaces the starts themselves.
		 */
		c->chunksize = 1;
		c->capacity = c->jobs;
	}
	if (opts->resume == CCMAP_RESUME_FAILED && !opts->joblog) {
		snprintf(err, errlen, "--resume-failed needs --joblog FILE");
		r = CCMAP_EUSAGE;
		goto fail;
	}
	if (opts->plugin && (opts->retries > 1 || opts->joblog ||
	    opts->delay_ns || opts->resume)) {
		snprintf(err, errlen, "%s applies to commands, not to plugins "
		    "(--so)", opts->retries > 1 ? "--retries" : opts->joblog ?
		    "--joblog" : opts->delay_ns ? "--delay" : "--resume");
		r = CCMAP_EUSAGE;
		goto fail;
	}

	if (opts->plugin && (opts->fill || opts->dry_run)) {
		snprintf(err, errlen, "--so: %s for commands only",
		    opts->dry_run ? "--dry-run is" : "-X, -m and --xargs are");
		r = CCMAP_EUSAGE;
		goto fail;
	}
	if (!opts->pipe && opts->max_lines) {
		/* -L shapes the records of --pipe, and nothing else yet. */
		snprintf(err, errlen, "-L works only with --pipe");
		r = CCMAP_EUSAGE;
		goto fail;
	}
	if (opts->interactive && opts->plugin) {
		snprintf(err, errlen, "-p/--interactive cannot be used with --so");
		r = CCMAP_EUSAGE;
		goto fail;
	}
	if (opts->pipe)
		r = pipe_open(c, opts, err, errlen);
	else if ((r = fields_new(&c->fields, opts, err, errlen)) == 0)
		r = input_open(&c->in, opts, err, errlen);
	if (r < 0)
		goto fail;
	if (c->in) {
		/* --pipe has no items to shape: its --header is block.c's. */
		c->shape = fields_active(c->fields);
		name_columns(c);
	}
	c->host = ccmap__host;
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
	} else if ((r = opts->pipe ? template_parse_pipe(&c->tmpl,
	    opts->command, opts->ncommand, opts->replace, opts->quote,
	    opts->shell, err, errlen) : template_parse(&c->tmpl, c->words ?
	    c->words : opts->command, opts->ncommand, opts->replace,
	    opts->quote, input_nsources(c->in), opts->shell, err,
	    errlen)) < 0) {
		goto fail;
	} else {
		template_set_context(c->tmpl, opts->exact_args ||
		    opts->fill == CCMAP_FILL_CONTEXT);
	}

	if (opts->results) {
		/* A template's {NAME} is a {ID} too. */
		char *spec = c->fields ? fields_rewrite(c->fields,
		    opts->results) : NULL;
		r = results_new(&c->results, spec ? spec : opts->results,
		    opts->replace, err, errlen);
		free(spec);
		if (r < 0)
			goto fail;
	}
	if (c->results && opts->header && c->fields)
		name_results(c);	/* not --pipe's --header */
	if (c->results && results_kind(c->results) != RESULTS_DIR) {
		if (opts->json) {
			snprintf(err, errlen, "--json: not with a --results file "
			    "of records ('%s'): each is a line per job",
			    opts->results);
			r = CCMAP_EUSAGE;
			goto fail;
		}
		if ((c->rfd = results_open_records(c->results)) < 0) {
			r = c->rfd;
			snprintf(err, errlen, "--results: cannot write '%s': %s",
			    opts->results, strerror(-r));
			goto fail;
		}
		c->rheader = 1;
		c->opts.outmode = CCMAP_GROUP;	/* a record a job, whole */
	}
	if (opts->resume && !opts->joblog && !(c->results &&
	    results_kind(c->results) == RESULTS_DIR)) {
		snprintf(err, errlen, "--resume needs --joblog FILE or "
		    "--results DIR");
		r = CCMAP_EUSAGE;
		goto fail;
	}
	if (opts->resume && !opts->joblog && opts->pipe) {
		/* Every block's files are the same ones: all would be skipped. */
		snprintf(err, errlen, "--resume with --pipe needs --joblog FILE");
		r = CCMAP_EUSAGE;
		goto fail;
	}
	c->json_args = !opts->plugin && (input_nsources(c->in) > 1 ||
	    c->max_args > 1 || opts->fill != CCMAP_FILL_NONE ||
	    opts->colsep || opts->match);
	if ((opts->tagstring || opts->tag) && !opts->json && !opts->results &&
	    (r = template_parse_text(&c->tagt, c->tagstring ? c->tagstring :
	    opts->tagstring ? opts->tagstring : "{}", opts->tagstring ?
	    opts->replace : NULL, err, errlen)) < 0)
		goto fail;
	if (opts->joblog && (r = joblog_open(&c->joblog, opts->joblog,
	    opts->resume, err, errlen)) < 0)
		goto fail;
	if (opts->interactive || opts->readline) {
		struct tty_ops ops = { tty_item, tty_eof, tty_answer, c };
		if ((r = tty_open(&c->tty, (opts->interactive ? TTY_ASK : 0) |
		    (opts->readline ? TTY_ITEMS : 0), &ops, err, errlen)) < 0) {
			r = CCMAP_EUSAGE;
			goto fail;
		}
		if (opts->readline && c->in)
			input_set_fed(c->in);
		if (opts->interactive)	/* ask only when a job can start */
			c->capacity = c->jobs;
	}
	c->sctx.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (c->sctx.devnull < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open /dev/null: %s",
		    strerror(errno));
		goto fail;
	}
	c->sctx.own_pgroup = 1;
	c->sctx.timeout_ns = opts->timeout_ns;
	c->sctx.termseq = &c->opts.termseq;
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
	if (!c || c->abandoned)
		return;		/* (threads that still run use it all) */
	tty_close(c->tty);
	input_close(c->in);
	fields_free(c->fields);
	for (size_t i = 0; c->words && i < c->opts.ncommand; i++)
		if (c->words[i] != c->opts.command[i])
			free(c->words[i]);
	free(c->words);
	free(c->tagstring);
	blocks_free(c->blocks);
	plugin_close(c->plugin);
	template_free(c->tmpl);
	template_free(c->tagt);
	joblog_close(c->joblog);
	results_free(c->results);
	if (c->rfd > 2)
		close(c->rfd);
	if (c->sctx.devnull >= 0)
		close(c->sctx.devnull);
	pthread_mutex_destroy(&c->pid_lock);
	pthread_mutex_destroy(&c->delay_lock);
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
	for (int i = 0; i < 2; i++) {
		strbuf_release(&ws->rec[i]);
		strbuf_release(&ws->iout[i]);
	}
	strbuf_release(&ws->rpath);
}

/* --dry-run: the job's output is its command line. */
static void
print_job(struct ccmap *c, struct wstate *ws, const struct jobvals *jv,
    const struct spawn_io *io, struct job_status *st)
{
	strbuf_reset(&ws->scratch);
	template_line(c->tmpl, jv, &ws->scratch);
	strbuf_addch(&ws->scratch, '\n');
	memset(st, 0, sizeof *st);
	if (io->capture)
		io->data(io->arg, 1, ws->scratch.buf, ws->scratch.len);
	else
		(void)util_write_all(1, ws->scratch.buf, ws->scratch.len);
}

/* Run one job to its end, in whichever worker. */
static void
run_job(struct ccmap *c, struct wstate *ws, const struct jobvals *jv,
    const struct spawn_io *io, struct job_status *st)
{
	if (c->opts.dry_run) {
		print_job(c, ws, jv, io, st);
		return;
	}
	template_argv(c->tmpl, jv, &ws->cb);
	jobenv_set(&ws->env, jv->seq, jv->slot);
	if (ccmap__recording(c))
		ccmap__record_job(c, ws, jv, io, st);
	else
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

	if (stream == 1)
		tj->job->received += len;
	output_data(tj->c->out, &tj->job->out, stream, buf, len);
}

static void
thread_started(void *arg, pid_t pid)
{
	struct thread_job *tj = arg;
	int sig;

	pthread_mutex_lock(&tj->c->pid_lock);
	tj->ws->pid = pid;
	guard_set(tj->c->guard, (unsigned)(tj->ws - tj->c->ws), pid);
	if (pid && (sig = atomic_load(&tj->c->stop_sig)) != 0)
		kill(-pid, sig);
	pthread_mutex_unlock(&tj->c->pid_lock);
}

/*
 * --delay, on a worker thread: the main thread hands jobs out the delay
 * apart, and this makes the starts themselves so, whatever the threads'
 * wake-ups: the threads pass one at a time, each the delay after the last.
 */
static void
delay_gate(struct ccmap *c)
{
	long long now, at;

	pthread_mutex_lock(&c->delay_lock);
	now = util_now_ns();
	at = c->last_start ? c->last_start + c->opts.delay_ns : now;
	if (at > now) {
		struct timespec ts = { (at - now) / 1000000000,
		    (at - now) % 1000000000 };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	c->last_start = at > now ? at : now;
	pthread_mutex_unlock(&c->delay_lock);
}

static void
thread_work(struct tp_work *w, unsigned worker, void *arg)
{
	struct ccmap *c = arg;
	struct job *job = container_of(w, struct job, work), *next;
	unsigned slot = w->slot;	/* (w goes with the first job) */

	for (; job; job = next) {
		struct thread_job tj = { c, job, &c->ws[worker] };
		struct iovec in[2];
		struct spawn_io io = {
			.capture = c->opts.outmode != CCMAP_UNGROUP,
			.data = thread_data,
			.started = thread_started,
			.arg = &tj,
		};

		if (job->blk.buf) {
			const char *h;
			blocks_header(c->blocks, &h, &in[0].iov_len);
			in[0].iov_base = (void *)h;
			in[1].iov_base = (void *)job->blk.p;
			in[1].iov_len = job->blk.len;
			io.in = in;
			io.nin = 2;
		}

		next = job->chunk_next;
		if (c->opts.delay_ns)
			delay_gate(c);
		if (atomic_load(&c->stop_sig) || atomic_load(&c->no_start)) {
			job->skipped = 1;
		} else {
			atomic_fetch_add(&c->running, 1);
			run_job(c, tj.ws, &(struct jobvals){ .v = job->v,
			    .n = job->nv, .seq = job->seq, .slot = slot },
			    &io, &job->st);
			atomic_fetch_sub(&c->running, 1);
		}
		output_end(c->out, &job->out);
		threadpool_complete(c->tp, &job->work);
	}
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

	if (stream == 1)
		job->received += len;
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
	ccmap__finish(arg, job);
}

/* --- jobs ---------------------------------------------------------------- */

/* Start a job; its values come with job_add(), then job_seal(). */
static struct job *
job_begin(struct ccmap *c)
{
	struct job *job = util_calloc(1, sizeof *job);

	job->seq = ++c->next_seq;
	joboutput_init(&job->out);
	return job;
}

/* Add one tuple's values to the job (-n takes several; -N0 none). */
static void
job_add(struct job *job, const struct tuple *t, int no_values)
{
	if (no_values) {
		job->ntuples++;
		return;
	}
	if (job->nv + t->n > job->vcap) {
		job->vcap = (job->nv + t->n) * 2;
		job->v = util_realloc(job->v, job->vcap * sizeof *job->v);
	}
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
job_free(struct ccmap *c, struct job *job)
{
	block_release(&job->blk);
	strbuf_release(&job->tag);
	strbuf_release(&job->logline);
	if (c->in)
		input_recycle(c->in, &job->store);	/* a read buffer, maybe */
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

/*
 * The next step of the kill sequence (--termseq), or its end: SIGKILL to
 * what still runs, if the last step did not send it, and with threads the
 * run ends, whatever they are still on (c->abandon).  A step comes only
 * while jobs run: the loop ends as soon as none is left.
 */
static void
term_next(struct ccmap *c)
{
	const struct ccmap_termseq *ts = termseq_get(&c->opts.termseq);
	const struct ccmap_termstep *step;
	int sig;

	if (c->term_step >= ts->n) {
		if (c->term_last != SIGKILL)
			stop_jobs(c, SIGKILL);
		/* Worker processes can be killed, and are reaped as they go. */
		if (c->pp)
			procpool_abandon(c->pp);
		if (c->tp)
			c->abandon = 1;	/* threads cannot be */
		c->kill_at = 0;
		return;
	}
	step = &ts->step[c->term_step];
	sig = c->term_step == 0 && c->term_first ? c->term_first : step->sig;
	c->term_step++;
	c->term_last = sig;
	stop_jobs(c, sig);
	c->kill_at = util_now_ns() + step->ms * 1000000LL;
}

/*
 * Stop the run: no new job, and the kill sequence for the running ones,
 * with first (when not 0) in place of its first signal.  Once begun, it
 * goes its way.
 */
static void
terminate(struct ccmap *c, int first)
{
	if (c->term_step)
		return;
	c->term_first = first;
	term_next(c);
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
	terminate(c, 0);
}

/*
 * A job's exit status as a shell gives it: 128 + N for signal N, and 255
 * for a timeout (GNU parallel's -1).
 */
static int
job_exit(const struct job_status *st)
{
	if (st->timed_out)
		return 255;
	return st->sig ? 128 + st->sig : st->code;
}

/*
 * Tell of a job that ended badly (timed out, killed by a signal, not
 * started), and of one --halt counts, with notice the word for it: the
 * counterpart of GNU parallel's "This job failed:" and the like, on one
 * line.  Not while the run is being stopped, nor of a job --halt killed.
 */
static void
report(struct ccmap *c, struct job *job, const char *notice)
{
	struct strbuf line = STRBUF_INIT;
	const struct job_status *st = &job->st;
	char name[16];

	if (job->killed || c->res->signal || c->res->error ||
	    c->res->broken_pipe)
		return;
	if (!notice && !st->err && !st->timed_out &&
	    (!st->sig || st->sig == SIGPIPE))
		return;
	template_line(c->tmpl, &(struct jobvals){ .v = job->v, .n = job->nv,
	    .seq = job->seq, .slot = 0 }, &line);
	if (st->timed_out)
		warnf(c, "job %llu: '%s': timed out", job->seq, line.buf);
	else if (st->err == ENOENT)
		warnf(c, "job %llu: '%s': command not found", job->seq,
		    line.buf);
	else if (st->err)
		warnf(c, "job %llu: '%s': cannot run: %s", job->seq, line.buf,
		    strerror(st->err));
	else if (st->sig)
		warnf(c, "job %llu: '%s': killed by %s", job->seq, line.buf,
		    signal_name(st->sig, name));
	else if (st->code || strcmp(notice, "succeeded"))
		warnf(c, "job %llu: '%s': %s with exit status %d", job->seq,
		    line.buf, notice, st->code);
	else
		warnf(c, "job %llu: '%s': %s", job->seq, line.buf, notice);
	strbuf_release(&line);
}

/* Write a --joblog line: to its file, or in order with the output. */
static void
log_write(struct ccmap *c, const char *buf, size_t len)
{
	int r;

	if (joblog_to_stdout(c->joblog)) {
		if ((r = output_emit_text(c->out, 1, buf, len)) < 0)
			output_failed(c, r);
		return;
	}
	if ((r = joblog_write(c->joblog, buf, len)) < 0 && !c->res->error) {
		warnf(c, "cannot write the joblog '%s': %s",
		    joblog_name(c->joblog), strerror(-r));
		c->res->error = r;
		terminate(c, 0);
	}
}

/* Compose the job's --joblog line, to be written with its output. */
static void
log_job(struct ccmap *c, struct job *job)
{
	struct strbuf cmd = STRBUF_INIT;

	template_line(c->tmpl, &(struct jobvals){ .v = job->v, .n = job->nv,
	    .seq = job->seq, .slot = 0 }, &cmd);
	joblog_format(&job->logline, &(struct joblog_entry){
		.seq = job->seq,
		.host = ":",
		.start_ns = job->st.start_ns,
		.run_ns = job->st.run_ns,
		.send = job->sent,
		.receive = job->received +
		    (unsigned long long)job->st.out_bytes,
		.exitval = job->st.timed_out ? -1 : job->st.code,
		.sig = job->st.sig,
		.cmd = cmd.buf ? cmd.buf : "",
		.cmdlen = cmd.len,
	});
	strbuf_release(&cmd);
}

/*
 * --results FILE.csv or .tsv: the header line goes before the first record
 * written, with as many value columns as that job has values.
 */
static void
records_header(struct ccmap *c, size_t nvalues)
{
	struct strbuf line = STRBUF_INIT;
	int r;

	c->rheader = 0;
	results_header(c->results, &line, nvalues);
	if (!line.len)
		return;
	if ((r = output_flush(c->out)) == 0)
		r = util_write_all(c->rfd, line.buf, line.len);
	if (r < 0)
		output_failed(c, r);
	strbuf_release(&line);
}

static void
emit(struct ccmap *c, struct job *job)
{
	int r;

	if (c->rheader && !job->skipped)
		records_header(c, c->plugin ? 1 : job->nv);
	if (!job->skipped && !job->killed &&
	    (r = output_emit(c->out, &job->out)) < 0)
		output_failed(c, r);
	if (job->logline.len)
		log_write(c, job->logline.buf, job->logline.len);
	joboutput_release(c->out, &job->out);
	job_free(c, job);
}

/* A held block and the job's --joblog line, to be written after it. */
struct logheld {
	struct held *h;
	char *line;
	size_t len;
};

/*
 * What the reorder buffer holds: a job, or (low bits 1) a held block, or
 * (low bits 2) a struct logheld.
 */
static void
emit_item(struct ccmap *c, void *item)
{
	struct logheld *lh = NULL;
	struct held *h;
	int r;

	switch ((uintptr_t)item & 3) {
	case 0:
		emit(c, item);
		return;
	case 1:
		h = (struct held *)((uintptr_t)item & ~(uintptr_t)3);
		break;
	default:
		lh = (struct logheld *)((uintptr_t)item & ~(uintptr_t)3);
		h = lh->h;
		break;
	}
	if (c->rheader)		/* (the first job was not run) */
		records_header(c, input_nsources(c->in) * c->max_args);
	if ((r = output_emit_held(c->out, h)) < 0)
		output_failed(c, r);
	if (lh) {
		log_write(c, lh->line, lh->len);
		free(lh->line);
		free(lh);
	}
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

/* Jobs waiting in a queue of their own (c->retry, c->backlog). */
static void
jobq_push(struct jobq *q, struct job *job)
{
	job->qnext = NULL;
	*(q->last ? &q->last->qnext : &q->first) = job;
	q->last = job;
	q->n++;
}

static struct job *
jobq_pop(struct jobq *q)
{
	struct job *job = q->first;

	if (job && !(q->first = job->qnext))
		q->last = NULL;
	if (job)
		q->n--;
	return job;
}

/*
 * --retries: a failed job runs again, up to the number of attempts asked
 * for, unless the run is stopping.  Its output so far is dropped when it
 * starts again, so only the last attempt's comes out.
 */
static int
retry(struct ccmap *c, struct job *job)
{
	if (c->opts.retries < 2 || job->attempts >= c->opts.retries ||
	    c->stopping || !job_failed(&job->st))
		return 0;
	report(c, job, NULL);
	job->reported = 1;
	jobq_push(&c->retry, job);
	return 1;
}

/*
 * --halt now: the jobs still running are killed (by the kill sequence,
 * --termseq) and their output dropped, as GNU parallel does; a plugin's
 * batches keep what their items wrote.
 */
static void
halt_act(struct ccmap *c, enum ccmap_halt_when when)
{
	size_t running = c->inflight - c->retry.n;

	if (when == CCMAP_HALT_SOON) {
		c->stopping = 1;
		atomic_store(&c->no_start, 1);
		if (running)
			warnf(c, "starting no more jobs, waiting for %zu job%s "
			    "to finish", running, running == 1 ? "" : "s");
		return;
	}
	if (when != CCMAP_HALT_NOW || c->halting_now)
		return;
	c->halting_now = 1;
	for (struct job *j = c->ifirst; j && !c->plugin; j = j->inext)
		j->killed = 1;
	terminate(c, 0);
}

/* Count a finished job, or a plugin's batch, for --halt and the result. */
static void
count(struct ccmap *c, struct job *job)
{
	enum ccmap_halt_when when;

	if (c->plugin) {
		c->res->started += job->ran_items;
		c->res->failed += job->failed_items;
		c->halt.started += job->ran_items;
		when = halt_count_items(&c->halt, job->ran_items,
		    job->failed_items);
		if (job->map_ns)
			ccmap__item_time(c, job->map_ns, job->ran_items);
	} else {
		int failed = job_failed(&job->st);
		c->res->started++;
		c->res->failed += failed;
		if (!job->reported)
			report(c, job, halt_notice(&c->halt, failed));
		when = halt_count(&c->halt, failed, job_exit(&job->st));
		if (c->joblog)
			log_job(c, job);
	}
	halt_act(c, when);
}

void
ccmap__finish(struct ccmap *c, struct job *job)
{
	if (!job->skipped && !job->killed && !c->plugin && retry(c, job))
		return;		/* it stays in flight, in c->retry */
	*(job->iprev ? &job->iprev->inext : &c->ifirst) = job->inext;
	*(job->inext ? &job->inext->iprev : &c->ilast) = job->iprev;
	c->inflight--;
	block_release(&job->blk);	/* read or not, it is done with */
	if (c->prog)
		progress_done(c->prog, c->plugin ? job->items : 1);
	if (job->killed)
		c->res->started++;
	else if (!job->skipped)
		count(c, job);
	if (c->opts.as_completed || c->opts.outmode == CCMAP_UNGROUP) {
		emit(c, job);
		return;
	}
	struct held *h;
	if (job->seq != c->ro.head && !job->skipped && !job->killed &&
	    (h = output_hold(c->out, &job->out)) != NULL) {
		/* Held back: keep its output, let the rest of the job go. */
		unsigned long long seq = job->seq;
		void *item = (void *)((uintptr_t)h | 1);
		if (job->logline.len) {
			struct logheld *lh = util_malloc(sizeof *lh);
			lh->h = h;
			lh->line = strbuf_detach(&job->logline, &lh->len);
			item = (void *)((uintptr_t)lh | 2);
		}
		job_free(c, job);
		reorder_put(&c->ro, seq, item);
	} else {
		reorder_put(&c->ro, job->seq, job);
	}
	for (void *item; (item = reorder_pop(&c->ro)) != NULL; )
		emit_item(c, item);
	promote(c);
}

/* Hand jobs (already tracked) to the pool, as one chunk. */
static void
post(struct ccmap *c, struct job **chunk, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		chunk[i]->attempts++;
		chunk[i]->chunk_next = NULL;
	}
	c->halt.started += n;
	if (c->opts.delay_ns)
		c->next_start = util_now_ns() + c->opts.delay_ns;
	if (c->tp) {
		for (size_t i = 0; i + 1 < n; i++)
			chunk[i]->chunk_next = chunk[i + 1];
		chunk[0]->work.work = c->plugin ? ccmap__plugin_work : thread_work;
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
}

/* Count jobs in flight, among the unfinished ones by seq. */
static void
track(struct ccmap *c, struct job **chunk, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct job *job = chunk[i];
		job->iprev = c->ilast;
		*(c->ilast ? &c->ilast->inext : &c->ifirst) = job;
		c->ilast = job;
		if (c->prog)
			progress_started(c->prog, c->plugin ? NULL :
			    job->store.buf, c->plugin ? 0 : job->nv ?
			    job->v[0].len : 0);
	}
	c->inflight += n;
}

/* Hand one chunk of jobs to the pool. */
static void
submit(struct ccmap *c, struct job **chunk, size_t n)
{
	track(c, chunk, n);
	promote(c);
	post(c, chunk, n);
}

/*
 * New jobs: those the joblog has done (--resume), or whose --results files
 * are there, end at once, unrun; with
 * --halt N% they wait until every job is known; the others go to the pool.
 */
static void
give_now(struct ccmap *c, struct job **chunk, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if ((c->joblog && joblog_skip(c->joblog, chunk[i]->seq)) ||
		    (c->results && ccmap__recorded_before(c, chunk[i]))) {
			chunk[i]->skipped = 1;
			track(c, &chunk[i], 1);
			ccmap__finish(c, chunk[i]);
		} else if (c->backlogging) {
			jobq_push(&c->backlog, chunk[i]);
		} else {
			chunk[k++] = chunk[i];
		}
	}
	if (k)
		submit(c, chunk, k);
}

/* -p: ask about the next job waiting for its question, if none is asked. */
static void
ask_next(struct ccmap *c)
{
	struct strbuf line = STRBUF_INIT;
	struct job *job;

	if (c->asking || c->stopping || !(job = jobq_pop(&c->askq)))
		return;
	template_line(c->tmpl, &(struct jobvals){ .v = job->v, .n = job->nv,
	    .seq = job->seq, .slot = 0 }, &line);
	c->asking = job;
	tty_ask(c->tty, line.buf ? line.buf : "");
	strbuf_release(&line);
}

static void
tty_answer(void *arg, int yes)
{
	struct ccmap *c = arg;
	struct job *job = c->asking;

	if (!job)
		return;
	c->asking = NULL;
	if (yes && !c->stopping) {
		give_now(c, &job, 1);
	} else {
		/* Declined: skipped, as if the run had not come to it. */
		job->skipped = 1;
		track(c, &job, 1);
		ccmap__finish(c, job);
	}
	ask_next(c);
}

/* New jobs; with -p, each waits for its answer first. */
static void
give(struct ccmap *c, struct job **chunk, size_t n)
{
	if (!c->opts.interactive) {
		give_now(c, chunk, n);
		return;
	}
	for (size_t i = 0; i < n; i++)
		jobq_push(&c->askq, chunk[i]);
	ask_next(c);
}

static int
room(const struct ccmap *c)
{
	return c->inflight < c->capacity &&
	    c->next_seq + 1 - c->ro.head < WINDOW;
}

/* May a job start now?  (--delay, and a stopping run.) */
static int
may_start(struct ccmap *c)
{
	if (c->stopping)
		return 0;
	if (c->opts.delay_ns && util_now_ns() < c->next_start) {
		c->delaying = 1;
		return 0;
	}
	return 1;
}

/*
 * Start what waits: failed jobs again (--retries), then jobs held back
 * until all were known (--halt N%).  A stopping run drops the retries:
 * each ends with its last attempt.
 */
static void
start_waiting(struct ccmap *c)
{
	struct job *job;

	c->delaying = 0;
	if (c->stopping) {
		while ((job = jobq_pop(&c->retry)) != NULL)
			ccmap__finish(c, job);
		return;
	}
	while (c->retry.first && may_start(c)) {
		job = jobq_pop(&c->retry);
		joboutput_release(c->out, &job->out);
		const char *tag = job->out.tag;
		size_t taglen = job->out.taglen;
		joboutput_init(&job->out);
		job->out.tag = tag;
		job->out.taglen = taglen;
		job->received = 0;
		job->reported = 0;
		promote(c);	/* (it may be due: its output was reset) */
		post(c, &job, 1);
	}
	while (!c->backlogging && c->backlog.first && room(c) && may_start(c)) {
		job = jobq_pop(&c->backlog);
		submit(c, &job, 1);
	}
}

/*
 * --bar, --eta: the jobs in all, as soon as they can be known.  The
 * tuples, when the input knows their number (see input_tuples), make a
 * job each, or one per -n of them; a plugin's progress counts the tuples
 * themselves.  Where tuples are dropped (--match, --skip) or packed by
 * their length (-X, -m, --xargs), it is known once they have all been
 * read.
 */
static void
show_total(struct ccmap *c)
{
	unsigned long long n;

	if (c->input_done) {
		progress_total(c->prog, c->halt.total);
		return;
	}
	if (!c->in || c->opts.match || c->opts.skip || c->opts.fill ||
	    !input_tuples(c->in, &n))
		return;
	if (!c->plugin && c->max_args > 1) {
		n = n / c->max_args + (n % c->max_args != 0);
		/* (A line too long for -n items makes more: so far, these.) */
		if (n < c->next_seq)
			n = c->next_seq;
	}
	progress_total(c->prog, n);
}

/* The input has ended: the jobs are all known. */
static void
input_ended(struct ccmap *c)
{
	c->input_done = 1;
	c->backlogging = 0;
	c->halt.total = c->plugin ? c->next_item - 1 : c->next_seq;
}

/*
 * How many items a plugin's batch takes: --chunksize, or as many as take
 * the plugin about BATCH_NS by what the items so far took (one while
 * nothing is known: a slow item holds up the output of the items batched
 * with it, lost with it should it never end), so that slow items spread
 * over the workers and fast ones go by the block.
 */
static size_t
batch_items(const struct ccmap *c)
{
	if (c->opts.chunksize)
		return c->opts.chunksize;
	if (c->item_ns <= 0)
		return 1;
	double n = BATCH_NS / c->item_ns;
	return n < 1 ? 1 : n > 1e9 ? (size_t)1e9 : (size_t)n;
}

void
ccmap__item_time(struct ccmap *c, long long ns, size_t items)
{
	double each = (double)ns / (double)items;

	if (!items)
		return;
	c->item_ns = c->item_ns > 0 ? (3 * c->item_ns + each) / 4 : each;
}

/*
 * A plugin's batch: whole records of a single streamed source taken as one
 * block, or else items one by one (the values of several sources joined by
 * a tab).  INPUT_* as input_next.
 */
static int
next_batch(struct ccmap *c, struct job **jobp)
{
	size_t max = batch_items(c);
	size_t min = c->opts.chunksize ? (size_t)-1 : PLUGIN_BLOCK;
	struct job *job = c->pending ? c->pending : job_begin(c);
	size_t count;
	int r;

	c->pending = NULL;
	if (!job->v && !c->shape && (r = input_take_block(c->in, min, max,
	    &job->store, &count)) != -EINVAL) {
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
		job->v = util_calloc(1, sizeof *job->v);
	for (;;) {
		struct tuple t;
		r = input_next(c->in, &t);
		if (r == INPUT_TUPLE && c->shape &&
		    !fields_apply(c->fields, &t, &t))
			continue;	/* --skip, --match */
		if (r == INPUT_TUPLE) {
			job->v = util_realloc(job->v,
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
			job_free(c, job);
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
	start_waiting(c);
	c->need_input = 0;
	while (!c->stopping && !c->input_done &&
	    (c->backlogging || room(c))) {
		struct job *job;
		int r = next_batch(c, &job);

		if (r == INPUT_TUPLE) {
			give(c, &job, 1);
			continue;
		}
		if (r == INPUT_EOF) {
			input_ended(c);
			start_waiting(c);
		} else
			c->need_input = 1;
		break;
	}
	if (c->ppp)
		plugpool_flush(c->ppp);	/* the chunks made, in one write */
}

/* -X, -m, --xargs: an item alone makes a line too long.  Stop there. */
static void
too_long(struct ccmap *c, size_t len, const struct tuple *t)
{
	const struct value *v = &t->v[0];

	warnf(c, "command line too long (%zu >= %zu) at item %llu: %.*s%s",
	    len, len >= c->line_max ? c->line_max : c->line_hard, c->items, (int)(v->len > 50 ? 50 : v->len), v->p,
	    v->len > 50 || t->n > 1 ? "..." : "");
	c->res->error = CCMAP_EUSAGE;
	c->stopping = 1;
}

/*
 * -X, -m, --xargs: start measuring the pending job's line with its first
 * tuple (start), or add the tuple to it; 0 if that line is too long.
 */
static int
line_fits(struct ccmap *c, const struct tuple *t, int start)
{
	struct jobvals rec = { .v = t->v, .n = t->n, .seq = c->pending->seq,
	    .slot = c->jobs };
	struct tmeasure m = c->plen;
	size_t len;

	if (start)
		template_measure_start(c->tmpl, &rec, &m);
	else
		template_measure_add(c->tmpl, &m, &rec);
	/*
	 * GNU parallel's reckoning decides where a line ends, and the real
	 * length stays under the hard limit (the reckoning counts the value
	 * of a {2} in a word that -X repeats only once, for one).
	 */
	len = m.est * c->line_factor;
	if (len >= c->line_max || m.len >= c->line_hard) {
		if (start)
			too_long(c, len >= c->line_max ? len : m.len, t);
		return 0;
	}
	c->plen = m;
	return 1;
}

/*
 * Give one tuple to the pending job, and put the jobs that are now whole
 * (at most two) in the chunk at *n.
 */
static void
take_tuple(struct ccmap *c, const struct tuple *t, size_t *n)
{
	c->items++;
	if (c->pending && (c->pending_full ||
	    (c->line_max && !line_fits(c, t, 0)))) {
		/* The input goes on, or the line is full. */
		c->chunk[(*n)++] = job_seal(c, c->pending);
		c->pending = NULL;
		c->pending_full = 0;
	}
	if (!c->pending) {
		c->pending = job_begin(c);
		if (c->line_max && !line_fits(c, t, 1)) {
			job_free(c, c->pending);
			c->pending = NULL;
			return;
		}
	}
	job_add(c->pending, t, c->no_values);
	if (c->pending->ntuples < c->max_args)
		return;
	if (c->spread && !c->spread_done) {
		c->pending_full = 1;	/* the last job is spread */
		return;
	}
	c->chunk[(*n)++] = job_seal(c, c->pending);
	c->pending = NULL;
}

/*
 * -X, -m: the job that reaches the end of the input has its items spread
 * over the job slots, as GNU parallel does once: in jobs of
 * ceil(items / slots).
 */
static void
spread_last(struct ccmap *c, struct job *job)
{
	size_t per = limits_spread(job->ntuples, c->jobs);
	size_t nsrc = job->nv / job->ntuples;
	struct job *part = NULL;

	c->spread_done = 1;
	if (per >= job->ntuples) {
		give(c, (struct job *[]){ job_seal(c, job) }, 1);
		return;
	}
	job_seal(c, job);
	/* It was the last job begun: the parts take its number on. */
	c->next_seq = job->seq - 1;
	for (size_t i = 0; i < job->ntuples; i++) {
		if (!part)
			part = job_begin(c);
		job_add(part, &(struct tuple){ .n = nsrc,
		    .v = job->v + i * nsrc }, 0);
		if (part->ntuples == per || i + 1 == job->ntuples) {
			give(c, (struct job *[]){ job_seal(c, part) }, 1);
			part = NULL;
		}
	}
	job_free(c, job);
}

/* --pipe: a job for each block at hand while the pool has room. */
static void
dispatch_blocks(struct ccmap *c)
{
	static const struct value none = { "", 0 };	/* {} is empty */

	c->need_input = 0;
	while (!c->stopping && !c->input_done &&
	    (c->backlogging || (room(c) && may_start(c)))) {
		struct block blk;
		struct job *job;
		const char *h;
		size_t hl;
		int r = blocks_next(c->blocks, &blk);

		if (r == INPUT_AGAIN) {
			c->need_input = 1;
			break;
		}
		if (r == INPUT_EOF) {
			input_ended(c);
			start_waiting(c);
			break;
		}
		job = job_begin(c);
		job_add(job, &(struct tuple){ .n = 1, .v = &none }, 0);
		job->blk = blk;
		blocks_header(c->blocks, &h, &hl);
		job->sent = hl + blk.len;	/* --joblog's Send */
		job_seal(c, job);
		give(c, &job, 1);
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
	start_waiting(c);
	if (c->blocks) {
		dispatch_blocks(c);
		return;
	}
	c->need_input = 0;
	while (!c->stopping && !c->input_done && !c->asking &&
	    (c->backlogging || (room(c) && may_start(c)))) {
		size_t n = 0;
		int r = INPUT_TUPLE;

		while (n < c->chunksize && (c->backlogging ||
		    c->inflight + n < c->capacity) && !c->stopping) {
			struct tuple t;
			if ((r = input_next(c->in, &t)) != INPUT_TUPLE)
				break;
			if (c->shape && !fields_apply(c->fields, &t, &t))
				continue;	/* --skip, --match */
			take_tuple(c, &t, &n);
		}
		struct job *last = NULL;
		if (r == INPUT_EOF) {
			if (c->pending && c->spread && !c->spread_done &&
			    c->pending->ntuples > 1)
				last = c->pending;
			else if (c->pending)
				c->chunk[n++] = job_seal(c, c->pending);
			c->pending = NULL;
			input_ended(c);
		}
		if (n)
			give(c, c->chunk, n);
		if (last) {
			spread_last(c, last);
			c->halt.total = c->next_seq;	/* its parts, counted */
		}
		if (r == INPUT_EOF)
			start_waiting(c);
		if (r == INPUT_AGAIN) {
			c->need_input = 1;
			break;
		}
	}
}

/*
 * SIGHUP, as in GNU parallel: no new job starts, the running ones finish
 * (a plugin's items, not its batches), and the run ends as it would have.
 */
static void
hangup(struct ccmap *c)
{
	if (c->stopping)
		return;
	c->stopping = 1;
	atomic_store(&c->no_start, 1);
	if (c->plugin)
		atomic_store(&c->stop_sig, SIGHUP);	/* between items */
	if (c->pp)
		procpool_kill(c->pp, 0);
	if (c->ppp)
		plugpool_kill(c->ppp, SIGTERM);	/* stops between items */
	warnf(c, "SIGHUP: starting no more jobs, waiting for the running ones "
	    "to finish (SIGTERM stops them)");
}

/* A plugin called exit() on a worker thread: say so, and stop the run. */
static void
plugin_exited(struct ccmap *c)
{
	char msg[256];

	if (!ccmap__plugin_exit_message(c, msg, sizeof msg))
		return;
	warnf(c, "%s", msg);
	if (!c->res->error)
		c->res->error = CCMAP_EPLUGIN;
	terminate(c, 0);
}

static void
on_signal(struct ccmap *c, int sig)
{
	if (sig == SIGWINCH) {
		if (c->tty)
			tty_resize(c->tty);
		if (c->prog)
			progress_resize(c->prog);
		return;
	}
	if (sig == SIGNALS_PLUGIN_EXIT) {
		plugin_exited(c);
		return;
	}
	if (c->tty)
		tty_stop(c->tty);
	if (sig == SIGHUP) {
		hangup(c);
	} else if (!c->res->signal) {
		/* Jobs get a SIGINT or SIGTERM first, and SIGQUIT's sequence. */
		c->res->signal = sig;
		terminate(c, sig == SIGQUIT ? 0 : sig);
	} else if (!c->abandon) {
		/* Again: kill at once, and end soon after (as after KILL,25). */
		stop_jobs(c, SIGKILL);
		c->term_step = termseq_get(&c->opts.termseq)->n;
		c->term_last = SIGKILL;
		c->kill_at = util_now_ns() + 25 * 1000000LL;
	}
}

/*
 * The guard (guard.h) is forked once the run has gone on this long: a
 * shorter run is not worth the fork.
 */
#define GUARD_DELAY_NS (10 * 1000000LL)

/*
 * How long poll may wait: until a plugin item's deadline, the next start
 * (--delay), the next step of the kill sequence or the guard's start; -1
 * for as long as it takes.
 */
static int
wait_ms(struct ccmap *c)
{
	int ms = c->ppp ? plugpool_timeout_ms(c->ppp) : -1;
	long long at = c->kill_at, left;

	if (c->prog && (ms < 0 || progress_timeout_ms(c->prog) < ms))
		ms = progress_timeout_ms(c->prog);
	if (c->delaying && (!at || c->next_start < at))
		at = c->next_start;
	if (c->guard_at && (!at || c->guard_at < at))
		at = c->guard_at;
	if (!at)
		return ms;
	left = (at - util_now_ns() + 999999) / 1000000;
	left = left < 0 ? 0 : left > INT_MAX ? INT_MAX : left;
	return ms < 0 || left < ms ? (int)left : ms;
}

/*
 * The engine cannot go on (poll failed, a worker's pipe broke): say so on
 * one line and kill the running jobs at once, since nothing could wait for
 * them to end; ccmap_run() drops the jobs still in flight.  Returns e.
 */
static int
engine_failed(struct ccmap *c, int e, const char *what)
{
	warnf(c, "%s: %s; killing the running jobs", what, strerror(-e));
	c->res->error = e;
	stop_jobs(c, SIGKILL);
	return e;
}

/* Run the jobs to their end: 0, or the engine's error (-errno). */
static int
loop(struct ccmap *c)
{
	size_t nfds = 3 + (c->pp ? procpool_nfds(c->pp) : 0) +
	    (c->ppp ? plugpool_nfds(c->ppp) : 0);
	struct pollfd *fds = util_calloc(nfds, sizeof *fds);
	int r, err = 0;

	for (;;) {
		dispatch(c);
		if (c->prog)
			show_total(c);
		if (c->inflight == 0 && (c->stopping ||
		    (c->input_done && !c->backlog.first && !c->asking)))
			break;
		if (c->abandon)
			break;	/* the kill sequence is over */
		if ((r = output_flush(c->out)) < 0)
			output_failed(c, r);
		screen_show(c);

		size_t n = 0;
		/* The terminal, when it is read, else the input. */
		int ttyfd = c->tty && !c->stopping ? tty_fd(c->tty) : -1;
		/* (Read ahead, or counted, for --bar and --eta.) */
		int ahead = c->in && input_reads_ahead(c->in);
		int counting = c->in && !c->stopping &&
		    input_count_pending(c->in);
		fds[n++] = (struct pollfd){ .fd = signals_fd(), .events = POLLIN };
		fds[n++] = (struct pollfd){
			.fd = ttyfd >= 0 ? ttyfd : (!c->need_input && !ahead) ||
			    c->stopping ? -1 : c->blocks ? blocks_fd(c->blocks) :
			    input_fd(c->in),
			.events = POLLIN,
		};
		if (c->tp)
			fds[n++] = (struct pollfd){ .fd = threadpool_fd(c->tp),
			    .events = POLLIN };
		else if (c->pp)
			n += procpool_pollfds(c->pp, fds + n);
		else
			n += plugpool_pollfds(c->ppp, fds + n);
		if (poll(fds, n, counting ? 0 : wait_ms(c)) < 0) {
			if (errno == EINTR)
				continue;
			err = engine_failed(c, -errno, "poll failed");
			break;
		}
		if (counting)
			input_count_step(c->in);
		if (c->kill_at && util_now_ns() >= c->kill_at) {
			c->kill_at = 0;
			term_next(c);
		}
		if (c->guard_at && util_now_ns() >= c->guard_at) {
			c->guard_at = 0;
			guard_start(c->guard);
		}
		if (fds[0].revents) {
			int sig;
			while ((sig = signals_take()) != 0)
				on_signal(c, sig);
		}
		if (fds[1].revents && ttyfd >= 0) {
			tty_read(c->tty);
		} else if (fds[1].revents) {
			long got = c->blocks ? blocks_fill(c->blocks) :
			    input_fill(c->in);
			if (got < 0) {
				warnf(c, "cannot read '%s': %s", c->blocks ?
				    c->pipe_name : input_name(c->in),
				    strerror((int)-got));
				c->res->error = (int)got;
				terminate(c, 0);
			}
		}
		if (c->tp && fds[2].revents) {
			struct tp_work *w = threadpool_collect(c->tp), *next;
			for (; w; w = next) {
				next = w->next;
				ccmap__finish(c, container_of(w, struct job, work));
			}
		} else if ((c->pp && (r = procpool_handle(c->pp, fds + 2,
		    n - 2)) < 0) || (c->ppp && (r = plugpool_handle(c->ppp,
		    fds + 2, n - 2)) < 0)) {
			err = engine_failed(c, r, "lost a worker process");
			break;
		}
	}
	free(fds);
	if ((r = output_flush(c->out)) < 0)
		output_failed(c, r);
	return err;
}

int
ccmap_run(struct ccmap *c, struct ccmap_result *res)
{
	struct output_opts oo = {
		.linebuffer = c->opts.outmode == CCMAP_LINEBUFFER,
		.ordered = c->opts.keep_order && !c->opts.as_completed,
		.mem_limit = c->opts.mem_limit,
		.tmpdir = c->opts.tmpdir,
		.fd = { c->rfd >= 0 ? c->rfd : 1, 2 },
		.wake_fd = -1,
		.before_write = screen_hide,
		.hook_arg = c,
	};
	int r;

	memset(res, 0, sizeof *res);
	c->res = res;
	reorder_init(&c->ro, 1);
	output_new(&c->out, &oo);
	if ((r = signals_init()) < 0) {
		warnf(c, "cannot catch signals: %s", strerror(-r));
		res->error = r;
		goto out;
	}
	if (c->opts.show) {
		c->prog = progress_new(c->opts.show, 2, c->jobs);
		/* Items typed at the prompt: the display waits for Ctrl-D. */
		progress_pause(c->prog, c->opts.readline);
		/* It is drawn as it goes: count the items ahead for it. */
		if (c->in && isatty(2))
			input_count_ahead(c->in, c->opts.mem_limit,
			    c->opts.tmpdir);
	}
	if (c->tty || c->prog)
		signals_add_winch();
	if (!c->plugin && !c->opts.dry_run &&
	    (r = guard_new(&c->guard, c->jobs)) == 0)
		c->guard_at = util_now_ns() + GUARD_DELAY_NS;
	if (r < 0) {
		/* (no pool) */
	} else if (c->opts.executor == CCMAP_PROCS && c->plugin) {
		struct plugpool_ops ops;
		struct plugpool_opts po = {
			.workers = c->jobs,
			.max_tasks = c->opts.max_tasks,
			.timeout_ns = c->opts.timeout_ns,
			.keep_fd = c->sctx.devnull,
		};
		ccmap__plugpool_ops(c, &ops);
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
			.guard = c->guard,
		};
		wstate_init(&c->pws);
		/*
		 * No job waits queued behind another in a worker (a free one
		 * would have run it, as GNU parallel does); with --chunksize N
		 * a chunk's jobs do, by request.
		 */
		if (c->capacity > (size_t)c->jobs * c->chunksize)
			c->capacity = (size_t)c->jobs * c->chunksize;
		r = procpool_new(&c->pp, c->jobs, &ops, c->sctx.devnull);
	} else {
		c->ws = util_calloc(c->jobs, sizeof *c->ws);
		for (unsigned i = 0; i < c->jobs; i++)
			wstate_init(&c->ws[i]);
		if ((r = threadpool_new(&c->tp, c->jobs, c)) == 0)
			output_set_wake(c->out, threadpool_fd(c->tp));
		if (r == 0 && c->plugin)
			ccmap__plugin_exit_watch(c);
	}
	/*
	 * The due job's output streams as it comes, unless it may yet be
	 * dropped: a failed attempt's (--retries), a killed job's (--halt
	 * now); and not from its worker thread onto a terminal where a prompt
	 * or a progress line must make way for it.  With -k --line-buffer it
	 * streams, as --line-buffer output always does.
	 */
	c->streams = !c->opts.as_completed && c->opts.outmode == CCMAP_GROUP &&
	    c->opts.retries < 2 && c->opts.halt.when != CCMAP_HALT_NOW &&
	    c->rfd < 0 &&	/* (a records' header goes first) */
	    !c->tty && !(c->prog && isatty(2));
	if (oo.linebuffer && oo.ordered)
		c->streams = 1;
	c->backlogging = halt_needs_total(&c->halt);
	if (c->joblog && joblog_wants_header(c->joblog))
		output_emit_text(c->out, 1, JOBLOG_HEADER, strlen(JOBLOG_HEADER));
	if (r < 0) {
		warnf(c, "cannot start the workers: %s", strerror(-r));
		res->error = r;
		goto out;
	}
	loop(c);
	if (atomic_load(&c->parked))
		plugin_exited(c);	/* (the loop may have ended first) */
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
	if (c->tp && ((c->inflight && c->abandon) || atomic_load(&c->parked))) {
		/*
		 * Threads still on a job when the kill sequence is over (a
		 * plugin that would not stop, one held in exit()) cannot be
		 * stopped: they keep what they use, the jobs they started
		 * die, and the caller ends the process.  After an engine
		 * error their jobs were killed, and they are waited for.
		 */
		c->abandoned = res->abandoned = 1;
		guard_kill(c->guard, SIGKILL);
	} else {
		if (c->plugin)
			ccmap__plugin_exit_watch(NULL);
		threadpool_free(c->tp);
		c->tp = NULL;
	}
	if (c->ws && !c->abandoned) {
		for (unsigned i = 0; i < c->jobs; i++)
			wstate_release(c, &c->ws[i]);
		free(c->ws);
		c->ws = NULL;
	}
	if (!c->abandoned) {
		guard_free(c->guard);	/* (the guard must outlive the threads) */
		c->guard = NULL;
		/*
		 * Jobs in flight when the engine failed (their workers are
		 * gone now): they end as killed, their output dropped, and the
		 * finished jobs held behind them come out.  (An abandoned
		 * run's threads still hold theirs.)
		 */
		c->streams = 0;
		while (c->ifirst) {
			c->ifirst->killed = 1;
			ccmap__finish(c, c->ifirst);
		}
		c->retry = (struct jobq){ NULL, NULL, 0 };
	}
	if (c->pending) {	/* a stopped run */
		job_free(c, c->pending);
		c->pending = NULL;
	}
	for (struct job *job; (job = jobq_pop(&c->backlog)) != NULL; )
		job_free(c, job);
	for (struct job *job; (job = jobq_pop(&c->askq)) != NULL; )
		job_free(c, job);
	if (c->asking) {	/* a stopped run, while asking */
		job_free(c, c->asking);
		c->asking = NULL;
	}
	res->halted = halt_exit_status(&c->halt, &res->halt_status);
	/*
	 * Jobs still held (a stopped run): written, those that finished,
	 * past any that never did (an abandoned run).
	 */
	while (c->ro.count) {
		void *item = reorder_pop(&c->ro);
		if (item)
			emit_item(c, item);
		else
			c->ro.head++;
	}
	reorder_release(&c->ro);
	if (c->abandoned) {
		int e = output_flush(c->out);	/* threads may yet use it */
		if (e < 0 && !res->error && !res->broken_pipe)
			output_failed(c, e);
	} else {
		output_free(c->out);
		c->out = NULL;
	}
	if (c->tty)
		tty_stop(c->tty);
	progress_free(c->prog);
	c->prog = NULL;
	signals_restore();
	return res->error ? res->error : 0;
}
