#!/bin/bash
# t1100: :::+ and ::::+ link a source to the source before it, while the
# other sources still combine; as GNU parallel, byte for byte.
. "$(dirname "$0")/setup.sh"
. "$SRC/like-parallel.sh"

printf '1\n2\n3\n' >"$T/f1"
printf 'x\ny\n' >"$T/f2"
printf 'p\nq\n' >"$T/f3"
cd "$T"

like_parallel ":::+ pairs two sources" '' $'a 1\nb 2\nc 3\n' -- \
	echo ::: a b c :::+ 1 2 3
like_parallel ":::+ stops at the shorter source" '' $'a 1\nb 2\n' -- \
	echo ::: a b c :::+ 1 2
like_parallel ":::+ the shorter first" '' $'a 1\nb 2\n' -- \
	echo ::: a b :::+ 1 2 3
like_parallel "a linked pair combines with the source before" '' \
	$'a x 1\na y 2\nb x 1\nb y 2\n' -- echo ::: a b ::: x y :::+ 1 2
like_parallel "a linked pair combines with the source after" '' \
	$'a 1 x\na 1 y\nb 2 x\nb 2 y\n' -- echo ::: a b :::+ 1 2 ::: x y
like_parallel "two linked pairs" '' \
	$'a 1 x 8\na 1 y 9\nb 2 x 8\nb 2 y 9\n' -- \
	echo ::: a b :::+ 1 2 ::: x y :::+ 8 9
like_parallel "three linked, the shortest decides" '' $'a 1 X\nb 2 Y\n' -- \
	echo ::: a b c :::+ 1 2 :::+ X Y Z W
like_parallel "the first group is never linked" '' $'a 1\na 2\nb 1\nb 2\n' -- \
	echo :::+ a b ::: 1 2
like_parallel "::::+ links a file" '' $'1 x\n2 y\n' -- echo :::: f1 ::::+ f2
like_parallel "::::+ links to the last file before it" '' \
	$'1 x p\n1 y q\n2 x p\n2 y q\n3 x p\n3 y q\n' -- \
	echo :::: f1 f2 ::::+ f3
like_parallel "each file of ::::+ is linked" '' $'1 x p\n2 y q\n' -- \
	echo :::: f1 ::::+ f2 f3
like_parallel "::::+ after :::" '' $'a x\nb y\n' -- echo ::: a b ::::+ f2
like_parallel ":::+ after ::::" '' $'1 a\n2 b\n' -- echo :::: f1 :::+ a b
like_parallel ":::+ after -a is not linked" '' \
	$'1 a\n1 b\n2 a\n2 b\n3 a\n3 b\n' -- -a f1 echo :::+ a b
like_parallel ":::+ links to standard input" $'1\n2\n3\n' $'1 a\n2 b\n' -- \
	echo :::: - :::+ a b
like_parallel "--link wraps the linked groups" '' $'a 1 x\nb 2 y\nc 1 x\n' -- \
	--link echo ::: a b c ::: 1 2 :::+ x y
like_parallel "{1} {2} {3} with a linked pair" '' $'1-a-x\n1-b-y\n2-a-x\n2-b-y\n' -- \
	echo {1}-{2}-{3} ::: 1 2 ::: a b :::+ x y
like_parallel "-n2 over linked sources" '' $'a 1 b 2\nc 3\n' -- \
	-n2 echo ::: a b c :::+ 1 2 3

# A large streamed source linked to a short list stops reading at the
# list's end.
run_case "a streamed source linked to a list" 0 $'1 a\n2 b\n' -- \
	sh -c "seq 100000 | $CCMAP echo :::: - :::+ a b"
run_case "::::+ with no file is refused" 255 '' -- $CCMAP echo ::: a ::::+
stderr_has "^ccmap: no file after '::::\+'" "::::+ alone: the message"

done_testing
