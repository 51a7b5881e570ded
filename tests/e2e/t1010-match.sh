#!/bin/bash
# t1010: --match and --skip (ccmap's own: SPEC section 1), and
# {s/REGEX/REPLACEMENT/FLAGS}, compared with GNU parallel's
# {= s/REGEX/REPLACEMENT/FLAGS =} where it is installed.
. "$(dirname "$0")/setup.sh"

items=$'a1\nb2\nc3\nxx\n'
run_case "--match maps only matching items" 0 $'a1\nb2\nc3\n' --stdin "$items" -- \
	$CCMAP --match '\d' echo
run_case "--match: capture groups are {1}..{N}, named groups {name}" 0 \
	$'1a a 1a\n2b b 2b\n3c c 3c\n' --stdin "$items" -- \
	$CCMAP --match '^(?<l>[a-z])(\d)$' echo '{2}{1}' '{l}' '{2}{l}'
printf '%s\n' '#!/bin/sh' 'printf "%s" "$#"' 'for a; do printf " [%s]" "$a"; done' 'echo' >"$T/show"
chmod +x "$T/show"
run_case "--match: {} is every group, each a word" 0 $'2 [a] [1]\n' --stdin $'a1\n' -- \
	$CCMAP --match '(.)(.)' "$T/show" '{}'
run_case "--match: an unset group is an empty column" 0 $'2 [] [b]\n' --stdin $'b\n' -- \
	$CCMAP --match '(a)?(b)' "$T/show"
run_case "--match {name.} and {name/}" 0 $'dir/f f.c\n' --stdin $'path=dir/f.c\n' -- \
	$CCMAP --match '^path=(?<p>.*)$' echo '{p.}' '{p/}'
run_case "--skip drops matching items" 0 $'a1\nc3\n' --stdin "$items" -- \
	$CCMAP --skip 'b|x' echo
run_case "--match and --skip together" 0 $'a1\nb2\n' --stdin "$items" -- \
	$CCMAP --match '\d' --skip 3 echo
run_case "--skip with two sources: a tuple goes if any value matches" 0 $'a 1\nb 1\n' -- \
	$CCMAP --skip '^2$|^c$' echo ::: a b c ::: 1 2
run_case "--match with two sources: groups of each, one after the other" 0 \
	$'a-1-b-2\n' -- $CCMAP --match '(\w)=(\d)' echo '{1}-{2}-{3}-{4}' ::: a=1 ::: b=2
run_case "--match, no item matches: nothing runs, exit 0" 0 '' --stdin "$items" -- \
	$CCMAP --match 'zzz' echo
run_case "--match with -C: filter, then columns" 0 $'b\n' --stdin $'a,b\nc;d\n' -- \
	$CCMAP --match , -C , echo '{2}'
run_case "--match with groups and -C is refused" 255 '' -- \
	$CCMAP --match '(a)' -C , echo ::: a
stderr_has "^ccmap: --match with capture groups" "--match with groups and -C: one line"
run_case "--skip with a plugin" 0 $'2\n2\n' --stdin "$items" -- \
	$CCMAP --skip x --match '[ab]' --so "$CCMAP_PLUGIN_DIR/len.so"
run_case "--match bad regex" 255 '' -- $CCMAP --match '(?<' touch "$T/ran" ::: x
stderr_has "^ccmap: --match: bad regex '\(\?<': .* at offset 3$" "--match bad regex: named"
run_case "--skip bad regex" 255 '' -- $CCMAP --skip '*' touch "$T/ran" ::: x
stderr_is "ccmap: --skip: bad regex '*': quantifier does not follow a repeatable item at offset 0"$'\n' \
	"--skip bad regex: PCRE2's message and the offset"
check "bad regexes: no job ran" test ! -e "$T/ran"

