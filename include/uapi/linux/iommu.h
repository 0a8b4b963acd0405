/* SPDX-License-Identifier: MIT */
/*
 * <linux/iommu.h> - the IOMMU user ABI of Linux 5.10 to 5.14, which the
 * nested-stage VFIO extension (v13, <linux/vfio.h>) embeds.
 *
 * uiommu's own transcription (reference vfio.md §2.3, §2.4, §2.7, §2.9): the
 * guest PASID table configuration (VFIO_IOMMU_SET_PASID_TABLE), the guest
 * cache invalidation (VFIO_IOMMU_CACHE_INVALIDATE), the fault record of the
 * DMA fault region (struct iommu_fault, 64 bytes) and the page response of
 * the fault response region (struct iommu_page_response, 24 bytes). Linux
 * removed this header in 5.15 when the series was dropped; the numbers and
 * layouts are those of the series' IOMMU part v15. The wording is ours.
 *
 * Every embedded struct starts with its own argsz (or version) and is
 * validated by it, independently of the VFIO struct around it.
 *
 * A note for code inside uiommu: lib/hw/iommu.h has a struct of its own
 * named iommu_page_response (the model-level response). The build defines
 * UIOMMU_IN_TREE for everything it compiles (meson.build), and this header
 * then leaves out the user ABI's struct of that name; in-tree code that
 * needs the user layout uses IOMMU_PAGE_RESPONSE_UAPI_SIZE and the field
 * offsets asserted below. Programs see the struct as Linux defined it.
 */
#ifndef _UAPI_IOMMU_H
#define _UAPI_IOMMU_H

#include <linux/types.h>

/* ---- Fault records (the DMA fault region's ring) ---- */

#define IOMMU_FAULT_PERM_READ  (1 << 0) /* read */
#define IOMMU_FAULT_PERM_WRITE (1 << 1) /* write */
#define IOMMU_FAULT_PERM_EXEC  (1 << 2) /* exec */
#define IOMMU_FAULT_PERM_PRIV  (1 << 3) /* privileged */

enum iommu_fault_type {
	IOMMU_FAULT_DMA_UNRECOV = 1, /* unrecoverable fault */
	IOMMU_FAULT_PAGE_REQ,	     /* page request (recoverable) */
};

enum iommu_fault_reason {
	IOMMU_FAULT_REASON_UNKNOWN = 0,
	IOMMU_FAULT_REASON_PASID_FETCH,	    /* the PASID table entry could not be fetched */
	IOMMU_FAULT_REASON_BAD_PASID_ENTRY, /* the PASID table entry is invalid */
	IOMMU_FAULT_REASON_PASID_INVALID,   /* the PASID is out of range or disabled */
	IOMMU_FAULT_REASON_WALK_EABT,	    /* external abort while walking the tables */
	IOMMU_FAULT_REASON_PTE_FETCH,	    /* no valid translation */
	IOMMU_FAULT_REASON_PERMISSION,	    /* the protection flags forbid the access */
	IOMMU_FAULT_REASON_ACCESS,	    /* access flag fault */
	IOMMU_FAULT_REASON_OOR_ADDRESS,	    /* output address out of range */
};

struct iommu_fault_unrecoverable {
	__u32 reason; /* enum iommu_fault_reason */
#define IOMMU_FAULT_UNRECOV_PASID_VALID	     (1 << 0)
#define IOMMU_FAULT_UNRECOV_ADDR_VALID	     (1 << 1)
#define IOMMU_FAULT_UNRECOV_FETCH_ADDR_VALID (1 << 2)
	__u32 flags;
	__u32 pasid;
	__u32 perm;	  /* IOMMU_FAULT_PERM_* */
	__u64 addr;	  /* the faulting address */
	__u64 fetch_addr; /* the address whose fetch aborted */
};

struct iommu_fault_page_request {
#define IOMMU_FAULT_PAGE_REQUEST_PASID_VALID  (1 << 0)
#define IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE    (1 << 1)
#define IOMMU_FAULT_PAGE_REQUEST_PRIV_DATA    (1 << 2)
#define IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID (1 << 3)
	__u32 flags;
	__u32 pasid;
	__u32 grpid;
	__u32 perm;
	__u64 addr;
	__u64 private_data[2];
};

struct iommu_fault {
	__u32 type; /* enum iommu_fault_type */
	__u32 padding;
	union {
		struct iommu_fault_unrecoverable event;
		struct iommu_fault_page_request prm;
		__u8 padding2[56];
	};
};

/* ---- Page responses (the fault response region's ring) ---- */

enum iommu_page_response_code {
	IOMMU_PAGE_RESP_SUCCESS = 0,
	IOMMU_PAGE_RESP_INVALID,
	IOMMU_PAGE_RESP_FAILURE,
};

#define IOMMU_PAGE_RESP_VERSION_1   1
#define IOMMU_PAGE_RESP_PASID_VALID (1 << 0)

/* The layout of struct iommu_page_response, for code that cannot see it. */
#define IOMMU_PAGE_RESPONSE_UAPI_SIZE 24

