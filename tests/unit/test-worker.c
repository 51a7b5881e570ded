/*
 * Unit tests for src/worker.c: `ccmap --worker` (worker_main(), in a
 * forked child) spoken to as a head would, over two pipes: its hello, a
 * job's output and status, --pipe's stdin, the working directory, a KILL,
 * a job still running when the head goes (its group is ended), and what
 * it says to bytes that are not the protocol.  (The e2e tests t2040 and
 * t2041 run workers over real ssh sessions.)
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "job.h"
#include "proto.h"
#include "strbuf.h"
#include "task.h"
#include "worker.h"

struct head {
	pid_t pid;
	int to, from;		/* the worker's stdin, stdout */
	struct strbuf in;	/* read from it, not yet parsed */
	struct strbuf out[3];	/* a job's: stdout, stderr; */
	struct job_status st;	/* and its end */
	int done;
};

static int
head_start(struct head *h)
{
	int a[2], b[2];

	memset(h, 0, sizeof *h);
	if (pipe(a) < 0 || pipe(b) < 0)
		return -1;
	if ((h->pid = fork()) < 0)
		return -1;
	if (h->pid == 0) {
		close(a[1]);
		close(b[0]);
		/* (What it says on stderr is not the test's output.) */
		if (!freopen("/dev/null", "w", stderr))
			_exit(99);
		_exit(worker_main(a[0], b[1]));
	}
	close(a[0]);
	close(b[1]);
	h->to = a[1];
	h->from = b[0];
	return 0;
}

/* Read one frame (5 s at most): 1 with *f, pointing into h->in. */
static int
head_frame(struct head *h, struct frame *f)
{
	for (int waited = 0; waited < 5000; ) {
		long n = proto_parse(h->in.buf, h->in.len, f);
		struct pollfd p = { .fd = h->from, .events = POLLIN };
		char buf[4096];
		ssize_t got;
		if (n > 0)
			return 1;
		if (n < 0)
			return -1;
		if (poll(&p, 1, 100) == 0) {
			waited += 100;
			continue;
		}
		if ((got = read(h->from, buf, sizeof buf)) <= 0)
			return 0;
		strbuf_add(&h->in, buf, (size_t)got);
	}
	return -1;
}

static void
head_drop(struct head *h, const struct frame *f)
{
	size_t n = sizeof f->h + f->h.len;

	memmove(h->in.buf, h->in.buf + n, h->in.len - n);
	h->in.len -= n;
}

static void
put_str(struct strbuf *sb, const char *s)
{
	uint32_t len = (uint32_t)strlen(s);

	strbuf_add(sb, &len, 4);
	strbuf_add(sb, s, len);
}

static int
send_frame(struct head *h, uint32_t type, uint64_t seq, const struct strbuf *p)
{
	struct strbuf sb = STRBUF_INIT;
	int r;

	proto_put_hdr(&sb, type, (uint32_t)p->len, seq);
	strbuf_add(&sb, p->buf, p->len);
	r = write(h->to, sb.buf, sb.len) == (ssize_t)sb.len ? 0 : -1;
	strbuf_release(&sb);
	return r;
}

/* Its hello, then our SETUP for slots slots. */
static int
head_setup(struct head *h, unsigned slots)
{
	struct strbuf p = STRBUF_INIT;
	uint32_t u[4] = { slots, 0, 0, 0 };	/* slots, timeout (2), n */
	uint32_t version, order, max_tasks = 0, count = 4;
	struct frame f;

	if (head_frame(h, &f) != 1 || proto_hello(&f, &version, &order) != 0)
		return -1;
	head_drop(h, &f);
	strbuf_add(&p, u, 16);
	strbuf_add(&p, &max_tasks, 4);
	strbuf_add(&p, &count, 4);
	put_str(&p, "hostA");
	put_str(&p, "");	/* (no plugin, no tag, {}) */
	put_str(&p, "");
	put_str(&p, "");
	send_frame(h, FRAME_SETUP, 0, &p);
	strbuf_release(&p);
	return 0;
}

static int
head_run(struct head *h, uint64_t id, unsigned long long seq,
    const char *cmd, const char *wd, const char *in)
{
	struct strbuf p = STRBUF_INIT;
	uint32_t slot = 1, len = (uint32_t)strlen(cmd);
	uint64_t s = seq;
	int r;

	strbuf_add(&p, &s, 8);
	strbuf_add(&p, &slot, 4);
	strbuf_add(&p, &len, 4);
	strbuf_add(&p, cmd, len);
	put_str(&p, wd);
	strbuf_addstr(&p, in);
	r = send_frame(h, FRAME_RUN, id, &p);
	strbuf_release(&p);
	return r;
}

