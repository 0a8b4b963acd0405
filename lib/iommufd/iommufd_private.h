/* SPDX-License-Identifier: MIT */
/*
 * iommufd_private.h - the contract inside lib/iommufd.
 *
 * Everything a file of lib/iommufd needs from the others: the context and
 * object model (main.c), ucmd/respond for ioctl handlers, the IOAS and its
 * io_pagetable seams for domains and reserved regions (ioas.c,
 * io_pagetable.c), and the access API (access.c). The names are Linux's
 * (drivers/iommu/iommufd/iommufd_private.h) so the two read side by side;
 * the semantics are those of reference iommufd.md §1.1 and §4.
 *
 * ---------------------------------------------------------------------
 * Objects and their life cycle
 * ---------------------------------------------------------------------
 * Every user-visible object embeds struct iommufd_object as its FIRST
 * member (iommufd_object_alloc() checks that at compile time) and has a
 * type whose destroy/abort callbacks are listed in iommufd_object_ops[] in
 * main.c. IDs come from the context's table, lowest free first, from 1.
 *
 * Creating an object from an ioctl (the usual way):
 *
 *	hwpt = iommufd_object_alloc_ucmd(ucmd, hwpt, IOMMUFD_OBJ_HWPT_PAGING);
 *	if (IS_ERR(hwpt))
 *		return PTR_ERR(hwpt);
 *	... initialise; any failure: return -errno, and the dispatcher calls
 *	    the type's abort (or destroy) callback and frees the object ...
 *	cmd->out_hwpt_id = hwpt->obj.id;
 *	return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
 *
 * The ID is reserved at allocation but the object is invisible (lookups
 * give ENOENT) until the dispatcher publishes it after the handler returned
 * 0 (iommufd_object_finalize()). A failed ioctl therefore leaves no object
 * behind and no visible ID consumed. Objects made outside an ioctl use
 * iommufd_object_alloc() and call finalize / abort / abort_and_destroy
 * themselves. A type with an abort callback cannot use the _ucmd variant
 * (the same rule as Linux).
 *
 * Two reference counts per object:
 *   users           long-term edges. The table holds 1; every object or
 *                   attachment that depends on this one holds 1 more
 *                   (HWPT -> IOAS, access -> IOAS, device -> HWPT ...), taken
 *                   with refcount_inc(&obj->users) and dropped with
 *                   refcount_dec(&obj->users). IOMMU_DESTROY succeeds only
 *                   when users == 1 (only the table), else EBUSY.
 *   shortterm_users in-flight uses (an ioctl between iommufd_get_object()
 *                   and iommufd_put_object()). Biased by 1 while the object
 *                   is in the table; destroy waits for it to reach 0.
 * iommufd_get_object() takes one of each; iommufd_put_object() drops both.
 * To keep a looked-up object long-term, take a users reference before the
 * put (or use iommufd_ref_to_users(), which keeps the users reference and
 * drops only the short-term one).
 *
 * Destruction: IOMMU_DESTROY, iommufd_object_destroy_user() (a driver
 * destroying its own object, waiting for in-flight users) and
 * iommufd_object_tombstone_user() (the same, but the ID stays reserved and
 * reads as ENOENT until the context is closed). Closing the context
 * destroys every object whose users == 1, repeatedly, leaf-first, until
 * none remains; a reference leak shows as a warning and leaked memory.
 *
 * ---------------------------------------------------------------------
 * Locks (order: top to bottom; never take one above while holding one below)
 * ---------------------------------------------------------------------
 *   iommufd_device::iopf_rwsem    attach changes (write) against the
 *                                 selftest's fault/event triggers (read)
 *   iommufd_ioas::mutex           the IOAS's HWPT list (hw_pagetable.c)
 *   iommufd_device::lock          a device's attachments, vDEVICE,
 *                                 destroying (Linux's igroup->lock)
 *   iommufd_viommu::lock          calls into the model's vIOMMU ops, the
 *                                 vIOMMU's vDEVICE and HW queue lists
 *   iommufd_access::ioas_lock     which IOAS an access uses
 *   iommufd_ctx::ioas_creation_lock  held for writing by CHANGE_PROCESS
 *   io_pagetable::iova_rwsem      everything in the io_pagetable: areas,
 *                                 allowed and reserved trees, domains,
 *                                 accesses, alignment (Linux has a separate
 *                                 domains_rwsem; here it is this one lock)
 *   iopt_pages::mutex             pinning state of one iopt_pages
 *   iommufd_viommu::veventqs_rwsem  the vIOMMU's vEVENTQ list
 *   iommufd_fault::mutex, iommufd_veventq::lock  queued events and the
 *                                 file they wake
 *   iommufd_ctx::lock             the object table, object state changes,
 *                                 vfio_ioas, account_mode, the mmap table
 *                                 (a leaf: never held across a callback)
 * Callbacks into models (domain ops) run under iova_rwsem; access unmap
 * callbacks run with no lock held.
 *
 * ---------------------------------------------------------------------
 * Adding an ioctl or an object type (hw_pagetable.c, device.c, fault.c,
 * viommu.c, selftest.c)
 * ---------------------------------------------------------------------
 *  - add the struct to union ucmd_buffer and an IOCTL_OP() line to
 *    iommufd_ioctl_ops[] in main.c (the slot exists; empty slots answer
 *    ENOTTY, as a kernel without that command would);
 *  - add the type's row to iommufd_object_ops[] in main.c;
 *  - declare the handler and callbacks below, next to their file's section.
 *
 * Errors: 0 or a negative errno everywhere; pointers are ERR_PTR(). Every
 * allocation goes through util/alloc.h (fail-nth), every access to program
 * memory through util/uaccess.h (EFAULT, never a crash).
 */
#ifndef UIOMMU_IOMMUFD_PRIVATE_H
#define UIOMMU_IOMMUFD_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/iommufd.h>

#include "hw/iommu.h"
#include "util/bits.h"
#include "util/err.h"
#include "util/file.h"
#include "util/idr.h"
#include "util/interval_tree.h"
#include "util/list.h"
#include "util/log.h"
#include "util/stats.h"
#include "util/uaccess.h"

/*
 * The host page size the pinning model works in. The library refuses to open
 * /dev/iommu on a host whose page size differs (iommufd_fops_open()).
 */
