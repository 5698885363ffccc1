#!/bin/sh
# A shadow store in a regular file on another filesystem.
#
# Point in time, sector by sector (the stamp verifier), with the store file
# on ext4 and on xfs: 8 MiB (xfs: 4 MiB) of the origin stamped with
# generation 1, snapshot 1, all of it overwritten (2), snapshot 2, the
# first half overwritten again (3); each image must hold exactly its
# generation and the origin the newest.
#
# The ext4 store file is made fragmented on purpose: a filler file takes
# most of a small filesystem, holes of 300 KiB are punched in it every
# 600 KiB, and the store file is created into them. Its extents are not
# multiples of the 64 KiB chunk, so some chunks straddle two extents (the
# module leaves them unused) and runs of chunks end at every extent; the
# test checks that the file has many extents and that the module found
# chunks it could not use. A mapping that ignored the extents would write
# the wrong blocks: after detach, the store file, read through the
# filesystem, must hold the copies of every sector (each stamp says which
# origin sector and generation it is), and the filler's data, which lies
# between the store's extents, must be unchanged (its checksum is compared
# before and after).
#
# While attached, writing, truncating and fallocating the store file fail
# with ETXTBSY; after detach they work again. Refusals, each with its own
# errno: a missing file without --store-size (ENOENT), --store-size on an
# existing file (EEXIST), a file too small (ENOSPC), a sparse file and a
# fallocated but unwritten file (ENODATA), a file on the origin's own
# filesystem (EXDEV), a directory (EISDIR), a file on tmpfs (EOPNOTSUPP),
# the store file of another attached origin (ETXTBSY), a file carrying
# the live header of another origin (EBUSY), an immutable file (EPERM),
# a file in use as swap (ETXTBSY, and swap keeps it pinned). status names the
# store file by its path. Detach and rmmod are clean.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

EMNT=/mnt/vs-sf-ext4
XMNT=/mnt/vs-sf-xfs
TMNT=/mnt/vs-sf-tmpfs
K=1024
M=1048576

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	quiet_detach "$ORIGIN" "$STORE" "$SCRATCH1"
	for _m in $TMNT $XMNT $EMNT; do
		umount "$_m" 2>/dev/null
	done
	return 0
}
trap cleanup EXIT

# exact WHAT FILE MIB - the point-in-time scenario over the origin's first
# MIB MiB (even), with the store file FILE, created with --store-size
# when it does not exist; 4 TAP points.
exact() {
	_r=$(($3 * M)); _h=$(($3 * M / 2))
	$VSDATA fill "$ORIGIN" 0 $_r 1
	if [ -e "$2" ]; then
		snapctl attach "$ORIGIN" --store "$2" > /tmp/sf.out 2>&1
	else
		snapctl attach "$ORIGIN" --store "$2" --store-size $(($3 * 5 / 2))M \
			> /tmp/sf.out 2>&1
	fi || { sed 's/^/# /' /tmp/sf.out; }
	create_snap "$ORIGIN"
	s1=$SNAP_ID; i1=$SNAP_DEV
	$VSDATA fill "$ORIGIN" 0 $_r 2
	create_snap "$ORIGIN"
	s2=$SNAP_ID; i2=$SNAP_DEV
	$VSDATA fill "$ORIGIN" 0 $_h 3
	check "$1: snapshot 1 holds generation 1 in every sector" \
		$VSDATA verify "$i1" 0 $_r 1
	check "$1: snapshot 2 holds generation 2 in every sector" \
		$VSDATA verify "$i2" 0 $_r 2
	check "$1: the origin holds 3 then 2" \
		sh -c "$VSDATA verify $ORIGIN 0 $_h 3 && $VSDATA verify $ORIGIN $_h $_h 2"
	is "$1: 1.5 times the region copied to the store, both snapshots valid" \
		"$(status_field "$ORIGIN" store_used) $(snap_field "$ORIGIN" "$s1" state) $(snap_field "$ORIGIN" "$s2" state)" \
		"$((_r + _h)) valid valid"
}

