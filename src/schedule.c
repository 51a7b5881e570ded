/*
 * schedule.c: jobs handed to the executor and taken back (main thread):
 * room in flight, --delay, -p's question, --retries, --halt and the
 * backlog it needs, the kill sequence (--termseq), and each job counted
 * and passed on to emit.c as it ends.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "emit.h"
#include "engine.h"
#include "exec.h"
#include "hosts.h"
#include "procpool.h"
#include "progress.h"
#include "record.h"
#include "schedule.h"
#include "signals.h"
#include "termseq.h"
#include "tty.h"
#include "util.h"

/* Stop starting jobs, and send sig to the running ones. */
void
sched_kill(struct ccmap *c, int sig)
{
	c->sched.stopping = 1;
	c->sched.x->ops->kill(c->sched.x, sig);
}

/*
 * The next step of the kill sequence (--termseq), or its end: SIGKILL to
 * what still runs, if the last step did not send it, and with threads the
 * run ends, whatever they are still on (c->sched.abandon).  A step comes only
 * while jobs run: the loop ends as soon as none is left.
 */
void
sched_term_next(struct ccmap *c)
{
	const struct ccmap_termseq *ts = termseq_get(&c->cfg.opts.termseq);
	const struct ccmap_termstep *step;
	int sig;

	if (c->sched.term_step >= ts->n) {
		if (c->sched.term_last != SIGKILL)
			sched_kill(c, SIGKILL);
		/* What still runs, the executor gives up on, or cannot. */
		if (c->sched.x->ops->abandon(c->sched.x))
			c->sched.abandon = 1;
		c->sched.kill_at = 0;
		return;
	}
	step = &ts->step[c->sched.term_step];
	sig = c->sched.term_step == 0 && c->sched.term_first ?
	    c->sched.term_first : step->sig;
	c->sched.term_step++;
	c->sched.term_last = sig;
	sched_kill(c, sig);
	c->sched.kill_at = util_now_ns() + step->ms * 1000000LL;
}

/*
 * Stop the run: no new job, and the kill sequence for the running ones,
 * with first (when not 0) in place of its first signal.  Once begun, it
 * goes its way.
 */
void
sched_terminate(struct ccmap *c, int first)
{
	if (c->sched.term_step)
		return;
	c->sched.term_first = first;
	sched_term_next(c);
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

	if (job->killed || c->sched.res->signal || c->sched.res->error ||
	    c->sched.res->broken_pipe)
		return;
	if (!notice && !st->err && !st->timed_out &&
	    (!st->sig || st->sig == SIGPIPE))
		return;
	dispatch_job_line(c, job, &line);
	if (st->timed_out)
		emit_warn(c, "job %llu: '%s': timed out", job->seq, line.buf);
	else if (st->err == ENOENT)
		emit_warn(c, "job %llu: '%s': command not found", job->seq,
		    line.buf);
	else if (st->err)
		emit_warn(c, "job %llu: '%s': cannot run: %s", job->seq,
		    line.buf, strerror(st->err));
	else if (st->sig)
		emit_warn(c, "job %llu: '%s': killed by %s", job->seq, line.buf,
		    signal_name(st->sig, name));
	else if (st->code || strcmp(notice, "succeeded"))
		emit_warn(c, "job %llu: '%s': %s with exit status %d", job->seq,
		    line.buf, notice, st->code);
	else
		emit_warn(c, "job %llu: '%s': %s", job->seq, line.buf, notice);
	strbuf_release(&line);
}

/* Jobs waiting in a queue of their own (c->sched.retry, c->sched.backlog). */
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
	if (job->lost && !c->sched.stopping) {
		/* Its host failed it (-S): again, as if not yet run. */
		job->lost = 0;
		job->attempts--;
		c->sched.halt.started--;
		jobq_push(&c->sched.retry, job);
		return 1;
	}
	if (c->cfg.opts.retries < 2 || job->attempts >= c->cfg.opts.retries ||
	    c->sched.stopping || !job_failed(&job->st))
		return 0;
	report(c, job, NULL);
	job->reported = 1;
	jobq_push(&c->sched.retry, job);
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
	size_t running = c->sched.inflight - c->sched.retry.n;

	if (when == CCMAP_HALT_SOON) {
		c->sched.stopping = 1;
		if (c->sched.x->ops->hold)
			c->sched.x->ops->hold(c->sched.x);
		if (running)
			emit_warn(c, "starting no more jobs, waiting for %zu "
			    "job%s to finish", running,
			    running == 1 ? "" : "s");
		return;
	}
	if (when != CCMAP_HALT_NOW || c->sched.halting_now)
		return;
	c->sched.halting_now = 1;
	for (struct job *j = c->sched.ifirst; j && !c->cfg.plugin; j = j->inext)
		j->killed = 1;
	sched_terminate(c, 0);
}

