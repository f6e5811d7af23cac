/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Exponential backoff with full jitter, and the xorshift64* generator that
 * brings the jitter.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <float.h>
#include <limits.h>
#include <time.h>

#include <cmocka.h>

#include "backoff.h"

/* The largest double below 1. */
#define U_MAX 0x1.fffffffffffffp-1

#define assert_exact(a, b) do { \
	double a_ = (a), b_ = (b); \
	if (a_ != b_) \
		fail_msg("%.17g != %.17g", a_, b_); \
} while (0)

/* ---- helpers ----------------------------------------------------------- */

/* Calls next n times with u = 0 (the ceiling is what matters). */
static void
advance(struct backoff *b, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		assert_exact(backoff_next(b, 0.0), 0.0);
}

static double
seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) +
	    (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* ---- ceiling ----------------------------------------------------------- */

static void
test_first_ceiling_is_the_initial_wait(void **state)
{
	struct backoff b;

	backoff_init(&b, 1.5, 60, 2);
	assert_exact(backoff_ceiling(&b), 1.5);
	assert_int_equal(b.attempt, 0);
}

static void
test_ceiling_multiplies_by_the_factor_at_each_attempt(void **state)
{
	static const double want[] = { 1, 2, 4, 8, 16, 32 };
	struct backoff b;
	size_t i;

	backoff_init(&b, 1, 60, 2);
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		assert_exact(backoff_ceiling(&b), want[i]);
		advance(&b, 1);
	}
}

static void
test_ceiling_follows_a_fractional_factor(void **state)
{
	static const double want[] = { 0.5, 0.75, 1.125, 1.6875, 2.53125 };
	struct backoff b;
	size_t i;

	backoff_init(&b, 0.5, 100, 1.5);
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		assert_exact(backoff_ceiling(&b), want[i]);
		advance(&b, 1);
	}
}

static void
test_ceiling_stops_at_the_max(void **state)
{
	static const double want[] = { 1, 2, 4, 8, 16, 32, 60, 60, 60 };
	struct backoff b;
	size_t i;

	backoff_init(&b, 1, 60, 2);
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		assert_exact(backoff_ceiling(&b), want[i]);
		advance(&b, 1);
	}
}

static void
test_ceiling_stays_at_the_max_after_many_attempts(void **state)
{
	struct backoff b;

	backoff_init(&b, 1, 60, 2);
	advance(&b, 10000);
	assert_exact(backoff_ceiling(&b), 60);
}

/* 1.05^n reaches 60 only after 84 steps. */
static void
test_small_factor_still_reaches_the_max(void **state)
{
	struct backoff b;

	backoff_init(&b, 1, 60, 1.05);
	advance(&b, 83);
	assert_true(backoff_ceiling(&b) < 60);
	advance(&b, 1);
	assert_exact(backoff_ceiling(&b), 60);
	advance(&b, 1000);
	assert_exact(backoff_ceiling(&b), 60);
}

static void
test_ceiling_is_the_max_when_initial_equals_max(void **state)
{
	struct backoff b;

	backoff_init(&b, 5, 5, 2);
	assert_exact(backoff_ceiling(&b), 5);
	advance(&b, 3);
	assert_exact(backoff_ceiling(&b), 5);
}

/* ---- next -------------------------------------------------------------- */

static void
test_next_with_u_zero_waits_zero(void **state)
{
	struct backoff b;

	backoff_init(&b, 1, 60, 2);
	assert_exact(backoff_next(&b, 0.0), 0.0);
	assert_exact(backoff_next(&b, 0.0), 0.0);
	assert_exact(backoff_next(&b, 0.0), 0.0);
}

static void
test_next_with_u_just_below_one_waits_just_below_the_ceiling(void **state)
{
	struct backoff b;
	double wait;

	backoff_init(&b, 1, 60, 2);
	advance(&b, 3);           /* ceiling 8 */
	wait = backoff_next(&b, U_MAX);
	assert_exact(wait, U_MAX * 8);
	assert_true(wait < 8);
	assert_true(wait > 8 - 1e-12);
}

static void
test_next_scales_u_by_the_current_ceiling(void **state)
{
	static const double want[] = { 0.25, 0.5, 1, 2, 4, 8, 15, 15 };
	struct backoff b;
	size_t i;

	backoff_init(&b, 1, 60, 2);
	for (i = 0; i < sizeof want / sizeof want[0]; i++)
		assert_exact(backoff_next(&b, 0.25), want[i]);
}

