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
#include "plugin.h"
#include "procpool.h"
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
		progress_running(c->emit.prog, c->tp ? atomic_load(&c->running) :
		    c->pp ? procpool_busy(c->pp) : c->ppp ?
		    plugpool_busy(c->ppp) : 0);
		progress_draw(c->emit.prog);
	}
}

static void
wstate_init(struct wstate *ws)
{
	memset(ws, 0, sizeof *ws);
	cmdbuf_init(&ws->cb);
	jobenv_init(&ws->env);
}

static void
wstate_release(struct ccmap *c, struct wstate *ws)
{
	if (c->cfg.plugin && ws->pinit > 0 && plugin_desc(c->cfg.plugin)->worker_fini)
		plugin_desc(c->cfg.plugin)->worker_fini(&c->cfg.host, ws->pw);
	cmdbuf_release(&ws->cb);
	jobenv_release(&ws->env);
	strbuf_release(&ws->scratch);
	strbuf_release(&ws->bout[0]);
	strbuf_release(&ws->bout[1]);
	for (int i = 0; i < 2; i++) {
		strbuf_release(&ws->rec[i]);
		strbuf_release(&ws->iout[i]);
	}
	strbuf_release(&ws->rpath);
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
	atomic_store(&c->no_start, 1);
	if (c->cfg.plugin)
		atomic_store(&c->stop_sig, SIGHUP);	/* between items */
	if (c->pp)
		procpool_kill(c->pp, 0);
	if (c->ppp)
		plugpool_kill(c->ppp, SIGTERM);	/* stops between items */
	emit_warn(c, "SIGHUP: starting no more jobs, waiting for the running ones "
	    "to finish (SIGTERM stops them)");
}

/* A plugin called exit() on a worker thread: say so, and stop the run. */
static void
plugin_exited(struct ccmap *c)
{
	char msg[256];

	if (!plugexit_message(c, msg, sizeof msg))
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
		plugin_exited(c);
		return;
	}
	if (c->emit.tty)
		tty_stop(c->emit.tty);
	if (sig == SIGHUP) {
		hangup(c);
	} else if (!c->sched.res->signal) {
		/* Jobs get a SIGINT or SIGTERM first, and SIGQUIT's sequence. */
		c->sched.res->signal = sig;
		sched_terminate(c, sig == SIGQUIT ? 0 : sig);
	} else if (!c->sched.abandon) {
		/* Again: kill at once, and end soon after (as after KILL,25). */
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
	int ms = c->ppp ? plugpool_timeout_ms(c->ppp) : -1;
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
	size_t nfds = 3 + (c->pp ? procpool_nfds(c->pp) : 0) +
	    (c->ppp ? plugpool_nfds(c->ppp) : 0);
	struct pollfd *fds = util_calloc(nfds, sizeof *fds);
	int r, err = 0;

	for (;;) {
		dispatch_jobs(c);
		if (c->emit.prog)
			dispatch_show_total(c);
		if (c->sched.inflight == 0 && (c->sched.stopping ||
		    (c->disp.input_done && !c->sched.backlog.first && !c->sched.asking)))
			break;
		if (c->sched.abandon)
			break;	/* the kill sequence is over */
		if ((r = output_flush(c->emit.out)) < 0)
			emit_failed(c, r);
		screen_show(c);

		size_t n = 0;
		/* The terminal, when it is read, else the input. */
		int ttyfd = c->emit.tty && !c->sched.stopping ? tty_fd(c->emit.tty) : -1;
		/* (Read ahead, or counted, for --bar and --eta.) */
		int ahead = c->disp.in && input_reads_ahead(c->disp.in);
		int counting = c->disp.in && !c->sched.stopping &&
		    input_count_pending(c->disp.in);
		fds[n++] = (struct pollfd){ .fd = signals_fd(), .events = POLLIN };
		fds[n++] = (struct pollfd){
			.fd = ttyfd >= 0 ? ttyfd : (!c->disp.need_input && !ahead) ||
			    c->sched.stopping ? -1 : c->disp.blocks ? blocks_fd(c->disp.blocks) :
			    input_fd(c->disp.in),
			.events = POLLIN,
		};
		if (c->tp)
			fds[n++] = (struct pollfd){ .fd = threadpool_fd(c->tp),
			    .events = POLLIN };
		else if (c->pp)
			n += procpool_pollfds(c->pp, fds + n);
		else
			n += plugpool_pollfds(c->ppp, fds + n);
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
			long got = c->disp.blocks ? blocks_fill(c->disp.blocks) :
			    input_fill(c->disp.in);
			if (got < 0) {
				emit_warn(c, "cannot read '%s': %s", c->disp.blocks ?
				    c->cfg.pipe_name : input_name(c->disp.in),
				    strerror((int)-got));
				c->sched.res->error = (int)got;
				sched_terminate(c, 0);
			}
		}
		if (c->tp && fds[2].revents) {
			struct tp_work *w = threadpool_collect(c->tp), *next;
			for (; w; w = next) {
				next = w->next;
				sched_finish(c, container_of(w, struct job, work));
			}
		} else if ((c->pp && (r = procpool_handle(c->pp, fds + 2,
		    n - 2)) < 0) || (c->ppp && (r = plugpool_handle(c->ppp,
		    fds + 2, n - 2)) < 0)) {
			err = engine_failed(c, r, "lost a worker process");
			break;
		}
	}
	free(fds);
	if ((r = output_flush(c->emit.out)) < 0)
		emit_failed(c, r);
	return err;
}

