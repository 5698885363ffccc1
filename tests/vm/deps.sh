#!/bin/bash
# Install everything the build, the checks and the VM tests need on a bare
# Debian 12 machine: host packages (no kernel package among them), the
# guest-only programs (mdadm) unpacked into the cache, and
# Debian's 6.1 (bookworm) and 6.12 (bookworm-backports) kernels with their
# build trees, downloaded and unpacked into the cache, never installed: the
# host's /boot, /lib/modules and /usr/src are not touched. Idempotent and
# quick when everything is present.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"

HOST_PKGS=(make gcc libc6-dev pkg-config libsmartcols-dev libmount-dev
	   libblkid-dev qemu-system-x86 busybox-static cpio kmod zstd xz-utils
	   fio e2fsprogs xfsprogs dmsetup sparse shellcheck python3
	   python3-docutils gnuplot-nox bc bison flex libelf-dev libssl-dev
	   dwarves rsync jq fdisk perl linux-source-6.1
	   # snapctl export's NBD server and the clients its test reads
	   # with; copied into the guest with their plugins (vmtest.py)
	   nbdkit libnbd-bin qemu-utils nbd-client
	   gcc-12	# the compiler Debian's 6.1 and 6.12 trees name (CC=gcc-12)
	   # make deb and its checks: dpkg-buildpackage's implicit build
	   # dependency, debian/control's, lintian, and dkms to build the
	   # packaged module against the cached trees. dkms only recommends
	   # linux-headers-amd64; the check below keeps it that way.
	   build-essential debhelper dh-dkms lintian dkms
	   # the libraries of the PostgreSQL unpacked for the guest below
	   # (vmtest.py copies a program with what ldd finds on the host)
	   libpq5 libicu72 libxml2)

[ "$(id -u)" = 0 ] || die "must run as root (installs packages)"
cache_lock deps

missing=()
for p in "${HOST_PKGS[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done

updated=
apt_update() {
	[ -n "$updated" ] && return
	apt-get update -q >&2
	updated=1
}

