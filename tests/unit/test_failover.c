/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Failover between bastions: a failure moves on to the next one at once,
 * a whole round of failures goes back to the first (for the backoff to
 * wait), a bastion that serves starts the round over, and each failure is
 * remembered with its reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "failover.h"

static void
test_one_bastion_has_nothing_to_move_to(void **state)
{
	struct failover f;

	(void)state;
	failover_init(&f, 1);
	assert_int_equal(failover_failed(&f, "refused", 10), 0);
	assert_int_equal(f.current, 0);
}

static void
test_a_failure_moves_to_the_next_bastion_at_once(void **state)
{
	struct failover f;

	(void)state;
	failover_init(&f, 3);
	assert_int_equal(failover_failed(&f, "a: connection refused", 10), 1);
	assert_int_equal(f.current, 1);
	assert_string_equal(f.notes[0].error, "a: connection refused");
	assert_int_equal(f.notes[0].at, 10);
}

static void
test_a_whole_round_of_failures_goes_back_to_the_first(void **state)
{
	struct failover f;

	(void)state;
	failover_init(&f, 2);
	assert_int_equal(failover_failed(&f, "a down", 1), 1);
	assert_int_equal(failover_failed(&f, "b down", 2), 0);
	assert_int_equal(f.current, 0);
	assert_string_equal(f.notes[1].error, "b down");
}

static void
test_a_bastion_that_serves_starts_the_round_over(void **state)
{
	struct failover f;

	(void)state;
	failover_init(&f, 3);
	failover_failed(&f, "a down", 1);
	failover_up(&f);
	assert_int_equal(failover_failed(&f, "b down", 2), 1);
	assert_int_equal(f.current, 2);
	assert_int_equal(failover_failed(&f, "c down", 3), 1);
	assert_int_equal(f.current, 0);
}

static void
test_going_back_to_the_first_keeps_the_notes(void **state)
{
	struct failover f;

	(void)state;
	failover_init(&f, 2);
	failover_failed(&f, "a down", 1);
	failover_use(&f, 0);
	assert_int_equal(f.current, 0);
	assert_string_equal(f.notes[0].error, "a down");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_bastion_has_nothing_to_move_to),
		cmocka_unit_test(
		    test_a_failure_moves_to_the_next_bastion_at_once),
		cmocka_unit_test(
		    test_a_whole_round_of_failures_goes_back_to_the_first),
		cmocka_unit_test(
		    test_a_bastion_that_serves_starts_the_round_over),
		cmocka_unit_test(test_going_back_to_the_first_keeps_the_notes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
