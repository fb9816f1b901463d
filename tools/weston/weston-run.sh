#!/usr/bin/env bash
# Runs in the guest, in the root whose weston it tests (the host's, or a
# chroot into a root of tools/mesa/mesa-root.sh; guest-weston.sh starts it):
#
#   weston-run.sh OUTDIR SIZE BACKGROUND
#
# Weston's headless backend with its GL renderer (llvmpipe), and
# weston-simple-dmabuf-egl allocating its buffers with GBM on swgpu's
# primary node and handing them to weston over linux-dmabuf; then a
# screenshot of weston's output. SIZE: the client's window; BACKGROUND:
# the desktop's colour, RRGGBB. Prints KTAP result lines without a
# header (guest-weston.sh adds the pixel check and the header):
#   weston-gl-renderer-on-swgpu   weston's renderer holds swgpu's node open
#   client-buffers-on-swgpu       the client's dma-bufs come from swgpu and
#                                 weston presents frames of them
#   screenshot                    weston-screenshooter wrote a PNG
# Leaves weston.log, client.log, screenshot.log and screenshot.png in
# OUTDIR. A step that cannot run here is a SKIP with the measured reason.
set -euo pipefail
out="$1" size="$2" background="$3"
# Every wait is a bounded poll: under TCG llvmpipe compiles its shaders
# slowly (several seconds a program), so the bound is generous
# (guest-weston.sh sets it from the test's timeout).
limit="${SWGPU_WESTON_TIMEOUT:-150}"
# Weston's output, twice the client's window (SIZE, its buffers' width
# and height): small, because llvmpipe under TCG pays for every pixel.
width=$((2 * size)) height=$((2 * size))

n=0
result() {   # result ok|"not ok"|skip NAME [REASON]
	n=$((n + 1))
	# Where the time goes, for the log (guest-weston.sh keeps "# " lines).
	echo "# $2 after ${SECONDS}s"
	case "$1" in
	skip) echo "ok $n $2 # SKIP $3" ;;
	*)    echo "$1 $n $2${3:+ # $3}" ;;
	esac
}
skip_rest() {   # skip_rest REASON: the steps not reached
	local step
	for step in "${steps[@]:n}"; do
		result skip "$step" "$1"
	done
}
steps=(weston-gl-renderer-on-swgpu client-buffers-on-swgpu screenshot)

# swgpu_nodes: swgpu's primary nodes, whatever name it registered under
# (vgem_compat=1 names it vgem): those whose debugfs has swgpu's own file.
swgpu_nodes() {
	local d minor
	for d in /sys/kernel/debug/dri/*/; do
		minor="$(basename "$d")"
		[[ "$minor" =~ ^[0-9]+$ && $minor -lt 64 && -e "$d/swgpu_objects" ]] &&
			echo "/dev/dri/card$minor"
	done
	return 0
}
# dri_fds PID: the DRM nodes process PID holds open.
dri_fds() {
	local fd
	for fd in /proc/"$1"/fd/*; do
		fd="$(readlink "$fd" 2>/dev/null)" || continue
		[[ "$fd" == /dev/dri/* ]] && echo "$fd"
	done | sort -u
	return 0
}
# node_driver NODE: the DRM driver name of a node, from debugfs.
node_driver() {
	local minor="${1##*/card}" name
	minor="${minor##*/renderD}"
	read -r name _ <"/sys/kernel/debug/dri/$minor/name" 2>/dev/null || name="?"
	echo "$name"
}
alive() { kill -0 "$1" 2>/dev/null; }
gone() { ! alive "$1"; }
# wait_for SECONDS COMMAND...: poll COMMAND every 0.2 s until it succeeds
# (0) or SECONDS pass (1).
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < end)) || return 1
		sleep 0.2
	done
}

# The logs are written in the guest's tmpfs and copied to OUTDIR at the
# end: OUTDIR is a 9p share, where reading a file while another process
# appends to it failed (awk: read error, No data available).
work="$(mktemp -d /tmp/weston-run.XXXXXX)"
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do
		wait_for 10 gone "$p" || kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	cp "$work"/*.log "$work"/*.out "$out/" 2>/dev/null || true
}
trap cleanup EXIT

# (No process substitution: the guest has no /dev/fd.)
node="$(swgpu_nodes | head -n1)"
if [[ -z "$node" ]]; then
	skip_rest "no swgpu node in /sys/kernel/debug/dri"
	exit 0
fi
ver="$(weston --version 2>&1 | head -n1)"
echo "# $ver; swgpu is $node, named $(node_driver "$node")"

XDG_RUNTIME_DIR="$work/runtime"
mkdir -m 0700 "$XDG_RUNTIME_DIR"
export XDG_RUNTIME_DIR
socket=swgpu-weston
# Weston 10 asks for the GL renderer with --use-gl, later ones with
# --renderer=gl (and name backends without .so).
help="$(weston --help 2>&1 || true)"
# desktop-shell, on a plain background colour, without its panel (a
# clock): then all but the client's window is that colour. (kiosk-shell
# would need no helper client, but weston 10's GL renderer leaves its
# output red there, with or without a client, swgpu or not: measured.)
printf '[shell]\nbackground-color=0xff%s\npanel-position=none\n' "$background" \
	>"$XDG_RUNTIME_DIR/weston.ini"
args=(--config="$XDG_RUNTIME_DIR/weston.ini" --socket="$socket" --idle-time=0
	--width="$width" --height="$height" --log="$work/weston.log")
if grep -q -- '--renderer=' <<<"$help"; then
	args+=(--backend=headless --renderer=gl)
else
	args+=(--backend=headless-backend.so --use-gl)
fi
# --debug: weston offers its screenshooter only then.
# LIBGL_ALWAYS_SOFTWARE=1: on the surfaceless platform, which the
# headless backend's GL renderer uses, Mesa takes kms_swrast (and so a
# DRM device, and dma-buf import) only with it (mesa.rst).
LIBGL_ALWAYS_SOFTWARE=1 weston "${args[@]}" --debug >"$work/weston.out" 2>&1 &
wpid=$!
pids+=("$wpid")
listening_or_gone() { [[ -S "$XDG_RUNTIME_DIR/$socket" ]] || ! alive "$wpid"; }
wait_for "$limit" listening_or_gone || true
if [[ ! -S "$XDG_RUNTIME_DIR/$socket" ]]; then
	if alive "$wpid"; then
		result "not ok" "${steps[0]}" "no Wayland socket after ${limit}s"
	else
		result "not ok" "${steps[0]}" "weston exited: $(tail -n 3 "$work/weston.out" "$work/weston.log" 2>/dev/null | paste -sd' ')"
	fi
	skip_rest "weston did not start"
	exit 0
fi
# The renderer is made before the socket listens: what weston holds open
# now is its renderer's device.
held="$(dri_fds "$wpid" | paste -sd' ')"
renderer="$(grep -m1 -iE 'GL renderer:' "$work/weston.log" | sed 's/.*renderer: *//I' || true)"
if grep -qx "$node" <<<"${held// /$'\n'}"; then
	result ok "${steps[0]}" "$ver; GL renderer: ${renderer:-?}; holds $held"
