#!/bin/sh
# Load and unload the module, and attach, snapshot and detach, while other
# tasks do I/O: every load and unload patches submit_bio_noacct() under
# tasks running it, and every unload must wait for each task the hook
# redirected until it has left the module's text.
#
#  1. insmod/rmmod cycles while fio reads and writes another disk;
#  2. attach/create/read the image/delete/detach cycles under writes;
#  3. unloads while a reader is in the hook with debug_hook_delay_ms set:
#     it sleeps in the locked section (as a task waiting for a tag in the
#     real submit_bio_noacct() does), then spins after the unlock; an
#     unload that does not wait for the spin frees the text the reader
#     returns to, and the guest oopses.
#
# fio must see no error, the cycles must all succeed, and the kernel log
# stays clean (the runner scans it).
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

# The debug kernel (KASAN) runs a cycle several times slower.
LOADS=${VS_CYCLES:-$(vs_scaled 30 10)}
SNAPS=${VS_CYCLES:-$(vs_scaled 5 3)}
DELAYED=2
FIO=
READER=

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	[ -n "$FIO" ] && kill "$FIO" 2>/dev/null
	[ -n "$READER" ] && kill "$READER" 2>/dev/null
	wait 2>/dev/null
	vs_load
	echo 0 > "$PARAMS/debug_hook_delay_ms" 2>/dev/null
	quiet_detach "$ORIGIN"
}
trap cleanup EXIT

# start_fio DISK RW DEPTH OUT - fio in the background on DISK; sets FIO.
start_fio() {
	fio --name=io --filename="$1" --size=128m --rw="$2" --bs=4k \
		--ioengine=libaio --iodepth="$3" --numjobs=2 --direct=1 \
		--time_based --runtime=600 --output="$4" > /dev/null 2>&1 &
	FIO=$!
	sleep 1
}

# stop_fio DESC OUT - fio ran until now and its two jobs saw no error.
stop_fio() {
	check "fio is still running" kill -0 "$FIO"
	# Stopped early by SIGINT, fio exits 128 but still reports each job's
	# error status.
	kill -INT "$FIO"
	wait "$FIO"
	FIO=
	check "$1" test "$(grep -c 'err= *0:' "$2")" -eq 2
}

vs_unload
tap_plan 9

# 1. Loads and unloads with random reads and writes on another disk.
start_fio "$SCRATCH1" randrw 16 /tmp/fio1.out
n=0
i=1
while [ $i -le "$LOADS" ]; do
	insmod "$VS_KO" 2>/tmp/mc.err && rmmod volsnap 2>>/tmp/mc.err &&
		n=$((n + 1))
	i=$((i + 1))
done
diag "part 1: $(cut -d' ' -f1 /proc/uptime)s uptime"
is "$LOADS insmod/rmmod cycles under random I/O on $SCRATCH1" "$n" "$LOADS"
[ "$n" -ne "$LOADS" ] && sed 's/^/# /' /tmp/mc.err
stop_fio "fio on $SCRATCH1 saw no I/O error" /tmp/fio1.out

# 2. Attach, snapshot, read the image, delete, detach, under writes.
fresh_start
start_fio "$ORIGIN" randwrite 4 /tmp/fio2.out
n=0
i=1
while [ $i -le "$SNAPS" ]; do
	if snapctl attach "$ORIGIN" --store "$STORE" > /dev/null 2>/tmp/mc.err &&
	   create_snap "$ORIGIN" 2>>/tmp/mc.err &&
	   dd if="$SNAP_DEV" of=/dev/null bs=1M count=4 2>>/tmp/mc.err &&
	   snapctl delete "$ORIGIN" "$SNAP_ID" > /dev/null 2>>/tmp/mc.err &&
	   snapctl detach "$ORIGIN" > /dev/null 2>>/tmp/mc.err; then
		n=$((n + 1))
	else
		quiet_detach "$ORIGIN"
	fi
	i=$((i + 1))
done
diag "part 2: $(cut -d' ' -f1 /proc/uptime)s uptime"
is "$SNAPS attach/create/read/delete/detach cycles under writes" "$n" "$SNAPS"
[ "$n" -ne "$SNAPS" ] && sed 's/^/# /' /tmp/mc.err
stop_fio "fio on $ORIGIN saw no I/O error" /tmp/fio2.out
check "rmmod after the snapshot cycles" rmmod volsnap

# 3. Unloads while a reader sleeps in the hook: each of its bios sleeps
# 4 s there, longer than the unload's RCU-tasks grace periods, then spins
# 200 ms after leaving the locked section.
n=0
i=1
while [ $i -le $DELAYED ]; do
	insmod "$VS_KO" debug_hook_delay_ms=4000 2>/tmp/mc.err || break
	while dd if="$SCRATCH2" of=/dev/null bs=4k count=1 iflag=direct \
		2>/dev/null; do
		:
	done &
	READER=$!
	sleep 1
	rmmod volsnap 2>>/tmp/mc.err && n=$((n + 1))
	kill "$READER"
	wait "$READER" 2>/dev/null
	READER=
	i=$((i + 1))
done
diag "part 3: $(cut -d' ' -f1 /proc/uptime)s uptime"
is "$DELAYED unloads while a reader sleeps in the hook" "$n" "$DELAYED"
[ "$n" -ne "$DELAYED" ] && sed 's/^/# /' /tmp/mc.err
check "dd reads $SCRATCH2 after the unloads" \
	dd if="$SCRATCH2" of=/dev/null bs=4k count=1 iflag=direct
tap_done
