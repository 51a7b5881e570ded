/*
 * exec-ssh.c: the executor of -S: each job on a slot of one of the hosts
 * (hosts.h), run from a worker thread (exec-threads.c) as an ssh client
 * over its host's master, or on this machine for ":".  A session that
 * fails (ssh's own 255: the host is down, the connection was cut) is not
 * the job's failure: the job is given back to the engine as lost, to run
 * again on another host.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

#include "emit.h"
#include "exec-threads.h"
#include "hosts.h"
#include "record.h"
#include "transfer.h"
#include "util.h"
#include "wconn.h"

/* Bytes of a job's stderr kept back, to see the marker (and why ssh failed). */
#define TAIL_MAX 256

struct ssh_job {
	struct thread_exec *te;
	struct job *job;
	struct wstate *ws;
	char ctl[4096];		/* its master's socket */
	char tail[TAIL_MAX];	/* the last of its stderr, not yet handed on */
	size_t ntail;
	int lost;		/* its session failed */
};

static void
hand_on(struct ssh_job *sj, int stream, const char *buf, size_t len)
{
	if (len)
		sj->te->x.on.data(&sj->te->x, sj->job, stream, buf, len);
}

/*
 * Its output, as it comes: stdout handed on, stderr too but for its last
 * TAIL_MAX bytes, which may be the wrapper's marker or ssh's complaint.
 */
static void
ssh_data(void *arg, int stream, const char *buf, size_t len)
{
	struct ssh_job *sj = arg;

	if (stream == 1) {
		hand_on(sj, 1, buf, len);
		return;
	}
	if (sj->ntail + len > TAIL_MAX) {
		size_t out = sj->ntail + len - TAIL_MAX;
		size_t from_tail = out < sj->ntail ? out : sj->ntail;
		hand_on(sj, 2, sj->tail, from_tail);
		memmove(sj->tail, sj->tail + from_tail, sj->ntail - from_tail);
		sj->ntail -= from_tail;
		hand_on(sj, 2, buf, out - from_tail);
		buf += out - from_tail;
		len -= out - from_tail;
	}
	memcpy(sj->tail + sj->ntail, buf, len);
	sj->ntail += len;
}

static void
ssh_started(void *arg, pid_t pid)
{
	struct ssh_job *sj = arg;

	exec_threads_started(sj->te, sj->ws, pid);
}

static void
ssh_opened(void *arg, int fd)
{
	struct ssh_job *sj = arg;

	exec_threads_opened(sj->te, sj->ws, fd);
}

/*
 * Did the session fail (ssh's own 255, with no marker from the wrapper),
 * rather than the job?  The marker, if there, is cut from the end of its
 * stderr (buf, *len).  A job that ccmap killed (--timeout, the run
 * stopping) has not lost its session: ssh's 255 is then the kill's.
 */
static int
session_failed(struct ssh_job *sj, const char *buf, size_t *len,
    const struct job_status *st)
{
	size_t mlen;
	const char *m = hosts_marker(sj->te->x.c->cfg.hosts, &mlen);

	if (st->code == 255 && !st->sig && *len >= mlen &&
	    !memcmp(buf + *len - mlen, m, mlen)) {
		*len -= mlen;	/* the command's own 255 */
		return 0;
	}
	return !st->err && !st->sig && st->code == 255 && !st->timed_out &&
	    !atomic_load(&sj->te->stop_sig);
}

/* record_settle_fn: the same for a job whose output is recorded. */
static int
settle(void *arg, struct strbuf *err, const struct job_status *st)
{
	struct ssh_job *sj = arg;

	if (!session_failed(sj, err->buf, &err->len, st))
		return 0;
	/* What ssh said, for why() */
	size_t n = err->len < TAIL_MAX ? err->len : TAIL_MAX;
	memcpy(sj->tail, err->buf + err->len - n, n);
	sj->ntail = n;
	return sj->lost = 1;
}

