#!/bin/sh
# The filesystem scenario shared by tests/fs/*: fs_suite FSTYPE (ext4, xfs).
# Source after common.sh and snap.sh.
#
# A mounted filesystem on the origin: a file tree is written, synced and
# listed with sha256 sums (the manifest), then a snapshot is taken. A
# background writer then overwrites, appends, deletes, creates and renames
# files while fio writes with verification, and a second snapshot is taken
# in the middle of it. The first image, mounted read-only, holds exactly the
# manifest (no file written after the instant, every file's content as it
# was); both images pass a read-only filesystem check; fio's verification
# passes and the origin's filesystem is clean afterwards.
#
# XFS: the freeze that snapshot creation does leaves a dirty (covered) log,
# which xfs_repair -n refuses to ignore, so the image's metadata and log
# (xfs_metadump, which reads only those) are restored to a scratch disk,
# mounted there once to replay the log, then checked with -n.
#
# The filesystem fills the origin's first FS_MIB (300) MiB, not the whole
# disk: the smallest xfs that mkfs.xfs makes, and all that the scenario
# writes. The debug profile writes a third of the files and an eighth of
# fio's data.
# shellcheck shell=dash

FS_MNT=/mnt/vs-origin
FS_IMNT=/mnt/vs-image
FS_MIB=300
FS_FILES=$(vs_scaled 30 10)
FS_FIO_SIZE=$(vs_scaled 32m 4m)

# shellcheck disable=SC2317  # called by the EXIT trap
fs_cleanup() {
	rm -f /tmp/fs.run
	[ -n "${FS_FIO:-}" ] && kill "$FS_FIO" 2>/dev/null
	wait 2>/dev/null
	umount "$FS_IMNT" 2>/dev/null
	umount "$SCRATCH2" 2>/dev/null
	umount "$FS_MNT" 2>/dev/null
	quiet_detach "$ORIGIN"
}

# fs_mount_image DEV - mount a snapshot image read-only at FS_IMNT.
fs_mount_image() {
	case $FS_TYPE in
	ext4) mount -t ext4 -o ro,noload "$1" "$FS_IMNT" ;;
	xfs) mount -t xfs -o ro,norecovery,nouuid "$1" "$FS_IMNT" ;;
	esac
}

# fs_check_image DEV - read-only filesystem check of a snapshot image.
fs_check_image() {
	case $FS_TYPE in
	ext4)
		e2fsck -fn "$1"
		;;
	xfs)
		rm -f /tmp/fs.md
		xfs_db -r -i -p xfs_metadump -c "metadump -a -o /tmp/fs.md" \
			"$1" &&
		xfs_mdrestore /tmp/fs.md "$SCRATCH2" &&
		rm -f /tmp/fs.md &&
		mount -t xfs -o nouuid "$SCRATCH2" "$FS_IMNT" &&
		umount "$FS_IMNT" &&
		xfs_repair -n "$SCRATCH2"
		;;
	esac
}

# fs_check_origin - the unmounted origin's filesystem is clean.
fs_check_origin() {
	case $FS_TYPE in
	ext4) e2fsck -fn "$ORIGIN" ;;
	xfs) xfs_repair -n "$ORIGIN" ;;
	esac
}

fs_populate() {
	_d=0
	while [ $_d -lt 10 ]; do
		mkdir -p "$FS_MNT/tree/d$_d"
		_f=0
		while [ $_f -lt "$FS_FILES" ]; do
			bbdd if=/dev/urandom of="$FS_MNT/tree/d$_d/f$_f" bs=1k \
				count=$(((_d * 30 + _f) * 37 % 400 + 1)) 2>/dev/null
			_f=$((_f + 1))
		done
		_d=$((_d + 1))
	done
}

# fs_manifest DIR OUT - file list (OUT.list) and sha256 sums (OUT.sums).
fs_manifest() {
	(cd "$1" && find tree | sort > "$2.list" &&
	 find tree -type f | sort | xargs sha256sum > "$2.sums")
}

