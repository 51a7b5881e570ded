/*
 * output.h: job output, held back and written whole, in order.
 *
 * A job's stdout and stderr are captured into a struct joboutput, through
 * output_data(), from whichever thread runs the job.  Held-back output is
 * kept in memory up to a bound shared by all jobs (opts.mem_limit), and past
 * it is appended to one temporary file, unlinked as soon as it is made, so
 * that nothing is left behind however ccmap ends and no descriptor is held
 * per job.  The main thread writes a finished job's output whole with
 * output_emit(), through a buffer that output_flush() empties: call it
 * before waiting for anything.
 *
 * The job whose output is due next (the oldest unfinished one, in input
 * order) need not be held at all: output_go_live() lets its stdout through
 * as it comes, so a job with endless output streams instead of filling the
 * disk.  Its stderr is held still, to follow the whole of its stdout: a
 * job's output is its stdout, then its stderr, whatever the order the two
 * were read in.  output_mark() splits a job's output in groups (a plugin's
 * items), each its stdout then its stderr.
 *
 * In line-buffer mode output_data() writes whole lines at once, under a
 * lock, and output_emit() writes what is left of the last line.  Ordered
 * line-buffer mode does so for the live job alone, and holds the others'
 * output as above until their turn.
 *
 * reorder.h hands finished jobs back in sequence order.
 */
#ifndef CCMAP_OUTPUT_H
#define CCMAP_OUTPUT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

#include "strbuf.h"

/* A range of the spill file. */
struct extent {
	off_t off;
	size_t len;
};

/* One captured stream: the spilled extents first, then mem. */
struct sink {
	struct strbuf mem;
	struct extent *ext;
	size_t next, extcap;
};

/* A job's captured output. */
struct joboutput {
	struct sink s[2];	/* stdout, stderr */
	const char *tag;	/* prefix for each line, or NULL */
	size_t taglen;
	int bol[2];		/* each stream is at the start of a line */
	atomic_int live;	/* its turn has come: write, do not hold */
	int went_live;		/* what was held before has been written */
	/* output_mark(): the streams' held lengths at each group's end */
	struct outmark { size_t len[2]; } *mark;
	size_t nmarks, markcap;
	size_t held_len[2];	/* bytes held of each stream before its turn */
};

struct output_opts {
	int linebuffer;
	int ordered;		/* line-buffer: only the live job's lines go out */
	size_t mem_limit;	/* 0: the default */
	const char *tmpdir;	/* NULL: $TMPDIR, else /tmp */
	int fd[2];		/* where stdout and stderr go (1 and 2) */
	int wake_fd;		/* an eventfd to write to on a write error */
	/*
	 * Called (main thread) before output_flush() writes buf to fd, so
	 * that a prompt or a progress line on the terminal can make way.
	 */
	void (*before_write)(void *arg, int fd, const char *buf, size_t len);
	void *hook_arg;
};

struct output;

void output_new(struct output **op, const struct output_opts *opts);
void output_free(struct output *o);

void joboutput_init(struct joboutput *jo);
/* Drop what jo holds (its memory; spilled extents are abandoned). */
void joboutput_release(struct output *o, struct joboutput *jo);

/*
 * The same from the main thread, which writes through its buffer (flushed
 * by output_flush()) rather than at once.
 */
void output_data_main(struct output *o, struct joboutput *jo, int stream,
    const char *buf, size_t len);

/* Where to signal a write error from a worker thread (an eventfd). */
void output_set_wake(struct output *o, int fd);

/*
 * Add a job's output (stream 1 or 2); safe from any thread, one per job.
 * Once the job is live its output is written at once, else held.
 */
void output_data(struct output *o, struct joboutput *jo, int stream,
    const char *buf, size_t len);
/*
 * The job's output so far is a group (a plugin's item): it is written, its
 * stdout then its stderr, before what the job writes next.  From the thread
 * that gives its data; output_mark_main() from the main thread.
 */
void output_mark(struct output *o, struct joboutput *jo);
void output_mark_main(struct output *o, struct joboutput *jo);
/*
 * The job's turn has come (main thread): flush what is buffered, and from
 * now on write its output as it comes instead of holding it (not its
 * stderr, in --group mode: that waits for the end of its stdout).
 */
void output_go_live(struct output *o, struct joboutput *jo);
/*
 * The job's output has ended (from the thread that gave its data): in
 * line-buffer mode its last, unfinished line goes out now, before the
 * same thread starts another job.
 */
void output_end(struct output *o, struct joboutput *jo);
/* Write a finished job's output (main thread); 0 or the first error. */
int output_emit(struct output *o, struct joboutput *jo);
/*
 * Fold a finished job's output, held back until its turn, into one small
 * block, so that the job's other state can go: memory per held job stays
 * small however many wait.  The joboutput is left empty.  NULL when it
 * cannot be (part of it spilled, or it was written as it came).
 */
struct held *output_hold(struct output *o, struct joboutput *jo);
/* Write a held block (main thread) and free it; 0 or the first error. */
int output_emit_held(struct output *o, struct held *h);
/* Free a held block unwritten. */
void output_drop_held(struct output *o, struct held *h);
/*
 * Write bytes of ccmap's own to stream 1 or 2 (main thread), in order with
 * the jobs' output written so far, untagged; 0 or the first error.
 */
int output_emit_text(struct output *o, int stream, const char *p,
    size_t len);
/* Write out what is buffered; 0 or the first error. */
int output_flush(struct output *o);
/* The first write error seen (-EPIPE when the reader went away), or 0. */
int output_error(struct output *o);
/* Bytes of held-back output in memory, and spilled so far (for tests). */
size_t output_mem_used(struct output *o);
size_t output_spilled(struct output *o);

#endif
