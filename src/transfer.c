/*
 * transfer.c: the files of -S jobs and their working directory (see
 * transfer.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "template.h"
#include "transfer.h"
#include "util.h"

extern char **environ;

/* What the fallback's "cat" back exits with for an executable file. */
#define CAT_EXEC 10
/* Bytes of a copy's stderr kept, for the warning. */
#define ERRS_MAX 2048

enum wd_kind {
	WD_LOGIN,		/* no --workdir: the login directory */
	WD_FRESH,		/* "...": one of its own per job */
	WD_GIVEN,		/* a directory, maybe with replacement strings */
	WD_HERE,		/* ".": where ccmap is */
};

/*
 * A host's absolute basefiles, or its relative ones in one working
 * directory (--workdir may differ from job to job).
 */
struct based {
	struct host *h;
	char *wd;		/* the relative ones': their directory; NULL:
				   the absolute ones */
	enum { BASE_NONE, BASE_BUSY, BASE_DONE } state;
	struct strbuf clean;	/* what they are on the host */
};

struct transfer {
	void (*warn)(void *data, const char *msg);
	void *data;
	struct template **tf, **ret;	/* --transferfile, --return */
	size_t ntf, nret;
	char **base;		/* --basefile (the strings are the caller's) */
	size_t nbase, nrel;	/* how many; how many are relative on the
				   host */
	enum wd_kind wd;
	struct template *wdt;	/* WD_GIVEN's */
	char *here_wd;		/* WD_HERE's */
	int cleanup;
	int rsync;		/* this end has rsync */
	char here[256];		/* WD_FRESH's names: this host-pid */
	pthread_mutex_t lock;	/* guards bases and their index */
	pthread_cond_t cond;	/* a host's basefiles were copied, or not */
	struct based *bases;
	size_t nbases;
	size_t *index;		/* a hash of bases by host and wd: 1 + their
				   place, or 0 */
	size_t nindex;		/* its size, a power of 2 (or 0) */
};

static int base_relative(const char *p);

static void
warn(struct transfer *tr, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!tr->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	tr->warn(tr->data, msg);
}

/* Is there an executable rsync in $PATH? */
static int
have_rsync(void)
{
	const char *path = getenv("PATH");
	struct strbuf sb = STRBUF_INIT;
	int found = 0;

	while (path && !found) {
		const char *end = strchrnul(path, ':');
		strbuf_reset(&sb);
		if (end == path)
			strbuf_addch(&sb, '.');
		else
			strbuf_add(&sb, path, (size_t)(end - path));
		strbuf_addstr(&sb, "/rsync");
		found = access(sb.buf, X_OK) == 0;
		path = *end ? end + 1 : NULL;
	}
	strbuf_release(&sb);
	return found;
}

static int
parse_list(struct template ***tp, size_t *np, char *const *texts, size_t n,
    const char *replace, char *err, size_t errlen)
{
	*tp = util_calloc(n + 1, sizeof **tp);
	for (size_t i = 0; i < n; i++) {
		int r = template_parse_text(&(*tp)[i], texts[i], replace, err,
		    errlen);
		if (r < 0)
			return r;
		(*np)++;
	}
	return 0;
}

/*
 * --workdir .: ccmap's current directory, relative to the home directory
 * when it is below it (the home may be elsewhere on the host).
 */
static int
wd_here(struct transfer *tr, char *err, size_t errlen)
{
	char *cwd = getcwd(NULL, 0);
	const char *home = getenv("HOME");
	size_t hl = home ? strlen(home) : 0;

	if (!cwd) {
		snprintf(err, errlen, "--workdir .: cannot tell the current "
		    "directory: %s", strerror(errno));
		return CCMAP_EUSAGE;
	}
	if (hl > 1 && !strncmp(cwd, home, hl) && cwd[hl] == '/')
		tr->here_wd = util_strdup(cwd + hl + 1);
	else if (hl && !strcmp(cwd, home))
		tr->here_wd = util_strdup("");
	else
		tr->here_wd = util_strdup(cwd);
	free(cwd);
	return 0;
}

