#!/bin/sh
# plugins.sh: plugin-mode benchmarks for `make bench`, timed with the shared
# harness's runner.py (interleaved rounds, medians, per-round ratios):
#   P1  len over ND lines (default 10M), ordered: --threads and --procs
#       against the in-process floor, map_limit -t2 -f len
#   P2  one item per task (--procs --chunksize 1) against Python's
#       Pool.map(chunksize=1), NP items (default 100000)
#   P3  gzip of NG small files (default 2000), on tmpfs and on disk: the
#       zlib plugin against `ccmap --procs gzip -kf`
# Environment: CCMAP, PLUGINS (the built plugin directory), CCMAP_BENCH,
# ROUNDS, ND, NP, NG.
set -eu
srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
CCMAP=${CCMAP:-$srcdir/ccmap}
PLUGINS=${PLUGINS:-$(dirname "$CCMAP")/src/plugins/.libs}
harness=${CCMAP_BENCH:-$srcdir/../shared/bench}
ROUNDS=${ROUNDS:-5}
ND=${ND:-10000000}
NP=${NP:-100000}
NG=${NG:-2000}
W=$(mktemp -d "${TMPDIR:-/tmp}/ccplug.XXXXXX")
trap 'rm -rf "$W"' EXIT
RUN="python3 $harness/runner.py --log $W/stderr.log"

cc -O2 -Wall -pthread -o "$W/map_limit" "$harness/limit/map_limit.c"
seq "$ND" > "$W/nd"
$RUN --title "P1 len over $ND lines, 2 workers, input order" --items "$ND" \
	--rounds "$ROUNDS" --base "map_limit -t2 len" \
	"map_limit -t2 len=$W/map_limit -t2 -f len < $W/nd > /dev/null" \
	"ccmap --threads --so len=$CCMAP -j2 --so $PLUGINS/len.so < $W/nd > /dev/null" \
	"ccmap --procs --so len=$CCMAP --procs -j2 --so $PLUGINS/len.so < $W/nd > /dev/null"
"$W/map_limit" -t2 -f len < "$W/nd" > "$W/want"
echo "- check: ccmap --procs len == map_limit len: $("$CCMAP" --procs -j2 --so "$PLUGINS/len.so" < "$W/nd" | cmp -s - "$W/want" && echo yes || echo no)"

cat > "$W/pool1.py" <<'PY'
import multiprocessing as mp, sys
n = int(sys.argv[1])
if __name__ == "__main__":
    with mp.Pool(2) as p:
        r = p.map(len, (str(i) for i in range(1, n + 1)), chunksize=1)
    sys.stdout.write("".join("%d\n" % x for x in r))
PY
seq "$NP" > "$W/np"
$RUN --title "P2 one item per task, $NP items, 2 worker processes" --items "$NP" \
	--rounds "$ROUNDS" --base "Python Pool.map, chunksize 1" \
	"Python Pool.map, chunksize 1=python3 $W/pool1.py $NP > /dev/null" \
	"ccmap --procs, chunksize 1=$CCMAP --procs -j2 --chunksize 1 --so $PLUGINS/len.so < $W/np > /dev/null"

# P3 twice: in memory (tmpfs), where it weighs what the two spend per file
# (a process spawned against zlib in process), and on the disk of $TMPDIR.
# On a journal-less ext4 each new inode skips those deleted in the last
# minutes (-f deletes 2000 a round): a cost in the kernel, the same for
# both commands, that grows with the rounds and may outweigh all the rest,
# so the figure on disk depends on what ran just before.
p3() {
	mkdir "$1"
	i=0
	while [ $i -lt "$NG" ]; do
		head -c 4096 /dev/urandom | od -An -tx1 > "$1/f$i"
		i=$((i + 1))
	done
	ls "$1"/f* > "$1.files"
	$RUN --title "P3 gzip of $NG small files ($2), 2 workers" \
		--items "$NG" --rounds "$ROUNDS" --base "ccmap --procs gzip -kf" \
		"ccmap --procs gzip -kf=$CCMAP --procs -j2 gzip -kf < $1.files" \
		"ccmap --so gzip -f=$CCMAP -j2 --so $PLUGINS/gzip.so -f < $1.files"
	echo "- check: $(ls "$1"/*.gz | wc -l) .gz files, gunzip -t: $(gunzip -t "$1"/*.gz && echo ok)"
}
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	M=$(mktemp -d /dev/shm/ccplug.XXXXXX)
	trap 'rm -rf "$W" "$M"' EXIT
	p3 "$M/g" "tmpfs"
fi
p3 "$W/g" "on the disk of ${TMPDIR:-/tmp}"
