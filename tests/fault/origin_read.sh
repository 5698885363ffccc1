#!/bin/sh
# Origin read errors during a copy: the origin is a dm device over a
# scratch disk, switched to dm-flakey with error_reads (writes still go
# through) after two snapshots. A write whose copy cannot read the origin
# still reaches the origin; the snapshot that needed the copy is listed
# invalid ("I/O error while copying") and reads of its image fail with EIO;
# the older snapshot, whose copies were made before, stays valid and exact.
# dm-flakey has error_reads since Linux 6.6: skipped on older kernels.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh
# shellcheck source=_fault.sh
. ./_fault

FO=vs-forigin
FO_LINEAR="0 16384 linear $SCRATCH1 0"

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	[ -n "${org:-}" ] && quiet_detach "$org"
	dmsetup remove "$FO" 2>/dev/null
}
trap cleanup EXIT

N=13
tap_plan $N
vs_load
wipe "$STORE"
dmsetup remove "$FO" 2>/dev/null
org=$(dm_create "$FO" "$FO_LINEAR")
$VSDATA fill "$org" 0 8M 1
check "attach a dm origin" snapctl attach "$org" --store "$STORE" --chunk-size 64k
create_snap "$org"
id1=$SNAP_ID; img1=$SNAP_DEV
check "copies for snapshot 1 are made" $VSDATA fill "$org" 0 1M 2
create_snap "$org"
id2=$SNAP_ID; img2=$SNAP_DEV
if ! dm_swap "$FO" "0 16384 flakey $SCRATCH1 0 0 3600 1 error_reads" \
	> /tmp/fo.err 2>&1; then
	dmsetup resume "$FO" 2>/dev/null
	sed 's/^/# /' /tmp/fo.err
	i=$_tap_n
	while [ "$i" -lt "$N" ]; do
		skip "origin read errors $((i + 1))" \
			"dm-flakey has no error_reads (Linux < 6.6)"
		i=$((i + 1))
	done
	check_gone=1
fi
if [ -z "${check_gone:-}" ]; then
	ok "origin reads begin to fail (dm-flakey error_reads)"
	is "(an origin read fails)" "$($VSDATA read "$org" 4M 64K)" EIO
	check "writes whose copies cannot read the origin succeed" \
		$VSDATA fill "$org" 0 1M 3
	is "snapshot 2 is invalid, with a reason" "$(reason_of "$org" "$id2")" \
		"invalid/I/O error while copying"
	is "reading snapshot 2's image fails with EIO" \
		"$($VSDATA read "$img2" 0 64K)" EIO
	check "origin reads work again" dm_swap "$FO" "$FO_LINEAR"
	check "the origin holds exactly what was written" \
		sh -c "$VSDATA verify $org 0 1M 3 && $VSDATA verify $org 1M 7M 1"
	is "snapshot 1 stays valid" "$(reason_of "$org" "$id1")" "valid/"
	check "... and reads its instant exactly" $VSDATA verify "$img1" 0 8M 1
	is "reading snapshot 2's image still fails with EIO" \
		"$($VSDATA read "$img2" 4M 64K)" EIO
	check "detach, nothing left attached" \
		sh -c "snapctl detach --force $org && [ \"\$(snapctl -J list | jq '.snapshots | length')\" = 0 ]"
fi
tap_done
