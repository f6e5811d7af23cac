/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The MCP request handler: one JSON-RPC message in, one response line out.
 * Most tests run the tools against fake operations that record what they
 * were asked; two run the real C API in an empty temporary HOME.
 *
 * A tool argument that breaks the tool's inputSchema (port: "x", an unknown
 * argument) is a tool result with isError: true, not a JSON-RPC error: the
 * 2025-11-25 specification files input validation under tool execution
 * errors, so the model sees the reason and can correct the call.
 */
#include <stdarg.h>
#include <stddef.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "tether/exit.h"
#include "ops.h"
#include "cmd.h"
#include "mcp.h"

#define assert_contains(haystack, needle) do { \
	if (strstr((haystack), (needle)) == NULL) \
		fail_msg("\"%s\" does not contain \"%s\"", (haystack), \
		    (needle)); \
} while (0)

#define SEED_NO_BASTION "bastion_server is required. Provide it as an " \
	"argument or set SCITEX_TUNNEL_BASTION_SERVER environment variable."

/* ---- fake operations --------------------------------------------------- */

/* What the fake operations were asked, and what they answer. */
static struct {
	int setup_calls, status_calls, remove_calls;
	struct api_setup_opts setup;
	char bastion[128], key[128], target[128], host_key[128], run_as[64];
	int bastion_null, key_null, target_null, host_key_null, run_as_null;
	struct api_status_opts status;
	struct api_remove_opts remove;
	int success;
	const char *out, *err, *json;
} fake;

static void
fake_fill(struct api_result *r)
{
	r->success = fake.success;
	r->exit_code = fake.success ? TETHER_EXIT_OK : TETHER_EXIT_CONFIG;
	r->out = strdup(fake.out);
	r->err = strdup(fake.err);
	r->json = fake.json != NULL ? strdup(fake.json) : NULL;
	if (r->out == NULL || r->err == NULL ||
	    (fake.json != NULL && r->json == NULL))
		fail_msg("out of memory");
}

static void
copy_opt(char *dst, size_t sz, int *is_null, const char *src)
{
	*is_null = src == NULL;
	snprintf(dst, sz, "%s", src != NULL ? src : "");
}

static int
fake_setup(const struct api_setup_opts *o, struct api_result *r)
{
	fake.setup_calls++;
	fake.setup = *o;
	copy_opt(fake.bastion, sizeof fake.bastion, &fake.bastion_null,
	    o->bastion);
	copy_opt(fake.key, sizeof fake.key, &fake.key_null, o->key_path);
	copy_opt(fake.target, sizeof fake.target, &fake.target_null,
	    o->target);
	copy_opt(fake.host_key, sizeof fake.host_key, &fake.host_key_null,
	    o->host_key);
	copy_opt(fake.run_as, sizeof fake.run_as, &fake.run_as_null,
	    o->run_as);
	fake_fill(r);
	return fake.success ? 0 : -1;
}

static int
fake_status(const struct api_status_opts *o, struct api_result *r)
{
	fake.status_calls++;
	fake.status = *o;
	fake_fill(r);
	return fake.success ? 0 : -1;
}

static int
fake_remove(const struct api_remove_opts *o, struct api_result *r)
{
	fake.remove_calls++;
	fake.remove = *o;
	fake_fill(r);
	return fake.success ? 0 : -1;
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

static int
fake_server_new(void **state)
{
	memset(&fake, 0, sizeof fake);
	fake.success = 1;
	fake.out = "done\n";
	fake.err = "";
	*state = mcp_server_new(&fake_ops);
	return *state != NULL ? 0 : -1;
}

static int
server_free(void **state)
{
	mcp_server_free(*state);
	return 0;
}

/* ---- the real API in an empty HOME ------------------------------------ */

struct sandbox {
	struct mcp_server *server;
	char dir[64];
};

static const char *const sandbox_vars[] = {
	"HOME", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR", "XDG_STATE_HOME",
	"XDG_DATA_HOME", "RUNTIME_DIRECTORY", "TETHER_BASTION", "TETHER_KEY",
	"SCITEX_TUNNEL_BASTION_SERVER", "SCITEX_TUNNEL_SECRET_KEY_PATH", NULL
};

static int
sandbox_setenv(const char *dir, const char *name, const char *sub)
{
	char path[128];

	snprintf(path, sizeof path, "%s/%s", dir, sub);
	return setenv(name, path, 1);
}

static int
remove_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	return remove(path);
}

