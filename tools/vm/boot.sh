#!/usr/bin/env bash
# Boot one kernel of tools/kernels.conf under QEMU (TCG) and run a command
# in the guest: the one way every tool boots a kernel.
#
# Usage: tools/vm/boot.sh --out DIR [--kernel NAME] [--timeout SEC]
#                         [--mem SIZE] [--disk IMAGE] [--icount]
#                         [--shell] [--verbose]
#                         [-- CMD ARGS...]
#
# NAME: a kernel of tools/kernels.conf (default 6.12), fetched or built by
# tools/vm/fetch-kernel.sh; its memory (unless --mem) and kernel arguments
# come from the table, plus $SWGPU_APPEND (e.g. "loglevel=7" to watch a
# slow boot). The guest, by the kernel's architecture:
#
# x86_64: CMD runs as root inside `chroot` of the host's root file system
#   (read-only over 9p), so host binaries and the repo at its real path
#   work there. It starts in the caller's working directory; /tmp, /run
#   and /dev/shm are fresh tmpfs; debugfs is mounted. SWGPU_OUT is
#   /run/swgpu-results.
# i386: the host's programs are 64-bit, so CMD runs under busybox sh in
#   the initramfs of tools/vm/i386-initramfs.sh; the repo, the build dir,
#   the kernel's directory and the paths named in CMD are bind-mounted from
#   the host root at their host paths. SWGPU_OUT is /results.
#
# In both, CMD sees:
#   SWGPU_KVER     kernel ABI name, e.g. 6.12.117+deb12-amd64
#   SWGPU_MODROOT  root of the kernel's modules (lib/modules/$SWGPU_KVER)
#   SWGPU_OUT      writable: it is DIR on the host
#   every exported SWGPU_* and IGT_* variable of the caller
#
# --icount: the guest's clock counts the instructions it runs (QEMU
# -icount shift=1,sleep=on: 2 ns each; real time only while the guest
# idles), so a host busy with other work stops the guest's clock with the
# guest instead of stretching its time between two instructions. For
# tests that order their steps by sleeping fractions of a short timeout
# (upstream IGT's syncobj_*): without it, under TCG on shared cores, a
# 20 ms step of theirs can take longer than their 100 ms budget. With
# 8 ns per instruction (shift=3) one of them still failed on the igt
# tier (lockdep); with 2 ns all passed, and a 30 s loop of guest time
# (dumb_buffer's create-clear) costs about 50 s. The guest
# gets one vCPU: icount runs vCPUs in turns in one host thread, and a
# second one starved that way stalled RCU.
# --disk IMAGE: a raw image file the guest sees as its first virtio disk
# (x86_64: /dev/vda once virtio_blk is loaded), written in place, no
# flushes: for scratch use such as swap (tools/vm/guest-pressure.sh).
#
# Output: the whole serial console goes to DIR/console.log, and to stdout
# too with --verbose or --shell. --shell: after CMD (if any), an interactive
# bash on the console; Ctrl-A x quits QEMU. Without CMD the guest always
# gives a shell.
#
# Exit status: CMD's own exit status. When the guest gave none:
#   124  timed out (default 600 s times the kernel's slowness), QEMU killed
#   125  no status: kernel panic/oops (oops=panic, panic=-1), crash, a
#        hang at boot (no guest command after 180 s times the kernel's
#        slowness), or a broken VM setup; the console tail is printed
#   2    usage error
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
VM="$SWGPU_REPO/tools/vm"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

kernel=6.12 out='' timeout='' mem='' disk='' icount=0 shell=0 verbose=0
while (($#)); do
	case "$1" in
	--kernel)  kernel="${2:?}"; shift 2 ;;
	--out)     out="${2:?}"; shift 2 ;;
	--timeout) timeout="${2:?}"; shift 2 ;;
	--mem)     mem="${2:?}"; shift 2 ;;
	--disk)    disk="${2:?}"; shift 2 ;;
	--icount)  icount=1; shift ;;
	--shell)   shell=1; shift ;;
	--verbose) verbose=1; shift ;;
	--)        shift; break ;;
	-h|--help) usage ;;
	*)         echo "unknown argument: $1" >&2; usage ;;
	esac
