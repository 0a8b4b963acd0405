#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpora of the SMMUv3 fuzz targets.

    tests/fuzz/gen_smmu_seeds.py   # rewrites tests/fuzz/corpus/fuzz_smmuv3_{cmdq,ste}/seed-*

fuzz_smmuv3_cmdq: a config byte (queue LOG2SIZE - 1 in % 6, stages in
(b >> 3) % 3), then records (see fuzz_smmuv3_cmdq.c). fuzz_smmuv3_ste: an
8-byte header, 8 transactions, 8 STEs, then one 4 KiB page of guest memory
that the target repeats over all of guest RAM, so a walk whose tables are
"page 1, page 2, ..." uses a different index of the same image at each
level (see fuzz_smmuv3_ste.c).
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'seed-' + name), 'wb') as f:
        f.write(bytes(data))


def q(v):
    return struct.pack('<Q', v & (2**64 - 1))


# ------------------------------------------------------------ cmdq ---
SYNC, SYNC_IRQ = 0x46, 0x46 | 1 << 12
CFGI_STE, CFGI_STE_RANGE, CFGI_CD, CFGI_CD_ALL = 0x03, 0x04, 0x05, 0x06
NH_ALL, NH_ASID, NH_VA, NH_VAA, S12_VMALL, S2_IPA, NSNH = 0x10, 0x11, 0x12, 0x13, 0x28, 0x2a, 0x30


def cmd(c0, c1=0):
    return bytes([0]) + q(c0) + q(c1)          # op 0: one command, PROD + 1


def batch(cmds):
    out = bytes([4, len(cmds) - 1])
    for c0, c1 in cmds:
        out += q(c0) + q(c1)
    return out


def reg(sel, v):
    return bytes([5, sel]) + q(v)


def txn(sel, off):
    return bytes([6, sel]) + q(off)


def cmdq():
    t = 'fuzz_smmuv3_cmdq'
    both, s1, s2 = 0 << 3, 1 << 3, 2 << 3
    known = txn(1, 0x1230) + txn(2, 0x4560) + txn(3, 0x8008)
    # The usual invalidation sequences of a driver, then translations.
    write(t, 'driver-sequence', [3 | both] + list(
        known + batch([(CFGI_STE | 1 << 32, 1), (SYNC, 0)]) + known +
        batch([(NH_VA | 7 << 32 | 5 << 48, 0x10001000 | 1), (NH_ASID | 7 << 32 | 5 << 48, 0),
               (S2_IPA | 3 << 32, 0x20002000), (S12_VMALL | 3 << 32, 0),
               (SYNC_IRQ | 0x1234 << 32, 0x40)]) + known +
        batch([(NH_VA | 1 << 12 | 7 << 32 | 5 << 48, 0x10000000 | 1 << 10 | 3 << 8),
               (CFGI_CD | 1 << 32, 1), (CFGI_CD_ALL | 2 << 32, 0), (CFGI_STE_RANGE, 31),
               (NSNH, 0), (SYNC, 0)]) + known))
    # An illegal command, the error acknowledged without fixing it, then fixed.
    write(t, 'illegal-ack', [2 | both] + list(
        cmd(0xff) + cmd(SYNC) + reg(4, 0) + cmd(NH_ALL | 1 << 10) + reg(0x84, 0) + known))
    # Stage-specific commands on one-stage SMMUs.
    write(t, 's1-only', [4 | s1] + list(cmd(S12_VMALL | 3 << 32) + cmd(NH_ALL) + known))
    write(t, 's2-only', [4 | s2] + list(cmd(NH_VA) + cmd(S2_IPA | 3 << 32) + known))
    # The queue moved: a smaller queue in the area, a base outside memory, CONS rewritten.
    write(t, 'rebase', [5 | both] + list(
        reg(2, 0) + reg(3, 0x1000 | 3) + reg(1, 0) + reg(2, 0xd) + cmd(SYNC) +
        reg(2, 0x5) + reg(0x83, 0x7000000000 | 4) + reg(2, 0xd) + cmd(SYNC) + known))
    # PROD moved far ahead over empty (illegal, opcode 0) slots, and a queue overrun.
    write(t, 'prod-ahead', [1 | both] + list(
        reg(0, 0x3) + batch([(SYNC, 0)] * 6) + reg(6, 5) + reg(7, 0x80100000) + known))


# ------------------------------------------------------------- ste ---
GRAM = 0x80000000
PAGE = 0x1000
NO_SSID = 0x800000
R, W, X, U = 1, 2, 4, 8


def hdr(flags, b1=4, b2=0, b3=0):
    return bytes([flags, b1, b2, b3, 0, 0, 0, 0])


def t_(sid, addr, access=R, ssid=NO_SSID):
    return bytes([sid]) + ssid.to_bytes(3, 'little') + bytes([access, 0, 0, 0]) + q(addr)


def ste(cfg, ptr=0, cdmax=0, fmt=0, s1dss=0, vmid=1, s2r=True):
    q0 = 1 | cfg << 1 | fmt << 4 | ptr | cdmax << 59
    return q(q0) + q(s1dss) + q(vmid | (1 << 58 if s2r else 0)) + bytes(40)


# T0SZ 16, EPD1, V, IPS 48, AA64, R, A
CD0 = 16 | 1 << 30 | 1 << 31 | 5 << 32 | 1 << 41 | 1 << 45 | 1 << 46
# TTB1 only: EPD0, T1SZ 16, TG1 4K (0b10), TBI1, V, IPS 48, AA64, R, A
CD0_TTB1 = 1 << 14 | 16 << 16 | 2 << 22 | 1 << 31 | 5 << 32 | 1 << 39 | 1 << 41 | 1 << 45 | 1 << 46


