#!/bin/sh
# Writes from a driver stacked on an attached origin: a dm-linear device
# created over the origin after a snapshot, and one created before it, are
# written with O_DIRECT. The snapshot's image must still read exactly what
# it read at creation, and the origin must hold the new data.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh
# shellcheck source=_stack.sh
. ./_stack

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	dmsetup remove vs-lin-a 2>/dev/null
	dmsetup remove vs-lin-b 2>/dev/null
	quiet_detach "$SP1"
	stack_unpartition
	rm -f /tmp/ref.img /tmp/new.bin
}
trap cleanup EXIT

tap_plan 7
fresh_start
stack_partition || { diag "no partitions on $SCRATCH1"; exit 1; }
stack_fill "$SP1"
table="0 $SP1_SECTORS linear $SP1 0"
before=$(dm_create vs-lin-a "$table")
check "attach $SP1 with a dm-linear device on it" \
	snapctl attach "$SP1" --store "$STORE"
check "snapshot" stack_snap "$SP1"
after=$(dm_create vs-lin-b "$table")
check "a dm-linear device created after the snapshot" test -b "$after"

stack_random /tmp/new.bin 1024
dd if=/tmp/new.bin of="$after" bs=1K seek=4096 oflag=direct 2>/dev/null
check "written through the later dm device: the origin has the new data" \
	stack_has "$SP1" 4096 /tmp/new.bin
check "... and the image still reads as at the snapshot" stack_image_unchanged

stack_random /tmp/new.bin 1024
dd if=/tmp/new.bin of="$before" bs=1K seek=16384 oflag=direct 2>/dev/null
check "written through the earlier dm device: the origin has the new data" \
	stack_has "$SP1" 16384 /tmp/new.bin
check "... and the image still reads as at the snapshot" stack_image_unchanged
tap_done
