/*
 * input.h: items from the sources, one argument tuple at a time.
 *
 * With one source each tuple holds one value; with several, the tuples are
 * their cartesian product (the first source varies slowest, as in GNU
 * parallel), or with link set, the i-th value of each, shorter sources
 * wrapping around.  The first source is streamed: only what the next tuple
 * needs is read, so the first job can start before the input ends.  The
 * other sources are read whole when the input is opened.
 *
 * The caller drives the reading, so that it can poll the descriptor along
 * with everything else:
 *
 *	while ((r = input_next(in, &t)) != INPUT_EOF) {
 *		if (r == INPUT_AGAIN) {
 *			poll input_fd(in) for POLLIN, then input_fill(in);
 *			continue;
 *		}
 *		use t.v[0..t.n-1] (valid until the next call);
 *	}
 */
#ifndef CCMAP_INPUT_H
#define CCMAP_INPUT_H

#include <stddef.h>

#include "ccmap.h"
#include "strbuf.h"
#include "value.h"

enum { INPUT_EOF = -1, INPUT_AGAIN = 0, INPUT_TUPLE = 1 };

struct input;

/* Open every source; on failure -errno and one line in err. */
int input_open(struct input **inp, const struct ccmap_opts *opts,
    char *err, size_t errlen);
void input_close(struct input *in);
/* INPUT_TUPLE and a tuple, INPUT_AGAIN, or INPUT_EOF. */
int input_next(struct input *in, struct tuple *t);
/*
 * With one streamed source: take whole records already read, delimiters
 * included, into out: those that end within min bytes (or the first, if it
 * is longer), and at most max_records of them.  It does not wait for
 * more: so items flow while the input is slow.  When it can, it hands over
 * the read buffer itself (out must be empty and own no memory), so that
 * the records are not copied.  At the end of the input the last record is
 * given its delimiter.  INPUT_TUPLE with *count records, INPUT_AGAIN when
 * no whole record is there yet, INPUT_EOF, or -EINVAL for other sources.
 */
int input_take_block(struct input *in, size_t min, size_t max_records,
    struct strbuf *out, size_t *count);
/*
 * A block's job is done with it: if it holds a read buffer that
 * input_take_block() handed over, keep that for reading into again
 * (a fresh one each time costs its pages anew).  buf is left empty.
 */
void input_recycle(struct input *in, struct strbuf *buf);
/*
 * Open a source file ("-" is stdin, which is not to be closed: *close_fd
 * says which); the descriptor, or -1 with errno and one line in err.
 */
int input_open_file(const char *path, int *close_fd, char *err,
    size_t errlen);
/* The descriptor to poll before input_fill(), or -1. */
int input_fd(const struct input *in);
/* Read more of the streamed source: >0, 0 at its end, or -errno. */
long input_fill(struct input *in);
/*
 * The number of tuples in all, once it is known: 1 and *n, else 0.  It is
 * known from the start when every source is read whole (::: ARGS, and
 * the other sources than the first), and with a streamed source once its
 * records have all been counted (input_count_ahead), with -E, -r and
 * --header applied as the reading applies them.
 */
int input_tuples(const struct input *in, unsigned long long *n);
/*
 * Count the streamed source's records ahead of the reading (for --bar,
 * --eta and --progress).  A regular file is counted piece by piece by
 * input_count_step() (read twice, nothing kept).  A pipe or a socket is
 * read ahead as fast as it comes, whatever the reading needs
 * (input_reads_ahead(): poll input_fd() and call input_fill() all the
 * same), counted as it comes and queued: in memory up to mem_limit bytes
 * (0: a default), past that in a temporary file in tmpdir (NULL:
 * $TMPDIR), which the reading then takes its bytes from.  If that file
 * cannot be written, the counting gives up (the number is then known at
 * the end) and the reading goes on as before.  Other inputs (a terminal,
 * items typed at the prompt) are not counted.
 */
void input_count_ahead(struct input *in, size_t mem_limit,
    const char *tmpdir);
/* A regular file is being counted: input_count_step() has work now. */
int input_count_pending(const struct input *in);
/* Count the next piece of it. */
void input_count_step(struct input *in);
/* The streamed source is being read ahead (see input_count_ahead). */
int input_reads_ahead(const struct input *in);
/* The room of the streamed source's read buffer: the memory it holds. */
size_t input_buffer_size(const struct input *in);
/*
 * Items typed at a terminal (tty.c reads them through readline): from now
 * on the streamed source is not read from its descriptor (input_fd() is
 * -1); its records come from input_feed(), each given the delimiter, until
 * input_feed_end().
 */
void input_set_fed(struct input *in);
void input_feed(struct input *in, const char *p, size_t len);
void input_feed_end(struct input *in);
/* The streamed source, for messages: a file name or "standard input". */
const char *input_name(const struct input *in);
/* How many sources (1 for no input at all, as with --pipe). */
size_t input_nsources(const struct input *in);
/*
 * With --header (but not --header 0): source i's first value, taken out
 * of its items, or NULL if the source was empty.
 */
const struct value *input_header(const struct input *in, size_t i);

#endif