/* The last line of what ssh said, for a message. */
static const char *
why(struct ssh_job *sj)
{
	if (sj->ntail == TAIL_MAX)
		sj->ntail--;	/* (room for its '\0') */
	return util_last_line(sj->tail, &sj->ntail);
}

/*
 * --pipe: the job's block, first into a file on the host that the job's
 * session reads (its own stdin is the wrapper's watch on the session).
 * 0, or -1 when this failed (job->st; sj->lost if its session did).
 */
static int
put_block(struct ssh_job *sj, const struct hostslot *hsl, struct iovec *in,
    int nin, const char *name)
{
	struct ccmap *c = sj->te->x.c;
	struct spawn_io io = {
		.capture = 1,
		.data = ssh_data,
		.started = ssh_started,
		.opened = ssh_opened,
		.arg = sj,
		.in = in,
		.nin = nin,
		.mux = sj->ctl,
	};

	hosts_put_argv(c->cfg.hosts, hsl, name, &sj->ws->cb);
	spawn_job(&c->cfg.sctx, &sj->ws->cb, sj->ws->env.envp, &io,
	    &sj->job->st);
	if (!job_failed(&sj->job->st))
		return 0;
	sj->lost = session_failed(sj, sj->tail, &sj->ntail, &sj->job->st);
	return -1;
}

/* --- over the host's worker (wconn.h) --------------------------------- */

static void
worker_data(void *arg, int stream, const char *buf, size_t len)
{
	hand_on(arg, stream, buf, len);
}

static void
worker_sent(void *arg, struct wconn *wc, uint64_t id)
{
	struct ssh_job *sj = arg;

	exec_threads_remote(sj->te, sj->ws, wc, id);
}

/* A job for its host's worker, as spawn_io's run runs it. */
struct wrun {
	struct ssh_job *sj;
	const struct hostslot *hsl;
	const struct jobvals *jv;
	const struct iovec *in;
	int nin;
	const char *wd;
	const struct spawn_io *io;	/* where its output goes */
};

static void
wrun_data(void *arg, int stream, const char *buf, size_t len)
{
	struct wrun *r = arg;

	r->io->data(r->io->arg, stream, buf, len);
}

static void
wrun_sent(void *arg, struct wconn *wc, uint64_t id)
{
	struct wrun *r = arg;

	worker_sent(r->sj, wc, id);
}

/*
 * The job over its host's one connection to its ccmap --worker, which
 * runs it (directly, or in /bin/sh) in wd, its output to io.  A
 * connection that fails (or cannot be opened again) loses the job, as a
 * failed session does.  (spawn_io's run.)
 */
static void
worker_run(void *arg, const struct spawn_io *io, struct job_status *st)
{
	struct wrun *r = arg;
	struct ssh_job *sj = r->sj;
	struct ccmap *c = sj->te->x.c;
	struct wstate *ws = sj->ws;
	struct strbuf line = STRBUF_INIT;
	struct wconn_job wj = {
		.seq = r->jv->seq, .slot = r->jv->slot,
		.wd = *r->wd ? r->wd : NULL, .in = r->in, .nin = r->nin,
		.data = wrun_data, .sent = wrun_sent, .arg = r,
	};
	struct wconn *wc;

	r->io = io;
	if (!(wc = hosts_worker(c->cfg.hosts, r->hsl, sj->tail, TAIL_MAX))) {
		sj->ntail = strlen(sj->tail);
		sj->lost = 1;
		*st = (struct job_status){ .code = 255 };
		return;
	}
	/* (ws->scratch holds its line: ssh_run() composed it.) */
	hosts_worker_line(c->cfg.hosts, ws->scratch.buf ? ws->scratch.buf :
	    "", ws->scratch.len, &line);
	wj.cmd = line.buf;
	wj.len = line.len;
	if (wconn_run(wc, &wj, st, sj->tail, TAIL_MAX) < 0) {
		sj->ntail = strlen(sj->tail);
		sj->lost = 1;
		*st = (struct job_status){ .code = 255 };
	}
	exec_threads_remote(sj->te, ws, NULL, 0);
	wconn_release(wc);
	strbuf_release(&line);
}

