#!/bin/sh
# Crash safety of the origin. Run by the runner's crash mode (CRASH), in
# two boots on the same disk files:
#
# load    ext4 on the origin, attached, snapshot 1, then the write load of
#         _crashload (fdatasync, O_DSYNC and fsync+rename writers, each
#         acknowledged operation logged on $SCRATCH1 with O_DSYNC);
#         "@@VS crash-armed" once every writer has an acknowledged
#         operation, then snapshots 2 and 3 under the load. The runner
#         kills QEMU at a random moment after the marker.
# verify  the store (left active by the kill) attaches again; mounting the
#         origin replays ext4's journal; every acknowledged write is there
#         and no write never issued; a snapshot of the recovered
#         filesystem works and its image is clean; the unmounted origin's
#         filesystem passes e2fsck -fn.
#
# Without VS_CRASH_PHASE (a plain boot) it skips.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

MNT=/mnt/vs-crash
LOG=$SCRATCH1
K="kill ${VS_CRASH_CYCLE:-?}"
mkdir -p "$MNT"

# The store's header state word (0 clean, 1 active): see kmod/store.c.
store_state() {
	od -An -tu4 -j20 -N4 "$STORE" | tr -d ' '
}

load() {
	tap_plan 7
	# Kernel warnings to the console: the kill comes before /init's scan
	# of the kernel log, so the runner looks for them there.
	dmesg -n 5
	vs_load
	wipe "$STORE"
	mkfs.ext4 -q -F "$ORIGIN" > /dev/null 2>&1
	check "$K: load: mkfs.ext4 and mount the origin" \
		mount -t ext4 "$ORIGIN" "$MNT"
	# With a write-through cache the block layer drops PREFLUSH and FUA
	# before volsnap sees them.
	check "$K: load: the origin has a write-back cache (flushes reach volsnap)" \
		grep -qx "write back" "/sys/block/${ORIGIN##*/}/queue/write_cache"
	check "$K: load: write the files the load rewrites" \
		./_crashload prepare "$MNT" "$LOG"
	check "$K: load: attach the mounted origin" \
		snapctl attach "$ORIGIN" --store "$STORE"
	check "$K: load: snapshot 1" create_snap "$ORIGIN"
	rm -f /tmp/crash.running
	./_crashload run "$MNT" "$LOG" &
	load=$!
	if ! wait_file_has /tmp/crash.running . 120; then
		not_ok "$K: load: every writer has an acknowledged operation"
		kill "$load"
		tap_done
	fi
	echo "@@VS crash-armed"
	check "$K: load: snapshot 2 under the load" create_snap "$ORIGIN"
	check "$K: load: snapshot 3 under the load" create_snap "$ORIGIN"
	wait "$load"
	not_ok "$K: load: still running when killed (the load ended: exit $?)"
	tap_done
}

verify() {
	tap_plan 9
	is "$K: verify: the store's header is still active (the kill left it attached)" \
		"$(store_state)" 1
	vs_load
	check "$K: verify: the same store attaches again" \
		snapctl attach "$ORIGIN" --store "$STORE"
	check "$K: verify: mount the origin (replays ext4's journal)" \
		mount -t ext4 "$ORIGIN" "$MNT"
	if ./_crashload verify "$MNT" "$LOG" > /tmp/crash.verify 2>&1; then
		ok "$K: verify: every acknowledged write is there, nothing else"
	else
		not_ok "$K: verify: every acknowledged write is there, nothing else"
	fi
	cat /tmp/crash.verify
	check "$K: verify: snapshot of the recovered filesystem" \
		create_snap "$ORIGIN"
	check "$K: verify: its image passes e2fsck -fn" e2fsck -fn "$SNAP_DEV"
	check "$K: verify: unmount the origin" umount "$MNT"
	check "$K: verify: the origin's filesystem passes e2fsck -fn" \
		e2fsck -fn "$ORIGIN"
	check "$K: verify: detach and unload" \
		sh -c "snapctl detach --force '$ORIGIN' && rmmod volsnap"
	tap_done
}

case ${VS_CRASH_PHASE:-} in
load) load ;;
verify) verify ;;
*)
	echo "1..0 # SKIP run by the runner's crash mode (tests/crash/CRASH)"
	exit 4
	;;
esac
