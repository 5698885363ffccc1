#!/bin/sh
# snapctl create / delete / detach / status / list: output formats, and each
# refusal with its exit code and errno: commands on an unattached origin
# (ENODEV), unknown snapshot id (ENOENT), detach with snapshots (EBUSY,
# --force deletes them), delete of an open image (EBUSY, --force deletes),
# create --frozen without a freeze (EINVAL), the 65th snapshot (EMLINK).
# Snapshot images are read-only block devices that read the instant.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	exec 3<&- 2>/dev/null
	quiet_detach "$ORIGIN"
}
trap cleanup EXIT

fresh_start
tap_plan 30

expect_errno "create on an unattached origin: ENODEV" 1 ENODEV snapctl create "$ORIGIN"
expect_errno "detach of an unattached origin: ENODEV" 1 ENODEV snapctl detach "$ORIGIN"
expect_errno "status of an unattached origin: ENODEV" 1 ENODEV snapctl -J status "$ORIGIN"
expect_errno "delete on an unattached origin: ENODEV" 1 ENODEV snapctl delete "$ORIGIN" 1

$VSDATA fill "$ORIGIN" 0 16M 1
snapctl attach "$ORIGIN" --store "$STORE" > /dev/null
out=$(snapctl create "$ORIGIN" 2>&1)
if echo "$out" | grep -Eq "^snapshot [0-9]+ of $ORIGIN: /dev/volsnap[0-9]+ \\(writes held [0-9.]+ ms\\)$"; then
	ok "create prints 'snapshot ID of ORIGIN: /dev/volsnapN (writes held X ms)'"
else
	not_ok "create prints 'snapshot ID of ORIGIN: /dev/volsnapN (writes held X ms)' (got: $out)"
fi
if snapctl -J create "$ORIGIN" > /tmp/c.json 2>&1 &&
   jq -e --arg o "$ORIGIN" '.origin == $o and (.id | type == "number") and
	(.device | test("^/dev/volsnap[0-9]+$")) and (.hold_ms | type == "number")' \
	/tmp/c.json > /dev/null; then
	ok "create -J prints origin, id, device, hold_ms"
else
	not_ok "create -J prints origin, id, device, hold_ms"
	sed 's/^/# /' /tmp/c.json
fi
id=$(jq -r .id /tmp/c.json 2>/dev/null)
img=$(jq -r .device /tmp/c.json 2>/dev/null)
$VSDATA fill "$ORIGIN" 0 16M 2

if snapctl -J list "$ORIGIN" > /tmp/l.json 2>&1 &&
   jq -e --arg o "$ORIGIN" '.snapshots | length == 2 and
	all(.origin == $o and .state == "valid" and .reason == null and
	    (.device | test("^/dev/volsnap")) and (.chunks | type == "number") and
	    (.created | type == "string"))' /tmp/l.json > /dev/null; then
	ok "list -J shows 2 valid snapshots with their fields"
else
	not_ok "list -J shows 2 valid snapshots with their fields"
	sed 's/^/# /' /tmp/l.json
fi
size=$(blockdev --getsize64 "$ORIGIN")
if snapctl -J status "$ORIGIN" > /tmp/s.json 2>&1 &&
   jq -e --arg o "$ORIGIN" --arg s "$STORE" --argjson size "$size" '
	.origins | length == 1 and (.[0] | .origin == $o and .size == $size and
	.store == $s and .chunk_size == 65536 and .frozen == false and
	.timed_out == false and .nr_snaps == 2 and .store_size > 0 and
	.store_used > 0 and (.fill | type == "number"))' \
	/tmp/s.json > /dev/null; then
	ok "status -J shows the origin's device, size, store, chunk size, use, snapshots"
else
	not_ok "status -J shows the origin's device, size, store, chunk size, use, snapshots"
	sed 's/^/# /' /tmp/s.json
fi

is "the image is read-only (blockdev --getro)" "$(blockdev --getro "$img" 2>&1)" 1
got=$($VSDATA try-write "$img")
case "$got" in
open:EROFS|open:EPERM|open:EACCES|write:EROFS|write:EPERM|write:EACCES)
	ok "writing to the image fails ($got)" ;;
*)	not_ok "writing to the image fails (got $got)" ;;
esac
check "the image reads the instant (gen 1), not the origin (gen 2)" \
	$VSDATA verify "$img" 0 16M 1
check "the origin reads what was written after (gen 2)" \
	$VSDATA verify "$ORIGIN" 0 16M 2

expect_errno "delete of an unknown id: ENOENT" 1 ENOENT snapctl delete "$ORIGIN" 99999
expect_errno "detach with snapshots: EBUSY" 1 EBUSY snapctl detach "$ORIGIN"
is "the snapshots survive the refused detach" \
	"$(snapctl -J list "$ORIGIN" 2>/dev/null | jq '.snapshots | length')" 2
expect_errno "create --frozen without a freeze: EINVAL" 1 EINVAL \
	snapctl create "$ORIGIN" --frozen

exec 3< "$img"
expect_errno "delete of a snapshot whose image is open: EBUSY" 1 EBUSY \
	snapctl delete "$ORIGIN" "$id"
check "delete --force of a snapshot whose image is open" \
	snapctl delete "$ORIGIN" "$id" --force
exec 3<&-
check "its image device is gone" test ! -e "$img"

create_snap "$ORIGIN"
check "delete by image path ($SNAP_DEV)" snapctl delete "$SNAP_DEV"
check "its image device is gone" test ! -e "$SNAP_DEV"
is "one snapshot left" "$(status_field "$ORIGIN" nr_snaps)" 1

# The limit: 64 snapshots per origin (one exists).
n=1
while [ $n -lt 64 ] && snapctl create "$ORIGIN" > /dev/null 2>&1; do
	n=$((n + 1))
done
is "64 snapshots are accepted" "$n" 64
expect_errno "the 65th snapshot: EMLINK" 1 EMLINK snapctl create "$ORIGIN"
ids=$(snapctl -J list "$ORIGIN" | jq -r '.snapshots[].id' | sort -n | uniq | wc -l)
is "64 distinct ids listed" "$ids" 64

expect_fail "create without an origin is a usage error" 2 snapctl create
expect_fail "delete with a non-numeric id is a usage error" 2 \
	snapctl delete "$ORIGIN" notanumber
check "detach --force deletes the snapshots and detaches" \
	snapctl detach "$ORIGIN" --force
left=0
for d in /dev/volsnap[0-9]*; do [ -e "$d" ] && left=$((left + 1)); done
is "no image device is left" "$left" 0
expect_errno "status after detach: ENODEV" 1 ENODEV snapctl -J status "$ORIGIN"
tap_done
