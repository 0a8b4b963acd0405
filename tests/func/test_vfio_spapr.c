// SPDX-License-Identifier: MIT
/*
 * VFIO's sPAPR TCE container (v1 and v2) and EEH through uiommu_open() /
 * uiommu_ioctl() (reference vfio.md §4), on a topology built with the
 * model's API (lib/hw/spapr): PHB "A" with PE 1 (group 41) and PE 2
 * (group 42), PHB "B" without dynamic windows with PE 3 (group 43), one
 * device in each PE. Devices do DMA with iommu_dma_rw() on their udev, so
 * every MAP / UNMAP is checked by the bytes that move (or do not) through
 * the window, and every fault by the PE's EEH state afterwards.
 *
 *  - CHECK_EXTENSION before and after SET_IOMMU, SET_IOMMU's errnos;
 *  - GET_INFO at argsz 15 / 16 / 32, v1 vs v2 (the DDW part);
 *  - v2: REGISTER / UNREGISTER (each errno, accounting, sharing between
 *    containers), MAP / UNMAP (each window rule, the quirky "1" returns),
 *    TCE_CREATE / TCE_REMOVE (each errno, the platform's start address,
 *    table accounting), the pending default window;
 *  - v1: one group only, ENABLE / DISABLE and their accounting, v2-only
 *    ioctls ENOTTY;
 *  - EEH: every op and errno; a bad DMA freezes the PE, thaw and reset
 *    recover it; an injected DMA error;
 *  - two groups in one v2 container share the windows; a detach clears them;
 *  - closing in any order leaves no file, window or accounting behind.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "hw/spapr/spapr.h"
#include "iommufd/iommufd_private.h"
#include "util/file.h"
#include "vfio/vfio_private.h"

#include "iommufd_utils.h"

#include <linux/vfio.h>

#define RW	  (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)
#define SZ_4K	  0x1000ULL
#define SZ_64K	  0x10000ULL
#define SZ_1G	  (1ULL << 30)
#define DDW_START (1ULL << 59)
#define MEM_SIZE  (8ULL << 20)

/* A device of the test: a PCI-shaped VFIO device with one BAR, behind an sPAPR PE. */
struct sdev {
	struct vfio_device vdev;
	char name[32];
	uint64_t bar0[512];
};

static struct spapr_iommu *phb_a, *phb_b;
static struct spapr_pe *pe1, *pe2, *pe3;
static struct sdev devs[3];
static uint8_t *mem; /* MEM_SIZE bytes, 64 KiB aligned */
static unsigned int base_files;
static uint64_t base_locked;

static void sdev_region_info(struct vfio_device *vdev, unsigned int index, struct vfio_region *r)
{
	if (index == VFIO_PCI_BAR0_REGION_INDEX) {
		r->size = sizeof(((struct sdev *)0)->bar0);
		r->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	}
}

static ssize_t sdev_rw(struct vfio_device *vdev, unsigned int index, uint64_t off, void *buf,
		       size_t count, bool write)
{
	struct sdev *s = vdev->priv;

	if (index != VFIO_PCI_BAR0_REGION_INDEX)
		return -EINVAL;
	if (write)
		memcpy((uint8_t *)s->bar0 + off, buf, count);
	else
		memcpy(buf, (uint8_t *)s->bar0 + off, count);
	return (ssize_t)count;
}

static void sdev_irq_info(struct vfio_device *vdev, unsigned int index, struct vfio_irq *irq)
{
	irq->count = index == VFIO_PCI_INTX_IRQ_INDEX;
}

static const struct vfio_device_ops sdev_ops = {
	.name = "spapr-test",
	.flags = VFIO_DEVICE_FLAGS_PCI,
	.num_regions = VFIO_PCI_NUM_REGIONS,
	.num_irqs = VFIO_PCI_NUM_IRQS,
	.region_info = sdev_region_info,
	.region_rw = sdev_rw,
	.irq_info = sdev_irq_info,
};

static int sdev_create(struct sdev *s, struct spapr_pe *pe, unsigned int group, const char *name)
{
	int err;

	snprintf(s->name, sizeof(s->name), "%s", name);
	s->vdev.ops = &sdev_ops;
	s->vdev.name = s->name;
	s->vdev.group_id = group;
	s->vdev.priv = s;
	s->vdev.dev = spapr_dev_create(pe, name, group, &err);
	if (!s->vdev.dev)
		return err;
	return vfio_register_device(&s->vdev);
}

/* ------------------------------------------------------------------ */
/* Helpers                                                            */

static struct uiommu_file *xopen(const char *path)
{
	struct uiommu_file *f = uiommu_open(path, O_RDWR | O_CLOEXEC);

	TAP_CHECK(f, "open %s: %s", path, strerror(errno));
	return f;
}

static struct uiommu_file *group_open(unsigned int id)
{
	char path[32];

	snprintf(path, sizeof(path), "/dev/vfio/%u", id);
	return xopen(path);
}

static int set_container(struct uiommu_file *group, struct uiommu_file *container)
{
	int32_t fd = uiommu_file_fd(container);

	return uiommu_ioctl(group, VFIO_GROUP_SET_CONTAINER, &fd);
}

/* A container with group @gid set and SET_IOMMU(@type) done. */
static struct uiommu_file *container_with(unsigned int gid, unsigned long type,
					  struct uiommu_file **group)
{
	struct uiommu_file *c = xopen("/dev/vfio/vfio");

	*group = group_open(gid);
	CHECK_OK(set_container(*group, c));
	CHECK_OK(uiommu_ioctl(c, VFIO_SET_IOMMU, type));
	return c;
}

static int map_dma(struct uiommu_file *c, uint64_t iova, const void *vaddr, uint64_t size,
		   uint32_t flags)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = flags,
		.vaddr = (uint64_t)(uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};

	return uiommu_ioctl(c, VFIO_IOMMU_MAP_DMA, &m);
}

static int unmap_dma(struct uiommu_file *c, uint64_t iova, uint64_t size, uint32_t flags)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .flags = flags, .iova = iova, .size = size};

	return uiommu_ioctl(c, VFIO_IOMMU_UNMAP_DMA, &u);
}

static int reg_mem(struct uiommu_file *c, unsigned long cmd, const void *vaddr, uint64_t size)
{
	struct vfio_iommu_spapr_register_memory r = {
		.argsz = sizeof(r), .vaddr = (uint64_t)(uintptr_t)vaddr, .size = size};

	return uiommu_ioctl(c, cmd, &r);
}

