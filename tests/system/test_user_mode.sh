#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# User mode under a real systemd (tests/system/lib.sh): inside the booted
# container, a user with linger (`loginctl enable-linger`, as setup's hint
# says), and as that user (runuser, XDG_RUNTIME_DIR=/run/user/UID):
#  - `tether trust --yes`, then `tether setup --user -p PORT ...`: the user
#    unit tether@PORT.service runs in the user's manager (Type=notify: READY
#    came), as the user, STATUS= shown by `systemctl --user status`; a real
#    ssh from the bastion through the tunnel reaches the container;
#    `tether status --user --json` shows the user manager's view and the
#    live state;
#  - kill -9 of MainPID: the user manager restarts it (NRestarts=1), the
#    tunnel works again;
#  - `systemctl reboot` of the container: linger starts the user manager at
#    boot, the unit is active again and carries ssh;
#  - `tether remove --user -p PORT`: no unit, no config, the port closed on
#    the bastion.
#
# usage: test_user_mode.sh TETHER_BINARY TESTS_BUILD_DIR [BUILD_DIR]
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sys_init "$@"
lab_find_tool json_get -ljansson
JSON_GET=$LAB_TOOL
sys_boot

PORT=2202
UNIT=tether@$PORT.service
U=lab
UID_=1000
H=/home/$U
p() { sys_uprop "$U" "$UNIT" "$1"; }
show_unit() {
	cx_as "$U" systemctl --user status --no-pager -n 20 -- "$UNIT" 2>&1 | sed "s/^/[$LAB_NAME]   /"
}
user_manager_active() { [ "$(cx systemctl is-active "user@$UID_.service" 2>/dev/null)" = active ]; }

# ---- the user, linger, key, host key ---------------------------------------------
cx useradd -m -u "$UID_" -s /bin/bash "$U" || lab_fail "useradd $U failed"
sys_give_key "$U"
lab_us; t0=$LAB_US
cx loginctl enable-linger "$U" || lab_fail "loginctl enable-linger $U failed"
[ -e "$SYS_ROOT/var/lib/systemd/linger/$U" ] || lab_fail "no /var/lib/systemd/linger/$U"
sys_until 30 user_manager_active || lab_fail "user@$UID_.service is not active 30 s after enable-linger"
sys_measure "enable-linger -> user@$UID_.service active" "$(lab_since_us "$t0") s"
out=$(cx_as "$U" "$SYS_TETHER" trust -b "$BASTION" --yes 2>&1) || lab_fail "tether trust --yes as $U: $out"
grep -qF "$BASTION_HOST_PUB" "$SYS_ROOT$H/.ssh/known_hosts" ||
    lab_fail "tether trust did not record the bastion's real host key"

# ---- setup --user ----------------------------------------------------------------
lab_us; t0=$LAB_US
out=$(cx_as "$U" "$SYS_TETHER" setup --user -p "$PORT" -b "$BASTION" -s "$H/.ssh/id_ed25519" 2>&1) ||
    { printf '%s\n' "$out"; show_unit; lab_fail "tether setup --user failed"; }
took=$(lab_since_us "$t0")
printf '%s\n' "$out" | sed "s/^/[$LAB_NAME]   setup: /"
grep -qxF "Tunnel on port $PORT set up successfully." <<<"$out" || lab_fail "setup --user printed no success line"
grep -qF "$UNIT is active: " <<<"$out" || lab_fail "setup --user does not report the unit active (no systemd --user found?)"
[ -f "$SYS_ROOT$H/.config/tether/$PORT.conf" ] || lab_fail "no $H/.config/tether/$PORT.conf"
[ "$(p UnitFileState)" = enabled ] || lab_fail "$UNIT is $(p UnitFileState), not enabled"
[ "$(p ActiveState)/$(p SubState)" = active/running ] || { show_unit; lab_fail "$UNIT is $(p ActiveState)/$(p SubState)"; }
[ "$(p Type)" = notify ] || lab_fail "$UNIT has Type=$(p Type)"
frag=$(p FragmentPath)
lab_log "user unit from $frag"
MAINPID=$(p MainPID)
ps_user=$(cx ps -o user= -p "$MAINPID" | tr -d ' ')
[ "$ps_user" = "$U" ] || lab_fail "MainPID $MAINPID runs as '$ps_user', not $U"
cg=$(cx cat "/proc/$MAINPID/cgroup" | tail -n 1)
[[ $cg == *"/user@$UID_.service/"*"$UNIT"* ]] || lab_fail "MainPID $MAINPID is not in the user manager's cgroup: $cg"
sys_measure "setup --user -> READY (tether setup returned, unit active)" "$took s"
sys_measure "process start -> READY=1" "$(sys_ready_latency sys_uprop "$U" "$UNIT") s"
lab_log "ok: $UNIT (user) enabled, active/running as $U, MainPID $MAINPID"
STATUS_TEXT=$(p StatusText)
st=$(cx_as "$U" systemctl --user status --no-pager -- "$UNIT" 2>&1)
grep -qxF "     Status: \"$STATUS_TEXT\"" <<<"$st" ||
    { printf '%s\n' "$st"; lab_fail "systemctl --user status does not show tether's Status: line"; }
lab_log "ok: systemctl --user status shows Status: \"$STATUS_TEXT\""
sys_check_tunnel "$PORT" "after setup --user"

