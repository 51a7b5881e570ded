#!/bin/bash
# t1200: --halt, as GNU parallel: the forms it accepts, when the run stops
# (soon: no new job, the running ones finish; now: they are killed, TERM
# then KILL to their process groups, none left), the exit status it
# decides, and the one-line reports.  The output of every job that
# finished comes out, in order (GNU parallel -k loses the finished jobs
# queued behind a killed one: the one difference, pinned below).
#
# No check depends on timing: jobs wait for events (a file, a line on
# ccmap's stderr) with a generous bound, and under --halt a job starts only
# when a slot is free, so "job 3 started" means "job 1 or 2 was collected".
. "$(dirname "$0")/setup.sh"

command -v timeout >/dev/null 2>&1 || skip_all "no timeout(1)"
have_parallel=
command -v parallel >/dev/null 2>&1 && have_parallel=1

mark=1000.$$$RANDOM
SLEEP="sleep $mark"
left() { sleeps_left "$mark"; }
cleanup_left() { kill_sleeps "$mark"; }
# WAITFOR FILE: a shell snippet that waits (at most 60 s) for FILE.
waitfor() {
	printf 'i=0; while [ ! -e %s ] && [ $i -lt 6000 ]; do sleep 0.01; i=$((i+1)); done' "$1"
}

# same_as_parallel NAME ARGS...: stdout and exit status of ccmap -j1 ARGS
# and parallel -k -j1 ARGS are the same.
same_as_parallel() {
	local name=$1
	shift
	if [ -z "$have_parallel" ]; then
		skip "$name (as parallel)" "GNU parallel not installed"
		return
	fi
	set +e
	timeout 60 $CCMAP "$@" >"$T/c.out" 2>/dev/null </dev/null
	local cr=$?
	timeout 60 parallel --will-cite -k "$@" >"$T/p.out" 2>/dev/null </dev/null
	local pr=$?
	set -e
	is "$cr $(cat "$T/c.out" | tr '\n' ' ')" "$pr $(cat "$T/p.out" | tr '\n' ' ')" \
		"$name (as parallel: status and output)"
}

# --- the forms: one at a time, one job at a time ---------------------------
E='echo {}; exit {}'
run_case "now,fail=1: stops at the first failure, its status" 3 $'0\n3\n' \
	-- timeout 60 $CCMAP -j1 --halt now,fail=1 "$E" ::: 0 3 0 4
stderr_is "ccmap: job 2: 'echo 3; exit 3': failed with exit status 3
" "now,fail=1: one line for the failed job"
same_as_parallel "now,fail=1" -j1 --halt now,fail=1 "$E" ::: 0 3 0 4

run_case "soon,fail=2: the number of failed jobs" 2 $'0\n3\n0\n1\n' \
	-- timeout 60 $CCMAP -j1 --halt soon,fail=2 "$E" ::: 0 3 0 1 0 2 0
is "$(grep -c 'failed with exit status' "$T/err")" 2 "soon,fail=2: two failures reported"
same_as_parallel "soon,fail=2" -j1 --halt soon,fail=2 "$E" ::: 0 3 0 1 0 2 0

run_case "now,success=2: exit 0 whatever failed" 0 $'3\n0\n4\n0\n' \
	-- timeout 60 $CCMAP -j1 --halt now,success=2 "$E" ::: 3 0 4 0 5
stderr_is "ccmap: job 2: 'echo 0; exit 0': succeeded
ccmap: job 4: 'echo 0; exit 0': succeeded
" "now,success=2: the jobs that succeeded reported"
same_as_parallel "now,success=2" -j1 --halt now,success=2 "$E" ::: 3 0 4 0 5

run_case "soon,done=3: after three jobs, the failed count" 1 $'0\n3\n0\n' \
	-- timeout 60 $CCMAP -j1 --halt soon,done=3 "$E" ::: 0 3 0 1
stderr_has "^ccmap: job 1: 'echo 0; exit 0': finished with exit status 0$" "done: every job reported"
same_as_parallel "soon,done=3" -j1 --halt soon,done=3 "$E" ::: 0 3 0 1

# done=N halting a run in which no job failed: 101, as GNU parallel exits
# (the least of 101 and a failed count it never set).
run_case "soon,done=2, none failed: exit 101" 101 $'0\n0\n' \
	-- timeout 60 $CCMAP -j1 --halt soon,done=2 "$E" ::: 0 0 0 4
