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
#include "plughost.h"
#include "progress.h"
#include "schedule.h"
#include "tty.h"
#include "util.h"

static void
tty_item(void *arg, const char *line, size_t len)
{
	struct ccmap *c = arg;

	input_feed(c->disp.in, line, len);
}

static void
tty_eof(void *arg)
{
	struct ccmap *c = arg;

	input_feed_end(c->disp.in);
	if (c->emit.prog)
		progress_pause(c->emit.prog, 0);
}

/*
 * --header and --match's named groups: give the columns their names, and
 * write the command and --tagstring with {NAME} as {ID}.
 */
static void
name_columns(struct ccmap *c)
{
	const struct ccmap_opts *o = &c->cfg.opts;
	size_t nsrc = input_nsources(c->disp.in);

	for (size_t i = 0; o->header && i < nsrc; i++) {
		const struct value *h = input_header(c->disp.in, i);
		const char *path = o->nsources ? o->sources[i].path : "-";
		if (h)
			fields_name_header(c->disp.fields, h);
		else if (strcmp(o->header, "0") == 0 && path && strcmp(path, "-"))
			fields_name(c->disp.fields, path, strlen(path), i + 1);
	}
	for (size_t i = 0; i < o->ncommand; i++) {
		char *w = fields_rewrite(c->disp.fields, o->command[i]);
		if (!w)
			continue;
		if (!c->cfg.words) {
			c->cfg.words = util_calloc(o->ncommand, sizeof *c->cfg.words);
			memcpy(c->cfg.words, o->command, o->ncommand *
			    sizeof *c->cfg.words);
		}
		c->cfg.words[i] = w;
	}
	if (o->tagstring)
		c->cfg.tagstring = fields_rewrite(c->disp.fields, o->tagstring);
}

/*
 * --header's names name the values in --results' paths and records.  As
 * in GNU parallel, file sources (-a, ::::) are named by their paths
 * instead, counted among the file sources only.
 */
static void
name_results(struct ccmap *c)
{
	const struct ccmap_opts *o = &c->cfg.opts;
	size_t n = fields_names(c->disp.fields, NULL, 0), k = 0;

	if (n < o->nsources)
		n = o->nsources;
	const char **names = util_calloc(n ? n : 1, sizeof *names);
	fields_names(c->disp.fields, names, n);
	for (size_t i = 0; i < o->nsources; i++)
		if (o->sources[i].path)
			names[k++] = o->sources[i].path;
	results_set_names(c->cfg.results, names, n);
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
	if ((r = blocks_new(&c->disp.blocks, fd, close_fd, &bo, err, errlen)) < 0) {
		if (close_fd)
			close(fd);
		return r;
	}
	c->cfg.pipe_name = strcmp(path, "-") ? path : "standard input";
	/* Each job has one value, empty: -N counts records, not values. */
	c->cfg.max_args = 1;
	/* A block in hand for each slot, and the next one read. */
	c->sched.capacity = (size_t)c->cfg.jobs + 1;
	return 0;
}

