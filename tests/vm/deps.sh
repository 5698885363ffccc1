#!/bin/bash
# Install everything the build, the checks and the VM tests need on a bare
# Debian 12 machine: host packages, and Debian's 6.1 (bookworm) and 6.12
# (bookworm-backports) kernels with their headers. Idempotent and quick when
# everything is present.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"

HOST_PKGS=(make gcc libc6-dev pkg-config libsmartcols-dev libmount-dev
	   libblkid-dev qemu-system-x86 busybox-static cpio kmod zstd xz-utils
	   fio e2fsprogs xfsprogs dmsetup sparse shellcheck python3
	   python3-docutils gnuplot-nox bc bison flex libelf-dev libssl-dev
	   dwarves rsync jq fdisk perl linux-source-6.1)

[ "$(id -u)" = 0 ] || die "must run as root (installs packages)"

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

for suite in bookworm bookworm-backports; do
	stamp="$VOLSNAP_CACHE/kernel-$suite.abi"
	abi=$(cat "$stamp" 2>/dev/null || true)
	if [ -z "$abi" ] || [ ! -e "/lib/modules/$abi/build/Makefile" ] ||
	   [ ! -f "$VOLSNAP_CACHE/kernels/$abi/vmlinuz" ] ||
	   [ ! -f "$VOLSNAP_CACHE/kernels/$abi/root/lib/modules/$abi/modules.dep" ]; then
		apt_update
		abi=$(kernel_abi "$suite")
		[ -n "$abi" ] || die "cannot resolve linux-image-amd64 in $suite"
		log "kernel $abi from $suite"
		# pkg/suite, not -t: only what the kernel needs comes from
		# $suite, nothing else on the system is upgraded.
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends "linux-headers-$abi/$suite" >&2
		# The image is unpacked into the cache, not installed: the host
		# does not boot it, and no initramfs or bootloader hook runs.
		kdir="$VOLSNAP_CACHE/kernels/$abi"
		rm -rf "$kdir"; mkdir -p "$kdir"
		(cd "$kdir" && apt-get download -q -o APT::Sandbox::User=root \
			"linux-image-$abi/$suite" >&2)
		dpkg-deb -x "$kdir"/linux-image-*.deb "$kdir/root"
		rm -f "$kdir"/linux-image-*.deb
		depmod -b "$kdir/root" "$abi"
		cp "$kdir/root/boot/vmlinuz-$abi" "$kdir/vmlinuz"
		echo "$abi" > "$stamp"
	fi
	echo "$suite $abi"
done
