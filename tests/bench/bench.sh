#!/bin/sh
# bench.sh: `make bench`.  Times ccmap beside its peers (xargs, GNU parallel,
# xe, Python's pools) and the floor programs, with the shared harness
# (peers.sh), and prints its ratio tables.  Not part of `make check`:
# timing belongs here, never in a test.
#
# Environment:
#   CCMAP        the binary to time (make bench sets it)
#   CCMAP_BENCH  the harness directory (default: ../shared/bench beside the
#                source tree)
#   SECTIONS     peers.sh sections (default: a2k,a10k,aout,c,d,dpy,e,start)
#   PLUGINS      the built plugins (default: src/plugins/.libs by CCMAP)
#   ROUNDS       rounds per table (default 5)
#   NA1 NA2 NC ND N1 N2   sizes, passed on to the harness
#   NQ           MiB of input for the pipe-mode row (default 256)
set -eu
srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
CCMAP=${CCMAP:-$srcdir/ccmap}
harness=${CCMAP_BENCH:-$srcdir/../shared/bench}
if [ ! -x "$harness/peers.sh" ]; then
	echo "bench: no harness at $harness/peers.sh (set CCMAP_BENCH)" >&2
	exit 1
fi
for tool in parallel xe pexec parallel.moreutils; do
	command -v "$tool" >/dev/null 2>&1 ||
		echo "bench: $tool is missing (apt-get install parallel xe pexec moreutils)" >&2
done
# Section e runs `ccmap sh -c SCRIPT _`, xargs style: that needs -q.
CCMAP_KEEP=${CCMAP_KEEP:--j2 -k -q}
# Section d gets a row for the len plugin.
PLUGINS=${PLUGINS:-$(dirname "$CCMAP")/src/plugins/.libs}
CCMAP_PLUGIN=${CCMAP_PLUGIN:---so $PLUGINS/len.so}
export CCMAP_KEEP CCMAP_PLUGIN PLUGINS
"$harness/peers.sh" -s "${SECTIONS:-a2k,a10k,aout,c,d,dpy,e,start}" \
	-r "${ROUNDS:-5}" "$CCMAP"
# Pipe mode: --pipe wc -l against cat | wc -l and GNU parallel (NQ MiB).
CCMAP_BENCH=$harness sh "$srcdir/tests/bench/pipe.sh"
# The plugin workloads: threads and processes, one item per task, gzip.
CCMAP_BENCH=$harness exec sh "$srcdir/tests/bench/plugins.sh"
