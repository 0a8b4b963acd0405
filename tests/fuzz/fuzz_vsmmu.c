// SPDX-License-Identifier: MIT
/*
 * fuzz_vsmmu.c - libFuzzer target over the vSMMUv3 front end
 * (lib/vmm/vsmmuv3.c): everything a guest controls, which is all of its
 * input. MMIO writes to its registers, the stream table, CD table,
 * command queue and stage-1 tables in guest RAM, and DMA of the devices
 * behind it.
 *
 * Set up once per process (as tests/func/test_vsmmuv3.c's vm_host()): the
 * default machine (one host SMMUv3 model, two dmatest functions) with two
 * more functions (a PCIe one with ATS and PRI, one that can stall), an
 * iommufd, the functions' cdevs bound to it, 1 MiB of guest RAM at GPA
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
 *   byte 0    bit 0: GBPA bypass at reset (else abort); bit 1: recoverable:
 *             the endpoints are functions 2 (VSID0: ATS + PRI, its STE
 *             with EATS 0b01) and 3 (VSID1: can stall), and each DMA runs
 *             on its function's thread (see job_settle()); with bit 1,
 *             bit 2: no reset, the vSMMU destroyed right after the program;
 *             bit 3: host failures, two more bytes follow: the record that
 *             runs with fail-nth armed and n - 1 (see below)
 *   records (at most MAX_OPS), op byte: bits 2:0 the kind, bit 3 "valid":
 *     0, 1 MMIO write of regs[sel % n] (sel byte, 8 value bytes); valid: the
 *          value is a driver's (queue bases inside RAM, CR0 enables, GERRORN
 *          = GERROR, PROD / CONS next to the current ones, ...)
 *     2    MMIO read of regs[sel % n]
 *     3    an 8-byte write into guest RAM (target byte, index byte, value):
 *          STE words of the two vSIDs, CD words, stage-1 descriptors, L1
 *          stream table descriptors, L2 STE words, anywhere; valid: a good
 *          word of that place (with a bit of the value flipped, sometimes;
 *          STE word 1 with S1STALLD or EATS, a CD with S)
 *     4    1..4 commands at CMDQ_PROD (bits 5:4; opcode byte, 16 bytes
 *          each), bit 6: the last one repeated (count byte) up to a full
 *          queue, then a PROD write; valid: fields from guest_cmd_encode()
 *          (vSIDs, ASID 7, CMD_SYNC MSIs to RAM, the doorbell, nowhere;
 *          RESUME / PRI_RESP naming the STAG / PRGI the guest was last
 *          told of, ATC_INV sizes)
 *     5    DMA by function sel & 1 (sel byte, 8 address bytes, length
 *          byte; sel bit 5: with PASID 1 + sel bit 6, which the STE's
 *          S1CDMax and CDs 1..3 serve; sel bit 7: the length in 256-byte
 *          units, up to 64 KiB: a DMA over many pages, whose faults make
 *          one page request group of several requests): a fill or a read
 *          at an IOVA, a GPA, the RAM's edges, the canary's host address
 *          or anywhere; recoverable: on the function's thread, and nothing
 *          while its last DMA still waits
 *     6    vsmmuv3_poll_events()
 *     7    the driver's error recovery: GERRORN = GERROR, PROD again
 *
 * Invariants (a broken one is FAIL(): a message, then a trap): every MMIO
 * access returns 0 and every poll >= 0 (the VMM never fails on guest
 * input); the canaries around guest RAM are intact after every DMA; the
 * records the vSMMU adds to the event queue fit in the room CONS left, and
 * those the pump writes name a vSID (never a host SID) and a type, and its
 * PRI records come in whole page request groups (one PRG index, one
 * function, one access kind, pages rising, Last on the final record), of
 * which only the last one a poll writes may lack its Last (a full queue
 * lost the rest, §8.2), and no group has more requests than the host's
 * Outstanding Page Request Allocation (SMMUV3_PRI_ALLOC_DEFAULT); CMDQ
 * CONS never passes PROD, and while CMDQEN is 1 it stops short of PROD
 * only with GERROR.CMDQ_ERR active, and CONS.ERR names the error when
 * the vSMMU raised it (a guest may activate it itself: cmdq_check()); after the
 * program, the reset a guest driver does (CR0 = 0, GERRORN = GERROR,
 * stream table and queues programmed, enables, CFGI_ALL + TLBI_NSNH_ALL
 * (+ ATC_INV of VSID0 when recoverable) + CMD_SYNC) consumes those commands
 * without an error, and a DMA of VSID0 at IOVA lands in BUF_GPA with the
 * expected bytes while VSID1 aborts. Recoverable inputs: a DMA waiting
 * for an answer moves only when something the guest did may answer it,
 * and moves when the guest answered the request it was told of
 * (jobs_check(): an answer given twice, or naming what is not
 * outstanding, completes nothing); the reset's SMMUEN = 0 leaves no DMA
 * waiting and nothing in the host fault queue; no DMA outlives the vSMMU.
 * After the teardown no object of the vSMMU is left in the iommufd
 * (ids_free(): the IDs above the set-up's objects are all free again).
 *
 * Host failures (config bit 3): one record of the program runs with
 * ualloc_fail_nth(n) armed on this thread, which makes every host call of
 * the vSMMU (MMIO and the pump run its iommufd ioctls synchronously), and,
 * when the record starts a DMA on a function's thread, on that thread too
 * (its countdown stays armed while the DMA waits); iommufd's object
 * lookups count as allocations and fail as ENOENT. The vSMMU's contract
 * (vsmmuv3.h) is that a negative errno from a write or a poll is the
 * host's failure, so in that record, and only once the countdown fired, a
 * write or a poll may return one; everything else holds as above. By
 * design the guest does not see the host's ENOMEM as a command error: the
 * vSMMU leaves CMDQ_CONS at the command (no CMDQ_ERR) and the next write
 * that runs the queue retries it, so CONS short of PROD without CMDQ_ERR
 * is allowed until such a write succeeds (run.host_stuck). A nested
 * HWPT allocation that fails otherwise than with ENOMEM (an injected
 * lookup's ENOENT) looks like the kernel refusing the guest's vSTE and is
 * reported to it as C_BAD_STE. Reads never fail, and the known-good reset
 * must work afterwards.
 *
 * Seeds: tests/fuzz/gen_vsmmu_seeds.py writes corpus/fuzz_vsmmu/.
 * FUZZ_VSMMU_TRACE=1 in the environment prints each input's DMA results,
 * queue state and counters (to see what a seed really does).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <uiommu/uiommu.h>

#include "dev/dmatest/dmatest.h"
#include "dev/dmatest/dmatest_vfio.h"
#include "hw/smmuv3/smmuv3_iommu.h"
#include "util/alloc.h"
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

#define STE1_S1STALLD	(1ULL << 27)
#define STE1_EATS_TRANS (1ULL << 28) /* EATS 0b01 */

