#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Render the JSON lines of `make bench` (bench/out/*.json) as the Markdown
tables of BENCHMARKS.md: W1 and W2 of perf.md §5 against their targets, and
the Linux 6.12 figures of perf.md §7 where the benchmark carries them.

usage: scripts/bench-table.py [bench/out]
"""
import json
import os
import sys


def load(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    out.append(json.loads(line))
    except OSError:
        pass
    return out


def ns(v):
    if v is None:
        return "—"
    if v >= 1e6:
        return f"{v / 1e6:.2f} ms"
    if v >= 1e4:
        return f"{v / 1e3:.1f} µs"
    if v >= 1e3:
        return f"{v / 1e3:.2f} µs"
    return f"{v:.1f} ns"


def find(rows, name, **params):
    for r in rows:
        if r["name"] != name:
            continue
        if all(r["params"].get(k) == v for k, v in params.items()):
            return r
    return None


def w1_linux(rows):
    print("| workload (4K granule, tables warm) | stage | ours map p50 (min) | Linux map | ratio "
          "| ours unmap p50 (min) | Linux unmap | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    shapes = [("1 × 4K, one call", dict(leaf="4K", count=1, calls=1)),
              ("256 × 4K, one call", dict(leaf="4K", count=256, calls=1)),
              ("256 × 4K, 256 calls", dict(leaf="4K", count=256, calls=256)),
              ("1 × 2M block", dict(leaf="2M", count=1, calls=1))]
    for fmt, stage in (("vmsa-s1-4k", "S1"), ("vmsa-s2-4k", "S2")):
        for label, p in shapes:
            m = find(rows, "pt_map", format=fmt, tables="warm", **p)
            u = find(rows, "pt_unmap", format=fmt, tables="warm", **p)
            if not m or not u:
                continue
            print(f"| {label} | {stage} | {ns(m['ns_p50'])} ({ns(m['ns_min'])}) "
                  f"| {ns(m.get('linux_6_12_ns'))} | {m.get('ratio', 0):.2f} "
                  f"| {ns(u['ns_p50'])} ({ns(u['ns_min'])}) | {ns(u.get('linux_6_12_ns'))} "
                  f"| {u.get('ratio', 0):.2f} |")


def w1_formats(rows):
    fmts = []
    for r in rows:
        f = r["params"]["format"]
        if f not in fmts:
            fmts.append(f)
    print("| format | leaf × count | calls | tables | map p50 | map p99 | unmap p50 | unmap p99 "
          "| map ns/PTE |")
    print("|---|---|---|---|---|---|---|---|---|")
    for f in fmts:
        for m in rows:
            p = m["params"]
            if m["name"] != "pt_map" or p["format"] != f:
                continue
            u = find(rows, "pt_unmap", format=f, leaf=p["leaf"], count=p["count"],
                     calls=p["calls"], tables=p["tables"])
            print(f"| {f} | {p['leaf']} × {p['count']} | {p['calls']} | {p['tables']} "
                  f"| {ns(m['ns_p50'])} | {ns(m['ns_p99'])} "
                  f"| {ns(u['ns_p50']) if u else '—'} | {ns(u['ns_p99']) if u else '—'} "
                  f"| {m['ns_per_pte']:.3g} |")


def w2(rows):
    print("| format | region at leaf | map p50 | map ns/PTE | unmap (one call) p50 | unmap ns/PTE "
          "| table bytes after map | retained after unmap |")
    print("|---|---|---|---|---|---|---|---|")
    for m in rows:
        p = m["params"]
        if m["name"] != "pt_fill_map" or p["region"] != "64G":
            continue
        u = find(rows, "pt_fill_unmap", format=p["format"], region="64G", leaf=p["leaf"])
        print(f"| {p['format']} | 64G at {p['leaf']} ({p['ptes']} PTEs) | {ns(m['ns_p50'])} "
              f"| {m['ns_per_pte']:.3g} | {ns(u['ns_p50']) if u else '—'} "
              f"| {u['ns_per_pte']:.3g} | {m.get('bytes', 0)} "
              f"| {u.get('bytes_retained', 0) if u else '—'} |")


def fill_linux(rows):
    print("| workload (4K pages) | format | ours p50 (min) | ours ns/PTE | Linux 6.12 | ratio |")
    print("|---|---|---|---|---|---|")
    shapes = [("1 GiB into an empty table: map", "pt_fill_map", "empty"),
              ("1 GiB into an empty table: unmap (one call)", "pt_fill_unmap", "one call"),
              ("1 GiB, tables present: map", "pt_fill_map", "present"),
              ("1 GiB, tables present: unmap", "pt_fill_unmap", "present"),
              ("unmap 1 GiB of 4K pages as one call", "pt_unmap_1g_subtree", "one call")]
    for label, name, tables in shapes:
        for r in rows:
            p = r["params"]
            if r["name"] != name or p["region"] != "1G" or p["tables"] != tables:
                continue
            lin = r.get("linux_6_12_ns")
            print(f"| {label} | {p['format']} | {ns(r['ns_p50'])} ({ns(r['ns_min'])}) "
                  f"| {r['ns_per_pte']:.3g} | {ns(lin)} "
                  f"| {r['ratio']:.2f} |" if lin else
                  f"| {label} | {p['format']} | {ns(r['ns_p50'])} ({ns(r['ns_min'])}) "
                  f"| {r['ns_per_pte']:.3g} | — | — |")


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "bench/out"
    maps = load(os.path.join(d, "bench_pt_map.json"))
    fills = load(os.path.join(d, "bench_pt_fill.json"))
    print("### W1 against Linux 6.12 io-pgtable-arm (perf.md §7)\n")
    w1_linux(maps)
    print("\n### W2: 64 GiB in one call (perf.md §5)\n")
    w2(fills)
    print("\n### The fill shapes of perf.md §7\n")
    fill_linux(fills)
    print("\n### W1, every format and workload\n")
    w1_formats(maps)


if __name__ == "__main__":
    main()
