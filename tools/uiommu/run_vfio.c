// SPDX-License-Identifier: MIT
/*
 * run_vfio.c - `uiommu run` with machine.iommu.api "vfio": the VMM forwards
 * its guest's vSMMU through the legacy VFIO path, the nested-stage
 * extension of the type1 container ("IOMMU Dual Stage Control", v13;
 * reference vfio.md §2, as QEMU's RFC v9 consumes it, §2.11), instead of
 * iommufd's vIOMMU objects.
 *
 * What it owns: the container (/dev/vfio/vfio), one group per device
 * (/dev/vfio/<i + 1>, run_machine.c registers the functions), the device
 * fds, each device's DMA FAULT region (its ring mmap()ed) and the eventfd
 * of its DMA FAULT IRQ, the records read from the rings, and the state
 * the extension's ioctls need (the configuration last set, the MSI
 * binding, which doorbell event each MSI-X vector signals).
 *
 * The steps, translated (run_steps.c calls these when the api is vfio):
 *   map / unmap  VFIO_IOMMU_MAP_DMA / UNMAP_DMA at IOVA = GPA (stage 2)
 *   ste          VFIO_IOMMU_SET_PASID_TABLE: translate -> SET TRANSLATE with
 *                the CD table's GPA, S1CDMax and S1DSS (after UNSET when a
 *                TRANSLATE is set already: the extension refuses stage-1 to
 *                stage-1); abort / bypass -> SET ABORT / BYPASS. The table
 *                is the container's, so every device gets it
 *   invalidate   one VFIO_IOMMU_CACHE_INVALIDATE per command: TLBI_NH_VA
 *                -> ADDR (ARCHID = ASID, LEAF), TLBI_NH_VAA -> ADDR without
 *                ARCHID, TLBI_NH_ASID -> PASID (ARCHID), TLBI_NH_ALL ->
 *                DOMAIN, CFGI_CD -> PASID cache by PASID, CFGI_CD_ALL ->
 *                PASID cache DOMAIN; CFGI_STE(_RANGE) and CMD_SYNC need no
 *                call (the ste step forwards STE changes)
 *   msi          MSI-X is the host's (VFIO_DEVICE_SET_IRQS: an eventfd per
 *                vector) and ARM's MSIs are translated by both stages, so
 *                the VMM binds the guest's doorbell IOVA to its vITS IPA
 *                (VFIO_IOMMU_SET_MSI_BINDING, RUN_VFIO_MSI_GPA): the
 *                device's message then goes through the guest's stage 1
 *                and the host's stage 2 to the doorbell
 *   expect_fault the next record of a device's DMA FAULT ring
 * Boot sets the configuration to ABORT, as the guest's SMMU starts with
 * every STE invalid.
 *
 * Drain: a ring whose eventfd fired is read like QEMU's handler does: the
 * header (pread), every record from our tail to the header's head (the
 * mmap()ed ring), then the tail written back (pwrite).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommu.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <uiommu/uiommu.h>

#include "dev/dmatest/dmatest.h"
#include "run_exec_int.h"
#include "util/bits.h"

#define RING_PAGE 4096u

static const char *const reason_names[] = {
	"UNKNOWN",   "PASID_FETCH", "BAD_PASID_ENTRY", "PASID_INVALID", "WALK_EABT",
	"PTE_FETCH", "PERMISSION",  "ACCESS",	       "OOR_ADDRESS",
};

const char *run_vfio_reason_name(unsigned int r)
{
	return r < ARRAY_SIZE(reason_names) ? reason_names[r] : "?";
}

static int vioc(struct uiommu_file *f, unsigned long req, void *arg)
{
	return uiommu_ioctl(f, req, arg) ? -errno : 0;
}

/* ---------------------------------------------------------------------- */
/* Boot                                                                   */

static uint32_t find_cap(const uint8_t *buf, uint32_t off, uint16_t id)
{
	for (; off && off < 248; off = ((const struct vfio_info_cap_header *)(buf + off))->next)
		if (((const struct vfio_info_cap_header *)(buf + off))->id == id)
			return off;
	return 0;
}