elif [[ -n "$held" ]]; then
	result skip "${steps[0]}" "weston's renderer took $held (driver $(node_driver "${held%% *}")), not swgpu's $node: Mesa's surfaceless platform takes kms_swrast only on a device named vgem or virtio_gpu (mesa.rst); the vgem_compat boot tests this"
	skip_rest "weston's renderer is not on swgpu"
	exit 0
else
	result skip "${steps[0]}" "weston's renderer holds no DRM node (GL renderer: ${renderer:-?}), so Mesa renders without a device here: its surfaceless platform takes kms_swrast only on a device named vgem or virtio_gpu (mesa.rst); the vgem_compat boot tests this"
	skip_rest "weston's renderer is not on swgpu"
	exit 0
fi

# The client takes a DRM node path; the render node has no dumb buffers,
# which kms_swrast allocates from, so it gets swgpu's primary node.
# WAYLAND_DEBUG: its protocol log shows the dma-buf import and the frames.
WAYLAND_DISPLAY="$socket" WAYLAND_DEBUG=client \
	weston-simple-dmabuf-egl --drm-render-node="$node" --size="$size" \
	>"$work/client.log" 2>&1 &
cpid=$!
pids+=("$cpid")
# Frames weston presented: done events of the callbacks the client asked
# for with wl_surface.frame (not those of its wl_display.sync round
# trips). Objects are wl_callback@N in libwayland's debug log, #N since
# 1.23 (unstable's).
frames() {
	awk '
	/wl_surface[@#][0-9]+\.frame\(/ {
		s = $0; sub(/.*new id wl_callback[@#]/, "", s); sub(/[^0-9].*/, "", s)
		asked[s] = 1
		next
	}
	/wl_callback[@#][0-9]+\.done\(/ {
		s = $0; sub(/.*wl_callback[@#]/, "", s); sub(/[^0-9].*/, "", s)
		if (s in asked) { n++; delete asked[s] }
	}
	END { print n + 0 }' "$work/client.log"
}
# nframes: frames, 0 if the log cannot be read (never an empty word,
# which would make the arithmetic below an error, and so false).
nframes() {
	local f
	f="$(frames)" || true
	[[ "$f" =~ ^[0-9]+$ ]] && echo "$f" || echo 0
}
presented_or_gone() { (($(nframes) >= 3)) || ! alive "$cpid"; }
wait_for "$limit" presented_or_gone || true
created="$(grep -c 'zwp_linux_buffer_params_v1[@#][0-9]*\.created(' "$work/client.log" || true)"
[[ "$created" =~ ^[0-9]+$ ]] || created=0
cheld="$(dri_fds "$cpid" | paste -sd' ')"
if ! alive "$cpid"; then
	result "not ok" "${steps[1]}" "the client exited: $(grep -v '^\[' "$work/client.log" | tail -n 3 | paste -sd' ')"
	skip_rest "the client failed"
	exit 0
elif ! grep -qx "$node" <<<"${cheld// /$'\n'}"; then
	result "not ok" "${steps[1]}" "the client holds $cheld, not $node"
	skip_rest "the client is not on swgpu"
	exit 0
fi
done_frames="$(nframes)"
if ((created == 0 || done_frames < 3)); then
	result "not ok" "${steps[1]}" "after ${limit}s: $created dma-buf wl_buffers created, $done_frames frames done"
	skip_rest "weston presented no frames of the client"
	exit 0
fi
result ok "${steps[1]}" "$created dma-buf wl_buffers from $node, $done_frames frames done"

# weston-screenshooter writes wayland-screenshot-*.png into its cwd.
shots="$(mktemp -d /tmp/weston-shot.XXXXXX)"
if (cd "$shots" && WAYLAND_DISPLAY="$socket" timeout "$limit" weston-screenshooter) \
	>"$work/screenshot.log" 2>&1 && compgen -G "$shots/*.png" >/dev/null; then
	cp "$(compgen -G "$shots/*.png" | head -n1)" "$out/screenshot.png"
	result ok "${steps[2]}"
else
	result "not ok" "${steps[2]}" "weston-screenshooter: $(tail -n 3 "$work/screenshot.log" | paste -sd' ')"
fi
