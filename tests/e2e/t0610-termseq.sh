#!/bin/bash
# t0610: stopping jobs as GNU parallel does.  --termseq (bad values refused
# before any job, one line, 255); one SIGTERM, SIGINT or SIGQUIT ends ccmap
# even when its jobs catch or ignore SIGTERM (the sequence, then SIGKILL),
# with 143, 130, 131, the finished output written; SIGINT and SIGTERM reach
# the jobs first; the same signal again ends at once; SIGHUP starts no new
# job and lets the running ones finish (GNU's exit status: the failed jobs),
# and is ignored under nohup; --timeout and --halt now follow the sequence;
# SIGKILL to ccmap takes its workers and jobs with it.  With --threads and
# --procs.  Each signal is sent once, after the jobs say they are ready;
# every wait is a hang detector (30 s), never a measure; no process may be
# left (zombies aside: PID 1 here does not reap them).
. "$(dirname "$0")/setup.sh"

# Background jobs of a script without job control ignore SIGINT.
set -m

# Our processes have this in their command line: ccmap (and its workers and
# guard, which are forks of it), the jobs' shells and their sleeps.
MARK="1000.$$$RANDOM"
exists() { [ -e "$1" ]; }
all_exist() { local f; for f; do [ -e "$f" ] || return 1; done; }

# job.sh MODE NAME MARK: a job.  It says it is ready (ready.NAME), then:
#   catch   notes each SIGTERM and SIGINT it gets (in got.NAME) and goes on
#   ignore  ignores SIGTERM and SIGINT
#   wait    waits for the file go, then prints NAME (fail: and exits 3)
#   quick   prints NAME at once (says nothing)
cat >"$T/job.sh" <<EOF
#!/bin/sh
mode=\$1 name=\$2 mark=\$3
case \$mode in
quick) echo "\$name"; exit 0 ;;
catch) trap 'echo TERM >>"$T/got.\$name"' TERM
	trap 'echo INT >>"$T/got.\$name"' INT ;;
ignore) trap '' TERM INT ;;
esac
touch "$T/ready.\$name"
case \$mode in
wait|fail)
	while [ ! -e "$T/go" ]; do sleep 0.05; done
	echo "\$name"
	[ \$mode = wait ]; exit ;;
esac
while :; do sleep "\$mark"; done
EOF
chmod +x "$T/job.sh"
J=$T/job.sh

reset() { rm -f "$T"/ready.* "$T"/got.* "$T/go"; }

# --- --termseq values ---------------------------------------------------------
for v in '' FOO,100 TERM,x TERM,-1 TERM,1.5 'TERM,200,' ,TERM TERM,,KILL \
	TERM,86400001 0,100 SIG; do
	rm -f "$T/ran"
	run_case "--termseq '$v' is refused: exit 255" 255 '' \
		-- $CCMAP --termseq "$v" touch "$T/ran" ::: a
	is "$(printf '%s' "$ERR" | grep -c .)" 1 "--termseq '$v': one line on stderr"
	stderr_has "^ccmap: invalid value '.*' for --termseq: '.*' is not a (signal|wait in milliseconds)" \
		"--termseq '$v': says which part is wrong"
	check "--termseq '$v': no job ran" test ! -e "$T/ran"
done
run_case "--termseq with 33 signals is refused" 255 '' \
	-- $CCMAP --termseq "$(printf 'TERM,1,%.0s' $(seq 32))KILL" echo ::: a
stderr_has "more than 32 signals" "--termseq: 33 signals: says so"
for v in KILL TERM,0,KILL sigint,10,9,0 15,100,SIGKILL,25 \
	TERM,200,TERM,100,TERM,50,KILL,25; do
	run_case "--termseq $v is accepted" 0 $'a\n' -- $CCMAP --termseq "$v" echo ::: a
done
run_case "--term-seq=INT,10,KILL (GNU's other spelling) is accepted" 0 $'a\n' \
	-- $CCMAP --term-seq=INT,10,KILL echo ::: a

# --- one signal ends ccmap, whatever its jobs do with it -------------------------
for ex in --threads --procs; do
	for sig in TERM INT QUIT; do
		case $sig in
		TERM) want=143 first=TERM ;;
		INT) want=130 first=INT ;;
		QUIT) want=131 first=TERM ;;	# QUIT is not passed on
		esac
		n="SIG$sig $ex, jobs that catch or ignore TERM"
		reset
		rm -rf "$T/tmp"
		mkdir "$T/tmp"
		TMPDIR=$T/tmp $CCMAP $ex -j3 "$J" {} {} "$MARK" ::: quick catch ignore \
			>"$T/out" 2>"$T/err" &
		cpid=$!
		if wait_for 30 all_exist "$T/ready.catch" "$T/ready.ignore"; then
			pass "$n: jobs ready"
		else
			fail "$n: jobs ready"
		fi
		kill -$sig $cpid 2>/dev/null || true
		ends "$n" $cpid
		is "$s" "$want" "$n: exit status $want"
		is "$(cat "$T/out")" quick "$n: the finished job's output is written"
		is "$(head -n 1 "$T/got.catch" 2>/dev/null)" "$first" \
			"$n: the job got SIG$first first"
		is "$(ls -A "$T/tmp")" "" "$n: TMPDIR empty"
		no_process_left "$n"
	done
done

