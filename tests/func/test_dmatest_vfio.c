// SPDX-License-Identifier: MIT
/*
 * dmatest behind VFIO (lib/dev/dmatest/dmatest_vfio.c), through
 * uiommu_open()/uiommu_ioctl()/uiommu_pread()/uiommu_pwrite() as a VMM
 * would use the device fd, on a mock-IOMMU device. What is checked is what
 * dmatest_vfio.h promises and the vfio-pci behaviour it cites:
 *
 *  - GET_INFO, GET_REGION_INFO (sizes, flags, the sparse mmap capability
 *    naming the buffer only, absent BARs), GET_IRQ_INFO (INTx, no MSI,
 *    two MSI-X vectors, ERR and REQ);
 *  - config space: the function's IDs, Memory Space and PASID enabled at
 *    open, the MSI-X and PASID capabilities read-only, BAR sizing, and
 *    Initiate FLR as a reset that restores Command and BAR0;
 *  - BAR0: registers in 4-byte pieces, 2-byte register accesses refused,
 *    the MSI-X table all ones / writes dropped, the buffer by read/write
 *    and by mmap (only the sparse area), Memory Space off: EIO;
 *  - DMA through type1 MAP_DMA: a COPY moves exactly the bytes asked, its
 *    completion arrives on the MSI-X eventfd set with SET_IRQS, the error
 *    vector on the other one; INTx with auto-mask and UNMASK; RESET keeps
 *    the enabled MSI-X vectors and clears the registers;
 *  - the last close resets the function; unregistering while open: EBUSY;
 *  - threads: two DMA threads with MSI-X on while another switches MSI-X
 *    off and on and resets the device (the lock order of SET_IRQS, the
 *    function's lock and interrupt delivery; make check-tsan runs it).
 */
#include <pthread.h>
#include <fcntl.h>
#include <sys/eventfd.h>

#include "dev/dmatest/dmatest_vfio.h"
#include "dev/pci_cfg.h"
#include "hw/mock/mock.h"
#include "util/file.h"

#include "iommufd_utils.h"

#include <linux/vfio.h>

#define NAME	 "0000:00:05.0"
#define GROUP	 "/dev/vfio/7"
#define IOVA	 (1ULL << 24) /* the mock aperture starts at 16 MiB */
#define MEM_SIZE (64u * 1024)
#define CFG_OFF	 ((uint64_t)VFIO_PCI_CONFIG_REGION_INDEX << 40)
#define TRIG_FD	 (VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD)

static struct dmatest_vfio *dv;
static struct udev *udev;

struct vdev {
	struct uiommu_file *container, *group, *dev;
};

