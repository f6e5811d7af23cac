/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Talking to service managers: parsing `systemctl show` output
 * (service_parse_props), running a command with its output captured
 * (service_exec) and knowing whether a user manager answers
 * (service_systemd_running for --user).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "service.h"

static void
parse(const char *text, struct unit_props *p)
{
	/* Anything left from before must not survive a parse. */
	memset(p, 'J', sizeof *p);
	service_parse_props(text, p);
}

static void
assert_no_props(const struct unit_props *p)
{
	assert_string_equal(p->active_state, "");
	assert_string_equal(p->sub_state, "");
	assert_string_equal(p->unit_file_state, "");
	assert_string_equal(p->status_text, "");
	assert_int_equal(p->main_pid, 0);
	assert_int_equal(p->restarts, 0);
}

/* ---- service_parse_props ------------------------------------------------- */

static void
test_parse_reads_every_property(void **state)
{
	struct unit_props p;

	parse("ActiveState=active\nSubState=running\nUnitFileState=enabled\n"
	    "StatusText=forwarding 1/1 via tunnel@bastion:22\nMainPID=4242\n"
	    "NRestarts=3\n", &p);
	assert_string_equal(p.active_state, "active");
	assert_string_equal(p.sub_state, "running");
	assert_string_equal(p.unit_file_state, "enabled");
	assert_string_equal(p.status_text, "forwarding 1/1 via tunnel@bastion:22");
	assert_int_equal(p.main_pid, 4242);
	assert_int_equal(p.restarts, 3);
}

static void
test_parse_takes_keys_in_any_order(void **state)
{
	struct unit_props p;

	/* systemctl prints them in its own order, not the one asked for. */
	parse("MainPID=17\nNRestarts=1\nStatusText=connecting\n"
	    "ActiveState=activating\nSubState=start\nUnitFileState=disabled\n",
	    &p);
	assert_string_equal(p.active_state, "activating");
	assert_string_equal(p.sub_state, "start");
	assert_string_equal(p.unit_file_state, "disabled");
	assert_string_equal(p.status_text, "connecting");
	assert_int_equal(p.main_pid, 17);
	assert_int_equal(p.restarts, 1);
}

static void
test_parse_leaves_missing_keys_empty(void **state)
{
	struct unit_props p;

	parse("ActiveState=inactive\n", &p);
	assert_string_equal(p.active_state, "inactive");
	assert_string_equal(p.sub_state, "");
	assert_string_equal(p.unit_file_state, "");
	assert_string_equal(p.status_text, "");
	assert_int_equal(p.main_pid, 0);
	assert_int_equal(p.restarts, 0);
}

static void
test_parse_of_nothing_is_all_empty(void **state)
{
	struct unit_props p;

	parse("", &p);
	assert_no_props(&p);
}

static void
test_parse_accepts_empty_values(void **state)
{
	struct unit_props p;

	/* A unit that does not exist: systemctl show still answers. */
	parse("MainPID=0\nNRestarts=0\nStatusText=\nActiveState=inactive\n"
	    "SubState=dead\nUnitFileState=\n", &p);
	assert_string_equal(p.unit_file_state, "");
	assert_string_equal(p.status_text, "");
	assert_string_equal(p.sub_state, "dead");
}

static void
test_parse_reads_a_last_line_without_newline(void **state)
{
	struct unit_props p;

	parse("SubState=running\nActiveState=active", &p);
	assert_string_equal(p.active_state, "active");
	assert_string_equal(p.sub_state, "running");
}

static void
test_parse_keeps_equals_signs_inside_a_value(void **state)
{
	struct unit_props p;

	parse("StatusText=forward 127.0.0.1:2222=bound\n", &p);
	assert_string_equal(p.status_text, "forward 127.0.0.1:2222=bound");
}

static void
test_parse_ignores_unknown_and_lookalike_keys(void **state)
{
	struct unit_props p;

	parse("ActiveStateX=bogus\nXActiveState=bogus\nActive=bogus\n"
	    "activestate=bogus\nMainPIDs=99\nnot a property line\n=orphan\n"
	    "Result=success\n", &p);
	assert_no_props(&p);
}

