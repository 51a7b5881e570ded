/*
 * wconn.c: a remote host's ccmap --worker, over one ssh session (see
 * wconn.h).
 *
 * The session is asked of the host's master (mux_open()), or the
 * command that starts the worker is run (posix_spawnp(), in a process
 * group of its own: the terminal's signals are ccmap's to pass on), with
 * three pipes of ours as its stdin, stdout and stderr.  Writers (the jobs'
 * threads) send whole frames under wlock; the reader thread parses what
 * comes back and wakes the job a DONE is for.  Whatever ends the stream
 * ends every job still on it, as lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mux.h"
#include "proto.h"
#include "strbuf.h"
#include "util.h"
#include "wconn.h"

/* How long a worker may take to say hello, and to end when closed. */
#define HELLO_MS (60 * 1000)
#define CLOSE_MS (5 * 1000)
/* Bytes of the worker's stderr kept, for why it failed. */
#define ERR_KEEP 512

extern char **environ;

struct wjob {
	uint64_t id;
	const struct wconn_job *j;
	struct job_status st;
	uint64_t ran[3];	/* a batch's BDONE: ran, failed, ns */
	int done;		/* 1: ended, -1: lost */
	struct wjob *next;
};

struct wconn {
	pthread_mutex_t lock;	/* guards up, refs, jobs, why, errs */
	pthread_cond_t cond;	/* a job ended */
	pthread_mutex_t wlock;	/* a frame at a time on to */
	int to, from, err;	/* its stdin, stdout, stderr */
	int sock;		/* its session, held open */
	pid_t pid;		/* or the command that runs it (0: none) */
	int killed;		/* closed in a run that was killed */
	int stop[2];		/* wakes the reader to end */
	pthread_t reader;
	int up;
	unsigned refs;
	uint64_t next_id;
	struct wjob *jobs;	/* sent, not ended */
	struct strbuf rbuf;	/* its frames, not yet parsed */
	struct strbuf errs;	/* the last of its stderr */
	char host[256];
	char why[512];		/* why it failed */
};

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Keep the last ERR_KEEP bytes of its stderr. */
static void
keep_err(struct wconn *w, const char *buf, size_t len)
{
	strbuf_add(&w->errs, buf, len);
	if (w->errs.len > ERR_KEEP) {
		size_t cut = w->errs.len - ERR_KEEP;
		memmove(w->errs.buf, w->errs.buf + cut, ERR_KEEP);
		w->errs.len = ERR_KEEP;
		w->errs.buf[w->errs.len] = '\0';
	}
}

/* It failed: every job on it is lost.  (Under the lock.) */
static void
fail(struct wconn *w, const char *what)
{
	const char *e = strbuf_last_line(&w->errs);

	if (!w->up)
		return;
	w->up = 0;
	snprintf(w->why, sizeof w->why, "%s%s%s%s", what, *e ? " (" : "", e,
	    *e ? ")" : "");
	for (struct wjob *j = w->jobs; j; j = j->next)
		j->done = -1;
	w->jobs = NULL;
	pthread_cond_broadcast(&w->cond);
}

static struct wjob *
find(struct wconn *w, uint64_t id)
{
	for (struct wjob *j = w->jobs; j; j = j->next)
		if (j->id == id)
			return j;
	return NULL;
}

/* Act on the frames read: 0, or -EPROTO. */
static int
frames(struct wconn *w)
{
	struct frame f;
	size_t at = 0;
	long n;
	int r = 0;

	while ((n = proto_parse(w->rbuf.buf + at, w->rbuf.len - at, &f)) > 0) {
		struct wjob *j;
		at += (size_t)n;
		pthread_mutex_lock(&w->lock);
		j = find(w, f.h.seq);
		pthread_mutex_unlock(&w->lock);
		if (!j) {
			r = -EPROTO;
			break;
		}
		if (f.h.type == FRAME_OUT || f.h.type == FRAME_ERR) {
			/* (Only this thread ends j: it stays.) */
			if (f.h.len)
				j->j->data(j->j->arg, f.h.type == FRAME_OUT ?
				    1 : 2, f.payload, f.h.len);
		} else if (f.h.type == FRAME_MARK && j->j->batch) {
			j->j->mark(j->j->arg);
		} else if ((f.h.type == FRAME_DONE ||
		    (f.h.type == FRAME_BDONE && j->j->batch)) &&
		    proto_done_status(&f, &j->st) == 0) {
			if (f.h.type == FRAME_BDONE)
				memcpy(j->ran, f.payload + f.h.len - 24, 24);
			pthread_mutex_lock(&w->lock);
			for (struct wjob **p = &w->jobs; *p; p = &(*p)->next)
				if (*p == j) {
					*p = j->next;
					break;
				}
			j->done = 1;
			pthread_cond_broadcast(&w->cond);
			pthread_mutex_unlock(&w->lock);
		} else {
			r = -EPROTO;
			break;
		}
	}
	if (n < 0)
		r = -EPROTO;
	memmove(w->rbuf.buf, w->rbuf.buf + at, w->rbuf.len - at);
	w->rbuf.len -= at;
	return r;
}

