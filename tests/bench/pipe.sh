#!/bin/sh
# pipe.sh: the pipe-mode benchmark for `make bench`, timed with the shared
# harness's runner.py (interleaved rounds, medians, per-round ratios):
#   Q1  `ccmap --pipe --block 1M wc -l` over NQ MiB of lines (default 64,
#       quick; the goal in PERF.md is for NQ=1024), from a file and from a
#       pipe, against the floor `cat FILE | wc -l` and GNU parallel --pipe
# Environment: CCMAP, CCMAP_BENCH, ROUNDS, NQ (MiB), PARALLEL=0 to leave
# GNU parallel out (it is slow: about 4 minutes a GiB here).
set -eu
srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
CCMAP=${CCMAP:-$srcdir/ccmap}
harness=${CCMAP_BENCH:-$srcdir/../shared/bench}
ROUNDS=${ROUNDS:-3}
NQ=${NQ:-64}
W=$(mktemp -d "${TMPDIR:-/tmp}/ccpipe.XXXXXX")
trap 'rm -rf "$W"' EXIT
RUN="python3 $harness/runner.py --log $W/stderr.log"

seq 1 200000000 | head -c "$((NQ * 1024 * 1024))" > "$W/lines"
set -- \
	"cat FILE, wc -l=cat $W/lines | wc -l" \
	"ccmap --pipe, FILE on stdin=$CCMAP --pipe --block 1M wc -l < $W/lines" \
	"cat FILE, ccmap --pipe=cat $W/lines | $CCMAP --pipe --block 1M wc -l"
if [ "${PARALLEL:-1}" != 0 ] && command -v parallel >/dev/null 2>&1; then
	set -- "$@" "GNU parallel --pipe=parallel --will-cite -k --pipe --block 1M wc -l < $W/lines"
fi
$RUN --title "Q1 --pipe --block 1M wc -l over $NQ MiB of lines" \
	--items "$NQ" --rounds "$ROUNDS" --base "cat FILE, wc -l" "$@"
want=$(wc -l < "$W/lines")
got=$("$CCMAP" --pipe --block 1M wc -l < "$W/lines" | awk '{ n += $1 } END { print n }')
echo "- check: ccmap's blocks hold every line: $([ "$got" = "$want" ] && echo yes || echo "no ($got, not $want)")"