# {s/RE/REPL/FLAGS} against GNU parallel's {= s/RE/REPL/FLAGS =}.
# subst NAME EXPECTED CCMAP-WORD PERL-EXPR ARGS...
subst() {
	local name=$1 expected=$2 word=$3 perl=$4
	shift 4
	run_case "$name" 0 "$expected" -- $CCMAP -k echo "$word" "$@"
	if command -v parallel >/dev/null 2>&1; then
		local got
		got=$(parallel --will-cite -k echo "$perl" "$@" </dev/null; echo x)
		is "${got%x}" "$expected" "$name: as GNU parallel"
	else
		skip "$name: as GNU parallel" "parallel is not installed"
	fi
}
subst "{s///}: the first match" $'b1a\nxbb\n' '{s/a/b/}' '{= s/a/b/ =}' ::: a1a xab
subst "{s///g}: every match" $'b1b\nxbb\n' '{s/a/b/g}' '{= s/a/b/g =}' ::: a1a xab
subst "{s///i}: either case" $'[A]b\n' '{s/a/[$&]/i}' '{= s/a/[$&]/i =}' ::: Ab
subst "{s///gi}: \$1 and \${1}" $'[aa1][AA1]-\n' '{s/(a)/[$1${1}1]/gi}' '{= s/(a)/[$1${1}1]/gi =}' ::: aA-
subst "{s///} quoted as one word" $'x y;z\n' '{s/a/ y;/}' '{= s/a/ y;/ =}' ::: xaz
subst "{s///} with \\/ in the regex" $'a-b\n' '{s/\//-/}' '{= s/\//-/ =}' ::: a/b
subst "{s///} on every source" $'xb yb\n' '{s/a/b/}' '{= s/a/b/ =}' ::: xa ::: ya
subst "{2 s///}: on source 2" $'ya\n' '{2 s/b/a/}' '{=2 s/b/a/ =}' ::: xb ::: yb
subst "{2s///}: no space needed" $'ya\n' '{2s/b/a/}' '{=2 s/b/a/ =}' ::: xb ::: yb
subst "{s///} in a word" $'xby\n' 'x{s/a/b/}y' 'x{= s/a/b/ =}y' ::: a
subst "{s///}: Perl's \$+{name}" $'[a]\n' '{s/(?<n>a)/[$+{n}]/}' '{= s/(?<n>a)/[$+{n}]/ =}' ::: a
subst "{s///}: no match leaves the value" $'abc\n' '{s/z/y/}' '{= s/z/y/ =}' ::: abc
run_case "{s///m} and {s///s}" 0 $'x\n' --stdin $'a\n' -- $CCMAP echo '{s/^a$/x/m}'
run_case "{s///x}: white space in the regex" 0 $'b\n' -- $CCMAP echo '{s/ a /b/x}' ::: a
run_case "{s///} with -C: a column" 0 $'B a\n' --stdin $'a,b\n' -- $CCMAP -C , echo '{2s/b/B/}' '{1}'
run_case "{name s///} with --header" 0 $'7y\n' --stdin $'age\n7x\n' -- \
	$CCMAP --header : echo '{age s/x/y/}'
run_case "{s///} named group in the replacement" 0 $'[a]\n' -- \
	$CCMAP echo '{s/(?<n>a)/[${n}]/}' ::: a
run_case "{s///} in --tagstring" 0 $'B\tab\n' -- $CCMAP --tagstring '{s/a(.)/\U$1/}' echo ::: ab
run_case "{s///} with --procs and shell lines" 0 $'b\n1\nb\n2\n' -- \
	$CCMAP --procs -j2 echo '{s/a/b/};' echo '{#}' ::: a a
run_case "{s/a(/b/} bad regex" 255 '' -- $CCMAP touch "$T/ran" '{s/a(/b/}' ::: x
stderr_is "ccmap: replacement string '{s/a(/b/}': bad regex 'a(': missing closing parenthesis at offset 2"$'\n' \
	"{s///} bad regex: the string, PCRE2's message, the offset"
run_case "{s///q}: unknown flag" 255 '' -- $CCMAP echo '{s/a/b/q}' ::: x
stderr_has "^ccmap: unknown flag 'q' in replacement string" "{s///q}: one line"
run_case "{s/a/b} unterminated" 255 '' -- $CCMAP echo '{s/a/b}' ::: x
stderr_has "^ccmap: unterminated replacement string '\{s/a/b\}'" "{s/a/b}: one line"
check "bad {s///}: no job ran" test ! -e "$T/ran"

done_testing
