// SPDX-License-Identifier: MIT
/*
 * vtd_qi.c - the invalidation queue: descriptors from IQH to IQT and what
 * each does to the caches.
 *
 * Queue (VT-d spec §6.5.2): IQA gives the base, the descriptor width (DW:
 * 128-bit, or 256-bit with the legacy descriptors in the low half and the
 * high half reserved) and the size (QS: 4 KiB << QS). IQH and IQT are
 * byte offsets ([18:4]). A write to IQT with QIES set and IQE clear runs
 * the queue at once, under the instance lock: each descriptor is read,
 * checked and acted on, and IQH moves past it. A descriptor that is
 * invalid - unknown type, a reserved granularity, a reserved bit set, an
 * address mask above CAP.MAMV, a 256-bit descriptor's high half non-zero,
 * a read or status write outside memory - or an IQT that is beyond the
 * queue or, with DW = 1, not 256-bit aligned, stops the queue: FSTS.IQE is
 * set (a fault event), IQH stays at the descriptor, and nothing after it
 * runs until software clears IQE (write 1 to FSTS.IQE), which resumes at
 * IQH. IQERCD is not modelled (reads 0).
 *
 * Descriptors and their effect (reference hw.md §2.3). The configuration
 * cache holds decoded context + PASID entries together, keyed by (SID,
 * PASID), so the context-cache and PASID-cache invalidations drop what
 * they name or more (more is always architecturally correct):
 *   0x1 context-cache: G 1 global, 2 domain -> every decoded entry; G 3
 *       device -> the entries of SID (with FM masking function bits 2,
 *       2:1 or 2:0); G 0 invalid.
 *   0x2 IOTLB: G 1 global -> xlate_inv_all (which drops the decoded
 *       context / PASID entries too); G 2 domain -> xlate_inv_vmid
 *       (DID); G 3 page-selective -> 2^AM pages at ADDR (aligned down to
 *       the size) for every PASID of the DID, both as input addresses
 *       (first-stage and nested entries) and as second-stage input
 *       addresses (IPA cache, second-stage walk and IOTLB entries, and,
 *       since a nested translation is cached under its first-stage
 *       address, every nested translation of the DID: the cache runs
 *       with ipa_inval_conservative); IH
 *       keeps the walk caches (leaf-only). G 0 invalid.
 *   0x3 device-TLB: PFSID [15:12] + [63:52] and MIP [20:16] (ignored:
 *       no DIT), SID [47:32]; qword 1 ADDR [63:12] with S (bit 0):
 *       without S one page, with S the size is 8 KiB << (the number of
 *       ones from ADDR bit 12 up), and ones up to bit 62 mean everything;
 *       reserved qword 0 [8:4], [31:21], [51:48], qword 1 [11:1]. Sent to
 *       the device as an ATS Invalidate Request without PASID
 *       (params.dev_msg) when the unit has device TLBs (ECAP.DT), else
 *       invalid.
 *   0x8 PASID-based device-TLB: MIP [8:4], PFSID, SID [31:16], PASID
 *       [51:32]; qword 1 G (bit 0, every PASID), S (bit 11), ADDR
 *       [63:12]; reserved qword 1 [10:1]. The same, with the PASID.
 *   0x4 interrupt entry cache: no interrupt remapping, nothing to do.
 *   0x5 wait: SW writes the status data to the status address; IF sets
 *       ICS.IWC and, when it was clear, raises an invalidation completion
 *       event; FN / PD need nothing (descriptors run in order, and page
 *       requests are written to the page request queue as they arrive,
 *       so a drain has nothing in flight to wait for).
 *   0x6 PASID-based IOTLB: G 2 every entry of (DID, PASID); G 3 2^AM
 *       pages at ADDR in (DID, PASID), IH leaf-only. G 0 / 1 invalid.
 *       Second-stage-only entries are not tagged with a PASID and stay.
 *   0x7 PASID-cache: G 0 domain, 1 PASID-selective, 3 global -> every
 *       decoded entry. G 2 invalid.
 *   0x9 page group response (with ECAP.PRS, else invalid): PASID
 *       present 4, response code [15:12], RID [31:16], PASID [51:32];
 *       qword 1 LPIG 2, PRGI [11:3]; reserved qword 0 [11:5] but type,
 *       qword 1 [1:0], [63:12]. Sent to the device as a PRG Response
 *       Message (params.dev_msg).
 *   anything else is invalid.
 * Every context-cache and PASID-cache invalidation advances the
 * configuration generation, so a request that was decoding while it ran
 * decodes again.
 */
#include <string.h>

#include "hw/vtd/vtd_priv.h"

static void cfg_changed(struct vtd *v)
{
	__atomic_add_fetch(&v->cfg_gen, 1, __ATOMIC_RELEASE);
}

