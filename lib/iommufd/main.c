// SPDX-License-Identifier: MIT
/*
 * main.c - the iommufd context: its object table, the ioctl dispatcher and
 * the /dev/iommu file.
 *
 * What it owns. One struct iommufd_ctx per open of /dev/iommu, reached
 * through the file's private_data. The context holds every user-visible
 * object in an ID table (util/idr: lowest free ID from 1, an ID can be
 * reserved before its object is visible). It answers the ioctls of the file
 * exactly as Linux's iommufd_fops_ioctl() does (reference iommufd.md §1.1):
 *
 *   1. nr below IOMMUFD_CMD_BASE or past the table: the VFIO type1
 *      compatibility handler (vfio_compat.c), ENOTTY for what it does not know;
 *   2. read the leading u32 size (EFAULT);
 *   3. the slot must hold exactly this request number (ENOTTY: an empty
 *      slot, or the right nr with the wrong type or direction bits);
 *   4. size below the command's minimum: EINVAL;
 *   5. copy_struct_from_user() into a union big enough for every command:
 *      a shorter struct reads as zero-extended, a longer one must be zero
 *      past what we know (E2BIG), a bad pointer is EFAULT;
 *   6. run the handler; it writes results back with iommufd_ucmd_respond()
 *      (min(user size, our size) bytes);
 *   7. an object the handler allocated with iommufd_object_alloc_ucmd() is
 *      published if it returned 0 and aborted (destroyed, ID released)
 *      otherwise.
 *
 * Object life cycle and the two reference counts are described in
 * iommufd_private.h. Invariants kept here: a published object has users >=
 * 1 and shortterm_users >= 1 (the bias); a reserved ID has no object
 * visible to lookups; an object leaves the table before its destroy
 * callback runs, and the callback runs with no context lock held.
 *
 * A context normally belongs to a /dev/iommu file. A VFIO container
 * (lib/vfio/container.c) is a context too, as in Linux with
 * CONFIG_IOMMUFD_VFIO_CONTAINER: it owns one made with iommufd_ctx_alloc()
 * and frees it with iommufd_ctx_free(); its file stands in for ours in
 * iommufd_ctx_get()/put(), but iommufd_ctx_from_file() does not accept it.
 *
 * Close (the last reference to the file) destroys the objects leaf-first:
 * every pass destroys each object whose users count is exactly 1 (only the
 * table refers to it), which releases the references it held on others;
 * passes repeat until the table is empty. A pass that destroys nothing means
 * a reference leak; it is logged and the rest is leaked rather than freed
 * while still referenced.
 *
 * mmap() of the iommufd maps regions that objects publish (a vIOMMU's
 * model region, iommufd_mmap_add()): the offset and length must match a
 * published region exactly, and the mapping, made on the region's memfd,
 * holds a users reference on the owner and a context reference until the
 * program has unmapped all of it (uiommu_munmap(), util/file.h).
 *
 * Locks: ictx->lock guards the table, users transitions to and from zero,
 * vfio_ioas, account_mode and the mmap table; it is never held across a
 * destroy callback or a call into another file. destroy_wait (with ictx->lock) lets a remover
 * wait for in-flight users.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/iommufd_test.h>

#include "iommufd/io_pagetable.h"
#include "iommufd/iommufd_private.h"
#include "util/alloc.h"
#include "util/intfd.h"
#include "util/stats.h"
#include "util/trace.h"

struct iommufd_object_ops {
	const char *name;
	void (*pre_destroy)(struct iommufd_object *obj);
	void (*destroy)(struct iommufd_object *obj);
	void (*abort)(struct iommufd_object *obj);
};

/*
 * One row per object type, each implemented in the file of its name
 * (hw_pagetable.c, device.c, ioas.c, access.c, fault.c, viommu.c, eventq.c,
 * selftest.c). A type without a destroy callback cannot be allocated
 * (EOPNOTSUPP); pre_destroy runs when a waiting remover finds short-term
 * holders left (the device's: force-destroy its vDEVICE); a type with an
 * abort callback is allocated and published by hand, never by the
 * dispatcher.
 */
