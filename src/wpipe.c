/*
 * wpipe.c: a worker process and its pipes (see wpipe.h).
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"
#include "proto.h"
#include "wpipe.h"

#define READ_CHUNK (64 * 1024)

void
wpipe_init(struct wpipe *wp)
{
	memset(wp, 0, sizeof *wp);
	wp->to = wp->from = -1;
}

static void
close_pair(int p[2])
{
	close(p[0]);
	close(p[1]);
}

int
wpipe_start(struct wpipe *wp, void (*child)(void *arg, int in, int out),
    void *arg)
{
	int down[2], up[2], e;
	sigset_t all, old;
	pid_t pid, parent = getpid();

	if (pipe2(down, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(up, O_CLOEXEC) < 0) {
		e = -errno;
		close_pair(down);
		return e;
	}
	/*
	 * Signals stay blocked in the child until wpipe_worker_setup() has
	 * put its own handlers in: until then it has ours, which would write
	 * to our self-pipe, and a SIGTERM meant for the worker (plugpool_kill
	 * at once after the fork) would read as one sent to ccmap.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid < 0) {
		e = -errno;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		close_pair(down);
		close_pair(up);
		return e;
	}
	if (pid == 0) {
		setpgid(0, 0);
		/*
		 * Die with ccmap, even of SIGKILL (its jobs are the guard's,
		 * guard.h); had it died already, the signal would never come.
		 */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		close(down[1]);
		close(up[0]);
		child(arg, down[0], up[1]);
		_exit(1);	/* not reached */
	}
	/* Also from here, so that no signal can find it in our group. */
	setpgid(pid, pid);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(down[0]);
	close(up[1]);
	fcntl(down[1], F_SETFL, O_NONBLOCK);
	wp->pid = pid;
	wp->to = down[1];
	wp->from = up[0];
	strbuf_reset(&wp->wbuf);
	strbuf_reset(&wp->rbuf);
	wp->woff = 0;
	return 0;
}

int
wpipe_stop(struct wpipe *wp)
{
	int status = 0;

	if (wp->to >= 0)
		close(wp->to);
	if (wp->from >= 0)
		close(wp->from);
	wp->to = wp->from = -1;
	if (wp->pid > 0)
		while (waitpid(wp->pid, &status, 0) < 0 && errno == EINTR)
			;
	wp->pid = 0;
	return status;
}

void
wpipe_release(struct wpipe *wp)
{
	wpipe_stop(wp);
	strbuf_release(&wp->wbuf);
	strbuf_release(&wp->rbuf);
}

void
wpipe_flush(struct wpipe *wp)
{
	while (wp->woff < wp->wbuf.len) {
		ssize_t n = write(wp->to, wp->wbuf.buf + wp->woff,
		    wp->wbuf.len - wp->woff);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;	/* EAGAIN: poll; EPIPE: its end shows on read */
		}
		wp->woff += (size_t)n;
	}
	strbuf_reset(&wp->wbuf);
	wp->woff = 0;
}

int
wpipe_pending(const struct wpipe *wp)
{
	return wp->woff < wp->wbuf.len;
}

void
wpipe_pollfds(const struct wpipe *wp, struct pollfd fds[2])
{
	fds[0] = (struct pollfd){ .fd = wp->from, .events = POLLIN };
	fds[1] = (struct pollfd){ .fd = wpipe_pending(wp) ? wp->to : -1,
	    .events = POLLOUT };
}

long
wpipe_read(struct wpipe *wp)
{
	ssize_t n;

	strbuf_grow(&wp->rbuf, READ_CHUNK);
	n = read(wp->from, wp->rbuf.buf + wp->rbuf.len, READ_CHUNK);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? -EAGAIN : 0;
	wp->rbuf.len += (size_t)n;
	return (long)n;
}

long
wpipe_handle(struct wpipe *wp, const struct pollfd fds[2])
{
	if (fds[1].revents & (POLLOUT | POLLERR))
		wpipe_flush(wp);
	if (!fds[0].revents)
		return -EAGAIN;
	return wpipe_read(wp);
}

void
wpipe_consume(struct wpipe *wp, size_t n)
{
	memmove(wp->rbuf.buf, wp->rbuf.buf + n, wp->rbuf.len - n);
	wp->rbuf.len -= n;
}

void
wpipe_send(int fd, uint32_t type, uint64_t seq, const void *data, size_t len)
{
	struct frame_hdr h = { type, (uint32_t)len, seq };
	struct iovec iov[2] = { { &h, sizeof h }, { (void *)data, len } };
	size_t left = sizeof h + len;

	while (left) {
		ssize_t n = writev(fd, iov, 2);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);	/* ccmap is gone */
		}
		left -= (size_t)n;
		for (int i = 0; i < 2; i++) {
			size_t k = (size_t)n < iov[i].iov_len ? (size_t)n :
			    iov[i].iov_len;
			iov[i].iov_base = (char *)iov[i].iov_base + k;
			iov[i].iov_len -= k;
			n -= (ssize_t)k;
		}
	}
}

void
wpipe_worker_setup(void (*on_stop)(int), int stdin_fd, const int *keep,
    int n)
{
	static const int others[] = { SIGHUP, SIGQUIT, SIGWINCH };
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/*
	 * What else ccmap catches is no business of a worker's, and its jobs
	 * get these as ccmap got them (SIGHUP stays ignored under nohup).
	 */
	for (size_t i = 0; i < ARRAY_SIZE(others); i++) {
		struct sigaction old;
		sigaction(others[i], NULL, &old);
		if (old.sa_handler != SIG_IGN) {
			sa.sa_handler = SIG_DFL;
			sigaction(others[i], &sa, NULL);
		}
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (stdin_fd >= 0)
		dup2(stdin_fd, 0);
	wpipe_close_others(keep, n);
}

void
wpipe_close_others(const int *keep, int n)
{
	unsigned lo = 3;

	for (;;) {
		/* The lowest kept descriptor at or above lo. */
		int next = -1;
		for (int i = 0; i < n; i++)
			if (keep[i] >= (int)lo && (next < 0 || keep[i] < next))
				next = keep[i];
		if (next < 0)
			break;
		if ((unsigned)next > lo)
			close_range(lo, (unsigned)next - 1, 0);
		lo = (unsigned)next + 1;
	}
	close_range(lo, ~0U, 0);
}