# extents FILE - how many extents FIEMAP reports for FILE.
extents() {
	xfs_io -r -c fiemap "$1" | grep -c '^[[:space:]]*[0-9]*: \[.*\]: [0-9]'
}

# busy DESC COMMAND... - COMMAND fails with "Text file busy".
busy() {
	_d=$1; shift
	if "$@" > /tmp/sf.busy 2>&1; then
		not_ok "$_d (it succeeded)"
	elif grep -q "Text file busy" /tmp/sf.busy; then
		ok "$_d"
	else
		not_ok "$_d (not ETXTBSY)"
		sed 's/^/# /' /tmp/sf.busy
	fi
}

fresh_start
tap_plan 40
mkdir -p $EMNT $XMNT $TMNT

# --- ext4 with a fragmented store file --------------------------------
mkfs.ext4 -q -F -b 4096 "$SCRATCH1" 56M
mount -t ext4 "$SCRATCH1" $EMNT
# The filler takes all but 1 MiB of the free space.
fill=$(($(df -k $EMNT | awk 'END { print $4 }') * K - M))
xfs_io -f -c "pwrite -q -S 0xa5 0 $fill" -c fsync $EMNT/filler
punch=""
off=0
while [ $off -lt "$fill" ]; do
	punch="$punch -c \"fpunch $off $((300 * K))\""
	off=$((off + 600 * K))
done
eval xfs_io "$punch" -c fsync $EMNT/filler
sync
sum_before=$(md5sum < $EMNT/filler)

exact "ext4, fragmented file" $EMNT/store 8
n=$(extents $EMNT/store)
diag "the ext4 store file has $n extents"
check "the store file is fragmented (more than 40 extents)" [ "$n" -gt 40 ]
# The module's line about the mapping it just made.
line=$(dmesg | grep 'store: store on .*data chunks' | tail -n 1)
diag "${line#*] }"
skipped=$(echo "$line" | sed -n 's/.*extent(s), \([0-9]*\) file chunk(s) not contiguous.*/\1/p')
check "some chunks straddle two extents and are left unused" [ "${skipped:-0}" -gt 0 ]
status=$(snapctl status -n -o store "$ORIGIN" | tr -d ' ')
is "status names the store file by its path" "$status" "$EMNT/store"
is "status -J says so too" "$(status_field "$ORIGIN" store)" "$EMNT/store"

busy "writing the store file while attached: ETXTBSY" \
	dd if=/dev/zero of=$EMNT/store bs=4k count=1 conv=notrunc,fsync
busy "truncating it: ETXTBSY" xfs_io -c "truncate 0" $EMNT/store
busy "fallocating it: ETXTBSY" xfs_io -c "falloc 0 4k" $EMNT/store
# xfs_io reports errors but exits 0: the busy() check needs the message.
check "reading it works" dd if=$EMNT/store of=/dev/null bs=1M count=1
# A copy of it carries the live header of $ORIGIN: another origin's attach
# must refuse it and say so.
dd if=$EMNT/store of=$EMNT/live bs=64k count=4 conv=fsync 2>/dev/null
expect_errno "a file with the live header of another origin: EBUSY" 1 EBUSY \
	snapctl attach "$STORE" --store $EMNT/live
check "and the message names that origin" grep -q "live volsnap store of origin" /tmp/ee.err
rm -f $EMNT/live
expect_errno "the same file as the store of a second origin: ETXTBSY" 1 ETXTBSY \
	snapctl attach "$STORE" --store $EMNT/store
expect_errno "the store file's filesystem as an origin: EBUSY" 1 EBUSY \
	snapctl attach "$SCRATCH1" --store "$STORE"

snapctl detach --force "$ORIGIN" > /dev/null
# Read through the filesystem: the copies must be in the file's blocks.
check "the store file holds the copies of snapshot 1 (generation 1 of 8 MiB)" \
	$VSDATA holds $EMNT/store 0 8M 1