/* Count a finished job, or a plugin's batch, for --halt and the result. */
static void
count(struct ccmap *c, struct job *job)
{
	enum ccmap_halt_when when;

	if (c->cfg.plugin) {
		c->sched.res->started += job->ran_items;
		c->sched.res->failed += job->failed_items;
		c->sched.halt.started += job->ran_items;
		when = halt_count_items(&c->sched.halt, job->ran_items,
		    job->failed_items);
		if (job->map_ns)
			dispatch_item_time(c, job->map_ns, job->ran_items);
	} else {
		int failed = job_failed(&job->st);
		c->sched.res->started++;
		c->sched.res->failed += failed;
		if (!job->reported)
			report(c, job, halt_notice(&c->sched.halt, failed));
		when = halt_count(&c->sched.halt, failed, job_exit(&job->st));
		if (c->emit.joblog)
			emit_log_job(c, job);
	}
	halt_act(c, when);
}

void
sched_finish(struct ccmap *c, struct job *job)
{
	/* (A plugin's batch runs again only when its host lost it.) */
	if (!job->skipped && !job->killed && (!c->cfg.plugin || job->lost) &&
	    retry(c, job))
		return;		/* it stays in flight, in c->sched.retry */
	*(job->iprev ? &job->iprev->inext : &c->sched.ifirst) = job->inext;
	*(job->inext ? &job->inext->iprev : &c->sched.ilast) = job->iprev;
	c->sched.inflight--;
	block_release(&job->blk);	/* read or not, it is done with */
	if (c->emit.prog)
		progress_done(c->emit.prog, c->cfg.plugin ? job->items : 1);
	if (job->killed)
		c->sched.res->started++;
	else if (!job->skipped)
		count(c, job);
	emit_finished(c, job);
}

/* Hand jobs (already tracked) to the executor, as one chunk. */
static void
post(struct ccmap *c, struct job **chunk, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		chunk[i]->attempts++;
		chunk[i]->chunk_next = NULL;
	}
	c->sched.halt.started += n;
	if (c->cfg.opts.delay_ns)
		c->sched.next_start = util_now_ns() + c->cfg.opts.delay_ns;
	c->sched.x->ops->submit(c->sched.x, chunk, n);
}

/* Count jobs in flight, among the unfinished ones by seq. */
static void
track(struct ccmap *c, struct job **chunk, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct job *job = chunk[i];
		job->iprev = c->sched.ilast;
		if (c->sched.ilast)
			c->sched.ilast->inext = job;
		else
			c->sched.ifirst = job;
		c->sched.ilast = job;
		if (c->emit.prog)
			progress_started(c->emit.prog, c->cfg.plugin ? NULL :
			    job->store.buf, c->cfg.plugin ? 0 : job->nv ?
			    job->v[0].len : 0);
	}
	c->sched.inflight += n;
}

/* Hand one chunk of jobs to the pool. */
static void
submit(struct ccmap *c, struct job **chunk, size_t n)
{
	track(c, chunk, n);
	emit_promote(c);
	post(c, chunk, n);
}

/* --onall over -S: every job runs on every host. */
static int
onall(const struct ccmap *c)
{
	return c->cfg.hosts && c->cfg.opts.onall;
}

/*
 * --onall, once every job is known (held in the backlog): each runs on
 * every host.  The first host's jobs are the jobs read, the others' are
 * copies numbered on from the last, host after host; each host's go to
 * the pool as one chunk, so that a worker runs them in turn, in input
 * order, and the -j workers are that many hosts at a time.  In input
 * order, the output comes host by host, as GNU parallel's -k gives it.
 */
