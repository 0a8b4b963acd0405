// SPDX-License-Identifier: MIT
/*
 * smmuv3_ste.c - stream table, STE and CD decoding, and translation.
 *
 * What it owns. The path of a transaction: SMMUEN / GBPA, the stream
 * table lookup (linear, or 2-level through an L1STD), the STE's
 * validation and decoding, the substream and CD table (single CD, linear
 * or 2-level through L1CDs, fetched through stage 2 when stage 2 is on),
 * the CD's validation and decoding into a stage-1 pt_cfg, the walk through
 * lib/xlate with the instance's caches, and the event record a terminated
 * transaction produces.
 *
 * Architecture (IHI 0070), and where the model is stricter than QEMU:
 *  - Stream table: SID beyond LOG2SIZE (capped at IDR1.SIDSIZE), an
 *    L1STD whose Span is 0, reserved (>= 12) or larger than SPLIT + 1,
 *    or a SID beyond the L2 array (2^(Span-1) STEs) are C_BAD_STREAMID,
 *    recorded when CR2.RECINVSID. A read that aborts is F_STE_FETCH
 *    with the address. Reserved SPLIT values act as the next lower legal
 *    one (6, 8, 10); reserved FMT values as linear.
 *  - STE: V = 0 is C_BAD_STE; Config 0b0xx aborts without an event,
 *    0b100 bypasses. ILLEGAL (C_BAD_STE): a stage not implemented,
 *    S1CDMax > SSIDSIZE, STRW != 0 with stage 1 only (RES0 without Hyp;
 *    IGNORED with stage 2), and for stage 2: S2AA64 = 0,
 *    S2ENDI = 1, S2TG 0b11, S2T0SZ outside 16..39, S2SL0 illegal for the
 *    granule or needing more than 16 concatenated tables, S2S = 1 without
 *    stall, S2S = 0 with stall forced (STALL_MODEL 0b10), S2HA/S2HD
 *    without HTTU, S2TTB beyond the effective S2PS.
 *  - CD: V = 0, ENDI = 1, AA64 = 0, TG0 0b11, T0SZ outside 16..39,
 *    TG1 0b00, T1SZ outside 16..39, HA/HD without HTTU, S = 1 without
 *    stall or with STE.S1STALLD, S = 0 with stall forced (STALL_MODEL
 *    0b10), A = 0 (TERM_MODEL = 1), TTB0 or TTB1 beyond the effective
 *    IPS: C_BAD_CD (TG1's encoding is not TG0's: 0b01 16K, 0b10 4K, 0b11
 *    64K). A read that aborts is F_CD_FETCH. An L1CD with V = 0 is
 *    C_BAD_SUBSTREAMID, as is an SSID beyond S1CDMax and any SSID with
 *    S1CDMax = 0. A transaction
 *    without SSID on a substream STE follows S1DSS: terminate
 *    (F_STREAM_DISABLED), bypass stage 1, or CD 0; with S1DSS = SSID0
 *    one that selects SSID 0 is F_STREAM_DISABLED (§5.2). S1Fmt
 *    0b11 and S1DSS 0b11 are Reserved and act as 0b00. S1STALLD = 1 with
 *    stage 1 on is ILLEGAL unless STALL_MODEL is 0b00 (0b01 no stall,
 *    0b10 stall forced: the STE cannot opt out). EATS is
 *    IGNORED without ATS; with it, 0b01 / 0b11 with S2S and 0b10 other
 *    than nested without S2S are ILLEGAL (see smmuv3_ats_translate()). A SubstreamID on a stream whose
 *    stage 1 is off (Config 0b100, 0b110) is C_BAD_SUBSTREAMID. With
 *    CD.EPDx = 1, TxSZ, TGx and TTBx are IGNORED (every lookup that
 *    selects that table is a translation fault).
 *  - Stage-1 table selection (smmuv3_select_tt): CD.TBI for the range
 *    bit 55 names makes bits [63:56] copies of bit 55 (the top byte is
 *    ignored for the range check and the walk); then bits [63:64-T0SZ]
 *    all 0 select TTB0, bits [63:64-T1SZ] all 1 TTB1, and an address in
 *    neither range is a stage-1 F_TRANSLATION (class IN, InputAddr the
 *    address as issued, tag included), as is one whose table is
 *    disabled (EPDx). A TTB1 walk translates the address's low 64-T1SZ
 *    bits (lib/pt walks inputs below 2^IAS) and is cached under ASID |
 *    SMMU_TAG_TTB1, so TTB0 and TTB1 entries never meet; TLBI_NH_VA /
 *    VAA of a TTB1-range VA find them (smmuv3_cmdq.c).
 *  - IPS / S2PS above IDR5.OAS (48) are taken as 48.
 *  - Stage-2-only: an input address beyond IAS (48 bits) is F_ADDR_SIZE
 *    (S2 = 0, class IN); otherwise stage 2 checks it against S2T0SZ.
 *  - Nested: the CD pointer (and L1CD pointer) is an IPA, translated
 *    through stage 2 with class CD; TTB0 / TTB1 and every stage-1 table address
 *    go through stage 2 inside lib/xlate with class TT; the output IPA
 *    with class IN.
 *  - Faults of the walk become F_TRANSLATION, F_ADDR_SIZE, F_ACCESS,
 *    F_PERMISSION or F_WALK_EABT records: S2 says which stage, CLASS the
 *    access, InputAddr the transaction's address, IPA (bits [51:12]) the
 *    IPA a stage-2 fault was translating, FetchAddr (bits [51:3]) the
 *    descriptor a walk abort failed to read. Stage-1 faults are recorded
 *    when CD.R, stage-2 faults (class CD included) when STE.S2R;
 *    F_WALK_EABT and configuration errors always.
 *  - HTTU (params.httu): CD.HA / STE.S2HA make the walker set the access
 *    flag, HD / S2HD (with HA; alone they are ignored) also the dirty
 *    state of DBM descriptors (lib/xlate's write-back).
 *  - Stall (params.stall): with CD.S (stage 1) or STE.S2S (stage 2), a
 *    translation, address size, access or permission fault of the walk
 *    stalls the transaction (always recorded, Stall = 1 and a STAG) and
 *    smmuv3_translate() returns -EAGAIN; configuration errors and walk
 *    aborts never stall.
 *  - ATS (params.ats): an ATS Translation Request (smmuv3_ats_translate)
 *    takes the same path; effective EATS 0b00 (Config 0b100 included) is
 *    F_BAD_ATS_TREQ, an abort STE or SMMUEN = 0 a silent Unsupported
 *    Request, and the walk's translation faults are reported in the
 *    completion only (never recorded, never stalled).
 * Not modelled yet: CR0.ATSCHK (Translated traffic bypasses), secure
 * streams, 52-bit VAs (CD.TxSZ below 16, VAX).
 *
 * Caching: a successful decode (including abort, bypass and S1DSS
 * outcomes) is stored in the configuration cache under (SID, SSID, or
 * SMMU_CFGC_NO_SSID) until a CFGI_* command; errors are never cached, so
 * every transaction that meets a bad structure gets its event. A decode
 * during which a CFGI_* ran is done again (the configuration generation
 * moved): the structure may have been read half old, half new, and the
 * architecture lets no transaction use a configuration that an
 * invalidation completed by CMD_SYNC removed. A decoded stage names its
 * derived pt_cfg by index (ptcfg_intern: one per distinct {format,
 * granule, IAS, OAS, SL0, flags}, immutable once published), so a
 * translation that hits the configuration cache derives nothing. The
 * translation is cached by lib/xlate under tag {S2VMID, ASID} (S2VMID
 * tags stage-1-only contexts too, stage 2 being implemented).
 *
 * Concurrency: runs without the instance lock (the registers it needs
 * come from the lock-free published copy, smmuv3_xregs_read) except to
 * queue an event. A traced
 * translation (smmuv3_translate_traced, for tests) finds its trace through
 * a thread-local pointer, so tracing one call never touches another's.
 */
