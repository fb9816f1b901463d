#!/usr/bin/env bash
# Usage: tools/vm/i386-initramfs.sh OUT
#
# Writes the initramfs of the i386 guests to OUT (unless it is up to date,
# OUT.stamp): the host's programs are 64-bit, so an i386 guest stays in a
# busybox user space (Debian's busybox-static:i386, unpacked into the
# cache; nothing i386 is installed on the host). boot.sh's protocol, with
# these differences: the guest command runs under busybox sh, not in a
# chroot of the host root; the host root is mounted read-only at /host for
# data only, and each path of DIR/.vm/data-paths is bind-mounted from it at
# its host path; the results share is /results.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

(($# == 1)) || die "usage: $0 OUT"

i386_busybox() {
	local dir="$SWGPU_CACHE/i386-userspace" ver tmp
	# Private i386 package lists: the host's dpkg is not given a foreign
	# architecture.
	suite_apt bookworm i386
	ver="$(apt-cache "${APT_OPTS[@]}" show --no-all-versions busybox-static \
		2>/dev/null | sed -n 's/^Version: //p' | head -n1)"
	[[ -n "$ver" ]] || die "busybox-static:i386 is not in the package lists"
	dir="$dir/busybox-static-${ver//[^A-Za-z0-9.+~-]/_}"
	if [[ ! -x "$dir/bin/busybox" ]]; then
		tmp="$dir.new"
		rm -rf "$tmp"
		mkdir -p "$tmp/deb"
		(cd "$tmp/deb" && apt-get -qq "${APT_OPTS[@]}" download \
			"busybox-static=$ver" >&2)
		dpkg -x "$tmp"/deb/*.deb "$tmp"
		rm -rf "$tmp/deb"
		[[ -x "$tmp/bin/busybox" ]] || die "busybox-static:i386 has no bin/busybox"
		rm -rf "$dir"
		mv "$tmp" "$dir"
	fi
	echo "$dir/bin/busybox"
}

i386_initramfs() {
	local bb="$1" img="$2" stamp tmp applet
	stamp="$(cat "${BASH_SOURCE[0]}" "$bb" | sha256sum | cut -c1-32)"
	[[ -f "$img" && "$(cat "$img.stamp" 2>/dev/null)" == "$stamp" ]] && return 0
	tmp="$(mktemp -d)"
	mkdir -p "$tmp"/{bin,dev,proc,sys,tmp,host,results,root}
	cp "$bb" "$tmp/bin/busybox"
	# The host cannot run it to ask for --list: link the applets the
	# guest scripts use.
	for applet in sh ash cat cp cut date dmesg echo env grep head insmod \
		ls lsmod mkdir mount poweroff rm rmmod sed seq sleep sort tail \
		timeout tr true false uname wc awk find basename dirname \
		setsid cttyhack stty umount sync chmod ln test [ printf kill ps \
		free expr readlink realpath mktemp tee xargs mkswap swapon \
		swapoff; do
		ln -s busybox "$tmp/bin/$applet"
	done
	cat >"$tmp/init" <<'INIT'
#!/bin/sh
# PID 1 of a swgpu i386 VM; see tools/vm/i386-initramfs.sh.
export PATH=/bin
R=/results
fatal() { echo "swgpu-init: FATAL: $*"; poweroff -f; }
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs -o mode=1777 tmp /tmp
mkdir -p /dev/shm /dev/pts && mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro \
	hostroot /host || fatal "cannot mount the host root over 9p"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results $R ||
	fatal "cannot mount the results share"
while read -r p; do
	[ -d "/host$p" ] || continue
	mkdir -p "$p" && mount -o bind "/host$p" "$p"
done <$R/.vm/data-paths
echo "swgpu-init: guest command starts at $(cut -d' ' -f1 /proc/uptime)s uptime"
if grep -q 'swgpu_shell=1' /proc/cmdline; then
	setsid cttyhack sh $R/.vm/run.sh
	rc=$?
else
	sh $R/.vm/run.sh </dev/null
	rc=$?
fi
echo "swgpu-init: guest command exited $rc at $(cut -d' ' -f1 /proc/uptime)s uptime"
echo $rc >$R/.vm/exit-status
sync
poweroff -f
INIT
	chmod +x "$tmp/init"
	pack_initramfs "$tmp" "$img" "$stamp"
	rm -rf "$tmp"
}

ensure_packages cpio
i386_initramfs "$(i386_busybox)" "$1"
