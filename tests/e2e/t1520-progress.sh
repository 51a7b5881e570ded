#!/bin/bash
# t1520: --bar, --eta and --progress draw on stderr when it is a terminal,
# spelled as GNU parallel's; they never reach stdout.  The total is known
# from the start for ::: items and regular files, and for a pipe as soon as
# it ends (read ahead, past a memory bound into a temporary file), while
# the jobs still run; till then it shows as unknown ("?").  --eta's and
# --progress's "running" are jobs running, not queued.  Without a terminal
# they print one final line on stderr.
. "$(dirname "$0")/setup.sh"

# --- no terminal: one final line on stderr, stdout untouched.
run_case "--bar without a terminal: the output as usual" 0 $'1\n2\n3\n' \
	--stdin $'1\n2\n3\n' -- $CCMAP -j2 --bar echo
stderr_is $'100% 3:0=0s 3\n' "--bar without a terminal: one final line"
run_case "--progress without a terminal: the output as usual" 0 $'a\nb\n' \
	-- $CCMAP --progress echo ::: a b
stderr_has '^local:0/2/100%/[0-9.]+s$' "--progress: one final line, GNU parallel's spelling"
is "$(wc -l <"$T/err")" 1 "... and only that line"
run_case "--eta without a terminal: the output as usual" 0 $'a\n' \
	-- $CCMAP --eta echo ::: a
stderr_has '^ETA: 0s Left: 0 AVG: [0-9.]+s  local:0/1/100%/[0-9.]+s$' \
	"--eta: one final line, GNU parallel's spelling"
run_case "--bar with no items" 0 "" -- $CCMAP --bar echo
stderr_is $'100% 0:0=0s\n' "--bar with no items: 100%"
# -X spreads the last items over the slots: those jobs count, as GNU
# parallel's 3 lines (1 2 3 4, 5 6 7 8, 9 10).
run_case "--bar -X: the jobs" 0 $'1 2 3 4\n5 6 7 8\n9 10\n' \
	--stdin "$(seq 10)" -- $CCMAP -j3 --bar -X echo
stderr_is $'100% 3:0=0s 9\n' "--bar -X: 3 jobs in all, 100%"

. "$SRC/tmux.sh"
tm_start
mkfifo "$T/gate"

# --- --bar on a terminal, stdout a file: drawn while jobs run, total
# unknown while the input is open, known once it has ended.
tm_run "{ echo one; read x <\$T/gate; echo two; } | ccmap -j2 --bar 'echo {}' >\$T/bar.out"
check "--bar draws while the input is open, the total unknown" \
	tm_wait '^\?% 1:\?=\?s one'
echo >"$T/gate"
check "--bar: the final line, at 100%" tm_wait '^100% 2:0=0s two'
check "the run ends" tm_wait '^END:0$'
is "$(cat "$T/bar.out")" $'one\ntwo' "--bar: stdout (a file) holds only the output"

# --- --progress and --eta on a terminal: the header, then the line.
tm_clear
tm_run "seq 3 | ccmap -j1 --progress 'echo {}' >\$T/progress.out"
check "--progress: GNU parallel's header" \
	tm_wait '^Computer:jobs running/jobs completed/%of started jobs/Average seconds to complete$'
check "--progress: the final line" tm_wait '^local:0/3/100%/[0-9.]+s$'
tm_wait '^END:0$' >/dev/null
is "$(cat "$T/progress.out")" $'1\n2\n3' "--progress: stdout holds only the output"
grep -q "$(printf '\033')" "$T/progress.out" && r=1 || r=0
ok $r "... with no escape sequence in it"

tm_clear
tm_run "seq 2 | ccmap --eta 'echo {}' >/dev/null"
check "--eta: the line with the time left" \
	tm_wait '^ETA: 0s Left: 0 AVG: [0-9.]+s  local:0/2/100%/[0-9.]+s$'
tm_wait '^END:0$' >/dev/null

# --- stdout on the terminal too: the output lines are whole, the bar
# drawn below them.
tm_clear
tm_run "printf 'x1\\nx2\\n' | ccmap -j1 --bar 'echo out-{}'"
tm_wait '^END:0$' >/dev/null
tm_screen >"$T/screen"
grep -n -e '^out-x1$' -e '^out-x2$' -e '^100% 2:0=0s x2' "$T/screen" |
	sed 's/^[0-9]*://' | tr '\n' '|' >"$T/order"
is "$(cat "$T/order")" "out-x1|out-x2|100% 2:0=0s x2|" \
	"stdout on the terminal: whole output lines, the bar after them"

