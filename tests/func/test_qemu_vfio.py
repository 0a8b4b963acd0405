# SPDX-License-Identifier: MIT
"""
An unmodified QEMU (Debian 12's qemu-system-x86_64 7.2: the legacy VFIO
container/group backend, no iommufd) under `uiommu exec`, TCG, with
-device vfio-pci,host=<BDF of an emulated dmatest function>.

QEMU finds the group through the emulated sysfs (stat of
/sys/bus/pci/devices/BDF, readlink of its iommu_group), opens /dev/vfio/N
and /dev/vfio/vfio, maps guest RAM with VFIO_IOMMU_MAP_DMA and realizes the
device. What a user would check, over QMP (the guest CPU never runs, -S):
query-pci lists the dmatest function (vendor 0x5549, device 0x444d) with
its 64 KiB 64-bit BAR0; a config read through ports 0xcf8/0xcfc reaches
the device's config space; once BAR0 is programmed the same way, `xp`
reads the device's registers through it and `info mtree` shows it; `quit`
exits 0. The library's summary and iopt_map / iopt_unmap trace say every
ioctl succeeded and the container's mappings cover guest RAM (-m 64) at
IOVA = guest physical address. Also the default topology on the pc machine,
and a device the topology lacks (QEMU fails).

Skips (1..0) only when qemu-system-x86_64 is not installed;
scripts/install-deps.sh installs it.

In a sanitizer build QEMU runs as qemu_qmp.py says.
"""
import json
import os
import re
import shutil
import signal
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from tap import Tap  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu_qmp  # noqa: E402

uiommu = sys.argv[1]
qemu = qemu_qmp.find_qemu()

MEM_MB = 64
RAM = MEM_MB << 20
VENDOR, DEVICE = 0x5549, 0x444D  # the dmatest function (lib/dev/dmatest/dmatest.h)
BAR0_SIZE = 0x10000
BAR0_GPA = 0xC0000000  # a free guest-physical address below 4 GiB on q35
SLOT = 3  # the guest's 0000:00:03.0
# BAR0 registers: ID ("UIDM"), VERSION, BUF_SIZE, NR_VECTORS.
REGS = [0x4D444955, 1, 0x8000, 2]

# The program's last line of defence: nothing here may hang `make check`.
signal.alarm(120)

t = Tap(14)
tmp = tempfile.mkdtemp(prefix="uiommu-qemu-test.")
topo = os.path.join(tmp, "topo.json")
with open(topo, "w") as f:
    json.dump({"iommus": [{"name": "smmu0", "model": "smmuv3"}],
               "devices": [{"type": "dmatest", "name": "0000:03:00.0", "group": 7}]}, f)


env = qemu_qmp.qemu_env(tmp)


def Qemu(host, machine="q35", config=None, extra=()):
    """QEMU under uiommu exec (-S: the guest CPU never runs), QMP on its stdin/stdout."""
    args = [qemu, "-accel", "tcg", "-machine", machine, "-nodefaults",
            "-display", "none", "-m", str(MEM_MB), "-S",
            "-device", "vfio-pci,host=%s,id=dt0,addr=%#x" % (host, SLOT),
            "-qmp", "stdio", *extra]
    summary = os.path.join(tmp, "summary-%s-%s.txt" % (machine, host))
    return qemu_qmp.Qemu(uiommu, args, env, summary, "iopt_map,iopt_unmap", config, SLOT)


def dt0(q):
    r = q.qmp("query-pci")
    for bus in (r or {}).get("return", []):
        for d in bus["devices"]:
            if d.get("qdev_id") == "dt0":
                return d
    return None


def mappings(err):
    """The container's mappings at the end, from the trace: {iova: (end, prot)}."""
    maps = []  # [start, end) with prot
    for line in err.splitlines():
        m = re.search(r"iopt_map iova=(0x[0-9a-f]+) length=(0x[0-9a-f]+) prot=(0x[0-9a-f]+) ret=0$",
                      line)
        if m:
            s, n, prot = (int(x, 16) for x in m.groups())
            maps.append((s, s + n, prot))
            continue
        m = re.search(r"iopt_unmap iova=(0x[0-9a-f]+) last=(0x[0-9a-f]+) unmapped=\S+ ret=0$", line)
        if m:
            s, last = (int(x, 16) for x in m.groups())
            keep = []
            for a, b, prot in maps:
                if b <= s or a > last:
                    keep.append((a, b, prot))
                    continue
                if a < s:
                    keep.append((a, s, prot))
                if b > last + 1:
                    keep.append((last + 1, b, prot))
            maps = keep
    return sorted(maps)


def covered(maps, start, end, need_prot):
    """Every byte of [start, end) is in a mapping with the prot bits @need_prot."""
    pos = start
    for a, b, prot in maps:
        if a <= pos < b and (prot & need_prot) == need_prot:
            pos = b
        if pos >= end:
            return True
    return pos >= end


# --- q35, a topology file: 0000:03:00.0 in group 7 ------------------------
q = Qemu("0000:03:00.0", config=topo)
up = q.start()
t.ok(up, "q35: QEMU realized vfio-pci under uiommu exec and answers QMP",
     q.greeting if up else q.finish())
