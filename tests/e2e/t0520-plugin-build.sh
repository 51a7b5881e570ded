#!/bin/bash
# t0520: the example plugin of man/ccmap-plugin.3, as the page renders it,
# builds against <ccmap/plugin.h> (from the source tree, as C++ too, and
# through pkg-config ccmap when an installed ccmap.pc is found, as under
# make installcheck) and the page's command prints what the page says; the
# page's other example commands do what it says; the page shows struct
# ccmap_item as the header has it; variants of the plugin show that one
# without CCMAP_PLUGIN_THREADSAFE is refused by --threads -j2 but runs with
# --procs, that one built for another ABI major version is refused, and
# that the messages naming the plugin are those of the page's MESSAGES.
. "$(dirname "$0")/setup.sh"

top=${top_srcdir:-$SRC/../..}
page=$top/man/ccmap-plugin.3
CC=${CC:-cc}
if ! command -v "$CC" >/dev/null 2>&1; then
	skip_all "no C compiler ($CC)"
fi

# block MARKER: the .Bd -literal block that follows the line
# '.\" MARKER' in the page, up to .Ed, with \- \& \e undone.
block() {
	awk -v m=".\\\\\" $1" '
		$0 == m { found = 1; next }
		found && !inb && /^\.Bd / { inb = 1; next }
		inb && /^\.Ed/ { exit }
		inb { print }
	' "$page" | sed -e 's/\\-/-/g' -e 's/\\&//g' -e "s/\\\\(aq/'/g" \
		-e 's/\\(ga/`/g' -e 's/\\e/\\/g'
}

cd "$T"
block "BEGIN EXAMPLE PLUGIN" >example.c
block "BEGIN EXAMPLE OUTPUT" >example.want
block "BEGIN EXAMPLE COMMANDS" >example.cmds
check "the page holds an example plugin" grep -q 'ccmap_plugin' example.c
check "the page holds the example's output" test -s example.want
check "the page holds example commands" test -s example.cmds
want=$(cat example.want; echo x)
want=${want%x}
# The command that runs the plugin: the .Dl line of EXAMPLES.
runcmd=$(awk '/^\.Sh EXAMPLES/ { e = 1 } e && /^\.Dl \$ / { sub(/^\.Dl \$ /, ""); print; exit }' \
	"$page" | sed -e 's/\\-/-/g' -e 's/\\&//g')
check "the page runs the example with a .Dl line" test -n "$runcmd"

# What a reader sees: the page through mandoc, each block and the command
# line at the display's indent, tabs expanded, as written.
if command -v mandoc >/dev/null 2>&1; then
	mandoc -Tutf8 "$page" | LC_ALL=C.UTF-8 col -bx | sed 's/ *$//' >page.txt
	# shows NAME FILE: page.txt holds FILE's lines, in a row, indented.
	shows() {
		local ind='           ' got lines
		lines=$(expand <"$2" | sed -e 's/ *$//' -e "/./s/^/$ind/"; echo x)
		got=$(cat page.txt; echo x)
		if [[ $got == *"${lines%x}"* ]]; then
			pass "$1"
		else
			fail "$1"
			diag "the page does not show, at an indent of ${#ind}:"
			diag <"$2"
		fi
	}
	shows "the page renders the plugin as written" example.c
	shows "the page renders its output as written" example.want
	shows "the page renders the commands as written" example.cmds
	printf '$ %s\n' "$runcmd" >example.run
	shows "the page renders the command that runs it as written" example.run
else
	for n in plugin output commands "command that runs it"; do
		skip "the page renders the $n as written" "mandoc is not installed"
	done
fi

# "ccmap" in the page's commands is the binary under test.
mkdir "$T/bin"
printf '#!%s\nexec %s "$@"\n' "$BASH" "$CCMAP" >"$T/bin/ccmap"
chmod +x "$T/bin/ccmap"
export CCMAP_PLUGIN_PATH=${CCMAP_PLUGIN_DIR:-$SRC/../../src/plugins/.libs}

# build OUT SRC CFLAGS...: compile a plugin, warnings are errors.
build() {
	local out=$1 src=$2
	shift 2
	"$CC" -shared -fPIC -Wall -Wextra -Werror "$@" "$src" -o "$out" 2>"$T/cc.err"
}

# The page says "Built as count.so and run with" its command.
so=$(printf '%s\n' "$runcmd" | grep -oE '\./[A-Za-z0-9_-]+\.so' | head -n 1)
check "the page's command loads a plugin by its path ($so)" test -n "$so"
if build "${so:-./x.so}" example.c -I"$top/src"; then
	pass "the example builds with -I\$top_srcdir/src"
