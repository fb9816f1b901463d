#!/usr/bin/env bash
# The test command (make check, .ci/run):
#
#   tools/check.sh [--kernel NAME|all] [--test BINARY[:SUBTEST]] [--verbose]
#
# NAME: a kernel of tools/kernels.conf (6.1, 6.12, 6.12-rt, 7.2, 7.2-rt,
# 7.3-rc, debug, highmem, igt, debug-patched, highmem-patched). all (the
# default): every kernel of the table that is available; a test tier runs
# only once its kernel is built (make tiers, make tiers-patched; naming
# it builds it), and what is left out is said, with why.
# --test upstream_igt runs only upstream IGT; --test vgem_basic[:unload]
# (any test of tools/upstream-igt.sh tests) that upstream test only;
# --test install only the install path (below); --test mesa the Mesa
# client (tools/mesa/mesa-client.c, the host's Mesa: GBM, EGL, GLES2 on
# llvmpipe), in the main boot and in a vgem_compat=1 boot; --test weston
# the compositor test (tools/weston/: weston headless with its GL
# renderer, weston-simple-dmabuf-egl's buffers from swgpu, a screenshot
# checked), in both boots too.
#
# For each kernel: fetch it (tools/vm/fetch-kernel.sh), build the module
# against it (W=1 and sparse, warnings fail; in its suite's build root),
# boot it under QEMU (tools/vm/boot.sh) and run the IGT suite of
# igt-tests/ plus the harness checks (module-load, module-unload,
# kernel-log), the KTAP suites (kernel CPU access cases, module lifetime,
# on x86_64 the Mesa client and the weston test; kmemleak where the kernel has it, and there
# the leak canary, a leak made on purpose that kmemleak and the log scan
# must report, alone; --test leak_canary runs only it); the memory
# pressure suite (swgpu_pressure) in two small guests, one with a swap
# disk and one without (tools/vm/guest-pressure.sh; on the i386 highmem
# tiers too, with most of the guest's memory in highmem; results in
# NAME-pressure-swap/ and NAME-pressure-noswap/); then the same subset
# and the Mesa client and the weston test again with vgem_compat=1 (swgpu registered as
# "vgem", the in-tree vgem not loaded), upstream IGT's tests on the in-tree vgem, swgpu as vgem and
# swgpu (check_upstream_igt; x86_64 guests, by default the Debian kernels
# and the igt tier, which has vkms and SW_SYNC),
# on 7.2 our IGT binaries built against upstream's libigt, which must end
# as they did with our lib/ (check_real_igt), then tools/bench.sh --quick
# (run, not judged). checkpatch runs once.
# The install path runs once, as one more job after the kernels
# (tools/check-install.sh: make deb, lintian, the packages installed in
# bookworm and unstable roots, the module DKMS built there booted on 6.1,
# 6.12 and 7.2; results tagged install/...): with KERNEL=all and no TEST,
# or alone with --test install; SWGPU_CHECK_INSTALL=0 leaves it out.
# The kernel bug reproducers of docs/upstream/README.rst: kbug_udmabuf in
# the main guest of x86_64 kernels (after the suite's kmemleak check),
# kbug_vgem in an i386 HIGHMEM guest of its own (it oopses where the bug
# is); a bug they show is reported as KNOWN, neither a pass nor a
# failure (tools/judge.sh).
# Two kernels run at a time (SWGPU_JOBS). A guest that dies before
# the module is loaded is an infrastructure fault: it is retried once and
# reported as such; once the module is loaded nothing is retried.
# Results: build/results/NAME/ (NAME.log per test binary, dmesg.txt,
# console.log, *.ktap; vgem_compat runs in NAME-vgem_compat/, upstream
# IGT in NAME-igt/ with its three-column table.txt, our tests on upstream's
# libigt in NAME-real-igt/).
#
# Prints one line per result, "[6.12] PASS swgpu_basic/create-sizes", and as
# the very last line "N passed, N failed, N skipped" (a known kernel bug a
# reproducer showed, KNOWN, counts as skipped; the line before says how
# many). Exit 0 only when nothing failed and at least one real test (IGT
# subtest or KTAP case of a test module) ran; a KNOWN kernel bug does not
# fail it.
#
# Env: SWGPU_JOBS (kernels at a time, default 2), SWGPU_TEST_TIMEOUT (s per
#      test binary, default 600 times the kernel's slowness),
#      SWGPU_VM_TIMEOUT (s per boot, default 1800 times it), SWGPU_TIERS=0
#      (leave the tiers out of all), SWGPU_SPARSE=0 (skip sparse),
#      SWGPU_MODULE_PARAMS ("name=value ..." for insmod of the module),
#      SWGPU_FUZZ_SEEDS, SWGPU_FUZZ_TIME (the fuzzer swgpu_fuzz's seeds,
#      "1,0x2a", default one from the clock, and seconds per seed, default
#      30, 120 on kernels slower than 1; make fuzz sets them),
#      SWGPU_PRESSURE_MEM (the pressure guests' memory; default 256M, 384M
#      on kernels slower than 1, whose debugging needs room of its own,
#      and 384M with vmalloc=880M on i386, so that ~70% of it is highmem),
#      SWGPU_IGT_SRC (upstream IGT's source: tarball or tree),
#      SWGPU_REAL_IGT_KERNELS (where our tests run on upstream's libigt
#      too: default "7.2"; names, or "all"),
#      SWGPU_MESA_SID_KERNELS (where the Mesa client and the weston test
#      run a second time with unstable's Mesa and weston, in a root of
#      tools/mesa/mesa-root.sh: default "7.2"; names, or "all"),
#      SWGPU_UPSTREAM_IGT_KERNELS (where upstream IGT runs: names and
#      "debian", every Debian kernel of the table; default "debian igt":
#      those and the igt tier, which has vkms and SW_SYNC; "all": every
#      x86_64 kernel; TEST=upstream_igt runs it on any kernel named).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
VM="$SWGPU_REPO/tools/vm"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