static void
test_parse_truncates_an_overlong_state_safely(void **state)
{
	struct unit_props p;
	char text[256], want[sizeof p.active_state];

	memset(want, 'a', sizeof want - 1);
	want[sizeof want - 1] = '\0';
	snprintf(text, sizeof text, "ActiveState=%0200d\nSubState=running\n", 0);
	memset(text + strlen("ActiveState="), 'a', 200);
	parse(text, &p);
	assert_int_equal(strlen(p.active_state), sizeof p.active_state - 1);
	assert_string_equal(p.active_state, want);
	/* The next field is untouched by the long one. */
	assert_string_equal(p.sub_state, "running");
}

static void
test_parse_truncates_an_overlong_status_text_safely(void **state)
{
	struct unit_props p;
	char *text = malloc(4096);
	size_t i, off;

	assert_non_null(text);
	off = (size_t)sprintf(text, "StatusText=");
	for (i = 0; i < 3000; i++)
		text[off++] = (char)('a' + i % 26);
	off += (size_t)sprintf(text + off, "\nMainPID=7\nUnitFileState=%0100d\n",
	    0);
	text[off] = '\0';
	parse(text, &p);
	assert_int_equal(strlen(p.status_text), sizeof p.status_text - 1);
	assert_memory_equal(p.status_text, "abcdefghijklmnopqrstuvwxyzabc", 29);
	assert_int_equal(p.main_pid, 7);
	assert_int_equal(strlen(p.unit_file_state), sizeof p.unit_file_state - 1);
	free(text);
}

static void
test_parse_takes_the_last_of_a_repeated_key(void **state)
{
	struct unit_props p;

	parse("ActiveState=activating\nActiveState=active\n", &p);
	assert_string_equal(p.active_state, "active");
}

static void
test_parse_reads_numbers_leniently(void **state)
{
	struct unit_props p;

	parse("MainPID=\nNRestarts=junk\n", &p);
	assert_int_equal(p.main_pid, 0);
	assert_int_equal(p.restarts, 0);
}

/* ---- service_exec --------------------------------------------------------- */

static void
test_exec_returns_the_exit_status(void **state)
{
	char *t[] = { "/bin/true", NULL }, *f[] = { "/bin/false", NULL };
	char *s[] = { "/bin/sh", "-c", "exit 42", NULL };

	assert_int_equal(service_exec(t, NULL, 0, 5), 0);
	assert_int_equal(service_exec(f, NULL, 0, 5), 1);
	assert_int_equal(service_exec(s, NULL, 0, 5), 42);
}

static void
test_exec_looks_the_program_up_on_path(void **state)
{
	char *argv[] = { "true", NULL };

	assert_int_equal(service_exec(argv, NULL, 0, 5), 0);
}

static void
test_exec_captures_stdout_and_stderr(void **state)
{
	char *argv[] = { "/bin/sh", "-c", "echo out; echo err >&2", NULL };
	char out[64];

	assert_int_equal(service_exec(argv, out, sizeof out, 5), 0);
	assert_string_equal(out, "out\nerr\n");
}

static void
test_exec_gives_the_command_no_stdin(void **state)
{
	char *argv[] = { "/bin/sh", "-c", "cat; echo done", NULL };
	char out[64];

	/* stdin is /dev/null: a command that reads it does not hang. */
	assert_int_equal(service_exec(argv, out, sizeof out, 5), 0);
	assert_string_equal(out, "done\n");
}

static void
test_exec_truncates_long_output(void **state)
{
	char *argv[] = { "/bin/sh", "-c", "i=0; while [ $i -lt 2000 ]; do "
	    "echo 0123456789; i=$((i+1)); done; exit 3", NULL };
	char out[32];

	/* The rest is drained, so the command is not blocked on a full pipe. */
	assert_int_equal(service_exec(argv, out, sizeof out, 10), 3);
	assert_int_equal(strlen(out), sizeof out - 1);
	assert_memory_equal(out, "0123456789\n0123456789\n", 22);
}

static void
test_exec_of_a_missing_program_is_127_with_a_message(void **state)
{
	char *argv[] = { "/nonexistent/tether-test/prog", NULL };
	char out[128];

	assert_int_equal(service_exec(argv, out, sizeof out, 5), 127);
	assert_non_null(strstr(out, "cannot run /nonexistent/tether-test/prog"));
}

static void
test_exec_of_a_killed_command_is_128_plus_signal(void **state)
{
	char *argv[] = { "/bin/sh", "-c", "kill -TERM $$", NULL };

	assert_int_equal(service_exec(argv, NULL, 0, 5), 128 + SIGTERM);
}

