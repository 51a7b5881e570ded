#!/bin/bash
# t2000: the SSH test bed itself (tests/e2e/sshbed.sh), which the -S tests
# stand on: real sshds on 127.0.0.1-3, each a host of its own (hostname,
# UTS namespace), a host that is down, sessions over one ControlMaster up
# to sshd's MaxSessions (10) and what the 11th gets, a host that stops
# listening or goes down, and a bed that leaves nothing behind: no process
# of its test user, no sshd, no user, also when its script fails or is
# killed, and while another bed runs at the same time.
#
# No check depends on timing: waits poll for what they wait for, with a
# generous bound.

# shellcheck disable=SC2317 # functions run through check and wait_for
. "$(dirname "$0")/setup.sh"
. "$SRC/sshbed.sh"

command -v timeout >/dev/null 2>&1 || skip_all "no timeout(1)"

mark=2000.$$$RANDOM # "sleep $mark": a remote job this script can find
cfg=$SSHBED_CONFIG
ctl=$T/ctl.%C

# remote_sleeps I: the "sleep $mark" processes running on node I.
remote_sleeps() {
	sshbed_ps | awk -v n="node$1" -v m="sleep $mark" \
		'$2 == n && $3 == "sleep" && index($0, m) { c++ } END { print c + 0 }'
}
has_remote_sleep() { [ "$(remote_sleeps "$1")" -gt 0 ]; }
no_remote_sleep() { [ "$(remote_sleeps "$1")" -eq 0 ]; }

# sshd_setting I NAME: node I's sshd's effective setting (sshd -T).
sshd_setting() {
	"$SSHBED_SSHD" -T -f "$SSHBED_DIR/sshd$1.conf" | awk -v k="$2" '$1 == k { print $2 }'
}

# uid_procs UID: the live (not zombie) processes with that uid.
uid_procs() {
	ps -e -o uid=,stat= | awk -v u="$1" '$1 == u && $2 !~ /^Z/ { c++ } END { print c + 0 }'
}

# ends_with NAME PID STATUS: PID, a child, ends within 30 s with STATUS.
ends_with() {
	local s
	if wait_for 30 gone "$2"; then
		wait "$2" && s=0 || s=$?
		is "$s" "$3" "$1"
	else
		fail "$1 (still running after 30 s: killed)"
		kill -KILL "$2" 2>/dev/null || true
		wait "$2" 2>/dev/null || true
	fi
}

# --- master_start NODE: a ControlMaster, a child of this script in the
# foreground (-N, no -f: a forked master would be an orphan), ready when
# `-O check` says so.  $master is its pid.
master_start() {
	ssh -F "$cfg" -o ControlMaster=yes -o ControlPath="$ctl" -o ControlPersist=no \
		-N "$1" </dev/null >"$T/master.log" 2>&1 &
	master=$!
	wait_for 20 ssh -F "$cfg" -o ControlPath="$ctl" -O check "$1" 2>/dev/null
}

# held_sessions NODE N: N sessions at once over the master, each holding
# until $home/go exists, then printing "HOSTNAME CLIENT-PORT" (one TCP
# connection: one client port).  Pids in $held; outputs in $T/s.K.out/err.
home=$SSHBED_DIR/home
# shellcheck disable=SC2016 # run by the remote shell
session_cmd='set -- $SSH_CLIENT; echo "$(hostname) $2"'
held_sessions() {
	local k
	rm -f "$home"/up.* "$home/go"
	held=
	for k in $(seq 1 "$2"); do
		ssh -F "$cfg" -o ControlMaster=no -o ControlPath="$ctl" "$1" \
			": >up.$k; while [ ! -e go ]; do sleep 0.05; done; $session_cmd" \
			</dev/null >"$T/s.$k.out" 2>"$T/s.$k.err" &
		held="$held $!"
	done
}
sessions_up() { [ "$(find "$home" -name 'up.*' | wc -l)" -eq "$1" ]; }
release_sessions() {
	local p
	: >"$home/go"
	for p in $held; do
		wait "$p" || echo "session $p: status $?" >>"$T/held-status"
	done
}
# master_close NAME NODE: -O exit ends the master, which exits 255 then
# (0 on SIGTERM).
master_close() {
	check "$1: -O exit" ssh -F "$cfg" -o ControlPath="$ctl" -O exit "$2" 2>/dev/null
	ends_with "$1: the master ends (status 255)" "$master" 255
	if ssh -F "$cfg" -o ControlPath="$ctl" -O check "$2" 2>/dev/null; then
		fail "$1: no master answers after -O exit"
	else
		pass "$1: no master answers after -O exit"
	fi
}

# --- the hosts -------------------------------------------------------------
sshbed_start 3
for i in 1 2 3; do
	is "$(sshbed_ssh "node$i" 'hostname; id -un; pwd' </dev/null 2>&1)" \
		"node$i
