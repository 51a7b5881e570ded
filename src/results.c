/*
 * results.c: each job's output in files under --results (see results.h).
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ccmap.h"
#include "util.h"
#include "json.h"
#include "results.h"
#include "template.h"

struct results {
	enum results_kind kind;
	char *spec;
	struct template *tmpl;	/* spec as a template for each job's path */
	char **names;		/* the values' names (NULL: a number) */
	size_t nnames;
	atomic_size_t max;	/* longest path component, once one was too long */
};

enum results_kind
results_spec_kind(const char *spec)
{
	static const struct {
		const char *suffix;
		enum results_kind kind;
	} kinds[] = {
		{ ".csv", RESULTS_CSV }, { ".tsv", RESULTS_TSV },
		{ ".json", RESULTS_JSON },
	};
	size_t len = strlen(spec);

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		size_t n = strlen(kinds[i].suffix);
		if (len >= n && strcasecmp(spec + len - n, kinds[i].suffix) == 0)
			return kinds[i].kind;
	}
	return RESULTS_DIR;
}

int
results_new(struct results **rp, const char *spec, const char *replace,
    char *err, size_t errlen)
{
	struct results *r;
	int e;

	if (!*spec) {
		snprintf(err, errlen, "--results: the directory name is empty");
		return CCMAP_EUSAGE;
	}
	r = util_calloc(1, sizeof *r);
	r->spec = util_strdup(spec);
	r->kind = results_spec_kind(spec);
	if (r->kind != RESULTS_DIR) {
		*rp = r;
		return 0;
	}
	if ((e = template_parse_text(&r->tmpl, r->spec, replace, err,
	    errlen)) < 0) {
		results_free(r);
		return e;
	}
	*rp = r;
	return 0;
}

void
results_free(struct results *r)
{
	if (!r)
		return;
	template_free(r->tmpl);
	for (size_t i = 0; i < r->nnames; i++)
		free(r->names[i]);
	free(r->names);
	free(r->spec);
	free(r);
}

/*
 * A name's value as a number, as Perl reads a string: leading blanks, a
 * sign, digits, a fraction and an exponent; 0 when it starts otherwise.
 */
static double
name_number(const char *s)
{
	const char *p = s;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '+' || *p == '-')
		p++;
	if (!isdigit((unsigned char)*p) &&
	    !(*p == '.' && isdigit((unsigned char)p[1])))
		return 0;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		return 0;	/* strtod would read hex; Perl stops at the x */
	return strtod(s, NULL);
}

/* The name of an item's k-th value: its own, or its number. */
static const char *
name_of(const char *const *names, size_t nnames, size_t k, char num[24])
{
	if (k < nnames && names[k])
		return names[k];
	snprintf(num, 24, "%zu", k + 1);
	return num;
}

/* Does value a's name come after b's?  By number, then by bytes. */
static int
name_after(const char *const *names, size_t nnames, size_t a, size_t b)
{
	char na[24], nb[24];
	const char *sa = name_of(names, nnames, a, na);
	const char *sb = name_of(names, nnames, b, nb);
	double xa = name_number(sa), xb = name_number(sb);

	if (xa != xb)
		return xa > xb;
	return strcmp(sa, sb) > 0;
}

void
results_set_names(struct results *r, const char *const *names, size_t n)
{
	for (size_t i = 0; i < r->nnames; i++)
		free(r->names[i]);
	free(r->names);
	r->names = util_calloc(n ? n : 1, sizeof *r->names);
	r->nnames = n;
	for (size_t i = 0; i < n; i++)
		r->names[i] = names[i] ? util_strdup(names[i]) : NULL;
}

void
results_escape(struct strbuf *out, const char *p, size_t len, size_t max)
{
	size_t start = out->len;

	for (size_t i = 0; i < len; i++) {
		switch (p[i]) {
		case '\\':	strbuf_add(out, "\\\\", 2); break;
		case '\t':	strbuf_add(out, "\\t", 2); break;
		case '\0':	strbuf_add(out, "\\0", 2); break;
		case '/':	strbuf_add(out, "\\_", 2); break;
		default:	strbuf_addch(out, p[i]); break;
		}
	}
	if (max && out->len - start > max) {
		out->len = start + max;
		out->buf[out->len] = '\0';
	}
}

void
results_dirname(struct strbuf *out, const char *const *names, size_t nnames,
    size_t nsrc, const struct value *v, size_t n, size_t max)
{
	size_t small[16], *order = nsrc <= 16 ? small :
	    util_calloc(nsrc, sizeof *order);
	char num[24];

	if (!nsrc)
		nsrc = 1;
	/* The values in the order of their names (stable: few of them). */
	for (size_t i = 0; i < nsrc; i++) {
		size_t k = i;
		while (k > 0 && names && name_after(names, nnames,
		    order[k - 1], i)) {
			order[k] = order[k - 1];
			k--;
		}
		order[k] = i;
	}
	for (size_t i = 0; i < n; i++) {
		size_t item = i / nsrc, src = order[i % nsrc];
		if (item * nsrc + src >= n)
			continue;	/* a short last item (cannot happen) */
		if (i)
			strbuf_addch(out, '/');
		strbuf_addstr(out, name_of(names, nnames, src, num));
		strbuf_addch(out, '/');
		results_escape(out, v[item * nsrc + src].p,
		    v[item * nsrc + src].len, max);
	}
	if (order != small)
		free(order);
}

