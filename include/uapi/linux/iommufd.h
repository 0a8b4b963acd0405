/* SPDX-License-Identifier: MIT */
/*
 * <linux/iommufd.h> - the user ABI of /dev/iommu (iommufd), as uiommu speaks it.
 *
 * This file is uiommu's own transcription of the Linux iommufd uAPI at the
 * v6.17/v6.18 level (ioctls DESTROY .. HW_QUEUE_ALLOC). Every number, field
 * order and size is the kernel's, so that a program built against this header
 * talks to a real kernel and to uiommu alike; the wording is ours. The facts
 * and their sources are in the project's reference notes (iommufd.md §0-§1).
 *
 * It is meant to be found as <linux/iommufd.h>: it needs only <linux/types.h>
 * and <linux/ioctl.h> (Debian's linux-libc-dev provides both), uses the uapi
 * integer types, and carries no kernel-only annotation.
 *
 * How every iommufd ioctl works
 * -----------------------------
 * - The request is _IO(';', nr): no direction and no size are encoded, so the
 *   number is simply 0x3b00 | nr, with nr from 0x80 up. Numbers below 0x80 on
 *   the same type letter belong to VFIO (its compatibility ioctls also work on
 *   an iommufd file).
 * - The argument points to a struct whose first __u32, size, holds the
 *   caller's sizeof. The kernel reads min(size, its own sizeof) bytes and treats
 *   a shorter struct's missing tail as zero; a longer struct is accepted only if
 *   the bytes the kernel does not know are all zero. That is how structs grow:
 *   new fields go at the end, and zero means "old behaviour".
 * - A size below the struct's minimum (the end of the last field the first
 *   version of the ioctl had) is rejected. Each struct below has a static
 *   assertion of that minimum ("min") next to its total size.
 * - Output fields are copied back over min(size, kernel sizeof) bytes.
 * - Object IDs (IOAS, HWPT, device, fault queue, vIOMMU, ...) share one
 *   numbering per iommufd file; IOMMU_DESTROY takes any of them.
 *
 * Common errno meanings: ENOTTY unknown ioctl number; E2BIG non-zero bytes
 * past the part of the struct the kernel knows; EOPNOTSUPP a known field holds
 * a value that is not supported (unknown flag bit, unknown type, non-zero
 * reserved field); EINVAL understood but wrong; ENOENT no such ID or IOVA;
 * ENOMEM; EOVERFLOW arithmetic overflow. Single ioctls add their own.
 */
#ifndef _IOMMUFD_H
#define _IOMMUFD_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Old <linux/types.h> copies may lack the 8-byte aligned 64-bit types. */
#ifndef __aligned_u64
#define __aligned_u64 __u64 __attribute__((aligned(8)))
#endif
#ifndef __aligned_le64
#define __aligned_le64 __le64 __attribute__((aligned(8)))
#endif

/* The ioctl type letter, shared with VFIO (which uses numbers below 0x80). */
#define IOMMUFD_TYPE (';')

/* Command numbers (the nr part of each request). */
enum {
	IOMMUFD_CMD_BASE = 0x80,
	IOMMUFD_CMD_DESTROY = IOMMUFD_CMD_BASE,
	IOMMUFD_CMD_IOAS_ALLOC = 0x81,
	IOMMUFD_CMD_IOAS_ALLOW_IOVAS = 0x82,
	IOMMUFD_CMD_IOAS_COPY = 0x83,
	IOMMUFD_CMD_IOAS_IOVA_RANGES = 0x84,
	IOMMUFD_CMD_IOAS_MAP = 0x85,
	IOMMUFD_CMD_IOAS_UNMAP = 0x86,
	IOMMUFD_CMD_OPTION = 0x87,
	IOMMUFD_CMD_VFIO_IOAS = 0x88,
	IOMMUFD_CMD_HWPT_ALLOC = 0x89,
	IOMMUFD_CMD_GET_HW_INFO = 0x8a,
	IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING = 0x8b,
	IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP = 0x8c,
	IOMMUFD_CMD_HWPT_INVALIDATE = 0x8d,
	IOMMUFD_CMD_FAULT_QUEUE_ALLOC = 0x8e,
	IOMMUFD_CMD_IOAS_MAP_FILE = 0x8f,
	IOMMUFD_CMD_VIOMMU_ALLOC = 0x90,
	IOMMUFD_CMD_VDEVICE_ALLOC = 0x91,
	IOMMUFD_CMD_IOAS_CHANGE_PROCESS = 0x92,
	IOMMUFD_CMD_VEVENTQ_ALLOC = 0x93,
	IOMMUFD_CMD_HW_QUEUE_ALLOC = 0x94,
};

/*
 * IOMMU_DESTROY (0x3b80): drop the object named by id, whatever its kind.
 * EBUSY while another object still depends on it; ENOENT if there is no such
 * object (or it is already gone).
 */
struct iommu_destroy {
	__u32 size; /* sizeof(struct iommu_destroy) */
	__u32 id;   /* the object to destroy */
};
#define IOMMU_DESTROY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY)

/*
 * IOMMU_IOAS_ALLOC (0x3b81): create an empty IO address space (IOAS), the
 * container of IOVA -> user memory mappings that HWPTs are built from.
 */
struct iommu_ioas_alloc {
	__u32 size;	   /* sizeof(struct iommu_ioas_alloc) */
	__u32 flags;	   /* no flags are defined: must be 0 */
	__u32 out_ioas_id; /* out: ID of the new IOAS */
};
#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC)

/* One IOVA interval; last is inclusive, so [0, ~0ULL] is the whole space. */
struct iommu_iova_range {
	__aligned_u64 start; /* first IOVA of the interval */
	__aligned_u64 last;  /* last IOVA of the interval (inclusive) */
};

/*
 * IOMMU_IOAS_IOVA_RANGES (0x3b84): list the IOVA intervals of an IOAS where
 * mappings may be placed. The list shrinks as devices with narrower apertures
 * or reserved regions are attached and widens again when they leave, so query
 * it after every attach or detach.
 *
 * num_iovas is the capacity of the array on input and the number of intervals
 * on output. When the array is too small, num_iovas is still written and the
 * call fails with EMSGSIZE; retry with a bigger array. The start and the end
 * (start + length) of every MAP/COPY must be multiples of out_iova_alignment,
 * which is at least 1 and at most the CPU page size.
 */
struct iommu_ioas_iova_ranges {
	__u32 size;			  /* sizeof(struct iommu_ioas_iova_ranges) */
	__u32 ioas_id;			  /* the IOAS to query */
	__u32 num_iovas;		  /* in: array capacity; out: intervals in total */
	__u32 __reserved;		  /* must be 0 */
	__aligned_u64 allowed_iovas;	  /* user pointer to struct iommu_iova_range[] */
	__aligned_u64 out_iova_alignment; /* out: required IOVA/length alignment */
};
#define IOMMU_IOAS_IOVA_RANGES _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_IOVA_RANGES)

/*
 * IOMMU_IOAS_ALLOW_IOVAS (0x3b82): replace the IOAS's list of "allowed"
 * intervals. Once set, attaching a device whose restrictions would cut into
 * an allowed interval fails, so IOVA_RANGES never becomes narrower than this
 * list; the call itself fails if the usable space is already narrower. While
 * the list is non-empty, automatic IOVA allocation only picks addresses in it.
 * An empty list (num_iovas = 0) removes the constraint.
 */
struct iommu_ioas_allow_iovas {
	__u32 size;		     /* sizeof(struct iommu_ioas_allow_iovas) */
	__u32 ioas_id;		     /* the IOAS to constrain */
	__u32 num_iovas;	     /* number of entries at allowed_iovas */
	__u32 __reserved;	     /* must be 0 */
	__aligned_u64 allowed_iovas; /* user pointer to struct iommu_iova_range[] */
};
#define IOMMU_IOAS_ALLOW_IOVAS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOW_IOVAS)

