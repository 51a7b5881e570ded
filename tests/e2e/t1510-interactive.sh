#!/bin/bash
# t1510: -p/--interactive asks on the terminal before each job, as GNU
# parallel's -p spells it ("COMMAND ?..."), with stdin a pipe; y runs the
# job, anything else skips it (skipped, not failed: the exit status stays
# 0, where GNU parallel counts a declined job as failed); the questions
# never reach stdout; with no terminal, one line and 255 before any job.
. "$(dirname "$0")/setup.sh"

# --- no terminal (a new session has no controlling terminal).
if command -v setsid >/dev/null 2>&1; then
	run_case "-p with no terminal: exit 255, no job run" 255 "" \
		-- setsid -w $CCMAP -p touch "$T/ran" ::: a
	stderr_is "ccmap: -p/--interactive: no terminal to ask on (/dev/tty: No such device or address)
" "... one line naming -p and what is wrong"
	check "... and no job ran" test ! -e "$T/ran"
	run_case "--interactive with no terminal: the same" 255 "" \
		--stdin $'a\n' -- setsid -w $CCMAP --interactive echo
else
	skip "-p with no terminal" "setsid is not installed"
fi
run_case "-p with --so is refused" 255 "" \
	-- $CCMAP -p --so len ::: a
stderr_has '^ccmap: -p/--interactive cannot be used with --so$' \
	"... naming both options"

. "$SRC/tmux.sh"
tm_start

# --- stdin a pipe: y, n, Y.
tm_run "seq 3 | ccmap -p echo"
check "the first question, as GNU parallel spells it" tm_wait '^echo 1 \?\.\.\.$'
tm_type y
tm_keys Enter
check "y runs the job" tm_wait '^1$'
check "then the next question" tm_wait '^echo 2 \?\.\.\.$'
tm_type n
tm_keys Enter
check "n: the next question, job 2 not run" tm_wait '^echo 3 \?\.\.\.$'
tm_type Y
tm_keys Enter
check "declined jobs are skipped, not failed: exit 0" tm_wait '^END:0$'
tm_screen >"$T/screen"
grep -qx 3 "$T/screen" && ! grep -qx 2 "$T/screen" && r=0 || r=1
ok $r "Y ran job 3, job 2 printed nothing"

# --- the questions go to the terminal, the output to stdout (a file);
# the question shows the composed command, quoting and all.
tm_clear
tm_run "printf 'a b\\nc\\n' | ccmap --interactive echo {} >\$T/p.out"
check "the question shows the composed command line" \
	tm_wait "^echo 'a b' \\?\\.\\.\\.\$"
tm_type yes
tm_keys Enter
tm_wait '^echo c \?\.\.\.$' >/dev/null
tm_keys C-d
check "Ctrl-D at a question: no, and the run ends" tm_wait '^END:0$'
is "$(cat "$T/p.out")" "a b" "stdout holds the output of the job run, no question"

# --- with -j2, a question for each job as a slot is free.
tm_clear
mkfifo "$T/gate"
tm_run "printf 'slow\\nfast\\n' | ccmap -p -j2 'test {} = slow && read x <\$T/gate; echo done {}'"
tm_wait '^test slow = slow' >/dev/null
tm_type y
tm_keys Enter
check "with a free slot, the next question comes while job 1 runs" \
	tm_wait '^test fast = slow .*\?\.\.\.$'
tm_type y
tm_keys Enter
echo >"$T/gate"
check "both jobs ran" tm_wait '^END:0$'
tm_screen >"$T/screen"
grep -qx 'done slow' "$T/screen" && grep -qx 'done fast' "$T/screen" && r=0 || r=1
ok $r "... and printed, in input order"

# --- -p and items typed at the prompt: the question, then the prompt again.
tm_clear
tm_run "ccmap -p echo typed"
tm_wait '^ccmap> ?$' >/dev/null
tm_type aa
tm_keys Enter
check "an item typed at the prompt is asked about" tm_wait '^echo typed aa \?\.\.\.$'
tm_type y
tm_keys Enter
check "y runs it" tm_wait '^typed aa$'
check "and the item prompt is back" tm_wait '^ccmap> ?$'
tm_keys C-d
check "Ctrl-D ends the run" tm_wait '^END:0$'

# --- Ctrl-C at a question: the run stops (130), the terminal as it was.
tm_clear
tm_run "seq 2 | ccmap -p echo"
tm_wait '^echo 1 \?\.\.\.$' >/dev/null
tm_type 'ye'
tm_keys C-c
check "Ctrl-C at a question ends ccmap with 130" tm_wait '^END:130$'
tm_screen >"$T/screen"
! grep -qx 1 "$T/screen" && r=0 || r=1
ok $r "... running no job"
tm_type 'echo typed-back'
check "the terminal echoes what is typed again" tm_wait '^\$ echo typed-back$'
tm_keys Enter

done_testing
