#!/bin/bash
# t0900: every example in the EXAMPLES section of man/ccmap.1, as the page
# renders it, runs and prints exactly the output the page shows.
#
# The convention (also described at the top of man/ccmap.1): an example is
# one or more lines ".Dl $ COMMAND" followed at once by a
# ".Bd -literal ..." block, up to ".Ed", that holds the expected standard
# output.  What is run is the page as a reader sees it: rendered by
# mandoc -Tutf8 (and col -bx), where an example is the run of "$ " lines
# at the indent of a display, then the lines below them at that indent.
# The commands run, one a line, as one bash -c script in an empty
# directory, with "ccmap" the binary under test, stdin /dev/null; the
# script must exit 0.
#
# The source is read too, to check that each example renders as it is
# written: mdoc takes a lone "," or ":" on a macro line for punctuation
# and moves it ("-C ," shows as "-C,"), and a long .Dl line wraps in the
# middle of its command.  In the source the escapes \e \- \(aq \(ga \& are
# undone; any other escape is an error.  The output block is compared
# byte for byte with the source's (the rendering turns tabs into spaces),
# and the rendered one with the output with its tabs expanded.  Where
# man(1) is there, the page as man -l renders it on 80 columns (groff on
# Debian) must show the same examples.
. "$(dirname "$0")/setup.sh"

page=${top_srcdir:-$SRC/../..}/man/ccmap.1
[ -r "$page" ] || page=$SRC/../../man/ccmap.1

command -v mandoc >/dev/null 2>&1 ||
	skip_all "mandoc is not installed (the examples are run as it renders them)"

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

# --- The source: src_cmds[i] and src_want[i].

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

src_cmds=()
src_want=()
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
			src_cmds+=("$cmds")
			src_want+=("$want")
			cmds= in_block= want=
			continue
		fi
		case $line in
		.*) bad "$lineno" "request '$line' inside an example's output"; continue ;;
		'') bad "$lineno" "an empty line in an example's output"; continue ;;
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

# --- The rendering.

# examples NAME: read a rendered page on stdin and set NAME_cmds[i] and
# NAME_out[i] (the lines at the display indent, that indent taken off).
examples() {
	local name=$1 line text indent= sect= c= o=
	local -a cs=() os=()
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%"${line##*[! ]}"}	# trailing blanks
		case $line in
		EXAMPLES) sect=1; continue ;;
		[A-Z]*) sect= ;;
		esac
		[ -n "$sect" ] || continue
		if [ -z "$indent" ] && [[ $line =~ ^(\ +)\$\  ]]; then
			indent=${BASH_REMATCH[1]}
		fi
		if [ -n "$indent" ] && [[ $line == "$indent"[!\ ]* ]]; then
			text=${line#"$indent"}
			case $text in
			'$ '*)
				if [ -n "$o" ]; then
					cs+=("$c") os+=("$o") c= o=
				fi
				c+=${c:+$'\n'}${text#\$ }
				;;
			*)
				[ -n "$c" ] && o+=$text$'\n'
				;;
			esac
		elif [ -n "$c" ]; then
			cs+=("$c") os+=("$o") c= o=
		fi
	done
	[ -z "$c" ] || cs+=("$c") os+=("$o")
	eval "${name}_cmds=(\"\${cs[@]}\")"
	eval "${name}_out=(\"\${os[@]}\")"
}

mandoc -Tutf8 "$page" 2>"$T/mandoc.err" | LC_ALL=C.UTF-8 col -bx >"$T/page.txt"
examples mandoc <"$T/page.txt"

n=${#src_cmds[@]}
is "${#mandoc_cmds[@]}" "$n" "mandoc renders as many examples as the page has"
[ "$n" -ge 10 ] && r=0 || r=1
ok $r "the page has examples ($n found)"

# expand_tabs: stdin with tabs expanded to every 8th column, as the
# rendering shows a display's tabs, and trailing blanks removed.
expand_tabs() {
	expand | sed 's/ *$//'
}

for ((i = 0; i < n; i++)); do
	first=${src_cmds[i]%%$'\n'*}
	cmds=${mandoc_cmds[i]-}
	is "$cmds" "${src_cmds[i]}" "example $((i + 1)) renders as written: $first"
	shown=$(printf '%s' "${src_want[i]}" | expand_tabs; echo x)
	is "${mandoc_out[i]-}" "${shown%x}" "example $((i + 1)): the page shows its output"
	dir=$T/ex$((i + 1))
	mkdir "$dir"
	if [ -n "${VALGRIND:-}" ] && [[ $cmds == *"export -f"* ]]; then
		# Debian's valgrind is a /bin/sh script, and dash drops
		# exported bash functions from the environment.
		skip "example $((i + 1)): $first" "exported functions under valgrind"
		continue
	fi
	cd "$dir"
	run_case "example $((i + 1)) as rendered: $first" 0 "${src_want[i]}" -- \
		env PATH="$T/bin:$PATH" bash -c "$cmds"
	cd "$T"
done

# --- The same page through man(1) (groff on Debian), 80 columns wide.
if command -v man >/dev/null 2>&1; then
	MANWIDTH=80 MANPAGER=cat LC_ALL=C.UTF-8 man -l "$page" 2>"$T/man.err" |
		LC_ALL=C.UTF-8 col -bx >"$T/page-man.txt"
	examples man <"$T/page-man.txt"
	if [ "${#man_cmds[@]}" -eq 0 ]; then
		fail "man -l renders the examples"
		diag <"$T/man.err"
	else
		same=0
		for ((i = 0; i < n; i++)); do
			if [ "${man_cmds[i]-}" != "${mandoc_cmds[i]-}" ] ||
			    [ "${man_out[i]-}" != "${mandoc_out[i]-}" ]; then
				same=1
				diag "example $((i + 1)) through man -l:"
				printf '%s\n%s' "${man_cmds[i]-}" "${man_out[i]-}" | diag
			fi
		done
		[ "${#man_cmds[@]}" -eq "$n" ] || same=1
		ok $same "man -l shows the same $n examples as mandoc"
	fi
else
	skip "man -l shows the same examples as mandoc" "man is not installed"
fi

done_testing
