#!/usr/bin/env bash
# Runs inside the guest (boot.sh's chroot); tools/check.sh starts it, once
# per column of the upstream IGT table:
#
#   tools/vm/guest-igt.sh vgem|vgem_compat|native MODULE.ko IGTBUILD TEST,TEST,...
#
# vgem         the in-tree vgem alone (MODULE is not loaded)
# vgem_compat  MODULE is swgpu built as vgem.ko (SWGPU_MODNAME=vgem: it
#              answers to "vgem" and IGT can unload and load it by that
#              name); IGT's module loading is configured so that "vgem"
#              is MODULE, never the in-tree one
# native       MODULE is swgpu.ko under its own name, IGT_FORCE_DRIVER=swgpu
#              (the kernel command line blacklists the in-tree vgem)
#
# IGT loads and unloads modules itself (libkmod): IGT_KMOD_DIRNAME shows
# it the guest kernel's modules instead of /lib/modules of the host root.
#
# IGT_FORCE_DRIVER names the column's driver, so the DRIVER_ANY tests
# (core_*, dumb_buffer, sw_sync) open that driver and no other. Runs
# IGTBUILD/runner/igt_runner over IGTBUILD/tests with the tests given (all
# their subtests, each in its own process). Leaves in $SWGPU_OUT:
#   runner/results.json  IGT's results (the format DRM CI reads)
#   runner.log           igt_runner's output; runner.exit its exit status
#   harness.ktap         module-load, module-unload (MODULE, or vgem)
#   runner-kms/results.json
#                        the same for the tests of $SWGPU_IGT_NEED_VKMS
#                        (comma list: kms_prime), run apart: vkms loaded
#                        and IGT_FORCE_DRIVER=vkms, IGT's way to admit vkms
#                        as its DRIVER_ANY device; the column's driver is
#                        the test's DRIVER_VGEM device (runner-kms.log,
#                        runner-kms.exit)
#   left-out.txt         "TEST<TAB>why" for each test left out: those of
#                        $SWGPU_IGT_NEED_SW_SYNC (comma list) where the
#                        kernel has no sw_sync, those of
#                        $SWGPU_IGT_NEED_VKMS where it has no vkms
#   dmesg.txt            the kernel log
# Results are judged on the host; this exits non-zero only when the
# harness itself breaks.
set -euo pipefail
: "${SWGPU_OUT:?run me inside tools/vm/boot.sh}"

(($# == 4)) || { echo "usage: $0 vgem|vgem_compat|native MODULE.ko IGTBUILD TESTS" >&2; exit 2; }
column="$1" ko="$2" igt="$3" tests="$4"
here="$(dirname "${BASH_SOURCE[0]}")"
timeout_s="${SWGPU_TEST_TIMEOUT:-600}"

ktap_lines=()
ktap() { ktap_lines+=("$1 $((${#ktap_lines[@]} + 1)) $2"); }
write_ktap() {
	{
		echo "KTAP version 1"
		echo "1..${#ktap_lines[@]}"
		printf '%s\n' "${ktap_lines[@]}"
	} >"$SWGPU_OUT/harness.ktap"
}

case "$column" in
vgem)
	module=vgem driver=vgem
	load=("$here/guest-load.sh")
	;;
vgem_compat)
	module="$(basename "$ko" .ko)" driver=vgem
	load=(env SWGPU_NO_VGEM=1 "$here/guest-load.sh" "$ko")
	;;
native)
	module="$(basename "$ko" .ko)" driver=swgpu
	load=(env SWGPU_NO_VGEM=1 "$here/guest-load.sh" "$ko")
	;;
*)
	echo "guest-igt: unknown column $column" >&2
	exit 2
	;;
esac

export IGT_KMOD_DIRNAME="$SWGPU_MODROOT/lib/modules/$SWGPU_KVER"
runner_env=(-e IGT_KMOD_DIRNAME)
if [[ "$column" == vgem_compat ]]; then
	# libkmod runs an install command instead of loading the module.
	echo "install vgem insmod $ko" >/tmp/igt-modprobe.conf
	export IGT_KMOD_CONFIG_PATHS=/tmp/igt-modprobe.conf
	runner_env+=(-e IGT_KMOD_CONFIG_PATHS)
fi

if ! "${load[@]}"; then
	ktap "not ok" module-load
	write_ktap
	dmesg >"$SWGPU_OUT/dmesg.txt"
	exit 0
fi
ktap ok module-load

