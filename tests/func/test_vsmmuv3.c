// SPDX-License-Identifier: MIT
/*
 * lib/vmm/vsmmuv3: the guest-visible SMMUv3, driven as a guest's SMMUv3
 * driver drives hardware: MMIO writes to its registers, the stream table,
 * command queue and event queue in guest RAM. Behind it the default
 * machine (lib/vmm/machine.c: one SMMUv3 model with its host driver, two
 * dmatest functions, SIDs 0x8 and 0x10), the devices' VFIO cdevs bound to
 * an iommufd, and guest RAM mapped at IOVA = GPA in a stage-2 nesting
 * parent. DMA is the dmatest function's, through the real host SMMU.
 *
 *  - the IDRs, derived from the host's GET_HW_INFO and masked;
 *  - GBPA while SMMUEN = 0: abort at reset, bypass (stage 2 only), UPDATE;
 *  - enable, CFGI_STE of a nested STE over a CD table and stage-1 tables
 *    the test built with guest_smmuv3.h, a DMA through both stages, a
 *    fault read back from the guest's EVTQ (vSID, fields of IHI 0070
 *    §7.3), TLBI_NH_VA + CMD_SYNC after a stage-1 unmap (the DMA then
 *    faults), CMD_SYNC's MSI write into guest RAM;
 *  - the guest's CD with TTB1 and TBI (read by the host SMMU from guest
 *    RAM): DMA at TTB1-range and tagged VAs, the gap's F_TRANSLATION,
 *    TLBI_NH_VA of a TTB1 VA forwarded through the vIOMMU;
 *  - illegal commands: CONS.ERR, GERROR.CMDQ_ERR, resumption at GERRORN;
 *    a queue outside RAM: CERROR_ABT;
 *  - the event queue: overflow (OVFLG, OVACKFLG), the interrupt;
 *  - MSIs: the event queue's into guest RAM, GERROR's to the VMM's doorbell
 *    hook, MSI_EVENTQ_ABT_ERR / MSI_GERROR_ABT_ERR when nobody takes one;
 *  - STEs: V = 0 and Config 0b0xx abort without a record, bypass is
 *    stage 2 only, S1CDMax beyond SSIDSIZE and a stage-2 Config are
 *    C_BAD_STE; 2-level stream tables: a valid L2 STE, a span-0 L1
 *    descriptor (C_BAD_STREAMID), an index beyond the span (C_BAD_STE), an
 *    L2 table outside RAM (F_STE_FETCH), CFGI_ALL;
 *  - teardown: every host object goes (the parent HWPT can be destroyed);
 *  - fail-nth over a vSMMU's life: nothing left behind (a new instance gets
 *    every vDEVICE again), no leak under ASan;
 *  - a random guest: register writes, commands, STEs, CDs, and DMA to
 *    random addresses never crash, never fail the VMM, and never write
 *    host memory outside guest RAM. VSMMU_SEED=... reruns one seed.
 */
#include <endian.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "dev/dmatest/dmatest.h"
#include "dev/dmatest/dmatest_vfio.h"
#include "vmm/guest_smmuv3.h"
#include "vmm/machine.h"
#include "vmm/smmuv3_evt.h"
#include "util/alloc.h"
#include "vmm/vsmmuv3.h"
#include "hw/smmuv3/smmuv3.h"
#include "hw/smmuv3/smmuv3_ep.h"
#include "hw/smmuv3/smmuv3_iommu.h"

#include "iommufd_utils.h"

#define RAM_GPA	     0x40000000ULL
#define RAM_SIZE     0x400000ULL /* 4 MiB */
#define POOL_GPA     (RAM_GPA + 0x200000ULL)
#define BUF_GPA	     (RAM_GPA + 0x100000ULL) /* the DMA target */
#define IOVA	     0x100000ULL	     /* the guest's stage-1 address of BUF_GPA */
#define VSID0	     0x100
#define VSID1	     0x1234
#define ASID	     7
#define STE_CTX_MASK (((1ULL << 52) - 1) & ~63ULL)

/* Devices 0 and 1, and up to VM_EXTRA more PCIe functions with ATS and PRI (vm_host_n). */
#define VM_EXTRA  18
#define VM_DEVS	  (2 + VM_EXTRA)
#define VSID_X(k) (0x200u + (k)) /* the extra functions' vSIDs */

struct vm {
	struct machine *m;
	struct uiommu_file *iommufd, *cdev[VM_DEVS];
	struct dmatest *dt[VM_DEVS];
	uint32_t dev_id[VM_DEVS], ioas, s2;
	unsigned int ndev;
	struct guest_mem gm;
	struct vsmmuv3 *vs;
	unsigned int irqs[4];
	bool recoverable; /* device 0 has ATS + PRI, device 1 can stall */
	unsigned int msis;
	uint32_t msi_data;
	/* The guest driver's state. */
	uint64_t strtab, cmdq, evtq, cdtab;
	unsigned int cmdq_log2, evtq_log2;
	uint32_t evtq_cons;
	struct guest_s1 s1;
	bool s1_live;
};

#define DOORBELL 0x8000040ULL /* the interrupt controller's doorbell the VMM's hook takes */

/* MSIs outside guest RAM: the doorbell takes them, anything else aborts. */
static int msi_hook(void *opaque, uint64_t addr, uint32_t data)
{
	struct vm *vm = opaque;

	if (addr != DOORBELL)
		return -EIO;
	vm->msi_data = data;
	vm->msis++;
	return 0;
}

static void irq_hook(void *opaque, enum vsmmuv3_irq line)
{
	struct vm *vm = opaque;

	vm->irqs[line]++;
}

static uint64_t rd(struct vm *vm, uint64_t off, unsigned int size)
{
	uint64_t v;

	CHECK_OK(vsmmuv3_mmio_read(vm->vs, off, size, &v));
	return v;
}

static void wr(struct vm *vm, uint64_t off, unsigned int size, uint64_t val)
{
	int rc = vsmmuv3_mmio_write(vm->vs, off, size, val);

	TAP_CHECK(rc == 0, "MMIO write 0x%llx = 0x%llx: %d", (unsigned long long)off,
		  (unsigned long long)val, rc);
}

static struct uiommu_file *cdev_open(struct vm *vm, unsigned int i)
{
	char path[64];
	struct uiommu_file *f;
	struct vfio_device_bind_iommufd b = {.argsz = sizeof(b)};

	snprintf(path, sizeof(path), "/dev/vfio/devices/vfio%u", i);
	f = uiommu_open(path, O_RDWR);
	TAP_CHECK(f, "open %s: %s", path, strerror(errno));
	b.iommufd = uiommu_file_fd(vm->iommufd);
	CHECK_OK(uiommu_ioctl(f, VFIO_DEVICE_BIND_IOMMUFD, &b));
	vm->dev_id[i] = b.out_devid;
	return f;
}

/*
 * The machine, the iommufd, guest RAM at IOVA = GPA in a nesting parent.
 * @recoverable: device 0 is a PCIe function with ATS and PRI, device 1 a
 * device that tolerates stalls.
 */
/* The host SMMU's STALL_MODEL is 0b10 (stall forced) for the next vm_host_n(). */
static bool host_stall_forced;

static void vm_host_n(struct vm *vm, bool recoverable, unsigned int extra)
{
	char names[VM_DEVS][24];
	struct iommu_ioas_alloc ia = {.size = sizeof(ia)};
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.length = RAM_SIZE,
		.iova = RAM_GPA,
	};
	struct iommu_hwpt_alloc s2 = {.size = sizeof(s2), .flags = IOMMU_HWPT_ALLOC_NEST_PARENT};
	struct topology *t;
	char err[256];

	memset(vm, 0, sizeof(*vm));
	vm->recoverable = recoverable;
	vm->ndev = 2 + extra;
	TAP_CHECK(extra <= VM_EXTRA, "at most %u more functions", VM_EXTRA);
	for (unsigned int i = 0; i < vm->ndev; i++)
		snprintf(names[i], sizeof(names[i]), "0000:00:%02x.0", i + 1);
	if (!extra) {
		TAP_CHECK(!topology_default(&t), "default topology");
	} else {
		/* The default topology's two devices, then the extra functions (SID 8 * (i + 1)).
		 */
		char text[4096];
		int n = snprintf(text, sizeof(text),
				 "{\"iommus\": [{\"name\": \"smmu0\", \"model\": \"smmuv3\"}], "
				 "\"devices\": [");

		for (unsigned int i = 0; i < vm->ndev; i++)
			n += snprintf(text + n, sizeof(text) - (size_t)n,
				      "%s{\"type\": \"dmatest\", \"name\": \"%s\"%s}",
				      i ? ", " : "", names[i],
				      i >= 2 ? ", \"ats\": true, \"pri\": true" : "");
		snprintf(text + n, sizeof(text) - (size_t)n, "]}");
		TAP_CHECK(!topology_parse(text, strlen(text), "vm.json", &t, err, sizeof(err)),
			  "topology: %s", err);
	}
	if (recoverable) {
		t->devices[0].ats = true;
		t->devices[0].pri = true;
		t->devices[1].can_stall = true;
	}
	t->iommus[0].stall_force = host_stall_forced;
	t->iommus[0].stall |= host_stall_forced;
	CHECK_OK(machine_create(t, &vm->m, err, sizeof(err)));
	topology_free(t);
	vm->iommufd = uiommu_open("/dev/iommu", O_RDWR);
	TAP_CHECK(vm->iommufd, "open /dev/iommu");
	for (unsigned int i = 0; i < vm->ndev; i++) {
		vm->cdev[i] = cdev_open(vm, i);
		vm->dt[i] = dmatest_vfio_function(machine_dmatest(vm->m, names[i]));
		CHECK_OK(dmatest_cfg_write(vm->dt[i], PCI_COMMAND, 2,
					   PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));
	}
	guest_mem_init(&vm->gm);
	CHECK_OK(guest_mem_add(&vm->gm, RAM_GPA, RAM_SIZE));
	CHECK_OK(guest_mem_set_pool(&vm->gm, POOL_GPA, RAM_SIZE - (POOL_GPA - RAM_GPA)));
	CHECK_OK(uiommu_ioctl(vm->iommufd, IOMMU_IOAS_ALLOC, &ia));
	vm->ioas = ia.out_ioas_id;
	map.ioas_id = vm->ioas;
	map.user_va = (uintptr_t)vm->gm.region[0].host;
	CHECK_OK(uiommu_ioctl(vm->iommufd, IOMMU_IOAS_MAP, &map));
	s2.dev_id = vm->dev_id[0];
	s2.pt_id = vm->ioas;
	CHECK_OK(uiommu_ioctl(vm->iommufd, IOMMU_HWPT_ALLOC, &s2));
	vm->s2 = s2.out_hwpt_id;
}

static void vm_host_opts(struct vm *vm, bool recoverable)
{
	vm_host_n(vm, recoverable, 0);
}

static void vm_host(struct vm *vm)
{
	vm_host_opts(vm, false);
}

static int vm_vsmmu(struct vm *vm, bool bypass_at_reset)
{
	struct vsmmuv3_endpoint eps[VM_DEVS];
	struct vsmmuv3_params p = {0};

	eps[0] = (struct vsmmuv3_endpoint){.vsid = VSID0,
					   .dev_id = vm->dev_id[0],
					   .cdev = vm->cdev[0],
					   .pri = vm->recoverable};
	eps[1] = (struct vsmmuv3_endpoint){.vsid = VSID1,
					   .dev_id = vm->dev_id[1],
					   .cdev = vm->cdev[1],
					   .can_stall = vm->recoverable};
	p.iommufd = vm->iommufd;
	p.s2_hwpt = vm->s2;
	p.gm = &vm->gm;
	for (unsigned int i = 2; i < vm->ndev; i++)
		eps[i] = (struct vsmmuv3_endpoint){.vsid = VSID_X(i - 2),
						   .dev_id = vm->dev_id[i],
						   .cdev = vm->cdev[i],
						   .pri = true};
	p.eps = eps;
	p.nr_eps = vm->ndev;
	p.veventq_depth = 16;
	p.gbpa_bypass_at_reset = bypass_at_reset;
	p.irq = irq_hook;
	p.msi = msi_hook;
	p.opaque = vm;
	return vsmmuv3_create(&p, &vm->vs);
}

static void vm_boot(struct vm *vm, bool bypass_at_reset)
{
	vm_host(vm);
	CHECK_OK(vm_vsmmu(vm, bypass_at_reset));
}

static void vm_vsmmu_down(struct vm *vm)
{
	struct iommu_destroy d = {.size = sizeof(d), .id = vsmmuv3_viommu_id(vm->vs)};

	vsmmuv3_destroy(vm->vs);
	vm->vs = NULL;
	/* Nothing of the vSMMU is left: the vIOMMU is gone. */
	CHECK_ERRNO(ENOENT, uiommu_ioctl(vm->iommufd, IOMMU_DESTROY, &d));
}

static void vm_down(struct vm *vm)
{
	struct iommu_destroy d = {.size = sizeof(d), .id = vm->s2};

	if (vm->vs)
		vm_vsmmu_down(vm);
	/* The parent has no users left. */
	CHECK_OK(uiommu_ioctl(vm->iommufd, IOMMU_DESTROY, &d));
	if (vm->s1_live)
		guest_s1_destroy(&vm->s1);
	for (unsigned int i = 0; i < vm->ndev; i++)
		CHECK_OK(uiommu_close(vm->cdev[i]));
	CHECK_OK(uiommu_close(vm->iommufd));
	CHECK_OK(machine_destroy(vm->m));
	guest_mem_destroy(&vm->gm);
}

/* ---------------------------------------------------------------------- */
/* The guest's driver                                                     */

/* The STE address of @sid in a linear table. */
static uint64_t ste_gpa(struct vm *vm, uint32_t sid)
{
	return vm->strtab + 64ULL * sid;
}

static void ste_put(struct vm *vm, uint64_t gpa, const uint64_t w[2])
{
	uint64_t le[8] = {htole64(w[0]), htole64(w[1])};

	CHECK_OK(guest_mem_write(&vm->gm, gpa, le, sizeof(le)));
}

/*
 * Stream table (linear, 2^9 STEs, or 2-level: the caller fills it), command
 * queue of 2^@cmdq_log2, event queue of 2^@evtq_log2, both interrupts on
 * (wired), then CMDQEN | EVENTQEN and, with @enable, SMMUEN.
 */
static void guest_probe(struct vm *vm, bool two_level, unsigned int evtq_log2, bool enable)
{
	uint32_t cr0 = VSMMUV3_CR0_CMDQEN | VSMMUV3_CR0_EVENTQEN;

	vm->cmdq_log2 = 6;
	vm->evtq_log2 = evtq_log2;
	CHECK_OK(guest_mem_alloc(&vm->gm, 16ULL << vm->cmdq_log2, 16ULL << vm->cmdq_log2,
				 &vm->cmdq));
	CHECK_OK(guest_mem_alloc(&vm->gm, 32ULL << evtq_log2, 32ULL << evtq_log2, &vm->evtq));
	if (two_level) {
		/* 2^16 SIDs, SPLIT 8: 256 L1 descriptors. */
		CHECK_OK(guest_mem_alloc(&vm->gm, 256 * 8, 4096, &vm->strtab));
		wr(vm, VSMMUV3_STRTAB_BASE_CFG, 4,
		   VSMMUV3_STRTAB_FMT_2LVL | VSMMUV3_STRTAB_SPLIT(8) | 16);
	} else {
		CHECK_OK(guest_mem_alloc(&vm->gm, 64 << 13, 64 << 13, &vm->strtab));
		wr(vm, VSMMUV3_STRTAB_BASE_CFG, 4, VSMMUV3_STRTAB_FMT_LINEAR | 13);
	}
	wr(vm, VSMMUV3_STRTAB_BASE, 8, vm->strtab);
	wr(vm, VSMMUV3_CMDQ_BASE, 8, vm->cmdq | vm->cmdq_log2);
	wr(vm, VSMMUV3_CMDQ_PROD, 4, 0);
	wr(vm, VSMMUV3_CMDQ_CONS, 4, 0);
	wr(vm, VSMMUV3_EVENTQ_BASE, 8, vm->evtq | evtq_log2);
	wr(vm, VSMMUV3_PAGE1 + VSMMUV3_EVENTQ_PROD, 4, 0);
	wr(vm, VSMMUV3_PAGE1 + VSMMUV3_EVENTQ_CONS, 4, 0);
	vm->evtq_cons = 0;
	wr(vm, VSMMUV3_IRQ_CTRL, 4, VSMMUV3_IRQ_GERROR | VSMMUV3_IRQ_EVENTQ);
	TAP_CHECK_EQ(rd(vm, VSMMUV3_IRQ_CTRLACK, 4), VSMMUV3_IRQ_GERROR | VSMMUV3_IRQ_EVENTQ,
		     "IRQ_CTRLACK");
	wr(vm, VSMMUV3_CR0, 4, cr0);
	TAP_CHECK_EQ(rd(vm, VSMMUV3_CR0ACK, 4), cr0, "CR0ACK");
	TAP_CHECK(vsmmuv3_event_fd(vm->vs) >= 0, "the vEVENTQ exists once EVENTQEN is set");
	if (enable) {
		wr(vm, VSMMUV3_CR0, 4, cr0 | VSMMUV3_CR0_SMMUEN);
		TAP_CHECK_EQ(rd(vm, VSMMUV3_CR0ACK, 4), cr0 | VSMMUV3_CR0_SMMUEN, "CR0ACK");
	}
}

