/* SPDX-License-Identifier: MIT */
/*
 * lib/pt - page-table formats behind one interface.
 *
 * A format (ARM VMSAv8-64 stage 1 / stage 2, x86-64 paging as the VT-d first
 * stage, VT-d second stage, sPAPR TCE) is described by a struct pt_cfg: the
 * user fills the architectural inputs (granule, input and output sizes, SL0,
 * levels, flags) and pt_cfg_init() validates them and derives the geometry
 * every walker and mapper uses:
 *
 *   depth d = 0 is the root table, d = nlevels - 1 the last level.
 *   The index of input address a at depth d is
 *       ((a - iova_base) >> shift[d]) & mask(bits[d]).
 *   bits[0] includes the extra bits of concatenated root tables (VMSA
 *   stage 2), so the root is one table of 8 << bits[0] bytes.
 *   leaf_ok bit d says a leaf (page or block) may sit at depth d.
 *   The architectural level of depth d is start_level + d * level_step
 *   (ARM: 0..3 top-down; x86 and VT-d: 5/4..1 bottom-up; TCE: 0.. top-down).
 *
 * Memory: every table address in a descriptor is a "physical" address in
 * the address space of a struct pt_mem, a memory port made of regions
 * (base, size, host pointer). The host port is the identity (physical
 * address = this process's virtual address, DESIGN.md §1); an arena port
 * presents a buffer at a chosen base, which is how guest memory, memory
 * images and fuzz buffers are walked without ever reading outside them.
 *
 * Walking is split into begin + step so that the same format code serves a
 * plain walk (pt_walk_mem) and the nested walk (lib/xlate), where the
 * engine translates every stage-1 descriptor address through stage 2 before
 * it reads it. A step decodes one descriptor with every architectural check
 * (valid, table/leaf, reserved bits, block levels, access flag, permissions,
 * output size) and says what comes next.
 *
 * Mapping: struct pt_table owns a tree of tables in a pt_mem. pt_map picks
 * the largest leaves that alignment allows and either maps the whole range
 * or leaves the tree as it was (-EEXIST, -ENOMEM, ...). pt_unmap splits a
 * block that the range cuts and frees every table the unmap leaves empty, so
 * a non-root table is never empty. Callers serialise map/unmap on one
 * table; walkers may run concurrently: every descriptor store is one aligned
 * 64-bit atomic store with release order, and a new table is fully written
 * before the descriptor that links it is stored.
 *
 * Reclamation: a table that unmap frees may still be under a walk that
 * found it before it was unlinked, so the ports reuse it only after a grace
 * period (util/epoch.h). A walk is a read-side section: pt_walk_mem,
 * pt_table_walk and pt_iova_to_phys take one, lib/xlate's walk does, and
 * any other code that reads a live tree brackets its reads with
 * epoch_enter() / epoch_exit(). Something that keeps table addresses
 * beyond a walk (a walk cache) is a path the tree no longer controls: its
 * owner brackets pt_unmap and the invalidation that drops those addresses
 * with epoch_hold() / epoch_release(), so the grace period of the tables
 * freed in between starts only once they are unreachable both ways.
 *
 * Counters: a memory port may keep a count of the non-zero entries of each
 * table it hands out (struct pt_count_map): unmap then knows in O(1)
 * whether it emptied a table, and frees a wholly unmapped subtree without
 * reading its last-level tables.
 */
#ifndef UIOMMU_PT_H
#define UIOMMU_PT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PT_MAX_LEVELS 6

enum pt_format {
	PT_VMSA_S1 = 0, /* ARM VMSAv8-64 stage 1 (SMMUv3 CD, TTB0) */
	PT_VMSA_S2,	/* ARM VMSAv8-64 stage 2 (SMMUv3 STE S2TTB) */
	PT_X86,		/* x86-64 4/5-level paging, the VT-d first stage */
	PT_VTD_SS,	/* VT-d second stage */
	PT_TCE,		/* sPAPR / PowerNV TCE table (big-endian entries) */
	PT_NR_FORMATS
};

