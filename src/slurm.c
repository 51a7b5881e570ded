/*
 * slurm.c: the nodes of --slurm (see slurm.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ccmap.h"
#include "slurm.h"
#include "strbuf.h"
#include "util.h"

extern char **environ;

int
slurm_cpus(const char *spec, unsigned *cpus, size_t n)
{
	const char *p = spec;
	size_t at = 0;

	for (;;) {
		char *end;
		unsigned long c, times = 1;
		if (*p < '0' || *p > '9')
			return -1;
		c = strtoul(p, &end, 10);
		p = end;
		if (!strncmp(p, "(x", 2)) {
			if (p[2] < '0' || p[2] > '9')
				return -1;
			times = strtoul(p + 2, &end, 10);
			if (*end != ')')
				return -1;
			p = end + 1;
		}
		if (!c || !times || c > 1u << 20 || times > n - at)
			return -1;
		while (times--)
			cpus[at++] = (unsigned)c;
		if (!*p)
			break;
		if (*p++ != ',')
			return -1;
	}
	return at == n ? 0 : -1;
}

/*
 * Run argv, its stdout into out and its stderr into err: its exit status,
 * or -errno if it could not run (with err saying why).
 */
static int
capture(const char *const argv[], struct strbuf *out, struct strbuf *err)
{
	int po[2], pe[2], st, e;
	posix_spawn_file_actions_t fa;
	pid_t pid;

	if (pipe2(po, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(pe, O_CLOEXEC) < 0) {
		e = -errno;
		close(po[0]);
		close(po[1]);
		return e;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	e = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv,
	    environ);
	posix_spawn_file_actions_destroy(&fa);
	close(po[1]);
	close(pe[1]);
	if (!e) {
		/* (What it says on stderr is a line or two: the pipe holds it
		   while stdout is read.) */
		char buf[4096];
		ssize_t n;
		while ((n = read(po[0], buf, sizeof buf)) > 0 ||
		    (n < 0 && errno == EINTR))
			if (n > 0)
				strbuf_add(out, buf, (size_t)n);
		while ((n = read(pe[0], buf, sizeof buf)) > 0 ||
		    (n < 0 && errno == EINTR))
			if (n > 0)
				strbuf_add(err, buf, (size_t)n);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	close(po[0]);
	close(pe[0]);
	if (e) {
		strbuf_addf(err, "%s: %s", argv[0], strerror(e));
		return -e;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int
slurm_nodes(struct sshlogins *l, char *err, size_t errlen)
{
	const char *list = getenv("SLURM_JOB_NODELIST");
	const char *spec = getenv("SLURM_JOB_CPUS_PER_NODE");
	struct strbuf out = STRBUF_INIT, errs = STRBUF_INIT;
	const char *argv[] = { "scontrol", "show", "hostnames", NULL, NULL };
	unsigned *cpus = NULL;
	size_t n = 0, first = l->n;
	int r = 0;

	if (!list || !*list)
		list = getenv("SLURM_NODELIST");
	if (!list || !*list) {
		snprintf(err, errlen, "--slurm: not in a Slurm allocation "
		    "(SLURM_JOB_NODELIST is not set): run ccmap under salloc "
		    "or sbatch");
		return CCMAP_EUSAGE;
	}
	argv[3] = list;
	if ((r = capture(argv, &out, &errs)) != 0) {
		snprintf(err, errlen, "--slurm: scontrol show hostnames '%s' "
		    "failed%s%s", list, *strbuf_last_line(&errs) ? ": " : "",
		    strbuf_last_line(&errs));
		r = CCMAP_EUSAGE;
		goto done;
	}
	for (char *p = out.buf, *end; p && *p; p = end) {
		size_t len;
		p += strspn(p, " \t\n");
		if (!*p)
			break;
		len = strcspn(p, " \t\n");
		end = p + len;
		l->v = util_realloc(l->v, (l->n + 1) * sizeof *l->v);
		l->v[l->n] = (struct sshlogin){
			.name = util_memdup(p, len),
			.dest = util_memdup(p, len),
		};
		l->n++;
		n++;
	}
	if (!n) {
		snprintf(err, errlen, "--slurm: scontrol show hostnames '%s' "
		    "named no node", list);
		r = CCMAP_EUSAGE;
		goto done;
	}
	/* (Without it: not known.) */
	cpus = util_calloc(n, sizeof *cpus);
	if (spec && *spec && slurm_cpus(spec, cpus, n) < 0) {
		snprintf(err, errlen, "--slurm: SLURM_JOB_CPUS_PER_NODE '%s' "
		    "does not give the CPUs of %zu node%s", spec, n,
		    n == 1 ? "" : "s");
		r = CCMAP_EUSAGE;
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		l->v[first + i].ncpu = cpus[i];
done:
	free(cpus);
	strbuf_release(&out);
	strbuf_release(&errs);
	return r;
}

void
slurm_argv(const char *argv[SLURM_ARGV], char buf[32], const char *node,
    unsigned cpus, const char *ccmap)
{
	size_t n = 0;

	argv[n++] = "srun";
	argv[n++] = "-u";
	argv[n++] = "--overlap";
	argv[n++] = "-Q";
	argv[n++] = "-N1";
	argv[n++] = "-n1";
	if (cpus) {
		snprintf(buf, 32, "--cpus-per-task=%u", cpus);
		argv[n++] = buf;
	}
	argv[n++] = "-w";
	argv[n++] = node;
	argv[n++] = ccmap;
	argv[n++] = "--worker";
	argv[n] = NULL;
}
