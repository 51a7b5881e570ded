/*
 * procpool.c: pre-forked worker processes (see procpool.h).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "procpool.h"
#include "proto.h"

#define READ_CHUNK (64 * 1024)

/* A job sent to a worker and not finished yet. */
struct pend {
	void *cookie;
	uint64_t seq;
	char *frame;	/* its JOB frame, to send again if the worker dies */
	size_t len;
};

struct pworker {
	pid_t pid;
	int to, from;		/* our ends of its pipes, -1 once closed */
	unsigned slot;
	struct strbuf wbuf;	/* frames not yet written to it */
	size_t woff;
	struct strbuf rbuf;	/* bytes read from it, not yet parsed */
	struct pend *q;		/* its jobs, oldest first (a ring) */
	size_t qhead, qn, qcap;
};

struct procpool {
	struct pworker *w;
	unsigned n;
	struct procpool_ops ops;
	int keep_fd;
	int stopping;		/* procpool_kill() was called */
};

/*
 * In a worker: SIGINT or SIGTERM came, so queued jobs are not to run; the
 * signal goes on to the running job's process group (SIGUSR1 stands for
 * SIGKILL, which a worker could not pass on).
 */
static volatile sig_atomic_t worker_stopping;
static volatile pid_t worker_job;

static void
worker_on_signal(int sig)
{
	int saved = errno;

	worker_stopping = 1;
	if (worker_job > 0)
		kill(-worker_job, sig == SIGUSR1 ? SIGKILL : sig);
	errno = saved;
}

static void
worker_started(void *arg, pid_t pid)
{
	(void)arg;
	worker_job = pid;
}

/* The worker process: its descriptors and a frame to write into. */
struct wctx {
	struct procpool *pp;
	int in, out;
	uint64_t seq;
	struct strbuf frame;
};

static void
worker_send(struct wctx *wc, const char *hdr, size_t hlen, const char *data,
    size_t len)
{
	struct iovec iov[2] = { { (void *)hdr, hlen }, { (void *)data, len } };
	size_t left = hlen + len;

	while (left) {
		ssize_t w = writev(wc->out, iov, 2);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);	/* ccmap is gone */
		}
		left -= (size_t)w;
		for (int i = 0; i < 2; i++) {
			size_t k = (size_t)w < iov[i].iov_len ? (size_t)w :
			    iov[i].iov_len;
			iov[i].iov_base = (char *)iov[i].iov_base + k;
			iov[i].iov_len -= k;
			w -= (ssize_t)k;
		}
	}
}

static void
worker_data(void *arg, int stream, const char *buf, size_t len)
{
	struct wctx *wc = arg;
	struct frame_hdr h = {
		stream == 1 ? FRAME_OUT : FRAME_ERR, (uint32_t)len, wc->seq,
	};

	worker_send(wc, (const char *)&h, sizeof h, buf, len);
}

/* Close every descriptor but 0-2 and the ones we keep. */
static void
close_others(int a, int b, int c)
{
	int keep[3] = { a, b, c }, lo = 3;

	for (int i = 0; i < 3; i++)	/* sort the three */
		for (int j = i + 1; j < 3; j++)
			if (keep[j] < keep[i]) {
				int t = keep[i];
				keep[i] = keep[j];
				keep[j] = t;
			}
	for (int i = 0; i < 3; i++) {
		if (keep[i] < lo)
			continue;
		if (keep[i] > lo)
			close_range((unsigned)lo, (unsigned)keep[i] - 1, 0);
		lo = keep[i] + 1;
	}
	close_range((unsigned)lo, ~0U, 0);
}

static void __attribute__((noreturn))
worker_main(struct procpool *pp, unsigned slot, int in, int out)
{
	struct wctx wc = { .pp = pp, .in = in, .out = out };
	struct spawn_io io = {
		.capture = pp->ops.capture, .data = worker_data,
		.started = worker_started, .arg = &wc,
	};
	struct value *v = NULL;
	size_t nv = 0, vcap = 0;
	struct strbuf buf = STRBUF_INIT;
	struct sigaction sa;
	sigset_t none;
	unsigned tasks = 0;

	setpgid(0, 0);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = worker_on_signal;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (pp->keep_fd >= 0)
		dup2(pp->keep_fd, 0);
	close_others(in, out, pp->keep_fd);

	for (;;) {
		struct frame f;
		struct job_status st;
		int r = ccmap__read_full(in, &f.h, sizeof f.h);

		if (r <= 0 || f.h.type != FRAME_JOB || f.h.len > FRAME_MAX)
			_exit(r == 0 ? 0 : 1);
		strbuf_reset(&buf);
		strbuf_grow(&buf, f.h.len);
		if (f.h.len && ccmap__read_full(in, buf.buf, f.h.len) <= 0)
			_exit(1);
		f.payload = buf.buf;
		if (proto_job_values(&f, &v, &nv, &vcap) < 0)
			_exit(1);
		wc.seq = f.h.seq;
		if (worker_stopping)
			st = (struct job_status){ .err = ECANCELED };
		else
			pp->ops.job(pp->ops.arg, &(struct jobvals){ .v = v,
			    .n = nv, .seq = f.h.seq, .slot = slot }, &io, &st);
		strbuf_reset(&wc.frame);
		proto_put_done(&wc.frame, f.h.seq, &st);
		worker_send(&wc, wc.frame.buf, wc.frame.len, NULL, 0);
		if (pp->ops.max_tasks && ++tasks >= pp->ops.max_tasks)
			_exit(0);	/* to be replaced */
	}
}

