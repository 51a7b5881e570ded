/*
 * loop.c: ccmap_run(): the executor started, the poll loop that feeds it
 * jobs and takes back what they did, signals, and the end of the run.
 */
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dispatch.h"
#include "emit.h"
#include "engine.h"
#include "exec.h"
#include "guard.h"
#include "loop.h"
#include "progress.h"
#include "schedule.h"
#include "signals.h"
#include "termseq.h"
#include "tty.h"
#include "util.h"

/* Before waiting: draw them again. */
static void
screen_show(struct ccmap *c)
{
	if (c->emit.tty)
		tty_show(c->emit.tty);
	if (c->emit.prog) {
		/* Jobs running now, not those waiting in a queue. */
		progress_running(c->emit.prog,
		    c->sched.x->ops->running(c->sched.x));
		progress_draw(c->emit.prog);
	}
}

/*
 * SIGHUP, as in GNU parallel: no new job starts, the running ones finish
 * (a plugin's items, not its batches), and the run ends as it would have.
 */
static void
hangup(struct ccmap *c)
{
	if (c->sched.stopping)
		return;
	c->sched.stopping = 1;
	c->sched.x->ops->hangup(c->sched.x);
	emit_warn(c, "SIGHUP: starting no more jobs, waiting for the running "
	    "ones to finish (SIGTERM stops them)");
}

/*
 * The executor cannot go on (a plugin called exit() on a worker thread):
 * say so, and stop the run.
 */
static void
exec_failed(struct ccmap *c)
{
	struct executor *x = c->sched.x;
	char msg[256];

	if (!x->ops->failure || !x->ops->failure(x, msg, sizeof msg))
		return;
	emit_warn(c, "%s", msg);
	if (!c->sched.res->error)
		c->sched.res->error = CCMAP_EPLUGIN;
	sched_terminate(c, 0);
}

static void
on_signal(struct ccmap *c, int sig)
{
	if (sig == SIGWINCH) {
		if (c->emit.tty)
			tty_resize(c->emit.tty);
		if (c->emit.prog)
			progress_resize(c->emit.prog);
		return;
	}
	if (sig == SIGNALS_PLUGIN_EXIT) {
		exec_failed(c);
		return;
	}
	if (c->emit.tty)
		tty_stop(c->emit.tty);
	if (sig == SIGHUP) {
		hangup(c);
	} else if (!c->sched.res->signal) {
		/* Jobs get SIGINT or SIGTERM first; SIGQUIT, the sequence. */
		c->sched.res->signal = sig;
		sched_terminate(c, sig == SIGQUIT ? 0 : sig);
	} else if (!c->sched.abandon) {
		/* Again: kill now, and end soon after (as after KILL,25). */
		sched_kill(c, SIGKILL);
		c->sched.term_step = termseq_get(&c->cfg.opts.termseq)->n;
		c->sched.term_last = SIGKILL;
		c->sched.kill_at = util_now_ns() + 25 * 1000000LL;
	}
}

/*
 * The guard (guard.h) is forked once the run has gone on this long: a
 * shorter run is not worth the fork.
 */
#define GUARD_DELAY_NS (10 * 1000000LL)

/*
 * How long poll may wait: until a plugin item's deadline, the next start
 * (--delay), the next step of the kill sequence or the guard's start; -1
 * for as long as it takes.
 */
static int
wait_ms(struct ccmap *c)
{
	struct executor *x = c->sched.x;
	int ms = x->ops->timeout_ms ? x->ops->timeout_ms(x) : -1;
	long long at = c->sched.kill_at, left;

	if (c->emit.prog && (ms < 0 || progress_timeout_ms(c->emit.prog) < ms))
		ms = progress_timeout_ms(c->emit.prog);
	if (c->sched.delaying && (!at || c->sched.next_start < at))
		at = c->sched.next_start;
	if (c->sched.guard_at && (!at || c->sched.guard_at < at))
		at = c->sched.guard_at;
	if (!at)
		return ms;
	left = (at - util_now_ns() + 999999) / 1000000;
	left = left < 0 ? 0 : left > INT_MAX ? INT_MAX : left;
	return ms < 0 || left < ms ? (int)left : ms;
}

/*
 * The engine cannot go on (poll failed, a worker's pipe broke): say so on
 * one line and kill the running jobs at once, since nothing could wait for
 * them to end; ccmap_run() drops the jobs still in flight.  Returns e.
 */
static int
engine_failed(struct ccmap *c, int e, const char *what)
{
	emit_warn(c, "%s: %s; killing the running jobs", what, strerror(-e));
	c->sched.res->error = e;
	sched_kill(c, SIGKILL);
	return e;
}

