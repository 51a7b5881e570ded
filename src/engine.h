/*
 * engine.h: what the engine's own modules share (never installed): the
 * run's state, a job, a worker's state.
 */
#ifndef CCMAP_ENGINE_H
#define CCMAP_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
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
#include "plugpool.h"
#include "reorder.h"
#include "results.h"
#include "strbuf.h"
#include "template.h"
#include "threadpool.h"

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
	int reported;		/* its failed attempt was reported (--retries) */
	unsigned attempts;	/* times it was started (--retries) */
	unsigned long long sent;	/* bytes given on its stdin (--joblog) */
	unsigned long long received;	/* bytes it wrote to stdout (--joblog) */
	struct strbuf logline;	/* its --joblog line, until written */
	struct job *qnext;	/* in c->retry or c->backlog */
	/* With a plugin, a job is a batch of items: */
	unsigned long long first_item;	/* the first item's number */
	size_t items;		/* how many; their values are v[], or the
				   delimited records in store when v is NULL */
	size_t ran_items;	/* items that ran */
	long long map_ns;	/* how long they took (threads) */
	size_t failed_items;
	struct strbuf pend[2];	/* --procs: results gathered, not yet handed on */
	struct block blk;	/* --pipe: what its stdin reads */
};

/* What a worker (a thread, or a worker process) keeps between jobs. */
struct wstate {
	struct cmdbuf cb;
	struct jobenv env;
	pid_t pid;		/* its running job (threads), or 0 */
	void *pw;		/* the plugin's worker state */
	int pinit;		/* 1 after worker_init, -1 if it failed */
	char perr[256];		/* why it failed */
	struct strbuf scratch;	/* for host->printf and tags */
	struct strbuf bout[2];	/* a batch's output, not yet handed on */
	int eout;		/* the item being mapped had stderr handed on */
	struct ccmap_call *pcall;	/* a worker process's: serves each item */
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
				   (ws->bout), or its own (map_batch, --procs) */
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
		char **words;		/* the command, names rewritten (or NULL) */
		char *tagstring;	/* --tagstring, names rewritten (or NULL) */
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
	} cfg;

	/*
	 * dispatch.c's, items into jobs (main thread).  Workers read the
	 * input's number of sources and --pipe's header, fixed by then.
	 */
	struct ccmap_disp {
		struct input *in;
		struct fields *fields;	/* -C, --match, --skip, --trim, --header */
		struct blocks *blocks;	/* --pipe: the input, cut in blocks */
		struct job **chunk;	/* a chunk being made (chunksize of them) */
		struct jobvals *chunkjv;
		struct job *pending;	/* a job still taking items (-n) */
		struct tmeasure plen;	/* the pending job's line */
		int pending_full;	/* it has max_args items, but waits to
					   see whether the input ends (to spread
					   them) */
		int spread_done;	/* -X, -m: the last items were spread */
		unsigned long long items;	/* tuples read (for messages) */
		unsigned long long next_seq;
		unsigned long long next_item;	/* plugins: the next item's number */
		double item_ns;		/* plugins: what an item takes, lately */
		int need_input, input_done;
	} disp;

	/* schedule.c's, jobs in flight and the run's course (main thread). */
	struct ccmap_sched {
		size_t capacity;	/* jobs given to the pool and not finished */
		size_t inflight;
		struct job *ifirst, *ilast;	/* the unfinished jobs, by seq */
		int stopping;
		struct ccmap_result *res;
		struct halt halt;	/* --halt */
		int halting_now;	/* --halt now came: the rest is killed */
		/* The kill sequence (--termseq), once the run is stopped: */
		unsigned term_step;	/* steps taken (0: not begun) */
		int term_first;		/* sent in place of its first signal */
		int term_last;		/* the last signal it sent */
		long long kill_at;	/* when the next step is due (0: none) */
		int abandon;		/* it is over: end, whatever still runs */
		int abandoned;		/* and threads were left running
					   (ccmap_free must let be what they
					   use) */
		struct guard *guard;	/* kills the jobs should ccmap die */
		long long guard_at;	/* when to fork it (0: done, or none) */
		struct jobq { struct job *first, *last; size_t n; }
		    retry,		/* failed jobs to run again (--retries) */
		    backlog;		/* jobs made before the first starts
					   (--halt N%) */
		int backlogging;	/* read every item before a job starts */
		long long next_start;	/* --delay: no job is handed out before
					   this */
		int delaying;		/* a start waits for next_start */
		struct job *asking;	/* -p: the job waiting for its answer */
		struct jobq askq;	/* -p: the jobs made, waiting to be asked */
	} sched;

	/* emit.c's, what is written and the terminal (main thread). */
	struct ccmap_emit {
		struct output *out;	/* (its own locks: jobs' data come from
					   any thread) */
		struct reorder ro;
		int streams;		/* the due job's output goes straight out */
		struct joblog *joblog;	/* --joblog, or NULL */
		int rfd;		/* --results FILE.csv...: the records'
					   file, or -1 */
		int rheader;		/* its header line is still to be written */
		struct tty *tty;	/* -p, or items typed at a prompt; or NULL */
		struct progress *prog;	/* --bar, --eta, --progress; or NULL */
	} emit;

	struct threadpool *tp;
	struct wstate *ws;	/* one per thread */
	pthread_mutex_t pid_lock;	/* guards ws[].pid and stop_sig */
	atomic_int stop_sig;	/* signal for jobs that start from now on */
	struct procpool *pp;
	struct plugpool *ppp;	/* --procs with a plugin */
	struct wstate pws;	/* the worker process's own */
	atomic_uint running;
	atomic_int no_start;
	atomic_int parked;
	pthread_mutex_t delay_lock;	/* guards last_start (threads) */
	long long last_start;	/* --delay: when the last job started */
};

/* exec-plugin.c: the services a plugin gets. */
extern const struct ccmap_host plughost;
/* exec-plugin.c: run a chunk of plugin batches on a worker thread. */
void exec_plugin_work(struct tp_work *w, unsigned worker, void *arg);
/* exec-plugin.c: the callbacks of the plugin worker processes. */
void exec_plugin_pool_ops(struct ccmap *c, struct plugpool_ops *ops);
/*
 * exec-plugin.c: catch a plugin that calls exit() on a worker thread during the
 * run c (NULL: the run is over).  That thread ends its batch (the items
 * before are kept, the rest are not run), tells the main loop with
 * SIGNALS_PLUGIN_EXIT, and is held there for good, so that the process
 * does not end.
 */
void plugexit_watch(struct ccmap *c);
/*
 * exec-plugin.c: after SIGNALS_PLUGIN_EXIT, or once c->parked: the message saying
 * which item's plugin called exit(), and 1; 0 if none did, or if it was
 * told already.
 */
int plugexit_message(struct ccmap *c, char *buf, size_t len);

#endif
