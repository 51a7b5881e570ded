/*
 * run-tests: the unit test runner.
 *
 *   run-tests            run every test in test-list.h, each in a forked
 *                        child bounded by alarm(), and print TAP
 *   run-tests NAME...    run just these tests, in this process (for gdb)
 *   run-tests --list     print the test names
 *
 * CCMAP_TEST_TIMEOUT=SECONDS changes the per-test alarm (default 60; 0 = off).
 * Exit status: 0 when every test passed or skipped, 1 otherwise.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "task.h"

#define TEST_DECLARE(name) int run_test_##name(void);
#define TEST(name) TEST_DECLARE(name)
#include "test-list.h"
#undef TEST

struct test_entry {
	const char *name;
	int (*fn)(void);
};

#define TEST_ENTRY(name) { #name, run_test_##name },
#define TEST(name) TEST_ENTRY(name)
static const struct test_entry tests[] = {
#include "test-list.h"
	{ NULL, NULL }
};
#undef TEST

#define NTESTS (sizeof(tests) / sizeof(tests[0]) - 1)

/* Set when the current test runs in process rather than in a child. */
static int in_process;
static size_t current_k;
static const char *current_name;

static void report(size_t k, const char *name, int result);

/* ---- failure reporting (declared in task.h) ---------------------------- */

static void diag_v(const char *fmt, va_list ap)
{
	char buf[4096];
	const char *p, *nl;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* Every line of a diagnostic starts with "# ". */
	for (p = buf; ; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl) {
			printf("# %s\n", p);
			break;
		}
		printf("# %.*s\n", (int)(nl - p), p);
	}
	fflush(stdout);
}

void test_diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_v(fmt, ap);
	va_end(ap);
}

/* Ends the current test with a run_forked()-style exit status.  In process,
 * a failure or a skip also ends the run, after reporting the test. */
TEST__NORETURN static void end_test(int status)
{
	if (in_process) {
		report(current_k, current_name,
		       status == 0 ? 0 : status == TEST_SKIP_STATUS ? 2 : 1);
		exit(status == TEST_SKIP_STATUS ? 0 : status);
	}
	fflush(stdout);
	fflush(stderr);
	_exit(status);
}

void test__fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("# %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	end_test(1);
}

void test__fail_int(const char *file, int line, const char *expr_a,
		    const char *op, const char *expr_b, intmax_t a, intmax_t b)
{
	printf("# %s:%d: assertion failed: %s %s %s\n", file, line, expr_a, op,
	       expr_b);
	printf("#   left:  %s = %jd\n", expr_a, a);
	printf("#   right: %s = %jd\n", expr_b, b);
	end_test(1);
}

static void print_escaped(const char *label, const char *expr,
			  const unsigned char *p, size_t len, size_t max)
{
	size_t i;

	printf("#   %s %s (%zu bytes) = \"", label, expr, len);
	for (i = 0; i < len && i < max; i++) {
		unsigned char c = p[i];

		if (c == '\n')
			printf("\\n");
		else if (c == '\t')
			printf("\\t");
		else if (c == '\\' || c == '"')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	printf("\"%s\n", len > max ? "..." : "");
}

void test__fail_str(const char *file, int line, const char *expr_a,
		    const char *expr_b, const char *a, const char *b)
{
	printf("# %s:%d: assertion failed: %s equals %s\n", file, line, expr_a,
	       expr_b);
	if (a)
		print_escaped("left: ", expr_a, (const unsigned char *)a,
			      strlen(a), 1024);
	else
		printf("#   left:  %s = NULL\n", expr_a);
	if (b)
		print_escaped("right:", expr_b, (const unsigned char *)b,
			      strlen(b), 1024);
	else
		printf("#   right: %s = NULL\n", expr_b);
	end_test(1);
}

void test__fail_mem(const char *file, int line, const char *expr_a,
		    const char *expr_b, const void *a, size_t alen,
		    const void *b, size_t blen)
{
	size_t i;

	printf("# %s:%d: assertion failed: memory %s equals %s\n", file, line,
	       expr_a, expr_b);
	for (i = 0; i < alen && i < blen; i++)
		if (((const unsigned char *)a)[i] != ((const unsigned char *)b)[i])
			break;
	printf("#   first difference at byte %zu\n", i);
	print_escaped("left: ", expr_a, a, alen, 1024);
	print_escaped("right:", expr_b, b, blen, 1024);
	end_test(1);
}

void test__skip(const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	printf("# skipped: %s\n", reason);
	end_test(TEST_SKIP_STATUS);
}

/* ---- running ------------------------------------------------------------ */

static unsigned test_timeout(void)
{
	const char *s = getenv("CCMAP_TEST_TIMEOUT");
	char *end;
	unsigned long v;

	if (!s || !*s)
		return 60;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end)
		return 60;
	return (unsigned)v;
}

