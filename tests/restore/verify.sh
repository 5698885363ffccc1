#!/bin/sh
# snapctl verify IMAGE | --set SET: the filesystem's own read-only checker
# on a snapshot, chosen by libblkid's probe of the image.
#  - A snapshot of a mounted ext4 taken while files are being written
#    verifies: exit 0, one line, nothing on stderr (the checker's output is
#    kept); -J gives every field.
#  - The same of a mounted xfs does not: the freeze leaves its log with
#    changes to replay (covered, not clean), which xfs_repair -n does not
#    replay (it warns, and reports the lazy superblock counters): exit 1,
#    said so, dirty_log true. A snapshot of the same xfs unmounted
#    verifies.
#  - A filesystem damaged before the snapshot (a directory's inode cleared
#    with debugfs): exit 1, e2fsck and its exit status 4 named, its last
#    lines shown.
#  - The checker hidden (a bind mount of /dev/null over it): exit 1, the
#    program named as not installed.
#  - --set of a set of two (ext4 on ORIGIN, xfs on SCRATCH1): one result
#    per member, in text and JSON; a set that does not exist fails.
#  - An invalid snapshot (its 2 MiB store filled) is not valid and no
#    checker runs; an image without a filesystem is not valid, "no
#    filesystem to check".
#  - Usage errors exit 2.
# btrfs is not covered: the guest has no btrfs-progs.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

A=$ORIGIN
B=$SCRATCH1
MA=/tmp/verify-a
MB=/tmp/verify-b
WRITER=
HIDDEN=

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	[ -n "$WRITER" ] && kill "$WRITER" 2> /dev/null
	for _h in $HIDDEN; do umount "$_h" 2> /dev/null; done
	umount "$MA" "$MB" 2> /dev/null
	quiet_detach "$A" "$B"
	dmsetup remove vs-verify 2> /dev/null
	wipe "$B"
	wipe "$SCRATCH2"
}
trap cleanup EXIT

# busy_snapshot DEV MNT - a snapshot of the filesystem mounted on MNT
# while a writer creates, rewrites and renames files in it.
# shellcheck disable=SC2317  # called by check
busy_snapshot() {
	(
		i=0
		while :; do
			i=$((i + 1))
			bbdd if=/dev/urandom of="$2/f$((i % 20))" bs=4k count=4 2> /dev/null
			echo "$i" > "$2/seq.new" && mv "$2/seq.new" "$2/seq"
		done
	) &
	WRITER=$!
	sleep 1
	create_snap "$1"
	_rc=$?
	kill "$WRITER"
	wait "$WRITER" 2> /dev/null
	WRITER=
	return "$_rc"
}

# damage_ext4 - a directory made in A's ext4, then its inode cleared.
damage_ext4() {
	debugfs -w -R 'mkdir lost' "$A" > /dev/null 2>&1
	debugfs -w -R 'clri lost' "$A" > /dev/null 2>&1
}

# verify_rc OUT ARGS... - run snapctl verify ARGS, stdout in OUT.out,
# stderr in OUT.err; prints the exit status.
verify_rc() {
	_o=$1; shift
	snapctl verify "$@" > "$_o.out" 2> "$_o.err"
	echo $?
}

show() {	# show FILE... - as TAP comments
	for _f in "$@"; do sed "s|^|# ${_f##*/}: |" "$_f"; done
}

fresh_start
quiet_detach "$B"
wipe "$SCRATCH2"
mkdir -p "$MA" "$MB"
tap_plan 31

# A busy, mounted ext4.
mkfs.ext4 -q -F "$A" 64M
mount -t ext4 "$A" "$MA"
snapctl attach "$A" --store "$STORE" > /dev/null
check "a snapshot of a mounted ext4 while files are written" busy_snapshot "$A" "$MA"
img=$SNAP_DEV
rc=$(verify_rc /tmp/v1 "$img")
if [ "$rc" = 0 ] && [ "$(wc -l < /tmp/v1.out)" = 1 ] &&
   grep -q "^$img (snapshot $SNAP_ID of $A): ext4, valid (e2fsck -fn $img" /tmp/v1.out &&
   [ ! -s /tmp/v1.err ]; then
	ok "verify of the ext4 snapshot: exit 0, one line, stderr empty"
