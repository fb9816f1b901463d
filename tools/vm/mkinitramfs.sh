#!/usr/bin/env bash
# Usage: tools/vm/mkinitramfs.sh KDIR OUT
#
# Writes a busybox-static initramfs (uncompressed cpio newc: the guest has
# nothing to decompress) for the x86_64 kernel in KDIR (fetch-kernel.sh's
# directory) to OUT, unless OUT is already up to date for this script, the
# kernel's initramfs modules and busybox (OUT.stamp).
#
# The guest protocol (boot.sh writes the files, /init below reads them):
#   9p tag hostroot   host /, mounted read-only (cache=loose) at /host
#   9p tag results    boot.sh's --out DIR, writable, at /results and, once
#                     the guest's tmpfs is on /host/run, bound at
#                     /run/swgpu-results inside the chroot (nothing needs to
#                     exist for it on the host)
#   DIR/.vm/run.sh    the guest command, run as `chroot /host bash run.sh`;
#                     absent: an interactive shell instead
#   DIR/.vm/keep-paths host paths under /tmp or /run that must stay visible
#                     over the guest's tmpfs mounts (repo, cache, cwd)
#   DIR/.vm/exit-status written by /init: run.sh's exit status
#   kernel arg swgpu_shell=1  give run.sh the serial console as its tty
# Then /init powers the guest off.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

(($# == 2)) || die "usage: $0 KDIR OUT"
KDIR="$1" OUT="$2"
BUSYBOX=/bin/busybox

[[ -f "$KDIR/initrd-modules/load-order" ]] || die "no kernel in $KDIR (run fetch-kernel.sh)"
ensure_packages busybox-static cpio
# busybox-static installs /bin/busybox; make sure that one is static.
file_type="$(LC_ALL=C readelf -d "$BUSYBOX" 2>&1 || true)"
[[ "$file_type" == *"no dynamic section"* ]] || die "$BUSYBOX is not static"

stamp="$(cat "${BASH_SOURCE[0]}" "$KDIR/initrd-modules/load-order" "$BUSYBOX" |
	sha256sum | cut -c1-32)"
if [[ -f "$OUT" && -f "$OUT.stamp" && "$(cat "$OUT.stamp")" == "$stamp" ]]; then
	exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{bin,dev,proc,sys,host,keep,modules,results}
cp "$BUSYBOX" "$tmp/bin/busybox"
for applet in $("$BUSYBOX" --list); do
	[[ "$applet" == busybox ]] || ln -s busybox "$tmp/bin/$applet"
done
cp "$KDIR/initrd-modules/load-order" "$tmp/modules/"
while read -r m; do
	cp "$KDIR/initrd-modules/$m" "$tmp/modules/"
done <"$KDIR/initrd-modules/load-order"

cat >"$tmp/init" <<'INIT'
#!/bin/sh
# PID 1 of the swgpu test VM; see tools/vm/mkinitramfs.sh for the protocol.
export PATH=/bin
R=/results

fatal() {
	echo "swgpu-init: FATAL: $*"
	poweroff -f
}

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules/load-order); do
	insmod "/modules/$m" || fatal "insmod $m failed"
done

mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro \
	hostroot /host || fatal "cannot mount the host root over 9p"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results $R ||
	fatal "cannot mount the results share"

# Host paths under /tmp or /run that the guest needs are hidden by the tmpfs
# mounted there: park a bind mount of each, then put it back on top.
n=0
if [ -f $R/.vm/keep-paths ]; then
	while read -r p; do
		[ -d "/host$p" ] || continue
		n=$((n + 1))
		mkdir -p /keep/$n
		mount -o bind "/host$p" /keep/$n
		echo "$p" >/keep/$n.path
	done <$R/.vm/keep-paths
fi
mount -t tmpfs -o mode=1777 tmp /host/tmp
mount -t tmpfs -o mode=755 run /host/run
i=1
while [ $i -le $n ]; do
	p="$(cat /keep/$i.path)"
	mkdir -p "/host$p"
	mount -o bind /keep/$i "/host$p"
	i=$((i + 1))
done
mkdir -p /host/run/swgpu-results
mount -o bind $R /host/run/swgpu-results

mkdir -p /dev/pts /dev/shm
mount -o bind /dev /host/dev
mount -o bind /proc /host/proc
mount -o bind /sys /host/sys
mount -t devpts -o newinstance,ptmxmode=0666 devpts /host/dev/pts
mount -t tmpfs -o mode=1777 shm /host/dev/shm
mount -t debugfs debugfs /host/sys/kernel/debug

echo "swgpu-init: guest command starts at $(cut -d' ' -f1 /proc/uptime)s uptime"
if [ ! -f $R/.vm/run.sh ]; then
	setsid cttyhack chroot /host /bin/bash -l
	rc=$?
elif grep -q 'swgpu_shell=1' /proc/cmdline; then
	setsid cttyhack chroot /host /bin/bash /run/swgpu-results/.vm/run.sh
	rc=$?
else
	chroot /host /bin/bash /run/swgpu-results/.vm/run.sh </dev/null
	rc=$?
fi
echo "swgpu-init: guest command exited $rc at $(cut -d' ' -f1 /proc/uptime)s uptime"
echo $rc >$R/.vm/exit-status
sync
poweroff -f
INIT
chmod +x "$tmp/init"

pack_initramfs "$tmp" "$OUT" "$stamp"
log "initramfs: $OUT"
