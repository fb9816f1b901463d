#!/usr/bin/env bash
# Boot a tier kernel (tools/tiers/build-kernel.sh) under QEMU and run a
# command in the guest; tools/vm/boot.sh for kernels built here.
#
# Usage: tools/tiers/boot-tier.sh --kdir DIR --out DIR [--timeout SEC]
#                                 [--mem SIZE] [--verbose] [--shell]
#                                 [-- CMD ARGS...]
#
# --kdir is the directory build-kernel.sh printed. Two guest layouts, by
# the tier's architecture:
#
# x86_64: exactly boot.sh's protocol and initramfs (tools/vm/mkinitramfs.sh):
#   CMD runs in a chroot of the host root shared read-only over 9p, with
#   SWGPU_KVER (the tier's release) and SWGPU_MODROOT (its modules_install
#   root) set, so tools/vm/guest-load.sh and guest-tests.sh work unchanged.
#   The kernel is booted as a bzImage (it has no PVH entry).
#
# i386: the host's programs are 64-bit, so the guest stays in a busybox
#   (i386, static) initramfs; CMD runs there with busybox sh. The host root
#   is shared read-only over 9p only for data: the repo, the build dir, the
#   tier's cache dir and the directories named in CMD are bind-mounted at
#   their host paths. SWGPU_OUT (writable, DIR on the host) is /results.
#   qemu-system-i386 -cpu qemu32.
#
# In both, every exported SWGPU_* and IGT_* variable of the caller is
# passed in (SWGPU_TIER_APPEND: extra kernel arguments), DIR/console.log gets the serial console and DIR/.vm/ the
# protocol files. Exit status as boot.sh: CMD's own; 124 timed out;
# 125 no status (panic, oops with oops=panic, VM failure); 2 usage.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
VM="$SWGPU_REPO/tools/vm"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

kdir='' out='' timeout=1800 mem='' shell=0 verbose=0
while (($#)); do
	case "$1" in
	--kdir)    kdir="${2:?}"; shift 2 ;;
	--out)     out="${2:?}"; shift 2 ;;
	--timeout) timeout="${2:?}"; shift 2 ;;
	--mem)     mem="${2:?}"; shift 2 ;;
	--shell)   shell=1; shift ;;
	--verbose) verbose=1; shift ;;
	--)        shift; break ;;
	-h|--help) usage ;;
	*)         echo "unknown argument: $1" >&2; usage ;;
	esac
done
[[ -n "$kdir" && -n "$out" && "$timeout" =~ ^[0-9]+$ ]] || usage
[[ -f "$kdir/complete" ]] || die "no finished tier kernel in $kdir"
(($# > 0)) || shell=1
kdir="$(cd "$kdir" && pwd)"
arch="$(cat "$kdir/arch")"
release="$(cat "$kdir/release")"
modroot="$kdir/modroot"

ensure_packages qemu-system-x86 cpio

mkdir -p "$out"
out="$(cd "$out" && pwd)"
rm -rf "$out/.vm" "$out/console.log"
mkdir "$out/.vm"

# The caller's SWGPU_*/IGT_* environment, as boot.sh passes it.
pass_env() {
	local v
	for v in $(compgen -e | grep -E '^(SWGPU|IGT)_' || true); do
		case "$v" in SWGPU_KVER|SWGPU_MODROOT|SWGPU_OUT) continue ;; esac
		printf 'export %s=%q\n' "$v" "${!v}"
	done
}

# ---- i386: a self-contained busybox initramfs --------------------------
# busybox-static:i386 from the archive, unpacked into the cache; nothing
# i386 is installed on the host.
i386_busybox() {
	local dir="$SWGPU_CACHE/tiers/i386-userspace" ver tmp
	if ! dpkg --print-foreign-architectures | grep -qx i386; then
		[[ $EUID -eq 0 ]] || die "run as root once: dpkg --add-architecture i386 && apt-get update"
		log "adding the i386 architecture to dpkg (for apt-get download only)"
		dpkg --add-architecture i386
		unset SWGPU_APT_UPDATED
		apt_update_once
	fi
	ver="$(apt-cache show --no-all-versions busybox-static:i386 2>/dev/null |
		sed -n 's/^Version: //p' | head -n1)"
	if [[ -z "$ver" ]]; then
		unset SWGPU_APT_UPDATED
		apt_update_once
		ver="$(apt-cache show --no-all-versions busybox-static:i386 2>/dev/null |
			sed -n 's/^Version: //p' | head -n1)"
	fi
	[[ -n "$ver" ]] || die "busybox-static:i386 is not in the package lists"
	dir="$dir/busybox-static-${ver//[^A-Za-z0-9.+~-]/_}"
	if [[ ! -x "$dir/bin/busybox" ]]; then
		tmp="$dir.new"
		rm -rf "$tmp"
		mkdir -p "$tmp/deb"
		(cd "$tmp/deb" && apt-get -qq -o APT::Sandbox::User=root download \
			"busybox-static:i386=$ver" >&2)
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
		free expr readlink realpath mktemp tee xargs; do
		ln -s busybox "$tmp/bin/$applet"
	done
	cat >"$tmp/init" <<'INIT'