#include <errno.h>
#include <string.h>

#include "hw/smmuv3/smmuv3_priv.h"

#define regs_snap smmuv3_xregs

static const uint8_t ps_bits[8] = { 32, 36, 40, 42, 44, 48, 48, 48 };

/* Effective IPS / S2PS: values above IDR5.OAS (48 bits) act as OAS. */
static unsigned int eff_ps(unsigned int enc)
{
	unsigned int b = ps_bits[enc & 7];

	return b > SMMU_OAS_BITS ? SMMU_OAS_BITS : b;
}

static int stage_pt_cfg(const struct smmuv3_stage_cfg *sc, enum pt_format f, struct pt_cfg *c)
{
	*c = (struct pt_cfg){ .format = f, .granule_shift = sc->granule_shift, .ias = sc->ias,
			      .oas = sc->oas, .sl0 = sc->sl0, .flags = sc->flags };
	return pt_cfg_init(c);
}

/*
 * The index of @sc's derived configuration in s->ptcfgs, added if new;
 * SMMU_PTCFG_NONE when the table is full (translations then derive it each
 * time). @sc was validated: pt_cfg_init succeeds.
 */
static uint8_t ptcfg_intern(struct smmuv3 *s, const struct smmuv3_stage_cfg *sc,
			    enum pt_format f)
{
	unsigned int n = __atomic_load_n(&s->nr_ptcfgs, __ATOMIC_ACQUIRE), i;
	struct pt_cfg c;

