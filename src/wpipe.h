/*
 * wpipe.h: a worker process and the two pipes to it, shared by the pools
 * of processes for commands (procpool.c) and for plugins (plugpool.c).
 *
 * ccmap's side never blocks on a worker: what it sends waits in wbuf until
 * the pipe takes it (poll for POLLOUT when wpipe_pending()), and what it
 * reads gathers in rbuf for the caller to parse.  The worker's side blocks:
 * it has nothing else to do.
 */
#ifndef CCMAP_WPIPE_H
#define CCMAP_WPIPE_H

#include <poll.h>
#include <stdint.h>
#include <sys/types.h>

#include "strbuf.h"

struct wpipe {
	pid_t pid;		/* 0 when there is none */
	int to, from;		/* our ends of its pipes, -1 once closed */
	struct strbuf wbuf;	/* bytes not yet written to it */
	size_t woff;
	struct strbuf rbuf;	/* bytes read from it, not yet used */
};

void wpipe_init(struct wpipe *wp);
/*
 * Fork a worker that leads a process group of its own and runs
 * child(arg, in, out), which must not return, with every signal blocked
 * until it calls wpipe_worker_setup().  The worker dies with the process
 * that forked it (PR_SET_PDEATHSIG), whatever kills that.  0 or -errno.
 */
int wpipe_start(struct wpipe *wp, void (*child)(void *arg, int in, int out),
    void *arg);
/* Close both pipes (so the worker sees the end) and reap it: its status. */
int wpipe_stop(struct wpipe *wp);
void wpipe_release(struct wpipe *wp);
/* Write what the pipe takes now of wbuf. */
void wpipe_flush(struct wpipe *wp);
/* Does wbuf still hold bytes? */
int wpipe_pending(const struct wpipe *wp);
/* Fill fds[0] (readable) and fds[1] (writable, when bytes wait). */
void wpipe_pollfds(const struct wpipe *wp, struct pollfd fds[2]);
/* Read what there is into rbuf: >0, 0 at the end, or -EAGAIN to retry. */
long wpipe_read(struct wpipe *wp);
/*
 * After poll: write what waits if the pipe takes it, and read what came.
 * As wpipe_read(), and -EAGAIN when nothing came.
 */
long wpipe_handle(struct wpipe *wp, const struct pollfd fds[2]);
/* Drop the first n bytes of rbuf. */
void wpipe_consume(struct wpipe *wp, size_t n);

/* In a worker: send one frame whole (blocking); ccmap gone: _exit(1). */
void wpipe_send(int fd, uint32_t type, uint64_t seq, const void *data,
    size_t len);
/*
 * In a worker, first: SIGINT, SIGTERM and SIGUSR1 go to on_stop, SIGPIPE
 * is ignored, SIGHUP, SIGQUIT and SIGWINCH are back to their defaults
 * (unless ignored), no signal is blocked, stdin becomes stdin_fd (if >= 0),
 * and every descriptor but 0-2 and the n in keep is closed.
 */
void wpipe_worker_setup(void (*on_stop)(int), int stdin_fd, const int *keep,
    int n);
/* In a worker: close every descriptor but 0-2 and the n in keep. */
void wpipe_close_others(const int *keep, int n);

#endif