$SSHBED_USER
$home" "node$i: its own hostname, the test user, in its home"
done
is "$(sshbed_ssh 127.0.0.2 hostname </dev/null 2>&1)" node2 \
	"an address is a host name too (Host * holds port, user, key)"
is "$(sshbed_ssh "$SSHBED_USER@node3" hostname </dev/null 2>&1)" node3 "USER@node3"
is "$(sshd_setting 1 maxstartups) $(sshd_setting 1 maxsessions)" "100:30:200 10" \
	"sshd: MaxStartups raised, MaxSessions sshd's 10"

# node9: nothing listens on 127.0.0.9: ssh's own failure, 255, at once.
t0=${EPOCHREALTIME/./}
run_case "node9 (down): ssh fails with 255" 255 '' -- timeout 20 ssh -F "$cfg" node9 true
t1=${EPOCHREALTIME/./}
stderr_has "127\.0\.0\.9.*Connection refused" "node9: connection refused"
ok $(( (t1 - t0) < 2000000 ? 0 : 1 )) "node9: refused within 2 s"
[ $(( (t1 - t0) < 2000000 )) -eq 1 ] || diag "took $(( (t1 - t0) / 1000 )) ms"

# Parallel handshakes are not refused (MaxStartups raised): 20 at once on
# one sshd (its default, 10:30:100, starts dropping after 10).
pids=
for k in $(seq 1 20); do
	ssh -F "$cfg" node1 true </dev/null >/dev/null 2>"$T/hs.$k" &
	pids="$pids $!"
done
bad=0
for p in $pids; do wait "$p" || bad=$((bad + 1)); done
is "$bad" 0 "20 handshakes at once all succeed"
[ "$bad" -eq 0 ] || cat "$T"/hs.* | sort | uniq -c | diag

# --- ten sessions over one master ------------------------------------------
check "a master on node1 is ready" master_start node1
held_sessions node1 10
check "10 sessions over it at once" wait_for 20 sessions_up 10
release_sessions
is "$(cat "$T"/s.*.out | awk '{ print $1 }' | sort | uniq -c | awk '{ print $1, $2 }')" \
	"10 node1" "10 sessions: each on node1"
is "$(cat "$T"/s.*.out | awk '{ print $2 }' | sort -u | wc -l)" 1 \
	"10 sessions: one TCP connection (one client port)"
is "$(cat "$T"/s.*.err)" "" "10 sessions: nothing on stderr"
check "10 sessions: each exits 0" test ! -e "$T/held-status"
master_close "master on node1" node1

# --- a host that stops listening, a host that goes down --------------------
check "nothing runs on node1 or node3" wait_for 10 eval 'sshbed_none_left 1 && sshbed_none_left 3'
ssh -F "$cfg" node2 "sleep $mark" </dev/null >/dev/null 2>"$T/client2.err" &
client=$!
check "a remote job runs on node2" wait_for 20 has_remote_sleep 2
is "$(sshbed_procs_on 1) $(sshbed_procs_on 3)" "0 0" "sshbed_procs_on tells nodes apart"
check "sshbed_procs counts it" test "$(sshbed_procs)" -ge 2

pid2=$(sshbed_pid 2)
sshbed_stop_node 2
check "stop_node 2: its sshd is gone" gone "$pid2"
is "$(sshbed_pid 2)" "" "stop_node 2: sshbed_pid 2 is empty"
run_case "stop_node 2: a new connection is refused (255)" 255 '' \
	-- timeout 20 ssh -F "$cfg" node2 true
is "$(remote_sleeps 2)" 1 "stop_node 2: the session already open goes on"

sshbed_kill_node 2
check "kill_node 2: the remote job is gone" wait_for 10 no_remote_sleep 2
check "kill_node 2: nothing of the user left on node2" sshbed_none_left 2
ends_with "kill_node 2: the ssh client ends with 255" "$client" 255
is "$(sshbed_ssh node1 hostname </dev/null) $(sshbed_ssh node3 hostname </dev/null)" \
	"node1 node3" "kill_node 2: node1 and node3 still answer"
check "start_node 2" sshbed_start_node 2
is "$(sshbed_ssh node2 hostname </dev/null 2>&1)" node2 "start_node 2: node2 answers again"

