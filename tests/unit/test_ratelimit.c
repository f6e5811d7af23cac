/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The log budget for repeated lines (src/ratelimit.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ratelimit.h"

static void
test_a_burst_goes_out_whole(void **state)
{
	struct ratelimit rl;
	unsigned i;

	(void)state;
	ratelimit_init(&rl, 5, 10);
	for (i = 0; i < 10; i++)
		assert_true(ratelimit_allow(&rl, 100 + i * 0.01));
	assert_int_equal(ratelimit_take_suppressed(&rl), 0);
}

static void
test_lines_past_the_burst_are_counted(void **state)
{
	struct ratelimit rl;
	unsigned i;

	(void)state;
	ratelimit_init(&rl, 5, 10);
	for (i = 0; i < 3000; i++)
		ratelimit_allow(&rl, 100 + i * 0.0001);
	assert_int_equal(ratelimit_take_suppressed(&rl), 2990);
}

static void
test_taking_the_count_starts_it_over(void **state)
{
	struct ratelimit rl;

	(void)state;
	ratelimit_init(&rl, 5, 1);
	assert_true(ratelimit_allow(&rl, 100));
	assert_false(ratelimit_allow(&rl, 100.5));
	assert_int_equal(ratelimit_take_suppressed(&rl), 1);
	assert_int_equal(ratelimit_take_suppressed(&rl), 0);
}

static void
test_a_new_interval_brings_a_new_burst(void **state)
{
	struct ratelimit rl;

	(void)state;
	ratelimit_init(&rl, 5, 2);
	assert_true(ratelimit_allow(&rl, 100));
	assert_true(ratelimit_allow(&rl, 101));
	assert_false(ratelimit_allow(&rl, 104.9));
	assert_true(ratelimit_allow(&rl, 105));
	assert_true(ratelimit_allow(&rl, 106));
	assert_false(ratelimit_allow(&rl, 107));
	assert_int_equal(ratelimit_take_suppressed(&rl), 2);
}

static void
test_a_clock_going_back_starts_an_interval(void **state)
{
	struct ratelimit rl;

	(void)state;
	ratelimit_init(&rl, 5, 1);
	assert_true(ratelimit_allow(&rl, 100));
	assert_false(ratelimit_allow(&rl, 101));
	assert_true(ratelimit_allow(&rl, 50));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_burst_goes_out_whole),
		cmocka_unit_test(test_lines_past_the_burst_are_counted),
		cmocka_unit_test(test_taking_the_count_starts_it_over),
		cmocka_unit_test(test_a_new_interval_brings_a_new_burst),
		cmocka_unit_test(test_a_clock_going_back_starts_an_interval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
