#!/bin/bash
# t0100: where items come from: stdin, -a/--arg-file (repeatable, - is
# stdin), ::: ARGS and :::: FILES (several sources: cartesian product, --link
# pairs them), -0/--null, -d/--delimiter; empty input; streamed reading
# (the first job starts before the input ends, memory stays bounded on
# endless input).
. "$(dirname "$0")/setup.sh"

printf '1\n2\n' >"$T/f1"
printf 'x\ny\n' >"$T/f2"
printf '#!/bin/sh\nprintf "%%s|\\n" "$@"\n' >"$T/show"
printf '#!/bin/sh\nprintf "%%s\\n" "$@"\n' >"$T/showl"
chmod +x "$T/show" "$T/showl"

# --- stdin --------------------------------------------------------------
run_case "stdin: one job per line" 0 $'a\nb\nc\n' --stdin $'a\nb\nc\n' -- $CCMAP echo
run_case "stdin: last line without newline" 0 $'a\nb\n' --stdin $'a\nb' -- $CCMAP echo
run_case "stdin: empty line is an (empty) item" 0 $'a\n\nb\n' --stdin $'a\n\nb\n' -- $CCMAP echo
run_case "stdin: item with spaces stays one item" 0 $'a b  c\n' --stdin $'a b  c\n' -- $CCMAP "$T/showl"

# --- -a / --arg-file ----------------------------------------------------
run_case "-a FILE" 0 $'1\n2\n' -- $CCMAP -a "$T/f1" echo
run_case "--arg-file FILE" 0 $'1\n2\n' -- $CCMAP --arg-file "$T/f1" echo
run_case "--arg-file=FILE" 0 $'1\n2\n' -- $CCMAP --arg-file="$T/f1" echo
run_case "-a twice: cartesian product" 0 $'1 x\n1 y\n2 x\n2 y\n' -- $CCMAP -a "$T/f1" -a "$T/f2" echo
run_case "-a - reads stdin" 0 $'q\nr\n' --stdin $'q\nr\n' -- $CCMAP -a - echo
run_case "-a - with -a FILE" 0 $'q 1\nq 2\n' --stdin $'q\n' -- $CCMAP -a - -a "$T/f1" echo
run_case "-a ignores stdin when a file is given" 0 $'1\n2\n' --stdin $'zzz\n' -- $CCMAP -a "$T/f1" echo

# --- ::: and :::: -------------------------------------------------------
run_case "::: ARGS" 0 $'a\nb\n' -- $CCMAP echo ::: a b
run_case "::: ignores stdin" 0 $'a\n' --stdin $'zzz\n' -- $CCMAP echo ::: a
run_case ":::: FILE" 0 $'1\n2\n' -- $CCMAP echo :::: "$T/f1"
run_case ":::: FILE FILE: two sources" 0 $'1 x\n1 y\n2 x\n2 y\n' -- $CCMAP echo :::: "$T/f1" "$T/f2"
run_case "::: then ::::" 0 $'a 1\na 2\nb 1\nb 2\n' -- $CCMAP echo ::: a b :::: "$T/f1"
run_case "three sources: product, last varies fastest" 0 \
	$'a 1 x\na 1 y\na 2 x\na 2 y\nb 1 x\nb 1 y\nb 2 x\nb 2 y\n' -- \
	$CCMAP echo ::: a b ::: 1 2 ::: x y
run_case "{1} {2} pick sources" 0 $'1-a\n2-a\n1-b\n2-b\n' -- $CCMAP echo {2}-{1} ::: a b ::: 1 2
run_case ":::: - reads stdin" 0 $'s x\ns y\n' --stdin $'s\n' -- $CCMAP echo :::: - "$T/f2"

# Compare the product with GNU parallel.
if command -v parallel >/dev/null 2>&1; then
	parallel --will-cite -k echo ::: a b c ::: 1 2 :::: "$T/f2" >"$T/p.out" 2>/dev/null
	run_case "product matches GNU parallel" 0 "$(cat "$T/p.out")"$'\n' -- \
		$CCMAP echo ::: a b c ::: 1 2 :::: "$T/f2"
	parallel --will-cite -k --link echo ::: a b c ::: 1 2 >"$T/p.out" 2>/dev/null
	run_case "--link of unequal sources matches GNU parallel" 0 "$(cat "$T/p.out")"$'\n' -- \
		$CCMAP --link echo ::: a b c ::: 1 2
else
	skip "product matches GNU parallel" "no parallel"
	skip "--link of unequal sources matches GNU parallel" "no parallel"
fi

# --- --link -------------------------------------------------------------
run_case "--link pairs sources" 0 $'a 1\nb 2\n' -- $CCMAP --link echo ::: a b ::: 1 2
run_case "--link with -a files" 0 $'1 x\n2 y\n' -- $CCMAP --link -a "$T/f1" -a "$T/f2" echo
run_case "--link shorter source wraps (as GNU parallel)" 0 $'a 1\nb 2\nc 1\n' -- \
	$CCMAP --link echo ::: a b c ::: 1 2

# --- separators ---------------------------------------------------------
run_case "-0: NUL-separated items, newline inside one" 0 $'a|\nb c|\nd\ne|\n' -- \
	bash -c 'printf "a\0b c\0d\ne\0" | '"$CCMAP"' -0 "$T/show"'