static int tce_create(struct uiommu_file *c, uint32_t page_shift, uint64_t window_size,
		      uint32_t levels, uint64_t *start)
{
	struct vfio_iommu_spapr_tce_create cr = {
		.argsz = sizeof(cr),
		.page_shift = page_shift,
		.window_size = window_size,
		.levels = levels,
		.start_addr = 0xdead,
	};
	int rc = uiommu_ioctl(c, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr);

	if (start)
		*start = cr.start_addr;
	return rc;
}

static int tce_remove(struct uiommu_file *c, uint64_t start)
{
	struct vfio_iommu_spapr_tce_remove rm = {.argsz = sizeof(rm), .start_addr = start};

	return uiommu_ioctl(c, VFIO_IOMMU_SPAPR_TCE_REMOVE, &rm);
}

static int eeh_op(struct uiommu_file *c, uint32_t op)
{
	struct vfio_eeh_pe_op o = {.argsz = sizeof(o), .op = op};

	return uiommu_ioctl(c, VFIO_EEH_PE_OP, &o);
}

/* The device of @d does a DMA of @len bytes at @iova; 0 or the fault's errno (negative). */
static int dev_dma(struct sdev *d, uint64_t iova, const void *buf, size_t len, bool write,
		   size_t *done)
{
	struct iommu_dma_fault f;
	size_t n = 0;
	int rc = iommu_dma_rw(d->vdev.dev, 0, iova, (void *)(uintptr_t)buf, len, write, &n, &f);

	if (done)
		*done = n;
	return rc;
}

static uint64_t locked_pages(void)
{
	struct iommufd_pin_stats st;

	iommufd_pin_stats(&st);
	return st.mm_locked_vm;
}

/* Bring a PE back to normal between tests (a reset clears freezes and injections). */
static void pe_recover(struct spapr_pe *pe)
{
	spapr_eeh_reset(pe, SPAPR_EEH_RESET_DEACTIVATE);
}

static bool always_cap(int cap)
{
	(void)cap;
	return true;
}

static void check_no_leak(void)
{
	TAP_CHECK_EQ(ufile_count(), base_files, "files left open");
	TAP_CHECK_EQ(locked_pages(), base_locked, "locked memory left accounted");
	for (unsigned int i = 0; i < SPAPR_MAX_WINDOWS; i++)
		TAP_CHECK(!spapr_pe_window(pe1, i) && !spapr_pe_window(pe2, i) &&
				  !spapr_pe_window(pe3, i),
			  "window %u left programmed", i);
	pe_recover(pe1);
	pe_recover(pe2);
	pe_recover(pe3);
}

/* ------------------------------------------------------------------ */
/* Container                                                          */

static void test_check_extension(void *arg)
{
	struct uiommu_file *c = xopen("/dev/vfio/vfio"), *g, *g3;

	/* No group: type1 answers first, sPAPR (present on this platform) after it. */
	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU), 1, "type1v2");
	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU), 1, "spapr");
	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_v2_IOMMU), 1, "v2");
	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_CHECK_EXTENSION, VFIO_EEH), 1, "eeh");
	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU), 0, "noiommu");
	/* With an sPAPR group only the sPAPR backend is there. */
	g = group_open(41);
	CHECK_OK(set_container(g, c));
	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU), 0, "type1v2");
	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_v2_IOMMU), 1, "v2");
	spapr_eeh_set_enabled(false);
	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_CHECK_EXTENSION, VFIO_EEH), 0, "eeh off");
	spapr_eeh_set_enabled(true);
	/* SET_IOMMU: type1 cannot take it, EEH is not an IOMMU type. */
	CHECK_ERRNO(ENODEV, uiommu_ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	CHECK_ERRNO(ENODEV, uiommu_ioctl(c, VFIO_SET_IOMMU, VFIO_UNMAP_ALL));
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c, VFIO_SET_IOMMU, VFIO_EEH));
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, NULL));
	CHECK_OK(uiommu_ioctl(c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU));
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU));
	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU), 1, "after");
	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU), 0, "after");
	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_CHECK_EXTENSION, VFIO_EEH), 1, "after");
	CHECK_ERRNO(ENOTTY, uiommu_ioctl(c, VFIO_IOMMU_ENABLE, 0)); /* v1 only */
	CHECK_ERRNO(ENOTTY, uiommu_ioctl(c, VFIO_IOMMU_DISABLE, 0));
	CHECK_ERRNO(ENOTTY, uiommu_ioctl(c, VFIO_BASE + 40 + (VFIO_TYPE << 8), 0));
	/* A v2 container does not take a PE without dynamic windows. */
	g3 = group_open(43);
	CHECK_ERRNO(EINVAL, set_container(g3, c));
	uiommu_close(g3);
	uiommu_close(g);
	uiommu_close(c);
	/* ... but v1 does; and v2 refuses it at SET_IOMMU. */
	c = xopen("/dev/vfio/vfio");
	g3 = group_open(43);
	CHECK_OK(set_container(g3, c));
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU));
	CHECK_OK(uiommu_ioctl(c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_IOMMU));
	uiommu_close(c);
	uiommu_close(g3);
	check_no_leak();
}

static void test_get_info(void *arg)
{
	struct vfio_iommu_spapr_tce_info info;
	struct uiommu_file *g, *c = container_with(41, VFIO_SPAPR_TCE_v2_IOMMU, &g);

	memset(&info, 0xff, sizeof(info));
	info.argsz = 15;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info));
	info.argsz = 16;
	CHECK_OK(uiommu_ioctl(c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info));
	TAP_CHECK_EQ(info.flags, VFIO_IOMMU_SPAPR_INFO_DDW, "flags");
	TAP_CHECK_EQ(info.dma32_window_start, 0, "start");
	TAP_CHECK_EQ(info.dma32_window_size, SZ_1G, "size");
	TAP_CHECK_EQ(info.ddw.pgsizes, UINT64_MAX, "ddw not written at argsz 16");
	info.argsz = 32;
	CHECK_OK(uiommu_ioctl(c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info));
	TAP_CHECK_EQ(info.ddw.pgsizes, SZ_4K | SZ_64K | (1ULL << 24), "pgsizes");
	TAP_CHECK_EQ(info.ddw.max_dynamic_windows_supported, 2, "windows");
	TAP_CHECK_EQ(info.ddw.levels, 5, "levels");
	uiommu_close(c);
	uiommu_close(g);
	/* v1: no DDW part, even on a PE that has dynamic windows. */
	c = container_with(41, VFIO_SPAPR_TCE_IOMMU, &g);
	memset(&info, 0xff, sizeof(info));
	info.argsz = sizeof(info);
	CHECK_OK(uiommu_ioctl(c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info));
	TAP_CHECK_EQ(info.flags, 0, "v1 flags");
	TAP_CHECK_EQ(info.ddw.pgsizes, 0, "v1 ddw zeroed");
	TAP_CHECK_EQ(info.ddw.levels, 0, "v1 ddw zeroed");
	uiommu_close(g);
	uiommu_close(c);
	check_no_leak();
}

