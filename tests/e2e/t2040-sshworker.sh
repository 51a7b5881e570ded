#!/bin/bash
# t2040: -S with a ccmap --worker on the host (--remote-worker): all the
# host's jobs over one ssh session to it, none of ssh's own per job.
# The output, statuses and quoting are as locally and as with a session
# per job; 2,000 jobs keep one ssh process on this end (the master); a
# worker killed during the run loses no job and writes none twice (its
# jobs die with it, and run again); TERM to ccmap leaves nothing on the
# hosts; --timeout kills the remote job; a worker of another protocol is
# refused with one line naming the host and both versions; a host with a
# ccmap on its PATH is found without --remote-ccmap.
#
# No check depends on timing: jobs that must be running wait at a gate
# file, and the test waits for them with a generous bound.

# shellcheck disable=SC2317 # functions run through check and wait_for
. "$(dirname "$0")/setup.sh"
. "$SRC/sshbed.sh"

sshbed_start 2
export CCMAP_SSH="ssh -F $SSHBED_CONFIG"

# The ccmap the hosts run (this one: they are this machine).
bin=${CCMAP##* }
W=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
G=$T/gates
mkdir -m 777 "$G"
# Workers on node I: ccmap --worker processes (not their guards, which
# are their children).
workers_on() { # I
	sshbed_ps | awk -v node="node$1" '$2 == node && / --worker/ { print $1 }' |
		worker_pids | wc -l
}

# --- as locally -----------------------------------------------------------
cmd='echo {} $CCMAP_SEQ; echo e{} >&2; exit $(( {} % 4 ))'
run_case "locally" 5 "*" -- "$CCMAP" -k -j2 "$cmd" ::: 1 2 3 4 5 6
want_out=$OUT want_err=$ERR
run_case "worker: output and status as locally" 5 "$want_out" \
	-- "$CCMAP" -k -S 2/node1 --remote-worker always --remote-ccmap "$W" \
	"$cmd" ::: 1 2 3 4 5 6
is "$ERR" "$want_err" "worker: stderr as locally"
run_case "worker, two hosts: as locally" 5 "$want_out" \
	-- "$CCMAP" -k -S 2/node1,2/node2 --remote-worker always \
	--remote-ccmap "$W" "$cmd" ::: 1 2 3 4 5 6
run_case "worker: CCMAP_HOST, CCMAP_SLOT, the host" 0 "node1 1 node1 x
" -- "$CCMAP" -S 1/node1 --remote-worker always --remote-ccmap "$W" \
	'echo $CCMAP_HOST $CCMAP_SLOT $(hostname)' ::: x
run_case "worker: --as-completed, every job once" 0 "*" \
	-- "$CCMAP" --as-completed -S 2/node1,2/node2 --remote-worker always \
	--remote-ccmap "$W" 'echo {}' ::: 1 2 3 4 5 6 7 8
is "$(sort -n "$T/out" | tr '\n' ' ')" "1 2 3 4 5 6 7 8 " \
	"worker: --as-completed: the same lines"
run_case "worker: exit 255 is the job's own, run once" 1 "ran
" -- "$CCMAP" -S node1 --remote-worker always --remote-ccmap "$W" \
	--joblog "$T/log" 'echo ran; exit 255' ::: x
is "$(awk -F'\t' 'NR == 2 { print $2, $7 }' "$T/log")" "node1 255" \
	"worker: exit 255: the joblog's Host and Exitval"

# Quoting: the items are data, never code on the host.
rm -f "$T/pwned" ~/pwned 2>/dev/null || true
items=('a b; touch pwned' '$(touch pwned)' "it's" '*' 'x"y')
run_case "quoting: locally" 0 "*" -- "$CCMAP" -k 'echo {}' ::: "${items[@]}"
want=$OUT
run_case "quoting: worker as locally" 0 "$want" \
	-- "$CCMAP" -k -S node1 --remote-worker always --remote-ccmap "$W" \
	'echo {}' ::: "${items[@]}"
check "quoting: no item ran as code on the host" \
	test ! -e "$SSHBED_DIR/home/pwned"

# A plain line (quoted items included) runs with no shell on the host, as
# locally: the job's parent is the worker.  Shell syntax goes to /bin/sh.
cat >"$G/pp.sh" <<'EOF'
#!/bin/sh
printf '[%s]' "$@"; printf ' parent:'; tr '\0' ' ' </proc/$PPID/cmdline; echo
EOF
chmod 755 "$G/pp.sh"
run_case "a plain line: runs" 0 "*" -- "$CCMAP" -S node1 \
	--remote-worker always --remote-ccmap "$W" "$G/pp.sh" x {} \
	::: "it's" 'a  b' 'c\d'
is "$(sed 's/ parent:.*//' "$T/out" | sort)" "[x][a  b]
[x][c\\d]
[x][it's]" "a plain line: the words as the shell makes them"
is "$(grep -c 'parent:.* --worker' "$T/out")" 3 \
	"a plain line: no shell on the host (the worker is the job's parent)"
run_case "a pipe: runs" 0 "*" -- "$CCMAP" -S node1 --remote-worker always \
	--remote-ccmap "$W" "$G/pp.sh {} | cat" ::: x
check "a pipe: in /bin/sh on the host" \
	bash -c '! grep -q -- " --worker" "$1"' - "$T/out"

# --env, --wd, --pipe.
export CCMAP_T_VAR="it's a 'value'"
run_case "--env: the value as it is" 0 "it's a 'value' x
" -- "$CCMAP" -S node1 --remote-worker always --remote-ccmap "$W" \
	--env CCMAP_T_VAR 'echo "$CCMAP_T_VAR"' ::: x
run_case "--wd: made, the job runs there" 0 "$SSHBED_DIR/home/wdir
" -- "$CCMAP" -S node1 --remote-worker always --remote-ccmap "$W" \
	--wd wdir 'pwd' ::: x
seq 20000 >"$T/lines"
run_case "--pipe: the blocks, as locally" 0 "$("$CCMAP" -k --pipe \
	--block 10k 'md5sum' <"$T/lines")
" --stdin "$(cat "$T/lines")
" -- "$CCMAP" -k --pipe --block 10k -S 2/node1,2/node2 \
	--remote-worker always --remote-ccmap "$W" md5sum

# --- 2,000 jobs: one ssh process on this end, one worker on the host -------
seq 2000 | "$CCMAP" -S 4/node1 --remote-worker always --remote-ccmap "$W" \
	'echo {}' >"$T/out" 2>"$T/err" &
pid=$!
most=0 seen=0
while ! gone "$pid"; do
	n=$(pgrep -c -x ssh -P "$pid" || true)
	[ "$n" -le "$most" ] || most=$n
	[ "$n" -eq 0 ] || seen=$((seen + 1))
	sleep 0.02
done
ends "2000 jobs" "$pid"
is "$s" 0 "2000 jobs: status 0"
check "2000 jobs: every output once, in order" cmp -s "$T/out" <(seq 2000)
check "2000 jobs: the ssh processes were counted during the run" \
	test "$seen" -gt 0
is "$most" 1 "2000 jobs: at most one ssh process (the master) all along"
is "$(cat "$T/err")" "" "2000 jobs: nothing on stderr"

seq 4 | "$CCMAP" -S 4/node1 --remote-worker always --remote-ccmap "$W" \
	"touch $G/w.{}; while [ ! -e $G/go ]; do sleep 0.1; done" &
pid=$!
check "4 jobs running" wait_for 60 test -e "$G/w.4" -a -e "$G/w.1"
is "$(workers_on 1)" 1 "one worker on the host for its 4 slots"
touch "$G/go"
ends "4 jobs at a gate" "$pid"
rm -f "$G"/*

# --- a worker killed during the run: nothing lost, nothing twice ----------
# Jobs 1-4 wait at a gate on node1 and node2 (2 slots each); node1's
# worker is killed; its two jobs run again (on node2 or a new worker).
seq 8 | "$CCMAP" -k -S 2/node1,2/node2 --remote-worker always \
	--remote-ccmap "$W" \
	"echo {} >>$G/ran.\$(hostname); touch $G/at.{}; while [ ! -e $G/go ]; do sleep 0.1; done; echo {}" \
	>"$T/out" 2>"$T/err" &
pid=$!
four_at_gate() { [ "$(find "$G" -name 'at.*' | wc -l)" -ge 4 ]; }
check "worker killed: 4 jobs at the gate" wait_for 60 four_at_gate
wpid=$(sshbed_ps | awk '$2 == "node1" && / --worker/ { print $1 }' |
	worker_pids | head -1)
check "worker killed: node1's worker found" test -n "$wpid"
node1_jobs=$(cat "$G/ran.node1" 2>/dev/null | sort -n | tr '\n' ' ')
# (Its jobs: on node1 now; those run again may start there later.)
old=$(sshbed_ps | awk '$2 == "node1" && /while \[ ! -e/ { print $1 }')
kill -KILL "$wpid"
all_gone() { local p; for p in $old; do gone "$p" || return 1; done; }
check "worker killed: its jobs were there" test -n "$old"
check "worker killed: its jobs die with it" wait_for 60 all_gone
worker_killed_ends "worker killed" "$pid" 8 "$node1_jobs" "$G"/ran.*
rm -f "$G"/*

# --- --basefile: copied before the host's first job, which the worker runs
mkdir -m 755 "$T/bf"
echo "the base" >"$T/bf/base.txt"
cat >"$G/pb.sh" <<'EOF'
#!/bin/sh
cat base.txt; echo "$1"; tr '\0' ' ' </proc/$PPID/cmdline; echo
EOF
chmod 755 "$G/pb.sh"
run_case "--bf: the file is there for the jobs" 0 "*" -- env -C "$T/bf" \
	"$CCMAP" -k -S 2/node1 --remote-worker always --remote-ccmap "$W" \
	--bf base.txt --cleanup "$G/pb.sh" ::: a b
is "$(grep -v -- --worker "$T/out")" "the base
a
the base
b" "--bf: each job read it"
is "$(grep -c -- ' --worker' "$T/out")" 2 "--bf: the jobs ran in the worker"
check "--bf --cleanup: removed from the host at the end" \
	test ! -e "$SSHBED_DIR/home/base.txt"

# --- the hosts' workers start at the same time ----------------------------
# Each host's ccmap, before it serves, waits for the other's to have
# started too: started one after the other, the first would wait in vain
# (and give up after a minute).
cat >"$G/ccmap-both" <<EOF
#!/bin/sh
touch "$G/started.\$(hostname)"
i=0
while [ "\$(ls "$G" | grep -c '^started\.')" -lt 2 ]; do
	i=\$((i + 1))
	[ \$i -lt 600 ] || exit 1
	sleep 0.1
done
exec "$W" "\$@"
EOF
chmod 755 "$G/ccmap-both"
run_case "two hosts' workers start together" 0 "a
b
" -- "$CCMAP" -k -S 1/node1,1/node2 --remote-worker always \
	--remote-ccmap "$G/ccmap-both" 'echo {}' ::: a b
is "$ERR" "" "two hosts' workers start together: no host left out"
rm -f "$G"/*

# --- TERM, INT to ccmap: nothing left on the hosts ------------------------
# (A background job of a script starts with SIGINT ignored: ccmap's own
# handler takes it.)
all_four() { [ "$(find "$G" -name 't.*' | wc -l)" -eq 4 ]; }
for sig in TERM INT; do
	"$CCMAP" -S 2/node1,2/node2 --remote-worker always --remote-ccmap "$W" \
		"touch $G/t.{}; sleep 300" ::: 1 2 3 4 >/dev/null 2>"$T/err" &
	pid=$!
	check "$sig: 4 jobs running" wait_for 60 all_four
	kill -"$sig" "$pid"
	ends "$sig" "$pid"
	is "$s" "$([ "$sig" = TERM ] && echo 143 || echo 130)" "$sig: exit status"
	sshbed_check_none_left "$sig" 1 2
	rm -f "$G"/*
done

# --- SIGKILL to ccmap: its workers see their stdin end, and end theirs ----
"$CCMAP" -S 2/node1,2/node2 --remote-worker always --remote-ccmap "$W" \
	"touch $G/t.{}; sleep 300" ::: 1 2 3 4 >/dev/null 2>"$T/err" &
pid=$!
check "KILL: 4 jobs running" wait_for 60 all_four
kill -KILL "$pid"
ends "KILL" "$pid"
sshbed_check_none_left KILL 1 2
no_master() { ! pgrep -f "ccmap-ssh\\.$pid\\." >/dev/null; }
check "KILL: its ssh masters end here too" wait_for 30 no_master
rm -f "$G"/*

# --- --results, --json: recorded here, as locally -------------------------
rec_cmd='echo out {}; echo err {} >&2; exit {}'
local_out=$("$CCMAP" --results "$T/res-local" "$rec_cmd" ::: 0 255 2>/dev/null; echo x)
run_case "--results, worker: the output as locally" 1 "${local_out%x}" -- \
	"$CCMAP" -S node1 --remote-worker always --remote-ccmap "$W" \
	--results "$T/res-w" "$rec_cmd" ::: 0 255
check "--results, worker: the records as locally (exit 255 too)" \
	diff -r "$T/res-local" "$T/res-w"
no_duration() { sed 's/"duration":[0-9.e+-]*,//'; }
"$CCMAP" --json "$rec_cmd" ::: 0 255 2>/dev/null | no_duration >"$T/json-local" || true
run_case "--json, worker" 1 '*' -- "$CCMAP" -S node1 --remote-worker always \
	--remote-ccmap "$W" --json "$rec_cmd" ::: 0 255
is "$(no_duration <"$T/out")" "$(cat "$T/json-local")" \
	"--json, worker: the records as locally (exit 255 too)"
# (A worker, not a session per job: the job's parent is the worker.)
printf '#!/bin/sh\ntr "\\0" " " </proc/$PPID/cmdline\n' >"$G/pq.sh"
chmod 755 "$G/pq.sh"
run_case "--json, worker: the job runs in the worker" 0 '*' -- "$CCMAP" \
	-S node1 --remote-worker always --remote-ccmap "$W" --json "$G/pq.sh" ::: x
check "--json, worker: the job's parent is the worker" grep -q -- ' --worker' "$T/out"

# --- grouping, --halt, --retries: as with a session per job --------------
# Job 1 says 1a, then waits until job 2 has said 2a 2b: its lines come
# together all the same (whichever job ends first).
grp="echo {}a; if [ {} = 1 ]; then while [ ! -e $G/two ]; do sleep 0.1; done; fi; echo {}b; [ {} = 1 ] || touch $G/two"
run_case "--as-completed: the jobs run" 0 "*" -- "$CCMAP" --as-completed \
	-S 2/node1 --remote-worker always --remote-ccmap "$W" "$grp" ::: 1 2
case $OUT in
$'1a\n1b\n2a\n2b\n' | $'2a\n2b\n1a\n1b\n') pass "--as-completed: each job's lines together" ;;
*) fail "--as-completed: each job's lines together"; printf '%s' "$OUT" | diag ;;
esac
rm -f "$G/two"
# --halt now,fail=1: job 1 fails once jobs 2-4 run; they are killed there.
run_case "--halt now,fail=1: as locally" 1 "" -- "$CCMAP" --halt now,fail=1 \
	-S 2/node1,2/node2 --remote-worker always --remote-ccmap "$W" \
	"if [ {} = 1 ]; then while [ \$(ls $G | grep -c '^h\\.') -lt 3 ]; do sleep 0.1; done; exit 1; fi; touch $G/h.{}; sleep 300" \
	::: 1 2 3 4
stderr_has "^ccmap: job 1: .* failed with exit status 1" "--halt now,fail=1: the job named"
check "--halt now,fail=1: the other jobs are killed there" \
	wait_for 30 sshbed_none_left
rm -f "$G"/*
# --retries: a job that fails on node1 runs again on node2.
run_case "--retries 2: again on the other host" 0 "ok node2
" -- "$CCMAP" --retries 2 -S 1/node1,1/node2 --remote-worker always \
	--remote-ccmap "$W" '[ "$(hostname)" = node2 ] || exit 3; echo {} $(hostname)' \
	::: ok

# --- --timeout kills the remote job ---------------------------------------
run_case "--timeout: as locally" 1 "quick
" -- "$CCMAP" -k -S node1 --remote-worker always --remote-ccmap "$W" \
	--timeout 2 "touch $G/slow.{}; sleep {}; echo quick" ::: 300 0
stderr_has "timed out" "--timeout: the message"
check "--timeout: the remote sleep is gone" wait_for 30 sshbed_none_left 1

# --- a worker of another protocol: refused, one line ----------------------
# A stand-in for a ccmap of another version: its hello says protocol 99.
cat >"$T/ccmap99" <<'EOF'
#!/bin/sh
printf '\011\000\000\000\024\000\000\000\000\000\000\000\000\000\000\000ccmap-worker\004\003\002\001\143\000\000\000'
cat >/dev/null
EOF
chmod 755 "$T" "$T/ccmap99"
run_case "protocol 99, always: the host is not used" 255 "" \
	-- "$CCMAP" -S node1 --remote-worker always --remote-ccmap "$T/ccmap99" \
	'echo {}' ::: a
stderr_has "^ccmap: -S node1: its ccmap --worker speaks protocol 99, this ccmap [0-9]+; not used" \
	"protocol 99: the line names the host and both versions"
run_case "protocol 99, auto: a session per job instead" 0 "a
" -- "$CCMAP" -S node1 --remote-ccmap "$T/ccmap99" 'echo {}' ::: a
is "$(wc -l <"$T/err")" 1 "protocol 99, auto: one line"
stderr_has "node1: its ccmap --worker speaks protocol 99, this ccmap [0-9]+; a session per job instead" \
	"protocol 99, auto: says so"
run_case "no ccmap there, always: the host is not used" 255 "" \
	-- "$CCMAP" -S node1 --remote-worker always 'echo {}' ::: a
stderr_has "^ccmap: -S node1: no ccmap --worker there" \
	"no ccmap there: says so"

# --- auto: found on the host's PATH ---------------------------------------
mkdir -m 755 "$T/wbin"
ln -s "$W" "$T/wbin/ccmap"
sshbed_stop_node 2
echo "SetEnv PATH=$T/wbin:/usr/bin:/bin" >>"$SSHBED_DIR/sshd2.conf"
check "node2 up again, with ccmap in its PATH" sshbed_start_node 2
"$CCMAP" -S 2/node1,2/node2 "touch $G/p.{}; while [ ! -e $G/go ]; do sleep 0.1; done; echo {}" \
	::: 1 2 3 4 >"$T/out" 2>"$T/err" &
pid=$!
four_p() { [ "$(find "$G" -name 'p.*' | wc -l)" -eq 4 ]; }
check "auto: 4 jobs running" wait_for 60 four_p
is "$(workers_on 2)" 1 "auto: node2 (ccmap on its PATH) runs a worker"
is "$(workers_on 1)" 0 "auto: node1 (no ccmap) does not"
touch "$G/go"
ends "auto" "$pid"
is "$s" 0 "auto: status 0"
is "$(sort -n "$T/out" | tr '\n' ' ')" "1 2 3 4 " "auto: every job once"
rm -f "$G"/*
"$CCMAP" -S 2/node2 --remote-worker never \
	"touch $G/n.{}; while [ ! -e $G/go ]; do sleep 0.1; done" ::: 1 2 &
pid=$!
two_n() { [ "$(find "$G" -name 'n.*' | wc -l)" -eq 2 ]; }
check "never: 2 jobs running" wait_for 60 two_n
is "$(workers_on 2)" 0 "never: no worker, though node2 has ccmap"
touch "$G/go"
ends "never" "$pid"
rm -f "$G"/*

# --- refused --------------------------------------------------------------
run_case "--remote-worker sometimes: refused" 255 "" \
	-- "$CCMAP" -S node1 --remote-worker sometimes 'echo {}' ::: a
is "$(cat "$T/err")" \
	"ccmap: --remote-worker: 'sometimes' is not auto, always or never" \
	"--remote-worker sometimes: one line"
run_case "--remote-ccmap with a space: refused" 255 "" \
	-- "$CCMAP" -S node1 --remote-ccmap '/a b/ccmap' 'echo {}' ::: a
stderr_has "^ccmap: --remote-ccmap: '/a b/ccmap' is not a path" \
	"--remote-ccmap with a space: says why"
run_case "--worker with other options: refused" 255 "" \
	-- "$CCMAP" -j2 --worker
stderr_has "^ccmap: --worker takes no other option" \
	"--worker with other options: says why"
run_case "always, no ccmap on either host: no host" 255 "" \
	-- "$CCMAP" -S node1,node2 --remote-worker always \
	--remote-ccmap /nonexistent/ccmap 'echo {}' ::: a
is "$(grep -c '^ccmap: -S node[12]: no ccmap --worker there' "$T/err")" 2 \
	"no ccmap on either host: each host's reason said"
stderr_has "^ccmap: -S: no host could be reached" \
	"no ccmap on either host: then that no host could be reached"
run_case "always with --transferfile: refused" 255 "" \
	-- "$CCMAP" -S node1 --remote-worker always --tf {} 'cat {}' ::: a
stderr_has "^ccmap: --remote-worker always: " \
	"always with --transferfile: says why"

if wait_for 30 sshbed_none_left; then
	pass "nothing left on the hosts"
else
	fail "nothing left on the hosts"
	sshbed_ps | diag
fi

done_testing