/* The DMA FAULT region (by its TYPE cap) and IRQ (by its type) of device @i. */
static int find_fault_ring(struct run_ctx *c, unsigned int i)
{
	struct run_vfio_dev *vd = &c->vd[i];
	struct vfio_device_info di = {.argsz = sizeof(di)};
	uint8_t buf[256];
	struct vfio_region_info *ri = (void *)buf;
	struct vfio_irq_info *ii = (void *)buf;
	uint32_t off;
	int ret;

	ret = vioc(vd->dev, VFIO_DEVICE_GET_INFO, &di);
	if (ret)
		return ret;
	vd->fault_region = vd->fault_irq = -1;
	for (uint32_t r = VFIO_PCI_NUM_REGIONS; r < di.num_regions && vd->fault_region < 0; r++) {
		memset(buf, 0, sizeof(buf));
		ri->argsz = sizeof(buf);
		ri->index = r;
		if (vioc(vd->dev, VFIO_DEVICE_GET_REGION_INFO, ri) ||
		    !(ri->flags & VFIO_REGION_INFO_FLAG_CAPS))
			continue;
		off = find_cap(buf, ri->cap_offset, VFIO_REGION_INFO_CAP_TYPE);
		if (off &&
		    ((struct vfio_region_info_cap_type *)(buf + off))->type ==
			    VFIO_REGION_TYPE_NESTED &&
		    ((struct vfio_region_info_cap_type *)(buf + off))->subtype ==
			    VFIO_REGION_SUBTYPE_NESTED_DMA_FAULT) {
			vd->fault_region = (int)r;
			vd->fault_off = ri->offset;
			vd->fault_size = ri->size;
		}
	}
	for (uint32_t q = VFIO_PCI_NUM_IRQS; q < di.num_irqs && vd->fault_irq < 0; q++) {
		memset(buf, 0, sizeof(buf));
		ii->argsz = sizeof(buf);
		ii->index = q;
		if (vioc(vd->dev, VFIO_DEVICE_GET_IRQ_INFO, ii) ||
		    !(ii->flags & VFIO_IRQ_INFO_FLAG_CAPS))
			continue;
		off = find_cap(buf, ii->cap_offset, VFIO_IRQ_INFO_CAP_TYPE);
		if (off &&
		    ((struct vfio_irq_info_cap_type *)(buf + off))->type == VFIO_IRQ_TYPE_NESTED &&
		    ((struct vfio_irq_info_cap_type *)(buf + off))->subtype ==
			    VFIO_IRQ_SUBTYPE_DMA_FAULT)
			vd->fault_irq = (int)q;
	}
	if (vd->fault_region < 0 || vd->fault_irq < 0 || vd->fault_size <= RING_PAGE)
		return -ENODEV;
	return 0;
}

static int set_irq_eventfds(struct uiommu_file *dev, uint32_t index, unsigned int count,
			    const int32_t *fds)
{
	uint8_t buf[sizeof(struct vfio_irq_set) + 4 * sizeof(int32_t)];
	struct vfio_irq_set *s = (void *)buf;

	*s = (struct vfio_irq_set){
		.argsz = (uint32_t)(sizeof(*s) + count * sizeof(int32_t)),
		.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = index,
		.count = count,
	};
	memcpy(s->data, fds, count * sizeof(int32_t));
	return vioc(dev, VFIO_DEVICE_SET_IRQS, s);
}

static int pasid_table(struct run_ctx *c, uint32_t flags, uint8_t config, uint64_t base,
		       unsigned int cdmax, unsigned int s1dss)
{
	struct vfio_iommu_type1_set_pasid_table s = {.argsz = sizeof(s), .flags = flags};

	s.config.argsz = sizeof(s.config);
	s.config.version = PASID_TABLE_CFG_VERSION_1;
	s.config.base_ptr = base;
	s.config.format = IOMMU_PASID_FORMAT_SMMUV3;
	s.config.pasid_bits = (uint8_t)cdmax;
	s.config.config = config;
	s.config.vendor_data.smmuv3.version = PASID_TABLE_SMMUV3_CFG_VERSION_1;
	s.config.vendor_data.smmuv3.s1dss = (uint8_t)s1dss;
	return vioc(c->container, VFIO_IOMMU_SET_PASID_TABLE, &s);
}

