#!/bin/sh
# Origin read errors during a copy: the origin is a dm device (linear) over
# a disk whose reads are then made to fail while its writes still go
# through, after two snapshots. A write whose copy cannot read the origin
# still reaches the origin; the snapshot that needed the copy is listed
# invalid ("I/O error while copying", or "medium error while copying" for
# a disk's medium error) and reads of its image fail with EIO;
# the older snapshot, whose copies were made before, stays valid and exact.
#
# The read errors come from dm-flakey's error_reads (Linux 6.6 and later),
# or, where dm-flakey has none (6.1), from scsi_debug's medium errors on
# reads (opts bit 2) under the linear map.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh
# shellcheck source=_fault.sh
. ./_fault

FO=vs-forigin
SDOPTS=/sys/bus/pseudo/drivers/scsi_debug/opts

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	[ -n "${org:-}" ] && quiet_detach "$org"
	dmsetup remove "$FO" 2>/dev/null
	dmsetup remove vs-fprobe 2>/dev/null
	[ "${INJ:-}" = scsi ] && rmmod scsi_debug 2>/dev/null
}
trap cleanup EXIT

# scsi_disk - load scsi_debug (8 MiB, no delay, medium errors on every
# sector once opts has bit 2) and print its disk's node.
scsi_disk() {
	insmod /lib/modules/scsi_debug.ko dev_size_mb=8 delay=0 opts=0 \
		medium_error_start=0 medium_error_count=16384 || return 1
	_i=0
	while [ $_i -lt 100 ]; do
		for _b in /sys/bus/pseudo/drivers/scsi_debug/adapter*/host*/target*/*/block/*; do
			[ -b "/dev/${_b##*/}" ] && { echo "/dev/${_b##*/}"; return 0; }
		done
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# The injector: dm-flakey if it takes error_reads, else scsi_debug.
if dmsetup create vs-fprobe --table \
	"0 8 flakey $SCRATCH1 0 0 3600 1 error_reads" 2>/dev/null; then
	dmsetup remove vs-fprobe
	INJ=flakey
	BASE=$SCRATCH1
	WHY="I/O error while copying"
	EREAD=EIO
elif [ -f /lib/modules/scsi_debug.ko ] && BASE=$(scsi_disk); then
	INJ=scsi
	WHY="medium error while copying"
	EREAD=ENODATA
else
	INJ=
fi
FO_LINEAR="0 16384 linear ${BASE:-$SCRATCH1} 0"

# reads_fail, reads_work - switch the origin's read errors on and off.
# shellcheck disable=SC2317  # called through check
reads_fail() {
	case $INJ in
	flakey) dm_swap "$FO" "0 16384 flakey $BASE 0 0 3600 1 error_reads" ;;
	scsi) echo 2 > "$SDOPTS" ;;
	esac
}
# shellcheck disable=SC2317  # called through check
reads_work() {
	case $INJ in
	flakey) dm_swap "$FO" "$FO_LINEAR" ;;
	scsi) echo 0 > "$SDOPTS" ;;
	esac
}

N=13
tap_plan $N
if [ -z "$INJ" ]; then
	i=0
	while [ "$i" -lt "$N" ]; do
		skip "origin read errors $((i + 1))" \
			"neither dm-flakey error_reads nor scsi_debug"
		i=$((i + 1))
	done
	tap_done
fi
diag "read errors from: $INJ ($BASE)"
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
check "origin reads begin to fail ($INJ)" reads_fail
is "(an origin read fails)" "$($VSDATA read "$org" 4M 64K)" "$EREAD"
check "writes whose copies cannot read the origin succeed" \
	$VSDATA fill "$org" 0 1M 3
is "snapshot 2 is invalid, with a reason" "$(reason_of "$org" "$id2")" \
	"invalid/$WHY"
is "reading snapshot 2's image fails with EIO" \
	"$($VSDATA read "$img2" 0 64K)" EIO
check "origin reads work again" reads_work
check "the origin holds exactly what was written" \
	sh -c "$VSDATA verify $org 0 1M 3 && $VSDATA verify $org 1M 7M 1"
is "snapshot 1 stays valid" "$(reason_of "$org" "$id1")" "valid/"
check "... and reads its instant exactly" $VSDATA verify "$img1" 0 8M 1
is "reading snapshot 2's image still fails with EIO" \
	"$($VSDATA read "$img2" 4M 64K)" EIO
check "detach, nothing left attached" \
	sh -c "snapctl detach --force $org && [ \"\$(snapctl -J list | jq '.snapshots | length')\" = 0 ]"
tap_done
