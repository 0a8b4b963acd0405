# SPDX-License-Identifier: MIT
"""
uiommu trace: trace-file errors (exact messages, exit 2, nothing on stdout),
usage errors (exit 2), the split of transactions into pages, descriptor
reads and faults of a replay with the caches off and of one with them
(both counted by hand from the scenario), and the --sweep outputs (the SVG
read back with an XML parser, the CSV and the JSON).
"""
import csv
import json
import os
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import Tap, run  # noqa: E402

uiommu = sys.argv[1]
DEMO = "scenarios/nested-4k.json"
PASIDS = "tests/data/pasids.json"
S2ONLY = "tests/data/s2-only.json"
OFF = ["--iotlb", "0", "--walk-cache", "0", "--ipa-cache", "0"]
EXPECT = "expected iova,len,r|w[,pasid], got"
ACCESS = "expected the access r or w, got"
IOVA = "expected an IOVA such as 0x1000 or 4096, got"
PASID = "expected a PASID from 0 to 1048575, got"
NONE = "expected lines iova,len,r|w[,pasid], got the end of the file and no transaction"

tmp = tempfile.TemporaryDirectory()


def tfile(name, text, mode="w"):
    path = os.path.join(tmp.name, name)
    with open(path, mode) as f:
        f.write(text)
    return path


# (trace contents, scenario, extra args, expected stderr with {f} for the file)
BAD_TRACES = [
    # Not three or four fields: the whole line is shown.
    ("0x1000,4096\n", DEMO, [], "{f}:1: " + EXPECT + " '0x1000,4096'"),
    ("0x1000,4096,r,1,2\n", DEMO, [], "{f}:1: " + EXPECT + " '0x1000,4096,r,1,2'"),
    ("0x1000 4096 r\n", DEMO, [], "{f}:1: " + EXPECT + " '0x1000 4096 r'"),
    ("0x1000,4096,r" + "," * 70 + "\n", DEMO, [],
     "{f}:1: " + EXPECT + " '0x1000,4096,r" + "," * 47 + "...'"),
    ("0x1000,4096,r\0\n", DEMO, [], "{f}:1: " + EXPECT + " '0x1000,4096,r\\x00'"),
    # Three or four fields: the first wrong one, and what it should be.
    ("# header\n\n0x1000,4096,x\n", DEMO, [], "{f}:3: " + ACCESS + " 'x'"),
    ("0x1000,4096,rw\n", DEMO, [], "{f}:1: " + ACCESS + " 'rw'"),
    ("0x1000,4096,W\n", DEMO, [], "{f}:1: " + ACCESS + " 'W'"),
    ("zz,4096,r\n", DEMO, [], "{f}:1: " + IOVA + " 'zz'"),
    ("-1,4096,r\n", DEMO, [], "{f}:1: " + IOVA + " '-1'"),
    ("\x01\x02\xff,1,r\n", DEMO, [], "{f}:1: " + IOVA + " '\\x01\\x02\\xff'"),
    ("0x1_0000_0000_0000_0000,1,r\n", DEMO, [],
     "{f}:1: expected an IOVA below 2^64, got '0x1_0000_0000_0000_0000'"),
    ("0x1000,,r\n", DEMO, [], "{f}:1: expected a length from 1 to 4G, got ''"),
    ("0x1000,0,r\n", DEMO, [], "{f}:1: expected a length from 1 to 4G, got '0'"),
    ("0x1000,8G,r\n", DEMO, [], "{f}:1: expected a length from 1 to 4G, got '8G'"),
    ("0x1000,4096,r,\n", DEMO, [], "{f}:1: " + PASID + " ''"),
    ("0x1000,4096,r,pasid\n", DEMO, [], "{f}:1: " + PASID + " 'pasid'"),
    ("0x1000,4096,r,0x100000\n", DEMO, [], "{f}:1: " + PASID + " '0x100000'"),
    ("0xffffffffffffff00,0x1000,r\n", DEMO, [],
     "{f}:1: 0xffffffffffffff00 + 4096 bytes runs past the end of the 64-bit address space"),
    ("0x8040200000,4096,r\n0x8040200000,4096,r,7\n", DEMO, [],
     "{f}:2: scenarios/nested-4k.json: no stage 1 for PASID 7 (the scenario has no "
     "\"pasids\")"),
    ("0x1000_0000,4K,r,1\n0x1000_0000,4K,r,3\n", PASIDS, [],
     "{f}:2: tests/data/pasids.json: no stage 1 for PASID 3 (the scenario has PASIDs 1, 2)"),
    ("0x1000_0000,4K,r,1\n0x1000_0000,4K,r\n", PASIDS, [],
     "{f}:2: no PASID on this line, no --pasid, and tests/data/pasids.json has no \"stage1\" "
     "(its PASIDs: 1, 2)"),
    # No transaction at all: the position where the file ends (after a last
    # newline, the line that follows it), as the JSON loaders give it.
    ("", DEMO, [], "{f}:1: " + NONE),
    ("# nothing but comments\n\n   \n", DEMO, [], "{f}:4: " + NONE),
    ("# no newline at the end", DEMO, [], "{f}:1: " + NONE),
]

