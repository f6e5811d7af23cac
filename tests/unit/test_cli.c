/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The command line: cli_next's option grammar, then `tether run`'s layers
 * (flags > environment > config file > defaults).
 */
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
#include "cli.h"

#define HOME "/home/tester"

#define assert_contains(haystack, needle) do { \
	if (strstr((haystack), (needle)) == NULL) \
		fail_msg("\"%s\" does not contain \"%s\"", (haystack), \
		    (needle)); \
} while (0)

#define assert_starts_with(s, prefix) do { \
	if (strncmp((s), (prefix), strlen(prefix)) != 0) \
		fail_msg("\"%s\" does not start with \"%s\"", (s), (prefix)); \
} while (0)

#define ARGC(argv) ((int)(sizeof (argv) / sizeof (argv)[0]))

/* ---- cli_next ---------------------------------------------------------- */

enum { OPT_VERBOSE = 1, OPT_PORT, OPT_LONG_ONLY, OPT_QUIET };

static const struct cli_option opts[] = {
	{ OPT_VERBOSE, 'v', "verbose", NULL, "more" },
	{ OPT_PORT, 'p', "port", "PORT", "a port" },
	{ OPT_LONG_ONLY, 0, "long-only", "X", "no short name" },
	{ OPT_QUIET, 'q', "quiet", NULL, "less" },
	{ 0, 0, NULL, NULL, NULL },
};

struct step {
	int id;
	const char *arg;
};

/* Runs cli_next to CLI_END or CLI_ERROR; returns the number of steps. */
static size_t
parse_all(int argc, char **argv, struct step *steps, size_t max,
    struct error *err)
{
	struct cli_parser p;
	size_t n = 0;
	int id;

	cli_parser_init(&p, argc, argv);
	error_clear(err);
	do {
		const char *arg = "(unset)";

		if (n == max)
			fail_msg("more than %zu steps", max);
		id = cli_next(&p, opts, &arg, err);
		steps[n].id = id;
		steps[n].arg = arg;
		n++;
	} while (id != CLI_END && id != CLI_ERROR);
	return n;
}

static void
assert_step(const struct step *s, int id, const char *arg)
{
	assert_int_equal(s->id, id);
	if (arg == NULL)
		assert_null(s->arg);
	else
		assert_string_equal(s->arg, arg);
}

static void
test_empty_command_line_ends_at_once(void **state)
{
	struct step s[4];
	struct error err;

	assert_int_equal(parse_all(0, NULL, s, 4, &err), 1);
	assert_int_equal(s[0].id, CLI_END);
}

static void
test_short_flags_cluster(void **state)
{
	char *argv[] = { "-vv" };
	struct step s[4];
	struct error err;

	assert_int_equal(parse_all(ARGC(argv), argv, s, 4, &err), 3);
	assert_step(&s[0], OPT_VERBOSE, NULL);
	assert_step(&s[1], OPT_VERBOSE, NULL);
	assert_int_equal(s[2].id, CLI_END);
}

static void
test_short_flags_cluster_in_any_order(void **state)
{
	char *argv[] = { "-vqv" };
	struct step s[5];
	struct error err;

	assert_int_equal(parse_all(ARGC(argv), argv, s, 5, &err), 4);
	assert_step(&s[0], OPT_VERBOSE, NULL);
	assert_step(&s[1], OPT_QUIET, NULL);
	assert_step(&s[2], OPT_VERBOSE, NULL);
}

static void
test_short_option_takes_an_attached_argument(void **state)
{
	char *argv[] = { "-p22" };
	struct step s[3];
	struct error err;

	assert_int_equal(parse_all(ARGC(argv), argv, s, 3, &err), 2);
	assert_step(&s[0], OPT_PORT, "22");
	assert_int_equal(s[1].id, CLI_END);
}

static void
test_short_option_takes_the_next_word_as_argument(void **state)
{
	char *argv[] = { "-p", "22", "-v" };
	struct step s[4];
	struct error err;

	assert_int_equal(parse_all(ARGC(argv), argv, s, 4, &err), 3);
	assert_step(&s[0], OPT_PORT, "22");
	assert_step(&s[1], OPT_VERBOSE, NULL);
	assert_int_equal(s[2].id, CLI_END);
}

static void
test_short_option_argument_may_look_like_an_option(void **state)
{
	char *argv[] = { "-p", "-v" };
	struct step s[3];
	struct error err;

	assert_int_equal(parse_all(ARGC(argv), argv, s, 3, &err), 2);
	assert_step(&s[0], OPT_PORT, "-v");
}

