#!/bin/bash
# t1020: --recsep REGEX: items end at the matches of a PCRE2 regex, read as
# a stream (the first job starts before the input ends, memory stays
# bounded, a separator cut in two by the reads is still found).
. "$(dirname "$0")/setup.sh"

run_case "--recsep: runs of a character" 0 $'a\nb\nc\n' --stdin 'a--b---c' -- \
	$CCMAP --recsep=-+ echo
run_case "--recsep: a separator at the end makes no empty item" 0 $'a\nb\n' --stdin 'a;;b;;' -- \
	$CCMAP --recsep ';;' echo
run_case "--recsep: empty items between separators" 0 $'[a]\n[]\n[b]\n' --stdin 'a;;;;b' -- \
	$CCMAP --recsep ';;' echo '[{}]'
run_case "--recsep: alternatives" 0 $'a\nb\nc\n' --stdin $'a<br>b\nc' -- \
	$CCMAP --recsep '<br>|\n' echo
run_case "--recsep: an empty match (lookahead) keeps the text" 0 \
	$'[>a x ]\n[>b y ]\n' --stdin $'>a x >b y ' -- \
	$CCMAP --recsep '(?=>)' echo '[{}]'
printf '%s\n' '#!/bin/sh' 'printf "%s" "$1" | wc -l' >"$T/lines"
chmod +x "$T/lines"
run_case "--recsep: newlines stay in the items" 0 $'1\n1\n' --stdin $'a\nb\n\n\nc\nd' -- \
	$CCMAP -k --recsep '\n\n+' "$T/lines"
run_case "--recsep: no separator at all, one item" 0 $'abc\n' --stdin 'abc' -- \
	$CCMAP --recsep , echo
run_case "--recsep: empty input runs nothing" 0 '' --stdin '' -- $CCMAP --recsep , echo
printf 'x::y::z' >"$T/f"
run_case "--recsep with :::: files" 0 $'1 x\n1 y\n1 z\n' -- \
	$CCMAP --recsep '::' echo 1 :::: "$T/f"
run_case "--recsep with -a and ::: (files are read whole)" 0 $'x 1\ny 1\nz 1\n' -- \
	$CCMAP --recsep '::' -a "$T/f" echo ::: 1
run_case "--recsep with -C" 0 $'b d\n' --stdin 'a,b;c,d' -- \
	$CCMAP --recsep ';' -C , -n2 echo '{2}' '{4}'
run_case "--recsep with a plugin" 0 $'1\n2\n3\n' --stdin 'a;bb;ccc' -- \
	$CCMAP --recsep ';' --so "$CCMAP_PLUGIN_DIR/len.so"
run_case "--recsep with --procs" 0 $'a\nb\n' --stdin 'a;b' -- \
	$CCMAP --procs --recsep ';' echo
run_case "--recsep bad regex" 255 '' -- $CCMAP --recsep '(' echo ::: x
stderr_is "ccmap: --recsep: bad regex '(': missing closing parenthesis at offset 1"$'\n' \
	"--recsep bad regex: the option, PCRE2's message, the offset"

# A slow writer: the separator comes in pieces, across reads.
run_case "--recsep: a separator cut by the reads" 0 $'a\nb\nc\n' -- bash -c \
	"(printf 'a-'; sleep 0.3; printf -- '-b-'; sleep 0.3; printf -- '-c') | $CCMAP --recsep=-- echo"
run_case "--recsep: a greedy separator waits for its end" 0 $'a\nb\n' -- bash -c \
	"(printf 'a;'; sleep 0.3; printf ';;b') | $CCMAP --recsep=';+' echo"

# A big input: separators fall across the 64 KiB reads somewhere.
awk 'BEGIN { for (i = 1; i <= 100000; i++) printf "item%d<SEP>", i }' >"$T/big"
run_case "--recsep over 100,000 items" 0 '*' -- $CCMAP --recsep '<SEP>' -n 1000 echo :::: "$T/big"
is "$(tr ' ' '\n' <"$T/out" | grep -c '^item[0-9]*$')" 100000 \
	"--recsep over 100,000 items: each item whole"
is "$(tr ' ' '\n' <"$T/out" | sed -n '1p;$p' | tr '\n' ' ')" "item1 item100000 " \
	"--recsep over 100,000 items: first and last"
run_case "--recsep over 100,000 items from stdin" 0 '*' -- \
	bash -c "$CCMAP --recsep '<SEP>' -n 1000 echo <'$T/big'"
is "$(tr ' ' '\n' <"$T/out" | grep -c '^item[0-9]*$')" 100000 \
	"--recsep over 100,000 items from stdin: each item whole"

# Streaming: the first job runs while the input is still open.
rm -f "$T/fifo" "$T/sout"
mkfifo "$T/fifo"
$CCMAP --recsep ';;' echo got <"$T/fifo" >"$T/sout" 2>&1 &
cpid=$!
exec 3>"$T/fifo"
printf 'a;;b' >&3
if wait_for 20 grep -q '^got a$' "$T/sout"; then r=0; else r=1; fi
ok $r "--recsep streaming: the first job runs before the input ends"
printf ';;c' >&3
if wait_for 20 grep -q '^got b$' "$T/sout"; then r=0; else r=1; fi
ok $r "--recsep streaming: the next item once its separator comes"
exec 3>&-
wait "$cpid" && r=0 || r=$?
ok $r "--recsep streaming: exit 0 at the end"
is "$(cat "$T/sout")" $'got a\ngot b\ngot c' "--recsep streaming: whole output"

# Bounded memory: with a job that blocks, ccmap stops reading an endless
# input and keeps a small RSS.
endless_input "--recsep endless input" $((64 * 1024 * 1024)) $((100 * 1024)) \
	'abc;;' -j1 --recsep ';;\n?' "$HOLD"

done_testing
