#!/usr/bin/env bash
# Usage: tools/tiers/build-kernel.sh [--force-make|--cached-only] TIER
#
# Builds the kernel of test tier TIER (tools/tiers/TIER.config) from Debian's
# linux-source-6.12 and prints its cache directory:
#
#   $SWGPU_CACHE/tiers/TIER/HASH/
#     build/        the O= build tree: out-of-tree modules build against it
#                   (make -C build M=...)
#     bzImage       the kernel to boot
#     modroot/      modules_install staging root (lib/modules/RELEASE/)
#     release       the kernel release string (uname -r in the guest)
#     arch          x86_64 or i386
#     config        the final .config
#     times.log     how long each build of this directory took
#
# HASH covers the expanded config fragment (with its includes and
# directives), the linux-source package version, the compiler version and
# the build recipe version below, so a tier is rebuilt only when one of
# them changes; otherwise this prints the directory at once. A new HASH
# directory starts from a copy of the newest finished build tree of the
# same tier and source, so a config change costs an incremental build.
# --force-make runs make even on a finished directory (a no-op rebuild,
# timed into times.log). --cached-only builds and installs nothing: it
# prints the directory if the tier is built for the current source and
# config, and exits 3 if not (make check uses it to run only warm tiers).
#
# Fragment format: kconfig lines (CONFIG_X=y|m|n|"str"|N, or
# "# CONFIG_X is not set") and directives "#@ arch: x86_64|i386",
# "#@ base: tinyconfig|allnoconfig|defconfig|i386_defconfig",
# and "#@ include: OTHER.config" (relative to tools/tiers/); the tier's
# kernel arguments are in tools/kernels.conf. Every CONFIG_ line
# must hold in the final .config, or the build fails listing the ones that
# Kconfig changed (a missing dependency, a wrong name).
#
# Patched tiers (the kernel fixes of docs/upstream/):
# "#@ patches: FILE..." (paths relative to the repo) are applied with
# patch -p1, in order, to a copy of the source made of hard links (the
# files a patch touches are copied first, so the shared pristine source is
# never written), $SWGPU_CACHE/tiers/src/linux-VERSION+PATCHHASH/; their
# diffs (not their messages) are part of HASH. "#@ seed: OTHER" lets a new build directory
# start from OTHER tier's newest finished build tree. make runs with the
# patched copy bind-mounted over the source path the build tree was made
# with (its "source" link; the pristine source's path for a new tree), in
# a mount namespace of its own, so nobody else sees it: the paths in the
# seeded build tree's commands stay the same and only what the patches
# (and the config difference) change is rebuilt.
#
# Builds run with `nice -n $SWGPU_TIER_NICE` (default 19) and -j$SWGPU_TIER_JOBS (default 2); the log
# is $OUT/build.log. Stdout: the cache directory only.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
TIERS="$SWGPU_REPO/tools/tiers"
# Bump when the build steps change in a way that changes the products.
RECIPE=1
SRCPKG=linux-source-6.12
SRCTAR=/usr/src/linux-source-6.12.tar.xz
JOBS="${SWGPU_TIER_JOBS:-2}"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
force=0 cached_only=0
while (($#)); do
	case "$1" in
	--force-make) force=1; shift ;;
	--cached-only) cached_only=1; shift ;;
	-h|--help) usage ;;
	-*) usage ;;
	*) break ;;
	esac
