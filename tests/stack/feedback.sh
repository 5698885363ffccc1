#!/bin/sh
# Stores whose writes would come back into their origin are refused at
# attach with ELOOP: a dm-linear device over the origin, one over the
# origin's whole disk, one stacked two deep, a loop device on a file in
# the origin's filesystem, a loop device over the origin's device node;
# an origin stacked on its store is refused too
# (EBUSY: dm holds the store). (A store
# that is the whole disk of the origin partition is refused with EINVAL,
# see errors/attach.) A dm device over an unrelated disk is a valid store.
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
	quiet_detach "$SP1" "$SP2" "$SCRATCH2"
	for d in vs-fb-top vs-fb-part vs-fb-disk vs-fb-other vs-fb-over; do
		dmsetup remove "$d" 2>/dev/null
	done
	stack_unpartition
}
trap cleanup EXIT

# attach_refused DESCRIPTION ORIGIN STORE
attach_refused() {
	expect_errno "$1: ELOOP" 1 ELOOP snapctl attach "$2" --store "$3"
	quiet_detach "$2"
}

tap_plan 9
fresh_start
wipe "$SCRATCH2"
stack_partition || { diag "no partitions on $SCRATCH1"; exit 1; }

part=$(dm_create vs-fb-part "0 $SP1_SECTORS linear $SP1 0")
attach_refused "store is a dm device over the origin" "$SP1" "$part"
top=$(dm_create vs-fb-top "0 $SP1_SECTORS linear $part 0")
attach_refused "store is a dm device over a dm device over the origin" \
	"$SP1" "$top"
dmsetup remove vs-fb-top; dmsetup remove vs-fb-part
disk=$(dm_create vs-fb-disk "0 $((SP1_START + SP1_SECTORS + 65536)) linear $SCRATCH1 0")
attach_refused "store is a dm device over the origin partition's disk" \
	"$SP1" "$disk"
dmsetup remove vs-fb-disk

# dm holds the disks it maps onto exclusively: the store cannot be opened
# (EBUSY) before the stacking check would say ELOOP.
over=$(dm_create vs-fb-over "0 65536 linear $SCRATCH2 0")
expect_errno "origin is a dm device over its store: EBUSY or ELOOP" 1 \
	"EBUSY|ELOOP" snapctl attach "$over" --store "$SCRATCH2"
quiet_detach "$over"
dmsetup remove vs-fb-over

other=$(dm_create vs-fb-other "0 65536 linear $SCRATCH2 0")
check "a dm device over an unrelated disk is a valid store" \
	sh -c "snapctl attach $SP1 --store $other && snapctl detach $SP1"
dmsetup remove vs-fb-other

mkdir -p "$MNT"
if mkfs.ext4 -q -F "$SP1" > /dev/null 2>&1 && mount -t ext4 "$SP1" "$MNT" &&
   dd if=/dev/zero of="$MNT/store.img" bs=1M count=8 conv=fsync 2>/dev/null &&
   LOOP=$(losetup -f) && losetup "$LOOP" "$MNT/store.img"; then
	attach_refused "store is a loop device on a file in the origin" \
		"$SP1" "$LOOP"
	check "the loop device is a valid store of another origin" \
		sh -c "snapctl attach $SP2 --store $LOOP && snapctl detach $SP2"
	losetup -d "$LOOP"; LOOP=
else
	skip "store is a loop device on a file in the origin" "no loop device"
	skip "the loop device is a valid store of another origin" "no loop device"
fi
# A loop device whose backing file is the origin's own device node (a file
# on devtmpfs, a filesystem without a block device): the writes go to the
# origin all the same. --force: the store shows the origin's ext4.
LOOP=$(losetup -f) && losetup "$LOOP" "$SP1"
expect_errno "store is a loop device over the origin's device node: ELOOP" 1 ELOOP \
	snapctl attach "$SP1" --store "$LOOP" --force
quiet_detach "$SP1"
losetup -d "$LOOP"; LOOP=
umount "$MNT"
check "the origin still attaches to a plain store" \
	sh -c "snapctl attach $SP1 --store $STORE && snapctl detach $SP1"
tap_done
