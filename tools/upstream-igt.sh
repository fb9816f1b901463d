#!/usr/bin/env bash
# Upstream IGT GPU Tools, built from a pinned snapshot for `make check`:
#
#   tools/upstream-igt.sh build    build (or find cached) and print the
#                                  build directory: TESTS/ and runner/
#   tools/upstream-igt.sh tests    print the upstream tests that check runs
#   tools/upstream-igt.sh needs-sw-sync
#                                  print those that need the kernel's SW_SYNC
#   tools/upstream-igt.sh needs-vkms
#                                  print those that need vkms
#   tools/upstream-igt.sh ours IGTBUILD OUTDIR
#                                  build our igt-tests/swgpu_* against that
#                                  build's libigt, as IGT builds its own
#                                  tests, into OUTDIR (log: OUTDIR/build.log)
#
# The source: $SWGPU_IGT_SRC, a tarball or an unpacked tree (.ci/run points
# it at the shared snapshot). Unset: the pinned commit is downloaded once
# into the cache. When there is no source, `build` prints one line saying
# why on stderr and exits 3: the caller skips upstream IGT, saying so.
#
# Only the tests of the list, their library and igt_runner are built, with
# meson and ninja, in $SWGPU_CACHE/igt/KEY/ (KEY: the source's sha256 and
# this recipe's), under a lock; a finished build is reused. Build
# dependencies are installed like every other package (ensure_packages).
# The log of a build is KEY/build.log.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# igt-gpu-tools master of 2025-10-23 (version 2.2); the shared snapshot
# is this commit.
IGT_COMMIT=75d513bd5e6ee4736ecfbc2f2768aa799c2e529b
IGT_URL="https://gitlab.freedesktop.org/drm/igt-gpu-tools/-/archive/$IGT_COMMIT/igt-gpu-tools-$IGT_COMMIT.tar.gz"

# The upstream tests that apply to a DRM driver without KMS (vgem's and
# DRIVER_ANY's), and kms_prime, which scans a PRIME buffer of it out on
# vkms; docs/testing.rst says what each column runs.
IGT_TESTS=(
	vgem_basic vgem_slow dmabuf_sync_file sw_sync dumb_buffer
	core_getversion core_auth core_getclient core_getstats core_setmaster
	core_setmaster_vs_auth core_debugfs core_sysfs
	syncobj_basic syncobj_wait syncobj_timeline syncobj_eventfd
	kms_prime
)

# Every subtest of these requires SW_SYNC in a fixture
# (igt_require_sw_sync: on Debian's 6.12, 218 of 218 skipped). Where the
# guest kernel has no sw_sync, tools/vm/guest-igt.sh leaves them out, saying
# why, rather than start one process per subtest just to see it skip.
IGT_NEED_SW_SYNC=(sw_sync syncobj_wait syncobj_timeline syncobj_eventfd)

# These need vkms: where the guest kernel has none (Debian's), they are
# left out, saying why; where it has one they run apart, vkms the first
# device (tools/vm/guest-igt.sh).
IGT_NEED_VKMS=(kms_prime)

IGT_PACKAGES=(
	meson ninja-build pkg-config python3 gcc flex bison libdrm-dev
	libpciaccess-dev libkmod-dev libproc2-dev libdw-dev libglib2.0-dev
	libcairo2-dev libudev-dev libpixman-1-dev zlib1g-dev libjson-c-dev
)

# Everything optional off; the tree has no .git, hence version_hash.
IGT_MESON_OPTIONS=(
	-Dchamelium=disabled -Dman=disabled -Ddocs=disabled -Dtestplan=disabled
	-Dsphinx=disabled -Doverlay=disabled -Dvalgrind=disabled
	-Dlibunwind=disabled -Doping=disabled -Dxe_driver=disabled
	-Dvmtb=disabled -Drunner=enabled -Dtests=enabled
	-Dversion_hash=g${IGT_COMMIT:0:9} -Dbuildtype=debugoptimized
)

# Print the source (a tarball or a directory), or say why there is none
# and return 1.
igt_source() {
	local dl="$SWGPU_CACHE/igt/igt-gpu-tools-$IGT_COMMIT.tar.gz"
	if [[ -n "${SWGPU_IGT_SRC:-}" ]]; then
		if [[ ! -e "$SWGPU_IGT_SRC" ]]; then
			echo "SWGPU_IGT_SRC=$SWGPU_IGT_SRC does not exist" >&2
			return 1
		fi
		realpath "$SWGPU_IGT_SRC"
		return 0
	fi
	if [[ ! -f "$dl" ]]; then
		mkdir -p "$(dirname "$dl")"
		log "downloading upstream IGT $IGT_COMMIT"
		if ! curl -fsSL --connect-timeout 20 -o "$dl.part" "$IGT_URL" 2>/dev/null &&
			! wget -q -T 20 -O "$dl.part" "$IGT_URL" 2>/dev/null; then
			rm -f "$dl.part"
			echo "no SWGPU_IGT_SRC and the pinned IGT release cannot be downloaded ($IGT_URL)" >&2
			return 1
		fi
		mv "$dl.part" "$dl"
	fi
	echo "$dl"
}

