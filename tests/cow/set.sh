#!/bin/sh
# Snapshot sets: `snapctl create A B` takes one snapshot of each origin at
# one instant, all or nothing.
#  - Raw devices under a writer that writes an increasing number to A,
#    then to B, in lock step: the images show A = B or A = B + 1, as any
#    instant of the writer does. A drain delay (debug_drain_delay_ms)
#    holds each member's gate for 300 ms before the next is closed, so
#    snapshots of A and B taken one after the other would show B ahead
#    of A.
#  - The same through two mounted ext4 filesystems (frozen at once), the
#    number replaced by rename so that every instant has one.
#  - delete --set removes every member of one set, and only those.
#  - A member that cannot take a snapshot (not attached, at the snapshot
#    limit, the set's hold limit spent) leaves no new snapshot on any
#    member, names the member, and leaves every origin writable; members
#    stacked on one another are refused (ELOOP).
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

A=$ORIGIN
B=$SCRATCH1
MA=/tmp/set-a
MB=/tmp/set-b
WRITER=
dm=

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	[ -n "$WRITER" ] && kill "$WRITER" 2> /dev/null
	umount "$MA" "$MB" /tmp/set-ia /tmp/set-ib 2> /dev/null
	echo 0 > "$PARAMS/debug_drain_delay_ms" 2> /dev/null
	echo 10000 > "$PARAMS/hold_limit_ms" 2> /dev/null
	echo 64 > "$PARAMS/max_snapshots" 2> /dev/null
	[ -n "$dm" ] && quiet_detach "$dm"
	dmsetup remove vs-set 2> /dev/null
	quiet_detach "$A" "$B"
	# B had a filesystem: blank for the tests that take it as a store.
	wipe "$B"
}
trap cleanup EXIT

# seq_write DEV N - N in the first 512-byte block of DEV, bypassing caches.
seq_write() {
	printf '%-511d\n' "$2" | dd of="$1" bs=512 count=1 oflag=direct \
		conv=notrunc status=none
}

# seq_read DEV - the number in DEV's first block.
seq_read() {
	dd if="$1" bs=512 count=1 iflag=direct status=none | tr -d ' \n\000'
}

# lockstep_ok A B - the two numbers are an instant of the writer.
lockstep_ok() {
	[ -n "$1" ] && [ -n "$2" ] && { [ "$1" -eq "$2" ] || [ "$1" -eq $(($2 + 1)) ]; }
}

fresh_start
wipe "$SCRATCH2"
tap_plan 22

snapctl attach "$A" --store "$STORE" > /dev/null
snapctl attach "$B" --store "$SCRATCH2" > /dev/null
seq_write "$A" 0
seq_write "$B" 0
(
	i=0
	while :; do
		i=$((i + 1))
		seq_write "$A" "$i"
		seq_write "$B" "$i"
	done
) &
WRITER=$!
sleep 1
echo 300 > "$PARAMS/debug_drain_delay_ms"
if snapctl -J create "$A" "$B" > /tmp/set.json 2> /tmp/set.err; then
	ok "create A B: a set of two under a lock-step writer"
else
	not_ok "create A B: a set of two under a lock-step writer"
	sed 's/^/# /' /tmp/set.err
fi
echo 0 > "$PARAMS/debug_drain_delay_ms"
kill "$WRITER"
wait "$WRITER" 2> /dev/null
WRITER=
set_id=$(jq -r .set /tmp/set.json)
ia=$(jq -r '.snapshots[0].device' /tmp/set.json)
ib=$(jq -r '.snapshots[1].device' /tmp/set.json)
a=$(seq_read "$ia")
b=$(seq_read "$ib")
if lockstep_ok "$a" "$b" && [ "$b" -gt 0 ]; then
	ok "the images show one instant of the writer (A $a, B $b)"
else
	not_ok "the images show one instant of the writer (A $a, B $b)"
fi
hold=$(jq -r .hold_ms /tmp/set.json)
diag "hold of the two-device set under load: $hold ms (drain delay 2 x 300 ms)"
if jq -e '(.hold_ms | type == "number") and .hold_ms >= 600 and .hold_ms < 10000' \
	/tmp/set.json > /dev/null; then
	ok "create reports the set's hold ($hold ms)"
else
	not_ok "create reports the set's hold ($hold ms)"
