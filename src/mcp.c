/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The MCP server: JSON-RPC 2.0 over newline-delimited stdio.
 *
 * Errors follow the 2025-11-25 specification: a message that is not a valid
 * request, an unknown method or tool, or tools/call params that are not
 * {name, arguments} are protocol errors (JSON-RPC error codes). Arguments
 * that break a tool's inputSchema (a wrong type, an unknown or a missing
 * argument, a port out of range) and a tool that fails are tool results
 * with isError: true, so the model reads what went wrong and can correct it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "tether/exit.h"
#include "ops.h"
#include "error.h"
#include "log.h"
#include "mcp.h"
#include "spec.h"

#define MCP_FALLBACK_VERSION "2025-06-18"
#define MCP_MODERN_VERSION "2026-07-28"
#define MCP_META_VERSION "io.modelcontextprotocol/protocolVersion"
/* The tools never change while the binary runs. */
#define MCP_LIST_TTL_MS 3600000
#define MCP_READ_CHUNK 65536
#define MCP_MSG_MAX 256

#define MCP_INSTRUCTIONS \
	"tether keeps reverse SSH tunnels to a bastion up, one service per " \
	"remote port. tunnel_status lists them, tunnel_setup installs and " \
	"starts one, tunnel_remove stops and deletes one."

enum {
	RPC_PARSE_ERROR = -32700,
	RPC_INVALID_REQUEST = -32600,
	RPC_METHOD_NOT_FOUND = -32601,
	RPC_INVALID_PARAMS = -32602,
	RPC_INTERNAL_ERROR = -32603,
};

static const char *const legacy_versions[] = { "2024-11-05", "2025-03-26",
	"2025-06-18", "2025-11-25", NULL };

struct mcp_server {
	struct mcp_ops ops;
	json_t *tools; /* the tools/list array, built once */
	int legacy;    /* an initialize came: handshake semantics */
};

struct mcp_request {
	json_t *id; /* borrowed */
	const char *method;
	json_t *params; /* borrowed; an empty object when absent */
	int modern;     /* served under 2026-07-28 */
};

struct rpc_error {
	int code; /* 0 = out of memory */
	char msg[MCP_MSG_MAX];
};

static void rpc_error_set(struct rpc_error *, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
rpc_error_set(struct rpc_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
}

/* ---- text ------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (n > 0 bytes left), 0 if none. */
static size_t
utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	return len;
}

/*
 * A JSON string of text from outside (systemctl output, a parser's
 * message): jansson refuses invalid UTF-8, so those bytes become U+FFFD.
 */
static json_t *
text_string(const char *s)
{
	const unsigned char *in;
	size_t n, i, o, k;
	json_t *j;
	char *copy;

	if (s == NULL)
		s = "";
	if ((j = json_string(s)) != NULL)
		return j;
	n = strlen(s);
	if (n > (SIZE_MAX - 1) / 3 || (copy = malloc(n * 3 + 1)) == NULL)
		return NULL;
	in = (const unsigned char *)s;
	for (i = o = 0; i < n; i += k) {
		k = utf8_seq_len(in + i, n - i);
		if (k == 0) {
			memcpy(copy + o, "\xef\xbf\xbd", 3);
			o += 3;
			k = 1;
		} else {
			memcpy(copy + o, in + i, k);
			o += k;
		}
	}
	copy[o] = '\0';
	j = json_string(copy);
	free(copy);
	return j;
}

static const char *
json_type_word(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a non-integer number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "a value";
}

/* ---- tool definitions -------------------------------------------------- */

static json_t *
schema_prop(const char *type, const char *description)
{
	return json_pack("{s:s, s:s}", "type", type, "description",
	    description);
}

static json_t *
schema_port(const char *description)
{
	return json_pack("{s:s, s:i, s:i, s:s}", "type", "integer", "minimum",
	    1, "maximum", SPEC_PORT_MAX, "description", description);
}

/* Steals properties. required: NULL or one name. */
static json_t *
schema_object(json_t *properties, const char *required)
{
	json_t *schema;

	schema = json_pack("{s:s, s:o, s:b}", "type", "object", "properties",
	    properties, "additionalProperties", 0);
	if (schema != NULL && required != NULL &&
	    json_object_set_new(schema, "required",
	        json_pack("[s]", required)) == -1) {
		json_decref(schema);
		return NULL;
	}
	return schema;
}

