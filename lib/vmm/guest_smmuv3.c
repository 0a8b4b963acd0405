// SPDX-License-Identifier: MIT
/*
 * guest_smmuv3.c - the structures a guest's SMMUv3 driver writes: stage-1
 * tables and CDs in guest RAM, STE words, commands.
 *
 * What it owns: nothing but the guest's stage-1 tables (a lib/pt table
 * over the guest memory's port), which it checks before every change
 * because guest RAM is anybody's to write. The rest are pure encoders
 * from field values to the architecture's 64-bit words (Arm IHI 0070: STE §5.2, CD
 * §5.4, commands §4); the constants below are this file's own reading of
 * the specification, not the hardware model's, so that a guest built here
 * tests the model rather than mirroring it.
 *
 * Invariants: an encoder either fills every word or returns -EINVAL and
 * leaves the output alone; a CD reaches guest RAM with word 0 (V) last.
 *
 * Locks: none; the caller is the guest (one thread).
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "util/bits.h"
#include "vmm/guest_smmuv3.h"

/* ---------------------------------------------------------------------- */
/* Field positions (64-bit words)                                          */

/* CD word 0 */
#define CD0_T0SZ GENMASK(5, 0)
#define CD0_TG0	 GENMASK(7, 6)
#define CD0_IR0	 GENMASK(9, 8)
#define CD0_OR0	 GENMASK(11, 10)
#define CD0_SH0	 GENMASK(13, 12)
#define CD0_EPD0 BIT(14)
#define CD0_T1SZ GENMASK(21, 16)
#define CD0_TG1	 GENMASK(23, 22)
#define CD0_EPD1 BIT(30)
#define CD0_V	 BIT(31)
#define CD0_IPS	 GENMASK(34, 32)
#define CD0_AFFD BIT(35)
#define CD0_TBI	 GENMASK(39, 38)
#define CD0_AA64 BIT(41)
#define CD0_HD	 BIT(42)
#define CD0_HA	 BIT(43)
#define CD0_S	 BIT(44)
#define CD0_R	 BIT(45)
#define CD0_A	 BIT(46)
#define CD0_ASID GENMASK(63, 48)
/* CD word 1 */
#define CD1_TTB0 GENMASK(51, 4)
#define CD2_TTB1 GENMASK(51, 4)

/* STE word 0 */
#define STE0_V		  BIT(0)
#define STE0_CONFIG	  GENMASK(3, 1)
#define STE0_S1FMT	  GENMASK(5, 4)
#define STE0_S1CTXPTR	  GENMASK(51, 6)
#define STE0_S1CDMAX	  GENMASK(63, 59)
#define STE_CONFIG_ABORT  0
#define STE_CONFIG_BYPASS 4
#define STE_CONFIG_S1	  5
/* STE word 1 */
#define STE1_S1DSS    GENMASK(1, 0)
#define STE1_S1CIR    GENMASK(3, 2)
#define STE1_S1COR    GENMASK(5, 4)
#define STE1_S1CSH    GENMASK(7, 6)
#define STE1_S1STALLD BIT(27)

/* Memory attributes the guest asks for its walks: write-back read-allocate, inner shareable. */
#define ATTR_WBRA 1
#define ATTR_ISH  3

/* Command word 0 */
#define CMD0_OP	    GENMASK(7, 0)
#define CMD0_SSEC   BIT(10)
#define CMD0_SSV    BIT(11)
#define CMD0_SSID   GENMASK(31, 12)
#define CMD0_NUM    GENMASK(16, 12)
#define CMD0_SCALE  GENMASK(24, 20)
#define CMD0_CS	    GENMASK(13, 12)
#define CMD0_ACTION GENMASK(13, 12)
#define CMD0_SID    GENMASK(63, 32)
#define CMD0_VMID   GENMASK(47, 32)
#define CMD0_ASID   GENMASK(63, 48)
/* Command word 1 */
#define CMD1_LEAF  BIT(0)
#define CMD1_RANGE GENMASK(4, 0)
#define CMD1_SIZE  GENMASK(5, 0)
#define CMD1_TTL   GENMASK(9, 8)
#define CMD1_TG	   GENMASK(11, 10)
#define CMD1_ADDR  GENMASK(63, 12)
#define CMD1_IPA   GENMASK(51, 12)
#define CMD1_STAG  GENMASK(15, 0)