else
	fail "the example builds with -I\$top_srcdir/src"
	diag <"$T/cc.err"
fi
cp "${so:-./x.so}" example.so 2>/dev/null || :
run_case "the page's command prints what the page says: $runcmd" 0 "$want" \
	-- env PATH="$T/bin:$PATH" bash -c "$runcmd"
run_case "the example with -j2 --threads" 0 "$want" \
	-- $CCMAP -j2 --threads --so ./example.so ::: a bb

# The same plugin compiled as C++: <ccmap/plugin.h> gives its declarations
# C linkage, so ccmap_plugin is exported under its name (a const object of
# C++ would otherwise stay inside the plugin).
CXX=${CXX:-g++}
if command -v "$CXX" >/dev/null 2>&1; then
	if "$CXX" -x c++ -shared -fPIC -Wall -Werror -I"$top/src" example.c \
	    -o example-cxx.so 2>"$T/cxx.err"; then
		pass "the example builds as C++ ($CXX)"
	else
		fail "the example builds as C++ ($CXX)"
		diag <"$T/cxx.err"
	fi
	run_case "the C++ build exports ccmap_plugin and runs" 0 "$want" \
		-- $CCMAP --so ./example-cxx.so ::: a bb
else
	skip "the example builds as C++" "no C++ compiler ($CXX)"
	skip "the C++ build exports ccmap_plugin and runs" "no C++ compiler ($CXX)"
fi

# The page's struct ccmap_item has the header's fields, in its order.
fields() { # FILE: the fields of struct ccmap_item in FILE, one a line
	sed -e 's/\\-/-/g' "$1" | awk '
		/^struct ccmap_item \{/ { s = 1; next }
		s && /^\};/ { exit }
		s { sub(/\/\*.*/, ""); gsub(/[ \t]+/, " "); sub(/^ /, ""); sub(/ $/, ""); print }'
}
fields "$top/src/ccmap/plugin.h" >fields.h
fields "$page" >fields.page
check "the header defines struct ccmap_item" test -s fields.h
if cmp -s fields.h fields.page; then
	pass "the page shows struct ccmap_item as the header defines it"
else
	fail "the page shows struct ccmap_item as the header defines it"
	diff fields.h fields.page | diag
fi

# The page's example commands, in a directory with two logs and two C files.
mkdir cmds
(
	cd cmds
	seq 1000 >a.log
	seq 2000 >b.log
	printf 'p = malloc(1);\nq = malloc(2);\n' >x.c
	printf 'free(p);\n' >y.c
	env PATH="$T/bin:$PATH" bash -ec "$(cat ../example.cmds)"
) >cmds.out 2>cmds.err && r=0 || r=$?
ok $r "the page's example commands run"
diag <cmds.err
ok=0
for f in a b; do
	gzip -dc "cmds/$f.log.gz" 2>/dev/null | cmp -s - "cmds/$f.log" || ok=1
done
ok $ok "the gzip example compresses each .log to .log.gz and keeps it"
want_grep=$(cd cmds && find . -name '*.c' | xargs grep -c 'malloc(')
is "$(cat cmds.out)" "$want_grep" "the grep example counts as grep -c does"

# Against an installed tree: pkg-config finds ccmap.pc (make installcheck,
# or PKG_CONFIG_PATH pointing at one); failing that, the build tree is
# installed into a directory of ours (make install DESTDIR=...) and used.
if command -v pkg-config >/dev/null 2>&1 && ! pkg-config --exists ccmap 2>/dev/null &&
    [ -n "${top_builddir:-}" ] && [ -f "$top_builddir/Makefile" ]; then
	if make -s -C "$top_builddir" install DESTDIR="$T/inst" >"$T/install.log" 2>&1; then
		pc=$(find "$T/inst" -name ccmap.pc | head -n 1)
		check "make install DESTDIR puts ccmap.pc in place" test -n "$pc"
		check "make install DESTDIR puts <ccmap/plugin.h> in place" \
			test -n "$(find "$T/inst" -path '*/include/ccmap/plugin.h')"
		check "make install DESTDIR puts the len plugin in place" \
			test -n "$(find "$T/inst" -path '*/ccmap/plugins/len.so')"
		PKG_CONFIG_PATH=$(dirname "$pc")
		PKG_CONFIG_SYSROOT_DIR=$T/inst
		export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
	else
		fail "make install DESTDIR=\$T/inst"
		diag <"$T/install.log"
	fi