	if (stage_pt_cfg(sc, f, &c))
		return SMMU_PTCFG_NONE;
	for (i = 0; i < n; i++) {
		const struct pt_cfg *e = &s->ptcfgs[i];

		if (e->format == c.format && e->granule_shift == c.granule_shift &&
		    e->ias == c.ias && e->oas == c.oas && e->sl0 == c.sl0 && e->flags == c.flags)
			return (uint8_t)i;
	}
	pthread_mutex_lock(&s->lock);
	n = s->nr_ptcfgs;
	for (; i < n; i++) { /* another decode may have added it meanwhile */
		const struct pt_cfg *e = &s->ptcfgs[i];

		if (e->format == c.format && e->granule_shift == c.granule_shift &&
		    e->ias == c.ias && e->oas == c.oas && e->sl0 == c.sl0 && e->flags == c.flags)
			break;
	}
	if (i == n && n < SMMU_PTCFG_MAX) {
		s->ptcfgs[n] = c;
		__atomic_store_n(&s->nr_ptcfgs, n + 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&s->lock);
	return i < SMMU_PTCFG_MAX ? (uint8_t)i : SMMU_PTCFG_NONE;
}

/* The stage's pt_cfg: the interned one, or derived into @tmp. */
static const struct pt_cfg *stage_cfg(const struct smmuv3 *s, const struct smmuv3_stage_cfg *sc,
				      enum pt_format f, struct pt_cfg *tmp)
{
	if (sc->ptcfg != SMMU_PTCFG_NONE)
		return &s->ptcfgs[sc->ptcfg];
	stage_pt_cfg(sc, f, tmp);
	return tmp;
}

/* The trace of the translation running on this thread (smmuv3_translate_traced), or NULL. */
static __thread struct smmuv3_trace *cur_trace;

/* A structure fetch (STE, L1STD, L1CD, CD) at physical @pa, traced. */
static bool fetch_qw(struct smmuv3 *s, uint64_t pa, uint64_t *qw, unsigned int n)
{
	struct smmuv3_trace *tr = cur_trace;

	if (tr) {
		if (tr->n < SMMU_TRACE_MAX)
			tr->rd[tr->n] = (typeof(tr->rd[0])){ pa, n * 8 };
		tr->n++;
	}
	return smmuv3_read_qw(s, pa, qw, n);
}

static struct xlate_record *trace_s2(void)
{
	struct smmuv3_trace *tr = cur_trace;

	return tr && tr->ns2 < 2 ? &tr->s2[tr->ns2++] : NULL;
}

static void ev_config(struct smmuv3_event *ev, enum smmuv3_event_type type,
		      const struct smmuv3_txn *t)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->sid = t->sid;
	ev->ssid = t->ssid;
}

/* ---------------------------------------------------------------------- */
/* Stream table                                                            */

static enum smmuv3_event_type ste_fetch(struct smmuv3 *s, const struct regs_snap *r,
					const struct smmuv3_txn *t, uint64_t ste[8],
					struct smmuv3_event *ev)
{
	unsigned int log2 = r->strtab_cfg & 0x3f, split = SMMU_BITS(r->strtab_cfg, 10, 6);
	unsigned int fmt = SMMU_BITS(r->strtab_cfg, 17, 16);
	uint64_t base = r->strtab_base & SMMU_MASK(51, 6), addr;

	if (log2 > s->p.sidsize)
		log2 = s->p.sidsize;
	if (log2 < 32 && (t->sid >> log2)) {
		ev_config(ev, SMMU_EVT_C_BAD_STREAMID, t);
		return SMMU_EVT_C_BAD_STREAMID;
	}
	if (fmt == 1) {
		unsigned int l1_bits, span;
		uint64_t l1, l1_bytes;

		split = split >= 10 ? 10 : split >= 8 ? 8 : 6;
		l1_bits = log2 > split ? log2 - split : 0;
		l1_bytes = (8ULL << l1_bits) < 64 ? 64 : 8ULL << l1_bits;
		addr = (base & ~(l1_bytes - 1)) + (uint64_t)(t->sid >> split) * 8;
		if (!fetch_qw(s, addr, &l1, 1)) {
			ev_config(ev, SMMU_EVT_F_STE_FETCH, t);
			ev->addr2 = addr & SMMU_MASK(51, 3);
			return SMMU_EVT_F_STE_FETCH;
		}
		span = l1 & 0x1f;
		if (!span || span >= 12 || span - 1 > split ||
		    (t->sid & ((1u << split) - 1)) >= (1u << (span - 1))) {
			ev_config(ev, SMMU_EVT_C_BAD_STREAMID, t);
			return SMMU_EVT_C_BAD_STREAMID;
		}
		addr = (l1 & SMMU_MASK(51, 6) & ~((1ULL << (span + 5)) - 1)) +
		       (uint64_t)(t->sid & ((1u << split) - 1)) * SMMU_STE_SIZE;
	} else {
		addr = (base & ~((1ULL << (log2 + 6)) - 1)) + (uint64_t)t->sid * SMMU_STE_SIZE;
	}
	if (!fetch_qw(s, addr, ste, 8)) {
		ev_config(ev, SMMU_EVT_F_STE_FETCH, t);
		ev->addr2 = addr & SMMU_MASK(51, 3);
		return SMMU_EVT_F_STE_FETCH;
	}
	return SMMU_EVT_NONE;
}

