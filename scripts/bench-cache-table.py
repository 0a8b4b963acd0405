#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Render the JSON lines of the translation-cache benchmarks (bench_iotlb,
bench_cache_sweep, bench_inval in bench/out/) as the Markdown tables of the
"Translation caches" section of BENCHMARKS.md, with the perf.md §5 targets of
W4, W6 and W7.

usage: scripts/bench-cache-table.py [bench/out]
"""
import json
import os
import sys


def load(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("{"):
                    out.append(json.loads(line))
    except OSError:
        pass
    return out


def find(rows, name, **params):
    for r in rows:
        if r["name"] == name and all(r["params"].get(k) == v for k, v in params.items()):
            return r
    return None


def ns(v):
    if v is None:
        return "—"
    if v >= 1e3:
        return f"{v / 1e3:.2f} µs"
    return f"{v:.1f} ns"


def pct(v):
    return "—" if v is None else f"{100 * v:.1f}%"


def w4(rows):
    print("| mode | leaves | working set | ours p50 (min) | xlate_batch of 16, per translation | "
          "IOTLB hit rate | QEMU-style hit path p50 | speedup | QEMU-style at 256 entries p50 "
          "(hit rate) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for mode in ("s1", "s2", "nested"):
        for leaves in ("4k", "mixed"):
            for ws in (64, 256, 1024, 4096):
                p = dict(mode=mode, leaves=leaves, working_set=ws)
                o = find(rows, "iotlb_hit", variant="single", **p)
                b = find(rows, "iotlb_hit", variant="batched16", **p)
                q = find(rows, "iotlb_hit", variant="qemu_hitpath", **p)
                q2 = find(rows, "iotlb_hit", variant="qemu_256", **p)
                if not o:
                    continue
                sp = q["ns_p50"] / o["ns_p50"] if q else None
                print(f"| {mode} | {leaves} | {ws} | {ns(o['ns_p50'])} ({ns(o['ns_min'])}) | "
                      f"{ns(b['ns_p50']) if b else '—'} | {pct(o.get('hit_rate'))} | "
                      f"{ns(q['ns_p50']) if q else '—'} | "
                      f"{f'{sp:.1f}×' if sp else '—'} | "
                      f"{ns(q2['ns_p50']) if q2 else '—'} "
                      f"({pct(q2.get('hit_rate')) if q2 else '—'}) |")


def w6(rows):
    print("| mode | IOTLB | working set | p50 per translation | hit rate | reads per "
          "translation | hit path p50 | throughput vs hit path |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        if r["name"] != "cache_capacity":
            continue
        p = r["params"]
        print(f"| {p['mode']} | {p['iotlb_entries']} | {p['working_set']} | {ns(r['ns_p50'])} | "
              f"{pct(r['hit_rate'])} | {r['reads_per_translation']:.2f} | "
              f"{ns(r['hit_path_ns_p50'])} | {100 * r['throughput_vs_hit_path']:.0f}% |")
    print()
    print("| stream | IOTLB entries (4-way) | pages | ours miss rate | exact LRU | difference "
          "(points) | flush-all when full |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        if r["name"] != "miss_rate_vs_lru":
            continue
        p = r["params"]
        print(f"| {p['stream']} | {p['iotlb_entries']} | {p['pages']} | "
              f"{r['miss_rate_pct']:.2f}% | {r['lru_miss_rate_pct']:.2f}% | "
              f"{r['delta_points']:+.2f} | {r['qemu_flushall_miss_rate_pct']:.2f}% |")
    print()
    print("| mode | working set | IOTLB | hit rate (from empty) | p50 per translation |")
    print("|---|---|---|---|---|")
    for r in rows:
        if r["name"] != "iotlb_2m_reach":
            continue
        p = r["params"]
        print(f"| {p['mode']} | {p['working_set_pages']} pages in 2M leaves | "
              f"{p['iotlb_entries']} | {pct(r['hit_rate'])} | {ns(r['ns_p50'])} |")


def w7(rows):
    sizes = (1024, 4096, 16384, 65536)
    print("| operation | " + " | ".join(f"{s // 1024}K entries" for s in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    ops = [("page", None, "one page, no hints"), ("page_leaf_ttl3", None, "one page, leaf + TTL"),
           ("range_256", None, "256-page range"), ("range_64k", None, "64K-page range"),
           ("ipa_range_256", None, "256-page IPA range"),
           ("asid", "first_after_fill", "ASID, first call after a fill"),
           ("asid", "repeated", "ASID, back to back"),
           ("vmid", "first_after_fill", "VMID, first call after a fill"),
           ("vmid", "repeated", "VMID, back to back"),
           ("all", "first_after_fill", "all, first call after a fill"),
           ("all", "repeated", "all, back to back")]
    for op, variant, label in ops:
        cells = []
        for s in sizes:
            kw = dict(op=op, iotlb_entries=s)
            if variant:
                kw["variant"] = variant
            r = find(rows, "inval", **kw)
            if r and variant == "first_after_fill" and r["ns_p50"] < 10:
                cells.append("< 10 ns")  # one call: below the clock's granularity here
            else:
                cells.append(ns(r["ns_p50"]) if r else "—")
        print(f"| {label} | " + " | ".join(cells) + " |")
    print()
    print("| strict loop (map 4K, translate, unmap, invalidate) | p50 per iteration | "
          "iterations/s | stale translations |")
    print("|---|---|---|---|")
    for r in rows:
        if r["name"] == "strict_loop":
            print(f"| {r['params']['mode']} | {ns(r['ns_p50'])} | "
                  f"{r['iterations_per_s'] / 1e6:.1f} M | {r['stale']} |")
    print()
    print("| sequential nested stream | translations | reads per translation | IOTLB hit rate "
          "| ns per translation (one pass) |")
    print("|---|---|---|---|---|")
    for r in rows:
        if r["name"] == "seq_stream":
            p = r["params"]
            print(f"| {p['step_bytes']}-byte steps | {p['translations']} | "
                  f"{r['reads_per_translation']:.2f} | {pct(r['iotlb_hit_rate'])} | "
                  f"{ns(r['ns_per_translation'])} |")


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "bench/out"
    sections = [("W4: IOTLB-hit translation (bench_iotlb)", "bench_iotlb.json", w4),
                ("W6: capacity and miss rates (bench_cache_sweep)", "bench_cache_sweep.json", w6),
                ("W7: invalidation and strict mode (bench_inval)", "bench_inval.json", w7)]
    for title, f, fn in sections:
        rows = load(os.path.join(d, f))
        if not rows:
            continue
        print(f"### {title}\n")
        fn(rows)
        print()


if __name__ == "__main__":
    main()
