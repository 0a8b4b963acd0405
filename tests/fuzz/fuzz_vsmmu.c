// SPDX-License-Identifier: MIT
/*
 * fuzz_vsmmu.c - libFuzzer target over the vSMMUv3 front end
 * (lib/vmm/vsmmuv3.c): everything a guest controls, which is all of its
 * input. MMIO writes to its registers, the stream table, CD table,
 * command queue and stage-1 tables in guest RAM, and DMA of the devices
 * behind it.
 *
 * Set up once per process (as tests/func/test_vsmmuv3.c's vm_host()): the
 * default machine (one host SMMUv3 model, two dmatest functions), an
 * iommufd, both functions' cdevs bound to it, 1 MiB of guest RAM at GPA
 * RAM_GPA mapped at IOVA = GPA in an IOAS, between two canary regions of
 * host memory that nothing may write. Per input: guest RAM cleared and
 * the guest's standard structures written (below), a stage-2 nesting
 * parent and a vSMMU with the two endpoints (vSIDs VSID0, VSID1) created,
 * the program run, a known-good reset checked, and then everything of the
 * vSMMU destroyed: the parent HWPT has no user left (IOMMU_DESTROY
 * succeeds), the vIOMMU is gone (ENOENT), and the next input creates every
 * vDEVICE again.
 *
 * Guest RAM (offsets from RAM_GPA): a linear stream table of 128 STEs at
 * 0x0 (VSID0: nested over the CD table; VSID1: abort); a 2-level stream
 * table's L1 at 0x2000 and its two L2 tables (SPLIT 6) at 0x8000 and
 * 0x9000, with the same STEs; the command queue at 0x3000, the event
 * queue at 0x4000, the PRI queue at 0x5000; CDs at 0x6000 (CD 0: ASID 7
 * over the stage-1 tables); a page for MSIs at 0x7000; stage-1 tables
 * L0..L3 at 0xa000..0xd000 mapping IOVA 0x100000 (two pages) to BUF_GPA
 * (RAM_GPA + 0x10000).
 *
 *   byte 0    bit 0: GBPA bypass at reset (else abort)
 *   records (at most MAX_OPS), op byte: bits 2:0 the kind, bit 3 "valid":
 *     0, 1 MMIO write of regs[sel % n] (sel byte, 8 value bytes); valid: the
 *          value is a driver's (queue bases inside RAM, CR0 enables, GERRORN
 *          = GERROR, PROD / CONS next to the current ones, ...)
 *     2    MMIO read of regs[sel % n]
 *     3    an 8-byte write into guest RAM (target byte, index byte, value):
 *          STE words of the two vSIDs, CD words, stage-1 descriptors, L1
 *          stream table descriptors, L2 STE words, anywhere; valid: a good
 *          word of that place (with a bit of the value flipped, sometimes)
 *     4    1..4 commands at CMDQ_PROD (bits 5:4; opcode byte, 16 bytes
 *          each), bit 6: the last one repeated (count byte) up to a full
 *          queue, then a PROD write; valid: fields from guest_cmd_encode()
 *          (vSIDs, ASID 7, CMD_SYNC MSIs to RAM, the doorbell, nowhere)
 *     5    DMA by function sel & 1 (sel byte, 8 address bytes, length
 *          byte): a fill or a read at an IOVA, a GPA, the RAM's edges, the
 *          canary's host address or anywhere
 *     6    vsmmuv3_poll_events()
 *     7    the driver's error recovery: GERRORN = GERROR, PROD again
 *
 * Invariants (a broken one is FAIL(): a message, then a trap): every MMIO
 * access returns 0 and every poll >= 0 (the VMM never fails on guest
 * input); the canaries around guest RAM are intact after every DMA; the
 * records the vSMMU adds to the event queue fit in the room CONS left, and
 * those the pump writes name a vSID (never a host SID) and a type; CMDQ
 * CONS never passes PROD, and while CMDQEN is 1 it stops short of PROD
 * only with GERROR.CMDQ_ERR active, and CONS.ERR names the error when
 * the vSMMU raised it (a guest may activate it itself: cmdq_check()); after the
 * program, the reset a guest driver does (CR0 = 0, GERRORN = GERROR,
 * stream table and queues programmed, enables, CFGI_ALL + TLBI_NSNH_ALL +
 * CMD_SYNC) consumes those commands without an error, and a DMA of VSID0
 * at IOVA lands in BUF_GPA with the expected bytes while VSID1 aborts.
 *
 * Seeds: tests/fuzz/gen_vsmmu_seeds.py writes corpus/fuzz_vsmmu/.
 * FUZZ_VSMMU_TRACE=1 in the environment prints each input's DMA results,
 * queue state and counters (to see what a seed really does).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <linux/iommufd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <uiommu/uiommu.h>

#include "dev/dmatest/dmatest.h"
#include "dev/dmatest/dmatest_vfio.h"
#include "vmm/guest_smmuv3.h"
#include "vmm/machine.h"
#include "vmm/topology.h"
#include "vmm/vsmmuv3.h"

#include "fuzz_prog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...)                                                                 \
	do {                                                                      \
		fprintf(stderr, "fuzz_vsmmu.c:%d: invariant broken: ", __LINE__); \
		fprintf(stderr, __VA_ARGS__);                                     \
		fputc('\n', stderr);                                              \
		__builtin_trap();                                                 \
	} while (0)

#define ARRAY_N(a) (sizeof(a) / sizeof((a)[0]))

#define RAM_GPA	    0x40000000ULL
#define RAM_SIZE    0x100000ULL /* 1 MiB */
#define CANARY_SIZE 0x10000ULL	/* either side */
#define CANARY_BYTE 0x3c
#define STRTAB	    (RAM_GPA + 0x0000) /* linear, 128 STEs */
#define STRTAB_L1   (RAM_GPA + 0x2000)
#define STRTAB_L2   (RAM_GPA + 0x8000) /* 2 tables of 64 STEs, 4 KiB each */
#define CMDQ	    (RAM_GPA + 0x3000)
#define EVTQ	    (RAM_GPA + 0x4000)
#define PRIQ	    (RAM_GPA + 0x5000)
#define CDTAB	    (RAM_GPA + 0x6000)
#define MSI_PAGE    (RAM_GPA + 0x7000)
#define S1_L0	    (RAM_GPA + 0xa000) /* L0..L3 at 0x1000 steps */
#define BUF_GPA	    (RAM_GPA + 0x10000)
#define IOVA	    0x100000ULL /* the guest's stage-1 address of BUF_GPA (two pages) */
#define VSID0	    0x11
#define VSID1	    0x5c
#define STRTAB_LOG2 7 /* 128 STEs */
#define SPLIT	    6 /* 2-level: 64 STEs per L2 table (VSID0 in the first, VSID1 the second) */
#define CMDQ_LOG2   6 /* the reset's queue sizes */
#define EVTQ_LOG2   4
#define ASID	    7
#define DOORBELL    0x8000040ULL
#define MAX_OPS	    64

