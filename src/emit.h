/*
 * emit.h: what the run writes, in order (main thread).
 */
#ifndef CCMAP_EMIT_H
#define CCMAP_EMIT_H

#include <stddef.h>

struct ccmap;
struct job;

/*
 * A warning, one line without a prefix, to the caller's warn callback
 * (the engine's only channel for messages), after the prompt and progress
 * lines have made way.
 */
void emit_warn(struct ccmap *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/*
 * The warn callback of hosts.c and transfer.c (arg: the ccmap), safe
 * from any thread: on the main thread it is emit_warn(); from another,
 * the warning is queued and the loop woken, to write it with
 * emit_warn_queued().
 */
void emit_warn_any(void *arg, const char *msg);
/* Write the warnings queued so far (main thread). */
void emit_warn_queued(struct ccmap *c);
/*
 * The queue: made by ccmap_new(), whose thread is the main one until
 * emit_warnq_start() makes the calling thread so, with the fd that wakes
 * the loop (an eventfd; -1: none); emit_warnq_stop() before that fd is
 * closed; freed by ccmap_free().
 */
void emit_warnq_init(struct ccmap *c);
void emit_warnq_start(struct ccmap *c, int wake_fd);
void emit_warnq_stop(struct ccmap *c);
void emit_warnq_free(struct ccmap *c);
/* output.h's before_write hook: the prompt and progress lines make way. */
void emit_hide(void *arg, int fd, const char *buf, size_t len);
/* A write failed with e (-errno): a closed pipe quietly, others as errors;
   either way the run stops. */
void emit_failed(struct ccmap *c, int e);
/* Compose a finished job's --joblog line, written with its output. */
void emit_log_job(struct ccmap *c, struct job *job);
/* In input order, the oldest unfinished job's output streams as it comes. */
void emit_promote(struct ccmap *c);
/* A job has ended and been counted: write it, or hold it until it is due. */
void emit_finished(struct ccmap *c, struct job *job);
/* The run is over: write what is still held. */
void emit_rest(struct ccmap *c);

#endif
