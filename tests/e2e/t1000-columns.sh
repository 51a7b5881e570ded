#!/bin/bash
# t1000: columns (-C/--colsep), names (--header) and --trim, compared with
# GNU parallel 20221122 where it is installed.  The expected outputs are what
# that version prints.
. "$(dirname "$0")/setup.sh"

# same NAME STDIN EXPECTED ARGS...: ccmap ARGS with STDIN must print
# EXPECTED, and so must `parallel --will-cite -k ARGS` when it is here.
same() {
	local name=$1 stdin=$2 expected=$3
	shift 3
	run_case "$name" 0 "$expected" --stdin "$stdin" -- $CCMAP -k "$@"
	if command -v parallel >/dev/null 2>&1; then
		local got
		got=$(printf '%s' "$stdin" | parallel --will-cite -k "$@"; echo x)
		is "${got%x}" "$expected" "$name: as GNU parallel"
	else
		skip "$name: as GNU parallel" "parallel is not installed"
	fi
}

# show: the number of its arguments, then each in brackets.
printf '%s\n' '#!/bin/sh' 'printf "%s" "$#"' 'for a; do printf " [%s]" "$a"; done' 'echo' >"$T/show"
chmod +x "$T/show"

tsv=$'a\tb\tc\nd\te\n'
same "-C tab: positional columns, a missing one empty" "$tsv" $'a-b-c\nd-e-\n' \
	-C '\t' echo '{1}-{2}-{3}'
same "--colsep with no replacement string appends the columns" "$tsv" \
	$'a b c\nd e\n' --colsep '\t' echo
same "--colsep: the columns are separate arguments" "$tsv" \
	$'3 [a] [b] [c]\n2 [d] [e]\n' -C '\t' "$T/show"
same "-C: {} is every column, each a word" 'a b,c;d'$'\n' $'2 [a b] [c;d]\n' \
	-C , "$T/show" '{}'
same "-C: {N.} {N/} {N//} {N/.} on columns" $'x/a.b\tc/d.e\n' $'x/a d.e c a\n' \
	-C '\t' echo '{1.}' '{2/}' '{2//}' '{1/.}'
same "-C regex: runs of separators" $'a  , b,c\n' $'a-b-c\n' -C ' *, *' echo '{1}-{2}-{3}'
same "-C: empty and trailing empty columns are kept" $'a,,b,\n' $'4 [a] [] [b] []\n' \
	-C , "$T/show"
same "-C: a column past the last stands for nothing" $'a,b\n' $'2 [a] [b]\n' \
	-C , "$T/show" '{1}' '{2}' '{3}'
same "-C: a column past the last, in a word, leaves the word" $'a,b\n' $'3 [a] [b] [x]\n' \
	-C , "$T/show" '{1}' '{2}' 'x{3}'
same "-C: a present empty column is an argument" $'a,\n' $'3 [a] [] [x]\n' \
	-C , "$T/show" '{1}' '{2}' 'x{3}'
same "-C: capture groups in the separator are columns (Perl's split)" \
	$'a,b;c\n' $'7 [a] [,] [] [b] [] [;] [c]\n' -C '(,)|(;)' "$T/show"
same "-C: a regex that matches empty splits between characters" \
	$'abc\n' $'4 [a] [b] [c] []\n' -C 'x*' "$T/show"
same "-C: an empty item is one empty column" $'\nx\n' $'[]\n[x]\n' -C , echo '[{1}]'
same "-C with two sources: the columns one after the other" '' \
	$'a_b_x_y\nc_x_y_\n' -C , echo '{1}_{2}_{3}_{4}' ::: a,b c ::: x,y
same "-C with two sources, appended" '' $'a b x y\nc x y\n' -C , echo ::: a,b c ::: x,y
same "-C with --link" '' $'a/b/x\nc/z/\n' --link -C , echo '{1}/{2}/{3}' ::: a,b c ::: x,y z
same "-C with -n2: columns of both items" $'a,b\nc,d\ne\n' $'a/b/c\ne//\n' \
	-n2 -C , echo '{1}/{2}/{3}'
same "-C with --tag: the tag is the columns" $'1 2\n' $'1 2\t2\n' -C ' ' --tag echo '{2}'