static int boot_device(struct run_ctx *c, unsigned int i, char *what, size_t len)
{
	const struct run_device *d = &c->sc->m.devices[i];
	struct run_vfio_dev *vd = &c->vd[i];
	struct vfio_region_info bar = {.argsz = sizeof(bar), .index = VFIO_PCI_BAR0_REGION_INDEX};
	struct vfio_region_info cfg = {.argsz = sizeof(cfg), .index = VFIO_PCI_CONFIG_REGION_INDEX};
	uint16_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	char name[16];
	int32_t efd;
	int fd, ret;
	void *p;

	run_machine_vfio_name(i, name, sizeof(name));
	snprintf(what, len, "VFIO_GROUP_GET_DEVICE_FD %s", name);
	fd = uiommu_ioctl(vd->group, VFIO_GROUP_GET_DEVICE_FD, name);
	if (fd < 0)
		return -errno;
	vd->dev = uiommu_file_from_fd(fd);
	if (!vd->dev)
		return -EBADF;
	snprintf(what, len, "%s's regions", name);
	ret = vioc(vd->dev, VFIO_DEVICE_GET_REGION_INFO, &bar);
	if (!ret)
		ret = vioc(vd->dev, VFIO_DEVICE_GET_REGION_INFO, &cfg);
	if (ret)
		return ret;
	vd->bar0 = bar.offset;
	/* The guest driver's probe: Memory Space and Bus Master (the VMM passes it through). */
	snprintf(what, len, "%s's Command register", name);
	if (uiommu_pwrite(vd->dev, &cmd, 2, (off_t)(cfg.offset + PCI_COMMAND)) != 2)
		return -errno;
	snprintf(what, len, "%s's DMA FAULT region and IRQ", name);
	ret = find_fault_ring(c, i);
	if (ret)
		return ret;
	p = uiommu_mmap(vd->dev, NULL, vd->fault_size - RING_PAGE, PROT_READ, MAP_SHARED,
			(off_t)(vd->fault_off + RING_PAGE));
	if (p == MAP_FAILED)
		return -errno;
	vd->ring = p;
	vd->fault_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vd->fault_efd < 0)
		return -errno;
	efd = vd->fault_efd;
	ret = set_irq_eventfds(vd->dev, (uint32_t)vd->fault_irq, 1, &efd);
	if (ret)
		return ret;
	vd->vec_event[0] = vd->vec_event[1] = -1;
	run_report_line(c->r, "boot",
			"%s: %s in group %u (SID 0x%x): device fd; DMA FAULT region %d (a ring of "
			"512 records, mmap()ed), its IRQ %d on an eventfd",
			d->name, name, i + 1, d->sid, vd->fault_region, vd->fault_irq);
	return 0;
}

int run_vfio_boot(struct run_ctx *c)
{
	const struct run_machine_desc *m = &c->sc->m;
	char path[32], what[96];
	int32_t cfd;
	int ret;

	c->container = uiommu_open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (!c->container)
		return run_vfio_boot_fail(c, "open /dev/vfio/vfio", -errno);
	if (uiommu_ioctl(c->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_NESTING_IOMMU) != 1)
		return run_vfio_boot_fail(c, "VFIO_CHECK_EXTENSION(VFIO_TYPE1_NESTING_IOMMU)",
					  -ENODEV);
	cfd = uiommu_file_fd(c->container);
	for (unsigned int i = 0; i < m->nr_devices; i++) {
		snprintf(path, sizeof(path), "/dev/vfio/%u", i + 1);
		c->vd[i].fault_efd = -1;
		c->vd[i].group = uiommu_open(path, O_RDWR | O_CLOEXEC);
		if (!c->vd[i].group)
			return run_vfio_boot_fail(c, path, -errno);
		ret = vioc(c->vd[i].group, VFIO_GROUP_SET_CONTAINER, &cfd);
		if (ret)
			return run_vfio_boot_fail(c, "VFIO_GROUP_SET_CONTAINER", ret);
	}
	ret = vioc(c->container, VFIO_SET_IOMMU, (void *)(uintptr_t)VFIO_TYPE1_NESTING_IOMMU);
	if (ret)
		return run_vfio_boot_fail(c, "VFIO_SET_IOMMU(VFIO_TYPE1_NESTING_IOMMU)", ret);
	run_report_line(c->r, "boot",
			"/dev/vfio/vfio: a container of groups 1-%u, VFIO_TYPE1_NESTING_IOMMU "
			"(stage 2 the VMM's, stage 1 the guest's)",
			m->nr_devices);
	for (unsigned int i = 0; i < m->nr_devices; i++) {
		ret = boot_device(c, i, what, sizeof(what));
		if (ret)
			return run_vfio_boot_fail(c, what, ret);
	}
	/* The guest's SMMU starts with every STE invalid: abort. */
	ret = pasid_table(c, VFIO_PASID_TABLE_FLAG_SET, IOMMU_PASID_CONFIG_ABORT, 0, 0, 0);
	if (ret)
		return run_vfio_boot_fail(c, "VFIO_IOMMU_SET_PASID_TABLE (abort)", ret);
	c->s1_config = IOMMU_PASID_CONFIG_ABORT;
	run_report_line(c->r, "boot",
			"VFIO_IOMMU_SET_PASID_TABLE: abort (the guest's STEs are "
			"invalid until it writes them)");
	return 0;
}

