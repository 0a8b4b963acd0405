// SPDX-License-Identifier: MIT
/*
 * lib/hw/smmuv3: translations that take no lock (published registers,
 * configuration cache, interned stage configurations) against a thread
 * that changes the configuration, for ThreadSanitizer (make check-tsan)
 * and for the architectural promise: once CMD_CFGI_STE + CMD_SYNC (or a
 * register write) has completed, no translation that starts afterwards
 * uses the old configuration.
 *
 * The writer cycles one stream through three states: stage-2 translate
 * (IPA -> its guest RAM page), STE bypass (output = input), and SMMUEN = 0
 * with GBPA.ABORT (terminated, no event). Around each change it publishes
 * a sequence number, odd while changing. Readers translate and, when the
 * number was the same even value before and after their call, check the
 * outcome against that state: a stale decode or register copy shows up
 * as the previous state's answer. The writer moves on only when every
 * reader has checked the current state.
 */
#include <pthread.h>
#include <sched.h>

#include "smmuv3_env.h"

#define SID	 4
#define VMID	 6
#define READERS	 2
#define CHANGES	 600
#define IPA_OFF	 0x3000ULL

static struct smmu_env T;
static uint64_t pub;			/* 2 * state number, odd while changing */
static uint64_t checked, wrong, other; /* reader tallies */
static int done;
static uint64_t seen[READERS];		/* per reader: the last state it checked */

static void ste_store(uint64_t q0, uint64_t q1, uint64_t q2, uint64_t q3)
{
	uint64_t *p = ste_at(&T, SID);

	/* A live STE is rewritten qword 0 last, as a driver does (readers fetch it). */
	__atomic_store_n(&p[0], STE0_V, __ATOMIC_RELEASE);
	__atomic_store_n(&p[1], q1, __ATOMIC_RELAXED);
	__atomic_store_n(&p[2], q2, __ATOMIC_RELAXED);
	__atomic_store_n(&p[3], q3, __ATOMIC_RELAXED);
	__atomic_store_n(&p[0], q0, __ATOMIC_RELEASE);
}

static void cfgi_sync(void)
{
	cmd_issue(&T, 0x03 | (uint64_t)SID << 32, 0); /* CFGI_STE */
	cmd_issue(&T, 0x46, 0);			      /* CMD_SYNC */
}

/* Enter state @st (0: translate, 1: bypass, 2: SMMUEN off, GBPA abort). */
static void set_state(unsigned int st)
{
	uint32_t cr0 = SMMU_CR0_SMMUEN | SMMU_CR0_EVENTQEN | SMMU_CR0_CMDQEN;

	switch (st) {
	case 0:
		ste_store(STE0_V | STE0_CFG(6), 0, ste2_std(VMID, 40, 1), T.e.s2.root);
		cfgi_sync();
		sm_w32(&T, SMMU_CR0, cr0);
		break;
	case 1:
		ste_store(STE0_V | STE0_CFG(4), 0, 0, 0);
		cfgi_sync();
		break;
	default:
		sm_w32(&T, SMMU_GBPA, SMMU_GBPA_UPDATE | SMMU_GBPA_ABORT);
		sm_w32(&T, SMMU_CR0, cr0 & ~SMMU_CR0_SMMUEN);
		break;
	}
}

static void *reader(void *arg)
{
	uint64_t ipa = GRAM_IPA + IPA_OFF, *me = arg;

	while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
		uint64_t p0 = __atomic_load_n(&pub, __ATOMIC_ACQUIRE), p1;
		struct smmuv3_result r;
		bool ok;
		int ret;

		ret = sm_xlate(&T, SID, SMMU_NO_SSID, ipa, PT_PROT_R, &r);
		p1 = __atomic_load_n(&pub, __ATOMIC_ACQUIRE);
		if ((p0 & 1) || p0 != p1) {
			__atomic_fetch_add(&other, 1, __ATOMIC_RELAXED);
			continue;
		}
		switch (p0 / 2 % 3) {
		case 0:
			ok = !ret && r.pa == T.e.gram_pa + IPA_OFF;
			break;
		case 1:
			ok = !ret && r.pa == ipa;
			break;
		default:
			ok = ret == -EFAULT && r.event == SMMU_EVT_NONE;
			break;
		}
		__atomic_fetch_add(ok ? &checked : &wrong, 1, __ATOMIC_RELAXED);
		__atomic_store_n(me, p0, __ATOMIC_RELEASE);
		sched_yield(); /* the writer needs the CPU too */
	}
	return NULL;
}

static void test_config_changes(void **state)
{
	struct pt_cfg c2 = env_mk(PT_VMSA_S2, 12, 40, 48, 1, PT_CFG_NO_BLOCKS);
	pthread_t th[READERS];

	(void)state;
	smmu_env_init(&T, NULL, &c2);
	set_state(0);
	pub = 0;
	for (unsigned int i = 0; i < READERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader, &seen[i]), 0);
	for (uint64_t n = 1; n <= CHANGES; n++) {
		__atomic_store_n(&pub, 2 * n - 1, __ATOMIC_RELEASE);
		set_state(n % 3);
		__atomic_store_n(&pub, 2 * n, __ATOMIC_RELEASE);
		/* Every reader checks every state at least once. */
		for (unsigned int i = 0; i < READERS; i++)
			while (__atomic_load_n(&seen[i], __ATOMIC_ACQUIRE) < 2 * n)
				sched_yield();
	}
	__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < READERS; i++)
		pthread_join(th[i], NULL);
	print_message("# %llu checked, %llu during changes, %llu wrong\n",
		      (unsigned long long)checked, (unsigned long long)other,
		      (unsigned long long)wrong);
	assert_int_equal(wrong, 0);
	assert_true(checked >= (uint64_t)READERS * CHANGES);
	assert_true(evt_empty(&T));
	smmu_env_destroy(&T);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_changes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
