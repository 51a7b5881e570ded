/*
 * gzip: compresses each item, a file path, to PATH.gz in gzip format, in
 * process with zlib, like `gzip -k`: the original is kept, an existing
 * PATH.gz is refused unless -f is given, the result gets the original's
 * mode bits and times.  Prints nothing on success.
 *
 *	ccmap --so gzip [-f] [-1 ... -9] ::: FILE...	(level 6 by default)
 *
 * PATH.gz is written as an unnamed file in its directory (O_TMPFILE) and
 * named only once it is whole (linkat): nobody sees half a .gz, an item
 * that fails leaves nothing behind, and the directory is locked only to
 * add the name, not while the file system finds an inode (the long part
 * of making a small file, which two workers in one directory would
 * otherwise take in turns).  An existing PATH.gz is refused unless -f is
 * given; then it is removed just before the new one is named (as gzip
 * does, not atomically: killed in between, neither is left).  Where there
 * is no O_TMPFILE, or no /proc/self/fd to name the file through, PATH.gz
 * is created with O_EXCL, as gzip does, and removed if the item fails.
 */
#include <ccmap/plugin.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define GZ_BUFSIZE (128 * 1024)

struct gz_state {
	int level;
	int force;
};

struct gz_worker {
	const struct gz_state *st;
	bool unnamed;		/* O_TMPFILE and linkat through /proc */
	z_stream z;		/* set up once, reset for each file */
	unsigned char in[GZ_BUFSIZE];
	unsigned char out[GZ_BUFSIZE];
};

