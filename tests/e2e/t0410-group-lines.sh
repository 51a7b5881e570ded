#!/bin/bash
# t0410: what --group and --line-buffer promise about order, as GNU
# parallel: grouped output is each job's whole stdout, then its whole
# stderr, whatever order they were written in (held, spilled, live, tagged,
# --as-completed, --procs, and each plugin item); -k --line-buffer passes
# the lines of the oldest running job through at once and holds the
# others', so that the lines come in job order; --line-buffer alone (and
# with --as-completed) passes every job's lines as they come.  No check
# depends on timing: jobs wait on files that the test or other jobs make.
. "$(dirname "$0")/setup.sh"

have_parallel=
command -v parallel >/dev/null 2>&1 && have_parallel=1

# --- --group: a job's stdout, then its stderr ---------------------------
# Each job writes its stderr first; ccmap's stdout and stderr are one file,
# so the order they are written in shows.  A run where it holds for one
# interleaving proves little: each is run several times.
expect_ab() { for k in 1 2 3 4; do printf 'a%s\nb%s\n' "$k" "$k"; done; }
for ex in --threads --procs; do
	bad=0
	for i in 1 2 3 4 5 6 7 8; do
		got=$($CCMAP $ex -j2 'echo b{} >&2; echo a{}' ::: 1 2 3 4 2>&1)
		[ "$got" = "$(expect_ab)" ] || { bad=$((bad + 1)); last=$got; }
	done
	ok $bad "--group $ex: each job's stdout, then its stderr (8 runs)"
	[ $bad -eq 0 ] || diag "$last"
	# --as-completed: jobs in any order, but each one's lines together.
	bad=0
	for i in 1 2 3 4 5 6 7 8; do
		$CCMAP $ex -j2 --as-completed 'echo b{} >&2; echo a{}' ::: 1 2 3 4 \
			>"$T/ac" 2>&1 || bad=$((bad + 1))
		awk 'NR % 2 { k = substr($0, 2); if ($0 != "a" k) bad = 1; next }
		     $0 != "b" k { bad = 1 }
		     END { exit bad || NR != 8 }' "$T/ac" || { bad=$((bad + 1)); cp "$T/ac" "$T/ac.bad"; }
	done
	ok $bad "--group --as-completed $ex: each job's stdout, then its stderr (8 runs)"
	[ $bad -eq 0 ] || diag <"$T/ac.bad"
	bad=0
	for i in 1 2 3 4 5 6 7 8; do
		got=$($CCMAP $ex -j2 --tag 'echo b{} >&2; echo a{}' ::: 1 2 2>&1)
		[ "$got" = $'1\ta1\n1\tb1\n2\ta2\n2\tb2' ] || { bad=$((bad + 1)); last=$got; }
	done
	ok $bad "--group --tag $ex: each job's stdout, then its stderr (8 runs)"
	[ $bad -eq 0 ] || diag "$last"
done
if [ -n "$have_parallel" ]; then
	for ex in --threads --procs; do
		for mode in "" --tag --as-completed; do
			# (GNU parallel's order without -k is --as-completed)
			j=-j2 pmode="-k $mode"
			[ "$mode" = --as-completed ] && j=-j1 pmode=
			cmd='echo a{}; echo b{} >&2; echo c{}'
			parallel --will-cite $j $pmode "$cmd" ::: 1 2 3 >"$T/p.out" 2>&1 </dev/null || true
			$CCMAP $ex $j $mode "$cmd" ::: 1 2 3 >"$T/c.out" 2>&1 </dev/null || true
			check "--group $ex $mode: as GNU parallel (stdout and stderr one file)" \
				test -s "$T/p.out" -a "$(cat "$T/p.out")" = "$(cat "$T/c.out")"
		done
	done
else
	fail "GNU parallel is there to compare with"
fi

# Held, spilled and live: job 1 is due first and runs while the others end;
# each job writes a line on stderr before its stdout (100 kB, past the
# memory bound in all), and job 1 waits between the two until the last job
# has ended: its stderr must still come after its stdout.
cat >"$T/spill.sh" <<'EOF'
#!/bin/sh
k=$1 n=$2 d=$3
echo "err $k" >&2
if [ "$k" = 1 ]; then
	i=0
	until [ -e "$d/ready" ]; do
		i=$((i + 1))
		[ $i -gt 600 ] && exit 1
		sleep 0.05
	done
