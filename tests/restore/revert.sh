#!/bin/sh
# snapctl revert: the origin becomes equal to a snapshot, sector for
# sector, and the other snapshots stay exact.
#  - Raw origin: random data, snapshot A, heavy changes, snapshot B, more
#    changes; revert to A: the origin reads as A, A and B unchanged; a
#    second revert writes nothing.
#  - Refused while another program has the origin open (named), or while
#    it is mounted (the mount point named).
#  - ext4: files changed after the snapshot; revert unmounted: e2fsck
#    clean, every file as it was, the new file gone.
#  - A second revert while one runs is refused.
#  - Killed halfway (a pause after each write: SNAPCTL_DEBUG_REVERT_DELAY_MS):
#    the origin stays claimed (no mount, no snapshot, the snapshot not
#    deletable, another revert told to finish this one); the same revert
#    run again finishes it exactly.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

MNT=/tmp/revert-mnt
REGION=64		# MiB compared
HOLDER=

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	[ -n "$HOLDER" ] && kill "$HOLDER" 2> /dev/null
	umount "$MNT" 2> /dev/null
	quiet_detach "$ORIGIN"
	wipe "$STORE"
	wipe "$ORIGIN"
}
trap cleanup EXIT

# sum DEV - md5 of DEV's first $REGION MiB.
sum() {
	dd if="$1" bs=1M count="$REGION" iflag=direct status=none | md5sum | cut -d' ' -f1
}

# scribble MIB_OFFSET MIB - random data, direct.
scribble() {
	dd if=/dev/urandom of="$ORIGIN" bs=1M seek="$1" count="$2" \
		oflag=direct conv=notrunc status=none
}

# reverting - the snapshot ORIGIN is being reverted to, null if none.
reverting() {
	snapctl -J status "$ORIGIN" -o reverting | jq -c '.origins[0].reverting'
}

# fails_with CMD... - CMD exits 1; its stderr in /tmp/revert.err.
fails_with() {
	"$@" > /dev/null 2> /tmp/revert.err
	_rc=$?
	sed 's/^/# /' /tmp/revert.err
	[ "$_rc" = 1 ]
}

fresh_start
tap_plan 24

# Raw origin.
scribble 0 "$REGION"
snapctl attach "$ORIGIN" --store "$STORE" > /dev/null
create_snap "$ORIGIN" && A=$SNAP_DEV
sum_a=$(sum "$A")
scribble 0 4
scribble 20 8
scribble 40 8
dd if=/dev/zero of="$ORIGIN" bs=4K seek=12345 count=3 oflag=direct conv=notrunc status=none
create_snap "$ORIGIN" && B=$SNAP_DEV
sum_b=$(sum "$B")
scribble 2 4
scribble 50 4
[ "$(sum "$ORIGIN")" != "$sum_a" ] && [ "$sum_a" != "$sum_b" ]
check "the origin and B differ from A" test $? = 0

snapctl revert "$A" > /tmp/revert.out 2> /tmp/revert.err
rc=$?
sed 's/^/# /' /tmp/revert.out /tmp/revert.err
is "revert A: exit 0" "$rc" 0
is "the origin reads as A" "$(sum "$ORIGIN")" "$sum_a"
is "A still reads its instant" "$(sum "$A")" "$sum_a"
is "B still reads its instant" "$(sum "$B")" "$sum_b"
is "not marked reverting any more" "$(reverting)" null
written=$(sed -n 's/.*: \([0-9]*\) bytes written.*/\1/p' /tmp/revert.out)
is "the changed chunks were written back (26 MiB and 64 KiB)" "$written" \
	$(((26 << 20) + 65536))
snapctl revert "$A" > /tmp/revert.out
is "a second revert writes nothing" \
	"$(sed -n 's/.*: \([0-9]*\) bytes written.*/\1/p' /tmp/revert.out)" 0

