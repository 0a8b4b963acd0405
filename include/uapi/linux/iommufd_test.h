/* SPDX-License-Identifier: MIT */
/*
 * <linux/iommufd_test.h> - the iommufd selftest ABI: IOMMU_TEST_CMD and the
 * data formats of the kernel's mock IOMMU driver, as uiommu speaks them.
 *
 * In Linux this interface exists only in kernels built with
 * CONFIG_IOMMUFD_TEST, and its header is private to the kernel tree
 * (drivers/iommu/iommufd/iommufd_test.h); the selftest in
 * tools/testing/selftests/iommu includes it by relative path. uiommu's mock
 * model implements the same interface, so this is our own transcription of it:
 * the kernel's numbers, field order and sizes, our words.
 *
 * One header serves two generations of the selftest:
 *  - the newest one (v6.19 level: dma-buf ops, iommupt page-table types,
 *    MOCK_PAGE_SIZE in this header), and
 *  - the one in Debian's linux-source-6.12 (6.12.y with stable backports).
 *    Its backported tests already use IOMMU_HW_INFO_TYPE_DEFAULT,
 *    IOMMU_HW_INFO_FLAG_INPUT_TYPE, iommu_hw_info.in_data_type,
 *    MOCK_FLAGS_DEVICE_PASID and MOCK_PASID_WIDTH, which the 6.12 tree's own
 *    headers lack, so it builds only against newer headers such as these.
 * Operation numbers only ever grew at the end, so one list fits both. Where
 * the two differ, this header holds the union and says so at the item:
 * MOCK_FLAGS_DEVICE_HUGE_IOVA (used by 6.12, gone in v6.19) is kept, and
 * struct iommu_hwpt_selftest has the v6.19 size (8; 6.12 had 4 and only ever
 * uses sizeof and the end of iotlb, so it works unchanged with 8).
 * Older selftests defined MOCK_PAGE_SIZE and MOCK_HUGE_PAGE_SIZE as macros
 * after including this header; they are enumerators here, so such a macro
 * simply takes over in the including file, without a redefinition warning.
 */
#ifndef _UAPI_IOMMUFD_TEST_H
#define _UAPI_IOMMUFD_TEST_H

#include <linux/iommufd.h>
#include <linux/types.h>

/*
 * IOMMU_TEST_CMD operations (iommu_test_cmd.op). "id" below means the id field
 * of struct iommu_test_cmd; each op uses the union member of the same name.
 * An unknown op gives EOPNOTSUPP.
 */
enum {
	/* id = IOAS: reserve [start, start + length) so nothing maps there */
	IOMMU_TEST_OP_ADD_RESERVED = 1,
	/* id = IOAS or HWPT: create a mock device, bind it, attach it to id */
	IOMMU_TEST_OP_MOCK_DOMAIN = 2,
	/* id = paging HWPT: its mock table must map iova.. to the pages at uptr */
	IOMMU_TEST_OP_MD_CHECK_MAP = 3,
	/* the pages at uptr must each carry exactly refs pins */
	IOMMU_TEST_OP_MD_CHECK_REFS = 4,
	/* id = IOAS: create an in-kernel access (emulated device), as an fd */
	IOMMU_TEST_OP_CREATE_ACCESS = 5,
	/* id = access fd: release one ACCESS_PAGES pin */
	IOMMU_TEST_OP_DESTROY_ACCESS_PAGES = 6,
	/* id = access fd: pin an IOVA range through the access */
	IOMMU_TEST_OP_ACCESS_PAGES = 7,
	/* id = access fd: copy between a user buffer and an IOVA range */
	IOMMU_TEST_OP_ACCESS_RW = 8,
	/* shrink the temporary memory used while pinning (forces small batches) */
	IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT = 9,
	/* id = mock device object: replace its attachment with pt_id */
	IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE = 10,
	/* id = access fd: move the access to another IOAS */
	IOMMU_TEST_OP_ACCESS_REPLACE_IOAS = 11,
	/* as MOCK_DOMAIN, with MOCK_FLAGS_DEVICE_* flags for the device */
	IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS = 12,
	/* id = paging HWPT: mark IOPTEs dirty as if a device had written */
	IOMMU_TEST_OP_DIRTY = 13,
	/* id = nested HWPT: one mock IOTLB entry must hold a given value */
	IOMMU_TEST_OP_MD_CHECK_IOTLB = 14,
	/* inject an I/O page fault for a device */
	IOMMU_TEST_OP_TRIGGER_IOPF = 15,
	/* id = device: one mock device-cache entry must hold a given value */
	IOMMU_TEST_OP_DEV_CHECK_CACHE = 16,
	/* report a selftest vEVENT for a device */
	IOMMU_TEST_OP_TRIGGER_VEVENT = 17,
	/* id = mock device object: attach a PASID of the device to pt_id */
	IOMMU_TEST_OP_PASID_ATTACH = 18,
	/* id = mock device object: replace a PASID's attachment with pt_id */
	IOMMU_TEST_OP_PASID_REPLACE = 19,
	/* id = mock device object: detach a PASID */
	IOMMU_TEST_OP_PASID_DETACH = 20,
	/* id = mock device object: a PASID must be attached to hwpt_id (0: none) */
	IOMMU_TEST_OP_PASID_CHECK_HWPT = 21,
	/* create a test dma-buf; the ioctl returns its fd (v6.19) */
	IOMMU_TEST_OP_DMABUF_GET = 22,
	/* revoke or restore a test dma-buf (v6.19) */
	IOMMU_TEST_OP_DMABUF_REVOKE = 23,
	/*
	 * id = mock paging HWPT: [iova, iova + length) must map bytes
	 * [offset, offset + length) of a test dma-buf (after v6.19: the
	 * iommufd maintainer tree's selftest, 2026)
	 */
	IOMMU_TEST_OP_MD_CHECK_DMABUF = 24,
};

