/* Unit tests for src/procpool.[ch]: pre-forked worker processes. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procpool.h"
#include "strbuf.h"
#include "task.h"

/* The engine takes char * arrays; string literals are fine here. */
#pragma GCC diagnostic ignored "-Wdiscarded-qualifiers"

extern char **environ;

/* In ccmap: what came back for one job. */
struct result {
	struct strbuf out, err;
	struct job_status st;
	int done;
	int data_after_done;
};

struct state {
	struct result *res;
	size_t n, ndone;
	int bad_cookie;
};

/*
 * In the worker: write the values back, "v1|v2|..." on stdout and the
 * slot on stderr; exit code = length of the first value.  "ABORT" aborts,
 * "HANG" never ends.
 */
static void echo_job(void *arg, const struct jobvals *jv,
		     const struct spawn_io *io, struct job_status *st)
{
	char buf[64];
	int n;

	(void)arg;
	memset(st, 0, sizeof *st);
	for (size_t i = 0; i < jv->n; i++) {
		if (i)
			io->data(io->arg, 1, "|", 1);
		io->data(io->arg, 1, jv->v[i].p, jv->v[i].len);
	}
	n = snprintf(buf, sizeof buf, "seq=%llu", jv->seq);
	io->data(io->arg, 2, buf, (size_t)n);
	if (jv->n && jv->v[0].len == 5 && memcmp(jv->v[0].p, "ABORT", 5) == 0)
		abort();
	if (jv->n && jv->v[0].len == 4 && memcmp(jv->v[0].p, "HANG", 4) == 0)
		for (;;)
			pause();
	st->code = jv->n ? (int)jv->v[0].len : 0;
}

static void on_data(void *arg, void *cookie, int stream, const char *buf,
		    size_t len)
{
	struct state *s = arg;
	struct result *r = cookie;

	if (r < s->res || r >= s->res + s->n) {
		s->bad_cookie = 1;
		return;
	}
	if (r->done)
		r->data_after_done = 1;
	strbuf_add(stream == 1 ? &r->out : &r->err, buf, len);
}

static void on_done(void *arg, void *cookie, const struct job_status *st)
{
	struct state *s = arg;
	struct result *r = cookie;

	if (r < s->res || r >= s->res + s->n) {
		s->bad_cookie = 1;
		return;
	}
	r->done++;
	r->st = *st;
	s->ndone++;
}

/* Poll and handle until every job is done. */
static void drive(struct procpool *pp, struct state *s)
{
	size_t nfds = procpool_nfds(pp);
	struct pollfd *fds = calloc(nfds, sizeof *fds);

	ASSERT_NOT_NULL(fds);
	while (s->ndone < s->n) {
		size_t n = procpool_pollfds(pp, fds);
		int r;

		ASSERT_LE(n, nfds);
		r = poll(fds, (nfds_t)n, 20000);
		if (r == 0)
			FAIL("stuck: %zu of %zu jobs done", s->ndone, s->n);
		if (r < 0 && errno == EINTR)
			continue;
		ASSERT_GT(r, 0);
		ASSERT_OK(procpool_handle(pp, fds, n));
	}
	free(fds);
}

/* Values of job i: "v<i>" (and "w<i>" with two sources). */
static void make_values(struct value *v, char (*store)[2][16], size_t i,
			size_t nsrc)
{
	snprintf(store[i][0], 16, "v%zu", i);
	snprintf(store[i][1], 16, "w%zu", i);
	for (size_t k = 0; k < nsrc; k++)
		v[k] = (struct value){ store[i][k], strlen(store[i][k]) };
}

static void no_cores(void)
{
	struct rlimit rl = { 0, 0 };

	setrlimit(RLIMIT_CORE, &rl);
	signal(SIGPIPE, SIG_IGN);
}

