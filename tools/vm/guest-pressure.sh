#!/usr/bin/env bash
# Runs inside the guest (boot.sh's chroot) for the memory pressure suite;
# tools/check.sh starts it in a small guest, once per mode:
#
#   tools/vm/guest-pressure.sh swap|noswap CMD ARGS...
#
# swap: the guest's first virtio disk (boot.sh --disk, a sparse image on
# the host) becomes its swap device: virtio_blk from the kernel's modules,
# mkswap, swapon. A disk rather than zram: the engine's FILL pages are
# one repeated word, which zram stores without using any memory, so zram
# would not show that the pages really leave memory and come back. A
# kernel that cannot swap there (no CONFIG_SWAP, no virtio_blk: the debug
# tier) gets no swap, and SWGPU_PRESSURE_NO_SWAP says why, so that the
# subtests that need swap skip with that reason.
# noswap: no swap at all (the guest has none by default).
# SWGPU_PRESSURE_BOOT tells the tests which boot this is. Then CMD runs
# (tools/check.sh: guest-tests.sh and its arguments), and the swap is
# turned off again before the guest powers off. Exit: CMD's.
set -euo pipefail
: "${SWGPU_MODROOT:?run me inside tools/vm/boot.sh}" "${SWGPU_KVER:?}"

usage() { echo "usage: $0 swap|noswap CMD ARGS..." >&2; exit 2; }
(($# >= 2)) || usage
mode="$1"
shift
dev=/dev/vda
swap_on=0
export SWGPU_PRESSURE_BOOT="$mode" SWGPU_PRESSURE_NO_SWAP=""

case "$mode" in
swap)
	if [[ ! -e /proc/swaps ]]; then
		SWGPU_PRESSURE_NO_SWAP="the kernel has no swap (CONFIG_SWAP)"
	elif ! modprobe -d "$SWGPU_MODROOT" -S "$SWGPU_KVER" virtio_blk 2>/dev/null; then
		SWGPU_PRESSURE_NO_SWAP="the kernel has no virtio_blk for the swap disk"
	elif [[ ! -b "$dev" ]]; then
		# The driver probes the disk before modprobe returns and
		# devtmpfs makes the node: no disk was attached.
		echo "guest-pressure: no $dev: was the VM booted with --disk?" >&2
		exit 1
	else
		mkswap -q "$dev" >/dev/null
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
		if (($(cat /proc/sys/vm/min_free_kbytes) < min_kb)); then
			echo "$min_kb" >/proc/sys/vm/min_free_kbytes
		fi
	fi
	[[ -z "$SWGPU_PRESSURE_NO_SWAP" ]] ||
		echo "guest-pressure: no swap: $SWGPU_PRESSURE_NO_SWAP"
	;;
noswap)
	if [[ -e /proc/swaps && -n "$(tail -n +2 /proc/swaps)" ]]; then
		echo "guest-pressure: the guest already has swap" >&2
		exit 1
	fi
	;;
*)
	usage
	;;
esac
echo "guest-pressure: $mode: $(grep -E '^(MemTotal|SwapTotal):' /proc/meminfo | tr -s ' ' | tr '\n' ' ')"

# The first memory cgroup below the root turns static keys on (kmem
# accounting, socket and bpf charging), which patches kernel text on
# every CPU. Under TCG with two vCPUs that patching has oopsed a guest
# at a half-patched site (6.12: "Oops: int3" in kfree, during the
# memcg subtest). A group made here, before swgpu is loaded, patches
# that text now, where a crash is the infrastructure's and is retried,
# and keeps it patched until the end: the tests' own groups then only
# change counts.
keep_cg=/sys/fs/cgroup/swgpu-keys
if [[ -e /sys/fs/cgroup/cgroup.controllers ]] ||
	mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null; then
	if grep -qw memory /sys/fs/cgroup/cgroup.controllers &&
		echo +memory >/sys/fs/cgroup/cgroup.subtree_control &&
		mkdir "$keep_cg"; then
		echo "guest-pressure: memory cgroup $keep_cg made before the module loads"
	else
		keep_cg=""
	fi
else
	keep_cg=""
fi

rc=0
"$@" || rc=$?
[[ -z "$keep_cg" ]] || rmdir "$keep_cg" || rc=1
if ((swap_on)); then
	swapoff "$dev" || rc=1
fi
exit "$rc"