/* Page-table formats of mock paging domains (iommu_hwpt_selftest.pagetable_type, v6.19). */
enum {
	MOCK_IOMMUPT_DEFAULT = 0, /* the format the geometry below describes */
	MOCK_IOMMUPT_HUGE = 1,	  /* with huge IOVA pages (was DEVICE_HUGE_IOVA) */
	MOCK_IOMMUPT_AMDV1 = 2,	  /* the AMD v1 page-table format */
};

/* The mock IOMMU's geometry (for MOCK_IOMMUPT_DEFAULT). */
enum {
	MOCK_APERTURE_START = 1UL << 24,	    /* first usable IOVA: 16 MiB */
	MOCK_APERTURE_LAST = (1UL << 31) - 1,	    /* last usable IOVA: 2 GiB - 1 */
	MOCK_PAGE_SIZE = 2048,			    /* IOVA granule */
	MOCK_HUGE_PAGE_SIZE = 512 * MOCK_PAGE_SIZE, /* large mapping size: 1 MiB */
};

/* access_pages.flags */
enum {
	MOCK_FLAGS_ACCESS_WRITE = 1 << 0, /* pin for writing */
	MOCK_FLAGS_ACCESS_SYZ = 1 << 16,  /* iova is in syzkaller's encoding */
};

/* access_rw.flags */
enum {
	MOCK_ACCESS_RW_WRITE = 1 << 0,	   /* copy user buffer -> IOVA */
	MOCK_ACCESS_RW_SLOW_PATH = 1 << 2, /* force the slow copy path */
};

/* create_access.flags */
enum {
	MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES = 1 << 0, /* may pin (ACCESS_PAGES) */
};

/* mock_domain_flags.dev_flags */
enum {
	MOCK_FLAGS_DEVICE_NO_DIRTY = 1 << 0, /* device cannot track dirty pages */
	/*
	 * mock domains of the device use huge IOVA pages; used by the 6.12
	 * selftest, gone in v6.19 (MOCK_IOMMUPT_HUGE replaces it)
	 */
	MOCK_FLAGS_DEVICE_HUGE_IOVA = 1 << 1,
	MOCK_FLAGS_DEVICE_PASID = 1 << 2, /* device supports PASIDs */
};

/* The mock nested domain's IOTLB: entries 0..3. */
enum {
	MOCK_NESTED_DOMAIN_IOTLB_ID_MAX = 3,
	MOCK_NESTED_DOMAIN_IOTLB_NUM = 4,
};

/* The mock device's cache (invalidated through a vIOMMU): entries 0..3. */
enum {
	MOCK_DEV_CACHE_ID_MAX = 3,
	MOCK_DEV_CACHE_NUM = 4,
};

/* A PASID on which the mock fails every second attach (tests rollback). */
#define IOMMU_TEST_PASID_RESERVED 1024

/*
 * IOMMU_TEST_CMD (0x3ba0): the selftest multiplexer. op selects the operation,
 * id its object (see the op list), the union member of the op's name carries
 * the rest. last is a trailing word so the size rules can be exercised (min
 * size 68, size 72).
 */