static const struct iommufd_object_ops iommufd_object_ops[IOMMUFD_OBJ_MAX] = {
	[IOMMUFD_OBJ_NONE] = {.name = "none"},
	[IOMMUFD_OBJ_DEVICE] =
		{
			.name = "device",
			.pre_destroy = iommufd_device_pre_destroy,
			.destroy = iommufd_device_destroy,
		},
	[IOMMUFD_OBJ_HWPT_PAGING] =
		{
			.name = "hwpt_paging",
			.destroy = iommufd_hwpt_paging_destroy,
			.abort = iommufd_hwpt_paging_abort,
		},
	[IOMMUFD_OBJ_HWPT_NESTED] =
		{
			.name = "hwpt_nested",
			.destroy = iommufd_hwpt_nested_destroy,
			.abort = iommufd_hwpt_nested_abort,
		},
	[IOMMUFD_OBJ_IOAS] =
		{
			.name = "ioas",
			.destroy = iommufd_ioas_destroy,
		},
	[IOMMUFD_OBJ_ACCESS] =
		{
			.name = "access",
			.destroy = iommufd_access_destroy_object,
		},
	[IOMMUFD_OBJ_FAULT] =
		{
			.name = "fault",
			.destroy = iommufd_fault_destroy,
		},
	[IOMMUFD_OBJ_VIOMMU] =
		{
			.name = "viommu",
			.destroy = iommufd_viommu_destroy,
		},
	[IOMMUFD_OBJ_VDEVICE] =
		{
			.name = "vdevice",
			.destroy = iommufd_vdevice_destroy,
		},
	[IOMMUFD_OBJ_VEVENTQ] =
		{
			.name = "veventq",
			.destroy = iommufd_veventq_destroy,
		},
	[IOMMUFD_OBJ_HW_QUEUE] =
		{
			.name = "hw_queue",
			.destroy = iommufd_hw_queue_destroy,
		},
	[IOMMUFD_OBJ_SELFTEST] =
		{
			.name = "selftest",
			.destroy = iommufd_selftest_destroy,
		},
};

const char *iommufd_object_type_name(enum iommufd_object_type type)
{
	if ((unsigned int)type >= IOMMUFD_OBJ_MAX)
		return "?";
	return iommufd_object_ops[type].name;
}

/* ------------------------------------------------------------------ */
/* Objects                                                            */

struct iommufd_object *iommufd_object_alloc_raw(struct iommufd_ctx *ictx, size_t size,
						enum iommufd_object_type type)
{
	struct iommufd_object *obj;
	int id;

	if ((unsigned int)type >= IOMMUFD_OBJ_MAX || !iommufd_object_ops[type].destroy)
		return ERR_PTR(-EOPNOTSUPP);
	obj = uzalloc(size);
	if (!obj)
		return ERR_PTR(-ENOMEM);
	obj->type = type;
	/* The table's references: a users count and the short-term bias. */
	atomic_init(&obj->users, 1);
	atomic_init(&obj->shortterm_users, 1);

	/*
	 * Reserve the ID without publishing the object: until finalize, lookups
	 * see nothing, so a failure can still undo everything invisibly.
	 */
	pthread_mutex_lock(&ictx->lock);
	id = idr_reserve(&ictx->objects);
	pthread_mutex_unlock(&ictx->lock);
	if (id < 0) {
		ufree(obj);
		return ERR_PTR(id);
	}
	obj->id = (unsigned int)id;
	trace_iommufd_object_alloc(obj->id, (unsigned int)type);
	return obj;
}

struct iommufd_object *iommufd_object_alloc_ucmd_raw(struct iommufd_ucmd *ucmd, size_t size,
						     enum iommufd_object_type type)
{
	struct iommufd_object *obj;

	/* One new object per command, and only types the dispatcher can abort. */
	if (ucmd->new_obj ||
	    ((unsigned int)type < IOMMUFD_OBJ_MAX && iommufd_object_ops[type].abort))
		return ERR_PTR(-EOPNOTSUPP);
	obj = iommufd_object_alloc_raw(ucmd->ictx, size, type);
	if (!IS_ERR(obj))
		ucmd->new_obj = obj;
	return obj;
}

