#!/bin/sh
# Attach, snapshot and detach --force again and again while the origin is
# under write load (fio, and _vsdata churn whose data is checked after):
# every cycle succeeds, the origin loses no write, a forced detach also
# deletes a snapshot whose image is open and being read (like delete
# --force), and the module unloads at the end.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

CHURN=
FIO=
READER=

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	rm -f /tmp/rd.run
	exec 3<&- 2>/dev/null
	for p in $CHURN $FIO $READER; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	vs_load
	quiet_detach "$ORIGIN"
}
trap cleanup EXIT

fresh_start
tap_plan 12

$VSDATA churn "$ORIGIN" 0 32M 20 1 > /tmp/churn.out 2>&1 &
CHURN=$!
fio --name=load --filename="$ORIGIN" --offset=128m --size=32m \
	--rw=randwrite --bsrange=4k-256k --ioengine=libaio --iodepth=16 \
	--direct=1 --time_based --runtime=20 --output=/tmp/fio.out > /dev/null 2>&1 &
FIO=$!
sleep 1

i=1
while [ $i -le 5 ]; do
	check "cycle $i: attach, two snapshots, detach --force under load" sh -c "
		snapctl attach $ORIGIN --store $STORE && snapctl create $ORIGIN &&
		sleep 0.5 && snapctl create $ORIGIN && sleep 0.5 &&
		snapctl detach $ORIGIN --force"
	i=$((i + 1))
done

snapctl attach "$ORIGIN" --store "$STORE" > /dev/null 2>&1
create_snap "$ORIGIN"
exec 3< "$SNAP_DEV"
touch /tmp/rd.run
(while [ -e /tmp/rd.run ]; do dd if="$SNAP_DEV" of=/dev/null bs=1M 2>/dev/null; done) &
READER=$!
sleep 1
check "detach --force while an image is open and being read" \
	snapctl detach "$ORIGIN" --force
rm -f /tmp/rd.run
wait "$READER"
READER=
exec 3<&-
check "its image device is gone" test ! -e "$SNAP_DEV"
quiet_detach "$ORIGIN"
check "attach and detach while still under load" sh -c "
	snapctl attach $ORIGIN --store $STORE && snapctl detach $ORIGIN"

wait "$CHURN"
rc=$?
CHURN=
sed 's/^/# /' /tmp/churn.out
is "the origin holds exactly what churn wrote" "$rc" 0
wait "$FIO"
rc=$?
FIO=
is "fio ran without an I/O error" "$rc" 0
check "no image device is left" sh -c '! ls /dev/volsnap[0-9]* 2>/dev/null'
check "rmmod succeeds after the detaches" rmmod volsnap
tap_done
