#!/bin/bash
# t0700: volume: a run of N jobs yields exactly N outputs, none lost or
# duplicated: 50,000 jobs in input order with threads; 10,000 with
# processes, with --as-completed, and with chunks.
. "$(dirname "$0")/setup.sh"

seq 50000 >"$T/seq50k"
seq 10000 >"$T/seq10k"

set +e
$CCMAP -j2 echo <"$T/seq50k" >"$T/out" 2>"$T/err"
s=$?
set -e
is "$s" 0 "seq 50000 | ccmap -j2 echo: exit 0"
is "$(wc -l <"$T/out" | tr -d ' ')" 50000 "50000 jobs: 50000 lines"
check "50000 jobs: in input order (cmp with seq)" cmp -s "$T/seq50k" "$T/out"
is "$(cat "$T/err")" "" "50000 jobs: nothing on stderr"

run20k() { # NAME SORT OPTIONS...
	_n=$1 _sort=$2
	shift 2
	set +e
	$CCMAP "$@" <"$T/seq10k" >"$T/out" 2>"$T/err"
	_s=$?
	set -e
	is "$_s" 0 "10000 jobs $_n: exit 0"
	if [ "$_sort" = sort ]; then
		sort -n "$T/out" >"$T/sorted"
		check "10000 jobs $_n: each output exactly once (sort -n, cmp)" cmp -s "$T/seq10k" "$T/sorted"
	else
		check "10000 jobs $_n: exact, in order (cmp)" cmp -s "$T/seq10k" "$T/out"
	fi
	is "$(cat "$T/err")" "" "10000 jobs $_n: nothing on stderr"
}
run20k "--procs" order --procs -j2 echo
run20k "--as-completed" sort --as-completed -j2 echo
run20k "--chunksize 50" order -j2 --chunksize 50 echo
run20k "--procs --chunksize 50 --as-completed" sort --procs -j2 --chunksize 50 --as-completed echo
seq 5000 >"$T/seq5k"
sed "s/^/echo /" "$T/seq5k" >"$T/cmds"
set +e
$CCMAP -j4 <"$T/cmds" >"$T/out" 2>"$T/err"
s=$?
set -e
is "$s" 0 "5000 items as commands: exit 0"
check "5000 items as commands: exact, in order" cmp -s "$T/seq5k" "$T/out"

done_testing
