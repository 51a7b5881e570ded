/*
 * joblog.c: writing the joblog, and reading it back (see joblog.h).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "joblog.h"

struct joblog {
	char *path;		/* without a leading '+' */
	int fd;			/* -1 for stdout */
	int header;		/* the header is still to be written to stdout */
	unsigned long long *done;	/* jobs not to run again, sorted */
	size_t ndone, cap, next;	/* next: where joblog_skip looks */
};

void
joblog_format(struct strbuf *out, const struct joblog_entry *e)
{
	char num[160];
	int n;

	/* GNU parallel truncates the run time to milliseconds. */
	n = snprintf(num, sizeof num, "%llu\t%s\t%.3f\t%10.3f\t%llu\t%llu\t%d\t%d\t",
	    e->seq, e->host, (double)e->start_ns / 1e9,
	    (double)(e->run_ns / 1000000) / 1e3, e->send, e->receive,
	    e->exitval, e->sig);
	strbuf_add(out, num, (size_t)n);
	for (size_t i = 0; i < e->cmdlen; i++)
		strbuf_addch(out, e->cmd[i] == '\n' ? '\0' : e->cmd[i]);
	strbuf_addch(out, '\n');
}

/* The tab-ended field at *p: its length, or -1 when no tab ends it. */
static long
field(const char **p, const char *end, const char **start)
{
	const char *tab = memchr(*p, '\t', (size_t)(end - *p));

	if (!tab)
		return -1;
	*start = *p;
	*p = tab + 1;
	return tab - *start;
}

static int
is_word(const char *f, long len, const char *word)
{
	return len == (long)strlen(word) && memcmp(f, word, (size_t)len) == 0;
}

int
joblog_parse_line(const char *line, size_t len, enum ccmap_resume mode,
    unsigned long long *seq, int *succeeded)
{
	const char *p = line, *end = line + len, *f[8];
	long flen[8];
	unsigned long long v = 0;

	*succeeded = 0;
	while (p < end && *p >= '0' && *p <= '9')
		v = v * 10 + (unsigned long long)(*p++ - '0');
	if (p == line)
		return 0;
	*seq = v;
	if (mode == CCMAP_RESUME_ALL)
		return 1;	/* as GNU parallel: the job number is enough */
	/*
	 * --resume-failed: eight tab-ended fields before the command.  A job
	 * succeeded when Exitval and Signal are both 0; else the line must
	 * have a host and six numbers (the run time padded with spaces).
	 */
	p = line;
	for (int i = 0; i < 8; i++)
		if ((flen[i] = field(&p, end, &f[i])) < 0)
			return 0;
	if (is_word(f[6], flen[6], "0") && is_word(f[7], flen[7], "0")) {
		for (int i = 1; i < 6; i++)
			if (flen[i] == 0)
				return 0;
		*succeeded = 1;
		return 1;
	}
	if (flen[1] == 0 || memchr(f[1], ' ', (size_t)flen[1]))
		return 0;
	for (int i = 2; i < 8; i++) {
		long k = 0;
		while (k < flen[i] && f[i][k] == ' ')
			k++;
		if (k == flen[i] || strspn(f[i] + k, "-0123456789.") <
		    (size_t)(flen[i] - k))
			return 0;
	}
	return 1;
}

static int
cmp_seq(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a;
	unsigned long long y = *(const unsigned long long *)b;

	return x < y ? -1 : x > y;
}

static void
mark_done(struct joblog *jl, unsigned long long seq)
{
	if (jl->ndone == jl->cap) {
		jl->cap = jl->cap ? 2 * jl->cap : 64;
		jl->done = util_realloc(jl->done, jl->cap * sizeof *jl->done);
	}
	jl->done[jl->ndone++] = seq;
}

/*
 * Read the joblog for resume: 1 if it has a first line (so it is appended
 * to), 0 if it is missing or empty, or CCMAP_EUSAGE for a line that is not
 * in the format.  The first line is taken for the header, unread.
 */
static int
read_log(struct joblog *jl, enum ccmap_resume resume, char *err,
    size_t errlen)
{
	FILE *f = fopen(jl->path, "re");
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	int r = 0;

	if (!f)
		return 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		unsigned long long seq;
		int ok;
		size_t len = (size_t)n - (line[n - 1] == '\n');

		if (++lineno == 1) {
			r = 1;
			continue;
		}
		if (!joblog_parse_line(line, len, resume, &seq, &ok)) {
			snprintf(err, errlen, "--joblog: line %zu of '%s' is not "
			    "a joblog line: '%.*s'", lineno, jl->path,
			    (int)(len > 60 ? 60 : len), line);
			r = CCMAP_EUSAGE;
			break;
		}
		if (resume == CCMAP_RESUME_ALL || ok)
			mark_done(jl, seq);
	}
	free(line);
	fclose(f);
	if (jl->ndone)
		qsort(jl->done, jl->ndone, sizeof *jl->done, cmp_seq);
	return r;
}

int
joblog_open(struct joblog **jlp, const char *path, enum ccmap_resume resume,
    char *err, size_t errlen)
{
	struct joblog *jl = util_calloc(1, sizeof *jl);
	int append = path[0] == '+', r;

	jl->path = util_strdup(path + append);
	jl->fd = -1;
	if (strcmp(jl->path, "-") == 0) {
		jl->header = 1;
		*jlp = jl;
		return 0;
	}
	if (resume && (r = read_log(jl, resume, err, errlen)) != 0) {
		if (r < 0) {
			joblog_close(jl);
			return r;
		}
		append = 1;
	}
	jl->fd = open(jl->path, O_WRONLY | O_CREAT | O_CLOEXEC |
	    (append ? O_APPEND : O_TRUNC), 0666);
	if (jl->fd < 0) {
		r = -errno;
		snprintf(err, errlen, "--joblog: cannot write '%s': %s",
		    jl->path, strerror(errno));
		joblog_close(jl);
		return r;
	}
	if (!append && (r = joblog_write(jl, JOBLOG_HEADER,
	    strlen(JOBLOG_HEADER))) < 0) {
		snprintf(err, errlen, "--joblog: cannot write '%s': %s",
		    jl->path, strerror(-r));
		joblog_close(jl);
		return r;
	}
	*jlp = jl;
	return 0;
}

void
joblog_close(struct joblog *jl)
{
	if (!jl)
		return;
	if (jl->fd >= 0)
		close(jl->fd);
	free(jl->done);
	free(jl->path);
	free(jl);
}

int
joblog_skip(struct joblog *jl, unsigned long long seq)
{
	while (jl->next < jl->ndone && jl->done[jl->next] < seq)
		jl->next++;
	return jl->next < jl->ndone && jl->done[jl->next] == seq;
}

int
joblog_to_stdout(const struct joblog *jl)
{
	return jl->fd < 0;
}

int
joblog_wants_header(const struct joblog *jl)
{
	return jl->header;
}

int
joblog_write(struct joblog *jl, const char *line, size_t len)
{
	return util_write_all(jl->fd, line, len);
}

const char *
joblog_name(const struct joblog *jl)
{
	return jl->path;
}