/* Every path the API reads points into a fresh directory; no bastion. */
static int
sandbox_new(void **state)
{
	struct sandbox *sb;
	size_t i;

	if ((sb = calloc(1, sizeof *sb)) == NULL)
		return -1;
	*state = sb;
	snprintf(sb->dir, sizeof sb->dir, "/tmp/tether-test-mcp.XXXXXX");
	if (mkdtemp(sb->dir) == NULL) {
		sb->dir[0] = '\0';
		return -1;
	}
	for (i = 0; sandbox_vars[i] != NULL; i++)
		unsetenv(sandbox_vars[i]);
	if (sandbox_setenv(sb->dir, "HOME", "home") == -1 ||
	    sandbox_setenv(sb->dir, "XDG_CONFIG_HOME", "home/.config") == -1 ||
	    sandbox_setenv(sb->dir, "XDG_RUNTIME_DIR", "run") == -1 ||
	    sandbox_setenv(sb->dir, "XDG_STATE_HOME", "state") == -1)
		return -1;
	sb->server = mcp_server_new(NULL);
	return sb->server != NULL ? 0 : -1;
}

static int
sandbox_free(void **state)
{
	struct sandbox *sb = *state;

	if (sb == NULL)
		return 0;
	mcp_server_free(sb->server);
	if (sb->dir[0] != '\0' && nftw(sb->dir, remove_entry, 16,
	    FTW_DEPTH | FTW_PHYS) == -1)
		fprintf(stderr, "cannot remove %s\n", sb->dir);
	free(sb);
	return 0;
}

/* ---- helpers ----------------------------------------------------------- */

/* The response to msg, parsed; it must be one line of JSON. */
static json_t *
handle_n(struct mcp_server *s, const char *msg, size_t len)
{
	json_error_t jerr;
	json_t *resp;
	char *line;

	line = mcp_server_handle(s, msg, len);
	if (line == NULL)
		fail_msg("no response to %.200s", msg);
	if (strchr(line, '\n') != NULL)
		fail_msg("response holds a newline: %s", line);
	resp = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
	if (resp == NULL)
		fail_msg("response is not JSON (%s): %s", jerr.text, line);
	free(line);
	if (!json_is_string(json_object_get(resp, "jsonrpc")) ||
	    strcmp(json_string_value(json_object_get(resp, "jsonrpc")),
	    "2.0") != 0)
		fail_msg("response without jsonrpc 2.0");
	return resp;
}

static json_t *
handle(struct mcp_server *s, const char *msg)
{
	return handle_n(s, msg, strlen(msg));
}

/* The result member; fails on an error response. */
static json_t *
result_of(json_t *resp)
{
	json_t *result = json_object_get(resp, "result");

	if (!json_is_object(result)) {
		char *text = json_dumps(resp, 0);

		fail_msg("no result in %s", text);
	}
	return result;
}

/* The error code; fails on a result. Checks the id is null if asked. */
static int
error_code_of(json_t *resp, int null_id)
{
	json_t *code = json_object_get(json_object_get(resp, "error"), "code");

	if (!json_is_integer(code)) {
		char *text = json_dumps(resp, 0);

		fail_msg("no error code in %s", text);
	}
	if (null_id && !json_is_null(json_object_get(resp, "id")))
		fail_msg("error response id is not null");
	assert_true(json_is_string(json_object_get(json_object_get(resp,
	    "error"), "message")));
	return (int)json_integer_value(code);
}

static const char *
error_message_of(json_t *resp)
{
	return json_string_value(json_object_get(json_object_get(resp,
	    "error"), "message"));
}

/* tools/call of name with arguments args (JSON text, or NULL for none). */
static json_t *
call_tool(struct mcp_server *s, const char *name, const char *args)
{
	char msg[1024];

	if (args != NULL)
		snprintf(msg, sizeof msg, "{\"jsonrpc\":\"2.0\",\"id\":7,"
		    "\"method\":\"tools/call\",\"params\":{\"name\":\"%s\","
		    "\"arguments\":%s}}", name, args);
	else
		snprintf(msg, sizeof msg, "{\"jsonrpc\":\"2.0\",\"id\":7,"
		    "\"method\":\"tools/call\",\"params\":{\"name\":\"%s\"}}",
		    name);
	return handle(s, msg);
}

static int
is_error_of(json_t *result)
{
	json_t *v = json_object_get(result, "isError");

	if (!json_is_boolean(v))
		fail_msg("result without a boolean isError");
	return json_is_true(v);
}

static json_t *
structured_of(json_t *result)
{
	json_t *sc = json_object_get(result, "structuredContent");

	assert_true(json_is_object(sc));
	return sc;
}

static const char *
sc_string(json_t *result, const char *key)
{
	json_t *v = json_object_get(structured_of(result), key);

	if (!json_is_string(v))
		fail_msg("structuredContent.%s is not a string", key);
	return json_string_value(v);
}

