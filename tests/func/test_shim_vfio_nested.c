// SPDX-License-Identifier: MIT
/*
 * The nested-stage VFIO extension ("IOMMU Dual Stage Control", v13;
 * reference vfio.md §2) end to end, the way a VMM with a vSMMUv3 uses it,
 * through libc alone under the preload shim: open, ioctl, pread, pwrite,
 * mmap, poll on /dev/vfio, the uAPI headers, the dmatest data sheet
 * (doc/dmatest.md) for the device's registers, and the SMMUv3 / VMSAv8-64
 * formats (reference hw.md §1.5, §3) for the guest's structures, which
 * this program builds itself in the guest RAM it maps: no library code.
 *
 * It runs twice (tests/func/meson.build):
 *   default  no UIOMMU_CONFIG: 0000:00:01.0 alone in group 1 behind smmu0;
 *   three    scenarios/topology-three-devices.json: 01.0 and 02.0 share
 *            group 5 behind smmu0 (one container, one stage 2, one guest
 *            CD table for both), 03.0 is behind the mock in group 6.
 *
 * The flow (vfio.md §2.10, as QEMU's RFC v9 consumes it, §2.11):
 *  1. container, CHECK_EXTENSION / SET_IOMMU(VFIO_TYPE1_NESTING_IOMMU)
 *     after SET_CONTAINER; MAP_DMA of all guest RAM (stage 2);
 *  2. the device: GET_INFO counts the extension's two regions and IRQ; the
 *     DMA FAULT region found by its TYPE cap (caps DMA_FAULT version 1 and
 *     SPARSE_MMAP {PAGE_SIZE, rest}), its header (tail 0, entry_size 64,
 *     nb_entries 512, offset PAGE_SIZE, head 0), the ring mmap()ed (page 0
 *     refused), the DMA FAULT IRQ found by its type, an eventfd on it;
 *  3. a stage 1 (4 levels, 4K, 48-bit) and a CD built in guest RAM,
 *     SET_PASID_TABLE(SET, TRANSLATE, the CD's GPA);
 *  4. dmatest COPYs through both stages (every byte, none past the end);
 *     a stage-1 page moved + CACHE_INVALIDATE (ADDR, ASID): the next COPY
 *     reads the new page;
 *  5. a stage-1 page unmapped + CACHE_INVALIDATE (PASID, ASID): the COPY
 *     stops at it (dmatest's FAULT_IOVA, DONE_BYTES), the eventfd counts 1,
 *     the header's head advanced by one, the record says UNRECOV /
 *     PTE_FETCH / ADDR_VALID, addr = the faulting IOVA, pasid 0, perm READ,
 *     no fetch address; a read-only page written: PERMISSION, perm WRITE;
 *     the tail written back;
 *  6. MSI: the completion message of an MSI-X vector goes through the
 *     guest's stage 1 (ARM: MSIs are translated by both stages). Before
 *     SET_MSI_BINDING the host's message names its own doorbell IOVA, which
 *     the guest's stage 1 does not map: the write faults at stage 1 (a
 *     record in the ring: addr = that IOVA + the doorbell register, perm
 *     WRITE) and no interrupt reaches the MSI-X eventfd. After BIND of the
 *     guest's doorbell IOVA -> GPA the message lands and the eventfd
 *     counts 1, with no record; UNBIND makes it fault again.
 *  7. UNSET: stage 2 only again, the guest's IOVA is a GPA.
 */
#include <linux/iommu.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <sys/eventfd.h>

#include "shim_utils.h"

#define F_TRANSLATION 0x10 /* SMMUv3 event types dmatest reports as its reason */
#define F_PERMISSION  0x13

/* The guest. */
#define GRAM_GPA   0x40000000ULL
#define GRAM_SIZE  0x200000ULL
#define TABLES_OFF 0x100000ULL /* stage-1 tables: 64 pages from here */
#define TABLES_END 0x140000ULL
#define CD_OFF	   0x140000ULL
#define SRC_OFF	   0x180000ULL /* four pages of source data */
#define ALT_OFF	   0x188000ULL /* the page a stage-1 entry moves to */
#define DST_OFF	   0x190000ULL /* four pages of destination */
#define SRC_IOVA   0x10000000ULL
#define DST_IOVA   0x20000000ULL
#define MSI_GIOVA  0x30000000ULL /* the guest's doorbell IOVA */
#define MSI_GPA	   0x9000000ULL	 /* its doorbell's GPA: outside RAM and the SW_MSI window */
#define HOST_MSI   0x8000000ULL	 /* the host's own doorbell IOVA (SW_MSI window, hw.md) */
#define DB_REG	   0x40		 /* the doorbell register in its page (doc/dmatest.md) */
#define ASID	   7
#define COPY_LEN   0x2345u
/* A record's perm: the access, and PRIV (the device's requests are privileged data, PnU). */
#define PERM_R (IOMMU_FAULT_PERM_READ | IOMMU_FAULT_PERM_PRIV)
#define PERM_W (IOMMU_FAULT_PERM_WRITE | IOMMU_FAULT_PERM_PRIV)

