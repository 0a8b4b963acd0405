// SPDX-License-Identifier: MIT
/*
 * access.c - iommufd_access: a CPU user of an IOAS inside the library.
 *
 * Emulated devices that copy data by IOVA, the selftest's access fds and
 * hardware-queue objects reach IOAS memory through an access rather than a
 * domain (Linux keeps this in device.c; here device.c is for bound devices).
 * An access is attached to at most one IOAS at a time (attach, replace,
 * detach) and either
 *
 *   pins ranges (iommufd_access_pin_pages(): the pages stay pinned and their
 *   host addresses are handed out until iommufd_access_unpin_pages()); such
 *   an access must have an unmap callback and raises the IOAS alignment to
 *   PAGE_SIZE. When the program unmaps a range an access pinned, UNMAP calls
 *   every access's unmap callback (with no lock held) and retries until the
 *   pins are gone. Internal accesses (HW queues) instead lock the areas they
 *   pin, so UNMAP of them fails with EBUSY;
 *
 *   or copies (iommufd_access_rw()) through the areas' host memory with a
 *   guarded copy: a range not fully mapped is ENOENT, a missing permission
 *   EPERM, an area being unmapped EINVAL, backing memory that is gone EFAULT.
 *
 * Object rules: an access is an IOMMUFD_OBJ_ACCESS object. The creating
 * driver holds one users reference until iommufd_access_destroy(); an
 * attached access holds one users reference on its IOAS; a non-internal
 * access holds a reference on the context (its file stays alive).
 *
 * Locks: access->ioas_lock guards ioas and ioas_unpin and serialises
 * attach/replace/detach with pin/unpin/rw; it is dropped around the unmap
 * callback of a detach. Pin/rw take the IOAS's iova_rwsem for reading.
 */
#include <errno.h>

#include "iommufd/io_pagetable.h"

/* Under access->ioas_lock. Moves the users reference from the old IOAS to the new one. */
static int iommufd_access_change_ioas(struct iommufd_access *access, struct iommufd_ioas *new_ioas)
{
	struct iommufd_ioas *cur_ioas = access->ioas;
	int rc;

	/* Racing a concurrent detach. */
	if (cur_ioas != access->ioas_unpin)
		return -EBUSY;
	if (cur_ioas == new_ioas)
		return 0;

	/* No new pins from here; unpin keeps using ioas_unpin. */
	access->ioas = NULL;

	if (new_ioas) {
		rc = iopt_add_access(&new_ioas->iopt, access);
		if (rc) {
			access->ioas = cur_ioas;
			return rc;
		}
		refcount_inc(&new_ioas->obj.users);
	}

	if (cur_ioas) {
		if (!access->internal && access->ops && access->ops->unmap) {
			pthread_mutex_unlock(&access->ioas_lock);
			access->ops->unmap(access->data, 0, UINT64_MAX);
			pthread_mutex_lock(&access->ioas_lock);
		}
		iopt_remove_access(&cur_ioas->iopt, access);
		refcount_dec(&cur_ioas->obj.users);
	}

	access->ioas = new_ioas;
	access->ioas_unpin = new_ioas;
	return 0;
}

static int iommufd_access_change_ioas_id(struct iommufd_access *access, uint32_t id)
{
	struct iommufd_ioas *ioas = iommufd_get_ioas(access->ictx, id);
	int rc;

	if (IS_ERR(ioas))
		return (int)PTR_ERR(ioas);
	rc = iommufd_access_change_ioas(access, ioas);
	iommufd_put_object(access->ictx, &ioas->obj);
	return rc;
}

void iommufd_access_destroy_object(struct iommufd_object *obj)
{
	struct iommufd_access *access = container_of(obj, struct iommufd_access, obj);

	pthread_mutex_lock(&access->ioas_lock);
	if (access->ioas && iommufd_access_change_ioas(access, NULL))
		ulog_warn("iommufd: access %u could not detach at destroy", obj->id);
	pthread_mutex_unlock(&access->ioas_lock);
	pthread_mutex_destroy(&access->ioas_lock);
	if (!access->internal)
		iommufd_ctx_put(access->ictx);
}

