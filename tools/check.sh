#!/usr/bin/env bash
# The test command (make check, .ci/run):
#
#   tools/check.sh [--kernel 6.1|6.12|debug|highmem|all] [--test BINARY[:SUBTEST]] [--verbose]
#
# For each kernel (default: all): fetch it, build the module against its
# headers (W=1, warnings fail), boot it under QEMU and run the IGT suite of
# igt-tests/ (built once, into build/igt) plus the harness checks
# (module-load, module-unload, kernel-log), the KTAP suites (kernel CPU
# access cases, module lifetime), checkpatch, and tools/bench.sh --quick
# (run, not judged). With --kernel all, also the test tiers whose kernels
# are built (tools/tiers/, docs/testing-tiers.rst). Results: build/results/$KVER/
# (NAME.log per test binary, dmesg.txt, console.log, *.ktap).
#
# Prints one line per result, "[6.12] PASS swgpu_basic/create-sizes", and as
# the very last line "N passed, N failed, N skipped". Exit 0 only when
# nothing failed and at least one real test (IGT subtest or KTAP case of a
# test module) ran.
#
# Env: SWGPU_TEST_TIMEOUT (s per test binary, default 600),
#      SWGPU_VM_TIMEOUT (s per boot, default 1800), SWGPU_SPARSE=0 (skip
#      sparse, which otherwise checks every module build),
#      SWGPU_MODULE_PARAMS ("name=value ..." for insmod of the module).
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
# Test tiers (tools/tiers/): kernels built here with the kernel's bug
# detectors (debug) and 32-bit HIGHMEM (highmem). --kernel all runs those
# whose kernel is already built (SWGPU_TIERS=0: none); naming one builds
# it if need be (about 15 minutes cold).
TIER_NAMES=(debug highmem)
tiers=()
case "$kernel" in
all)      kernels=("${SWGPU_KERNELS[@]}")
	  if [[ "${SWGPU_TIERS:-1}" != 0 ]]; then
		for t in "${TIER_NAMES[@]}"; do
			if "$SWGPU_REPO/tools/tiers/build-kernel.sh" --cached-only "$t" \
				>/dev/null 2>&1; then
				tiers+=("$t")
			else
				log "tier $t: its kernel is not built here, so it does not run (make tiers builds it)"
			fi
		done
	  fi ;;
6.1|6.12) kernels=("$kernel") ;;
debug|highmem) kernels=() tiers=("$kernel") ;;
*)        echo "unknown kernel: $kernel" >&2; usage ;;
esac
export SWGPU_TEST_TIMEOUT="${SWGPU_TEST_TIMEOUT:-600}"
export SWGPU_SPARSE="${SWGPU_SPARSE:-1}"
vm_timeout="${SWGPU_VM_TIMEOUT:-1800}"
IGT="$SWGPU_BUILD/igt"
KTAP="$SWGPU_BUILD/ktap"
# KTAP suites run in the guest after the IGT binaries (see guest-tests.sh).
KTAP_SUITES=(cpu_access module_lifetime)

passed=0 failed=0 skipped=0 real_tests=0

