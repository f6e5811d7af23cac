/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The plan setup and remove carry out: printing it (--dry-run) and
 * executing it (files written atomically with their mode, files removed,
 * commands run; a step that may fail does not stop it, one that must not
 * does, with its message). Files go to a temporary directory of the test.
 */
#include <sys/stat.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tether/exit.h"
#include "fsutil.h"
#include "plan.h"

#define assert_contains(haystack, needle) do { \
	if (strstr((haystack), (needle)) == NULL) \
		fail_msg("\"%s\" does not contain \"%s\"", (haystack), \
		    (needle)); \
} while (0)

/* ---- helpers ----------------------------------------------------------- */

struct fixture {
	char dir[64];
	struct plan plan;
	struct strbuf log;
	struct error err;
};

static int
fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/tether-plan-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	plan_init(&f->plan);
	strbuf_init(&f->log);
	error_clear(&f->err);
	*state = f;
	return 0;
}

static int
fixture_teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	plan_free(&f->plan);
	strbuf_free(&f->log);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* f->dir/name, in a static buffer (one at a time per expression). */
static const char *
path_in(const struct fixture *f, const char *name)
{
	static char buf[2][CONFIG_PATH_MAX];
	static int i;

	i = !i;
	snprintf(buf[i], sizeof buf[i], "%s/%s", f->dir, name);
	return buf[i];
}

static char *
read_text(const char *path)
{
	struct error err;
	char *text = NULL;

	error_clear(&err);
	if (file_read(path, 65536, &text, &err) != 0)
		fail_msg("cannot read %s: %s", path, err.msg);
	return text;
}

static void
write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL)
		fail_msg("cannot create %s", path);
	fputs(text, fp);
	fclose(fp);
}

static void
execute_ok(struct fixture *f)
{
	if (plan_execute(&f->plan, &f->log, &f->err) != 0)
		fail_msg("plan_execute failed: %s", f->err.msg);
	assert_int_equal(f->err.code, 0);
}

static void
execute_fails(struct fixture *f)
{
	assert_int_equal(plan_execute(&f->plan, &f->log, &f->err), -1);
	assert_int_equal(f->err.code, TETHER_EXIT_FAILURE);
}

static char *
printed(const struct plan *p)
{
	struct strbuf out;

	strbuf_init(&out);
	plan_print(p, &out);
	return strbuf_take(&out);
}

/* ---- plan_print ---------------------------------------------------------- */

static void
test_print_write_shows_path_mode_and_content(void **state)
{
	struct plan p;
	char *text;

	plan_init(&p);
	plan_write(&p, "/etc/tether/2222.conf", "[tunnel]\nname = 2222\n", 0644);
	text = printed(&p);
	assert_string_equal(text, "would write /etc/tether/2222.conf (mode "
	    "0644):\n[tunnel]\nname = 2222\n");
	free(text);
	plan_free(&p);
}

static void
test_print_write_ends_content_without_newline_with_one(void **state)
{
	struct plan p;
	char *text;

	plan_init(&p);
	plan_write(&p, "/x/a", "no newline", 0600);
	plan_remove(&p, "/x/b");
	text = printed(&p);
	assert_string_equal(text, "would write /x/a (mode 0600):\nno newline\n"
	    "would remove /x/b\n");
	free(text);
	plan_free(&p);
}

static void
test_print_remove_names_the_path(void **state)
{
	struct plan p;
	char *text;

	plan_init(&p);
	plan_remove(&p, "/etc/tether/2222.conf");
	text = printed(&p);
	assert_string_equal(text, "would remove /etc/tether/2222.conf\n");
	free(text);
	plan_free(&p);
}

static void
test_print_run_shows_the_command_line(void **state)
{
	const char *argv[] = { "systemctl", "--user", "enable", "--",
	    "tether@2222.service", NULL };
	struct plan p;
	char *text;

	plan_init(&p);
	plan_run(&p, 0, argv);
	text = printed(&p);
	assert_string_equal(text, "would run: systemctl --user enable -- "
	    "tether@2222.service\n");
	free(text);
	plan_free(&p);
}