# pick LIST: split $tests in two: $picked, the tests named in comma list
# LIST (a "test@subtest" entry by its test), and $tests, the rest.
pick() {
	local t kept=() chosen=()
	for t in ${tests//,/ }; do
		if [[ ",$1," == *",${t%%@*},"* ]]; then
			chosen+=("$t")
		else
			kept+=("$t")
		fi
	done
	tests="$(IFS=,; echo "${kept[*]}")" picked="$(IFS=,; echo "${chosen[*]}")"
}
# leave_out WHY: the $picked tests are left out, for reason WHY.
leave_out() {
	local t
	for t in ${picked//,/ }; do
		printf '%s\t%s\n' "$t" "$1" >>"$SWGPU_OUT/left-out.txt"
	done
}
kmod() { modprobe -q -d "$SWGPU_MODROOT" -S "$SWGPU_KVER" "$@" 2>/dev/null; }

# IGT's kernel_has_sw_sync(): the debugfs file, after trying the module.
: >"$SWGPU_OUT/left-out.txt"
if [[ ! -e /sys/kernel/debug/sync/sw_sync ]] &&
	! { kmod sw_sync && [[ -e /sys/kernel/debug/sync/sw_sync ]]; }; then
	pick "${SWGPU_IGT_NEED_SW_SYNC:-}"
	leave_out "needs SW_SYNC, which igt_require_sw_sync() asks for in every subtest; $SWGPU_KVER has none"
fi
# The tests that scan a PRIME buffer out need vkms, and run apart.
pick "${SWGPU_IGT_NEED_VKMS:-}"
kms_tests=""
if [[ -n "$picked" ]] && ! kmod vkms; then
	leave_out "needs vkms, a KMS driver that imports the PRIME buffer and scans it out with CRCs; $SWGPU_KVER has none (the igt tier has it)"
else
	kms_tests="$picked"
fi

# run_igt NAME TESTS KEY=VALUE...: igt_runner over comma list TESTS into
# $SWGPU_OUT/NAME/ (NAME.log, NAME.exit); the tests' environment has the
# variables given, set through the runner (it records them).
run_igt() {
	local name="$1" list="/tmp/igt-test-list-$1" rc=0 start end
	shift
	tr ',' '\n' <<<"$1" | sed '/^$/d; s/^/igt@/' >"$list"
	shift
	echo "guest-igt: $column: running $(paste -sd' ' "$list") with $*"
	local envs=("${runner_env[@]}") kv
	for kv; do
		envs+=(-e "$kv")
	done
	start="$(cut -d' ' -f1 /proc/uptime)"
	# One process per subtest (igt_runner 2.2's --multiple-mode garbles
	# the stderr it records). The runner writes its many small files to
	# the guest's tmpfs, not to the results share over 9p, and the whole
	# directory is copied there at the end. --per-test-timeout: a hung
	# subtest is killed and reported as a timeout; the outer timeout only
	# guards the runner.
	timeout -k 10 "$((timeout_s * 4))" \
		"$igt/runner/igt_runner" --overwrite --test-list "$list" \
		--per-test-timeout "$timeout_s" "${envs[@]}" \
		"$igt/tests" "/tmp/igt-$name" >"$SWGPU_OUT/$name.log" 2>&1 || rc=$?
	cp -a "/tmp/igt-$name" "$SWGPU_OUT/$name"
	echo "$rc" >"$SWGPU_OUT/$name.exit"
	end="$(cut -d' ' -f1 /proc/uptime)"
	echo "guest-igt: igt_runner exited $rc after $(awk "BEGIN { print $end - $start }")s"
}

if [[ -n "$tests" ]]; then
	run_igt runner "$tests" IGT_FORCE_DRIVER="$driver"
else
	echo "guest-igt: $column: every test was left out or runs with vkms (left-out.txt)"
fi
if [[ -n "$kms_tests" ]]; then
	# IGT leaves vkms out of DRIVER_ANY unless it is the forced driver.
	run_igt runner-kms "$kms_tests" IGT_FORCE_DRIVER=vkms
	rmmod vkms || echo "guest-igt: vkms does not unload" >&2
fi

# Every test closed what it opened: the module must unload.
if [[ ! -d "/sys/module/$module" ]] || rmmod "$module"; then
	ktap ok module-unload
else
	ktap "not ok" module-unload
	lsmod | grep -E "^($module|drm) " || true
fi
write_ktap
dmesg >"$SWGPU_OUT/dmesg.txt"
