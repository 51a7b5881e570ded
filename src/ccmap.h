/*
 * ccmap.h: the engine's API, for the command-line front end and the tests.
 *
 * Use it in three steps:
 *
 *  1. Fill a struct ccmap_opts.  Zero means the default for every field
 *     (ccmap_opts_init sets the few defaults that are not zero).
 *  2. ccmap_new() checks everything that can be checked before a job runs:
 *     the command template, the input files, the pool size.  On failure it
 *     returns a negative CCMAP_E* code and writes one line, without the
 *     "ccmap: " prefix, into the caller's error buffer.
 *  3. ccmap_run() maps the command over the items and fills a
 *     struct ccmap_result; ccmap_free() releases the context.
 *
 * The engine never prints and never exits: warnings about jobs (a job
 * killed by a signal, a command not found) go to opts->warn, and the caller
 * turns the result into an exit status with ccmap_exit_status().
 */
#ifndef CCMAP_CCMAP_H
#define CCMAP_CCMAP_H

#include <stddef.h>

/* Errors: negative errno values, plus these. */
#define CCMAP_EUSAGE	(-10001)	/* bad options or template */
#define CCMAP_EOUTPUT	(-10002)	/* writing to stdout or stderr failed */
#define CCMAP_EPLUGIN	(-10003)	/* a plugin called exit() mid-run */

/* Exit statuses, as GNU parallel's (see EXIT STATUS in ccmap(1)). */
enum ccmap_exit {
	CCMAP_EXIT_OK = 0,		/* every job succeeded */
	CCMAP_EXIT_MAX_COUNTED = 100,	/* 1-100: that many jobs failed */
	CCMAP_EXIT_MANY_FAILED = 101,	/* more than 100 jobs failed */
	CCMAP_EXIT_ERROR = 255,		/* ccmap's own error, usage included */
};

/* Which kind of worker runs the jobs. */
enum ccmap_executor {
	CCMAP_THREADS = 0,	/* a pool of threads (the default) */
	CCMAP_PROCS,		/* a pool of pre-forked worker processes */
};

/* How job output reaches stdout and stderr. */
enum ccmap_outmode {
	CCMAP_GROUP = 0,	/* each job's output whole (the default) */
	CCMAP_LINEBUFFER,	/* whole lines, as they come (keep_order: the
				   oldest running job's; the others' held) */
	CCMAP_UNGROUP,		/* jobs write straight to our stdout */
};

/* --halt: when a run ends early (GNU parallel's --halt). */
enum ccmap_halt_when {
	CCMAP_HALT_NEVER = 0,	/* run every job (the default) */
	CCMAP_HALT_SOON,	/* start no new job, let the running ones end */
	CCMAP_HALT_NOW,		/* kill the running jobs too */
};

/* What --halt counts. */
enum ccmap_halt_on {
	CCMAP_HALT_FAIL = 0,	/* failed jobs */
	CCMAP_HALT_SUCCESS,	/* jobs that succeeded */
	CCMAP_HALT_DONE,	/* finished jobs, either way */
};

struct ccmap_halt {
	enum ccmap_halt_when when;
	enum ccmap_halt_on on;
	unsigned long long count;	/* halt once this many jobs counted, */
	unsigned pct;		/* or with count 0, this % of all jobs */
};

/* --resume, --resume-failed: which jobs of the joblog are not run again. */
enum ccmap_resume {
	CCMAP_RESUME_NONE = 0,
	CCMAP_RESUME_ALL,	/* every job in the joblog */
	CCMAP_RESUME_FAILED,	/* those that succeeded: failed ones run again */
};

/* What --bar, --eta and --progress show on stderr (opts.show). */
#define CCMAP_SHOW_BAR		1
#define CCMAP_SHOW_ETA		2
#define CCMAP_SHOW_PROGRESS	4

/* One input source: a file (path "-" is stdin) or a list of arguments. */
struct ccmap_source {
	const char *path;	/* a file to read items from, or NULL */
	char **args;		/* else these items (::: ARGS) */
	size_t nargs;
	int linked;		/* :::+ or ::::+: paired with the source before */
};

/* -X, -m, --xargs: as many items per command as the line has room for. */
enum ccmap_fill {
	CCMAP_FILL_NONE = 0,
	CCMAP_FILL_CONTEXT,	/* -X: a word holding {} is repeated per item */
	CCMAP_FILL_MULTI,	/* -m: {} stands for all of them */
	CCMAP_FILL_XARGS,	/* --xargs: as -m, the last items not spread */
};

/*
 * --termseq: how running jobs are stopped, in steps of a signal and then
 * up to ms milliseconds of waiting for them to go (see termseq.h).
 */
#define CCMAP_TERMSEQ_MAX 32
struct ccmap_termseq {
	unsigned n;		/* steps; 0: GNU parallel's default,
				   TERM,200,TERM,100,TERM,50,KILL,25 */
	struct ccmap_termstep {
		int sig;
		unsigned ms;
	} step[CCMAP_TERMSEQ_MAX];
};

