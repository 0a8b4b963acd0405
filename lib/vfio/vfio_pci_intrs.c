// SPDX-License-Identifier: MIT
/*
 * vfio_pci_intrs.c - VFIO_DEVICE_SET_IRQS and interrupt delivery to the
 * user's eventfds (Linux's vfio_pci_intrs.c and the generic validation of
 * vfio_main.c).
 *
 * What it owns: per device, which of INTx / MSI / MSI-X is enabled and with
 * how many vectors (one at a time, as vfio-pci), the eventfd of each
 * vector, INTx's mask and pending state, and the single eventfd of each
 * other index (ERR, REQ, and the device-specific ones such as the nested
 * extension's DMA fault IRQ). The model raises interrupts with
 * vfio_device_irq(); this file turns them into eventfd signals.
 *
 * SET_IRQS, in Linux's order: argsz >= 20, index < num_irqs, count <
 * U32_MAX - start, no unknown flag (EINVAL); start and start + count
 * within the index's count; exactly one data type whose payload (count x
 * 0 / 1 / 4 bytes) fits in argsz - 20 (EINVAL); then by index and action:
 *
 *   INTx     MASK / UNMASK (start 0, count 1, INTx enabled; NONE, or BOOL
 *            with a non-zero byte; MASK with an eventfd: ENOTTY, as
 *            Linux); UNMASK with an eventfd (an irqfd's resample fd): each
 *            signal of it unmasks as UNMASK does (virqfd.c's watcher), a
 *            pending interrupt then firing the trigger again; errnos
 *            ENOMEM, EBADF, EINVAL, then EBUSY while one is set (unless
 *            the program has closed that one: Linux's hang-up); a negative
 *            fd removes it, and so does disabling INTx; TRIGGER: count 0
 *            with NONE disables; an eventfd (count 1) enables INTx or
 *            replaces its eventfd (-1: none); NONE / BOOL signal it
 *            (loopback)
 *   MSI/MSI-X  TRIGGER only (MASK / UNMASK: ENOTTY): count 0 with NONE
 *            disables; eventfds enable start + count vectors (EINVAL while
 *            the other kind, or INTx, is on) or set a block of them, all
 *            or nothing; NONE / BOOL signal vectors (loopback)
 *   ERR, REQ, device-specific   TRIGGER only (else ENOTTY), start 0 and
 *            count <= 1: eventfd (-1 releases), NONE (count 1 signals,
 *            count 0 releases; EINVAL without an eventfd), BOOL (count 1)
 *
 * Eventfds (virqfd.c): the user's fd must be an eventfd (EBADF when not
 * open, EINVAL otherwise, as eventfd_ctx_fdget() answers); we keep our own
 * duplicate, so the user may close theirs, as the kernel keeps its
 * eventfd_ctx. A signal adds 1 to the counter.
 *
 * INTx is level-like and auto-masked: a raise signals and masks, a raise
 * while masked is remembered (pending) and signalled by the next unmask.
 *
 * Locks: core->igate guards all of it, for SET_IRQS and for
 * vfio_device_irq() of MSI / MSI-X from the model's threads; the model's
 * irq_enable runs under it. What INTx delivery reads (irq_type, ctx and
 * its trigger, the mask and pending bits) is also under core->irqlock, a
 * leaf taken inside igate by SET_IRQS and alone by vfio_device_irq() of
 * INTx and by the unmask eventfd's handler: SET_IRQS ends that virqfd
 * (waiting for a running handler) with igate held, so the handler must
 * not need igate (Linux's handler takes only its irqlock too). The
 * eventfds of the single-vector indexes (ERR, REQ,
 * device-specific) are also under core->single_lock, a leaf taken inside
 * igate by SET_IRQS and alone by vfio_device_irq(): those IRQs are raised
 * from paths that hold the model's own locks (the nested extension's DMA
 * fault IRQ is signalled from the fault report of a DMA still running under
 * its device's lock), which must not wait for igate while SET_IRQS holds it
 * and waits for the model (irq_enable).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/alloc.h"
#include "vfio/vfio_private.h"
#include "vfio/virqfd.h"

/* ------------------------------------------------------------------ */
/* State                                                              */