# report TAG PASS|FAIL|SKIP NAME [DETAIL]
report() {
	local tag="$1" status="$2" name="$3" detail="${4:-}"
	case "$status" in
	PASS) passed=$((passed + 1)) ;;
	FAIL) failed=$((failed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	esac
	echo "[$tag] $status $name${detail:+ ($detail)}"
}

# IGT stdout of one binary -> "RESULT NAME" lines. Dynamic subtests become
# binary/subtest@dynamic; their parent counts only if it failed by itself.
parse_igt() {
	awk -v bin="$1" '
	/^Starting subtest: / { parent = $3; next }
	/^Dynamic subtest [^ ]+: [A-Z]+/ {
		name = $3; sub(/:$/, "", name)
		print $4, bin "/" parent "@" name
		dyn[parent] = 1
		next
	}
	/^Subtest [^ ]+: [A-Z]+/ {
		name = $2; sub(/:$/, "", name)
		if (dyn[name] && ($3 == "SUCCESS" || $3 == "SKIP")) next
		print $3, bin "/" name
	}' "$2"
}

# KTAP file -> "PASS|FAIL|SKIP NAME" lines. Nested results are named
# suite/case; a parent line counts only if it failed with no failed child.
parse_ktap() {
	awk -v prefix="$1" '
	/^[ \t]*# Subtest: / {
		d = match($0, /[^ \t]/) - 1
		s = $0; sub(/^[ \t]*# Subtest: /, "", s)
		suite[d] = s
		next
	}
	/^[ \t]*(not )?ok [0-9]+/ {
		d = match($0, /[^ \t]/) - 1
		line = substr($0, d + 1)
		notok = (line ~ /^not ok/)
		sub(/^(not )?ok [0-9]+[ \t]*(- )?/, "", line)
		directive = ""
		if (match(line, /[ \t]*#/)) {
			directive = toupper(substr(line, RSTART + RLENGTH))
			line = substr(line, 1, RSTART - 1)
		}
		gsub(/^[ \t]+|[ \t]+$/, "", directive)
		name = (d in suite) ? suite[d] "/" line : line
		parent = (seen && last_d > d)
		seen = 1; last_d = d
		if (directive ~ /^(SKIP|TODO)/) { status = "SKIP" }
		else { status = notok ? "FAIL" : "PASS" }
		if (parent) {
			delete_deeper(d)
			hadfail = child_fail; child_fail = 0
			if (status != "FAIL" || hadfail) next
		} else if (status == "FAIL" && d > 0) {
			child_fail = 1
		}
		print status, prefix name
	}
	function delete_deeper(level,   k) {
		for (k in suite) if (k + 0 > level) delete suite[k]
	}' "$2"
}

# Judge one binary: its subtests, then its exit status.
judge_binary() {
	local tag="$1" res="$2" name="$3" rc="" status sub lines=0 fails=0
	local log="$res/$name.log"
	[[ -f "$res/$name.exit" ]] && rc="$(cat "$res/$name.exit")"
	if [[ -f "$log" ]]; then
		while read -r status sub; do
			lines=$((lines + 1))
			real_tests=$((real_tests + 1))
			case "$status" in
			SUCCESS) report "$tag" PASS "$sub" ;;
			SKIP)    report "$tag" SKIP "$sub" ;;
			*)       report "$tag" FAIL "$sub" "$status, log: $log"; fails=$((fails + 1)) ;;
			esac
		done < <(parse_igt "$name" "$log")
	fi
	case "$rc" in
	"")      report "$tag" FAIL "$name" "no exit status: it did not run or the VM died while it ran" ;;
	124|137) report "$tag" FAIL "$name" "killed after ${SWGPU_TEST_TIMEOUT}s, log: $log" ;;
	0|77)    ((lines > 0)) || report "$tag" FAIL "$name" "no subtest results (exit $rc), log: $log" ;;
	78|79|98|112)
	         ((fails > 0)) || report "$tag" FAIL "$name" "IGT exit $rc, log: $log" ;;
	*)       report "$tag" FAIL "$name" "exit $rc is not an IGT exit code, log: $log" ;;
	esac
	if ((verbose)) && [[ -f "$log" ]] && [[ "$rc" != 0 && "$rc" != 77 ]]; then
		tail -n 20 "$log" | sed 's/^/    /'
	fi
}