struct iommu_test_cmd {
	__u32 size;	  /* sizeof(struct iommu_test_cmd) */
	__u32 op;	  /* IOMMU_TEST_OP_* */
	__u32 id;	  /* object the op works on */
	__u32 __reserved; /* must be 0 */
	union {
		struct {
			__aligned_u64 start;  /* first IOVA to reserve */
			__aligned_u64 length; /* bytes to reserve */
		} add_reserved;
		struct {
			__u32 out_stdev_id; /* out: mock device object (destroy = unplug) */
			__u32 out_hwpt_id;  /* out: HWPT the device got attached to */
			__u32 out_idev_id;  /* out: the ordinary iommufd device ID */
		} mock_domain;
		struct {
			__u32 out_stdev_id; /* out: as for mock_domain */
			__u32 out_hwpt_id;  /* out: as for mock_domain */
			__u32 out_idev_id;  /* out: as for mock_domain */
			__u32 dev_flags;    /* MOCK_FLAGS_DEVICE_* */
		} mock_domain_flags;
		struct {
			__u32 pt_id; /* in: IOAS or HWPT; out: HWPT attached */
		} mock_domain_replace;
		struct {
			__aligned_u64 iova;   /* start of the IOVA range */
			__aligned_u64 length; /* bytes to check */
			__aligned_u64 uptr;   /* user address expected behind iova */
		} check_map;
		struct {
			__aligned_u64 length; /* bytes to check */
			__aligned_u64 uptr;   /* page-aligned user address */
			__u32 refs;	      /* expected pin count per page */
		} check_refs;
		struct {
			__u32 out_access_fd; /* out: fd of the access */
			__u32 flags;	     /* MOCK_FLAGS_ACCESS_CREATE_* */
		} create_access;
		struct {
			__u32 access_pages_id; /* the pin to release */
		} destroy_access_pages;
		struct {
			__u32 flags;		   /* MOCK_FLAGS_ACCESS_* */
			__u32 out_access_pages_id; /* out: handle of the pin */
			__aligned_u64 iova;	   /* start of the IOVA range */
			__aligned_u64 length;	   /* bytes to pin */
			__aligned_u64 uptr;	   /* user memory that must be behind iova */
		} access_pages;
		struct {
			__aligned_u64 iova;   /* start of the IOVA range */
			__aligned_u64 length; /* bytes to copy */
			__aligned_u64 uptr;   /* user buffer */
			__u32 flags;	      /* MOCK_ACCESS_RW_* */
		} access_rw;
		struct {
			__u32 limit; /* bytes of temporary memory */
		} memory_limit;
		struct {
			__u32 ioas_id; /* the access's new IOAS */
		} access_replace_ioas;
		struct {
			__u32 flags;		    /* none defined: 0 */
			__aligned_u64 iova;	    /* IOVA of bitmap bit 0 */
			__aligned_u64 length;	    /* bytes of IOVA covered */
			__aligned_u64 page_size;    /* bytes per bit */
			__aligned_u64 uptr;	    /* bitmap of the pages to dirty */
			__aligned_u64 out_nr_dirty; /* out: IOPTEs actually dirtied */
		} dirty;
		struct {
			__u32 id;    /* IOTLB entry, 0..3 */
			__u32 iotlb; /* expected value */
		} check_iotlb;
		struct {
			__u32 dev_id;	    /* the faulting device */
			__u32 pasid;	    /* its PASID, 0 for none */
			__u32 grpid;	    /* page request group index */
			__u32 perm;	    /* enum iommu_hwpt_pgfault_perm */
			__aligned_u64 addr; /* faulting address (Linux: plain __u64, same place) */
		} trigger_iopf;
		struct {
			__u32 id;    /* cache entry, 0..MOCK_DEV_CACHE_ID_MAX */
			__u32 cache; /* expected value */
		} check_dev_cache;
		struct {
			__u32 dev_id; /* the device reporting the event */
		} trigger_vevent;
		struct {
			__u32 pasid; /* the PASID */
			__u32 pt_id; /* IOAS or HWPT to attach */
		} pasid_attach;
		struct {
			__u32 pasid; /* the PASID */
			__u32 pt_id; /* IOAS or HWPT to switch to */
		} pasid_replace;
		struct {
			__u32 pasid; /* the PASID */
		} pasid_detach;
		struct {
			__u32 pasid;   /* the PASID */
			__u32 hwpt_id; /* HWPT expected there, 0 for none */
		} pasid_check;
		struct {
			__u32 length;	  /* dma-buf size, rounded up to pages */
			__u32 open_flags; /* flags of the returned fd */
		} dmabuf_get;
		struct {
			__s32 dmabuf_fd; /* the test dma-buf */
			__u32 revoked;	 /* 1 revoke, 0 restore */
		} dmabuf_revoke;
		struct {
			__s32 dmabuf_fd;      /* the test dma-buf */
			__u32 __pad;	      /* implicit in Linux's layout */
			__aligned_u64 iova;   /* first IOVA, mock-page aligned */
			__aligned_u64 length; /* bytes, mock-page multiple */
			__aligned_u64 offset; /* byte offset in the dma-buf */
		} check_dmabuf;
	};
	__u32 last; /* end marker */
};
#define IOMMU_TEST_CMD _IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 32)

