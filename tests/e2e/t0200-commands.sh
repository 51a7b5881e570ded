#!/bin/bash
# t0200: how a job's command is composed and run: the item appended when
# there is no replacement string, {} {.} {/} {//} {/.} {#} {%} {N} and -I
# (compared with GNU parallel), quoting (an item never runs as code), lines
# that need no shell run without one, shell syntax, exported bash functions,
# items as commands (no command, or one that starts with {}: unquoted, as in
# GNU parallel), CCMAP_SEQ/CCMAP_SLOT, stdin from /dev/null.
. "$(dirname "$0")/setup.sh"

have_parallel=
if command -v parallel >/dev/null 2>&1; then
	have_parallel=1
fi

# same_as_parallel NAME ARGS...: ccmap ARGS and parallel --will-cite -k ARGS
# give the same stdout and status.
same_as_parallel() {
	_n=$1
	shift
	if [ -z "$have_parallel" ]; then
		skip "$_n" "GNU parallel not installed"
		return
	fi
	set +e
	parallel --will-cite -k "$@" >"$T/par.out" 2>"$T/par.err" </dev/null
	_ps=$?
	set -e
	_exp=$(cat "$T/par.out"; echo x)
	_exp=${_exp%x}
	run_case "$_n" "$_ps" "$_exp" -- $CCMAP "$@"
}

printf '#!/bin/sh\nprintf "%%s\\n" "$@"\n' >"$T/showl"
chmod +x "$T/showl"

PATHS=(a/b.c .bashrc a/ / dir.d/file plain a.b.c /abs/x.tar.gz ./rel.x 'sp ace/f i.le' '')

# --- appended item -----------------------------------------------------
run_case "no replacement string: item appended" 0 $'x a\nx b\n' -- $CCMAP echo x ::: a b
run_case "item appended as one argument" 0 $'[a b]\n' -- $CCMAP "printf '[%s]\\n'" ::: 'a b'
run_case "-I STR: STR replaced, {} left alone" 0 $'1-{}\n' -- $CCMAP -I XX echo XX-{} ::: 1
run_case "-I STR: item not appended" 0 $'[1]\n' -- $CCMAP -I @@ echo '[@@]' ::: 1

# --- replacement strings, compared with GNU parallel --------------------
for rs in '{}' '{.}' '{/}' '{//}' '{/.}' '{#}' 'pre{}post' '{.}.out' 'x{/.}y{//}z'; do
	same_as_parallel "$rs over tricky paths (as parallel)" echo "$rs" ::: "${PATHS[@]}"
done
same_as_parallel "all replacement strings in one word (as parallel)" \
	echo '{}|{.}|{/}|{//}|{/.}|{#}' ::: "${PATHS[@]}"
same_as_parallel "{1} {2} {1.} {2/} {1//} {2/.} (as parallel)" \
	echo '{1}' '{2}' '{1.}' '{2/}' '{1//}' '{2/.}' ::: a/b.c .bashrc ::: d.d/e.f /g
same_as_parallel "{2} {1} reversed (as parallel)" echo '{2}' '{1}' ::: a b ::: 1 2 3
same_as_parallel "{} with two sources (as parallel)" echo '{}' ::: a b ::: 1 2
same_as_parallel "appended with two sources (as parallel)" echo ::: a b ::: 1 2
same_as_parallel "-I with modifiers (as parallel)" -I ,, echo ',,' ',,.' ',,/' ::: a/b.c
same_as_parallel "{#} counts jobs (as parallel)" echo '{#}' ::: a b c d e f g h i j k l

run_case "{%} with -j1 is 1" 0 $'1\n1\n1\n' -- $CCMAP -j1 echo '{%}' ::: a b c

# --- quoting: items are data, never code --------------------------------
NASTY=('a b; touch '"$T"'/pwned1' '$(touch '"$T"'/pwned2)' '`touch '"$T"'/pwned3`'
	"it's" 'a"b' 'x > '"$T"'/pwned4' '*' '~' '$HOME' 'a\b' '  lead' 'tab	in'
	'a|b' 'a&b' '{}' '-n' '#c' '!x' 'a;b' '(x)' '')
