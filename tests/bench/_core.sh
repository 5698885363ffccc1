#!/bin/sh
# The core engine's own figures, in one boot (run: python3 tests/vm/vmtest.py
# -k 6.12 --narrate bench/_core): the freeze window of `snapctl create` on
# an idle and on a busy ext4, and fio 4 KiB random-write IOPS on the origin
# with no snapshot, one snapshot (first writes, then rewrites) and 32
# snapshots (first writes). Interleaved rounds; medians printed at the end.
# shellcheck shell=dash
set -eu
ORIGIN=${VS_DISK_ORIGIN:-/dev/vda}
STORE=${VS_DISK_STORE:-/dev/vdb}
MNT=/mnt/core
ROUNDS=${ROUNDS:-3}
RUNTIME=${RUNTIME:-4}
rmmod volsnap 2>/dev/null || true
insmod /lib/modules/volsnap.ko
mkdir -p "$MNT"

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
iops() {	# iops FILE: fio 4k random writes, direct, QD16, libaio
	fio --name=w --filename="$1" --rw=randwrite --bs=4k --direct=1 \
	    --ioengine=libaio --iodepth=16 --size=256m --runtime="$RUNTIME" \
	    --time_based --output-format=json 2>/dev/null | jq '.jobs[0].write.iops | floor'
}
hold() { snapctl -J create "$ORIGIN" | jq .hold_ms; }

: > /tmp/idle; : > /tmp/busy; : > /tmp/raw; : > /tmp/first1; : > /tmp/re1; : > /tmp/first32
r=1
while [ $r -le "$ROUNDS" ]; do
	# ext4: idle and busy freeze windows
	mkfs.ext4 -q -F "$ORIGIN"
	mount -t ext4 "$ORIGIN" "$MNT"
	snapctl attach "$ORIGIN" --store "$STORE" > /dev/null
	dd if=/dev/urandom of="$MNT/f" bs=1M count=32 2>/dev/null; sync
	hold >> /tmp/idle
	fio --name=b --filename="$MNT/b" --rw=randwrite --bs=4k --ioengine=psync \
	    --size=64m --runtime=4 --time_based > /dev/null 2>&1 &
	sleep 2
	hold >> /tmp/busy
	wait
	umount "$MNT"
	snapctl detach "$ORIGIN" --force > /dev/null

	# raw device: no snapshot / 1 snapshot first+rewrite / 32 snapshots
	snapctl attach "$ORIGIN" --store "$STORE" > /dev/null
	iops "$ORIGIN" >> /tmp/raw
	hold > /dev/null
	iops "$ORIGIN" >> /tmp/first1
	iops "$ORIGIN" >> /tmp/re1
	snapctl detach "$ORIGIN" --force > /dev/null
	snapctl attach "$ORIGIN" --store "$STORE" > /dev/null
	i=0; while [ $i -lt 32 ]; do hold > /dev/null; i=$((i + 1)); done
	iops "$ORIGIN" >> /tmp/first32
	snapctl detach "$ORIGIN" --force > /dev/null
	echo "round $r: idle $(tail -n1 /tmp/idle) ms, busy $(tail -n1 /tmp/busy) ms;" \
	     "IOPS raw $(tail -n1 /tmp/raw) first1 $(tail -n1 /tmp/first1)" \
	     "rewrite1 $(tail -n1 /tmp/re1) first32 $(tail -n1 /tmp/first32)"
	r=$((r + 1))
done
raw=$(median < /tmp/raw)
for f in idle busy; do echo "create freeze window, $f ext4: median $(median < /tmp/$f) ms (all: $(tr '\n' ' ' < /tmp/$f))"; done
for f in raw first1 re1 first32; do
	m=$(median < /tmp/$f)
	echo "fio 4k randwrite QD16 $f: median $m IOPS, $(awk -v a="$m" -v b="$raw" 'BEGIN {printf "%.2f", a / b}') of raw"
done
rmmod volsnap