kernel=all test="" verbose=0
while (($#)); do
	case "$1" in
	--kernel)  kernel="${2:?}"; shift 2 ;;
	--test)    test="${2:?}"; shift 2 ;;
	--verbose) verbose=1; shift ;;
	-h|--help) usage ;;
	*)         echo "unknown argument: $1" >&2; usage ;;
	esac
done
export SWGPU_SPARSE="${SWGPU_SPARSE:-1}"
# Every FAIL and INFRA line of the run, repeated before the last line.
mkdir -p "$SWGPU_BUILD/results"
export SWGPU_RECAP="$SWGPU_BUILD/results/recap.txt"
: >"$SWGPU_RECAP"
max_jobs="${SWGPU_JOBS:-2}"
# KTAP suites run in the guest after the IGT binaries (see guest-tests.sh).
KTAP_SUITES=(cpu_access module_lifetime highmem_pages leak_canary kbug_udmabuf mesa weston)
# Kernel bug reproducers that boot guests of their own.
OWN_GUEST_KBUGS=(kbug_vgem)
# vgem_compat=1 runs this subset with swgpu registered as "vgem" and the
# in-tree vgem not loaded: unmodified vgem clients must find swgpu.
COMPAT_TESTS=(swgpu_basic swgpu_gem swgpu_prime swgpu_fence swgpu_cpu_access
	swgpu_device_files)
# IGT binaries that need guests of their own (guest-tests.sh leaves them
# out of the main run): the memory pressure suite.
OWN_BOOT_TESTS=(swgpu_pressure)

. "$SWGPU_REPO/tools/judge.sh"

# ---- which kernels ----
kernels=() left_out=() check_install=0
if [[ "$kernel" == all && ( -z "$test" || "$test" == install ) ]]; then
	if [[ "${SWGPU_CHECK_INSTALL:-1}" == 0 ]]; then
		left_out+=("install (SWGPU_CHECK_INSTALL=0)")
	else
		check_install=1
	fi
fi
if [[ "$test" == install ]]; then
	[[ "$kernel" == all ]] || die "--test install runs on its own kernels: use it with --kernel all"
	((check_install)) || die "--test install with SWGPU_CHECK_INSTALL=0 leaves nothing to run"
elif [[ "$kernel" == all ]]; then
	for name in $(kernel_names); do
		kernel_row "$name"
		if [[ "$K_SUITE" == tier ]]; then
			if [[ "${SWGPU_TIERS:-1}" == 0 ]]; then
				left_out+=("$name (SWGPU_TIERS=0)")
				continue
			elif ! "$VM/fetch-kernel.sh" --cached-only "$name" >/dev/null 2>&1; then
				if [[ "$name" == *-patched ]]; then
					left_out+=("$name (its kernel is not built here: make tiers-patched builds it)")
				else
					left_out+=("$name (its kernel is not built here: make tiers builds it)")
				fi
				continue
			fi
		fi
		kernels+=("$name")
	done
else
	kernel_row "$kernel"
	kernels=("$kernel")
