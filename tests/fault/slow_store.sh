#!/bin/sh
# A slow store: the store is a dm device switched to dm-delay, every store
# write taking 200 ms. Two writers churn the origin (random stamped writes
# over disjoint halves, then each checks its half holds exactly what it
# wrote) while a reader holding the snapshot's image open verifies it over
# and over: every pass exact, the snapshot valid, and a snapshot taken in
# the middle of the churn reads exactly what the origin held then.
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
	rm -f /tmp/slow.*
}
trap cleanup EXIT

tap_plan 10
vs_load
quiet_detach "$ORIGIN"
dev=$(fault_store)
$VSDATA fill "$ORIGIN" 0 8M 1
check "attach with a dm store" \
	snapctl attach "$ORIGIN" --store "$dev" --chunk-size 64k
create_snap "$ORIGIN"
id=$SNAP_ID; img=$SNAP_DEV
check "store writes take 200 ms (dm-delay)" dm_swap "$FSTORE" \
	"0 $FSTORE_SECTORS delay $STORE 0 0 $STORE 0 200"

rm -f /tmp/fr.stop
$FR "$img" 8M 1 /tmp/fr.stop > /tmp/slow.reader 2>&1 &
rd=$!
$VSDATA churn "$ORIGIN" 0 4M 12 10 > /tmp/slow.a 2>&1 &
wa=$!
$VSDATA churn "$ORIGIN" 4M 4M 12 100000 > /tmp/slow.b 2>&1 &
wb=$!
wait "$wa"
ra=$?
wait "$wb"
rb=$?
sed 's/^/# /' /tmp/slow.a /tmp/slow.b
check "writer 1: its half of the origin holds exactly what it wrote" test "$ra" = 0
check "writer 2: its half of the origin holds exactly what it wrote" test "$rb" = 0
touch /tmp/fr.stop
wait_gone "$rd" 60
wait "$rd"
rr=$?
diag "reader: $(cat /tmp/slow.reader)"
check "every pass of the image reader was exact" \
	sh -c "[ $rr = 0 ] && grep -Eq '^[1-9][0-9]* exact passes, stopped' /tmp/slow.reader"
is "the snapshot is valid" "$(reason_of "$ORIGIN" "$id")" "valid/"
check "... and reads its instant exactly" $VSDATA verify "$img" 0 8M 1

# A snapshot of what the churn left, then more slow copies for it.
dd if="$ORIGIN" of=/tmp/slow.ref bs=1M count=8 iflag=direct 2>/dev/null
create_snap "$ORIGIN"
id2=$SNAP_ID; img2=$SNAP_DEV
check "rewriting the origin under the slow store succeeds" \
	$VSDATA fill "$ORIGIN" 0 8M 7
is "the second snapshot is valid" "$(reason_of "$ORIGIN" "$id2")" "valid/"
check "... and reads exactly what the origin held at its instant" \
	sh -c "/usr/bin/dd if=$img2 bs=1M count=8 iflag=direct 2>/dev/null | cmp - /tmp/slow.ref"
check "detach, nothing left attached" \
	sh -c "snapctl detach --force $ORIGIN && [ \"\$(snapctl -J list | jq '.snapshots | length')\" = 0 ]"
tap_done
