#!/bin/bash
# t0910: what README.md says is true.
#
# Every line of the ```sh blocks of its "## Examples" section is a command,
# with "  # " and a comment after it that says what it does.  Each command
# runs as written (bash -c, "ccmap" the binary under test, no
# CCMAP_PLUGIN_PATH, as in a build tree before make install) in a scratch
# directory holding the files it needs, and the check below for it tests
# what its comment claims.  A command with no check here, or a check with
# no command in README.md, fails: the two are kept in step.  The commands
# for the terminal (-p, --bar, the item prompt) run in tmux.
#
# Jobs that "sleep" in the examples wait, in this test, on gates that the
# test opens (a sleep of our own first on PATH): when a job ends is then
# an event the test controls, never a matter of time.
#
# The rest of the page: the options it names are those of ccmap --help and
# ./configure --help, those it says are not yet there are not, the files of
# its Layout and the plugins it lists exist.
. "$(dirname "$0")/setup.sh"

top=${top_srcdir:-$SRC/../..}
readme=$top/README.md
[ -r "$readme" ] || skip_all "no README.md in $top"
unset CCMAP_PLUGIN_PATH

mkdir "$T/bin" "$T/gbin" "$T/gates"
cat >"$T/bin/ccmap" <<EOF
#!$BASH
exec $CCMAP "\$@"
EOF
chmod +x "$T/bin/ccmap"
# sleep N: mark that it started, then wait until the test opens gate N (a
# minute at most: a hang detector).
cat >"$T/gbin/sleep" <<EOF
#!$BASH
: >"$T/gates/started.\$1"
for ((i = 0; i < 1200; i++)); do
	[ -e "$T/gates/go.\$1" ] && exit 0
	$(command -v sleep) 0.05
done
exit 99
EOF
chmod +x "$T/gbin/sleep"

