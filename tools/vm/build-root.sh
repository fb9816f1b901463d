#!/usr/bin/env bash
# Usage: tools/vm/build-root.sh SUITE DIR PACKAGE...
#
# Makes DIR a minimal Debian SUITE root (mmdebstrap --variant=apt) with a
# compiler, make, sparse, pahole and PACKAGE... (a kernel's headers,
# NAME=VERSION) installed: the build root in which modules for that
# suite's kernels are built, since a module must be built by the compiler
# that built its kernel (unstable's is gcc 16; its kbuild tools link
# against unstable's libc). fetch-kernel.sh calls it when a kernel's
# package version moves; tools/check-install.sh makes the roots it
# installs the Debian packages into with it (with dkms). Nothing of the
# host changes: the root is a plain directory, apt inside it reads the
# host's archive address with private options (experimental: sid plus
# experimental; bookworm: the host's own sources, security included).
#
# build_in_root (tools/lib.sh) runs make inside it, with /proc mounted in
# a private mount namespace (objtool needs it).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

(($# >= 3)) || die "usage: $0 SUITE DIR PACKAGE..."
suite="$1" dir="$2"
shift 2

ensure_packages mmdebstrap
uri="$(host_archive_uri)"
key=/usr/share/keyrings/debian-archive-keyring.gpg
sources=("deb [signed-by=$key] $uri sid main")
[[ "$suite" == experimental ]] && sources+=("deb [signed-by=$key] $uri experimental main")
# Bookworm's kernels come partly from its security suite: a bookworm root
# reads the host's own sources (mmdebstrap copies the file into it).
if [[ "$suite" == bookworm ]]; then
	sources=("$(host_apt_sources)")
elif [[ "$suite" != sid && "$suite" != experimental ]]; then
	sources=("deb [signed-by=$key] $uri $suite main")
fi

rm -rf "$dir"
log "making a $suite build root in $dir (about a minute)"
start="$(date +%s)"
# The headers' Depends name the suite's own gcc; the rest is what Kbuild,
# W=1, sparse (C=2) and BTF (pahole) need.
include="gcc,make,libc6-dev,sparse,dwarves,libelf-dev,$(IFS=,; echo "$*")"
mmdebstrap --quiet --variant=apt --mode=root \
	--aptopt='Acquire::Check-Valid-Until "false"' \
	--include="$include" "$([[ $suite == experimental ]] && echo sid || echo "$suite")" "$dir" "${sources[@]}" >&2 ||
	die "mmdebstrap of $suite failed"
# Debian's linux-kbuild-7.x lacks scripts/checker-valid.sh, which Kbuild
# runs before honouring C=2 (without it sparse is silently skipped). Ours
# says whether the checker runs at all: "1" if it does.
for scripts in "$dir"/usr/lib/linux-kbuild-*/scripts; do
	[[ -d "$scripts" && ! -e "$scripts/checker-valid.sh" ]] || continue
	printf '%s\n' '#!/bin/sh' \
		'# Written by swgpu tools/vm/build-root.sh: the package lacks it.' \
		'"$@" -E -x c /dev/null >/dev/null 2>&1 && echo 1' \
		>"$scripts/checker-valid.sh"
	chmod +x "$scripts/checker-valid.sh"
done
log "$suite build root ready in $(($(date +%s) - start)) s"