/* ---------------------------------------------------------------------- */
/* Stage 1                                                                */

int guest_s1_init(struct guest_s1 *s1, struct guest_mem *gm, unsigned int granule_shift,
		  unsigned int ias, unsigned int oas)
{
	struct pt_cfg c = {
		.format = PT_VMSA_S1,
		.granule_shift = granule_shift,
		.ias = ias,
		.oas = oas,
	};
	int ret;

	memset(s1, 0, sizeof(*s1));
	if ((granule_shift != 12 && granule_shift != 14 && granule_shift != 16) || ias < 25 ||
	    ias > 48 || !gm->has_pool)
		return -EINVAL;
	switch (oas) {
	case 32:
	case 36:
	case 40:
	case 42:
	case 44:
	case 48:
		break;
	default:
		return -EINVAL;
	}
	ret = pt_cfg_init(&c);
	if (ret)
		return ret;
	ret = pt_table_init(&s1->pt, &c, guest_mem_port(gm));
	if (ret)
		return ret;
	s1->live = true;
	return 0;
}

/*
 * lib/pt trusts the tables it writes; these live in guest RAM, where the
 * guest or a device may have written anything. pt_table_check() reads
 * the tree through the port (bounded: a descriptor pointing outside guest
 * RAM is reported, not followed) and says whether it is still exactly
 * the tree lib/pt built, as far as the tables go; leaves may hold
 * anything, the engine never follows them.
 */
static int usable(struct guest_s1 *s1)
{
	if (!s1->live)
		return -EINVAL;
	if (!s1->corrupt && pt_table_check(&s1->pt, NULL))
		s1->corrupt = true;
	return s1->corrupt ? -EUCLEAN : 0;
}

void guest_s1_destroy(struct guest_s1 *s1)
{
	if (s1->live && !usable(s1))
		pt_table_destroy(&s1->pt);
	memset(s1, 0, sizeof(*s1));
}

int guest_s1_map(struct guest_s1 *s1, uint64_t iova, uint64_t gpa, uint64_t size, unsigned int prot)
{
	int ret = usable(s1);

	return ret ? ret : pt_map(&s1->pt, iova, gpa, size, prot);
}

int guest_s1_unmap(struct guest_s1 *s1, uint64_t iova, uint64_t size, uint64_t *unmapped)
{
	int ret = usable(s1);

	return ret ? ret : pt_unmap(&s1->pt, iova, size, unmapped);
}

uint64_t guest_s1_root(const struct guest_s1 *s1)
{
	return s1->pt.root;
}

/* ---------------------------------------------------------------------- */
/* CD                                                                     */

static int ips_of(unsigned int oas)
{
	static const unsigned int bits[] = {32, 36, 40, 42, 44, 48, 52};

	for (unsigned int i = 0; i < ARRAY_SIZE(bits); i++)
		if (bits[i] == oas)
			return (int)i;
	return -EINVAL;
}

static int tg0_of(unsigned int granule_shift)
{
	switch (granule_shift) {
	case 12:
		return 0;
	case 16:
		return 1;
	case 14:
		return 2;
	}
	return -EINVAL;
}

/* TG1 is not TG0's encoding: 0b01 16K, 0b10 4K, 0b11 64K (IHI 0070 §5.4). */
static int tg1_of(unsigned int granule_shift)
{
	switch (granule_shift) {
	case 14:
		return 1;
	case 12:
		return 2;
	case 16:
		return 3;
	}
	return -EINVAL;
}