/* VMSAv8-64 stage 1, 4K granule (hw.md §3.2) */
#define D_VALID	  1ULL
#define D_TABLE	  3ULL	      /* table (levels 0-2) / page (level 3) */
#define D_AP_RW	  (1ULL << 6) /* AP[2:1] = 01: read-write */
#define D_AP_RO	  (3ULL << 6) /* AP[2:1] = 11: read-only */
#define D_SH_IS	  (3ULL << 8)
#define D_AF	  (1ULL << 10)
#define D_ADDR(d) ((d)&0x0000fffffffff000ULL)

/* SMMUv3 CD (hw.md §1.5), as two 64-bit words */
#define CD0_T0SZ(t) ((uint64_t)(t))
#define CD0_EPD1    (1ULL << 30)
#define CD0_V	    (1ULL << 31)
#define CD0_IPS_48  (5ULL << 32)
#define CD0_AA64    (1ULL << 41)
#define CD0_R	    (1ULL << 45)
#define CD0_A	    (1ULL << 46)
#define CD0_ASID(a) ((uint64_t)(a) << 48)

static bool three;

struct guest {
	uint8_t *ram;
	uint64_t next_table; /* offset of the next free table page */
	uint64_t root;	     /* GPA of the level-0 table */
};

static uint64_t *gptr(struct guest *g, uint64_t gpa)
{
	TAP_CHECK(gpa >= GRAM_GPA && gpa < GRAM_GPA + GRAM_SIZE, "GPA 0x%llx outside RAM",
		  (unsigned long long)gpa);
	return (uint64_t *)(g->ram + (gpa - GRAM_GPA));
}

static uint64_t table_alloc(struct guest *g)
{
	uint64_t gpa = GRAM_GPA + g->next_table;

	TAP_CHECK(g->next_table < TABLES_END, "out of table pages");
	g->next_table += SHIM_PAGE;
	memset(gptr(g, gpa), 0, SHIM_PAGE);
	return gpa;
}

/* The level-3 descriptor slot of @iova, making the tables on the way. */
static uint64_t *pte_slot(struct guest *g, uint64_t iova)
{
	uint64_t table = g->root;

	for (int level = 0; level < 3; level++) {
		uint64_t *slot = gptr(g, table) + ((iova >> (39 - 9 * level)) & 511);
		uint64_t d = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

		if (!(d & D_VALID)) {
			d = table_alloc(g) | D_TABLE;
			__atomic_store_n(slot, d, __ATOMIC_RELEASE);
		}
		table = D_ADDR(d);
	}
	return gptr(g, table) + ((iova >> 12) & 511);
}

static void s1_map(struct guest *g, uint64_t iova, uint64_t gpa, uint64_t ap)
{
	__atomic_store_n(pte_slot(g, iova), gpa | D_TABLE | ap | D_SH_IS | D_AF, __ATOMIC_RELEASE);
}

static void s1_unmap(struct guest *g, uint64_t iova)
{
	__atomic_store_n(pte_slot(g, iova), 0, __ATOMIC_RELEASE);
}

static void guest_init(struct guest *g, uint8_t *ram)
{
	uint64_t *cd;

	g->ram = ram;
	g->next_table = TABLES_OFF;
	g->root = table_alloc(g);
	cd = gptr(g, GRAM_GPA + CD_OFF);
	cd[0] = CD0_T0SZ(16) | CD0_EPD1 | CD0_V | CD0_IPS_48 | CD0_AA64 | CD0_R | CD0_A |
		CD0_ASID(ASID);
	cd[1] = g->root; /* TTB0 */
}

/* ------------------------------------------------------------------ */
/* The VMM's side                                                     */

struct vmm {
	int container, group;
	uint8_t *ram;
	struct guest g;
};

struct dev {
	int fd;
	uint64_t bar0, fault_off, fault_size;
	const uint8_t *ring;
	int fault_irq, fault_ev, ev0, ev1;
};

static void reg_wr(struct dev *d, unsigned int off, unsigned int size, uint64_t v)
{
	TAP_CHECK(pwrite(d->fd, &v, size, (off_t)(d->bar0 + off)) == (ssize_t)size,
		  "BAR0 write 0x%x: %s", off, strerror(errno));
}

static uint64_t reg_rd(struct dev *d, unsigned int off, unsigned int size)
{
	uint64_t v = 0;

	TAP_CHECK(pread(d->fd, &v, size, (off_t)(d->bar0 + off)) == (ssize_t)size,
		  "BAR0 read 0x%x: %s", off, strerror(errno));
	return v;
}

static uint32_t copy(struct dev *d, uint64_t src, uint64_t dst, uint32_t len)
{
	reg_wr(d, DT_SRC, 8, src);
	reg_wr(d, DT_DST, 8, dst);
	reg_wr(d, DT_LEN, 4, len);
	reg_wr(d, DT_OP, 4, OP_COPY);
	reg_wr(d, DT_GO, 4, 1);
	return (uint32_t)reg_rd(d, DT_STATUS, 4);
}

