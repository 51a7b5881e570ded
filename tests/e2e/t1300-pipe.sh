#!/bin/bash
# t1300: --pipe: blocks of the input on each job's stdin, cut as GNU
# parallel --pipe cuts them (--block, --recend, --recstart, --recsep, -N,
# -L, --header), with the usual order, exit status and errors.  Each case
# is pinned, and compared with `parallel --will-cite -k --pipe` where that
# is installed.
. "$(dirname "$0")/setup.sh"

have_parallel=
command -v parallel >/dev/null 2>&1 && have_parallel=1

# pipe_case NAME EXPECTED INPUT-SCRIPT ARGS...: `INPUT-SCRIPT | ccmap
# --pipe ARGS` prints EXPECTED, as `... | parallel -k --pipe ARGS` does.
pipe_case() {
	local name=$1 want=$2 input=$3 got
	shift 3
	got=$(bash -c "$input" | $CCMAP --pipe "$@" 2>"$T/err"; echo x)
	is "${got%x}" "$want" "$name"
	if [ -n "$have_parallel" ]; then
		got=$(bash -c "$input" | parallel --will-cite -k --pipe "$@" \
		    2>/dev/null; echo x)
		is "${got%x}" "$want" "$name: as GNU parallel"
	else
		skip "$name: as GNU parallel" "parallel is not installed"
	fi
}

# Where the blocks end: each job prints its block, then "|".
mark='cat; echo "|"'

pipe_case "blocks of up to --block bytes, cut after a newline" \
	$'1\n2\n|\n3\n4\n|\n5\n6\n|\n7\n8\n|\n9\n10\n|\n' 'seq 10' --block 5 "$mark"
pipe_case "--block 6, one job at a time" $'6\n6\n6\n3\n' 'seq 10' --block 6 -j1 wc -c
pipe_case "the default block takes small input whole" $'10\n' 'seq 10' wc -l
pipe_case "sizes: k is 1000" $'1000\n1000\n1000\n893\n' 'seq 1000' --block 1k --recend '' wc -c
pipe_case "sizes: K is 1024" $'1024\n1024\n1024\n' 'seq 1000 | head -c 3072' --block 1K --recend '' wc -c
pipe_case "sizes: fractions and Mi" $'240567\n59433\n' 'seq 300000' --block 1.5Mi wc -l
pipe_case "-N: exactly N records a block" $'3\n3\n3\n1\n' 'seq 10' -N 3 wc -l
pipe_case "-N0: blocks as without -N" $'5\n' 'seq 5' -N0 wc -l
pipe_case "-n with --pipe is -N" $'3\n3\n3\n1\n' 'seq 10' -n 3 wc -l
pipe_case "-N: a block never starts with an empty record" $'3\n2\n2\n2\n' \
	"printf '\na\nb\n\n\nc\n'" -N1 wc -c
pipe_case "-N: the last block may fall short, newline or not" $'5\n3\n' \
	"printf '\na\nb\n\n\nc'" -N2 wc -c
pipe_case "-N: bigger than the block" $'500\n500\n' 'seq 1000' -N 500 --block 10 wc -l
pipe_case "-L 2: whole pairs of lines, the rest at the end" $'6\n1\n' 'seq 7' -L 2 wc -l
pipe_case "-L 2 --block 5" $'2\n2\n2\n1\n' 'seq 7' -L 2 --block 5 wc -l
pipe_case "-L 2 -N 2: four lines a block" $'4\n3\n' 'seq 7' -L 2 -N 2 wc -l
pipe_case "--recstart: cut before the last record start" \
	$'>a\n>b\n|\n>c\n|\n' "printf '>a\n>b\n>c\n'" --recstart '>' --block 7 "$mark"
pipe_case "--recend: cut after the last record end" $'a1b1|\nc1d|\n' \
	"printf a1b1c1d" --recend 1 --block 5 "$mark"
pipe_case "--recend and --recstart: only where both meet" \
	$'11\n2\n1\n21\n|\n2\n|\n' "printf '11\n2\n1\n21\n2\n'" \
	--recend '1\n' --recstart 2 --block 12 "$mark"
pipe_case "--recstart with -N" $'10\n1\n2\n2\n2\n3\n' 'seq 20' --recstart 1 -N 2 wc -l
pipe_case "--recend '' cuts exact blocks" $'4\n4\n4\n4\n4\n1\n' 'seq 10' \
	--recend '' --block 4 wc -c
pipe_case "--recend escapes: \\0" $'a0b\nc0|\n0\nd|\n' \
	"printf 'a\0b\nc\0\0\nd'" --recend '\0' -N2 'tr "\0" 0; echo "|"'
pipe_case "--header : goes to every block" $'id\n1\n2\n|\nid\n3\n|\n' \
	"printf 'id\n1\n2\n3\n'" --header : -N 2 "$mark"
