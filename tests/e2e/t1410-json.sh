#!/bin/bash
# t1410: --json writes one valid JSON object a line for each job (and, with
# --so, each item, with --threads and --procs, map and map_batch): seq,
# item or args, exit, signal, duration, stdout, stderr, in input order or
# with --as-completed as jobs end; any bytes (binary, invalid UTF-8, control
# characters) come back exactly through Python's surrogateescape; --results
# and --json together write both.
. "$(dirname "$0")/setup.sh"

P=${CCMAP_PLUGIN_DIR:-$SRC/../../src/plugins/.libs}
top=${top_srcdir:-$SRC/../..}
command -v python3 >/dev/null || skip_all "python3 is not installed"

# The checker: every line of FILE must end with a newline and parse as JSON
# (from bytes, so it must be valid UTF-8); then the Python expression EXPR,
# with recs (the objects), raw (the lines as bytes), b(s) (a string's bytes
# through surrogateescape) and keys (the member names each must have), must
# be true.
cat >"$T/jcheck.py" <<'EOF'
import json, sys
path, expr = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
raw = data.split(b"\n")
if raw[-1] != b"":
    sys.exit("the last line has no newline")
raw = raw[:-1]
recs = [json.loads(line) for line in raw]
def b(s):
    return s.encode("utf-8", "surrogateescape")
def keys(r):
    k = list(r.keys())
    want = ["seq", "item" if "item" in r else "args", "exit", "signal",
            "duration", "stdout", "stderr"]
    return k == want and isinstance(r["duration"], float) and r["duration"] >= 0
ctx = {"recs": recs, "raw": raw, "b": b, "keys": keys, "json": json}
if not eval("(" + expr.strip() + ")", ctx):
    for line in raw[:20]:
        print("#", line[:300])
    sys.exit("false: " + expr)
EOF

# jcheck NAME FILE EXPR: a TAP check of FILE with the checker.
jcheck() {
	local r
	if python3 "$T/jcheck.py" "$2" "$3" >"$T/jcheck.out" 2>&1; then
		r=0
	else
		r=1
		diag <"$T/jcheck.out"
	fi
	ok $r "$1"
}

# json NAME STATUS ARG...: run ccmap --json ARG... into $T/out; check status.
json() {
	local name=$1 want=$2
	shift 2
	run_case "$name: exit $want" "$want" '*' -- $CCMAP --json "$@"
}

# --- commands ----------------------------------------------------------------
json "fields" 3 'printf "%s\n" {}; echo e{} >&2; exit {#}' ::: a b c
jcheck "fields: seq, item, exit, signal, duration, stdout, stderr" "$T/out" '
len(recs) == 3 and all(keys(r) for r in recs) and
[r["seq"] for r in recs] == [1, 2, 3] and
[r["item"] for r in recs] == ["a", "b", "c"] and
[r["exit"] for r in recs] == [1, 2, 3] and
all(r["signal"] == 0 for r in recs) and
[r["stdout"] for r in recs] == ["a\n", "b\n", "c\n"] and
[r["stderr"] for r in recs] == ["ea\n", "eb\n", "ec\n"]'
is "$(cat "$T/err")" "" "fields: nothing else on stderr"

json "duration" 0 'sleep {}' ::: 0.3
jcheck "duration: seconds, at least as long as the job ran" "$T/out" \
	'recs[0]["duration"] >= 0.3 and recs[0]["duration"] < 600'

json "signal" 1 'kill -9 $$' ::: x
jcheck "signal: exit null, signal 9" "$T/out" \
	'recs[0]["exit"] is None and recs[0]["signal"] == 9 and b"\"exit\":null" in raw[0]'
stderr_has "killed by SIGKILL" "signal: the warning still on stderr"

json "not found" 1 no-such-command-here ::: x
jcheck "not found: exit 127" "$T/out" 'recs[0]["exit"] == 127 and recs[0]["signal"] == 0'

json "two sources" 0 echo ::: a b ::: 1 2
jcheck "two sources: args, every combination, in order" "$T/out" '
all(keys(r) and "item" not in r for r in recs) and
[r["args"] for r in recs] == [["a","1"],["a","2"],["b","1"],["b","2"]] and
[r["stdout"] for r in recs] == ["a 1\n","a 2\n","b 1\n","b 2\n"]'

json "-n2" 0 -n2 echo ::: a b c
jcheck "-n2: args of each job" "$T/out" \
	'[r["args"] for r in recs] == [["a","b"],["c"]] and [r["seq"] for r in recs] == [1, 2]'

json "columns" 0 -C , echo ::: a,b c
jcheck "-C: the columns as args" "$T/out" '[r["args"] for r in recs] == [["a","b"],["c"]]'

