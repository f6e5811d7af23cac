#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# A real MCP client drives `tether mcp start`: the CLI of the official MCP
# Inspector (npm @modelcontextprotocol/inspector, installed once into the
# tests build dir) must
#   - list the three tools, their schemas passing its portability check,
#     both with the initialize handshake and with the 2026-07-28 revision;
#   - call tunnel_status and get structuredContent.success true;
#   - get isError with the seed's message from tunnel_setup without bastion;
#   - fail (non-zero exit) on a tools/call of an unknown tool.
# HOME and XDG_* point into a temporary dir, so status sees nothing real.
# Skips (77) without node/npm or when the inspector cannot be installed,
# unless TETHER_MCP_INSPECTOR=require (as CI sets): then it fails instead.
#
# usage: mcp_inspector.sh TETHER_BINARY TESTS_BUILD_DIR
#   MCP_INSPECTOR_VERSION  the inspector to install (default 2.12.0)
#   TETHER_MCP_INSPECTOR   "require": a reason to skip is a failure
set -u

NAME=$(basename "$0" .sh)
TETHER=${1:-}
BUILD=${2:-}
VERSION=${MCP_INSPECTOR_VERSION:-2.12.0}
SEED_NO_BASTION="bastion_server is required. Provide it as an argument or set SCITEX_TUNNEL_BASTION_SERVER environment variable."
TMP=
FAILED=()

log() { printf '[%s] %s\n' "$NAME" "$*"; }
skip() {
	[ "${TETHER_MCP_INSPECTOR:-}" = require ] &&
	    fail "$* (TETHER_MCP_INSPECTOR=require: the real MCP client must run)"
	log "SKIP: $*"
	exit 77
}
fail() { log "FAIL: $*"; exit 1; }
# shellcheck disable=SC2317  # called by the trap
cleanup() { if [ -n "$TMP" ]; then rm -rf "$TMP"; fi; }
trap cleanup EXIT

if [ -z "$TETHER" ] || [ -z "$BUILD" ]; then
	fail "usage: $0 TETHER_BINARY TESTS_BUILD_DIR"
fi
[ -x "$TETHER" ] || fail "tether binary '$TETHER' is missing or not executable"
# The inspector runs in a temporary dir: the paths must not be relative.
TETHER=$(cd "$(dirname "$TETHER")" && pwd)/$(basename "$TETHER")
command -v node >/dev/null || skip "node not found (install nodejs)"
command -v npm >/dev/null || skip "npm not found (install npm)"
mkdir -p "$BUILD" || fail "cannot create build dir '$BUILD'"
BUILD=$(cd "$BUILD" && pwd) || fail "cannot use build dir '$BUILD'"

# ---- the inspector, installed once per build dir ------------------------

PREFIX=$BUILD/npm
INSPECTOR=$PREFIX/node_modules/.bin/mcp-inspector
installed_version() {
	node -p 'require(process.argv[1]).version' \
	    "$PREFIX/node_modules/@modelcontextprotocol/inspector/package.json" 2>/dev/null
}
if [ ! -x "$INSPECTOR" ] || [ "$(installed_version)" != "$VERSION" ]; then
	log "installing @modelcontextprotocol/inspector@$VERSION into $PREFIX"
	mkdir -p "$PREFIX" || fail "cannot create $PREFIX"
	# Its postinstall only matters in a source checkout. A slow registry
	# gets three tries of up to 5 minutes, with npm's own retries inside.
	for try in 1 2 3; do
		timeout 300 npm install --prefix "$PREFIX" --no-audit --no-fund \
		    --ignore-scripts --loglevel=error --fetch-retries=4 \
		    --fetch-retry-maxtimeout=60000 \
		    "@modelcontextprotocol/inspector@$VERSION" >"$PREFIX/install.log" 2>&1 && break
		log "npm install, try $try of 3, failed: $(tail -n 3 "$PREFIX/install.log" | tr '\n' ' ')"
		[ "$try" = 3 ] && skip "npm cannot install @modelcontextprotocol/inspector@$VERSION (log: $PREFIX/install.log)"
		sleep $((try * 10))
	done
	[ -x "$INSPECTOR" ] || fail "npm install left no $INSPECTOR"
fi
log "inspector $(installed_version), node $(node --version)"

# ---- an empty world for tether ------------------------------------------

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tether-$NAME.XXXXXX") || fail "mktemp failed"
mkdir -p "$TMP/home/.config" "$TMP/run" "$TMP/state" || fail "mkdir failed"
chmod 700 "$TMP/run"

# The inspector hands the server only a few variables (HOME, PATH, ...) and
# those given with -e; it keeps its own catalog under HOME, so HOME is ours.
SERVER_ENV=(-e "XDG_CONFIG_HOME=$TMP/home/.config" -e "XDG_RUNTIME_DIR=$TMP/run"
    -e "XDG_STATE_HOME=$TMP/state")
N=0