int
transfer_new(struct transfer **tp, const struct ccmap_opts *o,
    void (*warn_fn)(void *arg, const char *msg), void *arg, char *err,
    size_t errlen)
{
	struct transfer *tr;
	int r;

	*tp = NULL;
	if (!o->ntransferfiles && !o->transfer && !o->nreturnfiles &&
	    !o->nbasefiles && !o->workdir)
		return 0;
	tr = util_calloc(1, sizeof *tr);
	tr->warn = warn_fn;
	tr->data = arg;
	tr->base = util_calloc(o->nbasefiles + 1, sizeof *tr->base);
	if (o->nbasefiles)
		memcpy(tr->base, o->basefiles, o->nbasefiles *
		    sizeof *tr->base);
	tr->nbase = o->nbasefiles;
	for (size_t i = 0; i < tr->nbase; i++)
		tr->nrel += base_relative(tr->base[i]);
	tr->cleanup = o->cleanup;
	tr->rsync = have_rsync();
	pthread_mutex_init(&tr->lock, NULL);
	pthread_cond_init(&tr->cond, NULL);
	gethostname(tr->here, sizeof tr->here - 32);
	tr->here[sizeof tr->here - 33] = '\0';
	snprintf(tr->here + strlen(tr->here), 32, "-%ld", (long)getpid());
	if ((r = parse_list(&tr->tf, &tr->ntf, o->transferfiles,
	    o->ntransferfiles, o->replace, err, errlen)) < 0 ||
	    (o->transfer && (r = template_parse_text(&tr->tf[tr->ntf++],
	    o->replace ? o->replace : "{}", o->replace, err, errlen)) < 0) ||
	    (r = parse_list(&tr->ret, &tr->nret, o->returnfiles,
	    o->nreturnfiles, o->replace, err, errlen)) < 0)
		goto fail;
	if (!o->workdir) {
		tr->wd = WD_LOGIN;
	} else if (!strcmp(o->workdir, "...")) {
		tr->wd = WD_FRESH;
	} else if (!strcmp(o->workdir, ".")) {
		tr->wd = WD_HERE;
		if ((r = wd_here(tr, err, errlen)) < 0)
			goto fail;
	} else {
		tr->wd = WD_GIVEN;
		if ((r = template_parse_text(&tr->wdt, o->workdir, o->replace,
		    err, errlen)) < 0)
			goto fail;
	}
	*tp = tr;
	return 0;
fail:
	transfer_free(tr);
	return r;
}

void
transfer_free(struct transfer *tr)
{
	if (!tr)
		return;
	for (size_t i = 0; i < tr->ntf; i++)
		template_free(tr->tf[i]);
	for (size_t i = 0; i < tr->nret; i++)
		template_free(tr->ret[i]);
	free(tr->tf);
	free(tr->ret);
	template_free(tr->wdt);
	free(tr->here_wd);
	free(tr->base);
	for (size_t i = 0; i < tr->nbases; i++) {
		free(tr->bases[i].wd);
		strbuf_release(&tr->bases[i].clean);
	}
	free(tr->bases);
	free(tr->index);
	pthread_cond_destroy(&tr->cond);
	pthread_mutex_destroy(&tr->lock);
	free(tr);
}

/* --- paths ---------------------------------------------------------- */

/*
 * The part of a path that is made on the host, relative to the working
 * directory unless it is absolute: after its first "/./", else all of it,
 * without a leading "./".
 */
static const char *
rel_part(const char *p)
{
	const char *cut = strstr(p, "/./");

	if (cut)
		p = cut + 3;
	while (p[0] == '.' && p[1] == '/')
		for (p += 2; *p == '/'; p++)
			;
	return p;
}

/* Is a --basefile relative on the host (to the working directory)? */
static int
base_relative(const char *p)
{
	return *rel_part(p) != '/';
}

/* Where a path is on the host, as its shell reads it from its home. */
static void
remote_path(const char *wd, const char *p, struct strbuf *out)
{
	const char *rel = rel_part(p);

	strbuf_reset(out);
	if (*wd && *rel != '/') {
		strbuf_addstr(out, wd);
		strbuf_addch(out, '/');
	}
	strbuf_addstr(out, rel);
}

/*
 * The directories to try to remove after the files in clean (rmdir: the
 * empty ones go): those of each relative path up to the working
 * directory, and that one's own if it is relative; the deepest first.
 */