/* Put commands in the queue and ring PROD; CONS afterwards. */
static uint32_t cmds_issue(struct vm *vm, const uint64_t (*c)[2], unsigned int n)
{
	uint32_t prod = (uint32_t)rd(vm, VSMMUV3_CMDQ_PROD, 4);
	uint32_t mask = (1u << vm->cmdq_log2) - 1;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t le[2] = {htole64(c[i][0]), htole64(c[i][1])};

		CHECK_OK(
			guest_mem_write(&vm->gm, vm->cmdq + 16ULL * (prod & mask), le, sizeof(le)));
		prod = (prod & ~((2u << vm->cmdq_log2) - 1)) |
		       ((prod + 1) & ((2u << vm->cmdq_log2) - 1));
	}
	wr(vm, VSMMUV3_CMDQ_PROD, 4, prod);
	return (uint32_t)rd(vm, VSMMUV3_CMDQ_CONS, 4);
}

static void cmd(const struct guest_cmd *gc, uint64_t w[2])
{
	TAP_CHECK(!guest_cmd_encode(gc, w), "encode %s", guest_cmd_name(gc->op));
}

/* Commands that must all complete. */
static void cmds_ok(struct vm *vm, const uint64_t (*c)[2], unsigned int n)
{
	uint32_t cons = cmds_issue(vm, c, n);

	TAP_CHECK_EQ(cons & 0xfffff, rd(vm, VSMMUV3_CMDQ_PROD, 4), "CONS reached PROD");
	TAP_CHECK_EQ(rd(vm, VSMMUV3_GERROR, 4) ^ rd(vm, VSMMUV3_GERRORN, 4), 0, "no GERROR");
}

static void cfgi_ste_sync(struct vm *vm, uint32_t sid)
{
	struct guest_cmd a = {.op = GUEST_CMD_CFGI_STE, .sid = sid, .leaf = true};
	struct guest_cmd s = {.op = GUEST_CMD_SYNC};
	uint64_t c[2][2];

	cmd(&a, c[0]);
	cmd(&s, c[1]);
	cmds_ok(vm, (const uint64_t(*)[2])c, 2);
}

/* Stage 1: a CD table of one CD (ASID, R = 1) over tables mapping IOVA -> BUF_GPA (8 KiB). */
static void guest_s1_setup(struct vm *vm)
{
	struct guest_cd cd = {.valid = true,
			      .asid = ASID,
			      .ias = 48,
			      .granule_shift = 12,
			      .oas = 48,
			      .record = true};
	uint64_t w[8];

	CHECK_OK(guest_s1_init(&vm->s1, &vm->gm, 12, 48, 48));
	vm->s1_live = true;
	CHECK_OK(guest_s1_map(&vm->s1, IOVA, BUF_GPA, 0x2000, PT_PROT_RW));
	CHECK_OK(guest_mem_alloc(&vm->gm, 64, 64, &vm->cdtab));
	cd.ttb0 = guest_s1_root(&vm->s1);
	CHECK_OK(guest_cd_encode(&cd, w));
	CHECK_OK(guest_cd_write(&vm->gm, vm->cdtab, w));
}

static void nested_ste(struct vm *vm, uint64_t gpa)
{
	struct guest_ste ste = {
		.valid = true, .config = GUEST_STE_TRANSLATE, .cd_table = vm->cdtab};
	uint64_t w[2];

	CHECK_OK(guest_ste_encode(&ste, w));
	ste_put(vm, gpa, w);
}

/* The device fills @len bytes at @iova with @pattern: STATUS's error code (0: done). */
static unsigned int dma_fill(struct vm *vm, unsigned int dev, uint64_t iova, uint32_t len,
			     uint64_t pattern)
{
	struct dmatest *d = vm->dt[dev];
	uint64_t st = 0;

	CHECK_OK(dmatest_bar_write(d, 0, DMATEST_REG_DST_IOVA, 8, iova));
	CHECK_OK(dmatest_bar_write(d, 0, DMATEST_REG_LEN, 4, len));
	CHECK_OK(dmatest_bar_write(d, 0, DMATEST_REG_PASID, 4, 0));
	CHECK_OK(dmatest_bar_write(d, 0, DMATEST_REG_FILL, 8, pattern));
	CHECK_OK(dmatest_bar_write(d, 0, DMATEST_REG_OP, 4, DMATEST_OP_FILL));
	CHECK_OK(dmatest_bar_write(d, 0, DMATEST_REG_GO, 4, 1));
	CHECK_OK(dmatest_bar_read(d, 0, DMATEST_REG_STATUS, 4, &st));
	TAP_CHECK(!(st & DMATEST_STATUS_BUSY), "the DMA ended");
	return (unsigned int)((st & DMATEST_STATUS_ERR_MASK) >> DMATEST_STATUS_ERR_SHIFT);
}

static uint64_t ram64(struct vm *vm, uint64_t gpa)
{
	uint64_t v;

	CHECK_OK(guest_mem_read(&vm->gm, gpa, &v, 8));
	return le64toh(v);
}

/* Records in the guest's EVTQ after a poll: read the next one (CPU order); false if none. */
static bool evt_next(struct vm *vm, struct smmuv3_evt *e)
{
	uint32_t prod = (uint32_t)rd(vm, VSMMUV3_PAGE1 + VSMMUV3_EVENTQ_PROD, 4);
	uint32_t wrmask = (2u << vm->evtq_log2) - 1;
	uint64_t w[4];

	if ((prod & wrmask) == (vm->evtq_cons & wrmask))
		return false;
	for (unsigned int i = 0; i < 4; i++)
		w[i] = ram64(vm, vm->evtq + 32ULL * (vm->evtq_cons & ((1u << vm->evtq_log2) - 1)) +
					 8 * i);
	smmuv3_evt_decode(w, e);
	vm->evtq_cons = (vm->evtq_cons & ~wrmask) | ((vm->evtq_cons + 1) & wrmask);
	wr(vm, VSMMUV3_PAGE1 + VSMMUV3_EVENTQ_CONS, 4, vm->evtq_cons);
	return true;
}

/* ---------------------------------------------------------------------- */
/* Tests                                                                  */

static void test_idr(void *arg)
{
	struct vm vm;
	uint64_t v;

	vm_boot(&vm, false);
	v = rd(&vm, VSMMUV3_IDR0, 4);
	TAP_CHECK_EQ(v & 3, 2, "IDR0: stage 1 only (S1P, no S2P)");
	TAP_CHECK_EQ((v >> 2) & 3, 2, "TTF AArch64");
	TAP_CHECK(v & (1u << 13), "MSI");
	TAP_CHECK_EQ((v >> 21) & 3, 2, "TTENDIAN little endian");
	{
		/* ATS, PRI and STALL_MODEL are the host's (its model has all three). */
		uint64_t h0 = 0;

		CHECK_OK(smmuv3_mmio_read(smmuv3_iommu_hw(machine_smmu(vm.m, "smmu0")), 0, 4, &h0));
		TAP_CHECK_EQ((v >> 24) & 3, (h0 >> 24) & 3, "STALL_MODEL: the host's");
		TAP_CHECK_EQ((v >> 24) & 3, 0, "stall and terminate");
		TAP_CHECK_EQ(v & ((1u << 10) | (1u << 16)), h0 & ((1u << 10) | (1u << 16)),
			     "ATS, PRI: the host's");
		TAP_CHECK_EQ(v & ((1u << 10) | (1u << 16)), (1u << 10) | (1u << 16), "ATS, PRI");
	}
	TAP_CHECK_EQ((v >> 27) & 3, 1, "STLEVEL: 2-level");
	TAP_CHECK(!(v & ((1u << 9) | (3u << 6))), "no HYP, HTTU");
	v = rd(&vm, VSMMUV3_IDR1, 4);
	TAP_CHECK_EQ(v & 0x3f, 16, "SIDSIZE");
	TAP_CHECK_EQ((v >> 16) & 0x1f, 19, "EVENTQS");
	TAP_CHECK_EQ((v >> 21) & 0x1f, 19, "CMDQS");
	TAP_CHECK_EQ((v >> 11) & 0x1f, 19, "PRIQS");
	v = rd(&vm, VSMMUV3_IDR5, 4);
	TAP_CHECK(v & (1u << 4), "GRAN4K");
	TAP_CHECK_EQ(rd(&vm, VSMMUV3_GBPA, 4), VSMMUV3_GBPA_ABORT, "GBPA: abort at reset");
	TAP_CHECK_EQ(rd(&vm, VSMMUV3_CR0ACK, 4), 0, "CR0ACK at reset");
	/* The 64-bit registers read as two halves too. */
	wr(&vm, VSMMUV3_STRTAB_BASE, 8, 0x123456789c0ULL | (1ULL << 62));
	TAP_CHECK_EQ(rd(&vm, VSMMUV3_STRTAB_BASE + 4, 4), 0x40000123, "high half");
	TAP_CHECK_EQ(rd(&vm, VSMMUV3_STRTAB_BASE, 4), 0x456789c0, "low half");
	/* Bad accesses: the VMM's external abort. */
	TAP_CHECK_EQ(vsmmuv3_mmio_read(vm.vs, VSMMUV3_CR0, 8, &v), -EINVAL, "64-bit CR0");
	TAP_CHECK_EQ(vsmmuv3_mmio_read(vm.vs, 0x22, 4, &v), -EINVAL, "unaligned");
	TAP_CHECK_EQ(vsmmuv3_mmio_write(vm.vs, VSMMUV3_MMIO_SIZE, 4, 0), -EINVAL, "outside");
	TAP_CHECK_EQ(vsmmuv3_mmio_read(vm.vs, 0x20, 2, &v), -EINVAL, "16-bit");
	/* The PRI queue's registers: PRIQ_BASE, PRIQ_PROD / CONS at page 1 too. */
	CHECK_OK(vsmmuv3_mmio_write(vm.vs, VSMMUV3_PRIQ_BASE, 8, 0x40001000 | 4));
	CHECK_OK(vsmmuv3_mmio_read(vm.vs, VSMMUV3_PRIQ_BASE, 8, &v));
	TAP_CHECK_EQ(v, 0x40001000 | 4, "PRIQ_BASE");
	wr(&vm, VSMMUV3_PAGE1 + VSMMUV3_PRIQ_CONS, 4, 2);
	TAP_CHECK_EQ(rd(&vm, VSMMUV3_PRIQ_CONS, 4), 2, "PRIQ_CONS alias");
	/* Absent registers read as zero and ignore writes. */
	CHECK_OK(vsmmuv3_mmio_write(vm.vs, 0x100, 8, 0x40001000));
	CHECK_OK(vsmmuv3_mmio_read(vm.vs, 0x100, 8, &v));
	TAP_CHECK_EQ(v, 0, "0x100 RAZ/WI");
	/* Page 1: EVENTQ_PROD / CONS alias page 0's; the rest is reserved. */
	wr(&vm, VSMMUV3_PAGE1 + VSMMUV3_EVENTQ_CONS, 4, 3);
	TAP_CHECK_EQ(rd(&vm, VSMMUV3_EVENTQ_CONS, 4), 3, "EVENTQ_CONS alias");
	wr(&vm, VSMMUV3_PAGE1 + VSMMUV3_CR0, 4, VSMMUV3_CR0_SMMUEN);
	TAP_CHECK_EQ(rd(&vm, VSMMUV3_CR0, 4), 0, "page 1 has no CR0");
	vm_down(&vm);
}

static void test_gbpa(void *arg)
{
	struct vm vm;
	uint32_t abort_hwpt;

	vm_boot(&vm, false);
	/* SMMUEN = 0, GBPA.ABORT: nothing reaches guest RAM. */
	TAP_CHECK_EQ(dma_fill(&vm, 0, BUF_GPA, 64, 0x1111), DMATEST_ERR_DMA_FAULT, "abort");
	TAP_CHECK_EQ(ram64(&vm, BUF_GPA), 0, "RAM untouched");
	abort_hwpt = vsmmuv3_ep_hwpt(vm.vs, 0);
	/* Without UPDATE the write is not taken. */
	wr(&vm, VSMMUV3_GBPA, 4, 0);
	TAP_CHECK_EQ(rd(&vm, VSMMUV3_GBPA, 4), VSMMUV3_GBPA_ABORT, "GBPA unchanged");
	TAP_CHECK_EQ(dma_fill(&vm, 0, BUF_GPA, 64, 0x1111), DMATEST_ERR_DMA_FAULT, "still abort");
	/* Bypass: stage 2 only, IOVA = GPA. */
	wr(&vm, VSMMUV3_GBPA, 4, VSMMUV3_GBPA_UPDATE);
	TAP_CHECK_EQ(rd(&vm, VSMMUV3_GBPA, 4), 0, "UPDATE self-clears, ABORT 0");
	TAP_CHECK(vsmmuv3_ep_hwpt(vm.vs, 0) != abort_hwpt, "bypass HWPT attached");
	TAP_CHECK_EQ(dma_fill(&vm, 0, BUF_GPA, 64, 0x2222), 0, "bypass DMA");
	TAP_CHECK_EQ(ram64(&vm, BUF_GPA), 0x2222, "bytes in guest RAM");
	TAP_CHECK_EQ(dma_fill(&vm, 1, BUF_GPA + 64, 64, 0x3333), 0, "the other endpoint too");
	/* Stage 2 still applies: a GPA outside RAM faults. */
	TAP_CHECK_EQ(dma_fill(&vm, 0, RAM_GPA + RAM_SIZE, 64, 0x4444), DMATEST_ERR_DMA_FAULT,
		     "outside guest RAM");
	/* Back to abort. */
	wr(&vm, VSMMUV3_GBPA, 4, VSMMUV3_GBPA_UPDATE | VSMMUV3_GBPA_ABORT);
	TAP_CHECK_EQ(vsmmuv3_ep_hwpt(vm.vs, 0), abort_hwpt, "abort HWPT again");
	TAP_CHECK_EQ(dma_fill(&vm, 0, BUF_GPA, 64, 0x5555), DMATEST_ERR_DMA_FAULT, "abort");
	TAP_CHECK_EQ(ram64(&vm, BUF_GPA), 0x2222, "RAM untouched");
	vm_down(&vm);

	/* A VMM that wants bypass at reset. */
	vm_boot(&vm, true);
	TAP_CHECK_EQ(rd(&vm, VSMMUV3_GBPA, 4), 0, "GBPA: bypass at reset");
	TAP_CHECK_EQ(dma_fill(&vm, 1, BUF_GPA, 64, 0x6666), 0, "bypass DMA");
	/* Enabling with invalid (zero) STEs: abort, no record. */
	guest_probe(&vm, false, 4, true);
	TAP_CHECK_EQ(dma_fill(&vm, 1, BUF_GPA, 64, 0x7777), DMATEST_ERR_DMA_FAULT, "V = 0: abort");
	TAP_CHECK_EQ(vsmmuv3_poll_events(vm.vs), 0, "no record");
	vm_down(&vm);
}

