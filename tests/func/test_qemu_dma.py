# SPDX-License-Identifier: MIT
"""
A DMA of the emulated dmatest function while an unmodified QEMU (Debian 12's
qemu-system-x86_64 7.2, legacy VFIO container) owns it through vfio-pci under
`uiommu exec`: the whole chain, QEMU's VFIO_IOMMU_MAP_DMA of its own guest
RAM -> the container's type1 domain -> the SMMUv3 (or VT-d) model -> the
device's DMA engine -> QEMU's RAM, and back out through QEMU.

Why a guest, and which one. QEMU's qtest accelerator would let the test
write guest memory and MMIO directly, but Debian builds QEMU with modules
and its qemu-system-x86 package does not ship accel-qtest-x86_64.so (the
qtest accelerator is a module: accel/qtest/meson.build adds qtest.c to
qtest_module_ss), so `-accel qtest` fails with "invalid accelerator qtest".
HMP/QMP can do port I/O and read guest memory, but cannot write guest RAM
or MMIO. So the guest is the smallest one there is: a 64 KiB firmware image
(-bios) that this script assembles byte by byte, a few dozen real-mode
instructions and no toolchain. The test drives everything else from the
host side, as a user at the monitor would:

- QEMU's generic loader (-device loader,file=...) puts the test's pattern
  (fixed seed) into guest RAM at SRC before the CPU runs (-S);
- config writes through ports 0xcf8/0xcfc (HMP `o`) put BAR0 at 0xa0000, a
  guest-physical address a real-mode guest reaches (the legacy VGA window
  routes to PCI on q35 when there is no VGA), and set Memory Space and Bus
  Master;
- the guest programs SRC_IOVA, DST_IOVA, LEN, OP=COPY through BAR0 (its
  MMIO exits go to vfio-pci, which writes the device's region through the
  VFIO device file), rings GO, polls STATUS until DONE or ERROR, stores
  the STATUS it saw at 0x500 and a 1 at 0x504, then waits for CMOS byte
  0x40 (ports 0x70/0x71) to become non-zero;
- the test reads guest RAM back with QMP pmemsave and the device's
  registers through BAR0 with HMP `xp`, then sets CMOS byte 0x40: the guest
  runs the second COPY, to a guest-physical address beyond -m that QEMU
  never mapped, and stores its STATUS at 0x508 and a 1 at 0x50c.

Assertions: the destination equals the pattern (and did not before), the
bytes around it and the source are unchanged, STATUS says DONE with no
error, DONE_BYTES and COMPLETIONS say one whole transfer; the trace shows
the IOMMU model translating the device's reads of SRC and writes of DST;
the second DMA ends with STATUS ERROR / DMA_FAULT, FAULT_IOVA the
unmapped address, FAULT_INFO a write refused with EFAULT, DONE_BYTES 0,
and all 64 MiB of guest RAM unchanged but the guest's own record; the
model reports the fault (trace); the summary counts the accesses.
Once with an SMMUv3 topology (group 7 at 0000:03:00.0) and once with the
VT-d one (scenarios/topology-vtd.json, 0000:00:01.0).

Skips (1..0) only when qemu-system-x86_64 is not installed;
scripts/install-deps.sh installs it. In a sanitizer build QEMU runs as
qemu_qmp.py says.
"""
import json
import os
import random
import re
import shutil
import signal
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from tap import Tap  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu_qmp  # noqa: E402

uiommu = sys.argv[1]
srcdir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
qemu = qemu_qmp.find_qemu()

