#!/bin/bash
# t2050: the Slurm test bed itself (tests/e2e/slurmbed.sh), which the
# --slurm tests stand on: three nodes up and idle with their CPUs; what an
# allocation tells (SLURM_JOB_NODELIST, SLURM_JOB_CPUS_PER_NODE, `scontrol
# show hostnames`); a step on the node asked for, each node told apart
# (hostname, SLURMD_NODENAME); srun's stdin and stdout streamed, binary
# and unbuffered (-u), the task ending when srun's stdin closes; several
# steps at once; salloc ended (SIGTERM), or killed and its job cancelled,
# leaves no task; a script that fails with this bed and an SSH bed up
# leaves nothing of either; slurmbed_stop leaves nothing.
#
# No check depends on timing: waits poll for what they wait for, with a
# generous bound.

# shellcheck disable=SC2317,SC2016 # functions run through check and wait_for; $ for eval and the tasks
. "$(dirname "$0")/setup.sh"
. "$SRC/slurmbed.sh"

command -v timeout >/dev/null 2>&1 || skip_all "no timeout(1)"

mark=2050.$$$RANDOM # "sleep $mark": a task this script can find

slurmbed_start 3
is "$(slurmbed_run sinfo -h -N -o '%N %T %c' | sort -u)" \
	"node1 idle 2
node2 idle 2
node3 idle 2" "three nodes, idle, 2 CPUs each"
is "$SLURMBED_NODES $SLURM_CONF" "node1 node2 node3 $SLURMBED_DIR/slurm.conf" \
	"SLURMBED_NODES, SLURM_CONF"

# --- what an allocation tells ----------------------------------------------
# shellcheck disable=SC2016 # for salloc's shell
show='echo "$SLURM_JOB_NODELIST $SLURM_JOB_CPUS_PER_NODE $SLURM_JOB_NUM_NODES"; scontrol show hostnames'
run_case "salloc -N3 --exclusive: node[1-3], 2(x3), the hostnames" 0 \
	$'node[1-3] 2(x3) 3\nnode1\nnode2\nnode3\n' \
	-- slurmbed_run timeout 60 salloc -Q -N3 --exclusive sh -c "$show"
run_case "salloc -N2 -n3: node[1-2], 2,1" 0 $'node[1-2] 2,1 2\nnode1\nnode2\n' \
	-- slurmbed_run timeout 60 salloc -Q -N2 -n3 sh -c "$show"

# --- steps in an allocation held open ----------------------------------------
# salloc's command writes its environment, then waits for the gate: the
# steps below get that environment, as they would inside salloc.
# hold_alloc NAME: $alloc (salloc's pid), $job, $alloc_env.
hold_alloc() {
	rm -f "$T/alloc.env" "$T/release"
	# shellcheck disable=SC2016 # for salloc's shell
	$SLURMBED_RUN salloc -Q -N3 --exclusive sh -c \
		'env >"$1.tmp" && mv "$1.tmp" "$1"; while [ ! -e "$2" ]; do sleep 0.05; done' \
		sh "$T/alloc.env" "$T/release" </dev/null >/dev/null 2>"$T/alloc.err" &
	alloc=$!
	if wait_for 60 test -s "$T/alloc.env"; then
		pass "$1: salloc's command runs"
	else
		fail "$1: salloc's command runs"
		diag <"$T/alloc.err"
	fi
	mapfile -t alloc_env < <(grep '^SLURM_' "$T/alloc.env")
	job=$(sed -n 's/^SLURM_JOB_ID=//p' "$T/alloc.env")
}
in_alloc() { slurmbed_run env "${alloc_env[@]}" "$@"; }
step() { in_alloc srun -Q --overlap -N1 -n1 "$@"; }

hold_alloc "allocation 1"
# on_each_node: a task on each node, each saying where it runs, with
# what (srun's environment, its working directory).
# shellcheck disable=SC2016 # the task's shell
on_each_node() {
	(cd "$T" && FOO=bar in_alloc timeout 60 srun -Q --overlap -N3 -n3 \
		sh -c 'echo "$SLURM_PROCID $(hostname) $SLURMD_NODENAME $FOO $(pwd)"' | sort)
}
run_case "srun -N3 -n3: a task on each node, told apart, srun's env and cwd" 0 \
	"0 node1 node1 bar $T
1 node2 node2 bar $T
2 node3 node3 bar $T
" -- on_each_node
run_case "srun -w node2: on node2" 0 $'node2 node2 2\n' -- step -w node2 \
	sh -c 'echo "$(hostname) $SLURMD_NODENAME $SLURM_CPUS_ON_NODE"'
# shellcheck disable=SC2086 # $CCMAP may hold a valgrind prefix
run_case "srun -w node3: the build tree's ccmap runs" 0 '*' -- step -w node3 $CCMAP --version

head -c 1048576 /dev/urandom >"$T/rand"
step -u -w node2 cat <"$T/rand" >"$T/rand.out" 2>"$T/err" && s=0 || s=$?
is "$s" 0 "1 MiB through srun -u cat: status 0"
check "1 MiB through srun -u cat: byte-identical" cmp -s "$T/rand" "$T/rand.out"

# A coprocess: a reply (no newline) comes before srun's stdin closes, and
# closing it ends the task.
# shellcheck disable=SC2016 # the task's shell
coproc SRUN { step -u -w node1 sh -c 'head -c 3 >/dev/null; printf X; cat >/dev/null; printf E' 2>"$T/co.err"; }
co=$SRUN_PID
printf abc >&"${SRUN[1]}"
r=
IFS= read -r -t 30 -N 1 r <&"${SRUN[0]}" || true
is "$r" X "srun -u: the task's reply comes while its stdin is open"
check "srun -u: the task reads on (its cat runs)" \
	wait_for 30 eval '[ "$(slurmbed_procs_on 1 "^cat$")" -eq 1 ]'
