# tests/e2e/sshbed.sh: a test bed of SSH hosts on loopback, for the tests
# of -S/--sshlogin.  Sourced after setup.sh (bash).  Real OpenSSH servers,
# this machine's own: one `sshd -D` per host on 127.0.0.I (loopback only,
# ever), each in a UTS namespace of its own (unshare --uts) with the
# hostname nodeI, a test user of this run's own (home in $T, /bin/sh),
# throwaway keys in $T.  Needs root; skips the whole script (skip_all) when
# not root or when sshd, ssh, ssh-keygen, unshare, nsenter or useradd is
# missing.
#
#   sshbed_start N [defaults]  hosts node1..nodeN (N in 1..3) up and
#                         answering.  Without "defaults", sshd's MaxStartups
#                         is raised (100:30:200, so that parallel handshakes
#                         are not refused); with it, nothing is: MaxStartups
#                         10:30:100.  MaxSessions is sshd's 10 either way (a
#                         master carries at most 10 sessions).  Sets and
#                         exports:
#       SSHBED_CONFIG     $T/ssh_config: Host node1..nodeN, and node9 on
#                         127.0.0.9 where no sshd listens (a host that is
#                         down: connection refused); "Host *" holds the rest
#                         (Port, User, key, BatchMode...), so 127.0.0.2 or
#                         USER@node1 work as host names too
#       SSHBED_SSH        "ssh -F $SSHBED_CONFIG" (for --ssh, $CCMAP_SSH)
#       SSHBED_USER, SSHBED_UID   the test user
#       SSHBED_PORT       the port every node listens on
#       SSHBED_N          N
#       SSHBED_PIDS       the pids of the sshds running (sshbed_pid I: node
#                         I's, empty when it is down)
#       SSHBED_SSHD       the sshd binary (sshd -T -f $SSHBED_DIR/sshd1.conf)
#       SSHBED_DIR        $T/sshbed: keys, sshdI.conf, sshdI.log, and the
#                         user's home (home/, a remote job's working dir)
#   sshbed_ssh ARG...     ssh -F "$SSHBED_CONFIG" ARG...
#   sshbed_pid I          node I's sshd's pid (empty when it is down)
#   sshbed_stop_node I    node I stops listening (its sshd is killed):
#                         new connections are refused, but the sessions
#                         already open go on, as when sshd is restarted
#                         (sshbed_kill_node I, or sshbed_stop, ends them)
#   sshbed_kill_node I    node I goes down: everything in it is killed (its
#                         sshd, every session, every process started there)
#   sshbed_start_node I   node I up again, same address and port (and the
#                         same namespace: the same host)
#   sshbed_procs          how many processes the test user runs, on any
#                         node (zombies not counted)
#   sshbed_procs_on I     the same, on node I only (told apart by the UTS
#                         namespace)
#   sshbed_none_left [I]  status 0 when sshbed_procs [_on I] is 0 (for
#                         wait_for)
#   sshbed_check_none_left NAME I...  one test per node I: nothing of the
#                         test user left there (waited for)
#   sshbed_ps             the test user's processes (pid, node, args), for
#                         diag
#   sshbed_stop           the bed down: every process of the test user and
#                         of the nodes killed, the sshds reaped, the user
#                         deleted.  Also run when the script exits, however
#                         it exits (the EXIT trap chains with setup.sh's);
#                         source tmux.sh, if at all, before calling
#                         sshbed_start.
#
# Waits poll for what they wait for, with a bound (20 s for an sshd to
# answer): never a fixed sleep.

[ "$(id -u)" -eq 0 ] || skip_all "the SSH test bed needs root (a test user, sshd)"
case :$PATH: in
*:/usr/sbin:*) ;;
*) PATH=$PATH:/usr/sbin:/sbin ;; # sshd, useradd: a user's PATH may lack them
esac
SSHBED_SSHD=$(command -v sshd 2>/dev/null || echo /usr/sbin/sshd)
[ -x "$SSHBED_SSHD" ] || skip_all "no sshd (Debian: openssh-server)"
for _sshbed_c in ssh ssh-keygen unshare nsenter hostname useradd userdel ps stat; do
	command -v "$_sshbed_c" >/dev/null 2>&1 || skip_all "no $_sshbed_c"
