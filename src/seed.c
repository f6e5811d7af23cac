/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Under the name scitex-tunnel, tether accepts the seed tool's command
 * lines unchanged: its verbs (and their later names), -V, and its exit
 * codes (setup and remove: 0 or 1; usage errors: 2). The verbs offered
 * are the entries of cmd_table with a seed_usage.
 */
#include <stdio.h>
#include <string.h>

#include "tether/exit.h"
#include "cmd.h"

/* The seed's version: scripts that read `scitex-tunnel -V` see it. */
#define SEED_VERSION "0.2.3"

static const struct cmd_entry *
seed_find(const char *name)
{
	const struct cmd_entry *e = cmd_find(name);

	return e != NULL && e->seed_usage != NULL ? e : NULL;
}

static void
seed_usage(FILE *out)
{
	const struct cmd_entry *const *e;
	char left[40];

	fprintf(out,
	    "usage: scitex-tunnel [-h] [-V] [--help-recursive] "
	    "<command> ...\n\ncommands:\n");
	for (e = cmd_table; *e != NULL; e++) {
		if ((*e)->seed_usage == NULL)
			continue;
		snprintf(left, sizeof left, "%s%s%s%s", (*e)->name,
		    (*e)->alias != NULL ? " (" : "",
		    (*e)->alias != NULL ? (*e)->alias : "",
		    (*e)->alias != NULL ? ")" : "");
		fprintf(out, "  %-23s %s\n", left, (*e)->seed_usage);
	}
	fprintf(out,
	    "\nThis is tether %s answering to the scitex-tunnel name; see "
	    "tether --help.\n",
	    TETHER_VERSION);
}

static void
seed_help_recursive(void)
{
	const struct cmd_entry *const *e;

	seed_usage(stdout);
	for (e = cmd_table; *e != NULL; e++) {
		if ((*e)->seed_usage == NULL)
			continue;
		printf("\n==== %s ====\n", (*e)->name);
		fflush(stdout);
		(*e)->help();
	}
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
	const struct cmd_entry *e;
	int rc;

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
		seed_help_recursive();
		return TETHER_EXIT_OK;
	}
	if ((e = seed_find(argv[1])) == NULL) {
		fprintf(stderr,
		    "scitex-tunnel: unknown command '%s'; see scitex-tunnel "
		    "--help\n",
		    argv[1]);
		return TETHER_EXIT_USAGE;
	}
	rc = (e->seed_exec != NULL ? e->seed_exec : e->exec)(argc - 2,
	    argv + 2);
	return e->seed_codes ? seed_exit_code(rc) : rc;
}
