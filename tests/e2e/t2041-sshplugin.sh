#!/bin/bash
# t2041: a plugin (--so) over -S runs in each host's ccmap --worker, in
# worker processes there: its output is byte for byte the local --so's; a
# plugin that crashes on an item fails that item only, as locally with
# --procs; a plugin named without a path is found in the host's plugin
# path; a worker killed mid-run loses no item and writes none twice; TERM
# to ccmap leaves nothing on the hosts.
#
# No check depends on timing: items that must be mapping wait at a gate
# file, and the test waits for them with a generous bound.

# shellcheck disable=SC2317 # functions run through check and wait_for
. "$(dirname "$0")/setup.sh"
top=${top_srcdir:-$SRC/../..}
command -v cc >/dev/null 2>&1 || skip_all "no C compiler (cc)"
. "$SRC/sshbed.sh"

sshbed_start 2
export CCMAP_SSH="ssh -F $SSHBED_CONFIG"

bin=${CCMAP##* }
W=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
G=$T/gates
mkdir -m 777 "$G"
chmod 755 "$T"
# The worker gets the sanitizers' options of this run (an ssh session
# does not): a plugin's crash is its signal, not ASan's report.
cat >"$T/ccmap-w" <<EOF
#!/bin/sh
ASAN_OPTIONS='$ASAN_OPTIONS' TSAN_OPTIONS='$TSAN_OPTIONS' exec $W "\$@"
EOF
chmod 755 "$T/ccmap-w"
W=$T/ccmap-w

# A test plugin: "crash" dereferences NULL; "hold" says it is mapping (a
# file in the gate directory, its first argument) and waits there for
# "go"; anything else is printed with WHERE (set when built) and the
# item.
cat >"$T/t.c" <<'EOF'
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <ccmap/plugin.h>

static char gates[4096];

static int
t_init(const struct ccmap_host *host, int argc, char *const argv[],
    void **state, char *err, size_t errlen)
{
	(void)host;
	(void)state;
	(void)err;
	(void)errlen;
	snprintf(gates, sizeof gates, "%s", argc > 0 ? argv[0] : "/nonexistent");
	return 0;
}

static int
is(const char *item, size_t len, const char *s)
{
	return len == strlen(s) && memcmp(item, s, len) == 0;
}

static int
t_map(const struct ccmap_host *host, struct ccmap_call *call, void *wstate,
    const char *item, size_t len)
{
	char path[4200];
	FILE *f;

	(void)wstate;
	if (is(item, len, "crash")) {
		volatile int *p = NULL;
		*p = 1;
		raise(SIGSEGV);
	}
	if (len > 4 && !memcmp(item, "hold", 4)) {
		snprintf(path, sizeof path, "%s/at.%.*s", gates, (int)len, item);
		if ((f = fopen(path, "w")) != NULL)
			fclose(f);
		snprintf(path, sizeof path, "%s/ran.%.*s", gates, (int)len,
		    item);
		if ((f = fopen(path, "a")) != NULL) {
			fputs("x\n", f);
			fclose(f);
		}
		snprintf(path, sizeof path, "%s/go", gates);
		while (access(path, F_OK) != 0)
			usleep(50000);
	}
	return host->printf(call, 1, WHERE " %.*s\n", (int)len, item) != 0;
}

const struct ccmap_plugin ccmap_plugin = {
	.abi = CCMAP_PLUGIN_ABI,
	.flags = CCMAP_PLUGIN_THREADSAFE,
	.name = "t",
	.init = t_init,
	.map = t_map,
};
EOF
mkdir -m 755 "$T/here" "$T/there"
for where in here there; do
	if ! cc -shared -fPIC -I"$top/src" -DWHERE="\"$where\"" "$T/t.c" \
		-o "$T/$where/t.so" 2>"$T/cc.err"; then
		diag <"$T/cc.err"
		skip_all "cannot build a test plugin"
	fi
done
PL=$T/here/t.so
LEN=$(cd "$(dirname "$bin")" && pwd)/src/plugins/.libs/len.so
[ -f "$LEN" ] || LEN=$top/src/plugins/.libs/len.so

# --- as locally -----------------------------------------------------------
seq 50000 | sed 's/^/item /' >"$T/lines"
"$CCMAP" --so "$LEN" <"$T/lines" >"$T/local" 2>&1
run_case "len over -S, two hosts: as --so here, byte for byte" 0 \
	"$(cat "$T/local")
" --stdin "$(cat "$T/lines")
" -- "$CCMAP" -S 2/node1,2/node2 --remote-ccmap "$W" --so "$LEN"
is "$ERR" "" "len over -S: nothing on stderr"
run_case "--as-completed: the same lines" 0 "*" \
	--stdin "$(cat "$T/lines")
" -- "$CCMAP" --as-completed -S 2/node1,2/node2 --remote-ccmap "$W" \
	--so "$LEN"
check "--as-completed: every item once" cmp -s <(sort "$T/out") \
	<(sort "$T/local")

# --- a crash on an item ---------------------------------------------------
{ seq 1000; echo crash; seq 1001 2000; } >"$T/in1"
timeout 120 "$CCMAP" --procs -j2 --so "$PL" "$G" <"$T/in1" >"$T/lout" \
	2>"$T/lerr" || true
run_case "a crash on an item: the status as with --procs here" 1 \
	"$(cat "$T/lout")
" --stdin "$(cat "$T/in1")
" -- "$CCMAP" -S 2/node1 --remote-ccmap "$W" --so "$PL" "$G"
is "$(cat "$T/err")" "ccmap: item 1001: killed by SIGSEGV" \
	"a crash on an item: one line naming it and the signal"
is "$(wc -l <"$T/out")" 2000 "a crash on an item: the 2000 others, once each"

# --- found by name in the host's plugin path ------------------------------
sshbed_stop_node 2
echo "SetEnv CCMAP_PLUGIN_PATH=$T/there" >>"$SSHBED_DIR/sshd2.conf"
check "node2 up again, with a plugin path" sshbed_start_node 2
run_case "--so t: the host's own plugin path" 0 "there a
there b
" -- env CCMAP_PLUGIN_PATH="$T/here" "$CCMAP" -S node2 --remote-ccmap "$W" \
	--so t "$G" ::: a b

# --- sent with --basefile ------------------------------------------------
# The plugin is a file here only (./t.so in this directory): the host has
# none in its home until --bf copies it there, before the worker that
# loads it starts; --cleanup removes it at the end.
mkdir -m 755 "$T/sent"
cp "$T/there/t.so" "$T/sent/t.so"
rm -f "$SSHBED_DIR/home/t.so"
run_case "--so ./t.so, not sent: the host cannot load it" 2 "" \
	-- env -C "$T/sent" "$CCMAP" -S node1 --remote-ccmap "$W" \
	--so ./t.so "$G" ::: a b
stderr_has "node1: .*t\.so" "--so ./t.so, not sent: the message names the host and plugin"
is "$(grep -c 'no host left' "$T/err")" 1 \
	"--so ./t.so, not sent: the items fail, said once"
stderr_has "^ccmap: item [12]: no host left to map it, nor the items not mapped yet: they fail" \
	"--so ./t.so, not sent: the message"
run_case "--bf t.so: the host loads the copy" 0 "there a
there b
" -- env -C "$T/sent" "$CCMAP" -k -S node1 --remote-ccmap "$W" \
	--bf t.so --cleanup --so ./t.so "$G" ::: a b
check "--bf t.so --cleanup: removed from the host at the end" \
	test ! -e "$SSHBED_DIR/home/t.so"

# --- a worker killed mid-run: nothing lost, nothing twice -----------------
# Two items hold on each host (-j1 batches of one: --chunksize 1);
# node1's worker is killed; its item maps again elsewhere.
printf '%s\n' hold1 hold2 hold3 hold4 5 6 >"$T/in2"
"$CCMAP" -k --chunksize 1 -S 2/node1,2/node2 --remote-ccmap "$W" \
	--so "$PL" "$G" <"$T/in2" >"$T/out" 2>"$T/err" &
pid=$!
four_at() { [ "$(find "$G" -name 'at.*' | wc -l)" -ge 4 ]; }
check "worker killed: 4 items mapping" wait_for 60 four_at
wpid=$(sshbed_ps | awk '$2 == "node1" && / --worker/ { print $1 }' |
	worker_pids | head -1)
check "worker killed: node1's worker found" test -n "$wpid"
# (Its plugin's worker processes: the same command line, on node1.)
old=$(sshbed_ps | awk '$2 == "node1" && / --worker/ { print $1 }')
kill -KILL "$wpid"
all_gone() { local p; for p in $old; do gone "$p" || return 1; done; }
check "worker killed: its plugin's processes die with it" \
	wait_for 60 all_gone
touch "$G/go"
ends "worker killed" "$pid"
is "$s" 0 "worker killed: status 0"
is "$(cat "$T/out")" "here hold1
here hold2
here hold3
here hold4
here 5
here 6" "worker killed: every item's output once, in order"
twice=$(cat "$G"/ran.* | wc -l)
is "$twice" 6 "worker killed: two items mapped again (4 + 2 starts)"
rm -f "$G"/*

# --- --tag, --tagstring: the items' tags, made where they are mapped -----
for tag in --tag "--tagstring {#}:{}:"; do
	# shellcheck disable=SC2086 # the option and its value: two words
	"$CCMAP" $tag --so "$LEN" ::: a bb 'c c c' >"$T/local" 2>&1
	# shellcheck disable=SC2086
	run_case "$tag over -S: as here" 0 "$(cat "$T/local")
" -- "$CCMAP" $tag -S 2/node1 --remote-ccmap "$W" --so "$LEN" ::: a bb 'c c c'
done
is "$(cat "$T/local")" "1:a:	1
2:bb:	2
3:c c c:	5" "--tagstring {#}:{}: here: the tags (the item's number and value)"

# --- TERM to ccmap: nothing left on the hosts -----------------------------
printf '%s\n' hold1 hold2 hold3 hold4 >"$T/in3"
"$CCMAP" --chunksize 1 -S 2/node1,2/node2 --remote-ccmap "$W" \
	--so "$PL" "$G" <"$T/in3" >/dev/null 2>"$T/err" &
pid=$!
check "TERM: 4 items mapping" wait_for 60 four_at
kill -TERM "$pid"
ends "TERM" "$pid"
is "$s" 143 "TERM: exit 143"
sshbed_check_none_left TERM 1 2
rm -f "$G"/*

# --- refused --------------------------------------------------------------
run_case "-S : with --so: refused" 255 "" \
	-- "$CCMAP" -S :,node1 --so "$LEN" ::: a
stderr_has "^ccmap: -S :: a plugin \(--so\) runs in the hosts' ccmap --worker" \
	"-S : with --so: says why"
run_case "--so -S, --remote-worker never: refused" 255 "" \
	-- "$CCMAP" -S node1 --remote-worker never --so "$LEN" ::: a
stderr_has "^ccmap: -S with a plugin \(--so\): not with --remote-worker never" \
	"--so -S, never: says why"
run_case "--so -S --wd: refused" 255 "" \
	-- "$CCMAP" -S node1 --wd x --so "$LEN" ::: a
stderr_has "^ccmap: -S with a plugin \(--so\): not with --workdir" \
	"--so -S --wd: says why"
run_case "--so -S on a host without ccmap: no host" 255 "" \
	-- "$CCMAP" -S node1 --so "$LEN" ::: a
stderr_has "^ccmap: -S node1: no ccmap --worker there" \
	"--so -S without ccmap there: says so"

done_testing
