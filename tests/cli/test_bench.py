# SPDX-License-Identifier: MIT
"""
uiommu bench: the counts the architecture defines for several
configurations (descriptor reads of an uncached walk, the IOTLB hit rate of
a working set that fits, the hit rate of uniform draws over four times the
IOTLB, the reads of a sequential nested stream), the JSON document, n/a
rows, a region shrunk to what a small input size holds, and usage errors
(exit 2, one message, nothing on stdout). Every run is --quick with a short
workload list; no time is asserted, only that times are there.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import Tap, run  # noqa: E402

uiommu = sys.argv[1]
NESTED43 = "scenarios/nested-4k.json"  # 4-level stage 1 over a 3-level, 2-table concatenated stage 2
VTD = "scenarios/x86-vtd-4level.json"  # x86 4-level over VT-d second stage 4-level
S1_4 = "tests/data/bench-s1-4level.json"  # VMSA 4K, ias 48: 4 levels, alone
S1_SMALL = "tests/data/bench-s1-small.json"  # VMSA 4K, ias 25: 2 levels, 32 MiB of IOVA
S2_64K = "tests/data/s2-only.json"  # VMSA stage 2 alone, 64K granule, ias 36, SL0 1: 2 levels
RUN_KIND = "tests/data/bad-run-scenario.json"
WORKLOADS = ["hit", "hit-batch", "capacity", "walk", "sequential", "inval", "strict"]
ROW_FIELDS = ["name", "params", "na", "note", "ns_p50", "ns_p99", "ns_min", "ns_mean",
              "ops_per_s", "ops", "samples"]


def bench(*args):
    """--quick --json run: (exit status, the document or None, stderr)."""
    rc, out, err = run(uiommu, "bench", "--quick", "--json", *args)
    try:
        doc = json.loads(out)
    except ValueError:
        doc = None
    return rc, doc, err


def rows(doc, name):
    return [w for w in doc["workloads"] if w["name"] == name] if doc else []


# (arguments, first line of stderr): usage errors come before any file is opened,
# so the missing scenario is never the message.
USAGE = [
    (["--workload", "frob"],
     "uiommu bench: --workload: unknown workload 'frob' (expected hit, hit-batch, capacity, "
     "walk, sequential, inval, strict or all)"),
    (["no-such.json", "--workload", "walk,"],
     "uiommu bench: --workload: a workload name after the last ','"),
    (["no-such.json", "--iotlb", "1000"],
     "uiommu bench: --iotlb: expected 0 (off) or a power of two up to 1M entries, got '1000'"),
    (["no-such.json", "--iotlb", "16,3"],
     "uiommu bench: --iotlb: expected WAYS a power of two from 1 to 64, got '3'"),
    (["no-such.json", "--iotlb", "2,4"], "uiommu bench: --iotlb: 4 ways do not fit in 2 entries"),
    (["no-such.json", "--iotlb", "4x"],
     "uiommu bench: --iotlb: expected a number such as 4096, 0x1000 or 4K, got '4x'"),
    (["no-such.json", "--walk-cache", "3"],
     "uiommu bench: --walk-cache: expected 0 (off) or a power of two up to 1M entries, got '3'"),
    (["no-such.json", "--repl", "fifo"], "uiommu bench: --repl: expected lru or random, got 'fifo'"),
    (["no-such.json", "--cpu", "9999"],
     "uiommu bench: --cpu: expected a CPU number below 1024, got 9999"),
    (["a.json", "b.json"], "uiommu bench: unexpected argument 'b.json'"),
    (["--quick=1"], "uiommu bench: option '--quick' takes no argument, got '--quick=1'"),
]
# (scenario, first line of stderr): scenarios that do not load exit 2 with the loader's message.
LOAD = [
    ("no-such.json", "uiommu bench: no-such.json: No such file or directory"),
    (RUN_KIND, open("tests/data/bad-run-scenario.err").read().strip()
     .replace("uiommu walk:", "uiommu bench:")),
]
# (scenario, levels of stage 1 and 2 (0: off), reads of an uncached walk). The reads are
# worked out from the architecture: a nested walk translates each of the n1 stage-1
# descriptor addresses and the output IPA through an n2-level stage 2, so
# (n1 + 1)(n2 + 1) - 1; one stage alone reads its n levels. The levels are the
# granule's: 4K with ias 48 is 4 levels (9 bits each above the 12-bit page), ias 40
# with SL0 1 starts at level 1 with 10 bits (two concatenated tables): 3 levels; ias 25
# is 13 bits: 2 levels; 64K with ias 36 is 20 bits of 13: 2 levels.
WALKS = [
    (None, 4, 4, 24),
    (NESTED43, 4, 3, 19),
    (VTD, 4, 4, 24),
    (S1_4, 4, 0, 4),
    (S1_SMALL, 2, 0, 2),
    (S2_64K, 0, 2, 2),
]

t = Tap(4 + 2 * len(USAGE) + len(LOAD) + 2 * len(WALKS) + 6 + 3 + 4 + 5 + 3 + 3)

# --list and --help
rc, out, err = run(uiommu, "bench", "--list")
names = [line.split()[0] for line in out.splitlines() if line.strip()]
t.ok(rc == 0 and err == "" and names == WORKLOADS, "--list: every workload, one a line, exit 0",
     out + err)
t.ok(all(line.split()[1] in ("W4", "W5", "W6", "W7") for line in out.splitlines()),
     "--list: each workload names its BENCHMARKS.md W-row", out)
rc, out, err = run(uiommu, "bench", "--help")
t.ok(rc == 0 and err == "" and out.startswith("usage: uiommu bench ") and
     all(w in out for w in WORKLOADS), "--help: on stdout, exit 0, names the workloads", out + err)
rc, out, err = run(uiommu, "bench", "no-such.json", "--list")
t.ok(rc == 0 and "capacity" in out, "--list exits 0 before any file is opened", out + err)

for args, want in USAGE:
    rc, out, err = run(uiommu, "bench", *args)
    first = err.splitlines()[0] if err else ""
    t.ok(rc == 2 and out == "" and first == want, f"usage error: bench {' '.join(args)}",
         f"exit {rc}\nstdout: {out!r}\nstderr: {err!r}")
    t.ok("Try 'uiommu bench --help' for more information." in err,
         f"... points at --help: bench {' '.join(args)}", err)
for scen, want in LOAD:
    rc, out, err = run(uiommu, "bench", scen, "--quick", "--workload", "walk")
    t.ok(rc == 2 and out == "" and err.strip() == want, f"{scen}: does not load, exit 2",
         f"exit {rc}\nstdout: {out!r}\nstderr: {err!r}\nwant: {want!r}")

# Uncached walks: exactly the architecture's reads, every one of them.
for scen, n1, n2, reads in WALKS:
    rc, doc, err = bench(*([scen] if scen else []), "--workload", "walk")
    w = rows(doc, "walk")
    cfg = doc["config"] if doc else {}
    got = (cfg.get("stage1") or {}).get("levels", 0), (cfg.get("stage2") or {}).get("levels", 0)
    t.ok(rc == 0 and got == (n1, n2), f"{scen or 'default'}: {n1} over {n2} levels",
         f"exit {rc} {err} {got}")
    t.ok(len(w) == 1 and w[0]["reads_min"] == reads and w[0]["reads_max"] == reads and
         w[0]["reads"] == reads * w[0]["translations_counted"] and w[0]["faults"] == 0 and
         w[0]["iotlb_hit_rate"] is None,
         f"{scen or 'default'}: every uncached walk reads {reads} descriptors", w)

# hit: IOTLB/4 consecutive pages land in distinct sets (consecutive pages, consecutive
# sets), so after the first pass every translation hits.
rc, doc, err = bench("--iotlb", "256", "--workload", "hit,hit-batch")
h, hb = rows(doc, "hit"), rows(doc, "hit-batch")
t.ok(rc == 0 and len(h) == 1 and h[0]["params"]["working_set"] == 64 and
     h[0]["iotlb_hit_rate"] == 1.0 and h[0]["reads"] == 0, "hit: 64 pages, hit rate 1.0, no reads",
     h or err)
t.ok(len(hb) == 1 and hb[0]["iotlb_hit_rate"] == 1.0 and
     hb[0]["params"]["api"].startswith("xlate_batch"), "hit-batch: the same stream, batched", hb)
# capacity: 4 x 256 = 1024 consecutive pages over 64 sets of 4 ways, 16 pages a set.
# Once every set holds 4 distinct pages (the warming pass of 65536 draws, about 1000 a
# set, sees to it), the next draw is uniform over the 16 pages of a uniform set and hits
# with probability exactly 4/16 whatever came before, under LRU or any other policy
# that keeps a full set. The 65536 counted draws then hit Binomial(65536, 1/4) times:
# standard deviation 111, 0.0017 of the rate; 0.01 is 5.9 of them.
rc, doc, err = bench("--iotlb", "256", "--workload", "capacity")
c = rows(doc, "capacity")
t.ok(rc == 0 and len(c) == 1 and c[0]["params"]["working_set"] == 1024,
     "capacity: a working set of 4 x --iotlb pages", c or err)
t.ok(len(c) == 1 and abs(c[0]["iotlb_hit_rate"] - 0.25) <= 0.01,
     "capacity: hit rate 1/4 within 0.01 (uniform draws over 4 x the entries)", c)
t.ok(len(c) == 1 and c[0]["fraction_of_hit_throughput"] is None,
     "capacity without hit: no fraction of its throughput", c)
# The same at 65536 entries (16384 sets, 16 pages a set over 262144 pages). The stream has
# 4 draws a page (the man page: 4 x the working set, 65536 at least): 1M draws, about 64
# a set in the warming pass, so every set is full; the counted draws hit Binomial(1M, 1/4)
# times: standard deviation 0.00043 of the rate. A stream of fewer draws than pages,
# replayed pass after pass, would touch a subset the IOTLB holds whole and hit far more.
rc, doc, err = bench("--iotlb", "65536", "--workload", "capacity")
c = rows(doc, "capacity")
t.ok(rc == 0 and len(c) == 1 and c[0]["params"]["working_set"] == 262144 and
     c[0]["translations_counted"] == 4 * 262144,
     "capacity at 65536 entries: 262144 pages, 4 draws a page", c or err)
t.ok(len(c) == 1 and abs(c[0]["iotlb_hit_rate"] - 0.25) <= 0.01,
     "capacity at 65536 entries: hit rate 1/4 within 0.01", c)
# hit at 1M entries: 262144 consecutive pages, one a set, every one drawn in order first.
rc, doc, err = bench("--iotlb", "1M", "--workload", "hit")
h = rows(doc, "hit")
t.ok(rc == 0 and len(h) == 1 and h[0]["params"]["working_set"] == 262144 and
     h[0]["iotlb_hit_rate"] == 1.0 and h[0]["translations_counted"] == 4 * 262144,
     "hit at 1M entries: 262144 pages, every one hit after the first pass", h or err)
rc, doc, err = bench("--iotlb", "256", "--workload", "capacity,hit")
c = rows(doc, "capacity")
t.ok(len(c) == 1 and c[0]["fraction_of_hit_throughput"] is not None and
     c[0]["fraction_of_hit_throughput"] > 0, "capacity with hit: its fraction of hit throughput",
     c or err)

# sequential, nested 4 over 4: a new page needs its stage-1 leaf and the stage-2 leaf of
# its output IPA, nothing caches either (2 reads, the W5 target); where a walk enters a
# new last-level table it also reads the stage-1 level-2 descriptor and the stage-2 leaf
# of that table's IPA (2 more, once in 512 pages) or, for a new stage-2 last-level table
# of the data, its level-2 descriptor (1 more, once in 512 pages), and the very first
# walk reads 24. 65536 pages: between 2 * 65536 and 2 * 65536 + 2 * 127 + 129 + 22.
rc, doc, err = bench("--workload", "sequential")
s = rows(doc, "sequential")
t.ok(rc == 0 and len(s) == 1 and s[0]["params"]["pages"] == 65536 and
     2 * 65536 <= s[0]["reads"] <= 2 * 65536 + 2 * 127 + 129 + 22,
     "sequential nested: 2 reads a page, and the table crossings", s or err)
t.ok(len(s) == 1 and s[0]["reads_per_translation"] < 2.0063,
     "sequential nested: reads per translation within 0.0063 of the target 2", s)
rc, doc, err = bench(S1_4, "--workload", "sequential")
s = rows(doc, "sequential")
t.ok(rc == 0 and len(s) == 1 and 65536 <= s[0]["reads"] <= 65536 + 127 + 3,
     "sequential, stage 1 alone: 1 read a page, and the table crossings", s or err)
rc, doc, err = bench("--workload", "strict")
s = rows(doc, "strict")
t.ok(rc == 0 and len(s) == 1 and s[0]["stale"] == 0 and s[0]["ops"] == "iterations",
     "strict: after map, translate, unmap, invalidate the page faults", s or err)

# The JSON document: every workload asked for, with the documented fields.
rc, doc, err = bench("--iotlb", "1024,8", "--workload", "all")
got = [w["name"] for w in doc["workloads"]] if doc else []
t.ok(rc == 0 and got == ["hit", "hit-batch", "capacity", "walk", "sequential"] + ["inval"] * 5 +
     ["strict"], "JSON: every workload, inval as five rows", got or err)
t.ok(doc and all(all(k in w for k in ROW_FIELDS) for w in doc["workloads"]) and
     all(isinstance(w["ns_p50"], (int, float)) and w["ns_p99"] >= w["ns_p50"] > 0 and
         w["ops_per_s"] > 0 and w["samples"] > 0 and not w["na"] for w in doc["workloads"]),
     "JSON: each row has ns_p50, ns_p99, ops_per_s, params, samples", doc)
t.ok(doc and [w["params"]["op"] for w in rows(doc, "inval")] ==
     ["page", "range-256", "asid", "vmid", "all"] and
     all(w["params"]["iotlb_filled"] == 1024 for w in rows(doc, "inval")),
     "JSON: inval's operations, each against a full 1024-entry IOTLB", rows(doc, "inval"))
cfg = doc["config"] if doc else {}
t.ok(cfg.get("mode") == "nested" and cfg["caches"]["iotlb"] == {"entries": 1024, "ways": 8} and
     cfg["caches"]["replacement"] == "lru" and cfg["stream_seed"] == "0x9e3779b97f4a7c15" and
     cfg["region_pages"] == 262144 and cfg["page_size"] == 4096 and cfg["quick"] is True,
     "JSON: the configuration, the caches, the seed, the region", cfg)
rc, out, err = run(uiommu, "bench", "--quick", "--workload", "walk,inval")
t.ok(rc == 0 and out.startswith("default: stage 1 vmsa-s1, 4 levels") and
     "inval range-256" in out and "24 reads/xlate" in out, "the table, headed by the "
     "configuration", out + err)

# n/a rows: no VMID without a stage 2, no ASID without a stage 1, nothing without an IOTLB.
rc, doc, err = bench(S1_4, "--workload", "inval")
v = [w for w in rows(doc, "inval") if w["params"]["op"] == "vmid"]
t.ok(rc == 0 and len(v) == 1 and v[0]["na"] and v[0]["ns_p50"] is None and
     "no VMID" in v[0]["note"], "stage 1 alone: inval vmid is n/a", v or err)
rc, doc, err = bench(S2_64K, "--workload", "inval")
a = [w for w in rows(doc, "inval") if w["params"]["op"] == "asid"]
t.ok(rc == 0 and len(a) == 1 and a[0]["na"] and "no ASID" in a[0]["note"] and
     all(not w["na"] for w in rows(doc, "inval") if w is not a[0]),
     "stage 2 alone: inval asid is n/a, the others run", rows(doc, "inval") or err)
rc, doc, err = bench("--iotlb", "0", "--workload", "hit,capacity,walk")
t.ok(rc == 0 and all(w["na"] and "IOTLB is off" in w["note"] for w in rows(doc, "hit") +
                     rows(doc, "capacity")) and not rows(doc, "walk")[0]["na"],
     "--iotlb 0: hit and capacity are n/a, walk runs", doc or err)

# A 25-bit stage 1 holds 32 MiB: 8192 pages, not 1 GiB; capacity of a 4096-entry IOTLB
# needs 16384 and is skipped with a note, that of a 1024-entry one fits.
rc, doc, err = bench(S1_SMALL, "--workload", "capacity")
c = rows(doc, "capacity")
t.ok(rc == 0 and doc["config"]["region_pages"] == 8192 and
     "ias 25" in (doc["config"]["shrink_note"] or ""), "ias 25: the region shrinks to 8192 pages",
     doc or err)
t.ok(len(c) == 1 and c[0]["na"] and "16384 pages" in c[0]["note"] and "8192" in c[0]["note"],
     "ias 25: capacity of 4096 entries is n/a, saying why", c)
rc, doc, err = bench(S1_SMALL, "--iotlb", "1024", "--workload", "capacity")
c = rows(doc, "capacity")
t.ok(rc == 0 and len(c) == 1 and not c[0]["na"] and abs(c[0]["iotlb_hit_rate"] - 0.25) <= 0.01,
     "ias 25: capacity of 1024 entries runs", c or err)
t.done()
