#!/usr/bin/env bash
# The install path, tested like the driver (make check-install; make check
# runs it once):
#
#   tools/check-install.sh [--suite bookworm|sid|all] [--counts] [--verbose]
#
# 1. make deb: builds swgpu-dkms and swgpu-dev and runs lintian on them
#    (tools/deb.sh); any lintian error or warning fails.
# 2. For each suite, a throwaway root: bookworm with the headers of 6.1
#    and 6.12, unstable (sid) with 7.2's, the kernels of
#    tools/kernels.conf at their current versions. The base roots are made
#    by tools/vm/build-root.sh (with dkms, pkg-config and libdrm-dev) and
#    cached in $SWGPU_CACHE/install-roots/, keyed by suite, packages and
#    the scripts that make them; each run works on an overlay over the
#    base (in a private mount namespace), so the base stays clean.
#    In it: `apt-get install ./swgpu-dkms_*.deb ./swgpu-dev_*.deb`; `dkms
#    status` must say installed for every kernel whose headers are there;
#    tools/install-client.c is compiled with only `pkg-config --cflags
#    swgpu` (static, so it runs in any guest); then `apt-get purge` of
#    both, and the root's file list must be what it was before. Then from
#    a copy of the tracked files, on the suite's newest kernel: `make
#    install` (bookworm) must add exactly its files and `make uninstall`
#    remove them all; `make dkms-install` (sid) must install the module in
#    DKMS and `make dkms-uninstall` leave nothing.
# 3. For each of those kernels: boot it (tools/vm/boot.sh) with the
#    swgpu.ko that DKMS built in the root, run swgpu_basic and the
#    pkg-config-built client (tools/vm/guest-tests.sh), judged by
#    tools/judge.sh like every other run.
#
# Prints one line per result, "[install/6.12] PASS swgpu_basic/...", and as
# the last line "N passed, N failed, N skipped" (with --counts: "#counts
# PASSED FAILED SKIPPED KNOWN REAL", for tools/check.sh). Exit 0 when nothing
# failed. Timings: build/install/timings.txt. Logs, file lists and the
# modules DKMS built: build/install/SUITE/.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
VM="$SWGPU_REPO/tools/vm"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

# The kernels whose headers go into the roots, by name in kernels.conf.
INSTALL_KERNELS=(6.1 6.12 7.2)
# What a user of the packages has besides them: dkms would come with
# swgpu-dkms and libdrm-dev with swgpu-dev; they are in the base root so
# that a run downloads nothing and purge has exactly two packages to undo.
ROOT_PACKAGES=(dkms pkg-config libdrm-dev)
SMOKE_TESTS=(swgpu_basic swgpu_install_client)
# Installing from a clone, on the newest kernel of a suite: plain make
# install in one root, DKMS from the tree in the other (each is a module
# build; both everywhere would cost CI time and test nothing more).
declare -A TREE_INSTALL=([bookworm]=make [sid]=dkms)
# Paths that change by apt, dpkg and depmod running at all, not by what
# the packages leave behind: logs, caches, dpkg's backups of its own state,
# and the kernels' module indexes (DKMS runs depmod when it installs and
# removes; a kernel with headers and no image in the root had none before;
# that swgpu is gone from them is checked on its own).
VOLATILE='^/(var/log|var/cache/apt|var/cache/debconf/[^/]*-old$|var/cache/ldconfig|var/lib/apt|var/lib/dpkg/[^/]*-old$|var/lib/dpkg/triggers|usr/lib/modules/[^/]+/modules\.[a-z.]+$|tmp)(/|$)'

OUT="$SWGPU_BUILD/install"
TIMINGS="$OUT/timings.txt"

# timing LABEL SECONDS: one line of timings.txt, and the log.
timing() {
	echo "$1: $2 s" >>"$TIMINGS"
	log "$1: $2 s"
}