static void
test_cluster_ends_with_an_option_taking_the_rest(void **state)
{
	char *argv[] = { "-vp22" };
	struct step s[4];
	struct error err;

	assert_int_equal(parse_all(ARGC(argv), argv, s, 4, &err), 3);
	assert_step(&s[0], OPT_VERBOSE, NULL);
	assert_step(&s[1], OPT_PORT, "22");
	assert_int_equal(s[2].id, CLI_END);
}

static void
test_cluster_ending_in_an_option_takes_the_next_word(void **state)
{
	char *argv[] = { "-vp", "22" };
	struct step s[4];
	struct error err;

	assert_int_equal(parse_all(ARGC(argv), argv, s, 4, &err), 3);
	assert_step(&s[0], OPT_VERBOSE, NULL);
	assert_step(&s[1], OPT_PORT, "22");
}

static void
test_long_option_takes_a_value_after_equals(void **state)
{
	char *argv[] = { "--port=22" };
	struct step s[3];
	struct error err;

	assert_int_equal(parse_all(ARGC(argv), argv, s, 3, &err), 2);
	assert_step(&s[0], OPT_PORT, "22");
	assert_int_equal(s[1].id, CLI_END);
}

static void
test_long_option_takes_the_next_word_as_argument(void **state)
{
	char *argv[] = { "--port", "22" };
	struct step s[3];
	struct error err;

	assert_int_equal(parse_all(ARGC(argv), argv, s, 3, &err), 2);
	assert_step(&s[0], OPT_PORT, "22");
	assert_int_equal(s[1].id, CLI_END);
}

static void
test_long_option_value_may_hold_an_equals_sign(void **state)
{
	char *argv[] = { "--long-only=a=b" };
	struct step s[3];
	struct error err;

	assert_int_equal(parse_all(ARGC(argv), argv, s, 3, &err), 2);
	assert_step(&s[0], OPT_LONG_ONLY, "a=b");
}

static void
test_long_option_value_may_be_empty(void **state)
{
	char *argv[] = { "--port=" };
	struct step s[3];
	struct error err;

	assert_int_equal(parse_all(ARGC(argv), argv, s, 3, &err), 2);
	assert_step(&s[0], OPT_PORT, "");
}

static void
test_long_flag_without_value(void **state)
{
	char *argv[] = { "--verbose", "--quiet" };
	struct step s[4];
	struct error err;

	assert_int_equal(parse_all(ARGC(argv), argv, s, 4, &err), 3);
	assert_step(&s[0], OPT_VERBOSE, NULL);
	assert_step(&s[1], OPT_QUIET, NULL);
}

static void
test_double_dash_ends_options(void **state)
{
	char *argv[] = { "-v", "--", "-p", "22", "--", "--verbose" };
	struct step s[8];
	struct error err;

	assert_int_equal(parse_all(ARGC(argv), argv, s, 8, &err), 6);
	assert_step(&s[0], OPT_VERBOSE, NULL);
	assert_step(&s[1], CLI_OPERAND, "-p");
	assert_step(&s[2], CLI_OPERAND, "22");
	assert_step(&s[3], CLI_OPERAND, "--");
	assert_step(&s[4], CLI_OPERAND, "--verbose");
	assert_int_equal(s[5].id, CLI_END);
}

static void
test_double_dash_at_the_end_ends_the_line(void **state)
{
	char *argv[] = { "--" };
	struct step s[3];
	struct error err;

	assert_int_equal(parse_all(ARGC(argv), argv, s, 3, &err), 1);
	assert_int_equal(s[0].id, CLI_END);
}

static void
test_operands_may_come_between_options(void **state)
{
	char *argv[] = { "first", "-v", "-", "second" };
	struct step s[6];
	struct error err;

	assert_int_equal(parse_all(ARGC(argv), argv, s, 6, &err), 5);
	assert_step(&s[0], CLI_OPERAND, "first");
	assert_step(&s[1], OPT_VERBOSE, NULL);
	/* A lone "-" is an operand (stdin by convention), not an option. */
	assert_step(&s[2], CLI_OPERAND, "-");
	assert_step(&s[3], CLI_OPERAND, "second");
	assert_int_equal(s[4].id, CLI_END);
}

static void
test_unknown_short_option_is_a_usage_error(void **state)
{
	char *argv[] = { "-x" };
	struct step s[3];
	struct error err;

	assert_int_equal(parse_all(ARGC(argv), argv, s, 3, &err), 1);
	assert_int_equal(s[0].id, CLI_ERROR);
	assert_int_equal(err.code, TETHER_EXIT_USAGE);
	assert_string_equal(err.msg, "unknown option -x; see --help");
}

static void
test_unknown_short_option_inside_a_cluster_is_named(void **state)
{
	char *argv[] = { "-vxq" };
	struct step s[4];
	struct error err;

	assert_int_equal(parse_all(ARGC(argv), argv, s, 4, &err), 2);
	assert_step(&s[0], OPT_VERBOSE, NULL);
	assert_int_equal(s[1].id, CLI_ERROR);
	assert_string_equal(err.msg, "unknown option -x; see --help");
}

