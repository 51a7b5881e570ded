/*
 * Unit tests for the engine's core (dispatch.c, schedule.c, emit.c,
 * loop.c) on a fake executor: no thread, no process.  The fake "runs" a
 * job by writing its values on its stdout and ending it with the status
 * the test chooses, and ends the jobs in the order the test chooses, each
 * time the loop hands it control.  The tests check what the engine makes
 * of that: how items are packed into jobs, what is run again, when the
 * run halts, and in what order the output comes out.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ccmap.h"
#include "engine.h"
#include "exec.h"
#include "loop.h"
#include "task.h"
#include "util.h"

/* (String literals for the options' char *.) */
#pragma GCC diagnostic ignored "-Wdiscarded-qualifiers"

#define FAKE_MAX 64

struct fake {
	struct executor x;
	struct job *queue[FAKE_MAX];	/* given, not yet ended */
	size_t nq;
	size_t per_turn;	/* jobs ended each turn (0: all) */
	int lifo;		/* the last given ends first */
	/* The exit code of a job on its attempt (from 1). */
	int (*code)(const char *values, unsigned attempt);
	int kill_sig;		/* the first signal sent, or 0 */
	int held;		/* hold was called */
	char log[1024];		/* the jobs as they ended: "1 2|3|..." */
};

static struct fake *
fake_of(struct executor *x)
{
	return container_of(x, struct fake, x);
}

static int
fake_start(struct executor *x)
{
	(void)x;
	return 0;
}

static void
fake_submit(struct executor *x, struct job **jobs, size_t n)
{
	struct fake *f = fake_of(x);

	for (size_t i = 0; i < n; i++) {
		if (f->nq == FAKE_MAX)
			FAIL("the engine gave more than %d jobs at once",
			    FAKE_MAX);
		f->queue[f->nq++] = jobs[i];
	}
}

static void
fake_kill(struct executor *x, int sig)
{
	struct fake *f = fake_of(x);

	if (!f->kill_sig)
		f->kill_sig = sig;
}

static void
fake_hold(struct executor *x)
{
	fake_of(x)->held = 1;
}

static int
fake_abandon(struct executor *x)
{
	(void)x;
	return 0;
}

static unsigned
fake_running(struct executor *x)
{
	return (unsigned)fake_of(x)->nq;
}

static size_t
fake_nfds(struct executor *x)
{
	(void)x;
	return 0;
}

static size_t
fake_pollfds(struct executor *x, struct pollfd *fds)
{
	(void)x;
	(void)fds;
	return 0;
}

/* The job's values, joined by spaces, into buf. */
static const char *
job_values(const struct job *job, char *buf, size_t len)
{
	size_t k = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < job->nv && k < len; i++)
		k += (size_t)snprintf(buf + k, len - k, "%s%.*s", i ? " " : "",
		    (int)job->v[i].len, job->v[i].p);
	return buf;
}

static void
fake_end(struct fake *f, struct job *job)
{
	char v[256], line[300];

	job_values(job, v, sizeof v);
	snprintf(f->log + strlen(f->log), sizeof f->log - strlen(f->log),
	    "%s%s", f->log[0] ? "|" : "", v);
	if (f->kill_sig) {
		job->st.sig = f->kill_sig;
	} else {
		/* (A retried job says which attempt it is.) */
		int n = job->attempts > 1 ? snprintf(line, sizeof line,
		    "%s#%u\n", v, job->attempts) : snprintf(line, sizeof line,
		    "%s\n", v);
		f->x.on.data(&f->x, job, 1, line, (size_t)n);
		job->st.code = f->code ? f->code(v, job->attempts) : 0;
	}
	f->x.on.done(&f->x, job);
}

/* The loop's turn: end some of the jobs given. */
static int
fake_handle(struct executor *x, const struct pollfd *fds, size_t n)
{
	struct fake *f = fake_of(x);
	struct job *ending[FAKE_MAX];
	size_t k = f->per_turn && f->per_turn < f->nq ? f->per_turn : f->nq;

	(void)fds;
	(void)n;
	/* (Ending a job may give the next ones: they wait for a turn.) */
	for (size_t i = 0; i < k; i++)
		ending[i] = f->queue[f->lifo ? f->nq - 1 - i : i];
	if (f->lifo)
		f->nq -= k;
	else
		memmove(f->queue, f->queue + k, (f->nq -= k) * sizeof *f->queue);
	for (size_t i = 0; i < k; i++)
		fake_end(f, ending[i]);
	return 0;
}