same_as_parallel "soon,done=2, none failed" -j1 --halt soon,done=2 "$E" ::: 0 0 0 4
# Every done= form, now and soon, with and without failures, before and
# after the halt.
for h in now,done=1 soon,done=3 now,done=3 soon,done=5 now,done=50% soon,done=25% \
	soon,done=100% soon,done=200%; do
	for items in "0 0 0 0" "0 3 0 0" "3 4 0 5"; do
		same_as_parallel "$h ::: $items" -j1 --halt $h "$E" ::: $items
	done
done

run_case "soon,done=50% of 8: after 4, ceil(1/8 * 100)" 13 $'0\n0\n0\n1\n' \
	-- timeout 60 $CCMAP -j1 --halt soon,done=50% "$E" ::: 0 0 0 1 0 0 0 0
same_as_parallel "soon,done=50%" -j1 --halt soon,done=50% "$E" ::: 0 0 0 1 0 0 0 0

run_case "now,fail=50% never reached: failed percent of the started" 25 \
	"$(printf '%s\n' 0 3 0 0 1 0 0 0)
" -- timeout 60 $CCMAP -j1 --halt now,fail=50% "$E" ::: 0 3 0 0 1 0 0 0
same_as_parallel "now,fail=50% not reached" -j1 --halt now,fail=50% "$E" ::: 0 3 0 0 1 0 0 0
run_case "50% (soon,fail=50%) of 2 jobs is one: its status" 3 $'0\n3\n' \
	-- timeout 60 $CCMAP -j1 --halt 50% "$E" ::: 0 3
same_as_parallel "50% of 2" -j1 --halt 50% "$E" ::: 0 3

for f in '2 5 5' '1 5 5' '-1 0 0' '-2 0 0' '0 2 2' 'never 2 2' 'never,fail=1 2 2' 'now=fail=1 5 5' 'now,fail=1,x 5 5'; do
	set -- $f
	run_case "--halt $1: exit $2" "$2" '*' -- timeout 60 $CCMAP -j1 --halt "$1" "$E" ::: 5 0 7
	same_as_parallel "--halt $1" -j1 --halt "$1" "$E" ::: 5 0 7
done

# The status of the job that made the run halt: signal, timeout, not found.
run_case "now,fail=1, a job killed by SIGKILL: 128 + 9" 137 '' \
	-- timeout 60 $CCMAP -j1 --halt now,fail=1 'kill -9 $$' ::: 1 2
stderr_is "ccmap: job 1: 'kill -9 \$\$ 1': killed by SIGKILL
" "a killed job: reported once, as killed"
run_case "now,fail=1, a job that timed out: 255 (GNU parallel's -1)" 255 $'a\n' \
	-- timeout 60 $CCMAP -j1 --timeout 1 --halt now,fail=1 "echo {}; $SLEEP" ::: a b
stderr_is "ccmap: job 1: 'echo a; $SLEEP': timed out
" "a timed-out job: reported once"
run_case "now,fail=1, a command not found: 127" 127 '' \
	-- timeout 60 $CCMAP -j1 --halt now,fail=1 no-such-command-$$ ::: 1 2

# --- bad values ---------------------------------------------------------------
for v in 3 soon now now,fail 'now,fail=' now,fail=x now,bad=1 NOW,fail=1 now,fail=0 0% ''; do
	run_case "--halt '$v' is refused: exit 255" 255 '' \
		-- timeout 60 $CCMAP --halt "$v" echo ::: a
	is "$(printf '%s' "$ERR" | grep -c .)" 1 "--halt '$v': one line on stderr"
	stderr_has "^ccmap: invalid value '$v' for --halt" "--halt '$v': names the option"
done

# --- soon: the running job finishes, no new one starts ------------------------
# Job 1 runs until ccmap says it starts no more jobs; job 2 fails; job 3
# must never start.
for pool in --threads --procs; do
	run_case "$pool: soon,fail=1: the running job finishes, none starts" 4 $'one\ntwo\n' \
		-- timeout 60 $CCMAP -j2 $pool --halt soon,fail=1 \
		"case {} in
		1) i=0; until grep -q 'starting no more' '$T/err' || [ \$i -ge 6000 ]; do sleep 0.01; i=\$((i+1)); done; echo one ;;
		2) echo two; exit 4 ;;
		3) echo three; touch '$T/three' ;;
		esac" ::: 1 2 3
	stderr_has "^ccmap: starting no more jobs, waiting for 1 job to finish$" "$pool: soon: says so"
	check "$pool: soon: job 3 never started" test ! -e "$T/three"
done

