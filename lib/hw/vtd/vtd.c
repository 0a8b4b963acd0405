// SPDX-License-Identifier: MIT
/*
 * vtd.c - the VT-d model's instance: register file, fault recording and
 * interrupts.
 *
 * What it owns. The programmer's view of one remapping unit in scalable
 * mode: VER (3.0), CAP and ECAP built from the parameters (SAGAW, MGAW,
 * second-stage large pages, FS1GP / FS5LP, PSI with MAMV 18, NFR fault
 * recording registers at FRO 0x22 (offset 0x220); coherent walks, queued
 * invalidation, pass-through, nesting, SRS / EAFS, PASID with PSS, SMTS,
 * SLADS, SSTS, FSTS; device TLBs (DT) and page requests (PRS with PDS)
 * when the parameters ask; no interrupt remapping), the global command
 * and status pair, the root table address, the fault status and fault
 * event registers, the fault recording registers, the invalidation queue
 * registers (vtd_qi.c consumes the queue), the register-based
 * invalidation pair at ECAP.IRO (IVA_REG 0x200, IOTLB_REG 0x208), the page
 * request queue registers (vtd_prq.c fills the queue) and the translation
 * caches (one struct xlate_cache) that vtd_ctx.c fills and vtd_qi.c
 * invalidates.
 *
 * Registers, with these choices:
 *  - GCMD is write-only (reads 0); a write acts on the bits that differ
 *    from GSTS: TE sets or clears TES at once; SRTP latches RTADDR into
 *    the root pointer translations use and sets RTPS; QIE enables the
 *    queue (IQH back to 0, QIES) or disables it. Other bits are ignored.
 *  - RTADDR TTM [11:10]: only 01b (scalable mode) is modelled; a latched
 *    root pointer with another TTM blocks every request with fault 0x31.
 *  - CCMD, and IOTLB_REG with IVA_REG (VT-d spec §6.5.1, register-based
 *    invalidation): with the queue disabled (QIES clear), a write with
 *    ICC (IVT) does the invalidation its CIRG (IIRG) asks at once, as the
 *    matching queue descriptor would (vtd_qi.c), and ICC (IVT) reads 0:
 *    done. While the queue is enabled software must use it (§6.5.2): the
 *    registers then ignore the command (ICC / IVT never take). A request
 *    granularity of 0 is ignored too.
 *  - FSTS: PFO, IQE, ICE, ITE are write-1-to-clear; PPF is read-only and
 *    says whether any fault recording register holds a fault (F = 1);
 *    FRI [15:8] is the register the next fault goes to. Clearing IQE lets
 *    the queue run again from IQH.
 *  - FRCD i (128 bits at 0x220 + 16 i): read-only but for F (bit 127),
 *    write-1-to-clear.
 *  - PQH (software's, [18:5]), PQT (the unit's, read-only), PQA (base,
 *    PQS [2:0]: 4 KiB << PQS), PRS (PPR, PRO: write 1 to clear), PECTL /
 *    PEDATA / PEADDR / PEUADDR: the page request queue (vtd_prq.c).
 * An 8-byte access to two 32-bit registers is the two 4-byte accesses
 * low then high; a 4-byte write to half of a 64-bit register writes that
 * half.
 *
 * Fault recording (hw.md §2.4, VT-d spec §7.2): a fault goes to FRCD[FRI]
 * when PFO is clear and that register is free (F = 0), then FRI moves on
 * (modulo NFR). A fault that finds PFO set, or FRCD[FRI] occupied, is
 * lost: PFO is set and stats.faults_lost counts it. Record layout (bits of
 * the 128-bit register): FI [63:12] the request's page; SID [79:64]; PRIV
 * 93 (a supervisor request); EXE 94; PP 95 (the request had a PASID); FR
 * [103:96]; PV [123:104]; AT [125:124] (0: untranslated); T 126 (1 read,
 * 0 write); F 127.
 *
 * Interrupts: a fault event (a first pending fault: PPF going from 0 to 1,
 * PFO or IQE being set), an invalidation completion event (a wait
 * descriptor with IF) and a page request event (PPR going from 0 to 1, or
 * PRO being set) each set IP in their control register while IM is set,
 * and otherwise send the interrupt: the MSI data is written to the
 * address register (when memory is there) and the irq callback is called.
 * Clearing IM with IP set sends the pending interrupt.
 *
 * Concurrency: one mutex (v->lock) serialises register accesses, queue
 * consumption (and so every cache invalidation, which lib/xlate requires
 * to be serialised) and fault recording. Translations take it only to
 * snapshot the registers they need and to record a fault.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "hw/vtd/vtd_priv.h"
#include "util/alloc.h"

void vtd_params_default(struct vtd_params *p)
{
	memset(p, 0, sizeof(*p));
	p->sagaw = 0x6;
	p->mgaw = 48;
	p->sslps = 3;
	p->fs1gp = true;
	p->fsts = p->ssts = p->nest = p->pt = true;
	p->slads = true;
	p->srs = true;
	p->pss = 19;
	p->nfr = 8;
	xlate_cache_params_default(&p->cache);
}

static void vtd_init_caps(struct vtd *v)
{
	const struct vtd_params *p = &v->p;
	uint64_t cap = 0, ecap = 0;

	cap |= 6; /* ND: 16-bit domain ids */
	cap |= (uint64_t)p->sagaw << VTD_CAP_SAGAW_SHIFT;
	cap |= (uint64_t)(p->mgaw - 1) << VTD_CAP_MGAW_SHIFT;
	cap |= (uint64_t)(VTD_FRCD_REG / 16) << VTD_CAP_FRO_SHIFT;
	cap |= (uint64_t)p->sslps << VTD_CAP_SSLPS_SHIFT;
	cap |= VTD_CAP_PSI;
	cap |= (uint64_t)(p->nfr - 1) << VTD_CAP_NFR_SHIFT;
	cap |= (uint64_t)VTD_MAMV << VTD_CAP_MAMV_SHIFT;
	if (p->fs1gp)
		cap |= VTD_CAP_FS1GP;
	if (p->fs5lp)
		cap |= VTD_CAP_FS5LP;

	ecap |= VTD_ECAP_C | VTD_ECAP_QI;
	if (p->ats)
		ecap |= VTD_ECAP_DT;
	if (p->prs)
		ecap |= VTD_ECAP_PRS | VTD_ECAP_PDS;
	if (p->pt)
		ecap |= VTD_ECAP_PT;
	ecap |= (uint64_t)VTD_IRO << VTD_ECAP_IRO_SHIFT;
	if (p->nest)
		ecap |= VTD_ECAP_NEST;
	if (p->srs)
		ecap |= VTD_ECAP_SRS;
	if (p->eafs)
		ecap |= VTD_ECAP_EAFS;
	ecap |= (uint64_t)p->pss << VTD_ECAP_PSS_SHIFT;
	ecap |= VTD_ECAP_PASID | VTD_ECAP_SMTS;
	if (p->slads)
		ecap |= VTD_ECAP_SLADS;
	if (p->ssts)
		ecap |= VTD_ECAP_SSTS;
	if (p->fsts)
		ecap |= VTD_ECAP_FSTS;
	v->cap = cap;
	v->ecap = ecap;
}

