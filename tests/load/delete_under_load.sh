#!/bin/sh
# Create and delete snapshots while the origin is under write load and
# images are being read: deleting the oldest, a middle one, the newest, and
# (with --force) one whose image is being read all work, the survivors keep
# their instants, a new snapshot is exact, and the origin loses no write.
#
# [0, 32M) takes _vsdata churn (checked at the end), [128M, 160M) fio;
# before snapshot k the script stamps [256M, 256M + FILL) with generation
# k, and the readers read that region of their images over and over.
# (Small regions: seven snapshot intervals of copies must fit the store.)
# The debug profile stamps 4 MiB instead of 16 and loads for 10 s, not 25.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

CHURN=
FIO=
R2=
R5=

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	rm -f /tmp/rd2.run /tmp/rd5.run
	exec 3<&- 2>/dev/null
	for p in $CHURN $FIO $R2 $R5; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	quiet_detach "$ORIGIN"
}
trap cleanup EXIT

FILL=$(vs_scaled 16 4)
LOAD_S=$(vs_scaled 25 10)

# reader IMAGE FLAG - read IMAGE's stamped region in a loop while FLAG exists.
reader() {
	while [ -e "$2" ]; do
		dd if="$1" of=/dev/null bs=1M skip=256 count="$FILL" 2>/dev/null
	done
}

fresh_start
tap_plan 17

$VSDATA churn "$ORIGIN" 0 32M "$LOAD_S" 1 > /tmp/churn.out 2>&1 &
CHURN=$!
fio --name=load --filename="$ORIGIN" --offset=128m --size=32m \
	--rw=randwrite --bsrange=4k-256k --ioengine=libaio --iodepth=16 \
	--direct=1 --time_based --runtime="$LOAD_S" --output=/tmp/fio.out > /dev/null 2>&1 &
FIO=$!
snapctl attach "$ORIGIN" --store "$STORE" > /dev/null
k=1
made=0
while [ $k -le 6 ]; do
	$VSDATA fill "$ORIGIN" 256M "${FILL}M" $k &&
	create_snap "$ORIGIN" &&
	eval "id$k=\$SNAP_ID; dev$k=\$SNAP_DEV" &&
	made=$((made + 1))
	k=$((k + 1))
done
is "6 snapshots created under load" "$made" 6
# shellcheck disable=SC2154  # id1..id6, dev1..dev6 are set by eval
{
touch /tmp/rd2.run /tmp/rd5.run
exec 3< "$dev2"
reader "$dev2" /tmp/rd2.run &
R2=$!
reader "$dev5" /tmp/rd5.run &
R5=$!
sleep 1

check "delete the oldest under load" snapctl delete "$ORIGIN" "$id1"
check "delete a middle one under load" snapctl delete "$ORIGIN" "$id3"
check "delete the newest under load" snapctl delete "$ORIGIN" "$id6"
expect_errno "delete of an image being read: EBUSY" 1 EBUSY \
	snapctl delete "$ORIGIN" "$id2"
check "delete --force of an image being read" \
	snapctl delete "$ORIGIN" "$id2" --force
rm -f /tmp/rd2.run
wait "$R2"
R2=
exec 3<&-
is "two snapshots are left" "$(status_field "$ORIGIN" nr_snaps)" 2
snapctl -J list "$ORIGIN" | jq -c '.snapshots[]' | sed 's/^/# /'
check "snapshot 4 keeps its instant" $VSDATA verify "$dev4" 256M "${FILL}M" 4
check "snapshot 5 (being read) keeps its instant" $VSDATA verify "$dev5" 256M "${FILL}M" 5
$VSDATA fill "$ORIGIN" 256M "${FILL}M" 7
check "after more writes, snapshot 4 keeps its instant" \
	$VSDATA verify "$dev4" 256M "${FILL}M" 4
check "after more writes, snapshot 5 keeps its instant" \
	$VSDATA verify "$dev5" 256M "${FILL}M" 5
check "a new snapshot under load" create_snap "$ORIGIN"
$VSDATA fill "$ORIGIN" 256M "${FILL}M" 8
check "the new snapshot reads its instant" $VSDATA verify "$SNAP_DEV" 256M "${FILL}M" 7
rm -f /tmp/rd5.run
wait "$R5"
R5=
}

wait "$CHURN"
rc=$?
CHURN=
sed 's/^/# /' /tmp/churn.out
is "the origin holds exactly what churn wrote" "$rc" 0
wait "$FIO"
rc=$?
FIO=
is "fio ran without an I/O error" "$rc" 0
check "the origin holds the last stamps" $VSDATA verify "$ORIGIN" 256M "${FILL}M" 8
check "detach --force" snapctl detach "$ORIGIN" --force
tap_done