#define PAGE_SHIFT 12
#define PAGE_SIZE  (1UL << PAGE_SHIFT)
#define PAGE_MASK  (~(PAGE_SIZE - 1))
/* The largest automatic IOVA alignment: the THP (PMD) size (Linux HPAGE_SIZE). */
#define HPAGE_SIZE (2UL << 20)

#define offsetofend(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))

/* Kernel-style refcount helpers on the atomic counters below. */
#define refcount_inc(p)	 atomic_fetch_add_explicit((p), 1, memory_order_relaxed)
#define refcount_dec(p)	 atomic_fetch_sub_explicit((p), 1, memory_order_acq_rel)
#define refcount_read(p) atomic_load_explicit((p), memory_order_acquire)

/* IOMMU_CACHE: the kernel's "coherent" mapping bit, always set by iommufd. */
#define IOMMU_CACHE 0x4

struct iommufd_ctx;
struct iommufd_ioas;
struct iommufd_access;
struct io_pagetable;
struct iopt_area;
struct iopt_pages;

/* ------------------------------------------------------------------ */
/* Capabilities and accounting (pages.c)                              */

/* The capabilities the library checks (values of <linux/capability.h>). */
#define IOMMUFD_CAP_IPC_LOCK	 14
#define IOMMUFD_CAP_SYS_RESOURCE 24
#define IOMMUFD_CAP_SYS_RAWIO	 17
/*
 * True when the calling thread has @cap in its effective set (capget(2)).
 * A function pointer so unit tests can substitute a fixed answer.
 */
extern bool (*iommufd_capable)(int cap);

enum {
	IOPT_PAGES_ACCOUNT_NONE = 0,
	IOPT_PAGES_ACCOUNT_USER = 1,
	IOPT_PAGES_ACCOUNT_MM = 2,
	IOPT_PAGES_ACCOUNT_MODE_NUM = 3,
};

/*
 * Pages pinned by every context of the process, as the kernel would show
 * them: charged to the user (USER mode), to the mm's locked_vm (MM mode),
 * and the mm's pinned_vm (VmPin:, every mode but NONE). For a future
 * /proc/<pid>/status synthesis and for tests.
 */
struct iommufd_pin_stats {
	uint64_t user_locked_vm;
	uint64_t mm_locked_vm;
	uint64_t mm_pinned_vm;
};
void iommufd_pin_stats(struct iommufd_pin_stats *st);
/* account_locked_vm(): charge / uncharge @bytes of locked memory (ENOMEM past the rlimit). */
int iommufd_account_locked_vm(uint64_t bytes, bool inc);

/* ------------------------------------------------------------------ */
/* The context and objects (main.c)                                    */

struct iommufd_ctx {
	struct uiommu_file *file;

	/* The object table, object state transitions, vfio_ioas, account_mode. */
	pthread_mutex_t lock;
	/* Signalled when an object being destroyed loses its last short-term user. */
	pthread_cond_t destroy_wait;
	struct idr objects;

	/* Read by IOAS creation, written by CHANGE_PROCESS (all IOAS locks taken). */
	pthread_rwlock_t ioas_creation_lock;

	uint8_t account_mode;		/* IOPT_PAGES_ACCOUNT_*; under lock */
	/* CAP_IPC_LOCK as sampled at the context's first MAP: 0 not yet, 1 no, 2 yes; under lock */
	uint8_t cap_ipc_lock;
	uint8_t no_iommu_mode;		/* VFIO no-IOMMU compat; under lock */
	struct iommufd_ioas *vfio_ioas; /* the VFIO compat IOAS, no reference; under lock */
	/*
	 * Set when the context is a VFIO container (/dev/vfio/vfio): the type1
	 * ioctls then answer as VFIO's type1 driver does (vfio_compat.c). Set
	 * once before the context is shared, freed with it.
	 */
	struct iommufd_vfio_type1 *vfio_type1;
	/* Regions objects offer for mmap() on this file (struct iommufd_mmap); under lock. */
	struct list_head mmaps;
};

enum iommufd_object_type {
	IOMMUFD_OBJ_NONE,
	IOMMUFD_OBJ_ANY = IOMMUFD_OBJ_NONE,
	IOMMUFD_OBJ_DEVICE,
	IOMMUFD_OBJ_HWPT_PAGING,
	IOMMUFD_OBJ_HWPT_NESTED,
	IOMMUFD_OBJ_IOAS,
	IOMMUFD_OBJ_ACCESS,
	IOMMUFD_OBJ_FAULT,
	IOMMUFD_OBJ_VIOMMU,
	IOMMUFD_OBJ_VDEVICE,
	IOMMUFD_OBJ_VEVENTQ,
	IOMMUFD_OBJ_HW_QUEUE,
	IOMMUFD_OBJ_SELFTEST,
	IOMMUFD_OBJ_MAX,
};

struct iommufd_object {
	/* In-flight uses, +1 bias while in the table. */
	atomic_uint shortterm_users;
	/* Long-term references: the table's and one per dependent edge. */
	atomic_uint users;
	enum iommufd_object_type type;
	unsigned int id;
};

/* The object type's name, for logs ("ioas", "hwpt_paging" ...). */
const char *iommufd_object_type_name(enum iommufd_object_type type);

struct iommufd_object *iommufd_object_alloc_raw(struct iommufd_ctx *ictx, size_t size,
						enum iommufd_object_type type);

/*
 * Allocate a zeroed @ptr-typed object of @type with a reserved ID (users =
 * 1). Returns it or ERR_PTR(-ENOMEM / -ENOSPC / -EOPNOTSUPP).
 */
#define iommufd_object_alloc(ictx, ptr, type)                                                  \
	({                                                                                     \
		_Static_assert(offsetof(__typeof__(*(ptr)), obj) == 0, "obj must come first"); \
		(__typeof__(ptr))iommufd_object_alloc_raw(ictx, sizeof(*(ptr)), type);         \
	})

/* Publish @obj: lookups find it from now on. Cannot fail. */
void iommufd_object_finalize(struct iommufd_ctx *ictx, struct iommufd_object *obj);
/* Undo iommufd_object_alloc() of an object that needs no destroy: free ID and memory. */
void iommufd_object_abort(struct iommufd_ctx *ictx, struct iommufd_object *obj);
/* Undo it for an initialised object: the type's abort (else destroy), then abort. */
void iommufd_object_abort_and_destroy(struct iommufd_ctx *ictx, struct iommufd_object *obj);

