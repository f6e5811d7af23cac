/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Where a tunnel's files live, by mode (paths_for_mode), where a running
 * tunnel keeps its state (paths_run_runtime_dir) and dir/PORT.ext names.
 * The environment comes in as values: nothing here reads the process's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "paths.h"

#define HOME "/home/ann"

static struct path_env
env_of(const char *home, const char *config, const char *runtime,
    const char *runtime_directory)
{
	struct path_env env = { home, config, runtime, runtime_directory };

	return env;
}

static void
user_paths_ok(const struct path_env *env, struct tether_paths *p)
{
	if (paths_for_mode(TETHER_MODE_USER, env, p) != 0)
		fail_msg("paths_for_mode(user) failed");
	assert_int_equal(p->mode, TETHER_MODE_USER);
}

/* ---- paths_for_mode: system -------------------------------------------- */

static void
test_system_paths_are_the_fixed_directories(void **state)
{
	struct path_env env = env_of(HOME, "/x/config", "/run/user/1000",
	    "/run/other");
	struct tether_paths p;

	assert_int_equal(paths_for_mode(TETHER_MODE_SYSTEM, &env, &p), 0);
	assert_int_equal(p.mode, TETHER_MODE_SYSTEM);
	assert_string_equal(p.config_dir, "/etc/tether");
	assert_string_equal(p.unit_dir, "/etc/systemd/system");
	assert_string_equal(p.runtime_dir, "/run/tether");
	assert_string_equal(p.log_dir, "/var/log/tether");
}

static void
test_system_paths_need_no_home(void **state)
{
	struct path_env env = env_of(NULL, NULL, NULL, NULL);
	struct tether_paths p;

	assert_int_equal(paths_for_mode(TETHER_MODE_SYSTEM, &env, &p), 0);
	assert_string_equal(p.config_dir, "/etc/tether");
}

/* ---- paths_for_mode: user ---------------------------------------------- */

static void
test_user_paths_without_xdg_are_under_home(void **state)
{
	struct path_env env = env_of(HOME, NULL, NULL, NULL);
	struct tether_paths p;

	user_paths_ok(&env, &p);
	assert_string_equal(p.config_dir, HOME "/.config/tether");
	assert_string_equal(p.unit_dir, HOME "/.config/systemd/user");
	assert_string_equal(p.runtime_dir, HOME "/.local/state/tether");
	assert_string_equal(p.log_dir, HOME "/.local/state/tether");
}

static void
test_user_paths_stay_in_home_config_despite_xdg_config_home(void **state)
{
	struct path_env env = env_of(HOME, "/srv/cfg", NULL, NULL);
	struct tether_paths p;

	/* The user manager and the unit's %h/.config path do not follow it. */
	user_paths_ok(&env, &p);
	assert_string_equal(p.config_dir, HOME "/.config/tether");
	assert_string_equal(p.unit_dir, HOME "/.config/systemd/user");
	assert_string_equal(p.runtime_dir, HOME "/.local/state/tether");
}

static void
test_user_paths_follow_xdg_runtime_dir(void **state)
{
	struct path_env env = env_of(HOME, NULL, "/run/user/1000", NULL);
	struct tether_paths p;

	user_paths_ok(&env, &p);
	assert_string_equal(p.runtime_dir, "/run/user/1000/tether");
	assert_string_equal(p.config_dir, HOME "/.config/tether");
}

static void
test_user_log_dir_stays_under_home_with_xdg_runtime_dir(void **state)
{
	struct path_env env = env_of(HOME, "/srv/cfg", "/run/user/1000", NULL);
	struct tether_paths p;

	/* A log must survive the runtime directory (a tmpfs) going away. */
	user_paths_ok(&env, &p);
	assert_string_equal(p.log_dir, HOME "/.local/state/tether");
}

static void
test_user_paths_ignore_a_relative_xdg_config_home(void **state)
{
	struct path_env env = env_of(HOME, "cfg", NULL, NULL);
	struct tether_paths p;

	user_paths_ok(&env, &p);
	assert_string_equal(p.config_dir, HOME "/.config/tether");
	assert_string_equal(p.unit_dir, HOME "/.config/systemd/user");
}