else
	not_ok "verify of the ext4 snapshot: exit 0, one line, stderr empty (exit $rc)"
	show /tmp/v1.out /tmp/v1.err
fi
rc=$(verify_rc /tmp/v2 -J "$img")
diag "ext4, 64 MiB: $(jq -r .seconds /tmp/v2.out) s"
if [ "$rc" = 0 ] && jq -e --arg i "$img" --arg o "$A" --argjson id "$SNAP_ID" '
	.image == $i and .origin == $o and .id == $id and .set == null and
	.fstype == "ext4" and .checker == "e2fsck" and
	.command == "e2fsck -fn " + $i and .exit_status == 0 and
	.valid == true and (.seconds | type == "number") and
	.reason == null and .output == null' /tmp/v2.out > /dev/null; then
	ok "verify -J: image, origin, id, set, fstype, checker, command, exit_status, valid, seconds"
else
	not_ok "verify -J: the fields (exit $rc)"
	show /tmp/v2.out /tmp/v2.err
fi

# The checker missing: every e2fsck snapctl could find hidden.
for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
	if [ -x "$d/e2fsck" ] && mount --bind /dev/null "$d/e2fsck"; then
		HIDDEN="$HIDDEN $d/e2fsck"
	fi
done
rc=$(verify_rc /tmp/v3 "$img")
is "e2fsck not installed: exit 1, named" \
	"$rc $(grep -c 'e2fsck is not installed' /tmp/v3.err)" "1 1"
rc=$(verify_rc /tmp/v3 -J "$img")
is "e2fsck not installed, -J: no exit status, not valid" \
	"$rc $(jq -c '[.checker, .exit_status, .valid]' /tmp/v3.out)" \
	'1 ["e2fsck",null,false]'
for h in $HIDDEN; do umount "$h"; done
HIDDEN=
umount "$MA"
snapctl detach --force "$A" > /dev/null

# A busy, mounted xfs.
wipe "$STORE"
mkfs.xfs -q -f -d size=300m "$A"
mount -t xfs "$A" "$MA"
snapctl attach "$A" --store "$STORE" > /dev/null
check "a snapshot of a mounted xfs while files are written" busy_snapshot "$A" "$MA"
img=$SNAP_DEV
rc=$(verify_rc /tmp/v4 -J "$img")
diag "xfs, 300 MiB, log not replayed: $(jq -r .seconds /tmp/v4.out) s"
if [ "$rc" = 1 ] && jq -e --arg i "$img" '.fstype == "xfs" and
	.checker == "xfs_repair" and .command == "xfs_repair -n " + $i and
	.exit_status == 1 and .valid == false and .dirty_log == true and
	(.reason | test("log holds metadata changes not replayed"))' \
	/tmp/v4.out > /dev/null; then
	ok "verify of the mounted xfs's snapshot: exit 1, its log not replayed (dirty_log)"
else
	not_ok "verify of the mounted xfs's snapshot: exit 1, its log not replayed (exit $rc)"
	show /tmp/v4.out /tmp/v4.err
fi
umount "$MA"
check "a snapshot of the xfs, unmounted after the writes" create_snap "$A"
img=$SNAP_DEV
rc=$(verify_rc /tmp/v4 -J "$img")
diag "xfs, 300 MiB: $(jq -r .seconds /tmp/v4.out) s"
if [ "$rc" = 0 ] && jq -e --arg i "$img" '.fstype == "xfs" and
	.checker == "xfs_repair" and .command == "xfs_repair -n " + $i and
	.exit_status == 0 and .valid == true and .dirty_log == false' \
	/tmp/v4.out > /dev/null; then
	ok "verify of the unmounted xfs's snapshot: exit 0, xfs_repair -n, valid"
else
	not_ok "verify of the unmounted xfs's snapshot: exit 0, xfs_repair -n, valid (exit $rc)"
	show /tmp/v4.out /tmp/v4.err
fi
snapctl detach --force "$A" > /dev/null

