/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * What `tether setup` writes: the tunnel's config file, the drop-in naming
 * the service user and the unit templates; the path check that keeps every
 * value on its own line; and hostile values handed to api_setup with
 * --dry-run, which must be refused before anything is planned.
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
#include <libssh/libssh.h>

#include "tether/exit.h"
#include "ops.h"
#include "config.h"
#include "units.h"
#include "units_embedded.h"

#define assert_contains(haystack, needle) do { \
	if (strstr((haystack), (needle)) == NULL) \
		fail_msg("\"%s\" does not contain \"%s\"", (haystack), \
		    (needle)); \
} while (0)

#define assert_not_contains(haystack, needle) do { \
	if (strstr((haystack), (needle)) != NULL) \
		fail_msg("\"%s\" contains \"%s\"", (haystack), (needle)); \
} while (0)

#define BIN "/opt/tether test/bin/tether"
/* As systemd.syntax(7) needs a word with a space: in double quotes. */
#define QBIN "\"" BIN "\""

/* ---- helpers ----------------------------------------------------------- */

static void
values_normal(struct setup_values *v)
{
	memset(v, 0, sizeof *v);
	v->port = 2222;
	snprintf(v->bastion.user, sizeof v->bastion.user, "tunnel");
	snprintf(v->bastion.host, sizeof v->bastion.host, "bastion.example.com");
	v->bastion.port = 22;
	snprintf(v->key_path, sizeof v->key_path, "/home/ann/.ssh/id_ed25519");
	snprintf(v->known_hosts, sizeof v->known_hosts,
	    "/home/ann/.ssh/known_hosts");
	v->policy = HOST_KEY_STRICT;
	snprintf(v->target_host, sizeof v->target_host, "localhost");
	v->target_port = 22;
}

static void
values_ipv6(struct setup_values *v)
{
	values_normal(v);
	v->port = 8022;
	snprintf(v->bastion.host, sizeof v->bastion.host, "2001:db8::7");
	v->bastion.port = 2200;
	snprintf(v->target_host, sizeof v->target_host, "::1");
	v->target_port = 2022;
}

static int
count_of(const char *haystack, const char *needle)
{
	int n = 0;

	while ((haystack = strstr(haystack, needle)) != NULL) {
		n++;
		haystack += strlen(needle);
	}
	return n;
}

