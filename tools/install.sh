#!/usr/bin/env bash
# Installs swgpu on this machine, or into a staging tree: what `make
# install`, `make uninstall`, `make dkms-install`, `make dkms-uninstall`
# run, and what debian/rules installs into the packages, so that every way
# of installing puts the same files in the same places.
#
# Usage: tools/install.sh COMMAND
#   install          install-module, install-dev and install-conf
#   uninstall        remove exactly what install put there (and the
#                    directories it made, once empty), then depmod
#   install-module   build swgpu.ko for KVER (in a copy of the sources under
#                    build/install/KVER) and install it with the kernel's
#                    modules_install into DESTDIR/lib/modules/KVER/updates/;
#                    depmod KVER when DESTDIR is empty
#   install-dev      the uAPI header next to libdrm's driver headers
#                    (PREFIX/include/libdrm/swgpu_drm.h) and a pkg-config
#                    file (PREFIX/share/pkgconfig/swgpu.pc: it names a
#                    header only, so it is the same on every architecture)
#   install-conf     /etc/modprobe.d/swgpu.conf, the module's options
#                    (vgem_compat, fence_timeout_ms, job_timeout_ms,
#                    engine_lanes), all commented out
#   dkms-install     the DKMS sources into /usr/src/swgpu-VERSION, then
#                    dkms add, and dkms install for KVER if given, else for
#                    every kernel whose headers are installed (AUTOINSTALL
#                    covers kernels installed later)
#   dkms-uninstall   dkms remove of this tree's version, and its sources
#   stage-dkms DIR   copy the DKMS sources (dkms.conf, drm_driver/ without
#                    the KTAP test module, include/) into DIR
#   version          print the version: SWGPU_VERSION, else from git
#                    (git describe of a vX.Y tag: X.Y+gitN.HASH; no tag:
#                    0.0~gitN.HASH, N commits; "+dirty" when tracked files
#                    are modified)
#
# Env (make passes its command-line variables through):
#   KVER     kernel release to build for (default: the running kernel)
#   KDIR     its build tree (default /lib/modules/KVER/build)
#   DESTDIR  staging root prepended to every path (default: none)
#   PREFIX   for the header and pkg-config file (default /usr)
# Nothing outside the files listed above is written, except the build copy
# under build/ and depmod's index of KVER.
#
# This script does not use tools/lib.sh: installing must not create the
# test harness's cache directory.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf '[swgpu] %s\n' "$*" >&2; }
die() { printf '[swgpu] error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

KVER_GIVEN="${KVER:+1}"
KVER="${KVER:-$(uname -r)}"
KDIR="${KDIR:-/lib/modules/$KVER/build}"
DESTDIR="${DESTDIR:-}"
PREFIX="${PREFIX:-/usr}"
MODULE_NAMES=(swgpu.ko swgpu.ko.xz swgpu.ko.zst swgpu.ko.gz)

version() {
	local desc count hash dirty=""
	if [[ -n "${SWGPU_VERSION:-}" ]]; then
		echo "$SWGPU_VERSION"
		return
	fi
	git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1 ||
		die "not a git tree: set SWGPU_VERSION"
	[[ -z "$(git -C "$REPO" status --porcelain --untracked-files=no)" ]] || dirty="+dirty"
	hash="$(git -C "$REPO" rev-parse --short=7 HEAD)"
	if desc="$(git -C "$REPO" describe --tags --match 'v[0-9]*' 2>/dev/null)"; then
		desc="${desc#v}"
		# vX.Y-N-gHASH: N commits after the tag.
		if [[ "$desc" =~ ^(.*)-([0-9]+)-g[0-9a-f]+$ ]]; then
			echo "${BASH_REMATCH[1]}+git${BASH_REMATCH[2]}.$hash$dirty"
		else
			echo "$desc$dirty"
		fi
		return
	fi
	count="$(git -C "$REPO" rev-list --count HEAD)"
	echo "0.0~git$count.$hash$dirty"
}

stage_dkms() {
	local dir="$1"
	mkdir -p "$dir/drm_driver" "$dir/include/uapi/drm" "$dir/include/linux"
	install -m 0644 "$REPO/dkms.conf" "$dir/dkms.conf"
	install -m 0644 "$REPO"/drm_driver/{Kbuild,Makefile} "$REPO"/drm_driver/*.[ch] \
		"$dir/drm_driver/"
	install -m 0644 "$REPO/include/uapi/drm/swgpu_drm.h" "$dir/include/uapi/drm/"
	install -m 0644 "$REPO/include/linux/swgpu_dma_buf.h" "$dir/include/linux/"
}

install_module() {
	local src="$REPO/build/install/$KVER"
	[[ -f "$KDIR/Makefile" ]] || die "no kernel build tree at $KDIR (install the headers of $KVER, or set KDIR)"
	rm -rf "$src"
	stage_dkms "$src"
	log "building swgpu.ko for $KVER in $src"
	make -C "$KDIR" M="$src/drm_driver" modules >&2
	# DEPMOD=true: depmod runs below, and only on the live system.
	local args=(INSTALL_MOD_PATH="$DESTDIR" INSTALL_MOD_DIR=updates DEPMOD=true)
	unsigned_arg
	make -C "$KDIR" M="$src/drm_driver" "${args[@]}" modules_install >&2
	run_depmod
}

# Distribution kernels sign modules at install time with a key that is
# not shipped (Debian's config names its build's key): without the key,
# modules_install is told not to try, rather than print sign-file errors.
# Adds to the caller's args.
unsigned_arg() {
	local key
	key="$(sed -n 's/^CONFIG_MODULE_SIG_KEY="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' \
		"$KDIR/include/config/auto.conf" 2>/dev/null)"
	[[ -n "$key" ]] || return 0
	[[ "$key" == /* ]] || key="$KDIR/$key"
	if [[ ! -f "$key" ]]; then
		log "no module signing key at $key: swgpu.ko is installed unsigned"
		args+=(CONFIG_MODULE_SIG_ALL=)
	fi
}

run_depmod() {
	if [[ -z "$DESTDIR" ]]; then
		depmod -a "$KVER"
	else
		log "DESTDIR is set: depmod left to whoever installs $DESTDIR"
	fi
}

install_dev() {
	local inc="$DESTDIR$PREFIX/include/libdrm" pc="$DESTDIR$PREFIX/share/pkgconfig"
	install -d "$inc" "$pc"
	install -m 0644 "$REPO/include/uapi/drm/swgpu_drm.h" "$inc/swgpu_drm.h"
	# libdrm: the header includes "drm.h", which libdrm's directory holds.
	cat >"$pc/swgpu.pc.$$" <<-EOF
		prefix=$PREFIX
		includedir=\${prefix}/include

		Name: swgpu
		Description: uAPI header of the swgpu DRM driver
		Version: $(version)
		Requires: libdrm
		Cflags: -I\${includedir}/libdrm
	EOF
	mv "$pc/swgpu.pc.$$" "$pc/swgpu.pc"
	chmod 0644 "$pc/swgpu.pc"
}

install_conf() {
	install -d "$DESTDIR/etc/modprobe.d"
	cat >"$DESTDIR/etc/modprobe.d/swgpu.conf.$$" <<-'EOF'
		# Options of the swgpu module. Nothing here is enabled: remove the
		# '#' of a line to use it.
		#
		# Register as "vgem", so that unmodified vgem clients use swgpu
		# (load it instead of the in-tree vgem, which must not be loaded):
		#options swgpu vgem_compat=1
		#blacklist vgem
		#
		# When an unsignalled fence expires, in milliseconds:
		#options swgpu fence_timeout_ms=10000
		#
		# How long a SUBMIT job may wait for its fences, or run without
		# writing, in milliseconds (0: no limit):
		#options swgpu job_timeout_ms=10000
		#
		# On how many CPUs one SUBMIT job runs at once (0: one per online
		# CPU, at most 4; 1: one):
		#options swgpu engine_lanes=0
	EOF
	mv "$DESTDIR/etc/modprobe.d/swgpu.conf.$$" "$DESTDIR/etc/modprobe.d/swgpu.conf"
	chmod 0644 "$DESTDIR/etc/modprobe.d/swgpu.conf"
}

uninstall() {
	local name
	for name in "${MODULE_NAMES[@]}"; do
		rm -f "$DESTDIR/lib/modules/$KVER/updates/$name"
	done
	rm -f "$DESTDIR$PREFIX/include/libdrm/swgpu_drm.h" \
		"$DESTDIR$PREFIX/share/pkgconfig/swgpu.pc" \
		"$DESTDIR/etc/modprobe.d/swgpu.conf"
	# The directories install made, if nothing else is in them now.
	rmdir --ignore-fail-on-non-empty "$DESTDIR/lib/modules/$KVER/updates" \
		"$DESTDIR$PREFIX/include/libdrm" "$DESTDIR$PREFIX/share/pkgconfig" \
		"$DESTDIR/etc/modprobe.d" 2>/dev/null || true
	[[ ! -d "$DESTDIR/lib/modules/$KVER" ]] || run_depmod
}

dkms_install() {
	local ver dir k kernels=()
	command -v dkms >/dev/null || die "dkms is not installed"
	ver="$(version)"
	dir="/usr/src/swgpu-$ver"
	rm -rf "$dir"
	stage_dkms "$dir"
	sed -i "s/#MODULE_VERSION#/$ver/" "$dir/dkms.conf"
	dkms add -m swgpu -v "$ver"
	if [[ -n "$KVER_GIVEN" ]]; then
		kernels=("$KVER")
	else
		for k in /lib/modules/*/build; do
			[[ -e "$k" ]] && kernels+=("$(basename "$(dirname "$k")")")
		done
	fi
	((${#kernels[@]})) || die "no kernel headers installed: nothing to build for"
	for k in "${kernels[@]}"; do
		dkms install -m swgpu -v "$ver" -k "$k"
	done
}

dkms_uninstall() {
	local ver
	command -v dkms >/dev/null || die "dkms is not installed"
	ver="$(version)"
	if [[ -n "$(dkms status -m swgpu -v "$ver")" ]]; then
		dkms remove -m swgpu -v "$ver" --all
	fi
	rm -rf "/usr/src/swgpu-$ver"
}

(($# >= 1)) || usage
case "$1" in
install)        install_module; install_dev; install_conf ;;
uninstall)      uninstall ;;
install-module) install_module ;;
install-dev)    install_dev ;;
install-conf)   install_conf ;;
dkms-install)   dkms_install ;;
dkms-uninstall) dkms_uninstall ;;
stage-dkms)     (($# == 2)) || usage; stage_dkms "$2" ;;
version)        version ;;
-h|--help)      usage ;;
*)              echo "unknown command: $1" >&2; usage ;;
esac
