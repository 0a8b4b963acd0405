# SPDX-License-Identifier: MIT
"""
`uiommu walk --image`: tables written here by hand, descriptor by descriptor
(VMSAv8-64: bit 0 valid, bit 1 table/page, address [47:12]; stage-1 leaf
AF = bit 10, SH = 0b11 at [9:8], AP[2] = bit 7 read-only; stage-2 leaf
S2AP read = bit 6, write = bit 7), then walked single-stage and nested.
"""
import json
import os
import shutil
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import Tap, run  # noqa: E402

uiommu = sys.argv[1]
tmp = tempfile.mkdtemp(prefix="uiommu-image-")

TABLE = 0b11                         # valid + table
S1_PAGE_RW = 0b11 | 1 << 10 | 3 << 8     # valid + page, AF, inner shareable: 0x703
S1_PAGE_RO = S1_PAGE_RW | 1 << 7         # AP[2]: read-only: 0x783
S2_PAGE_RW = 0b11 | 1 << 10 | 3 << 8 | 1 << 6 | 1 << 7  # S2AP = rw: 0x7c3


def image(name, size, entries):
    """Write a file of @size zero bytes with 64-bit little-endian @entries {offset: value}."""
    mem = bytearray(size)
    for off, val in entries.items():
        struct.pack_into("<Q", mem, off, val)
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(mem)
    return path


def walk(*args):
    rc, out, err = run(uiommu, "walk", *args, "--json")
    try:
        return rc, json.loads(out), err
    except ValueError:
        return rc, None, err


t = Tap(20)

# --- stage 1 alone: 4K granule, ias 48, 4 levels; image at PA 0x100000 --------------
# iova 0x80_4020_1abc: index 1 at levels 0..3, so each table's entry 1 (offset 8).
B = 0x100000
img = image("s1.bin", 0x6000, {
    0x0008: (B + 0x1000) | TABLE,     # L0[1] -> L1 table at B + 0x1000
    0x1008: (B + 0x2000) | TABLE,     # L1[1] -> L2 table
    0x2008: (B + 0x3000) | TABLE,     # L2[1] -> L3 table
    0x3008: (B + 0x5000) | S1_PAGE_RW,  # L3[1] -> page at B + 0x5000
    0x3010: (B + 0x4000) | S1_PAGE_RO,  # L3[2] -> read-only page at B + 0x4000
})
rc, d, err = walk("--image", f"{img}@0x100000", "--format", "vmsa-s1", "--root", "0x100000",
                  "--iova", "0x8040201abc")
d = d or {"reads": [], "result": {}}
t.ok(rc == 0 and len(d["reads"]) == 4, "vmsa-s1 image: 4 reads", err)
t.ok([r["address"] for r in d["reads"]] == ["0x100008", "0x101008", "0x102008", "0x103008"],
     "vmsa-s1 image: entry 1 of each table", d["reads"])
t.ok(d["reads"] and d["reads"][3]["value"] == hex((B + 0x5000) | S1_PAGE_RW),
     "vmsa-s1 image: the leaf read is the descriptor written", d["reads"][3:])
t.ok(d["result"].get("output_address") == "0x105abc" and d["result"].get("page_size") == 4096,
     "vmsa-s1 image: iova 0x8040201abc -> pa 0x105abc", d["result"])
rc, d, err = walk("--image", f"{img}@0x100000", "--format", "vmsa-s1", "--root", "0x100000",
                  "--iova", "0x8040202000", "--access", "w")
f = (d or {}).get("fault", {})
t.ok(rc == 1 and f.get("stage") == 1 and f.get("level") == 3 and f.get("reason") == "permission",
     "vmsa-s1 image: write to the AP[2] page is a level-3 permission fault", f)
rc, d, err = walk("--image", f"{img}@0x100000", "--format", "vmsa-s1", "--root", "0x100000",
                  "--iova", "0x8040203000")
f = (d or {}).get("fault", {})
t.ok(rc == 1 and f.get("reason") == "translation" and f.get("level") == 3
     and len(d["reads"]) == 4, "vmsa-s1 image: an empty L3 entry is a translation fault", f)
rc, d, err = walk("--image", f"{img}@0x100000", "--format", "vmsa-s1", "--root", "0x200000",
                  "--iova", "0x8040201abc")