/* Whether text has a line that starts with prefix. */
static int
has_line_starting(const char *text, const char *prefix)
{
	const char *line = text;

	while (line != NULL && *line != '\0') {
		if (strncmp(line, prefix, strlen(prefix)) == 0)
			return 1;
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
	return 0;
}

/* Loads rendered config text the way `tether run -c` does. */
static void
load_rendered(const char *text, struct tether_config *cfg)
{
	struct error err;

	config_init_defaults(cfg, "/home/ann");
	error_clear(&err);
	if (config_load_string(cfg, text, "rendered.conf", &err) != 0 ||
	    config_finish(cfg, &err) != 0)
		fail_msg("the rendered config does not load: %s\n%s", err.msg,
		    text);
}

static void
check_path_refused(const char *path)
{
	struct error err;

	error_clear(&err);
	if (units_check_path(path, "key path", &err) != -1)
		fail_msg("'%s' was accepted", path);
	assert_int_equal(err.code, TETHER_EXIT_CONFIG);
	assert_contains(err.msg, "key path");
	/* The message stays one line whatever the path holds. */
	assert_null(strpbrk(err.msg, "\r\n"));
}

static void
check_path_accepted(const char *path)
{
	struct error err;

	error_clear(&err);
	if (units_check_path(path, "key path", &err) != 0)
		fail_msg("'%s' was refused: %s", path, err.msg);
	assert_int_equal(err.code, 0);
}

/* ---- units_render_config ---------------------------------------------- */

static void
test_render_config_is_exactly_the_expected_file(void **state)
{
	struct setup_values v;
	char *text;

	values_normal(&v);
	text = units_render_config(&v);
	assert_non_null(text);
	assert_string_equal(text,
	    "# Written by tether setup. Change it with tether setup -p 2222, "
	    "or edit it and\n"
	    "# reload the tunnel (systemctl reload tether@2222).\n"
	    "[tunnel]\n"
	    "name = 2222\n"
	    "bastion = tunnel@bastion.example.com:22\n"
	    "key = /home/ann/.ssh/id_ed25519\n"
	    "known_hosts = /home/ann/.ssh/known_hosts\n"
	    "host_key_policy = strict\n"
	    "forward = 2222:localhost:22\n");
	free(text);
}

static void
test_render_config_brackets_ipv6_bastion_and_target(void **state)
{
	struct setup_values v;
	char *text;

	values_ipv6(&v);
	text = units_render_config(&v);
	assert_non_null(text);
	assert_string_equal(text,
	    "# Written by tether setup. Change it with tether setup -p 8022, "
	    "or edit it and\n"
	    "# reload the tunnel (systemctl reload tether@8022).\n"
	    "[tunnel]\n"
	    "name = 8022\n"
	    "bastion = tunnel@[2001:db8::7]:2200\n"
	    "key = /home/ann/.ssh/id_ed25519\n"
	    "known_hosts = /home/ann/.ssh/known_hosts\n"
	    "host_key_policy = strict\n"
	    "forward = 8022:[::1]:2022\n");
	free(text);
}

static void
test_render_config_without_user_writes_no_at_sign(void **state)
{
	struct setup_values v;
	char *text;

	values_normal(&v);
	v.bastion.user[0] = '\0';
	text = units_render_config(&v);
	assert_non_null(text);
	assert_contains(text, "\nbastion = bastion.example.com:22\n");
	free(text);
}

static void
test_render_config_writes_accept_new_policy(void **state)
{
	struct setup_values v;
	char *text;

	values_normal(&v);
	v.policy = HOST_KEY_ACCEPT_NEW;
	text = units_render_config(&v);
	assert_non_null(text);
	assert_contains(text, "\nhost_key_policy = accept-new\n");
	free(text);
}

static void
test_render_config_reads_back_as_the_same_tunnel(void **state)
{
	struct tether_config cfg;
	struct setup_values v;
	char *text;

	values_normal(&v);
	v.policy = HOST_KEY_ACCEPT_NEW;
	text = units_render_config(&v);
	assert_non_null(text);
	load_rendered(text, &cfg);
	assert_string_equal(cfg.name, "2222");
	assert_string_equal(cfg.bastion.user, "tunnel");
	assert_string_equal(cfg.bastion.host, "bastion.example.com");
	assert_int_equal(cfg.bastion.port, 22);
	assert_string_equal(cfg.key_path, v.key_path);
	assert_string_equal(cfg.known_hosts, v.known_hosts);
	assert_int_equal(cfg.host_key_policy, HOST_KEY_ACCEPT_NEW);
	assert_int_equal(cfg.nforwards, 1);
	assert_int_equal(cfg.forwards[0].port, 2222);
	assert_string_equal(cfg.forwards[0].host, "localhost");
	assert_int_equal(cfg.forwards[0].host_port, 22);
	free(text);
}

static void
test_render_config_ipv6_reads_back_as_the_same_tunnel(void **state)
{
	struct tether_config cfg;
	struct setup_values v;
	char *text;

	values_ipv6(&v);
	text = units_render_config(&v);
	assert_non_null(text);
	load_rendered(text, &cfg);
	assert_string_equal(cfg.bastion.host, "2001:db8::7");
	assert_int_equal(cfg.bastion.port, 2200);
	assert_int_equal(cfg.forwards[0].port, 8022);
	assert_string_equal(cfg.forwards[0].host, "::1");
	assert_int_equal(cfg.forwards[0].host_port, 2022);
	free(text);
}

static void
test_render_config_path_with_spaces_reads_back_whole(void **state)
{
	struct tether_config cfg;
	struct setup_values v;
	char *text;

	values_normal(&v);
	snprintf(v.key_path, sizeof v.key_path, "/home/ann/my keys/id a");
	text = units_render_config(&v);
	assert_non_null(text);
	load_rendered(text, &cfg);
	assert_string_equal(cfg.key_path, "/home/ann/my keys/id a");
	free(text);
}

/* ---- units_check_path --------------------------------------------------- */

static void
test_check_path_refuses_a_relative_path(void **state)
{
	check_path_refused("keys/id_ed25519");
	check_path_refused("./id");
	check_path_refused("~/id");
	check_path_refused(" /leading/space");
	check_path_refused("");
}

static void
test_check_path_refuses_a_newline(void **state)
{
	check_path_refused("/home/ann/id\nExecStartPre=/bin/sh");
}

static void
test_check_path_refuses_a_carriage_return(void **state)
{
	check_path_refused("/home/ann/id\rx");
}

static void
test_check_path_refuses_a_tab(void **state)
{
	check_path_refused("/home/ann/id\tx");
}

static void
test_check_path_refuses_other_control_characters(void **state)
{
	check_path_refused("/home/ann/id\x01x");
	check_path_refused("/home/ann/id\x1bx");
	check_path_refused("/home/ann/id\x7fx");
}

static void
test_check_path_refuses_a_semicolon(void **state)
{
	check_path_refused("/home/ann/id;rm -rf /");
}

static void
test_check_path_refuses_a_hash(void **state)
{
	check_path_refused("/home/ann/id#comment");
}

static void
test_check_path_refuses_a_percent_specifier(void **state)
{
	check_path_refused("/home/%u/id");
}

static void
test_check_path_refuses_a_dollar(void **state)
{
	check_path_refused("/home/$USER/id");
}

static void
test_check_path_refuses_a_backslash(void **state)
{
	check_path_refused("/home/ann/id\\x0a");
}

static void
test_check_path_refuses_double_quotes(void **state)
{
	check_path_refused("/home/ann/\"id\"");
}

static void
test_check_path_refuses_single_quotes(void **state)
{
	check_path_refused("/home/ann/'id'");
}

static void
test_check_path_refuses_a_backtick(void **state)
{
	check_path_refused("/home/ann/`id`");
}

static void
test_check_path_refuses_a_trailing_space(void **state)
{
	check_path_refused("/home/ann/id ");
}

static void
test_check_path_refuses_more_than_180_characters(void **state)
{
	char path[182];

	memset(path, 'k', sizeof path - 1);
	path[0] = '/';
	path[181] = '\0';
	check_path_refused(path);
}

static void
test_check_path_accepts_exactly_180_characters(void **state)
{
	char path[181];

	memset(path, 'k', sizeof path - 1);
	path[0] = '/';
	path[180] = '\0';
	check_path_accepted(path);
}

static void
test_check_path_accepts_ordinary_absolute_paths(void **state)
{
	check_path_accepted("/home/ann/.ssh/id_ed25519");
	check_path_accepted("/etc/tether/keys/tunnel-2222.key");
	check_path_accepted("/srv/lab_01/key.pem");
	check_path_accepted("/");
}

static void
test_check_path_accepts_spaces_inside(void **state)
{
	check_path_accepted("/home/ann/My Keys/id ed25519");
}

static void
test_check_path_names_what_it_checked(void **state)
{
	struct error err;

	error_clear(&err);
	assert_int_equal(units_check_path("rel", "known_hosts path", &err), -1);
	assert_contains(err.msg, "known_hosts path 'rel' must be an absolute "
	    "path");
}

/* ---- units_render_dropin ---------------------------------------------- */

static void
test_render_dropin_is_exactly_user_and_group(void **state)
{
	char *text = units_render_dropin("ann", "staff");

	assert_non_null(text);
	assert_string_equal(text,
	    "# Written by tether setup: the tunnel runs as the key's owner.\n"
	    "[Service]\n"
	    "User=ann\n"
	    "Group=staff\n");
	free(text);
}

/* ---- units_render_template -------------------------------------------- */

static void
check_template(enum tether_mode mode, const char *raw)
{
	char *text = units_render_template(mode, BIN);
	int tokens = count_of(raw, "@TETHER_BIN@");

	assert_non_null(text);
	assert_true(tokens >= 2);
	assert_int_equal(count_of(text, BIN), tokens);
	assert_not_contains(text, "@TETHER");
	/* Everything else is the template as it is. */
	assert_int_equal(count_of(text, QBIN), tokens);
	assert_int_equal(strlen(text), strlen(raw) +
	    (size_t)tokens * (strlen(QBIN) - strlen("@TETHER_BIN@")));
	free(text);
}

static void
test_render_template_system_replaces_every_bin_token(void **state)
{
	check_template(TETHER_MODE_SYSTEM, UNIT_SYSTEM_TEMPLATE);
}

static void
test_render_template_user_replaces_every_bin_token(void **state)
{
	check_template(TETHER_MODE_USER, UNIT_USER_TEMPLATE);
}

static void
test_render_template_system_runs_the_port_config(void **state)
{
	char *text = units_render_template(TETHER_MODE_SYSTEM, BIN);

	assert_non_null(text);
	/* The check runs on reload; at start ExecStart itself checks. */
	assert_contains(text, "\nExecReload=" QBIN " run --check -c "
	    "/etc/tether/%i.conf\n");
	assert_not_contains(text, "\nExecStartPre=");
	assert_contains(text, "\nExecStart=" QBIN " run -c /etc/tether/%i.conf\n");
	free(text);
}

static void
test_render_template_user_runs_the_home_config(void **state)
{
	char *text = units_render_template(TETHER_MODE_USER, BIN);

	assert_non_null(text);
	assert_contains(text, "\nExecStart=" QBIN " run -c "
	    "%h/.config/tether/%i.conf\n");
	assert_contains(text, "\nWantedBy=default.target\n");
	free(text);
}

static void
test_render_template_escapes_specifiers_and_variables(void **state)
{
	char *text = units_render_template(TETHER_MODE_SYSTEM,
	    "/opt/a%b$c/tether");

	assert_non_null(text);
	assert_contains(text, "\nExecStart=/opt/a%%b$$c/tether run -c "
	    "/etc/tether/%i.conf\n");
	free(text);
}

static void
test_render_cron_quotes_words_and_escapes_percent(void **state)
{
	const char *argv[] = { "/opt/sec dir%x/tether", "run", "it's", NULL };
	char *text = units_render_cron(argv);

	assert_non_null(text);
	assert_string_equal(text,
	    "@reboot '/opt/sec dir\\%x/tether' 'run' 'it'\\''s'");
	free(text);
}

static void
test_render_command_quotes_only_words_sh_would_split(void **state)
{
	const char *argv[] = { "/opt/sec dir%x/tether", "run", "-c",
		"/home/a/.config/tether/2222.conf", "it's", "", NULL };
	char *text = units_render_command(argv);

	assert_non_null(text);
	assert_string_equal(text, "'/opt/sec dir%x/tether' run -c "
	    "/home/a/.config/tether/2222.conf 'it'\\''s' ''");
	free(text);
}

static void
test_render_template_system_is_notify_with_watchdog_and_restarts(void **state)
{
	char *text = units_render_template(TETHER_MODE_SYSTEM, BIN);

	assert_non_null(text);
	assert_true(has_line_starting(text, "Type=notify\n"));
	assert_true(has_line_starting(text, "WatchdogSec="));
	assert_true(has_line_starting(text, "Restart=always\n"));
	/* Every "retrying cannot help" code of exit.h, and not auth (6). */
	assert_true(has_line_starting(text, "RestartPreventExitStatus=2 3 4 5 "
	    "7\n"));
	assert_true(has_line_starting(text, "WantedBy=multi-user.target\n"));
	free(text);
}

static void
test_render_template_system_names_no_user(void **state)
{
	char *text = units_render_template(TETHER_MODE_SYSTEM, BIN);

	assert_non_null(text);
	/* User= comes only from the drop-in: never root by omission. */
	assert_false(has_line_starting(text, "User="));
	assert_false(has_line_starting(text, "Group="));
	assert_false(has_line_starting(text, "DynamicUser="));
	free(text);
}

static void
test_render_template_user_is_notify_with_watchdog_and_restarts(void **state)
{
	char *text = units_render_template(TETHER_MODE_USER, BIN);

	assert_non_null(text);
	assert_true(has_line_starting(text, "Type=notify\n"));
	assert_true(has_line_starting(text, "WatchdogSec="));
	assert_true(has_line_starting(text, "Restart=always\n"));
	assert_true(has_line_starting(text, "RestartPreventExitStatus=2 3 4 5 "
	    "7\n"));
	assert_false(has_line_starting(text, "User="));
	free(text);
}

static void
test_render_template_with_token_in_bin_does_not_loop(void **state)
{
	char *text = units_render_template(TETHER_MODE_USER,
	    "/x/@TETHER_BIN@/tether");

	assert_non_null(text);
	assert_int_equal(count_of(text, "/x/@TETHER_BIN@/tether"),
	    count_of(UNIT_USER_TEMPLATE, "@TETHER_BIN@"));
	free(text);
}

/* ---- hostile values through api_setup --dry-run --------------------- */

/*
 * A HOME of its own with a real key (mode 600, ours) and a known_hosts file
 * that knows the bastion [127.0.0.1]:2200, no XDG directories and no
 * environment fallbacks: a valid setup there is a daemon-mode dry run.
 */
struct sandbox {
	char dir[64];
	char key[128];
	char known_hosts[128];
};

static int
write_key(const char *path, ssh_key key)
{
	if (ssh_pki_export_privkey_file(key, NULL, NULL, NULL, path) != SSH_OK)
		return -1;
	return chmod(path, 0600);
}

static int
sandbox_setup(void **state)
{
	struct sandbox *s = calloc(1, sizeof *s);
	ssh_key key = NULL;
	char *b64 = NULL;
	FILE *f;

	if (s == NULL)
		return -1;
	snprintf(s->dir, sizeof s->dir, "/tmp/tether-units-XXXXXX");
	if (mkdtemp(s->dir) == NULL)
		return -1;
	snprintf(s->key, sizeof s->key, "%s/id_ed25519", s->dir);
	snprintf(s->known_hosts, sizeof s->known_hosts, "%s/known_hosts", s->dir);
	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK ||
	    write_key(s->key, key) != 0 ||
	    ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK ||
	    (f = fopen(s->known_hosts, "w")) == NULL)
		return -1;
	fprintf(f, "[127.0.0.1]:2200 ssh-ed25519 %s\n", b64);
	fclose(f);
	ssh_string_free_char(b64);
	ssh_key_free(key);
	setenv("HOME", s->dir, 1);
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("XDG_RUNTIME_DIR");
	unsetenv("TETHER_BASTION");
	unsetenv("TETHER_KEY");
	unsetenv("SCITEX_TUNNEL_BASTION_SERVER");
	unsetenv("SCITEX_TUNNEL_SECRET_KEY_PATH");
	unsetenv("SUDO_USER");
	*state = s;
	return 0;
}

