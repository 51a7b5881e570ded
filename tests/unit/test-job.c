/* Unit tests for src/job.[ch]: spawning one job. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "job.h"
#include "output.h"
#include "strbuf.h"
#include "task.h"
#include "template.h"
#include "threadpool.h"

/* The engine takes char * arrays; string literals are fine here. */
#pragma GCC diagnostic ignored "-Wdiscarded-qualifiers"

/* What a job sent back. */
struct captured {
	struct strbuf out, err;
	int bad_stream;
	pid_t pid;		/* from started(pid) */
	pid_t pgid;		/* getpgid(pid) inside the callback */
	int started, ended;
};

static void on_data(void *arg, int stream, const char *buf, size_t len)
{
	struct captured *c = arg;

	if (stream == 1)
		strbuf_add(&c->out, buf, len);
	else if (stream == 2)
		strbuf_add(&c->err, buf, len);
	else
		c->bad_stream = 1;
}

static void on_started(void *arg, pid_t pid)
{
	struct captured *c = arg;

	if (pid) {
		c->started++;
		c->pid = pid;
		c->pgid = getpgid(pid);
	} else {
		c->ended++;
	}
}

struct runner {
	struct spawn_ctx ctx;
	struct jobenv env;
};

static void runner_init(struct runner *r, int own_pgroup)
{
	memset(r, 0, sizeof *r);
	r->ctx.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_GE(r->ctx.devnull, 0);
	r->ctx.own_pgroup = own_pgroup;
	sigemptyset(&r->ctx.sigdef);
	sigaddset(&r->ctx.sigdef, SIGPIPE);
	jobenv_init(&r->env);
}

static void runner_release(struct runner *r)
{
	close(r->ctx.devnull);
	jobenv_release(&r->env);
}

/*
 * Run the template words (NULL-terminated) with one value; captured output
 * in c (initialised here).  Returns spawn_job's result.
 */
static int run(struct runner *r, char **words, const char *value,
	       struct captured *c, struct job_status *st)
{
	struct template *t = NULL;
	struct cmdbuf cb;
	struct value v = { value, strlen(value) };
	struct jobvals jv = { .v = &v, .n = 1, .seq = 1, .slot = 1 };
	struct spawn_io io = {
		.capture = 1, .data = on_data, .started = on_started, .arg = c,
	};
	char err[256];
	size_t n = 0;
	int ret;

	memset(c, 0, sizeof *c);
	while (words[n])
		n++;
	if (template_parse(&t, words, n, NULL, 0, 1, "/bin/sh", err, sizeof err))
		FAIL("template_parse: %s", err);
	cmdbuf_init(&cb);
	template_argv(t, &jv, &cb);
	ret = spawn_job(&r->ctx, &cb, r->env.envp, &io, st);
	cmdbuf_release(&cb);
	template_free(t);
	ASSERT_EQ(c->bad_stream, 0);
	return ret;
}

static void captured_release(struct captured *c)
{
	strbuf_release(&c->out);
	strbuf_release(&c->err);
}

TEST_IMPL(job_exit_code)
{
	char *w[] = { "exit", "{}", NULL };
	char *w2[] = { "sh", "-c", "{}", NULL };
	struct runner r;
	struct captured c;
	struct job_status st;

	runner_init(&r, 0);
	ASSERT_OK(run(&r, w, "3", &c, &st));
	ASSERT_EQ(st.code, 3);
	ASSERT_EQ(st.sig, 0);
	ASSERT_EQ(st.err, 0);
	ASSERT(job_failed(&st));
	captured_release(&c);

	ASSERT_OK(run(&r, w2, "exit 0", &c, &st));
	ASSERT_EQ(st.code, 0);
	ASSERT(!job_failed(&st));
	ASSERT_EQ(c.started, 1);
	ASSERT_EQ(c.ended, 1);
	captured_release(&c);

	ASSERT_OK(run(&r, w2, "exit 255", &c, &st));
	ASSERT_EQ(st.code, 255);
	captured_release(&c);
	runner_release(&r);
	return 0;
}