/*
 * The object @id of @type (IOMMUFD_OBJ_ANY: any) with a users and a
 * short-term reference, or ERR_PTR(-ENOENT) (absent, reserved, a tombstone,
 * another type, or being destroyed).
 */
struct iommufd_object *iommufd_get_object(struct iommufd_ctx *ictx, uint32_t id,
					  enum iommufd_object_type type);
/*
 * The same lookup without the fault-injection point: for teardown paths
 * (a pre_destroy), which must not take an injected ENOENT for "already
 * being destroyed" and leave a reference behind for the remover to wait
 * on forever.
 */
struct iommufd_object *iommufd_get_object_noinject(struct iommufd_ctx *ictx, uint32_t id,
						   enum iommufd_object_type type);
/* Drop what iommufd_get_object() took. */
void iommufd_put_object(struct iommufd_ctx *ictx, struct iommufd_object *obj);
/*
 * Take both references on an object known to be alive (e.g. reached through
 * another object's pointer) under ictx->lock. False if it is being destroyed.
 */
bool iommufd_lock_obj(struct iommufd_object *obj);
/* Keep the users reference of a get, drop the short-term one. */
void iommufd_ref_to_users(struct iommufd_object *obj);
/*
 * The other way round: keep the short-term reference of a get, drop the
 * users one. A holder of only a short-term reference does not make
 * IOMMU_DESTROY fail; a remover that waits (REMOVE_WAIT) first calls the
 * type's pre_destroy, which must make the holder let go (a vDEVICE holds
 * its device this way). Dropped with iommufd_put_shortterm().
 */
void iommufd_ref_to_shortterm(struct iommufd_object *obj);
void iommufd_put_shortterm(struct iommufd_ctx *ictx, struct iommufd_object *obj);

enum {
	REMOVE_WAIT = 1 << 0,	       /* wait for in-flight (short-term) users */
	REMOVE_OBJ_TOMBSTONE = 1 << 1, /* keep the ID reserved (ENOENT) until close */
};
/*
 * Remove an object from the table and destroy it. @to_destroy NULL: by @id,
 * as IOMMU_DESTROY (ENOENT, EBUSY). Otherwise the caller gives its own users
 * reference on @to_destroy, which this consumes.
 */
int iommufd_object_remove(struct iommufd_ctx *ictx, struct iommufd_object *to_destroy, uint32_t id,
			  unsigned int flags);

/* A driver destroys an object it owns (it holds one users reference). */
static inline void iommufd_object_destroy_user(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	if (iommufd_object_remove(ictx, obj, obj->id, REMOVE_WAIT))
		ulog_warn("iommufd: object %u still busy at destroy", obj->id);
}

/* The same, leaving a tombstone in the ID table. */
static inline void iommufd_object_tombstone_user(struct iommufd_ctx *ictx,
						 struct iommufd_object *obj)
{
	if (iommufd_object_remove(ictx, obj, obj->id, REMOVE_WAIT | REMOVE_OBJ_TOMBSTONE))
		ulog_warn("iommufd: object %u still busy at tombstone", obj->id);
}

/* Keep the context (and its file) alive: the kernel's iommufd_ctx_get/put. */
void iommufd_ctx_get(struct iommufd_ctx *ictx);
void iommufd_ctx_put(struct iommufd_ctx *ictx);
/* The context of an iommufd file, with a reference; ERR_PTR(-EBADF) otherwise. */
struct iommufd_ctx *iommufd_ctx_from_file(struct uiommu_file *file);

/* Open /dev/iommu: a new context and its file (uiommu_open()). */
struct uiommu_file *iommufd_fops_open(int flags, int *err);
/* What stat(2) shows for /dev/iommu and for its open files. */
extern const struct ufile_node iommufd_node;
/*
 * A context without a file, for a file another layer owns (the VFIO
 * container): the owner sets ictx->file before anything can take a
 * context reference, and calls iommufd_ctx_free() from its release. NULL
 * with *err = -ENOMEM / -EOPNOTSUPP.
 */
struct iommufd_ctx *iommufd_ctx_alloc(int *err);
/* Destroy every object of the context and free it (the file's release). */
void iommufd_ctx_free(struct iommufd_ctx *ictx);

/*
 * A region @owner offers for mmap() on the iommufd: [offset, offset +
 * length) of the file maps @length bytes of the memfd @fd (a model's
 * region, iommu_mmap_region_alloc()). The mmap holds a users reference on
 * the owner and a context reference until it is fully unmapped.
 */
struct iommufd_mmap {
	struct list_head node;
	struct iommufd_object *owner;
	uint64_t offset, length;
	int fd;
};
int iommufd_mmap_add(struct iommufd_ctx *ictx, struct iommufd_object *owner, uint64_t offset,
		     uint64_t length, int fd);
void iommufd_mmap_remove(struct iommufd_ctx *ictx, struct iommufd_object *owner);

/* ------------------------------------------------------------------ */
/* ioctl handlers                                                      */

struct iommufd_ucmd {
	struct iommufd_ctx *ictx;
	void *ubuffer;			/* the program's struct */
	uint32_t user_size;		/* its first u32 */
	void *cmd;			/* our copy, zero-extended to our size */
	struct iommufd_object *new_obj; /* finalized / aborted by the dispatcher */
};

/*
 * Copy the (updated) command back over the program's struct: min(user size,
 * @cmd_len) bytes. 0 or -EFAULT.
 */
int iommufd_ucmd_respond(struct iommufd_ucmd *ucmd, size_t cmd_len);

struct iommufd_object *iommufd_object_alloc_ucmd_raw(struct iommufd_ucmd *ucmd, size_t size,
						     enum iommufd_object_type type);
#define iommufd_object_alloc_ucmd(ucmd, ptr, type)                                             \
	({                                                                                     \
		_Static_assert(offsetof(__typeof__(*(ptr)), obj) == 0, "obj must come first"); \
		(__typeof__(ptr))iommufd_object_alloc_ucmd_raw(ucmd, sizeof(*(ptr)), type);    \
	})

