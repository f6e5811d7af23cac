/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * tether mcp: the MCP server's verb. Its subcommands are a table, as the
 * verbs are: start (serve on stdio), list-tools, installation, doctor.
 */
#include <stdio.h>
#include <string.h>

#include "tether/exit.h"
#include "cli.h"
#include "cmd.h"
#include "mcp.h"
#include "mcp_extra.h"

enum { MCP_OPT_HELP = 1, MCP_OPT_VERBOSE };

static const struct cli_option start_options[] = {
	{ MCP_OPT_HELP, 'h', "help", NULL, "show this help" },
	{ 0, 0, NULL, NULL, NULL },
};

static const struct cli_option list_options[] = {
	{ MCP_OPT_VERBOSE, 'v', "verbose", NULL,
	    "add descriptions; twice, the input schemas" },
	{ MCP_OPT_HELP, 'h', "help", NULL, "show this help" },
	{ 0, 0, NULL, NULL, NULL },
};

static void
mcp_usage(FILE *out)
{
	fprintf(out,
	    "usage: tether mcp start\n       tether mcp list-tools [-v|-vv]\n"
	    "       tether mcp installation | doctor\n\n"
	    "  start         serve the Model Context Protocol on stdin and "
	    "stdout\n"
	    "  list-tools    list the MCP tools; -v adds descriptions, -vv "
	    "input schemas\n"
	    "  installation  how to register this server with an MCP client\n"
	    "  doctor        check that the server answers, in-process\n");
}

static void
mcp_usage_stdout(void)
{
	mcp_usage(stdout);
}

static int
mcp_count_verbose(int id, const char *arg, void *ctx)
{
	(void)arg;
	if (id == MCP_OPT_VERBOSE)
		(*(int *)ctx)++;
	return 0;
}

static int
mcp_start(const char *program, int argc, char **argv)
{
	int verbose = 0, rc;

	(void)program;
	if (cli_parse_verb(argc, argv, start_options, MCP_OPT_HELP,
	        mcp_count_verbose, &verbose, mcp_usage_stdout, &rc))
		return rc;
	return mcp_serve();
}

static int
mcp_list_tools(const char *program, int argc, char **argv)
{
	int verbose = 0, rc;

	if (cli_parse_verb(argc, argv, list_options, MCP_OPT_HELP,
	        mcp_count_verbose, &verbose, mcp_usage_stdout, &rc))
		return rc;
	if (mcp_print_tools(stdout, program, verbose) == -1 ||
	    fflush(stdout) == EOF) {
		fprintf(stderr, "tether mcp: cannot list the tools\n");
		return TETHER_EXIT_FAILURE;
	}
	return TETHER_EXIT_OK;
}

static int
mcp_installation_as(const char *program, int argc, char **argv)
{
	(void)program;
	return mcp_installation(argc, argv);
}

static int
mcp_doctor_as(const char *program, int argc, char **argv)
{
	(void)program;
	return mcp_doctor(argc, argv);
}

static const struct mcp_subcommand {
	const char *name;
	int (*exec)(const char *program, int argc, char **argv);
} mcp_subcommands[] = {
	{ "start", mcp_start },
	{ "list-tools", mcp_list_tools },
	{ "installation", mcp_installation_as },
	{ "doctor", mcp_doctor_as },
};

/* argv: what follows "mcp"; program names the tool in listings. */
static int
mcp_main_as(const char *program, int argc, char **argv)
{
	size_t i;

	if (argc < 1) {
		mcp_usage(stderr);
		return TETHER_EXIT_USAGE;
	}
	if (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0 ||
	    strcmp(argv[0], "help") == 0) {
		mcp_usage(stdout);
		return TETHER_EXIT_OK;
	}
	for (i = 0; i < sizeof mcp_subcommands / sizeof mcp_subcommands[0];
	     i++) {
		if (strcmp(argv[0], mcp_subcommands[i].name) == 0)
			return mcp_subcommands[i].exec(program, argc - 1,
			    argv + 1);
	}
	fprintf(stderr, "tether mcp: unknown subcommand '%s'\n", argv[0]);
	mcp_usage(stderr);
	return TETHER_EXIT_USAGE;
}

static int
cmd_mcp(int argc, char **argv)
{
	return mcp_main_as("tether", argc, argv);
}

/* Under the seed's name, the server and its listings say scitex-tunnel. */
static int
cmd_mcp_seed(int argc, char **argv)
{
	return mcp_main_as("scitex-tunnel", argc, argv);
}

const struct cmd_entry cmd_mcp_entry = {
	.name = "mcp",
	.summary = "MCP server for AI agents (mcp start, mcp list-tools)",
	.exec = cmd_mcp,
	.help = mcp_usage_stdout,
	.seed_usage = "start | list-tools | installation | doctor",
	.seed_exec = cmd_mcp_seed,
};
