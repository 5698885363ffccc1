#!/bin/sh
# Not part of the suite (run it by name): the kernel's own function tracer
# switched on and off for submit_bio_noacct() while fio reads and writes a
# disk, with volsnap never loaded. Each switch patches the call site at the
# start of submit_bio_noacct() under tasks running it, as volsnap's load
# and unload do; this tells a failure of that patching (kernel or
# emulator) apart from one of volsnap's.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

CYCLES=${VS_CYCLES:-30}
T=/sys/kernel/tracing
FIO=

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	[ -n "$FIO" ] && kill "$FIO" 2>/dev/null
	wait 2>/dev/null
	echo nop > "$T/current_tracer" 2>/dev/null
	echo > "$T/set_ftrace_filter" 2>/dev/null
}
trap cleanup EXIT

vs_unload
tap_plan 3
[ -d "$T/options" ] || mount -t tracefs tracefs "$T"
echo submit_bio_noacct > "$T/set_ftrace_filter"
fio --name=io --filename="$SCRATCH1" --size=128m --rw=randrw --bs=4k \
	--ioengine=libaio --iodepth=16 --numjobs=2 --direct=1 \
	--time_based --runtime=600 --output=/tmp/fio.out > /dev/null 2>&1 &
FIO=$!
sleep 1
n=0
i=1
while [ $i -le "$CYCLES" ]; do
	echo function > "$T/current_tracer" &&
		echo nop > "$T/current_tracer" && n=$((n + 1))
	i=$((i + 1))
done
is "$CYCLES function-tracer on/off cycles on submit_bio_noacct" "$n" "$CYCLES"
check "fio is still running" kill -0 "$FIO"
kill -INT "$FIO"
wait "$FIO"
FIO=
check "fio saw no I/O error" test "$(grep -c 'err= *0:' /tmp/fio.out)" -eq 2
tap_done