void run_vfio_close(struct run_ctx *c)
{
	for (unsigned int i = 0; i < RUN_MAX_DEVICES; i++) {
		struct run_vfio_dev *vd = &c->vd[i];

		if (vd->ring)
			uiommu_munmap((void *)vd->ring, vd->fault_size - RING_PAGE);
		if (vd->dev)
			uiommu_close(vd->dev);
		if (vd->group)
			uiommu_close(vd->group);
		if (vd->fault_efd >= 0)
			close(vd->fault_efd);
		*vd = (struct run_vfio_dev){.fault_efd = -1};
	}
	if (c->container)
		uiommu_close(c->container);
	c->container = NULL;
}

/* ---------------------------------------------------------------------- */
/* Registers                                                              */

int run_vfio_reg(struct run_ctx *c, unsigned int dev, uint64_t off, unsigned int size, uint64_t *v,
		 bool write)
{
	struct run_vfio_dev *vd = &c->vd[dev];
	ssize_t n;

	if (!vd->dev)
		return -ENODEV;
	n = write ? uiommu_pwrite(vd->dev, v, size, (off_t)(vd->bar0 + off))
		  : uiommu_pread(vd->dev, v, size, (off_t)(vd->bar0 + off));
	if (n < 0)
		return -errno;
	return n == (ssize_t)size ? 0 : -EIO;
}

/* ---------------------------------------------------------------------- */
/* The fault rings                                                        */

static void fault_line(const struct run_vfio_fault *f, const char *dev, char *line, size_t len)
{
	const struct iommu_fault *r = &f->f;

	if (r->type != IOMMU_FAULT_DMA_UNRECOV) {
		snprintf(line, len, "fault ring %s: record type %u", dev, r->type);
		return;
	}
	snprintf(line, len, "fault ring %s #%u: %s, %s%s at 0x%llx%s%s", dev, f->index,
		 run_vfio_reason_name(r->event.reason),
		 r->event.perm & IOMMU_FAULT_PERM_WRITE ? "write" : "read",
		 r->event.perm & IOMMU_FAULT_PERM_PRIV ? " (privileged)" : "",
		 (unsigned long long)r->event.addr,
		 r->event.flags & IOMMU_FAULT_UNRECOV_PASID_VALID ? ", PASID valid" : "",
		 r->event.flags & IOMMU_FAULT_UNRECOV_FETCH_ADDR_VALID ? ", fetch address" : "");
}

static json_t *fault_json(const struct run_vfio_fault *f, const char *dev)
{
	const struct iommu_fault *r = &f->f;
	json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:s, s:o, s:s, s:i, s:i}", "queue",
			      "fault_ring", "device", dev, "index", (int)f->index, "type",
			      (int)r->type, "reason", run_vfio_reason_name(r->event.reason), "addr",
			      run_json_hex(r->event.addr), "access",
			      r->event.perm & IOMMU_FAULT_PERM_WRITE ? "write" : "read", "perm",
			      (int)r->event.perm, "flags", (int)r->event.flags);

	if (r->event.flags & IOMMU_FAULT_UNRECOV_PASID_VALID)
		json_object_set_new(o, "pasid", json_integer(r->event.pasid));
	if (r->event.flags & IOMMU_FAULT_UNRECOV_FETCH_ADDR_VALID)
		json_object_set_new(o, "fetch", run_json_hex(r->event.fetch_addr));
	return o;
}

static void add_fault(struct run_ctx *c, unsigned int dev, uint32_t index,
		      const struct iommu_fault *rec)
{
	const char *name = c->sc->m.devices[dev].name;
	struct run_vfio_fault *arr;
	char line[240];

	if (c->nfaults == c->capfaults) {
		size_t cap = c->capfaults ? 2 * c->capfaults : 16;

		arr = realloc(c->faults, cap * sizeof(*arr));
		if (!arr) {
			run_report_fail_run(c->r, "out of memory keeping fault records");
			return;
		}
		c->faults = arr;
		c->capfaults = cap;
	}
	arr = &c->faults[c->nfaults++];
	*arr = (struct run_vfio_fault){.dev = dev, .index = index, .f = *rec, .step = c->step};
	fault_line(arr, name, line, sizeof(line));
	run_report_event(c->r, fault_json(arr, name), line);
}

