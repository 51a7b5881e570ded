/*
 * util.h: small helpers shared by the engine's modules (never installed):
 * allocation, full reads and writes, temporary files and the clock.
 */
#ifndef CCMAP_UTIL_H
#define CCMAP_UTIL_H

#include <errno.h>
#include <spawn.h>
#include <stddef.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/*
 * Allocation that cannot fail: on exhaustion util_oom() ends the process.
 * (Not xmalloc: libreadline exports that name.)
 */
/*
 * Out of memory (n bytes wanted): one line on stderr, then abort().  The
 * only thing the engine ever prints by itself, and its only way to end.
 */
_Noreturn void util_oom(size_t n);
/*
 * "NAME: " (ccmap_set_progname()), or "": the prefix of the lines the
 * engine writes with no caller to hand them to (out of memory, and an
 * item's messages among its output).
 */
const char *util_prefix(void);
void *util_malloc(size_t n);
void *util_calloc(size_t n, size_t size);
void *util_realloc(void *p, size_t n);
char *util_strdup(const char *s);
char *util_memdup(const void *p, size_t n);	/* NUL-terminated copy */

/*
 * Copy len bytes where most copies are a few bytes that were just stored
 * one at a time (a plugin's per-item output, digits most likely): byte by
 * byte up to 16, since a wider load of such bytes cannot be served from
 * the store buffer and waits for the stores to reach the cache.
 */
static inline void
util_copy(void *dst, const void *src, size_t len)
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
/*
 * s[0..len) as a number written in at most max decimal digits (max <= 18),
 * nothing else: its value, or -1.
 */
long long util_digits(const char *s, size_t len, size_t max);

int util_write_all(int fd, const void *buf, size_t len);

/*
 * mkdir -p: make each directory of path that is missing (path is
 * written to, and put back).  0 or -errno.
 */
int util_mkpath(char *path);

/* Read exactly len bytes; 1 done, 0 clean EOF before any byte, -errno. */
int util_read_full(int fd, void *buf, size_t len);
/*
 * The last line of what a program said, buf[0..*len), for a message:
 * its line ends are cut off (*len shrinks, and buf[*len], which must be
 * writable, becomes '\0'); "" if nothing is left.
 */
const char *util_last_line(char *buf, size_t *len);
/*
 * attr (initialised here; posix_spawnattr_destroy() it) for a process of
 * ccmap's own, not a job (an ssh master, the step of a worker): nothing
 * blocked, PIPE, INT and TERM at their defaults, in a process group of
 * its own (ccmap ends it after the jobs, and the terminal's signals are
 * ccmap's to pass on, not its).
 */
void util_spawnattr_own(posix_spawnattr_t *attr);

/*
 * A temporary file in dir that no other process can find: O_TMPFILE where
 * the file system has it, else made from dir/NAME.XXXXXX and unlinked at
 * once; either way it goes when it is closed.  An fd or -errno.
 */
int util_tmpfile(const char *dir, const char *name);

/* Monotonic time in nanoseconds. */
long long util_now_ns(void);
/*
 * Starts spaced by delay_ns: wait until delay_ns after *last (none if
 * *last is 0), then make *last now.
 */
void util_pace(long long *last, long long delay_ns);
/* Wall-clock time in nanoseconds since the epoch. */
long long util_wall_ns(void);

#endif
