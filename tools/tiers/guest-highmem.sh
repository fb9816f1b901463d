#!/bin/sh
# Runs inside the guest of a self-contained tier (i386: tools/vm/boot.sh's
# busybox initramfs, so plain POSIX sh, no bash); tools/check.sh starts it:
#
#   sh tools/tiers/guest-highmem.sh LOADLIST MODULE.ko TESTDIR KTAPDIR [BINARY[:SUBTEST]]
#   sh tools/tiers/guest-highmem.sh LOADLIST MODULE.ko TESTDIR KTAPDIR BINARY,BINARY,...
#
# tools/vm/guest-tests.sh for a guest without the host's programs. It
# leaves the same files in $SWGPU_OUT, so the host judges them the same
# way (NAME.log, NAME.exit, cpu_access.ktap, module_lifetime.ktap,
# harness.ktap, dmesg.txt), plus:
#   tier-info.txt  uname -r, MemTotal/HighTotal/LowTotal of /proc/meminfo
#   tier.ktap      highmem-present (HighTotal > 0), vgem (SKIP: see below),
#                  highmem-pages (KTAPDIR/highmem-probe: do swgpu's buffer
#                  pages land in highmem? SKIP while the driver's debugfs
#                  has no "highmem <pages>" field)
# LOADLIST: absolute paths of the .ko files to insmod before MODULE, in
# order (drm and its dependencies, resolved on the host).
#
# vgem is left out on purpose: on a HIGHMEM kernel the in-tree vgem oopses
# as soon as its pages are populated (set_pages_array_wc -> change_page_attr
# NULL dereference in drm_gem_shmem_get_pages; a known upstream bug, see
# /work/shared/vm-notes.md). IGT tests that need vgem skip themselves; the
# KTAP runners report a missing vgem as a failure, so their failed cases
# whose name contains "vgem" are turned into SKIPs carrying that reason.
: "${SWGPU_OUT:?run me inside tools/vm/boot.sh}"
[ $# -ge 4 ] && [ $# -le 5 ] || {
	echo "usage: $0 LOADLIST MODULE.ko TESTDIR KTAPDIR [BINARY[:SUBTEST]]" >&2
	exit 2
}
loadlist="$1" ko="$2" testdir="$3" ktapdir="$4" select="${5:-}"
timeout_s="${SWGPU_TEST_TIMEOUT:-600}"
module="$(basename "$ko" .ko | tr - _)"
VGEM_REASON="in-tree vgem oopses on HIGHMEM once its pages are populated (upstream bug), so it is not loaded on this tier"

hk_n=0
hk=""
harness() { hk_n=$((hk_n + 1)); hk="$hk$1 $hk_n $2
"; }
write_harness() { printf 'KTAP version 1\n1..%d\n%s' "$hk_n" "$hk" >"$SWGPU_OUT/harness.ktap"; }
tk_n=0
tk=""
tier() { tk_n=$((tk_n + 1)); tk="$tk$1 $tk_n $2
"; }
write_tier() { printf 'KTAP version 1\n1..%d\n%s' "$tk_n" "$tk" >"$SWGPU_OUT/tier.ktap"; }

# --- the tier's facts -----------------------------------------------------
{
	echo "release: $(uname -r)"
	echo "cmdline: $(cat /proc/cmdline)"
	grep -E '^(MemTotal|HighTotal|LowTotal):' /proc/meminfo
} >"$SWGPU_OUT/tier-info.txt"
sed 's/^/guest-highmem: /' "$SWGPU_OUT/tier-info.txt"
high_kb="$(sed -n 's/^HighTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)"
if [ "${high_kb:-0}" -gt 0 ]; then
	tier ok "highmem-present # HighTotal $high_kb kB"
else
	tier "not ok" "highmem-present # no HighTotal in /proc/meminfo: not a HIGHMEM kernel or too little RAM"
fi
tier ok "vgem # SKIP $VGEM_REASON"

# --- load -------------------------------------------------------------------
load_ok=1
while read -r dep; do
	[ -n "$dep" ] || continue
	name="$(basename "$dep" .ko | tr - _)"
	[ -d "/sys/module/$name" ] && continue
	insmod "$dep" || { echo "guest-highmem: insmod $dep failed"; load_ok=0; }
done <"$loadlist"
# shellcheck disable=SC2086 # word splitting of the params is intended
if [ $load_ok = 1 ] && insmod "$ko" ${SWGPU_MODULE_PARAMS:-}; then
	harness ok module-load
	echo "guest-highmem: loaded $module; /dev/dri: $(ls /dev/dri 2>/dev/null | tr '\n' ' ')"
else
	harness "not ok" module-load
	dmesg >"$SWGPU_OUT/dmesg.txt"
	write_harness
	write_tier
	exit 0
fi

# novgem: KTAP filter. A failed case with "vgem" in its name cannot pass
# here (vgem is not loaded): report it as SKIP with the reason instead.
novgem() {
	sed -E "s/^([ \t]*)not ok ([0-9]+) ([^ #]*vgem[^ #]*)( #.*)?\$/\1ok \2 \3 # SKIP $VGEM_REASON/"
}

bin_filter="${select%%:*}"
subtest=""
case "$select" in *:*) subtest="${select#*:}" ;; esac
# Binaries that need guests of their own (the memory pressure suite, which
# check.sh runs in its own boots through tools/vm/guest-pressure.sh) run
# only when named, as in tools/vm/guest-tests.sh.
own_boot=" ${SWGPU_OWN_BOOT_TESTS:-swgpu_pressure} "
wanted() {
	case ",$bin_filter," in
	,,) case "$own_boot" in *" $1 "*) return 1 ;; esac; return 0 ;;
	*",$1,"*) return 0 ;;
	esac
	return 1
}