# fs_churn - overwrite, append, delete, create and rename files until
# /tmp/fs.run disappears.
fs_churn() {
	_i=0
	while [ -e /tmp/fs.run ]; do
		_i=$((_i + 1))
		_p="$FS_MNT/tree/d$((_i % 10))"
		_f="$_p/f$((_i * 7 % FS_FILES))"
		case $((_i % 5)) in
		0) bbdd if=/dev/urandom of="$_f" bs=4k count=8 seek=$((_i % 4)) \
			conv=notrunc 2>/dev/null ;;
		1) echo "appended $_i" >> "$_f" 2>/dev/null ;;
		2) rm -f "$_f" ;;
		3) bbdd if=/dev/urandom of="$_p/new$_i" bs=4k count=16 2>/dev/null ;;
		4) mv "$_f" "$_p/renamed$_i" 2>/dev/null ;;
		esac
		[ $((_i % 25)) -eq 0 ] && sync
	done
	echo "$_i" > /tmp/fs.churned
}

fs_suite() {
	FS_TYPE=$1
	trap fs_cleanup EXIT
	vs_load
	quiet_detach "$ORIGIN"
	umount "$FS_MNT" 2>/dev/null
	wipe "$STORE"
	mkdir -p "$FS_MNT" "$FS_IMNT"
	tap_plan 17

	case $FS_TYPE in
	ext4) mkfs.ext4 -q -F "$ORIGIN" ${FS_MIB}M > /dev/null 2>&1 ;;
	xfs) mkfs.xfs -q -f -d size=${FS_MIB}m "$ORIGIN" > /dev/null 2>&1 ;;
	esac
	check "mkfs.$FS_TYPE and mount the origin" mount -t "$FS_TYPE" "$ORIGIN" "$FS_MNT"
	check "attach the mounted origin" snapctl attach "$ORIGIN" --store "$STORE"
	fs_populate
	sync
	fs_manifest "$FS_MNT" /tmp/fs.m1
	check "snapshot 1 of the quiet, synced filesystem" create_snap "$ORIGIN"
	s1=$SNAP_DEV

	# Load: the churn, and fio writing and verifying its own files.
	touch /tmp/fs.run
	fs_churn &
	churn=$!
	mkdir -p "$FS_MNT/fio"
	fio --name=fsload --directory="$FS_MNT/fio" --size="$FS_FIO_SIZE" --bs=4k \
		--rw=randwrite --ioengine=libaio --iodepth=8 --direct=1 \
		--verify=crc32c --do_verify=1 --verify_fatal=1 \
		--output=/tmp/fs.fio > /dev/null 2>&1 &
	FS_FIO=$!
	sleep 2
	check "snapshot 2 while files are being written" create_snap "$ORIGIN"
	s2=$SNAP_DEV
	sleep 2
	rm -f /tmp/fs.run
	wait "$churn"
	check "the background writer made changes ($(cat /tmp/fs.churned) operations)" \
		test "$(cat /tmp/fs.churned)" -gt 10
	wait "$FS_FIO"
	rc=$?
	FS_FIO=
	if [ $rc -eq 0 ]; then
		ok "fio with verify on the origin filesystem passes"
	else
		not_ok "fio with verify on the origin filesystem passes (exit $rc)"
		tail -n 20 /tmp/fs.fio | sed 's/^/# /'
	fi
	sync
	fs_manifest "$FS_MNT" /tmp/fs.now
	check "the origin no longer matches the manifest (the load changed it)" \
		fails cmp -s /tmp/fs.m1.sums /tmp/fs.now.sums

	check "snapshot 1's image mounts read-only" fs_mount_image "$s1"
	fs_manifest "$FS_IMNT" /tmp/fs.img1
	check "snapshot 1 holds exactly the manifest's files and directories" \
		diff /tmp/fs.m1.list /tmp/fs.img1.list
	check "snapshot 1's files hold the manifest's contents" \
		diff /tmp/fs.m1.sums /tmp/fs.img1.sums
	umount "$FS_IMNT"
	check "snapshot 1's image passes a read-only fsck" fs_check_image "$s1"

	check "snapshot 2's image passes a read-only fsck" fs_check_image "$s2"
	check "snapshot 2's image mounts read-only" fs_mount_image "$s2"
	check "every file of snapshot 2 reads back" \
		sh -c "find $FS_IMNT -type f -exec cat {} + > /dev/null"
	umount "$FS_IMNT" 2>/dev/null

	check "unmount the origin" umount "$FS_MNT"
	check "the origin's filesystem is clean" fs_check_origin
	check "detach --force" snapctl detach "$ORIGIN" --force
	tap_done
}
