#!/bin/bash
# t1420: --results FILE.csv, FILE.tsv and FILE.json (and -.csv, -.tsv, -.json
# for the standard output) write one record per job as GNU parallel does:
# the same bytes but for the start time and the run time; a header line
# (CSV, TSV) with as many value columns as the first job has; an empty file
# for no jobs; the same with --procs; a record per plugin item; bytes that
# are not UTF-8 still make valid JSON; bad combinations fail before any job.
. "$(dirname "$0")/setup.sh"

P=${CCMAP_PLUGIN_DIR:-$SRC/../../src/plugins/.libs}
command -v parallel >/dev/null || skip_all "GNU parallel is not installed"

# norm FILE: the records with Starttime and JobRuntime (which vary) masked.
norm() {
	sed -E 's/^([0-9]+[,	]:[,	])[0-9.]+([,	])[0-9.]+/\1T\2R/
		s/"Starttime": [0-9.]+, "JobRuntime": [0-9.]+/"T"/' "$1"
}

# same_records NAME FILE ARG...: ccmap ARG... and parallel ARG..., with @F@
# in an ARG standing for $T/c.FILE and $T/g.FILE (or, for FILE -.x, the
# standard output); the records (masked), exit status and stdout must match.
same_records() {
	local name=$1 file=$2 a rc rg r cp gp cf gf
	shift 2
	case $file in
	-.*) cp=$file gp=$file cf=$T/c.out gf=$T/g.out ;;
	*) cp=$T/c.$file gp=$T/g.$file cf=$cp gf=$gp ;;
	esac
	local cargs=() gargs=()
	for a in "$@"; do
		cargs+=("${a//@F@/$cp}")
		gargs+=("${a//@F@/$gp}")
	done
	set +e
	$CCMAP "${cargs[@]}" </dev/null >"$T/c.out" 2>"$T/c.err"
	rc=$?
	parallel --will-cite "${gargs[@]}" </dev/null >"$T/g.out" 2>"$T/g.err"
	rg=$?
	set -e
	is "$rc" "$rg" "$name: exit status $rg, as GNU parallel's"
	if diff <(norm "$cf") <(norm "$gf") >"$T/diff" 2>&1; then
		r=0
	else
		r=1
		diag <"$T/diff"
	fi
	ok $r "$name: the records of GNU parallel (but for the times)"
	case $file in
	-.*) ;;
	*) [ -s "$T/c.out" ] && r=1 || r=0
	   ok $r "$name: nothing on stdout" ;;
	esac
}

for f in csv tsv json; do
	same_records "awkward $f" $f -k --results @F@ \
		'printf "%s\n\n" {}; echo e {} >&2; exit 2' \
		::: 'a b' 'c"d' $'e\tf\001g' "it's" 'x,y' ''
	same_records "two sources $f" $f -k --results @F@ echo ::: a b ::: 1 2
	same_records "-n2 $f" $f -k -n2 --results @F@ echo ::: a b c
	same_records "stdout -.$f" -.$f -k --results @F@ 'echo {}; echo e >&2' ::: a b
	same_records "one short job $f" $f -n3 --results @F@ echo ::: a
done
same_records "upper-case suffix" CSV -k --results @F@ echo ::: a
same_records "--header names" csv -k --header : --results @F@ echo ::: A a ::: B 1 2
same_records "--header names" tsv -k --header : --results @F@ echo ::: A a ::: B 1 2

# The header, and a timing field that must be right whatever it is.
$CCMAP -k --results "$T/t.csv" 'sleep {}' ::: 0.3 0 >/dev/null
head -1 "$T/t.csv" >"$T/head"
is "$(cat "$T/head")" \
	"Seq,Host,Starttime,JobRuntime,Send,Receive,Exitval,Signal,Command,V1,Stdout,Stderr" \
	"the CSV header"
python3 - "$T/t.csv" >"$T/py" 2>&1 <<'EOF' && r=0 || { r=1; diag <"$T/py"; }
import csv, sys, time
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert [r["Seq"] for r in rows] == ["1", "2"], rows
assert float(rows[0]["JobRuntime"]) >= 0.3, rows
assert abs(float(rows[0]["Starttime"]) - time.time()) < 3600, rows
EOF
ok $r "JobRuntime in seconds, Starttime since the epoch"

# No jobs: the file is made, empty.
run_case "no jobs: exit 0" 0 "" -- $CCMAP --results "$T/empty.csv" echo <&-
check "no jobs: an empty file" test -f "$T/empty.csv" -a ! -s "$T/empty.csv"

# --procs writes the same records as --threads.
for p in --threads --procs; do
	$CCMAP $p -j2 --results "$T/p$p.tsv" 'echo {}; exit 1' ::: a b c >/dev/null || true
done
diff <(norm "$T/p--threads.tsv") <(norm "$T/p--procs.tsv") >"$T/diff" && r=0 ||
	{ r=1; diag <"$T/diff"; }
ok $r "--procs: the records of --threads"

# Plugins: a record per item, the --so value as the command.
for p in --threads --procs; do
	run_case "plugin $p: exit 0" 0 "" --stdin $'a\nb c\n' -- \
		$CCMAP $p --results "$T/pl$p.csv" --so "$P/upper.so"
	python3 - "$T/pl$p.csv" "$P/upper.so" >"$T/py" 2>&1 <<'EOF' && r=0 || { r=1; diag <"$T/py"; }
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert [(r["Seq"], r["V1"], r["Stdout"], r["Exitval"], r["Command"]) for r in rows] == \
    [("1", "a", "A\n", "0", sys.argv[2]), ("2", "b c", "B C\n", "0", sys.argv[2])], rows
EOF
	ok $r "plugin $p: one record per item"
done

# Bytes that are not UTF-8: valid JSON (GNU parallel writes them raw).
printf '\xff\xfe\n' >"$T/bad"
$CCMAP --results "$T/bad.json" cat :::: "$T/bad" 2>/dev/null || true
python3 - "$T/bad.json" >"$T/py" 2>&1 <<'EOF' && r=0 || { r=1; diag <"$T/py"; }
import json, sys
rec = json.loads(open(sys.argv[1], "rb").read())
assert rec["V"][0].encode("utf-8", "surrogateescape") == b"\xff\xfe", rec
EOF
ok $r "invalid UTF-8: still valid JSON, the bytes escaped"

run_case "--json with a file of records: an error" 255 "" -- \
	$CCMAP --json --results "$T/x.csv" echo ::: a
stderr_is "ccmap: --json: not with a --results file of records ('$T/x.csv'): each is a line per job
" "--json with a file of records: the message"
run_case "an unwritable file of records: an error before any job" 255 "" -- \
	$CCMAP --results "$T/no/such/dir/x.json" touch "$T/ran" ::: a
stderr_has "^ccmap: --results: cannot write '$T/no/such/dir/x.json': No such file or directory$" \
	"an unwritable file of records: the message"
check "an unwritable file of records: no job ran" test ! -e "$T/ran"

done_testing
