#!/bin/sh
# The module cannot be unloaded while an origin is attached (with or
# without snapshots, with an image open), and unloads cleanly once the
# origin is detached.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	exec 3<&- 2>/dev/null
	vs_load 2>/dev/null
	quiet_detach "$ORIGIN"
}
trap cleanup EXIT

fresh_start
tap_plan 8

snapctl attach "$ORIGIN" --store "$STORE" > /dev/null
check "rmmod while attached fails" fails rmmod volsnap
check "the module is still loaded" vs_loaded
create_snap "$ORIGIN"
exec 3< "$SNAP_DEV"
check "rmmod with a snapshot image open fails" fails rmmod volsnap
exec 3<&-
check "rmmod with a snapshot fails" fails rmmod volsnap
check "the origin is still attached with its snapshot" \
	test "$(status_field "$ORIGIN" nr_snaps)" = 1
check "detach --force" snapctl detach "$ORIGIN" --force
check "rmmod after detach" rmmod volsnap
check "the module loads again" insmod "$VS_KO"
tap_done