USAGE = [
    ([], "uiommu trace: expected a SCENARIO file and a TRACE file"),
    ([DEMO], "uiommu trace: expected a TRACE file after scenarios/nested-4k.json"),
    ([DEMO, "t.csv", "extra"], "uiommu trace: unexpected argument 'extra'"),
    ([DEMO, "t.csv", "--iotlb", "3"],
     "uiommu trace: --iotlb: expected 0 (off) or a power of two up to 1M entries, got '3'"),
    ([DEMO, "t.csv", "--iotlb", "2M"],
     "uiommu trace: --iotlb: expected 0 (off) or a power of two up to 1M entries, got '2M'"),
    ([DEMO, "t.csv", "--iotlb", "16,3"],
     "uiommu trace: --iotlb: expected WAYS a power of two from 1 to 64, got '3'"),
    ([DEMO, "t.csv", "--iotlb", "16,x"],
     "uiommu trace: --iotlb WAYS: expected a number such as 4096, 0x1000 or 4K, got 'x'"),
    ([DEMO, "t.csv", "--iotlb", "4,8"], "uiommu trace: --iotlb: 8 ways do not fit in 4 entries"),
    ([DEMO, "t.csv", "--walk-cache", "many"],
     "uiommu trace: --walk-cache: expected a number such as 4096, 0x1000 or 4K, got 'many'"),
    ([DEMO, "t.csv", "--ipa-cache", "100"],
     "uiommu trace: --ipa-cache: expected 0 (off) or a power of two up to 1M entries, got "
     "'100'"),
    ([DEMO, "t.csv", "--repl", "fifo"], "uiommu trace: --repl: expected lru or random, got 'fifo'"),
    ([DEMO, "t.csv", "--svg", "x.svg"], "uiommu trace: --svg needs --sweep"),
    ([DEMO, "t.csv", "--csv", "x.csv"], "uiommu trace: --csv needs --sweep"),
    ([DEMO, "t.csv", "--pasid", "0x100000"],
     "uiommu trace: --pasid: expected a PASID from 0 to 1048575, got 0x100000"),
    ([DEMO, "t.csv", "--sweep", "--svg"], "uiommu trace: option '--svg' needs an argument"),
    ([DEMO, "t.csv", "--frob"], "uiommu trace: unknown option '--frob'"),
]

t = Tap(len(BAD_TRACES) + 4 + len(USAGE) + 11 + 13 + 4)

# --- Trace-file errors: one line on stderr, exit 2, nothing on stdout. ---
for i, (text, scen, extra, want) in enumerate(BAD_TRACES):
    f = tfile(f"bad{i}.csv", text.encode("latin-1"), "wb")
    rc, out, err = run(uiommu, "trace", scen, f, *OFF, *extra)
    want = "uiommu trace: " + want.format(f=f)
    t.ok(rc == 2 and out == "" and err == want + "\n", f"trace error: {want}",
         f"exit {rc}\nstdout: {out!r}\nstderr: {err!r}\nwant:   {want!r}")

rc, out, err = run(uiommu, "trace", DEMO, os.path.join(tmp.name, "missing.csv"), *OFF)
t.ok(rc == 2 and out == "" and
     err == f"uiommu trace: {tmp.name}/missing.csv: No such file or directory\n",
     "a missing trace file", err)
rc, out, err = run(uiommu, "trace", DEMO, tmp.name, *OFF)
t.ok(rc == 2 and out == "" and err == f"uiommu trace: {tmp.name}: Is a directory\n",
     "a directory as the trace file", err)
