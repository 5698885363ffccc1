#!/bin/sh
# Rules of attaching that protect snapshots from writes the hook cannot see
# or the store cannot hold, and the hook's own survival:
#  - a whole disk with partitions is refused (EXDEV): writes through its
#    partitions would bypass the snapshot;
#  - a store with larger logical blocks than the origin is refused (EINVAL);
#  - while volsnap is loaded, ftrace cannot be switched off under it
#    (sysctl kernel.ftrace_enabled=0 would silently stop copy-on-write).
# shellcheck shell=dash
. ../lib/common.sh

tap_plan 5
vs_load
SCR=${VS_DISK_SCRATCH1:-/dev/vdc}
STORE=${VS_DISK_STORE:-/dev/vdb}
ORIGIN=${VS_DISK_ORIGIN:-/dev/vda}

# A partitioned scratch disk.
printf 'label: dos\n,64M\n,64M\n' | sfdisk -q "$SCR" > /dev/null 2>&1
expect_fail "attach a whole disk with partitions: exit 1" 1 \
	snapctl attach "$SCR" --store "$STORE"
if grep -q '(EXDEV)' /tmp/check.out && grep -q 'partitions' /tmp/check.out; then
	ok "the error says EXDEV and names the partitions"
else
	not_ok "the error says EXDEV and names the partitions"
	sed 's/^/# /' /tmp/check.out
fi
check "a partition of it can be attached" sh -c \
	"snapctl attach ${SCR}1 --store $STORE && snapctl detach ${SCR}1"
dd if=/dev/zero of="$SCR" bs=1M count=1 conv=fsync 2>/dev/null
blockdev --rereadpt "$SCR" 2>/dev/null

# A 4 KiB-sector store for a 512-byte-sector origin.
cfg=/sys/kernel/config/nullb/vsbig
mkdir "$cfg" && echo 4096 > "$cfg/blocksize" && echo 64 > "$cfg/size" &&
	echo 1 > "$cfg/memory_backed" && echo 1 > "$cfg/power"
# Named after the configfs directory on newer kernels, nullbN on older.
nb=
for d in /sys/block/vsbig /sys/block/nullb*; do
	[ -e "$d" ] && { nb=/dev/${d##*/}; break; }
done
if [ -b "$nb" ] && [ "$(blockdev --getss "$ORIGIN")" -lt 4096 ]; then
	expect_fail "store with 4K blocks for a 512-byte origin: EINVAL" 1 \
		snapctl attach "$ORIGIN" --store "$nb"
	grep -q '(EINVAL)' /tmp/check.out || { diag "no EINVAL in:"; sed 's/^/# /' /tmp/check.out; }
else
	skip "store with 4K blocks for a 512-byte origin" "no 4K null_blk device"
fi
echo 0 > "$cfg/power" 2>/dev/null; rmdir "$cfg" 2>/dev/null

if [ -w /proc/sys/kernel/ftrace_enabled ]; then
	if echo 0 > /proc/sys/kernel/ftrace_enabled 2>/dev/null; then
		not_ok "ftrace cannot be disabled under the hook"
		echo 1 > /proc/sys/kernel/ftrace_enabled
	else
		ok "ftrace cannot be disabled under the hook"
	fi
else
	skip "ftrace cannot be disabled under the hook" "no kernel.ftrace_enabled"
fi
tap_done