# The source's hash: the tarball's sha256, or of a tree's files.
source_hash() {
	if [[ -f "$1" ]]; then
		sha256sum "$1" | cut -c1-16
	else
		(cd "$1" && find . -path ./.git -prune -o -type f -print0 | LC_ALL=C sort -z |
			xargs -0 sha256sum | sha256sum | cut -c1-16)
	fi
}

build() {
	local src key dir targets=() t
	src="$(igt_source)" || exit 3
	key="$(source_hash "$src")-$(printf '%s\n' "${IGT_MESON_OPTIONS[@]}" "${IGT_TESTS[@]}" |
		sha256sum | cut -c1-8)"
	dir="$SWGPU_CACHE/igt/$key"
	mkdir -p "$dir"
	exec 9>"$dir.lock"
	flock 9
	if [[ -f "$dir/done" ]]; then
		echo "$dir/build"
		return 0
	fi
	ensure_packages "${IGT_PACKAGES[@]}"
	rm -rf "$dir/src" "$dir/build"
	mkdir -p "$dir/src"
	log "building upstream IGT ($src) in $dir"
	if [[ -f "$src" ]]; then
		tar -C "$dir/src" -xf "$src"
		# One top-level directory, as release tarballs have.
		if [[ "$(find "$dir/src" -mindepth 1 -maxdepth 1 | wc -l)" == 1 ]]; then
			t="$(find "$dir/src" -mindepth 1 -maxdepth 1)"
			dir_src="$t"
		else
			dir_src="$dir/src"
		fi
	else
		dir_src="$src"
	fi
	for t in "${IGT_TESTS[@]}"; do
		targets+=("tests/$t")
	done
	targets+=(tests/test-list.txt runner/igt_runner)
	if ! { meson setup "${IGT_MESON_OPTIONS[@]}" "$dir/build" "$dir_src" &&
		ninja -C "$dir/build" "${targets[@]}"; } >"$dir/build.log" 2>&1; then
		tail -n 30 "$dir/build.log" >&2
		die "the upstream IGT build failed, log: $dir/build.log"
	fi
	date -u +%FT%TZ >"$dir/done"
	echo "$dir/build"
}

# ours IGTBUILD OUTDIR: igt-tests/ is written against the IGT API and
# builds against lib/, our own small implementation of it. Built here
# against the real libigt, with the compiler command IGT uses for its own
# tests (taken from the build's compile_commands.json, vgem_basic's), the
# same sources must compile, link and behave the same (tools/check.sh
# compares the two runs).
ours() {
	local igt="$1" out="$2" cmd flags=() f name rc=0
	mkdir -p "$out"
	cmd="$(python3 - "$igt/compile_commands.json" <<-'PY'
		import json, shlex, sys
		for e in json.load(open(sys.argv[1])):
		    if e["file"].endswith("/tests/vgem_basic.c"):
		        words = shlex.split(e["command"])[1:]
		        keep, skip = [], False
		        for w in words:
		            if skip:
		                skip = False
		            elif w in ("-o", "-MQ", "-MF"):
		                skip = True
		            elif w.endswith(".c") or w in ("-c", "-MD", "-fdiagnostics-color=always") or w.startswith("-Itests"):
		                pass
		            elif w.startswith("-I") and not w.startswith("-I/"):
		                keep.append("-I" + e["directory"] + "/" + w[2:])
		            else:
		                keep.append(w)
		        print(shlex.join(keep))
		        break
		PY
	)" || true
	[[ -n "$cmd" ]] || die "no compiler command for IGT's own tests in $igt/compile_commands.json"
	read -ra flags <<<"$cmd"
	# -include config.h is found through IGT's build directory.
	flags+=(-I"$igt" -I"$SWGPU_REPO/igt-tests" -I"$SWGPU_REPO/include/uapi/drm" -Werror)
	: >"$out/build.log"
	(cd "$igt" && cc "${flags[@]}" -c -o "$out/swgpu_common.o" \
		"$SWGPU_REPO/igt-tests/swgpu_common.c") >>"$out/build.log" 2>&1 || rc=1
	local extra
	for f in "$SWGPU_REPO"/igt-tests/swgpu_*.c; do
		name="$(basename "$f" .c)"
		[[ "$name" == swgpu_common ]] && continue
		# A test's further files, as igt-tests/Makefile builds them:
		# igt-tests/fuzz/*.c belong to swgpu_fuzz.
		extra=()
		[[ -d "$SWGPU_REPO/igt-tests/${name#swgpu_}" ]] &&
			extra=("$SWGPU_REPO/igt-tests/${name#swgpu_}"/*.c)
		(cd "$igt" && cc "${flags[@]}" -o "$out/$name" "$f" "${extra[@]}" "$out/swgpu_common.o" \
			-L"$igt/lib" -ligt -Wl,-rpath,"$igt/lib" $(pkg-config --libs libdrm) -lm) \
			>>"$out/build.log" 2>&1 || rc=1
	done
	((rc == 0)) || { tail -n 30 "$out/build.log" >&2; die "our tests do not build against upstream IGT, log: $out/build.log"; }
}

case "${1:-}" in
build) build ;;
ours)  ours "${2:?IGTBUILD}" "${3:?OUTDIR}" ;;
tests) printf '%s\n' "${IGT_TESTS[@]}" ;;
needs-sw-sync) printf '%s\n' "${IGT_NEED_SW_SYNC[@]}" ;;
needs-vkms) printf '%s\n' "${IGT_NEED_VKMS[@]}" ;;
*)     sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