done
(($# == 1)) || usage
tier="$1"
[[ "$tier" =~ ^[a-z0-9_-]+$ && -f "$TIERS/$tier.config" ]] ||
	die "no tier '$tier' (no $TIERS/$tier.config)"

if ((cached_only)); then
	# Without the source package nothing can have been built for it.
	dpkg-query -W -f='${Status}' "$SRCPKG" 2>/dev/null |
		grep -q 'install ok installed' || exit 3
else
	ensure_packages "$SRCPKG" build-essential bc flex bison libelf-dev \
		libssl-dev kmod xz-utils cpio
fi

# expand FILE: the fragment with its includes spliced in, includes first so
# that the tier's own lines come later and win.
expand() {
	local f="$1" inc
	for inc in $(sed -n 's/^#@ *include: *//p' "$f"); do
		[[ -f "$TIERS/$inc" ]] || die "$f includes missing $TIERS/$inc"
		expand "$TIERS/$inc"
	done
	echo "# ---- $(basename "$f")"
	cat "$f"
}
fragment="$(expand "$TIERS/$tier.config")"
directive() { sed -n "s/^#@ *$1: *//p" "$TIERS/$tier.config" | tail -n1; }
arch="$(directive arch)" base="$(directive base)"
seed_tier="$(directive seed)"
read -r -a patches <<<"$(directive patches)"
for p in "${patches[@]}"; do
	[[ -f "$SWGPU_REPO/$p" ]] || die "$tier.config: no patch $SWGPU_REPO/$p"
done
[[ -z "$seed_tier" || -f "$TIERS/$seed_tier.config" ]] ||
	die "$tier.config: '#@ seed: $seed_tier' names no tier"
case "$arch" in
x86_64|i386) ;;
*) die "$tier.config: '#@ arch:' must be x86_64 or i386, not '$arch'" ;;
esac
[[ "$base" =~ ^[a-z0-9_]+config$ ]] || die "$tier.config: bad '#@ base: $base'"

srcver="$(dpkg-query -W -f='${Version}' "$SRCPKG")"
ccver="$(gcc --version | head -n1)"
# Only the lines that make the kernel are hashed, not comments.
# Patches: their diffs, in order (not their commit messages, which do
# not change the kernel; nothing for an unpatched tier, so its hash is
# what it was before patches existed).
patchsums=""
for p in "${patches[@]}"; do
	patchsums+="$(sed -n '/^diff --git /,$p' "$SWGPU_REPO/$p" | sha256sum | cut -c1-64) $p"$'\n'
done
hash="$(printf '%s\n' "recipe $RECIPE" "source $srcver" "cc $ccver" "arch $arch" \
	"base $base" "$(grep -E '^CONFIG_|^# CONFIG_[A-Za-z0-9_]+ is not set' <<<"$fragment")" \
	${patchsums:+"$patchsums"} | sha256sum | cut -c1-16)"
TIERDIR="$SWGPU_CACHE/tiers/$tier"
OUT="$TIERDIR/$hash"
SRC="$SWGPU_CACHE/tiers/src/linux-$srcver"
PSRC=""
[[ -z "$patchsums" ]] ||
	PSRC="$SRC+$(sha256sum <<<"$patchsums" | cut -c1-12)"
mkdir -p "$TIERDIR" "$SWGPU_CACHE/tiers/src"

# The source is unpacked once per package version, shared by all tiers
# (they build with O=, so it stays clean).
unpack_source() {
	exec 8>"$SWGPU_CACHE/tiers/src/.lock"
	flock 8
	if [[ ! -f "$SRC/.unpacked" ]]; then
		log "unpacking $SRCTAR ($srcver)"
		rm -rf "$SRC.new"
		mkdir -p "$SRC.new"
		tar -xJf "$SRCTAR" -C "$SRC.new" --strip-components=1
		touch "$SRC.new/.unpacked"
		rm -rf "$SRC"
		mv "$SRC.new" "$SRC"
	fi
	exec 8>&-
}