static int
start_worker(struct procpool *pp, struct pworker *w)
{
	int down[2], up[2];
	pid_t pid;

	if (pipe2(down, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(up, O_CLOEXEC) < 0) {
		int e = -errno;
		close(down[0]);
		close(down[1]);
		return e;
	}
	pid = fork();
	if (pid < 0) {
		int e = -errno;
		close(down[0]);
		close(down[1]);
		close(up[0]);
		close(up[1]);
		return e;
	}
	if (pid == 0)
		worker_main(pp, w->slot, down[0], up[1]);
	/* Also from here, so that a signal cannot find it in ours. */
	setpgid(pid, pid);
	close(down[0]);
	close(up[1]);
	fcntl(down[1], F_SETFL, O_NONBLOCK);
	w->pid = pid;
	w->to = down[1];
	w->from = up[0];
	strbuf_reset(&w->rbuf);
	strbuf_reset(&w->wbuf);
	w->woff = 0;
	return 0;
}

int
procpool_new(struct procpool **ppp, unsigned n, const struct procpool_ops *ops,
    int keep_fd)
{
	struct procpool *pp = ccmap__xcalloc(1, sizeof *pp);
	int r = 0;

	pp->ops = *ops;
	pp->keep_fd = keep_fd;
	pp->w = ccmap__xcalloc(n, sizeof *pp->w);
	for (; pp->n < n; pp->n++) {
		pp->w[pp->n].slot = pp->n + 1;
		if ((r = start_worker(pp, &pp->w[pp->n])) < 0)
			break;
	}
	if (r < 0) {
		procpool_free(pp);
		return r;
	}
	*ppp = pp;
	return 0;
}

static void
stop_worker(struct pworker *w, int *status)
{
	if (w->to >= 0)
		close(w->to);
	if (w->from >= 0)
		close(w->from);
	w->to = w->from = -1;
	if (w->pid > 0)
		while (waitpid(w->pid, status, 0) < 0 && errno == EINTR)
			;
	w->pid = 0;
}

void
procpool_free(struct procpool *pp)
{
	int status;

	if (!pp)
		return;
	for (unsigned i = 0; i < pp->n; i++) {
		struct pworker *w = &pp->w[i];
		stop_worker(w, &status);
		for (size_t k = 0; k < w->qn; k++)
			free(w->q[(w->qhead + k) % w->qcap].frame);
		free(w->q);
		strbuf_release(&w->wbuf);
		strbuf_release(&w->rbuf);
	}
	free(pp->w);
	free(pp);
}

/* Write what we can of w's pending frames. */
static void
flush_to(struct pworker *w)
{
	while (w->woff < w->wbuf.len) {
		ssize_t n = write(w->to, w->wbuf.buf + w->woff,
		    w->wbuf.len - w->woff);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;	/* EAGAIN: poll; EPIPE: its death shows on read */
		}
		w->woff += (size_t)n;
	}
	strbuf_reset(&w->wbuf);
	w->woff = 0;
}

static void
push_pend(struct pworker *w, void *cookie, uint64_t seq, const char *frame,
    size_t len)
{
	if (w->qn == w->qcap) {
		size_t ncap = w->qcap ? w->qcap * 2 : 4;
		struct pend *nq = ccmap__xcalloc(ncap, sizeof *nq);
		for (size_t k = 0; k < w->qn; k++)
			nq[k] = w->q[(w->qhead + k) % w->qcap];
		free(w->q);
		w->q = nq;
		w->qcap = ncap;
		w->qhead = 0;
	}
	w->q[(w->qhead + w->qn++) % w->qcap] = (struct pend){
		cookie, seq, ccmap__xmemdup(frame, len), len,
	};
	strbuf_add(&w->wbuf, frame, len);
}

static struct pworker *
least_busy(struct procpool *pp)
{
	struct pworker *best = &pp->w[0];

	for (unsigned i = 1; i < pp->n; i++)
		if (pp->w[i].qn < best->qn)
			best = &pp->w[i];
	return best;
}

void
procpool_submit(struct procpool *pp, void *const *cookies,
    const struct jobvals *jv, size_t n)
{
	struct pworker *w = least_busy(pp);
	struct strbuf frame = STRBUF_INIT;

	for (size_t i = 0; i < n; i++) {
		strbuf_reset(&frame);
		proto_put_job(&frame, jv[i].seq, jv[i].v, jv[i].n);
		push_pend(w, cookies[i], jv[i].seq, frame.buf, frame.len);
	}
	strbuf_release(&frame);
	flush_to(w);
}