static void *
reader(void *arg)
{
	struct wconn *w = arg;
	const char *what = NULL;
	char buf[4096];

	while (!what) {
		struct pollfd fds[3] = {
			{ .fd = w->from, .events = POLLIN },
			{ .fd = w->err, .events = POLLIN },
			{ .fd = w->stop[0], .events = POLLIN },
		};
		ssize_t n;
		if (poll(fds, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			what = "poll failed";
			break;
		}
		if (fds[2].revents) {
			what = "closed";
			break;
		}
		if (fds[1].revents && w->err >= 0) {
			n = read(w->err, buf, sizeof buf);
			if (n > 0) {
				pthread_mutex_lock(&w->lock);
				keep_err(w, buf, (size_t)n);
				pthread_mutex_unlock(&w->lock);
			} else if (n == 0 || errno != EINTR) {
				close_fd(&w->err);
			}
		}
		if (!fds[0].revents)
			continue;
		strbuf_grow(&w->rbuf, 65536);
		n = read(w->from, w->rbuf.buf + w->rbuf.len,
		    w->rbuf.alloc - w->rbuf.len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* (What it said last may still be on its way.) */
			struct pollfd e = { .fd = w->err, .events = POLLIN };
			while (w->err >= 0 && poll(&e, 1, 100) > 0 &&
			    (n = read(w->err, buf, sizeof buf)) > 0) {
				pthread_mutex_lock(&w->lock);
				keep_err(w, buf, (size_t)n);
				pthread_mutex_unlock(&w->lock);
			}
			what = "its ccmap --worker ended";
			break;
		}
		w->rbuf.len += (size_t)n;
		if (frames(w) < 0)
			what = "its ccmap --worker said what it should not";
	}
	pthread_mutex_lock(&w->lock);
	fail(w, what);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Write a whole frame (header, then a and b): 0, or -1 (it failed). */
static int
send_frame(struct wconn *w, uint32_t type, uint64_t id, const void *a,
    size_t alen, const void *b, size_t blen)
{
	int r = -1;

	pthread_mutex_lock(&w->wlock);
	if (w->to >= 0 && proto_write(w->to, type, id, a, alen, b, blen) == 0)
		r = 0;
	pthread_mutex_unlock(&w->wlock);
	return r;
}

/*
 * Wait for its HELLO (what comes after it stays in rbuf): 0, or
 * -EPROTONOSUPPORT with why.
 */
static int
hear_hello(struct wconn *w, char *why, size_t wlen)
{
	long long until = util_now_ns() + HELLO_MS * 1000000LL;
	uint32_t version = 0, order = PROTO_ORDER;
	struct frame f;
	long n = 0;

	for (;;) {
		if (w->rbuf.len >= sizeof f.h) {
			memcpy(&f.h, w->rbuf.buf, sizeof f.h);
			if (f.h.type != FRAME_HELLO || f.h.len > 4096) {
				n = -EPROTO;
				break;
			}
			if (w->rbuf.len - sizeof f.h >= f.h.len) {
				f.payload = w->rbuf.buf + sizeof f.h;
				n = 1;
				break;
			}
		}
		struct pollfd fds[2] = {
			{ .fd = w->from, .events = POLLIN },
			{ .fd = w->err, .events = POLLIN },
		};
		long long left = (until - util_now_ns()) / 1000000;
		char buf[4096];
		ssize_t got;
		if (left <= 0) {
			snprintf(why, wlen, "its ccmap --worker did not answer");
			return -EPROTONOSUPPORT;
		}
		if (poll(fds, w->err >= 0 ? 2 : 1, (int)left) < 0 &&
		    errno != EINTR)
			break;
		if (w->err >= 0 && fds[1].revents) {
			if ((got = read(w->err, buf, sizeof buf)) > 0)
				keep_err(w, buf, (size_t)got);
			else if (got == 0)
				close_fd(&w->err);
		}
		if (!fds[0].revents)
			continue;
		strbuf_grow(&w->rbuf, sizeof buf);
		got = read(w->from, w->rbuf.buf + w->rbuf.len, sizeof buf);
		if (got == 0 || (got < 0 && errno != EINTR)) {
			/* (Its stderr says why: "ccmap: not found".) */
			for (struct pollfd e = { .fd = w->err,
			    .events = POLLIN }; w->err >= 0 &&
			    poll(&e, 1, 1000) > 0 &&
			    (got = read(w->err, buf, sizeof buf)) > 0; )
				keep_err(w, buf, (size_t)got);
			const char *e = strbuf_last_line(&w->errs);
			snprintf(why, wlen, "no ccmap --worker there%s%s%s",
			    *e ? " (" : "", e, *e ? ")" : "");
			return -EPROTONOSUPPORT;
		}
		if (got > 0)
			w->rbuf.len += (size_t)got;
	}
	if (n > 0 && (n = proto_hello(&f, &version, &order)) == 0) {
		memmove(w->rbuf.buf, w->rbuf.buf + sizeof f.h + f.h.len,
		    w->rbuf.len - sizeof f.h - f.h.len);
		w->rbuf.len -= sizeof f.h + f.h.len;
		return 0;
	}
	if (n == -EPROTONOSUPPORT && order != PROTO_ORDER)
		snprintf(why, wlen, "its ccmap --worker has another byte order");
	else if (n == -EPROTONOSUPPORT)
		snprintf(why, wlen, "its ccmap --worker speaks protocol %u, "
		    "this ccmap %u", (unsigned)version, PROTO_VERSION);
	else
		snprintf(why, wlen, "what answered is not a ccmap --worker");
	return -EPROTONOSUPPORT;
}

/* A string, as SETUP has them: its length, then its bytes. */
static void
add_str(struct strbuf *sb, const char *s)
{
	uint32_t len = (uint32_t)strlen(s);

	strbuf_add(sb, &len, 4);
	strbuf_add(sb, s, len);
}

static void
send_setup(struct wconn *w, const struct wconn_setup *s)
{
	struct strbuf sb = STRBUF_INIT;
	uint32_t slots = s->slots, n = s->termseq ? s->termseq->n : 0;
	uint32_t max_tasks = s->max_tasks, count = 4 + (uint32_t)s->nargs;
	int64_t timeout = s->timeout_ns;
	const char *plugin = s->plugin ? s->plugin : "";

	strbuf_add(&sb, &slots, 4);
	strbuf_add(&sb, &timeout, 8);
	strbuf_add(&sb, &n, 4);
	for (uint32_t i = 0; i < n; i++) {
		int32_t sig = s->termseq->step[i].sig;
		uint32_t ms = s->termseq->step[i].ms;
		strbuf_add(&sb, &sig, 4);
		strbuf_add(&sb, &ms, 4);
	}
	strbuf_add(&sb, &max_tasks, 4);
	strbuf_add(&sb, &count, 4);
	add_str(&sb, s->host);
	add_str(&sb, plugin);
	add_str(&sb, s->tag ? s->tag : "");
	add_str(&sb, s->replace ? s->replace : "");
	for (size_t i = 0; i < s->nargs; i++)
		add_str(&sb, s->args[i]);
	if (send_frame(w, FRAME_SETUP, 0, sb.buf, sb.len, NULL, 0) < 0)
		/* (The reader will see it end.) */
		close_fd(&w->to);
	strbuf_release(&sb);
}

/* Run argv with fds as its stdin, stdout, stderr: 0, or -errno with why. */
static int
spawn_worker(struct wconn *w, const char *const *argv, const int fds[3],
    char *why, size_t wlen)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int e;

	posix_spawn_file_actions_init(&fa);
	for (int i = 0; i < 3; i++)
		posix_spawn_file_actions_adddup2(&fa, fds[i], i);
	util_spawnattr_own(&attr);
	e = posix_spawnp(&w->pid, argv[0], &fa, &attr, (char *const *)argv,
	    environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (e) {
		w->pid = 0;
		snprintf(why, wlen, "%s: %s", argv[0], strerror(e));
		return -e;
	}
	return 0;
}

/*
 * The command that ran the worker ends (its stdin is closed: it ends of
 * itself, as the worker does); TERM if it was killed or is slow, then
 * KILL, and reaped.
 */
static void
reap(struct wconn *w)
{
	long long term = util_now_ns() + CLOSE_MS * 1000000LL;
	int sent = 0;

	if (w->pid <= 0)
		return;
	if (w->killed) {
		kill(w->pid, SIGTERM);
		sent = SIGTERM;
	}
	for (;;) {
		pid_t r = waitpid(w->pid, NULL, sent == SIGKILL ? 0 : WNOHANG);
		if (r == w->pid || (r < 0 && errno != EINTR))
			break;
		if (r == 0 && util_now_ns() > term) {
			sent = sent ? SIGKILL : SIGTERM;
			kill(w->pid, sent);
			term = util_now_ns() + CLOSE_MS * 1000000LL;
			continue;
		}
		if (r == 0)
			nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
	}
	w->pid = 0;
}

/* Free it all; the reader has ended, or never started. */
static void
destroy(struct wconn *w)
{
	close_fd(&w->to);
	close_fd(&w->from);
	close_fd(&w->err);
	close_fd(&w->sock);
	reap(w);
	close_fd(&w->stop[0]);
	close_fd(&w->stop[1]);
	strbuf_release(&w->rbuf);
	strbuf_release(&w->errs);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	pthread_mutex_destroy(&w->wlock);
	free(w);
}

int
wconn_open(struct wconn **wp, const struct wconn_setup *s, char *why,
    size_t wlen)
{
	struct wconn *w = util_calloc(1, sizeof *w);
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	int e, fds[3];
	sigset_t all, old;

	pthread_mutex_init(&w->lock, NULL);
	pthread_mutex_init(&w->wlock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->to = w->from = w->err = w->sock = -1;
	w->stop[0] = w->stop[1] = -1;
	snprintf(w->host, sizeof w->host, "%s", s->host);
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
	    pipe2(err, O_CLOEXEC) < 0 || pipe2(w->stop, O_CLOEXEC) < 0) {
		e = -errno;
		snprintf(why, wlen, "pipe: %s", strerror(errno));
		goto failed;
	}
	fds[0] = in[0];
	fds[1] = out[1];
	fds[2] = err[1];
	e = s->argv ? spawn_worker(w, s->argv, fds, why, wlen) :
	    mux_open(s->ctl, s->cmd, fds, why, wlen);
	close_fd(&in[0]);
	close_fd(&out[1]);
	close_fd(&err[1]);
	w->to = in[1];
	w->from = out[0];
	w->err = err[0];
	in[1] = out[0] = err[0] = -1;
	if (e < 0) {
		if (e != -EPROTONOSUPPORT)
			e = -EHOSTUNREACH;
		goto failed;
	}
	w->sock = s->argv ? -1 : e;
	if ((e = hear_hello(w, why, wlen)) < 0)
		goto failed;
	send_setup(w, s);
	w->up = 1;
	w->refs = 1;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&w->reader, NULL, reader, w) != 0)
		util_oom(0);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	*wp = w;
	return 0;
failed:
	for (int i = 0; i < 2; i++) {
		close_fd(&in[i]);
		close_fd(&out[i]);
		close_fd(&err[i]);
	}
	destroy(w);
	return e;
}