int
ccmap_run(struct ccmap *c, struct ccmap_result *res)
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
	if (r < 0) {
		/* (no pool) */
	} else if (c->cfg.opts.executor == CCMAP_PROCS && c->cfg.plugin) {
		struct plugpool_ops ops;
		struct plugpool_opts po = {
			.workers = c->cfg.jobs,
			.max_tasks = c->cfg.opts.max_tasks,
			.timeout_ns = c->cfg.opts.timeout_ns,
			.keep_fd = c->cfg.sctx.devnull,
		};
		exec_plugin_pool_ops(c, &ops);
		wstate_init(&c->pws);
		r = plugpool_new(&c->ppp, &po, &ops);
	} else if (c->cfg.opts.executor == CCMAP_PROCS) {
		struct procpool_ops ops;
		exec_cmd_proc_ops(c, &ops);
		wstate_init(&c->pws);
		/*
		 * No job waits queued behind another in a worker (a free one
		 * would have run it, as GNU parallel does); with --chunksize N
		 * a chunk's jobs do, by request.
		 */
		if (c->sched.capacity > (size_t)c->cfg.jobs * c->cfg.chunksize)
			c->sched.capacity = (size_t)c->cfg.jobs * c->cfg.chunksize;
		r = procpool_new(&c->pp, c->cfg.jobs, &ops, c->cfg.sctx.devnull);
	} else {
		c->ws = util_calloc(c->cfg.jobs, sizeof *c->ws);
		for (unsigned i = 0; i < c->cfg.jobs; i++)
			wstate_init(&c->ws[i]);
		if ((r = threadpool_new(&c->tp, c->cfg.jobs, c)) == 0)
			output_set_wake(c->emit.out, threadpool_fd(c->tp));
		if (r == 0 && c->cfg.plugin)
			plugexit_watch(c);
	}
	/*
	 * The due job's output streams as it comes, unless it may yet be
	 * dropped: a failed attempt's (--retries), a killed job's (--halt
	 * now); and not from its worker thread onto a terminal where a prompt
	 * or a progress line must make way for it.  With -k --line-buffer it
	 * streams, as --line-buffer output always does.
	 */
	c->emit.streams = !c->cfg.opts.as_completed && c->cfg.opts.outmode == CCMAP_GROUP &&
	    c->cfg.opts.retries < 2 && c->cfg.opts.halt.when != CCMAP_HALT_NOW &&
	    c->emit.rfd < 0 &&	/* (a records' header goes first) */
	    !c->emit.tty && !(c->emit.prog && isatty(2));
	if (oo.linebuffer && oo.ordered)
		c->emit.streams = 1;
	c->sched.backlogging = halt_needs_total(&c->sched.halt);
	if (c->emit.joblog && joblog_wants_header(c->emit.joblog))
		output_emit_text(c->emit.out, 1, JOBLOG_HEADER, strlen(JOBLOG_HEADER));
	if (r < 0) {
		emit_warn(c, "cannot start the workers: %s", strerror(-r));
		res->error = r;
		goto out;
	}
	loop(c);
	if (atomic_load(&c->parked))
		plugin_exited(c);	/* (the loop may have ended first) */
out:
	if (c->ppp) {
		if (res->signal)
			plugpool_kill(c->ppp, SIGKILL);
		plugpool_free(c->ppp);
		c->ppp = NULL;
		wstate_release(c, &c->pws);
	}
	if (c->pp) {
		if (res->signal)
			procpool_kill(c->pp, SIGKILL);
		procpool_free(c->pp);
		wstate_release(c, &c->pws);
	}
	if (c->tp && ((c->sched.inflight && c->sched.abandon) || atomic_load(&c->parked))) {
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
		if (c->cfg.plugin)
			plugexit_watch(NULL);
		threadpool_free(c->tp);
		c->tp = NULL;
	}
	if (c->ws && !c->sched.abandoned) {
		for (unsigned i = 0; i < c->cfg.jobs; i++)
			wstate_release(c, &c->ws[i]);
		free(c->ws);
		c->ws = NULL;
	}
	if (!c->sched.abandoned) {
		guard_free(c->sched.guard);	/* (the guard must outlive the threads) */
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
		int e = output_flush(c->emit.out);	/* threads may yet use it */
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
