#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz_vsmmu (the vSMMUv3 front end).

    tests/fuzz/gen_vsmmu_seeds.py   # rewrites tests/fuzz/corpus/fuzz_vsmmu/seed-*

An input is a config byte (bit 0: GBPA bypass at reset; bit 1: recoverable, the
endpoints are a function with ATS + PRI as VSID0 and one that can stall as
VSID1, and DMA runs on the function's thread; with bit 1, bit 2: no reset after
the program, the vSMMU destroyed with whatever still waits; bit 3: host failures, two more bytes: the
record that runs with fail-nth armed and n - 1, see failnth()), then records whose
first byte's bits 2:0 name the kind and bit 3 asks for a driver's value (see
fuzz_vsmmu.c): 0 MMIO write (register index, 8 value bytes), 2 MMIO read,
3 guest RAM word (target, index, 8 bytes), 4 commands at PROD (count in
bits 5:4; per command an opcode index and 16 bytes), 5 DMA (sel, 8 address
bytes, length - 1), 6 poll, 7 GERRORN = GERROR and PROD again.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
VALID = 8

# Indexes into fuzz_vsmmu.c's regs[] (keep in step with it).
R = {name: i for i, name in enumerate([
    'IDR0', 'IDR1', 'IDR5', 'CR0', 'CR0ACK', 'CR1', 'CR2', 'STATUSR', 'GBPA', 'AGBPA',
    'IRQ_CTRL', 'IRQ_CTRLACK', 'GERROR', 'GERRORN', 'GERROR_IRQ_CFG0', 'GERROR_IRQ_CFG1',
    'GERROR_IRQ_CFG2', 'STRTAB_BASE', 'STRTAB_BASE_LO', 'STRTAB_BASE_HI', 'STRTAB_BASE_CFG',
    'CMDQ_BASE', 'CMDQ_BASE_LO', 'CMDQ_BASE_HI', 'CMDQ_PROD', 'CMDQ_CONS', 'EVENTQ_BASE',
    'EVENTQ_BASE_LO', 'EVENTQ_PROD', 'EVENTQ_CONS', 'EVENTQ_PROD_P1', 'EVENTQ_CONS_P1',
    'EVENTQ_IRQ_CFG0', 'EVENTQ_IRQ_CFG1', 'EVENTQ_IRQ_CFG2', 'PRIQ_BASE', 'PRIQ_PROD',
    'PRIQ_CONS', 'PRIQ_PROD_P1', 'PRIQ_CONS_P1', 'PRIQ_IRQ_CFG0', 'PRIQ_IRQ_CFG1', 'RAZ',
    'ID', 'P1_OTHER', 'WIDE_NONE', 'WIDE_P1', 'IDR2', 'IDR3', 'IDR4', 'IIDR', 'AIDR'])}

# Indexes into cmd_ops[].
OPS = ['PREFETCH_CONFIG', 'PREFETCH_ADDR', 'CFGI_STE', 'CFGI_STE_RANGE', 'CFGI_CD',
       'CFGI_CD_ALL', 'TLBI_NH_ALL', 'TLBI_NH_ASID', 'TLBI_NH_VA', 'TLBI_NH_VAA',
       'TLBI_S12_VMALL', 'TLBI_S2_IPA', 'TLBI_NSNH_ALL', 'ATC_INV', 'PRI_RESP', 'RESUME',
       'STALL_TERM', 'SYNC']
C = {name: i for i, name in enumerate(OPS)}

RAM = 0x40000000
CMDQ, EVTQ = RAM + 0x3000, RAM + 0x4000


def q(v):
    return struct.pack('<Q', v & (2**64 - 1))


def wr(reg, v, valid=False):
    return bytes([0 | (VALID if valid else 0), R[reg]]) + q(v)


def rd(reg):
    return bytes([2, R[reg]])


def cmds(lst, valid=True, repeat=None):
    """lst: (opcode index, a, b); with valid, a's bits pick fields (fuzz_vsmmu.c make_cmd).
    repeat: the last command again, up to that many more (bounded by the queue)."""
    out = bytes([4 | (VALID if valid else 0) | (len(lst) - 1) << 4 |
                 (0x40 if repeat is not None else 0)])
    if repeat is not None:
        out += bytes([repeat])
    for op, a, b in lst:
        out += bytes([op]) + q(a) + q(b)
    return out


