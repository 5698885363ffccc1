#!/bin/sh
# An origin resized while attached (online growth of a virtual disk or
# an LV; here a loop device whose file grows, then shrinks):
#  - a snapshot taken before the growth keeps its size and instant, also
#    when a write straddles the old end;
#  - a snapshot taken after it has the new size and reads the new area as
#    it was at its instant, whatever is written there later;
#  - when the origin shrinks below an image, that snapshot becomes invalid
#    ("origin shrank") instead of reading past the end; smaller ones stay
#    exact; also when it shrinks just as a snapshot is taken (the size
#    poll sees no change after that instant; the instant must check).
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

IMG=/tmp/resize-origin.img
LOOP=

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	[ -n "$LOOP" ] && quiet_detach "$LOOP"
	[ -n "$LOOP" ] && losetup -d "$LOOP" 2>/dev/null
	rm -f "$IMG"
}
trap cleanup EXIT

fresh_start
tap_plan 20

truncate -s 32M "$IMG"
LOOP=$(losetup -f)
losetup "$LOOP" "$IMG" || { diag "losetup failed"; exit 1; }
$VSDATA fill "$LOOP" 0 32M 1
check "attach a 32 MiB loop origin" \
	snapctl attach "$LOOP" --store "$STORE" --chunk-size 64K
create_snap "$LOOP"
id1=$SNAP_ID
img1=$SNAP_DEV

# Grow by 16 MiB, not on a chunk boundary of the new end.
truncate -s $((48 * 1048576 + 4096)) "$IMG"
losetup -c "$LOOP"
is "the origin grew" "$(blockdev --getsize64 "$LOOP")" $((48 * 1048576 + 4096))
is "snapshot 1 keeps its size" "$(blockdev --getsize64 "$img1")" $((32 * 1048576))
check "a write straddling the old end succeeds" \
	$VSDATA fill "$LOOP" $((32 * 1048576 - 65536)) 128K 2
check "snapshot 1 reads its instant, below and at the old end" \
	$VSDATA verify "$img1" 0 32M 1

create_snap "$LOOP"
id2=$SNAP_ID
img2=$SNAP_DEV
is "snapshot 2 has the new size" "$(blockdev --getsize64 "$img2")" \
	$((48 * 1048576 + 4096))
check "writing the grown area succeeds" $VSDATA fill "$LOOP" 32M 16M 3
check "and the device's new last sectors" \
	$VSDATA fill "$LOOP" $((48 * 1048576 - 4096)) 8K 3
check "snapshot 2 reads the grown area as it was (the straddling write, then zeros)" \
	sh -c "$VSDATA verify $img2 $((32 * 1048576 - 65536)) 128K 2 &&
	       $VSDATA verify $img2 $((32 * 1048576 + 65536)) $((16 * 1048576 - 65536 + 4096)) 99 --or-zero"
check "snapshot 2 reads the old area as it was" \
	sh -c "$VSDATA verify $img2 0 $((32 * 1048576 - 65536)) 1"
check "snapshot 1 is still exact" $VSDATA verify "$img1" 0 32M 1

# Shrink to 40 MiB: below snapshot 2, above snapshot 1.
truncate -s 40M "$IMG"
losetup -c "$LOOP"
wait_invalid "$LOOP" "$id2"
is "snapshot 2 is invalid once the origin shrinks below it" \
	"$(snap_field "$LOOP" "$id2" state)" invalid
is "with reason 'origin shrank'" "$(snap_field "$LOOP" "$id2" reason)" \
	"origin shrank"
is "snapshot 1 stays valid" "$(snap_field "$LOOP" "$id1" state)" valid
check "and exact" $VSDATA verify "$img1" 0 32M 1

# Shrink to 36 MiB while snapshot 4's instant holds the control mutex
# (debug_drain_delay_ms stretches it), so the 1 s size poll cannot run
# between the shrink and the instant: the instant itself must notice that
# snapshot 3 (40 MiB) now reads past the end.
create_snap "$LOOP"
id3=$SNAP_ID
echo 3000 > "$PARAMS/debug_drain_delay_ms"
snapctl -J create "$LOOP" > /tmp/resize-create.out 2>&1 &
cpid=$!
sleep 1
truncate -s 36M "$IMG"
losetup -c "$LOOP"
wait "$cpid"
rc=$?
echo 0 > "$PARAMS/debug_drain_delay_ms"
is "a snapshot taken as the origin shrinks" "$rc" 0
img4=$(jq -r .device /tmp/resize-create.out)
is "... has the new size" "$(blockdev --getsize64 "$img4")" $((36 * 1048576))
sleep 2	# a poll or two
is "the older, larger snapshot 3 is invalid ('origin shrank')" \
	"$(snap_field "$LOOP" "$id3" state) $(snap_field "$LOOP" "$id3" reason)" \
	"invalid origin shrank"
check "snapshot 1, smaller, is still exact" $VSDATA verify "$img1" 0 32M 1
check "detach --force" snapctl detach --force "$LOOP"
tap_done