d = dt0(q)
t.ok(d is not None and d["id"]["vendor"] == VENDOR and d["id"]["device"] == DEVICE and
     d["id"]["subsystem-vendor"] == VENDOR and d["id"]["subsystem"] == 1 and
     d["class_info"]["class"] == 0xFF00 and d["slot"] == SLOT,
     "query-pci: the dmatest function 5549:444d (subsystem 5549:0001, class ff00)", d)
bar = (d or {}).get("regions", [{}])[0]
t.ok(bar.get("bar") == 0 and bar.get("type") == "memory" and bar.get("mem_type_64") and
     bar.get("size") == BAR0_SIZE and bar.get("address") == -1,
     "query-pci: BAR0, 64-bit memory, 64 KiB, not yet assigned", bar)
ids, class_rev = q.cfg_read(0x00), q.cfg_read(0x08)
t.ok(ids == (DEVICE << 16 | VENDOR) and class_rev == 0xFF000001,
     "config space through ports 0xcf8/0xcfc: IDs and class/revision",
     (hex(ids or 0), hex(class_rev or 0)))
q.cfg_write(0x10, BAR0_GPA)
q.cfg_write(0x14, 0)
q.cfg_write(0x04, 0x0002, "h")  # Memory Space
bar = ((dt0(q) or {}).get("regions") or [{}])[0]
t.ok(bar.get("address") == BAR0_GPA, "BAR0 programmed by config writes", bar)
out = q.hmp("xp /4wx %#x" % BAR0_GPA)
words = [int(x, 16) for x in re.findall(r"0x[0-9a-f]{8}", out.split(":", 1)[-1])]
t.ok(words == REGS, "xp reads the device's registers through BAR0 (ID, VERSION, BUF_SIZE, "
     "NR_VECTORS)", out)
mtree = q.hmp("info mtree").replace("\r", "")
# The registers trap (region reads); the buffer half is the region's mmap (DMATEST_BUF_OFFSET).
t.ok(re.search(r"%016x-%016x \(prio \d+, i/o\): 0000:03:00.0 BAR 0$" %
               (BAR0_GPA, BAR0_GPA + BAR0_SIZE - 1), mtree, re.M) is not None and
     re.search(r"%016x-%016x \(prio \d+, ramd\): 0000:03:00.0 BAR 0 mmaps\[0\]$" %
               (BAR0_GPA + 0x8000, BAR0_GPA + BAR0_SIZE - 1), mtree, re.M) is not None,
     "info mtree: the BAR at its address, its buffer half mmapped",
     "\n".join(line for line in mtree.splitlines() if "BAR" in line))
rc, err, summary = q.finish()
t.ok(rc == 0 and "Sanitizer" not in err, "quit: exit status 0", (rc, err))
t.ok("files: vfio-group 1, vfio-container 1, vfio-device 1" in summary,
     "summary: one group, one container, one device file", summary)
m = re.search(r"^ioctls: (\d+) \(ok (\d+)\)$", summary, re.M)
nmaps = re.search(r"VFIO_IOMMU_MAP_DMA (\d+)", summary)
t.ok(m and m.group(1) == m.group(2) and nmaps and int(nmaps.group(1)) >= 1,
     "summary: every ioctl succeeded, VFIO_IOMMU_MAP_DMA among them", summary)
maps = mappings(err)
mapped = sum(b - a for a, b, _ in maps if a < RAM)
# Linux's IOMMU_READ / IOMMU_WRITE. Below 1 MiB the ROM shadows are read-only.
t.ok(covered(maps, 0, RAM, 1) and covered(maps, 0x100000, RAM, 3) and
     covered(maps, 0, 0xA0000, 3) and mapped >= RAM,
     "the container maps all %d MiB of guest RAM at IOVA = GPA, writable above 1 MiB" % MEM_MB,
     [(hex(a), hex(b), p) for a, b, p in maps])

# --- pc, the default topology: 0000:00:02.0 in group 2 --------------------
q = Qemu("0000:00:02.0", machine="pc")
q.qmp("qmp_capabilities")
d = dt0(q)
rc, err, summary = q.finish()
t.ok(d is not None and d["id"]["vendor"] == VENDOR and d["id"]["device"] == DEVICE,
     "pc, default topology: 0000:00:02.0 realized", d)
t.ok(rc == 0 and "Sanitizer" not in err and "VFIO_IOMMU_MAP_DMA" in summary and
     covered(mappings(err), 0, RAM, 1),
     "pc: exit status 0, guest RAM mapped", (rc, err, summary))

# --- a device the topology lacks ------------------------------------------
q = Qemu("0000:03:01.0", config=topo)
rc, err, summary = q.finish()
t.ok(rc == 1 and "Sanitizer" not in err and "0000:03:01.0" in err and
     "vfio-device" not in summary,
     "a device the topology lacks: QEMU fails (exit status 1), naming it", (rc, err, summary))

shutil.rmtree(tmp, ignore_errors=True)
t.done()
