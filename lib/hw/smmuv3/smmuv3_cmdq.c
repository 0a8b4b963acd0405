// SPDX-License-Identifier: MIT
/*
 * smmuv3_cmdq.c - the command queue: consumption and each command's effect.
 *
 * What it owns. Reading commands between CMDQ_CONS and CMDQ_PROD when the
 * driver moves PROD (or enables the queue, or acknowledges CMDQ_ERR),
 * decoding them, and applying them to the translation caches: CFGI_* to
 * the configuration cache (decoded STE/CD), TLBI_* to the IOTLB, walk
 * caches and IPA cache, CMD_SYNC's completion signal.
 *
 * Architecture (IHI 0070 §4): commands are consumed in order; CONS moves
 * past a command once it has taken effect, so when CMD_SYNC is consumed
 * everything before it is visible. An opcode the model does not know, a
 * command for a stage that is not implemented, SSec = 1, CMD_SYNC with a
 * reserved CS, or reserved TG encodings are CERROR_ILL; a queue read that
 * aborts is CERROR_ABT. On an error consumption stops with CONS at the
 * failing command, CMDQ_CONS.ERR holds the reason and GERROR.CMDQ_ERR is
 * toggled (interrupt if enabled); GERRORN resumes it.
 *
 * Invalidation scope: lib/xlate's calls may invalidate more than asked
 * (always allowed). TLBI_NH_ALL drops the VMID's entries of both stages;
 * TLBI_NH_ASID the ASID's in that VMID; TLBI_NH_VA / VAA the range (any
 * ASID for VAA), honouring Leaf and the TTL hint; TLBI_S12_VMALL the
 * VMID; TLBI_S2_IPA stage-2 state of the IPA range (combined entries are
 * by the architecture removed only by a following NH/S12 invalidation);
 * TLBI_NSNH_ALL everything (the configuration cache included). CFGI_STE
 * drops the stream's configurations (all substreams); CFGI_STE_RANGE the
 * 2^(Range+1) aligned streams (Range 31: all, CFGI_ALL); CFGI_CD the
 * substream's and the no-substream entry of the stream; CFGI_CD_ALL all
 * substreams of the stream.
 *
 * Configuration invalidations also advance the instance's configuration
 * generation, which makes a transaction that was decoding an STE or CD
 * while the command ran decode again: once CMD_SYNC completes, no
 * transaction can be using a structure torn between old and new, as the
 * architecture promises (smmuv3_ste.c).
 *
 * Stage 1 through TTB1 is cached under ASID | SMMU_TAG_TTB1 (see
 * smmuv3.h): TLBI_NH_ASID drops both tags; TLBI_NH_VA / VAA of a VA
 * whose bit 55 is 1 (a TTB1-range VA, the top byte ignored) reach TTB1's
 * entries (inv_va).
 *
 * Range invalidation (SMMUv3.2 RIL): TG = 0 names one address (any leaf
 * containing it); TG != 0 names (NUM + 1) << SCALE pages of the granule
 * TG selects (1: 4K, 2: 16K, 3: 64K), TTL the leaf level (0: unknown).
 *
 * Stall (when the instance has it): CMD_RESUME answers the stalled
 * transaction (SID, STAG) with its Action (Retry, or Abort / Terminate,
 * which TERM_MODEL = 1 makes the same abort; Action 0b11 is CERROR_ILL); a
 * RESUME naming no waiting transaction is ignored. CMD_STALL_TERM aborts
 * every stalled transaction of the SID. Without stall (STALL_MODEL 0b01)
 * both are CERROR_ILL (§4.7.1, §4.7.2: "not available").
 *
 * PRI (§4.5.2): CMD_PRI_RESP sends a PRG Response Message to (SID, and
 * SubstreamID when SSV) for PRGIndex [8:0] of qword 1, with Resp [13:12]
 * of qword 1: 0b00 Response Failure, 0b01 Invalid Request, 0b10 Success;
 * 0b11 is CERROR_ILL, as is the command on an SMMU without PRI. With
 * SMMUEN = 0 it is IGNORED. SSV = 1 on an SMMU without substreams acts as
 * SSV = 0 (one of the two CONSTRAINED UNPREDICTABLE choices).
 *
 * ATS (§4.5.1): CMD_ATC_INV (SSV 11, SubstreamID [31:12], Global 9, SID
 * [63:32]; qword 1 Size [5:0], Address [63:12]) is an ATS Invalidate
 * Request for 4096 << Size bytes aligned to their size (Size 52: all).
 * Without ATS it is CERROR_ILL; so is Size > 52 (permitted); with SMMUEN
 * = 0 it is IGNORED; Global counts only with SSV. Its consumption does not
 * complete it: the request is held and sent when the next CMD_SYNC is
 * consumed (before the SYNC's own signal), or earlier when
 * SMMU_ATC_PENDING requests are already held (sending early is always
 * allowed). An endpoint that does not complete one (the callback says
 * -ETIMEDOUT) makes that CMD_SYNC fail with CERROR_ATC_INV_SYNC, CONS
 * left at the SYNC, as the architecture describes for an ATS timeout.
 *
 * Accepted as no-ops: PREFETCH_CONFIG / PREFETCH_ADDR (prefetches are
 * hints).
 *
 * Concurrency: runs under the instance lock, so invalidations never run
 * concurrently with each other (as lib/xlate requires).
 */