/* main.c */
int iommufd_option(struct iommufd_ucmd *ucmd);
/* ioas.c */
int iommufd_ioas_alloc_ioctl(struct iommufd_ucmd *ucmd);
int iommufd_ioas_iova_ranges(struct iommufd_ucmd *ucmd);
int iommufd_ioas_allow_iovas(struct iommufd_ucmd *ucmd);
int iommufd_ioas_map(struct iommufd_ucmd *ucmd);
int iommufd_ioas_map_file(struct iommufd_ucmd *ucmd);
int iommufd_ioas_copy(struct iommufd_ucmd *ucmd);
int iommufd_ioas_unmap(struct iommufd_ucmd *ucmd);
int iommufd_ioas_option(struct iommufd_ucmd *ucmd);
int iommufd_option_rlimit_mode(struct iommu_option *cmd, struct iommufd_ctx *ictx);
int iommufd_ioas_change_process(struct iommufd_ucmd *ucmd);
/* vfio_compat.c */
int iommufd_vfio_ioas(struct iommufd_ucmd *ucmd);
long iommufd_vfio_ioctl(struct iommufd_ctx *ictx, unsigned int cmd, unsigned long arg);
/* The VFIO compat ioctl @cmd by name, for statistics; NULL when it is none of them. */
const char *iommufd_vfio_ioctl_name(unsigned int cmd);
/* hw_pagetable.c */
int iommufd_hwpt_alloc(struct iommufd_ucmd *ucmd);
int iommufd_hwpt_invalidate(struct iommufd_ucmd *ucmd);
int iommufd_hwpt_set_dirty_tracking(struct iommufd_ucmd *ucmd);
int iommufd_hwpt_get_dirty_bitmap(struct iommufd_ucmd *ucmd);
/* device.c */
int iommufd_get_hw_info(struct iommufd_ucmd *ucmd);
/* fault.c */
int iommufd_fault_alloc(struct iommufd_ucmd *ucmd);
/* viommu.c, eventq.c */
int iommufd_viommu_alloc_ioctl(struct iommufd_ucmd *ucmd);
int iommufd_vdevice_alloc_ioctl(struct iommufd_ucmd *ucmd);
int iommufd_hw_queue_alloc_ioctl(struct iommufd_ucmd *ucmd);
int iommufd_veventq_alloc(struct iommufd_ucmd *ucmd);
/* selftest.c */
int iommufd_test(struct iommufd_ucmd *ucmd);

/*
 * The mock device of SELFTEST object @stdev_id (made by IOMMU_TEST_OP_MOCK_
 * DOMAIN(_FLAGS)) in the iommufd @file, for an emulated device in this
 * process (lib/dev) to issue its DMA as that device: its bus identity (the
 * stream id, PASID width) and its attachments are the mock device's. The
 * hold keeps the object (IOMMU_DESTROY of it fails with EBUSY, as for any
 * object in use) and the context (closing the file does not destroy it)
 * until iommufd_selftest_dev_release(). NULL with *err: -EBADF (not an
 * iommufd), -ENOENT (no such object), -EINVAL (not a mock device object),
 * -ENOMEM.
 */
struct iommufd_selftest_hold;
struct iommufd_selftest_hold *iommufd_selftest_dev_hold(struct uiommu_file *file,
							 uint32_t stdev_id, struct udev **dev,
							 int *err);
void iommufd_selftest_dev_release(struct iommufd_selftest_hold *hold);

/* ------------------------------------------------------------------ */
/* io_pagetable and IOAS (io_pagetable.c, ioas.c)                      */

/*
 * An IO address space's page table: which IOVA ranges map which iopt_pages
 * (areas), which ranges may never be used (reserved: domain apertures,
 * device reserved regions, test reservations), which ranges the user
 * restricted automatic allocation to (allowed), and the domains and accesses
 * that see it. All fields are guarded by iova_rwsem.
 */
struct io_pagetable {
	pthread_rwlock_t iova_rwsem;
	struct interval_tree_root area_itree;	  /* iopt_area::node */
	struct interval_tree_root allowed_itree;  /* iopt_allowed::node */
	struct interval_tree_root reserved_itree; /* iopt_reserved::node */
	/* Attached paging domains, densely packed in [0, next_domain_id). */
	struct iommu_domain **domains;
	unsigned int next_domain_id;
	unsigned int domains_cap;
	/* Accesses attached to this IOAS (an access may sit in two during a replace). */
	struct iommufd_access **accesses;
	unsigned int naccesses, accesses_cap;
	/* Every IOVA and length must be a multiple of this (power of two). */
	uint64_t iova_alignment;
	bool disable_large_pages;
};

struct iommufd_ioas {
	struct iommufd_object obj;
	struct io_pagetable iopt;
	/* Guards hwpt_list (owned by hw_pagetable.c) and auto_hwpt_flags. */
	pthread_mutex_t mutex;
	struct list_head hwpt_list;
	/*
	 * IOMMU_HWPT_ALLOC_* flags of the HWPTs an attach to this IOAS makes
	 * (0; NEST_PARENT for a VFIO_TYPE1_NESTING_IOMMU container's IOAS).
	 */
	uint32_t auto_hwpt_flags;
};

static inline struct iommufd_ioas *iommufd_get_ioas(struct iommufd_ctx *ictx, uint32_t id)
{
	return (struct iommufd_ioas *)iommufd_get_object(ictx, id, IOMMUFD_OBJ_IOAS);
}

struct iommufd_ioas *iommufd_ioas_alloc(struct iommufd_ctx *ictx);
void iommufd_ioas_destroy(struct iommufd_object *obj);

void iopt_init_table(struct io_pagetable *iopt);
void iopt_destroy_table(struct io_pagetable *iopt);

/* IOPT_ALLOC_IOVA: choose the IOVA (*iova is output); otherwise *iova is fixed. */
#define IOPT_ALLOC_IOVA 1

/*
 * Map @length bytes of this process's memory at @uptr with @iommu_prot
 * (IOMMU_READ/WRITE/CACHE). Pinned (checked and accounted) and loaded into
 * every attached domain now if there is one; otherwise lazily.
 */
int iopt_map_user_pages(struct iommufd_ctx *ictx, struct io_pagetable *iopt, uint64_t *iova,
			void *uptr, uint64_t length, int iommu_prot, unsigned int flags);
