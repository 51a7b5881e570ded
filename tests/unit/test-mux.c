/*
 * Unit tests for src/mux.[ch]: a job as a session asked of an OpenSSH
 * master, against a stand-in master (a child process on a socket of the
 * test's) that speaks the protocol's side of the master as each test
 * needs: the session and its exit status, a refusal, another version,
 * a session ended by the job's timeout.  (The e2e tests t20* run jobs
 * over real masters.)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "job.h"
#include "mux.h"
#include "strbuf.h"
#include "task.h"
#include "template.h"

/* The engine takes char * arrays; string literals are fine here. */
#pragma GCC diagnostic ignored "-Wdiscarded-qualifiers"

extern char **environ;

enum master_kind {
	M_RUN,		/* runs the session: writes, exit status 7 */
	M_REFUSE,	/* refuses it */
	M_VERSION5,	/* speaks version 5 */
	M_HOLD,		/* opens it and holds it until the client goes */
};

struct fake {
	char path[108];
	pid_t pid;
};

/*
 * (The wire helpers are written anew here, not taken from mux.c: a
 * stand-in that shared them would agree with any mistake in them.)
 */
static void
put32(char *b, uint32_t v)
{
	b[0] = (char)(v >> 24);
	b[1] = (char)(v >> 16);
	b[2] = (char)(v >> 8);
	b[3] = (char)v;
}

static uint32_t
get32(const char *p)
{
	const unsigned char *b = (const unsigned char *)p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

static int
full(int fd, char *buf, size_t len)
{
	while (len) {
		ssize_t n = read(fd, buf, len);
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A message of the client's, into buf (its type first): its length. */
static int
msg_in(int fd, char *buf, size_t max)
{
	char h[4];
	uint32_t len;

	if (full(fd, h, 4) < 0 || (len = get32(h)) > max ||
	    full(fd, buf, len) < 0)
		return -1;
	return (int)len;
}

static void
msg_out(int fd, const uint32_t *w, size_t n, const char *s)
{
	char buf[512];
	size_t len = n * 4 + (s ? 4 + strlen(s) : 0);

	put32(buf, (uint32_t)len);
	for (size_t i = 0; i < n; i++)
		put32(buf + 4 + 4 * i, w[i]);
	if (s) {
		put32(buf + 4 + 4 * n, (uint32_t)strlen(s));
		memcpy(buf + 8 + 4 * n, s, strlen(s));
	}
	if (write(fd, buf, 4 + len) != (ssize_t)(4 + len))
		_exit(3);
}

static int
fd_in(int sock)
{
	char byte;
	struct iovec iov = { &byte, 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof u.buf,
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &mh, 0) != 1 || !(cm = CMSG_FIRSTHDR(&mh)) ||
	    cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof fd);
	return fd;
}

/* The stand-in master's side of one connection. */
static void
master_serve(int c, enum master_kind kind)
{
	char m[4096];
	int n, fds[3];

	/* Hello, both ways. */
	if ((n = msg_in(c, m, sizeof m)) < 8 || get32(m) != 0x1 ||
	    get32(m + 4) != 4)
		_exit(4);
	msg_out(c, (uint32_t[]){ 0x1, kind == M_VERSION5 ? 5 : 4 }, 2, NULL);
	if (kind == M_VERSION5)
		_exit(0);
	/* The session: type, request id, reserved, 4 flags, escape, term, cmd. */
	if ((n = msg_in(c, m, sizeof m)) < 0 || get32(m) != 0x10000002)
		_exit(5);
	for (int i = 0; i < 3; i++)
		if ((fds[i] = fd_in(c)) < 0)
			_exit(6);
	if (kind == M_REFUSE) {
		msg_out(c, (uint32_t[]){ 0x80000003, get32(m + 4) }, 2,
		    "Session open refused by peer");
		_exit(0);
	}
	msg_out(c, (uint32_t[]){ 0x80000006, get32(m + 4), 1 }, 3, NULL);
	if (kind == M_HOLD) {
		while (read(c, m, sizeof m) > 0)
			;
		_exit(0);
	}
	/* The command (after 8 words and the two empty strings' lengths). */
	uint32_t clen = get32(m + 36);
	if (write(fds[1], m + 40, clen) != (ssize_t)clen ||
	    write(fds[2], "err\n", 4) != 4)
		_exit(7);
	close(fds[0]);
	close(fds[1]);
	close(fds[2]);
	msg_out(c, (uint32_t[]){ 0x80000004, 1, 7 }, 3, NULL);
	_exit(0);
}

static void
fake_start(struct fake *f, enum master_kind kind)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	ASSERT_GE(s, 0);
	snprintf(f->path, sizeof f->path, "/tmp/ccmap-test-mux.%ld.%d",
	    (long)getpid(), (int)kind);
	unlink(f->path);
	strcpy(sa.sun_path, f->path);
	ASSERT_OK(bind(s, (struct sockaddr *)&sa, sizeof sa));
	ASSERT_OK(listen(s, 1));
	f->pid = fork();
	ASSERT_GE(f->pid, 0);
	if (f->pid == 0) {
		int c = accept(s, NULL, NULL);
		if (c < 0)
			_exit(2);
		master_serve(c, kind);
	}
	close(s);
}

/* The stand-in ended well. */
static void
fake_end(struct fake *f)
{
	int status;

	ASSERT_EQ(waitpid(f->pid, &status, 0), f->pid);
	unlink(f->path);
	ASSERT(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), 0);
}

struct got {
	struct strbuf out, err;
	int opened, closed;
};

