#!/bin/sh
# A write submitted just before attach, still on its way to the origin
# when attach returns, must not land after the first snapshot's instant
# uncopied: attach waits for such writes. debug_miss_delay_ms holds the
# write 5 s in the hook after the filter let it pass (the origin was not
# attached yet); meanwhile the origin is attached and a snapshot taken.
# The image must read the same before and after that write completes.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	echo 0 > "$PARAMS/debug_miss_delay_ms"
	quiet_detach "$ORIGIN"
}
trap cleanup EXIT

fresh_start
tap_plan 5

$VSDATA fill "$ORIGIN" 0 1M 1
echo 5000 > "$PARAMS/debug_miss_delay_ms"
$VSDATA fill "$ORIGIN" 0 64K 2 &
w=$!
sleep 0.3
check "attach while a write is on its way" \
	snapctl attach "$ORIGIN" --store "$STORE" --chunk-size 64K
check "create a snapshot" create_snap "$ORIGIN"
dd if="$SNAP_DEV" of=/tmp/ai.1 bs=64K count=1 iflag=direct 2>/dev/null
check "the write completes" wait $w
echo 0 > "$PARAMS/debug_miss_delay_ms"
dd if="$SNAP_DEV" of=/tmp/ai.2 bs=64K count=1 iflag=direct 2>/dev/null
check "the image reads the same before and after the write lands" \
	cmp /tmp/ai.1 /tmp/ai.2
check "the origin holds the write" $VSDATA verify "$ORIGIN" 0 64K 2
tap_done