# inspect ARGS...: runs the inspector CLI against `tether mcp start`; sets RC
# and OUT (stdout: one JSON object), keeps stderr in ERR.
inspect() {
	local out=$TMP/out-$((N += 1))
	(cd "$TMP" && env -u TETHER_BASTION -u TETHER_KEY \
	    -u SCITEX_TUNNEL_BASTION_SERVER -u SCITEX_TUNNEL_SECRET_KEY_PATH \
	    HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/home/.config" \
	    XDG_RUNTIME_DIR="$TMP/run" XDG_STATE_HOME="$TMP/state" \
	    timeout -k 5 60 "$INSPECTOR" --cli --format json "${SERVER_ENV[@]}" \
	    "$TETHER" mcp start "$@") >"$out" 2>"$out.err"
	RC=$?
	OUT=$(cat "$out")
	ERR=$(cat "$out.err")
}

# check NAME RC JS: the inspector exited RC ("fail" = any failure) and JS,
# an expression over `r` (the parsed stdout), is true; else shows the output.
check() {
	local what=$1 rc=$2 expr=$3 rc_ok=1
	case $rc in
	fail) { [ "$RC" = 0 ] || [ "$RC" = 124 ] || [ "$RC" = 137 ]; } && rc_ok=0 ;;
	*) [ "$RC" = "$rc" ] || rc_ok=0 ;;
	esac
	if [ "$rc_ok" = 1 ] && node -e '
		let r;
		try { r = JSON.parse(process.argv[1]); } catch (e) { process.exit(1); }
		process.exit(('"$expr"') ? 0 : 1);' "$OUT"; then
		log "ok: $what"
	else
		log "FAILED: $what (exit $RC)"
		printf '%s\n' "$OUT" | head -c 2000 | sed "s/^/[$NAME]   stdout: /"
		printf '%s\n' "$ERR" | head -n 20 | sed "s/^/[$NAME]   stderr: /"
		FAILED+=("$what")
	fi
}

TOOLS='JSON.stringify(r.result.tools.map(t => t.name).sort()) ===
    JSON.stringify(["tunnel_remove", "tunnel_setup", "tunnel_status"]) &&
    r.result.tools.every(t => t.inputSchema.type === "object" &&
        t.inputSchema.additionalProperties === false)'

log "check: tools/list lists the three tools (handshake revision)"
inspect --method tools/list --strict
check "tools/list: three tools with schemas, no portability error" 0 "$TOOLS"

log "check: tools/list under the 2026-07-28 revision (server/discover)"
inspect --protocol-era modern --method tools/list
check "tools/list (2026-07-28): three tools" 0 "$TOOLS"

# status lists the host's system tunnels too (a fresh CI machine has none;
# a developer's may), so what is checked is a consistent answer through the
# real API: isError exactly when success is false, the tunnels as JSON.
log "check: tools/call tunnel_status answers through the real API"
inspect --method tools/call --tool-name tunnel_status
if [ "$RC" = 0 ]; then
	check "tunnel_status: success true" 0 \
	    'r.result.isError === false && r.result.structuredContent.success === true &&
	     r.result.content[0].type === "text" &&
	     typeof r.result.structuredContent.tunnels === "object" &&
	     JSON.parse(r.result.content[0].text).success === true'
else
	log "note: a tunnel of this host is not forwarding; status says so"
	check "tunnel_status: isError with success false" fail \
	    'r.result.isError === true && r.result.structuredContent.success === false &&
	     typeof r.result.structuredContent.tunnels === "object"'
fi

log "check: tools/call tunnel_setup without a bastion is isError with the seed's message"
inspect --method tools/call --tool-name tunnel_setup --tool-arg port=2222 user_mode=true
check "tunnel_setup without bastion: isError with the seed's message" fail \
    "r.result.isError === true && r.result.structuredContent.success === false &&
     r.result.structuredContent.stderr.includes($(node -p 'JSON.stringify(process.argv[1])' "$SEED_NO_BASTION"))"

log "check: tunnel_setup expands a leading ~ in secret_key_path, as the seed did"
inspect --method tools/call --tool-name tunnel_setup --tool-arg port=2222 user_mode=true \
    bastion_server=u@127.0.0.1 secret_key_path='~/.ssh/none'
check "tunnel_setup: ~/.ssh/none is looked for under HOME" fail \
    "r.result.isError === true &&
     r.result.structuredContent.stderr.includes($(node -p 'JSON.stringify(process.argv[1])' "key $TMP/home/.ssh/none: No such file"))"

log "check: tools/call of an unknown tool fails"
inspect --method tools/call --tool-name tunnel_explode
if [ "$RC" = 0 ] || [ "$RC" = 124 ] || [ "$RC" = 137 ] ||
    ! grep -q tunnel_explode <<<"$ERR"; then
	log "FAILED: unknown tool: exit $RC, expected a failure naming the tool"
	printf '%s\n' "$ERR" | head -n 20 | sed "s/^/[$NAME]   stderr: /"
	FAILED+=("unknown tool (exit $RC)")
else
	log "ok: unknown tool: exit $RC, $ERR"
fi

if [ "${#FAILED[@]}" -gt 0 ]; then
	fail "${#FAILED[@]} check(s) failed: $(printf '%s; ' "${FAILED[@]}")"
fi
log "PASS: inspector $VERSION drove tether mcp start"
exit 0
