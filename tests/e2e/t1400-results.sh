#!/bin/bash
# t1400: --results DIR makes the tree GNU parallel makes (DIR/1/VALUE/...,
# seq, stdout and stderr; '\', tab, NUL and '/' escaped; empty, . and ..
# values; several sources; -n2; values longer than a file name; path
# templates; a DIR from an earlier run; --resume), prints nothing, and exits as GNU
# parallel does; files are written while the job runs; --procs and plugins
# make the same files; a DIR that cannot be made fails the jobs.
. "$(dirname "$0")/setup.sh"

P=${CCMAP_PLUGIN_DIR:-$SRC/../../src/plugins/.libs}
command -v parallel >/dev/null || skip_all "GNU parallel is not installed"

# same_tree NAME [--stdin FILE] ARG...: run ccmap ARG... and parallel ARG...,
# with @D@ in an ARG standing for $T/c/NAME and $T/g/NAME; the trees, the
# exit status and stdout (nothing) must be the same.
same_tree() {
	local name=$1 stdin=/dev/null a rc rg r
	shift
	if [ "$1" = --stdin ]; then
		stdin=$2
		shift 2
	fi
	local cargs=() gargs=()
	for a in "$@"; do
		cargs+=("${a//@D@/$T/c/$name}")
		gargs+=("${a//@D@/$T/g/$name}")
	done
	set +e
	$CCMAP "${cargs[@]}" <"$stdin" >"$T/c.out" 2>"$T/c.err"
	rc=$?
	parallel --will-cite "${gargs[@]}" <"$stdin" >"$T/g.out" 2>"$T/g.err"
	rg=$?
	set -e
	is "$rc" "$rg" "$name: exit status $rg, as GNU parallel's"
	if diff -r "$T/c/$name" "$T/g/$name" >"$T/diff" 2>&1; then
		r=0
	else
		r=1
		diag <"$T/diff"
	fi
	ok $r "$name: the same tree as GNU parallel's"
	[ -s "$T/c.out" ] && r=1 || r=0
	ok $r "$name: nothing on stdout"
	cmp -s "$T/c.err" "$T/g.err" && r=0 || r=1
	ok $r "$name: stderr as GNU parallel's"
}

mkdir "$T/c" "$T/g"

same_tree awkward-values -k --results @D@ 'echo {}; echo err {} >&2; exit 3' \
	::: a b/c 'd e' 'x\y' $'t\tb' "it's" '$HOME' '*' '-n' 'é' 'a//b'
check "awkward-values: \$HOME as it is" test -f "$T/c/awkward-values/1/\$HOME/stdout"
check "awkward-values: * as it is" test -f "$T/c/awkward-values/1/*/stdout"
is "$(cat "$T/c/awkward-values/1/b\\_c/stdout")" "b/c" "awkward-values: b/c in 1/b\\_c"
is "$(cat "$T/c/awkward-values/1/x\\\\y/seq")" "4" "awkward-values: seq of x\\y is 4"
is "$(cat "$T/c/awkward-values/1/t\\tb/stderr")" $'err t\tb' "awkward-values: a tab as \\t"

# An empty value, . and .. name directories above: one job at a time, so
# the last one written is the same in both.
same_tree empty-dot-dotdot -j1 --results @D@ 'echo {}; echo e{} >&2' ::: '' . .. a
is "$(cat "$T/c/empty-dot-dotdot/seq")" 3 "empty-dot-dotdot: .. is DIR itself"

same_tree two-sources --results @D@ 'echo {1} {2}' ::: a b ::: 1 2/3 ''
same_tree three-sources --results @D@ echo ::: a ::: b c ::: d
same_tree n2 -n2 --results @D@ echo ::: a b c
same_tree n2-two-sources -n2 --results @D@ echo ::: a b ::: 1 2

printf 'n\nl\0x y\0\0\\\0' >"$T/nul-items"
same_tree null-items --stdin "$T/nul-items" -0 --results @D@ 'printf %s {}'
printf 'one\ntwo\n\nthree/3\n' >"$T/lines"
same_tree stdin-lines --stdin "$T/lines" --results @D@ echo