static void test_nested(void *arg)
{
	struct guest_cmd tlbi = {
		.op = GUEST_CMD_TLBI_NH_VA, .asid = ASID, .addr = IOVA, .leaf = true};
	struct guest_cmd sync = {.op = GUEST_CMD_SYNC, .cs = 1};
	struct vsmmuv3_stats st;
	struct smmuv3_evt e;
	uint64_t c[2][2], sync_gpa;
	struct vm vm;

	vm_boot(&vm, false);
	guest_probe(&vm, false, 4, true);
	guest_s1_setup(&vm);
	nested_ste(&vm, ste_gpa(&vm, VSID0));
	cfgi_ste_sync(&vm, VSID0);
	vsmmuv3_get_stats(vm.vs, &st);
	TAP_CHECK_EQ(st.ste_updates, 1, "one nested HWPT");
	TAP_CHECK_EQ(st.forwarded, 0, "CFGI_STE is the front end's");

	/* Through both stages: IOVA -> BUF_GPA -> guest RAM. */
	TAP_CHECK_EQ(dma_fill(&vm, 0, IOVA + 0x1000, 128, 0xabcdef), 0, "nested DMA");
	TAP_CHECK_EQ(ram64(&vm, BUF_GPA + 0x1000), 0xabcdef, "landed at BUF_GPA + 0x1000");
	TAP_CHECK_EQ(ram64(&vm, BUF_GPA + 0x1000 + 120), 0xabcdef, "all of it");
	/* The IOVA is not a GPA: the other device (abort) cannot reach it. */
	TAP_CHECK_EQ(dma_fill(&vm, 1, IOVA, 64, 1), DMATEST_ERR_DMA_FAULT, "SID 0x1234 aborts");

	/* A stage-1 fault: F_TRANSLATION with the guest's SID in the guest's EVTQ. */
	TAP_CHECK_EQ(dma_fill(&vm, 0, 0x300000, 64, 2), DMATEST_ERR_DMA_FAULT, "unmapped IOVA");
	{
		/* The pump's wake-up: the vEVENTQ's fd is readable until the records moved. */
		struct pollfd pfd = {.fd = vsmmuv3_event_fd(vm.vs), .events = POLLIN};

		TAP_CHECK_EQ(poll(&pfd, 1, 0), 1, "the event fd is readable");
		TAP_CHECK_EQ(vsmmuv3_poll_events(vm.vs), 1, "one record moved");
		TAP_CHECK_EQ(poll(&pfd, 1, 0), 0, "and no longer");
	}
	TAP_CHECK_EQ(vm.irqs[VSMMUV3_IRQ_LINE_EVENTQ], 1, "the EVTQ interrupt");
	TAP_CHECK(evt_next(&vm, &e), "a record");
	TAP_CHECK_EQ(e.type, 0x10, "F_TRANSLATION");
	TAP_CHECK_EQ(e.sid, VSID0, "the guest's SID");
	TAP_CHECK_EQ(e.input, 0x300000, "InputAddr");
	TAP_CHECK(!e.rnw && !e.s2 && !e.ssv, "a write, stage 1, no SSID");
	TAP_CHECK_EQ(e.cls, SMMUV3_EVT_CLASS_IN, "CLASS IN");
	TAP_CHECK(!evt_next(&vm, &e), "only one");

	/* Unmap, then TLBI_NH_VA + CMD_SYNC (an MSI into guest RAM): the DMA faults. */
	CHECK_OK(guest_s1_unmap(&vm.s1, IOVA, 0x1000, NULL));
	CHECK_OK(guest_mem_alloc(&vm.gm, 4096, 4096, &sync_gpa));
	cmd(&tlbi, c[0]);
	sync.cs = 1;
	cmd(&sync, c[1]);
	c[1][0] |= 0x5a5aULL << 32; /* MSIData */
	c[1][1] = sync_gpa;	    /* MSIAddress */
	cmds_ok(&vm, (const uint64_t(*)[2])c, 2);
	TAP_CHECK_EQ(ram64(&vm, sync_gpa), 0x5a5a, "CMD_SYNC wrote MSIData at MSIAddress");
	vsmmuv3_get_stats(vm.vs, &st);
	TAP_CHECK_EQ(st.forwarded, 1, "TLBI forwarded");
	TAP_CHECK_EQ(st.invalidates, 1, "in one IOMMU_HWPT_INVALIDATE");
	TAP_CHECK_EQ(dma_fill(&vm, 0, IOVA, 64, 3), DMATEST_ERR_DMA_FAULT, "unmapped now");
	TAP_CHECK_EQ(ram64(&vm, BUF_GPA), 0, "nothing written");
	TAP_CHECK_EQ(vsmmuv3_poll_events(vm.vs), 1, "its record");
	TAP_CHECK(evt_next(&vm, &e) && e.type == 0x10 && e.input == IOVA && e.sid == VSID0,
		  "F_TRANSLATION at IOVA");
	TAP_CHECK_EQ(dma_fill(&vm, 0, IOVA + 0x1000, 64, 4), 0, "the other page still maps");

	/* CMD_SYNC CS=IRQ without an address: the wired line. */
	sync.cs = 1;
	cmd(&sync, c[0]);
	cmds_ok(&vm, (const uint64_t(*)[2])c, 1);
	TAP_CHECK_EQ(vm.irqs[VSMMUV3_IRQ_LINE_CMD_SYNC], 1, "CMD_SYNC interrupt");

	/* A bypass STE: stage 2 only, the DMA address is a GPA. */
	ste_put(&vm, ste_gpa(&vm, VSID0), (uint64_t[2]){1 | 4 << 1, 0});
	cfgi_ste_sync(&vm, VSID0);
	TAP_CHECK_EQ(dma_fill(&vm, 0, BUF_GPA + 0x800, 8, 0x42), 0, "bypass STE");
	TAP_CHECK_EQ(ram64(&vm, BUF_GPA + 0x800), 0x42, "at the GPA");
	/* S1CDMax beyond SSIDSIZE (at most 20): C_BAD_STE, and the stream aborts. */
	{
		struct guest_ste gs = {
			.valid = true, .config = GUEST_STE_TRANSLATE, .cd_table = vm.cdtab};
		uint64_t w[2];

		CHECK_OK(guest_ste_encode(&gs, w));
		w[0] |= 21ULL << 59;
		ste_put(&vm, ste_gpa(&vm, VSID0), w);
	}
	cfgi_ste_sync(&vm, VSID0);
	TAP_CHECK(evt_next(&vm, &e), "a record");
	TAP_CHECK(e.type == 0x04 && e.sid == VSID0, "C_BAD_STE: %s 0x%x", smmuv3_evt_name(e.type),
		  e.sid);
	TAP_CHECK_EQ(dma_fill(&vm, 0, BUF_GPA + 0x800, 8, 0x43), DMATEST_ERR_DMA_FAULT, "aborted");
	/* Config 0b010 (bit 2 clear): abort, no record. */
	ste_put(&vm, ste_gpa(&vm, VSID0), (uint64_t[2]){1 | 2 << 1, 0});
	cfgi_ste_sync(&vm, VSID0);
	TAP_CHECK(!evt_next(&vm, &e), "no record");
	/* CMD_SYNC with the reserved CS 0b11: CERROR_ILL. */
	{
		uint64_t bad[1][2] = {{0x46 | 3ULL << 12, 0}};
		uint32_t before = (uint32_t)rd(&vm, VSMMUV3_CMDQ_PROD, 4);
		uint32_t cons = cmds_issue(&vm, (const uint64_t(*)[2])bad, 1);

		uint64_t le[2] = {htole64(0x46), 0};

		TAP_CHECK_EQ(cons & 0xfffff, before, "stopped at it");
		TAP_CHECK_EQ(VSMMUV3_CONS_ERR(cons), VSMMUV3_CERROR_ILL, "CERROR_ILL");
		/* The driver makes it a good CMD_SYNC and acknowledges. */
		CHECK_OK(guest_mem_write(&vm.gm, vm.cmdq + 16ULL * (before & 63), le, sizeof(le)));
		wr(&vm, VSMMUV3_GERRORN, 4, rd(&vm, VSMMUV3_GERROR, 4));
		TAP_CHECK_EQ(rd(&vm, VSMMUV3_CMDQ_CONS, 4) & 0xfffff, rd(&vm, VSMMUV3_CMDQ_PROD, 4),
			     "resumed");
	}

	/* An abort STE, then SMMUEN = 0 with GBPA abort. */
	ste_put(&vm, ste_gpa(&vm, VSID0), (uint64_t[2]){1, 0});
	cfgi_ste_sync(&vm, VSID0);
	TAP_CHECK_EQ(dma_fill(&vm, 0, IOVA + 0x1000, 64, 5), DMATEST_ERR_DMA_FAULT, "abort STE");
	TAP_CHECK_EQ(vsmmuv3_poll_events(vm.vs), 0, "abort records nothing");
	vm_down(&vm);
}

/*
 * The guest's CD with both VA ranges (IHI 0070 §3.4.1): the vSMMU hands
 * over only the STE, the host SMMU reads the CD from guest RAM, so TTB1,
 * T1SZ / TG1 and TBI reach it as the guest wrote them. TTB1: a 16K-granule
 * table of 39 bits (the range from 0xffff_ff80_0000_0000) mapping the same
 * low bits as TTB0's IOVA to another buffer; TBI for TTB1's range only.
 */
#define TTB1_VA	 (~0ULL << 39)
#define BUF1_GPA (BUF_GPA + 0x10000) /* TTB1's target (16K aligned) */

static void test_ttb1(void *arg)
{
	struct guest_cd cd = {.valid = true,
			      .asid = ASID,
			      .ias = 48,
			      .granule_shift = 12,
			      .oas = 48,
			      .record = true,
			      .ttb1_on = true,
			      .ias1 = 39,
			      .granule1_shift = 14,
			      .tbi = 2};
	struct guest_cmd tlbi = {.op = GUEST_CMD_TLBI_NH_VA, .asid = ASID, .leaf = true};
	struct guest_cmd sync = {.op = GUEST_CMD_SYNC};
	uint64_t w[8], c[2][2], va = TTB1_VA | IOVA, tagged = (va & ~(0xffULL << 56)) | 0x5aULL << 56;
	struct guest_s1 s1b;
	struct smmuv3_evt e;
	struct vm vm;

	vm_boot(&vm, false);
	guest_probe(&vm, false, 4, true);
	guest_s1_setup(&vm); /* TTB0: IOVA -> BUF_GPA, and the CD table */
	CHECK_OK(guest_s1_init(&s1b, &vm.gm, 14, 39, 48));
	CHECK_OK(guest_s1_map(&s1b, IOVA, BUF1_GPA, 0x4000, PT_PROT_RW));
	cd.ttb0 = guest_s1_root(&vm.s1);
	cd.ttb1 = guest_s1_root(&s1b);
	CHECK_OK(guest_cd_encode(&cd, w));
	CHECK_OK(guest_cd_write(&vm.gm, vm.cdtab, w));
	nested_ste(&vm, ste_gpa(&vm, VSID0));
	cfgi_ste_sync(&vm, VSID0);

	TAP_CHECK_EQ(dma_fill(&vm, 0, va + 0x100, 64, 0x1111), 0, "DMA at a TTB1 VA");
	TAP_CHECK_EQ(ram64(&vm, BUF1_GPA + 0x100), 0x1111, "landed in TTB1's buffer");
	TAP_CHECK_EQ(ram64(&vm, BUF1_GPA + 0x138), 0x1111, "all 64 bytes");
	TAP_CHECK_EQ(ram64(&vm, BUF_GPA + 0x100), 0, "not in TTB0's");
	TAP_CHECK_EQ(dma_fill(&vm, 0, IOVA + 0x100, 64, 0x2222), 0, "DMA at the TTB0 IOVA");
	TAP_CHECK_EQ(ram64(&vm, BUF_GPA + 0x100), 0x2222, "landed in TTB0's buffer");
	TAP_CHECK_EQ(ram64(&vm, BUF1_GPA + 0x100), 0x1111, "TTB1's untouched");
	TAP_CHECK_EQ(dma_fill(&vm, 0, tagged + 0x3000, 8, 0x3333), 0, "a tagged TTB1 VA (TBI1)");
	TAP_CHECK_EQ(ram64(&vm, BUF1_GPA + 0x3000), 0x3333, "through TTB1's table");

	/* A tagged TTB0 address (no TBI0) and the gap: F_TRANSLATION, InputAddr as issued. */
	TAP_CHECK_EQ(dma_fill(&vm, 0, 0x5aULL << 56 | IOVA, 8, 4), DMATEST_ERR_DMA_FAULT,
		     "tagged TTB0 address without TBI0");
	TAP_CHECK_EQ(dma_fill(&vm, 0, 1ULL << 50, 8, 5), DMATEST_ERR_DMA_FAULT, "the gap");
	TAP_CHECK_EQ(vsmmuv3_poll_events(vm.vs), 2, "two records");
	TAP_CHECK(evt_next(&vm, &e) && e.type == 0x10 && e.input == (0x5aULL << 56 | IOVA) &&
			  e.cls == SMMUV3_EVT_CLASS_IN && !e.s2 && e.sid == VSID0,
		  "F_TRANSLATION, CLASS IN, the tagged address");
	TAP_CHECK(evt_next(&vm, &e) && e.type == 0x10 && e.input == 1ULL << 50 &&
			  e.cls == SMMUV3_EVT_CLASS_IN && !e.s2,
		  "F_TRANSLATION, CLASS IN, the gap address");

	/* The guest unmaps TTB1's page and invalidates it by VA: the DMA faults. */
	CHECK_OK(guest_s1_unmap(&s1b, IOVA, 0x4000, NULL));
	TAP_CHECK_EQ(dma_fill(&vm, 0, va, 8, 6), 0, "still cached before the TLBI");
	tlbi.addr = va;
	cmd(&tlbi, c[0]);
	cmd(&sync, c[1]);
	cmds_ok(&vm, (const uint64_t(*)[2])c, 2);
	TAP_CHECK_EQ(dma_fill(&vm, 0, va, 8, 7), DMATEST_ERR_DMA_FAULT, "TTB1 VA unmapped now");
	TAP_CHECK_EQ(ram64(&vm, BUF1_GPA), 6, "nothing more written");
	TAP_CHECK_EQ(vsmmuv3_poll_events(vm.vs), 1, "its record");
	TAP_CHECK(evt_next(&vm, &e) && e.type == 0x10 && e.input == va, "F_TRANSLATION at the VA");
	TAP_CHECK_EQ(dma_fill(&vm, 0, IOVA, 8, 8), 0, "TTB0's page still maps");

	guest_s1_destroy(&s1b);
	vm_down(&vm);
}

static void test_bad_commands(void *arg)
{
	struct guest_cmd ok = {.op = GUEST_CMD_TLBI_NH_ASID, .asid = ASID};
	struct guest_cmd s2 = {.op = GUEST_CMD_TLBI_S2_IPA, .addr = 0x1000};
	struct guest_cmd sync = {.op = GUEST_CMD_SYNC};
	uint64_t c[4][2];
	uint32_t cons, g;
	struct vm vm;

	vm_boot(&vm, false);
	guest_probe(&vm, false, 4, true);
	cmd(&ok, c[0]);
	cmd(&s2, c[1]); /* no stage 2 in the vSMMU: CERROR_ILL */
	cmd(&sync, c[2]);
	cons = cmds_issue(&vm, (const uint64_t(*)[2])c, 3);
	TAP_CHECK_EQ(cons & 0xfffff, 1, "CONS stops at the bad command");
	TAP_CHECK_EQ(VSMMUV3_CONS_ERR(cons), VSMMUV3_CERROR_ILL, "CONS.ERR = CERROR_ILL");
	g = (uint32_t)rd(&vm, VSMMUV3_GERROR, 4);
	TAP_CHECK_EQ(g ^ rd(&vm, VSMMUV3_GERRORN, 4), VSMMUV3_GERROR_CMDQ, "CMDQ_ERR active");
	TAP_CHECK_EQ(vm.irqs[VSMMUV3_IRQ_LINE_GERROR], 1, "the GERROR interrupt");
	/* Nothing moves until the guest acknowledges. */
	wr(&vm, VSMMUV3_CMDQ_PROD, 4, rd(&vm, VSMMUV3_CMDQ_PROD, 4));
	TAP_CHECK_EQ(rd(&vm, VSMMUV3_CMDQ_CONS, 4) & 0xfffff, 1, "halted");
	/* The driver replaces it with a CMD_SYNC (as Linux does) and acknowledges. */
	{
		uint64_t le[2] = {htole64(c[2][0]), htole64(c[2][1])};

		CHECK_OK(guest_mem_write(&vm.gm, vm.cmdq + 16, le, sizeof(le)));
	}
	wr(&vm, VSMMUV3_GERRORN, 4, g);
	TAP_CHECK_EQ(rd(&vm, VSMMUV3_CMDQ_CONS, 4) & 0xfffff, 3, "resumed to PROD");

	/* SSec on a non-secure queue; an undefined opcode; TLBI_EL3_ALL; TLBI_EL2 (no HYP). */
	{
		static const uint64_t bad[][2] = {
			{0x11 | 1ULL << 10, 0}, {0x7f, 0}, {0x68, 0}, {0x20, 0}};

		for (unsigned int i = 0; i < 4; i++) {
			uint32_t before = (uint32_t)rd(&vm, VSMMUV3_CMDQ_PROD, 4);

			cons = cmds_issue(&vm, &bad[i], 1);
			TAP_CHECK_EQ(cons & 0xfffff, before, "bad %u: CONS at it", i);
			TAP_CHECK_EQ(VSMMUV3_CONS_ERR(cons), VSMMUV3_CERROR_ILL, "bad %u: ILL", i);
			/* Skip it: rewrite as a PREFETCH_CONFIG, acknowledge. */
			{
				uint64_t le[2] = {htole64(1), 0};

				CHECK_OK(guest_mem_write(&vm.gm, vm.cmdq + 16ULL * (before & 63),
							 le, sizeof(le)));
			}
			wr(&vm, VSMMUV3_GERRORN, 4, rd(&vm, VSMMUV3_GERROR, 4));
			TAP_CHECK_EQ(rd(&vm, VSMMUV3_CMDQ_CONS, 4) & 0xfffff,
				     rd(&vm, VSMMUV3_CMDQ_PROD, 4), "bad %u: resumed", i);
		}
	}
	/* CFGI_CD of a stream with no device: nothing to do, not an error. */
	{
		struct guest_cmd cd = {.op = GUEST_CMD_CFGI_CD, .sid = 0x77};

		cmd(&cd, c[0]);
		cmds_ok(&vm, (const uint64_t(*)[2])c, 1);
	}
	/* A command queue outside guest RAM: CERROR_ABT. */
	wr(&vm, VSMMUV3_CR0, 4, VSMMUV3_CR0_SMMUEN | VSMMUV3_CR0_EVENTQEN);
	wr(&vm, VSMMUV3_CMDQ_BASE, 8, 0x10000000ULL | 4);
	wr(&vm, VSMMUV3_CMDQ_CONS, 4, 0);
	wr(&vm, VSMMUV3_CMDQ_PROD, 4, 0);
	wr(&vm, VSMMUV3_CR0, 4, VSMMUV3_CR0_SMMUEN | VSMMUV3_CR0_EVENTQEN | VSMMUV3_CR0_CMDQEN);
	wr(&vm, VSMMUV3_CMDQ_PROD, 4, 1);
	cons = (uint32_t)rd(&vm, VSMMUV3_CMDQ_CONS, 4);
	TAP_CHECK_EQ(cons & 0xfffff, 0, "CONS at the unreadable command");
	TAP_CHECK_EQ(VSMMUV3_CONS_ERR(cons), VSMMUV3_CERROR_ABT, "CERROR_ABT");
	vm_down(&vm);
}

