/*
 * exec-ssh.c: the executor of -S: each job on a slot of one of the hosts
 * (hosts.h), run from a worker thread (exec-threads.c) as an ssh client
 * over its host's master, or on this machine for ":".  A session that
 * fails (ssh's own 255: the host is down, the connection was cut) is not
 * the job's failure: the job is given back to the engine as lost, to run
 * again on another host.
 */
#include <errno.h>
#include <string.h>

#include "exec-threads.h"
#include "hosts.h"
#include "record.h"
#include "transfer.h"
#include "util.h"

/* Bytes of a job's stderr kept back, to see the marker (and why ssh failed). */
#define TAIL_MAX 256

struct ssh_job {
	struct thread_exec *te;
	struct job *job;
	struct wstate *ws;
	char tail[TAIL_MAX];	/* the last of its stderr, not yet handed on */
	size_t ntail;
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

/* ssh's own failure: 255, and no marker from the wrapper. */
static int
session_failed(struct hosts *hs, struct ssh_job *sj,
    const struct job_status *st)
{
	size_t mlen;
	const char *m = hosts_marker(hs, &mlen);

	if (st->err || st->sig || st->code != 255)
		return 0;
	if (sj->ntail >= mlen && !memcmp(sj->tail + sj->ntail - mlen, m,
	    mlen)) {
		sj->ntail -= mlen;	/* the command's own 255 */
		return 0;
	}
	return 1;
}

/* The last line of what ssh said, for a message. */
static const char *
why(struct ssh_job *sj)
{
	char *p;

	while (sj->ntail && (sj->tail[sj->ntail - 1] == '\n' ||
	    sj->tail[sj->ntail - 1] == '\r'))
		sj->ntail--;
	if (sj->ntail == TAIL_MAX)
		sj->ntail--;
	sj->tail[sj->ntail] = '\0';
	p = strrchr(sj->tail, '\n');
	return p ? p + 1 : sj->tail;
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
	struct spawn_io io = {
		.capture = 1,	/* (for the marker; -u writes it as it comes) */
		.data = ssh_data,
		.started = ssh_started,
		.arg = &sj,
		.hold_in = 1,
	};
	struct hostslot hsl;
	struct xfer_job xj = { .hs = hs, .slot = &hsl, .jv = &jv,
	    .sctx = &c->cfg.sctx, .started = ssh_started, .arg = &sj };
	int ran = 1;

	if (hosts_take(hs, job->host, &hsl) < 0) {
		/* No host is left: the job cannot run. */
		job->st = (struct job_status){ .err = EHOSTUNREACH,
		    .code = 255 };
		return;
	}
	job->host = hsl.h;
	if (host_local(hsl.h)) {
		io.hold_in = 0;
		template_argv(c->cfg.tmpl, &jv, &ws->cb);
	} else {
		strbuf_reset(&ws->scratch);
		template_line(c->cfg.tmpl, &jv, &ws->scratch);
		ran = transfer_before(c->cfg.xfer, &xj, &job->st) == 0;
		hosts_argv(hs, &hsl, ws->scratch.buf ? ws->scratch.buf : "",
		    ws->scratch.len, job->seq, slot, transfer_workdir(&xj),
		    &ws->cb);
	}
	jobenv_set(&ws->env, job->seq, slot);
	if (!ran)
		;	/* (its files did not get there: job->st says so) */
	else if (record_active(c))
		record_job(c, ws, &jv, &io, &job->st);
	else
		spawn_job(&c->cfg.sctx, &ws->cb, ws->env.envp, &io, &job->st);
	/* (--results, --json: the records have the marker, if any.) */
	if (!host_local(hsl.h) && !record_active(c) &&
	    session_failed(hs, &sj, &job->st)) {
		/* Not the job's failure: it runs again, elsewhere. */
		job->lost = 1;
		transfer_job_release(&xj);
		hosts_give(hs, &hsl, 0, why(&sj));
		return;
	}
	if (!host_local(hsl.h))
		transfer_after(c->cfg.xfer, &xj, &job->st);
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
