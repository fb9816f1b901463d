#!/usr/bin/env bash
# Usage: tools/vm/fetch-kernel.sh [--cached-only] NAME   (NAME: a kernel of tools/kernels.conf)
#
# Makes kernel NAME ready to boot and to build modules against, and prints
# its directory. The same layout for every kernel, so that boot.sh,
# build-module.sh and the guest scripts need not know where it came from:
#   image            the kernel QEMU boots: for Debian's kernels the
#                    uncompressed ELF vmlinux (QEMU starts it through its PVH
#                    entry and the guest skips decompression, vm-notes.md);
#                    for a tier its bzImage
#   root/            module tree (root/lib/modules/$KVER, depmod run), the
#                    tree guest-load.sh hands to modprobe -d
#   initrd-modules/  decompressed .ko files that mount the 9p root, and
#                    load-order listing them in insmod order (empty where
#                    9p is built in)
#   release, arch    the kernel's ABI name and the guest architecture
#   build            the tree out-of-tree modules build against
#                    (make -C build M=...) ...
#   buildroot/       ... inside this root, when the kernel's suite is not
#                    the host's (tools/vm/build-root.sh): build is then a
#                    path inside it
# Debian kernels: $SWGPU_CACHE/kernels/$KVER/, unpacked with dpkg -x from
# the archive (headers: linux-headers-$KVER, its -common and linux-kbuild
# packages); refreshed when the package version moves. Nothing is
# installed: no image in /boot, no headers in /usr/src (a headers package
# depends on its image, so installing it would install a kernel on the
# host). Tiers: tools/tiers/build-kernel.sh's directory, built if need be.
# --cached-only builds nothing: exit 3 if the kernel is not ready.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

cached_only=0
[[ "${1:-}" == --cached-only ]] && { cached_only=1; shift; }
(($# == 1)) || die "usage: $0 [--cached-only] NAME (one of: $(kernel_names | xargs))"
name="$1"

if kernel_row "$name" && [[ "$K_SUITE" == tier ]]; then
	tier_args=()
	((cached_only)) && tier_args=(--cached-only)
	KDIR="$("$SWGPU_REPO/tools/tiers/build-kernel.sh" "${tier_args[@]}" "$K_PACKAGE")" ||
		exit $?
	# The common layout, as links to what build-kernel.sh made; 9p is
	# built into the tier kernels, so no initramfs modules.
	ln -sfn bzImage "$KDIR/image"
	ln -sfn modroot "$KDIR/root"
	mkdir -p "$KDIR/initrd-modules"
	[[ -f "$KDIR/initrd-modules/load-order" ]] || : >"$KDIR/initrd-modules/load-order"
	echo "$KDIR"
	exit 0
fi

resolve_kernel "$name"
suite_apt "$K_SUITE"
KDIR="$(kernel_cache "$KVER")"
PKG="linux-image-$KVER"

ensure_packages kmod xz-utils zstd binutils

# Modules the initramfs needs before it can mount the host root. On 6.12
# virtio_pci is built in; on 6.1 it is a module (modprobe says "builtin").
INITRD_MODULES=(virtio_pci 9pnet_virtio 9p)

# Find each compression magic in vmlinuz, decompress from there and keep
# the first result that is an ELF file: the method of the kernel's
# scripts/extract-vmlinux, with grep -b instead of its tr trick.
extract_vmlinux() {
	local img="$1" out="$2" magic cmd off
	local -a magics=(
		'\x1f\x8b\x08:gzip -dc'
		'\xfd\x37\x7a\x58\x5a\x00:xz -dc'
		'\x28\xb5\x2f\xfd:zstd -dcq'
		'\x42\x5a\x68:bzip2 -dc'
		'\x5d\x00\x00\x00:xz -dc --format=lzma'
		'\x02\x21\x4c\x18:lz4 -dc'
	)
	for entry in "${magics[@]}"; do
		magic="${entry%%:*}" cmd="${entry#*:}"
		command -v "${cmd%% *}" >/dev/null || continue
		for off in $(LC_ALL=C grep -obUaP "$magic" "$img" | cut -d: -f1); do
			# Decompressors complain about the bytes after the stream:
			# the ELF check below is what decides.
			tail -c +"$((off + 1))" "$img" | $cmd >"$out" 2>/dev/null || true
			if readelf -h "$out" >/dev/null 2>&1; then
				return 0
			fi
		done
	done
	rm -f "$out"
	return 1
}

# Decompressed copies of INITRD_MODULES and their dependencies, in the order
# modprobe would insert them.
collect_initrd_modules() {
	local root="$1" dest="$2" mod path name n=0
	mkdir -p "$dest"
	: >"$dest/load-order"
	for mod in "${INITRD_MODULES[@]}"; do
		modprobe --show-depends -S "$KVER" -d "$root" "$mod" |
			awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++' | while read -r path; do
		name="$(basename "$path")"
		name="${name%.xz}" name="${name%.zst}" name="${name%.gz}"
		n=$((n + 1))
		name="$(printf '%02d-%s' "$n" "$name")"
		case "$path" in
		*.xz)  xz -dc "$path" >"$dest/$name" ;;
		*.zst) zstd -dcq "$path" >"$dest/$name" ;;
		*.gz)  gzip -dc "$path" >"$dest/$name" ;;
		*)     cp "$path" "$dest/$name" ;;
		esac
		echo "$name" >>"$dest/load-order"
	done
	[[ -s "$dest/load-order" ]] || die "no initramfs modules found for $KVER"
}

