/*
 * Unit tests for src/slurm.[ch] (--slurm's nodes) and the "last line"
 * helper its messages share with -S.  The nodes of a real allocation are
 * tests/e2e/t2051-slurm.sh's.
 */
#include <stdlib.h>
#include <string.h>

#include "ccmap.h"
#include "slurm.h"
#include "strbuf.h"
#include "task.h"
#include "util.h"

TEST_IMPL(slurm_cpus_forms)
{
	unsigned c[6];

	ASSERT_OK(slurm_cpus("4", c, 1));
	ASSERT_EQ(c[0], 4);
	ASSERT_OK(slurm_cpus("2(x3),1", c, 4));
	ASSERT_EQ(c[0], 2);
	ASSERT_EQ(c[2], 2);
	ASSERT_EQ(c[3], 1);
	ASSERT_OK(slurm_cpus("8,2(x2),16(x1),3", c, 5));
	ASSERT_EQ(c[0], 8);
	ASSERT_EQ(c[1], 2);
	ASSERT_EQ(c[2], 2);
	ASSERT_EQ(c[3], 16);
	ASSERT_EQ(c[4], 3);
	return 0;
}

TEST_IMPL(slurm_cpus_refusals)
{
	static const char *const bad[] = {
		"", "x", "2,", ",2", "2(x)", "2(x2", "2(2)", "0", "2(x0)",
		"2 ,1", "-1", "2(x3)",	/* (3 nodes, not 2) */
		"1,1,1",		/* (3 nodes, not 2) */
	};
	unsigned c[4];

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (slurm_cpus(bad[i], c, 2) == 0)
			FAIL("'%s' was taken for 2 nodes", bad[i]);
	/* Fewer nodes than said: refused, not written past the end. */
	ASSERT_EQ(slurm_cpus("1", c, 2), -1);
	return 0;
}

TEST_IMPL(slurm_nodes_outside)
{
	struct sshlogins l = { 0 };
	char err[256] = "", *list = getenv("SLURM_JOB_NODELIST");
	char *old = list ? util_strdup(list) : NULL;

	unsetenv("SLURM_JOB_NODELIST");
	unsetenv("SLURM_NODELIST");
	ASSERT_EQ(slurm_nodes(&l, err, sizeof err), CCMAP_EUSAGE);
	ASSERT(strstr(err, "--slurm: not in a Slurm allocation") != NULL);
	ASSERT_EQ(l.n, 0);
	if (old)
		setenv("SLURM_JOB_NODELIST", old, 1);
	free(old);
	return 0;
}

TEST_IMPL(slurm_argv_one_step)
{
	const char *v[SLURM_ARGV];
	char buf[32];
	size_t n = 0, c = 0;

	slurm_argv(v, buf, "node7", 0, "/opt/ccmap");
	while (v[c])
		ASSERT(strncmp(v[c++], "--cpus-per-task", 15) != 0);
	slurm_argv(v, buf, "node7", 16, "/opt/ccmap");
	while (v[n])
		n++;
	ASSERT_LT(n, SLURM_ARGV);
	ASSERT_STR_EQ(v[0], "srun");
	ASSERT_STR_EQ(v[n - 2], "/opt/ccmap");
	ASSERT_STR_EQ(v[n - 1], "--worker");
	ASSERT_EQ(n, c + 1);	/* (with its CPUs, one more word) */
	for (size_t i = 1; i + 1 < n; i++)
		if (!strcmp(v[i], "-w"))
			ASSERT_STR_EQ(v[i + 1], "node7");
	for (c = 0; v[c] && strcmp(v[c], "--cpus-per-task=16"); c++)
		;
	ASSERT(v[c] != NULL);
	return 0;
}

TEST_IMPL(util_last_line_forms)
{
	struct strbuf sb = STRBUF_INIT;
	char b[] = "one\ntwo\r\n\n";
	size_t len = strlen(b);

	ASSERT_STR_EQ(util_last_line(b, &len), "two");
	ASSERT_EQ(len, 7);
	ASSERT_STR_EQ(strbuf_last_line(&sb), "");
	strbuf_addstr(&sb, "\n\n");
	ASSERT_STR_EQ(strbuf_last_line(&sb), "");
	ASSERT_EQ(sb.len, 0);
	strbuf_addstr(&sb, "only");
	ASSERT_STR_EQ(strbuf_last_line(&sb), "only");
	strbuf_release(&sb);
	return 0;
}
