#!/bin/bash
# Extract the kernel's own developer tools that Debian ships only inside
# the linux-source tarball (the kselftest harness headers, checkpatch.pl and
# its data files) into a git-ignored cache. Prints the cache directory.
# Nothing extracted here is ever committed.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"

tarball=$(find /usr/src -maxdepth 1 -name 'linux-source-*.tar.xz' | sort -V | tail -n1)
[ -n "$tarball" ] || die "no /usr/src/linux-source-*.tar.xz (run tests/vm/deps.sh)"
ver=$(basename "$tarball" .tar.xz)
dir="$VOLSNAP_CACHE/$ver-tools"

if [ ! -f "$dir/.done" ]; then
	log "extracting kselftest harness and checkpatch from $tarball"
	tmp=$(mktemp -d "$VOLSNAP_CACHE/tools.XXXXXX")
	tar -xJf "$tarball" -C "$tmp" --strip-components=1 \
		"$ver/tools/testing/selftests/kselftest_harness.h" \
		"$ver/tools/testing/selftests/kselftest.h" \
		"$ver/scripts/checkpatch.pl" \
		"$ver/scripts/spelling.txt" \
		"$ver/scripts/const_structs.checkpatch" \
		"$ver/.clang-format"
	mkdir -p "$tmp/selftests"
	mv "$tmp"/tools/testing/selftests/*.h "$tmp/selftests/"
	rm -rf "$tmp/tools" "$dir"
	touch "$tmp/.done"
	mv "$tmp" "$dir"
fi
echo "$dir"