static int
fake_timeout_ms(struct executor *x)
{
	return fake_of(x)->nq ? 0 : -1;
}

static int
fake_free(struct executor *x, int killed, int unfinished)
{
	(void)x;
	(void)killed;
	(void)unfinished;
	return 0;
}

static const struct executor_ops fake_ops = {
	.name = "fake",
	.start = fake_start,
	.submit = fake_submit,
	.kill = fake_kill,
	.hold = fake_hold,
	.hangup = fake_hold,
	.abandon = fake_abandon,
	.running = fake_running,
	.nfds = fake_nfds,
	.pollfds = fake_pollfds,
	.handle = fake_handle,
	.timeout_ms = fake_timeout_ms,
	.free = fake_free,
};

static char *echo[] = { "echo", "{}" };

/* Options for `echo {}` over the items, on jobs slots. */
static struct ccmap_opts
opts_for(struct ccmap_source *src, char **items, size_t n, unsigned jobs)
{
	struct ccmap_opts o;

	ccmap_opts_init(&o);
	o.command = echo;
	o.ncommand = 2;
	o.jobs = jobs;
	*src = (struct ccmap_source){ .args = items, .nargs = n };
	o.sources = src;
	o.nsources = 1;
	return o;
}

/* Run o on f; its standard output into out, the status returned. */
static int
run_fake(const struct ccmap_opts *o, struct fake *f,
    struct ccmap_result *res, char *out, size_t outlen)
{
	char err[256] = "";
	struct ccmap *c;
	FILE *tmp = tmpfile();
	int saved, r;
	size_t got;

	if (ccmap_new(&c, o, err, sizeof err) < 0)
		FAIL("ccmap_new: %s", err);
	f->x.ops = &fake_ops;
	f->x.c = c;
	ASSERT(tmp != NULL);
	fflush(stdout);
	saved = dup(1);
	ASSERT(saved >= 0 && dup2(fileno(tmp), 1) == 1);
	r = loop_run(c, res, &f->x);
	ASSERT(dup2(saved, 1) == 1);
	close(saved);
	ccmap_free(c);
	rewind(tmp);
	got = fread(out, 1, outlen - 1, tmp);
	out[got] = '\0';
	fclose(tmp);
	return r;
}

static char *nums[] = { "1", "2", "3", "4", "5", "6", "7", "8" };

TEST_IMPL(engine_output_in_input_order)
{
	struct ccmap_source src;
	struct ccmap_opts o = opts_for(&src, nums, 8, 2);
	struct fake f = { .lifo = 1 };
	struct ccmap_result res;
	char out[256];

	ASSERT_EQ(run_fake(&o, &f, &res, out, sizeof out), 0);
	/* The jobs ended out of order, the output is in input order. */
	ASSERT(strncmp(f.log, "1|2", 3) != 0);
	ASSERT_STR_EQ(out, "1\n2\n3\n4\n5\n6\n7\n8\n");
	ASSERT_EQ(res.failed, 0);
	return 0;
}

TEST_IMPL(engine_output_as_completed)
{
	struct ccmap_source src;
	struct ccmap_opts o = opts_for(&src, nums, 8, 2);
	struct fake f = { .lifo = 1 };
	struct ccmap_result res;
	char out[256], want[256];
	size_t k = 0;

	o.as_completed = 1;
	ASSERT_EQ(run_fake(&o, &f, &res, out, sizeof out), 0);
	/* In the order they ended: the log's, one a line. */
	for (const char *p = f.log; *p && k < sizeof want - 2; p++)
		want[k++] = *p == '|' ? '\n' : *p;
	want[k++] = '\n';
	want[k] = '\0';
	ASSERT(strcmp(out, "1\n2\n3\n4\n5\n6\n7\n8\n") != 0);
	ASSERT_STR_EQ(out, want);
	return 0;
}

TEST_IMPL(engine_packs_max_args)
{
	struct ccmap_source src;
	struct ccmap_opts o = opts_for(&src, nums, 7, 1);
	struct fake f = { 0 };
	struct ccmap_result res;
	char out[256];

	o.max_args = 3;		/* -n3 */
	ASSERT_EQ(run_fake(&o, &f, &res, out, sizeof out), 0);
	ASSERT_STR_EQ(f.log, "1 2 3|4 5 6|7");
	ASSERT_STR_EQ(out, "1 2 3\n4 5 6\n7\n");
	return 0;
}

