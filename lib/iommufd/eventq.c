// SPDX-License-Identifier: MIT
/*
 * eventq.c - vEVENTQs: IOMMU_VEVENTQ_ALLOC, the vEVENTQ fd, and the
 * report_event hook through which a vIOMMU model reports events (faults,
 * errors) that carry virtual IDs for the guest.
 *
 * What it owns. A vEVENTQ belongs to one vIOMMU (users reference) and has
 * one type; a vIOMMU has at most one vEVENTQ per type (EEXIST). It owns the
 * events queued on it:
 *
 *   deliver   events not read yet, oldest first, each a header
 *             {flags, sequence} and the model's payload;
 *   the LOST_EVENTS header, which sits last on deliver when events were
 *             dropped.
 *
 * Invariants (reference iommufd.md §4.7, as Linux does it): every queued
 * item takes the next sequence number, which wraps from INT_MAX to 0. At
 * most depth real events are queued; an event that finds the queue full
 * (or no memory) is dropped and the LOST_EVENTS header (no payload) is
 * (re)queued last with the sequence the event would have had. A real event
 * that arrives while the lost header is last takes the header's place, so
 * the header is only ever last, and a reader sees either the header or a
 * gap in the sequence.
 *
 * The fd: read() with a non-zero position is ESPIPE; it copies whole
 * records (header + payload; the lost header alone) that fit, oldest
 * first, and returns the bytes copied (0 when empty: no blocking). It has
 * no write (EINVAL). poll() is readable while something is queued, and the
 * backing eventfd mirrors that. The open fd holds a users reference on the
 * vEVENTQ and a reference on the context.
 *
 * Locks: viommu->veventqs_rwsem guards the vIOMMU's list (reports read it;
 * allocation and destruction write it, and allocation holds it across the
 * EEXIST check and the insertion); veventq->lock guards the queue, the
 * counters and the file pointer.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>

#include "iommufd/iommufd_private.h"
#include "util/alloc.h"

static struct iommufd_veventq *iommufd_viommu_find_veventq(struct iommufd_viommu *viommu,
							   unsigned int type)
{
	struct iommufd_veventq *veventq;

	list_for_each_entry(veventq, &viommu->veventqs,
			    node) if (veventq->type == type) return veventq;
	return NULL;
}

/* Under veventq->lock. */
static void veventq_update_readable(struct iommufd_veventq *veventq)
{
	if (veventq->file)
		ufile_set_readable(veventq->file, !list_empty(&veventq->deliver));
}

static bool vevent_is_lost_header(struct iommufd_veventq *veventq, struct iommufd_vevent *vevent)
{
	return vevent == &veventq->lost_events_header;
}

/* Under veventq->lock: queue @vevent last with the next sequence number. */
static void iommufd_vevent_handler(struct iommufd_veventq *veventq, struct iommufd_vevent *vevent)
{
	struct iommufd_vevent *lost = &veventq->lost_events_header;

	/* The lost header, last, gives way (it may be @vevent itself, requeued). */
	if (!list_empty(&lost->node) && veventq->deliver.prev == &lost->node)
		list_del_init(&lost->node);
	list_add_tail(&vevent->node, &veventq->deliver);
	vevent->header.sequence = veventq->sequence;
	veventq->sequence = (veventq->sequence + 1) & INT_MAX;
	veventq_update_readable(veventq);
}

