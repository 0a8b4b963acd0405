/* SPDX-License-Identifier: MIT */
/*
 * lib/hw/iommu.h - the driver-ops interface between the iommufd core and
 * the IOMMU models (mock, smmuv3, vtd, spapr).
 *
 * The iommufd core is model-agnostic: it sees a model only through these
 * structures, as Linux's iommufd sees a driver only through struct
 * iommu_ops and struct iommu_domain_ops. The names follow Linux's so the
 * two can be read side by side; the semantics are the ones the uAPI needs
 * (reference iommufd.md §4), written here.
 *
 *  struct iommu_device  one IOMMU instance (an SMMU, a VT-d unit, the mock)
 *  struct udev          an emulated device behind one IOMMU instance (the
 *                       "struct device" of this world): stream / requester
 *                       id, PASID width, reserved regions
 *  struct iommu_domain  a translation context a device (or a device PASID)
 *                       is attached to: paging (IOVA -> PA, owned by the
 *                       core through map/unmap), nested (a user stage 1 on a
 *                       paging parent), or the built-in blocked domain
 *
 * Addresses. A "physical address" given to map_pages() is a host virtual
 * address of this process (DESIGN.md §1): the core maps user memory that a
 * program handed to IOMMU_IOAS_MAP.
 *
 * Errors: functions return 0 or a negative errno; allocators return NULL
 * and put the negative errno in *err. Models never abort on bad input.
 *
 * Locking: the core serialises every call on one domain that changes it
 * (map, unmap, attach, invalidate, dirty) with the owning context's lock;
 * models must allow concurrent translation (DMA) while that happens.
 */
#ifndef UIOMMU_HW_IOMMU_H
#define UIOMMU_HW_IOMMU_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct iommu_device;
struct iommu_domain;
struct udev;
/* The nested-stage VFIO extension's structs (<linux/iommu.h>, the 5.x uAPI). */
struct iommu_pasid_table_config;
struct iommu_cache_invalidate_info;
struct iommu_fault;

/* Permissions of a mapping (same values as PT_PROT_*). */
#define IOMMU_READ  0x1
#define IOMMU_WRITE 0x2
#define IOMMU_NOEXEC 0x8 /* (no execute requests are issued by our devices) */

enum iommu_domain_type {
	IOMMU_DOMAIN_BLOCKED = 0,
	IOMMU_DOMAIN_PAGING,
	IOMMU_DOMAIN_NESTED,
};

/* Flags of domain_alloc_paging_flags (values of the uAPI's IOMMU_HWPT_ALLOC_*). */
#define IOMMU_DOMAIN_NEST_PARENT    (1u << 0)
#define IOMMU_DOMAIN_DIRTY_TRACKING (1u << 1)
#define IOMMU_DOMAIN_PASID	    (1u << 3)

/* A user-supplied blob for a driver (HWPT / vIOMMU allocation data). */
struct iommu_user_data {
	unsigned int type; /* enum iommu_hwpt_data_type / iommu_viommu_type */
	const void *uptr;  /* user memory (this process) */
	size_t len;
};

/* An array of user entries (HWPT / vIOMMU invalidation requests). */
struct iommu_user_data_array {
	unsigned int type;
	void *uptr;
	size_t entry_len;
	uint32_t entry_num; /* in: entries given; out: entries fully handled */
};

/*
 * Copy entry @index of @array into @dst (@dst_len bytes, the driver's
 * struct), checking the type (-EINVAL), the length: at least @min_len
 * (the end of the driver's first mandatory field) and at most @dst_len
 * (-EINVAL); a NULL pointer gives -EFAULT. Bytes beyond entry_len are
 * zeroed.
 */
int iommu_copy_struct_from_user_array(void *dst, size_t dst_len, size_t min_len,
				      const struct iommu_user_data_array *array,
				      unsigned int type, uint32_t index);
/* The same for a single blob. */
int iommu_copy_struct_from_user(void *dst, size_t dst_len, size_t min_len,
				const struct iommu_user_data *data, unsigned int type);

/*
 * Copy a whole array at once, the way drivers that take every entry before
 * acting on any do (Linux's iommu_copy_struct_from_full_user_array): @dst
 * holds entry_num entries of @dst_entry_len bytes. Wrong type or entry_num
 * 0: -EINVAL. Each entry is copied like copy_struct_from_user(): a shorter
 * entry is zero-extended, a longer one must have only zero bytes past
 * @dst_entry_len (-E2BIG otherwise); a NULL pointer gives -EFAULT. Nothing
 * is acted on by the helper, so a failure means no entry was handled.
 */
