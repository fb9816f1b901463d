#!/usr/bin/env bash
# The test command for one kernel test tier:
#
#   tools/tiers/check-tier.sh [--test BINARY[:SUBTEST]] [--verbose] TIER
#
# TIER: debug (x86_64: lockdep, KASAN, kmemleak, atomic-sleep checks,
# fault injection) or highmem (i386 HIGHMEM4G with kmap debugging); see
# tools/tiers/TIER.config and docs/testing-tiers.rst. What tools/check.sh
# does for a Debian kernel, for the tier's own kernel:
#   1. build the kernel (tools/tiers/build-kernel.sh; cached),
#   2. build swgpu.ko and swgpu_cpu_access_test.ko against its build tree
#      (W=1, warnings fail) into build/TIER/,
#   3. build the IGT suite and the KTAP runners (x86_64: as check.sh does,
#      into build/TIER/; i386: gcc -m32 -static, into build/i386/),
#   4. boot it (tools/tiers/boot-tier.sh) and run the suite in the guest:
#      x86_64: tools/tiers/guest-tier.sh, i.e. tools/vm/guest-tests.sh plus
#      a kmemleak scan; i386: tools/tiers/guest-highmem.sh (busybox sh),
#   5. judge the results with check.sh's own functions (read from
#      tools/check.sh at run time, so the verdicts are the same), plus the
#      tier's cases in tier.ktap (kmemleak; highmem-present, highmem-pages).
# Results: build/results/TIER/. Prints "[TIER] PASS name" lines and, last,
# "N passed, N failed, N skipped"; exit 0 only if nothing failed and at
# least one real test ran.
#
# Env: SWGPU_TEST_TIMEOUT (s per test binary; debug 1800, highmem 600),
#      SWGPU_VM_TIMEOUT (s per boot; debug 5400, highmem 1800),
#      SWGPU_SPARSE=0|1 (default 0 here: check.sh runs sparse already),
#      SWGPU_MODULE_PARAMS, SWGPU_TIER_JOBS (make -j, default 2).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck disable=SC2034 # read by judge_results, taken from check.sh
VM="$SWGPU_REPO/tools/vm"
TIERS="$SWGPU_REPO/tools/tiers"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

test="" verbose=0 tier=""
while (($#)); do
	case "$1" in
	--test)    test="${2:?}"; shift 2 ;;
	--verbose) verbose=1; shift ;;
	-h|--help) usage ;;
	-*)        echo "unknown argument: $1" >&2; usage ;;
	*)         [[ -z "$tier" ]] || usage; tier="$1"; shift ;;
	esac
done
[[ -n "$tier" && -f "$TIERS/$tier.config" ]] || { echo "unknown tier: ${tier:-(none)}" >&2; usage; }
arch="$(sed -n 's/^#@ *arch: *//p' "$TIERS/$tier.config" | tail -n1)"
case "$arch" in
x86_64) def_test=1800 def_vm=5400 ;;
*)      def_test=600 def_vm=1800 ;;
esac
export SWGPU_TEST_TIMEOUT="${SWGPU_TEST_TIMEOUT:-$def_test}"
export SWGPU_SPARSE="${SWGPU_SPARSE:-0}"
vm_timeout="${SWGPU_VM_TIMEOUT:-$def_vm}"
TB="$SWGPU_BUILD/$tier"
# User space: 32-bit programs are shared by all i386 tiers.
UB="$TB"
[[ "$arch" == i386 ]] && UB="$SWGPU_BUILD/i386"
IGT="$UB/igt"
KTAP="$UB/ktap"
res="$SWGPU_BUILD/results/$tier"
KTAP_SUITES=(cpu_access module_lifetime highmem_pages)

passed=0 failed=0 skipped=0 real_tests=0
binaries=()

# check.sh's verdicts, taken from check.sh itself so that a tier judges
# exactly as the Debian kernels are judged. (Ask: move these functions to a
# sourced tools/judge.sh; then this becomes `. "$SWGPU_REPO/tools/judge.sh"`.)
judge_funcs=(report parse_igt parse_ktap judge_binary judge_results)
eval "$(awk -v names="${judge_funcs[*]}" '
	BEGIN { n = split(names, a, " "); for (i = 1; i <= n; i++) want[a[i] "()"] = 1 }
	!infn && $1 in want && $2 == "{" { infn = 1 }
	infn { print }
	infn && /^}/ { infn = 0 }' "$SWGPU_REPO/tools/check.sh")"
for f in "${judge_funcs[@]}"; do
	declare -F "$f" >/dev/null || die "tools/check.sh no longer defines $f(); update check-tier.sh"
done

ensure_packages "${SWGPU_HOST_PACKAGES[@]}"
[[ "$arch" == i386 ]] && ensure_packages gcc-multilib
mkdir -p "$TB" "$UB" "$KTAP"

# 1. the kernel
log "tier $tier: kernel (a cold build takes 10-25 minutes; cached afterwards)"
if ! KDIR="$("$TIERS/build-kernel.sh" "$tier")"; then
	report "$tier" FAIL kernel-build
	echo "$passed passed, $failed failed, $skipped skipped"
	exit 1