static void
test_unknown_long_option_is_a_usage_error(void **state)
{
	char *argv[] = { "--colour=red" };
	struct step s[3];
	struct error err;

	assert_int_equal(parse_all(ARGC(argv), argv, s, 3, &err), 1);
	assert_int_equal(s[0].id, CLI_ERROR);
	assert_int_equal(err.code, TETHER_EXIT_USAGE);
	/* The name without its value. */
	assert_string_equal(err.msg, "unknown option --colour; see --help");
}

static void
test_long_option_prefix_is_not_a_match(void **state)
{
	char *argv[] = { "--verb" };
	struct step s[3];
	struct error err;

	assert_int_equal(parse_all(ARGC(argv), argv, s, 3, &err), 1);
	assert_int_equal(s[0].id, CLI_ERROR);
	assert_string_equal(err.msg, "unknown option --verb; see --help");
}

static void
test_long_option_name_is_case_sensitive(void **state)
{
	char *argv[] = { "--Verbose" };
	struct step s[3];
	struct error err;

	assert_int_equal(parse_all(ARGC(argv), argv, s, 3, &err), 1);
	assert_int_equal(s[0].id, CLI_ERROR);
}

static void
test_unknown_long_option_name_is_cut_to_64_characters(void **state)
{
	char word[300];
	char *argv[] = { word };
	struct step s[3];
	struct error err;

	memcpy(word, "--", 2);
	memset(word + 2, 'z', 200);
	word[202] = '\0';
	assert_int_equal(parse_all(ARGC(argv), argv, s, 3, &err), 1);
	assert_int_equal(s[0].id, CLI_ERROR);
	assert_int_equal(strlen(err.msg),
	    strlen("unknown option --; see --help") + 64);
}

static void
test_short_option_missing_its_argument_is_a_usage_error(void **state)
{
	char *argv[] = { "-v", "-p" };
	struct step s[4];
	struct error err;

	assert_int_equal(parse_all(ARGC(argv), argv, s, 4, &err), 2);
	assert_step(&s[0], OPT_VERBOSE, NULL);
	assert_int_equal(s[1].id, CLI_ERROR);
	assert_int_equal(err.code, TETHER_EXIT_USAGE);
	assert_string_equal(err.msg, "option -p needs an argument (PORT)");
}

static void
test_cluster_missing_its_argument_names_the_option(void **state)
{
	char *argv[] = { "-vp" };
	struct step s[4];
	struct error err;

	assert_int_equal(parse_all(ARGC(argv), argv, s, 4, &err), 2);
	assert_int_equal(s[1].id, CLI_ERROR);
	assert_string_equal(err.msg, "option -p needs an argument (PORT)");
}

static void
test_long_option_missing_its_argument_is_a_usage_error(void **state)
{
	char *argv[] = { "--port" };
	struct step s[3];
	struct error err;

	assert_int_equal(parse_all(ARGC(argv), argv, s, 3, &err), 1);
	assert_int_equal(s[0].id, CLI_ERROR);
	assert_int_equal(err.code, TETHER_EXIT_USAGE);
	assert_string_equal(err.msg, "option --port needs an argument (PORT)");
}

static void
test_long_flag_given_a_value_is_a_usage_error(void **state)
{
	char *argv[] = { "--verbose=1" };
	struct step s[3];
	struct error err;

	assert_int_equal(parse_all(ARGC(argv), argv, s, 3, &err), 1);
	assert_int_equal(s[0].id, CLI_ERROR);
	assert_int_equal(err.code, TETHER_EXIT_USAGE);
	assert_string_equal(err.msg, "option --verbose takes no argument");
}

static void
test_end_is_returned_again_after_the_end(void **state)
{
	char *argv[] = { "-v" };
	struct cli_parser p;
	const char *arg;
	struct error err;

	error_clear(&err);
	cli_parser_init(&p, ARGC(argv), argv);
	assert_int_equal(cli_next(&p, opts, &arg, &err), OPT_VERBOSE);
	assert_int_equal(cli_next(&p, opts, &arg, &err), CLI_END);
	assert_int_equal(cli_next(&p, opts, &arg, &err), CLI_END);
	assert_int_equal(err.code, 0);
}

