#!/bin/bash
# t0000: the CLI starts, reports its version and usage, maps a command over
# items from stdin and from :::, and rejects an unknown option, and an
# ambiguous one naming the options it could be.
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

# A prefix of several long options is ambiguous, not unknown: say which.
run_case "ambiguous --jo exits 255" 255 '' -- $CCMAP --jo 2 echo ::: a
stderr_is $'ccmap: option \'--jo\' is ambiguous; possibilities: --jobs --joblog\n' \
	"ambiguous --jo: one line listing --jobs and --joblog"
run_case "ambiguous --ta=x exits 255" 255 '' -- $CCMAP --ta=x echo ::: a
stderr_is $'ccmap: option \'--ta\' is ambiguous; possibilities: --tag --tagstring\n' \
	"ambiguous --ta=x: the option without its value, and the choices"
# Names of one option (--results, --result, --res) are one choice.
run_case "ambiguous --resu exits 255" 255 '' -- $CCMAP --resu x echo ::: a
stderr_is $'ccmap: option \'--resu\' is ambiguous; possibilities: --resume --resume-failed --results\n' \
	"ambiguous --resu: each option once"
# Prefixes of one option only are no error.
run_case "--max-args=1 as --max-a=1" 0 $'a\n' -- $CCMAP --max-a=1 echo ::: a
run_case "--block-size and --blocksize share --bl" 0 $'a\n' --stdin $'a\n' -- $CCMAP --pipe --bl 1k cat

done_testing