void run_vfio_drain(struct run_ctx *c)
{
	for (unsigned int i = 0; i < c->sc->m.nr_devices; i++) {
		struct run_vfio_dev *vd = &c->vd[i];
		struct vfio_region_dma_fault h;
		uint64_t v;

		if (vd->fault_efd < 0 || read(vd->fault_efd, &v, sizeof(v)) != sizeof(v))
			continue;
		/* QEMU's handler: the header, the records up to its head, the tail back. */
		if (uiommu_pread(vd->dev, &h, sizeof(h), (off_t)vd->fault_off) != sizeof(h)) {
			run_report_fail_run(c->r, "%s: reading the DMA FAULT header: %s",
					    c->sc->m.devices[i].name, strerror(errno));
			continue;
		}
		if (h.entry_size != sizeof(struct iommu_fault) || !h.nb_entries ||
		    h.head >= h.nb_entries || h.offset != RING_PAGE) {
			run_report_fail_run(c->r,
					    "%s: DMA FAULT header: entry_size %u nb_entries %u "
					    "offset %u head %u",
					    c->sc->m.devices[i].name, h.entry_size, h.nb_entries,
					    h.offset, h.head);
			continue;
		}
		while (vd->tail != h.head) {
			struct iommu_fault rec;

			memcpy(&rec, vd->ring + (size_t)vd->tail * h.entry_size, sizeof(rec));
			add_fault(c, i, vd->tail, &rec);
			vd->tail = (vd->tail + 1) % h.nb_entries;
		}
		if (uiommu_pwrite(vd->dev, &vd->tail, 4, (off_t)vd->fault_off) != 4)
			run_report_fail_run(c->r, "%s: writing the DMA FAULT tail: %s",
					    c->sc->m.devices[i].name, strerror(errno));
	}
}

unsigned int run_vfio_leftovers(struct run_ctx *c, unsigned int *first, char *line, size_t len)
{
	unsigned int n = 0;

	for (size_t i = 0; i < c->nfaults; i++) {
		if (c->faults[i].consumed)
			continue;
		if (!n++) {
			*first = c->faults[i].step;
			fault_line(&c->faults[i], c->sc->m.devices[c->faults[i].dev].name, line,
				   len);
		}
	}
	return n;
}

/* ---------------------------------------------------------------------- */
/* Steps                                                                  */

static void expect_result(struct run_ctx *c, const struct run_step *st, const char *what, int ret)
{
	if (st->expect_errno && ret != -st->expect_errno)
		run_report_fail(c->r, "%s: expected %s, got %s", what,
				run_errno_name(st->expect_errno),
				ret ? run_errno_name(ret) : "success");
	else if (!st->expect_errno && ret)
		run_report_fail(c->r, "%s: %s (%s)", what, strerror(-ret), run_errno_name(ret));
	else if (ret)
		run_report_detail(c->r, "refused with %s, as expected", run_errno_name(ret));
}

void run_vfio_step_map(struct run_ctx *c, const struct run_step *st)
{
	const struct run_machine_desc *m = &c->sc->m;
	uint64_t done = 0;
	char b[32];
	int ret = 0;

	for (unsigned int i = 0; i < m->nr_ram && !ret; i++) {
		uint64_t gpa = st->all ? m->ram[i].gpa : st->gpa;
		uint64_t size = st->all ? m->ram[i].size : st->size;

		if (!st->all && i)
			break;
		if (st->kind == RS_MAP) {
			struct vfio_iommu_type1_dma_map map = {
				.argsz = sizeof(map),
				.flags = (st->prot & PT_PROT_R ? VFIO_DMA_MAP_FLAG_READ : 0) |
					 (st->prot & PT_PROT_W ? VFIO_DMA_MAP_FLAG_WRITE : 0),
				.vaddr = (uintptr_t)guest_mem_ptr(&c->gm, gpa, size),
				.iova = gpa,
				.size = size,
			};

			ret = vioc(c->container, VFIO_IOMMU_MAP_DMA, &map);
			if (!ret)
				done += size;
		} else {
			struct vfio_iommu_type1_dma_unmap un = {
				.argsz = sizeof(un), .iova = gpa, .size = size};

			ret = vioc(c->container, VFIO_IOMMU_UNMAP_DMA, &un);
			if (!ret)
				done += un.size;
		}
	}
	if (st->kind == RS_MAP)
		run_report_summary(c->r,
				   "%s (%s) at IOVA = GPA: VFIO_IOMMU_MAP_DMA on the container",
				   st->all ? "all guest RAM" : "guest RAM", run_sz(done, b));
	else
		run_report_summary(c->r, "GPA 0x%llx-0x%llx: VFIO_IOMMU_UNMAP_DMA, %s unmapped",
				   (unsigned long long)st->gpa,
				   (unsigned long long)(st->gpa + st->size - 1), run_sz(done, b));
	expect_result(c, st, st->kind == RS_MAP ? "VFIO_IOMMU_MAP_DMA" : "VFIO_IOMMU_UNMAP_DMA",
		      ret);
}