TEST_IMPL(procpool_all_jobs_once)
{
	const size_t n = 300, nsrc = 2;
	struct procpool_ops ops = {
		.job = echo_job, .capture = 1, .data = on_data, .done = on_done,
	};
	struct state s = { .n = n };
	struct procpool *pp = NULL;
	char (*store)[2][16] = calloc(n, sizeof *store);
	struct value *vals = calloc(n * nsrc, sizeof *vals);
	size_t i = 0;

	no_cores();
	s.res = calloc(n, sizeof *s.res);
	ASSERT_NOT_NULL(s.res);
	ASSERT_NOT_NULL(store);
	ASSERT_NOT_NULL(vals);
	ops.arg = &s;
	ASSERT_OK(procpool_new(&pp, 2, &ops, -1));

	/* Submit in chunks of 1 to 9 jobs. */
	while (i < n) {
		size_t k = 1 + i % 9, j;
		void *cookies[9];
		struct jobvals jv[9];

		if (k > n - i)
			k = n - i;
		for (j = 0; j < k; j++) {
			make_values(&vals[(i + j) * nsrc], store, i + j, nsrc);
			cookies[j] = &s.res[i + j];
			jv[j] = (struct jobvals){ .v = &vals[(i + j) * nsrc],
				.n = nsrc, .seq = i + j + 1 };
		}
		procpool_submit(pp, cookies, jv, k);
		i += k;
	}
	drive(pp, &s);
	ASSERT_EQ(s.bad_cookie, 0);
	for (i = 0; i < n; i++) {
		struct result *r = &s.res[i];
		char want[64];

		ASSERT_EQ(r->done, 1);
		ASSERT_EQ(r->data_after_done, 0);
		snprintf(want, sizeof want, "v%zu|w%zu", i, i);
		ASSERT_STR_EQ(r->out.buf, want);
		snprintf(want, sizeof want, "seq=%zu", i + 1);
		ASSERT_STR_EQ(r->err.buf, want);
		ASSERT_EQ(r->st.code, (int)strlen(store[i][0]));
		ASSERT_EQ(r->st.sig, 0);
		ASSERT_EQ(r->st.err, 0);
	}
	procpool_free(pp);
	for (i = 0; i < n; i++) {
		strbuf_release(&s.res[i].out);
		strbuf_release(&s.res[i].err);
	}
	free(s.res);
	free(store);
	free(vals);
	return 0;
}

TEST_IMPL(procpool_big_values)
{
	/* Values and output larger than a pipe's buffer. */
	const size_t n = 6, size = 200 * 1024;
	struct procpool_ops ops = {
		.job = echo_job, .capture = 1, .data = on_data, .done = on_done,
	};
	struct state s = { .n = n };
	struct procpool *pp = NULL;
	char *big = malloc(n * size);
	struct value *vals = calloc(n, sizeof *vals);
	void **cookies = calloc(n, sizeof *cookies);
	struct jobvals *jv = calloc(n, sizeof *jv);

	no_cores();
	s.res = calloc(n, sizeof *s.res);
	ASSERT_NOT_NULL(s.res);
	ASSERT_NOT_NULL(big);
	ops.arg = &s;
	ASSERT_OK(procpool_new(&pp, 2, &ops, -1));
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < size; k++)
			big[i * size + k] = (char)((k * 13 + i) & 0xff);
		vals[i] = (struct value){ big + i * size, size };
		cookies[i] = &s.res[i];
		jv[i] = (struct jobvals){ .v = &vals[i], .n = 1, .seq = i + 1 };
	}
	procpool_submit(pp, cookies, jv, n);
	drive(pp, &s);
	for (size_t i = 0; i < n; i++) {
		ASSERT_EQ(s.res[i].done, 1);
		ASSERT_MEM_EQ(s.res[i].out.buf, s.res[i].out.len, big + i * size,
			      size);
		ASSERT_EQ(s.res[i].st.code, (int)size);
		strbuf_release(&s.res[i].out);
		strbuf_release(&s.res[i].err);
	}
	procpool_free(pp);
	free(s.res);
	free(big);
	free(vals);
	free(cookies);
	free(jv);
	return 0;
}