static void
test_run_options_share_ids_for_key_and_secret_key(void **state)
{
	char *argv[] = { "-s", "/a", "--key", "/b", "--secret-key=/c" };
	struct cli_parser p;
	const char *arg;
	struct error err;

	error_clear(&err);
	cli_parser_init(&p, ARGC(argv), argv);
	assert_int_equal(cli_next(&p, cli_run_options, &arg, &err), RUN_OPT_KEY);
	assert_string_equal(arg, "/a");
	assert_int_equal(cli_next(&p, cli_run_options, &arg, &err), RUN_OPT_KEY);
	assert_string_equal(arg, "/b");
	assert_int_equal(cli_next(&p, cli_run_options, &arg, &err), RUN_OPT_KEY);
	assert_string_equal(arg, "/c");
	assert_int_equal(cli_next(&p, cli_run_options, &arg, &err), CLI_END);
}

/* ---- cli_parse_run: flags > environment > config file > defaults ------- */

static const char file_text[] =
    "[tunnel]\n"
    "name = from-file\n"
    "bastion = file@file-host:2201\n"
    "key = /file/key\n"
    "keepalive_interval = 10\n"
    "connect_timeout = 20\n"
    "forward = 7001:localhost:22\n"
    "forward = 7002:web:80\n";

struct run_fixture {
	char path[64];
	struct run_request req;
	struct error err;
};