void run_vfio_step_ste(struct run_ctx *c, const struct run_step *st)
{
	const struct run_device *d = &c->sc->m.devices[st->dev];
	const struct guest_ste *gs = &st->ste;
	uint64_t host[8];
	uint8_t config;
	char what[160];
	int ret = 0;

	if (!gs->valid || gs->config == GUEST_STE_ABORT) {
		config = IOMMU_PASID_CONFIG_ABORT;
		snprintf(what, sizeof(what), "abort");
	} else if (gs->config == GUEST_STE_BYPASS) {
		config = IOMMU_PASID_CONFIG_BYPASS;
		snprintf(what, sizeof(what), "bypass");
	} else {
		config = IOMMU_PASID_CONFIG_TRANSLATE;
		snprintf(what, sizeof(what), "translate, CD table 0x%llx, S1CDMax %u",
			 (unsigned long long)c->dev[st->dev].cd_table, gs->s1cdmax);
	}
	/* No stage-1 to stage-1 change (vfio.md §2.3): a VMM unsets the old table first. */
	if (config == IOMMU_PASID_CONFIG_TRANSLATE &&
	    c->s1_config == IOMMU_PASID_CONFIG_TRANSLATE) {
		ret = pasid_table(c, VFIO_PASID_TABLE_FLAG_UNSET, 0, 0, 0, 0);
		run_report_detail(c->r, "VFIO_IOMMU_SET_PASID_TABLE UNSET first: %s",
				  ret ? run_errno_name(ret) : "0");
		if (!ret)
			c->s1_config = 0;
	}
	if (!ret)
		ret = pasid_table(c, VFIO_PASID_TABLE_FLAG_SET, config, c->dev[st->dev].cd_table,
				  gs->s1cdmax, gs->s1dss);
	if (!ret)
		c->s1_config = config;
	run_report_summary(c->r,
			   "%s (vSID 0x%x): %s -> VFIO_IOMMU_SET_PASID_TABLE (the container's: "
			   "every device)%s%s",
			   d->name, d->vsid, what, ret ? ": " : "", ret ? run_errno_name(ret) : "");
	if (!ret && !run_machine_read_ste(c->m, (unsigned int)st->dev, host)) {
		run_report_detail(c->r, "host STE (SID 0x%x): %s", d->sid,
				  run_host_config(host[0]));
		json_object_set_new(run_report_step_json(c->r), "host_ste",
				    json_pack("[o, o, o, o]", run_json_hex(host[0]),
					      run_json_hex(host[1]), run_json_hex(host[2]),
					      run_json_hex(host[3])));
	}
	expect_result(c, st, "VFIO_IOMMU_SET_PASID_TABLE", ret);
}