/* The eventfd's count without waiting: 0 when it did not fire. */
static uint64_t ev_take(int efd)
{
	uint64_t v = 0;

	if (poll_now(efd, POLLIN) != POLLIN || read(efd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static int eventfd_nb(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	TAP_CHECK(fd >= 0, "eventfd");
	return fd;
}

static uint32_t find_cap(const uint8_t *buf, uint32_t off, uint16_t id)
{
	for (; off; off = ((const struct vfio_info_cap_header *)(buf + off))->next)
		if (((const struct vfio_info_cap_header *)(buf + off))->id == id)
			return off;
	return 0;
}

static void vmm_open(struct vmm *v)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.iova = GRAM_GPA,
		.size = GRAM_SIZE,
	};
	const char *gpath = three ? "/dev/vfio/5" : "/dev/vfio/1";

	v->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	TAP_CHECK(v->container >= 0, "container: %s", strerror(errno));
	TAP_CHECK_EQ(ioctl(v->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_NESTING_IOMMU), 1,
		     "the nesting type is offered");
	v->group = open(gpath, O_RDWR | O_CLOEXEC);
	TAP_CHECK(v->group >= 0, "%s: %s", gpath, strerror(errno));
	/* SET_IOMMU needs a group first (vfio.md §3.1). */
	CHECK_ERRNO(EINVAL, ioctl(v->container, VFIO_SET_IOMMU, VFIO_TYPE1_NESTING_IOMMU));
	CHECK_OK(ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &v->container));
	CHECK_OK(ioctl(v->container, VFIO_SET_IOMMU, VFIO_TYPE1_NESTING_IOMMU));
	v->ram = mmap(NULL, GRAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	TAP_CHECK(v->ram != MAP_FAILED, "guest RAM");
	map.vaddr = (uintptr_t)v->ram;
	CHECK_OK(ioctl(v->container, VFIO_IOMMU_MAP_DMA, &map));
	guest_init(&v->g, v->ram);
}

static void vmm_close(struct vmm *v)
{
	CHECK_OK(close(v->group));
	CHECK_OK(close(v->container));
	CHECK_OK(munmap(v->ram, GRAM_SIZE));
}

static int set_msix(struct dev *d)
{
	uint8_t buf[sizeof(struct vfio_irq_set) + 2 * sizeof(int32_t)];
	struct vfio_irq_set *s = (void *)buf;
	int32_t fds[2] = {d->ev0, d->ev1};

	*s = (struct vfio_irq_set){
		.argsz = sizeof(buf),
		.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_MSIX_IRQ_INDEX,
		.count = 2,
	};
	memcpy(s->data, fds, sizeof(fds));
	return ioctl(d->fd, VFIO_DEVICE_SET_IRQS, s);
}

/* Step 2: the device, its fault region (header, caps, ring) and its fault IRQ. */
static void dev_open(struct vmm *v, struct dev *d, const char *name)
{
	struct vfio_device_info di = {.argsz = sizeof(di)};
	struct vfio_region_info bar = {.argsz = sizeof(bar), .index = VFIO_PCI_BAR0_REGION_INDEX};
	uint8_t buf[256];
	struct vfio_region_info *ri = (void *)buf;
	struct vfio_irq_info *ii = (void *)buf;
	struct vfio_region_dma_fault h;
	uint16_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	struct vfio_region_info cfg = {.argsz = sizeof(cfg), .index = VFIO_PCI_CONFIG_REGION_INDEX};
	uint32_t off;
	int found = -1;
	void *p;

	memset(d, 0, sizeof(*d));
	d->fd = ioctl(v->group, VFIO_GROUP_GET_DEVICE_FD, name);
	TAP_CHECK(d->fd >= 0, "GET_DEVICE_FD %s: %s", name, strerror(errno));
	CHECK_OK(ioctl(d->fd, VFIO_DEVICE_GET_INFO, &di));
	/* vfio-pci's 9 regions and 5 IRQs, plus the extension's 2 regions and 1 IRQ. */
	TAP_CHECK(di.num_regions == VFIO_PCI_NUM_REGIONS + 2 &&
			  di.num_irqs == VFIO_PCI_NUM_IRQS + 1,
		  "%u regions, %u IRQs", di.num_regions, di.num_irqs);
	CHECK_OK(ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &bar));
	d->bar0 = bar.offset;
	CHECK_OK(ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &cfg));
	TAP_CHECK(pwrite(d->fd, &cmd, 2, (off_t)(cfg.offset + PCI_COMMAND)) == 2, "Command");

	/* The DMA FAULT region: by its type, among the device-specific ones. */
	for (uint32_t i = VFIO_PCI_NUM_REGIONS; i < di.num_regions && found < 0; i++) {
		memset(buf, 0, sizeof(buf));
		ri->argsz = sizeof(buf);
		ri->index = i;
		CHECK_OK(ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, ri));
		TAP_CHECK(ri->flags & VFIO_REGION_INFO_FLAG_CAPS, "region %u has caps", i);
		off = find_cap(buf, ri->cap_offset, VFIO_REGION_INFO_CAP_TYPE);
		TAP_CHECK(off, "region %u: a TYPE cap", i);
		if (((struct vfio_region_info_cap_type *)(buf + off))->type ==
			    VFIO_REGION_TYPE_NESTED &&
		    ((struct vfio_region_info_cap_type *)(buf + off))->subtype ==
			    VFIO_REGION_SUBTYPE_NESTED_DMA_FAULT)
			found = (int)i;
	}
	TAP_CHECK(found >= 0, "the DMA FAULT region");
	TAP_CHECK_EQ(ri->flags & ~VFIO_REGION_INFO_FLAG_CAPS,
		     VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
			     VFIO_REGION_INFO_FLAG_MMAP,
		     "its flags");
	/* ALIGN(64 * 512, PAGE_SIZE) + PAGE_SIZE */
	TAP_CHECK_EQ(ri->size, 64 * 512 + SHIM_PAGE, "its size");
	d->fault_off = ri->offset;
	d->fault_size = ri->size;
	off = find_cap(buf, ri->cap_offset, VFIO_REGION_INFO_CAP_DMA_FAULT);
	TAP_CHECK(off && ((struct vfio_region_info_cap_fault *)(buf + off))->version == 1,
		  "DMA_FAULT cap, record ABI version 1");
	off = find_cap(buf, ri->cap_offset, VFIO_REGION_INFO_CAP_SPARSE_MMAP);
	TAP_CHECK(off, "a sparse mmap cap");
	{
		struct vfio_region_info_cap_sparse_mmap *s = (void *)(buf + off);

		TAP_CHECK(s->nr_areas == 1 && s->areas[0].offset == SHIM_PAGE &&
				  s->areas[0].size == ri->size - SHIM_PAGE,
			  "one area: the ring after the header page");
	}
	TAP_CHECK(pread(d->fd, &h, sizeof(h), (off_t)d->fault_off) == sizeof(h), "header");
	TAP_CHECK(h.tail == 0 && h.entry_size == sizeof(struct iommu_fault) && h.entry_size == 64 &&
			  h.nb_entries == 512 && h.offset == SHIM_PAGE && h.head == 0,
		  "header: tail %u entry_size %u nb_entries %u offset %u head %u", h.tail,
		  h.entry_size, h.nb_entries, h.offset, h.head);
	/* The header page is pread / pwrite only; the ring maps. */
	p = mmap(NULL, SHIM_PAGE, PROT_READ, MAP_SHARED, d->fd, (off_t)d->fault_off);
	TAP_CHECK(p == MAP_FAILED && errno == EINVAL, "mmap of the header page: EINVAL");
	p = mmap(NULL, d->fault_size - h.offset, PROT_READ, MAP_SHARED, d->fd,
		 (off_t)(d->fault_off + h.offset));
	TAP_CHECK(p != MAP_FAILED, "mmap of the ring: %s", strerror(errno));
	d->ring = p;

	/* The DMA FAULT IRQ: by its type, among the device-specific ones. */
	d->fault_irq = -1;
	for (uint32_t i = VFIO_PCI_NUM_IRQS; i < di.num_irqs && d->fault_irq < 0; i++) {
		memset(buf, 0, sizeof(buf));
		ii->argsz = sizeof(buf);
		ii->index = i;
		CHECK_OK(ioctl(d->fd, VFIO_DEVICE_GET_IRQ_INFO, ii));
		off = find_cap(buf, ii->cap_offset, VFIO_IRQ_INFO_CAP_TYPE);
		if (ii->flags & VFIO_IRQ_INFO_FLAG_CAPS && off &&
		    ((struct vfio_irq_info_cap_type *)(buf + off))->type == VFIO_IRQ_TYPE_NESTED &&
		    ((struct vfio_irq_info_cap_type *)(buf + off))->subtype ==
			    VFIO_IRQ_SUBTYPE_DMA_FAULT) {
			TAP_CHECK(ii->count == 1 && ii->flags & VFIO_IRQ_INFO_EVENTFD,
				  "one eventfd vector");
			d->fault_irq = (int)i;
		}
	}
	TAP_CHECK(d->fault_irq >= 0, "the DMA FAULT IRQ");
	d->fault_ev = eventfd_nb();
	{
		uint8_t sb[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
		struct vfio_irq_set *s = (void *)sb;

		*s = (struct vfio_irq_set){
			.argsz = sizeof(sb),
			.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
			.index = (uint32_t)d->fault_irq,
			.count = 1,
		};
		memcpy(s->data, &d->fault_ev, sizeof(int32_t));
		CHECK_OK(ioctl(d->fd, VFIO_DEVICE_SET_IRQS, s));
	}
	d->ev0 = eventfd_nb();
	d->ev1 = eventfd_nb();
	CHECK_OK(set_msix(d));
}

