// SPDX-License-Identifier: MIT
/*
 * bench_smmuv3 - the SMMUv3 model's data path and command queue (issue 6).
 *
 * Setup: 64 MiB of guest RAM at IPA 0x8000_0000 in a host arena; the host's
 * stage 2 (4K granule, 40-bit IPA) maps it with 4 KiB pages ("s2leaf":
 * "4K") or 2 MiB blocks ("2M"); the guest's stage 1 (4K granule, 48-bit
 * VA, tables in guest RAM) maps 32 MiB of IOVA to guest RAM with 2 MiB
 * blocks, so the combined leaf is the stage-2 one. One nested STE (Config
 * 0b111) and its CD; an SMMU with the default caches ("caches": "on"), and
 * the same set-up with none, where every translation is the full nested
 * walk (the baseline).
 *
 * Workloads:
 *  - smmuv3_translate: one smmuv3_translate() per call over IOVAs that a
 *    fixed-seed sequence spreads over the 32 MiB (4K-aligned), so the
 *    IOTLB holds them once warm (4K: 8192 pages over a 4096-entry IOTLB,
 *    so some miss; 2M: 16 entries): ns per translation.
 *  - smmuv3_dma: a device read of 4 KiB or 64 KiB at a random aligned
 *    IOVA: translate, copy what the leaf covers out of guest RAM into a
 *    device buffer, translate again at the next leaf; reported per
 *    transfer with gb_per_s and translations per transfer. memcpy of the
 *    same bytes is the baseline of the same run ("memcpy_baseline").
 *  - smmuv3_cmdq: a batch of 31 commands of one kind and a CMD_SYNC,
 *    written into the command queue and consumed by one CMDQ_PROD write
 *    (the driver's writes included), on an SMMU whose caches hold the
 *    translations above: commands/s. TLBI_NH_VA (one page, Leaf, a
 *    different page each), TLBI_S2_IPA (one page), CFGI_STE, CFGI_CD.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "hw/smmuv3/smmuv3.h"
#include "pt/pt.h"

#define HBASE	  0x40000000ULL
#define HSIZE	  (128ULL << 20)
#define GRAM_PA	  (HBASE + (64ULL << 20))
#define GRAM_SIZE (64ULL << 20)
#define GRAM_IPA  0x80000000ULL
#define IOVA	  0x100000000ULL
#define IOVA_SIZE (32ULL << 20)
#define S1_TABLES (GRAM_IPA + (48ULL << 20)) /* stage-1 tables in the top of guest RAM */
#define DATA_IPA  GRAM_IPA		     /* IOVA + x -> DATA_IPA + x */
#define N_IOVAS	  4096
#define SID	  1

struct setup {
	const char *s2leaf;
	bool cached;
	struct pt_arena host, guest;
	struct pt_table s1, s2;
	struct smmuv3 *s;
	uint64_t strtab, cmdq, evtq, cd;
	uint64_t iova[N_IOVAS];
	uint8_t *devbuf;
};

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_smmuv3: %s: %s\n", what, strerror(err));
	exit(1);
}

static void *hp(struct setup *x, uint64_t pa)
{
	return x->host.buf + (pa - HBASE);
}

static void mmio_w(struct setup *x, uint64_t off, unsigned int sz, uint64_t v)
{
	if (smmuv3_mmio_write(x->s, off, sz, v))
		die("mmio", EINVAL);
}

static uint32_t mmio_r(struct setup *x, uint64_t off)
{
	uint64_t v;

	if (smmuv3_mmio_read(x->s, off, 4, &v))
		die("mmio", EINVAL);
	return (uint32_t)v;
}

