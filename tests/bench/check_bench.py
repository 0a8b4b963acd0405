# SPDX-License-Identifier: MIT
"""
A benchmark program run as `make bench` runs it, with --quick: it must exit
0 and print one JSON object a line in the shape BENCHMARKS.md documents,
and every count it reports that the formats, the caches' geometry or the
workload define must be that count. No time is asserted: only that the
statistics are ordered (0 <= min <= p50 <= p99) and that the derived rates
agree with the p50 they come from.

usage: check_bench.py BENCH_PROGRAM

The counts, from what defines them:
- pt_fill: a 4-level table with 512 entries of 4 KiB a table holds R bytes
  of L-byte leaves in R/2M + R/1G + R/512G + 1 tables (leaf 4K), one level
  fewer for each larger leaf; an unmap in one call leaves the root alone
  (empty tables are reclaimed); a 1G subtree's unmap likewise.
- nested: an uncached walk of an n1-level stage 1 over an n2-level stage 2
  reads (n1 + 1)(n2 + 1) - 1 descriptors; with caches, fewer, but never
  less than the stage-1 leaf.
- sparse: one 4K page in a 4-level table needs 4 tables at most; the root
  alone stays after its unmap.
- inval: the strict loop never returns a stale page; a sequential nested
  stream reads 2 descriptors a 4K page over 4K stage-2 pages (both leaves)
  and 1 over 2M blocks, plus 3 where a 512-page last-level table begins;
  with 512-byte DMAs the IOTLB answers 7 of every 8.
- cache_sweep: uniform draws over 4x the IOTLB hit 1/4 of the time, and a
  miss reads one descriptor, two nested over 4K stage-2 pages; exact LRU
  over a loop smaller than the cache misses only on first touches, and
  over uniform draws from twice its size misses half the time; 2048 2M
  entries fit a 4096-entry IOTLB (compulsory misses only).
- iotlb: a working set that fits the cache hits every time; QEMU's policy
  flushes only when the working set outgrows its capacity.
- smmuv3: a DMA of B bytes over 4K leaves needs B/4K translations.
"""
import json
import math
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from tap import Tap  # noqa: E402

prog = sys.argv[1]
base = os.path.basename(prog)
SIZES = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def size(s):
    m = re.fullmatch(r"(\d+)([KMGT])", s)
    return int(m.group(1)) * SIZES[m.group(2)] if m else None


def close(a, b, tol):
    return a is not None and abs(a - b) <= tol


def tables_4level(region, leaf):
    """4 KiB tables of a 4-level, 512-entry table mapping [0, region) with leaf-size leaves."""
    spans = {4096: [2 << 20, 1 << 30, 512 << 30], 2 << 20: [1 << 30, 512 << 30],
             1 << 30: [512 << 30]}[leaf]
    return sum(math.ceil(region / s) for s in spans) + 1


