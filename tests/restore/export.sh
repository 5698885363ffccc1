#!/bin/sh
# snapctl export: a snapshot's image served read-only over NBD (nbdkit),
# read by standard clients (nbdcopy, nbdinfo, qemu-img, the kernel's NBD
# device through nbd-client) inside the guest.
#  - Over a Unix socket, and over TCP on loopback where the kernel has
#    TCP/IP (not the debug kernel): nbdcopy reads the whole image, which
#    matches the image device and not the origin, written since.
#  - With --changed-since A on image B: nbdinfo --map lists as data
#    exactly the chunks written between A and B, the rest as holes that
#    are not zeros; a client reading only those extents onto a copy of A
#    rebuilds B; nbdcopy of the whole export still reads B.
#    (A module without VOLSNAP_IOC_DIFF fails these.)
#  - SIGINT stops the server: exit 0, no nbdkit left, socket removed.
#    Deleting the snapshot (--force) under a reading client stops it:
#    exit 1 with a message; the client fails.
#  - Refusals: not an image, no such snapshot, bad --listen, --listen
#    with --socket, --changed-since a newer snapshot.
# The origin is a 64 MiB dm-linear device on $ORIGIN, to keep the copies
# short under TCG.
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

SOCK=/tmp/export.sock
EXP=
dm=

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	[ -n "$EXP" ] && kill "$EXP" 2> /dev/null
	[ -n "$dm" ] && quiet_detach "$dm"
	dmsetup remove vs-export 2> /dev/null
	if [ -d /sys/module/nbd ]; then
		nbd-client -d /dev/nbd0 > /dev/null 2>&1
		rmmod nbd
	fi
	rm -f "$SOCK" /tmp/export-rebuilt
}
trap cleanup EXIT

# start_export ARGS... - snapctl export ARGS in the background (EXP, its
# pid); 0 once it printed its ready line, which sets URI.
start_export() {
	snapctl export "$@" > /tmp/export.out 2> /tmp/export.err &
	EXP=$!
	URI=
	wait_file_has /tmp/export.out '^exporting ' 60 || {
		sed 's/^/# stderr: /' /tmp/export.err
		export_state
		return 1
	}
	URI=$(sed -n 's/^exporting .* at \([^ ,]*\).*/\1/p' /tmp/export.out)
	[ -n "$URI" ]
}

# export_state - say where a snapctl export that never got ready is: its
# state and kernel wait channel, and nbdkit's, to tell a hang in snapctl
# from a slow server.
export_state() {
	for _p in "$EXP" $(pidof nbdkit); do
		[ -r "/proc/$_p/status" ] || { echo "# pid $_p: gone"; continue; }
		echo "# pid $_p ($(cat "/proc/$_p/comm")):" \
			"$(sed -n 's/^State:[[:space:]]*//p' "/proc/$_p/status")," \
			"wchan $(cat "/proc/$_p/wchan" 2> /dev/null)," \
			"blocked signals $(sed -n 's/^SigBlk:[[:space:]]*//p' "/proc/$_p/status")"
		sed 's/^/#   stack: /' "/proc/$_p/stack" 2> /dev/null
	done
}

# stop_export SIGNAL - send SIGNAL to the export; RC its exit status.
stop_export() {
	kill -"$1" "$EXP"
	RC=timeout
	wait_gone "$EXP" 20 && { wait "$EXP"; RC=$?; }
	EXP=
}

# no_nbdkit - no nbdkit process is left.
# shellcheck disable=SC2317  # called through check
no_nbdkit() {
	! pidof nbdkit > /dev/null
}

# sum FILE|- - its MD5.
sum() {
	md5sum "$1" | cut -d' ' -f1
}

# put DEV MIB_OFFSET KIB - KIB KiB of random data at MIB_OFFSET MiB.
put() {
	dd if=/dev/urandom of="$1" bs=64K seek=$(($2 * 16)) count=$(($3 / 64)) \
		oflag=direct conv=notrunc status=none
}