static struct iommufd_access *iommufd_access_create_common(struct iommufd_ctx *ictx)
{
	struct iommufd_access *access;

	/* No uAPI creates accesses, but they use the object machinery anyway. */
	access = iommufd_object_alloc(ictx, access, IOMMUFD_OBJ_ACCESS);
	if (IS_ERR(access))
		return access;
	/* The creating driver is a user until iommufd_access_destroy(). */
	refcount_inc(&access->obj.users);
	pthread_mutex_init(&access->ioas_lock, NULL);
	access->ictx = ictx;
	return access;
}

struct iommufd_access *iommufd_access_create_internal(struct iommufd_ctx *ictx)
{
	struct iommufd_access *access;

	access = iommufd_access_create_common(ictx);
	if (IS_ERR(access))
		return access;
	access->internal = true;
	access->iova_alignment = PAGE_SIZE;
	iommufd_object_finalize(ictx, &access->obj);
	return access;
}

struct iommufd_access *iommufd_access_create(struct iommufd_ctx *ictx,
					     const struct iommufd_access_ops *ops, void *data,
					     uint32_t *id)
{
	struct iommufd_access *access;

	if (!ops || (ops->needs_pin_pages && !ops->unmap))
		return ERR_PTR(-EINVAL);
	access = iommufd_access_create_common(ictx);
	if (IS_ERR(access))
		return access;
	access->data = data;
	access->ops = ops;
	access->iova_alignment = ops->needs_pin_pages ? PAGE_SIZE : 1;
	iommufd_ctx_get(ictx);
	iommufd_object_finalize(ictx, &access->obj);
	*id = access->obj.id;
	return access;
}

void iommufd_access_destroy(struct iommufd_access *access)
{
	iommufd_object_destroy_user(access->ictx, &access->obj);
}

void iommufd_access_detach(struct iommufd_access *access)
{
	pthread_mutex_lock(&access->ioas_lock);
	if (!access->ioas) {
		ulog_warn("iommufd: detach of an access that is not attached");
	} else if (iommufd_access_change_ioas(access, NULL)) {
		ulog_warn("iommufd: access detach raced another detach");
	}
	pthread_mutex_unlock(&access->ioas_lock);
}

int iommufd_access_attach(struct iommufd_access *access, uint32_t ioas_id)
{
	int rc;

	pthread_mutex_lock(&access->ioas_lock);
	if (access->ioas) {
		pthread_mutex_unlock(&access->ioas_lock);
		return -EINVAL;
	}
	rc = iommufd_access_change_ioas_id(access, ioas_id);
	pthread_mutex_unlock(&access->ioas_lock);
	return rc;
}

int iommufd_access_attach_internal(struct iommufd_access *access, struct iommufd_ioas *ioas)
{
	int rc;

	pthread_mutex_lock(&access->ioas_lock);
	if (access->ioas) {
		pthread_mutex_unlock(&access->ioas_lock);
		return -EINVAL;
	}
	rc = iommufd_access_change_ioas(access, ioas);
	pthread_mutex_unlock(&access->ioas_lock);
	return rc;
}

int iommufd_access_replace(struct iommufd_access *access, uint32_t ioas_id)
{
	int rc;

	pthread_mutex_lock(&access->ioas_lock);
	if (!access->ioas) {
		pthread_mutex_unlock(&access->ioas_lock);
		return -ENOENT;
	}
	rc = iommufd_access_change_ioas_id(access, ioas_id);
	pthread_mutex_unlock(&access->ioas_lock);
	return rc;
}