static void dev_close(struct dev *d)
{
	CHECK_OK(munmap((void *)d->ring, d->fault_size - SHIM_PAGE));
	CHECK_OK(close(d->fd));
	close(d->fault_ev);
	close(d->ev0);
	close(d->ev1);
}

static struct vfio_region_dma_fault header(struct dev *d)
{
	struct vfio_region_dma_fault h;

	TAP_CHECK(pread(d->fd, &h, sizeof(h), (off_t)d->fault_off) == sizeof(h), "header: %s",
		  strerror(errno));
	return h;
}

static const struct iommu_fault *record(struct dev *d, uint32_t i)
{
	return (const struct iommu_fault *)(d->ring + (size_t)i * 64);
}

/* The one record a fault added: the eventfd fired once, head moved by one. */
static const struct iommu_fault *one_fault(struct dev *d, uint32_t *head)
{
	struct vfio_region_dma_fault h;

	TAP_CHECK_EQ(ev_take(d->fault_ev), 1, "the fault eventfd fired once");
	h = header(d);
	TAP_CHECK_EQ(h.head, (*head + 1) % 512, "head advanced by one");
	TAP_CHECK(h.entry_size == 64 && h.nb_entries == 512 && h.offset == SHIM_PAGE,
		  "header constants");
	return record(d, (*head)++);
}

