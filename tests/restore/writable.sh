#!/bin/sh
# Writable snapshots: an image that accepts writes keeps them to itself.
#  - ext4 and xfs mounted through a dm device over the origin (so the
#    snapshot is crash-consistent, its journal dirty): a writable snapshot
#    W and a read-only one A. Mounting W read-write replays the journal;
#    files written on W are there after a remount and the checker finds
#    nothing wrong; the origin and A read exactly as before (compared
#    over the whole filesystem; its first 64 MiB in the debug profile).
#  - `snapctl writable` on an existing snapshot: write opens refused
#    before (EROFS), accepted after; list shows WRITABLE.
#  - diff and revert refuse a writable snapshot (EMEDIUMTYPE); it cannot
#    be a store (EROFS).
#  - A full store fails image writes with ENOSPC; origin writes go on.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

DM=vs-writable
SMALL=vs-writable-store
MO=/tmp/writable-o
MW=/tmp/writable-w
REGION=		# MiB compared: the filesystem's size

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	umount "$MO" "$MW" 2> /dev/null
	quiet_detach "$ORIGIN" "$SCRATCH1"
	# One at a time: a name already gone stops dmsetup at it.
	dmsetup remove "$SMALL" 2> /dev/null
	dmsetup remove "$DM" 2> /dev/null
	wipe "$STORE"
	wipe "$ORIGIN"
}
trap cleanup EXIT

# sum DEV - md5 of DEV's first $REGION MiB.
sum() {
	dd if="$1" bs=1M count="$REGION" iflag=direct status=none | md5sum | cut -d' ' -f1
}

# fails_with CMD... - CMD exits 1; its stderr in /tmp/writable.err.
fails_with() {
	"$@" > /dev/null 2> /tmp/writable.err
	_rc=$?
	sed 's/^/# /' /tmp/writable.err
	[ "$_rc" = 1 ]
}

# writable_of ORIGIN ID - the WRITABLE column of one snapshot.
writable_of() {
	snapctl -J list "$1" -o id,writable |
		jq -c --argjson id "$2" '.snapshots[] | select(.id == $id) | .writable'
}

# one_fs TYPE MIB - the writable-image test on one filesystem of MIB MiB.
one_fs() {
	fs=$1
	size=$2
	# Compared: the whole filesystem (the debug profile: its first 64 MiB).
	REGION=$(vs_scaled "$size" 64)
	diag "--- $fs"
	fresh_start
	dev=$(dm_create "$DM" "0 $(blockdev --getsz "$ORIGIN") linear $ORIGIN 0")
	case $fs in
	ext4) mkfs.ext4 -q -F "$dev" "${size}M"; opt= ;;
	xfs) mkfs.xfs -q -f -d size="${size}m" "$dev"; opt=nouuid ;;
	esac
	mkdir -p "$MO" "$MW"
	mount "$dev" "$MO"
	dd if=/dev/urandom of="$MO/f1" bs=1M count=4 status=none
	sync
	snapctl attach "$ORIGIN" --store "$STORE" > /dev/null
	dd if=/dev/urandom of="$MO/f2" bs=1M count=4 status=none
	sync
	# The filesystem is on the dm device: nothing freezes on the origin,
	# so both snapshots are crash-consistent, their journals dirty. The dm
	# device holds its I/O meanwhile (without freezing the filesystem):
	# both are of one instant, whatever the filesystem does in the
	# background (ext4's lazy init, xfs's log worker).
	dmsetup suspend --nolockfs "$DM"
	create_snap "$ORIGIN" --writable && W=$SNAP_DEV W_ID=$SNAP_ID
	create_snap "$ORIGIN" && A=$SNAP_DEV A_ID=$SNAP_ID
	dmsetup resume "$DM"
	dd if=/dev/urandom of="$MO/f3" bs=1M count=4 status=none
	umount "$MO"
	sum_o=$(sum "$ORIGIN")
	sum_a=$(sum "$A")
	cmp -s -n $((REGION << 20)) "$W" "$A"
	check "$fs: W reads as A before any write" test $? = 0
	is "$fs: list shows W writable, A not" \
		"$(writable_of "$ORIGIN" "$W_ID") $(writable_of "$ORIGIN" "$A_ID")" "true false"

	dmesg -c > /dev/null
	mount -t "$fs" ${opt:+-o $opt} "$W" "$MW"
	check "$fs: W mounts read-write" grep -q "^$W $MW .*rw" /proc/mounts
	dmesg | grep -i "recover" | sed 's/^/# /'
	case $fs in
	ext4) dmesg | grep -q "$(basename "$W").*recovery complete" ;;
	xfs) dmesg | grep -q "$(basename "$W").*Ending recovery" ;;
	esac
	check "$fs: the mount replayed the journal" test $? = 0
	dd if=/dev/urandom of="$MW/w1" bs=1M count=8 status=none
	rm "$MW/f1"
	sha=$(sha256sum < "$MW/w1")
	umount "$MW"
	mount -t "$fs" ${opt:+-o $opt} "$W" "$MW"
	is "$fs: W keeps its own writes across a remount" \
		"$(sha256sum < "$MW/w1") $([ -e "$MW/f1" ] && echo f1)" "$sha "
	umount "$MW"
	case $fs in
	ext4) e2fsck -fn "$W" > /tmp/writable.fsck 2>&1 ;;
	xfs) xfs_repair -n "$W" > /tmp/writable.fsck 2>&1 ;;
	esac
	rc=$?
	[ "$rc" = 0 ] || sed 's/^/# /' /tmp/writable.fsck
	is "$fs: the checker finds W clean" "$rc" 0
	is "$fs: the origin reads as before" "$(sum "$ORIGIN")" "$sum_o"
	is "$fs: A reads as before" "$(sum "$A")" "$sum_a"
	fails_with snapctl diff "$W" "$A"
	check "$fs: diff refuses a writable snapshot" grep -q EMEDIUMTYPE /tmp/writable.err
	snapctl detach --force "$ORIGIN" > /dev/null
	dmsetup remove "$DM"
}

