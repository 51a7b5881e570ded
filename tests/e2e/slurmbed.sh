# tests/e2e/slurmbed.sh: a test bed of Slurm nodes on this machine, for the
# tests of --slurm.  Sourced after setup.sh (bash).  This machine's own
# Slurm (Debian: slurmctld slurmd slurm-client munge; verified with 22.05):
# a munged, a slurmctld and one slurmd per node, all in a network namespace
# of this bed's own (`ip netns`, only lo in it, 127.0.0.2/32 added: Slurm's
# getaddrinfo wants an address besides 127.0.0.1), so nothing listens
# outside it and two beds never meet (nor their ports).  Several slurmds on
# one machine work with Debian's build: NodeName=nodeI NodeAddr=127.0.0.1I
# Port=P+I, `slurmd -N nodeI`, %n in the spool dir, pid and log files.
# Each slurmd runs in a UTS namespace of its own (unshare --uts) with the
# hostname nodeI, and so does everything it starts: a task tells its node
# by `hostname` as well as by $SLURMD_NODENAME.  Needs root.
#
#   slurmbed_start [N [CPUS]]  nodes node1..nodeN (N in 1..9, default 2),
#                         CPUS CPUs each (default 2, any number: the
#                         slurmds report what slurm.conf says), in
#                         partition "debug" (the default), up and idle
#                         (waited for: 60 s at most; it takes 1-2 s).
#                         Calls skip_all, with the reason (and the daemons'
#                         logs as diag), when not root, when a command is
#                         missing (slurmctld slurmd salloc srun scontrol
#                         squeue sinfo scancel munged ip unshare setpriv),
#                         when a network namespace cannot be made, or when
#                         Slurm does not come up; if the script has run a
#                         test already, it fails (status 1) instead.
#                         Unsets the SLURM_*, SALLOC_*, SRUN_*, SQUEUE_*
#                         ... variables the script inherited (a CI job that
#                         runs inside a real allocation).  Takes down the
#                         beds that scripts killed with SIGKILL left (their
#                         namespace named after a PID that is gone: every
#                         process in it killed, the namespace deleted).
#                         Sets and exports:
#       SLURM_CONF        $SLURMBED_DIR/slurm.conf (Slurm's commands read it;
#                         they work only inside the namespace: slurmbed_run)
#       SLURMBED_NS       the network namespace (ccmap-slurm-PID-RANDOM)
#       SLURMBED_DIR      $T/slurmbed: slurm.conf, cgroup.conf, log/
#                         (slurmctld.log, slurmd.nodeI.log, *.out: the
#                         daemons' stderr), spool/nodeI, state/, munge/
#       SLURMBED_N, SLURMBED_CPUS   N and CPUS
#       SLURMBED_NODES    "node1 node2 ..."
#       SLURMBED_PORT     slurmctld's port (P); node I's slurmd's is P+I.
#                         P is drawn from $$ in 20000-28990; the namespace
#                         makes it private anyway.
#       SLURMBED_RUN      "ip netns exec $SLURMBED_NS", to be written
#                         unquoted: `$SLURMBED_RUN salloc ... &` gives
#                         salloc's pid in $! (ip execs its command), where
#                         `slurmbed_run salloc ... &` gives a subshell's
#   slurmbed_run CMD...   CMD (a command, not a function) in the namespace,
#                         e.g. slurmbed_run salloc -Q -N2 sh -c '...'.  The
#                         same file system, as root, this script's
#                         environment: the build tree's ccmap runs as is,
#                         in salloc and in a task.
#   slurmbed_procs [ERE]  how many task processes this bed runs: those of
#                         its steps, and whatever they started, also when
#                         orphaned (everything on a node: in the namespace
#                         and in a node's UTS namespace, but the slurmds
#                         and slurmstepds); not what slurmbed_run started,
#                         such as salloc, srun or a ccmap under them.  Only
#                         those whose command line (its words joined by
#                         spaces) matches ERE (awk) if given.  Zombies are
#                         never counted.
#   slurmbed_procs_on I [ERE]  the same, on node I only (told apart by the
#                         UTS namespace)
#   slurmbed_none_left [ERE]  status 0 when slurmbed_procs [ERE] is 0 (for
#                         wait_for)
#   slurmbed_check_none_left NAME [ERE]  a test that no task process
#                         [matching ERE] is left (waited for, 30 s at most),
#                         the bed's processes listed if some are
#   slurmbed_jobs         how many jobs squeue lists (any state it shows:
#                         pending, running, completing), "?" and status 1
#                         if squeue fails
#   slurmbed_steps        how many job steps squeue -s lists (the same)
#   slurmbed_no_jobs      status 0 when squeue answers and lists no job
#   slurmbed_idle         status 0 when no job is listed and every node is
#                         idle (for wait_for: a job just ended leaves its
#                         nodes "completing" for a moment)
#   slurmbed_ps           every process in the namespace (pid, ppid, node or
#                         "-" when not a node's, command line), for diag
#   slurmbed_stop         the bed down: the jobs cancelled (scancel), then
#                         every process in the namespace killed (SIGKILL,
#                         until none is left: tasks, slurmstepds, srun and
#                         salloc too), the daemons reaped, the namespace
#                         deleted.  Status 1 if a process was left (then
#                         listed).  Also run when the script exits, however
#                         it exits (the EXIT trap chains with the one
#                         before it: setup.sh's, or sshbed.sh's when
#                         sshbed_start ran first; either order works).
#
# What Slurm 22.05 does here (t2050 checks most of it):
#   - salloc -N2 gives SLURM_JOB_NODELIST=node[1-2] and
#     SLURM_JOB_CPUS_PER_NODE=1(x2): one CPU a node unless asked for
#     (SelectType=select/cons_tres, CR_Core); with --exclusive (or -c2)
#     2(x2); -N2 -n3: "2,1".  salloc runs its command here, not on a node
#     (no use_interactive_step), with SLURM_JOB_ID, SLURM_JOB_NUM_NODES,
#     SLURM_NNODES, SLURM_NODELIST, SLURM_TASKS_PER_NODE, SLURM_CLUSTER_NAME
#     (cctest) and SLURM_CONF; `scontrol show hostnames` (no argument) lists
#     $SLURM_JOB_NODELIST's nodes one a line.
#   - A task gets srun's environment (--export=ALL) plus SLURMD_NODENAME=
#     nodeI, SLURM_STEP_ID, SLURM_STEP_NODELIST, SLURM_PROCID, SLURM_LOCALID,
#     SLURM_NODEID, SLURM_CPUS_ON_NODE, SLURM_TASK_PID, SLURM_JOB_*...; its
#     working directory is srun's; it runs as root (srun's user).
#   - Inside an allocation, `srun --overlap -N1 -n1 -w nodeI CMD` starts a
#     step at once even when others hold the node's CPUs (without --overlap
#     it waits for free CPUs: "srun: Job 1 step creation temporarily
#     disabled, retrying (Requested nodes are busy)").  -Q only quiets
#     srun's own notices; slurmstepd's ("*** STEP 5.1 ON node1 CANCELLED
#     ...") and srun's errors ("srun: error: node1: task 0: Exited with
#     exit code 3") still come on srun's stderr.  srun's status is the
#     task's (3 there).
#   - srun's stdin reaches the task (with -n1, its one task) as it comes,
#     byte for byte; the task reads EOF when srun's stdin closes.
#   - srun's stdout: without -u/--unbuffered, slurmstepd passes the task's
#     output on by lines: bytes after the last newline wait for the next
#     newline (or the end).  A binary protocol needs -u: then the task's
#     stdout is a pseudo terminal (isatty(1) is true; stdin and stderr stay
#     pipes) in raw mode (-opost: no \n to \r\n), and every byte comes as
#     soon as written; 1 MiB of random bytes comes through byte-identical
#     either way.
#   - salloc on SIGTERM gives the allocation up (the steps are cancelled,
#     their tasks killed) but waits for its command, which gets no signal
#     (its sruns end, their steps gone); on SIGHUP, it gives the allocation
#     up and ends, with its command.  salloc killed with SIGKILL leaves the
#     job, its steps and the command running, until scancel.  scancel
#     sends SIGTERM, then SIGKILL after KillWait (3 s here; Slurm's
#     default is 30).
#   - slurmstepd daemonizes (its parent: PID 1 or a subreaper); where PID 1
#     does not reap orphans (this sandbox), dead slurmstepds and sruns
#     stay zombies, which nothing here counts.
#
# Waits poll for what they wait for, with a bound: never a fixed sleep.