class Page:
    def __init__(self):
        self.b = bytearray(PAGE)

    def put(self, off, v):
        self.b[off:off + 8] = q(v)


def iova4(i0, i1, i2, i3, off=0x10):
    return i0 << 39 | i1 << 30 | i2 << 21 | i3 << 12 | off


def ste_target():
    t = 'fuzz_smmuv3_ste'
    # One image: L0[1] -> page 1, L1[2] -> page 2, L2[3] -> page 3, L3[4] -> page 5 (RW),
    # L3[5] -> page 0x11 (read-only part), L3[6] -> page 0x15 (the hole), L2[7] -> page 0x16
    # (a table in the hole: stage-2 fault, CLASS TT), L3[8] -> page 9 with AF clear.
    # CDs at 0xe00 (ASID 1), 0xe40 (EPD0), 0xe80 (V = 0); L1CD at 0xf00.
    pg = Page()
    pg.put(1 * 8, GRAM + 1 * PAGE | 3)
    pg.put(2 * 8, GRAM + 2 * PAGE | 3)
    pg.put(3 * 8, GRAM + 3 * PAGE | 3)
    pg.put(7 * 8, GRAM + 0x16 * PAGE | 3)
    leaf = 3 | 1 << 10 | 3 << 8
    pg.put(4 * 8, GRAM + 5 * PAGE | leaf)
    pg.put(5 * 8, GRAM + 0x11 * PAGE | leaf)
    pg.put(6 * 8, GRAM + 0x15 * PAGE | leaf)
    pg.put(8 * 8, GRAM + 9 * PAGE | 3 | 3 << 8)
    pg.put(0xe00, CD0 | 1 << 48)
    pg.put(0xe08, GRAM)
    pg.put(0xe40, CD0 | 1 << 14 | 2 << 48)
    pg.put(0xe48, GRAM)
    pg.put(0xe80, 0)
    pg.put(0xf00, GRAM | 1)                      # L1CD: -> page 0 (CDs at SSID 56..)
    body = bytes(pg.b)
    a_ok = iova4(1, 2, 3, 4)
    txns = (t_(1, a_ok, R) + t_(1, a_ok, W) + t_(1, iova4(1, 2, 3, 5), W) +
            t_(1, iova4(1, 2, 3, 6), R) + t_(1, iova4(1, 2, 7, 0), R) +
            t_(1, iova4(1, 2, 3, 8), R) + t_(2, GRAM + 0x3008, W) + t_(3, a_ok, R, 1))
    stes = (ste(0) + ste(7, GRAM + 0xe00) + ste(6) + ste(7, GRAM + 0xe00, cdmax=2, s1dss=2) +
            ste(7, GRAM + 0xe40) + ste(7, GRAM + 0xe80) + ste(7, GRAM + 0x15 * PAGE) +
            ste(7, GRAM + 0xf00, cdmax=7, fmt=1, s1dss=1))
    write(t, 'nested-4k', hdr(0x04) + txns + stes + body)
    write(t, 'nested-4k-nocache', hdr(0x0c) + txns + stes + body)
    write(t, 'nested-4k-steered', hdr(0x00) + txns + stes + body)
    # Substreams: linear CD table at 0xe00 (SSID 0 = ASID 1, 1 = EPD0, 2 = V 0), and a
    # 2-level table (S1Fmt 0b01: L1CD[0] at 0xf00 -> page 0, SSID 56 = CD at 0xe00).
    txns = (t_(3, a_ok, R, 0) + t_(3, a_ok, R, 1) + t_(3, a_ok, R, 2) + t_(3, a_ok, R) +
            t_(7, a_ok, R, 56) + t_(7, a_ok, R, 57) + t_(7, GRAM + 0x3000, R) +
            t_(7, a_ok, R, 64))
    write(t, 'substreams', hdr(0x04) + txns + stes + body)
    # 2-level stream table: L1STD 0 Span 3 (4 STEs), L1STD 1 Span 0; SPLIT 6.
    txns = b''.join(t_(sid, a_ok, R) for sid in (0, 1, 2, 3, 4, 5, 6, 8))
    write(t, 'strtab-2level', hdr(0x05, 3, 0, 0) + txns + stes + body)
    # TTB1 (CD at 0xec0, TTB1 = the same tables, TBI1): a TTB1-range VA, a tagged one, one in
    # the gap, one with bit 55 clear (TTB0's range, disabled by EPD0).
    pg.put(0xec0, CD0_TTB1 | 3 << 48)
    pg.put(0xed0, GRAM)
    body = bytes(pg.b)
    hi = 0xffff << 48
    txns = (t_(4, hi | a_ok, R) + t_(4, hi | a_ok, W) + t_(4, 0x5aff << 48 | a_ok, R) +
            t_(4, 0xfffe << 48 | a_ok, R) + t_(4, a_ok, R) + t_(4, hi | iova4(1, 2, 3, 6), R) +
            t_(1, hi | a_ok, R) + t_(1, a_ok, R))
    stes_ttb1 = (ste(0) + ste(7, GRAM + 0xe00) + ste(6) + ste(0) + ste(7, GRAM + 0xec0) +
                 ste(0) * 3)
    write(t, 'ttb1', hdr(0x04) + txns + stes_ttb1 + body)
    # Raw STEs: bypass and stage-1-only configurations, outputs not checked.
    stes_raw = (ste(4) + ste(5, GRAM + 0xe00) + ste(7, GRAM + 0xe00) + ste(0) * 5)
    write(t, 'raw-stes', hdr(0x06) + txns + stes_raw + body)


if __name__ == '__main__':
    cmdq()
    ste_target()
