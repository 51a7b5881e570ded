/*
 * record.c: --results and --json, for commands and for plugins' items.
 *
 * Both happen where the job or item ran (a worker thread or a worker
 * process), so that files are written and JSON is composed in parallel;
 * what is to be printed then (a JSON line, or nothing) goes on through the
 * ordinary output path, which keeps it in order.
 */
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "record.h"
#include "util.h"
#include "json.h"

int
record_active(const struct ccmap *c)
{
	return c->cfg.results || c->cfg.opts.json;
}

/* The captured output of a job recorded for --json. */
struct capture {
	const struct spawn_io *io;
	struct strbuf *b;
};

static void
capture_data(void *arg, int stream, const char *buf, size_t len)
{
	struct capture *cp = arg;

	strbuf_add(&cp->b[stream - 1], buf, len);
}

static void
capture_started(void *arg, pid_t pid)
{
	struct capture *cp = arg;

	if (cp->io->started)
		cp->io->started(cp->io->arg, pid);
}

static void
capture_opened(void *arg, int fd)
{
	struct capture *cp = arg;

	if (cp->io->opened)
		cp->io->opened(cp->io->arg, fd);
}

/* "NAME: WHAT N: cannot write 'PATH': ERROR" into out. */
static void
write_failed(struct strbuf *out, const char *what, unsigned long long seq,
    const char *path, int e)
{
	char msg[1024];

	snprintf(msg, sizeof msg, "%s%s %llu: cannot write '%s': %s\n",
	    util_prefix(), what, seq, path, strerror(-e));
	strbuf_addstr(out, msg);
}

/* Is the job's output saved in files of its own (--results DIR)? */
static int
in_files(const struct ccmap *c)
{
	return c->cfg.results && results_kind(c->cfg.results) == RESULTS_DIR;
}

/* How many of a job's values make one item (its columns, with -C). */
static size_t
item_values(const struct ccmap *c, const struct jobvals *jv)
{
	return c->cfg.shape && c->cfg.max_args == 1 ? jv->n :
	    input_nsources(c->disp.in);
}

int
record_done_before(const struct ccmap *c, const struct job *job)
{
	const struct jobvals jv = { .v = job->v, .n = job->nv,
	    .seq = job->seq };

	return c->cfg.opts.resume == CCMAP_RESUME_ALL && in_files(c) &&
	    results_done(c->cfg.results, &jv, item_values(c, &jv));
}

/* What a job or item ran and did, for its line. */
struct outcome {
	unsigned long long seq;
	const struct value *v;
	size_t n;
	int args;		/* --json: "args" rather than "item" */
	int code, sig;
	double start;		/* wall clock */
	long long ns;
	const char *cmd;	/* its command line (the record files) */
	const struct strbuf *b;	/* its stdout and stderr */
};

/* The line that stands for a job in the output: --json's, or a record. */
static void
outcome_line(const struct ccmap *c, struct strbuf *line,
    const struct outcome *o)
{
	if (c->cfg.opts.json) {
		json_record(line, &(struct json_record){
		    .seq = o->seq, .v = o->v, .n = o->n, .args = o->args,
		    .code = o->code, .sig = o->sig, .ns = o->ns,
		    .out = o->b[0].buf, .olen = o->b[0].len,
		    .err = o->b[1].buf, .elen = o->b[1].len });
		return;
	}
	results_record(c->cfg.results, line, &(struct results_rec){
	    .seq = o->seq, .start = o->start, .ns = o->ns, .code = o->code,
	    .sig = o->sig, .cmd = o->cmd, .v = o->v, .n = o->n,
	    .out = o->b[0].buf, .olen = o->b[0].len,
	    .err = o->b[1].buf, .elen = o->b[1].len });
}

/* Empty the capture buffers, letting a large job's memory go. */
static void
reset_captured(struct strbuf *b)
{
	for (int i = 0; i < 2; i++) {
		strbuf_reset(&b[i]);
		if (b[i].alloc > 1024 * 1024)
			strbuf_release(&b[i]);
	}
}