static int
file_setup(void **state)
{
	struct run_fixture *f = calloc(1, sizeof *f);
	size_t len = sizeof file_text - 1;
	int fd;

	if (f == NULL)
		return -1;
	*state = f;
	snprintf(f->path, sizeof f->path, "/tmp/tether-cli-test-XXXXXX");
	fd = mkstemp(f->path);
	if (fd == -1) {
		f->path[0] = '\0';
		return -1;
	}
	if (write(fd, file_text, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int
file_teardown(void **state)
{
	struct run_fixture *f = *state;

	if (f->path[0] != '\0')
		unlink(f->path);
	free(f);
	return 0;
}

static int
fixture_setup(void **state)
{
	struct run_fixture *f = calloc(1, sizeof *f);

	*state = f;
	return f == NULL ? -1 : 0;
}

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

/* HOME, and an agent so that no key is needed. */
static const char *const plain_env[] = {
	"HOME", HOME, "SSH_AUTH_SOCK", "/run/agent", NULL,
};

static int
run(struct run_fixture *f, int argc, char **argv, const char *const *env)
{
	error_clear(&f->err);
	return cli_parse_run(argc, argv, fake_lookup, (void *)env, &f->req,
	    &f->err);
}

static void
run_ok(struct run_fixture *f, int argc, char **argv, const char *const *env)
{
	if (run(f, argc, argv, env) != 0)
		fail_msg("refused: %s", f->err.msg);
	assert_int_equal(f->err.code, 0);
}

static void
run_bad(struct run_fixture *f, int argc, char **argv,
    const char *const *env, int code)
{
	if (run(f, argc, argv, env) != -1)
		fail_msg("accepted");
	assert_int_equal(f->err.code, code);
}

static void
test_run_without_file_or_environment_uses_defaults(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-b", "u@bastion", "-p", "2222" };
	const struct tether_config *cfg = &f->req.cfg;

	run_ok(f, ARGC(argv), argv, plain_env);
	assert_int_equal(f->req.help, 0);
	assert_int_equal(cfg->keepalive_interval, 30);
	assert_int_equal(cfg->connect_timeout, 15);
	assert_string_equal(cfg->known_hosts, HOME "/.ssh/known_hosts");
	assert_int_equal(cfg->host_key_policy, HOST_KEY_STRICT);
	assert_string_equal(cfg->key_path, "");
	assert_int_equal(cfg->agent_available, 1);
	assert_int_equal(cfg->verbose, 0);
	assert_int_equal(cfg->nforwards, 1);
	assert_int_equal(cfg->forwards[0].port, 2222);
	assert_string_equal(cfg->forwards[0].host, "localhost");
	assert_int_equal(cfg->forwards[0].host_port, 22);
	assert_string_equal(cfg->name, "2222");
}

static void
test_run_config_file_beats_defaults(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-c", f->path };
	const struct tether_config *cfg = &f->req.cfg;

	run_ok(f, ARGC(argv), argv, plain_env);
	assert_string_equal(cfg->name, "from-file");
	assert_string_equal(cfg->bastion.user, "file");
	assert_string_equal(cfg->bastion.host, "file-host");
	assert_int_equal(cfg->bastion.port, 2201);
	assert_string_equal(cfg->key_path, "/file/key");
	assert_int_equal(cfg->keepalive_interval, 10);
	assert_int_equal(cfg->connect_timeout, 20);
	/* Keys the file leaves out keep their defaults. */
	assert_int_equal(cfg->keepalive_count, 3);
	assert_int_equal(cfg->max_channels, 256);
}

static void
test_run_keeps_the_files_forwards_without_remote_flags(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-c", f->path };
	const struct tether_config *cfg = &f->req.cfg;

	run_ok(f, ARGC(argv), argv, plain_env);
	assert_int_equal(cfg->nforwards, 2);
	assert_int_equal(cfg->forwards[0].port, 7001);
	assert_int_equal(cfg->forwards[1].port, 7002);
	assert_string_equal(cfg->forwards[1].host, "web");
}

static void
test_run_environment_beats_config_file(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "--config", f->path };
	const char *env[] = {
		"HOME", HOME,
		"TETHER_BASTION", "env@env-host",
		"TETHER_KEY", "~/env-key",
		NULL,
	};
	const struct tether_config *cfg = &f->req.cfg;

	run_ok(f, ARGC(argv), argv, env);
	assert_string_equal(cfg->bastion.user, "env");
	assert_string_equal(cfg->bastion.host, "env-host");
	assert_int_equal(cfg->bastion.port, 22);
	assert_string_equal(cfg->key_path, HOME "/env-key");
	/* What the environment does not name stays the file's. */
	assert_int_equal(cfg->keepalive_interval, 10);
	assert_string_equal(cfg->name, "from-file");
}

static void
test_run_seed_environment_names_beat_config_file(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-c", f->path };
	const char *env[] = {
		"HOME", HOME,
		"SCITEX_TUNNEL_BASTION_SERVER", "seed@seed-host",
		"SCITEX_TUNNEL_SECRET_KEY_PATH", "/seed/key",
		"SCITEX_TUNNEL_DEBUG_MODE", "true",
		NULL,
	};
	const struct tether_config *cfg = &f->req.cfg;

	run_ok(f, ARGC(argv), argv, env);
	assert_string_equal(cfg->bastion.host, "seed-host");
	assert_string_equal(cfg->key_path, "/seed/key");
	assert_int_equal(cfg->verbose, 1);
}

static void
test_run_flags_beat_environment_and_config_file(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = {
		"-c", f->path,
		"-b", "flag@flag-host:2203",
		"-s", "/flag/key",
		"-n", "from-flag",
	};
	const char *env[] = {
		"HOME", HOME,
		"TETHER_BASTION", "env@env-host",
		"TETHER_KEY", "/env/key",
		NULL,
	};
	const struct tether_config *cfg = &f->req.cfg;

	run_ok(f, ARGC(argv), argv, env);
	assert_string_equal(cfg->bastion.user, "flag");
	assert_string_equal(cfg->bastion.host, "flag-host");
	assert_int_equal(cfg->bastion.port, 2203);
	assert_string_equal(cfg->key_path, "/flag/key");
	assert_string_equal(cfg->name, "from-flag");
}

static void
test_run_flag_position_does_not_matter_for_precedence(void **state)
{
	struct run_fixture *f = *state;
	/* The file comes last on the line yet still loses to the flags. */
	char *argv[] = { "-b", "flag@flag-host", "-c", f->path };
	const struct tether_config *cfg = &f->req.cfg;

	run_ok(f, ARGC(argv), argv, plain_env);
	assert_string_equal(cfg->bastion.host, "flag-host");
}

static void
test_run_later_flag_beats_earlier_flag(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-b", "a@first", "-p", "1", "--port", "2" };
	const struct tether_config *cfg = &f->req.cfg;

	run_ok(f, ARGC(argv), argv, plain_env);
	assert_int_equal(cfg->nforwards, 1);
	assert_int_equal(cfg->forwards[0].port, 2);
}

static void
test_run_repeated_bastion_flags_are_failover_bastions_in_order(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-b", "a@first", "-p", "1", "--bastion=b@second,third:2200" };
	const struct tether_config *cfg = &f->req.cfg;

	run_ok(f, ARGC(argv), argv, plain_env);
	assert_string_equal(cfg->bastion.host, "first");
	assert_int_equal(cfg->nbastions, 3);
	assert_string_equal(cfg->bastions[1].host, "second");
	assert_string_equal(cfg->bastions[2].host, "third");
	assert_int_equal(cfg->bastions[2].port, 2200);
}

static void
test_run_option_flag_beats_config_file(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-c", f->path, "-o", "keepalive_interval=5",
	    "--option", "max_channels=8" };
	const struct tether_config *cfg = &f->req.cfg;

	run_ok(f, ARGC(argv), argv, plain_env);
	assert_int_equal(cfg->keepalive_interval, 5);
	assert_int_equal(cfg->max_channels, 8);
	assert_int_equal(cfg->connect_timeout, 20);
}

static void
test_run_option_flag_beats_environment(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-o", "bastion=opt@opt-host", "-p", "2222" };
	const char *env[] = {
		"HOME", HOME, "SSH_AUTH_SOCK", "/a",
		"TETHER_BASTION", "env@env-host",
		NULL,
	};

	run_ok(f, ARGC(argv), argv, env);
	assert_string_equal(f->req.cfg.bastion.host, "opt-host");
}

static void
test_run_verbose_flag_beats_debug_environment(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-v", "-b", "u@h", "-p", "2222" };
	const char *env[] = {
		"HOME", HOME, "SSH_AUTH_SOCK", "/a", "TETHER_DEBUG", "0", NULL,
	};

	run_ok(f, ARGC(argv), argv, env);
	assert_int_equal(f->req.cfg.verbose, 1);
}

static void
test_run_debug_environment_turns_verbose_on(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-b", "u@h", "-p", "2222" };
	const char *env[] = {
		"HOME", HOME, "SSH_AUTH_SOCK", "/a", "TETHER_DEBUG", "1", NULL,
	};

	run_ok(f, ARGC(argv), argv, env);
	assert_int_equal(f->req.cfg.verbose, 1);
}

static void
test_run_remote_flags_replace_the_files_forwards(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-c", f->path, "-R", "9001:a:1",
	    "--remote=[::1]:9002:b:2" };
	const struct tether_config *cfg = &f->req.cfg;

	run_ok(f, ARGC(argv), argv, plain_env);
	assert_int_equal(cfg->nforwards, 2);
	assert_int_equal(cfg->forwards[0].port, 9001);
	assert_string_equal(cfg->forwards[0].host, "a");
	assert_string_equal(cfg->forwards[1].bind, "::1");
	assert_int_equal(cfg->forwards[1].port, 9002);
}