static json_t *
initialize(struct mcp_server *s, const char *version)
{
	char msg[512];

	snprintf(msg, sizeof msg, "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":"
	    "\"initialize\",\"params\":{\"protocolVersion\":\"%s\","
	    "\"capabilities\":{},\"clientInfo\":{\"name\":\"t\","
	    "\"version\":\"1\"}}}", version);
	return handle(s, msg);
}

static const char *
protocol_version_of(json_t *resp)
{
	return json_string_value(json_object_get(result_of(resp),
	    "protocolVersion"));
}

/* ---- lifecycle --------------------------------------------------------- */

static void
test_initialize_answers_with_the_clients_supported_version(void **state)
{
	static const char *versions[] = { "2024-11-05", "2025-03-26",
	    "2025-06-18", "2025-11-25", NULL };
	json_t *resp, *result;
	size_t i;

	for (i = 0; versions[i] != NULL; i++) {
		resp = initialize(*state, versions[i]);
		assert_string_equal(protocol_version_of(resp), versions[i]);
		result = result_of(resp);
		assert_true(json_is_object(json_object_get(json_object_get(
		    result, "capabilities"), "tools")));
		assert_string_equal(json_string_value(json_object_get(
		    json_object_get(result, "serverInfo"), "name")), "tether");
		assert_string_equal(json_string_value(json_object_get(
		    json_object_get(result, "serverInfo"), "version")),
		    TETHER_VERSION);
		json_decref(resp);
	}
}

static void
test_initialize_with_unknown_version_gets_2025_06_18(void **state)
{
	json_t *resp = initialize(*state, "1999-01-01");

	assert_string_equal(protocol_version_of(resp), "2025-06-18");
	json_decref(resp);
}

static void
test_initialize_without_protocol_version_is_invalid_params(void **state)
{
	json_t *resp = handle(*state, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"initialize\",\"params\":{}}");

	assert_int_equal(error_code_of(resp, 0), -32602);
	json_decref(resp);
}

static void
test_id_0_is_echoed(void **state)
{

	const char *msg = "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"ping\"}";
	char *line;

	line = mcp_server_handle(*state, msg, strlen(msg));
	assert_non_null(line);
	assert_string_equal(line, "{\"jsonrpc\":\"2.0\",\"id\":0,"
	    "\"result\":{}}");
	free(line);
}

static void
test_string_id_is_echoed(void **state)
{
	json_t *resp = handle(*state, "{\"id\":\"req-\\u00e9 1\","
	    "\"method\":\"ping\",\"jsonrpc\":\"2.0\"}");

	assert_string_equal(json_string_value(json_object_get(resp, "id")),
	    "req-\xc3\xa9 1");
	result_of(resp);
	json_decref(resp);
}

static void
test_large_number_id_is_echoed(void **state)
{
	json_t *resp = handle(*state, "{\"jsonrpc\":\"2.0\",\"id\":"
	    "9007199254740993,\"method\":\"ping\"}");

	assert_true(json_is_integer(json_object_get(resp, "id")));
	assert_true(json_integer_value(json_object_get(resp, "id")) ==
	    9007199254740993LL);
	json_decref(resp);
}

static void
test_notification_gets_no_response(void **state)
{
	static const char *msgs[] = {
		"{\"jsonrpc\":\"2.0\","
		    "\"method\":\"notifications/initialized\"}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
		    "\"params\":{\"requestId\":3}}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"no/such/notification\"}",
		NULL
	};
	size_t i;

	for (i = 0; msgs[i] != NULL; i++)
		assert_null(mcp_server_handle(*state, msgs[i],
		    strlen(msgs[i])));
}

static void
test_response_from_the_client_gets_no_response(void **state)
{
	const char *msg = "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{}}";

	assert_null(mcp_server_handle(*state, msg, strlen(msg)));
}

static void
test_ping_answers_an_empty_result(void **state)
{
	json_t *resp = handle(*state, "{\"jsonrpc\":\"2.0\",\"id\":3,"
	    "\"method\":\"ping\"}");

	assert_int_equal(json_object_size(result_of(resp)), 0);
	json_decref(resp);
}

/* ---- tools/list -------------------------------------------------------- */

static json_t *
tool_named(json_t *tools, const char *name)
{
	json_t *tool;
	size_t i;

	json_array_foreach(tools, i, tool) {
		if (strcmp(json_string_value(json_object_get(tool, "name")),
		    name) == 0)
			return tool;
	}
	fail_msg("no tool %s", name);
	return NULL;
}

