/*
 * results.h: --results, each job's output saved in files, in GNU
 * parallel's layout.
 *
 * --results DIR: a job's files are DIR/NAME1/VALUE1/NAME2/VALUE2/.../seq,
 * stdout and stderr, a NAME and a VALUE for each of its values (with -n,
 * for each item in turn): NAME is the source's name (its number, or its
 * --header name, the names sorted as GNU parallel sorts them), VALUE the
 * value with '\' written '\\', tab '\t', NUL '\0' and '/' '\_'.  seq holds
 * the job's number, without a newline.  When a VALUE is longer than a file
 * name may be, every VALUE from then on is cut to that length.
 *
 * When the value has replacement strings ({}, {1}, {#}...), it is a
 * template for each job's path, its values unquoted and unescaped: ending
 * in '/', the directory for seq, stdout and stderr; else the stdout file,
 * with stderr in PATH.err and the number in PATH.seq.
 *
 * A value ending in .csv, .tsv or .json (in any case) names instead one
 * file of records, one per job, as GNU parallel writes them ("-.csv" and so
 * on: the standard output): Seq, Host, Starttime, JobRuntime, Send,
 * Receive, Exitval, Signal, Command, the values, Stdout and Stderr.
 *
 * Directories are made as needed and existing files are overwritten, so a
 * DIR from an earlier run is reused.  Any thread or process may make a
 * job's files; a struct results is read-only after results_new but for the
 * length limit, which is atomic.
 */
#ifndef CCMAP_RESULTS_H
#define CCMAP_RESULTS_H

#include <stddef.h>

#include "strbuf.h"
#include "value.h"

struct results;

enum results_kind {
	RESULTS_DIR = 0,	/* DIR/1/VALUE/..., or a path template */
	RESULTS_CSV,		/* FILE.csv: comma-separated records */
	RESULTS_TSV,		/* FILE.tsv: tab-separated records */
	RESULTS_JSON,		/* FILE.json: GNU parallel's JSON lines */
};

/* One job's record, for the file kinds. */
struct results_rec {
	unsigned long long seq;
	double start;		/* when it started (seconds since the epoch) */
	long long ns;		/* how long it ran */
	int code, sig;
	const char *cmd;	/* its command line */
	const struct value *v;	/* its values */
	size_t n;
	const char *out, *err;
	size_t olen, elen;
};

/*
 * spec is --results' value, replace -I's string (NULL: "{}").  0, or
 * CCMAP_EUSAGE with one line in err.
 */
int results_new(struct results **rp, const char *spec, const char *replace,
    char *err, size_t errlen);
void results_free(struct results *r);

enum results_kind results_kind(const struct results *r);
/* What the name's suffix makes of --results' spec, as GNU parallel reads it. */
enum results_kind results_spec_kind(const char *spec);
/*
 * The file kinds: open the file for the records, made empty (the standard
 * output for "-.csv" and so on): a descriptor, or -errno.
 */
int results_open_records(const struct results *r);
/*
 * Append the file's header line for jobs of n values (CSV and TSV): V1,
 * V2 ..., or their names.
 */
void results_header(const struct results *r, struct strbuf *line,
    size_t n);
/* Append a job's record line. */
void results_record(const struct results *r, struct strbuf *line,
    const struct results_rec *rec);

/*
 * The names of an item's values (--header), for the path and the records'
 * header; a value without one (NULL, or past n) goes by its number.
 */
void results_set_names(struct results *r, const char *const *names,
    size_t n);

/* Append a value as a path component, at most max bytes (0: any). */
void results_escape(struct strbuf *out, const char *p, size_t len,
    size_t max);

/*
 * Append the path under DIR for the values v (n of them, nsrc per item):
 * NAME/VALUE for each, joined by '/', each item's values in the order of
 * their names (numbers first, by value, then by bytes).  names and nnames
 * as results_set_names (names NULL: 1, 2, ... in order).
 */
void results_dirname(struct strbuf *out, const char *const *names,
    size_t nnames, size_t nsrc, const struct value *v, size_t n,
    size_t max);

/*
 * Make a job's files (nsrc values per item in jv): seq written, stdout and
 * stderr created empty and opened for writing into fd[0] and fd[1].  0 with
 * the job's directory (or, for a template not ending in '/', its stdout
 * file) in path, or -errno with the path that failed.
 */
int results_open(struct results *r, const struct jobvals *jv, size_t nsrc,
    int fd[2], struct strbuf *path);

/*
 * --resume: has the job run before, that is, is its stdout file there?
 * (GNU parallel's test.)  Makes nothing.
 */
int results_done(struct results *r, const struct jobvals *jv, size_t nsrc);

/* The same, writing out and err into the files and closing them. */
int results_write(struct results *r, const struct jobvals *jv, size_t nsrc,
    const char *out, size_t olen, const char *err, size_t elen,
    struct strbuf *path);

#endif