/* Gather job id's output until its DONE: 0, or -1. */
static int
head_wait(struct head *h, uint64_t id)
{
	struct frame f;

	h->done = 0;
	for (int i = 0; i < 3; i++)
		strbuf_reset(&h->out[i]);
	while (!h->done) {
		if (head_frame(h, &f) != 1 || f.h.seq != id)
			return -1;
		if (f.h.type == FRAME_OUT || f.h.type == FRAME_ERR)
			strbuf_add(&h->out[f.h.type == FRAME_OUT ? 0 : 1],
			    f.payload, f.h.len);
		else if (f.h.type == FRAME_DONE &&
		    proto_done_status(&f, &h->st) == 0)
			h->done = 1;
		else
			return -1;
		head_drop(h, &f);
	}
	return 0;
}

/* The head goes: the worker's status. */
static int
head_end(struct head *h)
{
	int status;

	close(h->to);
	while (waitpid(h->pid, &status, 0) < 0 && errno == EINTR)
		;
	close(h->from);
	strbuf_release(&h->in);
	for (int i = 0; i < 3; i++)
		strbuf_release(&h->out[i]);
	return status;
}

TEST_IMPL(worker_runs_a_job)
{
	struct head h;

	ASSERT_OK(head_start(&h));
	ASSERT_OK(head_setup(&h, 1));	/* (its slot: 1) */
	ASSERT_OK(head_run(&h, 1, 42, "echo \"$CCMAP_HOST $CCMAP_SEQ "
	    "$CCMAP_SLOT\"; echo e >&2; exit 3", "", ""));
	ASSERT_OK(head_wait(&h, 1));
	ASSERT_MEM_EQ(h.out[0].buf, h.out[0].len, "hostA 42 1\n", 11);
	ASSERT_MEM_EQ(h.out[1].buf, h.out[1].len, "e\n", 2);
	ASSERT_EQ(h.st.code, 3);
	ASSERT_EQ(h.st.sig, 0);
	/* Its stdin, and a directory made for it. */
	char wd[64];
	snprintf(wd, sizeof wd, "/tmp/ccmap-unit-wd.%ld/a", (long)getpid());
	ASSERT_OK(head_run(&h, 2, 43, "pwd; tr a b", wd, "aaa"));
	ASSERT_OK(head_wait(&h, 2));
	char want[128];
	snprintf(want, sizeof want, "%s\nbbb", wd);
	ASSERT_MEM_EQ(h.out[0].buf, h.out[0].len, want, strlen(want));
	ASSERT_EQ(h.st.code, 0);
	rmdir(wd);
	*strrchr(wd, '/') = '\0';
	rmdir(wd);
	ASSERT_EQ(head_end(&h), 0);
	return 0;
}

TEST_IMPL(worker_kill_and_end)
{
	struct head h;
	struct strbuf p = STRBUF_INIT;
	int32_t sig = SIGTERM;
	char gate[64], cmd[300];
	pid_t pid = 0;
	FILE *f;

	snprintf(gate, sizeof gate, "/tmp/ccmap-unit-pid.%ld", (long)getpid());
	unlink(gate);
	ASSERT_OK(head_start(&h));
	ASSERT_OK(head_setup(&h, 2));
	/* A job killed by the head. */
	ASSERT_OK(head_run(&h, 1, 1, "echo started; exec sleep 30", "", ""));
	struct frame fr;
	ASSERT_EQ(head_frame(&h, &fr), 1);
	ASSERT_EQ(fr.h.type, FRAME_OUT);
	head_drop(&h, &fr);
	strbuf_add(&p, &sig, 4);
	ASSERT_OK(send_frame(&h, FRAME_KILL, 1, &p));
	ASSERT_OK(head_wait(&h, 1));
	ASSERT_EQ(h.st.sig, SIGTERM);
	/* A job still running when the head goes: ended with the worker. */
	snprintf(cmd, sizeof cmd, "echo $$ >%s.t && mv %s.t %s; exec sleep 30",
	    gate, gate, gate);
	ASSERT_OK(head_run(&h, 2, 2, cmd, "", ""));
	for (int i = 0; i < 500 && !pid; i++) {
		if ((f = fopen(gate, "r")) != NULL) {
			long v = 0;
			if (fscanf(f, "%ld", &v) == 1)
				pid = (pid_t)v;
			fclose(f);
		}
		if (!pid)
			usleep(10000);
	}
	ASSERT_GT(pid, 0);
	ASSERT_EQ(head_end(&h), 0);
	/* (Not our child: gone when kill says so.) */
	int alive = 1;
	for (int i = 0; i < 500 && alive; i++) {
		alive = kill(pid, 0) == 0;
		if (alive)
			usleep(10000);
	}
	ASSERT_EQ(alive, 0);
	unlink(gate);
	strbuf_release(&p);
	return 0;
}

TEST_IMPL(worker_refuses_garbage)
{
	struct head h;
	struct frame f;
	int status;

	ASSERT_OK(head_start(&h));
	ASSERT_EQ(head_frame(&h, &f), 1);
	ASSERT_EQ(f.h.type, FRAME_HELLO);
	/* (A RUN before any SETUP is not the protocol.) */
	ASSERT_EQ(write(h.to, "0123456789abcdefghij", 20), 20);
	status = head_end(&h);
	ASSERT_NE(WIFEXITED(status), 0);
	ASSERT_EQ(WEXITSTATUS(status), 2);
	return 0;
}
