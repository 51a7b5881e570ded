#!/bin/bash
# t0400: order and output: input order by default (-k accepted),
# --as-completed; each job's stdout and stderr whole (--group); --line-buffer
# gives whole lines as they come; -u; --tag/--tagstring as GNU parallel;
# binary-safe output; output held behind a slow job spills to $TMPDIR,
# comes out exactly right, and leaves nothing behind.
. "$(dirname "$0")/setup.sh"

# --- input order --------------------------------------------------------
cat >"$T/rsleep.sh" <<'EOF'
#!/bin/sh
sleep "$1"
echo "$1"
EOF
chmod +x "$T/rsleep.sh"
for ex in --threads --procs; do
	run_case "input order with reversed sleeps $ex" 0 $'0.5\n0.4\n0.3\n0.2\n0.1\n0\n' -- \
		$CCMAP $ex -j6 "$T/rsleep.sh" ::: 0.5 0.4 0.3 0.2 0.1 0
	run_case "-k accepted, input order $ex" 0 $'0.3\n0.2\n0\n' -- \
		$CCMAP $ex -k -j3 "$T/rsleep.sh" ::: 0.3 0.2 0
	run_case "--keep-order accepted $ex" 0 $'0.2\n0\n' -- \
		$CCMAP $ex --keep-order -j2 "$T/rsleep.sh" ::: 0.2 0
done

# --- --as-completed -----------------------------------------------------
# Job K waits until job K+1's output is in ccmap's output: the only order
# that can complete is N, N-1, ..., 1, and ccmap must write each job's output
# as soon as it ends.  A job that times out prints TIMEOUT.
cat >"$T/chain.sh" <<'EOF'
#!/bin/sh
k=$1 n=$2 out=$3
if [ "$k" -lt "$n" ]; then
	i=0
	until grep -qx "done $((k + 1))" "$out" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 400 ]; then echo "TIMEOUT $k"; exit 1; fi
		sleep 0.05
	done
fi
echo "done $k"
EOF
chmod +x "$T/chain.sh"
for ex in --threads --procs; do
	set +e
	$CCMAP $ex --as-completed -j5 "$T/chain.sh" '{}' 5 "$T/ac.out" ::: 1 2 3 4 5 >"$T/ac.out" 2>"$T/ac.err"
	s=$?
	set -e
	is "$s" 0 "--as-completed $ex: exit 0"
	is "$(cat "$T/ac.out")" "$(printf 'done %s\n' 5 4 3 2 1)" "--as-completed $ex: completion order"
	rm -f "$T/ac.out"
	run_case "--as-completed $ex: all outputs (sorted)" 0 '*' -- \
		$CCMAP $ex --as-completed -j4 echo ::: $(seq 200)
	is "$(sort -n "$T/out" | tr '\n' ' ')" "$(seq 200 | tr '\n' ' ')" "--as-completed $ex: every output once"
done

# --- grouping: no interleaving ------------------------------------------
# Each job writes 20 lines to stdout and to stderr in separate writes, with
# short pauses so that the jobs run side by side.
cat >"$T/talk.sh" <<'EOF'
#!/bin/bash
for i in $(seq 20); do
	echo "job $1 line $i"
	echo "job $1 err $i" >&2
	[ $((i % 5)) -eq 0 ] && sleep 0.02
done
printf 'job %s partial' "$1"
printf ' tail\n'
EOF
chmod +x "$T/talk.sh"
# contiguous FILE: each job's lines form one block, in order within it.
contiguous() {
	awk '{ j = $2; if (j != cur) { if (seen[j]++) bad = 1; cur = j } }
	     END { exit bad }' "$1"
}
for ex in --threads --procs; do
	for mode in "" --as-completed; do
		set +e
		$CCMAP $ex $mode -j6 "$T/talk.sh" ::: $(seq 12) >"$T/g.out" 2>"$T/g.err"
		s=$?
		set -e
		is "$s" 0 "group $ex $mode: exit 0"
		check "group $ex $mode: each job's stdout contiguous" contiguous "$T/g.out"
		check "group $ex $mode: each job's stderr contiguous" contiguous "$T/g.err"
		is "$(wc -l <"$T/g.out" | tr -d ' ') $(wc -l <"$T/g.err" | tr -d ' ')" "252 240" \
			"group $ex $mode: every line there"
		if [ -z "$mode" ]; then
			exp=$(for k in $(seq 12); do "$T/talk.sh" "$k" 2>/dev/null; done)
			is "$(cat "$T/g.out")" "$exp" "group $ex: stdout exactly as run one by one"
			exp=$(for k in $(seq 12); do "$T/talk.sh" "$k" 2>&1 >/dev/null; done)
			is "$(cat "$T/g.err")" "$exp" "group $ex: stderr in input order too"
		fi
	done
