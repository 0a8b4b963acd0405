/* SPDX-License-Identifier: MIT */
/*
 * smmuv3_env.h - an SMMUv3 instance over a host arena for the unit tests:
 * the memory set-up of xlate_env.h (stage-2 tables in host memory mapping
 * guest RAM, stage-1 tables in guest RAM at its IPA), plus a stream table,
 * a command queue and an event queue in host memory, programmed through
 * the registers as a driver would.
 */
#ifndef UIOMMU_TESTS_SMMUV3_ENV_H
#define UIOMMU_TESTS_SMMUV3_ENV_H

#include "hw/smmuv3/smmuv3.h"
#include "xlate_env.h"

#define ST_LOG2	  6 /* 64 STEs */
#define CMDQ_LOG2 3 /* 8 commands */
#define EVTQ_LOG2 3 /* 8 events */

/* STE / CD bits (qword, bit) used by the tests. */
#define STE0_V		(1ULL << 0)
#define STE0_CFG(c)	((uint64_t)(c) << 1) /* 0b100 bypass, 0b101 S1, 0b110 S2, 0b111 nested */
#define STE0_S1FMT(f)	((uint64_t)(f) << 4)
#define STE0_CDMAX(n)	((uint64_t)(n) << 59)
#define STE1_S1DSS(d)	((uint64_t)(d) << 0)
#define STE2_VMID(v)	((uint64_t)(v))
#define STE2_T0SZ(t)	((uint64_t)(t) << 32)
#define STE2_SL0(s)	((uint64_t)(s) << 38)
#define STE2_TG(g)	((uint64_t)(g) << 46)
#define STE2_PS(p)	((uint64_t)(p) << 48)
#define STE2_AA64	(1ULL << 51)
#define STE2_ENDI	(1ULL << 52)
#define STE2_AFFD	(1ULL << 53)
#define STE2_HA		(1ULL << 56)
#define STE2_S		(1ULL << 57)
#define STE2_R		(1ULL << 58)
#define CD0_T0SZ(t)	((uint64_t)(t))
#define CD0_TG0(g)	((uint64_t)(g) << 6)
#define CD0_EPD0	(1ULL << 14)
#define CD0_ENDI	(1ULL << 15)
#define CD0_T1SZ(t)	((uint64_t)(t) << 16)
#define CD0_TG1(g)	((uint64_t)(g) << 22) /* 1: 16K, 2: 4K, 3: 64K */
#define CD0_EPD1	(1ULL << 30)
#define CD0_V		(1ULL << 31)
#define CD0_IPS(p)	((uint64_t)(p) << 32)
#define CD0_AFFD	(1ULL << 35)
#define CD0_TBI0	(1ULL << 38)
#define CD0_TBI1	(1ULL << 39)
#define CD0_AA64	(1ULL << 41)
#define CD0_HD		(1ULL << 42)
#define CD0_S		(1ULL << 44)
#define CD0_R		(1ULL << 45)
#define CD0_A		(1ULL << 46)
#define CD0_ASID(a)	((uint64_t)(a) << 48)

struct smmu_env {
	struct env e;
	struct smmuv3 *s;
	uint64_t strtab, cmdq, evtq, free; /* host physical addresses */
	uint32_t evt_seen;		    /* events consumed by evt_next */
};

static inline void *sm_hp(struct smmu_env *t, uint64_t pa)
{
	return t->e.host.buf + (pa - t->e.host.base);
}

static inline uint64_t sm_alloc(struct smmu_env *t, uint64_t size)
{
	uint64_t pa;

	assert_int_equal(pt_arena_alloc(&t->e.host, size, 4096, &pa), 0);
	memset(sm_hp(t, pa), 0, size);
	return pa;
}

static inline void sm_w32(struct smmu_env *t, uint64_t off, uint32_t v)
{
	assert_int_equal(smmuv3_mmio_write(t->s, off, 4, v), 0);
}

static inline void sm_w64(struct smmu_env *t, uint64_t off, uint64_t v)
{
	assert_int_equal(smmuv3_mmio_write(t->s, off, 8, v), 0);
}

static inline uint32_t sm_r32(struct smmu_env *t, uint64_t off)
{
	uint64_t v;

	assert_int_equal(smmuv3_mmio_read(t->s, off, 4, &v), 0);
	return (uint32_t)v;
}

