#!/bin/bash
# t0510: the plugins that come with ccmap (src/plugins/), run with --so:
# len, upper, gzip, sha256 and grep give what awk, tr, gzip, sha256sum and
# grep -c give, in input order with --threads and --procs; failed items
# fail the run; a bad grep pattern, or a PLUGIN-ARG a plugin does not know,
# stops ccmap before any item; a plugin named without a slash is found in
# $CCMAP_PLUGIN_PATH, then, for a ccmap run from its build tree, in that
# tree's plugins (never the current directory's).
. "$(dirname "$0")/setup.sh"

# The build tree's plugins (make check exports CCMAP_PLUGIN_DIR).
P=${CCMAP_PLUGIN_DIR:-$SRC/../../src/plugins/.libs}
unset CCMAP_PLUGIN_PATH

for p in len upper gzip sha256 grep; do
	if command -v nm >/dev/null 2>&1; then
		nm -D --defined-only "$P/$p.so" 2>/dev/null | grep -q ' ccmap_plugin$' &&
			r=0 || r=1
		ok $r "$p.so exports ccmap_plugin"
	else
		check "$p.so is there" test -f "$P/$p.so"
	fi
done

# --- len -------------------------------------------------------------------
items=$'a\nbb\n\nh\xc3\xa9llo\n  two words  \n'
want=$(printf '%s' "$items" | awk '{print length($0)}'; echo x)
want=${want%x}
run_case "len: lengths in bytes, empty and multibyte items" 0 "$want" \
	--stdin "$items" -- $CCMAP --so "$P/len.so"
run_case "len: items from :::" 0 $'1\n3\n' -- $CCMAP --so "$P/len.so" ::: x yyy

awk 'BEGIN { for (i = 1; i <= 20000; i++) { s = i; for (j = 0; j < i % 37; j++) s = s "y"; print s } }' \
	>"$T/many"
awk '{print length($0)}' "$T/many" >"$T/many.len"
for pool in --threads --procs; do
	set +e
	$CCMAP -j2 $pool --so "$P/len.so" <"$T/many" >"$T/out" 2>"$T/err"
	r=$?
	set -e
	is "$r" 0 "len: 20000 items -j2 $pool exit 0"
	cmp -s "$T/out" "$T/many.len" && r=0 || r=1
	ok $r "len: 20000 items -j2 $pool: awk's output, in input order"
	[ $r -eq 0 ] || { diff "$T/many.len" "$T/out" | head -20 | diag; diag <"$T/err"; }
done

# --- upper -----------------------------------------------------------------
run_case "upper: ASCII letters upper-cased" 0 $'ABC\nHELLO, WORLD 42\n\n' \
	-- $CCMAP --so "$P/upper.so" ::: abc 'Hello, World 42' ''
tr a-z A-Z <"$T/many" >"$T/many.upper"
set +e
$CCMAP -j2 --threads --so "$P/upper.so" <"$T/many" >"$T/out" 2>"$T/err"
r=$?
set -e
cmp -s "$T/out" "$T/many.upper" && [ $r -eq 0 ] && r=0 || r=1
ok $r "upper: 20000 items -j2 --threads equal tr a-z A-Z"

# --- gzip ------------------------------------------------------------------
mkdir "$T/gz"
for i in $(seq -w 1 20); do
	awk -v n="$i" 'BEGIN { for (k = 0; k < n * 500; k++) print k, n, "some text to compress" }' \
		>"$T/gz/f$i"
done
: >"$T/gz/f00 empty"
chmod 640 "$T/gz/f07"
run_case "gzip: 21 files, -j4 --threads, no output" 0 '' \
	-- $CCMAP -j4 --threads --so "$P/gzip.so" ::: "$T"/gz/f*
bad=0
for f in "$T"/gz/f*; do
	case $f in *.gz) continue ;; esac
	if ! [ -f "$f" ] || ! [ -f "$f.gz" ] || ! gunzip -t "$f.gz" 2>/dev/null ||
	   ! gunzip -c "$f.gz" | cmp -s - "$f"; then
		diag "bad: $f"
		bad=$((bad + 1))
	fi
done
is "$bad" 0 "gzip: every .gz passes gunzip -t, holds the file, original kept"
is "$(stat -c %a "$T/gz/f07.gz")" 640 "gzip: mode bits kept"
is "$(ls "$T/gz" | grep -c 'XXX\|\.gz\.')" 0 "gzip: no temporary file left"

