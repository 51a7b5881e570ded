#!/bin/bash
# t2030: the files of -S jobs on the SSH test bed: --transferfile/--tf
# (with /./ and replacement strings), --transfer, --return, --cleanup,
# --trc (man parallel's examples), --basefile/--bf once per host, and
# --workdir/--wd (DIR, ".", "..." per job); copies by rsync over the
# master, or by cat when this end or the host has no rsync (modes kept);
# a file that cannot be copied fails its job with a warning naming it and
# the host; ":" copies nothing.
#
# Every node's home is the same directory ($home), so what a job leaves
# "remotely" is seen here.  Copies are counted by an rsync in front of the
# real one in $PATH that logs its arguments.

# shellcheck disable=SC2016 # $ in the jobs' commands is the remote shell's
. "$(dirname "$0")/setup.sh"
# (A terminal for --bar, when tmux is there; sourced before the bed.)
have_tmux=
if command -v tmux >/dev/null 2>&1; then
	. "$SRC/tmux.sh"
	have_tmux=1
fi
. "$SRC/sshbed.sh"

command -v rsync >/dev/null 2>&1 || skip_all "no rsync"
command -v gzip >/dev/null 2>&1 || skip_all "no gzip"

sshbed_start 2
home=$SSHBED_DIR/home
export CCMAP_SSH=$SSHBED_SSH

# rsync, logged: one line a copy in $T/rsync.log.
real_rsync=$(command -v rsync)
mkdir -p "$T/logbin"
cat >"$T/logbin/rsync" <<EOF
#!/bin/sh
echo "\$*" >>"$T/rsync.log"
exec "$real_rsync" "\$@"
EOF
chmod 755 "$T/logbin/rsync"
PATH=$T/logbin:$PATH
copies() { # PATTERN: rsync calls whose arguments hold PATTERN
	grep -c -- "$1" "$T/rsync.log" 2>/dev/null || true
}