SLURMBED_NS='' SLURMBED_DIR=$T/slurmbed SLURMBED_N=0 SLURMBED_CPUS=0
SLURMBED_NODES='' SLURMBED_PORT='' SLURMBED_RUN=''
_slurmbed_ino=      # the namespace's inode (/run/netns/NAME)
_slurmbed_pids=()   # the daemons, children of this shell: munged, slurmctld, slurmds
_slurmbed_slurmd=() # node -> its slurmd's pid
_slurmbed_uts=()    # node -> its UTS namespace's inode
_slurmbed_prev_exit=

slurmbed_run() {
	ip netns exec "$SLURMBED_NS" "$@"
}

# The pids of the processes in the namespace (zombies have left it), or in
# the one of inode INO.
_slurmbed_ns_pids() { # [INO]
	local ino=${1:-$_slurmbed_ino}
	[ -n "$ino" ] || return 0
	stat -L -c '%i %n' /proc/[0-9]*/ns/net 2>/dev/null |
		awk -v ns="$ino" '$1 == ns { split($2, f, "/"); print f[3] }'
}

# _slurmbed_tasks [ERE]: "pid node" of each task process (see
# slurmbed_procs): a process in the namespace and in a node's UTS namespace
# (where its slurmd, hence every slurmstepd and task, runs), but the
# slurmds and slurmstepds.  A few processes started, whatever the number
# of processes on the machine: cheap enough for wait_for.
_slurmbed_tasks() {
	local p comm files=()
	for p in $(_slurmbed_ns_pids); do
		comm=
		read -r comm 2>/dev/null <"/proc/$p/comm" || continue
		case $comm in
		slurmd|slurmstepd) ;;
		*) files+=("/proc/$p/ns/uts") ;;
		esac
	done
	[ ${#files[@]} -gt 0 ] || return 0
	# (A zombie's namespaces cannot be read: stat leaves it out.)
	stat -L -c '%i %n' "${files[@]}" 2>/dev/null |
		awk -v nodes="${_slurmbed_uts[*]}" '
			BEGIN { n = split(nodes, u, " "); for (i = 1; i <= n; i++) node[u[i]] = i }
			$1 in node { split($2, f, "/"); print f[3], node[$1] }' |
		if [ -n "${1:-}" ]; then
			_slurmbed_match "$1"
		else
			cat
		fi
}
# _slurmbed_match ERE: the "pid node" lines whose process's command line
# matches ERE.
_slurmbed_match() {
	local p node args
	while read -r p node; do
		args=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) || continue
		args=${args% }
		awk -v s="$args" -v ere="$1" 'BEGIN { exit !(s ~ ere) }' && echo "$p $node"
	done
}