cp "$T/gz/f01.gz" "$T/f01.gz.before"
run_case "gzip: an existing .gz is refused without -f (exit 1)" 1 '' \
	-- $CCMAP --so "$P/gzip.so" ::: "$T/gz/f01"
stderr_has 'f01\.gz' "gzip: the refusal names the .gz"
check "gzip: the existing .gz is untouched" cmp -s "$T/gz/f01.gz" "$T/f01.gz.before"
run_case "gzip: three failed items, exit status 3" 3 '' \
	-- $CCMAP --so "$P/gzip.so" ::: "$T/gz/f02" "$T/gz/nonexistent" "$T/gz/f03"
run_case "gzip -f -9 overwrites, with --procs" 0 '' \
	-- $CCMAP -j2 --procs --so "$P/gzip.so" -f -9 ::: "$T/gz/f01" "$T/gz/f02"
gunzip -c "$T/gz/f01.gz" | cmp -s - "$T/gz/f01" && r=0 || r=1
ok $r "gzip -f: the new .gz holds the file"

# A .gz whose name would be too long is refused before the work, with
# the system's reason; -f does not change that.
long=$(printf 'n%.0s' $(seq 253))
printf 'x\n' >"$T/gz/$long"
for f in "" -f; do
	run_case "gzip ${f:-without -f}: FILE.gz too long a name: exit 1" 1 '' \
		-- $CCMAP --so "$P/gzip.so" $f ::: "$T/gz/$long"
	stderr_has "$long\\.gz: File name too long" "gzip ${f:-without -f}: FILE.gz too long a name: says so"
done
rm -f "$T/gz/$long"

# The .gz gets its name only once whole: an item that fails on the way
# (here, late for --timeout: compressing 4 GiB takes seconds) leaves no
# .gz, nor any other file; with --procs its worker is killed.
mkdir "$T/gzbig"
truncate -s 4G "$T/gzbig/zeros"
for pool in --threads --procs; do
	run_case "gzip $pool: an item late for --timeout fails (exit 1)" 1 '' \
		-- $CCMAP $pool --timeout 0.1 --so "$P/gzip.so" ::: "$T/gzbig/zeros"
	is "$(ls "$T/gzbig")" zeros "gzip $pool: the timed-out item left no file behind"
done

# Two items for one file: one names the .gz, the other is refused, at the
# latest when it comes to name its .gz; with -f both succeed.
cp "$T/gz/f05" "$T/gz/twice"
run_case "gzip: one file twice at once: one refusal (exit 1)" 1 '' \
	-- $CCMAP -j2 --so "$P/gzip.so" ::: "$T/gz/twice" "$T/gz/twice"
stderr_has 'twice\.gz: already exists' "gzip: the second is told the .gz exists"
gunzip -c "$T/gz/twice.gz" | cmp -s - "$T/gz/twice" && r=0 || r=1
ok $r "gzip: the .gz of the file given twice holds it"
run_case "gzip -f: one file twice at once: both succeed" 0 '' \
	-- $CCMAP -j2 --so "$P/gzip.so" -f ::: "$T/gz/twice" "$T/gz/twice"
gunzip -c "$T/gz/twice.gz" | cmp -s - "$T/gz/twice" && r=0 || r=1
ok $r "gzip -f: the .gz of the file given twice holds it"
is "$(ls "$T/gz" | grep -c twice)" 2 "gzip -f: the file and its .gz, nothing else"

# Where O_TMPFILE cannot be named (here, /proc/self/fd is hidden), the .gz
# is made as gzip makes it: the same result.  (A mount namespace: root
# only.  Not all of /proc: the sanitizers need it.)
noproc() {
	unshare -m sh -c 'mount -t tmpfs none /proc/$$/fd && exec "$@"' sh "$@"
}
if unshare -m true 2>/dev/null; then
	rm -f "$T/gz/f03.gz"
	run_case "gzip without /proc/self/fd: compresses all the same" 0 '' \
		-- noproc $CCMAP -j2 --so "$P/gzip.so" -f ::: "$T/gz/f03" "$T/gz/f04"
	gunzip -c "$T/gz/f03.gz" | cmp -s - "$T/gz/f03" && r=0 || r=1
	ok $r "gzip without /proc/self/fd: the .gz holds the file"
	run_case "gzip without /proc/self/fd: an existing .gz is refused (exit 1)" 1 '' \
		-- noproc $CCMAP --so "$P/gzip.so" ::: "$T/gz/f03"
	stderr_is "ccmap: item 1: gzip: $T/gz/f03.gz: already exists (use -f to overwrite)
