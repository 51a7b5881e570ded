#!/bin/bash
# ssh.sh: the -S benchmark for `make bench`, timed with the shared harness's
# runner.py (interleaved rounds, medians, per-round ratios), on the e2e
# tests' SSH bed (tests/e2e/sshbed.sh: a real sshd on 127.0.0.1, node1):
#   S1  NS `true` jobs (default 200), 4 at a time on node1:
#       - ccmap -S 4/node1, its master's start-up included;
#       - the floor: the same commands sent by xargs -P4 as ssh clients
#         over a master started before the timing (ControlMaster=no);
#       - GNU parallel at its best: -S 4/node1 with --ssh over that same
#         master;
#       and, to tell start-up from per-job cost, ccmap with one job, and
#       the floor with its master's start-up in the timing.
# Goals (issue 11): ccmap <= 1.2x the floor, GNU parallel >= 5x ccmap.
#   S2  NW `/bin/true` jobs (default 2000), -S 2/node1 with the host's
#       ccmap --worker (this ccmap: the host is this machine), against the
#       same run here (-j2), and against a session per job
#       (--remote-worker never).  Goals (issue 12): worker <= 1.5x here;
#       a session per job >= 10x the worker.
#   S3  the len plugin over NL lines (default 1M): --so len -S 2/node1
#       (the plugin in the host's worker) against --procs -j2 here.  Goal
#       (issue 12): here / -S >= 0.5x.
# The master's start-up (about 0.2 s here) is in ccmap's time and not in
# the floor's, so a third ratio sets ccmap beside the floor that starts its
# master too.  Each command is run once more outside the timing with
# `echo {} $(hostname)` for `true`, to check that all NS items ran on node1
# (and, for the floor and GNU parallel, through the master: that variant
# names a port where nothing listens, so a session that would not use the
# master fails).
#
# The bed needs root (a test user, sshd): without it, one line says the
# rows are skipped, and the status is 0.
# Environment: CCMAP, CCMAP_BENCH, ROUNDS (default 5), NS (default 200),
# NW (2000), NL (1000000).
set -eu
srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
CCMAP=${CCMAP:-$srcdir/ccmap}
harness=${CCMAP_BENCH:-$srcdir/../shared/bench}
ROUNDS=${ROUNDS:-5}
NS=${NS:-200}
NW=${NW:-2000}
NL=${NL:-1000000}

skipped() {
	echo "bench: the -S rows are skipped: $1"
	exit 0
}
[ "$(id -u)" -eq 0 ] || skipped "the SSH test bed needs root (a test user, sshd)"
command -v python3 >/dev/null 2>&1 || skipped "no python3 (runner.py)"
if [ ! -f "$harness/runner.py" ]; then
	echo "bench: no harness at $harness/runner.py (set CCMAP_BENCH)" >&2
	exit 1
fi

# The bed stands on the e2e tests' helpers ($T, diag, wait_for, gone,
# skip_all), which speak TAP: not here.
. "$srcdir/tests/e2e/setup.sh"
_tap_done=1
skip_all() { skipped "$1"; }
. "$srcdir/tests/e2e/sshbed.sh"

sshbed_start 1
cfg=$SSHBED_CONFIG
ctl=$T/ctl
RUN="python3 $harness/runner.py --log $T/stderr.log --json $T/s1.json --sub $T=\$T"

# The master of the floor and of GNU parallel: in the foreground (-N, a
# child of this script: PID 1 here reaps no orphans), ready when -O check
# says so, closed at the end.
master_ready() { ssh -F "$cfg" -S "$ctl" -O check node1 2>/dev/null; }
master_start() {
	ssh -F "$cfg" -o ControlMaster=yes -o ControlPath="$ctl" \
		-o ControlPersist=no -N node1 </dev/null >/dev/null 2>&1 &
	master=$!
	wait_for 30 master_ready || { echo "bench: the master did not start" >&2; exit 1; }
}
master_stop() {
	ssh -F "$cfg" -S "$ctl" -O exit node1 2>/dev/null || kill "$master" 2>/dev/null || true
	wait "$master" 2>/dev/null || true
}

client="ssh -F $cfg -S $ctl -o ControlMaster=no"
floor="xargs -P4 -I{} $client node1"
# The floor with the start-up of its master, in the foreground too; the
# master listens once its socket is there (ssh makes it elsewhere, then
# links it to its name).
cat >"$T/own.sh" <<EOF
ssh -F $cfg -o ControlMaster=yes -o ControlPath=$T/own -o ControlPersist=no \\
	-N node1 </dev/null &
until [ -S $T/own ]; do
	kill -0 \$! || exit 1
	sleep 0.005
done
seq $NS | xargs -P4 -I{} ssh -F $cfg -S $T/own -o ControlMaster=no node1 true
s=\$?
ssh -F $cfg -S $T/own -O exit node1 2>/dev/null
wait
exit \$s
EOF
ccmap="$CCMAP -S 4/node1 --remote-worker never --ssh 'ssh -F $cfg'"
parallel="parallel --will-cite -S 4/node1 --ssh '$client'"

# The check: a command once more, with `echo {} $(hostname)` for `true`:
# every item, once, on node1.
on_node1() { # NAME COMMAND
	n=$(sh -c "$2" </dev/null 2>>"$T/check.err" |
		awk '$2 == "node1" { print $1 }' | sort -un | wc -l)
	echo "- check: $1 ran $n of the $NS items on node1$([ "$n" -eq "$NS" ] || echo ': NOT ALL')"
}
echo_host="'echo {} \$(hostname)'"