TEST_IMPL(procpool_worker_abort)
{
	const size_t n = 40, bad = 13;
	struct procpool_ops ops = {
		.job = echo_job, .capture = 1, .data = on_data, .done = on_done,
	};
	struct state s = { .n = n };
	struct procpool *pp = NULL;
	char (*store)[2][16] = calloc(n, sizeof *store);
	struct value *vals = calloc(n, sizeof *vals);
	void **cookies = calloc(n, sizeof *cookies);
	struct jobvals *jv = calloc(n, sizeof *jv);

	no_cores();
	s.res = calloc(n, sizeof *s.res);
	ASSERT_NOT_NULL(s.res);
	ops.arg = &s;
	ASSERT_OK(procpool_new(&pp, 2, &ops, -1));
	for (size_t i = 0; i < n; i++) {
		make_values(&vals[i], store, i, 1);
		if (i == bad)
			vals[i] = (struct value){ "ABORT", 5 };
		cookies[i] = &s.res[i];
		jv[i] = (struct jobvals){ .v = &vals[i], .n = 1, .seq = i + 1 };
	}
	/* In chunks, so that jobs wait behind the one that aborts. */
	for (size_t i = 0; i < n; i += 8)
		procpool_submit(pp, cookies + i, jv + i, n - i < 8 ? n - i : 8);
	drive(pp, &s);
	ASSERT_EQ(s.bad_cookie, 0);
	for (size_t i = 0; i < n; i++) {
		struct result *r = &s.res[i];

		ASSERT_EQ(r->done, 1);
		if (i == bad) {
			ASSERT_EQ(r->st.sig, SIGABRT);
			ASSERT_EQ(r->st.err, 0);
			/* What it wrote before it died still came. */
			ASSERT_STR_EQ(r->out.buf, "ABORT");
			continue;
		}
		ASSERT_EQ(r->st.sig, 0);
		ASSERT_EQ(r->st.err, 0);
		ASSERT_EQ(r->st.code, (int)strlen(store[i][0]));
		ASSERT_STR_EQ(r->out.buf, store[i][0]);
	}

	/* The pool still works afterwards, on both workers. */
	for (size_t i = 0; i < n; i++) {
		strbuf_release(&s.res[i].out);
		strbuf_release(&s.res[i].err);
		memset(&s.res[i], 0, sizeof s.res[i]);
		make_values(&vals[i], store, i, 1);
		jv[i].seq = n + i + 1;
	}
	s.ndone = 0;
	for (size_t i = 0; i < n; i += 4)
		procpool_submit(pp, cookies + i, jv + i, 4);
	drive(pp, &s);
	for (size_t i = 0; i < n; i++) {
		ASSERT_EQ(s.res[i].done, 1);
		ASSERT_EQ(s.res[i].st.sig, 0);
		ASSERT_STR_EQ(s.res[i].out.buf, store[i][0]);
		strbuf_release(&s.res[i].out);
		strbuf_release(&s.res[i].err);
	}
	procpool_free(pp);
	free(s.res);
	free(store);
	free(vals);
	free(cookies);
	free(jv);
	return 0;
}

TEST_IMPL(procpool_several_aborts)
{
	/* Every third job aborts: workers are replaced again and again. */
	const size_t n = 30;
	struct procpool_ops ops = {
		.job = echo_job, .capture = 1, .data = on_data, .done = on_done,
	};
	struct state s = { .n = n };
	struct procpool *pp = NULL;
	char (*store)[2][16] = calloc(n, sizeof *store);
	struct value *vals = calloc(n, sizeof *vals);
	void **cookies = calloc(n, sizeof *cookies);
	struct jobvals *jv = calloc(n, sizeof *jv);

	no_cores();
	s.res = calloc(n, sizeof *s.res);
	ASSERT_NOT_NULL(s.res);
	ops.arg = &s;
	ASSERT_OK(procpool_new(&pp, 3, &ops, -1));
	for (size_t i = 0; i < n; i++) {
		make_values(&vals[i], store, i, 1);
		if (i % 3 == 1)
			vals[i] = (struct value){ "ABORT", 5 };
		cookies[i] = &s.res[i];
		jv[i] = (struct jobvals){ .v = &vals[i], .n = 1, .seq = i + 1 };
	}
	procpool_submit(pp, cookies, jv, n);	/* all to one worker */
	drive(pp, &s);
	for (size_t i = 0; i < n; i++) {
		ASSERT_EQ(s.res[i].done, 1);
		if (i % 3 == 1)
			ASSERT_EQ(s.res[i].st.sig, SIGABRT);
		else
			ASSERT_STR_EQ(s.res[i].out.buf, store[i][0]);
		strbuf_release(&s.res[i].out);
		strbuf_release(&s.res[i].err);
	}
	procpool_free(pp);
	free(s.res);
	free(store);
	free(vals);
	free(cookies);
	free(jv);
	return 0;
}

