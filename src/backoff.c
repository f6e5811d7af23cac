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

	/* Past the cap (or 64 steps with a factor of 1) more steps change nothing. */
	if (backoff_ceiling(b) < b->max && b->attempt < 64)
		b->attempt++;
	return wait;
}

uint64_t
rng_next(uint64_t *s)
{
	uint64_t x = *s;

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