static void
add_parents(struct strbuf *script, const char *wd, const char *clean,
    size_t len)
{
	struct strbuf dirs = STRBUF_INIT;

	size_t wl = strlen(wd);

	for (const char *p = clean; p < clean + len; p += strlen(p) + 1) {
		const char *rel = wl ? p + wl + 1 : p;
		if (wl ? strncmp(p, wd, wl) || p[wl] != '/' : *p == '/')
			continue;	/* (an absolute path: not ours) */
		for (const char *s = p + strlen(p); s > rel; s--)
			if (*s == '/') {
				strbuf_addch(&dirs, ' ');
				shell_quote(&dirs, p, (size_t)(s - p));
			}
	}
	if (*wd != '/')
		for (const char *s = wd + strlen(wd); s > wd; s--)
			if (!*s || *s == '/') {
				strbuf_addch(&dirs, ' ');
				shell_quote(&dirs, wd, (size_t)(s - wd));
			}
	if (dirs.len) {
		strbuf_addstr(script, "rmdir --");
		strbuf_add(script, dirs.buf, dirs.len);
		strbuf_addstr(script, " 2>/dev/null;");
	}
	strbuf_release(&dirs);
}

/*
 * The first line of a copy's stderr (rsync's and cat's say the cause
 * first, rsync's last says only that it failed), or what its status says.
 */
static const char *
why_failed(struct strbuf *errs, const struct job_status *st, char *buf,
    size_t len)
{
	char name[16];
	size_t start = strspn(errs->buf ? errs->buf : "", "\r\n");

	if (start < errs->len) {
		char *p = errs->buf + start;
		p[strcspn(p, "\r\n")] = '\0';
		return p;
	}
	if (st->err)
		snprintf(buf, len, "%s", strerror(st->err));
	else if (st->sig)
		snprintf(buf, len, "killed by %s", signal_name(st->sig, name));
	else
		snprintf(buf, len, "exit status %d", st->code);
	return buf;
}

/* --- running a copy ------------------------------------------------- */

struct copy {
	struct xfer_job *xj;
	int out;		/* stdout goes here (-1: nowhere) */
	int werr;		/* writing it failed: errno */
	struct strbuf errs;	/* its stderr, the last of it */
};

static void
copy_data(void *arg, int stream, const char *buf, size_t len)
{
	struct copy *cp = arg;

	if (stream == 1) {
		int r;
		if (cp->out >= 0 && !cp->werr &&
		    (r = util_write_all(cp->out, buf, len)) < 0)
			cp->werr = -r;
		return;
	}
	if (cp->errs.len + len > ERRS_MAX) {
		size_t keep = len >= ERRS_MAX ? 0 : ERRS_MAX - len;
		if (keep > cp->errs.len)
			keep = cp->errs.len;
		memmove(cp->errs.buf, cp->errs.buf + cp->errs.len - keep, keep);
		cp->errs.len = keep;
		if (len > ERRS_MAX) {
			buf += len - ERRS_MAX;
			len = ERRS_MAX;
		}
	}
	strbuf_add(&cp->errs, buf, len);
}

static void
copy_started(void *arg, pid_t pid)
{
	struct copy *cp = arg;

	if (cp->xj->started)
		cp->xj->started(cp->xj->arg, pid);
}

/*
 * Run cb (finished) to its end, with stdin from in (-1: /dev/null),
 * stdout into out (-1: dropped), stderr into cp->errs.  0 if it
 * succeeded.
 */
static int
copy_run(struct xfer_job *xj, struct cmdbuf *cb, int in, int out,
    struct copy *cp, struct job_status *st)
{
	struct spawn_ctx ctx = *xj->sctx;
	struct spawn_io io = {
		.capture = 1, .data = copy_data, .started = copy_started,
		.arg = cp,
	};

	cp->xj = xj;
	cp->out = out;
	cp->werr = 0;
	strbuf_reset(&cp->errs);
	ctx.timeout_ns = 0;	/* (--timeout is the job's) */
	if (in >= 0)
		ctx.devnull = in;
	spawn_job(&ctx, cb, environ, &io, st);
	return job_failed(st) || cp->werr;
}

/* An ssh session over the slot's master running the remote command. */
static void
session_argv(struct xfer_job *xj, const char *cmd, struct cmdbuf *cb)
{
	hosts_client(xj->hs, xj->slot, cb);
	cmdbuf_add(cb, "--", 2);
	cmdbuf_add(cb, host_dest(xj->slot->h), strlen(host_dest(xj->slot->h)));
	cmdbuf_add(cb, cmd, strlen(cmd));
	cmdbuf_finish(cb);
}

/*
 * rsync's -e: the words of the ssh client, each quoted as rsync splits
 * them (in '' or "", which it honours; it knows no backslashes).
 */
