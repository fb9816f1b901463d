#!/usr/bin/env bash
# Usage: tools/deb.sh [--out DIR]          (make deb)
#
# Builds the Debian packages swgpu-dkms (the module's DKMS sources) and
# swgpu-dev (uAPI header, pkg-config file) with Debian's own tooling
# (dpkg-buildpackage, dh, dh-dkms), then checks them with lintian: any
# lintian error or warning fails it (exit 4; the packages stay in DIR).
# The version comes from git (tools/install.sh version); debian/changelog
# is written for it in a copy of the tracked files (their working-tree
# contents, "+dirty" in the version when those differ from HEAD), so the
# tree itself is never written to. Prints the paths of the two .deb files
# on stdout; the build log and lintian's output go to DIR (default
# build/deb/).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

out="$SWGPU_BUILD/deb"
while (($#)); do
	case "$1" in
	--out)     out="${2:?}"; shift 2 ;;
	-h|--help) usage ;;
	*)         echo "unknown argument: $1" >&2; usage ;;
	esac
done

ensure_packages dpkg-dev debhelper dh-dkms lintian rsync
version="$("$SWGPU_REPO/tools/install.sh" version)"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
src="$out/swgpu-$version"

# copy_tree: the tracked files, as they are in the working tree.
copy_tree() {
	rm -rf "$out/swgpu-"* "$out"/swgpu*_*
	mkdir -p "$src"
	git -C "$SWGPU_REPO" ls-files -z --cached |
		rsync -a --from0 --files-from=- "$SWGPU_REPO/" "$src/"
}

# write_changelog: one entry, for the version being built.
write_changelog() {
	local commit
	commit="$(git -C "$SWGPU_REPO" rev-parse HEAD)"
	{
		echo "swgpu ($version) unstable; urgency=medium"
		echo
		echo "  * Built from git commit $commit."
		echo
		echo " -- The swgpu developers <swgpu@example.org>  $(date -R)"
	} >"$src/debian/changelog"
}

copy_tree
write_changelog
log "building swgpu-dkms and swgpu-dev $version in $src"
start=$SECONDS
if ! (cd "$src" && dpkg-buildpackage -b -us -uc) >"$out/build.log" 2>&1; then
	tail -n 30 "$out/build.log" >&2
	die "dpkg-buildpackage failed, log: $out/build.log"
fi
changes="$(ls "$out"/swgpu_"${version}"_*.changes)"
debs=("$out/swgpu-dkms_${version}_all.deb" "$out/swgpu-dev_${version}_all.deb")
for deb in "${debs[@]}"; do
	[[ -f "$deb" ]] || die "dpkg-buildpackage made no $deb"
done
log "packages built in $((SECONDS - start)) s"

# Info tags are shown too; only errors and warnings fail.
rc=0
lintian --info --display-info --fail-on error,warning "$changes" \
	>"$out/lintian.log" 2>&1 || rc=$?
sed 's/^/[swgpu] lintian: /' "$out/lintian.log" >&2
printf '%s\n' "${debs[@]}"
if ((rc != 0)); then
	log "error: lintian found errors or warnings, log: $out/lintian.log"
	exit 4
fi
log "lintian: no errors, no warnings"
