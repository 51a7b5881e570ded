#!/bin/bash
# t0900: every example in the EXAMPLES section of man/ccmap.1 runs and
# prints exactly the output the page shows.
#
# The convention (also described at the top of man/ccmap.1): an example is
# one or more lines ".Dl $ COMMAND" followed at once by a
# ".Bd -literal ..." block, up to ".Ed", that holds the expected standard
# output.  The commands run, one a line, as one bash -c script in an empty
# directory, with "ccmap" the binary under test, stdin /dev/null; the script
# must exit 0.  In both, the escapes \e \- \(aq \(ga \& are undone; any other
# escape is an error, so that the page and the test cannot disagree.
. "$(dirname "$0")/setup.sh"

page=${top_srcdir:-$SRC/../..}/man/ccmap.1
[ -r "$page" ] || page=$SRC/../../man/ccmap.1

# "ccmap" in the examples is the binary under test ($CCMAP may carry a
# valgrind prefix, so a wrapper rather than a symlink).  The wrapper is a
# bash script: dash would drop exported bash functions from the environment.
mkdir "$T/bin"
cat >"$T/bin/ccmap" <<EOF
#!$BASH
exec $CCMAP "\$@"
EOF
chmod +x "$T/bin/ccmap"

# The plugin examples (--so NAME) find this build tree's plugins: make check
# exports CCMAP_PLUGIN_DIR; the examples see it as CCMAP_PLUGIN_PATH.
CCMAP_PLUGIN_PATH=${CCMAP_PLUGIN_DIR:-$SRC/../../src/plugins/.libs}
export CCMAP_PLUGIN_PATH

# unescape TEXT: the roff escapes the convention allows, or status 1.
unescape() {
	local s=$1
	s=${s//\\e/$'\001'}
	s=${s//\\-/-}
	s=${s//\\(aq/\'}
	s=${s//\\(ga/\`}
	s=${s//\\&/}
	case $s in
	*\\*) return 1 ;;
	esac
	s=${s//$'\001'/\\}
	printf '%s' "$s"
}

n=0
in_examples=
cmds=
in_block=
want=
bad() { # LINENO MESSAGE
	fail "man/ccmap.1:$1: $2"
}
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
	lineno=$((lineno + 1))
	case $line in
	.Sh\ EXAMPLES*) in_examples=1; continue ;;
	.Sh\ *) in_examples= ;;
	esac
	[ -n "$in_examples" ] || continue

	if [ -n "$in_block" ]; then
		if [ "$line" = ".Ed" ]; then
			n=$((n + 1))
			dir=$T/ex$n
			mkdir "$dir"
			first=${cmds%%$'\n'*}
			if [ -n "${VALGRIND:-}" ] && [[ $cmds == *"export -f"* ]]; then
				# Debian's valgrind is a /bin/sh script, and dash
				# drops exported bash functions from the environment.
				skip "example $n: $first" "exported functions under valgrind"
			else
				cd "$dir"
				run_case "example $n: $first" 0 "$want" -- \
					env PATH="$T/bin:$PATH" bash -c "$cmds"
				cd "$T"
			fi
			cmds= in_block= want=
			continue
		fi
		case $line in
		.*) bad "$lineno" "request '$line' inside an example's output"; continue ;;
		esac
		if ! text=$(unescape "$line"); then
			bad "$lineno" "unknown escape in '$line'"
			continue
		fi
		want+=$text$'\n'
		continue
	fi

	case $line in
	'.Dl $ '*)
		if ! text=$(unescape "${line#.Dl \$ }"); then
			bad "$lineno" "unknown escape in '$line'"
			continue
		fi
		cmds+=${cmds:+$'\n'}$text
		;;
	.Dl\ *)
		bad "$lineno" "example line without '\$ ': '$line'"
		;;
	.Bd\ -literal*)
		if [ -n "$cmds" ]; then
			in_block=1
		fi
		;;
	*)
		if [ -n "$cmds" ]; then
			bad "$lineno" "example without its output block: '$cmds'"
			cmds=
		fi
		;;
	esac
done <"$page"

[ -z "$in_block" ] || fail "man/ccmap.1: unterminated example output block"
[ "$n" -ge 10 ] && r=0 || r=1
ok $r "the page has examples ($n found)"

done_testing