/* Permissions of a leaf, and what a transaction asks for (same bits). */
#define PT_PROT_R 0x1u
#define PT_PROT_W 0x2u
#define PT_PROT_X 0x4u
/* Leaf: unprivileged (EL0 / user) access allowed. Access: the request is unprivileged. */
#define PT_PROT_U 0x8u
#define PT_PROT_RW (PT_PROT_R | PT_PROT_W)

/* pt_cfg.flags */
#define PT_CFG_HW_AD	   (1u << 0) /* walker sets accessed / dirty state (HTTU, x86 A/D, SSADE) */
#define PT_CFG_AFFD	   (1u << 1) /* VMSA: AF = 0 does not fault (CD.AFFD / STE.S2AFFD) */
#define PT_CFG_NO_1G	   (1u << 2) /* x86 / VT-d: no 1 GiB leaves (FS1GP or SSLPS[1] clear) */
#define PT_CFG_NO_2M	   (1u << 3) /* VT-d SS: no 2 MiB leaves (SSLPS[0] clear) */
#define PT_CFG_NO_BLOCKS   (1u << 4) /* any format: map with last-level leaves only */
#define PT_CFG_NOEXEC_CHK  (1u << 5) /* reserved */
/* VMSA with PT_CFG_HW_AD: the access flag only; DBM is ignored (SMMUv3 HA = 1, HD = 0). */
#define PT_CFG_HW_NO_DIRTY (1u << 6)
/*
 * VMSA maps: writable leaves are stored writable-clean (DBM set, write
 * permission clear: AP[2] on stage 1, S2AP[1] clear on stage 2), so that a
 * walker with hardware dirty management makes them writable-dirty on the
 * first write (Linux's IO_PGTABLE_QUIRK_ARM_HD). Walks see such a leaf as
 * read-only unless the walker manages dirty state.
 */
#define PT_CFG_DBM	   (1u << 7)

struct pt_fmt;

struct pt_cfg {
	/* --- inputs --- */
	enum pt_format format;
	unsigned int granule_shift; /* VMSA 12/14/16; TCE IOMMU page shift; x86, VT-d: 12 (0 = 12) */
	unsigned int ias;	    /* input bits: VMSA 64-TxSZ, x86 48/57, VT-d SS 39/48/57, TCE log2(window) */
	unsigned int oas;	    /* output bits: VMSA IPS/PS (32..48), x86 / VT-d <= 52, TCE <= 64 */
	int sl0;		    /* VMSA stage 2: SL0 encoding; -1 = the deepest legal start level */
	unsigned int levels;	    /* TCE: 1..5 levels; others derive it (0) */
	uint64_t iova_base;	    /* TCE: bus address of the window start; 0 elsewhere */
	unsigned int flags;	    /* PT_CFG_* */

	/* --- derived by pt_cfg_init() --- */
	const struct pt_fmt *fmt;
	unsigned int nlevels;
	int start_level; /* architectural level of depth 0 */
	int level_step;	 /* +1 or -1 */
	unsigned int concat; /* concatenated root tables (VMSA stage 2), else 1 */
	uint8_t shift[PT_MAX_LEVELS];
	uint8_t bits[PT_MAX_LEVELS];
	uint16_t leaf_ok;
	uint8_t fast; /* PT_FAST_*: a shape lib/xlate's short walks decode with constants */
};

/* struct pt_cfg .fast: VMSA with a 4K granule, two levels or more, no window, CPU order. */
#define PT_FAST_VMSA4K_S1 (1u << 0)
#define PT_FAST_VMSA4K_S2 (1u << 1)

/* What a leaf maps, as seen by a walk. */
struct pt_leaf {
	uint64_t oa;	    /* output address of the input address (leaf base | offset) */
	uint64_t size;	    /* bytes covered by the leaf (page or block) */
	unsigned int prot;  /* PT_PROT_* after hierarchical limits (APTable, stacked R/W) */
	int level;	    /* architectural level of the leaf */
	uint64_t desc;	    /* the leaf descriptor (CPU byte order) */
	uint64_t desc_addr; /* where it was read */
};

