#!/bin/sh
# Shared by tests/fault/*: device-mapper devices whose table a test switches
# to inject faults, null_blk devices that can be powered off under I/O, and
# the checks every fault test ends with. Source after common.sh and snap.sh.
# shellcheck shell=dash

# The store of most fault tests: 64 MiB of the store disk behind dm, so
# its table can be switched to "error", "flakey" or "delay" under I/O.
FSTORE=vs-fstore
FSTORE_SECTORS=131072
# shellcheck disable=SC2153  # STORE comes from snap.sh
FSTORE_LINEAR="0 $FSTORE_SECTORS linear $STORE 0"
NULLB_CFG=/sys/kernel/config/nullb

# dm_swap NAME TABLE - switch the table of dm device NAME under I/O.
dm_swap() {
	dmsetup suspend "$1" && dmsetup reload "$1" --table "$2" &&
		dmsetup resume "$1"
}

# fault_store - create the dm store over $STORE (linear); prints its node.
fault_store() {
	dmsetup remove "$FSTORE" 2>/dev/null
	wipe "$STORE"
	dm_create "$FSTORE" "$FSTORE_LINEAR"
}

# no_snapshots - volsnap lists no snapshot at all (nothing left attached).
no_snapshots() {
	[ "$(snapctl -J list | jq '.snapshots | length')" = 0 ]
}

# reason_of ORIGIN ID - "state/reason" of a snapshot, as `snapctl list`
# gives them (a valid snapshot has no reason: "valid/").
reason_of() {
	_r=$(snap_field "$1" "$2" reason)
	[ "$_r" = null ] && _r=
	echo "$(snap_field "$1" "$2" state)/$_r"
}

# nullb_up NAME MIB - a memory-backed null_blk device; prints its node.
nullb_up() {
	[ -d "$NULLB_CFG" ] || return 1
	mkdir "$NULLB_CFG/$1" && echo "$2" > "$NULLB_CFG/$1/size" &&
		echo 1 > "$NULLB_CFG/$1/memory_backed" &&
		echo 1 > "$NULLB_CFG/$1/power" || return 1
	[ -b "/dev/$1" ] && { echo "/dev/$1"; return 0; }
	return 1
}

# nullb_down NAME - power NAME off (its disk is deleted, even while open)
# and remove it.
nullb_down() {
	echo 0 > "$NULLB_CFG/$1/power" 2>/dev/null
	rmdir "$NULLB_CFG/$1" 2>/dev/null
}

# gone_within DEV SECONDS - DEV's disk left sysfs and no snapshot names it.
gone_within() {
	_g=0
	while [ "$_g" -lt $(($2 * 10)) ]; do
		[ ! -e "/sys/block/${1##*/}" ] &&
			snapctl -J list | jq -e --arg d "$1" \
				'[.snapshots[] | select(.device == $d)] | length == 0' \
				> /dev/null && return 0
		sleep 0.1
		_g=$((_g + 1))
	done
	return 1
}

# image_reader IMG LEN OUT - read IMG's first LEN bytes in a loop until
# the file OUT.stop exists; append each result ("ok", "EIO", ...) to OUT.
image_reader() {
	rm -f "$3" "$3.stop"
	while [ ! -e "$3.stop" ]; do
		$VSDATA read "$1" 0 "$2" >> "$3" 2>/dev/null
	done
}