int vfio_intrs_init(struct vfio_device_core *core, unsigned int num_irqs)
{
	core->irq_type = -1;
	/* One more for the nested extension's DMA fault IRQ (vfio_pci_dma_fault.c). */
	core->nr_single = num_irqs - VFIO_PCI_ERR_IRQ_INDEX + 1;
	core->single = ucalloc(core->nr_single, sizeof(*core->single));
	if (!core->single)
		return -ENOMEM;
	for (unsigned int i = 0; i < core->nr_single; i++)
		core->single[i].trigger = -1;
	pthread_mutex_init(&core->igate, NULL);
	pthread_mutex_init(&core->irqlock, NULL);
	pthread_mutex_init(&core->single_lock, NULL);
	return 0;
}

void vfio_intrs_free(struct vfio_device_core *core)
{
	pthread_mutex_destroy(&core->igate);
	pthread_mutex_destroy(&core->irqlock);
	pthread_mutex_destroy(&core->single_lock);
	ufree(core->single);
	ufree(core->ctx);
}

/* Turn the enabled kind off: eventfds go, the model stops raising. Under igate. */
static void vfio_irq_disable_locked(struct vfio_device *vdev)
{
	struct vfio_device_core *core = vfio_core(vdev);
	int type = core->irq_type;
	struct vfio_irq_ctx *ctx;
	unsigned int n;

	if (type < 0)
		return;
	/* INTx's unmask eventfd first: its handler may be running (it takes irqlock only). */
	vfio_virqfd_disable(&core->intx_unmask);
	pthread_mutex_lock(&core->irqlock);
	ctx = core->ctx;
	n = core->num_ctx;
	core->ctx = NULL;
	core->num_ctx = 0;
	core->irq_type = -1;
	core->intx_masked = core->intx_pending = false;
	pthread_mutex_unlock(&core->irqlock);
	for (unsigned int i = 0; i < n; i++)
		vfio_eventfd_put(&ctx[i].trigger);
	ufree(ctx);
	if (vdev->ops->irq_enable)
		vdev->ops->irq_enable(vdev, (unsigned int)type, 0);
}

