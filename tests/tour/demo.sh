#!/bin/sh
# The volsnap tour: what a newcomer sees in `tests/demo`. Also run by the
# suite, so every step must succeed (set -e) and end clean.
# shellcheck shell=dash
set -eu
ORIGIN=${VS_DISK_ORIGIN:-/dev/vda}
STORE=${VS_DISK_STORE:-/dev/vdb}
MNT=/mnt/origin
IMG=/mnt/snapshot
# fio's files: smaller under the debug profile (KASAN, lockdep), where
# fio lays out its file several times slower.
FIO_SIZE=64m
if [ "${VS_PROFILE:-full}" = debug ]; then
	FIO_SIZE=16m
fi

say() { printf '\n==> %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

cleanup() {
	umount "$IMG" 2>/dev/null || true
	umount "$MNT" 2>/dev/null || true
	snapctl detach "$ORIGIN" --force > /dev/null 2>&1 || true
	rmmod volsnap 2>/dev/null || true
}
trap cleanup EXIT

fio_iops() {	# fio_iops NAME FILE SECONDS - 4k random writes, direct
	fio --name="$1" --filename="$2" --rw=randwrite --bs=4k --direct=1 \
	    --ioengine=psync --size="$FIO_SIZE" --runtime="$3" --time_based \
	    --output-format=json 2>/dev/null | jq '.jobs[0].write.iops | floor'
}

say "Load the module; snapctl talks to it through /dev/volsnap-ctl"
rmmod volsnap 2>/dev/null || true	# in the test suite, a test before may have loaded it
run insmod /lib/modules/volsnap.ko
run snapctl version

say "An ext4 filesystem on $ORIGIN with some files"
mkfs.ext4 -q -F "$ORIGIN"
mkdir -p "$MNT" "$IMG"
run mount -t ext4 "$ORIGIN" "$MNT"
mkdir "$MNT/docs"
echo "the quarterly report, version 1" > "$MNT/docs/report.txt"
echo "remember the milk" > "$MNT/docs/todo.txt"
dd if=/dev/urandom of="$MNT/data.bin" bs=1M count=8 2>/dev/null
sum_before=$(sha256sum "$MNT/data.bin" | cut -d' ' -f1)
sync
run ls -l "$MNT/docs"

say "Attach it, live and mounted: the store is another disk, $STORE"
run snapctl attach "$ORIGIN" --store "$STORE"

say "Baseline: fio 4k random writes on the origin, no snapshot"
base=$(fio_iops baseline "$MNT/fio.dat" 5)
echo "$base IOPS"

say "fio keeps writing while snapctl create takes a snapshot"
fio --name=busy --filename="$MNT/fio.dat" --rw=randwrite --bs=4k --direct=1 \
    --ioengine=psync --size="$FIO_SIZE" --runtime=6 --time_based > /dev/null 2>&1 &
fio_pid=$!
sleep 2
run snapctl create "$ORIGIN"
wait $fio_pid

say "Change the origin: edit one file, delete another, overwrite the data"
echo "the quarterly report, version 2 (after the snapshot)" > "$MNT/docs/report.txt"
rm "$MNT/docs/todo.txt"
dd if=/dev/urandom of="$MNT/data.bin" bs=1M count=8 conv=notrunc 2>/dev/null
sync
run cat "$MNT/docs/report.txt"
run ls "$MNT/docs"

say "Mount the snapshot read-only: the files as they were"
dev=$(snapctl -J list "$ORIGIN" | jq -r '.snapshots[0].device')
run mount -t ext4 -o ro,noload "$dev" "$IMG"
run cat "$IMG/docs/report.txt"
run cat "$IMG/docs/todo.txt"
sum_snap=$(sha256sum "$IMG/data.bin" | cut -d' ' -f1)
if [ "$sum_snap" = "$sum_before" ]; then
	echo "data.bin in the snapshot: same sha256 as before the snapshot"
else
	echo "data.bin in the snapshot differs from before the snapshot" >&2
	exit 1
fi
run umount "$IMG"
run e2fsck -fn "$dev"

say "What volsnap tracks"
run snapctl list
run snapctl status "$ORIGIN"

say "fio 4k random writes with the snapshot: first writes, then rewrites"
first=$(fio_iops first "$MNT/fio2.dat" 5)
again=$(fio_iops again "$MNT/fio2.dat" 5)
echo "no snapshot: $base IOPS; with a snapshot, first writes: $first IOPS; rewrites: $again IOPS"

say "Delete the snapshot and detach: no data is copied"
run snapctl delete "$dev"
run umount "$MNT"
run snapctl detach "$ORIGIN"
run rmmod volsnap
echo
echo "Done."