# --- The examples: cmds[i] and comments[i].
cmds=()
comments=()
in_sect=
in_block=
while IFS= read -r line || [ -n "$line" ]; do
	case $line in
	'## Examples') in_sect=1; continue ;;
	'## '*) in_sect= ;;
	esac
	[ -n "$in_sect" ] || continue
	case $line in
	'```sh') in_block=1; continue ;;
	'```') in_block=; continue ;;
	esac
	[ -n "$in_block" ] && [ -n "$line" ] || continue
	if [[ $line =~ ^(.*[^\ ])\ \ +#\ (.*)$ ]]; then
		cmds+=("${BASH_REMATCH[1]}")
		comments+=("${BASH_REMATCH[2]}")
	else
		fail "README example without a comment saying what it does: $line"
	fi
done <"$readme"
[ "${#cmds[@]}" -ge 10 ] && r=0 || r=1
ok $r "README.md has examples (${#cmds[@]} found)"

# ex DIR CMD: run CMD as the README writes it, in DIR; stdout, stderr and
# status in $T/out, $T/err, $T/status (and $OUT, $ERR, $STATUS).
ex() {
	local dir=$1 cmd=$2
	set +e
	(cd "$dir" && env PATH="$T/bin:$PATH" bash -c "$cmd") \
		</dev/null >"$T/out" 2>"$T/err"
	STATUS=$?
	set -e
	OUT=$(cat "$T/out"; echo x)
	OUT=${OUT%x}
	ERR=$(cat "$T/err")
}
# scratch: a new empty directory, its path in $d.
nd=0
scratch() {
	nd=$((nd + 1))
	d=$T/ex$nd
	mkdir "$d"
}
# shows NAME: the last ex() exited 0; else the diagnostics.
exited0() {
	is "$STATUS" 0 "$1: exit 0"
	[ "$STATUS" -eq 0 ] || diag "stderr: $ERR"
}
# gunzipped FILE.gz FILE: FILE.gz holds what FILE (a copy) holds.
gz_holds() {
	gzip -dc "$1" 2>/dev/null | cmp -s - "$2"
}
# file_is FILE TEXT: FILE holds exactly TEXT.
file_is() {
	[ "$(cat "$1" 2>/dev/null; echo x)" = "$2x" ]
}

# Terminal examples, run after the others (in tmux).
tty_cmds=()

checked=()
for ((i = 0; i < ${#cmds[@]}; i++)); do
	cmd=${cmds[i]}
	name="README: $cmd"
	checked+=("$cmd")
	case $cmd in
	'ls | ccmap -j8 gzip')
		scratch
		for f in one two three; do seq "$nd" 500 >"$d/$f"; cp "$d/$f" "$T/$f.orig"; done
		ex "$d" "$cmd"
		exited0 "$name"
		r=0
		for f in one two three; do
			gz_holds "$d/$f.gz" "$T/$f.orig" && [ ! -e "$d/$f" ] || r=1
		done
		ok $r "$name: every file compressed (FILE.gz, FILE gone, as gzip does)"
		;;
	'ccmap echo ::: a b ::: 1 2')
		scratch
		ex "$d" "$cmd"
		is "$OUT" $'a 1\na 2\nb 1\nb 2\n' "$name: every combination"
		;;
	'ccmap --link echo ::: a b ::: 1 2')
		scratch
		ex "$d" "$cmd"
		is "$OUT" $'a 1\nb 2\n' "$name: pairs"
		;;
	'cat jobs.txt | ccmap')
		scratch
		printf '%s\n' 'echo hello' 'echo two words | tr a-z A-Z' >"$d/jobs.txt"
		ex "$d" "$cmd"
		is "$OUT" $'hello\nTWO WORDS\n' "$name: each line run as a command"
		;;
	"ccmap -j3 --as-completed 'sleep {}; echo {}' ::: 3 1 2")
		# The jobs end when the test says: 1, then 2, then 3.
		scratch
		(cd "$d" && env PATH="$T/gbin:$T/bin:$PATH" bash -c "$cmd" \
			</dev/null >"$T/ac.out" 2>"$T/ac.err"; echo $? >"$T/ac.status") &
		acpid=$!
		all_started() { [ -e "$T/gates/started.3" ] && [ -e "$T/gates/started.1" ] &&
			[ -e "$T/gates/started.2" ]; }
		wait_for 30 all_started && r=0 || r=1
		ok $r "$name: -j3 runs the three jobs at once"
		: >"$T/gates/go.1"
		wait_for 30 file_is "$T/ac.out" $'1\n' && r=0 || r=1
		ok $r "$name: 1 is written when its job ends, while 3 and 2 run"
		: >"$T/gates/go.2"
		wait_for 30 file_is "$T/ac.out" $'1\n2\n' && r=0 || r=1
		ok $r "$name: then 2, when its job ends, while 3 runs"
		: >"$T/gates/go.3"
		wait "$acpid" || :
		is "$(cat "$T/ac.out")" $'1\n2\n3' "$name: then 3"
		is "$(cat "$T/ac.status")" 0 "$name: exit 0"
		rm -f "$T/gates/"*
		;;
	'seq 5 | ccmap -j2 echo item')
		scratch
		ex "$d" "$cmd"
		is "$OUT" $'item 1\nitem 2\nitem 3\nitem 4\nitem 5\n' "$name: in input order"
		;;
	'seq 10 | ccmap -n3 echo')
		scratch
		ex "$d" "$cmd"
		is "$OUT" $'1 2 3\n4 5 6\n7 8 9\n10\n' "$name: three items per command"
		;;
	"ccmap --timeout 5 'sleep {}; echo {}' ::: 1 60")
		# Job 1 ends at once (its gate is open); job 60 never would.
		scratch
		: >"$T/gates/go.1"
		set +e
		(cd "$d" && env PATH="$T/gbin:$T/bin:$PATH" bash -c "$cmd") \
			</dev/null >"$T/out" 2>"$T/err"
		STATUS=$?
		set -e
		is "$(cat "$T/out")" 1 "$name: prints 1"
		is "$STATUS" 1 "$name: the killed job counts as failed (exit 1)"
		grep -q "job 2: .*sleep 60.*timed out" "$T/err" && r=0 || r=1
		ok $r "$name: the 60 s job is killed at the timeout, and says so"
		[ "$r" -eq 0 ] || diag <"$T/err"
		check "$name: ... its sleep started" test -e "$T/gates/started.60"
		rm -f "$T/gates/"*
		;;
	"ccmap -q sh -c 'echo \"\$1\"' _ ::: 'a b'")
		scratch
		ex "$d" "$cmd"
		is "$OUT" $'a b\n' "$name: the script stays one word"
		;;
	"printf 'name,age\\nann,7\\n' | ccmap -C , --header : echo {name} is {age}")
		scratch
		ex "$d" "$cmd"
		is "$OUT" $'ann is 7\n' "$name: ${comments[i]}"
		;;
	"ccmap --match '@(.+)' echo {1} ::: ann@example.org junk")
		scratch
		ex "$d" "$cmd"
		is "$OUT" $'example.org\n' "$name: only the item that matches, its group as {1}"
		;;
	'cat big.log | ccmap --pipe --block 10M wc -l')
		scratch
		seq 3000000 >"$d/big.log"
		size=$(wc -c <"$d/big.log")
		ex "$d" "$cmd"
		exited0 "$name"
		sum=$(awk '{ n += $1 } END { print n + 0 }' "$T/out")
		is "$sum" 3000000 "$name: the blocks' line counts add up to the file's"
		is "$(grep -c . "$T/out")" $(((size + 10485759) / 10485760)) \
			"$name: one job for each 10 MB block ($size bytes)"
		;;
	'ccmap -j1 --halt now,fail=1 --joblog log gzip -t ::: *.gz')
		scratch
		echo a | gzip >"$d/a.gz"
		echo 'not gzip' >"$d/b.gz"
		echo c | gzip >"$d/c.gz"
		ex "$d" "$cmd"
		is "$STATUS" 1 "$name: exit 1, the failed job's status"
		awk -F '\t' 'NR > 1 { print $7, $9 }' "$d/log" >"$T/log"
		is "$(cat "$T/log")" $'0 gzip -t a.gz\n1 gzip -t b.gz' \
			"$name: stops at the first bad archive (c.gz not tested); each job logged"
		is "$(head -n 1 "$d/log" | cut -f 1,7,9)" $'Seq\tExitval\tCommand' \
			"$name: the log has GNU parallel's header"
		;;
	'ls | ccmap --so gzip')
		scratch
		seq 300 >"$d/x"
		seq 7 >"$d/y"
		ex "$d" "$cmd"
		exited0 "$name"
		gz_holds "$d/x.gz" "$d/x" && gz_holds "$d/y.gz" "$d/y" && r=0 || r=1
		ok $r "$name: the plugin (found with no CCMAP_PLUGIN_PATH) compressed each file"
		;;
	'find . -type f | ccmap --procs --so sha256')
		scratch
		mkdir "$d/sub"
		seq 100 >"$d/p"
		printf 'q' >"$d/sub/q"
		: >"$d/empty"
		ex "$d" "$cmd"
		want=$(cd "$d" && find . -type f | xargs sha256sum; echo x)
		is "$OUT" "${want%x}" "$name: as sha256sum prints it"
		;;
	'seq 10000000 | ccmap --so len | tail -n 1')
		scratch
		ex "$d" "$cmd"
		is "$OUT" $'8\n' "$name: 8, the length of 10000000"
		;;
	'cc -shared -fPIC $(pkg-config --cflags ccmap) count.c -o count.so')
		# count.c: the plugin of ccmap-plugin(3); ccmap.pc: as installed,
		# its header the tree's.
		mkdir -p "$T/plugin" "$T/pc"
		awk '$0 == ".\\\" BEGIN EXAMPLE PLUGIN" { f = 1; next }
			f && !b && /^\.Bd / { b = 1; next }
			b && /^\.Ed/ { exit }
			b { print }' "$top/man/ccmap-plugin.3" |
			sed -e 's/\\-/-/g' -e 's/\\&//g' -e 's/\\e/\\/g' >"$T/plugin/count.c"
		printf 'includedir=%s\nName: ccmap\nDescription: test\nVersion: 0\nCflags: -I${includedir}\n' \
			"$top/src" >"$T/pc/ccmap.pc"
		set +e
		(cd "$T/plugin" && env PKG_CONFIG_PATH="$T/pc" bash -c "$cmd") \
			>"$T/out" 2>"$T/err"
		STATUS=$?
		set -e
		is "$STATUS" 0 "$name: builds the page's count.c"
		[ "$STATUS" -eq 0 ] || diag <"$T/err"
		check "$name: count.so is there" test -s "$T/plugin/count.so"
		;;
	'ccmap --so ./count.so ::: a bb')
		ex "$T/plugin" "$cmd"
		is "$OUT" $'a 1\nbb 2\n' "$name: each item and its length"
		;;
	'ls *.log | ccmap -p gzip' | 'ls | ccmap --bar gzip' | 'ccmap -j4 ./check-host')
		tty_cmds+=("$cmd")
		;;
	*)
		fail "README example with no check in t0910: $cmd"
		checked=("${checked[@]:0:${#checked[@]}-1}")
		;;
	esac
