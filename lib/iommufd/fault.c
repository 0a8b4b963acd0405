// SPDX-License-Identifier: MIT
/*
 * fault.c - IO page-fault queues: IOMMU_FAULT_QUEUE_ALLOC, the fault fd
 * (read / write / poll), and the sink through which models deliver page
 * requests (PRI) on HWPTs allocated with IOMMU_HWPT_FAULT_ID_VALID.
 *
 * What it owns. A FAULT object owns the page requests given to it, in
 * groups (a PRI "page request group": the faults of one device with one
 * group index, complete when the one flagged LAST_PAGE arrives):
 *
 *   partial   faults of groups whose last page has not come yet
 *   deliver   complete groups nobody has read
 *   response  groups read by the program and waiting for its response,
 *             by cookie (lowest free >= 1, as Linux's xarray hands out)
 *
 * Each group remembers the attachment it came through (device, PASID or
 * RID, HWPT). When the IOMMU's page request queue overflowed, the model
 * asks (discard_partial) for the device's partial groups to be dropped:
 * their Last request may be lost. When that attachment ends (detach, replace, device unbind),
 * device.c calls iommufd_auto_response_faults(): its queued and unanswered
 * groups are answered INVALID and its partial faults dropped, so a group
 * never outlives the device and HWPT it names. Destroying the FAULT object
 * answers everything left INVALID.
 *
 * The fd (reference iommufd.md §4.6) is not seekable: a non-zero position
 * or a count that is not a whole number of records is ESPIPE. read() hands
 * out whole groups that fit, each message carrying its group's cookie, and
 * returns the bytes copied (0 when nothing is queued: it never blocks);
 * write() takes responses {cookie, code}: an unknown cookie or a code other
 * than SUCCESS / INVALID is EINVAL; it returns the bytes consumed before
 * the first bad one (partial success). poll() is always writable and
 * readable while a group is queued; the backing eventfd mirrors
 * readability so poll(2)/epoll on the real fd wake up too. The open fd
 * holds a users reference on the FAULT object (DESTROY is EBUSY until it
 * is closed) and keeps the context alive.
 *
 * Locks: fault->mutex guards the three collections and the file pointer.
 * The sink takes the device's lock (to learn which attachment a request
 * came through), then the fault mutex; device.c calls in with the device
 * lock held. Model page responses are made under the fault mutex (the
 * models take only their own device locks).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>

#include "iommufd/iommufd_private.h"
#include "util/alloc.h"

struct iommufd_fault_group {
	struct list_head node; /* on partial or deliver; unlinked while in response */
	struct iommufd_device *idev;
	struct iommufd_hw_pagetable *hwpt;
	uint32_t attach_pasid; /* the attachment it came through (0: the RID) */
	uint32_t grpid;
	uint32_t cookie; /* 0 until read */
	unsigned int nfaults, cap;
	struct iopf_fault *faults;
};

static void fault_group_free(struct iommufd_fault_group *group)
{
	ufree(group->faults);
	ufree(group);
}

/* Complete @group with @code through the model, then free it. */
static void fault_group_respond(struct iommufd_fault_group *group, uint32_t code)
{
	const struct iopf_fault *last = &group->faults[group->nfaults - 1];
	struct iommu_page_response resp = {
		.pasid = last->pasid,
		.grpid = group->grpid,
		.code = code,
	};
	const struct iommu_ops *ops = group->idev->dev->iommu->ops;

	if (ops->page_response)
		ops->page_response(group->idev->dev, last, &resp);
	fault_group_free(group);
}

/* Under fault->mutex: make the backing fd readable exactly while a group is queued. */
static void fault_update_readable(struct iommufd_fault *fault)
{
	if (fault->file)
		ufile_set_readable(fault->file, !list_empty(&fault->deliver));
}

/* ------------------------------------------------------------------ */
/* The sink models deliver page requests to                           */

