/*
 * Unit tests for src/halt.[ch]: --halt values as GNU parallel reads them,
 * when a run halts, and the exit status it decides.
 */
#include <errno.h>
#include <string.h>

#include "halt.h"
#include "task.h"

/* h: the parse of s, which must succeed. */
static struct ccmap_halt
parse(const char *s)
{
	struct ccmap_halt h;

	if (ccmap_parse_halt(s, &h) != 0)
		FAIL("'%s' was refused", s);
	return h;
}

#define ASSERT_HALT(s, w, o, n, p)                                             \
	do {                                                                   \
		struct ccmap_halt h_ = parse(s);                               \
		ASSERT_EQ(h_.when, w);                                         \
		if ((w) != CCMAP_HALT_NEVER) {                                 \
			ASSERT_EQ(h_.on, o);                                   \
			ASSERT_EQ(h_.count, n);                                \
			ASSERT_EQ(h_.pct, p);                                  \
		}                                                              \
	} while (0)

TEST_IMPL(halt_parse_long_forms)
{
	ASSERT_HALT("now,fail=1", CCMAP_HALT_NOW, CCMAP_HALT_FAIL, 1, 0);
	ASSERT_HALT("soon,fail=3", CCMAP_HALT_SOON, CCMAP_HALT_FAIL, 3, 0);
	ASSERT_HALT("now,success=2", CCMAP_HALT_NOW, CCMAP_HALT_SUCCESS, 2, 0);
	ASSERT_HALT("soon,done=10", CCMAP_HALT_SOON, CCMAP_HALT_DONE, 10, 0);
	ASSERT_HALT("now,fail=50%", CCMAP_HALT_NOW, CCMAP_HALT_FAIL, 0, 50);
	ASSERT_HALT("soon,done=200%", CCMAP_HALT_SOON, CCMAP_HALT_DONE, 0, 200);
	ASSERT_HALT("never", CCMAP_HALT_NEVER, 0, 0, 0);
	/* GNU parallel splits at ',' and '=' and reads three fields. */
	ASSERT_HALT("now=fail=1", CCMAP_HALT_NOW, CCMAP_HALT_FAIL, 1, 0);
	ASSERT_HALT("now,fail,2", CCMAP_HALT_NOW, CCMAP_HALT_FAIL, 2, 0);
	ASSERT_HALT("now,fail=1,x", CCMAP_HALT_NOW, CCMAP_HALT_FAIL, 1, 0);
	ASSERT_HALT("never,fail=1", CCMAP_HALT_NEVER, 0, 0, 0);
	ASSERT_HALT("never,whatever", CCMAP_HALT_NEVER, 0, 0, 0);
	return 0;
}

TEST_IMPL(halt_parse_short_forms)
{
	ASSERT_HALT("0", CCMAP_HALT_NEVER, 0, 0, 0);
	ASSERT_HALT("1", CCMAP_HALT_SOON, CCMAP_HALT_FAIL, 1, 0);
	ASSERT_HALT("2", CCMAP_HALT_NOW, CCMAP_HALT_FAIL, 1, 0);
	ASSERT_HALT("-1", CCMAP_HALT_SOON, CCMAP_HALT_SUCCESS, 1, 0);
	ASSERT_HALT("-2", CCMAP_HALT_NOW, CCMAP_HALT_SUCCESS, 1, 0);
	ASSERT_HALT("25%", CCMAP_HALT_SOON, CCMAP_HALT_FAIL, 0, 25);
	return 0;
}

TEST_IMPL(halt_parse_refused)
{
	static const char *const bad[] = {
		"", "3", "-3", " 1", "2 ", "soon", "now", "now,fail",
		"now,fail=", "now,fail=x", "now,fail=1x", "now,fail=-1",
		"now,bad=1", "NOW,fail=1", "later,fail=1", "now,fail=%",
		"now,fail=1.5", "%", "x%", "now,fail=0", "soon,done=0%", "0%",
	};
	struct ccmap_halt h;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (ccmap_parse_halt(bad[i], &h) != -EINVAL)
			FAIL("'%s' was accepted", bad[i]);
	return 0;
}

/* Feed a sequence of job ends ("0" success, else the exit status). */
static enum ccmap_halt_when
feed(struct halt *hs, const int *status, size_t n)
{
	enum ccmap_halt_when w = CCMAP_HALT_NEVER;

	for (size_t i = 0; i < n; i++) {
		hs->started++;
		w = halt_count(hs, status[i] != 0, status[i]);
		if (w != CCMAP_HALT_NEVER)
			return w;
	}
	return w;
}

