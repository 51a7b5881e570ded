/*
 * ahead.h: a streamed source's records counted ahead of its reading, for
 * --bar, --eta and --progress (input_count_ahead() says when).
 *
 * A regular file is counted piece by piece by ahead_step(), with pread(),
 * so that the reading is not moved.  A pipe or a socket is read here
 * instead of by its reader, as fast as it comes (ahead_read()), counted and
 * queued in a spool, from which ahead_pull() gives the reader its bytes.
 * Records are counted as the reading counts them: the filter says which it
 * keeps (-E, -r).  If the spool cannot be written, the counting gives up
 * and the reader reads the descriptor again once the spool is empty.
 *
 * The queries take NULL too, for a source that is not counted.
 */
#ifndef CCMAP_AHEAD_H
#define CCMAP_AHEAD_H

#include <stddef.h>

#include "reader.h"

struct ahead;
struct regex;

/* A record: 1 is kept, 0 dropped, -1 ends the source (the rest unread). */
typedef int ahead_filter(void *arg, const char *p, size_t len);

/*
 * Count what rd reads, starting with the bytes it holds unread; NULL when
 * its descriptor is not counted (a terminal, a device).  re is its
 * --recsep (or NULL); mem_limit and tmpdir are the spool's (spool.h).
 */
struct ahead *ahead_new(const struct reader *rd, const struct regex *re,
    size_t mem_limit, const char *tmpdir, ahead_filter *filter, void *arg);
void ahead_free(struct ahead *a);
/* A regular file is being counted: ahead_step() has work now. */
int ahead_pending(const struct ahead *a);
/* Count the next piece of it. */
void ahead_step(struct ahead *a);
/* The descriptor is read here, into the spool, and not by the reader. */
int ahead_reads(const struct ahead *a);
/* One read(2) of it: bytes read, 0 at its end, or -errno. */
long ahead_read(struct ahead *a);
/* 1 and the number of records kept once they are all counted, else 0. */
int ahead_total(const struct ahead *a, unsigned long long *n);
/* The descriptor has ended: the spool holds the rest. */
int ahead_ended(const struct ahead *a);
/* The spool could not be read: -errno (else 0). */
int ahead_error(const struct ahead *a);
/*
 * What the spool holds, into rd: 1 when rd has more to give (bytes, or
 * its end), 0 when it must wait for the read ahead.
 */
int ahead_pull(struct ahead *a, struct reader *rd);

#endif