static void test_evtq_overflow(void *arg)
{
	struct smmuv3_evt e;
	uint32_t prod;
	struct vm vm;

	vm_boot(&vm, false);
	guest_probe(&vm, false, 1, true); /* two entries */
	guest_s1_setup(&vm);
	nested_ste(&vm, ste_gpa(&vm, VSID0));
	cfgi_ste_sync(&vm, VSID0);
	for (unsigned int i = 0; i < 3; i++)
		TAP_CHECK_EQ(dma_fill(&vm, 0, 0x400000 + 0x1000 * i, 8, i), DMATEST_ERR_DMA_FAULT,
			     "fault %u", i);
	TAP_CHECK_EQ(vsmmuv3_poll_events(vm.vs), 2, "two fit");
	prod = (uint32_t)rd(&vm, VSMMUV3_PAGE1 + VSMMUV3_EVENTQ_PROD, 4);
	TAP_CHECK(prod & VSMMUV3_Q_OVFLG, "OVFLG toggled");
	TAP_CHECK_EQ(prod & 3, 2, "full: wrap 1, index 0");
	TAP_CHECK(evt_next(&vm, &e) && e.input == 0x400000, "the first");
	TAP_CHECK(evt_next(&vm, &e) && e.input == 0x401000, "the second");
	TAP_CHECK(!evt_next(&vm, &e), "the third was lost");
	/* Two more faults before acknowledging: one overflow, OVFLG does not toggle again. */
	vm.evtq_cons |= VSMMUV3_Q_OVFLG; /* acknowledged */
	wr(&vm, VSMMUV3_PAGE1 + VSMMUV3_EVENTQ_CONS, 4, vm.evtq_cons);
	for (unsigned int i = 0; i < 3; i++)
		dma_fill(&vm, 0, 0x500000 + 0x1000 * i, 8, i);
	TAP_CHECK_EQ(vsmmuv3_poll_events(vm.vs), 2, "two fit");
	prod = (uint32_t)rd(&vm, VSMMUV3_PAGE1 + VSMMUV3_EVENTQ_PROD, 4);
	TAP_CHECK(!(prod & VSMMUV3_Q_OVFLG), "OVFLG toggled back for the new overflow");
	dma_fill(&vm, 0, 0x600000, 8, 0);
	TAP_CHECK_EQ(vsmmuv3_poll_events(vm.vs), 0, "full");
	TAP_CHECK(!(rd(&vm, VSMMUV3_PAGE1 + VSMMUV3_EVENTQ_PROD, 4) & VSMMUV3_Q_OVFLG),
		  "an overflow is pending: no second toggle");
	{
		struct vsmmuv3_stats st;

		vsmmuv3_get_stats(vm.vs, &st);
		TAP_CHECK_EQ(st.events, 4, "four written");
		TAP_CHECK_EQ(st.events_lost, 3, "three lost");
	}
	/* EVENTQEN = 0: records are dropped. */
	while (evt_next(&vm, &e))
		;
	wr(&vm, VSMMUV3_CR0, 4, VSMMUV3_CR0_SMMUEN | VSMMUV3_CR0_CMDQEN);
	dma_fill(&vm, 0, 0x700000, 8, 0);
	TAP_CHECK_EQ(vsmmuv3_poll_events(vm.vs), 0, "disabled");
	vm_down(&vm);
}

static void test_two_level(void *arg)
{
	uint64_t l2, l1;
	struct smmuv3_evt e;
	struct vm vm;

	vm_boot(&vm, false);
	guest_probe(&vm, true, 4, true);
	/* SMMUEN looked both STEs up: their L1 descriptors are still invalid (span 0). */
	TAP_CHECK(evt_next(&vm, &e) && e.type == 0x02 && e.sid == VSID0, "C_BAD_STREAMID 0x100");
	TAP_CHECK(evt_next(&vm, &e) && e.type == 0x02 && e.sid == VSID1, "C_BAD_STREAMID 0x1234");
	TAP_CHECK(!evt_next(&vm, &e), "two records");
	guest_s1_setup(&vm);
	/* VSID1 = 0x1234: L1 descriptor 0x12, STE 0x34 of a span-9 (256 STE) L2 table. */
	CHECK_OK(guest_mem_alloc(&vm.gm, 256 * 64, 256 * 64, &l2));
	l1 = htole64(l2 | 9);
	CHECK_OK(guest_mem_write(&vm.gm, vm.strtab + 8 * 0x12, &l1, 8));
	nested_ste(&vm, l2 + 64 * 0x34);
	cfgi_ste_sync(&vm, VSID1);
	TAP_CHECK_EQ(dma_fill(&vm, 1, IOVA, 64, 0x77), 0, "DMA through the L2 STE");
	TAP_CHECK_EQ(ram64(&vm, BUF_GPA), 0x77, "landed");
	TAP_CHECK_EQ(vsmmuv3_poll_events(vm.vs), 0, "no record");
	TAP_CHECK(!evt_next(&vm, &e), "none in the guest's EVTQ");

	/* VSID0 = 0x100: L1 descriptor 1 has span 0: C_BAD_STREAMID at its CFGI_STE. */
	cfgi_ste_sync(&vm, VSID0);
	TAP_CHECK_EQ(vsmmuv3_poll_events(vm.vs), 0, "nothing from the vEVENTQ");
	TAP_CHECK(evt_next(&vm, &e), "a record");
	TAP_CHECK_EQ(e.type, 0x02, "C_BAD_STREAMID");
	TAP_CHECK_EQ(e.sid, VSID0, "its SID");
	TAP_CHECK_EQ(dma_fill(&vm, 0, IOVA, 64, 1), DMATEST_ERR_DMA_FAULT, "aborted");

	/* A span too small for the index: C_BAD_STE. */
	l1 = htole64(l2 | 1); /* one STE: index 0x34 is beyond */
	CHECK_OK(guest_mem_write(&vm.gm, vm.strtab + 8 * 0x12, &l1, 8));
	cfgi_ste_sync(&vm, VSID1);
	TAP_CHECK(evt_next(&vm, &e), "a record");
	TAP_CHECK(e.type == 0x04 && e.sid == VSID1, "C_BAD_STE: %s 0x%x", smmuv3_evt_name(e.type),
		  e.sid);
	TAP_CHECK_EQ(dma_fill(&vm, 1, IOVA, 64, 2), DMATEST_ERR_DMA_FAULT, "aborted");

	/* A stage-2 Config (the vSMMU has no stage 2): C_BAD_STE. */
	l1 = htole64(l2 | 9);
	CHECK_OK(guest_mem_write(&vm.gm, vm.strtab + 8 * 0x12, &l1, 8));
	ste_put(&vm, l2 + 64 * 0x34, (uint64_t[2]){1 | 6 << 1, 0});
	cfgi_ste_sync(&vm, VSID1);
	TAP_CHECK(evt_next(&vm, &e) && e.type == 0x04 && e.sid == VSID1, "C_BAD_STE (S2)");
	/* An L2 table outside RAM: F_STE_FETCH with the address. */
	l1 = htole64(0x10000000ULL | 9);
	CHECK_OK(guest_mem_write(&vm.gm, vm.strtab + 8 * 0x12, &l1, 8));
	cfgi_ste_sync(&vm, VSID1);
	TAP_CHECK(evt_next(&vm, &e) && e.type == 0x03, "F_STE_FETCH");
	TAP_CHECK_EQ(e.fetch, 0x10000000ULL + 64 * 0x34, "fetch address");
	/* Back to the good STE with CFGI_ALL. */
	l1 = htole64(l2 | 9);
	CHECK_OK(guest_mem_write(&vm.gm, vm.strtab + 8 * 0x12, &l1, 8));
	nested_ste(&vm, l2 + 64 * 0x34);
	{
		struct guest_cmd all = {.op = GUEST_CMD_CFGI_STE_RANGE, .range = 31};
		uint64_t c[1][2];

		cmd(&all, c[0]);
		cmds_ok(&vm, (const uint64_t(*)[2])c, 1);
	}
	TAP_CHECK(evt_next(&vm, &e) && e.type == 0x02 && e.sid == VSID0, "0x100 still bad");
	TAP_CHECK(!evt_next(&vm, &e), "and nothing else");
	TAP_CHECK_EQ(dma_fill(&vm, 1, IOVA + 8, 8, 0x99), 0, "0x1234 translates again");
	vm_down(&vm);
}

static void test_msi(void *arg)
{
	struct smmuv3_evt e;
	uint64_t msi_gpa;
	struct vm vm;
	uint32_t g;

	vm_boot(&vm, false);
	guest_probe(&vm, false, 4, true);
	guest_s1_setup(&vm);
	nested_ste(&vm, ste_gpa(&vm, VSID0));
	cfgi_ste_sync(&vm, VSID0);
	CHECK_OK(guest_mem_alloc(&vm.gm, 4096, 4096, &msi_gpa));
	/* The event queue's MSI into guest RAM, the GERROR MSI to the doorbell. */
	wr(&vm, VSMMUV3_EVENTQ_IRQ_CFG0, 8, msi_gpa + 8);
	wr(&vm, VSMMUV3_EVENTQ_IRQ_CFG1, 4, 0xe7e7);
	wr(&vm, VSMMUV3_GERROR_IRQ_CFG0, 8, DOORBELL);
	wr(&vm, VSMMUV3_GERROR_IRQ_CFG1, 4, 0x6e6e);
	TAP_CHECK_EQ(rd(&vm, VSMMUV3_GERROR_IRQ_CFG0, 8), DOORBELL, "CFG0 reads back");
	TAP_CHECK_EQ(dma_fill(&vm, 0, 0x300000, 8, 1), DMATEST_ERR_DMA_FAULT, "a fault");
	TAP_CHECK_EQ(vsmmuv3_poll_events(vm.vs), 1, "its record");
	TAP_CHECK_EQ(ram64(&vm, msi_gpa + 8), 0xe7e7, "EVTQ MSI data at its address");
	TAP_CHECK_EQ(vm.irqs[VSMMUV3_IRQ_LINE_EVENTQ], 0, "no wired interrupt");
	TAP_CHECK(evt_next(&vm, &e) && e.type == 0x10, "the record");
	/* A bad command: GERROR.CMDQ_ERR signalled through the doorbell. */
	{
		uint64_t bad[1][2] = {{0x7f, 0}};

		cmds_issue(&vm, (const uint64_t(*)[2])bad, 1);
	}
	TAP_CHECK_EQ(vm.msis, 1, "one MSI at the doorbell");
	TAP_CHECK_EQ(vm.msi_data, 0x6e6e, "GERROR_IRQ_CFG1");
	g = (uint32_t)rd(&vm, VSMMUV3_GERROR, 4);
	TAP_CHECK_EQ(g ^ rd(&vm, VSMMUV3_GERRORN, 4), VSMMUV3_GERROR_CMDQ, "only CMDQ_ERR");
	/* The EVTQ MSI to an address nobody takes: MSI_EVENTQ_ABT_ERR (and its own MSI). */
	wr(&vm, VSMMUV3_CR0, 4, VSMMUV3_CR0_SMMUEN | VSMMUV3_CR0_CMDQEN);
	wr(&vm, VSMMUV3_EVENTQ_IRQ_CFG0, 8, 0x9000000);
	wr(&vm, VSMMUV3_CR0, 4, VSMMUV3_CR0_SMMUEN | VSMMUV3_CR0_CMDQEN | VSMMUV3_CR0_EVENTQEN);
	TAP_CHECK_EQ(dma_fill(&vm, 0, 0x301000, 8, 1), DMATEST_ERR_DMA_FAULT, "a fault");
	TAP_CHECK_EQ(vsmmuv3_poll_events(vm.vs), 1, "its record");
	TAP_CHECK_EQ((rd(&vm, VSMMUV3_GERROR, 4) ^ rd(&vm, VSMMUV3_GERRORN, 4)),
		     VSMMUV3_GERROR_CMDQ | VSMMUV3_GERROR_MSI_EVTQ_ABT, "MSI_EVENTQ_ABT_ERR");
	TAP_CHECK_EQ(vm.msis, 2, "signalled at the doorbell");
	/* The GERROR MSI aborting too: MSI_GERROR_ABT_ERR, no further MSI. */
	{
		uint32_t cons = (uint32_t)rd(&vm, VSMMUV3_CMDQ_CONS, 4);
		uint64_t le[2] = {htole64(0x01), 0}; /* the bad command becomes a PREFETCH_CONFIG */

		CHECK_OK(guest_mem_write(&vm.gm, vm.cmdq + 16ULL * (cons & 63), le, sizeof(le)));
	}
	wr(&vm, VSMMUV3_GERRORN, 4, rd(&vm, VSMMUV3_GERROR, 4));
	wr(&vm, VSMMUV3_GERROR_IRQ_CFG0, 8, 0x9000000);
	TAP_CHECK_EQ(dma_fill(&vm, 0, 0x302000, 8, 1), DMATEST_ERR_DMA_FAULT, "a fault");
	TAP_CHECK_EQ(vsmmuv3_poll_events(vm.vs), 1, "its record");
	TAP_CHECK_EQ((rd(&vm, VSMMUV3_GERROR, 4) ^ rd(&vm, VSMMUV3_GERRORN, 4)),
		     VSMMUV3_GERROR_MSI_EVTQ_ABT | VSMMUV3_GERROR_MSI_GERR_ABT,
		     "MSI_EVENTQ_ABT_ERR and MSI_GERROR_ABT_ERR");
	TAP_CHECK_EQ(vm.msis, 2, "nothing more at the doorbell");
	vm_down(&vm);
}

/* ---------------------------------------------------------------------- */
/* Allocation failures                                                    */

/*
 * A write under fail-nth. The kernel's fault injection also fails object
 * lookups (ENOENT) and so other errnos: any negative errno may come back,
 * and must leave nothing behind (the caller checks after the run).
 */
/* ---------------------------------------------------------------------- */
/* ATS, stalls, PRI                                                       */

#define NEW_GPA		(BUF_GPA + 0x10000ULL) /* where the guest moves IOVA's pages */
#define STE1_EATS_TRANS (1ULL << 28)	       /* EATS 0b01 */

/* The nested STE of @sid with stall allowed (S1STALLD = 0) and EATS = @eats. */
static void nested_ste_words(struct vm *vm, uint32_t sid, bool s1stalld, bool eats)
{
	struct guest_ste ste = {.valid = true,
				.config = GUEST_STE_TRANSLATE,
				.cd_table = vm->cdtab,
				.s1stalld = s1stalld};
	uint64_t w[2];

	CHECK_OK(guest_ste_encode(&ste, w));
	if (eats)
		w[1] |= STE1_EATS_TRANS;
	ste_put(vm, ste_gpa(vm, sid), w);
	cfgi_ste_sync(vm, sid);
}

