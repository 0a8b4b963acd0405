// SPDX-License-Identifier: MIT
/*
 * vtd_ctx.c - scalable-mode structures and translation: root entry,
 * context entry, PASID directory, PASID entry, the walk through lib/xlate
 * with the instance's caches, and the fault a blocked request records.
 *
 * The path of a request (VT-d spec §3.4, §9.4-9.6; reference hw.md §2).
 * Fault reasons are the scalable-mode codes (vtd.h, doc/vtd.md: Linux
 * 6.12's dma_remap_sm_fault_reasons):
 *  - GSTS.TES = 0: not translated (the address is the physical address).
 *  - The latched root pointer must have TTM = 01b (scalable): 00b is
 *    legacy mode, not modelled (0x31), 1xb reserved (0x30).
 *  - Root entry (16 bytes, by bus): LP / LCTP for devfn 0-127, UP / UCTP
 *    for 128-255. Read failure 0x38, not present 0x39, reserved bits
 *    ([11:1] of the half used, address bits at or above HAW) 0x3a.
 *  - Context entry (32 bytes, by devfn & 0x7f): read failure 0x40, P = 0
 *    0x41. Reserved (0x42): qword 0 bits [8:5] and pointer bits at or
 *    above HAW, DTE without ECAP.DT and PRE without ECAP.PRS, qword 1
 *    above bit 20, qwords 2-3. FPD here suppresses the qualified faults
 *    that follow. A translation request (ATS) needs DTE (0x44); a request
 *    with PASID on an entry with PASIDE = 0 is blocked (0x45).
 *  - PASID: the request's, or RID_PASID (qword 1 [19:0]) for a request
 *    without one. The directory has 2^(PDTS + 7) entries: a PASID whose
 *    index (PASID[19:6]) lies beyond it is 0x46.
 *  - PASID-directory entry (8 bytes): read failure 0x50, P = 0 0x51; its
 *    FPD suppresses what follows; reserved bits ([11:2], the pointer at or
 *    above HAW) 0x52.
 *  - PASID-table entry (64 bytes, PASID[5:0]): read failure 0x58, P = 0
 *    0x59; FPD. Reserved bits (0x5a): qword 0 bits 10-11, pointers at or
 *    above HAW, qword 2 bits 1, 5-6, 8-11, qwords 3-7. Invalid (0x5b):
 *    PGTT 0, 5-7, or a type ECAP does not offer (FSTS / SSTS / NEST / PT);
 *    for a second stage, AW not in CAP.SAGAW; for a first stage, FSPM 1xb
 *    or 01b without FS5LP; SRE without ECAP.SRS, EAFE without EAFS, SSADE
 *    without SLADS, WPE without SRE.
 *  - A supervisor request (with PASID, no PT_PROT_U) needs SRE; without
 *    it the request is blocked with 0x5d.
 *  - Walks (lib/xlate, tag {DID, PASID}; second-stage-only contexts use
 *    the tag {DID, VTD_SS_ASID}, which no P_IOTLB names):
 *     PGTT 001b first stage (x86 4/5-level per FSPM, A/D always, 1G
 *       leaves with CAP.FS1GP) over FSPTPTR as a physical address;
 *     PGTT 010b second stage (3/4/5 levels per AW, A/D with SSADE, large
 *       leaves per CAP.SSLPS) over SSPTPTR;
 *     PGTT 011b nested: FSPTPTR and every first-stage table address are
 *       GPAs translated by the second stage (lib/xlate class TT), and so
 *       is the first stage's output (class IN);
 *     PGTT 100b pass-through: the address (below 2^MGAW, else 0x83).
 *  - Walk faults: first stage: input at or above 2^(48 or 57) 0x80
 *    (non-canonical; DMA addresses are not sign-extended), not present
 *    0x71, reserved bits or an address beyond the output size 0x72, a
 *    read that fails at the first level 0x73 (FSPTPTR) and deeper 0x70,
 *    a write the R/W bits refuse 0x85, a user request on a supervisor page
 *    0x81. Second stage: on the request's own address (second stage only)
 *    or the first stage's output GPA (nested): input above the AGAW 0x83
 *    (nested: 0x74, the first-stage entry's address is beyond it), an
 *    entry without the access's R / W (not present included) 0x86 for a
 *    read and 0x85 for a write; on a first-stage table's GPA (nested):
 *    above the AGAW 0x74, refused 0x75 for the top-level table (FSPTPTR)
 *    and 0x76 for a deeper one; reserved bits 0x7a, read failure 0x78. An
 *    output in the interrupt window 0xFEE00000-0xFEEFFFFF (the first
 *    stage's output in nested mode, as QEMU checks it) is 0x87.
 *  - A translation request's walk fault (0x70 and above) is its "no
 *    translation" completion: not recorded; the device may then send a
 *    page request (vtd_prq.c).
 *  - Fault recording: reasons found before the context entry's FPD is
 *    known (0x30-0x3a, and 0x40-0x42 of the context entry itself) are
 *    always recorded; every later one is "qualified" and not recorded
 *    while an FPD seen on the way is set (stats.faults_suppressed counts
 *    them).
 *
 * Not modelled: legacy mode, translated requests (an endpoint uses its
 * ATC without asking the unit), execute requests' XD checks beyond
 * lib/pt's, WPE = 0 (supervisor writes always honour R/W), EAFE's extended
 * accessed bit, snoop and memory-type fields (PWSNP, PGSNP, CD, EMT, PAT
 * ...).
 *
 * Caching: a successful decode (context + PASID entry) is stored in the
 * configuration cache under (SID, PASID or VTD_CFGC_NO_PASID) until a
 * context-cache or PASID-cache invalidation; faults are never cached. A
 * decode during which one of those ran is done again (v->cfg_gen).
 *
 * Concurrency: runs without the instance lock except to snapshot GSTS and
 * the root pointer and to record a fault. A traced translation finds its
 * trace through a thread-local pointer.
 */