/* Stage-1 descriptors (VMSAv8-64, 4 KiB granule): valid, table/page, SH inner, AF. */
#define D_TABLE 3ULL
#define D_PAGE	(3ULL | 3ULL << 8 | 1ULL << 10)

/*
 * The machine's four dmatest functions: the default topology's two, and two
 * more behind the same SMMU for the recoverable inputs (config bit 1): a
 * PCIe function with ATS and PRI, and a device that tolerates stalls.
 */
#define NR_DEVS 4
static const char *const names[NR_DEVS] = {"0000:00:01.0", "0000:00:02.0", "0000:00:03.0",
					   "0000:00:04.0"};
static const uint32_t vsids[2] = {VSID0, VSID1};

static struct host {
	bool up, trace; /* trace: $FUZZ_VSMMU_TRACE set, say what each input did */
	struct machine *m;
	struct uiommu_file *iommufd, *cdev[NR_DEVS];
	struct dmatest *dt[NR_DEVS];
	uint32_t dev_id[NR_DEVS], ioas;
	uint32_t free_id; /* the lowest object ID free after set-up: all above it are too */
	uint8_t *mem;	  /* canary, RAM, canary */
	struct guest_mem gm;
	uint64_t cd[8];	      /* the good CD, words in CPU order */
	uint64_t cd_stall[8]; /* the same with CD.S: its translation faults stall */
	uint64_t ste_nested[2];
} H;

/*
 * The input's endpoints: functions D and D + 1 as VSID0 and VSID1 (D = 0,
 * or 2 for a recoverable input).
 */
static unsigned int D;
static bool recoverable;

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
	/*
	 * The host failed a command (config bit 3): CONS stays before it, with
	 * no CMDQ_ERR (the guest's commands were not at fault), until the next
	 * write that runs the queue retries it.
	 */
	bool host_stuck;
};

/* A DMA that waits for an answer (see job_settle()). */
enum told {
	TOLD_NONE, /* the guest has not seen the request the job waits on */
	TOLD_TAG,  /* it has: a Stall record with STAG tag, or a PRI record (Last) with PRGI tag */
	TOLD_ANY,  /* the pump wrote records the fuzzer could not read back */
};

struct job {
	pthread_t th;
	atomic_int tid; /* the thread's, once it runs */
	atomic_bool done;
	bool live;    /* started, not joined */
	bool blocked; /* waiting for an answer at the last settle */
	long nvcsw;   /* its voluntary context switches then */
	unsigned int dev, op, err;
	uint64_t iova, pattern;
	uint32_t len, pasid;
	unsigned long fail_nth; /* the thread's countdown (host failures), or 0 */
	bool fired;		/* it failed an allocation */
	enum told told;
	uint16_t tag;
};

static struct job jobs[2]; /* by function: 0 (VSID0, PRI), 1 (VSID1, stalls) */

/*
 * Host failures (config bit 3): one step of the program runs with the
 * allocation countdown (util/alloc.h) armed at n on the thread that makes
 * the vSMMU's host calls (this one), and on the DMA's thread when the step
 * starts one; iommufd's object lookups count too (they fail as ENOENT).
 */
static struct {
	bool on;	   /* config bit 3 */
	unsigned int step; /* the record that runs armed */
	unsigned long n;
	bool armed;	     /* the step runs now */
	int err;	     /* what the vSMMU returned for it (the host's failure), or 0 */
	unsigned long job_n; /* for a DMA thread the armed step starts */
} inj;

/* An error the vSMMU may return: the armed countdown fired on this thread. */
static bool inj_fired(int rc)
{
	if (!inj.armed || ualloc_fail_nth_pending() != 0)
		return false;
	inj.err = rc;
	return true;
}

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

/*
 * The iommufd's objects: IDs are the lowest free, so NR_PROBE IOASes
 * allocated now take @first and the IDs after it when nothing above the
 * set-up's objects is left (the vSMMU's objects all had IDs in that range).
 * @first 0: only say where the first one went. Returns that ID.
 */
#define NR_PROBE 32

