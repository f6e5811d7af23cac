/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* tether mcp: the MCP server's verb (start, list-tools, installation, doctor). */
#include "cmd.h"
#include "mcp.h"

static void
cmd_mcp_help(void)
{
	char arg0[] = "--help", *argv[] = { arg0, NULL };

	mcp_main(1, argv);
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
	.exec = mcp_main,
	.help = cmd_mcp_help,
	.seed_usage = "start | list-tools | installation | doctor",
	.seed_exec = cmd_mcp_seed,
};
