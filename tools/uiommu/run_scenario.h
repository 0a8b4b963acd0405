/* SPDX-License-Identifier: MIT */
/*
 * Run scenarios (`uiommu run`, doc/scenario.md "Run scenarios"): a machine
 * (an SMMUv3, guest RAM, dmatest devices with their stream IDs) and a
 * script of steps, each an action of the guest or of the VMM, or an
 * expectation about what the devices and the IOMMU did.
 *
 * run_scenario_load() reads and checks a file completely before anything
 * runs: every malformed field, unknown name, range outside guest RAM or
 * step that cannot make sense where it stands (a DMA on a device that is
 * still busy, a CD index beyond the device's CD table, ...) is one line
 * "FILE:LINE:COL: PATH: message". What only running can tell (an ioctl's
 * errno, the bytes a DMA moved, the events it raised) is the runner's
 * (run_exec.c).
 */
#ifndef UIOMMU_TOOLS_RUN_SCENARIO_H
#define UIOMMU_TOOLS_RUN_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/guest_smmuv3.h"

#define RUN_MAX_DEVICES	 8
#define RUN_MAX_TABLES	 8
#define RUN_MAX_RAM	 8
#define RUN_MAX_CMDS	 64
#define RUN_MAX_STATS	 16
#define RUN_NAME_MAX	 32
#define RUN_PATH_MAX	 48
#define RUN_MSI_EVENTS	 64	 /* event IDs of the machine's interrupt controller */
#define RUN_CD_MAX_LOG2	 8	 /* CD table entries: 2^min(pasid_bits, 8) */
#define RUN_DEV_BUF_SIZE 0x8000u /* dmatest's internal buffer */
#define RUN_DATA_MAX	 (16u << 20)
#define RUN_MSI_IPA_NAME "msi"
/* api "vfio": the guest's doorbell (its vITS) IPA, which SET_MSI_BINDING binds. */
#define RUN_VFIO_MSI_GPA 0x9000000ULL

struct run_device {
	char name[RUN_NAME_MAX];
	char path[RUN_PATH_MAX];
	uint32_t sid, vsid;
	unsigned int pasid_bits;
	bool stall; /* the device tolerates stalled transactions */
};

/* A guest stage-1 address space. */
struct run_table {
	char name[RUN_NAME_MAX];
	unsigned int granule_shift, ias, oas;
};

struct run_machine_desc {
	bool viommu;	       /* a vSMMU for the guest (nesting), else stage 2 only */
	bool vsmmu;	       /* the guest drives a vSMMUv3 (run_vsmmu.c) */
	bool vfio;	       /* api "vfio": the VMM nests through VFIO's extension, not iommufd */
	bool stall, httu;      /* SMMU features */
	unsigned int ssidsize; /* IDR1.SSIDSIZE */
	unsigned int iotlb, walk, ipa, cfg; /* cache entries (0: that cache off) */
	unsigned int nr_ram;
	struct {
		uint64_t gpa, size;
	} ram[RUN_MAX_RAM];
	uint64_t pool_gpa, pool_size; /* the guest's allocator for its IOMMU structures */
	unsigned int nr_tables;
	struct run_table tables[RUN_MAX_TABLES];
	unsigned int nr_devices;
	struct run_device devices[RUN_MAX_DEVICES];
};

enum run_step_kind {
	RS_MAP,
	RS_UNMAP,
	RS_WRITE,
	RS_CHECK,
	RS_GUEST_MAP,
	RS_GUEST_UNMAP,
	RS_CD,
	RS_STE,
	RS_INVALIDATE,
	RS_DMA,
	RS_DMA_WAIT,
	RS_EXPECT_EVENT,
	RS_EXPECT_PAGE_REQUEST,
	RS_PAGE_RESPONSE,
	RS_MSI,
	RS_EXPECT_IRQ,
	RS_STATS,
	RS_EXPECT_FAULT,
	RS_NR
};

const char *run_step_name(enum run_step_kind k);

/* Bytes: written by the guest CPU or a device, or expected in memory. */
enum run_data_kind { RD_RANDOM, RD_BYTE, RD_TEXT, RD_HEX, RD_GPA };

struct run_data {
	enum run_data_kind kind;
	uint64_t value; /* RD_RANDOM: the seed; RD_BYTE: the byte; RD_GPA: the address */
	uint8_t *bytes; /* RD_TEXT, RD_HEX */
	size_t nbytes;
};

/*
 * @len bytes of @d into @out (RD_GPA is the caller's: it reads guest
 * RAM). RD_RANDOM is the splitmix64 sequence from the seed, each number
 * giving 8 bytes little-endian.
 */
