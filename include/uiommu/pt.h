/* SPDX-License-Identifier: MIT */
/*
 * uiommu/pt.h - page tables of real IOMMU formats, for embedders.
 *
 * A struct uiommu_pt owns one tree of translation tables in one of the
 * formats below, built in this process's memory exactly as the hardware
 * would read it: the root address and every table address in a descriptor
 * are host virtual addresses, so the tree can be handed to a model (or
 * dumped) as is. Output addresses are numbers the tables store; they are
 * never dereferenced here.
 *
 *	struct uiommu_pt_config cfg = {
 *		.format = "vmsa-s1", .granule_shift = 12, .ias = 48, .oas = 48,
 *	};
 *	struct uiommu_pt *pt;
 *
 *	if (uiommu_pt_new(&cfg, &pt) == 0) {
 *		uiommu_pt_map(pt, 0x200000, 0x80000000, 0x200000,
 *			      UIOMMU_PROT_READ | UIOMMU_PROT_WRITE);
 *		...
 *		uiommu_pt_free(pt);
 *	}
 *
 * Formats ("format" in the configuration):
 *   "vmsa-s1"  ARM VMSAv8-64 stage 1 (SMMUv3 CD); granule 12/14/16, ias = 64 - T0SZ
 *   "vmsa-s2"  ARM VMSAv8-64 stage 2 (SMMUv3 STE); sl0 = SL0 or UIOMMU_PT_SL0_AUTO
 *   "x86"      x86-64 4/5-level paging, the VT-d first stage; ias 48 or 57
 *   "vtd-ss"   VT-d second stage; ias 39, 48 or 57
 *   "tce"      sPAPR TCE; granule = IOMMU page shift, ias = log2(window),
 *              levels 1..5, iova_base = bus address of the window
 * A format the library was built without gives -EOPNOTSUPP.
 *
 * Errors are negative errno values. A table is not internally locked: the
 * caller serialises every call that takes a given struct uiommu_pt, except
 * that the read-only calls (uiommu_pt_iova_to_phys, uiommu_pt_walk,
 * uiommu_pt_root, uiommu_pt_stats) may run concurrently with each other.
 */
#ifndef UIOMMU_PUBLIC_PT_H
#define UIOMMU_PUBLIC_PT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Permissions of a mapping, and the access a walk checks (the same bits).
 * USER: in a mapping, unprivileged (EL0 / user) access is allowed; in a
 * walk, the access is unprivileged.
 */
#define UIOMMU_PROT_READ  0x1u
#define UIOMMU_PROT_WRITE 0x2u
#define UIOMMU_PROT_EXEC  0x4u
#define UIOMMU_PROT_USER  0x8u

/* uiommu_pt_config.flags */
#define UIOMMU_PT_HW_AD	    (1u << 0) /* walks set access / dirty state (HTTU, x86 A/D) */
#define UIOMMU_PT_AFFD	    (1u << 1) /* VMSA: a clear access flag does not fault */
#define UIOMMU_PT_NO_1G	    (1u << 2) /* x86, VT-d: no 1 GiB leaves */
#define UIOMMU_PT_NO_2M	    (1u << 3) /* VT-d second stage: no 2 MiB leaves */
#define UIOMMU_PT_NO_BLOCKS (1u << 4) /* any format: map with smallest pages only */

/* uiommu_pt_config.sl0: let the library choose the deepest legal start level. */
#define UIOMMU_PT_SL0_AUTO (-1)

/**
 * struct uiommu_pt_config - the architectural inputs of a table format.
 * @format: format name, see the top of this header.
 * @granule_shift: log2 of the granule (VMSA 12, 14, 16; TCE the IOMMU page
 *	shift; 0 means 12 for x86 and VT-d).
 * @ias: input address bits (VMSA 64 - TxSZ; x86 48/57; VT-d 39/48/57; TCE
 *	log2 of the window size).
 * @oas: output address bits (VMSA the IPS/PS value as bits, 32..48; x86 and
 *	VT-d up to 52; TCE up to 64).
 * @sl0: VMSA stage 2 SL0 encoding, or UIOMMU_PT_SL0_AUTO; ignored elsewhere.
 * @levels: TCE levels (1..5); 0 for the other formats, which derive it.
 * @iova_base: TCE window start; 0 for the other formats.
 * @flags: UIOMMU_PT_* flags.
 */
struct uiommu_pt_config {
	const char *format;
	unsigned int granule_shift;
	unsigned int ias;
	unsigned int oas;
	int sl0;
	unsigned int levels;
	uint64_t iova_base;
	unsigned int flags;
};

/* Why a walk stopped without a leaf. */
enum uiommu_pt_fault {
	UIOMMU_PT_FAULT_NONE = 0,    /* reached a leaf */
	UIOMMU_PT_FAULT_TRANSLATION, /* invalid descriptor, or input out of range */
	UIOMMU_PT_FAULT_ACCESS,	     /* access flag clear (VMSA) */
	UIOMMU_PT_FAULT_PERMISSION,  /* the access is not allowed */
	UIOMMU_PT_FAULT_ADDR_SIZE,   /* an address beyond the output size */
	UIOMMU_PT_FAULT_RESERVED,    /* reserved bits set (x86, VT-d, TCE) */
	UIOMMU_PT_FAULT_WALK_ABORT,  /* a descriptor could not be read */
};

