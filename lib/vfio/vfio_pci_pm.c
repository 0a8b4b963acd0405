// SPDX-License-Identifier: MIT
/*
 * vfio_pci_pm.c - runtime power management of a vfio-pci device, driven by
 * the user: VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY (3), _ENTRY_WITH_WAKEUP (4)
 * and _EXIT (5), as Linux 6.12's vfio_pci_core.c has them (with runtime PM
 * allowed, i.e. not disable_idle_d3).
 *
 * What it owns: the device's power state (core->pm_runtime_engaged, the
 * wake-up eventfd core->pm_wake_fd) and what follows from it.
 *
 *   features  SET only: PROBE answers 0 with SET or alone, EINVAL with GET;
 *             without PROBE, GET or neither is EINVAL (vfio_check_feature).
 *             ENTRY and EXIT take no data (argsz 0 is enough); ENTRY_WITH_
 *             WAKEUP takes struct vfio_device_low_power_entry_with_wakeup
 *             (8 bytes, else EINVAL; unreadable EFAULT), then: wakeup_eventfd
 *             < 0 EINVAL, not open EBADF, not an eventfd EINVAL
 *             (eventfd_ctx_fdget()); `reserved` is not looked at. Then an
 *             entry while engaged is EINVAL (the eventfd is let go). EXIT
 *             is 0 whether engaged or not
 *   entry     engaged, the eventfd (our duplicate, virqfd.c) kept, every
 *             live BAR mapping zapped: a touch raises SIGBUS until low
 *             power ends (Linux's fault handler answers VM_FAULT_SIGBUS
 *             while engaged and never resumes the device); a BAR mmap()
 *             made meanwhile succeeds and is zapped at once. Linux's ioctl
 *             returns with the device's usage count at 0 and it suspends;
 *             here it counts as suspended from that moment on
 *   access    every ioctl of the device fd (but BIND_IOMMUFD, and all of
 *             them before access is granted), and every read / write of a
 *             valid region index with a count > 0, resumes the device
 *             first (vfio_device_pm_runtime_get(), vfio_pci_rw()): with a
 *             wake-up eventfd its count goes up by 1 and low power ends
 *             (vfio_pci_core_runtime_resume()), so the access itself runs
 *             in D0 and the mappings are live again; without one the device
 *             stays engaged (it suspends again after the access). So an
 *             entry of either kind over an entry with wake-up succeeds
 *             (the access woke it), over one without is EINVAL; EXIT after
 *             an entry with wake-up signals too. Not an access: mmap(),
 *             touching a mapping, close(), ioctls of the group or
 *             container, an IOEVENTFD's signal (its write reaches nothing
 *             while engaged: Linux writes to the suspended BAR)
 *   exit      EXIT, the wake-up, the last close: engaged no longer, the
 *             eventfd let go, the mappings live. The last close
 *             (vfio_pci_core_disable()) signals nothing
 *   reset     VFIO_DEVICE_RESET is an access like any ioctl; with no
 *             wake-up eventfd the device stays engaged across it
 *
 * Not modelled: the power state itself. The model's function has no PM
 * capability (lib/dev); a user never reads a suspended function's PMCSR
 * anyway, as a config read resumes it (Linux brings it to D0 for the
 * access). The model keeps running while "suspended" (a DMA in flight
 * completes, its interrupt is delivered) and keeps its state (a D3hot with
 * No_Soft_Reset, not a D3cold that loses it).
 *
 * Locks: core->memory_lock (Linux's memory_lock) guards the power state
 * and the BAR mappings' state; pm_runtime_engaged is an atomic written
 * under it so that an access's check costs no lock while not engaged. The
 * lock is taken inside an sPAPR PE's watch lock (a mapping's EEH swap) and
 * holds util/file's mapping lock (or a forked child's agent lock) and
 * virqfd.c's lock inside.
 */
#include <errno.h>

#include "util/log.h"
#include "util/uaccess.h"
#include "vfio/vfio_private.h"
#include "vfio/virqfd.h"

void vfio_pci_pm_init(struct vfio_device_core *core)
{
	pthread_mutex_init(&core->memory_lock, NULL);
	atomic_init(&core->pm_runtime_engaged, false);
	core->pm_wake_fd = -1;
	INIT_LIST_HEAD(&core->bar_maps);
}

void vfio_pci_pm_free(struct vfio_device_core *core)
{
	pthread_mutex_destroy(&core->memory_lock);
}

bool vfio_pci_pm_engaged(struct vfio_device *vdev)
{
	return atomic_load(&vfio_core(vdev)->pm_runtime_engaged);
}