static void check_unrecov(const struct iommu_fault *f, uint32_t reason, uint64_t addr,
			  uint32_t perm, const char *what)
{
	TAP_CHECK(f->type == IOMMU_FAULT_DMA_UNRECOV && f->event.reason == reason &&
			  f->event.flags == IOMMU_FAULT_UNRECOV_ADDR_VALID && f->event.pasid == 0 &&
			  f->event.addr == addr && f->event.perm == perm &&
			  f->event.fetch_addr == 0,
		  "%s: type %u reason %u flags 0x%x pasid %u perm 0x%x addr 0x%llx fetch 0x%llx",
		  what, f->type, f->event.reason, f->event.flags, f->event.pasid, f->event.perm,
		  (unsigned long long)f->event.addr, (unsigned long long)f->event.fetch_addr);
}

static int set_pasid_table(struct vmm *v, uint32_t flags, uint8_t config)
{
	struct vfio_iommu_type1_set_pasid_table s = {.argsz = sizeof(s), .flags = flags};

	s.config.argsz = sizeof(s.config);
	s.config.version = PASID_TABLE_CFG_VERSION_1;
	s.config.base_ptr = GRAM_GPA + CD_OFF;
	s.config.format = IOMMU_PASID_FORMAT_SMMUV3;
	s.config.pasid_bits = 0;
	s.config.config = config;
	s.config.vendor_data.smmuv3.version = PASID_TABLE_SMMUV3_CFG_VERSION_1;
	return ioctl(v->container, VFIO_IOMMU_SET_PASID_TABLE, &s);
}

static int invalidate_addr(struct vmm *v, uint64_t iova)
{
	struct vfio_iommu_type1_cache_invalidate c = {.argsz = sizeof(c)};

	c.info.argsz = sizeof(c.info);
	c.info.version = IOMMU_CACHE_INVALIDATE_INFO_VERSION_1;
	c.info.cache = IOMMU_CACHE_INV_TYPE_IOTLB;
	c.info.granularity = IOMMU_INV_GRANU_ADDR;
	c.info.granu.addr_info.flags = IOMMU_INV_ADDR_FLAGS_ARCHID | IOMMU_INV_ADDR_FLAGS_LEAF;
	c.info.granu.addr_info.archid = ASID;
	c.info.granu.addr_info.addr = iova;
	c.info.granu.addr_info.granule_size = SHIM_PAGE;
	c.info.granu.addr_info.nb_granules = 1;
	return ioctl(v->container, VFIO_IOMMU_CACHE_INVALIDATE, &c);
}

static int invalidate_asid(struct vmm *v)
{
	struct vfio_iommu_type1_cache_invalidate c = {.argsz = sizeof(c)};

	c.info.argsz = sizeof(c.info);
	c.info.version = IOMMU_CACHE_INVALIDATE_INFO_VERSION_1;
	c.info.cache = IOMMU_CACHE_INV_TYPE_IOTLB;
	c.info.granularity = IOMMU_INV_GRANU_PASID;
	c.info.granu.pasid_info.flags = IOMMU_INV_PASID_FLAGS_ARCHID;
	c.info.granu.pasid_info.archid = ASID;
	return ioctl(v->container, VFIO_IOMMU_CACHE_INVALIDATE, &c);
}

static int msi_binding(struct vmm *v, uint32_t flags)
{
	struct vfio_iommu_type1_set_msi_binding m = {
		.argsz = sizeof(m), .flags = flags, .iova = MSI_GIOVA};

	if (flags == VFIO_IOMMU_BIND_MSI) {
		m.gpa = MSI_GPA;
		m.size = SHIM_PAGE;
	}
	return ioctl(v->container, VFIO_IOMMU_SET_MSI_BINDING, &m);
}

static uint8_t src_byte(unsigned int i)
{
	return (uint8_t)(i * 7 + (i >> 9) + 1);
}

static uint8_t alt_byte(unsigned int i)
{
	return (uint8_t)(0xa5 ^ (i * 3));
}

/* ------------------------------------------------------------------ */

