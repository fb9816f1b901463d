#!/usr/bin/env bash
# The benchmark (make bench):
#
#   tools/bench.sh [--kernel NAME|all] [--quick] [--out DIR] [--mem SIZE]
#                  [--verbose|--quiet] [-- BENCH-ARGS...]
#
# For each kernel (NAME: an x86_64 kernel of tools/kernels.conf; default
# all: every Debian kernel of the table): build swgpu.ko against it and the
# benchmark program tools/bench/ (once, into build/bench/swgpu-bench), boot
# the kernel under QEMU with --mem (default 2G: the 1 GiB cases need it),
# load drm, vgem and swgpu, and run the program, which compares swgpu with
# vgem, udmabuf and the system dma-heap (see `swgpu-bench --help` and
# docs/benchmarks.rst). Then, on the host, print a table per kernel
# (medians with their p10..p90 spread, and swgpu/peer ratios) and draw a
# PNG chart per kernel with gnuplot (installed from Debian if missing).
#
# --quick runs every figure a few times on small sizes (a smoke test, for
# make check: about 15 s a kernel). The program's progress (one line per
# figure) is shown as it runs, except with --quick (--verbose shows it
# there too) or --quiet. Anything after -- goes to the program (e.g.
# -- --only sync,prime; see tools/bench/bench.c or swgpu-bench --help).
# A full run takes about 2 minutes a kernel.
#
# Results: DIR (default build/bench/<date-time>/, with build/bench/latest
# pointing at it; --quick: build/bench/quick/), one folder per kernel ABI
# name with bench.tsv, bench.log, table.txt, chart.png, chart.dat,
# dmesg.txt, console.log; DIR/table.txt holds every kernel's table and
# DIR/source.txt the commit measured (git describe --always --dirty).
#
# Exit status: 0, or 1 if a run failed: module or program build, boot,
# module load, a failed operation in the program, or a kernel warning in
# the log. A figure, however bad, never fails the run.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
VM="$SWGPU_REPO/tools/vm"
BENCH_SRC="$SWGPU_REPO/tools/bench"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

kernel=all quick=0 out="" mem=2G verbose="" bench_args=()
while (($#)); do
	case "$1" in
	--kernel)  kernel="${2:?}"; shift 2 ;;
	--quick)   quick=1; shift ;;
	--out)     out="${2:?}"; shift 2 ;;
	--mem)     mem="${2:?}"; shift 2 ;;
	--verbose) verbose=1; shift ;;
	--quiet)   verbose=0; shift ;;
	--)        shift; bench_args=("$@"); break ;;
	-h|--help) usage ;;
	*)         echo "unknown argument: $1" >&2; usage ;;
	esac
done
kernels=()
if [[ "$kernel" == all ]]; then
	for name in $(kernel_names); do
		kernel_row "$name"
		[[ "$K_SUITE" == tier ]] || kernels+=("$name")
	done
else
	kernel_row "$kernel"
	[[ "$K_ARCH" == x86_64 ]] || die "the benchmark is a 64-bit program: $kernel is $K_ARCH"
	kernels=("$kernel")
fi
((quick)) && bench_args=(--quick "${bench_args[@]}")
[[ -n "$verbose" ]] || verbose=$((!quick))
if ((quick)); then vm_timeout=300; else vm_timeout=1500; fi
vm_timeout="${SWGPU_VM_TIMEOUT:-$vm_timeout}"

ensure_packages "${SWGPU_HOST_PACKAGES[@]}"
# The charts are a nicety: without gnuplot the run goes on without them.
charts=1
if ! (ensure_packages gnuplot-nox); then
	warn "gnuplot-nox could not be installed: no charts this time"
	charts=0
fi

# Results folder.
link=""
if [[ -z "$out" ]]; then
	if ((quick)); then
		out="$SWGPU_BUILD/bench/quick"
		rm -rf "$out"
	else
		out="$SWGPU_BUILD/bench/$(date +%Y%m%d-%H%M%S)"
		link="$SWGPU_BUILD/bench/latest"
	fi
fi
mkdir -p "$out"
out="$(cd "$out" && pwd)"
if [[ -n "$link" ]]; then
	ln -sfn "$(basename "$out")" "$link"
fi

# Which swgpu was measured: the tree's commit, "-dirty" if tracked files
# differ from it.
rev="$(git -C "$SWGPU_REPO" describe --always --dirty 2>/dev/null || echo unknown)"
echo "$rev" >"$out/source.txt"

