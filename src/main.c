/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* tether: keep a reverse SSH tunnel to a bastion up. Verb dispatch only. */
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <libssh/libssh.h>

#include "tether/exit.h"
#include "commands.h"
#include "mcp.h"

static void
mcp_help(void)
{
	char arg0[] = "--help", *argv[] = { arg0, NULL };

	mcp_main(1, argv);
}

struct verb {
	const char *name;
	const char *alias; /* the seed's later name, or NULL */
	int (*run)(int, char **);
	void (*help)(void);
	const char *summary;
};

static const struct verb verbs[] = {
	{ "run", NULL, cmd_run, cmd_run_help,
	    "keep a reverse tunnel up (foreground, --daemon, --check)" },
	{ "setup", "setup-tunnel", cmd_setup, cmd_setup_help,
	    "install a tunnel as a service (system, --user, or a daemon)" },
	{ "status", "show-status", cmd_status, cmd_status_help,
	    "show every tunnel on this machine" },
	{ "remove", "remove-tunnel", cmd_remove, cmd_remove_help,
	    "stop and uninstall a tunnel" },
	{ "doctor", NULL, cmd_doctor, cmd_doctor_help,
	    "check a tunnel end to end and say what to fix" },
	{ "metrics", NULL, cmd_metrics, cmd_metrics_help,
	    "every tunnel in Prometheus's text format (--textfile DIR)" },
	{ "migrate", NULL, cmd_migrate, cmd_migrate_help,
	    "replace scitex-tunnel's autossh units with tether" },
	{ "list-python-apis", NULL, cmd_list_apis, cmd_list_apis_help,
	    "list the C API (the seed's verb)" },
	{ "trust", NULL, cmd_trust, cmd_trust_help,
	    "check and record the bastion's host key" },
	{ "bastion-line", NULL, cmd_bastion_line, cmd_bastion_line_help,
	    "print the least-privilege authorized_keys line" },
	{ "mcp", NULL, mcp_main, mcp_help,
	    "MCP server for AI agents (mcp start, mcp list-tools)" },
};

#define NVERBS (sizeof verbs / sizeof verbs[0])

static void
usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: tether <verb> [options]\n\nverbs:\n");
	for (i = 0; i < NVERBS; i++)
		fprintf(out, "  %-17s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(out,
	    "\ntether <verb> --help shows a verb's options; "
	    "--help-recursive shows them all;\ntether --version its version.\n");
}

static void
help_recursive(void)
{
	size_t i;

	usage(stdout);
	for (i = 0; i < NVERBS; i++) {
		printf("\n==== tether %s ====\n", verbs[i].name);
		fflush(stdout);
		verbs[i].help();
	}
}

int
main(int argc, char **argv)
{
	const char *verb;
	size_t i;

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
	for (i = 0; i < NVERBS; i++) {
		if (strcmp(verb, verbs[i].name) == 0 ||
		    (verbs[i].alias != NULL &&
		        strcmp(verb, verbs[i].alias) == 0))
			return verbs[i].run(argc - 2, argv + 2);
	}
	fprintf(stderr, "tether: unknown verb '%s'; see tether --help\n", verb);
	return TETHER_EXIT_USAGE;
}