/*
 * Flags of MAP, MAP_FILE and COPY. Without FIXED_IOVA the kernel chooses the
 * IOVA (inside the allowed list if there is one) and returns it. At least one
 * of READABLE and WRITEABLE must be given.
 */
enum iommufd_ioas_map_flags {
	IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0, /* map exactly at the given iova */
	IOMMU_IOAS_MAP_WRITEABLE = 1 << 1,  /* devices may write the memory */
	IOMMU_IOAS_MAP_READABLE = 1 << 2,   /* devices may read the memory */
};

/*
 * IOMMU_IOAS_MAP (0x3b85): map [user_va, user_va + length) of the calling
 * process into the IOAS. With FIXED_IOVA the target range must be entirely
 * free (mappings are never replaced); otherwise a suitable hole is chosen and
 * returned in iova.
 */
struct iommu_ioas_map {
	__u32 size;	       /* sizeof(struct iommu_ioas_map) */
	__u32 flags;	       /* enum iommufd_ioas_map_flags */
	__u32 ioas_id;	       /* the IOAS to map into */
	__u32 __reserved;      /* must be 0 */
	__aligned_u64 user_va; /* start of the user memory */
	__aligned_u64 length;  /* bytes to map */
	__aligned_u64 iova;    /* in with FIXED_IOVA, else out: where it was mapped */
};
#define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP)

/*
 * IOMMU_IOAS_MAP_FILE (0x3b8f): like IOMMU_IOAS_MAP, but the memory is taken
 * from a file (a memfd; newer kernels also accept a dma-buf) at byte offset
 * start instead of from the caller's address space. Flags, iova and length
 * behave exactly as for MAP.
 */
struct iommu_ioas_map_file {
	__u32 size;	      /* sizeof(struct iommu_ioas_map_file) */
	__u32 flags;	      /* enum iommufd_ioas_map_flags */
	__u32 ioas_id;	      /* the IOAS to map into */
	__s32 fd;	      /* the file providing the memory */
	__aligned_u64 start;  /* byte offset in the file */
	__aligned_u64 length; /* bytes to map */
	__aligned_u64 iova;   /* in with FIXED_IOVA, else out: where it was mapped */
};
#define IOMMU_IOAS_MAP_FILE _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP_FILE)

/*
 * IOMMU_IOAS_COPY (0x3b83): map into dst_ioas_id the same pages that
 * [src_iova, src_iova + length) maps in src_ioas_id. The source range must be
 * exactly one earlier MAP (or COPY). The pages are shared with the source, not
 * pinned a second time, which makes this cheaper than a fresh MAP.
 */
struct iommu_ioas_copy {
	__u32 size;		/* sizeof(struct iommu_ioas_copy) */
	__u32 flags;		/* enum iommufd_ioas_map_flags */
	__u32 dst_ioas_id;	/* the IOAS that gains the mapping */
	__u32 src_ioas_id;	/* the IOAS that already has it */
	__aligned_u64 length;	/* bytes to copy */
	__aligned_u64 dst_iova; /* in with FIXED_IOVA, else out: where it was mapped */
	__aligned_u64 src_iova; /* start of the source mapping */
};
#define IOMMU_IOAS_COPY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_COPY)

/*
 * IOMMU_IOAS_UNMAP (0x3b86): remove every mapping lying wholly inside
 * [iova, iova + length); cutting a mapping in two is refused. length comes
 * back as the number of bytes removed. iova = 0, length = ~0ULL removes all.
 */
struct iommu_ioas_unmap {
	__u32 size;	      /* sizeof(struct iommu_ioas_unmap) */
	__u32 ioas_id;	      /* the IOAS to unmap from */
	__aligned_u64 iova;   /* start of the range */
	__aligned_u64 length; /* in: range length; out: bytes unmapped */
};
#define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_UNMAP)

/* The options IOMMU_OPTION reads and writes (option_id). */
enum iommufd_option {
	/*
	 * Global (object_id 0): how pinned pages are charged against
	 * RLIMIT_MEMLOCK: 0 per user (the default), 1 per process. Setting it
	 * needs privilege.
	 */
	IOMMU_OPTION_RLIMIT_MODE = 0,
	/*
	 * Per IOAS (object_id = the IOAS): 1 (the default) lets contiguous
	 * pages become large IOMMU mappings, 0 maps everything in CPU pages.
	 */
	IOMMU_OPTION_HUGE_PAGES = 1,
};

/* What IOMMU_OPTION does with the option (op). */
enum iommufd_option_ops {
	IOMMU_OPTION_OP_SET = 0, /* store val64 */
	IOMMU_OPTION_OP_GET = 1, /* return the current value in val64 */
};

/* IOMMU_OPTION (0x3b87): get or set one option of the file or of an object. */
struct iommu_option {
	__u32 size;	     /* sizeof(struct iommu_option) */
	__u32 option_id;     /* enum iommufd_option */
	__u16 op;	     /* enum iommufd_option_ops */
	__u16 __reserved;    /* must be 0 */
	__u32 object_id;     /* the object the option belongs to, or 0 */
	__aligned_u64 val64; /* value to set, or the value read */
};
#define IOMMU_OPTION _IO(IOMMUFD_TYPE, IOMMUFD_CMD_OPTION)

/* What IOMMU_VFIO_IOAS does (op). */
enum iommufd_vfio_ioas_op {
	IOMMU_VFIO_IOAS_GET = 0,   /* report the compatibility IOAS */
	IOMMU_VFIO_IOAS_SET = 1,   /* make ioas_id the compatibility IOAS */
	IOMMU_VFIO_IOAS_CLEAR = 2, /* forget it (turns compatibility off) */
};

/*
 * IOMMU_VFIO_IOAS (0x3b88): choose the single IOAS that the VFIO type1
 * compatibility ioctls on this file act on (those ioctls carry no IDs). If none
 * is set when VFIO first needs one, it creates one. SET and CLEAR never destroy
 * an IOAS, and a VFIO container keeps the IOAS it already took.
 */
struct iommu_vfio_ioas {
	__u32 size;	  /* sizeof(struct iommu_vfio_ioas) */
	__u32 ioas_id;	  /* in for SET, out for GET */
	__u16 op;	  /* enum iommufd_vfio_ioas_op */
	__u16 __reserved; /* must be 0 */
};
#define IOMMU_VFIO_IOAS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VFIO_IOAS)

/* Flags of IOMMU_HWPT_ALLOC. */
enum iommufd_hwpt_alloc_flags {
	/* the new paging HWPT may later serve as stage 2 under nested HWPTs */
	IOMMU_HWPT_ALLOC_NEST_PARENT = 1 << 0,
	/* the HWPT tracks dirty pages; devices without support cannot attach */
	IOMMU_HWPT_ALLOC_DIRTY_TRACKING = 1 << 1,
	/* fault_id names a fault queue that receives this HWPT's page faults */
	IOMMU_HWPT_FAULT_ID_VALID = 1 << 2,
	/*
	 * the HWPT may be attached to PASIDs of a device; once a device has a
	 * PASID attachment, its non-PASID HWPT must carry this flag too (and
	 * vice versa). EOPNOTSUPP if the IOMMU has no PASID support.
	 */
	IOMMU_HWPT_ALLOC_PASID = 1 << 3,
};

/* Intel VT-d stage-1 (first-stage) table attributes, iommu_hwpt_vtd_s1.flags. */
enum iommu_hwpt_vtd_s1_flags {
	IOMMU_VTD_S1_SRE = 1 << 0,  /* supervisor requests allowed */
	IOMMU_VTD_S1_EAFE = 1 << 1, /* extended access flag enabled */
	IOMMU_VTD_S1_WPE = 1 << 2,  /* write protect enabled */
};