int iommu_copy_struct_from_full_user_array(void *dst, size_t dst_entry_len,
					   const struct iommu_user_data_array *array,
					   unsigned int type);
/*
 * Report driver data back through @data (vIOMMU allocation output): the
 * type must match and data->len lie in [@min_len, @src_len] (-EINVAL);
 * data->len bytes of @src are written to data->uptr (-EFAULT if NULL).
 * The blob's memory is the caller's in/out buffer, hence the cast inside.
 */
int iommu_copy_struct_to_user(const struct iommu_user_data *data, const void *src,
			      size_t src_len, size_t min_len, unsigned int type);

/*
 * A user dirty bitmap being filled by read_and_clear_dirty. The core sets
 * it up with iommu_dirty_bitmap_init() for IOMMU_HWPT_GET_DIRTY_BITMAP;
 * models only call iommu_dirty_bitmap_record(). Bit n stands for the
 * page_size bytes of IOVA at iova + n * page_size; the bitmap is little-
 * endian u64 words at any byte address, and bits are only ever ORed in.
 * With data NULL nothing is written: read_and_clear_dirty then only
 * clears (how the core wipes stale state when tracking is switched on).
 */
struct iommu_dirty_bitmap {
	uint8_t *data;	      /* the user bitmap, or NULL */
	uint64_t iova;	      /* IOVA of bit 0 */
	uint64_t last;	      /* last IOVA the bitmap covers (inclusive) */
	unsigned int pgshift; /* log2(page_size) */
	uint64_t nr_records;  /* record calls that set at least one bit (statistics) */
};
/* -EINVAL: page_size not a power of two, length 0, or iova + length - 1 wraps. */
int iommu_dirty_bitmap_init(struct iommu_dirty_bitmap *dirty, void *data, uint64_t iova,
			    uint64_t length, uint64_t page_size);
/* Set the bits of every page that [iova, iova + length) touches, clipped to the bitmap. */
void iommu_dirty_bitmap_record(struct iommu_dirty_bitmap *dirty, uint64_t iova, uint64_t length);
#define IOMMU_DIRTY_NO_CLEAR (1u << 0)

struct pt_table;

/*
 * The argument checks every map_pages op makes, in the kernel's order:
 * @pgsize a power of two the domain supports and @pgcount not 0 (EINVAL);
 * @iova and @paddr aligned to it (EINVAL); the size neither overflowing
 * nor wrapping either address (EOVERFLOW); inside the aperture (ERANGE);
 * read or write asked for (EINVAL). On 0, *@size is the bytes to map and
 * *@pt_prot the PT_PROT_R / PT_PROT_W of @prot (execute is the model's
 * choice).
 */
int iommu_map_pages_check(const struct iommu_domain *domain, uint64_t iova, uint64_t paddr,
			  size_t pgsize, size_t pgcount, int prot, uint64_t *size,
			  unsigned int *pt_prot);

/*
 * The map of map_pages for a model whose domain is one pt_table, after
 * iommu_map_pages_check(): @size bytes at @iova mapped to @paddr in @t with
 * @pt_prot under @lock (NULL: the table needs none); on success @size is
 * added to *@mapped (when not NULL). 0 or pt_map()'s -errno.
 */
int iommu_pt_map(struct pt_table *t, pthread_mutex_t *lock, uint64_t iova, uint64_t paddr,
		 uint64_t size, unsigned int pt_prot, size_t *mapped);

/*
 * unmap_pages of a model whose domain is one pt_table: @pgsize x @pgcount
 * bytes at @iova unmapped from @t under @lock (NULL: the table needs
 * none), the bytes unmapped returned (0 for a count of 0 or one that
 * overflows, as the core never asks). The caller brackets it in
 * epoch_hold() / epoch_release() and invalidates what went before the
 * release.
 */
uint64_t iommu_pt_unmap(struct pt_table *t, pthread_mutex_t *lock, uint64_t iova, size_t pgsize,
			size_t pgcount);

/* iova_to_phys of a model whose domain is one pt_table: 0 where nothing is mapped. */
uint64_t iommu_pt_iova_to_phys(const struct pt_table *t, uint64_t iova);