# base_root SUITE PACKAGE...: print the cached base root of SUITE with
# the root packages and PACKAGE... (NAME=VERSION), making it first if
# need be (lib.sh cached_root).
base_root() {
	local suite="$1" start=$SECONDS dir
	shift
	dir="$(cached_root "$SWGPU_CACHE/install-roots" "$suite" "${ROOT_PACKAGES[@]}" "$@")"
	# A cached root is found at once; seconds mean it was made.
	((SECONDS - start < 5)) || timing "$suite base root made (cold)" $((SECONDS - start))
	echo "$dir"
}

# file_list ROOT: every path of ROOT, as seen from inside it, less the
# volatile ones.
file_list() {
	find "$1" -xdev -printf '/%P\n' | grep -Ev "$VOLATILE" | LC_ALL=C sort
}

# in_root ROOT CMD...: CMD in the chroot, with a clean environment.
in_root() {
	local root="$1"
	shift
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

# result STATUS NAME [DETAIL]: for the parent, which reports it.
result() { printf '%s\t%s\t%s\n' "$1" "$2" "${3:-}" >>"$out/results.tsv"; }

# in_namespace OUT BASE SCRATCH VERSION DEBDIR SUITE KVER...: runs in a mount
# namespace of its own (the script calls itself through unshare), so the
# overlay and the chroot's /proc and /dev vanish with it. Installs the
# packages, checks DKMS and pkg-config, copies the modules DKMS built to
# OUT/KVER/swgpu.ko, purges and compares the file lists. Results go to
# OUT/results.tsv; the commands' output to OUT/root.log.
in_namespace() {
	out="$1"
	local base="$2" scratch="$3" version="$4" debdir="$5" root kver mod rc status
	suite="$6"
	shift 6
	root="$scratch/merged"
	mkdir -p "$scratch/upper" "$scratch/work" "$root"
	mount -t overlay overlay \
		-o "lowerdir=$base,upperdir=$scratch/upper,workdir=$scratch/work" "$root"
	mount -t proc proc "$root/proc"
	mount --bind /dev "$root/dev"
	# apt runs dpkg on a pty, for its terminal log.
	mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
	exec >>"$out/root.log" 2>&1

	file_list "$root" >"$out/files-before.txt"
	mkdir "$root/tmp/swgpu"
	cp "$debdir/swgpu-dkms_${version}_all.deb" "$debdir/swgpu-dev_${version}_all.deb" \
		"$SWGPU_REPO/tools/install-client.c" "$root/tmp/swgpu/"

	echo "== apt-get install"
	if in_root "$root" apt-get install -y -q --no-install-recommends \
		"/tmp/swgpu/swgpu-dkms_${version}_all.deb" \
		"/tmp/swgpu/swgpu-dev_${version}_all.deb"; then
		result PASS apt-install
	else
		result FAIL apt-install "log: $out/root.log"
	fi

	echo "== dkms status"
	in_root "$root" dkms status | tee "$out/dkms-status.txt" || true
	for kver in "$@"; do
		status="$(grep -F "swgpu/$version, $kver, " "$out/dkms-status.txt" || true)"
		mod="$(find "$root/lib/modules/$kver/" -name 'swgpu.ko*' 2>/dev/null | head -n1)" || true
		if [[ "$status" != *": installed"* ]]; then
			result FAIL "dkms-installed/$kver" "dkms status: ${status:-nothing for $kver}"
		elif [[ -z "$mod" ]]; then
			result FAIL "dkms-installed/$kver" "no swgpu.ko under /lib/modules/$kver"
		else
			result PASS "dkms-installed/$kver" "${mod#"$root"}"
			mkdir -p "$out/$kver"
			case "$mod" in
			*.xz)  xz -dc "$mod" ;;
			*.zst) zstd -dcq "$mod" ;;
			*.gz)  gzip -dc "$mod" ;;
			*)     cat "$mod" ;;
			esac >"$out/$kver/swgpu.ko"
		fi
	done
	for mod in $(find "$root/lib/modules/" -name 'swgpu_cpu_access_test.ko*' || true); do
		result FAIL dkms-test-module "the KTAP test module was installed: ${mod#"$root"}"
	done

	# The user's program: only what pkg-config says, no path into the
	# tree. Static, so that it runs in a guest of any suite.
	echo "== pkg-config --cflags swgpu; compile"
	rc=0
	# shellcheck disable=SC2016 # expanded in the root
	in_root "$root" sh -exc 'gcc $(pkg-config --cflags swgpu) -Wall -Wextra -Werror \
		-static -o /tmp/swgpu/swgpu_install_client /tmp/swgpu/install-client.c' || rc=$?
	if ((rc == 0)); then
		cp "$root/tmp/swgpu/swgpu_install_client" "$out/"
		result PASS pkg-config-build
	else
		result FAIL pkg-config-build "log: $out/root.log"
	fi

	echo "== apt-get purge"
	if in_root "$root" apt-get purge -y -q swgpu-dkms swgpu-dev; then
		result PASS apt-purge
	else
		result FAIL apt-purge "log: $out/root.log"
	fi
	rm -rf "$root/tmp/swgpu"
	if grep -ls 'swgpu' "$root"/lib/modules/*/modules.dep >"$out/depmod-after.txt"; then
		result FAIL depmod-forgets-swgpu "still in $(xargs <"$out/depmod-after.txt")"
	else
		result PASS depmod-forgets-swgpu
	fi
	file_list "$root" >"$out/files-after.txt"
	if diff -u "$out/files-before.txt" "$out/files-after.txt" >"$out/files.diff"; then
		result PASS purge-leaves-nothing
	else
		cat "$out/files.diff"
		result FAIL purge-leaves-nothing \
			"$(grep -c '^[-+]/' "$out/files.diff") paths differ: $out/files.diff"
	fi
	tree_install "$root" "$version" "${@: -1}"
	exit 0
}

# tree_install ROOT VERSION KVER: the two ways of installing from a clone,
# on the root left by the purge, for kernel KVER: `make install` must add
# exactly the files it lists (and depmod them) and `make uninstall` take
# them all away again; `make dkms-install` must leave the module installed
# in DKMS and `make dkms-uninstall` nothing behind. Which one a suite runs
# is TREE_INSTALL's.
tree_install() {
	local root="$1" version="$2" kver="$3" mode tree=/tmp/swgpu-tree added removed status kre
	local make_=(make -C "$tree" KVER="$kver" SWGPU_VERSION="$version") prefix=""
	mode="${TREE_INSTALL[$suite]:-}"
	[[ -n "$mode" ]] || return 0
	[[ "$mode" == dkms ]] && prefix=dkms-
	git -C "$SWGPU_REPO" ls-files -z |
		rsync -a --from0 --files-from=- "$SWGPU_REPO/" "$root$tree/"
	echo "== make ${prefix}install (KVER=$kver)"
	if ! in_root "$root" "${make_[@]}" "${prefix}install"; then
		result FAIL "$mode-install" "log: $out/root.log"
		return
	fi
	file_list "$root" >"$out/files-$mode-install.txt"
	if [[ "$mode" == dkms ]]; then
		status="$(in_root "$root" dkms status | grep -F "swgpu/$version, $kver, " || true)"
		if [[ "$status" == *": installed"* ]]; then
			result PASS dkms-install "$status"
		else
			result FAIL dkms-install "dkms status: ${status:-nothing for $kver}"
		fi
	else
		kre="$(sed 's/[.+]/\\&/g' <<<"$kver")"
		added="$(comm -13 "$out/files-before.txt" "$out/files-make-install.txt")"
		removed="$(comm -23 "$out/files-before.txt" "$out/files-make-install.txt")"
		echo "added by make install:"
		echo "$added"
		if [[ -n "$removed" ]] ||
			grep -qvE "^(/etc/modprobe.d/swgpu.conf|/usr/include/libdrm(/swgpu_drm.h)?|/usr/share/pkgconfig(/swgpu.pc)?|/usr/lib/modules/$kre/updates(/swgpu\.ko(\.xz|\.zst|\.gz)?)?)\$" \
				<<<"$added" ||
			(($(grep -cE '/(swgpu\.conf|swgpu_drm\.h|swgpu\.pc|swgpu\.ko[.a-z]*)$' <<<"$added") != 4)); then
			result FAIL make-install "not exactly its files: $(xargs <<<"$added$removed")"
		elif ! grep -q 'updates/swgpu\.ko' "$root/lib/modules/$kver/modules.dep"; then
			result FAIL make-install "depmod did not index updates/swgpu.ko"
		else
			result PASS make-install "$(xargs <<<"$added")"
		fi
	fi
	echo "== make ${prefix}uninstall"
	if ! in_root "$root" "${make_[@]}" "${prefix}uninstall"; then
		result FAIL "$mode-uninstall" "log: $out/root.log"
		return
	fi
	rm -rf "${root:?}$tree"
	file_list "$root" >"$out/files-$mode-uninstall.txt"
	if diff -u "$out/files-before.txt" "$out/files-$mode-uninstall.txt" \
		>"$out/files-$mode.diff"; then
		result PASS "$mode-uninstall-leaves-nothing"
	else
		cat "$out/files-$mode.diff"
		result FAIL "$mode-uninstall-leaves-nothing" "see $out/files-$mode.diff"
	fi
}

# check_suite SUITE VERSION DEBDIR NAME...: the root of SUITE with the
# headers of kernels NAME..., then a boot of each with its DKMS module.
check_suite() {
	local suite="$1" version="$2" debdir="$3" name names kvers=() pkgs=() base
	local out="$OUT/$suite" scratch start status sname detail
	shift 3
	names=("$@")
	for name in "${names[@]}"; do
		resolve_kernel "$name"
		kvers+=("$KVER")
		pkgs+=("linux-headers-$KVER=$KVERSION")
	done
	rm -rf "$out"
	mkdir -p "$out"
	: >"$out/results.tsv"
	if ! base="$(base_root "$suite" "${pkgs[@]}" 2>"$out/base-root.err")"; then
		tail -n 20 "$out/base-root.err" | sed 's/^/    /'
		report "install/$suite" FAIL base-root "log: $out/base-root.err"
		return
	fi
	scratch="$SWGPU_CACHE/install-roots/run-$suite-$$"
	rm -rf "$scratch"
	start=$SECONDS
	unshare --mount --propagation private -- "${BASH_SOURCE[0]}" --in-namespace \
		"$out" "$base" "$scratch" "$version" "$debdir" "$suite" "${kvers[@]}" ||
		report "install/$suite" FAIL root-session "exit $?, log: $out/root.log"
	rm -rf "$scratch"
	timing "$suite: apt-get install (DKMS builds for ${kvers[*]}), pkg-config build, purge, ${TREE_INSTALL[$suite]:-no} install from the tree" \
		$((SECONDS - start))
	((verbose)) && sed 's/^/    /' "$out/root.log"
	while IFS=$'\t' read -r status sname detail; do
		report "install/$suite" "$status" "$sname" "$detail"
	done <"$out/results.tsv"

	for name in "${names[@]}"; do
		resolve_kernel "$name"
		boot_smoke "$name" "$out/$KVER/swgpu.ko" "$out"
	done
}

# boot_smoke NAME KO OUT: kernel NAME with the module DKMS built, the
# smoke tests, judged like any run.
boot_smoke() {
	local name="$1" ko="$2" out="$3" res tests="$3/tests-$1" boot_rc=0 start
	local tag="install/$name"
	if [[ ! -f "$ko" ]]; then
		report "$tag" SKIP smoke "no module from DKMS for $name (its failure is above)"
		return
	fi
	rm -rf "$tests"
	mkdir -p "$tests"
	ln -s "$SWGPU_BUILD/igt/swgpu_basic" "$tests/swgpu_basic"
	if [[ -f "$out/swgpu_install_client" ]]; then
		cp "$out/swgpu_install_client" "$tests/"
	fi
	res="$SWGPU_BUILD/results/install-$name"
	rm -rf "$res"
	# shellcheck disable=SC2034 # judge_results reads it
	binaries=("${SMOKE_TESTS[@]}")
	start=$SECONDS
	boot=(--kernel "$name" --out "$res" --timeout "$vm_timeout")
	guest=("$VM/guest-tests.sh" "$ko" "$tests" "$SWGPU_BUILD/ktap"
		"$(IFS=,; echo "${SMOKE_TESTS[*]}")")
	log "booting $name with the module DKMS built"
	boot_guest "$tag" "$res" swgpu "${boot[@]}" -- "${guest[@]}"
	timing "$name: boot and smoke tests" $((SECONDS - start))
	judge_results "$tag" "$res" "$boot_rc"
}

suite_sel=all counts=0 verbose=0
if [[ "${1:-}" == --in-namespace ]]; then
	shift
	in_namespace "$@"
fi
while (($#)); do
	case "$1" in
	--suite)   suite_sel="${2:?}"; shift 2 ;;
	--counts)  counts=1; shift ;;
	--verbose) verbose=1; shift ;;
	-h|--help) usage ;;
	*)         echo "unknown argument: $1" >&2; usage ;;
	esac
done

. "$SWGPU_REPO/tools/judge.sh"
ensure_packages "${SWGPU_HOST_PACKAGES[@]}" mmdebstrap
export SWGPU_TEST_TIMEOUT="${SWGPU_TEST_TIMEOUT:-600}"
vm_timeout="${SWGPU_VM_TIMEOUT:-1800}"
mkdir -p "$OUT"
: >"$TIMINGS"

# The suites, in table order, with their kernels.
suites=()
for name in "${INSTALL_KERNELS[@]}"; do
	kernel_row "$name"
	[[ "$suite_sel" == all || "$suite_sel" == "$K_SUITE" ]] || continue
	[[ " ${suites[*]} " == *" $K_SUITE "* ]] || suites+=("$K_SUITE")
done
((${#suites[@]})) || die "no kernel of ${INSTALL_KERNELS[*]} is from suite '$suite_sel'"

# swgpu_basic, as check.sh builds it (up to date already when it called us).
if ! make -C "$SWGPU_REPO/igt-tests" O="$SWGPU_BUILD/igt" -j"$(nproc)" \
	>"$OUT/igt-build.log" 2>&1; then
	report install FAIL igt-build "log: $OUT/igt-build.log"
fi

start=$SECONDS
rc=0
debs="$("$SWGPU_REPO/tools/deb.sh" --out "$OUT/deb" 2>"$OUT/deb.log")" || rc=$?
timing "make deb (with lintian)" $((SECONDS - start))
version="$("$SWGPU_REPO/tools/install.sh" version)"
if ((rc == 0)); then
	report install PASS deb-build "$(xargs -n1 basename <<<"$debs" | xargs)"
	report install PASS lintian
elif ((rc == 4)); then
	report install PASS deb-build
	sed -n 's/^\[swgpu\] lintian: //p' "$OUT/deb.log" | sed 's/^/    /'
	report install FAIL lintian "log: $OUT/deb/lintian.log"
else
	tail -n 20 "$OUT/deb.log" | sed 's/^/    /'
	report install FAIL deb-build "log: $OUT/deb.log"
fi

if ((rc == 0 || rc == 4)); then
	for suite in "${suites[@]}"; do
		names=()
		for name in "${INSTALL_KERNELS[@]}"; do
			kernel_row "$name"
			[[ "$K_SUITE" == "$suite" ]] && names+=("$name")
		done
		check_suite "$suite" "$version" "$OUT/deb" "${names[@]}"
	done
fi

if ((counts)); then
	echo "#counts $passed $failed $skipped $known $real_tests"
else
	echo "$passed passed, $failed failed, $skipped skipped"
fi
((failed == 0))