static void
test_next_returns_the_wait_before_advancing(void **state)
{
	struct backoff b;

	backoff_init(&b, 3, 60, 2);
	assert_exact(backoff_next(&b, 0.5), 1.5);
	assert_exact(backoff_ceiling(&b), 6);
}

/* ---- reset ------------------------------------------------------------- */

static void
test_reset_starts_over_from_the_initial_wait(void **state)
{
	struct backoff b;

	backoff_init(&b, 1, 60, 2);
	advance(&b, 4);
	assert_exact(backoff_ceiling(&b), 16);
	backoff_reset(&b);
	assert_exact(backoff_ceiling(&b), 1);
	assert_exact(backoff_next(&b, 0.5), 0.5);
	assert_exact(backoff_next(&b, 0.5), 1);
}

static void
test_reset_after_the_max_starts_over(void **state)
{
	struct backoff b;

	backoff_init(&b, 1, 60, 2);
	advance(&b, 100);
	backoff_reset(&b);
	assert_exact(backoff_ceiling(&b), 1);
}

static void
test_reset_keeps_initial_max_and_factor(void **state)
{
	struct backoff b;

	backoff_init(&b, 0.5, 30, 3);
	advance(&b, 2);
	backoff_reset(&b);
	assert_exact(b.initial, 0.5);
	assert_exact(b.max, 30);
	assert_exact(b.factor, 3);
	assert_int_equal(b.attempt, 0);
}

/* ---- factor 1 ---------------------------------------------------------- */

static void
test_factor_one_stays_at_the_initial_wait_for_a_million_calls(void **state)
{
	struct backoff b;
	struct timespec start;
	unsigned i;

	backoff_init(&b, 2, 60, 1);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 0; i < 1000000; i++) {
		if (backoff_next(&b, 0.5) != 1.0)
			fail_msg("call %u: wait is not 1", i);
	}
	assert_exact(backoff_ceiling(&b), 2);
	/* Thousands of times what the work needs, even under sanitizers. */
	if (seconds_since(&start) > 10)
		fail_msg("a million calls took %.1f s", seconds_since(&start));
}

/* ---- no overflow ------------------------------------------------------- */

static void
test_huge_attempt_count_gives_the_max(void **state)
{
	struct backoff b;

	backoff_init(&b, 1, 60, 2);
	b.attempt = UINT_MAX;
	assert_exact(backoff_ceiling(&b), 60);
	assert_exact(backoff_next(&b, 0.5), 30);
	assert_exact(backoff_ceiling(&b), 60);
}

/* Doubling 1 past DBL_MAX would give infinity; the cap is what comes out. */
static void
test_ceiling_never_passes_a_max_of_dbl_max(void **state)
{
	struct backoff b;

	backoff_init(&b, 1, DBL_MAX, 2);
	b.attempt = UINT_MAX;
	assert_exact(backoff_ceiling(&b), DBL_MAX);
	assert_exact(backoff_next(&b, 0.5), DBL_MAX * 0.5);
}

static void
test_attempt_count_stops_growing_at_the_max(void **state)
{
	struct backoff b;
	unsigned at_max;

	backoff_init(&b, 1, 60, 10);
	advance(&b, 2);
	assert_exact(backoff_ceiling(&b), 60);
	at_max = b.attempt;
	advance(&b, 100000);
	assert_int_equal(b.attempt, at_max);
	assert_exact(backoff_ceiling(&b), 60);
}

/* ---- rng --------------------------------------------------------------- */

static void
test_rng_gives_the_xorshift64_star_sequence(void **state)
{
	uint64_t s = 1;

	assert_int_equal(rng_next(&s), 0x47e4ce4b896cdd1dULL);
	assert_int_equal(s, 0x2000001ULL);
	assert_int_equal(rng_next(&s), 0xabcfa6a8e079651dULL);
	assert_int_equal(s, 0x4004000802801ULL);
}

static void
test_rng_same_seed_gives_the_same_sequence(void **state)
{
	uint64_t a = 0x0123456789abcdefULL, b = 0x0123456789abcdefULL;
	int i;

	for (i = 0; i < 1000; i++)
		assert_int_equal(rng_next(&a), rng_next(&b));
}

static void
test_rng_unit_is_in_zero_to_one(void **state)
{
	static const uint64_t seeds[] = {
		1, 2, 0x9E3779B97F4A7C15ULL, 0x8000000000000000ULL,
		0xffffffffffffffffULL,
	};
	size_t k;
	long i;

	for (k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
		uint64_t s = seeds[k];

		for (i = 0; i < 200000; i++) {
			double u = rng_unit(&s);

			if (!(u >= 0.0 && u < 1.0))
				fail_msg("seed %zu draw %ld: %.17g", k, i, u);
		}
	}
}