rc, out, err = run(uiommu, "trace", "tests/data/bad-granule.json", tfile("ok.csv", "0,1,r\n"))
t.ok(rc == 2 and out == "" and err.startswith("uiommu trace: tests/data/bad-granule.json:5:16: "),
     "a bad scenario is reported like uiommu walk reports it", err)
rc, out, err = run(uiommu, "trace", PASIDS, tfile("ok.csv", "0,1,r\n"), "--pasid", "9", *OFF)
t.ok(rc == 2 and out == "" and err == "uiommu trace: tests/data/pasids.json: no stage 1 for PASID "
     "9 (the scenario has PASIDs 1, 2)\n", "--pasid that the scenario lacks", err)

# --- Usage errors: exit 2, before any file is opened. ---
for args, want in USAGE:
    rc, out, err = run(uiommu, "trace", *args)
    first = err.splitlines()[0] if err else ""
    t.ok(rc == 2 and out == "" and first == want and "--help' for more" in err,
         f"usage error: uiommu trace {' '.join(args)}", f"exit {rc}\nstderr: {err!r}")

# --- Replay with every cache off: the reads of uncached walks, by hand. ---
# nested-4k: 4-level stage 1 over a 3-level stage 2, so a 4K page costs
# 4 x (3 + 1) + 3 = 19 reads; the 2M block at 0x8040400000 is reached at stage-1
# level 2: 3 x 4 + 3 = 15; IPA 0x2000_0000 (iova 0x8040602000) is outside guest
# RAM: 16 stage-1 reads, then stage 2 faults at its first (level-1) read: 17; a
# write to the read-only page 0x8040600000 faults at the stage-1 leaf: 16.
# 0x8040201800 + 0x1000 crosses into the next page: two translations.
DEMO_TRACE = """# iova, len, access
0x8040200000,8192,r        # two pages
0x8040201800,0x1000,w      # crosses a page boundary: two translations
 0x8040400000 , 4K , r     # spaces are fine
0x8040602000,4,r
0x8040600000,64,w\r
"""
f = tfile("demo.csv", DEMO_TRACE)
rc, out, err = run(uiommu, "trace", DEMO, f, *OFF, "--json")
try:
    j = json.loads(out)
except ValueError:
    j = {}
t.ok(rc == 0 and err == "", "replay with the caches off succeeds (faults are not errors)", err)
t.ok(j.get("transactions") == 5 and j.get("translations") == 7 and j.get("bytes") == 16452,
     "5 transactions are 7 page translations, 16452 bytes", out)
t.ok(j.get("reads", {}).get("total") == 4 * 19 + 15 + 17 + 16,
     "descriptor reads: 4 x 19 + 15 + 17 + 16 = 124", out)
t.ok(j.get("faults") == {"total": 2, "translation": 1, "access-flag": 0, "permission": 1,
                         "address-size": 0, "reserved-bits": 0, "walk-abort": 0},
     "faults: one translation (stage 2), one permission (stage 1)", out)
t.ok(j.get("caches") is None and j.get("ns_note", "").endswith("informational"),
     "caches off: no cache section; time is marked informational", out)
rc, out, err = run(uiommu, "trace", DEMO, f, *OFF)
t.ok(rc == 0 and "translations   7\n" in out and
     "faults         2 (translation 1, permission 1)\n" in out and
     "reads          124 descriptors, 17.714 per translation" in out and
     "ns per translation (measured here; informational)" in out, "the text report", out)

# PASIDs: each line's own stage 1; a 64K transaction is 16 pages of PASID 1's
# 4K granule (nothing mapped there: 16 faults) but one page of PASID 2's 64K one.
f = tfile("pasids.csv", "0x1000_0000,4K,r,1\n0x2000_0000,0x10000,r,2\n0x2000_0000,0x10000,r\n")
rc, out, err = run(uiommu, "trace", PASIDS, f, *OFF, "--pasid", "1", "--json")
j = json.loads(out) if rc == 0 else {}
t.ok(j.get("translations") == 1 + 1 + 16 and j.get("faults", {}).get("total") == 16,
     "PASID per line, --pasid for lines without one, split at that stage 1's granule", out + err)

