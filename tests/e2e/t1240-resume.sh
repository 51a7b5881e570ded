#!/bin/bash
# t1240: --resume and --resume-failed, as GNU parallel: the joblog is read
# first and appended to; --resume skips every job it names (by number),
# --resume-failed only those that succeeded, and runs the failed ones again
# with the command line given now, not the one in the log; the jobs keep
# their numbers.  Both need --joblog (--resume: or --results DIR, t1400); a
# log out of format is refused.
. "$(dirname "$0")/setup.sh"

command -v timeout >/dev/null 2>&1 || skip_all "no timeout(1)"
have_parallel=
command -v parallel >/dev/null 2>&1 && have_parallel=1

# The same three runs with ccmap and with parallel: first, then
# --resume-failed with another command and one more item, then --resume
# with yet another and one more again.
three_runs() { # TOOL... (output in $T/run.*)
	rm -f "$T/jl"
	set +e
	timeout 60 "$@" --joblog "$T/jl" 'echo A{}; exit {}' ::: 0 1 0 2 >"$T/run.1" 2>/dev/null
	echo "status $?" >>"$T/run.1"
	timeout 60 "$@" --resume-failed --joblog "$T/jl" 'echo B{} {#}; exit 0' ::: 0 1 0 2 3 >"$T/run.2" 2>/dev/null
	echo "status $?" >>"$T/run.2"
	timeout 60 "$@" --resume --joblog "$T/jl" 'echo C{} {#}' ::: 0 1 0 2 3 4 >"$T/run.3" 2>/dev/null
	echo "status $?" >>"$T/run.3"
	set -e
	cut -f 1,7,8,9 "$T/jl" >"$T/run.log"
}

three_runs $CCMAP
is "$(cat "$T/run.1")" $'A0\nA1\nA0\nA2\nstatus 2' "first run: two jobs fail"
is "$(cat "$T/run.2")" $'B1 2\nB2 4\nB3 5\nstatus 0' \
	"--resume-failed: the failed jobs again, with the new command, and the new job"
is "$(cat "$T/run.3")" $'C4 6\nstatus 0' "--resume: only the job the log does not name"
is "$(cat "$T/run.log")" "Seq	Exitval	Signal	Command
1	0	0	echo A0; exit 0
2	1	0	echo A1; exit 1
3	0	0	echo A0; exit 0
4	2	0	echo A2; exit 2
2	0	0	echo B1 2; exit 0
4	0	0	echo B2 4; exit 0
5	0	0	echo B3 5; exit 0
6	0	0	echo C4 6" "the joblog: appended to, one header"
if [ -n "$have_parallel" ]; then
	for f in 1 2 3 log; do
		mv "$T/run.$f" "$T/ccmap.$f"
	done
	three_runs parallel --will-cite -k
	for f in 1 2 3 log; do
		check "run $f as parallel" cmp -s "$T/ccmap.$f" "$T/run.$f"
	done
else
	skip "--resume compared with parallel" "GNU parallel not installed"
fi

# A job killed by a signal, or timed out, failed: --resume-failed runs it.
rm -f "$T/jl2"
run_case "a job killed by a signal" 1 $'ok\nk\n' \
	-- timeout 60 $CCMAP --joblog "$T/jl2" 'echo {}; [ {} = ok ] || kill -9 $$' ::: ok k
run_case "--resume-failed reruns the killed job" 0 $'again k\n' \
	-- timeout 60 $CCMAP --resume-failed --joblog "$T/jl2" 'echo again {}' ::: ok k

# A joblog that does not exist yet is made, header and all.
run_case "--resume with a new joblog runs everything" 0 $'a\nb\n' \
	-- timeout 60 $CCMAP --resume --joblog "$T/new" echo ::: a b
is "$(cut -f 1,9 "$T/new" | tr '\n' ' ')" "Seq	Command 1	echo a 2	echo b " "--resume: the new joblog"

# With -n2, the jobs the log names are skipped whole; the same with
# --as-completed and --procs.
for opt in -k --as-completed --procs; do
	printf 'Seq\tHost\n2\t:\t1.000\t     0.001\t0\t0\t0\t0\tx\n' >"$T/jl3"
	run_case "--resume -n2 $opt: job 2 (c d) skipped" 0 $'a b\ne\n' \
		-- timeout 60 $CCMAP $opt -j1 -n2 --resume --joblog "$T/jl3" echo ::: a b c d e
	is "$(sed 1d "$T/jl3" | cut -f 1 | tr '\n' ' ')" "2 1 3 " "--resume -n2 $opt: jobs 1 and 3 logged"
done

# Errors, before any job runs.
run_case "--resume without --joblog: exit 255" 255 '' -- timeout 60 $CCMAP --resume echo ::: a
stderr_is $'ccmap: --resume needs --joblog FILE or --results DIR\n' "--resume without --joblog: says so"
run_case "--resume with only a --results file of records: exit 255" 255 '' \
	-- timeout 60 $CCMAP --resume --results "$T/r.csv" echo ::: a
stderr_is $'ccmap: --resume needs --joblog FILE or --results DIR\n' \
	"--resume with only a --results file of records: says so"
run_case "--resume-failed with --results, no --joblog: exit 255" 255 '' \
	-- timeout 60 $CCMAP --resume-failed --results "$T/rdir" echo ::: a
stderr_is $'ccmap: --resume-failed needs --joblog FILE\n' \
	"--resume-failed with --results, no --joblog: says so"
run_case "--resume --pipe with only --results: exit 255" 255 '' \
	-- timeout 60 $CCMAP --pipe --resume --results "$T/rdir" cat
stderr_is $'ccmap: --resume with --pipe needs --joblog FILE\n' \
	"--resume --pipe with only --results: says so (every block has the same files)"
run_case "--resume with a plugin: exit 255" 255 '' \
	-- timeout 60 $CCMAP --resume --results "$T/rdir" --so len ::: a
stderr_is $'ccmap: --resume applies to commands, not to plugins (--so)\n' \
	"--resume with a plugin: says so"
run_case "--resume-failed without --joblog: exit 255" 255 '' -- timeout 60 $CCMAP --resume-failed echo ::: a
stderr_is $'ccmap: --resume-failed needs --joblog FILE\n' "--resume-failed without --joblog: says so"
printf 'Seq\tHost\nfoo bar\n' >"$T/bad"
run_case "--resume: a line out of format: exit 255" 255 '' \
	-- timeout 60 $CCMAP --resume --joblog "$T/bad" 'touch {}' ::: "$T/ran"
stderr_is "ccmap: --joblog: line 2 of '$T/bad' is not a joblog line: 'foo bar'
" "--resume: names the file, the line and its text"
printf 'Seq\tHost\n1\tgarbage\n' >"$T/bad2"
run_case "--resume-failed wants the whole format: exit 255" 255 '' \
	-- timeout 60 $CCMAP --resume-failed --joblog "$T/bad2" 'touch {}' ::: "$T/ran"
check "a bad joblog: no job ran" test ! -e "$T/ran"
is "$(cat "$T/bad2")" $'Seq\tHost\n1\tgarbage' "a bad joblog is left as it was"

done_testing