/* Stage-1 descriptors (VMSAv8-64, 4 KiB granule): valid, table/page, SH inner, AF. */
#define D_TABLE 3ULL
#define D_PAGE	(3ULL | 3ULL << 8 | 1ULL << 10)

static const char *const names[2] = {"0000:00:01.0", "0000:00:02.0"};
static const uint32_t vsids[2] = {VSID0, VSID1};

static struct host {
	bool up, trace; /* trace: $FUZZ_VSMMU_TRACE set, say what each input did */
	struct machine *m;
	struct uiommu_file *iommufd, *cdev[2];
	struct dmatest *dt[2];
	uint32_t dev_id[2], ioas;
	uint8_t *mem; /* canary, RAM, canary */
	struct guest_mem gm;
	uint64_t cd[8]; /* the good CD, words in CPU order */
	uint64_t ste_nested[2];
} H;

/* What one input runs on. */
struct run {
	struct vsmmuv3 *vs;
	uint32_t s2;
	unsigned int op; /* index of the record running, for messages */
	/*
	 * GERROR.CMDQ_ERR when the error was last seen inactive: an active
	 * error with GERROR still at this value was the guest's doing (it
	 * toggled GERRORN on an inactive error), not the vSMMU's.
	 */
	uint32_t gerror_idle;
};

/* ---------------------------------------------------------------------- */
/* Set-up                                                                 */

