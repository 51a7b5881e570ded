#!/bin/bash
# t1230: --joblog FILE in GNU parallel's format: the header, one line per
# job with the fields it writes (Seq, Host ':', Starttime with 3 decimals,
# JobRuntime padded to 10, Send, Receive = stdout bytes (with --results DIR,
# its file's), Exitval (-1 for a
# timeout), Signal, the command line with newlines as NUL), lines in the
# order the outputs are written; "-" for stdout, after each job's output;
# "+FILE" to append.  The deterministic fields are compared with GNU
# parallel's joblog of the same run.
. "$(dirname "$0")/setup.sh"

command -v timeout >/dev/null 2>&1 || skip_all "no timeout(1)"
have_parallel=
command -v parallel >/dev/null 2>&1 && have_parallel=1
HEADER='Seq	Host	Starttime	JobRuntime	Send	Receive	Exitval	Signal	Command'
mark=1000.$$$RANDOM

# fixed LOG: the joblog without its two times (fields 3 and 4), checked
# for their format: Starttime NNN.NNN, JobRuntime %10.3f.
fixed() {
	awk -F '\t' -v OFS='\t' '
		NR == 1 { print; next }
		$3 !~ /^[0-9]+\.[0-9][0-9][0-9]$/ { print "bad Starttime: " $3 }
		length($4) != 10 || $4 !~ /^ *[0-9]+\.[0-9][0-9][0-9]$/ { print "bad JobRuntime: [" $4 "]" }
		{ $3 = "T"; $4 = "R"; print }' "$1"
}

# A job for each case: exit status, signal, output sizes, not found.
J='case {} in ok) echo hello ;; fail) printf abc; exit 3 ;; kill) echo k; kill -9 $$ ;; term) kill -15 $$ ;; err) echo e >&2 ;; esac'
run_case "--joblog: the jobs run as without it" 3 $'hello\nabck\n' \
	-- timeout 60 $CCMAP -j3 --joblog "$T/log" "$J" ::: ok fail kill term err
