/* SPDX-License-Identifier: MIT */
/*
 * vtd_env.h - a VT-d instance over a host arena for the unit tests: the
 * memory set-up of xlate_env.h (second-stage tables in host memory mapping
 * guest RAM, first-stage tables in guest RAM at its GPA when nested), plus
 * a root table, one context table, a PASID directory, one PASID table and
 * an invalidation queue in host memory, programmed through the registers
 * as a driver would. Requests come from SID 0x0108 (bus 1, devfn 8).
 */
#ifndef UIOMMU_TESTS_VTD_ENV_H
#define UIOMMU_TESTS_VTD_ENV_H

#include "hw/vtd/vtd.h"
#include "xlate_env.h"

#define VSID  0x0108
#define DID   5
#define PASID 0x47 /* directory entry 1, table index 7 */

/* Context entry. */
#define CE0_P	   (1ULL << 0)
#define CE0_FPD	   (1ULL << 1)
#define CE0_PASIDE (1ULL << 3)
#define CE0_PDTS(n) ((uint64_t)(n) << 9)
/* PASID entry. */
#define PE0_P	   (1ULL << 0)
#define PE0_FPD	   (1ULL << 1)
#define PE0_AW(a)  ((uint64_t)(a) << 2)
#define PE0_PGTT(t) ((uint64_t)(t) << 6)
#define PE0_SSADE  (1ULL << 9)
#define PE2_SRE	   (1ULL << 0)
#define PE2_FSPM(m) ((uint64_t)(m) << 2)
#define PE2_WPE	   (1ULL << 4)
#define PE2_EAFE   (1ULL << 7)

struct vtd_env {
	struct env e;
	struct vtd *v;
	uint64_t root, ctx, pdir, ptbl, iq, status; /* host physical addresses */
	unsigned int irqs[VTD_NR_IRQS];
};

static inline void *vt_hp(struct vtd_env *t, uint64_t pa)
{
	return t->e.host.buf + (pa - t->e.host.base);
}

static inline uint64_t vt_rd(struct vtd_env *t, uint64_t off, unsigned int size)
{
	uint64_t v;

	assert_int_equal(vtd_mmio_read(t->v, off, size, &v), 0);
	return v;
}

static inline void vt_wr(struct vtd_env *t, uint64_t off, unsigned int size, uint64_t val)
{
	assert_int_equal(vtd_mmio_write(t->v, off, size, val), 0);
}

static inline void vt_irq(void *opaque, enum vtd_irq line)
{
	((struct vtd_env *)opaque)->irqs[line]++;
}

static inline uint64_t vt_page(struct vtd_env *t)
{
	uint64_t pa;

	assert_int_equal(pt_arena_alloc(&t->e.host, 4096, 4096, &pa), 0);
	memset(vt_hp(t, pa), 0, 4096);
	return pa;
}

/* Bring the unit up: root table, queue (128-bit descriptors, 256 of them), TE. */
static inline void vt_init_p(struct vtd_env *t, const struct pt_cfg *s1c, const struct pt_cfg *s2c,
			     const struct vtd_params *pp)
{
	struct vtd_params p;
	uint64_t *re;

	memset(t, 0, sizeof(*t));
	env_init(&t->e, s1c, s2c);
	if (pp)
		p = *pp;
	else
		vtd_params_default(&p);
	p.irq = vt_irq;
	p.irq_opaque = t;
	assert_int_equal(vtd_new(&p, &t->e.host.mem, &t->v), 0);
	t->root = vt_page(t);
	t->ctx = vt_page(t);
	t->pdir = vt_page(t);
	t->ptbl = vt_page(t);
	t->iq = vt_page(t);
	t->status = vt_page(t);
	re = vt_hp(t, t->root + (VSID >> 8) * 16);
	re[(VSID & 0xff) >= 128] = t->ctx | 1;
	vt_wr(t, VTD_RTADDR_REG, 8, t->root | VTD_RTADDR_SMT);
	vt_wr(t, VTD_GCMD_REG, 4, VTD_GCMD_SRTP);
	vt_wr(t, VTD_IQA_REG, 8, t->iq);
	vt_wr(t, VTD_GCMD_REG, 4, VTD_GCMD_QIE);
	vt_wr(t, VTD_GCMD_REG, 4, VTD_GCMD_QIE | VTD_GCMD_TE);
}

static inline void vt_init(struct vtd_env *t, const struct pt_cfg *s1c, const struct pt_cfg *s2c)
{
	vt_init_p(t, s1c, s2c, NULL);
}

static inline void vt_destroy(struct vtd_env *t)
{
	vtd_free(t->v);
	env_destroy(&t->e);
}

static inline uint64_t *vt_ce(struct vtd_env *t, uint16_t sid)
{
	return vt_hp(t, t->ctx + (sid & 0x7f) * 32);
}

