// SPDX-License-Identifier: MIT
/*
 * tracegen.c - synthetic page streams: sequential, uniform and Zipf.
 *
 * What it owns: the random numbers behind `uiommu trace-gen` and the cache
 * benchmarks, so that a seed names one stream on every machine.
 *
 * The generator is xoshiro256** (Blackman and Vigna), its state filled
 * from the seed by splitmix64, as its authors recommend. Bounded draws use
 * Lemire's multiply-and-reject method, which has no modulo bias: the
 * 128-bit product of a random word and n has its high word uniform in
 * [0, n) once the few low words below 2^64 mod n are rejected.
 *
 * Zipf. YCSB's generator (Gray et al., "Quickly generating billion-record
 * synthetic databases") needs no rejection but is an approximation: at
 * theta 0.99 over 1000 items its rank-3 frequency is 17% above the law.
 * We want a stream whose rank frequencies a test can hold to the formula,
 * so this is rejection-inversion (Hörmann and Derflinger, "Rejection-
 * inversion to generate variates from monotone discrete distributions",
 * 1996), which is exact and O(1) per draw with no table:
 *
 *   h(x) = x^-theta is the (unnormalised) density of rank x = 1 .. n and
 *   H(x) = (x^(1-theta) - 1) / (1 - theta) its integral (log x at theta 1).
 *   Draw u uniformly in [H(n + 1/2), H(3/2) - 1], invert x = H^-1(u), and
 *   round to k. Accept k if x lies within s of it (s is computed once so
 *   that the test is always true there), else if u >= H(k + 1/2) - h(k).
 *   The accepted mass of k is exactly h(k), and the expected number of
 *   rounds is below 1.1 for the thetas people use.
 *
 * H and H^-1 are written through log1p and expm1 helpers (with their
 * series near 0) so that theta close to 1 loses no precision.
 *
 * Nothing here allocates or prints.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "tracegen.h"

/* ---------------------------------------------------------------------- */
/* Random numbers                                                         */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void tg_rng_seed(struct tg_rng *r, uint64_t seed)
{
	uint64_t x = seed;

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t tg_rng_next(struct tg_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

double tg_rng_double(struct tg_rng *r)
{
	return (double)(tg_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t tg_rng_below(struct tg_rng *r, uint64_t n)
{
	unsigned __int128 m = (unsigned __int128)tg_rng_next(r) * n;
	uint64_t lo = (uint64_t)m;

	if (lo < n) {
		uint64_t floor = -n % n; /* 2^64 mod n */

		while (lo < floor) {
			m = (unsigned __int128)tg_rng_next(r) * n;
			lo = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

/* ---------------------------------------------------------------------- */
/* Zipf by rejection-inversion                                            */

/* log1p(x) / x, and its limit 1 at 0. */
static double log1p_x(double x)
{
	if (fabs(x) > 1e-8)
		return log1p(x) / x;
	return 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));
}

/* expm1(x) / x, and its limit 1 at 0. */
static double expm1_x(double x)
{
	if (fabs(x) > 1e-8)
		return expm1(x) / x;
	return 1 + x * 0.5 * (1 + x * (1.0 / 3) * (1 + 0.25 * x));
}

static double zh(const struct tg_zipf *z, double x)
{
	return exp(-z->theta * log(x));
}

static double zH(const struct tg_zipf *z, double x)
{
	double lx = log(x);

	return expm1_x((1 - z->theta) * lx) * lx;
}

static double zH_inv(const struct tg_zipf *z, double x)
{
	double t = x * (1 - z->theta);

	if (t < -1) /* only rounding can take it there */
		t = -1;
	return exp(log1p_x(t) * x);
}

int tg_zipf_init(struct tg_zipf *z, uint64_t n, double theta)
{
	memset(z, 0, sizeof(*z));
	if (!n || !(theta > 0 && theta <= TG_THETA_MAX))
		return -EINVAL;
	z->n = n;
	z->theta = theta;
	z->hx1 = zH(z, 1.5) - 1;
	z->hxn = zH(z, (double)n + 0.5);
	z->s = 2 - zH_inv(z, zH(z, 2.5) - zh(z, 2));
	return 0;
}

uint64_t tg_zipf_next(struct tg_zipf *z, struct tg_rng *r)
{
	for (;;) {
		double u = z->hxn + tg_rng_double(r) * (z->hx1 - z->hxn);
		double x = zH_inv(z, u);
		uint64_t k;

		if (x < 1.5)
			k = 1;
		else if (x >= (double)z->n)
			k = z->n;
		else
			k = (uint64_t)(x + 0.5);
		if ((double)k - x <= z->s || u >= zH(z, (double)k + 0.5) - zh(z, (double)k))
			return k - 1;
	}
}

double tg_zipf_prob(uint64_t n, double theta, uint64_t k)
{
	double sum = 0;

	/* Smallest terms first, for accuracy. */
	for (uint64_t i = n; i >= 1; i--)
		sum += pow((double)i, -theta);
	return pow((double)(k + 1), -theta) / sum;
}

/* ---------------------------------------------------------------------- */
/* Streams                                                                */

int tg_kind_parse(const char *s)
{
	static const char *const names[] = {"sequential", "random", "zipfian"};

	for (int i = 0; i < 3; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

int tg_stream_init(struct tg_stream *st, enum tg_kind kind, uint64_t pages, double theta,
		   uint64_t seed, double write_ratio)
{
	memset(st, 0, sizeof(*st));
	if (!pages || !(write_ratio >= 0 && write_ratio <= 1))
		return -EINVAL;
	st->kind = kind;
	st->pages = pages;
	st->write_ratio = write_ratio;
	tg_rng_seed(&st->rng, seed);
	tg_rng_seed(&st->wrng, ~seed);
	if (kind == TG_ZIPFIAN)
		return tg_zipf_init(&st->zipf, pages, theta);
	return 0;
}

uint64_t tg_stream_next(struct tg_stream *st, bool *write)
{
	uint64_t page;

	switch (st->kind) {
	case TG_SEQUENTIAL:
		page = st->i++ % st->pages;
		break;
	case TG_RANDOM:
		page = tg_rng_below(&st->rng, st->pages);
		break;
	default:
		page = tg_zipf_next(&st->zipf, &st->rng);
		break;
	}
	/* From a generator of its own: the pages do not depend on the write ratio. */
	*write = st->write_ratio > 0 && tg_rng_double(&st->wrng) < st->write_ratio;
	return page;
}