static void
assert_schema(json_t *tool, const char *required, const char *props[])
{
	json_t *schema = json_object_get(tool, "inputSchema");
	json_t *p = json_object_get(schema, "properties");
	json_t *req = json_object_get(schema, "required");
	size_t i;

	assert_string_equal(json_string_value(json_object_get(schema, "type")),
	    "object");
	assert_true(json_is_false(json_object_get(schema,
	    "additionalProperties")));
	for (i = 0; props[i] != NULL; i++) {
		if (!json_is_string(json_object_get(json_object_get(p,
		    props[i]), "type")))
			fail_msg("no typed property %s", props[i]);
	}
	assert_int_equal(json_object_size(p), i);
	if (required == NULL) {
		assert_null(req);
		return;
	}
	assert_int_equal(json_array_size(req), 1);
	assert_string_equal(json_string_value(json_array_get(req, 0)),
	    required);
}

static int
hint(json_t *tool, const char *name)
{
	return json_is_true(json_object_get(json_object_get(tool,
	    "annotations"), name));
}

static void
test_tools_list_has_the_three_tools_with_schemas(void **state)
{
	static const char *setup[] = { "port", "bastion_server",
	    "secret_key_path", "target", "user_mode", "host_key", "run_as",
	    "proxy_jump", NULL };
	static const char *status[] = { "port", "json", NULL };
	static const char *remove[] = { "port", "user_mode", NULL };
	json_t *resp, *tools, *t;

	resp = handle(*state, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"tools/list\",\"params\":{}}");
	tools = json_object_get(result_of(resp), "tools");
	assert_int_equal(json_array_size(tools), 3);

	t = tool_named(tools, "tunnel_setup");
	assert_schema(t, "port", setup);
	assert_true(hint(t, "idempotentHint"));
	assert_false(hint(t, "readOnlyHint"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_object_get(json_object_get(t, "inputSchema"), "properties"),
	    "port"), "type")), "integer");

	t = tool_named(tools, "tunnel_status");
	assert_schema(t, NULL, status);
	assert_true(hint(t, "readOnlyHint"));

	t = tool_named(tools, "tunnel_remove");
	assert_schema(t, "port", remove);
	assert_true(hint(t, "destructiveHint"));
	json_decref(resp);
}

/* ---- errors ------------------------------------------------------------ */

static void
test_unknown_method_is_32601(void **state)
{
	json_t *resp = handle(*state, "{\"jsonrpc\":\"2.0\",\"id\":2,"
	    "\"method\":\"resources/list\"}");

	assert_int_equal(error_code_of(resp, 0), -32601);
	assert_int_equal(json_integer_value(json_object_get(resp, "id")), 2);
	json_decref(resp);
}

static void
test_unknown_tool_is_32602(void **state)
{
	json_t *resp = call_tool(*state, "tunnel_explode", "{}");

	assert_int_equal(error_code_of(resp, 0), -32602);
	assert_contains(error_message_of(resp), "tunnel_explode");
	json_decref(resp);
}

static void
test_tools_call_without_a_name_is_32602(void **state)
{
	json_t *resp = handle(*state, "{\"jsonrpc\":\"2.0\",\"id\":2,"
	    "\"method\":\"tools/call\",\"params\":{\"arguments\":{}}}");

	assert_int_equal(error_code_of(resp, 0), -32602);
	json_decref(resp);
}

static void
test_tools_call_with_non_object_arguments_is_32602(void **state)
{
	json_t *resp = call_tool(*state, "tunnel_status", "[1]");

	assert_int_equal(error_code_of(resp, 0), -32602);
	json_decref(resp);
}

static void
test_wrong_argument_type_is_a_tool_error(void **state)
{
	json_t *resp = call_tool(*state, "tunnel_setup", "{\"port\":\"x\"}");
	json_t *result = result_of(resp);

	assert_true(is_error_of(result));
	assert_contains(sc_string(result, "stderr"), "'port'");
	assert_contains(sc_string(result, "stderr"), "integer");
	assert_int_equal(json_integer_value(json_object_get(
	    structured_of(result), "exit_code")), TETHER_EXIT_USAGE);
	assert_int_equal(fake.setup_calls, 0);
	json_decref(resp);
}

static void
test_real_number_port_is_a_tool_error(void **state)
{
	json_t *resp = call_tool(*state, "tunnel_remove", "{\"port\":22.5}");

	assert_true(is_error_of(result_of(resp)));
	assert_int_equal(fake.remove_calls, 0);
	json_decref(resp);
}

static void
test_port_as_a_string_of_digits_is_that_port(void **state)
{
	json_t *resp = call_tool(*state, "tunnel_remove", "{\"port\":\"2241\"}");

	assert_int_equal(fake.remove_calls, 1);
	assert_int_equal(fake.remove.port, 2241);
	json_decref(resp);
}

static void
test_port_as_a_string_with_letters_is_a_tool_error(void **state)
{
	json_t *resp = call_tool(*state, "tunnel_remove",
	    "{\"port\":\"22x\"}");

	assert_true(is_error_of(result_of(resp)));
	assert_int_equal(fake.remove_calls, 0);
	json_decref(resp);
}