void vtd_reset(struct vtd *v)
{
	pthread_mutex_lock(&v->lock);
	v->gsts = 0;
	v->rtaddr = v->rta = 0;
	v->fsts = 0;
	v->fectl = VTD_CTL_IM;
	v->iectl = VTD_CTL_IM;
	v->fedata = v->feaddr = v->feuaddr = 0;
	v->iedata = v->ieaddr = v->ieuaddr = 0;
	v->iqh = v->iqt = v->iqa = 0;
	v->ics = 0;
	v->pqh = v->pqt = v->pqa = 0;
	v->prs = 0;
	v->pectl = VTD_CTL_IM;
	v->pedata = v->peaddr = v->peuaddr = 0;
	v->iva = 0;
	memset(v->frcd, 0, sizeof(*v->frcd) * v->p.nfr);
	v->fri = 0;
	if (v->cache)
		xlate_inv_all(v->cache);
	__atomic_add_fetch(&v->cfg_gen, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&v->lock);
}

int vtd_new(const struct vtd_params *p, const struct pt_mem *mem, struct vtd **out)
{
	struct vtd *v;
	int ret;

	if (!p || !mem || !out || !p->sagaw || (p->sagaw & ~0xeu) || p->mgaw < 39 || p->mgaw > 57 ||
	    p->sslps > 3 || p->sslps == 2 || p->pss > 19 || !p->nfr || p->nfr > 64 ||
	    (!p->fsts && !p->ssts && !p->pt))
		return -EINVAL;
	v = uzalloc(sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->p = *p;
	v->mem = mem;
	v->frcd = ucalloc(p->nfr, sizeof(*v->frcd));
	if (!v->frcd) {
		ufree(v);
		return -ENOMEM;
	}
	/*
	 * A page-selective IOTLB invalidation names second-stage addresses
	 * too, and nested translations built over them are cached by their
	 * first-stage address: they go with the DID's combined entries.
	 */
	v->p.cache.ipa_inval_conservative = true;
	if (!p->no_cache) {
		ret = xlate_cache_new(&v->p.cache, &v->cache);
		if (ret) {
			ufree(v->frcd);
			ufree(v);
			return ret;
		}
	}
	pthread_mutex_init(&v->lock, NULL);
	vtd_init_caps(v);
	vtd_reset(v);
	*out = v;
	return 0;
}

void vtd_free(struct vtd *v)
{
	if (!v)
		return;
	if (v->cache)
		xlate_cache_free(v->cache);
	pthread_mutex_destroy(&v->lock);
	ufree(v->frcd);
	ufree(v);
}

struct xlate_cache *vtd_cache(struct vtd *v)
{
	return v->cache;
}

void vtd_get_stats(struct vtd *v, struct vtd_stats *st)
{
	pthread_mutex_lock(&v->lock);
	*st = v->stats;
	pthread_mutex_unlock(&v->lock);
}

/* ---------------------------------------------------------------------- */
/* Memory                                                                  */

bool vtd_read_qw(struct vtd *v, uint64_t pa, uint64_t *qw, unsigned int n)
{
	uint64_t *p;

	if (pa & 7)
		return false;
	p = pt_mem_ptr(v->mem, pa, (uint64_t)n * 8);
	if (!p)
		return false;
	for (unsigned int i = 0; i < n; i++)
		qw[i] = le64toh(__atomic_load_n(&p[i], __ATOMIC_ACQUIRE));
	return true;
}

bool vtd_write32(struct vtd *v, uint64_t pa, uint32_t val)
{
	uint32_t *p;

	if (pa & 3)
		return false;
	p = pt_mem_ptr(v->mem, pa, 4);
	if (!p)
		return false;
	__atomic_store_n(p, htole32(val), __ATOMIC_RELEASE);
	return true;
}

/* ---------------------------------------------------------------------- */
/* Interrupts and fault recording                                          */

static void send_irq(struct vtd *v, enum vtd_irq line)
{
	uint64_t addr;
	uint32_t data;

	if (line == VTD_IRQ_FAULT) {
		addr = (uint64_t)v->feuaddr << 32 | v->feaddr;
		data = v->fedata;
	} else if (line == VTD_IRQ_PRQ) {
		addr = (uint64_t)v->peuaddr << 32 | v->peaddr;
		data = v->pedata;
	} else {
		addr = (uint64_t)v->ieuaddr << 32 | v->ieaddr;
		data = v->iedata;
	}
	if (addr)
		vtd_write32(v, addr & ~3ULL, data);
	v->stats.irqs[line]++;
	if (v->p.irq)
		v->p.irq(v->p.irq_opaque, line);
}

static uint32_t *ctl_reg(struct vtd *v, enum vtd_irq line)
{
	return line == VTD_IRQ_FAULT ? &v->fectl : line == VTD_IRQ_PRQ ? &v->pectl : &v->iectl;
}

void vtd_event(struct vtd *v, enum vtd_irq line)
{
	uint32_t *ctl = ctl_reg(v, line);

	if (*ctl & VTD_CTL_IM) {
		*ctl |= VTD_CTL_IP;
		return;
	}
	send_irq(v, line);
}

static bool any_fault_pending(const struct vtd *v)
{
	for (unsigned int i = 0; i < v->p.nfr; i++)
		if (v->frcd[i][1] >> 63)
			return true;
	return false;
}

static void encode_fault(const struct vtd_fault *f, uint64_t rec[2])
{
	rec[0] = f->addr & ~0xfffULL;
	rec[1] = (uint64_t)f->sid | (uint64_t)f->priv << 29 | (uint64_t)f->exe << 30 |
		 (uint64_t)f->pp << 31 | (uint64_t)f->reason << 32 |
		 (f->pp ? (uint64_t)(f->pasid & 0xfffff) << 40 : 0) | (uint64_t)f->read << 62 |
		 1ULL << 63;
}

bool vtd_record_fault(struct vtd *v, const struct vtd_fault *f)
{
	uint64_t *rec;
	bool was_pending;

	pthread_mutex_lock(&v->lock);
	if (v->fsts & VTD_FSTS_PFO) {
		v->stats.faults_lost++;
		pthread_mutex_unlock(&v->lock);
		return false;
	}
	rec = v->frcd[v->fri];
	if (rec[1] >> 63) {
		/* The next register is still occupied: overflow. */
		v->fsts |= VTD_FSTS_PFO;
		v->stats.faults_lost++;
		vtd_event(v, VTD_IRQ_FAULT);
		pthread_mutex_unlock(&v->lock);
		return false;
	}
	was_pending = any_fault_pending(v);
	encode_fault(f, rec);
	v->fri = (v->fri + 1) % v->p.nfr;
	v->stats.faults++;
	if (!was_pending)
		vtd_event(v, VTD_IRQ_FAULT);
	pthread_mutex_unlock(&v->lock);
	return true;
}

/* ---------------------------------------------------------------------- */
/* Registers                                                               */

static bool is_reg64(const struct vtd *v, uint64_t off)
{
	switch (off) {
	case VTD_CAP_REG:
	case VTD_ECAP_REG:
	case VTD_RTADDR_REG:
	case VTD_CCMD_REG:
	case VTD_IQH_REG:
	case VTD_IQT_REG:
	case VTD_IQA_REG:
	case VTD_IQERCD_REG:
	case VTD_PQH_REG:
	case VTD_PQT_REG:
	case VTD_PQA_REG:
	case VTD_IVA_REG:
	case VTD_IOTLB_REG:
		return true;
	default:
		return off >= VTD_FRCD_REG && off < VTD_FRCD_REG + 16ULL * v->p.nfr;
	}
}

static uint64_t fsts_value(const struct vtd *v)
{
	return v->fsts | (any_fault_pending(v) ? VTD_FSTS_PPF : 0) |
	       (uint32_t)v->fri << VTD_FSTS_FRI_SHIFT;
}

/* Lock held. @off 8-byte aligned for 64-bit registers, 4-byte for the others. */
static uint64_t reg_read(struct vtd *v, uint64_t off)
{
	if (off >= VTD_FRCD_REG && off < VTD_FRCD_REG + 16ULL * v->p.nfr) {
		uint64_t i = (off - VTD_FRCD_REG) / 16;

		return v->frcd[i][(off - VTD_FRCD_REG) / 8 % 2];
	}
	switch (off) {
	case VTD_VER_REG:
		return 0x30;
	case VTD_CAP_REG:
		return v->cap;
	case VTD_ECAP_REG:
		return v->ecap;
	case VTD_GSTS_REG:
		return v->gsts;
	case VTD_RTADDR_REG:
		return v->rtaddr;
	case VTD_FSTS_REG:
		return fsts_value(v);
	case VTD_FECTL_REG:
		return v->fectl;
	case VTD_FEDATA_REG:
		return v->fedata;
	case VTD_FEADDR_REG:
		return v->feaddr;
	case VTD_FEUADDR_REG:
		return v->feuaddr;
	case VTD_IQH_REG:
		return v->iqh;
	case VTD_IQT_REG:
		return v->iqt;
	case VTD_IQA_REG:
		return v->iqa;
	case VTD_ICS_REG:
		return v->ics;
	case VTD_IECTL_REG:
		return v->iectl;
	case VTD_IEDATA_REG:
		return v->iedata;
	case VTD_IEADDR_REG:
		return v->ieaddr;
	case VTD_IEUADDR_REG:
		return v->ieuaddr;
	case VTD_PQH_REG:
		return v->pqh;
	case VTD_PQT_REG:
		return v->pqt;
	case VTD_PQA_REG:
		return v->pqa;
	case VTD_PRS_REG:
		return v->prs;
	case VTD_PECTL_REG:
		return v->pectl;
	case VTD_PEDATA_REG:
		return v->pedata;
	case VTD_PEADDR_REG:
		return v->peaddr;
	case VTD_PEUADDR_REG:
		return v->peuaddr;
	case VTD_IVA_REG:
		return v->iva;
	default:
		/* GCMD, CCMD and IOTLB_REG (done at once: ICC / IVT read 0), IQERCD */
		return 0;
	}
}

static void gcmd_write(struct vtd *v, uint32_t val)
{
	if ((val ^ v->gsts) & VTD_GCMD_TE)
		v->gsts ^= VTD_GSTS_TES;
	if (val & VTD_GCMD_SRTP) {
		v->rta = v->rtaddr;
		v->gsts |= VTD_GSTS_RTPS;
		__atomic_add_fetch(&v->cfg_gen, 1, __ATOMIC_RELEASE);
	}
	if ((val ^ v->gsts) & VTD_GCMD_QIE) {
		if (val & VTD_GCMD_QIE) {
			v->iqh = 0;
			v->gsts |= VTD_GSTS_QIES;
		} else {
			v->gsts &= ~VTD_GSTS_QIES;
		}
	}
}

static void ctl_write(struct vtd *v, enum vtd_irq line, uint32_t val)
{
	uint32_t *ctl = ctl_reg(v, line);

	*ctl = (*ctl & VTD_CTL_IP) | (val & VTD_CTL_IM);
	if (!(val & VTD_CTL_IM) && (*ctl & VTD_CTL_IP)) {
		*ctl &= ~VTD_CTL_IP;
		send_irq(v, line);
	}
}

static void reg_write(struct vtd *v, uint64_t off, uint64_t val)
{
	if (off >= VTD_FRCD_REG && off < VTD_FRCD_REG + 16ULL * v->p.nfr) {
		uint64_t i = (off - VTD_FRCD_REG) / 16;

		if ((off - VTD_FRCD_REG) % 16 == 8 && (val >> 63))
			v->frcd[i][1] &= ~(1ULL << 63);
		return;
	}
	switch (off) {
	case VTD_GCMD_REG:
		gcmd_write(v, (uint32_t)val);
		break;
	case VTD_RTADDR_REG:
		v->rtaddr = val & (VTD_MASK(VTD_HAW - 1, 12) | VTD_MASK(11, 10));
		break;
	case VTD_CCMD_REG:
		if ((val & VTD_CCMD_ICC) && !(v->gsts & VTD_GSTS_QIES))
			vtd_reg_inv_cc(v, val);
		break;
	case VTD_IVA_REG:
		v->iva = val & (VTD_MASK(63, 12) | VTD_MASK(6, 0));
		break;
	case VTD_IOTLB_REG:
		if ((val & VTD_IOTLB_IVT) && !(v->gsts & VTD_GSTS_QIES))
			vtd_reg_inv_iotlb(v, val, v->iva);
		break;
	case VTD_PQH_REG:
		v->pqh = val & VTD_MASK(18, 5);
		break;
	case VTD_PQA_REG:
		v->pqa = val & (VTD_MASK(VTD_HAW - 1, 12) | 7);
		break;
	case VTD_PRS_REG:
		v->prs &= ~((uint32_t)val & (VTD_PRS_PPR | VTD_PRS_PRO));
		break;
	case VTD_PECTL_REG:
		ctl_write(v, VTD_IRQ_PRQ, (uint32_t)val);
		break;
	case VTD_PEDATA_REG:
		v->pedata = (uint32_t)val;
		break;
	case VTD_PEADDR_REG:
		v->peaddr = (uint32_t)val & ~3u;
		break;
	case VTD_PEUADDR_REG:
		v->peuaddr = (uint32_t)val;
		break;
	case VTD_FSTS_REG: {
		uint32_t w1c =
			(uint32_t)val & (VTD_FSTS_PFO | VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE);
		bool iqe_cleared = w1c & v->fsts & VTD_FSTS_IQE;

		v->fsts &= ~w1c;
		if (iqe_cleared && (v->gsts & VTD_GSTS_QIES))
			vtd_qi_run(v);
		break;
	}
	case VTD_FECTL_REG:
		ctl_write(v, VTD_IRQ_FAULT, (uint32_t)val);
		break;
	case VTD_FEDATA_REG:
		v->fedata = (uint32_t)val;
		break;
	case VTD_FEADDR_REG:
		v->feaddr = (uint32_t)val & ~3u;
		break;
	case VTD_FEUADDR_REG:
		v->feuaddr = (uint32_t)val;
		break;
	case VTD_IQT_REG:
		v->iqt = val & VTD_MASK(18, 4);
		if ((v->gsts & VTD_GSTS_QIES) && !(v->fsts & VTD_FSTS_IQE))
			vtd_qi_run(v);
		break;
	case VTD_IQA_REG:
		v->iqa = val & (VTD_MASK(VTD_HAW - 1, 12) | VTD_IQA_DW | 7);
		break;
	case VTD_ICS_REG:
		v->ics &= ~((uint32_t)val & VTD_ICS_IWC);
		break;
	case VTD_IECTL_REG:
		ctl_write(v, VTD_IRQ_INV, (uint32_t)val);
		break;
	case VTD_IEDATA_REG:
		v->iedata = (uint32_t)val;
		break;
	case VTD_IEADDR_REG:
		v->ieaddr = (uint32_t)val & ~3u;
		break;
	case VTD_IEUADDR_REG:
		v->ieuaddr = (uint32_t)val;
		break;
	default:
		break; /* read-only or not modelled */
	}
}

static bool access_ok(uint64_t off, unsigned int size)
{
	return (size == 4 || size == 8) && !(off & (size - 1)) && off < VTD_MMIO_SIZE &&
	       off + size <= VTD_MMIO_SIZE;
}

int vtd_mmio_read(struct vtd *v, uint64_t off, unsigned int size, uint64_t *val)
{
	uint64_t base = off & ~7ULL;

	if (!access_ok(off, size))
		return -EINVAL;
	pthread_mutex_lock(&v->lock);
	if (is_reg64(v, base)) {
		uint64_t r = reg_read(v, base);

		*val = size == 8 ? r : (uint32_t)(r >> (off & 4 ? 32 : 0));
	} else if (size == 8) {
		*val = (reg_read(v, off) & 0xffffffffULL) | reg_read(v, off + 4) << 32;
	} else {
		*val = (uint32_t)reg_read(v, off);
	}
	pthread_mutex_unlock(&v->lock);
	return 0;
}

int vtd_mmio_write(struct vtd *v, uint64_t off, unsigned int size, uint64_t val)
{
	uint64_t base = off & ~7ULL;

	if (!access_ok(off, size))
		return -EINVAL;
	pthread_mutex_lock(&v->lock);
	if (is_reg64(v, base)) {
		uint64_t cur = reg_read(v, base);

		if (size == 4) {
			/* Only the half written changes (F of an FRCD high qword likewise). */
			if (off & 4)
				val = (cur & 0xffffffffULL) | (val & 0xffffffffULL) << 32;
			else
				val = (cur & ~0xffffffffULL) | (val & 0xffffffffULL);
			if (base >= VTD_FRCD_REG && !(off & 4))
				val &= ~(1ULL << 63); /* a low-half write never clears F */
		}
		reg_write(v, base, val);
	} else if (size == 8) {
		reg_write(v, off, val & 0xffffffffULL);
		reg_write(v, off + 4, val >> 32);
	} else {
		reg_write(v, off, val & 0xffffffffULL);
	}
	pthread_mutex_unlock(&v->lock);
	return 0;
}
