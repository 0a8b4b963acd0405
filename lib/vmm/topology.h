/* SPDX-License-Identifier: MIT */
/*
 * lib/vmm/topology.h - the machine a program under uiommu sees: which
 * IOMMU instances exist (model and options), which devices sit behind
 * them (type, PCI name, stream ID, PASID width) and in which VFIO groups.
 *
 * A topology is a checked description, nothing more: machine.h builds it.
 * It comes from a JSON file (`uiommu exec --config FILE`, the library's
 * UIOMMU_CONFIG) or is the default one. doc/topology.md is the schema;
 * every malformed field of a file is reported as
 *
 *	FILE:LINE:COL: PATH: what was expected, got what
 *
 * (PATH like "devices[1].group"), and nothing is built from a file that
 * has one. The default topology: one SMMUv3 "smmu0" (both stages, the
 * driver's defaults: HTTU, stall, default caches) with two dmatest
 * functions, 0000:00:01.0 (SID 0x8, group 1) and 0000:00:02.0 (SID 0x10,
 * group 2), PASID width 20 each.
 *
 * Errors: 0 or a negative errno; the message buffers take the one-line
 * diagnosis.
 */
#ifndef UIOMMU_VMM_TOPOLOGY_H
#define UIOMMU_VMM_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "xlate/cache.h"

#define TOPO_NAME_MAX	  32 /* IOMMU and device names, with the NUL */
#define TOPO_GROUP_MAX	  0x7fffffffu
#define TOPO_SID_BITS_MAX 16 /* the SMMUv3 driver's linear stream table */

enum topo_iommu_model {
	TOPO_IOMMU_SMMUV3,
	TOPO_IOMMU_MOCK,
	TOPO_IOMMU_SPAPR, /* a PowerNV PHB (lib/hw/spapr): TCE windows, EEH; a group is a PE */
	TOPO_IOMMU_VTD, /* Intel VT-d scalable mode (lib/hw/vtd); options: cache */
};

struct topo_iommu {
	char name[TOPO_NAME_MAX];
	enum topo_iommu_model model;
	/* SMMUv3 only: the stages implemented (nesting needs both). */
	bool s1, s2;
	bool httu, stall;
	bool stall_force; /* "stall": "forced": IDR0.STALL_MODEL 0b10 (with stall) */
	bool ats, prs; /* VT-d only: ECAP.DT (device TLBs) and ECAP.PRS (page requests) */
	unsigned int sidsize, ssidsize;
	bool no_cache;			 /* no translation caches at all (SMMUv3, VT-d) */
	struct xlate_cache_params cache; /* when caches are on */
};

enum topo_dev_type {
	TOPO_DEV_DMATEST,
};

struct topo_device {
	enum topo_dev_type type;
	char name[TOPO_NAME_MAX]; /* the PCI name, "0000:00:01.0": GET_DEVICE_FD's */
	unsigned int iommu;	  /* index into topology.iommus */
	uint32_t sid;		  /* SMMUv3 stream ID; VT-d and sPAPR requester ID; 0 behind the mock */
	unsigned int pasid_width; /* 0: no PASID capability */
	unsigned int group;	  /* VFIO group: /dev/vfio/<group> */
	bool can_stall;		  /* SMMUv3: the device tolerates stalled transactions */
	bool ats, pri;		  /* SMMUv3, VT-d: PCIe ATS (an ATC), and PRI on top of it */
};

struct topology {
	char *source; /* the file it came from, or "(default)" */
	char *description;
	unsigned int nr_iommus, nr_devices;
	struct topo_iommu *iommus;
	struct topo_device *devices;
};

/*
 * Parse and check @len bytes of JSON @text, read from @file (for the
 * messages). 0 and *out; -EINVAL with the message in @err; -ENOMEM.
 */
int topology_parse(const char *text, size_t len, const char *file, struct topology **out, char *err,
		   size_t errlen);
/*
 * Read @file and parse it. A file that cannot be read is -EINVAL too (the
 * message says why: "FILE: No such file or directory").
 */
int topology_load(const char *file, struct topology **out, char *err, size_t errlen);
/* The default topology (above). 0 or -ENOMEM. */
int topology_default(struct topology **out);
/* A copy of @t that owns its own memory. 0 or -ENOMEM. */
int topology_copy(const struct topology *t, struct topology **out);
void topology_free(struct topology *t);

/* "0000:00:01.0" -> its requester ID (bus << 8 | device << 3 | function); false if malformed. */
bool topology_pci_name_rid(const char *name, uint32_t *rid);

/*
 * Print @t as a topology file with every default written out (JSON that
 * topology_parse() reads back to the same topology), or as a summary for
 * people: instances, then groups with their paths and devices. The cdev
 * numbers of the summary are the ones a process that registers nothing
 * else gets (devices in file order). 0 or -errno (-EIO: the stream failed).
 */
int topology_print_json(const struct topology *t, FILE *f);
int topology_print_text(const struct topology *t, FILE *f);

#endif