static void
test_print_keeps_the_order_of_the_steps(void **state)
{
	const char *reload[] = { "systemctl", "daemon-reload", NULL };
	struct plan p;
	char *text;

	plan_init(&p);
	plan_write(&p, "/a", "A\n", 0644);
	plan_run(&p, 1, reload);
	plan_remove(&p, "/b");
	text = printed(&p);
	assert_string_equal(text, "would write /a (mode 0644):\nA\n"
	    "would run: systemctl daemon-reload\nwould remove /b\n");
	free(text);
	plan_free(&p);
}

static void
test_print_copies_argv_and_content(void **state)
{
	char arg[] = "daemon-reload", content[] = "first\n";
	const char *argv[] = { "systemctl", arg, NULL };
	struct plan p;
	char *text;

	plan_init(&p);
	plan_write(&p, "/a", content, 0644);
	plan_run(&p, 0, argv);
	/* The caller's buffers may change or go once the step is added. */
	memcpy(arg, "XXXXXXXXXXXXX", sizeof arg);
	memcpy(content, "later\n", sizeof content);
	text = printed(&p);
	assert_string_equal(text, "would write /a (mode 0644):\nfirst\n"
	    "would run: systemctl daemon-reload\n");
	free(text);
	plan_free(&p);
}

static void
test_print_of_an_empty_plan_is_empty(void **state)
{
	struct plan p;
	char *text;

	plan_init(&p);
	text = printed(&p);
	assert_string_equal(text, "");
	free(text);
}

/* ---- plan_execute: writing ---------------------------------------------- */

static void
test_execute_writes_the_content(void **state)
{
	struct fixture *f = *state;
	char *text;

	plan_write(&f->plan, path_in(f, "2222.conf"), "[tunnel]\nname = x\n",
	    0644);
	execute_ok(f);
	text = read_text(path_in(f, "2222.conf"));
	assert_string_equal(text, "[tunnel]\nname = x\n");
	free(text);
}

