#!/bin/bash
# Static checks, one TAP point each: W=1 + sparse builds of the module for
# Debian's kernels in the cache (tests/vm/deps.sh), checkpatch --strict,
# kernel-doc, a -Wpadded probe of the UAPI header, make install into a
# DESTDIR, the Debian packages (make deb, lintian, a DKMS build of the
# packaged sources for each cached kernel), shellcheck. Run by tests/run;
# alone:
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

# documented_files - the literal block of paths in Documentation/volsnap.rst,
# section "Installing": what make install installs with the default PREFIX.
# shellcheck disable=SC2317  # called through run()
documented_files() {
	awk '/^=+$/ && prev != "" { sec = prev } { prev = $0 }
		sec == "Installing" && /^    \/[^ ]+$/ { print $1 }' \
		Documentation/volsnap.rst | sort | grep . ||
		{ echo "no file list in Documentation/volsnap.rst"; return 1; }
}

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
	documented_files > "$out/documented" || return 1
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

# make deb: both packages build (no kernel tree needed), snapctl with
# dpkg-buildflags' hardening flags; snapctl holds what make install
# installs, moved to /usr (Documentation/volsnap.rst, "Installing"), and
# volsnap-dkms dkms.conf and the module's sources, nothing else.
debs=$top/build/deb
# deb_files PKG - the files and symlinks a package holds, but its docs and
# lintian overrides
# shellcheck disable=SC2317  # called through run()
deb_files() {
	dpkg-deb -c "$debs/$1"_*.deb | awk '$1 !~ /^d/ { print $6 }' |
		sed 's|^\./|/|' | grep -v '^/usr/share/\(doc\|lintian/overrides\)/' | sort
}
# shellcheck disable=SC2317  # called through run()
deb_check() {
	local ver flag cc contents=$out/contents want=$out/want
	ver=$(sed -n 's/^VERSION := //p' Makefile)
	make -s -C "$top" deb > "$out/deb.log" 2>&1 || { cat "$out/deb.log"; return 1; }
	cc=$(grep -e '-DSNAPCTL_VERSION=' "$debs/build.log")
	[ -n "$cc" ] || { echo "no snapctl compile line in $debs/build.log"; return 1; }
	for flag in -D_FORTIFY_SOURCE=2 -fstack-protector-strong -Werror=format-security \
		    -Wl,-z,relro -Wl,-z,now; do
		grep -q -e " $flag\( \|$\)" <<< "$cc" || echo "snapctl built without $flag"
	done
	deb_files snapctl > "$contents" || return 1
	documented_files | sed 's|^/usr/local/|/usr/|; s|/man8/snapctl\.8$|&.gz|' |
		sort > "$want" || return 1
	diff -u "$want" "$contents" || echo "snapctl: not the files make install installs"
	deb_files volsnap-dkms > "$contents" || return 1
	git ls-files -co --exclude-standard dkms.conf kmod uapi | sed "s|^|/usr/src/volsnap-$ver/|" | sort > "$want"
	diff -u "$want" "$contents" || echo "volsnap-dkms: not dkms.conf and the module's sources"
}
run "make deb: snapctl (hardened, make install's files) and volsnap-dkms" deb_check

# lintian on the .changes (all the packages): no error, no warning; the
# overrides in debian/*.lintian-overrides say why each is there.
# shellcheck disable=SC2317  # called through run()
lintian_check() {
	local changes
	changes=$(find "$debs" -name '*.changes' 2>/dev/null)
	[ -n "$changes" ] || { echo "no .changes in $debs (make deb failed)"; return 1; }
	lintian --fail-on error,warning "$changes" > "$out/lintian.log" 2>&1 ||
		{ cat "$out/lintian.log"; return 1; }
}
run "lintian: no errors or warnings" lintian_check

# DKMS builds the packaged sources, as a machine installing volsnap-dkms
# would, for each kernel in the cache: a private DKMS tree in the scratch
# directory (nothing in /var/lib/dkms or /lib/modules), no signing (no key
# is made), and the module's vermagic is that of the kernel's own modules.
# shellcheck disable=SC2317  # called through run()
dkms_check() {
	local kver=$1 t=$out/dkms-$1 deb ver ko ref want got log
	deb=$(find "$debs" -name 'volsnap-dkms_*.deb' 2>/dev/null)
	[ -n "$deb" ] || { echo "no volsnap-dkms package in $debs (make deb failed)"; return 1; }
	ko=$(tests/vm/dkms-build.sh "$deb" "$kver" "$(kernel_build_dir "$kver")" "$t" 2>&1) ||
		{ echo "$ko"; return 1; }
	ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$t"/root/usr/src/volsnap-*/dkms.conf)
	log=$t/dkms/volsnap/$ver/$kver/x86_64/log/make.log
	grep -E 'warning|error' "$log" | grep -v 'Skipping BTF'
	ref=$(find "$VOLSNAP_CACHE/kernels/$kver/root/lib/modules/$kver/kernel" \
		-name '*.ko*' -print -quit)
	want=$(modinfo -F vermagic "$ref") got=$(modinfo -F vermagic "$ko")
	[ -n "$want" ] && [ "$got" = "$want" ] ||
		echo "vermagic: volsnap.ko '$got', $kver's own modules '$want'"
	got=$(modinfo -F version "$ko")
	[ "$got" = "$ver" ] || echo "volsnap.ko version '$got', not $ver"
}
for kver in "${kvers[@]}"; do
	run "dkms build of volsnap-dkms for $kver: vermagic matches" dkms_check "$kver"
done

mapfile -t scripts < <(git ls-files '*.sh' '*.bash-completion' tests/run tests/demo .ci/run 'tools/writers/*' 2>/dev/null; \
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
