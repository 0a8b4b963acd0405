// SPDX-License-Identifier: MIT
/*
 * vsmmuv3.c - the vSMMUv3 front end: the SMMUv3 a guest sees, made of
 * iommufd objects (what QEMU's accelerated SMMUv3 does; the code is ours,
 * written from Arm IHI 0070 and the iommufd uAPI).
 *
 * What it owns. The guest-visible register file (IDRs derived once from
 * the host's GET_HW_INFO and masked to what this front end implements;
 * CR0/CR0ACK, GBPA, IRQ_CTRL, GERROR/GERRORN, the stream table and queue
 * base registers, the queue indexes), and on the host: the vIOMMU, one
 * vDEVICE per endpoint, the shared abort and bypass nested HWPTs, one
 * nested HWPT per endpoint whose guest STE asks for stage-1 translation,
 * and the vEVENTQ (from the guest's first EVENTQEN). Recoverable faults
 * (the fault queue, stall records, the PRI queue, RESUME / PRI_RESP) are
 * vsmmuv3_fault.c's; the state both files share is vsmmuv3_priv.h. The guest's
 * structures stay in guest RAM: the front end reads STEs and commands
 * there and writes event records and CMD_SYNC MSIs there.
 *
 * Invariants. Each endpoint is attached to exactly one HWPT at a time:
 * with SMMUEN = 0 the one GBPA names (abort or bypass); with SMMUEN = 1
 * the one its STE asks for, looked up afresh on enable and on every
 * CFGI_STE / CFGI_STE_RANGE / CFGI_ALL covering it (the front end caches
 * nothing else of the STE: no config cache to go stale). A nested HWPT
 * is destroyed only after the endpoint moved to its successor. Commands
 * are consumed only while CMDQEN is 1 and no CMDQ_ERR is active; CONS
 * never passes a command that has not taken effect, so after an error
 * CONS names the bad command and CONS.ERR says why. Forwardable commands
 * (CFGI_CD*, TLBI_NH_*, TLBI_NSNH_ALL, and ATC_INV when the host has ATS)
 * travel raw to IOMMU_HWPT_INVALIDATE in batches that end at a command
 * handled here, a full batch or the end of the queue; a refusal's
 * entry_num gives the bad command, which the guest sees as CERROR_ILL (as
 * QEMU's accelerated SMMUv3 reports a refused invalidation). The front end
 * checks nothing the host checks; it drops, as QEMU does, the SID-named
 * ones for a stream with no endpoint (nothing can be cached for it).
 *
 * The architecture's choices made here (doc/vsmmu.md lists them): an STE
 * with V = 0 aborts silently (the host aborts such DMA without a record,
 * so the VMM never sees the transaction that the architecture would
 * report as C_BAD_STE; Linux writes V = 0 STEs only transiently); an STE
 * the front end or the kernel cannot take (a stage-2 Config: the vSMMU
 * has no stage 2; S1CDMax above SSIDSIZE; a reserved S1Fmt or S1DSS; a
 * kernel EIO) aborts and is reported as C_BAD_STE when the CFGI that
 * installs it is consumed, as a configuration prefetch would report it;
 * so are C_BAD_STREAMID and F_STE_FETCH from the lookup. GBPA.ABORT is 1
 * at reset unless the VMM asks otherwise. The event queue drops records
 * when full and toggles EVENTQ_PROD.OVFLG when no overflow is pending;
 * the vEVENTQ's LOST_EVENTS counts as such a loss too.
 *
 * Locks: none; see vsmmuv3.h (the VMM serialises calls).
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>
#include <uiommu/uiommu.h>

#include "util/alloc.h"
#include "vmm/vsmmuv3.h"

#include "vmm/vsmmuv3_priv.h"

/* ---------------------------------------------------------------------- */
/* Host calls                                                             */

static int ioc(struct vsmmuv3 *v, unsigned long req, void *arg)
{
	return uiommu_ioctl(v->p.iommufd, req, arg) ? -errno : 0;
}

static void destroy_id(struct vsmmuv3 *v, uint32_t id)
{
	struct iommu_destroy d = {.size = sizeof(d), .id = id};

	if (id)
		ioc(v, IOMMU_DESTROY, &d);
}

/* A nested HWPT from vSTE words @w0, @w1; with @faults its page requests go to the fault queue. */
static int nested_alloc(struct vsmmuv3 *v, unsigned int ep, uint64_t w0, uint64_t w1, bool faults,
			uint32_t *id)
{
	struct iommu_hwpt_arm_smmuv3 vste = {.ste = {htole64(w0), htole64(w1)}};
	struct iommu_hwpt_alloc a = {
		.size = sizeof(a),
		.dev_id = v->ep[ep].ep.dev_id,
		.pt_id = v->viommu,
		.data_type = IOMMU_HWPT_DATA_ARM_SMMUV3,
		.data_len = sizeof(vste),
		.data_uptr = (uintptr_t)&vste,
	};
	int ret;

	if (faults) {
		a.flags = IOMMU_HWPT_FAULT_ID_VALID;
		a.fault_id = v->fault_id;
	}
	ret = ioc(v, IOMMU_HWPT_ALLOC, &a);
	*id = ret ? 0 : a.out_hwpt_id;
	return ret;
}

/* Attach endpoint @i to @pt (0: detach). */
static int ep_attach(struct vsmmuv3 *v, unsigned int i, uint32_t pt)
{
	struct vep *e = &v->ep[i];
	int ret;

	if (e->ep.cdev && pt) {
		struct vfio_device_attach_iommufd_pt at = {.argsz = sizeof(at), .pt_id = pt};

		ret = uiommu_ioctl(e->ep.cdev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at) ? -errno : 0;
	} else if (e->ep.cdev) {
		struct vfio_device_detach_iommufd_pt dt = {.argsz = sizeof(dt)};

		ret = uiommu_ioctl(e->ep.cdev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt) ? -errno : 0;
	} else if (v->p.attach) {
		ret = v->p.attach(v->p.opaque, i, pt);
	} else {
		ret = -EINVAL;
	}
	if (!ret)
		e->hwpt = pt;
	return ret;
}

