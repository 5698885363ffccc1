#!/bin/bash
# dkms-build.sh DEB KVER KDIR DIR - build the module from the volsnap-dkms
# package DEB with DKMS for kernel KVER (its build tree KDIR), as a machine
# installing the package would, in a private DKMS tree under DIR: nothing
# goes to /var/lib/dkms or /lib/modules, and nothing is signed (no key is
# made). Prints the built volsnap.ko's path; on failure, DKMS's logs.
# Used by tests/static/check.sh (dkms build per cached kernel) and
# tests/vm/vmtest.py (the module tour/packages installs in the guest).
set -uo pipefail
deb=$1 kver=$2 kdir=$3 t=$4
mkdir -p "$t/dkms" "$t/modules" "$t/tmp"
dpkg-deb -x "$deb" "$t/root" || exit 1
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$t"/root/usr/src/volsnap-*/dkms.conf)
TMPDIR=$t/tmp sign_file=$t/no-sign-file mok_signing_key=$t/mok.key \
mok_certificate=$t/mok.crt dkms build "volsnap/$ver" -k "$kver" \
	--kernelsourcedir "$kdir" --dkmstree "$t/dkms" \
	--sourcetree "$t/root/usr/src" --installtree "$t/modules" > "$t/log" 2>&1 ||
	{ cat "$t/log" "$t/dkms/volsnap/$ver/build/make.log" 2>/dev/null >&2; exit 1; }
ko=$t/dkms/volsnap/$ver/$kver/x86_64/module/volsnap.ko
[ -f "$ko" ] || { cat "$t/log" >&2; echo "dkms built no $ko" >&2; exit 1; }
echo "$ko"