static void
test_run_option_forward_adds_like_remote_flags(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-c", f->path, "-R", "9001:a:1", "-o",
	    "forward=9002:b:2", "-o", "forward=9003:c:3" };
	const struct tether_config *cfg = &f->req.cfg;

	run_ok(f, ARGC(argv), argv, plain_env);
	assert_int_equal(cfg->nforwards, 3);
	assert_int_equal(cfg->forwards[0].port, 9001);
	assert_int_equal(cfg->forwards[1].port, 9002);
	assert_int_equal(cfg->forwards[2].port, 9003);
}

static void
test_run_port_flag_adds_to_the_files_forwards(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-c", f->path, "-p", "2222", "-t", "db:5432" };
	const struct tether_config *cfg = &f->req.cfg;

	run_ok(f, ARGC(argv), argv, plain_env);
	assert_int_equal(cfg->nforwards, 3);
	assert_int_equal(cfg->forwards[2].port, 2222);
	assert_string_equal(cfg->forwards[2].host, "db");
	assert_int_equal(cfg->forwards[2].host_port, 5432);
}

static void
test_run_port_and_target_flags_make_one_forward(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-b", "u@h", "--target", "8080", "--port=0" };
	const struct tether_config *cfg = &f->req.cfg;

	run_ok(f, ARGC(argv), argv, plain_env);
	assert_int_equal(cfg->nforwards, 1);
	assert_int_equal(cfg->forwards[0].port, 0);
	assert_string_equal(cfg->forwards[0].host, "localhost");
	assert_int_equal(cfg->forwards[0].host_port, 8080);
}

static void
test_run_known_hosts_and_policy_flags(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-b", "u@h", "-p", "1", "--known-hosts", "~/kh",
	    "--host-key-policy=accept-new" };
	const struct tether_config *cfg = &f->req.cfg;

	run_ok(f, ARGC(argv), argv, plain_env);
	assert_string_equal(cfg->known_hosts, HOME "/kh");
	assert_int_equal(cfg->host_key_policy, HOST_KEY_ACCEPT_NEW);
}

static void
test_run_key_flag_expands_tilde_with_looked_up_home(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-b", "u@h", "-p", "1", "--secret-key", "~/.ssh/k" };
	const char *env[] = { "HOME", "/srv/other", NULL };

	run_ok(f, ARGC(argv), argv, env);
	assert_string_equal(f->req.cfg.key_path, "/srv/other/.ssh/k");
	assert_string_equal(f->req.cfg.known_hosts,
	    "/srv/other/.ssh/known_hosts");
}

static void
test_run_help_needs_no_bastion(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "--help" };
	const char *env[] = { NULL };

	run_ok(f, ARGC(argv), argv, env);
	assert_int_equal(f->req.help, 1);
}

static void
test_run_short_help_ignores_other_flags_and_a_missing_file(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-p", "99999", "-c", "/nonexistent/tether.conf", "-h" };
	const char *env[] = { NULL };

	run_ok(f, ARGC(argv), argv, env);
	assert_int_equal(f->req.help, 1);
}

static void
test_run_help_still_refuses_an_unknown_option(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "--help", "--bogus" };
	const char *env[] = { NULL };

	run_bad(f, ARGC(argv), argv, env, TETHER_EXIT_USAGE);
	assert_string_equal(f->err.msg, "unknown option --bogus; see --help");
}

