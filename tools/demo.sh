#!/usr/bin/env bash
# make run: build everything, boot a kernel, load vgem + swgpu and run the
# demo program build/igt/swgpu-share-demo (built by igt-tests/Makefile).
#
#   tools/demo.sh [--kernel NAME]        (default 6.12)
#
# Shows the demo's output, then a summary: demo exit status, kernel log
# verdict (tools/vm/scan-log.sh), timings. Results: build/results/demo/$KVER.
# Exits non-zero if the demo or the kernel log failed.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

kernel=6.12
while (($#)); do
	case "$1" in
	--kernel) kernel="${2:?}"; shift 2 ;;
	*)        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done

ensure_packages "${SWGPU_HOST_PACKAGES[@]}"
KVER="$(cat "$("$SWGPU_REPO/tools/vm/fetch-kernel.sh" "$kernel")/release")"
ko="$(module_ko "$kernel")"
IGT="$SWGPU_BUILD/igt"
if [[ -f "$SWGPU_REPO/igt-tests/Makefile" ]]; then
	make -C "$SWGPU_REPO/igt-tests" O="$IGT" -j"$(nproc)" >&2
fi
demo="$IGT/swgpu-share-demo"
res="$SWGPU_BUILD/results/demo/$KVER"
rm -rf "$res"
mkdir -p "$res"

# Guest side: load, then run the demo into demo.log (the console keeps its
# own copy); the demo's exit status is the guest's.
guest='
set -uo pipefail
"$1" "$2" >"$SWGPU_OUT/load.log" 2>&1 || { cat "$SWGPU_OUT/load.log"; exit 1; }
if [[ -x "$3" ]]; then
	"$3" >"$SWGPU_OUT/demo.log" 2>&1; rc=$?
else
	echo "swgpu-share-demo is not built yet (igt-tests/ provides it)" >"$SWGPU_OUT/demo.log"
	rc=0
fi
dmesg >"$SWGPU_OUT/dmesg.txt"
exit $rc'
rc=0
"$SWGPU_REPO/tools/vm/boot.sh" --kernel "$kernel" --out "$res" -- \
	bash -c "$guest" demo "$SWGPU_REPO/tools/vm/guest-load.sh" "$ko" "$demo" 2>"$res/boot.log" || rc=$?

echo "==== swgpu demo on $KVER ===="
cat "$res/demo.log" 2>/dev/null || true
echo "==== summary ===="
log_verdict="clean"
if [[ -f "$res/dmesg.txt" ]]; then
	"$SWGPU_REPO/tools/vm/scan-log.sh" "$res/dmesg.txt" >"$res/scan.txt" || log_verdict="PROBLEMS (see $res/scan.txt)"
else
	log_verdict="not captured"
fi
grep -h '^guest-load: loaded' "$res/load.log" 2>/dev/null | sed 's/^guest-load: /  /' || true
echo "  demo exit status: $rc"
echo "  kernel log: $log_verdict"
sed -n 's/^\[swgpu\] [^:]*: guest \(exit status .*\)/  VM: \1/p; s/^\[swgpu\] [^:]*: FAIL: /  VM FAILED: /p' "$res/boot.log"
echo "  results: $res"
[[ $rc -eq 0 && "$log_verdict" == clean ]]