#include <string.h>

#include "hw/smmuv3/smmuv3_priv.h"

/*
 * TLBI_NH_VA / VAA of [addr, addr + size): bit 55 names the range (the
 * top byte is ignored, as TBI may have made it a tag). A TTB0-range VA is
 * the walk's input as it is, the top byte cleared. A TTB1-range VA was
 * walked as its low IAS bits under ASID | SMMU_TAG_TTB1, and the command
 * does not say the CD's T1SZ: the VA is invalidated at every IAS a TTB1
 * walk has used (s->ttb1_ias_seen) for which it is in TTB1's range (bits
 * [63:ias] all 1), which is more than asked only for contexts of that
 * ASID (allowed). The fence pairs with the translation's RMW that sets an
 * IAS's bit before its walk: either this reads the bit, or that walk
 * starts after the table update this invalidation follows.
 */
static void inv_va(struct smmuv3 *s, uint16_t vmid, uint32_t asid, uint64_t addr, uint64_t size,
		   unsigned int flags, int lvl)
{
	const uint64_t top = SMMU_MASK(63, 56);
	uint64_t seen;

	if (!(addr >> 55 & 1)) {
		xlate_inv_range(s->cache, vmid, asid, addr & ~top, size, flags, lvl);
		return;
	}
	addr |= top;
	if (asid != XLATE_ANY_ASID)
		asid |= SMMU_TAG_TTB1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	seen = __atomic_load_n(&s->ttb1_ias_seen, __ATOMIC_RELAXED);
	for (; seen; seen &= seen - 1) {
		unsigned int ias = (unsigned int)__builtin_ctzll(seen);
		uint64_t in = addr & ((1ULL << ias) - 1), room = (1ULL << ias) - in;

		if (~addr >> ias)
			continue;
		xlate_inv_range(s->cache, vmid, asid, in, size < room ? size : room, flags, lvl);
	}
}

static void inv_range(struct smmuv3 *s, bool ipa, uint16_t vmid, uint32_t asid,
		      const uint64_t cmd[2])
{
	unsigned int num = SMMU_BITS(cmd[0], 16, 12), scale = SMMU_BITS(cmd[0], 24, 20);
	unsigned int tg = SMMU_BITS(cmd[1], 11, 10), ttl = SMMU_BITS(cmd[1], 9, 8);
	unsigned int flags = (cmd[1] & 1) ? XLATE_INV_LEAF : 0;
	uint64_t addr = cmd[1] & SMMU_MASK(63, 12), size;
	int lvl = -1;

	if (tg) {
		unsigned int shift = 10 + 2 * tg; /* 1: 4K, 2: 16K, 3: 64K */

		addr &= ~((1ULL << shift) - 1);
		/* at most 32 << (31 + 16) bytes: no overflow */
		size = ((uint64_t)num + 1) << (scale + shift);
		if (ttl)
			lvl = (int)ttl;
	} else {
		size = 1ULL << 12;
	}
	if (!s->cache)
		return;
	if (ipa)
		xlate_inv_ipa(s->cache, vmid, addr, size, flags, lvl);
	else
		inv_va(s, vmid, asid, addr, size, flags, lvl);
}