fi
if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists ccmap 2>/dev/null; then
	cflags=$(pkg-config --cflags ccmap)
	if build example-pc.so example.c $cflags; then
		pass "the example builds with pkg-config --cflags ccmap ($cflags)"
	else
		fail "the example builds with pkg-config --cflags ccmap ($cflags)"
		diag <"$T/cc.err"
	fi
	run_case "the pkg-config build runs" 0 "$want" \
		-- $CCMAP --so ./example-pc.so ::: a bb
	check "pkg-config ccmap names a plugindir" test -n "$(pkg-config --variable=plugindir ccmap)"
else
	skip "the example builds with pkg-config --cflags ccmap" "no installed ccmap.pc"
fi

# Not thread-safe: flags 0.
sed 's/\.flags = CCMAP_PLUGIN_THREADSAFE/.flags = 0/' example.c >unsafe.c
check "variant: flags 0" grep -q '\.flags = 0' unsafe.c
build unsafe.so unsafe.c -I"$top/src" || diag <"$T/cc.err"
run_case "--threads -j2 refuses a plugin that is not thread-safe" 255 '' \
	-- $CCMAP -j2 --threads --so ./unsafe.so ::: a bb
stderr_is "ccmap: --so: count is not thread-safe: use --procs, or -j1
" "--threads -j2: the refusal says why, naming the plugin as MESSAGES says"
run_case "--procs -j2 runs a plugin that is not thread-safe" 0 "$want" \
	-- $CCMAP -j2 --procs --so ./unsafe.so ::: a bb

# Another ABI major version.
sed 's/\.abi = CCMAP_PLUGIN_ABI/.abi = CCMAP_PLUGIN_MKVERSION(CCMAP_PLUGIN_ABI_MAJOR + 1, 0)/' \
	example.c >future.c
check "variant: a future ABI" grep -q 'ABI_MAJOR + 1' future.c
build future.so future.c -I"$top/src" || diag <"$T/cc.err"
run_case "a plugin built for another ABI major version is refused" 255 '' \
	-- $CCMAP --so ./future.so ::: a bb
stderr_has '.' "ABI mismatch: the refusal says why"

# The messages that name the plugin (the page's MESSAGES): init and
# worker_init failing, and a plugin with no name, named by its path.
cat >msgs.c <<'EOF'
#include "example.c"
#include <stdio.h>

static int
msg_init(const struct ccmap_host *host, int argc, char *const argv[],
    void **state, char *err, size_t errlen)
{
	(void)host;
	(void)state;
	if (argc > 0 && argv[0][0] != '-')
		snprintf(err, errlen, "no mode '%s'", argv[0]);
	return argc > 0;
}

static int
msg_worker_init(const struct ccmap_host *host, void *state, void **wstate,
    char *err, size_t errlen)
{
	(void)host;
	(void)state;
	(void)wstate;
	snprintf(err, errlen, "no room");
	return 1;
}

const struct ccmap_plugin init_plugin = {
	.abi = CCMAP_PLUGIN_ABI, .flags = CCMAP_PLUGIN_THREADSAFE,
	.name = "count", .init = msg_init, .map = count_map,
};
const struct ccmap_plugin winit_plugin = {
	.abi = CCMAP_PLUGIN_ABI, .flags = CCMAP_PLUGIN_THREADSAFE,
	.name = "count", .worker_init = msg_worker_init, .map = count_map,
};
const struct ccmap_plugin noname_plugin = {
	.abi = CCMAP_PLUGIN_ABI, .map = count_map,
};
EOF
build msgs.so msgs.c -I"$top/src" -I. || diag <"$T/cc.err"
run_case "init fails: exit 255, no item run" 255 '' \
	-- $CCMAP --so ./msgs.so:init_plugin fast ::: a bb
stderr_is "ccmap: --so: count: no mode 'fast'
" "... the message names the plugin, then says what init wrote"
run_case "init fails with no message" 255 '' \
	-- $CCMAP --so ./msgs.so:init_plugin - ::: a bb
stderr_is "ccmap: --so: count: its init failed
" "... the message names the plugin and says init failed"
run_case "worker_init fails: each item of that worker fails" 2 '' \
	-- $CCMAP -j1 --so ./msgs.so:winit_plugin ::: a bb
stderr_is "ccmap: item 1: count: worker init failed: no room
ccmap: item 2: count: worker init failed: no room
" "... each message names the item and the plugin"
run_case "a plugin without a name" 255 '' \
	-- $CCMAP -j2 --threads --so ./msgs.so:noname_plugin ::: a bb
stderr_is "ccmap: --so: ./msgs.so is not thread-safe: use --procs, or -j1
" "... is named by its path"

done_testing
