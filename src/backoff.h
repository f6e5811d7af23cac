/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Exponential backoff with full jitter: the n-th wait is uniform in
 * [0, min(max, initial * factor^n)]. Pure math; the caller brings the
 * randomness.
 */
#ifndef TETHER_BACKOFF_H
#define TETHER_BACKOFF_H

#include <stdint.h>

struct backoff {
	double initial;
	double max;
	double factor;
	unsigned attempt;
};

void backoff_init(struct backoff *, double initial, double max, double factor);
void backoff_reset(struct backoff *);
/* The ceiling of the next wait, before jitter. */
double backoff_ceiling(const struct backoff *);
/* u in [0, 1): the next wait in seconds; advances the attempt count. */
double backoff_next(struct backoff *, double u);

/* A small PRNG (xorshift64*) for jitter; state never 0. */
uint64_t rng_next(uint64_t *state);
double rng_unit(uint64_t *state);

#endif
