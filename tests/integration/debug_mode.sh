#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# TETHER_DEBUG=1 (and the seed's SCITEX_TUNNEL_DEBUG_MODE=1) make setup,
# status and remove say on stderr what they read, decided and ran: the
# resolved tunnel (user, key, known_hosts, config), each file written or
# removed, each command run with its exit status, where status looked and
# what each manager said. Without it, no "debug:" line; a value that is not
# a yes or a no is refused (exit 3).
#
# usage: debug_mode.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] && { echo "[debug_mode] SKIP: setup is tether's"; exit 77; }
lab_init "$@"

lab_private_home
lab_start_bastion
lab_start_netload echo
RPORT=$(lab_free_port) || lab_fail "no free port"
KEY=$(readlink -f "$LAB_KEY")
CONF=$HOME/.config/tether/$RPORT.conf
ARGS=(-p "$RPORT" -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$KEY"
    --known-hosts "$BASTION_KNOWN_HOSTS" -t "127.0.0.1:$TARGET_PORT")
lab_on_exit "'$LAB_TETHER' remove --user -p '$RPORT' >/dev/null 2>&1"

# says TEXT...: each TEXT is in the last command's stderr.
says() {
	local s
	for s in "$@"; do
		lab_has "$ERR" "$s" || { lab_show_cmd; lab_fail "no '$s' on stderr"; }
	done
}

lab_cmd env TETHER_DEBUG=1 "$LAB_TETHER" setup --user "${ARGS[@]}"
[ "$RC" = 0 ] || { lab_show_cmd; lab_fail "TETHER_DEBUG=1 setup --user: exit $RC"; }
says "debug: user tunnel $RPORT, runs as $(id -un)" "key $KEY" \
    "the bastion's keys read from $BASTION_KNOWN_HOSTS" "debug: writing $CONF (mode 0644" \
    "debug: running: " "debug:   exit 0"
lab_log "ok: setup says the resolved tunnel, each file written and each command with its exit"

lab_cmd env SCITEX_TUNNEL_DEBUG_MODE=1 "$LAB_TETHER" status --user -p "$RPORT"
says "debug: user tunnels: configs in $HOME/.config/tether" \
    "debug: tunnel $RPORT: state file written by a running tether"
lab_log "ok: status (SCITEX_TUNNEL_DEBUG_MODE=1) says where it looked and what it found"

lab_cmd "$LAB_TETHER" status --user -p "$RPORT"
lab_has "$ERR$OUT" "debug:" && { lab_show_cmd; lab_fail "status printed debug lines without TETHER_DEBUG"; }
lab_cmd env TETHER_DEBUG=maybe "$LAB_TETHER" status --user
[ "$RC" = 3 ] || { lab_show_cmd; lab_fail "TETHER_DEBUG=maybe: exit $RC, expected 3"; }
says "\$TETHER_DEBUG: 'maybe' is not 1/0, yes/no or true/false"
lab_log "ok: no debug lines without it; TETHER_DEBUG=maybe is refused (exit 3)"

lab_cmd env TETHER_DEBUG=yes "$LAB_TETHER" remove --user -p "$RPORT"
[ "$RC" = 0 ] || { lab_show_cmd; lab_fail "TETHER_DEBUG=yes remove --user: exit $RC"; }
says "debug: user tunnel $RPORT: config $CONF" "debug: removing $CONF"
lab_pass "TETHER_DEBUG shows what setup, status and remove do"