" "gzip without /proc/self/fd: the refusal, alone on stderr"
else
	for n in "compresses all the same" "the .gz holds the file" \
	    "an existing .gz is refused" "the refusal, alone on stderr"; do
		skip "gzip without /proc/self/fd: $n" "unshare -m needs root"
	done
fi

# --- sha256 ----------------------------------------------------------------
mkdir "$T/sum"
seq 1 50000 >"$T/sum/big"
printf 'a b\n' >"$T/sum/with space"
printf 'x' >"$T/sum/back\\slash"
: >"$T/sum/empty"
files=("$T/sum/big" "$T/sum/with space" "$T/sum/back\\slash" "$T/sum/empty")
sha256sum "${files[@]}" >"$T/sum.want"
for pool in --threads --procs; do
	set +e
	$CCMAP -j2 $pool --so "$P/sha256.so" ::: "${files[@]}" >"$T/out" 2>"$T/err"
	r=$?
	set -e
	cmp -s "$T/out" "$T/sum.want" && [ $r -eq 0 ] && r=0 || r=1
	ok $r "sha256 $pool: the same as sha256sum (space, backslash, empty file)"
	[ $r -eq 0 ] || { diff "$T/sum.want" "$T/out" | diag; diag <"$T/err"; }
done
run_case "sha256: a missing file fails the run (exit 1)" 1 '*' \
	-- $CCMAP --so "$P/sha256.so" ::: "$T/sum/empty" "$T/sum/missing-file"
stderr_has 'missing-file' "sha256: stderr names the missing file"
is "$OUT" "$(sha256sum "$T/sum/empty")
" "sha256: the other item's line is still written"

# --- grep ------------------------------------------------------------------
mkdir "$T/grep"
printf 'foo\nbar\nfoooo bar\n\nfo\n' >"$T/grep/a"
printf 'no\nmatch here\n' >"$T/grep/b c"
printf 'last line foo' >"$T/grep/nonl"
: >"$T/grep/empty"
awk 'BEGIN { for (i = 0; i < 100000; i++) print (i % 3 ? "x" : "foo"), i }' >"$T/grep/big"
# One very long line, longer than any read buffer.
awk 'BEGIN { for (i = 0; i < 300000; i++) printf "z"; print "foo"; print "tail" }' >"$T/grep/long"
gfiles=("$T/grep/a" "$T/grep/b c" "$T/grep/nonl" "$T/grep/empty" "$T/grep/big" "$T/grep/long")
grep -cE 'fo+( |$)' "${gfiles[@]}" >"$T/grep.want" || true
for pool in --threads --procs; do
	set +e
	$CCMAP -j3 $pool --so "$P/grep.so" 'fo+( |$)' ::: "${gfiles[@]}" >"$T/out" 2>"$T/err"
	r=$?
	set -e
	cmp -s "$T/out" "$T/grep.want" && [ $r -eq 0 ] && r=0 || r=1
	ok $r "grep $pool: counts equal to grep -c"
	[ $r -eq 0 ] || { diff "$T/grep.want" "$T/out" | diag; diag <"$T/err"; }
done
run_case "grep: a missing file fails the run (exit 1)" 1 '*' \
	-- $CCMAP --so "$P/grep.so" foo ::: "$T/grep/a" "$T/grep/absent"
stderr_has 'absent' "grep: stderr names the missing file"

run_case "grep: a bad pattern exits 255 before any item" 255 '' \
	-- $CCMAP --so "$P/grep.so" 'a(b' ::: "$T/grep/a" "$T/grep/big"
is "$(printf '%s' "$ERR" | grep -c .)" 1 "grep: bad pattern: one line on stderr"
stderr_has 'missing closing parenthesis' "grep: bad pattern: PCRE2's message"
stderr_has 'offset' "grep: bad pattern: PCRE2's offset"
run_case "grep: no pattern exits 255" 255 '' \
	-- $CCMAP --so "$P/grep.so" ::: "$T/grep/a"
stderr_has 'pattern' "grep: no pattern: says a pattern is needed"

