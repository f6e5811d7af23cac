/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * A tunnel's configuration: defaults, the INI file's [tunnel] section, the
 * environment (through a lookup function), -o assignments and config_finish.
 */
#include <sys/socket.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <ini.h>

#include "tether/exit.h"
#include "config.h"

#define HOME "/home/tester"
#define ORIGIN "t.conf"

#define assert_contains(haystack, needle) do { \
	if (strstr((haystack), (needle)) == NULL) \
		fail_msg("\"%s\" does not contain \"%s\"", (haystack), \
		    (needle)); \
} while (0)

#define assert_starts_with(s, prefix) do { \
	if (strncmp((s), (prefix), strlen(prefix)) != 0) \
		fail_msg("\"%s\" does not start with \"%s\"", (s), (prefix)); \
} while (0)

/* ---- helpers ----------------------------------------------------------- */

static void
load_ok(struct tether_config *cfg, const char *text)
{
	struct error err;

	error_clear(&err);
	if (config_load_string(cfg, text, ORIGIN, &err) != 0)
		fail_msg("refused: %s", err.msg);
	assert_int_equal(err.code, 0);
}

static struct error
load_bad(struct tether_config *cfg, const char *text)
{
	struct error err;

	error_clear(&err);
	if (config_load_string(cfg, text, ORIGIN, &err) != -1)
		fail_msg("accepted: %s", text);
	assert_int_equal(err.code, TETHER_EXIT_CONFIG);
	return err;
}

/* "[tunnel]\nKEY = VALUE\n": the assignment is on line 2. */
static int
load_key(struct tether_config *cfg, const char *key, const char *value,
    struct error *err)
{
	char text[512];

	snprintf(text, sizeof text, "[tunnel]\n%s = %s\n", key, value);
	error_clear(err);
	return config_load_string(cfg, text, ORIGIN, err);
}

static void
load_key_ok(struct tether_config *cfg, const char *key, const char *value)
{
	struct error err;

	if (load_key(cfg, key, value, &err) != 0)
		fail_msg("%s = %s refused: %s", key, value, err.msg);
}

/* The value must be refused with "t.conf:2: key 'KEY'" in the message. */
static struct error
load_key_bad(struct tether_config *cfg, const char *key, const char *value)
{
	char where[128];
	struct error err;

	if (load_key(cfg, key, value, &err) != -1)
		fail_msg("%s = %s accepted", key, value);
	assert_int_equal(err.code, TETHER_EXIT_CONFIG);
	assert_starts_with(err.msg, ORIGIN ":2: ");
	snprintf(where, sizeof where, "key '%s'", key);
	assert_contains(err.msg, where);
	return err;
}

/* A fake environment: { name, value, name, value, ..., NULL }. */
static const char *
fake_lookup(const char *name, void *ctx)
{
	const char *const *p = ctx;

	for (; p[0] != NULL; p += 2) {
		if (strcmp(p[0], name) == 0)
			return p[1];
	}
	return NULL;
}

static int
apply_env(struct tether_config *cfg, const char **env, struct error *err)
{
	error_clear(err);
	return config_apply_env(cfg, fake_lookup, (void *)env, err);
}

/* A config that config_finish accepts, less what a test takes away. */
static void
runnable(struct tether_config *cfg)
{
	struct error err;

	config_init_defaults(cfg, HOME);
	error_clear(&err);
	if (config_set_bastion(cfg, "u@bastion", "test", &err) != 0 ||
	    config_set_path(cfg, cfg->key_path, "/keys/id", "test", &err) != 0)
		fail_msg("%s", err.msg);
	cfg->port = 2222;
}

static struct error
finish_bad(struct tether_config *cfg, int code)
{
	struct error err;

	error_clear(&err);
	assert_int_equal(config_finish(cfg, &err), -1);
	assert_int_equal(err.code, code);
	return err;
}

static void
finish_ok(struct tether_config *cfg)
{
	struct error err;

	error_clear(&err);
	if (config_finish(cfg, &err) != 0)
		fail_msg("refused: %s", err.msg);
}

/* ---- defaults ---------------------------------------------------------- */

static void
test_defaults_are_the_documented_values(void **state)
{
	struct tether_config cfg;

	config_init_defaults(&cfg, HOME);
	assert_string_equal(cfg.name, "");
	assert_int_equal(cfg.has_bastion, 0);
	assert_string_equal(cfg.key_path, "");
	assert_string_equal(cfg.known_hosts, HOME "/.ssh/known_hosts");
	assert_int_equal(cfg.host_key_policy, HOST_KEY_STRICT);
	assert_int_equal(cfg.nforwards, 0);
	assert_int_equal(cfg.port, -1);
	assert_string_equal(cfg.target_host, "localhost");
	assert_int_equal(cfg.target_port, 22);
	assert_int_equal(cfg.keepalive_interval, 30);
	assert_int_equal(cfg.keepalive_count, 3);
	assert_true(cfg.backoff_initial == 1);
	assert_true(cfg.backoff_max == 60);
	assert_true(cfg.backoff_factor == 2);
	assert_int_equal(cfg.stable_after, 30);
	assert_int_equal(cfg.connect_timeout, 15);
	assert_int_equal(cfg.max_channels, 256);
	assert_int_equal(cfg.exit_on_forward_failure, 0);
	assert_int_equal(cfg.verbose, 0);
	assert_int_equal(cfg.agent_available, 0);
	assert_string_equal(cfg.home, HOME);
}

static void
test_defaults_without_home_leave_known_hosts_unset(void **state)
{
	struct tether_config cfg;

	config_init_defaults(&cfg, NULL);
	assert_string_equal(cfg.home, "");
	assert_string_equal(cfg.known_hosts, "");
	config_init_defaults(&cfg, "");
	assert_string_equal(cfg.known_hosts, "");
}

static void
test_defaults_with_overlong_home_leave_known_hosts_unset(void **state)
{
	struct tether_config cfg;
	char home[1011];

	memset(home, 'h', sizeof home - 1);
	home[0] = '/';
	home[sizeof home - 1] = '\0';
	config_init_defaults(&cfg, home);
	/* Not a truncated path that names some other file. */
	assert_string_equal(cfg.known_hosts, "");
}

/* ---- config_load_string: every key ------------------------------------- */

static void
test_name_key_sets_the_name(void **state)
{
	struct tether_config cfg;

	config_init_defaults(&cfg, HOME);
	load_key_ok(&cfg, "name", "db-tunnel_2.x");
	assert_string_equal(cfg.name, "db-tunnel_2.x");
}

static void
test_name_with_odd_bytes_is_refused(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	err = load_key_bad(&cfg, "name", "my tunnel");
	assert_contains(err.msg, "name 'my tunnel' must be 1 to 63");
	load_key_bad(&cfg, "name", "a/b");
	load_key_bad(&cfg, "name", "");
}

static void
test_name_of_64_characters_is_refused(void **state)
{
	struct tether_config cfg;
	char name[65];

	config_init_defaults(&cfg, HOME);
	memset(name, 'n', 64);
	name[64] = '\0';
	load_key_bad(&cfg, "name", name);
	name[63] = '\0';
	load_key_ok(&cfg, "name", name);
	assert_int_equal(strlen(cfg.name), 63);
}

static void
test_bastion_key_sets_the_bastion(void **state)
{
	struct tether_config cfg;

	config_init_defaults(&cfg, HOME);
	load_key_ok(&cfg, "bastion", "deploy@jump.example.com:2200");
	assert_int_equal(cfg.has_bastion, 1);
	assert_string_equal(cfg.bastion.user, "deploy");
	assert_string_equal(cfg.bastion.host, "jump.example.com");
	assert_int_equal(cfg.bastion.port, 2200);
}

static void
test_bad_bastion_key_is_refused(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	err = load_key_bad(&cfg, "bastion", "-oProxyCommand@host");
	assert_contains(err.msg, "bastion '-oProxyCommand@host'");
	assert_int_equal(cfg.has_bastion, 0);
}

#ifdef TETHER_LIBSSH_CHANNEL_WINDOW
static void
test_channel_window_is_bounded(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	assert_int_equal(cfg.channel_window, 4 * 1024 * 1024);
	load_key_ok(&cfg, "channel_window", "16777216");
	assert_int_equal(cfg.channel_window, 16777216);
	err = load_key_bad(&cfg, "channel_window", "16777217");
	assert_contains(err.msg, "key 'channel_window': '16777217' is not");
	err = load_key_bad(&cfg, "channel_window", "1024");
	assert_contains(err.msg, "from 32768 to");
}
#else
static void
test_channel_window_needs_the_bundled_libssh(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	assert_int_equal(cfg.channel_window, 0);
	err = load_key_bad(&cfg, "channel_window", "4194304");
	assert_contains(err.msg, "TETHER_BUNDLED_LIBSSH=ON");
	assert_int_equal(cfg.channel_window, 0);
}
#endif