# patch_source: the patched copy of the source at $PSRC, made once.
patch_source() {
	local p f
	exec 8>"$SWGPU_CACHE/tiers/src/.lock"
	flock 8
	if [[ ! -f "$PSRC/.patched" ]]; then
		log "patching a copy of the source: ${patches[*]}"
		rm -rf "$PSRC.new"
		cp -al "$SRC" "$PSRC.new"
		for p in "${patches[@]}"; do
			# Hard links share the pristine file: copy each file the
			# patch touches before it is changed.
			for f in $(sed -n 's|^+++ b/||p' "$SWGPU_REPO/$p"); do
				[[ -f "$PSRC.new/$f" ]] || continue
				cp -p "$PSRC.new/$f" "$PSRC.new/$f.unlink"
				mv "$PSRC.new/$f.unlink" "$PSRC.new/$f"
			done
			patch -p1 -s --no-backup-if-mismatch -d "$PSRC.new" \
				<"$SWGPU_REPO/$p" >&2 || die "$p does not apply to $srcver"
		done
		printf '%s\n' "$patchsums" >"$PSRC.new/.patched"
		rm -rf "$PSRC"
		mv "$PSRC.new" "$PSRC"
	fi
	exec 8>&-
}

# check_config: every CONFIG_ line of the fragment holds in .config; of
# a symbol set twice (a tier overriding its include), the last line.
check_config() {
	local cfg="$1" line sym want have bad=0
	local -A last=()
	while IFS= read -r line; do
		if [[ "$line" =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
			last["${BASH_REMATCH[1]}"]="${BASH_REMATCH[2]}"
		elif [[ "$line" =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set ]]; then
			last["${BASH_REMATCH[1]}"]=n
		fi
	done <<<"$fragment"
	for sym in "${!last[@]}"; do
		want="${last[$sym]}"
		have="$(sed -n "s/^$sym=//p" "$cfg")"
		[[ -n "$have" ]] || have=n
		if [[ "$have" != "$want" ]]; then
			printf '  %s: requested %s, final .config has %s\n' "$sym" "$want" "$have" >&2
			bad=1
		fi
	done
	return "$bad"
}

kmake() {
	if [[ -z "$PSRC" ]]; then
		nice -n "${SWGPU_TIER_NICE:-19}" make -C "$SRC" O="$OUT/build" ARCH="$arch" "$@"
		return
	fi
	# The build tree's commands name the source path it was made with
	# (a seed may come from a cache at another path): keep that one.
	local at="$SRC" rec
	rec="$(readlink "$OUT/build/source" 2>/dev/null || true)"
	[[ -n "$rec" && -f "$rec/Makefile" ]] && at="$rec"
	# shellcheck disable=SC2016 # expanded by the inner shell
	nice -n "${SWGPU_TIER_NICE:-19}" unshare --mount --propagation private -- bash -c '
		mount --bind "$1" "$2" || exit 1
		shift 2
		exec make "$@"
	' kmake "$PSRC" "$at" -C "$at" O="$OUT/build" ARCH="$arch" "$@"
}

if ((cached_only)); then
	[[ -f "$OUT/complete" ]] || exit 3
	echo "$OUT"
	exit 0
fi

exec 9>"$TIERDIR/.lock-$hash"
flock 9
if [[ -f "$OUT/complete" && $force == 0 ]]; then
	log "tier $tier: cached ($OUT)"
	echo "$OUT"
	exit 0
fi

unpack_source
[[ -z "$PSRC" ]] || patch_source
mkdir -p "$OUT"
kind=cold seed=""
if [[ ! -f "$OUT/build/.config" ]]; then
	# Seed from the newest finished build of this tier and source, else
	# of the "#@ seed:" tier.
	seed="$(ls -1td "$TIERDIR"/*/complete ${seed_tier:+"$SWGPU_CACHE/tiers/$seed_tier"/*/complete} \
		2>/dev/null | while read -r c; do
		d="$(dirname "$c")"
		[[ "$(cat "$d/srcver" 2>/dev/null)" == "$srcver" && "$d" != "$OUT" ]] &&
			{ echo "$d"; break; }
	done || true)"
	if [[ -n "$seed" ]]; then
		log "tier $tier: new config, starting from the build tree of $(basename "$seed")"
		rm -rf "$OUT/build"
		cp -a "$seed/build" "$OUT/build"
		kind="incremental (seeded from $(basename "$seed"))"
	fi
elif [[ -f "$OUT/complete" ]]; then
	kind=no-op
else
	kind="resumed"
fi
printf '%s\n' "$fragment" >"$OUT/fragment"
printf '%s\n' "$patchsums" >"$OUT/patches"
echo "$srcver" >"$OUT/srcver"
echo "$arch" >"$OUT/arch"
rm -f "$OUT/complete"

log "tier $tier: configuring ($base + $tier.config, ARCH=$arch) in $OUT/build"
start="$(date +%s)"
{
	mkdir -p "$OUT/build"
	# Fresh base every time, then the fragment on top: kconfig keeps the
	# last value of a symbol that is assigned twice.
	kmake -s "$base"
	cat "$OUT/fragment" >>"$OUT/build/.config"
	kmake -s olddefconfig
} >"$OUT/build.log" 2>&1 || { tail -n 30 "$OUT/build.log" >&2; die "configuring $tier failed"; }
if ! check_config "$OUT/build/.config"; then
	die "tier $tier: the options above are not set as requested (missing dependency or wrong name); fix $TIERS/$tier.config"
fi
cp "$OUT/build/.config" "$OUT/config"

# A new hash with the very same final .config (a reordered fragment, a
# directive): take the seed's products instead of making again.
if [[ -n "$seed" ]] && cmp -s "$seed/config" "$OUT/config" &&
	[[ "$(cat "$seed/patches" 2>/dev/null)" == "$patchsums" ]]; then
	rm -rf "$OUT/modroot"
	cp -a "$seed/modroot" "$OUT/modroot"
	cp "$seed/bzImage" "$seed/release" "$OUT/"
	printf '%s same .config as %s: products reused\n' "$(date -u +%FT%TZ)" \
		"$(basename "$seed")" >>"$OUT/times.log"
	touch "$OUT/complete"
	log "tier $tier: same final .config as $(basename "$seed"): reused"
	echo "$OUT"
	exit 0
fi

log "tier $tier: building bzImage and modules (nice -n ${SWGPU_TIER_NICE:-19}, -j$JOBS, log $OUT/build.log)"
image_target=bzImage
if ! kmake -j"$JOBS" "$image_target" modules >>"$OUT/build.log" 2>&1; then
	grep -E 'error|Error' "$OUT/build.log" | head -n 20 >&2 || true
	tail -n 20 "$OUT/build.log" >&2
	die "building tier $tier failed, log: $OUT/build.log"
fi
release="$(kmake -s kernelrelease 2>/dev/null)"
rm -rf "$OUT/modroot"
kmake -s INSTALL_MOD_PATH="$OUT/modroot" modules_install >>"$OUT/build.log" 2>&1 ||
	die "modules_install for $tier failed, log: $OUT/build.log"
# The build/ and source/ links point at this machine's paths; drop them so
# nothing walks into the source tree from the module root.
rm -f "$OUT/modroot/lib/modules/$release/build" "$OUT/modroot/lib/modules/$release/source"
depmod -b "$OUT/modroot" -F "$OUT/build/System.map" "$release"
cp "$OUT/build/arch/x86/boot/bzImage" "$OUT/bzImage"
echo "$release" >"$OUT/release"
end="$(date +%s)"
printf '%s %s build: %ss (-j%s, %s)\n' "$(date -u +%FT%TZ)" "$kind" "$((end - start))" \
	"$JOBS" "$(nproc) cpus" >>"$OUT/times.log"
touch "$OUT/complete"
log "tier $tier: $release built in $((end - start))s ($kind)"

# Keep the three newest builds of the tier; older ones are only disk use.
ls -1td "$TIERDIR"/*/ 2>/dev/null | tail -n +4 | while read -r old; do
	[[ "$(realpath "$old")" == "$(realpath "$OUT")" ]] && continue
	exec 7>"$TIERDIR/.lock-$(basename "$old")"
	flock -n 7 && rm -rf "$old" && rm -f "$TIERDIR/.lock-$(basename "$old")"
	exec 7>&-
done
echo "$OUT"
