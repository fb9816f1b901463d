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
# Kept to the same steps as build-module.sh on purpose: with a
# "--kernel-dir DIR [--arch ARCH]" option there, this file can go.
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

for dir in drm_driver include; do
	[[ -d "$SWGPU_REPO/$dir" ]] || continue
	rsync -a --delete \
		--exclude='*.o' --exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c' \
		--exclude='.*.cmd' --exclude='*.order' --exclude='Module.symvers' \
		--exclude='.*.d' --exclude='*.tmp' \
		"$SWGPU_REPO/$dir/" "$OUTDIR/$dir/"
done

log "building the module for $(cat "$KDIR/release") ($arch) in $OUTDIR"
rc=0
nice -n 19 make -C "$KBUILD" ARCH="$arch" M="$OUTDIR/drm_driver" W=1 "${sparse[@]}" \
	-j"$jobs" modules >"$OUTDIR/build.log" 2>&1 || rc=$?
cat "$OUTDIR/build.log" >&2
((rc == 0)) || die "module build failed (exit $rc), log: $OUTDIR/build.log"
if grep -qi 'warning:' "$OUTDIR/build.log"; then
	make -C "$KBUILD" ARCH="$arch" M="$OUTDIR/drm_driver" clean >/dev/null 2>&1 || true
	grep -i 'warning:' "$OUTDIR/build.log" >&2
	die "module build has warnings (treated as errors), log: $OUTDIR/build.log"
fi
kos="$(find "$OUTDIR/drm_driver" -name '*.ko' | LC_ALL=C sort)"
[[ -n "$kos" ]] || die "the build produced no .ko in $OUTDIR/drm_driver"
echo "$kos"