/* Runs tests[i] in a forked child; returns 0 pass, 1 fail, 2 skip. */
static int run_forked(size_t i, unsigned timeout)
{
	pid_t pid, r;
	int status;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		printf("# fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		int rc;

		signal(SIGALRM, SIG_DFL);
		alarm(timeout);
		rc = tests[i].fn();
		if (rc == 0) {
			/* exit(), not _exit(): LeakSanitizer and atexit
			 * checks run for a test that passed. */
			fflush(stdout);
			exit(0);
		}
		if (rc != TEST_SKIP_STATUS)
			printf("# test returned %d\n", rc);
		end_test(rc == TEST_SKIP_STATUS ? rc : 1);
	}
	do
		r = waitpid(pid, &status, 0);
	while (r == -1 && errno == EINTR);
	if (r == -1) {
		printf("# waitpid: %s\n", strerror(errno));
		return 1;
	}
	if (WIFEXITED(status)) {
		if (WEXITSTATUS(status) == 0)
			return 0;
		if (WEXITSTATUS(status) == TEST_SKIP_STATUS)
			return 2;
		if (WEXITSTATUS(status) != 1)
			printf("# test exited with status %d\n", WEXITSTATUS(status));
		return 1;
	}
	if (WIFSIGNALED(status)) {
		if (WTERMSIG(status) == SIGALRM)
			printf("# timed out after %u seconds\n", timeout);
		else
			printf("# killed by signal %d (%s)%s\n", WTERMSIG(status),
			       strsignal(WTERMSIG(status)),
			       WCOREDUMP(status) ? ", core dumped" : "");
	}
	return 1;
}

static void report(size_t k, const char *name, int result)
{
	if (result == 2)
		printf("ok %zu - %s # SKIP\n", k, name);
	else
		printf("%s %zu - %s\n", result == 0 ? "ok" : "not ok", k, name);
	fflush(stdout);
}

static int run_all(void)
{
	unsigned timeout = test_timeout();
	size_t i, failed = 0;

	printf("1..%zu\n", NTESTS);
	for (i = 0; i < NTESTS; i++) {
		int result = run_forked(i, timeout);

		report(i + 1, tests[i].name, result);
		if (result == 1)
			failed++;
	}
	if (failed)
		printf("# %zu of %zu tests failed\n", failed, NTESTS);
	return failed ? 1 : 0;
}

static const struct test_entry *find_test(const char *name)
{
	size_t i;

	for (i = 0; i < NTESTS; i++)
		if (strcmp(tests[i].name, name) == 0)
			return &tests[i];
	return NULL;
}

static int run_named(int argc, char **argv)
{
	int i, failed = 0;

	for (i = 1; i < argc; i++) {
		if (!find_test(argv[i])) {
			fprintf(stderr, "run-tests: no test named '%s' (try --list)\n",
				argv[i]);
			return 2;
		}
	}
	in_process = 1;
	printf("1..%d\n", argc - 1);
	for (i = 1; i < argc; i++) {
		const struct test_entry *t = find_test(argv[i]);
		int rc;

		current_k = (size_t)i;
		current_name = t->name;
		rc = t->fn();

		report((size_t)i, t->name, rc == 0 ? 0 : rc == TEST_SKIP_STATUS ? 2 : 1);
		if (rc != 0 && rc != TEST_SKIP_STATUS)
			failed = 1;
	}
	return failed;
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (i = 0; i < NTESTS; i++)
			printf("%s\n", tests[i].name);
		return 0;
	}
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
			  strcmp(argv[1], "-h") == 0)) {
		printf("usage: run-tests [--list | NAME...]\n");
		return 0;
	}
	/* A test that writes to a closed pipe should fail, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1)
		return run_named(argc, argv);
	return run_all();
}