static void cfgi_ste_range(struct smmuv3 *s, uint32_t sid, unsigned int range)
{
	uint64_t n, first;

	if (!s->cache)
		return;
	if (range >= 31 || range + 1 >= s->p.sidsize || range >= 12) {
		xlate_cfgc_inv_all(s->cache); /* more than asked: allowed */
		return;
	}
	n = 1ULL << (range + 1);
	first = sid & ~(n - 1);
	for (uint64_t i = 0; i < n; i++)
		xlate_cfgc_inv(s->cache, (uint32_t)(first + i), UINT32_MAX);
}

bool smmuv3_atc_flush(struct smmuv3 *s)
{
	bool ok = !s->atc_timeout;

	for (unsigned int i = 0; i < s->nr_atc_pending; i++) {
		s->stats.atc_invs++;
		if (s->p.atc_inv && s->p.atc_inv(s->p.ep_opaque, &s->atc_pending[i]))
			ok = false;
	}
	s->nr_atc_pending = 0;
	s->atc_timeout = false;
	return ok;
}

/* CMD_ATC_INV: held until the next CMD_SYNC. */
static enum smmuv3_cerror atc_inv(struct smmuv3 *s, const uint64_t cmd[2])
{
	bool ssv = (cmd[0] >> 11 & 1) && s->p.ssidsize;
	unsigned int size = SMMU_BITS(cmd[1], 5, 0);

	if (!s->p.ats || size > 52)
		return SMMU_CERROR_ILL;
	if (!(s->cr0 & SMMU_CR0_SMMUEN))
		return SMMU_CERROR_NONE; /* IGNORED */
	if (s->nr_atc_pending == SMMU_ATC_PENDING && !smmuv3_atc_flush(s))
		s->atc_timeout = true; /* reported by the next CMD_SYNC */
	s->atc_pending[s->nr_atc_pending++] = (struct smmuv3_atc_inv){
		.sid = (uint32_t)(cmd[0] >> 32),
		.ssid = ssv ? (uint32_t)SMMU_BITS(cmd[0], 31, 12) : SMMU_NO_SSID,
		.global = ssv && (cmd[0] >> 9 & 1),
		.size_log2 = size,
		/* Address[11 + Size:0] taken as zero. */
		.addr = size >= 52 ? 0 : cmd[1] & ~((4096ULL << size) - 1),
	};
	return SMMU_CERROR_NONE;
}

/* CMD_PRI_RESP: a PRG Response Message to the endpoint. */
static enum smmuv3_cerror pri_resp(struct smmuv3 *s, const uint64_t cmd[2])
{
	static const uint8_t code[3] = { SMMU_PRG_FAILURE, SMMU_PRG_INVALID, SMMU_PRG_SUCCESS };
	unsigned int resp = SMMU_BITS(cmd[1], 13, 12);
	bool ssv = (cmd[0] >> 11 & 1) && s->p.ssidsize;
	struct smmuv3_prg_resp r = {
		.sid = (uint32_t)(cmd[0] >> 32),
		.ssid = ssv ? (uint32_t)SMMU_BITS(cmd[0], 31, 12) : SMMU_NO_SSID,
		.prgi = (uint16_t)SMMU_BITS(cmd[1], 8, 0),
	};