/**
 * struct uiommu_pt_walk_result - outcome of uiommu_pt_walk().
 * @fault: enum uiommu_pt_fault; UIOMMU_PT_FAULT_NONE means the leaf fields
 *	(@oa, @size, @prot) are valid.
 * @level: architectural level of the leaf, or of the descriptor at which
 *	the walk stopped.
 * @oa: output address of the walked input address (leaf base + offset).
 * @size: bytes the leaf maps (page or block size).
 * @prot: UIOMMU_PROT_* the leaf grants, after hierarchical limits.
 * @reserved: zero.
 * @desc: the leaf or faulting descriptor (0 when none was read).
 * @desc_addr: where @desc was read (0 when none was read).
 */
struct uiommu_pt_walk_result {
	uint32_t fault;
	int32_t level;
	uint64_t oa;
	uint64_t size;
	uint32_t prot;
	uint32_t reserved;
	uint64_t desc;
	uint64_t desc_addr;
};

/**
 * struct uiommu_pt_stats - memory a table uses.
 * @tables: table allocations, the root included.
 * @bytes: their total size in bytes.
 */
struct uiommu_pt_stats {
	uint64_t tables;
	uint64_t bytes;
};

struct uiommu_pt;

/**
 * uiommu_pt_new() - create an empty table.
 * @cfg: format and geometry; only read during the call.
 * @out: receives the new table on success, untouched on error.
 *
 * Return: 0; -EINVAL for a NULL argument, an unknown format name or an
 * invalid geometry for the format; -EOPNOTSUPP for an unknown flag or a
 * format not built in; -ENOMEM.
 */
int uiommu_pt_new(const struct uiommu_pt_config *cfg, struct uiommu_pt **out);

/**
 * uiommu_pt_free() - free a table and every table page it owns.
 * @pt: the table, or NULL (nothing happens).
 */
void uiommu_pt_free(struct uiommu_pt *pt);

/**
 * uiommu_pt_map() - map [iova, iova + size) to [pa, pa + size).
 * @pt: the table.
 * @iova: input address, aligned to the smallest page of the format.
 * @pa: output address, equally aligned.
 * @size: bytes, a non-zero multiple of the smallest page.
 * @prot: UIOMMU_PROT_* bits; READ or WRITE is required.
 *
 * The largest leaves that alignment allows are used. On error nothing is
 * mapped and the tables are as they were.
 *
 * Return: 0; -EINVAL (alignment, zero size, no READ/WRITE, unknown prot
 * bits); -EOVERFLOW (a range wraps); -ERANGE (beyond the input or output
 * size); -EEXIST (part of the range is already mapped); -ENOMEM.
 */
int uiommu_pt_map(struct uiommu_pt *pt, uint64_t iova, uint64_t pa, uint64_t size,
		  unsigned int prot);

/**
 * uiommu_pt_unmap() - unmap whatever is mapped in [iova, iova + size).
 * @pt: the table.
 * @iova: start, aligned to the smallest page.
 * @size: bytes, a non-zero multiple of the smallest page.
 * @unmapped: if not NULL, receives the number of bytes that were mapped in
 *	the range and now are not.
 *
 * A block the range cuts is split first; tables left empty are freed.
 *
 * Return: 0 (also when nothing was mapped); -EINVAL; -EOVERFLOW; -ERANGE;
 * -ENOMEM when a block to split could not get a table, in which case
 * nothing is unmapped.
 */
int uiommu_pt_unmap(struct uiommu_pt *pt, uint64_t iova, uint64_t size, uint64_t *unmapped);

/**
 * uiommu_pt_iova_to_phys() - the output address of one input address.
 * @pt: the table.
 * @iova: any input address.
 * @pa: receives the output address.
 *
 * Return: 0; -ENOENT when nothing maps @iova; -EINVAL for NULL arguments.
 */
int uiommu_pt_iova_to_phys(const struct uiommu_pt *pt, uint64_t iova, uint64_t *pa);

/**
 * uiommu_pt_root() - address of the root table.
 * @pt: the table.
 *
 * This is what goes into the hardware's table base (TTB0, S2TTB, the
 * PASID-table pointer ...). It does not change while the table lives.
 *
 * Return: the root table's address, or 0 for a NULL @pt.
 */
uint64_t uiommu_pt_root(const struct uiommu_pt *pt);

/**
 * uiommu_pt_walk() - walk the table as the hardware would.
 * @pt: the table.
 * @iova: input address.
 * @access: UIOMMU_PROT_* bits the access needs (0: check none).
 * @res: receives the leaf, or why and where the walk stopped.
 *
 * Every architectural check of the format is applied (valid bits, reserved
 * bits, access flag, permissions, address sizes).
 *
 * Return: 0 when the walk completed, whether it found a leaf or a fault
 * (see @res->fault); -EINVAL for NULL arguments or unknown @access bits.
 */
int uiommu_pt_walk(const struct uiommu_pt *pt, uint64_t iova, unsigned int access,
		   struct uiommu_pt_walk_result *res);

/**
 * uiommu_pt_stats() - memory held by a table.
 * @pt: the table.
 * @st: receives the counts.
 *
 * Return: 0; -EINVAL for NULL arguments.
 */
int uiommu_pt_stats(const struct uiommu_pt *pt, struct uiommu_pt_stats *st);

/**
 * uiommu_pt_fault_name() - short name of an enum uiommu_pt_fault value.
 * @fault: the value.
 *
 * Return: a static string ("none", "translation", ...), "?" when unknown.
 */
const char *uiommu_pt_fault_name(unsigned int fault);

#ifdef __cplusplus
}
#endif

#endif