cx_as "$U" "$SYS_TETHER" status --user --json >"$LAB_DIR/status.json" 2>"$LAB_DIR/status.err" ||
    lab_fail "tether status --user --json: $(cat "$LAB_DIR/status.err")"
jf() { "$JSON_GET" "$LAB_DIR/status.json" "$1" 2>/dev/null; }
for kv in "tunnels.0.port=$PORT" "tunnels.0.mode=user" "tunnels.0.manager=systemd" \
    "tunnels.0.state=forwarding" "tunnels.0.systemd.active_state=active" \
    "tunnels.0.systemd.main_pid=$MAINPID" "tunnels.0.live.pid=$MAINPID" \
    "tunnels.0.live.forwards.0.bound_port=$PORT"; do
	[ "$(jf "${kv%%=*}")" = "${kv#*=}" ] ||
	    { cat "$LAB_DIR/status.json"; lab_fail "status --user --json: ${kv%%=*} is '$(jf "${kv%%=*}")', expected '${kv#*=}'"; }
done
lab_log "ok: tether status --user --json: user manager active, live state forwarding"

# ---- kill -9 -------------------------------------------------------------------------
lab_us; t0=$LAB_US
cx kill -KILL "$MAINPID"
end=$((SECONDS + 30))
while [ "$SECONDS" -lt "$end" ]; do
	np=$(p MainPID)
	[ "$(p NRestarts)" = 1 ] && [ "$(p ActiveState)" = active ] &&
	    [ -n "$np" ] && [ "$np" != 0 ] && [ "$np" != "$MAINPID" ] && break
	sleep 0.05
done
[ "$(p NRestarts)" = 1 ] && [ "$(p ActiveState)" = active ] ||
    { show_unit; lab_fail "not restarted within 30 s of kill -9 (NRestarts=$(p NRestarts), $(p ActiveState))"; }
t_active=$(lab_since_us "$t0")
sys_wait_tunnel "$PORT" 30 || lab_fail "the tunnel does not carry ssh within 30 s of the restart"
sys_measure "kill -9 -> active again (RestartSec=$(p RestartUSec))" "$t_active s; process start -> READY $(sys_ready_latency sys_uprop "$U" "$UNIT") s"
sys_measure "kill -9 -> ssh through the tunnel works" "$(lab_since_us "$t0") s"
lab_log "ok: kill -9 $MAINPID -> restarted as $(p MainPID), NRestarts=1"

# ---- reboot: linger brings the user manager and the unit back ---------------------
sys_reboot
sys_until 60 user_manager_active || lab_fail "user@$UID_.service is not active 60 s after the reboot (linger)"
sys_until 60 sys_uunit_is "$U" "$UNIT" active || { show_unit; lab_fail "$UNIT is $(p ActiveState) 60 s after the reboot"; }
t_unit=$(lab_since_us "$SYS_T0")
sys_wait_tunnel "$PORT" 30 || lab_fail "the tunnel does not carry ssh after the reboot"
t_ssh=$(lab_since_us "$SYS_T0")
sys_check_tunnel "$PORT" "after the reboot"
sys_measure "reboot: 'systemctl reboot' -> container running" "$SYS_T_RUNNING s"
sys_measure "reboot: container PID 1 start -> user unit READY" "$(sys_boot_to_active sys_uprop "$U" "$UNIT") s"
sys_measure "reboot: 'systemctl reboot' -> user unit active / ssh through the tunnel" "$t_unit s / $t_ssh s"

# ---- remove --user -------------------------------------------------------------------
MAINPID=$(p MainPID)
out=$(cx_as "$U" "$SYS_TETHER" remove --user -p "$PORT" 2>&1) || { printf '%s\n' "$out"; lab_fail "tether remove --user failed"; }
grep -qxF "Tunnel on port $PORT removed." <<<"$out" || lab_fail "remove --user printed: $out"
[ "$(p ActiveState)" = inactive ] || lab_fail "$UNIT is $(p ActiveState) after remove"
[ "$(p UnitFileState)" != enabled ] || lab_fail "$UNIT is still enabled after remove"
# (An instance known by name only, "loaded inactive dead", is not a unit
# left behind: see test_system_mode.sh.)
listed=$(cx_as "$U" systemctl --user list-units --all --no-legend --plain -- 'tether@*' | grep -v ' inactive dead ')
[ -z "$listed" ] || lab_fail "the user manager still has: $listed"
[ -z "$(p DropInPaths)" ] || lab_fail "$UNIT still has drop-ins: $(p DropInPaths)"
[ -z "$(find "$SYS_ROOT$H/.config/systemd/user" -name "$UNIT" 2>/dev/null)" ] || lab_fail "an enablement link of $UNIT is left"
cx kill -0 "$MAINPID" 2>/dev/null && lab_fail "MainPID $MAINPID still runs after remove"
left=$(find "$SYS_ROOT$H" "$SYS_ROOT/run/user/$UID_" -name "*$PORT*" 2>/dev/null)
[ -z "$left" ] || lab_fail "remove --user left: $left"
sys_until 10 sys_bastion_port_closed "$PORT" ||
    lab_fail "the bastion still listens on $PORT 10 s after remove --user"
lab_log "ok: remove --user: unit gone, config gone, port $PORT closed on the bastion"

sys_pass "linger, setup --user, READY, STATUS=, ssh through, kill -9, reboot, remove --user"
