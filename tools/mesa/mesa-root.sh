#!/usr/bin/env bash
# Usage: tools/mesa/mesa-root.sh [SUITE]
#
# Prints the directory of a Debian SUITE root (default sid: unstable's
# Mesa) with Mesa's run-time libraries for GBM, EGL and GLES2 (llvmpipe,
# kms_swrast), in which the Mesa client (tools/mesa/mesa-client.c, built
# on the host: it needs nothing of glibc newer than bookworm's) runs a
# second time with that Mesa, and with weston (its compositor and demo
# clients), in which the weston test (tools/weston/) runs a second time. Made by tools/vm/build-root.sh, cached in
# $SWGPU_CACHE/mesa-roots/, keyed by the suite, the packages' current
# versions there and build-root.sh: made again when Mesa moves (a few
# minutes, once). tools/vm/guest-tests.sh chroots into it in the guest
# (SWGPU_MESA_ROOT).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

suite="${1:-sid}"
packages=(libgbm1 libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri weston)
suite_apt "$suite"
pins=()
for p in "${packages[@]}"; do
	v="$(apt-cache "${APT_OPTS[@]}" show --no-all-versions "$p" 2>/dev/null |
		sed -n 's/^Version: //p' | head -n1)"
	[[ -n "$v" ]] || die "no $p in $suite"
	pins+=("$p=$v")
done
cached_root "$SWGPU_CACHE/mesa-roots" "$suite" "${pins[@]}"