#ifndef UIOMMU_IN_TREE
struct iommu_page_response {
	__u32 argsz;
	__u32 version; /* IOMMU_PAGE_RESP_VERSION_1 */
	__u32 flags;   /* IOMMU_PAGE_RESP_PASID_VALID */
	__u32 pasid;
	__u32 grpid;
	__u32 code; /* enum iommu_page_response_code */
};
#endif

/* ---- Guest cache invalidation ---- */

enum iommu_inv_granularity {
	IOMMU_INV_GRANU_DOMAIN, /* the whole domain */
	IOMMU_INV_GRANU_PASID,	/* one PASID (or ARCHID) */
	IOMMU_INV_GRANU_ADDR,	/* an address range of one PASID (or ARCHID) */
	IOMMU_INV_GRANU_NR,
};

struct iommu_inv_addr_info {
#define IOMMU_INV_ADDR_FLAGS_PASID  (1 << 0)
#define IOMMU_INV_ADDR_FLAGS_ARCHID (1 << 1)
#define IOMMU_INV_ADDR_FLAGS_LEAF   (1 << 2)
	__u32 flags;
	__u32 archid; /* SMMU: the ASID */
	__u64 pasid;
	__u64 addr; /* stage-1 input address */
	__u64 granule_size;
	__u64 nb_granules;
};

struct iommu_inv_pasid_info {
#define IOMMU_INV_PASID_FLAGS_PASID  (1 << 0)
#define IOMMU_INV_PASID_FLAGS_ARCHID (1 << 1)
	__u32 flags;
	__u32 archid;
	__u64 pasid;
};

struct iommu_cache_invalidate_info {
	__u32 argsz;
#define IOMMU_CACHE_INVALIDATE_INFO_VERSION_1 1
	__u32 version;
#define IOMMU_CACHE_INV_TYPE_IOTLB     (1 << 0) /* IOMMU IOTLB */
#define IOMMU_CACHE_INV_TYPE_DEV_IOTLB (1 << 1) /* device IOTLB (ATS) */
#define IOMMU_CACHE_INV_TYPE_PASID     (1 << 2) /* PASID cache */
#define IOMMU_CACHE_INV_TYPE_NR	       (3)
	__u8 cache;
	__u8 granularity; /* enum iommu_inv_granularity */
	__u8 padding[6];  /* must be zero */
	union {
		struct iommu_inv_pasid_info pasid_info;
		struct iommu_inv_addr_info addr_info;
	} granu;
};

/* ---- Guest PASID table ---- */

struct iommu_pasid_smmuv3 {
#define PASID_TABLE_SMMUV3_CFG_VERSION_1 1
	__u32 version;
	__u8 s1fmt; /* STE.S1Fmt */
	__u8 s1dss; /* STE.S1DSS */
	__u8 padding[2];
};

struct iommu_pasid_table_config {
	__u32 argsz;
#define PASID_TABLE_CFG_VERSION_1 1
	__u32 version;
	__u64 base_ptr; /* guest physical address of the table (SMMUv3: the CD table) */
#define IOMMU_PASID_FORMAT_SMMUV3 1
	__u32 format;
	__u8 pasid_bits;
#define IOMMU_PASID_CONFIG_TRANSLATE 1
#define IOMMU_PASID_CONFIG_BYPASS    2
#define IOMMU_PASID_CONFIG_ABORT     3
	__u8 config;
	__u8 padding[2];
	union {
		struct iommu_pasid_smmuv3 smmuv3;
	} vendor_data;
};

/* Layout checks (C11 / C++11 and later); the helpers are removed at the end. */
#if (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L) || \
	(defined(__cplusplus) && __cplusplus >= 201103L)
