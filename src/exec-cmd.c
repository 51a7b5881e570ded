/*
 * exec-cmd.c: the command executor: a job's command line made and run (or
 * printed, --dry-run), on a worker thread (exec-threads.c) or in a worker
 * process (procpool.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exec-threads.h"
#include "procpool.h"
#include "record.h"
#include "util.h"

/* Is a job's output captured (else the job writes to ccmap's own)? */
static int
captured(const struct ccmap *c)
{
	return c->cfg.opts.outmode != CCMAP_UNGROUP || c->cfg.opts.dry_run;
}

/*
 * --dry-run: the job's output is its command line, which goes through the
 * output like any job's (captured even with -u).
 */
static void
print_job(struct ccmap *c, struct wstate *ws, const struct jobvals *jv,
    const struct spawn_io *io, struct job_status *st)
{
	strbuf_reset(&ws->scratch);
	template_line(c->cfg.tmpl, jv, &ws->scratch);
	strbuf_addch(&ws->scratch, '\n');
	memset(st, 0, sizeof *st);
	io->data(io->arg, 1, ws->scratch.buf, ws->scratch.len);
}

/* Run one job to its end, in whichever worker. */
static void
run_job(struct ccmap *c, struct wstate *ws, const struct jobvals *jv,
    const struct spawn_io *io, struct job_status *st)
{
	if (c->cfg.opts.dry_run) {
		print_job(c, ws, jv, io, st);
		return;
	}
	template_argv(c->cfg.tmpl, jv, &ws->cb);
	jobenv_set(&ws->env, jv->seq, jv->slot);
	if (record_active(c))
		record_job(c, ws, jv, io, st, NULL, NULL);
	else
		spawn_job(&c->cfg.sctx, &ws->cb, ws->env.envp, io, st);
}

/* --- on worker threads --------------------------------------------------- */

struct thread_job {
	struct thread_exec *te;
	struct job *job;
	struct wstate *ws;
};

static void
thread_data(void *arg, int stream, const char *buf, size_t len)
{
	struct thread_job *tj = arg;

	tj->te->x.on.data(&tj->te->x, tj->job, stream, buf, len);
}

static void
thread_started(void *arg, pid_t pid)
{
	struct thread_job *tj = arg;

	exec_threads_started(tj->te, tj->ws, pid);
}

static void
thread_run(struct thread_exec *te, struct job *job, struct wstate *ws,
    unsigned slot)
{
	struct ccmap *c = te->x.c;
	struct thread_job tj = { te, job, ws };
	struct iovec in[2];
	struct spawn_io io = {
		.capture = captured(c),
		.data = thread_data,
		.started = thread_started,
		.arg = &tj,
	};

	if ((io.nin = exec_job_in(c, job, in)) > 0)
		io.in = in;
	run_job(c, ws, &(struct jobvals){ .v = job->v, .n = job->nv,
	    .seq = job->seq, .slot = slot }, &io, &job->st);
}

static const struct executor_ops thread_ops = EXEC_THREADS_OPS("threads");

struct executor *
exec_cmd_threads(struct ccmap *c)
{
	return exec_threads_new(c, &thread_ops, thread_run);
}

/* --- in worker processes -------------------------------------------------- */

struct proc_exec {
	struct executor x;
	struct procpool *pp;
	struct wstate ws;	/* a worker process's own */
	struct jobvals *jv;	/* a chunk's, as it is submitted */
};

static struct proc_exec *
proc_exec(struct executor *x)
{
	return (struct proc_exec *)x;
}

/* In a worker process: run one job. */
static void
proc_job(void *arg, const struct jobvals *jv, const struct spawn_io *io,
    struct job_status *st)
{
	struct proc_exec *pe = arg;

	run_job(pe->x.c, &pe->ws, jv, io, st);
}