/* ------------------------------------------------------------------ */
/* v2                                                                 */

static void test_v2_register(void *arg)
{
	struct uiommu_file *g, *g2, *c = container_with(41, VFIO_SPAPR_TCE_v2_IOMMU, &g);
	struct uiommu_file *c2 = container_with(42, VFIO_SPAPR_TCE_v2_IOMMU, &g2);
	struct vfio_iommu_spapr_register_memory r = {.argsz = 23, .vaddr = (uintptr_t)mem,
						     .size = SZ_64K};
	uint64_t before = locked_pages();

	/* Not enabled before a registration. */
	CHECK_ERRNO(EPERM, map_dma(c, 0, mem, SZ_4K, RW));
	CHECK_ERRNO(EPERM, unmap_dma(c, 0, SZ_4K, 0));
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &r));
	r.argsz = sizeof(r);
	r.flags = 1;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &r));
	CHECK_ERRNO(EFAULT, uiommu_ioctl(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, NULL));
	CHECK_ERRNO(EINVAL, reg_mem(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, mem + SZ_4K, SZ_64K));
	CHECK_ERRNO(EINVAL, reg_mem(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, mem, SZ_4K));
	CHECK_ERRNO(EINVAL, reg_mem(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY,
				    (void *)(uintptr_t)(0ULL - SZ_64K), 2 * SZ_64K));
	/* Memory that is not there cannot be pinned. */
	{
		void *hole = mmap(NULL, 4 * SZ_64K, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint8_t *h = (uint8_t *)ALIGN_UP((uintptr_t)hole, SZ_64K);

		CHECK_ERRNO(EFAULT, reg_mem(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, h, SZ_64K));
		munmap(hole, 4 * SZ_64K);
	}
	TAP_CHECK_EQ(locked_pages(), before, "failures account nothing");
	CHECK_OK(reg_mem(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, mem, 1 << 20));
	TAP_CHECK_EQ(locked_pages(), before + (1 << 20) / 4096, "1 MiB accounted");
	CHECK_ERRNO(EBUSY, reg_mem(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, mem, 1 << 20));
	CHECK_ERRNO(EINVAL, reg_mem(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, mem + SZ_64K, SZ_64K));
	CHECK_ERRNO(EINVAL, reg_mem(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, mem, 2 << 20));
	/* Another container shares the process's region: counted once. */
	CHECK_OK(reg_mem(c2, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, mem, 1 << 20));
	TAP_CHECK_EQ(locked_pages(), before + (1 << 20) / 4096, "shared, counted once");
	/* UNREGISTER. */
	CHECK_ERRNO(EINVAL, reg_mem(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, mem + SZ_4K, SZ_64K));
	CHECK_ERRNO(ENOENT, reg_mem(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, mem, SZ_64K));
	r = (struct vfio_iommu_spapr_register_memory){.argsz = 23, .vaddr = (uintptr_t)mem,
						       .size = 1 << 20};
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, &r));
	r.argsz = sizeof(r);
	r.flags = 2;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, &r));
	CHECK_OK(reg_mem(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, mem, 1 << 20));
	CHECK_ERRNO(ENOENT, reg_mem(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, mem, 1 << 20));
	TAP_CHECK_EQ(locked_pages(), before + (1 << 20) / 4096, "c2 still holds it");
	CHECK_OK(reg_mem(c2, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, mem, 1 << 20));
	TAP_CHECK_EQ(locked_pages(), before, "released");
	/* The container stays enabled (Linux never clears it): MAP now lacks memory. */
	CHECK_ERRNO(EINVAL, map_dma(c, 0, mem, SZ_4K, RW));
	/* A region left registered is released with its container. */
	CHECK_OK(reg_mem(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, mem, SZ_64K));
	uiommu_close(g);
	uiommu_close(c);
	uiommu_close(g2);
	uiommu_close(c2);
	check_no_leak();
}