/* In the worker: write the job's slot. */
static void slot_job(void *arg, const struct jobvals *jv,
		     const struct spawn_io *io, struct job_status *st)
{
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%u", jv->slot);

	(void)arg;
	memset(st, 0, sizeof *st);
	io->data(io->arg, 1, buf, (size_t)n);
	st->code = 4;
}

TEST_IMPL(procpool_slots)
{
	/* Each worker has its own slot, from 1; a job sees its worker's.
	 * Two jobs submitted at once go to the two idle workers. */
	const size_t n = 2;
	struct procpool_ops ops = {
		.job = slot_job, .capture = 1, .data = on_data, .done = on_done,
	};
	struct state s = { .n = n };
	struct procpool *pp = NULL;

	no_cores();
	s.res = calloc(n, sizeof *s.res);
	ASSERT_NOT_NULL(s.res);
	ops.arg = &s;
	ASSERT_OK(procpool_new(&pp, 2, &ops, -1));
	ASSERT_EQ(procpool_nfds(pp), 4);
	for (size_t i = 0; i < n; i++) {
		struct value v = { "slot", 4 };
		void *cookie = &s.res[i];
		struct jobvals jv = { .v = &v, .n = 1, .seq = i + 1 };

		procpool_submit(pp, &cookie, &jv, 1);
	}
	drive(pp, &s);
	for (size_t i = 0; i < n; i++) {
		ASSERT_EQ(s.res[i].done, 1);
		ASSERT_EQ(s.res[i].st.code, 4);
		ASSERT_EQ(strtol(s.res[i].out.buf, NULL, 10), (long)i + 1);
		strbuf_release(&s.res[i].out);
		strbuf_release(&s.res[i].err);
	}
	procpool_free(pp);
	free(s.res);
	return 0;
}

/* In the worker: run the value as a shell command, as ccmap runs a job. */
static void sh_job(void *arg, const struct jobvals *jv,
		   const struct spawn_io *io, struct job_status *st)
{
	struct spawn_ctx ctx = { .own_pgroup = 1 };
	struct cmdbuf cb;
	char *line = strndup(jv->v[0].p, jv->v[0].len);
	char *argv[] = { "/bin/sh", "-c", line, NULL };

	(void)arg;
	memset(&cb, 0, sizeof cb);
	cb.file = argv[0];
	cb.argv = argv;
	ctx.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	sigemptyset(&ctx.sigdef);
	spawn_job(&ctx, &cb, environ, io, st);
	close(ctx.devnull);
	free(line);
}

/* Poll and handle until the first job has written a line (its pid). */
static pid_t first_pid(struct procpool *pp, struct state *s)
{
	struct pollfd fds[8];

	while (!memchr(s->res[0].out.buf ? s->res[0].out.buf : "", '\n',
	    s->res[0].out.len)) {
		size_t n = procpool_pollfds(pp, fds);
		int r = poll(fds, (nfds_t)n, 20000);

		if (r == 0)
			FAIL("the job wrote nothing");
		if (r < 0 && errno == EINTR)
			continue;
		ASSERT_OK(procpool_handle(pp, fds, n));
	}
	return (pid_t)strtol(s->res[0].out.buf, NULL, 10);
}

TEST_IMPL(procpool_kill_any_signal)
{
	/*
	 * Any signal reaches the job's group through its worker (which
	 * lives on to report it), not just those a worker passes on.
	 */
	struct procpool_ops ops = {
		.job = sh_job, .capture = 1, .data = on_data, .done = on_done,
	};
	struct state s = { .n = 1 };
	struct procpool *pp = NULL;
	struct value v = { "echo $$; exec sleep 30", 22 };
	struct jobvals jv = { .v = &v, .n = 1, .seq = 1 };
	void *cookie;
	pid_t job;

	no_cores();
	s.res = calloc(1, sizeof *s.res);
	ASSERT_NOT_NULL(s.res);
	ops.arg = &s;
	cookie = &s.res[0];
	ASSERT_OK(procpool_new(&pp, 1, &ops, -1));
	procpool_submit(pp, &cookie, &jv, 1);
	job = first_pid(pp, &s);
	ASSERT_GT(job, 0);
	procpool_kill(pp, SIGUSR2);
	drive(pp, &s);
	ASSERT_EQ(s.res[0].st.sig, SIGUSR2);
	/* Its worker reaped it: it was not left behind. */
	if (kill(job, 0) == 0) {
		kill(job, SIGKILL);
		FAIL("the job %d outlived its worker", (int)job);
	}
	ASSERT_EQ(errno, ESRCH);
	procpool_free(pp);
	strbuf_release(&s.res[0].out);
	strbuf_release(&s.res[0].err);
	free(s.res);
	return 0;
}

