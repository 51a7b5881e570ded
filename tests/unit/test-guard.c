/* Unit tests for src/guard.[ch]: the jobs die with ccmap. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"
#include "task.h"

/* A stand-in for a job: a child leading its own process group. */
static pid_t
start_job(void)
{
	pid_t pid = fork();

	ASSERT_GE(pid, 0);
	if (pid == 0) {
		setpgid(0, 0);
		for (;;)
			pause();
	}
	setpgid(pid, pid);	/* (from both sides: no race) */
	return pid;
}

/* How pid ended (it must end within the test's alarm). */
static int
end_of(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		ASSERT_EQ(errno, EINTR);
	return status;
}

TEST_IMPL(guard_kills_listed_when_let_go)
{
	struct guard *g = NULL;
	pid_t job = start_job(), other = start_job();
	int status;

	ASSERT_OK(guard_new(&g, 3));
	ASSERT_OK(guard_start(g));
	ASSERT_OK(guard_start(g));	/* once is enough */
	guard_set(g, 2, job);
	guard_set(g, 0, other);
	guard_set(g, 0, 0);		/* other ended: unlisted */
	guard_set(g, 7, other);		/* no such slot: ignored */
	guard_free(g);
	status = end_of(job);
	ASSERT(WIFSIGNALED(status));
	ASSERT_EQ(WTERMSIG(status), SIGKILL);
	/* The one unlisted lives on. */
	ASSERT_EQ(waitpid(other, &status, WNOHANG), 0);
	kill(other, SIGTERM);
	status = end_of(other);
	ASSERT_EQ(WTERMSIG(status), SIGTERM);
	return 0;
}

TEST_IMPL(guard_kill_slot)
{
	struct guard *g = NULL;
	pid_t job = start_job();
	int status;

	ASSERT_OK(guard_new(&g, 1));	/* not started: the table alone */
	guard_set(g, 0, job);
	guard_kill_slot(g, 0, SIGUSR1);
	status = end_of(job);
	ASSERT(WIFSIGNALED(status));
	ASSERT_EQ(WTERMSIG(status), SIGUSR1);
	guard_kill_slot(g, 0, SIGUSR1);	/* unlisted: nothing to do */
	guard_free(g);
	return 0;
}

TEST_IMPL(guard_outlives_sigkill)
{
	/*
	 * A stand-in for ccmap starts a guard and a job, lists it, and is
	 * killed with SIGKILL: the job dies too.  As a subreaper, this test
	 * inherits the job, to see how it ended.
	 */
	int p[2], status;
	pid_t owner, job;

	ASSERT_OK(prctl(PR_SET_CHILD_SUBREAPER, 1));
	ASSERT_OK(pipe(p));
	owner = fork();
	ASSERT_GE(owner, 0);
	if (owner == 0) {
		struct guard *g = NULL;
		/* (the job first: forked after, it would hold the guard's
		   pipe open, as a job does not once it has exec'd) */
		job = start_job();
		if (guard_new(&g, 1) < 0 || guard_start(g) < 0)
			_exit(1);
		guard_set(g, 0, job);
		if (write(p[1], &job, sizeof job) != sizeof job)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	ASSERT_EQ(read(p[0], &job, sizeof job), sizeof job);
	kill(owner, SIGKILL);
	status = end_of(owner);
	ASSERT_EQ(WTERMSIG(status), SIGKILL);
	status = end_of(job);
	ASSERT(WIFSIGNALED(status));
	ASSERT_EQ(WTERMSIG(status), SIGKILL);
	/* And the guard, reparented here too, is gone as well. */
	while (waitpid(-1, &status, 0) > 0)
		ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_EQ(errno, ECHILD);
	return 0;
}
