#!/bin/sh
# Allocation failures on the copy path. (1) failslab and fail_page_alloc
# with the task filter on the writer (its make-it-fail is set only while
# each write(2) runs): half of the writer's fallible slab and page
# allocations fail, among them the copy job's (which falls back to a
# one-chunk copy). (2) The writer in a memory cgroup limited to 16 MiB
# writing 24 MiB through the page cache, without a snapshot, then with.
# Each time the writes complete, the origin holds exactly what was
# written, and the snapshot is valid and exact, or invalid with a reason
# and its reads fail with EIO. Debian's kernels have no fault injection
# (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC): there (1) uses the module's
# fault point debug_fail_alloc instead, which can fail only the copy
# path's allocations that have a fallback (the multi-chunk job, its pages,
# a waiter taken while holding a job), not the block layer's or the
# mempools' own. (2) needs a cgroup2 with the memory controller.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh
# shellcheck source=_fault.sh
. ./_fault

FW=../fault/_faultwrite
FS=/sys/kernel/debug/failslab
FP=/sys/kernel/debug/fail_page_alloc
CGROOT=/sys/fs/cgroup
DIRTY=
DIRTY_BG=
CG=$CGROOT/vsfault
MOUNTED=

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	for d in "$FS" "$FP"; do
		[ -d "$d" ] && echo 0 > "$d/probability"
	done
	echo 0 > /sys/module/volsnap/parameters/debug_fail_alloc 2>/dev/null
	[ -d "$CG" ] && rmdir "$CG" 2>/dev/null
	[ -n "$MOUNTED" ] && umount "$CGROOT" 2>/dev/null
	[ -n "$DIRTY" ] && echo "$DIRTY" > /proc/sys/vm/dirty_ratio
	[ -n "$DIRTY_BG" ] && echo "$DIRTY_BG" > /proc/sys/vm/dirty_background_ratio
	quiet_detach "$ORIGIN"
}
trap cleanup EXIT

# inject DIR - fail half of the marked task's fallible allocations.
inject() {
	echo Y > "$1/task-filter" && echo N > "$1/ignore-gfp-wait" &&
	echo 0 > "$1/space" && echo 1 > "$1/interval" &&
	echo 0 > "$1/verbose" && echo 1000000 > "$1/times" &&
	echo 50 > "$1/probability"
}

# snapshot_sound ORIGIN ID IMG GEN START LEN - valid and reads GEN over
# [START, START + LEN), or invalid with a reason and fails reads with EIO.
# shellcheck disable=SC2317  # called through check
snapshot_sound() {
	_st=$(snap_field "$1" "$2" state)
	_why=$(snap_field "$1" "$2" reason)
	[ "$_why" = null ] && _why=
	echo "snapshot $2: $_st${_why:+ ($_why)}"
	if [ "$_st" = valid ]; then
		$VSDATA verify "$3" "$5" "$6" "$4"
	else
		[ "$_st" = invalid ] && [ -n "$_why" ] &&
			[ "$($VSDATA read "$3" "$5" 64K)" = EIO ]
	fi
}

tap_plan 11
vs_load
quiet_detach "$ORIGIN"
wipe "$STORE"
$VSDATA fill "$ORIGIN" 0 32M 1
check "attach with 4 KiB chunks" \
	snapctl attach "$ORIGIN" --store "$STORE" --chunk-size 4k

# (1) failslab and fail_page_alloc on the writer, or, where the kernel
# has no fault injection, the module's debug_fail_alloc: each allocation
# of the copy path that has a fallback fails with a chance of one in two,
# under two writers whose pieces overlap (the same generation, so the data
# is known however they interleave; a writer holding a job may have to
# join the other's copy). Every such failure has a fallback that still
# copies, so there the snapshot must stay valid and exact.
P=/sys/module/volsnap/parameters
create_snap "$ORIGIN"
id=$SNAP_ID; img=$SNAP_DEV
if [ -d "$FS" ] && [ -d "$FP" ]; then
	inject "$FS"
	inject "$FP"
	echo N > "$FP/ignore-gfp-highmem"
	echo 0 > "$FP/min-order"
	check "writes complete while allocations fail (failslab, fail_page_alloc)" \
		$FW "$ORIGIN" 0 4M 2 16K --fail
	echo 0 > "$FS/probability"
	echo 0 > "$FP/probability"
	n=$((2000000 - $(cat "$FS/times") - $(cat "$FP/times")))
	diag "allocations failed: $n"
	check "allocations did fail" test "$n" -gt 0
	check "the origin holds exactly what was written" \
		sh -c "$VSDATA verify $ORIGIN 0 4M 2 && $VSDATA verify $ORIGIN 4M 28M 1"
	check "the snapshot is exact, or invalid with a reason and EIO" \
		snapshot_sound "$ORIGIN" "$id" "$img" 1 0 32M