/* PASID width of PASID-capable mock devices (IOMMU_GET_HW_INFO). */
#define MOCK_PASID_WIDTH 20

/* IOMMU_GET_HW_INFO blob of the mock driver. */
#define IOMMU_HW_INFO_TYPE_SELFTEST   0xfeedbeef
#define IOMMU_HW_INFO_SELFTEST_REGVAL 0xdeadbeef

struct iommu_test_hw_info {
	__u32 flags;	/* 0 */
	__u32 test_reg; /* IOMMU_HW_INFO_SELFTEST_REGVAL */
};

/* Nested HWPT data type of the mock (outside enum iommu_hwpt_data_type). */
#define IOMMU_HWPT_DATA_SELFTEST 0xdead
/* Reset values of the mock IOTLB and device-cache entries. */
#define IOMMU_TEST_IOTLB_DEFAULT     0xbadbeef
#define IOMMU_TEST_DEV_CACHE_DEFAULT 0xbaddad

/*
 * HWPT data of type IOMMU_HWPT_DATA_SELFTEST. For nested HWPTs iotlb is the
 * value every mock IOTLB entry starts with; v6.19 added pagetable_type, which
 * also picks the format of mock paging HWPTs (4 bytes before v6.19).
 */
struct iommu_hwpt_selftest {
	__u32 iotlb;	      /* initial IOTLB entry value */
	__u32 pagetable_type; /* MOCK_IOMMUPT_* */
};

/* Mock invalidation entry types (outside enum iommu_hwpt_invalidate_data_type). */
#define IOMMU_HWPT_INVALIDATE_DATA_SELFTEST	    0xdeadbeef
#define IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID 0xdadbeef /* always refused */

/* flags of the two mock invalidation entries: the index is ignored */
#define IOMMU_TEST_INVALIDATE_FLAG_ALL (1 << 0)

/* One mock nested-HWPT invalidation (IOMMU_HWPT_INVALIDATE_DATA_SELFTEST). */
struct iommu_hwpt_invalidate_selftest {
	__u32 flags;	/* IOMMU_TEST_INVALIDATE_FLAG_ALL or 0 */
	__u32 iotlb_id; /* entry to reset, 0..MOCK_NESTED_DOMAIN_IOTLB_ID_MAX */
};

/* vIOMMU type of the mock (outside enum iommu_viommu_type). */
#define IOMMU_VIOMMU_TYPE_SELFTEST 0xdeadbeef

/*
 * vIOMMU data of type IOMMU_VIOMMU_TYPE_SELFTEST: in_data comes back in
 * out_data, and the mock offers a 2-page region to mmap() on the iommufd whose
 * first __u32 holds in_data.
 */
struct iommu_viommu_selftest {
	__u32 in_data;		       /* any value */
	__u32 out_data;		       /* out: in_data */
	__aligned_u64 out_mmap_offset; /* out: mmap offset of the region */
	__aligned_u64 out_mmap_length; /* out: mmap length of the region */
};

/* Mock vIOMMU invalidation entry types. */
#define IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST	      0xdeadbeef
#define IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID 0xdadbeef /* always refused */

/* One mock device-cache invalidation (IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST). */
struct iommu_viommu_invalidate_selftest {
	__u32 flags;	/* IOMMU_TEST_INVALIDATE_FLAG_ALL or 0 */
	__u32 vdev_id;	/* virtual ID of the device (its vDEVICE) */
	__u32 cache_id; /* entry to reset, 0..MOCK_DEV_CACHE_ID_MAX */
};