static json_t *
schema_output(int with_tunnels)
{
	json_t *props;

	props = json_pack("{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}", "success",
	    "type", "boolean", "stdout", "type", "string", "stderr", "type",
	    "string", "exit_code", "type", "integer");
	if (props != NULL && with_tunnels &&
	    json_object_set_new(props, "tunnels",
	        json_pack("{s:s, s:s}", "type", "object", "description",
	            "what tether status --json prints: "
	            "{tunnels: [...], count, forwarding}")) == -1) {
		json_decref(props);
		return NULL;
	}
	if (props == NULL)
		return NULL;
	return json_pack("{s:s, s:o, s:[s, s, s, s]}", "type", "object",
	    "properties", props, "required", "success", "stdout", "stderr",
	    "exit_code");
}

/* Steals input and annotations. */
static json_t *
tool_entry(const char *name, const char *title, const char *description,
    json_t *input, json_t *annotations, int with_tunnels)
{
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "name", name,
	    "title", title, "description", description, "inputSchema", input,
	    "outputSchema", schema_output(with_tunnels), "annotations",
	    annotations);
}

static json_t *
setup_define(void)
{
	json_t *props;

	props = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "port",
	    schema_port("remote port on the bastion that leads back "
	                "here"),
	    "bastion_server",
	    schema_prop("string",
	        "the bastion, [user@]host[:port]; default $TETHER_BASTION or "
	        "$SCITEX_TUNNEL_BASTION_SERVER"),
	    "secret_key_path",
	    schema_prop("string",
	        "private key for the "
	        "bastion; default $TETHER_KEY or $SCITEX_TUNNEL_SECRET_KEY_PATH"),
	    "target",
	    schema_prop("string",
	        "HOST:PORT the tunnel leads to, "
	        "seen from this machine; default localhost:22"),
	    "user_mode",
	    schema_prop("boolean",
	        "a per-user service instead of a system one; default false"),
	    "host_key",
	    schema_prop("string",
	        "pin the bastion's host key, "
	        "SHA256:... as ssh-keygen -l prints it (ask the bastion's "
	        "admin); then no known_hosts entry is needed"),
	    "run_as",
	    schema_prop("string",
	        "system mode: the user the tunnel runs as, who owns the key "
	        "(never root unless given as root); default the sudo caller"),
	    "proxy_jump",
	    schema_prop("string",
	        "jump hosts on the way to the bastion, "
	        "[user@]host[:port][,...] as ssh -J takes them"));
	return tool_entry("tunnel_setup", "Set up a reverse SSH tunnel",
	    "Install, enable and start a tether service that keeps the port "
	    "on the bastion forwarded to this machine's SSH server (or to "
	    "target). bastion_server and secret_key_path fall back to the "
	    "server's environment (TETHER_BASTION or "
	    "SCITEX_TUNNEL_BASTION_SERVER, TETHER_KEY or "
	    "SCITEX_TUNNEL_SECRET_KEY_PATH).",
	    schema_object(props, "port"),
	    json_pack("{s:b, s:b, s:b, s:b}", "readOnlyHint", 0,
	        "destructiveHint", 0, "idempotentHint", 1, "openWorldHint", 1),
	    0);
}

static json_t *
status_define(void)
{
	json_t *props;

	props = json_pack("{s:o, s:o}", "port",
	    schema_port("only the tunnel on this remote port"), "json",
	    schema_prop("boolean",
	        "stdout holds the JSON document instead of text"));
	return tool_entry("tunnel_status", "Show tunnel status",
	    "Show tether's tunnels (every one, or the one on port) in system "
	    "and user mode, and whether each is up. structuredContent.tunnels "
	    "holds them as JSON.",
	    schema_object(props, NULL),
	    json_pack("{s:b, s:b}", "readOnlyHint", 1, "openWorldHint", 0), 1);
}

static json_t *
remove_define(void)
{
	json_t *props;

	props = json_pack("{s:o, s:o}", "port",
	    schema_port("remote port of the tunnel to remove"), "user_mode",
	    schema_prop("boolean",
	        "remove a per-user tunnel "
	        "instead of a system one; default false"));
	return tool_entry("tunnel_remove", "Remove a tunnel",
	    "Stop, disable and delete the tether service of the tunnel on "
	    "port.",
	    schema_object(props, "port"),
	    json_pack("{s:b, s:b, s:b, s:b}", "readOnlyHint", 0,
	        "destructiveHint", 1, "idempotentHint", 1, "openWorldHint", 0),
	    0);
}