static int
sandbox_teardown(void **state)
{
	struct sandbox *s = *state;
	char cmd[128];

	if (s == NULL)
		return 0;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
	if (system(cmd) != 0)
		return -1;
	free(s);
	return 0;
}

/* A copy of the sandbox key under another name (which may be hostile). */
static void
sandbox_key_copy(const struct sandbox *s, const char *name, char *out,
    size_t sz)
{
	ssh_key key = NULL;

	snprintf(out, sz, "%s/%s", s->dir, name);
	if (ssh_pki_import_privkey_file(s->key, NULL, NULL, NULL, &key) !=
	    SSH_OK || write_key(out, key) != 0)
		fail_msg("cannot copy the key to '%s'", out);
	ssh_key_free(key);
}

static void
opts_valid(const struct sandbox *s, struct api_setup_opts *o)
{
	memset(o, 0, sizeof *o);
	o->port = 2222;
	o->bastion = "tunnel@127.0.0.1:2200";
	o->key_path = s->key;
	o->known_hosts = s->known_hosts;
	o->target = "127.0.0.1:22";
	o->mode = TETHER_MODE_USER;
	o->dry_run = 1;
}

/* Refused with code, naming the port as the seed did, planning nothing. */
static void
setup_refused(const struct api_setup_opts *o, int code, const char *why)
{
	struct api_result r;

	assert_int_equal(api_setup(o, &r), -1);
	if (r.exit_code != code)
		fail_msg("exit code %d, expected %d; stderr: %s", r.exit_code,
		    code, r.err);
	assert_false(r.success);
	assert_string_equal(r.out, "");
	assert_not_contains(r.err, "would ");
	assert_contains(r.err, why);
	assert_contains(r.err, "Failed to set up tunnel on port ");
	assert_null(r.json);
	api_result_free(&r);
}