# Stage 2 alone: addresses are IPAs, pages of the stage-2 granule (64K).
f = tfile("s2.csv", "0x10000,0x20000,r\n0x100000,1,r\n0x0,1,w\n")
rc, out, err = run(uiommu, "trace", S2ONLY, f, *OFF, "--json")
j = json.loads(out) if rc == 0 else {}
t.ok(j.get("translations") == 4 and j.get("reads", {}).get("total") == 8 and
     j.get("faults", {}).get("translation") == 1 and j.get("faults", {}).get("permission") == 1,
     "stage 2 only: 64K pages, 2 reads each, beyond RAM and write to read-only RAM fault",
     out + err)

# stdin, and the generator piped in.
p = __import__("subprocess").run(
    f"{uiommu} trace-gen sequential --count 64 --pages 16 --base 0x8040200000 | "
    f"{uiommu} trace {DEMO} - --iotlb 0 --walk-cache 0 --ipa-cache 0 --json",
    shell=True, capture_output=True, text=True)
j = json.loads(p.stdout) if p.returncode == 0 else {}
t.ok(j.get("trace") == "<stdin>" and j.get("translations") == 64 and
     j.get("reads", {}).get("total") == 64 * 19, "'-' reads the trace from stdin", p.stderr)
bad = __import__("subprocess").run(
    f"printf '0x1000,1,q\\n' | {uiommu} trace {DEMO} - --iotlb 0 --walk-cache 0 --ipa-cache 0",
    shell=True, capture_output=True, text=True)
t.ok(bad.returncode == 2 and bad.stderr == "uiommu trace: <stdin>:1: " + ACCESS + " 'q'\n",
     "stdin errors say <stdin>", bad.stderr)

# help
rc, out, err = run(uiommu, "help", "trace")
t.ok(rc == 0 and out.startswith("usage: uiommu trace SCENARIO.json TRACE.csv") and
     max(len(x) for x in out.splitlines()) <= 80, "help trace, within 80 columns", out)

# --- With the caches. ---
# A Zipf stream over 8192 pages of the trace-replay scenario (512 MiB of 4K pages).
TRACE4K = "scenarios/trace-4k.json"
p = __import__("subprocess").run(
    [uiommu, "trace-gen", "zipfian", "--count", "3000", "--pages", "8192", "--base",
     "0x10_0000_0000", "--seed", "7"], capture_output=True, text=True)
zipf = tfile("zipf.csv", p.stdout)
# Worked out by hand on nested-4k (4-level stage 1 at IPA 0x4000_0000.. over a
# 3-level stage 2, 4K pages), default caches. Walk caches are probed from the
# deepest level up (each probe a hit or a miss); stage-1 table IPAs and the
# output IPA go through the IPA cache first, and everything is filled as it is
# walked, so later steps of the same translation use it, except that an output
# IPA's stage-2 leaf goes into the IPA cache only when it is larger than the
# stage-1 leaf (else the IOTLB entry holds all of it), and a stage-1 walk-cache
# entry is combined: it gives its table's PA, with no IPA-cache look-up.
#  A 0x8040200000 cold. Root IPA 0x4000_0000: S2 walk-cache probes at depth 1
#    and 0 miss, 3 S2 reads (fills S2 depth 0 for 1G @0, depth 1 for 2M
#    @0x4000_0000), 1 S1 read. L1, L2, L3 tables (IPA 0x4000_1000, _2000,
#    _3000): IPA misses, S2 depth-1 hits, 1 + 1 reads each. Output IPA
#    0x4081_0000: IPA miss, S2 depth 1 miss (2M @0x4080_0000), depth 0 hit, 2
#    reads. S1 probes at depth 2, 1, 0 all miss. 4 + 3 x 2 + 2 = 12 reads.
#  B the same page: IOTLB hit, 0 reads.
#  C 0x8040201000: S1 depth-2 hit (the L3 table and its PA): 1 read;
#    output 0x4081_1000: IPA miss, S2 depth-1 hit: 1 read. 2 reads.
#  D 0x8040400000, a 2M block at stage-1 level 2: S1 depth 2 miss, depth 1
#    hit (the L2 table's PA): 1 read; output 0x40a0_0000: IPA miss, S2
#    depth 1 miss, depth 0 hit: 2 reads. 3 reads (the IOTLB entry is 4K: stage
#    2 maps 4K pages).
#  E 0x8040401000: as D, but the S2 depth-1 entry of 0x40a0_0000 now hits. 2.
#  F 0x8040602000: S1 depth 2 miss, depth 1 hit, L2 read (its PA); the new L3
#    table (IPA 0x4000_4000) is an IPA miss, S2 depth-1 hit: 1 + 1 reads; the
#    output 0x2000_0000 misses the IPA cache and both S2 depths and faults at
#    the S2 root. A walk that faults after using cached state is settled by an
#    uncached walk, whose reads are what counts: 16 + 1 = 17.
# Reads 12 + 0 + 2 + 3 + 2 + 17 = 36. IOTLB 1 hit, 5 misses. IPA: no hits,
# misses A 5, C, D, E 1 each, F 2: 0 / 10; fills A 4 tables, F 1. S1 walk cache:
# depth 0 0/1, depth 1 (A miss, D E F hit) 3/1, depth 2 (C hit; A D E F miss)
# 1/4. S2: depth 0 (A: 1 hit, 1 miss; D hit; F miss) 2/2, depth 1 (A 3/2, C, E,
# F-table hits, D and F-output misses) 6/4. Uncached, the same six read
# 19 + 19 + 19 + 15 + 15 + 17 = 104 (17.333 each).
HAND = tfile("hand.csv", "0x8040200000,4,r\n0x8040200000,4,r\n0x8040201000,4,r\n"
             "0x8040400000,4,r\n0x8040401000,4,r\n0x8040602000,4,r\n")
