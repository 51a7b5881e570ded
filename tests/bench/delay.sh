#!/bin/sh
# delay.sh: part of `make bench` (timing belongs here, never in a test).
# How far apart --delay starts jobs, in ccmap and in GNU parallel: each job
# prints when it starts; the table shows the smallest, mean and largest
# gap between consecutive starts (Starttime in --joblog -, to the
# millisecond), which should all be at least the delay.
#
# Environment: CCMAP (the binary), DELAY (default 0.2), N (jobs, default 10).
set -eu
CCMAP=${CCMAP:-ccmap}
DELAY=${DELAY:-0.2}
N=${N:-10}

gaps() { # NAME COMMAND...
	name=$1
	shift
	"$@" --joblog - true ::: $(seq "$N") | sed 1d | cut -f 3 | sort -n |
	    awk -v name="$name" -v d="$DELAY" '
		NR > 1 { g = $1 - p; s += g; if (min == "" || g < min) min = g; if (g > max) max = g }
		{ p = $1 }
		END { printf "%-28s %8.4f %8.4f %8.4f  %s\n", name, min, s / (NR - 1), max,
		    (min >= d - 0.001 ? "ok" : "SHORTER THAN THE DELAY") }'
}

printf '%-28s %8s %8s %8s   (--delay %s, %s jobs, seconds)\n' \
    "gap between job starts" min mean max "$DELAY" "$N"
gaps "ccmap -j4 (threads)" "$CCMAP" -j4 --delay "$DELAY"
gaps "ccmap -j4 --procs" "$CCMAP" -j4 --procs --delay "$DELAY"
if command -v parallel >/dev/null 2>&1; then
	gaps "parallel -j4" parallel --will-cite -j4 --delay "$DELAY"
fi