static void
test_key_key_expands_tilde_to_home(void **state)
{
	struct tether_config cfg;

	config_init_defaults(&cfg, HOME);
	load_key_ok(&cfg, "key", "~/.ssh/id_ed25519");
	assert_string_equal(cfg.key_path, HOME "/.ssh/id_ed25519");
}

static void
test_key_key_keeps_an_absolute_path(void **state)
{
	struct tether_config cfg;

	config_init_defaults(&cfg, HOME);
	load_key_ok(&cfg, "key", "/etc/tether/id");
	assert_string_equal(cfg.key_path, "/etc/tether/id");
}

static void
test_empty_key_is_refused(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	err = load_key_bad(&cfg, "key", "");
	assert_contains(err.msg, "the path is empty");
}

static void
test_key_with_tilde_and_no_home_is_refused(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, NULL);
	err = load_key_bad(&cfg, "key", "~/.ssh/id");
	assert_contains(err.msg, "HOME is unset");
}

static void
test_path_expanding_past_1023_bytes_is_refused(void **state)
{
	struct tether_config cfg;
	char path[1100];
	struct error err;

	config_init_defaults(&cfg, "/h");
	/* "~/" and 1021 bytes: "/h/" and 1021 bytes is 1024, one too many. */
	memcpy(path, "~/", 2);
	memset(path + 2, 'p', 1021);
	path[1023] = '\0';
	error_clear(&err);
	assert_int_equal(config_set_path(&cfg, cfg.key_path, path, "-s", &err),
	    -1);
	assert_int_equal(err.code, TETHER_EXIT_CONFIG);
	assert_starts_with(err.msg, "-s: path '~/ppp");
	assert_contains(err.msg, "longer than 1023 bytes");
	path[1022] = '\0';
	error_clear(&err);
	assert_int_equal(config_set_path(&cfg, cfg.key_path, path, "-s", &err),
	    0);
	assert_int_equal(strlen(cfg.key_path), 1023);
}

static void
test_known_hosts_key_sets_the_file(void **state)
{
	struct tether_config cfg;

	config_init_defaults(&cfg, HOME);
	load_key_ok(&cfg, "known_hosts", "~/tether/known_hosts");
	assert_string_equal(cfg.known_hosts, HOME "/tether/known_hosts");
}

static void
test_host_key_policy_accepts_strict_and_accept_new(void **state)
{
	struct tether_config cfg;

	config_init_defaults(&cfg, HOME);
	load_key_ok(&cfg, "host_key_policy", "accept-new");
	assert_int_equal(cfg.host_key_policy, HOST_KEY_ACCEPT_NEW);
	load_key_ok(&cfg, "host_key_policy", "strict");
	assert_int_equal(cfg.host_key_policy, HOST_KEY_STRICT);
}

static void
test_other_host_key_policy_is_refused(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	err = load_key_bad(&cfg, "host_key_policy", "yes");
	assert_contains(err.msg, "host key policy 'yes' is neither 'strict' "
	    "nor 'accept-new'");
	load_key_bad(&cfg, "host_key_policy", "Strict");
}

static void
test_forward_key_adds_a_forward(void **state)
{
	struct tether_config cfg;

	config_init_defaults(&cfg, HOME);
	load_key_ok(&cfg, "forward", "*:8080:web:80");
	assert_int_equal(cfg.nforwards, 1);
	assert_string_equal(cfg.forwards[0].bind, "*");
	assert_int_equal(cfg.forwards[0].port, 8080);
	assert_string_equal(cfg.forwards[0].host, "web");
	assert_int_equal(cfg.forwards[0].host_port, 80);
}

static void
test_bad_forward_key_is_refused(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	err = load_key_bad(&cfg, "forward", "2222:localhost");
	assert_contains(err.msg, "forward '2222:localhost': expected");
	assert_int_equal(cfg.nforwards, 0);
}

static void
test_repeated_forward_lines_accumulate(void **state)
{
	struct tether_config cfg;

	config_init_defaults(&cfg, HOME);
	load_ok(&cfg, "[tunnel]\n"
	    "forward = 7001:localhost:22\n"
	    "name = x\n"
	    "forward = 7002:localhost:80\n"
	    "forward = 7003:db:5432\n");
	assert_int_equal(cfg.nforwards, 3);
	assert_int_equal(cfg.forwards[0].port, 7001);
	assert_int_equal(cfg.forwards[1].port, 7002);
	assert_int_equal(cfg.forwards[2].port, 7003);
	assert_string_equal(cfg.forwards[2].host, "db");
}

static void
test_forward_lines_of_a_second_file_replace_the_first_files(void **state)
{
	struct tether_config cfg;

	config_init_defaults(&cfg, HOME);
	load_ok(&cfg, "[tunnel]\nforward = 7001:a:1\nforward = 7002:b:2\n");
	load_ok(&cfg, "[tunnel]\nforward = 8001:c:3\nforward = 8002:d:4\n");
	assert_int_equal(cfg.nforwards, 2);
	assert_int_equal(cfg.forwards[0].port, 8001);
	assert_int_equal(cfg.forwards[1].port, 8002);
}

static void
test_file_without_forward_keeps_earlier_forwards(void **state)
{
	struct tether_config cfg;

	config_init_defaults(&cfg, HOME);
	load_ok(&cfg, "[tunnel]\nforward = 7001:a:1\n");
	load_ok(&cfg, "[tunnel]\nname = other\n");
	assert_int_equal(cfg.nforwards, 1);
	assert_int_equal(cfg.forwards[0].port, 7001);
}

static void
test_seventeenth_forward_is_refused(void **state)
{
	struct tether_config cfg;
	char text[2048];
	struct error err;
	int i, n;

	config_init_defaults(&cfg, HOME);
	n = snprintf(text, sizeof text, "[tunnel]\n");
	for (i = 0; i < CONFIG_FORWARDS_MAX + 1; i++)
		n += snprintf(text + n, sizeof text - (size_t)n,
		    "forward = %d:localhost:22\n", 7000 + i);
	err = load_bad(&cfg, text);
	assert_starts_with(err.msg, ORIGIN ":18: key 'forward': ");
	assert_contains(err.msg, "more than 16 forwards");
	assert_int_equal(cfg.nforwards, CONFIG_FORWARDS_MAX);
}

static void
test_port_key_sets_the_shorthand_port(void **state)
{
	struct tether_config cfg;

	config_init_defaults(&cfg, HOME);
	load_key_ok(&cfg, "port", "2222");
	assert_int_equal(cfg.port, 2222);
	load_key_ok(&cfg, "port", "0");
	assert_int_equal(cfg.port, 0);
}

static void
test_bad_port_key_is_refused(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	err = load_key_bad(&cfg, "port", "65536");
	assert_contains(err.msg, "'65536' is not a port from 0 to 65535");
	load_key_bad(&cfg, "port", "22x");
	load_key_bad(&cfg, "port", "-1");
	load_key_bad(&cfg, "port", "");
	assert_int_equal(cfg.port, -1);
}

static void
test_target_key_sets_host_and_port(void **state)
{
	struct tether_config cfg;

	config_init_defaults(&cfg, HOME);
	load_key_ok(&cfg, "target", "db.internal:5432");
	assert_string_equal(cfg.target_host, "db.internal");
	assert_int_equal(cfg.target_port, 5432);
}

static void
test_target_key_of_a_bare_port_means_localhost(void **state)
{
	struct tether_config cfg;

	config_init_defaults(&cfg, HOME);
	load_key_ok(&cfg, "target", "db:1");
	load_key_ok(&cfg, "target", "8080");
	assert_string_equal(cfg.target_host, "localhost");
	assert_int_equal(cfg.target_port, 8080);
}

static void
test_bad_target_key_is_refused(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	err = load_key_bad(&cfg, "target", "localhost:0");
	assert_contains(err.msg, "target 'localhost:0': expected HOST:PORT");
	load_key_bad(&cfg, "target", "localhost");
	assert_string_equal(cfg.target_host, "localhost");
	assert_int_equal(cfg.target_port, 22);
}