static void
test_setup_dry_run_of_valid_values_prints_the_daemon_plan(void **state)
{
	struct sandbox *s = *state;
	struct api_setup_opts o;
	struct api_result r;
	char want[512];

	opts_valid(s, &o);
	assert_int_equal(api_setup(&o, &r), 0);
	assert_int_equal(r.exit_code, TETHER_EXIT_OK);
	snprintf(want, sizeof want, "would write %s/.config/tether/2222.conf "
	    "(mode 0644):\n# Written by tether setup.", s->dir);
	assert_contains(r.out, want);
	assert_contains(r.out, "\nbastion = tunnel@127.0.0.1:2200\n");
	assert_contains(r.out, "\nforward = 2222:127.0.0.1:22\n");
	snprintf(want, sizeof want, " run --daemon -c %s/.config/tether/"
	    "2222.conf --pidfile %s/.local/state/tether/2222.pid", s->dir,
	    s->dir);
	assert_contains(r.out, want);
	assert_contains(r.out, "would run: /");
	api_result_free(&r);
}

static void
test_setup_dry_run_writes_nothing(void **state)
{
	struct sandbox *s = *state;
	struct api_setup_opts o;
	struct api_result r;
	char path[256];

	opts_valid(s, &o);
	assert_int_equal(api_setup(&o, &r), 0);
	api_result_free(&r);
	snprintf(path, sizeof path, "%s/.config", s->dir);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof path, "%s/.local", s->dir);
	assert_int_equal(access(path, F_OK), -1);
}

