#!/bin/bash
# t0800: the manual page is clean mdoc and, like the bash, zsh and fish
# completions, covers every option of ccmap --help; the completions load and
# complete options, the command and file names; fish reads its completion
# where make install puts it by default; LICENSE is there and is what
# --version says.
. "$(dirname "$0")/setup.sh"

top=${top_srcdir:-$SRC/../..}
man=$top/man/ccmap.1
bashc=$top/completions/ccmap.bash
zshc=$top/completions/_ccmap
fishc=$top/completions/ccmap.fish

# Shells started here must not touch the user's files.
export HOME=$T/home XDG_CONFIG_HOME=$T/home/.config \
	XDG_DATA_HOME=$T/home/.local/share XDG_CACHE_HOME=$T/home/.cache
mkdir -p "$HOME"

# --- (a) mandoc -Tlint -Wall prints nothing.  Two messages depend on the
# machine's manuals, not on the page, and are left out: a stale mandoc.db,
# and an Xr to a manual that is not installed here (such as xe(1)).
if command -v mandoc >/dev/null 2>&1; then
	mandoc -Tlint -Wall "$man" >"$T/lint" 2>&1 || true
	grep -v -e 'outdated mandoc.db' -e 'referenced manual not found' \
		"$T/lint" >"$T/lint.page" || true
	is "$(cat "$T/lint.page")" "" "mandoc -Tlint -Wall man/ccmap.1 is clean"
	if grep -q 'referenced manual not found' "$T/lint"; then
		diag "not installed here (not counted):"
		grep 'referenced manual not found' "$T/lint" | diag
	fi
else
	skip "mandoc -Tlint -Wall man/ccmap.1 is clean" "mandoc is not installed"
fi

# --- (b) every option of --help is in the page and the completions.
$CCMAP --help >"$T/help"
# The option column: lines that start with blanks and a dash, up to the
# description (after a run of blanks).
grep -E '^ +-' "$T/help" | sed -E 's/^ +//; s/   +.*//' >"$T/optcol"
longs=$(grep -oE -- '--[a-z][a-z0-9-]*' "$T/optcol" | sort -u)
shorts=$(grep -oE -- '(^|[ ,])-[A-Za-z0-9]([ ,]|$)' "$T/optcol" |
	grep -oE -- '-[A-Za-z0-9]' | sort -u)
[ "$(echo "$longs" | wc -w)" -ge 15 ] && r=0 || r=1
ok $r "--help lists the long options ($(echo $longs))"
[ "$(echo "$shorts" | wc -w)" -ge 8 ] && r=0 || r=1
ok $r "--help lists the short options ($(echo $shorts))"

# missing FILE FORMAT NAME...: the NAMEs for which FILE has no line that
# matches the ERE printf FORMAT NAME.
missing() {
	local file=$1 fmt=$2 o
	shift 2
	for o in "$@"; do
		# shellcheck disable=SC2059
		grep -qE -- "$(printf -- "$fmt" "$o")" "$file" || printf '%s ' "$o"
	done
}
lnames=$(for o in $longs; do echo "${o#--}"; done)
snames=$(for o in $shorts; do echo "${o#-}"; done)
end='([^A-Za-z0-9-]|$)'

m=$(missing "$man" "Fl -%s$end" $lnames)
is "$m" "" "man page documents every long option (as Fl -NAME)"
m=$(missing "$man" "Fl %s$end" $snames)
is "$m" "" "man page documents every short option (as Fl X)"

m=$(missing "$bashc" "(^|[^A-Za-z0-9-])--%s$end" $lnames)
is "$m" "" "bash completion knows every long option"
m=$(missing "$bashc" "(^|[^A-Za-z0-9-])-%s$end" $snames)
is "$m" "" "bash completion knows every short option"

m=$(missing "$zshc" "(^|[^A-Za-z0-9-])--%s$end" $lnames)
is "$m" "" "zsh completion knows every long option"
m=$(missing "$zshc" "(^|[^A-Za-z0-9-])-%s$end" $snames)
is "$m" "" "zsh completion knows every short option"

m=$(missing "$fishc" "-l %s$end" $lnames)
is "$m" "" "fish completion knows every long option (-l NAME)"
m=$(missing "$fishc" "-s %s$end" $snames)
is "$m" "" "fish completion knows every short option (-s X)"

