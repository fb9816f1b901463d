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

# Mesa's GBM, EGL and GLES2 (llvmpipe, kms_swrast) for the Mesa client
# (tools/mesa/mesa-client.c), and weston (the compositor, its headless
# backend, weston-simple-dmabuf-egl, weston-screenshooter) for the weston
# test (tools/weston/): x86_64 guests run the host's.
SWGPU_MESA_PACKAGES=(
	libgbm-dev libegl-dev libgles-dev libegl-mesa0 libgl1-mesa-dri weston
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

# pack_initramfs DIR OUT STAMP: DIR as an uncompressed newc cpio (the guest
# has nothing to decompress) at OUT, with STAMP in OUT.stamp. Written next
# to OUT and renamed: a concurrent boot never reads half a file.
pack_initramfs() {
	local dir="$1" out="$2" stamp="$3"
	mkdir -p "$(dirname "$out")"
	(cd "$dir" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$out.$$"
	mv "$out.$$" "$out"
	echo "$stamp" >"$out.stamp"
}

# ---- the kernel table (tools/kernels.conf) ----

SWGPU_KERNEL_TABLE="$SWGPU_REPO/tools/kernels.conf"

# kernel_names: every kernel of the table, in its order.
kernel_names() {
	awk -F'|' '!/^[[:space:]]*(#|$)/ { gsub(/[[:space:]]/, "", $1); print $1 }' \
		"$SWGPU_KERNEL_TABLE"
}

# kernel_row NAME: set K_NAME K_SUITE K_PACKAGE K_ARCH K_MEM K_SLOW K_LACKS
# K_APPEND from NAME's line of the table, or die naming the known kernels.
kernel_row() {
	local line
	line="$(awk -F'|' -v want="$1" '!/^[[:space:]]*(#|$)/ {
		for (i = 1; i <= NF; i++) gsub(/^[[:space:]]+|[[:space:]]+$/, "", $i)
		if ($1 == want) { for (i = 1; i <= 8; i++) printf "%s\t", $i; exit }
	}' "$SWGPU_KERNEL_TABLE")"
	[[ -n "$line" ]] || die "unknown kernel '$1' (known: $(kernel_names | xargs))"
	IFS=$'\t' read -r K_NAME K_SUITE K_PACKAGE K_ARCH K_MEM K_SLOW K_LACKS K_APPEND \
		<<<"$line"
	[[ "$K_LACKS" == - ]] && K_LACKS=""
	return 0
}

# ---- Debian suites other than the host's ----

# suite_apt SUITE [ARCH]: set APT_OPTS, the options that make apt-get and
# apt-cache use private package lists of SUITE (for ARCH, default the
# host's) under the cache (experimental: with sid, which it builds on),
# from the host's own archive address. The host's apt and dpkg
# configuration is never changed. Unstable's Release file here is past its
# Valid-Until date, hence that option, for these lists only. Bookworm for
# the host's architecture: the host's own lists (APT_OPTS empty).
suite_apt() {
	local suite="$1" arch="${2:-}" dir uri key s
	dir="$SWGPU_CACHE/apt/$suite${arch:+-$arch}"
	APT_OPTS=()
	[[ "$suite" == bookworm && -z "$arch" ]] && return 0
	uri="$(host_archive_uri)"
	key=/usr/share/keyrings/debian-archive-keyring.gpg
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
	for s in $([[ "$suite" == experimental ]] && echo sid) "$suite"; do
		echo "deb [signed-by=$key] $uri $s main"
	done >"$dir/sources.list"
	APT_OPTS=(-o "Dir::Etc::sourcelist=$dir/sources.list" -o Dir::Etc::sourceparts=-
		-o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache"
		-o Acquire::Check-Valid-Until=false -o "APT::Default-Release=$suite"
		-o APT::Sandbox::User=root)
	[[ -z "$arch" ]] || APT_OPTS+=(-o "APT::Architecture=$arch"
		-o "APT::Architectures=$arch" -o "Dir::State::status=$dir/status")
	[[ -z "$arch" || -f "$dir/status" ]] || : >"$dir/status"
	# Once per process tree, like apt_update_once.
	local var="SWGPU_APT_UPDATED_${suite//[^A-Za-z0-9]/_}${arch}"
	if [[ -z "${!var:-}" ]]; then
		log "apt-get update ($suite, private lists in $dir)"
		apt-get -qq "${APT_OPTS[@]}" update >&2 ||
			die "cannot read the $suite package lists"
		export "$var=1"
	fi
}

# host_apt_sources: the host's own apt sources file (bookworm, its updates
# and security entries), for roots of the host's suite.
host_apt_sources() {
	local f
	for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
		[[ -s "$f" ]] && { echo "$f"; return 0; }
	done
	die "cannot find the host's apt sources"
}

# The Debian archive the host's apt already uses (its bookworm entry).
host_archive_uri() {
	local uri
	uri="$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null |
		grep -v security | head -n1)"
	[[ -n "$uri" ]] || uri="$(awk '$1 == "deb" && $3 ~ /^bookworm$/ { print $2; exit }' \
		/etc/apt/sources.list 2>/dev/null)"
	[[ -n "$uri" ]] || die "cannot find the host's Debian archive in its apt sources"
	echo "$uri"
}