static void
test_unknown_argument_is_refused(void **state)
{
	json_t *resp = call_tool(*state, "tunnel_remove",
	    "{\"port\":2222,\"force\":true}");
	json_t *result = result_of(resp);

	assert_true(is_error_of(result));
	assert_contains(sc_string(result, "stderr"), "'force'");
	assert_int_equal(fake.remove_calls, 0);
	json_decref(resp);
}

static void
test_missing_port_is_refused(void **state)
{
	json_t *resp = call_tool(*state, "tunnel_setup",
	    "{\"bastion_server\":\"b\"}");
	json_t *result = result_of(resp);

	assert_true(is_error_of(result));
	assert_contains(sc_string(result, "stderr"), "'port'");
	assert_int_equal(fake.setup_calls, 0);
	json_decref(resp);
}

static void
test_port_out_of_range_is_refused(void **state)
{
	static const char *ports[] = { "0", "65536", "-1",
	    "4294967318", NULL };
	char args[64];
	json_t *resp;
	size_t i;

	for (i = 0; ports[i] != NULL; i++) {
		snprintf(args, sizeof args, "{\"port\":%s}", ports[i]);
		resp = call_tool(*state, "tunnel_setup", args);
		if (!is_error_of(result_of(resp)))
			fail_msg("port %s accepted", ports[i]);
		json_decref(resp);
	}
	assert_int_equal(fake.setup_calls, 0);
}

static void
test_malformed_json_is_32700_with_null_id(void **state)
{
	json_t *resp = handle(*state, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"ping\"");

	assert_int_equal(error_code_of(resp, 1), -32700);
	json_decref(resp);
}

static void
test_duplicate_keys_are_a_parse_error(void **state)
{
	json_t *resp = handle(*state, "{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,"
	    "\"method\":\"ping\"}");

	assert_int_equal(error_code_of(resp, 1), -32700);
	json_decref(resp);
}

static void
test_invalid_utf8_is_a_parse_error(void **state)
{
	json_t *resp = handle(*state, "{\"jsonrpc\":\"2.0\",\"id\":\"\xff\","
	    "\"method\":\"ping\"}");

	assert_int_equal(error_code_of(resp, 1), -32700);
	json_decref(resp);
}

static void
test_json_array_is_32600(void **state)
{
	json_t *resp = handle(*state, "[{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"ping\"}]");

	assert_int_equal(error_code_of(resp, 1), -32600);
	json_decref(resp);
}

static void
test_scalar_is_32600(void **state)
{
	json_t *resp = handle(*state, "42");

	assert_int_equal(error_code_of(resp, 1), -32600);
	json_decref(resp);
}

static void
test_wrong_jsonrpc_version_is_32600(void **state)
{
	json_t *resp = handle(*state, "{\"jsonrpc\":\"1.0\",\"id\":4,"
	    "\"method\":\"ping\"}");

	assert_int_equal(error_code_of(resp, 0), -32600);
	assert_int_equal(json_integer_value(json_object_get(resp, "id")), 4);
	json_decref(resp);
}

static void
test_bad_id_type_is_32600_with_null_id(void **state)
{
	static const char *ids[] = { "true", "null", "{}", "[1]", NULL };
	char msg[128];
	json_t *resp;
	size_t i;

	for (i = 0; ids[i] != NULL; i++) {
		snprintf(msg, sizeof msg, "{\"jsonrpc\":\"2.0\",\"id\":%s,"
		    "\"method\":\"ping\"}", ids[i]);
		resp = handle(*state, msg);
		assert_int_equal(error_code_of(resp, 1), -32600);
		json_decref(resp);
	}
}

static void
test_two_mib_message_is_refused(void **state)
{
	static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"ping\",\"params\":{\"pad\":\"";
	size_t len = 2 * 1024 * 1024, i;
	json_t *resp;
	char *msg;

	/* Valid JSON: the size alone must be the reason. */
	msg = malloc(len);
	assert_non_null(msg);
	memcpy(msg, head, sizeof head - 1);
	for (i = sizeof head - 1; i < len - 3; i++)
		msg[i] = 'a';
	memcpy(msg + len - 3, "\"}}", 3);
	resp = handle_n(*state, msg, len);
	assert_int_equal(error_code_of(resp, 1), -32600);
	assert_contains(error_message_of(resp), "too large");
	free(msg);
	json_decref(resp);
}

static void
test_message_at_the_limit_is_parsed(void **state)
{
	static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"ping\"}";
	size_t len = MCP_MESSAGE_MAX, i;
	json_t *resp;
	char *msg;

	msg = malloc(len);
	assert_non_null(msg);
	memcpy(msg, head, sizeof head - 1);
	for (i = sizeof head - 1; i < len; i++)
		msg[i] = ' ';
	resp = handle_n(*state, msg, len);
	result_of(resp);
	free(msg);
	json_decref(resp);
}

