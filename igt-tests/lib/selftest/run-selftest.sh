#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Check the IGT-compatible library's behaviour through its self-test
# binary: output lines and exit codes of runs with known outcomes.
#
#   run-selftest.sh BINARY
set -u

bin=${1:?usage: run-selftest.sh BINARY}
passed=0
failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# expect_run NAME EXPECTED_EXIT ENV_ASSIGNMENT-OR-- ARGS... ; then expect_line calls
run() {
	local name=$1 want=$2 envset=$3
	shift 3
	if [ "$envset" = "-" ]; then
		"$bin" "$@" >"$out" 2>&1
	else
		env "$envset" "$bin" "$@" >"$out" 2>&1
	fi
	local rc=$?
	current=$name
	if [ "$rc" -eq "$want" ]; then
		ok "exit code $rc"
	else
		bad "exit code $rc, want $want"
	fi
}

ok() { passed=$((passed + 1)); }
bad() {
	failed=$((failed + 1))
	echo "FAIL [$current]: $*"
	sed 's/^/    | /' "$out"
}

# has REGEX: some whole line matches
has() {
	if grep -Eq -- "^$1\$" "$out"; then ok; else bad "no line matching: $1"; fi
}
hasnt() {
	if grep -Eq -- "^$1\$" "$out"; then bad "unexpected line: $1"; else ok; fi
}
# order A B: first line matching A comes before first line matching B
order() {
	local a b
	a=$(grep -En -- "^$1\$" "$out" | head -1 | cut -d: -f1)
	b=$(grep -En -- "^$2\$" "$out" | head -1 | cut -d: -f1)
	if [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]; then ok; else
		bad "expected '$1' before '$2'"; fi
}

T='\([0-9]+\.[0-9]{3}s\)'

run list 0 - --list-subtests
has pass-a; has group-b; has last
hasnt "Starting subtest: .*"
[ "$(wc -l <"$out")" -eq 13 ] && ok || bad "want 13 names"

run list-ignores-fixture 0 SELFTEST_FIXTURE=fail --list-subtests
has group-a; hasnt ".*FAIL.*"

run pass 0 - --run-subtest pass-a
has "Starting subtest: pass-a"; has "Subtest pass-a: SUCCESS $T"
order "Starting subtest: pass-a" "Subtest pass-a: SUCCESS $T"
hasnt "Starting subtest: pass-b"

run pass-glob 0 - --run-subtest 'pass-*'
has "Subtest pass-a: SUCCESS $T"; has "Subtest pass-b: SUCCESS $T"
has "Subtest pass-fork: SUCCESS $T"; has "info from pass-b"

run pass-list 0 - --run-subtest 'pass-a,group-*,last'
has "Subtest group-a: SUCCESS $T"; has "Subtest group-b: SUCCESS $T"
has "Subtest last: SUCCESS $T"; hasnt "Starting subtest: pass-b"

run negate 0 - --run-subtest 'pass-*,!pass-fork'
has "Subtest pass-b: SUCCESS $T"; hasnt "Starting subtest: pass-fork"

run skip-only 77 - --run-subtest 'skip-*'
has "Subtest skip-a: SKIP $T"; has "Subtest skip-b: SKIP $T"
has "Test requirement: counter == 12345"; has "explicit skip"

run skip-and-pass 0 - --run-subtest 'skip-a,pass-a'
has "Subtest skip-a: SKIP $T"; has "Subtest pass-a: SUCCESS $T"

run fail-continues 98 - --run-subtest 'fail-assert,after-group,last'
has "Subtest fail-assert: FAIL $T"
has ".*Failed assertion: counter == -1"
has ".*error: 1 != -1"
has "Subtest after-group: SUCCESS $T"
has "Subtest last: SUCCESS $T"
order "Subtest fail-assert: FAIL $T" "Starting subtest: after-group"

run fail-ioctl 98 - --run-subtest fail-ioctl
has "Subtest fail-ioctl: FAIL $T"

run fail-fork 98 - --run-subtest fail-fork
has "Subtest fail-fork: FAIL $T"; has "child 1 failed with exit status 98"

run crash 139 - --run-subtest 'crash-segv,last'
has "Subtest crash-segv: CRASH $T"; has "Received signal SIGSEGV."
has "Subtest last: SUCCESS $T"

run unknown 79 - --run-subtest no-such-subtest
has ".*Unknown subtest: no-such-subtest"

run fixture-fail 98 SELFTEST_FIXTURE=fail --run-subtest 'group-*,last'
has "Subtest group-a: FAIL"; has "Subtest group-b: FAIL"
hasnt "Starting subtest: group-a"
has ".*fixture asked to fail"
has "Subtest last: SUCCESS $T"

run fixture-skip 0 SELFTEST_FIXTURE=skip --run-subtest 'group-*,last'
has "Subtest group-a: SKIP"; has "Subtest group-b: SKIP"
has "Subtest last: SUCCESS $T"

run fixture-skip-only 77 SELFTEST_FIXTURE=skip --run-subtest 'group-*'
has "Subtest group-b: SKIP"

run everything 98 -
has "Subtest pass-a: SUCCESS $T"; has "Subtest skip-a: SKIP $T"
has "Subtest fail-assert: FAIL $T"; has "Subtest crash-segv: CRASH $T"
has "Subtest last: SUCCESS $T"

run help 0 - --help
has "  --list-subtests"

run bad-option 79 - --no-such-option

echo "selftest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
