/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The seed's remaining MCP subcommands: `mcp installation` prints how to
 * register `tether mcp start` with an MCP client; `mcp doctor` checks that
 * the binary runs and that the server answers initialize and tools/list
 * (in-process, through the same handler `mcp start` serves with).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tether/exit.h"
#include "api.h"
#include "cli.h"
#include "mcp_extra.h"
#include "mcp.h"
#include "service.h"

#define MCP_DOCTOR_VERSION "2025-11-25"
#define MCP_DOCTOR_EXEC_TIMEOUT 10

enum extra_opt {
	X_HELP = 1,
};

static const struct cli_option extra_options[] = {
	{ X_HELP, 'h', "help", NULL, "show this help" },
	{ 0, 0, NULL, NULL, NULL },
};

static int
extra_no_option(int id, const char *arg, void *ctx)
{
	(void)id;
	(void)arg;
	(void)ctx;
	return 0;
}

static void
installation_help(void)
{
	printf("usage: tether mcp installation\n\nPrint how to register "
	       "tether's MCP server with an MCP client.\n");
}

static void
doctor_help(void)
{
	printf("usage: tether mcp doctor\n\nCheck that the MCP server runs "
	       "and answers initialize and tools/list.\n");
}

int
mcp_installation(int argc, char **argv)
{
	char exe[CONFIG_PATH_MAX];
	struct error err;
	json_t *doc;
	char *text;
	int rc;

	if (cli_parse_verb(argc, argv, extra_options, X_HELP, extra_no_option,
	        NULL, installation_help, &rc))
		return rc;
	error_clear(&err);
	if (api_self_exe(exe, sizeof exe, &err) == -1) {
		fprintf(stderr, "tether mcp: %s\n", err.msg);
		return TETHER_EXIT_FAILURE;
	}
	doc = json_pack("{s:{s:{s:s, s:[s, s]}}}", "mcpServers", "tether",
	    "command", exe, "args", "mcp", "start");
	text = doc != NULL ? json_dumps(doc, JSON_INDENT(2)) : NULL;
	json_decref(doc);
	if (text == NULL) {
		fprintf(stderr, "tether mcp: out of memory\n");
		return TETHER_EXIT_FAILURE;
	}
	printf("tether's MCP server speaks on stdin and stdout: the client "
	       "starts\n  %s mcp start\n\n"
	       "Claude Desktop (claude_desktop_config.json: on macOS in\n"
	       "~/Library/Application Support/Claude/, on Windows in "
	       "%%APPDATA%%\\Claude\\) and\nclients with the same JSON "
	       "configuration: merge this into the file:\n\n%s\n\n"
	       "Claude Code:\n  claude mcp add tether -- %s mcp start\n\n"
	       "The tools act with the client's rights: system tunnels "
	       "(tether@PORT.service)\nneed root; otherwise ask for "
	       "user_mode. To give tunnel_setup a default bastion\nand key, "
	       "add \"env\": {\"TETHER_BASTION\": \"user@host\", "
	       "\"TETHER_KEY\": \"/path/key\"}\nnext to \"args\". Check it "
	       "with: %s mcp doctor\n",
	    exe, text, exe, exe);
	free(text);
	if (fflush(stdout) == EOF) {
		perror("tether mcp: stdout");
		return TETHER_EXIT_FAILURE;
	}
	return TETHER_EXIT_OK;
}

struct mcp_check {
	struct mcp_server *server;
	int failed;
};