static uint32_t ids_free(uint32_t first)
{
	uint32_t ids[NR_PROBE];

	for (unsigned int i = 0; i < NR_PROBE; i++) {
		struct iommu_ioas_alloc ia = {.size = sizeof(ia)};

		SETUP_OK(uiommu_ioctl(H.iommufd, IOMMU_IOAS_ALLOC, &ia));
		ids[i] = ia.out_ioas_id;
		if (first && ids[i] != first + i)
			FAIL("an object of the vSMMU outlived it: a new object took ID %u, not %u",
			     ids[i], first + i);
	}
	for (unsigned int i = 0; i < NR_PROBE; i++) {
		struct iommu_destroy d = {.size = sizeof(d), .id = ids[i]};

		SETUP_OK(uiommu_ioctl(H.iommufd, IOMMU_DESTROY, &d));
	}
	return ids[0];
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
	struct topo_device *devs;
	struct topology *t;
	char err[256];

	H.trace = getenv("FUZZ_VSMMU_TRACE") != NULL;
	SETUP_OK(topology_default(&t));
	/* Functions 2 and 3: the default two again, one with ATS + PRI, one that can stall. */
	devs = ucalloc(NR_DEVS, sizeof(*devs));
	if (!devs || t->nr_devices != 2)
		FAIL("set-up: the topology's devices");
	for (unsigned int i = 0; i < NR_DEVS; i++) {
		devs[i] = t->devices[i % 2];
		snprintf(devs[i].name, sizeof(devs[i].name), "%s", names[i]);
		if (!topology_pci_name_rid(devs[i].name, &devs[i].sid))
			FAIL("set-up: %s", names[i]);
		devs[i].group = i + 1;
	}
	devs[2].ats = devs[2].pri = true;
	devs[3].can_stall = true;
	ufree(t->devices);
	t->devices = devs;
	t->nr_devices = NR_DEVS;
	if (machine_create(t, &H.m, err, sizeof(err)))
		FAIL("set-up: machine_create: %s", err);
	topology_free(t);
	H.iommufd = uiommu_open("/dev/iommu", O_RDWR);
	if (!H.iommufd)
		FAIL("set-up: open /dev/iommu");
	for (unsigned int i = 0; i < NR_DEVS; i++) {
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
		/* PASID on: a DMA record may name a substream (sel bit 5). */
		SETUP_OK(dmatest_cfg_write(H.dt[i], DMATEST_EXT_CAP_PASID + PCI_PASID_CTRL, 2,
					   PCI_PASID_CTRL_ENABLE));
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
	H.free_id = ids_free(0);
	SETUP_OK(guest_cd_encode(&cd, H.cd));
	cd.stall = true;
	SETUP_OK(guest_cd_encode(&cd, H.cd_stall));
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
	/* A driver sets EATS for an endpoint with ATS (its DMA needs translation requests). */
	uint64_t w1 = H.ste_nested[1] | (recoverable ? STE1_EATS_TRANS : 0);

	for (unsigned int i = 0; i < 8; i++)
		ram_put(CDTAB + 8 * i, H.cd[i]);
	ste_put(STRTAB + 64 * VSID0, H.ste_nested[0], w1);
	ste_put(STRTAB + 64 * VSID1, 1, 0); /* V, Config abort */
	/* The same STEs in the 2-level table's L2 tables, and its L1 descriptors. */
	for (unsigned int i = 0; i < 2; i++)
		ram_put(STRTAB_L1 + 8 * i, (STRTAB_L2 + 0x1000 * i) | (SPLIT + 1));
	ste_put(STRTAB_L2 + 64 * VSID0, H.ste_nested[0], w1);
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

	if (rc && !inj_fired(rc))
		FAIL("op %u: MMIO write 0x%llx/%u = 0x%llx: %d", r->op, (unsigned long long)off,
		     size, (unsigned long long)val, rc);
	if (off == VSMMUV3_CR0 || off == VSMMUV3_GERRORN || off == VSMMUV3_CMDQ_PROD)
		r->host_stuck = rc != 0;
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
	if (!(a.gerr & VSMMUV3_GERROR_CMDQ) && !r->host_stuck)
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

static void op_mmio_write(struct run *r, struct input *in, bool valid, bool *moved, bool *evtq_regs,
			  bool *answers)
{
	const struct reg *g = &regs[get8(in) % ARRAY_N(regs)];
	uint64_t v = get64(in);

	if (valid)
		v = valid_value(r, g->off, v);
	if (g->size == 4)
		v &= UINT32_MAX;
	*moved = g->off == VSMMUV3_CMDQ_CONS || (g->off & ~4u) == VSMMUV3_CMDQ_BASE;
	*evtq_regs = (g->off & 0xffff & ~0xfu) == VSMMUV3_EVENTQ_BASE;
	/* Any register but those that only run the command queue may move a waiting DMA. */
	*answers = g->off != VSMMUV3_CMDQ_PROD && g->off != VSMMUV3_GERRORN;
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
			/* v bit 9: S1STALLD (no stalls); bit 10: EATS 0b01 (ATS, and PRI). */
			good = (v >> 8) & 1 ? H.ste_nested[1] | ((v >> 9) & 1 ? STE1_S1STALLD : 0) |
						      ((v >> 10) & 1 ? STE1_EATS_TRANS : 0)
					    : (v & 3) | ((v >> 2) & 3) << 28;
		break;
	}
	case 1: /* CD words, CD 0..3 */
		gpa = CDTAB + 64 * ((idx >> 3) % 4) + 8 * (idx % 8);
		good = (v >> 8) & 1 ? H.cd_stall[idx % 8] : H.cd[idx % 8]; /* CD.S: stall */
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
		/* ATC_INV: a page, a few, everything (52), the reserved 53, the widest. */
		static const unsigned int atc_sizes[8] = {0, 1, 2, 9, 52, 53, 63, 0};

		/*
		 * RESUME and PRI_RESP: b bit 0 names the request the guest was last
		 * told of (its SID, STAG / PRGI), else b's bits 31:16 do; bits 2:1 the
		 * Action / Resp (3: reserved). STALL_TERM: b bit 0 VSID1.
		 */
		if (op == GUEST_CMD_RESUME) {
			gc.action = (b >> 1) & 3;
			gc.stag = (uint16_t)(b >> 16);
			if (b & 1) {
				gc.sid = VSID1;
				gc.stag = jobs[1].tag; /* the last the guest was told of */
			}
		} else if (op == GUEST_CMD_STALL_TERM && (b & 1)) {
			gc.sid = VSID1;
		} else if (op == GUEST_CMD_PRI_RESP && (b & 1)) {
			gc.sid = VSID0;
		} else if (op == GUEST_CMD_ATC_INV) {
			gc.size = atc_sizes[(b >> 1) & 7];
			gc.addr &= ~0xfffULL;
		}

		if (!guest_cmd_encode(&gc, c)) {
			/* CMD_SYNC's MSI: none (the wired line), RAM, the doorbell, nowhere. */
			static const uint64_t msi[4] = {0, MSI_PAGE, DOORBELL, 0x10000000};

			if (op == GUEST_CMD_SYNC && gc.cs == 1) {
				c[0] |= (b >> 32) << 32; /* MSIData */
				c[1] = msi[(a >> 45) & 3] + (((a >> 45) & 3) == 1 ? b & 0xff8 : 0);
			}
			if (op == GUEST_CMD_PRI_RESP) {
				uint64_t prgi = b & 1 ? jobs[0].tag : (b >> 16) & 0x1ff;

				c[1] = prgi | ((b >> 1) & 3) << 12;
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

/* dma()'s answer when an allocation the countdown failed made a register access fail. */
#define DMA_HOST_FAILED 0x100u

/* This thread's countdown was armed (config bit 3). */
static _Thread_local bool t_armed;

/* DMA by function @dev with PASID @pasid (0: none); the dmatest error code. */
static unsigned int dma_pasid(unsigned int dev, unsigned int op, uint64_t iova, uint32_t len,
			      uint64_t pattern, uint32_t pasid)
{
	struct dmatest *d = H.dt[D + dev];
	uint64_t st = 0;
	bool ok = true;

	ok &= !dmatest_bar_write(
		d, 0, op == DMATEST_OP_READ ? DMATEST_REG_SRC_IOVA : DMATEST_REG_DST_IOVA, 8, iova);
	ok &= !dmatest_bar_write(d, 0, DMATEST_REG_LEN, 4, len);
	ok &= !dmatest_bar_write(d, 0, DMATEST_REG_PASID, 4,
				 pasid ? DMATEST_PASID_VALID | pasid : 0);
	ok &= !dmatest_bar_write(d, 0, DMATEST_REG_FILL, 8, pattern);
	ok &= !dmatest_bar_write(d, 0, DMATEST_REG_OP, 4, op);
	ok &= !dmatest_bar_write(d, 0, DMATEST_REG_GO, 4, 1);
	ok &= !dmatest_bar_read(d, 0, DMATEST_REG_STATUS, 4, &st);
	if (!ok && t_armed && ualloc_fail_nth_pending() == 0)
		return DMA_HOST_FAILED; /* the countdown failed a register access */
	if (!ok || (st & DMATEST_STATUS_BUSY))
		FAIL("the dmatest function's registers (status 0x%llx)", (unsigned long long)st);
	return (unsigned int)((st & DMATEST_STATUS_ERR_MASK) >> DMATEST_STATUS_ERR_SHIFT);
}

static unsigned int dma(unsigned int dev, unsigned int op, uint64_t iova, uint32_t len,
			uint64_t pattern)
{
	return dma_pasid(dev, op, iova, len, pattern, 0);
}

/* ---------------------------------------------------------------------- */
/* DMA that waits for an answer                                           */

/*
 * On a recoverable input a DMA runs on a thread of its own, as the device
 * would: a transaction that stalls (function 1) or whose page request
 * (function 0) waits for the group's response holds its function until the
 * guest answers, the vSMMU answers for it, or iommufd does when the
 * endpoint leaves its HWPT. After every record each job is settled: it
 * ended, or it sleeps in a condition variable (the SMMU's stall wait or the
 * endpoint's PRG wait: a futex FUTEX_WAIT_BITSET, which glibc's
 * pthread_cond_wait() issues and its mutexes do not), having handed its
 * request to the host fault queue first. A settled job that moves during a
 * record was answered during it; whether it may have been is the
 * invariant of jobs_check().
 */

static void *job_run(void *arg)
{
	struct job *j = arg;

	atomic_store(&j->tid, (int)syscall(SYS_gettid));
	if (j->fail_nth) {
		t_armed = true;
		ualloc_fail_nth(j->fail_nth);
	}
	j->err = dma_pasid(j->dev, j->op, j->iova, j->len, j->pattern, j->pasid);
	if (j->fail_nth) {
		j->fired = ualloc_fail_nth_pending() == 0;
		ualloc_fail_nth(0);
	}
	atomic_store(&j->done, true);
	return NULL;
}

static ssize_t task_file(int tid, const char *name, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/%s", tid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n >= 0)
		buf[n] = 0;
	return n;
}

/* The thread's voluntary context switches: each sleep is one. */
static long task_nvcsw(int tid)
{
	char buf[4096], *p;

	if (task_file(tid, "status", buf, sizeof(buf)) < 0 ||
	    !(p = strstr(buf, "\nvoluntary_ctxt_switches:")))
		return -1;
	return strtol(p + 26, NULL, 10);
}

/*
 * Whether the thread sleeps (state S: not woken, which makes it R at once)
 * in a condition variable's futex wait.
 */
static bool task_cond_wait(int tid)
{
	char buf[512], *p;
	unsigned long op;
	long nr;

	if (task_file(tid, "stat", buf, sizeof(buf)) <= 0 || !(p = strrchr(buf, ')')) ||
	    p[1] != ' ' || p[2] != 'S')
		return false;
	return task_file(tid, "syscall", buf, sizeof(buf)) > 0 &&
	       sscanf(buf, "%ld %*s %lx", &nr, &op) == 2 && nr == SYS_futex &&
	       (op & FUTEX_CMD_MASK) == FUTEX_WAIT_BITSET;
}

/*
 * Wait until job @j ended or waits for an answer. Whether it moved (ended,
 * or woke and waits again) since it was last seen waiting.
 */
static bool job_settle(struct run *r, struct job *j)
{
	bool was = j->blocked;

	for (unsigned int n = 0; j->live; n++) {
		int tid = atomic_load(&j->tid);
		long v;

		if (atomic_load(&j->done)) {
			pthread_join(j->th, NULL);
			j->live = j->blocked = false;
			if (H.trace)
				fprintf(stderr, "# op %u: dma dev %u 0x%llx ended: error %u%s\n",
					r->op, j->dev, (unsigned long long)j->iova, j->err,
					j->fired ? " (fail-nth fired)" : "");
			canary_check();
			return was;
		}
		if (tid && (v = task_nvcsw(tid)) >= 0 && task_cond_wait(tid) &&
		    task_nvcsw(tid) == v) {
			if (was && v == j->nvcsw)
				return false; /* the same wait */
			/* Still there a moment later: not a lock's brief wait. */
			usleep(200);
			if (!atomic_load(&j->done) && task_cond_wait(tid) && task_nvcsw(tid) == v) {
				if (H.trace)
					fprintf(stderr, "# op %u: dma dev %u 0x%llx waits\n", r->op,
						j->dev, (unsigned long long)j->iova);
				j->blocked = true;
				j->nvcsw = v;
				j->told = TOLD_NONE;
				canary_check();
				return was;
			}
			continue;
		}
		if (n == 200000)
			FAIL("op %u: the DMA of function %u neither ends nor waits for an answer",
			     r->op, j->dev);
		usleep(50);
	}
	return false;
}

static void job_start(struct run *r, unsigned int dev, unsigned int op, uint64_t iova, uint32_t len,
		      uint64_t pattern, uint32_t pasid)
{
	struct job *j = &jobs[dev];

	*j = (struct job){.dev = dev,
			  .op = op,
			  .iova = iova,
			  .len = len,
			  .pattern = pattern,
			  .pasid = pasid,
			  .fail_nth = inj.job_n};
	j->live = true;
	if (pthread_create(&j->th, NULL, job_run, j))
		FAIL("op %u: pthread_create", r->op);
	job_settle(r, j);
}

static void op_dma(struct run *r, struct input *in)
{
	uint8_t sel = get8(in);
	uint64_t a = get64(in), iova;
	uint32_t len = 1 + get8(in);
	/* sel bit 5: with PASID 1 or 2 (bit 6): substreams of the CD table (S1CDMax > 0). */
	uint32_t pasid = (sel >> 5) & 1 ? 1 + ((sel >> 6) & 1) : 0;
	unsigned int err;

	if (sel & 0x80) /* many pages: a page request group of several requests */
		len *= 0x100;

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
	if (recoverable) {
		/* A function whose DMA waits for an answer is busy: the record does nothing. */
		if (!jobs[sel & 1].live)
			job_start(r, sel & 1, (sel >> 4) & 1 ? DMATEST_OP_READ : DMATEST_OP_FILL,
				  iova, len, 0xa5a5a5a5a5a5a5a5ULL, pasid);
		return;
	}
	err = dma_pasid(sel & 1, (sel >> 4) & 1 ? DMATEST_OP_READ : DMATEST_OP_FILL, iova, len,
			0xa5a5a5a5a5a5a5a5ULL, pasid);
	if (H.trace)
		fprintf(stderr, "# dma dev %u %s 0x%llx len %u pasid %u: error %u\n", sel & 1,
			(sel >> 4) & 1 ? "read" : "fill", (unsigned long long)iova, len, pasid,
			err);
	canary_check();
}

/* Whether an MSI address register points into [@base, @base + @size). */
static bool msi_into(struct run *r, uint64_t reg, uint64_t base, uint64_t size)
{
	uint64_t a = rd(r, reg, 8) & ((1ULL << 52) - 1) & ~3ULL;

	return a + 4 > base && a < base + size;
}

/* Whether any MSI of the vSMMU (event queue, PRI queue, GERROR) may land in [@base, + @size). */
static bool msis_into(struct run *r, uint64_t base, uint64_t size)
{
	return msi_into(r, VSMMUV3_EVENTQ_IRQ_CFG0, base, size) ||
	       msi_into(r, VSMMUV3_PRIQ_IRQ_CFG0, base, size) ||
	       msi_into(r, VSMMUV3_GERROR_IRQ_CFG0, base, size);
}

/* A queue's base address and log2 size (entries of @esz bytes) from its BASE register. */
static uint64_t q_base(struct run *r, uint32_t reg, uint64_t esz, unsigned int *log2)
{
	uint64_t base = rd(r, reg, 8);

	*log2 = (unsigned int)(base & 0x1f);
	if (*log2 > VSMMUV3_QUEUE_LOG2)
		*log2 = VSMMUV3_QUEUE_LOG2;
	return base & ((1ULL << 52) - 1) & ~0x1fULL & ~((esz << *log2) - 1);
}

/* A record the pump wrote told the guest of @j's request: its STAG or PRGI. */
static void told(struct job *j, uint16_t tag)
{
	if (j->live && j->blocked) {
		j->told = TOLD_TAG;
		j->tag = tag;
	}
}

/*
 * The pump. The records it wrote into the guest's event queue name the
 * guest's StreamIDs (VSID0, VSID1), never the host's, and have a type:
 * checked when the queues' PRODs moved by the count it returned and no MSI
 * of the vSMMU can have landed on them. Its Stall records and PRI records
 * (Last) tell the guest of the requests the jobs wait on.
 */
static void poll_ok(struct run *r)
{
	uint32_t p0 = (uint32_t)rd(r, VSMMUV3_PAGE1 + VSMMUV3_EVENTQ_PROD, 4), p1;
	uint32_t q0 = (uint32_t)rd(r, VSMMUV3_PAGE1 + VSMMUV3_PRIQ_PROD, 4), q1;
	unsigned int log2, plog2;
	uint64_t base = q_base(r, VSMMUV3_EVENTQ_BASE, 32, &log2);
	uint64_t pbase = q_base(r, VSMMUV3_PRIQ_BASE, 16, &plog2);
	int rc = vsmmuv3_poll_events(r->vs);
	uint32_t m = (2u << log2) - 1, pm = (2u << plog2) - 1, ne, np;
	uint64_t g0 = 0, g1 = 0; /* the previous PRI record of the group being read */
	bool seen = true;

	if (rc < 0 && !inj_fired(rc))
		FAIL("op %u: vsmmuv3_poll_events: %d", r->op, rc);
	p1 = (uint32_t)rd(r, VSMMUV3_PAGE1 + VSMMUV3_EVENTQ_PROD, 4);
	q1 = (uint32_t)rd(r, VSMMUV3_PAGE1 + VSMMUV3_PRIQ_PROD, 4);
	ne = (p1 - p0) & m;
	np = (q1 - q0) & pm;
	/* A poll the host failed (config bit 3) wrote what it wrote: those records are checked. */
	if (rc < 0)
		rc = (int)(ne + np);
	if (H.trace && rc)
		fprintf(stderr,
			"# op %u: poll: %u event records, %u PRI records (PRIQ_PROD 0x%x)\n", r->op,
			ne, np, q1);
	if (!rc)
		return;
	if (ne + np != (uint32_t)rc)
		seen = false;
	else if (ne &&
		 (!guest_mem_ptr(&H.gm, base, 32ULL << log2) || msis_into(r, base, 32ULL << log2)))
		seen = false;
	else if (np && (!guest_mem_ptr(&H.gm, pbase, 16ULL << plog2) ||
			msis_into(r, pbase, 16ULL << plog2)))
		seen = false;
	if (!seen) {
		for (unsigned int k = 0; k < 2; k++)
			if (jobs[k].live && jobs[k].blocked && jobs[k].told == TOLD_NONE)
				jobs[k].told = TOLD_ANY;
		return;
	}
	for (uint32_t i = p0; ((p1 - i) & m) != 0; i++) {
		uint64_t w0 = ram_get(base + 32ULL * (i & ((1u << log2) - 1)));
		uint64_t w1 = ram_get(base + 32ULL * (i & ((1u << log2) - 1)) + 8);
		uint32_t sid = (uint32_t)(w0 >> 32);

		if ((sid != VSID0 && sid != VSID1) || !(w0 & 0xff))
			FAIL("op %u: event record 0x%llx at index 0x%x: type 0x%x, StreamID 0x%x",
			     r->op, (unsigned long long)w0, i & m, (unsigned int)(w0 & 0xff), sid);
		if ((w1 >> 31) & 1) /* Stall */
			told(&jobs[sid == VSID1], (uint16_t)w1);
	}
	for (uint32_t i = q0, in_group = 0; ((q1 - i) & pm) != 0; i++) {
		uint64_t w0 = ram_get(pbase + 16ULL * (i & ((1u << plog2) - 1)));
		uint64_t w1 = ram_get(pbase + 16ULL * (i & ((1u << plog2) - 1)) + 8);

		if ((uint32_t)w0 != VSID0 && (uint32_t)w0 != VSID1)
			FAIL("op %u: PRI record 0x%llx at index 0x%x: StreamID 0x%x", r->op,
			     (unsigned long long)w0, i & pm, (uint32_t)w0);
		/*
		 * A group's records: one SID, SSV / SSID, access kind and PRG
		 * index, pages rising, at most the allocation of them.
		 */
		if (in_group &&
		    (((w0 ^ g0) & ~(1ULL << 62)) || ((w1 ^ g1) & 0x1ff) ||
		     (w1 & ~0xfffULL) <= (g1 & ~0xfffULL) || in_group >= SMMUV3_PRI_ALLOC_DEFAULT))
			FAIL("op %u: PRI record %u of a group (0x%llx 0x%llx) after 0x%llx 0x%llx: "
			     "another group before the Last one",
			     r->op, in_group, (unsigned long long)w0, (unsigned long long)w1,
			     (unsigned long long)g0, (unsigned long long)g1);
		g0 = w0;
		g1 = w1;
		in_group++;
		if ((w0 >> 62) & 1) { /* Last */
			told(&jobs[(uint32_t)w0 == VSID1], (uint16_t)(w1 & 0x1ff));
			in_group = 0;
		}
	}
}

/*
 * The answers to stalls and page requests (IHI 0070 §4.7 and §8; hw.md §1.10
 * lists the three commands): CMD_RESUME answers the one stalled transaction (SID, STAG) it names,
 * CMD_STALL_TERM every stalled transaction of the SID, and CMD_PRI_RESP the
 * page request group (SID, PRGI); a RESUME or PRI_RESP naming nothing
 * outstanding (an answer given twice included) is ignored. So after a record
 * that consumed commands, a job that moved must have been named by one of
 * them, as the guest was told of it (its Stall or PRI record), or the
 * record reconfigured streams (a CFGI: a new HWPT, whose old faults iommufd
 * answers); and a job named by a RESUME / STALL_TERM / PRI_RESP the queue
 * consumed without error must have moved. Records that touch other
 * registers (CR0, GBPA, the stream table: the endpoint may leave its HWPT)
 * and polls (the pump answers what it cannot report) may move any job.
 */
static void jobs_check(struct run *r, bool any, const struct cmdq_snap *b)
{
	bool was[2], moved[2], may[2] = {false, false}, must[2] = {false, false};
	enum told t[2];
	uint16_t tag[2];
	struct cmdq_snap a;
	unsigned int log2;
	uint64_t base;
	uint32_t m, n;

	for (unsigned int k = 0; k < 2; k++) {
		was[k] = jobs[k].live && jobs[k].blocked;
		t[k] = jobs[k].told;
		tag[k] = jobs[k].tag;
		moved[k] = job_settle(r, &jobs[k]);
	}
	if (any || (!(was[0] && moved[0]) && !(was[1] && moved[1]) && t[0] != TOLD_TAG &&
		    t[1] != TOLD_TAG))
		return;
	cmdq_snap(r, &a);
	base = q_base(r, VSMMUV3_CMDQ_BASE, 16, &log2);
	m = (2u << a.log2) - 1;
	n = (a.cons - b->cons) & m;
	if (a.log2 != b->log2 || log2 != a.log2 || !guest_mem_ptr(&H.gm, base, 16ULL << log2))
		return;
	/* The command CONS stopped at (with CMDQ_ERR) may have acted in part: it may answer. */
	for (uint32_t i = 0; i <= n && i < (1u << log2); i++) {
		uint32_t idx = (b->cons + i) & ((1u << log2) - 1);
		uint64_t w0 = ram_get(base + 16ULL * idx), w1 = ram_get(base + 16ULL * idx + 8);
		uint32_t sid = (uint32_t)(w0 >> 32);
		bool done = i < n; /* consumed, not the one CONS stopped at */

		if (i == n && !(a.gerr & VSMMUV3_GERROR_CMDQ))
			break;
		switch (w0 & 0xff) {
		case GUEST_CMD_CFGI_STE:
		case GUEST_CMD_CFGI_STE_RANGE:
		case GUEST_CMD_CFGI_CD:
		case GUEST_CMD_CFGI_CD_ALL:
			may[0] = may[1] = true;
			break;
		case GUEST_CMD_RESUME:
			if (sid == VSID1 &&
			    (t[1] == TOLD_ANY || (t[1] == TOLD_TAG && (uint16_t)w1 == tag[1]))) {
				may[1] = true;
				must[1] |= done && t[1] == TOLD_TAG && ((w0 >> 12) & 3) != 3;
			}
			break;
		case GUEST_CMD_STALL_TERM:
			if (sid == VSID1 && t[1] != TOLD_NONE) {
				may[1] = true;
				must[1] |= done && t[1] == TOLD_TAG;
			}
			break;
		case GUEST_CMD_PRI_RESP:
			if (sid == VSID0 &&
			    (t[0] == TOLD_ANY || (t[0] == TOLD_TAG && (w1 & 0x1ff) == tag[0]))) {
				may[0] = true;
				must[0] |= done && t[0] == TOLD_TAG && ((w1 >> 12) & 3) != 3;
			}
			break;
		}
	}
	for (unsigned int k = 0; k < 2; k++) {
		if (!was[k])
			continue;
		if (moved[k] && !may[k])
			FAIL("op %u: function %u's DMA (0x%llx) was answered, but nothing the "
			     "guest did "
			     "answered it (told %d, tag 0x%x; CMDQ_CONS 0x%x -> 0x%x)",
			     r->op, k, (unsigned long long)jobs[k].iova, t[k], tag[k], b->cons,
			     a.cons);
		if (!moved[k] && must[k])
			FAIL("op %u: function %u's DMA (0x%llx) still waits after the guest "
			     "answered "
			     "tag 0x%x (CMDQ_CONS 0x%x -> 0x%x)",
			     r->op, k, (unsigned long long)jobs[k].iova, tag[k], b->cons, a.cons);
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
	struct guest_cmd atc = {.op = GUEST_CMD_ATC_INV, .sid = VSID0, .size = 52};
	struct guest_cmd sync = {.op = GUEST_CMD_SYNC};
	unsigned int nc = 0;
	uint32_t cons;
	uint64_t got;

	r->op = MAX_OPS + 1;
	wr(r, VSMMUV3_CR0, 4, 0);
	if (rd(r, VSMMUV3_CR0ACK, 4) != 0)
		FAIL("reset: CR0ACK 0x%llx after CR0 = 0",
		     (unsigned long long)rd(r, VSMMUV3_CR0ACK, 4));
	/*
	 * SMMUEN = 0 takes every endpoint off the HWPT its faults came through,
	 * and iommufd answers (INVALID) what that attachment left unanswered
	 * (iommufd.md §4.6): no DMA still waits, and the host fault queue holds
	 * nothing for the vSMMU to read.
	 */
	for (unsigned int k = 0; k < 2; k++) {
		job_settle(r, &jobs[k]);
		if (jobs[k].live)
			FAIL("reset: function %u's DMA at 0x%llx still waits after SMMUEN = 0", k,
			     (unsigned long long)jobs[k].iova);
	}
	if (vsmmuv3_fault_fd(r->vs) >= 0) {
		struct pollfd pfd = {.fd = vsmmuv3_fault_fd(r->vs), .events = POLLIN};

		if (poll(&pfd, 1, 0) != 0)
			FAIL("reset: the host fault queue still holds page requests (revents 0x%x)",
			     pfd.revents);
	}
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
	cmd_at(nc++, &all);
	cmd_at(nc++, &tlbi);
	/* VSID0's function has an ATC on a recoverable input: a driver empties it too. */
	if (recoverable)
		cmd_at(nc++, &atc);
	cmd_at(nc++, &sync);
	wr(r, VSMMUV3_CMDQ_PROD, 4, nc);
	cons = (uint32_t)rd(r, VSMMUV3_CMDQ_CONS, 4);
	if ((cons & 0xfffff) != nc || (rd(r, VSMMUV3_GERROR, 4) ^ rd(r, VSMMUV3_GERRORN, 4)))
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
				      .dev_id = H.dev_id[D],
				      .pt_id = H.ioas};
	struct vsmmuv3_endpoint eps[2] = {
		{.vsid = VSID0, .dev_id = H.dev_id[D], .cdev = H.cdev[D], .pri = recoverable},
		{.vsid = VSID1,
		 .dev_id = H.dev_id[D + 1],
		 .cdev = H.cdev[D + 1],
		 .can_stall = recoverable},
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
	ids_free(H.free_id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	struct run r = {0};
	uint8_t cfg;

	if (!H.up)
		host_up();
	cfg = get8(&in);
	inj = (typeof(inj)){.on = cfg & 8};
	if (inj.on) {
		inj.step = get8(&in);
		inj.n = 1 + get8(&in);
	}
	recoverable = cfg & 2;
	D = recoverable ? 2 : 0;
	memset(H.gm.region[0].host, 0, RAM_SIZE);
	guest_structs();
	memset(jobs, 0, sizeof(jobs));
	vsmmu_up(&r, cfg & 1);
	for (r.op = 0; r.op < MAX_OPS && in.n; r.op++) {
		uint8_t op = get8(&in);
		bool valid = op & 8, moved = false, evtq_regs = false, answers = false;
		struct cmdq_snap before;

		cmdq_snap(&r, &before);
		if (inj.on && r.op == inj.step) {
			inj.armed = t_armed = true;
			inj.job_n = inj.n;
			ualloc_fail_nth(inj.n);
		}
		switch (op & 7) {
		case 0:
		case 1:
			op_mmio_write(&r, &in, valid, &moved, &evtq_regs, &answers);
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
			op_dma(&r, &in);
			break;
		case 6:
			poll_ok(&r);
			answers = true;
			break;
		default:
			wr(&r, VSMMUV3_GERRORN, 4, rd(&r, VSMMUV3_GERROR, 4));
			wr(&r, VSMMUV3_CMDQ_PROD, 4, rd(&r, VSMMUV3_CMDQ_PROD, 4));
			break;
		}
		if (inj.armed) {
			if (H.trace)
				fprintf(stderr,
					"# op %u ran with fail-nth %lu: %s, vSMMU returned %d\n",
					r.op, inj.n,
					ualloc_fail_nth_pending() ? "not reached" : "fired",
					inj.err);
			ualloc_fail_nth(0);
			inj.armed = t_armed = false;
			inj.job_n = 0;
		}
		if (recoverable)
			jobs_check(&r, answers, &before);
		cmdq_check(&r, &before, moved, evtq_regs);
	}
	poll_ok(&r);
	if (recoverable)
		jobs_check(&r, true, NULL);
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
	if (!(recoverable && (cfg & 4)))
		good_reset(&r);
	/*
	 * Destroying the vSMMU detaches its endpoints and closes its fault
	 * queue: iommufd answers every request left (iommufd.md §4.6), so no
	 * DMA outlives it (without the reset: config bit 2 on a recoverable
	 * input).
	 */
	vsmmu_down(&r);
	for (unsigned int k = 0; k < 2; k++) {
		job_settle(&r, &jobs[k]);
		if (jobs[k].live)
			FAIL("function %u's DMA at 0x%llx outlived the vSMMU", k,
			     (unsigned long long)jobs[k].iova);
	}
	return 0;
}