/* Stage-2 fields of an STE (qwords 2 and 3); false: ILLEGAL. */
static bool ste_decode_s2(struct smmuv3 *s, const uint64_t ste[8], struct smmuv3_dcfg *d)
{
	static const uint8_t tg_shift[4] = { 12, 16, 14, 0 };
	unsigned int t0sz = SMMU_BITS(ste[2], 37, 32), sl0 = SMMU_BITS(ste[2], 39, 38);
	unsigned int tg = SMMU_BITS(ste[2], 47, 46), ps = SMMU_BITS(ste[2], 50, 48);
	struct smmuv3_stage_cfg *sc = &d->st[1];
	struct pt_cfg c;

	bool hd = ste[2] >> 55 & 1, ha = ste[2] >> 56 & 1;

	if (!(ste[2] >> 51 & 1) ||	/* S2AA64 = 0: AArch32 tables (IDR0.TTF AArch64 only) */
	    (ste[2] >> 52 & 1) ||	/* S2ENDI = 1: big endian (IDR0.TTENDIAN LE only) */
	    ((hd || ha) && !s->p.httu) ||	/* S2HD / S2HA without HTTU */
	    ((ste[2] >> 57 & 1) && !s->p.stall) ||	/* S2S without stall */
	    (!(ste[2] >> 57 & 1) && s->p.stall_force) ||	/* no S2S, stall forced */
	    tg == 3 || t0sz < 16 || t0sz > 39)
		return false;
	sc->granule_shift = tg_shift[tg];
	sc->ias = 64 - t0sz;
	sc->oas = eff_ps(ps);
	sc->sl0 = (int8_t)sl0;
	sc->flags = (ste[2] >> 53 & 1) ? PT_CFG_AFFD : 0;
	/* HTTU: S2HA sets the access flag, S2HD (only with S2HA) the dirty state. */
	if (ha)
		sc->flags |= hd ? PT_CFG_HW_AD : PT_CFG_HW_AD | PT_CFG_HW_NO_DIRTY;
	d->s2_stall = ste[2] >> 57 & 1;
	sc->root = ste[3] & SMMU_MASK(51, 4);
	if (sc->root >> sc->oas)
		return false;
	if (stage_pt_cfg(sc, PT_VMSA_S2, &c))
		return false;
	sc->ptcfg = ptcfg_intern(s, sc, PT_VMSA_S2);
	d->s2_record = ste[2] >> 58 & 1;
	return true;
}

/*
 * One stage-1 table of a CD (TTB0 or TTB1) into @sc; false: ILLEGAL (its
 * TTB beyond the effective IPS, or a geometry lib/pt refuses). With @epd
 * (EPDx = 1) TxSZ, TGx and TTBx are IGNORED: nothing is checked.
 */
static bool cd_table(struct smmuv3 *s, struct smmuv3_stage_cfg *sc, bool epd,
		     unsigned int granule_shift, unsigned int tsz, uint64_t ttb, unsigned int oas,
		     unsigned int flags)
{
	struct pt_cfg c;

	*sc = (struct smmuv3_stage_cfg){ .granule_shift = (uint8_t)granule_shift,
					 .ias = (uint8_t)(64 - tsz), .oas = (uint8_t)oas,
					 .flags = (uint8_t)flags, .sl0 = -1,
					 .ptcfg = SMMU_PTCFG_NONE, .root = ttb & SMMU_MASK(51, 4) };
	if (epd)
		return true;
	if ((sc->root >> oas) || stage_pt_cfg(sc, PT_VMSA_S1, &c))
		return false;
	sc->ptcfg = ptcfg_intern(s, sc, PT_VMSA_S1);
	return true;
}

/*
 * Decode a CD into stage 1; false: ILLEGAL (C_BAD_CD). @s1stalld: the
 * STE's S1STALLD (stall disabled for stage 1).
 */
static bool cd_decode(struct smmuv3 *s, const uint64_t cd[8], bool s1stalld,
		      struct smmuv3_dcfg *d)
{
	/* §5.4: TG0 0b00 4K, 0b01 64K, 0b10 16K; TG1 0b01 16K, 0b10 4K, 0b11 64K (0: Reserved). */
	static const uint8_t tg0_shift[4] = { 12, 16, 14, 0 }, tg1_shift[4] = { 0, 14, 12, 16 };
	unsigned int t0sz = SMMU_BITS(cd[0], 5, 0), tg0 = SMMU_BITS(cd[0], 7, 6);
	unsigned int t1sz = SMMU_BITS(cd[0], 21, 16), tg1 = SMMU_BITS(cd[0], 23, 22);
	bool hd = cd[0] >> 42 & 1, ha = cd[0] >> 43 & 1, stall = cd[0] >> 44 & 1;
	/* §5.4: with EPDx = 1, TxSZ, TGx and TTBx are IGNORED */
	bool epd0 = cd[0] >> 14 & 1, epd1 = cd[0] >> 30 & 1;
	unsigned int oas = eff_ps(SMMU_BITS(cd[0], 34, 32)), flags;

	if (!(cd[0] >> 31 & 1) ||	/* V */
	    (cd[0] >> 15 & 1) ||	/* ENDI */
	    !(cd[0] >> 41 & 1) ||	/* AA64 */
	    ((hd || ha) && !s->p.httu) ||	/* HD, HA without HTTU */
	    (stall && (!s->p.stall || s1stalld)) ||	/* S without stall, or S1STALLD */
	    (!stall && s->p.stall_force) ||	/* no S, stall forced */
	    !(cd[0] >> 46 & 1) ||	/* A: TERM_MODEL = 1 needs abort */
	    (!epd0 && (tg0 == 3 || t0sz < 16 || t0sz > 39)) ||
	    (!epd1 && (tg1 == 0 || t1sz < 16 || t1sz > 39)))
		return false;
	flags = (cd[0] >> 35 & 1) ? PT_CFG_AFFD : 0;
	/* HTTU: HA sets the access flag, HD (only with HA) the dirty state. */
	if (ha)
		flags |= hd ? PT_CFG_HW_AD : PT_CFG_HW_AD | PT_CFG_HW_NO_DIRTY;
	if (!cd_table(s, &d->st[0], epd0, tg0_shift[tg0], t0sz, cd[1], oas, flags) ||
	    !cd_table(s, &d->tt1, epd1, tg1_shift[tg1], t1sz, cd[2], oas, flags))
		return false;
	d->s1_stall = stall;
	d->epd0 = epd0;
	d->epd1 = epd1;
	d->tbi = (uint8_t)SMMU_BITS(cd[0], 39, 38);
	d->s1_record = cd[0] >> 45 & 1;
	d->asid = (uint16_t)(cd[0] >> 48);
	return true;
}