/* Turn @index (INTx / MSI / MSI-X) on with @nvec vectors and no eventfd yet. Under igate. */
static int vfio_irq_enable_locked(struct vfio_device *vdev, unsigned int index, unsigned int nvec)
{
	struct vfio_device_core *core = vfio_core(vdev);
	struct vfio_irq_ctx *ctx;
	int rc;

	if (core->irq_type >= 0)
		return -EINVAL;
	ctx = ucalloc(nvec, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	for (unsigned int i = 0; i < nvec; i++)
		ctx[i].trigger = -1;
	if (vdev->ops->irq_enable) {
		rc = vdev->ops->irq_enable(vdev, index, nvec);
		if (rc) {
			ufree(ctx);
			return rc;
		}
	}
	pthread_mutex_lock(&core->irqlock);
	core->ctx = ctx;
	core->num_ctx = nvec;
	core->irq_type = (int)index;
	core->intx_masked = core->intx_pending = false;
	pthread_mutex_unlock(&core->irqlock);
	return 0;
}

void vfio_intrs_teardown(struct vfio_device *vdev)
{
	struct vfio_device_core *core = vfio_core(vdev);

	pthread_mutex_lock(&core->igate);
	vfio_irq_disable_locked(vdev);
	pthread_mutex_lock(&core->single_lock);
	for (unsigned int i = 0; i < core->nr_single; i++)
		vfio_eventfd_put(&core->single[i].trigger);
	pthread_mutex_unlock(&core->single_lock);
	pthread_mutex_unlock(&core->igate);
}

/* ------------------------------------------------------------------ */
/* Delivery                                                           */

/* INTx fires (or a pending one is replayed): signal and auto-mask. Under irqlock. */
static void vfio_intx_fire_locked(struct vfio_device_core *core)
{
	if (core->intx_masked) {
		core->intx_pending = true;
		return;
	}
	core->intx_masked = true;
	core->intx_pending = false;
	vfio_eventfd_signal(core->ctx[0].trigger);
}

void vfio_device_irq(struct vfio_device *vdev, unsigned int index, unsigned int vector)
{
	struct vfio_device_core *core = vfio_core(vdev);

	if (!core)
		return;
	if (index >= VFIO_PCI_ERR_IRQ_INDEX) {
		/* Without igate: see "Locks" above. */
		pthread_mutex_lock(&core->single_lock);
		if (index - VFIO_PCI_ERR_IRQ_INDEX < core->nr_single && !vector)
			vfio_eventfd_signal(core->single[index - VFIO_PCI_ERR_IRQ_INDEX].trigger);
		pthread_mutex_unlock(&core->single_lock);
		return;
	}
	if (index == VFIO_PCI_INTX_IRQ_INDEX) {
		/* Without igate: INTx's state is irqlock's (see "Locks" above). */
		pthread_mutex_lock(&core->irqlock);
		if (core->irq_type == VFIO_PCI_INTX_IRQ_INDEX && !vector)
			vfio_intx_fire_locked(core);
		pthread_mutex_unlock(&core->irqlock);
		return;
	}
	pthread_mutex_lock(&core->igate);
	switch (index) {
	case VFIO_PCI_MSI_IRQ_INDEX:
	case VFIO_PCI_MSIX_IRQ_INDEX:
		if (core->irq_type == (int)index && vector < core->num_ctx)
			vfio_eventfd_signal(core->ctx[vector].trigger);
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&core->igate);
}

/* ------------------------------------------------------------------ */
/* SET_IRQS                                                           */

/* Unmask INTx; a level still asserted fires again at once. Under irqlock. */
static void vfio_intx_unmask_locked(struct vfio_device_core *core)
{
	if (core->irq_type != VFIO_PCI_INTX_IRQ_INDEX || !core->intx_masked)
		return;
	core->intx_masked = false;
	if (core->intx_pending)
		vfio_intx_fire_locked(core);
}

/* The unmask eventfd was signalled (the watcher thread, virqfd.c). */
static void vfio_intx_unmask_handler(void *opaque, void *data)
{
	struct vfio_device_core *core = opaque;

	pthread_mutex_lock(&core->irqlock);
	vfio_intx_unmask_locked(core);
	pthread_mutex_unlock(&core->irqlock);
}

static int vfio_intx_mask(struct vfio_device *vdev, unsigned int start, unsigned int count,
			  uint32_t flags, const uint8_t *data, bool unmask)
{
	struct vfio_device_core *core = vfio_core(vdev);

	if (core->irq_type != VFIO_PCI_INTX_IRQ_INDEX || start || count != 1)
		return -EINVAL;
	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		int32_t ufd;

		if (!unmask)
			return -ENOTTY; /* a mask eventfd is not offered (Linux: same) */
		/* An eventfd whose signals unmask (an irqfd's resample fd); any negative: none. */
		memcpy(&ufd, data, sizeof(ufd));
		if (ufd >= 0)
			return vfio_virqfd_enable(core, vfio_intx_unmask_handler, NULL,
						  &core->intx_unmask, ufd);
		vfio_virqfd_disable(&core->intx_unmask);
		return 0;
	}
	if ((flags & VFIO_IRQ_SET_DATA_BOOL) && !data[0])
		return 0;
	pthread_mutex_lock(&core->irqlock);
	if (!unmask)
		core->intx_masked = true;
	else
		vfio_intx_unmask_locked(core);
	pthread_mutex_unlock(&core->irqlock);
	return 0;
}

