#!/bin/sh
# An image held open, and read in a loop, while its snapshot is deleted
# (and while its origin is detached): without --force the command is
# refused with EBUSY and the reader goes on; with --force the snapshot goes,
# the reader's next read fails (an I/O error, or end of device: the deleted
# disk has no capacity left) instead of hanging, the image device
# disappears, and the next snapshot works. The reader is `_vsdata hold`:
# one open file for the whole test (fio reopens its file between passes,
# and creates a regular file when the node is gone). The runner scans the
# kernel log for warnings.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

RD=

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	[ -n "$RD" ] && kill -KILL "$RD" 2>/dev/null
	exec 3<&-
	quiet_detach "$ORIGIN"
}
trap cleanup EXIT

# start_reader DEV - read DEV at random in a loop through one open file.
start_reader() {
	$VSDATA hold "$1" 0 4M 300 > /tmp/od.rd 2>&1 &
	RD=$!
	wait_file_has /tmp/od.rd '^open' 10
}

# reader_failed - the reader stopped on a failed read, not hung.
# shellcheck disable=SC2317  # called through check
reader_failed() {
	wait_gone "$RD" 10 || { echo "the reader still runs"; return 1; }
	wait "$RD"
	_rc=$?
	RD=
	cat /tmp/od.rd
	[ "$_rc" -ne 0 ] && grep -Eq '^(EIO|ENXIO|ENODEV|EOF)$' /tmp/od.rd
}

# read_fd3_fails - a read through fd 3 fails or finds the end of the device.
# shellcheck disable=SC2317  # called through check
read_fd3_fails() {
	dd bs=4096 count=1 of=/dev/null <&3 2> /tmp/od.dd
	_rc=$?
	cat /tmp/od.dd
	# an error, or nothing read: the deleted disk's capacity is 0
	[ "$_rc" -ne 0 ] || grep -q '^0+0 records in' /tmp/od.dd
}

# gone DEV - the image node disappears within 5 s.
# shellcheck disable=SC2317  # called through check
gone() {
	_i=0
	while [ -b "$1" ]; do
		[ "$_i" -ge 50 ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}

fresh_start
tap_plan 19

check "attach" snapctl attach "$ORIGIN" --store "$STORE" --chunk-size 64K
$VSDATA fill "$ORIGIN" 0 4M 1
create_snap "$ORIGIN"
id=$SNAP_ID
dev=$SNAP_DEV
$VSDATA fill "$ORIGIN" 0 4M 2

start_reader "$dev"
check "the reader runs" alive "$RD"
expect_errno "delete of an image open for reading: EBUSY" 1 EBUSY \
	snapctl delete "$ORIGIN" "$id"
check "the reader still runs after the refused delete" alive "$RD"
check "the snapshot still reads its instant" $VSDATA verify "$dev" 0 4M 1
check "delete --force of the image being read" \
	snapctl delete --force "$ORIGIN" "$id"
check "the reader's next read fails and it stops" reader_failed
diag "the reader: $(tr "\n" " " < /tmp/od.rd)"
check "the image device is gone" gone "$dev"
is "no snapshot is listed" "$(snap_count "$ORIGIN")" 0

# Held open without reading: the fd outlives the snapshot.
create_snap "$ORIGIN"
dev=$SNAP_DEV
exec 3< "$dev"
check "delete --force of an image held open" \
	snapctl delete --force "$ORIGIN" "$SNAP_ID"
check "a read through the old fd fails or reads nothing" read_fd3_fails
exec 3<&-
check "the next snapshot reads its instant" \
	sh -c "snapctl -J create $ORIGIN > /tmp/od.json &&
	       $VSDATA verify \"\$(jq -r .device /tmp/od.json)\" 0 4M 2"
dev=$(jq -r .device /tmp/od.json)

# Detach with the image being read.
start_reader "$dev"
expect_errno "detach with snapshots: EBUSY" 1 EBUSY snapctl detach "$ORIGIN"
check "the reader still runs after the refused detach" alive "$RD"
check "detach --force with the image being read" \
	snapctl detach --force "$ORIGIN"
check "the reader's next read fails and it stops" reader_failed
diag "the reader: $(tr "\n" " " < /tmp/od.rd)"
check "the image device is gone" gone "$dev"
check "attach again" snapctl attach "$ORIGIN" --store "$STORE" --chunk-size 64K
check "a snapshot after the re-attach reads its instant" \
	sh -c "snapctl -J create $ORIGIN > /tmp/od.json &&
	       $VSDATA verify \"\$(jq -r .device /tmp/od.json)\" 0 4M 2"
tap_done
