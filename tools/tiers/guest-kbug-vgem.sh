#!/bin/sh
# Runs inside an i386 HIGHMEM guest of its own (tools/vm/boot.sh's busybox
# initramfs, POSIX sh); tools/check.sh starts it:
#
#   sh tools/tiers/guest-kbug-vgem.sh LOADLIST KTAPDIR
#
# The "vgem-highmem-wc" kernel bug reproducer (docs/upstream/README.rst):
# loads drm and the in-tree vgem (LOADLIST: the .ko paths in insmod
# order, resolved on the host) and runs KTAPDIR/vgem-highmem-mmap, which
# maps a vgem dumb buffer. A kernel with the bug oopses in that mmap; with
# oops=panic the guest ends there and leaves no result file: the host
# reads the oops from console.log (the marker line below tells an oops in
# the reproducer from one before it). A kernel that survives leaves
# $SWGPU_OUT/kbug_vgem.kbug:
#   fixed vgem-highmem-wc # <what the reproducer printed>
#   reproduced vgem-highmem-wc # survived, but the kernel log has ...
#   error vgem-highmem-wc # <why the reproducer could not run>
: "${SWGPU_OUT:?run me inside tools/vm/boot.sh}"
[ $# -eq 2 ] || { echo "usage: $0 LOADLIST KTAPDIR" >&2; exit 2; }
loadlist="$1" ktapdir="$2"
out="$SWGPU_OUT/kbug_vgem.kbug"

result() { printf '%s vgem-highmem-wc # %s\n' "$1" "$2" >"$out"; }

while read -r ko; do
	[ -n "$ko" ] || continue
	name="$(basename "$ko" .ko | tr - _)"
	[ -d "/sys/module/$name" ] && continue
	insmod "$ko" || { result error "insmod $ko failed"; exit 0; }
done <"$loadlist"
high_kb="$(sed -n 's/^HighTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)"
if [ "${high_kb:-0}" -eq 0 ]; then
	result error "no HighTotal in /proc/meminfo: the bug needs highmem pages"
	exit 0
fi

# The host looks for this line before the oops.
echo "guest-kbug-vgem: running the reproducer"
msg="$("$ktapdir/vgem-highmem-mmap" 2>&1)"
rc=$?
echo "$msg" | sed 's/^/guest-kbug-vgem: /'
dmesg >"$SWGPU_OUT/dmesg.txt"
if [ $rc != 0 ]; then
	result error "vgem-highmem-mmap exited $rc: $(echo "$msg" | tail -n1)"
elif grep -qE 'CPA: called for zero pte|BUG:|WARNING:' "$SWGPU_OUT/dmesg.txt"; then
	result reproduced "the mapping worked, but the kernel log reports a CPA fault (dmesg.txt)"
else
	result fixed "$(echo "$msg" | tail -n1); kernel log clean"
fi
exit 0