static void build(struct setup *x, const char *s2leaf, bool cached)
{
	struct pt_cfg c2 = {.format = PT_VMSA_S2,
			    .granule_shift = 12,
			    .ias = 40,
			    .oas = 48,
			    .sl0 = 1,
			    .flags = strcmp(s2leaf, "4K") ? 0 : PT_CFG_NO_BLOCKS};
	struct pt_cfg c1 = {.format = PT_VMSA_S1, .granule_shift = 12, .ias = 48, .oas = 48};
	struct smmuv3_params p;
	uint64_t *ste, *cd, rng = 0x9e3779b97f4a7c15ULL;

	memset(x, 0, sizeof(*x));
	x->s2leaf = s2leaf;
	x->cached = cached;
	if (pt_cfg_init(&c1) || pt_cfg_init(&c2) || pt_arena_init(&x->host, HBASE, HSIZE) ||
	    pt_arena_reserve(&x->host, GRAM_PA, GRAM_SIZE) ||
	    pt_table_init(&x->s2, &c2, &x->host.mem) ||
	    pt_map(&x->s2, GRAM_IPA, GRAM_PA, GRAM_SIZE, PT_PROT_RW))
		die("stage 2", ENOMEM);
	/* The guest's tables, in guest RAM at their IPAs. */
	if (pt_arena_init_at(&x->guest, S1_TABLES, 16ULL << 20,
			     hp(x, GRAM_PA + (S1_TABLES - GRAM_IPA))) ||
	    pt_table_init(&x->s1, &c1, &x->guest.mem) ||
	    pt_map(&x->s1, IOVA, DATA_IPA, IOVA_SIZE, PT_PROT_RW))
		die("stage 1", ENOMEM);
	if (pt_arena_alloc(&x->host, 4096, 4096, &x->strtab) ||
	    pt_arena_alloc(&x->host, 4096, 4096, &x->cmdq) ||
	    pt_arena_alloc(&x->host, 4096, 4096, &x->evtq))
		die("queues", ENOMEM);
	/* CD in guest RAM (an IPA): T0SZ 16, 4K, EPD1 (no TTB1), V, IPS 48, AA64, R, A, ASID 1. */
	x->cd = S1_TABLES - 4096;
	cd = hp(x, GRAM_PA + (x->cd - GRAM_IPA));
	cd[0] = 16 | 1ULL << 30 | 1ULL << 31 | 5ULL << 32 | 1ULL << 41 | 1ULL << 45 | 1ULL << 46 |
		1ULL << 48;
	cd[1] = x->s1.root;
	ste = hp(x, x->strtab + SID * 64);
	ste[0] = 1 | 7 << 1 | x->cd;
	ste[2] = 2 | 24ULL << 32 | 1ULL << 38 | 5ULL << 48 | 1ULL << 51 | 1ULL << 58; /* VMID 2 */
	ste[3] = x->s2.root;
	smmuv3_params_default(&p);
	p.no_cache = !cached;
	if (smmuv3_new(&p, &x->host.mem, &x->s))
		die("smmuv3_new", ENOMEM);
	mmio_w(x, SMMU_STRTAB_BASE, 8, x->strtab);
	mmio_w(x, SMMU_STRTAB_BASE_CFG, 4, 6);
	mmio_w(x, SMMU_CMDQ_BASE, 8, x->cmdq | 8); /* 256 commands */
	mmio_w(x, SMMU_EVENTQ_BASE, 8, x->evtq | 7);
	mmio_w(x, SMMU_CR0, 4, SMMU_CR0_SMMUEN | SMMU_CR0_EVENTQEN | SMMU_CR0_CMDQEN);
	for (unsigned int i = 0; i < N_IOVAS; i++) {
		rng ^= rng >> 12;
		rng ^= rng << 25;
		rng ^= rng >> 27;
		x->iova[i] = IOVA + ((rng * 0x2545f4914f6cdd1dULL) % IOVA_SIZE & ~0xfffULL);
	}
	x->devbuf = aligned_alloc(4096, 64 << 10);
	if (!x->devbuf)
		die("devbuf", ENOMEM);
	for (uint64_t off = 0; off < IOVA_SIZE; off += 4096)
		*(uint64_t *)hp(x, GRAM_PA + (DATA_IPA - GRAM_IPA) + off) = off;
}

static void destroy(struct setup *x)
{
	free(x->devbuf);
	smmuv3_free(x->s);
	pt_table_destroy(&x->s1);
	pt_table_destroy(&x->s2);
	pt_arena_destroy(&x->guest);
	pt_arena_destroy(&x->host);
}

static void xlate_or_die(struct setup *x, uint64_t iova, struct smmuv3_result *r)
{
	struct smmuv3_txn t = {.sid = SID, .ssid = SMMU_NO_SSID, .addr = iova, .access = PT_PROT_R};

	if (smmuv3_translate(x->s, &t, r))
		die("translate", EFAULT);
}