	if (!s->p.pri || resp == 3)
		return SMMU_CERROR_ILL;
	if (!(s->cr0 & SMMU_CR0_SMMUEN))
		return SMMU_CERROR_NONE; /* IGNORED */
	r.code = code[resp];
	s->stats.prg_resps++;
	if (s->p.prg_resp)
		s->p.prg_resp(s->p.ep_opaque, &r);
	return SMMU_CERROR_NONE;
}

/* Execute one command; CERROR_NONE or the error that stops the queue. */
static enum smmuv3_cerror cmd_exec(struct smmuv3 *s, const uint64_t cmd[2])
{
	unsigned int op = cmd[0] & 0xff;
	uint32_t sid = (uint32_t)(cmd[0] >> 32);
	uint16_t vmid = (uint16_t)(cmd[0] >> 32);
	uint16_t asid = (uint16_t)(cmd[0] >> 48);
	struct xlate_cache *c = s->cache;

	if (cmd[0] >> 10 & 1) /* SSec: Secure commands on the Non-secure queue */
		return SMMU_CERROR_ILL;
	switch (op) {
	case SMMU_CMD_CFGI_STE:
	case SMMU_CMD_CFGI_STE_RANGE:
	case SMMU_CMD_CFGI_CD:
	case SMMU_CMD_CFGI_CD_ALL:
	case SMMU_CMD_TLBI_NSNH_ALL:
		/* Decodes in flight start over: see smmuv3_translate(). */
		__atomic_add_fetch(&s->cfg_gen, 1, __ATOMIC_RELEASE);
		break;
	default:
		break;
	}
	switch (op) {
	case SMMU_CMD_PREFETCH_CONFIG:
	case SMMU_CMD_PREFETCH_ADDR:
		return SMMU_CERROR_NONE;
	case SMMU_CMD_CFGI_STE:
		if (c)
			xlate_cfgc_inv(c, sid, UINT32_MAX);
		return SMMU_CERROR_NONE;
	case SMMU_CMD_CFGI_STE_RANGE:
		cfgi_ste_range(s, sid, cmd[1] & 0x1f);
		return SMMU_CERROR_NONE;
	case SMMU_CMD_CFGI_CD:
		if (c) {
			xlate_cfgc_inv(c, sid, SMMU_BITS(cmd[0], 31, 12));
			xlate_cfgc_inv(c, sid, SMMU_CFGC_NO_SSID);
		}
		return SMMU_CERROR_NONE;
	case SMMU_CMD_CFGI_CD_ALL:
		if (c)
			xlate_cfgc_inv(c, sid, UINT32_MAX);
		return SMMU_CERROR_NONE;
	case SMMU_CMD_TLBI_NH_ALL:
	case SMMU_CMD_TLBI_NH_ASID:
	case SMMU_CMD_TLBI_NH_VA:
	case SMMU_CMD_TLBI_NH_VAA:
		if (!s->p.s1p)
			return SMMU_CERROR_ILL;
		if (!s->p.s2p)
			vmid = 0;
		if (op == SMMU_CMD_TLBI_NH_ALL) {
			if (c)
				xlate_inv_vmid(c, vmid);
		} else if (op == SMMU_CMD_TLBI_NH_ASID) {
			if (c) {
				xlate_inv_asid(c, vmid, asid);
				xlate_inv_asid(c, vmid, asid | SMMU_TAG_TTB1);
			}
		} else {
			inv_range(s, false, vmid, op == SMMU_CMD_TLBI_NH_VA ? asid : XLATE_ANY_ASID,
				  cmd);
		}
		return SMMU_CERROR_NONE;
	case SMMU_CMD_TLBI_S12_VMALL:
		if (!s->p.s2p)
			return SMMU_CERROR_ILL;
		if (c)
			xlate_inv_vmid(c, vmid);
		return SMMU_CERROR_NONE;
	case SMMU_CMD_TLBI_S2_IPA:
		if (!s->p.s2p)
			return SMMU_CERROR_ILL;
		inv_range(s, true, vmid, 0, cmd);
		return SMMU_CERROR_NONE;
	case SMMU_CMD_TLBI_NSNH_ALL:
		if (c)
			xlate_inv_all(c);
		return SMMU_CERROR_NONE;
	case SMMU_CMD_RESUME: {
		unsigned int action = SMMU_BITS(cmd[0], 13, 12);

		if (!s->p.stall || action == 3)
			return SMMU_CERROR_ILL;
		/* Action: 0b00 Terminate, 0b01 Retry, 0b10 Abort (TERM_MODEL = 1: both abort). */
		smmuv3_stall_answer(s, sid, false, (uint16_t)cmd[1],
				    action == 1 ? SMMU_STALL_RETRY : SMMU_STALL_ABORT);
		return SMMU_CERROR_NONE;
	}
	case SMMU_CMD_STALL_TERM:
		if (!s->p.stall)
			return SMMU_CERROR_ILL;
		smmuv3_stall_answer(s, sid, true, 0, SMMU_STALL_ABORT);
		return SMMU_CERROR_NONE;
	case SMMU_CMD_ATC_INV:
		return atc_inv(s, cmd);
	case SMMU_CMD_PRI_RESP:
		return pri_resp(s, cmd);
	case SMMU_CMD_SYNC: {
		unsigned int cs = SMMU_BITS(cmd[0], 13, 12);
		uint64_t msi_addr = cmd[1] & SMMU_MASK(51, 2);

		if (cs == 3)
			return SMMU_CERROR_ILL;
		/* The ATS invalidations before it complete first. */
		if (!smmuv3_atc_flush(s))
			return SMMU_CERROR_ATC_INV_SYNC;
		if (cs == 1) { /* SIG_IRQ: MSI write when an address is given, else the wire */
			if (msi_addr) {
				if (!smmuv3_write32(s, msi_addr, (uint32_t)(cmd[0] >> 32)))
					smmuv3_gerror_raise(s, SMMU_GERROR_MSI_CMDQ_ABT);
			} else {
				smmuv3_irq(s, SMMU_IRQ_CMD_SYNC);
			}
		}
		/* SIG_NONE / SIG_SEV: completion is CONS moving past the command. */
		return SMMU_CERROR_NONE;
	}
	default:
		return SMMU_CERROR_ILL;
	}
}

