#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpora of the page-table walker fuzz targets.

Each seed is the 32-byte header fuzz_pt_walk.c decodes, then the table
memory: small, valid table chains (and a few near-misses) so that the
fuzzer starts from walks that reach the last level. Run from anywhere:

    tests/fuzz/gen_seeds.py        # rewrites tests/fuzz/corpus/<target>/seed-*
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
R, W, X, U = 1, 2, 4, 8
HIGH_BASE = 0x80000000  # sel bit 4


def header(sel=0, flags=0, g=0, ias=0, oas=0, sl0=0, levels=0, access=R,
           iova=0, base=0, root=0, race=0, bit1=0, bit2=0):
    """All fields are the raw header bytes / words (see fuzz_pt_walk.c)."""
    return struct.pack('<8BQQQ8B', sel, flags, g, ias, oas, sl0, levels, access,
                       iova, base, root, race, bit1, bit2, 0, 0, 0, 0, 0)


class Mem:
    def __init__(self, size, base=0):
        self.b = bytearray(size)
        self.base = base

    def put(self, pa, val, big=False):
        off = pa - self.base
        self.b[off:off + 8] = struct.pack('>Q' if big else '<Q', val)


def write(target, name, hdr, mem):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'seed-' + name), 'wb') as f:
        f.write(hdr + bytes(mem.b))


# ---------------------------------------------------------------- VMSA ---
# granule byte: {12, 14, 16}[b % 3]; ias byte: ias - 25;
# oas byte: {32, 36, 40, 42, 44, 48}[b % 6]; sl0 byte: sl0 + 1; sel bit 0: S2.
def vmsa():
    t = 'fuzz_pt_vmsa'
    # S1 4K 48-bit: L0..L3 at 0, 0x1000, 0x2000, 0x3000; iova 0x1234 -> page 0x5000.
    m = Mem(0x4000)
    m.put(0x0, 0x1000 | 3)
    m.put(0x1000, 0x2000 | 3)
    m.put(0x2000, 0x3000 | 3)
    m.put(0x3008, 0x2000 | 0x703)
    write(t, 's1-4k-page', header(g=0, ias=48 - 25, oas=5, access=R | W, iova=0x1234), m)
    # The same with AF clear and hardware A/D: the walk sets AF by compare-and-swap.
    m.put(0x3008, 0x2000 | 0x303)
    write(t, 's1-4k-httu', header(flags=1, g=0, ias=48 - 25, oas=5, access=R, iova=0x1234), m)
    # ... while another writer sets the contiguous bit (52) of the page
    # descriptor just after the walk read it: the AF update must fail and
    # the walk start again (4 + 4 reads).
    write(t, 's1-4k-httu-race', header(flags=1, g=0, ias=48 - 25, oas=5, access=R,
                                       iova=0x1234, race=4, bit1=52, bit2=52), m)
    # Writable-clean (DBM, AP[2]) page written under HTTU: the walk clears AP[2].
    m.put(0x3008, 0x2000 | 0x783 | (1 << 51))
    write(t, 's1-4k-dbm-write', header(flags=1, g=0, ias=48 - 25, oas=5, access=W,
                                       iova=0x1234), m)
    # Read-only page (AP[2]) and a write: permission fault at level 3.
    m.put(0x3008, 0x2000 | 0x783)
    write(t, 's1-4k-ro-write', header(g=0, ias=48 - 25, oas=5, access=W, iova=0x1234), m)

    # S1 4K 39-bit (3 levels from L1): 1G block in L1 entry 1, arena at 2 GiB.
    m = Mem(0x1000, HIGH_BASE)
    m.put(HIGH_BASE + 8, 0x40000000 | 0x701)
    write(t, 's1-4k-1g-block', header(sel=0x10, g=0, ias=39 - 25, oas=0, access=R,
                                      iova=0x4abcdef0, root=0), m)

    # S1 64K 42-bit: 2 levels (L2, L3). A walk reads one entry per level,
    # so a 4K arena holds both: root entry 1 links the root itself as the
    # level-3 table, whose entry 2 is the 64K page. iova = 1 << 29 | 2 << 16.
    m = Mem(0x1000)
    m.put(0x8, 0x0 | 3)
    m.put(0x10, 0x30000 | 0x703)
    write(t, 's1-64k-self-linked', header(g=2, ias=42 - 25, oas=5, access=R,
                                          iova=(1 << 29) | (2 << 16) | 0x42), m)

    # S2 4K 40-bit SL0=1: root of 2 concatenated L1 tables (8K); IPA
    # 0x80_4020_3abc: root index 0x201, L2 index 1, L3 index 3.
    m = Mem(0x4000)
    m.put(0x201 * 8, 0x2000 | 3)
    m.put(0x2000 + 8, 0x3000 | 3)
    m.put(0x3000 + 3 * 8, 0x1000 | 0x4ff)
    write(t, 's2-4k-concat', header(sel=1, g=0, ias=40 - 25, oas=5, sl0=2, access=W,
                                    iova=0x8040203abc), m)

    # S2 16K 36-bit, deepest start level (sl0 = -1): L2 root of 2^(36-25)
    # entries (16K); its entry 0 links itself as the level-3 table, whose
    # entry 5 is the page.
    m = Mem(0x1000)
    m.put(0x0, 0x0 | 3)
    m.put(5 * 8, 0x0 | 0x4ff)
    write(t, 's2-16k-auto-sl0', header(sel=1, g=1, ias=36 - 25, oas=5, sl0=0, access=R,
                                       iova=5 << 14), m)


