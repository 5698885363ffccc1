#!/bin/sh
# Store read errors while an image is read: the store is a dm device
# switched to the "error" target for a while (nothing writes the origin
# then). Image reads of chunks copied to the store fail with EIO, never
# return wrong data; chunks the image reads from the origin read exactly;
# a read error loses no copy, so the snapshot stays valid and reads exactly
# again once the store is back. An image reader running through the switch
# sees only exact passes and EIO.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh
# shellcheck source=_fault.sh
. ./_fault

FR=../fault/_faultread

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	touch /tmp/fr.stop
	quiet_detach "$ORIGIN"
	dmsetup remove "$FSTORE" 2>/dev/null
}
trap cleanup EXIT

tap_plan 13
vs_load
quiet_detach "$ORIGIN"
dev=$(fault_store)
$VSDATA fill "$ORIGIN" 0 8M 1
check "attach with a dm store" \
	snapctl attach "$ORIGIN" --store "$dev" --chunk-size 64k
create_snap "$ORIGIN"
id=$SNAP_ID; img=$SNAP_DEV
check "copies of [0, 4M) are made" $VSDATA fill "$ORIGIN" 0 4M 2
check "the image reads its instant exactly" $VSDATA verify "$img" 0 8M 1

check "the store fails every request (dm error)" \
	dm_swap "$FSTORE" "0 $FSTORE_SECTORS error"
is "an image read of copied chunks fails with EIO" \
	"$($VSDATA read "$img" 0 1M)" EIO
is "a read spanning a copied and an origin chunk fails with EIO" \
	"$($VSDATA read "$img" 3M 2M)" EIO
check "image reads of chunks on the origin are exact" \
	$VSDATA verify "$img" 4M 4M 1
is "the snapshot stays valid" "$(reason_of "$ORIGIN" "$id")" "valid/"
check "the store is back" dm_swap "$FSTORE" "$FSTORE_LINEAR"
check "the image reads its instant exactly again" $VSDATA verify "$img" 0 8M 1

# Errors that come and go under a reader holding the image open.
rm -f /tmp/fr.stop
$FR "$img" 8M 1 /tmp/fr.stop > /tmp/fr.out 2>&1 &
rd=$!
sleep 1
dm_swap "$FSTORE" "0 $FSTORE_SECTORS error"
wait_gone "$rd" 30
dm_swap "$FSTORE" "$FSTORE_LINEAR"
touch /tmp/fr.stop
wait_gone "$rd" 30
wait "$rd"
rc=$?
diag "reader: $(cat /tmp/fr.out)"
check "a reader through the switch saw exact data, then EIO" \
	sh -c "[ $rc = 0 ] && grep -q ' then EIO$' /tmp/fr.out"
check "the origin holds exactly what was written" \
	sh -c "$VSDATA verify $ORIGIN 0 4M 2 && $VSDATA verify $ORIGIN 4M 4M 1"
check "detach, nothing left attached" \
	sh -c "snapctl detach --force $ORIGIN && [ \"\$(snapctl -J list | jq '.snapshots | length')\" = 0 ]"
tap_done
