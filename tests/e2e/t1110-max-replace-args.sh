#!/bin/bash
# t1110: -N N (--max-replace-args): up to N items per command, {1}..{N}
# each one, missing ones empty in the last command, and a word holding {}
# repeated per item; -n0 and -N0.  As GNU parallel, byte for byte.
. "$(dirname "$0")/setup.sh"
. "$SRC/like-parallel.sh"

like_parallel "-N2 appends" '' $'1 2\n3 4\n5\n' -- -N2 echo ::: 1 2 3 4 5
like_parallel "-N2 positional, the last short" '' $'1-2\n3-4\n5-\n' -- \
	-N2 echo {1}-{2} ::: 1 2 3 4 5
like_parallel "-N3 repeats a word with {}" '' $'x1y x2y x3y\nx4y x5y\n' -- \
	-N3 echo x{}y ::: 1 2 3 4 5
like_parallel "-n3 does not" '' $'x1 2 3y\nx4 5y\n' -- \
	-n3 echo x{}y ::: 1 2 3 4 5
like_parallel "-N2 beyond N is empty" '' $'\n\n\n' -- -N2 echo {3} ::: 1 2 3 4 5
like_parallel "-N2 a missing value is no argument" '' '[b][xby][xy]' -- \
	-N2 printf '[%s]' {2} x{2}y ::: a b c
like_parallel "-N2 -q keeps the empty argument" '' '[b][xby][][xy]' -- \
	-q -N2 printf '[%s]' {2} x{2}y ::: a b c
like_parallel "-N2 {#} is a replacement string" '' $'1\n2\n3\n' -- \
	-N2 echo {#} ::: 1 2 3 4 5
like_parallel "-N2 {#} and the items" '' $'1 1 2\n2 3 4\n3 5\n' -- \
	-N2 echo {#} {} ::: 1 2 3 4 5
like_parallel "-N2 each value one argument" '' $'[1][2]\n[3][]\n' -- \
	-N2 -q sh -c 'printf "[%s]" "$@"; echo' _ {1} {2} ::: 1 2 3
like_parallel "-N2 with two sources" '' \
	$'xay x1y xay x2y\nxby x1y xby x2y\n' -- -N2 echo x{}y ::: a b ::: 1 2
like_parallel "-N2 {N} with two sources" '' $'a/1/a/2\nb/1/b/2\n' -- \
	-N2 echo {1}/{2}/{3}/{4} ::: a b ::: 1 2
like_parallel "-N2 a word cut at whitespace" '' $'xa xb y\nxc y\n' -- \
	-N2 echo 'x{} y' ::: a b c
like_parallel "-N1 is one item" '' $'xay\nxby\n' -- -N1 echo x{}y ::: a b
like_parallel "-N0 inserts nothing" '' $'foo\nfoo\nfoo\n' -- \
	-N0 echo foo ::: 1 2 3
like_parallel "-N0 empties every replacement" '' $'xy 1\nxy 2\n' -- \
	-N0 echo x{}y {1} {#} ::: a b
like_parallel "-n0 as -N0" '' $'xy\nxy\n' -- -n0 echo x{}y ::: a b
like_parallel "--max-replace-args=2 from stdin" $'1\n2\n3\n' $'1 2\n3\n' -- \
	--max-replace-args=2 echo

run_case "-N2 with --procs" 0 $'1+2\n3+4\n5+\n' --stdin $'1\n2\n3\n4\n5\n' -- \
	$CCMAP --procs --chunksize 2 -N2 echo {1}+{2}
run_case "-N x is refused" 255 '' -- $CCMAP -N x echo ::: a
stderr_has "^ccmap: invalid number 'x' for -N" "-N x: the message names the option"
run_case "--max-replace-args -1 is refused" 255 '' -- \
	$CCMAP --max-replace-args -1 echo ::: a
stderr_has "max-replace-args" "--max-replace-args -1: the message names it"

done_testing
