#!/bin/bash
# t0530: plugins on the process pool (--so with --procs): a worker that
# crashes (SIGSEGV, abort) loses only the item it was on, which is reported
# and fails the run, while every other item runs exactly once and in input
# order; --max-tasks-per-child replaces the workers, for plugins (per chunk)
# and for commands (per job).  Every ccmap runs under timeout 60, so that a
# hang fails the test instead of blocking.
. "$(dirname "$0")/setup.sh"

top=${top_srcdir:-$SRC/../..}
command -v cc >/dev/null 2>&1 || skip_all "no C compiler (cc)"
command -v timeout >/dev/null 2>&1 || skip_all "no timeout(1)"

# A test plugin: "crash" dereferences NULL, "abort" aborts, "pid" prints the
# worker's pid, "fail" fails with a message; anything else is printed.
cat >"$T/crash.c" <<'EOF'
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ccmap/plugin.h>

static int
is(const char *item, size_t len, const char *s)
{
	return len == strlen(s) && memcmp(item, s, len) == 0;
}

static int
crash_map(const struct ccmap_host *host, struct ccmap_call *call,
    void *wstate, const char *item, size_t len)
{
	(void)wstate;
	if (is(item, len, "crash")) {
		volatile int *p = NULL;
		*p = 1;
		raise(SIGSEGV);
	}
	if (is(item, len, "abort"))
		abort();
	if (is(item, len, "fail")) {
		host->error(call, "failed on purpose");
		return 1;
	}
	if (is(item, len, "pid"))
		return host->printf(call, 1, "%ld\n", (long)getpid()) != 0;
	if (is(item, len, "slot"))
		return host->printf(call, 1, "slot %u\n", host->slot(call)) != 0;
	return host->printf(call, 1, "%.*s\n", (int)len, item) != 0;
}

const struct ccmap_plugin ccmap_plugin = {
	.abi = CCMAP_PLUGIN_ABI,
	.flags = CCMAP_PLUGIN_THREADSAFE,
	.name = "crash",
	.map = crash_map,
};
EOF
if ! cc -shared -fPIC -I"$top/src" "$T/crash.c" -o "$T/crash.so" 2>"$T/cc.err"; then
	diag <"$T/cc.err"
	skip_all "cannot build a test plugin"
fi
PL=$T/crash.so

# lines FILE: its number of lines.
lines() { wc -l <"$1" | tr -d ' '; }

# --- a crash in the middle of a large chunk ---------------------------------
{ seq 1000; echo crash; seq 1001 2000; } >"$T/in1"
seq 2000 >"$T/want1"
set +e
timeout 60 $CCMAP --procs -j2 --chunksize 500 --so "$PL" <"$T/in1" >"$T/out" 2>"$T/err"
r=$?
set -e
is "$r" 1 "crash mid-chunk: exit status 1 (one failed item)"
cmp -s "$T/out" "$T/want1" && r=0 || r=1
ok $r "crash mid-chunk: exactly the other 2000 items, once each, in input order"
[ $r -eq 0 ] || { diff "$T/want1" "$T/out" | head -20 | diag; }
is "$(cat "$T/err")" "ccmap: item 1001: killed by SIGSEGV" \
	"crash mid-chunk: one stderr line naming item 1001 and SIGSEGV"

# The same with the default blocks (about 64 KiB) and one worker.
set +e
timeout 60 $CCMAP --procs -j1 --so "$PL" <"$T/in1" >"$T/out" 2>"$T/err"
r=$?
set -e
is "$r" 1 "crash, -j1, default blocks: exit status 1"
cmp -s "$T/out" "$T/want1" && r=0 || r=1
ok $r "crash, -j1, default blocks: the other items, once each, in order"
stderr_has '^ccmap: item 1001: killed by SIGSEGV$' "crash, -j1: stderr names item 1001"

# --- several crashes, and abort ---------------------------------------------
run_case "three crashes and an abort: the other items in order, exit 4" 4 \
	"$(seq 1 9)
" --stdin $'1\n2\n3\ncrash\n4\n5\n6\nabort\ncrash\n7\n8\ncrash\n9\n' \
	-- timeout 60 $CCMAP --procs -j2 --so "$PL"
