# tests/e2e/setup.sh: sourced by every tests/e2e/tNNNN-*.sh script (bash).
#
# Gives the script:
#   $CCMAP      the binary under test (default: ccmap in the build tree),
#               prefixed by valgrind when $VALGRIND is set
#   $TEST_TOOL  tests/helper/test-tool (engine scenarios from shell)
#   $CCMAP_FAULT  tests/helper/ccmap-fault: ccmap whose system calls fail on
#               demand (CCMAP_TEST_FAULT, see tests/helper/fault.c)
#   $T          a fresh temporary directory, removed on exit
#   $SRC        the directory holding this script (to find data files)
#   LC_ALL=C, set -eu
#
# and a small TAP API (each check prints "ok N - name" or "not ok N - name";
# failures add "# " lines with what was expected and what came):
#   plan N                     optional; else done_testing prints 1..N at the end
#   ok STATUS NAME             passes when STATUS is 0, e.g.
#                                cmp -s a b && r=0 || r=$?; ok $r "same"
#   check NAME CMD...          passes when CMD exits 0 (CMD runs under if, so
#                              set -e does not end the script)
#   is GOT EXPECTED NAME       string equality
#   run_case NAME STATUS STDOUT [--stdin TEXT] -- CMD...
#                              (write $CCMAP unquoted, it may hold a valgrind
#                              prefix; $'a\nb\n' gives exact expected output)
#                              runs CMD with stdout, stderr and status captured
#                              in $T/out, $T/err and $T/status (also $OUT,
#                              $ERR, $STATUS), then checks status and stdout;
#                              STDOUT '*' means "do not check stdout".  Stdin is
#                              /dev/null unless --stdin TEXT is given (TEXT is
#                              written as is, add the newlines yourself).
#   stderr_has REGEX NAME      last run_case's stderr matches (grep -E)
#   stderr_is TEXT NAME        last run_case's stderr is exactly TEXT
#   stdout_has REGEX NAME      last run_case's stdout matches (grep -E)
#   wait_for BOUND CMD...      poll CMD every 0.05 s until it succeeds, at
#                              most BOUND seconds; status 0 if it did
#   wait_writer_stalls PID     wait until PID stops writing (see below)
#   endless_input NAME ...     ccmap stops reading an endless input while
#                              its jobs are held (see below)
#   sleeps_left MARK           the "sleep MARK" processes still running (not
#                              zombies), one a line, after waiting up to 2 s
#                              for them to go; empty when none is left
#   kill_sleeps MARK           SIGKILL the "sleep MARK" processes left
#   skip NAME REASON           "ok N - name # SKIP reason"
#   skip_all REASON            "1..0 # SKIP reason", exit 0
#   done_testing               print the plan (if none was given) and exit
#                              1 if any check failed
#
# A script ends with done_testing.  The trap also calls it, so a script that
# dies on `set -e` still reports a failure rather than passing silently.

set -eu
LC_ALL=C
export LC_ALL
unset CDPATH GREP_OPTIONS CCMAP_SEQ CCMAP_SLOT 2>/dev/null || true
# Under AddressSanitizer, a plugin that crashes on purpose must still die of
# its signal (the tests check which), not of ASan's report and exit 1.
# A small quarantine keeps freed memory from counting in the RSS checks.
ASAN_OPTIONS="handle_segv=0:handle_abort=0:handle_sigbus=0:quarantine_size_mb=16${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
# (And under ThreadSanitizer, which would report the crash as its own.)
TSAN_OPTIONS="handle_segv=0:handle_abort=0:handle_sigbus=0${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
export ASAN_OPTIONS TSAN_OPTIONS

SRC=$(cd "$(dirname "${BASH_SOURCE[1]:-$0}")" && pwd)
if [ -z "${CCMAP:-}" ]; then
	CCMAP=$SRC/../../ccmap
fi
if [ -z "${TEST_TOOL:-}" ]; then
	TEST_TOOL=$SRC/../../tests/helper/test-tool
fi
if [ -z "${CCMAP_FAULT:-}" ]; then
	CCMAP_FAULT=$SRC/../../tests/helper/ccmap-fault
