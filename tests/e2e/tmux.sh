# tests/e2e/tmux.sh: drive ccmap in a real pseudo-terminal, as a person
# would, through tmux.  Sourced after setup.sh.
#
#   tm_start              a 100x30 tmux session on a private socket running
#                         bash (prompt "$ ", no rc files) in $T/work, with
#                         "ccmap" (the binary under test) first on PATH,
#                         HOME=$T/home and no inputrc; the server is killed
#                         when the script exits
#   tm_keys KEY...        tmux send-keys (a word is typed, Enter, Tab, C-d,
#                         BSpace, Up... are keys)
#   tm_type TEXT          type TEXT literally
#   tm_run CMD            type CMD followed by "; echo END:$?" and Enter
#   tm_wait ERE [SECS]    wait until the screen matches ERE (grep -E), up to
#                         SECS (default 20) seconds; status 1 and the screen
#                         as diagnostics when it never does
#   tm_screen             the screen as text
#   tm_clear              clear the screen and tmux's history
#
# Checks wait for what the screen shows, never for a time: a wait's bound
# is only how long to give up after.

command -v tmux >/dev/null 2>&1 || skip_all "tmux is not installed"

TM_SOCK=ccmaptest-$$
tm() { tmux -L "$TM_SOCK" "$@"; }

_tm_exit() {
	_tm_rc=$?
	tm kill-server >/dev/null 2>&1 || :
	(exit "$_tm_rc")
	_tap_exit
}
trap _tm_exit EXIT

tm_start() {
	mkdir -p "$T/bin" "$T/home" "$T/work"
	# A wrapper rather than a link: $CCMAP may carry a valgrind prefix.
	printf '#!%s\nexec %s "$@"\n' "$BASH" "$CCMAP" >"$T/bin/ccmap"
	chmod +x "$T/bin/ccmap"
	tm kill-server >/dev/null 2>&1 || :
	tm -f /dev/null new-session -d -x 100 -y 30 -c "$T/work" \
		env -i PATH="$T/bin:$PATH" HOME="$T/home" TERM=screen LC_ALL=C \
		INPUTRC=/dev/null T="$T" ${ASAN_OPTIONS:+ASAN_OPTIONS="$ASAN_OPTIONS"} \
		${UBSAN_OPTIONS:+UBSAN_OPTIONS="$UBSAN_OPTIONS"} \
		PS1='$ ' bash --norc --noprofile
	tm set-option -g status off >/dev/null
	tm_wait '^\$ ?$' || return 1
}

tm_keys() { tm send-keys -t "$TM_SOCK_TARGET" "$@"; }
TM_SOCK_TARGET=0

tm_type() { tm send-keys -t "$TM_SOCK_TARGET" -l -- "$1"; }

tm_run() {
	tm_type "$1; echo END:\$?"
	tm_keys Enter
}

tm_screen() { tm capture-pane -p -t "$TM_SOCK_TARGET"; }

tm_wait() {
	local ere=$1 secs=${2:-20} i=0
	while [ "$i" -lt $((secs * 10)) ]; do
		if tm_screen | grep -qE -- "$ere"; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	diag "the screen never showed /$ere/; it shows:"
	tm_screen | diag
	return 1
}

TM_CLEARS=0
tm_clear() {
	TM_CLEARS=$((TM_CLEARS + 1))
	tm_type "clear; echo CLEARED-$TM_CLEARS"
	tm_keys Enter
	tm_wait "^CLEARED-$TM_CLEARS\$" || return 1
	tm clear-history -t "$TM_SOCK_TARGET"
}