# Order: job a waits for a flag.  In input order, job b makes it; with
# --as-completed, the reader of ccmap's output makes it once it has b's line,
# so a ends after b's line is out, whatever the timing.
cat >"$T/order.sh" <<EOF
if [ "\$1" = a ]; then
	for i in \$(seq 600); do [ -e "$T/flag.\$2" ] && break; sleep 0.1; done
elif [ "\$2" = k ]; then
	touch "$T/flag.\$2"
fi
echo "\$1"
EOF
json "input order" 0 -j2 bash "$T/order.sh" {} k ::: a b
jcheck "input order: a before b, though b ended first" "$T/out" \
	'[r["item"] for r in recs] == ["a", "b"]'
$CCMAP --json -j2 --as-completed bash "$T/order.sh" {} c ::: a b |
	while IFS= read -r line; do
		printf '%s\n' "$line" >>"$T/completed"
		case $line in *'"item":"b"'*) touch "$T/flag.c" ;; esac
	done
jcheck "--as-completed: b first, as it ended first" "$T/completed" \
	'[r["item"] for r in recs] == ["b", "a"] and [r["seq"] for r in recs] == [2, 1]'

# --- any bytes ---------------------------------------------------------------
head -c 100000 /dev/urandom >"$T/bin"
head -c 5000 /dev/urandom >"$T/bin2"
for pool in --threads --procs; do
	json "binary $pool" 0 $pool 'cat {}; cat {}2 >&2' ::: "$T/bin"
	jcheck "binary $pool: stdout and stderr give back the exact bytes" "$T/out" \
		"b(recs[0]['stdout']) == open('$T/bin','rb').read() and
		 b(recs[0]['stderr']) == open('$T/bin2','rb').read()"
done

printf '\xff\xfe\n\xc3\xa9t\xc3\xa9\n\xe2\x82\n' >"$T/bad"
json "invalid UTF-8" 0 echo :::: "$T/bad"
jcheck "invalid UTF-8: items and output round-trip, valid UTF-8 kept raw" "$T/out" '
[b(r["item"]) for r in recs] == [b"\xff\xfe", b"\xc3\xa9t\xc3\xa9", b"\xe2\x82"] and
[b(r["stdout"]) for r in recs] == [b"\xff\xfe\n", b"\xc3\xa9t\xc3\xa9\n", b"\xe2\x82\n"] and
b"\\udcff\\udcfe" in raw[0] and b"\xc3\xa9t\xc3\xa9" in raw[1] and
b"\\udce2\\udc82" in raw[2]'

cat >"$T/ctl.sh" <<'EOF'
printf 'a\001b\177c\td\re\000f"g\\h'
EOF
json "control characters" 0 bash "$T/ctl.sh" ::: x
jcheck "control characters: escaped, and back exactly" "$T/out" '
recs[0]["stdout"] == "a\x01b\x7fc\td\re\x00f\"g\\h" and
b"a\\u0001b\\u007fc\\td\\re\\u0000f\\\"g\\\\h" in raw[0]'

json "empty output" 0 true ::: x
jcheck "empty output: empty strings" "$T/out" 'recs[0]["stdout"] == "" == recs[0]["stderr"]'

# --- the same whatever the pool or output mode ----------------------------------
# The reference is checked on its own first, so that a mode cannot pass by
# matching a reference that is empty or wrong.
strip() { sed 's/"duration":[0-9.]*,//' "$1"; }
json "reference" 4 -k 'echo {}; echo e >&2; exit 1' ::: a b c d
cp "$T/out" "$T/ref"
jcheck "reference: four failed jobs, in order" "$T/ref" '
len(recs) == 4 and all(keys(r) for r in recs) and
[r["seq"] for r in recs] == [1, 2, 3, 4] and
[r["item"] for r in recs] == ["a", "b", "c", "d"] and
[r["stdout"] for r in recs] == ["a\n", "b\n", "c\n", "d\n"] and
all(r["exit"] == 1 and r["signal"] == 0 and r["stderr"] == "e\n" for r in recs)'
for opts in "--procs -j2" "--line-buffer" "-u" "--tag" "--tagstring X" "--group -j1"; do
	json "--json $opts" 4 $opts -k 'echo {}; echo e >&2; exit 1' ::: a b c d
	is "$(strip "$T/out")" "$(strip "$T/ref")" "--json $opts: the same lines"
done

# --- --results and --json together -------------------------------------------
json "with --results" 0 --results "$T/res" 'echo {}; echo e{} >&2' ::: a b/c
jcheck "with --results: the JSON lines" "$T/out" \
	'[r["stdout"] for r in recs] == ["a\n", "b/c\n"] and [r["stderr"] for r in recs] == ["ea\n", "eb/c\n"]'
cat "$T/res/1/b\\_c/stdout" "$T/res/1/b\\_c/stderr" "$T/res/1/b\\_c/seq" >"$T/files"
is "$(od -c "$T/files")" "$(printf 'b/c\neb/c\n2' | od -c)" "with --results: the files too"