/* Context entry of VSID: P, PASIDE, PDTS 0 (64 directory entries), the directory, RID_PASID. */
static inline void vt_set_ctx(struct vtd_env *t, uint64_t extra0, uint32_t rid_pasid)
{
	uint64_t *ce = vt_ce(t, VSID);

	ce[0] = CE0_P | CE0_PASIDE | t->pdir | extra0;
	ce[1] = rid_pasid;
}

/* The PASID entry of @pasid (its directory entry pointing at the one PASID table). */
static inline uint64_t *vt_pe(struct vtd_env *t, uint32_t pasid)
{
	uint64_t *pde = vt_hp(t, t->pdir + (pasid >> 6) * 8);

	*pde = t->ptbl | 1;
	return vt_hp(t, t->ptbl + (pasid & 63) * 64);
}

static inline void vt_set_pe(struct vtd_env *t, uint32_t pasid, uint64_t pe0, uint64_t pe1,
			     uint64_t pe2)
{
	uint64_t *pe = vt_pe(t, pasid);

	memset(pe, 0, 64);
	pe[0] = pe0;
	pe[1] = pe1;
	pe[2] = pe2;
}

/* Second stage only, 4-level, for PASID @pasid. */
static inline void vt_pe_ss(struct vtd_env *t, uint32_t pasid, uint16_t did)
{
	vt_set_pe(t, pasid, PE0_P | PE0_AW(2) | PE0_PGTT(2) | t->e.s2.root, did, 0);
}

static inline void vt_pe_fs(struct vtd_env *t, uint32_t pasid, uint16_t did, uint64_t extra2)
{
	vt_set_pe(t, pasid, PE0_P | PE0_PGTT(1), did, t->e.s1.root | extra2);
}

static inline void vt_pe_nested(struct vtd_env *t, uint32_t pasid, uint16_t did, uint64_t extra2)
{
	vt_set_pe(t, pasid, PE0_P | PE0_AW(2) | PE0_PGTT(3) | t->e.s2.root, did,
		  t->e.s1.root | extra2);
}

static inline int vt_xlate(struct vtd_env *t, uint32_t pasid, uint64_t addr, unsigned int access,
			   struct vtd_result *r)
{
	struct vtd_txn txn = { .sid = VSID, .pasid = pasid, .addr = addr, .access = access };

	return vtd_translate(t->v, &txn, r);
}

/* Expect a blocked request with @reason, recorded or not. */
static inline void vt_expect_fault(struct vtd_env *t, uint32_t pasid, uint64_t addr,
				   unsigned int access, uint8_t reason, bool recorded)
{
	struct vtd_result r;

	uint64_t fri0 = (vt_rd(t, VTD_FSTS_REG, 4) >> 8) & 0xff;

	assert_int_equal(vt_xlate(t, pasid, addr, access, &r), -EFAULT);
	assert_int_equal(r.reason, reason);
	assert_int_equal(r.recorded, recorded);
	if (recorded) {
		/* The record is in FRCD[FRI before]: its reason and source; then free it. */
		uint64_t hi = vt_rd(t, VTD_FRCD_REG + 16 * fri0 + 8, 8);

		assert_int_equal((hi >> 32) & 0xff, reason);
		assert_int_equal(hi & 0xffff, VSID);
		assert_true(hi >> 63);
		vt_wr(t, VTD_FRCD_REG + 16 * fri0 + 8, 8, 1ULL << 63);
	}
}

/* Submit @n 128-bit descriptors (pairs of qwords) at IQT and move IQT past them. */
static inline void vt_submit(struct vtd_env *t, const uint64_t *d, unsigned int n)
{
	uint64_t iqt = vt_rd(t, VTD_IQT_REG, 8);

	for (unsigned int i = 0; i < n; i++) {
		uint64_t *slot = vt_hp(t, t->iq + iqt);

		slot[0] = d[2 * i];
		slot[1] = d[2 * i + 1];
		iqt = (iqt + 16) % 4096;
	}
	vt_wr(t, VTD_IQT_REG, 8, iqt);
}

/* A wait descriptor writing @data to the status page. */
static inline void vt_wait_desc(struct vtd_env *t, uint64_t *d, uint32_t data)
{
	d[0] = VTD_INV_WAIT | 1ULL << 5 | (uint64_t)data << 32;
	d[1] = t->status;
}

static inline uint32_t vt_status(struct vtd_env *t)
{
	return *(volatile uint32_t *)vt_hp(t, t->status);
}

/* Submit one descriptor followed by a wait; true when the wait wrote its status. */
static inline bool vt_inv(struct vtd_env *t, uint64_t q0, uint64_t q1)
{
	static uint32_t seq = 1;
	uint64_t d[4] = { q0, q1 };

	vt_wait_desc(t, &d[2], ++seq);
	vt_submit(t, d, 2);
	return vt_status(t) == seq;
}

static inline struct pt_cfg vt_s1_cfg(void)
{
	return env_mk(PT_X86, 12, 48, 48, 0, 0);
}

static inline struct pt_cfg vt_s2_cfg(unsigned int flags)
{
	return env_mk(PT_VTD_SS, 12, 48, 48, 0, flags);
}

#endif