/*
 * The dirty-tracking walk a model with hardware dirty state in its page
 * table runs for read_and_clear_dirty, under @lock (what serialises map and
 * unmap of @t; NULL: the table needs none): record every leaf of @t that
 * meets [iova, iova + size) and is dirty, (desc & @dirty_mask) ==
 * @dirty_bits, in @dirty (its part inside the range); unless @flags has
 * IOMMU_DIRTY_NO_CLEAR, make it clean by flipping @clean_bits (the bits of
 * @dirty_mask whose clean value differs from @dirty_bits: cleared for a
 * stage-2 / VT-d dirty bit, set for a stage-1 read-only AP[2]) with a
 * compare-and-swap, reading again when the hardware updated the leaf in
 * between. True when leaves were cleaned: *@inv_start..*@inv_last is then
 * their span, which the caller invalidates, or a cached writable
 * translation would write without marking the leaf.
 */
bool iommu_pt_collect_dirty(const struct pt_table *t, pthread_mutex_t *lock, uint64_t iova,
			    uint64_t size, unsigned long flags, uint64_t dirty_mask,
			    uint64_t dirty_bits, uint64_t clean_bits,
			    struct iommu_dirty_bitmap *dirty, uint64_t *inv_start,
			    uint64_t *inv_last);

/*
 * A fresh offset for a region a model offers for mmap() on the iommufd
 * (struct iommu_viommu.mmap_*): unique in the process, a multiple of 64
 * KiB (so of any host page size), never 0. The core keys its mmap table by
 * it; the model reports it to userspace in its vendor data.
 */
uint64_t iommu_mmap_offset_alloc(uint64_t length);
/*
 * Memory for such a region: @len bytes (a multiple of the host page size),
 * zeroed, page aligned, shared and backed by a memfd (*fd), so that the
 * core can map the same pages again for the program. NULL (*fd = -1) when
 * it cannot be had. Free with iommu_mmap_region_free().
 */
void *iommu_mmap_region_alloc(size_t len, int *fd);
void iommu_mmap_region_free(void *base, size_t len, int fd);

/* An I/O page fault (PRI page request) as the model reports it. */
struct iopf_fault {
	uint32_t flags;	 /* IOMMU_PGFAULT_FLAGS_* of the uAPI */
	uint32_t pasid;
	uint32_t grpid;
	uint32_t perm;	 /* IOMMU_PGFAULT_PERM_* */
	uint64_t addr;
	uint32_t length;
};

struct iommu_page_response {
	uint32_t pasid, grpid;
	uint32_t code; /* IOMMUFD_PAGE_RESP_SUCCESS / _INVALID */
};

/*
 * How a model reports asynchronous events to the core: a page request for
 * a domain that has a fault queue, and vIOMMU events (vEVENTs). The core
 * installs these on a domain / vIOMMU; a model calls them from its DMA
 * path. Return 0, or -errno when nobody listens (the model then answers
 * the request itself, e.g. with a response code of INVALID).
 */
struct iommu_event_sink {
	int (*report_iopf)(struct iommu_domain *domain, struct udev *dev,
			   const struct iopf_fault *fault);
	/*
	 * The IOMMU lost page requests (its queue overflowed, and it answered
	 * the lost Last requests itself): page request groups of @dev that
	 * came through @domain and have not ended will never end; drop them
	 * (Linux's iopf_queue_discard_partial()). May be NULL.
	 */
	void (*discard_partial)(struct iommu_domain *domain, struct udev *dev);
	void *priv;
};

struct iommu_domain_ops {
	int (*attach_dev)(struct iommu_domain *domain, struct udev *dev);
	/* Attach @domain to (@dev, @pasid); @old is the domain being replaced or NULL. */
	int (*set_dev_pasid)(struct iommu_domain *domain, struct udev *dev, uint32_t pasid,
			     struct iommu_domain *old);

	/* Paging: map @pgcount pages of @pgsize at @iova to @paddr; *mapped gets bytes done. */
	int (*map_pages)(struct iommu_domain *domain, uint64_t iova, uint64_t paddr,
			 size_t pgsize, size_t pgcount, int prot, size_t *mapped);
	/* Paging: unmap; returns bytes unmapped. Includes the IOTLB invalidation. */
	size_t (*unmap_pages)(struct iommu_domain *domain, uint64_t iova, size_t pgsize,
			      size_t pgcount);
	/* Paging: the PA for @iova, 0 if none. */
	uint64_t (*iova_to_phys)(struct iommu_domain *domain, uint64_t iova);

