/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The seed's remaining MCP subcommands (argv starts after the
 * subcommand): `mcp installation` prints how to register the server with
 * an MCP client; `mcp doctor` checks that it runs and answers.
 */
#ifndef TETHER_MCP_EXTRA_H
#define TETHER_MCP_EXTRA_H

int mcp_installation(int argc, char **argv);
int mcp_doctor(int argc, char **argv);

#endif