static void
test_execute_writes_with_the_given_mode_whatever_the_umask(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	mode_t old = umask(0077);

	plan_write(&f->plan, path_in(f, "a.conf"), "a\n", 0644);
	plan_write(&f->plan, path_in(f, "b.conf"), "b\n", 0600);
	execute_ok(f);
	umask(old);
	assert_int_equal(stat(path_in(f, "a.conf"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(stat(path_in(f, "b.conf"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void
test_execute_creates_missing_parent_directories(void **state)
{
	struct fixture *f = *state;
	const char *path = path_in(f, "systemd/user/tether@2222.service.d/"
	    "50-tether-user.conf");
	char *text;

	plan_write(&f->plan, path, "[Service]\n", 0644);
	execute_ok(f);
	text = read_text(path);
	assert_string_equal(text, "[Service]\n");
	free(text);
}

static void
test_execute_replaces_a_file_by_rename_leaving_no_temporary(void **state)
{
	struct fixture *f = *state;
	const char *path = path_in(f, "2222.conf");
	struct stat before, after;
	char *text;

	write_text(path, "old content that is longer than the new\n");
	assert_int_equal(stat(path, &before), 0);
	plan_write(&f->plan, path, "new\n", 0644);
	execute_ok(f);
	text = read_text(path);
	assert_string_equal(text, "new\n");
	free(text);
	/* A new inode: readers saw the old file or the new, never a mix. */
	assert_int_equal(stat(path, &after), 0);
	assert_true(before.st_ino != after.st_ino);
	assert_int_equal(access(path_in(f, "2222.conf.tmp"), F_OK), -1);
}

static void
test_execute_replaces_a_symlink_instead_of_writing_through_it(void **state)
{
	struct fixture *f = *state;
	const char *victim = path_in(f, "victim");
	const char *link = path_in(f, "2222.conf");
	struct stat st;
	char *text;

	write_text(victim, "precious\n");
	assert_int_equal(symlink(victim, link), 0);
	plan_write(&f->plan, link, "tunnel\n", 0644);
	execute_ok(f);
	text = read_text(victim);
	assert_string_equal(text, "precious\n");
	free(text);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISREG(st.st_mode));
}

static void
test_execute_fails_to_write_under_a_file_with_a_message(void **state)
{
	struct fixture *f = *state;

	write_text(path_in(f, "plain"), "x\n");
	plan_write(&f->plan, path_in(f, "plain/sub/2222.conf"), "y\n", 0644);
	execute_fails(f);
	assert_contains(f->err.msg, "plain/sub/2222.conf");
}

/* ---- plan_execute: removing ---------------------------------------------- */

static void
test_execute_removes_a_file(void **state)
{
	struct fixture *f = *state;

	write_text(path_in(f, "2222.conf"), "x\n");
	plan_remove(&f->plan, path_in(f, "2222.conf"));
	execute_ok(f);
	assert_int_equal(access(path_in(f, "2222.conf"), F_OK), -1);
}

static void
test_execute_removing_a_missing_file_is_fine(void **state)
{
	struct fixture *f = *state;

	plan_remove(&f->plan, path_in(f, "never-there.conf"));
	plan_write(&f->plan, path_in(f, "after"), "ran\n", 0644);
	execute_ok(f);
	assert_int_equal(access(path_in(f, "after"), F_OK), 0);
}

static void
test_execute_removes_an_empty_directory(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mkdir(path_in(f, "tether@2222.service.d"), 0755), 0);
	plan_remove(&f->plan, path_in(f, "tether@2222.service.d"));
	execute_ok(f);
	assert_int_equal(access(path_in(f, "tether@2222.service.d"), F_OK), -1);
}

static void
test_execute_keeps_a_directory_others_still_use(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mkdir(path_in(f, "tether@2222.service.d"), 0755), 0);
	write_text(path_in(f, "tether@2222.service.d/90-admin.conf"), "x\n");
	plan_remove(&f->plan, path_in(f, "tether@2222.service.d"));
	plan_write(&f->plan, path_in(f, "after"), "ran\n", 0644);
	execute_ok(f);
	assert_int_equal(access(path_in(f,
	    "tether@2222.service.d/90-admin.conf"), F_OK), 0);
	assert_int_equal(access(path_in(f, "after"), F_OK), 0);
}

/* ---- plan_execute: running ----------------------------------------------- */

static void
test_execute_runs_a_command(void **state)
{
	struct fixture *f = *state;
	const char *argv[] = { "/bin/sh", "-c", "echo ran > \"$0\"",
	    path_in(f, "ran"), NULL };
	char *text;

	plan_run(&f->plan, 0, argv);
	execute_ok(f);
	text = read_text(path_in(f, "ran"));
	assert_string_equal(text, "ran\n");
	free(text);
}

static void
test_execute_runs_true_successfully(void **state)
{
	struct fixture *f = *state;
	const char *argv[] = { "/bin/true", NULL };

	plan_run(&f->plan, 0, argv);
	execute_ok(f);
	assert_string_equal(f->log.data != NULL ? f->log.data : "", "");
}

static void
test_execute_goes_on_after_a_failure_that_may_fail(void **state)
{
	struct fixture *f = *state;
	const char *argv[] = { "/bin/false", NULL };

	plan_run(&f->plan, 1, argv);
	plan_write(&f->plan, path_in(f, "after"), "ran\n", 0644);
	execute_ok(f);
	assert_int_equal(access(path_in(f, "after"), F_OK), 0);
}

static void
test_execute_stops_at_a_failure_that_must_not_fail(void **state)
{
	struct fixture *f = *state;
	const char *argv[] = { "/bin/false", NULL };

	plan_write(&f->plan, path_in(f, "before"), "ran\n", 0644);
	plan_run(&f->plan, 0, argv);
	plan_write(&f->plan, path_in(f, "after"), "ran\n", 0644);
	execute_fails(f);
	assert_int_equal(access(path_in(f, "before"), F_OK), 0);
	assert_int_equal(access(path_in(f, "after"), F_OK), -1);
}

static void
test_execute_failure_names_the_command_and_its_status(void **state)
{
	struct fixture *f = *state;
	const char *argv[] = { "/bin/false", NULL };

	plan_run(&f->plan, 0, argv);
	execute_fails(f);
	assert_string_equal(f->err.msg, "/bin/false failed (exit 1)");
}

static void
test_execute_failure_carries_the_command_output(void **state)
{
	struct fixture *f = *state;
	const char *argv[] = { "/bin/sh", "-c", "echo Unit tether@2222.service "
	    "not found. >&2; exit 5", NULL };

	plan_run(&f->plan, 0, argv);
	execute_fails(f);
	assert_contains(f->err.msg, "/bin/sh -c ... failed (exit 5): Unit "
	    "tether@2222.service not found.");
	assert_contains(f->log.data, "Unit tether@2222.service not found.");
}

static void
test_execute_failure_of_a_missing_program_is_exit_127(void **state)
{
	struct fixture *f = *state;
	const char *argv[] = { "/nonexistent/tether-test/systemctl",
	    "daemon-reload", NULL };

	plan_run(&f->plan, 0, argv);
	execute_fails(f);
	assert_contains(f->err.msg, "/nonexistent/tether-test/systemctl "
	    "daemon-reload failed (exit 127)");
}

/* ---- overflow -------------------------------------------------------------- */

static void
test_execute_refuses_a_plan_with_too_many_steps_doing_nothing(void **state)
{
	struct fixture *f = *state;
	char name[32];
	int i;

	for (i = 0; i <= PLAN_STEPS_MAX; i++) {
		snprintf(name, sizeof name, "file-%d", i);
		plan_write(&f->plan, path_in(f, name), "x\n", 0644);
	}
	execute_fails(f);
	assert_contains(f->err.msg, "nothing was done");
	assert_int_equal(access(path_in(f, "file-0"), F_OK), -1);
}

static void
test_execute_refuses_a_plan_with_a_path_too_long(void **state)
{
	struct fixture *f = *state;
	char path[CONFIG_PATH_MAX + 8];

	memset(path, 'p', sizeof path - 1);
	path[0] = '/';
	path[sizeof path - 1] = '\0';
	plan_write(&f->plan, path_in(f, "first"), "x\n", 0644);
	plan_remove(&f->plan, path);
	execute_fails(f);
	assert_contains(f->err.msg, "nothing was done");
	assert_int_equal(access(path_in(f, "first"), F_OK), -1);
}

static void
test_execute_refuses_a_command_with_too_many_arguments(void **state)
{
	struct fixture *f = *state;
	const char *argv[PLAN_ARGS_MAX + 2];
	int i;

	argv[0] = "/bin/true";
	for (i = 1; i <= PLAN_ARGS_MAX; i++)
		argv[i] = "x";
	argv[PLAN_ARGS_MAX + 1] = NULL;
	plan_run(&f->plan, 0, argv);
	execute_fails(f);
	assert_contains(f->err.msg, "nothing was done");
}

static void
test_a_command_of_exactly_the_maximum_arguments_runs(void **state)
{
	struct fixture *f = *state;
	const char *argv[PLAN_ARGS_MAX + 1];
	int i;

	argv[0] = "/bin/true";
	for (i = 1; i < PLAN_ARGS_MAX; i++)
		argv[i] = "x";
	argv[PLAN_ARGS_MAX] = NULL;
	plan_run(&f->plan, 0, argv);
	execute_ok(f);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, \
	    fixture_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_print_write_shows_path_mode_and_content),
		cmocka_unit_test(test_print_write_ends_content_without_newline_with_one),
		cmocka_unit_test(test_print_remove_names_the_path),
		cmocka_unit_test(test_print_run_shows_the_command_line),
		cmocka_unit_test(test_print_keeps_the_order_of_the_steps),
		cmocka_unit_test(test_print_copies_argv_and_content),
		cmocka_unit_test(test_print_of_an_empty_plan_is_empty),

		T(test_execute_writes_the_content),
		T(test_execute_writes_with_the_given_mode_whatever_the_umask),
		T(test_execute_creates_missing_parent_directories),
		T(test_execute_replaces_a_file_by_rename_leaving_no_temporary),
		T(test_execute_replaces_a_symlink_instead_of_writing_through_it),
		T(test_execute_fails_to_write_under_a_file_with_a_message),

		T(test_execute_removes_a_file),
		T(test_execute_removing_a_missing_file_is_fine),
		T(test_execute_removes_an_empty_directory),
		T(test_execute_keeps_a_directory_others_still_use),

		T(test_execute_runs_a_command),
		T(test_execute_runs_true_successfully),
		T(test_execute_goes_on_after_a_failure_that_may_fail),
		T(test_execute_stops_at_a_failure_that_must_not_fail),
		T(test_execute_failure_names_the_command_and_its_status),
		T(test_execute_failure_carries_the_command_output),
		T(test_execute_failure_of_a_missing_program_is_exit_127),

		T(test_execute_refuses_a_plan_with_too_many_steps_doing_nothing),
		T(test_execute_refuses_a_plan_with_a_path_too_long),
		T(test_execute_refuses_a_command_with_too_many_arguments),
		T(test_a_command_of_exactly_the_maximum_arguments_runs),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