# What is left in the home, but the test bed's own (.ssh and the like).
left() {
	(cd "$home" && find . -mindepth 1 ! -name '.ssh' ! -path './.ssh/*' | sort)
}
empty_home() { rm -rf "${home:?}"/* "$home"/.parallel; : >"$T/rsync.log"; }

W=$T/work
mkdir -p "$W"
cd "$W"

# --- man parallel_tutorial: Transferring files --------------------------
echo This is input_file >input_file
empty_home
run_case "tutorial: --transferfile {}" 0 $'This is input_file\n' \
	-- $CCMAP -S node1 --transferfile {} cat ::: input_file
is "$(left)" "./input_file" "--transferfile: the file is in the remote home"
empty_home
run_case "tutorial: --trc {}.out" 0 '' \
	-- $CCMAP -S node1 --trc {}.out cat {} ">"{}.out ::: input_file
is "$(cat input_file.out)" "This is input_file" "--trc: the .out came back"
is "$(left)" "" "--trc: nothing left on the host"

# man parallel_examples: --trc with gzip, on two hosts and ":".
mkdir -p logs/sub
for f in a b c d e; do seq 1 "${#f}000" | sed "s/^/$f /" >"logs/$f.log"; done
seq 1 500 >logs/sub/f.log
rm -f logs/*.gz logs/sub/*.gz
empty_home
run_case "examples: --trc {}.gz on node1,node2,:" 0 '' \
	-- bash -c 'find logs/ -name "*.log" | '"$CCMAP"' -S node1,node2,: \
		--trc {}.gz "gzip -c {} >{}.gz"'
bad=0
for f in logs/*.log logs/sub/f.log; do
	zcat "$f.gz" 2>/dev/null | cmp -s - "$f" || bad=$((bad + 1))
done
is "$bad" 0 "--trc gzip: every .gz came back, and unzips to its .log"
is "$(left)" "" "--trc gzip: nothing left on the hosts"
check "--trc gzip: ':' copied nothing (its files stay here)" \
	test -e logs/a.log -a -e logs/sub/f.log

# --- /./ -------------------------------------------------------------------
mkdir -p sub/dir "$T/abs/y"
echo in-f >sub/dir/f
echo in-z >"$T/abs/y/z"
empty_home
run_case "--tf with /./: relative" 0 $'in-f\n' \
	-- $CCMAP -S node1 --tf {} 'cat dir/{/}' ::: sub/./dir/f
run_case "--tf with /./: absolute" 0 $'in-z\n' \
	-- $CCMAP -S node1 --tf {} 'cat y/z; : {}' ::: "$T/abs/./y/z"
is "$(left)" $'./dir\n./dir/f\n./y\n./y/z' \
	"--tf /./: the part after /./ is made on the host"
empty_home
run_case "--tf without /./: the whole relative path" 0 $'in-f\n' \
	-- $CCMAP -S node1 --tf {} 'cat {}' ::: sub/dir/f
is "$(left)" $'./sub\n./sub/dir\n./sub/dir/f' "--tf: sub/dir/f made on the host"

# --- --return, --cleanup ---------------------------------------------------
empty_home
rm -f r1.made r2.made
run_case "--return a file the command made" 0 '' \
	-- $CCMAP -S node1,node2 --return {}.made 'echo made {} on $(hostname) >{}.made' ::: r1 r2
check "--return: r1.made came back" grep -Eq '^made r1 on node[12]$' r1.made
check "--return: r2.made came back" grep -Eq '^made r2 on node[12]$' r2.made
is "$(left)" $'./r1.made\n./r2.made' "--return without --cleanup: left on the host"
empty_home
rm -rf out
run_case "--trc out/./{}.out (man parallel)" 0 '' \
	-- $CCMAP -S node1 --trc out/./{}.out 'cp {} {}.out' ::: sub/dir/f
is "$(cat out/sub/dir/f.out 2>&1)" in-f "--trc out/./: back under out/"
empty_home
run_case "--cleanup: --tf, --return" 0 $'in-f\n' \
	-- $CCMAP -S node1 --tf {} --return {}.2 --cleanup 'cat {}; cp {} {}.2' ::: sub/dir/f
is "$(cat sub/dir/f.2)" in-f "--cleanup: the return came back first"
is "$(left)" "" "--cleanup: files and the directories made for them are gone"
run_case "--transfer --return --cleanup, -I" 0 $'in-f\n' \
	-- $CCMAP -S node1 -I @ --transfer --return @.3 --cleanup 'cat @; cp @ @.3' ::: sub/dir/f
is "$(cat sub/dir/f.3)" in-f "--transfer with -I @: @ is the file"
is "$(left)" "" "--transfer --cleanup: nothing left"

# --- --basefile ------------------------------------------------------------
echo base >base.txt
empty_home
run_case "--bf: every job on node1 sees it" 0 "$(printf 'base %s\n' 1 2 3 4 5 6)
" -- $CCMAP -S 2/node1 -k --bf base.txt 'echo $(head -n 1 base.txt) {}; echo {} >>base.txt' ::: 1 2 3 4 5 6
is "$(copies base.txt)" 1 "--bf: one copy to one host"
is "$(sort "$home/base.txt" | tr '\n' ' ')" "1 2 3 4 5 6 base " \
	"--bf: not copied again between jobs (their appends are all there)"
empty_home
run_case "--bf on two hosts, --cleanup" 0 '*' \
	-- $CCMAP -S 2/node1,2/node2 --bf base.txt --cleanup 'cat base.txt; : {}' ::: 1 2 3 4 5 6 7 8
is "$(copies base.txt)" 2 "--bf: one copy per host"
is "$(sort -u "$T/out")" base "--bf: every job read it"
is "$(left)" "" "--bf --cleanup: removed at the end"
# The removal at the end goes over a master that runs: one that ended
# after the last job (killed here, while ccmap waits for more input) is
# started again for it.
empty_home
mkdir -p "$T/tmp5"
mkfifo "$T/in5"
$CCMAP -S 1/node1 --tmpdir "$T/tmp5" --bf base.txt --cleanup 'cat base.txt; : {}' \
	<"$T/in5" >"$T/out5" 2>"$T/err5" &
pid=$!
exec 7>"$T/in5"
echo 1 >&7
check "--bf --cleanup, master killed: the job ran" wait_for 60 grep -q base "$T/out5"
master5() { pgrep -f "ControlPath=$T/tmp5/ccmap-ssh"; }
no_master5() { ! master5 >/dev/null; }
kill -TERM $(master5)
check "--bf --cleanup, master killed: it is gone" wait_for 30 no_master5
exec 7>&-
ends "--bf --cleanup, master killed" "$pid"
is "$s" 0 "--bf --cleanup, master killed: status 0"
is "$(cat "$T/err5")" "" "--bf --cleanup, master killed: no warning"
is "$(left)" "" "--bf --cleanup, master killed: removed at the end all the same"

# --- --workdir -------------------------------------------------------------
empty_home
run_case "--wd DIR" 0 $'in-f\n' \
	-- $CCMAP -S node1 --wd wd1 --tf {} 'cat {}; pwd >pwd.txt' ::: sub/dir/f
is "$(cat "$home/wd1/pwd.txt" 2>&1)" "$home/wd1" "--wd DIR: the job ran in ~/DIR"
check "--wd DIR: the file went there" test -f "$home/wd1/sub/dir/f"
empty_home
run_case "--wd DIR --bf --cleanup" 0 $'base\nbase\n' \
	-- $CCMAP -S node1 --wd wd1 --bf base.txt --cleanup 'cat base.txt; : {}' ::: 1 2
is "$(left)" "" "--wd DIR --cleanup: DIR gone with its files"
# A relative --bf goes in each job's directory, once a directory.
empty_home
run_case "--wd w{} --bf relative: in each job's directory" 0 \
	$'base 1\nbase 2\nbase 1\n' \
	-- $CCMAP -S 2/node1 -k --wd 'w{}' --bf base.txt 'echo $(head -n 1 base.txt) {}' ::: 1 2 1
is "$(copies base.txt)" 2 "--wd w{} --bf: one copy per directory"
empty_home
run_case "--wd w{} --bf --cleanup, two hosts" 0 '*' \
	-- $CCMAP -S 2/node1,2/node2 --wd 'w{}' --bf base.txt --cleanup 'cat base.txt; : {}' ::: 1 2 3 4
is "$(sort "$T/out" | tr '\n' ' ')" "base base base base " "--wd w{} --bf: every job read it"
is "$(left)" "" "--wd w{} --bf --cleanup: removed at the end, with the directories"

empty_home
run_case "--wd ...: a directory per job" 0 '*' \
	-- $CCMAP -S 2/node1,2/node2 --wd ... --tf {} 'pwd; cat {} >/dev/null' ::: sub/dir/f sub/dir/f input_file input_file
is "$(sort -u "$T/out" | wc -l)" 4 "--wd ...: four jobs, four directories"
is "$(grep -vc "^$home/\.parallel/tmp/[^/]*-[0-9]*-[1-4]\$" "$T/out")" 0 \
	"--wd ...: each under ~/.parallel/tmp/, named HOST-PID-SEQ"
is "$(find "$home/.parallel/tmp" -mindepth 1 -maxdepth 1 | wc -l)" 4 \
	"--wd ... without --cleanup: they stay"
empty_home
run_case "--wd ... --cleanup" 0 '*' \
	-- $CCMAP -S 2/node1,2/node2 --wd ... --cleanup --return {}.o 'pwd; echo x >{}.o' ::: p q r s
is "$(sort -u "$T/out" | wc -l)" 4 "--wd ... --cleanup: four directories"
is "$(left)" "" "--wd ... --cleanup: all removed, and ~/.parallel"
check "--wd ... --return: came back" test -s s.o

empty_home
mkdir -p "$home/here"
chown "$SSHBED_USER" "$home/here"
run_case "--wd .: this directory (not below \$HOME: the same path)" 0 "$home/here
" -- bash -c 'cd "$1" && shift && "$@"' sh "$home/here" $CCMAP -S node1 --wd . pwd ::: 1

# --- copies by cat -----------------------------------------------------------
# This end without rsync: a PATH of everything in /usr/bin but rsync.
mkdir -p "$T/norsync"
for f in /usr/bin/* /usr/sbin/*; do
	case ${f##*/} in rsync) ;; *) ln -sf "$f" "$T/norsync/${f##*/}" ;; esac
