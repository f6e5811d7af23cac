/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* tether remove: stop a tunnel and delete what setup wrote, over api_remove. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "cli.h"
#include "cmd.h"

enum remove_opt {
	R_PORT = 1,
	R_USER,
	R_DRY_RUN,
	R_HELP,
};

static const struct cli_option remove_options[] = {
	{ R_PORT, 'p', "port", "PORT", "the tunnel to remove (required)" },
	{ R_USER, 0, "user", NULL, "a user tunnel (systemd --user or daemon)" },
	{ R_DRY_RUN, 'n', "dry-run", NULL, "print what would be removed" },
	{ R_HELP, 'h', "help", NULL, "show this help" },
	{ 0, 0, NULL, NULL, NULL },
};

static void
cmd_remove_help(void)
{
	printf(
	    "usage: tether remove -p PORT [--user] [--dry-run]\n\n"
	    "Stop, disable and delete a tunnel and everything setup wrote for "
	    "it.\n\n");
	cli_print_options(stdout, remove_options);
}

static int
remove_apply(int id, const char *arg, void *ctx)
{
	struct api_remove_opts *o = ctx;

	switch (id) {
	case R_PORT:
		return cli_port_arg("-p", arg, &o->port);
	case R_USER:
		o->mode = TETHER_MODE_USER;
		return 0;
	case R_DRY_RUN:
		o->dry_run = 1;
		return 0;
	default:
		return 0;
	}
}

/* remove's command line into o; -1 to stop with *rc. */
static int
remove_parse(int argc, char **argv, struct api_remove_opts *o, int *rc)
{
	memset(o, 0, sizeof *o);
	o->mode = TETHER_MODE_SYSTEM;
	if (cli_parse_verb(argc, argv, remove_options, R_HELP, remove_apply, o,
	        cmd_remove_help, rc))
		return -1;
	if (o->port == 0) {
		fprintf(stderr, "tether: remove needs -p PORT\n");
		*rc = TETHER_EXIT_USAGE;
		return -1;
	}
	return 0;
}

static int
remove_run(const struct api_remove_opts *o)
{
	struct api_result r;

	api_remove(o, &r);
	return cmd_print_result(&r, 0);
}

static int
cmd_remove(int argc, char **argv)
{
	struct api_remove_opts o;
	int rc;

	if (remove_parse(argc, argv, &o, &rc) == -1)
		return rc;
	return remove_run(&o);
}

/* Under the seed's name: nothing on the port is exit 0, as there. */
static int
cmd_remove_seed(int argc, char **argv)
{
	struct api_remove_opts o;
	int rc;

	if (remove_parse(argc, argv, &o, &rc) == -1)
		return rc;
	if (!remove_finds_tunnel(&o)) {
		printf("No tunnel on port %d to remove.\n", o.port);
		return TETHER_EXIT_OK;
	}
	return remove_run(&o);
}

const struct cmd_entry cmd_remove_entry = {
	.name = "remove",
	.alias = "remove-tunnel",
	.summary = "stop and uninstall a tunnel",
	.exec = cmd_remove,
	.help = cmd_remove_help,
	.seed_usage = "-p PORT",
	.seed_exec = cmd_remove_seed,
	.seed_codes = 1,
};