# --- The total, known while the first jobs are held.  Each job waits for
# $T/go; the checks look at the screen meanwhile.
printf '#!/bin/sh\nuntil [ -e "%s" ]; do sleep 0.05; done\n' "$T/go" >"$T/hold.sh"
chmod +x "$T/hold.sh"
seq 200 >"$T/f200"
held_total() { # NAME CMD: CMD's bar shows 200 in all while its jobs wait
	rm -f "$T/go"
	tm_clear
	tm_run "$2 >/dev/null"
	check "$1: the total is known while the jobs wait" \
		tm_wait '^0% 0:200=\?s [0-9]+ *$'
	: >"$T/go"
	check "$1: the final line" tm_wait '^100% 200:0=0s 200 *$'
	tm_wait '^END:0$' >/dev/null
}
held_total "::: items" "ccmap --bar -j4 \$T/hold.sh ::: \$(seq 200)"
held_total ":::: FILE" "ccmap --bar -j2 \$T/hold.sh :::: \$T/f200"
held_total "-a FILE" "ccmap --bar -j2 -a \$T/f200 \$T/hold.sh"
held_total "stdin from a file" "ccmap --bar -j2 \$T/hold.sh <\$T/f200"
# -n packs items in jobs: the total counts jobs, as GNU parallel's.
rm -f "$T/go"
tm_clear
tm_run "ccmap --bar -j2 -n3 \$T/hold.sh ::: \$(seq 200) ::: a b c >/dev/null"
check "-n3 over 200 x 3 items: 200 jobs in all" tm_wait '^0% 0:200=\?s '
: >"$T/go"
tm_wait '^END:0$' >/dev/null

# A pipe: unknown while it is open, known when it ends, the jobs held.
rm -f "$T/go" "$T/gate2"
mkfifo "$T/gate2"
tm_clear
tm_run "{ seq 200; read x <\$T/gate2; } | ccmap --bar -j2 \$T/hold.sh >/dev/null"
check "a pipe still open: the total unknown" tm_wait '^\?% 0:\?=\?s [0-9]+ *$'
echo >"$T/gate2"
check "the pipe ended: the total is known while the jobs wait" \
	tm_wait '^0% 0:200=\?s [0-9]+ *$'
: >"$T/go"
check "... and the run ends at 100%" tm_wait '^100% 200:0=0s 200 *$'
tm_wait '^END:0$' >/dev/null

# --eta's "running": jobs running (2 slots), not those handed to the pool
# and waiting in its queue.
for ex in "--threads" "--procs --chunksize 3"; do
	rm -f "$T/go"
	tm_clear
	tm_run "ccmap $ex -j2 --eta \$T/hold.sh ::: \$(seq 20) >/dev/null"
	check "--eta $ex: 2 running, 20 left" \
		tm_wait '^ETA: \?s Left: 20 AVG: 0\.00s  local:2/0/100%/'
	: >"$T/go"
	tm_wait '^END:0$' >/dev/null
done

# A big pipe, read ahead while job 1 waits: past the memory bound the rest
# waits in a temporary file (never linked in TMPDIR), and memory stays
# small; the whole input is read (its writer ends) and counted.
rm -f "$T/go" "$T/big" "$T/cpid" "$T/written"
rm -rf "$T/tmp"
mkdir "$T/tmp"
mkfifo "$T/big"
tm_clear
tm_run "TMPDIR=\$T/tmp ccmap --bar -j1 \$T/hold.sh <\$T/big >/dev/null & echo \$! >\$T/cpid; wait \$!"
{ seq 10000000 >"$T/big"; : >"$T/written"; } &
wpid=$!
check "a big pipe: its writer ends while job 1 waits" \
	wait_for 120 test -e "$T/written"
check "a big pipe: all of it counted" tm_wait '^0% 0:10000000=\?s [0-9]+ *$' 60
cpid=$(cat "$T/cpid")
hwm=$(awk '/^VmHWM/ {print $2}' /proc/$cpid/status 2>/dev/null || echo 0)
ok $([ "${hwm:-0}" -gt 0 ] && [ "${hwm:-0}" -lt $((40 * 1024)) ] && echo 0 || echo 1) \
	"a big pipe (78 MB) read ahead: peak RSS under 40 MB (${hwm:-?} kB)"
ls -l /proc/$cpid/fd 2>/dev/null | grep -q "$T/tmp/" && r=0 || r=1
ok $r "... the rest in a temporary file in TMPDIR"
is "$(ls -A "$T/tmp")" "" "... which is not linked there"
kill -TERM "$cpid"
check "a big pipe: TERM ends the run" tm_wait '^END:143$'
is "$(ls -A "$T/tmp")" "" "... and TMPDIR is empty"
kill "$wpid" 2>/dev/null || :
wait "$wpid" 2>/dev/null || :

# --- SIGWINCH: the line is cut to the terminal's new width.
tm_clear
x90=$(printf '%090d' 0 | tr 0 x)
tm_run "echo $x90 | ccmap --bar 'read x <\$T/gate; echo {}' >/dev/null"
check "--bar: a long item is cut at the terminal's width" \
	tm_wait "^0% 0:1=\\?s x{89}\$"
tm resize-window -t 0 -x 50 -y 30
check "after a resize, the line is cut at the new width" \
	tm_wait "^0% 0:1=\\?s x{39}\$"
echo >"$T/gate"
tm_wait '^END:0$' >/dev/null

done_testing