TEST_IMPL(engine_packs_xargs_fill)
{
	struct ccmap_source src;
	struct ccmap_opts o = opts_for(&src, nums, 8, 1);
	struct fake f = { 0 };
	struct ccmap_result res;
	char out[256];

	o.fill = CCMAP_FILL_XARGS;	/* --xargs: as many as fit, one job */
	ASSERT_EQ(run_fake(&o, &f, &res, out, sizeof out), 0);
	ASSERT_STR_EQ(f.log, "1 2 3 4 5 6 7 8");
	return 0;
}

TEST_IMPL(engine_packs_x_spread_over_slots)
{
	struct ccmap_source src;
	struct ccmap_opts o = opts_for(&src, nums, 8, 3);
	struct fake f = { 0 };
	struct ccmap_result res;
	char out[256];

	/* -X -j3: as GNU parallel, the items spread over the 3 slots. */
	o.fill = CCMAP_FILL_CONTEXT;
	ASSERT_EQ(run_fake(&o, &f, &res, out, sizeof out), 0);
	ASSERT_STR_EQ(f.log, "1 2 3|4 5 6|7 8");
	ASSERT_STR_EQ(out, "1 2 3\n4 5 6\n7 8\n");
	return 0;
}

/* "a" fails on its first two attempts; "b" on every one. */
static int
flaky(const char *values, unsigned attempt)
{
	if (!strcmp(values, "a"))
		return attempt < 3;
	return !strcmp(values, "b") ? 7 : 0;
}

TEST_IMPL(engine_retries_keep_the_last_attempt)
{
	static char *items[] = { "a", "b", "c" };
	struct ccmap_source src;
	struct ccmap_opts o = opts_for(&src, items, 3, 1);
	struct fake f = { .code = flaky };
	struct ccmap_result res;
	char out[256];

	o.retries = 3;
	ASSERT_EQ(run_fake(&o, &f, &res, out, sizeof out), 0);
	/*
	 * Each tried until it succeeds or has had its three tries; a job
	 * to try again goes before the next item.
	 */
	ASSERT_STR_EQ(f.log, "a|b|a|b|a|b|c");
	/* A failed attempt's output goes; the last attempt's stays. */
	ASSERT_STR_EQ(out, "a#3\nb#3\nc\n");
	ASSERT_EQ(res.failed, 1);
	ASSERT_EQ(ccmap_exit_status(&res), 1);
	return 0;
}

/* "2" fails. */
static int
two_fails(const char *values, unsigned attempt)
{
	(void)attempt;
	return !strcmp(values, "2") ? 4 : 0;
}

TEST_IMPL(engine_halt_now_kills_the_running)
{
	struct ccmap_source src;
	struct ccmap_opts o = opts_for(&src, nums, 8, 2);
	struct fake f = { .code = two_fails, .per_turn = 1 };
	struct ccmap_result res;
	char out[256];

	ASSERT_EQ(ccmap_parse_halt("now,fail=1", &o.halt), 0);
	ASSERT_EQ(run_fake(&o, &f, &res, out, sizeof out), 0);
	/* 3 started when 1 ended; 2's failure killed it; none came after. */
	ASSERT_STR_EQ(f.log, "1|2|3");
	ASSERT_EQ(f.kill_sig, SIGTERM);
	ASSERT_STR_EQ(out, "1\n2\n");	/* the killed job's output goes */
	ASSERT(res.halted);
	ASSERT_EQ(res.halt_status, 4);
	return 0;
}

TEST_IMPL(engine_halt_soon_lets_the_running_end)
{
	struct ccmap_source src;
	struct ccmap_opts o = opts_for(&src, nums, 8, 2);
	struct fake f = { .code = two_fails, .per_turn = 1 };
	struct ccmap_result res;
	char out[256];

	ASSERT_EQ(ccmap_parse_halt("soon,fail=1", &o.halt), 0);
	ASSERT_EQ(run_fake(&o, &f, &res, out, sizeof out), 0);
	ASSERT_STR_EQ(f.log, "1|2|3");
	ASSERT_EQ(f.kill_sig, 0);
	ASSERT(f.held);
	ASSERT_STR_EQ(out, "1\n2\n3\n");
	ASSERT(res.halted);
	ASSERT_EQ(res.halt_status, 4);
	return 0;
}