done
chmod 755 "$T/norsync"
printf '#!/bin/sh\necho hi\n' >sub/dir/exe
chmod 750 sub/dir/exe
empty_home
rm -f sub/dir/exe.back sub/dir/f.back
run_case "no rsync here: --tf and --return by cat" 0 $'hi\nin-f\n' \
	-- env PATH="$T/norsync" $CCMAP -S node1 -k --tf {} --return {}.back \
	'if [ -x {} ]; then ./{}; else cat {}; fi; cp -p {} {}.back' ::: sub/dir/exe sub/dir/f
is "$(copies .)" 0 "no rsync here: rsync not run"
is "$(stat -c %a "$home/sub/dir/exe") $(stat -c %a "$home/sub/dir/f")" "750 644" \
	"cat: the modes kept on the host"
check "cat: an executable comes back executable" test -x sub/dir/exe.back
check "cat: the other does not" test ! -x sub/dir/f.back
is "$(cat sub/dir/f.back)" in-f "cat: the contents came back"
empty_home
run_case "no rsync here: --trc out/./ and --cleanup" 0 '' \
	-- env PATH="$T/norsync" $CCMAP -S node1 --wd w --trc out2/./{}.o 'cp {} {}.o' ::: sub/dir/f
is "$(cat out2/sub/dir/f.o 2>&1)" in-f "cat: out2/./ back under out2/"
is "$(left)" "" "cat --cleanup: nothing left"
run_case "no rsync here: a directory cannot be sent" 1 '' \
	-- env PATH="$T/norsync" $CCMAP -S node1 --tf {} 'echo ran' ::: sub/dir
