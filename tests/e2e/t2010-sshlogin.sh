#!/bin/bash
# t2010: -S/--sshlogin, --sshloginfile and --ssh against the real sshds of
# the SSH test bed (tests/e2e/sshbed.sh: node1..node3 on 127.0.0.1-3, node9
# down): output in input order and --as-completed over two hosts; the far
# end's CCMAP_SEQ, CCMAP_SLOT and CCMAP_HOST; login files; the hosts' CPUs
# and N/ (concurrent jobs counted at a gate); exit statuses, the joblog's
# Host column and a command's own 255 told from ssh's; items quoted through
# ssh; a host down at the start or killed mid-run; TERM/INT leaving no
# remote process; --timeout, --retries, refusals, --tag, -M, --results, --json.
#
# No check depends on timing: jobs that must be running together wait at a
# gate (a file) that the script opens once it has counted them, and every
# wait polls for what it waits for, with a generous bound.

# shellcheck disable=SC2016 # $(hostname) and the like are the far end's
# shellcheck disable=SC2317 # functions run through check and wait_for
. "$(dirname "$0")/setup.sh"
. "$SRC/sshbed.sh"

sshbed_start 3
ncpu=$(sshbed_ssh node1 getconf _NPROCESSORS_ONLN </dev/null)
case $ncpu in
''|*[!0-9]*) fail "node1's CPUs: getconf said '$ncpu'"; ncpu=1 ;;
esac

# --- Gates: jobs that say they started, then wait for "go" (60 s at most).
# The remote user is not root: the gate directory is open to all.
G=$T/gates
gates_reset() {
	rm -rf "$G"
	mkdir "$G"
	chmod 777 "$G"
}
# The job's command: note ITEM.started.HOST, hold, then print the item.
gated="touch $G/{}.started.\$(hostname); i=0;"
gated="$gated while [ ! -e $G/go ] && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i + 1)); done;"
gated="$gated echo {}"
# started [HOST]: how many jobs have started (on HOST).
started() {
	find "$G" -name "*.started.${1:-*}" | wc -l
}
started_at_least() { [ "$(started)" -ge "$1" ]; }

# gate_hold NAME N CCMAP_ARG...: ccmap in the background ($cpid, output in
# $T/g.out, $T/g.err) on items 1..N+2 with the gated command; passes when N
# jobs start and no more.
gate_hold() {
	local name=$1 n=$2
	shift 2
	gates_reset
	seq 1 $((n + 2)) >"$T/g.in"
	$CCMAP "$@" -a "$T/g.in" "$gated" >"$T/g.out" 2>"$T/g.err" &
	cpid=$!
	if wait_for 30 started_at_least "$n"; then
		is "$(started)" "$n" "$name: $n jobs run at once"
	else
		fail "$name: $n jobs run at once (only $(started) after 30 s)"
		diag <"$T/g.err"
	fi
}

# gate_open NAME: let the jobs go; ccmap ends with 0 and every item's output.
gate_open() {
	local s
	touch "$G/go"
	ends "$1" "$cpid"
	is "$s" 0 "$1: exit 0"
	is "$(cat "$T/g.out")" "$(cat "$T/g.in")" "$1: every item once, in order"
}

# --- 1. Two hosts: input order, every item once; --as-completed.
seq 1 20 >"$T/items"
items_out=$(seq 1 20)$'\n' # what `echo {}` prints for them
for hosts in "-S node1,node2" "-S node1 -S node2" "--sshlogin=node1,node2"; do
	# shellcheck disable=SC2086 # the options' words
	run_case "$hosts: output in input order" 0 "$items_out" -- \
		$CCMAP --ssh "$SSHBED_SSH" $hosts -a "$T/items" 'echo {}'
done
run_case "two hosts: each job on one of them" 0 '*' -- \
	$CCMAP --ssh "$SSHBED_SSH" -S node1,node2 -a "$T/items" 'echo {} $(hostname)'
