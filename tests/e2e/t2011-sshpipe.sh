#!/bin/bash
# t2011: --pipe over -S.  Each block goes first into a file of the test
# user's in the host's temporary directory (mode 600), which the job then
# reads on its stdin; the file is gone when the job ends, also when ccmap
# is killed.  Blocks are cut, ordered, headed and numbered as locally, on
# remote hosts and on ":" alike.
#
# No check depends on timing: jobs that must be running wait at a gate
# file, and the test waits for them with a generous bound.

# shellcheck disable=SC2317 # functions run through check and wait_for
. "$(dirname "$0")/setup.sh"
. "$SRC/sshbed.sh"

sshbed_start 2
export CCMAP_SSH="ssh -F $SSHBED_CONFIG"

G=$T/gates
mkdir -m 777 "$G"

# blocks_left: the block files of the test user left in /tmp (the hosts
# share this machine's file system).
blocks_left() {
	find /tmp -maxdepth 1 -user "$SSHBED_USER" -name 'ccmap-*-*' | wc -l
}
no_blocks_left() { [ "$(blocks_left)" -eq 0 ]; }

seq 20000 >"$T/seq"

# --- the blocks, their order and their hosts --------------------------------
"$CCMAP" --pipe --block 10k -S node1,node2 cat <"$T/seq" >"$T/out" 2>"$T/err"
ok $? "two hosts: status 0"
check "two hosts: every line once, in order" cmp -s "$T/out" "$T/seq"
is "$(cat "$T/err")" "" "two hosts: nothing on stderr"

"$CCMAP" --pipe --block 10k -S node1,node2 'wc -l >/dev/null; hostname' \
	<"$T/seq" >"$T/hosts"
check "two hosts: blocks ran on node1" grep -qx node1 "$T/hosts"
check "two hosts: blocks ran on node2" grep -qx node2 "$T/hosts"
is "$("$CCMAP" --pipe --block 10k cat <"$T/seq" | wc -l)" 20000 \
	"locally: the same lines (the comparison is fair)"
n_local=$("$CCMAP" --pipe --block 10k 'echo x' <"$T/seq" | wc -l)
is "$(wc -l <"$T/hosts")" "$n_local" "two hosts: as many blocks as locally"

"$CCMAP" --pipe --block 10k -S 1/node1,1/: cat <"$T/seq" >"$T/out"
check "node1 and this machine: every line once, in order" cmp -s "$T/out" "$T/seq"

printf 'h\n1\n2\n' >"$T/hdr"
run_case "--header and -N1: each job reads the header, then its record" 0 \
	$'h\n1\n[1 node1]\nh\n2\n[2 node1]\n' -- \
	sh -c '"$@" <"$0"' "$T/hdr" \
	"$CCMAP" --pipe --header : -N1 -S node1 'cat; echo "[$CCMAP_SEQ $CCMAP_HOST]"'

run_case "binary data, no newline at the end: byte for byte" 0 \
	"$(printf 'a\001b\377c')" --stdin "$(printf 'a\001b\377c')" -- \
	"$CCMAP" --pipe -S node1 cat

run_case "the file is the job's stdin: it can seek and read it twice" 0 \
	$'2\n2\n' --stdin "$(printf '1\n2\n3')" -- \
	"$CCMAP" --pipe -S node1 'wc -l </dev/stdin | tr -d " "; wc -l </dev/stdin | tr -d " "'

check "no block file left after the runs" no_blocks_left

# --- statuses ---------------------------------------------------------------
run_case "a job's own 255 is its failure, not the session's: run once" 1 \
	"$(printf 'a\n')" --stdin "$(printf 'a\n')" -- \
	"$CCMAP" --pipe -S node1,node2 "cat; echo run >>$G/runs255; exit 255"
is "$(wc -l <"$G/runs255")" 1 "exit 255: the job ran once"
check "exit 255: no marker on stderr" eval '! grep -q "exit 255" "$T/err"'

# (Ten jobs: each is two sessions.)
head -20 "$T/seq" | "$CCMAP" --pipe -N2 -S node1 --joblog "$T/log" cat >/dev/null
is "$(awk -F'\t' 'NR == 2 { print $2, $5, $7 }' "$T/log")" "node1 4 0" \
	"--joblog: Host, Send (the block's bytes) and Exitval of the first job"

# --- killed while a job reads its block: nothing left anywhere --------------
seq 4 | "$CCMAP" --pipe -N1 -S 2/node1 \
	"cat >/dev/null; touch $G/started.\$CCMAP_SEQ; while [ ! -e $G/never ]; do sleep 0.2; done" \
	>/dev/null 2>"$T/kerr" &
pid=$!
if wait_for 60 test -e "$G/started.1" -a -e "$G/started.2"; then
	pass "TERM: two blocks' jobs running on node1"
else
	fail "TERM: two blocks' jobs running on node1"
fi
is "$(blocks_left)" 2 "TERM: their two block files are there while they run"
kill -TERM "$pid"
ends "TERM" "$pid"
is "$s" 143 "TERM: exit status 143"
if wait_for 30 no_blocks_left; then
	pass "TERM: the block files are gone"
else
	fail "TERM: the block files are gone"
fi
if wait_for 30 sshbed_none_left 1; then
	pass "TERM: nothing of the jobs left on node1"
else
	fail "TERM: nothing of the jobs left on node1"
	sshbed_ps | diag
fi

done_testing
