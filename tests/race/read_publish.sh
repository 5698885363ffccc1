#!/bin/sh
# An image read served from the origin that a write overtakes must return
# the data of the snapshot's instant, even when the write's copy is
# published between the read's two checks (the map, and the count of
# copies in memory): the checks must read the count first (design.md,
# section 10).
#
# debug_read_delay_ms holds the image read 1 s before it reaches the
# origin and 1 s between its two checks; meanwhile a write to the chunk
# copies it (the store, behind dm-delay, takes 1.5 s to write it) and
# overwrites it, so the read sees the new data, and the copy is published
# after the read's first check and before its second.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

ROUNDS=${VS_ROUNDS:-3}

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	echo 0 > "$PARAMS/debug_read_delay_ms"
	quiet_detach "$ORIGIN"
	dmsetup remove vs-slow 2>/dev/null
}
trap cleanup EXIT

fresh_start
tap_plan $((ROUNDS + 2))

$VSDATA fill "$ORIGIN" 0 16M 1
sz=$(blockdev --getsz "$STORE")
SLOW=$(dm_create vs-slow "0 $sz delay $STORE 0 0 $STORE 0 1500")
wipe "$SLOW"
check "attach with a slow store" \
	snapctl attach "$ORIGIN" --store "$SLOW" --chunk-size 64K
create_snap "$ORIGIN"
img=$SNAP_DEV

r=1
while [ $r -le "$ROUNDS" ]; do
	off=$((r * 1048576))
	echo 1000 > "$PARAMS/debug_read_delay_ms"
	dd if="$img" of=/tmp/rp.img bs=64K skip=$((off / 65536)) count=1 \
		iflag=direct 2>/dev/null &
	rd=$!
	sleep 0.2
	$VSDATA fill "$ORIGIN" "$off" 64K $((100 + r))
	wait $rd
	echo 0 > "$PARAMS/debug_read_delay_ms"
	dd if=/tmp/rp.img of="$SCRATCH1" bs=64K seek=$((off / 65536)) \
		conv=fsync 2>/dev/null
	check "round $r: the overtaken read returns the snapshot's data" \
		$VSDATA verify "$SCRATCH1" "$off" 64K 1
	r=$((r + 1))
done
check "the whole region of the image is exact afterwards" \
	$VSDATA verify "$img" 0 16M 1
tap_done
