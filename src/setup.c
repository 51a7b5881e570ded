/*
 * setup.c: ccmap_new() and ccmap_free(): the options checked (the refusals
 * are setup_refuse(), a pure function), the input, templates, plugin and
 * files of a run opened, and all of it let go.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emit.h"
#include "engine.h"
#include "linemax.h"
#include "options.h"
#include "plugin.h"
#include "progress.h"
#include "schedule.h"
#include "tty.h"
#include "util.h"

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
	emit_warn(arg, "%s", msg);
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
	c->jobs = opts->jobs ? opts->jobs : options_cpus();
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
	c->host = plughost;
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
		struct tty_ops ops = { tty_item, tty_eof, sched_answer, c };
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