void iommufd_object_finalize(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	pthread_mutex_lock(&ictx->lock);
	idr_store(&ictx->objects, (int)obj->id, obj);
	pthread_mutex_unlock(&ictx->lock);
	stats_named(STATS_OBJECTS, iommufd_object_ops[obj->type].name, 0);
}

void iommufd_object_abort(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	pthread_mutex_lock(&ictx->lock);
	idr_remove(&ictx->objects, (int)obj->id);
	pthread_mutex_unlock(&ictx->lock);
	trace_iommufd_object_destroy(obj->id, (unsigned int)obj->type, 1);
	ufree(obj);
}

void iommufd_object_abort_and_destroy(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	const struct iommufd_object_ops *ops = &iommufd_object_ops[obj->type];

	if (ops->abort)
		ops->abort(obj);
	else
		ops->destroy(obj);
	iommufd_object_abort(ictx, obj);
}

bool iommufd_lock_obj(struct iommufd_object *obj)
{
	unsigned int users = atomic_load_explicit(&obj->users, memory_order_relaxed);

	/* refcount_inc_not_zero(): zero means a remover already claimed it. */
	do {
		if (!users)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(
		&obj->users, &users, users + 1, memory_order_acquire, memory_order_relaxed));
	refcount_inc(&obj->shortterm_users);
	return true;
}

struct iommufd_object *iommufd_get_object(struct iommufd_ctx *ictx, uint32_t id,
					  enum iommufd_object_type type)
{
	/* Linux (CONFIG_IOMMUFD_TEST): a fault-injection point, seen as an unknown ID. */
	if (ualloc_should_fail())
		return ERR_PTR(-ENOENT);
	return iommufd_get_object_noinject(ictx, id, type);
}

struct iommufd_object *iommufd_get_object_noinject(struct iommufd_ctx *ictx, uint32_t id,
						   enum iommufd_object_type type)
{
	struct iommufd_object *obj;

	if (id > IDR_MAX)
		return ERR_PTR(-ENOENT);
	pthread_mutex_lock(&ictx->lock);
	obj = idr_find(&ictx->objects, (int)id);
	if (!obj || (type != IOMMUFD_OBJ_ANY && obj->type != type) || !iommufd_lock_obj(obj))
		obj = ERR_PTR(-ENOENT);
	pthread_mutex_unlock(&ictx->lock);
	return obj;
}

/* Drop one short-term reference; the last one of a dying object wakes its remover. */
static void iommufd_shortterm_put(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	if (refcount_dec(&obj->shortterm_users) == 1) {
		pthread_mutex_lock(&ictx->lock);
		pthread_cond_broadcast(&ictx->destroy_wait);
		pthread_mutex_unlock(&ictx->lock);
	}
}

void iommufd_put_object(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	refcount_dec(&obj->users);
	iommufd_shortterm_put(ictx, obj);
}

void iommufd_ref_to_users(struct iommufd_object *obj)
{
	/* The bias keeps this from reaching zero while the object is published. */
	refcount_dec(&obj->shortterm_users);
}

void iommufd_ref_to_shortterm(struct iommufd_object *obj)
{
	/* The table's users reference keeps this from reaching zero. */
	refcount_dec(&obj->users);
}

void iommufd_put_shortterm(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	iommufd_shortterm_put(ictx, obj);
}

/*
 * Under ictx->lock, for an object being removed (claimed, users 0, or a
 * REMOVE_WAIT caller's that is about to be): drop the bias and wait until no
 * short-term user is left. Holders that keep a short-term reference
 * long-term are asked to let go first (pre_destroy, run with the lock
 * dropped).
 */
static void iommufd_object_dec_wait_locked(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	if (refcount_dec(&obj->shortterm_users) == 1)
		return;
	if (iommufd_object_ops[obj->type].pre_destroy) {
		pthread_mutex_unlock(&ictx->lock);
		iommufd_object_ops[obj->type].pre_destroy(obj);
		pthread_mutex_lock(&ictx->lock);
	}
	while (refcount_read(&obj->shortterm_users))
		pthread_cond_wait(&ictx->destroy_wait, &ictx->lock);
}