f = (d or {}).get("fault", {})
t.ok(rc == 1 and f.get("reason") == "walk-abort" and (d or {}).get("reads") == [],
     "vmsa-s1 image: a root outside the image is a walk abort, nothing read", f)

# --- nested, one image: stage 2 and stage 1 in the same memory -------------------
# PA image at 0x10000000 (0x20000 bytes). Stage 2: 4K, ias 32, SL0 1 -> start
# level 1 with a 4-entry root at +0x0; L1[0] -> L2 at +0x1000; L2[0] -> L3 at
# +0x2000; L3[i] maps IPA page i to PA +0x10000 + i * 4K (i = 0..7).
# Stage 1: 4K, ias 39 -> levels 1..3; tables at IPA 0x0, 0x1000, 0x2000 (PA
# +0x10000...), data page IPA 0x5000. iova 0x4020_1abc: index 1 at L1, L2, L3.
P = 0x10000000
ent = {0x0000: (P + 0x1000) | TABLE, 0x1000: (P + 0x2000) | TABLE}
for i in range(8):
    ent[0x2000 + 8 * i] = (P + 0x10000 + i * 0x1000) | S2_PAGE_RW
ent[0x10000 + 8] = 0x1000 | TABLE
ent[0x11000 + 8] = 0x2000 | TABLE
ent[0x12000 + 8] = 0x5000 | S1_PAGE_RW
img = image("nested.bin", 0x20000, ent)
nested = ["--format", "vmsa-s1", "--root", "0", "--ias", "39", "--oas", "32",
          "--s2-format", "vmsa-s2", "--s2-root", hex(P), "--s2-ias", "32", "--s2-sl0", "1",
          "--s2-oas", "40", "--iova", "0x40201abc"]
rc, d, err = walk("--image", f"{img}@{P:#x}", *nested)
d = d or {"reads": [], "result": {}, "stage2": {}}
t.ok(rc == 0 and len(d["reads"]) == 15 and d["stage2"].get("start_level") == 1,
     "nested image: 3 * (3 + 1) + 3 = 15 reads", err or d["reads"])
t.ok([(r["stage"], r["level"]) for r in d["reads"][:4]] == [(2, 1), (2, 2), (2, 3), (1, 1)]
     and d["reads"][3]["address"] == hex(P + 0x10008) and d["reads"][3]["ipa"] == "0x8",
     "nested image: the stage-1 root entry (IPA 0x8) read at PA +0x10008", d["reads"][:4])
t.ok(d["result"].get("ipa") == "0x5abc" and d["result"].get("output_address") == hex(P + 0x15abc),
     "nested image: iova 0x40201abc -> ipa 0x5abc -> pa +0x15abc", d["result"])
rc, d, err = walk("--image", f"{img}@{P:#x}", *nested[:-1], "0x40202000")
f = (d or {}).get("fault", {})
t.ok(rc == 1 and f.get("stage") == 1 and f.get("reason") == "translation",
     "nested image: an empty stage-1 entry is a stage-1 fault", f)

# --- nested, two images: stage-2 tables elsewhere (--s2-image) ------------------
# Same layout, with the stage-2 tables moved to their own file at 0x20000000
# and the stage-1 tables and data at 0x10010000 in the first one.
Q = 0x20000000
s2 = {0x0000: (Q + 0x1000) | TABLE, 0x1000: (Q + 0x2000) | TABLE}
for i in range(8):
    s2[0x2000 + 8 * i] = (P + 0x10000 + i * 0x1000) | S2_PAGE_RW
s2img = image("s2.bin", 0x3000, s2)
s1img = image("s1data.bin", 0x10000, {0x0008: 0x1000 | TABLE, 0x1008: 0x2000 | TABLE,
                                      0x2008: 0x5000 | S1_PAGE_RW})
args = list(nested)
args[args.index("--s2-root") + 1] = hex(Q)
rc, d, err = walk("--image", f"{s1img}@{P + 0x10000:#x}", "--s2-image", f"{s2img}@{Q:#x}", *args)
d = d or {"reads": [], "result": {}}
t.ok(rc == 0 and len(d["reads"]) == 15 and d["reads"][0]["address"] == hex(Q)
     and d["result"].get("output_address") == hex(P + 0x15abc),
     "two images: stage-2 reads in the --s2-image, the same result", err or d["result"])

