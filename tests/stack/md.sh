#!/bin/sh
# Writes from md stacked on an attached origin: an md RAID1 (legacy, no
# superblock: mdadm --build) mirrors the origin partition onto the second
# scratch disk. One array is built before the attach and written after the
# snapshot; one is built after the snapshot. md submits its members' bios
# from its own thread: the snapshot's image must still read exactly what
# it read at creation, and the origin must hold the new data.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh
# shellcheck source=_stack.sh
. ./_stack

MD=/dev/md0
export MDADM_NO_UDEV=1

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	mdadm --stop "$MD" > /dev/null 2>&1
	quiet_detach "$SP1"
	stack_unpartition
	rm -f /tmp/ref.img /tmp/new.bin
}
trap cleanup EXIT

# md_build - a RAID1 of the origin partition and the second scratch disk,
# both taken as in sync (no resync reads or writes).
# shellcheck disable=SC2317  # called through check
md_build() {
	mdadm --build "$MD" --level=1 --raid-devices=2 --assume-clean \
		"$SP1" "$SCRATCH2" > /tmp/md.err 2>&1 ||
		{ sed 's/^/# /' /tmp/md.err; return 1; }
}

tap_plan 9
fresh_start
if ! command -v mdadm > /dev/null || ! grep -q raid1 /proc/mdstat 2>/dev/null; then
	i=0
	while [ $i -lt 9 ]; do
		skip "md stacked on the origin $((i + 1))" "no mdadm or no md RAID1"
		i=$((i + 1))
	done
	tap_done
fi
stack_partition || { diag "no partitions on $SCRATCH1"; exit 1; }
stack_fill "$SP1"
check "build an md RAID1 over $SP1" md_build
check "attach $SP1 under the md array" \
	snapctl attach "$SP1" --store "$STORE"
check "snapshot" stack_snap "$SP1"

stack_random /tmp/new.bin 1024
dd if=/tmp/new.bin of="$MD" bs=1K seek=4096 oflag=direct 2>/dev/null
check "written through the earlier md array: the origin has the new data" \
	stack_has "$SP1" 4096 /tmp/new.bin
check "... and the image still reads as at the snapshot" stack_image_unchanged

mdadm --stop "$MD" > /dev/null 2>&1
check "stop it, build a new array after the snapshot" md_build
stack_random /tmp/new.bin 1024
dd if=/tmp/new.bin of="$MD" bs=1K seek=16384 oflag=direct 2>/dev/null
check "written through the later md array: the origin has the new data" \
	stack_has "$SP1" 16384 /tmp/new.bin
check "... and the mirror too" stack_has "$SCRATCH2" 16384 /tmp/new.bin
check "... and the image still reads as at the snapshot" stack_image_unchanged
tap_done
