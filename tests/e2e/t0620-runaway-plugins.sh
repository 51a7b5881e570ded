#!/bin/bash
# t0620: plugins that will not stop.  One SIGTERM ends ccmap with 143 after
# the kill sequence (--termseq), the finished items' output written: a
# --procs worker stuck in a loop is killed, none is orphaned; a --threads
# plugin stuck in a loop or in a slow item is left to it and ccmap ends.  A
# plugin that calls exit() on a thread is caught: the item is named, what
# finished is written, exit 255; on a worker process the item fails and the
# run goes on.  SIGKILL to ccmap takes its plugin workers with it.  SIGHUP
# lets the items being mapped finish and maps no more.  Each signal is sent
# once, after the plugin says where it is; every wait is a hang detector.
. "$(dirname "$0")/setup.sh"

top=${top_srcdir:-$SRC/../..}
command -v cc >/dev/null 2>&1 || skip_all "no C compiler (cc)"

set -m

# The plugin lives under a directory named with the marker, so that ccmap's
# command line (and its workers', forks of it) has it.
MARK="runaway.$$$RANDOM"
mkdir "$T/$MARK"
PL=$T/$MARK/runaway.so
export RUNAWAY_DIR=$T

# Items: "loop" spins for ever, "slow" takes 60 s, "wait" waits for the
# file go, "exit" and "exit0" call exit(3) and exit(0); each of these first
# makes the file started.SEQ.  Others are printed.
cat >"$T/runaway.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ccmap/plugin.h>

static void
started(const struct ccmap_host *host, struct ccmap_call *call)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/started.%llu", getenv("RUNAWAY_DIR"),
	    host->seq(call));
	if ((f = fopen(path, "w")) != NULL)
		fclose(f);
}

static int
runaway_map(const struct ccmap_host *host, struct ccmap_call *call,
    void *wstate, const char *item, size_t len)
{
	char go[4096];

	(void)wstate;
#define IS(s) (len == strlen(s) && memcmp(item, s, len) == 0)
	if (IS("loop") || IS("slow") || IS("wait") || IS("exit") ||
	    IS("exit0"))
		started(host, call);
	if (IS("loop"))
		for (volatile unsigned long n = 0;; n++)
			;
	if (IS("slow"))
		for (int i = 0; i < 600; i++)
			usleep(100000);
	if (IS("wait")) {
		snprintf(go, sizeof go, "%s/go", getenv("RUNAWAY_DIR"));
		while (access(go, F_OK) != 0)
			usleep(10000);
	}
	if (IS("exit"))
		exit(3);
	if (IS("exit0"))
		exit(0);
	return host->printf(call, 1, "%.*s\n", (int)len, item) != 0;
}

const struct ccmap_plugin ccmap_plugin = {
	.abi = CCMAP_PLUGIN_ABI,
	.flags = CCMAP_PLUGIN_THREADSAFE,
	.name = "runaway",
	.map = runaway_map,
};
EOF
if ! cc -shared -fPIC -I"$top/src" "$T/runaway.c" -o "$PL" 2>"$T/cc.err"; then
	diag <"$T/cc.err"
	skip_all "cannot build a test plugin"
fi

all_exist() { local f; for f; do [ -e "$f" ] || return 1; done; }
out_is() { [ "$(cat "$T/out")" = "$1" ]; }
reset() { rm -f "$T"/started.* "$T/go"; }

# --- one SIGTERM: the plugin is stuck, ccmap ends ----------------------------------
# --procs: a worker loops; -j2, so that the other one is idle.
n="SIGTERM --procs, a looping item"
reset
$CCMAP --procs -j2 --so "$PL" ::: a loop >"$T/out" 2>"$T/err" &
cpid=$!
wait_for 30 all_exist "$T/started.2" || true
if wait_for 30 out_is a; then pass "$n: a is out"; else fail "$n: a is out"; fi
kill -TERM $cpid 2>/dev/null || true
ends "$n" $cpid
is "$s" 143 "$n: exit 143"
is "$(cat "$T/out")" a "$n: the finished output"
no_process_left "$n"