/* ---- tool results ------------------------------------------------------ */

/* Steals tunnels (may be NULL). */
static json_t *
tool_result(int success, int exit_code, const char *out, const char *err,
    json_t *tunnels)
{
	json_t *sc, *result;
	char *text;

	sc = json_pack("{s:b, s:o, s:o, s:i}", "success", success, "stdout",
	    text_string(out), "stderr", text_string(err), "exit_code",
	    exit_code);
	if (sc == NULL) {
		json_decref(tunnels);
		return NULL;
	}
	if (tunnels != NULL &&
	    json_object_set_new(sc, "tunnels", tunnels) == -1) {
		json_decref(sc);
		return NULL;
	}
	if ((text = json_dumps(sc, JSON_COMPACT)) == NULL) {
		json_decref(sc);
		return NULL;
	}
	/* The text block is for clients that ignore structuredContent. */
	result = json_pack("{s:[{s:s, s:s}], s:o, s:b}", "content", "type",
	    "text", "text", text, "structuredContent", sc, "isError", !success);
	free(text);
	return result;
}

static json_t *
tool_invalid(const char *tool, const char *why)
{
	char err[MCP_MSG_MAX + 64];

	snprintf(err, sizeof err, "%s: %s", tool, why);
	return tool_result(0, TETHER_EXIT_USAGE, "", err, NULL);
}

/* The value of one argument against its property schema. */
static int
arg_check(const char *key, json_t *prop, json_t *v, char *msg, size_t size)
{
	const char *type = json_string_value(json_object_get(prop, "type"));
	json_t *min = json_object_get(prop, "minimum");
	json_t *max = json_object_get(prop, "maximum");
	int ok;

	if (type == NULL)
		return 0;
	if (strcmp(type, "integer") == 0)
		ok = json_is_integer(v);
	else if (strcmp(type, "string") == 0)
		ok = json_is_string(v);
	else if (strcmp(type, "boolean") == 0)
		ok = json_is_boolean(v);
	else
		ok = 1;
	if (!ok) {
		snprintf(msg, size, "argument '%.64s' must be %s %s, not %s",
		    key, type[0] == 'i' ? "an" : "a", type, json_type_word(v));
		return -1;
	}
	if (json_is_integer(v) &&
	    ((min != NULL && json_integer_value(v) < json_integer_value(min)) ||
	        (max != NULL &&
	            json_integer_value(v) > json_integer_value(max)))) {
		snprintf(msg, size,
		    "argument '%.64s' must be from %lld to %lld, not %lld", key,
		    (long long)json_integer_value(min),
		    (long long)json_integer_value(max),
		    (long long)json_integer_value(v));
		return -1;
	}
	return 0;
}

/*
 * Arguments against the inputSchema the tool publishes (the subset tether's
 * schemas use), so a refusal names the argument at fault.
 */
static int
args_check(json_t *schema, json_t *args, char *msg, size_t size)
{
	json_t *props = json_object_get(schema, "properties");
	json_t *required = json_object_get(schema, "required");
	const char *key;
	json_t *v, *prop;
	size_t i;

	json_object_foreach(args, key, v) {
		if ((prop = json_object_get(props, key)) == NULL) {
			snprintf(msg, size, "unknown argument '%.64s'", key);
			return -1;
		}
		if (arg_check(key, prop, v, msg, size) == -1)
			return -1;
	}
	json_array_foreach(required, i, v) {
		if (json_object_get(args, json_string_value(v)) == NULL) {
			snprintf(msg, size, "missing argument '%s'",
			    json_string_value(v));
			return -1;
		}
	}
	return 0;
}

/* Like the seed's `value or os.getenv(...)`: "" means the environment. */
static const char *
empty_to_null(const char *s)
{
	return s != NULL && s[0] == '\0' ? NULL : s;
}

