/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The MCP server's request handler. Each input is a session: a fresh
 * server with fake operations (nothing is set up, started or removed),
 * then every line of the input, as `tether mcp` splits stdin (a trailing
 * '\r' dropped, empty lines skipped), goes through mcp_server_handle. Every
 * response must be one line of JSON-RPC 2.0: an object with jsonrpc "2.0",
 * an id, and either a result or an error with an integer code and a string
 * message.
 *
 * A server's only state is whether an initialize succeeded (tools are
 * built once and never change), so one server is reused until an input
 * makes that happen (a reply carrying protocolVersion, or "initialize"
 * anywhere in the input) and then replaced: every input still starts from
 * the initial state, ten times faster than building a server per input.
 *
 * What the fake operations answer depends on the port they are asked
 * about, so the result paths are explored too: success or failure, stdout
 * with invalid UTF-8, and for status JSON that is valid, malformed or
 * missing.
 */
#include <jansson.h>

#include "mcp.h"
#include "fuzz_common.h"

static int
fake_fill(int port, const char *what, struct api_result *r)
{
	char out[512];

	snprintf(out, sizeof out, "%s %.300s%s", what,
	    (port & 4) ? "\xff\xfe bad utf-8 \xc3" : "ok",
	    (port & 8) ? "\n\ttabs and \x01 controls" : "");
	r->success = (port & 1) == 0;
	r->exit_code = r->success ? TETHER_EXIT_OK : TETHER_EXIT_CONFIG;
	r->out = strdup(out);
	r->err = strdup((port & 2) ? "" : "warning: \xe2\x82");
	r->json = NULL;
	if (r->out == NULL || r->err == NULL)
		abort();
	return r->success ? 0 : -1;
}

static int
fake_setup(const struct api_setup_opts *o, struct api_result *r)
{
	char what[256];

	FUZZ_CHECK(o->port >= 1 && o->port <= 65535);
	snprintf(what, sizeof what, "setup %d %.60s %.60s %.60s", o->port,
	    o->bastion != NULL ? o->bastion : "(env)",
	    o->key_path != NULL ? o->key_path : "(env)",
	    o->target != NULL ? o->target : "(default)");
	return fake_fill(o->port, what, r);
}

static int
fake_status(const struct api_status_opts *o, struct api_result *r)
{
	int rc;

	FUZZ_CHECK(o->port >= 0 && o->port <= 65535);
	rc = fake_fill(o->port, "status", r);
	switch ((o->port >> 4) % 3) {
	case 0:
		r->json = strdup("{\"tunnels\":[{\"port\":2222,\"state\":"
		    "\"forwarding\"}],\"count\":1,\"forwarding\":1}");
		break;
	case 1:
		r->json = strdup("{\"tunnels\":[");   /* malformed */
		break;
	default:
		return rc;
	}
	if (r->json == NULL)
		abort();
	return rc;
}

static int
fake_remove(const struct api_remove_opts *o, struct api_result *r)
{
	FUZZ_CHECK(o->port >= 1 && o->port <= 65535);
	return fake_fill(o->port, "remove", r);
}

static void
fake_result_free(struct api_result *r)
{
	free(r->out);
	free(r->err);
	free(r->json);
	memset(r, 0, sizeof *r);
}

static const struct mcp_ops fake_ops = {
	fake_setup, fake_status, fake_remove, fake_result_free
};

/* Returns 1 if reply is the result of an initialize (the server changed). */
static int
check_reply(const char *reply)
{
	int initialized;

	json_error_t jerr;
	json_t *msg, *id, *result, *error, *code, *message;

	FUZZ_CHECK(strchr(reply, '\n') == NULL);
	msg = json_loads(reply, JSON_REJECT_DUPLICATES, &jerr);
	FUZZ_CHECK(json_is_object(msg));
	FUZZ_CHECK(json_is_string(json_object_get(msg, "jsonrpc")) &&
	    strcmp(json_string_value(json_object_get(msg, "jsonrpc")),
	    "2.0") == 0);
	id = json_object_get(msg, "id");
	FUZZ_CHECK(id != NULL && (json_is_null(id) || json_is_string(id) ||
	    json_is_number(id)));
	result = json_object_get(msg, "result");
	error = json_object_get(msg, "error");
	FUZZ_CHECK((result == NULL) != (error == NULL));
	if (result != NULL)
		FUZZ_CHECK(json_is_object(result));
	initialized = json_object_get(result, "protocolVersion") != NULL;
	if (error != NULL) {
		code = json_object_get(error, "code");
		message = json_object_get(error, "message");
		FUZZ_CHECK(json_is_integer(code) && json_is_string(message));
	}
	json_decref(msg);
	return initialized;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mcp_server *s;
	int changed;
	const char *line = (const char *)data, *nl, *end = line + size;
	size_t len;
	char *reply;

	if (size > MCP_MESSAGE_MAX)
		return -1;
	if (s == NULL && (s = mcp_server_new(&fake_ops)) == NULL)
		abort();
	changed = memmem(data, size, "initialize", 10) != NULL;
	while (line < end) {
		nl = memchr(line, '\n', (size_t)(end - line));
		len = (size_t)((nl != NULL ? nl : end) - line);
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len > 0 && (reply = mcp_server_handle(s, line,
		    len)) != NULL) {
			changed |= check_reply(reply);
			free(reply);
		}
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	if (changed) {
		mcp_server_free(s);
		s = NULL;
	}
	return 0;
}
