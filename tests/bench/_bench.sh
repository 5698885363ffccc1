#!/bin/sh
# The benchmark rig's guest half: tests/bench/run boots it (`make bench`).
# The leading underscore keeps it out of the normal suite.
#
# In this one boot, interleaved over ROUNDS rounds (each round runs every
# contender once, in a fixed order), fio against:
#   raw        /dev/vda, no snapshot
#   vs64-N     volsnap, 64 KiB chunks, N live snapshots (N = 1, 8, 32, 64)
#   vs4-N      volsnap, 4 KiB chunks
#   dm64-N     dm-snapshot as LVM builds it: snapshot-origin over the disk
#              and N snapshot targets, each with a persistent exception
#              store on a dm-linear slice of the dmstore disk (N = 1, 8, 32)
#   dm4-N      the same with 4 KiB chunks
# then snapshot-create hold times on a 1 GiB and a 1 TiB origin, idle and
# under a write load, and a 70/30 read/write job on an ext4 file under a
# snapshot. Every snapshot image is checked against the pre-image.
#
# Output: one line "@@BENCH {json}" per result, parsed by tests/bench/run.
# fio's own JSON is passed through untouched (jq costs 0.6 s a call under
# TCG, so the guest computes nothing it can leave to the host).
#
# Parameters, from the kernel command line (tests/bench/run sets them):
#   vsbench.rounds=3 vsbench.runtime=2 vsbench.quick=0 vsbench.profile=0
#   vsbench.only=overhead,matrix,hold,ext4 vsbench.prefill=1
# shellcheck shell=dash
set -u

ORIGIN=${VS_DISK_ORIGIN:-/dev/vda}
STORE=${VS_DISK_STORE:-/dev/vdb}
FSDEV=${VS_DISK_SCRATCH1:-/dev/vdc}
FSSTORE=${VS_DISK_SCRATCH2:-/dev/vdd}
DMSTORE=${VS_DISK_DMSTORE:-/dev/vde}
HUGE=${VS_DISK_HUGE:-/dev/vdf}
BT=/tests/bench/_benchtool
PERF=/tests/bench/_perf

param() {	# param NAME DEFAULT: vsbench.NAME=VALUE from the kernel command line
	_v=$(tr ' ' '\n' < /proc/cmdline | sed -n "s/^vsbench\.$1=//p" | tail -n1)
	echo "${_v:-$2}"
}
ROUNDS=$(param rounds 3)
RUNTIME=$(param runtime 2)
QUICK=$(param quick 0)
PROFILE=$(param profile 0)
ONLY=$(param only overhead,matrix,hold,ext4)
PREFILL=$(param prefill 1)

MiB=1048576
REGION=256		# MiB per workload region on the 1 GiB origin
R1=0			# 4 KiB random writes, queue depth 1 (first touch)
R2=256			# 4 KiB random writes, queue depth 16 (first touch)
R3=512			# 1 MiB sequential writes (first touch), then the rewrites
REW=32			# MiB at R3 that the rewrites and the "changed" reads use
R4=768			# never written: the "unchanged" reads
COW_MIB=800		# each dm-snapshot exception store: room for R1..R3
# Image checks: MiB stride of the pre-image sums. The oldest and the newest
# image of a setup are compared at every ENDS_STEP-th MiB of the whole
# device, the images between them at every MID_STEP-th MiB.
ENDS_STEP=4
MID_STEP=64
T0=$($BT now)

log() { echo "# [$(( ($($BT now) - T0) / 1000000000 ))s] $*"; }
emit() { echo "@@BENCH $1"; }
die() { log "FATAL: $*"; emit "{\"kind\":\"fatal\",\"msg\":\"$*\"}"; exit 1; }
has() { case ",$ONLY," in *",$1,"*) return 0 ;; esac; return 1; }

# --------------------------------------------------------------------------
# fio: every job direct, libaio; results as JSON in /tmp/fio.json.

FIO_GLOBAL="--direct=1 --ioengine=libaio --invalidate=0 --disk_util=0 --eta=never
	--percentile_list=50:99:99.9 --output-format=json --output=/tmp/fio.json"