enum pt_fault_reason {
	PT_OK = 0,
	PT_FAULT_TRANSLATION, /* invalid descriptor, input out of range, leaf at a level that forbids it */
	PT_FAULT_ACCESS,      /* access flag clear (VMSA) */
	PT_FAULT_PERMISSION,  /* the access is not allowed by the leaf (and table) permissions */
	PT_FAULT_ADDR_SIZE,   /* a table or output address beyond the output size */
	PT_FAULT_RESERVED,    /* reserved bits set (x86, VT-d, TCE) */
	PT_FAULT_EXT_ABORT,   /* a descriptor read failed: address outside memory (walk abort) */
	PT_NR_FAULTS
};

struct pt_fault {
	enum pt_fault_reason reason;
	int level;	    /* architectural level at which the walk stopped */
	uint64_t desc_addr; /* descriptor address involved (0 when none was read) */
	uint64_t desc;	    /* its value, when one was read */
};

const char *pt_fault_name(enum pt_fault_reason r);

/* ------------------------------------------------------------------------ */
/* Memory ports                                                             */

#define PT_MEM_MAX_REGIONS 8

struct pt_mem_region {
	uint64_t base;	/* physical address of the first byte */
	uint64_t size;	/* bytes; base + size - 1 must not wrap */
	uint8_t *host;	/* where the bytes live in this process */
};

/*
 * Occupancy of one table: how many of its entries are non-zero, and how
 * many of those link a table. Kept by the map / unmap engine (the writer,
 * which callers serialise), never read by walkers.
 */
struct pt_count {
	uint16_t valid;
	uint16_t tables;
};

/*
 * Where a memory port keeps the struct pt_count of each table it hands out
 * (optional). A table of min_size..max_size bytes whose host pointer is p
 * has its counter at
 *
 *	(struct pt_count *)(base | (p & ~mask)) + (((p - bias) & mask) >> shift)
 *
 * which says both "an array at the start of a naturally aligned chunk"
 * (base 0, bias 0, mask = chunk size - 1: the host port) and "an array
 * parallel to a buffer" (base = the array, bias = the buffer, mask all
 * ones: the arena). max_size = 0: the port keeps no counters. No two
 * tables of min_size..max_size bytes may share a counter, and max_size / 8
 * entries must fit a uint16_t.
 */
struct pt_count_map {
	uintptr_t base, bias, mask;
	unsigned int shift;
	uint32_t min_size, max_size;
};

static inline struct pt_count *pt_count_of(const struct pt_count_map *m, const void *ptr)
{
	uintptr_t p = (uintptr_t)ptr;

	return (struct pt_count *)(m->base | (p & ~m->mask)) +
	       (((p - m->bias) & m->mask) >> m->shift);
}

/*
 * alloc_table flag: the caller writes every entry of the new table before
 * it reads one or links the table, so its entries need not be zeroed (the
 * counter still must be). A port may ignore it.
 */
#define PT_ALLOC_OVERWRITE (1u << 0)

struct pt_mem {
	unsigned int nr_regions;
	struct pt_mem_region region[PT_MEM_MAX_REGIONS];
	/*
	 * Table pages for pt_map: zeroed, aligned to their size (at least 64
	 * bytes), with *ptr the host pointer of *pa in the regions above; a
	 * table with a counter (below) comes with it zeroed too. @flags:
	 * PT_ALLOC_OVERWRITE (the port may skip zeroing the entries). Return 0
	 * and fill *pa / *ptr, or -ENOMEM.
	 */
	int (*alloc_table)(struct pt_mem *mem, size_t size, unsigned int flags, uint64_t *pa,
			   void **ptr);
	/*
	 * A table that left the tree. Without a counter it is all zeroes.
	 * With one, the counter is exact (valid = its non-zero entries) and
	 * the entries are left as they were: unmap does not zero a subtree it
	 * frees, so the port zeroes the table before handing it out again,
	 * and only when its counter says it has to. Walks that found the
	 * table before it was unlinked may still be reading it: the port
	 * must leave its bytes alone (no zeroing, no free-list link, no reuse)
	 * until their grace period is over (util/epoch.h: epoch_retire, or
	 * epoch_alone when nobody else walks). The host port and arenas do.
	 */
	void (*free_table)(struct pt_mem *mem, uint64_t pa, void *ptr, size_t size);
	struct pt_count_map count;
	void *priv;
};