static int iommufd_fault_iopf_handler(struct iommu_domain *domain, struct udev *dev,
				      const struct iopf_fault *f)
{
	struct iommufd_hw_pagetable *hwpt = domain->iommufd_hwpt;
	struct iommufd_device *idev = __atomic_load_n(&dev->iommufd_priv, __ATOMIC_ACQUIRE);
	struct iommufd_fault_group *group = NULL, *cur;
	uint32_t attach_pasid = IOMMU_NO_PASID;
	struct iommufd_fault *fault;
	int rc = 0;

	if (!hwpt || !hwpt->fault || !idev)
		return -ENODEV;
	fault = hwpt->fault;

	/*
	 * Which attachment is this? The PASID's, if the PASID is attached to
	 * this HWPT; otherwise the RID's (a nested RID domain whose PASID
	 * table the guest owns sees requests for any PASID).
	 */
	pthread_mutex_lock(&idev->lock);
	if (f->flags & IOMMU_PGFAULT_FLAGS_PASID_VALID) {
		for (unsigned int i = 0; i < idev->nattach; i++)
			if (idev->attach[i].pasid == f->pasid && idev->attach[i].hwpt == hwpt)
				attach_pasid = f->pasid;
	}

	pthread_mutex_lock(&fault->mutex);
	list_for_each_entry(cur, &fault->partial, node)
	{
		if (cur->idev == idev && cur->hwpt == hwpt && cur->grpid == f->grpid &&
		    cur->attach_pasid == attach_pasid) {
			group = cur;
			break;
		}
	}
	if (!group) {
		group = uzalloc(sizeof(*group));
		if (!group) {
			rc = -ENOMEM;
			goto out_unlock;
		}
		group->idev = idev;
		group->hwpt = hwpt;
		group->attach_pasid = attach_pasid;
		group->grpid = f->grpid;
		list_add_tail(&group->node, &fault->partial);
	}
	if (group->nfaults == group->cap) {
		unsigned int cap = group->cap ? 2 * group->cap : 1;
		struct iopf_fault *n = ucalloc(cap, sizeof(*n));

		if (!n) {
			if (!group->nfaults) {
				list_del(&group->node);
				fault_group_free(group);
			}
			rc = -ENOMEM;
			goto out_unlock;
		}
		if (group->nfaults)
			memcpy(n, group->faults, group->nfaults * sizeof(*n));
		ufree(group->faults);
		group->faults = n;
		group->cap = cap;
	}
	group->faults[group->nfaults++] = *f;
	stats_add(STATS_FAULTS_QUEUED, 1);
	if (f->flags & IOMMU_PGFAULT_FLAGS_LAST_PAGE) {
		list_del(&group->node);
		list_add_tail(&group->node, &fault->deliver);
		fault_update_readable(fault);
	}
out_unlock:
	pthread_mutex_unlock(&fault->mutex);
	pthread_mutex_unlock(&idev->lock);
	return rc;
}

/*
 * The IOMMU's queue overflowed: the Last request of a group still partial
 * here may have been lost (the IOMMU answered it), so the group would never
 * complete, and a later group reusing its index would join it. Drop the
 * partial groups of the device in this fault queue.
 */
static void iommufd_fault_discard_partial(struct iommu_domain *domain, struct udev *dev)
{
	struct iommufd_hw_pagetable *hwpt = domain->iommufd_hwpt;
	struct iommufd_device *idev = __atomic_load_n(&dev->iommufd_priv, __ATOMIC_ACQUIRE);
	struct iommufd_fault_group *group, *next;
	struct iommufd_fault *fault;

	if (!hwpt || !hwpt->fault || !idev)
		return;
	fault = hwpt->fault;
	pthread_mutex_lock(&fault->mutex);
	list_for_each_entry_safe(group, next, &fault->partial, node)
	{
		if (group->idev != idev)
			continue;
		list_del(&group->node);
		fault_group_free(group);
	}
	pthread_mutex_unlock(&fault->mutex);
}

struct iommu_event_sink iommufd_fault_sink = {
	.report_iopf = iommufd_fault_iopf_handler,
	.discard_partial = iommufd_fault_discard_partial,
};

