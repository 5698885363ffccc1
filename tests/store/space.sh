#!/bin/sh
# Per-snapshot space in `snapctl list` (ALONE, SHARED; bytes with -b and
# in JSON): what each snapshot alone holds in the store, and what it shares.
# With 64 KiB chunks: snapshot 1; write X (4 chunks): copies read by 1
# only; snapshot 2; write X again: copies read by 2 only; write Y (2
# chunks, first written now): copies read by 1 and 2. So each snapshot
# holds 4 chunks alone and shares 2. Deleting snapshot 1
# frees exactly its ALONE, after which snapshot 2 holds 6 chunks alone.
# An invalid snapshot shows no space.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

C=65536

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	quiet_detach "$ORIGIN"
}
trap cleanup EXIT

# space ID - "ALONE SHARED" of snapshot ID, in bytes, from list -J.
space() {
	snapctl -J list "$ORIGIN" |
		jq -r --argjson id "$1" '.snapshots[] | select(.id == $id) | "\(.alone) \(.shared)"'
}

fresh_start
tap_plan 7
$VSDATA fill "$ORIGIN" 0 4M 1
snapctl attach "$ORIGIN" --store "$STORE" --chunk-size 64K > /dev/null
create_snap "$ORIGIN"
s1=$SNAP_ID
$VSDATA fill "$ORIGIN" 0 $((4 * C)) 2			# X
create_snap "$ORIGIN"
s2=$SNAP_ID
$VSDATA fill "$ORIGIN" 0 $((4 * C)) 3			# X again
$VSDATA fill "$ORIGIN" $((16 * C)) $((2 * C)) 3	# Y
is "snapshot 1: 4 chunks alone, 2 shared" "$(space "$s1")" "$((4 * C)) $((2 * C))"
is "snapshot 2: 4 chunks alone, 2 shared" "$(space "$s2")" "$((4 * C)) $((2 * C))"
raw=$(snapctl list -r -b -n -o id,alone,shared "$ORIGIN" | tr -s ' ' | tr '\n' ';')
is "list -r -b shows the same bytes" "$raw" \
	"$s1 $((4 * C)) $((2 * C));$s2 $((4 * C)) $((2 * C));"
text=$(snapctl list -n -o alone,shared "$ORIGIN" | head -n 1 | tr -s ' ' | sed 's/^ //')
is "text shows them human-readable" "$text" "256K 128K"

used=$(status_field "$ORIGIN" store_used)
snapctl delete "$ORIGIN" "$s1" > /dev/null
is "deleting snapshot 1 frees exactly its ALONE" \
	"$((used - $(status_field "$ORIGIN" store_used)))" "$((4 * C))"
is "snapshot 2 now holds its 6 chunks alone" "$(space "$s2")" "$((6 * C)) 0"

# A store too small for what follows: the snapshot becomes invalid.
quiet_detach "$ORIGIN"
small=$(dm_create vs-space "0 2048 linear $STORE 0")
wipe "$small"
snapctl attach "$ORIGIN" --store "$small" --chunk-size 64K > /dev/null
create_snap "$ORIGIN"
$VSDATA fill "$ORIGIN" 0 2M 4
wait_invalid "$ORIGIN" "$SNAP_ID"
is "an invalid snapshot is listed without space" "$(space "$SNAP_ID")" "null null"
quiet_detach "$ORIGIN"
dmsetup remove vs-space
tap_done
