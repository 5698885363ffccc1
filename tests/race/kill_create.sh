#!/bin/sh
# snapctl killed at every step of a snapshot: `snapctl create`, `snapctl
# freeze`, and `snapctl create --frozen` inside a freeze, each sent SIGKILL
# after increasing delays, from before it runs to after it has finished.
#
# After every kill: the origin is not left frozen (a write completes within
# 2 s; a freeze is thawed when its control file closes), a snapshot that
# the kill left either does not exist or reads exactly the data of its
# instant, the image devices under /dev match `snapctl list`, and the next
# create works and is exact.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

# Fewer kill moments under the debug profile (KASAN, lockdep), from before
# the run to after its end all the same.
DELAYS=${VS_DELAYS:-$(vs_scaled "0 0.001 0.003 0.01 0.03 0.1 0.3 1" \
	"0 0.01 0.1 0.3 1")}
FDELAYS=${VS_FDELAYS:-$(vs_scaled "0 0.003 0.03 0.3" "0 0.03 0.3")}
FZ=
GEN=1

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	[ -n "$FZ" ] && kill -KILL "$FZ" 2>/dev/null
	quiet_detach "$ORIGIN"
}
trap cleanup EXIT

n=0
for _ in $DELAYS; do n=$((n + 4)); done
for _ in $FDELAYS; do n=$((n + 6)); done
fresh_start
tap_plan $((n + 3))

ids() {
	snapctl -J list "$ORIGIN" | jq -r '.snapshots[] | select(.id != null) | .id'
}

# write_within SECONDS GEN - stamp the region with GEN; it must finish in
# time (the origin is not frozen).
# shellcheck disable=SC2317  # called through check
write_within() {
	$VSDATA fill "$ORIGIN" 0 1M "$2" &
	_w=$!
	if wait_gone "$_w" "$1"; then
		wait "$_w"
	else
		echo "the write still waits after $1 s"
		return 1
	fi
}

# thawed_and_writes GEN - status says not frozen, and a write finishes.
# shellcheck disable=SC2317  # called through check
thawed_and_writes() {
	_fr=$(status_field "$ORIGIN" frozen)
	[ "$_fr" = false ] || { echo "frozen: $_fr"; return 1; }
	write_within 2 "$1"
}

# exact_or_absent BEFORE GEN - the snapshots not in BEFORE: none, or one
# that reads GEN in the whole region (then deleted).
# shellcheck disable=SC2317  # called through check
exact_or_absent() {
	_new=$(ids | grep -vxF "$1")
	[ -z "$_new" ] && { echo "no snapshot"; return 0; }
	[ "$(echo "$_new" | wc -l)" -eq 1 ] || { echo "new: $_new"; return 1; }
	_dev=$(snap_field "$ORIGIN" "$_new" device)
	$VSDATA verify "$_dev" 0 1M "$2" || return 1
	snapctl delete "$ORIGIN" "$_new"
}

# images_match - /dev/volsnapN exist for exactly the listed snapshots.
# shellcheck disable=SC2317  # called through check
images_match() {
	_dev=$(for _f in /dev/volsnap[0-9]*; do
		[ -b "$_f" ] && echo "$_f"; done | sort)
	_list=$(snapctl -J list "$ORIGIN" | jq -r '.snapshots[] | select(.id != null) | .device' | sort)
	[ "$_dev" = "$_list" ] || { echo "dev: $_dev; list: $_list"; return 1; }
}

# next_create GEN - a create now works and reads GEN; deleted after.
# shellcheck disable=SC2317  # called through check
next_create() {
	create_snap "$ORIGIN" || return 1
	$VSDATA verify "$SNAP_DEV" 0 1M "$1" || return 1
	snapctl delete "$ORIGIN" "$SNAP_ID"
}

check "attach" snapctl attach "$ORIGIN" --store "$STORE" --chunk-size 64K
# A snapshot kept all along: the kills must not disturb it.
$VSDATA fill "$ORIGIN" 0 1M $GEN
create_snap "$ORIGIN"
keep=$SNAP_ID

killed=0
finished=0
for d in $DELAYS; do
	before=$(ids)
	GEN=$((GEN + 1))
	$VSDATA fill "$ORIGIN" 0 1M $GEN
	snapctl create "$ORIGIN" > /dev/null 2>&1 &
	p=$!
	sleep "$d"
	kill -KILL "$p" 2>/dev/null
	wait "$p"
	rc=$?
	if [ $rc -eq 137 ]; then killed=$((killed + 1)); else finished=$((finished + 1)); fi
	diag "create killed after $d s: exit $rc"
	GEN=$((GEN + 1))
	check "create killed after $d s: the origin takes a write" \
		write_within 2 $GEN
	check "create killed after $d s: the snapshot is exact or absent" \
		exact_or_absent "$before" $((GEN - 1))
	check "create killed after $d s: image devices match the list" images_match
	check "create killed after $d s: the next create works" next_create $GEN
done

for d in $FDELAYS; do
	# A freeze killed: its file's close thaws.
	snapctl freeze "$ORIGIN" > /dev/null 2>&1 &
	FZ=$!
	sleep "$d"
	kill -KILL "$FZ" 2>/dev/null
	wait "$FZ"
	FZ=
	GEN=$((GEN + 1))
	check "freeze killed after $d s: thawed, the origin takes a write" \
		thawed_and_writes $GEN

	# create --frozen killed inside a freeze that lives on.
	before=$(ids)
	snapctl freeze "$ORIGIN" > /tmp/kc.fz 2>&1 &
	FZ=$!
	wait_file_has /tmp/kc.fz "^frozen" 10
	snapctl create "$ORIGIN" --frozen > /tmp/kc.cr 2>&1 &
	p=$!
	sleep "$d"
	kill -KILL "$p" 2>/dev/null
	wait "$p"
	diag "create --frozen killed after $d s: exit $?: $(tail -n1 /tmp/kc.cr)"
	is "create --frozen killed after $d s: the freeze holds" \
		"$(status_field "$ORIGIN" frozen)" true
	kill -KILL "$FZ"
	wait "$FZ"
	FZ=
	GEN=$((GEN + 1))
	check "create --frozen killed after $d s, then the freeze: the origin takes a write" \
		write_within 2 $GEN
	check "create --frozen killed after $d s: the snapshot is exact or absent" \
		exact_or_absent "$before" $((GEN - 1))
	check "create --frozen killed after $d s: image devices match the list" images_match
	check "create --frozen killed after $d s: the next create works" next_create $GEN
done

diag "creates killed: $killed, finished: $finished"
check "some creates were killed and some finished" \
	test "$killed" -gt 0 -a "$finished" -gt 0
check "the snapshot kept all along reads its instant" \
	$VSDATA verify "$(snap_field "$ORIGIN" "$keep" device)" 0 1M 1
tap_done