/* Turns what an operation filled in into a result, then frees it. */
static json_t *
tool_finish(const struct mcp_server *s, struct api_result *res,
    int with_tunnels, int json_stdout, struct rpc_error *err)
{
	json_t *tunnels = NULL, *result;
	json_error_t jerr;
	const char *out = res->out;

	if (with_tunnels && res->json != NULL) {
		tunnels = json_loads(res->json, JSON_REJECT_DUPLICATES, &jerr);
		if (tunnels == NULL) {
			rpc_error_set(err, RPC_INTERNAL_ERROR,
			    "api_status returned malformed JSON: %s",
			    jerr.text);
			s->ops.result_free(res);
			return NULL;
		}
		if (json_stdout)
			out = res->json;
	}
	result = tool_result(res->success != 0, res->exit_code, out, res->err,
	    tunnels);
	s->ops.result_free(res);
	return result;
}

static json_t *
setup_call(const struct mcp_server *s, json_t *args, struct rpc_error *err)
{
	struct api_setup_opts opts;
	struct api_result res;
	const char *bastion = NULL, *key = NULL, *target = NULL;
	const char *host_key = NULL, *run_as = NULL, *jump = NULL;
	json_error_t jerr;
	json_int_t port;
	int user_mode = 0;

	if (json_unpack_ex(args, &jerr, JSON_STRICT,
	        "{s:I, s?:s, s?:s, s?:s, s?:b, s?:s, s?:s, s?:s}", "port",
	        &port, "bastion_server", &bastion, "secret_key_path", &key,
	        "target", &target, "user_mode", &user_mode, "host_key",
	        &host_key, "run_as", &run_as, "proxy_jump", &jump) == -1)
		return tool_invalid("tunnel_setup", jerr.text);
	memset(&opts, 0, sizeof opts);
	opts.port = (int)port;
	opts.bastion = empty_to_null(bastion);
	opts.key_path = empty_to_null(key);
	opts.target = empty_to_null(target);
	opts.host_key = empty_to_null(host_key);
	opts.run_as = empty_to_null(run_as);
	opts.proxy_jump = empty_to_null(jump);
	opts.mode = user_mode ? TETHER_MODE_USER : TETHER_MODE_SYSTEM;
	memset(&res, 0, sizeof res);
	s->ops.setup(&opts, &res);
	return tool_finish(s, &res, 0, 0, err);
}

static json_t *
status_call(const struct mcp_server *s, json_t *args, struct rpc_error *err)
{
	struct api_status_opts opts;
	struct api_result res;
	json_error_t jerr;
	json_int_t port = 0;
	int json_stdout = 0;

	if (json_unpack_ex(args, &jerr, JSON_STRICT, "{s?:I, s?:b}", "port",
	        &port, "json", &json_stdout) == -1)
		return tool_invalid("tunnel_status", jerr.text);
	memset(&opts, 0, sizeof opts);
	opts.port = (int)port;
	opts.all_modes = 1;
	opts.mode = TETHER_MODE_SYSTEM;
	memset(&res, 0, sizeof res);
	s->ops.status(&opts, &res);
	return tool_finish(s, &res, 1, json_stdout, err);
}

static json_t *
remove_call(const struct mcp_server *s, json_t *args, struct rpc_error *err)
{
	struct api_remove_opts opts;
	struct api_result res;
	json_error_t jerr;
	json_int_t port;
	int user_mode = 0;

	if (json_unpack_ex(args, &jerr, JSON_STRICT, "{s:I, s?:b}", "port",
	        &port, "user_mode", &user_mode) == -1)
		return tool_invalid("tunnel_remove", jerr.text);
	memset(&opts, 0, sizeof opts);
	opts.port = (int)port;
	opts.mode = user_mode ? TETHER_MODE_USER : TETHER_MODE_SYSTEM;
	memset(&res, 0, sizeof res);
	s->ops.remove(&opts, &res);
	return tool_finish(s, &res, 0, 0, err);
}

struct tool {
	const char *name;
	json_t *(*define)(void);
	json_t *(
	    *call)(const struct mcp_server *, json_t *args, struct rpc_error *);
};

/* tools/list order; index i here is index i of mcp_server.tools. */
static const struct tool tools[] = {
	{ "tunnel_setup", setup_define, setup_call },
	{ "tunnel_status", status_define, status_call },
	{ "tunnel_remove", remove_define, remove_call },
	{ NULL, NULL, NULL },
};