tap_plan 27
one_fs ext4 64
one_fs xfs 300		# mkfs.xfs's smallest

# snapctl writable on an existing, read-only snapshot.
fresh_start
REGION=1
snapctl attach "$ORIGIN" --store "$STORE" > /dev/null
create_snap "$ORIGIN" && R=$SNAP_DEV R_ID=$SNAP_ID
first=$(dd if="$ORIGIN" bs=512 count=1 iflag=direct status=none | sha256sum)
printf 'image' | dd of="$R" bs=512 count=1 conv=sync,notrunc status=none 2> /dev/null
check "a read-only image refuses a write open" test $? != 0
snapctl writable "$R" | sed 's/^/# /'
printf 'image' | dd of="$R" bs=512 count=1 conv=sync,notrunc oflag=direct status=none
check "after snapctl writable it takes writes" test $? = 0
is "list shows it writable" "$(writable_of "$ORIGIN" "$R_ID")" true
is "the image reads its write" \
	"$(dd if="$R" bs=512 count=1 iflag=direct status=none | head -c 5)" image
fails_with snapctl revert "$R"
check "revert refuses a writable snapshot" grep -q EMEDIUMTYPE /tmp/writable.err
wipe "$SCRATCH2"
fails_with snapctl attach "$SCRATCH2" --store "$R"
check "a writable image cannot be a store (EROFS)" grep -q EROFS /tmp/writable.err
is "the origin did not see it" \
	"$(dd if="$ORIGIN" bs=512 count=1 iflag=direct status=none | sha256sum)" "$first"
snapctl detach --force "$ORIGIN" > /dev/null

# A full store: a 2 MiB store, 64 KiB chunks.
small=$(dm_create "$SMALL" "0 4096 linear $STORE 0")
wipe "$small"
snapctl attach "$SCRATCH1" --store "$small" > /dev/null
create_snap "$SCRATCH1" --writable && S=$SNAP_DEV
dd if=/dev/urandom of="$S" bs=1M count=4 oflag=direct status=none 2> /tmp/writable.err
sed 's/^/# /' /tmp/writable.err
check "image writes past the store's room fail with ENOSPC" \
	grep -q "No space left on device" /tmp/writable.err
dd if=/dev/urandom of=/tmp/writable.data bs=1M count=4 status=none
dd if=/tmp/writable.data of="$SCRATCH1" bs=1M oflag=direct status=none
check "origin writes go on, exact" cmp -n 4194304 /tmp/writable.data "$SCRATCH1"
tap_done