static void
rsync_argv(struct xfer_job *xj, struct cmdbuf *cb, const char *path_cmd)
{
	struct strbuf e = STRBUF_INIT;

	hosts_client(xj->hs, xj->slot, cb);
	cmdbuf_finish(cb);
	for (size_t i = 0; i < cb->argc; i++) {
		const char *w = cb->argv[i];
		int q = w[strcspn(w, " \t'\"")] || !*w ?
		    (strchr(w, '\'') ? '"' : '\'') : 0;
		if (i)
			strbuf_addch(&e, ' ');
		if (q)
			strbuf_addch(&e, q);
		strbuf_addstr(&e, w);
		if (q)
			strbuf_addch(&e, q);
	}
	cmdbuf_reset(cb);
	cmdbuf_add(cb, "rsync", 5);
	cmdbuf_add(cb, "-rlDzR", 6);
	cmdbuf_add(cb, "-e", 2);
	cmdbuf_add(cb, e.buf, e.len);
	if (path_cmd) {
		cmdbuf_add(cb, "--rsync-path", 12);
		cmdbuf_add(cb, path_cmd, strlen(path_cmd));
	}
	cmdbuf_add(cb, "--", 2);
	strbuf_release(&e);
}

static int
use_rsync(struct transfer *tr, const struct xfer_job *xj)
{
	return tr->rsync && host_rsync(xj->slot->h);
}

/* The remote side's command, quoted: "PREFIX 'WORD' SUFFIX". */
static void
quoted(struct strbuf *sb, const char *prefix, const char *word,
    size_t len, const char *suffix)
{
	strbuf_addstr(sb, prefix);
	shell_quote(sb, word, len);
	strbuf_addstr(sb, suffix);
}

/*
 * Copy the local file p to where it goes on the host (remote, made
 * relative to wd): 0, or -1 with why in cp->errs (or in st).
 */
static int
copy_to(struct transfer *tr, struct xfer_job *xj, const char *wd,
    const char *p, const char *remote, struct copy *cp,
    struct job_status *st)
{
	struct cmdbuf cb;
	struct strbuf sb = STRBUF_INIT;
	struct stat sbuf;
	int fd = -1, r;

	*st = (struct job_status){ 0 };
	cmdbuf_init(&cb);
	if (stat(p, &sbuf) < 0) {
		/* (rsync would say so too, in more words.) */
		strbuf_reset(&cp->errs);
		strbuf_addstr(&cp->errs, strerror(errno));
		r = -1;
	} else if (use_rsync(tr, xj)) {
		const char *rel = rel_part(p);
		if (*wd)
			quoted(&sb, "mkdir -p -- ", wd, strlen(wd), " && rsync");
		rsync_argv(xj, &cb, *wd ? sb.buf : NULL);
		cmdbuf_add(&cb, p, strlen(p));
		strbuf_reset(&sb);
		strbuf_addstr(&sb, host_dest(xj->slot->h));
		strbuf_addch(&sb, ':');
		if (*rel == '/')
			strbuf_addch(&sb, '/');
		else
			strbuf_addstr(&sb, *wd ? wd : ".");
		strbuf_addch(&sb, '/');
		cmdbuf_add(&cb, sb.buf, sb.len);
		cmdbuf_finish(&cb);
		r = copy_run(xj, &cb, -1, -1, cp, st);
	} else if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0 ||
	    fstat(fd, &sbuf) < 0 || !S_ISREG(sbuf.st_mode)) {
		strbuf_reset(&cp->errs);
		strbuf_addstr(&cp->errs, fd < 0 || !S_ISDIR(sbuf.st_mode) ?
		    strerror(errno) : "a directory, which only rsync copies "
		    "(this end or the host has none)");
		r = -1;
	} else {
		const char *slash = strrchr(remote, '/');
		if (slash && slash > remote)
			quoted(&sb, "mkdir -p -- ", remote,
			    (size_t)(slash - remote), " && ");
		quoted(&sb, "cat >", remote, strlen(remote), "");
		strbuf_addf(&sb, " && chmod %o -- ",
		    (unsigned)sbuf.st_mode & 0777);
		shell_quote(&sb, remote, strlen(remote));
		session_argv(xj, sb.buf, &cb);
		r = copy_run(xj, &cb, fd, -1, cp, st);
	}
	if (fd >= 0)
		close(fd);
	cmdbuf_release(&cb);
	strbuf_release(&sb);
	return r ? -1 : 0;
}

/*
 * Copy remote (relative to wd on the host) back to the local path p: 0, or
 * -1 with why in cp->errs (or in st).
 */
