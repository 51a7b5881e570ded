#!/bin/bash
# t1500: with stdin a terminal and no other source, items are typed at a
# readline prompt: each starts when entered and its result shows as it
# comes without breaking the line being typed; line editing, Tab completing
# file names, the history file (written, reused with Up), Ctrl-D waiting for
# the running jobs, Ctrl-C stopping and giving the terminal back.
. "$(dirname "$0")/setup.sh"
. "$SRC/tmux.sh"

tm_start
mkfifo "$T/gate"
: >"$T/work/completeme-file.txt"

# --- typing items: each runs when entered, results print as they come.
tm_run "ccmap -j2 'case {} in wait*) read x <\$T/gate;; esac; echo got {}'"
check "the prompt shows" tm_wait '^ccmap> ?$'
tm_type one
tm_keys Enter
check "an entered item runs at once" tm_wait '^got one$'
# A job that waits on the gate, then half a line typed before it ends.
tm_type wait1
tm_keys Enter
check "the prompt comes back while a job runs" tm_wait '^ccmap> ?$'
tm_type par
tm_wait '^ccmap> par$' >/dev/null
echo >"$T/gate"
check "a result arrives while a line is half typed" tm_wait '^got wait1$'
check "the half-typed line is put back under it, on the prompt" \
	tm_wait '^ccmap> par$'
tm_screen >"$T/screen"
grep -n -e '^got wait1$' -e '^ccmap> par$' "$T/screen" | tail -2 >"$T/order"
is "$(cut -d: -f2 "$T/order" | tr '\n' '|')" "got wait1|ccmap> par|" \
	"the result is above the prompt line, not inside it"
tm_type tial
tm_keys Enter
check "the line typed on after the result is one item" tm_wait '^got partial$'

# --- line editing: backspace, and Ctrl-A to the start of the line.
tm_type abcX
tm_keys BSpace
tm_type d
tm_keys Enter
check "backspace edits the line (abcX, BSpace, d: abcd)" tm_wait '^got abcd$'
tm_type yz
tm_keys C-a
tm_type x
tm_keys Enter
check "Ctrl-A moves to the start (yz, C-a, x: xyz)" tm_wait '^got xyz$'

# --- Tab completes file names, the whole line being the item.
tm_type compl
tm_keys Tab
check "Tab completes a file name" tm_wait '^ccmap> completeme-file\.txt$'
tm_keys Enter
check "the completed name is the item, with no blank added" \
	tm_wait '^got completeme-file\.txt$'

# --- Ctrl-D ends the input, and waits for the running jobs.
tm_type wait2
tm_keys Enter
tm_wait '^ccmap> ?$' >/dev/null
tm_keys C-d
echo >"$T/gate"
check "Ctrl-D: the run ends when its jobs have ended" tm_wait '^END:0$'
tm_screen >"$T/screen"
last_got=$(grep -n '^got wait2$' "$T/screen" | tail -1 | cut -d: -f1)
end=$(grep -n '^END:0$' "$T/screen" | tail -1 | cut -d: -f1)
[ -n "$last_got" ] && [ "$last_got" -lt "$end" ] && r=0 || r=1
ok $r "the job running at Ctrl-D printed before ccmap ended"
if [ $r -ne 0 ]; then diag <"$T/screen"; fi

# --- the history file: under ~/.local/state by default, reused with Up.
hist=$T/home/.local/state/ccmap/history
check "the history file is made, directories and all" test -f "$hist"
grep -qx 'one' "$hist" && grep -qx 'abcd' "$hist" && r=0 || r=1
ok $r "the history file holds the items typed"
tm_clear
tm_run "ccmap echo again"
tm_wait '^ccmap> ?$' >/dev/null
tm_keys Up
check "Up recalls the last item of the previous run" tm_wait '^ccmap> wait2$'
tm_keys Up
check "Up again goes further back" tm_wait '^ccmap> completeme-file\.txt$'
tm_keys Enter
check "a recalled item runs" tm_wait '^again completeme-file\.txt$'
tm_keys C-d
tm_wait '^END:0$' >/dev/null

# $XDG_STATE_HOME moves it.
tm_clear
tm_run "XDG_STATE_HOME=\$T/state ccmap echo x"
tm_wait '^ccmap> ?$' >/dev/null
tm_type state-item
tm_keys Enter
tm_wait '^x state-item$' >/dev/null
tm_keys C-d
tm_wait '^END:0$' >/dev/null
check "with \$XDG_STATE_HOME, the history is \$XDG_STATE_HOME/ccmap/history" \
	grep -qx state-item "$T/state/ccmap/history"
! grep -qx state-item "$hist" && r=0 || r=1
ok $r "... and not in the default place"

# --- output to a file: the prompt stays on the terminal.
tm_clear
tm_run "ccmap echo >\$T/file.out"
tm_wait '^ccmap> ?$' >/dev/null
tm_type to-file
tm_keys Enter
tm_keys C-d
tm_wait '^END:0$' >/dev/null
is "$(cat "$T/file.out")" "to-file" "stdout a file: only the results go in it"

# --- Ctrl-C: the run stops (130) and the terminal is as it was.
tm_clear
tm_run "ccmap echo"
tm_wait '^ccmap> ?$' >/dev/null
tm_type 'half a line'
tm_keys C-c
check "Ctrl-C at the prompt ends ccmap with 130" tm_wait '^END:130$'
tm_type 'echo typed-back'
check "the terminal echoes what is typed again" tm_wait '^\$ echo typed-back$'
tm_keys Enter
tm_wait '^typed-back$' >/dev/null

done_testing
