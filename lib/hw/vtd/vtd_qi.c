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
 *   0x3 device-TLB, 0x8 PASID-based device-TLB: no ATS, nothing to do.
 *   0x4 interrupt entry cache: no interrupt remapping, nothing to do.
 *   0x5 wait: SW writes the status data to the status address; IF sets
 *       ICS.IWC and, when it was clear, raises an invalidation completion
 *       event; FN / PD need nothing (descriptors run in order, no page
 *       requests).
 *   0x6 PASID-based IOTLB: G 2 every entry of (DID, PASID); G 3 2^AM
 *       pages at ADDR in (DID, PASID), IH leaf-only. G 0 / 1 invalid.
 *       Second-stage-only entries are not tagged with a PASID and stay.
 *   0x7 PASID-cache: G 0 domain, 1 PASID-selective, 3 global -> every
 *       decoded entry. G 2 invalid.
 *   anything else (page responses without PRS included) is invalid.
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
	case VTD_INV_P_DEV_TLB:
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