static void check_line(struct mcp_check *, int ok, const char *what,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
check_line(struct mcp_check *c, int ok, const char *what, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	printf("%-4s  %s: %s\n", ok ? "ok" : "FAIL", what, msg);
	if (!ok)
		c->failed = 1;
}

/* Sends one message; returns the parsed reply (NULL if none or invalid). */
static json_t *
exchange(struct mcp_check *c, const char *msg)
{
	json_error_t jerr;
	json_t *reply;
	char *line;

	line = mcp_server_handle(c->server, msg, strlen(msg));
	if (line == NULL)
		return NULL;
	reply = json_loads(line, 0, &jerr);
	free(line);
	return reply;
}

static void
doctor_binary(struct mcp_check *c, const char *exe)
{
	char out[SERVICE_OUTPUT_MAX];
	char *argv[] = { (char *)exe, (char *)"--version", NULL };
	int rc;

	rc = service_exec(argv, out, sizeof out, MCP_DOCTOR_EXEC_TIMEOUT);
	out[strcspn(out, "\n")] = '\0';
	if (rc == 0 && strncmp(out, "tether ", 7) == 0)
		check_line(c, 1, "binary", "%s runs (%s)", exe, out);
	else
		check_line(c, 0, "binary",
		    "%s --version %s%s%s; reinstall tether or fix the path in "
		    "the client's configuration",
		    exe, rc == -1 ? "could not run" : "failed",
		    out[0] ? ": " : "", out);
}

static int
doctor_initialize(struct mcp_check *c)
{
	const char *version = NULL, *name = NULL, *sversion = "";
	json_t *reply, *tools = NULL;

	reply = exchange(c,
	    "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\","
	    "\"params\":{\"protocolVersion\":\"" MCP_DOCTOR_VERSION "\","
	    "\"capabilities\":{},\"clientInfo\":{\"name\":"
	    "\"tether-mcp-doctor\",\"version\":\"" TETHER_VERSION "\"}}}");
	if (reply == NULL ||
	    json_unpack(reply, "{s:{s:s, s:{s:o}, s:{s:s, s?:s}}}", "result",
	        "protocolVersion", &version, "capabilities", "tools", &tools,
	        "serverInfo", "name", &name, "version", &sversion) == -1) {
		char *text = reply != NULL ? json_dumps(reply, JSON_COMPACT) :
		                             NULL;

		check_line(c, 0, "initialize",
		    "no valid answer (%.300s); this is a bug: please report it",
		    text != NULL ? text : "none");
		free(text);
		json_decref(reply);
		return -1;
	}
	check_line(c, 1, "initialize",
	    "protocol %s, server %s %s, offers tools", version, name, sversion);
	json_decref(reply);
	/* The client's acknowledgement: a notification, so no answer. */
	reply = exchange(c,
	    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
	if (reply != NULL) {
		check_line(c, 0, "initialized",
		    "the server answered a notification; this is a bug: please "
		    "report it");
		json_decref(reply);
		return -1;
	}
	return 0;
}

static void
doctor_tools(struct mcp_check *c)
{
	static const char *const expected[] = { "tunnel_setup", "tunnel_status",
		"tunnel_remove", NULL };
	json_t *reply, *tools = NULL, *tool;
	const char *name, *desc;
	size_t i, j;
	int found;

	reply = exchange(c,
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
	if (reply == NULL ||
	    json_unpack(reply, "{s:{s:o}}", "result", "tools", &tools) == -1 ||
	    !json_is_array(tools)) {
		check_line(c, 0, "tools/list",
		    "no tool list in the answer; this is a bug: please report "
		    "it");
		json_decref(reply);
		return;
	}
	check_line(c, 1, "tools/list", "%zu tools", json_array_size(tools));
	for (i = 0; expected[i] != NULL; i++) {
		found = 0;
		json_array_foreach(tools, j, tool) {
			name = json_string_value(json_object_get(tool, "name"));
			found |= name != NULL && strcmp(name, expected[i]) == 0;
		}
		if (!found)
			check_line(c, 0, "tools/list",
			    "%s is missing; this is a bug: please report it",
			    expected[i]);
	}
	json_array_foreach(tools, j, tool) {
		name = json_string_value(json_object_get(tool, "name"));
		desc = json_string_value(json_object_get(tool, "title"));
		if (desc == NULL)
			desc = "";
		printf("        %-14s %s%s\n", name != NULL ? name : "?", desc,
		    json_is_object(json_object_get(tool, "inputSchema")) ?
		        "" :
		        " (no inputSchema!)");
		if (name == NULL ||
		    !json_is_object(json_object_get(tool, "inputSchema")))
			c->failed = 1;
	}
	json_decref(reply);
}

int
mcp_doctor(int argc, char **argv)
{
	struct mcp_check c;
	char exe[CONFIG_PATH_MAX];
	struct error err;
	int rc;

	if (cli_parse_verb(argc, argv, extra_options, X_HELP, extra_no_option,
	        NULL, doctor_help, &rc))
		return rc;
	memset(&c, 0, sizeof c);
	error_clear(&err);
	if (api_self_exe(exe, sizeof exe, &err) == -1)
		check_line(&c, 0, "binary", "%s", err.msg);
	else
		doctor_binary(&c, exe);
	if ((c.server = mcp_server_new(NULL)) == NULL) {
		check_line(&c, 0, "server", "cannot start it: out of memory");
	} else {
		if (doctor_initialize(&c) == 0)
			doctor_tools(&c);
		mcp_server_free(c.server);
	}
	if (c.failed) {
		printf("\nThe MCP server is not ready; fix the FAIL above.\n");
		return TETHER_EXIT_FAILURE;
	}
	printf("\nThe MCP server is ready: register it with tether mcp "
	       "installation.\n");
	return TETHER_EXIT_OK;
}
