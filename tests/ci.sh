#!/bin/bash
# tests/ci.sh: build ccmap every way we support and run every test.
#
#   1. build-san/   out-of-tree, --enable-asan --enable-ubsan, make check
#   2. build-tsan/  out-of-tree, --enable-tsan, the unit tests only
#   3. in tree      ./configure && make && make check (./ccmap stays usable)
#   4. in tree      make distcheck (the tarball builds, installs, and its
#                   unit tests and a smoke set of e2e tests pass: the whole
#                   suite already ran twice above)
#
# Out-of-tree builds refuse a configured source tree, so they run first and
# an earlier in-tree configuration is removed with `make distclean`.
# Test logs are kept: tests/**/*.log and test-suite.log in each build.
#
# The last line is always "N passed, N failed"; the exit status is non-zero
# when any test or any step failed.  A failed step (autogen, configure, make,
# distcheck) counts as one failure.
#
# Environment: JOBS (default: nproc), CI_SKIP="san tsan distcheck" to skip
# steps while iterating locally.
set -u
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
CI_SKIP=${CI_SKIP:-}
export LC_ALL=C

# What distcheck's build of the tarball runs (a variable on make's command
# line reaches its sub-makes).
DISTCHECK_TESTS="tests/unit/run-tests tests/e2e/t0000-basic.sh"
DISTCHECK_TESTS+=" tests/e2e/t0800-docs.sh tests/e2e/t0900-man-examples.sh"
DISTCHECK_TESTS+=" tests/e2e/t0910-readme.sh"

passed=0
failed=0
skipped=0
steps_failed=()

finish() {
	echo
	if [ ${#steps_failed[@]} -gt 0 ]; then
		echo "failed steps: ${steps_failed[*]}"
	fi
	[ "$skipped" -eq 0 ] || echo "$skipped skipped"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ] && [ ${#steps_failed[@]} -eq 0 ]
	exit $?
}
trap 'echo; echo "interrupted"; failed=$((failed + 1)); finish' INT TERM

section() { printf '\n==== %s ====\n' "$*"; }

# step NAME CMD...: run a build step; on failure count it and return 1.
step() {
	local name=$1
	shift
	section "$name: $*"
	if "$@"; then
		return 0
	fi
	echo "ci: step failed: $name"
	steps_failed+=("$name")
	failed=$((failed + 1))
	return 1
}

skipping() { case " $CI_SKIP " in *" $1 "*) echo "ci: skipping $1"; return 0 ;; esac; return 1; }

# count_suite DIR: add the counts of DIR/test-suite.log (Automake's summary).
count_suite() {
	local log=$1/test-suite.log p f s
	if [ ! -f "$log" ]; then
		echo "ci: no $log"
		failed=$((failed + 1))
		return
	fi
	p=$(sed -n 's/^# PASS: *//p' "$log" | head -1)
	s=$(sed -n 's/^# SKIP: *//p' "$log" | head -1)
	f=$(awk '/^# (FAIL|XPASS|ERROR): */ { n += $3 } END { print n + 0 }' "$log")
	passed=$((passed + ${p:-0}))
	skipped=$((skipped + ${s:-0}))
	failed=$((failed + f))
	echo "ci: $1: ${p:-0} passed, $f failed, ${s:-0} skipped"
	if [ "$f" -ne 0 ]; then
		# Show what failed; the full logs stay on disk.
		section "$log (failures)"
		sed -n '/^\(FAIL\|XPASS\|ERROR\): /,$p' "$log" | head -n 300
	fi
}

# count_tap FILE: add the counts of a raw TAP stream.
count_tap() {
	local p f
	p=$(grep -c '^ok ' "$1")
	f=$(grep -c '^not ok ' "$1")
	passed=$((passed + p))
	failed=$((failed + f))
	echo "ci: $1: $p passed, $f failed"
}

# ---- 0. a clean source tree ------------------------------------------------
if [ -f config.status ] && [ -f Makefile ]; then
	make -s distclean >/dev/null 2>&1 || rm -f config.status
fi
rm -rf build-san build-tsan
step autogen ./autogen.sh || finish

# ---- 1. ASan + UBSan, out of tree ------------------------------------------
if ! skipping san; then
	mkdir -p build-san
	if step configure-san sh -c 'cd build-san && ../configure -q --enable-asan --enable-ubsan' &&
	   step make-san make -C build-san -j"$JOBS"; then
		section "check (asan+ubsan)"
		# (t0700's volume is the in-tree run's to check in full.)
		ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1} \
		UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
		CCMAP_TEST_VOLUME=10000 \
			make -C build-san -j"$JOBS" check
		count_suite build-san
	fi
fi

# ---- 2. TSan, unit tests, out of tree --------------------------------------
if ! skipping tsan; then
	mkdir -p build-tsan
	if step configure-tsan sh -c 'cd build-tsan && ../configure -q --enable-tsan' &&
	   step make-tsan make -C build-tsan -j"$JOBS" tests/unit/run-tests; then
		section "unit tests (tsan)"
		# TSan cannot map its shadow memory with the high ASLR entropy of
		# recent kernels; run without ASLR when setarch is there.
		norand=
		if setarch "$(uname -m)" -R true 2>/dev/null; then
			norand="setarch $(uname -m) -R"
		fi
		TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1} \
			$norand build-tsan/tests/unit/run-tests >build-tsan/unit-tests.log 2>&1
		rc=$?
		cat build-tsan/unit-tests.log
		count_tap build-tsan/unit-tests.log
		if [ "$rc" -ne 0 ] && ! grep -q '^not ok ' build-tsan/unit-tests.log; then
			echo "ci: tsan unit tests exited with status $rc"
			steps_failed+=("tsan-unit")
			failed=$((failed + 1))
		fi
	fi
fi

# ---- 3. in-tree build and check --------------------------------------------
if step configure ./configure -q && step make make -j"$JOBS"; then
	section "check (in tree)"
	make -j"$JOBS" check
	count_suite "$top"

	# ---- 4. distcheck --------------------------------------------------
	if ! skipping distcheck; then
		step distcheck make -j"$JOBS" distcheck TESTS="$DISTCHECK_TESTS"
	fi
fi

finish