int guest_cd_encode(const struct guest_cd *cd, uint64_t words[8])
{
	int ips = ips_of(cd->oas), tg0 = tg0_of(cd->granule_shift), tg1 = 0;

	if (ips < 0 || tg0 < 0 || cd->ias < 25 || cd->ias > 48 || (cd->ttb0 & 0xf) ||
	    (cd->ttb0 & ~CD1_TTB0) || cd->tbi > 3)
		return -EINVAL;
	if (cd->ttb1_on) {
		tg1 = tg1_of(cd->granule1_shift);
		if (tg1 < 0 || cd->ias1 < 25 || cd->ias1 > 48 || (cd->ttb1 & ~CD2_TTB1))
			return -EINVAL;
	}
	memset(words, 0, 8 * sizeof(words[0]));
	words[0] = FIELD_PREP(CD0_T0SZ, 64 - cd->ias) | FIELD_PREP(CD0_TG0, tg0) |
		   FIELD_PREP(CD0_IR0, ATTR_WBRA) | FIELD_PREP(CD0_OR0, ATTR_WBRA) |
		   FIELD_PREP(CD0_SH0, ATTR_ISH) | FIELD_PREP(CD0_IPS, ips) | CD0_AA64 | CD0_A |
		   FIELD_PREP(CD0_TBI, cd->tbi) | FIELD_PREP(CD0_ASID, cd->asid);
	/* TTB1's walks use TTB0's cacheability and shareability (IR1/OR1/SH1 = IR0/OR0/SH0). */
	if (cd->ttb1_on)
		words[0] |= FIELD_PREP(CD0_T1SZ, 64 - cd->ias1) | FIELD_PREP(CD0_TG1, tg1) |
			    (uint64_t)ATTR_WBRA << 24 | (uint64_t)ATTR_WBRA << 26 |
			    (uint64_t)ATTR_ISH << 28;
	else
		words[0] |= CD0_EPD1;
	if (cd->valid)
		words[0] |= CD0_V;
	if (cd->epd0)
		words[0] |= CD0_EPD0;
	if (cd->affd)
		words[0] |= CD0_AFFD;
	if (cd->hd)
		words[0] |= CD0_HD;
	if (cd->ha)
		words[0] |= CD0_HA;
	if (cd->stall)
		words[0] |= CD0_S;
	if (cd->record)
		words[0] |= CD0_R;
	words[1] = cd->ttb0 & CD1_TTB0;
	if (cd->ttb1_on)
		words[2] = cd->ttb1 & CD2_TTB1;
	return 0;
}

