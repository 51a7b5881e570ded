#!/bin/bash
# t2020: -S with --nonall, --onall, --filter-hosts and --env, on the SSH
# test bed (sshbed.sh): the command once on every host; every item on
# every host, exactly once each, host after host in input order (-k), one
# job at a time on a host and -j hosts at a time; --tag and the joblog's
# Host; variables with awkward values and an exported bash function
# through ssh; a host that is down, filtered out; what is refused.
#
# No check depends on timing: the order of starts and ends is read from a
# log the jobs write, and a wait polls with a generous bound.

# shellcheck disable=SC2016 # the commands are for the remote shell
. "$(dirname "$0")/setup.sh"
. "$SRC/sshbed.sh"

sshbed_start 2
export CCMAP_SSH=$SSHBED_SSH

# A log every job may append to, on any node (they share the files).
log=$T/shared/log
mkdir -p "$T/shared"
chmod 777 "$T/shared"
: >"$log"
chmod 666 "$log"

# --- --nonall: the command once on each host, no item, stdin not read.
run_case "--nonall: once on each host, host after host, no argument" 0 \
	$'node1 node1 0\nnode2 node2 0\n' --stdin $'x\ny\n' -- \
	$CCMAP --nonall -S node1,node2 'echo "$(hostname) $CCMAP_HOST" $#'
run_case "--nonall --as-completed: the same lines" 0 '*' -- \
	$CCMAP --as-completed --nonall -S node1,node2 hostname
is "$(sort "$T/out")" $'node1\nnode2' "--nonall --as-completed: each host once"

# --- --onall: every item on every host, exactly once each.
run_case "--onall: 3 items on 2 hosts, host after host" 0 \
	$'node1 a\nnode1 b\nnode1 c\nnode2 a\nnode2 b\nnode2 c\n' -- \
	$CCMAP --onall -S node1,node2 'echo $(hostname) {}' ::: a b c
run_case "--onall --as-completed: every item on every host" 0 '*' -- \
	$CCMAP --as-completed --onall -S node1,node2 'echo $(hostname) {}' ::: a b c
is "$(sort "$T/out")" $'node1 a\nnode1 b\nnode1 c\nnode2 a\nnode2 b\nnode2 c' \
	"--onall --as-completed: each item once on each host"
run_case "--onall: items from stdin, all read before the first job" 0 \
	$'node1 p\nnode1 q\nnode2 p\nnode2 q\n' --stdin $'p\nq\n' -- \
	$CCMAP --onall -S node1,node2 'echo $(hostname) {}'

# -k: host after host, in the -S order, even when node1 ends last.
run_case "--onall -k: node1's output first, though it ends last" 0 \
	$'node1 1\nnode1 2\nnode2 1\nnode2 2\n' -- \
	$CCMAP -k --onall -S node1,node2 \
	'if [ $(hostname) = node1 ]; then sleep 0.5; fi; echo $(hostname) {}' ::: 1 2

# One job at a time on a host, in input order; -j1: one host at a time.
run_case "--onall -j1: runs" 0 '*' -- \
	$CCMAP -j1 --onall -S node1,node2 \
	"echo start \$(hostname) {} >>$log; sleep 0.2; echo end \$(hostname) {} >>$log" ::: a b c
is "$(cat "$log")" "$(printf '%s\n' 'start node1 a' 'end node1 a' \
	'start node1 b' 'end node1 b' 'start node1 c' 'end node1 c' \
	'start node2 a' 'end node2 a' 'start node2 b' 'end node2 b' \
	'start node2 c' 'end node2 c')" \
	"--onall -j1: a host's jobs in turn, one host after the other"
: >"$log"
run_case "--onall (both hosts at once): runs" 0 '*' -- \
	$CCMAP --onall -S node1,node2 \
	"echo start \$(hostname) {} >>$log; sleep 0.2; echo end \$(hostname) {} >>$log" ::: a b c
for n in node1 node2; do
	is "$(grep " $n " "$log")" "$(printf '%s\n' "start $n a" "end $n a" \
		"start $n b" "end $n b" "start $n c" "end $n c")" \
		"--onall: $n runs its jobs one at a time, in input order"
done

# Exit status: each failed job on each host counts.
run_case "--onall: a failing item fails on each host" 2 '' -- \
	$CCMAP --onall -S node1,node2 'exit {}' ::: 0 3

# --tag: the host, as GNU parallel's; the joblog has a line per host and job.
run_case "--onall --tag: lines tagged with the host" 0 \
	$'node1\tnode1 a\nnode2\tnode2 a\n' -- \
	$CCMAP --tag --onall -S node1,node2 'echo $(hostname) {}' ::: a
run_case "--onall --joblog: runs" 0 '*' -- \
	$CCMAP --joblog "$T/jl" --onall -S node1,node2 'echo {}' ::: a b