long=$(printf 'y%.0s' $(seq 300))
same_tree long-values -j1 --results @D@ echo ::: "$long" b "$long/z" c
check "long-values: a value cut to a file name's length" \
	test -d "$T/c/long-values/1/${long:0:255}"

same_tree template-dir --results '@D@/{}/x/' 'echo {}; echo e >&2' ::: a b/c
same_tree template-file --results '@D@/f.{#}.{}' 'echo {}; echo e >&2' ::: a b
same_tree template-sources --results '@D@/{2}/{1}/' 'echo {}' ::: a b ::: 1 2

# Named sources (--header): the names in the path, sorted by number, then
# by bytes; a file source named by its path, as GNU parallel does; a
# template's {NAME}.
same_tree header-sorted --header : --results @D@ echo ::: Z a b ::: B 1 2 ::: 10 x ::: 9 y
printf 'x\ty\n1\t2\n3\t4\n' >"$T/h.tsv"
same_tree header-colsep-file --header : --colsep '\t' --results @D@ echo :::: "$T/h.tsv"
printf 'name\nv1\nv/2\n' >"$T/h.txt"
same_tree header-stdin --stdin "$T/h.txt" --header : --results @D@ echo
same_tree header-template --header : --results '@D@/{x}.{y}' echo ::: x 1 2 ::: y 3

# Output options do not bring anything to stdout.
same_tree with-tag --tag --results @D@ 'echo {}; echo e >&2' ::: a b
same_tree with-line-buffer --line-buffer --results @D@ 'echo {}; echo e >&2' ::: a b
same_tree with-ungroup -u --results @D@ 'echo {}; echo e >&2' ::: a b

# A DIR from an earlier run: its files are overwritten, others stay.
for d in c g; do
	mkdir -p "$T/$d/reuse/1/a" "$T/$d/reuse/1/old"
	printf 'an older, longer output\n' >"$T/$d/reuse/1/a/stdout"
	printf 'stale' >"$T/$d/reuse/1/old/stdout"
	printf 'x' >"$T/$d/reuse/keep"
done
same_tree reuse --results @D@ echo ::: a b
is "$(cat "$T/c/reuse/1/a/stdout")" a "reuse: an older stdout overwritten"

# Binary and large output, byte for byte.
head -c 300000 /dev/urandom >"$T/bin"
same_tree binary --results @D@ 'cat {}; cat {} >&2' ::: "$T/bin"
cmp -s "$T/bin" "$T/c/binary/1/${T//\//\\_}\\_bin/stdout" && r=0 || r=1
ok $r "binary: 300000 random bytes in stdout"

# --resume with --results DIR: a job whose stdout file is there is not run
# again (GNU parallel's test), the others are, as GNU parallel does; with
# a path template, the file is the template's.
for kind in dir template; do
	d=@D@
	[ $kind = template ] && d='@D@/{}/out'
	same_tree resume-$kind -k --results "$d" 'echo {}' ::: a b c
	rm -rf "$T/c/resume-$kind/1/b" "$T/g/resume-$kind/1/b" \
		"$T/c/resume-$kind/b" "$T/g/resume-$kind/b"
	rm -f "$T"/[cg]/resume-$kind/1/c/stdout "$T"/[cg]/resume-$kind/c/out
	same_tree resume-$kind -k --resume --results "$d" 'echo {} again' ::: a b c d
	f=stdout
	[ $kind = template ] && f=out
	got=
	for v in a b c d; do
		p=$T/c/resume-$kind/1/$v/stdout
		[ $kind = template ] && p=$T/c/resume-$kind/$v/out
		got="$got$(cat "$p")/"
	done
	is "$got" "a/b again/c again/d again/" "resume-$kind: only the jobs whose $f file was gone ran"
done