/*
 * Data of a nested HWPT of type IOMMU_HWPT_DATA_VTD_S1: a guest's VT-d
 * first-stage page table, walked through the parent (stage-2) HWPT.
 */
struct iommu_hwpt_vtd_s1 {
	__aligned_u64 flags;	  /* enum iommu_hwpt_vtd_s1_flags */
	__aligned_u64 pgtbl_addr; /* table root, a guest physical (parent IOVA) address */
	__u32 addr_width;	  /* input address width of the table, in bits */
	__u32 __reserved;	  /* must be 0 */
};

/*
 * Data of a nested HWPT of type IOMMU_HWPT_DATA_ARM_SMMUV3: the first two
 * 64-bit words of a guest Stream Table Entry, little-endian. Only these fields
 * may be non-zero (SMMUv3 spec "Stream Table Entry"): word 0 V, Cfg, S1Fmt,
 * S1ContextPtr, S1CDMax; word 1 EATS, S1DSS, S1CIR, S1COR, S1CSH, S1STALLD.
 * Anything else, or an illegal STE, gives EIO. Cfg selects stage-1 (a guest
 * CD table that is read through the parent), bypass (translate as the parent
 * alone would) or abort.
 */
struct iommu_hwpt_arm_smmuv3 {
	__aligned_le64 ste[2]; /* STE words 0 and 1 */
};

/* What data_uptr of IOMMU_HWPT_ALLOC describes (data_type). */
enum iommu_hwpt_data_type {
	IOMMU_HWPT_DATA_NONE = 0,	/* no data: a paging HWPT from an IOAS */
	IOMMU_HWPT_DATA_VTD_S1 = 1,	/* struct iommu_hwpt_vtd_s1 */
	IOMMU_HWPT_DATA_ARM_SMMUV3 = 2, /* struct iommu_hwpt_arm_smmuv3 */
};

/*
 * IOMMU_HWPT_ALLOC (0x3b89): create a hardware page table (HWPT), i.e. an
 * IOMMU domain, for the device dev_id.
 *  - pt_id is an IOAS: a kernel-managed paging HWPT holding the IOAS's
 *    mappings; data_type is NONE with data_len and data_uptr 0 (unless the
 *    driver takes data for paging HWPTs, as the v6.19 mock does). With
 *    NEST_PARENT it can later be the stage 2 of nested HWPTs.
 *  - pt_id is a NEST_PARENT HWPT or a vIOMMU (which wraps one): a nested HWPT
 *    whose stage 1 is owned by user space and described by the vendor data
 *    (data_type, data_len, data_uptr). Device and vIOMMU must sit behind the
 *    same physical IOMMU.
 * fault_id is read only with IOMMU_HWPT_FAULT_ID_VALID.
 */
struct iommu_hwpt_alloc {
	__u32 size;		 /* sizeof(struct iommu_hwpt_alloc) */
	__u32 flags;		 /* enum iommufd_hwpt_alloc_flags */
	__u32 dev_id;		 /* the device the HWPT is made for */
	__u32 pt_id;		 /* IOAS, parent HWPT or vIOMMU to build on */
	__u32 out_hwpt_id;	 /* out: ID of the new HWPT */
	__u32 __reserved;	 /* must be 0 */
	__u32 data_type;	 /* enum iommu_hwpt_data_type */
	__u32 data_len;		 /* bytes at data_uptr */
	__aligned_u64 data_uptr; /* user pointer to the vendor data */
	__u32 fault_id;		 /* fault queue for this HWPT's page faults */
	__u32 __reserved2;	 /* padding, must be 0 */
};
#define IOMMU_HWPT_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_ALLOC)

/* iommu_hw_info_vtd.flags */
enum iommu_hw_info_vtd_flags {
	/*
	 * Intel erratum 772415 (SPR17): the hardware mishandles read-only
	 * mappings in a nest parent, so none may be made there.
	 */
	IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17 = 1 << 0,
};

/*
 * Hardware info of type IOMMU_HW_INFO_TYPE_INTEL_VTD: the raw VT-d capability
 * and extended capability registers (decode them with the VT-d specification).
 */
struct iommu_hw_info_vtd {
	__u32 flags;		/* enum iommu_hw_info_vtd_flags */
	__u32 __reserved;	/* 0 */
	__aligned_u64 cap_reg;	/* Capability Register */
	__aligned_u64 ecap_reg; /* Extended Capability Register */
};

/*
 * Hardware info of type IOMMU_HW_INFO_TYPE_ARM_SMMUV3: raw ID registers of the
 * SMMU (SMMUv3 spec, IDR0-5, IIDR, AIDR). Only some fields are meant for a VMM
 * building a virtual SMMU: IDR0 ST_LEVEL, TERM_MODEL, STALL_MODEL, TTENDIAN,
 * CD2L, ASID16, TTF; IDR1 SIDSIZE, SSIDSIZE; IDR3 BBML, RIL; IDR5 VAX,
 * GRAN64K, GRAN16K, GRAN4K. Other bits may change meaning in later kernels.
 * S1P may be assumed when a nested HWPT can be created, and coherent access
 * (COHACC) is always assumed; ATS is a per-device matter for the VMM.
 */
struct iommu_hw_info_arm_smmuv3 {
	__u32 flags;	  /* 0 */
	__u32 __reserved; /* 0 */
	__u32 idr[6];	  /* SMMU_IDR0 .. SMMU_IDR5 */
	__u32 iidr;	  /* SMMU_IIDR: implementer and revision */
	__u32 aidr;	  /* SMMU_AIDR: architecture version */
};

/*
 * Hardware info of type IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV: the NVIDIA Tegra241
 * command-queue virtualisation extension of an SMMUv3. The three values are
 * the fields of its PARAM register, ready to be put into an emulated one (whose
 * VINTF count field should say one interface: log2 = 0).
 */
struct iommu_hw_info_tegra241_cmdqv {
	__u32 flags;	 /* 0 */
	__u8 version;	 /* PARAM[3:0]: CMDQV version */
	__u8 log2vcmdqs; /* PARAM[7:4]: log2 of the number of VCMDQs */
	__u8 log2vsids;	 /* PARAM[15:12]: log2 of the number of SID slots */
	__u8 __reserved; /* 0 */
};

/* Kind of blob IOMMU_GET_HW_INFO returns (or, as input, asks for). */
enum iommu_hw_info_type {
	IOMMU_HW_INFO_TYPE_NONE = 0,	       /* output: the driver has no blob */
	IOMMU_HW_INFO_TYPE_DEFAULT = 0,	       /* input: whatever the driver reports */
	IOMMU_HW_INFO_TYPE_INTEL_VTD = 1,      /* struct iommu_hw_info_vtd */
	IOMMU_HW_INFO_TYPE_ARM_SMMUV3 = 2,     /* struct iommu_hw_info_arm_smmuv3 */
	IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV = 3, /* struct iommu_hw_info_tegra241_cmdqv */
};

/* Generic capabilities reported in iommu_hw_info.out_capabilities. */
enum iommufd_hw_capabilities {
	/* HWPT_SET_DIRTY_TRACKING and HWPT_GET_DIRTY_BITMAP work */
	IOMMU_HW_CAP_DIRTY_TRACKING = 1 << 0,
	/* PCI PASID Execute permission (meaningless if out_max_pasid_log2 = 0) */
	IOMMU_HW_CAP_PCI_PASID_EXEC = 1 << 1,
	/* PCI PASID Privileged mode (meaningless if out_max_pasid_log2 = 0) */
	IOMMU_HW_CAP_PCI_PASID_PRIV = 1 << 2,
};

/* iommu_hw_info.flags */
enum iommufd_hw_info_flags {
	/* in_data_type holds the blob type wanted; without it, DEFAULT is used */
	IOMMU_HW_INFO_FLAG_INPUT_TYPE = 1 << 0,
};

