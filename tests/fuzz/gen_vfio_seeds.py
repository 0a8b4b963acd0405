#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz_vfio (tests/fuzz/fuzz_vfio.c).

Each seed is a program in the target's encoding: a setup byte, then records
(op, mode, payload) that walk the classic and the nested-stage flows on
the default topology, so the fuzzer starts from programs that reach deep
states (a device open in a nesting container, a PASID table set, the
fault region read, DMA programmed through BAR0). Run from anywhere:

    tests/fuzz/gen_vfio_seeds.py   # rewrites tests/fuzz/corpus/fuzz_vfio/seed-*
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'corpus', 'fuzz_vfio')

# setup byte
GROUP1, NESTING, GROUP2, MAP_SCRATCH = 1, 2, 4, 8
GPA = 0x40000000

# kinds (op bits 2:0) and table indexes (op bits 7:3), as in fuzz_vfio.c
K_CONT, K_GROUP, K_DEV, K_READ, K_WRITE, K_OPEN, K_RAW, K_VALUE = range(8)
C_GET_INFO, C_MAP, C_UNMAP, C_DIRTY, C_PASID, C_INV, C_MSI = range(7)
G_STATUS, G_UNSET, G_SET, G_GET_DEV = range(4)
D_INFO, D_REGION, D_IRQ, D_SET_IRQS, D_RESET = range(5)

# VFIO constants (include/uapi/linux/vfio.h)
IRQ_EVENTFD, IRQ_TRIGGER, IRQ_NONE = 1 << 2, 1 << 5, 1 << 0
MSIX_INDEX, FAULT_IRQ_INDEX = 2, 5
BAR0, CONFIG, FAULT_REGION = 0, 7, 9


def rec(kind, sel=0, mode=0, payload=b''):
    """One ioctl record: op, mode, payload length, payload (other kinds: see
    fuzz_vfio.c, each record starts with op and mode)."""
    assert len(payload) <= 96
    return bytes([kind | sel << 3, mode, len(payload)]) + payload


def dev_ioctl(req, dev=0, payload=b'', mode=0):
    return rec(K_DEV, req, mode | dev << 6, payload)


def region(write, dev, index, off, data=b'', length=None):
    n = len(data) if length is None else length
    return bytes([(K_WRITE if write else K_READ) | dev << 3, 0, index]) + \
        struct.pack('<IB', off, n) + data


def get_device_fd(group=0, name=0):
    # kind 5, sel % 4 == 2, group = (sel >> 2) & 1; then the name's index
    return bytes([K_OPEN | (2 | group << 2) << 3, 0, name])


def bar_write(dev, off, size, val):
    return region(True, dev, BAR0, off, val.to_bytes(size, 'little'))


def dma(dev, op, src, dst, length):
    return (bar_write(dev, 0x10, 8, src) + bar_write(dev, 0x18, 8, dst) +
            bar_write(dev, 0x20, 4, length) + bar_write(dev, 0x28, 4, op) +
            bar_write(dev, 0x38, 4, 1) + region(False, dev, BAR0, 0x3c, length=4))


def set_irqs(index, start, count, flags, data=b''):
    return struct.pack('<IIIII', 0, flags, index, start, count) + data


def pasid_table(flags, config, base):
    cfg = struct.pack('<IIQIBBxxIBBxx', 32, 1, base, 1, 0, config, 1, 0, 0)
    return struct.pack('<II', 0, flags) + cfg


def cache_inv_addr(asid, addr):
    info = struct.pack('<IIBB6x', 56, 1, 1, 2) + \
        struct.pack('<IIQQQQ', 2 | 4, asid, 0, addr, 4096, 1)
    return struct.pack('<II', 0, 0) + info


def msi_binding(flags, iova, gpa, size):
    return struct.pack('<IIQQQ', 0, flags, iova, gpa, size)