/* The identity port: physical address = host virtual address, tables from ualloc. */
extern struct pt_mem pt_mem_host;

/*
 * Host pointer for [pa, pa + len) if it lies inside one region, else NULL.
 * The first region is checked inline; it is the only one in the hot cases.
 */
void *pt_mem_ptr_slow(const struct pt_mem *mem, uint64_t pa, uint64_t len);

/*
 * pt_mem_ptr()'s inline test: is [pa, pa + len) inside the first region?
 * *off: pa's offset there. For callers that go on differently from there
 * (no test of a pointer that cannot be NULL).
 */
static inline __attribute__((always_inline)) bool pt_mem_first(const struct pt_mem *mem, uint64_t pa,
							    uint64_t len, uint64_t *off)
{
	const struct pt_mem_region *r = &mem->region[0];

	*off = pa - r->base;
	return mem->nr_regions && *off < r->size && len <= r->size - *off;
}

static inline __attribute__((always_inline)) void *pt_mem_ptr(const struct pt_mem *mem, uint64_t pa,
							   uint64_t len)
{
	uint64_t off;

	if (pt_mem_first(mem, pa, len, &off))
		return (void *)((uintptr_t)mem->region[0].host + (uintptr_t)off);
	return pt_mem_ptr_slow(mem, pa, len);
}

/*
 * An arena: @size bytes of zeroed host memory presented at physical address
 * @base, with a first-fit page allocator for tables (4 KiB units, naturally
 * aligned) and a table counter per unit. Used for guest memory, the CLI's
 * deterministic "host" memory and tests. pt_arena_reserve() takes a range
 * out of the table allocator (guest RAM that holds data rather than tables).
 * A freed table's units stay taken until its grace period is over; an
 * allocation or reservation that finds no room waits for one (outside a
 * read-side section) before it fails. An arena is not thread-safe: its
 * callers serialise its use (as they serialise map and unmap).
 */
struct pt_arena_side;

struct pt_arena {
	struct pt_mem mem;
	uint8_t *buf;
	uint64_t base, size;
	uint64_t *used;	  /* bitmap of 4 KiB units */
	struct pt_count *counts; /* per 4 KiB unit: the counter of the table starting there */
	uint64_t nr_units;
	uint64_t hint;	  /* first unit worth searching */
	uint64_t tables_live; /* tables handed out and not freed (freed: in limbo or free) */
	bool own_buf;	  /* buf was mapped by pt_arena_init (else the caller's) */
	/*
	 * Freed tables waiting for their grace period (util/epoch.h): a list
	 * through one entry per 4 KiB unit in @side (mapped at the first
	 * table that has to wait), unit + 1 of the first and last, and how
	 * many; their units stay marked used until then.
	 */
	struct pt_arena_side *side;
	uint64_t limbo_head, limbo_tail, limbo_n, limbo_poll_at;
	uint64_t poison_lo, poison_hi; /* ASan: units poisoned since init, [lo, hi) */
};

int pt_arena_init(struct pt_arena *a, uint64_t base, uint64_t size);
/* The same over @size bytes of the caller's memory at @buf (zeroed; destroy leaves it mapped). */
int pt_arena_init_at(struct pt_arena *a, uint64_t base, uint64_t size, void *buf);
void pt_arena_destroy(struct pt_arena *a);
int pt_arena_reserve(struct pt_arena *a, uint64_t pa, uint64_t size);
/* Allocate @size bytes aligned to @align from the arena (data, not tables). */
int pt_arena_alloc(struct pt_arena *a, uint64_t size, uint64_t align, uint64_t *pa);