/*
 * IOMMU_GET_HW_INFO (0x3b8a): describe the IOMMU behind a bound device, so a
 * VMM can make its virtual IOMMU (and a guest's stage-1 tables) match it.
 * The vendor blob is copied to data_uptr, at most data_len bytes; when the
 * buffer is longer than the blob the rest is zeroed. On return data_len says
 * how long the kernel's blob is and out_data_type what it is. data_len = 0 is
 * fine (nothing is copied).
 */
struct iommu_hw_info {
	__u32 size;		 /* sizeof(struct iommu_hw_info) */
	__u32 flags;		 /* enum iommufd_hw_info_flags */
	__u32 dev_id;		 /* a device bound to this iommufd */
	__u32 data_len;		 /* in: buffer length; out: length of the blob */
	__aligned_u64 data_uptr; /* user pointer to the buffer for the blob */
	union {
		__u32 in_data_type;  /* with FLAG_INPUT_TYPE: enum iommu_hw_info_type */
		__u32 out_data_type; /* out: enum iommu_hw_info_type */
	};
	__u8 out_max_pasid_log2;	/* out: PASID width in bits, 0 = no PASID */
	__u8 __reserved[3];		/* must be 0 */
	__aligned_u64 out_capabilities; /* out: enum iommufd_hw_capabilities */
};
#define IOMMU_GET_HW_INFO _IO(IOMMUFD_TYPE, IOMMUFD_CMD_GET_HW_INFO)

/* iommu_hwpt_set_dirty_tracking.flags */
enum iommufd_hwpt_set_dirty_tracking_flags {
	IOMMU_HWPT_DIRTY_TRACKING_ENABLE = 1, /* set: start; clear: stop */
};

/*
 * IOMMU_HWPT_SET_DIRTY_TRACKING (0x3b8b): switch dirty-page tracking of a
 * paging HWPT (allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING) on or off.
 * Switching it on starts from a clean state.
 */
struct iommu_hwpt_set_dirty_tracking {
	__u32 size;	  /* sizeof(struct iommu_hwpt_set_dirty_tracking) */
	__u32 flags;	  /* enum iommufd_hwpt_set_dirty_tracking_flags */
	__u32 hwpt_id;	  /* the paging HWPT */
	__u32 __reserved; /* must be 0 */
};
#define IOMMU_HWPT_SET_DIRTY_TRACKING _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING)

/* iommu_hwpt_get_dirty_bitmap.flags */
enum iommufd_hwpt_get_dirty_bitmap_flags {
	/*
	 * report without clearing; useful when the range is about to be
	 * unmapped anyway
	 */
	IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR = 1,
};

/*
 * IOMMU_HWPT_GET_DIRTY_BITMAP (0x3b8c): report which pages of
 * [iova, iova + length) were written by DMA since the last report, and (unless
 * NO_CLEAR) mark them clean again. Bit n of the bitmap at data stands for the
 * page_size bytes at iova + n * page_size: page p = (addr - iova) / page_size
 * is dirty when data[p / 64] has bit (p % 64) set (64-bit words, native
 * order). Bits are only ever set, never cleared, in the user's bitmap.
 */
struct iommu_hwpt_get_dirty_bitmap {
	__u32 size;		 /* sizeof(struct iommu_hwpt_get_dirty_bitmap) */
	__u32 hwpt_id;		 /* the paging HWPT */
	__u32 flags;		 /* enum iommufd_hwpt_get_dirty_bitmap_flags */
	__u32 __reserved;	 /* must be 0 */
	__aligned_u64 iova;	 /* IOVA of bit 0 */
	__aligned_u64 length;	 /* bytes of IOVA covered */
	__aligned_u64 page_size; /* bytes each bit stands for */
	__aligned_u64 data;	 /* user pointer to the bitmap */
};
#define IOMMU_HWPT_GET_DIRTY_BITMAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP)

/* Entry format of an IOMMU_HWPT_INVALIDATE request array (data_type). */
enum iommu_hwpt_invalidate_data_type {
	IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 = 0, /* struct iommu_hwpt_vtd_s1_invalidate */
	/* struct iommu_viommu_arm_smmuv3_invalidate, on a vIOMMU */
	IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 = 1,
};

/* iommu_hwpt_vtd_s1_invalidate.flags */
enum iommu_hwpt_vtd_s1_invalidate_flags {
	/* only leaf entries changed: paging-structure caches may be kept */
	IOMMU_VTD_INV_FLAGS_LEAF = 1 << 0,
};

/*
 * One VT-d stage-1 invalidation (IOMMU_HWPT_INVALIDATE_DATA_VTD_S1): drop
 * cached translations of npages 4 KiB pages from addr. addr = 0 with
 * npages = ~0ULL means everything of the HWPT. Device TLBs (ATS) are flushed
 * along automatically.
 */
struct iommu_hwpt_vtd_s1_invalidate {
	__aligned_u64 addr;   /* first address, 4 KiB aligned */
	__aligned_u64 npages; /* number of 4 KiB pages */
	__u32 flags;	      /* enum iommu_hwpt_vtd_s1_invalidate_flags */
	__u32 __reserved;     /* must be 0 */
};

/*
 * One ARM SMMUv3 invalidation (IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3): a raw
 * 128-bit command-queue entry, little-endian, as the guest wrote it. Accepted
 * opcodes (only through a vIOMMU): TLBI_NSNH_ALL, TLBI_NH_VA, TLBI_NH_VAA,
 * TLBI_NH_ALL, TLBI_NH_ASID, ATC_INV, CFGI_CD, CFGI_CD_ALL. Others give EIO.
 */
struct iommu_viommu_arm_smmuv3_invalidate {
	__aligned_le64 cmd[2]; /* the command, two little-endian words */
};

/*
 * IOMMU_HWPT_INVALIDATE (0x3b8d): hand the kernel an array of vendor cache
 * invalidation requests for a nested HWPT (after the user changed its stage-1
 * table) or for a vIOMMU (which also covers device and descriptor caches).
 * The array holds entry_num entries of entry_len bytes each, all of type
 * data_type. Requests run in order; entry_num always comes back as the number
 * that were handled, also when one fails. entry_num = 0 only checks that
 * data_type is supported.
 */
struct iommu_hwpt_invalidate {
	__u32 size;		 /* sizeof(struct iommu_hwpt_invalidate) */
	__u32 hwpt_id;		 /* nested HWPT or vIOMMU */
	__aligned_u64 data_uptr; /* user pointer to the request array */
	__u32 data_type;	 /* enum iommu_hwpt_invalidate_data_type */
	__u32 entry_len;	 /* bytes per request */
	__u32 entry_num;	 /* in: requests; out: requests handled */
	__u32 __reserved;	 /* must be 0 */
};
#define IOMMU_HWPT_INVALIDATE _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_INVALIDATE)

/* iommu_hwpt_pgfault.flags */
enum iommu_hwpt_pgfault_flags {
	IOMMU_PGFAULT_FLAGS_PASID_VALID = 1 << 0, /* pasid is meaningful */
	IOMMU_PGFAULT_FLAGS_LAST_PAGE = 1 << 1,	  /* last fault of its group */
};

/* iommu_hwpt_pgfault.perm: the access the device asked for */
enum iommu_hwpt_pgfault_perm {
	IOMMU_PGFAULT_PERM_READ = 1 << 0,  /* read */
	IOMMU_PGFAULT_PERM_WRITE = 1 << 1, /* write */
	IOMMU_PGFAULT_PERM_EXEC = 1 << 2,  /* PASID prefix had Execute Requested */
	IOMMU_PGFAULT_PERM_PRIV = 1 << 3,  /* PASID prefix had Privileged Mode */
};