# job NAME DEV RW BS QD OFFSET_MIB SIZE_MIB TIMEBASED: append one job to
# $JOBS. A non-block-device DEV is refused: fio would create a file.
job() {
	[ -b "$2" ] || die "fio target $2 is not a block device"
	JOBS="$JOBS --name=$1 --stonewall --filename=$2 --rw=$3 --bs=$4 --iodepth=$5
		--offset=$(($6 * MiB)) --size=$(($7 * MiB)) --runtime=$RUNTIME"
	[ "$8" = 1 ] && JOBS="$JOBS --time_based"
	NJOBS=$((NJOBS + 1))
}

# run_jobs GROUP: run $JOBS in one fio and emit the result. /tmp/poststat
# appends the store and memory figures to /tmp/marks before the group and
# after each job (fio's exec_postrun), so "marks" has one entry more than
# the group has jobs.
run_jobs() {
	rm -f /tmp/fio.json
	: > /tmp/marks
	/tmp/poststat
	# shellcheck disable=SC2086  # word splitting of the option lists
	fio $FIO_GLOBAL --exec_postrun=/tmp/poststat $JOBS 2> /tmp/fio.err ||
		log "fio ($1) failed: $(head -c 300 /tmp/fio.err)"
	[ -s /tmp/fio.json ] || echo '{}' > /tmp/fio.json
	printf '@@BENCH {"kind":"fio","contender":"%s","system":"%s","chunk":"%s","snapshots":%s,"round":%s,"group":"%s","e3_mib":%s,"prep_mib":%s,"marks":[%s],"fio":' \
		"$NAME" "$KIND" "$CHUNK" "$NSNAP" "$ROUND" "$1" "${E3:-0}" "${PREP:-0}" \
		"$(tr '\n' ',' < /tmp/marks | sed 's/,$//')"
	tr -d '\n\t' < /tmp/fio.json
	echo '}'
	JOBS='' NJOBS=0
}

# /tmp/poststat for the current contender: store bytes used, slab bytes,
# vmalloc bytes, as a JSON array, one line per call.
poststat_init() {	# poststat_init raw|vs ORIGIN|dm NAME
	case $1 in
	raw) _st='echo 0' ;;
	vs) _st="snapctl status $2 | sed -n 's/^store used: \\([0-9]*\\) .*/\\1/p'" ;;
	dm) _st="dmsetup status | awk 'index(\$1, \"$2-s\") == 1 && \$5 ~ /\\// { split(\$5, a, \"/\"); s += a[1] * 512 } END { print s + 0 }'" ;;
	esac
	cat > /tmp/poststat <<-EOF
	#!/bin/sh
	st=\$($_st)
	awk -v st="\$st" 'FILENAME == "/proc/slabinfo" && FNR > 2 { s += \$3 * \$4 }
	    FILENAME == "/proc/meminfo" && /^VmallocUsed:/ { v = \$2 * 1024 }
	    END { printf "[%.0f,%.0f,%.0f]\\n", st, s, v }' /proc/slabinfo /proc/meminfo >> /tmp/marks
	EOF
	chmod +x /tmp/poststat
}

# The caches a chunk map or an exception table lives in, as a JSON object.
slab_detail() {
	awk 'NR > 2 && ($1 ~ /^kmalloc-(32|64|96|128|192|256)$/ || $1 == "radix_tree_node" ||
	     $1 ~ /^dm_/ || $1 ~ /snap/ || $1 ~ /^kcopyd/ || $1 ~ /^bio/) {
		printf "%s\"%s\":%d", n++ ? "," : "{", $1, $3 * $4 }
	     END { print n ? "}" : "{}" }' /proc/slabinfo
}

# --------------------------------------------------------------------------
# volsnap

vs_images() { snapctl list -n -r -o device "$1"; }	# oldest first
vs_invalid() { snapctl list -n -r -o state "$1" | grep -cv '^valid$'; }

# --------------------------------------------------------------------------
# dm-snapshot, as LVM builds it: NAME-real (linear over the disk), NAME
# (snapshot-origin over NAME-real: what users write to), and per snapshot
# NAME-cowI (a linear slice of the dmstore disk, header zeroed as LVM does)
# and NAME-sI (snapshot NAME-real NAME-cowI P CHUNK_SECTORS). Tables name
# devices by major:minor.