static inline void smmu_env_init_p(struct smmu_env *t, const struct pt_cfg *s1c,
				   const struct pt_cfg *s2c, const struct smmuv3_params *p)
{
	memset(t, 0, sizeof(*t));
	env_init(&t->e, s1c, s2c);
	assert_int_equal(smmuv3_new(p, &t->e.host.mem, &t->s), 0);
	t->strtab = sm_alloc(t, 64 << ST_LOG2);
	t->cmdq = sm_alloc(t, 4096);
	t->evtq = sm_alloc(t, 4096);
	t->free = sm_alloc(t, 0x10000); /* CDs and odd structures */
	sm_w64(t, SMMU_STRTAB_BASE, t->strtab);
	sm_w32(t, SMMU_STRTAB_BASE_CFG, ST_LOG2);
	sm_w64(t, SMMU_CMDQ_BASE, t->cmdq | CMDQ_LOG2);
	sm_w64(t, SMMU_EVENTQ_BASE, t->evtq | EVTQ_LOG2);
	sm_w32(t, SMMU_CR2, SMMU_CR2_RECINVSID);
	sm_w32(t, SMMU_CR0, SMMU_CR0_SMMUEN | SMMU_CR0_EVENTQEN | SMMU_CR0_CMDQEN);
}

static inline void smmu_env_init(struct smmu_env *t, const struct pt_cfg *s1c,
				 const struct pt_cfg *s2c)
{
	struct smmuv3_params p;

	smmuv3_params_default(&p);
	smmu_env_init_p(t, s1c, s2c, &p);
}

static inline void smmu_env_destroy(struct smmu_env *t)
{
	smmuv3_free(t->s);
	env_destroy(&t->e);
}

static inline uint64_t *ste_at(struct smmu_env *t, uint32_t sid)
{
	return sm_hp(t, t->strtab + (uint64_t)sid * 64);
}

static inline void ste_set(struct smmu_env *t, uint32_t sid, uint64_t q0, uint64_t q1,
			   uint64_t q2, uint64_t q3)
{
	uint64_t *p = ste_at(t, sid);

	memset(p, 0, 64);
	p[0] = q0;
	p[1] = q1;
	p[2] = q2;
	p[3] = q3;
}

static inline void cd_set(void *where, uint64_t q0, uint64_t q1)
{
	uint64_t *p = where;

	memset(p, 0, 64);
	p[0] = q0;
	p[1] = q1;
}

/* The usual valid CD: 48-bit VA through TTB0, 4K, TTB1 off (EPD1), IPS 48, R, A, AA64. */
static inline uint64_t cd0_std(uint16_t asid)
{
	return CD0_T0SZ(16) | CD0_TG0(0) | CD0_EPD1 | CD0_V | CD0_IPS(5) | CD0_AA64 | CD0_R |
	       CD0_A | CD0_ASID(asid);
}

/* Stage-2 fields of an STE for a pt_cfg of granule 4K with explicit SL0. */
static inline uint64_t ste2_std(uint16_t vmid, unsigned int ias, unsigned int sl0)
{
	return STE2_VMID(vmid) | STE2_T0SZ(64 - ias) | STE2_SL0(sl0) | STE2_TG(0) | STE2_PS(5) |
	       STE2_AA64 | STE2_R;
}

/* Queue one command and move PROD. */
static inline void cmd_issue(struct smmu_env *t, uint64_t q0, uint64_t q1)
{
	uint32_t prod = sm_r32(t, SMMU_CMDQ_PROD);
	uint64_t *p = sm_hp(t, t->cmdq + (uint64_t)(prod & ((1u << CMDQ_LOG2) - 1)) * 16);

	p[0] = q0;
	p[1] = q1;
	prod = (prod + 1) & ((2u << CMDQ_LOG2) - 1);
	sm_w32(t, SMMU_CMDQ_PROD, prod);
}

static inline uint32_t evt_count(struct smmu_env *t)
{
	struct smmuv3_stats st;

	smmuv3_get_stats(t->s, &st);
	return (uint32_t)st.events;
}

/* The next unread event record (host pointer), consuming it (EVENTQ_CONS). */
static inline const uint64_t *evt_next(struct smmu_env *t)
{
	uint32_t prod = sm_r32(t, SMMU_EVENTQ_PROD), cons = sm_r32(t, SMMU_EVENTQ_CONS);
	const uint64_t *p;

	assert_int_not_equal(prod & ((2u << EVTQ_LOG2) - 1), cons & ((2u << EVTQ_LOG2) - 1));
	p = sm_hp(t, t->evtq + (uint64_t)(cons & ((1u << EVTQ_LOG2) - 1)) * 32);
	sm_w32(t, SMMU_EVENTQ_CONS, (cons & SMMU_Q_OVFLG) | ((cons + 1) & ((2u << EVTQ_LOG2) - 1)));
	return p;
}

static inline bool evt_empty(struct smmu_env *t)
{
	uint32_t m = (2u << EVTQ_LOG2) - 1;

	return (sm_r32(t, SMMU_EVENTQ_PROD) & m) == (sm_r32(t, SMMU_EVENTQ_CONS) & m);
}

static inline int sm_xlate(struct smmu_env *t, uint32_t sid, uint32_t ssid, uint64_t addr,
			   unsigned int access, struct smmuv3_result *r)
{
	struct smmuv3_txn txn = { .sid = sid, .ssid = ssid, .addr = addr, .access = access };

	return smmuv3_translate(t->s, &txn, r);
}

#endif