done
run_case "--group accepted" 0 $'a\nb\n' -- $CCMAP --group echo ::: a b

# --- --line-buffer ------------------------------------------------------
# Lines stay whole even when a job writes one in two pieces.
for ex in --threads --procs; do
	set +e
	$CCMAP $ex --line-buffer -j6 "$T/talk.sh" ::: $(seq 12) >"$T/lb.out" 2>"$T/lb.err"
	s=$?
	set -e
	is "$s" 0 "--line-buffer $ex: exit 0"
	bad=$(grep -cvE '^job [0-9]+ (line [0-9]+|partial tail)$' "$T/lb.out" || true)
	is "$bad" 0 "--line-buffer $ex: every stdout line whole"
	is "$(wc -l <"$T/lb.out" | tr -d ' ')" 252 "--line-buffer $ex: every line there"
	bad=$(grep -cvE '^job [0-9]+ err [0-9]+$' "$T/lb.err" || true)
	is "$bad" 0 "--line-buffer $ex: every stderr line whole"
done
# A line comes out as soon as it is complete, while the job still runs:
# the job prints one line, then waits for it to reach ccmap's output.
cat >"$T/live.sh" <<'EOF'
#!/bin/sh
out=$1
echo "first line"
i=0
until grep -qx "first line" "$out" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 400 ]; then echo "TIMEOUT"; exit 1; fi
	sleep 0.05
done
echo "second line"
EOF
chmod +x "$T/live.sh"
for mode in --line-buffer -u --ungroup; do
	for ex in --threads --procs; do
		rm -f "$T/live.out"
		set +e
		$CCMAP $ex $mode "$T/live.sh" "$T/live.out" ::: 1 >"$T/live.out" 2>&1
		s=$?
		set -e
		is "$s $(tr '\n' '|' <"$T/live.out")" "0 first line|second line|" \
			"$mode $ex: a line comes out while its job runs"
	done
done

# --- -u -----------------------------------------------------------------
run_case "-u: all output there" 0 '*' -- $CCMAP -u -j4 "$T/talk.sh" ::: 1 2 3
# -u lets a job's two-part line mix with another's, so count the lines each
# job writes in one write(2): all 60 must be there, whole.
is "$(grep -o 'job [0-9] line [0-9]*' "$T/out" | wc -l | tr -d ' ')" 60 "-u: every stdout line"
is "$(grep -c '^job' "$T/err")" 60 "-u: every stderr line"
run_case "-u one job: exact output" 0 $'a\nb\n' -- $CCMAP -u -j1 echo ::: a b

# --- --tag / --tagstring, compared with GNU parallel --------------------
if command -v parallel >/dev/null 2>&1; then
	for args in "--tag echo" "--tagstring {#}:{} echo" "--tagstring T{.} echo" \
	    "--tag printf a\\nb\\n" "--tag echo {} ::: x y"; do
		for items in "a b.c d/e" "'sp ace' x"; do
			eval "set -- $args ::: $items"
			parallel --will-cite -k "$@" >"$T/p.out" 2>/dev/null </dev/null || true
			set +e
			$CCMAP "$@" >"$T/c.out" 2>"$T/c.err" </dev/null
			set -e
			check "$args ::: $items (as parallel)" cmp -s "$T/p.out" "$T/c.out"
			cmp -s "$T/p.out" "$T/c.out" || { diag "parallel:"; diag <"$T/p.out"; diag "ccmap:"; diag <"$T/c.out"; }
		done
	done
	parallel --will-cite -k --tag "echo x >&2; echo y" ::: a b >/dev/null 2>"$T/p.err" </dev/null
	$CCMAP --tag "echo x >&2; echo y" ::: a b >/dev/null 2>"$T/c.err" </dev/null
	check "--tag applies to stderr too (as parallel)" cmp -s "$T/p.err" "$T/c.err"
else
	skip "--tag compared with parallel" "no GNU parallel"
fi
run_case "--tag with --line-buffer" 0 $'a\t1\na\t2\n' -- $CCMAP --tag --line-buffer "printf '1\\n2\\n'; :" ::: a
run_case "--tagstring with --as-completed" 0 $'<x>\tx\n' -- $CCMAP --as-completed --tagstring '<{}>' echo ::: x