/* The fill of dma_fill() without TAP output (another thread runs it): the error code. */
static unsigned int dma_fill_quiet(struct dmatest *d, uint64_t iova, uint32_t len, uint64_t pat)
{
	uint64_t st = 0;

	if (dmatest_bar_write(d, 0, DMATEST_REG_DST_IOVA, 8, iova) ||
	    dmatest_bar_write(d, 0, DMATEST_REG_LEN, 4, len) ||
	    dmatest_bar_write(d, 0, DMATEST_REG_PASID, 4, 0) ||
	    dmatest_bar_write(d, 0, DMATEST_REG_FILL, 8, pat) ||
	    dmatest_bar_write(d, 0, DMATEST_REG_OP, 4, DMATEST_OP_FILL) ||
	    dmatest_bar_write(d, 0, DMATEST_REG_GO, 4, 1) ||
	    dmatest_bar_read(d, 0, DMATEST_REG_STATUS, 4, &st))
		return 0xff;
	if (st & DMATEST_STATUS_BUSY)
		return 0xfe;
	return (unsigned int)((st & DMATEST_STATUS_ERR_MASK) >> DMATEST_STATUS_ERR_SHIFT);
}

/* A DMA that waits for a page response runs on a thread of its own, as the device would. */
struct dma_job {
	struct dmatest *d;
	uint64_t iova, pattern;
	uint32_t len; /* 64 unless set (job_start_len) */
	unsigned int err;
	pthread_t th;
};

static void *dma_job_run(void *arg)
{
	struct dma_job *j = arg;

	j->err = dma_fill_quiet(j->d, j->iova, j->len ? j->len : 64, j->pattern);
	return NULL;
}

static void job_start(struct dma_job *j, struct vm *vm, unsigned int dev, uint64_t iova,
		      uint64_t pattern)
{
	*j = (struct dma_job){.d = vm->dt[dev], .iova = iova, .pattern = pattern};
	TAP_CHECK(!pthread_create(&j->th, NULL, dma_job_run, j), "DMA thread");
}

static void job_start_len(struct dma_job *j, struct vm *vm, unsigned int dev, uint64_t iova,
			  uint32_t len, uint64_t pattern)
{
	*j = (struct dma_job){.d = vm->dt[dev], .iova = iova, .pattern = pattern, .len = len};
	TAP_CHECK(!pthread_create(&j->th, NULL, dma_job_run, j), "DMA thread");
}

static unsigned int job_end(struct dma_job *j)
{
	pthread_join(j->th, NULL);
	return j->err;
}

/* Wait until the host fault queue has a page request (the time-out only guards a hang). */
static void fault_wait(struct vm *vm)
{
	struct pollfd pfd = {.fd = vsmmuv3_fault_fd(vm->vs), .events = POLLIN};

	TAP_CHECK(pfd.fd >= 0, "the fault queue exists");
	TAP_CHECK_EQ(poll(&pfd, 1, 20000), 1, "a page request reached the fault queue");
}

/* Map IOVA + @off to BUF_GPA + @off in the guest's stage 1 and invalidate it. */
static void s1_map_page(struct vm *vm, uint64_t off)
{
	struct guest_cmd tlbi = {
		.op = GUEST_CMD_TLBI_NH_VA, .asid = ASID, .addr = IOVA + off, .leaf = true};
	struct guest_cmd sync = {.op = GUEST_CMD_SYNC};
	uint64_t c[2][2];

	CHECK_OK(guest_s1_map(&vm->s1, IOVA + off, BUF_GPA + off, 0x1000, PT_PROT_RW));
	cmd(&tlbi, c[0]);
	cmd(&sync, c[1]);
	cmds_ok(vm, (const uint64_t(*)[2])c, 2);
}

/* One command and a CMD_SYNC, both completing. */
static void cmd_sync_ok(struct vm *vm, const uint64_t w[2])
{
	struct guest_cmd sync = {.op = GUEST_CMD_SYNC};
	uint64_t c[2][2] = {{w[0], w[1]}};

	cmd(&sync, c[1]);
	cmds_ok(vm, (const uint64_t(*)[2])c, 2);
}

/*
 * ATS: IDR0.ATS, the guest's EATS reaching the device's STE, a stale ATC
 * entry serving DMA after the guest's TLBI, and gone after its ATC_INV +
 * CMD_SYNC. A batch the host refuses part of (ATC_INV Size 53, which the
 * host SMMU's queue refuses as CERROR_ILL): CONS at that command with
 * CERROR_ILL, the command before it done, the one after it not, and the
 * queue resuming when the guest fixed the command and wrote GERRORN.
 */
static void test_ats(void *arg)
{
	struct guest_cmd inv0 = {.op = GUEST_CMD_ATC_INV, .sid = VSID0, .addr = IOVA};
	struct guest_cmd bad = {.op = GUEST_CMD_ATC_INV, .sid = VSID0, .size = 53};
	struct guest_cmd inv1 = {.op = GUEST_CMD_ATC_INV, .sid = VSID0, .addr = IOVA + 0x1000};
	struct guest_cmd all = {.op = GUEST_CMD_ATC_INV, .sid = VSID0, .size = 52};
	struct guest_cmd asid = {.op = GUEST_CMD_TLBI_NH_ASID, .asid = ASID};
	struct guest_cmd sync = {.op = GUEST_CMD_SYNC};
	struct guest_cmd nodev = {.op = GUEST_CMD_ATC_INV, .sid = 0x77, .size = 52};
	struct vsmmuv3_stats st0, st1;
	uint32_t start, cons, g, wrap = (2u << 6) - 1;
	uint64_t c[4][2];
	struct smmuv3_ep *ep;
	struct vm vm;

	vm_host_opts(&vm, true);
	CHECK_OK(vm_vsmmu(&vm, false));
	TAP_CHECK(rd(&vm, VSMMUV3_IDR0, 4) & (1u << 10), "IDR0.ATS");
	ep = smmuv3_iommu_dev_ep(dmatest_udev(vm.dt[0]));
	TAP_CHECK(ep != NULL, "device 0 has an ATC");
	guest_probe(&vm, false, 4, true);
	guest_s1_setup(&vm);
	nested_ste_words(&vm, VSID0, true, true);

	/* Two pages through the ATC. */
	TAP_CHECK_EQ(dma_fill(&vm, 0, IOVA, 64, 0x11), 0, "page 0");
	TAP_CHECK_EQ(dma_fill(&vm, 0, IOVA + 0x1000, 64, 0x22), 0, "page 1");
	TAP_CHECK(ram64(&vm, BUF_GPA) == 0x11 && ram64(&vm, BUF_GPA + 0x1000) == 0x22, "bytes");
	TAP_CHECK_EQ(smmuv3_ep_atc_count(ep), 2,
		     "both pages in the device's ATC (EATS reached it)");

	/* The guest moves both pages and invalidates the SMMU's TLB only: the ATC is stale. */
	CHECK_OK(guest_s1_unmap(&vm.s1, IOVA, 0x2000, NULL));
	CHECK_OK(guest_s1_map(&vm.s1, IOVA, NEW_GPA, 0x2000, PT_PROT_RW));
	cmd(&asid, c[0]);
	cmd(&sync, c[1]);
	cmds_ok(&vm, (const uint64_t(*)[2])c, 2);
	TAP_CHECK_EQ(dma_fill(&vm, 0, IOVA, 64, 0x33), 0, "DMA through the stale entry");
	TAP_CHECK(ram64(&vm, BUF_GPA) == 0x33 && ram64(&vm, NEW_GPA) == 0, "to the old page");

	/* ATC_INV page 0, a command the host refuses, ATC_INV page 1, CMD_SYNC. */
	vsmmuv3_get_stats(vm.vs, &st0);
	start = (uint32_t)rd(&vm, VSMMUV3_CMDQ_PROD, 4) & wrap;
	cmd(&inv0, c[0]);
	cmd(&bad, c[1]);
	cmd(&inv1, c[2]);
	cmd(&sync, c[3]);
	cons = cmds_issue(&vm, (const uint64_t(*)[2])c, 4);
	TAP_CHECK_EQ(cons & wrap, (start + 1) & wrap, "CONS at the refused command");
	TAP_CHECK_EQ(VSMMUV3_CONS_ERR(cons), VSMMUV3_CERROR_ILL, "CONS.ERR = CERROR_ILL");
	g = (uint32_t)rd(&vm, VSMMUV3_GERROR, 4);
	TAP_CHECK_EQ(g ^ rd(&vm, VSMMUV3_GERRORN, 4), VSMMUV3_GERROR_CMDQ, "GERROR.CMDQ_ERR");
	TAP_CHECK_EQ(vm.irqs[VSMMUV3_IRQ_LINE_GERROR], 1, "the GERROR interrupt");
	vsmmuv3_get_stats(vm.vs, &st1);
	TAP_CHECK_EQ(st1.forwarded - st0.forwarded, 1, "the host handled one command");
	TAP_CHECK_EQ(st1.invalidates - st0.invalidates, 1, "in one IOMMU_HWPT_INVALIDATE");
	TAP_CHECK_EQ(smmuv3_ep_atc_count(ep), 1, "one entry left");
	/* Page 1's entry is still there (the command after the bad one did not run). */
	TAP_CHECK_EQ(dma_fill(&vm, 0, IOVA + 0x1000, 64, 0x44), 0, "page 1");
	TAP_CHECK(ram64(&vm, BUF_GPA + 0x1000) == 0x44 && ram64(&vm, NEW_GPA + 0x1000) == 0,
		  "page 1: still the stale translation");
	/* Page 0's is gone (the one before took effect): a fresh translation. */
	TAP_CHECK_EQ(dma_fill(&vm, 0, IOVA, 64, 0x55), 0, "page 0");
	TAP_CHECK_EQ(ram64(&vm, NEW_GPA), 0x55, "page 0: the guest's new page");
	/* Halted until acknowledged. */
	wr(&vm, VSMMUV3_CMDQ_PROD, 4, rd(&vm, VSMMUV3_CMDQ_PROD, 4));
	TAP_CHECK_EQ(rd(&vm, VSMMUV3_CMDQ_CONS, 4) & wrap, (start + 1) & wrap, "halted");
	/* The driver fixes the command (the whole ATC) and acknowledges: the queue resumes. */
	{
		uint64_t w[2], le[2];

		cmd(&all, w);
		le[0] = htole64(w[0]);
		le[1] = htole64(w[1]);
		CHECK_OK(guest_mem_write(&vm.gm, vm.cmdq + 16ULL * ((start + 1) & 63), le,
					 sizeof(le)));
	}
	wr(&vm, VSMMUV3_GERRORN, 4, g);
	TAP_CHECK_EQ(rd(&vm, VSMMUV3_CMDQ_CONS, 4) & wrap, (start + 4) & wrap, "resumed to PROD");
	TAP_CHECK_EQ(rd(&vm, VSMMUV3_GERROR, 4) ^ rd(&vm, VSMMUV3_GERRORN, 4), 0, "no GERROR");
	TAP_CHECK_EQ(smmuv3_ep_atc_count(ep), 0, "the ATC is empty");
	TAP_CHECK_EQ(dma_fill(&vm, 0, IOVA + 0x1000, 64, 0x66), 0, "page 1");
	TAP_CHECK_EQ(ram64(&vm, NEW_GPA + 0x1000), 0x66, "page 1: the guest's new page");
	/* ATC_INV of a stream with no device: nothing is cached for it. */
	cmd_sync_ok(&vm, (cmd(&nodev, c[0]), c[0]));
	vm_down(&vm);
}

/* A stall record in the guest's EVTQ for device 1 at @iova: its STAG. */
static uint16_t stall_record(struct vm *vm, uint64_t iova)
{
	struct smmuv3_evt e;

	fault_wait(vm);
	TAP_CHECK_EQ(vsmmuv3_poll_events(vm->vs), 1, "one record");
	TAP_CHECK(evt_next(vm, &e), "a record in the guest's EVTQ");
	TAP_CHECK_EQ(e.type, 0x10, "F_TRANSLATION");
	TAP_CHECK_EQ(e.sid, VSID1, "the guest's SID");
	TAP_CHECK(e.stall, "Stall = 1");
	TAP_CHECK(!e.rnw && !e.s2 && !e.ssv, "a write, stage 1, no SSID");
	TAP_CHECK_EQ(e.cls, SMMUV3_EVT_CLASS_IN, "CLASS IN");
	TAP_CHECK_EQ(e.input, iova, "InputAddr");
	TAP_CHECK(!evt_next(vm, &e), "only one");
	return e.stag;
}

/*
 * Stalls: STALL_MODEL from the host; a guest STE with S1STALLD = 0 over a
 * CD with S = 1 gets a nested HWPT with the fault queue; a stalled fault
 * reaches the guest's EVTQ (Stall, STAG); CMD_RESUME Retry completes the
 * DMA after the guest mapped the page, Abort and CMD_STALL_TERM end it
 * with a fault; RESUME naming nothing is ignored; Action 0b11 is
 * CERROR_ILL.
 */
static void test_stall(void *arg)
{
	struct guest_cmd resume = {.op = GUEST_CMD_RESUME, .sid = VSID1};
	struct guest_cmd term = {.op = GUEST_CMD_STALL_TERM, .sid = VSID1};
	struct guest_cd cd = {.valid = true,
			      .asid = ASID,
			      .ias = 48,
			      .granule_shift = 12,
			      .oas = 48,
			      .record = true,
			      .stall = true};
	struct vsmmuv3_stats st;
	struct dma_job j;
	uint64_t w[8], c[1][2];
	uint32_t cons;
	struct vm vm;

	vm_host_opts(&vm, true);
	CHECK_OK(vm_vsmmu(&vm, false));
	TAP_CHECK_EQ((rd(&vm, VSMMUV3_IDR0, 4) >> 24) & 3, 0, "STALL_MODEL 0b00");
	guest_probe(&vm, false, 4, true);
	guest_s1_setup(&vm);
	cd.ttb0 = guest_s1_root(&vm.s1);
	CHECK_OK(guest_cd_encode(&cd, w));
	CHECK_OK(guest_cd_write(&vm.gm, vm.cdtab, w));
	/* S1STALLD = 1: no fault queue needed. */
	nested_ste_words(&vm, VSID1, true, false);
	TAP_CHECK_EQ(vsmmuv3_fault_fd(vm.vs), -1, "S1STALLD = 1: no fault queue");
	nested_ste_words(&vm, VSID1, false, false);
	TAP_CHECK(vsmmuv3_fault_fd(vm.vs) >= 0, "S1STALLD = 0: the fault queue");

	/* Retry: the guest maps the page and resumes; the DMA completes. */
	job_start(&j, &vm, 1, IOVA + 0x3000, 0x77);
	resume.stag = stall_record(&vm, IOVA + 0x3000);
	s1_map_page(&vm, 0x3000);
	resume.action = 1;
	cmd_sync_ok(&vm, (cmd(&resume, c[0]), c[0]));
	TAP_CHECK_EQ(job_end(&j), 0, "Retry: the DMA completed");
	TAP_CHECK_EQ(ram64(&vm, BUF_GPA + 0x3000), 0x77, "its bytes");

	/* Abort: the DMA ends with a fault. */
	job_start(&j, &vm, 1, IOVA + 0x5000, 0x78);
	resume.stag = stall_record(&vm, IOVA + 0x5000);
	resume.action = 2;
	cmd_sync_ok(&vm, (cmd(&resume, c[0]), c[0]));
	TAP_CHECK_EQ(job_end(&j), DMATEST_ERR_DMA_FAULT, "Abort: a DMA fault");
	/* The same RESUME again names nothing: ignored. */
	cmd_sync_ok(&vm, (cmd(&resume, c[0]), c[0]));

	/* STALL_TERM: every stalled transaction of the stream ends. */
	job_start(&j, &vm, 1, IOVA + 0x6000, 0x79);
	stall_record(&vm, IOVA + 0x6000);
	cmd_sync_ok(&vm, (cmd(&term, c[0]), c[0]));
	TAP_CHECK_EQ(job_end(&j), DMATEST_ERR_DMA_FAULT, "STALL_TERM: a DMA fault");
	TAP_CHECK_EQ(ram64(&vm, BUF_GPA + 0x5000) | ram64(&vm, BUF_GPA + 0x6000), 0,
		     "nothing written");

	/* EVENTQEN = 0: the guest cannot be told; the front end terminates the stall. */
	wr(&vm, VSMMUV3_CR0, 4, rd(&vm, VSMMUV3_CR0, 4) & ~VSMMUV3_CR0_EVENTQEN);
	job_start(&j, &vm, 1, IOVA + 0x7000, 0x7a);
	fault_wait(&vm);
	TAP_CHECK_EQ(vsmmuv3_poll_events(vm.vs), 0, "no record");
	TAP_CHECK_EQ(job_end(&j), DMATEST_ERR_DMA_FAULT, "terminated: a DMA fault");
	wr(&vm, VSMMUV3_CR0, 4, rd(&vm, VSMMUV3_CR0, 4) | VSMMUV3_CR0_EVENTQEN);

	/* Action 0b11 is reserved: CERROR_ILL. */
	resume.action = 3;
	cmd(&resume, c[0]);
	cons = cmds_issue(&vm, (const uint64_t(*)[2])c, 1);
	TAP_CHECK_EQ(VSMMUV3_CONS_ERR(cons), VSMMUV3_CERROR_ILL, "Action 0b11: CERROR_ILL");
	vsmmuv3_get_stats(vm.vs, &st);
	TAP_CHECK_EQ(st.stalls, 3, "three stall records");
	TAP_CHECK_EQ(st.page_resps, 4, "four page responses (one the front end's)");
	vm_down(&vm);
}

