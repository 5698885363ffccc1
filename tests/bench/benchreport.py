# SPDX-License-Identifier: GPL-2.0
"""Turn the guest's @@BENCH records into result.json, table.md and charts.

Used by tests/bench/run; `tests/bench/run --replay bench-out/X/console.log`
rebuilds the outputs from a saved console log without booting a VM.
"""

import json
import os
import shutil
import statistics
import subprocess

WRITES = ["seqw_first", "rw1_first", "rw16_first", "rw1_re", "rw16_re", "seqw_re"]
READS = ["rr_changed", "sr_changed", "rr_unchanged", "sr_unchanged"]
SCALING = ["seqw_first", "rw1_first", "rw16_first", "rw1_re"]
LABEL = {
    "seqw_first": "1M seq write, first touch",
    "rw1_first": "4K rand write QD1, first touch",
    "rw16_first": "4K rand write QD16, first touch",
    "rw1_re": "4K rand write QD1, rewrite",
    "rw16_re": "4K rand write QD16, rewrite",
    "seqw_re": "1M seq write, rewrite",
    "rr_changed": "4K rand read, changed region",
    "sr_changed": "1M seq read, changed region",
    "rr_unchanged": "4K rand read, unchanged region",
    "sr_unchanged": "1M seq read, unchanged region",
}
SHORT = {"seqw_first": "seq W 1st", "rw1_first": "4K W QD1 1st", "rw16_first": "4K W QD16 1st",
         "rw1_re": "4K W QD1 re", "rw16_re": "4K W QD16 re", "seqw_re": "seq W re",
         "rr_changed": "4K R chg", "sr_changed": "seq R chg", "rr_unchanged": "4K R unchg",
         "sr_unchanged": "seq R unchg"}
ORDER = ["raw", "vs64-1", "vs64-8", "vs64-32", "vs64-64", "vs4-1", "vs4-8", "vs4-32", "vs4-64",
         "dm64-1", "dm64-8", "dm64-32", "dm4-1", "dm4-8", "dm4-32"]
FULL = ["raw", "vs64-1", "vs4-1", "dm64-1", "dm4-1"]
CHUNK_BYTES = {"64K": 65536, "4K": 4096}


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def unit(w):
    return "MiB/s" if w.startswith(("seq", "sr")) else "IOPS"


def job_value(job, w):
    """The figure of merit of one fio job: IOPS, or MiB/s for 1 MiB jobs."""
    d = job["read"] if w.startswith(("rr", "sr")) else job["write"]
    return d["bw"] / 1024.0 if unit(w) == "MiB/s" else d["iops"]


def pct(d, p):
    try:
        return d["clat_ns"]["percentile"][p] / 1000.0
    except (KeyError, TypeError):
        return None


def samples(recs):
    """One row per fio job: contender, workload, round, value and context.
    A group's "marks" are [store, slab, vmalloc] before the group and after
    each of its jobs."""
    rows = []
    for r in recs:
        if r.get("kind") != "fio":
            continue
        marks = r.get("marks", [])
        for j, job in enumerate(r["fio"].get("jobs", [])):
            w = job["jobname"]
            d = job["read"] if w.startswith(("rr", "sr")) else job["write"]
            opts = job.get("job options", {})
            row = {"contender": r["contender"], "system": r["system"], "chunk": r["chunk"],
                   "snapshots": r["snapshots"], "round": r["round"], "workload": w,
                   "value": job_value(job, w), "unit": unit(w), "error": job.get("error", 0),
                   "runtime_ms": d.get("runtime"), "io_bytes": d.get("io_bytes"),
                   "iops": d.get("iops"), "bw_kib": d.get("bw"),
                   "p50_us": pct(d, "50.000000"), "p99_us": pct(d, "99.000000"),
                   "max_us": d.get("clat_ns", {}).get("max", 0) / 1000.0,
                   "offset_mib": int(opts.get("offset", 0)) >> 20,
                   "region_mib": int(opts.get("size", 0)) >> 20}
            if len(marks) > j + 1:
                row["store_delta"] = marks[j + 1][0] - marks[j][0]
                row["mem_delta"] = (marks[j + 1][1] + marks[j + 1][2]) - (marks[j][1] + marks[j][2])
                if r["system"] in ("vs", "dm") and w in WRITES and row["io_bytes"]:
                    cb = CHUNK_BYTES[r["chunk"]]
                    writes = row["io_bytes"] / (4096 if w.startswith("rw") else 1048576)
                    row["copies"] = row["store_delta"] / cb
                    row["copies_per_write"] = row["copies"] / writes if writes else None
                    row["store_per_written"] = row["store_delta"] / row["io_bytes"]
            rows.append(row)
    return rows