done
[[ -n "$out" ]] || usage
(($# > 0)) || shell=1

ensure_packages qemu-system-x86 cpio
kernel_row "$kernel"
KDIR="$("$VM/fetch-kernel.sh" "$kernel")"
KVER="$(cat "$KDIR/release")"
arch="$(cat "$KDIR/arch")"
mem="${mem:-$K_MEM}"
timeout="${timeout:-$((600 * K_SLOW))}"
[[ "$timeout" =~ ^[0-9]+$ ]] || usage

mkdir -p "$out"
out="$(cd "$out" && pwd)"
rm -rf "$out/.vm" "$out/console.log"
mkdir "$out/.vm"

# The caller's SWGPU_*/IGT_* environment, for run.sh.
pass_env() {
	local v
	for v in $(compgen -e | grep -E '^(SWGPU|IGT)_' || true); do
		case "$v" in SWGPU_KVER|SWGPU_MODROOT|SWGPU_OUT) continue ;; esac
		printf 'export %s=%q\n' "$v" "${!v}"
	done
}

if [[ "$arch" == i386 ]]; then
	# Named by the script that makes it: trees of two versions of the
	# harness (two clones) share the cache without rewriting each
	# other's initramfs under a starting guest.
	INITRAMFS="$SWGPU_CACHE/i386-userspace/initramfs-$(sha256sum <"$VM/i386-initramfs.sh" | cut -c1-12).cpio"
	"$VM/i386-initramfs.sh" "$INITRAMFS"
	for p in "$SWGPU_REPO" "$SWGPU_BUILD" "$KDIR" "$(realpath "$KDIR/root")" "$@"; do
		[[ "$p" == /* && -e "$p" ]] || continue
		[[ -d "$p" ]] || p="$(dirname "$p")"
		realpath "$p"
	done | sort -u >"$out/.vm/data-paths"
	{
		echo "# generated by tools/vm/boot.sh (busybox sh)"
		printf 'export SWGPU_KVER=%q SWGPU_MODROOT=%q SWGPU_OUT=/results\n' \
			"$KVER" "$KDIR/root"
		pass_env
		echo 'export PATH=/bin HOME=/root'
		printf 'cd %q 2>/dev/null || cd /\n' "$PWD"
		(($# > 0)) && { printf '%q ' "$@"; echo; }
		((shell)) && echo 'exec sh -i'
	} >"$out/.vm/run.sh"
	qemu=(qemu-system-i386 -cpu qemu32)
else
	INITRAMFS="$KDIR/initramfs-$(sha256sum <"$VM/mkinitramfs.sh" | cut -c1-12).cpio"
	"$VM/mkinitramfs.sh" "$KDIR" "$INITRAMFS"
	# shellcheck disable=SC2054 # commas belong to QEMU options
	qemu=(qemu-system-x86_64 -cpu max,erms=off,fsrm=off)

	# keep-paths: what of ours lives under /tmp or /run, which the guest
	# covers with tmpfs (a CI clone or a cache there would vanish
	# otherwise): the repo, cache, build dir, working directory, and paths
	# named in the command.
	for p in "$SWGPU_REPO" "$SWGPU_CACHE" "$SWGPU_BUILD" "$PWD" "$@"; do
		[[ "$p" == /* && -e "$p" ]] || continue
		[[ -d "$p" ]] || p="$(dirname "$p")"
		p="$(realpath "$p")"
		case "$p" in /tmp/?*|/run/?*) echo "$p" ;; esac
	done | sort -u >"$out/.vm/keep-paths"

	# run.sh: the guest command with its environment.
	{
		echo "# generated by tools/vm/boot.sh"
		printf 'export SWGPU_KVER=%q SWGPU_MODROOT=%q SWGPU_OUT=/run/swgpu-results\n' \
			"$KVER" "$KDIR/root"
		pass_env
		echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
		printf 'export HOME=/root TERM=%q LANG=C.UTF-8\n' "${TERM:-linux}"
		printf 'cd %q 2>/dev/null || cd /\n' "$PWD"
		if (($# > 0)); then
			printf '%q ' "$@"
			echo
		fi
		if ((shell)); then
			# The serial console has no window size: take the host terminal's.
			if size="$(stty size 2>/dev/null)"; then
				printf 'stty rows %d cols %d 2>/dev/null\n' "${size% *}" "${size#* }"
			fi
			echo 'export PS1="[swgpu-vm $SWGPU_KVER \w]# "'
			echo 'exec bash --norc -i'
		fi
	} >"$out/.vm/run.sh"
fi

append="console=ttyS0,115200 panic=-1 oops=panic mitigations=off nokaslr"
append+=" lpj=8000000 quiet loglevel=4"
if ((shell)); then append+=" swgpu_shell=1"; fi
append+="${K_APPEND:+ $K_APPEND}${SWGPU_APPEND:+ $SWGPU_APPEND}"

# QEMU splits -fsdev options on commas; a comma in a path is written ",,".
# shellcheck disable=SC2054
qemu+=(-accel tcg -machine pc
	-bios /usr/share/qemu/qboot.rom
	-nodefaults -no-user-config -no-reboot -display none
	-smp "$((icount ? 1 : 2))" -m "$mem"
	-kernel "$KDIR/image" -initrd "$INITRAMFS" -append "$append"
	-fsdev local,id=fs0,path=/,security_model=none,multidevs=remap,readonly=on
	-device virtio-9p-pci,fsdev=fs0,mount_tag=hostroot
	-fsdev "local,id=fs1,path=${out//,/,,},security_model=none"
	-device virtio-9p-pci,fsdev=fs1,mount_tag=results
)
# shellcheck disable=SC2054 # commas belong to QEMU options
((icount)) && qemu+=(-icount shift=1,sleep=on)
if [[ -n "$disk" ]]; then
	[[ -f "$disk" ]] || die "no such disk image: $disk"
	qemu+=(-drive "file=${disk//,/,,},if=virtio,format=raw,cache=unsafe")
fi
console="${out//,/,,}/console.log"

start="$(date +%s%N)"
rc=0
if ((shell)); then
	log "interactive guest on $KVER: 'exit' powers off, Ctrl-A x quits QEMU"
	"${qemu[@]}" -chardev "stdio,id=con,mux=on,signal=off,logfile=$console" \
		-serial chardev:con -mon chardev=con,mode=readline || rc=$?
else
	if ((verbose)); then exec 3>&1; else exec 3>/dev/null; fi
	# timeout(1) puts QEMU in the background: stdin must not be a tty.
	timeout -k 5 "$timeout" "${qemu[@]}" \
		-chardev "stdio,id=con,logfile=$console" -serial chardev:con \
		</dev/null >&3 &
	qpid=$!
	# A kernel that has not started the guest command after
	# $boot_limit s hangs at boot (seen under TCG on a loaded host):
	# stopped here, not after the whole --timeout, and reported as a
	# guest without exit status, which callers treat as an
	# infrastructure fault when their module was never loaded.
	boot_limit=$((180 * K_SLOW))
	(
		for ((i = 0; i < boot_limit; i++)); do
			sleep 1
			grep -qs '^swgpu-init: guest command starts' "$out/console.log" && exit 0
			kill -0 "$qpid" 2>/dev/null || exit 0
		done
		: >"$out/.vm/boot-hang"
		kill "$qpid" 2>/dev/null
	) &
	wpid=$!
	wait "$qpid" || rc=$?
	kill "$wpid" 2>/dev/null || true
	wait "$wpid" 2>/dev/null || true
	exec 3>&-
fi
elapsed="$(( ($(date +%s%N) - start) / 1000000 ))"
elapsed="$((elapsed / 1000)).$(printf %03d $((elapsed % 1000)))"

started="$(sed -n 's/^swgpu-init: guest command starts at \([0-9.]*\)s.*/\1/p' \
	"$out/console.log" 2>/dev/null | head -n1)"
timing="${elapsed}s wall, guest command started at ${started:-?}s uptime"
echo "$timing" >"$out/.vm/timing"

if [[ -f "$out/.vm/exit-status" ]]; then
	status="$(cat "$out/.vm/exit-status")"
	log "$KVER: guest exit status $status ($timing)"
	exit "$status"
fi

# The first kernel reports (the panic reason) and the last console lines.
show_tail() {
	((verbose || shell)) && return 0
	[[ -f "$out/console.log" ]] || return 0
	"$VM/scan-log.sh" "$out/console.log" >&2 || true
	echo "---- last lines of $out/console.log ----" >&2
	tail -n 12 "$out/console.log" >&2
	echo "----" >&2
}
if [[ -f "$out/.vm/boot-hang" ]]; then
	show_tail
	log "$KVER: FAIL: the guest did not reach its command within ${boot_limit}s:" \
		"a hang at boot, QEMU killed ($timing)"
	exit 125
fi
if ((rc == 124 || rc == 137)); then
	show_tail
	log "$KVER: FAIL: guest timed out after ${timeout}s and was killed ($timing)"
	exit 124
fi
show_tail
log "$KVER: FAIL: guest gave no exit status: kernel panic, oops or VM failure" \
	"(QEMU exit $rc, $timing); see $out/console.log"
exit 125
