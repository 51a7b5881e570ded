/*
 * setup.c: ccmap_new() and ccmap_free(): the options checked (the refusals
 * are setup_refuse(), a pure function), the input, templates, plugin and
 * files of a run opened, and all of it let go.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emit.h"
#include "engine.h"
#include "hosts.h"
#include "linemax.h"
#include "options.h"
#include "plughost.h"
#include "plugin.h"
#include "progress.h"
#include "schedule.h"
#include "setup.h"
#include "transfer.h"
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
		else if (!strcmp(o->header, "0") && path && strcmp(path, "-"))
			fields_name(c->disp.fields, path, strlen(path), i + 1);
	}
	for (size_t i = 0; i < o->ncommand; i++) {
		char *w = fields_rewrite(c->disp.fields, o->command[i]);
		if (!w)
			continue;
		if (!c->cfg.words) {
			size_t size = o->ncommand * sizeof *c->cfg.words;
			c->cfg.words = util_malloc(size);
			memcpy(c->cfg.words, o->command, size);
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

	if ((fd = input_open_file(path, &close_fd, err, errlen)) < 0)
		return -errno;
	r = blocks_new(&c->disp.blocks, fd, close_fd, &bo, err, errlen);
	if (r < 0) {
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

static int
refuse(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return CCMAP_EUSAGE;
}

/* Is name one --env can copy: a shell variable's name? */
static int
env_name_ok(const char *name)
{
	if (!*name || (*name >= '0' && *name <= '9'))
		return 0;
	for (const char *p = name; *p; p++)
		if (!(*p == '_' || (*p >= 'a' && *p <= 'z') ||
		    (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
			return 0;
	return 1;
}

/* What --onall, --nonall and --env cannot work with. */
static int
refuse_onall(const struct ccmap_opts *o, char *err, size_t errlen)
{
	const char *opt = o->nonall ? "--nonall" : "--onall";

	for (size_t i = 0; i < o->nenv; i++) {
		if (!strcmp(o->env[i], "_"))
			return refuse(err, errlen, "--env _ (every exported "
			    "variable) is not supported: name the variables");
		if (!env_name_ok(o->env[i]))
			return refuse(err, errlen, "--env: '%s' is not a "
			    "variable or function name", o->env[i]);
	}
	if (!o->onall && !o->nonall)
		return 0;
	if (o->nonall && o->nsources)
		return refuse(err, errlen, "--nonall reads no items: drop the "
		    "::: or -a sources, or use --onall");
	if (o->plugin || o->pipe)
		return refuse(err, errlen, "%s runs a command on every host: "
		    "not with %s", opt, o->plugin ? "--so" : "--pipe");
	/* (A job skipped or declined before the copies are made would
	   leave a gap in their numbers.) */
	if (o->resume || o->interactive)
		return refuse(err, errlen, "%s: not with %s", opt,
		    o->resume ? "--resume" : "-p/--interactive");
	return 0;
}

/* Do the jobs run on other hosts (-S, --sshloginfile, --slurm)? */
static int
remote(const struct ccmap_opts *o)
{
	return o->nsshlogins || o->nsshloginfiles || o->slurm;
}

/* -S's files: with -S, and a --basefile where every job finds it. */
static int
refuse_files(const struct ccmap_opts *o, char *err, size_t errlen)
{
	const char *opt = o->ntransferfiles ? "--transferfile" :
	    o->transfer ? "--transfer" : o->nreturnfiles ? "--return" :
	    o->nbasefiles ? "--basefile" : o->cleanup ? "--cleanup" :
	    o->workdir ? "--workdir" : NULL, *perjob;

	if (opt && !remote(o))
		return refuse(err, errlen, "%s: only with -S or "
		    "--sshloginfile (the files of remote jobs)", opt);
	/* (What a worker does not carry yet: hosts.c's worker_fits().) */
	perjob = o->ntransferfiles ? "--transferfile" : o->transfer ?
	    "--transfer" : o->nreturnfiles ? "--return" : NULL;
	if (perjob && o->remote_worker == CCMAP_WORKER_ALWAYS)
		return refuse(err, errlen, "--remote-worker always: not with "
		    "%s (its jobs go a session each: auto does so)", perjob);
	/* (--slurm has no ssh to copy files with: the nodes see ours.) */
	if (!perjob && o->slurm)
		perjob = o->nbasefiles ? "--basefile" : o->cleanup ?
		    "--cleanup" : NULL;
	if (perjob && o->slurm)
		return refuse(err, errlen, "--slurm: not with %s (a node's "
		    "jobs go over its ccmap --worker, and see this machine's "
		    "files)", perjob);
	if (!perjob && remote(o) && o->plugin && o->workdir)
		perjob = "--workdir";	/* (a plugin runs in the worker's) */
	if (o->slurm && o->workdir)
		return refuse(err, errlen, "--slurm: not with --workdir (the "
		    "jobs run in this directory on the nodes: cd there "
		    "first)");
	if (perjob && remote(o) && o->plugin)
		return refuse(err, errlen, "-S with a plugin (--so): not with "
		    "%s, for now (the plugin runs in the hosts' ccmap "
		    "--worker)", perjob);
	if (o->workdir && !*o->workdir)
		return refuse(err, errlen, "--workdir: an empty directory "
		    "name");
	for (size_t i = 0; i < o->nbasefiles; i++) {
		if (!*o->basefiles[i])
			return refuse(err, errlen, "--basefile: an empty file "
			    "name");
		if (o->workdir && !strcmp(o->workdir, "...") &&
		    (*o->basefiles[i] != '/' || strstr(o->basefiles[i],
		    "/./")))
			return refuse(err, errlen, "--basefile '%s': relative "
			    "on the host, it would be copied again for each "
			    "job (--workdir ...): give an absolute path",
			    o->basefiles[i]);
	}
	return 0;
}

int
setup_refuse(const struct ccmap_opts *o, char *err, size_t errlen)
{
	const char *path = o->nsources ? o->sources[0].path : "-";
	int records = o->results && results_spec_kind(o->results) !=
	    RESULTS_DIR;

	if (o->resume == CCMAP_RESUME_FAILED && !o->joblog)
		return refuse(err, errlen, "--resume-failed needs --joblog "
		    "FILE");
	if (o->plugin && (o->retries > 1 || o->joblog || o->delay_ns ||
	    o->resume))
		return refuse(err, errlen, "%s applies to commands, not to "
		    "plugins (--so)", o->retries > 1 ? "--retries" :
		    o->joblog ? "--joblog" : o->delay_ns ? "--delay" :
		    "--resume");
	if (o->plugin && (o->fill || o->dry_run))
		return refuse(err, errlen, "--so: %s for commands only",
		    o->dry_run ? "--dry-run is" : "-X, -m and --xargs are");
	/* -L shapes the records of --pipe, and nothing else yet. */
	if (!o->pipe && o->max_lines)
		return refuse(err, errlen, "-L works only with --pipe");
	if (o->slurm && (o->nsshlogins || o->nsshloginfiles))
		return refuse(err, errlen, "--slurm: the hosts are the "
		    "allocation's nodes: not with %s", o->nsshlogins ? "-S" :
		    "--sshloginfile");
	if (o->slurm && o->remote_worker == CCMAP_WORKER_NEVER)
		return refuse(err, errlen, "--slurm: a node's jobs go over "
		    "its ccmap --worker: not with --remote-worker never");
	if (remote(o) && o->plugin) {
		/* (A plugin runs in the hosts' ccmap --worker.) */
		const char *no = o->remote_worker == CCMAP_WORKER_NEVER ?
		    "--remote-worker never" : o->results ? "--results" :
		    o->json ? "--json" : NULL;
		if (no)
			return refuse(err, errlen, "%s with a plugin (--so): "
			    "not with %s, for now", o->slurm ? "--slurm" :
			    "-S", no);
	}
	if (remote(o) && o->executor == CCMAP_PROCS)
		return refuse(err, errlen, "%s: the jobs run on other hosts: "
		    "--procs does not apply", o->slurm ? "--slurm" : "-S");
	if (refuse_files(o, err, errlen) < 0)
		return CCMAP_EUSAGE;
	if (o->interactive && o->plugin)
		return refuse(err, errlen, "-p/--interactive cannot be used "
		    "with --so");
	if (refuse_onall(o, err, errlen) < 0)
		return CCMAP_EUSAGE;
	if (o->pipe && o->plugin)
		return refuse(err, errlen, "--pipe: a plugin (--so) cannot "
		    "read blocks: give a command");
	if (o->pipe && o->executor == CCMAP_PROCS)
		return refuse(err, errlen, "--pipe does not work with --procs: "
		    "use --threads");
	if (o->pipe && o->ncommand == 0)
		return refuse(err, errlen, "--pipe needs a command to pipe "
		    "into (e.g. cat)");
	if (o->pipe && (o->nsources > 1 || !path))
		return refuse(err, errlen, "--pipe reads standard input or one "
		    "-a FILE, not ::: items or several sources");
	if (o->json && records)
		return refuse(err, errlen, "--json: not with a --results file "
		    "of records ('%s'): each is a line per job", o->results);
	if (o->resume && !o->joblog && (!o->results || records))
		return refuse(err, errlen, "--resume needs --joblog FILE or "
		    "--results DIR");
	/* Every block's files are the same ones: all would be skipped. */
	if (o->resume && !o->joblog && o->pipe)
		return refuse(err, errlen, "--resume with --pipe needs "
		    "--joblog FILE");
	return 0;
}

/* How many jobs, of how many items, and how many in flight. */
static void
size_run(struct ccmap *c, const struct ccmap_opts *opts)
{
	struct ccmap_cfg *cfg = &c->cfg;

	if (opts->json)	/* whole lines, whatever else */
		cfg->opts.outmode = CCMAP_GROUP;
	cfg->jobs = cfg->opts.jobs ? cfg->opts.jobs : options_cpus();
	cfg->chunksize = opts->chunksize ? opts->chunksize : 1;
	cfg->max_args = opts->max_args ? opts->max_args : 1;
	cfg->no_values = opts->exact_args && !opts->max_args;
	if (opts->fill)
		cfg->max_args = opts->max_args ? opts->max_args : SIZE_MAX;
	if (cfg->max_args > 1 && !cfg->no_values) {
		/* As GNU parallel, a job takes the items that fit its line. */
		struct limits l;
		limits_get(&l);
		cfg->line_max = l.usable;
		cfg->line_hard = l.hard;
		cfg->line_factor = opts->quote ? 3 : 1;	/* as GNU parallel */
		cfg->spread = opts->fill && opts->fill != CCMAP_FILL_XARGS;
	}
	/* Room for the jobs one item can end (see take_tuple). */
	c->disp.chunk = util_calloc(cfg->chunksize + 2, sizeof *c->disp.chunk);
	c->sched.capacity = 2 * (size_t)cfg->jobs * cfg->chunksize;
	if (opts->halt.when != CCMAP_HALT_NEVER || opts->delay_ns) {
		/*
		 * A job starts when it is handed to the pool, none waits
		 * queued: so --halt soon stops what would start next, and
		 * --delay spaces the starts themselves.
		 */
		cfg->chunksize = 1;
		c->sched.capacity = cfg->jobs;
	}
}

static int
open_plugin(struct ccmap *c, const struct ccmap_opts *opts, char *err,
    size_t errlen)
{
	int r = plugin_open(&c->cfg.plugin, opts->plugin, (int)opts->ncommand,
	    opts->command, &c->cfg.host, err, errlen);

	if (r < 0)
		return r;
	/*
	 * Small chunks: keep enough of them in flight that a worker finds
	 * the next one waiting, as Pool.map's task queue does.
	 */
	if (opts->chunksize && opts->chunksize < 2048)
		c->sched.capacity = (size_t)c->cfg.jobs *
		    (4096 / opts->chunksize);
	else
		c->sched.capacity = 2 * (size_t)c->cfg.jobs;
	if (opts->executor == CCMAP_THREADS && c->cfg.jobs > 1 &&
	    !(plugin_desc(c->cfg.plugin)->flags & CCMAP_PLUGIN_THREADSAFE)) {
		snprintf(err, errlen, "--so: %s is not thread-safe: use "
		    "--procs, or -j1", plugin_name(c->cfg.plugin));
		return CCMAP_EUSAGE;
	}
	return 0;
}

/* The command's template: --pipe's, or the items'. */
static int
parse_command(struct ccmap *c, const struct ccmap_opts *opts, char *err,
    size_t errlen)
{
	char **words = c->cfg.words ? c->cfg.words : opts->command;
	int r;

	if (opts->pipe)
		return template_parse_pipe(&c->cfg.tmpl, opts->command,
		    opts->ncommand, opts->replace, opts->quote, opts->shell,
		    err, errlen);
	r = template_parse(&c->cfg.tmpl, words, opts->ncommand, opts->replace,
	    opts->quote, input_nsources(c->disp.in), opts->shell, err, errlen);
	if (r == 0)
		template_set_context(c->cfg.tmpl, opts->exact_args ||
		    opts->fill == CCMAP_FILL_CONTEXT);
	return r;
}

/* --results: a directory (a template for each job's), or a file. */
static int
open_results(struct ccmap *c, const struct ccmap_opts *opts, char *err,
    size_t errlen)
{
	/* A template's {NAME} is a {ID} too. */
	char *spec = c->disp.fields ? fields_rewrite(c->disp.fields,
	    opts->results) : NULL;
	int r = results_new(&c->cfg.results, spec ? spec : opts->results,
	    opts->replace, err, errlen);

	free(spec);
	if (r < 0)
		return r;
	if (opts->header && c->disp.fields)
		name_results(c);	/* not --pipe's --header */
	if (results_kind(c->cfg.results) == RESULTS_DIR)
		return 0;
	if ((c->emit.rfd = results_open_records(c->cfg.results)) < 0) {
		snprintf(err, errlen, "--results: cannot write '%s': %s",
		    opts->results, strerror(-c->emit.rfd));
		return c->emit.rfd;
	}
	c->emit.rheader = 1;
	c->cfg.opts.outmode = CCMAP_GROUP;	/* a record a job, whole */
	return 0;
}

/* --tag, --tagstring (not where the values are in the records). */
static int
parse_tag(struct ccmap *c, const struct ccmap_opts *opts, char *err,
    size_t errlen)
{
	const char *text = c->cfg.tagstring ? c->cfg.tagstring :
	    opts->tagstring ? opts->tagstring : "{}";

	if ((!opts->tagstring && !opts->tag) || opts->json || opts->results)
		return 0;
	return template_parse_text(&c->cfg.tagt, text, opts->tagstring ?
	    opts->replace : NULL, err, errlen);
}

/* -p, and items typed at a prompt. */
static int
open_tty(struct ccmap *c, const struct ccmap_opts *opts, char *err,
    size_t errlen)
{
	struct tty_ops ops = { tty_item, tty_eof, sched_answer, c };
	int how = (opts->interactive ? TTY_ASK : 0) |
	    (opts->readline ? TTY_ITEMS : 0);

	if (tty_open(&c->emit.tty, how, &ops, err, errlen) < 0)
		return CCMAP_EUSAGE;
	if (opts->readline && c->disp.in)
		input_set_fed(c->disp.in);
	if (opts->interactive)	/* ask only when a job can start */
		c->sched.capacity = c->cfg.jobs;
	return 0;
}

/* How the jobs are spawned. */
static int
spawn_setup(struct ccmap *c, char *err, size_t errlen)
{
	struct spawn_ctx *sctx = &c->cfg.sctx;

	if ((sctx->devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot open /dev/null: %s",
		    strerror(e));
		return -e;
	}
	sctx->own_pgroup = 1;
	sctx->timeout_ns = c->cfg.opts.timeout_ns;
	sctx->termseq = &c->cfg.opts.termseq;
	sigemptyset(&sctx->sigdef);
	sigaddset(&sctx->sigdef, SIGPIPE);
	sigaddset(&sctx->sigdef, SIGINT);
	sigaddset(&sctx->sigdef, SIGTERM);
	return 0;
}

/*
 * --nonall: --onall with one item that puts nothing in the command (as
 * -N0), and no input read.
 */
static void
nonall_opts(struct ccmap_opts *o)
{
	static char empty[1];
	static char *none[] = { empty };
	static struct ccmap_source one = { .args = none, .nargs = 1 };

	o->onall = 1;
	o->sources = &one;
	o->nsources = 1;
	o->exact_args = 1;
	o->max_args = 0;
	o->readline = 0;
}

int
ccmap_new(struct ccmap **cp, const struct ccmap_opts *opts, char *err,
    size_t errlen)
{
	struct ccmap_opts own;
	struct ccmap *c;
	int r;

	if ((r = setup_refuse(opts, err, errlen)) < 0)
		return r;
	if (opts->nonall) {
		own = *opts;
		nonall_opts(&own);
		opts = &own;
	}
	c = util_calloc(1, sizeof *c);
	emit_warnq_init(c);
	c->cfg.opts = *opts;
	c->cfg.sctx.devnull = -1;
	c->emit.rfd = -1;
	if (remote(opts) && !opts->dry_run) {
		/* -S: the jobs' slots are the hosts'. */
		unsigned slots;
		if ((r = hosts_open(&c->cfg.hosts, &c->cfg.opts,
		    emit_warn_any, c, &slots, err, errlen)) < 0)
			goto fail;
		/* --onall: a slot per host, and -j hosts at a time. */
		if (!opts->onall || !opts->jobs || opts->jobs > slots)
			c->cfg.opts.jobs = slots;
		if ((r = transfer_new(&c->cfg.xfer, opts, emit_warn_any, c,
		    err, errlen)) < 0)
			goto fail;
	}
	size_run(c, opts);
	halt_init(&c->sched.halt, &opts->halt);
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
	if ((r = opts->plugin ? open_plugin(c, opts, err, errlen) :
	    parse_command(c, opts, err, errlen)) < 0)
		goto fail;
	if (opts->results && (r = open_results(c, opts, err, errlen)) < 0)
		goto fail;
	c->cfg.json_args = !opts->plugin && (input_nsources(c->disp.in) > 1 ||
	    c->cfg.max_args > 1 || opts->fill != CCMAP_FILL_NONE ||
	    opts->colsep || opts->match);
	if ((r = parse_tag(c, opts, err, errlen)) < 0)
		goto fail;
	if (opts->joblog && (r = joblog_open(&c->emit.joblog, opts->joblog,
	    opts->resume, err, errlen)) < 0)
		goto fail;
	if ((opts->interactive || opts->readline) &&
	    (r = open_tty(c, opts, err, errlen)) < 0)
		goto fail;
	if ((r = spawn_setup(c, err, errlen)) < 0)
		goto fail;
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
	/* (Those of threads, such as why a host was left out, unsaid if
	   the run never started.) */
	emit_warn_queued(c);
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
	transfer_free(c->cfg.xfer);
	/* (Killed: the jobs had the kill sequence, the workers get it.) */
	hosts_close(c->cfg.hosts, c->sched.term_step > 0);
	emit_warnq_free(c);
	free(c);
}