done

# The checks this script has, each for one README command.
known=(
	'ls | ccmap -j8 gzip'
	'ccmap echo ::: a b ::: 1 2'
	'ccmap --link echo ::: a b ::: 1 2'
	'cat jobs.txt | ccmap'
	"ccmap -j3 --as-completed 'sleep {}; echo {}' ::: 3 1 2"
	'seq 5 | ccmap -j2 echo item'
	'seq 10 | ccmap -n3 echo'
	"ccmap --timeout 5 'sleep {}; echo {}' ::: 1 60"
	"ccmap -q sh -c 'echo \"\$1\"' _ ::: 'a b'"
	"printf 'name,age\\nann,7\\n' | ccmap -C , --header : echo {name} is {age}"
	"ccmap --match '@(.+)' echo {1} ::: ann@example.org junk"
	'cat big.log | ccmap --pipe --block 10M wc -l'
	'ccmap -j1 --halt now,fail=1 --joblog log gzip -t ::: *.gz'
	'ls | ccmap --so gzip'
	'find . -type f | ccmap --procs --so sha256'
	'seq 10000000 | ccmap --so len | tail -n 1'
	'cc -shared -fPIC $(pkg-config --cflags ccmap) count.c -o count.so'
	'ccmap --so ./count.so ::: a bb'
	'ls *.log | ccmap -p gzip'
	'ls | ccmap --bar gzip'
	'ccmap -j4 ./check-host'
)
missing=
for k in "${known[@]}"; do
	found=
	for c in "${checked[@]}"; do
		[ "$c" = "$k" ] && found=1
	done
	[ -n "$found" ] || missing+="$k; "
