#!/bin/bash
# t0000: the CLI starts, reports its version and usage, maps a command over
# items from stdin and from :::, and rejects an unknown option.
. "$(dirname "$0")/setup.sh"

run_case "--version exits 0" 0 '*' -- $CCMAP --version
stdout_has 'ccmap' "--version names ccmap"

run_case "--help exits 0" 0 '*' -- $CCMAP --help
stdout_has '--jobs' "--help mentions --jobs"

run_case "items from stdin" 0 $'a\nb\n' --stdin $'a\nb\n' -- $CCMAP echo

run_case "items from :::" 0 $'x\ny\n' -- $CCMAP echo ::: x y

run_case "unknown option exits 255" 255 '' -- $CCMAP --no-such-option
is "$(wc -l <"$T/err" | tr -d ' ')" 1 "unknown option: one line on stderr"
stderr_has '^ccmap: ' "unknown option: message starts with 'ccmap: '"

done_testing
