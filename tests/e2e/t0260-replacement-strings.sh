#!/bin/bash
# t0260: replacement strings as GNU parallel reads them, compared with it
# byte for byte: positions counted from the last ({-1}, {-2.} ...), with
# several sources, -n, -N, -X and columns; a position's leading zeros and
# spaces, {0}; -I's positional forms; braces that are text ({foo}, awk's
# '{print $1}', --plus forms).  And GNU parallel's forms that ccmap does not
# have ({= perl =}, {N#}, {N%}): one line naming it, exit 255, no job run.
. "$(dirname "$0")/setup.sh"
. "$SRC/like-parallel.sh"

# --- {-N}: the N-th value from the last -----------------------------------
like_parallel "{-1} with one source" '' $'A\nB\n' -- echo '{-1}' ::: A B
like_parallel "{-1} {-2} with two sources" '' $'C A\nD A\nC B\nD B\n' -- \
	echo '{-1}' '{-2}' ::: A B ::: C D
like_parallel "{-1.} {-1/} {-1//} {-1/.}" '' $'e/b b.y e b\n' -- \
	echo '{-1.}' '{-1/}' '{-1//}' '{-1/.}' ::: d/a.x ::: e/b.y
like_parallel "-N2: {-1} is the job's last value" '' $'B A\nC C\n' -- \
	-N2 echo '{-1}' '{1}' ::: A B C
like_parallel "-n2: {-1}" '' $'B\nC\n' -- -n2 echo '{-1}' ::: A B C
like_parallel "-X: {-1} in a repeated word" '' $'preBpost A B\npreCpost C\n' -- \
	-j2 -X echo 'pre{-1}post' '{}' ::: A B C
like_parallel "-C: {-1} {-2} are the last columns" '' $'c b\ny x\n' -- \
	-C , echo '{-1}' '{-2}' ::: a,b,c x,y
like_parallel "--tagstring {-1}" '' $'b\ta b\n' -- --tagstring '{-1}' echo ::: a ::: b
like_parallel "{-1} as the command" '' $'last\n' -- '{-1}' ::: x ::: 'echo last'
like_parallel "--dry-run {-1} {-2}" '' $'echo \'c d\' \'a b\'\n' -- \
	--dry-run echo '{-1}' '{-2}' ::: 'a b' ::: 'c d'
# GNU parallel's manual: "If n is negative it refers to the n'th last
# argument"; one before the first is nothing, as {3} of two is.  (GNU
# parallel 20221122 indexes a Perl array with it and wraps around once.)
run_case "{-3} of two values stands for nothing" 0 $'x\n' -- \
	$CCMAP echo '{-3}' x ::: A ::: B
run_case "--dry-run: {-3} of two values, no word at all" 0 $'echo  x\n' -- \
	$CCMAP --dry-run echo '{-3}' x ::: A ::: B

# --- how a position is written -------------------------------------------
like_parallel "spaces after the position" '' $'a a a.b { 1}\n' -- \
	echo '{1 .}' '{-1 .}' '{1  }' '{ 1}' ::: a.b
like_parallel "leading zeros; {0} is {}" '' $'A.x A.x A.x A\n' -- \
	echo '{-01}' '{01}' '{0}' '{0.}' ::: A.x
like_parallel "{00} and {-0} are no value" '' $'x\n' -- echo '{00}' '{-0}' x ::: A
like_parallel "a position past any job" '' $'x\n' -- echo '{1000000000000}' x ::: A

# --- -I: its positional forms, as GNU parallel makes them -----------------
like_parallel "-I XX: {1} and {-1} are text, {1.} is not" '' $'a.b {1} {-1} a {}\n' -- \
	-I XX echo XX '{1}' '{-1}' '{1.}' '{}' ::: a.b
like_parallel "-I {x}: {1x} {-1x} {1 x}" '' $'a.b {1} a.b a.b a.b {}\n' -- \
	-I '{x}' echo '{x}' '{1}' '{1x}' '{-1x}' '{1 x}' '{}' ::: a.b