is "$(cut -d' ' -f2 "$T/out" | sort -u | grep -cv '^node[12]$')" 0 \
	"two hosts: every job ran on node1 or node2"
# From here on, ccmap takes its ssh from the environment.
CCMAP_SSH=$SSHBED_SSH
export CCMAP_SSH
run_case "--as-completed over two hosts" 0 '*' -- \
	$CCMAP --as-completed -S node1,node2 -a "$T/items" 'echo {}'
is "$(sort -n "$T/out")" "$(cat "$T/items")" "--as-completed: the same set, once each"

# --- 2. The far end's variables; CCMAP_HOST is the login as written.
far='echo $CCMAP_SEQ $CCMAP_SLOT $CCMAP_HOST $(id -un) $(hostname)'
run_case "far end: CCMAP_SEQ, CCMAP_SLOT, CCMAP_HOST, user, host" 0 \
	"1 1 node3 $SSHBED_USER node3 x"$'\n' -- $CCMAP -S node3 "$far" ::: x
run_case "far end: the login as written, N/ left out" 0 \
	"1 1 $SSHBED_USER@127.0.0.3 $SSHBED_USER node3 x"$'\n'"2 1 $SSHBED_USER@127.0.0.3 $SSHBED_USER node3 y"$'\n' -- \
	$CCMAP -S "1/$SSHBED_USER@127.0.0.3" "$far" ::: x y

# --- 3. Login files: comments, blank lines, N/.
printf '# the hosts of t2010\n\n   # an indented comment\n%s/node1\n\t\nnode2\n' \
	$((ncpu + 1)) >"$T/slf"
for opt in --sshloginfile --slf; do
	run_case "$opt: comments and blank lines skipped" 0 "$items_out" -- \
		$CCMAP "$opt" "$T/slf" -a "$T/items" 'echo {}'
done
printf '# node1 only\n%s/node1\n' $((ncpu + 1)) >"$T/slf1"
gate_hold "--slf with $((ncpu + 1))/node1" $((ncpu + 1)) --slf "$T/slf1"
gate_open "--slf with $((ncpu + 1))/node1"
gates_reset
run_case "--sshloginfile: a missing file" 255 '' -- \
	$CCMAP -S node1 --sshloginfile "$T/no-such-file" "touch $G/ran" ::: 1
is "$(wc -l <"$T/err")" 1 "--sshloginfile: a missing file: one line"
stderr_has "^ccmap: --sshloginfile: .*'$T/no-such-file'" \
	"--sshloginfile: a missing file: the line names the option and the file"
check "--sshloginfile: a missing file: no job ran" test ! -e "$G/ran"

# --- 4. The hosts' CPUs: asked when no N/ gives them; -j is per host.
gate_hold "-S node1 (its $ncpu CPUs asked)" "$ncpu" -S node1
gate_open "-S node1"
gate_hold "-S 2/node1" 2 -S 2/node1
# (Each job is a session asked of the master on its socket: the only ssh
# process is the master.)
is "$(pgrep -P "$cpid" -x ssh | wc -l)" 1 \
	"-S 2/node1: two jobs running, one ssh process (the master)"
gate_open "-S 2/node1"
gate_hold "-j1 -S node1,node2" 2 -j1 -S node1,node2
is "$(started node1) $(started node2)" "1 1" "-j1 -S node1,node2: one on each host"
gate_open "-j1 -S node1,node2"

# --- 5. Exit statuses: the command's own 255 is its status, not ssh's.
gates_reset
status_cmd="echo out {}; echo err {} >&2; echo x >>$G/runs.{}; exit {}"
local_status=0
$CCMAP "$status_cmd" ::: 0 3 255 >/dev/null 2>&1 || local_status=$?
gates_reset
run_case "exit statuses 0, 3, 255 over ssh: as locally" "$local_status" \
	$'out 0\nout 3\nout 255\n' -- \
	$CCMAP -S node1 --joblog "$T/joblog" "$status_cmd" ::: 0 3 255