/*
 * A page request (I/O page fault), as read() returns it from a fault queue fd.
 * Faults come in groups; answer a group once, after its LAST_PAGE record, by
 * writing a struct iommu_hwpt_page_response with that record's cookie.
 */
struct iommu_hwpt_pgfault {
	__u32 flags;	    /* enum iommu_hwpt_pgfault_flags */
	__u32 dev_id;	    /* the faulting device */
	__u32 pasid;	    /* its PASID, if PASID_VALID */
	__u32 grpid;	    /* PCI page request group index */
	__u32 perm;	    /* enum iommu_hwpt_pgfault_perm */
	__u32 __reserved;   /* 0 */
	__aligned_u64 addr; /* faulting address */
	__u32 length;	    /* bytes the device expects to access; 0 = no hint */
	__u32 cookie;	    /* kernel tag of the group, echo it in the response */
};

/* iommu_hwpt_page_response.code (the PCI page response codes) */
enum iommufd_page_response_code {
	IOMMUFD_PAGE_RESP_SUCCESS = 0, /* tables fixed up: retry the access */
	IOMMUFD_PAGE_RESP_INVALID = 1, /* not fixable: do not retry */
};

/* The answer to a fault group, written to the fault queue fd. */
struct iommu_hwpt_page_response {
	__u32 cookie; /* cookie of the group's last fault record */
	__u32 code;   /* enum iommufd_page_response_code */
};

/*
 * IOMMU_FAULT_QUEUE_ALLOC (0x3b8e): create a fault queue object and its fd.
 * HWPTs allocated with its ID (IOMMU_HWPT_FAULT_ID_VALID) deliver their I/O
 * page faults to it; read() on the fd returns struct iommu_hwpt_pgfault
 * records, write() takes struct iommu_hwpt_page_response records.
 */
struct iommu_fault_alloc {
	__u32 size;	    /* sizeof(struct iommu_fault_alloc) */
	__u32 flags;	    /* must be 0 */
	__u32 out_fault_id; /* out: ID of the fault queue */
	__u32 out_fault_fd; /* out: its file descriptor */
};
#define IOMMU_FAULT_QUEUE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_FAULT_QUEUE_ALLOC)

/* Kinds of virtual IOMMU (iommu_viommu_alloc.type). */
enum iommu_viommu_type {
	IOMMU_VIOMMU_TYPE_DEFAULT = 0,	  /* reserved, refused */
	IOMMU_VIOMMU_TYPE_ARM_SMMUV3 = 1, /* ARM SMMUv3 */
	/* SMMUv3 with the NVIDIA Tegra241 CMDQV extension */
	IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV = 2,
};

/*
 * vIOMMU data of type IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV (all output): where to
 * mmap() the iommufd to reach page 0 of the virtual interface (VINTF) given to
 * this vIOMMU, so a guest can drive its command queues directly.
 */
struct iommu_viommu_tegra241_cmdqv {
	__aligned_u64 out_vintf_mmap_offset; /* mmap offset of VINTF page 0 */
	__aligned_u64 out_vintf_mmap_length; /* mmap length of VINTF page 0 */
};

/*
 * IOMMU_VIOMMU_ALLOC (0x3b90): create a virtual IOMMU: the slice of one
 * physical IOMMU (the one behind dev_id) that serves one VM, on top of the
 * NEST_PARENT HWPT hwpt_id. It owns what is global to the guest's IOMMU rather
 * than to one device: the guest's ID spaces (cache tags, virtual device IDs),
 * event reporting, invalidation queues and interrupts, shared stage 2.
 * Nested HWPTs, vDEVICEs, vEVENTQs and HW queues are created on it.
 */
struct iommu_viommu_alloc {
	__u32 size;		 /* sizeof(struct iommu_viommu_alloc) */
	__u32 flags;		 /* must be 0 */
	__u32 type;		 /* enum iommu_viommu_type */
	__u32 dev_id;		 /* a device behind the physical IOMMU to use */
	__u32 hwpt_id;		 /* the NEST_PARENT HWPT (stage 2) */
	__u32 out_viommu_id;	 /* out: ID of the vIOMMU */
	__u32 data_len;		 /* bytes at data_uptr */
	__u32 __reserved;	 /* must be 0 */
	__aligned_u64 data_uptr; /* user pointer to the vendor data (in/out) */
};
#define IOMMU_VIOMMU_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VIOMMU_ALLOC)

/*
 * IOMMU_VDEVICE_ALLOC (0x3b91): tell a vIOMMU the guest-visible ID of one of
 * its devices (virtual StreamID on SMMUv3, DeviceID on AMD, RID on VT-d), so
 * guest commands and reported events can be translated. Destroy it before the
 * device goes away; if the device goes first, the vDEVICE is removed anyway
 * but its ID stays taken until the iommufd is closed.
 */
struct iommu_vdevice_alloc {
	__u32 size;	       /* sizeof(struct iommu_vdevice_alloc) */
	__u32 viommu_id;       /* the vIOMMU */
	__u32 dev_id;	       /* the physical device */
	__u32 out_vdevice_id;  /* out: ID of the vDEVICE */
	__aligned_u64 virt_id; /* the device's ID as the guest sees it */
};
#define IOMMU_VDEVICE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VDEVICE_ALLOC)

/*
 * IOMMU_IOAS_CHANGE_PROCESS (0x3b92): make the calling process the owner of
 * the pinned-memory accounting of every mapping of every IOAS in this iommufd
 * (e.g. when a new process takes over a device during live update). Only file
 * mappings (IOMMU_IOAS_MAP_FILE) can move; any other mapping makes the call
 * fail with EINVAL, and a failed call changes nothing.
 */
struct iommu_ioas_change_process {
	__u32 size;	  /* sizeof(struct iommu_ioas_change_process) */
	__u32 __reserved; /* must be 0 */
};
#define IOMMU_IOAS_CHANGE_PROCESS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_CHANGE_PROCESS)

/* iommufd_vevent_header.flags */
enum iommu_veventq_flag {
	/* events were dropped after the previous one; no data follows */
	IOMMU_VEVENTQ_FLAG_LOST_EVENTS = (1U << 0),
};

/*
 * What read() on a vEVENTQ fd returns: for every event this header followed
 * by the type's event record (e.g. struct iommu_vevent_arm_smmuv3). sequence
 * counts events from 0 up to INT_MAX and then wraps to 0; a gap between two
 * consecutive headers says how many events were lost in between. When events
 * were lost after the last one queued, a final header with LOST_EVENTS set and
 * the next sequence number ends the queue, with no record after it.
 */
struct iommufd_vevent_header {
	__u32 flags;	/* enum iommu_veventq_flag */
	__u32 sequence; /* index of this event, 0 .. INT_MAX */
};

/* Kinds of vEVENTQ (iommu_veventq_alloc.type). */
enum iommu_veventq_type {
	IOMMU_VEVENTQ_TYPE_DEFAULT = 0,	       /* reserved, refused */
	IOMMU_VEVENTQ_TYPE_ARM_SMMUV3 = 1,     /* struct iommu_vevent_arm_smmuv3 */
	IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV = 2, /* struct iommu_vevent_tegra241_cmdqv */
};

/*
 * A vEVENTQ record of type IOMMU_VEVENTQ_TYPE_ARM_SMMUV3: one 256-bit SMMUv3
 * event record, little-endian, with the StreamID field holding the virtual
 * ID of the device (only devices with a vDEVICE report events). Reported
 * events: 0x04 C_BAD_STE, 0x06 F_STREAM_DISABLED, 0x08 C_BAD_SUBSTREAMID,
 * 0x0a C_BAD_CD, 0x10 F_TRANSLATION, 0x11 F_ADDR_SIZE, 0x12 F_ACCESS,
 * 0x13 F_PERMISSION.
 */
struct iommu_vevent_arm_smmuv3 {
	__aligned_le64 evt[4]; /* event record, four little-endian words */
};