done
unshare --uts true 2>/dev/null || skip_all "unshare --uts is not permitted here"

SSHBED_USER='' SSHBED_UID='' SSHBED_PORT='' SSHBED_N=0 SSHBED_PIDS=''
SSHBED_DIR=$T/sshbed
SSHBED_CONFIG=$T/ssh_config
SSHBED_SSH="ssh -F $SSHBED_CONFIG"
export SSHBED_USER SSHBED_UID SSHBED_PORT SSHBED_N SSHBED_PIDS SSHBED_DIR \
	SSHBED_CONFIG SSHBED_SSH SSHBED_SSHD
_sshbed_pid=()      # node -> its sshd's pid
_sshbed_pin=()      # node -> the process holding its UTS namespace
_sshbed_ns=()       # node -> that namespace (inode of /proc/PID/ns/uts)
_sshbed_defaults=
_sshbed_prev_exit=

sshbed_ssh() { ssh -F "$SSHBED_CONFIG" "$@"; }
sshbed_pid() { echo "${_sshbed_pid[$1]:-}"; }

_sshbed_export_pids() {
	SSHBED_PIDS="${_sshbed_pid[*]}"
}

# A port no socket listens on (any address), from a start derived from $$
# in 20000-29999, below the ephemeral range.  Two tests may still pick the
# same one at once: sshd then fails to bind and sshbed_start tries the next.
_sshbed_free_port() { # FROM
	local p=$1 n f files=
	for f in /proc/net/tcp /proc/net/tcp6; do
		[ ! -r "$f" ] || files="$files $f"
	done
	for n in $(seq 1 200); do
		# shellcheck disable=SC2086 # a list of files
		if ! awk -v hex="$(printf '%04X' "$p")" \
			'$4 == "0A" && substr($2, index($2, ":") + 1) == hex { f = 1 }
			END { exit !f }' $files; then
			echo "$p"
			return 0
		fi
		p=$((20000 + (p - 20000 + 1) % 10000))
	done
	return 1
}

# The test user: cct<pid>-<2 hex digits>, home in $SSHBED_DIR, /bin/sh, and
# a password field of '*' (not '!': sshd refuses a locked account).  Its
# uid is drawn in 100000-999999 (-l: no lastlog entry), not the next free
# one, which the next useradd would give again as soon as this user is
# deleted: "no process of that uid left" would then count another test's.
# useradd fails while a concurrent test holds /etc/passwd's lock: retried.
_sshbed_useradd() {
	local n=0 name uid rc
	while [ "$n" -lt 100 ]; do
		name=cct$$-$(printf '%02x' $((RANDOM % 256)))
		uid=$((100000 + (RANDOM * 32768 + RANDOM) % 900000))
		rc=0
		useradd -M -N -l -u "$uid" -d "$SSHBED_DIR/home" -s /bin/sh -p '*' \
			-c 'ccmap test bed' "$name" 2>"$SSHBED_DIR/useradd.err" || rc=$?
		case $rc in
		0) SSHBED_USER=$name; SSHBED_UID=$uid; return 0 ;;
		4|9) ;;         # the uid or the name is taken: draw again
		*) sleep 0.1 ;; # locked
		esac
		n=$((n + 1))
	done
	diag "sshbed: useradd kept failing:"
	diag <"$SSHBED_DIR/useradd.err"
	return 1
}

_sshbed_userdel() {
	local n=0 rc
	while [ "$n" -lt 100 ]; do
		rc=0
		userdel "$SSHBED_USER" 2>"$SSHBED_DIR/userdel.err" || rc=$?
		case $rc in
		0|6) return 0 ;;                      # 6: no such user
		8) userdel -f "$SSHBED_USER" 2>/dev/null && return 0 ;; # in use
		esac
		sleep 0.1
		n=$((n + 1))
	done
	diag "sshbed: userdel $SSHBED_USER kept failing:"
	diag <"$SSHBED_DIR/userdel.err"
	return 1
}

