/* Unit tests for src/termseq.[ch]: the kill sequence, --termseq. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "ccmap.h"
#include "task.h"
#include "termseq.h"

TEST_IMPL(termseq_default)
{
	struct ccmap_termseq none = { 0 };
	static const struct ccmap_termstep want[] = {
		{ SIGTERM, 200 }, { SIGTERM, 100 }, { SIGTERM, 50 },
		{ SIGKILL, 25 },
	};
	const struct ccmap_termseq *ts;

	ts = termseq_get(NULL);
	ASSERT_EQ(ts->n, 4);
	for (unsigned i = 0; i < 4; i++) {
		ASSERT_EQ(ts->step[i].sig, want[i].sig);
		ASSERT_EQ(ts->step[i].ms, want[i].ms);
	}
	ASSERT(termseq_get(&none) == ts);
	return 0;
}

TEST_IMPL(termseq_parse_good)
{
	struct ccmap_termseq ts;
	char err[256];

	ASSERT_OK(ccmap_parse_termseq("TERM,200,TERM,100,TERM,50,KILL,25", &ts,
	    err, sizeof err));
	ASSERT_EQ(ts.n, 4);
	ASSERT_EQ(ts.step[3].sig, SIGKILL);
	ASSERT_EQ(ts.step[3].ms, 25);
	ASSERT(termseq_get(&ts) == &ts);

	/* Names with SIG or not, any case, numbers; the last wait left out. */
	ASSERT_OK(ccmap_parse_termseq("sigint,1000,Hup,0,9", &ts, err,
	    sizeof err));
	ASSERT_EQ(ts.n, 3);
	ASSERT_EQ(ts.step[0].sig, SIGINT);
	ASSERT_EQ(ts.step[0].ms, 1000);
	ASSERT_EQ(ts.step[1].sig, SIGHUP);
	ASSERT_EQ(ts.step[1].ms, 0);
	ASSERT_EQ(ts.step[2].sig, SIGKILL);
	ASSERT_EQ(ts.step[2].ms, 0);

	ASSERT_OK(ccmap_parse_termseq("KILL", &ts, err, sizeof err));
	ASSERT_EQ(ts.n, 1);
	ASSERT_EQ(ts.step[0].sig, SIGKILL);
	ASSERT_OK(ccmap_parse_termseq("USR1,86400000", &ts, err, sizeof err));
	ASSERT_EQ(ts.step[0].sig, SIGUSR1);
	ASSERT_EQ(ts.step[0].ms, 86400000);
	return 0;
}

TEST_IMPL(termseq_parse_bad)
{
	static const struct {
		const char *s, *says;
	} bad[] = {
		{ "", "'' is not a signal" },
		{ "FOO,100", "'FOO' is not a signal" },
		{ "SIG", "'SIG' is not a signal" },
		{ "0,100", "'0' is not a signal" },
		{ "65", "'65' is not a signal" },
		{ "TERM,x", "'x' is not a wait in milliseconds" },
		{ "TERM,-1", "'-1' is not a wait in milliseconds" },
		{ "TERM,1.5", "'1.5' is not a wait in milliseconds" },
		{ "TERM,86400001", "'86400001' is not a wait" },
		{ "TERM,200,", "'' is not a signal" },
		{ ",TERM", "'' is not a signal" },
		{ "TERM,,KILL", "'' is not a wait" },
	};
	struct ccmap_termseq ts = { .n = 7 };
	char err[1024], many[256] = "";

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		ASSERT_EQ(ccmap_parse_termseq(bad[i].s, &ts, err, sizeof err),
		    -EINVAL);
		if (!strstr(err, bad[i].says) || !strstr(err, "--termseq"))
			FAIL("'%s': got '%s'", bad[i].s, err);
		ASSERT_EQ(ts.n, 7);	/* left as it was */
	}
	/* 32 steps are fine, 33 are too many. */
	for (int i = 0; i < CCMAP_TERMSEQ_MAX; i++)
		strcat(many, i ? ",TERM,1" : "TERM,1");
	ASSERT_OK(ccmap_parse_termseq(many, &ts, err, sizeof err));
	ASSERT_EQ(ts.n, CCMAP_TERMSEQ_MAX);
	strcat(many, ",KILL");
	ASSERT_EQ(ccmap_parse_termseq(many, &ts, err, sizeof err), -EINVAL);
	ASSERT(strstr(err, "more than 32 signals") != NULL);
	return 0;
}
