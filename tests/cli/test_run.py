# SPDX-License-Identifier: MIT
"""
`uiommu run` end to end, from the source root:

 - every shipped run scenario (scenarios/*.json with a "machine") passes:
   exit 0, "PASS: N steps" last, nothing on stderr; --json parses and holds
   the fields of the report; the default scenario runs without an argument;
 - mutated scenarios that are still well formed fail where they should: a
   wrong expected byte, fault type, interrupt count or event field, an
   invalidation of the wrong ASID, a missing doorbell mapping, an event no
   step expects; exit 1 and a last line that names the step and its line;
 - malformed scenarios are refused before anything runs: exit 2, nothing
   on stdout, one line "uiommu run: FILE:LINE:COL: PATH: message" whose
   position this test works out itself from the text (the '@' marks it);
 - random byte-level mutations of the shipped scenarios never crash: exit
   0, 1 or 2, one message line on 2 (fixed seed, printed; UIOMMU_SEED).
"""
import glob
import json
import os
import random
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import Tap, run  # noqa: E402

uiommu = sys.argv[1]
tmp = tempfile.mkdtemp(prefix="uiommu-run-")
SCENARIOS = sorted(f for f in glob.glob("scenarios/*.json")
                   if "machine" in json.load(open(f)))
DEFAULT = "scenarios/nested-smmuv3.json"
SEED = int(os.environ.get("UIOMMU_SEED", "20251121"))
RUNS = int(os.environ.get("UIOMMU_MUTATIONS", "200"))
GROUP = 50