void
wconn_hold(struct wconn *w)
{
	pthread_mutex_lock(&w->lock);
	w->refs++;
	pthread_mutex_unlock(&w->lock);
}

void
wconn_release(struct wconn *w)
{
	unsigned refs;

	pthread_mutex_lock(&w->lock);
	refs = --w->refs;
	pthread_mutex_unlock(&w->lock);
	if (refs)
		return;
	(void)!write(w->stop[1], "", 1);
	pthread_join(w->reader, NULL);
	destroy(w);
}

int
wconn_up(struct wconn *w)
{
	int up;

	pthread_mutex_lock(&w->lock);
	up = w->up;
	pthread_mutex_unlock(&w->lock);
	return up;
}

void
wconn_end(struct wconn *w, int killed)
{
	pthread_mutex_lock(&w->wlock);
	close_fd(&w->to);
	pthread_mutex_unlock(&w->wlock);
	pthread_mutex_lock(&w->lock);
	w->killed |= killed;
	pthread_mutex_unlock(&w->lock);
}

void
wconn_close(struct wconn *w, int killed)
{
	wconn_end(w, killed);
	if (!killed) {
		/* (It ends its jobs, and says so by ending its stdout.) */
		struct timespec by;
		clock_gettime(CLOCK_REALTIME, &by);
		by.tv_sec += CLOSE_MS / 1000;
		pthread_mutex_lock(&w->lock);
		while (w->up && pthread_cond_timedwait(&w->cond, &w->lock,
		    &by) == 0)
			;
		pthread_mutex_unlock(&w->lock);
	}
	wconn_release(w);
}