fi
# Under valgrind: VALGRIND=1 (or yes) means a default command line, any other
# value is used as the command.
if [ -n "${VALGRIND:-}" ]; then
	case $VALGRIND in
	1|yes|valgrind)
		VALGRIND="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
		;;
	esac
	CCMAP="$VALGRIND $CCMAP"
	TEST_TOOL="$VALGRIND $TEST_TOOL"
	CCMAP_FAULT="$VALGRIND $CCMAP_FAULT"
fi
export CCMAP TEST_TOOL CCMAP_FAULT

T=$(mktemp -d "${TMPDIR:-/tmp}/ccmap-test.XXXXXX")
export T

_tap_n=0
_tap_failed=0
_tap_planned=
_tap_done=

_tap_exit() {
	rc=$?
	if [ -z "$_tap_done" ]; then
		if [ "$rc" -ne 0 ]; then
			echo "# script exited early with status $rc"
			_tap_n=$((_tap_n + 1))
			echo "not ok $_tap_n - script ran to the end"
		fi
		[ -n "$_tap_planned" ] || echo "1..$_tap_n"
	fi
	rm -rf "$T"
}
trap _tap_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

plan() {
	_tap_planned=$1
	echo "1..$1"
}

# Prints its arguments, or each line of stdin (at most 60 lines), as "# "
# diagnostics.
diag() {
	if [ $# -gt 0 ]; then
		printf '%s\n' "$*" | sed 's/^/# /'
	else
		sed -e '60{s/.*/# [... more lines cut]/;q;}' -e 's/^/# /'
	fi
}

_tap_result() { # STATUS NAME
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_tap_n - $2"
	else
		_tap_failed=$((_tap_failed + 1))
		echo "not ok $_tap_n - $2"
	fi
}

pass() { _tap_result 0 "$1"; }
fail() { _tap_result 1 "$1"; }

ok() { # STATUS NAME: passes when STATUS (an exit status) is 0
	case $1 in
	''|*[!0-9]*) _tap_result 1 "$2"; diag "ok: '$1' is not an exit status (use check NAME CMD...)" ;;
	*) _tap_result "$1" "$2" ;;
	esac
}

check() { # NAME CMD...: passes when CMD exits 0
	_name=$1
	shift
	if "$@"; then
		_tap_result 0 "$_name"
	else
		_tap_result 1 "$_name"
		diag "command failed (status $?): $*"
	fi
}

is() { # GOT EXPECTED NAME
	if [ "$1" = "$2" ]; then
		_tap_result 0 "$3"
	else
		_tap_result 1 "$3"
		diag "expected: '$2'"
		diag "     got: '$1'"
	fi
}

skip() { # NAME REASON
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $1 # SKIP ${2:-}"
}

skip_all() { # REASON
	echo "1..0 # SKIP $1"
	_tap_done=1
	exit 0
}

# run_case NAME STATUS STDOUT [--stdin TEXT] -- CMD...
run_case() {
	_name=$1 _want_status=$2 _want_out=$3
	shift 3
	_stdin=
	_have_stdin=
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		case $1 in
		--stdin) _stdin=$2 _have_stdin=1; shift 2 ;;
		*) echo "run_case: unexpected argument '$1' (missing --?)" >&2; exit 2 ;;
		esac
	done
	[ $# -gt 0 ] && shift # the --
	if [ -n "$_have_stdin" ]; then
		printf '%s' "$_stdin" >"$T/in"
	else
		: >"$T/in"
	fi
	set +e
	"$@" <"$T/in" >"$T/out" 2>"$T/err"
	STATUS=$?
	set -e
	echo "$STATUS" >"$T/status"
	OUT=$(cat "$T/out"; echo x)
	OUT=${OUT%x}
	ERR=$(cat "$T/err"; echo x)
	ERR=${ERR%x}
	_ok=0
	if [ "$STATUS" != "$_want_status" ]; then
		_ok=1
	fi
	if [ "$_want_out" != "*" ] && [ "$OUT" != "$_want_out" ]; then
		_ok=1
	fi
	_tap_result "$_ok" "$_name"
	if [ "$_ok" -ne 0 ]; then
		diag "command: $*"
		diag "expected status $_want_status, got $STATUS"
		if [ "$_want_out" != "*" ]; then
			diag "expected stdout:"
			printf '%s' "$_want_out" | diag
			diag "got stdout:"
			printf '%s' "$OUT" | diag
		fi
		diag "stderr:"
		diag <"$T/err"
	fi
}

