/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Under the name scitex-tunnel, tether accepts the seed tool's command
 * lines unchanged: its verbs (and their later names), -V, and its exit
 * codes (setup and remove: 0 or 1; usage errors: 2).
 */
#include <stdio.h>
#include <string.h>

#include "tether/exit.h"
#include "commands.h"
#include "mcp.h"

struct seed_verb {
	const char *name;
	const char *alias;
	int (*run)(int, char **);
};

/* The seed's version: scripts that read `scitex-tunnel -V` see it. */
#define SEED_VERSION "0.2.3"

static int
seed_mcp(int argc, char **argv)
{
	return mcp_main_as("scitex-tunnel", argc, argv);
}

static const struct seed_verb seed_verbs[] = {
	{ "setup", "setup-tunnel", cmd_setup },
	{ "remove", "remove-tunnel", cmd_remove_seed },
	{ "status", "show-status", cmd_status },
	{ "mcp", NULL, seed_mcp },
	{ "list-python-apis", NULL, cmd_list_apis },
	/* tether's own, for whoever moves off the seed's units by its name. */
	{ "migrate", NULL, cmd_migrate },
	{ "doctor", NULL, cmd_doctor },
};

static void
seed_usage(FILE *out)
{
	fprintf(out,
	    "usage: scitex-tunnel [-h] [-V] [--help-recursive] "
	    "<command> ...\n\ncommands:\n"
	    "  setup (setup-tunnel)    -p PORT -b USER@HOST -s KEY\n"
	    "  remove (remove-tunnel)  -p PORT\n"
	    "  status (show-status)    [-p PORT]\n"
	    "  mcp                     start | list-tools | installation | "
	    "doctor\n"
	    "  list-python-apis        [-v|-vv]\n"
	    "  migrate                 replace autossh-tunnel-PORT units "
	    "with tether's\n"
	    "  doctor                  check a tunnel end to end\n\n"
	    "This is tether %s answering to the scitex-tunnel name; see "
	    "tether --help.\n",
	    TETHER_VERSION);
}

/* The seed knows two outcomes for a change: it worked, or it did not. */
static int
seed_exit_code(int rc)
{
	if (rc == TETHER_EXIT_OK || rc == TETHER_EXIT_USAGE)
		return rc;
	return TETHER_EXIT_FAILURE;
}

int
seed_main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		seed_usage(stderr);
		return TETHER_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("scitex-tunnel %s (tether %s, compatible with "
		       "scitex-tunnel %s)\n",
		    SEED_VERSION, TETHER_VERSION, SEED_VERSION);
		return TETHER_EXIT_OK;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		seed_usage(stdout);
		return TETHER_EXIT_OK;
	}
	if (strcmp(argv[1], "--help-recursive") == 0) {
		seed_usage(stdout);
		printf("\n==== setup ====\n");
		fflush(stdout);
		cmd_setup_help();
		printf("\n==== remove ====\n");
		fflush(stdout);
		cmd_remove_help();
		printf("\n==== status ====\n");
		fflush(stdout);
		cmd_status_help();
		return TETHER_EXIT_OK;
	}
	for (i = 0; i < sizeof seed_verbs / sizeof seed_verbs[0]; i++) {
		if (strcmp(argv[1], seed_verbs[i].name) == 0 ||
		    (seed_verbs[i].alias != NULL &&
		        strcmp(argv[1], seed_verbs[i].alias) == 0)) {
			int rc = seed_verbs[i].run(argc - 2, argv + 2);

			/* Only setup and remove had the seed's 0-or-1 codes. */
			return seed_verbs[i].run == cmd_setup ||
			        seed_verbs[i].run == cmd_remove_seed ?
			    seed_exit_code(rc) :
			    rc;
		}
	}
	fprintf(stderr,
	    "scitex-tunnel: unknown command '%s'; see "
	    "scitex-tunnel --help\n",
	    argv[1]);
	return TETHER_EXIT_USAGE;
}