static void
test_setup_refuses_a_bastion_with_a_newline(void **state)
{
	struct api_setup_opts o;

	opts_valid(*state, &o);
	o.bastion = "tunnel@127.0.0.1:2200\nExecStartPre=/bin/sh -c evil";
	setup_refused(&o, TETHER_EXIT_CONFIG, "bastion '");
}

static void
test_setup_refuses_a_bastion_that_reads_as_an_option(void **state)
{
	struct api_setup_opts o;

	opts_valid(*state, &o);
	o.bastion = "-oProxyCommand=touch /tmp/pwned";
	setup_refused(&o, TETHER_EXIT_CONFIG, "bastion '");
}

static void
test_setup_refuses_a_bastion_user_with_a_space(void **state)
{
	struct api_setup_opts o;

	opts_valid(*state, &o);
	o.bastion = "tun nel@127.0.0.1:2200";
	setup_refused(&o, TETHER_EXIT_CONFIG, "bastion '");
}

static void
test_setup_refuses_a_key_path_with_a_newline(void **state)
{
	struct sandbox *s = *state;
	struct api_setup_opts o;
	char key[256];

	sandbox_key_copy(s, "id\nExecStartPre=evil", key, sizeof key);
	opts_valid(s, &o);
	o.key_path = key;
	setup_refused(&o, TETHER_EXIT_CONFIG, "key path '");
}