fi
is "both members carry the set id in sysfs" \
	"$(cat "/sys/block/${ia#/dev/}/volsnap/set") $(cat "/sys/block/${ib#/dev/}/volsnap/set")" \
	"$set_id $set_id"
if [ "$set_id" -gt 0 ] 2> /dev/null; then ok "the set id is a number > 0 ($set_id)"; else not_ok "the set id is a number > 0 ($set_id)"; fi
is "list shows the set of both members" \
	"$(snapctl -J list | jq -c --arg a "$ia" --arg b "$ib" \
		'[.snapshots[] | select(.device == $a or .device == $b) | .set]')" \
	"[$set_id,$set_id]"
ida=$(jq -r '.snapshots[0].id' /tmp/set.json)
idb=$(jq -r '.snapshots[1].id' /tmp/set.json)
snapctl delete "$A" "$ida" > /dev/null
snapctl delete "$B" "$idb" > /dev/null

# Two ext4 filesystems, a writer through both.
mkdir -p "$MA" "$MB" /tmp/set-ia /tmp/set-ib
mkfs.ext4 -q -F "$A" 64M
mkfs.ext4 -q -F "$B" 64M
mount -t ext4 "$A" "$MA"
mount -t ext4 "$B" "$MB"
(
	i=0
	while :; do
		i=$((i + 1))
		echo "$i" > "$MA/seq.new" && mv "$MA/seq.new" "$MA/seq"
		echo "$i" > "$MB/seq.new" && mv "$MB/seq.new" "$MB/seq"
	done
) &
WRITER=$!
sleep 1
if snapctl -J create "$A" "$B" > /tmp/set.json 2> /tmp/set.err; then
	ok "create A B of two mounted filesystems under a writer"
else
	not_ok "create A B of two mounted filesystems under a writer"
	sed 's/^/# /' /tmp/set.err
fi
kill "$WRITER"
wait "$WRITER" 2> /dev/null
WRITER=
ia=$(jq -r '.snapshots[0].device' /tmp/set.json)
ib=$(jq -r '.snapshots[1].device' /tmp/set.json)
mount -t ext4 -o ro,noload "$ia" /tmp/set-ia
mount -t ext4 -o ro,noload "$ib" /tmp/set-ib
a=$(cat /tmp/set-ia/seq 2> /dev/null)
b=$(cat /tmp/set-ib/seq 2> /dev/null)
if lockstep_ok "$a" "$b"; then
	ok "the filesystem images show one instant of the writer (A $a, B $b)"
else
	not_ok "the filesystem images show one instant of the writer (A '$a', B '$b')"
fi
umount /tmp/set-ia /tmp/set-ib

# All or nothing.
na=$(snap_count "$A"); nb=$(snap_count "$B")
expect_errno "a member not attached: ENODEV" 1 ENODEV snapctl create "$A" "$SCRATCH2"
if grep -q "$SCRATCH2" /tmp/ee.err; then ok "the error names the member ($SCRATCH2)"; else not_ok "the error names the member"; sed 's/^/# /' /tmp/ee.err; fi
is "no member kept a snapshot" "$(snap_count "$A") $(snap_count "$B")" "$na $nb"

echo "$nb" > "$PARAMS/max_snapshots"
expect_errno "a member at the snapshot limit: EMLINK" 1 EMLINK snapctl create "$A" "$B"
echo 64 > "$PARAMS/max_snapshots"
is "no member kept a snapshot" "$(snap_count "$A") $(snap_count "$B")" "$na $nb"

echo 100 > "$PARAMS/hold_limit_ms"
echo 300 > "$PARAMS/debug_drain_delay_ms"
expect_errno "the set's hold limit spent: ETIMEDOUT" 1 ETIMEDOUT snapctl create "$A" "$B"
echo 0 > "$PARAMS/debug_drain_delay_ms"
echo 10000 > "$PARAMS/hold_limit_ms"
is "no member kept a snapshot" "$(snap_count "$A") $(snap_count "$B")" "$na $nb"
check "both filesystems are writable after the failed set" \
	timeout 10 sh -c "echo x > $MA/after && echo x > $MB/after && sync"
umount "$MA" "$MB"

# delete --set: every member of that set, nothing else.
snapctl -J create "$A" "$B" > /tmp/set.json
del_set=$(jq -r .set /tmp/set.json)
snapctl delete --set "$del_set" > /tmp/set.out 2>&1
is "delete --set: exit 0, one line per member" \
	"$? $(grep -c '^deleted snapshot' /tmp/set.out)" "0 2"
is "delete --set removed that set's snapshots only" \
	"$(snap_count "$A") $(snap_count "$B")" "$na $nb"
snapctl delete --set "$del_set" > /dev/null 2> /tmp/set.err
is "delete --set of a set that is gone: exit 1, says so" \
	"$? $(grep -c "no snapshot set $del_set" /tmp/set.err)" "1 1"

expect_usage_or_errno "one origin twice is refused" EINVAL snapctl create "$A" "$A"

# A member stacked on another would wait for it, frozen or held: refused
# before anything is frozen.
quiet_detach "$B"
wipe "$SCRATCH2"
dm=$(dm_create vs-set "0 65536 linear $A 0")
snapctl attach "$dm" --store "$SCRATCH2" > /dev/null
na=$(snap_count "$A")
expect_errno "a member stacked on another (dm over A): ELOOP" 1 ELOOP snapctl create "$A" "$dm"
is "no snapshot was taken" "$(snap_count "$A") $(snap_count "$dm")" "$na 0"
quiet_detach "$dm"
dmsetup remove vs-set
tap_done