/* The same for @length bytes of the file @fd (a memfd) from byte @start. */
int iopt_map_file_pages(struct iommufd_ctx *ictx, struct io_pagetable *iopt, uint64_t *iova, int fd,
			uint64_t start, uint64_t length, int iommu_prot, unsigned int flags);
/*
 * COPY in two steps, so the ioctl can look the destination up between them:
 * take references on the slices of pages mapped at [iova, iova + length)
 * (EINVAL length 0, EOVERFLOW, ENOENT unless covered by contiguous areas),
 * then map them into @dst; the pages are shared, not copied, and stay pinned
 * once. Always free the list afterwards (it drops what was not used).
 */
int iopt_get_pages(struct io_pagetable *iopt, uint64_t iova, uint64_t length,
		   struct list_head *pages_list);
int iopt_map_pages(struct io_pagetable *iopt, struct list_head *pages_list, uint64_t length,
		   uint64_t *dst_iova, int iommu_prot, unsigned int flags);
void iopt_free_pages_list(struct io_pagetable *iopt, struct list_head *pages_list);
/*
 * Remove every area inside [iova, iova + length - 1]; an area that sticks
 * out gives ENOENT (areas removed before it stay removed). *unmapped gets
 * the bytes removed; nothing there is success with *unmapped = 0.
 */
int iopt_unmap_iova(struct io_pagetable *iopt, uint64_t iova, uint64_t length, uint64_t *unmapped);
int iopt_unmap_all(struct io_pagetable *iopt, uint64_t *unmapped);
/* Split the areas containing each of @iovas so that a cut falls after it (VFIO type1). */
int iopt_cut_iova(struct io_pagetable *iopt, uint64_t *iovas, size_t num_iovas);

/* Replace the allowed list with @allowed (a tree of iopt_allowed, swapped in). */
int iopt_set_allow_iova(struct io_pagetable *iopt, struct interval_tree_root *allowed);

/*
 * Reserved ranges, tagged by @owner (a domain, a device, NULL for tests).
 * EADDRINUSE when the range intersects an area or an allowed range.
 * _locked variants need iova_rwsem held for writing.
 */
int iopt_reserve_iova(struct io_pagetable *iopt, uint64_t start, uint64_t last, void *owner);
int iopt_reserve_iova_locked(struct io_pagetable *iopt, uint64_t start, uint64_t last, void *owner);
void iopt_remove_reserved_iova(struct io_pagetable *iopt, void *owner);
/*
 * Reserve every reserved region of @dev (owner @dev), all or nothing
 * (EADDRINUSE when one intersects an area or an allowed range).
 */
int iopt_table_enforce_dev_resv_regions(struct io_pagetable *iopt, struct udev *dev);

/*
 * Attach a paging domain: everything outside its aperture becomes reserved
 * (owner @domain), the IOAS alignment rises to its smallest page size (more
 * than PAGE_SIZE: EINVAL; an existing area misaligned for it: EADDRINUSE),
 * and every area is mapped into it (pinning first if it is the first
 * domain). On failure nothing changed.
 */
int iopt_table_add_domain(struct io_pagetable *iopt, struct iommu_domain *domain);
/* Unmap every area from @domain (unpinning if it was the last), drop its reservations. */
void iopt_table_remove_domain(struct io_pagetable *iopt, struct iommu_domain *domain);

/*
 * Dirty tracking of @domain, a paging domain attached to @iopt (Linux's
 * iopt_set_dirty_tracking / iopt_read_and_clear_dirty_data):
 * set: EOPNOTSUPP without dirty ops; enabling first clears the dirty state
 * of every area, so the first read is a clean snapshot.
 * read: the IOMMU_HWPT_GET_DIRTY_BITMAP range rules (EINVAL, EOVERFLOW:
 * iova and iova + length aligned to the IOAS alignment and to page_size),
 * then EOPNOTSUPP without dirty ops; bits are ORed into the user bitmap at
 * @data. A hole in the range is skipped, as in Linux (its bits stay clear).
 */
int iopt_set_dirty_tracking(struct io_pagetable *iopt, struct iommu_domain *domain, bool enable);
int iopt_read_and_clear_dirty_data(struct io_pagetable *iopt, struct iommu_domain *domain,
				   unsigned long flags, uint64_t iova, uint64_t length,
				   uint64_t page_size, void *data);

/* HUGE_PAGES option (and VFIO type1 v1): map with PAGE_SIZE IOPTEs only. */
int iopt_disable_large_pages(struct io_pagetable *iopt);
void iopt_enable_large_pages(struct io_pagetable *iopt);

/* Accesses (access.c calls these). */
int iopt_add_access(struct io_pagetable *iopt, struct iommufd_access *access);
void iopt_remove_access(struct io_pagetable *iopt, struct iommufd_access *access);

/* ------------------------------------------------------------------ */
/* Accesses: in-library CPU users of an IOAS (access.c)               */

#define IOMMUFD_ACCESS_RW_READ	0
#define IOMMUFD_ACCESS_RW_WRITE (1 << 0)
/* Set by kernel threads in Linux; accepted and ignored here. */
#define IOMMUFD_ACCESS_RW_KTHREAD (1 << 1)

struct iommufd_access_ops {
	/* The user pins pages (pin_pages): it needs unmap and raises alignment to PAGE_SIZE. */
	bool needs_pin_pages;
	/*
	 * [iova, iova + length) is being unmapped: unpin everything pinned
	 * there (iommufd_access_unpin_pages()) before returning. Called with no
	 * lock held, possibly from another thread's UNMAP.
	 */
	void (*unmap)(void *data, uint64_t iova, uint64_t length);
};

struct iommufd_access {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	/* Guards ioas and ioas_unpin. */
	pthread_mutex_t ioas_lock;
	struct iommufd_ioas *ioas;	 /* pin/rw use this; NULL when detached */
	struct iommufd_ioas *ioas_unpin; /* unpin uses this (survives a racing detach) */
	const struct iommufd_access_ops *ops;
	void *data;
	uint64_t iova_alignment;
	bool internal; /* created by the library for itself (HW queues): locks areas */
};

/*
 * Create an access for a driver (emulated device, selftest access fd). The
 * object is published; the driver holds one users reference until
 * iommufd_access_destroy(). *id gets the object ID.
 */
struct iommufd_access *iommufd_access_create(struct iommufd_ctx *ictx,
					     const struct iommufd_access_ops *ops, void *data,
					     uint32_t *id);
