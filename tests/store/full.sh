#!/bin/sh
# Store full (design.md: "origin first"): with an 8 MiB store, writes that
# need more copies than it holds still succeed and the origin holds exactly
# what was written; the snapshots that needed those copies become invalid
# (list: state "invalid", reason "store full") and reads of their images
# fail with EIO; a snapshot whose chunks were already preserved stays valid
# and exact; the copies only an invalid snapshot read are freed, so a full
# store does not cascade into invalidating an older, valid snapshot; once
# the invalid snapshots are deleted a new snapshot works.
# Over chunk sizes 4 KiB, 64 KiB and 1 MiB.
#
# Layout of the origin (generations of _vsdata stamps):
#   [0, A)       A = a bit more than half the store: gen 1, then 2, then 3
#   [A, 16M)     gen 1
#   [16M, 32M)   gen 1, then 4 (twice the whole store)
#   [32M, 48M)   gen 1
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

SMALL=

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	quiet_detach "$ORIGIN"
	dmsetup remove vs-small 2>/dev/null
}
trap cleanup EXIT

# shellcheck disable=SC2317  # called through check
# used_below BYTES - the store's use drops below BYTES within 5 s.
used_below() {
	_i=0
	while [ "$(status_field "$ORIGIN" store_used)" -ge "$1" ]; do
		[ "$_i" -ge 50 ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}

# shellcheck disable=SC2317  # called through check
# verify_origin GEN_A GEN_B - the origin holds the layout above.
verify_origin() {
	$VSDATA verify "$ORIGIN" 0 "$A" "$1" &&
	$VSDATA verify "$ORIGIN" "$A" $((16 * 1048576 - A)) 1 &&
	$VSDATA verify "$ORIGIN" 16M 16M "$2" &&
	$VSDATA verify "$ORIGIN" 32M 16M 1
}

scenario() {
	cs=$1
	bytes=$2
	quiet_detach "$ORIGIN"
	wipe "$SMALL"
	$VSDATA fill "$ORIGIN" 0 48M 1
	check "[$cs] attach with an 8 MiB store" \
		snapctl attach "$ORIGIN" --store "$SMALL" --chunk-size "$cs"
	size=$(status_field "$ORIGIN" store_size)
	case $size in ''|*[!0-9]*) size=0 ;; esac
	cap=$((size / bytes))
	# More than half the store's chunks, less than all of them.
	A=$(((cap / 2 + cap / 16 + 1) * bytes))
	diag "[$cs] store holds $cap chunks ($size bytes); first write set $A bytes"
	check "[$cs] the store holds at least 4 chunks" test "$cap" -ge 4

	create_snap "$ORIGIN"
	id1=$SNAP_ID
	img1=$SNAP_DEV
	$VSDATA fill "$ORIGIN" 0 "$A" 2
	is "[$cs] snapshot 1 valid after copies that fit" \
		"$(snap_field "$ORIGIN" "$id1" state)" valid

	create_snap "$ORIGIN"
	id2=$SNAP_ID
	img2=$SNAP_DEV
	check "[$cs] rewriting the same chunks past the store's end succeeds" \
		$VSDATA fill "$ORIGIN" 0 "$A" 3
	check "[$cs] the origin holds exactly what was written" verify_origin 3 1
	is "[$cs] snapshot 2 is invalid" "$(snap_field "$ORIGIN" "$id2" state)" invalid
	is "[$cs] with reason 'store full'" \
		"$(snap_field "$ORIGIN" "$id2" reason)" "store full"
	is "[$cs] reading snapshot 2's image fails with EIO" \
		"$($VSDATA read "$img2" 0 64K)" EIO
	is "[$cs] snapshot 1, whose copies were made, stays valid" \
		"$(snap_field "$ORIGIN" "$id1" state)" valid
	check "[$cs] and reads its instant exactly" $VSDATA verify "$img1" 0 48M 1

	# No cascade: the copies only the invalid snapshot 2 read are freed,
	# so new chunks that fit their room are copied for snapshot 1.
	check "[$cs] snapshot 2's copies are freed (store use drops)" \
		used_below "$size"
	Z=$((cap / 4))
	Z=$((Z * bytes))
	check "[$cs] writing new chunks that fit the freed room succeeds" \
		$VSDATA fill "$ORIGIN" 16M "$Z" 4
	is "[$cs] snapshot 1 stays valid" "$(snap_field "$ORIGIN" "$id1" state)" valid
	check "[$cs] and reads its instant exactly" $VSDATA verify "$img1" 0 48M 1

	check "[$cs] writing 16 MiB of new chunks succeeds" \
		$VSDATA fill "$ORIGIN" 16M 16M 4
	check "[$cs] the origin holds exactly what was written" verify_origin 3 4
	is "[$cs] snapshot 1 is now invalid" "$(snap_field "$ORIGIN" "$id1" state)" invalid
	is "[$cs] with reason 'store full'" \
		"$(snap_field "$ORIGIN" "$id1" reason)" "store full"
	is "[$cs] reading snapshot 1's image at a changed chunk fails with EIO" \
		"$($VSDATA read "$img1" 16M 64K)" EIO

	check "[$cs] the invalid snapshots can be deleted" \
		sh -c "snapctl delete $ORIGIN $id1 && snapctl delete $ORIGIN $id2"
	check "[$cs] a new snapshot can be created" create_snap "$ORIGIN"
	img3=$SNAP_DEV
	id3=$SNAP_ID
	check "[$cs] a write that fits the freed store succeeds" \
		$VSDATA fill "$ORIGIN" 0 "$bytes" 5
	is "[$cs] the new snapshot is valid" "$(snap_field "$ORIGIN" "$id3" state)" valid
	check "[$cs] and reads its instant exactly" sh -c "
		$VSDATA verify $img3 0 $A 3 &&
		$VSDATA verify $img3 $A $((16 * 1048576 - A)) 1 &&
		$VSDATA verify $img3 16M 16M 4 && $VSDATA verify $img3 32M 16M 1"
	check "[$cs] detach --force" snapctl detach "$ORIGIN" --force
}

vs_load
quiet_detach "$ORIGIN"
dmsetup remove vs-small 2>/dev/null
SMALL=$(dm_create vs-small "0 16384 linear $STORE 0")
tap_plan $((3 * 25))
scenario 4k 4096
scenario 64k 65536
scenario 1M 1048576
tap_done
