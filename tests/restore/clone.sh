#!/bin/sh
# snapctl clone IMAGE TARGET: an independent full copy of a snapshot.
#  - Onto a block device full of other data, and into a file: each equals
#    the image, not the origin written since; the file is sparse where the
#    image reads zeros, and a file that existed is emptied first.
#  - Refused with exit status 1 and a message: a block device smaller than
#    the image, a mounted one, the origin, a device mapped onto the origin,
#    the store, the image itself, another image, the file under the loop
#    origin.
#  - --incremental FROM: the clone of snapshot A brought up to snapshot B
#    by writing the extents written between them (within a chunk of each
#    region), equal to B and to a full clone of B; an origin grown between
#    the snapshots grows a file clone; more extents than one
#    VOLSNAP_IOC_DIFF call returns.
# The origin is a loop device over a 64 MiB file, so that it can grow.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

IMG=/tmp/clone-origin.img
FA=/tmp/clone-a.img
FB=/tmp/clone-b.img
MNT=/tmp/clone-mnt
M=1048576
SIZE=$((64 * M))
CHUNK=65536
LOOP=
dm=

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	umount "$MNT" 2> /dev/null
	dmsetup remove vs-clone-small 2> /dev/null
	dmsetup remove vs-clone-over 2> /dev/null
	[ -n "$LOOP" ] && quiet_detach "$LOOP"
	[ -n "$LOOP" ] && losetup -d "$LOOP" 2> /dev/null
	rm -f "$IMG" "$FA" "$FB"
	wipe "$SCRATCH1"
	wipe "$SCRATCH2"
}
trap cleanup EXIT

# same A B [BYTES] - the first BYTES (the size of A) of A and B are equal;
# else prints where they first differ.
same() {
	_n=${3:-$(blockdev --getsize64 "$1" 2> /dev/null || stat -c %s "$1")}
	cmp -s -n "$_n" "$1" "$2" && return 0
	cmp -n "$_n" "$1" "$2" 2>&1 | head -n 1
	return 1
}

# differs A B BYTES - they are not.
differs() {
	! cmp -s -n "$3" "$1" "$2"
}

# refused DESCRIPTION ERRNO PATTERN TARGET - clone IMAGE onto TARGET exits
# 1 naming ERRNO, the message matches PATTERN; two TAP points.
refused() {
	expect_errno "$1: exit 1, $2" 1 "$2" snapctl clone "$imga" "$4"
	if grep -Eq "$3" /tmp/ee.err; then
		ok "$1: the message says why"
	else
		not_ok "$1: the message says why (/$3/)"
		sed 's/^/# /' /tmp/ee.err
	fi
}

fresh_start
wipe "$SCRATCH2"
tap_plan 48

truncate -s "$SIZE" "$IMG"
LOOP=$(losetup -f)
losetup "$LOOP" "$IMG" || { diag "losetup failed"; exit 1; }
# Data in a few places, zeros elsewhere.
$VSDATA fill "$LOOP" 0 1M 1
$VSDATA fill "$LOOP" 20M 1M 2
$VSDATA fill "$LOOP" 40M 64K 3
snapctl attach "$LOOP" --store "$STORE" --chunk-size 64K > /dev/null
create_snap "$LOOP"
imga=$SNAP_DEV
# The origin moves on: the clones must show the image, not this.
$VSDATA fill "$LOOP" 0 1M 11
$VSDATA fill "$LOOP" 30M 1M 12
differs "$imga" "$LOOP" "$SIZE" || diag "the origin still equals snapshot A"

# A block device full of other data: the zeros must be written.
dd if=/dev/urandom of="$SCRATCH1" bs=1M count=72 conv=fsync status=none
if snapctl clone "$imga" "$SCRATCH1" > /tmp/clone.out 2> /tmp/clone.err; then
	ok "clone onto a block device"
else
	not_ok "clone onto a block device"
	sed 's/^/# /' /tmp/clone.err
fi
check "the block device clone equals the image" same "$imga" "$SCRATCH1"
check "and not the origin, written since" differs "$SCRATCH1" "$LOOP" "$SIZE"
check "the text output says cloned and verified" \
	grep -q "^cloned $imga to $SCRATCH1: 64 MiB, 64 MiB written in .*, verified\$" /tmp/clone.out