/* The numeric keys and their ranges, as config.c's number_keys. */
struct number_case {
	const char *key;
	size_t offset;
	int is_int;
	const char *lowest, *highest, *below, *above;
	double lowest_v, highest_v;
};

#define NUM(k, isint, lo, hi, below, above, lov, hiv) \
	{ #k, offsetof(struct tether_config, k), isint, lo, hi, below, above, \
	  lov, hiv }

static const struct number_case number_cases[] = {
	NUM(keepalive_interval, 1, "0", "86400", "-1", "86401", 0, 86400),
	NUM(keepalive_count, 1, "1", "100", "0", "101", 1, 100),
	NUM(backoff_initial, 0, "0.1", "3600", "0.09", "3600.5", 0.1, 3600),
	NUM(backoff_max, 0, "0.1", "86400", "0", "86400.1", 0.1, 86400),
	NUM(backoff_factor, 0, "1", "10", "0.99", "10.01", 1, 10),
	NUM(stable_after, 1, "0", "86400", "-1", "86401", 0, 86400),
	NUM(connect_timeout, 1, "1", "3600", "0", "3601", 1, 3600),
	NUM(max_channels, 1, "1", "4096", "0", "4097", 1, 4096),
};

#define NUMBER_CASES (sizeof number_cases / sizeof number_cases[0])

static double
number_value(const struct tether_config *cfg, const struct number_case *c)
{
	const char *field = (const char *)cfg + c->offset;

	if (c->is_int)
		return *(const int *)(const void *)field;
	return *(const double *)(const void *)field;
}

static void
test_each_number_key_accepts_its_lowest_and_highest_value(void **state)
{
	struct tether_config cfg;
	size_t i;

	for (i = 0; i < NUMBER_CASES; i++) {
		const struct number_case *c = &number_cases[i];

		config_init_defaults(&cfg, HOME);
		load_key_ok(&cfg, c->key, c->lowest);
		if (number_value(&cfg, c) != c->lowest_v)
			fail_msg("%s = %s gave %g", c->key, c->lowest,
			    number_value(&cfg, c));
		load_key_ok(&cfg, c->key, c->highest);
		if (number_value(&cfg, c) != c->highest_v)
			fail_msg("%s = %s gave %g", c->key, c->highest,
			    number_value(&cfg, c));
	}
}

static void
test_each_number_key_refuses_values_out_of_range(void **state)
{
	struct tether_config cfg, before;
	struct error err;
	size_t i;

	for (i = 0; i < NUMBER_CASES; i++) {
		const struct number_case *c = &number_cases[i];

		config_init_defaults(&cfg, HOME);
		before = cfg;
		err = load_key_bad(&cfg, c->key, c->below);
		assert_contains(err.msg, c->below);
		assert_contains(err.msg, "from");
		err = load_key_bad(&cfg, c->key, c->above);
		assert_contains(err.msg, c->above);
		if (number_value(&cfg, c) != number_value(&before, c))
			fail_msg("%s changed to %g", c->key,
			    number_value(&cfg, c));
	}
}

static void
test_each_number_key_refuses_text_and_empty_values(void **state)
{
	static const char *bad[] = { "", "ten", "1x", "x1", "nan", "inf",
	    "-inf", "1 2" };
	struct tether_config cfg;
	size_t i, j;

	for (i = 0; i < NUMBER_CASES; i++) {
		for (j = 0; j < sizeof bad / sizeof bad[0]; j++) {
			config_init_defaults(&cfg, HOME);
			load_key_bad(&cfg, number_cases[i].key, bad[j]);
		}
	}
}

static void
test_whole_number_keys_refuse_fractions(void **state)
{
	struct tether_config cfg;
	struct error err;
	size_t i;

	for (i = 0; i < NUMBER_CASES; i++) {
		if (!number_cases[i].is_int)
			continue;
		config_init_defaults(&cfg, HOME);
		err = load_key_bad(&cfg, number_cases[i].key, "2.5");
		assert_contains(err.msg, "is not a whole number");
	}
}

static void
test_seconds_keys_accept_fractions(void **state)
{
	struct tether_config cfg;

	config_init_defaults(&cfg, HOME);
	load_ok(&cfg, "[tunnel]\nbackoff_initial = 0.5\nbackoff_max = 90.25\n"
	    "backoff_factor = 1.5\n");
	assert_true(cfg.backoff_initial == 0.5);
	assert_true(cfg.backoff_max == 90.25);
	assert_true(cfg.backoff_factor == 1.5);
}

static void
test_number_error_names_the_range(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	err = load_key_bad(&cfg, "keepalive_count", "0");
	assert_string_equal(err.msg, ORIGIN ":2: key 'keepalive_count': '0' is "
	    "not a whole number from 1 to 100");
}

static void
test_exit_on_forward_failure_takes_yes_and_no_words(void **state)
{
	static const char *yes[] = { "yes", "true", "on", "1", "YES", "True" };
	static const char *no[] = { "no", "false", "off", "0", "No", "OFF" };
	struct tether_config cfg;
	size_t i;

	config_init_defaults(&cfg, HOME);
	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		cfg.exit_on_forward_failure = 0;
		load_key_ok(&cfg, "exit_on_forward_failure", yes[i]);
		assert_int_equal(cfg.exit_on_forward_failure, 1);
		load_key_ok(&cfg, "exit_on_forward_failure", no[i]);
		assert_int_equal(cfg.exit_on_forward_failure, 0);
	}
}

static void
test_exit_on_forward_failure_refuses_other_words(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	err = load_key_bad(&cfg, "exit_on_forward_failure", "maybe");
	assert_contains(err.msg, "'maybe' is not yes or no");
	load_key_bad(&cfg, "exit_on_forward_failure", "2");
	load_key_bad(&cfg, "exit_on_forward_failure", "");
}

/* ---- config_load_string: the file's shape ------------------------------ */

static void
test_full_file_sets_every_key(void **state)
{
	struct tether_config cfg;

	config_init_defaults(&cfg, HOME);
	load_ok(&cfg,
	    "; a tether config\n"
	    "# with both comment styles\n"
	    "\n"
	    "[tunnel]\n"
	    "name = lab\n"
	    "bastion = ops@bastion:2022\n"
	    "key = ~/.ssh/lab\n"
	    "known_hosts = /etc/tether/known_hosts\n"
	    "host_key_policy = accept-new\n"
	    "forward = 9000:localhost:9001 ; inline comment\n"
	    "port = 2222\n"
	    "target = 127.0.0.1:2022\n"
	    "keepalive_interval = 10\n"
	    "keepalive_count = 5\n"
	    "backoff_initial = 2\n"
	    "backoff_max = 120\n"
	    "backoff_factor = 3\n"
	    "stable_after = 45\n"
	    "connect_timeout = 20\n"
	    "max_channels = 64\n"
	    "exit_on_forward_failure = yes\n");
	assert_string_equal(cfg.name, "lab");
	assert_string_equal(cfg.bastion.user, "ops");
	assert_int_equal(cfg.bastion.port, 2022);
	assert_string_equal(cfg.key_path, HOME "/.ssh/lab");
	assert_string_equal(cfg.known_hosts, "/etc/tether/known_hosts");
	assert_int_equal(cfg.host_key_policy, HOST_KEY_ACCEPT_NEW);
	assert_int_equal(cfg.nforwards, 1);
	assert_int_equal(cfg.forwards[0].host_port, 9001);
	assert_int_equal(cfg.port, 2222);
	assert_string_equal(cfg.target_host, "127.0.0.1");
	assert_int_equal(cfg.target_port, 2022);
	assert_int_equal(cfg.keepalive_interval, 10);
	assert_int_equal(cfg.keepalive_count, 5);
	assert_true(cfg.backoff_initial == 2);
	assert_true(cfg.backoff_max == 120);
	assert_true(cfg.backoff_factor == 3);
	assert_int_equal(cfg.stable_after, 45);
	assert_int_equal(cfg.connect_timeout, 20);
	assert_int_equal(cfg.max_channels, 64);
	assert_int_equal(cfg.exit_on_forward_failure, 1);
}

static void
test_empty_file_changes_nothing(void **state)
{
	struct tether_config cfg, before;

	config_init_defaults(&cfg, HOME);
	before = cfg;
	load_ok(&cfg, "");
	load_ok(&cfg, "\n; only a comment\n[tunnel]\n");
	assert_memory_equal(&cfg, &before, sizeof cfg);
}