nasty_expected=$(printf '%s\n' "${NASTY[@]}"; echo x)
nasty_expected=${nasty_expected%x}
run_case "nasty items printed verbatim (direct)" 0 "$nasty_expected" -- \
	$CCMAP "$T/showl" ::: "${NASTY[@]}"
run_case "nasty items printed verbatim with {}" 0 "$nasty_expected" -- \
	$CCMAP "$T/showl" '{}' ::: "${NASTY[@]}"
# A command that needs the shell (a pipe): the item still is one word.
run_case "nasty items through a shell line" 0 "$nasty_expected" -- \
	$CCMAP "printf '%s\\n' {} | cat" ::: "${NASTY[@]}"
run_case "nasty items appended to a shell line" 0 "$nasty_expected" -- \
	$CCMAP "true && printf '%s\\n'" ::: "${NASTY[@]}"
run_case "nasty items inside a word ({} in a longer word)" 0 "$(printf '[%s]\n' "${NASTY[@]}")"$'\n' -- \
	$CCMAP "printf '%s\\n'" '[{}]' ::: "${NASTY[@]}"
for i in 1 2 3 4; do
	check "injection $i did not run" test ! -e "$T/pwned$i"
done
same_as_parallel "nasty items (as parallel)" echo ::: "${NASTY[@]}"

printf 'a b; touch %s/pwned5\0line1\nline2\0$(touch %s/pwned6)\0' "$T" "$T" >"$T/nul"
run_case "-0: items with newlines and code stay data" 0 \
	"a b; touch $T/pwned5|line1"$'\n'"line2|\$(touch $T/pwned6)|" -- \
	$CCMAP -0 -a "$T/nul" "printf '%s|'"
check "-0 injection did not run" test ! -e "$T/pwned5" -a ! -e "$T/pwned6"
run_case "-0: newline item through the shell" 0 $'[line1\nline2]\n' -- \
	bash -c 'printf "line1\nline2\0" | '"$CCMAP"' -0 "printf \"[%s]\n\" {} | cat"'

# --- shell vs direct exec -----------------------------------------------
# $SHELL is a logging wrapper (named bash so ccmap takes it as a POSIX
# shell): every shell ccmap starts leaves a line in sh.log.
mkdir "$T/sb"
cat >"$T/sb/bash" <<EOF
#!/bin/bash
printf '%s\n' "\$*" >>"$T/sh.log"
exec /bin/bash "\$@"
EOF
chmod +x "$T/sb/bash"

for ex in --threads --procs; do
	rm -f "$T/sh.log"
	run_case "plain command $ex: runs" 0 $'1\n2\n' -- env SHELL="$T/sb/bash" $CCMAP $ex echo ::: 1 2
	check "plain command $ex: no shell started" test ! -e "$T/sh.log"
	rm -f "$T/sh.log"
	run_case "plain command with {} and path $ex: runs" 0 $'x.c y\n' -- \
		env SHELL="$T/sb/bash" $CCMAP $ex /bin/echo '{}' y ::: x.c
	check "plain command with {} $ex: no shell started" test ! -e "$T/sh.log"
	rm -f "$T/sh.log"
	run_case "shell syntax $ex: echo {} | tr a b" 0 $'b\n' -- \
		env SHELL="$T/sb/bash" $CCMAP $ex 'echo {} | tr a b' ::: a
	check "shell syntax $ex: went through \$SHELL" test -s "$T/sh.log"
	rm -f "$T/sh.log"
	run_case "shell syntax $ex: echo {} | tr 1 b" 0 $'b\nb2\n' -- \
		env SHELL="$T/sb/bash" $CCMAP $ex 'echo {} | tr 1 b' ::: 1 12
	run_case "shell syntax $ex: redirection, &&, \$VAR" 0 $'ok 7\n' -- \
		env SHELL="$T/sb/bash" V=7 $CCMAP $ex 'echo {} $V > '"$T"'/r.out && cat '"$T"'/r.out' ::: ok
	run_case "shell builtin $ex: cd works" 0 $'/\n' -- \
		env SHELL="$T/sb/bash" $CCMAP $ex 'cd / && pwd' ::: ''