rc, out, err = run(uiommu, "trace", DEMO, HAND, "--json")
j = json.loads(out) if rc == 0 else {}
c = j.get("caches") or {}
t.ok(j.get("translations") == 6 and j.get("reads", {}).get("total") == 36 and
     j.get("faults", {}).get("total") == 1, "hand-worked replay: reads", out + err)
t.ok((c.get("iotlb", {}).get("hits"), c.get("iotlb", {}).get("misses"),
      c.get("ipa", {}).get("hits"), c.get("ipa", {}).get("misses"),
      c.get("ipa", {}).get("fills")) == (1, 5, 0, 10, 5),
     "hand-worked replay: IOTLB and IPA cache", c)
walk = {(w["stage"], w["depth"], w["table_level"]): (w["hits"], w["misses"])
        for w in c.get("walk", [])}
t.ok(walk == {(1, 0, 1): (0, 1), (1, 1, 2): (3, 1), (1, 2, 3): (1, 4),
              (2, 0, 2): (2, 2), (2, 1, 3): (6, 4)}, "hand-worked replay: walk caches", walk)
rc, out, err = run(uiommu, "trace", DEMO, HAND)
t.ok(rc == 0 and
     "  IOTLB                           6            1            5    16.67%\n" in out and
     "  walk S1 (L3 tables)             5            1            4    20.00%\n" in out and
     "reads          36 descriptors, 6.000 per translation (no caches: 17.333)" in out,
     "hand-worked replay: text table", out)

# The IPA cache's note. nested-4k's stage 2 has no blocks, so every stage-2
# leaf is 4K and none is larger than a stage-1 leaf (4K pages, a 2M block):
# with the IOTLB on, no output IPA has a size to probe, the 0 % above is not
# about output IPAs, and the report says so under the row.
NOTE = ("n/a for output IPAs: no stage-2 leaf was larger than its stage-1 leaf, so each "
        "counts a miss with nothing probed; only stage-1 table fetches can hit")
ipa = c.get("ipa", {})
t.ok(ipa.get("s2_leaf_larger") == 0 and ipa.get("note") == NOTE and
     "  IPA                            10            0           10     0.00%\n"
     "  (IPA: n/a for output IPAs: no stage-2 leaf was larger than its stage-1\n"
     "   leaf, so each counts a miss with nothing probed; only stage-1 table\n"
     "   fetches can hit)\n" in out,
     "4K stage-2 leaves only: the IPA row says n/a for output IPAs", out + json.dumps(ipa))