size_t
procpool_nfds(const struct procpool *pp)
{
	return 2 * (size_t)pp->n;
}

size_t
procpool_pollfds(struct procpool *pp, struct pollfd *fds)
{
	for (unsigned i = 0; i < pp->n; i++) {
		struct pworker *w = &pp->w[i];
		fds[2 * i] = (struct pollfd){ .fd = w->from, .events = POLLIN };
		fds[2 * i + 1] = (struct pollfd){
			.fd = w->wbuf.len > w->woff ? w->to : -1,
			.events = POLLOUT,
		};
	}
	return 2 * (size_t)pp->n;
}

/* The oldest job of w. */
static struct pend *
front(struct pworker *w)
{
	return w->qn ? &w->q[w->qhead] : NULL;
}

static void
pop_front(struct pworker *w)
{
	free(w->q[w->qhead].frame);
	w->qhead = (w->qhead + 1) % w->qcap;
	w->qn--;
}

/* Parse and act on the complete frames in w's read buffer. */
static int
parse_frames(struct procpool *pp, struct pworker *w)
{
	size_t off = 0;
	struct frame f;
	long n;
	int r = 0;

	while ((n = proto_parse(w->rbuf.buf + off, w->rbuf.len - off, &f)) > 0) {
		struct pend *p = front(w);
		struct job_status st;

		off += (size_t)n;
		if (!p || p->seq != f.h.seq) {
			r = -EPROTO;
			break;
		}
		if (f.h.type == FRAME_OUT || f.h.type == FRAME_ERR) {
			pp->ops.data(pp->ops.arg, p->cookie,
			    f.h.type == FRAME_OUT ? 1 : 2, f.payload, f.h.len);
		} else if (f.h.type == FRAME_DONE &&
		    proto_done_status(&f, &st) == 0) {
			void *cookie = p->cookie;
			pop_front(w);
			pp->ops.done(pp->ops.arg, cookie, &st);
		} else {
			r = -EPROTO;
			break;
		}
	}
	if (n < 0)
		r = (int)n;
	memmove(w->rbuf.buf, w->rbuf.buf + off, w->rbuf.len - off);
	w->rbuf.len -= off;
	return r;
}

/*
 * The worker died: its running job ends as the worker did, the rest go to
 * a new worker in its place.
 */
static int
replace_worker(struct procpool *pp, struct pworker *w)
{
	struct job_status st = { 0 };
	struct pend *p;
	int status = 0, r;

	stop_worker(w, &status);
	if (WIFSIGNALED(status))
		st.sig = WTERMSIG(status);
	else
		st.code = WEXITSTATUS(status) ? WEXITSTATUS(status) : 255;
	/* Exit status 0: it ended between jobs (--max-tasks-per-child). */
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) &&
	    (p = front(w)) != NULL) {
		void *cookie = p->cookie;
		pop_front(w);
		pp->ops.done(pp->ops.arg, cookie, &st);
	}
	if (pp->stopping) {
		/* No new worker: what it had queued is cancelled. */
		while ((p = front(w)) != NULL) {
			void *cookie = p->cookie;
			pop_front(w);
			pp->ops.done(pp->ops.arg, cookie,
			    &(struct job_status){ .err = ECANCELED });
		}
		w->pid = 0;
		return 0;
	}
	if ((r = start_worker(pp, w)) < 0)
		return r;
	for (size_t k = 0; k < w->qn; k++) {
		p = &w->q[(w->qhead + k) % w->qcap];
		strbuf_add(&w->wbuf, p->frame, p->len);
	}
	flush_to(w);
	return 0;
}

int
procpool_handle(struct procpool *pp, const struct pollfd *fds, size_t n)
{
	int r = 0;

	for (unsigned i = 0; i < pp->n && 2 * i + 1 < n; i++) {
		struct pworker *w = &pp->w[i];

		if (fds[2 * i + 1].revents & (POLLOUT | POLLERR))
			flush_to(w);
		if (!fds[2 * i].revents)
			continue;
		strbuf_grow(&w->rbuf, READ_CHUNK);
		ssize_t got = read(w->from, w->rbuf.buf + w->rbuf.len, READ_CHUNK);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got <= 0) {
			if ((r = replace_worker(pp, w)) < 0)
				return r;
			continue;
		}
		w->rbuf.len += (size_t)got;
		if ((r = parse_frames(pp, w)) < 0)
			return r;
	}
	return r;
}

void
procpool_kill(struct procpool *pp, int sig)
{
	pp->stopping = 1;
	for (unsigned i = 0; i < pp->n; i++)
		if (pp->w[i].pid > 0)
			kill(pp->w[i].pid, sig == SIGKILL ? SIGUSR1 : sig);
}
