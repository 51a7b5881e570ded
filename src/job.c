/*
 * job.c: run one job to the end (see job.h).
 */
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"
#include "job.h"
#include "mux.h"
#include "termseq.h"

extern char **environ;

#define CAPTURE_BUF (64 * 1024)
/* The pipe a job reads its block from (Linux's default maximum)... */
#define PIPE_IN_SIZE (1024 * 1024)
/* ...when its block is larger than a pipe holds by default. */
#define PIPE_DEFAULT_SIZE (64 * 1024)

void
jobenv_init(struct jobenv *je)
{
	size_t n = 0;

	for (char **e = environ; *e; e++)
		n++;
	je->envp = util_calloc(n + 3, sizeof *je->envp);
	je->n = 0;
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "CCMAP_SEQ=", 10) && strncmp(*e, "CCMAP_SLOT=", 11))
			je->envp[je->n++] = *e;
	je->envp[je->n] = je->seq;
	je->envp[je->n + 1] = je->slot;
	je->envp[je->n + 2] = NULL;
	jobenv_set(je, 0, 0);
}

void
jobenv_release(struct jobenv *je)
{
	free(je->envp);
	je->envp = NULL;
}

void
jobenv_set(struct jobenv *je, unsigned long long seq, unsigned slot)
{
	snprintf(je->seq, sizeof je->seq, "CCMAP_SEQ=%llu", seq);
	snprintf(je->slot, sizeof je->slot, "CCMAP_SLOT=%u", slot);
}

int
job_failed(const struct job_status *st)
{
	return st->err || st->sig || st->code || st->timed_out;
}

const char *
signal_name(int sig, char buf[16])
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		snprintf(buf, 16, "SIG%s", abbrev);
	else
		snprintf(buf, 16, "signal %d", sig);
	return buf;
}

/* A descriptor that turns readable when pid exits, or -1. */
static int
pid_fd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

static int
has_exited(pid_t pid)
{
	siginfo_t info;

	info.si_pid = 0;
	return waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    info.si_pid == pid;
}

/* The data for a job's stdin, and how much of it is written. */
struct feed {
	struct iovec iov[SPAWN_IN_MAX];
	int first, n;
};

static void
feed_init(struct feed *f, const struct spawn_io *io)
{
	f->first = f->n = 0;
	for (int i = 0; i < io->nin && f->n < SPAWN_IN_MAX; i++)
		if (io->in[i].iov_len)
			f->iov[f->n++] = io->in[i];
}

/* How many bytes the job's stdin gets. */
static size_t
feed_size(const struct spawn_io *io)
{
	size_t n = 0;

	for (int i = 0; i < io->nin; i++)
		n += io->in[i].iov_len;
	return n;
}

/*
 * Write what the pipe takes of the job's stdin: 1 when it is all written or
 * the job stopped reading (EPIPE), 0 when the pipe is full.
 */
static int
feed_write(struct feed *f, int fd)
{
	while (f->first < f->n) {
		ssize_t w = writev(fd, f->iov + f->first, f->n - f->first);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno != EAGAIN;
		size_t left = (size_t)w;
		while (f->first < f->n && left >= f->iov[f->first].iov_len)
			left -= f->iov[f->first++].iov_len;
		if (f->first < f->n) {
			f->iov[f->first].iov_base =
			    (char *)f->iov[f->first].iov_base + left;
			f->iov[f->first].iov_len -= left;
		}
	}
	return 1;
}

/*
 * Read the job's pipes (when captured) until both end, handing the data
 * on, and write its stdin (p->in[1] >= 0) until all of it is written or
 * the job stops reading; until then, and until end has ended (when it
 * must: with a timeout, or always for a session), hear what end says;
 * when the job's time is up, kill it as the kill sequence says
 * (--termseq: a signal, a wait, the next signal...), and with SIGKILL
 * after it, unless its last step sent that.  Closes the pipes' ends.
 */
