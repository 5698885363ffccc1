#!/bin/sh
# The restore benchmark's guest half: tests/bench/restore boots it
# (`make bench-restore`). The leading underscore keeps it out of the
# normal suite.
#
# On the 1 GiB origin, per round: random data over all of it, attach
# (64 KiB chunks), snapshot A, 256 MiB (25%) changed by 64 KiB random
# writes at distinct offsets, snapshot B. Then, interleaved with dd
# baselines of the same amounts in this boot, timed:
#   dd_copy_1g      dd ORIGIN -> SCRATCH2, 1 GiB, 1 MiB direct I/O
#   clone_full      snapctl clone --no-verify A SCRATCH1 (1 GiB)
#   clone_full_verify  the same with the read-back comparison (to SCRATCH2)
#   dd_copy_256m    dd ORIGIN -> SCRATCH2, 256 MiB
#   clone_incr      snapctl clone --incremental A --no-verify B SCRATCH1
#                   (SCRATCH1 then checked against B's md5)
#   dd_read_1g      dd ORIGIN -> /dev/null, 1 GiB
#   nbd_read        snapctl export B --socket S, then nbdcopy of it to null:
#                   (only nbdcopy timed; export_start is the time to the
#                   ready line)
#   revert          snapctl revert A (writes back 256 MiB; the origin then
#                   checked against A's md5)
# Caches are dropped before each timed command. Every result is one line
# "@@BENCH {json}"; a failed check prints FAIL and a "check" record.
#
# Parameters (kernel command line): vsbench.rounds=3 vsbench.verify=1
# shellcheck shell=dash
set -u

ORIGIN=${VS_DISK_ORIGIN:-/dev/vda}
STORE=${VS_DISK_STORE:-/dev/vdb}
SCRATCH1=${VS_DISK_SCRATCH1:-/dev/vdc}
SCRATCH2=${VS_DISK_SCRATCH2:-/dev/vdd}
BT=/tests/bench/_benchtool
SOCK=/tmp/restore.sock

param() {	# param NAME DEFAULT: vsbench.NAME=VALUE from the kernel command line
	_v=$(tr ' ' '\n' < /proc/cmdline | sed -n "s/^vsbench\.$1=//p" | tail -n1)
	echo "${_v:-$2}"
}
ROUNDS=$(param rounds 3)
VERIFY=$(param verify 1)
T0=$($BT now)
FAILS=0

log() { echo "# [$(( ($($BT now) - T0) / 1000000000 ))s] $*"; }
emit() { echo "@@BENCH $1"; }
die() { log "FATAL: $*"; emit "{\"kind\":\"fatal\",\"msg\":\"$*\"}"; exit 1; }

# check WHAT GOT WANT: a "check" record; FAIL on a mismatch
check() {
	_ok=true
	if [ "$2" != "$3" ]; then
		_ok=false FAILS=$((FAILS + 1))
		echo "FAIL: round $ROUND: $1: got $2, want $3"
	fi
	emit "{\"kind\":\"check\",\"round\":$ROUND,\"what\":\"$1\",\"ok\":$_ok}"
}

md5() {	# md5 DEV MIB: md5 of the first MIB MiB
	dd if="$1" bs=1M count="$2" iflag=direct status=none | md5sum | cut -d' ' -f1
}

# timed OP MIB COMMAND...: run COMMAND (output in /tmp/op.out), emit its
# wall time in seconds
timed() {
	_op=$1 _mib=$2
	shift 2
	sync
	echo 3 > /proc/sys/vm/drop_caches
	_t=$($BT now)
	"$@" > /tmp/op.out 2> /tmp/op.err
	_rc=$?
	_ns=$(( $($BT now) - _t ))
	_s=$(awk -v n="$_ns" 'BEGIN { printf "%.3f", n / 1e9 }')
	[ $_rc = 0 ] || { log "$_op failed ($_rc): $(head -c 300 /tmp/op.err)"; FAILS=$((FAILS + 1)); }
	_out=$(tr -d '"\\\n' < /tmp/op.out | head -c 300)
	emit "{\"kind\":\"op\",\"op\":\"$_op\",\"round\":$ROUND,\"mib\":$_mib,\"seconds\":$_s,\"rc\":$_rc,\"out\":\"$_out\"}"
	log "round $ROUND: $_op ${_s}s"
}

ddcopy() {	# ddcopy FROM TO MIB
	dd if="$1" of="$2" bs=1M count="$3" iflag=direct oflag=direct status=none
}

