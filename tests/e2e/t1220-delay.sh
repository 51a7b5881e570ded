#!/bin/bash
# t1220: --delay DURATION: jobs start at least DURATION apart, the first at
# once, in input order; the durations --timeout takes; refused with a
# plugin.  The one timing check is a loose lower bound: the span from the
# first Starttime in --joblog to the last is at least one delay less than
# the delays between them (a start recorded a little late shortens the gap
# after it, never the span much), which a slow machine cannot break and an
# ignored --delay fails; how close to the delay the starts come is for
# `make bench` (tests/bench/delay.sh).
. "$(dirname "$0")/setup.sh"

command -v timeout >/dev/null 2>&1 || skip_all "no timeout(1)"

# gaps LOG: the gaps between consecutive Starttimes, in ms, one a line.
gaps() {
	sed 1d "$1" | cut -f 3 | sort -n |
		awk 'NR > 1 { printf "%d\n", ($1 - p) * 1000 + 0.5 } { p = $1 }'
}

# spread LOG MS: "ok" if the first and last starts are at least MS apart.
spread() {
	gaps "$1" | awk -v min="$2" '{ t += $1 } END { print (t >= min ? "ok" : t) }'
}

run_case "--delay 0.3 -j4: every job runs, in order" 0 $'1\n2\n3\n4\n' \
	-- timeout 60 $CCMAP -j4 --delay 0.3 --joblog "$T/log" echo ::: 1 2 3 4
gaps "$T/log" >"$T/gaps"
is "$(wc -l <"$T/gaps")" 3 "--delay 0.3: three gaps between four starts"
is "$(spread "$T/log" 600)" ok "--delay 0.3: four starts spread over 0.6 s at least ($(tr '\n' ' ' <"$T/gaps")ms)"
is "$(sed 1d "$T/log" | sort -t '	' -k3,3n | cut -f 1 | tr '\n' ' ')" "1 2 3 4 " \
	"--delay: the jobs start in input order"

# Jobs that last longer than the delay: still one start per delay, all run.
run_case "--delay 100ms with slower jobs" 0 $'a\nb\nc\n' \
	-- timeout 60 $CCMAP -j3 --delay 100ms --joblog "$T/log2" 'sleep 0.2; echo {}' ::: a b c
is "$(spread "$T/log2" 100)" ok "--delay 100ms: three starts spread over 0.1 s at least"

# With retries: the retried attempt waits for the delay too.
run_case "--delay with --retries: every attempt runs" 1 $'x\n' \
	-- timeout 60 $CCMAP --delay 0.1 --retries 3 'echo x; false' ::: 1

for d in 0 0.5 250ms 1s 0.01m; do
	run_case "--delay $d is accepted" 0 $'ok\n' \
		-- timeout 60 $CCMAP --delay "$d" echo ::: ok
done
for d in x -1 1y '' 1.2.3 ms; do
	run_case "--delay '$d' is refused: exit 255" 255 '' \
		-- timeout 60 $CCMAP --delay "$d" echo ::: a
	stderr_has "^ccmap: invalid duration '$d' for --delay" "--delay '$d': names the option"
done
P=${CCMAP_PLUGIN_DIR:-$SRC/../../src/plugins/.libs}
run_case "--delay with a plugin is refused" 255 '' \
	-- timeout 60 $CCMAP --delay 1 --so "$P/len.so" ::: a
stderr_is $'ccmap: --delay applies to commands, not to plugins (--so)\n' \
	"--delay with a plugin: says so"

done_testing
