/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * tether list-python-apis: the seed listed its Python API; tether lists
 * its C API, the functions of <tether/tether.h> that the command line and
 * the MCP server are built on. -v adds the signatures, -vv a line each.
 */
#include <stdio.h>

#include "tether/exit.h"
#include "cli.h"
#include "commands.h"

struct api_function {
	const char *name;
	const char *signature;
	const char *doc;
};

/* Kept in step with include/tether/tether.h (the seed-surface test checks). */
static const struct api_function api_functions[] = {
	{ "tether_setup",
	    "int api_setup(const struct api_setup_opts *opts, "
	    "struct api_result *result)",
	    "Install a tunnel as tether@PORT.service (or a user service or "
	    "daemon), start it, wait until it forwards." },
	{ "tether_status",
	    "int api_status(const struct api_status_opts *opts, "
	    "struct api_result *result)",
	    "Every tunnel on this machine, or one port: state, forwards, "
	    "systemd's view; as text and JSON." },
	{ "tether_remove",
	    "int api_remove(const struct api_remove_opts *opts, "
	    "struct api_result *result)",
	    "Stop, disable and delete a tunnel and every file setup wrote for "
	    "it." },
	{ "api_result_free", "void api_result_free(struct api_result *result)",
	    "Free the text and JSON a call left in a struct api_result." },
	{ NULL, NULL, NULL },
};

enum list_opt {
	L_VERBOSE = 1,
	L_HELP,
};

static const struct cli_option list_options[] = {
	{ L_VERBOSE, 'v', "verbose", NULL,
	    "add the signatures; twice, a line on each" },
	{ L_HELP, 'h', "help", NULL, "show this help" },
	{ 0, 0, NULL, NULL, NULL },
};

void
cmd_list_apis_help(void)
{
	printf("usage: tether list-python-apis [-v|-vv]\n\n"
	       "List tether's C API (include/tether/tether.h, link with "
	       "tether_core): the\nfunctions behind setup, status, remove "
	       "and the MCP tools.\n\n");
	cli_print_options(stdout, list_options);
}

int
cmd_list_apis(int argc, char **argv)
{
	const struct api_function *f;
	struct cli_parser p;
	struct error err;
	const char *arg;
	int id, verbose = 0;

	error_clear(&err);
	cli_parser_init(&p, argc, argv);
	while ((id = cli_next(&p, list_options, &arg, &err)) != CLI_END) {
		if (id == CLI_ERROR || id == CLI_OPERAND) {
			fprintf(stderr, "tether: %s\n",
			    id == CLI_ERROR ? err.msg :
			                      "unexpected argument; see tether "
			                      "list-python-apis --help");
			return TETHER_EXIT_USAGE;
		}
		if (id == L_HELP) {
			cmd_list_apis_help();
			return TETHER_EXIT_OK;
		}
		verbose++;
	}
	printf("tether C API (#include <tether/tether.h>):\n\n");
	for (f = api_functions; f->name != NULL; f++) {
		printf("  %s\n", verbose >= 1 ? f->signature : f->name);
		if (verbose >= 2)
			printf("      %s\n", f->doc);
	}
	if (fflush(stdout) == EOF) {
		perror("tether: stdout");
		return TETHER_EXIT_FAILURE;
	}
	return TETHER_EXIT_OK;
}
