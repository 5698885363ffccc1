#!/bin/sh
# The store removed under I/O: a null_blk store is powered off (its disk is
# deleted even while open) while a writer churns the origin and a reader
# holds the snapshot's image open and verifies it. volsnap detaches by
# itself: the image goes away, the reader's open descriptor gets EIO after
# exact passes (no hang, never wrong data), the writer's writes all
# succeed and the origin holds exactly what it wrote, nothing is left
# attached and the module unloads.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh
# shellcheck source=_fault.sh
. ./_fault

FR=../fault/_faultread

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	touch /tmp/fr.stop
	quiet_detach "$ORIGIN"
	nullb_down vsfstore
}
trap cleanup EXIT

tap_plan 10
vs_load
quiet_detach "$ORIGIN"
nullb_down vsfstore
if ! st=$(nullb_up vsfstore 64); then
	for t in 1 2 3 4 5 6 7 8 9 10; do skip "store removed $t" "no null_blk configfs"; done
	tap_done
fi
$VSDATA fill "$ORIGIN" 0 8M 1
check "attach with a null_blk store" \
	snapctl attach "$ORIGIN" --store "$st" --chunk-size 64k
create_snap "$ORIGIN"
img=$SNAP_DEV
check "copies are made" $VSDATA fill "$ORIGIN" 0 1M 2

rm -f /tmp/fr.stop
$FR "$img" 8M 1 /tmp/fr.stop > /tmp/fr.out 2>&1 &
rd=$!
$VSDATA churn "$ORIGIN" 0 8M 10 10 > /tmp/churn.out 2>&1 &
wr=$!
sleep 3
nullb_down vsfstore
if gone_within "$img" 15; then
	ok "store removed: volsnap detached by itself"
else
	not_ok "store removed: volsnap detached by itself"
fi
if wait_gone "$rd" 30; then
	ok "the reader ended"
else
	not_ok "the reader ended (still blocked 30 s after the removal)"
	touch /tmp/fr.stop
fi
wait "$rd"
rr=$?
diag "reader: $(cat /tmp/fr.out)"
check "its open image gave exact data, then EIO" \
	sh -c "[ $rr = 0 ] && grep -Eq '^[1-9][0-9]* exact passes, then EIO$' /tmp/fr.out"
wait_gone "$wr" 60
wait "$wr"
rw=$?
sed 's/^/# /' /tmp/churn.out
check "every write succeeded and the origin holds exactly what was written" \
	test "$rw" = 0
check "no snapshot is left" no_snapshots
expect_fail "the origin is no longer attached" 1 snapctl status "$ORIGIN"
wipe "$STORE"
check "the origin attaches again with another store" \
	sh -c "snapctl attach $ORIGIN --store $STORE && snapctl detach $ORIGIN"
check "the module unloads" rmmod volsnap
tap_done