# --- (c) bash: the completion function completes.
bc=/usr/share/bash-completion/bash_completion
mkdir "$T/files"
: >"$T/files/items.txt"
if [ -r "$bc" ]; then
	# bcomp LINE: the COMPREPLY for LINE (words split at blanks), one a
	# line, run in $T/files.
	bcomp() {
		(cd "$T/files" && bash --norc --noprofile -c '
			. "$1" || exit 1
			. "$2" || exit 1
			COMP_LINE=$3
			COMP_POINT=${#3}
			read -ra COMP_WORDS <<<"$3"
			[[ $3 == *" " ]] && COMP_WORDS+=("")
			COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
			COMPREPLY=()
			_ccmap ccmap "${COMP_WORDS[COMP_CWORD]}" \
				"${COMP_WORDS[COMP_CWORD - 1]}" 2>/dev/null
			printf "%s\n" "${COMPREPLY[@]}"
		' bcomp "$bc" "$bashc" "$1") || :
	}
	check "bash: complete -F _ccmap ccmap is set" bash --norc --noprofile -c \
		'. "$1"; . "$2"; complete -p ccmap | grep -q -- "-F _ccmap"' x "$bc" "$bashc"
	out=$(bcomp 'ccmap --ta')
	echo "$out" | grep -qx -- --tag && echo "$out" | grep -qx -- --tagstring &&
		r=0 || { r=1; diag "got: $out"; }
	ok $r "bash: 'ccmap --ta' offers --tag and --tagstring"
	out=$(bcomp 'ccmap -j2 ech')
	echo "$out" | grep -qx echo && r=0 || { r=1; diag "got: $out"; }
	ok $r "bash: 'ccmap -j2 ech' offers the command echo"
	out=$(bcomp 'ccmap -j 2 ech')
	echo "$out" | grep -qx echo && r=0 || { r=1; diag "got: $out"; }
	ok $r "bash: 'ccmap -j 2 ech' offers the command echo"
	out=$(bcomp 'ccmap --arg-file ')
	echo "$out" | grep -qx items.txt && r=0 || { r=1; diag "got: $out"; }
	ok $r "bash: 'ccmap --arg-file ' offers files"
	out=$(bcomp 'ccmap -j ')
	echo "$out" | grep -qx 100% && ! echo "$out" | grep -qx echo &&
		r=0 || { r=1; diag "got: $out"; }
	ok $r "bash: 'ccmap -j ' offers job counts, not commands"
	out=$(bcomp 'ccmap echo :::: ')
	echo "$out" | grep -qx items.txt && r=0 || { r=1; diag "got: $out"; }
	ok $r "bash: 'ccmap echo :::: ' offers files"
	out=$(bcomp 'ccmap -k ls --ver')
	echo "$out" | grep -qx -- --version && r=0 || { r=1; diag "got: $out"; }
	ok $r "bash: the command's arguments use its own completion"
else
	for n in "complete -p" "--ta" "-j2 ech" "-j 2 ech" "--arg-file" "-j" \
		"::::" "delegation"; do
		skip "bash completion: $n" "bash-completion is not installed"
	done
fi

# --- (d) zsh: _ccmap parses and compinit picks it up for ccmap.
if command -v zsh >/dev/null 2>&1; then
	check "zsh -n completions/_ccmap" zsh -n "$zshc"
	mkdir "$T/zfunc"
	cp "$zshc" "$T/zfunc/_ccmap"
	out=$(zsh -f -c 'fpath=("$1" $fpath); autoload -Uz compinit
		compinit -u -D && autoload +X _ccmap &&
		print -r -- "$_comps[ccmap]"' zsh "$T/zfunc" 2>&1)
	is "$out" "_ccmap" "zsh: compinit loads _ccmap for ccmap"
else
	skip "zsh -n completions/_ccmap" "zsh is not installed"
	skip "zsh: compinit loads _ccmap for ccmap" "zsh is not installed"
fi

# --- (e) fish: the file parses and completes.
if command -v fish >/dev/null 2>&1; then
	check "fish --no-execute completions/ccmap.fish" fish --no-execute "$fishc"
	fcomp() { # LINE: fish's completions for LINE, one a line, in $T/files
		(cd "$T/files" && fish -c 'source $argv[1]; complete -C$argv[2]' \
			"$fishc" "$1" | cut -f1)
	}
	out=$(fcomp 'ccmap --ta')
	echo "$out" | grep -qx -- --tag && echo "$out" | grep -qx -- --tagstring &&
		r=0 || { r=1; diag "got: $out"; }
	ok $r "fish: 'ccmap --ta' offers --tag and --tagstring"
	out=$(fcomp 'ccmap -j2 ech')
	echo "$out" | grep -qx echo && r=0 || { r=1; diag "got: $out"; }
	ok $r "fish: 'ccmap -j2 ech' offers the command echo"
	out=$(fcomp 'ccmap --arg-file ')
	echo "$out" | grep -qx items.txt && r=0 || { r=1; diag "got: $out"; }
	ok $r "fish: 'ccmap --arg-file ' offers files"
else
	for n in "--no-execute" "--ta" "-j2 ech" "--arg-file"; do
		skip "fish completion: $n" "fish is not installed"
	done
fi

# --- (f) fish reads the completion where make install puts it by default
# (fishcompdir, from make check): a directory of fish's own
# $fish_complete_path, with XDG_DATA_DIRS unset as after a console login.
name="fish reads its completions from the default fishcompdir"
cfg=
if [ -n "${top_builddir:-}" ] && [ -x "$top_builddir/config.status" ]; then
	cfg=$("$top_builddir/config.status" --config)
fi
if [ -z "${fishcompdir:-}" ]; then
	skip "$name" "make check gives fishcompdir"
elif [[ $cfg == *--with-fish-completion-dir* ]]; then
	skip "$name" "configured with --with-fish-completion-dir"
elif ! command -v fish >/dev/null 2>&1; then
	skip "$name" "fish is not installed"
else
	out=$(env -u XDG_DATA_DIRS fish -c \
		'contains -- $argv[1] $fish_complete_path; and echo read' "$fishcompdir") || :
	is "$out" read "$name ($fishcompdir)"
fi

# --- (g) the licence: LICENSE is in the source tree (so in the tarball:
# under make distcheck, top_srcdir is the unpacked tarball), the MIT
# licence with the copyright line that ccmap --version prints.
lic=$top/LICENSE
if [ -f "$lic" ]; then
	pass "LICENSE is in the source tree"
	is "$(head -n 1 "$lic")" "MIT License" "LICENSE is the MIT licence"
	holder=$(sed -n 's/^Copyright (c) //p' "$lic")
	v=$($CCMAP --version)
	[ -n "$holder" ] && [[ $v == *"Copyright (C) $holder."* ]] &&
		[[ $v == *"License: MIT "* ]] && r=0 || r=1
	ok $r "ccmap --version names the licence and holder of LICENSE ($holder)"
	[ "$r" -eq 0 ] || diag "$v"
else
	fail "LICENSE is in the source tree"
fi

done_testing