done
# The job's parent, for a direct exec, is ccmap itself (or its worker): no
# shell sits in between, so the job's own PPID's command is not a shell.
cat >"$T/pp.sh" <<'EOF'
#!/bin/sh
cat /proc/$PPID/comm
EOF
chmod +x "$T/pp.sh"
run_case "direct exec: the job's parent is ccmap" 0 '*' -- $CCMAP "$T/pp.sh" ::: 1
case $OUT in
*bash*|*sh) r=1 ;;
*) r=0 ;;
esac
ok $r "direct exec: parent '$(printf %s "$OUT" | tr -d '\n')' is not a shell"

# --- exported bash functions --------------------------------------------
myfunc() { echo "myfunc:$1:$#"; }
export -f myfunc
for ex in --threads --procs; do
	run_case "export -f function $ex" 0 $'myfunc:1:1\nmyfunc:a b:1\n' -- $CCMAP $ex myfunc ::: 1 'a b'
	run_case "export -f function with {} $ex" 0 $'myfunc:x.c:1\n' -- $CCMAP $ex myfunc '{}' ::: x.c
	run_case "export -f function, SHELL=/bin/sh $ex" 0 $'myfunc:1:1\n' -- \
		env SHELL=/bin/sh $CCMAP $ex myfunc ::: 1
	run_case "export -f function in a shell line $ex" 0 $'MYFUNC:2:1\n' -- \
		$CCMAP $ex 'myfunc {} | tr a-z A-Z' ::: 2
	run_case "export -f function in a shell line, SHELL=/bin/sh $ex" 0 $'MYFUNC:2:1\n' -- \
		env SHELL=/bin/sh $CCMAP $ex 'myfunc {} | tr a-z A-Z' ::: 2
	run_case "export -f function after a pipe, no SHELL $ex" 0 $'myfunc:3:1\n' -- \
		env -u SHELL $CCMAP $ex 'echo {} | myfunc "$(cat)"' ::: 3
done
unset -f myfunc

# --- items as commands --------------------------------------------------
for ex in --threads --procs; do
	run_case "no command: each item is a command $ex" 0 $'1\n3\nhi there\n' \
		--stdin $'echo 1\necho 2 | tr 2 3\nprintf "%s %s\\n" hi there\n' -- $CCMAP $ex
	run_case "no command with ::: $ex" 0 $'a\nb\n' -- $CCMAP $ex ::: 'echo a' 'echo b'
done
# A command that starts with a replacement string: the items are the
# commands, unquoted, as in GNU parallel (its man page: "The exception is if
# the command starts with a replacement string; then the string is not
# quoted").  Not when {} is an argument, in an assignment, or with -q.
for args in "{}|:::|echo foo|echo bar | tr a-z A-Z" \
	"{}|arg|:::|echo a  b|printf %s-%s\\n" \
	"{.}|:::|echo x.y|echo a b.c" \
	"{1}|{2}|:::|echo a b|printf [%s]|:::|c  d|e;echo f" \
	"{2}|{1}|:::|c d|e;echo f|:::|echo a b" \
	"{} x|:::|echo a b" \
	"{/}|:::|d/echo a;echo b" \
	"-n2|{}|:::|echo a|b c" \
	"-X|{}|x|:::|echo a|echo b" \
	"-q|{}|:::|echo a" \
	"echo|{}|:::|a b;echo pwned" \
	"V={}; echo \"\$V\"|:::|a b;echo pwned" \
	"true {}; echo|:::|a b;echo pwned"; do
	IFS='|' read -r -a av <<<"$args"
	same_as_parallel "command starts with a replacement: ${av[*]} (as parallel)" "${av[@]}"
	same_as_parallel "--dry-run ${av[*]} (as parallel)" --dry-run "${av[@]}"
done
run_case "{} as the command: the item's shell code runs" 0 $'foo\nBAR\n' -- \
	$CCMAP {} ::: 'echo foo' 'echo bar | tr a-z A-Z'
run_case "{} ARGS: the item is the command and its first arguments" 0 $'a b c\n' -- \
	$CCMAP {} c ::: 'echo a  b'