#include <errno.h>
#include <string.h>

#include "hw/vtd/vtd_priv.h"

static __thread struct vtd_trace *cur_trace;

static bool fetch_qw(struct vtd *v, uint64_t pa, uint64_t *qw, unsigned int n)
{
	struct vtd_trace *tr = cur_trace;

	if (tr) {
		if (tr->n < VTD_TRACE_MAX)
			tr->rd[tr->n] = (typeof(tr->rd[0])){pa, n * 8};
		tr->n++;
	}
	return vtd_read_qw(v, pa, qw, n);
}

#define HAW_RSVD VTD_MASK(63, VTD_HAW)

uint8_t vtd_ctx_fetch(struct vtd *v, uint64_t rta, uint16_t sid, uint64_t ce[4])
{
	unsigned int bus = sid >> 8, devfn = sid & 0xff;
	uint64_t re[2], ptr, half;

	if (VTD_BITS(rta, 11, 10) != 1)
		return VTD_BITS(rta, 11, 10) ? VTD_FR_RTADDR_INV : VTD_FR_TTM_INV;
	if (!fetch_qw(v, (rta & VTD_MASK(VTD_HAW - 1, 12)) + bus * 16, re, 2))
		return VTD_FR_ROOT_READ_ERR;
	half = re[devfn >= 128];
	if (!(half & 1))
		return VTD_FR_ROOT_NP;
	if ((half & VTD_MASK(11, 1)) || (half & HAW_RSVD))
		return VTD_FR_ROOT_RSVD;
	ptr = half & VTD_MASK(VTD_HAW - 1, 12);
	if (!fetch_qw(v, ptr + (devfn & 0x7f) * 32, ce, 4))
		return VTD_FR_CTX_READ_ERR;
	if (!(ce[0] & 1))
		return VTD_FR_CTX_NP;
	if ((ce[0] & (VTD_MASK(8, 5) | HAW_RSVD)) || (!v->p.ats && (ce[0] & VTD_CTX0_DTE)) ||
	    (!v->p.prs && (ce[0] & VTD_CTX0_PRE)) || (ce[1] & VTD_MASK(63, 21)) || ce[2] || ce[3])
		return VTD_FR_CTX_RSVD;
	return VTD_FR_NONE;
}