void
job_watch(const struct spawn_ctx *ctx, struct job_end *end,
    struct job_pipes *p, const struct spawn_io *io, struct job_status *st)
{
	struct pollfd pfd[4] = {
		{ .fd = p->out[0], .events = POLLIN },
		{ .fd = p->err[0], .events = POLLIN },
		{ .fd = end->fd, .events = POLLIN },
		{ .fd = p->in[1], .events = POLLOUT },
	};
	const struct ccmap_termseq *ts = termseq_get(ctx->termseq);
	long long deadline = ctx->timeout_ns ?
	    util_now_ns() + ctx->timeout_ns : 0;
	int last = 0;
	unsigned stage = 0;
	char *buf = pfd[0].fd >= 0 ? util_malloc(CAPTURE_BUF) : NULL;
	struct feed f;

	p->out[0] = p->err[0] = p->in[1] = -1;	/* (pfd's now) */
	feed_init(&f, io);
	while (pfd[0].fd >= 0 || pfd[1].fd >= 0 || pfd[3].fd >= 0 ||
	    !end->ended) {
		int ms = -1;
		if (deadline) {
			long long left = deadline - util_now_ns();
			ms = left <= 0 ? 0 : (int)((left + 999999) / 1000000);
		}
		if (!end->ended && end->fd < 0 && (ms < 0 || ms > 10))
			ms = 10;	/* nothing to poll: look now and then */
		pfd[2].fd = end->ended ? -1 : end->fd;
		if (poll(pfd, 4, ms) < 0 && errno != EINTR)
			break;
		if (pfd[3].fd >= 0 && pfd[3].revents && feed_write(&f, pfd[3].fd)) {
			close(pfd[3].fd);	/* all written, or no reader */
			pfd[3].fd = -1;
		}
		if (!end->ended && (end->fd < 0 || pfd[2].revents))
			end->heard(end);
		for (int i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			ssize_t n = read(pfd[i].fd, buf, CAPTURE_BUF);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				continue;
			}
			io->data(io->arg, i + 1, buf, (size_t)n);
		}
		if (deadline && util_now_ns() >= deadline) {
			st->timed_out = 1;
			if (stage < ts->n) {
				last = ts->step[stage].sig;
				end->kill(end, last);
				deadline = util_now_ns() +
				    ts->step[stage++].ms * 1000000LL;
			} else {
				if (last != SIGKILL)
					end->kill(end, SIGKILL);
				deadline = 0;
			}
		}
	}
	for (int i = 0; i < 4; i++)
		if (pfd[i].fd >= 0 && i != 2)
			close(pfd[i].fd);
	free(buf);
}

static void
close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

int
job_pipes_open(struct job_pipes *p, const struct spawn_io *io)
{
	int e;

	*p = (struct job_pipes){ { -1, -1 }, { -1, -1 }, { -1, -1 }, -1 };
	if ((io->capture && (pipe2(p->out, O_CLOEXEC) < 0 ||
	    pipe2(p->err, O_CLOEXEC) < 0)) || ((io->nin || io->hold_in) &&
	    pipe2(p->in, O_CLOEXEC) < 0)) {
		e = errno;
		job_pipes_close(p);
		return -e;
	}
	if (p->in[1] >= 0 && !io->nin) {
		p->held = p->in[1];	/* (open, unwritten, until it has ended) */
		p->in[1] = -1;
	}
	if (p->in[1] >= 0) {
		/* Written between reads of its output: never blocks. */
		fcntl(p->in[1], F_SETFL, O_NONBLOCK);
		/* A larger pipe, if allowed: fewer turns between the two. */
		if (feed_size(io) > PIPE_DEFAULT_SIZE)
			fcntl(p->in[1], F_SETPIPE_SZ, PIPE_IN_SIZE);
	}
	return 0;
}