static void
test_crlf_line_ends_are_accepted(void **state)
{
	struct tether_config cfg;

	config_init_defaults(&cfg, HOME);
	load_ok(&cfg, "[tunnel]\r\nname = win\r\nkeepalive_count = 7\r\n");
	assert_string_equal(cfg.name, "win");
	assert_int_equal(cfg.keepalive_count, 7);
}

static void
test_unknown_key_is_refused_with_origin_and_line(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	err = load_bad(&cfg, "[tunnel]\nname = x\n\ncolour = blue\n");
	assert_starts_with(err.msg, ORIGIN ":4: unknown key 'colour'");
}

static void
test_key_outside_a_section_is_refused(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	err = load_bad(&cfg, "; header\nbastion = u@h\n[tunnel]\n");
	assert_starts_with(err.msg, ORIGIN ":2: key 'bastion' is outside any "
	    "section");
	assert_int_equal(cfg.has_bastion, 0);
}

static void
test_key_in_an_unknown_section_is_refused(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	err = load_bad(&cfg, "[tunnel]\nname = a\n[server]\nname = b\n");
	assert_starts_with(err.msg, ORIGIN ":4: unknown section [server]");
	assert_string_equal(cfg.name, "a");
}

static void
test_section_names_are_case_sensitive(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	err = load_bad(&cfg, "[Tunnel]\nname = a\n");
	assert_contains(err.msg, "unknown section [Tunnel]");
}

static void
test_line_without_equals_is_refused(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	err = load_bad(&cfg, "[tunnel]\nname = a\nbastion u@h\n");
	assert_string_equal(err.msg, ORIGIN ":3: expected 'key = value' or "
	    "[tunnel]");
}

static void
test_first_error_is_the_one_reported(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	err = load_bad(&cfg, "[tunnel]\ncolour = blue\nnot a pair\n"
	    "keepalive_count = 0\n");
	assert_starts_with(err.msg, ORIGIN ":2: unknown key 'colour'");
}

static void
test_syntax_error_before_a_bad_key_is_reported_on_its_own_line(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	err = load_bad(&cfg, "[tunnel]\nnot a pair\nname = x\ncolour = blue\n");
	/* Not line 2 with line 4's complaint. */
	assert_string_equal(err.msg, ORIGIN ":2: expected 'key = value' or "
	    "[tunnel]");
}

static void
test_bad_key_after_a_continuation_line_names_its_line(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	/* An indented line continues the value above (inih's multiline). */
	err = load_bad(&cfg, "[tunnel]\nname = a\n  b c\n");
	assert_starts_with(err.msg, ORIGIN ":3: key 'name': name 'b c'");
}

/* "[tunnel]\nname = x\n" + a line of n characters on line 3. */
static int
load_long_line(struct tether_config *cfg, size_t n, const char *end,
    struct error *err)
{
	char text[1024];
	size_t head;

	head = (size_t)snprintf(text, sizeof text, "[tunnel]\nname = x\n");
	memcpy(text + head, "target = ", 9);
	memset(text + head + 9, '1', n - 9);
	snprintf(text + head + n, sizeof text - head - n, "%s", end);
	error_clear(err);
	return config_load_string(cfg, text, ORIGIN, err);
}

static void
test_line_longer_than_inih_takes_is_refused_with_its_line(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	assert_int_equal(load_long_line(&cfg, INI_MAX_LINE - 2, "\nname = y\n",
	    &err), -1);
	assert_int_equal(err.code, TETHER_EXIT_CONFIG);
	assert_string_equal(err.msg, ORIGIN ":3: line is longer than 197 "
	    "characters; shorten the value");
	/* Refused before any key of the file is set. */
	assert_string_equal(cfg.name, "");
}

static void
test_long_last_line_without_newline_is_refused(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	assert_int_equal(load_long_line(&cfg, 500, "", &err), -1);
	assert_starts_with(err.msg, ORIGIN ":3: line is longer than");
}

static void
test_line_of_197_characters_reaches_the_parser_whole(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	/* "target = 111...1": whole, it is a bad port; split, it would pass. */
	assert_int_equal(load_long_line(&cfg, INI_MAX_LINE - 3, "\n", &err),
	    -1);
	assert_starts_with(err.msg, ORIGIN ":3: key 'target': target '1111");
}

static void
test_line_of_197_characters_ending_in_crlf_is_not_too_long(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	/* The '\r' is part of the line end, not of the line. */
	assert_int_equal(load_long_line(&cfg, INI_MAX_LINE - 3, "\r\n", &err),
	    -1);
	assert_starts_with(err.msg, ORIGIN ":3: key 'target': target '1111");
}

/* ---- config_load_file -------------------------------------------------- */

struct temp_file {
	char path[64];
};

static int
temp_setup(void **state)
{
	struct temp_file *t = calloc(1, sizeof *t);

	if (t == NULL)
		return -1;
	*state = t;
	return 0;
}

static int
temp_teardown(void **state)
{
	struct temp_file *t = *state;

	if (t->path[0] != '\0')
		unlink(t->path);
	free(t);
	return 0;
}