def memory(recs, rows):
    """Per volsnap/dm setup: slab+vmalloc growth from before the first write
    job to after the last one, against the data preserved (store bytes; for
    dm, per snapshot), and store bytes per byte written (the untimed
    preparation of the rewrite region included)."""
    out = []
    firsts = {(r["contender"], r["round"]): r for r in recs
              if r.get("kind") == "fio" and r["group"] == "first_seq"}
    for r in recs:
        if r.get("kind") != "fio" or r["group"] != "rest" or r["system"] == "raw":
            continue
        first = firsts.get((r["contender"], r["round"]))
        marks = r.get("marks", [])
        jobs = r["fio"].get("jobs", [])
        last = max([j for j, job in enumerate(jobs) if job["jobname"] in WRITES], default=None)
        if first is None or not first.get("marks") or last is None or len(marks) < last + 2:
            continue
        m0, m1 = first["marks"][0], marks[last + 1]
        written = sum(x["io_bytes"] or 0 for x in rows
                      if x["contender"] == r["contender"] and x["round"] == r["round"]
                      and x["workload"] in WRITES) + r.get("prep_mib", 0) * 2**20
        store = m1[0] - m0[0]
        n = max(r["snapshots"], 1)
        preserved = store / n if r["system"] == "dm" else store
        mem = (m1[1] + m1[2]) - (m0[1] + m0[2])
        out.append({"contender": r["contender"], "round": r["round"], "system": r["system"],
                    "chunk": r["chunk"], "snapshots": r["snapshots"],
                    "slab_delta": m1[1] - m0[1], "vmalloc_delta": m1[2] - m0[2],
                    "store_used": store, "preserved_bytes": preserved, "written_bytes": written,
                    "mem_mib_per_gib_preserved": (mem / 2**20) / (preserved / 2**30)
                    if preserved > 0 else None,
                    "store_gib_per_gib_written": store / written if written else None})
    return out


def fmt(v, nd=None):
    if v is None:
        return "-"
    if nd is None:
        nd = 0 if abs(v) >= 100 else 1 if abs(v) >= 10 else 2
    return f"{v:.{nd}f}"


def ratio_table(contenders, workloads, med_val, ratio):
    """Markdown rows: raw as its median value, others as ratio (median)."""
    rows = ["| contender | " + " | ".join(SHORT[w] for w in workloads) + " |",
            "|---|" + "---:|" * len(workloads)]
    for c in contenders:
        if not any((c, w) in med_val for w in workloads):
            continue
        cells = []
        for w in workloads:
            if (c, w) not in med_val:
                cells.append("")
            elif c == "raw":
                cells.append(f"{fmt(med_val[(c, w)])} {unit(w)}")
            else:
                cells.append(f"{fmt(ratio[(c, w)], 2)} ({fmt(med_val[(c, w)])})")
        rows.append(f"| {c} | " + " | ".join(cells) + " |")
    return rows