def dma(dev, mode, addr, length, read=False, pasid=0, pages=False):
    """pasid: 0 (none), 1 or 2 (sel bits 5, 6); pages: length in 256-byte units (sel bit 7)."""
    sel = (dev | mode << 1 | (0x10 if read else 0) | ((0x20 | (pasid - 1) << 6) if pasid else 0) |
           (0x80 if pages else 0))
    return bytes([5, sel]) + q(addr) + bytes([length - 1])


POLL = bytes([6])
RECOVER = bytes([7])


PROBE_EVENTQEN, PROBE_SMMUEN = 9, 10  # probe()'s records that enable the queues, the SMMU
PROBE_N = 11


def probe(cmdq_log2=6, evtq_log2=4):
    """A driver's probe: stream table, queues (raw values), interrupts, enables."""
    return (wr('STRTAB_BASE_CFG', 7) + wr('STRTAB_BASE', RAM) +
            wr('CMDQ_BASE', CMDQ | cmdq_log2) + wr('CMDQ_PROD', 0) + wr('CMDQ_CONS', 0) +
            wr('EVENTQ_BASE', EVTQ | evtq_log2) + wr('EVENTQ_PROD_P1', 0) +
            wr('EVENTQ_CONS_P1', 0) + wr('IRQ_CTRL', 5) + wr('CR0', 0xc) + wr('CR0', 0xd))


# make_cmd's valid fields: a bit 0 -> a vSID, bit 1 which; bit 20 -> ASID 7;
# bit 37 -> IOVA; bit 38 leaf; bit 39 range 31; (a >> 43) % 3 the CS.
# RESUME / PRI_RESP: b bit 0 -> the request the guest was last told of, b bits 2:1 the
# Action / Resp; STALL_TERM: b bit 0 -> VSID1; ATC_INV: (b >> 1) & 7 picks the Size
# (0, 1, 2, 9, 52, 53, 63, 0).
VSID0_A = 1
VSID1_A = 1 | 1 << 1
CFGI_ALL_A = 1 << 39
RECOVERABLE = 2
TEARDOWN = 4
FAILNTH = 8
LIVE = 1
RETRY, ABORT = 1 << 1, 2 << 1
PRI_SUCCESS, PRI_INVALID = 2 << 1, 1 << 1


def ram(target, idx, v):
    """A guest RAM word, the place's good value (fuzz_vsmmu.c op_ram_write)."""
    return bytes([3 | VALID, target, idx]) + q(v)


STE_VSID1 = 3 << 3            # op_ram_write target 24: STE words (24 % 6 = 0) of VSID1 (bit 3)
NESTED_W0 = 0x10100           # STE word 0: the nested one
NESTED_W1 = 0x100             # STE word 1: the nested one (S1STALLD 0, EATS 0)
NESTED_W1_EATS = 0x500        # ... with EATS 0b01
CD_STALL_W0 = 0x100           # CD word 0 with S (stall)


def s1_page(slot, page):
    """A stage-1 L3 descriptor: IOVA + 0x1000 * (slot - 256) -> BUF_GPA + 0x1000 * page."""
    return ram(2, 3, slot << 32 | page << 3)


def stalls_on():
    """VSID1 nested over a CD with S = 1, its STE re-read: its faults stall."""
    return (ram(STE_VSID1, 0, NESTED_W0) + ram(STE_VSID1, 1, NESTED_W1) +
            ram(1, 0, CD_STALL_W0) +
            cmds([(C['CFGI_STE'], VSID1_A | 1 << 38, 0), (C['CFGI_CD'], VSID1_A, 0),
                  (C['SYNC'], 0, 0)]))


def priq_on(log2=3):
    """The PRI queue, its interrupt, PRIQEN."""
    return (wr('PRIQ_BASE', log2 - 1, valid=True) + wr('PRIQ_PROD_P1', 0) +
            wr('PRIQ_CONS_P1', 0) + wr('IRQ_CTRL', 7) + wr('CR0', 0xf))


def failnth(cfg, step, n, body):
    """Config bit 3: record @step runs with the n-th allocation of the host calls failing."""
    return bytes([cfg | FAILNTH, step, n - 1]) + body