static void test_v2_map_window0(void *arg)
{
	struct uiommu_file *g, *c = container_with(41, VFIO_SPAPR_TCE_v2_IOMMU, &g);
	struct sdev *d = &devs[0];
	uint64_t before, table = spapr_table_size(12, SZ_1G, 1);
	uint8_t buf[64];
	size_t done;

	TAP_CHECK_EQ(table, 4 << 20, "a 1 GiB window of 4 KiB TCEs, one level, counts 4 MiB");
	CHECK_OK(reg_mem(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, mem, 4 << 20));
	before = locked_pages();
	TAP_CHECK(!spapr_pe_window(pe1, 0), "the default window is pending, not created");
	/* Argument checks come before the default window is made. */
	{
		struct vfio_iommu_type1_dma_map m = {.argsz = 31, .flags = RW};

		CHECK_ERRNO(EINVAL, uiommu_ioctl(c, VFIO_IOMMU_MAP_DMA, &m));
	}
	CHECK_ERRNO(EINVAL, map_dma(c, 0, mem, SZ_4K, RW | 4));
	TAP_CHECK(!spapr_pe_window(pe1, 0), "still pending");
	/* Flags 0 is checked after the window lookup: the window gets made. */
	CHECK_ERRNO(EINVAL, map_dma(c, 0, mem, SZ_4K, 0));
	TAP_CHECK(spapr_pe_window(pe1, 0), "default window created by MAP");
	TAP_CHECK_EQ(locked_pages(), before + table / 4096, "its table accounted");
	CHECK_ERRNO(ENXIO, map_dma(c, SZ_1G, mem, SZ_4K, RW));
	CHECK_ERRNO(ENXIO, map_dma(c, DDW_START, mem, SZ_4K, RW));
	CHECK_ERRNO(EINVAL, map_dma(c, 0, mem, SZ_4K + 8, RW));
	CHECK_ERRNO(EINVAL, map_dma(c, 0, mem + 8, SZ_4K, RW));
	/* Memory outside the registered region. */
	CHECK_ERRNO(EINVAL, map_dma(c, 0, mem + (4 << 20), SZ_4K, RW));
	CHECK_ERRNO(EINVAL, map_dma(c, 0, mem + (4 << 20) - SZ_4K, 2 * SZ_4K, RW));
	TAP_CHECK_EQ(dev_dma(d, 0, buf, 8, false, NULL), -EFAULT, "the failed MAP left nothing");
	pe_recover(pe1);
	/* Misaligned IOVA: the ioctl returns 1 and maps nothing. */
	TAP_CHECK_EQ(map_dma(c, 0x800, mem, SZ_4K, RW), 1, "misaligned iova");
	/* A MAP running past the end of the window fails whole. */
	CHECK_ERRNO(EINVAL, map_dma(c, SZ_1G - SZ_4K, mem, 2 * SZ_4K, RW));
	TAP_CHECK_EQ(dev_dma(d, SZ_1G - SZ_4K, buf, 8, false, NULL), -EFAULT, "undone");
	pe_recover(pe1);
	/* Bytes through the window: bus address 0x10000 is mem + 0x3000. */
	memset(mem, 0, 4 << 20);
	memcpy(mem + 0x3000, "tce-read", 8);
	CHECK_OK(map_dma(c, 0x10000, mem + 0x3000, 2 * SZ_4K, RW));
	TAP_CHECK_EQ(dev_dma(d, 0x10000, buf, 8, false, &done), 0, "read");
	TAP_CHECK(!memcmp(buf, "tce-read", 8), "read the bytes at mem + 0x3000");
	TAP_CHECK_EQ(dev_dma(d, 0x10ffc, "abcdefgh", 8, true, &done), 0, "write across TCEs");
	TAP_CHECK(!memcmp(mem + 0x3ffc, "abcdefgh", 8), "landed across the two pages");
	/* Direction: a TO_DEVICE TCE refuses a device write and the PE freezes. */
	CHECK_OK(map_dma(c, 0x20000, mem + 0x8000, SZ_4K, VFIO_DMA_MAP_FLAG_READ));
	TAP_CHECK_EQ(dev_dma(d, 0x20000, buf, 8, false, NULL), 0, "read allowed");
	TAP_CHECK_EQ(dev_dma(d, 0x20000, "x", 1, true, NULL), -EFAULT, "write refused");
	TAP_CHECK_EQ(eeh_op(c, VFIO_EEH_PE_GET_STATE), VFIO_EEH_PE_STATE_STOPPED, "frozen");
	TAP_CHECK_EQ(dev_dma(d, 0x10000, buf, 8, false, NULL), -EIO, "frozen PE: no DMA");
	CHECK_OK(eeh_op(c, VFIO_EEH_PE_UNFREEZE_DMA));
	CHECK_OK(eeh_op(c, VFIO_EEH_PE_UNFREEZE_IO));
	TAP_CHECK_EQ(eeh_op(c, VFIO_EEH_PE_GET_STATE), VFIO_EEH_PE_STATE_NORMAL, "thawed");
	/* A FROM_DEVICE TCE: the PHB stores READ with WRITE, reads pass too. */
	CHECK_OK(map_dma(c, 0x30000, mem + 0x9000, SZ_4K, VFIO_DMA_MAP_FLAG_WRITE));
	TAP_CHECK_EQ(dev_dma(d, 0x30000, "w", 1, true, NULL), 0, "write");
	TAP_CHECK_EQ(dev_dma(d, 0x30000, buf, 1, false, NULL), 0, "read");
	/* MAP over a live TCE replaces it (H_PUT_TCE). */
	memcpy(mem + 0xa000, "replaced", 8);
	CHECK_OK(map_dma(c, 0x10000, mem + 0xa000, SZ_4K, RW));
	TAP_CHECK_EQ(dev_dma(d, 0x10000, buf, 8, false, NULL), 0, "read");
	TAP_CHECK(!memcmp(buf, "replaced", 8), "the new page");
	/* UNMAP. */
	{
		struct vfio_iommu_type1_dma_unmap u = {.argsz = 23, .iova = 0x10000, .size = SZ_4K};

		CHECK_ERRNO(EINVAL, uiommu_ioctl(c, VFIO_IOMMU_UNMAP_DMA, &u));
		u.argsz = sizeof(u);
		CHECK_OK(uiommu_ioctl(c, VFIO_IOMMU_UNMAP_DMA, &u));
		TAP_CHECK_EQ(u.size, SZ_4K, "size not written back");
	}
	CHECK_ERRNO(EINVAL, unmap_dma(c, 0x10000, SZ_4K, VFIO_DMA_UNMAP_FLAG_ALL));
	CHECK_ERRNO(ENXIO, unmap_dma(c, SZ_1G, SZ_4K, 0));
	CHECK_ERRNO(EINVAL, unmap_dma(c, 0x10000, 100, 0));
	TAP_CHECK_EQ(unmap_dma(c, 0x10800, SZ_4K, 0), 1, "misaligned iova");
	TAP_CHECK_EQ(unmap_dma(c, SZ_1G - SZ_4K, 2 * SZ_4K, 0), 1, "past the window");
	TAP_CHECK_EQ(dev_dma(d, 0x11000, buf, 8, false, NULL), 0, "second page still mapped");
	TAP_CHECK_EQ(dev_dma(d, 0x10000, buf, 8, false, NULL), -EFAULT, "first page gone");
	TAP_CHECK_EQ(spapr_pe_freeze_count(pe1) > 0, 1, "freezes counted");
	pe_recover(pe1);
	CHECK_OK(unmap_dma(c, 0, SZ_1G, 0));
	TAP_CHECK_EQ(dev_dma(d, 0x11000, buf, 8, false, NULL), -EFAULT, "all gone");
	pe_recover(pe1);
	uiommu_close(c);
	uiommu_close(g);
	check_no_leak();
}

