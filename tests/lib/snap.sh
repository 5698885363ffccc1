#!/bin/sh
# Helpers for shell tests that drive snapctl (source after common.sh):
#   . ../lib/common.sh
#   . ../lib/snap.sh
# shellcheck shell=dash

# shellcheck disable=SC2034  # used by the tests that source this file
{
	ORIGIN=${VS_DISK_ORIGIN:-/dev/vda}
	STORE=${VS_DISK_STORE:-/dev/vdb}
	SCRATCH1=${VS_DISK_SCRATCH1:-/dev/vdc}
	SCRATCH2=${VS_DISK_SCRATCH2:-/dev/vdd}
	VSDATA=../stamp/_vsdata
	PARAMS=/sys/module/volsnap/parameters
}

# One seed per test run, shared by every _vsdata call of the test.
if [ -z "${VS_SEED:-}" ]; then
	VS_SEED=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
fi
export VS_SEED

# expect_errno DESCRIPTION EXIT ERRNO COMMAND... - one TAP point: COMMAND
# exits with EXIT and its stderr names ERRNO, as "(EBUSY)". ERRNO may list
# alternatives separated by "|": "EROFS|EPERM".
expect_errno() {
	_desc=$1; _want=$2; _errno=$3; shift 3
	"$@" > /tmp/ee.out 2> /tmp/ee.err
	_rc=$?
	if [ "$_rc" -eq "$_want" ] &&
	   grep -Eq "\\(($_errno)\\)" /tmp/ee.err; then
		ok "$_desc"
	else
		not_ok "$_desc (exit $_rc, wanted $_want and ($_errno) on stderr)"
		sed 's/^/# stdout: /' /tmp/ee.out
		sed 's/^/# stderr: /' /tmp/ee.err
	fi
}

# expect_usage_or_errno DESCRIPTION ERRNO COMMAND... - COMMAND is refused:
# exit 2 (snapctl rejected it as a usage error), or exit 1 naming ERRNO.
expect_usage_or_errno() {
	_desc=$1; _errno=$2; shift 2
	"$@" > /tmp/ee.out 2> /tmp/ee.err
	_rc=$?
	if [ "$_rc" -eq 2 ] ||
	   { [ "$_rc" -eq 1 ] && grep -Eq "\\(($_errno)\\)" /tmp/ee.err; }; then
		ok "$_desc"
	else
		not_ok "$_desc (exit $_rc, wanted 2, or 1 with ($_errno))"
		sed 's/^/# stdout: /' /tmp/ee.out
		sed 's/^/# stderr: /' /tmp/ee.err
	fi
}

# fails COMMAND... - succeeds when COMMAND fails (for check).
fails() {
	! "$@"
}

# is DESCRIPTION GOT WANT - one TAP point: two strings are equal.
is() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1 (got '$2', wanted '$3')"
	fi
}

# wipe DEV - zero the first MiB (a blank store header, no stale fs label).
wipe() {
	dd if=/dev/zero of="$1" bs=1M count=1 conv=fsync 2>/dev/null
}

# dm_create NAME TABLE - create a device-mapper device; prints its node.
# (No udev in the guest: use the kernel's /dev/dm-N, which devtmpfs makes.)
dm_create() {
	dmsetup create "$1" --table "$2" || return 1
	_minor=$(dmsetup info -c --noheadings -o minor "$1" | tr -d ' ')
	_i=0
	while [ ! -b "/dev/dm-$_minor" ] && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	echo "/dev/dm-$_minor"
}

# quiet_detach DEV... - force-detach each device if attached (cleanup).
quiet_detach() {
	for _d in "$@"; do
		[ -b "$_d" ] && snapctl detach --force "$_d" > /dev/null 2>&1
	done
	return 0
}

# fresh_start - the module loaded, the origin detached, the store blank:
# where every test that attaches begins.
fresh_start() {
	vs_load
	quiet_detach "$ORIGIN"
	wipe "$STORE"
}

# snap_field ORIGIN ID FIELD - a field of one snapshot from `snapctl -J list`.
snap_field() {
	snapctl -J list "$1" 2>/dev/null |
		jq -r --argjson id "$2" ".snapshots[] | select(.id == \$id) | .$3"
}

# snap_count ORIGIN - how many snapshots `snapctl -J list ORIGIN` shows (an
# origin without snapshots has one row with a null id).
snap_count() {
	snapctl -J list "$1" 2>/dev/null | jq '[.snapshots[] | select(.id != null)] | length'
}

# wait_invalid ORIGIN ID - wait up to 5 s for snapshot ID to leave the
# state "valid" (the poll marks snapshots invalid within a second).
wait_invalid() {
	_i=0
	while [ "$(snap_field "$1" "$2" state)" = valid ] && [ "$_i" -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
}

# status_field ORIGIN FIELD - a field of ORIGIN's row in `snapctl -J status`
# (chunk_size, store_size, store_used, fill, frozen, nr_snaps, ...).
status_field() {
	snapctl -J status "$1" 2>/dev/null | jq -r ".origins[0][\"$2\"]"
}

# create_snap ORIGIN [ARGS...] - snapctl -J create; sets SNAP_ID, SNAP_DEV.
create_snap() {
	_o=$1; shift
	SNAP_ID=; SNAP_DEV=
	snapctl -J create "$_o" "$@" > /tmp/create.out 2> /tmp/create.err ||
		{ sed 's/^/# /' /tmp/create.err; return 1; }
	SNAP_ID=$(jq -r .id /tmp/create.out)
	SNAP_DEV=$(jq -r .device /tmp/create.out)
	[ -n "$SNAP_ID" ] && [ -b "$SNAP_DEV" ]
}

# alive PID - PID runs (a zombie, exited but not yet waited for, does not).
alive() {
	_st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$_st" ] && [ "$_st" != Z ]
}

# wait_gone PID SECONDS - wait for PID to exit; 0 if it did in time. Then
# `wait PID` gives its exit status.
wait_gone() {
	_i=0
	while alive "$1"; do
		[ "$_i" -ge $(($2 * 10)) ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
	return 0
}

# wait_file_has FILE PATTERN SECONDS - wait until FILE matches PATTERN.
wait_file_has() {
	_i=0
	until grep -q "$2" "$1" 2>/dev/null; do
		[ "$_i" -ge $(($3 * 10)) ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
	return 0
}
