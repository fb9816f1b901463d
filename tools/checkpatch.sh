#!/usr/bin/env bash
# Usage: tools/checkpatch.sh [FILE...]
#
# Runs the kernel's scripts/checkpatch.pl --no-tree, at its default level,
# over the driver, its test module and the headers, or over the given files. checkpatch comes
# from Debian's linux-source-6.12 package; only the three files it needs
# are unpacked, into $SWGPU_CACHE/checkpatch/<version>/, once.
# Exit status: 0 when every file is clean.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_packages linux-source-6.12 xz-utils perl
version="$(dpkg-query -W -f='${Version}' linux-source-6.12)"
dir="$SWGPU_CACHE/checkpatch/$version"
if [[ ! -x "$dir/scripts/checkpatch.pl" ]]; then
	log "unpacking checkpatch.pl from linux-source-6.12 $version"
	tarball="$(ls /usr/src/linux-source-6.12.tar.* | head -n1)"
	tmp="$(mktemp -d "$SWGPU_CACHE/checkpatch.XXXXXX")"
	tar -xf "$tarball" -C "$tmp" --strip-components=1 --wildcards \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
	rm -rf "$dir"
	mkdir -p "$(dirname "$dir")"
	mv "$tmp" "$dir"
fi

cd "$SWGPU_REPO"
if (($# == 0)); then
	set -- drm_driver/*.[ch] drm_driver/tests/*.c include/uapi/drm/*.h \
		include/linux/*.h
fi
"$dir/scripts/checkpatch.pl" --no-tree --quiet --terse --show-types \
	--file "$@"
echo "checkpatch: $# files clean"