static void emit(const char *name, struct setup *x, uint64_t bytes, const struct bench_stats *st,
		 double per_op)
{
	struct bench_json j;

	bj_begin(&j, name);
	bj_param_str(&j, "s2leaf", x ? x->s2leaf : "-");
	bj_param_str(&j, "caches", x ? (x->cached ? "on" : "off") : "-");
	if (bytes)
		bj_param_u64(&j, "bytes", bytes);
	bj_stats(&j, st);
	if (bytes)
		bj_f(&j, "gb_per_s", (double)bytes / st->p50);
	if (per_op > 0)
		bj_f(&j, "translations_per_op", per_op);
	bj_end(&j);
}

static void run_translate(struct setup *x)
{
	unsigned int batch = 256, n = bench_samples_for(batch * 50.0, 50, 10000), pos = 0;
	double *v = calloc(n, sizeof(*v));
	struct smmuv3_result r;
	struct bench_stats st;
	char desc[64];

	snprintf(desc, sizeof(desc), "translate %s %s", x->s2leaf, x->cached ? "on" : "off");
	if (!v || !bench_want(desc)) {
		free(v);
		return;
	}
	for (unsigned int i = 0; i < N_IOVAS; i++) { /* warm up; and check the answer */
		xlate_or_die(x, x->iova[i], &r);
		if (*(uint64_t *)hp(x, r.pa) != x->iova[i] - IOVA)
			die("wrong translation", EIO);
	}
	for (unsigned int i = 0; i < n; i++) {
		uint64_t t0 = bench_ticks(), sum = 0;

		for (unsigned int k = 0; k < batch; k++) {
			xlate_or_die(x, x->iova[pos++ & (N_IOVAS - 1)], &r);
			sum += r.pa;
		}
		bench_keep(sum);
		v[i] = bench_ns(bench_ticks() - t0) / batch;
	}
	bench_stats(v, n, &st);
	emit("smmuv3_translate", x, 0, &st, 1);
	free(v);
}

/* One device read of @len bytes at @iova: translations made. */
static unsigned int dma_read(struct setup *x, uint64_t iova, uint64_t len)
{
	struct smmuv3_result r;
	unsigned int n = 0;

	for (uint64_t off = 0; off < len;) {
		uint64_t chunk;

		xlate_or_die(x, iova + off, &r);
		n++;
		chunk = r.size - (r.pa & (r.size - 1));
		if (chunk > len - off)
			chunk = len - off;
		memcpy(x->devbuf + off, hp(x, r.pa), chunk);
		off += chunk;
	}
	return n;
}

static void run_dma(struct setup *x, uint64_t len)
{
	unsigned int batch = len >= 65536 ? 4 : 32;
	unsigned int n = bench_samples_for((double)batch * len / 4.0, 30, 5000), pos = 0;
	double *v = calloc(n, sizeof(*v));
	uint64_t xl = 0, ops = 0;
	struct bench_stats st;
	char desc[64];

	snprintf(desc, sizeof(desc), "dma %s %s %llu", x->s2leaf, x->cached ? "on" : "off",
		 (unsigned long long)len);
	if (!v || !bench_want(desc)) {
		free(v);
		return;
	}
	for (unsigned int i = 0; i < n + 4; i++) {
		uint64_t t0 = bench_ticks();

		for (unsigned int k = 0; k < batch; k++) {
			xl += dma_read(x, x->iova[pos++ & (N_IOVAS - 1)] & ~(len - 1), len);
			ops++;
		}
		bench_keep(x->devbuf[len - 1]);
		if (i >= 4)
			v[i - 4] = bench_ns(bench_ticks() - t0) / batch;
	}
	bench_stats(v, n, &st);
	emit("smmuv3_dma", x, len, &st, (double)xl / ops);
	free(v);
}

static void run_memcpy(uint64_t len)
{
	unsigned int n = bench_samples_for((double)len / 4.0, 30, 5000);
	double *v = calloc(n, sizeof(*v));
	uint8_t *src = aligned_alloc(4096, 32ULL << 20), *dst = aligned_alloc(4096, 64 << 10);
	uint64_t rng = 7;
	struct bench_stats st;
	char desc[64];

	snprintf(desc, sizeof(desc), "memcpy %llu", (unsigned long long)len);
	if (!v || !src || !dst || !bench_want(desc))
		goto out;
	memset(src, 1, 32ULL << 20);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t t0;

		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		t0 = bench_ticks();
		memcpy(dst, src + ((rng >> 20) % (32ULL << 20) & ~(len - 1)), len);
		bench_keep(dst[len - 1]);
		v[i] = bench_ns(bench_ticks() - t0);
	}
	bench_stats(v, n, &st);
	emit("memcpy_baseline", NULL, len, &st, 0);