/* Read a descriptor: 64-bit aligned load, acquire order, format byte order. */
int pt_mem_read_desc(const struct pt_cfg *cfg, const struct pt_mem *mem, uint64_t pa,
		     uint64_t *val);
/* Compare-and-swap a descriptor (A/D updates). 0, -EAGAIN if it changed, -EFAULT. */
int pt_mem_cas_desc(const struct pt_cfg *cfg, const struct pt_mem *mem, uint64_t pa,
		    uint64_t old, uint64_t val);

/* ------------------------------------------------------------------------ */
/* Configuration                                                            */

/*
 * Validate the inputs and derive the geometry. -EINVAL for an invalid
 * combination (granule, TxSZ out of range, SL0 illegal for the granule or
 * needing more than 16 concatenated tables, levels out of range ...).
 */
int pt_cfg_init(struct pt_cfg *cfg);

static inline int pt_level(const struct pt_cfg *cfg, unsigned int depth)
{
	return cfg->start_level + (int)depth * cfg->level_step;
}

static inline unsigned int pt_index(const struct pt_cfg *cfg, unsigned int depth, uint64_t iova)
{
	return (unsigned int)(((iova - cfg->iova_base) >> cfg->shift[depth]) &
			      ((1ULL << cfg->bits[depth]) - 1));
}

/* Bytes covered by one entry at @depth. */
static inline uint64_t pt_entry_size(const struct pt_cfg *cfg, unsigned int depth)
{
	return 1ULL << cfg->shift[depth];
}

/* Bytes of a table at @depth (the root includes concatenated tables). */
static inline size_t pt_table_size(const struct pt_cfg *cfg, unsigned int depth)
{
	size_t sz = (size_t)8 << cfg->bits[depth];

	return sz < 64 ? 64 : sz;
}

/* Smallest page the format maps (the last level's entry size). */
static inline uint64_t pt_page_size(const struct pt_cfg *cfg)
{
	return 1ULL << cfg->shift[cfg->nlevels - 1];
}

/* ------------------------------------------------------------------------ */
/* Walking                                                                  */

struct pt_walk {
	const struct pt_cfg *cfg;
	uint64_t iova;
	unsigned int access;  /* PT_PROT_* requested */
	unsigned int depth;   /* depth of the descriptor at desc_addr */
	uint64_t desc_addr;   /* next descriptor to read (PA, or IPA for a nested stage 1) */
	unsigned int prot;    /* limit from table descriptors walked so far */
	/* Set by a step that wants the descriptor it decoded updated (A/D). */
	bool wb_valid;
	uint64_t wb_addr, wb_old, wb_new;
};

enum pt_step {
	PT_STEP_TABLE = 0, /* desc_addr and depth now point at the next level */
	PT_STEP_LEAF,	   /* *leaf is filled */
	PT_STEP_FAULT,	   /* *fault is filled */
};

/* Helpers for format walk decoders. */

/* Fresh walk state for @iova: depth 0, nothing restricted yet. */
static inline void pt_walk_init(struct pt_walk *w, const struct pt_cfg *cfg, uint64_t iova,
				unsigned int access)
{
	*w = (struct pt_walk){ .cfg = cfg, .iova = iova, .access = access, .depth = 0,
			       .prot = PT_PROT_R | PT_PROT_W | PT_PROT_X | PT_PROT_U };
}

/* Fault at the descriptor just decoded (at w->desc_addr, level of w->depth). */
static inline enum pt_step pt_walk_fault(const struct pt_walk *w, struct pt_fault *f,
					 enum pt_fault_reason reason, uint64_t desc)
{
	f->reason = reason;
	f->level = pt_level(w->cfg, w->depth);
	f->desc_addr = w->desc_addr;
	f->desc = desc;
	return PT_STEP_FAULT;
}

