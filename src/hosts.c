/*
 * hosts.c: the hosts of -S, their ssh masters and their slots (see
 * hosts.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hosts.h"
#include "options.h"
#include "slurm.h"
#include "sshlogin.h"
#include "util.h"
#include "wconn.h"

extern char **environ;

/* A host is dropped after this many failed sessions in a row. */
#define FAILS_MAX 3
/*
 * sshd's MaxStartups (10:30:100 by default) refuses some of the
 * connections beyond 10 that have not logged in yet: a host's masters
 * connect at most this many at a time.
 */
#define CONNECTING_MAX 8
/* Workers started at the same time (each a round trip or two away). */
#define STARTING_MAX 32
/* How long a master may take to connect and answer. */
#define CONNECT_NS (60 * 1000000000LL)

struct master {
	pid_t pid;		/* 0: not running */
	int in;			/* its own session's stdin: closed to end it */
	int out;		/* its stdout, while it connects */
	unsigned sessions;	/* jobs on it now */
	struct strbuf said;	/* what it said on stdout */
	int dead;		/* it ended during the run: to start again */
	int connecting;		/* a worker is starting it again */
};

struct host {
	const struct sshlogin *login;
	unsigned ncpu, slots, busy;
	int rsync;		/* it has rsync (its first master's hello) */
	struct master *m;
	size_t nm;
	unsigned fails;		/* failed sessions in a row */
	long long pause_until;	/* after a failure: no job before this */
	int down;		/* dropped */
	int posix;		/* its login shell reads sh (posix_shells) */
	int ccmap;		/* its hello found --remote-ccmap there */
	/*
	 * --remote-worker: its jobs go over one connection to its ccmap
	 * --worker (over master 0, whose sessions are not counted), opened
	 * again after a failure by the job that finds it failed.
	 */
	int worker;
	int slurm;		/* --slurm: no master; its worker is a job step
				   of ours (srun), always */
	unsigned wslots;	/* its worker's slots (then slots is twice
				   that: a job waits there for each running,
				   so that no slot idles for a round trip) */
	struct wconn *wc;	/* NULL: to open */
	pthread_mutex_t wlock;	/* guards wc */
};

struct hosts {
	const struct ccmap_opts *o;
	void (*warn)(void *arg, const char *msg);
	void *warn_arg;
	struct sshlogins logins;
	struct host *h;
	size_t n;
	char *dir;		/* the masters' sockets (mode 700) */
	char marker[48];
	pthread_mutex_t lock;	/* guards the hosts' busy, fails, pause_until,
				   down and their masters' sessions */
	pthread_cond_t cond;	/* a slot was given back */
	long long last_start;	/* --sshdelay: when the last master started */
	struct strbuf envvars;	/* --env: "V='value'; export V" lines */
	struct strbuf envfuncs;	/* --env: bash functions, defined and
				   exported */
	struct strbuf hello;	/* what a master runs (hello_fmt) */
	struct strbuf wcmd;	/* what runs the worker there */
	int none_left_said;	/* hosts_none_left() (under lock) */
	char *self;		/* --slurm: this ccmap's path */
};

/*
 * The wrapper a job's session runs, as $0 of sh -c with the job's number,
 * slot, host and command line as $1..$4, its working directory as $5
 * (--workdir, made if missing; "": the login directory), and with --pipe,
 * as $6, the name of the file in the host's temporary directory that
 * holds its block (hosts_put_argv()).  The command runs in the
 * foreground (so that INT and QUIT reach it as they would here), with
 * stdin from that file or from /dev/null.  The session's stdin is
 * watched meanwhile, by a child that reads it until it ends (ccmap holds
 * it open, and empty, while the job runs), and then kills the whole
 * session (its process group: sshd made it a session leader); it is
 * killed once the command is done.  The wrapper itself outlives a
 * command that signals its own process group (`kill 0`): it catches
 * what the command may send, so that its exit status still comes back
 * rather than ssh's 255 of a lost session, and then leaves the watcher
 * to end the session's leftovers.  %s is the marker.
 */
static const char wrapper[] =
    "[ -z \"$5\" ] || { mkdir -p -- \"$5\" && cd -- \"$5\"; } || exit 1;"
    "CCMAP_SEQ=$1 CCMAP_SLOT=$2 CCMAP_HOST=$3;"
    "export CCMAP_SEQ CCMAP_SLOT CCMAP_HOST;"
    "ccmap_i=/dev/null ccmap_t=;"
    "[ -z \"$6\" ] || ccmap_i=${TMPDIR:-/tmp}/$6;"
    "exec 3<&0 </dev/null;"
    "{ trap '' TERM; while read -r ccmap_x; do :; done <&3;"
    " [ -z \"$6\" ] || rm -f \"$ccmap_i\";"
    " kill -TERM 0; sleep 1; kill -KILL 0; } >/dev/null 2>&1 &"
    "ccmap_w=$!;"
    "exec 3<&-;"
    "trap ccmap_t=1 TERM INT QUIT HUP;"
    "sh -c \"$4\" <\"$ccmap_i\";"
    "ccmap_s=$?;"
    "[ -n \"$ccmap_t\" ] || kill -KILL $ccmap_w 2>/dev/null;"
    "[ -z \"$6\" ] || rm -f \"$ccmap_i\";"
    "[ $ccmap_s = 255 ] && printf %%s '%s' >&2;"
    "exit $ccmap_s";

/* What a block's session runs: its stdin into $1 (a name, as above). */
static const char put[] =
    "umask 077; exec cat >\"${TMPDIR:-/tmp}/$1\"";

/*
 * Whether it has rsync (for --transferfile and its kin), the user's login
 * shell (sshd sets $SHELL), its CPUs, with POSIX tools, then its session
 * held until ccmap ends it.  In sh, whatever the login shell (csh and
 * fish read this line as well as sh does).
 */