is "nothing on standard error when it is not a terminal (no progress)" \
	"$(cat /tmp/clone.err)" ""

# A file that exists, with data where the image has zeros.
dd if=/dev/urandom of="$FA" bs=1M count=2 seek=50 status=none
if snapctl -J clone "$imga" "$FA" > /tmp/clone.json 2> /tmp/clone.err; then
	ok "clone into a file that exists (-J)"
else
	not_ok "clone into a file that exists (-J)"
	sed 's/^/# /' /tmp/clone.err
fi
is "the file has the image's size" "$(stat -c %s "$FA")" "$SIZE"
check "the file clone equals the image" same "$imga" "$FA"
alloc=$(($(stat -c '%b * %B' "$FA")))
if [ "$alloc" -ge $((2 * M + 65536)) ] && [ "$alloc" -lt $((3 * M)) ]; then
	ok "the file is sparse: $alloc bytes allocated for 2 MiB + 64 KiB of data"
else
	not_ok "the file is sparse: $alloc bytes allocated for 2 MiB + 64 KiB of data"
fi
is "JSON: image, target, from, bytes, bytes_written, extents, seconds, verified" \
	"$(jq -c '[.image, .target, .from, .bytes, .bytes_written, .extents,
		(.seconds | type), .verified]' /tmp/clone.json)" \
	"[\"$imga\",\"$FA\",null,$SIZE,$((2 * M + 65536)),null,\"number\",true]"
if snapctl -J clone "$imga" "$FB" --no-verify > /tmp/clone.json 2> /tmp/clone.err &&
   jq -e '.verified == false' /tmp/clone.json > /dev/null && same "$imga" "$FB"; then
	ok "--no-verify: a new file, equal to the image, reported not verified"
else
	not_ok "--no-verify: a new file, equal to the image, reported not verified"
	sed 's/^/# /' /tmp/clone.err /tmp/clone.json
fi
rm -f "$FB"

# Refusals.
dm=$(dm_create vs-clone-small "0 $((32 * 2048)) linear $SCRATCH2 0")
refused "a target smaller than the image" ENOSPC "smaller .* than the image" "$dm"
dmsetup remove vs-clone-small
mkdir -p "$MNT"
mkfs.ext4 -q -F "$SCRATCH2" 72M
mount -t ext4 "$SCRATCH2" "$MNT"
refused "a mounted target" EBUSY "mounted on $MNT" "$SCRATCH2"
umount "$MNT"
check "the filesystem of the refused target is intact" e2fsck -fn "$SCRATCH2"
refused "the origin" EINVAL "origin" "$LOOP"
dm=$(dm_create vs-clone-over "0 $((8 * 2048)) linear $LOOP 0")
refused "a device mapped onto the origin" EINVAL "origin" "$dm"
dmsetup remove vs-clone-over
refused "the store" "EINVAL|EBUSY" "store|in use" "$STORE"
refused "the image itself" EINVAL "image itself" "$imga"
refused "the file of the loop origin" EINVAL "loop device over it" "$IMG"
create_snap "$LOOP"
imgb=$SNAP_DEV
refused "another image" EROFS "snapshot image" "$imgb"
check "the origin, refused, still holds its data" $VSDATA verify "$LOOP" 0 1M 11

# Incremental. Written since A: 1 MiB at 0 and at 30 MiB (above); now 4 KiB
# inside one chunk, 256 KiB on chunk boundaries, a MiB up to the end.
snapctl delete "$imgb" > /dev/null
$VSDATA fill "$LOOP" $((5 * M + 100 * 1024)) 4K 13
$VSDATA fill "$LOOP" 16M 256K 14
$VSDATA fill "$LOOP" 63M 1M 15
written=$((M + M + 4096 + 256 * 1024 + M))
create_snap "$LOOP"
imgb=$SNAP_DEV
if snapctl -J clone --incremental "$imga" "$imgb" "$SCRATCH1" > /tmp/clone.json 2> /tmp/clone.err; then
	ok "clone --incremental A B onto the block device clone of A"
else
	not_ok "clone --incremental A B onto the block device clone of A"
	sed 's/^/# /' /tmp/clone.err
