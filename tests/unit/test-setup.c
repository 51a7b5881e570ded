/*
 * Unit tests for setup_refuse() (src/setup.[ch]): the options that cannot
 * make a run together are refused with one line naming the option, before
 * anything is opened; those that can are let through.
 */
#include <string.h>

#include "ccmap.h"
#include "setup.h"
#include "task.h"

/* (String literals for the options' char *.) */
#pragma GCC diagnostic ignored "-Wdiscarded-qualifiers"

static char *cmd[] = { "echo", NULL };

static struct ccmap_opts
opts(void)
{
	struct ccmap_opts o;

	ccmap_opts_init(&o);
	o.command = cmd;
	o.ncommand = 1;
	return o;
}

/* o must be refused, with a line that holds want. */
#define ASSERT_REFUSED(o, want)                                                \
	do {                                                                   \
		char err_[256] = "";                                           \
		ASSERT_EQ(setup_refuse(&(o), err_, sizeof err_), CCMAP_EUSAGE);\
		if (!strstr(err_, want))                                       \
			FAIL("'%s' does not say '%s'", err_, want);            \
		ASSERT(!strchr(err_, '\n'));                                   \
	} while (0)

#define ASSERT_ALLOWED(o)                                                      \
	do {                                                                   \
		char err_[256] = "";                                           \
		ASSERT_EQ(setup_refuse(&(o), err_, sizeof err_), 0);           \
	} while (0)

TEST_IMPL(setup_refuse_plugin_options)
{
	struct ccmap_opts o = opts();

	o.plugin = "len";
	ASSERT_ALLOWED(o);
	o.retries = 3;
	ASSERT_REFUSED(o, "--retries applies to commands");
	o.retries = 1;
	ASSERT_ALLOWED(o);	/* --retries 1 is the default: one try */
	o.joblog = "log";
	ASSERT_REFUSED(o, "--joblog applies to commands");
	o.joblog = NULL;
	o.delay_ns = 1000;
	ASSERT_REFUSED(o, "--delay");
	o.delay_ns = 0;
	o.resume = CCMAP_RESUME_ALL;
	ASSERT_REFUSED(o, "--resume applies to commands");
	o.resume = 0;
	o.dry_run = 1;
	ASSERT_REFUSED(o, "--so: --dry-run is for commands only");
	o.dry_run = 0;
	o.fill = CCMAP_FILL_XARGS;
	ASSERT_REFUSED(o, "-X, -m and --xargs");
	o.fill = CCMAP_FILL_NONE;
	o.interactive = 1;
	ASSERT_REFUSED(o, "-p/--interactive");
	return 0;
}

TEST_IMPL(setup_refuse_pipe)
{
	struct ccmap_opts o = opts();
	struct ccmap_source file = { .path = "in" }, two[2] = {
		{ .path = "a" }, { .path = "b" } };
	char *items[] = { "x" };
	struct ccmap_source args = { .args = items, .nargs = 1 };

	o.pipe = 1;
	ASSERT_ALLOWED(o);
	o.sources = &file;
	o.nsources = 1;
	ASSERT_ALLOWED(o);	/* one -a FILE */
	o.sources = two;
	o.nsources = 2;
	ASSERT_REFUSED(o, "--pipe reads standard input or one -a FILE");
	o.sources = &args;
	o.nsources = 1;
	ASSERT_REFUSED(o, "not ::: items");
	o.nsources = 0;
	o.executor = CCMAP_PROCS;
	ASSERT_REFUSED(o, "--pipe does not work with --procs");
	o.executor = CCMAP_THREADS;
	o.ncommand = 0;
	ASSERT_REFUSED(o, "--pipe needs a command");
	o.ncommand = 1;
	o.plugin = "len";
	ASSERT_REFUSED(o, "--pipe: a plugin (--so) cannot read blocks");
	o.plugin = NULL;
	o.max_lines = 2;
	ASSERT_ALLOWED(o);	/* -L shapes --pipe's records */
	o.pipe = 0;
	ASSERT_REFUSED(o, "-L works only with --pipe");
	return 0;
}

TEST_IMPL(setup_refuse_resume_and_results)
{
	struct ccmap_opts o = opts();

	o.resume = CCMAP_RESUME_FAILED;
	ASSERT_REFUSED(o, "--resume-failed needs --joblog FILE");
	o.resume = CCMAP_RESUME_ALL;
	ASSERT_REFUSED(o, "--resume needs --joblog FILE or --results DIR");
	o.results = "out.csv";		/* a file of records: not a DIR */
	ASSERT_REFUSED(o, "--resume needs --joblog FILE or --results DIR");
	o.results = "outdir";
	ASSERT_ALLOWED(o);
	o.pipe = 1;
	ASSERT_REFUSED(o, "--resume with --pipe needs --joblog FILE");
	o.joblog = "log";
	ASSERT_ALLOWED(o);
	o.resume = 0;
	o.pipe = 0;
	o.json = 1;
	ASSERT_ALLOWED(o);	/* --json with --results DIR */
	o.results = "OUT.JSON";
	ASSERT_REFUSED(o, "--json: not with a --results file of records "
	    "('OUT.JSON')");
	o.json = 0;
	ASSERT_ALLOWED(o);
	return 0;
}
