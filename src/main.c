/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* tether: keep a reverse SSH tunnel to a bastion up. Verb dispatch only. */
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <libssh/libssh.h>

#include "tether/exit.h"
#include "cmd.h"

static void
usage(FILE *out)
{
	const struct cmd_entry *const *e;

	fprintf(out, "usage: tether <verb> [options]\n\nverbs:\n");
	for (e = cmd_table; *e != NULL; e++)
		fprintf(out, "  %-17s %s\n", (*e)->name, (*e)->summary);
	fprintf(out,
	    "\ntether <verb> --help shows a verb's options; "
	    "--help-recursive shows them all;\ntether --version its version.\n");
}

static void
help_recursive(void)
{
	const struct cmd_entry *const *e;

	usage(stdout);
	for (e = cmd_table; *e != NULL; e++) {
		printf("\n==== tether %s ====\n", (*e)->name);
		fflush(stdout);
		(*e)->help();
	}
}

int
main(int argc, char **argv)
{
	const struct cmd_entry *entry;
	const char *verb;

	/* A peer closing mid-write is an event to handle, not a death. */
	signal(SIGPIPE, SIG_IGN);
	if (argc > 0 && strcmp(basename(argv[0]), "scitex-tunnel") == 0)
		return seed_main(argc, argv);
	if (argc < 2) {
		usage(stderr);
		return TETHER_EXIT_USAGE;
	}
	verb = argv[1];
	if (strcmp(verb, "-h") == 0 || strcmp(verb, "--help") == 0 ||
	    strcmp(verb, "help") == 0) {
		usage(stdout);
		return TETHER_EXIT_OK;
	}
	if (strcmp(verb, "--help-recursive") == 0) {
		help_recursive();
		return TETHER_EXIT_OK;
	}
	if (strcmp(verb, "-V") == 0 || strcmp(verb, "--version") == 0) {
		printf("tether %s (libssh %s, %s)\n", TETHER_VERSION,
		    ssh_version(0), TETHER_LIBSSH_KIND);
		return TETHER_EXIT_OK;
	}
	if ((entry = cmd_find(verb)) != NULL)
		return entry->exec(argc - 2, argv + 2);
	fprintf(stderr, "tether: unknown verb '%s'; see tether --help\n", verb);
	return TETHER_EXIT_USAGE;
}