/* The event of a failed walk (or stage-2 fetch): its type and fields; recording per R / S2R. */
static enum smmuv3_event_type fault_event(const struct smmuv3_txn *t, const struct smmuv3_dcfg *d,
					  enum pt_fault_reason reason, const struct xlate_fault *f,
					  struct smmuv3_event *ev, bool *record)
{
	memset(ev, 0, sizeof(*ev));
	switch (reason) {
	case PT_FAULT_ACCESS:
		ev->type = SMMU_EVT_F_ACCESS;
		break;
	case PT_FAULT_PERMISSION:
		ev->type = SMMU_EVT_F_PERMISSION;
		break;
	case PT_FAULT_ADDR_SIZE:
		ev->type = SMMU_EVT_F_ADDR_SIZE;
		break;
	case PT_FAULT_EXT_ABORT:
		ev->type = SMMU_EVT_F_WALK_EABT;
		break;
	default:
		ev->type = SMMU_EVT_F_TRANSLATION;
		break;
	}
	ev->sid = t->sid;
	ev->ssid = t->ssid;
	ev->s2 = f->stage == 2;
	ev->cls = f->cls;
	ev->rnw = !(t->access & PT_PROT_W);
	ev->ind = !!(t->access & PT_PROT_X);
	ev->pnu = !(t->access & PT_PROT_U);
	ev->ttrnw = f->cls == XLATE_CLASS_TT; /* the table access was a read (no HTTU writes) */
	ev->input = t->addr;
	if (ev->type == SMMU_EVT_F_WALK_EABT)
		ev->addr2 = f->desc_addr & SMMU_MASK(51, 3);
	else if (ev->s2)
		ev->addr2 = f->ipa & SMMU_MASK(51, 12);
	*record = ev->type == SMMU_EVT_F_WALK_EABT || (ev->s2 ? d->s2_record : d->s1_record);
	return ev->type;
}

/*
 * Read @n qwords of a structure at @addr, an IPA when stage 2 is on.
 * NONE, or the event (stage-2 fault with class CD, or F_CD_FETCH).
 */
static enum smmuv3_event_type cd_read(struct smmuv3 *s, const struct smmuv3_txn *t,
				      struct smmuv3_dcfg *d, uint64_t addr, uint64_t *qw,
				      unsigned int n, struct smmuv3_event *ev, bool *record)
{
	uint64_t pa = addr;

	if (d->s2) {
		struct pt_cfg s2c;
		struct xlate_cfg xc = { .mem = s->mem, .cache = s->cache,
					.tag = { .vmid = d->vmid, .asid = 0 } };
		struct xlate_fault f;
		enum pt_fault_reason r;

		xc.s2 = (struct xlate_stage){ stage_cfg(s, &d->st[1], PT_VMSA_S2, &s2c),
					      d->st[1].root };
		r = xlate_s2(&xc, addr, PT_PROT_R, XLATE_CLASS_CD, t->addr, &pa, &f, trace_s2());
		if (r != PT_OK)
			return fault_event(t, d, r, &f, ev, record);
	}
	if (!fetch_qw(s, pa, qw, n)) {
		ev_config(ev, SMMU_EVT_F_CD_FETCH, t);
		ev->addr2 = pa & SMMU_MASK(51, 3);
		*record = true;
		return SMMU_EVT_F_CD_FETCH;
	}
	return SMMU_EVT_NONE;
}

static enum smmuv3_event_type bad_ssid(struct smmuv3_event *ev, const struct smmuv3_txn *t)
{
	ev_config(ev, SMMU_EVT_C_BAD_SUBSTREAMID, t);
	return SMMU_EVT_C_BAD_SUBSTREAMID;
}

/* Stage 1 of a translating STE: substream, CD fetch, CD decode. */
static enum smmuv3_event_type ste_decode_s1(struct smmuv3 *s, const struct smmuv3_txn *t,
					    const uint64_t ste[8], struct smmuv3_dcfg *d,
					    struct smmuv3_event *ev, bool *record)
{
	unsigned int fmt = SMMU_BITS(ste[0], 5, 4), cdmax = SMMU_BITS(ste[0], 63, 59);
	unsigned int s1dss = SMMU_BITS(ste[1], 1, 0);
	uint64_t ptr = ste[0] & SMMU_MASK(51, 6), cd[8];
	bool ssv = t->ssid != SMMU_NO_SSID;
	uint32_t ssid = ssv ? t->ssid : 0;
	enum smmuv3_event_type e;