TEST_IMPL(procpool_kill_zero)
{
	/* No signal: the running job finishes, the queued one does not run. */
	struct procpool_ops ops = {
		.job = sh_job, .capture = 1, .data = on_data, .done = on_done,
	};
	struct state s = { .n = 2 };
	struct procpool *pp = NULL;
	struct value v[2] = {
		{ "echo $$; sleep 0.2; echo end", 28 }, { "echo two", 8 },
	};
	struct jobvals jv[2] = {
		{ .v = &v[0], .n = 1, .seq = 1 }, { .v = &v[1], .n = 1, .seq = 2 },
	};
	void *cookies[2];

	no_cores();
	s.res = calloc(2, sizeof *s.res);
	ASSERT_NOT_NULL(s.res);
	ops.arg = &s;
	cookies[0] = &s.res[0];
	cookies[1] = &s.res[1];
	ASSERT_OK(procpool_new(&pp, 1, &ops, -1));
	procpool_submit(pp, cookies, jv, 2);
	ASSERT_GT(first_pid(pp, &s), 0);
	procpool_kill(pp, 0);
	drive(pp, &s);
	ASSERT_EQ(s.res[0].st.sig, 0);
	ASSERT_EQ(s.res[0].st.code, 0);
	ASSERT(strstr(s.res[0].out.buf, "end\n") != NULL);
	ASSERT_EQ(s.res[1].st.err, ECANCELED);
	ASSERT_EQ(s.res[1].out.len, 0);
	procpool_free(pp);
	for (int i = 0; i < 2; i++) {
		strbuf_release(&s.res[i].out);
		strbuf_release(&s.res[i].err);
	}
	free(s.res);
	return 0;
}

TEST_IMPL(procpool_workers_die_with_parent)
{
	/*
	 * The process that made the pool is killed with SIGKILL: its worker
	 * dies too, busy as it is (an idle one would see its pipe end).  As
	 * a subreaper, this test inherits it.  The owner is killed once the
	 * job has written: before, the worker might not yet have asked to
	 * die with it, and would find it gone and exit (wpipe.c).
	 */
	struct procpool_ops ops = {
		.job = echo_job, .capture = 1, .data = on_data, .done = on_done,
	};
	struct result res = { .out = STRBUF_INIT, .err = STRBUF_INIT };
	struct state s = { .res = &res, .n = 1 };
	int p[2], status, workers = 0;
	pid_t owner, pid;
	char c;

	no_cores();
	ASSERT_OK(prctl(PR_SET_CHILD_SUBREAPER, 1));
	ASSERT_OK(pipe(p));
	owner = fork();
	ASSERT_GE(owner, 0);
	if (owner == 0) {
		struct procpool *pp = NULL;
		struct value v = { "HANG", 4 };
		struct jobvals jv = { .v = &v, .n = 1, .seq = 1 };
		void *cookie = &res;
		ops.arg = &s;
		if (procpool_new(&pp, 1, &ops, -1) < 0)
			_exit(1);
		procpool_submit(pp, &cookie, &jv, 1);	/* (written at once) */
		while (res.out.len == 0) {
			struct pollfd fds[8];
			size_t n = procpool_pollfds(pp, fds);
			int r = poll(fds, (nfds_t)n, 20000);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0 || procpool_handle(pp, fds, n) < 0)
				_exit(1);
		}
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	ASSERT_EQ(read(p[0], &c, 1), 1);
	kill(owner, SIGKILL);
	while ((pid = waitpid(-1, &status, 0)) > 0) {
		ASSERT(WIFSIGNALED(status));
		ASSERT_EQ(WTERMSIG(status), SIGKILL);
		workers += pid != owner;
	}
	ASSERT_EQ(errno, ECHILD);
	ASSERT_EQ(workers, 1);
	return 0;
}