#ifdef __cplusplus
#define UIOMMU_IOMMU_ASSERT(e, msg) static_assert(e, msg)
#else
#define UIOMMU_IOMMU_ASSERT(e, msg) _Static_assert(e, msg)
#endif
#define UIOMMU_IOMMU_SIZE(t, n) UIOMMU_IOMMU_ASSERT(sizeof(t) == (n), "sizeof(" #t ") != " #n)
#define UIOMMU_IOMMU_OFF(t, f, n) \
	UIOMMU_IOMMU_ASSERT(__builtin_offsetof(t, f) == (n), "offsetof(" #t ", " #f ") != " #n)

/*
 * The 64-bit fields all fall on 8-byte offsets after an even number of
 * 32-bit ones, so these hold on 32-bit ABIs as well.
 */
UIOMMU_IOMMU_SIZE(struct iommu_fault_unrecoverable, 32);
UIOMMU_IOMMU_OFF(struct iommu_fault_unrecoverable, flags, 4);
UIOMMU_IOMMU_OFF(struct iommu_fault_unrecoverable, pasid, 8);
UIOMMU_IOMMU_OFF(struct iommu_fault_unrecoverable, perm, 12);
UIOMMU_IOMMU_OFF(struct iommu_fault_unrecoverable, addr, 16);
UIOMMU_IOMMU_OFF(struct iommu_fault_unrecoverable, fetch_addr, 24);
UIOMMU_IOMMU_SIZE(struct iommu_fault_page_request, 40);
UIOMMU_IOMMU_OFF(struct iommu_fault_page_request, pasid, 4);
UIOMMU_IOMMU_OFF(struct iommu_fault_page_request, grpid, 8);
UIOMMU_IOMMU_OFF(struct iommu_fault_page_request, perm, 12);
UIOMMU_IOMMU_OFF(struct iommu_fault_page_request, addr, 16);
UIOMMU_IOMMU_OFF(struct iommu_fault_page_request, private_data, 24);
UIOMMU_IOMMU_SIZE(struct iommu_fault, 64);
UIOMMU_IOMMU_OFF(struct iommu_fault, padding, 4);
UIOMMU_IOMMU_OFF(struct iommu_fault, event, 8);
UIOMMU_IOMMU_OFF(struct iommu_fault, prm, 8);
#ifndef UIOMMU_IN_TREE
UIOMMU_IOMMU_SIZE(struct iommu_page_response, IOMMU_PAGE_RESPONSE_UAPI_SIZE);
UIOMMU_IOMMU_OFF(struct iommu_page_response, version, 4);
UIOMMU_IOMMU_OFF(struct iommu_page_response, flags, 8);
UIOMMU_IOMMU_OFF(struct iommu_page_response, pasid, 12);
UIOMMU_IOMMU_OFF(struct iommu_page_response, grpid, 16);
UIOMMU_IOMMU_OFF(struct iommu_page_response, code, 20);
#endif
UIOMMU_IOMMU_SIZE(struct iommu_inv_addr_info, 40);
UIOMMU_IOMMU_OFF(struct iommu_inv_addr_info, archid, 4);
UIOMMU_IOMMU_OFF(struct iommu_inv_addr_info, pasid, 8);
UIOMMU_IOMMU_OFF(struct iommu_inv_addr_info, addr, 16);
UIOMMU_IOMMU_OFF(struct iommu_inv_addr_info, granule_size, 24);
UIOMMU_IOMMU_OFF(struct iommu_inv_addr_info, nb_granules, 32);
UIOMMU_IOMMU_SIZE(struct iommu_inv_pasid_info, 16);
UIOMMU_IOMMU_OFF(struct iommu_inv_pasid_info, archid, 4);
UIOMMU_IOMMU_OFF(struct iommu_inv_pasid_info, pasid, 8);
UIOMMU_IOMMU_SIZE(struct iommu_cache_invalidate_info, 56);
UIOMMU_IOMMU_OFF(struct iommu_cache_invalidate_info, version, 4);
UIOMMU_IOMMU_OFF(struct iommu_cache_invalidate_info, cache, 8);
UIOMMU_IOMMU_OFF(struct iommu_cache_invalidate_info, granularity, 9);
UIOMMU_IOMMU_OFF(struct iommu_cache_invalidate_info, padding, 10);
UIOMMU_IOMMU_OFF(struct iommu_cache_invalidate_info, granu, 16);
UIOMMU_IOMMU_SIZE(struct iommu_pasid_smmuv3, 8);
UIOMMU_IOMMU_OFF(struct iommu_pasid_smmuv3, s1fmt, 4);
UIOMMU_IOMMU_OFF(struct iommu_pasid_smmuv3, s1dss, 5);
UIOMMU_IOMMU_OFF(struct iommu_pasid_smmuv3, padding, 6);
UIOMMU_IOMMU_SIZE(struct iommu_pasid_table_config, 32);
UIOMMU_IOMMU_OFF(struct iommu_pasid_table_config, version, 4);
UIOMMU_IOMMU_OFF(struct iommu_pasid_table_config, base_ptr, 8);
UIOMMU_IOMMU_OFF(struct iommu_pasid_table_config, format, 16);
UIOMMU_IOMMU_OFF(struct iommu_pasid_table_config, pasid_bits, 20);
UIOMMU_IOMMU_OFF(struct iommu_pasid_table_config, config, 21);
UIOMMU_IOMMU_OFF(struct iommu_pasid_table_config, padding, 22);
UIOMMU_IOMMU_OFF(struct iommu_pasid_table_config, vendor_data, 24);
/* What the IOMMU layer copies first, then checks argsz against (vfio.md §2.3, §2.4). */
UIOMMU_IOMMU_ASSERT(__builtin_offsetof(struct iommu_pasid_table_config, config) + 1 + 2 == 24,
		    "offsetof(vendor_data) copied first");
UIOMMU_IOMMU_ASSERT(__builtin_offsetof(struct iommu_cache_invalidate_info, granu) +
				    sizeof(struct iommu_inv_pasid_info) ==
			    32,
		    "argsz for PASID granularity");
UIOMMU_IOMMU_ASSERT(__builtin_offsetof(struct iommu_cache_invalidate_info, granu) +
				    sizeof(struct iommu_inv_addr_info) ==
			    56,
		    "argsz for ADDR granularity");

#undef UIOMMU_IOMMU_OFF
#undef UIOMMU_IOMMU_SIZE
#undef UIOMMU_IOMMU_ASSERT
#endif /* C11 or C++11 */

#endif /* _UAPI_IOMMU_H */