def write(name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def line_of(text, needle):
    return text[:text.index(needle)].count("\n") + 1


def last_line(s):
    lines = [x for x in s.splitlines() if x.strip()]
    return lines[-1] if lines else ""


# ---------------------------------------------------------------------------
# Failing runs: (what, replace this, with that, failing step, its first text, message)
base = open(DEFAULT).read()
FAILS = [
    ("a wrong expected byte",
     '"len": 16, "data": { "hex": "8877665544332211 8877665544332211" } },\n    { "step": "invalidate"',
     '"len": 16, "data": { "hex": "8977665544332211 8877665544332211" } },\n    { "step": "invalidate"',
     11, '{ "step": "check", "gpa": "0x4020_1000"',
     "byte 0x0 (GPA 0x40201000) is 0x88, expected 0x89 (1 of 16 bytes differ)"),
    ("a wrong fault type",
     '"expect": { "fault": "F_TRANSLATION", "addr": "0x21000"',
     '"expect": { "fault": "F_PERMISSION", "addr": "0x21000"',
     13, '{ "step": "dma", "note": "now the page is gone',
     "expected the fault to be F_PERMISSION, got fault F_TRANSLATION at 0x21000 (write, "
     "EFAULT), 0 bytes moved before it"),
    ("an invalidation of another ASID leaves the stale translation",
     '{ "op": "TLBI_NH_VA", "asid": 1,', '{ "op": "TLBI_NH_VA", "asid": 2,',
     13, '{ "step": "dma", "note": "now the page is gone',
     "expected a fault, got done, 16 bytes moved"),
    ("a wrong interrupt count", '"event": 5, "count": 1 }', '"event": 5, "count": 2 }',
     19, '{ "step": "expect_irq"', "expected 2 interrupts, got 1"),
    ("a wrong vSID in an expected event", '"sid": "0x42", "addr": "0x21000"',
     '"sid": "0x43", "addr": "0x21000"', 14, '{ "step": "expect_event"',
     "the vEVENTQ's next event has SID 0x42, expected 0x43"),
    ("no doorbell mapping: the MSI write faults",
     '"iova": "0x50000", "gpa": "msi"', '"iova": "0x60000", "gpa": "msi"',
     18, '{ "step": "dma", "device": "dma0", "op": "copy", "src": "0x10000", "dst": "0x20000", "len": "4K"',
     "expected the DMA to complete, got MSI write fault: F_TRANSLATION at 0x50040 (write, "
     "EFAULT), 4K moved before it"),
]
# An event no step expects fails the run after the last step.
NOEXPECT = base.replace(base[base.index('    { "step": "expect_event"'):
                             base.index('    { "step": "check", "gpa": "0x4020_1000", "len": 16',
                                        base.index('"step": "expect_event"'))], "")

# ---------------------------------------------------------------------------
# Malformed scenarios: '@' marks the position of the message.
B = """{
  "machine": {
    "guest": { "ram": [ { "gpa": "0x4000_0000", "size": "4M" } ] },
    "devices": [ { "name": "d", "sid": 1 } ]
  },
  "steps": [
    STEPS
  ]
}
"""


def steps(s):
    return B.replace("STEPS", s)


BAD = [
    ("unknown top-level key", steps('{ "step": "map" }').replace('"steps"', '@"stepz"'),
     "stepz: unknown key (expected description, machine, steps)"),
    ("no machine", '@{ "steps": [ { "step": "map" } ] }\n', 'missing key "machine"'),
    # The other two kinds of JSON file in scenarios/: named, with the command for them.
    ("a page-table scenario", '{\n  @"memory": { "base": 0, "size": "1M" },\n  "stage1": {}\n}\n',
     "memory: unknown key (expected description, machine, steps; this looks like a page-table "
     "scenario, for uiommu walk and uiommu trace)"),
    ("a topology", '{ @"iommus": [], "devices": [] }\n',
     "iommus: unknown key (expected description, machine, steps; this looks like a topology, "
     "for uiommu exec --config)"),
    ("unknown step", steps('{ "step": @"mapp" }'),
     "steps[0].step: expected a step (map, unmap, write, check, guest_map, guest_unmap, cd, "
     "ste, invalidate, dma, dma_wait, expect_event, expect_page_request, page_response, msi, "
     "expect_irq, stats, expect_fault), got mapp"),
    ("unknown key of a step", steps('{ "step": "map", @"gpaa": 1 }'),
     "steps[0].gpaa: unknown key (expected step, note, gpa, size, prot, expect)"),
    ("unknown device", steps('{ "step": "dma", "device": @"e", "op": "read", "src": 0, "len": 8 }'),
     'steps[0].device: no device "e" in the machine (devices: d)'),
    ("outside guest RAM",
     steps('{ "step": "write", "gpa": @"0x5000_0000", "len": 8, "data": { "byte": 1 } }'),
     "steps[0].gpa: 0x50000000-0x50000007 is not inside one guest RAM region"),
    ("misaligned map", steps('{ "step": "map", "gpa": @"0x4000_0800", "size": "4K" }'),
     "steps[0].gpa: 0x40000800 is not 4K aligned"),
    ("map size", steps('{ "step": "map", "gpa": "0x4000_0000", "size": @"6000" }'),
     "steps[0].size: 0x1770 is not a multiple of 4K"),
    ("bad number", steps('{ "step": "map", "gpa": @"0x4000_000g", "size": "4K" }'),
     'steps[0].gpa: expected a number such as 4096, "0x1000" or "4K", got 0x4000_000g'),
    ("a fraction shown as one", steps('{ "step": "map", "gpa": "0x4000_0000", "size": @4096.0 }'),
     'steps[0].size: expected a number such as 4096, "0x1000" or "4K", got 4096.0'),
    ("a wrong type", steps('{ "step": "map", "gpa": @[], "size": "4K" }'),
     'steps[0].gpa: expected a number such as 4096, "0x1000" or "4K", got an array'),
    ("an event name", steps('{ "step": "expect_event", "type": @"F_TRANSLATE" }'),
     'steps[0].type: expected an SMMUv3 event name such as F_TRANSLATION or F_PERMISSION, or '
     '"any", got F_TRANSLATE'),
    ("a DMA fault name",
     steps('{ "step": "dma", "device": "d", "op": "read", "src": 0, "len": 8, '
           '"expect": { "fault": @"F_NOPE" } }'),
     'steps[0].expect.fault: expected an SMMUv3 event name such as F_TRANSLATION or '
     'F_PERMISSION, "abort" (no event), or "any", got F_NOPE'),
    ("a page response before any request", steps('{ "step": @"page_response", "code": "success" }'),
     "steps[0].step: no page request to answer: an expect_page_request reads one first"),
    ("a busy device",
     steps('{ "step": "dma", "device": "d", "op": "read", "src": 0, "len": 8, "wait": false },\n'
           '    { "step": "dma", "device": @"d", "op": "read", "src": 0, "len": 8 },\n'
           '    { "step": "dma_wait", "device": "d" }'),
     "steps[1].device: d is busy with the DMA of steps[0] until a dma_wait"),
    ("a DMA never waited for",
     steps('{ "step": "dma", "device": "d", "op": "read", "src": 0, "len": 8, "wait": @false }'),
     "steps[0].wait: this DMA of d is never waited for: end it with a dma_wait"),
    ("expect on a DMA not waited for",
     steps('{ "step": "dma", "device": "d", "op": "read", "src": 0, "len": 8, "wait": false, '
           '@"expect": "done" },\n    { "step": "dma_wait", "device": "d" }'),
     "steps[0].expect: a DMA that is not waited for ends at its dma_wait: expect there"),
    ("a dma_wait with nothing in flight", steps('{ "step": "dma_wait", "device": @"d" }'),
     'steps[0].device: d has no DMA in flight (a dma with "wait": false)'),
    ("an STE before its CD", steps('@{ "step": "ste", "device": "d", "config": "translate" }'),
     'steps[0]: d has no CD table yet: write its CD first (a "cd" step)'),
    ("a CD beyond the table", steps('{ "step": "cd", "device": "d", "ssid": @1, "asid": 1 }'),
     "steps[0].ssid: d's CD table has 1 entry (0 to 0)"),
    ("a CD's TTB1 table", steps('{ "step": "cd", "device": "d", "asid": 1, "ttb1": @"k" }'),
     'steps[0].ttb1: no guest page table "k" (page_tables: s1)'),
    ("a CD's TBI", steps('{ "step": "cd", "device": "d", "asid": 1, "tbi": @4 }'),
     "steps[0].tbi: expected a number from 0 to 3, got 4"),
    ("an STE config", steps('{ "step": "ste", "device": "d", "config": @"s2" }'),
     "steps[0].config: expected abort, bypass or translate, got s2"),
    ("config and words", steps('{ "step": "ste", "device": "d", "words": [1, 0], @"config": "abort" }'),
     'steps[0].config: give "config" or raw "words", not both'),
    ("no vIOMMU",
     steps('{ "step": @"cd", "device": "d", "asid": 1 }').replace(
         '"machine": {', '"machine": {\n    "iommu": { "viommu": false },'),
     "steps[0].step: cd needs a vIOMMU, and this machine has none "
     "(machine.iommu.viommu is false)"),
    ("vsmmu without viommu",
     steps('{ "step": "map" }').replace(
         '"machine": {', '"machine": {\n    "iommu": { "viommu": false, "vsmmu": @true },'),
     "machine.iommu.vsmmu: the vSMMU front end needs viommu"),
    ("RAM over the MSI window",
     steps('{ "step": "map" }').replace('"gpa": "0x4000_0000", "size": "4M"',
                                        '"gpa": @"0x800_0000", "size": "1M"'),
     "machine.guest.ram[0].gpa: 0x8000000-0x80fffff overlaps 0x8000000-0x80fffff, the window "
     "the host reserves for MSI doorbells"),
    ("two devices, one SID",
     steps('{ "step": "map" }').replace('{ "name": "d", "sid": 1 }',
                                        '{ "name": "d", "sid": 1 }, { "name": "e", "sid": @1 }'),
     "machine.devices[1].sid: SID 0x1 is machine.devices[0]'s"),
    ("a device name",
     steps('{ "step": "map" }').replace('"name": "d"', '"name": @"D 1"'),
     "machine.devices[0].name: expected a name of 1 to 31 letters a-z, digits, '_' or '-', "
     "starting with a letter, got D 1"),
    ("text and len",
     steps('{ "step": "write", "gpa": "0x4000_0000", "len": @4, "data": { "text": "hello" } }'),
     "steps[0].len: 4, but the data has 5 bytes"),
    ("two kinds of data",
     steps('{ "step": "write", "gpa": "0x4000_0000", "len": 4, "data": @{ "byte": 1, "random": 2 } }'),
     "steps[0].data: expected exactly one of random, byte, text, hex or gpa, got 2 keys"),
    ("hex digits",
     steps('{ "step": "write", "gpa": "0x4000_0000", "data": { "hex": @"12 3" } }'),
     "steps[0].data.hex: expected pairs of hex digits (spaces and '_' allowed between bytes), "
     "got 12 3"),
    ("a command field",
     steps('{ "step": "invalidate", "commands": [ { "op": "TLBI_NH_ALL", @"asid": 1 } ] }'),
     'steps[0].commands[0].asid: TLBI_NH_ALL has no field "asid"'),
    ("a command name", steps('{ "step": "invalidate", "commands": [ @"TLBI_EVERYTHING" ] }'),
     "steps[0].commands[0]: expected an SMMUv3 command name such as TLBI_NH_VA or CFGI_CD, "
     "got TLBI_EVERYTHING"),
    ("a command field too wide",
     steps('{ "step": "invalidate", "commands": [ { "op": "TLBI_NH_ASID", "asid": @70000 } ] }'),
     "steps[0].commands[0].asid: expected at most 65535, got 70000"),
    ("a source for a fill",
     steps('{ "step": "dma", "device": "d", "op": "fill", "dst": 0, @"src": 0, "len": 8 }'),
     "steps[0].src: a fill has no src"),
    ("a PASID without PASIDs",
     steps('{ "step": "dma", "device": "d", "op": "read", "src": 0, "len": 8, "pasid": @1 }'),
     "steps[0].pasid: d has no PASIDs (its pasid_bits is 0)"),
    ("a READ longer than the buffer",
     steps('{ "step": "dma", "device": "d", "op": "read", "src": 0, "len": @"64K" }'),
     "steps[0].len: a read moves at most the device's 32K buffer, got 0x10000"),
    ("the doorbell is one page",
     steps('{ "step": "guest_map", "iova": 0, "gpa": @"msi", "size": "8K" }'),
     "steps[0].gpa: the MSI doorbell is one 4K page: map it with a size of one granule"),
    ("a counter name", steps('{ "step": "stats", "expect": { @"iotlb_hitz": 1 } }'),
     "steps[0].expect.iotlb_hitz: unknown key (expected iotlb_hits, iotlb_misses, "),
    ("an errno name",
     steps('{ "step": "map", "expect": { "error": @"EWHAT" } }'),
     "steps[0].expect.error: expected EPERM, ENOENT, EIO, "),
    ("a stalling device on an SMMU without stall",
     steps('{ "step": "map" }').replace('{ "name": "d", "sid": 1 }',
                                        '{ "name": "d", "sid": 1, "stall": @true }').replace(
         '"machine": {', '"machine": {\n    "iommu": { "stall": false },'),
     "machine.devices[0].stall: the SMMU has no stall model (machine.iommu.stall)"),
    ("page requests without a stalling device",
     steps('@{ "step": "expect_page_request" }'),
     "steps[0]: no device can stall (machine.devices[].stall), so nothing makes page requests"),
]


def position(text):
    i = text.index("@")
    return text[:i].count("\n") + 1, i - (text.rfind("\n", 0, i) + 1) + 1, text[:i] + text[i + 1:]


n = 3 * len(SCENARIOS) + 2 + len(FAILS) + 2 + len(BAD) + 7 + (RUNS + GROUP - 1) // GROUP
t = Tap(n)

# ---------------------------------------------------------------------------
for f in SCENARIOS:
    nsteps = len(json.load(open(f))["steps"])
    rc, out, err = run(uiommu, "run", f)
    t.ok(rc == 0 and last_line(out) == f"PASS: {nsteps} steps" and err == "",
         f"{f}: PASS, {nsteps} steps", f"exit {rc}\n{out[-3000:]}\nstderr: {err[:1000]}")
    rc, out, err = run(uiommu, "run", f, "--json")
    try:
        d = json.loads(out)
        good = (rc == 0 and d["result"] == "PASS" and d["scenario"] == f and
                len(d["steps"]) == nsteps and d["steps_run"] == nsteps and
                all(s["result"] == "pass" and s["index"] == i + 1 and s["line"] > 0 and
                    s["summary"] for i, s in enumerate(d["steps"])) and
                "iotlb_misses" in d["stats"] and isinstance(d["events"], list) and
                len(d["machine"]) >= 3 and len(d["boot"]) >= 2)
        why = json.dumps(d)[:2000]
    except (ValueError, KeyError, TypeError) as e:
        good, why = False, f"{e}: {out[:2000]}"
    t.ok(good, f"{f} --json: one document with every step", f"exit {rc}: {why}\n{err[:500]}")
    # Every event the run reports is one an expect step consumed, and the JSON says what it was.
    evs = d.get("events", []) if good else []
    t.ok(good and all(("type" in e and "sid" in e) or e.get("queue") == "fault" or
                      (e.get("queue") == "fault_ring" and "reason" in e and "addr" in e)
                      for e in evs),
         f"{f} --json: {len(evs)} events decoded", json.dumps(evs)[:1500])

rc, out, err = run(uiommu, "run")
t.ok(rc == 0 and last_line(out).startswith("PASS") and f"uiommu run {DEFAULT}" in out,
     "without an argument: the default scenario", f"exit {rc}\n{out[-1500:]}\n{err}")
rc, out, err = run(uiommu, "run", DEFAULT, "--check")
t.ok(rc == 0 and out == f"{DEFAULT}: {len(json.loads(base)['steps'])} steps, 1 device: OK\n",
     "--check loads and runs nothing", f"exit {rc}: {out!r} {err!r}")

# ---------------------------------------------------------------------------
for what, old, new, step, first, msg in FAILS:
    assert old in base, what
    text = base.replace(old, new, 1)
    path = write("fail.json", text)
    line = line_of(text, first)
    kind = json.loads(text)["steps"][step - 1]["step"]
    want = f"FAIL: step {step} ({kind}, line {line}): {msg}"
    rc, out, err = run(uiommu, "run", path)
    t.ok(rc == 1 and last_line(out) == want and f"FAIL: {msg}" in out and err == "",
         f"fails on {what}: step {step}",
         f"exit {rc}\nwanted: {want}\n{out[-2500:]}\nstderr: {err[:500]}")
path = write("noexpect.json", NOEXPECT)
rc, out, err = run(uiommu, "run", path)
t.ok(rc == 1 and last_line(out) ==
     "FAIL: 1 event no step expected, the first (step 13): F_TRANSLATION vSID 0x42: write to "
     "0x21000, stage 1, class IN (an expect_event, expect_page_request or expect_fault step "
     "consumes each)",
     "an event no step expects fails the run", f"exit {rc}\n{out[-1500:]}")
text = base.replace(FAILS[0][1], FAILS[0][2])
rc, out, err = run(uiommu, "run", write("fail.json", text), "--json")
try:
    d = json.loads(out)
    good = (rc == 1 and d["result"] == "FAIL" and d["failed_step"] == 11 and
            d["steps_run"] == 11 and len(d["steps"]) == 11 and d["steps"][10]["result"] == "fail"
            and d["steps"][10]["differ"] == 1 and "byte 0x0" in d["failure"])
except (ValueError, KeyError) as e:
    good = False
t.ok(good, "--json of a failed run: FAIL, the failed step, no step after it", out[-2000:])

# ---------------------------------------------------------------------------
for what, text, msg in BAD:
    line, col, clean = position(text)
    path = write("bad.json", clean)
    want = f"uiommu run: {path}:{line}:{col}: {msg}"
    rc, out, err = run(uiommu, "run", path)
    ok = rc == 2 and out == "" and err.count("\n") == 1
    ok = ok and (err.startswith(want) if msg.endswith(", ") else err == want + "\n")
    t.ok(ok, f"refused: {what}", f"exit {rc}\nwanted: {want}\nstderr: {err}stdout: {out[:300]}")

rc, out, err = run(uiommu, "run", write("syntax.json", '{ "machine": { ] }\n'))
t.ok(rc == 2 and out == "" and re.match(r"uiommu run: \S+syntax.json:1:\d+: invalid JSON: ", err)
     and err.count("\n") == 1, "invalid JSON: a position and jansson's reason", err)
rc, out, err = run(uiommu, "run", os.path.join(tmp, "missing.json"))
t.ok(rc == 2 and out == "" and err.endswith("missing.json: No such file or directory\n"),
     "a missing file: exit 2", err)
rc, out, err = run(uiommu, "run", tmp)
t.ok(rc == 2 and out == "" and err == f"uiommu run: {tmp}: not a regular file\n",
     "a directory: exit 2", err)
rc, out, err = run(uiommu, "run", write("empty.json", ""))
t.ok(rc == 2 and out == "" and err == f"uiommu run: {tmp}/empty.json:1:1: invalid JSON: "
     "'[' or '{' expected near end of file\n", "an empty file: its position, exit 2", err)
rc, out, err = run(uiommu, "run", "--bogus")
t.ok(rc == 2 and "unknown option '--bogus'" in err, "an unknown option: exit 2", err)
rc, out, err = run(uiommu, "run", DEFAULT, DEFAULT)
t.ok(rc == 2 and "expected one scenario file" in err, "two files: exit 2", err)
rc, out, err = run(uiommu, "run", "--help")
t.ok(rc == 0 and out.startswith("usage: uiommu run") and "doc/scenario.md" in out, "--help", out)

# ---------------------------------------------------------------------------
TOKENS = [b'"0x', b'"4K"', b'"2M"', b"-1", b"1e400", b'"\\u0000"', b"{", b"}", b"[", b"]", b",",
          b'"', b"99999999999999999999", b'"0xffffffffffffffff"', b"null", b'"rw"', b"true",
          b"false", b'"dma"', b'"ste"', b'"abort"', b'"bypass"', b'"wait": false,', b"0",
          b'"F_TRANSLATION"', b'"msi"', b'"step": "dma_wait",', b'"pasid": 1,', b'"len": 1,']
rnd = random.Random(SEED)
srcs = [open(f, "rb").read() for f in SCENARIOS]
print(f"# seed {SEED}, {RUNS} mutated runs", flush=True)
bad = []
for i in range(RUNS):
    s = bytearray(rnd.choice(srcs))
    for _ in range(rnd.randint(1, 3)):
        op, p = rnd.randrange(4), rnd.randrange(len(s) + 1)
        if op == 0 and s:
            del s[p:p + rnd.randint(1, 8)]
        elif op == 1:
            s[p:p] = rnd.choice(TOKENS)
        elif op == 2 and s:
            s[min(p, len(s) - 1)] = rnd.randrange(32, 127)
        else:
            q = rnd.randrange(len(s) + 1)
            s[p:p] = s[q:q + rnd.randint(1, 40)]
    path = os.path.join(tmp, f"m{i}.json")
    with open(path, "wb") as f:
        f.write(s)
    rc, out, err = run(uiommu, "run", path, "--timeout", "300")
    good = rc in (0, 1, 2) and "Sanitizer" not in err and "runtime error" not in err
    if good and rc == 2:
        good = out == "" and err.count("\n") == 1 and err.startswith("uiommu run: ")
    elif good:
        good = last_line(out).startswith("PASS" if rc == 0 else "FAIL")
    if good:
        os.unlink(path)
    else:
        bad.append(f"exit {rc}: {path}\nstdout: {out[-600:]}\nstderr: {err[:600]}")
    if (i + 1) % GROUP == 0 or i + 1 == RUNS:
        first = i - (i % GROUP)
        t.ok(not bad, f"mutations {first}-{i}: no crash, exit 0/1/2 with a report or one message",
             "\n".join(bad))
        bad = []
for f in ("fail.json", "noexpect.json", "bad.json", "syntax.json"):
    if os.path.exists(os.path.join(tmp, f)):
        os.unlink(os.path.join(tmp, f))
if not os.listdir(tmp):
    os.rmdir(tmp)
t.done()
