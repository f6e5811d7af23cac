/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* tether setup: install a tunnel as a service, over api_setup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"

enum setup_opt {
	S_PORT = 1,
	S_BASTION,
	S_KEY,
	S_TARGET,
	S_KNOWN_HOSTS,
	S_POLICY,
	S_HOST_KEY,
	S_RUN_AS,
	S_USER,
	S_DRY_RUN,
	S_NO_START,
	S_WAIT,
	S_HELP,
	S_JUMP,
};

static const struct cli_option setup_options[] = {
	{ S_PORT, 'p', "port", "PORT",
	    "remote port on the bastion (required)" },
	{ S_BASTION, 'b', "bastion", "[USER@]HOST[:PORT]",
	    "the bastion (or $TETHER_BASTION / $SCITEX_TUNNEL_BASTION_SERVER); "
	    "again for one to fail over to" },
	{ S_KEY, 's', "secret-key", "PATH",
	    "private key (or $TETHER_KEY / $SCITEX_TUNNEL_SECRET_KEY_PATH)" },
	{ S_KEY, 0, "key", "PATH", "same as --secret-key" },
	{ S_TARGET, 't', "target", "HOST:PORT",
	    "local target (default localhost:22)" },
	{ S_JUMP, 'J', "jump", "[USER@]HOST[:PORT][,...]",
	    "reach the bastion through these jump hosts, as ssh -J" },
	{ S_KNOWN_HOSTS, 0, "known-hosts", "FILE",
	    "default: the service user's ~/.ssh/known_hosts" },
	{ S_POLICY, 0, "host-key-policy", "strict|accept-new",
	    "default strict" },
	{ S_HOST_KEY, 0, "host-key", "SHA256:...",
	    "pin the bastion's key (no known_hosts entry needed)" },
	{ S_RUN_AS, 0, "run-as", "USER",
	    "system mode: the service user (default: the sudo caller)" },
	{ S_USER, 0, "user", NULL,
	    "no sudo: systemctl --user, or a daemon where there is no systemd" },
	{ S_DRY_RUN, 'n', "dry-run", NULL,
	    "print every file and command, change nothing" },
	{ S_NO_START, 0, "no-start", NULL, "install and enable, do not start" },
	{ S_WAIT, 0, "wait", "SECONDS",
	    "how long to wait for the tunnel (default 20)" },
	{ S_HELP, 'h', "help", NULL, "show this help" },
	{ 0, 0, NULL, NULL, NULL },
};

static void
cmd_setup_help(void)
{
	printf(
	    "usage: tether setup -p PORT -b USER@HOST -s KEY [options]\n\n"
	    "Install a tunnel as tether@PORT.service (or, with --user, a user "
	    "service or a\nbackground daemon), start it and wait until it "
	    "forwards.\n\n");
	cli_print_options(stdout, setup_options);
}

/* The options, and the bastions of repeated -b joined as "a, b". */
struct setup_cli {
	struct api_setup_opts o;
	char bastions[CONFIG_BASTIONS_MAX *
	    (SPEC_USER_MAX + SPEC_HOST_MAX + 16)];
};

/* -b again adds a bastion to fail over to, as run's does. */
static int
setup_add_bastion(struct setup_cli *cli, const char *arg)
{
	size_t len = strlen(cli->bastions);

	if ((size_t)snprintf(cli->bastions + len, sizeof cli->bastions - len,
	        "%s%s", len > 0 ? ", " : "",
	        arg) >= sizeof cli->bastions - len) {
		fprintf(stderr,
		    "tether: -b: more bastions than tether takes (%d)\n",
		    CONFIG_BASTIONS_MAX);
		return -1;
	}
	cli->o.bastion = cli->bastions;
	return 0;
}

/* Options that only name a string, by where they go. */
static const char **
setup_string_of(struct api_setup_opts *o, int id)
{
	switch (id) {
	case S_KEY:
		return &o->key_path;
	case S_TARGET:
		return &o->target;
	case S_KNOWN_HOSTS:
		return &o->known_hosts;
	case S_POLICY:
		return &o->host_key_policy;
	case S_HOST_KEY:
		return &o->host_key;
	case S_RUN_AS:
		return &o->run_as;
	case S_JUMP:
		return &o->proxy_jump;
	default:
		return NULL;
	}
}

static int
setup_apply(int id, const char *arg, void *ctx)
{
	struct setup_cli *cli = ctx;
	struct api_setup_opts *o = &cli->o;
	const char **dst = setup_string_of(o, id);

	if (dst != NULL) {
		*dst = arg;
		return 0;
	}
	switch (id) {
	case S_BASTION:
		return setup_add_bastion(cli, arg);
	case S_PORT:
		return cli_port_arg("-p", arg, &o->port);
	case S_USER:
		o->mode = TETHER_MODE_USER;
		return 0;
	case S_DRY_RUN:
		o->dry_run = 1;
		return 0;
	case S_NO_START:
		o->no_start = 1;
		return 0;
	case S_WAIT:
		return cli_int_arg("--wait", arg, 1, 3600, "seconds",
		    &o->wait_seconds);
	default:
		return 0;
	}
}

static int
cmd_setup(int argc, char **argv)
{
	struct setup_cli cli;
	struct api_setup_opts *o = &cli.o;
	struct api_result r;
	int rc;

	memset(&cli, 0, sizeof cli);
	o->mode = TETHER_MODE_SYSTEM;
	if (cli_parse_verb(argc, argv, setup_options, S_HELP, setup_apply, &cli,
	        cmd_setup_help, &rc))
		return rc;
	if (o->port == 0) {
		fprintf(stderr,
		    "tether: setup needs -p PORT, the remote port on the "
		    "bastion\n");
		return TETHER_EXIT_USAGE;
	}
	api_setup(o, &r);
	return cmd_print_result(&r, 0);
}

const struct cmd_entry cmd_setup_entry = {
	.name = "setup",
	.alias = "setup-tunnel",
	.summary =
	    "install a tunnel as a service (system, --user, or a daemon)",
	.exec = cmd_setup,
	.help = cmd_setup_help,
	.seed_usage = "-p PORT -b USER@HOST -s KEY",
	.seed_codes = 1,
};