TEST_IMPL(halt_fail_one_takes_the_job_status)
{
	struct ccmap_halt h = parse("now,fail=1");
	struct halt hs;
	int st[] = { 0, 0, 7, 3 };
	int status = -1;

	halt_init(&hs, &h);
	ASSERT_EQ(feed(&hs, st, 2), CCMAP_HALT_NEVER);
	ASSERT_EQ(halt_exit_status(&hs, &status), 0);
	ASSERT_EQ(feed(&hs, st + 2, 1), CCMAP_HALT_NOW);
	ASSERT_EQ(halt_exit_status(&hs, &status), 1);
	ASSERT_EQ(status, 7);
	/* Later failures (soon: the jobs that were running) change nothing. */
	ASSERT_EQ(feed(&hs, st + 3, 1), CCMAP_HALT_NOW);
	ASSERT_EQ(halt_exit_status(&hs, &status), 1);
	ASSERT_EQ(status, 7);
	return 0;
}

TEST_IMPL(halt_counts_and_percentages)
{
	struct ccmap_halt h;
	struct halt hs;
	int status;

	/* fail=2: the number of failed jobs at the halt. */
	h = parse("soon,fail=2");
	halt_init(&hs, &h);
	ASSERT_EQ(feed(&hs, (int[]){ 0, 1, 0, 3 }, 4), CCMAP_HALT_SOON);
	ASSERT_EQ(halt_exit_status(&hs, &status), 1);
	ASSERT_EQ(status, 2);

	/* done=3: three jobs finished, one of them failed. */
	h = parse("now,done=3");
	halt_init(&hs, &h);
	ASSERT_EQ(feed(&hs, (int[]){ 0, 1, 0 }, 3), CCMAP_HALT_NOW);
	ASSERT_EQ(halt_exit_status(&hs, &status), 1);
	ASSERT_EQ(status, 1);

	/*
	 * done=3 with no job failed: 101, as GNU parallel exits (it takes
	 * the least of the failed count, which it never set, and 101).
	 */
	h = parse("soon,done=3");
	halt_init(&hs, &h);
	ASSERT_EQ(feed(&hs, (int[]){ 0, 0 }, 2), CCMAP_HALT_NEVER);
	ASSERT_EQ(feed(&hs, (int[]){ 0 }, 1), CCMAP_HALT_SOON);
	ASSERT_EQ(halt_exit_status(&hs, &status), 1);
	ASSERT_EQ(status, 101);
	/* A job that fails after the halt changes nothing. */
	ASSERT_EQ(feed(&hs, (int[]){ 2 }, 1), CCMAP_HALT_SOON);
	ASSERT_EQ(halt_exit_status(&hs, &status), 1);
	ASSERT_EQ(status, 101);

	/* done=1 with none failed: that job's status, 0. */
	h = parse("now,done=1");
	halt_init(&hs, &h);
	ASSERT_EQ(feed(&hs, (int[]){ 0 }, 1), CCMAP_HALT_NOW);
	ASSERT_EQ(halt_exit_status(&hs, &status), 1);
	ASSERT_EQ(status, 0);

	/* done=50% of 4 with none failed: 0 percent failed. */
	h = parse("soon,done=50%");
	halt_init(&hs, &h);
	hs.total = 4;
	ASSERT_EQ(feed(&hs, (int[]){ 0, 0 }, 2), CCMAP_HALT_SOON);
	ASSERT_EQ(halt_exit_status(&hs, &status), 1);
	ASSERT_EQ(status, 0);

	/* success=2: exit 0, failures or not. */
	h = parse("now,success=2");
	halt_init(&hs, &h);
	ASSERT_EQ(feed(&hs, (int[]){ 5, 0, 4, 0 }, 4), CCMAP_HALT_NOW);
	ASSERT_EQ(halt_exit_status(&hs, &status), 1);
	ASSERT_EQ(status, 0);

	/* soon,done=50% of 8 jobs: at the 4th, 1 failed: ceil(12.5) = 13. */
	h = parse("soon,done=50%");
	halt_init(&hs, &h);
	hs.total = 8;
	ASSERT_EQ(feed(&hs, (int[]){ 0, 0, 0 }, 3), CCMAP_HALT_NEVER);
	ASSERT_EQ(feed(&hs, (int[]){ 1 }, 1), CCMAP_HALT_SOON);
	ASSERT_EQ(halt_exit_status(&hs, &status), 1);
	ASSERT_EQ(status, 13);

	/* fail=50% of 2 jobs is one job: the status is that job's. */
	h = parse("now,fail=50%");
	halt_init(&hs, &h);
	hs.total = 2;
	ASSERT_EQ(feed(&hs, (int[]){ 0, 3 }, 2), CCMAP_HALT_NOW);
	ASSERT_EQ(halt_exit_status(&hs, &status), 1);
	ASSERT_EQ(status, 3);

	/* 50% of 3 is 1.5: two failures are needed. */
	h = parse("50%");
	halt_init(&hs, &h);
	hs.total = 3;
	ASSERT_EQ(feed(&hs, (int[]){ 1 }, 1), CCMAP_HALT_NEVER);
	ASSERT_EQ(feed(&hs, (int[]){ 2 }, 1), CCMAP_HALT_SOON);
	ASSERT_EQ(halt_exit_status(&hs, &status), 1);
	ASSERT_EQ(status, 67);
	return 0;
}

