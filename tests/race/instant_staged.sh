#!/bin/sh
# A snapshot instant must not pass a copy that is in memory but not yet
# published (its write already went on), and a write after the instant
# must not skip its own copy because an older copy of the chunk is still
# in progress (design.md, section 10).
#
# Each round: a write W to a chunk that snapshot 1 needs copied starts a
# copy (held 400 ms before it reads the origin by debug_copy_delay_ms;
# the store, behind dm-delay, takes 1.5 s per write, so the copy stays
# unpublished long after W went on). While W waits, snapshot 2 is taken
# with debug_drain_delay_ms widening the instant's check for writes in
# flight; then W2 overwrites the chunk. Snapshot 2 must read W's data (W
# was in flight at the instant, so it completed before it; or, on a slow
# host, the original data if W only reached the gate after it), never W2's;
# snapshot 1 must read the original data. The writers run on CPU 1, so
# that a count taken on one CPU and dropped on another is exercised.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

ROUNDS=${VS_ROUNDS:-8}
SLOW=

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	echo 0 > "$PARAMS/debug_copy_delay_ms"
	echo 0 > "$PARAMS/debug_drain_delay_ms"
	quiet_detach "$ORIGIN"
	dmsetup remove vs-slow 2>/dev/null
}
trap cleanup EXIT

fresh_start
tap_plan $((ROUNDS * 2 + 3))

$VSDATA fill "$ORIGIN" 0 16M 1
sz=$(blockdev --getsz "$STORE")
SLOW=$(dm_create vs-slow "0 $sz delay $STORE 0 0 $STORE 0 1500")
wipe "$SLOW"
check "attach with a slow store" \
	snapctl attach "$ORIGIN" --store "$SLOW" --chunk-size 64K
create_snap "$ORIGIN"
id1=$SNAP_ID
img1=$SNAP_DEV

r=1
while [ $r -le "$ROUNDS" ]; do
	off=$((r * 1048576))
	echo 400 > "$PARAMS/debug_copy_delay_ms"
	echo 600 > "$PARAMS/debug_drain_delay_ms"
	taskset 2 $VSDATA fill "$ORIGIN" "$off" 64K $((100 + r)) &
	w=$!
	sleep 0.3
	create_snap "$ORIGIN" > /dev/null
	img2=$SNAP_DEV
	taskset 2 $VSDATA fill "$ORIGIN" "$off" 64K $((200 + r))
	wait $w
	echo 0 > "$PARAMS/debug_copy_delay_ms"
	echo 0 > "$PARAMS/debug_drain_delay_ms"
	# W reached the gate before the instant (the usual case) or, on a
	# slow host, after it; W2 always came after.
	check "round $r: the new snapshot reads the chunk of its instant, not the later write" \
		sh -c "$VSDATA verify $img2 $off 64K $((100 + r)) > /tmp/is.out 2>&1 ||
		       $VSDATA verify $img2 $off 64K 1 || { cat /tmp/is.out; false; }"
	check "round $r: the first snapshot reads the original data" \
		$VSDATA verify "$img1" "$off" 64K 1
	snapctl delete "$ORIGIN" "$SNAP_ID" > /dev/null 2>&1
	r=$((r + 1))
done
is "snapshot 1 is still valid" "$(snap_field "$ORIGIN" "$id1" state)" valid
check "the origin holds the last writes" \
	$VSDATA verify "$ORIGIN" $((ROUNDS * 1048576)) 64K $((200 + ROUNDS))
tap_done
