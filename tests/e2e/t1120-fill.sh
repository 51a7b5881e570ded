#!/bin/bash
# t1120: -X, -m and --xargs put as many items in a command as its line has
# room for, reckoned as GNU parallel reckons it, spread the last items over
# the job slots (not --xargs), and never pass the kernel's limits.  As GNU
# parallel, byte for byte.
. "$(dirname "$0")/setup.sh"
. "$SRC/like-parallel.sh"

like_parallel "--max-line-length-allowed" '' '*' -- --max-line-length-allowed
is "$(cat "$T/ccmap.out")" "$(parallel --will-cite --max-line-length-allowed)" \
	"--max-line-length-allowed: the same number"

items=$(seq 10 | tr '\n' ' ')
# shellcheck disable=SC2086
{
like_parallel "-X -j1 repeats the word" '' $'x1y x2y x3y\n' -- \
	-j1 -X echo x{}y ::: 1 2 3
like_parallel "-m -j1 does not" '' $'x1 2 3y\n' -- -j1 -m echo x{}y ::: 1 2 3
like_parallel "--xargs -j1" '' $'x1 2 3y\n' -- -j1 --xargs echo x{}y ::: 1 2 3
like_parallel "-X -j4 spreads the last items" '' \
	$'1 2 3\n4 5 6\n7 8 9\n10\n' -- -j4 -X echo ::: $items
like_parallel "-m -j4 spreads the last items" '' \
	$'1 2 3\n4 5 6\n7 8 9\n10\n' -- -j4 -m echo ::: $items
like_parallel "--xargs -j4 does not" '' $'1 2 3 4 5 6 7 8 9 10\n' -- \
	-j4 --xargs echo ::: $items
like_parallel "-X -n3 -j2: the job at the end is spread" '' $'1 2 3\n4\n5\n' -- \
	-j2 -X -n3 echo ::: 1 2 3 4 5
like_parallel "-X -n3 -j2: one that ends full too" '' $'1 2 3\n4 5\n6\n' -- \
	-j2 -X -n3 echo ::: 1 2 3 4 5 6
like_parallel "-X -j3 -n3" '' $'1 2 3\n4 5 6\n7\n' -- \
	-j3 -X -n3 echo ::: 1 2 3 4 5 6 7
}
like_parallel "-X positional parts stay once" '' $'xby\n' -- \
	-X -j1 echo x{2}y ::: a b c d
like_parallel "-X {1} in a repeated word" '' $'xayaz xaybz xaycz xaydz\n' -- \
	-X -j1 echo x{1}y{}z ::: a b c d
like_parallel "-X {#} and {.}" '' $'x1y1z a b\n' -- \
	-X -j1 echo x{#}y{%}z {.} ::: a.1 b.2
like_parallel "-X two sources: per value" '' \
	$'xay x1y xay x2y xby x1y xby x2y\n' -- -X -j1 echo x{}y ::: a b ::: 1 2
like_parallel "-X a word cut at whitespace" '' $'[xa][xb y][paq][pbq ras][rbs]' -- \
	-X -j1 -q printf '[%s]' 'x{} y' 'p{}q r{}s' ::: a b
like_parallel "-m -q: each item an argument" '' "[xa][b y][pa][bq ra][bs]" -- \
	-m -j1 -q printf '[%s]' 'x{} y' 'p{}q r{}s' ::: a b

# Many items: the same commands as GNU parallel, whatever is in them.
seq 40000 >"$T/seq"
n=0
for args in "-j3 -X echo" "-j3 --xargs echo" "-j2 -m echo x{}y" \
    "-j5 -X echo {} {.} {#}" "-j2 -X echo x{2}y{}" "-j2 -m echo {1} {}" \
    "-j4 -X -q echo a{}b" "-j3 -N 13000 echo"; do
	n=$((n + 1))
	# shellcheck disable=SC2086
	like_parallel "40000 items: $args" "$(cat "$T/seq")"$'\n' '*' -- $args
	if [ $n -eq 1 ]; then
		is "$(awk '{ print NF }' "$T/ccmap.out" | tr '\n' ' ')" \
			"12460 10609 10609 2108 2108 2106 " \
			"40000 items: $args: lines under 63664 bytes, the last spread"
	fi
done

# Items of about 10 kB, 10 MB in all (five times ARG_MAX): each passed once,
# and no command fails (E2BIG would be exit status 255 from the job).
cat >"$T/count.sh" <<'SH'
#!/bin/sh
for a; do echo "${a%%y*} ${#a}"; done
SH
chmod +x "$T/count.sh"
awk 'BEGIN { for (i = 0; i < 1000; i++) {
	s = sprintf("%06d", i); n = 9994 + (i * 37) % 500
	while (length(s) < n + 6) s = s "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
	print substr(s, 1, n + 6) } }' >"$T/big"
for mode in -X -m --xargs; do
	run_case "$mode: 10 MB of items" 0 '*' -- \
		sh -c "$CCMAP -j2 $mode $T/count.sh < $T/big"
	is "$(cut -d' ' -f1 "$T/out" | sort -u | wc -l)" 1000 \
		"$mode: 10 MB of items: each one passed"
	is "$(wc -l <"$T/out")" 1000 "$mode: 10 MB of items: each one once"
	cut -d' ' -f1 "$T/out" >"$T/got"
	awk '{ printf "%06d\n", NR - 1 }' "$T/big" >"$T/want"
	check "$mode: 10 MB of items: in input order" cmp -s "$T/got" "$T/want"
done
like_parallel "-X 10 MB of items: as GNU parallel" "$(cat "$T/big")"$'\n' '*' -- \
	-j2 -X "$T/count.sh"
# One million short items: 6.9 MB of arguments.
seq 1000000 >"$T/m"
run_case "-X a million items" 0 '*' -- sh -c "$CCMAP -X echo < $T/m"
is "$(tr ' ' '\n' <"$T/out" | cmp - "$T/m" && echo same)" same \
	"-X a million items: each once, in order"

# A large environment leaves less room: still no E2BIG.
big=$(head -c 100000 /dev/zero | tr '\0' x)
run_case "-X with 1.8 MB of environment" 0 '*' -- \
	env B1="$big" B2="$big" B3="$big" B4="$big" B5="$big" B6="$big" \
	B7="$big" B8="$big" B9="$big" B10="$big" B11="$big" B12="$big" \
	B13="$big" B14="$big" B15="$big" B16="$big" B17="$big" B18="$big" \
	sh -c "$CCMAP -j2 -X $T/count.sh < $T/big"
is "$(wc -l <"$T/out")" 1000 "-X with 1.8 MB of environment: every item"

# An item too long for a line is an error, after the jobs before it.
long=$(head -c 70000 /dev/zero | tr '\0' x)
for mode in -X -m -n2; do
	like_parallel "$mode: an item too long" "a"$'\n'"$long"$'\n'"b"$'\n' $'a\n' -- \
		-j1 $mode echo
	is "$(cat "$T/ccmap.err")" \
		"ccmap: command line too long (70005 >= 63664) at item 2: ${long:0:50}..." \
		"$mode: an item too long: the message"
done
run_case "-X --so is refused" 255 '' -- $CCMAP -X --so len ::: a
stderr_has "^ccmap: --so: -X, -m and --xargs are for commands only" \
	"-X --so: the message"

done_testing