/*
 * A host SMMU with STALL_MODEL 0b10 (stall forced): the guest sees 0b10.
 * Its CD with S = 1 stalls as with 0b00 (the fault queue, the Stall
 * record, RESUME Retry completes the DMA). A CD with S = 0 is ILLEGAL
 * under 0b10: the host's C_BAD_CD reaches the guest's EVTQ with its vSID
 * and the DMA fails.
 */
static void test_stall_forced_host(void *arg)
{
	struct guest_cmd resume = {.op = GUEST_CMD_RESUME, .sid = VSID1, .action = 1};
	struct guest_cmd cfgi = {.op = GUEST_CMD_CFGI_CD, .sid = VSID1, .leaf = true};
	struct guest_cmd sync = {.op = GUEST_CMD_SYNC};
	struct guest_cd cd = {.valid = true,
			      .asid = ASID,
			      .ias = 48,
			      .granule_shift = 12,
			      .oas = 48,
			      .record = true,
			      .stall = true};
	struct smmuv3_evt e;
	struct dma_job j;
	uint64_t w[8], c[2][2];
	struct vm vm;

	host_stall_forced = true;
	vm_host_opts(&vm, true);
	host_stall_forced = false;
	CHECK_OK(vm_vsmmu(&vm, false));
	TAP_CHECK_EQ((rd(&vm, VSMMUV3_IDR0, 4) >> 24) & 3, 2, "STALL_MODEL 0b10: the host's");
	guest_probe(&vm, false, 4, true);
	guest_s1_setup(&vm);
	cd.ttb0 = guest_s1_root(&vm.s1);
	CHECK_OK(guest_cd_encode(&cd, w));
	CHECK_OK(guest_cd_write(&vm.gm, vm.cdtab, w));
	nested_ste_words(&vm, VSID1, false, false);
	TAP_CHECK(vsmmuv3_fault_fd(vm.vs) >= 0, "the fault queue");
	job_start(&j, &vm, 1, IOVA + 0x3000, 0x71);
	resume.stag = stall_record(&vm, IOVA + 0x3000);
	s1_map_page(&vm, 0x3000);
	cmd_sync_ok(&vm, (cmd(&resume, c[0]), c[0]));
	TAP_CHECK_EQ(job_end(&j), 0, "Retry: the DMA completed");
	TAP_CHECK_EQ(ram64(&vm, BUF_GPA + 0x3000), 0x71, "its bytes");

	/* CD.S = 0: C_BAD_CD (0x0a) in the guest's EVTQ, the DMA fails. */
	cd.stall = false;
	CHECK_OK(guest_cd_encode(&cd, w));
	CHECK_OK(guest_cd_write(&vm.gm, vm.cdtab, w));
	cmd(&cfgi, c[0]);
	cmd(&sync, c[1]);
	cmds_ok(&vm, (const uint64_t(*)[2])c, 2);
	TAP_CHECK_EQ(dma_fill(&vm, 1, IOVA + 0x3000, 64, 0x72), DMATEST_ERR_DMA_FAULT,
		     "CD.S = 0 under stall forced: a fault");
	vsmmuv3_poll_events(vm.vs);
	TAP_CHECK(evt_next(&vm, &e), "a record");
	TAP_CHECK_EQ(e.type, 0x0a, "C_BAD_CD");
	TAP_CHECK_EQ(e.sid, VSID1, "the guest's SID");
	TAP_CHECK_EQ(ram64(&vm, BUF_GPA + 0x3000), 0x71, "nothing written");
	vm_down(&vm);
}

#define PRIQ_LOG2 4u

/* The guest's PRI queue (2^@log2 entries), its interrupt, PRIQEN. */
static uint64_t guest_priq_n(struct vm *vm, unsigned int log2)
{
	uint32_t cr0 = (uint32_t)rd(vm, VSMMUV3_CR0, 4);
	uint64_t priq;

	CHECK_OK(guest_mem_alloc(&vm->gm, 16u << log2, 16u << log2, &priq));
	wr(vm, VSMMUV3_PRIQ_BASE, 8, priq | log2);
	wr(vm, VSMMUV3_PAGE1 + VSMMUV3_PRIQ_PROD, 4, 0);
	wr(vm, VSMMUV3_PAGE1 + VSMMUV3_PRIQ_CONS, 4, 0);
	wr(vm, VSMMUV3_IRQ_CTRL, 4, VSMMUV3_IRQ_GERROR | VSMMUV3_IRQ_EVENTQ | VSMMUV3_IRQ_PRIQ);
	wr(vm, VSMMUV3_CR0, 4, cr0 | VSMMUV3_CR0_PRIQEN);
	TAP_CHECK_EQ(rd(vm, VSMMUV3_CR0ACK, 4), cr0 | VSMMUV3_CR0_PRIQEN, "PRIQEN");
	return priq;
}

static uint64_t guest_priq(struct vm *vm)
{
	return guest_priq_n(vm, PRIQ_LOG2);
}

/* The PRI record of device 0's page request for @page: its PRG index. */
static uint16_t pri_record(struct vm *vm, uint64_t priq, uint64_t page)
{
	uint32_t prod, cons = (uint32_t)rd(vm, VSMMUV3_PAGE1 + VSMMUV3_PRIQ_CONS, 4);
	uint64_t w0, w1;

	fault_wait(vm);
	TAP_CHECK_EQ(vsmmuv3_poll_events(vm->vs), 1, "one record");
	prod = (uint32_t)rd(vm, VSMMUV3_PAGE1 + VSMMUV3_PRIQ_PROD, 4);
	TAP_CHECK_EQ(prod & 0x1f, (cons + 1) & 0x1f, "PRIQ_PROD moved by one");
	w0 = ram64(vm, priq + 16ULL * (cons & 15));
	w1 = ram64(vm, priq + 16ULL * (cons & 15) + 8);
	TAP_CHECK_EQ((uint32_t)w0, VSID0, "StreamID: the guest's");
	TAP_CHECK(!(w0 >> 63), "SSV = 0");
	TAP_CHECK((w0 >> 62) & 1, "Last");
	TAP_CHECK((w0 >> 61) & 1, "Write");
	TAP_CHECK_EQ(w1 & ~0xfffULL, page, "page address");
	wr(vm, VSMMUV3_PAGE1 + VSMMUV3_PRIQ_CONS, 4, prod);
	return (uint16_t)(w1 & 0x1ff);
}

/* CMD_PRI_RESP for device 0 (raw: qword 1 has the PRG index and Resp). */
static void pri_resp_words(uint16_t prgi, unsigned int resp, uint64_t w[2])
{
	w[0] = GUEST_CMD_PRI_RESP | (uint64_t)VSID0 << 32;
	w[1] = prgi | (uint64_t)resp << 12;
}

/*
 * PRI: IDR0.PRI and the PRI queue; a guest STE with EATS = 0b01 for a
 * device with PRI gets the fault queue; the device's page request becomes
 * a guest PRIQ record (vSID, Last, Write, page, PRG index) and the PRI
 * queue interrupt; CMD_PRI_RESP Success completes the DMA after the guest
 * mapped the page, Invalid Request ends it with a fault; Resp 0b11 is
 * CERROR_ILL; with PRIQEN = 0 the front end answers Response Failure
 * itself and the guest sees no record.
 */
static void test_pri(void *arg)
{
	struct vsmmuv3_stats st;
	struct dma_job j;
	uint64_t w[2], c[1][2], priq;
	uint16_t prgi;
	uint32_t cons, prod;
	struct vm vm;

	vm_host_opts(&vm, true);
	CHECK_OK(vm_vsmmu(&vm, false));
	TAP_CHECK(rd(&vm, VSMMUV3_IDR0, 4) & (1u << 16), "IDR0.PRI");
	guest_probe(&vm, false, 4, true);
	priq = guest_priq(&vm);
	guest_s1_setup(&vm);
	nested_ste_words(&vm, VSID0, true, true);
	TAP_CHECK(vsmmuv3_fault_fd(vm.vs) >= 0, "EATS on a PRI device: the fault queue");

	/* Success: the guest maps the page; the DMA completes. */
	job_start(&j, &vm, 0, IOVA + 0x3000, 0x99);
	prgi = pri_record(&vm, priq, IOVA + 0x3000);
	TAP_CHECK_EQ(vm.irqs[VSMMUV3_IRQ_LINE_PRIQ], 1, "the PRI queue interrupt");
	s1_map_page(&vm, 0x3000);
	pri_resp_words(prgi, 2, w);
	cmd_sync_ok(&vm, w);
	TAP_CHECK_EQ(job_end(&j), 0, "Success: the DMA completed");
	TAP_CHECK_EQ(ram64(&vm, BUF_GPA + 0x3000), 0x99, "its bytes");

	/* Invalid Request: the device gives up. */
	job_start(&j, &vm, 0, IOVA + 0x5000, 0x9a);
	prgi = pri_record(&vm, priq, IOVA + 0x5000);
	pri_resp_words(prgi, 1, w);
	cmd_sync_ok(&vm, w);
	TAP_CHECK_EQ(job_end(&j), DMATEST_ERR_DMA_FAULT, "Invalid Request: a DMA fault");
	TAP_CHECK_EQ(ram64(&vm, BUF_GPA + 0x5000), 0, "nothing written");

	/* Resp 0b11 is reserved: CERROR_ILL. */
	pri_resp_words(prgi, 3, c[0]);
	cons = cmds_issue(&vm, (const uint64_t(*)[2])c, 1);
	TAP_CHECK_EQ(VSMMUV3_CONS_ERR(cons), VSMMUV3_CERROR_ILL, "Resp 0b11: CERROR_ILL");
	{
		/* Skip it: a PREFETCH_CONFIG in its place, acknowledged. */
		uint64_t le[2] = {htole64(1), 0};

		CHECK_OK(guest_mem_write(&vm.gm, vm.cmdq + 16ULL * (cons & 63), le, sizeof(le)));
		wr(&vm, VSMMUV3_GERRORN, 4, rd(&vm, VSMMUV3_GERROR, 4));
	}

	/* PRIQEN = 0: the front end answers Response Failure; no record. */
	wr(&vm, VSMMUV3_CR0, 4, rd(&vm, VSMMUV3_CR0, 4) & ~VSMMUV3_CR0_PRIQEN);
	prod = (uint32_t)rd(&vm, VSMMUV3_PAGE1 + VSMMUV3_PRIQ_PROD, 4);
	job_start(&j, &vm, 0, IOVA + 0x7000, 0x9b);
	fault_wait(&vm);
	TAP_CHECK_EQ(vsmmuv3_poll_events(vm.vs), 0, "no record");
	TAP_CHECK_EQ(job_end(&j), DMATEST_ERR_DMA_FAULT, "answered: a DMA fault");
	TAP_CHECK_EQ(rd(&vm, VSMMUV3_PAGE1 + VSMMUV3_PRIQ_PROD, 4), prod, "PRIQ_PROD unchanged");
	vsmmuv3_get_stats(vm.vs, &st);
	TAP_CHECK_EQ(st.pri_reqs, 2, "two PRI records");
	TAP_CHECK_EQ(st.page_resps, 3, "three page responses");
	vm_down(&vm);
}

/*
 * A full PRI queue (IHI 0070 §8.2): the request is not written, PRIQ_PROD.OVFLG
 * toggles, and the lost Last request is answered Success so that the
 * device asks again; nothing is written until the guest acknowledges
 * (PRIQ_CONS.OVACKFLG = OVFLG), after which requests reach it again.
 */
static void test_priq_overflow(void *arg)
{
	uint32_t prod, cons, irqs;
	struct vsmmuv3_stats st;
	uint64_t w[2], priq;
	struct dma_job j;
	uint16_t prgi;
	struct vm vm;

	vm_host_opts(&vm, true);
	CHECK_OK(vm_vsmmu(&vm, false));
	guest_probe(&vm, false, 4, true);
	priq = guest_priq_n(&vm, 0); /* one entry */
	guest_s1_setup(&vm);
	nested_ste_words(&vm, VSID0, true, true);

	/* The first request fills the queue; the guest answers but leaves it there. */
	job_start(&j, &vm, 0, IOVA + 0x3000, 0x31);
	fault_wait(&vm);
	TAP_CHECK_EQ(vsmmuv3_poll_events(vm.vs), 1, "one record");
	prod = (uint32_t)rd(&vm, VSMMUV3_PAGE1 + VSMMUV3_PRIQ_PROD, 4);
	TAP_CHECK_EQ(prod, 1, "PRIQ_PROD: one record, the queue is full");
	prgi = (uint16_t)(ram64(&vm, priq + 8) & 0x1ff);
	s1_map_page(&vm, 0x3000);
	pri_resp_words(prgi, 2, w);
	cmd_sync_ok(&vm, w);
	TAP_CHECK_EQ(job_end(&j), 0, "the first DMA completed");

	/* The second finds it full: OVFLG, no record, answered Success; the device retries. */
	irqs = vm.irqs[VSMMUV3_IRQ_LINE_PRIQ];
	job_start(&j, &vm, 0, IOVA + 0x5000, 0x32);
	fault_wait(&vm);
	s1_map_page(&vm, 0x5000); /* so that the retry finds the page */
	TAP_CHECK_EQ(vsmmuv3_poll_events(vm.vs), 0, "no record");
	TAP_CHECK_EQ(job_end(&j), 0, "answered Success: the retried DMA completed");
	TAP_CHECK_EQ(ram64(&vm, BUF_GPA + 0x5000), 0x32, "its bytes");
	prod = (uint32_t)rd(&vm, VSMMUV3_PAGE1 + VSMMUV3_PRIQ_PROD, 4);
	TAP_CHECK_EQ(prod, VSMMUV3_Q_OVFLG | 1, "PRIQ_PROD.OVFLG toggled, the index unchanged");
	TAP_CHECK_EQ(vm.irqs[VSMMUV3_IRQ_LINE_PRIQ], irqs, "no interrupt");

	/* The guest consumes the record and acknowledges the overflow: requests reach it again. */
	cons = (uint32_t)rd(&vm, VSMMUV3_PAGE1 + VSMMUV3_PRIQ_CONS, 4);
	wr(&vm, VSMMUV3_PAGE1 + VSMMUV3_PRIQ_CONS, 4, ((cons + 1) & 1u) | VSMMUV3_Q_OVFLG);
	job_start(&j, &vm, 0, IOVA + 0x7000, 0x33);
	fault_wait(&vm);
	TAP_CHECK_EQ(vsmmuv3_poll_events(vm.vs), 1, "a record again");
	prgi = (uint16_t)(ram64(&vm, priq + 8) & 0x1ff);
	TAP_CHECK_EQ(ram64(&vm, priq + 8) & ~0xfffULL, IOVA + 0x7000, "for the third page");
	pri_resp_words(prgi, 0, w); /* Response Failure */
	cmd_sync_ok(&vm, w);
	TAP_CHECK_EQ(job_end(&j), DMATEST_ERR_DMA_FAULT, "Response Failure: a DMA fault");
	vsmmuv3_get_stats(vm.vs, &st);
	TAP_CHECK_EQ(st.pri_reqs, 2, "two records written");
	TAP_CHECK_EQ(st.page_resps, 3, "three page responses (one the front end's)");
	vm_down(&vm);
}

/*
 * The guest's PRI records [cons, cons + n) (a queue of 2^@log2): device
 * 0's requests for @pages in order, Write, one PRG index (returned), Last
 * on the final one when @last, else on none.
 */