check "exit 255: the command's stderr is there" grep -qx 'err 255' "$T/err"
check "exit 255: no marker line in stdout or stderr" \
	test -z "$(grep -h 'ccmap: exit 255' "$T/out" "$T/err")"
is "$(cat "$G/runs.255")" x "exit 255: the job ran once (not taken for a lost session)"
is "$(awk -F'\t' 'NR > 1 { print $1, $2, $7 }' "$T/joblog" | sort -n | tr '\n' ,)" \
	"1 node1 0,2 node1 3,3 node1 255," "--joblog: Host is the login, Exitval 255"

# --- 6. Items quoted through ssh: never run as code on the host.
printf '%s\n' 'a b; touch pwned' '$(touch pwned2)' "it's" "$(printf 'a\tb')" \
	'back\slash' '`touch pwned3`' >"$T/quote"
mkdir "$T/here"
for cmd in 'echo {}' echo; do
	run_case "quoting, '$cmd': locally" 0 '*' -- \
		sh -c 'cd "$1" && shift && "$@"' sh "$T/here" $CCMAP -a "$T/quote" "$cmd"
	local_out=$OUT
	run_case "quoting, '$cmd' over ssh: as locally" 0 "$local_out" -- \
		$CCMAP -S node1 -a "$T/quote" "$cmd"
	check "quoting, '$cmd': the items printed as they are" \
		grep -qxF 'a b; touch pwned' "$T/out"
done
is "$(sshbed_ssh node1 ls -A </dev/null | grep -c pwned)" 0 \
	"quoting: no item ran as code on the host"
is "$(ls -A "$T/here")" '' "quoting: nor here"

# --- 7. A host down at the start.
run_case "-S node9,node1: the run completes on node1" 0 $'a\nb\n' -- \
	$CCMAP -S node9,node1 echo ::: a b
is "$(wc -l <"$T/err")" 1 "-S node9,node1: one warning line"
stderr_has '^ccmap: .*node9' "-S node9,node1: the warning names node9"
run_case "-S node9: no host to run on" 255 '' -- $CCMAP -S node9 echo ::: a b
is "$(grep -c 'no host could be reached' "$T/err")" 1 \
	"-S node9: one line saying no host could be reached"

# --- 8. A host killed mid-run: its jobs run again on the other.
gate_hold "node2 killed mid-run" 4 -S 2/node1,2/node2
is "$(started node1) $(started node2)" "2 2" "node2 killed mid-run: 2 jobs on each host"
on_node2=$(find "$G" -name '*.started.node2' | sed 's|.*/||; s/\..*//' | sort -n)
sshbed_kill_node 2
gate_open "node2 killed mid-run"
for i in $on_node2; do
	check "node2 killed mid-run: job $i ran again on node1" test -e "$G/$i.started.node1"
done
diag "node2 killed mid-run: ccmap said:"
diag <"$T/g.err"
sshbed_start_node 2

# --- 9. TERM, INT and KILL to ccmap: nothing left on any host.
# (A background job of a script starts with SIGINT ignored: ccmap's own
# handler takes it.  Killed, ccmap leaves its sockets' connections to
# the masters, which end the sessions, and the masters' own, which ends
# the masters.)
no_master_left() { ! pgrep -f "ControlPath=$1/" >/dev/null; }
for sig in TERM INT KILL; do
	case $sig in
	TERM) want=143 ;;
	INT) want=130 ;;
	KILL) want=137 ;;
	esac
	mkdir -p "$T/kt"
	gate_hold "SIG$sig" 2 -j1 --tmpdir "$T/kt" -S node1,node2
	kill -"$sig" "$cpid"
	ends "SIG$sig" "$cpid"
	is "$s" "$want" "SIG$sig: exit $want"
	for i in 1 2; do
		if wait_for 30 sshbed_none_left "$i"; then
			pass "SIG$sig: nothing left on node$i"
		else
			fail "SIG$sig: nothing left on node$i"
			sshbed_ps | diag
		fi
	done
	if [ "$sig" = KILL ]; then
		dir=$(ls -d "$T"/kt/ccmap-ssh.* 2>/dev/null | tail -1)
		check "SIGKILL: its sockets' directory is there" test -d "$dir"
		check "SIGKILL: the masters end" wait_for 30 no_master_left "$dir"
		# (The next run's ccmap removes it: its ccmap is gone.)
		$CCMAP --tmpdir "$T/kt" -S node1 true ::: 1
		check "SIGKILL: the next run removes the directory left" \
			test ! -e "$dir"
		is "$(ls "$T/kt")" "" "SIGKILL: nothing else left in --tmpdir"
	fi
	touch "$G/go" # (should anything be left)