void
job_pipes_given(struct job_pipes *p)
{
	if (p->out[1] >= 0)
		close(p->out[1]);
	if (p->err[1] >= 0)
		close(p->err[1]);
	if (p->in[0] >= 0)
		close(p->in[0]);
	p->out[1] = p->err[1] = p->in[0] = -1;
}

void
job_pipes_close(struct job_pipes *p)
{
	close_pair(p->out);
	close_pair(p->err);
	close_pair(p->in);
	if (p->held >= 0)
		close(p->held);
	p->held = -1;
}

/* A process as what ends a job (job_end): its exit, and kill(). */
struct proc_end {
	struct job_end e;
	pid_t pid, target;
};

static void
proc_heard(struct job_end *e)
{
	struct proc_end *pe = (struct proc_end *)e;

	if (e->fd < 0 ? has_exited(pe->pid) : 1) {
		e->ended = 1;
		if (e->fd >= 0)
			close(e->fd);
		e->fd = -1;
	}
}

static void
proc_kill(struct job_end *e, int sig)
{
	kill(((struct proc_end *)e)->target, sig);
}

int
spawn_job(const struct spawn_ctx *ctx, const struct cmdbuf *cb,
    char *const envp[], const struct spawn_io *io, struct job_status *st)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	struct job_pipes p;
	sigset_t none;
	long long t0;
	pid_t pid;
	int e, status;

	if (io->run) {
		io->run(io->run_arg, io, st);
		return st->err ? -st->err : 0;
	}
	if (io->mux && (e = mux_job(ctx, io->mux,
	    cb->argv[cb->argc - 1], io, st)) != -EPROTONOSUPPORT)
		return e;
	memset(st, 0, sizeof *st);
	st->start_ns = util_wall_ns();
	t0 = util_now_ns();
	if ((e = job_pipes_open(&p, io)) < 0) {
		st->err = -e;
		st->code = 127;
		return e;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p.in[0] >= 0 ? p.in[0] :
	    ctx->devnull, 0);
	if (io->capture) {
		posix_spawn_file_actions_adddup2(&fa, p.out[1], 1);
		posix_spawn_file_actions_adddup2(&fa, p.err[1], 2);
	} else if (io->to) {
		posix_spawn_file_actions_adddup2(&fa, io->to[0], 1);
		posix_spawn_file_actions_adddup2(&fa, io->to[1], 2);
	}
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &ctx->sigdef);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF |
	    (ctx->own_pgroup ? POSIX_SPAWN_SETPGROUP : 0));
	posix_spawnattr_setpgroup(&attr, 0);

	e = (cb->search ? posix_spawnp : posix_spawn)(&pid, cb->file, &fa,
	    &attr, cb->argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	job_pipes_given(&p);
	if (e) {
		job_pipes_close(&p);
		st->err = e;
		st->code = e == ENOENT ? 127 : 126;
		return -e;
	}
	if (io->started)
		io->started(io->arg, pid);
	if (io->capture || ctx->timeout_ns || p.in[1] >= 0) {
		struct proc_end pe = {
			.e = { .fd = ctx->timeout_ns ? pid_fd(pid) : -1,
			    .ended = !ctx->timeout_ns, .heard = proc_heard,
			    .kill = proc_kill },
			.pid = pid,
			.target = ctx->own_pgroup ? -pid : pid,
		};
		job_watch(ctx, &pe.e, &p, io, st);
		if (pe.e.fd >= 0)
			close(pe.e.fd);
	}
	if (io->started) {
		/*
		 * Wait without reaping, so that the pid cannot be reused while
		 * it is still published to be signalled.
		 */
		siginfo_t info;
		while (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) < 0 &&
		    errno == EINTR)
			;
		io->started(io->arg, 0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			st->err = errno;
			st->code = 127;
			job_pipes_close(&p);
			return -st->err;
		}
	job_pipes_close(&p);
	st->run_ns = util_now_ns() - t0;
	if (WIFSIGNALED(status))
		st->sig = WTERMSIG(status);
	else
		st->code = WEXITSTATUS(status);
	return 0;
}