master_start
echo
echo "-S: $NS jobs on node1, 4 at a time ($(ssh -V 2>&1); $(parallel --version | head -1))"
$RUN --title "S1 $NS true jobs, -S 4/node1 (ssh over a ControlMaster)" \
	--items "$NS" --rounds "$ROUNDS" --base floor \
	"floor=seq $NS | $floor true" \
	"ccmap=seq $NS | $ccmap true" \
	"GNU parallel=seq $NS | $parallel true" \
	"floor, master start-up timed=sh $T/own.sh" \
	"ccmap, 1 job=echo 1 | $ccmap true"
# Through the master only: a session that would open a connection of its
# own is sent to port 1, where nothing listens.
on_node1 "the floor" "seq $NS | xargs -P4 -I{} $client -o Port=1 node1 $echo_host"
on_node1 "ccmap" "seq $NS | $ccmap $echo_host"
on_node1 "GNU parallel" "seq $NS | parallel --will-cite -S 4/node1 --ssh '$client -o Port=1' $echo_host"
master_stop
python3 - "$T/s1.json" <<'PY'
import json, sys
r = {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    r[d["name"]] = d
def row(name, x, goal, met):
    print(f"- {name}: {x:.2f}x (goal {goal}){'' if met else ': NOT MET'}")
c = r["ccmap"]["ratio_vs_base"]
p = r["GNU parallel"]["ratio_vs_base"]
o = r["floor, master start-up timed"]["ratio_vs_base"]
row("ccmap / floor", c, "<= 1.2x", c <= 1.2)
# (Per-round medians against the floor: their quotients.)
row("GNU parallel / ccmap", p / c, ">= 5x", p / c >= 5)
# Like for like, the master's start-up on both sides: no goal, a guide to
# how much of ccmap / floor is that start-up.
print(f"- ccmap / floor with its master start-up: {c / o:.2f}x")
PY

# --- S2, S3: the host's ccmap --worker (issue 12) -------------------------
W=$(cd "$(dirname "$CCMAP")" && pwd)/$(basename "$CCMAP")
worker="$CCMAP -S 2/node1 --ssh 'ssh -F $cfg' --remote-ccmap $W"
chmod 755 "$T"
echo
echo "-S with a worker: $NW /bin/true jobs, 2 at a time; the len plugin over $NL lines"
RUN2="python3 $harness/runner.py --log $T/stderr.log --json $T/s2.json --sub $T=\$T"
$RUN2 --title "S2 $NW /bin/true jobs, -S 2/node1, the host's ccmap --worker" \
	--items "$NW" --rounds "$ROUNDS" --base here \
	"here=seq $NW | $CCMAP -j2 /bin/true" \
	"worker=seq $NW | $worker --remote-worker always /bin/true" \
	"a session per job=seq $NW | $worker --remote-worker never /bin/true"
seq "$NL" >"$T/lines"
len=$(cd "$(dirname "$W")" && pwd)/src/plugins/.libs/len.so
[ -f "$len" ] || len=$srcdir/src/plugins/.libs/len.so
$RUN2 --title "S3 the len plugin over $NL lines, -S 2/node1" \
	--items "$NL" --rounds "$ROUNDS" --base here \
	"here=$CCMAP --procs -j2 --so $len <$T/lines" \
	"-S 2/node1=$worker --so $len <$T/lines" \
	"-S 2/node1, one item=$worker --so $len ::: x" \
	"one ssh login=ssh -F $cfg node1 true"
# The check: the worker ran them on node1, the plugin's output is here's.
n=$(seq "$NW" | sh -c "$worker --remote-worker always 'echo {} \$(hostname)'" 2>>"$T/check.err" |
	awk '$2 == "node1" { print $1 }' | sort -un | wc -l)
echo "- check: the worker ran $n of the $NW items on node1$([ "$n" -eq "$NW" ] || echo ': NOT ALL')"
if cmp -s <(sh -c "$worker --so $len" <"$T/lines") \
	<("$CCMAP" --procs -j2 --so "$len" <"$T/lines"); then
	echo "- check: len over -S: the output of --so here, byte for byte"
else
	echo "- check: len over -S: NOT the output of --so here"
fi
python3 - "$T/s2.json" <<'PY'
import json, sys
r = {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    r[(d["title"][:2], d["name"])] = d
def row(name, x, goal, met):
    print(f"- {name}: {x:.2f}x (goal {goal}){'' if met else ': NOT MET'}")
w = r[("S2", "worker")]["ratio_vs_base"]
p = r[("S2", "a session per job")]["ratio_vs_base"]
l = r[("S3", "-S 2/node1")]["ratio_vs_base"]
row("worker / here", w, "<= 1.5x", w <= 1.5)
row("a session per job / worker", p / w, ">= 10x", p / w >= 10)
row("len: here / -S", 1 / l, ">= 0.5x", 1 / l >= 0.5)
# What the start-up is made of: a login alone, and -S with one item; the
# items' own part is -S less its one-item run.
one = r[("S3", "-S 2/node1, one item")]["wall_median"]
ssh = r[("S3", "one ssh login")]["wall_median"]
here = r[("S3", "here")]["wall_median"]
full = r[("S3", "-S 2/node1")]["wall_median"]
print(f"- len over -S: start-up {one:.3f} s (one ssh login alone: {ssh:.3f} s);"
      f" the items' part {full - one:.3f} s, here / that: {here / max(full - one, 1e-9):.2f}x")
PY
