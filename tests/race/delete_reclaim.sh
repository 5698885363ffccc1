#!/bin/sh
# Deleting every snapshot frees every copy, even one whose write began
# before the delete and whose copy was queued after the delete had waited
# for the copies in progress: the store's used count returns to exactly 0.
# debug_queue_delay_ms holds the write 1 s between making its copy and
# queueing it, while the delete runs.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	echo 0 > "$PARAMS/debug_queue_delay_ms"
	quiet_detach "$ORIGIN"
}
trap cleanup EXIT

fresh_start
tap_plan 6

$VSDATA fill "$ORIGIN" 0 4M 1
check "attach" snapctl attach "$ORIGIN" --store "$STORE" --chunk-size 64K
create_snap "$ORIGIN"
id=$SNAP_ID
echo 1000 > "$PARAMS/debug_queue_delay_ms"
$VSDATA fill "$ORIGIN" 0 64K 2 &
w=$!
sleep 0.3
check "delete the snapshot while a write's copy waits to be queued" \
	snapctl delete "$ORIGIN" "$id"
wait $w
echo 0 > "$PARAMS/debug_queue_delay_ms"
sleep 0.5
is "store used after deleting every snapshot" \
	"$(status_field "$ORIGIN" store_used)" 0

# The same with a snapshot that stays: only the deleted one's copies go.
create_snap "$ORIGIN"
id1=$SNAP_ID
img1=$SNAP_DEV
create_snap "$ORIGIN"
id2=$SNAP_ID
echo 1000 > "$PARAMS/debug_queue_delay_ms"
$VSDATA fill "$ORIGIN" 1M 64K 3 &
w=$!
sleep 0.3
snapctl delete "$ORIGIN" "$id2" > /dev/null
wait $w
echo 0 > "$PARAMS/debug_queue_delay_ms"
check "the kept snapshot reads the original data" \
	$VSDATA verify "$img1" 1M 64K 1
snapctl delete "$ORIGIN" "$id1" > /dev/null
is "store used after deleting the rest" \
	"$(status_field "$ORIGIN" store_used)" 0
check "detach" snapctl detach "$ORIGIN"
tap_done