MEM_MB = 64
RAM = MEM_MB << 20
SLOT = 3  # the guest's 0000:00:03.0
BAR0_GPA = 0xA0000  # real-mode segment 0xa000
SRC = 0x100000 + 0x1F0  # not page aligned: the transfer crosses pages on both sides
DST = 0x240000 + 0x58
LEN = 0x3000
# Beyond -m: no VFIO_IOMMU_MAP_DMA covers it. An IOVA wrapped modulo the RAM
# size would land at 0x300000, which holds zeros and is compared below.
BAD = RAM + 0x300000
SEED = 0x5EED0D4A
PATTERN = random.Random(SEED).randbytes(LEN)
HOLE = (0xA0000, 0x100000)  # below 1 MiB, not RAM on q35
REC = 0x500  # the guest's record: STATUS1, 1, STATUS2, 1 (dwords)
CMOS_GO = 0x40  # the CMOS byte that releases the second DMA

# doc/dmatest.md
REG_ID, REG_SRC, REG_DST, REG_LEN, REG_OP, REG_GO = 0x00, 0x10, 0x18, 0x20, 0x28, 0x38
REG_STATUS, REG_FAULT_IOVA, REG_FAULT_INFO, REG_DONE_BYTES = 0x3C, 0x40, 0x48, 0x50
REG_COMPLETIONS, REG_ERRORS = 0x58, 0x5C
OP_COPY = 3
ST_DONE, ST_ERROR = 1 << 1, 1 << 2
ERR_DMA_FAULT = 4
FI_WRITE = 1 << 1
EFAULT = 14
SMMU_EVT_F_TRANSLATION = 0x10  # SMMUv3 event number of a translation fault

CONTEXT = "seed %#x, SRC %#x, DST %#x, LEN %#x, BAD %#x, BAR0 %#x" % (SEED, SRC, DST, LEN, BAD,
                                                                     BAR0_GPA)

# The program's last line of defence: nothing here may hang `make check`.
signal.alarm(150)


# --- the guest: 16-bit real mode, hand-assembled ------------------------------
def mov_es_dword(off, val):
    """mov dword es:[off], val (BAR0 through ES = 0xa000)."""
    return b"\x26\x66\xC7\x06" + struct.pack("<HI", off, val)


def mov_ds_dword(off, val):
    """mov dword [off], val (RAM through DS = 0)."""
    return b"\x66\xC7\x06" + struct.pack("<HI", off, val)


def dma_copy(src, dst, n, rec):
    """Program one COPY through BAR0, ring GO, wait for DONE or ERROR, record STATUS."""
    code = b"".join([mov_es_dword(REG_SRC, src), mov_es_dword(REG_SRC + 4, 0),
                     mov_es_dword(REG_DST, dst), mov_es_dword(REG_DST + 4, 0),
                     mov_es_dword(REG_LEN, n), mov_es_dword(REG_OP, OP_COPY),
                     mov_es_dword(REG_GO, 1)])
    # poll: mov eax, es:[STATUS]; test al, DONE|ERROR; jz poll
    code += b"\x26\x66\xA1" + struct.pack("<H", REG_STATUS)
    code += b"\xA8" + bytes([ST_DONE | ST_ERROR]) + b"\x74\xF7"
    code += b"\x66\xA3" + struct.pack("<H", rec)  # mov [rec], eax
    return code + mov_ds_dword(rec + 4, 1)


def firmware():
    """A 64 KiB -bios image: two COPYs separated by a wait on a CMOS byte."""
    code = b"\xFA"  # cli
    code += b"\x31\xC0\x8E\xD8\x8E\xD0\xBC\x00\x10"  # ds = ss = 0, sp = 0x1000
    code += b"\xB8" + struct.pack("<H", BAR0_GPA >> 4) + b"\x8E\xC0"  # es = BAR0 >> 4
    code += dma_copy(SRC, DST, LEN, REC)
    # wait: mov al, CMOS_GO; out 0x70, al; in al, 0x71; test al, al; jz wait
    code += b"\xB0" + bytes([CMOS_GO]) + b"\xE6\x70\xE4\x71\x84\xC0\x74\xF6"
    code += dma_copy(SRC, BAD, LEN, REC + 8)
    code += b"\xF4\xEB\xFD"  # hlt; jmp hlt
    img = bytearray(0x10000)
    img[:len(code)] = code
    # The reset vector (CS base 0xffff0000, IP 0xfff0): jmp near to offset 0.
    img[0xFFF0:0xFFF3] = b"\xE9" + struct.pack("<H", (0 - 0xFFF3) & 0xFFFF)
    return bytes(img)