static void
test_exec_kills_a_command_that_takes_too_long(void **state)
{
	char *argv[] = { "sleep", "30", NULL };
	struct timespec t0, t1;
	double took;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(service_exec(argv, NULL, 0, 1), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	took = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(took >= 0.9 && took < 5);
}

/* ---- service_systemd_running(user) ------------------------------------------ */

struct rundir {
	char dir[64];
};

static int
rundir_setup(void **state)
{
	struct rundir *r = calloc(1, sizeof *r);

	if (r == NULL)
		return -1;
	snprintf(r->dir, sizeof r->dir, "/tmp/tether-svc-XXXXXX");
	if (mkdtemp(r->dir) == NULL)
		return -1;
	*state = r;
	return 0;
}

static int
rundir_teardown(void **state)
{
	struct rundir *r = *state;
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", r->dir);
	if (system(cmd) != 0)
		return -1;
	free(r);
	unsetenv("XDG_RUNTIME_DIR");
	return 0;
}

static void
test_user_manager_needs_xdg_runtime_dir(void **state)
{
	unsetenv("XDG_RUNTIME_DIR");
	assert_false(service_systemd_running(TETHER_MODE_USER));
	setenv("XDG_RUNTIME_DIR", "run/user/1000", 1);
	assert_false(service_systemd_running(TETHER_MODE_USER));
}

static void
test_user_manager_absent_from_an_empty_runtime_dir(void **state)
{
	struct rundir *r = *state;

	setenv("XDG_RUNTIME_DIR", r->dir, 1);
	assert_false(service_systemd_running(TETHER_MODE_USER));
}

static void
test_user_manager_is_its_private_socket(void **state)
{
	struct rundir *r = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[80];
	int fd;

	snprintf(dir, sizeof dir, "%s/systemd", r->dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_true(strlen(dir) + sizeof "/private" <= sizeof sa.sun_path);
	memcpy(sa.sun_path, dir, strlen(dir));
	memcpy(sa.sun_path + strlen(dir), "/private", sizeof "/private");
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	setenv("XDG_RUNTIME_DIR", r->dir, 1);
	assert_true(service_systemd_running(TETHER_MODE_USER));
	close(fd);
}

static void
test_user_manager_is_not_a_plain_file_named_private(void **state)
{
	struct rundir *r = *state;
	char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/systemd", r->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof path, "%s/systemd/private", r->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	setenv("XDG_RUNTIME_DIR", r->dir, 1);
	assert_false(service_systemd_running(TETHER_MODE_USER));
}

int
main(void)
{
#define R(fn) cmocka_unit_test_setup_teardown(fn, rundir_setup, \
	    rundir_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_reads_every_property),
		cmocka_unit_test(test_parse_takes_keys_in_any_order),
		cmocka_unit_test(test_parse_leaves_missing_keys_empty),
		cmocka_unit_test(test_parse_of_nothing_is_all_empty),
		cmocka_unit_test(test_parse_accepts_empty_values),
		cmocka_unit_test(test_parse_reads_a_last_line_without_newline),
		cmocka_unit_test(test_parse_keeps_equals_signs_inside_a_value),
		cmocka_unit_test(test_parse_ignores_unknown_and_lookalike_keys),
		cmocka_unit_test(test_parse_truncates_an_overlong_state_safely),
		cmocka_unit_test(test_parse_truncates_an_overlong_status_text_safely),
		cmocka_unit_test(test_parse_takes_the_last_of_a_repeated_key),
		cmocka_unit_test(test_parse_reads_numbers_leniently),

		cmocka_unit_test(test_exec_returns_the_exit_status),
		cmocka_unit_test(test_exec_looks_the_program_up_on_path),
		cmocka_unit_test(test_exec_captures_stdout_and_stderr),
		cmocka_unit_test(test_exec_gives_the_command_no_stdin),
		cmocka_unit_test(test_exec_truncates_long_output),
		cmocka_unit_test(test_exec_of_a_missing_program_is_127_with_a_message),
		cmocka_unit_test(test_exec_of_a_killed_command_is_128_plus_signal),
		cmocka_unit_test(test_exec_kills_a_command_that_takes_too_long),

		R(test_user_manager_needs_xdg_runtime_dir),
		R(test_user_manager_absent_from_an_empty_runtime_dir),
		R(test_user_manager_is_its_private_socket),
		R(test_user_manager_is_not_a_plain_file_named_private),
	};
#undef R

	return cmocka_run_group_tests(tests, NULL, NULL);
}
