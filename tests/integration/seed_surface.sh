#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The rest of the seed's command surface, under both names (tether and the
# scitex-tunnel link):
#  - list-python-apis lists exactly the functions the Python module
#    src/python/tether defines; -v their signatures, -vv a line of
#    documentation each;
#  - mcp installation prints a JSON snippet (valid JSON) registering
#    `<real path of the binary> mcp start`, and that command really answers
#    an MCP initialize on stdio;
#  - mcp doctor: exit 0, the binary runs, initialize and tools/list answer,
#    and it names the three tools;
#  - -V: the seed's "scitex-tunnel X.Y.Z" first, saying it is tether;
#    mcp list-tools' header names the program it was called as.
#
# usage: seed_surface.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[seed_surface] SKIP: tether's own verbs; nothing to compare with LAB_TUNNEL=ssh"; exit 77; }
lab_init "$@"
lab_find_tool json_get -ljansson
JSON_GET=$LAB_TOOL
TETHER_REAL=$(readlink -f "$LAB_TETHER")
mkdir -p "$LAB_DIR/bin"
ln -s "$TETHER_REAL" "$LAB_DIR/bin/scitex-tunnel"
HEADER=$LAB_SRC_DIR/../src/python/tether/__init__.py
[ -r "$HEADER" ] || lab_fail "cannot read $HEADER"

LAB_CMD_TIMEOUT=30
# The lab's command runner and checks, by their short names.
t() { lab_cmd "$@"; }
show() { lab_show_cmd; }

# ---- list-python-apis ------------------------------------------------------------
want=$(grep -oE '^def [a-z][a-z_]*\(' "$HEADER" | sed -E 's/^def //; s/\($//' | sort)
[ -n "$want" ] || lab_fail "found no functions in $HEADER"
for cmd in "$LAB_TETHER" "$LAB_DIR/bin/scitex-tunnel"; do
	t "$cmd" list-python-apis
	[ "$RC" = 0 ] || { show; lab_fail "$(basename "$cmd") list-python-apis: exit $RC"; }
	got=$(grep -E '^  [a-z_]+$' <<<"$OUT" | sed 's/^  //' | sort)
	[ "$got" = "$want" ] || lab_fail "$(basename "$cmd") list-python-apis lists
$got
but $HEADER declares
$want"
done
t "$LAB_TETHER" list-python-apis -v
[ "$RC" = 0 ] || { show; lab_fail "list-python-apis -v: exit $RC"; }
for f in $want; do
	sig=$(grep -E "^def $f\(" "$HEADER" | sed -E 's/^def //; s/:$//')
	grep -qxF "  $sig" <<<"$OUT" || { show; lab_fail "list-python-apis -v: not the signature $sig"; }
done
t "$LAB_TETHER" list-python-apis -vv
[ "$RC" = 0 ] || { show; lab_fail "list-python-apis -vv: exit $RC"; }
[ "$(grep -cE '^      [A-Z].*\.$' <<<"$OUT")" = "$(wc -w <<<"$want")" ] ||
    { show; lab_fail "list-python-apis -vv: not one line of documentation per function"; }
t "$LAB_TETHER" list-python-apis --bogus
[ "$RC" = 2 ] || { show; lab_fail "list-python-apis --bogus: exit $RC, expected 2"; }
lab_log "ok: list-python-apis (both names) lists the $(wc -w <<<"$want") functions of the Python API; -v, -vv"

