#!/bin/sh
# snapctl diff: the byte extents that changed between two snapshots, or
# since one (the module's list is checked against a model in diff.c).
#  - Known writes between snapshots A and B and after B: the exact lines
#    and JSON, at 64 KiB chunks.
#  - A write whose copy is still on its way to the store (the store's
#    writes delayed 3 s by dm-delay) has already changed the origin:
#    `diff A now` lists it.
#  - Refusals: not an image, one argument, the newer snapshot first,
#    snapshots of two origins.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

DSTORE=vs-diff-store
SECTORS=

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	quiet_detach "$ORIGIN" "$SCRATCH1"
	dmsetup remove "$DSTORE" 2> /dev/null
	wipe "$STORE"
}
trap cleanup EXIT

# put OFFSET_KIB LEN_KIB - write LEN KiB of fresh data at OFFSET, direct.
put() {
	dd if=/dev/urandom of="$ORIGIN" bs=1K seek="$1" count="$2" \
		oflag=direct conv=notrunc status=none
}

# dm_swap_delay - delay the dm store's writes by 3 s.
# shellcheck disable=SC2317  # called through check()
dm_swap_delay() {
	dmsetup suspend "$DSTORE" && dmsetup reload "$DSTORE" --table \
		"0 $SECTORS delay $STORE 0 0 $STORE 0 3000" &&
		dmsetup resume "$DSTORE"
}

# centisecs - time since boot in 1/100 s.
centisecs() {
	tr -d . < /proc/uptime | cut -d' ' -f1
}

fresh_start
wipe "$SCRATCH2"
tap_plan 11
SECTORS=$(blockdev --getsz "$STORE")
dstore=$(dm_create "$DSTORE" "0 $SECTORS linear $STORE 0")
check "attach with a dm store" snapctl attach "$ORIGIN" --store "$dstore" \
	--chunk-size 64K

create_snap "$ORIGIN" && A=$SNAP_DEV
put 1024 4		# chunk 16
put 10240 100		# chunks 160-161
put 20448 128		# 19.96875 MiB: chunks 319-321
create_snap "$ORIGIN" && B=$SNAP_DEV
put 1028 4		# chunk 16 again
put 40960 64		# chunk 640
diag "A=$A B=$B"

is "diff A B: the chunks written in between, merged" \
	"$(snapctl diff "$A" "$B" | tr '\n' ' ')" \
	"1048576 65536 10485760 131072 20905984 196608 "
is "diff B now: the chunks written since B" \
	"$(snapctl diff "$B" now | tr '\n' ' ')" \
	"1048576 65536 41943040 65536 "
snapctl -J diff "$A" now > /tmp/diff.json
is "diff -J A now: extents, total and sizes" \
	"$(jq -c '[.chunk_size, .changed, .from_size == .to_size,
		  [.extents[] | [.offset, .length]]]' /tmp/diff.json)" \
	"[65536,458752,true,[[1048576,65536],[10485760,131072],[20905984,196608],[41943040,65536]]]"

# The window: a write goes on once its copy is read, before the copy is
# stored and published. With the store's writes delayed, the write returns
# while its copy is still on the way.
check "store writes delayed 3 s (dm-delay)" dm_swap_delay
t0=$(centisecs)
put 81920 4		# chunk 1280
t1=$(centisecs)
out=$(snapctl diff "$B" now | tr '\n' ' ')
diag "the write took $((t1 - t0))0 ms"
if [ $((t1 - t0)) -lt 200 ]; then
	ok "the write returned before its copy was stored"
else
	not_ok "the write took $((t1 - t0))0 ms: the window was not open"
fi
is "diff B now lists a write whose copy is still on its way" "$out" \
	"1048576 65536 41943040 65536 83886080 65536 "
dmsetup suspend "$DSTORE" && dmsetup reload "$DSTORE" \
	--table "0 $SECTORS linear $STORE 0" && dmsetup resume "$DSTORE"

snapctl diff "$ORIGIN" now > /dev/null 2> /tmp/diff.err
is "diff ORIGIN now: usage error (2)" "$?" 2
snapctl diff "$A" > /dev/null 2>&1
is "diff with one argument: usage error (2)" "$?" 2
snapctl diff "$B" "$A" > /dev/null 2> /tmp/diff.err
rc=$?
sed 's/^/# /' /tmp/diff.err
if [ "$rc" = 1 ] && grep -q "older" /tmp/diff.err; then
	ok "diff NEWER OLDER: refused, says to give the older first"
else
	not_ok "diff NEWER OLDER: exit $rc"
fi
snapctl attach "$SCRATCH1" --store "$SCRATCH2" > /dev/null
create_snap "$SCRATCH1" && C=$SNAP_DEV
snapctl diff "$A" "$C" > /dev/null 2> /tmp/diff.err
rc=$?
sed 's/^/# /' /tmp/diff.err
if [ "$rc" = 1 ] && grep -q "different origins" /tmp/diff.err; then
	ok "diff of two origins' snapshots: refused"
else
	not_ok "diff of two origins' snapshots: exit $rc"
fi
tap_done