void smmuv3_cmdq_run(struct smmuv3 *s)
{
	struct smmuv3_queue *q = &s->cmdq;
	uint32_t log2 = smmuv3_q_log2(q->base);
	uint32_t wrap = 1u << log2, ptr_mask = (wrap << 1) - 1;
	/*
	 * Consume while CONS != PROD. A PROD more than a queue's worth ahead
	 * (a driver bug) still meets CONS within two laps; stopping after one
	 * would leave commands pending with nothing to restart them.
	 */
	unsigned int budget = ptr_mask + 1;

	if (!(s->cr0 & SMMU_CR0_CMDQEN) || ((s->gerror ^ s->gerrorn) & SMMU_GERROR_CMDQ_ERR))
		return;
	while ((q->cons & ptr_mask) != (q->prod & ptr_mask) && budget--) {
		uint32_t cons = q->cons & ptr_mask;
		uint64_t addr = smmuv3_q_entry_addr(q->base, cons, SMMU_CMD_SIZE);
		enum smmuv3_cerror err;
		uint64_t cmd[2];

		err = smmuv3_read_qw(s, addr, cmd, 2) ? cmd_exec(s, cmd) : SMMU_CERROR_ABT;
		if (err != SMMU_CERROR_NONE) {
			q->cons = (q->cons & ~SMMU_CMDQ_CONS_ERR_MASK) |
				  (uint32_t)err << SMMU_CMDQ_CONS_ERR_SHIFT;
			smmuv3_gerror_raise(s, SMMU_GERROR_CMDQ_ERR);
			return;
		}
		s->stats.cmds++;
		q->cons = (q->cons & ~ptr_mask) | ((cons + 1) & ptr_mask);
	}
}
