#!/usr/bin/env bash
# Usage: tools/build-module.sh NAME OUTDIR        (NAME: a kernel of tools/kernels.conf)
#
# Builds the out-of-tree module against kernel NAME's build tree (fetched
# or built by tools/vm/fetch-kernel.sh, run here if need be) with W=1, by
# the compiler that built that kernel (in its build root, if it has one),
# in a copy of the sources: OUTDIR/drm_driver and OUTDIR/include (siblings,
# as in the repo), so builds for several kernels never share objects.
# Fails on any compiler, modpost or sparse warning. Prints the paths of the
# built .ko files on stdout, one a line; the build log goes to stderr and to
# OUTDIR/build.log.
# SWGPU_SPARSE=1 also runs sparse (C=2: every file, even the ones that need
# no recompiling, so an incremental build cannot hide a sparse warning).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($# == 2)) || die "usage: $0 NAME OUTDIR"
kernel_row "$1"
OUTDIR="$(mkdir -p "$2" && cd "$2" && pwd)"
KDIR="$("$SWGPU_REPO/tools/vm/fetch-kernel.sh" "$1")"
arch="$(cat "$KDIR/arch")"

pkgs=(build-essential rsync dwarves)
args=(ARCH="$arch" -j"$(nproc)")
if [[ "${SWGPU_SPARSE:-0}" == 1 ]]; then
	pkgs+=(sparse)
	args+=(C=2)
fi
ensure_packages "${pkgs[@]}"
[[ -d "$SWGPU_REPO/drm_driver" ]] || die "no drm_driver/ in $SWGPU_REPO"

# Tier kernels build at the lowest priority, like the tier kernels
# themselves: they share the machine with running guests.
[[ "$K_SUITE" == tier ]] && renice -n 19 -p $$ >/dev/null
build_module_in "$KDIR" "$OUTDIR" "$1 ($(cat "$KDIR/release"))" "${args[@]}"