# --- PLUGIN-ARGS a plugin does not know: refused before any item -----------
# (an item written before the ::: is the usual mistake).  Each plugin, in
# each pool; the item is a file that gzip would compress: it must not be.
printf 'data\n' >"$T/argfile"
none="(it takes none: put items after :::)"
for pool in --threads --procs; do
	for spec in "len|unknown argument 'extra' $none" \
		"upper|unknown argument 'extra' $none" \
		"sha256|unknown argument 'extra' $none" \
		"gzip|unknown argument 'extra' (use -1 ... -9, -f)" \
		"grep|one pattern only, got 2 arguments (put items after :::)"; do
		p=${spec%%|*} msg=${spec#*|}
		args=(extra)
		[ "$p" = grep ] && args=(data extra)
		run_case "$p $pool: an unknown argument exits 255" 255 '' \
			-- $CCMAP $pool --so "$P/$p.so" "${args[@]}" ::: "$T/argfile"
		stderr_is "ccmap: --so: $p: $msg"$'\n' \
			"$p $pool: one line naming the plugin and the argument"
	done
	check "gzip $pool: the refused run compressed nothing" test ! -e "$T/argfile.gz"
done
run_case "upper: items from stdin, an argument still refused" 255 '' --stdin $'a\n' \
	-- $CCMAP --so "$P/upper.so" a
stderr_is "ccmap: --so: upper: unknown argument 'a' $none"$'\n' "upper: stdin: the argument named"

# --- lookup by name --------------------------------------------------------
run_case "--so len (no slash) is found in CCMAP_PLUGIN_PATH" 0 $'3\n0\n' \
	-- env CCMAP_PLUGIN_PATH="$T/nonexistent:$P" $CCMAP --so len ::: abc ''
run_case "--so upper:ccmap_plugin names the symbol" 0 $'AB\n' \
	-- env CCMAP_PLUGIN_PATH="$P" $CCMAP --so upper:ccmap_plugin ::: ab
mkdir "$T/cwd"
cp "$P/len.so" "$T/cwd/onlyhere.so"
(
	cd "$T/cwd"
	run_case "a name without a slash is not looked up in the current directory" 255 '' \
		-- env CCMAP_PLUGIN_PATH="$T/nonexistent" $CCMAP --so onlyhere.so ::: a
	echo "$_tap_n $_tap_failed" >"$T/counts"
)
read -r _tap_n _tap_failed <"$T/counts"

# --- an uninstalled ccmap finds its build tree's plugins -------------------
# The binary under test, without a valgrind prefix, and its directory.
bin=${CCMAP##* }
tree=$(cd "$(dirname "$bin")" && pwd -P)
if [ -f "$tree/libccmap.la" ]; then
	run_case "ccmap run from its build tree finds its plugins (no CCMAP_PLUGIN_PATH)" \
		0 $'3\n0\n' -- env -u CCMAP_PLUGIN_PATH $CCMAP --so len ::: abc ''
	run_case "... and a name not there is an error" 255 '' \
		-- env -u CCMAP_PLUGIN_PATH $CCMAP --so no-such-plugin ::: a
	stderr_is "ccmap: --so: no plugin 'no-such-plugin' in \$CCMAP_PLUGIN_PATH or $tree/src/plugins/.libs
" "... naming the tree's plugin directory, not the installed one"
else
	fail "the binary under test is in its build tree ($tree has no libccmap.la)"
fi
# A tree of ours: a copy of the binary finds src/plugins/.libs beside it
# only when libccmap.la says that it is a build tree; the current
# directory's tree is never used.
mkdir -p "$T/tree/src/plugins/.libs" "$T/elsewhere/src/plugins/.libs"
cp "$bin" "$T/tree/ccmap"
cp "$P/upper.so" "$T/tree/src/plugins/.libs/tree-upper.so"
cp "$P/upper.so" "$T/elsewhere/src/plugins/.libs/tree-upper.so"
: >"$T/elsewhere/libccmap.la"
run_case "a copy of ccmap beside src/plugins/.libs but no libccmap.la: not a build tree" \
	255 '' -- env -u CCMAP_PLUGIN_PATH ${VALGRIND:-} "$T/tree/ccmap" --so tree-upper ::: ab
: >"$T/tree/libccmap.la"
(
	cd "$T/elsewhere"
	run_case "with libccmap.la beside it: the tree's plugins are found" 0 $'AB\n' \
		-- env -u CCMAP_PLUGIN_PATH ${VALGRIND:-} "$T/tree/ccmap" --so tree-upper ::: ab
	rm "$T/tree/libccmap.la"
	run_case "a build tree in the current directory is not used" 255 '' \
		-- env -u CCMAP_PLUGIN_PATH ${VALGRIND:-} "$T/tree/ccmap" --so tree-upper ::: ab
	echo "$_tap_n $_tap_failed" >"$T/counts"
)
read -r _tap_n _tap_failed <"$T/counts"

done_testing
