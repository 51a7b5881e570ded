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
	if (c->tty)
		tty_show(c->tty);
	if (c->prog) {
		/* Jobs running now, not those waiting in a queue. */
		progress_running(c->prog, c->tp ? atomic_load(&c->running) :
		    c->pp ? procpool_busy(c->pp) : c->ppp ?
		    plugpool_busy(c->ppp) : 0);
		progress_draw(c->prog);
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
	if (c->plugin && ws->pinit > 0 && plugin_desc(c->plugin)->worker_fini)
		plugin_desc(c->plugin)->worker_fini(&c->host, ws->pw);
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
	if (c->stopping)
		return;
	c->stopping = 1;
	atomic_store(&c->no_start, 1);
	if (c->plugin)
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
	if (!c->res->error)
		c->res->error = CCMAP_EPLUGIN;
	sched_terminate(c, 0);
}

static void
on_signal(struct ccmap *c, int sig)
{
	if (sig == SIGWINCH) {
		if (c->tty)
			tty_resize(c->tty);
		if (c->prog)
			progress_resize(c->prog);
		return;
	}
	if (sig == SIGNALS_PLUGIN_EXIT) {
		plugin_exited(c);
		return;
	}
	if (c->tty)
		tty_stop(c->tty);
	if (sig == SIGHUP) {
		hangup(c);
	} else if (!c->res->signal) {
		/* Jobs get a SIGINT or SIGTERM first, and SIGQUIT's sequence. */
		c->res->signal = sig;
		sched_terminate(c, sig == SIGQUIT ? 0 : sig);
	} else if (!c->abandon) {
		/* Again: kill at once, and end soon after (as after KILL,25). */
		sched_kill(c, SIGKILL);
		c->term_step = termseq_get(&c->opts.termseq)->n;
		c->term_last = SIGKILL;
		c->kill_at = util_now_ns() + 25 * 1000000LL;
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
	long long at = c->kill_at, left;

	if (c->prog && (ms < 0 || progress_timeout_ms(c->prog) < ms))
		ms = progress_timeout_ms(c->prog);
	if (c->delaying && (!at || c->next_start < at))
		at = c->next_start;
	if (c->guard_at && (!at || c->guard_at < at))
		at = c->guard_at;
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
	c->res->error = e;
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
		if (c->prog)
			dispatch_show_total(c);
		if (c->inflight == 0 && (c->stopping ||
		    (c->input_done && !c->backlog.first && !c->asking)))
			break;
		if (c->abandon)
			break;	/* the kill sequence is over */
		if ((r = output_flush(c->out)) < 0)
			emit_failed(c, r);
		screen_show(c);

		size_t n = 0;
		/* The terminal, when it is read, else the input. */
		int ttyfd = c->tty && !c->stopping ? tty_fd(c->tty) : -1;
		/* (Read ahead, or counted, for --bar and --eta.) */
		int ahead = c->in && input_reads_ahead(c->in);
		int counting = c->in && !c->stopping &&
		    input_count_pending(c->in);
		fds[n++] = (struct pollfd){ .fd = signals_fd(), .events = POLLIN };
		fds[n++] = (struct pollfd){
			.fd = ttyfd >= 0 ? ttyfd : (!c->need_input && !ahead) ||
			    c->stopping ? -1 : c->blocks ? blocks_fd(c->blocks) :
			    input_fd(c->in),
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
			input_count_step(c->in);
		if (c->kill_at && util_now_ns() >= c->kill_at) {
			c->kill_at = 0;
			sched_term_next(c);
		}
		if (c->guard_at && util_now_ns() >= c->guard_at) {
			c->guard_at = 0;
			guard_start(c->guard);
		}
		if (fds[0].revents) {
			int sig;
			while ((sig = signals_take()) != 0)
				on_signal(c, sig);
		}
		if (fds[1].revents && ttyfd >= 0) {
			tty_read(c->tty);
		} else if (fds[1].revents) {
			long got = c->blocks ? blocks_fill(c->blocks) :
			    input_fill(c->in);
			if (got < 0) {
				emit_warn(c, "cannot read '%s': %s", c->blocks ?
				    c->pipe_name : input_name(c->in),
				    strerror((int)-got));
				c->res->error = (int)got;
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
	if ((r = output_flush(c->out)) < 0)
		emit_failed(c, r);
	return err;
}

int
ccmap_run(struct ccmap *c, struct ccmap_result *res)
{
	struct output_opts oo = {
		.linebuffer = c->opts.outmode == CCMAP_LINEBUFFER,
		.ordered = c->opts.keep_order && !c->opts.as_completed,
		.mem_limit = c->opts.mem_limit,
		.tmpdir = c->opts.tmpdir,
		.fd = { c->rfd >= 0 ? c->rfd : 1, 2 },
		.wake_fd = -1,
		.before_write = emit_hide,
		.hook_arg = c,
	};
	int r;

	memset(res, 0, sizeof *res);
	c->res = res;
	reorder_init(&c->ro, 1);
	output_new(&c->out, &oo);
	if ((r = signals_init()) < 0) {
		emit_warn(c, "cannot catch signals: %s", strerror(-r));
		res->error = r;
		goto out;
	}
	if (c->opts.show) {
		c->prog = progress_new(c->opts.show, 2, c->jobs);
		/* Items typed at the prompt: the display waits for Ctrl-D. */
		progress_pause(c->prog, c->opts.readline);
		/* It is drawn as it goes: count the items ahead for it. */
		if (c->in && isatty(2))
			input_count_ahead(c->in, c->opts.mem_limit,
			    c->opts.tmpdir);
	}
	if (c->tty || c->prog)
		signals_add_winch();
	if (!c->plugin && !c->opts.dry_run &&
	    (r = guard_new(&c->guard, c->jobs)) == 0)
		c->guard_at = util_now_ns() + GUARD_DELAY_NS;
	if (r < 0) {
		/* (no pool) */
	} else if (c->opts.executor == CCMAP_PROCS && c->plugin) {
		struct plugpool_ops ops;
		struct plugpool_opts po = {
			.workers = c->jobs,
			.max_tasks = c->opts.max_tasks,
			.timeout_ns = c->opts.timeout_ns,
			.keep_fd = c->sctx.devnull,
		};
		exec_plugin_pool_ops(c, &ops);
		wstate_init(&c->pws);
		r = plugpool_new(&c->ppp, &po, &ops);
	} else if (c->opts.executor == CCMAP_PROCS) {
		struct procpool_ops ops;
		exec_cmd_proc_ops(c, &ops);
		wstate_init(&c->pws);
		/*
		 * No job waits queued behind another in a worker (a free one
		 * would have run it, as GNU parallel does); with --chunksize N
		 * a chunk's jobs do, by request.
		 */
		if (c->capacity > (size_t)c->jobs * c->chunksize)
			c->capacity = (size_t)c->jobs * c->chunksize;
		r = procpool_new(&c->pp, c->jobs, &ops, c->sctx.devnull);
	} else {
		c->ws = util_calloc(c->jobs, sizeof *c->ws);
		for (unsigned i = 0; i < c->jobs; i++)
			wstate_init(&c->ws[i]);
		if ((r = threadpool_new(&c->tp, c->jobs, c)) == 0)
			output_set_wake(c->out, threadpool_fd(c->tp));
		if (r == 0 && c->plugin)
			plugexit_watch(c);
	}
	/*
	 * The due job's output streams as it comes, unless it may yet be
	 * dropped: a failed attempt's (--retries), a killed job's (--halt
	 * now); and not from its worker thread onto a terminal where a prompt
	 * or a progress line must make way for it.  With -k --line-buffer it
	 * streams, as --line-buffer output always does.
	 */
	c->streams = !c->opts.as_completed && c->opts.outmode == CCMAP_GROUP &&
	    c->opts.retries < 2 && c->opts.halt.when != CCMAP_HALT_NOW &&
	    c->rfd < 0 &&	/* (a records' header goes first) */
	    !c->tty && !(c->prog && isatty(2));
	if (oo.linebuffer && oo.ordered)
		c->streams = 1;
	c->backlogging = halt_needs_total(&c->halt);
	if (c->joblog && joblog_wants_header(c->joblog))
		output_emit_text(c->out, 1, JOBLOG_HEADER, strlen(JOBLOG_HEADER));
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
	if (c->tp && ((c->inflight && c->abandon) || atomic_load(&c->parked))) {
		/*
		 * Threads still on a job when the kill sequence is over (a
		 * plugin that would not stop, one held in exit()) cannot be
		 * stopped: they keep what they use, the jobs they started
		 * die, and the caller ends the process.  After an engine
		 * error their jobs were killed, and they are waited for.
		 */
		c->abandoned = res->abandoned = 1;
		guard_kill(c->guard, SIGKILL);
	} else {
		if (c->plugin)
			plugexit_watch(NULL);
		threadpool_free(c->tp);
		c->tp = NULL;
	}
	if (c->ws && !c->abandoned) {
		for (unsigned i = 0; i < c->jobs; i++)
			wstate_release(c, &c->ws[i]);
		free(c->ws);
		c->ws = NULL;
	}
	if (!c->abandoned) {
		guard_free(c->guard);	/* (the guard must outlive the threads) */
		c->guard = NULL;
		/*
		 * Jobs in flight when the engine failed (their workers are
		 * gone now): they end as killed, their output dropped, and the
		 * finished jobs held behind them come out.  (An abandoned
		 * run's threads still hold theirs.)
		 */
		c->streams = 0;
		while (c->ifirst) {
			c->ifirst->killed = 1;
			sched_finish(c, c->ifirst);
		}
		c->retry = (struct jobq){ NULL, NULL, 0 };
	}
	sched_drop(c);
	res->halted = halt_exit_status(&c->halt, &res->halt_status);
	emit_rest(c);
	reorder_release(&c->ro);
	if (c->abandoned) {
		int e = output_flush(c->out);	/* threads may yet use it */
		if (e < 0 && !res->error && !res->broken_pipe)
			emit_failed(c, e);
	} else {
		output_free(c->out);
		c->out = NULL;
	}
	if (c->tty)
		tty_stop(c->tty);
	progress_free(c->prog);
	c->prog = NULL;
	signals_restore();
	return res->error ? res->error : 0;
}