# --- image errors ------------------------------------------------------------------
rc, out, err = run(uiommu, "walk", "--image", os.path.join(tmp, "missing.bin"), "--format",
                   "vmsa-s1", "--root", "0", "--iova", "0")
t.ok(rc == 2 and out == "" and err == f"uiommu walk: --image: {tmp}/missing.bin: "
     "No such file or directory\n", "missing image file: exit 2 and the file's name", err)
rc, out, err = run(uiommu, "walk", "--image", f"{s1img}@{P:#x}", "--s2-image", f"{s2img}@{P:#x}",
                   *args)
t.ok(rc == 2 and out == "" and "overlaps --image" in err, "overlapping images: exit 2", err)

# --- two VA ranges (an SMMUv3 CD's TTB0 and TTB1, --tbi) ------------------------------
# TTB0: the 4-level table above (root B); TTB1: 4K, ias 39, 3 levels at B + 0x6000,
# mapping the low bits 0x4020_1abc (index 1 at L1, L2, L3) to the page at B + 0x9000.
img = image("ttb1.bin", 0xa000, {
    0x0008: (B + 0x1000) | TABLE, 0x1008: (B + 0x2000) | TABLE, 0x2008: (B + 0x3000) | TABLE,
    0x3008: (B + 0x5000) | S1_PAGE_RW,
    0x6008: (B + 0x7000) | TABLE, 0x7008: (B + 0x8000) | TABLE, 0x8008: (B + 0x9000) | S1_PAGE_RW,
})
two = ["--image", f"{img}@{B:#x}", "--format", "vmsa-s1", "--root", hex(B),
       "--ttb1-root", hex(B + 0x6000), "--ttb1-ias", "39"]
rc, d, err = walk(*two, "--iova", "0xffffff8040201abc")
d = d or {"reads": [], "result": {}}
t.ok(rc == 0 and d.get("ttb") == 1 and d.get("walk_input") == "0x40201abc"
     and [r["address"] for r in d["reads"]] == [hex(B + 0x6008), hex(B + 0x7008), hex(B + 0x8008)]
     and d["result"].get("output_address") == hex(B + 0x9abc),
     "two ranges: a TTB1 VA walks TTB1's 3 levels with its low 39 bits", err or d)
rc, d, err = walk(*two, "--iova", "0x8040201abc")
d = d or {"reads": [], "result": {}}
t.ok(rc == 0 and d.get("ttb") == 0 and len(d["reads"]) == 4
     and d["result"].get("output_address") == hex(B + 0x5abc),
     "two ranges: a TTB0 address walks TTB0", err or d)
rc, d, err = walk(*two, "--iova", "0x1000000000000")
f = (d or {}).get("fault", {})
t.ok(rc == 1 and d.get("ttb") is None and d.get("reads") == [] and f.get("stage") == 1
     and f.get("class") == "IN" and f.get("reason") == "translation"
     and f.get("input_address") == "0x1000000000000",
     "two ranges: the gap is a stage-1 translation fault of class IN, nothing read", d)
rc, d, err = walk(*two, "--iova", "0x5affff8040201abc")
t.ok(rc == 1 and (d or {}).get("ttb") is None and (d or {}).get("tbi") is False,
     "two ranges: a tagged TTB1 VA without TBI is in neither range", d)
rc, d, err = walk(*two, "--tbi", "2", "--iova", "0x5affff8040201abc")
d = d or {"result": {}}
t.ok(rc == 0 and d.get("ttb") == 1 and d.get("tbi") is True
     and d["result"].get("output_address") == hex(B + 0x9abc),
     "two ranges, --tbi 2: the tagged TTB1 VA walks TTB1", err or d)
rc, out, err = run(uiommu, "walk", "--image", f"{img}@{B:#x}", "--format", "vmsa-s1", "--root",
                   hex(B), "--tbi", "1", "--iova", "0x5a00008040201abc", "--iova",
                   "0xffffff8040201abc")
t.ok(rc == 1 and "Table: TTB0 (bits [63:48] all 0)" in out and "TTB1     disabled" in out
     and "Table: none: not in TTB0's range" in out and "pa 0x105abc" in out,
     "--tbi alone: a tagged TTB0 address translates, TTB1 is disabled (text report)", out)
if not t.failed:
    shutil.rmtree(tmp)
t.done()
