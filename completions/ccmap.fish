# fish completion for ccmap(1): the options, then the command with its own
# completion; after --so PLUGIN, the plugin's arguments (not options of
# ccmap); after ::: (items) and :::: (files), file names.

# Options whose value is the next word.
set -g __fish_ccmap_valopts -a --arg-file -d --delimiter --recsep -C --colsep --col-sep --header --trim --match --skip -E --eof -I -n --max-args -N --max-replace-args -L --block --block-size --blocksize --recend --recstart -j -P --jobs --chunksize --max-tasks-per-child -S --sshlogin --sshloginfile --slf --ssh --sshdelay --ssh-delay --env --transferfile --tf --return --trc --basefile --bf --workdir --wd --remote-worker --remote-ccmap --timeout --termseq --term-seq --halt --retries --delay --joblog --tagstring --results --tmpdir

# Print where the word being completed stands: "options" while no command
# has been given, "command" within the command and its arguments, "plugin"
# within the arguments after --so PLUGIN, "sources" after ::: or ::::.
function __fish_ccmap_where
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l where options
    set -l skip 0
    for t in $tokens
        if test $where = options
            if test $skip -eq 1
                set skip 0
                continue
            end
            switch $t
                case --
                    set where command
                    continue
                case --so
                    # its value, then the plugin's arguments
                    set where plugin
                    set skip 1
                    continue
                case '--so=*'
                    set where plugin
                    continue
                case '--*=*'
                    continue
                case '-?*'
                    if contains -- $t $__fish_ccmap_valopts
                        set skip 1
                    else if string match -qr -- '^-[^-]*[aCdEIjnNLPS]$' $t
                        # a cluster ending in a letter that takes a value: -kj
                        and not string match -qr -- '^-[^-]*[aCdEIjnNLPS].' $t
                        set skip 1
                    end
                    continue
            end
            set where command
        end
        if test $skip -eq 1
            # the value of --so
            set skip 0
            continue
        end
        switch $t
            case ::: :::+ :::: ::::+
                set where sources
        end
    end
    echo $where
end

function __fish_ccmap_in_options
    test (__fish_ccmap_where) = options
end

function __fish_ccmap_in_command
    contains -- (__fish_ccmap_where) options command
end

function __fish_ccmap_in_plugin
    test (__fish_ccmap_where) = plugin; and not __fish_ccmap_so_value
end

# The word being completed is the value of --so.
function __fish_ccmap_so_value
    set -l tokens (commandline -opc)
    test (count $tokens) -ge 2; and test $tokens[-1] = --so
end

# The value of -S: host names for its last login, after the logins before
# it (up to a comma) and an N/ of its own.
function __fish_ccmap_sshlogins
    set -l cur (string replace -r -- '^--[^=]*=' '' (commandline -ct))
    set -l pre (string match -r -- '^(?:.*,)?(?:[0-9]+/)?' $cur)
    printf '%s\n' $pre(__fish_print_hostnames)
end

function __fish_ccmap_in_sources
    test (__fish_ccmap_where) = sources
end

# Items
complete -c ccmap -n __fish_ccmap_in_options -s a -l arg-file -r -F -d 'Read items from FILE (- is stdin); repeatable'
complete -c ccmap -n __fish_ccmap_in_options -l link -d "Pair the sources' items instead of crossing them"
complete -c ccmap -n __fish_ccmap_in_options -s 0 -l null -d 'Items end with NUL, not newline'
complete -c ccmap -n __fish_ccmap_in_options -s d -l delimiter -x -d 'Items end with this character (\n, \t, \0, \\, \xHH)'
complete -c ccmap -n __fish_ccmap_in_options -l recsep -x -d 'Items end where this PCRE2 regex matches'
complete -c ccmap -n __fish_ccmap_in_options -s C -l colsep -x -d 'Split items into columns {1}..{N} at REGEX'
complete -c ccmap -n __fish_ccmap_in_options -l col-sep -x -d 'Split items into columns {1}..{N} at REGEX'
complete -c ccmap -n __fish_ccmap_in_options -l header -x -a ': 0 1 2' -d 'The first item names the columns (--pipe: lines for every job)'
complete -c ccmap -n __fish_ccmap_in_options -l trim -x -a 'n l r lr rl' -d 'Trim white space from values'
complete -c ccmap -n __fish_ccmap_in_options -l match -x -d 'Map only the items REGEX matches; its groups are columns'
complete -c ccmap -n __fish_ccmap_in_options -l skip -x -d 'Drop the items REGEX matches'
complete -c ccmap -n __fish_ccmap_in_options -s E -l eof -x -d 'A source ends at an item equal to STR'
complete -c ccmap -n __fish_ccmap_in_options -s r -l no-run-if-empty -d 'Skip items that are empty or only whitespace'