else
	n0=$(cat $P/debug_alloc_failures)
	echo 2 > $P/debug_fail_alloc
	$FW "$ORIGIN" 4K 4190208 2 12K > /tmp/fw2.out 2>&1 &
	fw2=$!
	$FW "$ORIGIN" 0 4M 2 16K > /tmp/fw1.out 2>&1
	rc1=$?
	wait $fw2
	rc2=$?
	echo 0 > $P/debug_fail_alloc
	n=$(($(cat $P/debug_alloc_failures) - n0))
	cat /tmp/fw1.out /tmp/fw2.out | sed 's/^/# /'
	check "two writers complete while allocations fail (debug_fail_alloc)" \
		test "$rc1$rc2" = 00
	diag "allocations failed: $n"
	check "allocations did fail" test "$n" -gt 0
	check "the origin holds exactly what was written" \
		sh -c "$VSDATA verify $ORIGIN 0 4M 2 && $VSDATA verify $ORIGIN 4M 28M 1"
	st=$(snap_field "$ORIGIN" "$id" state)
	diag "snapshot $id: $st"
	check "the snapshot stays valid and exact (every failure had a fallback)" \
		sh -c "[ $st = valid ] && $VSDATA verify $img 0 32M 1"
fi
snapctl delete "$ORIGIN" "$id"

# (2) A memory cgroup limit on a writer through the page cache.
if ! grep -q "^cgroup2 $CGROOT " /proc/mounts; then
	mkdir -p "$CGROOT"
	mount -t cgroup2 none "$CGROOT" 2>/dev/null && MOUNTED=1
fi
# A block device's page cache has no per-cgroup writeback: without a low
# global dirty limit the cgroup fills with dirty pages it cannot reclaim
# and the OOM killer takes the writer, attached or not (seen on 6.12 with
# nothing but the origin attached). 2 MiB of dirty data at most.
DIRTY=$(cat /proc/sys/vm/dirty_ratio)
DIRTY_BG=$(cat /proc/sys/vm/dirty_background_ratio)
echo 2097152 > /proc/sys/vm/dirty_bytes
echo 1048576 > /proc/sys/vm/dirty_background_bytes
if grep -qw memory "$CGROOT/cgroup.controllers" 2>/dev/null &&
   echo +memory > "$CGROOT/cgroup.subtree_control" && mkdir "$CG" &&
   echo 16M > "$CG/memory.max"; then
	check "without a snapshot, 24 MiB of buffered writes complete in 16 MiB" \
		sh -c "echo \$\$ > $CG/cgroup.procs && exec $FW $ORIGIN 8M 24M 3 64K --buffered"
	create_snap "$ORIGIN"
	id=$SNAP_ID; img=$SNAP_DEV
	check "with one, they complete too" \
		sh -c "echo \$\$ > $CG/cgroup.procs && exec $FW $ORIGIN 8M 24M 4 64K --buffered"
	hits=$(sed -n 's/^max //p' "$CG/memory.events")
	diag "memory.events: max $hits"
	check "the writer hit its memory limit" test "${hits:-0}" -gt 0
	check "the origin holds exactly what was written" \
		sh -c "$VSDATA verify $ORIGIN 4M 4M 1 && $VSDATA verify $ORIGIN 8M 24M 4"
	check "the snapshot is exact, or invalid with a reason and EIO" \
		snapshot_sound "$ORIGIN" "$id" "$img" 3 8M 24M
else
	for t in 1 2 3 4 5; do
		skip "memory cgroup $t" "no cgroup2 with the memory controller"
	done
fi
check "detach, nothing left attached" \
	sh -c "snapctl detach --force $ORIGIN && [ \"\$(snapctl -J list | jq '.snapshots | length')\" = 0 ]"
tap_done