# resolve_kernel NAME: kernel_row NAME, then set KVER and KVERSION, the
# current ABI name and image package version (6.12 -> 6.12.117+deb12-amd64
# and 6.12.117-1~deb12u1), from the meta-package's Depends in its suite.
# A tier's KVER is its release once built (empty before) and KVERSION the
# hash of its build. apt-cache is slow here (~0.7 s): the answer is
# exported for child processes. Call it directly, not in $(...).
resolve_kernel() {
	local var line kdir
	kernel_row "$1"
	var="SWGPU_RESOLVED_${K_NAME//[^A-Za-z0-9]/_}"
	line="${!var:-}"
	if [[ -z "$line" && "$K_SUITE" == tier ]]; then
		if kdir="$("$SWGPU_REPO/tools/tiers/build-kernel.sh" --cached-only \
			"$K_PACKAGE" 2>/dev/null)"; then
			line="$(cat "$kdir/release") $(basename "$kdir")"
		else
			KVER="" KVERSION=""
			return 0
		fi
	elif [[ -z "$line" ]]; then
		suite_apt "$K_SUITE"
		line="$(meta_pin)"
		if [[ -z "$line" && "$K_SUITE" == bookworm ]]; then
			# A fresh machine may have no package lists yet.
			apt_update_once
			line="$(meta_pin)"
		fi
		[[ -n "$line" ]] || die "cannot resolve kernel '$K_NAME' ($K_PACKAGE in $K_SUITE)"
	fi
	export "$var=$line"
	KVER="${line%% *}"
	KVERSION="${line#* }"
}

# "KVER VERSION" from the Depends of K_PACKAGE's version in K_SUITE.
meta_pin() {
	apt-cache "${APT_OPTS[@]}" show --no-all-versions "$K_PACKAGE" 2>/dev/null |
		sed -n 's/^Depends: .*linux-image-\([0-9][^ ]*\) (= \([^)]*\)).*/\1 \2/p' |
		head -n1
}

# Per-kernel cache directory (fetch-kernel.sh fills it), by ABI name.
kernel_cache() { echo "$SWGPU_CACHE/kernels/$1"; }

# module_ko NAME: build the module for kernel NAME into $SWGPU_BUILD/NAME
# and print the path of swgpu.ko (or of the only .ko built). The build log
# is shown only when the build fails.
module_ko() {
	local kos err="$SWGPU_BUILD/$1/build-module.err"
	mkdir -p "$SWGPU_BUILD/$1"
	if ! kos="$("$SWGPU_REPO/tools/build-module.sh" "$1" "$SWGPU_BUILD/$1" 2>"$err")"; then
		cat "$err" >&2
		die "module build failed for $1"
	fi
	grep '/swgpu\.ko$' <<<"$kos" || head -n1 <<<"$kos"
}