/* Decode the structures for @t. VTD_FR_NONE, or the reason with *qualified / d->fpd set. */
static uint8_t decode(struct vtd *v, uint64_t rta, const struct vtd_txn *t, struct vtd_dcfg *d,
		      bool *qualified)
{
	unsigned int pdts, aw, fspm;
	uint64_t ce[4], pde, pe[8], ptr;
	uint32_t pasid;
	uint8_t r;

	memset(d, 0, sizeof(*d));
	*qualified = false;
	r = vtd_ctx_fetch(v, rta, t->sid, ce);
	if (r)
		return r;
	d->fpd = ce[0] & 2;
	d->dte = ce[0] & VTD_CTX0_DTE;
	d->pre = ce[0] & VTD_CTX0_PRE;
	*qualified = true;
	if (t->pasid != VTD_NO_PASID && !(ce[0] & 8))
		return VTD_FR_CTX_PASIDE;
	pasid = t->pasid == VTD_NO_PASID ? (uint32_t)VTD_BITS(ce[1], 19, 0) : t->pasid;
	d->pasid = pasid;
	pdts = (unsigned int)VTD_BITS(ce[0], 11, 9);
	if ((pasid >> 6) >= (1u << (pdts + 7)))
		return VTD_FR_PASID_BEYOND_PDTS;
	ptr = ce[0] & VTD_MASK(VTD_HAW - 1, 12);
	if (!fetch_qw(v, ptr + (uint64_t)(pasid >> 6) * 8, &pde, 1))
		return VTD_FR_PDIR_READ_ERR;
	if (!(pde & 1))
		return VTD_FR_PDIR_NP;
	d->fpd |= pde & 2;
	if (pde & (VTD_MASK(11, 2) | HAW_RSVD))
		return VTD_FR_PDIR_RSVD;
	ptr = pde & VTD_MASK(VTD_HAW - 1, 12);
	if (!fetch_qw(v, ptr + (uint64_t)(pasid & 63) * 64, pe, 8))
		return VTD_FR_PTE_READ_ERR;
	if (!(pe[0] & 1))
		return VTD_FR_PTE_NP;
	d->fpd |= pe[0] & 2;

	d->pgtt = (uint8_t)VTD_BITS(pe[0], 8, 6);
	d->did = (uint16_t)pe[1];
	d->sre = pe[2] & 1;
	d->wpe = pe[2] & (1ULL << 4);
	d->eafe = pe[2] & (1ULL << 7);
	aw = (unsigned int)VTD_BITS(pe[0], 4, 2);
	fspm = (unsigned int)VTD_BITS(pe[2], 3, 2);
	switch (d->pgtt) {
	case VTD_PGTT_FS:
		if (!v->p.fsts)
			return VTD_FR_PTE_INV;
		break;
	case VTD_PGTT_SS:
		if (!v->p.ssts)
			return VTD_FR_PTE_INV;
		break;
	case VTD_PGTT_NESTED:
		if (!v->p.nest || !v->p.fsts || !v->p.ssts)
			return VTD_FR_PTE_INV;
		break;
	case VTD_PGTT_PT:
		if (!v->p.pt)
			return VTD_FR_PTE_INV;
		break;
	default:
		return VTD_FR_PTE_INV;
	}
	if ((pe[0] & (VTD_MASK(11, 10) | HAW_RSVD)) ||
	    (pe[2] & (1ULL << 1 | VTD_MASK(6, 5) | VTD_MASK(11, 8) | HAW_RSVD)) || pe[3] || pe[4] ||
	    pe[5] || pe[6] || pe[7])
		return VTD_FR_PTE_RSVD;
	if ((d->sre && !v->p.srs) || (d->eafe && !v->p.eafs) || (d->wpe && !d->sre))
		return VTD_FR_PTE_INV;
	if ((pe[0] & (1ULL << 9)) && !v->p.slads)
		return VTD_FR_PTE_INV;
	if (d->pgtt == VTD_PGTT_SS || d->pgtt == VTD_PGTT_NESTED) {
		if (aw < 1 || aw > 3 || !(v->p.sagaw & (1u << aw)))
			return VTD_FR_PTE_INV;
		d->ss_ias = (uint8_t)(30 + 9 * aw);
		d->ssptr = pe[0] & VTD_MASK(VTD_HAW - 1, 12);
		if (pe[0] & (1ULL << 9))
			d->ss_flags |= PT_CFG_HW_AD;
		if (!(v->p.sslps & 2))
			d->ss_flags |= PT_CFG_NO_1G;
		if (!(v->p.sslps & 1))
			d->ss_flags |= PT_CFG_NO_2M;
	}
	if (d->pgtt == VTD_PGTT_FS || d->pgtt == VTD_PGTT_NESTED) {
		if (fspm > 1 || (fspm == 1 && !v->p.fs5lp))
			return VTD_FR_PTE_INV;
		d->fs_ias = fspm ? 57 : 48;
		d->fsptr = pe[2] & VTD_MASK(VTD_HAW - 1, 12);
		d->fs_flags = PT_CFG_HW_AD | (v->p.fs1gp ? 0 : PT_CFG_NO_1G);
	}
	return VTD_FR_NONE;
}