out:
	free(v);
	free(src);
	free(dst);
}

enum cmd_kind { K_NH_VA, K_S2_IPA, K_CFGI_STE, K_CFGI_CD };

static void fill_cmd(enum cmd_kind k, unsigned int i, uint64_t c[2])
{
	switch (k) {
	case K_NH_VA: /* VMID 2, ASID 1, one page, Leaf */
		c[0] = SMMU_CMD_TLBI_NH_VA | 2ULL << 32 | 1ULL << 48;
		c[1] = (IOVA + (uint64_t)i * 4096) | 1;
		break;
	case K_S2_IPA:
		c[0] = SMMU_CMD_TLBI_S2_IPA | 2ULL << 32;
		c[1] = (GRAM_IPA + (uint64_t)i * 4096) | 1;
		break;
	case K_CFGI_STE:
		c[0] = SMMU_CMD_CFGI_STE | (uint64_t)SID << 32;
		c[1] = 1;
		break;
	default:
		c[0] = SMMU_CMD_CFGI_CD | (uint64_t)SID << 32;
		c[1] = 1;
		break;
	}
}

static void run_cmdq(struct setup *x, enum cmd_kind k, const char *name)
{
	const unsigned int per = 32; /* 31 commands + CMD_SYNC */
	unsigned int n = bench_samples_for(per * 100.0, 50, 10000);
	double *v = calloc(n, sizeof(*v));
	uint32_t prod = mmio_r(x, SMMU_CMDQ_PROD), mask = (2u << 8) - 1;
	struct bench_stats st;
	struct bench_json j;
	char desc[64];

	snprintf(desc, sizeof(desc), "cmdq %s", name);
	if (!v || !bench_want(desc)) {
		free(v);
		return;
	}
	for (unsigned int i = 0; i < n + 4; i++) {
		uint64_t t0 = bench_ticks();

		for (unsigned int c = 0; c < per; c++) {
			uint64_t *slot = hp(x, x->cmdq + (uint64_t)(prod & 0xff) * 16), cmd[2];

			if (c == per - 1) {
				cmd[0] = SMMU_CMD_SYNC;
				cmd[1] = 0;
			} else {
				fill_cmd(k, (i * per + c) % 8192, cmd);
			}
			slot[0] = cmd[0];
			slot[1] = cmd[1];
			prod = (prod + 1) & mask;
		}
		mmio_w(x, SMMU_CMDQ_PROD, 4, prod);
		if (i >= 4)
			v[i - 4] = bench_ns(bench_ticks() - t0) / per;
	}
	if ((mmio_r(x, SMMU_CMDQ_CONS) & mask) != prod || mmio_r(x, SMMU_GERROR))
		die("command queue", EIO);
	bench_stats(v, n, &st);
	bj_begin(&j, "smmuv3_cmdq");
	bj_param_str(&j, "cmd", name);
	bj_param_u64(&j, "batch", per);
	bj_stats(&j, &st);
	bj_f(&j, "cmds_per_s", 1e9 / st.p50);
	bj_end(&j);
	free(v);
}

int main(int argc, char **argv)
{
	static const char *const leaves[] = {"4K", "2M"};
	struct setup *x = malloc(sizeof(*x));

	if (!x)
		die("setup", ENOMEM);
	bench_init(argc, argv, "bench_smmuv3");
	for (unsigned int l = 0; l < 2; l++) {
		for (int cached = 1; cached >= 0; cached--) {
			build(x, leaves[l], cached);
			run_translate(x);
			run_dma(x, 4096);
			run_dma(x, 65536);
			if (cached && l == 0) {
				run_cmdq(x, K_NH_VA, "TLBI_NH_VA");
				run_cmdq(x, K_S2_IPA, "TLBI_S2_IPA");
				run_cmdq(x, K_CFGI_STE, "CFGI_STE");
				run_cmdq(x, K_CFGI_CD, "CFGI_CD");
			}
			destroy(x);
		}
	}
	run_memcpy(4096);
	run_memcpy(65536);
	free(x);
	return 0;
}
