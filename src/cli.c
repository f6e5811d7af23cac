/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tether/exit.h"
#include "cli.h"
#include "spec.h"

void
cli_parser_init(struct cli_parser *p, int argc, char **argv)
{
	memset(p, 0, sizeof *p);
	p->argc = argc;
	p->argv = argv;
}

static const struct cli_option *
cli_find_short(const struct cli_option *opts, char c)
{
	for (; opts->id != 0; opts++) {
		if (opts->short_name == c)
			return opts;
	}
	return NULL;
}

static const struct cli_option *
cli_find_long(const struct cli_option *opts, const char *name, size_t len)
{
	for (; opts->id != 0; opts++) {
		if (opts->long_name != NULL && strlen(opts->long_name) == len &&
		    strncmp(opts->long_name, name, len) == 0)
			return opts;
	}
	return NULL;
}

static int
cli_take_arg(struct cli_parser *p, const struct cli_option *o, const char **arg,
    const char *shown, struct error *err)
{
	if (p->index >= p->argc) {
		error_set(err, TETHER_EXIT_USAGE,
		    "option %s needs an argument (%s)", shown, o->arg);
		return CLI_ERROR;
	}
	*arg = p->argv[p->index++];
	return o->id;
}

static int
cli_next_short(struct cli_parser *p, const struct cli_option *opts,
    const char **arg, struct error *err)
{
	const struct cli_option *o;
	char shown[3] = { '-', *p->cluster, '\0' };

	o = cli_find_short(opts, *p->cluster);
	if (o == NULL) {
		error_set(err, TETHER_EXIT_USAGE,
		    "unknown option -%c; see --help", *p->cluster);
		return CLI_ERROR;
	}
	p->cluster++;
	if (o->arg == NULL) {
		if (*p->cluster == '\0')
			p->cluster = NULL;
		*arg = NULL;
		return o->id;
	}
	if (*p->cluster != '\0') {
		*arg = p->cluster;
		p->cluster = NULL;
		return o->id;
	}
	p->cluster = NULL;
	return cli_take_arg(p, o, arg, shown, err);
}

static int
cli_next_long(struct cli_parser *p, const struct cli_option *opts,
    const char *word, const char **arg, struct error *err)
{
	const struct cli_option *o;
	const char *eq = strchr(word, '=');
	size_t len = eq != NULL ? (size_t)(eq - word) : strlen(word);

	o = cli_find_long(opts, word, len);
	if (o == NULL) {
		error_set(err, TETHER_EXIT_USAGE,
		    "unknown option --%.*s; see --help",
		    (int)(len > 64 ? 64 : len), word);
		return CLI_ERROR;
	}
	if (o->arg == NULL) {
		if (eq != NULL) {
			error_set(err, TETHER_EXIT_USAGE,
			    "option --%s takes no argument", o->long_name);
			return CLI_ERROR;
		}
		*arg = NULL;
		return o->id;
	}
	if (eq != NULL) {
		*arg = eq + 1;
		return o->id;
	}
	return cli_take_arg(p, o, arg, word - 2, err);
}

int
cli_next(struct cli_parser *p, const struct cli_option *opts, const char **arg,
    struct error *err)
{
	const char *word;

	if (p->cluster != NULL)
		return cli_next_short(p, opts, arg, err);
	if (p->index >= p->argc)
		return CLI_END;
	word = p->argv[p->index++];
	if (p->only_operands || word[0] != '-' || word[1] == '\0') {
		*arg = word;
		return CLI_OPERAND;
	}
	if (strcmp(word, "--") == 0) {
		p->only_operands = 1;
		return cli_next(p, opts, arg, err);
	}
	if (word[1] == '-')
		return cli_next_long(p, opts, word + 2, arg, err);
	p->cluster = word + 1;
	return cli_next_short(p, opts, arg, err);
}

void
cli_print_options(FILE *out, const struct cli_option *o)
{
	char left[64];

	for (; o->id != 0; o++) {
		if (o->short_name != 0)
			snprintf(left, sizeof left, "-%c, --%s%s%s",
			    o->short_name, o->long_name, o->arg ? " " : "",
			    o->arg ? o->arg : "");
		else
			snprintf(left, sizeof left, "    --%s%s%s",
			    o->long_name, o->arg ? " " : "",
			    o->arg ? o->arg : "");
		fprintf(out, "  %-34s %s\n", left, o->help);
	}
}