fi
yes "line $k" | head -c 100000
[ "$k" = "$n" ] && : >"$d/ready"
exit 0
EOF
chmod +x "$T/spill.sh"
N=60
for k in $(seq $N); do yes "line $k" | head -c 100000; echo "err $k"; done >"$T/spill.exp"
for ex in --threads --procs; do
	for tag in "" --tag; do
		rm -rf "$T/sync" "$T/tmp"
		mkdir "$T/sync" "$T/tmp"
		set +e
		TMPDIR=$T/tmp $CCMAP $ex -j2 $tag "$T/spill.sh" {} $N "$T/sync" ::: $(seq $N) \
			>"$T/spill.out" 2>&1
		s=$?
		set -e
		is "$s" 0 "spilled $ex $tag: exit 0"
		if [ -z "$tag" ]; then
			check "spilled $ex: each job's stdout, then its stderr, in order" \
				cmp -s "$T/spill.exp" "$T/spill.out"
		else
			for k in $(seq $N); do
				yes "line $k" | head -c 100000 | sed "s/^/$k\t/"
				printf '%s\terr %s\n' $k $k
			done >"$T/spill.tag.exp"
			check "spilled $ex --tag: each job's stdout, then its stderr, tagged" \
				cmp -s "$T/spill.tag.exp" "$T/spill.out"
		fi
	done
done

# --- -k --line-buffer: the oldest job's lines at once, the others held --
# Job 1 prints its start line and a line on stderr, then waits until the
# test has read both from ccmap's stdout and stderr (fifos), and until job 2
# has ended; only then its end line.  Job 2 runs to its end meanwhile: its
# lines must wait for job 1's end.
cat >"$T/lb.sh" <<'EOF'
#!/bin/sh
k=$1 d=$2
waitfile() {
	i=0
	until [ -e "$1" ]; do
		i=$((i + 1))
		if [ $i -gt 600 ]; then echo "TIMEOUT $k $1"; exit 1; fi
		sleep 0.05
	done
}
echo "$k-start"
echo "$k-err" >&2
if [ "$k" = 1 ]; then
	waitfile "$d/seen-1"
	waitfile "$d/end-2"
fi
echo "$k-end"
[ "$k" = 2 ] && : >"$d/end-2"
exit 0
EOF
chmod +x "$T/lb.sh"
# lb_keep NAME CMD...: run CMD (ccmap or parallel, with lb.sh {} $T/lb) with
# its stdout and stderr on fifos; job 1's first lines must arrive while it
# waits, and all must come in job order.
lb_keep() {
	local name=$1 pid c1 c2 s first_out= first_err=
	shift
	rm -rf "$T/lb"
	mkdir "$T/lb"
	mkfifo "$T/lb/out" "$T/lb/err"
	"$@" >"$T/lb/out" 2>"$T/lb/err" &
	pid=$!
	exec 3<"$T/lb/out" 4<"$T/lb/err"
	read -r -t 30 first_out <&3 || true
	read -r -t 30 first_err <&4 || true
	: >"$T/lb/seen-1"
	cat <&3 >"$T/lb/rest.out" &
	c1=$!
	cat <&4 >"$T/lb/rest.err" &
	c2=$!
	wait $pid && s=0 || s=$?
	wait $c1 $c2 || true
	exec 3<&- 4<&-
	is "$s $first_out $first_err" "0 1-start 1-err" \
		"$name: job 1's lines pass while it runs"
	is "$(tr '\n' ' ' <"$T/lb/rest.out")" "1-end 2-start 2-end " \
		"$name: job 2's stdout held until job 1 ends"
	is "$(tr '\n' ' ' <"$T/lb/rest.err")" "2-err " \
		"$name: job 2's stderr held until job 1 ends"
}
for ex in --threads --procs; do
	lb_keep "-k --line-buffer $ex" $CCMAP $ex -j2 -k --line-buffer "$T/lb.sh" {} "$T/lb" ::: 1 2
	lb_keep "--as-completed -k --line-buffer $ex (the last wins)" \
		$CCMAP $ex -j2 --as-completed -k --line-buffer "$T/lb.sh" {} "$T/lb" ::: 1 2
done
if [ -n "$have_parallel" ]; then
	lb_keep "the same test on GNU parallel -k --line-buffer" \
		parallel --will-cite -j2 -k --line-buffer "$T/lb.sh" {} "$T/lb" ::: 1 2
