/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Suspend/resume detection from the two clocks (src/resume.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "resume.h"

static void
test_first_look_reports_nothing(void **state)
{
	struct resume_watch w;

	(void)state;
	resume_watch_init(&w);
	assert_true(resume_watch_check(&w, 1000, 50, 3) == 0);
}

static void
test_clocks_moving_together_report_nothing(void **state)
{
	struct resume_watch w;

	(void)state;
	resume_watch_init(&w);
	resume_watch_check(&w, 1000, 50, 3);
	assert_true(resume_watch_check(&w, 1002, 52, 3) == 0);
	assert_true(resume_watch_check(&w, 1004.5, 54.4, 3) == 0);
}

static void
test_boottime_jump_is_time_asleep(void **state)
{
	struct resume_watch w;

	(void)state;
	resume_watch_init(&w);
	resume_watch_check(&w, 1000, 50, 3);
	/* Two seconds awake and an hour asleep. */
	assert_true(resume_watch_check(&w, 1000 + 2 + 3600, 52, 3) == 3600);
}

static void
test_a_gap_below_the_minimum_is_ignored(void **state)
{
	struct resume_watch w;

	(void)state;
	resume_watch_init(&w);
	resume_watch_check(&w, 1000, 50, 3);
	assert_true(resume_watch_check(&w, 1004, 52, 3) == 0);
}

static void
test_each_sleep_is_reported_once(void **state)
{
	struct resume_watch w;

	(void)state;
	resume_watch_init(&w);
	resume_watch_check(&w, 1000, 50, 3);
	assert_true(resume_watch_check(&w, 1100, 52, 3) == 98);
	assert_true(resume_watch_check(&w, 1102, 54, 3) == 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_look_reports_nothing),
		cmocka_unit_test(test_clocks_moving_together_report_nothing),
		cmocka_unit_test(test_boottime_jump_is_time_asleep),
		cmocka_unit_test(test_a_gap_below_the_minimum_is_ignored),
		cmocka_unit_test(test_each_sleep_is_reported_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