static void open_device(struct vdev *v)
{
	int32_t fd;
	int dfd;

	v->container = uiommu_open("/dev/vfio/vfio", O_RDWR);
	v->group = uiommu_open(GROUP, O_RDWR);
	TAP_CHECK(v->container && v->group, "open: %s", strerror(errno));
	fd = uiommu_file_fd(v->container);
	CHECK_OK(uiommu_ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &fd));
	CHECK_OK(uiommu_ioctl(v->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	dfd = uiommu_ioctl(v->group, VFIO_GROUP_GET_DEVICE_FD, NAME);
	TAP_CHECK(dfd >= 0, "GET_DEVICE_FD: %s", strerror(errno));
	v->dev = uiommu_file_from_fd(dfd);
}

static void close_device(struct vdev *v)
{
	CHECK_OK(uiommu_close(v->dev));
	CHECK_OK(uiommu_close(v->group));
	CHECK_OK(uiommu_close(v->container));
}

static uint32_t cfg_read(struct vdev *v, unsigned int off, unsigned int size)
{
	uint32_t x = 0;

	TAP_CHECK(uiommu_pread(v->dev, &x, size, (off_t)(CFG_OFF + off)) == (ssize_t)size,
		  "config read 0x%x: %s", off, strerror(errno));
	return x;
}

static void cfg_write(struct vdev *v, unsigned int off, unsigned int size, uint32_t x)
{
	TAP_CHECK(uiommu_pwrite(v->dev, &x, size, (off_t)(CFG_OFF + off)) == (ssize_t)size,
		  "config write 0x%x: %s", off, strerror(errno));
}

static uint32_t reg_read(struct vdev *v, unsigned int off)
{
	uint32_t x = 0;

	TAP_CHECK(uiommu_pread(v->dev, &x, 4, off) == 4, "BAR0 read 0x%x: %s", off,
		  strerror(errno));
	return x;
}

static void reg_write(struct vdev *v, unsigned int off, uint64_t x, unsigned int size)
{
	TAP_CHECK(uiommu_pwrite(v->dev, &x, size, off) == (ssize_t)size, "BAR0 write 0x%x: %s", off,
		  strerror(errno));
}

static int set_irqs(struct vdev *v, uint32_t flags, uint32_t index, uint32_t start, uint32_t count,
		    const int32_t *fds)
{
	uint8_t buf[sizeof(struct vfio_irq_set) + 8 * sizeof(int32_t)] = {0};
	struct vfio_irq_set *s = (void *)buf;

	s->argsz = (uint32_t)(sizeof(*s) + (fds ? count * sizeof(int32_t) : 0));
	s->flags = flags;
	s->index = index;
	s->start = start;
	s->count = count;
	if (fds)
		memcpy(s->data, fds, count * sizeof(int32_t));
	return uiommu_ioctl(v->dev, VFIO_DEVICE_SET_IRQS, s);
}

static uint64_t ev_take(int efd)
{
	uint64_t x = 0;

	if (read(efd, &x, sizeof(x)) != sizeof(x))
		return 0;
	return x;
}

/* Program one operation and ring GO; STATUS. */
static uint32_t run_op(struct vdev *v, uint32_t op, uint64_t src, uint64_t dst, uint32_t len)
{
	reg_write(v, DMATEST_REG_SRC_IOVA, src, 8);
	reg_write(v, DMATEST_REG_DST_IOVA, dst, 8);
	reg_write(v, DMATEST_REG_LEN, len, 4);
	reg_write(v, DMATEST_REG_OP, op, 4);
	reg_write(v, DMATEST_REG_GO, 1, 4);
	return reg_read(v, DMATEST_REG_STATUS);
}

/* ------------------------------------------------------------------ */

static void test_info(void *arg)
{
	uint8_t buf[256] = {0};
	struct vfio_region_info *ri = (void *)buf;
	struct vfio_region_info_cap_sparse_mmap *sp;
	struct vfio_device_info di = {.argsz = sizeof(di)};
	struct vfio_irq_info ii = {.argsz = sizeof(ii)};
	static const uint32_t counts[] = {1, 0, DMATEST_NR_VECTORS, 1, 1};
	struct vdev v;

	open_device(&v);
	CHECK_OK(uiommu_ioctl(v.dev, VFIO_DEVICE_GET_INFO, &di));
	TAP_CHECK_EQ(di.flags, VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET, "flags");
	TAP_CHECK_EQ(di.num_regions, VFIO_PCI_NUM_REGIONS, "regions");
	TAP_CHECK_EQ(di.num_irqs, VFIO_PCI_NUM_IRQS, "irqs");

	ri->argsz = sizeof(buf);
	ri->index = VFIO_PCI_BAR0_REGION_INDEX;
	CHECK_OK(uiommu_ioctl(v.dev, VFIO_DEVICE_GET_REGION_INFO, ri));
	TAP_CHECK_EQ(ri->size, DMATEST_BAR0_SIZE, "BAR0 size");
	TAP_CHECK_EQ(ri->offset, 0, "BAR0 offset");
	TAP_CHECK_EQ(ri->flags,
		     VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
			     VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS,
		     "BAR0 flags");
	TAP_CHECK(ri->cap_offset >= sizeof(*ri), "a capability");
	sp = (void *)(buf + ri->cap_offset);
	TAP_CHECK(sp->header.id == VFIO_REGION_INFO_CAP_SPARSE_MMAP && sp->header.next == 0,
		  "only the sparse mmap capability (id %u, next %u)", sp->header.id,
		  sp->header.next);
	TAP_CHECK(sp->nr_areas == 1 && sp->areas[0].offset == DMATEST_BUF_OFFSET &&
			  sp->areas[0].size == DMATEST_BUF_SIZE,
		  "the buffer is the one mmap-able area");

	for (uint32_t i = VFIO_PCI_BAR1_REGION_INDEX; i <= VFIO_PCI_ROM_REGION_INDEX; i++) {
		memset(buf, 0, sizeof(buf));
		ri->argsz = sizeof(buf);
		ri->index = i;
		CHECK_OK(uiommu_ioctl(v.dev, VFIO_DEVICE_GET_REGION_INFO, ri));
		TAP_CHECK(ri->size == 0 && ri->flags == 0, "region %u absent", i);
	}
	memset(buf, 0, sizeof(buf));
	ri->argsz = sizeof(buf);
	ri->index = VFIO_PCI_CONFIG_REGION_INDEX;
	CHECK_OK(uiommu_ioctl(v.dev, VFIO_DEVICE_GET_REGION_INFO, ri));
	TAP_CHECK(ri->size == 4096 &&
			  ri->flags == (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE) &&
			  ri->offset == CFG_OFF,
		  "config region");
	ri->index = VFIO_PCI_VGA_REGION_INDEX;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(v.dev, VFIO_DEVICE_GET_REGION_INFO, ri));

	for (uint32_t i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
		ii.index = i;
		CHECK_OK(uiommu_ioctl(v.dev, VFIO_DEVICE_GET_IRQ_INFO, &ii));
		TAP_CHECK(ii.count == counts[i], "IRQ index %u: count %u", i, ii.count);
	}
	ii.index = VFIO_PCI_INTX_IRQ_INDEX;
	CHECK_OK(uiommu_ioctl(v.dev, VFIO_DEVICE_GET_IRQ_INFO, &ii));
	TAP_CHECK_EQ(ii.flags,
		     VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED,
		     "INTx flags");
	close_device(&v);
}