fi
# GNU parallel's own example: the sleeps only make the interleaving likely;
# the order must not depend on them.
if [ -n "$have_parallel" ]; then
	for ex in --threads --procs; do
		parallel --will-cite -j2 -k --line-buffer 'echo {}-start; sleep 0.{}; echo {}-end' \
			::: 3 1 >"$T/p.out" 2>&1 </dev/null || true
		$CCMAP $ex -j2 -k --line-buffer 'echo {}-start; sleep 0.{}; echo {}-end' \
			::: 3 1 >"$T/c.out" 2>&1 </dev/null || true
		check "-k --line-buffer $ex: GNU parallel's example gives its output" \
			test -s "$T/p.out" -a "$(cat "$T/p.out")" = "$(cat "$T/c.out")"
	done
fi
# Lines stay whole: a line a job writes in pieces, and a last line without
# a newline, held or not.
for ex in --threads --procs; do
	run_case "-k --line-buffer $ex: whole lines, in order" 0 \
		$'1-a1-b\n1-c2-a2-b\n2-c' -- \
		$CCMAP $ex -j2 -k --line-buffer 'printf {}-a; printf "{}-b\n{}-c"' ::: 1 2
done

# --- --line-buffer without -k: any job's lines as they come -------------
# Job 1 waits until the test has read job 2's last line: it must come out
# before job 1 ends (as GNU parallel --line-buffer does).
cat >"$T/lbfree.sh" <<'EOF'
#!/bin/sh
k=$1 d=$2
echo "$k-start"
if [ "$k" = 1 ]; then
	i=0
	until [ -e "$d/seen-2" ]; do
		i=$((i + 1))
		if [ $i -gt 600 ]; then echo "TIMEOUT"; exit 1; fi
		sleep 0.05
	done
fi
echo "$k-end"
EOF
chmod +x "$T/lbfree.sh"
lb_free() {
	local name=$1 pid c1 s line before=
	shift
	rm -rf "$T/lb"
	mkdir "$T/lb"
	mkfifo "$T/lb/out"
	"$@" >"$T/lb/out" 2>/dev/null &
	pid=$!
	exec 3<"$T/lb/out"
	while read -r -t 30 line <&3; do
		before="$before$line "
		[ "$line" = 2-end ] && break
	done
	: >"$T/lb/seen-2"
	cat <&3 >"$T/lb/rest.out" &
	c1=$!
	wait $pid && s=0 || s=$?
	wait $c1 || true
	exec 3<&-
	is "$s $(printf '%s\n' $before | grep '^2-' | tr '\n' ' ')" "0 2-start 2-end " \
		"$name: job 2's lines pass while job 1 runs"
	is "$(printf '%s\n' $before | cat - "$T/lb/rest.out" | sort | tr '\n' ' ')" \
		"1-end 1-start 2-end 2-start " "$name: every line once"
	is "$(tail -n 1 "$T/lb/rest.out")" "1-end" "$name: job 1's end line last"
}
for ex in --threads --procs; do
	lb_free "--line-buffer $ex" $CCMAP $ex -j2 --line-buffer "$T/lbfree.sh" {} "$T/lb" ::: 1 2
	lb_free "--as-completed --line-buffer $ex" \
		$CCMAP $ex -j2 --as-completed --line-buffer "$T/lbfree.sh" {} "$T/lb" ::: 1 2
	lb_free "-k --as-completed --line-buffer $ex (the last wins)" \
		$CCMAP $ex -j2 -k --as-completed --line-buffer "$T/lbfree.sh" {} "$T/lb" ::: 1 2
done
if [ -n "$have_parallel" ]; then
	lb_free "the same test on GNU parallel --line-buffer" \
		parallel --will-cite -j2 --line-buffer "$T/lbfree.sh" {} "$T/lb" ::: 1 2
fi

# --- plugins: each item's stdout, then its stderr -----------------------
# sha256 (shipped) writes a sum, or an error on stderr: in item order.
P=${CCMAP_PLUGIN_DIR:-$SRC/../../src/plugins/.libs}
echo x >"$T/f1"
echo y >"$T/f3"
sum1=$(sha256sum "$T/f1")
sum3=$(sha256sum "$T/f3")
for ex in --threads --procs; do
	for j in 1 2; do
		for mode in "" "-k --line-buffer"; do
			set +e
			$CCMAP $ex -j$j $mode --so "$P/sha256.so" ::: "$T/f1" "$T/missing" "$T/f3" \
				>"$T/sha.out" 2>&1
			set -e
			got=$(cut -c1-64 "$T/sha.out" | sed 's/^ccmap: item 2: .*/ERR/')
			is "$(echo "$got" | tr '\n' ' ')" "${sum1%% *} ERR ${sum3%% *} " \
				"sha256 $ex -j$j $mode: each item's output in its place"
		done
	done