static const char *
temp_write(struct temp_file *t, const char *data, size_t len)
{
	int fd;

	snprintf(t->path, sizeof t->path, "/tmp/tether-test-XXXXXX");
	fd = mkstemp(t->path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return t->path;
}

static void
test_load_file_reads_the_tunnel_section(void **state)
{
	static const char text[] = "[tunnel]\nbastion = u@h\nname = f\n";
	struct tether_config cfg;
	struct error err;
	const char *path = temp_write(*state, text, sizeof text - 1);

	config_init_defaults(&cfg, HOME);
	error_clear(&err);
	assert_int_equal(config_load_file(&cfg, path, &err), 0);
	assert_string_equal(cfg.name, "f");
	assert_string_equal(cfg.bastion.host, "h");
}

static void
test_load_file_names_the_path_and_line_of_an_error(void **state)
{
	static const char text[] = "[tunnel]\nport = x\n";
	struct tether_config cfg;
	char prefix[96];
	struct error err;
	const char *path = temp_write(*state, text, sizeof text - 1);

	config_init_defaults(&cfg, HOME);
	error_clear(&err);
	assert_int_equal(config_load_file(&cfg, path, &err), -1);
	snprintf(prefix, sizeof prefix, "%s:2: key 'port'", path);
	assert_starts_with(err.msg, prefix);
}

static void
test_load_file_that_is_missing_is_refused(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	error_clear(&err);
	assert_int_equal(config_load_file(&cfg, "/nonexistent/tether.conf",
	    &err), -1);
	assert_int_equal(err.code, TETHER_EXIT_CONFIG);
	assert_string_equal(err.msg, "config /nonexistent/tether.conf: No such "
	    "file or directory");
}

static void
test_load_file_with_a_nul_byte_is_refused(void **state)
{
	static const char text[] = "[tunnel]\nname = a\0b\n";
	struct tether_config cfg;
	struct error err;
	const char *path = temp_write(*state, text, sizeof text - 1);

	config_init_defaults(&cfg, HOME);
	error_clear(&err);
	assert_int_equal(config_load_file(&cfg, path, &err), -1);
	assert_contains(err.msg, "holds a NUL byte");
	assert_string_equal(cfg.name, "");
}

static void
test_load_file_larger_than_64_kib_is_refused(void **state)
{
	struct tether_config cfg;
	struct error err;
	char *text = malloc(CONFIG_FILE_MAX + 1);
	const char *path;

	assert_non_null(text);
	memset(text, '\n', CONFIG_FILE_MAX + 1);
	path = temp_write(*state, text, CONFIG_FILE_MAX + 1);
	free(text);
	config_init_defaults(&cfg, HOME);
	error_clear(&err);
	assert_int_equal(config_load_file(&cfg, path, &err), -1);
	assert_contains(err.msg, "larger than 64 KiB");
}

static void
test_load_file_of_exactly_64_kib_is_read(void **state)
{
	struct tether_config cfg;
	struct error err;
	char *text = malloc(CONFIG_FILE_MAX);
	const char *path;

	assert_non_null(text);
	memset(text, '\n', CONFIG_FILE_MAX);
	memcpy(text + CONFIG_FILE_MAX - 18, "[tunnel]\nname = z\n", 18);
	path = temp_write(*state, text, CONFIG_FILE_MAX);
	free(text);
	config_init_defaults(&cfg, HOME);
	error_clear(&err);
	assert_int_equal(config_load_file(&cfg, path, &err), 0);
	assert_string_equal(cfg.name, "z");
}

/* ---- config_apply_env -------------------------------------------------- */

static void
test_env_tether_bastion_beats_scitex_bastion(void **state)
{
	const char *env[] = {
		"SCITEX_TUNNEL_BASTION_SERVER", "old@seed-host",
		"TETHER_BASTION", "new@tether-host:2200",
		NULL,
	};
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	assert_int_equal(apply_env(&cfg, env, &err), 0);
	assert_int_equal(cfg.has_bastion, 1);
	assert_string_equal(cfg.bastion.user, "new");
	assert_string_equal(cfg.bastion.host, "tether-host");
	assert_int_equal(cfg.bastion.port, 2200);
}

static void
test_env_scitex_bastion_is_used_without_tether_bastion(void **state)
{
	const char *env[] = {
		"SCITEX_TUNNEL_BASTION_SERVER", "old@seed-host", NULL,
	};
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	assert_int_equal(apply_env(&cfg, env, &err), 0);
	assert_string_equal(cfg.bastion.host, "seed-host");
}

static void
test_env_empty_tether_bastion_falls_back_to_scitex(void **state)
{
	const char *env[] = {
		"TETHER_BASTION", "",
		"SCITEX_TUNNEL_BASTION_SERVER", "old@seed-host",
		NULL,
	};
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	assert_int_equal(apply_env(&cfg, env, &err), 0);
	assert_string_equal(cfg.bastion.host, "seed-host");
}

static void
test_env_bastion_overrides_the_files(void **state)
{
	const char *env[] = { "TETHER_BASTION", "e@env-host", NULL };
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	load_key_ok(&cfg, "bastion", "f@file-host");
	assert_int_equal(apply_env(&cfg, env, &err), 0);
	assert_string_equal(cfg.bastion.host, "env-host");
}

static void
test_env_without_variables_changes_nothing(void **state)
{
	const char *env[] = { NULL };
	struct tether_config cfg, before;
	struct error err;

	config_init_defaults(&cfg, HOME);
	load_ok(&cfg, "[tunnel]\nbastion = f@file-host\nkey = /k\n");
	before = cfg;
	assert_int_equal(apply_env(&cfg, env, &err), 0);
	assert_memory_equal(&cfg, &before, sizeof cfg);
}

static void
test_env_bad_bastion_is_refused_naming_the_variable(void **state)
{
	const char *env[] = { "TETHER_BASTION", "bad host", NULL };
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	assert_int_equal(apply_env(&cfg, env, &err), -1);
	assert_int_equal(err.code, TETHER_EXIT_CONFIG);
	assert_starts_with(err.msg, "$TETHER_BASTION: bastion 'bad host'");
}

static void
test_env_bad_tether_bastion_is_not_excused_by_a_good_scitex_one(void **state)
{
	const char *env[] = {
		"TETHER_BASTION", "-oProxyCommand@h",
		"SCITEX_TUNNEL_BASTION_SERVER", "u@good",
		NULL,
	};
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	assert_int_equal(apply_env(&cfg, env, &err), -1);
	assert_starts_with(err.msg, "$TETHER_BASTION: ");
}

static void
test_env_tether_key_beats_scitex_key_and_expands_tilde(void **state)
{
	const char *env[] = {
		"SCITEX_TUNNEL_SECRET_KEY_PATH", "/old/key",
		"TETHER_KEY", "~/.ssh/tether",
		NULL,
	};
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	assert_int_equal(apply_env(&cfg, env, &err), 0);
	assert_string_equal(cfg.key_path, HOME "/.ssh/tether");
}

static void
test_env_scitex_key_is_used_without_tether_key(void **state)
{
	const char *env[] = { "SCITEX_TUNNEL_SECRET_KEY_PATH", "/old/key", NULL };
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	assert_int_equal(apply_env(&cfg, env, &err), 0);
	assert_string_equal(cfg.key_path, "/old/key");
}

static void
test_env_key_with_tilde_and_no_home_is_refused(void **state)
{
	const char *env[] = { "TETHER_KEY", "~/.ssh/id", NULL };
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, NULL);
	assert_int_equal(apply_env(&cfg, env, &err), -1);
	assert_int_equal(err.code, TETHER_EXIT_CONFIG);
	assert_starts_with(err.msg, "$TETHER_KEY: ");
	assert_contains(err.msg, "HOME is unset");
}

static void
test_env_debug_true_words_turn_verbose_on(void **state)
{
	static const char *words[] = { "1", "yes", "true", "on", "YES", "True" };
	struct tether_config cfg;
	struct error err;
	size_t i;

	for (i = 0; i < sizeof words / sizeof words[0]; i++) {
		const char *env[] = { "TETHER_DEBUG", words[i], NULL };

		config_init_defaults(&cfg, HOME);
		assert_int_equal(apply_env(&cfg, env, &err), 0);
		if (cfg.verbose != 1)
			fail_msg("TETHER_DEBUG=%s left verbose off", words[i]);
	}
}

static void
test_env_debug_false_words_turn_verbose_off(void **state)
{
	static const char *words[] = { "0", "no", "false", "off", "NO" };
	struct tether_config cfg;
	struct error err;
	size_t i;

	for (i = 0; i < sizeof words / sizeof words[0]; i++) {
		const char *env[] = { "TETHER_DEBUG", words[i], NULL };

		config_init_defaults(&cfg, HOME);
		cfg.verbose = 1;
		assert_int_equal(apply_env(&cfg, env, &err), 0);
		if (cfg.verbose != 0)
			fail_msg("TETHER_DEBUG=%s left verbose on", words[i]);
	}
}

static void
test_env_tether_debug_beats_scitex_debug(void **state)
{
	const char *env[] = {
		"SCITEX_TUNNEL_DEBUG_MODE", "true",
		"TETHER_DEBUG", "0",
		NULL,
	};
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	assert_int_equal(apply_env(&cfg, env, &err), 0);
	assert_int_equal(cfg.verbose, 0);
}

static void
test_env_scitex_debug_is_used_without_tether_debug(void **state)
{
	const char *env[] = { "SCITEX_TUNNEL_DEBUG_MODE", "true", NULL };
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	assert_int_equal(apply_env(&cfg, env, &err), 0);
	assert_int_equal(cfg.verbose, 1);
}

static void
test_env_bad_debug_is_refused(void **state)
{
	const char *env[] = { "TETHER_DEBUG", "verbose", NULL };
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	assert_int_equal(apply_env(&cfg, env, &err), -1);
	assert_int_equal(err.code, TETHER_EXIT_CONFIG);
	assert_string_equal(err.msg, "$TETHER_DEBUG: 'verbose' is not 1/0, "
	    "yes/no or true/false");
}

static void
test_env_bad_scitex_debug_is_refused_naming_it(void **state)
{
	const char *env[] = { "SCITEX_TUNNEL_DEBUG_MODE", "2", NULL };
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	assert_int_equal(apply_env(&cfg, env, &err), -1);
	assert_starts_with(err.msg, "$SCITEX_TUNNEL_DEBUG_MODE: '2'");
}

static void
test_env_ssh_auth_sock_makes_the_agent_available(void **state)
{
	const char *with[] = { "SSH_AUTH_SOCK", "/run/agent.sock", NULL };
	const char *empty[] = { "SSH_AUTH_SOCK", "", NULL };
	const char *none[] = { NULL };
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	assert_int_equal(apply_env(&cfg, with, &err), 0);
	assert_int_equal(cfg.agent_available, 1);
	assert_int_equal(apply_env(&cfg, empty, &err), 0);
	assert_int_equal(cfg.agent_available, 0);
	cfg.agent_available = 1;
	assert_int_equal(apply_env(&cfg, none, &err), 0);
	assert_int_equal(cfg.agent_available, 0);
}

static void
test_identity_agent_in_the_file_wins_over_ssh_auth_sock(void **state)
{
	const char *env[] = { "SSH_AUTH_SOCK", "/run/agent.sock", NULL };
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	load_ok(&cfg, "[tunnel]\nidentity_agent = ~/a.sock\n");
	assert_int_equal(apply_env(&cfg, env, &err), 0);
	assert_string_equal(cfg.agent_socket, HOME "/a.sock");
	assert_int_equal(cfg.agent_available, 1);
}

static void
test_identity_agent_none_means_no_agent_at_all(void **state)
{
	const char *env[] = { "SSH_AUTH_SOCK", "/run/agent.sock", NULL };
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	load_ok(&cfg, "[tunnel]\nidentity_agent = none\n");
	assert_int_equal(apply_env(&cfg, env, &err), 0);
	assert_string_equal(cfg.agent_socket, "");
	assert_int_equal(cfg.agent_available, 0);
}