/* One guest command as a CACHE_INVALIDATE (false: nothing to send). */
static bool inv_of_cmd(const struct guest_cmd *g, struct vfio_iommu_type1_cache_invalidate *ci)
{
	struct iommu_cache_invalidate_info *i = &ci->info;

	memset(ci, 0, sizeof(*ci));
	ci->argsz = sizeof(*ci);
	i->argsz = sizeof(*i);
	i->version = IOMMU_CACHE_INVALIDATE_INFO_VERSION_1;
	i->cache = IOMMU_CACHE_INV_TYPE_IOTLB;
	switch (g->op) {
	case GUEST_CMD_TLBI_NH_ALL:
		i->granularity = IOMMU_INV_GRANU_DOMAIN;
		return true;
	case GUEST_CMD_TLBI_NH_ASID:
		i->granularity = IOMMU_INV_GRANU_PASID;
		i->granu.pasid_info.flags = IOMMU_INV_PASID_FLAGS_ARCHID;
		i->granu.pasid_info.archid = g->asid;
		return true;
	case GUEST_CMD_TLBI_NH_VA:
	case GUEST_CMD_TLBI_NH_VAA:
		i->granularity = IOMMU_INV_GRANU_ADDR;
		i->granu.addr_info.flags = g->leaf ? IOMMU_INV_ADDR_FLAGS_LEAF : 0;
		if (g->op == GUEST_CMD_TLBI_NH_VA) {
			i->granu.addr_info.flags |= IOMMU_INV_ADDR_FLAGS_ARCHID;
			i->granu.addr_info.archid = g->asid;
		}
		i->granu.addr_info.addr = g->addr & ~0xfffULL;
		i->granu.addr_info.granule_size = 4096;
		i->granu.addr_info.nb_granules = 1;
		return true;
	case GUEST_CMD_CFGI_CD:
		i->cache = IOMMU_CACHE_INV_TYPE_PASID;
		i->granularity = IOMMU_INV_GRANU_PASID;
		i->granu.pasid_info.flags = IOMMU_INV_PASID_FLAGS_PASID;
		i->granu.pasid_info.pasid = g->ssid;
		return true;
	case GUEST_CMD_CFGI_CD_ALL:
		i->cache = IOMMU_CACHE_INV_TYPE_PASID;
		i->granularity = IOMMU_INV_GRANU_DOMAIN;
		return true;
	default: /* CFGI_STE(_RANGE), CMD_SYNC: the ste step forwards STE changes */
		return false;
	}
}

void run_vfio_step_invalidate(struct run_ctx *c, const struct run_step *st)
{
	static const char *const granu[] = {"DOMAIN", "PASID", "ADDR"};
	unsigned int handled = 0, calls = 0;
	char list[512];
	size_t n = 0;
	int ret = 0;

	for (unsigned int k = 0; k < st->nr_cmds && !ret; k++) {
		const struct guest_cmd *g = &st->cmds[k].c;
		struct vfio_iommu_type1_cache_invalidate ci;

		if (n < sizeof(list))
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", k ? ", " : "",
					      guest_cmd_name(g->op));
		if (inv_of_cmd(g, &ci)) {
			ret = vioc(c->container, VFIO_IOMMU_CACHE_INVALIDATE, &ci);
			calls++;
			run_report_detail(
				c->r, "%s -> VFIO_IOMMU_CACHE_INVALIDATE %s %s: %s",
				guest_cmd_name(g->op),
				ci.info.cache == IOMMU_CACHE_INV_TYPE_PASID ? "PASID cache"
									    : "IOTLB",
				granu[ci.info.granularity % 3], ret ? run_errno_name(ret) : "0");
		}
		if (!ret)
			handled++;
	}
	run_report_summary(c->r, "%s: %u of %u handled (%u VFIO_IOMMU_CACHE_INVALIDATE)", list,
			   handled, st->nr_cmds, calls);
	json_object_set_new(run_report_step_json(c->r), "handled", json_integer(handled));
	expect_result(c, st, "VFIO_IOMMU_CACHE_INVALIDATE", ret);
}