/* vEVENTQ type of the mock, and its event record. */
#define IOMMU_VEVENTQ_TYPE_SELFTEST 0xbeefbeef

struct iommu_viommu_event_selftest {
	__u32 virt_id; /* virtual ID of the reporting device */
};

/* HW queue type of the mock, and how many queues a mock vIOMMU has. */
#define IOMMU_HW_QUEUE_TYPE_SELFTEST 0xdeadbeef
#define IOMMU_TEST_HW_QUEUE_MAX	     2

/* Layout checks, as in <linux/iommufd.h>; C11/C++11 or later only. */
#if (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L) || \
	(defined(__cplusplus) && __cplusplus >= 201103L)
#ifdef __cplusplus
#define UIOMMU_UAPI_ASSERT(e, msg) static_assert(e, msg)
#else
#define UIOMMU_UAPI_ASSERT(e, msg) _Static_assert(e, msg)
#endif
#define UIOMMU_UAPI_OFFSETOFEND(t, f) (__builtin_offsetof(t, f) + sizeof(((t *)0)->f))
#define UIOMMU_UAPI_SIZE(t, n)	      UIOMMU_UAPI_ASSERT(sizeof(t) == (n), "sizeof(" #t ") != " #n)
#define UIOMMU_UAPI_OFF(t, f, n) \
	UIOMMU_UAPI_ASSERT(__builtin_offsetof(t, f) == (n), "offsetof(" #t ", " #f ") != " #n)
#define UIOMMU_UAPI_MIN(t, f, n) \
	UIOMMU_UAPI_ASSERT(UIOMMU_UAPI_OFFSETOFEND(t, f) == (n), "min size of " #t " != " #n)
#define UIOMMU_UAPI_TC(f, n) UIOMMU_UAPI_OFF(struct iommu_test_cmd, f, n)

UIOMMU_UAPI_SIZE(struct iommu_test_cmd, 72);
UIOMMU_UAPI_OFF(struct iommu_test_cmd, op, 4);
UIOMMU_UAPI_OFF(struct iommu_test_cmd, id, 8);
UIOMMU_UAPI_OFF(struct iommu_test_cmd, __reserved, 12);
UIOMMU_UAPI_OFF(struct iommu_test_cmd, last, 64);
UIOMMU_UAPI_MIN(struct iommu_test_cmd, last, 68);
UIOMMU_UAPI_TC(add_reserved.start, 16);
UIOMMU_UAPI_TC(add_reserved.length, 24);
UIOMMU_UAPI_TC(mock_domain.out_stdev_id, 16);
UIOMMU_UAPI_TC(mock_domain.out_hwpt_id, 20);
UIOMMU_UAPI_TC(mock_domain.out_idev_id, 24);
UIOMMU_UAPI_TC(mock_domain_flags.out_stdev_id, 16);
UIOMMU_UAPI_TC(mock_domain_flags.out_hwpt_id, 20);
UIOMMU_UAPI_TC(mock_domain_flags.out_idev_id, 24);
UIOMMU_UAPI_TC(mock_domain_flags.dev_flags, 28);
UIOMMU_UAPI_TC(mock_domain_replace.pt_id, 16);
UIOMMU_UAPI_TC(check_map.iova, 16);
UIOMMU_UAPI_TC(check_map.length, 24);
UIOMMU_UAPI_TC(check_map.uptr, 32);
UIOMMU_UAPI_TC(check_refs.length, 16);
UIOMMU_UAPI_TC(check_refs.uptr, 24);
UIOMMU_UAPI_TC(check_refs.refs, 32);
UIOMMU_UAPI_TC(create_access.out_access_fd, 16);
UIOMMU_UAPI_TC(create_access.flags, 20);
UIOMMU_UAPI_TC(destroy_access_pages.access_pages_id, 16);
UIOMMU_UAPI_TC(access_pages.flags, 16);
UIOMMU_UAPI_TC(access_pages.out_access_pages_id, 20);
UIOMMU_UAPI_TC(access_pages.iova, 24);
UIOMMU_UAPI_TC(access_pages.length, 32);
UIOMMU_UAPI_TC(access_pages.uptr, 40);
UIOMMU_UAPI_TC(access_rw.iova, 16);
UIOMMU_UAPI_TC(access_rw.length, 24);
UIOMMU_UAPI_TC(access_rw.uptr, 32);
UIOMMU_UAPI_TC(access_rw.flags, 40);
UIOMMU_UAPI_TC(memory_limit.limit, 16);
UIOMMU_UAPI_TC(access_replace_ioas.ioas_id, 16);
UIOMMU_UAPI_TC(dirty.flags, 16);
UIOMMU_UAPI_TC(dirty.iova, 24);
UIOMMU_UAPI_TC(dirty.length, 32);
UIOMMU_UAPI_TC(dirty.page_size, 40);
UIOMMU_UAPI_TC(dirty.uptr, 48);
UIOMMU_UAPI_TC(dirty.out_nr_dirty, 56);
UIOMMU_UAPI_TC(check_iotlb.id, 16);
UIOMMU_UAPI_TC(check_iotlb.iotlb, 20);
UIOMMU_UAPI_TC(trigger_iopf.dev_id, 16);
UIOMMU_UAPI_TC(trigger_iopf.pasid, 20);
UIOMMU_UAPI_TC(trigger_iopf.grpid, 24);
UIOMMU_UAPI_TC(trigger_iopf.perm, 28);
UIOMMU_UAPI_TC(trigger_iopf.addr, 32);
UIOMMU_UAPI_TC(check_dev_cache.id, 16);
UIOMMU_UAPI_TC(check_dev_cache.cache, 20);
UIOMMU_UAPI_TC(trigger_vevent.dev_id, 16);
UIOMMU_UAPI_TC(pasid_attach.pasid, 16);
UIOMMU_UAPI_TC(pasid_attach.pt_id, 20);
UIOMMU_UAPI_TC(pasid_replace.pasid, 16);
UIOMMU_UAPI_TC(pasid_replace.pt_id, 20);
UIOMMU_UAPI_TC(pasid_detach.pasid, 16);
UIOMMU_UAPI_TC(pasid_check.pasid, 16);
UIOMMU_UAPI_TC(pasid_check.hwpt_id, 20);
UIOMMU_UAPI_TC(dmabuf_get.length, 16);
UIOMMU_UAPI_TC(dmabuf_get.open_flags, 20);
UIOMMU_UAPI_TC(dmabuf_revoke.dmabuf_fd, 16);
UIOMMU_UAPI_TC(dmabuf_revoke.revoked, 20);
UIOMMU_UAPI_TC(check_dmabuf.dmabuf_fd, 16);
UIOMMU_UAPI_TC(check_dmabuf.iova, 24);
UIOMMU_UAPI_TC(check_dmabuf.length, 32);
UIOMMU_UAPI_TC(check_dmabuf.offset, 40);

UIOMMU_UAPI_SIZE(struct iommu_test_hw_info, 8);
UIOMMU_UAPI_OFF(struct iommu_test_hw_info, test_reg, 4);

UIOMMU_UAPI_SIZE(struct iommu_hwpt_selftest, 8);
UIOMMU_UAPI_OFF(struct iommu_hwpt_selftest, pagetable_type, 4);
UIOMMU_UAPI_MIN(struct iommu_hwpt_selftest, iotlb, 4);

UIOMMU_UAPI_SIZE(struct iommu_hwpt_invalidate_selftest, 8);
UIOMMU_UAPI_OFF(struct iommu_hwpt_invalidate_selftest, iotlb_id, 4);

UIOMMU_UAPI_SIZE(struct iommu_viommu_selftest, 24);
UIOMMU_UAPI_OFF(struct iommu_viommu_selftest, out_data, 4);
UIOMMU_UAPI_OFF(struct iommu_viommu_selftest, out_mmap_offset, 8);
UIOMMU_UAPI_OFF(struct iommu_viommu_selftest, out_mmap_length, 16);

UIOMMU_UAPI_SIZE(struct iommu_viommu_invalidate_selftest, 12);
UIOMMU_UAPI_OFF(struct iommu_viommu_invalidate_selftest, vdev_id, 4);
UIOMMU_UAPI_OFF(struct iommu_viommu_invalidate_selftest, cache_id, 8);

UIOMMU_UAPI_SIZE(struct iommu_viommu_event_selftest, 4);

#undef UIOMMU_UAPI_TC
#undef UIOMMU_UAPI_MIN
#undef UIOMMU_UAPI_OFF
#undef UIOMMU_UAPI_SIZE
#undef UIOMMU_UAPI_OFFSETOFEND
#undef UIOMMU_UAPI_ASSERT
#endif /* C11 or C++11 */

#endif /* _UAPI_IOMMUFD_TEST_H */
