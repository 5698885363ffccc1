#!/bin/sh
# snapctl attach: accepted chunk sizes, and every refusal with its exit code
# and errno: attached twice (EBUSY), store in use by another origin (EBUSY),
# store held by another holder (EBUSY), store == origin or overlapping it
# (EINVAL), bad chunk size (usage error or EINVAL), store too small
# (ENOSPC), store not a block device, missing device. A store is reusable
# after a clean detach; two partitions of one disk that do not overlap are
# a valid origin/store pair.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

P1=${SCRATCH1}1
P2=${SCRATCH1}2
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	quiet_detach "$ORIGIN" "$SCRATCH1" "$P1" "$P2" "$SCRATCH2"
	dmsetup remove vs-tiny 2>/dev/null
	dmsetup remove vs-hold 2>/dev/null
	wipe "$SCRATCH1"
	blockdev --rereadpt "$SCRATCH1" 2>/dev/null
	rm -f /tmp/vs-store.img
}
trap cleanup EXIT

vs_load
wipe "$STORE"
wipe "$SCRATCH2"
tap_plan 24

out=$(snapctl attach "$ORIGIN" --store "$STORE" 2>&1)
case "$out" in
attached*) ok "attach $ORIGIN --store $STORE prints 'attached ...'" ;;
*) not_ok "attach $ORIGIN --store $STORE prints 'attached ...' (got: $out)" ;;
esac
expect_errno "attach the same origin twice: EBUSY" 1 EBUSY \
	snapctl attach "$ORIGIN" --store "$SCRATCH2"
expect_errno "store already used by another origin: EBUSY" 1 EBUSY \
	snapctl attach "$SCRATCH1" --store "$STORE"
check "detach" snapctl detach "$ORIGIN"
check "the same store attaches again after a clean detach" \
	snapctl attach "$ORIGIN" --store "$STORE"
snapctl detach "$ORIGIN" > /dev/null 2>&1

expect_errno "store is the origin: EINVAL" 1 EINVAL \
	snapctl attach "$ORIGIN" --store "$ORIGIN"

# Two partitions on the first scratch disk: 1..257 MiB and 257..513 MiB.
wipe "$SCRATCH1"
printf 'label: dos\nstart=2048, size=524288\nstart=526336, size=524288\n' |
	sfdisk -q "$SCRATCH1" > /dev/null 2>&1
blockdev --rereadpt "$SCRATCH1" 2>/dev/null
i=0
while [ ! -b "$P2" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if [ -b "$P1" ] && [ -b "$P2" ]; then
	expect_errno "store is the whole disk of the origin partition: EINVAL" 1 EINVAL \
		snapctl attach "$P1" --store "$SCRATCH1"
	# A whole disk with partitions is refused as an origin before the
	# store is looked at: its partitions' writes would bypass it.
	expect_errno "store is a partition of the origin disk: EXDEV" 1 EXDEV \
		snapctl attach "$SCRATCH1" --store "$P2"
	check "two non-overlapping partitions of one disk attach" \
		snapctl attach "$P1" --store "$P2"
	check "and detach" snapctl detach "$P1"
else
	for t in "store is the whole disk of the origin partition" \
		 "store is a partition of the origin disk" \
		 "two non-overlapping partitions of one disk attach" "and detach"; do
		not_ok "$t (could not partition $SCRATCH1)"
	done
fi

for cs in 4096 4k 64K 1M; do
	case $cs in
	4096|4k) bytes=4096 ;;
	64K) bytes=65536 ;;
	1M) bytes=1048576 ;;
	esac
	if snapctl attach "$ORIGIN" --store "$STORE" --chunk-size "$cs" > /tmp/a.out 2>&1 &&
	   [ "$(status_field "$ORIGIN" chunk_size)" = "$bytes" ]; then
		ok "--chunk-size $cs is accepted as $bytes bytes"
	else
		not_ok "--chunk-size $cs is accepted as $bytes bytes (status says $(status_field "$ORIGIN" chunk_size))"
		sed 's/^/# /' /tmp/a.out
	fi
	snapctl detach "$ORIGIN" > /dev/null 2>&1
done
for cs in 2k 1000 6k 2M 12345; do
	expect_usage_or_errno "--chunk-size $cs is refused (usage error or EINVAL)" EINVAL \
		snapctl attach "$ORIGIN" --store "$STORE" --chunk-size "$cs"
	quiet_detach "$ORIGIN"
done

# 8 KiB of store cannot hold a header and one 64 KiB chunk.
tiny=$(dm_create vs-tiny "0 16 linear $STORE 0")
expect_errno "store too small for its header and one chunk: ENOSPC" 1 ENOSPC \
	snapctl attach "$ORIGIN" --store "$tiny"
quiet_detach "$ORIGIN"
dmsetup remove vs-tiny

# A device-mapper table holds the second scratch disk.
dm_create vs-hold "0 2048 linear $SCRATCH2 0" > /dev/null
expect_errno "store held by another user (device-mapper): EBUSY" 1 EBUSY \
	snapctl attach "$ORIGIN" --store "$SCRATCH2"
quiet_detach "$ORIGIN"
dmsetup remove vs-hold

truncate -s 64M /tmp/vs-store.img
expect_usage_or_errno "a store file on /tmp (no block device under it) is refused: EOPNOTSUPP" EOPNOTSUPP \
	snapctl attach "$ORIGIN" --store /tmp/vs-store.img
quiet_detach "$ORIGIN"
expect_errno "a store path that does not exist: ENOENT" 1 ENOENT \
	snapctl attach "$ORIGIN" --store /dev/vs-no-such-disk
expect_fail "attach without --store is a usage error" 2 snapctl attach "$ORIGIN"
tap_done