/* An access for the library's own objects (HW queues): pins lock areas (UNMAP: EBUSY). */
struct iommufd_access *iommufd_access_create_internal(struct iommufd_ctx *ictx);
void iommufd_access_destroy(struct iommufd_access *access);
int iommufd_access_attach(struct iommufd_access *access, uint32_t ioas_id);
int iommufd_access_attach_internal(struct iommufd_access *access, struct iommufd_ioas *ioas);
int iommufd_access_replace(struct iommufd_access *access, uint32_t ioas_id);
void iommufd_access_detach(struct iommufd_access *access);
void iommufd_access_destroy_object(struct iommufd_object *obj);

/*
 * Pin [iova, iova + length): iova and the area offsets must be page aligned
 * (EINVAL), the range fully mapped (ENOENT) with the needed permission
 * (EPERM). out_pages[i] gets the host address of page i. Undo with
 * iommufd_access_unpin_pages() with the same iova and length.
 */
int iommufd_access_pin_pages(struct iommufd_access *access, uint64_t iova, uint64_t length,
			     void **out_pages, unsigned int flags);
void iommufd_access_unpin_pages(struct iommufd_access *access, uint64_t iova, uint64_t length);
/*
 * Copy between @data and [iova, iova + length) through the IOAS's areas:
 * ENOENT not fully mapped, EPERM missing permission, EINVAL while the area
 * is being unmapped, EFAULT when the backing memory is gone.
 */
int iommufd_access_rw(struct iommufd_access *access, uint64_t iova, void *data, size_t length,
		      unsigned int flags);
/* UNMAP is removing [iova, iova + length): ask every access of @iopt to let go. */
void iommufd_access_notify_unmap(struct io_pagetable *iopt, uint64_t iova, uint64_t length);

/* ------------------------------------------------------------------ */
/* HW page tables (hw_pagetable.c)                                     */

/* IOMMU_NO_PASID: the device's RID (requests without a PASID). */
#define IOMMU_NO_PASID 0u

struct iommufd_fault;
struct iommufd_viommu;
struct iommufd_device;

/*
 * What HWPT_PAGING and HWPT_NESTED objects share (the first member of
 * both, so container_of() on obj works for either): the domain, the fault
 * queue that page requests on it go to, and whether PASIDs may use it.
 */
struct iommufd_hw_pagetable {
	struct iommufd_object obj;
	struct iommu_domain *domain;
	struct iommufd_fault *fault; /* users reference, or NULL */
	bool pasid_compat;	     /* allocated with IOMMU_HWPT_ALLOC_PASID */
};

/* A paging HWPT: a domain the core fills from an IOAS. */
struct iommufd_hwpt_paging {
	struct iommufd_hw_pagetable common;
	struct iommufd_ioas *ioas; /* users reference */
	bool auto_domain;	   /* made by an attach to an IOAS; dies with its last device */
	bool nest_parent;	   /* allocated with NEST_PARENT */
	/*
	 * DMA through it snoops CPU caches (VFIO_DMA_CC_IOMMU). The core maps
	 * with IOMMU_CACHE and every model here is coherent, so always true.
	 */
	bool enforce_cache_coherency;
	/* On ioas->hwpt_list and added to the io_pagetable; hwpt_item under ioas->mutex. */
	bool in_iopt;
	struct list_head hwpt_item;
};

/* A nested HWPT: a user stage 1 on a NEST_PARENT paging HWPT or a vIOMMU. */
struct iommufd_hwpt_nested {
	struct iommufd_hw_pagetable common;
	struct iommufd_hwpt_paging *parent; /* users reference unless viommu is set */
	struct iommufd_viommu *viommu;	    /* users reference, or NULL */
};

static inline struct iommufd_hw_pagetable *to_hwpt(struct iommufd_object *obj)
{
	return container_of(obj, struct iommufd_hw_pagetable, obj);
}

static inline struct iommufd_hwpt_paging *find_hwpt_paging(struct iommufd_hw_pagetable *hwpt)
{
	if (hwpt->obj.type != IOMMUFD_OBJ_HWPT_PAGING)
		return NULL;
	return container_of(hwpt, struct iommufd_hwpt_paging, common);
}

/* A paging HWPT of ID @id, with a get; ERR_PTR(-ENOENT) for anything else. */
static inline struct iommufd_hwpt_paging *iommufd_get_hwpt_paging(struct iommufd_ctx *ictx,
								  uint32_t id)
{
	struct iommufd_object *obj = iommufd_get_object(ictx, id, IOMMUFD_OBJ_HWPT_PAGING);

	if (IS_ERR(obj))
		return (struct iommufd_hwpt_paging *)obj;
	return container_of(obj, struct iommufd_hwpt_paging, common.obj);
}

/*
 * Allocate a paging HWPT for @idev on @ioas (caller holds ioas->mutex until
 * it finalizes or aborts the object): flag checks, the model's domain,
 * optionally an immediate attach of (@idev, @pasid), then the domain joins
 * the IOAS (every area mapped). Not published; ERR_PTR on failure.
 */
struct iommufd_hwpt_paging *iommufd_hwpt_paging_alloc(struct iommufd_ctx *ictx,
						      struct iommufd_ioas *ioas,
						      struct iommufd_device *idev, uint32_t pasid,
						      uint32_t flags, bool immediate_attach,
						      const struct iommu_user_data *user_data);
/* Drop a users reference taken by an attach; an auto domain left unused is destroyed. */
void iommufd_hw_pagetable_put(struct iommufd_ctx *ictx, struct iommufd_hw_pagetable *hwpt);
void iommufd_hwpt_paging_destroy(struct iommufd_object *obj);
void iommufd_hwpt_paging_abort(struct iommufd_object *obj);
void iommufd_hwpt_nested_destroy(struct iommufd_object *obj);
void iommufd_hwpt_nested_abort(struct iommufd_object *obj);

/* ------------------------------------------------------------------ */
/* Devices (device.c)                                                  */

/* One attachment of a device: its RID (pasid 0) or a PASID, to a HWPT. */
struct iommufd_attach {
	uint32_t pasid;
	struct iommufd_hw_pagetable *hwpt; /* users reference */
};

struct iommufd_vdevice;

