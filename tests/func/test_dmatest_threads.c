// SPDX-License-Identifier: MIT
/*
 * Two dmatest functions copying at once while the IOAS under them is
 * unmapped and mapped again (and a third thread reads STATUS without the
 * device lock). Run under ThreadSanitizer by `make check-tsan`.
 *
 * What each copy must show, whatever the interleaving: either it completed
 * (DONE, DONE_BYTES = LEN, the destination equals the source) or it
 * faulted (ERROR with DMA_FAULT, FAULT_IOVA = the source or destination
 * IOVA plus DONE_BYTES, and the destination holds the source's bytes
 * before DONE_BYTES and its cleared value from there on). The memory
 * stays the program's (user memory, only the IOMMU mapping comes and
 * goes), so a copy that translated before an unmap writes to valid memory.
 * Seeded; the seed is printed on failure.
 */
#include <pthread.h>

#include "dmatest_fixture.h"

#define K4     4096u
#define PAGES  8u
#define LEN    (PAGES * K4)
#define CYCLES 200u /* unmap + map cycles of the main thread */

struct worker {
	struct dt_fix f;
	uint8_t *src, *dst;
	uint64_t src_iova, dst_iova;
	unsigned int done, faulted;
	char err[160];
};

static int stop_flag; /* atomic */

static void *worker_fn(void *arg)
{
	struct worker *w = arg;

	for (unsigned int r = 0;
	     !w->err[0] && (!r || !__atomic_load_n(&stop_flag, __ATOMIC_RELAXED)); r++) {
		uint64_t st, moved, fiova;

		memset(w->dst, 0, LEN);
		dmatest_bar_write(w->f.d, 0, DMATEST_REG_SRC_IOVA, 8, w->src_iova);
		dmatest_bar_write(w->f.d, 0, DMATEST_REG_DST_IOVA, 8, w->dst_iova);
		dmatest_bar_write(w->f.d, 0, DMATEST_REG_LEN, 4, LEN);
		dmatest_bar_write(w->f.d, 0, DMATEST_REG_OP, 4, DMATEST_OP_COPY);
		dmatest_bar_write(w->f.d, 0, DMATEST_REG_GO, 4, 1);
		dmatest_bar_read(w->f.d, 0, DMATEST_REG_STATUS, 4, &st);
		dmatest_bar_read(w->f.d, 0, DMATEST_REG_DONE_BYTES, 8, &moved);
		dmatest_bar_read(w->f.d, 0, DMATEST_REG_FAULT_IOVA, 8, &fiova);
		if (st == DMATEST_STATUS_DONE) {
			if (moved != LEN || memcmp(w->dst, w->src, LEN))
				snprintf(w->err, sizeof(w->err), "round %u: done but moved %llu", r,
					 (unsigned long long)moved);
			w->done++;
		} else if (st == (DMATEST_STATUS_DONE | DMATEST_STATUS_ERROR |
				  DMATEST_ERR_DMA_FAULT << DMATEST_STATUS_ERR_SHIFT)) {
			bool at = fiova == w->src_iova + moved || fiova == w->dst_iova + moved;
			bool clean = true;

			for (uint64_t i = moved; i < LEN && clean; i++)
				clean = !w->dst[i];
			if (!at || moved >= LEN || memcmp(w->dst, w->src, moved) || !clean)
				snprintf(w->err, sizeof(w->err),
					 "round %u: fault at 0x%llx moved %llu (at %d clean %d)", r,
					 (unsigned long long)fiova, (unsigned long long)moved, at,
					 clean);
			w->faulted++;
		} else {
			snprintf(w->err, sizeof(w->err), "round %u: status 0x%llx", r,
				 (unsigned long long)st);
		}
	}
	return NULL;
}

/* Reads STATUS without the device lock while the copies run. */
static void *observer_fn(void *arg)
{
	struct worker *w = arg;
	uint64_t st;

	while (!__atomic_load_n(&stop_flag, __ATOMIC_RELAXED))
		dmatest_bar_read(w[0].f.d, 0, DMATEST_REG_STATUS, 4, &st);
	return NULL;
}

static unsigned int seed;

static void print_seed(void *arg)
{
	printf("# seed %u (rerun: DMATEST_SEED=%u)\n", seed, seed);
}

static void test_copy_while_unmapping(void *arg)
{
	struct worker w[2];
	pthread_t th[2], obs;
	uint64_t base = MOCK_APERTURE_START;
	uint32_t ioas;
	const char *env = getenv("DMATEST_SEED");

	seed = env ? (unsigned int)strtoul(env, NULL, 0) : 12345u;
	srand(seed);
	tap.on_fail = print_seed;
	iommufd_setup();
	ioas = ioas_alloc();
	memset(w, 0, sizeof(w));
	for (int i = 0; i < 2; i++) {
		dt_open(&w[i].f, ioas, 0, NULL);
		dt_enable(w[i].f.d);
		w[i].src = dt_mem(LEN);
		w[i].dst = dt_mem(LEN);
		for (unsigned int k = 0; k < LEN; k++)
			w[i].src[k] = (uint8_t)(k * 13 + i + 1) | 1;
		w[i].src_iova = base + (uint64_t)i * (4 << 20);
		w[i].dst_iova = w[i].src_iova + (2 << 20);
		for (unsigned int p = 0; p < PAGES; p++) {
			ioas_map_fixed(ioas, w[i].src + p * K4, K4, w[i].src_iova + p * K4);
			ioas_map_fixed(ioas, w[i].dst + p * K4, K4, w[i].dst_iova + p * K4);
		}
	}
	__atomic_store_n(&stop_flag, 0, __ATOMIC_RELAXED);
	for (int i = 0; i < 2; i++)
		TAP_CHECK(!pthread_create(&th[i], NULL, worker_fn, &w[i]), "thread");
	TAP_CHECK(!pthread_create(&obs, NULL, observer_fn, w), "observer");
	/* Unmap and map pages of both devices' ranges while the copies run. */
	for (unsigned int n = 0; n < CYCLES; n++) {
		struct worker *x = &w[rand() % 2];
		unsigned int p = (unsigned int)rand() % PAGES;
		bool s = rand() & 1;
		uint64_t iova = (s ? x->src_iova : x->dst_iova) + p * K4;
		uint8_t *mem = (s ? x->src : x->dst) + p * K4;

		ioas_unmap(ioas, iova, K4);
		sched_yield();
		ioas_map_fixed(ioas, mem, K4, iova);
	}
	__atomic_store_n(&stop_flag, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pthread_join(obs, NULL);
	for (int i = 0; i < 2; i++) {
		TAP_CHECK(!w[i].err[0], "device %d: %s", i, w[i].err);
		TAP_CHECK(w[i].done + w[i].faulted > 0, "device %d ran", i);
		tap_diag("device %d: %u completed, %u faulted", i, w[i].done, w[i].faulted);
	}
	for (int i = 0; i < 2; i++) {
		dt_close(&w[i].f);
		ioas_unmap(ioas, w[i].src_iova, LEN);
		ioas_unmap(ioas, w[i].dst_iova, LEN);
		munmap(w[i].src, LEN);
		munmap(w[i].dst, LEN);
	}
	iommufd_teardown();
}

int main(void)
{
	tap_plan(1);
	tap_run("two devices copy while their IOAS is unmapped and mapped",
		test_copy_while_unmapping, NULL);
	if (self_file)
		uiommu_close(self_file);
	return tap_done();
}