static json_t *
tools_build(void)
{
	json_t *list;
	size_t i;

	if ((list = json_array()) == NULL)
		return NULL;
	for (i = 0; tools[i].name != NULL; i++) {
		if (json_array_append_new(list, tools[i].define()) == -1) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

/* ---- methods ----------------------------------------------------------- */

static int
version_supported(const char *v)
{
	size_t i;

	for (i = 0; legacy_versions[i] != NULL; i++) {
		if (strcmp(legacy_versions[i], v) == 0)
			return 1;
	}
	return 0;
}

static json_t *
server_info(void)
{
	return json_pack("{s:s, s:s}", "name", "tether", "version",
	    TETHER_VERSION);
}

static json_t *
method_initialize(struct mcp_server *s, const struct mcp_request *req,
    struct rpc_error *err)
{
	const char *asked = NULL;

	if (json_unpack(req->params, "{s:s}", "protocolVersion", &asked) ==
	    -1) {
		rpc_error_set(err, RPC_INVALID_PARAMS,
		    "initialize: params.protocolVersion must be a string");
		return NULL;
	}
	s->legacy = 1;
	return json_pack("{s:s, s:{s:{}}, s:o, s:s}", "protocolVersion",
	    version_supported(asked) ? asked : MCP_FALLBACK_VERSION,
	    "capabilities", "tools", "serverInfo", server_info(),
	    "instructions", MCP_INSTRUCTIONS);
}

static json_t *
method_discover(struct mcp_server *s, const struct mcp_request *req,
    struct rpc_error *err)
{
	return json_pack("{s:[s, s, s, s, s], s:{s:{}}, s:o, s:s, s:i, s:s}",
	    "supportedVersions", MCP_MODERN_VERSION, legacy_versions[3],
	    legacy_versions[2], legacy_versions[1], legacy_versions[0],
	    "capabilities", "tools", "serverInfo", server_info(),
	    "instructions", MCP_INSTRUCTIONS, "ttlMs", MCP_LIST_TTL_MS,
	    "cacheScope", "public");
}

static json_t *
method_ping(struct mcp_server *s, const struct mcp_request *req,
    struct rpc_error *err)
{
	return json_object();
}

static json_t *
method_tools_list(struct mcp_server *s, const struct mcp_request *req,
    struct rpc_error *err)
{
	if (req->modern) {
		return json_pack("{s:O, s:i, s:s}", "tools", s->tools, "ttlMs",
		    MCP_LIST_TTL_MS, "cacheScope", "public");
	}
	return json_pack("{s:O}", "tools", s->tools);
}

/*
 * The seed's FastMCP server took "2241" for the port 2241; clients that
 * send it so keep working. Anything but plain digits is left for the
 * schema check to refuse. Returns a new reference.
 */
static json_t *
args_port_as_number(json_t *args)
{
	json_t *port = json_object_get(args, "port"), *copy;
	const char *text;
	size_t n;

	if (!json_is_string(port))
		return json_incref(args);
	text = json_string_value(port);
	n = strlen(text);
	if (n == 0 || n > 5 || strspn(text, "0123456789") != n)
		return json_incref(args);
	if ((copy = json_copy(args)) == NULL)
		return NULL;
	if (json_object_set_new(copy, "port",
	        json_integer(strtol(text, NULL, 10))) == -1) {
		json_decref(copy);
		return NULL;
	}
	return copy;
}

static json_t *
method_tools_call(struct mcp_server *s, const struct mcp_request *req,
    struct rpc_error *err)
{
	json_t *args = NULL, *given = NULL, *schema, *result;
	const char *name = NULL;
	char why[MCP_MSG_MAX];
	json_error_t jerr;
	size_t i;

	if (json_unpack_ex(req->params, &jerr, 0, "{s:s, s?:o}", "name", &name,
	        "arguments", &args) == -1 ||
	    (args != NULL && !json_is_object(args))) {
		rpc_error_set(err, RPC_INVALID_PARAMS,
		    "tools/call: params "
		    "must hold a string name and an object arguments");
		return NULL;
	}
	for (i = 0; tools[i].name != NULL; i++) {
		if (strcmp(tools[i].name, name) == 0)
			break;
	}
	if (tools[i].name == NULL) {
		rpc_error_set(err, RPC_INVALID_PARAMS, "unknown tool: %.64s",
		    name);
		return NULL;
	}
	given = args;
	args = given != NULL ? args_port_as_number(given) : json_object();
	if (args == NULL)
		return NULL;
	schema = json_object_get(json_array_get(s->tools, i), "inputSchema");
	if (args_check(schema, args, why, sizeof why) == -1)
		result = tool_invalid(tools[i].name, why);
	else
		result = tools[i].call(s, args, err);
	json_decref(args);
	return result;
}

struct method {
	const char *name;
	json_t *(*fn)(struct mcp_server *, const struct mcp_request *,
	    struct rpc_error *);
};

static const struct method methods[] = {
	{ "initialize", method_initialize },
	{ "server/discover", method_discover },
	{ "ping", method_ping },
	{ "tools/list", method_tools_list },
	{ "tools/call", method_tools_call },
	{ NULL, NULL },
};

/* ---- JSON-RPC ---------------------------------------------------------- */

/* Steals reply. */
static char *
reply_encode(json_t *reply)
{
	char *line;

	if (reply == NULL)
		return NULL;
	line = json_dumps(reply, JSON_COMPACT);
	json_decref(reply);
	return line;
}

static char *reply_error(json_t *id, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* id NULL = null: the request's id could not be read. */
static char *
reply_error(json_t *id, int code, const char *fmt, ...)
{
	char msg[MCP_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return reply_encode(json_pack("{s:s, s:o, s:{s:i, s:o}}", "jsonrpc",
	    "2.0", "id", id != NULL ? json_incref(id) : json_null(), "error",
	    "code", code, "message", text_string(msg)));
}

/* Steals result. */
static char *
reply_result(json_t *id, json_t *result)
{
	return reply_encode(json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id",
	    id, "result", result));
}

static int
id_valid(const json_t *id)
{
	return json_is_string(id) || json_is_number(id);
}

/*
 * Until an initialize selects the handshake revisions, a request may name
 * 2026-07-28 in its _meta; another version there is refused.
 */
static int
request_version(const struct mcp_server *s, struct mcp_request *req,
    struct rpc_error *err)
{
	json_t *meta, *v;

	if (s->legacy || strcmp(req->method, "initialize") == 0)
		return 0;
	meta = json_object_get(req->params, "_meta");
	v = json_is_object(meta) ? json_object_get(meta, MCP_META_VERSION) :
	                           NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v) ||
	    strcmp(json_string_value(v), MCP_MODERN_VERSION) != 0) {
		rpc_error_set(err, RPC_INVALID_PARAMS,
		    "unsupported protocol "
		    "version in _meta; supported: " MCP_MODERN_VERSION
		    ", or an initialize handshake");
		return -1;
	}
	req->modern = 1;
	return 0;
}

static char *
request_run(struct mcp_server *s, struct mcp_request *req)
{
	struct rpc_error err;
	json_t *result;
	size_t i;

	memset(&err, 0, sizeof err);
	if (request_version(s, req, &err) == -1)
		return reply_error(req->id, err.code, "%s", err.msg);
	for (i = 0; methods[i].name != NULL; i++) {
		if (strcmp(methods[i].name, req->method) == 0)
			break;
	}
	if (methods[i].name == NULL) {
		return reply_error(req->id, RPC_METHOD_NOT_FOUND,
		    "method not found: %.64s", req->method);
	}
	result = methods[i].fn(s, req, &err);
	if (result == NULL) {
		if (err.code == 0)
			return reply_error(req->id, RPC_INTERNAL_ERROR,
			    "out of memory");
		return reply_error(req->id, err.code, "%s", err.msg);
	}
	if (req->modern &&
	    json_object_set_new(result, "resultType",
	        json_string("complete")) == -1) {
		json_decref(result);
		return reply_error(req->id, RPC_INTERNAL_ERROR,
		    "out of memory");
	}
	return reply_result(req->id, result);
}

static char *
message_dispatch(struct mcp_server *s, json_t *msg)
{
	struct mcp_request req;
	json_t *version, *method, *params, *empty = NULL;
	char *reply;

	if (!json_is_object(msg)) {
		return reply_error(NULL, RPC_INVALID_REQUEST,
		    "invalid request: %s",
		    json_is_array(msg) ? "batches are not "
		                         "supported" :
		                         "not a JSON object");
	}
	method = json_object_get(msg, "method");
	/* A response to a request of ours: we send none, so none is due. */
	if (method == NULL &&
	    (json_object_get(msg, "result") != NULL ||
	        json_object_get(msg, "error") != NULL))
		return NULL;
	memset(&req, 0, sizeof req);
	req.id = json_object_get(msg, "id");
	if (req.id != NULL && !id_valid(req.id)) {
		return reply_error(NULL, RPC_INVALID_REQUEST,
		    "invalid request: id must be a string or a number");
	}
	version = json_object_get(msg, "jsonrpc");
	if (!json_is_string(version) ||
	    strcmp(json_string_value(version), "2.0") != 0) {
		return reply_error(req.id, RPC_INVALID_REQUEST,
		    "invalid request: jsonrpc must be \"2.0\"");
	}
	if (!json_is_string(method)) {
		return reply_error(req.id, RPC_INVALID_REQUEST,
		    "invalid request: method must be a string");
	}
	/* A notification: initialized and cancelled need no action. */
	if (req.id == NULL)
		return NULL;
	req.method = json_string_value(method);
	params = json_object_get(msg, "params");
	if (params != NULL && !json_is_object(params)) {
		return reply_error(req.id, RPC_INVALID_PARAMS,
		    "invalid params: params must be an object");
	}
	if (params == NULL && (params = empty = json_object()) == NULL)
		return reply_error(req.id, RPC_INTERNAL_ERROR, "out of memory");
	req.params = params;
	reply = request_run(s, &req);
	json_decref(empty);
	return reply;
}

char *
mcp_server_handle(struct mcp_server *s, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *msg;
	char *reply;

	if (len > MCP_MESSAGE_MAX) {
		return reply_error(NULL, RPC_INVALID_REQUEST,
		    "invalid "
		    "request: message too large (the limit is %zu bytes)",
		    MCP_MESSAGE_MAX);
	}
	msg = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	    &jerr);
	if (msg == NULL) {
		return reply_error(NULL, RPC_PARSE_ERROR,
		    "parse error at byte %d: %s", jerr.position, jerr.text);
	}
	reply = message_dispatch(s, msg);
	json_decref(msg);
	return reply;
}