_sshbed_write_configs() {
	local i
	{
		echo "# ccmap's SSH test bed (tests/e2e/sshbed.sh)"
		for i in $(seq 1 "$SSHBED_N") 9; do
			printf 'Host node%s\n\tHostName 127.0.0.%s\n' "$i" "$i"
		done
		printf 'Host *\n\tPort %s\n\tUser %s\n\tIdentityFile %s/key\n' \
			"$SSHBED_PORT" "$SSHBED_USER" "$SSHBED_DIR"
		printf '\t%s\n' 'IdentitiesOnly yes' 'StrictHostKeyChecking no' \
			'UserKnownHostsFile /dev/null' 'BatchMode yes' 'LogLevel ERROR' \
			'ConnectTimeout 3'
	} >"$SSHBED_CONFIG"
	for i in $(seq 1 "$SSHBED_N"); do
		{
			printf 'ListenAddress 127.0.0.%s:%s\n' "$i" "$SSHBED_PORT"
			printf 'HostKey %s/host_key\n' "$SSHBED_DIR"
			printf 'AuthorizedKeysFile %s/authorized_keys\n' "$SSHBED_DIR"
			printf 'AllowUsers %s\n' "$SSHBED_USER"
			printf '%s\n' 'PidFile none' 'StrictModes no' 'UsePAM no' \
				'PasswordAuthentication no' 'KbdInteractiveAuthentication no' \
				'PermitRootLogin no' 'PrintMotd no' 'PrintLastLog no' \
				'LogLevel ERROR'
			[ -n "$_sshbed_defaults" ] || echo 'MaxStartups 100:30:200'
			if [ -x /usr/lib/openssh/sftp-server ]; then
				echo 'Subsystem sftp /usr/lib/openssh/sftp-server'
			fi
		} >"$SSHBED_DIR/sshd$i.conf"
	done
}

# _sshbed_pin_node I: node I's UTS namespace, hostname nodeI, held by a
# process of this shell's (a root "sleep infinity", the pin) for the bed's
# life: node I stays one host across sshbed_stop_node and start_node, and
# the namespace's inode stays ours (the kernel reuses it once a namespace
# is gone, and what kills by namespace must never reach another test).
_sshbed_is_sleep() { [ "$(cat "/proc/$1/comm" 2>/dev/null)" = sleep ]; }
_sshbed_pin_node() { # I
	local pin
	# shellcheck disable=SC2016 # $1 is sh's
	unshare --uts sh -c 'hostname "$1" && exec sleep infinity' sh "node$1" \
		</dev/null >/dev/null 2>&1 &
	pin=$!
	_sshbed_pin[$1]=$pin
	if ! wait_for 20 _sshbed_is_sleep "$pin"; then
		diag "sshbed: node$1's namespace was not made"
		return 1
	fi
	_sshbed_ns[$1]=$(stat -L -c %i "/proc/$pin/ns/uts")
	if [ "${_sshbed_ns[$1]}" = "$(stat -L -c %i /proc/$$/ns/uts)" ]; then
		diag "sshbed: node$1 is not in a UTS namespace of its own"
		_sshbed_ns[$1]=
		return 1
	fi
}

# _sshbed_launch I: node I's sshd in its namespace, in the foreground (-D:
# PID 1 here does not reap orphans), a child of this shell.
_sshbed_launch() {
	nsenter --uts --target "${_sshbed_pin[$1]}" \
		"$SSHBED_SSHD" -D -e -f "$SSHBED_DIR/sshd$1.conf" \
		</dev/null >>"$SSHBED_DIR/sshd$1.log" 2>&1 &
	_sshbed_pid[$1]=$!
	_sshbed_export_pids
}

