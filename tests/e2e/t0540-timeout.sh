#!/bin/bash
# t0540: --timeout.  A command job running too long is killed (TERM to its
# process group, then KILL), reported "ccmap: job N: 'CMD': timed out" and
# counted as failed, with --threads, --procs and -u; a job that ignores TERM
# is killed all the same.  A plugin's item: cooperative with --threads
# (host->expired()), its worker killed and replaced with --procs; either way
# "ccmap: item N: timed out".  Bad durations are refused.  No check looks at
# elapsed time; every ccmap runs under timeout 60, so a hang fails the test
# instead of blocking.
. "$(dirname "$0")/setup.sh"

top=${top_srcdir:-$SRC/../..}
command -v timeout >/dev/null 2>&1 || skip_all "no timeout(1)"

# A sleep this test alone runs: its duration is the marker pgrep looks for.
mark=1000.$$$RANDOM
SLEEP="sleep $mark"

left() { sleeps_left "$mark"; }
cleanup_left() { kill_sleeps "$mark"; }

# --- commands ----------------------------------------------------------------
for pool in --threads --procs -u; do
	set +e
	timeout 60 $CCMAP -j3 $pool --timeout 2 \
		"if [ {} = slow ]; then $SLEEP; fi; echo {}" ::: a slow b \
		>"$T/out" 2>"$T/err"
	r=$?
	set -e
	is "$r" 1 "$pool: a job past --timeout fails: exit 1"
	if [ "$pool" = -u ]; then
		is "$(sort "$T/out" | tr '\n' ' ')" "a b " "$pool: the other jobs' output intact"
	else
		is "$(cat "$T/out")" $'a\nb' "$pool: the other jobs' output intact, in order"
	fi
	is "$(cat "$T/err")" "ccmap: job 2: 'if [ slow = slow ]; then $SLEEP; fi; echo slow': timed out" \
		"$pool: one stderr line: job 2 timed out"
	l=$(left)
	is "$l" "" "$pool: no '$SLEEP' process left"
	[ -z "$l" ] || cleanup_left
done

# A job that ignores SIGTERM is killed by the SIGKILL that follows.
for pool in --threads --procs; do
	run_case "$pool: a job that ignores TERM is still killed: exit 1" 1 $'x\n' \
		-- timeout 60 $CCMAP -j2 $pool --timeout 2 \
		"if [ {} = t ]; then trap '' TERM; $SLEEP; fi; echo {}" ::: t x
	stderr_has "^ccmap: job 1: .*: timed out$" "$pool: TERM ignored: reported timed out"
	l=$(left)
	is "$l" "" "$pool: TERM ignored: no '$SLEEP' process left"
	[ -z "$l" ] || cleanup_left
done

# The whole process group goes: a pipeline and a background child.
run_case "a job's whole process group is killed" 1 '' \
	-- timeout 60 $CCMAP --timeout 2 "$SLEEP & $SLEEP | cat; wait" ::: 1
stderr_has 'timed out' "process group: reported timed out"
l=$(left)
is "$l" "" "process group: no '$SLEEP' process left"
[ -z "$l" ] || cleanup_left

# Several jobs time out: each counts.
run_case "three jobs time out: exit 3, the others' output kept" 3 $'0\n0\n' \
	-- timeout 60 $CCMAP -j5 --procs --timeout 1 \
	"if [ {} = 1 ]; then $SLEEP; fi; echo {}" ::: 1 0 1 0 1
is "$(grep -c 'timed out$' "$T/err")" 3 "three jobs time out: three stderr lines"
l=$(left)
is "$l" "" "three jobs time out: no '$SLEEP' process left"
[ -z "$l" ] || cleanup_left

# Fast jobs are not touched.
run_case "jobs within --timeout succeed" 0 $'a\nb\nc\n' \
	-- timeout 60 $CCMAP --timeout 30 echo ::: a b c
is "$ERR" "" "jobs within --timeout: nothing on stderr"

# --- durations ---------------------------------------------------------------
for d in 1.5 250ms 2s 1m 1h 1d; do
	run_case "--timeout $d is accepted" 0 $'ok\n' \
		-- timeout 60 $CCMAP --timeout "$d" echo ::: ok