static int
copy_back(struct transfer *tr, struct xfer_job *xj, const char *wd,
    const char *p, const char *remote, struct copy *cp,
    struct job_status *st)
{
	const char *rel = rel_part(p), *slash = strrchr(p, '/');
	struct cmdbuf cb;
	struct strbuf sb = STRBUF_INIT, dir = STRBUF_INIT;
	int r, fd;

	*st = (struct job_status){ 0 };
	/* Here, the directory it goes in. */
	if (slash)
		strbuf_add(&dir, p, slash > p ? (size_t)(slash - p) : 1);
	else
		strbuf_addch(&dir, '.');
	cmdbuf_init(&cb);
	if ((r = util_mkpath(dir.buf)) < 0) {
		strbuf_addf(&cp->errs, "cannot make '%s': %s", dir.buf,
		    strerror(-r));
		r = -1;
	} else if (use_rsync(tr, xj)) {
		if (*wd && *rel != '/')
			quoted(&sb, "cd -- ", wd, strlen(wd), " && rsync");
		rsync_argv(xj, &cb, sb.len ? sb.buf : NULL);
		strbuf_reset(&sb);
		strbuf_addf(&sb, "%s:%s%s", host_dest(xj->slot->h),
		    *rel == '/' ? "" : "./", rel);
		cmdbuf_add(&cb, sb.buf, sb.len);
		/* (-R: the part from the host goes below p's first part.) */
		strbuf_reset(&dir);
		strbuf_add(&dir, p, (size_t)(rel - p));
		strbuf_addstr(&dir, *rel == '/' ? "/" : dir.len ? "" : "./");
		cmdbuf_add(&cb, dir.buf, dir.len);
		cmdbuf_finish(&cb);
		r = copy_run(xj, &cb, -1, -1, cp, st);
	} else {
		/* Into a file of its own, renamed over p once complete. */
		struct strbuf tmp = STRBUF_INIT;
		struct stat sbuf;
		strbuf_addf(&tmp, "%s.ccmap-%ld-%llu", p, (long)getpid(),
		    xj->jv->seq);
		if ((fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0777)) < 0) {
			strbuf_addf(&cp->errs, "cannot make '%s': %s", tmp.buf,
			    strerror(errno));
			r = -1;
		} else {
			quoted(&sb, "cat -- ", remote, strlen(remote),
			    " || exit; [ -x ");
			shell_quote(&sb, remote, strlen(remote));
			strbuf_addf(&sb, " ] && exit %d; exit 0", CAT_EXEC);
			session_argv(xj, sb.buf, &cb);
			r = copy_run(xj, &cb, -1, fd, cp, st);
			if (st->code == CAT_EXEC && !st->sig && !st->err &&
			    !cp->werr) {
				st->code = 0;
				r = 0;
			} else if (!r && fstat(fd, &sbuf) == 0) {
				/* (Made 0777 less the umask: x off.) */
				fchmod(fd, sbuf.st_mode & 0666);
			}
			if (cp->werr)
				strbuf_addf(&cp->errs, "\ncannot write '%s': %s",
				    tmp.buf, strerror(cp->werr));
			if (close(fd) < 0 && !r) {
				strbuf_addf(&cp->errs, "\ncannot write '%s': "
				    "%s", tmp.buf, strerror(errno));
				r = -1;
			}
			if (!r && rename(tmp.buf, p) < 0) {
				strbuf_addf(&cp->errs, "\ncannot rename '%s': "
				    "%s", tmp.buf, strerror(errno));
				r = -1;
			}
			if (r)
				unlink(tmp.buf);
		}
		strbuf_release(&tmp);
	}
	cmdbuf_release(&cb);
	strbuf_release(&sb);
	strbuf_release(&dir);
	return r ? -1 : 0;
}

/*
 * Add to script the removal of the files in clean (len bytes of
 * NUL-terminated paths) and of the directories made for them, or of wd
 * if fresh.
 */
static void
clean_script(struct strbuf *script, const char *wd, int fresh,
    const char *clean, size_t len)
{
	if (fresh) {
		quoted(script, "rm -rf -- ", wd, strlen(wd), ";");
		strbuf_addstr(script, "rmdir .parallel/tmp .parallel "
		    "2>/dev/null;");
	} else if (len) {
		strbuf_addstr(script, "rm -f --");
		for (const char *p = clean; p < clean + len;
		    p += strlen(p) + 1) {
			strbuf_addch(script, ' ');
			shell_quote(script, p, strlen(p));
		}
		strbuf_addstr(script, " 2>/dev/null;");
		add_parents(script, wd, clean, len);
	}
}