static void test_v2_windows(void *arg)
{
	struct uiommu_file *g, *c = container_with(41, VFIO_SPAPR_TCE_v2_IOMMU, &g);
	struct vfio_iommu_spapr_tce_create cr = {.argsz = 39, .page_shift = 16,
						 .window_size = 1ULL << 32, .levels = 1};
	struct sdev *d = &devs[0];
	uint64_t start = 0, before;
	uint8_t buf[16];

	CHECK_OK(reg_mem(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, mem, 4 << 20));
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr));
	cr.argsz = sizeof(cr);
	cr.flags = 1;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr));
	/* REMOVE of 0 while the default window is pending only cancels it. */
	CHECK_OK(tce_remove(c, 0));
	TAP_CHECK(!spapr_pe_window(pe1, 0), "nothing created");
	CHECK_ERRNO(ENXIO, map_dma(c, 0, mem, SZ_4K, RW));
	before = locked_pages();
	/* Bad geometries. */
	CHECK_ERRNO(EINVAL, tce_create(c, 13, 1ULL << 32, 1, NULL));
	CHECK_ERRNO(EINVAL, tce_create(c, 64, 1ULL << 32, 1, NULL));
	CHECK_ERRNO(EINVAL, tce_create(c, 16, 1ULL << 32, 0, NULL));
	CHECK_ERRNO(EINVAL, tce_create(c, 16, 1ULL << 32, 6, NULL));
	CHECK_ERRNO(EINVAL, tce_create(c, 16, 3ULL << 30, 1, NULL));
	CHECK_ERRNO(EINVAL, tce_create(c, 16, SZ_4K, 1, NULL));
	/*
	 * (level bits - 3) * levels + page_shift must stay below 55, a level
	 * being at least a 64 KiB kernel page: four levels never fit.
	 */
	CHECK_ERRNO(EINVAL, tce_create(c, 12, 1ULL << 32, 4, NULL));
	CHECK_ERRNO(EINVAL, tce_create(c, 12, 1ULL << 32, 5, NULL));
	TAP_CHECK_EQ(locked_pages(), before, "failures account nothing");
	/* Slot 0 is free again: the platform puts it at 0. */
	CHECK_OK(tce_create(c, 16, 1ULL << 32, 1, &start));
	TAP_CHECK_EQ(start, 0, "slot 0 at bus address 0");
	TAP_CHECK_EQ(locked_pages(), before + spapr_table_size(16, 1ULL << 32, 1) / 4096,
		     "table accounted");
	/* Slot 1: the DDW, at 1 << 59, three levels of 4 KiB TCEs over 1 TiB. */
	CHECK_OK(tce_create(c, 12, 1ULL << 40, 3, &start));
	TAP_CHECK_EQ(start, DDW_START, "slot 1 at 1 << 59");
	CHECK_ERRNO(ENOSPC, tce_create(c, 16, 1ULL << 32, 1, NULL));
	/* Bytes through both windows. */
	memcpy(mem + 0x20000, "window-0", 8);
	memcpy(mem + 0x31000, "ddw-3lvl", 8);
	CHECK_OK(map_dma(c, 0x50000, mem + 0x20000, SZ_64K, RW));
	CHECK_ERRNO(EINVAL, map_dma(c, 0x60000, mem + 0x1000, SZ_64K, RW)); /* vaddr % 64K */
	CHECK_OK(map_dma(c, DDW_START + (7ULL << 30), mem + 0x31000, SZ_4K, RW));
	TAP_CHECK_EQ(dev_dma(d, 0x50000, buf, 8, false, NULL), 0, "w0");
	TAP_CHECK(!memcmp(buf, "window-0", 8), "w0 bytes");
	TAP_CHECK_EQ(dev_dma(d, DDW_START + (7ULL << 30), buf, 8, false, NULL), 0, "ddw");
	TAP_CHECK(!memcmp(buf, "ddw-3lvl", 8), "ddw bytes");
	TAP_CHECK_EQ(dev_dma(d, DDW_START + (1ULL << 40), buf, 8, false, NULL), -EFAULT,
		     "beyond the DDW: no window");
	pe_recover(pe1);
	/* REMOVE: any address in the window names it; unknown ones are EINVAL. */
	CHECK_ERRNO(EINVAL, tce_remove(c, 1ULL << 33));
	CHECK_OK(tce_remove(c, DDW_START + SZ_64K));
	TAP_CHECK_EQ(dev_dma(d, DDW_START + (7ULL << 30), buf, 8, false, NULL), -EFAULT, "gone");
	pe_recover(pe1);
	/* A 16 MiB-page DDW: our memory is not huge, so MAP cannot take from it. */
	CHECK_OK(tce_create(c, 24, 1ULL << 36, 1, &start));
	TAP_CHECK_EQ(start, DDW_START, "again at 1 << 59");
	CHECK_ERRNO(EINVAL, map_dma(c, DDW_START, mem, 1ULL << 24, RW));
	CHECK_OK(tce_remove(c, DDW_START));
	CHECK_OK(tce_remove(c, 0));
	TAP_CHECK_EQ(locked_pages(), before, "tables unaccounted");
	CHECK_ERRNO(EINVAL, tce_remove(c, 0));
	{
		struct vfio_iommu_spapr_tce_remove rm = {.argsz = 15};

		CHECK_ERRNO(EINVAL, uiommu_ioctl(c, VFIO_IOMMU_SPAPR_TCE_REMOVE, &rm));
		rm.argsz = sizeof(rm);
		rm.flags = 1;
		CHECK_ERRNO(EINVAL, uiommu_ioctl(c, VFIO_IOMMU_SPAPR_TCE_REMOVE, &rm));
	}
	uiommu_close(g);
	uiommu_close(c);
	check_no_leak();
}

static void test_v2_two_groups(void *arg)
{
	struct uiommu_file *g1, *c = container_with(41, VFIO_SPAPR_TCE_v2_IOMMU, &g1);
	struct uiommu_file *g2 = group_open(42);
	uint8_t buf[8];

	CHECK_OK(reg_mem(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, mem, 1 << 20));
	memcpy(mem + 0x4000, "shared!!", 8);
	CHECK_OK(map_dma(c, 0x4000, mem + 0x4000, SZ_4K, RW));
	/* A group joining later gets the container's windows. */
	CHECK_OK(set_container(g2, c));
	TAP_CHECK(spapr_pe_window(pe2, 0) == spapr_pe_window(pe1, 0), "one table, two PEs");
	TAP_CHECK_EQ(dev_dma(&devs[1], 0x4000, buf, 8, false, NULL), 0, "dev 2 reads");
	TAP_CHECK(!memcmp(buf, "shared!!", 8), "the same bytes");
	/* GET_STATE answers from the first group with a non-zero state. */
	TAP_CHECK_EQ(dev_dma(&devs[1], 0x9000, buf, 8, false, NULL), -EFAULT, "dev 2 faults");
	TAP_CHECK_EQ(spapr_eeh_get_state(pe1), VFIO_EEH_PE_STATE_NORMAL, "PE 1 unaffected");
	TAP_CHECK_EQ(eeh_op(c, VFIO_EEH_PE_GET_STATE), VFIO_EEH_PE_STATE_STOPPED, "PE 2 frozen");
	/* Thaw ops go to every group until one fails. */
	CHECK_OK(eeh_op(c, VFIO_EEH_PE_UNFREEZE_DMA));
	TAP_CHECK_EQ(eeh_op(c, VFIO_EEH_PE_GET_STATE), VFIO_EEH_PE_STATE_UNAVAIL, "MMIO frozen");
	CHECK_OK(eeh_op(c, VFIO_EEH_PE_UNFREEZE_IO));
	TAP_CHECK_EQ(eeh_op(c, VFIO_EEH_PE_GET_STATE), VFIO_EEH_PE_STATE_NORMAL, "thawed");
	/* A v1-only PE cannot join a v2 container. */
	{
		struct uiommu_file *g3 = group_open(43);

		CHECK_ERRNO(EINVAL, set_container(g3, c));
		uiommu_close(g3);
	}
	/* A group leaving clears every TCE of the shared windows (Linux does). */
	CHECK_OK(uiommu_ioctl(g2, VFIO_GROUP_UNSET_CONTAINER, NULL));
	TAP_CHECK(!spapr_pe_window(pe2, 0), "PE 2 has no window left");
	TAP_CHECK_EQ(dev_dma(&devs[0], 0x4000, buf, 8, false, NULL), -EFAULT, "cleared for PE 1");
	uiommu_close(g2);
	uiommu_close(c); /* container first, then its last group */
	uiommu_close(g1);
	check_no_leak();
}