/*
 * Move endpoint @i to @pt; @nested: a nested HWPT made for it (owned from
 * now on), else 0. The previous owned nested HWPT goes once the endpoint
 * left it. On failure the endpoint stays where it was and @nested is freed.
 */
static int ep_move(struct vsmmuv3 *v, unsigned int i, uint32_t pt, uint32_t nested)
{
	struct vep *e = &v->ep[i];
	int ret = e->hwpt == pt ? 0 : ep_attach(v, i, pt);

	if (ret) {
		destroy_id(v, nested);
		return ret;
	}
	if (e->nested && e->nested != pt)
		vsmmuv3_pend_drop(v, i); /* the host answered what came through the old one */
	if (e->nested != nested) {
		destroy_id(v, e->nested);
		e->nested = nested;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Interrupts, errors, events                                             */

/* An MSI of the vSMMU: guest RAM takes it, else the VMM's hook. 0, or -1: an MSI abort. */
int vsmmuv3_msi_write(struct vsmmuv3 *v, uint64_t addr, uint32_t data)
{
	uint32_t le = htole32(data);

	addr &= IRQ_CFG0_MASK;
	if (guest_mem_ptr(v->p.gm, addr, 4))
		return guest_mem_write(v->p.gm, addr, &le, 4) ? -1 : 0;
	if (v->p.msi && !v->p.msi(v->p.opaque, addr, data))
		return 0;
	return -1;
}

void vsmmuv3_irq_line(struct vsmmuv3 *v, enum vsmmuv3_irq line)
{
	if (v->p.irq)
		v->p.irq(v->p.opaque, line);
}

/* Activate GERROR bit(s) @bit (only those not active already) and signal it. */
void vsmmuv3_gerror_raise(struct vsmmuv3 *v, uint32_t bit)
{
	uint32_t fresh = bit & ~(v->gerror ^ v->gerrorn);

	if (!fresh)
		return;
	v->gerror ^= fresh;
	if (!(v->irq_ctrl & VSMMUV3_IRQ_GERROR))
		return;
	if (!v->gerror_cfg0) {
		vsmmuv3_irq_line(v, VSMMUV3_IRQ_LINE_GERROR);
	} else if (vsmmuv3_msi_write(v, v->gerror_cfg0, v->gerror_cfg1)) {
		/* Its own MSI failed: recorded, not signalled again. */
		v->gerror ^= VSMMUV3_GERROR_MSI_GERR_ABT & ~(v->gerror ^ v->gerrorn);
	}
}

/* Mark one lost record: OVFLG toggles unless an overflow is pending already. */
static void evtq_overflow(struct vsmmuv3 *v)
{
	v->st.events_lost++;
	outq_overflow(&v->evtq);
}

/* Put a record (CPU order) in the guest's event queue: whether it is there. */
bool vsmmuv3_evtq_put(struct vsmmuv3 *v, const uint64_t rec[4])
{
	unsigned int log2 = q_log2(v->evtq.base);
	uint64_t le[4];
	uint64_t gpa;

	if (!(v->cr0 & VSMMUV3_CR0_EVENTQEN)) {
		v->st.events_lost++;
		return false;
	}
	if (q_full(v->evtq.prod, v->evtq.cons, log2)) {
		evtq_overflow(v);
		return false;
	}
	gpa = q_addr(v->evtq.base, log2, 32) + 32ULL * (v->evtq.prod & ((1u << log2) - 1));
	for (unsigned int i = 0; i < 4; i++)
		le[i] = htole64(rec[i]);
	if (guest_mem_write(v->p.gm, gpa, le, sizeof(le))) {
		v->st.events_lost++;
		vsmmuv3_gerror_raise(v, VSMMUV3_GERROR_EVTQ_ABT);
		return false;
	}
	v->evtq.prod = (v->evtq.prod & VSMMUV3_Q_OVFLG) | q_next(v->evtq.prod, log2);
	v->st.events++;
	v->evtq.irq_pending = true;
	return true;
}

/*
 * The interrupt of @q, once per batch of records: if IRQ_CTRL has @irqen,
 * an MSI when IRQ_CFG0 holds an address (GERROR @msi_abt when it fails),
 * else the wired @line.
 */
static void outq_signal(struct vsmmuv3 *v, struct vsmmuv3_outq *q, uint32_t irqen,
			enum vsmmuv3_irq line, uint32_t msi_abt)
{
	if (!q->irq_pending)
		return;
	q->irq_pending = false;
	if (!(v->irq_ctrl & irqen))
		return;
	if (!q->cfg0)
		vsmmuv3_irq_line(v, line);
	else if (vsmmuv3_msi_write(v, q->cfg0, q->cfg1))
		vsmmuv3_gerror_raise(v, msi_abt);
}

/* The PRI queue interrupt and the event queue's, once per batch of records. */
static void evtq_signal(struct vsmmuv3 *v)
{
	outq_signal(v, &v->priq, VSMMUV3_IRQ_PRIQ, VSMMUV3_IRQ_LINE_PRIQ,
		    VSMMUV3_GERROR_MSI_PRIQ_ABT);
	outq_signal(v, &v->evtq, VSMMUV3_IRQ_EVENTQ, VSMMUV3_IRQ_LINE_EVENTQ,
		    VSMMUV3_GERROR_MSI_EVTQ_ABT);
}

static void evt_config(struct vsmmuv3 *v, unsigned int type, uint32_t sid, uint64_t fetch)
{
	uint64_t rec[4] = {type | (uint64_t)sid << 32, 0, 0, fetch & ADDR_MASK(3)};

	vsmmuv3_evtq_put(v, rec);
}

/* ---------------------------------------------------------------------- */
/* Stream table                                                           */

enum ste_result { STE_OK, STE_BAD_STREAMID, STE_BAD_STE, STE_FETCH };

/* The STE of @sid (CPU order) from guest RAM; *fetch on STE_FETCH. */
static enum ste_result ste_fetch(struct vsmmuv3 *v, uint32_t sid, uint64_t ste[2], uint64_t *fetch)
{
	unsigned int log2 = v->strtab_cfg & 0x3f, split = (v->strtab_cfg >> 6) & 0x1f;
	uint64_t base = v->strtab_base & ADDR_MASK(6), gpa, le[2], desc;

	if (log2 > VSMMUV3_SIDSIZE)
		log2 = VSMMUV3_SIDSIZE;
	if ((uint64_t)sid >> log2)
		return STE_BAD_STREAMID;
	if (((v->strtab_cfg >> 16) & 3) == 0) {
		gpa = (base & ~((64ULL << log2) - 1)) + 64ULL * sid;
	} else if (((v->strtab_cfg >> 16) & 3) == 1) {
		unsigned int span;

		if (split != 6 && split != 8 && split != 10)
			return STE_BAD_STREAMID;
		gpa = base + 8ULL * (sid >> split);
		if (guest_mem_read(v->p.gm, gpa, &desc, 8)) {
			*fetch = gpa;
			return STE_FETCH;
		}
		desc = le64toh(desc);
		span = (unsigned int)(desc & 0x1f);
		if (!span || span > split + 1)
			return STE_BAD_STREAMID;
		if ((sid & ((1u << split) - 1)) >> (span - 1))
			return STE_BAD_STE;
		gpa = (desc & ADDR_MASK(6)) + 64ULL * (sid & ((1u << split) - 1));
	} else {
		return STE_BAD_STREAMID; /* a reserved FMT */
	}
	if (guest_mem_read(v->p.gm, gpa, le, sizeof(le))) {
		*fetch = gpa;
		return STE_FETCH;
	}
	ste[0] = le64toh(le[0]);
	ste[1] = le64toh(le[1]);
	return STE_OK;
}

/* Whether the vSMMU takes this stage-1 STE (V = 1, Config S1 translate). */
static bool s1_ste_ok(const struct vsmmuv3 *v, const uint64_t ste[2])
{
	unsigned int cdmax = STE0_S1CDMAX(ste[0]);

	if (!cdmax)
		return true; /* S1Fmt, S1DSS ignored */
	if (cdmax > IDR1_SSIDSIZE(v->idr[1]))
		return false;
	if (STE0_S1FMT(ste[0]) == 3 || (STE0_S1FMT(ste[0]) && !(v->idr[0] & IDR0_CD2L)))
		return false;
	return STE1_S1DSS(ste[1]) != 3;
}

/* Put endpoint @i where the guest's configuration says. */
static int ep_configure(struct vsmmuv3 *v, unsigned int i)
{
	uint32_t sid = v->ep[i].ep.vsid, nested = 0;
	uint64_t ste[2] = {0}, fetch = 0;
	unsigned int bad = 0;
	bool faults;
	int ret;

	if (!(v->cr0 & VSMMUV3_CR0_SMMUEN))
		return ep_move(v, i, v->gbpa & VSMMUV3_GBPA_ABORT ? v->abort_hwpt : v->bypass_hwpt,
			       0);
	switch (ste_fetch(v, sid, ste, &fetch)) {
	case STE_OK:
		break;
	case STE_BAD_STREAMID:
		bad = EVT_C_BAD_STREAMID;
		break;
	case STE_BAD_STE:
		bad = EVT_C_BAD_STE;
		break;
	case STE_FETCH:
		bad = EVT_F_STE_FETCH;
		break;
	}
	if (!bad && !(ste[0] & STE0_V))
		return ep_move(v, i, v->abort_hwpt, 0);
	if (!bad) {
		switch (STE0_CFG(ste[0])) {
		case 0:
		case 1:
		case 2:
		case 3:
			return ep_move(v, i, v->abort_hwpt, 0);
		case STE_CFG_BYPASS:
			return ep_move(v, i, v->bypass_hwpt, 0);
		case STE_CFG_S1:
			if (!s1_ste_ok(v, ste)) {
				bad = EVT_C_BAD_STE;
				break;
			}
			ste[0] &= STE0_KEEP;
			ste[1] &= STE1_KEEP | (v->idr[0] & IDR0_ATS ? STE1_EATS_MASK : 0);
			faults = vsmmuv3_wants_faults(v, i, ste);
			/* The fault queue is the host's: its failure is not the guest's. */
			ret = faults ? vsmmuv3_fault_get(v) : 0;
			if (ret) {
				ep_move(v, i, v->abort_hwpt, 0);
				return ret;
			}
			ret = nested_alloc(v, i, ste[0], ste[1], faults, &nested);
			if (ret == -ENOMEM) {
				ep_move(v, i, v->abort_hwpt, 0);
				return ret;
			}
			if (ret) {
				bad = EVT_C_BAD_STE; /* the kernel refused the vSTE */
				break;
			}
			v->st.ste_updates++;
			ret = ep_move(v, i, nested, nested);
			if (ret) {
				ep_move(v, i, v->abort_hwpt, 0);
				return ret;
			}
			return 0;
		default: /* stage 2 or nested: the vSMMU has no stage 2 */
			bad = EVT_C_BAD_STE;
			break;
		}
	}
	evt_config(v, bad, sid, fetch);
	return ep_move(v, i, v->abort_hwpt, 0);
}

static int configure_all(struct vsmmuv3 *v)
{
	int ret = 0;

	for (unsigned int i = 0; i < v->nr; i++) {
		int r = ep_configure(v, i);

		if (r && !ret)
			ret = r;
	}
	return ret;
}

/* ---------------------------------------------------------------------- */
/* Command queue                                                          */

int vsmmuv3_ep_of_sid(const struct vsmmuv3 *v, uint32_t sid)
{
	for (unsigned int i = 0; i < v->nr; i++)
		if (v->ep[i].ep.vsid == sid)
			return (int)i;
	return -1;
}

/*
 * Forward the batch. 0; or the index of the first command not taken and
 * its error: *bad = the batch index, -EIO (a command the host refused:
 * CERROR_ILL), another -errno (the host's failure).
 */
static int batch_flush(struct vsmmuv3 *v, unsigned int *bad)
{
	struct iommu_hwpt_invalidate inv = {
		.size = sizeof(inv),
		.hwpt_id = v->viommu,
		.data_uptr = (uintptr_t)v->batch,
		.data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
		.entry_len = sizeof(v->batch[0]),
		.entry_num = v->nbatch,
	};
	int ret;

	if (!v->nbatch)
		return 0;
	ret = ioc(v, IOMMU_HWPT_INVALIDATE, &inv);
	v->st.invalidates++;
	v->st.forwarded += ret ? inv.entry_num : v->nbatch;
	*bad = ret ? inv.entry_num : 0;
	/*
	 * EIO with every command handled: the host's CMD_SYNC failed after them
	 * (an ATS invalidation not completed). Named as the last command's
	 * failure: it is repeated when the guest resumes, which is harmless.
	 */
	if (ret && *bad >= v->nbatch)
		*bad = v->nbatch - 1;
	v->nbatch = 0;
	return ret;
}

enum cmd_result { CMD_DONE, CMD_ILL };

static bool forwarded_op(const struct vsmmuv3 *v, unsigned int op)
{
	switch (op) {
	case OP_ATC_INV:
		return v->idr[0] & IDR0_ATS;
	case OP_CFGI_CD:
	case OP_CFGI_CD_ALL:
	case OP_TLBI_NH_ALL:
	case OP_TLBI_NH_ASID:
	case OP_TLBI_NH_VA:
	case OP_TLBI_NH_VAA:
	case OP_TLBI_NSNH_ALL:
		return true;
	default:
		return false;
	}
}

/* One command handled here (not forwarded). *err: the host's failure, if any. */
static enum cmd_result cmd_local(struct vsmmuv3 *v, const uint64_t c[2], int *err)
{
	unsigned int op = CMD_OP(c[0]);

	switch (op) {
	case OP_PREFETCH_CONFIG:
	case OP_PREFETCH_ADDR:
		return CMD_DONE; /* no prefetching */
	case OP_RESUME:
		return vsmmuv3_cmd_resume(v, c, err) ? CMD_DONE : CMD_ILL;
	case OP_STALL_TERM:
		return vsmmuv3_cmd_stall_term(v, c, err) ? CMD_DONE : CMD_ILL;
	case OP_PRI_RESP:
		return vsmmuv3_cmd_pri_resp(v, c, err) ? CMD_DONE : CMD_ILL;
	case OP_CFGI_STE: {
		int i = vsmmuv3_ep_of_sid(v, CMD_SID(c[0]));

		if (i >= 0 && (v->cr0 & VSMMUV3_CR0_SMMUEN))
			*err = ep_configure(v, (unsigned int)i);
		return CMD_DONE;
	}
	case OP_CFGI_STE_RANGE: {
		unsigned int range = CMD_STE_RANGE(c[1]);
		uint64_t mask = range >= 31 ? UINT32_MAX : (2ULL << range) - 1;
		uint64_t first = CMD_SID(c[0]) & ~mask;

		if (!(v->cr0 & VSMMUV3_CR0_SMMUEN))
			return CMD_DONE;
		for (unsigned int i = 0; i < v->nr; i++) {
			int r;

			if ((v->ep[i].ep.vsid & ~mask) != first)
				continue;
			r = ep_configure(v, i);
			if (r && !*err)
				*err = r;
		}
		return CMD_DONE;
	}
	case OP_SYNC:
		switch (CMD_SYNC_CS(c[0])) {
		case CS_NONE:
		case CS_SEV:
			return CMD_DONE;
		case CS_IRQ:
			if (!CMD_SYNC_ADDR(c[1]))
				vsmmuv3_irq_line(v, VSMMUV3_IRQ_LINE_CMD_SYNC);
			else if (vsmmuv3_msi_write(v, CMD_SYNC_ADDR(c[1]), CMD_SYNC_DATA(c[0])))
				vsmmuv3_gerror_raise(v, VSMMUV3_GERROR_MSI_CMDQ_ABT);
			return CMD_DONE;
		default:
			return CMD_ILL;
		}
	default:
		/*
		 * TLBI_EL2_* (no HYP), TLBI_S12_VMALL / TLBI_S2_IPA (no stage
		 * 2), ATC_INV without ATS, TLBI_EL3_*, and opcodes the
		 * architecture does not define.
		 */
		return CMD_ILL;
	}
}

static void cmdq_error(struct vsmmuv3 *v, uint32_t cons, unsigned int cerror)
{
	v->cmdq_cons = (cons & ~CONS_ERR_MASK) | cerror << CONS_ERR_SHIFT;
	vsmmuv3_gerror_raise(v, VSMMUV3_GERROR_CMDQ);
}

/* After a flush failed: the guest's error (EIO: the host refused a command) or the host's. */
static int flush_failed(struct vsmmuv3 *v, int ret, unsigned int bad)
{
	if (ret == -EIO) {
		cmdq_error(v, v->batch_pos[bad], VSMMUV3_CERROR_ILL);
		return 0;
	}
	/* The host failed: stop before the first command not taken (retried at the next PROD). */
	v->cmdq_cons = (v->cmdq_cons & CONS_ERR_MASK) | v->batch_pos[bad];
	return ret;
}

static int flush_ret(int host, int err)
{
	return host ? host : err;
}

/* Consume the command queue as far as PROD, or to the first error. */
static int cmdq_run(struct vsmmuv3 *v)
{
	unsigned int log2 = q_log2(v->cmdq_base), bad = 0;
	uint64_t base = q_addr(v->cmdq_base, log2, 16);
	uint32_t cons = v->cmdq_cons & Q_IDX_MASK;
	int err = 0, ret;

	if (!(v->cr0 & VSMMUV3_CR0_CMDQEN) || ((v->gerror ^ v->gerrorn) & VSMMUV3_GERROR_CMDQ))
		return 0;
	while (q_wr_rd(cons, log2) != q_wr_rd(v->cmdq_prod, log2)) {
		uint64_t c[2];
		unsigned int op;
		int i;

		if (guest_mem_read(v->p.gm, base + 16ULL * (cons & ((1u << log2) - 1)), c,
				   sizeof(c))) {
			ret = batch_flush(v, &bad);
			if (ret)
				return flush_ret(flush_failed(v, ret, bad), err);
			cmdq_error(v, cons, VSMMUV3_CERROR_ABT);
			return err;
		}
		c[0] = le64toh(c[0]);
		c[1] = le64toh(c[1]);
		op = CMD_OP(c[0]);
		v->st.cmds++;
		i = vsmmuv3_ep_of_sid(v, CMD_SID(c[0]));
		if (!(c[0] & CMD_SSEC) && forwarded_op(v, op) &&
		    !((op == OP_CFGI_CD || op == OP_CFGI_CD_ALL || op == OP_ATC_INV) && i < 0)) {
			v->batch[v->nbatch].cmd[0] = htole64(c[0]);
			v->batch[v->nbatch].cmd[1] = htole64(c[1]);
			v->batch_pos[v->nbatch++] = cons;
			cons = q_next(cons, log2);
			if (v->nbatch < BATCH_MAX)
				continue;
			ret = batch_flush(v, &bad);
			if (ret)
				return flush_ret(flush_failed(v, ret, bad), err);
			continue;
		}
		/* Handled here: the forwarded commands before it take effect first. */
		ret = batch_flush(v, &bad);
		if (ret)
			return flush_ret(flush_failed(v, ret, bad), err);
		if (c[0] & CMD_SSEC) {
			cmdq_error(v, cons, VSMMUV3_CERROR_ILL);
			return err;
		}
		/* CFGI_CD* and ATC_INV of a stream with no device: nothing is cached for it. */
		if (!forwarded_op(v, op) && cmd_local(v, c, &err) == CMD_ILL) {
			cmdq_error(v, cons, VSMMUV3_CERROR_ILL);
			return err;
		}
		if (err) {
			/* The host failed it (ENOMEM): CONS stays, the next PROD write retries. */
			v->cmdq_cons = (v->cmdq_cons & CONS_ERR_MASK) | cons;
			return err;
		}
		cons = q_next(cons, log2);
	}
	ret = batch_flush(v, &bad);
	if (ret)
		return flush_ret(flush_failed(v, ret, bad), err);
	v->cmdq_cons = (v->cmdq_cons & CONS_ERR_MASK) | cons;
	return err;
}

/* ---------------------------------------------------------------------- */
/* Registers                                                              */

static int cr0_write(struct vsmmuv3 *v, uint32_t val)
{
	uint32_t old = v->cr0,
		 now = val & CR0_MASK & (v->idr[0] & IDR0_PRI ? ~0u : ~VSMMUV3_CR0_PRIQEN);
	int ret = 0, r;

	if ((now & ~old & VSMMUV3_CR0_EVENTQEN) && !v->veventq) {
		struct iommu_veventq_alloc a = {
			.size = sizeof(a),
			.viommu_id = v->viommu,
			.type = IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
			.veventq_depth = v->p.veventq_depth ? v->p.veventq_depth : 64,
		};

		ret = ioc(v, IOMMU_VEVENTQ_ALLOC, &a);
		if (!ret) {
			v->veventq_id = a.out_veventq_id;
			v->veventq = uiommu_file_from_fd((int)a.out_veventq_fd);
			if (!v->veventq)
				ret = -EBADF;
		}
	}
	v->cr0 = now;
	if ((old ^ now) & VSMMUV3_CR0_SMMUEN) {
		r = configure_all(v);
		if (r && !ret)
			ret = r;
	}
	r = cmdq_run(v);
	evtq_signal(v);
	return ret ? ret : r;
}

static int gbpa_write(struct vsmmuv3 *v, uint32_t val)
{
	int ret = 0;

	if (!(val & VSMMUV3_GBPA_UPDATE))
		return 0; /* taken only with UPDATE */
	v->gbpa = val & GBPA_FIELDS;
	if (!(v->cr0 & VSMMUV3_CR0_SMMUEN))
		ret = configure_all(v);
	evtq_signal(v);
	return ret;
}

/*
 * The registers of the event queue and of the PRI queue, by their offset
 * @rel from the queue's BASE: BASE (+0) and IRQ_CFG0 (+0x10), 64 bits;
 * PROD (+8), CONS (+0xc), IRQ_CFG1 (+0x18), IRQ_CFG2 (+0x1c). BASE and
 * PROD are read-only while the queue is enabled (@en).
 */
_Static_assert(VSMMUV3_EVENTQ_PROD - VSMMUV3_EVENTQ_BASE == 8 &&
		       VSMMUV3_EVENTQ_CONS - VSMMUV3_EVENTQ_BASE == 0xc &&
		       VSMMUV3_EVENTQ_IRQ_CFG0 - VSMMUV3_EVENTQ_BASE == 0x10 &&
		       VSMMUV3_EVENTQ_IRQ_CFG1 - VSMMUV3_EVENTQ_BASE == 0x18 &&
		       VSMMUV3_EVENTQ_IRQ_CFG2 - VSMMUV3_EVENTQ_BASE == 0x1c &&
		       VSMMUV3_PRIQ_PROD - VSMMUV3_PRIQ_BASE == 8 &&
		       VSMMUV3_PRIQ_CONS - VSMMUV3_PRIQ_BASE == 0xc &&
		       VSMMUV3_PRIQ_IRQ_CFG0 - VSMMUV3_PRIQ_BASE == 0x10 &&
		       VSMMUV3_PRIQ_IRQ_CFG1 - VSMMUV3_PRIQ_BASE == 0x18 &&
		       VSMMUV3_PRIQ_IRQ_CFG2 - VSMMUV3_PRIQ_BASE == 0x1c,
	       "the event and PRI queues' registers lay out alike");

static uint64_t *outq_reg64(struct vsmmuv3_outq *q, uint64_t rel, bool en, uint64_t *wmask,
			    bool *writable)
{
	if (rel == 0) {
		*wmask = Q_BASE_MASK;
		*writable = !en;
		return &q->base;
	}
	*wmask = IRQ_CFG0_MASK;
	return &q->cfg0;
}

static uint32_t outq_read32(const struct vsmmuv3_outq *q, uint64_t rel)
{
	switch (rel) {
	case 8:
		return q->prod;
	case 0xc:
		return q->cons;
	case 0x18:
		return q->cfg1;
	case 0x1c:
		return q->cfg2;
	default:
		return 0;
	}
}

static void outq_write32(struct vsmmuv3_outq *q, uint64_t rel, bool en, uint32_t val)
{
	switch (rel) {
	case 8:
		if (!en)
			q->prod = val & (Q_IDX_MASK | VSMMUV3_Q_OVFLG);
		break;
	case 0xc:
		q->cons = val & (Q_IDX_MASK | VSMMUV3_Q_OVFLG);
		break;
	case 0x18:
		q->cfg1 = val;
		break;
	case 0x1c:
		q->cfg2 = val & 0x3fu;
		break;
	default:
		break;
	}
}

/* A 64-bit register at @off (its low word), or NULL; *wmask: what software may write. */
static uint64_t *reg64(struct vsmmuv3 *v, uint64_t off, uint64_t *wmask, bool *writable)
{
	*writable = true;
	switch (off) {
	case VSMMUV3_GERROR_IRQ_CFG0:
		*wmask = IRQ_CFG0_MASK;
		return &v->gerror_cfg0;
	case VSMMUV3_STRTAB_BASE:
		*wmask = STRTAB_BASE_MASK;
		*writable = !(v->cr0 & VSMMUV3_CR0_SMMUEN);
		return &v->strtab_base;
	case VSMMUV3_CMDQ_BASE:
		*wmask = Q_BASE_MASK;
		*writable = !(v->cr0 & VSMMUV3_CR0_CMDQEN);
		return &v->cmdq_base;
	case VSMMUV3_EVENTQ_BASE:
	case VSMMUV3_EVENTQ_IRQ_CFG0:
		return outq_reg64(&v->evtq, off - VSMMUV3_EVENTQ_BASE,
				  v->cr0 & VSMMUV3_CR0_EVENTQEN, wmask, writable);
	case VSMMUV3_PRIQ_BASE:
	case VSMMUV3_PRIQ_IRQ_CFG0:
		if (!(v->idr[0] & IDR0_PRI))
			return NULL;
		return outq_reg64(&v->priq, off - VSMMUV3_PRIQ_BASE, v->cr0 & VSMMUV3_CR0_PRIQEN,
				  wmask, writable);
	default:
		return NULL;
	}
}

static uint32_t reg32_read(const struct vsmmuv3 *v, uint64_t off)
{
	switch (off) {
	case VSMMUV3_IDR0:
	case VSMMUV3_IDR1:
	case VSMMUV3_IDR2:
	case VSMMUV3_IDR3:
	case VSMMUV3_IDR4:
	case VSMMUV3_IDR5:
		return v->idr[off / 4];
	case VSMMUV3_IIDR:
		return v->iidr;
	case VSMMUV3_AIDR:
		return v->aidr;
	case VSMMUV3_CR0:
	case VSMMUV3_CR0ACK:
		return v->cr0;
	case VSMMUV3_CR1:
		return v->cr1;
	case VSMMUV3_CR2:
		return v->cr2;
	case VSMMUV3_GBPA:
		return v->gbpa;
	case VSMMUV3_IRQ_CTRL:
	case VSMMUV3_IRQ_CTRLACK:
		return v->irq_ctrl;
	case VSMMUV3_GERROR:
		return v->gerror;
	case VSMMUV3_GERRORN:
		return v->gerrorn;
	case VSMMUV3_GERROR_IRQ_CFG1:
		return v->gerror_cfg1;
	case VSMMUV3_GERROR_IRQ_CFG2:
		return v->gerror_cfg2;
	case VSMMUV3_STRTAB_BASE_CFG:
		return v->strtab_cfg;
	case VSMMUV3_CMDQ_PROD:
		return v->cmdq_prod;
	case VSMMUV3_CMDQ_CONS:
		return v->cmdq_cons;
	case VSMMUV3_EVENTQ_PROD:
	case VSMMUV3_EVENTQ_CONS:
	case VSMMUV3_EVENTQ_IRQ_CFG1:
	case VSMMUV3_EVENTQ_IRQ_CFG2:
		return outq_read32(&v->evtq, off - VSMMUV3_EVENTQ_BASE);
	case VSMMUV3_PRIQ_PROD:
	case VSMMUV3_PRIQ_CONS:
	case VSMMUV3_PRIQ_IRQ_CFG1:
	case VSMMUV3_PRIQ_IRQ_CFG2:
		return outq_read32(&v->priq, off - VSMMUV3_PRIQ_BASE);
	default:
		return 0; /* STATUSR, AGBPA, PRIQ, ID registers: RAZ */
	}
}

static int reg32_write(struct vsmmuv3 *v, uint64_t off, uint32_t val)
{
	int ret = 0;

	switch (off) {
	case VSMMUV3_CR0:
		return cr0_write(v, val);
	case VSMMUV3_CR1:
		if (!(v->cr0 & (VSMMUV3_CR0_SMMUEN | VSMMUV3_CR0_CMDQEN | VSMMUV3_CR0_EVENTQEN)))
			v->cr1 = val & 0x3fu; /* queue and table cacheability */
		return 0;
	case VSMMUV3_CR2:
		if (!(v->cr0 & VSMMUV3_CR0_SMMUEN))
			v->cr2 = val & 0x7u; /* E2H, RECINVSID, PTM */
		return 0;
	case VSMMUV3_GBPA:
		return gbpa_write(v, val);
	case VSMMUV3_IRQ_CTRL:
		v->irq_ctrl =
			val & IRQ_CTRL_MASK & (v->idr[0] & IDR0_PRI ? ~0u : ~VSMMUV3_IRQ_PRIQ);
		return 0;
	case VSMMUV3_GERRORN:
		v->gerrorn = val & GERROR_MASK;
		/* A CMDQ_ERR acknowledged: the queue resumes at CONS. */
		ret = cmdq_run(v);
		evtq_signal(v);
		return ret;
	case VSMMUV3_GERROR_IRQ_CFG1:
		v->gerror_cfg1 = val;
		return 0;
	case VSMMUV3_GERROR_IRQ_CFG2:
		v->gerror_cfg2 = val & 0x3fu;
		return 0;
	case VSMMUV3_STRTAB_BASE_CFG:
		if (!(v->cr0 & VSMMUV3_CR0_SMMUEN))
			v->strtab_cfg = val & STRTAB_CFG_MASK;
		return 0;
	case VSMMUV3_CMDQ_PROD:
		v->cmdq_prod = val & Q_IDX_MASK;
		ret = cmdq_run(v);
		evtq_signal(v);
		return ret;
	case VSMMUV3_CMDQ_CONS:
		if (!(v->cr0 & VSMMUV3_CR0_CMDQEN))
			v->cmdq_cons = (v->cmdq_cons & CONS_ERR_MASK) | (val & Q_IDX_MASK);
		return 0;
	case VSMMUV3_EVENTQ_PROD:
	case VSMMUV3_EVENTQ_CONS:
	case VSMMUV3_EVENTQ_IRQ_CFG1:
	case VSMMUV3_EVENTQ_IRQ_CFG2:
		outq_write32(&v->evtq, off - VSMMUV3_EVENTQ_BASE, v->cr0 & VSMMUV3_CR0_EVENTQEN,
			     val);
		return 0;
	case VSMMUV3_PRIQ_PROD:
	case VSMMUV3_PRIQ_CONS:
	case VSMMUV3_PRIQ_IRQ_CFG1:
	case VSMMUV3_PRIQ_IRQ_CFG2:
		/* Without a PRI queue its registers are RAZ/WI. */
		if (v->idr[0] & IDR0_PRI)
			outq_write32(&v->priq, off - VSMMUV3_PRIQ_BASE, v->cr0 & VSMMUV3_CR0_PRIQEN,
				     val);
		return 0;
	default:
		return 0; /* read-only or not implemented: ignored */
	}
}

/* Page 1 holds EVENTQ_PROD / CONS and PRIQ_PROD / CONS: the rest is reserved. */
static bool map_offset(uint64_t *off)
{
	if (*off < VSMMUV3_PAGE1)
		return true;
	*off -= VSMMUV3_PAGE1;
	return *off == VSMMUV3_EVENTQ_PROD || *off == VSMMUV3_EVENTQ_CONS ||
	       *off == VSMMUV3_PRIQ_PROD || *off == VSMMUV3_PRIQ_CONS;
}

/* A 64-bit register the front end lacks (PRIQ_BASE, PRIQ_IRQ_CFG0 without PRI; beyond). */
static bool wide_absent(uint64_t off)
{
	return off == 0xc0 || off == 0xd0 || off >= 0x100;
}

static int check_access(uint64_t off, unsigned int size)
{
	if ((size != 4 && size != 8) || (off & (size - 1)) || off >= VSMMUV3_MMIO_SIZE)
		return -EINVAL;
	return 0;
}

int vsmmuv3_mmio_read(struct vsmmuv3 *v, uint64_t off, unsigned int size, uint64_t *val)
{
	uint64_t wmask, *r;
	bool wr;

	*val = 0;
	if (check_access(off, size))
		return -EINVAL;
	if (!map_offset(&off))
		return 0;
	r = reg64(v, off & ~7ULL, &wmask, &wr);
	if (r) {
		*val = size == 8 ? *r : (uint32_t)(*r >> (8 * (off & 4)));
		return 0;
	}
	if (size == 8)
		return wide_absent(off) ? 0 : -EINVAL;
	*val = reg32_read(v, off);
	return 0;
}

int vsmmuv3_mmio_write(struct vsmmuv3 *v, uint64_t off, unsigned int size, uint64_t val)
{
	uint64_t wmask, *r;
	bool wr;

	if (check_access(off, size))
		return -EINVAL;
	if (!map_offset(&off))
		return 0;
	r = reg64(v, off & ~7ULL, &wmask, &wr);
	if (r) {
		if (!wr)
			return 0;
		if (size == 4) {
			unsigned int sh = 8 * (off & 4);

			val = (*r & ~(0xffffffffULL << sh)) | ((val & 0xffffffffULL) << sh);
		}
		*r = val & wmask;
		return 0;
	}
	if (size == 8)
		return wide_absent(off) ? 0 : -EINVAL;
	return reg32_write(v, off, (uint32_t)val);
}

/* ---------------------------------------------------------------------- */
/* Events                                                                 */

int vsmmuv3_poll_events(struct vsmmuv3 *v)
{
	struct {
		struct iommufd_vevent_header hdr;
		struct iommu_vevent_arm_smmuv3 rec;
	} buf;
	uint64_t before = v->st.events, before_pri;
	ssize_t n = 0;
	int ret;

	while (v->veventq && (n = uiommu_read(v->veventq, &buf, sizeof(buf))) > 0) {
		uint64_t rec[4];

		if ((buf.hdr.flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS) || n < (ssize_t)sizeof(buf)) {
			/* Records the host dropped are lost to the guest too. */
			if (v->cr0 & VSMMUV3_CR0_EVENTQEN)
				evtq_overflow(v);
			else
				v->st.events_lost++;
			continue;
		}
		for (unsigned int i = 0; i < 4; i++)
			rec[i] = le64toh(buf.rec.evt[i]);
		vsmmuv3_evtq_put(v, rec);
	}
	if (n < 0) {
		ret = -errno;
		evtq_signal(v);
		return ret;
	}
	/* Page requests: stalls go to the event queue (counted in events), PRI to the PRI queue. */
	before_pri = v->st.pri_reqs;
	ret = vsmmuv3_poll_faults(v);
	evtq_signal(v);
	if (ret < 0)
		return ret;
	return (int)(v->st.events - before + v->st.pri_reqs - before_pri);
}

int vsmmuv3_event_fd(const struct vsmmuv3 *v)
{
	return v->veventq ? uiommu_file_fd(v->veventq) : -1;
}

int vsmmuv3_fault_fd(const struct vsmmuv3 *v)
{
	return v->fault ? uiommu_file_fd(v->fault) : -1;
}

void vsmmuv3_get_stats(const struct vsmmuv3 *v, struct vsmmuv3_stats *st)
{
	*st = v->st;
}

uint32_t vsmmuv3_ep_hwpt(const struct vsmmuv3 *v, unsigned int ep)
{
	return ep < v->nr ? v->ep[ep].hwpt : 0;
}

uint32_t vsmmuv3_viommu_id(const struct vsmmuv3 *v)
{
	return v->viommu;
}

/* ---------------------------------------------------------------------- */
/* Creation                                                               */

/* The guest's IDRs: the host's, masked to what the front end implements. */
static int derive_idr(struct vsmmuv3 *v, const struct iommu_hw_info_arm_smmuv3 *hi)
{
	uint32_t h0 = hi->idr[0], ttf = (h0 >> IDR0_TTF_SHIFT) & 3;
	uint32_t endian = (h0 >> IDR0_TTENDIAN_SHIFT) & 3;
	uint32_t ssid = IDR1_SSIDSIZE(hi->idr[1]);
	uint32_t stall = (h0 & IDR0_STALL_MASK) >> IDR0_STALL_SHIFT;

	if (!(h0 & IDR0_S1P) || !(h0 & IDR0_S2P) || !(ttf & 2) || endian == 3)
		return -EOPNOTSUPP;
	/* Stalls as the host has them (a reserved model: none); ATS and PRI as the host. */
	if (stall != STALL_MODEL_BOTH && stall != STALL_MODEL_FORCED)
		stall = STALL_MODEL_NONE;
	v->idr[0] = IDR0_S1P | 2u << IDR0_TTF_SHIFT | (h0 & (IDR0_COHACC | IDR0_ASID16)) |
		    (h0 & IDR0_ATS) | IDR0_MSI | (h0 & IDR0_PRI) | (h0 & IDR0_CD2L) |
		    2u << IDR0_TTENDIAN_SHIFT | stall << IDR0_STALL_SHIFT | (h0 & IDR0_TERM_MODEL) |
		    IDR0_STLEVEL_2LVL;
	v->idr[1] = VSMMUV3_SIDSIZE | (ssid > 20 ? 20 : ssid) << 6 |
		    (h0 & IDR0_PRI ? VSMMUV3_QUEUE_LOG2 << 11 : 0) | VSMMUV3_QUEUE_LOG2 << 16 |
		    VSMMUV3_QUEUE_LOG2 << 21;
	v->idr[2] = 0;
	v->idr[3] = hi->idr[3] & IDR3_RIL;
	v->idr[4] = 0;
	v->idr[5] = hi->idr[5] & (IDR5_OAS_MASK | IDR5_GRAN_MASK);
	v->iidr = 0;
	v->aidr = hi->aidr & 0xff;
	return 0;
}

static int check_params(const struct vsmmuv3_params *p)
{
	if (!p->iommufd || !p->gm || !p->eps || !p->nr_eps || p->nr_eps > VSMMUV3_MAX_EPS)
		return -EINVAL;
	for (unsigned int i = 0; i < p->nr_eps; i++) {
		if (p->eps[i].vsid >> VSMMUV3_SIDSIZE || (!p->eps[i].cdev && !p->attach))
			return -EINVAL;
		for (unsigned int j = 0; j < i; j++)
			if (p->eps[j].vsid == p->eps[i].vsid)
				return -EINVAL;
	}
	return 0;
}

int vsmmuv3_create(const struct vsmmuv3_params *p, struct vsmmuv3 **out)
{
	struct iommu_hw_info_arm_smmuv3 hi = {0};
	struct iommu_hw_info info = {.size = sizeof(info), .data_len = sizeof(hi)};
	struct iommu_viommu_alloc va = {.size = sizeof(va), .type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3};
	struct vsmmuv3 *v;
	int ret;

	*out = NULL;
	ret = check_params(p);
	if (ret)
		return ret;
	v = uzalloc(sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->p = *p;
	v->p.eps = NULL;
	v->nr = p->nr_eps;
	for (unsigned int i = 0; i < v->nr; i++)
		v->ep[i].ep = p->eps[i];
	v->gbpa = p->gbpa_bypass_at_reset ? 0 : VSMMUV3_GBPA_ABORT;

	info.dev_id = p->eps[0].dev_id;
	info.data_uptr = (uintptr_t)&hi;
	ret = ioc(v, IOMMU_GET_HW_INFO, &info);
	if (!ret && info.out_data_type != IOMMU_HW_INFO_TYPE_ARM_SMMUV3)
		ret = -EOPNOTSUPP;
	if (!ret)
		ret = derive_idr(v, &hi);
	if (ret)
		goto fail;
	va.dev_id = p->eps[0].dev_id;
	va.hwpt_id = p->s2_hwpt;
	ret = ioc(v, IOMMU_VIOMMU_ALLOC, &va);
	if (ret)
		goto fail;
	v->viommu = va.out_viommu_id;
	for (unsigned int i = 0; i < v->nr; i++) {
		struct iommu_vdevice_alloc vd = {
			.size = sizeof(vd),
			.viommu_id = v->viommu,
			.dev_id = v->ep[i].ep.dev_id,
			.virt_id = v->ep[i].ep.vsid,
		};

		ret = ioc(v, IOMMU_VDEVICE_ALLOC, &vd);
		if (ret)
			goto fail;
		v->ep[i].vdev_id = vd.out_vdevice_id;
	}
	/* The vSTEs of GBPA (and of abort / bypass STEs): V = 1, Config abort or bypass. */
	ret = nested_alloc(v, 0, STE0_V, 0, false, &v->abort_hwpt);
	if (!ret)
		ret = nested_alloc(v, 0, STE0_V | (uint64_t)STE_CFG_BYPASS << 1, 0, false,
				   &v->bypass_hwpt);
	if (!ret)
		ret = configure_all(v);
	if (ret)
		goto fail;
	*out = v;
	return 0;
fail:
	vsmmuv3_destroy(v);
	return ret;
}

void vsmmuv3_destroy(struct vsmmuv3 *v)
{
	if (!v)
		return;
	for (unsigned int i = 0; i < v->nr; i++) {
		if (v->ep[i].hwpt)
			ep_attach(v, i, 0);
		destroy_id(v, v->ep[i].nested);
	}
	destroy_id(v, v->abort_hwpt);
	destroy_id(v, v->bypass_hwpt);
	vsmmuv3_fault_free(v); /* after every HWPT that named it */
	for (unsigned int i = 0; i < v->nr; i++)
		destroy_id(v, v->ep[i].vdev_id);
	if (v->veventq)
		uiommu_close(v->veventq);
	destroy_id(v, v->veventq_id);
	destroy_id(v, v->viommu);
	ufree(v);
}