is "$(grep -c . "$T/err")" 4 "three crashes and an abort: four stderr lines"
stderr_has '^ccmap: item 4: killed by SIGSEGV$' "crash: item 4 reported"
stderr_has '^ccmap: item 8: killed by SIGABRT$' "abort: item 8 reported as SIGABRT"
stderr_has '^ccmap: item 9: killed by SIGSEGV$' "crash: item 9 reported"
stderr_has '^ccmap: item 12: killed by SIGSEGV$' "crash: item 12 reported"

run_case "crashes with --chunksize 1 and -j3" 2 $'a\nb\nc\n' \
	-- timeout 60 $CCMAP --procs -j3 --chunksize 1 --so "$PL" ::: a crash b crash c
is "$(grep -c 'killed by SIGSEGV' "$T/err")" 2 "crashes with --chunksize 1: two reported"

run_case "every item crashes: exit status 5, no output" 5 '' \
	-- timeout 60 $CCMAP --procs -j2 --so "$PL" ::: crash crash abort crash crash

# Many crashes spread over many chunks: the rest all runs.
awk 'BEGIN { for (i = 1; i <= 5000; i++) print (i % 250 == 0 ? "crash" : i) }' >"$T/in2"
grep -v crash "$T/in2" >"$T/want2"
set +e
timeout 60 $CCMAP --procs -j4 --chunksize 100 --so "$PL" <"$T/in2" >"$T/out" 2>"$T/err"
r=$?
set -e
is "$r" 20 "20 crashes over 5000 items: exit status 20"
cmp -s "$T/out" "$T/want2" && r=0 || r=1
ok $r "20 crashes over 5000 items: the 4980 others, once each, in order"
is "$(grep -c '^ccmap: item [0-9]*: killed by SIGSEGV$' "$T/err")" 20 \
	"20 crashes: 20 stderr lines"

# A failed item (not a crash) is reported with the plugin's message.
# host->slot: the first batch is in slot 1, as {%} of the first job.
for pool in --threads --procs; do
	run_case "host->slot $pool -j4: the first batch's is 1" 0 $'slot 1\n' \
		-- $CCMAP $pool -j4 --so "$T/crash.so" ::: slot
done
run_case "a failed item: host->error as 'ccmap: item N: MESSAGE', exit 1" 1 $'a\nb\n' \
	-- timeout 60 $CCMAP --procs -j2 --so "$PL" ::: a fail b
stderr_is $'ccmap: item 2: failed on purpose\n' "a failed item: the one stderr line"

# Failures among long runs of items that succeed quietly (those go on in
# pieces): every output in order, every failure reported once, in order.
awk 'BEGIN { for (i = 1; i <= 20000; i++) print (i % 997 == 0 ? "fail" : i) }' >"$T/in3"
grep -v fail "$T/in3" >"$T/want3"
awk '/fail/ { printf "ccmap: item %d: failed on purpose\n", NR }' "$T/in3" >"$T/want3e"
for j in 1 3; do
	set +e
	timeout 60 $CCMAP --procs -j$j --as-completed --so "$PL" <"$T/in3" >"$T/out" 2>"$T/err"
	r=$?
	set -e
	is "$r" 20 "-j$j: 20 failures among 20000 items: exit status 20"
	sort -n "$T/out" | cmp -s - "$T/want3" && r=0 || r=1
	ok $r "-j$j --as-completed: the 19980 other outputs, once each"
	sort -t' ' -k3,3n "$T/err" | cmp -s - "$T/want3e" && r=0 || r=1
	ok $r "-j$j --as-completed: each failure reported once"
	set +e
	timeout 60 $CCMAP --procs -j$j --so "$PL" <"$T/in3" >"$T/out" 2>"$T/err"
	set -e
	cmp -s "$T/out" "$T/want3" && r=0 || r=1
	ok $r "-j$j: the 19980 other outputs in input order"
	cmp -s "$T/err" "$T/want3e" && r=0 || r=1
	ok $r "-j$j: the failures in input order"
done

# --- --max-tasks-per-child, plugins ------------------------------------------
seq 50 | sed 's/.*/pid/' >"$T/pids.in"
set +e
timeout 60 $CCMAP --procs -j1 --chunksize 10 --max-tasks-per-child 1 --so "$PL" \
	<"$T/pids.in" >"$T/out" 2>"$T/err"
r=$?
set -e
is "$r" 0 "--max-tasks-per-child 1, plugin: exit 0"
is "$(lines "$T/out")" 50 "--max-tasks-per-child 1, plugin: 50 items, 50 lines"
is "$(sort -u "$T/out" | wc -l | tr -d ' ')" 5 \
	"--max-tasks-per-child 1, 10-item chunks, 50 items: 5 worker pids"