# The same scenario with stage-2 blocks: guest RAM (16M at IPA 0x4000_0000, PA
# 0x8000_0000) is 2M blocks. A, B and C end in 4K stage-1 pages inside one: 3
# translations with a larger stage-2 leaf. D and E are a 2M stage-1 block over a
# 2M stage-2 block (not larger); F faults. So no note.
blocks = json.load(open(DEMO))
blocks["stage2"]["flags"] = []
BLOCKS = tfile("nested-2m-s2.json", json.dumps(blocks))
rc, out, err = run(uiommu, "trace", BLOCKS, HAND, "--json")
ipa = ((json.loads(out) if rc == 0 else {}).get("caches") or {}).get("ipa", {})
t.ok(ipa.get("s2_leaf_larger") == 3 and ipa.get("note", "") is None,
     "2M stage-2 blocks behind 4K pages: 3 larger leaves, no note", out + err)
# Without an IOTLB the IPA cache keeps every stage-2 leaf: no note either.
rc, out, err = run(uiommu, "trace", DEMO, HAND, "--iotlb", "0")
t.ok(rc == 0 and "  IPA " in out and "(IPA:" not in out, "IOTLB off: no IPA note", out + err)
# Stage 2 alone (64K pages): the IOTLB holds every stage-2 leaf; nothing probed.
f = tfile("s2c.csv", "0x10000,0x20000,r\n0x10000,4,r\n")
rc, out, err = run(uiommu, "trace", S2ONLY, f)
t.ok(rc == 0 and "  (IPA: n/a, stage 2 alone: the IOTLB holds every stage-2 leaf, so each\n"
     "   look-up counts a miss with nothing probed)\n" in out,
     "stage 2 alone: the IPA row says n/a", out + err)

rc, out, err = run(uiommu, "trace", TRACE4K, zipf)
t.ok(rc == 0 and "IOTLB" in out, "default caches replay", out + err)
svg = os.path.join(tmp.name, "sweep.svg")
csvf = os.path.join(tmp.name, "sweep.csv")
rc, out, err = run(uiommu, "trace", TRACE4K, zipf, "--sweep", "--svg", svg, "--csv", csvf, "--json")
try:
    root = ET.parse(svg).getroot()
    ok = True
except (ET.ParseError, OSError) as e:
    root, ok = None, False
t.ok(rc == 0 and ok and root.tag == "{http://www.w3.org/2000/svg}svg",
     "sweep: svg is well-formed XML with an <svg> root", err)
NS = "{http://www.w3.org/2000/svg}"
series = {g.get("data-label"): g for g in root.iter(NS + "g") if g.get("class") == "series"} \
    if root is not None else {}
npts = {k: len([c for c in g.iter(NS + "circle") if c.get("class") == "point"])
        for k, g in series.items()}
t.ok(npts == {"IOTLB miss rate": 13, "with the caches": 13, "no caches: 24.00": 0},
     "sweep: svg points: 13 sizes (16 to 64K) in each measured series; the uncached "
     "reference (24 reads) is a line", npts)
texts = [x.text or "" for x in root.iter(NS + "text")] if root is not None else []
t.ok(any(zipf in x and TRACE4K in x for x in texts) and "64K" in texts and "16" in texts and
     "IOTLB entries (log2 scale)" in texts and "IOTLB miss rate (%)" in texts,
     "sweep: svg labels: title names trace and scenario; tick labels; axis labels", texts[:8])
rows = list(csv.DictReader(open(csvf))) if os.path.exists(csvf) else []
t.ok(len(rows) == 13 and [int(r["iotlb_entries"]) for r in rows] == [16 << i for i in range(13)],
     "sweep: csv has one row per size", rows[:2])
try:
    j = json.loads(out)
except ValueError:
    j = {}
pts = j.get("points", [])
t.ok(len(pts) == 13 and all(p["translations"] == 3000 for p in pts) and
     [p["iotlb_entries"] for p in pts] == [int(r["iotlb_entries"]) for r in rows],
     "sweep: json points match the csv", out[:300])
rc, out2, err = run(uiommu, "trace", TRACE4K, zipf, "--sweep")
t.ok(rc == 0 and "IOTLB size sweep:" in out2 and "64K" in out2, "sweep: text", out2)
miss = [p["iotlb_miss_rate"] for p in pts]
t.ok(len(miss) == 13 and all(b <= a + 1e-9 for a, b in zip(miss, miss[1:])),
     "sweep: miss rate never rises with a larger LRU IOTLB", miss)
t.ok(len(pts) == 13 and pts[-1]["reads_per_translation"] < pts[0]["reads_per_translation"],
     "sweep: largest IOTLB reads fewer descriptors than the smallest",
     [p["reads_per_translation"] for p in pts])
t.done()