# An ext4 damaged before the snapshot: a directory's inode cleared.
wipe "$STORE"
mkfs.ext4 -q -F "$A" 64M
damage_ext4
snapctl attach "$A" --store "$STORE" > /dev/null
check "a snapshot of the damaged ext4" create_snap "$A"
img=$SNAP_DEV
rc=$(verify_rc /tmp/v5 "$img")
if [ "$rc" = 1 ] && grep -q "^$img (snapshot $SNAP_ID of $A): ext4, not valid: e2fsck found it not clean (exit status 4)" /tmp/v5.out &&
   grep -q "verify: $img: e2fsck found it not clean (exit status 4)" /tmp/v5.err; then
	ok "verify of the damaged ext4: exit 1, e2fsck and its exit status 4 named"
else
	not_ok "verify of the damaged ext4: exit 1, e2fsck and its exit status 4 named (exit $rc)"
	show /tmp/v5.out /tmp/v5.err
fi
if grep -q "^e2fsck's last lines (e2fsck -fn $img):" /tmp/v5.err &&
   grep -q '^  .*WARNING: Filesystem still has errors' /tmp/v5.err &&
   [ "$(grep -c '^  ' /tmp/v5.err)" -le 10 ]; then
	ok "its last lines (at most 10) are shown on stderr"
else
	not_ok "its last lines (at most 10) are shown on stderr"
	show /tmp/v5.err
fi
rc=$(verify_rc /tmp/v6 -J "$img")
if [ "$rc" = 1 ] && jq -e '.checker == "e2fsck" and .exit_status == 4 and
	.valid == false and (.reason | test("exit status 4")) and
	(.output | test("still has errors"))' /tmp/v6.out > /dev/null; then
	ok "verify -J of the damaged ext4: exit_status 4, not valid, reason, output"
else
	not_ok "verify -J of the damaged ext4 (exit $rc)"
	show /tmp/v6.out /tmp/v6.err
fi
snapctl detach --force "$A" > /dev/null

# --set: a set of two, ext4 on A, xfs on B.
wipe "$STORE"
mkfs.ext4 -q -F "$A" 64M
mkfs.xfs -q -f -d size=300m "$B"
snapctl attach "$A" --store "$STORE" > /dev/null
snapctl attach "$B" --store "$SCRATCH2" > /dev/null
snapctl -J create "$A" "$B" > /tmp/verify-set.json
set_id=$(jq -r .set /tmp/verify-set.json)
ia=$(jq -r '.snapshots[0].device' /tmp/verify-set.json)
ib=$(jq -r '.snapshots[1].device' /tmp/verify-set.json)
# A snapshot of A outside the set, which --set must leave alone.
create_snap "$A"
other=$SNAP_DEV
rc=$(verify_rc /tmp/v7 --set "$set_id")
if [ "$rc" = 0 ] && [ "$(wc -l < /tmp/v7.out)" = 2 ] &&
   grep -q "^$ia (snapshot [0-9]* of $A): ext4, valid" /tmp/v7.out &&
   grep -q "^$ib (snapshot [0-9]* of $B): xfs, valid" /tmp/v7.out &&
   ! grep -q "^$other " /tmp/v7.out; then
	ok "verify --set: exit 0, one line per member, ext4 and xfs"
else
	not_ok "verify --set: exit 0, one line per member (exit $rc)"
	show /tmp/v7.out /tmp/v7.err
fi
rc=$(verify_rc /tmp/v8 --set "$set_id" -J)
if [ "$rc" = 0 ] && jq -e --argjson s "$set_id" --arg a "$ia" --arg b "$ib" '
	.set == $s and .valid == true and (.seconds | type == "number") and
	(.snapshots | length) == 2 and
	([.snapshots[].image] == [$a, $b]) and
	([.snapshots[].fstype] == ["ext4", "xfs"]) and
	([.snapshots[].checker] == ["e2fsck", "xfs_repair"]) and
	all(.snapshots[]; .set == $s and .valid and .exit_status == 0)' \
	/tmp/v8.out > /dev/null; then
	ok "verify --set -J: one object per member, set, valid"
else
	not_ok "verify --set -J: one object per member (exit $rc)"
	show /tmp/v8.out /tmp/v8.err