# The program is plain user space: built once, on the host, under build/
# (the guest sees build/ at the same path; its /tmp is its own).
bench="$SWGPU_BUILD/bench/swgpu-bench"
mkdir -p "$(dirname "$bench")"
# Built beside it and renamed: make check runs two benchmarks at a time.
if ! gcc -std=gnu11 -O2 -g -Wall -Wextra -Werror \
	-I"$SWGPU_REPO/include/uapi/drm" -I/usr/include/libdrm \
	-o "$bench.$$" "$BENCH_SRC"/*.c -lm 2>"$out/bench-build.log"; then
	cat "$out/bench-build.log" >&2
	rm -f "$bench.$$"
	die "the benchmark program does not build (log: $out/bench-build.log)"
fi
mv "$bench.$$" "$bench"

# Guest side: load the modules, run the program, keep the kernel log. The
# program's stderr is its progress; it goes to bench.log and the console.
guest='
set -uo pipefail
load="$1" ko="$2" bench="$3"
shift 3
if ! "$load" "$ko" >"$SWGPU_OUT/load.log" 2>&1; then
	cat "$SWGPU_OUT/load.log"
	dmesg >"$SWGPU_OUT/dmesg.txt"
	exit 3
fi
"$bench" --out "$SWGPU_OUT" "$@" 2>&1 | tee "$SWGPU_OUT/bench.log"
rc=${PIPESTATUS[0]}
dmesg >"$SWGPU_OUT/dmesg.txt"
exit "$rc"'

failed=0
summary=()
: >"$out/table.txt"
for short in "${kernels[@]}"; do
	if ! kdir="$("$VM/fetch-kernel.sh" "$short")"; then
		summary+=("$short: FAIL: cannot fetch the kernel")
		failed=1
		continue
	fi
	KVER="$(cat "$kdir/release")"
	ko="$(module_ko "$short")" || { summary+=("$short: FAIL: module build"); failed=1; continue; }
	res="$out/$KVER"
	rm -rf "$res"
	mkdir -p "$res"
	log "benchmark on $KVER (--mem $mem$( ((quick)) && echo ', quick'))"
	start=$SECONDS
	infra=""
	for try in 1 2; do
		rc=0
		if ((verbose)); then
			# Only the program's lines, not the kernel's console chatter.
			"$VM/boot.sh" --kernel "$short" --out "$res" --mem "$mem" \
				--timeout "$vm_timeout" --verbose -- \
				bash -c "$guest" bench "$VM/guest-load.sh" "$ko" "$bench" \
				"${bench_args[@]}" 2>"$res/boot.log" |
				tr -d '\r' | grep --line-buffered -E '^(bench|  )' || rc=${PIPESTATUS[0]}
		else
			"$VM/boot.sh" --kernel "$short" --out "$res" --mem "$mem" \
				--timeout "$vm_timeout" -- \
				bash -c "$guest" bench "$VM/guest-load.sh" "$ko" "$bench" \
				"${bench_args[@]}" 2>"$res/boot.log" || rc=$?
		fi
		# A guest that died or hung before the module was loaded is an
		# infrastructure fault (tools/check.sh): once more, said.
		((try == 1 && rc == 125)) && ! grep -qs 'loaded swgpu' "$res/load.log" || break
		mv "$res/console.log" "$res/console.infra-fault.log"
		infra=" (retried once: the first guest died before the module was loaded, $res/console.infra-fault.log)"
		warn "$KVER: the guest died before the module was loaded: infrastructure fault, retrying once"
	done
	took=$((SECONDS - start))

	problems=()
	case "$rc" in
	0)   ;;
	1)   problems+=("operations failed (see $res/bench.log)") ;;
	3)   problems+=("module load failed (see $res/load.log)") ;;
	124) problems+=("VM timed out after ${vm_timeout}s") ;;
	*)   problems+=("exit $rc (see $res/console.log, $res/boot.log)") ;;
	esac
	scan_log="$res/dmesg.txt"
	[[ -f "$scan_log" ]] || scan_log="$res/console.log"
	if ! "$VM/scan-log.sh" "$scan_log" >"$res/scan.txt" 2>&1; then
		problems+=("kernel log has reports (see $res/scan.txt)")
	fi
	if [[ -f "$res/bench.tsv" ]]; then
		awk -f "$BENCH_SRC/table.awk" -v chart="$res/chart.dat" -v rev="$rev" \
			"$res/bench.tsv" >"$res/table.txt"
		cat "$res/table.txt" >>"$out/table.txt"
		echo >>"$out/table.txt"
		cat "$res/table.txt"
		if ((charts)) && [[ -s "$res/chart.dat" ]]; then
			gnuplot -e "datafile='$res/chart.dat'; outfile='$res/chart.png'; kver='$KVER'" \
				"$BENCH_SRC/chart.gp" 2>"$res/chart.log" ||
				warn "gnuplot failed for $KVER (see $res/chart.log)"
		fi
	else
		problems+=("no bench.tsv")
	fi
	if ((${#problems[@]})); then
		failed=1
		summary+=("$short ($KVER): FAIL: ${problems[*]}; ${took}s$infra")
	else
		summary+=("$short ($KVER): ok, ${took}s$infra")
	fi
done

echo "==== swgpu bench summary ===="
printf '  %s\n' "${summary[@]}"
echo "  results: $out"
((failed == 0))