# --- binary-safe output -------------------------------------------------
printf 'a\000b\377\376\300\n\000\001end-without-newline' >"$T/bin.exp"
cat >"$T/bin.sh" <<'EOF'
#!/bin/sh
printf 'a\000b\377\376\300\n\000\001end-without-newline'
EOF
chmod +x "$T/bin.sh"
for ex in --threads --procs; do
	for mode in "" --as-completed --line-buffer -u; do
		set +e
		$CCMAP $ex $mode -j1 "$T/bin.sh" ::: 1 2 >"$T/bin.out" 2>"$T/bin.err"
		s=$?
		set -e
		cat "$T/bin.exp" "$T/bin.exp" >"$T/bin.exp2"
		check "binary output $ex $mode: bytes intact" cmp -s "$T/bin.exp2" "$T/bin.out"
	done
done
cat >"$T/binerr.sh" <<'EOF'
#!/bin/sh
printf 'a\000b\377\376\300\n\000\001end-without-newline' >&2
EOF
chmod +x "$T/binerr.sh"
set +e
$CCMAP "$T/binerr.sh" ::: 1 >/dev/null 2>"$T/bin.err"
set -e
check "binary stderr: bytes intact" cmp -s "$T/bin.exp" "$T/bin.err"
printf 'x\tab\000\377' >"$T/bintag.exp"
set +e
$CCMAP --tag "printf 'ab\\000\\377'" ::: x >"$T/bin.out" 2>/dev/null
set -e
check "binary output with --tag" cmp -s "$T/bintag.exp" "$T/bin.out"

# --- spill: output held behind a slow first job --------------------------
# Job 1 waits until the test says go; jobs 2..N each print 100 KB (20 MB in
# all, past the in-memory bound); job N says ready.  While job 1 waits, the
# held output must not sit in memory; at the end it must come out exactly,
# and the private TMPDIR must be empty.
cat >"$T/spill.sh" <<'EOF'
#!/bin/sh
k=$1 n=$2 d=$3
if [ "$k" = 1 ]; then
	i=0
	until [ -e "$d/go" ]; do
		i=$((i + 1))
		[ $i -gt 1200 ] && exit 1
		sleep 0.05
	done
fi
yes "line $k of the spill test" | head -c 100000
[ "$k" = "$n" ] && : >"$d/ready"
exit 0
EOF
chmod +x "$T/spill.sh"
N=200
for k in $(seq $N); do yes "line $k of the spill test" | head -c 100000; done >"$T/spill.exp"
for ex in --threads --procs; do
	rm -rf "$T/tmp" "$T/sync"
	mkdir "$T/tmp" "$T/sync"
	TMPDIR=$T/tmp $CCMAP $ex -j2 "$T/spill.sh" '{}' $N "$T/sync" ::: $(seq $N) >"$T/spill.out" 2>"$T/spill.err" &
	cpid=$!
	if wait_for 60 test -e "$T/sync/ready"; then r=0; else r=1; fi
	ok $r "spill $ex: jobs 2..N ran while job 1 waits"
	rss=$(awk '/^VmRSS/ {print $2}' /proc/$cpid/status 2>/dev/null || echo 0)
	ok $([ "${rss:-0}" -lt $((40 * 1024)) ] && echo 0 || echo 1) \
		"spill $ex: RSS bounded while 20 MB wait (${rss:-?} kB)"
	: >"$T/sync/go"
	wait "$cpid" && s=0 || s=$?
	is "$s" 0 "spill $ex: exit 0"
	check "spill $ex: output exactly right and complete" cmp -s "$T/spill.exp" "$T/spill.out"
	is "$(ls -A "$T/tmp")" "" "spill $ex: TMPDIR empty after exit"
	is "$(cat "$T/spill.err")" "" "spill $ex: nothing on stderr"
done
# --tmpdir names the directory instead of $TMPDIR.
rm -rf "$T/tmp" "$T/sync"
mkdir "$T/tmp" "$T/sync"
: >"$T/sync/go"
set +e
$CCMAP --tmpdir "$T/tmp" -j2 "$T/spill.sh" '{}' $N "$T/sync" ::: $(seq $N) >"$T/spill.out" 2>"$T/spill.err"
s=$?
set -e
is "$s" 0 "--tmpdir: exit 0"
check "--tmpdir: output exactly right" cmp -s "$T/spill.exp" "$T/spill.out"
is "$(ls -A "$T/tmp")" "" "--tmpdir: directory empty after exit"
run_case "--tmpdir missing dir: exit 255" 255 '' -- $CCMAP --tmpdir "$T/nonexistent" echo ::: x
stderr_has "^ccmap: .*$T/nonexistent" "--tmpdir missing dir: message names it"

done_testing
