/* SPDX-License-Identifier: MIT */
/*
 * The machine of a run scenario: one SMMUv3 (the hardware model and its
 * host driver), the platform's MSI doorbell, and dmatest PCI functions
 * behind the SMMU, each bound to the run's iommufd.
 *
 * This is the one place where `uiommu run` builds hardware with internal
 * APIs (smmuv3_iommu_new(), smmuv3_iommu_dev_create(), dmatest_create(),
 * iommufd_device_bind() and attach): everything after it is the public
 * iommufd API. On the topology loader of `uiommu exec --config`
 * (lib/vmm/machine.h), which registers devices with VFIO, this module
 * becomes a topology plus VFIO_DEVICE_BIND_IOMMUFD / ATTACH_IOMMUFD_PT on
 * the device cdevs, and the rest of the runner does not change (see
 * doc/design.md for the two things that machine must offer first).
 */
#ifndef UIOMMU_TOOLS_RUN_MACHINE_H
#define UIOMMU_TOOLS_RUN_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/smmuv3/smmuv3_iommu.h"
#include "run_scenario.h"

struct uiommu_file;
struct dmatest;
struct msi_doorbell;
struct run_machine;

/*
 * Build @desc's hardware and bind every device to the iommufd @iommufd
 * (device IDs in order). @evt_log receives the driver's event records
 * (struct smmuv3_iommu_params.evt_log). 0, or a negative errno with a
 * message in @err.
 */
int run_machine_build(const struct run_machine_desc *desc, struct uiommu_file *iommufd,
		      void (*evt_log)(void *, const uint64_t[4], enum smmuv3_evt_route),
		      void *opaque, struct run_machine **out, char *err, size_t errlen);
/*
 * Unplug the devices: detach (blocking a device terminates its stalled
 * transactions), unbind, destroy. @before_unbind (optional) runs after
 * every device is blocked and before any is destroyed: the caller joins
 * its DMA threads there. The SMMU stays: its domains live as long as the
 * iommufd's HWPTs, so close the iommufd before run_machine_free().
 */
void run_machine_unplug(struct run_machine *m, void (*before_unbind)(void *), void *arg);
/* Unplug what is left, then free the SMMU instance and the doorbell. */
void run_machine_free(struct run_machine *m);

/* The device's iommufd ID (from the bind), its function, its stream ID. */
uint32_t run_machine_dev_id(const struct run_machine *m, unsigned int dev);
struct dmatest *run_machine_dmatest(const struct run_machine *m, unsigned int dev);
/* Attach (or replace, when attached) the device's RID to @pt_id; *pt_id: the HWPT. -errno. */
int run_machine_attach(struct run_machine *m, unsigned int dev, uint32_t *pt_id);

struct smmuv3_iommu *run_machine_smmu(const struct run_machine *m);
struct msi_doorbell *run_machine_doorbell(const struct run_machine *m);
/* The STE the driver wrote for the device (CPU order). */
int run_machine_read_ste(const struct run_machine *m, unsigned int dev, uint64_t ste[8]);
/* MSI-X messages of device @dev the IOMMU refused (so no interrupt). */
uint64_t run_machine_msis_lost(const struct run_machine *m, unsigned int dev);
/* machine.iommu.api "vfio": device @dev's PCI name (its group is @dev + 1). */
void run_machine_vfio_name(unsigned int dev, char *buf, size_t len);

#endif