/* ------------------------------------------------------------------ */
/* v1                                                                 */

static void test_v1(void *arg)
{
	struct uiommu_file *g, *c = container_with(41, VFIO_SPAPR_TCE_IOMMU, &g);
	struct uiommu_file *g2 = group_open(42);
	uint64_t before = locked_pages();
	uint8_t buf[8];

	/* v1 reuses its tables for one PE only. */
	CHECK_ERRNO(EBUSY, set_container(g2, c));
	uiommu_close(g2);
	CHECK_ERRNO(EPERM, map_dma(c, 0, mem, SZ_4K, RW));
	CHECK_ERRNO(ENOTTY, reg_mem(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, mem, SZ_64K));
	CHECK_ERRNO(ENOTTY, reg_mem(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, mem, SZ_64K));
	CHECK_ERRNO(ENOTTY, tce_create(c, 16, 1ULL << 32, 1, NULL));
	CHECK_ERRNO(ENOTTY, tce_remove(c, 0));
	CHECK_OK(uiommu_ioctl(c, VFIO_IOMMU_DISABLE, 0)); /* not enabled: still 0 */
	CHECK_OK(uiommu_ioctl(c, VFIO_IOMMU_ENABLE, 0));
	TAP_CHECK_EQ(locked_pages(), before + SZ_1G / 4096, "the whole 32-bit window");
	CHECK_ERRNO(EBUSY, uiommu_ioctl(c, VFIO_IOMMU_ENABLE, 0));
	/* No preregistration: any mapped memory will do; it is "pinned" at MAP. */
	memcpy(mem + (5 << 20), "v1-bytes", 8);
	CHECK_OK(map_dma(c, 0x7000, mem + (5 << 20), SZ_4K, VFIO_DMA_MAP_FLAG_READ));
	TAP_CHECK_EQ(locked_pages(),
		     before + SZ_1G / 4096 + spapr_table_size(12, SZ_1G, 1) / 4096,
		     "the default window's table too, nothing per page");
	TAP_CHECK_EQ(dev_dma(&devs[0], 0x7000, buf, 8, false, NULL), 0, "read");
	TAP_CHECK(!memcmp(buf, "v1-bytes", 8), "v1 bytes");
	{
		void *ro = mmap(NULL, 2 * SZ_64K, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint8_t *p = (uint8_t *)ALIGN_UP((uintptr_t)ro, SZ_64K);

		/* Read-only memory pins for a to-device TCE, not for one the device writes. */
		CHECK_ERRNO(EFAULT, map_dma(c, 0x8000, p, SZ_4K, RW));
		CHECK_OK(map_dma(c, 0x8000, p, SZ_4K, VFIO_DMA_MAP_FLAG_READ));
		CHECK_OK(unmap_dma(c, 0x8000, SZ_4K, 0));
		munmap(ro, 2 * SZ_64K);
	}
	CHECK_OK(uiommu_ioctl(c, VFIO_IOMMU_DISABLE, 0));
	CHECK_ERRNO(EPERM, map_dma(c, 0x7000, mem, SZ_4K, RW));
	TAP_CHECK_EQ(dev_dma(&devs[0], 0x7000, buf, 8, false, NULL), 0, "DISABLE unmaps nothing");
	uiommu_close(g);
	uiommu_close(c);
	check_no_leak();
}

/* ------------------------------------------------------------------ */
/* EEH                                                                */

static void test_eeh(void *arg)
{
	struct uiommu_file *g, *c = container_with(41, VFIO_SPAPR_TCE_v2_IOMMU, &g);
	struct vfio_eeh_pe_op op = {.argsz = 11};
	struct sdev *d = &devs[0];
	uint8_t buf[8];

	CHECK_ERRNO(EINVAL, uiommu_ioctl(c, VFIO_EEH_PE_OP, &op));
	op.argsz = 12;
	op.flags = 1;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c, VFIO_EEH_PE_OP, &op));
	CHECK_ERRNO(EFAULT, uiommu_ioctl(c, VFIO_EEH_PE_OP, NULL));
	CHECK_ERRNO(EINVAL, eeh_op(c, 10));
	CHECK_OK(eeh_op(c, VFIO_EEH_PE_ENABLE));
	CHECK_OK(eeh_op(c, VFIO_EEH_PE_DISABLE));
	CHECK_OK(eeh_op(c, VFIO_EEH_PE_CONFIGURE));
	spapr_eeh_set_enabled(false);
	CHECK_ERRNO(EIO, eeh_op(c, VFIO_EEH_PE_ENABLE));
	spapr_eeh_set_enabled(true);
	TAP_CHECK_EQ(eeh_op(c, VFIO_EEH_PE_GET_STATE), VFIO_EEH_PE_STATE_NORMAL, "normal");

	CHECK_OK(reg_mem(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, mem, 1 << 20));
	CHECK_OK(map_dma(c, 0x1000, mem + 0x1000, 4 * SZ_4K, RW));
	/* A DMA outside every window freezes the PE; MMIO reads then see all ones. */
	TAP_CHECK_EQ(dev_dma(d, SZ_1G + 0x1000, buf, 8, false, NULL), -EFAULT, "no window");
	TAP_CHECK_EQ(eeh_op(c, VFIO_EEH_PE_GET_STATE), VFIO_EEH_PE_STATE_STOPPED, "stopped");
	TAP_CHECK(!spapr_dev_mmio_ok(d->vdev.dev, false), "MMIO frozen");
	{
		int fd = uiommu_ioctl(g, VFIO_GROUP_GET_DEVICE_FD, d->name);
		struct uiommu_file *df = fd >= 0 ? uiommu_file_from_fd(fd) : NULL;
		uint64_t v = 0x1234;

		TAP_CHECK(df, "GET_DEVICE_FD: %s", strerror(errno));
		d->bar0[1] = 0x5a5a;
		TAP_CHECK_EQ(uiommu_pwrite(df, &v, 8, 8), 8, "store dropped");
		TAP_CHECK_EQ(uiommu_pread(df, &v, 8, 8), 8, "load");
		TAP_CHECK_EQ(v, UINT64_MAX, "a frozen BAR reads all ones");
		TAP_CHECK_EQ(d->bar0[1], 0x5a5a, "the store never reached the device");
		CHECK_OK(eeh_op(c, VFIO_EEH_PE_UNFREEZE_IO));
		TAP_CHECK_EQ(uiommu_pread(df, &v, 8, 8), 8, "load");
		TAP_CHECK_EQ(v, 0x5a5a, "thawed MMIO reads the device");
		uiommu_close(df);
	}
	TAP_CHECK_EQ(dev_dma(d, 0x1000, buf, 8, false, NULL), -EIO, "good DMA fails too");
	TAP_CHECK_EQ(eeh_op(c, VFIO_EEH_PE_GET_STATE), VFIO_EEH_PE_STATE_STOPPED_DMA, "dma only");
	TAP_CHECK(spapr_dev_mmio_ok(d->vdev.dev, false), "MMIO back");
	CHECK_OK(eeh_op(c, VFIO_EEH_PE_UNFREEZE_DMA));
	TAP_CHECK_EQ(dev_dma(d, 0x1000, buf, 8, false, NULL), 0, "DMA back");
	/* Reset: asserted (RESET, no DMA), deasserted (NORMAL). */
	CHECK_OK(eeh_op(c, VFIO_EEH_PE_RESET_HOT));
	TAP_CHECK_EQ(eeh_op(c, VFIO_EEH_PE_GET_STATE), VFIO_EEH_PE_STATE_RESET, "in reset");
	TAP_CHECK_EQ(dev_dma(d, 0x1000, buf, 8, false, NULL), -EIO, "no DMA in reset");
	CHECK_OK(eeh_op(c, VFIO_EEH_PE_RESET_DEACTIVATE));
	TAP_CHECK_EQ(eeh_op(c, VFIO_EEH_PE_GET_STATE), VFIO_EEH_PE_STATE_NORMAL, "out");
	CHECK_OK(eeh_op(c, VFIO_EEH_PE_RESET_FUNDAMENTAL));
	TAP_CHECK_EQ(eeh_op(c, VFIO_EEH_PE_GET_STATE), VFIO_EEH_PE_STATE_RESET, "in reset");
	CHECK_OK(eeh_op(c, VFIO_EEH_PE_RESET_DEACTIVATE));
	TAP_CHECK_EQ(dev_dma(d, 0x1000, buf, 8, false, NULL), 0, "DMA after reset");
	/* Error injection. */
	op = (struct vfio_eeh_pe_op){.argsz = 39, .op = VFIO_EEH_PE_INJECT_ERR};
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c, VFIO_EEH_PE_OP, &op));
	op.argsz = sizeof(op);
	op.err.func = 20;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c, VFIO_EEH_PE_OP, &op));
	op.err.func = 16; /* DMA write, address */
	op.err.type = 2;
	CHECK_ERRNO(ERANGE, uiommu_ioctl(c, VFIO_EEH_PE_OP, &op));
	op.err.type = 1;
	op.err.addr = 0x3000;
	op.err.mask = ~0xfffULL;
	CHECK_OK(uiommu_ioctl(c, VFIO_EEH_PE_OP, &op));
	TAP_CHECK_EQ(dev_dma(d, 0x3000, buf, 8, false, NULL), 0, "a read does not match");
	TAP_CHECK_EQ(dev_dma(d, 0x2000, "x", 1, true, NULL), 0, "another page does not match");
	TAP_CHECK_EQ(dev_dma(d, 0x3008, "x", 1, true, NULL), -EIO, "the write hits");
	TAP_CHECK_EQ(eeh_op(c, VFIO_EEH_PE_GET_STATE), VFIO_EEH_PE_STATE_STOPPED, "frozen");
	CHECK_OK(eeh_op(c, VFIO_EEH_PE_RESET_HOT));
	CHECK_OK(eeh_op(c, VFIO_EEH_PE_RESET_DEACTIVATE));
	TAP_CHECK_EQ(dev_dma(d, 0x3008, "x", 1, true, NULL), 0, "disarmed by the hit");
	/* A load / store function freezes at once. */
	op.err.func = 0;
	CHECK_OK(uiommu_ioctl(c, VFIO_EEH_PE_OP, &op));
	TAP_CHECK_EQ(eeh_op(c, VFIO_EEH_PE_GET_STATE), VFIO_EEH_PE_STATE_STOPPED, "frozen");
	CHECK_OK(eeh_op(c, VFIO_EEH_PE_RESET_HOT));
	CHECK_OK(eeh_op(c, VFIO_EEH_PE_RESET_DEACTIVATE));
	uiommu_close(g);
	uiommu_close(c);
	check_no_leak();
}

