#!/usr/bin/env bash
# Usage: tools/vm/fetch-kernel.sh SHORT        (SHORT: 6.1, 6.12 or a KVER)
#
# Makes $SWGPU_CACHE/kernels/$KVER/ ready to boot and prints its path:
#   root/            dpkg -x of linux-image-$KVER (+ depmod), the module tree
#                    guest-load.sh hands to modprobe -d
#   vmlinux          uncompressed ELF: QEMU boots it through its PVH entry,
#                    which skips the in-guest decompression (vm-notes.md)
#   initrd-modules/  decompressed .ko files that mount the 9p root, and
#                    load-order listing them in insmod order
#   headers/         dpkg -x of linux-headers-$KVER, its -common and the
#                    linux-kbuild package: build/ points at the tree that
#                    out-of-tree modules build against (make -C build M=...)
# Nothing is installed: no image in /boot, no headers in /usr/src (the
# headers package depends on its image, so installing it would install a
# kernel on the host).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

(($# == 1)) || die "usage: $0 6.1|6.12|KVER"
resolve_kernel "$1"
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

# headers_packages VERSION: linux-headers-$KVER=VERSION and the packages of
# its Depends that hold the rest of the build tree (-common, linux-kbuild),
# each as NAME=VERSION.
headers_packages() {
	local version="$1" hdr="linux-headers-$KVER" dep
	echo "$hdr=$version"
	apt-cache show "$hdr=$version" 2>/dev/null | sed -n 's/^Depends: //p' | head -n1 |
		tr ',' '\n' | sed 's/^ *//; s/ *|.*//' | while read -r dep; do
			case "$dep" in
			linux-headers-*-common\ *|linux-kbuild-*)
				name="${dep%% *}"
				ver="$(apt-cache show --no-all-versions "$name" 2>/dev/null |
					sed -n 's/^Version: //p' | head -n1)"
				[[ "$dep" == *"(= "* ]] && ver="${dep#*(= }" ver="${ver%)}"
				echo "$name=$ver" ;;
			esac
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
	(cd "$dest.deb" && apt-get -q -o APT::Sandbox::User=root download "$@" >&2)
	for deb in "$dest".deb/*.deb; do
		dpkg -x "$deb" "$dest"
	done
	rm -rf "$dest.deb"
}

build() {
	local version="$1" tmp hdrs
	tmp="$KDIR.new"
	rm -rf "$tmp"
	unpack_debs "$tmp/root" "$PKG=$version"
	mapfile -t hdrs < <(headers_packages "$version")
	((${#hdrs[@]} >= 3)) || die "cannot resolve the header packages of $KVER: ${hdrs[*]}"
	unpack_debs "$tmp/headers" "${hdrs[@]}"
	# The headers' Makefile includes the -common tree by its absolute
	# /usr/src path: point it into this cache instead.
	sed -i "s#^include /usr/src/#include $KDIR/headers/usr/src/#" \
		"$tmp/headers/usr/src/linux-headers-$KVER/Makefile"
	ln -s "headers/usr/src/linux-headers-$KVER" "$tmp/build"
	# The package ships no modules.dep (its postinst runs depmod).
	depmod -b "$tmp/root" -F "$tmp/root/boot/System.map-$KVER" "$KVER"
	extract_vmlinux "$tmp/root/boot/vmlinuz-$KVER" "$tmp/vmlinux" ||
		die "no ELF kernel found inside vmlinuz-$KVER"
	collect_initrd_modules "$tmp/root" "$tmp/initrd-modules"
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
		-f "$KDIR/vmlinux" && -f "$KDIR/initrd-modules/load-order" &&
		-f "$KDIR/root/lib/modules/$KVER/modules.dep" &&
		-f "$KDIR/build/Makefile" ]]
}
if complete; then
	log "kernel $KVER: cached"
else
	build "$version"
	log "kernel $KVER: ready in $KDIR"
fi
echo "$KDIR"