printf 'x y\0' >"$T/nul"
printf 'last' >>"$T/nul"
run_case "--null with -a, last item unterminated" 0 $'x y\nlast\n' -- $CCMAP --null -a "$T/nul" "$T/showl"
printf 'a\tb c\td\n' >"$T/tab"
run_case "-d '\\t' (trailing newline kept in last item)" 0 $'a|\nb c|\nd\n|\n' -- \
	$CCMAP -d '\t' -a "$T/tab" "$T/show"
run_case "-d ," 0 $'a|\nb|\nc|\n' --stdin 'a,b,c' -- $CCMAP -d , "$T/show"
run_case "--delimiter ," 0 $'a|\nb|\n' --stdin 'a,b,' -- $CCMAP --delimiter , "$T/show"
run_case "-d '\\0' same as -0" 0 $'a|\nb|\n' -- bash -c 'printf "a\0b\0" | '"$CCMAP"' -d "\0" "$T/show"'
run_case "-d x: newline is an ordinary byte" 0 $'1\n2|\n3|\n' --stdin $'1\n2x3' -- $CCMAP -d x "$T/show"

# --- empty input --------------------------------------------------------
: >"$T/empty"
run_case "empty stdin runs nothing, exit 0" 0 '' --stdin '' -- $CCMAP echo should-not-run
run_case "empty -a file runs nothing, exit 0" 0 '' -- $CCMAP -a "$T/empty" echo should-not-run
run_case "empty ::: runs nothing, exit 0" 0 '' -- $CCMAP echo should-not-run :::
run_case "empty source in a product runs nothing" 0 '' -- $CCMAP echo should-not-run ::: a b :::: "$T/empty"
run_case "empty input, no command: exit 0" 0 '' --stdin '' -- $CCMAP
run_case "empty input with a failing command: exit 0" 0 '' --stdin '' -- $CCMAP false

# --- streaming ----------------------------------------------------------
# The first job must run while the input is still open: write one line into
# a fifo, keep it open, and wait (bounded) for that job's output.
for ex in --threads --procs; do
	rm -f "$T/fifo" "$T/sout"
	mkfifo "$T/fifo"
	$CCMAP $ex echo got <"$T/fifo" >"$T/sout" 2>&1 &
	cpid=$!
	exec 3>"$T/fifo"
	echo a >&3
	if wait_for 20 grep -q '^got a$' "$T/sout"; then r=0; else r=1; fi
	ok $r "streaming $ex: first job runs before the input ends"
	echo b >&3
	if wait_for 20 grep -q '^got b$' "$T/sout"; then r=0; else r=1; fi
	ok $r "streaming $ex: second item, input still open"
	exec 3>&-
	wait "$cpid" && r=0 || r=$?
	ok $r "streaming $ex: exit 0 once the input ends"
	is "$(cat "$T/sout")" $'got a\ngot b' "streaming $ex: whole output"
done

# The spec's example: (echo a; sleep 30) | ccmap echo shows a at once.
rm -f "$T/sout" "$T/spid"
( echo a; echo $BASHPID >"$T/spid"; exec sleep 30 ) | $CCMAP echo >"$T/sout" 2>&1 &
spid=$!
if wait_for 20 grep -q '^a$' "$T/sout"; then r=0; else r=1; fi
ok $r "(echo a; sleep 30) | ccmap echo prints a before the input ends"
# End the writer's sleep (and so the pipeline) without waiting 30 s.
wait_for 20 test -s "$T/spid" && kill "$(cat "$T/spid")" 2>/dev/null || true
wait "$spid" && r=0 || r=$?
ok $r "(echo a; sleep 30) | ccmap echo: exit 0 when the input ends"

# Endless input: yes | ccmap echo | head ends, with the right output.
run_case "yes | ccmap echo | head -n 5 ends" 0 $'y\ny\ny\ny\ny\n' -- \
	timeout 60 bash -c 'yes | '"$CCMAP"' echo | head -n 5'
run_case "yes | ccmap --procs echo | head -n 5 ends" 0 $'y\ny\ny\ny\ny\n' -- \
	timeout 60 bash -c 'yes | '"$CCMAP"' --procs echo | head -n 5'

# Bounded reading: with a job that blocks, ccmap must stop reading its
# endless input (the writer stalls) and keep a small RSS.
endless_input "endless input" $((64 * 1024 * 1024)) $((100 * 1024)) y \
	-j1 "$HOLD"

# --- bad sources --------------------------------------------------------
run_case "-a missing file: exit 255" 255 '' -- $CCMAP -a "$T/nonexistent" echo
stderr_has "^ccmap: .*$T/nonexistent" "-a missing file: message names the file"
is "$(wc -l <"$T/err" | tr -d ' ')" 1 "-a missing file: one line"
run_case ":::: missing file: exit 255" 255 '' -- $CCMAP echo :::: "$T/nonexistent"
stderr_has "^ccmap: .*$T/nonexistent" ":::: missing file: message names the file"
run_case "missing second -a file: nothing runs" 255 '' -- $CCMAP -a "$T/f1" -a "$T/nonexistent" echo
run_case "-a directory: exit 255" 255 '' -- $CCMAP -a "$T" echo
stderr_has "^ccmap: .*$T" "-a directory: message names it"
run_case "-d with two characters: exit 255" 255 '' -- $CCMAP -d ab echo ::: 1
stderr_has "^ccmap: .*ab" "-d ab: message names the value"

done_testing
