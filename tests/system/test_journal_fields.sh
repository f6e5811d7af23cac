#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Structured journal fields under a real systemd (a booted container,
# tests/system/lib.sh): a tunnel run as a service (systemd-run, so its
# stderr is the journal stream, as under tether@.service) logs through the
# journal's native protocol. `journalctl TETHER_TUNNEL=2201
# TETHER_EVENT=forward_bound` finds the bound forward with its text
# unchanged, PRIORITY 6, SYSLOG_IDENTIFIER tether and TETHER_BASTION; a
# port the bastion refuses (held there by another program) gives
# TETHER_EVENT=forward_refused at PRIORITY 4; the login is
# TETHER_EVENT=connected; and the unit's own journal still reads as lines.
#
# usage: test_journal_fields.sh TETHER_BINARY TESTS_BUILD_DIR [BUILD_DIR]
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sys_init "$@"
lab_find_tool json_get -ljansson
JSON_GET=$LAB_TOOL
sys_boot

PORT=2201
HELD=2209
TUSER=tunnel
UNIT=tj.service
# Another program holds HELD on the bastion: that forward is refused.
lab_spawn "$LAB_DIR/holder.log" ip netns exec "$LAB_NS_BAS" "$NETLOAD" -d 300 echo "$HELD"
sys_until 5 sys_bastion_port_open "$HELD" || lab_fail "the holder of $HELD on the bastion did not listen"

cx useradd -m -s /bin/bash "$TUSER" || lab_fail "useradd $TUSER failed"
sys_give_key "$TUSER"
out=$(cx_as "$TUSER" "$SYS_TETHER" trust -b "$BASTION" --yes 2>&1) ||
    lab_fail "tether trust --yes as $TUSER: $out"
cx systemd-run --unit="$UNIT" --uid="$TUSER" --property=Restart=no -- "$SYS_TETHER" run \
    -b "$BASTION" -s "/home/$TUSER/.ssh/id_ed25519" --known-hosts "/home/$TUSER/.ssh/known_hosts" \
    -R "127.0.0.1:$PORT:localhost:22" -R "127.0.0.1:$HELD:localhost:22" -o backoff_initial=0.5 \
    >"$LAB_DIR/run.out" 2>&1 || lab_fail "systemd-run failed: $(cat "$LAB_DIR/run.out")"
sys_until 20 sys_bastion_port_open "$PORT" || lab_fail "the forward of $PORT is not open on the bastion"
sys_check_tunnel "$PORT" "the service's forward"

# entry EVENT: the first journal entry of the tunnel with TETHER_EVENT=EVENT,
# as JSON in LAB_DIR/EVENT.json; 1 if there is none.
entry() {
	cx journalctl --no-pager -o json "TETHER_TUNNEL=$PORT" "TETHER_EVENT=$1" 2>/dev/null |
	    head -n 1 >"$LAB_DIR/$1.json"
	[ -s "$LAB_DIR/$1.json" ]
}
field() { "$JSON_GET" "$LAB_DIR/$1.json" "$2" 2>/dev/null; }

lab_log "check: journalctl TETHER_TUNNEL=$PORT TETHER_EVENT=forward_bound"
sys_until 10 entry forward_bound || lab_fail "no forward_bound entry: $(sys_journal "$UNIT" | tail -n 5)"
[[ "$(field forward_bound MESSAGE)" == "$PORT: remote port $PORT bound on the bastion"* ]] ||
    lab_fail "forward_bound's MESSAGE is '$(field forward_bound MESSAGE)'"
[ "$(field forward_bound PRIORITY)" = 6 ] || lab_fail "forward_bound's PRIORITY is '$(field forward_bound PRIORITY)'"
[ "$(field forward_bound SYSLOG_IDENTIFIER)" = tether ] || lab_fail "no SYSLOG_IDENTIFIER=tether"
[ "$(field forward_bound TETHER_BASTION)" = "$BASTION" ] ||
    lab_fail "TETHER_BASTION is '$(field forward_bound TETHER_BASTION)', not $BASTION"
[ "$(field forward_bound _SYSTEMD_UNIT)" = "$UNIT" ] ||
    lab_fail "the entry is of unit '$(field forward_bound _SYSTEMD_UNIT)', not $UNIT"

lab_log "check: the refused forward is TETHER_EVENT=forward_refused, PRIORITY 4"
sys_until 10 entry forward_refused || lab_fail "no forward_refused entry: $(sys_journal "$UNIT" | tail -n 5)"
[[ "$(field forward_refused MESSAGE)" == "$PORT: bastion refused remote port $HELD"* ]] ||
    lab_fail "forward_refused's MESSAGE is '$(field forward_refused MESSAGE)'"
[ "$(field forward_refused PRIORITY)" = 4 ] || lab_fail "forward_refused's PRIORITY is '$(field forward_refused PRIORITY)'"

lab_log "check: the login is TETHER_EVENT=connected; the unit's journal reads as lines"
entry connected || lab_fail "no connected entry"
sys_journal "$UNIT" -o cat | grep -q "^$PORT: remote port $PORT bound on the bastion" ||
    lab_fail "journalctl -u $UNIT does not show the line: $(sys_journal "$UNIT" | tail -n 5)"
cx systemctl stop "$UNIT"
sys_pass "journal fields: forward_bound (PRIORITY 6, TETHER_BASTION), forward_refused (PRIORITY 4), connected; text unchanged"