def common_device(dev=0):
    """Open a device, read its info, enable it, a DMA inside the mapping."""
    return (get_device_fd(0, dev) + dev_ioctl(D_INFO, dev) +
            dev_ioctl(D_REGION, dev, struct.pack('<III', 0, 0, BAR0)) +
            region(True, dev, CONFIG, 4, b'\x06\x00') +
            dev_ioctl(D_SET_IRQS, dev, set_irqs(MSIX_INDEX, 0, 2, IRQ_TRIGGER | IRQ_EVENTFD,
                                                bytes([0, 0, 0, 0, 1, 0, 0, 0]))) +
            bar_write(dev, 0x2c, 4, 3) +
            dma(dev, 3, GPA, GPA + 0x8000, 0x1000))


def nested():
    p = bytes([GROUP1 | NESTING | MAP_SCRATCH]) + common_device()
    p += dev_ioctl(D_REGION, 0, struct.pack('<III', 0, 0, FAULT_REGION))
    p += dev_ioctl(D_IRQ, 0, struct.pack('<III', 0, 0, FAULT_IRQ_INDEX))
    p += dev_ioctl(D_SET_IRQS, 0, set_irqs(FAULT_IRQ_INDEX, 0, 1, IRQ_TRIGGER | IRQ_EVENTFD,
                                            bytes(4)))
    p += rec(K_CONT, C_PASID, 0, pasid_table(1, 1, GPA + 0x1000))
    p += dma(0, 3, 0x10000, 0x20000, 0x100)  # faults: the CD is not valid
    p += region(False, 0, FAULT_REGION, 0, length=20)
    p += region(False, 0, FAULT_REGION, 4096, length=64)
    p += region(True, 0, FAULT_REGION, 0, struct.pack('<I', 1))
    p += rec(K_CONT, C_INV, 0, cache_inv_addr(1, 0x10000))
    p += rec(K_CONT, C_MSI, 0, msi_binding(1, 0x50000, 0x9000000, 4096))
    p += dma(0, 3, 0x10000, 0x20000, 0x100)
    p += rec(K_CONT, C_MSI, 0, msi_binding(2, 0x50000, 0, 0))
    p += rec(K_CONT, C_PASID, 0, pasid_table(2, 0, 0))
    p += dev_ioctl(D_RESET)
    return p


def classic():
    p = bytes([GROUP1 | GROUP2 | MAP_SCRATCH]) + common_device()
    p += get_device_fd(1, 1) + dev_ioctl(D_INFO, 1)
    p += rec(K_CONT, C_GET_INFO, 0, b'')
    p += rec(K_CONT, C_UNMAP, 0, struct.pack('<IIQQ', 0, 0, GPA, 0x10000))
    p += dma(0, 1, GPA, 0, 0x100)  # faults: unmapped
    p += rec(K_GROUP, G_STATUS) + rec(K_GROUP, G_UNSET)  # EBUSY: a device is open
    return p


def bad_sizes():
    p = bytes([GROUP1 | NESTING | MAP_SCRATCH]) + get_device_fd(0, 0)
    for req in range(7):
        p += rec(K_CONT, req, 1, b'')  # argsz = minimum - 1
    for req in range(4):
        p += dev_ioctl(req, 0, b'', 1)
    return p


def no_iommu():
    # A container without a backend, a group without a container.
    p = bytes([0])
    p += bytes([K_OPEN | 0 << 3, 0])  # open group 1
    p += rec(K_GROUP, G_STATUS) + get_device_fd(0, 0)  # EINVAL: no container
    p += bytes([K_VALUE | 1 << 5, 0, 6])  # CHECK_EXTENSION(6) on the container
    p += rec(K_CONT, C_MAP, 0, struct.pack('<IIQQQ', 0, 3, 0, GPA, 4096))
    p += rec(K_GROUP, G_SET, 0, b'\x00')  # SET_CONTAINER: the container
    p += bytes([K_VALUE | 2 << 5, 0, 6])  # SET_IOMMU(6)
    p += get_device_fd(0, 0)
    return p


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, prog in (('nested', nested()), ('classic', classic()),
                       ('bad-sizes', bad_sizes()), ('no-iommu', no_iommu())):
        with open(os.path.join(OUT, 'seed-' + name), 'wb') as f:
            f.write(prog)


if __name__ == '__main__':
    main()