# Judge one kernel's results directory.
judge_results() {
	local tag="$1" res="$2" boot_rc="$3" bin f status name scan
	if [[ ! -f "$res/.vm/exit-status" ]]; then
		if ((boot_rc == 124)); then
			report "$tag" FAIL vm "timed out after ${vm_timeout}s; see $res/console.log"
		else
			report "$tag" FAIL vm "no exit status from the guest: panic, oops or VM failure; see $res/console.log"
		fi
	elif [[ "$(cat "$res/.vm/exit-status")" != 0 ]]; then
		report "$tag" FAIL guest-tests "exit $(cat "$res/.vm/exit-status"); see $res/console.log"
	fi
	for bin in "${binaries[@]}"; do
		judge_binary "$tag" "$res" "$bin"
	done
	for f in "$res"/*.ktap; do
		[[ -f "$f" ]] || continue
		name="$(basename "$f" .ktap)"
		[[ "$name" == harness ]] && prefix="" || prefix="$name/"
		while read -r status name; do
			[[ -n "$prefix" ]] && real_tests=$((real_tests + 1))
			report "$tag" "$status" "$name"
		done < <(parse_ktap "$prefix" "$f")
	done
	local log="$res/dmesg.txt"
	[[ -f "$log" ]] || log="$res/console.log"
	if scan="$("$VM/scan-log.sh" "$log" 2>&1)"; then
		report "$tag" PASS kernel-log
	else
		report "$tag" FAIL kernel-log "see $log"
		sed 's/^/    /' <<<"$scan"
	fi
}

ensure_packages "${SWGPU_HOST_PACKAGES[@]}"

# The user-space suite is built once: it does not depend on the kernel.
if [[ -f "$SWGPU_REPO/igt-tests/Makefile" ]]; then
	mkdir -p "$IGT"
	if ! make -C "$SWGPU_REPO/igt-tests" O="$IGT" -j"$(nproc)" >"$SWGPU_BUILD/igt-build.log" 2>&1; then
		cat "$SWGPU_BUILD/igt-build.log" >&2
		report host FAIL igt-build "log: $SWGPU_BUILD/igt-build.log"
	fi
else
	log "igt-tests/Makefile is absent: no IGT tests to build"
fi

binaries=()
for bin in "$IGT"/swgpu_*; do
	[[ -f "$bin" && -x "$bin" ]] || continue
	[[ -z "$test" || "$(basename "$bin")" == "${test%%:*}" ]] || continue
	binaries+=("$(basename "$bin")")
done
# The KTAP runners are plain user-space programs, built once too.
mkdir -p "$KTAP"
for runner in cpu-access-runner module-lifetime-runner; do
	if ! gcc -Wall -Wextra -Werror -O2 -I"$SWGPU_REPO/include/uapi/drm" \
		-I/usr/include/libdrm -o "$KTAP/$runner" \
		"$SWGPU_REPO/tools/ktap/$runner.c" 2>"$KTAP/$runner.err"; then
		cat "$KTAP/$runner.err" >&2
		report host FAIL "$runner-build" "log: $KTAP/$runner.err"
	fi
done

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
if [[ -n "$test" && ${#binaries[@]} -eq 0 && $is_ktap_suite == 0 ]]; then
	report host FAIL "${test%%:*}" "no such test binary in $IGT"
fi

# run_suite TAG SHORT KO SELECTION: boot kernel SHORT with module KO, run
# the selected tests (guest-tests.sh's BINARY[:SUBTEST] or a comma list)
# and judge the results under TAG. Extra guest settings come from the
# caller's exported SWGPU_* variables.
run_suite() {
	local tag="$1" short="$2" ko="$3" selection="$4" res boot_rc=0
	res="$SWGPU_BUILD/results/${tag//\//-}"
	rm -rf "$res"
	mkdir -p "$res"
	boot_args=(--kernel "$short" --out "$res" --timeout "$vm_timeout")
	((verbose)) && boot_args+=(--verbose)
	log "running the tests on $KVER ($tag)"
	guest=("$VM/guest-tests.sh" "$ko" "$IGT" "$KTAP")
	[[ -n "$selection" ]] && guest+=("$selection")
	"$VM/boot.sh" "${boot_args[@]}" -- "${guest[@]}" || boot_rc=$?
	judge_results "$tag" "$res" "$boot_rc"
}

# vgem_compat=1 runs this subset with swgpu registered as "vgem" and the
# in-tree vgem not loaded: unmodified vgem clients must find swgpu.
COMPAT_TESTS=(swgpu_basic swgpu_gem swgpu_prime swgpu_fence swgpu_cpu_access
	swgpu_device_files)

for short in "${kernels[@]}"; do
	tag="$short"
	resolve_kernel "$short"
	if ! "$VM/fetch-kernel.sh" "$short" >/dev/null; then
		report "$tag" FAIL kernel-fetch
		continue
	fi
	mkdir -p "$SWGPU_BUILD/$KVER"
	if ! kos="$("$SWGPU_REPO/tools/build-module.sh" "$KVER" "$SWGPU_BUILD/$KVER" \
		2>"$SWGPU_BUILD/$KVER/build-module.err")"; then
		sed 's/^/    /' "$SWGPU_BUILD/$KVER/build-module.err"
		report "$tag" FAIL module-build "log: $SWGPU_BUILD/$KVER/build.log"
		continue
	fi
	ko="$(grep '/swgpu\.ko$' <<<"$kos" || head -n1 <<<"$kos")"
	all_binaries=("${binaries[@]}")
	run_suite "$tag" "$short" "$ko" "$test"

	[[ -z "$test" ]] || continue
	binaries=()
	for bin in "${COMPAT_TESTS[@]}"; do
		[[ -x "$IGT/$bin" ]] && binaries+=("$bin")
	done
	selection="$(IFS=,; echo "${binaries[*]}")"
	SWGPU_MODULE_PARAMS="vgem_compat=1" SWGPU_NO_VGEM=1 \
		SWGPU_TEST_DRIVER_NAME=vgem \
		run_suite "$tag/vgem_compat" "$short" "$ko" "$selection"
	binaries=("${all_binaries[@]}")
done

# Each tier prints check.sh-style lines and its own summary: fold it in.
for t in "${tiers[@]}"; do
	targs=()
	[[ -n "$test" ]] && targs+=(--test "$test")
	((verbose)) && targs+=(--verbose)
	tier_out="$SWGPU_BUILD/tier-$t.log"
	"$SWGPU_REPO/tools/tiers/check-tier.sh" "${targs[@]}" "$t" >"$tier_out" 2>&1 || true
	grep -E '^\[' "$tier_out" || true
	summary="$(tail -n 1 "$tier_out")"
	if [[ "$summary" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
		skipped=$((skipped + BASH_REMATCH[3]))
		real_tests=$((real_tests + BASH_REMATCH[1]))
	else
		tail -n 20 "$tier_out" | sed 's/^/    /'
		report "$t" FAIL tier "no summary; log: $tier_out"
	fi
done

# The benchmark runs once, tiny, so that it cannot rot; its figures are
# not judged, only whether it ran.
if [[ -z "$test" && "$kernel" != debug && "$kernel" != highmem ]]; then
	if "$SWGPU_REPO/tools/bench.sh" --quick --quiet --kernel "$kernel" \
		>"$SWGPU_BUILD/bench-quick.log" 2>&1; then
		report host PASS bench-quick
	else
		tail -n 20 "$SWGPU_BUILD/bench-quick.log" | sed 's/^/    /'
		report host FAIL bench-quick "log: $SWGPU_BUILD/bench-quick.log"
	fi
fi

if ((failed == 0 && real_tests == 0)); then
	report host FAIL no-tests "no IGT subtest or KTAP test case ran"
fi
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