void run_data_fill(const struct run_data *d, uint8_t *out, size_t len);
/* "random 7", "byte 0x5a", "text \"...\"", "hex", "GPA 0x..." */
void run_data_describe(const struct run_data *d, char *buf, size_t len);

enum run_dma_op { RUN_DMA_READ = 1, RUN_DMA_WRITE, RUN_DMA_COPY, RUN_DMA_FILL };

/* What a DMA must end with. */
struct run_expect_dma {
	enum { RX_DONE, RX_FAULT, RX_ERROR } status;
	int fault; /* RX_FAULT: SMMU event type, 0 for an abort without event; -1 any */
	bool has_addr, has_done;
	uint64_t addr, done;
	int access;	    /* -1, PT_PROT_R, PT_PROT_W */
	unsigned int error; /* RX_ERROR: a DMATEST_ERR_* code */
};

enum run_queue { RQ_VEVENTQ, RQ_HOST };

struct run_expect_event {
	enum run_queue queue;
	bool none; /* nothing (more) is in the queue */
	int type;  /* event type, -1: any */
	bool has_sid, has_addr, has_ipa, has_fetch, has_ssid;
	uint32_t sid, ssid;
	uint64_t addr, ipa, fetch;
	int stage;  /* 0 any, 1, 2 */
	int cls;    /* -1 any, enum smmuv3_evt_class */
	int access; /* -1, PT_PROT_R, PT_PROT_W */
	int stall;  /* -1, 0, 1 */
};

/* A record of a device's DMA FAULT ring (api "vfio"; struct iommu_fault). */
struct run_expect_fault {
	bool none;  /* nothing (more) is in the device's ring */
	int reason; /* enum iommu_fault_reason, -1: any */
	bool has_addr, has_pasid;
	uint64_t addr;
	uint32_t pasid;
	int access; /* -1, PT_PROT_R, PT_PROT_W */
};

struct run_cmd {
	struct guest_cmd c;
	bool raw;
	uint64_t words[2]; /* raw */
};

struct run_stat_expect {
	unsigned int id; /* index in the runner's statistics table */
	uint64_t value;
};

struct run_step {
	enum run_step_kind kind;
	char path[RUN_PATH_MAX]; /* "steps[3]" */
	int line;
	char *note;

	int dev;   /* device index, -1: none */
	int table; /* guest stage-1 index */
	uint64_t gpa, iova, size, len, src, dst, addr, pattern, offset;
	bool all;	 /* map: all guest RAM */
	bool gpa_is_msi; /* guest_map: the MSI doorbell's IPA */
	bool on_device;	 /* write / check: the device's buffer, not guest RAM */
	unsigned int prot;
	struct run_data data;
	int expect_errno; /* actions that may fail: the errno expected, 0 success */

	/* cd */
	uint32_t ssid;
	uint16_t asid;
	bool cd_stall, epd0, cd_valid, record;
	int ttb1_table;	  /* the guest stage-1 index serving TTB1's range, -1: EPD1 */
	unsigned int tbi; /* CD.TBI */
	/* ste */
	struct guest_ste ste;
	bool ste_raw;
	uint64_t ste_words[2];
	/* invalidate */
	unsigned int nr_cmds;
	struct run_cmd *cmds;
	int expect_handled; /* -1: all */
	/* dma, dma_wait */
	enum run_dma_op op;
	bool has_pasid, wait;
	uint32_t pasid;
	struct run_expect_dma xdma;
	/* expect_event, expect_page_request */
	struct run_expect_event xev;
	/* expect_fault */
	struct run_expect_fault xf;
	/* page_response */
	unsigned int code; /* IOMMUFD_PAGE_RESP_* */
	/* msi, expect_irq */
	unsigned int vector, event;
	bool no_bind; /* msi, api "vfio": no SET_MSI_BINDING ("bind": false) */
	uint64_t count;
	/* stats */
	unsigned int nr_stats;
	struct run_stat_expect stats[RUN_MAX_STATS];
};

struct run_sc {
	char *file;
	char *description;
	struct run_machine_desc m;
	unsigned int nr_steps;
	struct run_step *steps;
};

/* The names the stats step accepts, and how many; the runner fills values in this order. */
extern const char *const run_stat_names[];
unsigned int run_stat_count(void);

/*
 * Load and check @file. 0 with *out, or a negative errno with one line in
 * @err ("FILE:LINE:COL: PATH: message", or "FILE: reason").
 */
int run_scenario_load(const char *file, struct run_sc **out, char *err, size_t errlen);
void run_scenario_free(struct run_sc *sc);

#endif
