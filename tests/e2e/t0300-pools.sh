#!/bin/bash
# t0300: pools: -j/--jobs/-P in the forms N, N%, +N, -N and the default;
# --threads and --procs give the same results; --chunksize; {%} slots are
# in 1..N, distinct among running jobs, given in order; concurrency really reaches N (a
# barrier that only N jobs running at once can pass) and does not exceed it.
. "$(dirname "$0")/setup.sh"

NCPU=$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc)

# barrier.sh DIR N SLOT ITEM: marks SLOT as taken, waits (at most 20 s) until
# N slots are taken, then logs how many jobs are running and leaves.
cat >"$T/barrier.sh" <<'EOF'
#!/bin/sh
d=$1 n=$2 slot=$3 item=$4
mkdir "$d/run.$item"
echo "$item $slot" >>"$d/pairs"
: >"$d/slot.$slot"
i=0
while [ "$(ls "$d" | grep -c '^slot\.')" -lt "$n" ]; do
	i=$((i + 1))
	if [ $i -gt 400 ]; then
		echo "timeout: slot $slot item $item" >&2
		rmdir "$d/run.$item"
		exit 1
	fi
	sleep 0.05
done
ls "$d" | grep -c '^run\.' >>"$d/conc"
sleep 0.2
rmdir "$d/run.$item"
echo "$item"
EOF
chmod +x "$T/barrier.sh"

# pool_is NAME N OPTIONS...: with OPTIONS, N jobs run at once (N distinct
# slots are all taken at the same time), and never more than N.
pool_is() {
	_name=$1 _n=$2
	shift 2
	rm -rf "$T/b"
	mkdir "$T/b"
	_items=$(seq $((_n + 2)))
	_exp=$(printf '%s\n' $_items; echo x)
	_exp=${_exp%x}
	run_case "$_name: $_n jobs at once pass the barrier" 0 "$_exp" -- \
		$CCMAP "$@" "$T/barrier.sh" "$T/b" "$_n" '{%}' '{}' ::: $_items
	_max=$(sort -n "$T/b/conc" 2>/dev/null | tail -n 1)
	is "${_max:-none}" "$_n" "$_name: at most $_n jobs at once"
	is "$(ls "$T/b" | grep -c '^slot\.')" "$_n" "$_name: slots used are exactly 1..$_n"
	for _s in $(seq "$_n"); do
		[ -e "$T/b/slot.$_s" ] || { fail "$_name: slot $_s used"; return; }
	done
	pass "$_name: slots are 1..$_n"
	# As GNU parallel numbers them: job i of the first N in slot i.
	is "$(sort -n "$T/b/pairs" | head -n "$_n" | awk '$1 != $2' | wc -l | tr -d ' ')" 0 \
		"$_name: the first $_n jobs in slots 1..$_n, in order"
}

pct() { # P: P% of the CPUs, at least 1
	_v=$((NCPU * $1 / 100))
	[ "$_v" -ge 1 ] || _v=1
	echo "$_v"
}
minus1=$((NCPU - 1))
[ "$minus1" -ge 1 ] || minus1=1

for ex in --threads --procs; do
	pool_is "-j3 $ex" 3 $ex -j3
	pool_is "--jobs 4 $ex" 4 $ex --jobs 4
	pool_is "--jobs=2 $ex" 2 $ex --jobs=2
	pool_is "-P 3 $ex" 3 $ex -P 3
	pool_is "-j +1 $ex" $((NCPU + 1)) $ex -j +1
	pool_is "-j -1 $ex" "$minus1" $ex -j -1
	pool_is "-j 200% $ex" "$(pct 200)" $ex -j 200%
	pool_is "-j 100% $ex" "$(pct 100)" $ex -j 100%
	pool_is "-j 50% $ex" "$(pct 50)" $ex -j 50%
	pool_is "default pool: online CPUs $ex" "$NCPU" $ex
done
pool_is "-j5 --chunksize 1" 5 -j5 --chunksize 1

# --- {%} slots ----------------------------------------------------------
for ex in --threads --procs; do
	for cs in 1 4; do
		run_case "{%} in 1..3 (-j3 $ex --chunksize $cs)" 0 '*' -- \
			$CCMAP $ex -j3 --chunksize $cs echo '{%}' ::: $(seq 60)
		bad=$(grep -cv '^[123]$' "$T/out" || true)
		is "$bad $(wc -l <"$T/out" | tr -d ' ')" "0 60" "{%} values all in 1..3 ($ex --chunksize $cs)"
	done
