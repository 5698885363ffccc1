#!/bin/sh
# Writes to an attached partition through its whole disk's node: one inside
# the partition, one across its start, one across its end (the parts
# outside belong to the neighbours). The snapshot's image must still read
# exactly what it read at creation; the partition and its neighbours must
# hold the new data. Every read is O_DIRECT: Linux keeps a disk's and its
# partitions' page caches apart, and the module holds the partition open,
# so its cache (stack_fill's pages) outlives each dd.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh
# shellcheck source=_stack.sh
. ./_stack

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	quiet_detach "$SP1"
	stack_unpartition
	rm -f /tmp/ref.img /tmp/new.bin /tmp/new.head
}
trap cleanup EXIT

# Offsets in KiB on the whole disk.
P_KIB=$((SP1_START / 2))
END_KIB=$(((SP1_START + SP1_SECTORS) / 2))

tap_plan 9
fresh_start
stack_partition || { diag "no partitions on $SCRATCH1"; exit 1; }
stack_fill "$SP1"
check "attach $SP1" snapctl attach "$SP1" --store "$STORE"
check "snapshot" stack_snap "$SP1"

stack_random /tmp/new.bin 1024
dd if=/tmp/new.bin of="$SCRATCH1" bs=1K seek=$((P_KIB + 8192)) oflag=direct \
	2>/dev/null
check "a write inside the partition through $SCRATCH1 reaches it" \
	stack_has "$SP1" 8192 /tmp/new.bin
check "... and the image still reads as at the snapshot" stack_image_unchanged

# 256 KiB before the partition's start, 768 KiB into it.
stack_random /tmp/new.bin 1024
dd if=/tmp/new.bin of="$SCRATCH1" bs=1K seek=$((P_KIB - 256)) oflag=direct \
	2>/dev/null
check "a write across the partition's start reaches the disk" \
	stack_has "$SCRATCH1" $((P_KIB - 256)) /tmp/new.bin
check "... and the image still reads as at the snapshot" stack_image_unchanged

# 512 KiB before the partition's end, 512 KiB into the next partition.
stack_random /tmp/new.bin 1024
dd if=/tmp/new.bin of="$SCRATCH1" bs=1K seek=$((END_KIB - 512)) oflag=direct \
	2>/dev/null
check "a write across the partition's end reaches the disk" \
	stack_has "$SCRATCH1" $((END_KIB - 512)) /tmp/new.bin
check "... and the image still reads as at the snapshot" stack_image_unchanged
dd if=/tmp/new.bin of=/tmp/new.head bs=1K count=512 2>/dev/null
check "the partition's last 512 KiB read the new data through it too" \
	stack_has "$SP1" $((SP1_SECTORS / 2 - 512)) /tmp/new.head
tap_done