static void test_flow(void *arg)
{
	struct vmm v;
	struct dev d;
	uint8_t *src, *alt, *dst;
	const struct iommu_fault *f;
	uint32_t st, head = 0, tail;

	(void)arg;
	vmm_open(&v);
	dev_open(&v, &d, "0000:00:01.0");
	src = v.ram + SRC_OFF;
	alt = v.ram + ALT_OFF;
	dst = v.ram + DST_OFF;
	for (unsigned int i = 0; i < 4 * SHIM_PAGE; i++)
		src[i] = src_byte(i);
	for (unsigned int i = 0; i < SHIM_PAGE; i++)
		alt[i] = alt_byte(i);

	/* 3. The guest's stage 1: the source read-write, the destination read-write. */
	for (uint64_t p = 0; p < 4; p++) {
		s1_map(&v.g, SRC_IOVA + p * SHIM_PAGE, GRAM_GPA + SRC_OFF + p * SHIM_PAGE, D_AP_RW);
		s1_map(&v.g, DST_IOVA + p * SHIM_PAGE, GRAM_GPA + DST_OFF + p * SHIM_PAGE, D_AP_RW);
	}
	CHECK_OK(set_pasid_table(&v, VFIO_PASID_TABLE_FLAG_SET, IOMMU_PASID_CONFIG_TRANSLATE));
	/* No stage-1 to stage-1 change (vfio.md §2.3). */
	CHECK_ERRNO(EINVAL,
		    set_pasid_table(&v, VFIO_PASID_TABLE_FLAG_SET, IOMMU_PASID_CONFIG_TRANSLATE));

	/* 4. DMA through both stages. */
	st = copy(&d, SRC_IOVA + 0x10, DST_IOVA + 0x20, COPY_LEN);
	TAP_CHECK_EQ(st, ST_DONE, "COPY through both stages");
	for (unsigned int i = 0; i < COPY_LEN; i++)
		TAP_CHECK(dst[0x20 + i] == src_byte(0x10 + i), "byte %u", i);
	TAP_CHECK(dst[0x1f] == 0 && dst[0x20 + COPY_LEN] == 0, "nothing outside the range");
	TAP_CHECK_EQ(reg_rd(&d, DT_DONE_BYTES, 8), COPY_LEN, "DONE_BYTES");
	/* The guest moves its first source page, invalidates it: the next COPY reads the new page.
	 */
	s1_map(&v.g, SRC_IOVA, GRAM_GPA + ALT_OFF, D_AP_RW);
	CHECK_OK(invalidate_addr(&v, SRC_IOVA));
	memset(dst, 0, 4 * SHIM_PAGE);
	TAP_CHECK_EQ(copy(&d, SRC_IOVA, DST_IOVA, 2 * SHIM_PAGE), ST_DONE, "COPY after the change");
	for (unsigned int i = 0; i < SHIM_PAGE; i++)
		TAP_CHECK(dst[i] == alt_byte(i), "moved page byte %u", i);
	for (unsigned int i = SHIM_PAGE; i < 2 * SHIM_PAGE; i++)
		TAP_CHECK(dst[i] == src_byte(i), "unchanged page byte %u", i);
	TAP_CHECK_EQ(ev_take(d.fault_ev), 0, "no fault so far");
	TAP_CHECK_EQ(header(&d).head, 0, "ring empty");

	/* 5. A stage-1 page unmapped and the ASID invalidated: the COPY stops there. */
	s1_unmap(&v.g, SRC_IOVA + 2 * SHIM_PAGE);
	CHECK_OK(invalidate_asid(&v));
	memset(dst, 0, 4 * SHIM_PAGE);
	st = copy(&d, SRC_IOVA + SHIM_PAGE, DST_IOVA, 2 * SHIM_PAGE);
	TAP_CHECK_EQ(st, ST_DONE | ST_ERROR | ERR_DMA_FAULT << 8, "COPY faults: 0x%x", st);
	TAP_CHECK_EQ(reg_rd(&d, DT_FAULT_IOVA, 8), SRC_IOVA + 2 * SHIM_PAGE, "FAULT_IOVA");
	TAP_CHECK_EQ((reg_rd(&d, DT_FAULT_INFO, 4) >> 8) & 0xffff, F_TRANSLATION,
		     "dmatest's reason: F_TRANSLATION");
	TAP_CHECK_EQ(reg_rd(&d, DT_DONE_BYTES, 8), SHIM_PAGE, "the bytes before the fault");
	for (unsigned int i = 0; i < SHIM_PAGE; i++)
		TAP_CHECK(dst[i] == src_byte(SHIM_PAGE + i), "byte %u before the fault", i);
	TAP_CHECK_EQ(dst[SHIM_PAGE], 0, "none after it");
	f = one_fault(&d, &head);
	check_unrecov(f, IOMMU_FAULT_REASON_PTE_FETCH, SRC_IOVA + 2 * SHIM_PAGE, PERM_R,
		      "read fault record");
	/* A read-only destination page, written: PERMISSION, WRITE. */
	s1_map(&v.g, DST_IOVA + SHIM_PAGE, GRAM_GPA + DST_OFF + SHIM_PAGE, D_AP_RO);
	CHECK_OK(invalidate_addr(&v, DST_IOVA + SHIM_PAGE));
	st = copy(&d, SRC_IOVA + SHIM_PAGE, DST_IOVA + 0x800, SHIM_PAGE);
	TAP_CHECK_EQ(st, ST_DONE | ST_ERROR | ERR_DMA_FAULT << 8, "write faults: 0x%x", st);
	TAP_CHECK_EQ((reg_rd(&d, DT_FAULT_INFO, 4) >> 8) & 0xffff, F_PERMISSION,
		     "dmatest's reason: F_PERMISSION");
	f = one_fault(&d, &head);
	check_unrecov(f, IOMMU_FAULT_REASON_PERMISSION, DST_IOVA + SHIM_PAGE, PERM_W,
		      "write fault record");
	/* The VMM consumed both: the tail goes back (a 4-byte write at offset 0). */
	tail = head;
	TAP_CHECK(pwrite(d.fd, &tail, 4, (off_t)d.fault_off) == 4, "tail write");
	TAP_CHECK_EQ(header(&d).tail, 2, "tail");
	tail = 512;
	CHECK_ERRNO(EINVAL, pwrite(d.fd, &tail, 4, (off_t)d.fault_off));
	CHECK_ERRNO(EINVAL, pwrite(d.fd, &tail, 4, (off_t)d.fault_off + 16)); /* head: the host's */

	/* 6. MSI: the completion message goes through the guest's stage 1. */
	s1_map(&v.g, MSI_GIOVA, MSI_GPA, D_AP_RW); /* the guest's vITS doorbell */
	reg_wr(&d, DT_CTRL, 4, CTRL_DONE_IRQ);
	TAP_CHECK_EQ(copy(&d, SRC_IOVA + SHIM_PAGE, DST_IOVA, 0x100), ST_DONE, "COPY, no binding");
	TAP_CHECK_EQ(ev_take(d.ev0), 0, "no interrupt without a binding");
	f = one_fault(&d, &head);
	check_unrecov(f, IOMMU_FAULT_REASON_PTE_FETCH, HOST_MSI + DB_REG, PERM_W,
		      "the message at the host's doorbell IOVA faults at stage 1");
	CHECK_OK(msi_binding(&v, VFIO_IOMMU_BIND_MSI));
	TAP_CHECK_EQ(copy(&d, SRC_IOVA + SHIM_PAGE, DST_IOVA, 0x100), ST_DONE, "COPY, bound");
	TAP_CHECK_EQ(ev_take(d.ev0), 1, "the completion on MSI-X vector 0's eventfd");
	TAP_CHECK_EQ(ev_take(d.ev1), 0, "nothing on vector 1");
	TAP_CHECK_EQ(ev_take(d.fault_ev), 0, "and no fault");
	TAP_CHECK_EQ(header(&d).head, head, "no record");
	/* The guest unmaps its doorbell page: the message faults at its IOVA. */
	s1_unmap(&v.g, MSI_GIOVA);
	CHECK_OK(invalidate_addr(&v, MSI_GIOVA));
	TAP_CHECK_EQ(copy(&d, SRC_IOVA + SHIM_PAGE, DST_IOVA, 0x100), ST_DONE, "COPY, no S1 entry");
	TAP_CHECK_EQ(ev_take(d.ev0), 0, "no interrupt");
	f = one_fault(&d, &head);
	check_unrecov(f, IOMMU_FAULT_REASON_PTE_FETCH, MSI_GIOVA + DB_REG, PERM_W,
		      "the message at the guest's doorbell IOVA");
	s1_map(&v.g, MSI_GIOVA, MSI_GPA, D_AP_RW);
	TAP_CHECK_EQ(copy(&d, SRC_IOVA + SHIM_PAGE, DST_IOVA, 0x100), ST_DONE,
		     "COPY, mapped again");
	TAP_CHECK_EQ(ev_take(d.ev0), 1, "the interrupt again");
	CHECK_OK(msi_binding(&v, VFIO_IOMMU_UNBIND_MSI));
	TAP_CHECK_EQ(copy(&d, SRC_IOVA + SHIM_PAGE, DST_IOVA, 0x100), ST_DONE, "COPY, unbound");
	TAP_CHECK_EQ(ev_take(d.ev0), 0, "no interrupt after UNBIND");
	f = one_fault(&d, &head);
	check_unrecov(f, IOMMU_FAULT_REASON_PTE_FETCH, HOST_MSI + DB_REG, PERM_W,
		      "the host's doorbell IOVA again");
	reg_wr(&d, DT_CTRL, 4, 0);

	/* 7. UNSET: stage 2 only, the IOVA is a GPA. */
	CHECK_OK(set_pasid_table(&v, VFIO_PASID_TABLE_FLAG_UNSET, 0));
	memset(dst, 0, 0x100);
	TAP_CHECK_EQ(copy(&d, GRAM_GPA + SRC_OFF, GRAM_GPA + DST_OFF, 0x100), ST_DONE,
		     "COPY with stage 2 only");
	for (unsigned int i = 0; i < 0x100; i++)
		TAP_CHECK(dst[i] == src_byte(i), "stage-2 byte %u", i);
	TAP_CHECK_EQ(ev_take(d.fault_ev), 0, "no fault");

	dev_close(&d);
	vmm_close(&v);
}