	*record = true;
	if (cdmax > s->p.ssidsize) {
		ev_config(ev, SMMU_EVT_C_BAD_STE, t);
		return SMMU_EVT_C_BAD_STE;
	}
	/* §5.2: S1Fmt 0b11 and S1DSS 0b11 are Reserved and behave as 0b00 (not ILLEGAL). */
	if (fmt == 3)
		fmt = 0;
	if (s1dss == 3)
		s1dss = 0;
	if (!cdmax) {
		if (ssv)
			goto bad_ssid;
	} else if (!ssv) {
		if (s1dss == 0) {		/* terminate, with F_STREAM_DISABLED */
			d->kind = SMMU_CFG_ABORT;
			d->s1_event = SMMU_EVT_F_STREAM_DISABLED;
			return SMMU_EVT_NONE;
		}
		if (s1dss == 1) {		/* stage 1 bypassed */
			d->s1 = false;
			if (!d->s2)
				d->kind = SMMU_CFG_BYPASS;
			return SMMU_EVT_NONE;
		}
		/* S1DSS = SSID0: use CD 0 */
	} else if (ssid >> cdmax) {
		goto bad_ssid;
	} else if (s1dss == 2 && ssid == 0) {
		/* §5.2 S1DSS 0b10: substream 0 is taken; selecting it is F_STREAM_DISABLED. */
		ev_config(ev, SMMU_EVT_F_STREAM_DISABLED, t);
		return SMMU_EVT_F_STREAM_DISABLED;
	}
	if (cdmax && fmt != 0) {
		/*
		 * IHI 0070 §5.2 S1Fmt: 0b01 has 4KB L2 tables of 64 CDs, indexed
		 * by SubstreamID[5:0]; 0b10 64KB L2 tables of 1024 CDs, [9:0].
		 */
		unsigned int split = fmt == 1 ? 6 : 10;
		uint64_t l1;

		e = cd_read(s, t, d, ptr + (uint64_t)(ssid >> split) * 8, &l1, 1, ev, record);
		if (e)
			return e;
		if (!(l1 & 1))
			goto bad_ssid;
		ptr = (l1 & SMMU_MASK(51, 12)) +
		      (uint64_t)(ssid & ((1u << split) - 1)) * SMMU_CD_SIZE;
	} else {
		ptr += (uint64_t)ssid * SMMU_CD_SIZE;
	}
	e = cd_read(s, t, d, ptr, cd, 8, ev, record);
	if (e)
		return e;
	if (!cd_decode(s, cd, ste[1] >> 27 & 1, d)) {
		*record = true;
		ev_config(ev, SMMU_EVT_C_BAD_CD, t);
		return SMMU_EVT_C_BAD_CD;
	}
	return SMMU_EVT_NONE;
bad_ssid:
	ev_config(ev, SMMU_EVT_C_BAD_SUBSTREAMID, t);
	return SMMU_EVT_C_BAD_SUBSTREAMID;
}

/*
 * STE.EATS (IGNORED without ATS, and with Config[1:0] = 0b00): whether
 * translation requests are served (*ats); false when ILLEGAL: 0b01 (and
 * 0b11) with stage 2 stalling, 0b10 other than on a nested STE without
 * S2S. 0b10 then behaves as 0b00 (no ATSCHK), 0b11 too (no DPT).
 */
static bool ste_eats(const uint64_t ste[8], unsigned int config, bool *ats)
{
	unsigned int eats = SMMU_BITS(ste[1], 29, 28);
	bool s2s = (config & 2) && (ste[2] >> 57 & 1);

	*ats = false;
	if ((eats == 1 || eats == 3) && s2s)
		return false;
	if (eats == 2 && (config != 7 || s2s))
		return false;
	*ats = eats == 1;
	return true;
}

static enum smmuv3_event_type decode(struct smmuv3 *s, const struct regs_snap *r,
				     const struct smmuv3_txn *t, struct smmuv3_dcfg *d,
				     struct smmuv3_event *ev, bool *record)
{
	unsigned int config;
	uint64_t ste[8];
	enum smmuv3_event_type e;

	memset(d, 0, sizeof(*d));
	*record = true;
	e = ste_fetch(s, r, t, ste, ev);
	if (e) {
		if (e == SMMU_EVT_C_BAD_STREAMID)
			*record = r->cr2 & SMMU_CR2_RECINVSID;
		return e;
	}
	if (!(ste[0] & 1))
		goto bad_ste;
	config = SMMU_BITS(ste[0], 3, 1);
	if (!(config & 4)) {
		d->kind = SMMU_CFG_ABORT;
		return SMMU_EVT_NONE;
	}
	/* §5.2 S1Fmt: with stage 1 disabled (0b1x0) a SubstreamID is C_BAD_SUBSTREAMID. */
	if (config == 4) {
		d->kind = SMMU_CFG_BYPASS;
		return t->ssid == SMMU_NO_SSID ? SMMU_EVT_NONE : bad_ssid(ev, t);
	}
	d->kind = SMMU_CFG_TRANSLATE;
	d->s1 = config & 1;
	d->s2 = config & 2;
	if ((d->s1 && !s->p.s1p) || (d->s2 && !s->p.s2p))
		goto bad_ste;
	/*
	 * §5.2: STRW is IGNORED when stage 2 is on; for stage 1 only it is
	 * RES0 without Hyp (0bx1 is ILLEGAL anyway), and a non-zero value is
	 * taken as ILLEGAL.
	 */
	if (config == 5 && SMMU_BITS(ste[1], 31, 30))
		goto bad_ste;
	/* S1STALLD with stage 1 on: ILLEGAL unless STALL_MODEL = 0b00 (stall configurable). */
	if (d->s1 && (ste[1] >> 27 & 1) && (!s->p.stall || s->p.stall_force))
		goto bad_ste;
	if (s->p.ats && !ste_eats(ste, config, &d->ats))
		goto bad_ste;
	if (s->p.s2p)
		d->vmid = (uint16_t)ste[2];
	if (d->s2 && !ste_decode_s2(s, ste, d))
		goto bad_ste;
	if (d->s1)
		return ste_decode_s1(s, t, ste, d, ev, record);
	return t->ssid == SMMU_NO_SSID ? SMMU_EVT_NONE : bad_ssid(ev, t);
bad_ste:
	ev_config(ev, SMMU_EVT_C_BAD_STE, t);
	return SMMU_EVT_C_BAD_STE;
}