#!/bin/sh
# PID 1 of a swgpu self-contained tier VM; see tools/tiers/boot-tier.sh.
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
	(cd "$tmp" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$img.$$"
	rm -rf "$tmp"
	mv "$img.$$" "$img"
	echo "$stamp" >"$img.stamp"
}

append="console=ttyS0,115200 panic=-1 oops=panic mitigations=off nokaslr"
append+=" lpj=8000000 quiet loglevel=4"
((shell)) && append+=" swgpu_shell=1"
# The tier's own kernel arguments ("#@ append:" lines of TIER.config; the
# tier is the name of the cache directory above KDIR).
tier_config="$SWGPU_REPO/tools/tiers/$(basename "$(dirname "$kdir")").config"
if [[ -f "$tier_config" ]]; then
	while read -r a; do
		append+=" $a"
	done < <(sed -n 's/^#@ *append: *//p' "$tier_config")
fi
# SWGPU_TIER_APPEND: more kernel arguments (e.g. "loglevel=7" to see a
# slow or stuck boot); the last "quiet"/"loglevel" wins.
append+="${SWGPU_TIER_APPEND:+ $SWGPU_TIER_APPEND}"

if [[ "$arch" == x86_64 ]]; then
	# boot.sh's initramfs, reused: mkinitramfs.sh wants a fetch-kernel.sh
	# style directory, so give it one in the tier's cache. 9p is built in:
	# the module list is empty (the placeholder only satisfies its cp).
	fake="$kdir/initramfs-kernel/kernels/$release"
	mkdir -p "$fake/initrd-modules"
	: >"$fake/initrd-modules/load-order"
	: >"$fake/initrd-modules/00-none-built-in.ko"
	cmp -s "$kdir/release" "$fake/stamp" 2>/dev/null || cp "$kdir/release" "$fake/stamp"
	INITRAMFS="$kdir/initramfs.cpio"
	SWGPU_CACHE="$kdir/initramfs-kernel" "$VM/mkinitramfs.sh" "$release" "$INITRAMFS"
	if [[ ! -d /host-results ]]; then
		[[ $EUID -eq 0 ]] || die "create the empty directory /host-results (as root)"
		mkdir -p /host-results
	fi
	# keep-paths as boot.sh computes them.
	for p in "$SWGPU_REPO" "$SWGPU_CACHE" "$SWGPU_BUILD" "$PWD" "$@"; do
		[[ "$p" == /* && -e "$p" ]] || continue
		[[ -d "$p" ]] || p="$(dirname "$p")"
		p="$(realpath "$p")"
		case "$p" in /tmp/?*|/run/?*) echo "$p" ;; esac
	done | sort -u >"$out/.vm/keep-paths"
	{
		echo "# generated by tools/tiers/boot-tier.sh"
		printf 'export SWGPU_KVER=%q SWGPU_MODROOT=%q SWGPU_OUT=/host-results\n' \
			"$release" "$modroot"
		pass_env
		echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
		printf 'export HOME=/root TERM=%q LANG=C.UTF-8\n' "${TERM:-linux}"
		printf 'cd %q 2>/dev/null || cd /\n' "$PWD"
		(($# > 0)) && { printf '%q ' "$@"; echo; }
		((shell)) && echo 'exec bash --norc -i'
	} >"$out/.vm/run.sh"
	# shellcheck disable=SC2054 # commas belong to QEMU options
	qemu=(qemu-system-x86_64 -cpu max,erms=off,fsrm=off -m "${mem:-1G}")
else
	bb="$(i386_busybox)"
	INITRAMFS="$SWGPU_CACHE/tiers/i386-userspace/initramfs.cpio"
	i386_initramfs "$bb" "$INITRAMFS"
	for p in "$SWGPU_REPO" "$SWGPU_BUILD" "$kdir" "$@"; do
		[[ "$p" == /* && -e "$p" ]] || continue
		[[ -d "$p" ]] || p="$(dirname "$p")"
		realpath "$p"
	done | sort -u >"$out/.vm/data-paths"
	{
		echo "# generated by tools/tiers/boot-tier.sh (busybox sh)"
		printf 'export SWGPU_KVER=%q SWGPU_MODROOT=%q SWGPU_OUT=/results\n' \
			"$release" "$modroot"
		pass_env
		echo 'export PATH=/bin HOME=/root'
		printf 'cd %q 2>/dev/null || cd /\n' "$PWD"
		(($# > 0)) && { printf '%q ' "$@"; echo; }
		((shell)) && echo 'exec sh -i'
	} >"$out/.vm/run.sh"
	qemu=(qemu-system-i386 -cpu qemu32 -m "${mem:-2G}")
fi

# shellcheck disable=SC2054
qemu+=(-accel tcg -machine pc -bios /usr/share/qemu/qboot.rom
	-nodefaults -no-user-config -no-reboot -display none -smp 2
	-kernel "$kdir/bzImage" -initrd "$INITRAMFS" -append "$append"
	-fsdev local,id=fs0,path=/,security_model=none,multidevs=remap,readonly=on
	-device virtio-9p-pci,fsdev=fs0,mount_tag=hostroot
	-fsdev "local,id=fs1,path=${out//,/,,},security_model=none"
	-device virtio-9p-pci,fsdev=fs1,mount_tag=results)
console="${out//,/,,}/console.log"

start="$(date +%s%N)"
rc=0
if ((shell)); then
	log "interactive guest on $release: 'exit' powers off, Ctrl-A x quits QEMU"
	"${qemu[@]}" -chardev "stdio,id=con,mux=on,signal=off,logfile=$console" \
		-serial chardev:con -mon chardev=con,mode=readline || rc=$?
elif ((verbose)); then
	timeout -k 5 "$timeout" "${qemu[@]}" -chardev "stdio,id=con,logfile=$console" \
		-serial chardev:con </dev/null || rc=$?
else
	timeout -k 5 "$timeout" "${qemu[@]}" -chardev "stdio,id=con,logfile=$console" \
		-serial chardev:con </dev/null >/dev/null || rc=$?
fi
ms="$(( ($(date +%s%N) - start) / 1000000 ))"
started="$(sed -n 's/^swgpu-init: guest command starts at \([0-9.]*\)s.*/\1/p' \
	"$out/console.log" 2>/dev/null | head -n1)"
timing="$((ms / 1000)).$(printf %03d $((ms % 1000)))s wall, guest command started at ${started:-?}s uptime"
echo "$timing" >"$out/.vm/timing"

if [[ -f "$out/.vm/exit-status" ]]; then
	status="$(cat "$out/.vm/exit-status")"
	log "$release: guest exit status $status ($timing)"
	exit "$status"
fi
if ! ((verbose || shell)) && [[ -f "$out/console.log" ]]; then
	"$VM/scan-log.sh" "$out/console.log" >&2 || true
	echo "---- last lines of $out/console.log ----" >&2
	tail -n 12 "$out/console.log" >&2
	echo "----" >&2
fi
if ((rc == 124 || rc == 137)); then
	log "$release: FAIL: guest timed out after ${timeout}s and was killed ($timing)"
	exit 124
fi
log "$release: FAIL: guest gave no exit status: kernel panic, oops or VM failure" \
	"(QEMU exit $rc, $timing); see $out/console.log"
exit 125