static int
gz_init(const struct ccmap_host *host, int argc, char *const argv[],
    void **state, char *err, size_t errlen)
{
	struct gz_state *st;
	const char *p;
	int i;

	(void)host;
	st = malloc(sizeof *st);
	if (st == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	st->level = 6;
	st->force = 0;
	for (i = 0; i < argc; i++) {
		p = argv[i];
		if (p[0] != '-' || p[1] == '\0')
			goto bad;
		for (p++; *p != '\0'; p++) {
			if (*p == 'f')
				st->force = 1;
			else if (*p >= '1' && *p <= '9')
				st->level = *p - '0';
			else
				goto bad;
		}
	}
	*state = st;
	return 0;
bad:
	snprintf(err, errlen, "unknown argument '%s' (use -1 ... -9, -f)",
	    argv[i]);
	free(st);
	return -1;
}

static void
gz_fini(const struct ccmap_host *host, void *state)
{
	(void)host;
	free(state);
}

/* Does /proc/self/fd/N lead to file N, as give_name() needs? */
static bool
fd_links_work(void)
{
	char proc[64];
	struct stat a, b;
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	ok = stat(proc, &a) == 0 && fstat(fd, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	close(fd);
	return ok;
}

static int
gz_worker_init(const struct ccmap_host *host, void *state, void **wstate,
    char *err, size_t errlen)
{
	struct gz_worker *w;
	int rc;

	(void)host;
	w = malloc(sizeof *w);
	if (w == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	w->st = state;
	w->unnamed = fd_links_work();
	memset(&w->z, 0, sizeof w->z);
	rc = deflateInit2(&w->z, w->st->level, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY);
	if (rc != Z_OK) {
		snprintf(err, errlen, "zlib: %s", zError(rc));
		free(w);
		return -1;
	}
	*wstate = w;
	return 0;
}

static void
gz_worker_fini(const struct ccmap_host *host, void *wstate)
{
	struct gz_worker *w = wstate;

	(void)host;
	deflateEnd(&w->z);
	free(w);
}

static int
write_all(int fd, const unsigned char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Compress in to out.  0, or -1 with a message in err (errno-based when
 * errno is set).
 */
static int
gz_compress(const struct ccmap_host *host, struct ccmap_call *call,
    struct gz_worker *w, int in, int out, const char *base,
    const struct stat *sb, char *err, size_t errlen)
{
	z_stream *zp = &w->z;
	gz_header h;
	ssize_t n;
	int flush, rc, ret = -1;

	/* The stream is the worker's: reset, not set up anew per file. */
	rc = deflateReset(zp);
	if (rc != Z_OK) {
		snprintf(err, errlen, "zlib: %s", zError(rc));
		return -1;
	}
	/* Like gzip: record the name and the modification time. */
	memset(&h, 0, sizeof h);
	h.name = (Bytef *)(void *)(uintptr_t)base;
	h.time = (uLong)sb->st_mtime;
	h.os = 3;	/* Unix */
	deflateSetHeader(zp, &h);

	do {
		if (host->expired(call)) {
			snprintf(err, errlen, "timed out");
			goto out;
		}
		n = read(in, w->in, sizeof w->in);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "read: %s", strerror(errno));
			goto out;
		}
		flush = n == 0 ? Z_FINISH : Z_NO_FLUSH;
		zp->next_in = w->in;
		zp->avail_in = (uInt)n;
		do {
			zp->next_out = w->out;
			zp->avail_out = sizeof w->out;
			rc = deflate(zp, flush);
			if (rc == Z_STREAM_ERROR) {
				snprintf(err, errlen, "zlib: %s",
				    zp->msg ? zp->msg : zError(rc));
				goto out;
			}
			if (write_all(out, w->out,
			    sizeof w->out - zp->avail_out) != 0) {
				snprintf(err, errlen, "write: %s",
				    strerror(errno));
				goto out;
			}
		} while (zp->avail_out == 0);
	} while (flush != Z_FINISH);
	ret = rc == Z_STREAM_END ? 0 : -1;
	if (ret != 0)
		snprintf(err, errlen, "zlib: stream did not end");
out:
	return ret;
}

/*
 * An unnamed file for writing in the directory of path (its first dirlen
 * bytes, the slash included; none: the current directory), or -1 with
 * errno set.  path is ours: cut there for the while.
 */
static int
open_unnamed(char *path, size_t dirlen)
{
#ifdef O_TMPFILE
	char saved = path[dirlen];
	int fd;

	if (dirlen == 0)
		return open(".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	path[dirlen] = '\0';
	fd = open(path, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	path[dirlen] = saved;
	return fd;
#else
	(void)path;
	(void)dirlen;
	errno = EOPNOTSUPP;
	return -1;
#endif
}

/* Without an unnamed file: dst made anew, as gzip does it. */
static int
create_named(const char *dst, int force)
{
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY;
	int fd = open(dst, flags, 0600);

	if (fd < 0 && errno == EEXIST && force && unlink(dst) == 0)
		fd = open(dst, flags, 0600);
	return fd;
}

/*
 * Name the unnamed file fd dst; with force, in place of what has the name
 * (another writer may take the name again in between: a few tries).
 * Through /proc, as linkat(fd, "", ..., AT_EMPTY_PATH) needs a privilege.
 */
static int
give_name(int fd, const char *dst, int force)
{
	char proc[64];
	int r, tries = 0;

	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	r = linkat(AT_FDCWD, proc, AT_FDCWD, dst, AT_SYMLINK_FOLLOW);
	while (r != 0 && errno == EEXIST && force && tries++ < 8) {
		if (unlink(dst) != 0 && errno != ENOENT)
			return -1;
		r = linkat(AT_FDCWD, proc, AT_FDCWD, dst, AT_SYMLINK_FOLLOW);
	}
	return r;
}

/* What stopped the .gz being made, from errno. */
static void
dst_error(const struct ccmap_host *host, struct ccmap_call *call,
    const char *dst, int force)
{
	if (errno == EEXIST && !force)
		host->error(call, "gzip: %s: already exists (use -f to "
		    "overwrite)", dst);
	else
		host->error(call, "gzip: %s: %s", dst, strerror(errno));
}

static int
gz_map(const struct ccmap_host *host, struct ccmap_call *call, void *wstate,
    const char *item, size_t len)
{
	struct gz_worker *w = wstate;
	struct timespec times[2];
	struct stat sb, dsb;
	char *path = NULL, *dst = NULL, err[256];
	const char *base;
	int in = -1, out = -1, ret = 1;
	bool named = false;	/* dst is ours: remove it if the item fails */

	if (w == NULL) {
		host->error(call, "gzip: no worker state");
		return 1;
	}
	if (len == 0 || memchr(item, '\0', len) != NULL) {
		host->error(call, "gzip: '%.*s': not a file name", (int)len,
		    item);
		return 1;
	}
	path = malloc(len + 1);
	dst = malloc(len + sizeof ".gz");
	if (path == NULL || dst == NULL) {
		host->error(call, "gzip: %s", strerror(errno));
		goto done;
	}
	memcpy(path, item, len);
	path[len] = '\0';
	snprintf(dst, len + sizeof ".gz", "%s.gz", path);
	base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;

	if (len > 3 && strcmp(path + len - 3, ".gz") == 0) {
		host->error(call, "gzip: %s: already has the .gz suffix", path);
		goto done;
	}
	in = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (in < 0) {
		host->error(call, "gzip: %s: %s", path, strerror(errno));
		goto done;
	}
	if (fstat(in, &sb) != 0) {
		host->error(call, "gzip: %s: %s", path, strerror(errno));
		goto done;
	}
	if (!S_ISREG(sb.st_mode)) {
		host->error(call, "gzip: %s: not a regular file", path);
		goto done;
	}
	/* Refused before the work, as gzip does (linkat decides). */
	if (lstat(dst, &dsb) == 0 ? (errno = EEXIST, !w->st->force) :
	    errno != ENOENT) {
		dst_error(host, call, dst, w->st->force);
		goto done;
	}
	if (w->unnamed)
		out = open_unnamed(path, (size_t)(base - path));
	if (out < 0 && (out = create_named(dst, w->st->force)) >= 0)
		named = true;
	if (out < 0) {
		dst_error(host, call, dst, w->st->force);
		goto done;
	}
	if (gz_compress(host, call, w, in, out, base, &sb, err,
	    sizeof err) != 0) {
		host->error(call, "gzip: %s: %s", path, err);
		goto unlink;
	}
	/* Like gzip: the original's mode bits and times. */
	if (fchmod(out, sb.st_mode & 07777) != 0) {
		host->error(call, "gzip: %s: chmod: %s", dst, strerror(errno));
		goto unlink;
	}
	times[0] = sb.st_atim;
	times[1] = sb.st_mtim;
	(void)futimens(out, times);
	if (!named) {
		if (give_name(out, dst, w->st->force) != 0) {
			dst_error(host, call, dst, w->st->force);
			goto done;	/* the unnamed file goes with out */
		}
		named = true;
	}
	if (close(out) != 0) {
		out = -1;
		host->error(call, "gzip: %s: %s", dst, strerror(errno));
		goto unlink;
	}
	out = -1;
	ret = 0;
	goto done;
unlink:
	if (named)
		(void)unlink(dst);
done:
	if (out >= 0)
		(void)close(out);
	if (in >= 0)
		(void)close(in);
	free(dst);
	free(path);
	return ret;
}

const struct ccmap_plugin ccmap_plugin = {
	.abi = CCMAP_PLUGIN_ABI,
	.flags = CCMAP_PLUGIN_THREADSAFE,
	.name = "gzip",
	.init = gz_init,
	.worker_init = gz_worker_init,
	.map = gz_map,
	.worker_fini = gz_worker_fini,
	.fini = gz_fini,
};