check "and of snapshot 2 (generation 2 of the first 4 MiB)" \
	$VSDATA holds $EMNT/store 0 4M 2
check "after detach, the header says clean (state 0) and the file is writable" \
	sh -c "[ \"\$(od -An -tu4 -j20 -N4 $EMNT/store | tr -d ' ')\" = 0 ] &&
	       dd if=/dev/zero of=$EMNT/store bs=4k count=1 seek=1 conv=notrunc,fsync"
is "the filler between the store's extents is unchanged" \
	"$(md5sum < $EMNT/filler)" "$sum_before"
rm $EMNT/filler
xfs_io -c "chattr +i" $EMNT/store
expect_errno "an immutable file: EPERM" 1 EPERM \
	snapctl attach "$ORIGIN" --store $EMNT/store
xfs_io -r -c "chattr -i" $EMNT/store
# A swap file is pinned by swap: refused, and still pinned afterwards.
xfs_io -f -c "pwrite -q 0 4m" $EMNT/swap
chmod 600 $EMNT/swap
if mkswap $EMNT/swap > /dev/null 2>&1 && swapon $EMNT/swap 2> /dev/null; then
	expect_errno "a file in use as swap: ETXTBSY" 1 ETXTBSY \
		snapctl attach "$ORIGIN" --store $EMNT/swap --force
	busy "and swap keeps it pinned: writing it still fails" \
		dd if=/dev/zero of=$EMNT/swap bs=4k count=1 conv=notrunc
	swapoff $EMNT/swap
else
	skip "a file in use as swap: ETXTBSY" "no swap in this kernel"
	skip "and swap keeps it pinned" "no swap in this kernel"
fi
rm -f $EMNT/swap

# Refusals with the ext4 filesystem at hand.
expect_errno "a missing file without --store-size: ENOENT" 1 ENOENT \
	snapctl attach "$ORIGIN" --store $EMNT/none
check "and nothing is created" [ ! -e $EMNT/none ]
expect_errno "--store-size on an existing file: EEXIST" 1 EEXIST \
	snapctl attach "$ORIGIN" --store $EMNT/store --store-size 1M
xfs_io -f -c "pwrite -q 0 64k" $EMNT/small
expect_errno "a file of one chunk: ENOSPC" 1 ENOSPC \
	snapctl attach "$ORIGIN" --store $EMNT/small
xfs_io -f -c "truncate 4m" -c "pwrite -q 0 1m" $EMNT/sparse
expect_errno "a file with a hole: ENODATA" 1 ENODATA \
	snapctl attach "$ORIGIN" --store $EMNT/sparse
xfs_io -f -c "falloc 0 4m" $EMNT/unwritten
expect_errno "a fallocated, unwritten file: ENODATA" 1 ENODATA \
	snapctl attach "$ORIGIN" --store $EMNT/unwritten
expect_errno "a directory: EISDIR" 1 EISDIR \
	snapctl attach "$ORIGIN" --store $EMNT
expect_errno "a file on the origin's own filesystem: EXDEV" 1 EXDEV \
	snapctl attach "$SCRATCH1" --store $EMNT/small
check "no origin is left attached" sh -c "! snapctl status $ORIGIN > /dev/null 2>&1"
mount -t tmpfs -o size=8m tmpfs $TMNT
expect_errno "a file on tmpfs: EOPNOTSUPP" 1 EOPNOTSUPP \
	snapctl attach "$ORIGIN" --store $TMNT/store --store-size 4M
check "and the file snapctl created for it is removed" [ ! -e $TMNT/store ]
umount $TMNT
umount $EMNT

# --- xfs ---------------------------------------------------------------
mkfs.xfs -q -f "$SCRATCH2"
mount -t xfs "$SCRATCH2" $XMNT
exact "xfs" $XMNT/store 4
snapctl detach --force "$ORIGIN" > /dev/null
check "xfs: the store file holds the copies of snapshot 1" \
	$VSDATA holds $XMNT/store 0 4M 1
umount $XMNT

check "rmmod is clean" vs_unload
tap_done