/* ---- tools/call against the fake operations ---------------------------- */

static void
test_setup_maps_the_arguments(void **state)
{
	json_t *resp = call_tool(*state, "tunnel_setup", "{\"port\":2222,"
	    "\"bastion_server\":\"me@bastion:2200\",\"secret_key_path\":"
	    "\"/k/id\",\"target\":\"10.0.0.5:22\",\"user_mode\":true,"
	    "\"host_key\":\"SHA256:abc\"}");

	assert_false(is_error_of(result_of(resp)));
	assert_int_equal(fake.setup_calls, 1);
	assert_int_equal(fake.setup.port, 2222);
	assert_string_equal(fake.bastion, "me@bastion:2200");
	assert_string_equal(fake.key, "/k/id");
	assert_string_equal(fake.target, "10.0.0.5:22");
	assert_string_equal(fake.host_key, "SHA256:abc");
	assert_int_equal(fake.setup.mode, TETHER_MODE_USER);
	assert_int_equal(fake.setup.dry_run, 0);
	assert_true(fake.run_as_null);
	json_decref(resp);
}

static void
test_setup_run_as_names_the_service_user(void **state)
{
	json_t *resp = call_tool(*state, "tunnel_setup",
	    "{\"port\":2222,\"run_as\":\"tunnel\"}");

	assert_int_equal(fake.setup_calls, 1);
	assert_string_equal(fake.run_as, "tunnel");
	assert_int_equal(fake.setup.mode, TETHER_MODE_SYSTEM);
	json_decref(resp);
}

static void
test_setup_leaves_absent_and_empty_arguments_to_the_environment(
    void **state)
{
	json_t *resp = call_tool(*state, "tunnel_setup",
	    "{\"port\":22,\"bastion_server\":\"\"}");

	assert_int_equal(fake.setup_calls, 1);
	assert_true(fake.bastion_null);
	assert_true(fake.key_null);
	assert_true(fake.target_null);
	assert_true(fake.host_key_null);
	assert_int_equal(fake.setup.mode, TETHER_MODE_SYSTEM);
	json_decref(resp);
}

static void
test_remove_maps_port_and_mode(void **state)
{
	json_t *resp = call_tool(*state, "tunnel_remove",
	    "{\"port\":65535,\"user_mode\":false}");

	assert_int_equal(fake.remove_calls, 1);
	assert_int_equal(fake.remove.port, 65535);
	assert_int_equal(fake.remove.mode, TETHER_MODE_SYSTEM);
	json_decref(resp);
}

static void
test_status_without_arguments_asks_for_every_tunnel(void **state)
{
	json_t *resp = call_tool(*state, "tunnel_status", NULL);

	assert_int_equal(fake.status_calls, 1);
	assert_int_equal(fake.status.port, 0);
	assert_true(fake.status.all_modes);
	json_decref(resp);
}

static void
test_result_carries_the_operation_output(void **state)
{
	json_t *resp, *result, *sc, *text;
	json_t *parsed;

	fake.success = 0;
	fake.out = "partial\n";
	fake.err = "Failed to set up tunnel on port 22.\n";
	resp = call_tool(*state, "tunnel_setup", "{\"port\":22}");
	result = result_of(resp);
	sc = structured_of(result);
	assert_true(is_error_of(result));
	assert_true(json_is_false(json_object_get(sc, "success")));
	assert_string_equal(sc_string(result, "stdout"), "partial\n");
	assert_string_equal(sc_string(result, "stderr"), fake.err);
	assert_int_equal(json_integer_value(json_object_get(sc, "exit_code")),
	    TETHER_EXIT_CONFIG);
	/* The text block is the same object as JSON text. */
	text = json_object_get(json_array_get(json_object_get(result,
	    "content"), 0), "text");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(result, "content"), 0), "type")), "text");
	parsed = json_loads(json_string_value(text), 0, NULL);
	assert_non_null(parsed);
	assert_true(json_equal(parsed, sc));
	json_decref(parsed);
	json_decref(resp);
}

static void
test_status_tunnels_are_parsed_into_structured_content(void **state)
{
	json_t *resp, *tunnels;

	fake.json = "{\"tunnels\":[{\"port\":2222}],\"count\":1}";
	resp = call_tool(*state, "tunnel_status", "{\"port\":2222}");
	tunnels = json_object_get(structured_of(result_of(resp)), "tunnels");
	assert_true(json_is_object(tunnels));
	assert_int_equal(json_integer_value(json_object_get(tunnels,
	    "count")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    json_object_get(tunnels, "tunnels"), 0), "port")), 2222);
	assert_string_equal(sc_string(result_of(resp), "stdout"), "done\n");
	assert_int_equal(fake.status.port, 2222);
	json_decref(resp);
}