void iommufd_access_notify_unmap(struct io_pagetable *iopt, uint64_t iova, uint64_t length)
{
	struct iommufd_access *batch[16];
	unsigned int pos = 0;

	/*
	 * The callbacks unpin, which takes iova_rwsem: collect a batch of
	 * accesses with references under the lock, call them without it. An
	 * access missed because the array changed meanwhile keeps its area
	 * busy, and the UNMAP loop simply asks again.
	 */
	for (;;) {
		unsigned int n = 0;
		bool more;

		pthread_rwlock_rdlock(&iopt->iova_rwsem);
		for (; pos < iopt->naccesses && n < ARRAY_SIZE(batch); pos++) {
			struct iommufd_access *access = iopt->accesses[pos];

			if (access->internal || !access->ops || !access->ops->unmap ||
			    !iommufd_lock_obj(&access->obj))
				continue;
			batch[n++] = access;
		}
		more = pos < iopt->naccesses;
		pthread_rwlock_unlock(&iopt->iova_rwsem);

		for (unsigned int i = 0; i != n; i++) {
			batch[i]->ops->unmap(batch[i]->data, iova, length);
			iommufd_put_object(batch[i]->ictx, &batch[i]->obj);
		}
		if (!more)
			break;
	}
}

/*
 * Drop the access's pins of [@iova, @last_iova] from the areas of @iopt
 * (iova_rwsem held): false when the range is not all mapped.
 */
static bool access_remove_range(struct iommufd_access *access, struct io_pagetable *iopt,
				uint64_t iova, uint64_t last_iova)
{
	struct iopt_area_contig_iter iter;
	struct iopt_area *area;

	iopt_for_each_contig_area(&iter, area, iopt, iova, last_iova) iopt_area_remove_access(
		area, iopt_area_iova_to_index(area, iter.cur_iova),
		iopt_area_iova_to_index(area, MIN(last_iova, iopt_area_last_iova(area))),
		access->internal);
	return iopt_area_contig_done(&iter);
}

void iommufd_access_unpin_pages(struct iommufd_access *access, uint64_t iova, uint64_t length)
{
	struct io_pagetable *iopt;
	uint64_t last_iova;

	if (!length || iova + (length - 1) < iova) {
		ulog_warn("iommufd: unpin of a bad range");
		return;
	}
	last_iova = iova + (length - 1);

	pthread_mutex_lock(&access->ioas_lock);
	/* Only before attach or after detach: a driver bug. */
	if (!access->ioas_unpin) {
		pthread_mutex_unlock(&access->ioas_lock);
		ulog_warn("iommufd: unpin on a detached access");
		return;
	}
	iopt = &access->ioas_unpin->iopt;

	pthread_rwlock_rdlock(&iopt->iova_rwsem);
	if (!access_remove_range(access, iopt, iova, last_iova))
		ulog_warn("iommufd: unpin of a range that is not mapped");
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	pthread_mutex_unlock(&access->ioas_lock);
}

static bool iopt_area_contig_is_aligned(struct iopt_area_contig_iter *iter)
{
	if (iopt_area_start_byte(iter->area, iter->cur_iova) % PAGE_SIZE)
		return false;
	if (!iopt_area_contig_done(iter) &&
	    (iopt_area_start_byte(iter->area, iopt_area_last_iova(iter->area)) % PAGE_SIZE) !=
		    (PAGE_SIZE - 1))
		return false;
	return true;
}

static bool check_area_prot(struct iopt_area *area, unsigned int flags)
{
	if (flags & IOMMUFD_ACCESS_RW_WRITE)
		return area->iommu_prot & IOMMU_WRITE;
	return area->iommu_prot & IOMMU_READ;
}

/*
 * The start of pin_pages and rw: [@iova, *@last_iova] from @length (EINVAL
 * when empty, EOVERFLOW when it wraps), and the access's io_pagetable with
 * ioas_lock and iova_rwsem (for reading) held, or ENOENT (nothing held)
 * while no IOAS is attached. access_iopt_unlock() lets both go.
 */
