#!/bin/sh
# snapctl list and status: one table path. For the same state, text, raw
# and JSON (-J, -J -r) give the same data field by field; -n, -o COL and
# -o +COL work on both; sizes are human-readable unless -b; an attached
# origin without snapshots is listed. freeze ORIGIN -- COMMAND runs COMMAND
# with the filesystem frozen and thaws when it exits (its exit status,
# 128+N when killed, 1 when the hold limit thawed first). attach refuses
# an ext4 store unless --force.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

MNT=/mnt/vs-tables
W=
old_limit=
LIST_COLS=origin,size,fstype,mountpoint,store,chunk_size,store_size,store_used,fill,frozen,timed_out,nr_snaps,id,device,state,reason,chunks
STATUS_COLS=origin,size,fstype,mountpoint,store,chunk_size,store_size,store_used,fill,frozen,timed_out,nr_snaps

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	[ -n "$W" ] && kill "$W" 2>/dev/null
	[ -n "$old_limit" ] && echo "$old_limit" > "$PARAMS/hold_limit_ms"
	snapctl thaw "$ORIGIN" > /dev/null 2>&1
	wait 2>/dev/null
	umount "$MNT" 2>/dev/null
	quiet_detach "$ORIGIN"
	wipe "$STORE"
}
trap cleanup EXIT

# same_data CMD COLS - `snapctl CMD -n -r -b -o COLS` and `snapctl CMD -J -o
# COLS` hold the same rows, compared field by field with jq (raw: split on
# single spaces, \x20 unescaped, numbers as numbers; JSON: null as "",
# booleans as 1/0).
# shellcheck disable=SC2317  # called through check
same_data() {
	# shellcheck disable=SC2086  # CMD is a command and its arguments
	snapctl $1 -n -r -b -o "$2" > /tmp/t.raw &&
	snapctl $1 -J -o "$2" > /tmp/t.json &&
	jq -e -n -R --arg cols "$2" --slurpfile j /tmp/t.json '
		def rawv: gsub("\\\\x20"; " ") |
			if test("^-?[0-9]+(\\.[0-9]+)?$") then tonumber else . end;
		def jsonv: if . == null then "" elif . == true then 1
			elif . == false then 0 else . end;
		($cols | split(",")) as $c |
		[inputs | select(length > 0) | split(" ") | map(rawv)] as $raw |
		[$j[0][] | .[] | [.[$c[]] | jsonv]] as $json |
		($raw | length) > 0 and $raw == $json' < /tmp/t.raw
}

# text_is_raw CMD COLS - the aligned text table, spaces squeezed, is the
# raw table (for columns that are never empty).
# shellcheck disable=SC2317  # called through check
text_is_raw() {
	# shellcheck disable=SC2086
	[ "$(snapctl $1 -b -o "$2" | sed 's/^ *//; s/  */ /g; s/ *$//')" = \
	  "$(snapctl $1 -r -b -o "$2")" ]
}

# keys CMD ARGS... - the keys of the first JSON row, comma-separated.
keys() {
	_c=$1; shift
	snapctl "$_c" -J "$@" | jq -r --arg t "$_c" \
		'.[if $t == "list" then "snapshots" else "origins" end][0] | keys_unsorted | join(",")'
}

fresh_start
mkdir -p "$MNT"
# No lazy inode table or journal init, no atime: nothing writes to the
# origin in the background, so the store use stays put between the calls
# that compare output modes.
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$ORIGIN" > /dev/null 2>&1
mount -t ext4 -o noatime "$ORIGIN" "$MNT"
old_limit=$(cat "$PARAMS/hold_limit_ms")
tap_plan 28

# An attached origin without snapshots.
snapctl attach "$ORIGIN" --store "$STORE" > /dev/null
if snapctl -J list | jq -e --arg o "$ORIGIN" \
	'[.snapshots[] | select(.origin == $o)] | length == 1 and
	 (.[0] | .id == null and .device == null and .state == null)' > /dev/null; then
	ok "list -J shows the origin without snapshots: one row, snapshot columns null"
else
	not_ok "list -J shows the origin without snapshots: one row, snapshot columns null"
	snapctl -J list | sed 's/^/# /'
fi
check "list (text) shows it too" \
	sh -c "snapctl list -n -o origin,id | grep -qx '$ORIGIN *'"
is "status -J nr_snaps is 0" "$(status_field "$ORIGIN" nr_snaps)" 0

create_snap "$ORIGIN"
echo change > "$MNT/change"
sync
create_snap "$ORIGIN"
echo change2 > "$MNT/change2"
sync

