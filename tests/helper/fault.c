/*
 * fault.c: makes a system call fail on purpose, for tests of the engine's
 * error paths.  Linked into tests/helper/ccmap-fault (ccmap's own main and
 * engine), whose definitions of poll() and pipe2() come before the C
 * library's and any sanitizer's (those are weak, or later in the lookup
 * order), so no LD_PRELOAD is involved and sanitizer builds work the same.
 *
 *   CCMAP_TEST_FAULT=CALL,ERRNO,WHEN
 *
 * CALL is poll or pipe2, ERRNO is EINVAL, ENOMEM or EMFILE, and WHEN is a
 * number N (the Nth call and every later one fail) or the path of a file
 * (every call made once it exists fails).  Only the calls of the main
 * thread of the first process count: not the worker threads', nor those
 * of the processes it forks.  Without the variable, the calls go through.
 */
#undef _FORTIFY_SOURCE		/* its poll() is an inline wrapper */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int (*real_poll)(struct pollfd *, nfds_t, int);
static int (*real_pipe2)(int[2], int);

static struct {
	char call[16];
	int err;
	unsigned long nth;	/* or 0, and then: */
	char path[4096];
	unsigned long calls;	/* of the main thread */
	pid_t pid;
} fault;

static void
die(const char *what)
{
	fprintf(stderr, "ccmap-fault: bad CCMAP_TEST_FAULT: %s\n", what);
	_exit(254);
}

/* The definition the dynamic linker would have found without this one. */
static void *
next(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);

	if (!f) {
		fprintf(stderr, "ccmap-fault: no %s after this one\n", name);
		_exit(254);
	}
	return f;
}

__attribute__((constructor)) static void
fault_init(void)
{
	const char *s = getenv("CCMAP_TEST_FAULT"), *e, *w;
	static const struct { const char *name; int err; } errs[] = {
		{ "EINVAL", EINVAL }, { "ENOMEM", ENOMEM }, { "EMFILE", EMFILE },
	};
	char *end;

	*(void **)&real_poll = next("poll");
	*(void **)&real_pipe2 = next("pipe2");
	fault.pid = getpid();
	if (!s || !*s)
		return;
	if (!(e = strchr(s, ',')) || !(w = strchr(e + 1, ',')))
		die("want CALL,ERRNO,WHEN");
	if ((size_t)(e - s) >= sizeof fault.call)
		die("unknown CALL");
	memcpy(fault.call, s, (size_t)(e - s));
	if (strcmp(fault.call, "poll") != 0 && strcmp(fault.call, "pipe2") != 0)
		die("unknown CALL");
	for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++)
		if (strlen(errs[i].name) == (size_t)(w - e - 1) &&
		    memcmp(errs[i].name, e + 1, (size_t)(w - e - 1)) == 0)
			fault.err = errs[i].err;
	if (!fault.err)
		die("unknown ERRNO");
	w++;
	fault.nth = strtoul(w, &end, 10);
	if (*w == '/') {
		fault.nth = 0;
		if (strlen(w) >= sizeof fault.path)
			die("path too long");
		strcpy(fault.path, w);
	} else if (*end || fault.nth == 0) {
		die("WHEN is neither a count from 1 nor an absolute path");
	}
}

/* Does this call of call fail? (Counts the main thread's calls.) */
static int
fails(const char *call)
{
	if (strcmp(fault.call, call) != 0 || getpid() != fault.pid ||
	    gettid() != fault.pid)
		return 0;
	fault.calls++;
	if (fault.nth)
		return fault.calls >= fault.nth;
	return access(fault.path, F_OK) == 0;
}

int
poll(struct pollfd *fds, nfds_t n, int ms)
{
	if (fails("poll")) {
		errno = fault.err;
		return -1;
	}
	return real_poll(fds, n, ms);
}

int
pipe2(int fds[2], int flags)
{
	if (fails("pipe2")) {
		errno = fault.err;
		return -1;
	}
	return real_pipe2(fds, flags);
}
