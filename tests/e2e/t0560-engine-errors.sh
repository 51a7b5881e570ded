#!/bin/bash
# t0560: an error of the engine itself (poll() fails; the signal pipe
# cannot be made) reaches the user as one line on stderr and exit 255, with
# the running jobs killed and none left behind, and the output of the jobs
# that had finished written.  The failures are made on purpose by
# tests/helper/ccmap-fault (CCMAP_TEST_FAULT, see tests/helper/fault.c):
# its poll() fails on the main thread from the first call, or once a file
# exists, so that no check depends on timing.
. "$(dirname "$0")/setup.sh"

command -v timeout >/dev/null 2>&1 || skip_all "no timeout(1)"

P=${CCMAP_PLUGIN_DIR:-$SRC/../../src/plugins/.libs}
mark=1000.$$$RANDOM
SLEEP="sleep $mark"
F=$T/fail-now

# procs_left MARK: the processes (not zombies) whose command line holds
# MARK, after waiting up to 2 s for them to go; empty when none is left.
procs_left() {
	local n
	for n in 1 2 3 4 5 6 7 8 9 10; do
		ps -eo pid=,stat=,args= |
			awk -v m="$1" '$2 !~ /^Z/ && index($0, m) &&
				!/ awk / && !/ps -eo/' >"$T/left"
		[ -s "$T/left" ] || return 0
		sleep 0.2
	done
	cat "$T/left"
}

# fault SPEC ARG...: run ccmap-fault ARG... with CCMAP_TEST_FAULT=SPEC.
fault() {
	local spec=$1
	shift
	CCMAP_TEST_FAULT=$spec timeout -k 5 60 $CCMAP_FAULT "$@"
}

# Without CCMAP_TEST_FAULT, ccmap-fault is ccmap.
run_case "ccmap-fault without a fault: runs as ccmap" 0 $'a\nb\n' \
	-- fault '' echo ::: a b

# --- poll() fails while jobs run --------------------------------------------
# Threads, -u: job 2 writes, then makes the file; the first poll after it
# fails (job 2's end wakes the loop).  Job 1 runs until it is killed.
rm -f "$F"
run_case "threads: poll fails (EINVAL): exit 255, job 2's output" 255 $'two\n' \
	-- fault "poll,EINVAL,$F" -u -j2 ::: "$SLEEP" "echo two; touch '$F'"
stderr_is "ccmap: poll failed: Invalid argument; killing the running jobs
" "threads: one line, naming poll and the error"
l=$(sleeps_left "$mark")
is "$l" "" "threads: the running job was killed"
[ -z "$l" ] || kill_sleeps "$mark"

# Processes, grouped, with a joblog, two slots: job 2 runs on.  Job 3
# starts once job 1 is collected and job 4 once job 3 is: job 4 makes the
# file, writes (which wakes the loop) and runs on, so the failing poll comes
# after job 3 is collected, whatever else wakes the loop (the guard's start,
# a signal).  Jobs 2 and 4 are killed, their output and joblog lines
# dropped; job 3's output, held behind job 2, and job 1's and job 3's lines
# are written.
rm -f "$F"
run_case "procs: poll fails (ENOMEM): exit 255, the finished jobs' output" 255 $'one\nthree\n' \
	-- fault "poll,ENOMEM,$F" --procs -j2 --joblog "$T/log" \
	::: "echo one" "$SLEEP" "echo three" "touch '$F'; echo four; $SLEEP"
stderr_is "ccmap: poll failed: Cannot allocate memory; killing the running jobs
" "procs: one line, naming poll and the error"
l=$(sleeps_left "$mark")
is "$l" "" "procs: the running jobs were killed"
[ -z "$l" ] || kill_sleeps "$mark"
is "$(cut -f1,7,9 "$T/log")" "$(printf 'Seq\tExitval\tCommand\n1\t0\techo one\n3\t0\techo three')" \
	"procs: the joblog has the finished jobs, the killed ones' lines dropped"

# The first poll fails: the jobs just handed out are killed, in whichever
# state they are (started or not), on each pool.
for pool in --threads --procs; do
	run_case "$pool: the first poll fails: exit 255, no output" 255 '' \
		-- fault "poll,EINVAL,1" $pool -j3 ::: "$SLEEP" "$SLEEP" "$SLEEP" "echo x"
	stderr_is "ccmap: poll failed: Invalid argument; killing the running jobs
" "$pool: the first poll fails: one line"
	l=$(sleeps_left "$mark")
	is "$l" "" "$pool: the first poll fails: no job left"
	[ -z "$l" ] || kill_sleeps "$mark"
done

# A plugin's worker process stuck in an item (sha256 opening a fifo that
# no one writes) is killed too.
if [ -e "$P/sha256.so" ]; then
	fifo=$T/fifo-$mark
	mkfifo "$fifo"
	run_case "--procs plugin: the first poll fails: exit 255" 255 '' \
		-- fault "poll,EINVAL,1" --procs -j2 --so "$P/sha256.so" ::: "$fifo" /dev/null "$fifo"
	stderr_is "ccmap: poll failed: Invalid argument; killing the running jobs
" "--procs plugin: one line"
	l=$(procs_left "$fifo")
	is "$l" "" "--procs plugin: no worker left"
	for pid in $(awk '{ print $1 }' "$T/left"); do kill -KILL "$pid" 2>/dev/null || true; done
else
	skip "--procs plugin and a failed poll" "no sha256 plugin built"
fi

# --- the signal pipe cannot be made -------------------------------------------
run_case "the signal pipe cannot be made (EMFILE): exit 255, no job" 255 '' \
	-- fault "pipe2,EMFILE,1" echo ::: a
stderr_is "ccmap: cannot catch signals: Too many open files
" "the signal pipe: one line"

done_testing