struct ccmap_opts {
	/*
	 * The command's words; none means each item is itself a command.
	 * With plugin set, these are the plugin's arguments instead.
	 */
	char **command;
	size_t ncommand;
	const char *plugin;	/* --so PATH[:SYMBOL], or NULL */
	const char *replace;	/* -I: stands for {} (NULL: "{}") */
	size_t max_args;	/* -n: items per command (0: one) */
	int exact_args;		/* -N: max_args positions, and a word holding
				   {} repeated per item; with max_args 0,
				   one item per command and no value in it */
	enum ccmap_fill fill;	/* -X, -m, --xargs */
	int quote;		/* -q: keep each command word one argument */
	int dry_run;		/* --dry-run: print the commands, run none */

	struct ccmap_source *sources;	/* none means stdin */
	size_t nsources;
	int link;		/* --link: pair sources instead of crossing */
	int delim;		/* item separator byte (default '\n') */
	const char *recsep;	/* --recsep: items end at matches of this
				   PCRE2 regex instead (or NULL) */
	const char *eof_str;	/* -E: a source ends at a value equal to it */
	int skip_blank;		/* -r: drop values of nothing but whitespace */

	/* What becomes of each item (fields.c): */
	const char *colsep;	/* -C: split values into columns at this regex */
	const char *header;	/* --header: the first value of each source
				   names its columns ("0": file sources are
				   named by their paths instead) */
	const char *trim;	/* --trim n|l|r|lr|rl (NULL: lr with colsep,
				   else n) */
	const char *match;	/* --match: map only the items this matches;
				   its capture groups are the columns */
	const char *skip;	/* --skip: drop the items this matches */

	/*
	 * --pipe: each job reads a block of the input on its stdin instead
	 * of taking items (see ccmap(1)); max_args (-n, -N) is then records
	 * per block.
	 */
	int pipe;
	size_t block;		/* --block: bytes per block (0: 1 MiB) */
	const char *recstart;	/* --recstart: a record starts so, or NULL */
	const char *recend;	/* --recend: a record ends so, or NULL */
	size_t max_lines;	/* -L: a record is this many lines */
	/* With --pipe, recsep ends records and header is N lines, ":"
	   (one) or a regex, given to every job before its block. */

	unsigned jobs;		/* pool size (0: the online CPUs); with -S,
				   per host (0: the host's CPUs) */
	enum ccmap_executor executor;
	unsigned chunksize;	/* jobs handed to a worker at a time (0: one) */
	unsigned max_tasks;	/* --max-tasks-per-child (0: no limit) */
	long long timeout_ns;	/* --timeout, per job or item (0: none) */
	struct ccmap_termseq termseq;	/* --termseq (n 0: the default) */
	struct ccmap_halt halt;	/* --halt */
	unsigned retries;	/* --retries: attempts at a failing job (0: one) */
	long long delay_ns;	/* --delay: between job starts (0: none) */
	const char *joblog;	/* --joblog FILE ("-": stdout, "+FILE": append) */
	enum ccmap_resume resume;	/* needs joblog */

	int as_completed;	/* completion order instead of input order */
	int keep_order;		/* -k: with CCMAP_LINEBUFFER, lines in input
				   order too (else they come as they come) */
	enum ccmap_outmode outmode;
	int tag;		/* --tag: prefix lines with the item */
	const char *tagstring;	/* --tagstring: prefix lines with this */

	const char *results;	/* --results DIR or template, or NULL */
	int json;		/* --json: one JSON object per job or item */

	/* -S: the jobs run on these hosts, over ssh (see ccmap(1)). */
	char **sshlogins;	/* -S values: [N/]SSHLOGIN[,...] */
	size_t nsshlogins;
	char **sshloginfiles;	/* --sshloginfile */
	size_t nsshloginfiles;
	const char *ssh;	/* --ssh: the ssh command (NULL: "ssh") */
	long long sshdelay_ns;	/* --sshdelay: between ssh starts */
	int onall;		/* --onall: every job on every host */
	int nonall;		/* --nonall: the command once on every host,
				   no items read (implies onall) */
	int filter_hosts;	/* --filter-hosts (always done: accepted) */
	char **env;		/* --env: variables (or exported bash
				   functions) given to remote jobs */
	size_t nenv;
	/* Their files (see ccmap(1)); each a template but basefiles. */
	char **transferfiles;	/* --transferfile: copied there before */
	size_t ntransferfiles;
	int transfer;		/* --transfer: --transferfile {} */
	char **returnfiles;	/* --return: copied back after */
	size_t nreturnfiles;
	char **basefiles;	/* --basefile: to each host once */
	size_t nbasefiles;
	int cleanup;		/* --cleanup: all of those removed there */
	const char *workdir;	/* --workdir: where the jobs run there */
	/*
	 * --remote-worker: a host's jobs over one connection to a ccmap
	 * --worker there (CCMAP_WORKER_*), found as remote_ccmap (NULL:
	 * "ccmap", on the host's PATH).
	 */
	int remote_worker;
	const char *remote_ccmap;
	/*
	 * --slurm: the hosts are the nodes of the Slurm allocation ccmap
	 * runs in, each node's jobs over one ccmap --worker there, started
	 * as a job step (remote_ccmap NULL: this ccmap's own path).
	 */
	int slurm;

