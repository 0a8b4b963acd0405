# SPDX-License-Identifier: MIT
"""
`uiommu walk --json` on scenarios whose every address is worked out by hand.

scenarios/nested-4k.json (the demo):
  guest RAM: IPA 0x40000000-0x40ffffff at PA 0x80000000 (given), so any guest
  RAM IPA x sits at PA x + 0x40000000.
  stage 2: vmsa-s2, 4K, ias 40, SL0 1 -> start level 1, levels 1..3; the root
  resolves IPA[39:30] = 10 bits = 2 concatenated 4K tables; "no-blocks", so
  every stage-2 walk is 3 reads. IPA 0x80_0000_0000 (index 512) is in the
  second table: its L1 descriptor is at root + 512 * 8 = root + 0x1000.
  stage 1: vmsa-s1, 4K, ias 48 -> levels 0..3. Its data IPAs are given, so
  the first table (the root) is the first guest RAM page, IPA 0x40000000.
  iova 0x80_4020_1000 has index 1 at every level (bits 47:39, 38:30, 29:21,
  20:12 are all 1), so the root descriptor is at IPA 0x40000008.
  A 4-level stage 1 over a 3-level stage 2: 4 * (3 + 1) + 3 = 19 reads.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import Tap, run  # noqa: E402

uiommu = sys.argv[1]
DEMO = "scenarios/nested-4k.json"
RAM_IPA, RAM_PA = 0x40000000, 0x80000000


def walk(scenario, iova, access="r", *extra):
    rc, out, err = run(uiommu, "walk", scenario, "--iova", hex(iova), "--access", access,
                       "--json", *extra)
    try:
        doc = json.loads(out)
    except ValueError:
        doc = None
    return rc, doc, err


def h(x):
    return int(x, 16)


t = Tap(47)

# --- a 4K page: the full 19-read nested walk -------------------------------
rc, d, err = walk(DEMO, 0x80_4020_1000)
t.ok(rc == 0 and d is not None, "4K page: exit 0 and one JSON object", err)
d = d or {"reads": [], "result": {}, "stage1": {}, "stage2": {}}
reads = d["reads"]
t.ok(len(reads) == 19 and d.get("read_count") == 19, "4K page: 19 reads (4 x (3 + 1) + 3)",
     len(reads))
t.ok([r["stage"] for r in reads] == [2, 2, 2, 1] * 4 + [2, 2, 2],
     "4K page: three stage-2 reads before each stage-1 read, three for the output")
t.ok([r["level"] for r in reads] == [1, 2, 3, 0, 1, 2, 3, 1, 1, 2, 3, 2, 1, 2, 3, 3, 1, 2, 3],
     "4K page: stage-2 levels 1..3, stage-1 levels 0..3")
t.ok([r["s1_step"] for r in reads] == [0] * 4 + [1] * 4 + [2] * 4 + [3] * 4 + [4] * 3,
     "4K page: s1_step 0..3 for the table steps, 4 for the final IPA")
t.ok(d["stage2"].get("concatenated") == 2 and d["stage2"].get("start_level") == 1,
     "stage 2: 2 concatenated level-1 tables", d["stage2"])
t.ok(d["stage1"].get("root") == "0x40000000", "stage 1 root is the first guest RAM page",
     d["stage1"])
s2root = h(d["stage2"].get("root", "0x0"))
t.ok(reads and h(reads[0]["address"]) == s2root + 8 and h(reads[0]["ipa"]) == 0x40000008,
     "read 1: stage-2 L1 descriptor of IPA 0x40000008 at root + 1 * 8", reads[:1])
s1 = [r for r in reads if r["stage"] == 1]
t.ok(len(s1) == 4 and h(s1[0]["ipa"]) == 0x40000008,
     "stage-1 root descriptor at IPA 0x40000008 (index 1)", s1[:1])
t.ok(all(h(r["address"]) == h(r["ipa"]) - RAM_IPA + RAM_PA for r in s1),
     "every stage-1 descriptor is read at its IPA's guest RAM PA", s1)
t.ok(all(h(r["ipa"]) & 0xfff == 8 for r in s1),
     "every stage-1 descriptor is entry 1 of its table", s1)
t.ok(s1 and h(s1[3]["value"]) & 0xfffffffff000 == 0x40811000 and h(s1[3]["value"]) & 3 == 3,
     "stage-1 L3 page descriptor points at IPA 0x40811000", s1[3:])
t.ok(all(h(r["ipa"]) == 0x40811000 for r in reads[16:]),
     "the last three reads translate the output IPA 0x40811000", reads[16:])
t.ok(h(reads[18]["value"]) & 0xfffffffff000 == 0x80811000,
     "the stage-2 L3 page of the output IPA points at PA 0x80811000", reads[18:])
res = d.get("result", {})
t.ok(res.get("output_address") == "0x80811000" and res.get("ipa") == "0x40811000",
     "result: iova 0x8040201000 -> ipa 0x40811000 -> pa 0x80811000", res)
t.ok(res.get("page_size") == 4096 and res.get("permissions") == "rw" and "fault" not in d,
     "result: a 4K rw page, no fault", res)

# --- the 2M stage-1 block ----------------------------------------------------
rc, d, err = walk(DEMO, 0x80_4040_1234, "w")
d = d or {"reads": [], "result": {}}
t.ok(rc == 0 and len(d["reads"]) == 15, "2M block: 3 * (3 + 1) + 3 = 15 reads", err)
res = d["result"]
t.ok(res.get("output_address") == "0x80a01234" and res.get("ipa") == "0x40a01234",
     "2M block: offset 0x1234 into IPA 0x40a00000 -> pa 0x80a01234", res)
t.ok(res.get("stage1", {}).get("level") == 2 and res["stage1"].get("page_size") == 2 << 20
     and res.get("page_size") == 4096,
     "2M block: stage-1 leaf at L2 of 2M, 4K overall (stage 2 maps pages)", res)

# --- stage-1 permission fault --------------------------------------------------
rc, d, err = walk(DEMO, 0x80_4060_0000, "w")
d = d or {"reads": []}
f = d.get("fault", {})
t.ok(rc == 1 and err == "", "write to a read-only page: exit 1, no message", err)
t.ok(f.get("stage") == 1 and f.get("class") == "IN" and f.get("level") == 3
     and f.get("reason") == "permission", "fault: stage 1, class IN, level 3, permission", f)
t.ok(f.get("input_address") == "0x8040600000" and "result" not in d,
     "fault: input address 0x8040600000", f)
t.ok(len(d["reads"]) == 16 and d["reads"][-1]["stage"] == 1,
     "fault: 16 reads, the last one the stage-1 leaf", len(d["reads"]))

# --- stage-2 permission fault on the output ------------------------------------
rc, d, err = walk(DEMO, 0x80_4060_1000, "w")
d = d or {"reads": [], "stage2": {}}
f = d.get("fault", {})
t.ok(rc == 1 and f.get("stage") == 2 and f.get("class") == "IN" and f.get("level") == 3
     and f.get("reason") == "permission",
     "write through a read-only stage-2 mapping: stage 2, class IN, level 3, permission", f)
t.ok(f.get("ipa") == "0x8000000000" and len(d["reads"]) == 19,
     "stage-2 fault: IPA 0x8000000000, after 19 reads", f)
s2root = h(d["stage2"].get("root", "0x0"))
t.ok(len(d["reads"]) > 16 and h(d["reads"][16]["address"]) == s2root + 0x1000,
     "IPA 0x8000000000 is entry 512: in the second concatenated table", d["reads"][16:17])
rc, d, err = walk(DEMO, 0x80_4060_1000, "r")
t.ok(rc == 0 and d and d["result"].get("output_address") == "0x81000000",
     "reading it works: memory for the 2M mapping is the first free 2M after guest RAM",
     d and d.get("result"))

# --- stage-2 translation fault -------------------------------------------------
rc, d, err = walk(DEMO, 0x80_4060_2000)
d = d or {"reads": []}
f = d.get("fault", {})
t.ok(rc == 1 and f.get("stage") == 2 and f.get("level") == 1 and f.get("reason") == "translation"
     and f.get("ipa") == "0x20000000" and len(d["reads"]) == 17,
     "IPA outside stage 2: stage-2 translation fault at L1 after 16 + 1 reads", f)

# --- stage-1 translation fault (nothing mapped) -------------------------------
rc, d, err = walk(DEMO, 0x1000)
f = (d or {}).get("fault", {})
t.ok(rc == 1 and f.get("stage") == 1 and f.get("reason") == "translation",
     "unmapped iova: stage-1 translation fault", f)

# --- PASIDs: 16K stage 2 with 16 concatenated tables ---------------------------
P = "tests/data/pasids.json"
rc, d, err = walk(P, 0x1000_0123, "r", "--pasid", "1")
d = d or {"reads": [], "result": {}, "stage2": {}}
t.ok(rc == 0 and d["stage2"].get("concatenated") == 16 and d["stage2"].get("levels") == 2,
     "pasids: 16K stage 2, ias 40, deepest start level 2 = 16 concatenated tables", d["stage2"])
t.ok(len(d["reads"]) == 14 and d.get("pasid") == 1, "pasid 1: 4 * (2 + 1) + 2 = 14 reads",
     len(d["reads"]))
t.ok(d["result"].get("output_address") == "0x80100123", "pasid 1: pa 0x80100123", d["result"])
rc, d, err = walk(P, 0x2000_1234, "r", "--pasid", "2")
d = d or {"reads": [], "result": {}}
t.ok(rc == 0 and len(d["reads"]) == 8 and d["result"].get("output_address") == "0x80201234",
     "pasid 2 (64K, 2 levels): 2 * 3 + 2 = 8 reads, pa 0x80201234", d["result"])
rc, d, err = walk(P, 0x2000_1234, "w", "--pasid", "2")
f = (d or {}).get("fault", {})
t.ok(rc == 1 and f.get("stage") == 1 and f.get("reason") == "permission",
     "pasid 2: its mapping is read-only", f)
rc, d, err = walk(P, 0x1000_0000)
t.ok(rc == 2 and d is None
     and err == 'uiommu walk: tests/data/pasids.json: no "stage1"; choose a stage 1 with '
               '--pasid (1, 2)\n', "no --pasid without a \"stage1\": exit 2 and why", err)
rc, d, err = walk(P, 0x1000_0000, "r", "--pasid", "7")
t.ok(rc == 2 and d is None and "no stage 1 for PASID 7 (the scenario has PASIDs 1, 2)" in err,
     "unknown PASID: exit 2 and the list of PASIDs", err)

# --- single stages ---------------------------------------------------------------
rc, d, err = walk("tests/data/s1-only.json", 0x4000_1000)
d = d or {"reads": [], "result": {}}
t.ok(rc == 0 and d.get("stage2") is None and len(d["reads"]) == 2
     and d["result"].get("output_address") == "0x10001000",
     "stage 1 alone: a 2M block at the memory base, 2 reads", d["result"])
rc, d, err = walk("tests/data/s2-only.json", 0x12345)
d = d or {"reads": [], "result": {}}
t.ok(rc == 0 and d.get("stage1") is None and len(d["reads"]) == 2
     and d["result"].get("output_address") == "0x80112345",
     "stage 2 alone (64K, 2 levels): IPA 0x12345 -> PA 0x80112345", d["result"])

# --- VT-d nesting: x86 4-level first stage over a 4-level second stage ----------------
# Guest RAM IPA 0x0-0x1ffffff at PA 0x1_0000_0000; x86 levels 4..1 over VT-d SS
# levels 4..1 with 4K pages only: (4 + 1) * (4 + 1) - 1 = 24 reads.
X = "scenarios/x86-vtd-4level.json"
rc, d, err = walk(X, 0x7f12_3456_7abc, "rwu")
d = d or {"reads": [], "result": {}}
t.ok(rc == 0 and len(d["reads"]) == 24, "x86 over vtd-ss: 24 reads", err or len(d["reads"]))
t.ok([r["level"] for r in d["reads"][:5]] == [4, 3, 2, 1, 4]
     and [r["stage"] for r in d["reads"]] == [2, 2, 2, 2, 1] * 4 + [2, 2, 2, 2],
     "x86 over vtd-ss: levels count down, four stage-2 reads per step", d["reads"][:5])
t.ok(d["result"].get("ipa") == "0x1000abc" and d["result"].get("output_address") == "0x101000abc",
     "x86 over vtd-ss: iova 0x7f1234567abc -> ipa 0x1000abc -> pa 0x101000abc", d["result"])
rc, d, err = walk(X, 0x7f12_3460_1234, "ru")
d = d or {"reads": [], "result": {}}
t.ok(rc == 0 and len(d["reads"]) == 19 and d["result"].get("stage1", {}).get("level") == 2
     and d["result"].get("output_address") == "0x101201234",
     "x86 2M page (PDE.PS): 3 * 5 + 4 = 19 reads, pa 0x101201234", d["result"])
rc, d, err = walk(X, 0x7f12_3480_0000, "ru")
f = (d or {}).get("fault", {})
t.ok(rc == 1 and f.get("stage") == 1 and f.get("level") == 1 and f.get("reason") == "permission",
     "x86: a user access to a supervisor page is a stage-1 permission fault at L1", f)

# --- the human report of the demo --------------------------------------------------
rc, out, err = run(uiommu, "walk", DEMO, "--iova", "0x8040201000")
lines = out.splitlines()
t.ok(rc == 0 and "Nested walk, 19 reads:" in lines, "text: the nested walk has 19 reads", out)
grid = [l.split()[0:2] for l in lines if l.startswith("  S1 L") or l.startswith("  output")]
t.ok(grid == [["S1", "L0"], ["S1", "L1"], ["S1", "L2"], ["S1", "L3"], ["output", "0x40811000"]],
     "text: one grid row per stage-1 level and one for the output IPA", grid)
t.ok(any(l.startswith("  output") and l.endswith("=> pa 0x80811000") for l in lines)
     and "  iova 0x8040201000 -> ipa 0x40811000 -> pa 0x80811000" in lines,
     "text: the output row and the result give pa 0x80811000", out)
rc, out, err = run(uiommu, "walk", DEMO, "--iova", "0x8040600000", "--access", "w")
t.ok(rc == 1 and "Fault: stage 1 permission fault at level 3" in out
     and "<- stage-1 permission fault" in out, "text: the fault report", out)
t.done()
