#!/bin/sh
# /init of the test initramfs (busybox sh). Loads the kernel modules the
# tests need, then runs each test listed in /tests/list with a time limit,
# framing its output with @@VS markers for the host runner, and scanning the
# kernel log after each test. Powers off when done.
# shellcheck shell=dash

/bin/busybox --install -s /bin
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mkdir -p /proc /sys /dev /tmp /run /mnt
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/mounts /etc/mtab
hostname volsnap-vm

# Kernel modules: one "name.ko [params]" per line, in dependency order.
if [ -f /lib/modules/boot.list ]; then
	while read -r ko params; do
		# shellcheck disable=SC2086  # params are split on purpose
		insmod "/lib/modules/$ko" $params ||
			echo "@@VS warn cannot load $ko"
	done < /lib/modules/boot.list
fi
# No mdev -s: devtmpfs makes every node, before the system call that adds
# a disk or a partition returns (mdev -s took minutes under KASAN).
# After the modules: configfs may be one of them (null_blk needs it).
mount -t configfs configfs /sys/kernel/config 2>/dev/null

# Keep the console for the test output; the log is read with dmesg.
echo 1 > /proc/sys/kernel/printk_ratelimit_burst 2>/dev/null
echo "@@VS boot $(uname -r) $(cut -d' ' -f1 /proc/uptime)s"

BAD='BUG:|WARNING:|Oops|KASAN|UBSAN|possible recursive locking|circular locking dependency|inconsistent lock state|suspicious RCU usage|rcu_sched self-detected stall|detected stall|hung_task|blocked for more than|soft lockup|kernel BUG|general protection fault|unreferenced object|list_add corruption|list_del corruption|refcount_t:'

# scan_log NAME - report kernel log lines written since the last scan that
# show a kernel bug; the host fails NAME and prints the excerpt.
scan_log() {
	dmesg -c > /tmp/klog 2>/dev/null
	if grep -Eq "$BAD" /tmp/klog; then
		echo "@@VS klog-begin $1"
		grep -E -A 30 "$BAD" /tmp/klog | head -n 80
		echo "@@VS klog-end $1"
	fi
}

KMEMLEAK=/sys/kernel/debug/kmemleak
[ -f $KMEMLEAK ] || KMEMLEAK=
# Scans only when kmemleak_check asks: an automatic one (every 10 min, about
# 50 s of CPU under KASAN on TCG) would only slow the tests down.
[ -z "$KMEMLEAK" ] || echo scan=off > $KMEMLEAK

# kmemleak_check GROUP - where the kernel has kmemleak, a pseudo-test
# kmemleak/GROUP: objects left unreferenced by the group's tests that just
# ran. Two scans: kmemleak reports an object only once it has stayed
# unreferenced over a scan that follows its minimum age (5 s). The
# reported objects are then cleared, so that the next group's check shows
# only its own.
kmemleak_check() {
	[ -n "$KMEMLEAK" ] || return 0
	echo "@@VS begin kmemleak/$1"
	# One scan (each takes about 50 s under KASAN on TCG): an object
	# leaked in the group's last 5 s, younger than kmemleak's minimum age,
	# is reported with the next group.
	echo scan > $KMEMLEAK
	# Read it: debugfs files have size 0, so test -s on the file itself
	# is always false.
	head -n 60 $KMEMLEAK > /tmp/kmemleak
	if [ -s /tmp/kmemleak ]; then
		echo "not ok 1 no object leaked by the $1 tests"
		cat /tmp/kmemleak
	else
		echo "ok 1 no object leaked by the $1 tests"
	fi
	echo clear > $KMEMLEAK
	scan_log "kmemleak/$1"
	echo "@@VS end kmemleak/$1 0"
}

scan_log boot
# Objects the boot leaked (old enough to be seen by one scan) are not the
# first group's.
if [ -n "$KMEMLEAK" ]; then
	echo scan > $KMEMLEAK
	echo clear > $KMEMLEAK
fi
# shellcheck disable=SC1091  # written by vmtest.py
. /tests/env
# A crash boot (vmtest.py's run_crash): vs_crash=PHASE:GROUP/NAME:SECONDS:
# SEED:CYCLE on the kernel command line runs only that test, in PHASE.
list=/tests/list
crash=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^vs_crash=//p')
if [ -n "$crash" ]; then
	IFS=: read -r VS_CRASH_PHASE name timeout VS_SEED VS_CRASH_CYCLE <<-EOF
	$crash
	EOF
	export VS_CRASH_PHASE VS_SEED VS_CRASH_CYCLE
	list=/tmp/crash.list
	echo "$name $timeout" > "$list"
fi
group=
while read -r name timeout; do
	[ -n "$name" ] || continue
	if [ "${name%/*}" != "$group" ]; then
		[ -z "$group" ] || kmemleak_check "$group"
		group=${name%/*}
	fi
	# A time budget (the debug kernel's): a test that would start after
	# it is not run, which fails the run on the host.
	if [ -n "${VS_BUDGET:-}" ] &&
	   [ "$(cut -d. -f1 /proc/uptime)" -ge "$VS_BUDGET" ]; then
		echo "@@VS notrun $name the time budget of ${VS_BUDGET}s (guest uptime) was used up"
		continue
	fi
	echo "@@VS begin $name"
	cd "/tests/${name%/*}" || exit 1
	timeout -s KILL "$timeout" "/tests/$name" < /dev/null 2>&1
	rc=$?
	cd /
	scan_log "$name"
	echo "@@VS end $name $rc"
done < "$list"
[ -z "$group" ] || kmemleak_check "$group"
echo "@@VS done"
sync
poweroff -f