static bool inv_cc(struct vtd *v, uint64_t q0, uint64_t q1)
{
	unsigned int g = (unsigned int)VTD_BITS(q0, 5, 4);

	if (!g || (q0 & (VTD_MASK(8, 6) | VTD_MASK(15, 12) | VTD_MASK(63, 50))) || q1)
		return false;
	if (v->cache) {
		if (g == 3) {
			uint16_t sid = (uint16_t)VTD_BITS(q0, 47, 32);
			unsigned int fm = (unsigned int)VTD_BITS(q0, 49, 48);
			/* FM 01: function bit 2, 10: bits 2:1, 11: bits 2:0 are ignored. */
			uint16_t mask = fm == 1 ? 0x4 : fm == 2 ? 0x6 : fm == 3 ? 0x7 : 0;

			for (uint16_t f = 0; f < 8; f++)
				if (!(f & ~mask))
					xlate_cfgc_inv(v->cache, (uint16_t)((sid & ~mask) | f),
						       UINT32_MAX);
		} else {
			xlate_cfgc_inv_all(v->cache);
		}
	}
	cfg_changed(v);
	return true;
}

static bool inv_iotlb(struct vtd *v, uint64_t q0, uint64_t q1)
{
	unsigned int g = (unsigned int)VTD_BITS(q0, 5, 4), am = (unsigned int)VTD_BITS(q1, 5, 0);
	uint16_t did = (uint16_t)VTD_BITS(q0, 31, 16);
	uint64_t size = 4096ULL << am, addr = q1 & VTD_MASK(63, 12) & ~(size - 1);
	unsigned int flags = q1 & (1ULL << 6) ? XLATE_INV_LEAF : 0;

	if (!g || (q0 & (1ULL << 8 | VTD_MASK(15, 12) | VTD_MASK(63, 32))) ||
	    (q1 & VTD_MASK(11, 7)) || am > VTD_MAMV)
		return false;
	if (!v->cache)
		return true;
	if (g == 1) {
		xlate_inv_all(v->cache);
	} else if (g == 2) {
		xlate_inv_vmid(v->cache, did);
	} else {
		xlate_inv_range(v->cache, did, XLATE_ANY_ASID, addr, size, flags, -1);
		xlate_inv_ipa(v->cache, did, addr, size, flags, -1);
	}
	return true;
}

static bool inv_p_iotlb(struct vtd *v, uint64_t q0, uint64_t q1)
{
	unsigned int g = (unsigned int)VTD_BITS(q0, 5, 4), am = (unsigned int)VTD_BITS(q1, 5, 0);
	uint16_t did = (uint16_t)VTD_BITS(q0, 31, 16);
	uint32_t pasid = (uint32_t)VTD_BITS(q0, 51, 32);
	uint64_t size = 4096ULL << am, addr = q1 & VTD_MASK(63, 12) & ~(size - 1);

	if (g < 2 || (q0 & (VTD_MASK(8, 6) | VTD_MASK(15, 12) | VTD_MASK(63, 52))) ||
	    (q1 & VTD_MASK(11, 7)) || am > VTD_MAMV)
		return false;
	if (!v->cache)
		return true;
	if (g == 2)
		xlate_inv_asid(v->cache, did, pasid);
	else
		xlate_inv_range(v->cache, did, pasid, addr, size,
				q1 & (1ULL << 6) ? XLATE_INV_LEAF : 0, -1);
	return true;
}

static bool inv_pc(struct vtd *v, uint64_t q0, uint64_t q1)
{
	unsigned int g = (unsigned int)VTD_BITS(q0, 5, 4);

	if (g == 2 || (q0 & (VTD_MASK(8, 6) | VTD_MASK(15, 12) | VTD_MASK(63, 52))) || q1)
		return false;
	if (v->cache)
		xlate_cfgc_inv_all(v->cache);
	cfg_changed(v);
	return true;
}

static bool inv_wait(struct vtd *v, uint64_t q0, uint64_t q1)
{
	if ((q0 & (1ULL << 8 | VTD_MASK(31, 12))) || (q1 & 3))
		return false;
	if ((q0 & (1ULL << 5)) && !vtd_write32(v, q1, (uint32_t)(q0 >> 32)))
		return false;
	if (q0 & (1ULL << 4)) {
		bool was = v->ics & VTD_ICS_IWC;

		v->ics |= VTD_ICS_IWC;
		if (!was)
			vtd_event(v, VTD_IRQ_INV);
	}
	return true;
}

/* The range an ATS invalidation's ADDR with S names (size 0: everything). */
static void ats_range(uint64_t q1, bool s, uint64_t *addr, uint64_t *size)
{
	uint64_t a = q1 & VTD_MASK(63, 12);
	unsigned int ones;

	if (!s) {
		*addr = a;
		*size = 4096;
		return;
	}
	ones = (unsigned int)__builtin_ctzll(~(a >> 12) | (1ULL << 52));
	if (ones >= 51) {
		*addr = 0;
		*size = 0;
		return;
	}
	*size = 8192ULL << ones;
	*addr = a & ~(*size - 1);
}

static bool inv_dev_tlb(struct vtd *v, uint64_t q0, uint64_t q1)
{
	struct vtd_dev_msg m = {.type = VTD_MSG_ATS_INV, .sid = (uint16_t)VTD_BITS(q0, 47, 32)};

	if (!v->p.ats || (q0 & (VTD_MASK(8, 4) | VTD_MASK(31, 21) | VTD_MASK(51, 48))) ||
	    (q1 & VTD_MASK(11, 1)))
		return false;
	ats_range(q1, q1 & 1, &m.addr, &m.size);
	vtd_dev_send(v, &m);
	return true;
}