tmp = tempfile.mkdtemp(prefix="uiommu-qemu-dma.")
bios = os.path.join(tmp, "bios.bin")
with open(bios, "wb") as f:
    f.write(firmware())
pattern_file = os.path.join(tmp, "pattern.bin")
with open(pattern_file, "wb") as f:
    f.write(PATTERN)
smmu_topo = os.path.join(tmp, "topo-smmuv3.json")
with open(smmu_topo, "w") as f:
    json.dump({"iommus": [{"name": "smmu0", "model": "smmuv3"}],
               "devices": [{"type": "dmatest", "name": "0000:03:00.0", "group": 7}]}, f)
vtd_topo = os.path.join(srcdir, "scenarios", "topology-vtd.json")

env = qemu_qmp.qemu_env(tmp)

TRACE = "xlate_walk,xlate_fault,smmu_evt"


class Qemu(qemu_qmp.Qemu):
    """QEMU under uiommu exec running the firmware above, QMP on stdin/stdout."""

    def __init__(self, name, host, config):
        self.dump = os.path.join(tmp, "ram-%s" % name)
        args = [qemu, "-accel", "tcg", "-machine", "q35", "-nodefaults",
                "-display", "none", "-m", str(MEM_MB), "-S", "-bios", bios,
                "-device", "loader,file=%s,addr=%#x,force-raw=on" % (pattern_file, SRC),
                "-device", "vfio-pci,host=%s,id=dt0,addr=%#x" % (host, SLOT),
                "-qmp", "stdio"]
        super().__init__(uiommu, args, env, os.path.join(tmp, "summary-%s.txt" % name), TRACE,
                         config, SLOT)
        self.up = self.start()

    def xp(self, addr, n):
        """@n dwords of guest-physical memory (through QEMU's memory API), or []."""
        out = self.hmp("xp /%dwx %#x" % (n, addr))
        return [int(x, 16) for x in re.findall(r"0x[0-9a-f]{8}\b", re.sub(r"^\w+:", "", out,
                                                                             flags=re.M))]

    def reg(self, off):
        r = self.xp(BAR0_GPA + off, 1)
        return r[0] if r else None

    def reg64(self, off):
        r = self.xp(BAR0_GPA + off, 2)
        return r[0] | r[1] << 32 if len(r) == 2 else None

    def ram(self):
        """All of guest RAM as QEMU sees it (QMP pmemsave), or b""."""
        if os.path.exists(self.dump):
            os.unlink(self.dump)
        if self.qmp("pmemsave", val=0, size=RAM, filename=self.dump) != {"return": {}}:
            return b""
        with open(self.dump, "rb") as f:
            return f.read()

    def wait_record(self, off):
        """Wait (up to 20 s) for the guest's record at REC+off to say done; its STATUS."""
        for _ in range(1000):
            r = self.xp(REC + off, 2)
            if len(r) == 2 and r[1] == 1:
                return r[0]
            if self.p.poll() is not None:
                return None
            time.sleep(0.02)
        return None


def walks(err, access):
    """[(iova, size)] of the xlate_walk trace lines for @access (1 read, 2 write)."""
    out = []
    for m in re.finditer(r"xlate_walk iova=(0x[0-9a-f]+) access=(0x[0-9a-f]+) pa=0x[0-9a-f]+ "
                         r"size=(0x[0-9a-f]+)$", err, re.M):
        iova, acc, size = (int(x, 16) for x in m.groups())
        if acc & 3 == access:  # VT-d's walks also carry PT_PROT_U (8)
            out.append((iova, size))
    return out