static void
test_run_without_bastion_says_it_is_required(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-p", "2222" };

	run_bad(f, ARGC(argv), argv, plain_env, TETHER_EXIT_CONFIG);
	assert_starts_with(f->err.msg, "bastion_server is required");
}

static void
test_run_without_key_or_agent_is_a_key_error(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-b", "u@h", "-p", "2222" };
	const char *env[] = { "HOME", HOME, "TETHER_SSH_CONFIG", "none", NULL };

	run_bad(f, ARGC(argv), argv, env, TETHER_EXIT_KEY);
	assert_starts_with(f->err.msg, "no key:");
}

static void
test_run_operand_is_a_usage_error(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-b", "u@h", "-p", "2222", "extra" };

	run_bad(f, ARGC(argv), argv, plain_env, TETHER_EXIT_USAGE);
	assert_string_equal(f->err.msg, "unexpected argument 'extra'; see "
	    "tether run --help");
}

static void
test_run_bad_port_flag_is_a_usage_error(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-b", "u@h", "-p", "65536" };

	run_bad(f, ARGC(argv), argv, plain_env, TETHER_EXIT_USAGE);
	assert_string_equal(f->err.msg, "-p '65536': the remote port must be a "
	    "number from 0 to 65535");
}

static void
test_run_bad_bastion_flag_is_a_config_error_naming_the_flag(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-b", "bad host", "-p", "2222" };

	run_bad(f, ARGC(argv), argv, plain_env, TETHER_EXIT_CONFIG);
	assert_starts_with(f->err.msg, "-b: bastion 'bad host'");
}

static void
test_run_bad_remote_flag_is_a_config_error_naming_the_flag(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-b", "u@h", "-R", "2222:localhost" };

	run_bad(f, ARGC(argv), argv, plain_env, TETHER_EXIT_CONFIG);
	assert_starts_with(f->err.msg, "-R: forward '2222:localhost'");
}

static void
test_run_bad_target_flag_is_a_config_error(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-b", "u@h", "-p", "1", "-t", "localhost" };

	run_bad(f, ARGC(argv), argv, plain_env, TETHER_EXIT_CONFIG);
	assert_starts_with(f->err.msg, "target 'localhost': expected HOST:PORT");
}

static void
test_run_bad_name_flag_is_refused(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-b", "u@h", "-p", "1", "-n", "two words" };

	run_bad(f, ARGC(argv), argv, plain_env, TETHER_EXIT_CONFIG);
	assert_contains(f->err.msg, "name 'two words' must be 1 to 63");
}

static void
test_run_overlong_name_flag_is_refused(void **state)
{
	struct run_fixture *f = *state;
	char name[200];
	char *argv[] = { "-b", "u@h", "-p", "1", "-n", name };

	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	run_bad(f, ARGC(argv), argv, plain_env, TETHER_EXIT_CONFIG);
	assert_contains(f->err.msg, "must be 1 to 63");
}

static void
test_run_bad_policy_flag_is_refused(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-b", "u@h", "-p", "1", "--host-key-policy", "off" };

	run_bad(f, ARGC(argv), argv, plain_env, TETHER_EXIT_CONFIG);
	assert_starts_with(f->err.msg, "--host-key-policy: host key policy "
	    "'off'");
}

static void
test_run_missing_config_file_is_a_config_error(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-b", "u@h", "-p", "1", "-c", "/nonexistent/t.conf" };

	run_bad(f, ARGC(argv), argv, plain_env, TETHER_EXIT_CONFIG);
	assert_string_equal(f->err.msg, "config /nonexistent/t.conf: No such "
	    "file or directory");
}

static void
test_run_bad_environment_is_a_config_error(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-p", "1" };
	const char *env[] = { "HOME", HOME, "TETHER_DEBUG", "loud", NULL };

	run_bad(f, ARGC(argv), argv, env, TETHER_EXIT_CONFIG);
	assert_starts_with(f->err.msg, "$TETHER_DEBUG: 'loud'");
}

static void
test_run_missing_argument_is_a_usage_error(void **state)
{
	struct run_fixture *f = *state;
	char *argv[] = { "-b", "u@h", "-p" };

	run_bad(f, ARGC(argv), argv, plain_env, TETHER_EXIT_USAGE);
	assert_string_equal(f->err.msg, "option -p needs an argument (PORT)");
}

#define FILE_TEST(t) cmocka_unit_test_setup_teardown(t, file_setup, \
	file_teardown)