/* UNREGISTER while TCEs point into the region: 0, and the region stays (Linux 6.12). */
static void test_unregister_mapped(void *arg)
{
	struct uiommu_file *g, *c = container_with(41, VFIO_SPAPR_TCE_v2_IOMMU, &g);
	uint8_t *m = mem + (6 << 20);
	uint64_t before = locked_pages();
	uint8_t buf[8];

	CHECK_OK(reg_mem(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, m, SZ_64K));
	CHECK_OK(map_dma(c, 0, m, SZ_4K, RW));
	CHECK_OK(reg_mem(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, m, SZ_64K));
	CHECK_ERRNO(ENOENT, reg_mem(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, m, SZ_64K));
	TAP_CHECK_EQ(dev_dma(&devs[0], 0, buf, 8, false, NULL), 0, "the TCE still works");
	/* Registering it again adopts the lingering region; then it can go. */
	CHECK_OK(unmap_dma(c, 0, SZ_4K, 0));
	CHECK_OK(reg_mem(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, m, SZ_64K));
	/*
	 * The orphaned reference of the first UNREGISTER is never dropped:
	 * the region stays registered and accounted for the life of the
	 * process ("mm"), as in Linux.
	 */
	CHECK_OK(reg_mem(c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, m, SZ_64K));
	TAP_CHECK_EQ(locked_pages(), before + (spapr_table_size(12, SZ_1G, 1) + SZ_64K) / 4096,
		     "the window's table and the lingering region");
	uiommu_close(c);
	uiommu_close(g);
	base_locked += SZ_64K / 4096;
	check_no_leak();
}