int iommufd_viommu_report_event(struct iommu_viommu *core, unsigned int type, const void *data,
				size_t len)
{
	struct iommufd_viommu *viommu = core ? core->iommufd_priv : NULL;
	struct iommufd_veventq *veventq;
	struct iommufd_vevent *vevent;
	int rc = 0;

	if (!viommu || !data || !len)
		return -EINVAL;

	pthread_rwlock_rdlock(&viommu->veventqs_rwsem);
	veventq = iommufd_viommu_find_veventq(viommu, type);
	if (!veventq) {
		rc = -EOPNOTSUPP;
		goto out_unlock_veventqs;
	}
	pthread_mutex_lock(&veventq->lock);
	if (veventq->num_events == veventq->depth) {
		vevent = &veventq->lost_events_header;
	} else {
		vevent = ualloc(sizeof(*vevent) + len);
		if (!vevent) {
			rc = -ENOMEM;
			vevent = &veventq->lost_events_header;
		} else {
			vevent->header.flags = 0;
			vevent->data = (uint8_t *)(vevent + 1);
			vevent->data_len = len;
			memcpy(vevent->data, data, len);
			veventq->num_events++;
		}
	}
	iommufd_vevent_handler(veventq, vevent);
	stats_add(vevent_is_lost_header(veventq, vevent) ? STATS_VEVENTS_LOST : STATS_VEVENTS_QUEUED,
		  1);
	pthread_mutex_unlock(&veventq->lock);
out_unlock_veventqs:
	pthread_rwlock_unlock(&viommu->veventqs_rwsem);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The object                                                         */

/* Take it off its vIOMMU and free what is queued; veventqs_rwsem held for writing. */
static void iommufd_veventq_unlink(struct iommufd_veventq *veventq)
{
	struct iommufd_vevent *cur, *next;

	pthread_mutex_lock(&veventq->lock);
	list_for_each_entry_safe(cur, next, &veventq->deliver, node)
	{
		list_del_init(&cur->node);
		if (!vevent_is_lost_header(veventq, cur))
			ufree(cur);
	}
	veventq->num_events = 0;
	pthread_mutex_unlock(&veventq->lock);
	list_del(&veventq->node);
	refcount_dec(&veventq->viommu->obj.users);
}

void iommufd_veventq_destroy(struct iommufd_object *obj)
{
	struct iommufd_veventq *veventq = container_of(obj, struct iommufd_veventq, obj);
	struct iommufd_viommu *viommu = veventq->viommu;

	pthread_rwlock_wrlock(&viommu->veventqs_rwsem);
	iommufd_veventq_unlink(veventq);
	pthread_rwlock_unlock(&viommu->veventqs_rwsem);
	pthread_mutex_destroy(&veventq->lock);
}

/* ------------------------------------------------------------------ */
/* The fd                                                             */

static ssize_t iommufd_veventq_fops_read(struct uiommu_file *file, void *buf, size_t count,
					 int64_t *ppos)
{
	const size_t hdr_size = sizeof(struct iommufd_vevent_header);
	struct iommufd_veventq *veventq = file->private_data;
	struct iommufd_vevent *cur;
	uint8_t *rec = NULL;
	size_t done = 0;
	int rc = 0;

	if (*ppos)
		return -ESPIPE;

	pthread_mutex_lock(&veventq->lock);
	while (!list_empty(&veventq->deliver)) {
		size_t bytes;

		cur = list_first_entry(&veventq->deliver, struct iommufd_vevent, node);
		bytes = hdr_size + (vevent_is_lost_header(veventq, cur) ? 0 : cur->data_len);
		/* Whole records only. */
		if (done >= count || bytes > count - done)
			break;
		rec = ualloc(bytes);
		if (!rec) {
			rc = -ENOMEM;
			break;
		}
		memcpy(rec, &cur->header, hdr_size);
		if (bytes > hdr_size)
			memcpy(rec + hdr_size, cur->data, cur->data_len);
		if (copy_to_user(uptr_add(buf, done), rec, bytes)) {
			rc = -EFAULT;
			break;
		}
		ufree(rec);
		rec = NULL;
		list_del_init(&cur->node);
		if (!vevent_is_lost_header(veventq, cur)) {
			veventq->num_events--;
			ufree(cur);
			stats_add(STATS_VEVENTS_READ, 1);
		}
		done += bytes;
	}
	ufree(rec);
	veventq_update_readable(veventq);
	pthread_mutex_unlock(&veventq->lock);
	return done ? (ssize_t)done : rc;
}

static unsigned int iommufd_veventq_fops_poll(struct uiommu_file *file)
{
	struct iommufd_veventq *veventq = file->private_data;
	unsigned int mask = 0;

	pthread_mutex_lock(&veventq->lock);
	if (!list_empty(&veventq->deliver))
		mask |= POLLIN | POLLRDNORM;
	pthread_mutex_unlock(&veventq->lock);
	return mask;
}

static void iommufd_veventq_fops_release(struct uiommu_file *file)
{
	struct iommufd_veventq *veventq = file->private_data;
	struct iommufd_ctx *ictx = veventq->ictx;

	pthread_mutex_lock(&veventq->lock);
	veventq->file = NULL;
	pthread_mutex_unlock(&veventq->lock);
	refcount_dec(&veventq->obj.users);
	iommufd_ctx_put(ictx);
}

static const struct ufile_ops iommufd_veventq_fops = {
	.name = "iommufd-viommu-event",
	.read = iommufd_veventq_fops_read,
	.poll = iommufd_veventq_fops_poll,
	.release = iommufd_veventq_fops_release,
};

int iommufd_veventq_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_veventq_alloc *cmd = ucmd->cmd;
	struct iommufd_veventq *veventq;
	struct iommufd_viommu *viommu;
	struct uiommu_file *file;
	int rc, err = 0;

	if (cmd->flags || cmd->__reserved || cmd->type == IOMMU_VEVENTQ_TYPE_DEFAULT)
		return -EOPNOTSUPP;
	if (!cmd->veventq_depth)
		return -EINVAL;

	viommu = iommufd_get_viommu(ucmd->ictx, cmd->viommu_id);
	if (IS_ERR(viommu))
		return (int)PTR_ERR(viommu);

	/* Held from the EEXIST check to the publication. */
	pthread_rwlock_wrlock(&viommu->veventqs_rwsem);
	if (iommufd_viommu_find_veventq(viommu, cmd->type)) {
		rc = -EEXIST;
		goto out_unlock_veventqs;
	}

	veventq = iommufd_object_alloc(ucmd->ictx, veventq, IOMMUFD_OBJ_VEVENTQ);
	if (IS_ERR(veventq)) {
		rc = (int)PTR_ERR(veventq);
		goto out_unlock_veventqs;
	}
	veventq->ictx = ucmd->ictx;
	veventq->type = cmd->type;
	veventq->depth = cmd->veventq_depth;
	pthread_mutex_init(&veventq->lock, NULL);
	INIT_LIST_HEAD(&veventq->deliver);
	INIT_LIST_HEAD(&veventq->lost_events_header.node);
	veventq->lost_events_header.header.flags = IOMMU_VEVENTQ_FLAG_LOST_EVENTS;
	veventq->viommu = viommu;
	refcount_inc(&viommu->obj.users);
	list_add_tail(&veventq->node, &viommu->veventqs);

	file = ufile_create(&iommufd_veventq_fops, veventq, UFILE_BACKING_EVENTFD,
			    O_RDWR | O_CLOEXEC, &err); /* anon_inode_getfile(..., O_RDWR), as Linux */
	if (!file) {
		rc = err;
		goto out_abort;
	}
	/* The fd holds the object and the context. */
	refcount_inc(&veventq->obj.users);
	iommufd_ctx_get(ucmd->ictx);
	veventq->file = file;

	cmd->out_veventq_id = veventq->obj.id;
	cmd->out_veventq_fd = (uint32_t)file->fd;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		ufile_close(file);
		goto out_abort;
	}
	iommufd_object_finalize(ucmd->ictx, &veventq->obj);
	goto out_unlock_veventqs;

out_abort:
	iommufd_veventq_unlink(veventq);
	pthread_mutex_destroy(&veventq->lock);
	iommufd_object_abort(ucmd->ictx, &veventq->obj);
out_unlock_veventqs:
	pthread_rwlock_unlock(&viommu->veventqs_rwsem);
	iommufd_put_object(ucmd->ictx, &viommu->obj);
	return rc;
}
