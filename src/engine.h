/*
 * engine.h: what the engine's own modules share (never installed): the
 * run's state, a job, a worker's state.  HACKING.md maps the modules; in
 * short, setup.c makes a run, dispatch.c cuts its items into jobs,
 * schedule.c hands them to an executor (exec.h) and takes them back,
 * emit.c writes what they made, loop.c polls it all.
 */
#ifndef CCMAP_ENGINE_H
#define CCMAP_ENGINE_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include <ccmap/plugin.h>

#include "block.h"
#include "ccmap.h"
#include "fields.h"
#include "halt.h"
#include "input.h"
#include "job.h"
#include "joblog.h"
#include "output.h"
#include "reorder.h"
#include "results.h"
#include "strbuf.h"
#include "template.h"
#include "threadpool.h"

struct executor;
struct host;
struct hosts;
struct transfer;
struct progress;
struct tty;

/* Finished jobs held back for input order, at most. */
#define WINDOW (1u << 20)
/* -j0: as many jobs as possible. */
#define JOBS_MAX 256
/* A plugin's items go to a worker in blocks of about this many bytes, */
#define PLUGIN_BLOCK (64 * 1024)
/* or fewer: about as many as the plugin maps in this time. */
#define BATCH_NS 2e6

/* One job: its values, its captured output, how it ended. */
struct job {
	struct tp_work work;
	struct job *chunk_next;	/* the next job of the same chunk */
	struct job *iprev, *inext;	/* the unfinished jobs, by seq */
	unsigned long long seq;
	struct value *v;
	size_t nv, vcap;
	size_t ntuples;		/* items (tuples) in v */
	struct strbuf store;	/* the values' bytes, each NUL-terminated */
	struct joboutput out;
	struct strbuf tag;
	struct job_status st;
	int skipped;		/* not run: the run was stopping, or --resume */
	int killed;		/* --halt now stopped it: its output goes */
	int reported;		/* its failed attempt was told (--retries) */
	unsigned attempts;	/* times it was started (--retries) */
	unsigned long long sent;	/* bytes to its stdin (--joblog) */
	unsigned long long received;	/* bytes from its stdout (--joblog) */
	struct strbuf logline;	/* its --joblog line, until written */
	struct job *qnext;	/* in c->retry or c->backlog */
	/* -S: the host it ran on last, or NULL (hosts.h) */
	const struct host *host;
	int lost;		/* its host's session failed: run it again,
				   not counted as an attempt */
	int pinned;		/* --onall: it runs on host, nowhere else */
	/* With a plugin, a job is a batch of items: */
	unsigned long long first_item;	/* the first item's number */
	size_t items;		/* how many; their values are v[], or the
				   delimited records in store when v is NULL */
	size_t ran_items;	/* items that ran */
	long long map_ns;	/* how long they took (threads) */
	size_t failed_items;
	struct strbuf pend[2];	/* --procs: results not yet handed on */
	struct block blk;	/* --pipe: what its stdin reads */
};

/* What a worker (a thread, or a worker process) keeps between jobs. */
struct wstate {
	struct executor *x;	/* whose worker it is */
	struct cmdbuf cb;
	struct jobenv env;
	pid_t pid;		/* its running job (threads), or 0 */
	int sock;		/* its running session's socket (-S), or -1 */
	struct wconn *wc;	/* or its remote worker's connection, */
	uint64_t wid;		/* and the job's id there */
	void *pw;		/* the plugin's worker state */
	int pinit;		/* 1 after worker_init, -1 if it failed */
	char perr[256];		/* why it failed */
	struct strbuf scratch;	/* for host->printf and tags */
	struct strbuf bout[2];	/* a batch's output, not yet handed on */
	int eout;		/* the item being mapped had stderr handed on */
	struct ccmap_call *pcall;	/* a worker process's, for each item */
	/* --results and --json (record.c): */
	struct strbuf rec[2];	/* a job's or item's output, captured */
	struct strbuf iout[2];	/* an item's output (threads, one by one) */
	struct strbuf rpath;	/* a results path */
};

/* One item being mapped by a plugin (struct ccmap_call, for the plugin). */
struct ccmap_call {
	struct ccmap *c;
	struct job *job;
	struct wstate *ws;
	unsigned long long seq;
	unsigned slot;
	const char *item;
	size_t len;
	long long start;	/* when its map began (for --timeout) */
	int bol[2];		/* each stream at the start of a line (--tag) */
	struct strbuf *tag;	/* this item's tag, or NULL */
	struct strbuf *own;	/* its output's two buffers: the worker's
				   (ws->bout), or its own (map_batch,
				   --procs) */
};

/*
 * A run.  Each group says who may touch it; the main thread alone runs
 * the core (setup.c, dispatch.c, schedule.c, emit.c, loop.c).
 */