static void
test_setup_refuses_a_key_path_with_a_semicolon(void **state)
{
	struct sandbox *s = *state;
	struct api_setup_opts o;
	char key[256];

	sandbox_key_copy(s, "id;evil", key, sizeof key);
	opts_valid(s, &o);
	o.key_path = key;
	setup_refused(&o, TETHER_EXIT_CONFIG, "key path '");
}

static void
test_setup_refuses_a_missing_key_as_a_key_error(void **state)
{
	struct api_setup_opts o;

	opts_valid(*state, &o);
	o.key_path = "/nonexistent/tether-test/id_ed25519";
	setup_refused(&o, TETHER_EXIT_KEY, "/nonexistent/tether-test/id_ed25519");
}

static void
test_setup_refuses_a_key_others_can_read(void **state)
{
	struct sandbox *s = *state;
	struct api_setup_opts o;
	char key[256];

	sandbox_key_copy(s, "id_open", key, sizeof key);
	assert_int_equal(chmod(key, 0644), 0);
	opts_valid(s, &o);
	o.key_path = key;
	setup_refused(&o, TETHER_EXIT_KEY, "too open");
}

static void
test_setup_refuses_a_known_hosts_path_with_a_newline(void **state)
{
	struct api_setup_opts o;

	opts_valid(*state, &o);
	o.known_hosts = "/tmp/kh\nExecStartPre=evil";
	setup_refused(&o, TETHER_EXIT_CONFIG, "known_hosts path '");
}