static void
test_address_family_takes_ssh_words_only(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	load_ok(&cfg, "[tunnel]\naddress_family = inet6\n");
	assert_int_equal(cfg.address_family, AF_INET6);
	err = load_bad(&cfg, "[tunnel]\naddress_family = ipv4\n");
	assert_non_null(strstr(err.msg, "not any, inet (IPv4 only) or inet6"));
}

/* ---- config_expand_path ------------------------------------------------ */

static void
test_expand_tilde_slash_prefixes_home(void **state)
{
	char out[CONFIG_PATH_MAX];

	assert_int_equal(config_expand_path("~/x", HOME, out, sizeof out), 0);
	assert_string_equal(out, HOME "/x");
}

static void
test_expand_lone_tilde_is_home(void **state)
{
	char out[CONFIG_PATH_MAX];

	assert_int_equal(config_expand_path("~", HOME, out, sizeof out), 0);
	assert_string_equal(out, HOME);
}

static void
test_expand_leaves_tilde_user_untouched(void **state)
{
	char out[CONFIG_PATH_MAX];

	assert_int_equal(config_expand_path("~alice/.ssh/id", HOME, out,
	    sizeof out), 0);
	assert_string_equal(out, "~alice/.ssh/id");
}

static void
test_expand_leaves_other_paths_untouched(void **state)
{
	char out[CONFIG_PATH_MAX];

	assert_int_equal(config_expand_path("/etc/k", HOME, out, sizeof out), 0);
	assert_string_equal(out, "/etc/k");
	assert_int_equal(config_expand_path("rel/~/k", HOME, out, sizeof out),
	    0);
	assert_string_equal(out, "rel/~/k");
}

static void
test_expand_tilde_without_home_fails(void **state)
{
	char out[CONFIG_PATH_MAX];

	assert_int_equal(config_expand_path("~/x", NULL, out, sizeof out), -1);
	assert_int_equal(config_expand_path("~", "", out, sizeof out), -1);
}

static void
test_expand_without_home_keeps_paths_without_tilde(void **state)
{
	char out[CONFIG_PATH_MAX];

	assert_int_equal(config_expand_path("/k", NULL, out, sizeof out), 0);
	assert_string_equal(out, "/k");
	assert_int_equal(config_expand_path("~bob", NULL, out, sizeof out), 0);
	assert_string_equal(out, "~bob");
}

static void
test_expand_fails_rather_than_truncate(void **state)
{
	char out[8];

	assert_int_equal(config_expand_path("~/abc", "/home", out, sizeof out),
	    -1);
	assert_int_equal(config_expand_path("/1234567", NULL, out, sizeof out),
	    -1);
	assert_int_equal(config_expand_path("/123456", NULL, out, sizeof out),
	    0);
	assert_string_equal(out, "/123456");
}

/* ---- config_finish ----------------------------------------------------- */

static void
test_finish_accepts_a_complete_config(void **state)
{
	struct tether_config cfg;

	runnable(&cfg);
	finish_ok(&cfg);
	assert_int_equal(cfg.nforwards, 1);
}

static void
test_finish_without_bastion_says_it_is_required(void **state)
{
	struct tether_config cfg;
	struct error err;

	runnable(&cfg);
	cfg.has_bastion = 0;
	err = finish_bad(&cfg, TETHER_EXIT_CONFIG);
	assert_starts_with(err.msg, "bastion_server is required");
	assert_contains(err.msg, "TETHER_BASTION");
	assert_contains(err.msg, "SCITEX_TUNNEL_BASTION_SERVER");
}

static void
test_finish_without_forward_is_refused(void **state)
{
	struct tether_config cfg;
	struct error err;

	runnable(&cfg);
	cfg.port = -1;
	snprintf(cfg.ssh_config, sizeof cfg.ssh_config, "none");
	err = finish_bad(&cfg, TETHER_EXIT_CONFIG);
	assert_starts_with(err.msg, "no forward: give -p PORT");
}

static void
test_keys_set_by_the_file_are_marked_given_defaults_are_not(void **state)
{
	struct tether_config cfg;

	config_init_defaults(&cfg, HOME);
	assert_int_equal(cfg.given, 0);
	load_ok(&cfg, "[tunnel]\nknown_hosts = /kh\nkeepalive_count = 4\n"
	              "host_key_policy = strict\n");
	assert_int_equal(cfg.given,
	    CONFIG_GIVEN_KNOWN_HOSTS | CONFIG_GIVEN_KEEPALIVE_COUNT |
	        CONFIG_GIVEN_POLICY);
}

static void
test_finish_without_forward_leaves_it_to_ssh_config(void **state)
{
	struct tether_config cfg;
	struct error err;

	runnable(&cfg);
	cfg.port = -1;
	error_clear(&err);
	assert_int_equal(config_finish(&cfg, &err), 0);
	assert_string_equal(cfg.name, "");
	assert_int_equal(config_check_some_forward(&cfg, &err), -1);
	assert_starts_with(err.msg, "no forward: give -p PORT");
}

static void
test_finish_refuses_a_remote_port_forwarded_twice(void **state)
{
	struct tether_config cfg;
	struct error err;

	runnable(&cfg);
	cfg.port = -1;
	load_ok(&cfg, "[tunnel]\nforward = 7000:a:1\nforward = 7001:b:2\n"
	    "forward = 127.0.0.1:7000:c:3\n");
	err = finish_bad(&cfg, TETHER_EXIT_CONFIG);
	assert_string_equal(err.msg, "remote port 7000 is forwarded twice; "
	    "each forward needs its own remote port");
}

static void
test_finish_allows_several_forwards_on_port_0(void **state)
{
	struct tether_config cfg;

	runnable(&cfg);
	cfg.port = -1;
	load_ok(&cfg, "[tunnel]\nforward = 0:a:1\nforward = 0:b:2\n");
	finish_ok(&cfg);
	assert_int_equal(cfg.nforwards, 2);
}

static void
test_finish_refuses_shorthand_port_that_repeats_a_forward(void **state)
{
	struct tether_config cfg;
	struct error err;

	runnable(&cfg);
	load_ok(&cfg, "[tunnel]\nforward = 2222:a:1\n");
	err = finish_bad(&cfg, TETHER_EXIT_CONFIG);
	assert_contains(err.msg, "remote port 2222 is forwarded twice");
}

static void
test_finish_without_key_or_agent_is_a_key_error(void **state)
{
	struct tether_config cfg;
	struct error err;

	runnable(&cfg);
	cfg.key_path[0] = '\0';
	cfg.agent_available = 0;
	snprintf(cfg.ssh_config, sizeof cfg.ssh_config, "none");
	err = finish_bad(&cfg, TETHER_EXIT_KEY);
	assert_starts_with(err.msg, "no key: give -s PATH");
	assert_contains(err.msg, "SSH_AUTH_SOCK");
}

/* With ssh_config in use, an IdentityFile there may still be the key. */
static void
test_finish_leaves_a_missing_key_to_ssh_config(void **state)
{
	struct tether_config cfg;
	struct error err;

	(void)state;
	runnable(&cfg);
	cfg.key_path[0] = '\0';
	cfg.agent_available = 0;
	error_clear(&err);
	assert_int_equal(config_finish(&cfg, &err), 0);
	assert_int_equal(config_check_key_source(&cfg, &err), -1);
	assert_int_equal(err.code, TETHER_EXIT_KEY);
}

static void
test_finish_with_agent_needs_no_key(void **state)
{
	struct tether_config cfg;

	runnable(&cfg);
	cfg.key_path[0] = '\0';
	cfg.agent_available = 1;
	finish_ok(&cfg);
	assert_string_equal(cfg.key_path, "");
}

static void
test_finish_without_known_hosts_is_refused(void **state)
{
	struct tether_config cfg;
	struct error err;

	runnable(&cfg);
	cfg.known_hosts[0] = '\0';
	err = finish_bad(&cfg, TETHER_EXIT_CONFIG);
	assert_starts_with(err.msg, "no known_hosts file");
}

static void
test_finish_refuses_backoff_max_below_backoff_initial(void **state)
{
	struct tether_config cfg;
	struct error err;

	runnable(&cfg);
	load_ok(&cfg, "[tunnel]\nbackoff_initial = 2\nbackoff_max = 0.5\n");
	err = finish_bad(&cfg, TETHER_EXIT_CONFIG);
	assert_string_equal(err.msg, "backoff_max (0.5 s) is below "
	    "backoff_initial (2 s); raise backoff_max");
}