done

# --- --threads and --procs agree ----------------------------------------
cat >"$T/mix.sh" <<'EOF'
#!/bin/sh
# prints its arguments and to stderr, fails on multiples of 7
echo "out $*"
echo "err $*" >&2
[ $(( $1 % 7 )) -ne 0 ]
EOF
chmod +x "$T/mix.sh"
for opts in "" "--chunksize 5" "-j1" "-j7 --chunksize 3" "--tag"; do
	set +e
	$CCMAP --threads $opts "$T/mix.sh" '{}' '{#}' '{.}' ::: $(seq 50) >"$T/th.out" 2>"$T/th.err"
	st=$?
	$CCMAP --procs $opts "$T/mix.sh" '{}' '{#}' '{.}' ::: $(seq 50) >"$T/pr.out" 2>"$T/pr.err"
	sp=$?
	set -e
	is "$st $sp" "7 7" "--threads and --procs: same exit status (7 failures) [$opts]"
	check "--threads and --procs: same stdout [$opts]" cmp -s "$T/th.out" "$T/pr.out"
	check "--threads and --procs: same stderr [$opts]" cmp -s "$T/th.err" "$T/pr.err"
done

# --- --chunksize --------------------------------------------------------
seq 1000 >"$T/seq"
for ex in --threads --procs; do
	for cs in 1 2 7 100 1000 5000; do
		run_case "--chunksize $cs $ex: all items, in order" 0 "$(cat "$T/seq")"$'\n' -- \
			$CCMAP $ex -j3 --chunksize $cs echo ::: $(cat "$T/seq")
	done
	run_case "--chunksize=3 $ex with {#}" 0 $'1 a\n2 b\n3 c\n4 d\n' -- \
		$CCMAP $ex --chunksize=3 echo '{#}' '{}' ::: a b c d
done
run_case "--chunksize with failures counts each item" 4 '*' -- \
	$CCMAP --chunksize 10 "$T/mix.sh" ::: $(seq 28)

# --- no job waits behind a long one --------------------------------------
# Job 1 holds its worker until the test lets it go; the other worker must
# run every other job meanwhile (none queued behind job 1).
cat >"$T/hold.sh" <<'EOF'
#!/bin/sh
d=$1 item=$2
if [ "$item" = 1 ]; then
	i=0
	while [ ! -e "$d/release" ] && [ $i -lt 1200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
fi
: >"$d/done.$item"
EOF
chmod +x "$T/hold.sh"
all_but_one_done() {
	[ "$(ls "$T/h" | grep -c '^done\.')" = 7 ]
}
for ex in --threads --procs; do
	rm -rf "$T/h"
	mkdir "$T/h"
	$CCMAP $ex -j2 "$T/hold.sh" "$T/h" {} ::: 1 2 3 4 5 6 7 8 &
	pid=$!
	wait_for 60 all_but_one_done && r=0 || r=1
	: >"$T/h/release"
	wait "$pid" || true
	ok $r "$ex -j2: jobs 2..8 all ran while job 1 held its worker"
	is "$(ls "$T/h" | grep -c '^done\.')" 8 "$ex -j2: then job 1 ended too"
done

# --- bad values ---------------------------------------------------------
for bad in abc 1.5 '' 2x %; do
	run_case "-j '$bad': exit 255" 255 '' -- $CCMAP -j "$bad" echo ::: should-not-run
	is "$(wc -l <"$T/err" | tr -d ' ')" 1 "-j '$bad': one line on stderr"
	stderr_has "^ccmap: .*(-j|jobs)" "-j '$bad': message names the option"
done
run_case "-P abc: exit 255" 255 '' -- $CCMAP -P abc echo ::: x
stderr_has "^ccmap: .*-P" "-P abc: message names -P"
run_case "--jobs abc: exit 255" 255 '' -- $CCMAP --jobs abc echo ::: x
stderr_has "^ccmap: .*--jobs" "--jobs abc: message names --jobs"
run_case "-j without value: exit 255" 255 '' -- $CCMAP -j
stderr_has "^ccmap: " "-j without value: ccmap: message"
for bad in 0 -1 abc ''; do
	run_case "--chunksize '$bad': exit 255" 255 '' -- $CCMAP --chunksize "$bad" echo ::: should-not-run
	stderr_has "^ccmap: .*chunksize" "--chunksize '$bad': message names the option"
done

done_testing