	/* Nested: process user invalidation entries; array->entry_num is written back. */
	int (*cache_invalidate_user)(struct iommu_domain *domain,
				     struct iommu_user_data_array *array);

	/* Dirty tracking (paging domains allocated with DIRTY_TRACKING). */
	int (*set_dirty_tracking)(struct iommu_domain *domain, bool enable);
	int (*read_and_clear_dirty)(struct iommu_domain *domain, uint64_t iova, size_t size,
				    unsigned long flags, struct iommu_dirty_bitmap *dirty);

	/*
	 * Two stages without a vIOMMU (the VFIO v13 nested extension, on a
	 * NEST_PARENT paging domain; reference vfio.md §2.3-§2.5). All optional:
	 * the helpers of iommu_nested.c answer ENODEV for a model without them,
	 * as Linux's IOMMU core does.
	 *
	 * attach_pasid_table: the guest's stage-1 configuration (@cfg, copied and
	 * checked by iommu_uapi_attach_pasid_table: argsz, version, config in
	 * 1..3) for every device attached to @domain, now and later;
	 * detach_pasid_table: back to stage 2 only (never fails).
	 */
	int (*attach_pasid_table)(struct iommu_domain *domain,
				  const struct iommu_pasid_table_config *cfg);
	void (*detach_pasid_table)(struct iommu_domain *domain);
	/* A guest invalidation for @dev of @domain (checked by iommu_uapi_cache_invalidate). */
	int (*cache_invalidate)(struct iommu_domain *domain, struct udev *dev,
				const struct iommu_cache_invalidate_info *inv);
	/* The guest's MSI doorbell: its stage-1 @giova maps to @gpa (@size bytes). */
	int (*bind_guest_msi)(struct iommu_domain *domain, uint64_t giova, uint64_t gpa,
			      uint64_t size);
	void (*unbind_guest_msi)(struct iommu_domain *domain, uint64_t giova);
	/*
	 * Where the host's MSI doorbell page is for @domain's devices while a
	 * guest's configuration is in force (TRANSLATE or ABORT): messages go
	 * through it like any DMA, so *iova is the bound guest IOVA, or the
	 * host's own doorbell IOVA when nothing is bound. -ENOENT otherwise
	 * (stage 2 only: the host's doorbell mapping always holds).
	 */
	int (*guest_msi_iova)(struct iommu_domain *domain, uint64_t *iova);

	void (*free)(struct iommu_domain *domain);
};

struct iommu_domain {
	enum iommu_domain_type type;
	const struct iommu_domain_ops *ops;
	struct iommu_device *iommu;
	uint64_t pgsize_bitmap;		 /* page sizes map_pages accepts */
	uint64_t aperture_start, aperture_end; /* inclusive: the IOVA range it translates */
	struct iommu_domain *parent;	 /* nested: the stage-2 (NEST_PARENT) domain */
	bool dirty_ops;			 /* set_dirty_tracking / read_and_clear_dirty usable */
	struct iommu_event_sink *sink;	 /* installed by the core, may be NULL */
	void *iommufd_hwpt;		 /* back pointer for the core */
};

/* A reserved IOVA region of a device (e.g. an MSI doorbell window). */
struct iommu_resv_region {
	uint64_t start, last;
};

struct udev {
	const char *name;
	struct iommu_device *iommu;
	uint32_t sid;		   /* stream id / requester id */
	unsigned int max_pasid_log2; /* 0: no PASID */
	bool no_dirty;		   /* the IOMMU cannot track dirty state for it */
	bool is_pci;
	unsigned int nr_resv;
	const struct iommu_resv_region *resv;
	void *iommu_priv; /* the model's per-device state */
	void *iommufd_priv; /* the core's (bound idev) */
	void *fault_param;  /* iommu_nested.c's: the registered fault handler */
};

/*
 * vIOMMU: a slice of a physical IOMMU for one VM, on a NEST_PARENT paging
 * domain (reference iommufd.md §4.7). The core owns the object; the model
 * supplies the behaviour.
 */
