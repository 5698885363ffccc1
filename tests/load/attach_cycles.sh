#!/bin/sh
# Attach and detach over and over while several writers hammer the origin
# with small direct writes from both CPUs: the write path must stay sound
# while the module switches between "nothing attached" and "attached" under
# it (each switch once patched code that writers were executing), no write
# may fail, and the module unloads at the end.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

CYCLES=${VS_CYCLES:-$(vs_scaled 40 10)}
FIO=

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	[ -n "$FIO" ] && kill "$FIO" 2>/dev/null
	wait 2>/dev/null
	vs_load
	quiet_detach "$ORIGIN"
}
trap cleanup EXIT

fresh_start
tap_plan 4

fio --name=load --filename="$ORIGIN" --size=64m --rw=randwrite --bs=4k \
	--ioengine=libaio --iodepth=8 --numjobs=4 --direct=1 --time_based \
	--runtime=600 --output=/tmp/fio.out > /dev/null 2>&1 &
FIO=$!
sleep 1

n=0
i=1
while [ $i -le "$CYCLES" ]; do
	snapctl attach "$ORIGIN" --store "$STORE" > /dev/null 2>/tmp/ac.err &&
		snapctl detach "$ORIGIN" > /dev/null 2>>/tmp/ac.err &&
		n=$((n + 1))
	i=$((i + 1))
done
is "$CYCLES attach/detach cycles under write load succeeded" "$n" "$CYCLES"
[ "$n" -ne "$CYCLES" ] && sed 's/^/# /' /tmp/ac.err
check "fio is still running" kill -0 "$FIO"
# Stopped early by SIGINT, fio exits 128 but still reports each job's
# error status.
kill -INT "$FIO"
wait "$FIO"
FIO=
check "fio's four jobs ran without an I/O error" \
	test "$(grep -c 'err= *0:' /tmp/fio.out)" -eq 4
check "rmmod succeeds after the cycles" rmmod volsnap
tap_done