/* From now on, every value in a path is cut to the longest file name. */
static void
cut_names(struct results *r)
{
	long max = pathconf(r->spec, _PC_NAME_MAX);

	atomic_store(&r->max, max > 0 ? (size_t)max : 255);
}

/*
 * Where a job's paths go (a too long name cut short), with its directories
 * made if make; without make, a directory not there yet is no error.
 */
static int
job_dir(struct results *r, const struct jobvals *jv, size_t nsrc,
    struct strbuf *dir, int *in_dir, int make)
{
	int e;

	strbuf_reset(dir);
	template_text(r->tmpl, jv, dir);
	*in_dir = 1;
	if (strcmp(dir->buf, r->spec) != 0) {
		/* A template: a directory if it ends in '/', else a file. */
		if (dir->len && dir->buf[dir->len - 1] == '/')
			return make ? util_mkpath(dir->buf) : 0;
		*in_dir = 0;
		char *slash = strrchr(dir->buf, '/');
		if (!make || !slash || slash == dir->buf)
			return 0;
		*slash = '\0';
		e = util_mkpath(dir->buf);
		*slash = '/';
		return e;
	}
	for (int tries = 0; ; tries++) {
		strbuf_reset(dir);
		strbuf_addstr(dir, r->spec);
		strbuf_addch(dir, '/');
		results_dirname(dir, (const char *const *)r->names, r->nnames,
		    nsrc, jv->v, jv->n, atomic_load(&r->max));
		if (make)
			e = util_mkpath(dir->buf);
		else if (access(dir->buf, F_OK) == 0 || errno == ENOENT)
			e = 0;	/* (not made yet is no error here) */
		else
			e = -errno;
		if (e != -ENAMETOOLONG || tries)
			break;
		/* From now on every value is cut to the longest name. */
		cut_names(r);
	}
	if (e == 0)
		strbuf_addch(dir, '/');
	return e;
}

int
results_open(struct results *r, const struct jobvals *jv, size_t nsrc,
    int fd[2], struct strbuf *path)
{
	static const char *const in_dir_names[3] = { "seq", "stdout", "stderr" };
	static const char *const suffixes[3] = { ".seq", "", ".err" };
	struct strbuf dir = STRBUF_INIT;
	char num[24];
	int in_dir, e, f = -1;

	fd[0] = fd[1] = -1;
	strbuf_reset(path);
	if ((e = job_dir(r, jv, nsrc, &dir, &in_dir, 1)) < 0) {
		strbuf_addstr(path, dir.buf);
		goto out;
	}
	/* In GNU parallel's order: seq, stdout, stderr. */
	for (int i = 0; i < 3; i++) {
		strbuf_reset(path);
		strbuf_addstr(path, dir.buf);
		strbuf_addstr(path, in_dir ? in_dir_names[i] : suffixes[i]);
		f = open(path->buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0666);
		if (f < 0) {
			e = -errno;
			goto out;
		}
		if (i > 0) {
			fd[i - 1] = f;
			continue;
		}
		snprintf(num, sizeof num, "%llu", jv->seq);
		e = util_write_all(f, num, strlen(num));
		if (close(f) < 0 && !e)
			e = -errno;
		if (e < 0)
			goto out;
	}
	strbuf_reset(path);
	strbuf_addstr(path, dir.buf);
out:
	if (e < 0) {
		for (int i = 0; i < 2; i++)
			if (fd[i] >= 0)
				close(fd[i]);
		fd[0] = fd[1] = -1;
	}
	strbuf_release(&dir);
	return e;
}

int
results_done(struct results *r, const struct jobvals *jv, size_t nsrc)
{
	struct strbuf path = STRBUF_INIT;
	struct stat sb;
	int in_dir, done;

	done = job_dir(r, jv, nsrc, &path, &in_dir, 0) == 0;
	if (done && in_dir)
		strbuf_addstr(&path, "stdout");
	done = done && stat(path.buf, &sb) == 0 && !S_ISDIR(sb.st_mode);
	strbuf_release(&path);
	return done;
}

int
results_write(struct results *r, const struct jobvals *jv, size_t nsrc,
    const char *out, size_t olen, const char *err, size_t elen,
    struct strbuf *path)
{
	const char *p[2] = { out, err };
	size_t len[2] = { olen, elen };
	int fd[2], e;

	if ((e = results_open(r, jv, nsrc, fd, path)) < 0)
		return e;
	for (int i = 0; i < 2; i++) {
		int w = util_write_all(fd[i], p[i], len[i]);
		if (close(fd[i]) < 0 && !w)
			w = -errno;
		if (w < 0 && !e)
			e = w;
	}
	return e;
}