/*
 * A device bound to the context (Linux's iommufd_device; there are no
 * iommu groups here: every device is its own group). The binding driver
 * (selftest.c's mock device object, later the VFIO cdev) holds one users
 * reference until iommufd_device_unbind(); every attachment holds another.
 */
struct iommufd_device {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	struct udev *dev;
	bool holds_ctx; /* the bind took a context reference (not for selftest devices) */
	/* Write: attach, replace, detach; read: fault and vEVENT triggers. */
	pthread_rwlock_t iopf_rwsem;
	/* Guards attach[], nattach, vdev and destroying. */
	pthread_mutex_t lock;
	struct iommufd_attach *attach; /* unsorted; pasid 0 is the RID */
	unsigned int nattach, attach_cap;
	struct iommufd_vdevice *vdev; /* its vDEVICE (at most one), no reference */
	bool destroying;	      /* being unbound: no new vDEVICE (ENOENT) */
};

static inline struct iommufd_device *iommufd_get_device(struct iommufd_ctx *ictx, uint32_t id)
{
	struct iommufd_object *obj = iommufd_get_object(ictx, id, IOMMUFD_OBJ_DEVICE);

	if (IS_ERR(obj))
		return (struct iommufd_device *)obj;
	return container_of(obj, struct iommufd_device, obj);
}

/*
 * Bind @dev to @ictx: a published DEVICE object, *id its ID. EBUSY if the
 * device is bound already (to any context). @hold_ctx: keep the context
 * alive while bound (a VFIO device does; the selftest's mock device object
 * lives in the context itself and must not).
 */
struct iommufd_device *iommufd_device_bind(struct iommufd_ctx *ictx, struct udev *dev, uint32_t *id,
					   bool hold_ctx);
/* Undo the bind: force-destroys the device's vDEVICE (a tombstone), detaches nothing. */
void iommufd_device_unbind(struct iommufd_device *idev);
/*
 * Attach (@idev, @pasid) to *pt_id, an IOAS (a compatible auto HWPT of it
 * is reused, else one is made) or a HWPT; *pt_id gets the HWPT attached.
 * EBUSY when already attached (use replace), EINVAL for the PASID rules of
 * reference iommufd.md §4.4, EADDRINUSE for reserved-region conflicts, the
 * model's errno otherwise.
 */
int iommufd_device_attach(struct iommufd_device *idev, uint32_t pasid, uint32_t *pt_id);
/* Atomically move an attached (@idev, @pasid) to *pt_id; on failure nothing changed. */
int iommufd_device_replace(struct iommufd_device *idev, uint32_t pasid, uint32_t *pt_id);
/* Back to blocked; outstanding page requests of it are answered INVALID. No-op if detached. */
void iommufd_device_detach(struct iommufd_device *idev, uint32_t pasid);
/*
 * The attach step itself, for hw_pagetable.c's immediate attach: (@idev,
 * @pasid) to @hwpt, taking a users reference on it. Detach returns the HWPT
 * with that reference still held (the caller puts it), NULL if detached.
 */
int iommufd_hw_pagetable_attach(struct iommufd_hw_pagetable *hwpt, struct iommufd_device *idev,
				uint32_t pasid);
struct iommufd_hw_pagetable *iommufd_hw_pagetable_detach(struct iommufd_device *idev,
							 uint32_t pasid);
/* The HWPT (@idev, @pasid) is attached to, or NULL; no reference (caller holds idev). */
struct iommufd_hw_pagetable *iommufd_device_attached_hwpt(struct iommufd_device *idev,
							  uint32_t pasid);
void iommufd_device_pre_destroy(struct iommufd_object *obj);
void iommufd_device_destroy(struct iommufd_object *obj);

/* ------------------------------------------------------------------ */
/* Fault queues (fault.c)                                              */

/*
 * A FAULT object and its fd: page requests of HWPTs allocated with its ID
 * are queued per group; read() hands whole groups out and moves them to
 * the response table (cookie -> group); write() completes them. See fault.c.
 */
struct iommufd_fault {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	/* Guards everything below. */
	pthread_mutex_t mutex;
	struct uiommu_file *file; /* the fd's file, NULL once it is released */
	struct list_head deliver; /* complete groups not read yet */
	struct list_head partial; /* faults of groups whose last page has not come */
	struct idr response;	  /* cookie -> group, read and awaiting a response */
};

static inline struct iommufd_fault *iommufd_get_fault(struct iommufd_ctx *ictx, uint32_t id)
{
	struct iommufd_object *obj = iommufd_get_object(ictx, id, IOMMUFD_OBJ_FAULT);

	if (IS_ERR(obj))
		return (struct iommufd_fault *)obj;
	return container_of(obj, struct iommufd_fault, obj);
}

/* The sink the core installs on the domain of a HWPT that has a fault queue. */
extern struct iommu_event_sink iommufd_fault_sink;
/*
 * (@idev, @pasid) leaves @hwpt: answer INVALID to every page request that
 * came through that attachment and is still queued or unanswered.
 */
void iommufd_auto_response_faults(struct iommufd_hw_pagetable *hwpt, struct iommufd_device *idev,
				  uint32_t pasid);
void iommufd_fault_destroy(struct iommufd_object *obj);

/* ------------------------------------------------------------------ */
/* vIOMMU, vDEVICE, vEVENTQ, HW queue (viommu.c, eventq.c)             */

struct iommufd_viommu {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	struct iommufd_hwpt_paging *hwpt; /* the nesting parent, users reference */
	struct iommu_viommu *core;	  /* the model's object (ops, mmap region) */
	unsigned int type;
	/* Serialises the model's vIOMMU ops; guards vdevs and hw_queues. */
	pthread_mutex_t lock;
	struct list_head vdevs;	    /* iommufd_vdevice::node */
	struct list_head hw_queues; /* iommufd_hw_queue::node */
	/* Guards veventqs (read by event reports, written by alloc/destroy). */
	pthread_rwlock_t veventqs_rwsem;
	struct list_head veventqs; /* iommufd_veventq::node */
};

static inline struct iommufd_viommu *iommufd_get_viommu(struct iommufd_ctx *ictx, uint32_t id)
{
	struct iommufd_object *obj = iommufd_get_object(ictx, id, IOMMUFD_OBJ_VIOMMU);

	if (IS_ERR(obj))
		return (struct iommufd_viommu *)obj;
	return container_of(obj, struct iommufd_viommu, obj);
}