/* record_settle_fn for a worker's job: no record if it was lost. */
static int
worker_settle(void *arg, struct strbuf *err, const struct job_status *st)
{
	struct ssh_job *sj = arg;

	(void)err;
	(void)st;
	return sj->lost;
}

/*
 * The job over its host's worker; with --results or --json, recorded
 * (record_job(), which hands on what is to be printed).
 */
static void
worker_job(struct ssh_job *sj, const struct hostslot *hsl,
    const struct jobvals *jv, const struct iovec *in, int nin,
    const char *wd)
{
	struct ccmap *c = sj->te->x.c;
	struct spawn_io io = {
		.capture = 1, .data = worker_data, .arg = sj,
		.run = worker_run,
	};
	struct wrun r = { .sj = sj, .hsl = hsl, .jv = jv, .in = in,
	    .nin = nin, .wd = wd };

	io.run_arg = &r;
	if (record_active(c))
		record_job(c, sj->ws, jv, &io, &sj->job->st, worker_settle,
		    sj);
	else
		worker_run(&r, &io, &sj->job->st);
}

static void
worker_mark(void *arg)
{
	struct ssh_job *sj = arg;

	sj->te->x.on.mark(&sj->te->x, sj->job);
}

/*
 * A plugin's batch (--so), mapped by the host's worker in its plugin's
 * worker processes: each item's output marked as it comes, as locally.
 */
static void
worker_batch(struct ssh_job *sj, const struct hostslot *hsl, unsigned slot)
{
	struct ccmap *c = sj->te->x.c;
	struct job *job = sj->job;
	struct wconn_batch b = {
		.first = job->first_item,
		.items = job->items,
		.delim = job->v ? '\0' : c->cfg.opts.delim,
		.bytes = job->store.buf ? job->store.buf : "",
		.len = job->store.len,
	};
	struct wconn_job wj = {
		.seq = job->seq, .slot = slot, .batch = &b,
		.data = worker_data, .mark = worker_mark, .sent = worker_sent,
		.arg = sj,
	};
	struct wconn *wc;

	if (!(wc = hosts_worker(c->cfg.hosts, hsl, sj->tail, TAIL_MAX))) {
		sj->ntail = strlen(sj->tail);
		sj->lost = 1;
		return;
	}
	if (wconn_run(wc, &wj, &job->st, sj->tail, TAIL_MAX) < 0) {
		sj->ntail = strlen(sj->tail);
		sj->lost = 1;
	} else {
		job->ran_items = b.ran;
		job->failed_items = b.failed;
		job->map_ns = b.map_ns;
	}
	exec_threads_remote(sj->te, sj->ws, NULL, 0);
	wconn_release(wc);
}