# --threads and --procs each make the tree GNU parallel makes (checked to
# hold the four jobs' files, so that two empty trees cannot pass).
parallel --will-cite -k --results "$T/g/pools" 'echo {}; echo e >&2; exit 2' \
	::: a b/c '' 'd e' >/dev/null 2>&1 && st=0 || st=$?
got="status $st/"
for v in a 'b\_c' 'd e'; do
	got="$got$(cat "$T/g/pools/1/$v/stdout" "$T/g/pools/1/$v/stderr" \
		"$T/g/pools/1/$v/seq" 2>&1)/"
done
is "$got" "status 4/a
e
1/b/c
e
2/d e
e
4/" "the reference tree from GNU parallel"
for pool in "--threads" "--procs -j2"; do
	run_case "$pool: exit 4, nothing printed" 4 "" -- \
		$CCMAP $pool --results "$T/c/pools$pool" 'echo {}; echo e >&2; exit 2' \
		::: a b/c '' 'd e'
	diff -r "$T/c/pools$pool" "$T/g/pools" >"$T/diff" 2>&1 && r=0 ||
		{ r=1; diag <"$T/diff"; }
	ok $r "$pool: the tree GNU parallel makes"
done

# Plugins: each item's output in its files, as a command's would be.
printf 'a\nb/c\nx y\n' >"$T/items"
parallel --will-cite --results "$T/g/plugin" 'printf "%s\n" {} | tr a-z A-Z' \
	<"$T/items" >/dev/null 2>&1
for pool in --threads --procs; do
	run_case "plugin $pool: exit 0, nothing printed" 0 "" \
		--stdin "$(cat "$T/items")" -- \
		$CCMAP -j2 $pool --results "$T/c/plugin$pool" --so "$P/upper.so"
	diff -r "$T/c/plugin$pool" "$T/g/plugin" >"$T/diff" 2>&1 && r=0 ||
		{ r=1; diag <"$T/diff"; }
	ok $r "plugin $pool: the tree GNU parallel makes for the same output"
	$CCMAP -j2 $pool --tag --results "$T/c/plugin-tag$pool" --so "$P/upper.so" \
		<"$T/items" >"$T/out" 2>&1
	diff -r "$T/c/plugin-tag$pool" "$T/g/plugin" >"$T/diff" 2>&1 && r=0 ||
		{ r=1; diag <"$T/diff"; }
	ok $r "plugin $pool --tag: the files untagged, as a command's"
done

# Files are written as the job runs: job 2 sees job 1's output in its file
# while job 1 is still running, and only then lets it end.
cat >"$T/stream.sh" <<EOF
if [ "\$1" = 1 ]; then
	echo first
	for i in \$(seq 600); do [ -e "$T/flag" ] && exit 0; sleep 0.1; done
	exit 1
fi
for i in \$(seq 600); do
	grep -q first "$T/stream/1/1/stdout" 2>/dev/null && { touch "$T/flag"; exit 0; }
	sleep 0.1
done
exit 1
EOF
run_case "files are written while the job runs" 0 "" -- \
	$CCMAP -j2 --results "$T/stream" bash "$T/stream.sh" ::: 1 2

# A DIR that cannot be made: each job fails and says why; the run goes on.
printf 'x' >"$T/afile"
run_case "DIR is a file: each job fails, exit 2" 2 "" -- \
	$CCMAP -k --results "$T/afile" echo ::: a b
stderr_is "ccmap: job 1: cannot write '$T/afile/1/a': Not a directory
ccmap: job 2: cannot write '$T/afile/1/b': Not a directory
" "DIR is a file: one line per job naming the path"
run_case "--results '': an error before any job" 255 "" -- \
	$CCMAP --results '' echo ::: a
stderr_has "^ccmap: --results: " "--results '': the message names the option"
run_case "--res and --result are --results" 0 "" -- \
	$CCMAP --res "$T/r1" --result "$T/r2" echo ::: a
check "--result: the last one counts" test -f "$T/r2/1/a/stdout"

done_testing