slurmbed_procs() { # [ERE]
	_slurmbed_tasks "${1:-}" | wc -l
}

slurmbed_procs_on() { # I [ERE]
	_slurmbed_tasks "${2:-}" | awk -v i="$1" '$2 == i { n++ } END { print n + 0 }'
}

slurmbed_none_left() { # [ERE]
	[ "$(slurmbed_procs "${1:-}")" -eq 0 ]
}

slurmbed_check_none_left() { # NAME [ERE]
	if _slurmbed_wait 30 slurmbed_none_left "${2:-}"; then
		pass "$1: no task process left"
	else
		fail "$1: no task process left"
		slurmbed_ps | diag
	fi
}

# _slurmbed_count ARG...: the lines squeue -h ARG... prints.
_slurmbed_count() {
	local out
	if out=$(slurmbed_run squeue -h "$@" 2>/dev/null); then
		printf '%s' "$out" | grep -c . || true
	else
		echo '?'
		return 1
	fi
}
slurmbed_jobs() { _slurmbed_count -o %i; }
slurmbed_steps() { _slurmbed_count -s -o %i; }
slurmbed_no_jobs() { [ "$(slurmbed_jobs)" = 0 ]; }

# The nodes' states, "nodeI STATE" (idle, mixed, allocated, completing,
# down*, ...), sorted.
_slurmbed_states() {
	slurmbed_run sinfo -h -N -o '%N %T' 2>/dev/null | sort -u
}
_slurmbed_all_idle() {
	[ "$(_slurmbed_states | awk '$2 == "idle" { n++ } END { print n + 0 }')" -eq "$SLURMBED_N" ]
}
slurmbed_idle() { slurmbed_no_jobs && _slurmbed_all_idle; }