dm_devt() { dmsetup info -c --noheadings -o major,minor --separator : "$1" | tr -d ' '; }

dm_nodes() {	# dmsetup makes no /dev/mapper nodes without udev everywhere
	dmsetup mknodes > /dev/null 2>&1
	for _n in "$@"; do
		[ -b "/dev/mapper/$_n" ] || die "no /dev/mapper/$_n"
	done
}

dm_origin_up() {	# dm_origin_up NAME DISK
	_sz=$(blockdev --getsz "$2")
	dmsetup create "$1-real" --table "0 $_sz linear $2 0" || die "dmsetup $1-real"
	DM_REAL=$(dm_devt "$1-real")
	DM_SIZE=$_sz
	dmsetup create "$1" --table "0 $_sz snapshot-origin $DM_REAL" || die "dmsetup $1"
	dm_nodes "$1"
}

# dm_cows NAME FIRST LAST: COW devices FIRST..LAST on slots of the same
# numbers, in one dmsetup call, their headers zeroed.
dm_cows() {
	_spec='' _i=$2
	while [ "$_i" -le "$3" ]; do
		_spec="$_spec${_spec:+;}$1-cow$_i,,,,0 $((COW_MIB * 2048)) linear $DMSTORE $((_i * COW_MIB * 2048))"
		_i=$((_i + 1))
	done
	$BT zero "$DMSTORE" $(($2 * COW_MIB))M ${COW_MIB}M $(($3 - $2 + 1)) 64K || die "zero COW headers"
	dmsetup create --concise "$_spec" || die "dmsetup COWs $1 $2..$3"
	dmsetup info -c --noheadings -o name,major,minor --separator ' ' > /tmp/dmdevs
}

dm_devt_cached() {	# major:minor of $1 from /tmp/dmdevs
	while read -r _n _ma _mi; do
		[ "$_n" = "$1" ] && { echo "$_ma:$_mi"; return; }
	done < /tmp/dmdevs
}

# dm_snaps NAME FIRST LAST CHUNK_SECTORS: snapshot targets FIRST..LAST,
# all inside one suspend of the origin (set-up only; the timed creation
# in the hold phase takes one snapshot per suspend, as lvcreate does).
dm_snaps() {
	_spec='' _i=$2
	while [ "$_i" -le "$3" ]; do
		_spec="$_spec${_spec:+;}$1-s$_i,,,ro,0 $DM_SIZE snapshot $DM_REAL $(dm_devt_cached "$1-cow$_i") P $4"
		_i=$((_i + 1))
	done
	dmsetup suspend "$1" || die "suspend $1"
	dmsetup create --concise "$_spec" || die "dm snapshots $1 $2..$3"
	dmsetup resume "$1" || die "resume $1"
}

# dm_snap_cmd NAME I CHUNK_SECTORS: the command that takes snapshot I as
# lvcreate does: suspend the origin, add the snapshot, resume.
dm_snap_cmd() {
	echo "dmsetup suspend $1 && dmsetup create $1-s$2 --readonly --table '0 $DM_SIZE snapshot $DM_REAL $(dm_devt_cached "$1-cow$2") P $3' && dmsetup resume $1"
}

dm_invalid() {	# snapshots of NAME that are invalid or overflowed
	dmsetup status | awk -v p="$1-s" 'index($1, p) == 1 && $4 == "snapshot" && $5 !~ /\// { n++ }
		END { print n + 0 }'
}

dm_down() { dmsetup remove_all > /dev/null || die "dmsetup remove_all"; rm -rf /dev/mapper/[!c]*; }

# --------------------------------------------------------------------------
# Images against the pre-image: /tmp/pre.ends holds the sums of every
# ENDS_STEP-th MiB of the origin, /tmp/pre.mid of every MID_STEP-th, both
# taken just before the snapshots (nothing writes the origin in between).

pre_sums() {
	$BT sums "$1" 0 1G $ENDS_STEP > /tmp/pre.ends || die "pre-image sums"
	awk -v s=$MID_STEP '$1 % s == 0' /tmp/pre.ends > /tmp/pre.mid
}

