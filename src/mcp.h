/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * `tether mcp`: a Model Context Protocol server on stdio. It offers the
 * tools tunnel_setup, tunnel_status and tunnel_remove, which call the C API
 * of tether/tether.h.
 *
 * The request handler is pure: one JSON-RPC 2.0 message in, the response
 * line out. It speaks the handshake revisions (initialize, up to 2025-11-25)
 * and, until an initialize arrives, the 2026-07-28 revision (per-request
 * _meta protocol version, server/discover).
 */
#ifndef TETHER_MCP_H
#define TETHER_MCP_H

#include <stddef.h>
#include <stdio.h>

#include "ops.h"

/* The largest message accepted; a longer one is refused with -32600. */
#define MCP_MESSAGE_MAX ((size_t)1024 * 1024)

/* The operations behind the tools; tests substitute their own. */
struct mcp_ops {
	int (*setup)(const struct api_setup_opts *, struct api_result *);
	int (*status)(const struct api_status_opts *, struct api_result *);
	int (*remove)(const struct api_remove_opts *, struct api_result *);
	void (*result_free)(struct api_result *);
};

/* ops NULL = the functions of tether/tether.h. NULL on out of memory. */
struct mcp_server *mcp_server_new(const struct mcp_ops *ops);
void mcp_server_free(struct mcp_server *);

/*
 * line: one message without its newline (len bytes, no NUL needed).
 * Returns the response, malloc'd and without a newline, or NULL when none is
 * due (a notification, a response from the client) or memory ran out.
 */
char *mcp_server_handle(struct mcp_server *, const char *line, size_t len);

/*
 * `PROGRAM mcp list-tools`: "PROGRAM MCP tools:", then a name a line;
 * verbose 1 adds descriptions, 2 input schemas.
 */
int mcp_print_tools(FILE *, const char *program, int verbose);

/* `mcp start`: serves on stdin and stdout until EOF; an exit code. */
int mcp_serve(void);

#endif