int
ccmap_new(struct ccmap **cp, const struct ccmap_opts *opts, char *err,
    size_t errlen)
{
	struct ccmap *c = util_calloc(1, sizeof *c);
	int r;

	c->cfg.opts = *opts;
	if (opts->json)
		c->cfg.opts.outmode = CCMAP_GROUP;	/* whole lines, whatever else */
	c->cfg.jobs = opts->jobs ? opts->jobs : options_cpus();
	c->cfg.chunksize = opts->chunksize ? opts->chunksize : 1;
	c->cfg.max_args = opts->max_args ? opts->max_args : 1;
	c->cfg.no_values = opts->exact_args && !opts->max_args;
	if (opts->fill)
		c->cfg.max_args = opts->max_args ? opts->max_args : SIZE_MAX;
	if (c->cfg.max_args > 1 && !c->cfg.no_values) {
		/* As GNU parallel, a job takes the items that fit its line. */
		struct limits l;
		limits_get(&l);
		c->cfg.line_max = l.usable;
		c->cfg.line_hard = l.hard;
		c->cfg.line_factor = opts->quote ? 3 : 1;	/* as GNU parallel */
		c->cfg.spread = opts->fill && opts->fill != CCMAP_FILL_XARGS;
	}
	/* Room for the jobs one item can end (see take_tuple). */
	c->disp.chunk = util_calloc(c->cfg.chunksize + 2, sizeof *c->disp.chunk);
	c->sched.capacity = 2 * (size_t)c->cfg.jobs * c->cfg.chunksize;
	c->cfg.sctx.devnull = -1;
	c->emit.rfd = -1;
	halt_init(&c->sched.halt, &opts->halt);
	if (opts->halt.when != CCMAP_HALT_NEVER || opts->delay_ns) {
		/*
		 * A job starts when it is handed to the pool, none waits
		 * queued: so --halt soon stops what would start next, and
		 * --delay spaces the starts themselves.
		 */
		c->cfg.chunksize = 1;
		c->sched.capacity = c->cfg.jobs;
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
	else if ((r = fields_new(&c->disp.fields, opts, err, errlen)) == 0)
		r = input_open(&c->disp.in, opts, err, errlen);
	if (r < 0)
		goto fail;
	if (c->disp.in) {
		/* --pipe has no items to shape: its --header is block.c's. */
		c->cfg.shape = fields_active(c->disp.fields);
		name_columns(c);
	}
	c->cfg.host = plughost;
	c->disp.next_item = 1;
	if (opts->plugin) {
		if ((r = plugin_open(&c->cfg.plugin, opts->plugin,
		    (int)opts->ncommand, opts->command, &c->cfg.host, err,
		    errlen)) < 0)
			goto fail;
		/*
		 * Small chunks: keep enough of them in flight that a worker
		 * finds the next one waiting, as Pool.map's task queue does.
		 */
		if (opts->chunksize && opts->chunksize < 2048)
			c->sched.capacity = (size_t)c->cfg.jobs * (4096 / opts->chunksize);
		else
			c->sched.capacity = 2 * (size_t)c->cfg.jobs;
		if (opts->executor == CCMAP_THREADS && c->cfg.jobs > 1 &&
		    !(plugin_desc(c->cfg.plugin)->flags & CCMAP_PLUGIN_THREADSAFE)) {
			snprintf(err, errlen, "--so: %s is not thread-safe: use "
			    "--procs, or -j1", plugin_name(c->cfg.plugin));
			r = CCMAP_EUSAGE;
			goto fail;
		}
	} else if ((r = opts->pipe ? template_parse_pipe(&c->cfg.tmpl,
	    opts->command, opts->ncommand, opts->replace, opts->quote,
	    opts->shell, err, errlen) : template_parse(&c->cfg.tmpl, c->cfg.words ?
	    c->cfg.words : opts->command, opts->ncommand, opts->replace,
	    opts->quote, input_nsources(c->disp.in), opts->shell, err,
	    errlen)) < 0) {
		goto fail;
	} else {
		template_set_context(c->cfg.tmpl, opts->exact_args ||
		    opts->fill == CCMAP_FILL_CONTEXT);
	}

	if (opts->results) {
		/* A template's {NAME} is a {ID} too. */
		char *spec = c->disp.fields ? fields_rewrite(c->disp.fields,
		    opts->results) : NULL;
		r = results_new(&c->cfg.results, spec ? spec : opts->results,
		    opts->replace, err, errlen);
		free(spec);
		if (r < 0)
			goto fail;
	}
	if (c->cfg.results && opts->header && c->disp.fields)
		name_results(c);	/* not --pipe's --header */
	if (c->cfg.results && results_kind(c->cfg.results) != RESULTS_DIR) {
		if (opts->json) {
			snprintf(err, errlen, "--json: not with a --results file "
			    "of records ('%s'): each is a line per job",
			    opts->results);
			r = CCMAP_EUSAGE;
			goto fail;
		}
		if ((c->emit.rfd = results_open_records(c->cfg.results)) < 0) {
			r = c->emit.rfd;
			snprintf(err, errlen, "--results: cannot write '%s': %s",
			    opts->results, strerror(-r));
			goto fail;
		}
		c->emit.rheader = 1;
		c->cfg.opts.outmode = CCMAP_GROUP;	/* a record a job, whole */
	}
	if (opts->resume && !opts->joblog && !(c->cfg.results &&
	    results_kind(c->cfg.results) == RESULTS_DIR)) {
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
	c->cfg.json_args = !opts->plugin && (input_nsources(c->disp.in) > 1 ||
	    c->cfg.max_args > 1 || opts->fill != CCMAP_FILL_NONE ||
	    opts->colsep || opts->match);
	if ((opts->tagstring || opts->tag) && !opts->json && !opts->results &&
	    (r = template_parse_text(&c->cfg.tagt, c->cfg.tagstring ? c->cfg.tagstring :
	    opts->tagstring ? opts->tagstring : "{}", opts->tagstring ?
	    opts->replace : NULL, err, errlen)) < 0)
		goto fail;
	if (opts->joblog && (r = joblog_open(&c->emit.joblog, opts->joblog,
	    opts->resume, err, errlen)) < 0)
		goto fail;
	if (opts->interactive || opts->readline) {
		struct tty_ops ops = { tty_item, tty_eof, sched_answer, c };
		if ((r = tty_open(&c->emit.tty, (opts->interactive ? TTY_ASK : 0) |
		    (opts->readline ? TTY_ITEMS : 0), &ops, err, errlen)) < 0) {
			r = CCMAP_EUSAGE;
			goto fail;
		}
		if (opts->readline && c->disp.in)
			input_set_fed(c->disp.in);
		if (opts->interactive)	/* ask only when a job can start */
			c->sched.capacity = c->cfg.jobs;
	}
	c->cfg.sctx.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (c->cfg.sctx.devnull < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open /dev/null: %s",
		    strerror(errno));
		goto fail;
	}
	c->cfg.sctx.own_pgroup = 1;
	c->cfg.sctx.timeout_ns = opts->timeout_ns;
	c->cfg.sctx.termseq = &c->cfg.opts.termseq;
	sigemptyset(&c->cfg.sctx.sigdef);
	sigaddset(&c->cfg.sctx.sigdef, SIGPIPE);
	sigaddset(&c->cfg.sctx.sigdef, SIGINT);
	sigaddset(&c->cfg.sctx.sigdef, SIGTERM);
	*cp = c;
	return 0;
fail:
	ccmap_free(c);
	return r;
}

void
ccmap_free(struct ccmap *c)
{
	if (!c || c->sched.abandoned)
		return;		/* (threads that still run use it all) */
	tty_close(c->emit.tty);
	input_close(c->disp.in);
	fields_free(c->disp.fields);
	for (size_t i = 0; c->cfg.words && i < c->cfg.opts.ncommand; i++)
		if (c->cfg.words[i] != c->cfg.opts.command[i])
			free(c->cfg.words[i]);
	free(c->cfg.words);
	free(c->cfg.tagstring);
	blocks_free(c->disp.blocks);
	plugin_close(c->cfg.plugin);
	template_free(c->cfg.tmpl);
	template_free(c->cfg.tagt);
	joblog_close(c->emit.joblog);
	results_free(c->cfg.results);
	if (c->emit.rfd > 2)
		close(c->emit.rfd);
	if (c->cfg.sctx.devnull >= 0)
		close(c->cfg.sctx.devnull);
	free(c->disp.chunk);
	free(c);
}
