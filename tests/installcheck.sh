#!/bin/sh
# tests/installcheck.sh: what `make installcheck` checks in an installed
# ccmap.  The Makefile passes the installation directories (with DESTDIR
# already in front) in the environment:
#   bindir man1dir man3dir bashcompdir zshcompdir fishcompdir
#   ccmapincludedir pkgconfigdir plugindir docdir VERSION PLUGINS DESTDIR
# Prints one line per check and exits 1 if any failed.
set -u
failed=0

pass() { echo "installcheck: ok: $*"; }
fail() { echo "installcheck: FAILED: $*" >&2; failed=1; }

# Every installed file is there.
for f in "$bindir/ccmap" "$man1dir/ccmap.1" "$man3dir/ccmap-plugin.3" \
	"$bashcompdir/ccmap" "$zshcompdir/_ccmap" "$fishcompdir/ccmap.fish" \
	"$ccmapincludedir/plugin.h" "$pkgconfigdir/ccmap.pc" "$docdir/LICENSE"; do
	if [ -f "$f" ]; then pass "$f"; else fail "$f is not installed"; fi
done
for p in $PLUGINS; do
	f=$plugindir/$p.so
	if [ -f "$f" ]; then pass "$f"; else fail "$f is not installed"; fi
done

# The installed binary runs.
v=$("$bindir/ccmap" --version 2>&1 | head -n 1)
if [ "$v" = "ccmap $VERSION" ]; then
	pass "ccmap --version: $v"
else
	fail "ccmap --version printed '$v', not 'ccmap $VERSION'"
fi

# The installed manual pages are clean.  Two messages depend on the
# machine's manuals, not on the pages (as in tests/e2e/t0800-docs.sh).
if command -v mandoc >/dev/null 2>&1; then
	for m in "$man1dir/ccmap.1" "$man3dir/ccmap-plugin.3"; do
		out=$(mandoc -Tlint -Wall "$m" 2>&1 | grep -v \
			-e 'outdated mandoc.db' -e 'referenced manual not found')
		if [ -z "$out" ]; then
			pass "mandoc -Tlint $m"
		else
			fail "mandoc -Tlint $m: $out"
		fi
	done
else
	fail "mandoc is not installed: cannot check the manual pages"
fi

# A plugin runs from the installed plugin directory, found by name: the
# directory compiled in, or under DESTDIR the same one through
# CCMAP_PLUGIN_PATH.
if [ -n "${DESTDIR:-}" ]; then
	out=$(CCMAP_PLUGIN_PATH=$plugindir "$bindir/ccmap" --so len ::: abc hello 2>&1)
else
	out=$(env -u CCMAP_PLUGIN_PATH "$bindir/ccmap" --so len ::: abc hello 2>&1)
fi
if [ "$out" = "3
5" ]; then
	pass "ccmap --so len runs the installed plugin"
else
	fail "ccmap --so len printed '$out'"
fi

# The pkg-config file describes this version.
if command -v pkg-config >/dev/null 2>&1; then
	v=$(PKG_CONFIG_PATH=$pkgconfigdir pkg-config --modversion ccmap 2>&1)
	if [ "$v" = "$VERSION" ]; then
		pass "pkg-config --modversion ccmap: $v"
	else
		fail "pkg-config --modversion ccmap printed '$v'"
	fi
fi

# The bash completion loads and registers itself.
if bash --norc --noprofile -c '. "$1" && complete -p ccmap' x \
	"$bashcompdir/ccmap" >/dev/null 2>&1; then
	pass "the installed bash completion loads"
else
	fail "the installed bash completion does not load"
fi

exit $failed
