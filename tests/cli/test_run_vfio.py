# SPDX-License-Identifier: MIT
"""
`uiommu run` on the legacy VFIO path (machine.iommu.api "vfio"), from the
source root, on scenarios/nested-vfio.json:

 - it passes, and its report states the facts of the extension: the boot
   lines (container in VFIO_TYPE1_NESTING_IOMMU, the device's DMA FAULT
   region and IRQ), SET_PASID_TABLE / CACHE_INVALIDATE / SET_MSI_BINDING in
   the steps, and in --json the ring records with their fields (reason,
   address, access, perm, flags), the interrupt counts;
 - mutations that are still well formed fail where they should, exit 1 and
   a last line naming the step and its line: a wrong fault reason, address
   or access, a missing invalidation (so no fault), an MSI that cannot
   arrive without its binding, a wrong count of lost MSIs, a fault no step
   expects;
 - VFIO-only and iommufd-only steps and fields are refused before anything
   runs (exit 2, "uiommu run: FILE:LINE:COL: PATH: message", the position
   worked out here from the '@' mark).
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import Tap, run  # noqa: E402

uiommu = sys.argv[1]
tmp = tempfile.mkdtemp(prefix="uiommu-run-vfio-")
SC = "scenarios/nested-vfio.json"
base = open(SC).read()
NSTEPS = len(json.loads(base)["steps"])


def write(name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def last_line(s):
    lines = [x for x in s.splitlines() if x.strip()]
    return lines[-1] if lines else ""


def line_of(text, needle):
    return text[:text.index(needle)].count("\n") + 1


# (what, replace this, with that, failing step, its first text, message)
FAILS = [
    ("a wrong fault reason",
     '"device": "dma0", "reason": "PTE_FETCH", "addr": "0x21000"',
     '"device": "dma0", "reason": "PERMISSION", "addr": "0x21000"',
     14, '{ "step": "expect_fault", "note": "the fault is a record',
     "reason PTE_FETCH, expected PERMISSION"),
    ("a wrong fault address",
     '"reason": "PTE_FETCH", "addr": "0x21000"', '"reason": "PTE_FETCH", "addr": "0x22000"',
     14, '{ "step": "expect_fault", "note": "the fault is a record',
     "addr 0x21000, expected 0x22000"),
    ("a wrong access",
     '"addr": "0x21000", "access": "write" },\n    { "step": "check"',
     '"addr": "0x21000", "access": "read" },\n    { "step": "check"',
     14, '{ "step": "expect_fault", "note": "the fault is a record',
     "a write, expected a read"),
    ("an invalidation of another ASID: no fault",
     '{ "op": "TLBI_NH_VA", "asid": 1,', '{ "op": "TLBI_NH_VA", "asid": 2,',
     13, '{ "step": "dma", "note": "now the page is gone',
     "expected a fault, got done, 16 bytes moved"),
    ("no binding, no interrupt",
     '"device": "dma0", "vector": 0, "addr": "0x50000", "event": 5 },',
     '"device": "dma0", "vector": 0, "addr": "0x50000", "event": 5, "bind": false },',
     23, '{ "step": "expect_irq", "note": "the completion interrupt went',
     "expected 1 interrupt, got 0"),
    ("a count of lost MSIs", '"msis_lost": 1,', '"msis_lost": 2,',
     26, '{ "step": "stats"', "msis_lost: expected 2, got 1"),
    ("an interrupt without a binding",
     '{ "step": "expect_irq", "note": "and no interrupt arrives", "event": 5, "count": 0 }',
     '{ "step": "expect_irq", "note": "and no interrupt arrives", "event": 5, "count": 1 }',
     20, '{ "step": "expect_irq", "note": "and no interrupt arrives"',
     "expected 1 interrupt, got 0"),
]
# The MSI fault of step 18 (the DMA after the unbound msi step) left unexpected.
NOEXPECT = base.replace(
    base[base.index('    { "step": "expect_fault", "note": "so the message faults'):
         base.index('    { "step": "expect_irq", "note": "and no interrupt arrives"')], "")

B = """{
  "machine": {
    "iommu": { "viommu": true, "api": "vfio" },
    "guest": { "ram": [ { "gpa": "0x4000_0000", "size": "4M" } ] },
    "devices": [ { "name": "d", "sid": 1 } ]
  },
  "steps": [
    STEPS
  ]
}
"""


def steps(s, api="vfio"):
    return B.replace("STEPS", s).replace('"api": "vfio"', f'"api": "{api}"')


BAD = [
    ("vfio without a vIOMMU", B.replace('"viommu": true, "api": "vfio"',
                                        '"viommu": false, "api": @"vfio"').replace("STEPS", ""),
     'machine.iommu.api: "vfio" forwards a guest\'s vSMMU through VFIO\'s nested extension: it '
     'needs "viommu": true'),
    ("vfio with the vSMMU front end",
     B.replace('"viommu": true, "api": "vfio"', '"viommu": true, "vsmmu": true, "api": @"vfio"')
     .replace("STEPS", ""),
     'machine.iommu.api: the vSMMU front end ("vsmmu") forwards through iommufd: not with '
     '"vfio"'),
    ("an unknown api", B.replace('"api": "vfio"', '"api": @"vfi0"').replace("STEPS", ""),
     "machine.iommu.api: expected iommufd or vfio, got vfi0"),
    ("expect_fault on the iommufd path",
     steps('{ "step": @"expect_fault", "device": "d" }', "iommufd"),
     'steps[0].step: expect_fault reads a device\'s DMA FAULT ring, which only the VFIO path '
     'has (machine.iommu.api is "iommufd")'),
    ("a vEVENTQ on the VFIO path", steps('@{ "step": "expect_event", "type": "F_TRANSLATION" }'),
     'steps[0]: the VFIO path has no vEVENTQ (machine.iommu.api is "vfio"): the guest\'s faults '
     'are in the device\'s DMA FAULT ring (expect_fault); "queue": "host" reads the host\'s log'),
    ("page requests on the VFIO path", steps('{ "step": @"expect_page_request" }'),
     'steps[0].step: expect_page_request is not run on the VFIO path (machine.iommu.api is '
     '"vfio")'),
    ("a command with no CACHE_INVALIDATE form",
     steps('{ "step": "invalidate", "commands": [ @{ "op": "TLBI_S2_IPA", "addr": 0 } ] }'),
     'steps[0].commands[0]: TLBI_S2_IPA has no VFIO_IOMMU_CACHE_INVALIDATE form '
     '(machine.iommu.api is "vfio": TLBI_NH_ALL, TLBI_NH_ASID, TLBI_NH_VA(A), CFGI_CD(_ALL), '
     'CFGI_STE(_RANGE), CMD_SYNC)'),
    ("raw STE words",
     steps('@{ "step": "ste", "device": "d", "words": [1, 0] }'),
     'steps[0]: raw STE words have no VFIO_IOMMU_SET_PASID_TABLE form (machine.iommu.api is '
     '"vfio"): give "config"'),
    ("\"bind\" on the iommufd path",
     steps('{ "step": @"msi", "device": "d", "event": 1, "bind": false }', "iommufd"),
     'steps[0].step: msi "bind" is VFIO_IOMMU_SET_MSI_BINDING\'s (machine.iommu.api is '
     '"iommufd")'),
    ("a stalling device on the VFIO path",
     steps('{ "step": "map" }').replace('{ "name": "d", "sid": 1 }',
                                        '{ "name": "d", "sid": 1, "stall": @true }'),
     'machine.devices[0].stall: stalled DMA is not run on the VFIO path (machine.iommu.api is '
     '"vfio"): its page requests would go to the fault response region, which uiommu run does '
     'not drive'),
    ("a fault reason name",
     steps('{ "step": "expect_fault", "device": "d", "reason": @"F_TRANSLATION" }'),
     "steps[0].reason: expected UNKNOWN, PASID_FETCH, BAD_PASID_ENTRY, PASID_INVALID, "
     "WALK_EABT, PTE_FETCH, PERMISSION, ACCESS or OOR_ADDRESS, got F_TRANSLATION"),
    ("none with fields",
     steps('{ "step": "expect_fault", "device": "d", "none": true, @"addr": 0 }'),
     'steps[0].addr: "none": true expects no record: no fields'),
    ("expect_fault without a device", steps('@{ "step": "expect_fault" }'),
     'steps[0]: missing key "device"'),
]


def position(text):
    i = text.index("@")
    return text[:i].count("\n") + 1, i - (text.rfind("\n", 0, i) + 1) + 1, text[:i] + text[i + 1:]


t = Tap(4 + len(FAILS) + 2 + len(BAD))

rc, out, err = run(uiommu, "run", SC)
t.ok(rc == 0 and last_line(out) == f"PASS: {NSTEPS} steps" and err == "",
     f"{SC}: PASS, {NSTEPS} steps", f"exit {rc}\n{out[-3000:]}\n{err[:500]}")
facts = [
    "boot     /dev/vfio/vfio: a container of groups 1-1, VFIO_TYPE1_NESTING_IOMMU",
    "dma0: 0000:00:01.0 in group 1 (SID 0x10): device fd; DMA FAULT region 9 (a ring of 512 "
    "records, mmap()ed), its IRQ 5 on an eventfd",
    "-> VFIO_IOMMU_SET_PASID_TABLE (the container's: every device)",
    "host STE (SID 0x10): nested (stage 1 over stage 2)",
    "TLBI_NH_VA -> VFIO_IOMMU_CACHE_INVALIDATE IOTLB ADDR: 0",
    "fault ring dma0 #0: PTE_FETCH, write (privileged) at 0x21000",
    "fault ring dma0 #1: PTE_FETCH, write (privileged) at 0x8000040",
    "VFIO_IOMMU_SET_MSI_BINDING IOVA 0x50000 -> vITS IPA 0x9000000",
    "doorbell event 5: 0 interrupts since the last check",
    "doorbell event 5: 1 interrupt since the last check",
    "dma0's DMA FAULT ring: nothing (more)",
    "devices       5 DMA operations, 1 ended in error; 1 interrupt through the doorbell, 1 MSI "
    "lost at the IOMMU",
    "fault rings   2 records (VFIO DMA FAULT regions)",
]
missing = [f for f in facts if f not in out]
t.ok(rc == 0 and not missing, "the report states the extension's steps", "missing: " +
     "\n".join(missing) + "\n" + out[-3000:])

rc, out, err = run(uiommu, "run", SC, "--json")
try:
    d = json.loads(out)
    rings = [e for e in d["events"] if e.get("queue") == "fault_ring"]
    good = (rc == 0 and d["result"] == "PASS" and len(rings) == 2 and
            rings[0] == {"queue": "fault_ring", "device": "dma0", "index": 0, "type": 1,
                         "reason": "PTE_FETCH", "addr": "0x21000", "access": "write",
                         "perm": 10, "flags": 2} and
            rings[1]["addr"] == "0x8000040" and rings[1]["index"] == 1 and
            rings[1]["access"] == "write")
    why = json.dumps(rings)
except (ValueError, KeyError) as e:
    good, why = False, f"{e}: {out[:2000]}"
t.ok(good, "--json: the ring's records (reason PTE_FETCH, addr, write, PRIV, ADDR_VALID)", why)
try:
    fx = [s for s in d["steps"] if s["step"] == "expect_fault" and "fault" in s]
    good = rc == 0 and [s["fault"]["addr"] for s in fx] == ["0x21000", "0x8000040"]
except (KeyError, NameError) as e:
    good = False
t.ok(good, "--json: each expect_fault step holds its record", out[-1500:])

for what, old, new, step, first, msg in FAILS:
    assert old in base, what
    text = base.replace(old, new, 1)
    path = write("fail.json", text)
    line = line_of(text, first)
    kind = json.loads(text)["steps"][step - 1]["step"]
    want = f"FAIL: step {step} ({kind}, line {line}): {msg}"
    rc, out, err = run(uiommu, "run", path)
    t.ok(rc == 1 and last_line(out) == want and err == "", f"fails on {what}: step {step}",
         f"exit {rc}\nwanted: {want}\n{out[-2500:]}\nstderr: {err[:500]}")

rc, out, err = run(uiommu, "run", write("noexpect.json", NOEXPECT))
none_line = line_of(NOEXPECT, '"none": true')
t.ok(rc == 1 and last_line(out) ==
     f"FAIL: step 23 (expect_fault, line {none_line}): expected no "
     "record, the ring has fault ring dma0 #1: PTE_FETCH, write (privileged) at 0x8000040",
     "an unconsumed ring record fails the next \"none\" expect_fault",
     f"exit {rc}\n{out[-1500:]}")
NONE = '    { "step": "expect_fault", "device": "dma0", "none": true },\n'
assert NONE in NOEXPECT
rc, out, err = run(uiommu, "run", write("noexpect.json", NOEXPECT.replace(NONE, "")))
t.ok(rc == 1 and last_line(out) ==
     "FAIL: 1 event no step expected, the first (step 18): fault ring dma0 #1: PTE_FETCH, write "
     "(privileged) at 0x8000040 (an expect_event, expect_page_request or expect_fault step "
     "consumes each)", "a ring record no step expects fails the run", f"exit {rc}\n{out[-1500:]}")

for what, text, msg in BAD:
    line, col, clean = position(text)
    path = write("bad.json", clean)
    want = f"uiommu run: {path}:{line}:{col}: {msg}"
    rc, out, err = run(uiommu, "run", path)
    t.ok(rc == 2 and out == "" and err == want + "\n", f"refused: {what}",
         f"exit {rc}\nwanted: {want}\nstderr: {err}stdout: {out[:300]}")

for f in ("fail.json", "noexpect.json", "bad.json"):
    if os.path.exists(os.path.join(tmp, f)):
        os.unlink(os.path.join(tmp, f))
os.rmdir(tmp)
t.done()