struct ccmap {
	/* Fixed once ccmap_new() returns: any thread or worker may read it. */
	struct ccmap_cfg {
		struct ccmap_opts opts;
		int shape;		/* fields change or drop tuples */
		char **words;		/* the command renamed, or NULL */
		char *tagstring;	/* --tagstring, the same, or NULL */
		const char *pipe_name;	/* --pipe's input, for messages */
		struct template *tmpl;
		struct template *tagt;	/* --tag / --tagstring, or NULL */
		struct plugin *plugin;	/* --so, or NULL */
		struct ccmap_host host;	/* the services a plugin gets */
		struct spawn_ctx sctx;
		unsigned jobs, chunksize;
		size_t max_args;	/* items per job (-n) */
		int no_values;		/* -N0: a job takes an item, inserts
					   nothing */
		size_t line_max;	/* several items a job: lines stay under
					   this */
		size_t line_hard;	/* by GNU parallel's reckoning; this,
					   really */
		unsigned line_factor;	/* what a line's length counts for
					   (-q: 3) */
		int spread;		/* -X, -m: spread the last items */
		int json_args;		/* --json: "args" (several values), not
					   "item" */
		struct results *results;	/* --results, or NULL */
		struct hosts *hosts;	/* -S, or NULL */
		struct transfer *xfer;	/* -S's files, or NULL */
	} cfg;

	/*
	 * dispatch.c's, items into jobs (main thread).  Workers read the
	 * input's number of sources and --pipe's header, fixed by then.
	 */
	struct ccmap_disp {
		struct input *in;
		struct fields *fields;	/* -C, --match, --skip, --trim... */
		struct blocks *blocks;	/* --pipe: the input, cut in blocks */
		struct job **chunk;	/* a chunk being made (chunksize) */
		struct job *pending;	/* a job still taking items (-n) */
		struct tmeasure plen;	/* the pending job's line */
		int pending_full;	/* it has max_args items, but waits to
					   see whether the input ends (to spread
					   them) */
		int spread_done;	/* -X, -m: the last items were spread */
		unsigned long long items;	/* tuples read (for messages) */
		unsigned long long next_seq;
		unsigned long long next_item;	/* plugins: the next item's */
		double item_ns;		/* plugins: an item's time, lately */
		int need_input, input_done;
	} disp;

	/* schedule.c's, jobs in flight and the run's course (main thread). */
	struct ccmap_sched {
		struct executor *x;	/* the core's one way to the workers */
		size_t capacity;	/* most jobs given, not finished */
		size_t inflight;
		struct job *ifirst, *ilast;	/* unfinished jobs, by seq */
		int stopping;
		struct ccmap_result *res;
		struct halt halt;	/* --halt */
		int halting_now;	/* --halt now: the rest is killed */
		/* The kill sequence (--termseq), once the run is stopped: */
		unsigned term_step;	/* steps taken (0: not begun) */
		int term_first;		/* sent in place of its first signal */
		int term_last;		/* the last signal it sent */
		long long kill_at;	/* the next step is due (0: none) */
		int abandon;		/* over: end, whatever still runs */
		int abandoned;		/* and threads were left running
					   (ccmap_free must let be what they
					   use) */
		struct guard *guard;	/* kills the jobs should ccmap die */
		long long guard_at;	/* when to fork it (0: done, or none) */
		struct jobq { struct job *first, *last; size_t n; }
		    retry,		/* failed jobs to run again */
		    backlog;		/* jobs made before the first starts
					   (--halt N%) */
		int backlogging;	/* all items read before a job starts */
		long long next_start;	/* --delay: no job is handed out before
					   this */
		int delaying;		/* a start waits for next_start */
		struct job *asking;	/* -p: the job waiting for its answer */
		struct jobq askq;	/* -p: the jobs waiting to be asked */
	} sched;

	/* emit.c's, what is written and the terminal (main thread). */
	struct ccmap_emit {
		struct output *out;	/* (its own locks: jobs' data come from
					   any thread) */
		struct reorder ro;
		int streams;		/* the due job's output streams out */
		struct joblog *joblog;	/* --joblog, or NULL */
		int rfd;		/* --results FILE.csv...: the records'
					   file, or -1 */
		int rheader;		/* its header line is still to come */
		struct tty *tty;	/* -p, or items typed at a prompt */
		struct progress *prog;	/* --bar, --eta, --progress; or NULL */
	} emit;

	/*
	 * emit.c's too: the warnings of hosts.c and transfer.c (a host
	 * dropped, a file not copied) from the workers' threads, queued for
	 * the main thread, which writes them as emit_warn() does.  Under
	 * its lock.
	 */
	struct ccmap_warnq {
		pthread_mutex_t lock;
		struct strbuf msgs;	/* NUL-terminated, oldest first */
		int wake_fd;		/* written to wake the loop, or -1 */
		pthread_t main;		/* the thread that runs the core */
	} warnq;

	/*
	 * Nothing else here is shared by threads that write it.  What they
	 * share has its own lock: the output (output.c, its jobs' data from
	 * any thread), the warnings above, and each executor's
	 * (exec-threads.h: which pid each worker runs, the --delay gate).
	 */
};

#endif