is "$(fixed "$T/log")" "$HEADER
1	:	T	R	0	6	0	0	${J//\{\}/ok}
2	:	T	R	0	3	3	0	${J//\{\}/fail}
3	:	T	R	0	2	0	9	${J//\{\}/kill}
4	:	T	R	0	0	0	15	${J//\{\}/term}
5	:	T	R	0	0	0	0	${J//\{\}/err}" "--joblog: header and fields, in input order"

compare() { # NAME ARGS...: ccmap's and parallel's joblog, times aside
	local name=$1
	shift
	if [ -z "$have_parallel" ]; then
		skip "$name (as parallel)" "GNU parallel not installed"
		return
	fi
	rm -f "$T/c.log" "$T/p.log"
	timeout 60 $CCMAP --joblog "$T/c.log" "$@" >"$T/c.out" 2>/dev/null </dev/null || true
	timeout 60 parallel --will-cite -k --joblog "$T/p.log" "$@" >"$T/p.out" 2>/dev/null </dev/null || true
	is "$(fixed "$T/c.log")" "$(fixed "$T/p.log")" "$name: joblog as parallel's (times aside)"
}
compare "exit, signal, sizes" -j3 "$J" ::: ok fail kill term err
compare "several sources, {#}" 'echo {1}-{2} {#}' ::: a b ::: 1 2
compare "-n2" -n2 'echo {}' ::: a b c
compare "no command: each item" ::: 'echo one' 'printf "a\nb"'
compare "--tag: Receive without the tag" --tag echo ::: x yy
compare "-u: Receive 0" -u -j1 echo ::: x yy
compare "--results DIR: Receive, the stdout file's bytes" --results "$T/res" echo ::: x yy
for ex in --threads --procs; do
	rm -f "$T/r.log"
	timeout 60 $CCMAP $ex --results "$T/res" --joblog "$T/r.log" echo ::: x yy
	is "$(cut -f 1,6 "$T/r.log")" $'Seq\tReceive\n1\t2\n2\t3' \
		"--results DIR $ex: Receive, the bytes in each stdout file"
done
compare "a newline in the command: NUL" $'echo {}\necho again' ::: a
compare "--timeout: Exitval -1, Signal 15" --timeout 1 "echo {}; sleep {}" ::: 0 "$mark"
compare "--timeout, TERM ignored: Signal 9" --timeout 1 "trap '' TERM; sleep {}" ::: "$mark"
compare "--retries: the last attempt" --retries 2 'echo {}; exit 1' ::: a
compare "a command not found: 127" no-such-command-$$ ::: 1

# The order: lines as the outputs come, in input order (-k), or as jobs
# end (--as-completed): job 2 ends first, job 1 when it sees job 2's line.
W="i=0; until grep -q '^2	' '$T/ac.log' || [ \$i -ge 6000 ]; do sleep 0.01; i=\$((i+1)); done"
run_case "--as-completed: job 2 first" 0 $'two\none\n' \
	-- timeout 60 $CCMAP -j2 --as-completed --joblog "$T/ac.log" \
	"if [ {} = one ]; then $W; fi; echo {}" ::: one two
is "$(sed 1d "$T/ac.log" | cut -f 1 | tr '\n' ' ')" "2 1 " "--as-completed: lines as the jobs end"
W="i=0; until [ -e '$T/two' ] || [ \$i -ge 6000 ]; do sleep 0.01; i=\$((i+1)); done"
run_case "-k: job 2 ends first, job 1's output first" 0 $'one\ntwo\n' \
	-- timeout 60 $CCMAP -j2 --joblog "$T/k.log" \
	"if [ {} = one ]; then $W; else touch '$T/two'; fi; echo {}" ::: one two
is "$(sed 1d "$T/k.log" | cut -f 1 | tr '\n' ' ')" "1 2 " "-k: lines in input order, with the outputs"

# -: stdout, each line after its job's output.
run_case "--joblog -: on stdout, after each job's output" 0 '*' \
	-- timeout 60 $CCMAP -j2 --joblog - echo ::: a b
is "$(awk -F '\t' -v OFS='\t' 'NF > 3 && NR > 1 { $3 = "T"; $4 = "R" } { print }' "$T/out")" "$HEADER
a
1	:	T	R	0	2	0	0	echo a
b
2	:	T	R	0	2	0	0	echo b" "--joblog -: the header first, then each job's output and line"
for pool in --procs --as-completed; do
	run_case "--joblog - $pool" 0 '*' -- timeout 60 $CCMAP -j1 $pool --joblog - echo ::: a b
	is "$(grep -c '^[ab]$' "$T/out") $(grep -c '	echo [ab]$' "$T/out") $(head -1 "$T/out")" "2 2 $HEADER" \
		"--joblog - $pool: both outputs, both lines, the header"
done
if [ -n "$have_parallel" ]; then
	timeout 60 $CCMAP --joblog - 'echo {}' ::: x y 2>/dev/null | cut -f 1,2,5- >"$T/c.dash"
	timeout 60 parallel --will-cite -k --joblog - 'echo {}' ::: x y 2>/dev/null | cut -f 1,2,5- >"$T/p.dash"
	check "--joblog -: as parallel's (times aside)" cmp -s "$T/c.dash" "$T/p.dash"
fi

# A joblog is written anew; +FILE appends.
run_case "--joblog overwrites" 0 $'n\n' -- timeout 60 $CCMAP --joblog "$T/log" echo ::: n
is "$(fixed "$T/log")" "$HEADER
1	:	T	R	0	2	0	0	echo n" "--joblog: the old log replaced"
run_case "--joblog +FILE appends" 0 $'m\n' -- timeout 60 $CCMAP --joblog "+$T/log" echo ::: m
is "$(fixed "$T/log")" "$HEADER
1	:	T	R	0	2	0	0	echo n
1	:	T	R	0	2	0	0	echo m" "--joblog +FILE: a line added, no header"

# A job killed by --halt now has no line.
run_case "--halt now: the killed job has no line" 4 '' \
	-- timeout 60 $CCMAP -j2 --halt now,fail=1 --joblog "$T/h.log" \
	"if [ {} = s ]; then touch '$T/s'; exec sleep $mark; fi; until [ -e '$T/s' ]; do sleep 0.01; done; exit 4" ::: s f
is "$(sed 1d "$T/h.log" | cut -f 1,7 | tr '\n' ' ')" "2	4 " "--halt now: only the failed job's line"
kill_sleeps "$mark"

# Errors: before any job runs.
run_case "--joblog in a missing directory: exit 255" 255 '' \
	-- timeout 60 $CCMAP --joblog "$T/no/such/log" 'touch {}' ::: "$T/ran"
stderr_is "ccmap: --joblog: cannot write '$T/no/such/log': No such file or directory
" "--joblog: says which file, and why"
check "--joblog error: no job ran" test ! -e "$T/ran"
run_case "--joblog '': exit 255" 255 '' -- timeout 60 $CCMAP --joblog '' echo ::: a
P=${CCMAP_PLUGIN_DIR:-$SRC/../../src/plugins/.libs}
run_case "--joblog with a plugin is refused" 255 '' \
	-- timeout 60 $CCMAP --joblog "$T/pl" --so "$P/len.so" ::: a
kill_sleeps "$mark"

done_testing