fi
rc=$(verify_rc /tmp/v9 --set $((set_id + 100)))
is "verify --set of no such set: exit 1, says so" \
	"$rc $(grep -c "no snapshot set $((set_id + 100))" /tmp/v9.err)" "1 1"
# A damaged member fails the set, the other still passes.
snapctl delete --set "$set_id" > /dev/null
damage_ext4
snapctl -J create "$A" "$B" > /tmp/verify-set.json
set_id=$(jq -r .set /tmp/verify-set.json)
rc=$(verify_rc /tmp/v10 --set "$set_id" -J)
is "verify --set with a damaged member: exit 1, that member not valid" \
	"$rc $(jq -c '[.valid, [.snapshots[] | .valid]]' /tmp/v10.out)" \
	"1 [false,[false,true]]"
snapctl detach --force "$A" > /dev/null
snapctl detach --force "$B" > /dev/null

# An invalid snapshot: its store, a 2 MiB slice of STORE, filled.
wipe "$STORE"
dm=$(dm_create vs-verify "0 4096 linear $STORE 0")
mkfs.ext4 -q -F "$A" 64M
snapctl attach "$A" --store "$dm" > /dev/null
check "a snapshot with a 2 MiB store" create_snap "$A"
img=$SNAP_DEV
dd if=/dev/urandom of="$A" bs=1M count=8 oflag=direct status=none
wait_invalid "$A" "$SNAP_ID"
is "8 MiB written: the snapshot is invalid" "$(snap_field "$A" "$SNAP_ID" state)" invalid
rc=$(verify_rc /tmp/v11 "$img")
is "verify of the invalid snapshot: exit 1, not valid, says why" \
	"$rc $(grep -c "not valid: the snapshot is invalid" /tmp/v11.out)" "1 1"
rc=$(verify_rc /tmp/v12 -J "$img")
is "verify -J of the invalid snapshot: no checker ran" \
	"$rc $(jq -c '[.fstype, .checker, .command, .exit_status, .valid]' /tmp/v12.out)" \
	"1 [null,null,null,null,false]"
snapctl detach --force "$A" > /dev/null
dmsetup remove vs-verify

# No filesystem: the origin's signatures zeroed at both ends.
wipe "$STORE"
dd if=/dev/zero of="$A" bs=1M count=4 oflag=direct status=none
blocks=$(blockdev --getsz "$A")
dd if=/dev/zero of="$A" bs=512 seek=$((blocks - 8192)) count=8192 oflag=direct status=none
if blkid -p "$A" > /tmp/verify-blkid 2>&1; then
	diag "blkid still finds: $(cat /tmp/verify-blkid)"
fi
snapctl attach "$A" --store "$STORE" > /dev/null
check "a snapshot of a raw origin" create_snap "$A"
img=$SNAP_DEV
rc=$(verify_rc /tmp/v13 "$img")
is "verify of an image without a filesystem: exit 1, nothing to check" \
	"$rc $(grep -c "not valid: no filesystem to check" /tmp/v13.out)" "1 1"
rc=$(verify_rc /tmp/v14 -J "$img")
is "verify -J of an image without a filesystem: fstype and checker null" \
	"$rc $(jq -c '[.fstype, .checker, .exit_status, .valid]' /tmp/v14.out)" \
	"1 [null,null,null,false]"

# Usage errors.
expect_fail "verify without an argument: exit 2" 2 snapctl verify
expect_fail "verify with two images: exit 2" 2 snapctl verify "$img" "$img"
expect_fail "verify --set with an image too: exit 2" 2 snapctl verify --set 1 "$img"
expect_fail "verify --set abc: exit 2" 2 snapctl verify --set abc
expect_fail "verify --set 0: exit 2" 2 snapctl verify --set 0
expect_fail "verify --bogus: exit 2" 2 snapctl verify --bogus "$img"
rc=$(verify_rc /tmp/v15 "$A")
is "verify of a device that is not an image: exit 1" \
	"$rc $(grep -c 'not an image device' /tmp/v15.err)" "1 1"
snapctl detach --force "$A" > /dev/null
tap_done
