#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# setup --user against a REAL `systemd --user` manager, run on the host in a
# private mount namespace (tests/lib/user_manager.sh; docs: test-lab.md,
# "User manager on the host"). As a throwaway user, with
# XDG_RUNTIME_DIR=/run/user/UID:
#  - setup --user: the user unit becomes active (READY through Type=notify),
#    runs as the user, a real ssh through the tunnel reaches the workstation;
#  - systemctl --user status shows tether's STATUS= line;
#  - tether status --user --json: manager systemd, state forwarding;
#  - kill -9 of MainPID: systemd restarts it (NRestarts=1), the tunnel
#    works again;
#  - remove --user: the unit is stopped, disabled and gone, no file for the
#    port is left, the bastion frees the port; the shared template stays;
#    removing again → exit 1.
# Skips (77), saying why, when not root, without unshare/overlay/cgroups,
# or when the manager does not start here.
#
# usage: setup_user_systemd.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/user_manager.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/user_manager.sh"
um_enter_namespace "$@"
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
lab_init "$@"
lab_tether_sanitized &&
    lab_skip "a sanitizer build cannot run inside the unit's sandbox (LeakSanitizer needs ptrace, which SystemCallFilter= forbids); the plain build runs this test"
lab_find_tool json_get -ljansson
JSON_GET=$LAB_TOOL
um_start

# The lab's command runner and checks, by their short names.
t() { lab_cmd "$@"; }
show() { lab_show_cmd; }
has_line() { lab_has_line "$@"; }
has() { lab_has "$@"; }
prop() { uctl show -p "$1" --value -- "$UNIT" 2>/dev/null; }

# ---- the lab: bastion, workstation, the user's key and known_hosts ------------
lab_start_bastion
lab_start_workstation
RPORT=$(lab_free_port) || lab_fail "no free port"
UNIT=tether@$RPORT.service
um_give_key
BASTION="$LAB_USER@127.0.0.1:$BASTION_PORT"

# ---- setup --user -----------------------------------------------------------------
lab_us; t0=$LAB_US
t "${AS_USER[@]}" "$TETHER" setup --user -p "$RPORT" -b "$BASTION" -s "$THOME/.ssh/id_tunnel" \
    -t "127.0.0.1:$WS_PORT"
took=$(lab_since_us "$t0")
[ "$RC" = 0 ] || { show; uctl status "$UNIT" 2>&1 | tail -n 20; lab_fail "setup --user: exit $RC"; }
has_line "$OUT" "Tunnel on port $RPORT set up successfully." || { show; lab_fail "no success message"; }
has "$OUT" "$UNIT is active: " || { show; lab_fail "setup does not report the unit active"; }
has "$OUT" "loginctl enable-linger $TUSER" || { show; lab_fail "setup does not print the linger hint"; }
[ -f "$THOME/.config/tether/$RPORT.conf" ] || lab_fail "no $THOME/.config/tether/$RPORT.conf"
[ -f "$THOME/.config/systemd/user/tether@.service" ] || lab_fail "no user template unit"
[ "$(prop ActiveState)/$(prop SubState)" = active/running ] || lab_fail "$UNIT is $(prop ActiveState)/$(prop SubState)"
[ "$(prop UnitFileState)" = enabled ] || lab_fail "$UNIT is not enabled: $(prop UnitFileState)"
[ "$(prop Type)" = notify ] || lab_fail "$UNIT has Type=$(prop Type)"
MAINPID=$(prop MainPID)
[ "$(readlink "/proc/$MAINPID/exe")" = "$TETHER" ] || lab_fail "MainPID $MAINPID is not tether"
[ "$(stat -c %u "/proc/$MAINPID")" = "$TUID" ] || lab_fail "MainPID $MAINPID does not run as $TUSER"
lab_log "ok: setup --user: $UNIT active/running (Type=notify: READY came), MainPID $MAINPID, ${took} s"

lab_wait_tcp "$RPORT" 10 || lab_fail "the bastion does not listen on $RPORT"
out=$(lab_ssh_through "$RPORT" 'echo tunnel-ok') || lab_fail "ssh through port $RPORT failed: $out"
[ "$out" = tunnel-ok ] || lab_fail "ssh through the tunnel printed '$out'"
lab_log "ok: a real ssh through port $RPORT reached the workstation"

STATUS_TEXT=$(prop StatusText)
[ -n "$STATUS_TEXT" ] || lab_fail "$UNIT has no STATUS= text"
t "${AS_USER[@]}" systemctl --user status --no-pager -- "$UNIT"
has_line "$OUT" "     Status: \"$STATUS_TEXT\"" || { show; lab_fail "systemctl --user status does not show the Status: line"; }
lab_log "ok: systemctl --user status shows Status: \"$STATUS_TEXT\""