	const char *tmpdir;	/* where held-back output spills (NULL: $TMPDIR) */
	size_t mem_limit;	/* bytes of held-back output kept in memory */
	const char *shell;	/* shell for lines that need one (NULL: $SHELL) */

	/* The terminal (GNU readline). */
	int interactive;	/* -p: ask on /dev/tty before each job */
	int readline;		/* read stdin's items at a readline prompt
				   (the caller saw that stdin is a terminal) */
	int show;		/* CCMAP_SHOW_*: progress on stderr */

	/*
	 * Warnings about jobs, one line each, without a prefix; called
	 * from the thread that called ccmap_new() (its hosts) or runs
	 * ccmap_run(), never from another.
	 */
	void (*warn)(void *data, const char *msg);
	void *data;
};

/* What a run did. */
struct ccmap_result {
	unsigned long long started;	/* jobs started */
	unsigned long long failed;	/* jobs that failed */
	int signal;		/* the signal that stopped the run (SIGINT,
				   SIGTERM, SIGQUIT), or 0 */
	int abandoned;		/* threads were still busy (a plugin that
				   would not stop, or called exit()) when
				   the run ended: the caller must end the
				   process at once, with _exit() (the
				   context is theirs: ccmap_free() lets it
				   be) */
	int error;		/* 0, or the CCMAP_E* / -errno that stopped it */
	int output_errno;	/* with CCMAP_EOUTPUT: why the write failed */
	int broken_pipe;	/* stdout was closed by its reader */
	int halted;		/* --halt decided the exit status: */
	int halt_status;	/* this one */
};

struct ccmap;

/*
 * The name the engine gives itself in the few lines it writes with no
 * caller to hand them to: an item's messages among the output ("NAME: item
 * 3: timed out"), and running out of memory.  None until it is set.
 */
void ccmap_set_progname(const char *name);

void ccmap_opts_init(struct ccmap_opts *opts);
int ccmap_new(struct ccmap **cp, const struct ccmap_opts *opts,
    char *err, size_t errlen);
int ccmap_run(struct ccmap *c, struct ccmap_result *res);
void ccmap_free(struct ccmap *c);

/*
 * Parse a duration: a number of seconds (fractions allowed), or one
 * followed by ms, s, m, h or d.  0 or -errno.
 */
int ccmap_parse_duration(const char *s, long long *ns);

/*
 * Parse a --halt value as GNU parallel does: WHEN,WHAT=N or WHEN,WHAT=N%
 * (WHEN now, soon or never; WHAT fail, success or done), never, and the
 * short forms 0 (never), 1 (soon,fail=1), 2 (now,fail=1), -1
 * (soon,success=1), -2 (now,success=1) and N% (soon,fail=N%).  0 or
 * -EINVAL.
 */
int ccmap_parse_halt(const char *s, struct ccmap_halt *h);

/*
 * Parse a size as GNU parallel does: a number (fractions allowed) with an
 * optional unit, K, M, G, T or P for powers of 1024 (Ki, Mi... too, in
 * either case) and k, m, g, t or p for powers of 1000.  0 or -errno.
 */
int ccmap_parse_size(const char *s, size_t *n);

/*
 * Parse a --termseq value: SIGNAL,MS,SIGNAL,MS,... (a signal by name, with
 * or without SIG, or by number, then a wait in milliseconds; the last wait
 * may be left out).  0, or -EINVAL with one line in err saying what is
 * wrong.
 */
int ccmap_parse_termseq(const char *s, struct ccmap_termseq *ts, char *err,
    size_t errlen);

/* --remote-worker's values. */
enum {
	CCMAP_WORKER_AUTO,	/* where the host has a ccmap of our protocol */
	CCMAP_WORKER_ALWAYS,	/* a host without one is not used */
	CCMAP_WORKER_NEVER,	/* a session per job */
};

/*
 * `ccmap --worker`: serve a head (another ccmap) on in and out, in the
 * framed protocol of its remote hosts, until in ends.  The exit status.
 */
int ccmap_worker(int in, int out);

/* The process exit status for a result (GNU parallel's convention). */
int ccmap_exit_status(const struct ccmap_result *res);

/*
 * Parse a -j/--jobs value: N, N% (of the CPUs), +N or -N (CPUs plus or
 * minus N).  0 or -errno; the result is at least 1.
 */
int ccmap_parse_jobs(const char *s, unsigned *jobs);

/*
 * The length a command line must stay under when items are packed into
 * commands (-X, -m, --xargs), from the system's limits and the
 * environment, as GNU parallel reckons it; *found is the longest line its
 * search would find (what --max-line-length-allowed prints).
 */
size_t ccmap_line_max(size_t *found);

#endif