const struct cli_option cli_run_options[] = {
	{ RUN_OPT_PORT, 'p', "port", "PORT",
	    "remote port on the bastion (forwards to --target)" },
	{ RUN_OPT_CONFIG, 'c', "config", "FILE",
	    "INI file with a [tunnel] section" },
	CLI_TUNNEL_OPTIONS,
	{ RUN_OPT_CHECK, 0, "check", NULL,
	    "check the configuration and key, then exit" },
	{ RUN_OPT_DAEMON, 'd', "daemon", NULL,
	    "run in the background (pidfile with a lock, log file)" },
	{ RUN_OPT_PIDFILE, 0, "pidfile", "FILE",
	    "with --daemon (default RUNTIME_DIR/NAME.pid)" },
	{ RUN_OPT_LOGFILE, 0, "log-file", "FILE",
	    "with --daemon (default RUNTIME_DIR/NAME.log)" },
	{ RUN_OPT_HELP, 'h', "help", NULL, "show this help" },
	{ 0, 0, NULL, NULL, NULL },
};

void
cli_print_run_help(FILE *out)
{
	fprintf(out,
	    "usage: tether run [options]\n\n"
	    "Keep a reverse SSH tunnel to a bastion open in the foreground.\n"
	    "Precedence: flags > environment > config file > defaults.\n\n");
	cli_print_options(out, cli_run_options);
	fprintf(out,
	    "\nEnvironment: TETHER_BASTION, TETHER_KEY, TETHER_DEBUG "
	    "(and SCITEX_TUNNEL_BASTION_SERVER,\n"
	    "SCITEX_TUNNEL_SECRET_KEY_PATH, SCITEX_TUNNEL_DEBUG_MODE), "
	    "SSH_AUTH_SOCK.\n");
}

/* First pass: syntax, --help and the config file's path. */
static int
cli_scan_run(int argc, char **argv, const char **config_path, int *help,
    struct error *err)
{
	struct cli_parser p;
	const char *arg;
	int id;

	cli_parser_init(&p, argc, argv);
	while ((id = cli_next(&p, cli_run_options, &arg, err)) != CLI_END) {
		if (id == CLI_ERROR)
			return -1;
		if (id == CLI_OPERAND) {
			error_set(err, TETHER_EXIT_USAGE,
			    "unexpected argument '%s'; see tether run --help",
			    arg);
			return -1;
		}
		if (id == RUN_OPT_CONFIG)
			*config_path = arg;
		if (id == RUN_OPT_HELP)
			*help = 1;
	}
	return 0;
}

int
cli_apply_tunnel_flag(struct tether_config *cfg, int id, const char *arg,
    struct cli_seen *seen, struct error *err)
{
	/* Only options with an argument read arg; give the others "". */
	if (arg == NULL)
		arg = "";
	switch (id) {
	case RUN_OPT_CHECK:
	case RUN_OPT_DAEMON:
	case RUN_OPT_PIDFILE:
	case RUN_OPT_LOGFILE:
		return 0; /* how to run, not what: see cli_apply_run_mode */
	case RUN_OPT_STATE_DIR:
		return config_set_path(cfg, cfg->state_dir, arg, "--state-dir",
		    err);
	case RUN_OPT_PORT:
		if (spec_parse_port(arg, 0, &cfg->port) == -1) {
			error_set(err, TETHER_EXIT_USAGE,
			    "-p '%s': the remote "
			    "port must be a number from 0 to 65535",
			    arg);
			return -1;
		}
		return 0;
	case RUN_OPT_BASTION:
		/* -b again adds a bastion to fail over to. */
		if (seen->bastions++ == 0)
			return config_set_bastion(cfg, arg, "-b", err);
		return config_add_bastion(cfg, arg, "-b", err);
	case RUN_OPT_KEY:
		return config_set_path(cfg, cfg->key_path, arg, "-s", err);
	case RUN_OPT_TARGET:
		return spec_parse_target(arg, cfg->target_host,
		    &cfg->target_port, err);
	case RUN_OPT_REMOTE:
		/* Forwards on the command line replace the file's. */
		if (seen->remotes++ == 0)
			cfg->nforwards = 0;
		return config_add_forward(cfg, arg, "-R", err);
	case RUN_OPT_KNOWN_HOSTS:
		return config_set_path(cfg, cfg->known_hosts, arg,
		    "--known-hosts", err);
	case RUN_OPT_SSH_CONFIG:
		return config_set_ssh_config(cfg, arg, "-F", err);
	case RUN_OPT_IPV4:
	case RUN_OPT_IPV6:
		return config_set_address_family(cfg,
		    id == RUN_OPT_IPV4 ? "inet" : "inet6", "-4/-6", err);
	case RUN_OPT_JUMP:
		return config_set_proxy_jump(cfg, arg, "-J", err);
	case RUN_OPT_POLICY:
		return config_set_policy(cfg, arg, "--host-key-policy", err);
	case RUN_OPT_HOST_KEY:
		return config_set_host_key_pin(cfg, arg, "--host-key", err);
	case RUN_OPT_NAME: {
		char assignment[LOG_NAME_MAX + 8];

		snprintf(assignment, sizeof assignment, "name=%s", arg);
		return config_set_option(cfg, assignment, err);
	}
	case RUN_OPT_OPTION:
		/* -o forward=SPEC adds a forward, as -R does. */
		if (strncmp(arg, "forward=", 8) == 0)
			return cli_apply_tunnel_flag(cfg, RUN_OPT_REMOTE,
			    arg + 8, seen, err);
		return config_set_option(cfg, arg, err);
	case RUN_OPT_VERBOSE:
		cfg->verbose = 1;
		return 0;
	default:
		return 0;
	}
}