enum results_kind
results_kind(const struct results *r)
{
	return r->kind;
}

int
results_open_records(const struct results *r)
{
	int fd;

	if (strcmp(r->spec, "-.csv") == 0 || strcmp(r->spec, "-.tsv") == 0 ||
	    strcmp(r->spec, "-.json") == 0)
		return 1;
	fd = open(r->spec, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	return fd < 0 ? -errno : fd;
}

/*
 * A separator and a CSV or TSV field, as GNU parallel quotes it: in double
 * quotes (those in it doubled) when it holds one, white space, the
 * separator or NUL.
 */
static void
csv_field(struct strbuf *line, int sep, const char *p, size_t len)
{
	int quote = 0;

	strbuf_addch(line, sep);
	for (size_t i = 0; i < len && !quote; i++)
		quote = p[i] == '"' || p[i] == sep || p[i] == '\0' ||
		    strchr(" \t\n\v\f\r", p[i]) != NULL;
	if (!quote) {
		strbuf_add(line, p, len);
		return;
	}
	strbuf_addch(line, '"');
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '"')
			strbuf_addch(line, '"');
		strbuf_addch(line, p[i]);
	}
	strbuf_addch(line, '"');
}

static void
csv_str(struct strbuf *line, int sep, const char *s)
{
	csv_field(line, sep, s, strlen(s));
}

void
results_header(const struct results *r, struct strbuf *line, size_t n)
{
	static const char *const head[] = { "Seq", "Host", "Starttime",
	    "JobRuntime", "Send", "Receive", "Exitval", "Signal", "Command" };
	int sep = r->kind == RESULTS_TSV ? '\t' : ',';
	char v[32];

	if (r->kind != RESULTS_CSV && r->kind != RESULTS_TSV)
		return;
	/* A line of its own: the separator goes between fields only. */
	strbuf_grow(line, 128);
	size_t start = line->len;
	for (size_t i = 0; i < ARRAY_SIZE(head); i++) {
		if (line->len > start)
			strbuf_addch(line, sep);
		strbuf_addstr(line, head[i]);
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(v, sizeof v, "V%zu", i + 1);
		strbuf_addch(line, sep);
		strbuf_addstr(line, i < r->nnames && r->names[i] ?
		    r->names[i] : v);
	}
	strbuf_addch(line, sep);
	strbuf_addstr(line, "Stdout");
	strbuf_addch(line, sep);
	strbuf_addstr(line, "Stderr\n");
}

void
results_record(const struct results *r, struct strbuf *line,
    const struct results_rec *rec)
{
	long long ms = rec->ns > 0 ? rec->ns / 1000000 : 0;
	char num[5][48];

	/* Seq, Starttime, JobRuntime (cut to ms), Receive, Exitval and Signal */
	snprintf(num[0], sizeof num[0], "%llu", rec->seq);
	snprintf(num[1], sizeof num[1], "%.3f", rec->start);
	snprintf(num[2], sizeof num[2], "%lld.%03lld", ms / 1000, ms % 1000);
	snprintf(num[3], sizeof num[3], "%zu", rec->olen);
	snprintf(num[4], sizeof num[4], "%d", rec->code);
	if (r->kind == RESULTS_JSON) {
		strbuf_addf(line, "{ \"Seq\": %s, \"Host\": \":\", "
		    "\"Starttime\": %s, \"JobRuntime\": %s, \"Send\": 0, "
		    "\"Receive\": %s, \"Exitval\": %s, \"Signal\": %d, "
		    "\"Command\": ", num[0], num[1], num[2], num[3], num[4],
		    rec->sig);
		json_string_gnu(line, rec->cmd, strlen(rec->cmd));
		strbuf_addstr(line, ", \"V\": [ ");
		for (size_t i = 0; i < rec->n; i++) {
			if (i)
				strbuf_addch(line, ',');
			json_string_gnu(line, rec->v[i].p, rec->v[i].len);
		}
		strbuf_addstr(line, " ], \"Stdout\": ");
		json_string_gnu(line, rec->out, rec->olen);
		strbuf_addstr(line, ", \"Stderr\": ");
		json_string_gnu(line, rec->err, rec->elen);
		strbuf_addstr(line, " }\n");
		return;
	}
	int sep = r->kind == RESULTS_TSV ? '\t' : ',';
	char sig[16];
	snprintf(sig, sizeof sig, "%d", rec->sig);
	strbuf_addstr(line, num[0]);
	csv_str(line, sep, ":");
	csv_str(line, sep, num[1]);
	csv_str(line, sep, num[2]);
	csv_str(line, sep, "0");
	csv_str(line, sep, num[3]);
	csv_str(line, sep, num[4]);
	csv_str(line, sep, sig);
	csv_str(line, sep, rec->cmd);
	for (size_t i = 0; i < rec->n; i++)
		csv_field(line, sep, rec->v[i].p, rec->v[i].len);
	csv_field(line, sep, rec->out, rec->olen);
	csv_field(line, sep, rec->err, rec->elen);
	strbuf_addch(line, '\n');
}