fi
release="$(cat "$KDIR/release")"
log "tier $tier: kernel $release in $KDIR"

# 2. user space
if [[ "$arch" == x86_64 ]]; then
	igt_env=()
	runner_cc=(gcc)
else
	# Environment, not make arguments: igt-tests/Makefile appends its own
	# flags with +=, which a command-line CFLAGS/LDFLAGS would override.
	igt_env=(CC="gcc -m32" CPPFLAGS="-D_FILE_OFFSET_BITS=64" LDFLAGS="-static")
	runner_cc=(gcc -m32 -static -D_FILE_OFFSET_BITS=64)
fi
mkdir -p "$IGT"
if ! env "${igt_env[@]}" nice -n 19 make -k -C "$SWGPU_REPO/igt-tests" O="$IGT" \
	-j"${SWGPU_TIER_JOBS:-2}" >"$UB/igt-build.log" 2>&1; then
	grep -E 'error|warning' "$UB/igt-build.log" | sed 's/^/    /' | head -n 20
	report "$tier" FAIL igt-build "log: $UB/igt-build.log"
	# A binary that failed to rebuild must not run from an older build.
	for bin in "$IGT"/swgpu_*; do
		[[ -f "$bin" && -x "$bin" ]] || continue
		env "${igt_env[@]}" make -s -q -C "$SWGPU_REPO/igt-tests" O="$IGT" "$bin" \
			>/dev/null 2>&1 || rm -f "$bin"
	done
fi
for bin in "$IGT"/swgpu_*; do
	[[ -f "$bin" && -x "$bin" ]] || continue
	[[ -z "$test" || "$(basename "$bin")" == "${test%%:*}" ]] || continue
	binaries+=("$(basename "$bin")")
done
runners=(cpu-access-runner module-lifetime-runner)
[[ "$arch" == i386 ]] && runners+=(highmem-probe)
for runner in "${runners[@]}"; do
	src="$SWGPU_REPO/tools/ktap/$runner.c"
	[[ -f "$src" ]] || src="$TIERS/$runner.c"
	if ! "${runner_cc[@]}" -Wall -Wextra -Werror -O2 -I"$SWGPU_REPO/include/uapi/drm" \
		-I/usr/include/libdrm -o "$KTAP/$runner" "$src" 2>"$KTAP/$runner.err"; then
		sed 's/^/    /' "$KTAP/$runner.err"
		report "$tier" FAIL "$runner-build" "log: $KTAP/$runner.err"
	fi
done

is_ktap_suite=0
for suite in "${KTAP_SUITES[@]}"; do
	[[ "${test%%:*}" == "$suite" ]] && is_ktap_suite=1
done
if [[ -n "$test" && ${#binaries[@]} -eq 0 && $is_ktap_suite == 0 ]]; then
	report "$tier" FAIL "${test%%:*}" "no such test binary in $IGT"
fi

# 3. the module
if ! kos="$("$TIERS/build-module-tier.sh" "$KDIR" "$TB" 2>"$TB/build-module.err")"; then
	sed 's/^/    /' "$TB/build-module.err" | tail -n 30
	report "$tier" FAIL module-build "log: $TB/build.log"
	echo "$passed passed, $failed failed, $skipped skipped"
	exit 1
fi
ko="$(grep '/swgpu\.ko$' <<<"$kos" || head -n1 <<<"$kos")"

# 4. boot and run
rm -rf "$res"
mkdir -p "$res"
boot_args=(--kdir "$KDIR" --out "$res" --timeout "$vm_timeout")
((verbose)) && boot_args+=(--verbose)
if [[ "$arch" == x86_64 ]]; then
	guest=("$TIERS/guest-tier.sh" "$ko" "$IGT" "$KTAP")
else
	# The guest has no kmod: resolve drm's dependencies here. vgem is
	# deliberately not in the list (guest-highmem.sh says why).
	loadlist="$TB/modules.load"
	deps="$(modinfo -F depends "$ko" | tr ',' ' ')"
	for dep in $deps; do
		modprobe --show-depends -d "$KDIR/modroot" -S "$release" "$dep" |
			awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++' >"$loadlist"
	guest=(sh "$TIERS/guest-highmem.sh" "$loadlist" "$ko" "$IGT" "$KTAP")
fi
[[ -n "$test" ]] && guest+=("$test")
log "tier $tier: running the tests on $release (slow: expect minutes)"
boot_rc=0
"$TIERS/boot-tier.sh" "${boot_args[@]}" -- "${guest[@]}" || boot_rc=$?
[[ -f "$res/.vm/timing" ]] && log "tier $tier: boot and run: $(cat "$res/.vm/timing")"

# 5. verdicts (judge_results also reads tier.ktap: "tier/..." cases)
judge_results "$tier" "$res" "$boot_rc"
if [[ -f "$res/tier-info.txt" ]]; then
	sed 's/^/    /' "$res/tier-info.txt"
fi

if ((failed == 0 && real_tests == 0)); then
	report "$tier" FAIL no-tests "no IGT subtest or KTAP test case ran"
fi
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