#define RUN_TEST(t) cmocka_unit_test_setup_teardown(t, fixture_setup, \
	file_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_command_line_ends_at_once),
		cmocka_unit_test(test_short_flags_cluster),
		cmocka_unit_test(test_short_flags_cluster_in_any_order),
		cmocka_unit_test(test_short_option_takes_an_attached_argument),
		cmocka_unit_test(test_short_option_takes_the_next_word_as_argument),
		cmocka_unit_test(test_short_option_argument_may_look_like_an_option),
		cmocka_unit_test(test_cluster_ends_with_an_option_taking_the_rest),
		cmocka_unit_test(test_cluster_ending_in_an_option_takes_the_next_word),
		cmocka_unit_test(test_long_option_takes_a_value_after_equals),
		cmocka_unit_test(test_long_option_takes_the_next_word_as_argument),
		cmocka_unit_test(test_long_option_value_may_hold_an_equals_sign),
		cmocka_unit_test(test_long_option_value_may_be_empty),
		cmocka_unit_test(test_long_flag_without_value),
		cmocka_unit_test(test_double_dash_ends_options),
		cmocka_unit_test(test_double_dash_at_the_end_ends_the_line),
		cmocka_unit_test(test_operands_may_come_between_options),
		cmocka_unit_test(test_unknown_short_option_is_a_usage_error),
		cmocka_unit_test(test_unknown_short_option_inside_a_cluster_is_named),
		cmocka_unit_test(test_unknown_long_option_is_a_usage_error),
		cmocka_unit_test(test_long_option_prefix_is_not_a_match),
		cmocka_unit_test(test_long_option_name_is_case_sensitive),
		cmocka_unit_test(test_unknown_long_option_name_is_cut_to_64_characters),
		cmocka_unit_test(test_short_option_missing_its_argument_is_a_usage_error),
		cmocka_unit_test(test_cluster_missing_its_argument_names_the_option),
		cmocka_unit_test(test_long_option_missing_its_argument_is_a_usage_error),
		cmocka_unit_test(test_long_flag_given_a_value_is_a_usage_error),
		cmocka_unit_test(test_end_is_returned_again_after_the_end),
		cmocka_unit_test(test_run_options_share_ids_for_key_and_secret_key),

		RUN_TEST(test_run_without_file_or_environment_uses_defaults),
		FILE_TEST(test_run_config_file_beats_defaults),
		FILE_TEST(test_run_keeps_the_files_forwards_without_remote_flags),
		FILE_TEST(test_run_environment_beats_config_file),
		FILE_TEST(test_run_seed_environment_names_beat_config_file),
		FILE_TEST(test_run_flags_beat_environment_and_config_file),
		FILE_TEST(test_run_flag_position_does_not_matter_for_precedence),
		RUN_TEST(test_run_later_flag_beats_earlier_flag),
		RUN_TEST(test_run_repeated_bastion_flags_are_failover_bastions_in_order),
		FILE_TEST(test_run_option_flag_beats_config_file),
		RUN_TEST(test_run_option_flag_beats_environment),
		RUN_TEST(test_run_verbose_flag_beats_debug_environment),
		RUN_TEST(test_run_debug_environment_turns_verbose_on),
		FILE_TEST(test_run_remote_flags_replace_the_files_forwards),
		FILE_TEST(test_run_option_forward_adds_like_remote_flags),
		FILE_TEST(test_run_port_flag_adds_to_the_files_forwards),
		RUN_TEST(test_run_port_and_target_flags_make_one_forward),
		RUN_TEST(test_run_known_hosts_and_policy_flags),
		RUN_TEST(test_run_key_flag_expands_tilde_with_looked_up_home),
		RUN_TEST(test_run_help_needs_no_bastion),
		RUN_TEST(test_run_short_help_ignores_other_flags_and_a_missing_file),
		RUN_TEST(test_run_help_still_refuses_an_unknown_option),
		RUN_TEST(test_run_without_bastion_says_it_is_required),
		RUN_TEST(test_run_without_key_or_agent_is_a_key_error),
		RUN_TEST(test_run_operand_is_a_usage_error),
		RUN_TEST(test_run_bad_port_flag_is_a_usage_error),
		RUN_TEST(test_run_bad_bastion_flag_is_a_config_error_naming_the_flag),
		RUN_TEST(test_run_bad_remote_flag_is_a_config_error_naming_the_flag),
		RUN_TEST(test_run_bad_target_flag_is_a_config_error),
		RUN_TEST(test_run_bad_name_flag_is_refused),
		RUN_TEST(test_run_overlong_name_flag_is_refused),
		RUN_TEST(test_run_bad_policy_flag_is_refused),
		RUN_TEST(test_run_missing_config_file_is_a_config_error),
		RUN_TEST(test_run_bad_environment_is_a_config_error),
		RUN_TEST(test_run_missing_argument_is_a_usage_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
