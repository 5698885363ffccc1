#!/bin/sh
# Load and unload the module: the control device appears with mode 0600,
# goes away on unload, and the cycle repeats cleanly. Parameters out of
# range, and a value for the read-only counter, are refused at load.
# shellcheck shell=dash
. ../lib/common.sh

tap_plan 10
vs_unload
check "insmod volsnap.ko" insmod "$VS_KO"
check "control device exists" test -c /dev/volsnap-ctl
mode=$(stat -c %a /dev/volsnap-ctl 2>/dev/null)
if [ "$mode" = 600 ]; then ok "control device mode is 0600"; else not_ok "control device mode is 0600 (got $mode)"; fi
check "rmmod volsnap" rmmod volsnap
check "control device removed" test ! -e /dev/volsnap-ctl
i=0
while [ $i -lt 20 ] && insmod "$VS_KO" && rmmod volsnap; do i=$((i + 1)); done
if [ $i -eq 20 ]; then ok "20 load/unload cycles"; else not_ok "20 load/unload cycles (stopped at $i)"; fi
for p in max_snapshots=0 max_copies=257 debug_fail_alloc=1000001 \
	debug_alloc_failures=0; do
	check "insmod with $p is refused, nothing loaded" \
		sh -c "! insmod $VS_KO $p 2>/dev/null && ! grep -q '^volsnap ' /proc/modules"
done
tap_done