# _sshbed_ready I: wait (20 s at most) until node I answers.  Status 2 when
# its sshd died (port taken, usually), 1 when it never answered.
_sshbed_ready() {
	local i=$1 pid=${_sshbed_pid[$1]} end=$((SECONDS + 20))
	while [ "$SECONDS" -le "$end" ]; do
		if gone "$pid"; then
			wait "$pid" 2>/dev/null || true
			unset '_sshbed_pid[i]'
			_sshbed_export_pids
			return 2
		fi
		if sshbed_ssh "node$i" true </dev/null >/dev/null 2>"$SSHBED_DIR/ready.err"; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

_sshbed_log_diag() { # I
	diag "sshbed: node$1 (127.0.0.$1:$SSHBED_PORT) did not come up; ssh said:"
	diag <"$SSHBED_DIR/ready.err"
	diag "its sshd's log:"
	diag <"$SSHBED_DIR/sshd$1.log"
}

sshbed_start() { # N [defaults]
	local i rc port
	case ${1:-} in
	1|2|3) ;;
	*) echo "sshbed_start: N must be 1, 2 or 3" >&2; return 2 ;;
	esac
	if [ -n "$SSHBED_USER" ]; then
		echo "sshbed_start: the bed is already up (sshbed_stop first)" >&2
		return 2
	fi
	_sshbed_defaults=
	[ "${2:-}" != defaults ] || _sshbed_defaults=1
	case $(trap -p EXIT) in
	*_sshbed_exit*) ;;
	*) _sshbed_chain_exit "$(trap -p EXIT)" ;;
	esac
	SSHBED_N=$1
	chmod 755 "$T" # the test user reaches its home
	rm -rf "$SSHBED_DIR"
	mkdir -p "$SSHBED_DIR/home" /run/sshd # /run/sshd: sshd's privsep dir
	ssh-keygen -q -t ed25519 -N '' -C sshbed -f "$SSHBED_DIR/host_key"
	ssh-keygen -q -t ed25519 -N '' -C sshbed -f "$SSHBED_DIR/key"
	cp "$SSHBED_DIR/key.pub" "$SSHBED_DIR/authorized_keys"
	chmod 644 "$SSHBED_DIR/authorized_keys"
	_sshbed_useradd || return 1
	chown "$SSHBED_USER" "$SSHBED_DIR/home"
	for i in $(seq 1 "$SSHBED_N"); do
		_sshbed_pin_node "$i" || return 1
	done
	port=$((20000 + ($$ * 37) % 10000))
	for _ in $(seq 1 20); do
		SSHBED_PORT=$(_sshbed_free_port "$port") || break
		_sshbed_write_configs
		for i in $(seq 1 "$SSHBED_N"); do
			_sshbed_launch "$i"
		done
		rc=0
		for i in $(seq 1 "$SSHBED_N"); do
			_sshbed_ready "$i" || { rc=$?; break; }
		done
		[ "$rc" -ne 0 ] || return 0
		if [ "$rc" -ne 2 ] || ! grep -q 'Address already in use' "$SSHBED_DIR/sshd$i.log"; then
			_sshbed_log_diag "$i"
			return 1
		fi
		# The port was taken between the look and the bind: all nodes
		# down, and again on another port.
		for i in $(seq 1 "$SSHBED_N"); do
			sshbed_kill_node "$i"
			: >"$SSHBED_DIR/sshd$i.log"
		done
		port=$((20000 + (SSHBED_PORT - 20000 + 1 + RANDOM % 50) % 10000))
	done
	diag "sshbed: no free port found"
	return 1
}

sshbed_start_node() { # I
	local rc=0
	if [ -n "${_sshbed_pid[$1]:-}" ]; then
		echo "sshbed_start_node: node$1 is up" >&2
		return 2
	fi
	_sshbed_launch "$1"
	_sshbed_ready "$1" || rc=$?
	[ "$rc" -eq 0 ] || _sshbed_log_diag "$1"
	return "$rc"
}

sshbed_stop_node() { # I
	local pid=${_sshbed_pid[$1]:-}
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	wait_for 10 gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" || true
	unset '_sshbed_pid[$1]'
	_sshbed_export_pids
} 2>/dev/null # no "Terminated" notice from bash

# The pids of the processes in node I's namespace but its pin (zombies have
# left theirs).
_sshbed_node_pids() { # I
	[ -n "${_sshbed_ns[$1]:-}" ] || return 0
	stat -L -c '%i %n' /proc/[0-9]*/ns/uts 2>/dev/null |
		awk -v ns="${_sshbed_ns[$1]}" -v pin="${_sshbed_pin[$1]}" \
			'$1 == ns { split($2, f, "/"); if (f[3] != pin) print f[3] }'
}