/* __vfio_pci_runtime_pm_exit(): out of low power, the eventfd let go (memory_lock held). */
static void vfio_pci_runtime_pm_exit_locked(struct vfio_device *vdev)
{
	struct vfio_device_core *core = vfio_core(vdev);

	if (!atomic_load(&core->pm_runtime_engaged))
		return;
	atomic_store(&core->pm_runtime_engaged, false);
	vfio_eventfd_put(&core->pm_wake_fd);
	/* Back to the device's memory: needs no new file, cannot fail here. */
	(void)vfio_pci_bar_maps_update(vdev);
}

static void vfio_pci_runtime_pm_exit(struct vfio_device *vdev)
{
	struct vfio_device_core *core = vfio_core(vdev);

	pthread_mutex_lock(&core->memory_lock);
	vfio_pci_runtime_pm_exit_locked(vdev);
	pthread_mutex_unlock(&core->memory_lock);
}

void vfio_pci_pm_access(struct vfio_device *vdev)
{
	struct vfio_device_core *core = vfio_core(vdev);

	if (!atomic_load(&core->pm_runtime_engaged))
		return;
	/* vfio_pci_core_runtime_resume(): only a wake-up eventfd ends low power. */
	pthread_mutex_lock(&core->memory_lock);
	if (core->pm_wake_fd >= 0) {
		vfio_eventfd_signal(core->pm_wake_fd);
		vfio_pci_runtime_pm_exit_locked(vdev);
	}
	pthread_mutex_unlock(&core->memory_lock);
}

void vfio_pci_pm_close(struct vfio_device *vdev)
{
	vfio_pci_runtime_pm_exit(vdev);
}

/*
 * vfio_pci_runtime_pm_entry(): engaged with @efd (ours from now on when 0
 * is returned, or -1), the BAR mappings zapped. EINVAL when engaged already.
 */
static int vfio_pci_runtime_pm_entry(struct vfio_device *vdev, int efd)
{
	struct vfio_device_core *core = vfio_core(vdev);
	int rc;

	pthread_mutex_lock(&core->memory_lock);
	if (atomic_load(&core->pm_runtime_engaged)) {
		pthread_mutex_unlock(&core->memory_lock);
		return -EINVAL;
	}
	atomic_store(&core->pm_runtime_engaged, true);
	rc = vfio_pci_bar_maps_update(vdev);
	if (rc) {
		/* No file for the zapped pages (EMFILE ...): nothing was zapped. */
		atomic_store(&core->pm_runtime_engaged, false);
	} else {
		core->pm_wake_fd = efd;
	}
	pthread_mutex_unlock(&core->memory_lock);
	return rc;
}

static int vfio_pci_core_pm_entry(struct vfio_device *vdev, uint32_t flags, size_t argsz)
{
	int rc = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET, 0);

	if (rc != 1)
		return rc;
	return vfio_pci_runtime_pm_entry(vdev, -1);
}

static int vfio_pci_core_pm_entry_with_wakeup(struct vfio_device *vdev, uint32_t flags, void *arg,
					      size_t argsz)
{
	struct vfio_device_low_power_entry_with_wakeup entry;
	int rc, efd;

	rc = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET, sizeof(entry));
	if (rc != 1)
		return rc;
	if (copy_from_user(&entry, arg, sizeof(entry)))
		return -EFAULT;
	if (entry.wakeup_eventfd < 0)
		return -EINVAL;
	rc = vfio_eventfd_get(entry.wakeup_eventfd, &efd);
	if (rc)
		return rc;
	rc = vfio_pci_runtime_pm_entry(vdev, efd);
	if (rc)
		vfio_eventfd_put(&efd);
	return rc;
}

static int vfio_pci_core_pm_exit(struct vfio_device *vdev, uint32_t flags, size_t argsz)
{
	int rc = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET, 0);

	if (rc != 1)
		return rc;
	/*
	 * The ioctl's access woke a device with a wake-up eventfd already
	 * (signalled, out of low power); this ends the other kind.
	 */
	vfio_pci_runtime_pm_exit(vdev);
	return 0;
}

int vfio_pci_core_ioctl_feature(struct vfio_device *vdev, uint32_t flags, void *arg, size_t argsz)
{
	switch (flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY:
		return vfio_pci_core_pm_entry(vdev, flags, argsz);
	case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP:
		return vfio_pci_core_pm_entry_with_wakeup(vdev, flags, arg, argsz);
	case VFIO_DEVICE_FEATURE_LOW_POWER_EXIT:
		return vfio_pci_core_pm_exit(vdev, flags, argsz);
	default:
		/* PCI_VF_TOKEN: no SR-IOV, so no VF token (ENOTTY first); the rest unknown. */
		return -ENOTTY;
	}
}