static uint16_t pri_group_check(struct vm *vm, uint64_t priq, unsigned int log2, uint32_t cons,
				const uint64_t *pages, unsigned int n, bool last)
{
	uint16_t prgi = 0;

	for (unsigned int k = 0; k < n; k++) {
		uint64_t at = priq + 16ULL * ((cons + k) & ((1u << log2) - 1));
		uint64_t w0 = ram64(vm, at), w1 = ram64(vm, at + 8);

		if (!k)
			prgi = (uint16_t)(w1 & 0x1ff);
		TAP_CHECK_EQ((uint32_t)w0, VSID0, "record %u: the vSID", k);
		TAP_CHECK_EQ((w0 >> 62) & 1, last && k + 1 == n, "record %u: Last", k);
		TAP_CHECK((w0 >> 61) & 1, "record %u: Write", k);
		TAP_CHECK(!(w0 >> 63), "record %u: no SSV", k);
		TAP_CHECK_EQ(w1 & ~0xfffULL, pages[k], "record %u: page", k);
		TAP_CHECK_EQ(w1 & 0x1ff, prgi, "record %u: one PRG index", k);
	}
	return prgi;
}

/*
 * A DMA over several pages the guest has not mapped: the guest's PRI
 * queue gets one record per faulting page (the mapped one skipped), one
 * PRG index, Last on the final record; one CMD_PRI_RESP answers the group
 * and the DMA moves every byte. A queue too small for the group (§8.2):
 * the records that fit are written, the rest (Last among them) lost,
 * OVFLG toggles and the front end answers the group Success; a
 * CMD_PRI_RESP naming the partial group is ignored (nothing pending).
 */
static void test_pri_group(void *arg)
{
	const uint64_t pat = 0x5a5a5a5a00000000ULL | 0x1234;
	struct vsmmuv3_stats st0, st1;
	struct dma_job j;
	uint64_t w[2], priq;
	uint32_t prod;
	uint16_t prgi;
	struct vm vm;

	vm_host_opts(&vm, true);
	CHECK_OK(vm_vsmmu(&vm, false));
	guest_probe(&vm, false, 4, true);
	priq = guest_priq(&vm); /* 16 entries */
	guest_s1_setup(&vm);
	nested_ste_words(&vm, VSID0, true, true);

	/* 0x8000 mapped; a FILL of 0x8800..0xb800: records for 0x9000, 0xa000, 0xb000. */
	s1_map_page(&vm, 0x8000);
	vsmmuv3_get_stats(vm.vs, &st0);
	job_start_len(&j, &vm, 0, IOVA + 0x8800, 0x3000, pat);
	fault_wait(&vm);
	TAP_CHECK_EQ(vsmmuv3_poll_events(vm.vs), 3, "three records");
	prod = (uint32_t)rd(&vm, VSMMUV3_PAGE1 + VSMMUV3_PRIQ_PROD, 4);
	TAP_CHECK_EQ(prod & 0x1f, 3, "PRIQ_PROD moved by three");
	{
		const uint64_t pages[] = {IOVA + 0x9000, IOVA + 0xa000, IOVA + 0xb000};

		prgi = pri_group_check(&vm, priq, PRIQ_LOG2, 0, pages, 3, true);
	}
	wr(&vm, VSMMUV3_PAGE1 + VSMMUV3_PRIQ_CONS, 4, prod);
	s1_map_page(&vm, 0x9000);
	s1_map_page(&vm, 0xa000);
	s1_map_page(&vm, 0xb000);
	pri_resp_words(prgi, 2, w);
	cmd_sync_ok(&vm, w);
	TAP_CHECK_EQ(job_end(&j), 0, "one CMD_PRI_RESP: the DMA completed");
	TAP_CHECK_EQ(ram64(&vm, BUF_GPA + 0x8800), pat, "its first bytes");
	TAP_CHECK_EQ(ram64(&vm, BUF_GPA + 0xb7f8), pat, "its last bytes");
	TAP_CHECK_EQ(ram64(&vm, BUF_GPA + 0xb800), 0, "nothing after");
	vsmmuv3_get_stats(vm.vs, &st1);
	TAP_CHECK_EQ(st1.pri_reqs - st0.pri_reqs, 3, "three PRI records");
	TAP_CHECK_EQ(st1.page_resps - st0.page_resps, 1, "one page response");
	vm_down(&vm);

	/*
	 * A queue of 4 and a group of 5 (0x10000..0x14fff, mapped before the
	 * pump runs, so the device's second try succeeds): 4 records without
	 * Last, OVFLG, the group answered Success by the front end.
	 */
	vm_host_opts(&vm, true);
	CHECK_OK(vm_vsmmu(&vm, false));
	guest_probe(&vm, false, 4, true);
	priq = guest_priq_n(&vm, 2);
	guest_s1_setup(&vm);
	nested_ste_words(&vm, VSID0, true, true);
	vsmmuv3_get_stats(vm.vs, &st0);
	job_start_len(&j, &vm, 0, IOVA + 0x10000, 0x5000, pat);
	fault_wait(&vm);
	for (unsigned int k = 0; k < 5; k++)
		s1_map_page(&vm, 0x10000 + 0x1000 * k);
	TAP_CHECK_EQ(vsmmuv3_poll_events(vm.vs), 4, "four records");
	prod = (uint32_t)rd(&vm, VSMMUV3_PAGE1 + VSMMUV3_PRIQ_PROD, 4);
	TAP_CHECK_EQ(prod, VSMMUV3_Q_OVFLG | 4, "PRIQ_PROD: full, OVFLG toggled");
	{
		const uint64_t pages[] = {IOVA + 0x10000, IOVA + 0x11000, IOVA + 0x12000,
					  IOVA + 0x13000};

		prgi = pri_group_check(&vm, priq, 2, 0, pages, 4, false);
	}
	TAP_CHECK_EQ(job_end(&j), 0, "answered Success: the device's second try completed");
	TAP_CHECK_EQ(ram64(&vm, BUF_GPA + 0x14ff8), pat, "its last bytes");
	vsmmuv3_get_stats(vm.vs, &st1);
	TAP_CHECK_EQ(st1.page_resps - st0.page_resps, 1, "the front end's response");
	/* The guest answers the group it never saw end: nothing is pending, ignored. */
	pri_resp_words(prgi, 2, w);
	cmd_sync_ok(&vm, w);
	vsmmuv3_get_stats(vm.vs, &st0);
	TAP_CHECK_EQ(st0.page_resps, st1.page_resps, "no response for a partial group");
	wr(&vm, VSMMUV3_PAGE1 + VSMMUV3_PRIQ_CONS, 4, 4 | VSMMUV3_Q_OVFLG);
	vm_down(&vm);
}

/*
 * More than one read of the host fault queue: the pump reads at most 512
 * records at a time (PGFAULT_BATCH), whole groups only. 18 PCIe functions
 * with PRI each make an access of 32 pages the guest has not mapped (at
 * their endpoints, as a function whose access spans 32 pages would: the
 * dmatest device moves 8 pages at a time), one after the other, the host
 * driver moving each group from its PRI queue to the fault queue, so 576
 * records wait before the pump runs: one read of 16 groups (512 records,
 * a full read), then one of 2.
 *
 * Guest PRI queue of 2^@log2 entries. 1024: every record reaches it, in
 * the host's order: function k's group k-th, its 32 pages in address
 * order, one PRG index, Write, Last on the 32nd only; a CMD_PRI_RESP
 * Success per group reaches its function. 512 (IHI 0070 §8.2): the first
 * 16 groups fill it exactly; the 17th finds it full: PRIQ_PROD.OVFLG
 * toggles, nothing more is written, and the front end answers the lost
 * Last requests (groups 17 and 18) Success itself. Either way every
 * function then translates its access.
 */
#define MANY_FN	   VM_EXTRA
#define MANY_PAGES 32u	      /* the host driver's allocation for a function */
#define MANY_OFF   0x40000ULL /* the functions' accesses: IOVA + MANY_OFF, 32 pages */

static void pri_many_run(unsigned int log2)
{
	const unsigned int fit =
		(1u << log2) / MANY_PAGES < MANY_FN ? (1u << log2) / MANY_PAGES : MANY_FN;
	struct smmuv3_iommu_stats hs0, hs1;
	struct vsmmuv3_stats st0, st1;
	struct smmuv3_ep *ep[MANY_FN];
	struct smmuv3_txn txn[MANY_FN];
	struct smmuv3_iommu *host;
	struct smmuv3_result r;
	uint16_t prgi[MANY_FN], hprgi[MANY_FN];
	uint64_t priq, w[2];
	uint32_t prod;
	struct vm vm;

	vm_host_n(&vm, false, MANY_FN);
	host = machine_smmu(vm.m, "smmu0");
	TAP_CHECK(host, "the host SMMU");
	CHECK_OK(vm_vsmmu(&vm, false));
	guest_probe(&vm, false, 4, true);
	priq = guest_priq_n(&vm, log2);
	guest_s1_setup(&vm);
	vsmmuv3_get_stats(vm.vs, &st0);
	smmuv3_iommu_get_stats(host, &hs0);
	for (unsigned int k = 0; k < MANY_FN; k++) {
		nested_ste_words(&vm, VSID_X(k), true, true);
		ep[k] = smmuv3_iommu_dev_ep(dmatest_udev(vm.dt[2 + k]));
		TAP_CHECK(ep[k], "function %u's endpoint", k);
		txn[k] = (struct smmuv3_txn){.sid = machine_topology(vm.m)->devices[2 + k].sid,
					     .ssid = SMMU_NO_SSID,
					     .addr = IOVA + MANY_OFF,
					     .access = PT_PROT_W};
		TAP_CHECK_EQ(smmuv3_ep_translate_len(ep[k], smmuv3_iommu_hw(host), &txn[k],
						     MANY_PAGES * 0x1000, &r, &hprgi[k]),
			     -EAGAIN, "function %u: a page request group", k);
		smmuv3_iommu_process_priq(host);
	}
	smmuv3_iommu_get_stats(host, &hs1);
	TAP_CHECK_EQ(hs1.pri_iopfs - hs0.pri_iopfs, MANY_FN * MANY_PAGES,
		     "every request in the host fault queue");
	TAP_CHECK_EQ(hs1.priq_overflows, hs0.priq_overflows, "no host PRI queue overflow");
	TAP_CHECK_EQ(vsmmuv3_poll_events(vm.vs), fit * MANY_PAGES, "records written");
	prod = (uint32_t)rd(&vm, VSMMUV3_PAGE1 + VSMMUV3_PRIQ_PROD, 4);
	if (fit < MANY_FN)
		TAP_CHECK_EQ(prod, VSMMUV3_Q_OVFLG | 1u << log2,
			     "PRIQ_PROD: full (wrapped), OVFLG");
	else
		TAP_CHECK_EQ(prod, fit * MANY_PAGES, "PRIQ_PROD: every record");
	for (unsigned int g = 0; g < fit; g++) {
		for (unsigned int p = 0; p < MANY_PAGES; p++) {
			uint64_t at = priq + 16ULL * (g * MANY_PAGES + p);
			uint64_t w0 = ram64(&vm, at), w1 = ram64(&vm, at + 8);

			if (!p)
				prgi[g] = (uint16_t)(w1 & 0x1ff);
			TAP_CHECK_EQ((uint32_t)w0, VSID_X(g), "group %u record %u: the vSID", g, p);
			TAP_CHECK_EQ((w0 >> 62) & 1, p + 1 == MANY_PAGES,
				     "group %u record %u: Last", g, p);
			TAP_CHECK((w0 >> 61) & 1, "group %u record %u: Write", g, p);
			TAP_CHECK_EQ(w1 & ~0xfffULL, IOVA + MANY_OFF + 0x1000ULL * p,
				     "group %u record %u: page", g, p);
			TAP_CHECK_EQ(w1 & 0x1ff, prgi[g], "group %u record %u: its PRG index", g,
				     p);
		}
	}
	vsmmuv3_get_stats(vm.vs, &st1);
	TAP_CHECK_EQ(st1.page_reqs - st0.page_reqs, MANY_FN * MANY_PAGES, "every request pumped");
	TAP_CHECK_EQ(st1.pri_reqs - st0.pri_reqs, fit * MANY_PAGES, "PRI records");
	TAP_CHECK_EQ(st1.page_resps - st0.page_resps, MANY_FN - fit,
		     "the front end's Success for each lost group");
	for (unsigned int k = fit; k < MANY_FN; k++)
		TAP_CHECK_EQ(smmuv3_ep_prg_wait(ep[k], hprgi[k]), SMMU_PRG_SUCCESS,
			     "function %u: answered Success by the front end", k);
	/* The guest maps the pages and answers the groups it was told of. */
	for (unsigned int p = 0; p < MANY_PAGES; p++)
		s1_map_page(&vm, MANY_OFF + 0x1000ULL * p);
	for (unsigned int g = 0; g < fit; g++) {
		w[0] = GUEST_CMD_PRI_RESP | (uint64_t)VSID_X(g) << 32;
		w[1] = prgi[g] | 2ULL << 12;
		cmd_sync_ok(&vm, w);
		TAP_CHECK_EQ(smmuv3_ep_prg_wait(ep[g], hprgi[g]), SMMU_PRG_SUCCESS,
			     "function %u: the guest's Success", g);
	}
	for (unsigned int k = 0; k < MANY_FN; k++) {
		TAP_CHECK_EQ(smmuv3_ep_translate_len(ep[k], smmuv3_iommu_hw(host), &txn[k],
						     MANY_PAGES * 0x1000, &r, &hprgi[k]),
			     0, "function %u translates its access", k);
		TAP_CHECK_EQ(r.pa,
			     (uint64_t)(uintptr_t)guest_mem_ptr(&vm.gm, BUF_GPA + MANY_OFF, 8),
			     "function %u: the page's host address", k);
	}
	vsmmuv3_get_stats(vm.vs, &st1);
	TAP_CHECK_EQ(st1.page_resps - st0.page_resps, MANY_FN, "one response per group");
	vm_down(&vm);
}

static void test_pri_many(void *arg)
{
	pri_many_run(10);
	pri_many_run(9);
}

/*
 * CD.S = 1 on the stream of the PCIe function with ATS and PRI. IHI 0070:
 * CD.S = 1 is ILLEGAL (C_BAD_CD) with STE.S1STALLD = 1 or STALL_MODEL
 * 0b01, and nowhere else (being PCIe is no condition of it); an ATS
 * Translation Request never stalls: its translation fault is reported in
 * the completion, not recorded, and the function uses PRI. So with the
 * guest's S1STALLD = 0 the DMA asks through the PRI queue (no event) and
 * completes after CMD_PRI_RESP; with S1STALLD = 1 the guest's EVTQ gets
 * C_BAD_CD with its vSID and the DMA fails, nothing asked.
 */
static void test_pri_cd_stall(void *arg)
{
	struct guest_cd cd = {.valid = true,
			      .asid = ASID,
			      .ias = 48,
			      .granule_shift = 12,
			      .oas = 48,
			      .record = true,
			      .stall = true};
	struct vsmmuv3_stats st0, st1;
	struct smmuv3_evt e;
	struct dma_job j;
	uint64_t w[8], priq;
	uint16_t prgi;
	struct vm vm;

	vm_host_opts(&vm, true);
	CHECK_OK(vm_vsmmu(&vm, false));
	TAP_CHECK_EQ((rd(&vm, VSMMUV3_IDR0, 4) >> 24) & 3, 0, "STALL_MODEL 0b00");
	guest_probe(&vm, false, 4, true);
	priq = guest_priq(&vm);
	guest_s1_setup(&vm);
	cd.ttb0 = guest_s1_root(&vm.s1);
	CHECK_OK(guest_cd_encode(&cd, w));
	CHECK_OK(guest_cd_write(&vm.gm, vm.cdtab, w));
	nested_ste_words(&vm, VSID0, false, true);
	vsmmuv3_get_stats(vm.vs, &st0);

	/* S1STALLD = 0: a page request, no event; answered, the DMA completes. */
	job_start(&j, &vm, 0, IOVA + 0x3000, 0x5151);
	prgi = pri_record(&vm, priq, IOVA + 0x3000);
	TAP_CHECK(!evt_next(&vm, &e), "no event record");
	s1_map_page(&vm, 0x3000);
	{
		uint64_t r[2];

		pri_resp_words(prgi, 2, r);
		cmd_sync_ok(&vm, r);
	}
	TAP_CHECK_EQ(job_end(&j), 0, "CD.S = 1, S1STALLD = 0: the DMA completed through PRI");
	TAP_CHECK_EQ(ram64(&vm, BUF_GPA + 0x3000), 0x5151, "its bytes");
	vsmmuv3_get_stats(vm.vs, &st1);
	TAP_CHECK_EQ(st1.stalls - st0.stalls, 0, "no stall");

	/* S1STALLD = 1: CD.S = 1 is ILLEGAL, C_BAD_CD with the vSID; the DMA fails. */
	nested_ste_words(&vm, VSID0, true, true);
	TAP_CHECK_EQ(dma_fill(&vm, 0, IOVA + 0x6000, 64, 0x5252), DMATEST_ERR_DMA_FAULT,
		     "CD.S = 1, S1STALLD = 1: a DMA fault");
	TAP_CHECK(vsmmuv3_poll_events(vm.vs) >= 1, "the pump moved a record");
	TAP_CHECK(evt_next(&vm, &e), "a record");
	TAP_CHECK_EQ(e.type, 0x0a, "C_BAD_CD");
	TAP_CHECK_EQ(e.sid, VSID0, "the guest's SID");
	TAP_CHECK_EQ(ram64(&vm, BUF_GPA + 0x6000), 0, "nothing written");
	vsmmuv3_get_stats(vm.vs, &st0);
	TAP_CHECK_EQ(st0.pri_reqs, st1.pri_reqs, "no page request");
	vm_down(&vm);
}