# Another program has the origin open.
(exec 3< "$ORIGIN"; exec sleep 60) &
HOLDER=$!
sleep 0.2
fails_with snapctl revert "$A"
check "refused while open" test $? = 0
grep -q "open by process $HOLDER (sleep)" /tmp/revert.err
check "the message names pid and command" test $? = 0
kill "$HOLDER"
wait "$HOLDER" 2> /dev/null
HOLDER=

# ext4.
snapctl detach --force "$ORIGIN" > /dev/null
wipe "$STORE"
mkfs.ext4 -q -F "$ORIGIN" 128M
mkdir -p "$MNT"
mount "$ORIGIN" "$MNT"
for f in 1 2 3 4; do
	dd if=/dev/urandom of="$MNT/f$f" bs=1M count=4 status=none
done
sync
snapctl attach "$ORIGIN" --store "$STORE" > /dev/null
create_snap "$ORIGIN" && E=$SNAP_DEV E_ID=$SNAP_ID
(cd "$MNT" && sha256sum f1 f2 f3 f4) > /tmp/revert.sums
rm "$MNT/f1"
dd if=/dev/urandom of="$MNT/f2" bs=1M count=4 conv=notrunc status=none
dd if=/dev/urandom of="$MNT/new" bs=1M count=24 status=none
sync
fails_with snapctl revert "$E"
check "refused while mounted" test $? = 0
check "names the mount point" grep -q "mounted on $MNT" /tmp/revert.err
umount "$MNT"
create_snap "$ORIGIN" && F=$SNAP_DEV
sum_f=$(sum "$F")

# Killed halfway: a pause of 1 s after each MiB written (4 pieces at a
# time), so about 7 s for the whole revert.
SNAPCTL_DEBUG_REVERT_DELAY_MS=1000 snapctl revert "$E" > /dev/null 2>&1 &
pid=$!
i=0
while [ "$(reverting)" != "$E_ID" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
fails_with snapctl revert "$E"
check "a second revert while the first runs is refused" test $? = 0
sleep 1
kill -9 "$pid"
wait "$pid" 2> /dev/null
is "killed halfway: still marked reverting to $E_ID" "$(reverting)" "$E_ID"
mount "$ORIGIN" "$MNT" 2> /dev/null
rc=$?
[ "$rc" = 0 ] && umount "$MNT"
check "no mount meanwhile" test "$rc" != 0
fails_with snapctl create "$ORIGIN"
rc=$?
grep -q "revert to snapshot $E_ID is not finished" /tmp/revert.err
check "no snapshot meanwhile, and says why" test "$rc$?" = 00
fails_with snapctl delete "$E"
rc=$?
grep -q "revert to snapshot $E_ID is not finished" /tmp/revert.err
check "the snapshot is not deletable meanwhile, and says why" test "$rc$?" = 00
fails_with snapctl writable "$E"
check "the snapshot cannot be made writable meanwhile" test $? = 0
fails_with snapctl revert "$F"
rc=$?
grep -q "revert to snapshot $E_ID is not finished" /tmp/revert.err
check "another revert is refused and told to finish this one" test "$rc$?" = 00
snapctl revert "$E" > /tmp/revert.out 2> /tmp/revert.err
rc=$?
sed 's/^/# /' /tmp/revert.out /tmp/revert.err
is "the same revert again finishes" "$rc" 0
e2fsck -fn "$ORIGIN" > /tmp/revert.fsck 2>&1
rc=$?
[ "$rc" = 0 ] || sed 's/^/# /' /tmp/revert.fsck
is "e2fsck -fn: clean" "$rc" 0
is "the snapshot taken after the changes still reads them" "$(sum "$F")" "$sum_f"
mount "$ORIGIN" "$MNT"
(cd "$MNT" && sha256sum -c /tmp/revert.sums > /dev/null 2>&1)
check "every file as it was at the snapshot" test $? = 0
check "the file made since is gone" test ! -e "$MNT/new"
umount "$MNT"
tap_done
