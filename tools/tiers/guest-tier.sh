#!/usr/bin/env bash
# Runs inside the guest of a chroot tier (x86_64: boot-tier.sh's chroot of
# the host root); tools/tiers/check-tier.sh starts it:
#
#   tools/tiers/guest-tier.sh MODULE.ko TESTDIR KTAPDIR [BINARY[:SUBTEST]]
#
# tools/vm/guest-tests.sh, unchanged, with the tier's own checks around it:
#   - tier-info.txt: uname -r, the kernel command line, /proc/meminfo
#     totals (HighTotal on HIGHMEM kernels), which debug features are on
#   - kmemleak: cleared before the suite, so that boot-time objects do not
#     count; after the suite (and the module unload) two scans, and every
#     "unreferenced object" in /sys/kernel/debug/kmemleak fails the
#     "tier/kmemleak" case. The reports are kept in kmemleak.txt.
#   - tier.ktap: the tier's cases, judged on the host like the other KTAP
#     files; dmesg.txt is dumped again at the very end so that it also
#     holds what the kmemleak scan printed.
# Exits with guest-tests.sh's status.
set -uo pipefail
: "${SWGPU_OUT:?run me inside tools/tiers/boot-tier.sh}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kmemleak=/sys/kernel/debug/kmemleak

{
	echo "release: $(uname -r)"
	echo "cmdline: $(cat /proc/cmdline)"
	grep -E '^(MemTotal|HighTotal|LowTotal):' /proc/meminfo
	[[ -e $kmemleak ]] && echo "kmemleak: on" || echo "kmemleak: off"
	[[ -d /sys/kernel/debug/failslab ]] && echo "fault injection: failslab fail_page_alloc"
	[[ -e /proc/lockdep ]] && echo "lockdep: on"
} >"$SWGPU_OUT/tier-info.txt" 2>&1
sed 's/^/guest-tier: /' "$SWGPU_OUT/tier-info.txt"

have_kmemleak=0
if [[ -w $kmemleak ]] && echo clear >$kmemleak 2>/dev/null; then
	have_kmemleak=1
fi

rc=0
"$here/../vm/guest-tests.sh" "$@" || rc=$?

ktap=()
if ((have_kmemleak)); then
	# kmemleak reports an object only once it is older than 5 s and was
	# unreferenced in a full scan: wait that out, scan, scan again.
	sleep 6
	echo scan >$kmemleak
	sleep 1
	echo scan >$kmemleak
	cat $kmemleak >"$SWGPU_OUT/kmemleak.txt"
	leaks="$(grep -c '^unreferenced object' "$SWGPU_OUT/kmemleak.txt" || true)"
	if ((leaks == 0)); then
		ktap+=("ok 1 kmemleak")
	else
		ktap+=("not ok 1 kmemleak # $leaks unreferenced object(s), see kmemleak.txt")
		echo "guest-tier: kmemleak: $leaks unreferenced object(s):"
		head -n 40 "$SWGPU_OUT/kmemleak.txt" | sed 's/^/guest-tier:   /'
	fi
else
	ktap+=("ok 1 kmemleak # SKIP this kernel has no kmemleak")
fi
{
	echo "KTAP version 1"
	echo "1..${#ktap[@]}"
	printf '%s\n' "${ktap[@]}"
} >"$SWGPU_OUT/tier.ktap"
dmesg >"$SWGPU_OUT/dmesg.txt"
exit "$rc"