done
is "$missing" "" "every check of t0910 has its command in README.md"

# --- The terminal examples, in tmux.
if [ ${#tty_cmds[@]} -gt 0 ] && ! command -v tmux >/dev/null 2>&1; then
	for cmd in "${tty_cmds[@]}"; do
		skip "README: $cmd" "tmux is not installed"
	done
	tty_cmds=()
fi
if [ ${#tty_cmds[@]} -gt 0 ]; then
	. "$SRC/tmux.sh"
	tm_start
	for cmd in "${tty_cmds[@]}"; do
		name="README: $cmd"
		scratch
		tm_clear
		tm_run "cd '$d'"
		tm_wait '^END:0$' >/dev/null
		tm_clear
		case $cmd in
		'ls *.log | ccmap -p gzip')
			seq 10 >"$d/a.log"
			seq 20 >"$d/b.log"
			tm_run "$cmd"
			check "$name: asks about the first job" tm_wait '^gzip a\.log \?\.\.\.$'
			tm_type y
			tm_keys Enter
			check "$name: then about the second" tm_wait '^gzip b\.log \?\.\.\.$'
			tm_type n
			tm_keys Enter
			check "$name: exit 0" tm_wait '^END:0$'
			[ -s "$d/a.log.gz" ] && [ ! -e "$d/a.log" ] && [ -e "$d/b.log" ] &&
				[ ! -e "$d/b.log.gz" ] && r=0 || r=1
			ok $r "$name: y ran gzip on a.log, n left b.log alone"
			;;
		'ls | ccmap --bar gzip')
			seq 10 >"$d/p"
			seq 20 >"$d/q"
			tm_run "$cmd"
			check "$name: ends, exit 0" tm_wait '^END:0$'
			tm_screen | grep -q '100%' && r=0 || r=1
			ok $r "$name: the terminal shows the bar at 100%"
			[ "$r" -eq 0 ] || tm_screen | diag
			[ -s "$d/p.gz" ] && [ -s "$d/q.gz" ] && r=0 || r=1
			ok $r "$name: and the files are compressed"
			;;
		'ccmap -j4 ./check-host')
			printf '#!/bin/sh\necho "$1 is up"\n' >"$d/check-host"
			chmod +x "$d/check-host"
			tm_run "$cmd"
			check "$name: a prompt" tm_wait '^ccmap> ?$'
			tm_type alpha
			tm_keys Enter
			check "$name: an item typed runs" tm_wait '^alpha is up$'
			tm_type beta
			tm_keys Enter
			check "$name: and the next" tm_wait '^beta is up$'
			tm_keys C-d
			check "$name: Ctrl-D ends, exit 0" tm_wait '^END:0$'
			;;
		esac
	done
fi

# --- The rest of the page.
$CCMAP --help >"$T/help"
# has_opt FILE OPT: FILE (a --help) lists OPT as an option.
has_opt() {
	grep -qE -- "(^|[ ,/])$2([ ,=\[]|\$)" "$1"
}
# The options of GNU parallel's spelling that the page names.
sect() { # TITLE: the lines of README's section "## TITLE"
	awk -v t="## $1" '$0 == t { s = 1; next } /^## / { s = 0 } s' "$readme"
}
names=$(sect Examples | grep -A3 '^Option names follow' | grep -oE -- '`-[^`]+`' |
	tr -d '`' | tr '/' '\n')
[ "$(echo "$names" | wc -w)" -ge 5 ] && r=0 || r=1
ok $r "README names options that follow GNU parallel ($(echo $names))"
m=
for o in $names; do
	case $o in
	-*) has_opt "$T/help" "$o" || m+="$o " ;;
	esac
