#!/bin/bash
# t1210: --retries N, as GNU parallel: a failed job runs again, up to N
# times in all (1: no retry; 0: until it succeeds); only the last
# attempt's stdout and stderr are written, in order, and only it counts
# (exit status, --joblog, --halt).  With a plugin it is refused.
. "$(dirname "$0")/setup.sh"

command -v timeout >/dev/null 2>&1 || skip_all "no timeout(1)"
have_parallel=
command -v parallel >/dev/null 2>&1 && have_parallel=1

# Job {} fails until it has run {} times: each attempt counts itself in
# cnt.{} and writes its attempt number to stdout and stderr.
mkdir "$T/w"
cd "$T/w"
J='echo x >>cnt.{}; n=$(wc -l <cnt.{}); echo out{}-$n; echo err{}-$n >&2; [ $n -ge {} ]'
fresh() { rm -f "$T"/w/cnt.*; }

for pool in --threads --procs; do
	fresh
	run_case "$pool: --retries 3: each job up to 3 times; one never succeeds: exit 1" 1 \
		$'out1-1\nout2-2\nout3-3\nout4-3\n' \
		-- timeout 60 $CCMAP $pool -j2 --retries 3 "$J" ::: 1 2 3 4
	stderr_is $'err1-1\nerr2-2\nerr3-3\nerr4-3\n' \
		"$pool: --retries 3: only the last attempt's stderr"
	is "$(cat cnt.1 cnt.2 cnt.3 cnt.4 | wc -l)" 9 "$pool: --retries 3: 1+2+3+3 attempts"
done

fresh
run_case "--as-completed --retries 3: the last attempts only" 1 '*' \
	-- timeout 60 $CCMAP --as-completed -j2 --retries 3 "$J" ::: 1 2 3 4
is "$(sort "$T/out" | tr '\n' ' ')" "out1-1 out2-2 out3-3 out4-3 " \
	"--as-completed --retries 3: one output per job, the last attempt's"

fresh
run_case "--retries 1: no retry" 2 $'out1-1\nout2-1\nout3-1\n' \
	-- timeout 60 $CCMAP -j2 --retries 1 "$J" ::: 1 2 3
fresh
run_case "--retries 0: until it succeeds" 0 $'out1-1\nout6-6\n' \
	-- timeout 60 $CCMAP -j2 --retries 0 "$J" ::: 1 6
fresh
run_case "without --retries: no retry" 1 $'out2-1\n' \
	-- timeout 60 $CCMAP "$J" ::: 2

# The joblog has one line per job: the last attempt's.
fresh
run_case "--retries 2 --joblog: one line per job" 1 '*' \
	-- timeout 60 $CCMAP -j2 --retries 2 --joblog "$T/log" "$J" ::: 1 2 3
is "$(cut -f 1,7,8 "$T/log" | tr '\n' ' ')" "Seq	Exitval	Signal 1	0	0 2	0	0 3	1	0 " \
	"--retries 2 --joblog: the last attempts' exit values"

# A job retried into success does not count for --halt.
fresh
run_case "--retries 2 --halt now,fail=1: a retried success does not halt" 1 \
	$'out2-2\nout1-1\nout3-2\n' \
	-- timeout 60 $CCMAP -j1 --retries 2 --halt now,fail=1 "$J" ::: 2 1 3 1
stderr_has "^ccmap: job 3: .*failed with exit status 1$" "--retries --halt: the job that failed its last attempt"

# A timed-out attempt is reported, then retried.
fresh
run_case "--retries 2 --timeout: a timed-out attempt runs again" 0 $'out2-2\n' \
	-- timeout 60 $CCMAP --retries 2 --timeout 1 \
	'echo x >>cnt.{}; n=$(wc -l <cnt.{}); [ $n -ge {} ] || exec sleep 100; echo out{}-$n' ::: 2
stderr_has "^ccmap: job 1: .*: timed out$" "--retries --timeout: the first attempt's timeout reported"

# Compared with GNU parallel: stdout, stderr and exit status.
if [ -n "$have_parallel" ]; then
	for args in "--retries 3" "--retries 0" "--retries 1" "-j1 --retries 2"; do
		fresh
		set +e
		timeout 60 $CCMAP -j2 $args "$J" ::: 1 2 3 4 >"$T/c.out" 2>"$T/c.err" </dev/null
		cr=$?
		fresh
		timeout 60 parallel --will-cite -k -j2 $args "$J" ::: 1 2 3 4 >"$T/p.out" 2>"$T/p.err" </dev/null
		pr=$?
		set -e
		is "$cr $(tr '\n' ' ' <"$T/c.out")" "$pr $(tr '\n' ' ' <"$T/p.out")" "$args: status and stdout as parallel"
		is "$(cat "$T/c.err")" "$(cat "$T/p.err")" "$args: stderr as parallel"
	done
else
	skip "--retries compared with parallel" "GNU parallel not installed"
fi

# Bad values.
for v in -1 x '' 1.5 1000000000; do
	run_case "--retries '$v' is refused: exit 255" 255 '' \
		-- timeout 60 $CCMAP --retries "$v" echo ::: a
	stderr_has "^ccmap: invalid number '$v' for --retries" "--retries '$v': names the option"
done
P=${CCMAP_PLUGIN_DIR:-$SRC/../../src/plugins/.libs}
run_case "--retries with a plugin is refused" 255 '' \
	-- timeout 60 $CCMAP --retries 2 --so "$P/len.so" ::: a
stderr_is $'ccmap: --retries applies to commands, not to plugins (--so)\n' \
	"--retries with a plugin: says so"

done_testing