/*
 * Run script (not empty) on the host, as a copy is run (st): 0, or -1 if
 * its session failed (ssh's 255), with why in cp->errs.
 */
static int
run_script(struct xfer_job *xj, struct strbuf *script, struct copy *cp,
    struct job_status *st)
{
	struct cmdbuf cb;

	strbuf_addstr(script, "exit 0");
	cmdbuf_init(&cb);
	session_argv(xj, script->buf, &cb);
	copy_run(xj, &cb, -1, -1, cp, st);
	cmdbuf_release(&cb);
	return !st->err && !st->sig && st->code == 255 ? -1 : 0;
}

/* Remove the files in clean (NUL-terminated paths), and wd if fresh. */
static void
clean_up(struct xfer_job *xj, const char *wd, int fresh,
    const struct strbuf *clean)
{
	struct strbuf script = STRBUF_INIT;
	struct copy cp = { 0 };
	struct job_status st;

	clean_script(&script, wd, fresh, clean->buf, clean->len);
	if (script.len)
		run_script(xj, &script, &cp, &st);
	strbuf_release(&cp.errs);
	strbuf_release(&script);
}

/* --- a job ---------------------------------------------------------- */

/*
 * A copy failed: the job's status says so.  ssh's own failure (255) stays
 * 255, for exec-ssh.c to run the job again on another host; anything else
 * is told, naming the file and the host.
 */
static void
copy_failed(struct transfer *tr, struct xfer_job *xj, const char *what,
    const char *p, struct copy *cp, const struct job_status *cst,
    struct job_status *st, const char *then)
{
	char buf[64];
	int lost = !cst->err && !cst->sig && cst->code == 255;

	*st = (struct job_status){ .start_ns = util_wall_ns() };
	if (cst->sig)
		st->sig = cst->sig;
	else
		st->code = cst->code && !cst->err ? cst->code : 1;
	if (!lost)
		warn(tr, "job %llu on %s: %s '%s': %s%s", xj->jv->seq,
		    host_name(xj->slot->h), what, p,
		    why_failed(&cp->errs, cst, buf, sizeof buf), then);
}

static size_t
based_hash(const struct host *h, const char *wd)
{
	uint64_t x = 14695981039346656037ULL ^ (uintptr_t)h;

	x *= 1099511628211ULL;
	for (const char *p = wd ? wd : ""; *p; p++) {
		x ^= (unsigned char)*p;
		x *= 1099511628211ULL;
	}
	return (size_t)(x ^ (x >> 32));
}

static int
based_is(const struct based *b, const struct host *h, const char *wd)
{
	return b->h == h && (b->wd && wd ? !strcmp(b->wd, wd) : b->wd == wd);
}

/* The index's slot for (h, wd): where it is, or the free one it would take. */
static size_t
index_slot(const struct transfer *tr, const struct host *h, const char *wd)
{
	size_t mask = tr->nindex - 1, i = based_hash(h, wd) & mask;

	while (tr->index[i] && !based_is(&tr->bases[tr->index[i] - 1], h, wd))
		i = (i + 1) & mask;
	return i;
}

/*
 * The basefiles of host h, in wd for the relative ones (NULL: the
 * absolute ones), made if new: their place in bases (which may move).
 * (Under the lock.)
 */
static size_t
based_find(struct transfer *tr, struct host *h, const char *wd)
{
	size_t i;

	if (2 * (tr->nbases + 1) > tr->nindex) {
		/* (At most half full.) */
		free(tr->index);
		tr->nindex = tr->nindex ? 2 * tr->nindex : 16;
		tr->index = util_calloc(tr->nindex, sizeof *tr->index);
		for (size_t k = 0; k < tr->nbases; k++)
			tr->index[index_slot(tr, tr->bases[k].h,
			    tr->bases[k].wd)] = k + 1;
	}
	i = index_slot(tr, h, wd);
	if (tr->index[i])
		return tr->index[i] - 1;
	tr->bases = util_realloc(tr->bases, (tr->nbases + 1) *
	    sizeof *tr->bases);
	tr->bases[tr->nbases] = (struct based){ .h = h,
	    .wd = wd ? util_strdup(wd) : NULL };
	tr->index[i] = ++tr->nbases;
	return tr->nbases - 1;
}

/*
 * The host's absolute basefiles (rel 0), or its relative ones in the
 * job's working directory (rel 1), copied by the first job there; -1 if
 * they fail.
 */