stderr_has "^ccmap: job 1 on node1: --transferfile 'sub/dir': a directory" \
	"cat: a directory: the job fails, told"
echo dash >./-x
empty_home
rm -f ./-x.back
run_case "no rsync here: a file named -x, there and back" 0 $'dash\n' \
	-- env PATH="$T/norsync" $CCMAP -S node1 --tf {} --return {}.back --cleanup \
	'cat ./{}; cp ./{} ./{}.back' ::: -x
is "$(cat ./-x.back 2>&1)" dash "cat: -x.back came back"
is "$(left)" "" "cat: -x and -x.back removed (--cleanup)"

# The host without rsync: node2's sshd gives its sessions that PATH.
sshbed_stop_node 2
echo "SetEnv PATH=$T/norsync" >>"$SSHBED_DIR/sshd2.conf"
check "node2 up again, with no rsync in its PATH" sshbed_start_node 2
is "$(sshbed_ssh node2 'command -v rsync || echo none' </dev/null 2>&1)" none \
	"node2: rsync is not found there"
empty_home
rm -f sub/dir/f.back
run_case "no rsync on the host: by cat" 0 $'in-f\n' \
	-- $CCMAP -S node2 --tf {} --return {}.back --cleanup 'cat {}; cp {} {}.back' ::: sub/dir/f
is "$(copies .)" 0 "no rsync there: rsync not run"
is "$(cat sub/dir/f.back)" in-f "no rsync there: the file came back"
is "$(left)" "" "no rsync there: --cleanup left nothing"

# --- failures ----------------------------------------------------------------
empty_home
run_case "a missing file: the job fails, not run" 1 '' \
	-- $CCMAP -S node1 --tf {} 'echo ran {}' ::: missing
stderr_is "ccmap: job 1 on node1: --transferfile 'missing': No such file or directory; the job is not run
" "a missing file: one warning, naming the file and the host"
run_case "a missing file: the other jobs run" 1 $'ran input_file\n' \
	-- $CCMAP -S node1 -k --tf {} 'echo ran {}' ::: missing input_file