static void test_config(void *arg)
{
	uint32_t x = 0;
	struct vdev v;

	open_device(&v);
	TAP_CHECK_EQ(cfg_read(&v, PCI_VENDOR_ID, 4), DMATEST_DEVICE_ID << 16 | DMATEST_VENDOR_ID,
		     "IDs");
	TAP_CHECK_EQ(cfg_read(&v, PCI_INTERRUPT_PIN, 1), 1, "INTA#");
	/* vfio-pci's enable: Memory Space on (no Bus Master), PASID on. */
	TAP_CHECK_EQ(cfg_read(&v, PCI_COMMAND, 2), PCI_COMMAND_MEMORY, "Memory Space at open");
	TAP_CHECK_EQ(cfg_read(&v, DMATEST_EXT_CAP_PASID + PCI_PASID_CTRL, 2), PCI_PASID_CTRL_ENABLE,
		     "PASID enabled by the host");
	/* The host's fields: writes dropped (and reported as done, as vfio-pci does). */
	cfg_write(&v, DMATEST_CAP_MSIX + PCI_MSIX_FLAGS, 2,
		  PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	TAP_CHECK_EQ(cfg_read(&v, DMATEST_CAP_MSIX + PCI_MSIX_FLAGS, 2), DMATEST_NR_VECTORS - 1,
		     "MSI-X control read-only");
	cfg_write(&v, DMATEST_EXT_CAP_PASID + PCI_PASID_CTRL, 2, 0);
	TAP_CHECK_EQ(cfg_read(&v, DMATEST_EXT_CAP_PASID + PCI_PASID_CTRL, 2), PCI_PASID_CTRL_ENABLE,
		     "PASID control read-only");
	/* An unaligned 3-byte read is cut into config cycles. */
	TAP_CHECK(uiommu_pread(v.dev, &x, 3, (off_t)(CFG_OFF + 1)) == 3 &&
			  x == ((DMATEST_DEVICE_ID << 8 | DMATEST_VENDOR_ID >> 8) & 0xffffff),
		  "3 bytes at 1: 0x%x", x);
	/* BAR sizing is the function's own. */
	cfg_write(&v, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	TAP_CHECK_EQ(cfg_read(&v, PCI_BASE_ADDRESS_0, 4),
		     ~(DMATEST_BAR0_SIZE - 1) | PCI_BASE_ADDRESS_MEM_TYPE_64, "BAR0 sizing");
	cfg_write(&v, PCI_BASE_ADDRESS_0, 4, 0xfe000000);
	/* Initiate FLR: registers cleared, Command and BAR0 restored, the bit reads 0. */
	cfg_write(&v, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	reg_write(&v, DMATEST_REG_LEN, 1234, 4);
	cfg_write(&v, DMATEST_CAP_PCIE + PCI_EXP_DEVCTL, 2,
		  cfg_read(&v, DMATEST_CAP_PCIE + PCI_EXP_DEVCTL, 2) | PCI_EXP_DEVCTL_BCR_FLR);
	TAP_CHECK_EQ(reg_read(&v, DMATEST_REG_LEN), 0, "LEN reset");
	TAP_CHECK_EQ(cfg_read(&v, PCI_COMMAND, 2), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER,
		     "Command restored");
	TAP_CHECK_EQ(cfg_read(&v, PCI_BASE_ADDRESS_0, 4), 0xfe000000 | PCI_BASE_ADDRESS_MEM_TYPE_64,
		     "BAR0 restored");
	TAP_CHECK_EQ(cfg_read(&v, DMATEST_CAP_PCIE + PCI_EXP_DEVCTL, 2) & PCI_EXP_DEVCTL_BCR_FLR, 0,
		     "FLR reads 0");
	close_device(&v);
}

static void test_bar0(void *arg)
{
	uint8_t b[16], pat[DMATEST_BUF_SIZE];
	uint16_t h = 0;
	uint8_t *win;
	struct vdev v;

	open_device(&v);
	TAP_CHECK_EQ(reg_read(&v, DMATEST_REG_ID), DMATEST_ID_VALUE, "ID");
	/* An 8-byte register access in two halves; a 2-byte one is refused. */
	reg_write(&v, DMATEST_REG_SRC_IOVA, 0x1122334455667788ULL, 8);
	TAP_CHECK(uiommu_pread(v.dev, b, 8, DMATEST_REG_SRC_IOVA) == 8 &&
			  !memcmp(b, "\x88\x77\x66\x55\x44\x33\x22\x11", 8),
		  "SRC_IOVA 64-bit");
	CHECK_ERRNO(EINVAL, (int)uiommu_pread(v.dev, &h, 2, DMATEST_REG_ID));
	/* The MSI-X table is the host's: all ones, writes dropped; the PBA reads through. */
	memset(b, 0, sizeof(b));
	reg_write(&v, DMATEST_MSIX_TABLE + PCI_MSIX_ENTRY_DATA, 0x55, 4);
	TAP_CHECK(uiommu_pread(v.dev, b, 16, DMATEST_MSIX_TABLE) == 16, "table read");
	for (int i = 0; i < 16; i++)
		TAP_CHECK(b[i] == 0xff, "table byte %d is 0x%x", i, b[i]);
	CHECK_OK(dmatest_cfg_write(dmatest_vfio_function(dv), DMATEST_CAP_MSIX + PCI_MSIX_FLAGS, 2,
				   0));
	{
		uint64_t raw = 0;

		CHECK_OK(dmatest_bar_read(dmatest_vfio_function(dv), 0,
					  DMATEST_MSIX_TABLE + PCI_MSIX_ENTRY_DATA, 4, &raw));
		TAP_CHECK_EQ(raw, 0, "the device's table entry is untouched");
	}
	TAP_CHECK_EQ(reg_read(&v, DMATEST_MSIX_PBA), 0, "PBA");
	/* The buffer: any size; the same bytes through an mmap of the sparse area. */
	for (unsigned int i = 0; i < sizeof(pat); i++)
		pat[i] = (uint8_t)(i * 7 + 3);
	TAP_CHECK_EQ(uiommu_pwrite(v.dev, pat, sizeof(pat), DMATEST_BUF_OFFSET), sizeof(pat),
		     "buffer write");
	memset(b, 0, sizeof(b));
	TAP_CHECK(uiommu_pread(v.dev, b, 3, DMATEST_BUF_OFFSET + 5) == 3 && !memcmp(b, pat + 5, 3),
		  "3 bytes at an odd offset");
	win = uiommu_mmap(v.dev, NULL, DMATEST_BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			  DMATEST_BUF_OFFSET);
	TAP_CHECK(win != MAP_FAILED, "mmap of the buffer: %s", strerror(errno));
	TAP_CHECK(!memcmp(win, pat, sizeof(pat)), "the mapping shows the buffer");
	win[0] = 0xee;
	TAP_CHECK(uiommu_pread(v.dev, b, 1, DMATEST_BUF_OFFSET) == 1 && b[0] == 0xee,
		  "and the device sees the mapping's writes");
	CHECK_OK(uiommu_munmap(win, DMATEST_BUF_SIZE));
	TAP_CHECK(uiommu_mmap(v.dev, NULL, 4096, PROT_READ, MAP_SHARED, 0) == MAP_FAILED &&
			  errno == EINVAL,
		  "the registers are not mmap-able");
	TAP_CHECK(uiommu_mmap(v.dev, NULL, 2 * DMATEST_BUF_SIZE, PROT_READ, MAP_SHARED,
			      DMATEST_BUF_OFFSET - DMATEST_BUF_SIZE) == MAP_FAILED &&
			  errno == EINVAL,
		  "nor a range that starts before the buffer");
	/* Memory Space off: EIO, as vfio-pci. */
	cfg_write(&v, PCI_COMMAND, 2, 0);
	CHECK_ERRNO(EIO, (int)uiommu_pread(v.dev, b, 4, DMATEST_REG_ID));
	close_device(&v);
}

static void test_dma_irqs(void *arg)
{
	struct vfio_iommu_type1_dma_map map = {.argsz = sizeof(map)};
	int ev[3] = {eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC),
		     eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)};
	uint8_t *mem;
	uint32_t st;
	int32_t fds[2];
	struct vdev v;

	TAP_CHECK(ev[0] >= 0 && ev[1] >= 0 && ev[2] >= 0, "eventfds");
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TAP_CHECK(mem != MAP_FAILED, "mmap");
	for (unsigned int i = 0; i < MEM_SIZE; i++)
		mem[i] = (uint8_t)(i ^ (i >> 8));
	open_device(&v);
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	map.vaddr = (uintptr_t)mem;
	map.iova = IOVA;
	map.size = MEM_SIZE;
	CHECK_OK(uiommu_ioctl(v.container, VFIO_IOMMU_MAP_DMA, &map));
	cfg_write(&v, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);

	/* MSI-X vectors 0 and 1 on eventfds: the function's MSI-X is on, its vectors unmasked. */
	fds[0] = ev[0];
	fds[1] = ev[1];
	CHECK_OK(set_irqs(&v, TRIG_FD, VFIO_PCI_MSIX_IRQ_INDEX, 0, 2, fds));
	TAP_CHECK_EQ(cfg_read(&v, DMATEST_CAP_MSIX + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_ENABLE,
		     PCI_MSIX_FLAGS_ENABLE, "MSI-X enabled by SET_IRQS");
	reg_write(&v, DMATEST_REG_CTRL, DMATEST_CTRL_IRQ_DONE | DMATEST_CTRL_IRQ_ERR, 4);
	st = run_op(&v, DMATEST_OP_COPY, IOVA + 0x100, IOVA + 0x8000, 0x1234);
	TAP_CHECK_EQ(st, DMATEST_STATUS_DONE, "COPY done");
	TAP_CHECK(!memcmp(mem + 0x8000, mem + 0x100, 0x1234), "bytes copied");
	TAP_CHECK(mem[0x8000 + 0x1234] == (uint8_t)((0x8000 + 0x1234) ^ ((0x8000 + 0x1234) >> 8)),
		  "no byte past the end");
	TAP_CHECK(ev_take(ev[0]) == 1 && ev_take(ev[1]) == 0, "completion on vector 0");
	/* A fault: the error vector. */
	st = run_op(&v, DMATEST_OP_COPY, IOVA + MEM_SIZE - 0x10, IOVA, 0x20);
	TAP_CHECK(st & DMATEST_STATUS_ERROR, "fault: 0x%x", st);
	TAP_CHECK_EQ(reg_read(&v, DMATEST_REG_DONE_BYTES), 0x10, "DONE_BYTES");
	TAP_CHECK(ev_take(ev[1]) == 1 && ev_take(ev[0]) == 0, "error on vector 1");
	/* RESET: registers cleared, the MSI-X vectors keep working. */
	CHECK_OK(uiommu_ioctl(v.dev, VFIO_DEVICE_RESET));
	TAP_CHECK_EQ(reg_read(&v, DMATEST_REG_CTRL), 0, "CTRL cleared");
	TAP_CHECK_EQ(cfg_read(&v, PCI_COMMAND, 2), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER,
		     "Command restored");
	reg_write(&v, DMATEST_REG_CTRL, DMATEST_CTRL_IRQ_DONE, 4);
	st = run_op(&v, DMATEST_OP_FILL, 0, IOVA, 64);
	TAP_CHECK(st == DMATEST_STATUS_DONE && ev_take(ev[0]) == 1, "MSI-X after RESET");
	/* MSI-X off: the function's MSI-X is off again. */
	CHECK_OK(set_irqs(&v, VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_NONE,
			  VFIO_PCI_MSIX_IRQ_INDEX, 0, 0, NULL));
	TAP_CHECK_EQ(cfg_read(&v, DMATEST_CAP_MSIX + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_ENABLE, 0,
		     "MSI-X disabled");

	/* INTx: auto-masked by VFIO until UNMASK; the cause is acknowledged in STATUS. */
	fds[0] = ev[2];
	CHECK_OK(set_irqs(&v, TRIG_FD, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, fds));
	run_op(&v, DMATEST_OP_FILL, 0, IOVA, 64);
	TAP_CHECK_EQ(ev_take(ev[2]), 1, "INTx");
	TAP_CHECK(cfg_read(&v, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, "Interrupt Status");
	run_op(&v, DMATEST_OP_FILL, 0, IOVA, 64);
	TAP_CHECK_EQ(ev_take(ev[2]), 0, "masked until UNMASK");
	reg_write(&v, DMATEST_REG_STATUS, DMATEST_STATUS_DONE, 4);
	CHECK_OK(set_irqs(&v, VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_DATA_NONE,
			  VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL));
	TAP_CHECK_EQ(ev_take(ev[2]), 1, "the interrupt raised while masked, at UNMASK");
	run_op(&v, DMATEST_OP_FILL, 0, IOVA, 64);
	TAP_CHECK_EQ(ev_take(ev[2]), 0, "masked again");
	CHECK_OK(set_irqs(&v, VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_NONE,
			  VFIO_PCI_INTX_IRQ_INDEX, 0, 0, NULL));
	/* ERR and REQ take eventfds (they never fire). */
	fds[0] = ev[2];
	CHECK_OK(set_irqs(&v, TRIG_FD, VFIO_PCI_ERR_IRQ_INDEX, 0, 1, fds));
	CHECK_OK(set_irqs(&v, TRIG_FD, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, fds));
	CHECK_ERRNO(EINVAL, set_irqs(&v, TRIG_FD, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, fds));
	close_device(&v);
	for (int i = 0; i < 3; i++)
		close(ev[i]);
	munmap(mem, MEM_SIZE);
}

static void test_close_and_unregister(void *arg)
{
	struct dmatest *d = dmatest_vfio_function(dv);
	uint32_t cmd = 0;
	struct vdev v;

	open_device(&v);
	reg_write(&v, DMATEST_REG_LEN, 99, 4);
	cfg_write(&v, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	TAP_CHECK_EQ(dmatest_vfio_destroy(dv), -EBUSY, "unregister while open");
	close_device(&v);
	CHECK_OK(dmatest_cfg_read(d, PCI_COMMAND, 2, &cmd));
	TAP_CHECK_EQ(cmd, 0, "the last close reset the function");
}

/* ------------------------------------------------------------------ */
/* Threads                                                            */

#define TH_OPS	  400
#define TH_ROUNDS 60

struct th {
	struct vdev *v;
	pthread_mutex_t *go_lock; /* one operation at a time: the registers are shared */
	unsigned int done;
	char bad[128];
};

static int th_write(struct vdev *v, unsigned int off, uint64_t x, unsigned int size)
{
	return uiommu_pwrite(v->dev, &x, size, off) == (ssize_t)size ? 0 : -1;
}

static void *dma_thread(void *arg)
{
	struct th *t = arg;

	for (unsigned int i = 0; i < TH_OPS && !t->bad[0]; i++) {
		uint64_t src = IOVA + (i % 8) * 0x100, dst = IOVA + 0x4000 + (i % 8) * 0x100;
		uint32_t st = 0;

		pthread_mutex_lock(t->go_lock);
		if (th_write(t->v, DMATEST_REG_SRC_IOVA, src, 8) ||
		    th_write(t->v, DMATEST_REG_DST_IOVA, dst, 8) ||
		    th_write(t->v, DMATEST_REG_LEN, 0x80, 4) ||
		    th_write(t->v, DMATEST_REG_OP, DMATEST_OP_COPY, 4) ||
		    th_write(t->v, DMATEST_REG_CTRL, DMATEST_CTRL_IRQ_DONE, 4) ||
		    th_write(t->v, DMATEST_REG_GO, 1, 4) ||
		    uiommu_pread(t->v->dev, &st, 4, DMATEST_REG_STATUS) != 4)
			snprintf(t->bad, sizeof(t->bad), "op %u: %s", i, strerror(errno));
		pthread_mutex_unlock(t->go_lock);
		if (!t->bad[0] && st != DMATEST_STATUS_DONE)
			snprintf(t->bad, sizeof(t->bad), "op %u: status 0x%x", i, st);
		if (st == DMATEST_STATUS_DONE)
			t->done++;
	}
	return NULL;
}

static void test_threads(void *arg)
{
	struct vfio_iommu_type1_dma_map map = {.argsz = sizeof(map)};
	pthread_mutex_t go_lock = PTHREAD_MUTEX_INITIALIZER;
	int ev[2] = {eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC),
		     eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)};
	struct th th[2];
	pthread_t tid[2];
	uint8_t *mem;
	int32_t fds[2];
	struct vdev v;
	uint64_t got = 0;

	TAP_CHECK(ev[0] >= 0 && ev[1] >= 0, "eventfds");
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TAP_CHECK(mem != MAP_FAILED, "mmap");
	open_device(&v);
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	map.vaddr = (uintptr_t)mem;
	map.iova = IOVA;
	map.size = MEM_SIZE;
	CHECK_OK(uiommu_ioctl(v.container, VFIO_IOMMU_MAP_DMA, &map));
	cfg_write(&v, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	fds[0] = ev[0];
	fds[1] = ev[1];
	CHECK_OK(set_irqs(&v, TRIG_FD, VFIO_PCI_MSIX_IRQ_INDEX, 0, 2, fds));
	for (int i = 0; i < 2; i++) {
		th[i] = (struct th){.v = &v, .go_lock = &go_lock};
		TAP_CHECK(!pthread_create(&tid[i], NULL, dma_thread, &th[i]), "pthread_create");
	}
	for (int r = 0; r < TH_ROUNDS; r++) {
		CHECK_OK(set_irqs(&v, VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_NONE,
				  VFIO_PCI_MSIX_IRQ_INDEX, 0, 0, NULL));
		CHECK_OK(set_irqs(&v, TRIG_FD, VFIO_PCI_MSIX_IRQ_INDEX, 0, 2, fds));
		/* Between operations, so that every interrupt has its DONE read back. */
		if (r % 10 == 9) {
			pthread_mutex_lock(&go_lock);
			CHECK_OK(uiommu_ioctl(v.dev, VFIO_DEVICE_RESET));
			pthread_mutex_unlock(&go_lock);
		}
		got += ev_take(ev[0]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(tid[i], NULL);
	got += ev_take(ev[0]);
	TAP_CHECK(!th[0].bad[0] && !th[1].bad[0], "%s%s", th[0].bad, th[1].bad);
	/* An interrupt only for an operation that completed, and only while MSI-X was on. */
	TAP_CHECK(got <= (uint64_t)th[0].done + th[1].done && th[0].done + th[1].done > 0,
		  "%llu interrupts for %u + %u operations", (unsigned long long)got, th[0].done,
		  th[1].done);
	TAP_CHECK_EQ(ev_take(ev[1]), 0, "the error vector's interrupt was never enabled in CTRL");
	close_device(&v);
	close(ev[0]);
	close(ev[1]);
	munmap(mem, MEM_SIZE);
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void *arg);
	} tests[] = {
		{"device, region and IRQ info", test_info},
		{"config space: open state, host-owned capabilities, BAR sizing, FLR", test_config},
		{"BAR0: register pieces, MSI-X table, buffer by read/write and mmap, EIO",
		 test_bar0},
		{"DMA after MAP_DMA; MSI-X eventfds; RESET; INTx auto-mask; ERR, REQ",
		 test_dma_irqs},
		{"the last close resets; unregister while open is EBUSY",
		 test_close_and_unregister},
		{"threads: DMA with MSI-X while SET_IRQS switches it and RESET runs", test_threads},
	};
	unsigned int base;
	int err = 0;

	udev = mock_dev_create(0, &err);
	dv = udev ? dmatest_vfio_create(udev, NAME, 7, NULL, &err) : NULL;
	if (!dv) {
		printf("Bail out! dmatest_vfio_create: %d\n", err);
		return 1;
	}
	base = ufile_count();
	tap_plan(ARRAY_SIZE_T(tests) + 1);
	for (size_t i = 0; i < ARRAY_SIZE_T(tests); i++)
		tap_run(tests[i].name, tests[i].fn, NULL);
	err = dmatest_vfio_destroy(dv);
	printf("%s %u - unregistered at the end, no file left (%d, %u files)\n",
	       err || ufile_count() != base ? "not ok" : "ok", ++tap.n, err, ufile_count() - base);
	if (err || ufile_count() != base)
		tap.failed++;
	mock_dev_destroy(udev);
	return tap_done();
}
