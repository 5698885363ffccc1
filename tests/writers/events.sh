#!/bin/sh
# Writers around 'snapctl create' and 'snapctl backup-complete': recording
# writers (each logs its name and event, and its VOLSNAP_* environment)
# on two mounted ext4 origins.
#  - Events in name order: prepare, freeze, thaw; what is skipped (not
#    executable, names with '.' or '~'); the environment of each event.
#  - freeze runs inside the hold of one origin (the origin is frozen, its
#    time is in the reported hold) and a freeze past the hold limit fails.
#  - A failing writer (named, its stderr shown), a prepare past
#    --prepare-timeout, a failing thaw and SIGINT during prepare each leave
#    no snapshot, send abort to exactly the writers that got prepare and
#    leave the filesystem writable.
#  - A set of two: both origins, their mounts and images, the set id.
#  - backup-complete SET and /dev/volsnapN, full and --copy, and a failing
#    writer there; --no-writers, --writers DIR missing, the
#    default directory with the shipped 10-sync writer.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

A=$ORIGIN
B=$SCRATCH1
MA=/tmp/wr-a
MB=/tmp/wr-b
D=/tmp/wr		# the recording writers' files
W=/tmp/wr.d		# their directory
SNAPPID=

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	[ -n "$SNAPPID" ] && kill -9 "$SNAPPID" 2> /dev/null
	echo 10000 > "$PARAMS/hold_limit_ms" 2> /dev/null
	umount "$MA" "$MB" 2> /dev/null
	quiet_detach "$A" "$B"
	rm -rf /etc/volsnap
	wipe "$B"
}
trap cleanup EXIT

