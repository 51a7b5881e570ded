# bash completion for ccmap(1)                             -*- shell-script -*-
#
# Installed as "ccmap" in bash-completion's completions directory, or
# sourced by hand.  Needs bash-completion 2.x for the best results (the
# command after the options is completed with that command's own
# completion); without it, options, values and command names still complete.

# The options, as ccmap --help lists them.
_ccmap_opts='-a --arg-file --link -0 --null -d --delimiter --recsep -C --colsep
	--col-sep --header --trim --match --skip -E --eof -r --no-run-if-empty
	-I -n --max-args -N --max-replace-args -X -m --xargs
	--max-line-length-allowed -q --quote --dry-run
	--pipe --spreadstdin --block --block-size --blocksize --recend --recstart -L
	--so -j -P --jobs --threads --procs --chunksize --max-tasks-per-child
	-S --ssh --sshlogin --sshloginfile --slf --sshdelay --ssh-delay
	--onall --nonall --filter-hosts --env -M --controlmaster
	--transferfile --tf --transfer --return --cleanup --trc --basefile --bf
	--workdir --wd --remote-worker --remote-ccmap --slurm --worker
	--timeout --termseq --term-seq --halt --retries --delay --joblog --resume
	--resume-failed -k --keep-order
	--as-completed --group --line-buffer -u --ungroup --tag --tagstring
	--results --json --tmpdir -p --interactive --bar --eta --progress -h --help
	--version'

# Options that take a value in the next word, and short ones that may carry
# it in the same word (-j4).
_ccmap_valopts='-a --arg-file -d --delimiter --recsep -C --colsep --col-sep
	--header --trim --match --skip -E --eof -I -n --max-args -N
	--max-replace-args --so -j -P --jobs --chunksize --max-tasks-per-child
	-S --sshlogin --sshloginfile --slf --ssh --sshdelay --ssh-delay --env
	--transferfile --tf --return --trc --basefile --bf --workdir --wd
	--remote-worker --remote-ccmap
	--block --block-size --blocksize --recend --recstart -L
	--timeout --termseq --term-seq --halt --retries --delay --joblog --tagstring
	--results --tmpdir'
_ccmap_valshort='aCdEIjnNLPS'

# _ccmap_resolve WORD: the option WORD stands for: a long option in full
# (it may be abbreviated; a whole name wins over the longer ones it
# begins, as --ssh over --sshlogin), or the last letter of a short cluster.
_ccmap_resolve()
{
	local w=$1 o match= n=0
	case $w in
	--*)
		w=${w%%=*}
		for o in $_ccmap_opts; do
			[[ $o == --* ]] || continue
			if [[ $o == "$w" ]]; then
				match=$o n=1
				break
			fi
			if [[ $o == "$w"* ]]; then
				match=$o
				((n++))
			fi
		done
		((n == 1)) || return 1 # unknown, or ambiguous
		printf '%s\n' "$match"
		;;
	-?*)
		printf '%s\n' "-${w: -1}"
		;;
	*) return 1 ;;
	esac
}

