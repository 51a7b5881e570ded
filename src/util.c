/*
 * util.c: allocation, full reads and writes, temporary files and the clock
 * (internal.h).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "strbuf.h"

static void *
oom(size_t n)
{
	char msg[80];
	int len = snprintf(msg, sizeof msg, "ccmap: out of memory (%zu bytes)\n", n);

	if (len > 0)
		(void)!write(2, msg, (size_t)len);
	abort();
}

void *
ccmap__xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	return p ? p : oom(n);
}

void *
ccmap__xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	return p ? p : oom(n * size);
}

void *
ccmap__xrealloc(void *old, size_t n)
{
	void *p = realloc(old, n ? n : 1);

	return p ? p : oom(n);
}

char *
ccmap__xstrdup(const char *s)
{
	return ccmap__xmemdup(s, strlen(s));
}

char *
ccmap__xmemdup(const void *src, size_t n)
{
	char *p = ccmap__xmalloc(n + 1);

	if (n)
		memcpy(p, src, n);
	p[n] = '\0';
	return p;
}

int
ccmap__write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int
ccmap__read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t r = read(fd, p + got, len - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return got ? -EPIPE : 0;
		got += (size_t)r;
	}
	return 1;
}

int
ccmap__tmpfile(const char *dir, const char *name)
{
	struct strbuf path = STRBUF_INIT;
	int fd;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	strbuf_addf(&path, "%s/%s.XXXXXX", dir, name);
	fd = mkostemp(path.buf, O_CLOEXEC);
	if (fd >= 0)
		unlink(path.buf);
	else
		fd = -errno;
	strbuf_release(&path);
	return fd;
}

long long
ccmap__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

long long
ccmap__wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
