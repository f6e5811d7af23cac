/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * tether list-python-apis: as the seed did, the Python API's functions
 * (src/python/tether, also importable as scitex_tunnel, over libtether);
 * -v adds the signatures, -vv a line each.
 */
#include <stdio.h>

#include "tether/exit.h"
#include "cli.h"
#include "cmd.h"

struct api_function {
	const char *name;
	const char *signature;
	const char *doc;
};

/* Kept in step with src/python/tether/__init__.py (seed_surface checks). */
static const struct api_function api_functions[] = {
	{ "setup", "setup(port, bastion=None, key=None, **options)",
	    "Install a tunnel (user=True: your own, no root), start it, wait "
	    "until it forwards." },
	{ "status", "status(port=None, **options)",
	    "Every tunnel on this machine, or one port: the text and the "
	    "tunnels as parsed JSON." },
	{ "remove", "remove(port, **options)",
	    "Stop the tunnel and delete every file setup wrote for it." },
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

static void
cmd_list_apis_help(void)
{
	printf("usage: tether list-python-apis [-v|-vv]\n\n"
	       "List the Python API (import scitex_tunnel, or tether): the "
	       "functions behind\nsetup, status and remove, over libtether "
	       "(libtether(3) for C).\n\n");
	cli_print_options(stdout, list_options);
}

static int
list_count_verbose(int id, const char *arg, void *ctx)
{
	(void)id;
	(void)arg;
	(*(int *)ctx)++;
	return 0;
}

static int
cmd_list_apis(int argc, char **argv)
{
	const struct api_function *f;
	int verbose = 0, rc;

	if (cli_parse_verb(argc, argv, list_options, L_HELP, list_count_verbose,
	        &verbose, cmd_list_apis_help, &rc))
		return rc;
	printf("Python API (import scitex_tunnel, or import tether); each "
	       "returns a dict with\nsuccess, stdout, stderr and exit_code:"
	       "\n\n");
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

const struct cmd_entry cmd_list_apis_entry = {
	.name = "list-python-apis",
	.summary = "list the Python API (the seed's verb)",
	.exec = cmd_list_apis,
	.help = cmd_list_apis_help,
	.seed_usage = "[-v|-vv]",
};