static int
cli_apply_run_mode(struct run_request *req, int id, const char *arg,
    struct error *err)
{
	char *dst;

	switch (id) {
	case RUN_OPT_CHECK:
		req->check = 1;
		return 0;
	case RUN_OPT_DAEMON:
		req->daemon = 1;
		return 0;
	case RUN_OPT_PIDFILE:
	case RUN_OPT_LOGFILE:
		dst = id == RUN_OPT_PIDFILE ? req->pidfile : req->logfile;
		return config_set_path(&req->cfg, dst, arg,
		    id == RUN_OPT_PIDFILE ? "--pidfile" : "--log-file", err);
	default:
		return 0;
	}
}

int
cli_parse_run(int argc, char **argv, env_lookup_fn lookup, void *env_ctx,
    struct run_request *req, struct error *err)
{
	struct tether_config *cfg = &req->cfg;
	const char *config_path = NULL, *arg;
	struct cli_parser p;
	struct cli_seen seen = { 0, 0 };
	int id;

	memset(req, 0, sizeof *req);
	if (cli_scan_run(argc, argv, &config_path, &req->help, err) == -1)
		return -1;
	if (req->help)
		return 0;
	config_init_defaults(cfg, lookup("HOME", env_ctx));
	if (config_path != NULL &&
	    config_load_file(cfg, config_path, err) == -1)
		return -1;
	if (config_apply_env(cfg, lookup, env_ctx, err) == -1)
		return -1;
	cli_parser_init(&p, argc, argv);
	while ((id = cli_next(&p, cli_run_options, &arg, err)) != CLI_END) {
		/* The scan passed, so this cannot fail; say so if it does. */
		if (id == CLI_ERROR || id == CLI_OPERAND)
			return -1;
		if (cli_apply_tunnel_flag(cfg, id, arg, &seen, err) == -1 ||
		    cli_apply_run_mode(req, id, arg, err) == -1)
			return -1;
	}
	return config_finish(cfg, err);
}

int
cli_parse_verb(int argc, char **argv, const struct cli_option *opts,
    int help_id, int (*apply)(int id, const char *arg, void *ctx), void *ctx,
    void (*help)(void), int *rc)
{
	struct cli_parser p;
	struct error err;
	const char *arg;
	int id, wants_help = 0;

	error_clear(&err);
	cli_parser_init(&p, argc, argv);
	while ((id = cli_next(&p, opts, &arg, &err)) != CLI_END) {
		*rc = TETHER_EXIT_USAGE;
		if (id == CLI_ERROR) {
			fprintf(stderr, "tether: %s\n", err.msg);
			return 1;
		}
		if (id == CLI_OPERAND) {
			fprintf(stderr,
			    "tether: unexpected argument '%s'; see --help\n",
			    arg);
			return 1;
		}
		if (id == help_id)
			wants_help = 1;
		else if (apply(id, arg, ctx) == -1)
			return 1;
	}
	*rc = TETHER_EXIT_OK;
	if (wants_help)
		help();
	return wants_help;
}

int
cli_port_arg(const char *flag, const char *arg, int *port)
{
	if (spec_parse_port(arg, 1, port) == 0)
		return 0;
	fprintf(stderr,
	    "tether: %s '%s': the port must be a number from 1 to 65535\n",
	    flag, arg);
	return -1;
}

int
cli_int_arg(const char *flag, const char *arg, long lo, long hi,
    const char *unit, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (*arg != '\0' && *end == '\0' && errno == 0 && v >= lo && v <= hi) {
		*out = (int)v;
		return 0;
	}
	fprintf(stderr, "tether: %s '%s': give %ld to %ld %s\n", flag, arg, lo,
	    hi, unit);
	return -1;
}