TEST_IMPL(halt_not_reached)
{
	struct ccmap_halt h;
	struct halt hs;
	int status = -1;

	/* A percentage not reached: the failed in percent of those started. */
	h = parse("now,fail=50%");
	halt_init(&hs, &h);
	hs.total = 8;
	ASSERT_EQ(feed(&hs, (int[]){ 0, 3, 0, 0, 1, 0, 0, 0 }, 8),
	    CCMAP_HALT_NEVER);
	ASSERT_EQ(halt_exit_status(&hs, &status), 1);
	ASSERT_EQ(status, 25);

	/* A count not reached: the exit status is left to the run. */
	h = parse("soon,fail=3");
	halt_init(&hs, &h);
	ASSERT_EQ(feed(&hs, (int[]){ 1, 0, 2 }, 3), CCMAP_HALT_NEVER);
	ASSERT_EQ(halt_exit_status(&hs, &status), 0);

	/* never: nothing is counted against it. */
	h = parse("never");
	halt_init(&hs, &h);
	ASSERT_EQ(feed(&hs, (int[]){ 1, 1, 1 }, 3), CCMAP_HALT_NEVER);
	ASSERT_EQ(halt_exit_status(&hs, &status), 0);
	return 0;
}

TEST_IMPL(halt_notice_words)
{
	struct ccmap_halt h;
	struct halt hs;

	h = parse("now,fail=1");
	halt_init(&hs, &h);
	ASSERT_STR_EQ(halt_notice(&hs, 1), "failed");
	ASSERT_NULL(halt_notice(&hs, 0));
	h = parse("-1");
	halt_init(&hs, &h);
	ASSERT_STR_EQ(halt_notice(&hs, 0), "succeeded");
	ASSERT_NULL(halt_notice(&hs, 1));
	h = parse("soon,done=2");
	halt_init(&hs, &h);
	ASSERT_STR_EQ(halt_notice(&hs, 0), "finished");
	ASSERT_STR_EQ(halt_notice(&hs, 1), "finished");
	h = parse("0");
	halt_init(&hs, &h);
	ASSERT_NULL(halt_notice(&hs, 1));
	ASSERT_EQ(halt_needs_total(&hs), 0);
	h = parse("soon,fail=5%");
	halt_init(&hs, &h);
	ASSERT_EQ(halt_needs_total(&hs), 1);
	return 0;
}

TEST_IMPL(halt_count_items_batches)
{
	struct ccmap_halt h = { CCMAP_HALT_NEVER, CCMAP_HALT_FAIL, 0, 0 };
	struct halt hs;
	int status;

	/* No --halt: a batch is only counted. */
	halt_init(&hs, &h);
	ASSERT_EQ(halt_count_items(&hs, 1000, 3), CCMAP_HALT_NEVER);
	ASSERT_EQ(halt_count_items(&hs, 24, 0), CCMAP_HALT_NEVER);
	ASSERT_EQ(hs.completed, 1024);
	ASSERT_EQ(hs.failed, 3);
	ASSERT_EQ(halt_exit_status(&hs, &status), 0);

	/* fail=2: a batch with three failures halts, with status 2. */
	h = parse("soon,fail=2");
	halt_init(&hs, &h);
	ASSERT_EQ(halt_count_items(&hs, 10, 0), CCMAP_HALT_NEVER);
	ASSERT_EQ(halt_count_items(&hs, 5, 3), CCMAP_HALT_SOON);
	ASSERT_EQ(hs.completed, 15);
	ASSERT_EQ(hs.failed, 3);
	ASSERT_EQ(halt_exit_status(&hs, &status), 1);
	ASSERT_EQ(status, 2);

	/* done=12: the batch that reaches it halts. */
	h = parse("now,done=12");
	halt_init(&hs, &h);
	ASSERT_EQ(halt_count_items(&hs, 11, 1), CCMAP_HALT_NEVER);
	ASSERT_EQ(halt_count_items(&hs, 1, 0), CCMAP_HALT_NOW);
	ASSERT_EQ(halt_exit_status(&hs, &status), 1);
	ASSERT_EQ(status, 1);

	/* done=5 reached by items that all succeeded: 101, as commands. */
	h = parse("soon,done=5");
	halt_init(&hs, &h);
	ASSERT_EQ(halt_count_items(&hs, 8, 0), CCMAP_HALT_SOON);
	ASSERT_EQ(halt_exit_status(&hs, &status), 1);
	ASSERT_EQ(status, 101);
	return 0;
}