TEST_IMPL(job_signal)
{
	char *w[] = { "sh", "-c", "{}", NULL };
	struct runner r;
	struct captured c;
	struct job_status st;
	char name[16];

	runner_init(&r, 0);
	ASSERT_OK(run(&r, w, "echo before; kill -KILL $$; echo after", &c, &st));
	ASSERT_EQ(st.sig, SIGKILL);
	ASSERT_EQ(st.err, 0);
	ASSERT(job_failed(&st));
	ASSERT_STR_EQ(c.out.buf, "before\n");
	captured_release(&c);

	ASSERT_OK(run(&r, w, "kill -TERM $$", &c, &st));
	ASSERT_EQ(st.sig, SIGTERM);
	captured_release(&c);
	ASSERT_STR_EQ(signal_name(SIGTERM, name), "SIGTERM");
	ASSERT_STR_EQ(signal_name(SIGKILL, name), "SIGKILL");
	runner_release(&r);
	return 0;
}

TEST_IMPL(job_not_found)
{
	char *w[] = { "/nonexistent-ccmap/cmd", "{}", NULL };
	char *w2[] = { "no-such-command-ccmap-xyz", "{}", NULL };
	struct runner r;
	struct captured c;
	struct job_status st;

	runner_init(&r, 0);
	ASSERT_EQ(run(&r, w, "x", &c, &st), -ENOENT);
	ASSERT_EQ(st.err, ENOENT);
	ASSERT_EQ(st.code, 127);
	ASSERT_EQ(st.sig, 0);
	ASSERT(job_failed(&st));
	ASSERT_EQ(c.started, 0);
	captured_release(&c);

	/* Looked up in PATH. */
	ASSERT_EQ(run(&r, w2, "x", &c, &st), -ENOENT);
	ASSERT_EQ(st.err, ENOENT);
	ASSERT_EQ(st.code, 127);
	captured_release(&c);
	runner_release(&r);
	return 0;
}

TEST_IMPL(job_not_executable)
{
	char path[] = "/tmp/ccmap-test-noexec.XXXXXX";
	char *w[] = { path, "{}", NULL };
	struct runner r;
	struct captured c;
	struct job_status st;
	int fd = mkstemp(path);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(write(fd, "#!/bin/sh\necho hi\n", 18), 18);
	close(fd);
	ASSERT_OK(chmod(path, 0644));
	runner_init(&r, 0);
	ASSERT_EQ(run(&r, w, "x", &c, &st), -EACCES);
	unlink(path);
	ASSERT_EQ(st.err, EACCES);
	ASSERT_EQ(st.code, 126);
	ASSERT(job_failed(&st));
	ASSERT_EQ(c.out.len, 0);
	captured_release(&c);
	runner_release(&r);
	return 0;
}

TEST_IMPL(job_capture_streams)
{
	char *w[] = { "sh", "-c", "{}", NULL };
	struct runner r;
	struct captured c;
	struct job_status st;

	runner_init(&r, 0);
	ASSERT_OK(run(&r, w, "echo out1; echo err1 >&2; printf 'out\\0two'; "
		      "printf err2 >&2", &c, &st));
	ASSERT_EQ(st.code, 0);
	ASSERT_MEM_EQ(c.out.buf, c.out.len, "out1\nout\0two", 12);
	ASSERT_STR_EQ(c.err.buf, "err1\nerr2");
	captured_release(&c);

	/* A lot of output on both at once cannot deadlock. */
	ASSERT_OK(run(&r, w, "head -c 300000 /dev/zero; "
		      "head -c 200000 /dev/zero >&2; "
		      "head -c 300000 /dev/zero", &c, &st));
	ASSERT_EQ(st.code, 0);
	ASSERT_EQ(c.out.len, 600000);
	ASSERT_EQ(c.err.len, 200000);
	captured_release(&c);
	runner_release(&r);
	return 0;
}