fresh_start
tap_plan 29

dm=$(dm_create vs-export "0 131072 linear $ORIGIN 0")
snapctl attach "$dm" --store "$STORE" --chunk-size 64K > /dev/null
dd if=/dev/urandom of="$dm" bs=1M count=64 oflag=direct status=none
create_snap "$dm"
A=$SNAP_DEV
# Between A and B: 1 MiB at 4 MiB, 64 KiB at 20 MiB, the last 128 KiB.
put "$dm" 4 1024
put "$dm" 20 64
dd if=/dev/urandom of="$dm" bs=64K seek=1022 count=2 oflag=direct \
	conv=notrunc status=none
create_snap "$dm"
B=$SNAP_DEV
# After B: the origin no longer equals B.
put "$dm" 8 1024
SUM_A=$(sum "$A")
SUM_B=$(sum "$B")
SUM_O=$(sum "$dm")
diag "A=$A B=$B"

# --- a Unix socket ----------------------------------------------------------
if start_export "$B" --socket "$SOCK"; then
	ok "export B --socket: ready, at $URI"
else
	not_ok "export B --socket: ready"
fi
is "nbdcopy of the export: B's checksum" \
	"$(nbdcopy "$URI" - 2> /dev/null | sum -)" "$SUM_B"
check "... not the origin's, written since" [ "$SUM_B" != "$SUM_O" ]
nbdinfo --map "$URI" > /tmp/export.map 2>&1
is "nbdinfo --map: one data extent, the whole image" \
	"$(awk '{ print $1, $2, $3 }' /tmp/export.map)" "0 67108864 0"
check "the export is read-only" \
	sh -c "nbdinfo '$URI' | grep -q 'is_read_only: true'"
# The other standard clients: QEMU's, and the kernel's NBD device.
qemu-img convert -f raw -O raw "$URI" /tmp/export-qemu 2> /tmp/export-qemu.err
is "qemu-img convert of the export: B's checksum" \
	"$(sum /tmp/export-qemu)" "$SUM_B"
rm -f /tmp/export-qemu
insmod /lib/modules/nbd.ko nbds_max=1
if nbd-client -unix "$SOCK" /dev/nbd0 > /tmp/export-nbd.err 2>&1; then
	is "nbd-client: /dev/nbd0 reads B's checksum" "$(sum /dev/nbd0)" "$SUM_B"
	nbd-client -d /dev/nbd0 > /dev/null 2>&1
else
	sed 's/^/# /' /tmp/export-nbd.err
	not_ok "nbd-client: /dev/nbd0 reads B's checksum"
fi
rmmod nbd
stop_export INT
is "SIGINT: exit status 0" "$RC" 0
check "SIGINT: 'stopped exporting' printed" \
	grep -q "^stopped exporting $B\$" /tmp/export.out
check "SIGINT: no nbdkit process left" no_nbdkit
check "SIGINT: the socket is removed" [ ! -e "$SOCK" ]

# --- TCP on loopback --------------------------------------------------------
if [ -d /proc/sys/net/ipv4 ]; then
	ifconfig lo 127.0.0.1 up
	if start_export "$B" --listen 127.0.0.1:10809; then
		is "TCP: nbdcopy of $URI: B's checksum" \
			"$(nbdcopy "$URI" - 2> /dev/null | sum -)" "$SUM_B"
	else
		not_ok "TCP: export B --listen 127.0.0.1:10809: ready"
	fi
	stop_export TERM
	is "TCP: SIGTERM: exit status 0, no nbdkit left" \
		"$RC $(pidof nbdkit)" "0 "
else
	skip "TCP: nbdcopy over loopback" "no TCP/IP in this kernel"
	skip "TCP: SIGTERM" "no TCP/IP in this kernel"
fi

