#!/bin/sh
# Store write errors that begin after snapshots: the store is a dm device
# switched to dm-flakey with error_writes (reads still work). Writes that
# need copies still succeed and the origin holds exactly what was written;
# the snapshots whose copies failed are listed invalid ("I/O error while
# copying") and reads of their images fail with EIO; a snapshot whose
# copies were made before stays valid and exact. Once the store works
# again, a new snapshot works.
#
# Origin [0, 8M): gen 1; then [0, 2M) gen 2 (copies for snapshot 1 made),
# [0, 2M) gen 3 (copies for snapshot 2 fail), [4M, 6M) gen 4 (copies for
# snapshot 1 fail).
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh
# shellcheck source=_fault.sh
. ./_fault

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	quiet_detach "$ORIGIN"
	dmsetup remove "$FSTORE" 2>/dev/null
}
trap cleanup EXIT

# shellcheck disable=SC2317  # called through check
origin_is() {
	$VSDATA verify "$ORIGIN" 0 2M "$1" && $VSDATA verify "$ORIGIN" 2M 2M 1 &&
	$VSDATA verify "$ORIGIN" 4M 2M "$2" && $VSDATA verify "$ORIGIN" 6M 2M 1
}

tap_plan 20
vs_load
quiet_detach "$ORIGIN"
dev=$(fault_store)
$VSDATA fill "$ORIGIN" 0 8M 1
check "attach with a dm store" \
	snapctl attach "$ORIGIN" --store "$dev" --chunk-size 64k
create_snap "$ORIGIN"
id1=$SNAP_ID; img1=$SNAP_DEV
check "copies for snapshot 1 are made" $VSDATA fill "$ORIGIN" 0 2M 2
create_snap "$ORIGIN"
id2=$SNAP_ID; img2=$SNAP_DEV
check "store writes begin to fail (dm-flakey error_writes)" dm_swap "$FSTORE" \
	"0 $FSTORE_SECTORS flakey $STORE 0 0 3600 1 error_writes"

check "writes that need copies for snapshot 2 succeed" \
	$VSDATA fill "$ORIGIN" 0 2M 3
check "the origin holds exactly what was written" origin_is 3 1
is "snapshot 2 is invalid, with a reason" "$(reason_of "$ORIGIN" "$id2")" \
	"invalid/I/O error while copying"
is "reading snapshot 2's image fails with EIO" "$($VSDATA read "$img2" 0 64K)" EIO
is "... also where it reads the origin" "$($VSDATA read "$img2" 7M 64K)" EIO
is "snapshot 1, whose copies were made before, stays valid" \
	"$(reason_of "$ORIGIN" "$id1")" "valid/"
check "... and reads its instant exactly" $VSDATA verify "$img1" 0 8M 1

check "writes that need copies for snapshot 1 succeed" \
	$VSDATA fill "$ORIGIN" 4M 2M 4
check "the origin holds exactly what was written" origin_is 3 4
is "snapshot 1 is now invalid, with a reason" "$(reason_of "$ORIGIN" "$id1")" \
	"invalid/I/O error while copying"
is "reading snapshot 1's image fails with EIO" "$($VSDATA read "$img1" 4M 64K)" EIO

check "the store works again" dm_swap "$FSTORE" "$FSTORE_LINEAR"
check "the invalid snapshots can be deleted" \
	sh -c "snapctl delete $ORIGIN $id1 && snapctl delete $ORIGIN $id2"
create_snap "$ORIGIN"
id3=$SNAP_ID; img3=$SNAP_DEV
check "a new snapshot's copies are made" $VSDATA fill "$ORIGIN" 0 8M 5
is "the new snapshot is valid" "$(reason_of "$ORIGIN" "$id3")" "valid/"
check "... and reads its instant exactly" sh -c "
	$VSDATA verify $img3 0 2M 3 && $VSDATA verify $img3 2M 2M 1 &&
	$VSDATA verify $img3 4M 2M 4 && $VSDATA verify $img3 6M 2M 1"
check "detach, nothing left attached" \
	sh -c "snapctl detach --force $ORIGIN && [ \"\$(snapctl -J list | jq '.snapshots | length')\" = 0 ]"
tap_done