static void
result_free_default(struct api_result *res)
{
	api_result_free(res);
}

struct mcp_server *
mcp_server_new(const struct mcp_ops *ops)
{
	static const struct mcp_ops api = { api_setup, api_status, api_remove,
		result_free_default };
	struct mcp_server *s;

	if ((s = calloc(1, sizeof *s)) == NULL)
		return NULL;
	s->ops = ops != NULL ? *ops : api;
	if ((s->tools = tools_build()) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

void
mcp_server_free(struct mcp_server *s)
{
	if (s == NULL)
		return;
	json_decref(s->tools);
	free(s);
}

/* ---- `tether mcp list-tools` ----------------------------------------- */

/* Prints text with every line indented, words wrapped before width. */
static void
print_wrapped(FILE *out, const char *text, const char *indent, size_t width)
{
	size_t col = 0, n;

	while (*text != '\0') {
		text += strspn(text, " ");
		n = strcspn(text, " ");
		if (n == 0)
			break;
		if (col > 0 && col + 1 + n > width) {
			fputc('\n', out);
			col = 0;
		}
		fprintf(out, "%s%.*s", col == 0 ? indent : " ", (int)n, text);
		col += (col == 0 ? strlen(indent) : 1) + n;
		text += n;
	}
	if (col > 0)
		fputc('\n', out);
}

/* Prints text with every line indented. */
static void
print_indented(FILE *out, const char *text, const char *indent)
{
	const char *nl;

	while (*text != '\0') {
		nl = strchr(text, '\n');
		if (nl == NULL)
			nl = text + strlen(text);
		fprintf(out, "%s%.*s\n", indent, (int)(nl - text), text);
		text = *nl == '\n' ? nl + 1 : nl;
	}
}

int
mcp_print_tools(FILE *out, const char *program, int verbose)
{
	json_t *list, *tool;
	char *schema;
	size_t i;

	if ((list = tools_build()) == NULL)
		return -1;
	fprintf(out, "%s MCP tools:\n\n", program);
	json_array_foreach(list, i, tool) {
		fprintf(out, "  %s\n",
		    json_string_value(json_object_get(tool, "name")));
		if (verbose >= 1) {
			print_wrapped(out,
			    json_string_value(
			        json_object_get(tool, "description")),
			    "      ", 78);
		}
		if (verbose >= 2) {
			schema = json_dumps(json_object_get(tool,
			                        "inputSchema"),
			    JSON_INDENT(2));
			if (schema == NULL) {
				json_decref(list);
				return -1;
			}
			print_indented(out, schema, "      ");
			free(schema);
		}
		if (verbose >= 1 &&
		    tool != json_array_get(list, json_array_size(list) - 1))
			fputc('\n', out);
	}
	json_decref(list);
	return 0;
}

/* ---- `tether mcp start` ---------------------------------------------- */

struct line_reader {
	int fd;
	size_t start, end;
	char buf[MCP_READ_CHUNK];
};

/*
 * The next line, without its newline, into line (cap bytes). A longer line
 * is cut to cap bytes and the rest skipped: len == cap tells the caller.
 * Returns 1 with a line, 0 at the end of input, -1 on a read error.
 */
static int
reader_next(struct line_reader *r, char *line, size_t cap, size_t *len)
{
	size_t n, take, total = 0;
	ssize_t got;
	char *nl;

	for (;;) {
		nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		n = (nl != NULL ? (size_t)(nl - r->buf) : r->end) - r->start;
		take = total < cap ? (n < cap - total ? n : cap - total) : 0;
		memcpy(line + total, r->buf + r->start, take);
		total += take;
		r->start += n;
		if (nl != NULL) {
			r->start++;
			*len = total;
			return 1;
		}
		r->start = r->end = 0;
		got = read(r->fd, r->buf, sizeof r->buf);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1)
			return -1;
		if (got == 0) {
			*len = total;
			return total > 0 ? 1 : 0;
		}
		r->end = (size_t)got;
	}
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * The protocol gets private copies of stdin and stdout; fd 0 becomes
 * /dev/null and fd 1 stderr, so neither a stray printf nor a child such as
 * systemctl can read a request or write into the stream.
 */
static int
stdio_take(int *in_fd, int *out_fd)
{
	int null_fd;

	*in_fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	*out_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	if (*in_fd == -1 || *out_fd == -1)
		goto fail;
	fflush(stdout);
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd == -1)
		goto fail;
	if (dup2(null_fd, STDIN_FILENO) == -1 ||
	    (dup2(STDERR_FILENO, STDOUT_FILENO) == -1 &&
	        dup2(null_fd, STDOUT_FILENO) == -1)) {
		close(null_fd);
		goto fail;
	}
	close(null_fd);
	return 0;
fail:
	if (*in_fd != -1)
		close(*in_fd);
	if (*out_fd != -1)
		close(*out_fd);
	return -1;
}

static int
serve_loop(struct mcp_server *s, struct line_reader *rd, char *line, int out_fd,
    const struct logger *lg)
{
	size_t len;
	char *reply;
	int r;

	while ((r = reader_next(rd, line, MCP_MESSAGE_MAX + 1, &len)) == 1) {
		if (len > 0 && len <= MCP_MESSAGE_MAX && line[len - 1] == '\r')
			len--;
		if (len == 0)
			continue;
		if ((reply = mcp_server_handle(s, line, len)) == NULL)
			continue;
		r = write_all(out_fd, reply, strlen(reply));
		free(reply);
		if (r == -1 || write_all(out_fd, "\n", 1) == -1) {
			log_err(lg, "cannot write to stdout: %s",
			    strerror(errno));
			return TETHER_EXIT_FAILURE;
		}
	}
	if (r == -1) {
		log_err(lg, "cannot read stdin: %s", strerror(errno));
		return TETHER_EXIT_FAILURE;
	}
	return TETHER_EXIT_OK;
}

int
mcp_serve(void)
{
	struct line_reader *rd = NULL;
	struct mcp_server *s = NULL;
	struct logger lg;
	char *line = NULL;
	int in_fd, out_fd, rc = TETHER_EXIT_FAILURE;

	log_init(&lg, "mcp", 0);
	if (stdio_take(&in_fd, &out_fd) == -1) {
		log_err(&lg, "cannot set up stdio: %s", strerror(errno));
		log_deinit(&lg);
		return TETHER_EXIT_FAILURE;
	}
	s = mcp_server_new(NULL);
	rd = calloc(1, sizeof *rd);
	line = malloc(MCP_MESSAGE_MAX + 1);
	if (s == NULL || rd == NULL || line == NULL) {
		log_err(&lg, "out of memory");
	} else {
		rd->fd = in_fd;
		rc = serve_loop(s, rd, line, out_fd, &lg);
	}
	free(line);
	free(rd);
	mcp_server_free(s);
	close(in_fd);
	close(out_fd);
	log_deinit(&lg);
	return rc;
}