void
record_job(struct ccmap *c, struct wstate *ws, const struct jobvals *jv,
    const struct spawn_io *io, struct job_status *st,
    record_settle_fn *settle, void *arg)
{
	struct strbuf *b = ws->rec, msg = STRBUF_INIT, cmd = STRBUF_INIT;
	struct capture cp = { io, b };
	struct spawn_io cio = {
		.capture = 1,
		.data = capture_data,
		.started = capture_started,
		.arg = &cp,
		.in = io->in,		/* --pipe: its block */
		.nin = io->nin,
		.hold_in = io->hold_in,
		.mux = io->mux,
		.opened = capture_opened,
		.run = io->run,
		.run_arg = io->run_arg,
	};
	size_t nsrc = item_values(c, jv);
	int fd[2], e = 0;

	if (in_files(c) && !c->cfg.opts.json && !settle) {
		/* The files are the job's stdout and stderr. */
		if ((e = results_open(c->cfg.results, jv, nsrc, fd,
		    &ws->rpath)) == 0) {
			cio.capture = 0;
			cio.to = fd;
			spawn_job(&c->cfg.sctx, &ws->cb, ws->env.envp, &cio,
			    st);
			struct stat sb;	/* its size: --joblog's Receive */
			if (fstat(fd[0], &sb) == 0 && S_ISREG(sb.st_mode))
				st->out_bytes = sb.st_size;
			close(fd[0]);
			close(fd[1]);
		}
	} else {
		struct outcome o = {
			.seq = jv->seq, .v = jv->v, .n = jv->n,
			.args = c->cfg.json_args, .b = b,
		};
		strbuf_reset(&b[0]);
		strbuf_reset(&b[1]);
		spawn_job(&c->cfg.sctx, &ws->cb, ws->env.envp, &cio, st);
		if (settle && settle(arg, &b[1], st)) {
			/* No record: the job runs again. */
			reset_captured(b);
			return;
		}
		o.start = st->start_ns / 1e9;
		o.ns = st->run_ns;
		o.code = st->code;
		o.sig = st->sig;
		if (in_files(c))
			e = results_write(c->cfg.results, jv, nsrc, b[0].buf,
			    b[0].len, b[1].buf, b[1].len, &ws->rpath);
		if (in_files(c) && !c->cfg.opts.json) {
			st->out_bytes = (long long)b[0].len;
		} else {
			if (!c->cfg.opts.json) {
				template_line(c->cfg.tmpl, jv, &cmd);
				o.cmd = cmd.buf ? cmd.buf : "";
			}
			outcome_line(c, &msg, &o);
			io->data(io->arg, 1, msg.buf, msg.len);
		}
		reset_captured(b);
	}
	if (e < 0) {
		/* The job fails, and says why in its place on stderr. */
		strbuf_reset(&msg);
		write_failed(&msg, "job", jv->seq, ws->rpath.buf, e);
		io->data(io->arg, 2, msg.buf, msg.len);
		if (!job_failed(st)) {
			memset(st, 0, sizeof *st);
			st->code = 1;
		}
	}
	strbuf_release(&cmd);
	strbuf_release(&msg);
}

int
record_item(struct ccmap *c, struct wstate *ws,
    unsigned long long seq, unsigned slot, const char *item, size_t len,
    int status, int sig, long long ns, struct strbuf io[2])
{
	struct strbuf *b = ws->rec;
	struct value v = { item, len };
	struct jobvals jv = { .v = &v, .n = 1, .seq = seq, .slot = slot };
	int e = 0;

	/* The item's output moves to b; io is emptied for what is printed. */
	for (int i = 0; i < 2; i++) {
		struct strbuf t = b[i];
		b[i] = io[i];
		io[i] = t;
		strbuf_reset(&io[i]);
	}
	if (in_files(c))
		e = results_write(c->cfg.results, &jv, 1, b[0].buf, b[0].len,
		    b[1].buf, b[1].len, &ws->rpath);
	if (!in_files(c) || c->cfg.opts.json)
		outcome_line(c, &io[0], &(struct outcome){
		    .seq = seq, .v = &v, .n = 1, .code = status, .sig = sig,
		    /* The item began ns ago; a plugin has no command line. */
		    .start = (util_wall_ns() - ns) / 1e9, .ns = ns,
		    .cmd = c->cfg.opts.plugin, .b = b });
	if (e < 0) {
		write_failed(&io[1], "item", seq, ws->rpath.buf, e);
		if (!status && !sig)
			status = 1;
	}
	reset_captured(b);
	return status;
}