# Commands
complete -c ccmap -n __fish_ccmap_in_options -s I -x -d 'Use STR for the item instead of {}'
complete -c ccmap -n __fish_ccmap_in_options -s q -l quote -d 'Keep each word of the command one argument'
complete -c ccmap -n __fish_ccmap_in_options -s n -l max-args -x -a '0 1 10 100 1000' -d 'Give each command up to N items'
complete -c ccmap -n __fish_ccmap_in_options -s N -l max-replace-args -x -a '0 1 2 3 10' -d 'Up to N items, {1}..{N} each one'
complete -c ccmap -n __fish_ccmap_in_options -s X -d 'As many items as fit, a word with {} repeated per item'
complete -c ccmap -n __fish_ccmap_in_options -s m -d 'As many items as fit, {} standing for all'
complete -c ccmap -n __fish_ccmap_in_options -l xargs -d 'As many items as fit, the last not spread'
complete -c ccmap -n __fish_ccmap_in_options -l max-line-length-allowed -d 'Print the longest command line and exit'
complete -c ccmap -n __fish_ccmap_in_options -l dry-run -d 'Print each command instead of running it'
complete -c ccmap -n __fish_ccmap_in_options -l so -x -d "Map a plugin's function instead of a command; then its arguments"

# Pipe mode
complete -c ccmap -n __fish_ccmap_in_options -l pipe -l spreadstdin -d 'Give each job a block of the input on its stdin'
complete -c ccmap -n __fish_ccmap_in_options -l block -l block-size -l blocksize -x -a '64K 1M 10M 100M 1G' -d 'Blocks of up to SIZE bytes of whole records'
complete -c ccmap -n __fish_ccmap_in_options -l recend -x -d 'A record ends with STR (default \\n)'
complete -c ccmap -n __fish_ccmap_in_options -l recstart -x -d 'A record starts with STR'
complete -c ccmap -n __fish_ccmap_in_options -s L -x -a '1 2 4' -d 'With --pipe, a record is N lines'

# Pool
complete -c ccmap -n __fish_ccmap_in_options -s j -s P -l jobs -x -a '0 1 2 4 8 50% 100% 200% +1 -1' -d 'Run N jobs at once: N, N%, +N, -N, 0'
complete -c ccmap -n __fish_ccmap_in_options -l threads -d 'Run jobs from a pool of threads (default)'
complete -c ccmap -n __fish_ccmap_in_options -l procs -d 'Run jobs from a pool of worker processes'
complete -c ccmap -n __fish_ccmap_in_options -l chunksize -x -a '1 10 100 1000' -d 'Hand N items to a worker at a time'
complete -c ccmap -n __fish_ccmap_in_options -l max-tasks-per-child -x -a '1 10 100 1000' -d 'Replace a worker process after N tasks'

# Remote hosts
complete -c ccmap -n __fish_ccmap_in_options -s S -l sshlogin -x -a '(__fish_ccmap_sshlogins)' -d 'Run the jobs on these hosts over ssh: [N/][user@]host[:port] or :'
complete -c ccmap -n __fish_ccmap_in_options -l sshloginfile -l slf -r -F -d 'Read sshlogins from FILE, one a line'
complete -c ccmap -n __fish_ccmap_in_options -l ssh -x -a '(__fish_complete_command)' -d 'The ssh command of the logins that give none'
complete -c ccmap -n __fish_ccmap_in_options -l sshdelay -l ssh-delay -x -a '0.1 0.5 1 5 100ms 1s 1m' -d 'Start the ssh connections at least this long apart'
complete -c ccmap -n __fish_ccmap_in_options -l onall -d 'Run every item on every host; -j is hosts at a time'
complete -c ccmap -n __fish_ccmap_in_options -l nonall -d 'Run the command once on every host, reading no items'
complete -c ccmap -n __fish_ccmap_in_options -s M -l controlmaster -d 'Accepted: -S always uses a master connection per host'
complete -c ccmap -n __fish_ccmap_in_options -l filter-hosts -d 'Leave out the hosts that cannot be reached (done anyway)'
complete -c ccmap -n __fish_ccmap_in_options -l env -x -a '(set --names --export)' -d 'Give remote jobs this variable (or exported bash function)'
complete -c ccmap -n __fish_ccmap_in_options -l transferfile -l tf -r -F -d 'Copy FILE (a template) to the host before the job'
complete -c ccmap -n __fish_ccmap_in_options -l transfer -d 'Copy the item, a file, to the host before the job'
complete -c ccmap -n __fish_ccmap_in_options -l return -r -F -d 'Copy FILE (a template) back from the host after the job'
complete -c ccmap -n __fish_ccmap_in_options -l cleanup -d 'Remove the files copied there and back from the host'
complete -c ccmap -n __fish_ccmap_in_options -l trc -r -F -d '--transfer --return FILE --cleanup'
complete -c ccmap -n __fish_ccmap_in_options -l basefile -l bf -r -F -d 'Copy FILE to each host once, before its first job'
complete -c ccmap -n __fish_ccmap_in_options -l remote-worker -x -a 'auto always never' -d "Run a host's jobs in one ccmap --worker there"
complete -c ccmap -n __fish_ccmap_in_options -l remote-ccmap -r -d "The hosts' ccmap (default: ccmap on their PATH)"
complete -c ccmap -n __fish_ccmap_in_options -l slurm -d 'Run the jobs on the nodes of this Slurm allocation'
complete -c ccmap -n __fish_ccmap_in_options -l worker -d 'Serve a head ccmap on stdin and stdout (run by -S on the host)'
complete -c ccmap -n __fish_ccmap_in_options -l workdir -l wd -x -a '... . (__fish_complete_directories)' -d 'Run the remote jobs in DIR (. here, ... one per job)'