static const char hello_fmt[] =
    "exec /bin/sh -c '"
    "command -v rsync >/dev/null 2>&1 && echo ccmap-rsync;"
    " command -v %s >/dev/null 2>&1 && echo ccmap-ccmap;"
    " echo \"ccmap-shell ${SHELL##*/}\"; echo ccmap-ready;"
    " (getconf _NPROCESSORS_ONLN || nproc || echo 1)"
    " 2>/dev/null; exec cat >/dev/null'";

/*
 * Login shells that read a job's line as sh would: the wrapper is given
 * to them as it is, with no sh started for it (a shell less per job).
 */
static const char *const posix_shells[] = {
	"sh", "dash", "bash", "ksh", "ksh93", "mksh", "ash", "yash", "posh",
};

static void
warn(struct hosts *hs, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!hs->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	hs->warn(hs->warn_arg, msg);
}

/* The last line of what ssh said, for a message. */
static const char *
last_line(struct strbuf *sb)
{
	const char *l = strbuf_last_line(sb);

	return *l ? l : "no answer";
}

static void
ctl_path(const struct hosts *hs, size_t host, size_t k, char *buf,
    size_t len)
{
	snprintf(buf, len, "%s/%zu.%zu", hs->dir, host, k);
}

/* The ssh words of the host, and the master or client options. */
static void
ssh_words(struct cmdbuf *cb, const struct sshlogin *l)
{
	for (size_t i = 0; i < l->nssh; i++)
		cmdbuf_add(cb, l->ssh[i], strlen(l->ssh[i]));
}

static void
add_str(struct cmdbuf *cb, const char *s)
{
	cmdbuf_add(cb, s, strlen(s));
}

static void
dest_words(struct cmdbuf *cb, const struct sshlogin *l)
{
	if (l->port) {
		add_str(cb, "-p");
		add_str(cb, l->port);
	}
	add_str(cb, "--");
	add_str(cb, l->dest);
}

/* --sshdelay: wait until the next ssh may start. */
static void
space_start(struct hosts *hs)
{
	util_pace(&hs->last_start, hs->o->sshdelay_ns);
}

/*
 * Start master k of host i, connecting: 0, or -errno.  (Spaced by
 * --sshdelay, but when it starts again during the run.)
 */
