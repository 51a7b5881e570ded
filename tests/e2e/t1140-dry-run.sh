#!/bin/bash
# t1140: --dry-run prints each command as GNU parallel prints it, quoting
# and all, runs nothing, and exits with 0.
. "$(dirname "$0")/setup.sh"
. "$SRC/like-parallel.sh"

# Awkward items: spaces, quotes, $, shell syntax, non-ASCII, the empty one.
AW=('a b' "it's" '$x' 'é' '' 'a"b' '*' '~' 'a\b' $'t\tb' '%' '@' ',' ':' '='
	'!' '#' '^' "''" "'a'" '\' '`ls`' '$(id)' 'a;b' '&' '|' '<' '>' '(' ')'
	'{' '}' '[' ']' '?' ' ' '-n' '--' '日本' $'\x01' 'x=y' '+' '/a/b.c/'
	'.hidden' 'a.b.c' '/')

like_parallel "echo" '' '*' -- --dry-run echo ::: "${AW[@]}"
is "$(sed -n '1,5p' "$T/ccmap.out")" "echo 'a b'
echo 'it'\"'\"'s'
echo '\$x'
echo 'é'
echo ''" "echo: the quoting"
like_parallel "the path strings" '' '*' -- \
	--dry-run echo {} {.} {/} {//} {/.} {#} ::: "${AW[@]}"
like_parallel "{} in a word" '' '*' -- --dry-run echo x{}y ::: "${AW[@]}"
like_parallel "-X" '' '*' -- --dry-run -j1 -X echo x{}y {} ::: "${AW[@]}"
like_parallel "-X -j3" '' '*' -- --dry-run -j3 -X echo x{}y {} ::: "${AW[@]}"
like_parallel "-m" '' '*' -- --dry-run -j1 -m echo x{}y {} ::: "${AW[@]}"
like_parallel "--xargs" '' '*' -- --dry-run -j1 --xargs echo ::: "${AW[@]}"
like_parallel "-n3" '' '*' -- --dry-run -n3 echo x{}y {2} ::: "${AW[@]}"
like_parallel "-N3" '' '*' -- --dry-run -N3 echo x{}y {2} ::: "${AW[@]}"
like_parallel "-q -N3" '' '*' -- \
	--dry-run -q -N3 printf 'x%s' x{}y {2} ::: "${AW[@]}"
like_parallel "-q" '' '*' -- --dry-run -q printf '[%s] ' x{}y {2} ::: "${AW[@]}"
like_parallel "-I" '' '*' -- --dry-run -I @@ echo @@ {} ::: "${AW[@]}"
like_parallel "shell syntax in the command" '' '*' -- \
	--dry-run 'echo {} | wc' ::: "${AW[@]}"
like_parallel "two sources" '' $'echo a 1\necho a 2\necho b 1\necho b 2\n' -- \
	--dry-run echo ::: a b ::: 1 2
like_parallel "items that are commands" '' $'echo a\nls |wc\n' -- \
	--dry-run ::: 'echo a' 'ls |wc'
like_parallel "--tag" '' $'a\techo a\nb c\techo \'b c\'\n' -- \
	--dry-run --tag echo ::: a 'b c'
like_parallel "a failing command: 0" '' $'false a\n' -- --dry-run false ::: a
like_parallel "-q sh -c" '' $'sh -c \'echo $1\' _ \'a b\'\n' -- \
	--dry-run -q sh -c 'echo $1' _ ::: 'a b'
like_parallel "-N0" '' $'echo \necho \n' -- --dry-run -N0 echo ::: a b
like_parallel "-n0" '' $'echo xy  1\necho xy  2\n' -- \
	--dry-run -n0 echo x{}y {1} {#} ::: a b
run_case "a newline in an item" 0 $'echo \'a\nb\'\necho c\n' -- \
	sh -c "printf 'a\\nb\\0c\\0' | $CCMAP -0 --dry-run echo"

# Nothing runs.
run_case "--dry-run runs nothing" 0 "touch $T/x"$'\n' -- \
	$CCMAP --dry-run touch ::: "$T/x"
check "--dry-run runs nothing: no file" test ! -e "$T/x"
run_case "--dry-run with --procs" 0 $'echo 1\necho 2\necho 3\n' -- \
	$CCMAP --procs --dry-run echo ::: 1 2 3
run_case "--dry-run -u" 0 $'echo 1\n' -- $CCMAP -u --dry-run echo ::: 1
run_case "--dry-run --so is refused" 255 '' -- $CCMAP --dry-run --so len ::: a
stderr_has "^ccmap: --so: --dry-run is for commands only" "--dry-run --so: the message"

done_testing
