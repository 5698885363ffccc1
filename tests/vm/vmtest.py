#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Run volsnap's tests inside QEMU (TCG) on one or more kernels.

For each kernel: build volsnap.ko against that kernel's tree, build an
initramfs (busybox, the kernel modules and user-space tools the tests need,
the tests), boot it with scratch virtio disks backed by sparse files, and
read the results from the serial console. The guest frames each test with
@@VS markers; between them the test prints TAP. A test fails when any of
its TAP points fails, when it exits non-zero, when the guest's kernel log
shows a bug report after it, or when the guest hangs or dies during it.

Closes with one line: "N passed, N failed, N skipped". Exit status 0 only
when nothing failed.
"""

import argparse
import concurrent.futures
import copy
import functools
import os
import random
import re
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VM = os.path.join(TOP, "tests", "vm")
CACHE = os.environ.get("VOLSNAP_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "volsnap")

# Kernel modules loaded at boot on the stock kernels, in this order, with
# their parameters. Debug kernels have all of them built in.
BOOT_MODULES = [
    ("virtio_pci", ""), ("virtio_blk", ""), ("crc32c_generic", ""),
    ("libcrc32c", ""), ("ext4", ""), ("xfs", ""), ("loop", ""),
    ("dm_mod", ""), ("dm_snapshot", ""), ("dm_flakey", ""), ("dm_delay", ""),
    ("null_blk", "nr_devices=0"), ("brd", "rd_nr=0"), ("sd_mod", ""),
    ("raid1", ""),
]
# Modules copied into the guest (with what they need) but loaded by the
# tests that use them: scsi_debug injects medium errors on reads
# (fault/origin_read, on kernels whose dm-flakey has no error_reads); nbd
# is the client side of restore/export.
TEST_MODULES = ["scsi_debug", "nbd"]

# User-space programs the tests call, copied with their shared libraries.
# dd: coreutils' honours O_DIRECT (see tests/lib/common.sh).
GUEST_TOOLS = ["dd", "fio", "mkfs.ext4", "mke2fs", "e2fsck", "debugfs",
               "mkfs.xfs", "xfs_repair", "xfs_io", "xfs_db", "xfs_mdrestore", "dmsetup", "jq",
               "blockdev", "cmp", "setpriv", "sfdisk", "blkid", "lsblk",
               "nbdkit", "nbdinfo", "nbdcopy", "qemu-img", "nbd-client"]
# nbdkit's plugins and filters that snapctl export and its test load (with
# dlopen, from the plugindir and filterdir of `nbdkit --dump-config`).
NBDKIT_MODULES = [("plugindir", "file"), ("plugindir", "nbd"),
                  ("filterdir", "extentlist"), ("filterdir", "offset")]

# Programs only the guest runs: unpacked into CACHE/guest-tools/root by
# tests/vm/deps.sh, never installed on the host. (path there, path in guest)
GUEST_ONLY_TOOLS = [("sbin/mdadm", "/sbin/mdadm"), ("bin/udevadm", "/bin/udevadm")]
# PostgreSQL 15 (server, psql, pgbench, pg_amcheck), unpacked into
# CACHE/guest-postgresql/root by deps.sh: only into the boots that run a
# test named here (about 80 MB with the libraries, ICU's data among them).
PG_TESTS = ["writers/postgresql"]
PG_ROOT = "usr/lib/postgresql/15"
PG_SHARE = "usr/share/postgresql/15"
# udev rules in the guest's /lib/udev/rules.d: Debian's for disks
# (CACHE/guest-tools) and the project's.
GUEST_UDEV_RULES = [os.path.join(CACHE, "guest-tools", "root", "lib/udev/rules.d",
                                 "60-persistent-storage.rules"),
                    os.path.join(TOP, "tools/udev/60-volsnap.rules")]

DISKS = [("origin", "1G"), ("store", "1G"), ("scratch1", "1G"), ("scratch2", "1G")]

DEFAULT_TIMEOUT = 300
# Seconds from QEMU's start to /init; the debug kernel (KASAN, lockdep,
# kmemleak) gets three times as long: under TCG on a busy host it took
# 180 to 250 s of wall time.
BOOT_TIMEOUT = 180
# Boots of one kernel when it dies or hangs before /init: multi-threaded
# TCG (QEMU 7.2) can run an int3 the kernel already patched away, and the
# kernel patches its text at boot (Documentation/testing.rst).
BOOT_TRIES = 3
# The debug kernel's time budget, in seconds of guest uptime per boot: a
# test that would start after it fails the run (Documentation/testing.rst).
DEBUG_BUDGET = 3600
# vCPUs on one host thread, for the tests of GROUP/SINGLE_THREAD.
SINGLE_THREAD_ACCEL = "tcg,thread=single"


def log(msg):
    print(f"vmtest: {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def out(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


class Kernel:
    """A kernel to test on: its image, its modules and its build tree."""

    def __init__(self, name):
        self.name = name
        if name == "debug":
            d = out([os.path.join(VM, "debug-kernel.sh")]).strip()
            self.vmlinuz = os.path.join(d, "bzImage")
            self.kdir = os.path.join(d, "build")
            self.abi = "debug"
            self.modroot = None
        else:
            suite = {"6.1": "bookworm", "6.12": "bookworm-backports"}[name]
            stamp = os.path.join(CACHE, f"kernel-{suite}.abi")

            def cached():
                # The image and, unpacked next to it, its build tree
                # (tests/vm/deps.sh): nothing of the host's is used.
                if not os.path.exists(stamp):
                    return False
                kd = os.path.join(CACHE, "kernels", open(stamp).read().strip())
                return all(os.path.exists(os.path.join(kd, f))
                           for f in ("vmlinuz", "headers.done"))
            if not cached():
                run([os.path.join(VM, "deps.sh")], stdout=subprocess.DEVNULL)
            self.abi = open(stamp).read().strip()
            kd = os.path.join(CACHE, "kernels", self.abi)
            self.vmlinuz = os.path.join(kd, "vmlinuz")
            self.modroot = os.path.join(kd, "root")
            self.kdir = os.path.join(self.modroot, "usr/src", f"linux-headers-{self.abi}")
        self.kname = self.abi
        self.out = os.path.join(TOP, "build", self.kname)


def build(kernels):
    log("building snapctl and tests")
    run(["make", "-s", "-C", TOP, "tools", "tests", "WERROR=1"])
    for k in kernels:
        log(f"building volsnap.ko for {k.name} ({k.abi})")
        run(["make", "-s", "-C", TOP, "module", f"KDIR={k.kdir}", f"KNAME={k.kname}"])


# tour/packages installs the Debian packages in the guest: make deb builds
# them here, and DKMS builds the module from volsnap-dkms for each kernel
# (tests/vm/dkms-build.sh), into VM_DEBS/KNAME/volsnap.ko.
PACKAGES_TEST = "tour/packages"
VM_DEBS = os.path.join(TOP, "build", "vm-deb")


def build_packages(kernels):
    log("building the Debian packages, and the module with DKMS")
    run(["make", "-s", "-C", TOP, "deb", f"DEBOUT={VM_DEBS}"],
        stdout=subprocess.DEVNULL)
    deb = [f for f in os.listdir(VM_DEBS) if f.startswith("volsnap-dkms_")][0]
    for k in kernels:
        kver = out(["make", "-s", "-C", k.kdir, "kernelrelease"]).strip()
        work = os.path.join(VM_DEBS, k.kname)
        shutil.rmtree(work, ignore_errors=True)
        ko = out([os.path.join(VM, "dkms-build.sh"), os.path.join(VM_DEBS, deb),
                  kver, k.kdir, os.path.join(work, "dkms")]).strip()
        shutil.copy2(ko, os.path.join(work, "volsnap.ko"))


def copy_with_libs(path, root, dst=None):
    """Copy an ELF program (to dst, default its own path) and every shared
    library it needs into root; dst=False copies only the libraries."""
    if dst is not False:
        dst = os.path.join(root, (dst or path).lstrip("/"))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(path, dst)
    try:
        ldd = out(["ldd", path])
    except subprocess.CalledProcessError:
        return  # static
    for line in ldd.splitlines():
        m = re.search(r"(/\S+)\s+\(0x", line)
        if not m:
            continue
        name, lib = m.group(1), os.path.realpath(m.group(1))
        for path in (lib, name):
            ldst = os.path.join(root, path.lstrip("/"))
            if os.path.lexists(ldst):
                continue
            os.makedirs(os.path.dirname(ldst), exist_ok=True)
            if path == lib:
                shutil.copy2(lib, ldst)
            else:
                os.symlink(os.path.relpath(os.path.join(root, lib.lstrip("/")),
                                           os.path.dirname(ldst)), ldst)


def copy_postgresql(root):
    """PostgreSQL's programs, modules and data files from the unpacked
    packages, at their Debian paths, with what they need (time zones for
    initdb's default, UTC)."""
    groot = os.path.join(CACHE, "guest-postgresql", "root")
    if not os.path.isdir(os.path.join(groot, PG_ROOT)):
        return  # the test reports it as skipped
    for sub in ("bin", "lib"):
        src = os.path.join(groot, PG_ROOT, sub)
        for f in sorted(os.listdir(src)):
            p = os.path.join(src, f)
            if os.path.isfile(p) and not os.path.islink(p) and \
                    not f.startswith("llvmjit"):
                copy_with_libs(p, root, "/" + os.path.join(PG_ROOT, sub, f))
    shutil.copytree(os.path.join(groot, PG_SHARE), os.path.join(root, PG_SHARE),
                    symlinks=True)
    zones = os.path.join(root, "usr/share/zoneinfo")
    os.makedirs(os.path.join(zones, "Etc"), exist_ok=True)
    for z in ("UTC", "Etc/UTC", "GMT"):
        if os.path.exists(os.path.join("/usr/share/zoneinfo", z)):
            shutil.copy2(os.path.join("/usr/share/zoneinfo", z), os.path.join(zones, z))


def module_closure(k, name):
    """Module files (load order) that `name` needs on stock kernel k."""
    res = subprocess.run(["modprobe", "-d", k.modroot, "-S", k.abi,
                          "--show-depends", name], capture_output=True, text=True)
    if res.returncode:
        raise SystemExit(f"vmtest: module {name} not found for {k.abi}: {res.stderr}")
    return [line.split()[1] for line in res.stdout.splitlines()
            if line.startswith("insmod ")]


def build_initramfs(k, tests, env, tag):
    """The initramfs of one boot of kernel k (tag names the boot: boots of
    one kernel may be built while another runs) running tests."""
    root = os.path.join(k.out, f"initramfs-{tag}")
    shutil.rmtree(root, ignore_errors=True)
    for d in ["bin", "sbin", "usr/bin", "usr/sbin", "lib/modules", "etc", "tests", "root"]:
        os.makedirs(os.path.join(root, d), exist_ok=True)
    shutil.copy2("/bin/busybox", os.path.join(root, "bin/busybox"))
    os.symlink("busybox", os.path.join(root, "bin/sh"))
    shutil.copy2(os.path.join(VM, "init.sh"), os.path.join(root, "init"))
    with open(os.path.join(root, "etc/passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n")
    with open(os.path.join(root, "etc/group"), "w") as f:
        f.write("root:x:0:\nnogroup:x:65534:\n")

    # Kernel modules, decompressed (busybox insmod takes plain .ko).
    if k.modroot:
        seen, order = set(), []
        wanted = BOOT_MODULES + [(mod, None) for mod in TEST_MODULES]
        for mod, params in wanted:
            for path in module_closure(k, mod):
                base = os.path.basename(path)
                base = re.sub(r"\.ko\.(xz|zst|gz)$", ".ko", base)
                if base in seen:
                    continue
                seen.add(base)
                dst = os.path.join(root, "lib/modules", base)
                if path.endswith(".xz"):
                    with open(dst, "wb") as f:
                        run(["xz", "-dc", path], stdout=f)
                elif path.endswith(".zst"):
                    run(["zstd", "-qdf", path, "-o", dst])
                else:
                    shutil.copy2(path, dst)
                own = base[:-3].replace("-", "_") == mod
                if own and params is None:
                    continue
                order.append(f"{base} {params if own else ''}".strip())
        with open(os.path.join(root, "lib/modules/boot.list"), "w") as f:
            f.write("\n".join(order) + "\n")
    shutil.copy2(os.path.join(k.out, "kmod", "volsnap.ko"),
                 os.path.join(root, "lib/modules/volsnap.ko"))

    for tool in GUEST_TOOLS:
        path = shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin")
        if path:
            copy_with_libs(path, root)
    if shutil.which("nbdkit"):
        conf = dict(line.split("=", 1) for line in
                    out(["nbdkit", "--dump-config"]).splitlines() if "=" in line)
        for key, name in NBDKIT_MODULES:
            kind = "plugin" if key == "plugindir" else "filter"
            copy_with_libs(os.path.join(conf[key], f"nbdkit-{name}-{kind}.so"), root)
    for rel, dst in GUEST_ONLY_TOOLS:
        copy_with_libs(os.path.join(CACHE, "guest-tools", "root", rel), root, dst)
    if any(n in PG_TESTS for n, _ in tests):
        copy_postgresql(root)
    # The writers snapctl ships, where 'make install' puts them (PREFIX
    # /usr/local): not /usr/lib, which tour/packages installs the .deb
    # into (and removes again).
    shutil.copytree(os.path.join(TOP, "tools/writers"),
                    os.path.join(root, "usr/local/lib/volsnap/writers"))
    # tour/packages: the packages and the module DKMS built for this kernel.
    if any(n == PACKAGES_TEST for n, _ in tests):
        os.makedirs(os.path.join(root, "debs"))
        for f in os.listdir(VM_DEBS):
            if re.match(r"(snapctl|volsnap-dkms)_.*\.deb$", f):
                shutil.copy2(os.path.join(VM_DEBS, f), os.path.join(root, "debs"))
        shutil.copy2(os.path.join(VM_DEBS, k.kname, "volsnap.ko"),
                     os.path.join(root, "debs"))
    os.makedirs(os.path.join(root, "lib/udev/rules.d"), exist_ok=True)
    for rules in GUEST_UDEV_RULES:
        shutil.copy2(rules, os.path.join(root, "lib/udev/rules.d"))
    os.symlink("/bin/udevadm", os.path.join(root, "sbin/systemd-udevd"))
    copy_with_libs(os.path.join(TOP, "tools/snapctl/snapctl"), root, "/usr/bin/snapctl")

    # Tests: the built tree, with the libraries their programs need.
    tbuild = os.path.join(TOP, "build", "tests")
    shutil.copytree(tbuild, os.path.join(root, "tests"), dirs_exist_ok=True,
                    symlinks=True)
    for dirpath, _, files in os.walk(tbuild):
        for fn in files:
            p = os.path.join(dirpath, fn)
            with open(p, "rb") as f:
                if f.read(4) == b"\x7fELF":
                    copy_with_libs(p, root, dst=False)

    with open(os.path.join(root, "tests/list"), "w") as f:
        for name, timeout in tests:
            f.write(f"{name} {timeout}\n")
    with open(os.path.join(root, "tests/env"), "w") as f:
        for key, val in env.items():
            f.write(f"export {key}='{val}'\n")

    cpio = os.path.join(k.out, f"initramfs-{tag}.cpio")
    files = subprocess.run(["find", ".", "-mindepth", "1"], cwd=root,
                           capture_output=True, check=True).stdout
    with open(cpio, "wb") as f:
        subprocess.run(["cpio", "-o", "-H", "newc", "--quiet", "-R", "0:0"],
                       cwd=root, input=files, stdout=f, check=True)
    return cpio


def discover(patterns):
    """Tests in build/tests/GROUP/NAME; select by group or group/name."""
    tbuild = os.path.join(TOP, "build", "tests")
    found = []
    for group in sorted(os.listdir(tbuild)):
        gdir = os.path.join(tbuild, group)
        if group == "lib" or not os.path.isdir(gdir):
            continue
        timeouts = {}
        tf = os.path.join(gdir, "TIMEOUTS")
        if os.path.exists(tf):
            for line in open(tf):
                if line.strip() and not line.startswith("#"):
                    n, t = line.split()
                    timeouts[n] = int(t)
        for name in sorted(os.listdir(gdir)):
            p = os.path.join(gdir, name)
            full = f"{group}/{name}"
            # "_name": a helper or a benchmark, run only when named exactly.
            hidden = name.startswith(("_", ".")) and full not in (patterns or [])
            if hidden or name in ("TIMEOUTS", "SINGLE_THREAD", "CRASH",
                                  "DEBUG_SKIP") or \
                    not os.path.isfile(p) or not os.access(p, os.X_OK):
                continue
            if patterns and not any(full == pat or group == pat or
                                    full.startswith(pat.rstrip("/") + "/") or
                                    re.fullmatch(pat, full) for pat in patterns):
                continue
            found.append((full, timeouts.get(name, DEFAULT_TIMEOUT)))
    return found


def group_list(listname):
    """Tests named in the groups' LISTNAME files ('name reason' per line,
    such as SINGLE_THREAD): {GROUP/NAME: reason}."""
    tbuild = os.path.join(TOP, "build", "tests")
    skips = {}
    for group in os.listdir(tbuild):
        f = os.path.join(tbuild, group, listname)
        if os.path.exists(f):
            for line in open(f):
                if line.strip() and not line.startswith("#"):
                    name, reason = (line.split(None, 1) + [""])[:2]
                    skips[f"{group}/{name}"] = reason.strip()
    return skips


class Result:
    """Counts and failures of a run; lanes add to it from their threads."""

    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.failures = []
        self.lock = threading.Lock()

    def add(self, status, label, detail=""):
        with self.lock:
            self._add(status, label, detail)

    def _add(self, status, label, detail):
        if status == "pass":
            self.passed += 1
        elif status == "skip":
            self.skipped += 1
        else:
            self.failed += 1
            self.failures.append((label, detail))


TAP_RE = re.compile(r"^\s*(not ok|ok)\s+\d+\s*-?\s*(.*?)\s*(#\s*(SKIP|skip|XFAIL|TODO)\b.*)?$")


def make_disks(workdir, extra=()):
    paths = []
    for name, size in list(DISKS) + list(extra):
        p = os.path.join(workdir, f"{name}.img")
        with open(p, "wb") as f:
            f.truncate(parse_size(size))
        paths.append(p)
    return paths


def parse_size(s):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    return int(s[:-1]) * mult[s[-1]] if s[-1] in mult else int(s)


def boot_timeout(k):
    """Seconds kernel k may take to reach /init."""
    return BOOT_TIMEOUT * (3 if k.name == "debug" else 1)


def qemu_cmd(k, cpio, disks, args, accel=None, cache=None, extra=""):
    """QEMU's command line for a test boot of kernel k."""
    # Under TCG, guest time is host time: a vCPU thread the host does not
    # run for 20 s looks like a CPU stuck in the kernel to the soft-lockup
    # and RCU-stall detectors (seen: a 26 s "soft lockup" in clear_page).
    # Their thresholds go to 60 s; a real hang still fails the test at its
    # time limit.
    append = "console=ttyS0 panic=-1 oops=panic loglevel=4 " \
             "printk.devkmsg=on rdinit=/init watchdog_thresh=30 " \
             "rcupdate.rcu_cpu_stall_timeout=60 " + args.append
    if extra:
        append += " " + extra
    if k.name == "debug":
        # ACPI's PCI routing (_PRT) runs AML loops that time out under
        # KASAN on TCG; route PCI interrupts without it.
        append += " acpi=noirq"
    cmd = ["qemu-system-x86_64", "-accel", accel or args.accel, "-m", str(args.memory),
           "-smp", str(args.cpus), "-nographic", "-no-reboot",
           "-kernel", k.vmlinuz, "-initrd", cpio, "-append", append]
    for d in disks:
        cmd += ["-drive", f"file={d},if=virtio,format=raw,cache={cache or args.cache}"]
    return cmd


def boot(k, cpio, tests, res, args, last_try=True, accel=None):
    """Boot kernel k with the initramfs; parse results into res. Return
    False, recording nothing, if the kernel died or hung before /init and
    this is not the last try."""
    workdir = tempfile.mkdtemp(prefix="volsnap-vm-", dir=args.workdir)
    disks = args.crash_disks or make_disks(workdir, args.disk)
    cmd = qemu_cmd(k, cpio, disks, args, accel=accel)
    log(f"booting {k.name} ({k.abi}) with {len(tests)} tests"
        + (f" (-accel {accel})" if accel else ""))
    t0 = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    timeouts = dict(tests)
    current, cur_lines, buf = None, [], b""
    deadline = t0 + boot_timeout(k)
    booted = done = hung = False
    t_test = t0
    seen_end = set()
    tail = []
    klog, klog_name = {}, None
    tap_seen = {}
    try:
        while True:
            now = time.time()
            if now > deadline:
                what = current or "boot"
                if booted:
                    res.add("fail", f"{k.name}: {what}",
                            "guest hung (no progress before the time limit); console tail:\n"
                            + "\n".join(tail[-40:]))
                log(f"{k.name}: guest hung in {what}; killing QEMU")
                seen_end.add(what)
                current = None
                hung = True
                break
            r, _, _ = select.select([proc.stdout], [], [], 1.0)
            if not r:
                if proc.poll() is not None:
                    break
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                line = raw.decode("utf-8", "replace").rstrip("\r")
                tail.append(line)
                del tail[:-200]
                if args.verbose:
                    print(f"[{k.name}] {line}", flush=True)
                m = re.search(r"@@VS (\S+)\s*(.*)$", line)
                if not m:
                    if klog_name:
                        klog[klog_name].append(line)
                    elif current:
                        cur_lines.append(line)
                        if args.narrate:
                            print(line, flush=True)
                        t = TAP_RE.match(line)
                        if t:
                            tap_seen[current].append((t.group(1), t.group(2), t.group(4)))
                    continue
                verb, rest = m.group(1), m.group(2).strip()
                if verb == "boot":
                    booted = True
                    log(f"{k.name}: guest up, {rest} after {time.time() - t0:.1f}s wall")
                    deadline = time.time() + 60
                elif verb == "begin":
                    current, cur_lines = rest, []
                    t_test = time.time()
                    tap_seen[current] = []
                    deadline = time.time() + timeouts.get(current, 120) + 60
                elif verb == "klog-begin":
                    klog_name = rest
                    klog[klog_name] = []
                elif verb == "klog-end":
                    klog_name = None
                elif verb == "end":
                    name, rc = rest.rsplit(None, 1)
                    failed_before = res.failed
                    finish(k, name, int(rc), tap_seen.get(name, []),
                           klog.pop(name, None), cur_lines, res, args)
                    verdict = "FAILED" if res.failed > failed_before else "ok"
                    log(f"{k.name}: {name} {verdict} in {time.time() - t_test:.0f}s")
                    seen_end.add(name)
                    current = None
                    deadline = time.time() + 60
                elif verb == "notrun":
                    # The lane's time budget was spent: every test must
                    # run on every lane, so this fails the run.
                    name, reason = (rest.split(None, 1) + [""])[:2]
                    res.add("fail", f"{k.name}: {name}", f"not run: {reason}")
                    log(f"{k.name}: {name} not run: {reason}")
                    seen_end.add(name)
                elif verb == "done":
                    done = True
                    deadline = time.time() + 30
                elif verb == "warn":
                    log(f"{k.name}: guest: {rest}")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    if "boot" in klog:
        res.add("fail", f"{k.name}: boot", "kernel log at boot:\n" + "\n".join(klog["boot"]))
    if not booted:
        how = "hung" if hung else "stopped"
        if not last_try:
            # Nothing of volsnap has run yet: the guest kernel itself
            # failed ("Oops: int3" while it patched its own text at boot:
            # multi-threaded TCG ran an int3 already patched away, which
            # tests/load/_ftrace_cycles reproduces without volsnap).
            log(f"{k.name}: the kernel {how} before /init; booting again")
            return False
        res.add("fail", f"{k.name}: boot", f"guest never reached /init ({how}); "
                "console tail:\n" + "\n".join(tail[-60:]))
    elif not done:
        if current:
            res.add("fail", f"{k.name}: {current}",
                    "guest died during this test; console tail:\n" + "\n".join(tail[-60:]))
        for name, _ in tests:
            if name not in seen_end and name != current:
                res.add("fail", f"{k.name}: {name}", "not run: the guest stopped earlier")
    log(f"{k.name}: {time.time() - t0:.1f}s wall")
    return True


# Crash tests (GROUP/CRASH): each kill/verify cycle is two boots of its own
# against disk files kept between them; see Documentation/testing.rst.
CRASH_CACHE = "writeback"
# The kill comes this many seconds (uniform, seeded) after "@@VS crash-armed".
CRASH_WINDOW = 12.0
# Kernel bug reports on the console of a boot that is killed (the guest's
# own scan of the kernel log never runs); the same list as init.sh's BAD.
KLOG_BAD = re.compile(
    r"BUG:|WARNING:|Oops|KASAN|UBSAN|possible recursive locking|"
    r"circular locking dependency|inconsistent lock state|suspicious RCU usage|"
    r"rcu_sched self-detected stall|detected stall|hung_task|"
    r"blocked for more than|soft lockup|kernel BUG|general protection fault|"
    r"unreferenced object|list_add corruption|list_del corruption|refcount_t:")


def crash_marks(tests):
    """Crash tests among tests: {GROUP/NAME: (cycles, cycles on debug)}
    from each group's CRASH file ('name cycles debug-cycles' per line)."""
    tbuild = os.path.join(TOP, "build", "tests")
    marks = {}
    for group in {n.split("/")[0] for n, _ in tests}:
        f = os.path.join(tbuild, group, "CRASH")
        if os.path.exists(f):
            for line in open(f):
                if line.strip() and not line.startswith("#"):
                    name, kills, dkills = line.split()
                    marks[f"{group}/{name}"] = (int(kills), int(dkills))
    return {n: m for n, m in marks.items() if n in dict(tests)}


def crash_qemu(k, cpio, disks, args, extra):
    """QEMU's command line for a crash boot: boot()'s, with the disks given,
    cache=CRASH_CACHE and extra on the kernel command line."""
    return qemu_cmd(k, cpio, disks, args, cache=CRASH_CACHE, extra=extra)


def crash_load(k, cpio, name, timeout, disks, delay, label, extra, res, args,
               last_try):
    """Boot 1 of a crash cycle: run the test's load phase and SIGKILL QEMU
    delay seconds after it prints "@@VS crash-armed". Records its TAP
    points, the kill and the console's kernel log into res. Returns True if
    QEMU was killed under the load, None to boot again (the kernel died
    before /init, not the last try), False otherwise."""
    log(f"{label}: load boot, kill {delay:.1f}s after the load starts")
    t0 = time.time()
    proc = subprocess.Popen(crash_qemu(k, cpio, disks, args, extra),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    deadline, kill_at = t0 + boot_timeout(k), None
    booted = killed = False
    lines, bad, buf, why = [], [], b"", "QEMU exited"
    try:
        while not killed:
            now = time.time()
            if kill_at and now >= kill_at:
                proc.kill()
                killed = True
                break
            if now > deadline:
                why = "no progress before the time limit"
                break
            wait = min(1.0, max(0.0, (kill_at or now + 1) - now))
            r, _, _ = select.select([proc.stdout], [], [], wait)
            if not r:
                if proc.poll() is not None:
                    break
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                line = raw.decode("utf-8", "replace").rstrip("\r")
                lines.append(line)
                if args.verbose:
                    print(f"[{k.name}] {line}", flush=True)
                if KLOG_BAD.search(line):
                    bad.append(line)
                m = re.search(r"@@VS (\S+)\s*(.*)$", line)
                if m and m.group(1) == "boot":
                    booted = True
                    deadline = time.time() + 60
                elif m and m.group(1) == "begin":
                    deadline = time.time() + timeout + 60
                elif m and m.group(1) == "crash-armed" and not kill_at:
                    kill_at = time.time() + delay
                    log(f"{label}: load running; kill at +{delay:.1f}s")
                elif m and m.group(1) == "end":
                    why = f"the load ended by itself (exit status {m.group(2)})"
                t = TAP_RE.match(line)
                if t and not m:
                    sub = f"{k.name}: {name}: {t.group(2)}"
                    if t.group(1) == "ok":
                        res.add("pass", sub)
                    else:
                        res.add("fail", sub, "\n".join(lines[-80:]))
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    if not booted and not killed and not last_try:
        log(f"{k.name}: the kernel stopped before /init; booting again")
        return None
    # The crash-armed marker follows the TAP points of the load's setup.
    res.add("pass" if killed else "fail", f"{label}: QEMU killed under the load",
            "" if killed else f"{why}; console tail:\n" + "\n".join(lines[-60:]))
    if bad:
        res.add("fail", f"{label}: kernel log of the load boot",
                "kernel log shows a bug:\n" + "\n".join(bad[:80]))
    log(f"{label}: load boot {time.time() - t0:.1f}s wall")
    return killed


def run_crash(k, cpio, name, timeout, cycles, seed, res, args):
    """Kill/verify cycles of crash test name on kernel k: for each, new disk
    files, a load boot killed at a random moment (crash_load), then a
    verify boot on the same files (boot() with args.crash_disks)."""
    rng = random.Random(f"{seed}/{k.name}/{name}")
    for cycle in range(1, cycles + 1):
        cseed, delay = rng.randrange(1, 1 << 31), rng.uniform(0, CRASH_WINDOW)
        label = f"{k.name}: {name}: kill {cycle}"
        log(f"{label} of {cycles}: seed {cseed}")
        workdir = tempfile.mkdtemp(prefix="volsnap-crash-", dir=args.workdir)
        disks = make_disks(workdir, args.disk)
        vargs = copy.copy(args)
        vargs.crash_disks, vargs.cache = disks, CRASH_CACHE
        try:
            for attempt in range(1, BOOT_TRIES + 1):
                extra = f"vs_crash=load:{name}:{timeout}:{cseed}:{cycle}"
                killed = crash_load(k, cpio, name, timeout, disks, delay, label,
                                    extra, res, args, attempt == BOOT_TRIES)
                if killed is not None:
                    break
            if not killed:
                res.add("fail", f"{label}: verify", "not run: the load was not killed")
                continue
            vargs.append = args.append + \
                f" vs_crash=verify:{name}:{timeout}:{cseed}:{cycle}"
            for attempt in range(1, BOOT_TRIES + 1):
                if boot(k, cpio, [(name, timeout)], res, vargs,
                        last_try=attempt == BOOT_TRIES):
                    break
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


def finish(k, name, rc, taps, klog_lines, lines, res, args):
    label = f"{k.name}: {name}"
    failed_here = False
    for status, desc, directive in taps:
        sub = f"{label}: {desc}" if desc else label
        if directive and directive.upper() == "SKIP":
            res.add("skip", sub)
        elif status == "ok":
            res.add("pass", sub)
        else:
            failed_here = True
            res.add("fail", sub, "\n".join(lines[-80:]))
    if not taps:
        if rc == 4:
            res.add("skip", label)
        elif rc == 0:
            res.add("pass", label)
        else:
            failed_here = True
            res.add("fail", label, f"exit status {rc}\n" + "\n".join(lines[-80:]))
    elif rc not in (0, 4) and not failed_here:
        res.add("fail", f"{label}: exit status",
                f"exit status {rc}" + (" (killed by the time limit)" if rc == 137 else "")
                + "\n" + "\n".join(lines[-80:]))
    if klog_lines is not None:
        res.add("fail", f"{label}: kernel log", "kernel log shows a bug:\n"
                + "\n".join(klog_lines))
    if args.verbose_pass:
        print("\n".join(lines))


def run_static(cmd, res):
    """Run a host-side TAP producer (the static checks) and count its points."""
    log(f"running {cmd}")
    t0 = time.time()
    p = subprocess.run([cmd], capture_output=True, text=True)
    lines = (p.stdout + p.stderr).splitlines()
    points = 0
    for i, line in enumerate(lines):
        t = TAP_RE.match(line)
        if not t:
            continue
        points += 1
        detail = []
        for follow in lines[i + 1:]:
            if not follow.startswith("#"):
                break
            detail.append(follow[2:])
        res.add("pass" if t.group(1) == "ok" else "fail", f"static: {t.group(2)}",
                "\n".join(detail))
    if p.returncode and not any(lbl.startswith("static:") for lbl, _ in res.failures):
        res.add("fail", f"static: {cmd}", f"exit status {p.returncode}\n" + "\n".join(lines[-40:]))
    if not points:
        res.add("fail", f"static: {cmd}", "no TAP output")
    log(f"static checks: {points} in {time.time() - t0:.1f}s")


def lane_units(k, tests, tests_all, crash, args, res):
    """The boots that test kernel k, as (rank, function) pairs: its boot of
    the multi-threaded tests (rank 0), its boot of the tests of
    GROUP/SINGLE_THREAD (rank 1) and the kill/verify cycles of each crash
    test (rank 2). Each unit builds its own initramfs and disk files, so
    units of one kernel can run at once."""
    args = copy.copy(args)
    args.timeout_scale = 3 if k.name == "debug" else 1
    profile = args.profile or ("debug" if k.name == "debug" else "full")
    env = {"VS_KERNEL": k.name, "VS_PROFILE": profile,
           "VS_DISK_ORIGIN": "/dev/vda",
           "VS_BUDGET": args.debug_budget if k.name == "debug" and
           args.debug_budget else "",
           "VS_DISK_STORE": "/dev/vdb", "VS_DISK_SCRATCH1": "/dev/vdc",
           "VS_DISK_SCRATCH2": "/dev/vdd"}
    # A failing test's seed, rounds or iterations, repeated from the host.
    env.update({v: os.environ[v] for v in ("VS_SEED", "VS_CYCLES",
                                           "VS_FUZZ_ITERS")
                if os.environ.get(v)})
    # Tests of GROUP/DEBUG_SKIP are not run on the debug kernel (each line
    # says why): counted as skipped there, run on the stock kernels.
    if k.name == "debug":
        for n, why in sorted(group_list("DEBUG_SKIP").items()):
            if n in dict(tests):
                log(f"{k.name}: {n} skipped: {why}")
                res.add("skip", f"{k.name}: {n}", why)
        tests = [(n, t) for n, t in tests if n not in group_list("DEBUG_SKIP")]
    scaled = [(n, t * args.timeout_scale) for n, t in tests]
    # Tests that patch kernel text under running vCPUs get a boot of
    # their own with single-threaded TCG.
    single = group_list("SINGLE_THREAD")
    runs = [("main", [(n, t) for n, t in scaled if n not in single], None),
            ("single", [(n, t) for n, t in scaled if n in single],
             SINGLE_THREAD_ACCEL)]

    def boots(tag, part, accel):
        t0 = time.time()
        cpio = build_initramfs(k, part, env, tag)
        for attempt in range(1, BOOT_TRIES + 1):
            if boot(k, cpio, part, res, args,
                    last_try=attempt == BOOT_TRIES, accel=accel):
                break
        log(f"{k.name}: {tag} boot done in {time.time() - t0:.0f}s")

    def cycles(name, kills, dkills):
        cpio = build_initramfs(k, [], env, "crash-" + name.replace("/", "-"))
        n = args.crash_kills or (dkills if k.name == "debug" else kills)
        run_crash(k, cpio, name, dict(tests_all)[name] * args.timeout_scale,
                  n, args.crash_seed, res, args)

    units = [(rank, functools.partial(boots, tag, part, accel))
             for rank, (tag, part, accel) in enumerate(runs) if part]
    units += [(2, functools.partial(cycles, n, kills, dkills))
              for n, (kills, dkills) in sorted(crash.items())]
    return units


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-k", "--kernels", default="6.1,6.12,debug",
                    help="comma-separated kernels: 6.1, 6.12, debug (default: all)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="echo the guest console")
    ap.add_argument("--show-output", dest="verbose_pass", action="store_true",
                    help="print every test's output, not only failures'")
    ap.add_argument("--narrate", action="store_true",
                    help="print the tests' output live (the demo)")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--memory", type=int, default=2048, help="guest MiB")
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("-j", "--jobs", type=int, default=2,
                    help="kernels tested at once, each in a VM of its own "
                         "(default 2)")
    ap.add_argument("--cache", default="unsafe", help="QEMU disk cache mode")
    ap.add_argument("--append", default="", help="extra kernel command line")
    ap.add_argument("--accel", default="tcg",
                    help="QEMU -accel value for the boots (default tcg: one host "
                         "thread per vCPU); the tests of GROUP/SINGLE_THREAD "
                         "always boot with " + SINGLE_THREAD_ACCEL)
    ap.add_argument("--debug-budget", type=int, default=DEBUG_BUDGET, metavar="SECONDS",
                    help="on the debug kernel, a test that would start after "
                         "this guest uptime is not run and FAILS the run "
                         f"(default {DEBUG_BUDGET}; 0: no budget)")
    ap.add_argument("--profile", choices=("full", "debug"),
                    help="the tests' VS_PROFILE: debug (smaller regions, "
                         "fewer rounds) on the debug kernel, full elsewhere by "
                         "default; --profile debug times the debug profile on "
                         "a stock kernel")
    ap.add_argument("--disk", action="append", default=[], metavar="NAME=SIZE",
                    type=lambda v: tuple(v.split("=", 1)),
                    help="one more sparse scratch disk (vde, vdf, ...), e.g. big=1T")
    ap.add_argument("--workdir", default=None, help="where the disk files go")
    ap.add_argument("--static", metavar="CMD",
                    help="run CMD first and count its TAP points (static checks)")
    ap.add_argument("--crash-kills", type=int, metavar="N",
                    default=int(os.environ.get("VS_CRASH_KILLS") or 0) or None,
                    help="kill/verify cycles of each crash test on every kernel "
                         "(default: its CRASH file's; env VS_CRASH_KILLS)")
    ap.add_argument("--crash-seed", type=int, metavar="N",
                    default=int(os.environ.get("VS_CRASH_SEED") or 0) or None,
                    help="seed of the kill moments and the crash tests' data "
                         "(default: random, printed; env VS_CRASH_SEED)")
    ap.add_argument("tests", nargs="*", help="group or group/name (default: all)")
    args = ap.parse_args()
    args.crash_disks = None

    res = Result()
    try:
        kernels = [Kernel(n) for n in args.kernels.split(",") if n]
        if not all(os.path.exists(os.path.join(CACHE, "guest-tools", "root", rel))
                   for rel, _ in GUEST_ONLY_TOOLS) or \
                not os.path.isdir(os.path.join(CACHE, "guest-postgresql", "root", PG_ROOT)):
            run([os.path.join(VM, "deps.sh")], stdout=subprocess.DEVNULL)
        if not args.no_build:
            build(kernels)
    except (subprocess.CalledProcessError, OSError, KeyError) as e:
        print(f"vmtest: build failed: {e}", file=sys.stderr)
        print("\n0 passed, 1 failed, 0 skipped")
        return 1
    tests = tests_all = discover(args.tests)
    if not tests:
        print("vmtest: no test matches", args.tests, file=sys.stderr)
        print("0 passed, 1 failed, 0 skipped")
        return 1
    if any(n == PACKAGES_TEST for n, _ in tests):
        try:
            build_packages(kernels)
        except (subprocess.CalledProcessError, OSError, IndexError) as e:
            print(f"vmtest: building the packages failed: {e}", file=sys.stderr)
            print("\n0 passed, 1 failed, 0 skipped")
            return 1
    crash = crash_marks(tests)
    if crash:
        args.crash_seed = args.crash_seed or random.randrange(1, 1 << 31)
        log(f"crash tests: seed {args.crash_seed} (--crash-seed to repeat)")
    tests = [(n, t) for n, t in tests if n not in crash]
    # The static checks beside the boots (they build in directories of
    # their own), and the boots of every kernel, args.jobs at once, taken
    # in order: each kernel's boot of the multi-threaded tests first (the
    # debug kernel's, the longest, before all), then the single-threaded
    # boots and the crash cycles, so that the short units fill in at the
    # end. A TCG guest keeps about one of the host's cores busy; every
    # result goes into res.
    order = sorted(kernels, key=lambda k: k.name != "debug")
    units = [(rank, i, unit) for i, k in enumerate(order)
             for rank, unit in lane_units(k, tests, tests_all, crash, args, res)]
    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(1) as spool, \
         concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        futures = [spool.submit(run_static, args.static, res)] if args.static else []
        futures += [pool.submit(unit) for _, _, unit in sorted(units, key=lambda u: u[:2])]
        for f in futures:
            f.result()
    log(f"all boots done in {time.time() - t0:.0f}s")
    for label, detail in res.failures:
        print(f"\n=== FAIL {label}")
        if detail:
            print(detail)
    print(f"\n{res.passed} passed, {res.failed} failed, {res.skipped} skipped")
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
