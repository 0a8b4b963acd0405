// SPDX-License-Identifier: MIT
/*
 * lib/hw/vtd: the isolation property in nested mode. A guest owns the
 * first stage: here its tables are random bytes (present or not, any
 * flags, pointers into its RAM, just past it, or anywhere), and so is
 * FSPTPTR. The second stage is the host's and fixed: it maps guest RAM
 * and nothing else. Whatever the guest wrote, every first-stage fetch the
 * unit makes lies in guest RAM, every translation's output (and the whole
 * range it says translates alike) lies in guest RAM, and the second stage's
 * own reads stay in its tables. A unit with caches and one without agree
 * on every outcome (the tables do not change during a round; A/D updates
 * only set bits no outcome depends on). Fixed seeds, printed on failure.
 */
#include <stdio.h>

#include "vtd_env.h"

#define ROUNDS	  150
#define PER_ROUND 40
#define TPAGES	  16 /* first-stage table pages in guest RAM */

static uint64_t rnd_state;

static uint64_t rnd(void)
{
	uint64_t x = rnd_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rnd_state = x;
	return x;
}

#define CHECK(cond, seed)                                                                       \
	do {                                                                                    \
		if (!(cond))                                                                    \
			fail_msg("%s failed (seed 0x%llx)", #cond, (unsigned long long)(seed)); \
	} while (0)

/* A random first-stage descriptor: mostly present, pointing mostly at table pages. */
static uint64_t rnd_desc(struct vtd_env *t, const uint64_t *tp)
{
	uint64_t r = rnd(), addr;

	switch (r % 16) {
	case 0:
		return rnd(); /* anything */
	case 1:
		addr = GRAM_IPA + t->e.gram_size + (rnd() % 16) * 4096; /* just past guest RAM */
		break;
	case 2:
		addr = (rnd() & ((1ULL << 40) - 1)) & ~0xfffULL; /* anywhere */
		break;
	case 3:
		addr = t->e.data_ipa + (rnd() % 256) * 4096; /* data pages */
		break;
	default:
		addr = tp[rnd() % TPAGES];
		break;
	}
	/* P; R/W, A, D random; U/S and PS rarely clear / set. */
	return addr | (r >> 8 & 0x62) | 1 | ((r >> 16) % 16 ? 0x4 : 0) |
	       ((r >> 20) % 16 == 0 ? 0x80 : 0);
}

static void program(struct vtd *v, struct vtd_env *t)
{
	assert_int_equal(vtd_mmio_write(v, VTD_RTADDR_REG, 8, t->root | VTD_RTADDR_SMT), 0);
	assert_int_equal(vtd_mmio_write(v, VTD_GCMD_REG, 4, VTD_GCMD_SRTP), 0);
	assert_int_equal(vtd_mmio_write(v, VTD_GCMD_REG, 4, VTD_GCMD_TE), 0);
}

static void test_isolation(void **state)
{
	struct pt_cfg c1 = vt_s1_cfg(), c2 = vt_s2_cfg(0);
	uint64_t tp[TPAGES];
	struct vtd_params p;
	struct vtd_env t;
	struct vtd *plain;
	unsigned int ok = 0, faults = 0;

	vt_init(&t, &c1, &c2);
	vtd_params_default(&p);
	p.no_cache = true;
	assert_int_equal(vtd_new(&p, &t.e.host.mem, &plain), 0);
	program(plain, &t);
	vt_set_ctx(&t, CE0_FPD, 0); /* nothing to record: keep the fault registers quiet */
	for (unsigned int i = 0; i < TPAGES; i++)
		tp[i] = GRAM_IPA + 0x100000 + i * 4096ULL; /* inside the table half */

	for (unsigned int round = 0; round < ROUNDS; round++) {
		uint64_t seed = 0x5eed0000ULL + round;

		rnd_state = seed * 0x9e3779b97f4a7c15ULL | 1;
		for (unsigned int i = 0; i < TPAGES; i++) {
			uint64_t *tab = vt_hp(&t, t.e.gram_pa + (tp[i] - GRAM_IPA));

			for (unsigned int j = 0; j < 512; j++)
				tab[j] = rnd() % 8 ? rnd_desc(&t, tp) : 0;
		}
		vt_pe_nested(&t, PASID, DID, 0);
		vt_pe(&t, PASID)[2] = rnd() % 8 ? tp[rnd() % TPAGES] : rnd_desc(&t, tp) & ~0xfffULL;
		vt_pe(&t, PASID)[2] &= (1ULL << 52) - 1;
		/* New tables: flush both units (PASID cache and IOTLB). */
		assert_true(vt_inv(&t, VTD_INV_PC | 3ULL << 4, 0));
		assert_true(vt_inv(&t, VTD_INV_IOTLB | 1ULL << 4, 0));
		assert_int_equal(vtd_mmio_write(plain, VTD_CCMD_REG, 8, 1ULL << 63), 0);

		for (unsigned int k = 0; k < PER_ROUND; k++) {
			uint64_t iova = rnd() & ((1ULL << 48) - 1);
			unsigned int access = PT_PROT_U | (rnd() & 1 ? PT_PROT_W : PT_PROT_R);
			struct vtd_txn txn = {
				.sid = VSID, .pasid = PASID, .addr = iova, .access = access};
			struct vtd_result r, r2;
			struct vtd_trace tr;
			int ret, ret2;

			if (k % 4 == 0) /* reuse a recent address: cache hits */
				txn.addr = iova = iova & ~((1ULL << 30) - 1);
			ret = vtd_translate_traced(t.v, &txn, &r, &tr);
			ret2 = vtd_translate(plain, &txn, &r2);
			CHECK(ret == ret2, seed);
			for (unsigned int i = 0; i < tr.walk.n && i < XLATE_MAX_READS; i++) {
				uint64_t a = tr.walk.r[i].addr;

				if (tr.walk.r[i].stage == 1)
					CHECK(a >= t.e.gram_pa && a < t.e.gram_pa + t.e.gram_size,
					      seed);
				else
					CHECK(a >= t.e.host.base && a < t.e.gram_pa, seed);
			}
			if (ret) {
				CHECK(r.reason == r2.reason, seed);
				faults++;
				continue;
			}
			ok++;
			CHECK(r.pa == r2.pa && r.size == r2.size, seed);
			uint64_t base = r.pa & ~(r.size - 1);
			CHECK(base >= t.e.gram_pa && base + r.size <= t.e.gram_pa + t.e.gram_size,
			      seed);
		}
	}
	print_message("# %u translations, %u blocked\n", ok, faults);
	/* The random tables must reach both outcomes, or the test proves little. */
	assert_true(ok > 100);
	assert_true(faults > 100);
	vtd_free(plain);
	vt_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_isolation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