check "list: raw and JSON hold the same data" same_data list "$LIST_COLS"
check "list ORIGIN: raw and JSON hold the same data" same_data "list $ORIGIN" "$LIST_COLS"
check "status: raw and JSON hold the same data" same_data status "$STATUS_COLS"
check "status ORIGIN: raw and JSON hold the same data" same_data "status $ORIGIN" "$STATUS_COLS"
check "list: text is the raw table aligned" text_is_raw list origin,id,device,state,chunks
check "status: text is the raw table aligned" text_is_raw status origin,store,frozen,nr_snaps
check "list -J -r is JSON" sh -c 'snapctl list -J -r | jq -e ".snapshots | length == 2" > /dev/null'
check "status -J -r is JSON" sh -c 'snapctl status -J -r | jq -e ".origins | length == 1" > /dev/null'
check "snapctl -J -r list (global options) is JSON" sh -c 'snapctl -J -r list | jq -e . > /dev/null'
is "list -n -r: two rows, no header" "$(snapctl list -n -r | grep -c "^$ORIGIN ")/$(snapctl list -n -r | wc -l)" 2/2
is "status -n: one row, no header" "$(snapctl status -n | wc -l)/$(snapctl status -n | grep -c ORIGIN)" 1/0
is "list -o id: the id column only" "$(keys list -o id)" id
is "list -o +STORE adds a column to the defaults" "$(keys list -o +STORE)" \
	"$(keys list),store"
is "status -o +id is refused: not a status column (exit 2)" \
	"$(snapctl status -o +id > /dev/null 2>&1; echo $?)" 2
check "list -o bogus: exit 2, and the message lists the columns" \
	sh -c 'snapctl list -o bogus 2>&1 >/dev/null; [ $? = 2 ] && snapctl list -o bogus 2>&1 | grep -q "CHUNK_SIZE"'
size=$(blockdev --getsize64 "$ORIGIN")
is "status -b: size in bytes" "$(snapctl status "$ORIGIN" -n -b -o size | tr -d ' ')" "$size"
check "status: size human-readable ($(snapctl status "$ORIGIN" -n -o size | tr -d ' '))" \
	sh -c "snapctl status $ORIGIN -n -o size | grep -Eqx ' *[0-9]+(\\.[0-9])?[KMGTPE]'"

# freeze -- COMMAND: the command starts a write to the frozen filesystem
# in the background; after 1 s it must still be pending. The command
# reports that, and the frozen state status shows, in /tmp (not on the
# origin), and exits 7.
rm -f /tmp/t.inside /tmp/t.writer "$MNT/inside"
cat > /tmp/t-inside.sh <<EOF
sh -c "echo inside > $MNT/inside && sync" &
echo \$! > /tmp/t.writer
sleep 1
st=\$(sed 's/.*) //' /proc/\$!/stat 2>/dev/null | cut -d' ' -f1)
[ -n "\$st" ] && [ "\$st" != Z ] && echo blocked > /tmp/t.inside
snapctl -J status $ORIGIN | jq -r '.origins[0].frozen' >> /tmp/t.inside
exit 7
EOF
snapctl freeze "$ORIGIN" -- sh /tmp/t-inside.sh > /tmp/t.fz 2>&1
rc=$?
t0=$(date +%s)
W=$(cat /tmp/t.writer 2>/dev/null)
is "freeze -- COMMAND: the exit status is COMMAND's (7)" "$rc" 7
is "inside COMMAND, a write to the filesystem is held and status says frozen" \
	"$(tr '\n' ' ' < /tmp/t.inside 2>/dev/null)" "blocked true "
if [ -n "$W" ] && wait_gone "$W" 3 && [ "$(cat "$MNT/inside" 2>/dev/null)" = inside ]; then
	ok "after COMMAND, the held write completes at once ($(($(date +%s) - t0)) s)"
else
	not_ok "after COMMAND, the held write completes at once"
	sed 's/^/# /' /tmp/t.fz
fi
W=
is "status says not frozen after COMMAND" "$(status_field "$ORIGIN" frozen)" false
snapctl freeze "$ORIGIN" -- sleep 30 > /dev/null 2>&1 &
fz=$!
sleep 1
kill -TERM "$fz"
wait "$fz"
is "SIGTERM is passed to COMMAND: exit 128+15" "$?" 143
echo 1000 > "$PARAMS/hold_limit_ms"
snapctl freeze "$ORIGIN" -- sleep 2 > /tmp/t.fz 2>&1
rc=$?
echo "$old_limit" > "$PARAMS/hold_limit_ms"
if [ "$rc" = 1 ] && grep -q "hold limit" /tmp/t.fz; then
	ok "the hold limit passing during COMMAND: exit 1, said on stderr"
else
	not_ok "the hold limit passing during COMMAND: exit 1, said on stderr (exit $rc)"
	sed 's/^/# /' /tmp/t.fz
fi

# attach and a store with a filesystem
snapctl detach --force "$ORIGIN" > /dev/null
mkfs.ext4 -q -F -L vs-tables "$STORE" > /dev/null 2>&1
snapctl attach "$ORIGIN" --store "$STORE" > /tmp/t.at 2>&1
rc=$?
if [ "$rc" = 1 ] && grep -q "ext4" /tmp/t.at && grep -q "LABEL=vs-tables" /tmp/t.at &&
   grep -q -- "--force" /tmp/t.at &&
   ! snapctl status "$ORIGIN" > /dev/null 2>&1; then
	ok "attach refuses an ext4 store, naming it and --force"
else
	not_ok "attach refuses an ext4 store, naming it and --force (exit $rc)"
	sed 's/^/# /' /tmp/t.at
fi
check "attach --force takes it" snapctl attach "$ORIGIN" --store "$STORE" --force
tap_done
