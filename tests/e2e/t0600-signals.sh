#!/bin/bash
# t0600: signals and I/O: SIGTERM/SIGINT reach the running jobs' process
# groups, no job outlives ccmap, finished output is flushed, temp files go,
# exit 143/130, with threads and processes; a closed stdout (| head -1) ends
# ccmap quickly and quietly; a write error (> /dev/full) is reported.
. "$(dirname "$0")/setup.sh"

# Background jobs of a script without job control ignore SIGINT; with
# job control they do not, as under a terminal.
set -m

# A unique sleep length marks our jobs' processes.
MARK="1000.$$$RANDOM"
alive() { # processes whose command line has the marker, zombies excluded
	_n=0
	for _p in $(pgrep -f "sleep $MARK" 2>/dev/null); do
		_st=$(awk '{print $3}' "/proc/$_p/stat" 2>/dev/null || echo Z)
		[ "$_st" = Z ] || _n=$((_n + 1))
	done
	echo "$_n"
}
alive_at_least() { [ "$(alive)" -ge "$1" ]; }
none_alive() { [ "$(alive)" -eq 0 ]; }

# big.sh: 200 KB of output, so that held-back output spills to TMPDIR.
cat >"$T/big.sh" <<'EOF'
#!/bin/sh
yes "held back output $1" | head -c 200000
EOF
chmod +x "$T/big.sh"

for ex in --threads --procs; do
	for sig in TERM INT; do
		want=143
		[ $sig = INT ] && want=130
		rm -rf "$T/tmp"
		mkdir "$T/tmp"
		# job 1 prints and ends; jobs 2 and 3 sleep (one directly, one under
		# a shell that has it as a child); jobs 4.. print 200 KB each and
		# wait behind them.
		TMPDIR=$T/tmp $CCMAP $ex -j4 ::: 'echo first' "sleep $MARK" \
			"sh -c 'sleep $MARK; echo never'" $(for i in $(seq 30); do echo "$T/big.sh $i"; done) \
			>"$T/out" 2>"$T/err" &
		cpid=$!
		if wait_for 20 alive_at_least 2; then r=0; else r=1; fi
		ok $r "$sig $ex: marker jobs running"
		kill -$sig $cpid
		wait $cpid && s=0 || s=$?
		is "$s" "$want" "SIG$sig $ex: exit status $want"
		if wait_for 3 none_alive; then r=0; else r=1; fi
		ok $r "SIG$sig $ex: no job left running after ccmap exits"
		[ $r = 0 ] || { diag "left:"; pgrep -af "sleep $MARK" | diag; pkill -f "sleep $MARK" || true; }
		is "$(head -n 1 "$T/out")" "first" "SIG$sig $ex: finished output flushed"
		check "SIG$sig $ex: 'never' not printed" test -z "$(grep never "$T/out")"
		is "$(ls -A "$T/tmp")" "" "SIG$sig $ex: TMPDIR empty after exit"
	done
done

# Signal while output is spilled: a first job that sleeps, then many jobs
# whose output must be held; TMPDIR must be empty after SIGINT.
for ex in --threads --procs; do
	rm -rf "$T/tmp"
	mkdir "$T/tmp"
	TMPDIR=$T/tmp $CCMAP $ex -j2 ::: "sleep $MARK" $(for i in $(seq 60); do echo "$T/big.sh $i"; done) \
		>"$T/out" 2>"$T/err" &
	cpid=$!
	wait_for 20 alive_at_least 1 || true
	# wait until ccmap holds a spill file open (or 20 s)
	spilling() { ls -l /proc/$cpid/fd 2>/dev/null | grep -q "$T/tmp"; }
	if wait_for 20 spilling; then r=0; else r=1; fi
	ok $r "spill + SIGINT $ex: spill file open in TMPDIR"
	kill -INT $cpid
	wait $cpid && s=0 || s=$?
	is "$s" 130 "spill + SIGINT $ex: exit 130"
	is "$(ls -A "$T/tmp")" "" "spill + SIGINT $ex: TMPDIR empty"
	if wait_for 3 none_alive; then r=0; else r=1; fi
	ok $r "spill + SIGINT $ex: no job left"
	pkill -f "sleep $MARK" 2>/dev/null || true
done
set +m

# --- downstream closes: | head -1 ----------------------------------------
for ex in --threads --procs; do
	for src in "yes" "seq 100000"; do
		set +e
		timeout 60 bash -c "$src | $CCMAP $ex echo 2>'$T/err' | head -n 1" >"$T/out"
		s=$?
		set -e
		is "$s $(cat "$T/out")" "0 $( [ "$src" = yes ] && echo y || echo 1)" "$src | ccmap $ex echo | head -1: ends with the first line"
		is "$(cat "$T/err")" "" "$src | ccmap $ex echo | head -1: nothing on stderr"
	done
	set +e
	timeout 60 bash -c "$CCMAP $ex -j2 yes ::: a b 2>'$T/err' | head -n 1" >"$T/out"
	s=$?
	set -e
	is "$s $(cat "$T/out")" "0 a" "endless job output | head -1 $ex: ends"
	is "$(cat "$T/err")" "" "endless job output | head -1 $ex: quiet"
done

# --- write error ---------------------------------------------------------
if [ -w /dev/full ]; then
	for ex in --threads --procs; do
		for mode in "" --as-completed --line-buffer; do
			set +e
			seq 3 | $CCMAP $ex $mode echo >/dev/full 2>"$T/full.err"
			s=$?
			set -e
			check "> /dev/full $ex $mode: exit non-zero" test "$s" -ne 0
			is "$(wc -l <"$T/full.err" | tr -d ' ')" 1 "> /dev/full $ex $mode: one line on stderr"
			check "> /dev/full $ex $mode: mentions the write error" \
				grep -Eq '^ccmap: .*(write|No space left)' "$T/full.err"
		done
	done
else
	skip "> /dev/full" "no /dev/full"
fi

done_testing