# --threads: a thread cannot be killed, but ccmap can end.  The items
# before are written (once out, the signal is sent).
for item in loop slow; do
	n="SIGTERM --threads, a $item item"
	reset
	rm -rf "$T/tmp"
	mkdir "$T/tmp"
	TMPDIR=$T/tmp $CCMAP --threads -j2 --so "$PL" ::: a b $item >"$T/out" 2>"$T/err" &
	cpid=$!
	wait_for 30 all_exist "$T/started.3" || true
	if wait_for 30 out_is $'a\nb'; then pass "$n: a, b out"; else fail "$n: a, b out"; fi
	kill -TERM $cpid 2>/dev/null || true
	ends "$n" $cpid
	is "$s" 143 "$n: exit 143"
	is "$(cat "$T/out")" $'a\nb' "$n: the finished output"
	is "$(cat "$T/err")" "" "$n: nothing on stderr"
	is "$(ls -A "$T/tmp")" "" "$n: TMPDIR empty"
	no_process_left "$n"
done

# --- exit() in a plugin ---------------------------------------------------------
# On a thread: caught.  -j1, so that no item after it runs.
for code in 3 0; do
	item="exit"
	[ $code = 0 ] && item=exit0
	n="--threads, the plugin calls exit($code)"
	reset
	$CCMAP --threads -j1 --so "$PL" ::: a b $item c >"$T/out" 2>"$T/err" &
	cpid=$!
	ends "$n" $cpid
	is "$s" 255 "$n: exit 255"
	is "$(cat "$T/out")" $'a\nb' "$n: the items before it are written"
	is "$(cat "$T/err")" "ccmap: item 3 '$item': the plugin 'runaway' called exit($code)" \
		"$n: the item is named"
	no_process_left "$n"
done
# -j2: an item that another thread was mapping finishes and is written (a
# long --termseq: the run waits for it).
n="--threads -j2, the plugin calls exit(3) while another item runs"
reset
$CCMAP --threads -j2 --termseq TERM,100000 --so "$PL" ::: wait exit \
	>"$T/out" 2>"$T/err" &
cpid=$!
wait_for 30 all_exist "$T/started.1" || true
if wait_for 30 grep -q "called exit" "$T/err"; then pass "$n: says so"; else fail "$n: says so"; fi
: >"$T/go"
ends "$n" $cpid
is "$s" 255 "$n: exit 255"
is "$(cat "$T/out")" wait "$n: the other thread's item is written"
is "$(cat "$T/err")" "ccmap: item 2 'exit': the plugin 'runaway' called exit(3)" "$n: the item is named"
no_process_left "$n"

# On a worker process: the worker ends, the item fails, the run goes on.
run_case "--procs, the plugin calls exit(3): the item fails, exit 1" 1 $'a\nb\n' \
	-- timeout 60 $CCMAP --procs -j1 --so "$PL" ::: a exit b
stderr_is $'ccmap: item 2: its worker exited with status 3\n' \
	"--procs, exit(3): the item is named, with the status"

# --- SIGKILL to ccmap: its plugin workers die with it --------------------------------
n="SIGKILL --procs, looping items"
reset
$CCMAP --procs -j2 --so "$PL" ::: loop loop >"$T/out" 2>"$T/err" &
cpid=$!
wait_for 30 all_exist "$T/started.1" "$T/started.2" || true
kill -KILL $cpid 2>/dev/null || true
wait $cpid && s=0 || s=$?
is "$s" 137 "$n: killed"
no_process_left "$n"

# --- SIGHUP: the items being mapped finish, no more start ------------------------------
for ex in --threads --procs; do
	n="SIGHUP $ex"
	reset
	$CCMAP $ex -j1 --so "$PL" ::: a wait b c >"$T/out" 2>"$T/err" &
	cpid=$!
	wait_for 30 all_exist "$T/started.2" || true
	kill -HUP $cpid 2>/dev/null || true
	if wait_for 30 grep -q SIGHUP "$T/err"; then pass "$n: says so"; else fail "$n: says so"; fi
	: >"$T/go"
	ends "$n" $cpid
	is "$s" 0 "$n: exit 0"
	is "$(cat "$T/out")" $'a\nwait' "$n: the item being mapped finished, no other"
	no_process_left "$n"
done
set +m

done_testing
