#!/bin/sh
# snapctl version: plain and --json output agree with the loaded module.
# shellcheck shell=dash
. ../lib/common.sh

tap_plan 6
vs_load
modver=$(cat /sys/module/volsnap/version)
check "snapctl version succeeds" snapctl version
check "snapctl --json version parses" sh -c 'snapctl --json version | jq -e . >/dev/null'
got=$(snapctl --json version | jq -r .module)
if [ "$got" = "$modver" ]; then ok "module version in JSON is $modver"; else not_ok "module version in JSON ($got) is $modver"; fi
check "features is a JSON array" sh -c 'snapctl -J version | jq -e ".features | type == \"array\"" >/dev/null'
rmmod volsnap
expect_fail "snapctl version without the module exits 3" 3 snapctl version
expect_fail "unknown command exits 2" 2 snapctl frobnicate
tap_done
