/*
 * joblog.h: --joblog, and reading it back for --resume and --resume-failed,
 * in GNU parallel's format: a header line, then one line per job,
 *
 *	Seq Host Starttime JobRuntime Send Receive Exitval Signal Command
 *
 * separated by tabs: Starttime in seconds since the epoch with 3 decimals,
 * JobRuntime in seconds, truncated to milliseconds and padded to 10
 * characters, Send and Receive in bytes (stdin given, stdout taken),
 * Exitval -1 for a job killed by --timeout, and the command line with each
 * newline written as a NUL byte, so that a line stays one job.
 *
 * FILE "-" is stdout (the caller writes there, in order with the jobs'
 * output); "+FILE" appends to FILE.  With --resume or --resume-failed the
 * file is read first (it need not exist) and then appended to.
 */
#ifndef CCMAP_JOBLOG_H
#define CCMAP_JOBLOG_H

#include <stddef.h>

#include "ccmap.h"
#include "strbuf.h"

#define JOBLOG_HEADER \
	"Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n"

/* What a line says about one job. */
struct joblog_entry {
	unsigned long long seq;
	const char *host;	/* ":" for this machine */
	long long start_ns;	/* wall clock, since the epoch */
	long long run_ns;
	unsigned long long send, receive;
	int exitval;		/* -1: timed out */
	int sig;
	const char *cmd;	/* the command line, cmdlen bytes */
	size_t cmdlen;
};

/* Append the line for e, newline included, to out. */
void joblog_format(struct strbuf *out, const struct joblog_entry *e);
/*
 * Read one line (without its newline) as --resume does (mode
 * CCMAP_RESUME_ALL: any line that starts with a job number) or as
 * --resume-failed does (the whole format; succeeded is set for Exitval
 * and Signal both 0).  1 and *seq, or 0 for a line not in the format.
 */
int joblog_parse_line(const char *line, size_t len, enum ccmap_resume mode,
    unsigned long long *seq, int *succeeded);

struct joblog;

/*
 * Open the joblog: read it for resume (which jobs are not run again), then
 * open it to write, with the header when it starts anew.  0, or -errno or
 * CCMAP_EUSAGE with one line in err.
 */
int joblog_open(struct joblog **jlp, const char *path,
    enum ccmap_resume resume, char *err, size_t errlen);
void joblog_close(struct joblog *jl);
/* Is the job not to run, being done by the joblog?  Ask in rising seq. */
int joblog_skip(struct joblog *jl, unsigned long long seq);
/* Does the log go to stdout (through the caller's output)? */
int joblog_to_stdout(const struct joblog *jl);
/* Does the header remain to be written (to stdout)? */
int joblog_wants_header(const struct joblog *jl);
/* Write a line (to the file); 0 or -errno. */
int joblog_write(struct joblog *jl, const char *line, size_t len);
/* The joblog's name, for messages. */
const char *joblog_name(const struct joblog *jl);

#endif