/*
 * A vEVENTQ record of type IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV: the 128-bit
 * LVCMDQ_ERR_MAP of the vIOMMU's VINTF (which logical VCMDQs are in error),
 * little-endian, exactly as the hardware holds it.
 */
struct iommu_vevent_tegra241_cmdqv {
	__aligned_le64 lvcmdq_err_map[2]; /* error map, two little-endian words */
};

/*
 * IOMMU_VEVENTQ_ALLOC (0x3b93): create a virtual event queue on a vIOMMU and
 * a read-only fd to drain it (close the fd when done). A vIOMMU has at most
 * one vEVENTQ per type. Once veventq_depth events wait unread, further events
 * are dropped and counted as lost (see struct iommufd_vevent_header).
 */
struct iommu_veventq_alloc {
	__u32 size;	      /* sizeof(struct iommu_veventq_alloc) */
	__u32 flags;	      /* must be 0 */
	__u32 viommu_id;      /* the vIOMMU */
	__u32 type;	      /* enum iommu_veventq_type */
	__u32 veventq_depth;  /* most events held before dropping */
	__u32 out_veventq_id; /* out: ID of the vEVENTQ */
	__u32 out_veventq_fd; /* out: its file descriptor */
	__u32 __reserved;     /* must be 0 */
};
#define IOMMU_VEVENTQ_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VEVENTQ_ALLOC)

/*
 * Kinds of HW queue (iommu_hw_queue_alloc.type).
 *
 * Rules for TEGRA241_CMDQV (a virtual command queue, VCMDQ): indexes are
 * allocated from 0 upwards and destroyed from the highest down;
 * nesting_parent_iova must be aligned to length and mapped in the IOAS;
 * length is a power of two from 32 bytes to 16 << IDR1.CMDQS bytes (IDR1 from
 * struct iommu_hw_info_arm_smmuv3). Backing the queue with physically
 * contiguous memory (a huge page aligned to the queue size) is advised, and a
 * VMM should limit its virtual IDR1.CMDQS accordingly.
 */
enum iommu_hw_queue_type {
	IOMMU_HW_QUEUE_TYPE_DEFAULT = 0,	/* reserved, refused */
	IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV = 1, /* Tegra241 CMDQV VCMDQ */
};

/*
 * IOMMU_HW_QUEUE_ALLOC (0x3b94): give a queue that lives in guest memory
 * (at nesting_parent_iova, a guest physical address of the vIOMMU's stage 2)
 * to hardware that executes it directly, e.g. a command queue the guest fills
 * without trapping. The pages are pinned for the life of the object. Each
 * queue of a type has its own index on the vIOMMU.
 */
struct iommu_hw_queue_alloc {
	__u32 size;			   /* sizeof(struct iommu_hw_queue_alloc) */
	__u32 flags;			   /* must be 0 */
	__u32 viommu_id;		   /* the vIOMMU */
	__u32 type;			   /* enum iommu_hw_queue_type */
	__u32 index;			   /* queue number within the vIOMMU and type */
	__u32 out_hw_queue_id;		   /* out: ID of the HW queue */
	__aligned_u64 nesting_parent_iova; /* queue base in stage-2 input space */
	__aligned_u64 length;		   /* queue size in bytes */
};
#define IOMMU_HW_QUEUE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HW_QUEUE_ALLOC)

/*
 * Layout checks (x86-64, and any ABI: the 64-bit fields are 8-byte aligned).
 * "min" is the smallest size the ioctl accepts: the end of the last field of
 * the struct's first version. They compile only in C11/C++11 or later; the
 * helper macros are removed again at the end of this header.
 */
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

UIOMMU_UAPI_SIZE(struct iommu_destroy, 8);
UIOMMU_UAPI_OFF(struct iommu_destroy, id, 4);
UIOMMU_UAPI_MIN(struct iommu_destroy, id, 8);

UIOMMU_UAPI_SIZE(struct iommu_ioas_alloc, 12);
UIOMMU_UAPI_OFF(struct iommu_ioas_alloc, flags, 4);
UIOMMU_UAPI_OFF(struct iommu_ioas_alloc, out_ioas_id, 8);
UIOMMU_UAPI_MIN(struct iommu_ioas_alloc, out_ioas_id, 12);

UIOMMU_UAPI_SIZE(struct iommu_iova_range, 16);
UIOMMU_UAPI_OFF(struct iommu_iova_range, start, 0);
UIOMMU_UAPI_OFF(struct iommu_iova_range, last, 8);

UIOMMU_UAPI_SIZE(struct iommu_ioas_iova_ranges, 32);
UIOMMU_UAPI_OFF(struct iommu_ioas_iova_ranges, ioas_id, 4);
UIOMMU_UAPI_OFF(struct iommu_ioas_iova_ranges, num_iovas, 8);
UIOMMU_UAPI_OFF(struct iommu_ioas_iova_ranges, __reserved, 12);
UIOMMU_UAPI_OFF(struct iommu_ioas_iova_ranges, allowed_iovas, 16);
UIOMMU_UAPI_OFF(struct iommu_ioas_iova_ranges, out_iova_alignment, 24);
UIOMMU_UAPI_MIN(struct iommu_ioas_iova_ranges, out_iova_alignment, 32);

UIOMMU_UAPI_SIZE(struct iommu_ioas_allow_iovas, 24);
UIOMMU_UAPI_OFF(struct iommu_ioas_allow_iovas, ioas_id, 4);
UIOMMU_UAPI_OFF(struct iommu_ioas_allow_iovas, num_iovas, 8);
UIOMMU_UAPI_OFF(struct iommu_ioas_allow_iovas, __reserved, 12);
UIOMMU_UAPI_OFF(struct iommu_ioas_allow_iovas, allowed_iovas, 16);
UIOMMU_UAPI_MIN(struct iommu_ioas_allow_iovas, allowed_iovas, 24);

UIOMMU_UAPI_SIZE(struct iommu_ioas_map, 40);
UIOMMU_UAPI_OFF(struct iommu_ioas_map, flags, 4);
UIOMMU_UAPI_OFF(struct iommu_ioas_map, ioas_id, 8);
UIOMMU_UAPI_OFF(struct iommu_ioas_map, __reserved, 12);
UIOMMU_UAPI_OFF(struct iommu_ioas_map, user_va, 16);
UIOMMU_UAPI_OFF(struct iommu_ioas_map, length, 24);
UIOMMU_UAPI_OFF(struct iommu_ioas_map, iova, 32);
UIOMMU_UAPI_MIN(struct iommu_ioas_map, iova, 40);

UIOMMU_UAPI_SIZE(struct iommu_ioas_map_file, 40);
UIOMMU_UAPI_OFF(struct iommu_ioas_map_file, flags, 4);
UIOMMU_UAPI_OFF(struct iommu_ioas_map_file, ioas_id, 8);
UIOMMU_UAPI_OFF(struct iommu_ioas_map_file, fd, 12);
UIOMMU_UAPI_OFF(struct iommu_ioas_map_file, start, 16);
UIOMMU_UAPI_OFF(struct iommu_ioas_map_file, length, 24);
UIOMMU_UAPI_OFF(struct iommu_ioas_map_file, iova, 32);
UIOMMU_UAPI_MIN(struct iommu_ioas_map_file, iova, 40);

UIOMMU_UAPI_SIZE(struct iommu_ioas_copy, 40);
UIOMMU_UAPI_OFF(struct iommu_ioas_copy, flags, 4);
UIOMMU_UAPI_OFF(struct iommu_ioas_copy, dst_ioas_id, 8);
UIOMMU_UAPI_OFF(struct iommu_ioas_copy, src_ioas_id, 12);
UIOMMU_UAPI_OFF(struct iommu_ioas_copy, length, 16);
UIOMMU_UAPI_OFF(struct iommu_ioas_copy, dst_iova, 24);
UIOMMU_UAPI_OFF(struct iommu_ioas_copy, src_iova, 32);
UIOMMU_UAPI_MIN(struct iommu_ioas_copy, src_iova, 40);