/* ---------------------------------------------------------------------- */
/* Translation                                                             */

void smmuv3_select_tt(uint64_t addr, unsigned int tbi, unsigned int ias0, unsigned int ias1,
		      struct smmuv3_tt_sel *sel)
{
	const uint64_t top = SMMU_MASK(63, 56);
	unsigned int b55 = addr >> 55 & 1;
	uint64_t va = addr;

	sel->tbi = tbi >> b55 & 1;
	if (sel->tbi)
		va = b55 ? va | top : va & ~top;
	sel->va = va;
	sel->in = va;
	if (b55 == 0 && (ias0 ? !(va >> ias0) : true))
		sel->ttb = 0;
	else if (b55 == 1 && (ias1 ? !(~va >> ias1) : true))
		sel->ttb = 1;
	else
		sel->ttb = -1;
	if (sel->ttb == 1 && ias1)
		sel->in = va & ((1ULL << ias1) - 1);
}

static int terminate(struct smmuv3 *s, struct smmuv3_result *res, const struct smmuv3_event *ev,
		     bool record)
{
	res->event = ev->type;
	res->recorded = record && smmuv3_record_event(s, ev);
	return -EFAULT;
}

/*
 * A fault of the walk: stall the transaction when its stage is configured
 * to (CD.S / STE.S2S) and the fault is one that stalls, else terminate it.
 * A stall is always recorded, whatever CD.R / STE.S2R say.
 */
static int terminate_or_stall(struct smmuv3 *s, struct smmuv3_result *res,
			      const struct smmuv3_dcfg *d, struct smmuv3_event *ev, bool record)
{
	bool stalls = (ev->s2 ? d->s2_stall : d->s1_stall) && smmuv3_evt_is_xlate_fault(ev->type);

	if (stalls) {
		switch (smmuv3_record_stall(s, ev, &res->stag)) {
		case 1:
			res->stalled = true;
			res->event = ev->type;
			res->recorded = true;
			return -EAGAIN;
		case -1: /* the record could not be written: nobody would answer */
			res->event = ev->type;
			return -EFAULT;
		default: /* no stall slot left: terminate as without stall */
			ev->stall = false;
			break;
		}
	}
	return terminate(s, res, ev, record);
}

static int bypass(const struct smmuv3_txn *t, struct smmuv3_result *res)
{
	res->pa = t->addr;
	res->size = 4096;
	res->prot = PT_PROT_R | PT_PROT_W | PT_PROT_X | PT_PROT_U;
	return 0;
}

/* The event of an ATS Translation Request on a stream that does not serve them. */
static int bad_ats_treq(struct smmuv3 *s, const struct smmuv3_txn *t, struct smmuv3_result *res)
{
	struct smmuv3_event ev;

	ev_config(&ev, SMMU_EVT_F_BAD_ATS_TREQ, t);
	ev.rnw = !(t->access & PT_PROT_W);
	ev.ind = !!(t->access & PT_PROT_X);
	ev.pnu = !(t->access & PT_PROT_U);
	ev.input = t->addr & SMMU_MASK(63, 12);
	return terminate(s, res, &ev, true);
}

static bool translation_fault(enum smmuv3_event_type e)
{
	return e == SMMU_EVT_F_TRANSLATION || e == SMMU_EVT_F_ADDR_SIZE ||
	       e == SMMU_EVT_F_ACCESS || e == SMMU_EVT_F_PERMISSION;
}

/*
 * A transaction (@ats false) or an ATS Translation Request (@ats true):
 * the same configuration and walk; a request is refused by effective EATS
 * 0b00, and its translation faults neither stall nor record.
 */