static void
proc_data(void *arg, void *cookie, int stream, const char *buf, size_t len)
{
	struct proc_exec *pe = arg;

	pe->x.on.data(&pe->x, cookie, stream, buf, len);
}

static void
proc_done(void *arg, void *cookie, const struct job_status *st)
{
	struct proc_exec *pe = arg;
	struct job *job = cookie;

	if (st->err == ECANCELED)
		job->skipped = 1;	/* the run was stopping */
	else
		job->st = *st;
	pe->x.on.done(&pe->x, job);
}

static int
proc_start(struct executor *x)
{
	struct proc_exec *pe = proc_exec(x);
	struct ccmap *c = x->c;
	struct procpool_ops ops = {
		.job = proc_job,
		.capture = captured(c),
		.max_tasks = c->cfg.opts.max_tasks,
		.data = proc_data,
		.done = proc_done,
		.arg = pe,
		.guard = x->guard,
	};

	exec_wstate_init(&pe->ws, x);
	return procpool_new(&pe->pp, c->cfg.jobs, &ops, c->cfg.sctx.devnull);
}

static void
proc_submit(struct executor *x, struct job **jobs, size_t n)
{
	struct proc_exec *pe = proc_exec(x);

	for (size_t i = 0; i < n; i++)
		pe->jv[i] = (struct jobvals){ .v = jobs[i]->v,
		    .n = jobs[i]->nv, .seq = jobs[i]->seq };
	procpool_submit(pe->pp, (void *const *)jobs, pe->jv, n);
}

static void
proc_kill(struct executor *x, int sig)
{
	procpool_kill(proc_exec(x)->pp, sig);
}

/* SIGHUP: the workers start no more jobs; the running ones go on. */
static void
proc_hangup(struct executor *x)
{
	procpool_kill(proc_exec(x)->pp, 0);
}

/* Worker processes can be killed, and are reaped as they go. */
static int
proc_abandon(struct executor *x)
{
	procpool_abandon(proc_exec(x)->pp);
	return 0;
}

static unsigned
proc_running(struct executor *x)
{
	return procpool_busy(proc_exec(x)->pp);
}

static size_t
proc_nfds(struct executor *x)
{
	return procpool_nfds(proc_exec(x)->pp);
}

static size_t
proc_pollfds(struct executor *x, struct pollfd *fds)
{
	return procpool_pollfds(proc_exec(x)->pp, fds);
}

static int
proc_handle(struct executor *x, const struct pollfd *fds, size_t n)
{
	return procpool_handle(proc_exec(x)->pp, fds, n);
}

static int
proc_free(struct executor *x, int killed, int unfinished)
{
	struct proc_exec *pe = proc_exec(x);

	(void)unfinished;
	if (pe->pp) {
		if (killed)
			procpool_kill(pe->pp, SIGKILL);
		procpool_free(pe->pp);
		exec_wstate_release(&pe->ws);
	}
	free(pe->jv);
	free(pe);
	return 0;
}

static const struct executor_ops proc_ops = {
	.name = "processes",
	.start = proc_start,
	.submit = proc_submit,
	.kill = proc_kill,
	.hangup = proc_hangup,
	.abandon = proc_abandon,
	.running = proc_running,
	.nfds = proc_nfds,
	.pollfds = proc_pollfds,
	.handle = proc_handle,
	.free = proc_free,
};

struct executor *
exec_cmd_procs(struct ccmap *c)
{
	struct proc_exec *pe = util_calloc(1, sizeof *pe);

	pe->x = (struct executor){ .ops = &proc_ops, .c = c };
	pe->jv = util_calloc(c->cfg.chunksize, sizeof *pe->jv);
	/*
	 * No job waits queued behind another in a worker (a free one would
	 * have run it, as GNU parallel does); with --chunksize N a chunk's
	 * jobs do, by request.
	 */
	pe->x.capacity = (size_t)c->cfg.jobs * c->cfg.chunksize;
	return &pe->x;
}