int iommufd_object_remove(struct iommufd_ctx *ictx, struct iommufd_object *to_destroy, uint32_t id,
			  unsigned int flags)
{
	struct iommufd_object *obj;
	unsigned int one = 1;
	bool waited = false;

	pthread_mutex_lock(&ictx->lock);
	if (to_destroy) {
		obj = to_destroy;
		/* The caller's reference. */
		refcount_dec(&obj->users);
		if (flags & REMOVE_WAIT) {
			iommufd_object_dec_wait_locked(ictx, obj);
			waited = true;
		}
	} else {
		obj = id <= IDR_MAX ? idr_find(&ictx->objects, (int)id) : NULL;
		if (!obj) {
			pthread_mutex_unlock(&ictx->lock);
			return -ENOENT;
		}
	}

	/* refcount_dec_if_one(): only the table may still refer to it. */
	if (!atomic_compare_exchange_strong(&obj->users, &one, 0)) {
		if (waited)
			atomic_store(&obj->shortterm_users, 1);
		pthread_mutex_unlock(&ictx->lock);
		return -EBUSY;
	}

	if (flags & REMOVE_OBJ_TOMBSTONE)
		idr_store(&ictx->objects, (int)obj->id, NULL);
	else
		idr_remove(&ictx->objects, (int)obj->id);
	if (ictx->vfio_ioas && &ictx->vfio_ioas->obj == obj)
		ictx->vfio_ioas = NULL;

	/* users was 1, so no getter holds it; a racing put may still be in flight. */
	if (!waited)
		iommufd_object_dec_wait_locked(ictx, obj);
	pthread_mutex_unlock(&ictx->lock);

	trace_iommufd_object_destroy(obj->id, (unsigned int)obj->type, 0);
	iommufd_object_ops[obj->type].destroy(obj);
	ufree(obj);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Commands handled here                                               */

static int iommufd_destroy(struct iommufd_ucmd *ucmd)
{
	struct iommu_destroy *cmd = ucmd->cmd;

	return iommufd_object_remove(ucmd->ictx, NULL, cmd->id, 0);
}

int iommufd_option(struct iommufd_ucmd *ucmd)
{
	struct iommu_option *cmd = ucmd->cmd;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	switch (cmd->option_id) {
	case IOMMU_OPTION_RLIMIT_MODE:
		rc = iommufd_option_rlimit_mode(cmd, ucmd->ictx);
		break;
	case IOMMU_OPTION_HUGE_PAGES:
		rc = iommufd_ioas_option(ucmd);
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (rc)
		return rc;
	/* Only val64 is written back. */
	if (copy_to_user(uptr_add(ucmd->ubuffer, offsetof(struct iommu_option, val64)), &cmd->val64,
			 sizeof(cmd->val64)))
		return -EFAULT;
	return 0;
}

int iommufd_ucmd_respond(struct iommufd_ucmd *ucmd, size_t cmd_len)
{
	size_t n = ucmd->user_size < cmd_len ? ucmd->user_size : cmd_len;

	return copy_to_user(ucmd->ubuffer, ucmd->cmd, n) ? -EFAULT : 0;
}

/* ------------------------------------------------------------------ */
/* The dispatch table                                                 */

/* A buffer for any command. Add the struct of every new command. */
union ucmd_buffer {
	struct iommu_destroy destroy;
	struct iommu_fault_alloc fault;
	struct iommu_hw_info info;
	struct iommu_hw_queue_alloc hw_queue;
	struct iommu_hwpt_alloc hwpt;
	struct iommu_hwpt_get_dirty_bitmap get_dirty_bitmap;
	struct iommu_hwpt_invalidate cache;
	struct iommu_hwpt_set_dirty_tracking set_dirty_tracking;
	struct iommu_ioas_alloc alloc;
	struct iommu_ioas_allow_iovas allow_iovas;
	struct iommu_ioas_change_process change_process;
	struct iommu_ioas_copy ioas_copy;
	struct iommu_ioas_iova_ranges iova_ranges;
	struct iommu_ioas_map map;
	struct iommu_ioas_map_file map_file;
	struct iommu_ioas_unmap unmap;
	struct iommu_option option;
	struct iommu_vdevice_alloc vdev;
	struct iommu_veventq_alloc veventq;
	struct iommu_vfio_ioas vfio_ioas;
	struct iommu_viommu_alloc viommu;
	struct iommu_test_cmd test;
};

struct iommufd_ioctl_op {
	const char *name;
	unsigned int size;
	unsigned int min_size;
	unsigned int ioctl_num;
	int (*execute)(struct iommufd_ucmd *ucmd);
};

#define IOCTL_OP(_ioctl, _fn, _struct, _last)            \
	[_IOC_NR(_ioctl) - IOMMUFD_CMD_BASE] = {         \
		.name = #_ioctl,                         \
		.size = sizeof(_struct),                 \
		.min_size = offsetofend(_struct, _last), \
		.ioctl_num = _ioctl,                     \
		.execute = _fn,                          \
	}

/* Slots up to IOMMU_TEST_CMD (0xa0); empty slots answer ENOTTY. */
#define IOMMUFD_CMD_SLOTS (0xa0 - IOMMUFD_CMD_BASE + 1)

static const struct iommufd_ioctl_op iommufd_ioctl_ops[IOMMUFD_CMD_SLOTS] = {
	IOCTL_OP(IOMMU_DESTROY, iommufd_destroy, struct iommu_destroy, id),
	IOCTL_OP(IOMMU_IOAS_ALLOC, iommufd_ioas_alloc_ioctl, struct iommu_ioas_alloc, out_ioas_id),
	IOCTL_OP(IOMMU_IOAS_ALLOW_IOVAS, iommufd_ioas_allow_iovas, struct iommu_ioas_allow_iovas,
		 allowed_iovas),
	IOCTL_OP(IOMMU_IOAS_CHANGE_PROCESS, iommufd_ioas_change_process,
		 struct iommu_ioas_change_process, __reserved),
	IOCTL_OP(IOMMU_IOAS_COPY, iommufd_ioas_copy, struct iommu_ioas_copy, src_iova),
	IOCTL_OP(IOMMU_IOAS_IOVA_RANGES, iommufd_ioas_iova_ranges, struct iommu_ioas_iova_ranges,
		 out_iova_alignment),
	IOCTL_OP(IOMMU_IOAS_MAP, iommufd_ioas_map, struct iommu_ioas_map, iova),
	IOCTL_OP(IOMMU_IOAS_MAP_FILE, iommufd_ioas_map_file, struct iommu_ioas_map_file, iova),
	IOCTL_OP(IOMMU_IOAS_UNMAP, iommufd_ioas_unmap, struct iommu_ioas_unmap, length),
	IOCTL_OP(IOMMU_OPTION, iommufd_option, struct iommu_option, val64),
	IOCTL_OP(IOMMU_VFIO_IOAS, iommufd_vfio_ioas, struct iommu_vfio_ioas, __reserved),
	IOCTL_OP(IOMMU_HWPT_ALLOC, iommufd_hwpt_alloc, struct iommu_hwpt_alloc, __reserved),
	IOCTL_OP(IOMMU_GET_HW_INFO, iommufd_get_hw_info, struct iommu_hw_info, __reserved),
	IOCTL_OP(IOMMU_HWPT_SET_DIRTY_TRACKING, iommufd_hwpt_set_dirty_tracking,
		 struct iommu_hwpt_set_dirty_tracking, __reserved),
	IOCTL_OP(IOMMU_HWPT_GET_DIRTY_BITMAP, iommufd_hwpt_get_dirty_bitmap,
		 struct iommu_hwpt_get_dirty_bitmap, data),
	IOCTL_OP(IOMMU_HWPT_INVALIDATE, iommufd_hwpt_invalidate, struct iommu_hwpt_invalidate,
		 __reserved),
	IOCTL_OP(IOMMU_FAULT_QUEUE_ALLOC, iommufd_fault_alloc, struct iommu_fault_alloc,
		 out_fault_fd),
	IOCTL_OP(IOMMU_VIOMMU_ALLOC, iommufd_viommu_alloc_ioctl, struct iommu_viommu_alloc,
		 out_viommu_id),
	IOCTL_OP(IOMMU_VDEVICE_ALLOC, iommufd_vdevice_alloc_ioctl, struct iommu_vdevice_alloc,
		 virt_id),
	IOCTL_OP(IOMMU_VEVENTQ_ALLOC, iommufd_veventq_alloc, struct iommu_veventq_alloc,
		 out_veventq_fd),
	IOCTL_OP(IOMMU_HW_QUEUE_ALLOC, iommufd_hw_queue_alloc_ioctl, struct iommu_hw_queue_alloc,
		 length),
	IOCTL_OP(IOMMU_TEST_CMD, iommufd_test, struct iommu_test_cmd, last),
};

_Static_assert(sizeof(union ucmd_buffer) <= 128, "keep the command buffer small");

static long iommufd_ioctl_dispatch(struct uiommu_file *file, unsigned long request,
				   unsigned long arg, const char **name)
{
	struct iommufd_ctx *ictx = file->private_data;
	const struct iommufd_ioctl_op *op;
	struct iommufd_ucmd ucmd = {0};
	union ucmd_buffer buf;
	/* The kernel's ioctl number is an unsigned int. */
	unsigned int cmd = (unsigned int)request;
	unsigned int nr = _IOC_NR(cmd);
	int ret;

	if (nr < IOMMUFD_CMD_BASE || nr - IOMMUFD_CMD_BASE >= IOMMUFD_CMD_SLOTS) {
		*name = iommufd_vfio_ioctl_name(cmd);
		return iommufd_vfio_ioctl(ictx, cmd, arg);
	}

	ucmd.ictx = ictx;
	ucmd.ubuffer = (void *)arg;
	if (copy_from_user(&ucmd.user_size, ucmd.ubuffer, sizeof(ucmd.user_size)))
		return -EFAULT;

	op = &iommufd_ioctl_ops[nr - IOMMUFD_CMD_BASE];
	if (op->ioctl_num != cmd || !op->execute)
		return -ENOTTY;
	*name = op->name;
	if (ucmd.user_size < op->min_size)
		return -EINVAL;

	ucmd.cmd = &buf;
	ret = copy_struct_from_user(ucmd.cmd, op->size, ucmd.ubuffer, ucmd.user_size);
	if (ret)
		return ret;
	ret = op->execute(&ucmd);

	if (ucmd.new_obj) {
		if (ret)
			iommufd_object_abort_and_destroy(ictx, ucmd.new_obj);
		else
			iommufd_object_finalize(ictx, ucmd.new_obj);
	}
	trace_iommufd_ioctl(nr, ret);
	return ret;
}

static long iommufd_fops_ioctl(struct uiommu_file *file, unsigned long request, unsigned long arg)
{
	const char *name = NULL;
	long rc = iommufd_ioctl_dispatch(file, request, arg, &name);

	stats_named(STATS_IOCTLS, name ? name : "unknown", rc < 0 ? (int)rc : 0);
	return rc;
}

/* ------------------------------------------------------------------ */
/* mmap() of the iommufd                                              */

int iommufd_mmap_add(struct iommufd_ctx *ictx, struct iommufd_object *owner, uint64_t offset,
		     uint64_t length, int fd)
{
	struct iommufd_mmap *immap;

	if (!length || (offset | length) & (PAGE_SIZE - 1) || fd < 0)
		return -EINVAL;
	immap = uzalloc(sizeof(*immap));
	if (!immap)
		return -ENOMEM;
	immap->owner = owner;
	immap->offset = offset;
	immap->length = length;
	immap->fd = fd;
	pthread_mutex_lock(&ictx->lock);
	list_add_tail(&immap->node, &ictx->mmaps);
	pthread_mutex_unlock(&ictx->lock);
	return 0;
}

void iommufd_mmap_remove(struct iommufd_ctx *ictx, struct iommufd_object *owner)
{
	struct iommufd_mmap *immap, *next;

	pthread_mutex_lock(&ictx->lock);
	list_for_each_entry_safe(immap, next, &ictx->mmaps, node)
	{
		if (immap->owner != owner)
			continue;
		list_del(&immap->node);
		ufree(immap);
	}
	pthread_mutex_unlock(&ictx->lock);
}

/* What a live mapping holds: its owner (users) and the context. */
struct iommufd_mmap_ref {
	struct iommufd_ctx *ictx;
	struct iommufd_object *owner;
};

static void iommufd_mmap_close(void *priv)
{
	struct iommufd_mmap_ref *ref = priv;
	struct iommufd_ctx *ictx = ref->ictx;

	refcount_dec(&ref->owner->users);
	ufree(ref);
	iommufd_ctx_put(ictx);
}

/*
 * mmap of the iommufd exposes regions that objects (vIOMMUs) publish. The
 * checks come in Linux's order; the offset and the length must both be
 * exactly those of a published region (ENXIO). The program gets a second
 * mapping of the region's memfd, so it sees what the model writes.
 */
static int iommufd_fops_mmap(struct uiommu_file *file, void *addr, size_t length, int prot,
			     int flags, int64_t offset, void **out)
{
	struct iommufd_ctx *ictx = file->private_data;
	struct iommufd_mmap_ref *ref;
	struct iommufd_mmap *immap;
	struct iommufd_object *owner = NULL;
	void *p;
	int fd = -1, rc;

	if (length & (PAGE_SIZE - 1) || !length)
		return -EINVAL;
	if ((flags & MAP_TYPE) != MAP_SHARED && (flags & MAP_TYPE) != MAP_SHARED_VALIDATE)
		return -EINVAL;
	if (prot & PROT_EXEC)
		return -EPERM;
	if (offset & (PAGE_SIZE - 1) || offset < 0)
		return -EINVAL;

	ref = uzalloc(sizeof(*ref));
	if (!ref)
		return -ENOMEM;
	pthread_mutex_lock(&ictx->lock);
	list_for_each_entry(immap, &ictx->mmaps, node)
	{
		if (immap->offset != (uint64_t)offset || immap->length != length)
			continue;
		/* An owner being destroyed has no region any more. */
		if (iommufd_lock_obj(immap->owner)) {
			owner = immap->owner;
			fd = immap->fd;
		}
		break;
	}
	pthread_mutex_unlock(&ictx->lock);
	if (!owner) {
		ufree(ref);
		return -ENXIO;
	}
	/* The mapping keeps a users reference on the owner, not a short-term one. */
	iommufd_ref_to_users(owner);
	iommufd_ctx_get(ictx);
	ref->ictx = ictx;
	ref->owner = owner;

	/*
	 * Here, or in the forked child this thread serves (fd passed over the
	 * channel). The region's memfd is an internal descriptor (util/intfd.h):
	 * its name resolves to its number now, inside the fork gate.
	 */
	rc = ufile_map(addr, length, prot, flags & ~MAP_ANONYMOUS, intfd_fd(fd), 0, &p);
	if (rc)
		goto err_put;
	rc = ufile_vma_add(p, length, iommufd_mmap_close, ref);
	if (rc) {
		ufile_unmap(p, length);
		goto err_put;
	}
	*out = p;
	return 0;

err_put:
	iommufd_mmap_close(ref);
	return rc;
}

void iommufd_ctx_free(struct iommufd_ctx *ictx)
{
	struct iommufd_object *obj;
	int id;

	/*
	 * Destroy leaf-first: each pass removes every object nothing else
	 * refers to (users == 1), which releases what they held.
	 */
	for (;;) {
		unsigned int destroyed = 0;
		bool empty = true;

		for (id = 1;;) {
			unsigned int one = 1;

			pthread_mutex_lock(&ictx->lock);
			obj = idr_get_next(&ictx->objects, &id);
			if (!obj) {
				pthread_mutex_unlock(&ictx->lock);
				break;
			}
			empty = false;
			id++;
			if (!atomic_compare_exchange_strong(&obj->users, &one, 0)) {
				pthread_mutex_unlock(&ictx->lock);
				continue;
			}
			idr_remove(&ictx->objects, (int)obj->id);
			iommufd_object_dec_wait_locked(ictx, obj);
			pthread_mutex_unlock(&ictx->lock);

			trace_iommufd_object_destroy(obj->id, (unsigned int)obj->type, 0);
			iommufd_object_ops[obj->type].destroy(obj);
			ufree(obj);
			destroyed++;
		}
		if (empty)
			break;
		if (!destroyed) {
			ulog_warn("iommufd: close found objects still referenced; leaking them");
			break;
		}
	}
	/* Tombstones and anything leaked above. */
	idr_destroy(&ictx->objects);
	while (!list_empty(&ictx->mmaps)) {
		struct iommufd_mmap *immap =
			list_first_entry(&ictx->mmaps, struct iommufd_mmap, node);

		list_del(&immap->node);
		ufree(immap);
	}
	iommufd_vfio_container_destroy(ictx);
	pthread_rwlock_destroy(&ictx->ioas_creation_lock);
	pthread_cond_destroy(&ictx->destroy_wait);
	pthread_mutex_destroy(&ictx->lock);
	ufree(ictx);
}

static void iommufd_fops_release(struct uiommu_file *file)
{
	iommufd_ctx_free(file->private_data);
}

/* A misc device (major 10) with a dynamic minor; see lib/uiommu_path.c for the mode. */
const struct ufile_node iommufd_node = {
	.path = "/dev/iommu",
	.mode = S_IFCHR | 0666,
	.major = 10,
	.minor = 256,
};

static const struct ufile_ops iommufd_fops = {
	.name = "iommufd",
	.ioctl = iommufd_fops_ioctl,
	.mmap = iommufd_fops_mmap,
	.release = iommufd_fops_release,
	.node = &iommufd_node,
	.fmode = UFILE_FMODE_PREAD,
	.counts_ioctls = true,
};

struct iommufd_ctx *iommufd_ctx_alloc(int *err)
{
	struct iommufd_ctx *ictx;
	long psz = sysconf(_SC_PAGESIZE);

	if (psz != (long)PAGE_SIZE) {
		ulog_err("iommufd: host page size %ld is not supported (need %lu)", psz,
			 (unsigned long)PAGE_SIZE);
		*err = -EOPNOTSUPP;
		return NULL;
	}
	ictx = uzalloc(sizeof(*ictx));
	if (!ictx) {
		*err = -ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&ictx->lock, NULL);
	pthread_cond_init(&ictx->destroy_wait, NULL);
	pthread_rwlock_init(&ictx->ioas_creation_lock, NULL);
	idr_init(&ictx->objects);
	INIT_LIST_HEAD(&ictx->mmaps);
	ictx->account_mode = IOPT_PAGES_ACCOUNT_USER;
	return ictx;
}

struct uiommu_file *iommufd_fops_open(int flags, int *err)
{
	struct iommufd_ctx *ictx;
	struct uiommu_file *file;

	ictx = iommufd_ctx_alloc(err);
	if (!ictx)
		return NULL;
	file = ufile_create(&iommufd_fops, ictx, UFILE_BACKING_MEMFD, flags, err);
	if (!file) {
		iommufd_ctx_free(ictx);
		return NULL;
	}
	ictx->file = file;
	trace_iommufd_open(file->fd);
	return file;
}

void iommufd_ctx_get(struct iommufd_ctx *ictx)
{
	ufile_get(ictx->file);
}

void iommufd_ctx_put(struct iommufd_ctx *ictx)
{
	ufile_put(ictx->file);
}

struct iommufd_ctx *iommufd_ctx_from_file(struct uiommu_file *file)
{
	if (!file || file->ops != &iommufd_fops)
		return ERR_PTR(-EBADF);
	ufile_get(file);
	return file->private_data;
}