/*
 * Three-device topology: 01.0 and 02.0 share group 5, so one container, one
 * stage 2 and one PASID table for both; a fault is the faulting device's
 * (its ring, its eventfd), an invalidation reaches both.
 */
static void test_two_devices(void *arg)
{
	struct vmm v;
	struct dev a, b;
	uint8_t *src, *dst;
	uint32_t head_a = 0, head_b = 0;
	const struct iommu_fault *f;

	(void)arg;
	if (!three)
		tap_skip("the default topology has one device in group 1");
	vmm_open(&v);
	dev_open(&v, &a, "0000:00:01.0");
	dev_open(&v, &b, "0000:00:02.0");
	src = v.ram + SRC_OFF;
	dst = v.ram + DST_OFF;
	for (unsigned int i = 0; i < SHIM_PAGE; i++)
		src[i] = src_byte(i);
	s1_map(&v.g, SRC_IOVA, GRAM_GPA + SRC_OFF, D_AP_RW);
	s1_map(&v.g, DST_IOVA, GRAM_GPA + DST_OFF, D_AP_RW);
	CHECK_OK(set_pasid_table(&v, VFIO_PASID_TABLE_FLAG_SET, IOMMU_PASID_CONFIG_TRANSLATE));
	TAP_CHECK_EQ(copy(&a, SRC_IOVA, DST_IOVA, 0x80), ST_DONE,
		     "01.0 through the guest's stage 1");
	TAP_CHECK_EQ(copy(&b, SRC_IOVA + 0x80, DST_IOVA + 0x80, 0x80), ST_DONE,
		     "02.0 through the same stage 1");
	for (unsigned int i = 0; i < 0x100; i++)
		TAP_CHECK(dst[i] == src_byte(i), "byte %u", i);
	/* One invalidation reaches both devices' translations. */
	s1_unmap(&v.g, SRC_IOVA);
	CHECK_OK(invalidate_asid(&v));
	TAP_CHECK_EQ(copy(&b, SRC_IOVA, DST_IOVA, 0x80), ST_DONE | ST_ERROR | ERR_DMA_FAULT << 8,
		     "02.0 faults");
	f = one_fault(&b, &head_b);
	check_unrecov(f, IOMMU_FAULT_REASON_PTE_FETCH, SRC_IOVA, PERM_R, "02.0's record");
	TAP_CHECK_EQ(ev_take(a.fault_ev), 0, "not 01.0's");
	TAP_CHECK_EQ(header(&a).head, 0, "01.0's ring empty");
	TAP_CHECK_EQ(copy(&a, SRC_IOVA + 0x40, DST_IOVA, 0x80),
		     ST_DONE | ST_ERROR | ERR_DMA_FAULT << 8, "01.0 faults too");
	f = one_fault(&a, &head_a);
	check_unrecov(f, IOMMU_FAULT_REASON_PTE_FETCH, SRC_IOVA + 0x40, PERM_R, "01.0's record");
	TAP_CHECK_EQ(ev_take(b.fault_ev), 0, "02.0's eventfd quiet");
	/* The binding is the domain's: both devices' messages land. */
	s1_map(&v.g, MSI_GIOVA, MSI_GPA, D_AP_RW);
	CHECK_OK(msi_binding(&v, VFIO_IOMMU_BIND_MSI));
	s1_map(&v.g, SRC_IOVA, GRAM_GPA + SRC_OFF, D_AP_RW);
	reg_wr(&a, DT_CTRL, 4, CTRL_DONE_IRQ);
	reg_wr(&b, DT_CTRL, 4, CTRL_DONE_IRQ);
	TAP_CHECK_EQ(copy(&a, SRC_IOVA, DST_IOVA, 0x80), ST_DONE, "01.0 COPY");
	TAP_CHECK_EQ(copy(&b, SRC_IOVA, DST_IOVA, 0x80), ST_DONE, "02.0 COPY");
	TAP_CHECK(ev_take(a.ev0) == 1 && ev_take(b.ev0) == 1, "each its own completion");
	dev_close(&a);
	dev_close(&b);
	vmm_close(&v);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(void *arg);
	} tests[] = {
		{"nested flow: PASID table, DMA, invalidation, fault ring, MSI binding", test_flow},
		{"two devices in one nesting container (three-device topology)", test_two_devices},
	};

	shim_check_preloaded();
	if (argc != 2 || (strcmp(argv[1], "default") && strcmp(argv[1], "three"))) {
		printf("Bail out! usage: %s default|three\n", argv[0]);
		return 1;
	}
	three = !strcmp(argv[1], "three");
	if (three != (getenv("UIOMMU_CONFIG") != NULL)) {
		printf("Bail out! UIOMMU_CONFIG must be set exactly for 'three'\n");
		return 1;
	}
	tap_plan(ARRAY_SIZE_T(tests));
	for (size_t i = 0; i < ARRAY_SIZE_T(tests); i++)
		tap_run(tests[i].name, tests[i].fn, NULL);
	return tap_done();
}
