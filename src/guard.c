/*
 * guard.c: a process that kills the jobs when ccmap dies (see guard.h).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"
#include "util.h"
#include "wpipe.h"

struct guard {
	atomic_int *pgid;	/* the jobs' groups, a slot each (shared) */
	unsigned slots;
	int fd;			/* the pipe's write end: ccmap's alone */
	pid_t pid;		/* the guard */
};

static size_t
table_size(unsigned slots)
{
	return (slots ? slots : 1) * sizeof(atomic_int);
}

static void
kill_listed(const struct guard *g, int sig)
{
	for (unsigned i = 0; i < g->slots; i++) {
		int pgid = atomic_load(&g->pgid[i]);
		if (pgid > 0)
			kill(-pgid, sig);
	}
}

/*
 * The guard: out of the way of signals meant for ccmap's group and of its
 * descriptors, it waits for the pipe to end.  Only async-signal-safe calls
 * here: it was forked from a process that may have had threads.
 */
static void __attribute__((noreturn))
guard_main(struct guard *g, int fd)
{
	static const int ignored[] = {
		SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGTSTP, SIGTTIN,
		SIGTTOU, SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH,
	};
	struct sigaction sa;
	sigset_t none;
	char c;
	int null;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	for (size_t i = 0; i < ARRAY_SIZE(ignored); i++)
		sigaction(ignored[i], &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	prctl(PR_SET_NAME, "ccmap-guard");
	if ((null = open("/dev/null", O_RDWR)) >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	wpipe_close_others(&fd, 1);
	for (;;) {
		ssize_t n = read(fd, &c, 1);
		if (n == 0 || (n < 0 && errno != EINTR))
			break;
	}
	kill_listed(g, SIGKILL);
	_exit(0);
}

int
guard_new(struct guard **gp, unsigned slots)
{
	struct guard *g = util_calloc(1, sizeof *g);
	int e;

	g->slots = slots;
	g->fd = -1;
	g->pgid = mmap(NULL, table_size(slots), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g->pgid == MAP_FAILED) {
		e = -errno;
		free(g);
		return e;
	}
	*gp = g;
	return 0;
}

int
guard_start(struct guard *g)
{
	sigset_t all, old;
	int p[2], e;

	if (!g || g->fd >= 0)
		return 0;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	g->pid = fork();
	if (g->pid == 0) {
		close(p[1]);
		guard_main(g, p[0]);
	}
	e = g->pid < 0 ? -errno : 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(p[0]);
	if (e < 0) {
		close(p[1]);
		return e;
	}
	g->fd = p[1];
	return 0;
}

void
guard_set(struct guard *g, unsigned slot, pid_t pgid)
{
	if (g && slot < g->slots)
		atomic_store(&g->pgid[slot], (int)pgid);
}

void
guard_kill_slot(struct guard *g, unsigned slot, int sig)
{
	int pgid;

	if (g && slot < g->slots &&
	    (pgid = atomic_exchange(&g->pgid[slot], 0)) > 0)
		kill(-pgid, sig);
}

void
guard_kill(struct guard *g, int sig)
{
	if (g)
		kill_listed(g, sig);
}

void
guard_free(struct guard *g)
{
	if (!g)
		return;
	if (g->fd >= 0) {
		close(g->fd);
		while (waitpid(g->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	munmap(g->pgid, table_size(g->slots));
	free(g);
}
