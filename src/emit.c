/*
 * emit.c: what the run writes, on the main thread: the jobs' output in
 * input order (or as they finish), their --joblog lines, the header of a
 * --results file of records, and the engine's warnings, each after the
 * prompt and progress lines have made way.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dispatch.h"
#include "emit.h"
#include "engine.h"
#include "hosts.h"
#include "progress.h"
#include "schedule.h"
#include "tty.h"
#include "util.h"

/* Output is about to go to fd: clear the prompt and progress lines. */
void
emit_hide(void *arg, int fd, const char *buf, size_t len)
{
	struct ccmap *c = arg;

	if (c->emit.tty)
		tty_hide(c->emit.tty, fd, buf, len);
	if (c->emit.prog)
		progress_hide(c->emit.prog, fd);
}

void
emit_warn(struct ccmap *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!c->cfg.opts.warn)
		return;
	emit_hide(c, 2, "\n", 1);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	c->cfg.opts.warn(c->cfg.opts.data, msg);
}

void
emit_warn_any(void *arg, const char *msg)
{
	struct ccmap *c = arg;
	struct ccmap_warnq *q = &c->warnq;
	uint64_t one = 1;

	pthread_mutex_lock(&q->lock);
	if (pthread_equal(pthread_self(), q->main)) {
		pthread_mutex_unlock(&q->lock);
		emit_warn(c, "%s", msg);
		return;
	}
	/*
	 * (Another thread may not write it: the prompt and the progress
	 * line are the main thread's, drawn without a lock.)
	 */
	strbuf_add(&q->msgs, msg, strlen(msg) + 1);
	if (q->wake_fd >= 0)
		(void)!write(q->wake_fd, &one, sizeof one);
	pthread_mutex_unlock(&q->lock);
}

void
emit_warn_queued(struct ccmap *c)
{
	struct ccmap_warnq *q = &c->warnq;
	struct strbuf msgs;

	pthread_mutex_lock(&q->lock);
	msgs = q->msgs;
	strbuf_init(&q->msgs, 0);
	pthread_mutex_unlock(&q->lock);
	for (size_t at = 0; at < msgs.len; at += strlen(msgs.buf + at) + 1)
		emit_warn(c, "%s", msgs.buf + at);
	strbuf_release(&msgs);
}

void
emit_warnq_init(struct ccmap *c)
{
	pthread_mutex_init(&c->warnq.lock, NULL);
	strbuf_init(&c->warnq.msgs, 0);
	c->warnq.wake_fd = -1;
	c->warnq.main = pthread_self();
}

void
emit_warnq_start(struct ccmap *c, int wake_fd)
{
	pthread_mutex_lock(&c->warnq.lock);
	c->warnq.main = pthread_self();
	c->warnq.wake_fd = wake_fd;
	pthread_mutex_unlock(&c->warnq.lock);
}

void
emit_warnq_stop(struct ccmap *c)
{
	pthread_mutex_lock(&c->warnq.lock);
	c->warnq.wake_fd = -1;
	pthread_mutex_unlock(&c->warnq.lock);
}

void
emit_warnq_free(struct ccmap *c)
{
	strbuf_release(&c->warnq.msgs);
	pthread_mutex_destroy(&c->warnq.lock);
}

/* Note a write error: a closed pipe quietly, others as errors. */
void
emit_failed(struct ccmap *c, int e)
{
	if (c->sched.stopping && (c->sched.res->broken_pipe ||
	    c->sched.res->error))
		return;
	if (e == -EPIPE) {
		c->sched.res->broken_pipe = 1;
	} else {
		c->sched.res->error = CCMAP_EOUTPUT;
		c->sched.res->output_errno = -e;
	}
	sched_terminate(c, 0);
}

/* Write a --joblog line: to its file, or in order with the output. */
static void
log_write(struct ccmap *c, const char *buf, size_t len)
{
	int r;

	if (joblog_to_stdout(c->emit.joblog)) {
		if ((r = output_emit_text(c->emit.out, 1, buf, len)) < 0)
			emit_failed(c, r);
		return;
	}
	if ((r = joblog_write(c->emit.joblog, buf, len)) < 0 &&
	    !c->sched.res->error) {
		emit_warn(c, "cannot write the joblog '%s': %s",
		    joblog_name(c->emit.joblog), strerror(-r));
		c->sched.res->error = r;
		sched_terminate(c, 0);
	}
}

