/*
 * grep: counts the lines of each file that match a PCRE2 pattern and
 * prints "PATH:COUNT", as `grep -c PATTERN FILE...` does with several files.
 *
 *	ccmap --so grep PATTERN ::: FILE...
 *
 * The pattern, the one PLUGIN-ARG, is compiled once in init (and
 * JIT-compiled when PCRE2 can); the compiled code is shared read-only, and
 * each worker has its own match data and line buffer.  A line is matched
 * without its newline; a last line without one counts too.
 */
#include <ccmap/plugin.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#define GREP_BUFSIZE (128 * 1024)

struct grep_worker {
	const pcre2_code *code;
	pcre2_match_data *md;
	char *buf;
	size_t size;
};

static int
grep_init(const struct ccmap_host *host, int argc, char *const argv[],
    void **state, char *err, size_t errlen)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	pcre2_code *code;
	int rc;

	(void)host;
	if (argc < 1) {
		snprintf(err, errlen, "a pattern is needed: "
		    "--so grep PATTERN");
		return -1;
	}
	if (argc > 1) {
		snprintf(err, errlen, "one pattern only, got %d "
		    "arguments (put items after :::)", argc);
		return -1;
	}
	code = pcre2_compile((PCRE2_SPTR)argv[0], PCRE2_ZERO_TERMINATED, 0,
	    &rc, &off, NULL);
	if (code == NULL) {
		if (pcre2_get_error_message(rc, msg, sizeof msg) < 0)
			snprintf((char *)msg, sizeof msg, "error %d", rc);
		snprintf(err, errlen, "bad pattern '%s': %s at offset %zu",
		    argv[0], (char *)msg, (size_t)off);
		return -1;
	}
	/* Without JIT (not built in, or no executable memory) it interprets. */
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	*state = code;
	return 0;
}

static void
grep_fini(const struct ccmap_host *host, void *state)
{
	(void)host;
	pcre2_code_free(state);
}

static int
grep_worker_init(const struct ccmap_host *host, void *state, void **wstate,
    char *err, size_t errlen)
{
	struct grep_worker *w;

	(void)host;
	w = calloc(1, sizeof *w);
	if (w == NULL)
		goto nomem;
	w->code = state;
	w->md = pcre2_match_data_create_from_pattern(w->code, NULL);
	w->size = GREP_BUFSIZE;
	w->buf = malloc(w->size);
	if (w->md == NULL || w->buf == NULL) {
		pcre2_match_data_free(w->md);
		free(w->buf);
		free(w);
		goto nomem;
	}
	*wstate = w;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static void
grep_worker_fini(const struct ccmap_host *host, void *wstate)
{
	struct grep_worker *w = wstate;

	(void)host;
	if (w == NULL)
		return;
	pcre2_match_data_free(w->md);
	free(w->buf);
	free(w);
}

/* 1 when the line matches, 0 when not, -1 on a match error (in *rcp). */
static int
grep_line(struct grep_worker *w, const char *s, size_t len, int *rcp)
{
	int rc;

	rc = pcre2_match(w->code, (PCRE2_SPTR)s, len, 0, 0, w->md, NULL);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	*rcp = rc;
	return -1;
}

static int
grep_map(const struct ccmap_host *host, struct ccmap_call *call,
    void *wstate, const char *item, size_t len)
{
	struct grep_worker *w = wstate;
	PCRE2_UCHAR msg[256];
	unsigned long long count = 0;
	size_t have = 0, start, nl;
	char *path, *p, *nbuf;
	ssize_t n;
	int fd, m, rc = 0, ret = 1;

	if (w == NULL) {
		host->error(call, "grep: no worker state");
		return 1;
	}
	if (len == 0 || memchr(item, '\0', len) != NULL) {
		host->error(call, "grep: '%.*s': not a file name", (int)len,
		    item);
		return 1;
	}
	path = malloc(len + 1);
	if (path == NULL) {
		host->error(call, "grep: %s", strerror(errno));
		return 1;
	}
	memcpy(path, item, len);
	path[len] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		host->error(call, "grep: %s: %s", path, strerror(errno));
		goto done;
	}

	/* buf[0, have) holds the start of a line not yet complete. */
	for (;;) {
		if (host->expired(call)) {
			host->error(call, "grep: %s: timed out", path);
			goto done;
		}
		if (have == w->size) {	/* a line longer than the buffer */
			nbuf = realloc(w->buf, w->size * 2);
			if (nbuf == NULL) {
				host->error(call, "grep: %s: %s", path,
				    strerror(errno));
				goto done;
			}
			w->buf = nbuf;
			w->size *= 2;
		}
		n = read(fd, w->buf + have, w->size - have);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			host->error(call, "grep: %s: %s", path,
			    strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		start = 0;
		nl = have;	/* the bytes before have hold no newline */
		have += (size_t)n;
		while ((p = memchr(w->buf + nl, '\n', have - nl)) != NULL) {
			nl = (size_t)(p - w->buf);
			m = grep_line(w, w->buf + start, nl - start, &rc);
			if (m < 0)
				goto matcherr;
			count += (unsigned)m;
			start = ++nl;
		}
		if (start > 0) {
			memmove(w->buf, w->buf + start, have - start);
			have -= start;
		}
	}
	if (have > 0) {		/* the last line, without a newline */
		m = grep_line(w, w->buf, have, &rc);
		if (m < 0)
			goto matcherr;
		count += (unsigned)m;
	}
	if (host->printf(call, 1, "%s:%llu\n", path, count) != 0) {
		host->error(call, "grep: cannot write the output");
		goto done;
	}
	ret = 0;
	goto done;
matcherr:
	if (pcre2_get_error_message(rc, msg, sizeof msg) < 0)
		snprintf((char *)msg, sizeof msg, "error %d", rc);
	host->error(call, "grep: %s: match failed: %s", path, (char *)msg);
done:
	if (fd >= 0)
		(void)close(fd);
	free(path);
	return ret;
}

const struct ccmap_plugin ccmap_plugin = {
	.abi = CCMAP_PLUGIN_ABI,
	.flags = CCMAP_PLUGIN_THREADSAFE,
	.name = "grep",
	.init = grep_init,
	.worker_init = grep_worker_init,
	.map = grep_map,
	.worker_fini = grep_worker_fini,
	.fini = grep_fini,
};
