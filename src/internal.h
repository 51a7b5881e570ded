/*
 * internal.h: small helpers shared by the engine's modules (never installed).
 */
#ifndef CCMAP_INTERNAL_H
#define CCMAP_INTERNAL_H

#include <errno.h>
#include <stddef.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/*
 * Allocation that cannot fail: on exhaustion the process aborts with a
 * message, which is the only thing the engine ever prints by itself.
 */
void *ccmap__xmalloc(size_t n);
void *ccmap__xcalloc(size_t n, size_t size);
void *ccmap__xrealloc(void *p, size_t n);
char *ccmap__xstrdup(const char *s);
char *ccmap__xmemdup(const void *p, size_t n);	/* NUL-terminated copy */

/*
 * Copy len bytes where most copies are a few bytes that were just stored
 * one at a time (a plugin's per-item output, digits most likely): byte by
 * byte up to 16, since a wider load of such bytes cannot be served from
 * the store buffer and waits for the stores to reach the cache.
 */
static inline void
ccmap__copy(void *dst, const void *src, size_t len)
{
	char *d = dst;
	const char *s = src;

	if (len > 16) {
		memcpy(d, s, len);
		return;
	}
	for (size_t i = 0; i < len; i++)
		d[i] = s[i];
}

/* Write all of buf to fd, retrying on EINTR; 0 or -errno. */
int ccmap__write_all(int fd, const void *buf, size_t len);

/* Read exactly len bytes; 1 done, 0 clean EOF before any byte, -errno. */
int ccmap__read_full(int fd, void *buf, size_t len);

/*
 * A temporary file in dir that no other process can find: O_TMPFILE where
 * the file system has it, else made from dir/NAME.XXXXXX and unlinked at
 * once; either way it goes when it is closed.  An fd or -errno.
 */
int ccmap__tmpfile(const char *dir, const char *name);

/* Monotonic time in nanoseconds. */
long long ccmap__now_ns(void);
/* Wall-clock time in nanoseconds since the epoch. */
long long ccmap__wall_ns(void);

#endif