static int stage_cfg(struct pt_cfg *c, enum pt_format f, unsigned int ias, unsigned int flags)
{
	*c = (struct pt_cfg){.format = f, .ias = ias, .oas = VTD_HAW, .flags = flags};
	return pt_cfg_init(c);
}

/* The reason of a walk fault (scalable-mode codes, vtd.h). */
static uint8_t walk_reason(const struct vtd_dcfg *d, const struct xlate_cfg *xc,
			   const struct vtd_txn *t, enum pt_fault_reason r,
			   const struct xlate_fault *f)
{
	if (f->stage == 2) {
		uint64_t in = f->ipa;
		/* Nested: a first-stage table fetch the second stage could not serve. */
		bool fetch = d->pgtt == VTD_PGTT_NESTED && f->cls != XLATE_CLASS_IN;

		switch (r) {
		case PT_FAULT_TRANSLATION:
			if (in >> d->ss_ias)
				return fetch || d->pgtt == VTD_PGTT_NESTED ? VTD_FR_NEST_FS_GAW
									   : VTD_FR_ADDR_GAW;
			/* an SS entry without R / W is not present: a permission fault */
			__attribute__((fallthrough));
		case PT_FAULT_PERMISSION:
		case PT_FAULT_ACCESS:
			if (fetch)
				return (in >> 12) == (d->fsptr >> 12) ? VTD_FR_NEST_FS_TOP_READ
								      : VTD_FR_NEST_FS_READ;
			return t->access & PT_PROT_W ? VTD_FR_SM_WRITE : VTD_FR_SM_READ;
		case PT_FAULT_EXT_ABORT:
			return VTD_FR_SS_READ_ERR;
		default:
			return VTD_FR_SS_RSVD;
		}
	}
	switch (r) {
	case PT_FAULT_TRANSLATION:
		return VTD_FR_FS_NP;
	case PT_FAULT_PERMISSION: {
		/* Which check refused: the same walk for a read tells U/S from R/W. */
		struct xlate_cfg plain = *xc;
		struct xlate_result res;

		plain.cache = NULL;
		if (!(t->access & PT_PROT_W))
			return VTD_FR_FS_PRIV;
		if (xlate(&plain, t->addr, t->access & ~(PT_PROT_W | PT_PROT_X), &res, NULL,
			  NULL) == PT_FAULT_PERMISSION)
			return VTD_FR_FS_PRIV;
		return VTD_FR_SM_WRITE;
	}
	case PT_FAULT_EXT_ABORT:
		return f->level == (d->fs_ias == 57 ? 5 : 4) ? VTD_FR_FSPTPTR_INV
							     : VTD_FR_FS_READ_ERR;
	default:
		return VTD_FR_FS_RSVD;
	}
}

static int block(struct vtd *v, const struct vtd_txn *t, uint8_t reason, bool qualified, bool fpd,
		 struct vtd_result *res)
{
	struct vtd_fault f = {
		.reason = reason,
		.sid = t->sid,
		.pp = t->pasid != VTD_NO_PASID,
		.pasid = t->pasid,
		.priv = t->pasid != VTD_NO_PASID && !(t->access & PT_PROT_U),
		.exe = t->access & PT_PROT_X,
		.read = !(t->access & PT_PROT_W),
		.addr = t->addr,
	};

	res->reason = reason;
	/* A translation request's walk fault is its "no translation" completion. */
	if (t->ats_req && reason >= VTD_FR_FS_READ_ERR)
		return -EFAULT;
	if (qualified && fpd) {
		pthread_mutex_lock(&v->lock);
		v->stats.faults_suppressed++;
		pthread_mutex_unlock(&v->lock);
		return -EFAULT;
	}
	res->recorded = vtd_record_fault(v, &f);
	return -EFAULT;
}

static int passthrough(const struct vtd_txn *t, struct vtd_result *res)
{
	res->pa = t->addr;
	res->size = 4096;
	res->prot = PT_PROT_R | PT_PROT_W | PT_PROT_X | PT_PROT_U;
	return 0;
}