# --trim: GNU parallel's; -C trims both ends unless --trim says otherwise.
same "-C trims columns by default" $' a , b \n' $'xax xbx\n' -C , echo 'x{1}x' 'x{2}x'
same "--trim n keeps the spaces" $' a , b \n' $'x a x x b x\n' -C , --trim n echo 'x{1}x' 'x{2}x'
same "--trim l" $' a , b \n' $'xa x xb x\n' -C , --trim l echo 'x{1}x' 'x{2}x'
same "--trim r" $' a , b \n' $'x ax x bx\n' -C , --trim r echo 'x{1}x' 'x{2}x'
same "--trim lr without -C" $'  a  \n' $'xax\n' --trim lr echo 'x{}x'
same "--trim rl: Perl's \\s" $'\t\r a \v\f\n' $'xax\n' --trim rl echo 'x{}x'
same "--trim with --tag trims the tag too" '' $'a\txax\n' --trim lr --tag echo 'x{}x' ::: ' a '
same "--trim does not split at the separator" $' a b\n' $'3 [] [a] [b]\n' \
	-C ' ' --trim lr "$T/show"
run_case "--trim x is refused before any job" 255 '' -- $CCMAP --trim x echo ::: a
stderr_is "ccmap: invalid value 'x' for --trim (want n, l, r, lr or rl)"$'\n' \
	"--trim x: one line naming the option"

# --header: the first value of each source names its columns.
hdr=$'f1\tf2\na.x\tb/c\nd\te\n'
same "--header : -C: {name}" "$hdr" $'b/c-a.x\ne-d\n' --header : -C '\t' echo '{f2}-{f1}'
same "--header: {name.} {name/} {name//} {name/.}" "$hdr" $'a a.x b/c b a\nd d e . d\n' \
	--header : -C '\t' echo '{f1.}' '{f1}' '{f2}' '{f2//}' '{f1/.}'
same "--header: an unknown name stays as it is" "$hdr" $'a.x {f3}\nd {f3}\n' \
	--header : -C '\t' echo '{f1}' '{f3}'
same "--header without -C splits at tabs" "$hdr" $'a.x a.x b/c\nd d e\n' --header : echo '{f1}' '{}'
same "--header: :::'s first value names the source" '' $'1-x\n1-y\n2-x\n2-y\n' \
	--header : echo '{foo}-{bar}' ::: foo 1 2 ::: bar x y
printf 'name\tage\nann\t7\n' >"$T/people.tsv"
same "--header with :::: and columns" '' $'7 ann z\n' \
	--header : echo '{age}' '{name}' '{c}' :::: "$T/people.tsv" ::: c z
same "--header: a CR at the end of the header line" $'a\tb\r\n1\t2\n' $'2\n' \
	--header : echo '{b}'
same "--header REGEX: the first line still" $'a\nb\nc\n' $'b\nc\n' --header '(.*\n){2}' echo '{a}'
printf 'x\ny\n' >"$T/names"
run_case "--header 0: a file source is named by its path" 0 $'x\ny\n' -- \
	$CCMAP --header 0 echo "{$T/names}" :::: "$T/names"
run_case "--header with the tag string" 0 $'7:\tann\n' -- \
	$CCMAP --header : -C '\t' --tagstring '{age}:' echo '{name}' :::: "$T/people.tsv"
run_case "--header: an empty input runs nothing" 0 '' -- $CCMAP --header : echo
run_case "--header: a header alone runs nothing" 0 '' --stdin $'a\tb\n' -- \
	$CCMAP --header : echo '{a}'

# Bad regexes: one line, PCRE2's message and offset, exit 255, nothing runs.
run_case "-C bad regex" 255 '' -- $CCMAP -C 'a(' touch "$T/ran" ::: x
stderr_is "ccmap: --colsep: bad regex 'a(': missing closing parenthesis at offset 2"$'\n' \
	"-C bad regex: the option, PCRE2's message, the offset"
check "-C bad regex: no job ran" test ! -e "$T/ran"
run_case "--header bad regex" 255 '' -- $CCMAP --header '[a' echo ::: x
stderr_has "^ccmap: --header: bad regex '\[a': .* at offset 2$" "--header bad regex: named"

# Plugins see the columns too, joined by a tab.
run_case "-C with a plugin: the columns joined by a tab" 0 $'5\n' --stdin $'ab , cd\n' -- \
	$CCMAP -C , --so "$CCMAP_PLUGIN_DIR/len.so"

# Speed: per-item work allocates nothing; a big input goes through whole.
seq 200000 | sed 's/$/\tx/' >"$T/big"
run_case "-C over 200,000 lines in chunks" 0 '*' -- \
	$CCMAP -C '\t' -n 5000 "$T/show" :::: "$T/big"
is "$(awk '{s += $1} END {print s}' "$T/out")" 400000 "-C over 200,000 lines: every column"
is "$(grep -c ' \[x\]$' "$T/out")" 40 "-C over 200,000 lines: the last column last"

done_testing