# A job not run has no --return to fetch; --cleanup removes what got there.
empty_home
run_case "a missing file with --return: the job fails, not run" 1 '' \
	-- $CCMAP -S node1 --tf {} --return {}.out 'cat {} >{}.out' ::: missing
stderr_is "ccmap: job 1 on node1: --transferfile 'missing': No such file or directory; the job is not run
" "a missing file with --return: one warning, none about the return"
run_case "one file of two missing, --return, --cleanup" 1 '' \
	-- $CCMAP -S node1 --tf {1} --tf {2} --return {1}.out --cleanup \
	'cat {1} {2} >{1}.out' ::: input_file ::: missing
stderr_is "ccmap: job 1 on node1: --transferfile 'missing': No such file or directory; the job is not run
" "one file of two missing: one warning"
is "$(left)" "" "one file of two missing: --cleanup removed the one sent"
run_case "--wd ...: a missing file, --cleanup" 1 '' \
	-- $CCMAP -S node1 --wd ... --tf {1} --tf {2} --cleanup 'cat {1} {2}' \
	::: input_file ::: missing
is "$(left)" "" "--wd ... and a missing file: the job's directory removed"
run_case "a return that is not made: the job fails" 1 $'ran x\n' \
	-- $CCMAP -S node1 --return {}.none 'echo ran' ::: x
stderr_has "^ccmap: job 1 on node1: --return 'x.none': .*No such file or directory.*; the job fails$" \
	"a return not made: told, naming the file and the host"
run_case "a --basefile that is missing" 1 '' \
	-- $CCMAP -S node1 --bf nonesuch 'echo ran' ::: 1
stderr_has "^ccmap: job 1 on node1: --basefile 'nonesuch': No such file or directory; the job is not run$" \
	"a missing --basefile: told"

# A job thread's warning with --bar on a terminal: the bar makes way (the
# warning has its line to itself), then is drawn again.  Job 1 holds at a
# gate while the bar is drawn; job 2's file is missing.
if [ -n "$have_tmux" ]; then
	tm_start
	rm -f "$T/go6"
	tm_run "ccmap --ssh '$SSHBED_SSH' -S 1/node1 --bar --tf {} 'while [ ! -e $T/go6 ]; do sleep 0.1; done; echo {}' ::: input_file missing >\$T/bar6.out"
	check "--bar, a job's warning: the bar is drawn" tm_wait '^0% 0:2=' 60
	touch "$T/go6"
	check "--bar, a job's warning: on a line of its own" \
		tm_wait "^ccmap: job 2 on node1: --transferfile 'missing': No such file or directory; the job is not run\$" 60
	check "--bar, a job's warning: the run ends" tm_wait '^END:1$' 60
	tm_screen | grep -n -e '^ccmap: job 2' -e '^100% 2:0=0s missing' |
		sed 's/:.*//' | tr '\n' ' ' >"$T/order6"
	check "--bar, a job's warning: the bar drawn again below it" \
		awk '{ exit !($1 < $2) }' "$T/order6"
	is "$(cat "$T/bar6.out")" input_file "--bar, a job's warning: stdout as usual"
else
	skip "--bar, a job's warning" "tmux is not installed"
fi

# --- refused -----------------------------------------------------------------
run_case "--tf without -S: refused" 255 '' -- $CCMAP --tf {} echo ::: 1
stderr_is "ccmap: --transferfile: only with -S or --sshloginfile (the files of remote jobs)
" "--tf without -S: one line"
run_case "--wd ... with a relative --bf: refused (as GNU)" 255 '' \
	-- $CCMAP -S node1 --wd ... --bf base.txt echo ::: 1
stderr_has "^ccmap: --basefile 'base.txt': relative on the host" "--wd ... --bf relative: one line"
run_case "--wd '': refused" 255 '' -- $CCMAP -S node1 --wd '' echo ::: 1

check "nothing of the jobs left running on the hosts" \
	wait_for 30 sshbed_none_left
done_testing