# --- braces that are text --------------------------------------------------
like_parallel "braces that are no replacement string" '' \
	$'{-1a} {1a} {a} {foo} xAy { -1} {--1} {..} {+/} {##} =} {=} {=\n' -- \
	echo '{-1a}' '{1a}' '{a}' '{foo}' 'x{}y' '{ -1}' '{--1}' '{..}' '{+/}' \
	'{##}' '=}' '{=}' '{=' ::: A
printf 'one two\nthree four\n' >"$T/words"
# The command's words are shell code: awk's program quoted once more.
like_parallel "awk's {print \$2}" '' $'two\nfour\n' -- awk "'{print \$2}'" ::: "$T/words"
like_parallel "{print \$1} inside a shell line" '' $'a\n' -- \
	"echo {} | awk '{print \$1}'" ::: 'a b'

# --- GNU parallel's forms that ccmap does not have -------------------------
# refused NAME MESSAGE ARGS...: exit 255, MESSAGE as the one line, no job.
refused() {
	local name=$1 msg=$2
	shift 2
	rm -f "$T/ran"
	run_case "$name: exit 255" 255 '' -- $CCMAP "$@"
	stderr_is "$msg"$'\n' "$name: one line naming it"
	check "$name: no job ran" test ! -e "$T/ran"
}
refused "{= s/// =}" \
	"ccmap: unsupported replacement string '{= s/a/b/ =}' in the command: ccmap runs no Perl; for a substitution write {s/a/b/}" \
	sh -c "touch $T/ran; echo \"\$1\"" _ '{= s/a/b/ =}' ::: abc
refused "{= and =} as words of their own" \
	"ccmap: unsupported replacement string '{= s/a/b/g; =}' in the command: ccmap runs no Perl; for a substitution write {s/a/b/g}" \
	touch "$T/ran" '{=' 's/a/b/g;' '=}' ::: abc
refused "{=N s/// =}" \
	"ccmap: unsupported replacement string '{=2 s/x/y/i =}' in the command: ccmap runs no Perl; for a substitution write {2 s/x/y/i}" \
	touch "$T/ran" '{=2 s/x/y/i =}' ::: a ::: b
refused "{= perl =}" \
	"ccmap: unsupported replacement string '{= \$_ x 2 =}' in the command: ccmap runs no Perl (see REPLACEMENT STRINGS in ccmap(1))" \
	touch "$T/ran" '{= $_ x 2 =}' ::: a
# An =} after a {= that it does not overlap: GNU parallel's Perl gets '} '.
refused "{=} =}" \
	"ccmap: unsupported replacement string '{=} =}' in the command: ccmap runs no Perl (see REPLACEMENT STRINGS in ccmap(1))" \
	touch "$T/ran" '{=}' '=}' ::: a
refused "{==}" \
	"ccmap: unsupported replacement string '{==}' in the command: ccmap runs no Perl (see REPLACEMENT STRINGS in ccmap(1))" \
	touch "$T/ran" 'x{==}' ::: a
refused "{= =} in --tagstring" \
	"ccmap: unsupported replacement string '{=uc=}' in '{=uc=}': ccmap runs no Perl (see REPLACEMENT STRINGS in ccmap(1))" \
	--tagstring '{=uc=}' touch "$T/ran" ::: a
for rs in '{1#}' '{-2%}' '{0#}' '{1 %}'; do
	refused "$rs" \
		"ccmap: unsupported replacement string '$rs' in the command (use {#} for the job number, {%} for its slot)" \
		touch "$T/ran" "x$rs" ::: a
done
refused "{1#} in --results" \
	"ccmap: unsupported replacement string '{1#}' in '$T/out/{1#}' (use {#} for the job number, {%} for its slot)" \
	--results "$T/out/{1#}" touch "$T/ran" ::: a
refused "unterminated {-1" \
	"ccmap: unterminated replacement string '{-1' in the command" \
	touch "$T/ran" '{-1' ::: a
# What the message says to write does what GNU parallel's {= s/// =} did.
if command -v parallel >/dev/null 2>&1; then
	is "$($CCMAP echo '{2 s/x/y/i}' ::: a ::: XbX)" \
		"$(parallel --will-cite echo '{=2 s/x/y/i =}' ::: a ::: XbX)" \
		"{2 s/x/y/i} gives what {=2 s/x/y/i =} gives in GNU parallel"
fi

done_testing
