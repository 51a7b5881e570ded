/*
 * ccmap.c: the command line.  Parses the options into a struct ccmap_opts,
 * runs the engine and turns its result into the exit status.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ccmap.h"
#include "usage.h"

enum {
	OPT_LINK = 256,
	OPT_THREADS,
	OPT_PROCS,
	OPT_CHUNKSIZE,
	OPT_AS_COMPLETED,
	OPT_GROUP,
	OPT_LINE_BUFFER,
	OPT_TAG,
	OPT_TAGSTRING,
	OPT_TMPDIR,
	OPT_VERSION,
	OPT_SO,
	OPT_TIMEOUT,
	OPT_MAX_TASKS,
	OPT_RECSEP,
	OPT_HEADER,
	OPT_TRIM,
	OPT_MATCH,
	OPT_SKIP,
	OPT_HALT,
	OPT_RETRIES,
	OPT_DELAY,
	OPT_JOBLOG,
	OPT_RESUME,
	OPT_RESUME_FAILED,
	OPT_XARGS,
	OPT_DRY_RUN,
	OPT_MAX_LINE,
	OPT_RESULTS,
	OPT_JSON,
	OPT_PIPE,
	OPT_BLOCK,
	OPT_RECSTART,
	OPT_RECEND,
	OPT_BAR,
	OPT_ETA,
	OPT_PROGRESS,
	OPT_TERMSEQ,
	OPT_SSHLOGINFILE,
	OPT_SSH,
	OPT_SSHDELAY,
	OPT_ONALL,
	OPT_NONALL,
	OPT_FILTER_HOSTS,
	OPT_ENV,
	OPT_TRANSFERFILE,
	OPT_TRANSFER,
	OPT_RETURN,
	OPT_CLEANUP,
	OPT_TRC,
	OPT_BASEFILE,
	OPT_WORKDIR,
	OPT_REMOTE_WORKER,
	OPT_REMOTE_CCMAP,
	OPT_SLURM,
	OPT_WORKER,
};

static const struct option longopts[] = {
	{ "arg-file",		required_argument, NULL, 'a' },
	{ "sshlogin",		required_argument, NULL, 'S' },
	{ "sshloginfile",	required_argument, NULL, OPT_SSHLOGINFILE },
	{ "slf",		required_argument, NULL, OPT_SSHLOGINFILE },
	{ "ssh",		required_argument, NULL, OPT_SSH },
	{ "sshdelay",		required_argument, NULL, OPT_SSHDELAY },
	{ "ssh-delay",		required_argument, NULL, OPT_SSHDELAY },
	{ "onall",		no_argument,       NULL, OPT_ONALL },
	{ "nonall",		no_argument,       NULL, OPT_NONALL },
	{ "filter-hosts",	no_argument,       NULL, OPT_FILTER_HOSTS },
	{ "controlmaster",	no_argument,       NULL, 'M' },
	{ "env",		required_argument, NULL, OPT_ENV },
	{ "transferfile",	required_argument, NULL, OPT_TRANSFERFILE },
	{ "tf",			required_argument, NULL, OPT_TRANSFERFILE },
	{ "transfer",		no_argument,       NULL, OPT_TRANSFER },
	{ "return",		required_argument, NULL, OPT_RETURN },
	{ "cleanup",		no_argument,       NULL, OPT_CLEANUP },
	{ "trc",		required_argument, NULL, OPT_TRC },
	{ "basefile",		required_argument, NULL, OPT_BASEFILE },
	{ "bf",			required_argument, NULL, OPT_BASEFILE },
	{ "workdir",		required_argument, NULL, OPT_WORKDIR },
	{ "wd",			required_argument, NULL, OPT_WORKDIR },
	{ "remote-worker",	required_argument, NULL, OPT_REMOTE_WORKER },
	{ "remote-ccmap",	required_argument, NULL, OPT_REMOTE_CCMAP },
	{ "slurm",		no_argument,	   NULL, OPT_SLURM },
	{ "worker",		no_argument,       NULL, OPT_WORKER },
	{ "link",		no_argument,       NULL, OPT_LINK },
	{ "null",		no_argument,       NULL, '0' },
	{ "delimiter",		required_argument, NULL, 'd' },
	{ "recsep",		required_argument, NULL, OPT_RECSEP },
	{ "colsep",		required_argument, NULL, 'C' },
	{ "col-sep",		required_argument, NULL, 'C' },
	{ "header",		required_argument, NULL, OPT_HEADER },
	{ "trim",		required_argument, NULL, OPT_TRIM },
	{ "match",		required_argument, NULL, OPT_MATCH },
	{ "skip",		required_argument, NULL, OPT_SKIP },
	{ "jobs",		required_argument, NULL, 'j' },
	{ "max-args",		required_argument, NULL, 'n' },
	{ "max-replace-args",	required_argument, NULL, 'N' },
	{ "xargs",		no_argument,       NULL, OPT_XARGS },
	{ "eof",		required_argument, NULL, 'E' },
	{ "no-run-if-empty",	no_argument,       NULL, 'r' },
	{ "dry-run",		no_argument,       NULL, OPT_DRY_RUN },
	{ "max-line-length-allowed", no_argument,  NULL, OPT_MAX_LINE },
	{ "quote",		no_argument,       NULL, 'q' },
	{ "pipe",		no_argument,       NULL, OPT_PIPE },
	{ "spreadstdin",	no_argument,       NULL, OPT_PIPE },
	{ "block",		required_argument, NULL, OPT_BLOCK },
	{ "block-size",		required_argument, NULL, OPT_BLOCK },
	{ "blocksize",		required_argument, NULL, OPT_BLOCK },
	{ "recstart",		required_argument, NULL, OPT_RECSTART },
	{ "recend",		required_argument, NULL, OPT_RECEND },
	{ "so",			required_argument, NULL, OPT_SO },
	{ "threads",		no_argument,       NULL, OPT_THREADS },
	{ "procs",		no_argument,       NULL, OPT_PROCS },
	{ "chunksize",		required_argument, NULL, OPT_CHUNKSIZE },
	{ "max-tasks-per-child", required_argument, NULL, OPT_MAX_TASKS },
	{ "timeout",		required_argument, NULL, OPT_TIMEOUT },
	{ "termseq",		required_argument, NULL, OPT_TERMSEQ },
	{ "term-seq",		required_argument, NULL, OPT_TERMSEQ },
	{ "halt",		required_argument, NULL, OPT_HALT },
	{ "retries",		required_argument, NULL, OPT_RETRIES },
	{ "delay",		required_argument, NULL, OPT_DELAY },
	{ "joblog",		required_argument, NULL, OPT_JOBLOG },
	{ "resume",		no_argument,       NULL, OPT_RESUME },
	{ "resume-failed",	no_argument,       NULL, OPT_RESUME_FAILED },
	{ "keep-order",		no_argument,       NULL, 'k' },
	{ "as-completed",	no_argument,       NULL, OPT_AS_COMPLETED },
	{ "group",		no_argument,       NULL, OPT_GROUP },
	{ "line-buffer",	no_argument,       NULL, OPT_LINE_BUFFER },
	{ "ungroup",		no_argument,       NULL, 'u' },
	{ "tag",		no_argument,       NULL, OPT_TAG },
	{ "tagstring",		required_argument, NULL, OPT_TAGSTRING },
	{ "results",		required_argument, NULL, OPT_RESULTS },
	{ "result",		required_argument, NULL, OPT_RESULTS },
	{ "res",		required_argument, NULL, OPT_RESULTS },
	{ "json",		no_argument,       NULL, OPT_JSON },
	{ "tmpdir",		required_argument, NULL, OPT_TMPDIR },
	{ "interactive",	no_argument,       NULL, 'p' },
	{ "bar",		no_argument,       NULL, OPT_BAR },
	{ "eta",		no_argument,       NULL, OPT_ETA },
	{ "progress",		no_argument,       NULL, OPT_PROGRESS },
	{ "help",		no_argument,       NULL, 'h' },
	{ "version",		no_argument,       NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* The name an option was given by, for messages. */