# --- changed extents --------------------------------------------------------
if start_export "$B" --socket "$SOCK" --changed-since "$A"; then
	ok "export B --changed-since A: ready: $(cat /tmp/export.out)"
else
	not_ok "export B --changed-since A: ready"
fi
nbdinfo --map "$URI" > /tmp/export.map 2>&1
sed 's/^/# /' /tmp/export.map
is "nbdinfo --map: the changed chunks as data" \
	"$(awk '$3 == 0 { printf "%s+%s ", $1, $2 }' /tmp/export.map)" \
	"4194304+1048576 20971520+65536 66977792+131072 "
is "nbdinfo --map: the rest as holes without the zero flag" \
	"$(awk '$3 != 0 { printf "%s ", $3 }' /tmp/export.map)" "1 1 1 "
# A client that reads only the data extents, onto a copy of A: a captive
# nbdkit (nbd plugin, offset filter) serves one extent of the export to
# nbdcopy.
dd if="$A" of=/tmp/export-rebuilt bs=1M status=none
awk '$3 == 0 { print $1, $2 }' /tmp/export.map |
while read -r off len; do
	sock=${URI#*socket=}
	# shellcheck disable=SC2016  # $uri is nbdkit's, for its --run
	nbdkit -U - --filter=offset nbd socket="$sock" offset="$off" \
		range="$len" --run 'nbdcopy "$uri" -' < /dev/null |
		dd of=/tmp/export-rebuilt bs=64K seek=$((off / 65536)) \
			conv=notrunc status=none
done
check "A + the data extents read through the export = B" \
	cmp /tmp/export-rebuilt "$B"
is "nbdcopy of the whole export still reads B (holes are not zeros)" \
	"$(nbdcopy "$URI" - 2> /dev/null | sum -)" "$SUM_B"
stop_export INT
rm -f /tmp/export-rebuilt
snapctl export "$A" --socket "$SOCK" --changed-since "$B" > /dev/null \
	2> /tmp/export.err
is "export A --changed-since B (newer): refused" \
	"$? $(cat /tmp/export.err)" "1 snapctl export: $B: not older than $A"
check "A's image is unchanged by all this" [ "$(sum "$A")" = "$SUM_A" ]

# --- the snapshot deleted ---------------------------------------------------
if start_export "$B" --socket "$SOCK"; then
	ok "export B again: ready"
else
	not_ok "export B again: ready"
fi
# A client in the middle of a read (one request at a time, blocked on a
# full pipe), so that nbdkit has the image open.
( nbdcopy --connections=1 --requests=1 --request-size=65536 "$URI" - \
	2> /dev/null; echo $? > /tmp/export.client ) |
	{ sleep 4; cat > /dev/null; } &
CLIENT=$!
sleep 2
snapctl delete --force "$B" > /dev/null
RC=timeout
wait_gone "$EXP" 20 && { wait "$EXP"; RC=$?; }
EXP=
wait "$CLIENT"
is "B deleted: the client reading it fails, with no stale data" \
	"$(cat /tmp/export.client)" 1
is "B deleted: exit status 1" "$RC" 1
check "B deleted: the message says so" \
	grep -q "^snapctl export: $B: the snapshot was deleted: export stopped\$" \
	/tmp/export.err
check "B deleted: no nbdkit left, socket removed" \
	sh -c "! pidof nbdkit && [ ! -e '$SOCK' ]"

# --- refusals ---------------------------------------------------------------
expect_fail "export ORIGIN (not an image): exit 1" 1 \
	snapctl export "$dm" --socket "$SOCK"
expect_fail "export a deleted image: exit 1" 1 \
	snapctl export "$B" --socket "$SOCK"
expect_fail "export --listen without a port: exit 2" 2 \
	snapctl export "$A" --listen 127.0.0.1
expect_fail "export --listen with --socket: exit 2" 2 \
	snapctl export "$A" --listen 127.0.0.1:10809 --socket "$SOCK"

tap_done
