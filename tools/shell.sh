#!/usr/bin/env bash
# make shell: an interactive root shell in a guest with the module loaded.
#
#   tools/shell.sh [--kernel NAME] [--mem SIZE]
#
# Builds the module for the kernel (default 6.12), boots it, loads drm,
# vgem and swgpu (with $SWGPU_MODULE_PARAMS) and gives bash on the serial
# console, inside the chroot of the host root: the repo and host tools are
# there; $SWGPU_OUT (/run/swgpu-results) is build/results/shell/$KVER on the host.
# `exit` powers the guest off; Ctrl-A x kills QEMU. Without drm_driver/Kbuild
# (no driver yet) only drm and vgem are loaded.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

kernel=6.12 mem=
while (($#)); do
	case "$1" in
	--kernel) kernel="${2:?}"; shift 2 ;;
	--mem)    mem="${2:?}"; shift 2 ;;
	*)        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done

ensure_packages "${SWGPU_HOST_PACKAGES[@]}"
KVER="$(cat "$("$SWGPU_REPO/tools/vm/fetch-kernel.sh" "$kernel")/release")"
load=("$SWGPU_REPO/tools/vm/guest-load.sh")
if [[ -f "$SWGPU_REPO/drm_driver/Kbuild" || -f "$SWGPU_REPO/drm_driver/Makefile" ]]; then
	ko="$(module_ko "$kernel")"
	# shellcheck disable=SC2206 # "name=value ..." is split on purpose
	load+=("$ko" ${SWGPU_MODULE_PARAMS:-})
else
	log "no drm_driver/Kbuild yet: loading drm and vgem only"
fi
exec "$SWGPU_REPO/tools/vm/boot.sh" --kernel "$kernel" ${mem:+--mem "$mem"} --shell \
	--out "$SWGPU_BUILD/results/shell/$KVER" -- "${load[@]}"