struct iommu_viommu;
struct iommu_viommu_ops {
	/* Nested domain owned by the vIOMMU (pt_id = vIOMMU in HWPT_ALLOC). */
	struct iommu_domain *(*alloc_domain_nested)(struct iommu_viommu *viommu, uint32_t flags,
						    const struct iommu_user_data *data, int *err);
	int (*cache_invalidate)(struct iommu_viommu *viommu, struct iommu_user_data_array *array);
	int (*vdevice_init)(struct iommu_viommu *viommu, struct udev *dev, uint64_t virt_id);
	void (*vdevice_destroy)(struct iommu_viommu *viommu, struct udev *dev, uint64_t virt_id);
	/* HW queues (type, index, the pinned guest queue as host memory). */
	int (*hw_queue_init)(struct iommu_viommu *viommu, unsigned int type, unsigned int index,
			     void *base, uint64_t length);
	/*
	 * -EBUSY, with nothing changed, while another queue depends on queue
	 * @index (Linux: iommufd_hw_queue_depend()); the core then fails
	 * IOMMU_DESTROY with EBUSY. Destroying in reverse order of creation
	 * always succeeds.
	 */
	int (*hw_queue_destroy)(struct iommu_viommu *viommu, unsigned int index);
	void (*destroy)(struct iommu_viommu *viommu);
};

struct iommu_viommu {
	const struct iommu_viommu_ops *ops;
	struct iommu_device *iommu;
	struct iommu_domain *parent; /* the NEST_PARENT domain */
	unsigned int type;	     /* enum iommu_viommu_type */
	/* Report a vEVENT (type, payload) for the core to queue; 0 or -errno. */
	int (*report_event)(struct iommu_viommu *viommu, unsigned int type, const void *data,
			    size_t len);
	/*
	 * A region of host memory the model offers for mmap() on the iommufd
	 * (mmap_len 0: none), at mmap_offset from iommu_mmap_offset_alloc().
	 * Set by viommu_alloc; the core maps it for userspace and keeps the
	 * vIOMMU busy while it is mapped. Page aligned, mmap_len a multiple
	 * of the host page size; from iommu_mmap_region_alloc(), whose memfd
	 * is mmap_fd (the core maps that for the program): the model registers
	 * it as an internal descriptor (util/intfd.h intfd_add()) and mmap_fd is
	 * then its name, which the core resolves (intfd_fd()) at each mmap.
	 */
	void *mmap_base;
	uint64_t mmap_len;
	uint64_t mmap_offset;
	int mmap_fd;
	void *iommufd_priv;
	void *priv; /* the model's */
};

/*
 * A DMA fault as the IOMMU reported it to the device: what a PCIe
 * completion (or the absence of one) would tell the requester.
 */
struct iommu_dma_fault {
	uint64_t iova;	     /* first byte that could not be accessed */
	uint32_t pasid;	     /* IOMMU_NO_PASID (0) when none */
	unsigned int access; /* PT_PROT_R or PT_PROT_W (IOMMU_READ / IOMMU_WRITE) */
	int err;	     /* -EFAULT: translation/permission fault; -EIO: config error */
	unsigned int reason; /* the model's own code (e.g. SMMU event type); 0 if none */
};

/*
 * The end of a model's hw_info: the model's @info (@info_len bytes, of
 * IOMMU_HW_INFO_TYPE_* @info_type) copied to @buf, at most @len bytes;
 * *@type and *@full_len set. The bytes copied, or -EFAULT when @buf is NULL
 * and @len is not 0.
 */
int iommu_hw_info_fill(const void *info, size_t info_len, unsigned int info_type, void *buf,
		       size_t len, unsigned int *type, size_t *full_len);

struct iommu_ops {
	const char *name;
	/* Vendor info blob for GET_HW_INFO; *type gets its type. Returns bytes copied to @buf. */
	int (*hw_info)(struct udev *dev, unsigned int req_type, void *buf, size_t len,
		       unsigned int *type, size_t *full_len);
	uint64_t (*capabilities)(struct udev *dev); /* IOMMU_HW_CAP_* */

	struct iommu_domain *(*domain_alloc_paging_flags)(struct udev *dev, uint32_t flags,
							  const struct iommu_user_data *data,
							  int *err);
	struct iommu_domain *(*domain_alloc_nested)(struct udev *dev, struct iommu_domain *parent,
						    uint32_t flags,
						    const struct iommu_user_data *data, int *err);
	/* Detach (@dev or @dev's @pasid) to blocking; never fails. */
	void (*block_dev)(struct udev *dev);
	void (*remove_dev_pasid)(struct udev *dev, uint32_t pasid, struct iommu_domain *domain);
	int (*page_response)(struct udev *dev, const struct iopf_fault *fault,
			     const struct iommu_page_response *resp);

