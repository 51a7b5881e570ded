#!/bin/bash
# t2012: the masters of -S against an sshd with its default limits
# (MaxStartups 10:30:100, MaxSessions 10).  A host with 100 slots needs 12
# masters, and every slot runs a job at once.  A host with 300 slots needs
# 34: ccmap connects them a few at a time, so that sshd refuses none (all
# at once, some are refused).  A master killed during the run is started
# again: the jobs it carried run again, over the new one, and no job logs
# in on its own meanwhile.  The masters' directory is made in
# --tmpdir (else $TMPDIR), mode 700, and removed at the end.
#
# No check depends on timing: the jobs wait at a gate file, and the test
# waits for them with a generous bound.

# shellcheck disable=SC2317 # functions run through check and wait_for
. "$(dirname "$0")/setup.sh"
. "$SRC/sshbed.sh"

sshbed_start 1 defaults
export CCMAP_SSH="ssh -F $SSHBED_CONFIG"

G=$T/gates
mkdir -m 777 "$G" "$T/tmp"

started() { find "$G" -name 'started.*' | wc -l; }
all_started() { [ "$(started)" -eq 100 ]; }
ctl_dirs() { find "$T/tmp" -mindepth 1 -maxdepth 1 -name 'ccmap-ssh.*' | wc -l; }

seq 100 | "$CCMAP" -S 100/node1 --tmpdir "$T/tmp" \
	"touch $G/started.\$CCMAP_SLOT; while [ ! -e $G/go ]; do sleep 0.2; done; echo {}" \
	>"$T/out" 2>"$T/err" &
pid=$!
if wait_for 120 all_started; then
	pass "100 slots on one host: 100 jobs running at once"
else
	fail "100 slots on one host: 100 jobs running at once ($(started) started)"
fi
is "$(ctl_dirs)" 1 "the masters' directory is in --tmpdir"
d=$(find "$T/tmp" -mindepth 1 -maxdepth 1 -name 'ccmap-ssh.*')
is "$(stat -c %a "$d" 2>/dev/null)" 700 "the masters' directory: mode 700"
is "$(find "$d" -type s | wc -l)" 12 "12 masters' sockets for 100 slots"
touch "$G/go"
ends "100 slots" "$pid"
is "$s" 0 "100 slots: status 0"
check "100 slots: each item's output once, in order" cmp -s "$T/out" <(seq 100)
is "$(cat "$T/err")" "" "100 slots: no warning (no master refused)"
is "$(ctl_dirs)" 0 "the masters' directory is removed at the end"
if wait_for 30 sshbed_none_left; then
	pass "nothing of the run left on node1"
else
	fail "nothing of the run left on node1"
	sshbed_ps | diag
fi

# --- 300 slots: 34 masters, no more than a few connecting at a time --------
rm -f "$G"/*
seq 1 | "$CCMAP" -S 300/node1 --tmpdir "$T/tmp" \
	"touch $G/started.1; while [ ! -e $G/go ]; do sleep 0.2; done; echo {}" \
	>"$T/out" 2>"$T/err" &
pid=$!
if wait_for 120 test -e "$G/started.1"; then
	pass "300 slots: the job runs"
else
	fail "300 slots: the job runs"
fi
d=$(find "$T/tmp" -mindepth 1 -maxdepth 1 -name 'ccmap-ssh.*')
is "$(find "$d" -type s | wc -l)" 34 "300 slots: 34 masters connected"
touch "$G/go"
ends "300 slots" "$pid"
is "$s" 0 "300 slots: status 0"
is "$(cat "$T/err")" "" "300 slots: no warning (no master refused)"

# --- a master killed during the run: started again -------------------------
rm -f "$G"/*
master_pids() { pgrep -f "ControlPath=$T/tmp/ccmap-ssh" | sort; }
seq 4 | "$CCMAP" -S 2/node1 --tmpdir "$T/tmp" \
	"touch $G/started.{}.\$\$; while [ ! -e $G/go ]; do sleep 0.2; done; echo {}" \
	>"$T/out" 2>"$T/err" &
pid=$!
two_started() { [ "$(find "$G" -name 'started.*' | wc -l)" -ge 2 ]; }
if wait_for 60 two_started; then
	pass "master killed: two jobs running"
else
	fail "master killed: two jobs running"
fi
old=$(master_pids)
is "$(echo "$old" | grep -c .)" 1 "master killed: one master for 2 slots"
kill -TERM $old
other_master() { m=$(master_pids); [ -n "$m" ] && [ "$m" != "$old" ]; }
if wait_for 60 other_master; then
	pass "master killed: a new master is started"
else
	fail "master killed: a new master is started"
fi
# Two more jobs run over it (the two cut off wait for a slot after them).
four_started() { [ "$(find "$G" -name 'started.*' | wc -l)" -ge 4 ]; }
if wait_for 60 four_started; then
	pass "master killed: jobs start over the new master"
else
	fail "master killed: jobs start over the new master"
fi
touch "$G/go"
ends "master killed" "$pid"
is "$s" 0 "master killed: status 0"
check "master killed: each item's output once, in order" cmp -s "$T/out" <(seq 4)
is "$(find "$G" -name 'started.[12].*' | wc -l)" 4 \
	"master killed: the two jobs it carried ran again"
is "$(cat "$T/err")" "" "master killed: no warning (the host is not dropped)"
if wait_for 30 sshbed_none_left; then
	pass "master killed: nothing of the run left on node1"
else
	fail "master killed: nothing of the run left on node1"
	sshbed_ps | diag
fi

done_testing