# check_images DEV...: the first and the last against /tmp/pre.ends, the
# others against /tmp/pre.mid. Sets CHECKED, CHECKED_MIB, BAD.
check_images() {
	CHECKED=0 CHECKED_MIB=0 BAD=0
	_n=$# _k=0
	for _img in "$@"; do
		_k=$((_k + 1))
		_sums=/tmp/pre.mid
		[ $_k = 1 ] || [ $_k = "$_n" ] && _sums=/tmp/pre.ends
		_res=$($BT check "$_img" $_sums) || {
			BAD=$((BAD + 1))
			log "MISMATCH $NAME $_img: $_res"
		}
		# shellcheck disable=SC2086  # "checked N bad M first F"
		set -- $_res
		CHECKED=$((CHECKED + 1)) CHECKED_MIB=$((CHECKED_MIB + $2))
	done
}

# --------------------------------------------------------------------------
# The matrix

# Contenders: NAME KIND CHUNK N
contenders() {
	if [ "$QUICK" = 1 ]; then
		printf '%s\n' "raw raw 0 0" "vs64-1 vs 64K 1" "vs64-8 vs 64K 8" "vs4-1 vs 4K 1" \
			"dm64-1 dm 64K 1" "dm64-8 dm 64K 8" "dm4-1 dm 4K 1"
		return
	fi
	printf '%s\n' "raw raw 0 0" \
		"vs64-1 vs 64K 1" "vs64-8 vs 64K 8" "vs64-32 vs 64K 32" "vs64-64 vs 64K 64" \
		"vs4-1 vs 4K 1" "vs4-8 vs 4K 8" "vs4-32 vs 4K 32" "vs4-64 vs 4K 64" \
		"dm64-1 dm 64K 1" "dm64-8 dm 64K 8" "dm64-32 dm 64K 32" \
		"dm4-1 dm 4K 1" "dm4-8 dm 4K 8" "dm4-32 dm 4K 32"
}