co_in=${SRUN[1]}
exec {co_in}>&-
r=
IFS= read -r -t 30 -N 1 r <&"${SRUN[0]}" || true
is "$r" E "srun -u: stdin closed, the task ends"
wait "$co" && s=0 || s=$?
is "$s" 0 "srun -u: srun exits 0"

# Several steps at once, on the CPUs the allocation holds (--overlap).
for w in node1 node1 node2 node3; do
	step -w "$w" sleep "$mark" </dev/null >/dev/null 2>&1 &
done
check "4 steps at once: 4 tasks run" wait_for 30 eval '[ "$(slurmbed_procs "sleep $mark")" -eq 4 ]'
is "$(slurmbed_procs_on 1 "sleep $mark") $(slurmbed_procs_on 2) $(slurmbed_steps)" "2 1 4" \
	"4 steps: 2 on node1, 1 on node2, squeue lists 4 steps"
# SIGTERM: the allocation is given up, its steps cancelled; salloc waits
# for its command, which gets no signal.
kill -TERM "$alloc"
slurmbed_check_none_left "SIGTERM to salloc"
check "SIGTERM to salloc: no job left" wait_for 30 slurmbed_no_jobs
check "SIGTERM to salloc: salloc waits for its command" test -e "/proc/$alloc"
: >"$T/release"
if wait_for 30 gone "$alloc"; then
	pass "SIGTERM to salloc: salloc ends with its command"
else
	fail "SIGTERM to salloc: salloc ends with its command"
fi

check "the nodes are idle again" wait_for 30 slurmbed_idle
hold_alloc "allocation 2"
step -w node3 sleep "$mark" </dev/null >/dev/null 2>&1 &
check "allocation 2: a task runs" wait_for 30 eval '[ "$(slurmbed_procs_on 3 "sleep $mark")" -eq 1 ]'
{ kill -KILL "$alloc"; wait "$alloc" || true; } 2>/dev/null # no "Killed" notice
is "$(slurmbed_jobs) $(slurmbed_procs "sleep $mark")" "1 1" "SIGKILL to salloc: the job and its task go on"
slurmbed_run scancel "$job"
: >"$T/release" # salloc's command, orphaned, ends
slurmbed_check_none_left "scancel"
check "scancel: no job left" wait_for 30 slurmbed_no_jobs

# --- a script that fails with an SSH bed and this bed up ---------------------
cat >"$T/child.sh" <<EOF
. "$SRC/setup.sh"
. "$SRC/sshbed.sh"
. "$SRC/slurmbed.sh"
sshbed_start 1
slurmbed_start 1
slurmbed_run salloc -Q -N1 srun -Q sleep $mark </dev/null >/dev/null 2>&1 &
i=0; while [ "\$(slurmbed_procs)" -lt 1 ] && [ \$i -lt 600 ]; do sleep 0.05; i=\$((i + 1)); done
echo "\$SLURMBED_NS \$SSHBED_USER \$(slurmbed_procs) \${_slurmbed_pids[*]}" >"$T/child.info"
false # set -e ends the script here
EOF
timeout 120 bash "$T/child.sh" >"$T/child.out" 2>&1 && s=0 || s=$?
if [ "$s" -eq 0 ] && grep -q '^1\.\.0 # SKIP' "$T/child.out"; then
	# (sshbed.sh skipped it: no sshd, say.)
	skip "a child failing with both beds up" "$(sed -n 's/^1\.\.0 # SKIP //p' "$T/child.out")"
else
	is "$s" 1 "a child failing with both beds up: status 1"
	check "the failing child's TAP says it died" \
		grep -q "^not ok 1 - script ran to the end" "$T/child.out"
	cns='' cuser='' cprocs='' cpids=''
	[ ! -s "$T/child.info" ] || read -r cns cuser cprocs cpids <"$T/child.info"
	is "$cprocs $(echo "$cpids" | wc -w)" "1 3" "the child's bed had a task and its 3 daemons"
	[ -n "$cuser" ] || diag <"$T/child.out"
	left=
	for p in $cpids; do gone "$p" || left="$left $p"; done
	is "$(ip netns list | grep -c "^$cns\\b")" 0 "the child's namespace is deleted"
	is "$left" "" "the child's daemons are gone"
	is "$(getent passwd "$cuser")" "" "the child's SSH user is deleted"
	is "$(sleeps_left "$mark")" "" "the child's task is gone, and none of this bed's"
fi

# --- slurmbed_stop ------------------------------------------------------------
slurmbed_run salloc -Q -N2 srun -Q --overlap -N2 -n2 sleep "$mark" </dev/null >/dev/null 2>&1 &
check "a job with a task on each of two nodes" \
	wait_for 30 eval '[ "$(slurmbed_procs "sleep $mark")" -eq 2 ]'
ns=$SLURMBED_NS
pids=$(slurmbed_ps | awk '{ print $1 }')
check "slurmbed_stop: status 0" slurmbed_stop
left=
for p in $pids; do gone "$p" || left="$left $p"; done
is "$left" "" "slurmbed_stop: every process of the bed is gone"
is "$(ip netns list | grep -c "^$ns\\b")" 0 "slurmbed_stop: its namespace is deleted"

done_testing