# writer NAME - a recording writer in $W.
writer() {
	cat > "$W/$1" <<'EOW'
#!/bin/sh
n=${0##*/}; e=$1; d=/tmp/wr
echo "$n $e" >> $d/log
env | grep '^VOLSNAP_' | sort > "$d/env.$n.$e"
if [ "$e" = freeze ] && [ -f "$d/status.$n" ]; then
	snapctl -J status "${VOLSNAP_DEVICES%% *}" | jq -r '.origins[0].frozen' > "$d/frozen.$n"
fi
[ -f "$d/sleep.$n.$e" ] && sleep "$(cat "$d/sleep.$n.$e")"
if [ -f "$d/fail.$n.$e" ]; then
	echo "$n cannot $e: boom" >&2
	exit 3
fi
exit 0
EOW
	chmod 755 "$W/$1"
}

# reset - forget what the writers did and were told to do.
reset() {
	rm -rf "$D"
	mkdir -p "$D"
	: > "$D/log"
}

# log - the events, one "NAME EVENT" a line, joined by ','.
log() {
	paste -sd, "$D/log"
}

# envof NAME EVENT VAR - VAR as NAME saw it at EVENT.
envof() {
	sed -n "s/^$3=//p" "$D/env.$1.$2"
}

# sleeping CMDLINE - a process runs CMDLINE (arguments joined by spaces).
sleeping() {
	for _p in /proc/[0-9]*; do
		[ "$(tr '\0' ' ' < "$_p/cmdline" 2> /dev/null)" = "$1 " ] && return 0
	done
	return 1
}

# writable DIR - a file can be created and synced in DIR.
# shellcheck disable=SC2317  # called through check()
writable() {
	echo x > "$1/w.$$" && sync && rm "$1/w.$$"
}

fresh_start
wipe "$SCRATCH2"
tap_plan 43

snapctl attach "$A" --store "$STORE" > /dev/null
snapctl attach "$B" --store "$SCRATCH2" > /dev/null
mkfs.ext4 -q -F "$A" && mkfs.ext4 -q -F "$B"
mkdir -p "$MA" "$MB" "$W"
mount "$A" "$MA" && mount "$B" "$MB"
writer 20-b
writer 10-a
# Never run: not executable, or a name run-parts would skip.
writer 30-x~
writer 40-y.bak
writer .50-z
writer 60-c
chmod 644 "$W/60-c"

# 1. one origin: order, environment, freeze inside the hold
reset
echo 1 > "$D/sleep.10-a.freeze"
touch "$D/status.10-a"
if create_snap "$A" --writers "$W"; then
	ok "create with writers"
else
	not_ok "create with writers"
fi
is "prepare, freeze, thaw in name order; others skipped" "$(log)" \
	"10-a prepare,20-b prepare,10-a freeze,20-b freeze,10-a thaw,20-b thaw"
is "the origin is frozen while freeze runs" "$(cat "$D/frozen.10-a")" true
hold=$(jq -r '.hold_ms | floor' /tmp/create.out)
if [ "$hold" -ge 1000 ]; then
	ok "freeze time is in the hold ($hold ms)"
else
	not_ok "freeze time is in the hold ($hold ms, the writer slept 1 s)"
fi
is "VOLSNAP_DEVICES" "$(envof 10-a prepare VOLSNAP_DEVICES)" "$A"
is "VOLSNAP_MOUNTS" "$(envof 20-b prepare VOLSNAP_MOUNTS)" "$MA"
is "no VOLSNAP_IMAGES before thaw" "$(envof 10-a freeze VOLSNAP_IMAGES)" ""
is "VOLSNAP_IMAGES at thaw" "$(envof 20-b thaw VOLSNAP_IMAGES)" "$SNAP_DEV"
is "VOLSNAP_BACKUP of a lone snapshot" "$(envof 20-b thaw VOLSNAP_BACKUP)" \
	"${SNAP_DEV#/dev/}"
tok=$(envof 10-a prepare VOLSNAP_CREATE)
if [ -n "$tok" ] && [ "$tok" = "$(envof 20-b thaw VOLSNAP_CREATE)" ]; then
	ok "VOLSNAP_CREATE: one token from prepare to thaw"
else
	not_ok "VOLSNAP_CREATE: '$tok' at prepare, '$(envof 20-b thaw VOLSNAP_CREATE)' at thaw"
fi
LONE=$SNAP_DEV

# 2. backup-complete of the lone snapshot
reset
check "backup-complete /dev/volsnapN" snapctl backup-complete "$LONE" --writers "$W"
is "backup-complete goes to every writer" "$(log)" \
	"10-a backup-complete,20-b backup-complete"
is "full by default" "$(envof 10-a backup-complete VOLSNAP_BACKUP_TYPE)" full
is "its images" "$(envof 10-a backup-complete VOLSNAP_IMAGES)" "$LONE"

# 3. a failing writer at prepare: named, stderr shown, abort to the prepared
reset
n=$(snap_count "$A")
touch "$D/fail.20-b.prepare"
expect_fail "a failing prepare fails create" 1 \
	snapctl create "$A" --writers "$W"
if grep -q "writer 20-b: prepare failed (exit status 3)" /tmp/check.out &&
   grep -q "20-b: 20-b cannot prepare: boom" /tmp/check.out; then
	ok "the writer is named and its stderr shown"
else
	not_ok "the writer is named and its stderr shown"
	sed 's/^/# /' /tmp/check.out
fi
is "abort to both prepared writers, nothing else" "$(log)" \
	"10-a prepare,20-b prepare,10-a abort,20-b abort"
is "no snapshot kept" "$(snap_count "$A")" "$n"

# 4. prepare past --prepare-timeout: killed; the later writer never ran
reset
echo 30 > "$D/sleep.10-a.prepare"
t0=$(date +%s)
expect_fail "prepare past --prepare-timeout fails create" 1 \
	snapctl create "$A" --writers "$W" --prepare-timeout 1
t=$(($(date +%s) - t0))
if [ "$t" -le 5 ] && grep -q "writer 10-a: prepare did not return within" /tmp/check.out; then
	ok "killed at the time limit and named (${t} s)"
else
	not_ok "killed at the time limit and named (${t} s)"
	sed 's/^/# /' /tmp/check.out
fi
is "abort only to the writer that got prepare" "$(log)" "10-a prepare,10-a abort"

# 5. freeze past the hold limit: no snapshot, thawed, writable
reset
echo 4000 > "$PARAMS/hold_limit_ms"
echo 30 > "$D/sleep.20-b.freeze"
expect_fail "freeze past the hold limit fails create" 1 \
	snapctl create "$A" --writers "$W"
echo 10000 > "$PARAMS/hold_limit_ms"
if grep -q "writer 20-b: freeze did not return within the hold limit" /tmp/check.out; then
	ok "the freeze writer is named"
else
	not_ok "the freeze writer is named"
	sed 's/^/# /' /tmp/check.out
fi
is "thaw to those that got freeze, abort to all" "$(log)" \
	"10-a prepare,20-b prepare,10-a freeze,20-b freeze,10-a thaw,20-b thaw,10-a abort,20-b abort"
is "no snapshot kept, origin thawed" "$(snap_count "$A"):$(status_field "$A" frozen)" \
	"$n:false"
check "the filesystem is writable" writable "$MA"

# 6. a failing thaw: the new snapshot goes again
reset
touch "$D/fail.10-a.thaw"
expect_fail "a failing thaw fails create" 1 snapctl create "$A" --writers "$W"
is "thaw to all, then abort to all" "$(log)" \
	"10-a prepare,20-b prepare,10-a freeze,20-b freeze,10-a thaw,20-b thaw,10-a abort,20-b abort"
is "the snapshot made was deleted" "$(snap_count "$A")" "$n"

# 7. SIGINT during prepare: the writer is killed, abort sent
reset
echo 60 > "$D/sleep.20-b.prepare"
snapctl create "$A" --writers "$W" > /tmp/int.out 2>&1 &
SNAPPID=$!
wait_file_has "$D/log" "20-b prepare" 10
kill -INT "$SNAPPID"
if wait_gone "$SNAPPID" 5; then
	wait "$SNAPPID"
	rc=$?
	SNAPPID=
	is "SIGINT: create fails, abort to the prepared writers" "$rc:$(log)" \
		"1:10-a prepare,20-b prepare,10-a abort,20-b abort"
else
	not_ok "SIGINT: create did not end within 5 s"
fi
if sleeping "sleep 60"; then
	not_ok "the interrupted writer was killed"
else
	ok "the interrupted writer was killed"
fi
is "no snapshot after SIGINT" "$(snap_count "$A")" "$n"

# 8. a set of two
reset
if snapctl -J create "$A" "$B" --writers "$W" > /tmp/set.json 2> /tmp/set.err; then
	ok "create A B with writers"
else
	not_ok "create A B with writers"
	sed 's/^/# /' /tmp/set.err
fi
set=$(jq -r .set /tmp/set.json)
is "a set's environment at thaw" \
	"$(envof 10-a thaw VOLSNAP_DEVICES)|$(envof 10-a thaw VOLSNAP_MOUNTS)|$(envof 10-a thaw VOLSNAP_SET)|$(envof 10-a thaw VOLSNAP_BACKUP)|$(envof 10-a thaw VOLSNAP_IMAGES)" \
	"$A $B|$MA $MB|$set|set-$set|$(jq -r '[.snapshots[].device] | join(" ")' /tmp/set.json)"

# 9. backup-complete SET, --copy, a failing writer
reset
snapctl backup-complete "$set" --writers "$W" --copy > /dev/null 2>&1
is "backup-complete --copy" "$(envof 20-b backup-complete VOLSNAP_BACKUP_TYPE):$(envof 20-b backup-complete VOLSNAP_SET):$(envof 20-b backup-complete VOLSNAP_DEVICES)" \
	"copy:$set:$A $B"
reset
touch "$D/fail.10-a.backup-complete"
expect_fail "backup-complete: a failing writer fails it" 1 \
	snapctl backup-complete "$set" --writers "$W"
is "... the others still get it" "$(log)" "10-a backup-complete,20-b backup-complete"
expect_fail "backup-complete of a set that does not exist" 1 \
	snapctl backup-complete 999999 --writers "$W"

# 10. --no-writers, a missing --writers DIR, --frozen
reset
check "create --no-writers" snapctl create "$A" --no-writers --writers "$W"
expect_fail "create --writers with a missing directory" 1 \
	snapctl create "$A" --writers /nonexistent
is "no writer ran" "$(log)" ""

# 11. the default directory, with the shipped writers
reset
mkdir -p /etc/volsnap/writers.d
ln -s /usr/local/lib/volsnap/writers/10-sync /etc/volsnap/writers.d/
cp "$W/20-b" /etc/volsnap/writers.d/
check "create with the default directory and the shipped 10-sync" \
	snapctl create "$A"
is "... runs the writers there" "$(log)" "20-b prepare,20-b freeze,20-b thaw"

tap_done