fi
check "the updated clone equals B" same "$imgb" "$SCRATCH1"
check "and not A" differs "$imga" "$SCRATCH1" "$SIZE"
w=$(jq -r .bytes_written /tmp/clone.json)
if [ "$w" -ge "$written" ] 2> /dev/null && [ "$w" -le $((written + 5 * CHUNK)) ]; then
	ok "it wrote $w bytes for $written written in 5 regions (at most a chunk more each)"
else
	not_ok "it wrote '$w' bytes for $written written in 5 regions (at most a chunk more each)"
	sed 's/^/# /' /tmp/clone.json
fi
is "JSON: image B, from A, 5 extents, verified" \
	"$(jq -c '[.image, .from, .bytes, .extents, .verified]' /tmp/clone.json)" \
	"[\"$imgb\",\"$imga\",$SIZE,5,true]"
check "a full clone of B into a file" snapctl clone "$imgb" "$FB"
check "equals the incremental one" same "$FB" "$SCRATCH1" "$SIZE"
if snapctl clone -i "$imga" "$imgb" "$FA" > /tmp/clone.out 2> /tmp/clone.err; then
	ok "clone -i A B onto the file clone of A"
else
	not_ok "clone -i A B onto the file clone of A"
	sed 's/^/# /' /tmp/clone.err
fi
check "the file equals B" same "$imgb" "$FA"
check "the text output names the extents" \
	grep -q "^updated $FA from $imga to $imgb: 5 extents, .* written in .*, verified\$" /tmp/clone.out
expect_errno "FROM newer than IMAGE is refused" 1 EINVAL snapctl clone -i "$imgb" "$imga" "$FA"

# The origin grows by 16 MiB and 4 KiB; C has the new size.
truncate -s $((SIZE + 16 * M + 4096)) "$IMG"
losetup -c "$LOOP"
$VSDATA fill "$LOOP" 70M 1M 16
create_snap "$LOOP"
imgc=$SNAP_DEV
if snapctl -J clone -i "$imgb" "$imgc" "$FA" > /tmp/clone.json 2> /tmp/clone.err; then
	ok "clone -i B C, C larger than B, onto the file"
else
	not_ok "clone -i B C, C larger than B, onto the file"
	sed 's/^/# /' /tmp/clone.err
fi
is "the file grew to C's size" "$(stat -c %s "$FA")" $((SIZE + 16 * M + 4096))
check "and equals C" same "$imgc" "$FA"
dm=$(dm_create vs-clone-small "0 $((SIZE / 512)) linear $SCRATCH2 0")
expect_errno "a block device of B's size is too small for C" 1 ENOSPC \
	snapctl clone -i "$imgb" "$imgc" "$dm" --no-verify
dmsetup remove vs-clone-small

# More extents than one VOLSNAP_IOC_DIFF call returns (4096): 4 KiB chunks,
# every other one written over the first 64 MiB. conv=sparse seeks over
# the zero blocks of the pattern instead of writing them.
quiet_detach "$LOOP"
wipe "$STORE"
snapctl attach "$LOOP" --store "$STORE" --chunk-size 4K > /dev/null
create_snap "$LOOP"
imga=$SNAP_DEV
rm -f "$FA" "$FB"
check "a full clone of A into a file (4 KiB chunks)" snapctl clone "$imga" "$FA"
head -c 4096 /dev/urandom > "$FB"
head -c 4096 /dev/zero >> "$FB"
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13; do
	cat "$FB" "$FB" > "$FB.2" && mv "$FB.2" "$FB"
done
dd if="$FB" of="$LOOP" bs=4K conv=sparse,notrunc oflag=direct status=none
rm -f "$FB"
create_snap "$LOOP"
imgb=$SNAP_DEV
if snapctl -J clone -i "$imga" "$imgb" "$FA" > /tmp/clone.json 2> /tmp/clone.err; then
	ok "clone -i over 8192 extents of one chunk (several DIFF calls)"
else
	not_ok "clone -i over 8192 extents of one chunk (several DIFF calls)"
	sed 's/^/# /' /tmp/clone.err
fi
is "8192 extents, 32 MiB written" \
	"$(jq -c '[.extents, .bytes_written]' /tmp/clone.json)" "[8192,$((32 * M))]"
check "the file equals B" same "$imgb" "$FA"
tap_done
