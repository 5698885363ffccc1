#!/bin/sh
# The origin removed under I/O: a null_blk origin is powered off (its disk
# is deleted even while open) while a writer churns it and a reader holds
# the snapshot's image open and verifies it. volsnap detaches by itself:
# the image goes away, the reader's open descriptor gets EIO after exact
# passes (no hang, never wrong data), the writer ends (its writes to the
# vanished disk fail), nothing is left attached, the store is free again
# and the module unloads.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh
# shellcheck source=_fault.sh
. ./_fault

FR=../fault/_faultread

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	touch /tmp/fr.stop
	[ -n "${org:-}" ] && quiet_detach "$org"
	nullb_down vsforigin
}
trap cleanup EXIT

tap_plan 9
vs_load
wipe "$STORE"
nullb_down vsforigin
if ! org=$(nullb_up vsforigin 16); then
	org=
	for t in 1 2 3 4 5 6 7 8 9; do skip "origin removed $t" "no null_blk configfs"; done
	tap_done
fi
$VSDATA fill "$org" 0 8M 1
check "attach a null_blk origin" \
	snapctl attach "$org" --store "$STORE" --chunk-size 64k
create_snap "$org"
img=$SNAP_DEV
check "copies are made" $VSDATA fill "$org" 0 1M 2

rm -f /tmp/fr.stop
$FR "$img" 8M 1 /tmp/fr.stop > /tmp/fr.out 2>&1 &
rd=$!
$VSDATA churn "$org" 0 8M 30 10 > /tmp/churn.out 2>&1 &
wr=$!
sleep 3
nullb_down vsforigin
if gone_within "$img" 15; then
	ok "origin removed: volsnap detached by itself"
else
	not_ok "origin removed: volsnap detached by itself"
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
if wait_gone "$wr" 30; then
	ok "the writer ended"
else
	not_ok "the writer ended (still blocked 30 s after the removal)"
fi
sed 's/^/# /' /tmp/churn.out
check "no snapshot is left" no_snapshots
check "the store is free again" \
	sh -c "snapctl attach $ORIGIN --store $STORE && snapctl detach $ORIGIN"
check "the module unloads" rmmod volsnap
tap_done