def write(name, data):
    d = os.path.join(HERE, 'corpus', 'fuzz_vsmmu')
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'seed-' + name), 'wb') as f:
        f.write(bytes(data))


def main():
    # Enable + CFGI_STE of VSID0 + SYNC, then a nested DMA at IOVA and a read back.
    write('enable-nested-dma', bytes([0]) + probe() +
          cmds([(C['CFGI_STE'], VSID0_A | 1 << 38, 0), (C['SYNC'], 0, 0)]) +
          dma(0, 0, 0x800, 64) + dma(0, 0, 0x1000, 128, read=True) + POLL)
    # Bypass at reset, GBPA updates, DMA at GPAs while SMMUEN = 0.
    write('gbpa-bypass', bytes([1]) + dma(0, 2, 0x2000, 32) + wr('GBPA', 1 << 31 | 1 << 20) +
          dma(1, 2, 0x3000, 32) + wr('GBPA', 1 << 31) + dma(1, 3, 8, 16) + dma(0, 4, 8, 16))
    # An illegal command (TLBI_S2_IPA: no stage 2) between good ones, then the recovery.
    write('illegal-command', bytes([0]) + probe() +
          cmds([(C['TLBI_NH_ASID'], 1 << 20, 0), (C['TLBI_S2_IPA'], 0, 0x1000),
                (C['SYNC'], 0, 0)]) + rd('CMDQ_CONS') + rd('GERROR') + RECOVER +
          cmds([(0xff, 0x7f, 0)], valid=False) + RECOVER)
    # An event queue of two entries overflowing: faults at unmapped IOVAs, polls, OVACK.
    write('evtq-overflow', bytes([0]) + probe(evtq_log2=1) +
          cmds([(C['CFGI_STE'], VSID0_A, 0), (C['SYNC'], 0, 0)]) +
          b''.join(dma(0, 7, 0x400000 + 0x1000 * i, 8) for i in range(4)) + POLL +
          rd('EVENTQ_PROD_P1') + wr('EVENTQ_CONS_P1', 0, valid=True) +
          b''.join(dma(0, 7, 0x500000 + 0x1000 * i, 8) for i in range(3)) + POLL)
    # A 2-level stream table and CFGI_ALL, then DMA of both streams.
    write('two-level', bytes([0]) + probe() + wr('CR0', 0xc) +
          wr('STRTAB_BASE_CFG', 1, valid=True) + wr('STRTAB_BASE', 1, valid=True) +
          wr('CR0', 0xd) + cmds([(C['CFGI_STE_RANGE'], CFGI_ALL_A, 0), (C['SYNC'], 0, 0)]) +
          dma(0, 0, 0x40, 64) + dma(1, 0, 0x40, 64))
    # A command queue outside RAM (CERROR_ABT), CMD_SYNC MSIs into RAM and the doorbell.
    write('cmdq-abort-msi', bytes([0]) + probe() +
          cmds([(C['SYNC'], 1 << 43 | 1 << 45, 0x18), (C['SYNC'], 1 << 43 | 3 << 45, 0)]) +
          wr('CR0', 0x5) + wr('CMDQ_BASE', 0x10000004) + wr('CMDQ_CONS', 0) +
          wr('CMDQ_PROD', 0) + wr('CR0', 0xd) + wr('CMDQ_PROD', 1) + rd('CMDQ_CONS') +
          RECOVER)
    # The guest rewrites its CD and stage-1 tables, then TLBIs and DMA.
    write('tables', bytes([0]) + probe() +
          cmds([(C['CFGI_STE'], VSID0_A, 0), (C['SYNC'], 0, 0)]) +
          bytes([3 | VALID, 1, 0]) + q(0) + bytes([3 | VALID, 2, 3]) + q(1 | 8 * 5) +
          cmds([(C['CFGI_CD'], VSID0_A, 0), (C['TLBI_NH_VA'], 1 << 20 | 1 << 37, 0),
                (C['SYNC'], 0, 0)]) + dma(0, 1, 0x2800, 64) + POLL)
    # A full queue of 256 TLBIs (batches beyond the 64 of one IOMMU_HWPT_INVALIDATE), a
    # CMD_SYNC whose MSI goes nowhere (GERROR.MSI_CMDQ_ABT_ERR), the IDs read.
    write('full-queue', bytes([0]) + probe(cmdq_log2=8) +
          cmds([(C['TLBI_NH_ASID'], 1 << 20, 0)], repeat=254) +
          cmds([(C['SYNC'], 1 << 43 | 3 << 45, 0)]) + rd('GERROR') + RECOVER +
          rd('IDR2') + rd('IIDR') + rd('AIDR') + rd('WIDE_NONE') + wr('WIDE_P1', 1))
    # A bypass STE of VSID0 with SMMUEN = 1: stage 2 only.
    write('ste-bypass', bytes([0]) + probe() +
          bytes([3 | VALID, 0, 0]) + q(0x1200) +  # w0s[1]: V, Config bypass
          cmds([(C['CFGI_STE'], VSID0_A, 0), (C['SYNC'], 1 << 43, 0)]) +
          dma(0, 2, 0x20000, 64) + POLL)
    # Recoverable inputs (config bit 1).
    # A stall (CD.S, S1STALLD = 0) at an unmapped page, its record; RESUMEs naming another STAG
    # or the other stream and a STALL_TERM of the other stream are ignored; the guest maps the
    # page and resumes (Retry): the DMA completes; the same RESUME again is ignored.
    write('stall-resume', bytes([RECOVERABLE]) + probe() + stalls_on() +
          dma(1, 1, 0x3000, 64) + POLL +
          cmds([(C['RESUME'], VSID1_A, 0x77 << 16 | RETRY), (C['RESUME'], VSID0_A, ABORT),
                (C['STALL_TERM'], VSID0_A, 0), (C['SYNC'], 0, 0)]) + s1_page(258, 2) +
          cmds([(C['RESUME'], 0, LIVE | RETRY), (C['SYNC'], 0, 0)]) +
          cmds([(C['RESUME'], 0, LIVE | RETRY), (C['SYNC'], 0, 0)]) +
          dma(1, 1, 0x3000, 64, read=True) + POLL)
    # A stall answered twice while a page request waits: the first RESUME (Abort) ends the stall
    # and frees its fault-queue cookie, the page request that comes next gets that cookie, and the
    # second RESUME of the same STAG must not answer it. (VSID0's DMA at IOVA first, so that the
    # SMMU has its CD cached before stalls_on() sets CD.S in it.)
    write('double-resume', bytes([RECOVERABLE]) + probe() + priq_on() + dma(0, 0, 0, 8) +
          stalls_on() + dma(1, 1, 0x3000, 64) + POLL +
          cmds([(C['RESUME'], 0, LIVE | ABORT), (C['SYNC'], 0, 0)]) +
          dma(0, 1, 0x3000, 64) + POLL +
          cmds([(C['RESUME'], 0, LIVE | ABORT), (C['SYNC'], 0, 0)]) +
          cmds([(C['PRI_RESP'], 0, LIVE | PRI_INVALID), (C['PRI_RESP'], 0, LIVE | PRI_INVALID),
                (C['SYNC'], 0, 0)]) +
          dma(0, 1, 0x3000, 64) + POLL +
          cmds([(C['PRI_RESP'], 0, LIVE | PRI_INVALID), (C['SYNC'], 0, 0)]))
    # A stall the guest was told of, ended when the guest rewrites the stream's STE (CFGI_STE: a
    # new HWPT, iommufd answers what came through the old one); the page request that comes next
    # gets its cookie, and a RESUME of the old STAG must not answer it.
    write('resume-after-cfgi', bytes([RECOVERABLE]) + probe() + priq_on() + dma(0, 0, 0, 8) +
          stalls_on() + dma(1, 1, 0x3000, 64) + POLL +
          cmds([(C['CFGI_STE'], VSID1_A | 1 << 38, 0), (C['SYNC'], 0, 0)]) +
          dma(0, 1, 0x3000, 64) + POLL +
          cmds([(C['RESUME'], 0, LIVE | RETRY), (C['STALL_TERM'], 0, LIVE), (C['SYNC'], 0, 0)]) +
          cmds([(C['PRI_RESP'], 0, LIVE | PRI_INVALID), (C['SYNC'], 0, 0)]))
    # A stall ended by CMD_STALL_TERM; a second one by RESUME Abort, answered twice.
    write('stall-terminate', bytes([RECOVERABLE]) + probe() + stalls_on() +
          dma(1, 1, 0x3000, 64) + POLL +
          cmds([(C['STALL_TERM'], 0, LIVE), (C['SYNC'], 0, 0)]) +
          dma(1, 1, 0x3800, 8, read=True) + POLL +
          cmds([(C['RESUME'], 0, LIVE | ABORT), (C['RESUME'], 0, LIVE | ABORT),
                (C['SYNC'], 0, 0)]) + dma(1, 1, 0x4000, 8) + POLL)
    # A page request (ATS + PRI, EATS 0b01) at an unmapped page, its PRI record; PRI_RESPs naming
    # another PRGI or the other stream are ignored; the guest maps the page and answers Success: the DMA completes; the same PRI_RESP again is ignored; a
    # second request answered Invalid.
    write('pri-response', bytes([RECOVERABLE]) + probe() + priq_on() +
          dma(0, 1, 0x3000, 64) + POLL +
          cmds([(C['PRI_RESP'], VSID0_A, 0x1ff << 16 | PRI_INVALID),
                (C['PRI_RESP'], VSID1_A, PRI_INVALID), (C['SYNC'], 0, 0)]) + s1_page(258, 2) +
          cmds([(C['PRI_RESP'], 0, LIVE | PRI_SUCCESS), (C['SYNC'], 0, 0)]) +
          cmds([(C['PRI_RESP'], 0, LIVE | PRI_SUCCESS), (C['SYNC'], 0, 0)]) +
          dma(0, 1, 0x4000, 16) + POLL + wr('PRIQ_CONS_P1', 0, valid=True) +
          cmds([(C['PRI_RESP'], 0, LIVE | PRI_INVALID), (C['SYNC'], 0, 0)]) + POLL)
    # A PRI queue of two entries the guest never reads: two requests reach it, the third finds
    # it full (PRIQ_PROD.OVFLG, answered Success by the vSMMU, the device asks again and again).
    write('priq-overflow', bytes([RECOVERABLE]) + probe() + priq_on(log2=1) +
          b''.join(dma(0, 1, 0x3000 + 0x1000 * i, 8) + POLL +
                   cmds([(C['PRI_RESP'], 0, LIVE | PRI_INVALID), (C['SYNC'], 0, 0)])
                   for i in range(2)) +
          dma(0, 1, 0x3000, 8) + POLL + POLL + rd('PRIQ_PROD_P1') +
          wr('PRIQ_CONS_P1', 0, valid=True) + POLL +
          cmds([(C['PRI_RESP'], 0, LIVE | PRI_INVALID), (C['SYNC'], 0, 0)]))
    # A DMA over 0x100000..0x104fff (pages 2..4 not mapped): one page request group of three
    # records (Last on the third), answered once; page 2 mapped meanwhile, so the device's
    # next group names pages 3 and 4, answered Invalid. Then a queue of two and a DMA over
    # 0x102000..0x105fff: its group of three (pages 3 to 5) is cut (two records, no Last,
    # OVFLG), the vSMMU answers it Success, the device asks again; the guest acknowledges.
    write('pri-group', bytes([RECOVERABLE]) + probe() + priq_on() +
          dma(0, 0, 0x0, 0x50, pages=True) + POLL + s1_page(258, 2) +
          cmds([(C['PRI_RESP'], 0, LIVE | PRI_SUCCESS), (C['SYNC'], 0, 0)]) + POLL +
          cmds([(C['PRI_RESP'], 0, LIVE | PRI_INVALID), (C['SYNC'], 0, 0)]) +
          wr('PRIQ_CONS_P1', 0, valid=True) + wr('CR0', 0xd) + priq_on(log2=1) +
          dma(0, 1, 0x3000, 0x40, pages=True) + POLL + rd('PRIQ_PROD_P1') +
          wr('PRIQ_CONS_P1', 0, valid=True) + POLL +
          cmds([(C['PRI_RESP'], 0, LIVE | PRI_INVALID), (C['SYNC'], 0, 0)]) + POLL)
    # A PRI queue outside RAM: GERROR.PRIQ_ABT_ERR and the request answered Invalid; while the
    # error is active the next one is answered without a record; the guest acknowledges, moves
    # the queue into RAM (PRIQEN = 0 meanwhile: PRIQ_BASE is read-only while it is 1).
    write('priq-abort', bytes([RECOVERABLE]) + probe() + wr('PRIQ_BASE', 0x10000000 | 3) +
          wr('PRIQ_PROD_P1', 0) + wr('PRIQ_CONS_P1', 0) + wr('IRQ_CTRL', 7) + wr('CR0', 0xf) +
          dma(0, 1, 0x3000, 8) + POLL + rd('GERROR') + dma(0, 1, 0x3000, 8) + POLL +
          RECOVER + wr('CR0', 0xd) + wr('PRIQ_BASE', 2, valid=True) + wr('PRIQ_PROD_P1', 0) +
          wr('PRIQ_CONS_P1', 0) + wr('CR0', 0xf) + dma(0, 1, 0x3000, 8) + POLL +
          cmds([(C['PRI_RESP'], 0, LIVE | PRI_SUCCESS), (C['SYNC'], 0, 0)]))
    # A stall and a page request the guest was told of and never answers, then the vSMMU is
    # destroyed without a reset: its teardown answers both.
    # (The page request first: stalls_on()'s CD.S is VSID0's CD too, and a stalling CD is
    # C_BAD_CD for a stream that cannot stall.)
    write('teardown-waiting', bytes([RECOVERABLE | TEARDOWN]) + probe() + priq_on() +
          dma(0, 1, 0x4000, 64) + POLL + stalls_on() + dma(1, 1, 0x3000, 64) + POLL)
    # ATS: a translation through the ATC, the guest moves the page and invalidates its TLB only
    # (the ATC is stale), then ATC_INV of everything and CMD_SYNC; ATC_INV Size 53, which the
    # host refuses (CERROR_ILL), and the recovery.
    write('ats-atc-inv', bytes([RECOVERABLE]) + probe() +
          dma(0, 0, 0, 64) + ram(2, 3, 1 | 3 << 3) +
          cmds([(C['TLBI_NH_ASID'], 1 << 20, 0), (C['SYNC'], 0, 0)]) + dma(0, 0, 0, 64) +
          cmds([(C['ATC_INV'], VSID0_A | 1 << 37, 4 << 1), (C['SYNC'], 0, 0)]) +
          dma(0, 0, 0x40, 64) +
          cmds([(C['ATC_INV'], VSID0_A, 5 << 1), (C['SYNC'], 0, 0)]) + rd('GERROR') + RECOVER +
          POLL)
    # An event queue of two entries: a stall told, then F_BAD_ATS_TREQ records of VSID0 (EATS 0)
    # overflow it while the stall waits; the guest aborts the stall and acknowledges; a stall
    # that finds the queue full is terminated by the vSMMU.
    write('evtq-overflow-stall', bytes([RECOVERABLE]) + probe(evtq_log2=1) + stalls_on() +
          dma(1, 1, 0x3000, 64) + POLL +
          ram(0, 1, NESTED_W1) + cmds([(C['CFGI_STE'], VSID0_A, 0), (C['SYNC'], 0, 0)]) +
          b''.join(dma(0, 0, 0x100 * i, 8) for i in range(3)) + POLL +
          cmds([(C['RESUME'], 0, LIVE | ABORT), (C['SYNC'], 0, 0)]) +
          dma(1, 1, 0x3000, 64) + POLL +
          wr('EVENTQ_CONS_P1', 0, valid=True) + dma(1, 1, 0x3000, 64) + POLL +
          cmds([(C['RESUME'], 0, LIVE | RETRY), (C['SYNC'], 0, 0)]))

    # PASID stalls: VSID1's STE with S1CDMax 2 (a linear CD table of 4), CD 1 a stalling CD;
    # a DMA with PASID 1 stalls (the record has SSV and the SSID), the guest maps the page and
    # resumes it; one with PASID 2 (CD 2 invalid) is C_BAD_CD with SSV; PASID 0 (the STE's
    # S1DSS: terminate) aborts.
    write('stall-pasid', bytes([RECOVERABLE]) + probe() +
          ram(STE_VSID1, 0, 0x102) + ram(STE_VSID1, 1, NESTED_W1) +
          b''.join(ram(1, 8 + w, CD_STALL_W0) for w in range(8)) +
          cmds([(C['CFGI_STE'], VSID1_A | 1 << 38, 0), (C['CFGI_CD_ALL'], VSID1_A, 0),
                (C['SYNC'], 0, 0)]) +
          dma(1, 1, 0x3000, 64, pasid=1) + POLL + s1_page(258, 2) +
          cmds([(C['RESUME'], 0, LIVE | RETRY), (C['SYNC'], 0, 0)]) +
          dma(1, 0, 0x40, 8, pasid=2) + POLL + dma(1, 0, 0x40, 8) + POLL)

    # Host failures (config bit 3): one record runs with the n-th allocation of the vSMMU's host
    # calls failing (ENOMEM; iommufd's object lookups count too and fail as ENOENT), on this
    # thread or, for a DMA, on the function's; the VMM sees the errno, the guest what the
    # architecture gives it, and the reset and teardown find nothing left over.
    # SMMUEN = 1: the nested HWPT of VSID0 (ENOMEM: the endpoint aborts until the next CFGI_STE;
    # ENOENT: the kernel refused the vSTE, C_BAD_STE).
    enable = probe() + cmds([(C['CFGI_STE'], VSID0_A | 1 << 38, 0), (C['SYNC'], 0, 0)]) + \
        dma(0, 0, 0x800, 64) + POLL
    write('failnth-smmuen-nomem', failnth(0, PROBE_SMMUEN, 3, enable))
    write('failnth-smmuen-noent', failnth(0, PROBE_SMMUEN, 5, enable))
    # EVENTQEN = 1: the vEVENTQ's allocation.
    write('failnth-veventq', failnth(0, PROBE_EVENTQEN, 2, probe() + dma(0, 7, 0x400000, 8) +
                                     POLL + RECOVER + wr('CR0', 0x9) + wr('CR0', 0xd) + POLL))
    # A command batch: CFGI_STE's HWPT, the forwarded TLBI / CFGI_CD; the retry at PROD.
    batch = probe() + cmds([(C['CFGI_STE'], VSID0_A, 0), (C['TLBI_NH_ASID'], 1 << 20, 0),
                            (C['CFGI_CD'], VSID0_A, 0), (C['SYNC'], 0, 0)])
    write('failnth-cmds-nomem', failnth(0, PROBE_N, 3, batch + rd('CMDQ_CONS') + RECOVER +
                                        dma(0, 0, 0x800, 64)))
    write('failnth-cmds-noent', failnth(0, PROBE_N, 6, batch + rd('CMDQ_CONS') + RECOVER +
                                        dma(0, 0, 0x800, 64)))
    # Recoverable, SMMUEN = 1: VSID0's STE (EATS, PRI) wants the host fault queue first, and its
    # allocation fails; the PRI DMA then aborts (no fault queue behind its HWPT) until the reset.
    write('failnth-fault-queue-enable',
          failnth(RECOVERABLE, PROBE_SMMUEN, 1, probe() + priq_on() + dma(0, 1, 0x3000, 64) + POLL +
                  cmds([(C['PRI_RESP'], 0, LIVE | PRI_SUCCESS), (C['SYNC'], 0, 0)])))
    # Stalls: the stalling STE's nested HWPT at CFGI_STE, the pump's read of the fault queue, the
    # DMA's own.
    stall = probe() + stalls_on() + dma(1, 1, 0x3000, 64) + POLL + POLL + \
        cmds([(C['RESUME'], 0, LIVE | RETRY), (C['SYNC'], 0, 0)])
    write('failnth-cfgi-stall', failnth(RECOVERABLE, PROBE_N + 3, 3, stall))
    write('failnth-poll-stall', failnth(RECOVERABLE, PROBE_N + 5, 1, stall))
    write('failnth-dma-stall', failnth(RECOVERABLE, PROBE_N + 4, 1, stall))
    # PRI: the function's page request fails on its own thread.
    write('failnth-dma-pri', failnth(RECOVERABLE, PROBE_N + 5, 2, probe() + priq_on() +
                                     dma(0, 1, 0x3000, 64) + POLL +
                                     cmds([(C['PRI_RESP'], 0, LIVE | PRI_SUCCESS),
                                           (C['SYNC'], 0, 0)])))


if __name__ == '__main__':
    main()