t "${AS_USER[@]}" "$TETHER" status --user --json
[ "$RC" = 0 ] || { show; lab_fail "status --user --json: exit $RC"; }
printf '%s\n' "$OUT" >"$LAB_DIR/status.json"
jf() { "$JSON_GET" "$LAB_DIR/status.json" "$1" 2>/dev/null; }
for kv in "count=1" "tunnels.0.port=$RPORT" "tunnels.0.mode=user" "tunnels.0.manager=systemd" \
    "tunnels.0.state=forwarding" "tunnels.0.systemd.active_state=active" \
    "tunnels.0.systemd.unit_file_state=enabled" "tunnels.0.systemd.main_pid=$MAINPID" \
    "tunnels.0.systemd.restarts=0" "tunnels.0.live.pid=$MAINPID" \
    "tunnels.0.live.forwards.0.bound_port=$RPORT"; do
	[ "$(jf "${kv%%=*}")" = "${kv#*=}" ] || lab_fail "status --json: ${kv%%=*} is '$(jf "${kv%%=*}")', expected '${kv#*=}'"
done
lab_log "ok: tether status --user --json: manager systemd, state forwarding"

# ---- kill -9 of MainPID: systemd restarts it --------------------------------------
lab_us; t0=$LAB_US
kill -KILL "$MAINPID"
end=$((SECONDS + 20))
while [ "$SECONDS" -lt "$end" ]; do
	np=$(prop MainPID)
	[ "$(prop NRestarts)" = 1 ] && [ "$(prop ActiveState)" = active ] &&
	    [ -n "$np" ] && [ "$np" != 0 ] && [ "$np" != "$MAINPID" ] && break
	sleep 0.1
done
[ "$(prop NRestarts)" = 1 ] || lab_fail "NRestarts is '$(prop NRestarts)' 20 s after kill -9, expected 1"
[ "$(prop ActiveState)" = active ] || lab_fail "$UNIT is $(prop ActiveState) after the restart"
NEWPID=$(prop MainPID)
lab_log "ok: kill -9 $MAINPID → restarted as $NEWPID, NRestarts=1, active again after $(lab_since_us "$t0") s"
ok=
for i in 1 2 3 4 5 6 7 8 9 10; do
	out=$(lab_ssh_through "$RPORT" 'echo tunnel-again' 2>&1) && [ "$out" = tunnel-again ] && { ok=1; break; }
	sleep 1
done
[ -n "$ok" ] || lab_fail "ssh through port $RPORT after the restart failed: $out"
lab_log "ok: the tunnel works again after the restart"

# ---- remove --user ----------------------------------------------------------------
t "${AS_USER[@]}" "$TETHER" remove --user -p "$RPORT"
{ [ "$RC" = 0 ] && has_line "$OUT" "Tunnel on port $RPORT removed."; } || { show; lab_fail "remove --user: exit $RC"; }
[ "$(prop ActiveState)" = inactive ] || lab_fail "$UNIT is $(prop ActiveState) after remove"
[ "$(prop UnitFileState)" != enabled ] || lab_fail "$UNIT is still enabled after remove"
listed=$(uctl list-units --all --no-legend --plain -- 'tether@*' 2>/dev/null)
[ -z "$listed" ] || lab_fail "the manager still lists: $listed"
lab_alive "$NEWPID" && lab_fail "MainPID $NEWPID still runs after remove"
left=$(find "$THOME" "$RUNDIR" -name "*$RPORT*" 2>/dev/null)
[ -z "$left" ] || lab_fail "remove left files: $left"
end=$((SECONDS + 10))
while lab_port_open "$RPORT" && [ "$SECONDS" -lt "$end" ]; do sleep 0.2; done
lab_port_open "$RPORT" && lab_fail "the bastion still listens on $RPORT after remove"
lab_log "ok: remove --user: $UNIT stopped, disabled, not listed; no file for $RPORT; port freed"

# remove leaves the template: other tunnels of the user may use it.
[ -f "$THOME/.config/systemd/user/tether@.service" ] || lab_fail "remove deleted the shared template"

t "${AS_USER[@]}" "$TETHER" remove --user -p "$RPORT"
{ [ "$RC" = 1 ] && has "$ERR" "No tunnel on port $RPORT to remove"; } || { show; lab_fail "second remove: exit $RC, expected 1"; }
lab_log "ok: removing again: exit 1 ($ERR)"

lab_pass "a real systemd --user: notify, STATUS=, restart on kill -9, status, remove"