# --- IGT binaries -------------------------------------------------------------
# The pressure boots' binaries take kernel pins through the KTAP test
# module (as in guest-tests.sh): it is loaded around them.
pin_module=0
if [ -n "${SWGPU_PRESSURE_BOOT:-}" ] && [ -e "$(dirname "$ko")/swgpu_cpu_access_test.ko" ]; then
	if insmod "$(dirname "$ko")/swgpu_cpu_access_test.ko"; then
		pin_module=1
	else
		harness "not ok" test-module-load
	fi
fi
for bin in "$testdir"/swgpu_*; do
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	name="$(basename "$bin")"
	wanted "$name" || continue
	echo "guest-highmem: running $name${subtest:+ --run-subtest $subtest}"
	start="$(cut -d' ' -f1 /proc/uptime)"
	if [ -n "$subtest" ]; then
		timeout "$timeout_s" "$bin" --run-subtest "$subtest" >"$SWGPU_OUT/$name.log" 2>&1
	else
		timeout "$timeout_s" "$bin" >"$SWGPU_OUT/$name.log" 2>&1
	fi
	rc=$?
	# busybox timeout kills with SIGTERM (143); the host expects 124.
	[ $rc = 143 ] && rc=124
	echo $rc >"$SWGPU_OUT/$name.exit"
	end="$(cut -d' ' -f1 /proc/uptime)"
	echo "guest-highmem: $name exited $rc after $(awk "BEGIN { print $end - $start }")s"
done
if [ $pin_module = 1 ]; then
	rmmod swgpu_cpu_access_test || harness "not ok" test-module-unload
fi

# --- KTAP suites -----------------------------------------------------------
if wanted cpu_access; then
	echo "guest-highmem: running cpu_access"
	if insmod "$(dirname "$ko")/swgpu_cpu_access_test.ko"; then
		timeout "$timeout_s" "$ktapdir/cpu-access-runner" 2>&1 | novgem \
			>"$SWGPU_OUT/cpu_access.ktap"
		rmmod swgpu_cpu_access_test || harness "not ok" test-module-unload
	else
		harness "not ok" test-module-load
	fi
fi
if wanted highmem_pages; then
	echo "guest-highmem: running highmem-probe"
	timeout "$timeout_s" "$ktapdir/highmem-probe" >"$SWGPU_OUT/highmem_pages.ktap" 2>&1
	sed 's/^/guest-highmem: /' "$SWGPU_OUT/highmem_pages.ktap"
	# Its one case joins tier.ktap; the file itself is not judged twice.
	line="$(grep -E '^(not )?ok 1 ' "$SWGPU_OUT/highmem_pages.ktap")"
	[ -n "$line" ] || line="not ok 1 highmem-pages # highmem-probe printed no result"
	st="${line%% 1 *}"
	tier "$st" "${line#* 1 }"
	mv "$SWGPU_OUT/highmem_pages.ktap" "$SWGPU_OUT/highmem_pages.txt"
fi
if wanted module_lifetime; then
	echo "guest-highmem: running module_lifetime"
	timeout "$timeout_s" "$ktapdir/module-lifetime-runner" 2>&1 | novgem \
		>"$SWGPU_OUT/module_lifetime.ktap"
fi

# The udmabuf-sg-leak reproducer (docs/upstream/README.rst) is run by
# tools/vm/guest-tests.sh on x86_64 kernels; the i386 tiers are built
# without udmabuf, which is said here rather than left unsaid.
if wanted kbug_udmabuf; then
	if [ -e /dev/udmabuf ]; then
		echo "error udmabuf-sg-leak # this i386 kernel has udmabuf, but its reproducer runs on x86_64 guests only" >"$SWGPU_OUT/kbug_udmabuf.kbug"
	else
		echo "n/a udmabuf-sg-leak # this kernel has no udmabuf (CONFIG_UDMABUF is off on the i386 tiers)" >"$SWGPU_OUT/kbug_udmabuf.kbug"
	fi
fi

if [ ! -d "/sys/module/$module" ] || rmmod "$module"; then
	harness ok module-unload
else
	harness "not ok" module-unload
	lsmod
fi
dmesg >"$SWGPU_OUT/dmesg.txt"
write_harness
write_tier
exit 0