static int vfio_intx_trigger(struct vfio_device *vdev, unsigned int start, unsigned int count,
			     uint32_t flags, const uint8_t *data)
{
	struct vfio_device_core *core = vfio_core(vdev);
	bool is_intx = core->irq_type == VFIO_PCI_INTX_IRQ_INDEX;
	int fd = -1, rc;

	if (is_intx && !count && (flags & VFIO_IRQ_SET_DATA_NONE)) {
		vfio_irq_disable_locked(vdev);
		return 0;
	}
	if (!(is_intx || core->irq_type < 0) || start || count != 1)
		return -EINVAL;

	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		int32_t ufd;

		memcpy(&ufd, data, sizeof(ufd));
		if (ufd >= 0) {
			rc = vfio_eventfd_get(ufd, &fd);
			if (rc)
				return rc;
		}
		if (!is_intx) {
			rc = vfio_irq_enable_locked(vdev, VFIO_PCI_INTX_IRQ_INDEX, 1);
			if (rc) {
				vfio_eventfd_put(&fd);
				return rc;
			}
		}
		/* Swapped under irqlock: a signal never lands in a number being closed. */
		pthread_mutex_lock(&core->irqlock);
		ufd = core->ctx[0].trigger;
		core->ctx[0].trigger = fd;
		pthread_mutex_unlock(&core->irqlock);
		vfio_eventfd_put(&ufd);
		return 0;
	}
	if (!is_intx)
		return -EINVAL;
	/* Loopback: signal without touching the mask. */
	if ((flags & VFIO_IRQ_SET_DATA_NONE) || data[0]) {
		pthread_mutex_lock(&core->irqlock);
		vfio_eventfd_signal(core->ctx[0].trigger);
		pthread_mutex_unlock(&core->irqlock);
	}
	return 0;
}

/* Give vectors [start, start + count) the eventfds @fds (-1: none); all or nothing. */
static int vfio_msi_set_block(struct vfio_device_core *core, unsigned int start, unsigned int count,
			      const int32_t *fds)
{
	int *got;
	int rc = 0;

	if (start + count > core->num_ctx)
		return -EINVAL;
	got = ucalloc(count ? count : 1, sizeof(*got));
	if (!got)
		return -ENOMEM;
	for (unsigned int i = 0; i < count; i++) {
		got[i] = -1;
		if (fds[i] >= 0 && !rc)
			rc = vfio_eventfd_get(fds[i], &got[i]);
	}
	if (rc) {
		for (unsigned int i = 0; i < count; i++)
			vfio_eventfd_put(&got[i]);
		ufree(got);
		return rc;
	}
	for (unsigned int i = 0; i < count; i++) {
		vfio_eventfd_put(&core->ctx[start + i].trigger);
		core->ctx[start + i].trigger = got[i];
	}
	ufree(got);
	return 0;
}

static int vfio_msi_trigger(struct vfio_device *vdev, unsigned int index, unsigned int start,
			    unsigned int count, uint32_t flags, const uint8_t *data)
{
	struct vfio_device_core *core = vfio_core(vdev);
	bool on = core->irq_type == (int)index;
	int rc;

	if (on && !count && (flags & VFIO_IRQ_SET_DATA_NONE)) {
		vfio_irq_disable_locked(vdev);
		return 0;
	}
	if (!(on || core->irq_type < 0))
		return -EINVAL;

	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		int32_t *fds = ucalloc(count ? count : 1, sizeof(*fds));

		if (!fds)
			return -ENOMEM;
		memcpy(fds, data, (size_t)count * sizeof(*fds));
		if (on) {
			rc = vfio_msi_set_block(core, start, count, fds);
		} else {
			rc = vfio_irq_enable_locked(vdev, index, start + count);
			if (!rc) {
				rc = vfio_msi_set_block(core, start, count, fds);
				if (rc)
					vfio_irq_disable_locked(vdev);
			}
		}
		ufree(fds);
		return rc;
	}
	if (!on)
		return -EINVAL;
	for (unsigned int i = start; i < start + count && i < core->num_ctx; i++)
		if ((flags & VFIO_IRQ_SET_DATA_NONE) || data[i - start])
			vfio_eventfd_signal(core->ctx[i].trigger);
	return 0;
}

