#!/bin/bash
# Static checks, one TAP point each: W=1 + sparse builds of the module for
# Debian's kernels in the cache (tests/vm/deps.sh), checkpatch --strict,
# kernel-doc, a -Wpadded probe of the UAPI header, make install into a
# DESTDIR, shellcheck. Run by tests/run; alone:
#   tests/static/check.sh
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
# shellcheck source=tests/vm/lib.sh
. tests/vm/lib.sh
ktools=$(tests/vm/kernel-tools.sh) || exit 1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
n=0
failed=0

point() {	# point OK|FAIL DESCRIPTION [LOGFILE]
	n=$((n + 1))
	if [ "$1" = OK ]; then
		echo "ok $n $2"
	else
		failed=1
		echo "not ok $n $2"
		[ -n "${3:-}" ] && sed 's/^/# /' "$3" | head -n 60
	fi
}

run() {	# run DESCRIPTION COMMAND... - ok when it exits 0 and prints nothing
	local desc=$1 log=$out/log
	shift
	if "$@" > "$log" 2>&1 && [ ! -s "$log" ]; then
		point OK "$desc"
	else
		point FAIL "$desc" "$log"
	fi
}

c_sources=(kmod/*.c kmod/*.h uapi/linux/*.h)
mapfile -t kmod_sources < <(printf '%s\n' kmod/*.[ch] | grep -v '^kmod/compat.h$')
# The compat header is where version checks belong: the one exception.
compat_ignore=LINUX_VERSION_CODE,CONSTANT_COMPARISON

# The module must build without a warning from W=1 or sparse.
# shellcheck disable=SC2317  # called through run()
wbuild() {
	local kver=$1 log=$out/wbuild
	make -s -C "$top" module KDIR="$(kernel_build_dir "$kver")" KNAME="check-$kver" \
		KBUILD_ARGS="W=1 C=2 CHECK=sparse KCFLAGS=-Werror" > "$log" 2>&1 || { cat "$log"; return 1; }
	# sparse reports warnings but does not fail on them.
	grep -E 'warning|error' "$log" | grep -v 'Skipping BTF' || true
}
# Debian's 6.1 and 6.12, as tests/vm/deps.sh unpacked them into the cache.
kvers=()
for s in "$VOLSNAP_CACHE"/kernel-bookworm.abi "$VOLSNAP_CACHE"/kernel-bookworm-backports.abi; do
	[ -f "$s" ] && kvers+=("$(cat "$s")")
done
[ ${#kvers[@]} -gt 0 ] ||
	point FAIL "W=1 + sparse build: no kernel tree in $VOLSNAP_CACHE (run tests/vm/deps.sh)"
for kver in "${kvers[@]}"; do
	run "W=1 + sparse build for $kver" wbuild "$kver"
done
rm -rf "$top"/build/check-*

run "checkpatch --strict (kmod)" \
	perl "$ktools/scripts/checkpatch.pl" --no-tree --strict --quiet \
	--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG \
	-f "${kmod_sources[@]}"
# BIT() does not exist for user space: the UAPI header spells shifts out.
run "checkpatch --strict (uapi)" \
	perl "$ktools/scripts/checkpatch.pl" --no-tree --strict --quiet \
	--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG,BIT_MACRO -f uapi/linux/*.h
run "checkpatch --strict (kmod/compat.h)" \
	perl "$ktools/scripts/checkpatch.pl" --no-tree --strict --quiet \
	--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG,$compat_ignore -f kmod/compat.h
# User space has no <linux/compiler_attributes.h>: __printf is ours to define.
run "checkpatch --strict (snapctl, tests)" \
	perl "$ktools/scripts/checkpatch.pl" --no-tree --strict --quiet \
	--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG,NEW_TYPEDEFS,SPLIT_STRING,PREFER_DEFINED_ATTRIBUTE_MACRO \
	-f tools/snapctl/*.[ch] tests/*/*.[ch]

kdoc=$(printf '%s\n' "$VOLSNAP_CACHE"/kernels/*/root/usr/src/linux-headers-*-common/scripts/kernel-doc |
	sort -V | tail -n1)
run "kernel-doc (uapi, kmod)" perl "$kdoc" -none -Wall "${c_sources[@]}"

run "UAPI header: -Wpadded probe" \
	cc -std=gnu11 -Wall -Wextra -Wpadded -Werror -Iuapi \
	-o "$out/probe" tests/static/uapi-probe.c

# make install from a clean copy of the tree, with CFLAGS on the command line
# (the project's include paths and warnings must survive it) and -Werror:
# exactly the files Documentation/volsnap.rst lists under "Installing", a
# snapctl that runs, a UAPI header that compiles on its own, and make
# uninstall leaves nothing behind.
# shellcheck disable=SC2317  # called through run()
install_check() {
	local src=$out/src dest=$out/dest prefix=/usr/local f
	mkdir -p "$src" "$dest"
	git ls-files -co --exclude-standard -z |
		while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done |
		xargs -0 cp --parents -t "$src" || return 1
	make -s -C "$src" clean || return 1
	make -s -C "$src" install CFLAGS="-O2 -g" WERROR=1 DESTDIR="$dest" || return 1
	# The literal block of paths in the "Installing" section.
	awk '/^=+$/ && prev != "" { sec = prev } { prev = $0 }
		sec == "Installing" && /^    \/[^ ]+$/ { print $1 }' \
		Documentation/volsnap.rst | sort > "$out/documented"
	[ -s "$out/documented" ] || { echo "no file list in Documentation/volsnap.rst"; return 1; }
	(cd "$dest" && find . -type f -o -type l) | sed 's/^\.//' | sort > "$out/installed"
	diff -u "$out/documented" "$out/installed" || return 1
	[ -x "$dest$prefix/sbin/snapctl" ] || echo "snapctl is not executable"
	[ "$("$dest$prefix/sbin/snapctl" --version)" = "snapctl $(sed -n 's/^VERSION := //p' Makefile)" ] ||
		echo "installed snapctl --version: wrong output"
	cc -std=gnu11 -Wall -Wextra -Werror -fsyntax-only \
		-include "$dest$prefix/include/linux/volsnap.h" -x c /dev/null
	make -s -C "$src" uninstall DESTDIR="$dest" || return 1
	find "$dest" -type f -o -type l
}
run "make install: CFLAGS=\"-O2 -g\" -Werror build, the documented files, UAPI header alone" \
	install_check

mapfile -t scripts < <(git ls-files '*.sh' '*.bash-completion' tests/run tests/demo .ci/run 2>/dev/null; \
	find tests tools .ci -name '*.sh' -o -name '*.bash-completion' -o -path tests/run \
	-o -path tests/demo -o -path .ci/run)
mapfile -t scripts < <(printf '%s\n' "${scripts[@]}" | sort -u | while read -r f; do [ -f "$f" ] && echo "$f"; done)
run "shellcheck (${#scripts[@]} scripts)" shellcheck -x -P SCRIPTDIR "${scripts[@]}"

run "python: vmtest.py compiles" python3 -m py_compile tests/vm/vmtest.py

# shellcheck disable=SC2317  # called through run()
rst_check() {
	local f
	for f in Documentation/*.rst; do
		python3 - "$f" <<'PY' || return 1
import sys, docutils.core
docutils.core.publish_doctree(open(sys.argv[1]).read(), source_path=sys.argv[1],
    settings_overrides={"report_level": 2, "halt_level": 2})
PY
	done
	rst2man --strict Documentation/snapctl.rst > /dev/null
}
run "Documentation: reStructuredText without warnings, man page renders" rst_check
echo "1..$n"
exit $failed