static void
test_status_json_puts_the_document_in_stdout(void **state)
{
	json_t *resp;

	fake.json = "{\"tunnels\":[]}";
	resp = call_tool(*state, "tunnel_status", "{\"json\":true}");
	assert_string_equal(sc_string(result_of(resp), "stdout"), fake.json);
	json_decref(resp);
}

static void
test_malformed_status_json_is_an_internal_error(void **state)
{
	json_t *resp;

	fake.json = "[{";
	resp = call_tool(*state, "tunnel_status", "{}");
	assert_int_equal(error_code_of(resp, 0), -32603);
	json_decref(resp);
}

static void
test_invalid_utf8_output_becomes_replacement_characters(void **state)
{
	json_t *resp;

	fake.out = "caf\xe9 \xed\xa0\x80!";
	resp = call_tool(*state, "tunnel_status", "{}");
	assert_string_equal(sc_string(result_of(resp), "stdout"),
	    "caf\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd!");
	json_decref(resp);
}

/* ---- the 2026-07-28 revision ------------------------------------------ */

#define META_2026 "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":" \
	"\"2026-07-28\"}"

static void
test_server_discover_lists_the_versions(void **state)
{
	json_t *resp = handle(*state, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"server/discover\",\"params\":{" META_2026 "}}");
	json_t *result = result_of(resp);
	json_t *versions = json_object_get(result, "supportedVersions");

	assert_string_equal(json_string_value(json_array_get(versions, 0)),
	    "2026-07-28");
	assert_int_equal(json_array_size(versions), 5);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    result, "serverInfo"), "name")), "tether");
	assert_string_equal(json_string_value(json_object_get(result,
	    "resultType")), "complete");
	json_decref(resp);
}

static void
test_request_with_2026_meta_needs_no_handshake(void **state)
{
	json_t *resp = handle(*state, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"tools/list\",\"params\":{" META_2026 "}}");
	json_t *result = result_of(resp);

	assert_int_equal(json_array_size(json_object_get(result, "tools")), 3);
	assert_string_equal(json_string_value(json_object_get(result,
	    "resultType")), "complete");
	assert_true(json_is_integer(json_object_get(result, "ttlMs")));
	assert_true(json_is_string(json_object_get(result, "cacheScope")));
	json_decref(resp);
}

static void
test_initialize_selects_the_handshake_revision(void **state)
{
	json_t *resp;

	json_decref(initialize(*state, "2025-11-25"));
	resp = handle(*state, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"tools/list\",\"params\":{" META_2026 "}}");
	assert_null(json_object_get(result_of(resp), "resultType"));
	assert_null(json_object_get(result_of(resp), "ttlMs"));
	json_decref(resp);
}

static void
test_unknown_meta_version_is_refused(void **state)
{
	json_t *resp = handle(*state, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"tools/list\",\"params\":{\"_meta\":{"
	    "\"io.modelcontextprotocol/protocolVersion\":\"2099-01-01\"}}}");

	assert_int_equal(error_code_of(resp, 0), -32602);
	assert_contains(error_message_of(resp), "2026-07-28");
	json_decref(resp);
}

/* ---- the real C API --------------------------------------------------- */

/*
 * The sandbox isolates user mode only: system tunnels of the host (a live
 * `tether run` as root, say) may be listed too, so the result must be
 * consistent rather than a success.
 */
static void
test_status_through_the_real_api_reports_consistently(void **state)
{
	struct sandbox *sb = *state;
	json_t *resp, *result, *sc;
	int success;

	resp = call_tool(sb->server, "tunnel_status", "{}");
	result = result_of(resp);
	sc = structured_of(result);
	assert_true(json_is_boolean(json_object_get(sc, "success")));
	success = json_is_true(json_object_get(sc, "success"));
	assert_int_equal(is_error_of(result), !success);
	assert_int_equal(json_integer_value(json_object_get(sc, "exit_code")) ==
	    TETHER_EXIT_OK, success);
	assert_true(json_is_object(json_object_get(sc, "tunnels")));
	json_decref(resp);
}

static void
test_setup_without_bastion_is_an_error_with_the_seed_message(void **state)
{
	struct sandbox *sb = *state;
	json_t *resp, *result;

	resp = call_tool(sb->server, "tunnel_setup", "{\"port\":2222}");
	result = result_of(resp);
	assert_true(is_error_of(result));
	assert_contains(sc_string(result, "stderr"), SEED_NO_BASTION);
	assert_int_not_equal(json_integer_value(json_object_get(
	    structured_of(result), "exit_code")), TETHER_EXIT_OK);
	json_decref(resp);
}