stderr_has() { # REGEX NAME
	if grep -Eq -- "$1" "$T/err"; then
		_tap_result 0 "$2"
	else
		_tap_result 1 "$2"
		diag "stderr does not match /$1/; stderr was:"
		diag <"$T/err"
	fi
}

stderr_is() { # TEXT NAME
	is "$ERR" "$1" "$2"
}

stdout_has() { # REGEX NAME
	if grep -Eq -- "$1" "$T/out"; then
		_tap_result 0 "$2"
	else
		_tap_result 1 "$2"
		diag "stdout does not match /$1/; stdout was:"
		diag <"$T/out"
	fi
}

wait_for() { # BOUND CMD...
	local bound=$(( $1 * 20 ))
	shift
	while [ "$bound" -gt 0 ]; do
		if "$@"; then return 0; fi
		sleep 0.05
		bound=$((bound - 1))
	done
	return 1
}

sleeps_left() { # MARK
	local n
	for n in 1 2 3 4 5 6 7 8 9 10; do
		ps -eo stat=,comm=,args= |
			awk -v m="sleep $1" '$1 !~ /^Z/ && $2 == "sleep" && index($0, m)' \
			>"$T/sleeps-left"
		[ -s "$T/sleeps-left" ] || return 0
		sleep 0.2
	done
	cat "$T/sleeps-left"
}

kill_sleeps() { # MARK
	local pid
	for pid in $(ps -eo pid=,comm=,args= | awk -v m="sleep $1" '$2 == "sleep" && index($0, m) { print $1 }'); do
		kill -KILL "$pid" 2>/dev/null || true
	done
}

# The processes of a test that marks them: every one with $MARK in its
# command line (ccmap and its forks, the jobs' shells and sleeps).
alive() { # our processes, zombies excluded
	local n=0 p st
	for p in $(pgrep -f "$MARK" 2>/dev/null); do
		st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null || echo Z)
		[ "$st" = Z ] || n=$((n + 1))
	done
	echo "$n"
}
none_alive() { [ "$(alive)" -eq 0 ]; }
# no_process_left NAME: a check that nothing of ours is left (and a cleanup
# should something be).
no_process_left() {
	local p
	if wait_for 30 none_alive; then
		pass "$1: no process left"
	else
		fail "$1: no process left"
		ps -o pid,stat,args -p "$(pgrep -d, -f "$MARK")" | diag
		for p in $(pgrep -f "$MARK"); do kill -KILL "$p" 2>/dev/null; done
	fi
}
gone() { # PID has exited (a zombie, or reaped)
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
	[ -z "$st" ] || [ "$st" = Z ]
}
# ends NAME PID: PID ends within the bound (else it is killed); its exit
# status in $s.
ends() {
	if wait_for 30 gone "$2"; then
		pass "$1: ccmap ends"
	else
		fail "$1: ccmap ends (still running after 30 s: killed)"
		kill -KILL "$2" 2>/dev/null || true
	fi
	wait "$2" && s=0 || s=$?
}

# kill_until_none ROUNDS CMD...: SIGKILL the pids CMD prints until it
# prints none (a process may fork before its turn comes), ROUNDS rounds at
# most: status 1 if some are left.  (The test beds' teardown.)
kill_until_none() {
	local max=$1 n=0 pids
	shift
	while [ "$n" -lt "$max" ]; do
		pids=$("$@")
		[ -n "$pids" ] || return 0
		# shellcheck disable=SC2086 # a list of pids
		kill -KILL $pids 2>/dev/null || true
		sleep 0.05
		n=$((n + 1))
	done
	return 1
}

# worker_pids: of the pids on stdin, those of the ccmap --worker processes
# that are not a worker's guard (its child, with the same command line).
worker_pids() {
	local p
	while read -r p; do
		grep -q -- --worker "/proc/$(ps -o ppid= -p "$p" | tr -d ' ')/cmdline" \
			2>/dev/null || echo "$p"
	done
}