done

# --- 10. --timeout kills the remote job; the status is the timeout's.
mark=2010.$$$RANDOM # "sleep $mark": a remote job this script can find
remote_sleeps() {
	sshbed_ps | awk -v n="node$1" -v m="sleep $mark" \
		'$2 == n && $3 == "sleep" && index($0, m) { c++ } END { print c + 0 }'
}
no_remote_sleep() { [ "$(remote_sleeps "$1")" -eq 0 ]; }
timed_cmd="echo x >>$G/runs; sleep {}"
gates_reset
local_status=0
$CCMAP --timeout 2 "$timed_cmd" ::: "$mark" 2>"$T/err-local" || local_status=$?
kill_sleeps "$mark"
gates_reset
run_case "--timeout 2 -S node1: the status as locally" "$local_status" '' -- \
	$CCMAP --timeout 2 -S node1 "$timed_cmd" ::: "$mark"
is "$(cat "$T/err")" "$(cat "$T/err-local")" "--timeout 2 -S node1: the message as locally"
is "$(cat "$G/runs")" x "--timeout 2 -S node1: the job ran once (not taken for a lost session)"
check "--timeout 2 -S node1: the remote sleep is killed" wait_for 30 no_remote_sleep 1

# --- 11. --retries: a job that fails on node1 runs again on node2.
gates_reset
run_case "--retries 2: failed on node1, done on node2" 0 '' -- \
	$CCMAP --retries 2 -S 1/node1,2/node2 --joblog "$T/joblog" \
	"touch $G/{}.tried.\$(hostname); [ \"\$(hostname)\" = node2 ]" ::: a b
# (The first job taken goes to node1, the first of two idle hosts.)
is "$(find "$G" -name '*.tried.node1' | wc -l)" 1 "--retries 2: one job was tried on node1 first"
is "$(awk -F'\t' 'NR > 1 && $7 == 0 { print $1, $2 }' "$T/joblog" | sort -n | tr '\n' ,)" \
	"1 node2,2 node2," "--retries 2: the joblog says node2"

# --- 12. Refusals; --tag.
run_case "-S 0/node1 refused" 255 '' -- $CCMAP -S 0/node1 echo ::: a
stderr_is "ccmap: -S: '0/node1': the number of CPUs must be 1 or more"$'\n' \
	"-S 0/node1: the message"
run_case "-S with --so, no workers: refused" 255 '' \
	-- $CCMAP -S node1 --remote-worker never --so len ::: a
is "$(wc -l <"$T/err")" 1 "-S with --so, no workers: one line"
stderr_has '^ccmap: -S .*--so.*--remote-worker never' \
	"-S with --so, no workers: the line names them"
run_case "--tag with -S: the item as tag" 0 $'a\thi a\nb\thi b\n' -- \
	$CCMAP --tag -S node1,node2 echo hi ::: a b
run_case "-M (GNU's --controlmaster) is accepted: every job runs once" 0 \
	$'1 node1\n2 node1\n3 node1\n' -- $CCMAP -M -S node1 'echo {} $(hostname)' ::: 1 2 3