void iommufd_auto_response_faults(struct iommufd_hw_pagetable *hwpt, struct iommufd_device *idev,
				  uint32_t pasid)
{
	struct iommufd_fault *fault = hwpt->fault;
	struct iommufd_fault_group *group, *next;
	int id;

	if (!fault)
		return;
	pthread_mutex_lock(&fault->mutex);
	list_for_each_entry_safe(group, next, &fault->partial, node)
	{
		if (group->idev != idev || group->hwpt != hwpt || group->attach_pasid != pasid)
			continue;
		list_del(&group->node);
		fault_group_free(group);
	}
	list_for_each_entry_safe(group, next, &fault->deliver, node)
	{
		if (group->idev != idev || group->hwpt != hwpt || group->attach_pasid != pasid)
			continue;
		list_del(&group->node);
		fault_group_respond(group, IOMMUFD_PAGE_RESP_INVALID);
	}
	for (id = 1; (group = idr_get_next(&fault->response, &id)); id++) {
		if (group->idev != idev || group->hwpt != hwpt || group->attach_pasid != pasid)
			continue;
		idr_remove(&fault->response, id);
		fault_group_respond(group, IOMMUFD_PAGE_RESP_INVALID);
	}
	fault_update_readable(fault);
	pthread_mutex_unlock(&fault->mutex);
}

/* ------------------------------------------------------------------ */
/* The object                                                         */

void iommufd_fault_destroy(struct iommufd_object *obj)
{
	struct iommufd_fault *fault = container_of(obj, struct iommufd_fault, obj);
	struct iommufd_fault_group *group, *next;
	int id;

	/* Nobody else can reach the object now; the lock is for form. */
	pthread_mutex_lock(&fault->mutex);
	list_for_each_entry_safe(group, next, &fault->partial, node)
	{
		list_del(&group->node);
		fault_group_free(group);
	}
	list_for_each_entry_safe(group, next, &fault->deliver, node)
	{
		list_del(&group->node);
		fault_group_respond(group, IOMMUFD_PAGE_RESP_INVALID);
	}
	for (id = 1; (group = idr_get_next(&fault->response, &id)); id++) {
		idr_remove(&fault->response, id);
		fault_group_respond(group, IOMMUFD_PAGE_RESP_INVALID);
	}
	pthread_mutex_unlock(&fault->mutex);
	idr_destroy(&fault->response);
	pthread_mutex_destroy(&fault->mutex);
}

/* ------------------------------------------------------------------ */
/* The fd                                                             */

static ssize_t iommufd_fault_fops_read(struct uiommu_file *file, void *buf, size_t count,
				       int64_t *ppos)
{
	const size_t fault_size = sizeof(struct iommu_hwpt_pgfault);
	struct iommufd_fault *fault = file->private_data;
	struct iommu_hwpt_pgfault *msgs = NULL;
	struct iommufd_fault_group *group;
	size_t done = 0;
	int rc = 0;

	if (*ppos || count % fault_size)
		return -ESPIPE;

	pthread_mutex_lock(&fault->mutex);
	while (!list_empty(&fault->deliver)) {
		size_t bytes;
		int cookie;

		group = list_first_entry(&fault->deliver, struct iommufd_fault_group, node);
		bytes = (size_t)group->nfaults * fault_size;
		/* Whole groups only; the one that does not fit waits. */
		if (done >= count || bytes > count - done)
			break;
		msgs = ucalloc(group->nfaults, fault_size);
		if (!msgs) {
			rc = -ENOMEM;
			break;
		}
		cookie = idr_alloc(&fault->response, group);
		if (cookie < 0) {
			rc = cookie;
			break;
		}
		for (unsigned int i = 0; i < group->nfaults; i++) {
			const struct iopf_fault *f = &group->faults[i];

			msgs[i] = (struct iommu_hwpt_pgfault){
				.flags = f->flags,
				.dev_id = group->idev->obj.id,
				.pasid = f->pasid,
				.grpid = f->grpid,
				.perm = f->perm,
				.addr = f->addr,
				.length = 0, /* a hint Linux leaves 0 */
				.cookie = (uint32_t)cookie,
			};
		}
		if (copy_to_user(uptr_add(buf, done), msgs, bytes)) {
			idr_remove(&fault->response, cookie);
			rc = -EFAULT;
			break;
		}
		ufree(msgs);
		msgs = NULL;
		group->cookie = (uint32_t)cookie;
		list_del(&group->node);
		stats_add(STATS_FAULTS_READ, group->nfaults);
		done += bytes;
	}
	ufree(msgs);
	fault_update_readable(fault);
	pthread_mutex_unlock(&fault->mutex);
	return done ? (ssize_t)done : rc;
}