# Failure and time
complete -c ccmap -n __fish_ccmap_in_options -l timeout -x -a '10 30 60 500ms 30s 1m 5m 1h' -d 'Kill a job or plugin worker running longer'
complete -c ccmap -n __fish_ccmap_in_options -l termseq -l term-seq -x -a 'TERM,200,TERM,100,TERM,50,KILL,25 INT,1000,TERM,1000,KILL,25 TERM,5000,KILL,25 KILL,25' -d 'How running jobs are killed: signals and waits in ms'
complete -c ccmap -n __fish_ccmap_in_options -l halt -x -a 'never now,fail=1 soon,fail=1 now,success=1 soon,success=1 now,done=1 soon,done=1 now,fail=10% soon,fail=10% 0 1 2 -1 -2' -d 'End the run early after N (or N%) jobs fail, succeed or finish'
complete -c ccmap -n __fish_ccmap_in_options -l retries -x -a '0 2 3 5 10' -d 'Run a failed job up to N times in all'
complete -c ccmap -n __fish_ccmap_in_options -l delay -x -a '0.1 0.5 1 5 100ms 1s 1m' -d 'Start jobs at least this long apart'
complete -c ccmap -n __fish_ccmap_in_options -l joblog -r -F -d "Log each job in GNU parallel's joblog format"
complete -c ccmap -n __fish_ccmap_in_options -l resume -d 'Skip the jobs the joblog or --results DIR has'
complete -c ccmap -n __fish_ccmap_in_options -l resume-failed -d 'Skip the jobs the joblog has as succeeded'

# Output
complete -c ccmap -n __fish_ccmap_in_options -s k -l keep-order -d 'Write outputs in input order (default)'
complete -c ccmap -n __fish_ccmap_in_options -l as-completed -d "Write each job's output as soon as it ends"
complete -c ccmap -n __fish_ccmap_in_options -l group -d "Write each job's output whole (default)"
complete -c ccmap -n __fish_ccmap_in_options -l line-buffer -d 'Write whole lines as soon as they come'
complete -c ccmap -n __fish_ccmap_in_options -s u -l ungroup -d 'Let jobs write straight to the output'
complete -c ccmap -n __fish_ccmap_in_options -l tag -d 'Prefix each output line with the item and a tab'
complete -c ccmap -n __fish_ccmap_in_options -l tagstring -x -d 'Prefix each output line with STR and a tab'
complete -c ccmap -n __fish_ccmap_in_options -l results -x -a '(__fish_complete_directories)' -d "Save each job's stdout, stderr and number under DIR"
complete -c ccmap -n __fish_ccmap_in_options -l json -d 'Write one JSON object per job or plugin item'
complete -c ccmap -n __fish_ccmap_in_options -l tmpdir -x -a '(__fish_complete_directories)' -d 'Hold back output past the memory bound in DIR'

# Terminal
complete -c ccmap -n __fish_ccmap_in_options -s p -l interactive -d 'Ask on the terminal before each job; run it on y'
complete -c ccmap -n __fish_ccmap_in_options -l bar -d 'Show a progress bar on stderr'
complete -c ccmap -n __fish_ccmap_in_options -l eta -d 'Show the estimated time left on stderr'
complete -c ccmap -n __fish_ccmap_in_options -l progress -d 'Show jobs running and done on stderr'

complete -c ccmap -n __fish_ccmap_in_options -s h -l help -d 'Show the help and exit'
complete -c ccmap -n __fish_ccmap_in_options -l version -d 'Show the version and exit'

# The command, then its own arguments; after ::: and ::::, file names.
complete -c ccmap -n __fish_ccmap_in_command -x -a "(__fish_complete_subcommand -- $__fish_ccmap_valopts)"
complete -c ccmap -n 'not __fish_ccmap_in_options; and not __fish_ccmap_so_value' -a ':::' -d 'The items follow'
complete -c ccmap -n 'not __fish_ccmap_in_options; and not __fish_ccmap_so_value' -a '::::' -d 'Files of items follow'
complete -c ccmap -n 'not __fish_ccmap_in_options; and not __fish_ccmap_so_value' -a ':::+' -d 'Items linked to the source before follow'
complete -c ccmap -n 'not __fish_ccmap_in_options; and not __fish_ccmap_so_value' -a '::::+' -d 'Files linked to the source before follow'
complete -c ccmap -n __fish_ccmap_in_sources -F
# The value of --so: shared objects first; then the plugin's arguments.
complete -c ccmap -n __fish_ccmap_so_value -x -a '(__fish_complete_suffix .so)'
complete -c ccmap -n __fish_ccmap_in_plugin -F
