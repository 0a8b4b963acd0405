/* SPDX-License-Identifier: MIT */
/*
 * lib/vmm/machine.h - a topology made real: IOMMU instances, devices
 * behind them, and every device registered with VFIO.
 *
 * machine_create() instantiates a struct topology (topology.h): per SMMUv3
 * instance an MSI doorbell (lib/dev/msi_doorbell.h, the platform's
 * interrupt controller) and the SMMUv3 model with its host driver
 * (smmuv3_iommu_new(), the doorbell as its MSI page); the mock is the
 * process's one instance; per device its struct udev (the SMMUv3 driver's
 * device with the stream ID and PASID width, or a mock device) and a
 * dmatest function registered with VFIO under its PCI name in its group
 * (dmatest_vfio.h), in file order, so cdev numbers follow that order.
 *
 * The process's machine: the library builds one lazily, the first time a
 * program opens a path under /dev/vfio (uiommu_open(), so also through the
 * preload shim), from the file named by UIOMMU_CONFIG, or the default
 * topology when that is unset or empty. If VFIO has devices already when
 * that first open comes (a test or an embedder registered its own), the
 * program owns the topology and nothing is built. A file that does not
 * load, or a machine that cannot be built, makes that open (and every
 * later one under /dev/vfio) fail with EINVAL, after one message on the
 * library's log (stderr by default): "uiommu: error: FILE:LINE:COL: PATH:
 * ..."; ENOMEM fails only that open (the next one tries again).
 *
 * Threads: machine_create / machine_destroy of one machine are not
 * concurrent with each other; vmm_machine_ensure() may be called from any
 * thread.
 */
#ifndef UIOMMU_VMM_MACHINE_H
#define UIOMMU_VMM_MACHINE_H

#include <stddef.h>

#include "vmm/topology.h"

struct machine;
struct dmatest_vfio;
struct msi_doorbell;
struct smmuv3_iommu;

/*
 * Build @t. 0 and *out; or -errno with nothing left behind and a message
 * in @err: -ENOMEM, -EEXIST (a device name VFIO has already), -EINVAL
 * (what VFIO or a model refused, e.g. a group that has devices behind
 * another IOMMU instance already).
 */
int machine_create(const struct topology *t, struct machine **out, char *err, size_t errlen);
/*
 * Unregister every device and free everything. -EBUSY while any device is
 * open through VFIO (nothing changes then).
 */
int machine_destroy(struct machine *m);

const struct topology *machine_topology(const struct machine *m);
/* By name (NULL: no such device / instance, or not an SMMUv3). */
struct dmatest_vfio *machine_dmatest(struct machine *m, const char *pci_name);
struct smmuv3_iommu *machine_smmu(struct machine *m, const char *iommu_name);
struct msi_doorbell *machine_doorbell(struct machine *m, const char *iommu_name);

/*
 * The process's machine, built on first use as described above. 0 (built
 * now or before, or the program owns the topology), -EINVAL (the
 * configuration failed, now or before), -ENOMEM.
 */
int vmm_machine_ensure(void);
/* The process's machine, NULL when none was built. */
struct machine *vmm_machine(void);

#endif