static void
test_setup_refuses_a_target_with_spaces(void **state)
{
	struct api_setup_opts o;

	opts_valid(*state, &o);
	o.target = "local host:22";
	setup_refused(&o, TETHER_EXIT_CONFIG, "target '");
}

static void
test_setup_refuses_a_target_that_reads_as_an_option(void **state)
{
	struct api_setup_opts o;

	opts_valid(*state, &o);
	o.target = "-oProxyCommand=x:22";
	setup_refused(&o, TETHER_EXIT_CONFIG, "target '");
}

static void
test_setup_refuses_port_0(void **state)
{
	struct api_setup_opts o;

	opts_valid(*state, &o);
	o.port = 0;
	setup_refused(&o, TETHER_EXIT_CONFIG, "port 0 is not a remote port");
}

static void
test_setup_refuses_port_70000(void **state)
{
	struct api_setup_opts o;

	opts_valid(*state, &o);
	o.port = 70000;
	setup_refused(&o, TETHER_EXIT_CONFIG, "port 70000 is not a remote port");
}

static void
test_setup_refuses_a_bad_host_key_policy(void **state)
{
	struct api_setup_opts o;

	opts_valid(*state, &o);
	o.host_key_policy = "no\nExecStartPre=evil";
	setup_refused(&o, TETHER_EXIT_CONFIG, "--host-key-policy");
}

static void
test_setup_refuses_run_as_with_a_newline_in_system_mode(void **state)
{
	struct api_setup_opts o;

	opts_valid(*state, &o);
	o.mode = TETHER_MODE_SYSTEM;
	o.run_as = "ann\nExecStartPre=evil";
	setup_refused(&o, TETHER_EXIT_CONFIG, "--run-as '");
}

static void
test_setup_refuses_run_as_with_a_newline_in_user_mode(void **state)
{
	struct api_setup_opts o;

	opts_valid(*state, &o);
	o.run_as = "ann\nExecStartPre=evil";
	setup_refused(&o, TETHER_EXIT_CONFIG, "--run-as");
}

static void
test_setup_without_bastion_says_it_is_required(void **state)
{
	struct api_setup_opts o;

	opts_valid(*state, &o);
	o.bastion = NULL;
	setup_refused(&o, TETHER_EXIT_CONFIG, "bastion_server is required. "
	    "Provide it as an argument or set SCITEX_TUNNEL_BASTION_SERVER "
	    "environment variable.");
}

