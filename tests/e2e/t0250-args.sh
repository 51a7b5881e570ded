#!/bin/bash
# t0250: several items per command (-n/--max-args) and whole-word commands
# (-q/--quote), compared with GNU parallel where it is installed.
. "$(dirname "$0")/setup.sh"

# Each case: the arguments after the binary; stdout must equal
# `parallel --will-cite -k ARGS` (when parallel is here) and EXPECTED.
same_as_parallel() {
	local name=$1 expected=$2
	shift 2
	run_case "$name" 0 "$expected" -- $CCMAP "$@"
	if command -v parallel >/dev/null 2>&1; then
		local got
		got=$(parallel --will-cite -k "$@" </dev/null; echo x)
		is "${got%x}" "$expected" "$name: as GNU parallel"
	else
		skip "$name: as GNU parallel" "parallel is not installed"
	fi
}

same_as_parallel "-n2 appends two items" $'1 2\n3 4\n5\n' -n2 echo ::: 1 2 3 4 5
same_as_parallel "-n3 with {} in a word" $'xa b cy\nxdy\n' -n3 echo 'x{}y' ::: a b c d
same_as_parallel "-n2 positional" $'2-1\n4-3\n-5\n' -n2 echo '{2}-{1}' ::: 1 2 3 4 5
same_as_parallel "--max-args=2 and {#}" $'1 a b\n2 c\n' --max-args=2 echo '{#}' '{}' ::: a b c
same_as_parallel "-n2 each value one word" $'[a b]\n[c]\n[d]\n' \
	-q -n2 sh -c 'printf "[%s]\n" "$@"' _ ::: 'a b' c d

same_as_parallel "-n2 with two sources" $'a 1 a 2\nb 1 b 2\n' -n2 echo ::: a b ::: 1 2

run_case "-n2 from stdin, the last short" 0 $'1 2\n3\n' --stdin $'1\n2\n3\n' -- $CCMAP -n2 echo
run_case "-n3 with --procs and --chunksize" 0 $'1 2 3\n4 5 6\n7 8 9\n10\n' \
	--stdin "$(seq 10)"$'\n' -- $CCMAP --procs --chunksize 2 -n3 echo
same_as_parallel "-n0 takes an item and inserts none" $'foo\nfoo\n' -n0 echo foo ::: a b
run_case "-n -1 is refused" 255 '' -- $CCMAP -n -1 echo ::: a
stderr_has "^ccmap: invalid number '-1' for -n" "-n -1: the message names the option"
run_case "--max-args x is refused" 255 '' -- $CCMAP --max-args x echo ::: a
stderr_has "max-args" "--max-args x: the message names the option"

# -q: each word of the command stays one argument.
same_as_parallel "-q keeps a script whole" $'[a b]\n[c]\n' -q sh -c 'echo "[$1]"' _ ::: 'a b' c
same_as_parallel "-q keeps spaces and \$" $'a  b $HOME x\n' -q echo 'a  b' '$HOME' ::: x
same_as_parallel "without -q words are joined" $'\n' sh -c 'echo "[$1]"' _ ::: 'a b'
run_case "-q with a builtin goes through the shell" 0 $'/\n' -- \
	$CCMAP -q --quote sh -c 'cd "$1" && pwd' _ ::: /
run_case "-q: an item with shell syntax is still data" 0 $'a;b\n' -- \
	$CCMAP -q echo ::: 'a;b'

done_testing
