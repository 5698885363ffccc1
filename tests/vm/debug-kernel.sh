#!/bin/bash
# Build, once, a debug kernel for the VM tests (KASAN, lockdep, kmemleak,
# fault injection, ftrace, kprobes; see debug-kernel.config) from Debian's
# linux-source package, and print the one line that callers need on stdout:
# the cache directory, holding
#   bzImage     the kernel to boot with qemu -kernel
#   build/      the configured tree, for `make -C DIR/build M=... modules`
#   config      the final .config
#   build.log   the full log of the build
#   package     "PACKAGE VERSION SUITE" of the source used
# Progress goes to stderr.
#
# The cache key is derived from the source package version, the fragment's
# hash and `gcc --version | head -1`. When a build for the current fragment
# and compiler is already cached the script reuses it (the newest one)
# without asking the archive; VOLSNAP_KERNEL_REFRESH=1 makes it look for a
# newer source package first.
#
# Environment:
#   VOLSNAP_KERNEL_SERIES  source series: "7" (newest linux-source-7.N, the
#                          default) or an exact one such as "6.12"
#   VOLSNAP_KERNEL_SUITES  suites to look in, in order
#                          (default: "trixie-backports sid")
#   VOLSNAP_KERNEL_REFRESH 1: resolve the newest source even if a build is
#                          cached
#   VOLSNAP_JOBS           make -j (default 2)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/lib.sh
. "$here/lib.sh"

# stdout carries only the result; everything else goes to stderr.
exec 3>&1 1>&2

FRAGMENT=$here/debug-kernel.config
SERIES=${VOLSNAP_KERNEL_SERIES:-7}
read -r -a SUITES <<< "${VOLSNAP_KERNEL_SUITES:-trixie-backports sid}"
JOBS=${VOLSNAP_JOBS:-2}
ROOT=$VOLSNAP_CACHE/debug-kernel

[ -f "$FRAGMENT" ] || die "missing $FRAGMENT"
cache_lock debug-kernel
command -v gcc > /dev/null || die "gcc not found"

frag_hash=$(sha256sum < "$FRAGMENT" | cut -c1-16)
gcc_id=$(gcc --version | sed -n 1p)
# linux-source-7.3 for SERIES=7, linux-source-6.12 for SERIES=6.12
pkg_re="^linux-source-${SERIES//./\\.}(\\.[0-9]+)?\$"

# dir_name VERSION - cache directory name for a source package version
dir_name() {
	local key
	key=$(printf '%s\n%s\n%s\n' "$1" "$frag_hash" "$gcc_id" | sha256sum | cut -c1-16)
	echo "${1//[^A-Za-z0-9.+-]/_}-$key"
}

# complete DIR - DIR holds a finished build
complete() {
	[ -f "$1/bzImage" ] && [ -f "$1/build/Makefile" ] && [ -f "$1/package" ]
}

# find_cached - print the newest complete build for this fragment, compiler
# and series, if any
find_cached() {
	local d pkg ver suite
	for d in "$ROOT"/*/; do
		d=${d%/}
		complete "$d" || continue
		read -r pkg ver suite < "$d/package" || continue
		[[ $pkg =~ $pkg_re ]] || continue
		[ "${d##*/}" = "$(dir_name "$ver")" ] || continue
		printf '%s\t%s\n' "$ver" "$d"
	done | sort -t "$(printf '\t')" -V -k1,1 | tail -n1 | cut -f2
}

if [ "${VOLSNAP_KERNEL_REFRESH:-0}" != 1 ]; then
	cached=$(find_cached)
	if [ -n "$cached" ]; then
		echo "$cached" >&3
		exit 0
	fi
fi

# --- Resolve the newest source package of the series ----------------------
pkg='' ver='' suite=''
for s in "${SUITES[@]}"; do
	private_apt "$s"
	pkg=$(apt-cache "${APT_OPTS[@]}" search --names-only "$pkg_re" |
		awk '{ print $1 }' | sort -V | tail -n1)
	[ -n "$pkg" ] || { log "no linux-source-$SERIES.x in $s"; continue; }
	ver=$(apt-cache "${APT_OPTS[@]}" policy "$pkg" |
		awk '$1 == "Candidate:" { print $2 }')
	if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
		die "$pkg in $s has no candidate"
	fi
	suite=$s
	break
done
[ -n "$suite" ] || die "no linux-source-$SERIES.x in: ${SUITES[*]}"
log "source: $pkg $ver ($suite)"

name=$(dir_name "$ver")
final=$ROOT/$name
mkdir -p "$ROOT"
if complete "$final"; then
	echo "$final" >&3
	exit 0
fi

# One build at a time; whoever waited may find the work already done.
exec 9> "$ROOT/.lock"
if ! flock -n 9; then
	log "waiting for another build to finish"
	flock 9
fi
if complete "$final"; then
	echo "$final" >&3
	exit 0
fi