TEST_IMPL(job_direct_argv)
{
	/* echo {} runs directly: the value arrives as one argument. */
	char *w[] = { "printf", "[%s]", "{}", NULL };
	struct runner r;
	struct captured c;
	struct job_status st;

	runner_init(&r, 0);
	ASSERT_OK(run(&r, w, "a  b'c\"$HOME;|*", &c, &st));
	ASSERT_EQ(st.code, 0);
	ASSERT_STR_EQ(c.out.buf, "[a  b'c\"$HOME;|*]");
	captured_release(&c);
	runner_release(&r);
	return 0;
}

TEST_IMPL(job_stdin_devnull)
{
	char *w[] = { "sh", "-c", "{}", NULL };
	struct runner r;
	struct captured c;
	struct job_status st;

	runner_init(&r, 0);
	/* cat gets end of input at once (else the alarm ends the test). */
	ASSERT_OK(run(&r, w, "cat; echo rc=$?; wc -c", &c, &st));
	ASSERT_EQ(st.code, 0);
	ASSERT_STR_EQ(c.out.buf, "rc=0\n0\n");
	captured_release(&c);
	runner_release(&r);
	return 0;
}

TEST_IMPL(job_environment)
{
	char *w[] = { "sh", "-c", "{}", NULL };
	struct runner r;
	struct captured c;
	struct job_status st;

	/* A CCMAP_SEQ of ours is replaced, not doubled. */
	ASSERT_OK(setenv("CCMAP_SEQ", "999", 1));
	ASSERT_OK(setenv("CCMAP_TEST_KEEP", "kept", 1));
	runner_init(&r, 0);
	jobenv_set(&r.env, 42, 3);
	ASSERT_OK(run(&r, w, "echo $CCMAP_SEQ/$CCMAP_SLOT/$CCMAP_TEST_KEEP; "
		      "env | grep -c '^CCMAP_SEQ='", &c, &st));
	ASSERT_STR_EQ(c.out.buf, "42/3/kept\n1\n");
	captured_release(&c);
	jobenv_set(&r.env, 18446744073709551615ULL, 4294967295U);
	ASSERT_OK(run(&r, w, "echo $CCMAP_SEQ/$CCMAP_SLOT", &c, &st));
	ASSERT_STR_EQ(c.out.buf, "18446744073709551615/4294967295\n");
	captured_release(&c);
	runner_release(&r);
	return 0;
}

TEST_IMPL(job_own_pgroup)
{
	char *w[] = { "sh", "-c", "{}", NULL };
	struct runner r;
	struct captured c;
	struct job_status st;

	runner_init(&r, 1);
	ASSERT_OK(run(&r, w, "echo $$", &c, &st));
	ASSERT_EQ(st.code, 0);
	ASSERT_EQ(c.started, 1);
	ASSERT_EQ(c.ended, 1);
	ASSERT_GT(c.pid, 0);
	ASSERT_EQ(c.pgid, c.pid);
	ASSERT_EQ(strtol(c.out.buf, NULL, 10), c.pid);
	captured_release(&c);
	runner_release(&r);

	/* Without it, the job stays in ours. */
	runner_init(&r, 0);
	ASSERT_OK(run(&r, w, "echo $$", &c, &st));
	ASSERT_EQ(c.pgid, getpgrp());
	captured_release(&c);
	runner_release(&r);
	return 0;
}

TEST_IMPL(job_signals_reset)
{
	char *w[] = { "sh", "-c", "{}", NULL };
	struct runner r;
	struct captured c;
	struct job_status st;
	sigset_t block, old;

	/* Ignored and blocked in us; default and unblocked in the job. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	runner_init(&r, 0);
	ASSERT_OK(run(&r, w, "grep -E '^Sig(Blk|Ign)' /proc/self/status", &c,
		      &st));
	sigprocmask(SIG_SETMASK, &old, NULL);
	{
		const char *blk = strstr(c.out.buf ? c.out.buf : "", "SigBlk:");
		const char *ign = strstr(c.out.buf ? c.out.buf : "", "SigIgn:");
		unsigned long long b, i;

		ASSERT_NOT_NULL(blk);
		ASSERT_NOT_NULL(ign);
		b = strtoull(blk + 7, NULL, 16);
		i = strtoull(ign + 7, NULL, 16);
		/* Bit n-1 stands for signal n. */
		ASSERT_EQ(b, 0);
		ASSERT_EQ(i & (1ULL << (SIGPIPE - 1)), 0);
	}
	captured_release(&c);
	runner_release(&r);
	return 0;
}

