#!/usr/bin/env bash
# Usage: tools/tiers/build-module-tier.sh KDIR OUTDIR
#
# tools/build-module.sh for a tier kernel: builds the out-of-tree module
# against the tier's build tree (KDIR is what build-kernel.sh printed: it
# holds build/ and arch) with W=1, in a copy of the sources in
# OUTDIR/drm_driver and OUTDIR/include. Fails on any compiler, modpost or
# (SWGPU_SPARSE=1) sparse warning. Prints the built .ko paths on stdout;
# the log goes to stderr and OUTDIR/build.log.
#
# The steps are build_module_in() of tools/lib.sh, shared with
# tools/build-module.sh.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

(($# == 2)) || die "usage: $0 KDIR OUTDIR"
KDIR="$1"
OUTDIR="$(mkdir -p "$2" && cd "$2" && pwd)"
KBUILD="$KDIR/build"
[[ -f "$KDIR/complete" && -f "$KBUILD/Makefile" ]] || die "no finished tier build in $KDIR"
arch="$(cat "$KDIR/arch")"
jobs="${SWGPU_TIER_JOBS:-2}"

sparse=()
if [[ "${SWGPU_SPARSE:-0}" == 1 ]]; then
	ensure_packages sparse
	sparse=(C=2)
fi
ensure_packages build-essential rsync

# The whole build runs at the lowest priority, like the tier kernels'.
renice -n 19 -p $$ >/dev/null
build_module_in "$KBUILD" "$OUTDIR" "$(cat "$KDIR/release") ($arch)" \
	ARCH="$arch" "${sparse[@]}" -j"$jobs"
