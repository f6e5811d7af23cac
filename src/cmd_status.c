/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* tether status: every tunnel on this machine, once or live (--watch). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "status_watch.h"

enum status_opt {
	T_PORT = 1,
	T_JSON,
	T_WATCH,
	T_USER,
	T_SYSTEM,
	T_HELP,
};

static const struct cli_option status_options[] = {
	{ T_PORT, 'p', "port", "PORT", "only this tunnel" },
	{ T_JSON, 0, "json", NULL, "print JSON" },
	{ T_WATCH, 'w', "watch", NULL,
	    "draw it again on every change, until Ctrl-C (for a tmux pane)" },
	{ T_USER, 0, "user", NULL, "only user tunnels" },
	{ T_SYSTEM, 0, "system", NULL, "only system tunnels" },
	{ T_HELP, 'h', "help", NULL, "show this help" },
	{ 0, 0, NULL, NULL, NULL },
};

static void
cmd_status_help(void)
{
	printf(
	    "usage: tether status [-p PORT] [--json] [--watch] "
	    "[--user|--system]\n\n"
	    "Every tunnel on this machine. Exit 0 only when each listed tunnel "
	    "forwards.\n\n");
	cli_print_options(stdout, status_options);
}

struct status_args {
	struct api_status_opts o;
	int json;
	int watch;
};

static int
status_apply(int id, const char *arg, void *ctx)
{
	struct status_args *a = ctx;

	switch (id) {
	case T_PORT:
		return cli_port_arg("-p", arg, &a->o.port);
	case T_JSON:
		a->json = 1;
		return 0;
	case T_WATCH:
		a->watch = 1;
		return 0;
	case T_USER:
	case T_SYSTEM:
		a->o.all_modes = 0;
		a->o.mode = id == T_USER ? TETHER_MODE_USER :
		                           TETHER_MODE_SYSTEM;
		return 0;
	default:
		return 0;
	}
}

static int
cmd_status(int argc, char **argv)
{
	struct status_args a;
	struct api_result r;
	int rc;

	memset(&a, 0, sizeof a);
	a.o.all_modes = 1;
	if (cli_parse_verb(argc, argv, status_options, T_HELP, status_apply, &a,
	        cmd_status_help, &rc))
		return rc;
	a.o.colour = !a.json && isatty(STDOUT_FILENO) &&
	    getenv("NO_COLOR") == NULL;
	if (a.watch)
		return status_watch(&a.o, a.json);
	api_status(&a.o, &r);
	return cmd_print_result(&r, a.json);
}

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.alias = "show-status",
	.summary = "show every tunnel on this machine",
	.exec = cmd_status,
	.help = cmd_status_help,
	.seed_usage = "[-p PORT]",
};
