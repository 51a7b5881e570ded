#!/bin/bash
# t0050: the engine's pieces driven from the shell by tests/helper/test-tool:
# the reorder buffer hands jobs out in input order whatever order they end
# in, and shell_quote's words read back, through sh, as the bytes quoted.
. "$(dirname "$0")/setup.sh"

tt() { $TEST_TOOL "$@"; }

is "$(printf '%s\n' 3 1 2 | tt reorder | tr '\n' ' ')" "1 2 3 held 0 " \
	"reorder: in order, whatever the order they end in"
is "$(printf '%s\n' 2 4 1 | tt reorder | tr '\n' ' ')" "1 2 held 1 " \
	"reorder: one held, waiting for the job before it"
is "$(seq 1000 | sort -R | tt reorder | tail -1)" "held 0" \
	"reorder: a shuffled thousand all come out"
is "$(seq 1000 | sort -R | tt reorder | sed '$d' | cmp - <(seq 1000) &&
	echo same)" same "reorder: a shuffled thousand come out in order"
st=0
printf '%s\n' 1 1 | tt reorder >/dev/null 2>"$T/err" || st=$?
is "$st" 1 "reorder: a number given twice is refused"
stderr_has "1 is already out" "reorder: ... and it says which"

# Awkward words: each, quoted, read back by sh, is the word.
AW=('a b' "it's" '$x' '' 'a"b' '*' '~' 'a\b' $'t\tb' '`ls`' '$(id)' 'a;b'
	'&' '|' '<' '>' '(' ')' '{' '}' '!' '#' '-n' '日本' $'new\nline' "''")
i=0
for w in "${AW[@]}"; do
	q=$(tt quote "$w")
	got=$(sh -c "printf '%s' $q")
	[ "$got" = "$w" ] || { diag "'$w' quoted as $q reads back as '$got'"; i=1; }
done
ok $i "quote: ${#AW[@]} awkward words read back through sh as themselves"
is "$(tt quote plain)" "plain" "quote: a plain word stays as it is"

done_testing
