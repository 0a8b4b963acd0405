# SPDX-License-Identifier: MIT
"""
`uiommu walk` with several --iova through shared translation caches, on the
demo scenario (see test_walk_json.py for its layout: a 4-level stage 1 whose
tables are the guest RAM pages at IPA 0x40000000-0x40003fff, over a 3-level
4K stage 2 of pages; iova 0x80_4020_1000 -> IPA 0x40811000 -> PA 0x80811000).

Worked out by hand, caches cold:
  walk 1, iova 0x80_4020_1000, 12 reads instead of 19:
    step 0: stage-2 L1, L2, L3 for the root descriptor's IPA, then the root
      descriptor (4); this fills the stage-2 walk cache (L2 and L3 tables).
    steps 1-3: each table's IPA is in the same 2 MiB, so the stage-2 walk
      cache gives its L3 table: one stage-2 read + the stage-1 read (6).
    output IPA 0x40811000: another 2 MiB of the same 1 GiB: the walk cache
      gives the L2 table: L2 + L3 (2).
  walk 2, the same iova: the IOTLB, no read.
  walk 3, iova 0x80_4020_2000 (the next page): the stage-1 walk cache gives
    the L3 table (IPA 0x40003000), the IPA cache its PA, the stage-1 leaf is
    read; the output IPA 0x40812000: stage-2 walk cache (L3 table), 1 read.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import Tap, run  # noqa: E402

uiommu = sys.argv[1]
DEMO = "scenarios/nested-4k.json"
A, B = "0x8040201000", "0x8040202000"


def walks(*args):
    rc, out, err = run(uiommu, "walk", DEMO, "--json", *args)
    try:
        doc = json.loads(out)
    except ValueError:
        doc = None
    return rc, doc, err


t = Tap(26)

rc, d, err = walks("--iova", A, "--iova", A, "--iova", B, "--cache")
t.ok(rc == 0 and isinstance(d, list) and len(d) == 3, "three --iova: a JSON array of three walks",
     err or d)
d = d if isinstance(d, list) and len(d) == 3 else [{"reads": [], "hits": []}] * 3
w1, w2, w3 = d
t.ok(w1.get("read_count") == 12 and not w1.get("iotlb_hit"),
     "walk 1: 12 reads (4 + 3 * 2 + 2), not from the IOTLB", w1.get("read_count"))
t.ok([r["stage"] for r in w1["reads"]] == [2, 2, 2, 1] + [2, 1] * 3 + [2, 2]
     and [r["level"] for r in w1["reads"]] == [1, 2, 3, 0, 3, 1, 3, 2, 3, 3, 2, 3],
     "walk 1: the reads stage by stage", w1["reads"])
hits = [(h["cache"], h["stage"], h["level"], h["s1_step"]) for h in w1["hits"]]
t.ok(hits == [("walk-s2", 2, 3, 1), ("walk-s2", 2, 3, 2), ("walk-s2", 2, 3, 3),
              ("walk-s2", 2, 2, 4)],
     "walk 1: the stage-2 walk cache gave the L3 table for steps 1-3, the L2 one for the output",
     hits)
t.ok([h["address"] for h in w1["hits"]] == ["0x40001008", "0x40002008", "0x40003008",
                                            "0x40811000"],
     "walk 1: each hit looked up the IPA its step translates", w1["hits"])
t.ok(w2.get("iotlb_hit") is True and w2.get("read_count") == 0 and w2.get("reads") == [],
     "walk 2: the same page again is an IOTLB hit with no read", w2)
t.ok(w2["hits"] == [{"cache": "iotlb", "stage": None, "level": None, "s1_step": None,
                     "address": "0x8040201000", "out": "0x80811000"}],
     "walk 2: one hit, the IOTLB, iova -> pa", w2["hits"])
t.ok(w2.get("result", {}).get("output_address") == "0x80811000"
     and w2["result"].get("ipa") == "0x40811000"
     and w2["result"].get("stage1", {}).get("level") == 3,
     "walk 2: the same result as the walk, stage levels and all", w2.get("result"))
t.ok(w3.get("read_count") == 2 and [r["stage"] for r in w3["reads"]] == [1, 2],
     "walk 3: the next page costs 2 reads, the stage-1 leaf and the stage-2 leaf", w3["reads"])
t.ok([(h["cache"], h["level"], h["s1_step"], h["out"], h.get("out_pa")) for h in w3["hits"]]
     == [("walk-s1", 3, 3, "0x40003000", "0x80003000"),
         ("walk-s2", 3, 4, "0x81207000", None)],
     "walk 3: the combined stage-1 walk entry (L3 table IPA and its PA), stage-2 walk cache",
     w3["hits"])
t.ok(w3.get("result", {}).get("output_address") == "0x80812000", "walk 3: pa 0x80812000",
     w3.get("result"))

# --- one --iova: one object, as before, with empty hits -------------------------
rc, d, err = walks("--iova", A)
t.ok(rc == 0 and isinstance(d, dict) and d.get("hits") == [] and d.get("iotlb_hit") is False
     and d.get("read_count") == 19, "one --iova, no caches: one object, 19 reads, no hits", d)
rc, d, err = walks("--iova", A, "--iova", A)
t.ok(rc == 0 and isinstance(d, list) and [w["read_count"] for w in d] == [19, 19]
     and not any(w["hits"] for w in d), "no caches: every walk reads 19 descriptors", d)

# --- cache sizes ------------------------------------------------------------------
rc, d, err = walks("--iova", A, "--iova", A, "--iotlb", "0", "-c")
d = d if isinstance(d, list) and len(d) == 2 else [{}, {}]
t.ok(rc == 0 and not d[1].get("iotlb_hit") and d[1].get("read_count") == 1,
     "--iotlb 0: no IOTLB; the repeat reads only the stage-1 leaf", d[1])
rc, d, err = walks("--iova", A, "--iova", B, "--walk-cache", "0", "--ipa-cache", "0")
d = d if isinstance(d, list) and len(d) == 2 else [{}, {}]
t.ok(rc == 0 and [w.get("read_count") for w in d] == [19, 19],
     "--walk-cache 0 --ipa-cache 0: only the IOTLB, which a new page misses", d)
rc, d, err = walks("--iova", A, "--iova", A, "--iotlb", "4,4")
t.ok(rc == 0 and d[1].get("iotlb_hit") is True, "--iotlb 4,4 alone turns the caches on", d)

# --- faults: reported as without caches; a series with a fault exits 1 -----------
rc, d, err = walks("--iova", "0x8040600000", "--iova", "0x8040600000", "-a", "w", "-c")
f = d[1].get("fault", {}) if isinstance(d, list) and len(d) == 2 else {}
t.ok(rc == 1 and f.get("stage") == 1 and f.get("level") == 3 and f.get("reason") == "permission"
     and d[1].get("read_count") == 16,
     "a write fault, twice: never cached, reported by the full walk (16 reads)", f)
rc, d, err = walks("--iova", A, "--iova", "0x1000", "-c")
t.ok(rc == 1 and isinstance(d, list) and "result" in d[0] and "fault" in d[1],
     "one of the walks faults: exit 1, every walk reported", d)

# --- text -------------------------------------------------------------------------
rc, out, err = run(uiommu, "walk", DEMO, "-i", A, "-i", A, "-i", B, "--cache")
lines = out.splitlines()
t.ok(rc == 0 and lines.count("Walk of iova 0x8040201000, access r") == 2
     and sum(l.startswith("  stage 1  vmsa-s1") for l in lines) == 1,
     "text: a walk line per walk, the stages once", out)
t.ok("Nested walk, 12 reads:" in lines and "IOTLB hit: no descriptor read." in lines
     and "Result: translated (IOTLB hit)" in lines and "Nested walk, 2 reads:" in lines,
     "text: 12 reads, then the IOTLB hit, then 2 reads", out)
t.ok(any("walk cache" in l and l.startswith("  S1 L1") for l in lines)
     and any("combined" in l and l.startswith("  S1 L3") for l in lines)
     and any("table ipa 0x40003000, pa 0x80003000" in l for l in lines),
     "text: the grid marks the cells the walk caches replaced, the combined entry's PA", out)
t.ok("Cache hits, in order (each replaced reads):" in lines
     and any(l.split()[:5] == ["1", "walk-s1", "S1", "L3", "3"] for l in lines),
     "text: the hits are listed", out)
stats = lines[lines.index("Caches after 3 walks:") + 1:] if "Caches after 3 walks:" in lines else []
t.ok(stats and stats[0].split() == ["cache", "hits", "misses", "fills", "evictions", "invalidated"]
     and ["iotlb", "1", "2", "2", "0", "0"] in [l.split() for l in stats],
     "text: the caches' counters close the report (IOTLB: 1 hit, 2 misses, 2 fills)", stats)

# --- usage errors -----------------------------------------------------------------
for opt, arg in (("--iotlb", "3,2"), ("--walk-cache", "64,32"), ("--ipa-cache", "x")):
    rc, out, err = run(uiommu, "walk", DEMO, "--iova", A, opt, arg)
    t.ok(rc == 2 and out == "" and err.startswith(
        f"uiommu walk: {opt}: expected ENTRIES[,WAYS] (entries up to 16M, 1 to 16 ways "
        f"dividing them), got '{arg}'"), f"{opt} {arg}: a usage error", err)
t.done()
