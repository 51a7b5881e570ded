/*
 * mux.c: a job as a session over an OpenSSH ControlMaster (see mux.h).
 *
 * The exchange, on a fresh connection to the master's socket: each side
 * says hello with its protocol version; ccmap asks for a session (no
 * tty, no forwarding, no escape character, the command) and passes the
 * job's three descriptors, one message each; the master says the session
 * is open, later its exit status, and closes the connection once the
 * session is over and its output written.  Closing the connection early
 * ends the session, as killing ssh's client would.  Every message is a
 * length, then a type, in the SSH wire format (big-endian 32 bits).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mux.h"
#include "strbuf.h"
#include "util.h"

#define MUX_VERSION 4
#define MUX_MSG_HELLO 0x00000001u
#define MUX_C_NEW_SESSION 0x10000002u
#define MUX_S_PERMISSION_DENIED 0x80000002u
#define MUX_S_FAILURE 0x80000003u
#define MUX_S_EXIT_MESSAGE 0x80000004u
#define MUX_S_SESSION_OPENED 0x80000006u
/* Longer answers than this are not the master's. */
#define MUX_MSG_MAX (256 * 1024)

static void
be32(char b[4], uint32_t v)
{
	b[0] = (char)(v >> 24);
	b[1] = (char)(v >> 16);
	b[2] = (char)(v >> 8);
	b[3] = (char)v;
}

static void
put_u32(struct strbuf *sb, uint32_t v)
{
	char b[4];

	be32(b, v);
	strbuf_add(sb, b, 4);
}