int guest_cd_write(struct guest_mem *gm, uint64_t gpa, const uint64_t words[8])
{
	uint64_t *p;

	if (gpa & (GUEST_CD_SIZE - 1))
		return -EINVAL;
	p = guest_mem_ptr(gm, gpa, GUEST_CD_SIZE);
	if (!p)
		return -EFAULT;
	for (unsigned int i = 1; i < 8; i++)
		__atomic_store_n(&p[i], htole64(words[i]), __ATOMIC_RELAXED);
	__atomic_store_n(&p[0], htole64(words[0]), __ATOMIC_RELEASE);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* STE                                                                    */

int guest_ste_encode(const struct guest_ste *ste, uint64_t words[2])
{
	uint64_t w0 = 0, w1 = 0;

	switch (ste->config) {
	case GUEST_STE_ABORT:
		w0 = FIELD_PREP(STE0_CONFIG, STE_CONFIG_ABORT);
		break;
	case GUEST_STE_BYPASS:
		w0 = FIELD_PREP(STE0_CONFIG, STE_CONFIG_BYPASS);
		break;
	case GUEST_STE_TRANSLATE:
		if ((ste->cd_table & 63) || (ste->cd_table & ~STE0_S1CTXPTR) || ste->s1cdmax > 20 ||
		    ste->s1dss > GUEST_S1DSS_SSID0)
			return -EINVAL;
		w0 = FIELD_PREP(STE0_CONFIG, STE_CONFIG_S1) | (ste->cd_table & STE0_S1CTXPTR) |
		     FIELD_PREP(STE0_S1CDMAX, ste->s1cdmax);
		/* S1Fmt 0: a linear table of 2^S1CDMax CDs. */
		w1 = FIELD_PREP(STE1_S1DSS, ste->s1cdmax ? ste->s1dss : 0) |
		     FIELD_PREP(STE1_S1CIR, ATTR_WBRA) | FIELD_PREP(STE1_S1COR, ATTR_WBRA) |
		     FIELD_PREP(STE1_S1CSH, ATTR_ISH);
		if (ste->s1stalld)
			w1 |= STE1_S1STALLD;
		break;
	default:
		return -EINVAL;
	}
	if (ste->valid)
		w0 |= STE0_V;
	words[0] = w0;
	words[1] = w1;
	return 0;
}

const char *guest_ste_config_name(enum guest_ste_config c)
{
	switch (c) {
	case GUEST_STE_ABORT:
		return "abort";
	case GUEST_STE_BYPASS:
		return "bypass";
	case GUEST_STE_TRANSLATE:
		return "translate";
	}
	return "?";
}

/* ---------------------------------------------------------------------- */
/* Commands                                                               */

static const struct {
	unsigned int op;
	const char *name;
} cmd_names[] = {
	{GUEST_CMD_PREFETCH_CONFIG, "PREFETCH_CONFIG"},
	{GUEST_CMD_PREFETCH_ADDR, "PREFETCH_ADDR"},
	{GUEST_CMD_CFGI_STE, "CFGI_STE"},
	{GUEST_CMD_CFGI_STE_RANGE, "CFGI_STE_RANGE"},
	{GUEST_CMD_CFGI_CD, "CFGI_CD"},
	{GUEST_CMD_CFGI_CD_ALL, "CFGI_CD_ALL"},
	{GUEST_CMD_TLBI_NH_ALL, "TLBI_NH_ALL"},
	{GUEST_CMD_TLBI_NH_ASID, "TLBI_NH_ASID"},
	{GUEST_CMD_TLBI_NH_VA, "TLBI_NH_VA"},
	{GUEST_CMD_TLBI_NH_VAA, "TLBI_NH_VAA"},
	{GUEST_CMD_TLBI_S12_VMALL, "TLBI_S12_VMALL"},
	{GUEST_CMD_TLBI_S2_IPA, "TLBI_S2_IPA"},
	{GUEST_CMD_TLBI_NSNH_ALL, "TLBI_NSNH_ALL"},
	{GUEST_CMD_ATC_INV, "ATC_INV"},
	{GUEST_CMD_PRI_RESP, "PRI_RESP"},
	{GUEST_CMD_RESUME, "RESUME"},
	{GUEST_CMD_STALL_TERM, "STALL_TERM"},
	{GUEST_CMD_SYNC, "CMD_SYNC"},
};

const char *guest_cmd_name(unsigned int op)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(cmd_names); i++)
		if (cmd_names[i].op == op)
			return cmd_names[i].name;
	return NULL;
}

int guest_cmd_parse(const char *name, bool *range_all)
{
	*range_all = false;
	if (!strcmp(name, "CFGI_ALL")) {
		*range_all = true;
		return GUEST_CMD_CFGI_STE_RANGE;
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(cmd_names); i++)
		if (!strcmp(cmd_names[i].name, name))
			return (int)cmd_names[i].op;
	return -EINVAL;
}

/* A range TLBI's fields: NUM, SCALE (word 0), TTL, TG (word 1). */
static int tlbi_range(const struct guest_cmd *c, uint64_t *w0, uint64_t *w1)
{
	if (c->num > 31 || c->scale > 31 || c->ttl > 3 || c->tg > 3)
		return -EINVAL;
	*w0 |= FIELD_PREP(CMD0_NUM, c->num) | FIELD_PREP(CMD0_SCALE, c->scale);
	*w1 |= FIELD_PREP(CMD1_TTL, c->ttl) | FIELD_PREP(CMD1_TG, c->tg);
	if (c->leaf)
		*w1 |= CMD1_LEAF;
	return 0;
}

