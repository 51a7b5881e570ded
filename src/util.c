/*
 * util.c: allocation, full reads and writes, temporary files and the clock
 * (util.h).
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ccmap.h"
#include "util.h"
#include "strbuf.h"

/* "NAME: ", the prefix of the lines the engine writes itself, or "". */
static char prefix[64];

void
ccmap_set_progname(const char *name)
{
	snprintf(prefix, sizeof prefix, "%s: ", name);
}

const char *
util_prefix(void)
{
	return prefix;
}

void
util_oom(size_t n)
{
	char msg[128];
	int len = snprintf(msg, sizeof msg, "%sout of memory (%zu bytes)\n",
	    prefix, n);

	if (len > 0)
		(void)!write(2, msg, (size_t)len);
	abort();
}

void *
util_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		util_oom(n);
	return p;
}

void *
util_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		util_oom(n * size);
	return p;
}

void *
util_realloc(void *old, size_t n)
{
	void *p = realloc(old, n ? n : 1);

	if (!p)
		util_oom(n);
	return p;
}

char *
util_strdup(const char *s)
{
	return util_memdup(s, strlen(s));
}

char *
util_memdup(const void *src, size_t n)
{
	char *p = util_malloc(n + 1);

	if (n)
		memcpy(p, src, n);
	p[n] = '\0';
	return p;
}

void
util_pace(long long *last, long long delay_ns)
{
	long long now = util_now_ns(), at = *last ? *last + delay_ns : now;

	if (at > now) {
		struct timespec ts = { (at - now) / 1000000000,
		    (at - now) % 1000000000 };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		now = at;
	}
	*last = now;
}

long long
util_digits(const char *s, size_t len, size_t max)
{
	long long v = 0;

	if (len == 0 || len > max)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int
util_mkpath(char *path)
{
	struct stat sb;

	if (stat(path, &sb) == 0)
		return S_ISDIR(sb.st_mode) ? 0 : -ENOTDIR;
	for (char *p = path + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		if (p[-1] != '/') {
			char saved = *p;
			*p = '\0';
			int r = mkdir(path, 0777);
			int e = errno;
			*p = saved;
			if (r < 0 && e != EEXIST)
				return -e;
		}
		if (!*p)
			break;
	}
	return stat(path, &sb) < 0 ? -errno :
	    S_ISDIR(sb.st_mode) ? 0 : -ENOTDIR;
}

int
util_write_all(int fd, const void *buf, size_t len)
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

const char *
util_last_line(char *buf, size_t *len)
{
	char *p;

	while (*len && (buf[*len - 1] == '\n' || buf[*len - 1] == '\r'))
		(*len)--;
	if (!*len)
		return "";
	buf[*len] = '\0';
	p = memrchr(buf, '\n', *len);
	return p ? p + 1 : buf;
}

void
util_spawnattr_own(posix_spawnattr_t *attr)
{
	sigset_t none, def;

	posix_spawnattr_init(attr);
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	posix_spawnattr_setsigmask(attr, &none);
	posix_spawnattr_setsigdefault(attr, &def);
	posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(attr, 0);
}

int
util_read_full(int fd, void *buf, size_t len)
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
util_tmpfile(const char *dir, const char *name)
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
util_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

long long
util_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
