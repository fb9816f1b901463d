#!/usr/bin/env bash
# Runs inside the guest (tools/vm/guest-tests.sh starts it, swgpu loaded):
#
#   guest-weston.sh OUTDIR [ROOT]
#
# The compositor test: weston-run.sh (weston headless on Mesa's GL
# renderer, weston-simple-dmabuf-egl's buffers from swgpu, a screenshot)
# with the weston and Mesa of this root, or of ROOT (a root of
# tools/mesa/mesa-root.sh) in a chroot; then screenshot-check.py, with
# this root's python3 (ROOT need not have one), judges the screenshot.
# Writes OUTDIR.ktap; weston's, the client's and the screenshooter's logs
# and the screenshot stay in OUTDIR/. Exits non-zero only when the
# harness itself breaks.
set -euo pipefail
out="$1" root="${2:-}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The client's window and the desktop's colour (weston-run.sh's arguments,
# and what screenshot-check.py looks for).
size=128 background=002244
timeout_s="${SWGPU_TEST_TIMEOUT:-600}"
# weston-run.sh's bound for each of its waits (the socket, the frames,
# the screenshot): a quarter of the test's, which check.sh scales with
# the kernel's slowness, so that all three fit in it.
export SWGPU_WESTON_TIMEOUT=$((timeout_s / 4))
rm -rf "$out"
mkdir -p "$out"

start="$(cut -d' ' -f1 /proc/uptime)"
rc=0
if [[ -z "$root" ]]; then
	MESA_SHADER_CACHE_DISABLE=true timeout -k 10 "$timeout_s" \
		"$here/weston-run.sh" "$out" "$size" "$background" >"$out/steps" 2>"$out/run.err" || rc=$?
else
	# As guest-tests.sh runs the Mesa client there: a mount namespace of
	# its own, this guest's /dev, /proc, /sys (and debugfs), the scripts
	# at /mnt and OUTDIR at /srv. LP_NATIVE_VECTOR_WIDTH=128: unstable's
	# llvmpipe with 256-bit vectors samples every texel as texel (0,0)
	# under this QEMU (mesa.rst), and weston samples the client's buffer.
	# shellcheck disable=SC2016 # expanded by the inner shell
	timeout -k 10 "$timeout_s" unshare --mount --propagation private -- bash -c '
		root="$1" dir="$2" out="$3"
		shift 3
		for d in dev proc sys; do mount --rbind "/$d" "$root/$d"; done
		mount -t tmpfs tmpfs "$root/tmp"
		mount --bind "$dir" "$root/mnt"
		mount --bind "$out" "$root/srv"
		exec chroot "$root" env -i PATH=/usr/bin:/bin HOME=/tmp \
			MESA_SHADER_CACHE_DISABLE=true LP_NATIVE_VECTOR_WIDTH=128 \
			SWGPU_WESTON_TIMEOUT="$SWGPU_WESTON_TIMEOUT" \
			/mnt/weston-run.sh /srv "$@"
		' weston-root "$root" "$here" "$out" "$size" "$background" \
		>"$out/steps" 2>"$out/run.err" || rc=$?
fi

# The steps' lines, then the pixel check once there is a screenshot.
# (No process substitution: the guest has no /dev/fd.)
lines=()
while IFS= read -r line; do
	[[ "$line" =~ ^(not\ )?ok\  ]] && lines+=("$line")
done <"$out/steps"
if ((rc != 0)); then
	lines+=("not ok 0 weston-run # exited $rc: $(tail -n 3 "$out/run.err" | paste -sd' ')")
fi
if [[ -f "$out/screenshot.png" ]]; then
	lines+=("$(python3 "$here/screenshot-check.py" "$out/screenshot.png" "$size" "$background")")
else
	lines+=("ok 0 screenshot-has-client-pixels # SKIP no screenshot")
fi
{
	echo "KTAP version 1"
	grep '^# ' "$out/steps" || true
	awk -v s="$start" '{ printf "# took %.1f s of guest time\n", $1 - s }' /proc/uptime
	echo "1..${#lines[@]}"
	i=0
	for line in "${lines[@]}"; do
		i=$((i + 1))
		# Number the lines here: the steps and the check come apart.
		sed -E "s/^((not )?ok)( [0-9]+)? /\1 $i /" <<<"$line"
	done
} >"$out.ktap"
