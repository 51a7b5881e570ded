/*
 * task.h: what a unit test file includes.
 *
 * A test is a function defined with TEST_IMPL(name) that returns 0 when it
 * passes.  The assertion macros below print where and why a check failed,
 * with both values, as TAP diagnostic lines ("# ...") on stdout, then end the
 * test at once with _exit(1).  Every test runs in its own forked child of
 * tests/unit/run-tests, so a failed assertion, a crash or a hang (alarm, 60 s
 * by default, CCMAP_TEST_TIMEOUT=SECONDS to change it) fails that test only.
 *
 * To add a test: write TEST_IMPL(area_behaviour) { ...; return 0; } in
 * tests/unit/test-AREA.c (add the file to UNIT_TESTS in Makefile.am), and add
 * the line TEST(area_behaviour) to tests/unit/test-list.h.
 *
 * Running `tests/unit/run-tests NAME...` runs just those tests, in process
 * (no fork, no alarm), which is what you want under gdb or valgrind.
 */
#ifndef CCMAP_TEST_TASK_H
#define CCMAP_TEST_TASK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Exit status of a test that skips itself (see SKIP()). */
#define TEST_SKIP_STATUS 77

#define TEST_IMPL(name)                                                        \
	int run_test_##name(void);                                                 \
	int run_test_##name(void)

#if defined(__GNUC__)
#define TEST__NORETURN __attribute__((noreturn))
#define TEST__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TEST__NORETURN
#define TEST__PRINTF(f, a)
#endif

/* Implemented in run-tests.c.  Each prints diagnostics and does not return. */
TEST__NORETURN TEST__PRINTF(3, 4)
void test__fail(const char *file, int line, const char *fmt, ...);
TEST__NORETURN
void test__fail_int(const char *file, int line, const char *expr_a,
		    const char *op, const char *expr_b, intmax_t a, intmax_t b);
TEST__NORETURN
void test__fail_str(const char *file, int line, const char *expr_a,
		    const char *expr_b, const char *a, const char *b);
TEST__NORETURN
void test__fail_mem(const char *file, int line, const char *expr_a,
		    const char *expr_b, const void *a, size_t alen,
		    const void *b, size_t blen);
TEST__NORETURN TEST__PRINTF(1, 2)
void test__skip(const char *fmt, ...);

/* Prints a "# ..." diagnostic line; handy to show progress or context. */
TEST__PRINTF(1, 2)
void test_diag(const char *fmt, ...);

#define FAIL(...) test__fail(__FILE__, __LINE__, __VA_ARGS__)

/* Ends the test as skipped: "ok N - name # SKIP reason". */
#define SKIP(...) test__skip(__VA_ARGS__)

#define ASSERT(expr)                                                           \
	do {                                                                       \
		if (!(expr))                                                           \
			test__fail(__FILE__, __LINE__, "assertion failed: %s", #expr);     \
	} while (0)

#define TEST__ASSERT_INT(a, op, b)                                             \
	do {                                                                       \
		intmax_t test__a = (intmax_t)(a);                                      \
		intmax_t test__b = (intmax_t)(b);                                      \
		if (!(test__a op test__b))                                             \
			test__fail_int(__FILE__, __LINE__, #a, #op, #b, test__a, test__b); \
	} while (0)

/* Integer comparisons; both sides are converted to intmax_t and printed. */
#define ASSERT_EQ(a, b) TEST__ASSERT_INT(a, ==, b)
#define ASSERT_NE(a, b) TEST__ASSERT_INT(a, !=, b)
#define ASSERT_LT(a, b) TEST__ASSERT_INT(a, <, b)
#define ASSERT_LE(a, b) TEST__ASSERT_INT(a, <=, b)
#define ASSERT_GT(a, b) TEST__ASSERT_INT(a, >, b)
#define ASSERT_GE(a, b) TEST__ASSERT_INT(a, >=, b)

/* expr == 0, the engine's success value; prints the value otherwise. */
#define ASSERT_OK(expr) TEST__ASSERT_INT(expr, ==, 0)

/* NUL-terminated strings; NULL is allowed on either side. */
#define ASSERT_STR_EQ(a, b)                                                    \
	do {                                                                       \
		const char *test__a = (a);                                             \
		const char *test__b = (b);                                             \
		if (test__a == NULL || test__b == NULL ?                               \
			    test__a != test__b : strcmp(test__a, test__b) != 0)        \
			test__fail_str(__FILE__, __LINE__, #a, #b, test__a, test__b);      \
	} while (0)

/* Byte ranges; bytes are printed C-escaped. */
#define ASSERT_MEM_EQ(a, alen, b, blen)                                        \
	do {                                                                       \
		const void *test__a = (a);                                             \
		const void *test__b = (b);                                             \
		size_t test__alen = (size_t)(alen);                                    \
		size_t test__blen = (size_t)(blen);                                    \
		if (test__alen != test__blen ||                                        \
		    (test__alen && memcmp(test__a, test__b, test__alen) != 0))         \
			test__fail_mem(__FILE__, __LINE__, #a, #b, test__a,                \
				       test__alen, test__b, test__blen);                  \
	} while (0)

#define ASSERT_NULL(expr)                                                      \
	do {                                                                       \
		const void *test__p = (const void *)(expr);                            \
		if (test__p != NULL)                                                   \
			test__fail(__FILE__, __LINE__, "expected NULL: %s = %p", #expr,    \
				   test__p);                                               \
	} while (0)

#define ASSERT_NOT_NULL(expr)                                                  \
	do {                                                                       \
		if ((const void *)(expr) == NULL)                                      \
			test__fail(__FILE__, __LINE__, "unexpected NULL: %s", #expr);      \
	} while (0)

#endif /* CCMAP_TEST_TASK_H */
