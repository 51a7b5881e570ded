# tests/e2e/like-parallel.sh: sourced after setup.sh by the scripts that
# compare ccmap with GNU parallel byte for byte.
#
#   like_parallel NAME STDIN EXPECTED -- ARGS...
#       runs `ccmap ARGS` and `parallel --will-cite -k ARGS`, each with STDIN
#       on its standard input (written as is), and checks that ccmap's
#       stdout is EXPECTED (skip the check with '*'), and that stdout and
#       exit status are GNU parallel's.  The outputs are left in
#       $T/ccmap.out and $T/parallel.out.
#
# GNU parallel keeps state under $HOME/.parallel (the longest command line
# it measured, among others): the scripts get a HOME of their own, so that
# a value measured with another environment is never used.

export HOME=$T/home
mkdir -p "$HOME"

like_parallel() {
	local name=$1 stdin=$2 expected=$3 st1 st2
	shift 4
	printf '%s' "$stdin" >"$T/stdin"
	st1=0
	$CCMAP "$@" <"$T/stdin" >"$T/ccmap.out" 2>"$T/ccmap.err" || st1=$?
	st2=0
	parallel --will-cite -k "$@" <"$T/stdin" >"$T/parallel.out" \
	    2>"$T/parallel.err" || st2=$?
	if [ "$expected" != '*' ]; then
		is "$(cat "$T/ccmap.out"; echo x)" "${expected}x" "$name"
	fi
	cmp -s "$T/ccmap.out" "$T/parallel.out" && r=0 || r=1
	if [ $r -ne 0 ]; then
		diag "ccmap:"
		head -c 2000 "$T/ccmap.out" | diag
		diag "GNU parallel:"
		head -c 2000 "$T/parallel.out" | diag
	fi
	ok $r "$name: the output of GNU parallel"
	is "$st1" "$st2" "$name: the exit status of GNU parallel"
}