# --- plugins -----------------------------------------------------------------
printf 'a\nbb\n\xff\n' >"$T/items"
for pool in --threads --procs; do
	json "upper.so $pool" 0 -j2 $pool --so "$P/upper.so" :::: "$T/items"
	jcheck "upper.so $pool: one object per item" "$T/out" '
	all(keys(r) and "item" in r for r in recs) and
	[r["seq"] for r in recs] == [1, 2, 3] and
	[b(r["item"]) for r in recs] == [b"a", b"bb", b"\xff"] and
	[b(r["stdout"]) for r in recs] == [b"A\n", b"BB\n", b"\xff\n"] and
	all(r["exit"] == 0 and r["signal"] == 0 and r["stderr"] == "" for r in recs)'

	seq 2000 >"$T/many"
	json "len.so $pool 2000 items" 0 -j2 $pool --so "$P/len.so" :::: "$T/many"
	jcheck "len.so $pool: 2000 objects, in order" "$T/out" '
	len(recs) == 2000 and [r["seq"] for r in recs] == list(range(1, 2001)) and
	all(r["item"] == str(r["seq"]) and r["stdout"] == "%d\n" % len(r["item"]) for r in recs)'
done

# A plugin that writes to stderr, fails, and crashes; and a map_batch one.
cat >"$T/jp.c" <<'EOF'
#include <signal.h>
#include <string.h>
#include <ccmap/plugin.h>

static int
one(const struct ccmap_host *host, struct ccmap_call *call, const char *item,
    size_t len)
{
	if (len == 5 && !memcmp(item, "crash", 5)) {
		raise(SIGSEGV);
		return 9;
	}
	if (len == 4 && !memcmp(item, "fail", 4)) {
		host->write(call, 1, "partial", 7);
		host->error(call, "failed on purpose");
		return 3;
	}
	host->write(call, 2, "to stderr\n", 10);
	host->write(call, 1, item, len);
	return 0;
}

static int
jp_map(const struct ccmap_host *host, struct ccmap_call *call, void *ws,
    const char *item, size_t len)
{
	(void)ws;
	return one(host, call, item, len);
}

static void
jp_batch(const struct ccmap_host *host, void *ws,
    const struct ccmap_item *items, int *status, size_t n)
{
	(void)ws;
	for (size_t i = 0; i < n; i++)
		status[i] = one(host, items[i].call, items[i].data, items[i].len);
}

const struct ccmap_plugin ccmap_plugin = {
	.abi = CCMAP_PLUGIN_ABI,
	.flags = CCMAP_PLUGIN_THREADSAFE,
	.name = "jp",
	.map = jp_map,
};

const struct ccmap_plugin jp_batch_plugin = {
	.abi = CCMAP_PLUGIN_ABI,
	.flags = CCMAP_PLUGIN_THREADSAFE,
	.name = "jp-batch",
	.map = jp_map,
	.map_batch = jp_batch,
};
EOF
if ! cc -shared -fPIC -I"$top/src" "$T/jp.c" -o "$T/jp.so" 2>"$T/cc.err"; then
	diag <"$T/cc.err"
	skip_all "cannot build a test plugin"
fi
for sym in "" :jp_batch_plugin; do
	for pool in --threads --procs; do
		json "jp$sym $pool" 1 -j2 $pool --so "$T/jp.so$sym" ::: x fail 'y z'
		jcheck "jp$sym $pool: stdout, stderr and status per item" "$T/out" '
		[r["item"] for r in recs] == ["x", "fail", "y z"] and
		[r["exit"] for r in recs] == [0, 3, 0] and
		[r["stdout"] for r in recs] == ["x", "partial", "y z"] and
		[r["stderr"] for r in recs] == ["to stderr\n",
		    "ccmap: item 2: failed on purpose\n", "to stderr\n"]'
	done
done

json "jp --procs crash" 1 --procs --so "$T/jp.so" ::: a crash b
jcheck "jp --procs crash: the lost item has exit null, signal 11" "$T/out" '
[r["item"] for r in recs] == ["a", "crash", "b"] and
[r["exit"] for r in recs] == [0, None, 0] and
[r["signal"] for r in recs] == [0, 11, 0] and recs[1]["stdout"] == ""'
stderr_has "^ccmap: item 2: killed by SIGSEGV$" "jp --procs crash: reported on stderr"

json "jp --procs --results" 1 --procs --results "$T/pres" --so "$T/jp.so" ::: a fail
is "$(cat "$T/pres/1/fail/stdout")|$(cat "$T/pres/1/fail/stderr")|$(cat "$T/pres/1/fail/seq")" \
	"partial|ccmap: item 2: failed on purpose|2" "jp --procs --results: an item's files"

done_testing