static void
test_rng_unit_is_the_top_53_bits_of_the_next_number(void **state)
{
	uint64_t a = 42, b = 42;
	int i;

	for (i = 0; i < 100; i++) {
		uint64_t x = rng_next(&a);

		assert_exact(rng_unit(&b), (double)(x >> 11) / 9007199254740992.0);
	}
}

static void
test_rng_unit_spreads_over_the_range(void **state)
{
	uint64_t s = 12345;
	double lo = 1, hi = 0, sum = 0;
	int i;

	for (i = 0; i < 100000; i++) {
		double u = rng_unit(&s);

		lo = u < lo ? u : lo;
		hi = u > hi ? u : hi;
		sum += u;
	}
	assert_true(lo < 0.001);
	assert_true(hi > 0.999);
	assert_true(sum / 100000 > 0.49 && sum / 100000 < 0.51);
}

static void
test_rng_state_never_becomes_zero_from_a_nonzero_seed(void **state)
{
	static const uint64_t seeds[] = {
		1, 0x8000000000000000ULL, 0xffffffffffffffffULL, 0x1000,
	};
	size_t k;
	long i;

	for (k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
		uint64_t s = seeds[k];

		for (i = 0; i < 1000000; i++) {
			rng_next(&s);
			if (s == 0)
				fail_msg("seed %zu: state 0 after %ld steps", k, i);
		}
	}
}

/* A zero state is a fixed point of xorshift: it must not stay there. */
static void
test_rng_leaves_a_zero_state(void **state)
{
	uint64_t s = 0;
	uint64_t first, second;

	first = rng_next(&s);
	assert_int_not_equal(s, 0);
	second = rng_next(&s);
	assert_int_not_equal(s, 0);
	assert_int_not_equal(first, second);
}

static void
test_rng_unit_from_a_zero_state_is_not_stuck_at_zero(void **state)
{
	uint64_t s = 0;
	int i, nonzero = 0;

	for (i = 0; i < 10; i++)
		nonzero += rng_unit(&s) != 0.0;
	assert_true(nonzero >= 9);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_ceiling_is_the_initial_wait),
		cmocka_unit_test(test_ceiling_multiplies_by_the_factor_at_each_attempt),
		cmocka_unit_test(test_ceiling_follows_a_fractional_factor),
		cmocka_unit_test(test_ceiling_stops_at_the_max),
		cmocka_unit_test(test_ceiling_stays_at_the_max_after_many_attempts),
		cmocka_unit_test(test_small_factor_still_reaches_the_max),
		cmocka_unit_test(test_ceiling_is_the_max_when_initial_equals_max),

		cmocka_unit_test(test_next_with_u_zero_waits_zero),
		cmocka_unit_test(test_next_with_u_just_below_one_waits_just_below_the_ceiling),
		cmocka_unit_test(test_next_scales_u_by_the_current_ceiling),
		cmocka_unit_test(test_next_returns_the_wait_before_advancing),

		cmocka_unit_test(test_reset_starts_over_from_the_initial_wait),
		cmocka_unit_test(test_reset_after_the_max_starts_over),
		cmocka_unit_test(test_reset_keeps_initial_max_and_factor),

		cmocka_unit_test(test_factor_one_stays_at_the_initial_wait_for_a_million_calls),

		cmocka_unit_test(test_huge_attempt_count_gives_the_max),
		cmocka_unit_test(test_ceiling_never_passes_a_max_of_dbl_max),
		cmocka_unit_test(test_attempt_count_stops_growing_at_the_max),

		cmocka_unit_test(test_rng_gives_the_xorshift64_star_sequence),
		cmocka_unit_test(test_rng_same_seed_gives_the_same_sequence),
		cmocka_unit_test(test_rng_unit_is_in_zero_to_one),
		cmocka_unit_test(test_rng_unit_is_the_top_53_bits_of_the_next_number),
		cmocka_unit_test(test_rng_unit_spreads_over_the_range),
		cmocka_unit_test(test_rng_state_never_becomes_zero_from_a_nonzero_seed),
		cmocka_unit_test(test_rng_leaves_a_zero_state),
		cmocka_unit_test(test_rng_unit_from_a_zero_state_is_not_stuck_at_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
