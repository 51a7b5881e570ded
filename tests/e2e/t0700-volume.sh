#!/bin/bash
# t0700: volume: a run of N jobs yields exactly N outputs, none lost or
# duplicated: N jobs in input order with threads; N/5 with processes, with
# --as-completed, and with chunks; N/10 items as commands.  N is 30,000,
# or $CCMAP_TEST_VOLUME (tests/ci.sh gives the sanitizer build's run
# 10,000: its point there is memory errors, and the in-tree run does the
# full volume).
. "$(dirname "$0")/setup.sh"

N=${CCMAP_TEST_VOLUME:-30000}
seq "$N" >"$T/seqN"
seq $((N / 5)) >"$T/seqN5"

set +e
$CCMAP -j2 echo <"$T/seqN" >"$T/out" 2>"$T/err"
s=$?
set -e
is "$s" 0 "seq $N | ccmap -j2 echo: exit 0"
is "$(wc -l <"$T/out" | tr -d ' ')" "$N" "$N jobs: $N lines"
check "$N jobs: in input order (cmp with seq)" cmp -s "$T/seqN" "$T/out"
is "$(cat "$T/err")" "" "$N jobs: nothing on stderr"

run_fifth() { # NAME SORT OPTIONS...
	_n=$1 _sort=$2
	shift 2
	set +e
	$CCMAP "$@" <"$T/seqN5" >"$T/out" 2>"$T/err"
	_s=$?
	set -e
	is "$_s" 0 "$((N / 5)) jobs $_n: exit 0"
	if [ "$_sort" = sort ]; then
		sort -n "$T/out" >"$T/sorted"
		check "$((N / 5)) jobs $_n: each output exactly once (sort -n, cmp)" cmp -s "$T/seqN5" "$T/sorted"
	else
		check "$((N / 5)) jobs $_n: exact, in order (cmp)" cmp -s "$T/seqN5" "$T/out"
	fi
	is "$(cat "$T/err")" "" "$((N / 5)) jobs $_n: nothing on stderr"
}
run_fifth "--procs" order --procs -j2 echo
run_fifth "--as-completed" sort --as-completed -j2 echo
run_fifth "--chunksize 50" order -j2 --chunksize 50 echo
run_fifth "--procs --chunksize 50 --as-completed" sort --procs -j2 --chunksize 50 --as-completed echo
seq $((N / 10)) >"$T/seqN10"
sed "s/^/echo /" "$T/seqN10" >"$T/cmds"
set +e
$CCMAP -j4 <"$T/cmds" >"$T/out" 2>"$T/err"
s=$?
set -e
is "$s" 0 "$((N / 10)) items as commands: exit 0"
check "$((N / 10)) items as commands: exact, in order" cmp -s "$T/seqN10" "$T/out"

done_testing