# build_module_in KDIR OUTDIR LABEL [MAKE-ARGS...]: build the module out
# of tree against kernel directory KDIR (fetch-kernel.sh's: its build
# tree, inside its buildroot/ if it has one), with W=1 and MAKE-ARGS
# (-jN, ARCH=, C=2), in a copy of drm_driver/ and include/ under OUTDIR
# (siblings, as in the repo). Any compiler, modpost or sparse warning
# fails it. Prints the built .ko paths; the log goes to stderr and
# OUTDIR/build.log. LABEL names the kernel in messages.
build_module_in() {
	local kdir="$1" outdir="$2" label="$3" dir rc=0 kos
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
	kbuild_make "$kdir" "$outdir" W=1 "$@" modules >"$outdir/build.log" 2>&1 || rc=$?
	cat "$outdir/build.log" >&2
	((rc == 0)) || die "module build failed for $label (exit $rc), log: $outdir/build.log"
	if grep -qi 'warning:' "$outdir/build.log"; then
		# Warnings fail the build: drop the objects so that the next
		# build recompiles these files and shows the warnings again.
		kbuild_make "$kdir" "$outdir" "$@" clean >/dev/null 2>&1 || true
		grep -i 'warning:' "$outdir/build.log" >&2
		die "module build for $label has warnings (treated as errors), log: $outdir/build.log"
	fi

	kos="$(find "$outdir/drm_driver" -name '*.ko' | LC_ALL=C sort)"
	[[ -n "$kos" ]] || die "the build produced no .ko in $outdir/drm_driver"
	echo "$kos"
}

# kbuild_make KDIR OUTDIR MAKE-ARGS...: make -C <KDIR's build tree>
# M=OUTDIR/drm_driver. With a build root, inside it: OUTDIR is bound to
# /swgpu-build and /proc mounted, in a mount namespace of its own, so the
# host's mounts never change.
kbuild_make() {
	local kdir="$1" outdir="$2"
	shift 2
	if [[ ! -d "$kdir/buildroot" ]]; then
		make -C "$kdir/build" M="$outdir/drm_driver" "$@"
		return
	fi
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare --mount --propagation private -- bash -c '
		root="$1" out="$2" kbuild="$3"
		shift 3
		mkdir -p "$root/swgpu-build"
		mount --bind "$out" "$root/swgpu-build"
		mount -t proc proc "$root/proc"
		exec chroot "$root" make -C "$kbuild" M=/swgpu-build/drm_driver "$@"
	' kbuild_make "$kdir/buildroot" "$outdir" "$(cat "$kdir/build")" "$@"
}

# cached_root TOP SUITE PACKAGE...: print the directory of a Debian SUITE
# root with PACKAGE... (NAME or NAME=VERSION) made by tools/vm/build-root.sh
# under TOP, making it first if need be (under a lock, niced; the time it
# took is logged). Keyed by the suite, the packages and build-root.sh; a
# root of an older key is removed when its successor is made.
cached_root() {
	local top="$1" suite="$2" key dir lock start
	shift 2
	key="$({
		echo "$suite"
		printf '%s\n' "$@" | LC_ALL=C sort
		cat "$SWGPU_REPO/tools/vm/build-root.sh"
	} | sha256sum | cut -c1-16)"
	dir="$top/$suite-$key"
	mkdir -p "$top"
	exec {lock}>"$top/.lock-$suite"
	flock "$lock"
	if [[ ! -f "$dir.done" ]]; then
		start=$SECONDS
		rm -rf "$top/$suite-"*
		log "making a $suite root in $dir: $*"
		nice -n 10 "$SWGPU_REPO/tools/vm/build-root.sh" "$suite" "$dir" "$@" >&2
		: >"$dir.done"
		log "$suite root made in $((SECONDS - start)) s (cold)"
	fi
	exec {lock}>&-
	echo "$dir"
}
