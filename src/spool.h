/*
 * spool.h: a queue of bytes read ahead of their reader.  What is queued is
 * held in memory up to a bound, and past it in a temporary file (made in
 * the given directory and unlinked at once, so that it goes with the
 * process however that ends).  The bytes come out as they went in.
 *
 *	s = spool_new(limit, dir);
 *	spool_put(s, p, n) as bytes arrive; spool_get(s, buf, len) to take
 *	them; spool_free(s).
 *
 * Memory stays under limit, plus one spool_put()'s bytes when the file
 * cannot be made (they are kept rather than lost).
 */
#ifndef CCMAP_SPOOL_H
#define CCMAP_SPOOL_H

#include <stddef.h>

struct spool;

/* limit 0: a default bound.  dir NULL: $TMPDIR, else /tmp. */
struct spool *spool_new(size_t limit, const char *dir);
void spool_free(struct spool *s);
/*
 * Queue len bytes: 0, or -errno when the file could not be made or
 * written (the bytes are queued all the same, in memory).
 */
int spool_put(struct spool *s, const char *p, size_t len);
/* Take up to len bytes, oldest first: how many (0: none queued), -errno. */
long spool_get(struct spool *s, char *buf, size_t len);
/* Bytes queued in all, and of them in memory. */
size_t spool_len(const struct spool *s);
size_t spool_mem(const struct spool *s);

#endif