static const char *
optname(int c, int longindex)
{
	static char buf[4];

	if (longindex >= 0)
		return longopts[longindex].name;
	buf[0] = '-';
	buf[1] = (char)c;
	buf[2] = '\0';
	return buf;
}

/*
 * A long option named by the start of several (getopt_long takes it for
 * an unknown one when opterr is 0): die listing them.  Names of one option
 * (--result, --results) are listed once.
 */
static void
check_ambiguous(const char *arg)
{
	const char *name = arg + 2;
	size_t len = strcspn(name, "="), n = 0, used = 0;
	char list[1024];

	if (strncmp(arg, "--", 2) != 0 || len == 0)
		return;
	for (size_t i = 0; longopts[i].name; i++) {
		size_t k;
		if (strncmp(longopts[i].name, name, len) != 0)
			continue;
		for (k = 0; k < i; k++)
			if (longopts[k].val == longopts[i].val &&
			    strncmp(longopts[k].name, name, len) == 0)
				break;
		if (k < i)
			continue;
		int w = snprintf(list + used, sizeof list - used, " --%s",
		    longopts[i].name);
		if (w > 0 && (size_t)w < sizeof list - used)
			used += (size_t)w;
		n++;
	}
	if (n > 1)
		die("option '--%.*s' is ambiguous; possibilities:%s", (int)len,
		    name, list);
}