# Build in a temporary directory, renamed into place only when complete;
# an interrupted or failed build leaves nothing that looks cached.
rm -rf "$ROOT/.tmp-$name".* "$final"
tmp=$ROOT/.tmp-$name.$$
cleanup() { [ -z "${tmp:-}" ] || rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$tmp"
buildlog=$tmp/build.log
: > "$buildlog"
start=$SECONDS

# step DESCRIPTION CMD... - run CMD in the tree, logging its output; on
# failure show the log's tail and keep a copy of the log beside the cache.
step() {
	local what=$1; shift
	log "$what"
	echo "=== $what: $*" >> "$buildlog"
	if ! (cd "$tmp/build" && "$@") >> "$buildlog" 2>&1; then
		tail -n 60 "$buildlog" >&2
		cp "$buildlog" "$ROOT/$name.failed.log"
		die "$what failed; full log: $ROOT/$name.failed.log"
	fi
}

# --- Fetch and unpack ------------------------------------------------------
log "downloading $pkg $ver"
(cd "$tmp" && apt-get "${APT_OPTS[@]}" -o APT::Sandbox::User=root \
	download -q "$pkg=$ver") >> "$buildlog" 2>&1 ||
	{ tail -n 20 "$buildlog" >&2; die "download of $pkg $ver failed"; }
deb=$(echo "$tmp/${pkg}_"*.deb)
[ -f "$deb" ] || die "downloaded .deb not found in $tmp"
log "unpacking /usr/src/$pkg.tar.xz"
mkdir -p "$tmp/build"
# The tarball streams from the .deb into tar; it never lands on disk.
dpkg-deb --fsys-tarfile "$deb" | tar -xOf - "./usr/src/$pkg.tar.xz" |
	tar -xJf - -C "$tmp/build" --strip-components=1 ||
	die "cannot unpack $pkg.tar.xz from $deb"
rm -f "$deb"
echo "$pkg $ver $suite" > "$tmp/package.pending"

# --- Configure -------------------------------------------------------------
step "make tinyconfig" make tinyconfig
step "merging ${FRAGMENT##*/}" scripts/kconfig/merge_config.sh -m .config "$FRAGMENT"
step "make olddefconfig" make olddefconfig

# Every line of the fragment must have survived olddefconfig: an option with
# an unmet dependency is dropped without a word.
missing=()
while IFS= read -r line; do
	case $line in
	CONFIG_*=*)
		grep -qxF -- "$line" "$tmp/build/.config" ||
			missing+=("$line (got: $(grep -E "^(# )?${line%%=*}[= ]" "$tmp/build/.config" || echo absent))")
		;;
	"# CONFIG_"*" is not set")
		opt=${line#"# "}; opt=${opt%% *}
		! grep -q "^$opt=" "$tmp/build/.config" ||
			missing+=("$line (got: $(grep "^$opt=" "$tmp/build/.config"))")
		;;
	esac
done < "$FRAGMENT"
if [ ${#missing[@]} -gt 0 ]; then
	printf '  %s\n' "${missing[@]}" >&2
	die "${#missing[@]} option(s) of ${FRAGMENT##*/} not set as requested after olddefconfig (unmet dependencies?)"
fi
# Everything is built in: the guest must need no module but ours.
if grep -q '=m$' "$tmp/build/.config"; then
	grep '=m$' "$tmp/build/.config" >&2
	die "options built as modules; set them =y in ${FRAGMENT##*/}"
fi
cp "$tmp/build/.config" "$tmp/config"

# --- Build -----------------------------------------------------------------
# modules writes Module.symvers (no module is configured, so it is quick);
# modules_prepare readies the tree for external M= builds.
export KBUILD_BUILD_USER=volsnap KBUILD_BUILD_HOST=volsnap
step "make -j$JOBS bzImage modules modules_prepare (long)" \
	make -j"$JOBS" bzImage modules modules_prepare
cp "$tmp/build/arch/x86/boot/bzImage" "$tmp/bzImage"
[ -s "$tmp/build/Module.symvers" ] || die "no Module.symvers after the build"

# Objects are not needed for external module builds: drop them, along with
# the intermediate vmlinux archives. The host tools under scripts/ and
# tools/ (modpost, objtool, ...) are executables and stay.
log "pruning objects"
find "$tmp/build" \( -name '*.o' -o -name '*.a' -o -name '.tmp_vmlinux*' \) \
	-type f -not -path "$tmp/build/scripts/*" -not -path "$tmp/build/tools/*" \
	-delete

# Self-test: an external module must still build against the pruned tree.
mkdir -p "$tmp/selftest"
cat > "$tmp/selftest/hello.c" << 'EOF'
#include <linux/module.h>
static int __init hello_init(void) { pr_info("hello\n"); return 0; }
static void __exit hello_exit(void) { }
module_init(hello_init);
module_exit(hello_exit);
MODULE_LICENSE("GPL");
EOF
echo 'obj-m := hello.o' > "$tmp/selftest/Kbuild"
step "self-test: external module build" make M="$tmp/selftest" modules
[ -f "$tmp/selftest/hello.ko" ] || die "self-test module hello.ko not built"
rm -rf "$tmp/selftest"

mv "$tmp/package.pending" "$tmp/package"
echo "built in $((SECONDS - start)) s" >> "$buildlog"
mv -T "$tmp" "$final"
tmp=
log "built $pkg $ver in $((SECONDS - start)) s: $final ($(du -sh "$final" | cut -f1))"
echo "$final" >&3