fi
log "kernels: ${kernels[*]}"
((${#left_out[@]} == 0)) || log "left out: ${left_out[*]}"
# Resolved here, once, so that the parallel kernel jobs inherit the
# answers (and the private package lists are updated once, not by two
# jobs at a time).
for name in "${kernels[@]}"; do
	resolve_kernel "$name"
done

ensure_packages "${SWGPU_HOST_PACKAGES[@]}"

# ---- user space, built once per architecture ----
# The tests do not depend on the kernel. x86_64: build/igt and build/ktap;
# i386 (static, -m32, for the busybox guests): build/i386/.
RUNNERS=(cpu-access-runner module-lifetime-runner)
build_userspace() {
	local arch="$1" ub="$SWGPU_BUILD" env_=() cc=(gcc) runners=("${RUNNERS[@]}") runner src
	if [[ "$arch" == i386 ]]; then
		ensure_packages gcc-multilib
		ub="$SWGPU_BUILD/i386"
		# Environment, not make arguments: igt-tests/Makefile appends
		# its own flags, which a command-line CFLAGS would override.
		env_=(CC="gcc -m32" CPPFLAGS="-D_FILE_OFFSET_BITS=64" LDFLAGS="-static")
		cc=(gcc -m32 -static -D_FILE_OFFSET_BITS=64)
		runners+=(highmem-probe)
	fi
	if [[ "$arch" == i386 ]]; then
		runners+=(vgem-highmem-mmap)
	else
		runners+=(udmabuf-sync-race)
	fi
	mkdir -p "$ub/igt" "$ub/ktap"
	# The Mesa client (GBM, EGL, GLES2 of the host's Mesa; x86_64: the
	# guests chroot into the host): built apart, it links Mesa's libraries.
	# The packages include weston, which the weston test runs.
	if [[ "$arch" == x86_64 ]]; then
		ensure_packages "${SWGPU_MESA_PACKAGES[@]}"
		if ! gcc -Wall -Wextra -Werror -O2 -I"$SWGPU_REPO/include/uapi/drm" \
			-I/usr/include/libdrm -o "$ub/ktap/mesa-client" \
			"$SWGPU_REPO/tools/mesa/mesa-client.c" -lgbm -lEGL -lGLESv2 \
			2>"$ub/ktap/mesa-client.err"; then
			cat "$ub/ktap/mesa-client.err" >&2
			report "host-$arch" FAIL mesa-client-build "log: $ub/ktap/mesa-client.err"
		fi
	fi
	if [[ -f "$SWGPU_REPO/igt-tests/Makefile" ]] &&
		! env "${env_[@]}" make -C "$SWGPU_REPO/igt-tests" O="$ub/igt" -j"$(nproc)" \
			>"$ub/igt-build.log" 2>&1; then
		cat "$ub/igt-build.log" >&2
		report "host-$arch" FAIL igt-build "log: $ub/igt-build.log"
	fi
	for runner in "${runners[@]}"; do
		src="$SWGPU_REPO/tools/ktap/$runner.c"
		[[ -f "$src" ]] || src="$SWGPU_REPO/tools/tiers/$runner.c"
		[[ -f "$src" ]] || src="$SWGPU_REPO/tools/kbugs/$runner.c"
		if ! "${cc[@]}" -Wall -Wextra -Werror -O2 -pthread -I"$SWGPU_REPO/include/uapi/drm" \
			-I/usr/include/libdrm -o "$ub/ktap/$runner" "$src" \
			2>"$ub/ktap/$runner.err"; then
			cat "$ub/ktap/$runner.err" >&2
			report "host-$arch" FAIL "$runner-build" "log: $ub/ktap/$runner.err"
		fi
	done
}
arches=()
for name in "${kernels[@]}"; do
	kernel_row "$name"
	[[ " ${arches[*]} " == *" $K_ARCH "* ]] || arches+=("$K_ARCH")
done
for arch in "${arches[@]}"; do
	build_userspace "$arch"
done

# Upstream IGT (tools/upstream-igt.sh), built once for every kernel. The
# selection runs it when it names no test, "upstream_igt", or one of its
# tests (then only that one).
UPSTREAM_IGT="" UPSTREAM_IGT_SKIP="" UPSTREAM_IGT_TESTS=() UPSTREAM_IGT_ONLY=0
mapfile -t UPSTREAM_IGT_TESTS < <("$SWGPU_REPO/tools/upstream-igt.sh" tests)
SWGPU_IGT_NEED_SW_SYNC="$("$SWGPU_REPO/tools/upstream-igt.sh" needs-sw-sync | paste -sd,)"
SWGPU_IGT_NEED_VKMS="$("$SWGPU_REPO/tools/upstream-igt.sh" needs-vkms | paste -sd,)"
export SWGPU_IGT_NEED_SW_SYNC SWGPU_IGT_NEED_VKMS
if [[ "$test" == upstream_igt ]]; then
	UPSTREAM_IGT_ONLY=1
elif [[ -n "$test" && " ${UPSTREAM_IGT_TESTS[*]} " == *" ${test%%:*} "* ]]; then
	UPSTREAM_IGT_ONLY=1 UPSTREAM_IGT_TESTS=("${test/:/@}")
elif [[ -n "$test" ]]; then
	UPSTREAM_IGT_SKIP="not selected"
fi
if [[ -z "$UPSTREAM_IGT_SKIP" && " ${arches[*]} " == *" x86_64 "* ]]; then
	rc=0
	UPSTREAM_IGT="$("$SWGPU_REPO/tools/upstream-igt.sh" build \
		2>"$SWGPU_BUILD/upstream-igt.err")" || rc=$?
	if ((rc == 3)); then
		UPSTREAM_IGT_SKIP="$(tail -n1 "$SWGPU_BUILD/upstream-igt.err")"
	elif ((rc != 0)); then
		sed 's/^/    /' "$SWGPU_BUILD/upstream-igt.err" | tail -n 30
		report host FAIL upstream-igt-build "log: $SWGPU_BUILD/upstream-igt.err"
		UPSTREAM_IGT_SKIP="its build failed"
	fi
fi
# Our igt-tests built against the real libigt (check_real_igt), once.
REAL_IGT_DIR="" REAL_IGT_SKIP=""
if [[ -n "$UPSTREAM_IGT" && -z "$UPSTREAM_IGT_SKIP" ]] && ((!UPSTREAM_IGT_ONLY)); then
	REAL_IGT_DIR="$SWGPU_BUILD/igt-real"
	rm -rf "$REAL_IGT_DIR"
	if ! "$SWGPU_REPO/tools/upstream-igt.sh" ours "$UPSTREAM_IGT" "$REAL_IGT_DIR" \
		2>"$SWGPU_BUILD/igt-real.err"; then
		sed 's/^/    /' "$SWGPU_BUILD/igt-real.err" | tail -n 30
		report host FAIL igt-tests-with-real-libigt-build "log: $REAL_IGT_DIR/build.log"
		REAL_IGT_SKIP="their build against upstream IGT failed"
	fi
elif [[ -n "$UPSTREAM_IGT_SKIP" ]]; then
	REAL_IGT_SKIP="no upstream IGT: $UPSTREAM_IGT_SKIP"
fi

# The IGT binaries of a user-space build directory that the selection
# wants: binaries for the main run, own_boot_binaries for their own boots.
select_binaries() {
	local bin
	binaries=() own_boot_binaries=()
	for bin in "$1"/swgpu_*; do
		[[ -f "$bin" && -x "$bin" ]] || continue
		[[ -z "$test" || "$(basename "$bin")" == "${test%%:*}" ]] || continue
		if [[ " ${OWN_BOOT_TESTS[*]} " == *" $(basename "$bin") "* ]]; then
			own_boot_binaries+=("$(basename "$bin")")
		else
			binaries+=("$(basename "$bin")")
		fi
	done
}

# Style is checked once, against the kernel's own checkpatch.pl.
if [[ -z "$test" ]]; then
	if "$SWGPU_REPO/tools/checkpatch.sh" >"$SWGPU_BUILD/checkpatch.log" 2>&1; then
		report host PASS checkpatch
	else
		sed 's/^/    /' "$SWGPU_BUILD/checkpatch.log"
		report host FAIL checkpatch "log: $SWGPU_BUILD/checkpatch.log"
	fi
fi

is_ktap_suite=0
for suite in "${KTAP_SUITES[@]}"; do
	[[ "${test%%:*}" == "$suite" ]] && is_ktap_suite=1
done
select_binaries "$SWGPU_BUILD/igt"
# The main run is wanted unless the selection names only an own-boot test
# or upstream IGT.
main_suite=1
if [[ "$test" == install || " ${OWN_GUEST_KBUGS[*]} " == *" $test "* ]]; then
	main_suite=0
elif [[ -n "$test" && ${#binaries[@]} -eq 0 && $is_ktap_suite == 0 ]]; then
	main_suite=0
	((${#own_boot_binaries[@]} || UPSTREAM_IGT_ONLY)) ||
		report host FAIL "${test%%:*}" "no such test binary in $SWGPU_BUILD/igt"
fi

# ---- one kernel ----

# run_suite TAG NAME KO SELECTION: boot kernel NAME with module KO, run
# the selected tests (BINARY[:SUBTEST] or a comma list) and judge the
# results under TAG. Extra guest settings come from the caller's exported
# SWGPU_* variables; extra boot.sh options from suite_boot_args, and a
# command to wrap the guest's test script in from suite_guest_wrapper, and
# the directory of the test binaries from suite_igt_dir (default: ours).
suite_boot_args=() suite_guest_wrapper=() suite_igt_dir=""
run_suite() {
	local tag="$1" name="$2" ko="$3" selection="$4" res guest ub kdir
	res="$SWGPU_BUILD/results/${tag//\//-}"
	rm -rf "$res"
	mkdir -p "$res"
	kdir="$("$VM/fetch-kernel.sh" "$name" 2>/dev/null)"
	if [[ "$(cat "$kdir/arch")" == i386 ]]; then
		ub="$SWGPU_BUILD/i386"
		# busybox has no kmod: the module's dependencies are resolved
		# here, in insmod order.
		local deps dep
		deps="$(modinfo -F depends "$ko" | tr ',' ' ')"
		for dep in $deps; do
			modprobe --show-depends -d "$kdir/root" -S "$(cat "$kdir/release")" "$dep" |
				awk '$1 == "insmod" { print $2 }'
		done | awk '!seen[$0]++' >"$res/modules.load"
		guest=("${suite_guest_wrapper[@]}" sh "$SWGPU_REPO/tools/tiers/guest-highmem.sh"
			"$res/modules.load" "$ko" "$ub/igt" "$ub/ktap")
	else
		ub="$SWGPU_BUILD"
		guest=("${suite_guest_wrapper[@]}" "$VM/guest-tests.sh" "$ko"
			"${suite_igt_dir:-$ub/igt}" "$ub/ktap")
	fi
	[[ -n "$selection" ]] && guest+=("$selection")
	boot_args=(--kernel "$name" --out "$res" --timeout "$vm_timeout")
	((verbose)) && boot_args+=(--verbose)
	boot_args+=("${suite_boot_args[@]}")
	log "running the tests on $name ($tag)"
	boot_guest "$tag" "$res" swgpu "${boot_args[@]}" -- "${guest[@]}"
	judge_results "$tag" "$res" "$boot_rc"
}

# column_tests COLUMN: of the upstream tests on stdin, those that COLUMN
# runs. native: no DRIVER_VGEM test (kms_prime's basic-crc-vgem is one;
# its hybrid subtests want two DRIVER_ANY devices, and IGT admits vkms
# as one only when it is IGT_FORCE_DRIVER, which then admits no other).
# The two vgem columns: no syncobj_* (the in-tree vgem has no syncobjs;
# swgpu as vgem is the same code), and of kms_prime basic-crc-vgem. A
# "test@subtest" line is kept where its test is.
column_tests() {
	local t
	while read -r t; do
		case "$1:${t%%@*}" in
		native:vgem_basic | native:vgem_slow | native:dmabuf_sync_file | native:kms_prime) ;;
		vgem*:syncobj_*) ;;
		vgem*:kms_prime) [[ "$t" == *@* ]] && echo "$t" || echo kms_prime@basic-crc-vgem ;;
		*) echo "$t" ;;
		esac
	done
}

# check_upstream_igt NAME KO: upstream IGT's tests on kernel NAME, three
# boots, three columns: the in-tree vgem, swgpu as "vgem" (built as
# vgem.ko, which IGT loads and unloads by that name in place of the
# in-tree one) and swgpu.ko under its own name (DRIVER_ANY tests only;
# the in-tree vgem blacklisted). Judged by
# tools/upstream-igt-judge.py: swgpu must pass what the in-tree vgem
# passes. Results and table.txt in build/results/NAME-igt/.
check_upstream_igt() {
	local name="$1" ko="$2" top col res boot_rc tests status tag sub detail as_vgem mod
	if [[ -n "$UPSTREAM_IGT_SKIP" ]]; then
		[[ "$UPSTREAM_IGT_SKIP" == "not selected" ]] ||
			report "$name" SKIP upstream-igt "$UPSTREAM_IGT_SKIP"
		return
	fi
	if [[ "$arch" != x86_64 ]]; then
		report "$name" SKIP upstream-igt "IGT's tests are dynamically linked x86_64 programs; this guest is $arch busybox"
		return
	fi
	# By default on every kernel users run (the table's Debian kernels)
	# and on the igt tier, which has what they lack (vkms, SW_SYNC);
	# SWGPU_UPSTREAM_IGT_KERNELS names others ("all": every tier too), and
	# TEST=upstream_igt runs it on whatever kernel is named.
	local k run=0
	for k in ${SWGPU_UPSTREAM_IGT_KERNELS:-debian igt}; do
		case "$k" in
		all) run=1 ;;
		debian) [[ "$K_SUITE" == tier ]] || run=1 ;;
		"$name") run=1 ;;
		esac
	done
	if ((!UPSTREAM_IGT_ONLY && !run)); then
		report "$name" SKIP upstream-igt "a test tier: upstream IGT runs on the Debian kernels and the igt tier; SWGPU_UPSTREAM_IGT_KERNELS=all (or naming $name) runs it here too"
		return
	fi
	# The same sources were built with sparse for swgpu.ko already.
	if ! as_vgem="$(SWGPU_MODNAME=vgem SWGPU_SPARSE=0 "$SWGPU_REPO/tools/build-module.sh" \
		"$name" "$SWGPU_BUILD/$name/as-vgem" 2>"$SWGPU_BUILD/$name/as-vgem.err")"; then
		sed 's/^/    /' "$SWGPU_BUILD/$name/as-vgem.err" | tail -n 30
		report "$name" FAIL module-build-as-vgem "log: $SWGPU_BUILD/$name/as-vgem/build.log"
		return
	fi
	top="$SWGPU_BUILD/results/$name-igt"
	rm -rf "$top"
	for col in vgem vgem_compat native; do
		mod="$ko"
		[[ $col == vgem_compat ]] && mod="$as_vgem"
		res="$top/$col"
		tests="$(printf '%s\n' "${UPSTREAM_IGT_TESTS[@]}" | column_tests "$col" | paste -sd,)" || true
		[[ -n "$tests" ]] || continue
		mkdir -p "$res"
		log "running upstream IGT on $name ($col)"
		SWGPU_APPEND="${SWGPU_APPEND:+$SWGPU_APPEND }$([[ $col != native ]] || echo module_blacklist=vgem)" \
			boot_guest "$name/igt-$col" "$res" "$([[ $col == native ]] && echo swgpu || echo vgem)" \
			--kernel "$name" --out "$res" --timeout "$vm_timeout" --icount \
			-- "$VM/guest-igt.sh" "$col" "$mod" "$UPSTREAM_IGT" "$tests"
		binaries=()
		judge_results "$name/igt-$col" "$res" "$boot_rc"
	done
	while IFS=$'\t' read -r status tag sub detail; do
		real_tests=$((real_tests + 1))
		report "$tag" "$status" "$sub" "$detail"
	done < <(python3 "$SWGPU_REPO/tools/upstream-igt-judge.py" "$name" "$top")
	log "upstream IGT on $name: table in $top/table.txt"
}

# check_real_igt NAME KO: our IGT binaries of the main run, built against
# upstream IGT's libigt (tools/upstream-igt.sh ours), boot once more and
# must give every subtest the result the main run gave with lib/: where
# they differ, lib/ is wrong about IGT. Results in NAME-real-igt/. The
# library does not depend on the kernel, so by default this runs on 7.2
# only (SWGPU_REAL_IGT_KERNELS: names, or "all").
check_real_igt() {
	local name="$1" ko="$2" kernels="${SWGPU_REAL_IGT_KERNELS:-7.2}" bin a b diff
	[[ "$kernels" == all || " $kernels " == *" $name "* ]] || return 0
	if [[ -n "$REAL_IGT_SKIP" ]]; then
		report "$name" SKIP igt-tests-with-real-libigt "$REAL_IGT_SKIP"
		return
	fi
	[[ -n "$REAL_IGT_DIR" && "$arch" == x86_64 && ${#binaries[@]} -gt 0 ]] || return 0
	local main_bins=("${binaries[@]}")
	suite_igt_dir="$REAL_IGT_DIR"
	run_suite "$name/real-igt" "$name" "$ko" "$(IFS=,; echo "${main_bins[*]}")"
	suite_igt_dir=""
	for bin in "${main_bins[@]}"; do
		a="$SWGPU_BUILD/results/$name/$bin.log"
		b="$SWGPU_BUILD/results/$name-real-igt/$bin.log"
		[[ -f "$a" && -f "$b" ]] || continue
		if diff="$(diff <(parse_igt "$bin" "$a" | sort) <(parse_igt "$bin" "$b" | sort))"; then
			report "$name/real-igt" PASS "$bin-same-results"
		else
			report "$name/real-igt" FAIL "$bin-same-results" \
				"lib/ and upstream libigt differ (< lib/, > libigt): $(grep '^[<>]' <<<"$diff" | head -n 6 | paste -sd';')"
		fi
	done
}

# check_kbug_vgem NAME: the vgem-highmem-wc reproducer on i386 HIGHMEM
# kernel NAME, in a guest of its own: where the bug is, the guest oopses
# by design (judge_kbug_oops tells that oops from any other end). An oops
# once the reproducer has started is its result and never retried; a
# guest that died before it started (a boot panic under TCG) is an
# infrastructure fault, retried once as run_suite does. Results in
# build/results/NAME-kbug_vgem/.
check_kbug_vgem() {
	local name="$1" kdir res boot_rc=0
	res="$SWGPU_BUILD/results/$name-kbug_vgem"
	rm -rf "$res"
	mkdir -p "$res"
	kdir="$("$VM/fetch-kernel.sh" "$name" 2>/dev/null)"
	modprobe --show-depends -d "$kdir/root" -S "$(cat "$kdir/release")" vgem |
		awk '$1 == "insmod" { print $2 }' >"$res/modules.load"
	if ! grep -q '/vgem\.ko' "$res/modules.load"; then
		report "$name" FAIL kbug/vgem-highmem-wc "this tier has no vgem module (CONFIG_DRM_VGEM=m in tools/tiers/base.config)"
		return
	fi
	log "running the vgem-highmem-wc reproducer on $name (the guest may oops by design)"
	# 600 s a run at most: it boots, loads and maps one buffer.
	local boot=("$VM/boot.sh" --kernel "$name" --out "$res" --timeout "$((600 * K_SLOW))"
		-- sh "$SWGPU_REPO/tools/tiers/guest-kbug-vgem.sh" "$res/modules.load"
		"$SWGPU_BUILD/i386/ktap")
	"${boot[@]}" >/dev/null 2>&1 || boot_rc=$?
	if ((boot_rc == 125)) &&
		! grep -qF "guest-kbug-vgem: running the reproducer" "$res/console.log" 2>/dev/null; then
		mv "$res/console.log" "$res/console.infra-fault.log"
		report "$name" INFRA kbug_vgem "the guest died before the reproducer started; console: $res/console.infra-fault.log; retrying once"
		boot_rc=0
		"${boot[@]}" >/dev/null 2>&1 || boot_rc=$?
	fi
	judge_kbug_oops "$name" "$res" "$boot_rc" vgem-highmem-wc \
		"guest-kbug-vgem: running the reproducer" \
		'BUG: kernel NULL pointer dereference|Oops'
}

# mesa_root NAME: on the kernels of SWGPU_MESA_SID_KERNELS (default
# "7.2", unstable's own kernel; names, or "all"), when the Mesa client or
# the weston test runs, export SWGPU_MESA_ROOT: a root with unstable's
# Mesa and weston (tools/mesa/mesa-root.sh), in which guest-tests.sh runs
# them a second time (results mesa-sid/..., weston-sid/...). x86_64
# guests only.
mesa_root() {
	local name="$1" sid_kernels="${SWGPU_MESA_SID_KERNELS:-7.2}" root
	unset SWGPU_MESA_ROOT SWGPU_MESA_ROOT_NAME
	[[ "$arch" == x86_64 && ( -z "$test" || "${test%%:*}" == mesa ||
		"${test%%:*}" == weston ) ]] || return 0
	[[ "$sid_kernels" == all || " $sid_kernels " == *" $name "* ]] || return 0
	if root="$("$SWGPU_REPO/tools/mesa/mesa-root.sh" sid \
		2>"$SWGPU_BUILD/$name/mesa-root.err")"; then
		export SWGPU_MESA_ROOT="$root" SWGPU_MESA_ROOT_NAME=sid
	else
		tail -n 20 "$SWGPU_BUILD/$name/mesa-root.err" | sed 's/^/    /'
		report "$name" FAIL mesa-sid-root "log: $SWGPU_BUILD/$name/mesa-root.err"
	fi
}

# check_kernel NAME: everything for one kernel; prints its result lines
# and, last, "#counts PASSED FAILED SKIPPED KNOWN REAL".
check_kernel() {
	local name="$1" kdir kos ko selection bin arch ub
	# A job of its own: it counts its own results only.
	passed=0 failed=0 skipped=0 known=0 real_tests=0
	kernel_row "$name"
	[[ -z "$K_LACKS" ]] || log "$name lacks: $K_LACKS (the tests of those skip there, saying why)"
	mkdir -p "$SWGPU_BUILD/$name"
	if ! kdir="$("$VM/fetch-kernel.sh" "$name" 2>"$SWGPU_BUILD/$name/fetch.err")"; then
		sed 's/^/    /' "$SWGPU_BUILD/$name/fetch.err" | tail -n 20
		report "$name" FAIL kernel-fetch "log: $SWGPU_BUILD/$name/fetch.err"
		echo "#counts $passed $failed $skipped $known $real_tests"
		return
	fi
	arch="$(cat "$kdir/arch")"
	# The fuzzer (swgpu_fuzz) runs SWGPU_FUZZ_TIME seconds for each seed
	# of SWGPU_FUZZ_SEEDS (make fuzz sets both; no seed: one from the
	# clock): by default 30 s, 120 s on slow kernels (the debug tier,
	# where KASAN, lockdep and kmemleak watch it). The timeouts grow by
	# what it was asked for.
	local fuzz_seeds fuzz_s
	export SWGPU_FUZZ_TIME="${SWGPU_FUZZ_TIME:-$((K_SLOW > 1 ? 120 : 30))}"
	fuzz_seeds="$(tr ', ' '\n\n' <<<"${SWGPU_FUZZ_SEEDS:-clock}" | grep -c . || true)"
	((fuzz_seeds > 0)) || fuzz_seeds=1
	fuzz_s=$((fuzz_seeds * SWGPU_FUZZ_TIME))
	export SWGPU_TEST_TIMEOUT="${SWGPU_TEST_TIMEOUT:-$((600 * K_SLOW + fuzz_s))}"
	vm_timeout="${SWGPU_VM_TIMEOUT:-$((1800 * K_SLOW + fuzz_s))}"
	if ! kos="$("$SWGPU_REPO/tools/build-module.sh" "$name" "$SWGPU_BUILD/$name" \
		2>"$SWGPU_BUILD/$name/build-module.err")"; then
		sed 's/^/    /' "$SWGPU_BUILD/$name/build-module.err" | tail -n 30
		report "$name" FAIL module-build "log: $SWGPU_BUILD/$name/build.log"
		echo "#counts $passed $failed $skipped $known $real_tests"
		return
	fi
	ko="$(grep '/swgpu\.ko$' <<<"$kos" || head -n1 <<<"$kos")"
	ub="$SWGPU_BUILD"
	[[ "$arch" == i386 ]] && ub="$SWGPU_BUILD/i386"

	select_binaries "$ub/igt"
	mesa_root "$name"
	((main_suite)) && run_suite "$name" "$name" "$ko" "$test"
	[[ -z "$test" ]] && check_real_igt "$name" "$ko"

	# The memory pressure suite: a small guest with a swap disk (a
	# sparse image, gone afterwards), then one without swap; the same
	# POSIX sh wrapper in the x86_64 guests' chroot and under the i386
	# guest's busybox.
	if ((${#own_boot_binaries[@]})); then
		local mode swap_img="$SWGPU_BUILD/$name/pressure-swap.img" pmem=256M
		local papp="${SWGPU_APPEND:-}" ptimeout="$SWGPU_TEST_TIMEOUT"
		((K_SLOW > 1)) && pmem=384M
		if [[ "$arch" == i386 ]]; then
			# Its swap boot moves 1.4x the data of an x86_64 one,
			# every kernel access through a kmap slot: 516 s of
			# swgpu_pressure with two cores shared by ten QEMUs'
			# worth of load, too close to the 600 s default.
			# Twice that stays below the boot's own timeout.
			ptimeout=$((SWGPU_TEST_TIMEOUT * 2))
			# A HIGHMEM guest must have most of its memory in
			# highmem, or its pages would mostly be lowmem and the
			# suite would prove little about kmap. Lowmem is what
			# is left of the 1 GiB kernel space after vmalloc's
			# reserve: vmalloc=880M leaves ~105 MiB of it. Measured
			# at 384M: MemTotal 365 MiB, HighTotal 260 MiB,
			# LowTotal 105 MiB (the default split would make
			# all 384M lowmem, and 1G only 140 MiB highmem).
			pmem=384M
			papp="vmalloc=880M${papp:+ $papp}"
		fi
		binaries=("${own_boot_binaries[@]}")
		selection="$test"
		[[ -n "$selection" ]] || selection="$(IFS=,; echo "${binaries[*]}")"
		for mode in swap noswap; do
			suite_boot_args=(--mem "${SWGPU_PRESSURE_MEM:-$pmem}")
			if [[ "$mode" == swap ]]; then
				rm -f "$swap_img"
				truncate -s 1G "$swap_img"
				suite_boot_args+=(--disk "$swap_img")
			fi
			suite_guest_wrapper=(sh "$VM/guest-pressure.sh" "$mode")
			SWGPU_APPEND="$papp" SWGPU_TEST_TIMEOUT="$ptimeout" \
				run_suite "$name/pressure-$mode" "$name" "$ko" "$selection"
			rm -f "$swap_img"
		done
		suite_boot_args=() suite_guest_wrapper=()
	fi

	if [[ -z "$test" || "$test" == kbug_vgem ]]; then
		if [[ "$arch" == i386 ]]; then
			check_kbug_vgem "$name"
		elif [[ "$test" == kbug_vgem ]]; then
			report "$name" SKIP kbug/vgem-highmem-wc "the bug needs a 32-bit HIGHMEM kernel; $name is $arch"
		fi
	fi

	check_upstream_igt "$name" "$ko"

	# TEST=mesa, TEST=weston: their vgem_compat boot too.
	if [[ ( "${test%%:*}" == mesa || "${test%%:*}" == weston ) && "$arch" == x86_64 ]]; then
		binaries=()
		SWGPU_MODULE_PARAMS="vgem_compat=1" SWGPU_NO_VGEM=1 \
			SWGPU_TEST_DRIVER_NAME=vgem \
			run_suite "$name/vgem_compat" "$name" "$ko" "${test%%:*}"
	fi

	if [[ -z "$test" ]]; then
		binaries=()
		for bin in "${COMPAT_TESTS[@]}"; do
			[[ -x "$ub/igt/$bin" ]] && binaries+=("$bin")
		done
		selection="$(IFS=,; echo "${binaries[*]}")"
		# The Mesa client and weston too: Mesa treats a device named
		# vgem apart (weston's GL renderer is on swgpu only there).
		[[ "$arch" == x86_64 ]] && selection+=",mesa,weston"
		SWGPU_MODULE_PARAMS="vgem_compat=1" SWGPU_NO_VGEM=1 \
			SWGPU_TEST_DRIVER_NAME=vgem \
			run_suite "$name/vgem_compat" "$name" "$ko" "$selection"

		# The benchmark runs tiny, so that it cannot rot; its figures
		# are not judged, only whether it ran. Its program is 64-bit.
		if [[ "$arch" != x86_64 ]]; then
			report "$name" SKIP bench-quick "the benchmark is a 64-bit program; this guest is $arch"
		elif "$SWGPU_REPO/tools/bench.sh" --quick --quiet --kernel "$name" \
			--out "$SWGPU_BUILD/bench/quick/$name" \
			>"$SWGPU_BUILD/$name/bench-quick.log" 2>&1; then
			report "$name" PASS bench-quick
		else
			tail -n 20 "$SWGPU_BUILD/$name/bench-quick.log" | sed 's/^/    /'
			report "$name" FAIL bench-quick "log: $SWGPU_BUILD/$name/bench-quick.log"
		fi
		if grep -q 'infrastructure fault' "$SWGPU_BUILD/$name/bench-quick.log"; then
			report "$name" INFRA bench-quick "a guest died before the module was loaded and was retried; log: $SWGPU_BUILD/$name/bench-quick.log"
		fi
	fi
	echo "#counts $passed $failed $skipped $known $real_tests"
}

# ---- every kernel, $max_jobs at a time ----
# Each kernel's lines are printed as soon as it and every job started
# before it are done; each job counts for itself and the counts are
# added up here.
pids=() reports=() shown=0

# show_done: print the reports of the finished jobs at the head of the list.
show_done() {
	local rep p f s k r t name kb
	while ((shown < ${#pids[@]})) && ! kill -0 "${pids[$shown]}" 2>/dev/null; do
		wait "${pids[$shown]}" || true
		rep="${reports[$shown]}" name="${job_names[$shown]}"
		shown=$((shown + 1))
		if ! grep -q '^#counts ' "$rep"; then
			cat "$rep"
			report "$name" FAIL harness "the kernel's job ended without counts"
			continue
		fi
		grep -v '^#' "$rep" || true
		read -r _ p f s k r < <(grep '^#counts ' "$rep")
		passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
		known=$((known + k)) real_tests=$((real_tests + r))
		t="$(sed -n 's/^#time //p' "$rep")"
		kb=""
		((k == 0)) || kb=", $k of them known kernel bugs"
		log "$name: $p passed, $f failed, $s skipped$kb in ${t}s"
	done
}

# The slow kernels (the debug tier: KASAN, lockdep and kmemleak under TCG)
# start first: their job is the longest, and started last it would run
# alone at the end while the other job slot sits idle.
job_names=()
for name in "${kernels[@]}"; do
	kernel_row "$name"
	((K_SLOW > 1)) && job_names+=("$name")
done
for name in "${kernels[@]}"; do
	kernel_row "$name"
	((K_SLOW > 1)) || job_names+=("$name")
done
((check_install)) && job_names+=(install)
for name in "${job_names[@]}"; do
	while (($(jobs -rp | wc -l) >= max_jobs)); do
		wait -n || true
		show_done
	done
	rep="$SWGPU_BUILD/results/$name.report"
	(
		start=$SECONDS
		if [[ "$name" == install ]]; then
			# Its own process; its counts come back in the same form.
			install_args=(--counts)
			((verbose)) && install_args+=(--verbose)
			"$SWGPU_REPO/tools/check-install.sh" "${install_args[@]}" || true
		else
			check_kernel "$name"
		fi
		echo "#time $((SECONDS - start))"
	) >"$rep" &
	pids+=($!)
	reports+=("$rep")
done
while ((shown < ${#pids[@]})); do
	wait -n || true
	show_done
done

((${#left_out[@]} == 0)) || log "left out: ${left_out[*]}"
if ((failed == 0 && real_tests == 0)); then
	report host FAIL no-tests "no IGT subtest or KTAP test case ran"
fi
if [[ -s "$SWGPU_RECAP" ]]; then
	echo "---- failures, known kernel bugs and infrastructure retries of this run ----"
	cat "$SWGPU_RECAP"
fi
((known == 0)) || echo "$known known kernel bugs reproduced (counted as skipped; docs/upstream/README.rst)"
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