static const char *
dashes(const char *name)
{
	return name[0] == '-' ? "" : "--";
}

/* A whole number from min to max, or die naming the option. */
static unsigned
parse_range(const char *s, const char *opt, unsigned min, unsigned max)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || errno || n < min || n > max)
		die("invalid number '%s' for %s%s (want %u to %u)", s,
		    dashes(opt), opt, min, max);
	return (unsigned)n;
}

/* A whole number from 1 to max, or die naming the option. */
static unsigned
parse_count(const char *s, const char *opt, unsigned max)
{
	return parse_range(s, opt, 1, max);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* -d: one byte, or a C escape for one. */
static int
parse_delim(const char *s)
{
	static const char esc[] = "n\nt\tr\r0\0\\\\a\ab\bf\fv\v";

	if (s[0] && !s[1])
		return (unsigned char)s[0];
	if (s[0] == '\\') {
		if (s[1] == 'x' && hexval(s[2]) >= 0) {
			int v = hexval(s[2]);
			if (!s[3])
				return v;
			if (hexval(s[3]) >= 0 && !s[4])
				return v * 16 + hexval(s[3]);
		}
		for (size_t i = 0; i + 1 < sizeof esc; i += 2)
			if (s[1] == esc[i] && !s[2])
				return (unsigned char)esc[i + 1];
	}
	die("invalid delimiter '%s' for --delimiter (want one character "
	    "or an escape such as \\t or \\0)", s);
}

/* ::: and ::::, and their linked forms :::+ and ::::+. */
static int
is_sep(const char *s)
{
	return !strcmp(s, ":::") || !strcmp(s, "::::") ||
	    !strcmp(s, ":::+") || !strcmp(s, "::::+");
}

/* A duration option's value (a bad one dies). */
static long long
duration(const char *opt, const char *arg)
{
	long long ns;

	if (ccmap_parse_duration(arg, &ns) < 0)
		die("invalid duration '%s' for %s (want seconds, or a number "
		    "with ms, s, m, h or d)", arg, opt);
	return ns;
}

/* One more string in a list of them. */
static void
add_word(char ***v, size_t *n, char *s)
{
	*v = realloc(*v, (*n + 1) * sizeof **v);
	if (!*v)
		die("out of memory");
	(*v)[(*n)++] = s;
}

static void
add_source(struct ccmap_opts *o, struct ccmap_source src)
{
	o->sources = realloc(o->sources, (o->nsources + 1) * sizeof *o->sources);
	if (!o->sources)
		die("out of memory");
	o->sources[o->nsources++] = src;
}

/*
 * After the options: the command's words, then ::: ITEMS and :::: FILES
 * groups, each a source (each file of :::: is a source of its own).  A
 * group after :::+ or ::::+ is linked to the source before it (each file
 * of ::::+ too), unless it is the first group, as in GNU parallel.
 */
static void
parse_operands(struct ccmap_opts *o, int argc, char **argv)
{
	int i = 0, first = 1;

	while (i < argc && !is_sep(argv[i]))
		i++;
	o->command = argv;
	o->ncommand = (size_t)i;
	while (i < argc) {
		int files = !strncmp(argv[i], "::::", 4);
		int linked = argv[i][files ? 4 : 3] == '+' && !first;
		int start = ++i;
		while (i < argc && !is_sep(argv[i]))
			i++;
		if (files) {
			if (i == start)
				die("no file after '%s'", argv[start - 1]);
			for (int k = start; k < i; k++)
				add_source(o, (struct ccmap_source){
				    .path = argv[k], .linked = linked });
		} else {
			add_source(o, (struct ccmap_source){
			    .args = argv + start, .nargs = (size_t)(i - start),
			    .linked = linked });
		}
		first = 0;
	}
}

static void
warn_cb(void *data, const char *msg)
{
	(void)data;
	warnx_("%s", msg);
}

/* What parse_option() says, besides an exit status. */
enum { PARSE_NEXT = -1, PARSE_OPERANDS = -2 };

/*
 * One option, as getopt_long() gave it, into o (a bad one dies).
 * PARSE_NEXT; PARSE_OPERANDS when the rest of the command line is
 * operands (--so); or the exit status when there is nothing more to do
 * (--help, --version, --max-line-length-allowed).
 */
static int
parse_option(struct ccmap_opts *o, int ch, int longindex, char **argv)
{
	char err[1024];

	switch (ch) {
	case 'a':
		add_source(o, (struct ccmap_source){ .path = optarg });
		break;
	case OPT_LINK:
		o->link = 1;
		break;
	case 'S':
		add_word(&o->sshlogins, &o->nsshlogins, optarg);
		break;
	case OPT_SSHLOGINFILE:
		add_word(&o->sshloginfiles, &o->nsshloginfiles, optarg);
		break;
	case OPT_SSH:
		if (!optarg[strspn(optarg, " \t")])
			die("empty command for --ssh");
		o->ssh = optarg;
		break;
	case OPT_SSHDELAY:
		o->sshdelay_ns = duration("--sshdelay", optarg);
		break;
	case OPT_ONALL:
		o->onall = 1;
		break;
	case OPT_NONALL:
		o->nonall = 1;
		break;
	case OPT_FILTER_HOSTS:
		o->filter_hosts = 1;
		break;
	case 'M':	/* --controlmaster: what -S always does */
		break;
	case OPT_ENV:
		add_word(&o->env, &o->nenv, optarg);
		break;
	case OPT_TRANSFERFILE:
		add_word(&o->transferfiles, &o->ntransferfiles, optarg);
		break;
	case OPT_TRC:		/* --transfer --return FILE --cleanup */
		o->transfer = o->cleanup = 1;
		add_word(&o->returnfiles, &o->nreturnfiles, optarg);
		break;
	case OPT_TRANSFER:
		o->transfer = 1;
		break;
	case OPT_RETURN:
		add_word(&o->returnfiles, &o->nreturnfiles, optarg);
		break;
	case OPT_CLEANUP:
		o->cleanup = 1;
		break;
	case OPT_BASEFILE:
		add_word(&o->basefiles, &o->nbasefiles, optarg);
		break;
	case OPT_WORKDIR:
		o->workdir = optarg;
		break;
	case OPT_REMOTE_WORKER:
		if (!strcmp(optarg, "auto"))
			o->remote_worker = CCMAP_WORKER_AUTO;
		else if (!strcmp(optarg, "always"))
			o->remote_worker = CCMAP_WORKER_ALWAYS;
		else if (!strcmp(optarg, "never"))
			o->remote_worker = CCMAP_WORKER_NEVER;
		else
			die("--remote-worker: '%s' is not auto, always or "
			    "never", optarg);
		break;
	case OPT_REMOTE_CCMAP:
		/* (Said to every login shell as it is: no quoting.) */
		if (!*optarg || optarg[strspn(optarg, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._+-")] ||
		    *optarg == '-')
			die("--remote-ccmap: '%s' is not a path of letters, "
			    "digits and / . _ + -", optarg);
		o->remote_ccmap = optarg;
		break;
	case OPT_SLURM:
		o->slurm = 1;
		break;
	case OPT_WORKER:
		die("--worker takes no other option or operand (it is run "
		    "by ccmap -S on a remote host)");
	case '0':
		o->delim = '\0';
		break;
	case 'd':
		o->delim = parse_delim(optarg);
		break;
	case OPT_RECSEP:
		o->recsep = optarg;
		break;
	case 'C':
		o->colsep = optarg;
		break;
	case OPT_HEADER:
		o->header = optarg;
		break;
	case OPT_TRIM:
		o->trim = optarg;
		break;
	case OPT_MATCH:
		o->match = optarg;
		break;
	case OPT_SKIP:
		o->skip = optarg;
		break;
	case 'j':
	case 'P':
		if (ccmap_parse_jobs(optarg, &o->jobs) < 0)
			die("invalid number of jobs '%s' for %s%s (want N, "
			    "N%%, +N or -N)", optarg,
			    dashes(optname(ch, longindex)),
			    optname(ch, longindex));
		break;
	case 'I':
		if (!*optarg)
			die("empty replacement string for -I");
		o->replace = optarg;
		break;
	case 'n':
	case 'N':
		/* -n0 and -N0: one item per command, and none in it. */
		o->max_args = parse_range(optarg, optname(ch, longindex),
		    0, 1000000);
		o->exact_args = ch == 'N' || o->max_args == 0;
		break;
	case 'X':
		o->fill = CCMAP_FILL_CONTEXT;
		break;
	case 'm':
		o->fill = CCMAP_FILL_MULTI;
		break;
	case OPT_XARGS:
		o->fill = CCMAP_FILL_XARGS;
		break;
	case 'E':
		o->eof_str = optarg;
		break;
	case 'r':
		o->skip_blank = 1;
		break;
	case OPT_DRY_RUN:
		o->dry_run = 1;
		break;
	case OPT_MAX_LINE: {
		size_t found;
		ccmap_line_max(&found);
		printf("%zu\n", found);
		return fflush(stdout) ? CCMAP_EXIT_ERROR : 0;
	}
	case 'L':
		o->max_lines = parse_count(optarg, "-L", 1000000);
		break;
	case 'q':
		o->quote = 1;
		break;
	case OPT_PIPE:
		o->pipe = 1;
		break;
	case OPT_BLOCK:
		if (ccmap_parse_size(optarg, &o->block) < 0)
			die("invalid size '%s' for --%s (want bytes, or a "
			    "number with K, M, G, T or P)", optarg,
			    optname(ch, longindex));
		break;
	case OPT_RECSTART:
		o->recstart = optarg;
		break;
	case OPT_RECEND:
		o->recend = optarg;
		break;
	case OPT_SO:
		/* What follows are the plugin's arguments, - or not. */
		o->plugin = optarg;
		return PARSE_OPERANDS;
	case OPT_THREADS:
		o->executor = CCMAP_THREADS;
		break;
	case OPT_PROCS:
		o->executor = CCMAP_PROCS;
		break;
	case OPT_CHUNKSIZE:
		o->chunksize = parse_count(optarg, "chunksize", 1000000);
		break;
	case OPT_MAX_TASKS:
		o->max_tasks = parse_count(optarg, "max-tasks-per-child",
		    1000000000);
		break;
	case OPT_TIMEOUT:
		if (ccmap_parse_duration(optarg, &o->timeout_ns) < 0 ||
		    o->timeout_ns == 0)
			die("invalid duration '%s' for --timeout (want "
			    "seconds, or a number with ms, s, m, h or d)",
			    optarg);
		break;
	case OPT_TERMSEQ:
		if (ccmap_parse_termseq(optarg, &o->termseq, err,
		    sizeof err) < 0)
			die("%s", err);
		break;
	case OPT_HALT:
		if (ccmap_parse_halt(optarg, &o->halt) < 0)
			die("invalid value '%s' for --halt (want now or "
			    "soon, then ,fail= ,success= or ,done= N or "
			    "N%%; or never, 0, 1, 2, -1, -2, N%%)", optarg);
		break;
	case OPT_RETRIES:
		/* As GNU parallel: 0 is for ever (2^31 attempts). */
		if (strcmp(optarg, "0") == 0)
			o->retries = 1u << 31;
		else if (strspn(optarg, "0123456789") != strlen(optarg) ||
		    (o->retries = (unsigned)strtoul(optarg, NULL, 10)) < 1 ||
		    strlen(optarg) > 9)
			die("invalid number '%s' for --retries (want 0 "
			    "for ever, or 1 to 999999999)", optarg);
		break;
	case OPT_DELAY:
		o->delay_ns = duration("--delay", optarg);
		break;
	case OPT_JOBLOG:
		if (!*optarg || strcmp(optarg, "+") == 0)
			die("empty file name for --joblog");
		o->joblog = optarg;
		break;
	case OPT_RESUME:
		o->resume = CCMAP_RESUME_ALL;
		break;
	case OPT_RESUME_FAILED:
		o->resume = CCMAP_RESUME_FAILED;
		break;
	case 'k':
		o->as_completed = 0;
		o->keep_order = 1;
		break;
	case OPT_AS_COMPLETED:
		o->as_completed = 1;
		o->keep_order = 0;
		break;
	case OPT_GROUP:
		o->outmode = CCMAP_GROUP;
		break;
	case OPT_LINE_BUFFER:
		o->outmode = CCMAP_LINEBUFFER;
		break;
	case 'u':
		o->outmode = CCMAP_UNGROUP;
		break;
	case OPT_TAG:
		o->tag = 1;
		break;
	case OPT_TAGSTRING:
		o->tagstring = optarg;
		break;
	case OPT_RESULTS:
		o->results = optarg;
		break;
	case OPT_JSON:
		o->json = 1;
		break;
	case OPT_TMPDIR:
		if (access(optarg, W_OK | X_OK) < 0)
			die("cannot use '%s' for --tmpdir: %s", optarg,
			    strerror(errno));
		o->tmpdir = optarg;
		break;
	case 'p':
		o->interactive = 1;
		break;
	case OPT_BAR:
		o->show |= CCMAP_SHOW_BAR;
		break;
	case OPT_ETA:
		o->show |= CCMAP_SHOW_ETA;
		break;
	case OPT_PROGRESS:
		o->show |= CCMAP_SHOW_PROGRESS;
		break;
	case 'h':
		usage(stdout);
		return fflush(stdout) ? CCMAP_EXIT_ERROR : 0;
	case OPT_VERSION:
		version();
		return fflush(stdout) ? CCMAP_EXIT_ERROR : 0;
	case ':':
		/* For a long option, optopt holds its value, not a letter. */
		if (strncmp(argv[optind - 1], "--", 2) == 0 ||
		    optopt <= 0 || optopt >= 128 || !isalnum(optopt))
			die("option '%s' needs a value", argv[optind - 1]);
		die("option '-%c' needs a value", optopt);
	default:
		if (optopt)
			die("unknown option '-%c' (see ccmap --help)", optopt);
		check_ambiguous(argv[optind - 1]);
		die("unknown option '%s' (see ccmap --help)",
		    argv[optind - 1]);
	}
	return PARSE_NEXT;
}

int
main(int argc, char **argv)
{
	struct ccmap_opts o;
	struct ccmap_result res;
	struct ccmap *c;
	char err[1024];
	int ch, longindex, r;

	ccmap_set_progname(PROG);
	if (argc == 2 && !strcmp(argv[1], "--worker"))
		return ccmap_worker(0, 1);
	ccmap_opts_init(&o);
	o.warn = warn_cb;
	/* $CCMAP_SSH: the ssh command, unless --ssh says otherwise. */
	if ((o.ssh = getenv("CCMAP_SSH")) != NULL && !*o.ssh)
		o.ssh = NULL;
	opterr = 0;
	for (r = PARSE_NEXT; r == PARSE_NEXT; ) {
		longindex = -1;
		ch = getopt_long(argc, argv, "+:a:0d:C:j:P:I:n:N:L:XmME:rpqkuhS:",
		    longopts, &longindex);
		r = ch == -1 ? PARSE_OPERANDS :
		    parse_option(&o, ch, longindex, argv);
	}
	if (r != PARSE_OPERANDS)
		return r;
	parse_operands(&o, argc - optind, argv + optind);
	/* Items from a terminal are typed: read them at a readline prompt. */
	o.readline = o.nsources == 0 && !o.pipe && !o.nonall && isatty(0);

	if ((r = ccmap_new(&c, &o, err, sizeof err)) < 0)
		die("%s", err);
	ccmap_run(c, &res);
	ccmap_free(c);	/* (not when abandoned: threads still use it) */
	free(o.sources);
	free(o.sshlogins);
	free(o.sshloginfiles);
	free(o.env);
	free(o.transferfiles);
	free(o.returnfiles);
	free(o.basefiles);
	if (res.error == CCMAP_EOUTPUT)
		warnx_("cannot write the output: %s",
		    strerror(res.output_errno));
	if (res.broken_pipe && !res.signal) {
		/* Our reader went away: end as a pipeline expects, quietly. */
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
	}
	/*
	 * A thread still in a plugin that will not stop, or held in its
	 * exit(): end here and now, without running exit()'s handlers under
	 * it (what finished is written, the jobs are killed).
	 */
	if (res.abandoned)
		_exit(ccmap_exit_status(&res));
	return ccmap_exit_status(&res);
}