/* Ask the caller to compare-and-swap the descriptor just decoded from @old to @val. */
static inline void pt_walk_request_wb(struct pt_walk *w, uint64_t old, uint64_t val)
{
	if (val == old)
		return;
	w->wb_valid = true;
	w->wb_addr = w->desc_addr;
	w->wb_old = old;
	w->wb_new = val;
}

/*
 * Start a walk of the tables at @root for @iova. Returns PT_STEP_TABLE with
 * w->desc_addr at the root descriptor, or PT_STEP_FAULT when the input is
 * out of range (translation fault) or the root beyond the output size.
 */
enum pt_step pt_walk_begin(const struct pt_cfg *cfg, uint64_t root, uint64_t iova,
			   unsigned int access, struct pt_walk *w, struct pt_fault *fault);
/* Decode @desc, read from w->desc_addr. */
enum pt_step pt_walk_step(struct pt_walk *w, uint64_t desc, struct pt_leaf *leaf,
			  struct pt_fault *fault);

/* Called for each descriptor read by pt_walk_mem (for tracing and counting). */
typedef void (*pt_read_fn)(void *arg, int level, uint64_t addr, uint64_t value);

/*
 * A whole single-stage walk over tables reached through @mem. Returns
 * PT_OK with *leaf filled, or the fault reason with *fault filled. A read
 * outside @mem gives PT_FAULT_EXT_ABORT; the walk never reads more than
 * nlevels descriptors (plus retries of A/D updates that raced).
 */
enum pt_fault_reason pt_walk_mem(const struct pt_cfg *cfg, const struct pt_mem *mem,
				 uint64_t root, uint64_t iova, unsigned int access,
				 struct pt_leaf *leaf, struct pt_fault *fault, pt_read_fn fn,
				 void *arg);

/* Human-readable decode of one descriptor at @level into @buf. */
void pt_desc_decode(const struct pt_cfg *cfg, int level, uint64_t desc, char *buf, size_t len);

/* ------------------------------------------------------------------------ */
/* Owned tables: map / unmap                                                */

struct pt_table {
	struct pt_cfg cfg;
	struct pt_mem *mem;
	uint64_t root;	   /* physical address of the root table */
	void *root_ptr;
	uint64_t nr_tables;   /* live table allocations, root included */
	uint64_t table_bytes; /* their bytes */
	/*
	 * Set by pt_table_init: counted when the port has a counter for every
	 * non-root table size of this format (the root never has one: unmap
	 * never frees it); direct when the port is one region, so a table's
	 * host pointer is its address + host_delta.
	 */
	bool counted, direct;
	uintptr_t host_delta;
	struct pt_count_map count;
	/*
	 * Also set by pt_table_init, for the one-leaf paths of map and unmap:
	 * the last input offset (iova - iova_base) and the last output
	 * address the format takes, and depth_of[s], the depth whose entries
	 * are 2^s bytes (0xff where none is); idx_mask[d] is the index mask
	 * of depth d (pt_index()).
	 */
	uint64_t in_last, out_last;
	uint32_t idx_mask[PT_MAX_LEVELS];
	uint8_t depth_of[64];
};

int pt_table_init(struct pt_table *t, const struct pt_cfg *cfg, struct pt_mem *mem);
void pt_table_destroy(struct pt_table *t);

/*
 * Consistency check for tests: walk every table and verify that no non-root
 * table is empty, that nr_tables / table_bytes match the tables reached,
 * that each table's host pointer is what the port says, and, when the
 * table is counted, that every counter equals its table's contents.
 * Returns 0, or -EUCLEAN after printing the first problem to @err (if
 * not NULL).
 */
int pt_table_check(const struct pt_table *t, FILE *err);

/*
 * Map [iova, iova + size) to [pa, pa + size) with @prot (PT_PROT_*, R or W
 * required). All three must be aligned to the page size. Returns 0, or
 * -EINVAL (alignment, size 0, no R/W), -EOVERFLOW (a range wraps),
 * -ERANGE (beyond the input or output size), -EEXIST (something already
 * mapped in the range), -ENOMEM; on error the tables are as they were.
 */
