#!/bin/sh
# The Debian packages, installed as a user would and used from their own
# files: snapctl's package and volsnap-dkms unpacked into / (busybox's
# dpkg-deb: the guest has no dpkg database), the module DKMS built from
# volsnap-dkms's sources on the host (tests/vm/dkms-build.sh) put where
# `dkms install` puts it, depmod run. Then the demo's steps with nothing
# but the installed files: the node kmod static-nodes would make, the
# first open loading the module on demand, the installed snapctl, the
# installed udev rule naming the image.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

KVER=$(uname -r)
MODDIR=/lib/modules/$KVER
MNT=/tmp/pkg-origin
IMG=/tmp/pkg-image
SNAPCTL=/usr/sbin/snapctl

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	umount "$IMG" "$MNT" 2> /dev/null
	udevadm control --exit 2> /dev/null
	rm -rf /run/udev /dev/disk	# dmsetup would wait for a udev that is gone
	[ -x "$SNAPCTL" ] && "$SNAPCTL" detach --force "$ORIGIN" > /dev/null 2>&1
	# Take the installed files away again: later tests use the suite's.
	for deb in /debs/*.deb; do
		dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' |
			while read -r f; do rm -f "$f"; done
	done
	rm -rf "$MODDIR" /usr/src/volsnap-* /dev/volsnap-ctl
	[ -f /tmp/suite.rules ] && mv /tmp/suite.rules /lib/udev/rules.d/60-volsnap.rules
	rmmod volsnap 2> /dev/null
	vs_load
}
trap cleanup EXIT

tap_plan 10
vs_unload
rm -f /dev/volsnap-ctl

for deb in /debs/snapctl_*.deb /debs/volsnap-dkms_*.deb; do
	check "install $(basename "$deb")" dpkg-deb -x "$deb" /
done
check "snapctl is installed and runs" sh -c "$SNAPCTL --version | grep -q '^snapctl '"
check "volsnap-dkms installed the module's sources and dkms.conf" \
	sh -c 'test -f /usr/src/volsnap-*/dkms.conf && test -f /usr/src/volsnap-*/kmod/main.c'
mkdir -p "$MODDIR/updates/dkms"
cp /debs/volsnap.ko "$MODDIR/updates/dkms/"
depmod "$KVER"
check "the DKMS-built module is for this kernel" \
	sh -c "modinfo -F vermagic $MODDIR/updates/dkms/volsnap.ko | grep -q '^$KVER '"
# kmod static-nodes: the node from the module's devname alias, at boot.
dev=$(modinfo -F alias "$MODDIR/updates/dkms/volsnap.ko" |
	sed -n 's/^char-major-\([0-9]*\)-\([0-9]*\)$/\1 \2/p')
# shellcheck disable=SC2086  # major and minor
mknod -m 600 /dev/volsnap-ctl c $dev
echo /bin/modprobe > /proc/sys/kernel/modprobe
check "snapctl version loads the module on demand" \
	sh -c "$SNAPCTL version > /dev/null && grep -q '^volsnap ' /proc/modules"

mkdir -p /run/udev "$MNT" "$IMG"
# The suite's copy of the rule goes aside: the package's must do the work.
mv /lib/udev/rules.d/60-volsnap.rules /tmp/suite.rules
/sbin/systemd-udevd --daemon --resolve-names=never 2> /dev/null
mkfs.ext4 -q -F "$ORIGIN" 64M
mount -t ext4 "$ORIGIN" "$MNT"
echo "before the snapshot" > "$MNT/file"
wipe "$STORE"
check "attach with the installed snapctl" "$SNAPCTL" attach "$ORIGIN" --store "$STORE"
"$SNAPCTL" -J create "$ORIGIN" > /tmp/pkg.json
id=$(jq -r .id /tmp/pkg.json)
img=$(jq -r .device /tmp/pkg.json)
echo "after the snapshot" > "$MNT/file"
sync
check "the image mounts read-only and shows the instant" \
	sh -c "mount -t ext4 -o ro,noload $img $IMG && grep -qx 'before the snapshot' $IMG/file"
umount "$IMG"
udevadm settle -t 60
is "the installed udev rule names the image" \
	"$(readlink -f "/dev/disk/by-snapshot/${ORIGIN#/dev/}/$id")" "$img"
check "delete and detach with the installed snapctl" \
	sh -c "$SNAPCTL delete $ORIGIN $id > /dev/null && umount $MNT && $SNAPCTL detach $ORIGIN > /dev/null"
tap_done
