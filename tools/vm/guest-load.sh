#!/usr/bin/env bash
# Runs inside the guest (boot.sh's chroot). Loads drm and vgem from the
# unpacked Debian image, then the given out-of-tree module with its params:
#
#   tools/vm/guest-load.sh [PATH/swgpu.ko [PARAM=VALUE...]]
#
# Uses the host's kmod: `modprobe -d $SWGPU_MODROOT -S $SWGPU_KVER` resolves
# dependencies from the image's modules.dep and reads .ko.xz. The module's
# own dependencies come from its modinfo, since it is not in modules.dep.
# Prints what it loaded; exits non-zero when anything fails to load.
set -euo pipefail
: "${SWGPU_MODROOT:?run me inside tools/vm/boot.sh}" "${SWGPU_KVER:?}"

kmodprobe() { modprobe -d "$SWGPU_MODROOT" -S "$SWGPU_KVER" "$@"; }

# SWGPU_NO_VGEM=1 leaves the in-tree vgem out (the vgem_compat runs, where
# swgpu itself answers to the name vgem).
mods=(drm)
[[ "${SWGPU_NO_VGEM:-0}" == 1 ]] || mods+=(vgem)
for mod in "${mods[@]}"; do
	kmodprobe "$mod"
	echo "guest-load: loaded $mod"
done

if (($# > 0)); then
	ko="$1"
	shift
	[[ -f "$ko" ]] || { echo "guest-load: no such module file: $ko" >&2; exit 1; }
	deps="$(modinfo -F depends "$ko")"
	for dep in ${deps//,/ }; do
		kmodprobe "$dep"
	done
	name="$(basename "$ko" .ko)"
	name="${name//-/_}"
	if [[ -d "/sys/module/$name" ]]; then
		echo "guest-load: $name is already loaded" >&2
		exit 1
	fi
	insmod "$ko" "$@"
	echo "guest-load: loaded $name${deps:+ (needs $deps)}${*:+ with $*}"
fi

shopt -s nullglob
nodes=(/dev/dri/*)
echo "guest-load: /dev/dri: ${nodes[*]#/dev/dri/}"
