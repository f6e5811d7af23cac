/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* tether setup | status | remove: the command lines over the C API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops.h"
#include "api.h"
#include "status_watch.h"
#include "cli.h"
#include "commands.h"
#include "spec.h"

enum manage_opt {
	M_PORT = 1,
	M_BASTION,
	M_KEY,
	M_TARGET,
	M_KNOWN_HOSTS,
	M_POLICY,
	M_HOST_KEY,
	M_RUN_AS,
	M_USER,
	M_SYSTEM,
	M_DRY_RUN,
	M_NO_START,
	M_WAIT,
	M_JSON,
	M_WATCH,
	M_HELP,
};

static const struct cli_option setup_options[] = {
	{ M_PORT, 'p', "port", "PORT",
	    "remote port on the bastion (required)" },
	{ M_BASTION, 'b', "bastion", "[USER@]HOST[:PORT]",
	    "the bastion (or $TETHER_BASTION / $SCITEX_TUNNEL_BASTION_SERVER)" },
	{ M_KEY, 's', "secret-key", "PATH",
	    "private key (or $TETHER_KEY / $SCITEX_TUNNEL_SECRET_KEY_PATH)" },
	{ M_KEY, 0, "key", "PATH", "same as --secret-key" },
	{ M_TARGET, 't', "target", "HOST:PORT",
	    "local target (default localhost:22)" },
	{ M_KNOWN_HOSTS, 0, "known-hosts", "FILE",
	    "default: the service user's ~/.ssh/known_hosts" },
	{ M_POLICY, 0, "host-key-policy", "strict|accept-new",
	    "default strict" },
	{ M_HOST_KEY, 0, "host-key", "SHA256:...",
	    "pin the bastion's key (no known_hosts entry needed)" },
	{ M_RUN_AS, 0, "run-as", "USER",
	    "system mode: the service user (default: the sudo caller)" },
	{ M_USER, 0, "user", NULL,
	    "no sudo: systemctl --user, or a daemon where there is no systemd" },
	{ M_DRY_RUN, 'n', "dry-run", NULL,
	    "print every file and command, change nothing" },
	{ M_NO_START, 0, "no-start", NULL, "install and enable, do not start" },
	{ M_WAIT, 0, "wait", "SECONDS",
	    "how long to wait for the tunnel (default 20)" },
	{ M_HELP, 'h', "help", NULL, "show this help" },
	{ 0, 0, NULL, NULL, NULL },
};

static const struct cli_option status_options[] = {
	{ M_PORT, 'p', "port", "PORT", "only this tunnel" },
	{ M_JSON, 0, "json", NULL, "print JSON" },
	{ M_WATCH, 'w', "watch", NULL,
	    "draw it again on every change, until Ctrl-C (for a tmux pane)" },
	{ M_USER, 0, "user", NULL, "only user tunnels" },
	{ M_SYSTEM, 0, "system", NULL, "only system tunnels" },
	{ M_HELP, 'h', "help", NULL, "show this help" },
	{ 0, 0, NULL, NULL, NULL },
};

static const struct cli_option remove_options[] = {
	{ M_PORT, 'p', "port", "PORT", "the tunnel to remove (required)" },
	{ M_USER, 0, "user", NULL, "a user tunnel (systemd --user or daemon)" },
	{ M_DRY_RUN, 'n', "dry-run", NULL, "print what would be removed" },
	{ M_HELP, 'h', "help", NULL, "show this help" },
	{ 0, 0, NULL, NULL, NULL },
};

void
cmd_setup_help(void)
{
	printf(
	    "usage: tether setup -p PORT -b USER@HOST -s KEY [options]\n\n"
	    "Install a tunnel as tether@PORT.service (or, with --user, a user "
	    "service or a\nbackground daemon), start it and wait until it "
	    "forwards.\n\n");
	cli_print_options(stdout, setup_options);
}

void
cmd_status_help(void)
{
	printf(
	    "usage: tether status [-p PORT] [--json] [--watch] "
	    "[--user|--system]\n\n"
	    "Every tunnel on this machine. Exit 0 only when each listed tunnel "
	    "forwards.\n\n");
	cli_print_options(stdout, status_options);
}

void
cmd_remove_help(void)
{
	printf(
	    "usage: tether remove -p PORT [--user] [--dry-run]\n\n"
	    "Stop, disable and delete a tunnel and everything setup wrote for "
	    "it.\n\n");
	cli_print_options(stdout, remove_options);
}

static int
manage_port(const char *arg, int *port)
{
	if (spec_parse_port(arg, 1, port) == -1) {
		fprintf(stderr,
		    "tether: -p '%s': the port must be a number from "
		    "1 to 65535\n",
		    arg);
		return -1;
	}
	return 0;
}

static int
manage_print(struct api_result *r, int json)
{
	int rc = r->exit_code;

	if (json && r->json != NULL)
		printf("%s\n", r->json);
	else
		fputs(r->out, stdout);
	fputs(r->err, stderr);
	api_result_free(r);
	return rc;
}

/*
 * Parses argv against opts; each option but --help goes to apply(). Returns
 * 0 to go on, or 1 to stop with *rc: a usage error, or the help shown.
 */