done

# A plugin of our own: every item writes a line on stderr, then a longer
# one on stdout; "wait:PATH" first waits for PATH, "make:PATH" makes it.
CC=${CC:-cc}
cat >"$T/eo.c" <<'EOF'
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <ccmap/plugin.h>

static int
eo_map(const struct ccmap_host *host, struct ccmap_call *call, void *ws,
    const char *item, size_t len)
{
	struct timespec tick = { 0, 50000000 };
	char path[4096];

	(void)ws;
	host->printf(call, 2, "e:%.*s\n", (int)len, item);
	if (len > 5 && len - 5 < sizeof path &&
	    (!memcmp(item, "wait:", 5) || !memcmp(item, "make:", 5))) {
		memcpy(path, item + 5, len - 5);
		path[len - 5] = '\0';
		if (item[0] == 'm')
			close(open(path, O_WRONLY | O_CREAT, 0644));
		for (int i = 0; i < 600 && access(path, F_OK) != 0; i++)
			nanosleep(&tick, NULL);
	}
	host->printf(call, 1, "o:%.*s:%0200d\n", (int)len, item, 0);
	return 0;
}

const struct ccmap_plugin ccmap_plugin = {
	.abi = CCMAP_PLUGIN_ABI,
	.flags = CCMAP_PLUGIN_THREADSAFE,
	.name = "eo",
	.map = eo_map,
};
EOF
top=${top_srcdir:-$SRC/../..}
if "$CC" -shared -fPIC -Wall -Wextra -Werror -I"$top/src" "$T/eo.c" -o "$T/eo.so" 2>"$T/cc.err"; then
	pass "a test plugin builds"
else
	fail "a test plugin builds"
	diag <"$T/cc.err"
fi
zeros=$(printf '%0200d' 0)
eo_expect() { # ITEM...: what eo writes for them, stdout and stderr one file
	local item
	for item; do printf 'o:%s:%s\ne:%s\n' "$item" "$zeros" "$item"; done
}
seq 3000 >"$T/items"
eo_expect $(seq 3000) >"$T/eo.exp"
for ex in --threads --procs; do
	for mode in "" "-k --line-buffer"; do
		bad=0
		for i in 1 2 3 4; do
			$CCMAP $ex -j2 $mode --so "$T/eo.so" <"$T/items" >"$T/eo.out" 2>&1 || bad=$((bad + 1))
			cmp -s "$T/eo.exp" "$T/eo.out" || bad=$((bad + 1))
		done
		ok $bad "plugin $ex $mode: each item's stdout, then its stderr (4 runs)"
	done
	$CCMAP $ex -j2 --tag --so "$T/eo.so" ::: x y >"$T/eo.out" 2>&1 || true
	is "$(cat "$T/eo.out")" "$(eo_expect x y | sed 's/^.:\(.\)/\1\t&/')" \
		"plugin $ex --tag: each item's stdout, then its stderr"
	$CCMAP $ex -j2 --as-completed --so "$T/eo.so" <"$T/items" >"$T/eo.out" 2>&1 || true
	check "plugin $ex --as-completed: each item's stdout, then its stderr" \
		awk 'NR % 2 { k = substr($0, 3, index(substr($0, 3), ":") - 1); next }
		     $0 != "e:" k { bad = 1 }
		     END { exit bad || NR != 6000 }' "$T/eo.out"
	# Held behind the first item until every other has run (6 MB: spilled).
	rm -f "$T/go"
	seq 30000 | sed -e "1i wait:$T/go" -e "\$a make:$T/go" >"$T/items.w"
	{ eo_expect "wait:$T/go"; eo_expect $(seq 30000); eo_expect "make:$T/go"; } >"$T/eow.exp"
	set +e
	$CCMAP $ex -j2 --so "$T/eo.so" <"$T/items.w" >"$T/eo.out" 2>&1
	s=$?
	set -e
	is "$s" 0 "plugin $ex, held and spilled: exit 0"
	check "plugin $ex, held and spilled: each item's stdout, then its stderr" \
		cmp -s "$T/eow.exp" "$T/eo.out"
done

done_testing
