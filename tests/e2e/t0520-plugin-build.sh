#!/bin/bash
# t0520: the example plugin of man/ccmap-plugin.3 builds against
# <ccmap/plugin.h> (from the source tree, and through pkg-config ccmap when
# an installed ccmap.pc is found, as under make installcheck) and prints
# what the page says; variants of it show that a plugin without
# CCMAP_PLUGIN_THREADSAFE is refused by --threads -j2 but runs with --procs,
# and that a plugin built for another ABI major version is refused.
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
	' "$page" | sed -e 's/\\-/-/g' -e 's/\\&//g' -e 's/\\e/\\/g'
}

cd "$T"
block "BEGIN EXAMPLE PLUGIN" >example.c
block "BEGIN EXAMPLE OUTPUT" >example.want
check "the page holds an example plugin" grep -q 'ccmap_plugin' example.c
check "the page holds the example's output" test -s example.want
want=$(cat example.want; echo x)
want=${want%x}

# build OUT SRC CFLAGS...: compile a plugin, warnings are errors.
build() {
	local out=$1 src=$2
	shift 2
	"$CC" -shared -fPIC -Wall -Wextra -Werror "$@" "$src" -o "$out" 2>"$T/cc.err"
}

if build example.so example.c -I"$top/src"; then
	pass "the example builds with -I\$top_srcdir/src"
else
	fail "the example builds with -I\$top_srcdir/src"
	diag <"$T/cc.err"
fi
run_case "the example prints what the page says" 0 "$want" \
	-- $CCMAP --so ./example.so ::: a bb
run_case "the example with -j2 --threads" 0 "$want" \
	-- $CCMAP -j2 --threads --so ./example.so ::: a bb

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
stderr_has '.' "--threads -j2: the refusal says why"
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

done_testing