/* Run the jobs to their end: 0, or the engine's error (-errno). */
static int
loop(struct ccmap *c)
{
	struct executor *x = c->sched.x;
	size_t nfds = 2 + x->ops->nfds(x);
	struct pollfd *fds = util_calloc(nfds, sizeof *fds);
	int r, err = 0;

	for (;;) {
		dispatch_jobs(c);
		if (c->emit.prog)
			dispatch_show_total(c);
		if (c->sched.inflight == 0 && (c->sched.stopping ||
		    (c->disp.input_done && !c->sched.backlog.first &&
		    !c->sched.asking)))
			break;
		if (c->sched.abandon)
			break;	/* the kill sequence is over */
		if ((r = output_flush(c->emit.out)) < 0)
			emit_failed(c, r);
		screen_show(c);

		size_t n = 0;
		/* The terminal, when it is read, else the input. */
		int ttyfd = c->emit.tty && !c->sched.stopping ?
		    tty_fd(c->emit.tty) : -1;
		/* (Read ahead, or counted, for --bar and --eta.) */
		int ahead = c->disp.in && input_reads_ahead(c->disp.in);
		int counting = c->disp.in && !c->sched.stopping &&
		    input_count_pending(c->disp.in);
		int fd = ttyfd;
		if (fd < 0 && (c->disp.need_input || ahead) &&
		    !c->sched.stopping)
			fd = c->disp.blocks ? blocks_fd(c->disp.blocks) :
			    input_fd(c->disp.in);
		fds[n++] = (struct pollfd){ .fd = signals_fd(),
		    .events = POLLIN };
		fds[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
		n += x->ops->pollfds(x, fds + n);
		if (poll(fds, n, counting ? 0 : wait_ms(c)) < 0) {
			if (errno == EINTR)
				continue;
			err = engine_failed(c, -errno, "poll failed");
			break;
		}
		if (counting)
			input_count_step(c->disp.in);
		if (c->sched.kill_at && util_now_ns() >= c->sched.kill_at) {
			c->sched.kill_at = 0;
			sched_term_next(c);
		}
		if (c->sched.guard_at && util_now_ns() >= c->sched.guard_at) {
			c->sched.guard_at = 0;
			guard_start(c->sched.guard);
		}
		if (fds[0].revents) {
			int sig;
			while ((sig = signals_take()) != 0)
				on_signal(c, sig);
		}
		if (fds[1].revents && ttyfd >= 0) {
			tty_read(c->emit.tty);
		} else if (fds[1].revents) {
			struct blocks *b = c->disp.blocks;
			long got = b ? blocks_fill(b) : input_fill(c->disp.in);
			if (got < 0) {
				emit_warn(c, "cannot read '%s': %s", b ?
				    c->cfg.pipe_name : input_name(c->disp.in),
				    strerror((int)-got));
				c->sched.res->error = (int)got;
				sched_terminate(c, 0);
			}
		}
		/* (Before the jobs they came from end, as they came.) */
		emit_warn_queued(c);
		if ((r = x->ops->handle(x, fds + 2, n - 2)) < 0) {
			err = engine_failed(c, r, "lost a worker process");
			break;
		}
	}
	free(fds);
	if ((r = output_flush(c->emit.out)) < 0)
		emit_failed(c, r);
	return err;
}

/* What the executor's jobs do, handed to the core. */
static void
on_data(struct executor *x, struct job *job, int stream, const char *buf,
    size_t len)
{
	struct output *out = x->c->emit.out;

	if (stream == 1)
		job->received += len;
	if (x->threads)
		output_data(out, &job->out, stream, buf, len);
	else
		output_data_main(out, &job->out, stream, buf, len);
}

static void
on_mark(struct executor *x, struct job *job)
{
	if (x->threads)
		output_mark(x->c->emit.out, &job->out);
	else
		output_mark_main(x->c->emit.out, &job->out);
}

static void
on_end(struct executor *x, struct job *job)
{
	output_end(x->c->emit.out, &job->out);
}

static void
on_started(struct executor *x, unsigned slot, pid_t pgid)
{
	guard_set(x->c->sched.guard, slot, pgid);
}

static void
on_done(struct executor *x, struct job *job)
{
	sched_finish(x->c, job);
}

static void
on_timing(struct executor *x, long long ns, size_t items)
{
	dispatch_item_time(x->c, ns, items);
}

static const struct exec_hooks hooks = {
	.data = on_data,
	.mark = on_mark,
	.end = on_end,
	.started = on_started,
	.done = on_done,
	.timing = on_timing,
};

int
ccmap_run(struct ccmap *c, struct ccmap_result *res)
{
	return loop_run(c, res, NULL);
}

int
loop_run(struct ccmap *c, struct ccmap_result *res, struct executor *given)
{
	struct output_opts oo = {
		.linebuffer = c->cfg.opts.outmode == CCMAP_LINEBUFFER,
		.ordered = c->cfg.opts.keep_order && !c->cfg.opts.as_completed,
		.mem_limit = c->cfg.opts.mem_limit,
		.tmpdir = c->cfg.opts.tmpdir,
		.fd = { c->emit.rfd >= 0 ? c->emit.rfd : 1, 2 },
		.wake_fd = -1,
		.before_write = emit_hide,
		.hook_arg = c,
	};
	int r;

	memset(res, 0, sizeof *res);
	c->sched.res = res;
	reorder_init(&c->emit.ro, 1);
	output_new(&c->emit.out, &oo);
	if ((r = signals_init()) < 0) {
		emit_warn(c, "cannot catch signals: %s", strerror(-r));
		res->error = r;
		goto out;
	}
	if (c->cfg.opts.show) {
		c->emit.prog = progress_new(c->cfg.opts.show, 2, c->cfg.jobs);
		/* Items typed at the prompt: the display waits for Ctrl-D. */
		progress_pause(c->emit.prog, c->cfg.opts.readline);
		/* It is drawn as it goes: count the items ahead for it. */
		if (c->disp.in && isatty(2))
			input_count_ahead(c->disp.in, c->cfg.opts.mem_limit,
			    c->cfg.opts.tmpdir);
	}
	if (c->emit.tty || c->emit.prog)
		signals_add_winch();
	if (!c->cfg.plugin && !c->cfg.opts.dry_run &&
	    (r = guard_new(&c->sched.guard, c->cfg.jobs)) == 0)
		c->sched.guard_at = util_now_ns() + GUARD_DELAY_NS;
	if (r == 0) {
		struct executor *x = given ? given : exec_new(c);
		x->on = hooks;
		x->guard = c->sched.guard;
		c->sched.x = x;
		if (x->capacity && c->sched.capacity > x->capacity)
			c->sched.capacity = x->capacity;
		if ((r = x->ops->start(x)) == 0 && x->wake_fd > 0)
			output_set_wake(c->emit.out, x->wake_fd);
		emit_warnq_start(c, r == 0 && x->wake_fd > 0 ? x->wake_fd :
		    -1);
	}
	/*
	 * The due job's output streams as it comes, unless it may yet be
	 * dropped: a failed attempt's (--retries), a killed job's (--halt
	 * now); and not from its worker thread onto a terminal where a prompt
	 * or a progress line must make way for it.  With -k --line-buffer it
	 * streams, as --line-buffer output always does.
	 */
	c->emit.streams = !c->cfg.opts.as_completed &&
	    c->cfg.opts.outmode == CCMAP_GROUP && c->cfg.opts.retries < 2 &&
	    c->cfg.opts.halt.when != CCMAP_HALT_NOW &&
	    c->emit.rfd < 0 &&	/* (a records' header goes first) */
	    !c->cfg.hosts &&	/* (a job whose host failed runs again) */
	    !c->emit.tty && !(c->emit.prog && isatty(2));
	if (oo.linebuffer && oo.ordered)
		c->emit.streams = 1;
	/* (--onall over -S: every job is copied to every host, once known.) */
	c->sched.backlogging = halt_needs_total(&c->sched.halt) ||
	    (c->cfg.hosts && c->cfg.opts.onall);
	if (c->emit.joblog && joblog_wants_header(c->emit.joblog))
		output_emit_text(c->emit.out, 1, JOBLOG_HEADER,
		    strlen(JOBLOG_HEADER));
	if (r < 0) {
		emit_warn(c, "cannot start the workers: %s", strerror(-r));
		res->error = r;
		goto out;
	}
	loop(c);
	exec_failed(c);		/* (the loop may have ended first) */
out:
	/* (Its fd goes with it; threads left running queue in vain.) */
	emit_warnq_stop(c);
	if (c->sched.x && c->sched.x->ops->free(c->sched.x, res->signal != 0,
	    c->sched.inflight && c->sched.abandon)) {
		/*
		 * Threads still on a job when the kill sequence is over (a
		 * plugin that would not stop, one held in exit()) cannot be
		 * stopped: they keep what they use, the jobs they started
		 * die, and the caller ends the process.  After an engine
		 * error their jobs were killed, and they are waited for.
		 */
		c->sched.abandoned = res->abandoned = 1;
		guard_kill(c->sched.guard, SIGKILL);
	} else {
		c->sched.x = NULL;
	}
	emit_warn_queued(c);
	if (!c->sched.abandoned) {
		/* (The guard must outlive the threads.) */
		guard_free(c->sched.guard);
		c->sched.guard = NULL;
		/*
		 * Jobs in flight when the engine failed (their workers are
		 * gone now): they end as killed, their output dropped, and the
		 * finished jobs held behind them come out.  (An abandoned
		 * run's threads still hold theirs.)
		 */
		c->emit.streams = 0;
		while (c->sched.ifirst) {
			c->sched.ifirst->killed = 1;
			sched_finish(c, c->sched.ifirst);
		}
		c->sched.retry = (struct jobq){ NULL, NULL, 0 };
	}
	sched_drop(c);
	res->halted = halt_exit_status(&c->sched.halt, &res->halt_status);
	emit_rest(c);
	reorder_release(&c->emit.ro);
	if (c->sched.abandoned) {
		/* (Threads may yet use it.) */
		int e = output_flush(c->emit.out);
		if (e < 0 && !res->error && !res->broken_pipe)
			emit_failed(c, e);
	} else {
		output_free(c->emit.out);
		c->emit.out = NULL;
	}
	if (c->emit.tty)
		tty_stop(c->emit.tty);
	progress_free(c->emit.prog);
	c->emit.prog = NULL;
	signals_restore();
	return res->error ? res->error : 0;
}