set +e
timeout 60 $CCMAP --procs -j1 --chunksize 10 --so "$PL" <"$T/pids.in" >"$T/out" 2>"$T/err"
r=$?
set -e
is "$r.$(lines "$T/out")" 0.50 "no --max-tasks-per-child, plugin: exit 0, 50 lines"
is "$(sort -u "$T/out" | wc -l | tr -d ' ')" 1 "no --max-tasks-per-child: 1 worker pid"
set +e
timeout 60 $CCMAP --procs -j1 --chunksize 5 --max-tasks-per-child 2 --so "$PL" \
	<"$T/pids.in" >"$T/out" 2>"$T/err"
r=$?
set -e
is "$r.$(lines "$T/out")" 0.50 "--max-tasks-per-child 2, plugin: exit 0, 50 lines"
is "$(sort -u "$T/out" | wc -l | tr -d ' ')" 5 \
	"--max-tasks-per-child 2, 5-item chunks, 50 items: 5 worker pids"

# Every item exactly once, in order, while the workers are replaced.
seq 3000 >"$T/want3"
set +e
timeout 60 $CCMAP --procs -j3 --chunksize 7 --max-tasks-per-child 3 --so "$PL" \
	<"$T/want3" >"$T/out" 2>"$T/err"
r=$?
set -e
is "$r" 0 "--max-tasks-per-child 3 -j3, 3000 items: exit 0"
cmp -s "$T/out" "$T/want3" && r=0 || r=1
ok $r "--max-tasks-per-child 3 -j3: every item once, in order"

# Crashes and recycling together.
set +e
timeout 60 $CCMAP --procs -j2 --chunksize 50 --max-tasks-per-child 2 --so "$PL" \
	<"$T/in2" >"$T/out" 2>"$T/err"
r=$?
set -e
is "$r" 20 "crashes with --max-tasks-per-child: exit 20"
cmp -s "$T/out" "$T/want2" && r=0 || r=1
ok $r "crashes with --max-tasks-per-child: the others, once each, in order"

# --- --max-tasks-per-child, commands -----------------------------------------
set +e
seq 6 | timeout 60 $CCMAP --procs -j1 --max-tasks-per-child 2 'echo $PPID {}' \
	>"$T/out" 2>"$T/err"
r=$?
set -e
is "$r" 0 "commands, --max-tasks-per-child 2: exit 0"
is "$(cut -d' ' -f2 "$T/out" | tr '\n' ' ')" "1 2 3 4 5 6 " \
	"commands, --max-tasks-per-child 2: every item once, in order"
is "$(cut -d' ' -f1 "$T/out" | sort -u | wc -l | tr -d ' ')" 3 \
	"commands, -j1, 6 jobs, --max-tasks-per-child 2: 3 distinct parents"
set +e
seq 6 | timeout 60 $CCMAP --procs -j1 'echo $PPID {}' >"$T/out" 2>"$T/err"
r=$?
set -e
is "$r.$(cut -d' ' -f1 "$T/out" | sort -u | wc -l | tr -d ' ')" 0.1 \
	"commands, -j1, no --max-tasks-per-child: 1 parent"
set +e
seq 20 | timeout 60 $CCMAP --procs -j1 --chunksize 4 --max-tasks-per-child 1 'echo $PPID {}' \
	>"$T/out" 2>"$T/err"
r=$?
set -e
is "$(cut -d' ' -f2 "$T/out" | tr '\n' ' ')" "$(seq 20 | tr '\n' ' ')" \
	"commands, --chunksize 4 --max-tasks-per-child 1: every item once, in order"
is "$r" 0 "commands, --chunksize 4 --max-tasks-per-child 1: exit 0"

# With --threads the option has no effect.
run_case "--max-tasks-per-child with --threads: no effect, exit 0" 0 $'a\nb\nc\n' \
	-- timeout 60 $CCMAP --threads -j2 --max-tasks-per-child 1 echo ::: a b c
run_case "--max-tasks-per-child 0 is refused (exit 255)" 255 '' \
	-- timeout 60 $CCMAP --procs --max-tasks-per-child 0 echo ::: a
is "$(grep -c . "$T/err")" 1 "--max-tasks-per-child 0: one line on stderr"

done_testing
