#!/bin/sh
# snapctl monitor and the store fill threshold, driven through snapctl:
# attach --threshold and status -o +THRESHOLD agree; `snapctl monitor
# --json` prints the threshold event once, within a second of the write
# that reached the threshold (by `snapctl status`'s use) and not before,
# then the store-full invalidation naming the snapshot; it exits 0 on
# SIGINT and SIGTERM. `snapctl monitor --count 1` prints a hold-limit
# expiry as text and exits by itself; `snapctl set` changes the threshold
# and refuses bad input.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

tap_plan 21

CHUNK=65536
SMALL=vs-mon-store
MON=/tmp/mon.out
CTL=volsnap-ctl

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	[ -n "${mon:-}" ] && kill "$mon" 2> /dev/null
	[ -n "${old_limit:-}" ] && echo "$old_limit" > "$PARAMS/hold_limit_ms"
	quiet_detach "$ORIGIN"
	dmsetup remove "$SMALL" 2> /dev/null
}
trap cleanup EXIT

# has_ctl PID - has PID the control device open?
has_ctl() {
	for _f in /proc/"$1"/fd/*; do
		[ "$(readlink "$_f")" = "/dev/$CTL" ] && return 0
	done
	return 1
}

# start_monitor ARGS... - snapctl monitor ARGS > $MON in the background,
# its pid in $mon, once it has the control device open (events from then
# on reach it).
start_monitor() {
	: > "$MON"
	snapctl monitor "$@" > "$MON" 2>&1 &
	mon=$!
	_i=0
	while ! has_ctl "$mon" && [ $_i -lt 100 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
}

# stop_monitor SIGNAL - send it, wait; its exit status in $mon_rc.
stop_monitor() {
	kill "-$1" "$mon"
	wait "$mon"
	mon_rc=$?
	mon=
}

# events TYPE - how many events of TYPE $MON holds (grep, not jq: each
# program started costs much under TCG).
events() {
	grep -c "\"event\":\"$1\"" "$MON"
}

# now_cs - uptime in centiseconds.
# shellcheck disable=SC2317  # called by wait_events
now_cs() {
	read -r _up _ < /proc/uptime
	echo "${_up%.*}${_up#*.}"
}

# wait_events TYPE N - wait up to 1 s (by the clock) for N events of TYPE.
# shellcheck disable=SC2317  # called through check
wait_events() {
	_end=$(($(now_cs) + 100))
	while [ "$(events "$1")" -lt "$2" ] && [ "$(now_cs)" -lt "$_end" ]; do
		sleep 0.05
	done
	[ "$(events "$1")" -ge "$2" ]
}

# write_chunks FIRST N - write N chunks from FIRST, one direct write each.
write_chunks() {
	dd if=/dev/zero of="$ORIGIN" bs=$CHUNK count="$2" seek="$1" \
		oflag=direct conv=notrunc 2> /dev/null
}

fresh_start
# A 4 MiB store: 63 data chunks of 64 KiB (the first holds the header).
small=$(dm_create "$SMALL" "0 8192 linear $STORE 0")
check "attach with --threshold 50" \
	snapctl attach "$ORIGIN" --store "$small" --chunk-size 64K --threshold 50
is "status -o +THRESHOLD reports 50" \
	"$(snapctl -J status "$ORIGIN" -o +THRESHOLD | jq '.origins[0].threshold')" 50
chunks=$(($(status_field "$ORIGIN" store_size) / CHUNK))
is "the store has 63 data chunks" "$chunks" 63
at=$(((chunks * 50 + 99) / 100))

start_monitor --json
create_snap "$ORIGIN" > /dev/null
# Up to one chunk short of the threshold (one dd: each 64 KiB write
# copies one chunk), then the chunk that reaches it, then more.
write_chunks 0 $((at - 1))
used=$(($(status_field "$ORIGIN" store_used) / CHUNK))
is "one chunk below the threshold by status" "$used" $((at - 1))
is "no threshold event below 50%" "$(events threshold)" 0
write_chunks $((at - 1)) 1
used=$(($(status_field "$ORIGIN" store_used) / CHUNK))
is "the use reached the threshold at $at chunks" "$used" "$at"
check "threshold event within a second of the write" wait_events threshold 1
write_chunks "$at" 4
i=$((at + 4))
sleep 0.3
is "exactly one threshold event while above it" "$(events threshold)" 1
is "it names the origin, the threshold and the use" \
	"$(jq -c 'select(.event == "threshold") |
		[.origin, .threshold, .used_chunks, .store_chunks]' "$MON")" \
	"[\"$ORIGIN\",50,$at,$chunks]"

# Fill the store: the snapshot is invalidated for lack of room.
write_chunks $i $((2 * chunks - i))
check "invalid event within a second" wait_events invalid 1
is "it names the snapshot, its image, reason store full (ENOSPC)" \
	"$(jq -c 'select(.event == "invalid") |
		[.origin, .snapshot, .device, .reason, .errno, .error]' "$MON")" \
	"[\"$ORIGIN\",$SNAP_ID,\"$SNAP_DEV\",\"store full\",\"ENOSPC\",-28]"
is "snapctl list agrees" "$(snap_field "$ORIGIN" "$SNAP_ID" reason)" "store full"
check "every line is one JSON object with a sequence number" \
	sh -c "jq -e 'has(\"seq\") and has(\"time\")' $MON > /dev/null"
stop_monitor INT
is "SIGINT ends monitor with status 0" "$mon_rc" 0

# snapctl set: a threshold at or below the use is reported at once. (The
# invalid snapshot's copies were dropped: the store is empty again.)
create_snap "$ORIGIN" > /dev/null
write_chunks 0 8
start_monitor --json
check "set threshold=10%" snapctl set "$ORIGIN" threshold=10%
check "the event comes at once" wait_events threshold 1
check "set threshold=off" snapctl set "$ORIGIN" threshold=off
is "status shows none" \
	"$(snapctl -J status "$ORIGIN" -o +THRESHOLD | jq '.origins[0].threshold')" null
stop_monitor TERM
is "SIGTERM ends monitor with status 0" "$mon_rc" 0
expect_fail "set threshold=101 is a usage error" 2 snapctl set "$ORIGIN" threshold=101

# The hold limit passes inside a freeze: text output, --count 1 exits.
old_limit=$(cat "$PARAMS/hold_limit_ms")
echo 300 > "$PARAMS/hold_limit_ms"
start_monitor --count 1
snapctl freeze "$ORIGIN" -- sleep 1 > /dev/null 2>&1
_i=0
while kill -0 "$mon" 2> /dev/null && [ $_i -lt 40 ]; do
	sleep 0.05
	_i=$((_i + 1))
done
wait "$mon"
mon_rc=$?
mon=
diag "$(cat "$MON")"
if [ "$mon_rc" -eq 0 ] && grep -q "hold-expired $ORIGIN: writes held for the hold limit (300 ms)" "$MON"; then
	ok "monitor --count 1 printed the hold expiry and exited"
else
	not_ok "monitor --count 1 printed the hold expiry and exited (exit $mon_rc)"
fi
tap_done