struct setup_args {
	struct api_setup_opts o;
};

static int
setup_apply(int id, const char *arg, void *ctx)
{
	struct setup_args *a = ctx;
	char *end;

	switch (id) {
	case M_PORT:
		return manage_port(arg, &a->o.port);
	case M_BASTION:
		a->o.bastion = arg;
		return 0;
	case M_KEY:
		a->o.key_path = arg;
		return 0;
	case M_TARGET:
		a->o.target = arg;
		return 0;
	case M_KNOWN_HOSTS:
		a->o.known_hosts = arg;
		return 0;
	case M_POLICY:
		a->o.host_key_policy = arg;
		return 0;
	case M_HOST_KEY:
		a->o.host_key = arg;
		return 0;
	case M_RUN_AS:
		a->o.run_as = arg;
		return 0;
	case M_USER:
		a->o.mode = TETHER_MODE_USER;
		return 0;
	case M_DRY_RUN:
		a->o.dry_run = 1;
		return 0;
	case M_NO_START:
		a->o.no_start = 1;
		return 0;
	case M_WAIT:
		a->o.wait_seconds = (int)strtol(arg, &end, 10);
		if (*end != '\0' || a->o.wait_seconds < 1 ||
		    a->o.wait_seconds > 3600) {
			fprintf(stderr,
			    "tether: --wait '%s': give 1 to 3600 "
			    "seconds\n",
			    arg);
			return -1;
		}
		return 0;
	default:
		return 0;
	}
}

int
cmd_setup(int argc, char **argv)
{
	struct setup_args a;
	struct api_result r;
	int rc;

	memset(&a, 0, sizeof a);
	a.o.mode = TETHER_MODE_SYSTEM;
	if (cli_parse_verb(argc, argv, setup_options, M_HELP, setup_apply, &a,
	        cmd_setup_help, &rc))
		return rc;
	if (a.o.port == 0) {
		fprintf(stderr,
		    "tether: setup needs -p PORT, the remote port "
		    "on the bastion\n");
		return TETHER_EXIT_USAGE;
	}
	api_setup(&a.o, &r);
	return manage_print(&r, 0);
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
	case M_PORT:
		return manage_port(arg, &a->o.port);
	case M_JSON:
		a->json = 1;
		return 0;
	case M_WATCH:
		a->watch = 1;
		return 0;
	case M_USER:
	case M_SYSTEM:
		a->o.all_modes = 0;
		a->o.mode = id == M_USER ? TETHER_MODE_USER :
		                           TETHER_MODE_SYSTEM;
		return 0;
	default:
		return 0;
	}
}

int
cmd_status(int argc, char **argv)
{
	struct status_args a;
	struct api_result r;
	int rc;

	memset(&a, 0, sizeof a);
	a.o.all_modes = 1;
	if (cli_parse_verb(argc, argv, status_options, M_HELP, status_apply, &a,
	        cmd_status_help, &rc))
		return rc;
	a.o.colour = !a.json && isatty(STDOUT_FILENO) &&
	    getenv("NO_COLOR") == NULL;
	if (a.watch)
		return status_watch(&a.o, a.json);
	api_status(&a.o, &r);
	return manage_print(&r, a.json);
}

struct remove_args {
	struct api_remove_opts o;
};

static int
remove_apply(int id, const char *arg, void *ctx)
{
	struct remove_args *a = ctx;

	switch (id) {
	case M_PORT:
		return manage_port(arg, &a->o.port);
	case M_USER:
		a->o.mode = TETHER_MODE_USER;
		return 0;
	case M_DRY_RUN:
		a->o.dry_run = 1;
		return 0;
	default:
		return 0;
	}
}

/* remove's command line into a; -1 to stop with *rc. */
static int
remove_parse(int argc, char **argv, struct remove_args *a, int *rc)
{
	memset(a, 0, sizeof *a);
	a->o.mode = TETHER_MODE_SYSTEM;
	if (cli_parse_verb(argc, argv, remove_options, M_HELP, remove_apply, a,
	        cmd_remove_help, rc))
		return -1;
	if (a->o.port == 0) {
		fprintf(stderr, "tether: remove needs -p PORT\n");
		*rc = TETHER_EXIT_USAGE;
		return -1;
	}
	return 0;
}

int
cmd_remove(int argc, char **argv)
{
	struct remove_args a;
	struct api_result r;
	int rc;

	if (remove_parse(argc, argv, &a, &rc) == -1)
		return rc;
	api_remove(&a.o, &r);
	return manage_print(&r, 0);
}

int
cmd_remove_seed(int argc, char **argv)
{
	struct remove_args a;
	struct api_result r;
	int rc;

	if (remove_parse(argc, argv, &a, &rc) == -1)
		return rc;
	/* The seed's remove exited 0 with nothing there; tether's says 1. */
	if (!remove_finds_tunnel(&a.o)) {
		printf("No tunnel on port %d to remove.\n", a.o.port);
		return TETHER_EXIT_OK;
	}
	api_remove(&a.o, &r);
	return manage_print(&r, 0);
}