slurmbed_ps() {
	local p i node uts
	for p in $(_slurmbed_ns_pids); do
		uts=$(stat -L -c %i "/proc/$p/ns/uts" 2>/dev/null) || continue
		node=-
		for i in $(seq 1 "$SLURMBED_N"); do
			[ "${_slurmbed_uts[$i]:-}" != "$uts" ] || node=node$i
		done
		echo "$p $(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null) $node" \
			"$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
	done
}

# _slurmbed_give_up REASON: the logs' tails as diag, the bed down, and the
# script skipped (or, when it ran a test already, status 1).
_slurmbed_give_up() {
	local f
	diag "slurmbed: $1"
	for f in "$SLURMBED_DIR"/log/* "$SLURMBED_DIR"/munge/munged.log; do
		[ -s "$f" ] || continue
		diag "--- the end of ${f#"$SLURMBED_DIR"/}:"
		tail -n 12 "$f" | diag
	done
	slurmbed_stop || true
	# shellcheck disable=SC2154 # setup.sh's count of tests
	[ "$_tap_n" -ne 0 ] || skip_all "the Slurm test bed: $1 (see the diagnostics)"
	return 1
}

_slurmbed_write_configs() {
	local d=$SLURMBED_DIR i
	{
		echo "# ccmap's Slurm test bed (tests/e2e/slurmbed.sh)"
		printf '%s\n' ClusterName=cctest 'SlurmctldHost=localhost(127.0.0.1)' \
			"SlurmctldPort=$SLURMBED_PORT" "SlurmdPort=$((SLURMBED_PORT + 10))" \
			AuthType=auth/munge "AuthInfo=socket=$d/mungerun/munge.socket" \
			CredType=cred/munge SlurmUser=root SlurmdUser=root \
			"StateSaveLocation=$d/state" "SlurmdSpoolDir=$d/spool/%n" \
			"SlurmctldPidFile=$d/slurmctld.pid" "SlurmdPidFile=$d/slurmd.%n.pid" \
			"SlurmctldLogFile=$d/log/slurmctld.log" "SlurmdLogFile=$d/log/slurmd.%n.log" \
			ProctrackType=proctrack/linuxproc TaskPlugin=task/none \
			JobAcctGatherType=jobacct_gather/none \
			AccountingStorageType=accounting_storage/none \
			SelectType=select/cons_tres SelectTypeParameters=CR_Core \
			SlurmdParameters=config_overrides MpiDefault=none MailProg=/bin/true \
			ReturnToService=2 KillWait=3
		for i in $(seq 1 "$SLURMBED_N"); do
			echo "NodeName=node$i NodeAddr=127.0.0.1$i Port=$((SLURMBED_PORT + i))" \
				"CPUs=$SLURMBED_CPUS State=UNKNOWN"
		done
		echo "PartitionName=debug Nodes=node[1-$SLURMBED_N] Default=YES MaxTime=INFINITE State=UP"
	} >"$d/slurm.conf"
	# Slurm 22.05's autodetection of the cgroup version fails in some
	# sandboxes: v1 named (proctrack/linuxproc and task/none use none).
	printf '%s\n' CgroupPlugin=cgroup/v1 CgroupMountpoint=/sys/fs/cgroup \
		CgroupAutomount=no ConstrainCores=no ConstrainRAMSpace=no \
		ConstrainDevices=no >"$d/cgroup.conf"
}

# _slurmbed_wait BOUND CMD...: poll CMD until it succeeds, BOUND seconds at
# most by the clock (wait_for counts rounds, and a round of scontrol or
# sinfo takes a while on a busy machine); status 1 then, or at once when
# CMD's status is 2 (it never will).
_slurmbed_wait() {
	local end=$((SECONDS + $1)) rc
	shift
	while :; do
		rc=0
		"$@" || rc=$?
		case $rc in 0|2) return "$rc" ;; esac
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.05
	done
}

# _slurmbed_alive: status 0 while every daemon runs, else 2.
_slurmbed_alive() {
	local p
	for p in "${_slurmbed_pids[@]}"; do
		! gone "$p" || return 2
	done
}
# Status 0 when up, 1 when not yet, 2 when a daemon is gone.
_slurmbed_munge_up() {
	_slurmbed_alive || return
	[ -S "$SLURMBED_DIR/mungerun/munge.socket" ]
}
_slurmbed_ctld_up() {
	_slurmbed_alive || return
	slurmbed_run scontrol ping 2>/dev/null | grep -q 'is UP'
}
_slurmbed_nodes_up() {
	_slurmbed_alive || return
	_slurmbed_all_idle
}

slurmbed_start() { # [N [CPUS]]
	local n=${1:-2} cpus=${2:-2} d c i v pid
	case $n in
	[1-9]) ;;
	*) echo "slurmbed_start: N must be in 1..9" >&2; return 2 ;;
	esac
	case $cpus in
	''|0*|*[!0-9]*) echo "slurmbed_start: CPUS must be a positive number" >&2; return 2 ;;
	esac
	if [ -n "$SLURMBED_NS" ]; then
		echo "slurmbed_start: the bed is already up (slurmbed_stop first)" >&2
		return 2
	fi
	[ "$(id -u)" -eq 0 ] ||
		skip_all "the Slurm test bed needs root (a network namespace, munged, slurmd)"
	case :$PATH: in
	*:/usr/sbin:*) ;;
	*) PATH=$PATH:/usr/sbin:/sbin ;; # slurmctld, slurmd, munged, ip
	esac
	for c in slurmctld slurmd salloc srun scontrol squeue sinfo scancel munged; do
		command -v "$c" >/dev/null 2>&1 ||
			skip_all "no $c (Debian: slurmctld slurmd slurm-client munge)"
	done
	for c in ip unshare setpriv stat ps; do
		command -v "$c" >/dev/null 2>&1 || skip_all "no $c"
	done
	id munge >/dev/null 2>&1 || skip_all "no munge user (Debian: munge)"
	case $(trap -p EXIT) in
	*_slurmbed_exit*) ;;
	*) _slurmbed_chain_exit "$(trap -p EXIT)" ;;
	esac
	# Inherited settings (a real allocation's) would reach this bed's
	# commands.
	for v in $(compgen -e); do
		case $v in
		SLURM_*|SALLOC_*|SRUN_*|SBATCH_*|SQUEUE_*|SINFO_*|SCANCEL_*|SCONTROL_*) unset "$v" ;;
		esac
	done
	SLURMBED_N=$n SLURMBED_CPUS=$cpus SLURMBED_NODES=
	for i in $(seq 1 "$n"); do
		SLURMBED_NODES="$SLURMBED_NODES${SLURMBED_NODES:+ }node$i"
	done
	SLURMBED_PORT=$((20000 + ($$ * 37 % 900) * 10))
	d=$SLURMBED_DIR
	SLURM_CONF=$d/slurm.conf
	export SLURM_CONF SLURMBED_NS SLURMBED_RUN SLURMBED_DIR SLURMBED_N SLURMBED_CPUS \
		SLURMBED_NODES SLURMBED_PORT

	# munged wants each directory on the way to its socket searchable by
	# all, and its key's directory its own.
	chmod 755 "$T"
	rm -rf "$d"
	mkdir -p "$d/munge" "$d/mungerun" "$d/state" "$d/log"
	for i in $(seq 1 "$n"); do mkdir -p "$d/spool/node$i"; done
	chown munge: "$d/munge" "$d/mungerun"
	chmod 700 "$d/munge"
	chmod 755 "$d/mungerun"
	head -c 1024 /dev/urandom >"$d/munge/munge.key"
	chown munge: "$d/munge/munge.key"
	chmod 400 "$d/munge/munge.key"
	_slurmbed_write_configs

	_slurmbed_reap_stale
	# The namespace: a name of this bed's own.
	for i in $(seq 1 20); do
		SLURMBED_NS=ccmap-slurm-$$-$RANDOM
		[ -e "/run/netns/$SLURMBED_NS" ] || break
	done
	SLURMBED_RUN="ip netns exec $SLURMBED_NS"
	if ! ip netns add "$SLURMBED_NS" 2>"$d/log/netns.out"; then
		SLURMBED_NS='' SLURMBED_RUN=
		_slurmbed_give_up "ip netns add failed: $(cat "$d/log/netns.out")" || return 1
	fi
	_slurmbed_ino=$(stat -L -c %i "/run/netns/$SLURMBED_NS")
	if ! { slurmbed_run ip link set lo up &&
		slurmbed_run ip addr add 127.0.0.2/32 dev lo; } 2>>"$d/log/netns.out"; then
		_slurmbed_give_up "the namespace's lo did not come up" || return 1
	fi

	# The daemons, in the foreground, children of this shell (`ip netns
	# exec`, setpriv and unshare exec: $! is the daemon; it would be a
	# subshell's with slurmbed_run, a function).
	$SLURMBED_RUN setpriv --reuid=munge --regid=munge --clear-groups \
		munged -F --socket="$d/mungerun/munge.socket" \
		--key-file="$d/munge/munge.key" --pid-file="$d/mungerun/munged.pid" \
		--log-file="$d/munge/munged.log" --seed-file="$d/munge/munged.seed" \
		</dev/null >"$d/log/munged.out" 2>&1 &
	_slurmbed_pids=("$!")
	_slurmbed_wait 20 _slurmbed_munge_up ||
		{ _slurmbed_give_up "munged did not start" || return 1; }

	$SLURMBED_RUN slurmctld -D -i -f "$SLURM_CONF" </dev/null >"$d/log/slurmctld.out" 2>&1 &
	_slurmbed_pids+=("$!")
	_slurmbed_wait 60 _slurmbed_ctld_up ||
		{ _slurmbed_give_up "slurmctld did not come up" || return 1; }

	for i in $(seq 1 "$n"); do
		# shellcheck disable=SC2016 # $1, $2 are sh's
		$SLURMBED_RUN unshare --uts sh -c 'hostname "$1" && exec slurmd -D -N "$1" -f "$2"' \
			sh "node$i" "$SLURM_CONF" </dev/null >"$d/log/slurmd.node$i.out" 2>&1 &
		pid=$!
		_slurmbed_pids+=("$pid")
		_slurmbed_slurmd[i]=$pid
	done
	if ! _slurmbed_wait 60 _slurmbed_nodes_up; then
		_slurmbed_states | diag
		_slurmbed_give_up "the nodes did not come up idle" || return 1
	fi
	for i in $(seq 1 "$n"); do
		_slurmbed_uts[i]=$(stat -L -c %i "/proc/${_slurmbed_slurmd[i]}/ns/uts")
	done
}

# _slurmbed_reap_stale: the beds of scripts that died without cleaning up
# (SIGKILL, say): in each namespace ccmap-slurm-PID-* whose PID is gone,
# every process killed, and the namespace deleted.
_slurmbed_reap_stale() {
	local f name pid ino
	for f in /run/netns/ccmap-slurm-*; do
		[ -e "$f" ] || continue
		name=${f##*/}
		pid=${name#ccmap-slurm-}
		pid=${pid%%-*}
		case $pid in ''|*[!0-9]*) continue ;; esac
		[ ! -e "/proc/$pid" ] || continue
		ino=$(stat -L -c %i "$f" 2>/dev/null) || continue
		kill_until_none 100 _slurmbed_ns_pids "$ino" || true
		ip netns del "$name" 2>/dev/null || true
	done
}

