#!/bin/bash
# t1900: the acceptance table (acceptance.txt): GNU parallel's common
# invocations give byte-identical stdout and the same exit status under
# ccmap as under `parallel --will-cite -k`.  GNU parallel is the reference,
# run here and now, so the expected results are never written down by hand.
. "$(dirname "$0")/setup.sh"

command -v parallel >/dev/null 2>&1 ||
	skip_all "GNU parallel is not installed (apt-get install parallel)"

# The fixtures the table's lines use.
W=$T/w
mkdir -p "$W/dir"
printf 'a\nb\nc\n' >"$W/abc-file"
seq 30 >"$W/num30"
printf 'a\0b\0c\0' >"$W/nul-file"
printf 'a\tb\tc\n1\t2\t3\nx y\t\tz\n' >"$W/tsv-file"
printf 'name,size\nfoo,1\nbar,22\n' >"$W/csv-file"
: >"$W/dir/x.tar.gz"
: >"$W/dir/y.c"
echo spaced >"$W/with space"
printf 'INFO start\nERROR disk full\nINFO done\nERROR net down\n' >"$W/mixed.log"

# run LINE PROGRAM: stdout into $T/got, exit status echoed.
run() {
	(cd "$W" && P=$2 bash -c "$1" >"$T/got" 2>"$T/got.err" </dev/null)
	echo $?
}

n=0
while IFS= read -r line; do
	case $line in '' | '#'*) continue ;; esac
	n=$((n + 1))
	want_status=$(run "$line" "parallel --will-cite -k")
	cp "$T/got" "$T/want"
	got_status=$(run "$line" "$CCMAP")
	if [ "$got_status" = "$want_status" ] && cmp -s "$T/got" "$T/want"; then
		pass "$line"
	else
		fail "$line"
		diag "exit status: parallel $want_status, ccmap $got_status"
		diag "parallel's stdout:"
		diag <"$T/want"
		diag "ccmap's stdout:"
		diag <"$T/got"
		diag "ccmap's stderr:"
		diag <"$T/got.err"
	fi
done <"$SRC/acceptance.txt"
[ "$n" -ge 50 ] && r=0 || r=1
ok $r "the table has at least 50 invocations ($n)"
done_testing