# dep_packages PKG=VERSION PATTERN: the packages of PKG's Depends whose
# names match the extended regex PATTERN, as NAME=VERSION (the pinned
# version, else the candidate).
dep_packages() {
	local pkg="$1" pattern="$2" dep dname ver
	apt-cache "${APT_OPTS[@]}" show "$pkg" 2>/dev/null | sed -n 's/^Depends: //p' |
		head -n1 | tr ',' '\n' | sed 's/^ *//; s/ *|.*//' | while read -r dep; do
			dname="${dep%% *}"
			grep -qE "^($pattern)\$" <<<"$dname" || continue
			if [[ "$dep" == *"(= "* ]]; then
				ver="${dep#*(= }" ver="${ver%)}"
			else
				ver="$(apt-cache "${APT_OPTS[@]}" show --no-all-versions "$dname" \
					2>/dev/null | sed -n 's/^Version: //p' | head -n1)"
			fi
			echo "$dname=$ver"
		done
}

# unpack_debs DEST PKG=VERSION...: download the packages and dpkg -x them
# all into DEST.
unpack_debs() {
	local dest="$1" deb
	shift
	mkdir -p "$dest.deb"
	log "downloading $*"
	# APT's sandbox user cannot enter root's home: download as root.
	(cd "$dest.deb" && apt-get -q -o APT::Sandbox::User=root "${APT_OPTS[@]}" \
		download "$@" >&2)
	for deb in "$dest".deb/*.deb; do
		dpkg -x "$deb" "$dest"
	done
	rm -rf "$dest.deb"
}

build() {
	local version="$1" tmp pkgs hdrs img map
	tmp="$KDIR.new"
	rm -rf "$tmp"
	# Unstable splits the image: linux-image-$KVER is a meta-package of
	# linux-binary (the kernel, under usr/lib/modules), -modules and -base.
	mapfile -t pkgs < <(dep_packages "$PKG=$version" \
		"linux-(binary|modules|base)-$(sed 's/[.+]/\\&/g' <<<"$KVER")")
	unpack_debs "$tmp/root" "$PKG=$version" "${pkgs[@]}"
	# Merged /usr: modules and kernel under usr/lib/modules, where
	# depmod and modprobe -d look in lib/modules.
	if [[ ! -e "$tmp/root/lib" && -d "$tmp/root/usr/lib/modules" ]]; then
		ln -s usr/lib "$tmp/root/lib"
	fi
	img="$tmp/root/boot/vmlinuz-$KVER"
	map="$tmp/root/boot/System.map-$KVER"
	[[ -f "$img" ]] || img="$tmp/root/lib/modules/$KVER/vmlinuz"
	[[ -f "$map" ]] || map="$tmp/root/lib/modules/$KVER/System.map"
	[[ -f "$img" && -f "$map" ]] || die "no vmlinuz/System.map in the packages of $KVER"
	# The package ships no modules.dep (its postinst runs depmod).
	depmod -b "$tmp/root" -F "$map" "$KVER"
	extract_vmlinux "$img" "$tmp/vmlinux" || die "no ELF kernel found inside $img"
	ln -s vmlinux "$tmp/image"
	collect_initrd_modules "$tmp/root" "$tmp/initrd-modules"
	echo "$KVER" >"$tmp/release"
	echo "$K_ARCH" >"$tmp/arch"

	if [[ "$K_SUITE" == bookworm ]]; then
		mapfile -t hdrs < <(dep_packages "linux-headers-$KVER=$version" \
			'linux-headers-.*-common(-rt)?|linux-kbuild-.*')
		((${#hdrs[@]} == 2)) || die "cannot resolve the header packages of $KVER: ${hdrs[*]}"
		unpack_debs "$tmp/headers" "linux-headers-$KVER=$version" "${hdrs[@]}"
		# The headers' Makefile includes the -common tree by its
		# absolute /usr/src path: point it into this cache instead.
		sed -i "s#^include /usr/src/#include $KDIR/headers/usr/src/#" \
			"$tmp/headers/usr/src/linux-headers-$KVER/Makefile"
		ln -s "headers/usr/src/linux-headers-$KVER" "$tmp/build"
	else
		# Built by that suite's compiler, linked against its libc: the
		# headers are installed into a root of the suite instead.
		"$SWGPU_REPO/tools/vm/build-root.sh" "$K_SUITE" "$tmp/buildroot" \
			"linux-headers-$KVER=$version"
		echo "/usr/src/linux-headers-$KVER" >"$tmp/build"
	fi
	echo "$stamp" >"$tmp/stamp"
	# Swap in with two renames; a VM still running on the old tree from
	# another shell loses it only at the rm.
	rm -rf "$KDIR.old"
	[[ ! -e "$KDIR" ]] || mv "$KDIR" "$KDIR.old"
	mv "$tmp" "$KDIR"
	rm -rf "$KDIR.old"
}

mkdir -p "$SWGPU_CACHE/kernels"
# Two runs at once (make check in two shells) must not unpack together.
exec 9>"$SWGPU_CACHE/kernels/.lock-$KVER"
flock 9

version="$KVERSION"
# The stamp holds the package version: a new upload is unpacked again.
# Nothing else goes in it, so that editing this script does not pull the
# tree from under VMs that other shells are running from the cache.
stamp="$version"
complete() {
	[[ -f "$KDIR/stamp" && "$(cut -d' ' -f1 "$KDIR/stamp")" == "$stamp" &&
		-f "$KDIR/image" && -f "$KDIR/initrd-modules/load-order" &&
		-f "$KDIR/root/lib/modules/$KVER/modules.dep" && -e "$KDIR/build" ]]
}
if complete; then
	log "kernel $KVER: cached"
elif ((cached_only)); then
	exit 3
else
	build "$version"
	log "kernel $KVER: ready in $KDIR"
fi
echo "$KDIR"