void run_vfio_step_msi(struct run_ctx *c, const struct run_step *st)
{
	unsigned int dev = (unsigned int)st->dev;
	struct run_vfio_dev *vd = &c->vd[dev];
	struct vfio_iommu_type1_set_msi_binding b = {
		.argsz = sizeof(b),
		.flags = VFIO_IOMMU_BIND_MSI,
		.iova = st->addr,
		.gpa = RUN_VFIO_MSI_GPA,
		.size = 4096,
	};
	int32_t fds[2];
	uint64_t ctrl = 0;
	int ret = 0;

	if (c->efd[st->event] < 0) {
		c->efd[st->event] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (c->efd[st->event] < 0)
			ret = -errno;
	}
	vd->vec_event[st->vector] = (int)st->event;
	for (unsigned int v = 0; v < 2; v++)
		fds[v] = vd->vec_event[v] < 0 ? -1 : c->efd[vd->vec_event[v]];
	if (!ret)
		ret = set_irq_eventfds(vd->dev, VFIO_PCI_MSIX_IRQ_INDEX, 2, fds);
	if (!ret && !st->no_bind && (!c->msi_bound || c->msi_iova != st->addr)) {
		if (c->msi_bound) {
			struct vfio_iommu_type1_set_msi_binding u = {.argsz = sizeof(u),
								     .flags = VFIO_IOMMU_UNBIND_MSI,
								     .iova = c->msi_iova};

			ret = vioc(c->container, VFIO_IOMMU_SET_MSI_BINDING, &u);
			c->msi_bound = false;
		}
		if (!ret)
			ret = vioc(c->container, VFIO_IOMMU_SET_MSI_BINDING, &b);
		if (!ret) {
			c->msi_bound = true;
			c->msi_iova = st->addr;
		}
	}
	if (!ret)
		ret = run_reg_rd(c, dev, DMATEST_REG_CTRL, 4, &ctrl);
	if (!ret)
		ret = run_reg_wr(
			c, dev, DMATEST_REG_CTRL, 4,
			ctrl | (st->vector ? DMATEST_CTRL_IRQ_ERR : DMATEST_CTRL_IRQ_DONE));
	if (st->no_bind)
		run_report_summary(
			c->r,
			"%s MSI-X vector %u (%s interrupt): VFIO_DEVICE_SET_IRQS eventfd "
			"(doorbell event %u); no MSI binding",
			c->sc->m.devices[dev].name, st->vector, st->vector ? "error" : "completion",
			st->event);
	else
		run_report_summary(
			c->r,
			"%s MSI-X vector %u (%s interrupt): VFIO_DEVICE_SET_IRQS eventfd "
			"(doorbell event %u); VFIO_IOMMU_SET_MSI_BINDING IOVA 0x%llx -> "
			"vITS IPA 0x%llx",
			c->sc->m.devices[dev].name, st->vector, st->vector ? "error" : "completion",
			st->event, (unsigned long long)st->addr,
			(unsigned long long)RUN_VFIO_MSI_GPA);
	if (ret)
		run_report_fail(c->r, "cannot set the vector up: %s (%s)", strerror(-ret),
				run_errno_name(ret));
}

void run_vfio_step_expect_fault(struct run_ctx *c, const struct run_step *st)
{
	const struct run_expect_fault *x = &st->xf;
	const char *name = c->sc->m.devices[st->dev].name;
	struct run_vfio_fault *f = NULL;
	const struct iommu_fault *r;
	char line[240];
	int access;

	run_drain_all(c);
	for (size_t i = 0; i < c->nfaults && !f; i++)
		if (!c->faults[i].consumed && c->faults[i].dev == (unsigned int)st->dev)
			f = &c->faults[i];
	if (x->none) {
		run_report_summary(c->r, "%s's DMA FAULT ring: nothing (more)", name);
		if (f) {
			fault_line(f, name, line, sizeof(line));
			run_report_fail(c->r, "expected no record, the ring has %s", line);
			f->consumed = true;
		}
		return;
	}
	if (!f) {
		run_report_summary(c->r, "%s's DMA FAULT ring: %s", name,
				   x->reason >= 0 ? run_vfio_reason_name((unsigned int)x->reason)
						  : "a record");
		run_report_fail(c->r, "expected a record in %s's DMA FAULT ring, it has none",
				name);
		return;
	}
	f->consumed = true;
	r = &f->f;
	fault_line(f, name, line, sizeof(line));
	run_report_summary(c->r, "%s", line);
	json_object_set_new(run_report_step_json(c->r), "fault", fault_json(f, name));
	access = r->event.perm & IOMMU_FAULT_PERM_WRITE ? PT_PROT_W : PT_PROT_R;
	if (r->type != IOMMU_FAULT_DMA_UNRECOV)
		run_report_fail(c->r, "record type %u, expected DMA_UNRECOV (1)", r->type);
	else if (x->reason >= 0 && r->event.reason != (unsigned int)x->reason)
		run_report_fail(c->r, "reason %s, expected %s",
				run_vfio_reason_name(r->event.reason),
				run_vfio_reason_name((unsigned int)x->reason));
	else if (x->has_addr &&
		 (!(r->event.flags & IOMMU_FAULT_UNRECOV_ADDR_VALID) || r->event.addr != x->addr))
		run_report_fail(c->r, "addr 0x%llx, expected 0x%llx",
				(unsigned long long)r->event.addr, (unsigned long long)x->addr);
	else if (x->access >= 0 && access != x->access)
		run_report_fail(c->r, "a %s, expected a %s", access == PT_PROT_W ? "write" : "read",
				x->access == PT_PROT_W ? "write" : "read");
	else if (x->has_pasid && (!(r->event.flags & IOMMU_FAULT_UNRECOV_PASID_VALID) ||
				  r->event.pasid != x->pasid))
		run_report_fail(c->r, "PASID %s, expected %u",
				r->event.flags & IOMMU_FAULT_UNRECOV_PASID_VALID ? "other" : "none",
				x->pasid);
}
