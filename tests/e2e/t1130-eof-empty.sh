#!/bin/bash
# t1130: -E/--eof (a source ends at an item equal to a string) and
# -r/--no-run-if-empty (items of only whitespace are skipped), in every
# source.  As GNU parallel, byte for byte.
. "$(dirname "$0")/setup.sh"
. "$SRC/like-parallel.sh"

like_parallel "-E stops stdin" $'a\nb\nSTOP\nc\n' $'a\nb\n' -- -E STOP echo
like_parallel "-E in ::: items" '' $'a\n' -- -E STOP echo ::: a STOP b
like_parallel "-E in the second source" '' $'a 1\nb 1\n' -- \
	-E STOP echo ::: a b ::: 1 STOP 2
like_parallel "-E matches whole items only" $'a\n STOP\nSTOP \nc\n' \
	$'a\n STOP\nSTOP \nc\n' -- -E STOP echo
like_parallel "-E '' ends nothing" $'a\n\nb\n' $'a\n\nb\n' -- -E '' echo
like_parallel "--eof=STR" $'a\nSTOP\nc\n' $'a\n' -- --eof=STOP echo
like_parallel "--eof STR" $'a\nSTOP\nc\n' $'a\n' -- --eof STOP echo
like_parallel "-E the first item" $'STOP\na\n' '' -- -E STOP echo
like_parallel "-E with -n2" $'a\nb\nc\nSTOP\nd\n' $'a b\nc\n' -- -E STOP -n2 echo
like_parallel "-E with -d" 'a,b,STOP,c' $'a\nb\n' -- -d, -E STOP echo
printf '1\n2\n3\n4\n' >"$T/f"
like_parallel "-E in a file of ::::" '' $'1\n2\n' -- -E 3 echo :::: "$T/f"
# The rest of the input is not read: a writer that never ends is no matter.
run_case "-E does not wait for the rest" 0 $'a\n' -- \
	sh -c "{ printf 'a\nSTOP\n'; exec sleep 30; } | $CCMAP -E STOP echo"

like_parallel "-r skips empty and blank lines" $'a\n\nb\n  \n\t\nc\n' \
	$'xay\nxby\nxcy\n' -- -r echo x{}y
like_parallel "without -r they run" $'a\n\nb\n  \n' $'xay\nxy\nxby\nx  y\n' -- \
	echo x{}y
like_parallel "-r only blank input" $'\n\n \n' '' -- -r echo x{}y
like_parallel "-r with -n2" $'a\n\nb\n  \nc\n' $'xa by\nxcy\n' -- -r -n2 echo x{}y
like_parallel "-r in ::: items" '' $'xay\nxby\n' -- -r echo x{}y ::: a '' ' ' b
like_parallel "-r per source" '' $'xa 1y\nxb 1y\n' -- \
	-r echo x{}y ::: a b ::: '' 1
like_parallel "-r nothing left" '' '' -- -r echo x{}y ::: '' ' ' ::: '' ' '
like_parallel "--no-run-if-empty -X" $'a\n\nb\n  \nc\n' $'xay xby xcy\n' -- \
	--no-run-if-empty -X -j1 echo x{}y
like_parallel "-r -d," 'a,,b, ,' $'xay\nxby\n' -- -d, -r echo x{}y
run_case "-r -0" 0 $'xay\nxby\n' -- \
	sh -c "printf 'a\\0\\0b\\0 \\0' | $CCMAP -0 -r echo x{}y"
like_parallel "-r keeps an item with spaces around" $' a \n' $'x a y\n' -- \
	-r echo x{}y
like_parallel "-r: CR, VT and FF are whitespace" $'\r\n\v\n\f\n' '' -- \
	-r echo x{}y
like_parallel "-r: bytes above 127 are not" $'\xa0\n\x85\n' $'x\xa0y\nx\x85y\n' -- \
	-r echo x{}y
like_parallel "-r and -E" $'a\n\nSTOP\nb\n' $'xay\n' -- -r -E STOP echo x{}y
P=${CCMAP_PLUGIN_DIR:-$SRC/../../src/plugins/.libs}
run_case "-r and -E with a plugin" 0 $'1\n2\n' --stdin $'a\n\n \nbb\nE\nc\n' -- \
	$CCMAP -r -E E --so "$P/len.so"

done_testing