int
wconn_run(struct wconn *w, const struct wconn_job *j, struct job_status *st,
    char *why, size_t wlen)
{
	struct wjob wj = { .j = j };
	struct strbuf sb = STRBUF_INIT;
	uint64_t seq = j->seq;
	uint32_t slot = j->slot, clen = (uint32_t)j->len;
	uint32_t dlen = j->wd ? (uint32_t)strlen(j->wd) : 0;

	pthread_mutex_lock(&w->lock);
	if (!w->up) {
		snprintf(why, wlen, "%s", w->why);
		pthread_mutex_unlock(&w->lock);
		return -1;
	}
	wj.id = ++w->next_id;
	wj.next = w->jobs;
	w->jobs = &wj;
	pthread_mutex_unlock(&w->lock);

	if (j->batch) {
		uint64_t u[2] = { j->batch->first, j->batch->items };
		char d = (char)j->batch->delim;
		strbuf_add(&sb, u, sizeof u);
		strbuf_add(&sb, &d, 1);
		strbuf_add(&sb, j->batch->bytes, j->batch->len);
	} else {
		strbuf_add(&sb, &seq, 8);
		strbuf_add(&sb, &slot, 4);
		strbuf_add(&sb, &clen, 4);
		strbuf_add(&sb, j->cmd, j->len);
		strbuf_add(&sb, &dlen, 4);
		strbuf_add(&sb, j->wd ? j->wd : "", dlen);
		for (int i = 0; i < j->nin; i++)
			strbuf_add(&sb, j->in[i].iov_base, j->in[i].iov_len);
	}
	if (sb.len > FRAME_MAX) {
		/* (Not sent: as a job that could not start.) */
		pthread_mutex_lock(&w->lock);
		for (struct wjob **p = &w->jobs; *p; p = &(*p)->next)
			if (*p == &wj) {
				*p = wj.next;
				break;
			}
		pthread_mutex_unlock(&w->lock);
		strbuf_release(&sb);
		memset(st, 0, sizeof *st);
		st->err = E2BIG;
		st->code = 127;
		return 0;
	}
	if (send_frame(w, j->batch ? FRAME_BATCH : FRAME_RUN, wj.id, sb.buf,
	    sb.len, NULL, 0) < 0) {
		/* (The reader sees the end, and fails the jobs.) */
		pthread_mutex_lock(&w->wlock);
		close_fd(&w->to);
		pthread_mutex_unlock(&w->wlock);
	} else if (j->sent) {
		j->sent(j->arg, w, wj.id);
	}
	strbuf_release(&sb);
	pthread_mutex_lock(&w->lock);
	while (!wj.done)
		pthread_cond_wait(&w->cond, &w->lock);
	if (wj.done < 0)
		snprintf(why, wlen, "%s", w->why);
	pthread_mutex_unlock(&w->lock);
	if (wj.done < 0)
		return -1;
	*st = wj.st;
	if (j->batch) {
		j->batch->ran = (size_t)wj.ran[0];
		j->batch->failed = (size_t)wj.ran[1];
		j->batch->map_ns = (long long)wj.ran[2];
	}
	return 0;
}

void
wconn_kill(struct wconn *w, uint64_t id, int sig)
{
	int32_t s = sig;

	(void)send_frame(w, FRAME_KILL, id, &s, sizeof s, NULL, 0);
}