run_contender() {	# run_contender NAME KIND CHUNK N ROUND
	NAME=$1 KIND=$2 CHUNK=$3 NSNAP=$4 ROUND=$5
	E3=0 PREP=0 JOBS='' NJOBS=0 holds='' images=''
	log "round $ROUND: $NAME"
	_t0=$($BT now)
	case $KIND in
	raw)
		DEV=$ORIGIN
		poststat_init raw ;;
	vs)
		snapctl attach "$ORIGIN" --store "$STORE" --chunk-size "$CHUNK" > /dev/null ||
			die "attach"
		pre_sums "$ORIGIN"
		_i=0
		while [ $_i -lt "$NSNAP" ]; do
			_o=$(snapctl -J create "$ORIGIN") || die "create"
			_h=${_o##*\"hold_ms\": }
			holds="$holds${holds:+,}${_h%\}}"
			_i=$((_i + 1))
		done
		images=$(vs_images "$ORIGIN")
		DEV=$ORIGIN
		poststat_init vs "$ORIGIN" ;;
	dm)
		dm_origin_up bo "$ORIGIN"
		pre_sums "$ORIGIN"
		dm_cows bo 1 "$NSNAP"
		dm_snaps bo 1 "$NSNAP" $(( ${CHUNK%K} * 2 ))
		_i=1
		while [ $_i -le "$NSNAP" ]; do
			images="$images /dev/mapper/bo-s$_i"
			_i=$((_i + 1))
		done
		# shellcheck disable=SC2086
		dm_nodes bo-s1 bo-s$NSNAP
		DEV=/dev/mapper/bo
		poststat_init dm bo ;;
	esac
	_setup_ms=$(( ($($BT now) - _t0) / 1000000 ))
	sync
	_det0=$(slab_detail)

	# First touch, right after the snapshots: regions nothing wrote since.
	job seqw_first "$DEV" write 1M 4 $R3 $REGION 0
	run_jobs first_seq
	E3=$(awk '/"write" : \{/ { w = 1 } w && /"io_bytes"/ { gsub(/[^0-9]/, ""); print int($0 / 1048576); exit }' /tmp/fio.json)
	E3=${E3:-0} PREP=0
	if [ "$E3" -lt $REW ]; then
		PREP=$((REW - E3))
		# The slowest contenders did not reach REW MiB in RUNTIME
		# seconds: preserve the rest (untimed), so that every
		# contender rewrites the same REW MiB.
		fio --name=prep --filename="$DEV" --rw=write --bs=1M --iodepth=4 --direct=1 \
		    --ioengine=libaio --offset=$(((R3 + E3) * MiB)) --size=$(((REW - E3) * MiB)) \
		    > /dev/null 2>&1 || die "rewrite region"
	fi
	# shellcheck disable=SC2086  # one word per image
	set -- $images
	img=${1:-$ORIGIN}
	job rw1_first "$DEV" randwrite 4k 1 $R1 $REGION 1
	job rw16_first "$DEV" randwrite 4k 16 $R2 $REGION 1
	# Rewrites: the first REW MiB of R3, written since the snapshots, so
	# each of its chunks is already preserved.
	job rw1_re "$DEV" randwrite 4k 1 $R3 $REW 1
	if [ "$NSNAP" -le 1 ]; then
		job rw16_re "$DEV" randwrite 4k 16 $R3 $REW 1
		job seqw_re "$DEV" write 1M 4 $R3 $REW 1
		# Reads of the image (raw: of the origin): R3 changed, R4 not.
		job rr_changed "$img" randread 4k 1 $R3 $REW 1
		job sr_changed "$img" read 1M 4 $R3 $REW 1
		job rr_unchanged "$img" randread 4k 1 $R4 $REGION 1
		job sr_unchanged "$img" read 1M 4 $R4 $REGION 1
	fi
	run_jobs rest
	_det1=$(slab_detail)

	CHECKED=0 CHECKED_MIB=0 BAD=0 invalid=0
	_t0=$($BT now)
	case $KIND in
	vs) invalid=$(vs_invalid "$ORIGIN") ;;
	dm) invalid=$(dm_invalid bo) ;;
	esac
	# shellcheck disable=SC2086  # one word per image
	[ -n "$images" ] && check_images $images
	_check_ms=$(( ($($BT now) - _t0) / 1000000 ))
	emit "{\"kind\":\"setup\",\"contender\":\"$NAME\",\"system\":\"$KIND\",\"chunk\":\"$CHUNK\",\"snapshots\":$NSNAP,\"round\":$ROUND,\"setup_ms\":$_setup_ms,\"check_ms\":$_check_ms,\"create_hold_ms\":[$holds],\"images_checked\":$CHECKED,\"checked_mib\":$CHECKED_MIB,\"images_bad\":$BAD,\"images_invalid\":$invalid,\"slab_detail_before\":$_det0,\"slab_detail_after\":$_det1}"

	case $KIND in
	vs) snapctl detach "$ORIGIN" --force > /dev/null || die "detach" ;;
	dm) dm_down ;;
	esac
}

phase_matrix() {
	log "matrix: $ROUNDS rounds, ${RUNTIME}s per fio job"
	_round=1
	while [ $_round -le "$ROUNDS" ]; do
		contenders > /tmp/contenders
		while read -r name kind chunk n; do
			run_contender "$name" "$kind" "$chunk" "$n" "$_round" < /dev/null
		done < /tmp/contenders
		_round=$((_round + 1))
	done
}

# --------------------------------------------------------------------------
# Hold time of snapshot creation, on the 1 GiB origin and on the 1 TiB
# sparse one, in three conditions: idle (the command alone), writer (a
# 4 KiB synchronous writer: _benchtool latprobe times each of its writes
# and runs the command in the middle), load (the same writer beside fio
# 4 KiB random writes at queue depth 8). volsnap's command is snapctl,
# executed directly; dm-snapshot's is the sh -c line that suspends, adds
# the snapshot and resumes. "base" times `snapctl version` the same way:
# the cost of starting a process under TCG.