# The unquoted line runs directly when it needs no shell, like an item
# without a command; else in the shell.
for ex in --threads --procs; do
	rm -f "$T/sh.log"
	run_case "{} as the command, a plain line $ex: runs" 0 $'a b\n' -- \
		env SHELL="$T/sb/bash" $CCMAP $ex {} ::: 'echo a b'
	check "{} as the command, a plain line $ex: no shell started" test ! -e "$T/sh.log"
	run_case "{} as the command, a pipe $ex: through \$SHELL" 0 $'B\n' -- \
		env SHELL="$T/sb/bash" $CCMAP $ex {} ::: 'echo b | tr b B'
	check "{} as the command, a pipe $ex: went through \$SHELL" test -s "$T/sh.log"
done
# Quotes and backslashes as sh reads them need no shell either; a quoted
# command name (the shell could take it for a keyword) does.
for ex in --threads --procs; do
	rm -f "$T/sh.log"
	run_case "{} as the command, quoted words $ex: as sh splits them" 0 \
		"[a  b][it's][c d][e][f'g]" -- env SHELL="$T/sb/bash" $CCMAP $ex {} \
		::: "printf '[%s]' 'a  b' 'it'\\''s' c\\ d e'' \"f'g\""
	check "{} as the command, quoted words $ex: no shell started" test ! -e "$T/sh.log"
	run_case "{} as the command, a quoted name $ex: through \$SHELL" 0 $'q\n' -- \
		env SHELL="$T/sb/bash" $CCMAP $ex {} ::: "'echo' q"
	check "{} as the command, a quoted name $ex: went through \$SHELL" test -s "$T/sh.log"
	run_case "{} as the command, \"\$V\" $ex: expanded by the shell" 0 $'7 $V\n' -- \
		env V=7 SHELL="$T/sb/bash" $CCMAP $ex {} ::: "echo \"\$V\" '\$V'"
done
run_case "-q {}: the item stays one word" 1 '' -- $CCMAP -q {} ::: 'echo a'
stderr_has 'echo a' "-q {}: the shell looked for the command 'echo a'"

printf 'echo 1\nfalse\necho 3\n' >"$T/jobs.txt"
run_case "cat jobs.txt | ccmap: failures counted" 1 $'1\n3\n' -- bash -c 'cat '"$T"'/jobs.txt | '"$CCMAP"

# --- environment and stdin ---------------------------------------------
cat >"$T/env.sh" <<'EOF'
#!/bin/sh
echo "$1 $CCMAP_SEQ $CCMAP_SLOT"
EOF
printf '#!/bin/sh\nreadlink /proc/self/fd/0\n' >"$T/stdin.sh"
chmod +x "$T/env.sh" "$T/stdin.sh"
for ex in --threads --procs; do
	run_case "CCMAP_SEQ is the job number, -j1 slot 1 $ex" 0 $'a 1 1\nb 2 1\nc 3 1\n' -- \
		$CCMAP $ex -j1 "$T/env.sh" ::: a b c
	run_case "CCMAP_SEQ/CCMAP_SLOT with -j3 $ex" 0 '*' -- $CCMAP $ex -j3 "$T/env.sh" ::: $(seq 30)
	r=0
	n=0
	while read -r item seq slot; do
		n=$((n + 1))
		[ "$item" = "$n" ] && [ "$seq" = "$n" ] || r=1
		case $slot in 1|2|3) ;; *) r=1 ;; esac
	done <"$T/out"
	[ "$n" = 30 ] || r=1
	ok $r "CCMAP_SEQ = job number and CCMAP_SLOT in 1..3 $ex"
	run_case "CCMAP_SLOT equals {%} $ex" 0 '*' -- \
		$CCMAP $ex -j2 sh -c "'[ \"\$CCMAP_SLOT\" = {%} ] && [ \"\$CCMAP_SEQ\" = {#} ] && echo same'" ::: $(seq 10)
	is "$(grep -c same "$T/out")" 10 "CCMAP_SLOT = {%} and CCMAP_SEQ = {#} $ex"
	run_case "job stdin is /dev/null $ex" 0 $'/dev/null\n/dev/null\n' --stdin $'1\n2\n' -- \
		$CCMAP $ex "$T/stdin.sh"
	run_case "job reading stdin gets EOF, not ccmap's input $ex" 0 $'0\n' --stdin $'1\n' -- \
		$CCMAP $ex 'wc -c | tr -d " "; true'
done

done_testing