# worker_killed_ends NAME PIDS N JOBS FILES...: after a worker that ran
# JOBS (their numbers) was killed and their processes died with it, the
# gate $G/go opens; the run PID ends with status 0 and the output of items
# 1..N in $T/out once each, in order; and each of JOBS started twice, by
# FILES (a line with the job's number each time one starts).
worker_killed_ends() {
	local name=$1 pid=$2 n=$3 jobs=$4 j twice=0
	shift 4
	touch "$G/go"
	ends "$name" "$pid"
	is "$s" 0 "$name: status 0"
	check "$name: every item's output once, in order" \
		cmp -s "$T/out" <(seq "$n")
	for j in $jobs; do
		[ "$(cat "$@" | grep -cx "$j")" -eq 2 ] || twice=1
	done
	check "$name: the jobs it had ran again ($jobs)" \
		test -n "$jobs" -a "$twice" -eq 0
}

# wait_writer_stalls PID: wait (up to a minute) until process PID has
# written nothing for a second: the reader of its output stopped reading.
# Sets $stalled (5 or more when it did) and $w (the bytes it wrote, or
# "gone").
wait_writer_stalls() {
	local prev=-1 n=0
	stalled=0 w=0
	while [ $n -lt 300 ]; do
		w=$(awk '/^wchar/ {print $2}' /proc/$1/io 2>/dev/null || echo gone)
		if [ "$w" = "$prev" ]; then
			stalled=$((stalled + 1))
			[ $stalled -ge 5 ] && break
		else
			stalled=0
		fi
		prev=$w
		sleep 0.2
		n=$((n + 1))
	done
}

# endless_input NAME READ_MAX RSS_MAX YES_ARG CCMAP_ARG...: run ccmap with
# CCMAP_ARG... on an endless `yes YES_ARG` (through a fifo) while its jobs
# are held ($HOLD: a command that waits until the end of the check, then
# reads its stdin out).  ccmap must stop reading (the writer stalls),
# having let less than READ_MAX bytes be written (0: not checked), with an
# RSS under RSS_MAX kB.  Then the jobs are let go, ccmap and yes stopped.
HOLD=$T/hold-endless.sh
endless_input() {
	local name=$1 read_max=$2 rss_max=$3 yarg=$4 ypid cpid rss
	shift 4
	printf '#!/bin/sh\nwhile [ ! -e "%s" ]; do sleep 0.1; done\ncat >/dev/null\n' \
		"$T/endless-go" >"$HOLD"
	chmod +x "$HOLD"
	rm -f "$T/yfifo" "$T/endless-go"
	mkfifo "$T/yfifo"
	yes "$yarg" >"$T/yfifo" 2>/dev/null &
	ypid=$!
	$CCMAP "$@" <"$T/yfifo" >/dev/null 2>&1 &
	cpid=$!
	wait_writer_stalls "$ypid"
	rss=$(awk '/^VmRSS/ {print $2}' /proc/$cpid/status 2>/dev/null || echo 0)
	ok $([ $stalled -ge 5 ] && echo 0 || echo 1) \
		"$name: ccmap stops reading (the writer stalls)"
	if [ "$read_max" -gt 0 ]; then
		case $w in ''|*[!0-9]*) w=999999999999 ;; esac
		ok $([ "$w" -lt "$read_max" ] && echo 0 || echo 1) \
			"$name: less than $((read_max / 1048576)) MB read ahead"
		[ "$w" -lt "$read_max" ] || diag "yes wrote $w bytes"
	fi
	ok $([ "${rss:-0}" -lt "$rss_max" ] && echo 0 || echo 1) \
		"$name: RSS under $((rss_max / 1024)) MB"
	[ "${rss:-0}" -lt "$rss_max" ] || diag "RSS $rss kB"
	: >"$T/endless-go"
	kill "$cpid" 2>/dev/null || true
	wait "$cpid" 2>/dev/null || true
	kill "$ypid" 2>/dev/null || true
	wait "$ypid" 2>/dev/null || true
}

done_testing() {
	_tap_done=1
	if [ -z "$_tap_planned" ]; then
		echo "1..$_tap_n"
	elif [ "$_tap_planned" -ne "$_tap_n" ]; then
		echo "# planned $_tap_planned tests but ran $_tap_n"
		exit 1
	fi
	if [ "$_tap_failed" -ne 0 ]; then
		echo "# $_tap_failed of $_tap_n tests failed"
		exit 1
	fi
	exit 0
}
