#!/bin/sh
# Every snapctl command that reaches the module is refused without
# CAP_SYS_ADMIN (EPERM, exit 1), and nothing changes; a user other than
# root cannot use snapctl either (EPERM, or EACCES on the 0600 control
# device).
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	quiet_detach "$ORIGIN"
}
trap cleanup EXIT

# shellcheck disable=SC2317  # called through expect_errno
# nocap COMMAND... - run as root, without CAP_SYS_ADMIN.
nocap() {
	$VSDATA nocap "$@"
}
# shellcheck disable=SC2317  # called through expect_errno
# nobody COMMAND... - run as user nobody.
nobody() {
	$VSDATA nobody "$@"
}

fresh_start
tap_plan 10

expect_errno "attach without CAP_SYS_ADMIN: EPERM" 1 EPERM \
	nocap snapctl attach "$ORIGIN" --store "$STORE"
expect_errno "status shows the refused attach did nothing (ENODEV)" 1 ENODEV \
	snapctl -J status "$ORIGIN"
snapctl attach "$ORIGIN" --store "$STORE" > /dev/null
create_snap "$ORIGIN"
expect_errno "create without CAP_SYS_ADMIN: EPERM" 1 EPERM nocap snapctl create "$ORIGIN"
expect_errno "list without CAP_SYS_ADMIN: EPERM" 1 EPERM nocap snapctl -J list
expect_errno "status without CAP_SYS_ADMIN: EPERM" 1 EPERM nocap snapctl -J status "$ORIGIN"
expect_errno "delete without CAP_SYS_ADMIN: EPERM" 1 EPERM \
	nocap snapctl delete "$ORIGIN" "$SNAP_ID"
expect_errno "detach --force without CAP_SYS_ADMIN: EPERM" 1 EPERM \
	nocap snapctl detach "$ORIGIN" --force
is "the snapshot survived the refused commands" "$(status_field "$ORIGIN" nr_snaps)" 1
expect_errno "freeze without CAP_SYS_ADMIN: EPERM" 1 EPERM nocap snapctl freeze "$ORIGIN"
expect_errno "list as user nobody: EPERM or EACCES" 1 "EPERM|EACCES" nobody snapctl -J list
tap_done
