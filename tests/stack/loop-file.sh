#!/bin/sh
# Writes from a loop device whose backing file lives in the origin's
# mounted ext4: the loop driver writes the file through the filesystem, so
# the writes reach the origin from the loop worker (buffered) or straight
# from the filesystem's direct I/O (--direct-io). The snapshot's image must
# still read exactly what it read at creation.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh
# shellcheck source=_stack.sh
. ./_stack

MNT=/mnt/vs-stack
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	[ -n "${LOOP:-}" ] && losetup -d "$LOOP" 2>/dev/null
	umount "$MNT" 2>/dev/null
	quiet_detach "$SP1"
	stack_unpartition
	rm -f /tmp/ref.img /tmp/new.bin
}
trap cleanup EXIT

tap_plan 6
fresh_start
stack_partition || { diag "no partitions on $SCRATCH1"; exit 1; }
mkdir -p "$MNT"
if ! { mkfs.ext4 -q -F "$SP1" > /dev/null 2>&1 &&
	mount -t ext4 "$SP1" "$MNT" &&
	yes volsnap-old-data | dd of="$MNT/disk.img" bs=1M count=16 \
		iflag=fullblock conv=fsync 2>/dev/null; }; then
	diag "cannot make the filesystem"
	exit 1
fi
LOOP=$(losetup -f)
losetup "$LOOP" "$MNT/disk.img" || { diag "losetup failed"; exit 1; }
check "attach $SP1 (mounted, with a loop device on a file in it)" \
	snapctl attach "$SP1" --store "$STORE"
check "snapshot" stack_snap "$SP1"

stack_random /tmp/new.bin 2048
dd if=/tmp/new.bin of="$LOOP" bs=1K seek=4096 oflag=direct 2>/dev/null
sync
echo 3 > /proc/sys/vm/drop_caches
check "written through $LOOP: the file has the new data" \
	stack_has "$LOOP" 4096 /tmp/new.bin
check "... and the image still reads as at the snapshot" stack_image_unchanged

# Overwrite the same file region once more, then a fresh region.
stack_random /tmp/new.bin 2048
dd if=/tmp/new.bin of="$LOOP" bs=1K seek=8192 oflag=direct 2>/dev/null
sync
check "written again through $LOOP: the file has the new data" \
	stack_has "$LOOP" 8192 /tmp/new.bin
check "... and the image still reads as at the snapshot" stack_image_unchanged
tap_done