int guest_cmd_encode(const struct guest_cmd *c, uint64_t words[2])
{
	uint64_t w0 = FIELD_PREP(CMD0_OP, c->op), w1 = 0;

	if (c->ssid > 0xfffff)
		return -EINVAL;
	switch (c->op) {
	case GUEST_CMD_PREFETCH_CONFIG:
	case GUEST_CMD_PREFETCH_ADDR:
	case GUEST_CMD_ATC_INV:
		w0 |= FIELD_PREP(CMD0_SID, c->sid) | FIELD_PREP(CMD0_SSID, c->ssid);
		if (c->ssv)
			w0 |= CMD0_SSV;
		if (c->op == GUEST_CMD_ATC_INV) {
			if (c->size > 63)
				return -EINVAL;
			w1 = FIELD_PREP(CMD1_SIZE, c->size) | (c->addr & CMD1_ADDR);
		} else if (c->op == GUEST_CMD_PREFETCH_ADDR) {
			w1 = c->addr & CMD1_ADDR;
		}
		break;
	case GUEST_CMD_CFGI_STE:
		w0 |= FIELD_PREP(CMD0_SID, c->sid);
		if (c->leaf)
			w1 |= CMD1_LEAF;
		break;
	case GUEST_CMD_CFGI_STE_RANGE:
		if (c->range > 31)
			return -EINVAL;
		w0 |= FIELD_PREP(CMD0_SID, c->sid);
		w1 = FIELD_PREP(CMD1_RANGE, c->range);
		break;
	case GUEST_CMD_CFGI_CD:
		w0 |= FIELD_PREP(CMD0_SID, c->sid) | FIELD_PREP(CMD0_SSID, c->ssid);
		if (c->leaf)
			w1 |= CMD1_LEAF;
		break;
	case GUEST_CMD_CFGI_CD_ALL:
	case GUEST_CMD_STALL_TERM:
	case GUEST_CMD_PRI_RESP:
		w0 |= FIELD_PREP(CMD0_SID, c->sid);
		break;
	case GUEST_CMD_RESUME:
		if (c->action > 3)
			return -EINVAL;
		w0 |= FIELD_PREP(CMD0_SID, c->sid) | FIELD_PREP(CMD0_ACTION, c->action);
		w1 = FIELD_PREP(CMD1_STAG, c->stag);
		break;
	case GUEST_CMD_TLBI_NH_ALL:
	case GUEST_CMD_TLBI_S12_VMALL:
		w0 |= FIELD_PREP(CMD0_VMID, c->vmid);
		break;
	case GUEST_CMD_TLBI_NH_ASID:
		w0 |= FIELD_PREP(CMD0_VMID, c->vmid) | FIELD_PREP(CMD0_ASID, c->asid);
		break;
	case GUEST_CMD_TLBI_NH_VA:
		w0 |= FIELD_PREP(CMD0_ASID, c->asid);
		/* fall through */
	case GUEST_CMD_TLBI_NH_VAA:
		w0 |= FIELD_PREP(CMD0_VMID, c->vmid);
		if (tlbi_range(c, &w0, &w1))
			return -EINVAL;
		w1 |= c->addr & CMD1_ADDR;
		break;
	case GUEST_CMD_TLBI_S2_IPA:
		w0 |= FIELD_PREP(CMD0_VMID, c->vmid);
		if (tlbi_range(c, &w0, &w1))
			return -EINVAL;
		w1 |= c->addr & CMD1_IPA;
		break;
	case GUEST_CMD_TLBI_NSNH_ALL:
		break;
	case GUEST_CMD_SYNC:
		if (c->cs > 3)
			return -EINVAL;
		w0 |= FIELD_PREP(CMD0_CS, c->cs);
		break;
	default:
		return -EINVAL;
	}
	if (c->ssec)
		w0 |= CMD0_SSEC;
	words[0] = w0;
	words[1] = w1;
	return 0;
}