static struct io_pagetable *access_iopt_lock(struct iommufd_access *access, uint64_t iova,
					     uint64_t length, uint64_t *last_iova)
{
	struct io_pagetable *iopt;

	if (!length)
		return ERR_PTR(-EINVAL);
	*last_iova = iova + (length - 1);
	if (*last_iova < iova)
		return ERR_PTR(-EOVERFLOW);

	pthread_mutex_lock(&access->ioas_lock);
	if (!access->ioas) {
		pthread_mutex_unlock(&access->ioas_lock);
		return ERR_PTR(-ENOENT);
	}
	iopt = &access->ioas->iopt;
	pthread_rwlock_rdlock(&iopt->iova_rwsem);
	return iopt;
}

static void access_iopt_unlock(struct iommufd_access *access, struct io_pagetable *iopt)
{
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	pthread_mutex_unlock(&access->ioas_lock);
}

int iommufd_access_pin_pages(struct iommufd_access *access, uint64_t iova, uint64_t length,
			     void **out_pages, unsigned int flags)
{
	struct iopt_area_contig_iter iter;
	struct io_pagetable *iopt;
	struct iopt_area *area;
	uint64_t last_iova;
	int rc;

	/* The driver's ops do not support pin_pages. */
	if (access->iova_alignment != PAGE_SIZE ||
	    (!access->internal && (!access->ops || !access->ops->unmap)))
		return -EINVAL;
	iopt = access_iopt_lock(access, iova, length, &last_iova);
	if (IS_ERR(iopt))
		return (int)PTR_ERR(iopt);

	iopt_for_each_contig_area(&iter, area, iopt, iova, last_iova)
	{
		uint64_t last = MIN(last_iova, iopt_area_last_iova(area));
		uint64_t last_index = iopt_area_iova_to_index(area, last);
		uint64_t index = iopt_area_iova_to_index(area, iter.cur_iova);

		if (area->prevent_access || !iopt_area_contig_is_aligned(&iter)) {
			rc = -EINVAL;
			goto err_remove;
		}
		if (!check_area_prot(area, flags)) {
			rc = -EPERM;
			goto err_remove;
		}
		rc = iopt_area_add_access(area, index, last_index, out_pages, flags,
					  access->internal);
		if (rc)
			goto err_remove;
		if (out_pages)
			out_pages += last_index - index + 1;
	}
	if (!iopt_area_contig_done(&iter)) {
		rc = -ENOENT;
		goto err_remove;
	}
	access_iopt_unlock(access, iopt);
	return 0;

err_remove:
	if (iova < iter.cur_iova)
		access_remove_range(access, iopt, iova, iter.cur_iova - 1);
	access_iopt_unlock(access, iopt);
	return rc;
}

int iommufd_access_rw(struct iommufd_access *access, uint64_t iova, void *data, size_t length,
		      unsigned int flags)
{
	struct iopt_area_contig_iter iter;
	struct io_pagetable *iopt;
	struct iopt_area *area;
	uint64_t last_iova;
	int rc = -EINVAL;

	iopt = access_iopt_lock(access, iova, length, &last_iova);
	if (IS_ERR(iopt))
		return (int)PTR_ERR(iopt);

	iopt_for_each_contig_area(&iter, area, iopt, iova, last_iova)
	{
		uint64_t last = MIN(last_iova, iopt_area_last_iova(area));
		uint64_t bytes = (last - iter.cur_iova) + 1;

		if (area->prevent_access) {
			rc = -EINVAL;
			goto out;
		}
		if (!check_area_prot(area, flags)) {
			rc = -EPERM;
			goto out;
		}
		rc = iopt_pages_rw_access(area->pages, iopt_area_start_byte(area, iter.cur_iova),
					  data, bytes, flags);
		if (rc)
			goto out;
		data = (uint8_t *)data + bytes;
	}
	if (!iopt_area_contig_done(&iter))
		rc = -ENOENT;
out:
	access_iopt_unlock(access, iopt);
	stats_add(rc ? STATS_DMA_FAULTS : STATS_DMA_ACCESSES, 1);
	if (!rc)
		stats_add(STATS_DMA_BYTES, length);
	return rc;
}