static ssize_t iommufd_fault_fops_write(struct uiommu_file *file, const void *buf, size_t count,
					int64_t *ppos)
{
	const size_t response_size = sizeof(struct iommu_hwpt_page_response);
	struct iommufd_fault *fault = file->private_data;
	struct iommu_hwpt_page_response response;
	struct iommufd_fault_group *group;
	size_t done = 0;
	int rc = 0;

	if (*ppos || count % response_size)
		return -ESPIPE;

	pthread_mutex_lock(&fault->mutex);
	while (count > done) {
		if (copy_from_user(&response, uptr_add(buf, done), response_size)) {
			rc = -EFAULT;
			break;
		}
		if (response.code != IOMMUFD_PAGE_RESP_SUCCESS &&
		    response.code != IOMMUFD_PAGE_RESP_INVALID) {
			rc = -EINVAL;
			break;
		}
		group = response.cookie && response.cookie <= IDR_MAX
				? idr_remove(&fault->response, (int)response.cookie)
				: NULL;
		if (!group) {
			rc = -EINVAL;
			break;
		}
		fault_group_respond(group, response.code);
		stats_add(STATS_FAULTS_ANSWERED, 1);
		done += response_size;
	}
	pthread_mutex_unlock(&fault->mutex);
	return done ? (ssize_t)done : rc;
}

static unsigned int iommufd_fault_fops_poll(struct uiommu_file *file)
{
	struct iommufd_fault *fault = file->private_data;
	unsigned int mask = POLLOUT | POLLWRNORM;

	pthread_mutex_lock(&fault->mutex);
	if (!list_empty(&fault->deliver))
		mask |= POLLIN | POLLRDNORM;
	pthread_mutex_unlock(&fault->mutex);
	return mask;
}

static void iommufd_fault_fops_release(struct uiommu_file *file)
{
	struct iommufd_fault *fault = file->private_data;
	struct iommufd_ctx *ictx = fault->ictx;

	pthread_mutex_lock(&fault->mutex);
	fault->file = NULL;
	pthread_mutex_unlock(&fault->mutex);
	refcount_dec(&fault->obj.users);
	iommufd_ctx_put(ictx);
}

static const struct ufile_ops iommufd_fault_fops = {
	.name = "iommufd-pgfault",
	.read = iommufd_fault_fops_read,
	.write = iommufd_fault_fops_write,
	.poll = iommufd_fault_fops_poll,
	.release = iommufd_fault_fops_release,
};

int iommufd_fault_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_fault_alloc *cmd = ucmd->cmd;
	struct iommufd_fault *fault;
	struct uiommu_file *file;
	int rc, err = 0;

	if (cmd->flags)
		return -EOPNOTSUPP;

	fault = iommufd_object_alloc_ucmd(ucmd, fault, IOMMUFD_OBJ_FAULT);
	if (IS_ERR(fault))
		return (int)PTR_ERR(fault);
	fault->ictx = ucmd->ictx;
	pthread_mutex_init(&fault->mutex, NULL);
	INIT_LIST_HEAD(&fault->deliver);
	INIT_LIST_HEAD(&fault->partial);
	idr_init(&fault->response);

	file = ufile_create(&iommufd_fault_fops, fault, UFILE_BACKING_EVENTFD, O_RDWR | O_CLOEXEC,
			    &err);
	if (!file)
		return err;
	/* The fd holds the object and the context. */
	refcount_inc(&fault->obj.users);
	iommufd_ctx_get(ucmd->ictx);
	fault->file = file;

	cmd->out_fault_id = fault->obj.id;
	cmd->out_fault_fd = (uint32_t)file->fd;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		ufile_close(file);
	return rc;
}
