#!/bin/bash
# t1530: the completions, driven as the shells drive them: bash's function
# with COMP_WORDS/COMP_CWORD set (options, the command position), zsh
# completing an option after Tab in a real terminal (compinit, the file in
# fpath), fish's complete -C.  The terminal options of -p, --bar, --eta and
# --progress are there in each.
. "$(dirname "$0")/setup.sh"

top=${top_srcdir:-$SRC/../..}
bashc=$top/completions/ccmap.bash
zshc=$top/completions/_ccmap
fishc=$top/completions/ccmap.fish
bc=/usr/share/bash-completion/bash_completion

export HOME=$T/home XDG_CONFIG_HOME=$T/home/.config \
	XDG_DATA_HOME=$T/home/.local/share XDG_CACHE_HOME=$T/home/.cache
mkdir -p "$HOME" "$T/files"

# --- bash.
[ -r "$bc" ] || skip_all "bash-completion is not installed"
# bcomp CWORD WORD...: COMPREPLY, one a line, for the words with the cursor
# at the end of word CWORD.
bcomp() {
	(cd "$T/files" && bash --norc --noprofile -c '
		. "$1" || exit 1
		. "$2" || exit 1
		shift 2
		COMP_CWORD=$1
		shift
		COMP_WORDS=("$@")
		COMP_LINE="${COMP_WORDS[*]}"
		COMP_POINT=${#COMP_LINE}
		COMPREPLY=()
		_ccmap ccmap "${COMP_WORDS[COMP_CWORD]}" \
			"${COMP_WORDS[COMP_CWORD - 1]}" 2>/dev/null
		printf "%s\n" "${COMPREPLY[@]}"
	' bcomp "$bc" "$bashc" "$@") || :
}
is "$(bcomp 1 ccmap --int)" "--interactive" "bash: --int completes to --interactive"
# (--ba is --bar or --basefile, as in GNU parallel.)
is "$(bcomp 1 ccmap --ba | sort)" $'--bar\n--basefile' "bash: --ba offers --bar and --basefile"
is "$(bcomp 1 ccmap --bar)" "--bar" "bash: --bar completes to itself"
is "$(bcomp 1 ccmap --et)" "--eta" "bash: --et completes to --eta"
is "$(bcomp 1 ccmap --prog)" "--progress" "bash: --prog completes to --progress"
out=$(bcomp 1 ccmap -)
echo "$out" | grep -qx -- -p && r=0 || { r=1; diag "got: $out"; }
ok $r "bash: - offers -p"
out=$(bcomp 2 ccmap -p printen)
echo "$out" | grep -qx printenv && r=0 || { r=1; diag "got: $out"; }
ok $r "bash: after -p, the command position offers command names"
out=$(bcomp 3 ccmap --bar --eta printen)
echo "$out" | grep -qx printenv && r=0 || { r=1; diag "got: $out"; }
ok $r "bash: after --bar --eta, the same"

# --- fish: complete -C.
if command -v fish >/dev/null 2>&1; then
	fcomp() { # LINE: fish's completions for LINE, one a line
		(cd "$T/files" && fish -c 'source $argv[1]; complete -C$argv[2]' \
			"$fishc" "$1" | cut -f1)
	}
	out=$(fcomp 'ccmap --')
	for o in --interactive --bar --eta --progress --jobs; do
		echo "$out" | grep -qx -- "$o" && r=0 || r=1
		ok $r "fish: 'ccmap --' offers $o"
	done
	out=$(fcomp 'ccmap -p printen')
	echo "$out" | grep -qx printenv && r=0 || { r=1; diag "got: $out"; }
	ok $r "fish: after -p, command names"
else
	skip "fish completion" "fish is not installed"
fi

# --- zsh: in a terminal, Tab after 'ccmap --bar' ends the word (a space).
if command -v zsh >/dev/null 2>&1; then
	. "$SRC/tmux.sh"
	tm_start
	mkdir -p "$T/zfunc"
	cp "$zshc" "$T/zfunc/_ccmap"
	tm_type "ZDOTDIR=\$T/home zsh -f"
	tm_keys Enter
	tm_type "PS1='%% '; fpath=(\$T/zfunc \$fpath); autoload -Uz compinit; compinit -u -D; echo READY"
	tm_keys Enter
	check "zsh: compinit with completions/_ccmap in fpath loads" tm_wait '^READY$'
	tm_type "ccmap --bar"
	tm_keys Tab
	tm_type "X"
	check "zsh: Tab completes 'ccmap --bar' (a space after)" tm_wait '^% ccmap --bar X$'
	tm_keys C-u
	tm_type "ccmap --inter"
	tm_keys Tab
	check "zsh: Tab completes 'ccmap --inter' to --interactive" \
		tm_wait '^% ccmap --interactive ?$'
	tm_keys C-u
	tm_type "ccmap -p printen"
	tm_keys Tab
	check "zsh: after -p, Tab completes the command name" \
		tm_wait '^% ccmap -p printenv ?$'
	tm_keys C-u
	tm_type exit
	tm_keys Enter
else
	skip "zsh completion" "zsh is not installed"
fi

done_testing