static int
base_group(struct transfer *tr, struct xfer_job *xj, int rel,
    struct copy *cp, struct job_status *st)
{
	struct based *b;
	struct strbuf remote = STRBUF_INIT, clean = STRBUF_INIT;
	struct job_status cst;
	int r = 0;

	pthread_mutex_lock(&tr->lock);
	size_t k = based_find(tr, xj->slot->h, rel ? xj->wd.buf : NULL);
	while (tr->bases[k].state == BASE_BUSY)
		pthread_cond_wait(&tr->cond, &tr->lock);
	if (tr->bases[k].state == BASE_DONE) {
		pthread_mutex_unlock(&tr->lock);
		return 0;
	}
	tr->bases[k].state = BASE_BUSY;
	pthread_mutex_unlock(&tr->lock);

	for (size_t i = 0; i < tr->nbase && r == 0; i++) {
		const char *p = tr->base[i];
		if (base_relative(p) != rel)
			continue;
		remote_path(xj->wd.buf, p, &remote);
		if ((r = copy_to(tr, xj, xj->wd.buf, p, remote.buf, cp,
		    &cst)) < 0)
			copy_failed(tr, xj, "--basefile", p, cp, &cst, st,
			    "; the job is not run");
		else
			strbuf_add(&clean, remote.buf, remote.len + 1);
	}

	pthread_mutex_lock(&tr->lock);
	b = &tr->bases[k];
	/* (Failed: the next job there tries again.) */
	b->state = r ? BASE_NONE : BASE_DONE;
	strbuf_reset(&b->clean);
	if (!r && clean.len) {
		strbuf_add(&b->clean, xj->wd.buf, xj->wd.len + 1);
		strbuf_add(&b->clean, clean.buf, clean.len);
	}
	pthread_cond_broadcast(&tr->cond);
	pthread_mutex_unlock(&tr->lock);
	strbuf_release(&remote);
	strbuf_release(&clean);
	return r;
}

/*
 * The basefiles the job needs: the host's absolute ones, and the relative
 * ones in its working directory (once each directory): 0, or -1.
 */
static int
basefiles(struct transfer *tr, struct xfer_job *xj, struct copy *cp,
    struct job_status *st)
{
	int r = 0;

	if (tr->nrel < tr->nbase)
		r = base_group(tr, xj, 0, cp, st);
	if (r == 0 && tr->nrel)
		r = base_group(tr, xj, 1, cp, st);
	return r;
}

static void
job_workdir(struct transfer *tr, struct xfer_job *xj)
{
	strbuf_reset(&xj->wd);
	strbuf_grow(&xj->wd, 64);	/* (never NULL) */
	if (tr->wd == WD_HERE) {
		strbuf_addstr(&xj->wd, tr->here_wd);
	} else if (tr->wd == WD_FRESH) {
		strbuf_addf(&xj->wd, ".parallel/tmp/%s-%llu", tr->here,
		    xj->jv->seq);
		xj->fresh = 1;
	} else if (tr->wd == WD_GIVEN) {
		template_text(tr->wdt, xj->jv, &xj->wd);
		/* (No trailing slashes: the paths are made as wd/rel.) */
		while (xj->wd.len > 1 && xj->wd.buf[xj->wd.len - 1] == '/')
			xj->wd.buf[--xj->wd.len] = '\0';
	}
}

/* The job's path of template t into p, and where it is on the host: 0 if
   it is empty (nothing to copy). */
static int
job_path(const struct template *t, const struct xfer_job *xj,
    struct strbuf *p, struct strbuf *remote)
{
	strbuf_reset(p);
	template_text(t, xj->jv, p);
	if (!p->len)
		return 0;
	remote_path(xj->wd.buf, p->buf, remote);
	return 1;
}

int
transfer_before(struct transfer *tr, struct xfer_job *xj,
    struct job_status *st)
{
	struct strbuf p = STRBUF_INIT, remote = STRBUF_INIT;
	struct copy cp = { 0 };
	struct job_status cst;
	int r = 0;

	strbuf_init(&xj->wd, 0);
	strbuf_init(&xj->clean, 0);
	xj->fresh = 0;
	if (!tr)
		return 0;
	job_workdir(tr, xj);
	if (tr->nbase)
		r = basefiles(tr, xj, &cp, st);
	for (size_t i = 0; i < tr->ntf && r == 0; i++) {
		if (!job_path(tr->tf[i], xj, &p, &remote))
			continue;
		if ((r = copy_to(tr, xj, xj->wd.buf, p.buf, remote.buf, &cp,
		    &cst)) < 0)
			copy_failed(tr, xj, "--transferfile", p.buf, &cp, &cst,
			    st, "; the job is not run");
		else if (tr->cleanup)
			strbuf_add(&xj->clean, remote.buf, remote.len + 1);
	}
	strbuf_release(&p);
	strbuf_release(&remote);
	strbuf_release(&cp.errs);
	return r;
}