hold_one() {	# hold_one SYSTEM SIZE idle|writer|load|base TARGET I
	case $1 in
	vs) set -- "$@" snapctl -J create "$4" ;;
	dm) set -- "$@" sh -c "$(dm_snap_cmd hd "$5" 128)" ;;
	esac
	[ "$3" = base ] && set -- "$1" "$2" "$3" "$4" "$5" snapctl version
	case $3 in
	idle|base)
		_a="0 0 0 0" ;;
	writer)
		_a="0 $((64 * MiB)) 1000 1000" ;;
	load)
		fio --name=load --filename="$4" --rw=randwrite --bs=4k --iodepth=8 \
		    --direct=1 --ioengine=libaio --invalidate=0 --offset=$((128 * MiB)) \
		    --size=$((256 * MiB)) --time_based --runtime=30 > /dev/null 2>&1 &
		_lp=$!
		sleep 2
		_a="0 $((64 * MiB)) 1000 1000" ;;
	esac
	_sys=$1 _size=$2 _cond=$3 _dev=$4 _idx=$5
	shift 5
	# shellcheck disable=SC2086  # $_a: four numbers
	$BT latprobe "$_dev" $_a "$@" > /tmp/probe.json
	if [ "$_cond" = load ]; then
		kill "$_lp" 2> /dev/null
		wait "$_lp" 2> /dev/null
	fi
	emit "{\"kind\":\"hold\",\"system\":\"$_sys\",\"origin_size\":\"$_size\",\"load\":\"$_cond\",\"round\":$ROUND,\"index\":$_idx,\"probe\":$(cat /tmp/probe.json)}"
}

phase_hold() {
	log "hold: create on 1 GiB and 1 TiB origins: idle, beside a writer, under load"
	ROUND=1
	while [ $ROUND -le "$ROUNDS" ]; do
		for size in 1G 1T; do
			dev=$ORIGIN
			[ $size = 1T ] && dev=$HUGE
			for sys in vs dm; do
				log "round $ROUND: hold $sys $size"
				case $sys in
				vs)
					snapctl attach "$dev" --store "$STORE" > /dev/null || die "attach $dev"
					target=$dev
					hold_one vs $size base "$target" 0 ;;
				dm)
					dm_origin_up hd "$dev"
					dm_cows hd 1 4
					target=/dev/mapper/hd ;;
				esac
				hold_one $sys $size idle "$target" 1
				hold_one $sys $size idle "$target" 2
				hold_one $sys $size writer "$target" 3
				hold_one $sys $size load "$target" 4
				case $sys in
				vs) snapctl detach "$dev" --force > /dev/null || die "detach $dev" ;;
				dm) dm_down ;;
				esac
			done
		done
		ROUND=$((ROUND + 1))
	done
}

# --------------------------------------------------------------------------
# ext4: a 70/30 random read/write job (4 KiB, queue depth 4) on a 256 MiB
# file of a 512 MiB filesystem, with no snapshot and under one snapshot of
# each system. The pre-image is read while the filesystem is frozen, and the
# snapshot is taken inside that same freeze.

FSMNT=/mnt/bench

frozen() { snapctl status "$1" | grep -q '^state: frozen'; }

