#!/usr/bin/env bash
# Usage: tools/build-module.sh KVER OUTDIR        (KVER may be 6.1 or 6.12)
#
# Builds the out-of-tree module against the kernel's headers, unpacked into
# the cache by tools/vm/fetch-kernel.sh (run here if need be), with W=1,
# in a copy of the sources: OUTDIR/drm_driver and OUTDIR/include (siblings,
# as in the repo), so builds for several kernels never share objects.
# Fails on any compiler, modpost or sparse warning. Prints the paths of the
# built .ko files on stdout, one a line; the build log goes to stderr and to
# OUTDIR/build.log.
# SWGPU_SPARSE=1 also runs sparse (C=2: every file, even the ones that need
# no recompiling, so an incremental build cannot hide a sparse warning).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($# == 2)) || die "usage: $0 KVER OUTDIR"
if [[ "$1" == *-amd64 ]]; then KVER="$1"; else resolve_kernel "$1"; fi
OUTDIR="$(mkdir -p "$2" && cd "$2" && pwd)"
KBUILD="$("$SWGPU_REPO/tools/vm/fetch-kernel.sh" "$KVER")/build"

pkgs=(build-essential rsync dwarves)
sparse=()
if [[ "${SWGPU_SPARSE:-0}" == 1 ]]; then
	pkgs+=(sparse)
	sparse=(C=2)
fi
ensure_packages "${pkgs[@]}"
[[ -f "$KBUILD/Makefile" ]] || die "no kernel build tree at $KBUILD"
[[ -d "$SWGPU_REPO/drm_driver" ]] || die "no drm_driver/ in $SWGPU_REPO"

build_module_in "$KBUILD" "$OUTDIR" "$KVER" "${sparse[@]}" -j"$(nproc)"
