#!/usr/bin/env bash
# The soak: the fuzzer and the memory pressure suite taking turns on one
# kernel for as long as asked (make soak; docs/testing.rst):
#
#   tools/soak.sh [--kernel NAME] [--time SECONDS] [--round SECONDS]
#
# A round is one fuzzer boot (tools/check.sh --test swgpu_fuzz) with a
# seed of its own, for ROUND seconds (default 600) or what is left of
# TIME if that is less (at least 60), then the memory pressure suite's
# two boots (--test swgpu_pressure: with a swap disk, without swap).
# Rounds start until TIME seconds (default 3600) have passed since the
# first, so a soak runs somewhat longer than TIME. NAME defaults to 6.12.
# The harness's checks hold in every boot as in make check: the module
# unloads, nothing is left in debugfs, the kernel log is clean.
#
# Each round's results stay in build/soak/ROUND/ (the check's output and
# its results directories). At the end it prints one line a round, the
# totals (seeds, fuzzer operations and their rate, integrity rounds,
# pages swapped out and in by the pressure suite) and, last,
# "N passed, N failed, N skipped" summed over the rounds.
# Exit: 0 when every round passed, 1 otherwise, 2 on bad arguments.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

kernel=6.12 total=3600 round=600
while (($#)); do
	case "$1" in
	--kernel) kernel="${2:?}"; shift 2 ;;
	--time)   total="${2:?}"; shift 2 ;;
	--round)  round="${2:?}"; shift 2 ;;
	-h|--help) usage ;;
	*)        echo "unknown argument: $1" >&2; usage ;;
	esac
done
[[ "$total" =~ ^[1-9][0-9]*$ && "$round" =~ ^[1-9][0-9]*$ ]] || {
	echo "soak: --time and --round take whole seconds" >&2
	usage
}
[[ "$kernel" != all && "$kernel" != *,* ]] || {
	echo "soak: one kernel at a time (--kernel NAME)" >&2
	usage
}

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
repo="$SWGPU_REPO" build="$SWGPU_BUILD"
soak="$build/soak"
rm -rf "$soak"
mkdir -p "$soak"

# A number of the last "N passed, N failed, N skipped" line of a log.
count() { sed -n "s/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped.*/\\$2/p" "$1" | tail -n1; }
# The sum of the numbers after WORD in lines matching RE of the files.
sum_after() {
	local re="$1" word="$2"
	shift 2
	cat "$@" 2>/dev/null | grep -E "$re" | grep -oE "${word}[0-9]+" |
		grep -oE '[0-9]+$' | awk '{ s += $1 } END { print s + 0 }'
}

start=$SECONDS n=0 passed=0 failed=0 skipped=0 seeds=()
while ((n == 0 || SECONDS - start < total)); do
	n=$((n + 1))
	dir="$soak/$n"
	mkdir -p "$dir"
	left=$((total - (SECONDS - start)))
	t=$((left < round ? left : round))
	((t >= 60)) || t=60
	seed="0x$(od -An -N8 -tx8 /dev/urandom | tr -d ' \n')"
	seeds+=("$seed")
	echo "soak: round $n: fuzzer seed $seed for $t s, then the pressure suite"
	rc=0
	SWGPU_FUZZ_SEEDS="$seed" SWGPU_FUZZ_TIME="$t" \
		"$repo/tools/check.sh" --kernel "$kernel" --test swgpu_fuzz \
		>"$dir/fuzz.out" 2>&1 || rc=1
	cp -a "$build/results/." "$dir/fuzz-results/"
	"$repo/tools/check.sh" --kernel "$kernel" --test swgpu_pressure \
		>"$dir/pressure.out" 2>&1 || rc=1
	cp -a "$build/results/." "$dir/pressure-results/"
	for part in fuzz pressure; do
		p=$(count "$dir/$part.out" 1) f=$(count "$dir/$part.out" 2) s=$(count "$dir/$part.out" 3)
		if [[ -z "$p" ]]; then
			# No summary line: the check itself broke.
			f=1 p=0 s=0
			echo "soak: round $n: $part: no summary line (see $dir/$part.out)"
		fi
		passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	done
	echo "soak: round $n: $( ((rc)) && echo FAILED || echo passed) ($((SECONDS - start)) s so far)"
done

fuzz_logs=("$soak"/*/fuzz-results/*/swgpu_fuzz.log)
press_logs=("$soak"/*/pressure-results/*-pressure-swap/swgpu_pressure.log)
ops=$(sum_after '^[0-9]+ operations in' '^' "${fuzz_logs[@]}")
fuzz_s=$(grep -hoE 'operations in [0-9.]+ s' "${fuzz_logs[@]}" 2>/dev/null |
	awk '{ s += $3 } END { printf "%.0f", s }')
integrity=$(sum_after '^integrity:' 'integrity: ' "${fuzz_logs[@]}")
echo "soak: $n rounds in $((SECONDS - start)) s on $kernel; seeds ${seeds[*]}"
echo "soak: fuzzer: $ops operations in ${fuzz_s:-0} s" \
	"($( ((${fuzz_s:-0} > 0)) && echo $((ops / fuzz_s)) || echo 0) ops/s)," \
	"$integrity write-and-verify rounds"
echo "soak: pressure (swap boots): pswpout +$(sum_after pswpout 'pswpout \+' "${press_logs[@]}")," \
	"pswpin +$(sum_after pswpin 'pswpin \+' "${press_logs[@]}") pages"
echo "soak: results in $soak"
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