phase_ext4() {
	log "ext4: mixed 70/30 on a file under a snapshot"
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$FSDEV" 512M || die mkfs
	mkdir -p $FSMNT
	mount -o noatime "$FSDEV" $FSMNT || die mount
	fio --name=layout --filename=$FSMNT/file --rw=write --bs=1M --size=256M \
	    --direct=1 > /dev/null 2>&1 || die layout
	umount $FSMNT
	ROUND=1
	while [ $ROUND -le "$ROUNDS" ]; do
		for c in raw vs64 vs4 dm64 dm4; do
			NAME=ext4-$c
			log "round $ROUND: $NAME"
			img='' invalid=0
			case $c in
			raw)
				mount -o noatime "$FSDEV" $FSMNT || die mount ;;
			vs*)
				mount -o noatime "$FSDEV" $FSMNT || die mount
				snapctl attach "$FSDEV" --store "$FSSTORE" --chunk-size "${c#vs}K" \
					> /dev/null || die attach
				echo 120000 > /sys/module/volsnap/parameters/hold_limit_ms
				snapctl freeze "$FSDEV" > /dev/null &
				_fp=$!
				_w=0
				until frozen "$FSDEV"; do
					_w=$((_w + 1))
					[ $_w -lt 100 ] || die "freeze"
					sleep 0.1
				done
				$BT sums "$FSDEV" 0 512M $ENDS_STEP > /tmp/pre.ends || die sums
				snapctl create --frozen "$FSDEV" > /dev/null || die "create --frozen"
				kill $_fp
				wait $_fp
				echo 10000 > /sys/module/volsnap/parameters/hold_limit_ms
				img=$(vs_images "$FSDEV") ;;
			dm*)
				dm_origin_up fo "$FSDEV"
				mount -o noatime /dev/mapper/fo $FSMNT || die mount
				dm_cows fo 1 1
				# dm suspend freezes the filesystem: read the pre-image
				# inside it, then add the snapshot and resume.
				dmsetup suspend fo || die suspend
				$BT sums "$FSDEV" 0 512M $ENDS_STEP > /tmp/pre.ends || die sums
				dmsetup create fo-s1 --readonly --table \
					"0 $DM_SIZE snapshot $DM_REAL $(dm_devt_cached fo-cow1) P $(( ${c#dm} * 2 ))" ||
					die "dm ext4 snapshot"
				dmsetup resume fo || die resume
				dm_nodes fo-s1
				img=/dev/mapper/fo-s1 ;;
			esac
			rm -f /tmp/fio.json
			# shellcheck disable=SC2086  # the option list
			fio --name=mixed --filename=$FSMNT/file --rw=randrw --rwmixread=70 --bs=4k \
			    --iodepth=4 --size=256M --runtime="$RUNTIME" --time_based $FIO_GLOBAL \
			    2> /tmp/fio.err || log "fio mixed failed"
			umount $FSMNT
			ok=null
			if [ -n "$img" ]; then
				case $c in
				vs*) invalid=$(vs_invalid "$FSDEV") ;;
				dm*) invalid=$(dm_invalid fo) ;;
				esac
				if _res=$($BT check "$img" /tmp/pre.ends); then ok=true; else
					ok=false; log "MISMATCH $NAME: $_res"; fi
			fi
			printf '@@BENCH {"kind":"ext4","contender":"%s","round":%s,"image_ok":%s,"images_invalid":%s,"fio":' \
				"$NAME" "$ROUND" "$ok" "$invalid"
			tr -d '\n\t' < /tmp/fio.json
			echo '}'
			case $c in
			vs*) snapctl detach "$FSDEV" --force > /dev/null || die detach ;;
			dm*) dm_down ;;
			esac
		done
		ROUND=$((ROUND + 1))
	done
}

# --------------------------------------------------------------------------
# Profile (vsbench.profile=1): perf in the guest (software cpu-clock, the
# only event under TCG) while volsnap serves the workloads it is slowest
# at; after everything else, so it disturbs no measurement.

# prof_one LABEL CHUNK FIO_OPTION...: a snapshot, then fio in the background
# and 8 s of perf record while it runs
prof_one() {
	_lbl=$1 _cs=$2
	shift 2
	log "profile: $_lbl"
	snapctl attach "$ORIGIN" --store "$STORE" --chunk-size "$_cs" > /dev/null || die attach
	snapctl create "$ORIGIN" > /dev/null || die create
	if [ "$_lbl" = seqread-image-4K ]; then
		# the image must read from the store: change the region first
		fio --name=pre --filename="$ORIGIN" --rw=write --bs=1M --iodepth=4 --direct=1 \
		    --ioengine=libaio --offset=$((R3 * MiB)) --size=64M > /dev/null 2>&1
	fi
	fio --name=prof --direct=1 --ioengine=libaio --time_based --runtime=12 "$@" \
	    > /dev/null 2>&1 &
	_fp=$!
	sleep 2
	$PERF record -q -e cpu-clock -a -g -o /tmp/perf.data -- sleep 8 > /dev/null 2>&1
	wait $_fp
	snapctl detach "$ORIGIN" --force > /dev/null
	$PERF report -q -i /tmp/perf.data --stdio --no-children --sort symbol \
		-g none --percent-limit 0.4 2> /dev/null | grep -v '^$' | head -n 30 |
		sed "s/^/@@PROF $_lbl /"
}

