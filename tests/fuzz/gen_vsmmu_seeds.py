#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz_vsmmu (the vSMMUv3 front end).

    tests/fuzz/gen_vsmmu_seeds.py   # rewrites tests/fuzz/corpus/fuzz_vsmmu/seed-*

An input is a config byte (bit 0: GBPA bypass at reset), then records whose
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


def dma(dev, mode, addr, length, read=False):
    return bytes([5, dev | mode << 1 | (0x10 if read else 0)]) + q(addr) + bytes([length - 1])


POLL = bytes([6])
RECOVER = bytes([7])


def probe(cmdq_log2=6, evtq_log2=4):
    """A driver's probe: stream table, queues (raw values), interrupts, enables."""
    return (wr('STRTAB_BASE_CFG', 7) + wr('STRTAB_BASE', RAM) +
            wr('CMDQ_BASE', CMDQ | cmdq_log2) + wr('CMDQ_PROD', 0) + wr('CMDQ_CONS', 0) +
            wr('EVENTQ_BASE', EVTQ | evtq_log2) + wr('EVENTQ_PROD_P1', 0) +
            wr('EVENTQ_CONS_P1', 0) + wr('IRQ_CTRL', 5) + wr('CR0', 0xc) + wr('CR0', 0xd))


# make_cmd's valid fields: a bit 0 -> a vSID, bit 1 which; bit 20 -> ASID 7;
# bit 37 -> IOVA; bit 38 leaf; bit 39 range 31; (a >> 43) % 3 the CS.
VSID0_A = 1
CFGI_ALL_A = 1 << 39


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


if __name__ == '__main__':
    main()