# --- sshbed_stop leaves nothing ----------------------------------------------
# A job detached from its session, one left on a stopped node, one running.
sshbed_ssh node3 "nohup sleep $mark >/dev/null 2>&1 &" </dev/null
check "a detached remote job outlives its session" wait_for 20 has_remote_sleep 3
ssh -F "$cfg" node1 "sleep $mark" </dev/null >/dev/null 2>&1 &
client=$!
check "a remote job runs on node1" wait_for 20 has_remote_sleep 1
sshbed_stop_node 1
user=$SSHBED_USER uid=$SSHBED_UID pids=$SSHBED_PIDS
check "sshbed_stop: status 0" sshbed_stop
is "$(uid_procs "$uid")" 0 "sshbed_stop: no process of the test user left"
is "$(getent passwd "$user")" "" "sshbed_stop: the test user is deleted"
for p in $pids; do
	check "sshbed_stop: sshd $p is gone" gone "$p"
done
wait "$client" 2>/dev/null || true

# --- two beds at once; a script that fails or is killed cleans up ----------
sshbed_start 1 defaults
mark2=2001.$$$RANDOM
cat >"$T/child.sh" <<EOF
. "$SRC/setup.sh"
. "$SRC/sshbed.sh"
sshbed_start 2
ssh -F "\$SSHBED_CONFIG" node1 'nohup sleep $mark2 >/dev/null 2>&1 &' </dev/null
ssh -F "\$SSHBED_CONFIG" node2 'sleep $mark2' </dev/null >/dev/null 2>&1 &
i=0; while [ "\$(sshbed_procs)" -lt 2 ] && [ \$i -lt 400 ]; do sleep 0.05; i=\$((i + 1)); done
echo "\$SSHBED_USER \$SSHBED_UID \$SSHBED_PORT \$SSHBED_PIDS" >"$T/child-\$1.info"
case \$1 in
fail) false ;; # set -e ends the script here
term) while :; do sleep 0.05; done ;;
esac
EOF
# child_left HOW NAME: what the child run as "child.sh HOW" left behind.
child_left() {
	local name=$2 cuser cuid cport cpids p
	if [ ! -s "$T/child-$1.info" ]; then
		fail "$name: the child's bed came up"
		diag <"$T/child-$1.tap"
		return
	fi
	read -r cuser cuid cport cpids <"$T/child-$1.info"
	# shellcheck disable=SC2086 # the pids
	set -- $cpids
	is "$#" 2 "$name: the child's bed had its two sshds"
	check "$name: its own port" test "$cport" != "$SSHBED_PORT"
	check "$name: its own user" test "$cuser" != "$SSHBED_USER"
	is "$(uid_procs "$cuid")" 0 "$name: no process of its test user left"
	is "$(getent passwd "$cuser")" "" "$name: its test user is deleted"
	for p in $cpids; do
		check "$name: its sshd $p is gone" gone "$p"
	done
	is "$(sleeps_left "$mark2")" "" "$name: its remote jobs are gone"
}

run_case "a child script failing with its bed up: status 1" 1 '*' \
	-- timeout 120 bash "$T/child.sh" fail
cp "$T/out" "$T/child-fail.tap"
stdout_has "^not ok 1 - script ran to the end" "failing child: its TAP says it died"
child_left fail "failing child"

bash "$T/child.sh" term >"$T/child-term.tap" 2>&1 &
cpid=$!
check "TERM: the child's bed is up" wait_for 60 test -s "$T/child-term.info"
kill -TERM "$cpid"
ends_with "TERM: the child exits 143" "$cpid" 143
child_left term "TERM"
is "$(sshbed_ssh node1 hostname </dev/null 2>&1)" node1 \
	"the children's cleanups leave this bed alone"

# --- sshd's defaults: MaxSessions 10, and the 11th session -------------------
is "$(sshd_setting 1 maxstartups) $(sshd_setting 1 maxsessions)" "10:30:100 10" \
	"defaults: MaxStartups 10:30:100, MaxSessions 10"
check "defaults: a master on node1 is ready" master_start node1
held_sessions node1 10
check "defaults: 10 sessions over it at once" wait_for 20 sessions_up 10
# The 11th: the master asks, sshd refuses (MaxSessions), and ssh falls back
# on a connection of its own, silently but for one line on stderr.
run_case "defaults: the 11th session still runs (status 0)" 0 '*' \
	-- timeout 60 ssh -F "$cfg" -o ControlMaster=no -o ControlPath="$ctl" node1 "$session_cmd"
# (ssh ends its messages with \r\n.)
stderr_has $'^mux_client_request_session: session request failed: Session open refused by peer\r?$' \
	"defaults: the 11th: the master's session is refused"
is "$(wc -l <"$T/err")" 1 "defaults: the 11th: that line only"
eleventh=$OUT
release_sessions
port10=$(cat "$T"/s.*.out | awk '{ print $2 }' | sort -u)
is "$(echo "$port10" | wc -l)" 1 "defaults: the 10 on one connection"
is "${eleventh%% *}" node1 "defaults: the 11th on node1"
check "defaults: the 11th on another connection (client port)" \
	test "${eleventh#* }" != "$port10"
master_close "defaults: master" node1

done_testing
