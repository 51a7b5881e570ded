#!/bin/bash
# t2051: --slurm on a real Slurm (tests/e2e/slurmbed.sh: two nodes of 2
# CPUs, each a host of its own): the hosts and their slots come from the
# allocation; output, statuses and stderr as locally; each node's jobs
# over one ccmap --worker, started as one job step for the whole run,
# never a step per job; a plugin (--so) maps there byte for byte as here;
# a worker killed on its node loses nothing and writes nothing twice (its
# jobs run again, on a new step); TERM, or SIGKILL, to ccmap leaves no
# task on the nodes; the refusals, one line each, before any job.
#
# No check depends on timing: jobs that must be running wait at a gate
# file, and the test waits for them with a generous bound.

# shellcheck disable=SC2317,SC2016 # functions run through check and wait_for; $ for the jobs
. "$(dirname "$0")/setup.sh"
top=${top_srcdir:-$SRC/../..}
. "$SRC/slurmbed.sh"

command -v timeout >/dev/null 2>&1 || skip_all "no timeout(1)"

slurmbed_start 2 2
G=$T/gates
mkdir -m 777 "$G"
bin=${CCMAP##* }
LEN=$(cd "$(dirname "$bin")" && pwd)/src/plugins/.libs/len.so
[ -f "$LEN" ] || LEN=$top/src/plugins/.libs/len.so

# An allocation of both nodes, whole (2 CPUs each), held open: salloc's
# command writes its environment and waits; ccmap runs with that
# environment, as it would in salloc or in an sbatch script.
rm -f "$T/alloc.env"
$SLURMBED_RUN salloc -Q -N2 --exclusive sh -c \
	'env >"$1.tmp" && mv "$1.tmp" "$1"; while [ ! -e "$2" ]; do sleep 0.05; done' \
	sh "$T/alloc.env" "$G/release" </dev/null >/dev/null 2>"$T/alloc.err" &
alloc=$!
if ! wait_for 60 test -s "$T/alloc.env"; then
	diag <"$T/alloc.err"
	fail "an allocation of the two nodes"
	done_testing
	exit
fi
mapfile -t alloc_env < <(grep '^SLURM_' "$T/alloc.env")
is "$(grep -E '^SLURM_JOB_(NODELIST|CPUS_PER_NODE)=' "$T/alloc.env" | sort)" \
	"SLURM_JOB_CPUS_PER_NODE=2(x2)
SLURM_JOB_NODELIST=node[1-2]" "the allocation: node[1-2], 2 CPUs each"
in_alloc() { slurmbed_run env "${alloc_env[@]}" "$@"; }
# The number of the next step of the allocation (a step that says its own).
next_step() {
	in_alloc timeout 60 srun -Q --overlap -N1 -n1 -w node1 \
		sh -c 'echo "$SLURM_STEP_ID"'
}
# The workers on node I: ccmap --worker processes (not their guards).
workers_on() { # I
	slurmbed_ps | awk -v node="node$1" '$3 == node && / --worker/ { print $1 }' |
		worker_pids | wc -l
}

# --- as locally -----------------------------------------------------------
cmd='echo {} $CCMAP_SEQ; echo e{} >&2; exit $(( {} % 4 ))'
run_case "locally" 5 "*" -- "$CCMAP" -k -j2 "$cmd" ::: 1 2 3 4 5 6
want_out=$OUT want_err=$ERR
run_case "--slurm: output and status as locally" 5 "$want_out" \
	-- in_alloc "$CCMAP" -k --slurm "$cmd" ::: 1 2 3 4 5 6
is "$ERR" "$want_err" "--slurm: stderr as locally"

# --- the nodes, their slots, one step each for the whole run --------------
before=$(next_step)
run_case "--slurm: 200 jobs" 0 "*" -- in_alloc "$CCMAP" -k --slurm \
	'echo {} $CCMAP_HOST $(hostname) $CCMAP_SLOT' ::: $(seq 200)
after=$(next_step)
check "--slurm: every job once, in order" \
	cmp -s <(awk '{ print $1 }' "$T/out") <(seq 200)
is "$(awk '$2 != $3' "$T/out")" "" "--slurm: CCMAP_HOST is the node the job ran on"
is "$(awk '{ print $2 }' "$T/out" | sort -u | tr '\n' ' ')" "node1 node2 " \
	"--slurm: both nodes ran jobs"
is "$(awk '$4 < 1 || $4 > 2' "$T/out")" "" \
	"--slurm: 2 slots a node (SLURM_JOB_CPUS_PER_NODE): CCMAP_SLOT 1 or 2"
is "$((after - before - 1))" 2 "--slurm: 200 jobs, 2 job steps (one a node)"

run_case "--slurm: the worker's step has the node's 2 CPUs" 0 "cpus=2 x
" -- in_alloc "$CCMAP" --slurm 'echo cpus=$SLURM_CPUS_PER_TASK' ::: x
run_case "--slurm -j1: one slot a node" 0 "*" -- in_alloc "$CCMAP" --slurm -j1 \
	'echo $CCMAP_SLOT' ::: $(seq 20)
is "$(awk '{ print $1 }' "$T/out" | sort -u)" "1" "--slurm -j1: CCMAP_SLOT 1 only"

seq 4 | in_alloc "$CCMAP" --slurm \
	"touch $G/w.{}; while [ ! -e $G/go ]; do sleep 0.1; done" &
pid=$!
four_at() { [ "$(find "$G" -name 'w.*' | wc -l)" -eq 4 ]; }
check "4 jobs running" wait_for 60 four_at
is "$(workers_on 1) $(workers_on 2)" "1 1" "one worker on each node"
is "$(slurmbed_steps)" 2 "two steps, for 4 jobs"
touch "$G/go"
ends "4 jobs at a gate" "$pid"
rm -f "$G"/w.* "$G/go"

# --- --json, --results: recorded here -------------------------------------
no_duration() { sed 's/"duration":[0-9.e+-]*,//'; }
"$CCMAP" --json "$cmd" ::: 1 2 3 2>/dev/null | no_duration >"$T/json-local" || true
run_case "--slurm --json: runs" 3 '*' -- in_alloc "$CCMAP" --slurm --json "$cmd" ::: 1 2 3
is "$(no_duration <"$T/out")" "$(cat "$T/json-local")" "--slurm --json: the records as locally"
"$CCMAP" --results "$T/res-local" "$cmd" ::: 1 2 >/dev/null 2>&1 || true
run_case "--slurm --results: runs" 2 '*' -- in_alloc "$CCMAP" --slurm \
	--results "$T/res-slurm" "$cmd" ::: 1 2
check "--slurm --results: the files as locally" diff -r "$T/res-local" "$T/res-slurm"

# --- a plugin -------------------------------------------------------------
seq 20000 | sed 's/^/item /' >"$T/lines"
"$CCMAP" --so "$LEN" <"$T/lines" >"$T/local" 2>&1
run_case "--slurm --so len: as --so here, byte for byte" 0 "$(cat "$T/local")
" --stdin "$(cat "$T/lines")
" -- in_alloc "$CCMAP" --slurm --so "$LEN"
is "$ERR" "" "--slurm --so len: nothing on stderr"

# --- a worker killed on its node: nothing lost, nothing twice -------------
# Jobs 1-4 wait at a gate (2 on each node); node1's worker is killed; its
# jobs die with it and run again.
seq 8 | in_alloc "$CCMAP" -k --slurm \
	"echo {} >>$G/ran.\$(hostname); touch $G/at.{}; while [ ! -e $G/go ]; do sleep 0.1; done; echo {}" \
	>"$T/out" 2>"$T/err" &
pid=$!
four_at_gate() { [ "$(find "$G" -name 'at.*' | wc -l)" -ge 4 ]; }
check "worker killed: 4 jobs at the gate" wait_for 60 four_at_gate
wpid=$(slurmbed_ps | awk '$3 == "node1" && / --worker/ { print $1 }' |
	worker_pids | head -1)
check "worker killed: node1's worker found" test -n "$wpid"
node1_jobs=$(sort -n "$G/ran.node1" 2>/dev/null | tr '\n' ' ')
old=$(slurmbed_ps | awk '$3 == "node1" && /while \[ ! -e/ { print $1 }')
check "worker killed: its jobs were there" test -n "$old"
kill -KILL "$wpid"
all_gone() { local p; for p in $old; do gone "$p" || return 1; done; }
check "worker killed: its jobs die with it" wait_for 60 all_gone
worker_killed_ends "worker killed" "$pid" 8 "$node1_jobs" "$G"/ran.*
rm -f "$G"/ran.* "$G"/at.* "$G/go"

# --- TERM, SIGKILL to ccmap: no task left on the nodes ---------------------
for sig in TERM KILL; do
	# (ip and env exec ccmap: $! is its pid.)
	$SLURMBED_RUN env "${alloc_env[@]}" "$CCMAP" --slurm \
		"touch $G/t.{}; sleep 300" ::: 1 2 3 4 >/dev/null 2>"$T/err" &
	pid=$!
	all_four() { [ "$(find "$G" -name 't.*' | wc -l)" -eq 4 ]; }
	check "$sig: 4 jobs running" wait_for 60 all_four
	kill -"$sig" "$pid"
	ends "$sig" "$pid"
	[ "$sig" = KILL ] || is "$s" 143 "TERM: exit 143"
	slurmbed_check_none_left "$sig"
	steps_gone() { [ "$(slurmbed_steps)" = 0 ]; }
	check "$sig: the workers' steps end" wait_for 60 steps_gone
	rm -f "$G"/t.*
done

# --- refused, one line, before any job ------------------------------------
run_case "--slurm outside an allocation: refused" 255 "" \
	-- env -u SLURM_JOB_NODELIST -u SLURM_NODELIST "$CCMAP" --slurm \
	"touch $G/ran" ::: a
is "$(cat "$T/err")" "ccmap: --slurm: not in a Slurm allocation (SLURM_JOB_NODELIST is not set): run ccmap under salloc or sbatch" \
	"--slurm outside an allocation: one line"
run_case "--slurm, CPUs that do not fit the nodes: refused" 255 "" \
	-- in_alloc env SLURM_JOB_CPUS_PER_NODE='2(x3)' "$CCMAP" --slurm \
	"touch $G/ran" ::: a
is "$(cat "$T/err")" "ccmap: --slurm: SLURM_JOB_CPUS_PER_NODE '2(x3)' does not give the CPUs of 2 nodes" \
	"--slurm, CPUs that do not fit: one line"
run_case "--slurm -S: refused" 255 "" \
	-- in_alloc "$CCMAP" --slurm -S node1 "touch $G/ran" ::: a
stderr_has "^ccmap: --slurm: the hosts are the allocation's nodes: not with -S$" \
	"--slurm -S: says why"
run_case "--slurm --tf: refused" 255 "" \
	-- in_alloc "$CCMAP" --slurm --tf {} "touch $G/ran" ::: a
stderr_has "^ccmap: --slurm: not with --transferfile" "--slurm --tf: says why"
run_case "--slurm --wd: refused" 255 "" \
	-- in_alloc "$CCMAP" --slurm --wd x "touch $G/ran" ::: a
stderr_has "^ccmap: --slurm: not with --workdir" "--slurm --wd: says why"
check "refused: no job ran" test ! -e "$G/ran"

touch "$G/release"
ends "the allocation" "$alloc"
slurmbed_check_none_left "the end"

done_testing