static uint32_t
get_u32(const char *p)
{
	const unsigned char *b = (const unsigned char *)p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

static void
put_str(struct strbuf *sb, const char *s, size_t len)
{
	put_u32(sb, (uint32_t)len);
	strbuf_add(sb, s, len);
}

/* A message: its length goes in front of what sb holds. */
static int
send_msg(int fd, struct strbuf *sb)
{
	char len[4];
	struct iovec iov[2] = {
		{ len, 4 }, { sb->buf, sb->len },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	size_t left = 4 + sb->len;

	be32(len, (uint32_t)sb->len);
	while (left) {
		ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		left -= (size_t)n;
		while (mh.msg_iovlen && (size_t)n >= mh.msg_iov->iov_len) {
			n -= (ssize_t)mh.msg_iov->iov_len;
			mh.msg_iov++;
			mh.msg_iovlen--;
		}
		if (mh.msg_iovlen) {
			mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + n;
			mh.msg_iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

/* A descriptor, as the master takes them: one byte each, with it. */
static int
send_fd(int sock, int fd)
{
	char byte = 0;
	struct iovec iov = { &byte, 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof u.buf,
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	ssize_t n;

	memset(u.buf, 0, sizeof u.buf);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	while ((n = sendmsg(sock, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return n == 1 ? 0 : -1;
}

static int
read_full(int fd, char *buf, size_t len)
{
	while (len) {
		ssize_t n = read(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The master's hello: 0 if it speaks our version, -EPROTONOSUPPORT if
 * another, -1 if it said nothing of the kind.
 */
static int
hear_hello(int fd)
{
	char head[12];
	uint32_t len;

	if (read_full(fd, head, 4) < 0 || (len = get_u32(head)) < 8 ||
	    len > MUX_MSG_MAX || read_full(fd, head + 4, 8) < 0 ||
	    get_u32(head + 4) != MUX_MSG_HELLO)
		return -1;
	if (get_u32(head + 8) != MUX_VERSION)
		return -EPROTONOSUPPORT;
	/* (Its extensions, if any: none is known.) */
	for (len -= 8; len; ) {
		char skip[256];
		size_t n = len < sizeof skip ? len : sizeof skip;
		if (read_full(fd, skip, n) < 0)
			return -1;
		len -= (uint32_t)n;
	}
	return 0;
}

/* The session, as job_watch() sees it: the master's answers. */
struct mux_end {
	struct job_end e;
	struct strbuf in;	/* what the master said, not yet read */
	int opened;		/* the session is open */
	int exited;		/* its exit status came: */
	uint32_t status;
	char why[256];		/* the master refused it, saying why */
};

/* One message of the master's (type, then its body). */
static void
mux_message(struct mux_end *me, const char *m, uint32_t len)
{
	uint32_t type = get_u32(m);

	switch (type) {
	case MUX_S_SESSION_OPENED:
		me->opened = 1;
		break;
	case MUX_S_EXIT_MESSAGE:
		if (len >= 12) {
			me->exited = 1;
			me->status = get_u32(m + 8);
		}
		break;
	case MUX_S_PERMISSION_DENIED:
	case MUX_S_FAILURE:
		if (len >= 12) {
			uint32_t n = get_u32(m + 8);
			if (n > len - 12)
				n = len - 12;
			snprintf(me->why, sizeof me->why, "%.*s", (int)n,
			    m + 12);
		}
		break;
	default:
		break;	/* (MUX_S_TTY_ALLOC_FAIL, or newer ones) */
	}
}

static void
mux_heard(struct job_end *e)
{
	struct mux_end *me = (struct mux_end *)e;
	char buf[4096];
	ssize_t n = recv(e->fd, buf, sizeof buf, MSG_DONTWAIT);
	size_t at = 0;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		e->ended = 1;	/* the master closed it: the session is over */
		return;
	}
	strbuf_add(&me->in, buf, (size_t)n);
	while (me->in.len - at >= 4) {
		uint32_t len = get_u32(me->in.buf + at);
		if (len < 4 || len > MUX_MSG_MAX) {
			/* Not the master speaking: end it. */
			shutdown(e->fd, SHUT_RDWR);
			break;
		}
		if (me->in.len - at - 4 < len)
			break;
		mux_message(me, me->in.buf + at + 4, len);
		at += 4 + len;
	}
	if (at) {
		memmove(me->in.buf, me->in.buf + at, me->in.len - at);
		me->in.len -= at;
		me->in.buf[me->in.len] = '\0';
	}
}

static void
mux_kill(struct job_end *e, int sig)
{
	(void)sig;
	shutdown(e->fd, SHUT_RDWR);
}

/* What ssh's client would say on the job's stderr. */
static void
say(const struct spawn_io *io, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
say(const struct spawn_io *io, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof msg)
		n = sizeof msg - 1;
	if (io->capture)
		io->data(io->arg, 2, msg, (size_t)n);
	else if (write(io->to ? io->to[1] : 2, msg, (size_t)n) < 0)
		return;	/* (as ssh's own stderr would be lost) */
}

/*
 * Connect, say hello and ask for the session: 0, -EPROTONOSUPPORT, or -1
 * when the master cannot be reached (why, into why).
 */
static int
ask(int fd, const char *ctl, const char *cmd, char *why, size_t wlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct strbuf m = STRBUF_INIT;
	int r = -1;

	if (strlen(ctl) >= sizeof sa.sun_path) {
		snprintf(why, wlen, "ControlPath too long ('%s')", ctl);
		return -1;
	}
	strcpy(sa.sun_path, ctl);
	while ((r = connect(fd, (struct sockaddr *)&sa, sizeof sa)) < 0 &&
	    errno == EINTR)
		;
	if (r < 0) {
		snprintf(why, wlen, "Control socket connect(%s): %s", ctl,
		    strerror(errno));
		return -1;
	}
	put_u32(&m, MUX_MSG_HELLO);
	put_u32(&m, MUX_VERSION);
	if (send_msg(fd, &m) < 0 || (r = hear_hello(fd)) == -1) {
		snprintf(why, wlen, "master at %s did not answer", ctl);
		r = -1;
		goto out;
	}
	if (r < 0)
		goto out;
	strbuf_reset(&m);
	put_u32(&m, MUX_C_NEW_SESSION);
	put_u32(&m, 1);			/* request id */
	put_str(&m, "", 0);		/* reserved */
	put_u32(&m, 0);			/* tty */
	put_u32(&m, 0);			/* X11 forwarding */
	put_u32(&m, 0);			/* agent forwarding */
	put_u32(&m, 0);			/* subsystem */
	put_u32(&m, 0xffffffffu);	/* no escape character */
	put_str(&m, "", 0);		/* terminal type */
	put_str(&m, cmd, strlen(cmd));
	if (send_msg(fd, &m) < 0) {
		snprintf(why, wlen, "master at %s went away", ctl);
		r = -1;
	}
out:
	strbuf_release(&m);
	return r;
}

/* Ask, then pass the session's three descriptors: as ask(). */
static int
open_session(int fd, const char *ctl, const char *cmd, const int fds[3],
    char *why, size_t wlen)
{
	int e = ask(fd, ctl, cmd, why, wlen);

	if (e == 0 && (send_fd(fd, fds[0]) < 0 || send_fd(fd, fds[1]) < 0 ||
	    send_fd(fd, fds[2]) < 0)) {
		snprintf(why, wlen, "master at %s did not take the session",
		    ctl);
		e = -1;
	}
	return e;
}

int
mux_open(const char *ctl, const char *cmd, const int fds[3], char *why,
    size_t wlen)
{
	int fd, e;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(why, wlen, "socket: %s", strerror(errno));
		return -errno;
	}
	if ((e = open_session(fd, ctl, cmd, fds, why, wlen)) < 0) {
		close(fd);
		return e == -EPROTONOSUPPORT ? e : -EHOSTUNREACH;
	}
	return fd;
}

int
mux_job(const struct spawn_ctx *ctx, const char *ctl, const char *cmd,
    const struct spawn_io *io, struct job_status *st)
{
	struct mux_end me = {
		.e = { .heard = mux_heard, .kill = mux_kill },
		.in = STRBUF_INIT,
	};
	struct job_pipes p;
	long long t0;
	int fd, e, fds[3];
	char why[600];

	memset(st, 0, sizeof *st);
	st->start_ns = util_wall_ns();
	t0 = util_now_ns();
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		st->err = errno;
		st->code = 127;
		return -st->err;
	}
	if ((e = job_pipes_open(&p, io)) < 0) {
		close(fd);
		st->err = -e;
		st->code = 127;
		return e;
	}
	if (io->opened)
		io->opened(io->arg, fd);
	fds[0] = p.in[0] >= 0 ? p.in[0] : ctx->devnull;
	fds[1] = io->capture ? p.out[1] : io->to ? io->to[0] : 1;
	fds[2] = io->capture ? p.err[1] : io->to ? io->to[1] : 2;
	if ((e = open_session(fd, ctl, cmd, fds, why, sizeof why)) ==
	    -EPROTONOSUPPORT) {
		if (io->opened)
			io->opened(io->arg, -1);
		close(fd);
		job_pipes_close(&p);
		return e;
	}
	if (e < 0)
		say(io, "%s\n", why);
	job_pipes_given(&p);
	if (e == 0) {
		me.e.fd = fd;
	} else {
		/* (Nothing started: only our pipes are left to read.) */
		me.e.ended = 1;
		shutdown(fd, SHUT_RDWR);
	}
	if (io->capture || p.in[1] >= 0 || !me.e.ended)
		job_watch(ctx, &me.e, &p, io, st);
	if (io->opened)
		io->opened(io->arg, -1);
	close(fd);
	job_pipes_close(&p);
	strbuf_release(&me.in);
	if (me.why[0] && !st->timed_out)
		say(io, "%s\n", me.why);
	st->run_ns = util_now_ns() - t0;
	st->code = me.exited ? (int)(me.status & 0xff) : 255;
	return 0;
}
