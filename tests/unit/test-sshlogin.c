/*
 * Unit tests for src/sshlogin.[ch]: -S and --sshloginfile as GNU parallel
 * writes them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ccmap.h"
#include "sshlogin.h"
#include "task.h"

static struct sshlogins
parse(const char *spec, const char *ssh)
{
	struct sshlogins l = { 0 };
	char err[256] = "";

	if (sshlogin_parse(&l, spec, ssh, err, sizeof err) != 0)
		FAIL("'%s' was refused: %s", spec, err);
	return l;
}

static void
refused(const char *spec, const char *want)
{
	struct sshlogins l = { 0 };
	char err[256] = "";

	ASSERT_EQ(sshlogin_parse(&l, spec, NULL, err, sizeof err),
	    CCMAP_EUSAGE);
	if (!strstr(err, want))
		FAIL("'%s': '%s' does not say '%s'", spec, err, want);
	sshlogin_free(&l);
}

TEST_IMPL(sshlogin_forms)
{
	struct sshlogins l = parse("node1,4/me@node2:2222,:,8/:", NULL);

	ASSERT_EQ(l.n, 4);
	ASSERT_STR_EQ(l.v[0].name, "node1");
	ASSERT_STR_EQ(l.v[0].dest, "node1");
	ASSERT_EQ(l.v[0].ncpu, 0);
	ASSERT_EQ(l.v[0].nssh, 1);
	ASSERT_STR_EQ(l.v[0].ssh[0], "ssh");
	ASSERT(l.v[0].port == NULL);
	ASSERT_STR_EQ(l.v[1].name, "me@node2:2222");
	ASSERT_STR_EQ(l.v[1].dest, "me@node2");
	ASSERT_STR_EQ(l.v[1].port, "2222");
	ASSERT_EQ(l.v[1].ncpu, 4);
	ASSERT(l.v[2].local);
	ASSERT_EQ(l.v[2].ncpu, 0);
	ASSERT(l.v[3].local);
	ASSERT_EQ(l.v[3].ncpu, 8);
	sshlogin_free(&l);
	return 0;
}

TEST_IMPL(sshlogin_own_ssh_command)
{
	struct sshlogins l = parse("6//usr/bin/ssh -p 2222 -l me host3,"
	    "node1", "ssh -F cfg");

	ASSERT_EQ(l.n, 2);
	ASSERT_EQ(l.v[0].ncpu, 6);
	ASSERT_STR_EQ(l.v[0].name, "/usr/bin/ssh -p 2222 -l me host3");
	ASSERT_EQ(l.v[0].nssh, 5);
	ASSERT_STR_EQ(l.v[0].ssh[0], "/usr/bin/ssh");
	ASSERT_STR_EQ(l.v[0].ssh[4], "me");
	ASSERT(l.v[0].ssh[5] == NULL);
	ASSERT_STR_EQ(l.v[0].dest, "host3");
	/* --ssh is for the logins that do not give their own. */
	ASSERT_EQ(l.v[1].nssh, 3);
	ASSERT_STR_EQ(l.v[1].ssh[1], "-F");
	ASSERT_STR_EQ(l.v[1].ssh[2], "cfg");
	sshlogin_free(&l);
	return 0;
}

TEST_IMPL(sshlogin_commas_and_lines)
{
	/* ",," is a comma; a newline separates too; empty ones are none. */
	struct sshlogins l = parse("a,,b,,c\nd,,e,f,,", NULL);

	ASSERT_EQ(l.n, 3);
	ASSERT_STR_EQ(l.v[0].name, "a,b,c");
	ASSERT_STR_EQ(l.v[1].name, "d,e");
	ASSERT_STR_EQ(l.v[2].name, "f,");
	sshlogin_free(&l);
	return 0;
}

TEST_IMPL(sshlogin_refusals)
{
	refused("0/node1", "the number of CPUs must be 1 or more");
	refused("4/", "no host");
	refused("node1:port", "not [user@]host[:port]");
	refused("a:1:2", "not [user@]host[:port]");
	refused("ssh -p", "no host (the last word)");
	return 0;
}

TEST_IMPL(sshlogin_file)
{
	char path[] = "/tmp/ccmap-slf.XXXXXX", err[256] = "";
	struct sshlogins l = { 0 };
	int fd = mkstemp(path);
	static const char text[] = "# hosts\n\nnode1\n  # indented comment\n"
	    "2/me@node2\r\n4/ssh -p 2222 node3\n16/:\n";

	ASSERT(fd >= 0);
	ASSERT_EQ(write(fd, text, sizeof text - 1), (ssize_t)sizeof text - 1);
	close(fd);
	ASSERT_EQ(sshlogin_file(&l, path, NULL, err, sizeof err), 0);
	unlink(path);
	ASSERT_EQ(l.n, 4);
	ASSERT_STR_EQ(l.v[0].dest, "node1");
	ASSERT_STR_EQ(l.v[1].dest, "me@node2");
	ASSERT_EQ(l.v[1].ncpu, 2);
	ASSERT_STR_EQ(l.v[2].dest, "node3");
	ASSERT_STR_EQ(l.v[2].ssh[1], "-p");
	ASSERT(l.v[3].local);
	ASSERT_EQ(l.v[3].ncpu, 16);
	ASSERT_EQ(sshlogin_file(&l, path, NULL, err, sizeof err) < 0, 1);
	ASSERT(strstr(err, "--sshloginfile: cannot read") != NULL);
	sshlogin_free(&l);
	return 0;
}
