/*
 * record.c: --results and --json, for commands and for plugins' items.
 *
 * Both happen where the job or item ran (a worker thread or a worker
 * process), so that files are written and JSON is composed in parallel;
 * what is to be printed then (a JSON line, or nothing) goes on through the
 * ordinary output path, which keeps it in order.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "internal.h"
#include "json.h"

int
ccmap__recording(const struct ccmap *c)
{
	return c->results || c->opts.json;
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

/* "ccmap: WHAT N: cannot write 'PATH': ERROR" into out. */
static void
write_failed(struct strbuf *out, const char *what, unsigned long long seq,
    const char *path, int e)
{
	char msg[1024];

	snprintf(msg, sizeof msg, "ccmap: %s %llu: cannot write '%s': %s\n",
	    what, seq, path, strerror(-e));
	strbuf_addstr(out, msg);
}

void
ccmap__record_job(struct ccmap *c, struct wstate *ws,
    const struct jobvals *jv, const struct spawn_io *io,
    struct job_status *st)
{
	struct strbuf *b = ws->rec, msg = STRBUF_INIT;
	struct capture cp = { io, b };
	struct spawn_io cio = {
		.capture = 1,
		.data = capture_data,
		.started = capture_started,
		.arg = &cp,
	};
	size_t nsrc = input_nsources(c->in);
	int fd[2], e = 0;
	long long t0;

	if (!c->opts.json) {
		/* --results alone: the files are the job's stdout and stderr. */
		if ((e = results_open(c->results, jv, nsrc, fd,
		    &ws->rpath)) == 0) {
			cio.capture = 0;
			cio.to = fd;
			spawn_job(&c->sctx, &ws->cb, ws->env.envp, &cio, st);
			close(fd[0]);
			close(fd[1]);
		}
	} else {
		strbuf_reset(&b[0]);
		strbuf_reset(&b[1]);
		t0 = ccmap__now_ns();
		spawn_job(&c->sctx, &ws->cb, ws->env.envp, &cio, st);
		struct json_record r = {
			.seq = jv->seq, .v = jv->v, .n = jv->n,
			.args = c->json_args, .code = st->code, .sig = st->sig,
			.ns = ccmap__now_ns() - t0,
			.out = b[0].buf, .olen = b[0].len,
			.err = b[1].buf, .elen = b[1].len,
		};
		if (c->results)
			e = results_write(c->results, jv, nsrc, b[0].buf,
			    b[0].len, b[1].buf, b[1].len, &ws->rpath);
		strbuf_reset(&msg);
		json_record(&msg, &r);
		io->data(io->arg, 1, msg.buf, msg.len);
		/* Do not keep a large job's output for the next. */
		for (int i = 0; i < 2; i++)
			if (b[i].alloc > 1024 * 1024)
				strbuf_release(&b[i]);
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
	strbuf_release(&msg);
}

int
ccmap__record_item(struct ccmap *c, struct wstate *ws,
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
	if (c->results)
		e = results_write(c->results, &jv, 1, b[0].buf, b[0].len,
		    b[1].buf, b[1].len, &ws->rpath);
	if (c->opts.json)
		json_record(&io[0], &(struct json_record){
		    .seq = seq, .v = &v, .n = 1, .code = status, .sig = sig,
		    .ns = ns, .out = b[0].buf, .olen = b[0].len,
		    .err = b[1].buf, .elen = b[1].len });
	if (e < 0) {
		write_failed(&io[1], "item", seq, ws->rpath.buf, e);
		if (!status && !sig)
			status = 1;
	}
	for (int i = 0; i < 2; i++) {
		strbuf_reset(&b[i]);
		if (b[i].alloc > 1024 * 1024)
			strbuf_release(&b[i]);
	}
	return status;
}