/* Compose the job's --joblog line, to be written with its output. */
void
emit_log_job(struct ccmap *c, struct job *job)
{
	struct strbuf cmd = STRBUF_INIT;

	dispatch_job_line(c, job, &cmd);
	joblog_format(&job->logline, &(struct joblog_entry){
		.seq = job->seq,
		.host = job->host ? host_name(job->host) : ":",
		.start_ns = job->st.start_ns,
		.run_ns = job->st.run_ns,
		.send = job->sent,
		.receive = job->received +
		    (unsigned long long)job->st.out_bytes,
		.exitval = job->st.timed_out ? -1 : job->st.code,
		.sig = job->st.sig,
		.cmd = cmd.buf ? cmd.buf : "",
		.cmdlen = cmd.len,
	});
	strbuf_release(&cmd);
}

/*
 * --results FILE.csv or .tsv: the header line goes before the first record
 * written, with as many value columns as that job has values.
 */
static void
records_header(struct ccmap *c, size_t nvalues)
{
	struct strbuf line = STRBUF_INIT;
	int r;

	c->emit.rheader = 0;
	results_header(c->cfg.results, &line, nvalues);
	if (!line.len)
		return;
	if ((r = output_flush(c->emit.out)) == 0)
		r = util_write_all(c->emit.rfd, line.buf, line.len);
	if (r < 0)
		emit_failed(c, r);
	strbuf_release(&line);
}

static void
emit_job(struct ccmap *c, struct job *job)
{
	int r;

	if (c->emit.rheader && !job->skipped)
		records_header(c, c->cfg.plugin ? 1 : job->nv);
	if (!job->skipped && !job->killed &&
	    (r = output_emit(c->emit.out, &job->out)) < 0)
		emit_failed(c, r);
	if (job->logline.len)
		log_write(c, job->logline.buf, job->logline.len);
	joboutput_release(c->emit.out, &job->out);
	dispatch_job_free(c, job);
}

/* A held block and the job's --joblog line, to be written after it. */
struct logheld {
	struct held *h;
	char *line;
	size_t len;
};

/*
 * What the reorder buffer holds: a job, or (low bits 1) a held block, or
 * (low bits 2) a struct logheld.
 */
static void
emit_item(struct ccmap *c, void *item)
{
	struct logheld *lh = NULL;
	struct held *h;
	int r;

	switch ((uintptr_t)item & 3) {
	case 0:
		emit_job(c, item);
		return;
	case 1:
		h = (struct held *)((uintptr_t)item & ~(uintptr_t)3);
		break;
	default:
		lh = (struct logheld *)((uintptr_t)item & ~(uintptr_t)3);
		h = lh->h;
		break;
	}
	if (c->emit.rheader)		/* (the first job was not run) */
		records_header(c, input_nsources(c->disp.in) * c->cfg.max_args);
	if ((r = output_emit_held(c->emit.out, h)) < 0)
		emit_failed(c, r);
	if (lh) {
		log_write(c, lh->line, lh->len);
		free(lh->line);
		free(lh);
	}
}

/*
 * In input order, the oldest unfinished job's output is due next: let it
 * through as it comes.
 */
void
emit_promote(struct ccmap *c)
{
	struct job *first = c->sched.ifirst;

	if (c->emit.streams && first && first->seq == c->emit.ro.head)
		output_go_live(c->emit.out, &first->out);
}

/*
 * A job has ended and been counted: its output is written now if it is
 * due (or order does not matter), else held back until it is, folded
 * small (output_hold) with its --joblog line.
 */
void
emit_finished(struct ccmap *c, struct job *job)
{
	if (c->cfg.opts.as_completed || c->cfg.opts.outmode == CCMAP_UNGROUP) {
		emit_job(c, job);
		return;
	}
	struct held *h;
	if (job->seq != c->emit.ro.head && !job->skipped && !job->killed &&
	    (h = output_hold(c->emit.out, &job->out)) != NULL) {
		/* Held back: keep its output, let the rest of the job go. */
		unsigned long long seq = job->seq;
		void *item = (void *)((uintptr_t)h | 1);
		if (job->logline.len) {
			struct logheld *lh = util_malloc(sizeof *lh);
			lh->h = h;
			lh->line = strbuf_detach(&job->logline, &lh->len);
			item = (void *)((uintptr_t)lh | 2);
		}
		dispatch_job_free(c, job);
		reorder_put(&c->emit.ro, seq, item);
	} else {
		reorder_put(&c->emit.ro, job->seq, job);
	}
	for (void *item; (item = reorder_pop(&c->emit.ro)) != NULL; )
		emit_item(c, item);
	emit_promote(c);
}

/*
 * The run is over: the jobs still held (a stopped run) are written, those
 * that finished, past any that never did (an abandoned run).
 */
void
emit_rest(struct ccmap *c)
{
	while (c->emit.ro.count) {
		void *item = reorder_pop(&c->emit.ro);
		if (item)
			emit_item(c, item);
		else
			c->emit.ro.head++;
	}
}