int vtd_translate(struct vtd *v, const struct vtd_txn *t, struct vtd_result *res)
{
	uint32_t key = t->pasid == VTD_NO_PASID ? VTD_CFGC_NO_PASID : t->pasid;
	struct pt_cfg fsc, ssc;
	struct xlate_result xr;
	struct xlate_fault f;
	struct xlate_cfg xc;
	struct vtd_dcfg d;
	enum pt_fault_reason pr;
	uint32_t gsts;
	uint64_t rta, out;
	bool qualified;

	memset(res, 0, sizeof(*res));
	if (t->pasid != VTD_NO_PASID && (t->pasid >> (v->p.pss + 1)))
		return -EINVAL;
	pthread_mutex_lock(&v->lock);
	gsts = v->gsts;
	rta = v->rta;
	pthread_mutex_unlock(&v->lock);

	if (!(gsts & VTD_GSTS_TES))
		return passthrough(t, res);
	if (!v->cache || !xlate_cfgc_lookup(v->cache, t->sid, key, &d)) {
		uint64_t gen;
		uint8_t r;

		do {
			gen = __atomic_load_n(&v->cfg_gen, __ATOMIC_ACQUIRE);
			r = decode(v, rta, t, &d, &qualified);
		} while (__atomic_load_n(&v->cfg_gen, __ATOMIC_ACQUIRE) != gen);
		if (r)
			return block(v, t, r, qualified, d.fpd, res);
		if (v->cache)
			xlate_cfgc_insert(v->cache, t->sid, key, &d, sizeof(d));
	}
	if (t->ats_req && !d.dte)
		return block(v, t, VTD_FR_CTX_DTE, true, d.fpd, res);
	if (t->pasid != VTD_NO_PASID && !(t->access & PT_PROT_U) && !d.sre)
		return block(v, t, VTD_FR_PTE_SRE, true, d.fpd, res);
	if (d.pgtt == VTD_PGTT_PT) {
		if (t->addr >> v->p.mgaw)
			return block(v, t, VTD_FR_ADDR_GAW, true, d.fpd, res);
		return passthrough(t, res);
	}

	xc = (struct xlate_cfg){
		.mem = v->mem,
		.cache = v->cache,
		.tag = {.vmid = d.did, .asid = d.pgtt == VTD_PGTT_SS ? VTD_SS_ASID : d.pasid}};
	if (d.pgtt != VTD_PGTT_FS) {
		if (stage_cfg(&ssc, PT_VTD_SS, d.ss_ias, d.ss_flags))
			return block(v, t, VTD_FR_PTE_INV, true, d.fpd, res);
		xc.s2 = (struct xlate_stage){&ssc, d.ssptr};
	}
	if (d.pgtt != VTD_PGTT_SS) {
		if (stage_cfg(&fsc, PT_X86, d.fs_ias, d.fs_flags))
			return block(v, t, VTD_FR_PTE_INV, true, d.fpd, res);
		xc.s1 = (struct xlate_stage){&fsc, d.fsptr};
		if (t->addr >> d.fs_ias)
			return block(v, t, VTD_FR_FS_NON_CANONICAL, true, d.fpd, res);
	} else if (t->addr >> d.ss_ias) {
		return block(v, t, VTD_FR_ADDR_GAW, true, d.fpd, res);
	}
	memset(&f, 0, sizeof(f));
	pr = xlate(&xc, t->addr, t->access, &xr, &f, cur_trace ? &cur_trace->walk : NULL);
	if (pr != PT_OK)
		return block(v, t, walk_reason(&d, &xc, t, pr, &f), true, d.fpd, res);
	out = d.pgtt == VTD_PGTT_NESTED ? xr.ipa : xr.pa;
	if (out >= VTD_INTR_BASE && out <= VTD_INTR_LAST)
		return block(v, t, VTD_FR_SM_INTERRUPT_ADDR, true, d.fpd, res);
	res->pa = xr.pa;
	res->size = xr.size;
	res->prot = xr.prot;
	res->iotlb_hit = xr.iotlb_hit;
	return 0;
}

int vtd_translate_traced(struct vtd *v, const struct vtd_txn *t, struct vtd_result *r,
			 struct vtd_trace *tr)
{
	int ret;

	memset(tr, 0, sizeof(*tr));
	cur_trace = tr;
	ret = vtd_translate(v, t, r);
	cur_trace = NULL;
	return ret;
}