static void
test_finish_names_the_tunnel_after_the_first_remote_port(void **state)
{
	struct tether_config cfg;

	runnable(&cfg);
	cfg.port = -1;
	load_ok(&cfg, "[tunnel]\nforward = 7005:a:1\nforward = 7001:b:2\n");
	finish_ok(&cfg);
	assert_string_equal(cfg.name, "7005");
}

static void
test_finish_keeps_a_given_name(void **state)
{
	struct tether_config cfg;

	runnable(&cfg);
	load_key_ok(&cfg, "name", "lab");
	finish_ok(&cfg);
	assert_string_equal(cfg.name, "lab");
}

static void
test_finish_folds_port_and_target_into_a_forward(void **state)
{
	struct tether_config cfg;

	runnable(&cfg);
	load_key_ok(&cfg, "target", "db.internal:5432");
	finish_ok(&cfg);
	assert_int_equal(cfg.nforwards, 1);
	assert_string_equal(cfg.forwards[0].bind, "");
	assert_int_equal(cfg.forwards[0].port, 2222);
	assert_string_equal(cfg.forwards[0].host, "db.internal");
	assert_int_equal(cfg.forwards[0].host_port, 5432);
	assert_int_equal(cfg.port, -1);
	assert_string_equal(cfg.name, "2222");
}

static void
test_finish_shorthand_targets_localhost_22_by_default(void **state)
{
	struct tether_config cfg;

	runnable(&cfg);
	finish_ok(&cfg);
	assert_string_equal(cfg.forwards[0].host, "localhost");
	assert_int_equal(cfg.forwards[0].host_port, 22);
}

static void
test_finish_appends_the_shorthand_after_the_forwards(void **state)
{
	struct tether_config cfg;

	runnable(&cfg);
	load_key_ok(&cfg, "forward", "7000:web:80");
	finish_ok(&cfg);
	assert_int_equal(cfg.nforwards, 2);
	assert_int_equal(cfg.forwards[0].port, 7000);
	assert_int_equal(cfg.forwards[1].port, 2222);
	assert_string_equal(cfg.name, "7000");
}

static void
test_finish_refuses_shorthand_beyond_16_forwards(void **state)
{
	struct tether_config cfg;
	char spec[32];
	struct error err;
	int i;

	runnable(&cfg);
	for (i = 0; i < CONFIG_FORWARDS_MAX; i++) {
		snprintf(spec, sizeof spec, "%d:localhost:22", 7000 + i);
		error_clear(&err);
		assert_int_equal(config_add_forward(&cfg, spec, "t", &err), 0);
	}
	err = finish_bad(&cfg, TETHER_EXIT_CONFIG);
	assert_string_equal(err.msg, "more than 16 forwards");
}

static void
test_finish_shorthand_port_0_is_a_forward_the_bastion_places(void **state)
{
	struct tether_config cfg;

	runnable(&cfg);
	cfg.port = 0;
	finish_ok(&cfg);
	assert_int_equal(cfg.nforwards, 1);
	assert_int_equal(cfg.forwards[0].port, 0);
	assert_string_equal(cfg.name, "0");
}

/* ---- config_set_option ------------------------------------------------- */

static int
set_option(struct tether_config *cfg, const char *assignment,
    struct error *err)
{
	error_clear(err);
	return config_set_option(cfg, assignment, err);
}

static void
test_option_sets_a_key(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	assert_int_equal(set_option(&cfg, "keepalive_interval=10", &err), 0);
	assert_int_equal(cfg.keepalive_interval, 10);
}

static void
test_option_allows_spaces_around_the_equals_sign(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	assert_int_equal(set_option(&cfg, "max_channels = 12", &err), 0);
	assert_int_equal(cfg.max_channels, 12);
}

static void
test_option_value_may_hold_an_equals_sign(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	assert_int_equal(set_option(&cfg, "key=/keys/a=b", &err), 0);
	assert_string_equal(cfg.key_path, "/keys/a=b");
}

static void
test_option_reaches_every_kind_of_key(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	assert_int_equal(set_option(&cfg, "bastion=u@b:2200", &err), 0);
	assert_int_equal(set_option(&cfg, "forward=7000:web:80", &err), 0);
	assert_int_equal(set_option(&cfg, "host_key_policy=accept-new", &err),
	    0);
	assert_int_equal(set_option(&cfg, "exit_on_forward_failure=on", &err),
	    0);
	assert_int_equal(set_option(&cfg, "backoff_factor=1.5", &err), 0);
	assert_int_equal(cfg.bastion.port, 2200);
	assert_int_equal(cfg.nforwards, 1);
	assert_int_equal(cfg.forwards[0].port, 7000);
	assert_int_equal(cfg.host_key_policy, HOST_KEY_ACCEPT_NEW);
	assert_int_equal(cfg.exit_on_forward_failure, 1);
	assert_true(cfg.backoff_factor == 1.5);
}

static void
test_option_without_equals_sign_is_refused(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	assert_int_equal(set_option(&cfg, "keepalive_interval", &err), -1);
	assert_int_equal(err.code, TETHER_EXIT_CONFIG);
	assert_starts_with(err.msg, "-o 'keepalive_interval': expected "
	    "KEY=VALUE");
}

static void
test_option_without_key_is_refused(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	assert_int_equal(set_option(&cfg, "=10", &err), -1);
	assert_starts_with(err.msg, "-o '=10': expected KEY=VALUE");
	assert_int_equal(set_option(&cfg, "  =10", &err), -1);
}

static void
test_option_with_unknown_key_is_refused(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	assert_int_equal(set_option(&cfg, "colour=blue", &err), -1);
	assert_int_equal(err.code, TETHER_EXIT_CONFIG);
	assert_starts_with(err.msg, "-o unknown key 'colour'");
}

static void
test_option_with_overlong_key_is_refused(void **state)
{
	struct tether_config cfg;
	char assignment[128];
	struct error err;

	config_init_defaults(&cfg, HOME);
	memset(assignment, 'k', 64);
	snprintf(assignment + 64, sizeof assignment - 64, "=1");
	assert_int_equal(set_option(&cfg, assignment, &err), -1);
	assert_contains(err.msg, "expected KEY=VALUE");
}

static void
test_option_with_bad_value_is_refused_naming_the_key(void **state)
{
	struct tether_config cfg;
	struct error err;

	config_init_defaults(&cfg, HOME);
	assert_int_equal(set_option(&cfg, "keepalive_count=0", &err), -1);
	assert_int_equal(err.code, TETHER_EXIT_CONFIG);
	assert_string_equal(err.msg, "-o key 'keepalive_count': '0' is not a "
	    "whole number from 1 to 100");
	assert_int_equal(cfg.keepalive_count, 3);
}

/* ---- config_forward_bind_address --------------------------------------- */

static void
test_bind_address_sent_is_localhost_without_bind(void **state)
{
	struct forward_spec f = { .bind = "" };

	assert_string_equal(config_forward_bind_address(&f), "localhost");
}

static void
test_bind_address_sent_is_empty_for_star(void **state)
{
	struct forward_spec f = { .bind = "*" };

	assert_string_equal(config_forward_bind_address(&f), "");
}

static void
test_bind_address_sent_is_the_given_address(void **state)
{
	struct forward_spec f = { .bind = "::1" };

	assert_string_equal(config_forward_bind_address(&f), "::1");
}

#define TEMP_TEST(f) cmocka_unit_test_setup_teardown(f, temp_setup, \
	temp_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_are_the_documented_values),
		cmocka_unit_test(test_defaults_without_home_leave_known_hosts_unset),
		cmocka_unit_test(test_defaults_with_overlong_home_leave_known_hosts_unset),

		cmocka_unit_test(test_name_key_sets_the_name),
		cmocka_unit_test(test_name_with_odd_bytes_is_refused),
		cmocka_unit_test(test_name_of_64_characters_is_refused),
		cmocka_unit_test(test_bastion_key_sets_the_bastion),
		cmocka_unit_test(test_bad_bastion_key_is_refused),
#ifdef TETHER_LIBSSH_CHANNEL_WINDOW
		cmocka_unit_test(test_channel_window_is_bounded),
#else
		cmocka_unit_test(test_channel_window_needs_the_bundled_libssh),
