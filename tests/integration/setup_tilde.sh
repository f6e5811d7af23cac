#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# A leading ~ in a key or known_hosts path means the home directory, as it
# did for the seed (its own Python example passes "~/.ssh/id_rsa") and as
# it does for ssh: on the command line quoted, in TETHER_KEY and
# SCITEX_TUNNEL_SECRET_KEY_PATH, and in a config file's key =. Without
# HOME, a ~ path is refused in one line that says so.
#
# usage: setup_tilde.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] && { echo "[setup_tilde] SKIP: setup is tether's"; exit 77; }
lab_init "$@"

lab_private_home
lab_start_bastion
install -m 600 "$LAB_KEY" "$HOME/.ssh/id_lab"
cp "$BASTION_KNOWN_HOSTS" "$HOME/.ssh/lab_known_hosts"
BASTION="$LAB_USER@127.0.0.1:$BASTION_PORT"
RPORT=$(lab_free_port) || lab_fail "no free port"
CONF=$HOME/.config/tether/$RPORT.conf

# dry ARGS...: setup --user --dry-run; the plan must name the expanded key.
dry() {
	lab_cmd "$LAB_TETHER" setup --user --dry-run -p "$RPORT" -b "$BASTION" "$@"
	[ "$RC" = 0 ] || { lab_show_cmd; lab_fail "setup --dry-run $*: exit $RC"; }
	lab_has_line "$OUT" "key = $HOME/.ssh/id_lab" ||
	    { lab_show_cmd; lab_fail "setup $*: the plan does not name $HOME/.ssh/id_lab"; }
}

dry -s '~/.ssh/id_lab' --known-hosts '~/.ssh/lab_known_hosts'
lab_log "ok: -s '~/.ssh/id_lab' and --known-hosts '~/...' are under HOME"
SCITEX_TUNNEL_SECRET_KEY_PATH='~/.ssh/id_lab' dry --known-hosts '~/.ssh/lab_known_hosts'
lab_log "ok: SCITEX_TUNNEL_SECRET_KEY_PATH='~/.ssh/id_lab' is under HOME"
TETHER_KEY='~/.ssh/id_lab' dry --known-hosts '~/.ssh/lab_known_hosts'
lab_log "ok: TETHER_KEY='~/.ssh/id_lab' is under HOME"

lab_cmd env HOME= "$LAB_TETHER" setup --user --dry-run -p "$RPORT" -b "$BASTION" -s '~/.ssh/id_lab'
[ "$RC" = 3 ] && lab_has "$ERR" "HOME is empty, so ~ means nothing" ||
    { lab_show_cmd; lab_fail "setup without HOME took a ~ path (exit $RC)"; }
lab_log "ok: without HOME, a ~ path is refused (exit 3): $(head -n 1 <<<"$ERR")"

# The config file setup writes is read by run: key = ~/... works there too.
lab_start_netload echo
mkdir -p "$(dirname "$CONF")"
printf '[tunnel]\nbastion = %s\nkey = ~/.ssh/id_lab\nknown_hosts = ~/.ssh/lab_known_hosts\nforward = %s:127.0.0.1:%s\n' \
    "$BASTION" "$RPORT" "$TARGET_PORT" >"$CONF"
lab_start_tether run -c "$CONF"
lab_wait_forward "$RPORT" 20 || lab_fail "run -c with key = ~/... did not bind: $(tail -n 3 "$TETHER_LOG")"
"$NETLOAD" -d 20 load "$RPORT" 1 4096 >/dev/null 2>&1 || lab_fail "the echo through $RPORT failed"
lab_pass "~ is the home directory for flags, environment, config and (mcp_inspector) MCP"