slurmbed_stop() {
	local rc=0 p ids
	[ -n "$SLURMBED_NS" ] || return 0
	# The jobs cancelled while slurmctld answers: their tasks get
	# SIGTERM.  (What is left is killed below anyway.)
	if _slurmbed_ctld_up; then
		ids=$(slurmbed_run squeue -h -o %i 2>/dev/null) || ids=
		if [ -n "$ids" ]; then
			# shellcheck disable=SC2086 # a list of job ids
			slurmbed_run timeout 10 scancel $ids 2>/dev/null || true
		fi
	fi
	kill_until_none 100 _slurmbed_ns_pids || rc=1
	for p in "${_slurmbed_pids[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ "$rc" -ne 0 ]; then
		diag "slurmbed_stop: processes left in $SLURMBED_NS:"
		slurmbed_ps | diag
	fi
	ip netns del "$SLURMBED_NS" 2>/dev/null || rc=1
	SLURMBED_NS='' SLURMBED_RUN='' SLURMBED_N=0 SLURMBED_NODES='' _slurmbed_ino=''
	_slurmbed_pids=()
	_slurmbed_slurmd=()
	_slurmbed_uts=()
	return "$rc"
} 2>/dev/null # no "Killed" notice from bash

# The EXIT trap: the bed down, then the trap it replaced (setup.sh's
# _tap_exit, or sshbed.sh's), which reads the script's exit status from $?.
_slurmbed_chain_exit() { # "$(trap -p EXIT)"
	eval "set -- $1"
	_slurmbed_prev_exit=${3:-}
	trap _slurmbed_exit EXIT
}
_slurmbed_exit() {
	local rc=$?
	set +e
	slurmbed_stop
	(exit "$rc")
	eval "$_slurmbed_prev_exit"
}