# ----------------------------------------------------------------- TCE ---
# granule byte: g - 12; ias byte: ias - g - 1; oas byte: {0, 32, 40, 48,
# 52, 64}[b % 6]; levels byte: levels; iova_base word: 0 window 0, 1 window 1.
WIN1 = 1 << 59


def tce():
    t = 'fuzz_pt_tce'
    # One level, 4K TCEs, 1 MiB window (256 entries): entry 3 -> 0x2000, RW.
    m = Mem(0x1000)
    m.put(3 * 8, 0x2000 | 3, big=True)
    write(t, '1level-4k', header(g=0, ias=20 - 12 - 1, oas=4, levels=1, access=R | W,
                                 iova=0x3abc), m)

    # Three levels over 2 GiB (shifts 26, 19, 12; tables of 256 B, 1K, 1K):
    # iova 0x14483abc, entries 5, 9, 3; tables at 0, 0x400, 0x800.
    m = Mem(0x1000)
    m.put(5 * 8, 0x400 | 3, big=True)
    m.put(0x400 + 9 * 8, 0x800 | 3, big=True)
    m.put(0x800 + 3 * 8, 0x0 | 1, big=True)
    write(t, '3level-4k-ro', header(g=0, ias=31 - 12 - 1, oas=4, levels=3, access=R,
                                    iova=0x14483abc), m)
    write(t, '3level-4k-ro-write', header(g=0, ias=31 - 12 - 1, oas=4, levels=3, access=W,
                                          iova=0x14483abc), m)

    # Five levels over 256 MiB (root index always 0): iova 0x0abcd123,
    # entries 0, 0xa, 0xb, 0xc, 0xd; level d at d * 0x100.
    m = Mem(0x1000)
    m.put(0x000, 0x100 | 3, big=True)
    m.put(0x100 + 0xa * 8, 0x200 | 3, big=True)
    m.put(0x200 + 0xb * 8, 0x300 | 3, big=True)
    m.put(0x300 + 0xc * 8, 0x400 | 3, big=True)
    m.put(0x400 + 0xd * 8, 0xd000 | 2, big=True)
    write(t, '5level-4k-wo', header(g=0, ias=28 - 12 - 1, oas=4, levels=5, access=W,
                                    iova=0x0abcd123), m)

    # Window 1, 64K TCEs, 1 TiB in 2 levels of 2^12 (32K tables): offset
    # 0x123abcd -> root entry 0, which links the root itself as the level-1
    # table, whose entry 0x123 is the TCE. Arena at 2 GiB.
    m = Mem(0x1000, HIGH_BASE)
    m.put(HIGH_BASE, HIGH_BASE | 3, big=True)
    m.put(HIGH_BASE + 0x123 * 8, 0x4560000 | 3, big=True)
    write(t, 'win1-64k-2level', header(sel=0x10, g=16 - 12, ias=40 - 16 - 1, oas=1, levels=2,
                                       access=R, iova=0x123abcd, base=1), m)

    # 16M TCEs over 16 GiB in one level of 1024 entries: entry 3, no R/W.
    m = Mem(0x2000)
    m.put(3 * 8, 0x3000000 | 0xffc, big=True)
    write(t, '1level-16m-not-present', header(g=24 - 12, ias=34 - 24 - 1, oas=3, levels=1,
                                              access=R, iova=0x3000000), m)


# ----------------------------------------------------------- x86 / VT-d --
# granule byte: {0, 12}[b % 2]; ias byte: {39, 48, 57}[b % 3];
# oas byte: {0, 39, 42, 46, 48, 52}[b % 6]; sel bit 0: VT-d second stage.
# Present/R and RW/W are bits 0 and 1 in both, so one chain serves both.
def x86():
    t = 'fuzz_pt_x86'
    # 4 levels (48-bit), tables at 0, 0x1000, 0x2000, 0x3000; iova 0x1234.
    m = Mem(0x4000)
    m.put(0x0, 0x1000 | 7)
    m.put(0x1000, 0x2000 | 7)
    m.put(0x2000, 0x3000 | 7)
    m.put(0x3008, 0x1000 | 7)
    write(t, 'x86-4level', header(g=0, ias=1, oas=5, access=R | W, iova=0x1234), m)
    write(t, 'vtdss-4level', header(sel=1, g=0, ias=1, oas=5, access=R | W, iova=0x1234), m)
    # 5 levels (57-bit): one more table at 0x4000 above.
    m = Mem(0x5000)
    m.put(0x4000, 0x0 | 7)
    m.put(0x0, 0x1000 | 7)
    m.put(0x1000, 0x2000 | 7)
    m.put(0x2000, 0x3000 | 7)
    m.put(0x3008, 0x1000 | 7)
    write(t, 'x86-5level', header(g=0, ias=2, oas=5, access=R, iova=0x1234, root=0x4000), m)
    # 3 levels (39-bit) with a 2M page at level 2 (bit 7), VT-d SS.
    m = Mem(0x2000)
    m.put(0x0, 0x1000 | 3)
    m.put(0x1000 + 8, 0x200000 | 0x83)
    write(t, 'vtdss-3level-2m', header(sel=1, g=0, ias=0, oas=5, access=W,
                                       iova=0x200000 | 0x1234), m)


if __name__ == '__main__':
    vmsa()
    tce()
    x86()