# ---- -V and the list-tools header under each name -----------------------------
t "$LAB_DIR/bin/scitex-tunnel" -V
[[ $RC = 0 && $OUT =~ ^scitex-tunnel\ [0-9]+\.[0-9]+\.[0-9]+\ \(tether\ .*compatible\ with\ scitex-tunnel ]] ||
    { show; lab_fail "scitex-tunnel -V: not 'scitex-tunnel X.Y.Z (tether ..., compatible with scitex-tunnel ...)'"; }
lab_log "ok: scitex-tunnel -V: $OUT"
for cmd in "$LAB_TETHER" "$LAB_DIR/bin/scitex-tunnel"; do
	t "$cmd" mcp list-tools
	[ "$RC" = 0 ] && [ "$(head -n 1 <<<"$OUT")" = "$(basename "$cmd") MCP tools:" ] ||
	    { show; lab_fail "$(basename "$cmd") mcp list-tools: the header is not '$(basename "$cmd") MCP tools:'"; }
done
lab_log "ok: mcp list-tools says 'tether MCP tools:' and 'scitex-tunnel MCP tools:' by name"

# ---- mcp installation ------------------------------------------------------------------
t "$LAB_TETHER" mcp installation
[ "$RC" = 0 ] || { show; lab_fail "mcp installation: exit $RC"; }
sed -n '/^{$/,/^}$/p' <<<"$OUT" >"$LAB_DIR/snippet.json"
"$JSON_GET" "$LAB_DIR/snippet.json" || { show; lab_fail "mcp installation: the snippet is not valid JSON"; }
cmd=$("$JSON_GET" "$LAB_DIR/snippet.json" mcpServers.tether.command)
args=$("$JSON_GET" "$LAB_DIR/snippet.json" mcpServers.tether.args)
[ "$cmd" = "$TETHER_REAL" ] || lab_fail "mcp installation: command is '$cmd', expected $TETHER_REAL"
[ "$args" = '["mcp","start"]' ] || lab_fail "mcp installation: args are $args"
grep -qF "claude mcp add tether -- $TETHER_REAL mcp start" <<<"$OUT" || { show; lab_fail "mcp installation: no Claude Code line"; }
# The registered command answers a client.
printf '%s\n' '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}' \
    >"$LAB_DIR/init.jsonl"
timeout -k 5 10 "$cmd" mcp start <"$LAB_DIR/init.jsonl" >"$LAB_DIR/init.out" 2>"$LAB_DIR/init.err" ||
    lab_fail "$cmd mcp start failed: $(cat "$LAB_DIR/init.err")"
head -n 1 "$LAB_DIR/init.out" >"$LAB_DIR/init.json"
[ "$("$JSON_GET" "$LAB_DIR/init.json" result.serverInfo.name)" = tether ] ||
    lab_fail "the registered command did not answer initialize: $(cat "$LAB_DIR/init.out")"
lab_log "ok: mcp installation: valid JSON naming $TETHER_REAL mcp start, which answers initialize"

# ---- mcp doctor ---------------------------------------------------------------------------
for c in "$LAB_TETHER" "$LAB_DIR/bin/scitex-tunnel"; do
	t "$c" mcp doctor
	[ "$RC" = 0 ] || { show; lab_fail "$(basename "$c") mcp doctor: exit $RC"; }
	for line in "ok    binary: $TETHER_REAL runs (tether " "ok    initialize: protocol " \
	    "ok    tools/list: 3 tools" "        tunnel_setup " "        tunnel_status " \
	    "        tunnel_remove "; do
		grep -qF -- "$line" <<<"$OUT" || { show; lab_fail "$(basename "$c") mcp doctor: no '$line'"; }
	done
	grep -q '^FAIL' <<<"$OUT" && { show; lab_fail "mcp doctor printed a FAIL"; }
done
t "$LAB_TETHER" mcp doctor extra
[ "$RC" = 2 ] || { show; lab_fail "mcp doctor with an operand: exit $RC, expected 2"; }
lab_log "ok: mcp doctor (both names): binary, initialize, tools/list with the three tools; exit 0"

# ---- remove of nothing: 0 under the seed's name (as the seed), 1 under tether's ----
lab_private_home
FREE=$(lab_free_port) || lab_fail "no free port"
t "$LAB_DIR/bin/scitex-tunnel" remove --user -p "$FREE"
[ "$RC" = 0 ] && lab_has "$OUT" "No tunnel on port $FREE to remove." ||
    { show; lab_fail "scitex-tunnel remove of nothing: exit $RC, expected the seed's 0"; }
t "$LAB_TETHER" remove --user -p "$FREE"
[ "$RC" = 1 ] || { show; lab_fail "tether remove of nothing: exit $RC, expected 1"; }
lab_log "ok: remove of nothing: scitex-tunnel exits 0 (as the seed did), tether exits 1"

lab_pass "list-python-apis, mcp installation, mcp doctor"