pipe_case "--header 2" $'1\n2\n3\n|\n1\n2\n4\n|\n1\n2\n5\n|\n' 'seq 5' \
	--header 2 -N1 "$mark"
pipe_case "--header REGEX" $'1\n2\n3\n4\n|\n1\n2\n5\n|\n' 'seq 5' \
	--header '1\n\d\n' -N2 "$mark"
pipe_case "--header longer than the input: no header" $'1\n2\n|\n' 'seq 2' \
	--header 3 "$mark"
pipe_case "only a header: no job" '' 'seq 1' --header : "$mark"
pipe_case "{#} {%} and an empty {}" $'1 x y\n' 'seq 3' echo '{#}' 'x{}' y
pipe_case "--tag: an empty tag" $'\t1\n\t2\n\t3\n' 'seq 3' -N 1 --tag cat
pipe_case "a job may leave its block unread" $'1\n1\n1\n1\n1\n1\n' \
	'seq 100000' --block 100k 'head -n 1 | wc -l'
pipe_case "shell lines" $'3 lines\n' 'seq 3' 'echo $(wc -l) lines'

# --recsep REGEX is GNU parallel's --regexp --recend REGEX.
recsep_case() { # NAME EXPECTED ARGS-BEFORE-REGEX... REGEX CMD
	local name=$1 want=$2 got
	shift 2
	local args=("$@") n=$#
	local re=${args[n - 2]} cmd=${args[n - 1]}
	got=$(seq 40 | $CCMAP --pipe "${args[@]:0:n-2}" --recsep "$re" "$cmd")
	is "$got" "$want" "$name"
	if [ -n "$have_parallel" ]; then
		got=$(seq 40 | parallel --will-cite -k --pipe "${args[@]:0:n-2}" \
		    --regexp --recend "$re" "$cmd" 2>/dev/null)
		is "$got" "$want" "$name: as GNU parallel --regexp --recend"
	else
		skip "$name: as GNU parallel" "parallel is not installed"
	fi
}
recsep_case "--recsep: cut after the last match" $'10\n10\n10\n10' \
	--block 30 '[05]\n' 'wc -l'
recsep_case "--recsep with -N" $'15\n15\n10' -N 3 '[05]\n' 'wc -l'

# A record longer than the block grows it, with a warning per step.
run_case "a record longer than --block grows the block" 0 $'17\n' \
	--stdin $'aaaaaaaaaaaa\nb\nc\n' -- $CCMAP --pipe --block 3 wc -c
stderr_has "a record was longer than --block 3: increasing --block to 5" \
	"the growth is reported"
is "$(grep -c 'a record was longer' "$T/err")" 4 "one warning a step: 3 5 8 12 17"

# Empty input runs nothing.
run_case "empty input runs no job" 0 '' --stdin '' -- $CCMAP --pipe 'echo ran'

# Exit status counts failed jobs.
run_case "each failed job counts" 5 '' --stdin "$(seq 5)"$'\n' -- \
	$CCMAP --pipe -N1 'cat >/dev/null; exit 3'
run_case "a job killed by a signal fails" 1 '' --stdin $'a\n' -- \
	$CCMAP --pipe 'kill -9 $$'
stderr_has "killed by SIGKILL" "the killed job is reported"

# --retries gives a failed job its block again; --joblog's Send counts the
# header and the block, as GNU parallel's.
pipe_case "--retries: the block again" $'1 2\n3 4\n5 6\n' 'seq 6' -N 2 --retries 3 \
	"read a; if [ ! -e $T/rt\$a ]; then touch $T/rt\$a; exit 1; fi; echo \$a \$(cat)"
rm -f "$T"/rt*
seq 10 | $CCMAP --pipe -N 3 --header : --joblog "$T/jl" cat >/dev/null
is "$(cut -f 1,5,6 "$T/jl")" $'Seq\tSend\tReceive\n1\t8\t8\n2\t8\t8\n3\t9\t9' \
	"--joblog: Send and Receive of each block"

# --json records each block's output (its item is empty).
run_case "--json: each job's output is its block's" 0 '*' --stdin $'1\n2\n3\n' -- \
	$CCMAP --pipe -N2 --json cat
stdout_has '^\{"seq":1,"item":"",.*"stdout":"1\\n2\\n"' "--json: the first block"
stdout_has '^\{"seq":2,"item":"",.*"stdout":"3\\n"' "--json: the second block"