def write_outputs(recs, meta_host, outdir):
    meta = next((r for r in recs if r.get("kind") == "meta"), {})
    rows = samples(recs)
    med_val, ratio, own = {}, {}, {}
    for c in ORDER:
        for w in WRITES + READS:
            vals = [x["value"] for x in rows if x["contender"] == c and x["workload"] == w]
            if vals:
                med_val[(c, w)] = med(vals)
    for (c, w), v in med_val.items():
        raw = med_val.get(("raw", w))
        ratio[(c, w)] = v / raw if raw else None
        if "-" in c and not c.endswith("-1"):
            one = med_val.get((c.rsplit("-", 1)[0] + "-1", w))
            own[(c, w)] = v / one if one else None
    # per-round ratios (contender / raw of the same round), for the spread
    per_round = {}
    for x in rows:
        raw = [y["value"] for y in rows if y["contender"] == "raw" and y["workload"] == x["workload"]
               and y["round"] == x["round"]]
        if raw and raw[0]:
            per_round.setdefault((x["contender"], x["workload"]), []).append(x["value"] / raw[0])

    setups = [r for r in recs if r.get("kind") == "setup"]
    ext4 = [r for r in recs if r.get("kind") == "ext4"]
    holds = [r for r in recs if r.get("kind") == "hold"]
    mem = memory(recs, rows)
    overhead = next((r for r in recs if r.get("kind") == "overhead"), None)
    profile = [r for r in recs if r.get("kind") == "profile"]
    fatal = [r for r in recs if r.get("kind") == "fatal"]
    complete = any(r.get("kind") == "end" for r in recs)

    # ---- hold
    hold_sum = []
    for sysname in ("vs", "dm"):
        for size in ("1G", "1T"):
            for load in ("base", "idle", "writer", "load"):
                hs = [h for h in holds if h["system"] == sysname and h["origin_size"] == size
                      and h["load"] == load]
                if not hs:
                    continue
                cmd = [h["probe"]["cmd_ms"] for h in hs]
                hm = []
                for h in hs:
                    try:
                        hm.append(json.loads(h["probe"]["cmd_out"])["hold_ms"])
                    except (ValueError, KeyError, TypeError):
                        pass
                ent = {"system": sysname, "origin_size": size, "load": load, "n": len(hs),
                       "cmd_ms_median": med(cmd), "cmd_ms_max": max(cmd),
                       "hold_ms_median": med(hm), "hold_ms_max": max(hm) if hm else None,
                       "failed": sum(1 for h in hs if h["probe"]["cmd_status"] != 0)}
                if load in ("writer", "load"):
                    ex = [h["probe"]["extra_ms"] for h in hs]
                    ent.update({"extra_ms_median": med(ex), "extra_ms_max": max(ex),
                                "writer_base_median_ms": med([h["probe"]["base_med_ms"] for h in hs]),
                                "max_after_1s_ms_median": med([h["probe"]["max_after_1s_ms"]
                                                               for h in hs])})
                hold_sum.append(ent)

    def hold_get(sysname, size, load, key):
        for e in hold_sum:
            if (e["system"], e["origin_size"], e["load"]) == (sysname, size, load):
                return e.get(key)
        return None

    # ---- ext4
    ext4_sum = []
    for c in ("ext4-raw", "ext4-vs64", "ext4-vs4", "ext4-dm64", "ext4-dm4"):
        es = [e for e in ext4 if e["contender"] == c]
        if not es:
            continue
        tot = []
        for e in es:
            j = (e["fio"].get("jobs") or [{}])[0]
            tot.append(j.get("read", {}).get("iops", 0) + j.get("write", {}).get("iops", 0))
        ext4_sum.append({"contender": c, "n": len(es), "iops_median": med(tot),
                         "images_ok": [e["image_ok"] for e in es],
                         "invalid": sum(e["images_invalid"] for e in es)})
    raw_ext4 = next((e["iops_median"] for e in ext4_sum if e["contender"] == "ext4-raw"), None)
    for e in ext4_sum:
        e["ratio"] = e["iops_median"] / raw_ext4 if raw_ext4 and e["iops_median"] else None

    # ---- verification
    checked = sum(s["images_checked"] for s in setups)
    bad = sum(s["images_bad"] for s in setups)
    invalid = sum(s["images_invalid"] for s in setups)
    e4_checked = sum(1 for e in ext4 if e["image_ok"] is not None)
    e4_bad = sum(1 for e in ext4 if e["image_ok"] is False)
    e4_invalid = sum(e["images_invalid"] for e in ext4)
    verify = {"images_checked": checked + e4_checked, "images_bad": bad + e4_bad,
              "images_invalid": invalid + e4_invalid,
              "all_correct": (bad + e4_bad + invalid + e4_invalid) == 0 and checked > 0,
              "by_contender": {c: {"checked": sum(s["images_checked"] for s in setups
                                                  if s["contender"] == c),
                                   "checked_mib": sum(s["checked_mib"] for s in setups
                                                      if s["contender"] == c),
                                   "bad": sum(s["images_bad"] for s in setups
                                              if s["contender"] == c),
                                   "invalid": sum(s["images_invalid"] for s in setups
                                                  if s["contender"] == c)}
                               for c in ORDER if any(s["contender"] == c for s in setups)}}

    # ---- targets
    targets = []

    def target(name, pairs, limit, kind="ratio"):
        vals = [(lbl, v) for lbl, v in pairs if v is not None]
        if not vals:
            targets.append({"target": name, "limit": limit, "measured": [], "met": None})
            return
        if kind == "ratio":
            met = all(v >= limit for _, v in vals)
        else:
            met = all(v <= limit for _, v in vals)
        targets.append({"target": name, "limit": limit, "kind": kind,
                        "measured": [{"what": lbl, "value": round(v, 3)} for lbl, v in vals],
                        "met": met})

    target("rewrite >= 0.97 of raw",
           [(f"{c} {w}", ratio.get((c, w))) for c in ORDER if c.startswith("vs")
            for w in ("rw1_re", "rw16_re", "seqw_re")], 0.97)
    target("first-touch 4K random write, 64 KiB chunks >= 0.95 of raw",
           [(f"vs64-1 {w}", ratio.get(("vs64-1", w))) for w in ("rw1_first", "rw16_first")], 0.95)
    target("first-touch 4K random write, 4 KiB chunks >= 0.6 of raw",
           [(f"vs4-1 {w}", ratio.get(("vs4-1", w))) for w in ("rw1_first", "rw16_first")], 0.6)
    target("first-touch 1M sequential write >= 0.45 of raw (64 KiB chunks)",
           [("vs64-1 seqw_first", ratio.get(("vs64-1", "seqw_first")))], 0.45)
    target("32 snapshots >= 0.95 of volsnap's 1-snapshot figure",
           [(f"{c} {w}", own.get((c, w))) for c in ("vs64-32", "vs4-32") for w in SCALING], 0.95)
    target("image reads >= 0.9 of raw origin reads",
           [(f"{c} {w}", ratio.get((c, w))) for c in ("vs64-1", "vs4-1") for w in READS], 0.9)
    target("4 KiB writer sees <= 10 ms extra latency during create (max)",
           [(f"vs {s} {ld}", hold_get("vs", s, ld, "extra_ms_max")) for s in ("1G", "1T")
            for ld in ("writer", "load")], 10.0, "max")
    target("create returns within 100 ms (max wall, process start-up included)",
           [(f"vs {s} {ld}", hold_get("vs", s, ld, "cmd_ms_max")) for s in ("1G", "1T")
            for ld in ("idle", "writer", "load")], 100.0, "max")
    net = []
    for sz in ("1G", "1T"):
        base = hold_get("vs", sz, "base", "cmd_ms_median")
        for ld in ("idle", "writer", "load"):
            v = hold_get("vs", sz, ld, "cmd_ms_max")
            if base is not None and v is not None:
                net.append((f"vs {sz} {ld}", v - base))
    target("create returns within 100 ms (max wall minus the median start-up of "
           "`snapctl version`)", net, 100.0, "max")
    same = []
    for key, ld in (("cmd_ms_median", "idle"), ("hold_ms_median", "idle"),
                    ("hold_ms_median", "writer"), ("extra_ms_median", "writer"),
                    ("hold_ms_median", "load"), ("extra_ms_median", "load")):
        a, b = hold_get("vs", "1G", ld, key), hold_get("vs", "1T", ld, key)
        if a is not None and b is not None:
            # 1 TiB minus what 1 GiB allows: 25% more, or 5 ms (the noise of
            # three samples under TCG), whichever is larger; <= 0 is "same"
            same.append((f"vs {key} {ld}: 1G {a:.1f} ms, 1T {b:.1f} ms; excess",
                         b - max(1.25 * a, a + 5.0)))
    target("same on 1 GiB and 1 TiB (1T median <= max(1.25 x 1G, 1G + 5 ms); "
           "measured: the excess over that)", same, 0.0, "max")

    # ---- result.json
    result = {
        "meta": meta, "host": meta_host, "overhead": overhead, "complete": complete,
        "fatal": fatal,
        "medians": [{"contender": c, "workload": w, "unit": unit(w), "median": v,
                     "ratio_to_raw": ratio.get((c, w)), "ratio_to_own_1_snapshot": own.get((c, w)),
                     "per_round_ratio_to_raw": [round(x, 4) for x in per_round.get((c, w), [])],
                     "rounds": len([x for x in rows if x["contender"] == c and x["workload"] == w])}
                    for (c, w), v in sorted(med_val.items(),
                                            key=lambda kv: (ORDER.index(kv[0][0]),
                                                            (WRITES + READS).index(kv[0][1])))],
        "samples": rows, "setups": setups, "memory": mem, "hold": hold_sum,
        "hold_samples": holds, "ext4": ext4_sum, "ext4_samples": ext4,
        "verification": verify, "targets": targets,
        "profile": profile,
    }
    with open(os.path.join(outdir, "result.json"), "w") as f:
        json.dump(result, f, indent=1)

    # ---- table.md
    L = []
    q = meta_host.get("qemu", {})
    L.append(f"# volsnap benchmark {meta_host.get('date', '')}")
    L.append("")
    L.append(f"Kernel {meta.get('kernel', '?')}, QEMU TCG, {q.get('cpus', '?')} vCPUs, "
             f"{q.get('memory_mib', '?')} MiB, disk cache={q.get('cache', '?')} "
             f"(virtio-blk on sparse raw files on the host). {meta.get('rounds', '?')} rounds "
             f"interleaved in one boot, fio {meta.get('runtime_s', '?')} s per job, "
             f"{meta.get('region_mib', '?')} MiB regions for first touch, "
             f"{meta.get('rewrite_mib', '?')} MiB for rewrites and changed-region reads, "
             f"direct I/O, libaio. Disk files on {meta_host.get('workdir_fs', '?')}. "
             f"Wall time {meta_host.get('wall_s', 0) / 60:.1f} min.")
    ct = meta_host.get("contention", {})
    if ct.get("samples"):
        L.append("")
        L.append(f"Host contention (sampled every {ct['interval_s']} s): other QEMU "
                 f"processes running during {ct['fraction_with_other_qemu'] * 100:.0f}% of the "
                 f"run (at most {ct['max_other_qemu']}); median 1-min load "
                 f"{ct['load1_median']:.1f} on {meta_host.get('host', {}).get('nproc', '?')} CPUs.")
    if not complete:
        L.append("")
        L.append("**The guest did not finish: the results below are partial.**")
    for ft in fatal:
        L.append(f"**FATAL in the guest: {ft.get('msg')}**")
    L.append("")
    L.append("## Writes: ratio to the raw origin (median of the rounds)")
    L.append("")
    L += ratio_table(ORDER, WRITES, med_val, ratio)
    L.append("")
    L.append("raw: median IOPS or MiB/s; others: ratio (median). 1st = first touch, right "
             "after the snapshot(s); re = rewrite of chunks already preserved. "
             "vsC-N: volsnap, C KiB chunks, N snapshots; dmC-N: dm-snapshot (writes "
             "through snapshot-origin).")
    L.append("")
    L.append("## Noise: range of the per-round ratios (contender / raw of the same round)")
    L.append("")
    L.append("| contender | " + " | ".join(SHORT[w] for w in WRITES + READS) + " |")
    L.append("|---|" + "---:|" * len(WRITES + READS))
    for c in ORDER:
        if c == "raw" or not any((c, w) in per_round for w in WRITES + READS):
            continue
        cells = []
        for w in WRITES + READS:
            pr = per_round.get((c, w))
            cells.append(f"{min(pr):.2f}-{max(pr):.2f}" if pr else "")
        L.append(f"| {c} | " + " | ".join(cells) + " |")
    L.append("")
    L.append("## Reads of a snapshot image: ratio to the same reads of the raw origin")
    L.append("")
    L += ratio_table(FULL, READS, med_val, ratio)
    L.append("")
    L.append("## Snapshot count: ratio to the same system's 1-snapshot figure")
    L.append("")
    L.append("| contender | " + " | ".join(SHORT[w] for w in SCALING) + " |")
    L.append("|---|" + "---:|" * len(SCALING))
    for c in ORDER:
        if c == "raw" or c.endswith("-1") or not any((c, w) in own for w in SCALING):
            continue
        L.append(f"| {c} | " + " | ".join(fmt(own.get((c, w)), 2) for w in SCALING) + " |")
    L.append("")
    L.append("## Copy-on-write cost of the first-touch jobs")
    L.append("")
    L.append("| contender | " + " | ".join(f"{SHORT[w]} copies/write" for w in
                                            ("seqw_first", "rw1_first", "rw16_first"))
             + " | store GiB per GiB written |")
    L.append("|---|---:|---:|---:|---:|")
    for c in ORDER:
        if c == "raw":
            continue
        cw = []
        for w in ("seqw_first", "rw1_first", "rw16_first"):
            cw.append(fmt(med([x.get("copies_per_write") for x in rows
                               if x["contender"] == c and x["workload"] == w]), 2))
        sp = med([m["store_gib_per_gib_written"] for m in mem if m["contender"] == c])
        if all(x == "-" for x in cw) and sp is None:
            continue
        L.append(f"| {c} | " + " | ".join(cw) + f" | {fmt(sp, 2)} |")
    L.append("")
    L.append("copies/write: chunks copied to the store(s) per write (a 1 MiB write "
             "spans 16 chunks of 64 KiB, 256 of 4 KiB; dm copies once per snapshot). "
             "Store per written: store bytes used (data and, for dm, exception metadata) "
             "per byte written to the origin over all write jobs of a setup.")
    L.append("")
    L.append("## Memory per GiB preserved (slab + vmalloc growth over the write jobs)")
    L.append("")
    L.append("| contender | MiB per GiB preserved | slab delta MiB | vmalloc delta MiB "
             "| preserved MiB |")
    L.append("|---|---:|---:|---:|---:|")
    for c in ORDER:
        ms = [m for m in mem if m["contender"] == c]
        if not ms:
            continue
        L.append(f"| {c} | {fmt(med([m['mem_mib_per_gib_preserved'] for m in ms]), 2)} | "
                 f"{fmt(med([m['slab_delta'] / 2**20 for m in ms]), 2)} | "
                 f"{fmt(med([m['vmalloc_delta'] / 2**20 for m in ms]), 2)} | "
                 f"{fmt(med([m['preserved_bytes'] / 2**20 for m in ms]))} |")
    L.append("")
    L.append("Whole-kernel slab (sum of num_objs x objsize in /proc/slabinfo) and "
             "VmallocUsed, after the last write job minus before the first; preserved = "
             "store bytes used (dm: per snapshot). It counts every allocation in the "
             "kernel over that window, not only the module's.")
    L.append("")
    L.append("## Snapshot creation: hold time (ms)")
    L.append("")
    L.append("| system | origin | load | n | create wall median / max | writes held "
             "(module) median / max | writer extra latency median / max | writer median "
             "before | writer max in 1 s after |")
    L.append("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for e in hold_sum:
        L.append(f"| {'volsnap' if e['system'] == 'vs' else 'dm-snapshot'} | {e['origin_size']} | "
                 f"{e['load']} | {e['n']} | {fmt(e['cmd_ms_median'], 1)} / {fmt(e['cmd_ms_max'], 1)} | "
                 f"{fmt(e['hold_ms_median'], 1)} / {fmt(e['hold_ms_max'], 1)} | "
                 f"{fmt(e.get('extra_ms_median'), 1)} / {fmt(e.get('extra_ms_max'), 1)} | "
                 f"{fmt(e.get('writer_base_median_ms'), 2)} | {fmt(e.get('max_after_1s_ms_median'), 1)} |")
    L.append("")
    L.append("create wall: `snapctl -J create` executed directly (dm: `sh -c 'dmsetup "
             "suspend; dmsetup create --table snapshot...; dmsetup resume'`, four "
             "processes), process start-up included; base: `snapctl version` timed the "
             "same way, what starting a process costs under TCG. Writes held: the "
             "module's hold_ms. writer: a 4 KiB O_DIRECT synchronous writer runs beside "
             "the command; extra latency = its longest write overlapping the command "
             "minus its median before (the first write after the instant also pays a "
             "chunk copy); load: the writer plus fio 4 KiB random writes at QD8.")
    L.append("")
    if ext4_sum:
        L.append("## ext4: 70/30 random read/write (4 KiB, QD4) on a 256 MiB file")
        L.append("")
        L.append("| contender | IOPS (r+w) median | ratio to no snapshot | image correct |")
        L.append("|---|---:|---:|---|")
        for e in ext4_sum:
            ok = e["images_ok"]
            okt = "-" if all(x is None for x in ok) else \
                f"{sum(1 for x in ok if x)}/{len(ok)}"
            L.append(f"| {e['contender']} | {fmt(e['iops_median'])} | {fmt(e['ratio'], 2)} | {okt} |")
        L.append("")
    L.append("## Images read back against the pre-image")
    L.append("")
    vt = "yes" if verify["all_correct"] else "**NO**"
    L.append(f"All images correct: {vt} — {verify['images_checked']} images checked, "
             f"{verify['images_bad']} wrong, {verify['images_invalid']} invalid.")
    L.append("")
    L.append("| contender | images checked | MiB compared | wrong | invalid |")
    L.append("|---|---:|---:|---:|---:|")
    for c, v in verify["by_contender"].items():
        if v["checked"]:
            L.append(f"| {c} | {v['checked']} | {v['checked_mib']} | {v['bad']} | {v['invalid']} |")
    L.append("")
    L.append(f"Per setup, the oldest and newest image are compared with the pre-image "
             f"(hashed just before the snapshots) at every {meta.get('ends_step_mib', '?')}th "
             f"MiB of the device, the images between them at every "
             f"{meta.get('mid_step_mib', '?')}th MiB.")
    L.append("")
    L.append("## Targets")
    L.append("")
    L.append("| target | met | measured |")
    L.append("|---|---|---|")
    for t in targets:
        met = "-" if t["met"] is None else ("yes" if t["met"] else "**no**")
        vals = ", ".join(f"{m['what']}: {m['value']}" for m in t["measured"])
        L.append(f"| {t['target']} | {met} | {vals} |")
    L.append("")
    with open(os.path.join(outdir, "table.md"), "w") as f:
        f.write("\n".join(L) + "\n")

    charts(outdir, med_val, hold_sum)
    return complete and not fatal


# --------------------------------------------------------------------------
# Charts (gnuplot)

def charts(outdir, med_val, hold_sum):
    if not shutil.which("gnuplot"):
        return
    d = os.path.join(outdir, "data")
    os.makedirs(d, exist_ok=True)
    conts = [c for c in FULL if any((c, w) in med_val for w in WRITES + READS)]

    def dat(name, ws):
        with open(os.path.join(d, name), "w") as f:
            f.write("workload " + " ".join(conts) + "\n")
            for w in ws:
                f.write(f'"{SHORT[w]}" ' + " ".join(
                    fmt(med_val.get((c, w)), 1) if (c, w) in med_val else "0" for c in conts) + "\n")

    iops_w = [w for w in WRITES + READS if unit(w) == "IOPS"]
    bw_w = [w for w in WRITES + READS if unit(w) == "MiB/s"]
    dat("iops.dat", iops_w)
    dat("bandwidth.dat", bw_w)
    common = ('set terminal pngcairo size 1100,560 font ",10"\n'
              'set style data histograms\nset style histogram clustered gap 1\n'
              'set style fill solid 0.85 border -1\nset boxwidth 0.9\n'
              'set key top right\nset grid ytics\nset xtics rotate by -20\n')
    ncol = len(conts)
    for name, title, ylab in (("iops", "4 KiB jobs: IOPS per contender (median)", "IOPS"),
                              ("bandwidth", "1 MiB jobs: bandwidth per contender (median)",
                               "MiB/s")):
        script = common + (f'set output "{outdir}/{name}.png"\nset title "{title}"\n'
                           f'set ylabel "{ylab}"\n'
                           f'plot for [i=2:{ncol + 1}] "{d}/{name}.dat" using i:xtic(1) '
                           'title columnheader(i)\n')
        gp(script)

    # throughput against snapshot count
    fams = [("vs64", "volsnap 64K"), ("vs4", "volsnap 4K"), ("dm64", "dm-snapshot 64K"),
            ("dm4", "dm-snapshot 4K")]
    for w in SCALING:
        with open(os.path.join(d, f"scale_{w}.dat"), "w") as f:
            for fam, _ in fams:
                f.write(f"# {fam}\n")
                for n in (1, 8, 32, 64):
                    v = med_val.get((f"{fam}-{n}", w))
                    if v is not None:
                        f.write(f"{n} {v:.2f}\n")
                f.write("\n\n")
    script = ('set terminal pngcairo size 1100,800 font ",10"\n'
              f'set output "{outdir}/scaling.png"\n'
              'set multiplot layout 2,2 title "Throughput against the number of live snapshots '
              '(median; dashed: raw origin)"\n'
              'set logscale x 2\nset xtics (1, 8, 32, 64)\nset xrange [0.8:80]\n'
              'set grid\nset key below horizontal font ",8"\nset xlabel "snapshots"\n')
    for w in SCALING:
        raw = med_val.get(("raw", w))
        script += f'set title "{LABEL[w]}"\nset ylabel "{unit(w)}"\nset yrange [0:*]\n'
        parts = [f'"{d}/scale_{w}.dat" index {i} with linespoints lw 2 title "{t}"'
                 for i, (_, t) in enumerate(fams)]
        if raw:
            parts.append(f'{raw:.2f} with lines dt 2 lc rgb "black" title "raw"')
        script += "plot " + ", ".join(parts) + "\n"
    script += "unset multiplot\n"
    gp(script)

    # create: wall time and writer's extra latency
    if hold_sum:
        with open(os.path.join(d, "hold.dat"), "w") as f:
            f.write("case create_wall_ms writer_extra_ms\n")
            for e in hold_sum:
                lbl = f"{'volsnap' if e['system'] == 'vs' else 'dm'} {e['origin_size']} {e['load']}"
                f.write(f'"{lbl}" {e["cmd_ms_median"] or 0:.1f} {e.get("extra_ms_median") or 0:.1f}\n')
        script = common + (f'set output "{outdir}/hold.png"\n'
                           'set title "Snapshot creation (median): command wall time and '
                           'extra write latency"\nset ylabel "ms"\n'
                           f'plot "{d}/hold.dat" using 2:xtic(1) title columnheader(2), '
                           '"" using 3 title columnheader(3)\n')
        gp(script)


def gp(script):
    p = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if p.returncode:
        print("bench: gnuplot: " + p.stderr.strip()[:500])