UIOMMU_UAPI_SIZE(struct iommu_ioas_unmap, 24);
UIOMMU_UAPI_OFF(struct iommu_ioas_unmap, ioas_id, 4);
UIOMMU_UAPI_OFF(struct iommu_ioas_unmap, iova, 8);
UIOMMU_UAPI_OFF(struct iommu_ioas_unmap, length, 16);
UIOMMU_UAPI_MIN(struct iommu_ioas_unmap, length, 24);

UIOMMU_UAPI_SIZE(struct iommu_option, 24);
UIOMMU_UAPI_OFF(struct iommu_option, option_id, 4);
UIOMMU_UAPI_OFF(struct iommu_option, op, 8);
UIOMMU_UAPI_OFF(struct iommu_option, __reserved, 10);
UIOMMU_UAPI_OFF(struct iommu_option, object_id, 12);
UIOMMU_UAPI_OFF(struct iommu_option, val64, 16);
UIOMMU_UAPI_MIN(struct iommu_option, val64, 24);

UIOMMU_UAPI_SIZE(struct iommu_vfio_ioas, 12);
UIOMMU_UAPI_OFF(struct iommu_vfio_ioas, ioas_id, 4);
UIOMMU_UAPI_OFF(struct iommu_vfio_ioas, op, 8);
UIOMMU_UAPI_OFF(struct iommu_vfio_ioas, __reserved, 10);
UIOMMU_UAPI_MIN(struct iommu_vfio_ioas, __reserved, 12);

UIOMMU_UAPI_SIZE(struct iommu_hwpt_vtd_s1, 24);
UIOMMU_UAPI_OFF(struct iommu_hwpt_vtd_s1, flags, 0);
UIOMMU_UAPI_OFF(struct iommu_hwpt_vtd_s1, pgtbl_addr, 8);
UIOMMU_UAPI_OFF(struct iommu_hwpt_vtd_s1, addr_width, 16);
UIOMMU_UAPI_OFF(struct iommu_hwpt_vtd_s1, __reserved, 20);

UIOMMU_UAPI_SIZE(struct iommu_hwpt_arm_smmuv3, 16);
UIOMMU_UAPI_OFF(struct iommu_hwpt_arm_smmuv3, ste, 0);

UIOMMU_UAPI_SIZE(struct iommu_hwpt_alloc, 48);
UIOMMU_UAPI_OFF(struct iommu_hwpt_alloc, flags, 4);
UIOMMU_UAPI_OFF(struct iommu_hwpt_alloc, dev_id, 8);
UIOMMU_UAPI_OFF(struct iommu_hwpt_alloc, pt_id, 12);
UIOMMU_UAPI_OFF(struct iommu_hwpt_alloc, out_hwpt_id, 16);
UIOMMU_UAPI_OFF(struct iommu_hwpt_alloc, __reserved, 20);
UIOMMU_UAPI_OFF(struct iommu_hwpt_alloc, data_type, 24);
UIOMMU_UAPI_OFF(struct iommu_hwpt_alloc, data_len, 28);
UIOMMU_UAPI_OFF(struct iommu_hwpt_alloc, data_uptr, 32);
UIOMMU_UAPI_OFF(struct iommu_hwpt_alloc, fault_id, 40);
UIOMMU_UAPI_OFF(struct iommu_hwpt_alloc, __reserved2, 44);
UIOMMU_UAPI_MIN(struct iommu_hwpt_alloc, __reserved, 24);

UIOMMU_UAPI_SIZE(struct iommu_hw_info_vtd, 24);
UIOMMU_UAPI_OFF(struct iommu_hw_info_vtd, __reserved, 4);
UIOMMU_UAPI_OFF(struct iommu_hw_info_vtd, cap_reg, 8);
UIOMMU_UAPI_OFF(struct iommu_hw_info_vtd, ecap_reg, 16);

UIOMMU_UAPI_SIZE(struct iommu_hw_info_arm_smmuv3, 40);
UIOMMU_UAPI_OFF(struct iommu_hw_info_arm_smmuv3, __reserved, 4);
UIOMMU_UAPI_OFF(struct iommu_hw_info_arm_smmuv3, idr, 8);
UIOMMU_UAPI_OFF(struct iommu_hw_info_arm_smmuv3, iidr, 32);
UIOMMU_UAPI_OFF(struct iommu_hw_info_arm_smmuv3, aidr, 36);

UIOMMU_UAPI_SIZE(struct iommu_hw_info_tegra241_cmdqv, 8);
UIOMMU_UAPI_OFF(struct iommu_hw_info_tegra241_cmdqv, version, 4);
UIOMMU_UAPI_OFF(struct iommu_hw_info_tegra241_cmdqv, log2vcmdqs, 5);
UIOMMU_UAPI_OFF(struct iommu_hw_info_tegra241_cmdqv, log2vsids, 6);
UIOMMU_UAPI_OFF(struct iommu_hw_info_tegra241_cmdqv, __reserved, 7);

UIOMMU_UAPI_SIZE(struct iommu_hw_info, 40);
UIOMMU_UAPI_OFF(struct iommu_hw_info, flags, 4);
UIOMMU_UAPI_OFF(struct iommu_hw_info, dev_id, 8);
UIOMMU_UAPI_OFF(struct iommu_hw_info, data_len, 12);
UIOMMU_UAPI_OFF(struct iommu_hw_info, data_uptr, 16);
UIOMMU_UAPI_OFF(struct iommu_hw_info, in_data_type, 24);
UIOMMU_UAPI_OFF(struct iommu_hw_info, out_data_type, 24);
UIOMMU_UAPI_OFF(struct iommu_hw_info, out_max_pasid_log2, 28);
UIOMMU_UAPI_OFF(struct iommu_hw_info, __reserved, 29);
UIOMMU_UAPI_OFF(struct iommu_hw_info, out_capabilities, 32);
UIOMMU_UAPI_MIN(struct iommu_hw_info, __reserved, 32);

UIOMMU_UAPI_SIZE(struct iommu_hwpt_set_dirty_tracking, 16);
UIOMMU_UAPI_OFF(struct iommu_hwpt_set_dirty_tracking, flags, 4);
UIOMMU_UAPI_OFF(struct iommu_hwpt_set_dirty_tracking, hwpt_id, 8);
UIOMMU_UAPI_OFF(struct iommu_hwpt_set_dirty_tracking, __reserved, 12);
UIOMMU_UAPI_MIN(struct iommu_hwpt_set_dirty_tracking, __reserved, 16);

UIOMMU_UAPI_SIZE(struct iommu_hwpt_get_dirty_bitmap, 48);
UIOMMU_UAPI_OFF(struct iommu_hwpt_get_dirty_bitmap, hwpt_id, 4);
UIOMMU_UAPI_OFF(struct iommu_hwpt_get_dirty_bitmap, flags, 8);
UIOMMU_UAPI_OFF(struct iommu_hwpt_get_dirty_bitmap, __reserved, 12);
UIOMMU_UAPI_OFF(struct iommu_hwpt_get_dirty_bitmap, iova, 16);
UIOMMU_UAPI_OFF(struct iommu_hwpt_get_dirty_bitmap, length, 24);
UIOMMU_UAPI_OFF(struct iommu_hwpt_get_dirty_bitmap, page_size, 32);
UIOMMU_UAPI_OFF(struct iommu_hwpt_get_dirty_bitmap, data, 40);
UIOMMU_UAPI_MIN(struct iommu_hwpt_get_dirty_bitmap, data, 48);