# Binary data goes through untouched, and in order.
head -c 300000 /dev/urandom >"$T/bin"
$CCMAP --pipe --block 10k cat <"$T/bin" >"$T/bin.out"
check "binary input, 10k blocks: the output is the input" cmp -s "$T/bin" "$T/bin.out"
$CCMAP --pipe --recend '\0' -N 7 -j3 cat <"$T/bin" >"$T/bin.out"
check "binary input, NUL records: the output is the input" cmp -s "$T/bin" "$T/bin.out"
if [ -n "$have_parallel" ]; then
	a=$($CCMAP --pipe --block 20k --recend '\0' 'wc -c' <"$T/bin" | md5sum)
	b=$(parallel --will-cite -k --pipe --block 20k --recend '\0' 'wc -c' \
	    <"$T/bin" 2>/dev/null | md5sum)
	is "$a" "$b" "binary input: the same blocks as GNU parallel"
else
	skip "binary input: the same blocks as GNU parallel" "parallel is not installed"
fi

# Output modes.
seq 200000 >"$T/big"
$CCMAP --pipe --block 64k -j4 cat <"$T/big" >"$T/big.out"
check "input order: the blocks come back in order" cmp -s "$T/big" "$T/big.out"
$CCMAP --pipe --block 64k -j4 --as-completed cat <"$T/big" | sort -n >"$T/big.out"
check "--as-completed: every line once" cmp -s "$T/big" "$T/big.out"
is "$($CCMAP --pipe --block 64k -j4 -u wc -l <"$T/big" | awk '{ n += $1 } END { print n }')" \
	200000 "-u: every line once"
$CCMAP --pipe --block 64k -j4 --line-buffer cat <"$T/big" | sort -n >"$T/big.out"
check "--line-buffer: every line once" cmp -s "$T/big" "$T/big.out"
run_case "-a FILE is the input" 0 $'200000\n' -- \
	$CCMAP --pipe --block 10M -a "$T/big" wc -l
run_case "--spreadstdin is --pipe" 0 $'3\n' --stdin $'a\nb\nc\n' -- \
	$CCMAP --spreadstdin wc -l
run_case "--block-size is --block" 0 $'2\n1\n' --stdin $'a\nb\nc\n' -- \
	$CCMAP --pipe --block-size 4 wc -l

# A job slow to read does not stop the others: its stdin is written
# without blocking the main loop.  With -j2, the first job reads nothing of
# its 300 kB block (more than a pipe holds) until the third job has run.
for i in 1 2 3; do head -c 300000 /dev/zero | tr '\0' x; echo; done >"$T/long"
run_case "a stalled reader does not block the others" 0 $'300001\n300001\n300001\n' -- \
	timeout 60 $CCMAP --pipe -N1 -j2 -a "$T/long" \
	"if [ {#} = 1 ]; then while [ ! -e $T/go ]; do sleep 0.05; done; fi; \
	wc -c; if [ {#} = 3 ]; then touch $T/go; fi"

# Bounded memory: with jobs that stall, ccmap stops reading (the writer
# stalls) after about jobs + 1 blocks: -j2 --block 1M, under 16 MB.
endless_input "stalled jobs" $((16 * 1024 * 1024)) $((64 * 1024)) y \
	--pipe --block 1M -j2 "$HOLD"

# Usage errors, before any job.
run_case "--pipe needs a command" 255 '' --stdin $'a\n' -- $CCMAP --pipe
stderr_is $'ccmap: --pipe needs a command to pipe into (e.g. cat)\n' "the message says so"
run_case "--pipe with --procs is refused" 255 '' --stdin $'a\n' -- \
	$CCMAP --pipe --procs cat
stderr_has "^ccmap: --pipe does not work with --procs" "the message names both"
run_case "--pipe with ::: is refused" 255 '' -- $CCMAP --pipe cat ::: a
stderr_has "^ccmap: --pipe reads standard input or one -a FILE" "the message says what it reads"
run_case "--block 0 is refused" 255 '' -- $CCMAP --pipe --block 0 cat
stderr_has "^ccmap: invalid size '0' for --block" "the message names the option"
run_case "--block 1x is refused" 255 '' -- $CCMAP --pipe --block 1x cat
stderr_has "^ccmap: invalid size '1x' for --block" "the message names the value"
run_case "a bad --recsep is refused" 255 '' -- $CCMAP --pipe --recsep '(' cat
stderr_has "^ccmap: --recsep: bad regex '\(': missing closing parenthesis at offset 1" \
	"PCRE2's message and offset"
run_case "a bad --header regex is refused" 255 '' -- $CCMAP --pipe --header '[' cat
stderr_has "^ccmap: --header: bad regex '\['" "the message names --header"
run_case "-N x is refused" 255 '' -- $CCMAP --pipe -N x cat
stderr_has "^ccmap: invalid number 'x' for -N" "the message names -N"
run_case "-L without --pipe is refused" 255 '' -- $CCMAP -L 2 echo ::: a
stderr_has "^ccmap: -L works only with --pipe" "the message says so"
run_case "an unreadable -a FILE is refused" 255 '' -- \
	$CCMAP --pipe -a "$T/nonexistent" cat
stderr_has "^ccmap: cannot read input file" "the message names the file"

done_testing