run_case "--controlmaster is accepted" 0 $'x node2\n' -- \
	$CCMAP --controlmaster -S node2 'echo {} $(hostname)' ::: x

# --- 13. What the command does to its own process group and gets.
# A command that signals its own process group (trap 'kill 0' EXIT) does
# not take the wrapper with it: its status comes back, once, and the host
# is not taken for lost.
gates_reset
pg_cmd="trap 'kill 0' EXIT; echo x >>$G/runs.{}; echo {}"
local_status=0
$CCMAP "$pg_cmd" ::: 1 2 3 >/dev/null 2>&1 || local_status=$?
gates_reset
run_case "kill 0 in the job: the status as locally" "$local_status" \
	$'1\n2\n3\n' -- $CCMAP -S node1 "$pg_cmd" ::: 1 2 3
is "$(cat "$G/runs.1" "$G/runs.2" "$G/runs.3" | tr -d '\n')" xxx \
	"kill 0 in the job: each job ran once (no lost session)"
# (Its shell may say "Terminated": the job's own stderr, not ccmap's.)
is "$(grep -c '^ccmap:' "$T/err")" 0 \
	"kill 0 in the job: no warning (the host is not dropped)"
# SIGINT and SIGQUIT reach the remote command as a local one (it runs in
# the foreground, not as an asynchronous list that ignores them).
int_cmd='trap "echo caught {}" INT; kill -INT $$; echo after {}'
local_out=$($CCMAP "$int_cmd" ::: a 2>/dev/null; echo x)
run_case "SIGINT: the remote command can trap it, as locally" 0 \
	"${local_out%x}" -- $CCMAP -S node1 "$int_cmd" ::: a
is "${local_out%x}" $'caught a\nafter a\n' "SIGINT: locally, caught"

# --- 14. --results and --json: the job's own stdout and stderr.
rec_cmd='echo out {}; echo err {} >&2; exit {}'
local_out=$($CCMAP --results "$T/res-local" "$rec_cmd" ::: 0 255 2>/dev/null; echo x)
run_case "--results with -S: the output as locally" 1 "${local_out%x}" -- \
	$CCMAP -S node1 --results "$T/res-ssh" "$rec_cmd" ::: 0 255
check "--results with -S: the records as locally (exit 255 too)" \
	diff -r "$T/res-local" "$T/res-ssh"
no_duration() { sed 's/"duration":[0-9.e+-]*,//'; }
$CCMAP --json "$rec_cmd" ::: 0 255 2>/dev/null | no_duration >"$T/json-local" || true
run_case "--json with -S" 1 '*' -- $CCMAP -S node1 --json "$rec_cmd" ::: 0 255
is "$(no_duration <"$T/out")" "$(cat "$T/json-local")" \
	"--json with -S: the records as locally (exit 255 too)"

# --- 15. The user's login shell: sh reads the job's line as it is; zsh,
# fish (and csh) get it through /bin/sh, quoted so that each reads it the
# same (fish reads backslashes in single quotes as escapes).
ls_cmd='printf "%s|" {} "$CCMAP_SEQ" a\\b "$0"; echo; exit 3'
ls_items=("x y" "q't" 'b\s' '$HOME' '*')
run_case "login shell sh: quoting, status" 5 '*' -- \
	$CCMAP -S node1 "$ls_cmd" ::: "${ls_items[@]}"
sh_out=$(cat "$T/out")
is "$(head -1 "$T/out")" 'x y|1|a\b|sh|' "login shell sh: the line as sh reads it"
for lsh in zsh fish; do
	if ! p=$(command -v "$lsh"); then
		skip "login shell $lsh: not installed here"
		continue
	fi
	usermod -s "$p" "$SSHBED_USER"
	run_case "login shell $lsh: quoting, status, as with sh" 5 "$sh_out"$'\n' -- \
		$CCMAP -S node1 "$ls_cmd" ::: "${ls_items[@]}"
	usermod -s /bin/sh "$SSHBED_USER"
done

done_testing
