#!/usr/bin/env bash
# Usage: tools/intree.sh KERNEL_SOURCE_DIR
#
# Puts swgpu into a kernel source tree so that it builds in tree, as
# drivers/gpu/drm/swgpu (CONFIG_DRM_SWGPU, and CONFIG_DRM_SWGPU_CPU_ACCESS_TEST
# for the test module):
#   drm_driver/            -> drivers/gpu/drm/swgpu/ (Kbuild, sources, tests/)
#   Kconfig                -> drivers/gpu/drm/swgpu/Kconfig
#   include/uapi/drm/*.h   -> include/uapi/drm/
#   include/linux/*.h      -> include/linux/
# and hooks the directory into drivers/gpu/drm/Kconfig and Makefile (once;
# running it again refreshes the files). Then configure and build as usual,
# e.g. `scripts/config --module DRM_SWGPU && make olddefconfig && make`.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($# == 1)) || die "usage: $0 KERNEL_SOURCE_DIR"
ksrc="$(cd "$1" && pwd)"
drm="$ksrc/drivers/gpu/drm"
[[ -f "$drm/Kconfig" && -f "$drm/Makefile" ]] || die "$ksrc is not a kernel source tree"

rm -rf "$drm/swgpu"
mkdir -p "$drm/swgpu"
# The out-of-tree Makefile is for M= builds only; Kbuild is what counts.
ensure_packages rsync
rsync -a --exclude=Makefile --exclude='*.o' --exclude='*.ko' --exclude='*.mod' \
	--exclude='*.mod.c' --exclude='.*' --exclude=modules.order \
	--exclude=Module.symvers "$SWGPU_REPO/drm_driver/" "$drm/swgpu/"
cp "$SWGPU_REPO/Kconfig" "$drm/swgpu/Kconfig"
cp "$SWGPU_REPO"/include/uapi/drm/*.h "$ksrc/include/uapi/drm/"
cp "$SWGPU_REPO"/include/linux/*.h "$ksrc/include/linux/"

grep -q 'drivers/gpu/drm/swgpu/Kconfig' "$drm/Kconfig" ||
	printf '\nsource "drivers/gpu/drm/swgpu/Kconfig"\n' >>"$drm/Kconfig"
grep -q 'swgpu/' "$drm/Makefile" ||
	printf 'obj-$(CONFIG_DRM_SWGPU) += swgpu/\n' >>"$drm/Makefile"
log "swgpu is in $drm/swgpu; enable CONFIG_DRM_SWGPU"