static void
test_setup_strict_without_a_known_bastion_key_is_a_host_key_error(void **state)
{
	struct api_setup_opts o;

	opts_valid(*state, &o);
	o.bastion = "tunnel@127.0.0.1:2201";
	setup_refused(&o, TETHER_EXIT_HOSTKEY, "has no key for the bastion");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_config_is_exactly_the_expected_file),
		cmocka_unit_test(test_render_config_brackets_ipv6_bastion_and_target),
		cmocka_unit_test(test_render_config_without_user_writes_no_at_sign),
		cmocka_unit_test(test_render_config_writes_accept_new_policy),
		cmocka_unit_test(test_render_config_reads_back_as_the_same_tunnel),
		cmocka_unit_test(test_render_config_ipv6_reads_back_as_the_same_tunnel),
		cmocka_unit_test(test_render_config_path_with_spaces_reads_back_whole),

		cmocka_unit_test(test_check_path_refuses_a_relative_path),
		cmocka_unit_test(test_check_path_refuses_a_newline),
		cmocka_unit_test(test_check_path_refuses_a_carriage_return),
		cmocka_unit_test(test_check_path_refuses_a_tab),
		cmocka_unit_test(test_check_path_refuses_other_control_characters),
		cmocka_unit_test(test_check_path_refuses_a_semicolon),
		cmocka_unit_test(test_check_path_refuses_a_hash),
		cmocka_unit_test(test_check_path_refuses_a_percent_specifier),
		cmocka_unit_test(test_check_path_refuses_a_dollar),
		cmocka_unit_test(test_check_path_refuses_a_backslash),
		cmocka_unit_test(test_check_path_refuses_double_quotes),
		cmocka_unit_test(test_check_path_refuses_single_quotes),
		cmocka_unit_test(test_check_path_refuses_a_backtick),
		cmocka_unit_test(test_check_path_refuses_a_trailing_space),
		cmocka_unit_test(test_check_path_refuses_more_than_180_characters),
		cmocka_unit_test(test_check_path_accepts_exactly_180_characters),
		cmocka_unit_test(test_check_path_accepts_ordinary_absolute_paths),
		cmocka_unit_test(test_check_path_accepts_spaces_inside),
		cmocka_unit_test(test_check_path_names_what_it_checked),

		cmocka_unit_test(test_render_dropin_is_exactly_user_and_group),

		cmocka_unit_test(test_render_template_system_replaces_every_bin_token),
		cmocka_unit_test(test_render_template_user_replaces_every_bin_token),
		cmocka_unit_test(test_render_template_system_runs_the_port_config),
		cmocka_unit_test(test_render_template_user_runs_the_home_config),
		cmocka_unit_test(test_render_template_escapes_specifiers_and_variables),
		cmocka_unit_test(test_render_cron_quotes_words_and_escapes_percent),
		cmocka_unit_test(test_render_command_quotes_only_words_sh_would_split),
		cmocka_unit_test(test_render_template_system_is_notify_with_watchdog_and_restarts),
		cmocka_unit_test(test_render_template_system_names_no_user),
		cmocka_unit_test(test_render_template_user_is_notify_with_watchdog_and_restarts),
		cmocka_unit_test(test_render_template_with_token_in_bin_does_not_loop),

		cmocka_unit_test_setup_teardown(test_setup_dry_run_of_valid_values_prints_the_daemon_plan, sandbox_setup, sandbox_teardown),
		cmocka_unit_test_setup_teardown(test_setup_dry_run_writes_nothing, sandbox_setup, sandbox_teardown),
		cmocka_unit_test_setup_teardown(test_setup_refuses_a_bastion_with_a_newline, sandbox_setup, sandbox_teardown),
		cmocka_unit_test_setup_teardown(test_setup_refuses_a_bastion_that_reads_as_an_option, sandbox_setup, sandbox_teardown),
		cmocka_unit_test_setup_teardown(test_setup_refuses_a_bastion_user_with_a_space, sandbox_setup, sandbox_teardown),
		cmocka_unit_test_setup_teardown(test_setup_refuses_a_key_path_with_a_newline, sandbox_setup, sandbox_teardown),
		cmocka_unit_test_setup_teardown(test_setup_refuses_a_key_path_with_a_semicolon, sandbox_setup, sandbox_teardown),
		cmocka_unit_test_setup_teardown(test_setup_refuses_a_missing_key_as_a_key_error, sandbox_setup, sandbox_teardown),
		cmocka_unit_test_setup_teardown(test_setup_refuses_a_key_others_can_read, sandbox_setup, sandbox_teardown),
		cmocka_unit_test_setup_teardown(test_setup_refuses_a_known_hosts_path_with_a_newline, sandbox_setup, sandbox_teardown),
		cmocka_unit_test_setup_teardown(test_setup_refuses_a_target_with_spaces, sandbox_setup, sandbox_teardown),
		cmocka_unit_test_setup_teardown(test_setup_refuses_a_target_that_reads_as_an_option, sandbox_setup, sandbox_teardown),
		cmocka_unit_test_setup_teardown(test_setup_refuses_port_0, sandbox_setup, sandbox_teardown),
		cmocka_unit_test_setup_teardown(test_setup_refuses_port_70000, sandbox_setup, sandbox_teardown),
		cmocka_unit_test_setup_teardown(test_setup_refuses_a_bad_host_key_policy, sandbox_setup, sandbox_teardown),
		cmocka_unit_test_setup_teardown(test_setup_refuses_run_as_with_a_newline_in_system_mode, sandbox_setup, sandbox_teardown),
		cmocka_unit_test_setup_teardown(test_setup_refuses_run_as_with_a_newline_in_user_mode, sandbox_setup, sandbox_teardown),
		cmocka_unit_test_setup_teardown(test_setup_without_bastion_says_it_is_required, sandbox_setup, sandbox_teardown),
		cmocka_unit_test_setup_teardown(test_setup_strict_without_a_known_bastion_key_is_a_host_key_error, sandbox_setup, sandbox_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
