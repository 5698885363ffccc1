#!/bin/sh
# Shared by tests/stack/*: an origin partition on the first scratch disk,
# a snapshot of it, and the check that the snapshot's image did not move.
# Source after common.sh and snap.sh.
# shellcheck shell=dash

# The origin: 1..65 MiB of the first scratch disk; a second partition
# 65..97 MiB after it, so that the origin has neighbours on both sides.
SP1=${SCRATCH1}1
SP2=${SCRATCH1}2
SP1_START=2048		# sectors
SP1_SECTORS=131072

# stack_partition - partition the first scratch disk as above.
stack_partition() {
	wipe "$SCRATCH1"
	printf 'label: dos\nstart=%d, size=%d\nstart=%d, size=65536\n' \
		$SP1_START $SP1_SECTORS $((SP1_START + SP1_SECTORS)) |
		sfdisk -q "$SCRATCH1" > /dev/null 2>&1
	blockdev --rereadpt "$SCRATCH1" 2>/dev/null
	_i=0
	while [ ! -b "$SP2" ] && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ -b "$SP1" ] && [ -b "$SP2" ]
}

# stack_unpartition - wipe the partition table again.
stack_unpartition() {
	wipe "$SCRATCH1"
	blockdev --rereadpt "$SCRATCH1" 2>/dev/null
}

# stack_fill DEV - stamp DEV with a pattern (not zeroes, not random), so a
# stale sector differs from a fresh random one.
stack_fill() {
	yes volsnap-old-data | dd of="$1" bs=1M iflag=fullblock oflag=direct \
		2>/dev/null
	return 0
}

# stack_snap DEV - snapshot DEV and save its image to /tmp/ref.img (read
# with O_DIRECT: the image's page cache must not answer later reads).
stack_snap() {
	create_snap "$1" || return 1
	dd if="$SNAP_DEV" of=/tmp/ref.img bs=1M iflag=direct 2>/dev/null
}

# stack_image_unchanged - the image still reads exactly /tmp/ref.img.
stack_image_unchanged() {
	echo 3 > /proc/sys/vm/drop_caches
	dd if="$SNAP_DEV" of=/tmp/now.img bs=1M iflag=direct 2>/dev/null &&
		cmp /tmp/ref.img /tmp/now.img
	_rc=$?
	rm -f /tmp/now.img
	return $_rc
}

# stack_random FILE KIB - KIB KiB of random data in FILE.
stack_random() {
	dd if=/dev/urandom of="$1" bs=1K count="$2" 2>/dev/null
}

# stack_has DEV OFFSET_KIB FILE - DEV holds FILE at OFFSET_KIB (O_DIRECT).
stack_has() {
	_kib=$(($(wc -c < "$3") / 1024))
	dd if="$1" of=/tmp/has.bin bs=1K skip="$2" count="$_kib" iflag=direct \
		2>/dev/null && cmp "$3" /tmp/has.bin
	_rc=$?
	rm -f /tmp/has.bin
	return $_rc
}
