#!/bin/sh
# Shared helpers for shell tests in the guest: TAP output and module setup.
# Source it: . ../lib/common.sh
# shellcheck shell=dash

VS_KO=/lib/modules/volsnap.ko

# dd is coreutils' (tests/vm/vmtest.py puts it in /usr/bin). busybox's sh
# runs its own applets before $PATH, and busybox's dd quietly goes through
# the page cache when O_DIRECT refuses its unaligned buffer, so that
# "iflag=direct" read stale pages (tests/stack/whole-disk.sh).
dd() { /usr/bin/dd "$@"; }
# bbdd: busybox's own dd applet (command skips the function above), for
# plain, not direct, I/O in loops: an applet run in a forked shell costs
# far less than loading a program (tests/lib/fs.sh).
bbdd() { command dd "$@"; }
_tap_n=0
_tap_failed=0

tap_plan() { echo "TAP version 13"; echo "1..$1"; }
ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n $*"; }
not_ok() { _tap_n=$((_tap_n + 1)); _tap_failed=1; echo "not ok $_tap_n $*"; }
skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n $1 # SKIP $2"; }
diag() { echo "# $*"; }

# check DESCRIPTION COMMAND... - one TAP point: ok when COMMAND succeeds.
check() {
	_desc=$1; shift
	if "$@" > /tmp/check.out 2>&1; then
		ok "$_desc"
	else
		not_ok "$_desc"
		sed 's/^/# /' /tmp/check.out
	fi
}

# expect_fail DESCRIPTION EXIT COMMAND... - COMMAND must exit with EXIT.
expect_fail() {
	_desc=$1; _want=$2; shift 2
	"$@" > /tmp/check.out 2>&1
	_rc=$?
	if [ "$_rc" -eq "$_want" ]; then
		ok "$_desc"
	else
		not_ok "$_desc (exit $_rc, wanted $_want)"
		sed 's/^/# /' /tmp/check.out
	fi
}

vs_loaded() { grep -q '^volsnap ' /proc/modules; }
vs_load() { vs_loaded || insmod "$VS_KO"; }
vs_unload() { ! vs_loaded || rmmod volsnap; }

# The test profile (VS_PROFILE, set by the runner): "debug" on the debug
# kernel (KASAN, lockdep), where tests shrink regions and rounds but keep
# every code path; "full" elsewhere. vs_scaled FULL DEBUG prints the value
# for the profile.
vs_debug_profile() { [ "${VS_PROFILE:-full}" = debug ]; }
vs_scaled() { if vs_debug_profile; then echo "$2"; else echo "$1"; fi; }

tap_done() { exit "$_tap_failed"; }