done
# A tiny one too; with no items, so that no job can outlast it.
run_case "--timeout 0.001 is accepted" 0 '' \
	-- timeout 60 $CCMAP --timeout 0.001 echo
run_case "--timeout=10s (with =) is accepted" 0 $'ok\n' \
	-- timeout 60 $CCMAP --timeout=10s echo ::: ok
for d in x 0 -1 1y '' 0s 1.2.3 ms; do
	run_case "--timeout '$d' is refused: exit 255" 255 '' \
		-- timeout 60 $CCMAP --timeout "$d" echo ::: a
	is "$(printf '%s' "$ERR" | grep -c .)" 1 "--timeout '$d': one line on stderr"
	stderr_has "^ccmap: invalid duration '$d'" "--timeout '$d': says the duration is invalid"
done
run_case "--timeout with no value: exit 255" 255 '' -- timeout 60 $CCMAP --timeout

# --- plugins -----------------------------------------------------------------
if ! command -v cc >/dev/null 2>&1; then
	skip "plugin timeouts" "no C compiler (cc)"
	done_testing
fi
# "spin" loops until host->expired() and then fails; "hang" blocks for
# ever; anything else is printed.
cat >"$T/slow.c" <<'EOF'
#include <string.h>
#include <unistd.h>
#include <ccmap/plugin.h>

static int
slow_map(const struct ccmap_host *host, struct ccmap_call *call,
    void *wstate, const char *item, size_t len)
{
	(void)wstate;
	if (len == 4 && memcmp(item, "spin", 4) == 0) {
		while (!host->expired(call))
			usleep(1000);
		return 1;
	}
	if (len == 4 && memcmp(item, "hang", 4) == 0)
		for (;;)
			pause();
	return host->printf(call, 1, "%.*s\n", (int)len, item) != 0;
}

const struct ccmap_plugin ccmap_plugin = {
	.abi = CCMAP_PLUGIN_ABI,
	.flags = CCMAP_PLUGIN_THREADSAFE,
	.name = "slow",
	.map = slow_map,
};
EOF
if ! cc -shared -fPIC -I"$top/src" "$T/slow.c" -o "$T/slow.so" 2>"$T/cc.err"; then
	diag <"$T/cc.err"
	skip "plugin timeouts" "cannot build a test plugin"
	done_testing
fi
PL=$T/slow.so

# --threads: cooperative, through host->expired().
run_case "--threads: a spinning item gives up at the timeout: exit 1" 1 $'a\nb\n' \
	-- timeout 60 $CCMAP --threads -j2 --timeout 1 --so "$PL" ::: a spin b
stderr_is $'ccmap: item 2: timed out\n' "--threads: 'ccmap: item 2: timed out'"
run_case "--threads -j1: a spinning item, the others in order: exit 1" 1 $'a\nb\nc\n' \
	-- timeout 60 $CCMAP --threads -j1 --timeout 1 --so "$PL" ::: a spin b c
stderr_is $'ccmap: item 2: timed out\n' "--threads -j1: 'ccmap: item 2: timed out'"
run_case "--threads: without --timeout, host->expired() stays 0 (fast items)" 0 $'a\nb\n' \
	-- timeout 60 $CCMAP --threads --so "$PL" ::: a b

# --procs: the worker is killed and replaced.
run_case "--procs: a hanging item is killed, the others in order: exit 1" 1 $'a\nb\nc\n' \
	-- timeout 60 $CCMAP --procs -j2 --timeout 1 --so "$PL" ::: a hang b c
stderr_is $'ccmap: item 2: timed out\n' "--procs: 'ccmap: item 2: timed out'"
run_case "--procs --chunksize 1: a hanging item, then more: exit 1" 1 "$(printf '%s\n' a b c d e f g)
" -- timeout 60 $CCMAP --procs -j2 --chunksize 1 --timeout 1 --so "$PL" \
	::: a hang b c d e f g
stderr_is $'ccmap: item 2: timed out\n' "--procs --chunksize 1: 'ccmap: item 2: timed out'"
run_case "--procs: a spinning item gives up or is killed: exit 1" 1 $'a\nb\n' \
	-- timeout 60 $CCMAP --procs -j2 --timeout 1 --so "$PL" ::: a spin b
stderr_is $'ccmap: item 2: timed out\n' "--procs, spin: 'ccmap: item 2: timed out'"

done_testing