static void
onall_start(struct ccmap *c)
{
	size_t n = c->sched.backlog.n, nh = 0;
	const struct host *h;
	struct job **v;

	for (h = hosts_next(c->cfg.hosts, NULL); h;
	    h = hosts_next(c->cfg.hosts, h))
		nh++;
	v = util_calloc(n * nh, sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = jobq_pop(&c->sched.backlog);
	/* (All copied before any runs: the pool ends none meanwhile.) */
	for (size_t k = n; k < n * nh; k++)
		v[k] = dispatch_job_copy(c, v[k % n]);
	h = hosts_next(c->cfg.hosts, NULL);
	for (size_t k = 0; k < n * nh; k += n, h = hosts_next(c->cfg.hosts, h)) {
		for (size_t i = 0; i < n; i++)
			dispatch_pin(c, v[k + i], h);
		submit(c, v + k, n);
	}
	c->sched.halt.total = c->disp.next_seq;
	if (c->emit.prog)
		dispatch_show_total(c);
	free(v);
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
		if ((c->emit.joblog && joblog_skip(c->emit.joblog,
		    chunk[i]->seq)) || (c->cfg.results &&
		    record_done_before(c, chunk[i]))) {
			chunk[i]->skipped = 1;
			track(c, &chunk[i], 1);
			sched_finish(c, chunk[i]);
		} else if (c->sched.backlogging || onall(c)) {
			/* (--onall: also the jobs made as the input ends.) */
			jobq_push(&c->sched.backlog, chunk[i]);
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

	if (c->sched.asking || c->sched.stopping ||
	    !(job = jobq_pop(&c->sched.askq)))
		return;
	dispatch_job_line(c, job, &line);
	c->sched.asking = job;
	tty_ask(c->emit.tty, line.buf ? line.buf : "");
	strbuf_release(&line);
}

void
sched_answer(void *arg, int yes)
{
	struct ccmap *c = arg;
	struct job *job = c->sched.asking;

	if (!job)
		return;
	c->sched.asking = NULL;
	if (yes && !c->sched.stopping) {
		give_now(c, &job, 1);
	} else {
		/* Declined: skipped, as if the run had not come to it. */
		job->skipped = 1;
		track(c, &job, 1);
		sched_finish(c, job);
	}
	ask_next(c);
}

/* New jobs; with -p, each waits for its answer first. */
void
sched_give(struct ccmap *c, struct job **chunk, size_t n)
{
	if (!c->cfg.opts.interactive) {
		give_now(c, chunk, n);
		return;
	}
	for (size_t i = 0; i < n; i++)
		jobq_push(&c->sched.askq, chunk[i]);
	ask_next(c);
}

int
sched_room(const struct ccmap *c)
{
	return c->sched.inflight < c->sched.capacity &&
	    c->disp.next_seq + 1 - c->emit.ro.head < WINDOW;
}

/* May a job start now?  (--delay, and a stopping run.) */
int
sched_may_start(struct ccmap *c)
{
	if (c->sched.stopping)
		return 0;
	if (c->cfg.opts.delay_ns && util_now_ns() < c->sched.next_start) {
		c->sched.delaying = 1;
		return 0;
	}
	return 1;
}

/*
 * Start what waits: failed jobs again (--retries), then jobs held back
 * until all were known (--halt N%).  A stopping run drops the retries:
 * each ends with its last attempt.
 */
void
sched_start_waiting(struct ccmap *c)
{
	struct job *job;

	c->sched.delaying = 0;
	if (c->sched.stopping) {
		while ((job = jobq_pop(&c->sched.retry)) != NULL)
			sched_finish(c, job);
		return;
	}
	while (c->sched.retry.first && sched_may_start(c)) {
		job = jobq_pop(&c->sched.retry);
		joboutput_release(c->emit.out, &job->out);
		const char *tag = job->out.tag;
		size_t taglen = job->out.taglen;
		joboutput_init(&job->out);
		job->out.tag = tag;
		job->out.taglen = taglen;
		job->received = 0;
		job->reported = 0;
		job->ran_items = job->failed_items = 0;
		job->map_ns = 0;
		/* (It may be due: its output was reset.) */
		emit_promote(c);
		post(c, &job, 1);
	}
	if (onall(c) && c->disp.input_done && c->sched.backlog.first)
		onall_start(c);
	while (!c->sched.backlogging && c->sched.backlog.first &&
	    sched_room(c) && sched_may_start(c)) {
		job = jobq_pop(&c->sched.backlog);
		submit(c, &job, 1);
	}
}

/* The run is over: the jobs made that will not run now are let go. */
void
sched_drop(struct ccmap *c)
{
	if (c->disp.pending) {	/* a stopped run */
		dispatch_job_free(c, c->disp.pending);
		c->disp.pending = NULL;
	}
	for (struct job *job; (job = jobq_pop(&c->sched.backlog)) != NULL; )
		dispatch_job_free(c, job);
	for (struct job *job; (job = jobq_pop(&c->sched.askq)) != NULL; )
		dispatch_job_free(c, job);
	if (c->sched.asking) {	/* a stopped run, while asking */
		dispatch_job_free(c, c->sched.asking);
		c->sched.asking = NULL;
	}
}
