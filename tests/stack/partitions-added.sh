#!/bin/sh
# A whole disk attached without partitions that gains some while attached:
# writes through the new partitions would bypass the snapshot, so the
# snapshot becomes invalid ("partitions added") within the poll's second
# instead of silently changing, and new snapshots are refused with EXDEV
# until the partitions are gone.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	quiet_detach "$SCRATCH1"
	dd if=/dev/zero of="$SCRATCH1" bs=1M count=1 conv=fsync 2>/dev/null
	blockdev --rereadpt "$SCRATCH1" 2>/dev/null
}
trap cleanup EXIT

fresh_start
tap_plan 6
dd if=/dev/zero of="$SCRATCH1" bs=1M count=1 conv=fsync 2>/dev/null
blockdev --rereadpt "$SCRATCH1" 2>/dev/null
check "attach the whole disk $SCRATCH1" \
	snapctl attach "$SCRATCH1" --store "$STORE"
create_snap "$SCRATCH1"
id=$SNAP_ID
is "its snapshot is valid" "$(snap_field "$SCRATCH1" "$id" state)" valid

printf 'label: dos\n,64M\n' | sfdisk -q "$SCRATCH1" > /dev/null 2>&1
wait_invalid "$SCRATCH1" "$id"
is "a partition appears: the snapshot is invalid" \
	"$(snap_field "$SCRATCH1" "$id" state)" invalid
is "with reason 'partitions added'" "$(snap_field "$SCRATCH1" "$id" reason)" \
	"partitions added"
expect_errno "a new snapshot is refused" 1 EXDEV snapctl create "$SCRATCH1"
check "detach --force" snapctl detach --force "$SCRATCH1"
tap_done