static int
master_start(struct hosts *hs, size_t i, size_t k)
{
	struct host *h = &hs->h[i];
	struct master *m = &h->m[k];
	int in[2], out[2], e;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	struct cmdbuf cb;
	char ctl[4200], opt[4300];

	ctl_path(hs, i, k, ctl, sizeof ctl);
	/* (A master killed before it could remove its socket left it.) */
	unlink(ctl);
	cmdbuf_init(&cb);
	ssh_words(&cb, h->login);
	add_str(&cb, "-o");
	add_str(&cb, "ControlMaster=yes");
	add_str(&cb, "-o");
	snprintf(opt, sizeof opt, "ControlPath=%s", ctl);
	add_str(&cb, opt);
	add_str(&cb, "-o");
	add_str(&cb, "ControlPersist=no");
	dest_words(&cb, h->login);
	add_str(&cb, hs->hello.buf);
	cmdbuf_finish(&cb);

	if (pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(out, O_CLOEXEC) < 0) {
		e = -errno;
		close(in[0]);
		close(in[1]);
		return e;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	/* (What it says on stderr, for a message should it fail.) */
	strcat(ctl, ".err");
	posix_spawn_file_actions_addopen(&fa, 2, ctl, O_WRONLY | O_CREAT |
	    O_TRUNC | O_APPEND, 0600);
	util_spawnattr_own(&attr);
	if (!m->dead)
		space_start(hs);
	e = (cb.search ? posix_spawnp : posix_spawn)(&m->pid, cb.file, &fa,
	    &attr, cb.argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	cmdbuf_release(&cb);
	close(in[0]);
	close(out[1]);
	if (e) {
		m->pid = 0;
		close(in[1]);
		close(out[0]);
		return -e;
	}
	m->in = in[1];
	m->out = out[0];
	return 0;
}

/* A master is gone: reap it, close what is left. */
static void
master_end(struct master *m, int sig)
{
	if (m->pid > 0) {
		if (sig)
			kill(-m->pid, sig);
		while (waitpid(m->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	m->pid = 0;
	if (m->in >= 0)
		close(m->in);
	if (m->out >= 0)
		close(m->out);
	m->in = m->out = -1;
}

/* Has the master said it is ready, and its CPUs? */
static int
hello_done(const struct strbuf *said)
{
	const char *p = said->len ? strstr(said->buf, "ccmap-ready\n") :
	    NULL;

	return p && strchr(p + 12, '\n') != NULL;
}

/*
 * A connecting master has something to say: what, or that it ended
 * (it failed: pid 0).  Once it said it is ready, its out is closed (-1).
 */
static void
master_heard(struct master *m)
{
	char buf[512];
	ssize_t got = read(m->out, buf, sizeof buf);

	if (got > 0)
		strbuf_add(&m->said, buf, (size_t)got);
	else if (got < 0 && errno == EINTR)
		return;
	if (got <= 0) {
		master_end(m, 0);
	} else if (hello_done(&m->said)) {
		close(m->out);
		m->out = -1;
	}
}

/* Wait for one master (out >= 0) to answer, as masters_wait(). */
static void
master_wait(struct master *m)
{
	long long until = util_now_ns() + CONNECT_NS, left;

	while (m->out >= 0 && (left = (until - util_now_ns()) / 1000000) > 0)
		if (poll(&(struct pollfd){ m->out, POLLIN, 0 }, 1,
		    (int)left) > 0)
			master_heard(m);
	if (m->out >= 0)
		master_end(m, SIGKILL);
}

/*
 * Wait for the masters started (out >= 0) to answer: each says it is
 * ready and its host's CPUs; one that ends, or says nothing in time,
 * has failed (pid 0), and what ssh said on stderr is kept in said.
 */
static void
masters_wait(struct hosts *hs)
{
	long long until = util_now_ns() + CONNECT_NS;
	size_t max = 0;

	for (size_t i = 0; i < hs->n; i++)
		max += hs->h[i].nm;
	struct pollfd *fds = util_calloc(max + 1, sizeof *fds);
	struct master **who = util_calloc(max + 1, sizeof *who);
	for (;;) {
		size_t n = 0;
		for (size_t i = 0; i < hs->n; i++)
			for (size_t k = 0; k < hs->h[i].nm; k++) {
				struct master *m = &hs->h[i].m[k];
				if (m->out < 0)
					continue;
				who[n] = m;
				fds[n++] = (struct pollfd){ m->out, POLLIN, 0 };
			}
		long long left = (until - util_now_ns()) / 1000000;
		if (n == 0 || left <= 0)
			break;
		if (poll(fds, n, (int)left) < 0 && errno != EINTR)
			break;
		for (size_t j = 0; j < n; j++)
			if (fds[j].revents)
				master_heard(who[j]);
	}
	/* What did not answer in time has failed. */
	for (size_t i = 0; i < hs->n; i++)
		for (size_t k = 0; k < hs->h[i].nm; k++)
			if (hs->h[i].m[k].out >= 0)
				master_end(&hs->h[i].m[k], SIGKILL);
	free(who);
	free(fds);
}

/* Why master k of host i failed: the last line ssh wrote, or a guess. */
static const char *
master_why(struct hosts *hs, size_t i, size_t k, struct strbuf *sb)
{
	char path[4200];
	int fd;

	strbuf_reset(sb);
	ctl_path(hs, i, k, path, sizeof path);
	strcat(path, ".err");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		char buf[4096];
		ssize_t got;
		while ((got = read(fd, buf, sizeof buf)) > 0)
			strbuf_add(sb, buf, (size_t)got);
		close(fd);
	}
	return sb->len ? last_line(sb) : "no answer in time";
}

/* Is the login shell that a ready master's hello named one of those? */
static int
hello_posix(const struct master *m)
{
	const char *p = strstr(m->said.buf, "ccmap-shell ");
	size_t len;

	if (!p)
		return 0;
	p += 12;
	len = strcspn(p, "\n");
	for (size_t i = 0; i < sizeof posix_shells / sizeof *posix_shells; i++)
		if (strlen(posix_shells[i]) == len &&
		    !memcmp(p, posix_shells[i], len))
			return 1;
	return 0;
}

/* The CPUs a ready master's hello gave. */
static unsigned
hello_cpus(const struct master *m)
{
	const char *p = strstr(m->said.buf, "ccmap-ready\n");
	long v = p ? strtol(p + 12, NULL, 10) : 0;

	return v > 0 && v < 1000000 ? (unsigned)v : 1;
}

/*
 * The directories of earlier runs of ours in tmp whose ccmap was killed
 * (SIGKILL: nothing could remove them; their masters have ended since):
 * named ccmap-ssh.PID.*, ours, and PID gone.  Their sockets and masters'
 * messages are removed, then they; anything else in one keeps it.
 */
static void
sweep_dirs(const char *tmp)
{
	DIR *d = opendir(tmp), *in;
	struct dirent *e, *f;
	struct strbuf path = STRBUF_INIT;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		struct stat sb;
		char *end;
		long pid;
		if (strncmp(e->d_name, "ccmap-ssh.", 10) ||
		    (pid = strtol(e->d_name + 10, &end, 10)) <= 0 ||
		    *end != '.' || (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", tmp, e->d_name);
		if (lstat(path.buf, &sb) < 0 || !S_ISDIR(sb.st_mode) ||
		    sb.st_uid != geteuid() || !(in = opendir(path.buf)))
			continue;
		size_t len = path.len;
		while ((f = readdir(in)) != NULL) {
			/* (Only what hosts.c puts there: N.K and N.K.err.) */
			if (f->d_name[0] < '0' || f->d_name[0] > '9')
				continue;
			strbuf_addf(&path, "/%s", f->d_name);
			unlink(path.buf);
			path.len = len;
			path.buf[len] = '\0';
		}
		closedir(in);
		rmdir(path.buf);
	}
	closedir(d);
	strbuf_release(&path);
}

static int
make_dir(struct hosts *hs, char *err, size_t errlen)
{
	const char *tmp = hs->o->tmpdir && *hs->o->tmpdir ? hs->o->tmpdir :
	    getenv("TMPDIR");
	struct strbuf sb = STRBUF_INIT;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	sweep_dirs(tmp);
	strbuf_addf(&sb, "%s/ccmap-ssh.%ld.XXXXXX", tmp, (long)getpid());
	if (!mkdtemp(sb.buf)) {
		int e = errno;
		snprintf(err, errlen, "%s: cannot make a directory in '%s': "
		    "%s", hs->o->slurm ? "--slurm" : "-S", tmp, strerror(e));
		strbuf_release(&sb);
		return -e;
	}
	/* (Sockets have long paths: ssh's limit is about 100 bytes.) */
	hs->dir = strbuf_detach(&sb, NULL);
	return 0;
}

static void
make_marker(struct hosts *hs)
{
	unsigned long long r = (unsigned long long)util_now_ns() ^
	    ((unsigned long long)getpid() << 32);
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		unsigned long long x;
		if (read(fd, &x, sizeof x) == (ssize_t)sizeof x)
			r ^= x;
		close(fd);
	}
	snprintf(hs->marker, sizeof hs->marker, "ccmap: exit 255 %016llx",
	    r);
}

/*
 * --env, from ccmap's environment: each variable named, set and exported
 * in envvars; each exported bash function named (bash keeps function f
 * in the environment as BASH_FUNC_f%%, its value "() { ...}"), defined
 * and exported in envfuncs.  A name that is neither is left out.
 */
static void
env_make(struct hosts *hs)
{
	for (size_t i = 0; i < hs->o->nenv; i++) {
		const char *name = hs->o->env[i], *v;
		char fn[300];
		if ((v = getenv(name)) != NULL) {
			strbuf_addf(&hs->envvars, "%s=", name);
			shell_quote(&hs->envvars, v, strlen(v));
			strbuf_addf(&hs->envvars, "; export %s\n", name);
		}
		snprintf(fn, sizeof fn, "BASH_FUNC_%s%%%%", name);
		if ((v = getenv(fn)) != NULL)
			strbuf_addf(&hs->envfuncs, "%s %s\nexport -f %s\n",
			    name, v, name);
	}
}

/*
 * The command line cmd as a remote job runs it, with --env's variables
 * set first; with functions, it runs in bash (which the host must have),
 * after their definitions.  cmd itself when --env gives nothing.
 */
static const char *
env_line(const struct hosts *hs, const char *cmd, size_t *len,
    struct strbuf *sb)
{
	struct strbuf line = STRBUF_INIT;

	if (!hs->envvars.len && !hs->envfuncs.len)
		return cmd;
	strbuf_add(sb, hs->envvars.buf, hs->envvars.len);
	if (hs->envfuncs.len) {
		strbuf_add(&line, hs->envfuncs.buf, hs->envfuncs.len);
		strbuf_add(&line, cmd, *len);
		strbuf_addstr(sb, "exec bash -c ");
		shell_quote(sb, line.buf, line.len);
		strbuf_release(&line);
	} else {
		strbuf_add(sb, cmd, *len);
	}
	*len = sb->len;
	return sb->buf;
}

static void
host_drop(struct hosts *hs, struct host *h, const char *why)
{
	h->down = 1;
	warn(hs, "%s %s: %s; not used from now on", hs->o->slurm ?
	    "--slurm" : "-S", h->login->name, why);
}

/*
 * --remote-ccmap, or ccmap on the host's PATH; with --slurm, this ccmap
 * (the nodes see this machine's files).
 */
static const char *
ccmap_path(const struct hosts *hs)
{
	return hs->o->remote_ccmap ? hs->o->remote_ccmap : hs->self ?
	    hs->self : "ccmap";
}

/*
 * Open h's connection to its worker, over master 0: 0, or -1 with why
 * (the master failed, or the worker: no ccmap there, another protocol).
 * (hs->lock is not needed: from hosts_open(), or under h->wlock.)
 */
static int
worker_open(struct hosts *hs, struct host *h, char *why, size_t wlen)
{
	char ctl[4200], cpus[32];
	const char *argv[SLURM_ARGV];
	struct wconn_setup ws = {
		.ctl = ctl,
		.cmd = hs->wcmd.buf,
		.host = h->login->name,
		.slots = h->wslots ? h->wslots : h->slots,
		.timeout_ns = hs->o->timeout_ns,
		.termseq = hs->o->termseq.n ? &hs->o->termseq : NULL,
		.max_tasks = hs->o->max_tasks,
		.plugin = hs->o->plugin,
		.args = hs->o->command,
		.nargs = hs->o->plugin ? hs->o->ncommand : 0,
		/* (Made there, where the items are mapped.) */
		.tag = hs->o->tagstring ? hs->o->tagstring : hs->o->tag ?
		    "{}" : NULL,
		.replace = hs->o->tagstring ? hs->o->replace : NULL,
	};

	ctl_path(hs, (size_t)(h - hs->h), 0, ctl, sizeof ctl);
	if (h->slurm) {
		slurm_argv(argv, cpus, h->login->dest, h->login->ncpu,
		    ccmap_path(hs));
		ws.argv = argv;
	}
	return wconn_open(&h->wc, &ws, why, wlen) < 0 ? -1 : 0;
}

/*
 * Could the run's jobs go over a worker?  (Not with files of their own
 * yet; --basefile's are copied before the host's first job, as without
 * one, and --cleanup has only those to remove.)
 */
static int
worker_fits(const struct ccmap_opts *o)
{
	return !o->ntransferfiles && !o->transfer && !o->nreturnfiles;
}

/* --remote-worker as the run has it (never, if its jobs do not fit). */
static int
worker_mode(const struct ccmap_opts *o)
{
	if (!worker_fits(o))
		return CCMAP_WORKER_NEVER;
	/* (A plugin runs in a worker, or not at all; so do --slurm's jobs.) */
	return o->plugin || o->slurm ? CCMAP_WORKER_ALWAYS : o->remote_worker;
}

/*
 * Is h to run its jobs over a worker (--remote-worker)?  Then its
 * connection is opened now.  -1 if h is dropped for want of one
 * (always), else 0; without one (auto), a session per job, and a
 * warning if it had a ccmap that would not serve.
 */
static int
worker_start(struct hosts *hs, struct host *h)
{
	char why[600];
	int mode = worker_mode(hs->o);

	if (mode == CCMAP_WORKER_NEVER || (mode == CCMAP_WORKER_AUTO &&
	    !h->ccmap))
		return 0;
	/*
	 * (A plugin may be one of the --basefile files: its worker, which
	 * loads it, starts with the first batch, once they are there.)
	 */
	if ((hs->o->plugin && hs->o->nbasefiles) ||
	    worker_open(hs, h, why, sizeof why) == 0) {
		h->worker = 1;
		h->wslots = h->slots;
		h->slots *= 2;
		return 0;
	}
	if (mode == CCMAP_WORKER_ALWAYS) {
		host_drop(hs, h, why);
		return -1;
	}
	warn(hs, "-S %s: %s; a session per job instead", h->login->name,
	    why);
	return 0;
}

/* workers_start()'s threads: the next host to start the worker of. */
struct starting {
	struct hosts *hs;
	pthread_mutex_t lock;
	size_t next;
};

static void *
starter(void *arg)
{
	struct starting *st = arg;

	for (;;) {
		size_t i;
		pthread_mutex_lock(&st->lock);
		i = st->next++;
		pthread_mutex_unlock(&st->lock);
		if (i >= st->hs->n)
			return NULL;
		struct host *h = &st->hs->h[i];
		if (!h->down && !h->login->local)
			(void)worker_start(st->hs, h);
	}
}

/*
 * The hosts' workers (worker_start()), STARTING_MAX at a time: a
 * thousand hosts start in the time of a few dozen, not one after the
 * other.  (Each thread has hosts of its own: hs->lock is not needed.)
 */
static void
workers_start(struct hosts *hs)
{
	struct starting st = { .hs = hs };
	size_t n = hs->n < STARTING_MAX ? hs->n : STARTING_MAX;
	pthread_t *t;
	sigset_t all, old;

	if (worker_mode(hs->o) == CCMAP_WORKER_NEVER)
		return;
	t = util_calloc(n, sizeof *t);
	pthread_mutex_init(&st.lock, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (size_t k = 1; k < n; k++)
		if (pthread_create(&t[k], NULL, starter, &st) != 0)
			util_oom(0);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	starter(&st);
	for (size_t k = 1; k < n; k++)
		pthread_join(t[k], NULL);
	pthread_mutex_destroy(&st.lock);
	free(t);
}

int
hosts_open(struct hosts **hp, const struct ccmap_opts *o,
    void (*warn_fn)(void *arg, const char *msg), void *arg, unsigned *slots,
    char *err, size_t errlen)
{
	struct hosts *hs = util_calloc(1, sizeof *hs);
	struct strbuf why = STRBUF_INIT;
	pthread_condattr_t ca;
	unsigned total = 0;
	int r = 0;

	hs->o = o;
	hs->warn = warn_fn;
	hs->warn_arg = arg;
	pthread_mutex_init(&hs->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&hs->cond, &ca);
	pthread_condattr_destroy(&ca);
	make_marker(hs);
	env_make(hs);
	for (size_t i = 0; i < o->nsshlogins && r == 0; i++)
		r = sshlogin_parse(&hs->logins, o->sshlogins[i], o->ssh, err,
		    errlen);
	for (size_t i = 0; i < o->nsshloginfiles && r == 0; i++)
		r = sshlogin_file(&hs->logins, o->sshloginfiles[i], o->ssh,
		    err, errlen);
	if (o->slurm && r == 0) {
		char self[4096];
		ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
		if (n > 0 && !o->remote_ccmap) {
			self[n] = '\0';
			hs->self = util_strdup(self);
		}
		r = slurm_nodes(&hs->logins, err, errlen);
	}
	if (r == 0 && !hs->logins.n) {
		snprintf(err, errlen, "-S: no host given");
		r = CCMAP_EUSAGE;
	}
	if (r < 0 || (r = make_dir(hs, err, errlen)) < 0) {
		hosts_close(hs, 1);
		return r;
	}
	hs->n = hs->logins.n;
	hs->h = util_calloc(hs->n, sizeof *hs->h);
	for (size_t i = 0; i < hs->n; i++)
		pthread_mutex_init(&hs->h[i].wlock, NULL);
	strbuf_addf(&hs->hello, hello_fmt, ccmap_path(hs));
	strbuf_addf(&hs->wcmd, "exec %s --worker", ccmap_path(hs));
	for (size_t i = 0; i < hs->n; i++) {
		struct host *h = &hs->h[i];
		h->login = &hs->logins.v[i];
		h->ncpu = h->login->ncpu;
		if (h->login->local && o->plugin) {
			snprintf(err, errlen, "-S :: a plugin (--so) runs in "
			    "the hosts' ccmap --worker; on this machine, "
			    "without -S");
			hosts_close(hs, 1);
			return CCMAP_EUSAGE;
		}
		if (h->login->local) {
			if (!h->ncpu)
				h->ncpu = options_cpus();
			continue;
		}
		if ((h->slurm = o->slurm))
			continue;	/* (its worker is all it needs) */
		h->m = util_calloc(1, sizeof *h->m);
		h->nm = 1;
		h->m[0].in = h->m[0].out = -1;
		master_start(hs, i, 0);
	}
	masters_wait(hs);
	/* Each host's slots. */
	for (size_t i = 0; i < hs->n; i++) {
		struct host *h = &hs->h[i];
		if (h->slurm) {
			/* (Its CPUs not known: a slot, unless -j says.) */
			h->slots = o->onall ? 1 : o->jobs ? o->jobs : h->ncpu ?
			    h->ncpu : 1;
			continue;
		}
		if (!h->login->local && !h->m[0].pid) {
			host_drop(hs, h, master_why(hs, i, 0, &why));
			continue;
		}
		if (!h->login->local && !h->ncpu)
			h->ncpu = hello_cpus(&h->m[0]);
		if (!h->login->local)
			h->posix = hello_posix(&h->m[0]);
		/* (--onall: a host runs its jobs one at a time.) */
		h->slots = o->onall ? 1 : o->jobs ? o->jobs : h->ncpu;
		if (h->login->local)
			continue;
		/* (Read once: a master's said changes when it starts again.) */
		h->rsync = strstr(h->m[0].said.buf, "ccmap-rsync\n") != NULL;
		h->ccmap = strstr(h->m[0].said.buf, "ccmap-ccmap\n") != NULL;
	}
	workers_start(hs);
	/* The masters to carry the jobs of the hosts without one. */
	for (size_t i = 0; i < hs->n; i++) {
		struct host *h = &hs->h[i];
		if (h->down || h->login->local || h->worker)
			continue;	/* (a worker's one master is enough) */
		size_t nm = (h->slots + HOSTS_SESSIONS - 1) / HOSTS_SESSIONS;
		h->m = util_realloc(h->m, nm * sizeof *h->m);
		for (size_t k = h->nm; k < nm; k++)
			h->m[k] = (struct master){ .in = -1, .out = -1 };
		h->nm = nm;
	}
	/* The others, a few at a time on each host. */
	for (size_t k0 = 1;; k0 += CONNECTING_MAX) {
		int started = 0;
		for (size_t i = 0; i < hs->n; i++)
			for (size_t k = k0; !hs->h[i].down && k < hs->h[i].nm &&
			    k < k0 + CONNECTING_MAX; k++)
				started |= master_start(hs, i, k) == 0;
		if (!started)
			break;
		masters_wait(hs);
	}
	for (size_t i = 0; i < hs->n; i++) {
		struct host *h = &hs->h[i];
		unsigned up = 0;
		for (size_t k = 0; !h->down && k < h->nm; k++)
			up += h->m[k].pid > 0;
		if (!h->down && !h->login->local && up < h->nm) {
			/* Fewer masters: fewer slots. */
			size_t k = 0;
			while (h->m[k].pid)
				k++;
			if (h->slots > up * HOSTS_SESSIONS)
				h->slots = up * HOSTS_SESSIONS;
			warn(hs, "-S %s: %zu of its %zu connections failed "
			    "(%s); %u slots", h->login->name, h->nm - up,
			    h->nm, master_why(hs, i, k, &why), h->slots);
		}
		if (!h->down)
			total += h->slots;
	}
	strbuf_release(&why);
	if (!total) {
		snprintf(err, errlen, "%s: no host could be reached",
		    o->slurm ? "--slurm" : "-S");
		hosts_close(hs, 1);
		return CCMAP_EUSAGE;
	}
	*slots = total;
	*hp = hs;
	return 0;
}

void
hosts_close(struct hosts *hs, int killed)
{
	if (!hs)
		return;
	/* (All told first: they end at the same time, not in turn.) */
	for (size_t i = 0; i < hs->n; i++)
		if (hs->h[i].wc)
			wconn_end(hs->h[i].wc, killed);
	for (size_t i = 0; i < hs->n; i++) {
		struct host *h = &hs->h[i];
		if (h->wc)
			wconn_close(h->wc, killed);
		h->wc = NULL;
	}
	for (size_t i = 0; i < hs->n; i++) {
		struct host *h = &hs->h[i];
		/* Its session's stdin closed, a master ends of itself. */
		for (size_t k = 0; k < h->nm; k++)
			if (h->m[k].in >= 0) {
				close(h->m[k].in);
				h->m[k].in = -1;
			}
		for (size_t k = 0; k < h->nm; k++) {
			if (killed && h->m[k].pid > 0)
				kill(-h->m[k].pid, SIGTERM);
			master_end(&h->m[k], 0);
			strbuf_release(&h->m[k].said);
		}
		free(h->m);
	}
	if (hs->dir) {
		for (size_t i = 0; i < hs->n; i++)
			for (size_t k = 0; k < hs->h[i].nm; k++) {
				char ctl[4200];
				ctl_path(hs, i, k, ctl, sizeof ctl);
				unlink(ctl);
				strcat(ctl, ".err");
				unlink(ctl);
			}
		rmdir(hs->dir);
		free(hs->dir);
	}
	for (size_t i = 0; hs->h && i < hs->n; i++)
		pthread_mutex_destroy(&hs->h[i].wlock);
	free(hs->h);
	free(hs->self);
	strbuf_release(&hs->hello);
	strbuf_release(&hs->wcmd);
	strbuf_release(&hs->envvars);
	strbuf_release(&hs->envfuncs);
	sshlogin_free(&hs->logins);
	pthread_cond_destroy(&hs->cond);
	pthread_mutex_destroy(&hs->lock);
	free(hs);
}

/* The master of h with the fewest sessions, if one has room. */
static int
free_master(const struct host *h)
{
	int best = -1;

	if (h->slurm)
		return 0;	/* (its worker opens again if it failed) */
	if (h->worker)
		/* (One session, whatever its slots.) */
		return !h->m[0].connecting && h->m[0].pid > 0 ? 0 : -1;
	for (size_t k = 0; k < h->nm; k++)
		if (!h->m[k].connecting && h->m[k].pid > 0 &&
		    h->m[k].sessions < HOSTS_SESSIONS &&
		    (best < 0 || h->m[k].sessions < h->m[best].sessions))
			best = (int)k;
	return best;
}

/*
 * Has master m ended during the run (killed, its connection lost)?  Then
 * it is reaped, and marked to start again: 1 (and 1 after, while it is
 * marked).  (Under the lock.)
 */
static int
master_gone(struct master *m)
{
	if (m->connecting || m->dead)
		return m->dead;
	if (m->pid <= 0 || waitpid(m->pid, NULL, WNOHANG) != m->pid)
		return 0;
	m->pid = 0;
	master_end(m, 0);
	return m->dead = 1;
}

/* A master of h that ended, to start again (-1: none). */
static int
dead_master(struct host *h)
{
	for (size_t k = 0; k < h->nm; k++)
		if (!h->m[k].connecting)
			master_gone(&h->m[k]);
	for (size_t k = 0; k < h->nm; k++)
		if (h->m[k].dead && !h->m[k].connecting)
			return (int)k;
	return -1;
}

/*
 * A session on h failed (or its master could not start again): the host
 * is paused, 1 s, 2 s, ..., and dropped after a few in a row.  (Under
 * the lock.)
 */
static void
host_failed(struct hosts *hs, struct host *h, const char *why)
{
	if (h->down)
		return;
	if (++h->fails >= FAILS_MAX)
		host_drop(hs, h, why && *why ? why : "its sessions failed");
	else
		h->pause_until = util_now_ns() + h->fails * 1000000000LL;
}

/*
 * Start master k of h again, from the worker that claimed it
 * (connecting), outside the lock: 0, or -1 with why it failed in why.
 */
static int
master_restart(struct hosts *hs, struct host *h, size_t k,
    struct strbuf *why)
{
	struct master *m = &h->m[k];
	size_t i = (size_t)(h - hs->h);

	strbuf_reset(&m->said);
	if (master_start(hs, i, k) == 0)
		master_wait(m);
	if (m->pid > 0)
		return 0;
	master_why(hs, i, k, why);
	return -1;
}

/* May a job take a slot of h now?  (Else why not: wake, when to retry.) */
static int
host_free(struct host *h, long long now, long long *wake, int *m)
{
	*m = 0;
	if (h->pause_until > now) {
		if (!*wake || h->pause_until < *wake)
			*wake = h->pause_until;
		return 0;
	}
	return h->busy < h->slots && (h->login->local ||
	    (*m = free_master(h)) >= 0);
}

/*
 * A free slot: on host only (not NULL), else on another host than avoid
 * if one has room, the least busy.  Waits for one: 0, or -1 when the
 * host (or every host) is gone.
 */
static int
take(struct hosts *hs, const struct host *avoid, const struct host *only,
    struct hostslot *slot)
{
	pthread_mutex_lock(&hs->lock);
	for (;;) {
		long long now = util_now_ns(), wake = 0;
		struct host *best = NULL, *again = NULL;
		int alive = 0, bestm = -1, againm = -1;
		for (size_t i = 0; i < hs->n; i++) {
			struct host *h = &hs->h[i];
			int m;
			if (h->down || (only && h != only))
				continue;
			alive = 1;
			if (!host_free(h, now, &wake, &m)) {
				/* (Its masters ended?  One starts again.) */
				if (!again && !h->login->local &&
				    h->pause_until <= now &&
				    h->busy < h->slots &&
				    (againm = dead_master(h)) >= 0)
					again = h;
				continue;
			}
			/* Another host than avoid; the least busy. */
			if (!best || (best == avoid && h != avoid) ||
			    ((h != avoid || best == avoid) &&
			    (double)h->busy / h->slots <
			    (double)best->busy / best->slots)) {
				best = h;
				bestm = m;
			}
		}
		if (best) {
			best->busy++;
			if (best->m)
				best->m[bestm].sessions++;
			slot->h = best;
			slot->master = (unsigned)bestm;
			pthread_mutex_unlock(&hs->lock);
			return 0;
		}
		if (again) {
			struct master *m = &again->m[againm];
			struct strbuf why = STRBUF_INIT;
			int r;
			m->connecting = 1;
			again->busy++;
			m->sessions++;
			pthread_mutex_unlock(&hs->lock);
			r = master_restart(hs, again, (size_t)againm, &why);
			pthread_mutex_lock(&hs->lock);
			m->connecting = 0;
			/* (Those waiting for it, or for this slot.) */
			pthread_cond_broadcast(&hs->cond);
			if (r == 0) {
				m->dead = 0;
				slot->h = again;
				slot->master = (unsigned)againm;
				pthread_mutex_unlock(&hs->lock);
				strbuf_release(&why);
				return 0;
			}
			again->busy--;
			m->sessions--;
			host_failed(hs, again, last_line(&why));
			strbuf_release(&why);
			continue;
		}
		if (!alive) {
			pthread_mutex_unlock(&hs->lock);
			return -1;
		}
		if (wake) {
			/* (util_now_ns() is CLOCK_MONOTONIC's, as is cond's.) */
			struct timespec ts = { wake / 1000000000,
			    wake % 1000000000 };
			pthread_cond_timedwait(&hs->cond, &hs->lock, &ts);
		} else {
			pthread_cond_wait(&hs->cond, &hs->lock);
		}
	}
}

int
hosts_take(struct hosts *hs, const struct host *avoid,
    struct hostslot *slot)
{
	return take(hs, avoid, NULL, slot);
}

int
hosts_take_on(struct hosts *hs, const struct host *h, struct hostslot *slot)
{
	return take(hs, NULL, h, slot);
}

const struct host *
hosts_next(const struct hosts *hs, const struct host *h)
{
	for (size_t i = h ? (size_t)(h - hs->h) + 1 : 0; i < hs->n; i++)
		if (!hs->h[i].down)
			return &hs->h[i];
	return NULL;
}

void
hosts_give(struct hosts *hs, const struct hostslot *slot, int ok,
    const char *why)
{
	struct host *h = slot->h;

	pthread_mutex_lock(&hs->lock);
	h->busy--;
	if (h->m)
		h->m[slot->master].sessions--;
	if (ok)
		h->fails = 0;
	else if (!h->m || !master_gone(&h->m[slot->master]))
		host_failed(hs, h, why);
	/* (Else its master ended: the next job starts it again, which
	   counts against the host if it fails.) */
	pthread_cond_broadcast(&hs->cond);
	pthread_mutex_unlock(&hs->lock);
}

int
hosts_none_left(struct hosts *hs)
{
	int first;

	pthread_mutex_lock(&hs->lock);
	first = !hs->none_left_said;
	hs->none_left_said = 1;
	pthread_mutex_unlock(&hs->lock);
	return first;
}

const char *
host_name(const struct host *h)
{
	return h->login->name;
}

int
host_local(const struct host *h)
{
	return h->login->local;
}

int
host_rsync(const struct host *h)
{
	return h->rsync;
}

const char *
host_dest(const struct host *h)
{
	return h->login->dest;
}

void
hosts_client(struct hosts *hs, const struct hostslot *slot,
    struct cmdbuf *cb)
{
	const struct host *h = slot->h;
	char ctl[4096];

	cmdbuf_reset(cb);
	ssh_words(cb, h->login);
	hosts_ctl(hs, slot, ctl, sizeof ctl);
	add_str(cb, "-S");
	add_str(cb, ctl);
	add_str(cb, "-o");
	add_str(cb, "ControlMaster=no");
	/* (Without its master, ssh would log in on its own: it fails.) */
	add_str(cb, "-o");
	add_str(cb, "ProxyCommand=false");
	if (h->login->port) {
		add_str(cb, "-p");
		add_str(cb, h->login->port);
	}
}

void
hosts_ctl(const struct hosts *hs, const struct hostslot *slot, char *buf,
    size_t len)
{
	ctl_path(hs, (size_t)(slot->h - hs->h), slot->master, buf, len);
}

/*
 * s quoted for a login shell that may not be sh (csh, fish): as
 * shell_quote() does, but each backslash outside the quotes, where all
 * three read \\ as one (fish reads \\ and \' inside single quotes as
 * escapes).
 */
static void
login_quote(struct strbuf *sb, const char *s, size_t len)
{
	const char *bs;
	int any = 0;

	while ((bs = memchr(s, '\\', len)) != NULL) {
		if (bs > s)
			shell_quote(sb, s, (size_t)(bs - s));
		strbuf_addstr(sb, "\\\\");
		len -= (size_t)(bs + 1 - s);
		s = bs + 1;
		any = 1;
	}
	if (len || !any)
		shell_quote(sb, s, len);
}

/* The words of a session over the slot's master, but for its command. */
static void
session_words(struct hosts *hs, const struct hostslot *slot,
    struct cmdbuf *cb)
{
	hosts_client(hs, slot, cb);
	add_str(cb, "--");
	add_str(cb, slot->h->login->dest);
}

void
hosts_argv(struct hosts *hs, const struct hostslot *slot, const char *cmd,
    size_t len, unsigned long long seq, unsigned jobslot, const char *wd,
    const char *block, struct cmdbuf *cb)
{
	const struct host *h = slot->h;
	struct strbuf line = STRBUF_INIT, w = STRBUF_INIT, env = STRBUF_INIT;
	void (*quote)(struct strbuf *, const char *, size_t) =
	    h->posix ? shell_quote : login_quote;
	char num[32];

	cmd = env_line(hs, cmd, &len, &env);
	session_words(hs, slot, cb);
	/*
	 * The far end's login shell reads
	 *	set -- SEQ SLOT HOST CMD WD [BLOCK]; WRAPPER
	 * if it is sh, else
	 *	exec /bin/sh -c WRAPPER sh SEQ SLOT HOST CMD WD [BLOCK]
	 */
	strbuf_addf(&w, wrapper, hs->marker);
	if (h->posix) {
		strbuf_addstr(&line, "set --");
	} else {
		strbuf_addstr(&line, "exec /bin/sh -c ");
		login_quote(&line, w.buf, w.len);
		strbuf_addstr(&line, " sh");
	}
	snprintf(num, sizeof num, " %llu %u ", seq, jobslot);
	strbuf_addstr(&line, num);
	quote(&line, h->login->name, strlen(h->login->name));
	strbuf_addch(&line, ' ');
	quote(&line, cmd, len);
	strbuf_addch(&line, ' ');
	quote(&line, wd ? wd : "", wd ? strlen(wd) : 0);
	if (block) {
		strbuf_addch(&line, ' ');
		strbuf_addstr(&line, block);
	}
	if (h->posix) {
		strbuf_addch(&line, ';');
		strbuf_add(&line, w.buf, w.len);
	}
	cmdbuf_add(cb, line.buf, line.len);
	cmdbuf_finish(cb);
	strbuf_release(&line);
	strbuf_release(&w);
	strbuf_release(&env);
}

int
host_worker(const struct host *h)
{
	return h->worker;
}

struct wconn *
hosts_worker(struct hosts *hs, const struct hostslot *slot, char *why,
    size_t wlen)
{
	struct host *h = slot->h;
	struct wconn *wc = NULL;

	pthread_mutex_lock(&h->wlock);
	if (h->wc && !wconn_up(h->wc)) {
		wconn_close(h->wc, 1);
		h->wc = NULL;
	}
	if (h->wc || worker_open(hs, h, why, wlen) == 0) {
		wc = h->wc;
		wconn_hold(wc);
	}
	pthread_mutex_unlock(&h->wlock);
	return wc;
}

void
hosts_worker_line(const struct hosts *hs, const char *cmd, size_t len,
    struct strbuf *sb)
{
	struct strbuf env = STRBUF_INIT;

	cmd = env_line(hs, cmd, &len, &env);
	strbuf_add(sb, cmd, len);
	strbuf_release(&env);
}

void
hosts_block_name(const struct hosts *hs, unsigned long long seq, char *buf,
    size_t len)
{
	/* (The marker's random part: no other run's.) */
	snprintf(buf, len, "ccmap-%s-%llu", strrchr(hs->marker, ' ') + 1,
	    seq);
}

void
hosts_put_argv(struct hosts *hs, const struct hostslot *slot,
    const char *block, struct cmdbuf *cb)
{
	struct strbuf line = STRBUF_INIT;

	session_words(hs, slot, cb);
	strbuf_addstr(&line, "exec /bin/sh -c ");
	shell_quote(&line, put, strlen(put));
	strbuf_addstr(&line, " sh ");
	strbuf_addstr(&line, block);
	cmdbuf_add(cb, line.buf, line.len);
	cmdbuf_finish(cb);
	strbuf_release(&line);
}

const char *
hosts_marker(const struct hosts *hs, size_t *len)
{
	*len = strlen(hs->marker);
	return hs->marker;
}
