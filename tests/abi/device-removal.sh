#!/bin/sh
# When the origin or the store disappears (here: a null_blk device powered
# off, which deletes its disk even while it is open), volsnap detaches by
# itself within a few seconds: the snapshot image goes away, the module can
# be unloaded, and the kernel log stays clean.
# shellcheck shell=dash
. ../lib/common.sh

tap_plan 8
vs_load
CFG=/sys/kernel/config/nullb
STORE=${VS_DISK_STORE:-/dev/vdb}
ORIGIN=${VS_DISK_ORIGIN:-/dev/vda}

# nullb_up NAME - a 64 MiB memory-backed null_blk device; prints its node
nullb_up() {
	mkdir "$CFG/$1" && echo 64 > "$CFG/$1/size" &&
		echo 1 > "$CFG/$1/memory_backed" && echo 1 > "$CFG/$1/power" || return 1
	for d in "/sys/block/$1" /sys/block/nullb*; do
		[ -e "$d" ] && { echo "/dev/${d##*/}"; return 0; }
	done
	return 1
}

nullb_down() {
	echo 0 > "$CFG/$1/power" 2>/dev/null
	rmdir "$CFG/$1" 2>/dev/null
}

# detached IMG - wait up to 10 s until the snapshot image IMG of the
# vanished device's origin is gone: the auto-detach deleted it.
detached() {
	i=0
	while [ $i -lt 100 ]; do
		[ ! -e "/sys/block/${1##*/}" ] &&
			snapctl -J list | jq -e --arg d "$1" \
				'[.snapshots[] | select(.device == $d)] | length == 0' \
				> /dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

if ! org=$(nullb_up vsorigin); then
	for t in 1 2 3 4 5 6 7 8; do skip "device removal $t" "no null_blk configfs"; done
	tap_done
fi
check "attach a null_blk origin" snapctl attach "$org" --store "$STORE"
img=$(snapctl -J create "$org" | jq -r .device)
check "a snapshot of it exists" test -b "$img"
nullb_down vsorigin
if detached "$img"; then ok "origin removed: detached by itself"; else not_ok "origin removed: detached by itself"; fi
check "the store is free again" sh -c "snapctl attach $ORIGIN --store $STORE && snapctl detach $ORIGIN"

st=$(nullb_up vsstore) || st=
check "attach with a null_blk store" snapctl attach "$ORIGIN" --store "$st"
img=$(snapctl -J create "$ORIGIN" | jq -r .device)
check "snapshot with that store" test -b "$img"
nullb_down vsstore
if detached "$img"; then ok "store removed: detached by itself"; else not_ok "store removed: detached by itself"; fi
check "the module unloads" rmmod volsnap
tap_done