UIOMMU_UAPI_SIZE(struct iommu_hwpt_vtd_s1_invalidate, 24);
UIOMMU_UAPI_OFF(struct iommu_hwpt_vtd_s1_invalidate, npages, 8);
UIOMMU_UAPI_OFF(struct iommu_hwpt_vtd_s1_invalidate, flags, 16);
UIOMMU_UAPI_OFF(struct iommu_hwpt_vtd_s1_invalidate, __reserved, 20);

UIOMMU_UAPI_SIZE(struct iommu_viommu_arm_smmuv3_invalidate, 16);
UIOMMU_UAPI_OFF(struct iommu_viommu_arm_smmuv3_invalidate, cmd, 0);

UIOMMU_UAPI_SIZE(struct iommu_hwpt_invalidate, 32);
UIOMMU_UAPI_OFF(struct iommu_hwpt_invalidate, hwpt_id, 4);
UIOMMU_UAPI_OFF(struct iommu_hwpt_invalidate, data_uptr, 8);
UIOMMU_UAPI_OFF(struct iommu_hwpt_invalidate, data_type, 16);
UIOMMU_UAPI_OFF(struct iommu_hwpt_invalidate, entry_len, 20);
UIOMMU_UAPI_OFF(struct iommu_hwpt_invalidate, entry_num, 24);
UIOMMU_UAPI_OFF(struct iommu_hwpt_invalidate, __reserved, 28);
UIOMMU_UAPI_MIN(struct iommu_hwpt_invalidate, __reserved, 32);

UIOMMU_UAPI_SIZE(struct iommu_hwpt_pgfault, 40);
UIOMMU_UAPI_OFF(struct iommu_hwpt_pgfault, dev_id, 4);
UIOMMU_UAPI_OFF(struct iommu_hwpt_pgfault, pasid, 8);
UIOMMU_UAPI_OFF(struct iommu_hwpt_pgfault, grpid, 12);
UIOMMU_UAPI_OFF(struct iommu_hwpt_pgfault, perm, 16);
UIOMMU_UAPI_OFF(struct iommu_hwpt_pgfault, __reserved, 20);
UIOMMU_UAPI_OFF(struct iommu_hwpt_pgfault, addr, 24);
UIOMMU_UAPI_OFF(struct iommu_hwpt_pgfault, length, 32);
UIOMMU_UAPI_OFF(struct iommu_hwpt_pgfault, cookie, 36);

UIOMMU_UAPI_SIZE(struct iommu_hwpt_page_response, 8);
UIOMMU_UAPI_OFF(struct iommu_hwpt_page_response, code, 4);

UIOMMU_UAPI_SIZE(struct iommu_fault_alloc, 16);
UIOMMU_UAPI_OFF(struct iommu_fault_alloc, flags, 4);
UIOMMU_UAPI_OFF(struct iommu_fault_alloc, out_fault_id, 8);
UIOMMU_UAPI_OFF(struct iommu_fault_alloc, out_fault_fd, 12);
UIOMMU_UAPI_MIN(struct iommu_fault_alloc, out_fault_fd, 16);

UIOMMU_UAPI_SIZE(struct iommu_viommu_tegra241_cmdqv, 16);
UIOMMU_UAPI_OFF(struct iommu_viommu_tegra241_cmdqv, out_vintf_mmap_length, 8);

UIOMMU_UAPI_SIZE(struct iommu_viommu_alloc, 40);
UIOMMU_UAPI_OFF(struct iommu_viommu_alloc, flags, 4);
UIOMMU_UAPI_OFF(struct iommu_viommu_alloc, type, 8);
UIOMMU_UAPI_OFF(struct iommu_viommu_alloc, dev_id, 12);
UIOMMU_UAPI_OFF(struct iommu_viommu_alloc, hwpt_id, 16);
UIOMMU_UAPI_OFF(struct iommu_viommu_alloc, out_viommu_id, 20);
UIOMMU_UAPI_OFF(struct iommu_viommu_alloc, data_len, 24);
UIOMMU_UAPI_OFF(struct iommu_viommu_alloc, __reserved, 28);
UIOMMU_UAPI_OFF(struct iommu_viommu_alloc, data_uptr, 32);
UIOMMU_UAPI_MIN(struct iommu_viommu_alloc, out_viommu_id, 24);

UIOMMU_UAPI_SIZE(struct iommu_vdevice_alloc, 24);
UIOMMU_UAPI_OFF(struct iommu_vdevice_alloc, viommu_id, 4);
UIOMMU_UAPI_OFF(struct iommu_vdevice_alloc, dev_id, 8);
UIOMMU_UAPI_OFF(struct iommu_vdevice_alloc, out_vdevice_id, 12);
UIOMMU_UAPI_OFF(struct iommu_vdevice_alloc, virt_id, 16);
UIOMMU_UAPI_MIN(struct iommu_vdevice_alloc, virt_id, 24);

UIOMMU_UAPI_SIZE(struct iommu_ioas_change_process, 8);
UIOMMU_UAPI_OFF(struct iommu_ioas_change_process, __reserved, 4);
UIOMMU_UAPI_MIN(struct iommu_ioas_change_process, __reserved, 8);

UIOMMU_UAPI_SIZE(struct iommufd_vevent_header, 8);
UIOMMU_UAPI_OFF(struct iommufd_vevent_header, sequence, 4);

UIOMMU_UAPI_SIZE(struct iommu_vevent_arm_smmuv3, 32);
UIOMMU_UAPI_OFF(struct iommu_vevent_arm_smmuv3, evt, 0);

UIOMMU_UAPI_SIZE(struct iommu_vevent_tegra241_cmdqv, 16);
UIOMMU_UAPI_OFF(struct iommu_vevent_tegra241_cmdqv, lvcmdq_err_map, 0);

UIOMMU_UAPI_SIZE(struct iommu_veventq_alloc, 32);
UIOMMU_UAPI_OFF(struct iommu_veventq_alloc, flags, 4);
UIOMMU_UAPI_OFF(struct iommu_veventq_alloc, viommu_id, 8);
UIOMMU_UAPI_OFF(struct iommu_veventq_alloc, type, 12);
UIOMMU_UAPI_OFF(struct iommu_veventq_alloc, veventq_depth, 16);
UIOMMU_UAPI_OFF(struct iommu_veventq_alloc, out_veventq_id, 20);
UIOMMU_UAPI_OFF(struct iommu_veventq_alloc, out_veventq_fd, 24);
UIOMMU_UAPI_OFF(struct iommu_veventq_alloc, __reserved, 28);
UIOMMU_UAPI_MIN(struct iommu_veventq_alloc, out_veventq_fd, 28);

UIOMMU_UAPI_SIZE(struct iommu_hw_queue_alloc, 40);
UIOMMU_UAPI_OFF(struct iommu_hw_queue_alloc, flags, 4);
UIOMMU_UAPI_OFF(struct iommu_hw_queue_alloc, viommu_id, 8);
UIOMMU_UAPI_OFF(struct iommu_hw_queue_alloc, type, 12);
UIOMMU_UAPI_OFF(struct iommu_hw_queue_alloc, index, 16);
UIOMMU_UAPI_OFF(struct iommu_hw_queue_alloc, out_hw_queue_id, 20);
UIOMMU_UAPI_OFF(struct iommu_hw_queue_alloc, nesting_parent_iova, 24);
UIOMMU_UAPI_OFF(struct iommu_hw_queue_alloc, length, 32);
UIOMMU_UAPI_MIN(struct iommu_hw_queue_alloc, length, 40);

#undef UIOMMU_UAPI_MIN
#undef UIOMMU_UAPI_OFF
#undef UIOMMU_UAPI_SIZE
#undef UIOMMU_UAPI_OFFSETOFEND
#undef UIOMMU_UAPI_ASSERT
#endif /* C11 or C++11 */

#endif /* _IOMMUFD_H */
