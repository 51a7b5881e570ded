/*
 * spill.c: the spill file of held-back output (see spill.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include "spill.h"
#include "util.h"

struct spill {
	char *tmpdir;
	pthread_mutex_t lock;		/* guards the three below */
	int fd;				/* -1 until needed */
	off_t end;
	int broken;			/* could not make or write it */
	atomic_size_t size;
};

struct spill *
spill_new(const char *tmpdir)
{
	struct spill *sp = util_calloc(1, sizeof *sp);
	const char *dir = tmpdir ? tmpdir : getenv("TMPDIR");

	sp->tmpdir = util_strdup(dir && *dir ? dir : "/tmp");
	sp->fd = -1;
	pthread_mutex_init(&sp->lock, NULL);
	return sp;
}

void
spill_free(struct spill *sp)
{
	if (!sp)
		return;
	if (sp->fd >= 0)
		close(sp->fd);
	pthread_mutex_destroy(&sp->lock);
	free(sp->tmpdir);
	free(sp);
}

/*
 * The spill file: made in the temporary directory and unlinked at once
 * (O_TMPFILE where the file system has it), so it disappears with us.
 * Called with lock held.
 */
static int
spill_open(struct spill *sp)
{
	int fd;

	if (sp->fd >= 0 || sp->broken)
		return sp->fd;
	fd = util_tmpfile(sp->tmpdir, "ccmap");
	if (fd < 0) {
		sp->broken = 1;
		fd = -1;
	}
	sp->fd = fd;
	return fd;
}

int
spill_append(struct spill *sp, const char *a, size_t alen, const char *b,
    size_t blen, off_t *offp)
{
	struct iovec iov[2] = {
		{ (void *)a, alen }, { (void *)b, blen },
	};
	size_t len = alen + blen, done = 0;
	off_t off;
	int r = -1;

	pthread_mutex_lock(&sp->lock);
	if (spill_open(sp) < 0)
		goto out;
	off = sp->end;
	while (done < len) {
		ssize_t w = pwritev(sp->fd, iov, 2, off + (off_t)done);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto out;	/* disk full: keep it in memory */
		}
		done += (size_t)w;
		for (int i = 0; i < 2; i++) {
			size_t k = (size_t)w < iov[i].iov_len ? (size_t)w :
			    iov[i].iov_len;
			iov[i].iov_base = (char *)iov[i].iov_base + k;
			iov[i].iov_len -= k;
			w -= (ssize_t)k;
		}
	}
	sp->end += (off_t)len;
	*offp = off;
	r = 0;
out:
	pthread_mutex_unlock(&sp->lock);
	if (r == 0)
		atomic_fetch_add(&sp->size, len);
	return r;
}

ssize_t
spill_read(const struct spill *sp, char *buf, size_t len, off_t off)
{
	return pread(sp->fd, buf, len, off);
}

size_t
spill_size(const struct spill *sp)
{
	return atomic_load(&sp->size);
}