	/* vIOMMU support: allocate one of @type; NULL + -EOPNOTSUPP when unsupported. */
	struct iommu_viommu *(*viommu_alloc)(struct udev *dev, struct iommu_domain *parent,
					     unsigned int type, const struct iommu_user_data *data,
					     int *err);

	/*
	 * One device access at @iova of up to @len bytes: 0 with *host set to the host address
	 * of @iova and *contig to the bytes from there that translate alike (>= 1, <= @len);
	 * or -errno with *fault filled, after the model has reported the fault the way its
	 * architecture does (SMMUv3 event record / stall, IOPF to the fault queue ...).
	 * Thread safe; never blocks except where the architecture stalls.
	 */
	int (*dma_translate)(struct udev *dev, uint32_t pasid, uint64_t iova, size_t len,
			     unsigned int access, void **host, size_t *contig,
			     struct iommu_dma_fault *fault);
};

struct iommu_device {
	const struct iommu_ops *ops;
	const char *name;
	void *priv;
};

/*
 * The nested extension's IOMMU layer (iommu_nested.c; Linux 5.12 + the
 * series' IOMMU part v15). The uapi_ functions take the user pointer of the
 * embedded struct and validate it by its own argsz exactly as reference
 * vfio.md §2.3 / §2.4 list (EINVAL; EFAULT for unreadable memory), then
 * call the domain op (ENODEV without one).
 */
int iommu_uapi_attach_pasid_table(struct iommu_domain *domain, const void *ucfg);
void iommu_detach_pasid_table(struct iommu_domain *domain);
int iommu_uapi_cache_invalidate(struct iommu_domain *domain, struct udev *dev, const void *uinv);
int iommu_bind_guest_msi(struct iommu_domain *domain, uint64_t giova, uint64_t gpa,
			 uint64_t size);
void iommu_unbind_guest_msi(struct iommu_domain *domain, uint64_t giova);
/* The domain op guest_msi_iova (above); -ENOENT for a model without it. */
int iommu_guest_msi_iova(struct iommu_domain *domain, uint64_t *iova);

/*
 * A device's fault handler (Linux's iommu_register_device_fault_handler):
 * whoever owns the device's nested configuration (VFIO's DMA fault region)
 * receives its stage-1 faults and page requests as struct iommu_fault
 * records (the 5.x uAPI layout). One handler per device (EBUSY); register
 * and unregister may be called from any thread; unregister waits until no
 * report is running in the handler. iommu_report_device_fault() is the
 * model's side: 0 when a handler took the record, its -errno (e.g. ENOSPC
 * for a full ring), or -ENODEV when nobody listens.
 */
typedef int (*iommu_dev_fault_handler_t)(const struct iommu_fault *fault, void *data);
int iommu_register_device_fault_handler(struct udev *dev, iommu_dev_fault_handler_t handler,
					void *data);
void iommu_unregister_device_fault_handler(struct udev *dev);
bool iommu_device_has_fault_handler(struct udev *dev);
int iommu_report_device_fault(struct udev *dev, const struct iommu_fault *fault);

/*
 * A device's DMA of @len bytes at @iova (@pasid, IOMMU_NO_PASID for none):
 * @write moves @buf to memory (access PT_PROT_W), else memory to @buf
 * (PT_PROT_R). Loops over the model's dma_translate and copies each
 * translated run; stops at the first fault, so no byte at or past the
 * faulting address moves, while every byte before it has (*done counts
 * them, in order from @iova). 0 when all @len bytes moved; else the
 * negative errno of the fault with *fault filled: -EFAULT / -EIO from the
 * model, -EOPNOTSUPP when the model has no dma_translate, -EINVAL when
 * [@iova, @iova + @len) wraps (nothing moves). Each translate-and-copy step
 * is a read-side section of util/epoch.h, so memory the core retires
 * through the epoch (a file mapping of an unmapped area) outlives a copy
 * that translated before the unmap. Thread safe.
 */
int iommu_dma_rw(struct udev *dev, uint32_t pasid, uint64_t iova, void *buf, size_t len,
		 bool write, size_t *done, struct iommu_dma_fault *fault);

#endif