static bool inv_p_dev_tlb(struct vtd *v, uint64_t q0, uint64_t q1)
{
	struct vtd_dev_msg m = {.type = VTD_MSG_ATS_INV,
				.sid = (uint16_t)VTD_BITS(q0, 31, 16),
				.pasid_valid = true,
				.pasid = (uint32_t)VTD_BITS(q0, 51, 32),
				.global = q1 & 1};

	if (!v->p.ats || (q1 & VTD_MASK(10, 1)))
		return false;
	ats_range(q1, q1 & (1ULL << 11), &m.addr, &m.size);
	vtd_dev_send(v, &m);
	return true;
}

static bool pgrp_resp(struct vtd *v, uint64_t q0, uint64_t q1)
{
	struct vtd_dev_msg m = {.type = VTD_MSG_PRG_RESP,
				.sid = (uint16_t)VTD_BITS(q0, 31, 16),
				.pasid_valid = q0 & (1ULL << 4),
				.pasid = (uint32_t)VTD_BITS(q0, 51, 32),
				.prgi = (uint16_t)VTD_BITS(q1, 11, 3),
				.code = (uint8_t)VTD_BITS(q0, 15, 12)};

	if (!v->p.prs || (q0 & (VTD_MASK(8, 5) | VTD_MASK(63, 52))) ||
	    (q1 & (VTD_MASK(1, 0) | VTD_MASK(63, 12))))
		return false;
	v->stats.prg_resps++;
	vtd_dev_send(v, &m);
	return true;
}

/* Act on one descriptor; false when it is invalid. */
static bool run_desc(struct vtd *v, const uint64_t *q, bool dw)
{
	unsigned int type = (unsigned int)(VTD_BITS(q[0], 3, 0) | VTD_BITS(q[0], 11, 9) << 4);

	if (dw && (q[2] || q[3]))
		return false;
	switch (type) {
	case VTD_INV_CC:
		return inv_cc(v, q[0], q[1]);
	case VTD_INV_IOTLB:
		return inv_iotlb(v, q[0], q[1]);
	case VTD_INV_DEV_TLB:
		return inv_dev_tlb(v, q[0], q[1]);
	case VTD_INV_P_DEV_TLB:
		return inv_p_dev_tlb(v, q[0], q[1]);
	case VTD_INV_PGRP_RESP:
		return pgrp_resp(v, q[0], q[1]);
	case VTD_INV_IEC:
		return true;
	case VTD_INV_WAIT:
		return inv_wait(v, q[0], q[1]);
	case VTD_INV_P_IOTLB:
		return inv_p_iotlb(v, q[0], q[1]);
	case VTD_INV_PC:
		return inv_pc(v, q[0], q[1]);
	default:
		return false;
	}
}

static void queue_error(struct vtd *v)
{
	v->fsts |= VTD_FSTS_IQE;
	v->stats.iqe++;
	vtd_event(v, VTD_IRQ_FAULT);
}

void vtd_qi_run(struct vtd *v)
{
	bool dw = v->iqa & VTD_IQA_DW;
	uint64_t qbytes = 4096ULL << (v->iqa & 7), base = v->iqa & VTD_MASK(VTD_HAW - 1, 12);
	unsigned int dsize = dw ? 32 : 16;

	if (v->iqt >= qbytes || (dw && (v->iqt & 0x10)) || v->iqh >= qbytes) {
		queue_error(v);
		return;
	}
	while (v->iqh != v->iqt) {
		uint64_t q[4] = {0};

		if (!vtd_read_qw(v, base + v->iqh, q, dsize / 8) || !run_desc(v, q, dw)) {
			queue_error(v);
			return;
		}
		v->stats.descs++;
		v->iqh = (v->iqh + dsize) % qbytes;
	}
}

/* ---------------------------------------------------------------------- */
/* Register-based invalidation: the same work as the matching descriptor  */

void vtd_reg_inv_cc(struct vtd *v, uint64_t ccmd)
{
	uint64_t g = VTD_BITS(ccmd, 62, 61);

	if (!g)
		return;
	v->stats.reg_invs++;
	inv_cc(v,
	       VTD_INV_CC | g << 4 | VTD_BITS(ccmd, 15, 0) << 16 | VTD_BITS(ccmd, 31, 16) << 32 |
		       VTD_BITS(ccmd, 33, 32) << 48,
	       0);
}

void vtd_reg_inv_iotlb(struct vtd *v, uint64_t iotlb, uint64_t iva)
{
	uint64_t g = VTD_BITS(iotlb, 61, 60), am = VTD_BITS(iva, 5, 0);

	if (!g || (g == 3 && am > VTD_MAMV))
		return;
	v->stats.reg_invs++;
	inv_iotlb(v, VTD_INV_IOTLB | g << 4 | VTD_BITS(iotlb, 47, 32) << 16,
		  g == 3 ? iva & (VTD_MASK(63, 12) | VTD_MASK(6, 0)) : 0);
}