#endif
		cmocka_unit_test(test_key_key_expands_tilde_to_home),
		cmocka_unit_test(test_key_key_keeps_an_absolute_path),
		cmocka_unit_test(test_empty_key_is_refused),
		cmocka_unit_test(test_key_with_tilde_and_no_home_is_refused),
		cmocka_unit_test(test_path_expanding_past_1023_bytes_is_refused),
		cmocka_unit_test(test_known_hosts_key_sets_the_file),
		cmocka_unit_test(test_host_key_policy_accepts_strict_and_accept_new),
		cmocka_unit_test(test_other_host_key_policy_is_refused),
		cmocka_unit_test(test_forward_key_adds_a_forward),
		cmocka_unit_test(test_bad_forward_key_is_refused),
		cmocka_unit_test(test_repeated_forward_lines_accumulate),
		cmocka_unit_test(test_forward_lines_of_a_second_file_replace_the_first_files),
		cmocka_unit_test(test_file_without_forward_keeps_earlier_forwards),
		cmocka_unit_test(test_seventeenth_forward_is_refused),
		cmocka_unit_test(test_port_key_sets_the_shorthand_port),
		cmocka_unit_test(test_bad_port_key_is_refused),
		cmocka_unit_test(test_target_key_sets_host_and_port),
		cmocka_unit_test(test_target_key_of_a_bare_port_means_localhost),
		cmocka_unit_test(test_bad_target_key_is_refused),
		cmocka_unit_test(test_each_number_key_accepts_its_lowest_and_highest_value),
		cmocka_unit_test(test_each_number_key_refuses_values_out_of_range),
		cmocka_unit_test(test_each_number_key_refuses_text_and_empty_values),
		cmocka_unit_test(test_whole_number_keys_refuse_fractions),
		cmocka_unit_test(test_seconds_keys_accept_fractions),
		cmocka_unit_test(test_number_error_names_the_range),
		cmocka_unit_test(test_exit_on_forward_failure_takes_yes_and_no_words),
		cmocka_unit_test(test_exit_on_forward_failure_refuses_other_words),

		cmocka_unit_test(test_full_file_sets_every_key),
		cmocka_unit_test(test_empty_file_changes_nothing),
		cmocka_unit_test(test_crlf_line_ends_are_accepted),
		cmocka_unit_test(test_unknown_key_is_refused_with_origin_and_line),
		cmocka_unit_test(test_key_outside_a_section_is_refused),
		cmocka_unit_test(test_key_in_an_unknown_section_is_refused),
		cmocka_unit_test(test_section_names_are_case_sensitive),
		cmocka_unit_test(test_line_without_equals_is_refused),
		cmocka_unit_test(test_first_error_is_the_one_reported),
		cmocka_unit_test(test_syntax_error_before_a_bad_key_is_reported_on_its_own_line),
		cmocka_unit_test(test_bad_key_after_a_continuation_line_names_its_line),
		cmocka_unit_test(test_line_longer_than_inih_takes_is_refused_with_its_line),
		cmocka_unit_test(test_long_last_line_without_newline_is_refused),
		cmocka_unit_test(test_line_of_197_characters_reaches_the_parser_whole),
		cmocka_unit_test(test_line_of_197_characters_ending_in_crlf_is_not_too_long),

		TEMP_TEST(test_load_file_reads_the_tunnel_section),
		TEMP_TEST(test_load_file_names_the_path_and_line_of_an_error),
		cmocka_unit_test(test_load_file_that_is_missing_is_refused),
		TEMP_TEST(test_load_file_with_a_nul_byte_is_refused),
		TEMP_TEST(test_load_file_larger_than_64_kib_is_refused),
		TEMP_TEST(test_load_file_of_exactly_64_kib_is_read),

		cmocka_unit_test(test_env_tether_bastion_beats_scitex_bastion),
		cmocka_unit_test(test_env_scitex_bastion_is_used_without_tether_bastion),
		cmocka_unit_test(test_env_empty_tether_bastion_falls_back_to_scitex),
		cmocka_unit_test(test_env_bastion_overrides_the_files),
		cmocka_unit_test(test_env_without_variables_changes_nothing),
		cmocka_unit_test(test_env_bad_bastion_is_refused_naming_the_variable),
		cmocka_unit_test(test_env_bad_tether_bastion_is_not_excused_by_a_good_scitex_one),
		cmocka_unit_test(test_env_tether_key_beats_scitex_key_and_expands_tilde),
		cmocka_unit_test(test_env_scitex_key_is_used_without_tether_key),
		cmocka_unit_test(test_env_key_with_tilde_and_no_home_is_refused),
		cmocka_unit_test(test_env_debug_true_words_turn_verbose_on),
		cmocka_unit_test(test_env_debug_false_words_turn_verbose_off),
		cmocka_unit_test(test_env_tether_debug_beats_scitex_debug),
		cmocka_unit_test(test_env_scitex_debug_is_used_without_tether_debug),
		cmocka_unit_test(test_env_bad_debug_is_refused),
		cmocka_unit_test(test_env_bad_scitex_debug_is_refused_naming_it),
		cmocka_unit_test(test_env_ssh_auth_sock_makes_the_agent_available),
		cmocka_unit_test(
		    test_identity_agent_in_the_file_wins_over_ssh_auth_sock),
		cmocka_unit_test(test_identity_agent_none_means_no_agent_at_all),
		cmocka_unit_test(test_address_family_takes_ssh_words_only),

		cmocka_unit_test(test_expand_tilde_slash_prefixes_home),
		cmocka_unit_test(test_expand_lone_tilde_is_home),
		cmocka_unit_test(test_expand_leaves_tilde_user_untouched),
		cmocka_unit_test(test_expand_leaves_other_paths_untouched),
		cmocka_unit_test(test_expand_tilde_without_home_fails),
		cmocka_unit_test(test_expand_without_home_keeps_paths_without_tilde),
		cmocka_unit_test(test_expand_fails_rather_than_truncate),

		cmocka_unit_test(test_finish_accepts_a_complete_config),
		cmocka_unit_test(test_finish_without_bastion_says_it_is_required),
		cmocka_unit_test(test_finish_without_forward_is_refused),
		cmocka_unit_test(
		    test_finish_without_forward_leaves_it_to_ssh_config),
		cmocka_unit_test(
		    test_keys_set_by_the_file_are_marked_given_defaults_are_not),
		cmocka_unit_test(test_finish_refuses_a_remote_port_forwarded_twice),
		cmocka_unit_test(test_finish_allows_several_forwards_on_port_0),
		cmocka_unit_test(test_finish_refuses_shorthand_port_that_repeats_a_forward),
		cmocka_unit_test(test_finish_without_key_or_agent_is_a_key_error),
		cmocka_unit_test(test_finish_leaves_a_missing_key_to_ssh_config),
		cmocka_unit_test(test_finish_with_agent_needs_no_key),
		cmocka_unit_test(test_finish_without_known_hosts_is_refused),
		cmocka_unit_test(test_finish_refuses_backoff_max_below_backoff_initial),
		cmocka_unit_test(test_finish_names_the_tunnel_after_the_first_remote_port),
		cmocka_unit_test(test_finish_keeps_a_given_name),
		cmocka_unit_test(test_finish_folds_port_and_target_into_a_forward),
		cmocka_unit_test(test_finish_shorthand_targets_localhost_22_by_default),
		cmocka_unit_test(test_finish_appends_the_shorthand_after_the_forwards),
		cmocka_unit_test(test_finish_refuses_shorthand_beyond_16_forwards),
		cmocka_unit_test(test_finish_shorthand_port_0_is_a_forward_the_bastion_places),

		cmocka_unit_test(test_option_sets_a_key),
		cmocka_unit_test(test_option_allows_spaces_around_the_equals_sign),
		cmocka_unit_test(test_option_value_may_hold_an_equals_sign),
		cmocka_unit_test(test_option_reaches_every_kind_of_key),
		cmocka_unit_test(test_option_without_equals_sign_is_refused),
		cmocka_unit_test(test_option_without_key_is_refused),
		cmocka_unit_test(test_option_with_unknown_key_is_refused),
		cmocka_unit_test(test_option_with_overlong_key_is_refused),
		cmocka_unit_test(test_option_with_bad_value_is_refused_naming_the_key),

		cmocka_unit_test(test_bind_address_sent_is_localhost_without_bind),
		cmocka_unit_test(test_bind_address_sent_is_empty_for_star),
		cmocka_unit_test(test_bind_address_sent_is_the_given_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