/* ERR, REQ and device-specific indexes: one eventfd each (vfio_pci_set_ctx_trigger_single). */
static int vfio_single_trigger_locked(struct vfio_device *vdev, unsigned int index,
				      unsigned int start, unsigned int count, uint32_t flags,
				      const uint8_t *data)
{
	struct vfio_irq_ctx *ctx = &vfio_core(vdev)->single[index - VFIO_PCI_ERR_IRQ_INDEX];
	int fd = -1, rc;

	if (start || count > 1)
		return -EINVAL;
	if (flags & VFIO_IRQ_SET_DATA_NONE) {
		if (ctx->trigger < 0)
			return -EINVAL;
		if (count)
			vfio_eventfd_signal(ctx->trigger);
		else
			vfio_eventfd_put(&ctx->trigger);
		return 0;
	}
	if (!count)
		return -EINVAL;
	if (flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (data[0])
			vfio_eventfd_signal(ctx->trigger);
		return 0;
	}
	{
		int32_t ufd;

		memcpy(&ufd, data, sizeof(ufd));
		if (ufd == -1) {
			vfio_eventfd_put(&ctx->trigger);
			return 0;
		}
		if (ufd < 0)
			return -EINVAL;
		rc = vfio_eventfd_get(ufd, &fd);
		if (rc)
			return rc;
		vfio_eventfd_put(&ctx->trigger);
		ctx->trigger = fd;
		return 0;
	}
}

/* Under igate; the triggers also under single_lock (vfio_device_irq() takes only that one). */
static int vfio_single_trigger(struct vfio_device *vdev, unsigned int index, unsigned int start,
			       unsigned int count, uint32_t flags, const uint8_t *data)
{
	struct vfio_device_core *core = vfio_core(vdev);
	int rc;

	pthread_mutex_lock(&core->single_lock);
	rc = vfio_single_trigger_locked(vdev, index, start, count, flags, data);
	pthread_mutex_unlock(&core->single_lock);
	return rc;
}

static int vfio_set_irqs_locked(struct vfio_device *vdev, uint32_t flags, unsigned int index,
				unsigned int start, unsigned int count, const uint8_t *data)
{
	uint32_t action = flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;

	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_MASK)
			return vfio_intx_mask(vdev, start, count, flags, data, false);
		if (action == VFIO_IRQ_SET_ACTION_UNMASK)
			return vfio_intx_mask(vdev, start, count, flags, data, true);
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return vfio_intx_trigger(vdev, start, count, flags, data);
		break;
	case VFIO_PCI_MSI_IRQ_INDEX:
	case VFIO_PCI_MSIX_IRQ_INDEX:
		/* Masking MSI vectors from user space is not offered (Linux: same). */
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return vfio_msi_trigger(vdev, index, start, count, flags, data);
		break;
	default:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return vfio_single_trigger(vdev, index, start, count, flags, data);
		break;
	}
	return -ENOTTY;
}

int vfio_pci_ioctl_set_irqs(struct vfio_device *vdev, void *arg)
{
	size_t minsz = offsetofend(struct vfio_irq_set, count);
	struct vfio_device_core *core = vfio_core(vdev);
	uint32_t data_type, action;
	struct vfio_irq_set hdr;
	struct vfio_irq irq;
	uint8_t *data = NULL;
	size_t size = 0;
	int rc;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz || hdr.index >= vfio_num_irqs(vdev) ||
	    hdr.count >= UINT32_MAX - hdr.start ||
	    hdr.flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK))
		return -EINVAL;
	vfio_pci_irq_info(vdev, hdr.index, &irq);
	if (hdr.start >= irq.count || hdr.start + hdr.count > irq.count)
		return -EINVAL;
	data_type = hdr.flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	action = hdr.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	switch (data_type) {
	case VFIO_IRQ_SET_DATA_NONE:
		break;
	case VFIO_IRQ_SET_DATA_BOOL:
		size = sizeof(uint8_t);
		break;
	case VFIO_IRQ_SET_DATA_EVENTFD:
		size = sizeof(int32_t);
		break;
	default:
		return -EINVAL;
	}
	if (size) {
		size *= hdr.count;
		if (hdr.argsz - minsz < size)
			return -EINVAL;
		data = ualloc(size ? size : 1);
		if (!data)
			return -ENOMEM;
		if (copy_from_user(data, uptr_add(arg, minsz), size)) {
			ufree(data);
			return -EFAULT;
		}
	}

	/* Exactly one action (Linux finds no handler otherwise). */
	if (action & (action - 1) || !action) {
		ufree(data);
		return -ENOTTY;
	}
	pthread_mutex_lock(&core->igate);
	rc = vfio_set_irqs_locked(vdev, hdr.flags, hdr.index, hdr.start, hdr.count, data);
	pthread_mutex_unlock(&core->igate);
	ufree(data);
	return rc;
}