def checks(r):
    """(condition, description, diagnostic) for one row's defined counts."""
    n, p = r["name"], r["params"]
    out = []
    if base == "bench_pt_fill":
        region, leaf = size(p["region"]), size(p["leaf"])
        want = tables_4level(region, leaf) * 4096
        if n == "pt_fill_map":
            out.append((r.get("bytes") == want, f"{n} {p['format']} {p['region']}/{p['leaf']} "
                        f"{p['tables']}: {want} table bytes", r.get("bytes")))
            if p["tables"] == "empty":
                out.append((p["ptes"] == region // leaf, f"{n}: region / leaf PTEs", p["ptes"]))
        elif n == "pt_fill_unmap" and p["tables"] == "one call":
            out.append((r.get("bytes_retained") == 4096,
                        f"{n} {p['format']} {p['region']}/{p['leaf']}: the root alone stays",
                        r.get("bytes_retained")))
        elif n == "pt_fill_unmap":
            out.append((r.get("bytes") == want, f"{n} {p['format']} {p['tables']}: tables kept",
                        r.get("bytes")))
        elif n == "pt_unmap_1g_subtree":
            out.append((r.get("bytes_retained") == 4096, f"{n} {p['format']}: the root alone stays",
                        r.get("bytes_retained")))
    elif base == "bench_nested" and n == "nested_walk":
        lv = [int(x) for x in re.findall(r"(\d)lvl", p["config"])]
        want = (lv[0] + 1) * (lv[1] + 1) - 1
        if p["variant"] == "cached":
            out.append((r.get("uncached_reads") == want, f"{p['config']} cached: {want} reads "
                        "without caches", r.get("uncached_reads")))
            rp = r.get("reads_per_translation")
            out.append((rp is not None and 1 <= rp < want, f"{p['config']} cached: at least the "
                        f"leaf read, fewer than {want}", rp))
        else:
            out.append((r.get("reads") == want, f"{p['config']} {p['variant']}: {want} reads",
                        r.get("reads")))
    elif base == "bench_sparse":
        out.append((r.get("table_bytes_peak") == 4 * 4096, f"{p['format']}: 4 tables at peak",
                    r.get("table_bytes_peak")))
        out.append((r.get("table_bytes_retained") == 4096, f"{p['format']}: the root alone after",
                    r.get("table_bytes_retained")))
        out.append((p["pairs"] == p["span_bytes"] // p["stride_bytes"],
                    f"{p['format']}: one pair a stride", p["pairs"]))
    elif base == "bench_inval" and n == "strict_loop":
        out.append((r.get("stale") == 0, f"strict loop {p['mode']}: no stale page", r.get("stale")))
    elif base == "bench_inval" and n == "seq_stream":
        per_page = (2 if p["stage2_leaves"] == "4K" else 1) + 3 / 512
        per = per_page * p["step_bytes"] / 4096
        out.append((close(r.get("reads_per_translation"), per, 0.006 * max(per, 0.2)),
                    f"sequential {p['stage2_leaves']} stage 2, {p['step_bytes']}-byte steps: "
                    f"{per:.4f} reads", r.get("reads_per_translation")))
        hits = 1 - p["step_bytes"] / 4096
        out.append((close(r.get("iotlb_hit_rate"), hits, 0.002),
                    f"sequential {p['step_bytes']}-byte steps: IOTLB hit rate {hits}",
                    r.get("iotlb_hit_rate")))
    elif base == "bench_cache_sweep" and n == "cache_capacity":
        per_miss = 2 if p["mode"] == "nested" and p["stage2_leaves"] == "4K" else 1
        out.append((close(r.get("hit_rate"), 0.25, 0.01), f"4x {p['mode']}/{p['stage2_leaves']}: "
                    "hit rate 1/4", r.get("hit_rate")))
        out.append((close(r.get("reads_per_translation"), 0.75 * per_miss, 0.02),
                    f"4x {p['mode']}/{p['stage2_leaves']}: {per_miss} reads a miss",
                    r.get("reads_per_translation")))
    elif base == "bench_cache_sweep" and n == "miss_rate_vs_lru":
        lru = r.get("lru_miss_rate_pct")
        if p["stream"] == "sequential":
            want = 100 * p["pages"] / p["accesses"]
            out.append((close(lru, want, 0.01 * want + 1e-3),
                        f"LRU over a {p['pages']}-page loop in {p['iotlb_entries']}: first touches only",
                        lru))
        elif p["stream"] == "random":
            out.append((close(lru, 50, 1.5), f"LRU over 2x {p['iotlb_entries']}: half missed", lru))
        out.append((abs(r.get("delta_points", 99)) <= 2,
                    f"{p['stream']} at {p['iotlb_entries']}: within 2 points of exact LRU",
                    r.get("delta_points")))
    elif base == "bench_cache_sweep" and n == "iotlb_2m_reach":
        floor = 1 - 2048 / p["accesses"]
        hr = r.get("hit_rate")
        out.append((hr is not None and 0.99 <= hr <= floor + 5e-4,
                    f"2M reach {p['mode']}: >= 0.99, no better than compulsory ({floor:.4f})", hr))
    elif base == "bench_iotlb" and "hit_rate" in r:
        cap = p.get("capacity", p.get("iotlb_entries"))
        if p["variant"].startswith("qemu") and p["leaves"] == "4k":
            out.append(((r.get("flushes_per_64k") == 0) == (p["working_set"] <= cap),
                        f"{p['mode']} {p['variant']} {p['working_set']}: flushes iff over capacity",
                        r.get("flushes_per_64k")))
        if p["working_set"] <= min(cap, 256):
            out.append((r["hit_rate"] == 1, f"{p['mode']} {p['leaves']} {p['variant']} "
                        f"{p['working_set']}: every access hits", r["hit_rate"]))
    elif base == "bench_smmuv3" and n == "smmuv3_dma" and p["s2leaf"] == "4K":
        want = p["bytes"] // 4096
        out.append((r.get("translations_per_op") == want,
                    f"smmuv3 DMA of {p['bytes']} over 4K: {want} translations",
                    r.get("translations_per_op")))
    return out


def shape(r):
    """The harness's contract for a timed row."""
    if "ns_p50" not in r:
        return True, ""
    try:
        ok = 0 <= r["ns_min"] <= r["ns_p50"] <= r["ns_p99"] and r["samples"] >= 1
        if r["ns_p50"] > 0:
            ok = ok and close(r["ops_per_s"], 1e9 / r["ns_p50"], 0.01 * 1e9 / r["ns_p50"] + 1)
    except (KeyError, TypeError):
        ok = False
    return ok, {k: r.get(k) for k in ("ns_min", "ns_p50", "ns_p99", "samples", "ops_per_s")}


p = subprocess.run([prog, "--quick"], capture_output=True, text=True, timeout=600)
rows, bad = [], []
for line in p.stdout.splitlines():
    try:
        r = json.loads(line)
        if isinstance(r, dict) and isinstance(r.get("name"), str) and isinstance(r.get("params"), dict):
            rows.append(r)
            continue
    except ValueError:
        pass
    bad.append(line)

cases = []
for r in rows:
    cases += checks(r)
shapes = [(r, *shape(r)) for r in rows]
t = Tap(3 + len(cases))
t.ok(p.returncode == 0, f"{base} --quick exits 0", p.stderr[-2000:])
t.ok(rows and not bad, f"{base}: {len(rows)} JSON rows, every line one object with name and params",
     "\n".join(bad[:5]))
badshape = [(r["name"], r["params"], d) for r, ok, d in shapes if not ok]
t.ok(not badshape, f"{base}: 0 <= min <= p50 <= p99, ops/s = 1e9 / p50 in every timed row",
     "\n".join(map(str, badshape[:5])))
for cond, desc, diag in cases:
    t.ok(cond, desc, f"got {diag!r}")
t.done()
