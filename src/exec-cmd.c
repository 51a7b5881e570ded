/*
 * exec-cmd.c: the command executor: a job's command line made and run (or
 * printed, --dry-run), on a worker thread or in a worker process.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "exec.h"
#include "guard.h"
#include "procpool.h"
#include "record.h"
#include "schedule.h"
#include "util.h"

/* --dry-run: the job's output is its command line. */
static void
print_job(struct ccmap *c, struct wstate *ws, const struct jobvals *jv,
    const struct spawn_io *io, struct job_status *st)
{
	strbuf_reset(&ws->scratch);
	template_line(c->cfg.tmpl, jv, &ws->scratch);
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
	if (c->cfg.opts.dry_run) {
		print_job(c, ws, jv, io, st);
		return;
	}
	template_argv(c->cfg.tmpl, jv, &ws->cb);
	jobenv_set(&ws->env, jv->seq, jv->slot);
	if (record_active(c))
		record_job(c, ws, jv, io, st);
	else
		spawn_job(&c->cfg.sctx, &ws->cb, ws->env.envp, io, st);
}

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
	output_data(tj->c->emit.out, &tj->job->out, stream, buf, len);
}

static void
thread_started(void *arg, pid_t pid)
{
	struct thread_job *tj = arg;
	int sig;

	pthread_mutex_lock(&tj->c->pid_lock);
	tj->ws->pid = pid;
	guard_set(tj->c->sched.guard, (unsigned)(tj->ws - tj->c->ws), pid);
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
	at = c->last_start ? c->last_start + c->cfg.opts.delay_ns : now;
	if (at > now) {
		struct timespec ts = { (at - now) / 1000000000,
		    (at - now) % 1000000000 };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	c->last_start = at > now ? at : now;
	pthread_mutex_unlock(&c->delay_lock);
}

void
exec_cmd_thread_work(struct tp_work *w, unsigned worker, void *arg)
{
	struct ccmap *c = arg;
	struct job *job = container_of(w, struct job, work), *next;
	unsigned slot = w->slot;	/* (w goes with the first job) */

	for (; job; job = next) {
		struct thread_job tj = { c, job, &c->ws[worker] };
		struct iovec in[2];
		struct spawn_io io = {
			.capture = c->cfg.opts.outmode != CCMAP_UNGROUP,
			.data = thread_data,
			.started = thread_started,
			.arg = &tj,
		};

		if (job->blk.buf) {
			const char *h;
			blocks_header(c->disp.blocks, &h, &in[0].iov_len);
			in[0].iov_base = (void *)h;
			in[1].iov_base = (void *)job->blk.p;
			in[1].iov_len = job->blk.len;
			io.in = in;
			io.nin = 2;
		}

		next = job->chunk_next;
		if (c->cfg.opts.delay_ns)
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
		output_end(c->emit.out, &job->out);
		threadpool_complete(c->tp, &job->work);
	}
}

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
	output_data_main(c->emit.out, &job->out, stream, buf, len);
}

static void
proc_done(void *arg, void *cookie, const struct job_status *st)
{
	struct job *job = cookie;

	if (st->err == ECANCELED)
		job->skipped = 1;	/* the run was stopping */
	else
		job->st = *st;
	sched_finish(arg, job);
}

void
exec_cmd_proc_ops(struct ccmap *c, struct procpool_ops *ops)
{
	*ops = (struct procpool_ops){
		.job = proc_job,
		.capture = c->cfg.opts.outmode != CCMAP_UNGROUP,
		.max_tasks = c->cfg.opts.max_tasks,
		.data = proc_data,
		.done = proc_done,
		.arg = c,
		.guard = c->sched.guard,
	};
}