done
is "$m" "" "... each is an option of ccmap --help"
# What Status says is not yet there is not.
planned=$(sect Status | tr '\n' ' ' | grep -oE -- '`-[^`]+`' | tr -d '`' | tr '/' '\n')
[ "$(echo "$planned" | wc -w)" -ge 1 ] && r=0 || r=1
ok $r "README's Status names options not yet there ($(echo $planned))"
m=
for o in $planned; do
	has_opt "$T/help" "$o" && m+="$o "
done
is "$m" "" "... and ccmap --help has none of them (else Status is out of date)"
# The ./configure options of the table.
if [ -x "$top/configure" ]; then
	"$top/configure" --help >"$T/confhelp"
	copts=$(sect Build | grep -oE -- '^\| `--[a-z-]+' | tr -d '|` ')
	[ "$(echo "$copts" | wc -w)" -ge 5 ] && r=0 || r=1
	ok $r "README lists ./configure options ($(echo $copts))"
	m=
	for o in $copts; do
		grep -qE -- "^ +$o([ =\[]|\$)" "$T/confhelp" || m+="$o "
	done
	is "$m" "" "... each is an option of ./configure --help"
else
	fail "README lists ./configure options: no $top/configure to check them"
fi
# The paths of Layout, and the quick start's two commands.
m=
for p in $(sect Layout | grep -oE '^\| `[^`]+`' | tr -d '|` ') \
	$(sect Layout | grep -oE '^\| `[^`]+`, `[^`]+`' | sed 's/.*, //' | tr -d '`'); do
	[ -e "$top/$p" ] || m+="$p "
done
is "$m" "" "every path of README's Layout exists"
check "the quick start's ./bootstrap.sh is there and executable" test -x "$top/bootstrap.sh"
check "the quick start's tests/ci.sh is there and executable" test -x "$top/tests/ci.sh"
# The shipped plugins it lists.
listed=$(grep -oE 'The shipped plugins \([^)]*\)' "$readme" | grep -oE '`[a-z0-9]+`' |
	tr -d '`' | sort | tr '\n' ' ')
there=$(cd "$top/src/plugins" && ls ./*.c | sed 's|^\./||; s|\.c$||' | sort | tr '\n' ' ')
is "$listed" "$there" "README lists the shipped plugins of src/plugins"

done_testing