# -u too: the jobs write straight to our stdout.
reset
$CCMAP -u -j2 "$J" {} {} "$MARK" ::: catch ignore >"$T/out" 2>"$T/err" &
cpid=$!
wait_for 30 all_exist "$T/ready.catch" "$T/ready.ignore" || true
kill -TERM $cpid 2>/dev/null || true
ends "SIGTERM -u" $cpid
is "$s" 143 "SIGTERM -u: exit status 143"
no_process_left "SIGTERM -u"

# --- the same signal again: at once, without waiting out the sequence ---------
for ex in --threads --procs; do
	n="SIGTERM twice $ex, --termseq TERM,100000"
	reset
	$CCMAP $ex --termseq TERM,100000 -j2 "$J" {} {} "$MARK" ::: catch ignore \
		>"$T/out" 2>"$T/err" &
	cpid=$!
	wait_for 30 all_exist "$T/ready.catch" "$T/ready.ignore" || true
	kill -TERM $cpid 2>/dev/null || true
	# The first one has been acted on once the job has it.
	if wait_for 30 exists "$T/got.catch"; then
		pass "$n: the job got the first"
	else
		fail "$n: the job got the first"
	fi
	kill -TERM $cpid 2>/dev/null || true
	ends "$n" $cpid
	is "$s" 143 "$n: exit status 143"
	no_process_left "$n"
done

# --- SIGHUP: no new job, the running ones finish ------------------------------------
for ex in --threads --procs; do
	for mode in wait fail; do
		n="SIGHUP $ex, jobs that $mode"
		want=0
		[ $mode = fail ] && want=2	# two jobs ran and failed
		reset
		$CCMAP $ex -j2 "$J" $mode {} "$MARK" ::: w1 w2 w3 w4 >"$T/out" 2>"$T/err" &
		cpid=$!
		wait_for 30 all_exist "$T/ready.w1" "$T/ready.w2" || true
		kill -HUP $cpid 2>/dev/null || true
		if wait_for 30 grep -q SIGHUP "$T/err"; then
			pass "$n: says so"
		else
			fail "$n: says so"
		fi
		: >"$T/go"
		ends "$n" $cpid
		is "$s" "$want" "$n: exit status $want (as GNU parallel)"
		is "$(cat "$T/out" | tr '\n' ' ')" "w1 w2 " "$n: the running jobs finished"
		check "$n: no new job started" test ! -e "$T/ready.w3" -a ! -e "$T/ready.w4"
		no_process_left "$n"
	done
done

# Under nohup (SIGHUP ignored), the run goes on.
reset
(trap '' HUP; exec $CCMAP -j2 "$J" wait {} "$MARK" ::: w1 w2 w3 w4) >"$T/out" 2>"$T/err" &
cpid=$!
wait_for 30 all_exist "$T/ready.w1" "$T/ready.w2" || true
kill -HUP $cpid 2>/dev/null || true
: >"$T/go"
ends "SIGHUP ignored" $cpid
is "$s" 0 "SIGHUP ignored: exit status 0"
is "$(cat "$T/out" | tr '\n' ' ')" "w1 w2 w3 w4 " "SIGHUP ignored: every job ran"
is "$(cat "$T/err")" "" "SIGHUP ignored: nothing said"

# --- --timeout and --halt now kill by the sequence ---------------------------------
for ex in --threads --procs; do
	n="--timeout $ex --termseq INT,100"
	reset
	$CCMAP $ex --timeout 1 --termseq INT,100 "$J" {} {} "$MARK" ::: catch \
		>"$T/out" 2>"$T/err" &
	cpid=$!
	ends "$n" $cpid
	is "$s" 1 "$n: the job fails: exit 1"
	is "$(head -n 1 "$T/got.catch" 2>/dev/null)" INT "$n: the job got SIGINT first"
	stderr_has "^ccmap: job 1: .*: timed out$" "$n: reported timed out"
	no_process_left "$n"

	n="--timeout $ex, a job that ignores TERM and INT"
	reset
	$CCMAP $ex --timeout 1 --termseq TERM,50,INT,50 "$J" {} {} "$MARK" ::: ignore \
		>"$T/out" 2>"$T/err" &
	cpid=$!
	ends "$n" $cpid
	is "$s" 1 "$n: killed after the sequence: exit 1"
	no_process_left "$n"

	n="--halt now $ex, jobs that catch or ignore TERM"
	reset
	$CCMAP $ex -j3 --halt now,fail=1 \
		"if [ {} = f ]; then while [ ! -e '$T/ready.catch' ] || [ ! -e '$T/ready.ignore' ]; do sleep 0.05; done; exit 4; fi; exec '$J' {} {} $MARK" \
		::: catch ignore f >"$T/out" 2>"$T/err" &
	cpid=$!
	ends "$n" $cpid
	is "$s" 4 "$n: the failed job's status: 4"
	no_process_left "$n"
done

# --- SIGKILL: nothing can be done then, but nothing is left behind ------------
for ex in --threads --procs; do
	n="SIGKILL $ex"
	reset
	$CCMAP $ex -j2 "$J" {} {} "$MARK" ::: catch ignore >"$T/out" 2>"$T/err" &
	cpid=$!
	wait_for 30 all_exist "$T/ready.catch" "$T/ready.ignore" || true
	if wait_for 30 pgrep -x -P $cpid ccmap-guard >/dev/null; then
		pass "$n: the guard started"
	else
		fail "$n: the guard started"
	fi
	kill -KILL $cpid 2>/dev/null || true
	wait $cpid && s=0 || s=$?
	is "$s" 137 "$n: killed"
	no_process_left "$n"
done
set +m

done_testing