static bool no_cap(int cap)
{
	(void)cap;
	return false;
}

/* Locked memory past RLIMIT_MEMLOCK without CAP_IPC_LOCK: ENOMEM, nothing kept. */
static void test_rlimit(void *arg)
{
	struct rlimit saved, rl;
	struct uiommu_file *g, *c;
	uint64_t before = locked_pages();

	TAP_CHECK(!getrlimit(RLIMIT_MEMLOCK, &saved), "getrlimit");
	rl = saved;
	rl.rlim_cur = (before * 4096) + (512 << 10);
	TAP_CHECK(rl.rlim_max == RLIM_INFINITY || rl.rlim_cur <= rl.rlim_max, "room to lower");
	TAP_CHECK(!setrlimit(RLIMIT_MEMLOCK, &rl), "setrlimit: %s", strerror(errno));
	iommufd_capable = no_cap;
	c = container_with(41, VFIO_SPAPR_TCE_v2_IOMMU, &g);
	CHECK_ERRNO(ENOMEM, reg_mem(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, mem, 1 << 20));
	CHECK_OK(reg_mem(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, mem, 256 << 10));
	/* The default window's table (4 MiB) does not fit any more. */
	CHECK_ERRNO(ENOMEM, map_dma(c, 0, mem, SZ_4K, RW));
	TAP_CHECK(!spapr_pe_window(pe1, 0), "no window made");
	uiommu_close(g);
	uiommu_close(c);
	c = container_with(41, VFIO_SPAPR_TCE_IOMMU, &g);
	CHECK_ERRNO(ENOMEM, uiommu_ioctl(c, VFIO_IOMMU_ENABLE, 0));
	CHECK_ERRNO(EPERM, map_dma(c, 0, mem, SZ_4K, RW));
	uiommu_close(g);
	uiommu_close(c);
	iommufd_capable = always_cap;
	setrlimit(RLIMIT_MEMLOCK, &saved);
	check_no_leak();
}

/* Close in every order: group then container, container then group, device fd last. */
static void test_close_orders(void *arg)
{
	for (int order = 0; order < 3; order++) {
		struct uiommu_file *g, *c = container_with(41, VFIO_SPAPR_TCE_v2_IOMMU, &g);
		struct uiommu_file *dev;
		int fd;

		CHECK_OK(reg_mem(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, mem, 1 << 20));
		CHECK_OK(tce_create(c, 16, 1ULL << 32, 2, NULL));
		CHECK_OK(map_dma(c, DDW_START, mem, SZ_64K, RW));
		fd = uiommu_ioctl(g, VFIO_GROUP_GET_DEVICE_FD, devs[0].name);
		TAP_CHECK(fd >= 0, "GET_DEVICE_FD: %s", strerror(errno));
		dev = uiommu_file_from_fd(fd);
		switch (order) {
		case 0:
			uiommu_close(dev);
			uiommu_close(g);
			uiommu_close(c);
			break;
		case 1:
			uiommu_close(c);
			uiommu_close(dev);
			uiommu_close(g);
			break;
		default:
			uiommu_close(g);
			uiommu_close(c);
			TAP_CHECK(spapr_pe_window(pe1, 0), "the device fd keeps the group in");
			uiommu_close(dev);
			break;
		}
		check_no_leak();
	}
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void *arg);
	} tests[] = {
		{"CHECK_EXTENSION and SET_IOMMU with sPAPR groups", test_check_extension},
		{"SPAPR_TCE_GET_INFO, v1 and v2", test_get_info},
		{"v2 REGISTER / UNREGISTER_MEMORY", test_v2_register},
		{"v2 MAP / UNMAP in the default window, DMA bytes", test_v2_map_window0},
		{"v2 TCE_CREATE / TCE_REMOVE, DDW", test_v2_windows},
		{"v2 two groups share the windows", test_v2_two_groups},
		{"v1 ENABLE / DISABLE, MAP", test_v1},
		{"EEH ops, freeze and recovery, injection", test_eeh},
		{"UNREGISTER of a mapped region", test_unregister_mapped},
		{"RLIMIT_MEMLOCK without CAP_IPC_LOCK", test_rlimit},
		{"close in any order", test_close_orders},
	};
	struct spapr_config no_ddw = {.no_ddw = true};
	struct spapr_pe *pes[3];
	void *raw;
	int err = 0;

	phb_a = spapr_iommu_create(NULL, &err);
	phb_b = spapr_iommu_create(&no_ddw, &err);
	pe1 = phb_a ? spapr_pe_create(phb_a, 1, &err) : NULL;
	pe2 = phb_a ? spapr_pe_create(phb_a, 2, &err) : NULL;
	pe3 = phb_b ? spapr_pe_create(phb_b, 3, &err) : NULL;
	pes[0] = pe1;
	pes[1] = pe2;
	pes[2] = pe3;
	for (int i = 0; i < 3; i++) {
		char name[32];

		snprintf(name, sizeof(name), "0001:00:%02x.0", i + 1);
		if (!pes[i] || sdev_create(&devs[i], pes[i], 41 + i, name)) {
			printf("Bail out! topology\n");
			return 1;
		}
	}
	raw = mmap(NULL, MEM_SIZE + SZ_64K, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	if (raw == MAP_FAILED) {
		printf("Bail out! memory\n");
		return 1;
	}
	mem = (uint8_t *)ALIGN_UP((uintptr_t)raw, SZ_64K);
	/* Windows of 1 GiB and more count GiBs: as with CAP_IPC_LOCK (test_rlimit: without). */
	iommufd_capable = always_cap;
	base_files = ufile_count();
	base_locked = locked_pages();
	tap_plan(ARRAY_SIZE_T(tests) + 1);
	for (size_t i = 0; i < ARRAY_SIZE_T(tests); i++)
		tap_run(tests[i].name, tests[i].fn, NULL);
	{
		int rc = 0;

		for (int i = 2; i >= 0; i--) {
			rc |= vfio_unregister_device(&devs[i].vdev);
			spapr_dev_destroy(devs[i].vdev.dev);
		}
		rc |= spapr_pe_destroy(pe1) | spapr_pe_destroy(pe2) | spapr_pe_destroy(pe3);
		rc |= spapr_iommu_destroy(phb_a) | spapr_iommu_destroy(phb_b);
		printf("%s %u - topology torn down\n", rc ? "not ok" : "ok", ++tap.n);
		if (rc)
			tap.failed++;
	}
	munmap(raw, MEM_SIZE + SZ_64K);
	return tap_done();
}