static void
ssh_run(struct thread_exec *te, struct job *job, struct wstate *ws,
    unsigned slot)
{
	struct ccmap *c = te->x.c;
	struct hosts *hs = c->cfg.hosts;
	struct ssh_job sj = { .te = te, .job = job, .ws = ws };
	struct jobvals jv = { .v = job->v, .n = job->nv, .seq = job->seq,
	    .slot = slot };
	struct iovec in[2];
	struct spawn_io io = {
		.capture = 1,	/* (for the marker; -u writes it as it comes) */
		.data = ssh_data,
		.started = ssh_started,
		.opened = ssh_opened,
		.arg = &sj,
		.hold_in = 1,
	};
	int nin = exec_job_in(c, job, in);
	char block[80];
	struct hostslot hsl;
	int ran = 0;		/* (not when its files did not get there) */
	struct xfer_job xj = { .hs = hs, .slot = &hsl, .jv = &jv,
	    .sctx = &c->cfg.sctx, .started = ssh_started, .arg = &sj };

	if ((job->pinned ? hosts_take_on(hs, job->host, &hsl) :
	    hosts_take(hs, job->host, &hsl)) < 0) {
		/* No host is left: the job cannot run. */
		job->st = (struct job_status){ .err = EHOSTUNREACH,
		    .code = 255 };
		if (c->cfg.plugin) {
			/* (Its items fail, said once for all the batches.) */
			char msg[200];
			snprintf(msg, sizeof msg, "item%s %llu%s%.0llu: no host "
			    "left to map %s, nor the items not mapped yet: they "
			    "fail", job->items > 1 ? "s" : "", job->first_item,
			    job->items > 1 ? "-" : "", job->items > 1 ?
			    job->first_item + job->items - 1 : 0,
			    job->items > 1 ? "them" : "it");
			if (hosts_none_left(hs))
				emit_warn_any(c, msg);
			job->ran_items = job->failed_items = job->items;
		}
		return;
	}
	job->host = hsl.h;
	if (!c->cfg.plugin)
		jobenv_set(&ws->env, job->seq, slot);
	if (host_local(hsl.h)) {
		io.hold_in = 0;
		io.in = nin ? in : NULL;
		io.nin = nin;
		template_argv(c->cfg.tmpl, &jv, &ws->cb);
	} else {
		hosts_ctl(hs, &hsl, sj.ctl, sizeof sj.ctl);
		io.mux = sj.ctl;
		strbuf_reset(&ws->scratch);
		if (!c->cfg.plugin)
			template_line(c->cfg.tmpl, &jv, &ws->scratch);
		if (transfer_before(c->cfg.xfer, &xj, &job->st) < 0) {
			/* (Its files did not get there: job->st says so.) */
			sj.lost = session_failed(&sj, sj.tail, &sj.ntail,
			    &job->st);
			goto ended;
		}
		if (c->cfg.plugin) {
			/* (Every host has a worker: those without were left
			   out.) */
			worker_batch(&sj, &hsl, slot);
			ran = 1;
			goto ended;
		}
		if (host_worker(hsl.h)) {
			worker_job(&sj, &hsl, &jv, in, nin,
			    transfer_workdir(&xj));
			ran = 1;
			goto ended;
		}
		if (nin) {
			hosts_block_name(hs, job->seq, block, sizeof block);
			if (put_block(&sj, &hsl, in, nin, block) < 0)
				goto ended;
		}
		hosts_argv(hs, &hsl, ws->scratch.buf ? ws->scratch.buf : "",
		    ws->scratch.len, job->seq, slot, transfer_workdir(&xj),
		    nin ? block : NULL, &ws->cb);
	}
	if (record_active(c)) {
		record_job(c, ws, &jv, &io, &job->st,
		    host_local(hsl.h) ? NULL : settle, &sj);
	} else {
		spawn_job(&c->cfg.sctx, &ws->cb, ws->env.envp, &io, &job->st);
		sj.lost = !host_local(hsl.h) &&
		    session_failed(&sj, sj.tail, &sj.ntail, &job->st);
	}
	ran = 1;
ended:
	if (sj.lost) {
		/* Not the job's failure: it runs again, elsewhere. */
		job->lost = 1;
		transfer_job_release(&xj);
		hosts_give(hs, &hsl, 0, why(&sj));
		return;
	}
	if (!host_local(hsl.h) && ran)
		transfer_after(c->cfg.xfer, &xj, &job->st);
	else if (!host_local(hsl.h))
		transfer_not_run(c->cfg.xfer, &xj);
	hand_on(&sj, 2, sj.tail, sj.ntail);
	hosts_give(hs, &hsl, 1, NULL);
}

/* The end of the run: --cleanup's basefiles go, unless it was killed. */
static int
ssh_free(struct executor *x, int killed, int unfinished)
{
	if (!killed && !unfinished)
		transfer_end(x->c->cfg.xfer, x->c->cfg.hosts,
		    &x->c->cfg.sctx);
	return exec_threads_free(x, killed, unfinished);
}

static const struct executor_ops ssh_ops = EXEC_THREADS_OPS_FREE("ssh",
    ssh_free);

struct executor *
exec_ssh(struct ccmap *c)
{
	return exec_threads_new(c, &ssh_ops, ssh_run);
}