if [ ${#missing[@]} -gt 0 ]; then
	log "installing: ${missing[*]}"
	apt_update
	# No kernel image or headers on the host, whatever pulls them in.
	kpkgs=$(apt-get install -s -q --no-install-recommends "${missing[@]}" 2>/dev/null |
		sed -n 's/^Inst \(linux-\(image\|headers\)-[^ ]*\).*/\1/p')
	[ -z "$kpkgs" ] || die "installing ${missing[*]} would install: $kpkgs"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >&2
fi

# The backports suite, derived from the system's sources file.
bpo=/etc/apt/sources.list.d/volsnap-bookworm-backports.sources
if [ ! -f "$bpo" ]; then
	derive_sources bookworm-backports > "$bpo"
	updated=
fi

# kernel_abi SUITE - the versioned kernel package name (6.1.0-NN-amd64)
# that the metapackage linux-image-amd64 points to in SUITE.
kernel_abi() {
	apt-cache depends -t "$1" linux-image-amd64 2>/dev/null |
		sed -n 's/.*Depends: linux-image-\(.*-amd64\)$/\1/p' | head -n1
}

# fetch_image ABI SUITE KDIR - unpack linux-image-ABI from SUITE into
# KDIR/root, not installing it: the host does not boot it, and no initramfs
# or bootloader hook runs. Run depmod on it; copy its vmlinuz to KDIR.
fetch_image() {
	local abi=$1 suite=$2 kdir=$3
	log "unpacking linux-image-$abi from $suite into $kdir"
	rm -rf "$kdir"; mkdir -p "$kdir"
	# pkg/suite: the kernel comes from $suite whatever the pinning says.
	(cd "$kdir" && apt-get download -q -o APT::Sandbox::User=root \
		"linux-image-$abi/$suite" >&2)
	dpkg-deb -x "$kdir"/linux-image-*.deb "$kdir/root"
	rm -f "$kdir"/linux-image-*.deb
	depmod -b "$kdir/root" "$abi"
	cp "$kdir/root/boot/vmlinuz-$abi" "$kdir/vmlinuz"
}

# fetch_headers ABI SUITE KDIR - unpack the build tree of linux-image-ABI
# into KDIR/root next to the image: linux-headers-ABI and the two packages
# it needs that hold the tree, linux-headers-*-common and linux-kbuild-*,
# all at the version of linux-headers-ABI in SUITE. The headers' other
# dependencies (the image itself, linux-base, the compiler metapackage)
# are not fetched; the compiler is a host package above. Paths inside the
# tree that point at /usr/src or /usr/lib are made relative, so the tree
# builds where it is: make -C KDIR/root/usr/src/linux-headers-ABI M=...
fetch_headers() {
	local abi=$1 suite=$2 kdir=$3 root=$3/root hdr=linux-headers-$1
	local ver deps pkgs=() p l t
	ver=$(apt-cache show "$hdr/$suite" 2>/dev/null |
		awk '/^$/ { exit } sub(/^Version: /, "")')
	[ -n "$ver" ] || die "no $hdr in $suite"
	deps=$(apt-cache show "$hdr/$suite" 2>/dev/null |
		awk '/^$/ { exit } sub(/^Depends: /, "")' |
		tr ',' '\n' | sed 's/|.*//; s/(.*//; s/[[:space:]]//g')
	pkgs=("$hdr")
	for p in "linux-headers-.*-common" "linux-kbuild-.*"; do
		t=$(grep -x -- "$p" <<< "$deps" || true)
		[ "$(grep -c . <<< "$t")" = 1 ] ||
			die "$hdr $ver: expected one $p dependency, got: ${t:-none}"
		pkgs+=("$t")
	done
	log "unpacking ${pkgs[*]} ($ver) into $kdir"
	rm -f "$kdir/headers.done" "$root/lib/modules/$abi/build" \
		"$root/lib/modules/$abi/source"
	rm -rf "$root"/usr/src/linux-headers-* "$root"/usr/src/linux-kbuild-* \
		"$root"/usr/lib/linux-kbuild-* "$kdir/debs"
	mkdir -p "$kdir/debs"
	(cd "$kdir/debs" && apt-get download -q -o APT::Sandbox::User=root \
		"${pkgs[@]/%/=$ver}" >&2)
	for p in "$kdir"/debs/*.deb; do
		dpkg-deb -x "$p" "$root"
	done
	rm -rf "$kdir/debs"
	# Absolute symlinks (lib/modules/ABI/build -> /usr/src/...) point
	# into the unpacked root instead, relative to where they are.
	find "$root" -type l -lname '/*' -print0 |
	while IFS= read -r -d '' l; do
		t=$(readlink "$l")
		ln -sfn "$(realpath -s -m --relative-to="$(dirname "$l")" "$root$t")" "$l"
	done
	# The tree's Makefile includes the common tree's by absolute path.
	# shellcheck disable=SC2016  # make's $(...), not the shell's
	sed -i 's|^include /usr/src/|include $(dir $(realpath $(lastword $(MAKEFILE_LIST))))../|' \
		"$root/usr/src/$hdr/Makefile"
	if grep -q '/usr/src/\|/usr/lib/' "$root/usr/src/$hdr/Makefile" ||
	   [ ! -x "$root/usr/src/$hdr/scripts/mod/modpost" ] ||
	   [ ! -f "$root/lib/modules/$abi/build/Makefile" ] ||
	   [ -n "$(find "$root" -type l -lname '/*' -print -quit)" ]; then
		die "$hdr unpacked into $root is not a self-contained build tree"
	fi
	for p in "${pkgs[@]}"; do echo "$p=$ver"; done > "$kdir/headers.done"
}

# cached_image ABI / cached_headers ABI - whether the cache holds it whole.
# A cache from before the build trees were unpacked there has the image
# but no headers.done: only the headers are fetched then.
cached_image() {
	[ -f "$VOLSNAP_CACHE/kernels/$1/vmlinuz" ] &&
	[ -f "$VOLSNAP_CACHE/kernels/$1/root/lib/modules/$1/modules.dep" ]
}
cached_headers() {
	[ -f "$VOLSNAP_CACHE/kernels/$1/headers.done" ] &&
	[ -f "$(kernel_build_dir "$1")/Makefile" ]
}

# Programs only the guest runs, unpacked into the cache rather than
# installed: mdadm's package would set up array monitoring on the host,
# udev's would start a device manager on it (the guest runs udevd for the
# udev rule's test, control/names).
GUEST_PKGS=(mdadm udev)
groot=$VOLSNAP_CACHE/guest-tools
if [ "$(cat "$groot/done" 2>/dev/null)" != "${GUEST_PKGS[*]}" ]; then
	apt_update
	log "unpacking ${GUEST_PKGS[*]} into $groot/root"
	rm -rf "$groot"
	mkdir -p "$groot/debs"
	(cd "$groot/debs" && apt-get download -q -o APT::Sandbox::User=root \
		"${GUEST_PKGS[@]}" >&2)
	for p in "$groot"/debs/*.deb; do
		dpkg-deb -x "$p" "$groot/root"
	done
	rm -rf "$groot/debs"
	echo "${GUEST_PKGS[*]}" > "$groot/done"
fi

# PostgreSQL for the PostgreSQL writer's test (writers/postgresql), in a
# directory of its own: installed, its package would start a server on
# the host.
PG_PKGS=(postgresql-15 postgresql-client-15)
pgroot=$VOLSNAP_CACHE/guest-postgresql
if [ "$(cat "$pgroot/done" 2>/dev/null)" != "${PG_PKGS[*]}" ]; then
	apt_update
	log "unpacking ${PG_PKGS[*]} into $pgroot/root"
	rm -rf "$pgroot"
	mkdir -p "$pgroot/debs"
	(cd "$pgroot/debs" && apt-get download -q -o APT::Sandbox::User=root \
		"${PG_PKGS[@]}" >&2)
	for p in "$pgroot"/debs/*.deb; do
		dpkg-deb -x "$p" "$pgroot/root"
	done
	rm -rf "$pgroot/debs"
	echo "${PG_PKGS[*]}" > "$pgroot/done"
fi

for suite in bookworm bookworm-backports; do
	stamp="$VOLSNAP_CACHE/kernel-$suite.abi"
	abi=$(cat "$stamp" 2>/dev/null || true)
	if [ -z "$abi" ] || ! cached_image "$abi" || ! cached_headers "$abi"; then
		apt_update
		abi=$(kernel_abi "$suite")
		[ -n "$abi" ] || die "cannot resolve linux-image-amd64 in $suite"
		log "kernel $abi from $suite"
		kdir="$VOLSNAP_CACHE/kernels/$abi"
		cached_image "$abi" || fetch_image "$abi" "$suite" "$kdir"
		cached_headers "$abi" || fetch_headers "$abi" "$suite" "$kdir"
		echo "$abi" > "$stamp"
	fi
	echo "$suite $abi"
done
