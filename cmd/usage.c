/*
 * usage.c: --help, --version, and the one style of error message.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "ccmap.h"
#include "config.h"
#include "usage.h"

#ifndef CCMAP_PLUGINDIR
#define CCMAP_PLUGINDIR "/usr/local/lib/ccmap/plugins"
#endif

static const char help[] =
"Usage: ccmap [OPTION]... [COMMAND [ARG]...] [::: ITEM... | :::: FILE...]...\n"
"  or:  ccmap [OPTION]... --so PLUGIN[:SYMBOL] [PLUGIN-ARG]... [::: ITEM...]...\n"
"Run COMMAND once per item, in parallel, and write the outputs in input order.\n"
"Items come from stdin, from -a FILEs, or after ::: and ::::; with several\n"
"sources each job gets one item of each (every combination, or with --link\n"
"the i-th of each); :::+ ITEM... and ::::+ FILE... pair a source with the one\n"
"before it.  With no COMMAND, each item is itself a command.\n"
"\n"
"Items:\n"
"  -a, --arg-file FILE     read items from FILE (- is stdin); repeatable\n"
"      --link              pair the sources' items instead of crossing them\n"
"  -0, --null              items end with NUL, not newline\n"
"  -d, --delimiter C       items end with C (\\n, \\t, \\0, \\\\, \\xHH allowed)\n"
"      --recsep REGEX      items end where the PCRE2 REGEX matches\n"
"  -C, --colsep REGEX      split items into columns {1}..{N} at REGEX\n"
"      --header REGEX      the first item of each source names its columns\n"
"                          ({name}); REGEX is usually :\n"
"      --trim n|l|r|lr|rl  trim white space from values (default: lr with -C)\n"
"      --match REGEX       map only the items REGEX matches; its capture\n"
"                          groups are the columns, named ones {name}\n"
"      --skip REGEX        drop the items REGEX matches\n"
"  -E, --eof STR           a source ends at an item equal to STR\n"
"  -r, --no-run-if-empty   skip items that are empty or only whitespace\n"
"\n"
"Commands:\n"
"  -I STR                  use STR for the item instead of {}\n"
"  -n, --max-args N        give each command up to N items (0: take one,\n"
"                          insert none)\n"
"  -N, --max-replace-args N  give each command up to N items, {1}..{N} each\n"
"                          one (missing ones empty), and repeat a word with\n"
"                          {} in it once per item\n"
"  -X                      give each command as many items as its line has\n"
"                          room for, repeating a word with {} once per item;\n"
"                          the last items are spread over the job slots\n"
"  -m                      as -X, but {} stands for all the items\n"
"      --xargs             as -m, the last items not spread\n"
"      --max-line-length-allowed  print the longest command line and exit\n"
"      --so PLUGIN[:SYMBOL]  map a C function from a plugin, a shared object,\n"
"                          instead of a command; the words after it are\n"
"                          the plugin's arguments.  PLUGIN without a slash\n"
"                          is searched in $CCMAP_PLUGIN_PATH, then in\n"
"                          " CCMAP_PLUGINDIR "\n"
"                          (an uninstalled ccmap: its build tree's plugins)\n"
"  -q, --quote             keep each word of the command one argument, as\n"
"                          xargs does (shell syntax in it is not code)\n"
"      --dry-run           print each command instead of running it\n"
"  Replacement strings: {} the item, {.} without extension, {/} basename,\n"
"  {//} dirname, {/.} basename without extension, {#} job number, {%} slot,\n"
"  {N} {N.} {N/} {N//} {N/.} the same for source N (with -n, -N, -X, -m,\n"
"  for the N-th value, or column N with -C or --match); {-N} {-N.} ...\n"
"  count from the last.  Without one, the items are appended.  Each value\n"
"  is quoted as one shell word, except in a command that starts with one\n"
"  ({} alone, {} ARGS): the items are code.  {= perl =} is not supported.\n"
"  {s/REGEX/REPL/FLAGS} and {N s/REGEX/REPL/FLAGS}: the value with a PCRE2\n"
"  substitution (flags g, i, m, s, x).\n"
"\n"
"Pipe mode:\n"
"      --pipe, --spreadstdin  give each job a block of the input on its\n"
"                          stdin instead of items as arguments\n"
"      --block SIZE        blocks of up to SIZE bytes of whole records\n"
"                          (K, M, G, T: powers of 1024; k, m...: of 1000;\n"
"                          default 1M); a longer record grows the block\n"
"      --recend STR        a record ends with STR (default \\n)\n"
"      --recstart STR      a record starts with STR; with --recend too, a\n"
"                          block ends only where STR follows --recend\n"
"  -L N                    a record is N lines\n"
"  With --pipe, --recsep REGEX ends a record after each match, and\n"
"  --header N|:|REGEX gives every job the first N lines (: one line, or\n"
"  REGEX's longest match at the start) before its block.\n"
"\n"
"Pool:\n"
"  -j, -P, --jobs N        run N jobs at once: N, N% of the CPUs, +N or -N\n"
"                          CPUs plus or minus N; 0 for 256\n"
"                          (default: the number of CPUs)\n"
"      --threads           run jobs from a pool of threads (default)\n"
"      --procs             run jobs from a pool of worker processes\n"
"      --chunksize N       hand N items to a worker at a time (default 1;\n"
"                          for plugins, about 2 ms of work, up to 64 KiB)\n"
"      --max-tasks-per-child N  replace a worker process after N tasks\n"
"\n"
"Remote hosts (see REMOTE HOSTS in ccmap(1)):\n"
"  -S, --sshlogin [N/]LOGIN[,...]  run the jobs on these hosts, over ssh;\n"
"                          LOGIN is [user@]host[:port], an ssh command with\n"
"                          its options and the host last, or : for this\n"
"                          machine; N/ gives the host's CPUs (default: asked\n"
"                          once); ,, is a comma; repeatable.  With -S, -j\n"
"                          is per host (default: the host's CPUs)\n"
"      --sshloginfile, --slf FILE  read logins from FILE, one a line (blank\n"
"                          lines and # comments skipped); repeatable\n"
"      --ssh CMD           the ssh command of the logins that give none\n"
"                          (default: $CCMAP_SSH, else ssh)\n"
"      --sshdelay, --ssh-delay DURATION  start the ssh connections at least\n"
"                          DURATION apart\n"
"      --onall             run every item on every host, a job at a time on\n"
"                          each; -j is hosts at a time (default: all)\n"
"      --nonall            run the command once on every host, reading no\n"
"                          items\n"
"  -M, --controlmaster     accepted: -S always runs the jobs over a master\n"
"                          connection per host\n"
"      --filter-hosts      leave out the hosts that cannot be reached (done\n"
"                          anyway, before the first job)\n"
"      --env VAR           give remote jobs the variable VAR, or the exported\n"
"                          bash function VAR (then the command runs in\n"
"                          bash); repeatable\n"

"      --transferfile, --tf FILE  copy FILE (a template: {} and the like)\n"
"                          to the host before the job; a/./b is copied to b\n"
"                          on the host; repeatable\n"
"      --transfer          --transferfile {}\n"
"      --return FILE       copy FILE (a template) back from the host after\n"
"                          the job; repeatable\n"
"      --cleanup           remove the files copied there and back from the\n"
"                          host after the job (the basefiles at the end)\n"
"      --trc FILE          --transfer --return FILE --cleanup\n"
"      --basefile, --bf FILE  copy FILE to each host once, before its first\n"
"                          job; repeatable\n"
"      --workdir, --wd DIR  run the remote jobs in DIR (made if missing;\n"
"                          relative: to the home there); . is this\n"
"                          directory, ... a new one per job\n"
"      --remote-worker MODE  auto: a host with a ccmap on its PATH runs all\n"
"                          its jobs in one ccmap --worker there, over one\n"
"                          session (not with --tf, --return); always: a\n"
"                          host without one is not used; never: a\n"
"                          session per job\n"
"      --remote-ccmap PATH  the hosts' ccmap (default: ccmap, on their PATH;\n"
"                          --slurm: this ccmap)\n"
"      --slurm             run the jobs on the nodes of this Slurm allocation,\n"
"                          each node's in one ccmap --worker started as\n"
"                          one job step (srun)\n"
"      --worker            serve a head ccmap on stdin and stdout (run by\n"
"                          -S on the host, not typed)\n"
"  Copies go by rsync when both ends have it, else by cat.  A job whose ssh\n"
"  session fails runs again on another host.  With --so, the plugin runs\n"
"  in each host's ccmap --worker (found by name in its plugin path there).\n"
"\n"
"Failure and time:\n"
"      --timeout DURATION  kill a job (by --termseq) or a plugin's worker\n"
"                          process running longer; DURATION is seconds, or\n"
"                          a number with ms, s, m, h or d\n"
"      --termseq SEQ       how running jobs are killed when the run stops\n"
"                          (signal, --halt now) or a job times out: signals\n"
"                          and waits in ms, SIG,MS,SIG,MS,..., then KILL\n"
"                          (default TERM,200,TERM,100,TERM,50,KILL,25)\n"
"      --halt WHEN,WHAT=N  end the run early: WHEN is now (kill the running\n"
"                          jobs) or soon (let them end), WHAT is fail,\n"
"                          success or done, N a count or N% of the jobs;\n"
"                          also never, 0, 1, 2, -1, -2, N% as GNU parallel\n"
"      --retries N         run a failed job up to N times in all (0: until\n"
"                          it succeeds); only the last attempt's output\n"
"                          is written\n"
"      --delay DURATION    start jobs at least DURATION apart\n"
"      --joblog FILE       log each job in GNU parallel's joblog format\n"
"                          (- for stdout, +FILE to append)\n"
"      --resume            skip the jobs the joblog has, or whose\n"
"                          --results DIR files are there\n"
"      --resume-failed     skip the jobs the joblog has as succeeded, and\n"
"                          run the failed ones again\n"
"\n"
"Output:\n"
"  -k, --keep-order        write outputs in input order (the default; with\n"
"                          --line-buffer, the lines too)\n"
"      --as-completed      write each job's output as soon as it ends\n"
"      --group             write each job's output whole, its stdout then its\n"
"                          stderr (the default)\n"
"      --line-buffer       write whole lines as soon as they come; with -k,\n"
"                          the oldest running job's, the others' in turn\n"
"  -u, --ungroup           let jobs write straight to the output\n"
"      --tag               prefix each output line with the item and a tab\n"
"      --tagstring STR     prefix each output line with STR and a tab\n"
"      --results DIR       save each job's stdout, stderr and number in files\n"
"                          under DIR/1/ITEM/..., as GNU parallel does, and\n"
"                          print nothing; with {} in DIR, a path per job;\n"
"                          DIR ending in .csv, .tsv or .json: a file of\n"
"                          records, one per job (-.csv...: stdout)\n"
"      --json              write one JSON object per job or plugin item: seq,\n"
"                          item (or args), exit, signal, duration, stdout,\n"
"                          stderr\n"
"      --tmpdir DIR        hold back output past the memory bound in DIR\n"
"                          (and -S's ssh sockets)\n"
"\n"
"Terminal:\n"
"  -p, --interactive       ask on the terminal before each job; run it on y\n"
"                          (a declined job is skipped, not failed)\n"
"      --bar               show a progress bar on stderr\n"
"      --eta               show the estimated time left on stderr\n"
"      --progress          show jobs running and done on stderr\n"
"  With stdin a terminal and no other source, items are typed at a prompt\n"
"  (line editing, Tab completes file names, history in\n"
"  $XDG_STATE_HOME/ccmap/history); Ctrl-D ends them.\n"
"\n"
"  -h, --help              show this help and exit\n"
"      --version           show the version and exit\n"
"\n"
"Signals: INT, TERM, QUIT stop the run (jobs get --termseq); HUP lets the\n"
"running jobs finish and starts no more.\n"
"\n"
"Exit status: 0 if every job succeeded, 1-100 the number of jobs that\n"
"failed, 101 if more failed, 255 on ccmap's own errors, 128+N on signal N.\n"
"With --halt, as GNU parallel decides it (done=N halting a run with none\n"
"failed: 101).  See ccmap(1) for more.\n";

void
usage(FILE *f)
{
	fputs(help, f);
}

void
version(void)
{
	printf("ccmap %s\n", PACKAGE_VERSION);
	puts("Copyright (C) 2026 the ccmap authors.");
	puts("License: MIT <https://opensource.org/licenses/MIT>.");
	puts("This is free software: you are free to change and redistribute it.");
	puts("There is NO WARRANTY, to the extent permitted by law.");
}

static void
vwarn(const char *fmt, va_list ap)
{
	char buf[4096];

	vsnprintf(buf, sizeof buf, fmt, ap);
	fflush(stdout);
	fprintf(stderr, "%s: %s\n", PROG, buf);
}

void
warnx_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	exit(CCMAP_EXIT_ERROR);
}
