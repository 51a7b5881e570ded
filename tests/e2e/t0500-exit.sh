#!/bin/bash
# t0500: exit status: 0 when every job succeeds, k for k failed jobs (1-100),
# 101 for more, 255 for ccmap's own errors (one "ccmap: " line, before any
# job runs); a command not found, not executable, or killed by a signal is
# reported with its job number and command, and counts as failed.
. "$(dirname "$0")/setup.sh"
cd "$T"  # jobs that should not run must not litter the tree

for ex in --threads --procs; do
	run_case "all succeed: 0 $ex" 0 '*' -- $CCMAP $ex true ::: $(seq 10)
	run_case "one fails: 1 $ex" 1 '*' -- $CCMAP $ex test 1 -eq ::: 1 2
	run_case "3 of 5 fail: 3 $ex" 3 '*' -- $CCMAP $ex test 3 -lt ::: 1 2 3 4 5
	run_case "100 fail: 100 $ex" 100 '*' -- $CCMAP $ex false ::: $(seq 100)
	run_case "101 fail: 101 $ex" 101 '*' -- $CCMAP $ex false ::: $(seq 101)
	run_case "150 fail: 101 $ex" 101 '*' -- $CCMAP $ex false ::: $(seq 150)
	run_case "exit codes other than 1 count once: 2 $ex" 2 '*' -- $CCMAP $ex 'exit {}' ::: 0 7 0 200
	run_case "shell line failing: counted $ex" 2 '*' -- $CCMAP $ex 'false | true; exit {}' ::: 3 0 4
done
run_case "failed jobs' output still written" 2 $'1\n2\n' -- $CCMAP 'echo {}; false' ::: 1 2

# --- command not found ---------------------------------------------------
for ex in --threads --procs; do
	run_case "command not found: counted as failed $ex" 2 $'ok\n' -- \
		$CCMAP $ex ::: 'no-such-command-zz1 a' 'echo ok' 'no-such-command-zz2'
	run_case "command not found (direct): exit 1 $ex" 1 '' -- $CCMAP $ex no-such-command-zz3 ::: arg1
	is "$(wc -l <"$T/err" | tr -d ' ')" 1 "command not found $ex: one line on stderr"
	stderr_has '^ccmap: .*job 1\b.*no-such-command-zz3' "command not found $ex: names job number and command"
	stderr_has 'not found' "command not found $ex: says not found"
	run_case "command not found, 3 jobs: 3 $ex" 3 '*' -- $CCMAP $ex -j1 no-such-command-zz4 ::: a b c
	run_case "third job not found $ex" 1 '*' -- $CCMAP $ex -j1 ::: true true no-such-command-zz5
	stderr_has 'job 3\b.*no-such-command-zz5' "not found $ex: job number is 3"
	run_case "missing absolute path $ex" 1 '' -- $CCMAP $ex "$T/no/such/prog" ::: x
	stderr_has "^ccmap: .*job 1\b.*$T/no/such/prog" "missing absolute path $ex: named"
done

# --- not executable ----------------------------------------------------
printf '#!/bin/sh\necho should not run\n' >"$T/noexec.sh"
chmod 644 "$T/noexec.sh"
for ex in --threads --procs; do
	run_case "not executable: failed $ex" 1 '' -- $CCMAP $ex "$T/noexec.sh" ::: x
	stderr_has "^ccmap: .*job 1\b.*$T/noexec.sh" "not executable $ex: names job and command"
	stderr_has "(ermission|executable)" "not executable $ex: says why"
	run_case "a directory as command $ex" 1 '' -- $CCMAP $ex "$T" ::: x
	stderr_has "^ccmap: .*job 1\b" "a directory as command $ex: reported"
done

# --- killed by a signal --------------------------------------------------
cat >"$T/die.sh" <<'EOF'
#!/bin/sh
echo "before $1"
kill -"$1" $$
sleep 5
EOF
chmod +x "$T/die.sh"
for ex in --threads --procs; do
	run_case "killed by SIGKILL: failed $ex" 1 '*' -- $CCMAP $ex -j1 "$T/die.sh" ::: KILL
	stderr_has "^ccmap: .*job 1\b.*die\.sh.*SIGKILL" "SIGKILL $ex: job, command and signal name"
	run_case "killed by SIGTERM, SIGSEGV: 2 failed $ex" 2 '*' -- $CCMAP $ex -j1 "$T/die.sh" ::: true TERM SEGV
	stderr_has "job 2\b.*die\.sh TERM.*SIGTERM" "SIGTERM $ex: job 2 named with signal"
	stderr_has "job 3\b.*die\.sh SEGV.*SIGSEGV" "SIGSEGV $ex: job 3 named with signal"
	run_case "killed job's output kept $ex" 1 $'before KILL\n' -- $CCMAP $ex "$T/die.sh" ::: KILL
done
run_case "killed inside a shell line: counted" 1 '*' -- $CCMAP 'sh -c "kill -KILL \$\$"; exit $?' ::: x

# --- usage errors: 255, one line, before any job ------------------------
# each: args... ; no job may run (a job would create $T/ran)
usage_case() { # NAME REGEX ARGS...
	_n=$1 _re=$2
	shift 2
	rm -f "$T/ran"
	run_case "$_n: exit 255" 255 '' -- $CCMAP "$@"
	is "$(wc -l <"$T/err" | tr -d ' ')" 1 "$_n: one line on stderr"
	stderr_has "^ccmap: .*$_re" "$_n: 'ccmap: ' line naming it"
	check "$_n: no job ran" test ! -e "$T/ran"
}
usage_case "unknown long option" '--no-such-opt' --no-such-opt touch "$T/ran" ::: x
usage_case "unknown short option" '-y' -y touch "$T/ran" ::: x
usage_case "bad -j" 'zz' -j zz touch "$T/ran" ::: x
usage_case "bad --chunksize" 'chunksize' --chunksize x touch "$T/ran" ::: x
usage_case "unreadable -a file" "$T/missing" -a "$T/missing" touch "$T/ran"
usage_case "unreadable :::: file" "$T/missing" touch "$T/ran" :::: "$T/missing"
usage_case "unterminated {1" '\{1' touch "$T/ran" '{1' ::: x
usage_case "unterminated {/." '\{/\.' touch "$T/ran" '{/.' ::: x
usage_case "missing value for -a" '-a' -a
usage_case "missing value for --tagstring" 'tagstring' --tagstring
usage_case "empty -I" '-I' -I '' touch "$T/ran" ::: x
usage_case "bad -d" 'delimiter|-d' -d 'xy' touch "$T/ran" ::: x
usage_case ":::: with no file" '::::' touch "$T/ran" ::::
chmod 000 "$T/noexec.sh"
if [ ! -r "$T/noexec.sh" ]; then
	usage_case "unreadable (mode 000) -a file" "$T/noexec.sh" -a "$T/noexec.sh" touch "$T/ran"
else
	# Root reads anything: run ccmap as nobody, for whom it is unreadable.
	saved=$CCMAP
	CCMAP="setpriv --reuid=65534 --regid=65534 --clear-groups $CCMAP"
	usage_case "unreadable (mode 000) -a file" "$T/noexec.sh" -a "$T/noexec.sh" touch "$T/ran"
	CCMAP=$saved
fi
usage_case "missing value for --chunksize" 'chunksize' --chunksize
usage_case "missing value for --tmpdir" 'tmpdir' --tmpdir
usage_case "missing value for --jobs" '(-j|--jobs)' --jobs

done_testing