TEST_IMPL(job_no_fd_leak)
{
	char *w[] = { "ls", "{}", NULL };
	struct runner r;
	struct captured c;
	struct job_status st;
	struct threadpool *tp = NULL;
	struct output *o = NULL;
	struct output_opts oo = { .mem_limit = 1, .tmpdir = "/tmp",
				  .fd = { -1, -1 } };
	struct joboutput jo;
	DIR *d;
	struct dirent *de;

	/* Whatever we inherited from the test harness is not the engine's. */
	d = opendir("/proc/self/fd");
	ASSERT_NOT_NULL(d);
	while ((de = readdir(d)) != NULL) {
		int fd = atoi(de->d_name);

		if (de->d_name[0] != '.' && fd > 2 && fd != dirfd(d))
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	closedir(d);

	/* Descriptors the engine holds while jobs run. */
	runner_init(&r, 1);
	ASSERT_OK(threadpool_new(&tp, 1, NULL));
	output_new(&o, &oo);
	joboutput_init(&jo);
	output_data(o, &jo, 1, "spilled", 7);	/* opens the spill file */
	ASSERT_GT(output_spilled(o), 0);

	ASSERT_OK(run(&r, w, "/proc/self/fd", &c, &st));
	ASSERT_EQ(st.code, 0);
	/* 0-2 and the directory ls itself reads. */
	ASSERT_STR_EQ(c.out.buf, "0\n1\n2\n3\n");
	captured_release(&c);

	joboutput_release(o, &jo);
	output_free(o);
	threadpool_free(tp);
	runner_release(&r);
	return 0;
}

TEST_IMPL(job_timeout_termseq)
{
	/* Past --timeout, a job gets the kill sequence, step by step. */
	char *w[] = { "sh", "-c", "{}", NULL };
	struct ccmap_termseq ts = { 2, { { SIGINT, 50 }, { SIGUSR1, 50 } } };
	struct runner r;
	struct captured c;
	struct job_status st;

	runner_init(&r, 1);
	r.ctx.timeout_ns = 50 * 1000000LL;
	r.ctx.termseq = &ts;
	/* Its first signal, not SIGTERM. */
	ASSERT_OK(run(&r, w, "exec sleep 30", &c, &st));
	ASSERT_EQ(st.timed_out, 1);
	ASSERT_EQ(st.sig, SIGINT);
	captured_release(&c);
	/* A job that catches it ends as it will. */
	ASSERT_OK(run(&r, w, "trap 'exit 3' INT; while :; do sleep 1; done", &c,
	    &st));
	ASSERT_EQ(st.timed_out, 1);
	ASSERT_EQ(st.sig, 0);
	ASSERT_EQ(st.code, 3);
	captured_release(&c);
	/* The second, once the first's wait is over. */
	ASSERT_OK(run(&r, w, "trap '' INT; exec sleep 30", &c, &st));
	ASSERT_EQ(st.sig, SIGUSR1);
	captured_release(&c);
	/* Deaf to them all: SIGKILL after the sequence. */
	ASSERT_OK(run(&r, w, "trap '' INT USR1 TERM; exec sleep 30", &c, &st));
	ASSERT_EQ(st.timed_out, 1);
	ASSERT_EQ(st.sig, SIGKILL);
	captured_release(&c);
	/* A sequence that ends with SIGKILL sends it once. */
	ts = (struct ccmap_termseq){ 1, { { SIGKILL, 0 } } };
	ASSERT_OK(run(&r, w, "trap '' INT USR1 TERM; exec sleep 30", &c, &st));
	ASSERT_EQ(st.sig, SIGKILL);
	captured_release(&c);
	runner_release(&r);
	return 0;
}