# _ccmap_files [-d]: complete file names (or directories).
_ccmap_files()
{
	if declare -F _comp_compgen_filedir >/dev/null; then
		_comp_compgen_filedir "$@"
	elif declare -F _filedir >/dev/null; then
		_filedir "$@"
	elif [[ ${1-} == -d ]]; then
		COMPREPLY=($(compgen -d -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}

# _ccmap_hosts: complete the last login of a -S value: a host name from
# ssh's configuration and known hosts, after the logins before it (up to a
# comma) and an N/ of its own.
_ccmap_hosts()
{
	local pre=${cur%"${cur##*,}"} login=${cur##*,}
	if [[ $login =~ ^[0-9]+/ ]]; then
		pre+=${BASH_REMATCH[0]}
		login=${login#"${BASH_REMATCH[0]}"}
	fi
	COMPREPLY=()
	if declare -F _known_hosts_real >/dev/null; then
		_known_hosts_real -a -p "$pre" -- "$login"
	else
		COMPREPLY=($(compgen -P "$pre" -A hostname -- "$login"))
	fi
}

# _ccmap_plugins: complete a --so PLUGIN: shared objects (*.so) and
# directories, else any file.
_ccmap_plugins()
{
	if declare -F _comp_compgen_filedir >/dev/null; then
		_comp_compgen_filedir so
	elif declare -F _filedir >/dev/null; then
		_filedir so
	else
		COMPREPLY=($(compgen -f -X '!*.so' -- "$cur") $(compgen -d -- "$cur"))
	fi
	((${#COMPREPLY[@]})) || _ccmap_files
}

# _ccmap_command INDEX: complete words[INDEX..] as a command line of its own.
_ccmap_command()
{
	if declare -F _comp_command_offset >/dev/null; then
		_comp_command_offset "$1"
	elif declare -F _command_offset >/dev/null; then
		_command_offset "$1"
	elif (($1 == cword)); then
		COMPREPLY=($(compgen -c -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}

# _ccmap_takes_value WORD: does the option WORD, as typed, need the next
# word as its value?
_ccmap_takes_value()
{
	local w=$1 o i c
	case $w in
	--*=*) return 1 ;;
	--?*)
		o=$(_ccmap_resolve "$w") || return 1
		[[ " "${_ccmap_valopts//[$'\t\n']/ }" " == *" $o "* ]]
		;;
	-?*)
		# A cluster such as -0kj: the value is the next word when the
		# first letter that takes one is the last one.
		for ((i = 1; i < ${#w}; i++)); do
			c=${w:i:1}
			if [[ $_ccmap_valshort == *"$c"* ]]; then
				((i == ${#w} - 1))
				return
			fi
		done
		return 1
		;;
	*) return 1 ;;
	esac
}

_ccmap()
{
	local cur prev words cword split=false was_split=false comp_args
	if declare -F _comp_initialize >/dev/null; then
		_comp_initialize -s -- "$@" || return
		split=$was_split
	elif declare -F _init_completion >/dev/null; then
		_init_completion -s || return
	else
		# No bash-completion: do without it.
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
	fi

	# Where does the command start?  Skip the options and their values;
	# "--" ends the options.  cmd stays empty while we are still in them.
	# --so PLUGIN ends them too: the words after it are the plugin's
	# arguments (plugin= their first index), not options of ccmap.
	local i w cmd= sep= plugin=
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		if [[ -z $cmd ]]; then
			case $w in
			--)
				cmd=$((i + 1))
				;;
			--?*=*)
				if [[ $(_ccmap_resolve "$w") == --so ]]; then
					cmd=$((i + 1)) plugin=$cmd
				fi
				;;
			-?*)
				if _ccmap_takes_value "$w"; then
					if [[ $(_ccmap_resolve "$w") == --so ]]; then
						cmd=$((i + 2)) plugin=$cmd
					fi
					((i++))
				fi
				;;
			*)
				cmd=$i
				;;
			esac
		fi
		if [[ -n $cmd ]] && ((i >= cmd)); then
			case $w in
			::: | :::+) sep=items ;;
			:::: | ::::+) sep=files ;;
			esac
		fi
	done

	# After ::: (items, often file names) and :::: (files).
	if [[ -n $sep ]]; then
		if [[ $cur == :* ]]; then
			COMPREPLY=($(compgen -W '::: :::+ :::: ::::+' -- "$cur"))
			[[ ${#COMPREPLY[@]} -gt 0 ]] && return
		fi
		_ccmap_files
		return
	fi

	# A plugin's arguments: free words, not options of ccmap; ::: and
	# :::: may follow.
	if [[ -n $plugin ]] && ((cword >= plugin)); then
		if [[ $cur == :* ]]; then
			COMPREPLY=($(compgen -W '::: :::+ :::: ::::+' -- "$cur"))
			[[ ${#COMPREPLY[@]} -gt 0 ]] && return
		fi
		_ccmap_files
		return
	fi

	# The command and its arguments: that command's own completion.
	if [[ -n $cmd ]] && ((cword >= cmd)); then
		if [[ $cur == :* ]]; then
			COMPREPLY=($(compgen -W '::: :::+ :::: ::::+' -- "$cur"))
			[[ ${#COMPREPLY[@]} -gt 0 ]] && return
		fi
		_ccmap_command "$cmd"
		return
	fi

	# An option's value.
	if _ccmap_takes_value "$prev"; then
		local opt
		opt=$(_ccmap_resolve "$prev")
		case $opt in
		-a | --arg-file)
			_ccmap_files
			;;
		--so)
			_ccmap_plugins
			;;
		--timeout)
			COMPREPLY=($(compgen -W '10 30 60 500ms 30s 1m 5m 1h' -- "$cur"))
			;;
		--delay | --sshdelay | --ssh-delay)
			COMPREPLY=($(compgen -W '0.1 0.5 1 5 100ms 1s 1m' -- "$cur"))
			;;
		-S | --sshlogin)
			_ccmap_hosts
			;;
		--sshloginfile | --slf | --transferfile | --tf | --return | \
		--trc | --basefile | --bf)
			_ccmap_files
			;;
		--workdir | --wd)
			# (The special ones, and this machine's directories.)
			_ccmap_files -d
			COMPREPLY+=($(compgen -W '... .' -- "$cur"))
			;;
		--ssh)
			COMPREPLY=($(compgen -c -- "$cur"))
			;;
		--remote-worker)
			COMPREPLY=($(compgen -W 'auto always never' -- "$cur"))
			;;
		--remote-ccmap)
			_ccmap_files
			;;
		--env)
			# Exported variables, and functions (export -f them).
			COMPREPLY=($(compgen -e -- "$cur") $(compgen -A function -- "$cur"))
			;;
		--termseq | --term-seq)
			COMPREPLY=($(compgen -W 'TERM,200,TERM,100,TERM,50,KILL,25
			    INT,1000,TERM,1000,KILL,25 TERM,5000,KILL,25 KILL,25' \
			    -- "$cur"))
			;;
		--halt)
			COMPREPLY=($(compgen -W 'never now,fail=1 soon,fail=1
			    now,success=1 soon,success=1 now,done=1 soon,done=1
			    now,fail=10% soon,fail=10% 0 1 2 -1 -2' -- "$cur"))
			;;
		--retries)
			COMPREPLY=($(compgen -W '0 2 3 5 10' -- "$cur"))
			;;
		--joblog)
			_ccmap_files
			;;
		--max-tasks-per-child)
			COMPREPLY=($(compgen -W '1 10 100 1000' -- "$cur"))
			;;
		--tmpdir | --results)
			_ccmap_files -d
			;;
		-j | -P | --jobs)
			local n
			n=$(getconf _NPROCESSORS_ONLN 2>/dev/null) || n=
			COMPREPLY=($(compgen -W "0 1 2 4 8 $n 50% 100% 200% +1 -1" \
			    -- "$cur"))
			;;
		--chunksize | -n | --max-args | -N | --max-replace-args | -L)
			COMPREPLY=($(compgen -W '1 10 100 1000' -- "$cur"))
			;;
		--trim)
			COMPREPLY=($(compgen -W 'n l r lr rl' -- "$cur"))
			;;
		--block | --block-size | --blocksize)
			COMPREPLY=($(compgen -W '64K 1M 10M 100M 1G' -- "$cur"))
			;;
		--header)
			# ":" names columns; with --pipe, also a number of lines.
			COMPREPLY=($(compgen -W ': 1 2' -- "$cur"))
			;;
		*)
			# -d, -I, --tagstring, --recend, --recstart, the regexes:
			# free text.
			COMPREPLY=()
			;;
		esac
		return
	fi
	$split && return

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$_ccmap_opts" -- "$cur"))
		return
	fi

	# The command's name.
	_ccmap_command "$cword"
} &&
	complete -F _ccmap ccmap

# ex: filetype=sh
