#!/bin/sh
# The _vsdata command the shell tests use: fill then verify passes, a
# sector overwritten behind its back fails verify, read and churn work.
# Scratch disk only; no volsnap involved.
# shellcheck shell=dash
. ../lib/common.sh

dev=$VS_DISK_SCRATCH1
VS_SEED=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
export VS_SEED
tap_plan 6
check "fill 8 MiB with gen 7" ./_vsdata fill "$dev" 16M 8M 7
check "verify finds gen 7" ./_vsdata verify "$dev" 16M 8M 7
dd if=/dev/zero of="$dev" bs=512 seek=$((16 * 2048 + 77)) count=1 conv=notrunc,fsync 2>/dev/null
expect_fail "verify catches one zeroed sector" 1 ./_vsdata verify "$dev" 16M 8M 7
check "verify --or-zero accepts it" ./_vsdata verify "$dev" 16M 8M 7 --or-zero
out=$(./_vsdata read "$dev" 16M 1M)
if [ "$out" = ok ]; then ok "read prints ok"; else not_ok "read prints ok (got $out)"; fi
check "churn 3 s keeps the range exact" ./_vsdata churn "$dev" 32M 16M 3 100
tap_done