phase_profile() {
	[ -x $PERF ] || { log "profile: no perf in the initramfs"; return; }
	prof_one randwrite-QD1-64K 64K --filename="$ORIGIN" --rw=randwrite --bs=4k \
		--iodepth=1 --size=$((REGION * MiB))
	prof_one seqwrite-4K 4K --filename="$ORIGIN" --rw=write --bs=1M --iodepth=4 \
		--size=$((REGION * MiB))
	_img=/dev/volsnap0
	prof_one seqread-image-4K 4K --filename=$_img --rw=read --bs=1M --iodepth=4 \
		--offset=$((R3 * MiB)) --size=64M
}

# --------------------------------------------------------------------------
# What the tools cost under TCG (the rig's own overheads, for the record).

phase_overhead() {
	_t=$($BT now); $BT now > /dev/null; _a=$(( ($($BT now) - _t) / 1000000 ))
	_t=$($BT now); jq -n 1 > /dev/null; _b=$(( ($($BT now) - _t) / 1000000 ))
	_t=$($BT now); snapctl version > /dev/null 2>&1; _c=$(( ($($BT now) - _t) / 1000000 ))
	_t=$($BT now)
	# shellcheck disable=SC2086
	fio $FIO_GLOBAL --name=x --filename="$ORIGIN" --rw=randwrite --bs=4k --size=4M \
	    --number_ios=1 > /dev/null 2>&1
	_d=$(( ($($BT now) - _t) / 1000000 ))
	_t=$($BT now); $BT sums "$ORIGIN" 0 1G 1 > /dev/null; _e=$(( ($($BT now) - _t) / 1000000 ))
	emit "{\"kind\":\"overhead\",\"process_ms\":$_a,\"jq_ms\":$_b,\"snapctl_ms\":$_c,\"fio_one_io_ms\":$_d,\"sums_1GiB_ms\":$_e}"
}

# --------------------------------------------------------------------------

meta() {
	printf '@@BENCH {"kind":"meta","kernel":"%s","fio":"%s","snapctl":"%s","guest_cpus":%s,"guest_mem_kib":%s,"guest_cpu":"%s","rounds":%s,"runtime_s":%s,"quick":%s,"region_mib":%s,"rewrite_mib":%s,"ends_step_mib":%s,"mid_step_mib":%s,"phases":"%s","cmdline":"%s"}\n' \
		"$(uname -r)" "$(fio --version)" "$(snapctl version | tr '\n' ' ')" \
		"$(grep -c ^processor /proc/cpuinfo)" \
		"$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)" \
		"$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n1)" \
		"$ROUNDS" "$RUNTIME" "$QUICK" "$REGION" "$REW" "$ENDS_STEP" "$MID_STEP" "$ONLY" \
		"$(cat /proc/cmdline)"
}

insmod /lib/modules/volsnap.ko || die "insmod volsnap"
meta
has overhead && phase_overhead
if [ "$PREFILL" = 1 ]; then
	log "prefill: random data on the origin, zeros on the stores and the first dm slot"
	# shellcheck disable=SC2086
	fio $FIO_GLOBAL --name=origin --filename="$ORIGIN" --rw=write --bs=1M --iodepth=4 \
	    --size=1G --refill_buffers \
	    --name=store --stonewall --filename="$STORE" --rw=write --bs=1M --iodepth=4 \
	    --size=1G --zero_buffers \
	    --name=fsstore --stonewall --filename="$FSSTORE" --rw=write --bs=1M --iodepth=4 \
	    --size=1G --zero_buffers \
	    --name=dmstore --stonewall --filename="$DMSTORE" --rw=write --bs=1M --iodepth=4 \
	    --offset=$((COW_MIB * MiB)) --size=$((COW_MIB * MiB)) --zero_buffers ||
		die "prefill"
fi

has matrix && phase_matrix
has hold && phase_hold
has ext4 && phase_ext4
[ "$PROFILE" = 1 ] && phase_profile
log "done"
emit '{"kind":"end"}'