# _sshbed_reap PID: SIGKILL a child of this shell, and wait for it.
_sshbed_reap() {
	[ -n "$1" ] || return 0
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" || true
} 2>/dev/null # no "Killed" notice from bash

sshbed_kill_node() { # I
	kill_until_none 50 _sshbed_node_pids "$1"
	_sshbed_reap "${_sshbed_pid[$1]:-}"
	unset '_sshbed_pid[$1]'
	_sshbed_export_pids
} 2>/dev/null # the sshd, killed with the rest: no "Killed" notice from bash

# The test user's live processes: "pid" lines.
_sshbed_user_pids() {
	[ -n "$SSHBED_UID" ] || return 0
	ps -e -o pid=,uid=,stat= | awk -v u="$SSHBED_UID" '$2 == u && $3 !~ /^Z/ { print $1 }'
}

sshbed_procs() { _sshbed_user_pids | wc -l; }

sshbed_procs_on() { # I
	local ns=${_sshbed_ns[$1]:-} p n=0
	if [ -n "$ns" ]; then
		for p in $(_sshbed_user_pids); do
			[ "$(stat -L -c %i "/proc/$p/ns/uts" 2>/dev/null)" != "$ns" ] || n=$((n + 1))
		done
	fi
	echo "$n"
}

sshbed_none_left() { # [I]
	if [ $# -gt 0 ]; then
		[ "$(sshbed_procs_on "$1")" -eq 0 ]
	else
		[ "$(sshbed_procs)" -eq 0 ]
	fi
}

# sshbed_check_none_left NAME I...: a test that nothing of the test user
# is left on each node I (waited for, 30 s at most), the processes listed
# if some are.
sshbed_check_none_left() { # NAME I...
	local name=$1 i
	shift
	for i in "$@"; do
		if wait_for 30 sshbed_none_left "$i"; then
			pass "$name: nothing left on node$i"
		else
			fail "$name: nothing left on node$i"
			sshbed_ps | diag
		fi
	done
}

sshbed_ps() {
	local p ns node i
	for p in $(_sshbed_user_pids); do
		ns=$(stat -L -c %i "/proc/$p/ns/uts" 2>/dev/null) || continue
		node='?'
		for i in $(seq 1 "$SSHBED_N"); do
			[ "${_sshbed_ns[$i]:-}" != "$ns" ] || node=node$i
		done
		echo "$p $node $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
	done
}

# Status 1 when a process of the test user is left (then listed), or the
# user could not be deleted.  $SSHBED_UID stays set, for sshbed_procs.
sshbed_stop() {
	local i rc=0
	[ -n "$SSHBED_USER" ] || return 0
	for i in $(seq 1 "$SSHBED_N"); do
		sshbed_kill_node "$i"
		[ -z "$(_sshbed_node_pids "$i")" ] || rc=1
		_sshbed_reap "${_sshbed_pin[$i]:-}"
	done
	# Whatever of the user's escaped the nodes' namespaces (nothing should).
	case $SSHBED_UID in
	''|0|*[!0-9]*) ;;
	*) kill_until_none 50 _sshbed_user_pids || rc=1 ;;
	esac
	if [ "$rc" -ne 0 ]; then
		diag "sshbed_stop: processes left:"
		sshbed_ps | diag
	fi
	_sshbed_userdel || rc=1
	SSHBED_USER='' SSHBED_PORT='' SSHBED_N=0 SSHBED_PIDS=''
	_sshbed_ns=()
	_sshbed_pid=()
	_sshbed_pin=()
	return "$rc"
}

# The EXIT trap: the bed down, then the trap it replaced (setup.sh's
# _tap_exit), which reads the script's exit status from $?.
_sshbed_chain_exit() { # "$(trap -p EXIT)"
	eval "set -- $1"
	_sshbed_prev_exit=${3:-}
	trap _sshbed_exit EXIT
}
_sshbed_exit() {
	local rc=$?
	set +e
	sshbed_stop
	(exit "$rc")
	eval "$_sshbed_prev_exit"
}