#define SETUP_OK(x)                                               \
	do {                                                      \
		if ((x) < 0)                                      \
			FAIL("set-up: %s (errno %d)", #x, errno); \
	} while (0)

static int msi_hook(void *opaque, uint64_t addr, uint32_t data)
{
	(void)opaque;
	(void)data;
	return addr == DOORBELL ? 0 : -EIO;
}

static void irq_hook(void *opaque, enum vsmmuv3_irq line)
{
	(void)opaque;
	(void)line;
}

static void host_up(void)
{
	struct iommu_ioas_alloc ia = {.size = sizeof(ia)};
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.length = RAM_SIZE,
		.iova = RAM_GPA,
	};
	struct guest_cd cd = {.valid = true,
			      .asid = ASID,
			      .ttb0 = S1_L0,
			      .ias = 48,
			      .granule_shift = 12,
			      .oas = 48,
			      .record = true};
	struct guest_ste ste = {.valid = true, .config = GUEST_STE_TRANSLATE, .cd_table = CDTAB};
	struct topology *t;
	char err[256];

	H.trace = getenv("FUZZ_VSMMU_TRACE") != NULL;
	SETUP_OK(topology_default(&t));
	if (machine_create(t, &H.m, err, sizeof(err)))
		FAIL("set-up: machine_create: %s", err);
	topology_free(t);
	H.iommufd = uiommu_open("/dev/iommu", O_RDWR);
	if (!H.iommufd)
		FAIL("set-up: open /dev/iommu");
	for (unsigned int i = 0; i < 2; i++) {
		struct vfio_device_bind_iommufd b = {.argsz = sizeof(b)};
		char path[64];

		snprintf(path, sizeof(path), "/dev/vfio/devices/vfio%u", i);
		H.cdev[i] = uiommu_open(path, O_RDWR);
		if (!H.cdev[i])
			FAIL("set-up: open %s", path);
		b.iommufd = uiommu_file_fd(H.iommufd);
		SETUP_OK(uiommu_ioctl(H.cdev[i], VFIO_DEVICE_BIND_IOMMUFD, &b));
		H.dev_id[i] = b.out_devid;
		H.dt[i] = dmatest_vfio_function(machine_dmatest(H.m, names[i]));
		if (!H.dt[i])
			FAIL("set-up: dmatest %s", names[i]);
		SETUP_OK(dmatest_cfg_write(H.dt[i], PCI_COMMAND, 2,
					   PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));
	}
	/* Guest RAM between canaries: a region of our own, so that we know its neighbours. */
	H.mem = mmap(NULL, RAM_SIZE + 2 * CANARY_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (H.mem == MAP_FAILED)
		FAIL("set-up: mmap");
	memset(H.mem, CANARY_BYTE, RAM_SIZE + 2 * CANARY_SIZE);
	guest_mem_init(&H.gm);
	H.gm.nr = 1;
	H.gm.region[0] = (struct guest_mem_region){
		.gpa = RAM_GPA, .size = RAM_SIZE, .host = H.mem + CANARY_SIZE};
	H.gm.port.nr_regions = 1;
	H.gm.port.region[0] = (struct pt_mem_region){
		.base = RAM_GPA, .size = RAM_SIZE, .host = H.mem + CANARY_SIZE};
	SETUP_OK(uiommu_ioctl(H.iommufd, IOMMU_IOAS_ALLOC, &ia));
	H.ioas = ia.out_ioas_id;
	map.ioas_id = H.ioas;
	map.user_va = (uintptr_t)(H.mem + CANARY_SIZE);
	SETUP_OK(uiommu_ioctl(H.iommufd, IOMMU_IOAS_MAP, &map));
	SETUP_OK(guest_cd_encode(&cd, H.cd));
	SETUP_OK(guest_ste_encode(&ste, H.ste_nested));
	H.up = true;
}

/* ---------------------------------------------------------------------- */
/* Guest memory                                                           */

static void ram_put(uint64_t gpa, uint64_t v)
{
	uint64_t le = htole64(v);

	if (guest_mem_write(&H.gm, gpa, &le, 8))
		FAIL("guest RAM write at 0x%llx", (unsigned long long)gpa);
}

static uint64_t ram_get(uint64_t gpa)
{
	uint64_t le = 0;

	if (guest_mem_read(&H.gm, gpa, &le, 8))
		FAIL("guest RAM read at 0x%llx", (unsigned long long)gpa);
	return le64toh(le);
}

static void ste_put(uint64_t gpa, uint64_t w0, uint64_t w1)
{
	for (unsigned int i = 0; i < 8; i++)
		ram_put(gpa + 8 * i, i == 0 ? w0 : i == 1 ? w1 : 0);
}

/* The guest's standard structures (see the header comment). */
static void guest_structs(void)
{
	for (unsigned int i = 0; i < 8; i++)
		ram_put(CDTAB + 8 * i, H.cd[i]);
	ste_put(STRTAB + 64 * VSID0, H.ste_nested[0], H.ste_nested[1]);
	ste_put(STRTAB + 64 * VSID1, 1, 0); /* V, Config abort */
	/* The same STEs in the 2-level table's L2 tables, and its L1 descriptors. */
	for (unsigned int i = 0; i < 2; i++)
		ram_put(STRTAB_L1 + 8 * i, (STRTAB_L2 + 0x1000 * i) | (SPLIT + 1));
	ste_put(STRTAB_L2 + 64 * VSID0, H.ste_nested[0], H.ste_nested[1]);
	ste_put(STRTAB_L2 + 64 * VSID1, 1, 0);
	for (unsigned int l = 0; l < 3; l++)
		ram_put(S1_L0 + 0x1000 * l, (S1_L0 + 0x1000 * (l + 1)) | D_TABLE);
	ram_put(S1_L0 + 0x3000 + 8 * 256, BUF_GPA | D_PAGE);
	ram_put(S1_L0 + 0x3000 + 8 * 257, (BUF_GPA + 0x1000) | D_PAGE);
}

static void canary_check(void)
{
	for (uint64_t i = 0; i < CANARY_SIZE; i++) {
		if (H.mem[i] != CANARY_BYTE)
			FAIL("host memory below guest RAM written at -0x%llx",
			     (unsigned long long)(CANARY_SIZE - i));
		if (H.mem[CANARY_SIZE + RAM_SIZE + i] != CANARY_BYTE)
			FAIL("host memory above guest RAM written at +0x%llx",
			     (unsigned long long)i);
	}
}

/* ---------------------------------------------------------------------- */
/* MMIO                                                                   */

struct reg {
	uint32_t off;
	unsigned int size;
};

/*
 * The register file (vsmmuv3.h), the 64-bit ones also as 32-bit halves, and
 * page 1's aliases. Append only: the corpus names registers by index.
 */
static const struct reg regs[] = {
	{VSMMUV3_IDR0, 4},
	{VSMMUV3_IDR1, 4},
	{VSMMUV3_IDR5, 4},
	{VSMMUV3_CR0, 4},
	{VSMMUV3_CR0ACK, 4},
	{VSMMUV3_CR1, 4},
	{VSMMUV3_CR2, 4},
	{VSMMUV3_STATUSR, 4},
	{VSMMUV3_GBPA, 4},
	{VSMMUV3_AGBPA, 4},
	{VSMMUV3_IRQ_CTRL, 4},
	{VSMMUV3_IRQ_CTRLACK, 4},
	{VSMMUV3_GERROR, 4},
	{VSMMUV3_GERRORN, 4},
	{VSMMUV3_GERROR_IRQ_CFG0, 8},
	{VSMMUV3_GERROR_IRQ_CFG1, 4},
	{VSMMUV3_GERROR_IRQ_CFG2, 4},
	{VSMMUV3_STRTAB_BASE, 8},
	{VSMMUV3_STRTAB_BASE, 4},
	{VSMMUV3_STRTAB_BASE + 4, 4},
	{VSMMUV3_STRTAB_BASE_CFG, 4},
	{VSMMUV3_CMDQ_BASE, 8},
	{VSMMUV3_CMDQ_BASE, 4},
	{VSMMUV3_CMDQ_BASE + 4, 4},
	{VSMMUV3_CMDQ_PROD, 4},
	{VSMMUV3_CMDQ_CONS, 4},
	{VSMMUV3_EVENTQ_BASE, 8},
	{VSMMUV3_EVENTQ_BASE, 4},
	{VSMMUV3_EVENTQ_PROD, 4},
	{VSMMUV3_EVENTQ_CONS, 4},
	{VSMMUV3_PAGE1 + VSMMUV3_EVENTQ_PROD, 4},
	{VSMMUV3_PAGE1 + VSMMUV3_EVENTQ_CONS, 4},
	{VSMMUV3_EVENTQ_IRQ_CFG0, 8},
	{VSMMUV3_EVENTQ_IRQ_CFG1, 4},
	{VSMMUV3_EVENTQ_IRQ_CFG2, 4},
	{VSMMUV3_PRIQ_BASE, 8},
	{VSMMUV3_PRIQ_PROD, 4},
	{VSMMUV3_PRIQ_CONS, 4},
	{VSMMUV3_PAGE1 + VSMMUV3_PRIQ_PROD, 4},
	{VSMMUV3_PAGE1 + VSMMUV3_PRIQ_CONS, 4},
	{VSMMUV3_PRIQ_IRQ_CFG0, 8},
	{VSMMUV3_PRIQ_IRQ_CFG1, 4},
	{0x3c, 4},    /* not implemented: RAZ / WI */
	{0xfd0, 4},   /* an ID register */
	{0x100a0, 4}, /* page 1 outside the aliases */
	{0x200, 8},   /* 64-bit accesses where no register is: RAZ / WI too */
	{0x100c0, 8},
	{VSMMUV3_IDR2, 4},
	{VSMMUV3_IDR3, 4},
	{VSMMUV3_IDR4, 4},
	{VSMMUV3_IIDR, 4},
	{VSMMUV3_AIDR, 4},
};

static uint64_t rd(struct run *r, uint64_t off, unsigned int size)
{
	uint64_t v = 0;
	int rc = vsmmuv3_mmio_read(r->vs, off, size, &v);

	if (rc)
		FAIL("op %u: MMIO read 0x%llx/%u: %d", r->op, (unsigned long long)off, size, rc);
	return v;
}

static void wr(struct run *r, uint64_t off, unsigned int size, uint64_t val)
{
	int rc = vsmmuv3_mmio_write(r->vs, off, size, val);

	if (rc)
		FAIL("op %u: MMIO write 0x%llx/%u = 0x%llx: %d", r->op, (unsigned long long)off,
		     size, (unsigned long long)val, rc);
}

/* The next queue index (WR + RD of a queue of 2^@log2 entries) @n entries on. */
static uint32_t q_add(uint32_t v, unsigned int log2, unsigned int n)
{
	uint32_t m = (2u << log2) - 1;

	return (v & ~m) | ((v + n) & m);
}

static unsigned int cmdq_log2(struct run *r)
{
	unsigned int l = (unsigned int)(rd(r, VSMMUV3_CMDQ_BASE, 8) & 0x1f);

	return l > VSMMUV3_QUEUE_LOG2 ? VSMMUV3_QUEUE_LOG2 : l;
}

/* A driver's value for register @off, from the input's @v. */
static uint64_t valid_value(struct run *r, uint32_t off, uint64_t v)
{
	switch (off) {
	case VSMMUV3_CR0:
		return v & 0xf;
	case VSMMUV3_CR1:
		return v & 0x3f;
	case VSMMUV3_CR2:
		return v & 7;
	case VSMMUV3_GBPA:
		return VSMMUV3_GBPA_UPDATE | (v & 1 ? VSMMUV3_GBPA_ABORT : 0);
	case VSMMUV3_IRQ_CTRL:
		return v & 7;
	case VSMMUV3_GERRORN:
		return rd(r, VSMMUV3_GERROR, 4) ^ (v & 1 ? 0 : (v >> 1) & 0x1fd);
	case VSMMUV3_GERROR_IRQ_CFG0:
	case VSMMUV3_EVENTQ_IRQ_CFG0:
	case VSMMUV3_PRIQ_IRQ_CFG0:
		switch (v & 3) {
		case 0:
			return 0;
		case 1:
			return DOORBELL;
		case 2:
			return MSI_PAGE + ((v >> 2) & 0xff8);
		default:
			return RAM_GPA + RAM_SIZE - 4;
		}
	case VSMMUV3_STRTAB_BASE:
		return v & 1 ? STRTAB_L1 : STRTAB;
	case VSMMUV3_STRTAB_BASE_CFG:
		return v & 1 ? VSMMUV3_STRTAB_FMT_2LVL | VSMMUV3_STRTAB_SPLIT(SPLIT) |
				       (STRTAB_LOG2 - (v >> 1) % 3)
			     : VSMMUV3_STRTAB_FMT_LINEAR | (STRTAB_LOG2 - (v >> 1) % 2);
	case VSMMUV3_CMDQ_BASE:
		return (v & 0x10 ? RAM_GPA + RAM_SIZE - 0x800 : CMDQ) | (1 + v % 8);
	case VSMMUV3_EVENTQ_BASE:
		return (v & 0x10 ? RAM_GPA + RAM_SIZE - 0x400 : EVTQ) | (1 + v % 7);
	case VSMMUV3_PRIQ_BASE:
		return PRIQ | (1 + v % 7);
	case VSMMUV3_CMDQ_PROD:
		return q_add((uint32_t)rd(r, VSMMUV3_CMDQ_PROD, 4), cmdq_log2(r), v % 4);
	case VSMMUV3_CMDQ_CONS:
		return v & 1 ? 0 : rd(r, VSMMUV3_CMDQ_PROD, 4);
	case VSMMUV3_EVENTQ_CONS:
	case VSMMUV3_PAGE1 + VSMMUV3_EVENTQ_CONS:
		/* Everything read, the overflow acknowledged. */
		return rd(r, VSMMUV3_PAGE1 + VSMMUV3_EVENTQ_PROD, 4);
	case VSMMUV3_PRIQ_CONS:
	case VSMMUV3_PAGE1 + VSMMUV3_PRIQ_CONS:
		return rd(r, VSMMUV3_PAGE1 + VSMMUV3_PRIQ_PROD, 4);
	case VSMMUV3_EVENTQ_PROD:
	case VSMMUV3_PAGE1 + VSMMUV3_EVENTQ_PROD:
	case VSMMUV3_PRIQ_PROD:
	case VSMMUV3_PAGE1 + VSMMUV3_PRIQ_PROD:
		return 0;
	default:
		return v;
	}
}

/* ---------------------------------------------------------------------- */
/* The command queue invariant                                            */

struct cmdq_snap {
	uint32_t prod, cons, cr0ack, gerr;
	unsigned int log2;
	bool raised;	       /* an active CMDQ_ERR that GERROR raised */
	uint32_t eprod, econs; /* the event queue's PROD and CONS (page 1) */
	unsigned int elog2;
};

static void cmdq_snap(struct run *r, struct cmdq_snap *s)
{
	uint32_t g = (uint32_t)rd(r, VSMMUV3_GERROR, 4);

	s->prod = (uint32_t)rd(r, VSMMUV3_CMDQ_PROD, 4);
	s->cons = (uint32_t)rd(r, VSMMUV3_CMDQ_CONS, 4);
	s->cr0ack = (uint32_t)rd(r, VSMMUV3_CR0ACK, 4);
	s->gerr = g ^ (uint32_t)rd(r, VSMMUV3_GERRORN, 4);
	s->log2 = cmdq_log2(r);
	if (!(s->gerr & VSMMUV3_GERROR_CMDQ))
		r->gerror_idle = g & VSMMUV3_GERROR_CMDQ;
	s->raised = (g & VSMMUV3_GERROR_CMDQ) != r->gerror_idle;
	s->eprod = (uint32_t)rd(r, VSMMUV3_PAGE1 + VSMMUV3_EVENTQ_PROD, 4);
	s->econs = (uint32_t)rd(r, VSMMUV3_PAGE1 + VSMMUV3_EVENTQ_CONS, 4);
	s->elog2 = (unsigned int)(rd(r, VSMMUV3_EVENTQ_BASE, 8) & 0x1f);
	if (s->elog2 > VSMMUV3_QUEUE_LOG2)
		s->elog2 = VSMMUV3_QUEUE_LOG2;
}

/*
 * The event queue: records the vSMMU added during a record (PROD moved,
 * the guest did not write the queue's registers: !@guest) fit in the room
 * CONS left; the vSMMU never overwrites a record the guest has not read.
 */
static void evtq_check(struct run *r, const struct cmdq_snap *b, const struct cmdq_snap *a,
		       bool guest)
{
	uint32_t m = (2u << a->elog2) - 1, used = (b->eprod - b->econs) & m;

	if (guest || a->elog2 != b->elog2 || a->econs != b->econs || used > (1u << a->elog2))
		return;
	if (((a->eprod - b->eprod) & m) > (1u << a->elog2) - used)
		FAIL("op %u: EVENTQ_PROD 0x%x -> 0x%x overran CONS 0x%x (log2 %u)", r->op, b->eprod,
		     a->eprod, a->econs, a->elog2);
}

/*
 * After a record: CONS moved from @b's CONS towards PROD without passing
 * it (unless the record wrote CONS or the queue base: @moved); with CMDQEN
 * set, CONS short of PROD means an active CMDQ_ERR and a CONS.ERR.
 */
static void cmdq_check(struct run *r, const struct cmdq_snap *b, bool moved, bool evtq_regs)
{
	struct cmdq_snap a;
	uint32_t m;

	cmdq_snap(r, &a);
	evtq_check(r, b, &a, evtq_regs);
	m = (2u << a.log2) - 1;
	if (!moved && a.log2 == b->log2 && ((a.cons - b->cons) & m) > ((a.prod - b->cons) & m))
		FAIL("op %u: CMDQ_CONS 0x%x -> 0x%x passed PROD 0x%x (log2 %u)", r->op, b->cons,
		     a.cons, a.prod, a.log2);
	if (!(a.cr0ack & VSMMUV3_CR0_CMDQEN) || ((a.cons ^ a.prod) & m) == 0)
		return;
	if (!(a.gerr & VSMMUV3_GERROR_CMDQ))
		FAIL("op %u: CMDQ_CONS 0x%x stopped short of PROD 0x%x without CMDQ_ERR", r->op,
		     a.cons, a.prod);
	/*
	 * A guest that toggles GERRORN.CMDQ_ERR while the error is inactive
	 * makes it CONSTRAINED UNPREDICTABLE whether the error activates (IHI
	 * 0070, SMMU_GERRORN); this vSMMU activates it, and CONS.ERR then says
	 * nothing. Only an error the vSMMU raised must name its cause.
	 */
	if (a.raised && VSMMUV3_CONS_ERR(a.cons) == VSMMUV3_CERROR_NONE)
		FAIL("op %u: CMDQ_ERR raised with CONS.ERR = CERROR_NONE (CONS 0x%x)", r->op,
		     a.cons);
}

/* ---------------------------------------------------------------------- */
/* The program                                                            */

static uint64_t get64(struct input *in)
{
	uint64_t lo = get32(in);

	return lo | (uint64_t)get32(in) << 32;
}

static void op_mmio_write(struct run *r, struct input *in, bool valid, bool *moved, bool *evtq_regs)
{
	const struct reg *g = &regs[get8(in) % ARRAY_N(regs)];
	uint64_t v = get64(in);

	if (valid)
		v = valid_value(r, g->off, v);
	if (g->size == 4)
		v &= UINT32_MAX;
	*moved = g->off == VSMMUV3_CMDQ_CONS || (g->off & ~4u) == VSMMUV3_CMDQ_BASE;
	*evtq_regs = (g->off & 0xffff & ~0xfu) == VSMMUV3_EVENTQ_BASE;
	wr(r, g->off, g->size, v);
}

/* An 8-byte guest write: where, and a good word of that place. */
static void op_ram_write(struct input *in, bool valid)
{
	uint8_t target = get8(in), idx = get8(in);
	uint64_t v = get64(in), gpa, good = 0;

	switch (target % 6) {
	case 0: { /* STE words of the two vSIDs (linear table) */
		static const uint64_t w0s[] = {1,	   1 | 4 << 1, 0,
					       1 | 2 << 1, 1 | 6 << 1, 1 | 7 << 1};

		gpa = STRTAB + 64 * vsids[(target >> 3) & 1] + 8 * (idx % 8);
		if (idx % 8 == 0)
			good = (v >> 8) % 3
				       ? H.ste_nested[0] | ((v >> 16) & 1 ? 0 : (v & 0x1fULL) << 59)
				       : w0s[(v >> 12) % ARRAY_N(w0s)];
		else if (idx % 8 == 1)
			good = (v >> 8) & 1 ? H.ste_nested[1] : (v & 3) | ((v >> 2) & 3) << 28;
		break;
	}
	case 1: /* CD words, CD 0..3 */
		gpa = CDTAB + 64 * ((idx >> 3) % 4) + 8 * (idx % 8);
		good = H.cd[idx % 8];
		break;
	case 2: { /* stage-1 descriptors */
		unsigned int lvl = idx % 4, slot = (unsigned int)(v >> 32) % 512;

		if (valid && (v & 1))
			slot = lvl == 3 ? 256 + (unsigned int)((v >> 1) & 1) : 0;
		gpa = S1_L0 + 0x1000 * lvl + 8 * slot;
		if (lvl < 3)
			good = (v & 2 ? S1_L0 + 0x1000 * (lvl + 1) : BUF_GPA) |
			       (v & 4 ? D_TABLE : D_PAGE & ~2ULL);
		else
			good = (BUF_GPA + 0x1000 * ((v >> 3) % 0x40)) | D_PAGE;
		break;
	}
	case 3: /* L1 stream table descriptors */
		gpa = STRTAB_L1 + 8 * (idx % 2);
		good = (STRTAB_L2 + 0x1000 * ((v >> 4) % 2)) | (v % (SPLIT + 3));
		break;
	case 4: /* L2 STE words */
		gpa = STRTAB_L2 + 8 * (idx % 128) + 0x1000 * ((target >> 3) % 2);
		good = idx % 8 == 0 ? H.ste_nested[0] : idx % 8 == 1 ? H.ste_nested[1] : 0;
		break;
	default: /* anywhere in RAM */
		gpa = RAM_GPA + ((v >> 20) % (RAM_SIZE / 8)) * 8;
		good = v;
		break;
	}
	if (valid)
		v = (target & 0x80) ? good ^ (1ULL << (idx % 64)) : good;
	ram_put(gpa, v);
}

static const unsigned int cmd_ops[] = {
	GUEST_CMD_PREFETCH_CONFIG, GUEST_CMD_PREFETCH_ADDR,  GUEST_CMD_CFGI_STE,
	GUEST_CMD_CFGI_STE_RANGE,  GUEST_CMD_CFGI_CD,	     GUEST_CMD_CFGI_CD_ALL,
	GUEST_CMD_TLBI_NH_ALL,	   GUEST_CMD_TLBI_NH_ASID,   GUEST_CMD_TLBI_NH_VA,
	GUEST_CMD_TLBI_NH_VAA,	   GUEST_CMD_TLBI_S12_VMALL, GUEST_CMD_TLBI_S2_IPA,
	GUEST_CMD_TLBI_NSNH_ALL,   GUEST_CMD_ATC_INV,	     GUEST_CMD_PRI_RESP,
	GUEST_CMD_RESUME,	   GUEST_CMD_STALL_TERM,     GUEST_CMD_SYNC,
};

/* One command's words: raw with the opcode chosen, or encoded from fields. */
static void make_cmd(struct input *in, bool valid, uint64_t c[2])
{
	uint8_t sel = get8(in);
	unsigned int op = cmd_ops[sel % ARRAY_N(cmd_ops)];
	uint64_t a = get64(in), b = get64(in);

	if (sel >= 0xf0) /* an opcode of the input's own */
		op = (unsigned int)(a & 0xff);
	if (valid) {
		struct guest_cmd gc = {
			.op = op,
			.sid = a & 1 ? vsids[(a >> 1) & 1] : (uint32_t)(a >> 1) & 0xffff,
			.ssid = (uint32_t)(a >> 17) & 3,
			.ssv = (a >> 19) & 1,
			.asid = (a >> 20) & 1 ? ASID : (uint16_t)(a >> 21),
			.addr = (a >> 37) & 1 ? IOVA + (b & 0x1000) : (b & 0xfffffffff000ULL),
			.leaf = (a >> 38) & 1,
			.range = (a >> 39) & 1 ? 31 : (unsigned int)(a >> 40) % 8,
			.cs = (unsigned int)(a >> 43) % 3,
		};

		if (!guest_cmd_encode(&gc, c)) {
			/* CMD_SYNC's MSI: none (the wired line), RAM, the doorbell, nowhere. */
			static const uint64_t msi[4] = {0, MSI_PAGE, DOORBELL, 0x10000000};

			if (op == GUEST_CMD_SYNC && gc.cs == 1) {
				c[0] |= (b >> 32) << 32; /* MSIData */
				c[1] = msi[(a >> 45) & 3] + (((a >> 45) & 3) == 1 ? b & 0xff8 : 0);
			}
			return;
		}
	}
	c[0] = (a & ~0xffULL) | op;
	c[1] = b;
}

static void op_commands(struct run *r, struct input *in, uint8_t op, bool valid)
{
	unsigned int n = 1 + ((op >> 4) & 3), log2 = cmdq_log2(r), total = n;
	uint64_t base = rd(r, VSMMUV3_CMDQ_BASE, 8) & ((1ULL << 52) - 1) & ~0x1fULL;
	uint32_t prod = (uint32_t)rd(r, VSMMUV3_CMDQ_PROD, 4);
	uint64_t c[2] = {0, 0};

	/* Bit 6: the last command repeated, up to a full queue (batches beyond BATCH_MAX). */
	if (op & 0x40 && (1u << log2) > n)
		total = n + get8(in) % ((1u << log2) - n + 1);
	base &= ~((16ULL << log2) - 1);
	for (unsigned int i = 0; i < total; i++) {
		uint64_t gpa = base + 16ULL * (prod & ((1u << log2) - 1));

		if (i < n)
			make_cmd(in, valid, c);
		/* A queue outside RAM: the guest's writes go nowhere. */
		if (guest_mem_ptr(&H.gm, gpa, 16)) {
			ram_put(gpa, c[0]);
			ram_put(gpa + 8, c[1]);
		}
		prod = q_add(prod, log2, 1);
	}
	wr(r, VSMMUV3_CMDQ_PROD, 4, prod);
}

static unsigned int dma(unsigned int dev, unsigned int op, uint64_t iova, uint32_t len,
			uint64_t pattern)
{
	struct dmatest *d = H.dt[dev];
	uint64_t st = 0;
	bool ok = true;

	ok &= !dmatest_bar_write(
		d, 0, op == DMATEST_OP_READ ? DMATEST_REG_SRC_IOVA : DMATEST_REG_DST_IOVA, 8, iova);
	ok &= !dmatest_bar_write(d, 0, DMATEST_REG_LEN, 4, len);
	ok &= !dmatest_bar_write(d, 0, DMATEST_REG_PASID, 4, 0);
	ok &= !dmatest_bar_write(d, 0, DMATEST_REG_FILL, 8, pattern);
	ok &= !dmatest_bar_write(d, 0, DMATEST_REG_OP, 4, op);
	ok &= !dmatest_bar_write(d, 0, DMATEST_REG_GO, 4, 1);
	ok &= !dmatest_bar_read(d, 0, DMATEST_REG_STATUS, 4, &st);
	if (!ok || (st & DMATEST_STATUS_BUSY))
		FAIL("the dmatest function's registers (status 0x%llx)", (unsigned long long)st);
	return (unsigned int)((st & DMATEST_STATUS_ERR_MASK) >> DMATEST_STATUS_ERR_SHIFT);
}

static void op_dma(struct input *in)
{
	uint8_t sel = get8(in);
	uint64_t a = get64(in), iova;
	uint32_t len = 1 + get8(in);
	unsigned int err;

	switch ((sel >> 1) & 7) {
	case 0:
		iova = IOVA + a % 0x2000;
		break;
	case 1:
		iova = IOVA - 0x1000 + a % 0x4000;
		break;
	case 2:
		iova = RAM_GPA + a % RAM_SIZE;
		break;
	case 3:
		iova = RAM_GPA + RAM_SIZE - a % 512;
		break;
	case 4:
		iova = RAM_GPA - a % 512;
		break;
	case 5:
		iova = (uintptr_t)H.mem + a % (RAM_SIZE + 2 * CANARY_SIZE);
		break;
	default:
		iova = a & ((1ULL << 48) - 1);
		break;
	}
	err = dma(sel & 1, (sel >> 4) & 1 ? DMATEST_OP_READ : DMATEST_OP_FILL, iova, len,
		  0xa5a5a5a5a5a5a5a5ULL);
	if (H.trace)
		fprintf(stderr, "# dma dev %u %s 0x%llx len %u: error %u\n", sel & 1,
			(sel >> 4) & 1 ? "read" : "fill", (unsigned long long)iova, len, err);
	canary_check();
}

/* Whether an MSI address register points into [@base, @base + @size). */
static bool msi_into(struct run *r, uint64_t reg, uint64_t base, uint64_t size)
{
	uint64_t a = rd(r, reg, 8) & ((1ULL << 52) - 1) & ~3ULL;

	return a + 4 > base && a < base + size;
}

/*
 * The pump. The records it wrote into the guest's event queue name the
 * guest's StreamIDs (VSID0, VSID1), never the host's, and have a type:
 * checked when PROD moved by the count it returned and no MSI of the
 * vSMMU (event queue, GERROR) can have landed on them.
 */
static void poll_ok(struct run *r)
{
	uint32_t p0 = (uint32_t)rd(r, VSMMUV3_PAGE1 + VSMMUV3_EVENTQ_PROD, 4), p1;
	uint64_t base = rd(r, VSMMUV3_EVENTQ_BASE, 8);
	unsigned int log2 = (unsigned int)(base & 0x1f);
	int rc = vsmmuv3_poll_events(r->vs);
	uint32_t m;

	if (rc < 0)
		FAIL("op %u: vsmmuv3_poll_events: %d", r->op, rc);
	if (log2 > VSMMUV3_QUEUE_LOG2)
		log2 = VSMMUV3_QUEUE_LOG2;
	m = (2u << log2) - 1;
	base &= ((1ULL << 52) - 1) & ~0x1fULL & ~((32ULL << log2) - 1);
	p1 = (uint32_t)rd(r, VSMMUV3_PAGE1 + VSMMUV3_EVENTQ_PROD, 4);
	if (!rc || ((p1 - p0) & m) != (uint32_t)rc || !guest_mem_ptr(&H.gm, base, 32ULL << log2) ||
	    msi_into(r, VSMMUV3_EVENTQ_IRQ_CFG0, base, 32ULL << log2) ||
	    msi_into(r, VSMMUV3_GERROR_IRQ_CFG0, base, 32ULL << log2))
		return;
	for (uint32_t i = p0; ((p1 - i) & m) != 0; i++) {
		uint64_t w0 = ram_get(base + 32ULL * (i & ((1u << log2) - 1)));
		uint32_t sid = (uint32_t)(w0 >> 32);

		if ((sid != VSID0 && sid != VSID1) || !(w0 & 0xff))
			FAIL("op %u: event record 0x%llx at index 0x%x: type 0x%x, StreamID 0x%x",
			     r->op, (unsigned long long)w0, i & m, (unsigned int)(w0 & 0xff), sid);
	}
}

/* ---------------------------------------------------------------------- */
/* The known-good reset and its check                                     */

static void cmd_at(unsigned int i, const struct guest_cmd *gc)
{
	uint64_t c[2];

	if (guest_cmd_encode(gc, c))
		FAIL("encode command %u", gc->op);
	ram_put(CMDQ + 16 * i, c[0]);
	ram_put(CMDQ + 16 * i + 8, c[1]);
}

static void good_reset(struct run *r)
{
	const uint32_t en = VSMMUV3_CR0_CMDQEN | VSMMUV3_CR0_EVENTQEN;
	struct guest_cmd all = {.op = GUEST_CMD_CFGI_STE_RANGE, .range = 31};
	struct guest_cmd tlbi = {.op = GUEST_CMD_TLBI_NSNH_ALL};
	struct guest_cmd sync = {.op = GUEST_CMD_SYNC};
	uint32_t cons;
	uint64_t got;

	r->op = MAX_OPS + 1;
	wr(r, VSMMUV3_CR0, 4, 0);
	if (rd(r, VSMMUV3_CR0ACK, 4) != 0)
		FAIL("reset: CR0ACK 0x%llx after CR0 = 0",
		     (unsigned long long)rd(r, VSMMUV3_CR0ACK, 4));
	wr(r, VSMMUV3_GERRORN, 4, rd(r, VSMMUV3_GERROR, 4));
	guest_structs();
	memset(H.gm.region[0].host + (BUF_GPA - RAM_GPA), 0, 0x2000);
	wr(r, VSMMUV3_STRTAB_BASE_CFG, 4, VSMMUV3_STRTAB_FMT_LINEAR | STRTAB_LOG2);
	wr(r, VSMMUV3_STRTAB_BASE, 8, STRTAB);
	wr(r, VSMMUV3_CMDQ_BASE, 8, CMDQ | CMDQ_LOG2);
	wr(r, VSMMUV3_CMDQ_PROD, 4, 0);
	wr(r, VSMMUV3_CMDQ_CONS, 4, 0);
	wr(r, VSMMUV3_EVENTQ_BASE, 8, EVTQ | EVTQ_LOG2);
	wr(r, VSMMUV3_PAGE1 + VSMMUV3_EVENTQ_PROD, 4, 0);
	wr(r, VSMMUV3_PAGE1 + VSMMUV3_EVENTQ_CONS, 4, 0);
	wr(r, VSMMUV3_IRQ_CTRL, 4, VSMMUV3_IRQ_GERROR | VSMMUV3_IRQ_EVENTQ);
	wr(r, VSMMUV3_CR0, 4, en);
	wr(r, VSMMUV3_CR0, 4, en | VSMMUV3_CR0_SMMUEN);
	if (rd(r, VSMMUV3_CR0ACK, 4) != (en | VSMMUV3_CR0_SMMUEN))
		FAIL("reset: CR0ACK 0x%llx", (unsigned long long)rd(r, VSMMUV3_CR0ACK, 4));
	cmd_at(0, &all);
	cmd_at(1, &tlbi);
	cmd_at(2, &sync);
	wr(r, VSMMUV3_CMDQ_PROD, 4, 3);
	cons = (uint32_t)rd(r, VSMMUV3_CMDQ_CONS, 4);
	if ((cons & 0xfffff) != 3 || (rd(r, VSMMUV3_GERROR, 4) ^ rd(r, VSMMUV3_GERRORN, 4)))
		FAIL("reset: CMDQ_CONS 0x%x, GERROR 0x%llx GERRORN 0x%llx", cons,
		     (unsigned long long)rd(r, VSMMUV3_GERROR, 4),
		     (unsigned long long)rd(r, VSMMUV3_GERRORN, 4));
	/* VSID0 translates IOVA + 0x1800 to BUF_GPA + 0x1800 through both stages. */
	if (dma(0, DMATEST_OP_FILL, IOVA + 0x1800, 128, 0x1122334455667788ULL))
		FAIL("reset: the nested DMA of VSID0 failed");
	for (unsigned int i = 0; i < 128; i += 8)
		if ((got = ram_get(BUF_GPA + 0x1800 + i)) != 0x1122334455667788ULL)
			FAIL("reset: BUF_GPA + 0x%x holds 0x%llx", 0x1800 + i,
			     (unsigned long long)got);
	if (ram_get(BUF_GPA + 0x17f8) || ram_get(BUF_GPA + 0x1880))
		FAIL("reset: the DMA wrote outside its bytes");
	/* VSID1's STE aborts: neither its IOVA nor a GPA reaches RAM. */
	if (dma(1, DMATEST_OP_FILL, IOVA, 64, 1) != DMATEST_ERR_DMA_FAULT ||
	    dma(1, DMATEST_OP_FILL, BUF_GPA, 64, 1) != DMATEST_ERR_DMA_FAULT)
		FAIL("reset: VSID1 (an abort STE) reached memory");
	if (ram_get(BUF_GPA) != 0)
		FAIL("reset: the aborted DMA wrote RAM");
	poll_ok(r);
	canary_check();
}

/* ---------------------------------------------------------------------- */

static void vsmmu_up(struct run *r, bool bypass)
{
	struct iommu_hwpt_alloc s2 = {.size = sizeof(s2),
				      .flags = IOMMU_HWPT_ALLOC_NEST_PARENT,
				      .dev_id = H.dev_id[0],
				      .pt_id = H.ioas};
	struct vsmmuv3_endpoint eps[2] = {
		{.vsid = VSID0, .dev_id = H.dev_id[0], .cdev = H.cdev[0]},
		{.vsid = VSID1, .dev_id = H.dev_id[1], .cdev = H.cdev[1]},
	};
	struct vsmmuv3_params p = {
		.iommufd = H.iommufd,
		.gm = &H.gm,
		.eps = eps,
		.nr_eps = 2,
		.veventq_depth = 8,
		.gbpa_bypass_at_reset = bypass,
		.irq = irq_hook,
		.msi = msi_hook,
	};
	int rc;

	if (uiommu_ioctl(H.iommufd, IOMMU_HWPT_ALLOC, &s2))
		FAIL("the nesting parent (errno %d): the previous input left something", errno);
	r->s2 = s2.out_hwpt_id;
	p.s2_hwpt = r->s2;
	rc = vsmmuv3_create(&p, &r->vs);
	if (rc)
		FAIL("vsmmuv3_create: %d (a vDEVICE of the previous input left?)", rc);
}

static void vsmmu_down(struct run *r)
{
	struct iommu_destroy d = {.size = sizeof(d), .id = vsmmuv3_viommu_id(r->vs)};

	vsmmuv3_destroy(r->vs);
	r->vs = NULL;
	errno = 0;
	if (uiommu_ioctl(H.iommufd, IOMMU_DESTROY, &d) != -1 || errno != ENOENT)
		FAIL("the vIOMMU outlived vsmmuv3_destroy (errno %d)", errno);
	d.id = r->s2;
	if (uiommu_ioctl(H.iommufd, IOMMU_DESTROY, &d))
		FAIL("the nesting parent still has users after vsmmuv3_destroy (errno %d)", errno);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	struct run r = {0};
	uint8_t cfg;

	if (!H.up)
		host_up();
	memset(H.gm.region[0].host, 0, RAM_SIZE);
	guest_structs();
	cfg = get8(&in);
	vsmmu_up(&r, cfg & 1);
	for (r.op = 0; r.op < MAX_OPS && in.n; r.op++) {
		uint8_t op = get8(&in);
		bool valid = op & 8, moved = false, evtq_regs = false;
		struct cmdq_snap before;

		cmdq_snap(&r, &before);
		switch (op & 7) {
		case 0:
		case 1:
			op_mmio_write(&r, &in, valid, &moved, &evtq_regs);
			break;
		case 2: {
			const struct reg *g = &regs[get8(&in) % ARRAY_N(regs)];

			rd(&r, g->off, g->size);
			break;
		}
		case 3:
			op_ram_write(&in, valid);
			break;
		case 4:
			op_commands(&r, &in, op, valid);
			break;
		case 5:
			op_dma(&in);
			break;
		case 6:
			poll_ok(&r);
			break;
		default:
			wr(&r, VSMMUV3_GERRORN, 4, rd(&r, VSMMUV3_GERROR, 4));
			wr(&r, VSMMUV3_CMDQ_PROD, 4, rd(&r, VSMMUV3_CMDQ_PROD, 4));
			break;
		}
		cmdq_check(&r, &before, moved, evtq_regs);
	}
	poll_ok(&r);
	canary_check();
	if (H.trace) {
		struct vsmmuv3_stats st;

		vsmmuv3_get_stats(r.vs, &st);
		fprintf(stderr,
			"# %u ops; CMDQ_CONS 0x%llx PROD 0x%llx GERROR^N 0x%llx; %llu commands "
			"(%llu forwarded), %llu nested HWPTs, %llu records (%llu lost)\n",
			r.op, (unsigned long long)rd(&r, VSMMUV3_CMDQ_CONS, 4),
			(unsigned long long)rd(&r, VSMMUV3_CMDQ_PROD, 4),
			(unsigned long long)(rd(&r, VSMMUV3_GERROR, 4) ^
					     rd(&r, VSMMUV3_GERRORN, 4)),
			(unsigned long long)st.cmds, (unsigned long long)st.forwarded,
			(unsigned long long)st.ste_updates, (unsigned long long)st.events,
			(unsigned long long)st.events_lost);
	}
	good_reset(&r);
	vsmmu_down(&r);
	return 0;
}