static int nth_wr(struct vm *vm, uint64_t off, unsigned int size, uint64_t val, unsigned long n)
{
	(void)n;
	return vsmmuv3_mmio_write(vm->vs, off, size, val);
}

/*
 * Boot, enable, a nested STE, a fault, poll, under fail-nth. With
 * vm->recoverable the STE is device 1's, which can stall, with S1STALLD =
 * 0: its nested HWPT needs the fault queue (its CD does not stall, so the
 * DMA faults at once).
 */
static void nth_run(struct vm *vm, unsigned long n)
{
	struct guest_cmd cfgi = {
		.op = GUEST_CMD_CFGI_STE, .sid = vm->recoverable ? VSID1 : VSID0, .leaf = true};
	struct guest_cmd sync = {.op = GUEST_CMD_SYNC};
	uint64_t w[2], le[4];
	int rc;

	/* What the kernel answers under failed allocations (not always ENOMEM) passes through. */
	rc = vm_vsmmu(vm, false);
	if (rc) {
		TAP_CHECK(!vm->vs, "allocation %lu: no instance", n);
		return;
	}
	nth_wr(vm, VSMMUV3_STRTAB_BASE_CFG, 4, 13, n);
	nth_wr(vm, VSMMUV3_STRTAB_BASE, 8, vm->strtab, n);
	nth_wr(vm, VSMMUV3_CMDQ_BASE, 8, vm->cmdq | vm->cmdq_log2, n);
	nth_wr(vm, VSMMUV3_EVENTQ_BASE, 8, vm->evtq | vm->evtq_log2, n);
	nth_wr(vm, VSMMUV3_CMDQ_PROD, 4, 0, n);
	nth_wr(vm, VSMMUV3_CMDQ_CONS, 4, 0, n);
	nth_wr(vm, VSMMUV3_CR0, 4, 0xd, n);
	cmd(&cfgi, w);
	le[0] = htole64(w[0]);
	le[1] = htole64(w[1]);
	cmd(&sync, w);
	le[2] = htole64(w[0]);
	le[3] = htole64(w[1]);
	CHECK_OK(guest_mem_write(&vm->gm, vm->cmdq, le, sizeof(le)));
	if (nth_wr(vm, VSMMUV3_CMDQ_PROD, 4, 2, n))
		nth_wr(vm, VSMMUV3_CMDQ_PROD, 4, 2, n); /* a retry */
	dma_fill(vm, vm->recoverable ? 1 : 0, 0x300000, 64, 1);
	vsmmuv3_poll_events(vm->vs);
}

static void test_failnth(void *arg)
{
	bool recoverable = arg != NULL;
	unsigned int fired = 0;
	struct vm vm;

	vm_host_opts(&vm, recoverable);
	vm.cmdq_log2 = 4;
	vm.evtq_log2 = 4;
	CHECK_OK(guest_mem_alloc(&vm.gm, 16 << 4, 4096, &vm.cmdq));
	CHECK_OK(guest_mem_alloc(&vm.gm, 32 << 4, 4096, &vm.evtq));
	CHECK_OK(guest_mem_alloc(&vm.gm, 64 << 13, 64 << 13, &vm.strtab));
	guest_s1_setup(&vm);
	if (recoverable) {
		struct guest_ste ste = {
			.valid = true, .config = GUEST_STE_TRANSLATE, .cd_table = vm.cdtab};
		uint64_t w[2];

		CHECK_OK(guest_ste_encode(&ste, w));
		ste_put(&vm, ste_gpa(&vm, VSID1), w);
	} else {
		nested_ste(&vm, ste_gpa(&vm, VSID0));
	}
	for (unsigned long n = 1; n < 3000; n++) {
		unsigned long pending;

		ualloc_fail_nth(n);
		nth_run(&vm, n);
		pending = ualloc_fail_nth_pending();
		ualloc_fail_nth(0);
		if (vm.vs)
			vm_vsmmu_down(&vm);
		/* Nothing was left behind: the next instance gets every vDEVICE again. */
		CHECK_OK(vm_vsmmu(&vm, false));
		vm_vsmmu_down(&vm);
		if (pending)
			break;
		fired++;
	}
	tap_diag("%u allocations failed in turn", fired);
	TAP_CHECK(fired > 10, "only %u allocations", fired);
	vm_down(&vm);
}

static void test_failnth_faults(void *arg)
{
	(void)arg;
	test_failnth((void *)1);
}

/* ---------------------------------------------------------------------- */
/* A random guest                                                         */

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static const uint32_t fuzz_regs[] = {
	VSMMUV3_CR0,
	VSMMUV3_CR1,
	VSMMUV3_CR2,
	VSMMUV3_GBPA,
	VSMMUV3_IRQ_CTRL,
	VSMMUV3_GERRORN,
	VSMMUV3_GERROR_IRQ_CFG0,
	VSMMUV3_STRTAB_BASE,
	VSMMUV3_STRTAB_BASE_CFG,
	VSMMUV3_CMDQ_BASE,
	VSMMUV3_CMDQ_PROD,
	VSMMUV3_CMDQ_CONS,
	VSMMUV3_EVENTQ_BASE,
	VSMMUV3_EVENTQ_PROD,
	VSMMUV3_EVENTQ_CONS,
	VSMMUV3_EVENTQ_IRQ_CFG0,
	VSMMUV3_EVENTQ_IRQ_CFG1,
	0x100a8,
	0x3c,
	0xfd0,
};

/* A guest address: mostly inside RAM, sometimes not. */
static uint64_t fuzz_gpa(uint64_t *s)
{
	switch (rnd(s) % 4) {
	case 0:
		return rnd(s);
	case 1:
		return RAM_GPA + RAM_SIZE - 64 * (rnd(s) % 4);
	default:
		return RAM_GPA + (rnd(s) % RAM_SIZE);
	}
}

static unsigned int fuzz_dma_ok;
static struct vsmmuv3_stats fuzz_st;

static void fuzz_one(uint64_t seed, uint8_t *canary, size_t canary_len)
{
	static const unsigned int ops[] = {0x01, 0x03, 0x04, 0x05, 0x06, 0x10, 0x11, 0x12,
					   0x13, 0x28, 0x2a, 0x30, 0x40, 0x44, 0x46, 0x99};
	static const uint32_t sids[] = {VSID0, VSID1};
	uint64_t s = seed ? seed : 1;
	struct vm vm;

	vm_boot(&vm, rnd(&s) & 1);
	guest_probe(&vm, false, 2, true);
	guest_s1_setup(&vm);
	for (unsigned int it = 0; it < 200; it++) {
		unsigned int what = rnd(&s) % 8;
		uint64_t v = rnd(&s);
		uint32_t sid = sids[rnd(&s) & 1];
		int rc;

		switch (what) {
		case 0: { /* a register, random or what a driver would write */
			uint32_t off = fuzz_regs[rnd(&s) % ARRAY_SIZE_T(fuzz_regs)];
			bool wide = (off & 0xfff) == 0x68 || (off & 0xfff) == 0x80 ||
				    (off & 0xfff) == 0x90 || (off & 0xfff) == 0xa0 ||
				    (off & 0xfff) == 0xb0;
			bool sane = rnd(&s) % 4;

			if (sane && off == VSMMUV3_CR0)
				v = 0xd | (v & 0x4);
			else if (sane && off == VSMMUV3_GERRORN)
				v = rd(&vm, VSMMUV3_GERROR, 4);
			else if (sane && off == VSMMUV3_GBPA)
				v = VSMMUV3_GBPA_UPDATE | (v & VSMMUV3_GBPA_ABORT);
			else if (sane && off == VSMMUV3_STRTAB_BASE)
				v = vm.strtab;
			else if (sane && off == VSMMUV3_STRTAB_BASE_CFG)
				v = 13 | (v & VSMMUV3_STRTAB_FMT_2LVL);
			else if (sane && off == VSMMUV3_CMDQ_BASE)
				v = vm.cmdq | vm.cmdq_log2;
			else if (sane && off == VSMMUV3_EVENTQ_BASE)
				v = vm.evtq | vm.evtq_log2;
			else if (off == VSMMUV3_CMDQ_BASE || off == VSMMUV3_EVENTQ_BASE ||
				 off == VSMMUV3_STRTAB_BASE)
				v = fuzz_gpa(&s) | (v & 0x1f);
			rc = vsmmuv3_mmio_write(vm.vs, off, wide ? 8 : 4, v);
			TAP_CHECK(rc == 0, "seed %llu it %u: write 0x%x: %d",
				  (unsigned long long)seed, it, off, rc);
			break;
		}
		case 1: { /* an STE: a good nested one, or random words */
			uint64_t w[2] = {v & ~(0x7ffULL << 52), rnd(&s)};

			if (rnd(&s) % 3) {
				nested_ste(&vm, ste_gpa(&vm, sid));
				break;
			}
			if (rnd(&s) & 1)
				w[0] = (w[0] & ~STE_CTX_MASK) | (vm.cdtab & STE_CTX_MASK) | 1;
			if (rnd(&s) & 1)
				w[0] = (w[0] & ~0xfULL) | 1 | (rnd(&s) % 8) << 1;
			ste_put(&vm, ste_gpa(&vm, rnd(&s) & 1 ? sid : rnd(&s) % 64), w);
			break;
		}
		case 2:
		case 3: { /* commands: CFGI_STE + SYNC, or random ones */
			uint64_t c[3][2];
			unsigned int n = 1 + rnd(&s) % 3;

			/* A driver acknowledges a CMDQ_ERR (after skipping the command, or not). */
			if (rnd(&s) & 1)
				wr(&vm, VSMMUV3_GERRORN, 4, rd(&vm, VSMMUV3_GERROR, 4));
			for (unsigned int i = 0; i < n; i++) {
				if (rnd(&s) & 1) {
					c[i][0] = 0x03 | (uint64_t)sid << 32;
					c[i][1] = 1;
					continue;
				}
				c[i][0] = ops[rnd(&s) % ARRAY_SIZE_T(ops)] |
					  (rnd(&s) & 1 ? (uint64_t)sid << 32
						       : (rnd(&s) & ~0xff00000000000fffULL));
				c[i][1] = rnd(&s) & 1 ? 31 : rnd(&s);
			}
			cmds_issue(&vm, (const uint64_t(*)[2])c, n);
			break;
		}
		case 4: { /* the CD, or random words somewhere in RAM (tables included) */
			uint64_t gpa = rnd(&s) & 1 ? vm.cdtab + 8 * (rnd(&s) % 8)
						   : RAM_GPA + (rnd(&s) % (RAM_SIZE / 8)) * 8;

			if (rnd(&s) % 4)
				break; /* mostly leave the guest's structures alone */
			if (gpa < BUF_GPA || gpa >= BUF_GPA + 0x2000)
				CHECK_OK(guest_mem_write(&vm.gm, gpa, &v, 8));
			break;
		}
		case 5:
		case 6: { /* DMA at a random address: an IOVA, a GPA, the canary's host address */
			uint64_t iova;

			switch (rnd(&s) % 4) {
			case 0:
				iova = IOVA + (rnd(&s) % 0x2000);
				break;
			case 1:
				iova = fuzz_gpa(&s);
				break;
			case 2:
				iova = (uintptr_t)canary + (rnd(&s) % canary_len);
				break;
			default:
				iova = rnd(&s) & ((1ULL << 48) - 1);
				break;
			}
			if (!dma_fill(&vm, rnd(&s) & 1, iova, 64, 0xa5a5a5a5a5a5a5a5ULL))
				fuzz_dma_ok++;
			break;
		}
		default:
			rc = vsmmuv3_poll_events(vm.vs);
			TAP_CHECK(rc >= 0, "seed %llu it %u: poll: %d", (unsigned long long)seed,
				  it, rc);
			break;
		}
		for (size_t i = 0; i < canary_len; i++)
			TAP_CHECK(canary[i] == 0x3c,
				  "seed %llu it %u: host memory outside guest RAM written at +%zu",
				  (unsigned long long)seed, it, i);
	}
	{
		struct vsmmuv3_stats st;

		vsmmuv3_get_stats(vm.vs, &st);
		fuzz_st.cmds += st.cmds;
		fuzz_st.forwarded += st.forwarded;
		fuzz_st.ste_updates += st.ste_updates;
		fuzz_st.events += st.events;
	}
	vm_down(&vm);
}

static void test_fuzz(void *arg)
{
	const char *env = getenv("VSMMU_SEED");
	size_t len = 0x10000;
	uint8_t *canary = malloc(len);

	TAP_CHECK(canary, "canary");
	memset(canary, 0x3c, len);
	if (env) {
		fuzz_one(strtoull(env, NULL, 0), canary, len);
	} else {
		for (uint64_t seed = 1; seed <= 16; seed++)
			fuzz_one(seed * 0x9e3779b97f4a7c15ULL, canary, len);
	}
	tap_diag("%u DMAs done; %llu commands (%llu forwarded), %llu nested HWPTs, %llu records",
		 fuzz_dma_ok, (unsigned long long)fuzz_st.cmds,
		 (unsigned long long)fuzz_st.forwarded, (unsigned long long)fuzz_st.ste_updates,
		 (unsigned long long)fuzz_st.events);
	free(canary);
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void *arg);
	} tests[] = {
		{"IDRs from GET_HW_INFO, register access rules", test_idr},
		{"GBPA abort / bypass while SMMUEN = 0, UPDATE", test_gbpa},
		{"nested STE, DMA, F_TRANSLATION in the guest EVTQ, TLBI + CMD_SYNC", test_nested},
		{"the guest's CD with TTB1 and TBI: DMA at TTB1 VAs, the gap, TLBI_NH_VA", test_ttb1},
		{"illegal commands: CONS.ERR, GERROR.CMDQ_ERR, GERRORN, CERROR_ABT",
		 test_bad_commands},
		{"event queue overflow: OVFLG, OVACKFLG, EVENTQEN = 0", test_evtq_overflow},
		{"2-level stream table, C_BAD_STREAMID, C_BAD_STE, F_STE_FETCH, CFGI_ALL",
		 test_two_level},
		{"MSIs: guest RAM, the VMM's doorbell, MSI aborts in GERROR", test_msi},
		{"ATS: EATS, a stale ATC entry gone after ATC_INV + SYNC; a host-refused command",
		 test_ats},
		{"stalls: the fault queue, Stall records in the EVTQ, RESUME, STALL_TERM",
		 test_stall},
		{"PRI: the PRI queue, page requests, PRI_RESP, PRIQEN = 0", test_pri},
		{"stall forced on the host: STALL_MODEL 0b10, CD.S stalls, CD.S = 0 is C_BAD_CD",
		 test_stall_forced_host},
		{"PRI queue overflow: OVFLG, the automatic Success, OVACKFLG", test_priq_overflow},
		{"PRI groups: N records, one CMD_PRI_RESP; a group cut by overflow",
		 test_pri_group},
		{"PRI: 576 records, more than one 512-record read, in order; a 512-entry guest "
		 "queue overflows",
		 test_pri_many},
		{"CD.S = 1 on a PRI function: PRI under S1STALLD = 0, C_BAD_CD under 1",
		 test_pri_cd_stall},
		{"fail-nth: every allocation of a vSMMU's life, nothing left behind", test_failnth},
		{"fail-nth with the fault queue (a stalling device's STE)", test_failnth_faults},
		{"a random guest: no crash, no VMM error, no DMA outside guest RAM", test_fuzz},
	};

	tap_plan(ARRAY_SIZE_T(tests));
	for (size_t i = 0; i < ARRAY_SIZE_T(tests); i++)
		tap_run(tests[i].name, tests[i].fn, NULL);
	return tap_done();
}