is "$(awk -F'\t' 'NR > 1 { print $2, $9 }' "$T/jl" | sort)" \
	$'node1 echo a\nnode1 echo b\nnode2 echo a\nnode2 echo b' \
	"--onall --joblog: each job on each host, its Host column"

# --- --env: variables and an exported bash function, through ssh.
awk_val=$'a b \'c\' "d" $HOME `echo no` \\ ; touch pwned\nline 2 *'
export AWK_VAL=$awk_val EMPTY='' PLAIN=plain
unset NOT_SET || true
run_case "--env: awkward values reach the remote job as they are" 0 \
	"$(printf '<%s>\n' "$awk_val" '' plain '')"$'\n' -- \
	$CCMAP --env AWK_VAL --env EMPTY --env PLAIN --env NOT_SET --nonall \
	-S node1 'printf "<%s>\n" "$AWK_VAL" "$EMPTY" "$PLAIN" "${NOT_SET-}"'
check "--env: no item of a value ran as code (no pwned)" \
	test ! -e "$SSHBED_DIR/home/pwned"
run_case "without --env: ssh passes no variable" 0 $'<>\n' -- \
	$CCMAP --nonall -S node1 'printf "<%s>\n" "$PLAIN"'
run_case "--env: exported to the job's children" 0 $'plain\n' -- \
	$CCMAP --env PLAIN -S node1 'sh -c "echo \$PLAIN"' ::: 1

greet() { printf 'greet %s %s\n' "$1" "$PLAIN"; }
export -f greet
run_case "--env f: an exported bash function, callable remotely" 0 \
	$'greet x plain\ngreet y plain\n' -- \
	$CCMAP --env greet --env PLAIN -S node1 'greet {}' ::: x y
run_case "--env f with --nonall, on each host" 0 \
	$'greet node1 \ngreet node2 \n' -- \
	$CCMAP --env greet --nonall -S node1,node2 'greet $(hostname)'
run_case "--env f: exported to the job's bash children too" 0 $'greet z \n' -- \
	$CCMAP --env greet -S node1 'bash -c "greet z"' ::: 1
run_case "without --env f: no such function remotely" 1 '' -- \
	$CCMAP -S node1 'greet {}' ::: x
stderr_has 'greet: not found' "without --env f: the remote shell says so"

# Locally (no -S, or the host :), the environment is inherited anyway.
run_case "--env without -S: accepted, inherited" 0 "<$awk_val>"$'\n' -- \
	$CCMAP --env AWK_VAL --nonall 'printf "<%s>\n" "$AWK_VAL"'
run_case "--env with -S :: inherited" 0 $'greet l plain\n' -- \
	$CCMAP --env greet -S : 'greet {}' ::: l

# --- --filter-hosts: node9 (down) is dropped, with one warning.
run_case "--filter-hosts: node9 down, the others run" 0 $'node1\nnode2\n' -- \
	$CCMAP --filter-hosts --nonall -S node1,node9,node2 hostname
is "$(grep -c . "$T/err")" 1 "--filter-hosts: one line on stderr"
stderr_has '^ccmap: -S node9: .*not used from now on$' \
	"--filter-hosts: the warning names node9"
run_case "--onall with node9 down: every item on the hosts up" 0 \
	$'node1 a\nnode2 a\n' -- \
	$CCMAP --onall -S node1,node9,node2 'echo $(hostname) {}' ::: a

# --- Without -S, as GNU parallel: --onall changes nothing, --nonall runs
# the command once here.
run_case "--onall without -S: the items, here" 0 $'a\nb\n' -- \
	$CCMAP --onall echo ::: a b
run_case "--nonall without -S: once, here, stdin not read" 0 $'hi\n' \
	--stdin $'x\n' -- $CCMAP --nonall echo hi
run_case "--filter-hosts without -S: accepted" 0 $'a\n' -- \
	$CCMAP --filter-hosts echo ::: a

# --- Refused, before any job, with one line.
refused() { # NAME MESSAGE-REGEX CMD...
	local name=$1 re=$2
	shift 2
	run_case "refused: $name" 255 '' -- "$@"
	stderr_has "^ccmap: $re" "refused: $name: says why"
	is "$(grep -c . "$T/err")" 1 "refused: $name: one line"
}
refused "--nonall with items" '--nonall reads no items' \
	$CCMAP --nonall -S node1 echo ::: a
refused "--onall --pipe" '--onall runs a command on every host: not with --pipe' \
	$CCMAP --onall --pipe cat
refused "--onall --resume" '--onall: not with --resume' \
	$CCMAP --onall --resume --joblog "$T/jl2" -S node1 echo ::: a
refused "--env with a bad name" "--env: 'A-B' is not a variable or function name" \
	$CCMAP --env A-B -S node1 echo ::: a
refused "--env _" '--env _ .* is not supported' \
	$CCMAP --env _ -S node1 echo ::: a

check "nothing left on the hosts" wait_for 30 sshbed_none_left

done_testing