static void
test_user_paths_ignore_a_relative_xdg_runtime_dir(void **state)
{
	struct path_env env = env_of(HOME, NULL, "run/user/1000", NULL);
	struct tether_paths p;

	user_paths_ok(&env, &p);
	assert_string_equal(p.runtime_dir, HOME "/.local/state/tether");
}

static void
test_user_paths_ignore_empty_xdg_values(void **state)
{
	struct path_env env = env_of(HOME, "", "", NULL);
	struct tether_paths p;

	user_paths_ok(&env, &p);
	assert_string_equal(p.config_dir, HOME "/.config/tether");
	assert_string_equal(p.runtime_dir, HOME "/.local/state/tether");
}

static void
test_user_paths_ignore_runtime_directory(void **state)
{
	struct path_env env = env_of(HOME, NULL, NULL, "/run/tether");
	struct tether_paths p;

	/* $RUNTIME_DIRECTORY is the service's, not where setup puts files. */
	user_paths_ok(&env, &p);
	assert_string_equal(p.runtime_dir, HOME "/.local/state/tether");
}

static void
test_user_paths_without_home_fail(void **state)
{
	struct path_env env = env_of(NULL, "/srv/cfg", "/run/user/1000", NULL);
	struct tether_paths p;

	assert_int_equal(paths_for_mode(TETHER_MODE_USER, &env, &p), -1);
}

static void
test_user_paths_with_a_relative_home_fail(void **state)
{
	struct path_env env = env_of("home/ann", NULL, NULL, NULL);
	struct tether_paths p;

	assert_int_equal(paths_for_mode(TETHER_MODE_USER, &env, &p), -1);
}

static void
test_user_paths_with_an_empty_home_fail(void **state)
{
	struct path_env env = env_of("", NULL, NULL, NULL);
	struct tether_paths p;

	assert_int_equal(paths_for_mode(TETHER_MODE_USER, &env, &p), -1);
}

static void
test_user_paths_with_an_overlong_home_fail(void **state)
{
	char home[CONFIG_PATH_MAX];
	struct path_env env;
	struct tether_paths p;

	memset(home, 'h', sizeof home - 1);
	home[0] = '/';
	home[sizeof home - 1] = '\0';
	env = env_of(home, NULL, NULL, NULL);
	assert_int_equal(paths_for_mode(TETHER_MODE_USER, &env, &p), -1);
}

static void
test_user_paths_with_an_overlong_xdg_config_home_still_work(void **state)
{
	char cfg[CONFIG_PATH_MAX];
	struct path_env env;
	struct tether_paths p;

	memset(cfg, 'c', sizeof cfg - 1);
	cfg[0] = '/';
	cfg[sizeof cfg - 1] = '\0';
	env = env_of(HOME, cfg, NULL, NULL);
	user_paths_ok(&env, &p);
	assert_string_equal(p.config_dir, HOME "/.config/tether");
}

/* ---- paths_run_runtime_dir ---------------------------------------------- */

static void
run_dir_ok(const struct path_env *env, int is_root, const char *want)
{
	char out[CONFIG_PATH_MAX];

	if (paths_run_runtime_dir(env, is_root, out, sizeof out) != 0)
		fail_msg("paths_run_runtime_dir failed, expected %s", want);
	assert_string_equal(out, want);
}

static void
test_run_dir_runtime_directory_beats_everything(void **state)
{
	struct path_env env = env_of(HOME, NULL, "/run/user/1000",
	    "/run/tether-svc");

	run_dir_ok(&env, 0, "/run/tether-svc");
	run_dir_ok(&env, 1, "/run/tether-svc");
}

static void
test_run_dir_takes_the_first_of_several_runtime_directories(void **state)
{
	struct path_env env = env_of(HOME, NULL, NULL, "/run/tether:/run/other");

	run_dir_ok(&env, 1, "/run/tether");
}

static void
test_run_dir_ignores_a_relative_runtime_directory(void **state)
{
	struct path_env env = env_of(HOME, NULL, "/run/user/1000", "tether");

	run_dir_ok(&env, 0, "/run/user/1000/tether");
}

static void
test_run_dir_as_root_is_run_tether(void **state)
{
	struct path_env env = env_of("/root", NULL, "/run/user/0", NULL);

	run_dir_ok(&env, 1, "/run/tether");
}