static void
got_data(void *arg, int stream, const char *buf, size_t len)
{
	struct got *g = arg;

	strbuf_add(stream == 1 ? &g->out : &g->err, buf, len);
}

static void
got_opened(void *arg, int fd)
{
	struct got *g = arg;

	if (fd >= 0)
		g->opened++;
	else
		g->closed++;
}

static void
ctx_init(struct spawn_ctx *ctx)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_GE(ctx->devnull, 0);
	sigemptyset(&ctx->sigdef);
}

static int
mux_run(struct spawn_ctx *ctx, const char *ctl, const char *cmd,
    struct got *g, struct job_status *st)
{
	struct spawn_io io = {
		.capture = 1, .data = got_data, .opened = got_opened,
		.arg = g, .hold_in = 1,
	};

	memset(g, 0, sizeof *g);
	strbuf_init(&g->out, 0);
	strbuf_init(&g->err, 0);
	return mux_job(ctx, ctl, cmd, &io, st);
}

static void
got_release(struct got *g)
{
	strbuf_release(&g->out);
	strbuf_release(&g->err);
}

TEST_IMPL(mux_session_output_and_status)
{
	struct spawn_ctx ctx;
	struct fake f;
	struct got g;
	struct job_status st;

	ctx_init(&ctx);
	fake_start(&f, M_RUN);
	ASSERT_OK(mux_run(&ctx, f.path, "echo 'a b'", &g, &st));
	fake_end(&f);
	/* The descriptors reached the master: it wrote the command back. */
	ASSERT_MEM_EQ(g.out.buf, g.out.len, "echo 'a b'", 10);
	ASSERT_MEM_EQ(g.err.buf, g.err.len, "err\n", 4);
	ASSERT_EQ(st.code, 7);
	ASSERT_EQ(st.sig, 0);
	ASSERT_EQ(g.opened, 1);
	ASSERT_EQ(g.closed, 1);
	got_release(&g);
	close(ctx.devnull);
	return 0;
}

TEST_IMPL(mux_session_refused)
{
	struct spawn_ctx ctx;
	struct fake f;
	struct got g;
	struct job_status st;

	ctx_init(&ctx);
	fake_start(&f, M_REFUSE);
	ASSERT_OK(mux_run(&ctx, f.path, "true", &g, &st));
	fake_end(&f);
	/* ssh's 255, and why, as ssh would say it. */
	ASSERT_EQ(st.code, 255);
	ASSERT_EQ(g.out.len, 0);
	ASSERT_NOT_NULL(strstr(g.err.buf, "Session open refused by peer\n"));
	got_release(&g);
	close(ctx.devnull);
	return 0;
}

TEST_IMPL(mux_no_master)
{
	struct spawn_ctx ctx;
	struct got g;
	struct job_status st;
	char path[64];

	ctx_init(&ctx);
	snprintf(path, sizeof path, "/tmp/ccmap-test-mux.%ld.none",
	    (long)getpid());
	unlink(path);
	ASSERT_OK(mux_run(&ctx, path, "true", &g, &st));
	ASSERT_EQ(st.code, 255);
	ASSERT_NOT_NULL(strstr(g.err.buf, "Control socket connect("));
	ASSERT_NOT_NULL(strstr(g.err.buf, path));
	got_release(&g);
	close(ctx.devnull);
	return 0;
}

/* A master of another version: spawn_job runs the command instead. */
TEST_IMPL(mux_other_version_falls_back)
{
	struct spawn_ctx ctx;
	struct fake f;
	struct got g;
	struct job_status st;
	struct cmdbuf cb;
	struct spawn_io io = {
		.capture = 1, .data = got_data, .opened = got_opened,
		.arg = &g, .hold_in = 1,
	};

	ctx_init(&ctx);
	fake_start(&f, M_VERSION5);
	ASSERT_EQ(mux_run(&ctx, f.path, "true", &g, &st), -EPROTONOSUPPORT);
	fake_end(&f);
	ASSERT_EQ(g.out.len + g.err.len, 0);
	got_release(&g);

	fake_start(&f, M_VERSION5);
	memset(&g, 0, sizeof g);
	strbuf_init(&g.out, 0);
	strbuf_init(&g.err, 0);
	io.mux = f.path;
	cmdbuf_init(&cb);
	cmdbuf_reset(&cb);
	cmdbuf_add(&cb, "sh", 2);
	cmdbuf_add(&cb, "-c", 2);
	cmdbuf_add(&cb, "echo spawned; exit 3", 20);
	cmdbuf_finish(&cb);
	ASSERT_OK(spawn_job(&ctx, &cb, environ, &io, &st));
	fake_end(&f);
	ASSERT_MEM_EQ(g.out.buf, g.out.len, "spawned\n", 8);
	ASSERT_EQ(st.code, 3);
	cmdbuf_release(&cb);
	got_release(&g);
	close(ctx.devnull);
	return 0;
}

/* --timeout: the session's socket is shut down; the master sees it go. */
TEST_IMPL(mux_timeout_ends_session)
{
	struct spawn_ctx ctx;
	struct fake f;
	struct got g;
	struct job_status st;

	ctx_init(&ctx);
	ctx.timeout_ns = 50 * 1000000LL;
	fake_start(&f, M_HOLD);
	ASSERT_OK(mux_run(&ctx, f.path, "sleep 100", &g, &st));
	/* (The stand-in ends only when the connection does.) */
	fake_end(&f);
	ASSERT(st.timed_out);
	ASSERT_EQ(st.code, 255);
	ASSERT(job_failed(&st));
	got_release(&g);
	close(ctx.devnull);
	return 0;
}