const char *
transfer_workdir(const struct xfer_job *xj)
{
	return xj->wd.buf ? xj->wd.buf : "";
}

void
transfer_after(struct transfer *tr, struct xfer_job *xj,
    struct job_status *st)
{
	struct strbuf p = STRBUF_INIT, remote = STRBUF_INIT;
	struct copy cp = { 0 };
	struct job_status cst;

	for (size_t i = 0; tr && i < tr->nret; i++) {
		if (!job_path(tr->ret[i], xj, &p, &remote))
			continue;
		if (copy_back(tr, xj, xj->wd.buf, p.buf, remote.buf, &cp,
		    &cst) < 0) {
			struct job_status fst;
			copy_failed(tr, xj, "--return", p.buf, &cp, &cst, &fst,
			    job_failed(st) ? "" : "; the job fails");
			if (!job_failed(st)) {
				st->code = fst.code;
				st->sig = fst.sig;
			}
		}
		if (tr->cleanup)
			strbuf_add(&xj->clean, remote.buf, remote.len + 1);
	}
	if (tr && tr->cleanup)
		clean_up(xj, xj->wd.buf, xj->fresh, &xj->clean);
	strbuf_release(&p);
	strbuf_release(&remote);
	strbuf_release(&cp.errs);
	transfer_job_release(xj);
}

void
transfer_not_run(struct transfer *tr, struct xfer_job *xj)
{
	if (tr && tr->cleanup)
		clean_up(xj, xj->wd.buf, xj->fresh, &xj->clean);
	transfer_job_release(xj);
}

void
transfer_job_release(struct xfer_job *xj)
{
	strbuf_release(&xj->wd);
	strbuf_release(&xj->clean);
}

/*
 * At the end, run script (then reset it) on host h over a slot of its
 * own, as a job would take one: not on a host dropped meanwhile, and
 * once more if the session failed (its master may have ended since the
 * last job: it is then started again).
 */
static void
end_run(struct hosts *hs, const struct host *h,
    const struct spawn_ctx *sctx, struct strbuf *script)
{
	struct jobvals jv = { 0 };
	struct copy cp = { 0 };
	struct hostslot slot;
	struct xfer_job xj = { .hs = hs, .slot = &slot, .jv = &jv,
	    .sctx = sctx };
	size_t len = script->len;
	char buf[64];

	for (int tries = 0; tries < 2; tries++) {
		struct job_status st;
		int r;
		if (hosts_take_on(hs, h, &slot) < 0)
			break;
		script->len = len;	/* (without the last try's "exit 0") */
		script->buf[len] = '\0';
		r = run_script(&xj, script, &cp, &st);
		hosts_give(hs, &slot, r == 0, r ? why_failed(&cp.errs, &st,
		    buf, sizeof buf) : NULL);
		if (r == 0)
			break;
	}
	strbuf_reset(script);
	strbuf_release(&cp.errs);
}

/* (A script at the end is run once this long: a command line's bound.) */
#define END_SCRIPT_MAX (64 * 1024)

void
transfer_end(struct transfer *tr, struct hosts *hs,
    const struct spawn_ctx *sctx)
{
	struct strbuf script = STRBUF_INIT;

	if (!tr || !tr->cleanup)
		return;
	/* The hosts in use, each's basefiles in a script or a few. */
	for (const struct host *h = hosts_next(hs, NULL); h;
	    h = hosts_next(hs, h)) {
		for (size_t i = 0; i < tr->nbases; i++) {
			const struct based *b = &tr->bases[i];
			size_t wl;
			if (b->h != h || b->state != BASE_DONE ||
			    !b->clean.len)
				continue;
			/* (clean: the working directory, then the files.) */
			wl = strlen(b->clean.buf) + 1;
			clean_script(&script, b->clean.buf, 0,
			    b->clean.buf + wl, b->clean.len - wl);
			if (script.len >= END_SCRIPT_MAX)
				end_run(hs, h, sctx, &script);
		}
		if (script.len)
			end_run(hs, h, sctx, &script);
	}
	strbuf_release(&script);
}