/* ---- tether mcp list-tools ------------------------------------------- */

static char *
print_tools(int verbose)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f;

	f = open_memstream(&text, &size);
	assert_non_null(f);
	assert_int_equal(mcp_print_tools(f, "tether", verbose), 0);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void
test_list_tools_prints_one_indented_name_a_line(void **state)
{
	char *text = print_tools(0);

	assert_string_equal(text, "tether MCP tools:\n\n  tunnel_setup\n"
	    "  tunnel_status\n  tunnel_remove\n");
	free(text);
}

static void
test_list_tools_verbose_adds_descriptions_then_schemas(void **state)
{
	char *v = print_tools(1), *vv = print_tools(2);

	assert_contains(v, "  tunnel_remove\n      Stop");
	assert_null(strstr(v, "\"properties\""));
	assert_contains(vv, "\"properties\"");
	assert_contains(vv, "\"additionalProperties\": false");
	free(v);
	free(vv);
}

static void
test_mcp_main_refuses_an_unknown_subcommand(void **state)
{
	char *argv[] = { "serve", NULL };

	assert_int_equal(cmd_mcp_entry.exec(1, argv), TETHER_EXIT_USAGE);
	assert_int_equal(cmd_mcp_entry.exec(0, argv + 1), TETHER_EXIT_USAGE);
}

#define fake_test(f) cmocka_unit_test_setup_teardown(f, fake_server_new, \
	server_free)
#define sandbox_test(f) cmocka_unit_test_setup_teardown(f, sandbox_new, \
	sandbox_free)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		fake_test(test_initialize_answers_with_the_clients_supported_version),
		fake_test(test_initialize_with_unknown_version_gets_2025_06_18),
		fake_test(test_initialize_without_protocol_version_is_invalid_params),
		fake_test(test_id_0_is_echoed),
		fake_test(test_string_id_is_echoed),
		fake_test(test_large_number_id_is_echoed),
		fake_test(test_notification_gets_no_response),
		fake_test(test_response_from_the_client_gets_no_response),
		fake_test(test_ping_answers_an_empty_result),

		fake_test(test_tools_list_has_the_three_tools_with_schemas),

		fake_test(test_unknown_method_is_32601),
		fake_test(test_unknown_tool_is_32602),
		fake_test(test_tools_call_without_a_name_is_32602),
		fake_test(test_tools_call_with_non_object_arguments_is_32602),
		fake_test(test_wrong_argument_type_is_a_tool_error),
		fake_test(test_port_as_a_string_of_digits_is_that_port),
		fake_test(test_port_as_a_string_with_letters_is_a_tool_error),
		fake_test(test_real_number_port_is_a_tool_error),
		fake_test(test_unknown_argument_is_refused),
		fake_test(test_missing_port_is_refused),
		fake_test(test_port_out_of_range_is_refused),
		fake_test(test_malformed_json_is_32700_with_null_id),
		fake_test(test_duplicate_keys_are_a_parse_error),
		fake_test(test_invalid_utf8_is_a_parse_error),
		fake_test(test_json_array_is_32600),
		fake_test(test_scalar_is_32600),
		fake_test(test_wrong_jsonrpc_version_is_32600),
		fake_test(test_bad_id_type_is_32600_with_null_id),
		fake_test(test_two_mib_message_is_refused),
		fake_test(test_message_at_the_limit_is_parsed),

		fake_test(test_setup_maps_the_arguments),
		fake_test(test_setup_run_as_names_the_service_user),
		fake_test(test_setup_leaves_absent_and_empty_arguments_to_the_environment),
		fake_test(test_remove_maps_port_and_mode),
		fake_test(test_status_without_arguments_asks_for_every_tunnel),
		fake_test(test_result_carries_the_operation_output),
		fake_test(test_status_tunnels_are_parsed_into_structured_content),
		fake_test(test_status_json_puts_the_document_in_stdout),
		fake_test(test_malformed_status_json_is_an_internal_error),
		fake_test(test_invalid_utf8_output_becomes_replacement_characters),

		fake_test(test_server_discover_lists_the_versions),
		fake_test(test_request_with_2026_meta_needs_no_handshake),
		fake_test(test_initialize_selects_the_handshake_revision),
		fake_test(test_unknown_meta_version_is_refused),

		sandbox_test(test_status_through_the_real_api_reports_consistently),
		sandbox_test(test_setup_without_bastion_is_an_error_with_the_seed_message),

		cmocka_unit_test(test_list_tools_prints_one_indented_name_a_line),
		cmocka_unit_test(test_list_tools_verbose_adds_descriptions_then_schemas),
		cmocka_unit_test(test_mcp_main_refuses_an_unknown_subcommand),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
