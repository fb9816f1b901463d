#!/bin/sh
# Runs inside the guest for the memory pressure suite; tools/check.sh
# starts it in a small guest, once per mode:
#
#   sh tools/vm/guest-pressure.sh swap|noswap CMD ARGS...
#
# POSIX sh: the x86_64 guests run it in boot.sh's chroot of the host, the
# i386 HIGHMEM tier under busybox sh in its initramfs, where CMD is
# tools/tiers/guest-highmem.sh.
#
# swap: the guest's first virtio disk (boot.sh --disk, a sparse image on
# the host) becomes its swap device: virtio_blk (built into the i386
# tier; a module of the kernel's own on the others), mkswap, swapon. A
# disk rather than zram: the engine's FILL pages are one repeated word,
# which zram stores without using any memory, so zram would not show that
# the pages really leave memory and come back. A kernel that cannot swap
# there (no CONFIG_SWAP, no virtio_blk: the debug tier) gets no swap, and
# SWGPU_PRESSURE_NO_SWAP says why, so that the subtests that need swap
# skip with that reason.
# noswap: no swap at all (the guest has none by default).
# SWGPU_PRESSURE_BOOT tells the tests which boot this is. Then CMD runs
# (tools/check.sh: guest-tests.sh or guest-highmem.sh and their
# arguments), and the swap is turned off again before the guest powers
# off. Exit: CMD's.
set -eu
: "${SWGPU_MODROOT:?run me inside tools/vm/boot.sh}" "${SWGPU_KVER:?}"

usage() { echo "usage: $0 swap|noswap CMD ARGS..." >&2; exit 2; }
[ $# -ge 2 ] || usage
mode="$1"
shift
dev=/dev/vda
swap_on=0
SWGPU_PRESSURE_BOOT="$mode" SWGPU_PRESSURE_NO_SWAP=""
export SWGPU_PRESSURE_BOOT SWGPU_PRESSURE_NO_SWAP

# virtio_blk present or loaded. busybox has no modprobe, and the tier
# that runs under it has the driver built in.
have_virtio_blk() {
	[ -b "$dev" ] || [ -d /sys/module/virtio_blk ] && return 0
	command -v modprobe >/dev/null 2>&1 || return 1
	modprobe -d "$SWGPU_MODROOT" -S "$SWGPU_KVER" virtio_blk 2>/dev/null
}

case "$mode" in
swap)
	if [ ! -e /proc/swaps ]; then
		SWGPU_PRESSURE_NO_SWAP="the kernel has no swap (CONFIG_SWAP)"
	elif ! have_virtio_blk; then
		SWGPU_PRESSURE_NO_SWAP="the kernel has no virtio_blk for the swap disk"
	elif [ ! -b "$dev" ]; then
		# The driver probes the disk before modprobe returns (or at
		# boot, built in) and devtmpfs makes the node: no disk was
		# attached.
		echo "guest-pressure: no $dev: was the VM booted with --disk?" >&2
		exit 1
	else
		# busybox mkswap has no -q.
		mkswap "$dev" >/dev/null
		swapon "$dev"
		swap_on=1
		# Reclaim that swaps hard at the watermarks allocates for
		# itself too: since 7.x a cluster's swap table, with
		# __GFP_HIGH but without __GFP_NOWARN, so running dry prints
		# an allocation-failure trace (harmless: the folio is swapped
		# later), as for any process that swaps a small machine hard.
		# A reserve of 1/16 of memory instead of the default sliver
		# leaves those allocations room; the tests size their buffers
		# beyond memory either way.
		min_kb=$(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) / 16))
		if [ "$(cat /proc/sys/vm/min_free_kbytes)" -lt "$min_kb" ]; then
			echo "$min_kb" >/proc/sys/vm/min_free_kbytes
		fi
	fi
	[ -z "$SWGPU_PRESSURE_NO_SWAP" ] ||
		echo "guest-pressure: no swap: $SWGPU_PRESSURE_NO_SWAP"
	;;
noswap)
	if [ -e /proc/swaps ] && [ -n "$(tail -n +2 /proc/swaps)" ]; then
		echo "guest-pressure: the guest already has swap" >&2
		exit 1
	fi
	;;
*)
	usage
	;;
esac
echo "guest-pressure: $mode: $(grep -E '^(MemTotal|HighTotal|LowTotal|SwapTotal):' /proc/meminfo | tr -s ' ' | tr '\n' ' ')"

# The first memory cgroup below the root turns static keys on (kmem
# accounting, socket and bpf charging), which patches kernel text on
# every CPU. Under TCG with two vCPUs that patching has oopsed a guest
# at a half-patched site (6.12: "Oops: int3" in kfree, during the
# memcg subtest). A group made here, before swgpu is loaded, patches
# that text now, where a crash is the infrastructure's and is retried,
# and keeps it patched until the end: the tests' own groups then only
# change counts.
keep_cg=/sys/fs/cgroup/swgpu-keys
if { [ -e /sys/fs/cgroup/cgroup.controllers ] ||
	mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null; } &&
	grep -qw memory /sys/fs/cgroup/cgroup.controllers &&
	echo +memory >/sys/fs/cgroup/cgroup.subtree_control &&
	mkdir "$keep_cg"; then
	echo "guest-pressure: memory cgroup $keep_cg made before the module loads"
else
	keep_cg=""
fi

rc=0
"$@" || rc=$?
if [ -n "$keep_cg" ]; then
	rmdir "$keep_cg" || rc=1
fi
if [ $swap_on = 1 ]; then
	swapoff "$dev" || rc=1
fi
exit "$rc"