snap() {	# snap ORIGIN: the new snapshot's image device
	_o=$(snapctl -J create "$1") || die "create"
	_d=${_o#*\"device\": \"}
	echo "${_d%%\"*}"
}

nbd_read() {	# the export of $IMG_B must be up: read all of it
	nbdcopy "nbd+unix:///?socket=$SOCK" null:
}

one_round() {
	log "round $ROUND: fill the origin"
	fio --name=fill --filename="$ORIGIN" --rw=write --bs=1M --iodepth=4 --direct=1 \
	    --ioengine=libaio --size=1G --refill_buffers --randseed=$((ROUND * 7)) \
	    > /dev/null 2>&1 || die "fill"
	SUM_A=$(md5 "$ORIGIN" 1024)
	snapctl attach "$ORIGIN" --store "$STORE" --chunk-size 64K > /dev/null || die "attach"
	IMG_A=$(snap "$ORIGIN")
	fio --name=change --filename="$ORIGIN" --rw=randwrite --bs=64k --iodepth=4 --direct=1 \
	    --ioengine=libaio --size=1G --io_size=256M --refill_buffers \
	    --randseed=$((ROUND * 13)) > /dev/null 2>&1 || die "change"
	SUM_B=$(md5 "$ORIGIN" 1024)
	IMG_B=$(snap "$ORIGIN")
	CHANGED=$(snapctl -J diff "$IMG_A" "$IMG_B" | sed -n 's/.*"changed": \([0-9]*\).*/\1/p')
	emit "{\"kind\":\"setup\",\"round\":$ROUND,\"image_a\":\"$IMG_A\",\"image_b\":\"$IMG_B\",\"changed_bytes\":${CHANGED:-null}}"
	log "round $ROUND: A $IMG_A, B $IMG_B, $CHANGED bytes changed"

	timed dd_copy_1g 1024 ddcopy "$ORIGIN" "$SCRATCH2" 1024
	timed clone_full 1024 snapctl -J clone --no-verify "$IMG_A" "$SCRATCH1"
	[ "$VERIFY" = 1 ] &&
		timed clone_full_verify 1024 snapctl -J clone "$IMG_A" "$SCRATCH2"
	check "full clone equals A" "$(md5 "$SCRATCH1" 1024)" "$SUM_A"
	timed dd_copy_256m 256 ddcopy "$ORIGIN" "$SCRATCH2" 256
	timed clone_incr 256 snapctl -J clone --incremental "$IMG_A" --no-verify "$IMG_B" "$SCRATCH1"
	check "incremental clone equals B" "$(md5 "$SCRATCH1" 1024)" "$SUM_B"
	timed dd_read_1g 1024 dd if="$ORIGIN" of=/dev/null bs=1M count=1024 iflag=direct status=none

	rm -f $SOCK
	sync
	echo 3 > /proc/sys/vm/drop_caches
	_t=$($BT now)
	snapctl export "$IMG_B" --socket $SOCK > /tmp/export.out 2> /tmp/export.err &
	_ep=$!
	_w=0
	until grep -q '^exporting ' /tmp/export.out 2> /dev/null; do
		_w=$((_w + 1))
		[ $_w -lt 600 ] || die "export: no ready line: $(cat /tmp/export.err)"
		sleep 0.05
	done
	_s=$(awk -v n="$(( $($BT now) - _t ))" 'BEGIN { printf "%.3f", n / 1e9 }')
	emit "{\"kind\":\"op\",\"op\":\"export_start\",\"round\":$ROUND,\"mib\":0,\"seconds\":$_s,\"rc\":0,\"out\":\"\"}"
	timed nbd_read 1024 nbd_read
	kill -INT $_ep
	wait $_ep

	timed revert 256 snapctl revert "$IMG_A"
	check "origin after revert equals A" "$(md5 "$ORIGIN" 1024)" "$SUM_A"
	snapctl status "$ORIGIN" | sed "s/^/# round $ROUND status: /"
	snapctl detach "$ORIGIN" --force > /dev/null || die "detach"
}

insmod /lib/modules/volsnap.ko || die "insmod volsnap"
printf '@@BENCH {"kind":"meta","kernel":"%s","snapctl":"%s","nbdcopy":"%s","guest_cpus":%s,"guest_mem_kib":%s,"rounds":%s,"verify":%s,"cmdline":"%s"}\n' \
	"$(uname -r)" "$(snapctl version | tr '\n' ' ')" "$(nbdcopy --version | head -n1)" \
	"$(grep -c ^processor /proc/cpuinfo)" \
	"$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)" "$ROUNDS" "$VERIFY" \
	"$(cat /proc/cmdline)"
ROUND=1
while [ $ROUND -le "$ROUNDS" ]; do
	one_round
	ROUND=$((ROUND + 1))
done
log "done, $FAILS failures"
emit "{\"kind\":\"end\",\"failures\":$FAILS}"
[ $FAILS = 0 ]