static int translate(struct smmuv3 *s, const struct smmuv3_txn *t, struct smmuv3_result *res,
		     bool ats)
{
	uint32_t key = t->ssid == SMMU_NO_SSID ? SMMU_CFGC_NO_SSID : t->ssid;
	struct pt_cfg s1c, s2c;
	struct smmuv3_event ev;
	struct smmuv3_dcfg d;
	struct xlate_result xr;
	struct xlate_fault f;
	struct xlate_cfg xc;
	struct regs_snap r;
	enum pt_fault_reason pr;
	uint64_t in = t->addr;
	bool record;

	memset(res, 0, sizeof(*res));
	if (t->ssid != SMMU_NO_SSID && t->ssid > 0xfffff)
		return -EINVAL;
	smmuv3_xregs_read(s, &r);
	if (ats) {
		pthread_mutex_lock(&s->lock);
		s->stats.ats_reqs++;
		pthread_mutex_unlock(&s->lock);
	}

	if (ats && !(r.cr0 & SMMU_CR0_SMMUEN))
		return -EFAULT; /* Unsupported Request, no event */
	if (!(r.cr0 & SMMU_CR0_SMMUEN)) {
		if (r.gbpa & SMMU_GBPA_ABORT)
			return -EFAULT; /* abort, no event */
		return bypass(t, res);
	}
	if (!s->cache || !xlate_cfgc_lookup(s->cache, t->sid, key, &d)) {
		uint64_t gen;
		enum smmuv3_event_type e;

		/* A decode that a CFGI overlapped may have read a torn structure: again. */
		do {
			gen = __atomic_load_n(&s->cfg_gen, __ATOMIC_ACQUIRE);
			e = decode(s, &r, t, &d, &ev, &record);
		} while (__atomic_load_n(&s->cfg_gen, __ATOMIC_ACQUIRE) != gen);
		if (e)
			return terminate(s, res, &ev, record);
		if (s->cache)
			xlate_cfgc_insert(s->cache, t->sid, key, &d, sizeof(d));
	}
	if (ats && d.kind != SMMU_CFG_ABORT && !d.ats)
		return bad_ats_treq(s, t, res);
	switch (d.kind) {
	case SMMU_CFG_ABORT:
		if (d.s1_event) {
			ev_config(&ev, d.s1_event, t);
			return terminate(s, res, &ev, true);
		}
		return -EFAULT;
	case SMMU_CFG_BYPASS:
		return bypass(t, res);
	default:
		break;
	}

	xc = (struct xlate_cfg){ .mem = s->mem, .cache = s->cache,
				 .tag = { .vmid = d.vmid, .asid = d.s1 ? d.asid : 0 } };
	if (d.s2) {
		xc.s2 = (struct xlate_stage){ stage_cfg(s, &d.st[1], PT_VMSA_S2, &s2c),
					      d.st[1].root };
	}
	memset(&f, 0, sizeof(f));
	if (d.s1) {
		const struct smmuv3_stage_cfg *tt;
		struct smmuv3_tt_sel sel;

		smmuv3_select_tt(t->addr, d.tbi, d.epd0 ? 0 : d.st[0].ias,
				 d.epd1 ? 0 : d.tt1.ias, &sel);
		if (cur_trace)
			cur_trace->ttb = sel.ttb;
		if (sel.ttb < 0 || (sel.ttb ? d.epd1 : d.epd0)) {
			/* In neither range, or its table disabled: a stage-1 translation fault */
			f = (struct xlate_fault){ .stage = 1, .cls = XLATE_CLASS_IN,
						  .input_addr = t->addr };
			fault_event(t, &d, PT_FAULT_TRANSLATION, &f, &ev, &record);
			goto fault;
		}
		tt = sel.ttb ? &d.tt1 : &d.st[0];
		xc.s1 = (struct xlate_stage){ stage_cfg(s, tt, PT_VMSA_S1, &s1c), tt->root };
		if (sel.ttb) {
			const uint64_t bit = 1ULL << tt->ias;

			xc.tag.asid |= SMMU_TAG_TTB1;
			if (!(__atomic_load_n(&s->ttb1_ias_seen, __ATOMIC_RELAXED) & bit))
				__atomic_fetch_or(&s->ttb1_ias_seen, bit, __ATOMIC_SEQ_CST);
		}
		in = sel.in;
	} else if (t->addr >> SMMU_OAS_BITS) {
		/* Stage 1 bypassed: the input must fit IAS (= OAS, 48 bits). */
		f = (struct xlate_fault){ .stage = 1, .cls = XLATE_CLASS_IN,
					  .input_addr = t->addr };
		fault_event(t, &d, PT_FAULT_ADDR_SIZE, &f, &ev, &record);
		if (ats)
			goto fault;
		return terminate(s, res, &ev, d.s2_record);
	}
	if (cur_trace)
		cur_trace->walk_in = in;
	pr = xlate(&xc, in, t->access, &xr, &f, cur_trace ? &cur_trace->walk : NULL);
	if (pr != PT_OK) {
		fault_event(t, &d, pr, &f, &ev, &record);
		goto fault;
	}
	res->pa = xr.pa;
	res->size = xr.size;
	res->prot = xr.prot;
	res->iotlb_hit = xr.iotlb_hit;
	return 0;
fault:
	if (ats && translation_fault(ev.type)) {
		/* A completion without access: no record, no stall (the endpoint may use PRI). */
		res->event = ev.type;
		return -EFAULT;
	}
	if (ats)
		return terminate(s, res, &ev, record);
	return terminate_or_stall(s, res, &d, &ev, record);
}

int smmuv3_translate(struct smmuv3 *s, const struct smmuv3_txn *t, struct smmuv3_result *res)
{
	return translate(s, t, res, false);
}

int smmuv3_ats_translate(struct smmuv3 *s, const struct smmuv3_txn *t, struct smmuv3_result *res)
{
	if (!s->p.ats) {
		memset(res, 0, sizeof(*res));
		return -EOPNOTSUPP;
	}
	return translate(s, t, res, true);
}

int smmuv3_translate_traced(struct smmuv3 *s, const struct smmuv3_txn *t, struct smmuv3_result *r,
			    struct smmuv3_trace *tr)
{
	int ret;

	memset(tr, 0, sizeof(*tr));
	tr->ttb = -1;
	cur_trace = tr;
	ret = smmuv3_translate(s, t, r);
	cur_trace = NULL;
	return ret;
}