def walked(ws, start, n):
    """Every page of [start, start + n) was looked up: some walk's block contains it."""
    page = start & ~0xFFF
    while page < start + n:
        if not any((iova & ~(size - 1)) <= page < (iova & ~(size - 1)) + size for iova, size in ws):
            return False
        page += 0x1000
    return True


def diff_ranges(a, b):
    """The byte offsets where @a and @b differ, as [start, end) ranges (at most 8)."""
    out = []
    n = min(len(a), len(b))
    for page in range(0, n, 0x1000):
        if a[page:page + 0x1000] == b[page:page + 0x1000]:
            continue
        for i in range(page, min(page + 0x1000, n)):
            if a[i] == b[i]:
                continue
            if out and out[-1][1] == i:
                out[-1] = (out[-1][0], i + 1)
            elif len(out) < 8:
                out.append((i, i + 1))
            else:
                return out
    return out


def run(t, model, host, config):
    q = Qemu(model, host, config)
    t.ok(q.up, "%s: QEMU (-bios: the test's firmware, -S) realized vfio-pci on %s" % (model, host),
         q.greeting if q.up else q.finish())
    q.cfg_write(0x10, BAR0_GPA)
    q.cfg_write(0x14, 0)
    q.cfg_write(0x04, 0x0006, "h")  # Memory Space, Bus Master
    regs = [q.reg(REG_ID), q.reg(REG_STATUS), q.reg(REG_COMPLETIONS), q.reg(REG_ERRORS)]
    t.ok(regs == [0x4D444955, 0, 0, 0],
         "%s: BAR0 at %#x through config writes: ID reads UIDM, STATUS 0, no operation yet" %
         (model, BAR0_GPA), [hex(r or 0) for r in regs])
    before = q.ram()
    t.ok(len(before) == RAM and before[SRC:SRC + LEN] == PATTERN and
         before[DST:DST + LEN] != PATTERN and before[DST - 64:DST + LEN + 64] == bytes(LEN + 128),
         "%s: before the DMA, SRC holds the pattern (the loader's), DST and around it zeros" %
         model, CONTEXT)

    q.qmp("cont")
    st1 = q.wait_record(0)
    t.ok(st1 == ST_DONE, "%s: the guest's COPY through BAR0: STATUS DONE, no ERROR, as the guest "
         "polled it" % model, "STATUS %s; %s" % (hex(st1) if st1 is not None else None, CONTEXT))
    regs = [q.reg(REG_STATUS), q.reg64(REG_DONE_BYTES), q.reg(REG_COMPLETIONS), q.reg(REG_ERRORS)]
    t.ok(regs == [ST_DONE, LEN, 1, 0],
         "%s: through QEMU's BAR0: STATUS DONE, DONE_BYTES = LEN, COMPLETIONS 1, ERRORS 0" % model,
         [hex(r) if r is not None else None for r in regs])
    after1 = q.ram()
    ok = (len(after1) == RAM and after1[DST:DST + LEN] == PATTERN and
          after1[SRC:SRC + LEN] == PATTERN and after1[DST - 64:DST] == bytes(64) and
          after1[DST + LEN:DST + LEN + 64] == bytes(64))
    t.ok(ok, "%s: guest RAM at DST now equals the pattern; SRC and the bytes around DST unchanged"
         % model, "%s; differing ranges vs before: %s" %
         (CONTEXT, [(hex(a), hex(b)) for a, b in diff_ranges(before, after1)]))

    # Release the second COPY: to BAD, which QEMU never mapped.
    q.hmp("o /b 0x70 %#x" % CMOS_GO)
    q.hmp("o /b 0x71 1")
    st2 = q.wait_record(8)
    # An operation that ends sets DONE; one that failed also ERROR and the code.
    t.ok(st2 == ST_DONE | ST_ERROR | ERR_DMA_FAULT << 8,
         "%s: a COPY to %#x (beyond -m, not mapped): STATUS DONE | ERROR, code DMA_FAULT" %
         (model, BAD),
         "STATUS %s; %s" % (hex(st2) if st2 is not None else None, CONTEXT))
    fi = q.reg(REG_FAULT_INFO)
    regs = [q.reg64(REG_FAULT_IOVA), q.reg64(REG_DONE_BYTES), q.reg(REG_COMPLETIONS),
            q.reg(REG_ERRORS)]
    t.ok(regs == [BAD, 0, 1, 1] and fi is not None and fi & FI_WRITE and fi >> 24 == EFAULT,
         "%s: FAULT_IOVA = the unmapped address, a write refused with EFAULT, DONE_BYTES 0, "
         "COMPLETIONS 1, ERRORS 1" % model,
         "regs %s FAULT_INFO %s" % ([hex(r) if r is not None else None for r in regs],
                                    hex(fi) if fi is not None else None))
    after2 = q.ram()
    # pmemsave reads [0xa0000, 0x100000) through the memory API too: BAR0's
    # registers and the firmware's shadow, not RAM, so they are left out.
    changed = diff_ranges(after1[:HOLE[0]], after2[:HOLE[0]]) + \
        [(a + HOLE[1], b + HOLE[1]) for a, b in diff_ranges(after1[HOLE[1]:], after2[HOLE[1]:])]
    rec2 = (REC + 8, REC + 16)
    t.ok(len(after2) == RAM and all(rec2[0] <= a and b <= rec2[1] for a, b in changed),
         "%s: the faulting DMA changed no guest RAM (all %d MiB compared; only the guest's own "
         "record at %#x may differ)" % (model, MEM_MB, rec2[0]),
         "%s; changed: %s" % (CONTEXT, [(hex(a), hex(b)) for a, b in changed]))

    rc, err, summary = q.finish()
    t.ok(rc == 0 and "Sanitizer" not in err, "%s: quit: exit status 0" % model, (rc, err))
    rd, wr = walks(err, 1), walks(err, 2)
    t.ok(walked(rd, SRC, LEN) and walked(wr, DST, LEN),
         "%s: the trace shows the IOMMU model translating the device's reads of every page of SRC "
         "and writes of every page of DST" % model, err)
    faults = re.findall(r"xlate_fault .* iova=%#x " % BAD, err)
    evts = re.findall(r"smmu_evt smmu=smmu0 type=0x%02x sid=0x[0-9a-f]+ q1=0x[0-9a-f]+ addr=%#x "
                      % (SMMU_EVT_F_TRANSLATION, BAD), err)
    if model == "smmuv3":
        t.ok(len(faults) == 1 and len(evts) == 1 and (fi >> 8) & 0xFFFF == SMMU_EVT_F_TRANSLATION,
             "smmuv3: the walk of %#x faulted once, the SMMU recorded F_TRANSLATION for it, "
             "and FAULT_INFO's reason is that event" % BAD, (hex(fi or 0), err))
    else:
        t.ok(len(faults) == 1 and not evts,
             "vtd: the walk of %#x faulted once (no SMMU here)" % BAD, err)
    # COPY (doc/dmatest.md): each chunk read whole, then written. The first
    # COPY: one read and one write of LEN; the second: a read of LEN, then a
    # write that faults at its first byte.
    m = re.search(r"^ioctls: (\d+) \(ok (\d+)\)$", summary, re.M)
    t.ok(m and m.group(1) == m.group(2) and
         re.search(r"^dma: 4 accesses, %d bytes, 1 faulted$" % (3 * LEN), summary, re.M),
         "%s: summary: every ioctl succeeded; dma: 4 accesses, %d bytes, 1 faulted" %
         (model, 3 * LEN), summary)


t = Tap(2 * 13)
run(t, "smmuv3", "0000:03:00.0", smmu_topo)
run(t, "vtd", "0000:00:01.0", vtd_topo)
shutil.rmtree(tmp, ignore_errors=True)
t.done()
