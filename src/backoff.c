/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include "backoff.h"

void
backoff_init(struct backoff *b, double initial, double max, double factor)
{
	b->initial = initial;
	b->max = max;
	b->factor = factor;
	b->attempt = 0;
}

void
backoff_reset(struct backoff *b)
{
	b->attempt = 0;
}

double
backoff_ceiling(const struct backoff *b)
{
	double c = b->initial;
	unsigned i;

	/* Stop multiplying once the cap is reached: no overflow, no loop of 2^32. */
	for (i = 0; i < b->attempt && c < b->max; i++)
		c *= b->factor;
	return c < b->max ? c : b->max;
}

double
backoff_next(struct backoff *b, double u)
{
	double wait = u * backoff_ceiling(b);

	/*
	 * Past the cap, or with a factor of 1, more steps change nothing. A
	 * factor above 1 reaches the cap in finitely many steps, however
	 * small it is (1.05 needs 84 from 1 s to 60 s).
	 */
	if (b->factor > 1 && backoff_ceiling(b) < b->max)
		b->attempt++;
	return wait;
}

uint64_t
rng_next(uint64_t *s)
{
	uint64_t x = *s;

	if (x == 0) /* a fixed point of xorshift: leave it */
		x = 0x9E3779B97F4A7C15ULL;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

double
rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}