static void
test_run_dir_as_a_user_is_under_xdg_runtime_dir(void **state)
{
	struct path_env env = env_of(HOME, NULL, "/run/user/1000", NULL);

	run_dir_ok(&env, 0, "/run/user/1000/tether");
}

static void
test_run_dir_without_xdg_runtime_dir_is_under_home(void **state)
{
	struct path_env env = env_of(HOME, NULL, NULL, NULL);

	run_dir_ok(&env, 0, HOME "/.local/state/tether");
}

static void
test_run_dir_ignores_a_relative_xdg_runtime_dir(void **state)
{
	struct path_env env = env_of(HOME, NULL, "run/user/1000", NULL);

	run_dir_ok(&env, 0, HOME "/.local/state/tether");
}

static void
test_run_dir_without_anything_fails(void **state)
{
	struct path_env env = env_of(NULL, NULL, NULL, NULL);
	char out[64];

	assert_int_equal(paths_run_runtime_dir(&env, 0, out, sizeof out), -1);
	env = env_of("relative", NULL, "relative", "relative");
	assert_int_equal(paths_run_runtime_dir(&env, 0, out, sizeof out), -1);
}

static void
test_run_dir_fails_rather_than_truncate(void **state)
{
	struct path_env env = env_of(HOME, NULL, "/run/user/1000", NULL);
	char out[16];

	assert_int_equal(paths_run_runtime_dir(&env, 0, out, sizeof out), -1);
}

/* ---- paths_join_port ---------------------------------------------------- */

static void
test_join_port_makes_dir_port_ext(void **state)
{
	char out[64];

	assert_int_equal(paths_join_port(out, sizeof out, "/etc/tether", 2222,
	    ".conf"), 0);
	assert_string_equal(out, "/etc/tether/2222.conf");
}

static void
test_join_port_fails_rather_than_truncate(void **state)
{
	char out[16];

	assert_int_equal(paths_join_port(out, sizeof out, "/etc/tether", 65535,
	    ".conf"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_system_paths_are_the_fixed_directories),
		cmocka_unit_test(test_system_paths_need_no_home),
		cmocka_unit_test(test_user_paths_without_xdg_are_under_home),
		cmocka_unit_test(test_user_paths_stay_in_home_config_despite_xdg_config_home),
		cmocka_unit_test(test_user_paths_follow_xdg_runtime_dir),
		cmocka_unit_test(test_user_log_dir_stays_under_home_with_xdg_runtime_dir),
		cmocka_unit_test(test_user_paths_ignore_a_relative_xdg_config_home),
		cmocka_unit_test(test_user_paths_ignore_a_relative_xdg_runtime_dir),
		cmocka_unit_test(test_user_paths_ignore_empty_xdg_values),
		cmocka_unit_test(test_user_paths_ignore_runtime_directory),
		cmocka_unit_test(test_user_paths_without_home_fail),
		cmocka_unit_test(test_user_paths_with_a_relative_home_fail),
		cmocka_unit_test(test_user_paths_with_an_empty_home_fail),
		cmocka_unit_test(test_user_paths_with_an_overlong_home_fail),
		cmocka_unit_test(test_user_paths_with_an_overlong_xdg_config_home_still_work),

		cmocka_unit_test(test_run_dir_runtime_directory_beats_everything),
		cmocka_unit_test(test_run_dir_takes_the_first_of_several_runtime_directories),
		cmocka_unit_test(test_run_dir_ignores_a_relative_runtime_directory),
		cmocka_unit_test(test_run_dir_as_root_is_run_tether),
		cmocka_unit_test(test_run_dir_as_a_user_is_under_xdg_runtime_dir),
		cmocka_unit_test(test_run_dir_without_xdg_runtime_dir_is_under_home),
		cmocka_unit_test(test_run_dir_ignores_a_relative_xdg_runtime_dir),
		cmocka_unit_test(test_run_dir_without_anything_fails),
		cmocka_unit_test(test_run_dir_fails_rather_than_truncate),

		cmocka_unit_test(test_join_port_makes_dir_port_ext),
		cmocka_unit_test(test_join_port_fails_rather_than_truncate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
