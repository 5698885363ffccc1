#!/bin/sh
# Names and discovery. Each image's sysfs attributes (volsnap/origin,
# origin_dev, id, created, state, error) agree with create and snapctl
# list; the image is a holder of its origin (holders/ and slaves/ links),
# so lsblk shows it under its origin, and the links go with the image.
# The shipped udev rule, run by a real udevd, names the image
# /dev/disk/by-snapshot/ORIGIN/ID and never takes the origin's by-uuid
# link. Opening /dev/volsnap-ctl loads the module (its devname and
# char-major aliases, through modprobe as the kernel runs it).
# shellcheck shell=dash
. ../lib/common.sh
. ../lib/snap.sh

KVER=$(uname -r)
MODDIR=/lib/modules/$KVER
oname=${ORIGIN#/dev/}

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	udevadm control --exit 2> /dev/null
	# No trace of udev for the tests after: dmsetup waits for a udev
	# that /run/udev says runs.
	rm -rf /run/udev /dev/disk
	vs_load
	quiet_detach "$ORIGIN"
}
trap cleanup EXIT

fresh_start
tap_plan 21

mkfs.ext4 -q -F -L vsnames -b 4096 "$ORIGIN" 64M
uuid=$(blkid -s UUID -o value "$ORIGIN")
mkdir -p /run/udev
/sbin/systemd-udevd --daemon --resolve-names=never 2> /tmp/udevd.err
sleep 1
udevadm trigger --action=add "/sys/class/block/$oname"
udevadm settle -t 60

snapctl attach "$ORIGIN" --store "$STORE" > /dev/null
t0=$(date +%s)
create_snap "$ORIGIN"
t1=$(date +%s)
id1=$SNAP_ID
img1=${SNAP_DEV#/dev/}
sys=/sys/block/$img1/volsnap
is "sysfs origin is the origin's kernel name" "$(cat "$sys/origin")" "$oname"
is "sysfs origin_dev is the origin's MAJ:MIN" "$(cat "$sys/origin_dev")" \
	"$(cat "/sys/class/block/$oname/dev")"
is "sysfs id is the id create printed" "$(cat "$sys/id")" "$id1"
created=$(cat "$sys/created")
if [ "$created" -ge "$t0" ] && [ "$created" -le "$t1" ]; then
	ok "sysfs created is the creation time ($created in [$t0, $t1])"
else
	not_ok "sysfs created is the creation time ($created not in [$t0, $t1])"
fi
is "sysfs state and error: valid, 0" "$(cat "$sys/state") $(cat "$sys/error")" "valid 0"

create_snap "$ORIGIN"
id2=$SNAP_ID
img2=${SNAP_DEV#/dev/}
# Every snapshot snapctl lists has the same id, origin and state in sysfs.
snapctl -J list "$ORIGIN" > /tmp/list.json
n=0; agree=0
for dev in $(jq -r '.snapshots[].device' /tmp/list.json); do
	n=$((n + 1))
	d=/sys/block/${dev#/dev/}/volsnap
	jq -e --arg dev "$dev" --argjson id "$(cat "$d/id")" \
		--arg state "$(cat "$d/state")" \
		'.snapshots[] | select(.device == $dev) | .id == $id and .state == $state' \
		/tmp/list.json > /dev/null &&
		[ "$(cat "$d/origin")" = "$oname" ] && agree=$((agree + 1))
done
is "sysfs agrees with snapctl list on 2 snapshots" "$n $agree" "2 2"

check "the origin's holders/ lists both images" \
	test -L "/sys/class/block/$oname/holders/$img1" -a \
	-L "/sys/class/block/$oname/holders/$img2"
check "the image's slaves/ lists its origin" test -L "/sys/block/$img1/slaves/$oname"
lsblk -J -o NAME "$ORIGIN" > /tmp/lsblk.json
if jq -e --arg a "$img1" --arg b "$img2" \
	'[.blockdevices[0].children[].name] | sort == ([$a, $b] | sort)' \
	/tmp/lsblk.json > /dev/null; then
	ok "lsblk shows both images under the origin"
else
	not_ok "lsblk shows both images under the origin"
	sed 's/^/# /' /tmp/lsblk.json
fi

udevadm settle -t 60
by=/dev/disk/by-snapshot/$oname
is "udev: $by/$id1 is the first image" "$(readlink -f "$by/$id1")" "/dev/$img1"
is "udev: $by/$id2 is the second image" "$(readlink -f "$by/$id2")" "/dev/$img2"
# The image claims the by-uuid and by-label names too, and loses them.
links=$(udevadm info -q property --property=DEVLINKS --value "/dev/$img1")
if echo "$links" | tr ' ' '\n' | grep -qx "/dev/disk/by-uuid/$uuid" &&
   echo "$links" | tr ' ' '\n' | grep -qx /dev/disk/by-label/vsnames; then
	ok "udev: the image claims by-uuid and by-label"
else
	not_ok "udev: the image claims by-uuid and by-label (DEVLINKS: $links)"
fi
is "udev: by-uuid stays the origin's" "$(readlink -f "/dev/disk/by-uuid/$uuid")" "$ORIGIN"
is "udev: by-label stays the origin's" "$(readlink -f /dev/disk/by-label/vsnames)" "$ORIGIN"

snapctl delete "$ORIGIN" "$id2" > /dev/null
udevadm settle -t 60
check "delete: the image leaves the origin's holders/" \
	test ! -e "/sys/class/block/$oname/holders/$img2"
check "delete: its by-snapshot link is gone, the other stays" \
	test ! -e "$by/$id2" -a -e "$by/$id1"
quiet_detach "$ORIGIN"
check "detach: the origin has no holders left" \
	sh -c "[ -z \"\$(ls /sys/class/block/$oname/holders)\" ]"
udevadm control --exit
sed 's/^/# udevd: /' /tmp/udevd.err | head -n 20

# On-demand loading, the way a system with kmod does it: depmod makes the
# aliases known, `kmod static-nodes` (here: mknod from the devname alias)
# makes the node at boot, and the kernel runs modprobe at the first open.
vs_unload
mkdir -p "$MODDIR/extra"
cp "$VS_KO" "$MODDIR/extra/"
depmod "$KVER"
aliases=$(modinfo -F alias "$MODDIR/extra/volsnap.ko" | sort | tr '\n' ' ')
is "aliases: char-major-10-250 and devname:volsnap-ctl" "$aliases" \
	"char-major-10-250 devname:volsnap-ctl "
dev=$(echo "$aliases" | tr ' ' '\n' | sed -n 's/^char-major-\([0-9]*\)-\([0-9]*\)$/\1 \2/p')
rm -f /dev/volsnap-ctl
# shellcheck disable=SC2086  # major and minor
mknod -m 600 /dev/volsnap-ctl c $dev
echo /bin/modprobe > /proc/sys/kernel/modprobe
check "opening /dev/volsnap-ctl loads the module" sh -c ': < /dev/volsnap-ctl && grep -q "^volsnap " /proc/modules'
check "snapctl works on the module loaded on demand" snapctl list
rmmod volsnap
rm -f /dev/volsnap-ctl
rm -rf "$MODDIR"
check "the module registered /dev/volsnap-ctl at minor 250" \
	sh -c "insmod $VS_KO && [ \"\$(cat /sys/class/misc/volsnap-ctl/dev)\" = 10:250 ]"
tap_done