/* A device's guest-visible ID on a vIOMMU. Holds the device with a short-term reference. */
struct iommufd_vdevice {
	struct iommufd_object obj;
	struct iommufd_viommu *viommu; /* users reference */
	struct iommufd_device *idev;   /* short-term reference */
	uint64_t virt_id;
	struct list_head node; /* viommu->vdevs, under viommu->lock */
	bool initialized;      /* the model's vdevice_init succeeded */
};

struct iommufd_hw_queue {
	struct iommufd_object obj;
	struct iommufd_viommu *viommu; /* users reference */
	struct iommufd_access *access; /* internal access pinning the queue memory */
	struct iommufd_hw_queue *prev; /* the queue this one depends on, users reference */
	struct list_head node;	       /* viommu->hw_queues, under viommu->lock */
	unsigned int type, index;
	uint64_t base_addr, length; /* in the nesting parent's IOVA space */
	bool initialized;
};

struct iommufd_vevent {
	struct list_head node;
	struct iommufd_vevent_header header;
	size_t data_len;
	uint8_t *data; /* the payload, allocated right behind the struct */
};

struct iommufd_veventq {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	struct iommufd_viommu *viommu; /* users reference */
	struct list_head node;	       /* viommu->veventqs */
	unsigned int type;
	uint32_t depth;
	/* Guards everything below. */
	pthread_mutex_t lock;
	struct uiommu_file *file;
	struct list_head deliver;
	uint32_t num_events; /* real events on deliver (not the lost header) */
	uint32_t sequence;   /* the next event's, 0 .. INT_MAX */
	/* The LOST_EVENTS header: on deliver, last, when events were dropped. */
	struct iommufd_vevent lost_events_header;
};

/* The model's report_event hook (installed on every iommu_viommu). */
int iommufd_viommu_report_event(struct iommu_viommu *core, unsigned int type, const void *data,
				size_t len);
void iommufd_viommu_destroy(struct iommufd_object *obj);
void iommufd_vdevice_destroy(struct iommufd_object *obj);
void iommufd_hw_queue_destroy(struct iommufd_object *obj);
void iommufd_veventq_destroy(struct iommufd_object *obj);

/* selftest.c */
void iommufd_selftest_destroy(struct iommufd_object *obj);

/* ------------------------------------------------------------------ */
/* VFIO compatibility (vfio_compat.c)                                  */

/* The compat IOAS ID (ENODEV when none). */
int iommufd_vfio_compat_ioas_get_id(struct iommufd_ctx *ictx, uint32_t *out_ioas_id);
/* Make sure a compat IOAS exists (attaching the first VFIO group does this). */
int iommufd_vfio_compat_ioas_create(struct iommufd_ctx *ictx);
int iommufd_vfio_compat_set_no_iommu(struct iommufd_ctx *ictx);

/*
 * VFIO containers (lib/vfio/container.c): a context whose type1 ioctls give
 * the answers of VFIO's own type1 driver (drivers/vfio/vfio_iommu_type1.c)
 * rather than those of iommufd's compat layer, on the same IOAS engine:
 * READ or WRITE required, EEXIST for any overlap, EINVAL for a v2 unmap
 * that would split a mapping, the 65535-entry limit (ENOSPC), VADDR
 * updates, DIRTY_PAGES, the MIGRATION capability, process (MM) locked
 * memory accounting. See vfio_compat.c.
 *
 * _init: make @ictx one (before it is shared); -ENOMEM.
 * _open: SET_IOMMU(@type) once the container has groups: TYPE1, TYPE1v2 and
 *   TYPE1_NESTING make the compat IOAS (*ioas_id, for the groups' devices
 *   to attach to; NESTING's domains are NEST_PARENT stage 2s); UNMAP_ALL is
 *   claimed by type1 but refused (-EINVAL), anything else has no backend
 *   (-ENODEV), as VFIO answers.
 * _close: the last group left: every mapping, the compat IOAS and the type
 *   go; the container is back to "no IOMMU set".
 * _attach_begin/_end: around attaching a group's devices to an open
 *   container; begin is -EBUSY while a mapping's vaddr is invalid
 *   (VFIO_DMA_UNMAP_FLAG_VADDR) and otherwise holds the type1 lock.
 * _destroy: free the state (iommufd_ctx_free()).
 * iommufd_vfio_dma_entry_limit: VFIO's dma_entry_limit module parameter
 *   (65535), read at _open.
 */
extern unsigned int iommufd_vfio_dma_entry_limit;
int iommufd_vfio_container_init(struct iommufd_ctx *ictx);
int iommufd_vfio_container_open(struct iommufd_ctx *ictx, unsigned long type, uint32_t *ioas_id);
void iommufd_vfio_container_close(struct iommufd_ctx *ictx);
int iommufd_vfio_container_attach_begin(struct iommufd_ctx *ictx);
void iommufd_vfio_container_attach_end(struct iommufd_ctx *ictx);
void iommufd_vfio_container_destroy(struct iommufd_ctx *ictx);

/* ------------------------------------------------------------------ */
/* Test support                                                       */

/*
 * Pins held on the host page at @addr (a user address or a file alias):
 * the number of iopt_pages, over every context of the process, that pin it.
 * What IOMMU_TEST_OP_MD_CHECK_REFS compares with (Linux: page refcount /
 * GUP_PIN_COUNTING_BIAS). File-backed pages are found by (device, inode,
 * offset) when @addr lies in a file mapping the library made.
 */
unsigned int iopt_pages_pin_count(uintptr_t addr);
/*
 * The same for page @pgoff of the file (@dev, @ino): for a user address that
 * maps a memfd the program shares with MAP_FILE.
 */
unsigned int iopt_pages_file_pin_count(uint64_t dev, uint64_t ino, uint64_t pgoff);
/*
 * The host address (the library's own mapping) of byte @offset of the file
 * (@dev, @ino) if some MAP_FILE covers it, else 0: what MD_CHECK_MAP's
 * resolve function needs for a user address inside a mapping of that memfd
 * (the selftest finds dev/ino/offset of the user address in /proc/self/maps).
 */
uintptr_t iopt_pages_file_host(uint64_t dev, uint64_t ino, uint64_t offset);

#endif
