#!/usr/bin/env bash
# Usage: tools/vm/scan-log.sh LOG
#
# Scans a kernel log (the guest's `dmesg` dump, or a serial console log) for
# reports that must fail a run: WARN, BUG, oops, KASAN/UBSAN, lockdep,
# panics, stalls, call traces. Prints the offending lines (at most 40) with
# their line numbers and exits 1; exits 0 on a clean log, 2 when LOG is
# missing.
#
# Only kernel-written text can match. Lines that user space writes to the
# kernel log are skipped, so test names cannot trip the scan: IGT's
# "[IGT] binary: starting subtest NAME" lines and KTAP result lines of a
# test module ("ok 3 name", "# Subtest: name"). The expected taint notices
# of an unsigned out-of-tree module match no pattern.
#
# Expected warnings: a test that checks that the kernel API warns on misuse
# brackets the call with the kernel lines "swgpu_test: expect warning begin"
# and "swgpu_test: expect warning end" (drm_driver/tests/). Between such a
# pair only the lines of a WARN splat ("WARNING:", "Call Trace") are let
# through, and counted; BUG, oops, KASAN, lockdep and the rest never are.
set -euo pipefail

(($# == 1)) || { echo "usage: $0 LOG" >&2; exit 2; }
log="$1"
[[ -f "$log" ]] || { echo "scan-log: no such log: $log" >&2; exit 2; }

patterns='WARNING:|BUG:|Oops|KASAN|UBSAN|possible circular locking'
patterns+='|possible recursive locking|kernel BUG|Call Trace|Kernel panic'
patterns+='|general protection fault|blocked for more than|detected stalls'
patterns+='|soft lockup|hard LOCKUP|DEBUG_LOCKS_WARN_ON|unreferenced object'
# kmemleak says only this in dmesg unless booted with kmemleak.verbose=1.
patterns+='|suspected memory leak'

hits="$(awk -v pat="$patterns" '
	{
		msg = $0
		# printk prefixes: "[   12.345678] " and an optional "[  T123] ".
		sub(/^<[0-9]+>/, "", msg)
		sub(/^\[ *[0-9]+\.[0-9]+\] */, "", msg)
		sub(/^\[ *[TC][0-9]+\] */, "", msg)
	}
	msg == "swgpu_test: expect warning begin" { expect = 1; next }
	msg == "swgpu_test: expect warning end" { expect = 0; next }
	expect && msg ~ /^(WARNING:|Call Trace)/ { expected++; next }
	msg ~ /^\[IGT\]/ { next }
	msg ~ /^[ \t]*(not )?ok [0-9]+( |$)/ { next }
	msg ~ /^[ \t]*# Subtest: / { next }
	msg ~ pat { printf "%s:%d: %s\n", FILENAME, NR, $0 }
	END {
		if (expected)
			printf "scan-log: ignored %d expected-warning line(s)\n", expected >"/dev/stderr"
	}
' "$log")"

if [[ -n "$hits" ]]; then
	n="$(wc -l <<<"$hits")"
	echo "scan-log: $n kernel log line(s) report a problem in $log:"
	head -n 40 <<<"$hits"
	((n <= 40)) || echo "scan-log: ... $((n - 40)) more"
	exit 1
fi
exit 0
