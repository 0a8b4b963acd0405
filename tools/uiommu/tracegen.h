/* SPDX-License-Identifier: MIT */
/*
 * Synthetic DMA address streams for `uiommu trace-gen` and the cache
 * benchmarks: a seeded random number generator, a bounded uniform draw
 * and an exact Zipf sampler. Everything is deterministic for a seed, on
 * every machine (integer arithmetic and IEEE doubles only).
 */
#ifndef UIOMMU_TOOLS_TRACEGEN_H
#define UIOMMU_TOOLS_TRACEGEN_H

#include <stdbool.h>
#include <stdint.h>

/* xoshiro256**, seeded through splitmix64. */
struct tg_rng {
	uint64_t s[4];
};

void tg_rng_seed(struct tg_rng *r, uint64_t seed);
uint64_t tg_rng_next(struct tg_rng *r);
/* Uniform in [0, 1), 53 random bits. */
double tg_rng_double(struct tg_rng *r);
/* Uniform in [0, n), without bias; n >= 1. */
uint64_t tg_rng_below(struct tg_rng *r, uint64_t n);

/*
 * Zipf over ranks 0 .. n-1: P(k) = (k + 1)^-theta / H(n, theta), where
 * H(n, theta) is the generalised harmonic number. theta > 0 (1 included).
 */
struct tg_zipf {
	uint64_t n;
	double theta;
	double hx1, hxn, s; /* see tracegen.c */
};

/* 0, or -EINVAL when n is 0 or theta is not in (0, TG_THETA_MAX]. */
int tg_zipf_init(struct tg_zipf *z, uint64_t n, double theta);
uint64_t tg_zipf_next(struct tg_zipf *z, struct tg_rng *r);
/* The exact probability of rank @k (for tests and reports), O(n). */
double tg_zipf_prob(uint64_t n, double theta, uint64_t k);

#define TG_THETA_MAX 10.0

enum tg_kind {
	TG_SEQUENTIAL = 0, /* page i mod P, in order */
	TG_RANDOM,	   /* uniform over the P pages */
	TG_ZIPFIAN,	   /* page = Zipf rank: page 0 the hottest */
};

/* "sequential", "random", "zipfian"; -1 if unknown. */
int tg_kind_parse(const char *s);

/* A stream of page numbers (and read/write choices). */
struct tg_stream {
	enum tg_kind kind;
	uint64_t pages, i;
	double write_ratio;
	struct tg_rng rng, wrng; /* pages; read or write */
	struct tg_zipf zipf;
};

/* 0 or -EINVAL (pages 0, theta out of range for zipfian, ratio outside [0, 1]). */
int tg_stream_init(struct tg_stream *st, enum tg_kind kind, uint64_t pages, double theta,
		   uint64_t seed, double write_ratio);
/* The next page number in [0, pages); *write says whether it is a write. */
uint64_t tg_stream_next(struct tg_stream *st, bool *write);

#endif