int pt_map(struct pt_table *t, uint64_t iova, uint64_t pa, uint64_t size, unsigned int prot);

/*
 * Unmap whatever is mapped in [iova, iova + size). Blocks that the range
 * cuts are split first; tables left empty are freed. *unmapped (optional)
 * gets the bytes unmapped. Returns 0, -EINVAL, -EOVERFLOW, -ERANGE, or
 * -ENOMEM when a block to split could not get a table (then nothing is
 * unmapped and every translation is as before).
 */
int pt_unmap(struct pt_table *t, uint64_t iova, uint64_t size, uint64_t *unmapped);

/* Output address for @iova, or -ENOENT when nothing maps it. */
int pt_iova_to_phys(const struct pt_table *t, uint64_t iova, uint64_t *pa);

/* Walk the table with full architectural checks (pt_walk_mem on t->mem). */
enum pt_fault_reason pt_table_walk(const struct pt_table *t, uint64_t iova, unsigned int access,
				   struct pt_leaf *leaf, struct pt_fault *fault);

/*
 * Call @fn for every leaf that intersects [start, last], in address order.
 * @fn returns 0 to go on; any other value stops the iteration and is
 * returned.
 */
typedef int (*pt_leaf_fn)(void *arg, uint64_t iova, uint64_t pa, uint64_t size,
			  unsigned int prot, int level);
int pt_for_each_leaf(const struct pt_table *t, uint64_t start, uint64_t last, pt_leaf_fn fn,
		     void *arg);

/* Print every leaf (iova range -> pa, size, prot, level) and table counts. */
void pt_dump(const struct pt_table *t, FILE *f);

/* ------------------------------------------------------------------------ */
/* Format back ends (one per format file; reached through cfg->fmt)         */

struct pt_fmt {
	const char *name;
	int (*cfg_init)(struct pt_cfg *cfg);
	enum pt_step (*walk_begin)(const struct pt_cfg *cfg, uint64_t root, uint64_t iova,
				   unsigned int access, struct pt_walk *w, struct pt_fault *fault);
	enum pt_step (*walk_step)(struct pt_walk *w, uint64_t desc, struct pt_leaf *leaf,
				  struct pt_fault *fault);
	void (*decode)(const struct pt_cfg *cfg, int level, uint64_t desc, char *buf, size_t len);
	bool big_endian;
	int (*map)(struct pt_table *t, uint64_t iova, uint64_t pa, uint64_t size,
		   unsigned int prot);
	int (*unmap)(struct pt_table *t, uint64_t iova, uint64_t size, uint64_t *unmapped);
	int (*iova_to_phys)(const struct pt_table *t, uint64_t iova, uint64_t *pa);
	int (*for_each_leaf)(const struct pt_table *t, uint64_t start, uint64_t last,
			     pt_leaf_fn fn, void *arg);
	void (*free_all)(struct pt_table *t);
	int (*check)(const struct pt_table *t, FILE *err);
};

extern const struct pt_fmt pt_fmt_vmsa_s1, pt_fmt_vmsa_s2, pt_fmt_x86, pt_fmt_vtd_ss,
	pt_fmt_tce;

/*
 * For a cfg_init: the geometry of Intel-style tables (x86-64 paging, VT-d
 * second stage), 4 KiB tables of 512 entries walked from level @nlevels
 * down to level 1, leaves at level 1, at level 2 unless PT_CFG_NO_2M and at
 * level 3 unless PT_CFG_NO_1G. -EINVAL when cfg->levels asks for another
 * depth.
 */
int pt_cfg_geometry_4k_down(struct pt_cfg *c, unsigned int nlevels);

const char *pt_format_name(enum pt_format f);
/* Parse "vmsa-s1", "vmsa-s2", "x86", "vtd-ss", "tce"; -1 if unknown. */
int pt_format_parse(const char *name);

#endif