# --- now: the running jobs are killed, none left ----------------------------
# -j2: job 1 runs for ever, job 2 ends, so job 3 starts (a slot is free)
# and fails: job 1 is killed and its output dropped; 2 and 3 come out, in
# order (GNU parallel -k drops them too: it prints nothing after job 1).
for pool in --threads --procs; do
	run_case "$pool: now,fail=1: the running job is killed, the finished ones' output kept" 4 $'two\nthree\n' \
		-- timeout 60 $CCMAP -j2 $pool --halt now,fail=1 \
		"case {} in 1) echo one; $SLEEP ;; 2) echo two ;; 3) echo three; exit 4 ;; 4) touch '$T/four' ;; esac" ::: 1 2 3 4
	stderr_is "ccmap: job 3: 'case 3 in 1) echo one; $SLEEP ;; 2) echo two ;; 3) echo three; exit 4 ;; 4) touch '$T/four' ;; esac': failed with exit status 4
" "$pool: now: one line, for the failed job"
	check "$pool: now: job 4 never started" test ! -e "$T/four"
	l=$(left)
	is "$l" "" "$pool: now: no '$SLEEP' left"
	[ -z "$l" ] || cleanup_left
done
if [ -n "$have_parallel" ]; then
	set +e
	timeout 60 parallel --will-cite -k -j2 --halt now,fail=1 \
		"case {} in 1) echo one; $SLEEP ;; 2) echo two ;; 3) echo three; exit 4 ;; esac" ::: 1 2 3 \
		>"$T/p.out" 2>/dev/null
	pr=$?
	set -e
	is "$pr:$(cat "$T/p.out")" "4:" "GNU parallel -k: same status, and the finished jobs' output lost"
	cleanup_left
fi

# A job that ignores TERM, and one with children in its group: KILL.
run_case "now: a job that ignores TERM is killed all the same" 5 '' \
	-- timeout 60 $CCMAP -j2 --halt 2 \
	"if [ {} = t ]; then trap '' TERM; touch '$T/t'; $SLEEP & $SLEEP; fi; $(waitfor "$T/t"); exit 5" ::: t f
l=$(left)
is "$l" "" "now: TERM ignored: no '$SLEEP' left"
[ -z "$l" ] || cleanup_left

# -u: the killed job's output went straight out; still killed, none left.
run_case "-u: now,fail=1 kills the running job" 6 '*' \
	-- timeout 60 $CCMAP -u -j2 --halt now,fail=1 \
	"if [ {} = s ]; then touch '$T/s'; $SLEEP; fi; $(waitfor "$T/s"); exit 6" ::: s f
l=$(left)
is "$l" "" "-u: now: no '$SLEEP' left"
[ -z "$l" ] || cleanup_left

# --as-completed: the same.
run_case "--as-completed: now,fail=1: the finished job's output, not the killed one's" 7 $'f\n' \
	-- timeout 60 $CCMAP --as-completed -j2 --halt now,fail=1 \
	"if [ {} = s ]; then echo s; touch '$T/s2'; $SLEEP; fi; $(waitfor "$T/s2"); echo {}; exit 7" ::: s f
l=$(left)
is "$l" "" "--as-completed: now: no '$SLEEP' left"
[ -z "$l" ] || cleanup_left

# --- plugins: an item's failure stops the run ---------------------------------
P=${CCMAP_PLUGIN_DIR:-$SRC/../../src/plugins/.libs}
unset CCMAP_PLUGIN_PATH
if [ -e "$P/sha256.so" ]; then
	seq 1 3 | sed "s|.*|$T/missing|" >"$T/items"
	seq 1 500 | sed "s|.*|/dev/null|" >>"$T/items"
	for pool in --threads --procs; do
		run_case "$pool plugin: without --halt, three failed items: exit 3" 3 '*' \
			-- timeout 60 $CCMAP $pool -j2 -a "$T/items" --so "$P/sha256.so"
		run_case "$pool plugin: now,fail=1: exit 1, the failed item's status" 1 '*' \
			-- timeout 60 $CCMAP $pool -j2 --halt now,fail=1 -a "$T/items" --so "$P/sha256.so"
		run_case "$pool plugin: soon,fail=2: exit 2" 2 '*' \
			-- timeout 60 $CCMAP $pool -j2 --halt soon,fail=2 -a "$T/items" --so "$P/sha256.so"
		run_case "$pool plugin: soon,done=2, none failed: exit 101" 101 '*' \
			-- timeout 60 $CCMAP $pool -j2 --halt soon,done=2 --so "$P/sha256.so" \
			::: /dev/null /dev/null /dev/null
	done
else
	skip "plugins and --halt" "no sha256 plugin built"
fi

done_testing
