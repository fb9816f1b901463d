# Shared helpers for the swgpu tools. Source it; do not execute it.
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"        (from tools/)
# Callers run with `set -euo pipefail`.
# shellcheck shell=bash disable=SC2034 # variables here are for the callers

# Repo root, derived from this file's location so every tool works from any
# working directory (CI clones the repo into an arbitrary folder).
SWGPU_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SWGPU_CACHE="${SWGPU_CACHE:-$HOME/.cache/swgpu}"
SWGPU_BUILD="${SWGPU_BUILD:-$SWGPU_REPO/build}"
# Every tool may write below the cache at once: it exists from here on.
mkdir -p "$SWGPU_CACHE"

# Everything a full check needs on a fresh Debian 12 machine. Headers and
# images of the guest kernels are not installed: fetch-kernel.sh unpacks
# them into the cache (installing a linux-headers package would pull its
# linux-image into the host's /boot). dwarves: pahole, for the BTF that
# Debian's headers ask modules to carry.
SWGPU_HOST_PACKAGES=(
	qemu-system-x86 busybox-static sparse libdrm-dev kmod cpio xz-utils
	zstd bc flex bison libelf-dev build-essential rsync dwarves
)

# Logging goes to stderr: stdout of a tool is kept for its data (a path).
log()  { printf '[swgpu] %s\n' "$*" >&2; }
warn() { printf '[swgpu] warning: %s\n' "$*" >&2; }
die()  { printf '[swgpu] error: %s\n' "$*" >&2; exit 1; }

# Install the given Debian packages that are not installed yet. Fast when
# all are present: one dpkg-query, no apt-get at all.
ensure_packages() {
	local missing=() pkg status
	for pkg in "$@"; do
		status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
		[[ "$status" == "install ok installed" ]] || missing+=("$pkg")
	done
	((${#missing[@]} == 0)) && return 0
	[[ $EUID -eq 0 ]] || die "missing packages (need root to install): ${missing[*]}"
	log "installing: ${missing[*]}"
	apt_update_once
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "${missing[@]}" >&2
}

# apt-get update at most once per process tree; it is the slow part.
apt_update_once() {
	[[ -n "${SWGPU_APT_UPDATED:-}" ]] && return 0
	log "apt-get update"
	DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
	export SWGPU_APT_UPDATED=1
}

# resolve_kernel SHORT: set KVER and KVERSION, the current Debian ABI name
# and image package version, e.g. 6.12 -> 6.12.117+deb12-amd64 and
# 6.12.117-1~deb12u1. Resolved from the meta package, whose Depends pins
# both, because the archive moves; a full KVER is accepted too. apt-cache
# takes ~0.7 s here (no pkgcache), so the answer is exported for child
# processes. Call it directly, not in $(...), or nothing is kept.
resolve_kernel() {
	local arg="$1" var pkg line
	var="SWGPU_RESOLVED_${arg//[^A-Za-z0-9]/_}"
	line="${!var:-}"
	if [[ -z "$line" ]]; then
		case "$arg" in
		6.1)    pkg=linux-image-amd64 ;;
		6.12)   pkg=linux-image-6.12-amd64 ;;
		*-amd64) pkg="linux-image-$arg" ;;
		*)      die "unknown kernel '$arg' (known: 6.1, 6.12, or a full ABI name)" ;;
		esac
		line="$(package_pin "$pkg" "$arg")"
		if [[ -z "$line" ]]; then
			# A fresh machine may have no package lists yet.
			apt_update_once
			line="$(package_pin "$pkg" "$arg")"
		fi
		[[ -n "$line" ]] || die "cannot resolve kernel '$arg' ($pkg) from the package lists"
		export "$var=$line"
	fi
	KVER="${line%% *}"
	KVERSION="${line#* }"
}

# "KVER VERSION" from apt-cache show of a meta package (its Depends line) or
# of the image package itself (its Version line).
package_pin() {
	local pkg="$1" arg="$2"
	if [[ "$arg" == *-amd64 ]]; then
		apt-cache show --no-all-versions "$pkg" 2>/dev/null |
			sed -n "s/^Version: \(.*\)/$arg \1/p" | head -n1
	else
		apt-cache show --no-all-versions "$pkg" 2>/dev/null |
			sed -n 's/^Depends: .*linux-image-\([0-9][^ ]*\) (= \([^)]*\)).*/\1 \2/p' |
			head -n1
	fi
}

# Supported kernel series, for --kernel all.
SWGPU_KERNELS=(6.1 6.12)

# Per-kernel cache directory (fetch-kernel.sh fills it).
kernel_cache() { echo "$SWGPU_CACHE/kernels/$1"; }

# module_ko SHORT: build the module for kernel SHORT (resolve_kernel first)
# into $SWGPU_BUILD/$KVER and print the path of swgpu.ko (or of the only
# .ko built). The build log is shown only when the build fails.
module_ko() {
	local kos err="$SWGPU_BUILD/$KVER/build-module.err"
	mkdir -p "$SWGPU_BUILD/$KVER"
	if ! kos="$("$SWGPU_REPO/tools/build-module.sh" "$KVER" "$SWGPU_BUILD/$KVER" 2>"$err")"; then
		cat "$err" >&2
		die "module build failed for $KVER"
	fi
	grep '/swgpu\.ko$' <<<"$kos" || head -n1 <<<"$kos"
}

# build_module_in KBUILD OUTDIR LABEL [MAKE-ARGS...]: build the module out
# of tree against the kernel build tree KBUILD, with W=1 and MAKE-ARGS
# (-jN, ARCH=, C=2), in a copy of drm_driver/ and include/ under OUTDIR
# (siblings, as in the repo). Any compiler, modpost or sparse warning
# fails it. Prints the built .ko paths; the log goes to stderr and
# OUTDIR/build.log. LABEL names the kernel in messages.
build_module_in() {
	local kbuild="$1" outdir="$2" label="$3" dir rc=0 kos
	shift 3

	# rsync keeps mtimes, so Kbuild rebuilds only what changed; --delete
	# drops removed sources but spares the build products.
	for dir in drm_driver include; do
		[[ -d "$SWGPU_REPO/$dir" ]] || continue
		rsync -a --delete \
			--exclude='*.o' --exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c' \
			--exclude='.*.cmd' --exclude='*.order' --exclude='Module.symvers' \
			--exclude='.*.d' --exclude='*.tmp' \
			"$SWGPU_REPO/$dir/" "$outdir/$dir/"
	done

	log "building the module for $label in $outdir"
	make -C "$kbuild" M="$outdir/drm_driver" W=1 "$@" modules \
		>"$outdir/build.log" 2>&1 || rc=$?
	cat "$outdir/build.log" >&2
	((rc == 0)) || die "module build failed for $label (exit $rc), log: $outdir/build.log"
	if grep -qi 'warning:' "$outdir/build.log"; then
		# Warnings fail the build: drop the objects so that the next
		# build recompiles these files and shows the warnings again.
		make -C "$kbuild" M="$outdir/drm_driver" "$@" clean >/dev/null 2>&1 || true
		grep -i 'warning:' "$outdir/build.log" >&2
		die "module build for $label has warnings (treated as errors), log: $outdir/build.log"
	fi

	kos="$(find "$outdir/drm_driver" -name '*.ko' | LC_ALL=C sort)"
	[[ -n "$kos" ]] || die "the build produced no .ko in $outdir/drm_driver"
	echo "$kos"
}
