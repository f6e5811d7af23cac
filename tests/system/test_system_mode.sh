#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# System mode under a real systemd (PID 1 of a booted bookworm container,
# tests/system/lib.sh). Inside, as root:
#  - a dedicated unprivileged user owns the key; `tether trust --yes` as that
#    user records the bastion's host key (checked against the real one);
#  - `tether setup -p PORT -b root@BASTION -s KEY --run-as THATUSER`:
#    tether@PORT.service enabled, active/running (Type=notify: READY came),
#    runs as the user, `systemctl status` shows tether's STATUS= line, and a
#    real `ssh -p PORT` on the bastion runs a command in the container
#    through the tunnel; `tether status` (text and --json) shows systemd's
#    view and the live state;
#  - kill -9 of MainPID: restarted (NRestarts=1), the tunnel works again;
#  - the watchdog (WatchdogSec=3 by a drop-in): a healthy tunnel outlives
#    several periods; SIGSTOP of the main pid: systemd kills it and starts
#    it again;
#  - a broken edit of the conf: `systemctl reload` refuses it and keeps the
#    running process; `systemctl restart` ends failed with ExecMainStatus=3
#    and no restart loop (NRestarts unchanged); `tether status` says failed,
#    exit 3 (bad configuration), from systemd's ExecMainStatus;
#  - `systemctl reboot` of the container: the unit is active after the boot
#    and the tunnel carries ssh again;
#  - `tether remove -p PORT`: no unit, no config, no drop-in, the bastion's
#    port closed.
# Every time is printed ("measured: ...").
#
# usage: test_system_mode.sh TETHER_BINARY TESTS_BUILD_DIR [BUILD_DIR]
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sys_init "$@"
lab_find_tool json_get -ljansson
JSON_GET=$LAB_TOOL
sys_boot

PORT=2201
UNIT=tether@$PORT.service
TUSER=tunnel
p() { sys_prop "$UNIT" "$1"; }
show_unit() {
	cx systemctl status --no-pager -n 20 -- "$UNIT" 2>&1 | sed "s/^/[$LAB_NAME]   /"
}
# wait_restarted OLDPID N TIMEOUT: until the unit is active with a new
# MainPID and NRestarts=N.
wait_restarted() {
	local old=$1 n=$2 end=$((SECONDS + $3)) np
	while [ "$SECONDS" -lt "$end" ]; do
		np=$(p MainPID)
		[ "$(p NRestarts)" = "$n" ] && [ "$(p ActiveState)" = active ] &&
		    [ -n "$np" ] && [ "$np" != 0 ] && [ "$np" != "$old" ] && return 0
		sleep 0.05
	done
	return 1
}

# ---- the service user, its key, the bastion's host key -----------------------
cx useradd -m -s /bin/bash "$TUSER" || lab_fail "useradd $TUSER failed"
sys_give_key "$TUSER"
out=$(cx_as "$TUSER" "$SYS_TETHER" trust -b "$BASTION" --yes 2>&1) ||
    lab_fail "tether trust --yes as $TUSER: $out"
kh=$(cx cat "/home/$TUSER/.ssh/known_hosts")
grep -qF "$BASTION_HOST_PUB" <<<"$kh" ||
    lab_fail "tether trust did not record the bastion's real host key: $kh"
lab_log "ok: tether trust --yes as $TUSER recorded the bastion's host key"

# ---- setup --------------------------------------------------------------------------
lab_us; t0=$LAB_US
out=$(cx "$SYS_TETHER" setup -p "$PORT" -b "$BASTION" -s "/home/$TUSER/.ssh/id_ed25519" \
    --run-as "$TUSER" 2>&1) || { printf '%s\n' "$out"; show_unit; lab_fail "tether setup failed"; }
took=$(lab_since_us "$t0")
printf '%s\n' "$out" | sed "s/^/[$LAB_NAME]   setup: /"
grep -qxF "Tunnel on port $PORT set up successfully." <<<"$out" || lab_fail "setup printed no success line"
[ -f "$SYS_ROOT/etc/tether/$PORT.conf" ] || lab_fail "no /etc/tether/$PORT.conf"
[ "$(p UnitFileState)" = enabled ] || lab_fail "$UNIT is $(p UnitFileState), not enabled"
[ "$(p ActiveState)/$(p SubState)" = active/running ] || { show_unit; lab_fail "$UNIT is $(p ActiveState)/$(p SubState)"; }
[ "$(p Type)" = notify ] || lab_fail "$UNIT has Type=$(p Type)"
[ "$(p User)" = "$TUSER" ] || lab_fail "$UNIT has User=$(p User), expected $TUSER"
MAINPID=$(p MainPID)
ps_user=$(cx ps -o user= -p "$MAINPID" | tr -d ' ')
[ "$ps_user" = "$TUSER" ] || lab_fail "MainPID $MAINPID runs as '$ps_user', not $TUSER"
sys_measure "setup -> READY (tether setup returned, unit active)" "$took s"
sys_measure "process start -> READY=1" "$(sys_ready_latency sys_prop "$UNIT") s"
lab_log "ok: $UNIT enabled, active/running as $TUSER, MainPID $MAINPID"

STATUS_TEXT=$(p StatusText)
lab_log "StatusText: $STATUS_TEXT"
[[ $STATUS_TEXT == "forwarding $PORT->localhost:22 via $BASTION_IP"* ]] ||
    lab_fail "StatusText is '$STATUS_TEXT', expected 'forwarding $PORT->localhost:22 via $BASTION_IP...'"
st=$(cx systemctl status --no-pager -- "$UNIT" 2>&1)
grep -qxF "     Status: \"$STATUS_TEXT\"" <<<"$st" ||
    { printf '%s\n' "$st"; lab_fail "systemctl status does not show tether's Status: line"; }
lab_log "ok: systemctl status shows Status: \"$STATUS_TEXT\""

sys_bastion_port_open "$PORT" || lab_fail "the bastion does not listen on 127.0.0.1:$PORT"
sys_check_tunnel "$PORT" "after setup"

# ---- tether status: systemd's view and the live state ----------------------------
out=$(cx "$SYS_TETHER" status 2>&1) || { printf '%s\n' "$out"; lab_fail "tether status: exit $?"; }
printf '%s\n' "$out" | sed "s/^/[$LAB_NAME]   status: /"
grep -qE "(^|[^0-9])$PORT([^0-9]|$)" <<<"$out" && grep -q forwarding <<<"$out" ||
    lab_fail "tether status does not show port $PORT forwarding"
cx "$SYS_TETHER" status --json >"$LAB_DIR/status.json" 2>"$LAB_DIR/status.err" ||
    lab_fail "tether status --json: $(cat "$LAB_DIR/status.err")"
jf() { "$JSON_GET" "$LAB_DIR/status.json" "$1" 2>/dev/null; }
for kv in "tunnels.0.port=$PORT" "tunnels.0.mode=system" "tunnels.0.manager=systemd" \
    "tunnels.0.state=forwarding" "tunnels.0.systemd.active_state=active" \
    "tunnels.0.systemd.unit_file_state=enabled" "tunnels.0.systemd.main_pid=$MAINPID" \
    "tunnels.0.systemd.restarts=0" "tunnels.0.live.pid=$MAINPID" \
    "tunnels.0.live.forwards.0.bound_port=$PORT"; do
	[ "$(jf "${kv%%=*}")" = "${kv#*=}" ] ||
	    { cat "$LAB_DIR/status.json"; lab_fail "status --json: ${kv%%=*} is '$(jf "${kv%%=*}")', expected '${kv#*=}'"; }
done
lab_log "ok: tether status (text, --json): systemd active/enabled, MainPID $MAINPID, live state forwarding, port $PORT bound"

# ---- kill -9: systemd restarts it ----------------------------------------------------
lab_us; t0=$LAB_US
cx kill -KILL "$MAINPID"
wait_restarted "$MAINPID" 1 30 || { show_unit; lab_fail "no restart within 30 s of kill -9 (NRestarts=$(p NRestarts), $(p ActiveState))"; }
t_active=$(lab_since_us "$t0")
sys_wait_tunnel "$PORT" 30 || lab_fail "the tunnel does not carry ssh within 30 s of the restart"
t_ssh=$(lab_since_us "$t0")
NEWPID=$(p MainPID)
sys_check_tunnel "$PORT" "after kill -9"
sys_measure "kill -9 -> active again (RestartSec=$(p RestartUSec))" "$t_active s; process start -> READY $(sys_ready_latency sys_prop "$UNIT") s"
sys_measure "kill -9 -> ssh through the tunnel works" "$t_ssh s"
lab_log "ok: kill -9 $MAINPID -> restarted as $NEWPID, NRestarts=1"
MAINPID=$NEWPID

# ---- the watchdog ------------------------------------------------------------------------
mkdir -p "$SYS_ROOT/etc/systemd/system/$UNIT.d"
printf '[Service]\nWatchdogSec=3\n' >"$SYS_ROOT/etc/systemd/system/$UNIT.d/90-test-watchdog.conf"
cx systemctl daemon-reload || lab_fail "daemon-reload failed"
cx systemctl restart -- "$UNIT" || { show_unit; lab_fail "restart with WatchdogSec=3 failed"; }
[ "$(p WatchdogUSec)" = 3s ] || lab_fail "WatchdogUSec is $(p WatchdogUSec) after the drop-in"
n0=$(p NRestarts)
MAINPID=$(p MainPID)
sys_wait_tunnel "$PORT" 30 || lab_fail "no tunnel after the restart with WatchdogSec=3"
sleep 8
[ "$(p MainPID)" = "$MAINPID" ] && [ "$(p NRestarts)" = "$n0" ] ||
    { show_unit; lab_fail "with WatchdogSec=3 a healthy tether did not survive 8 s (MainPID $(p MainPID), NRestarts $(p NRestarts))"; }
lab_log "ok: WatchdogSec=3: the healthy tunnel (pid $MAINPID) kept pinging for 8 s"
lab_us; t0=$LAB_US
since=@$(date +%s)
cx kill -STOP "$MAINPID"
wait_restarted "$MAINPID" $((n0 + 1)) 60 ||
    { show_unit; lab_fail "the watchdog did not restart the stopped tether within 60 s"; }
t_wd=$(lab_since_us "$t0")
j=$(sys_journal "$UNIT" --since="$since")
grep -q 'Watchdog timeout' <<<"$j" || { printf '%s\n' "$j" | tail -n 15; lab_fail "no 'Watchdog timeout' in the journal"; }
grep -E 'Watchdog timeout|Killing process|Main process exited|Scheduled restart' <<<"$j" | tail -n 5 |
    sed "s/^/[$LAB_NAME]   journal: /"
sys_wait_tunnel "$PORT" 30 || lab_fail "the tunnel does not carry ssh after the watchdog restart"
sys_measure "SIGSTOP -> restarted by the watchdog (WatchdogSec=3, RestartSec=3)" "$t_wd s (the Watchdog timeout came $(sys_secs "$t0" "$(sys_log_us "$t0" "Watchdog timeout" -u "$UNIT")") s after SIGSTOP)"
MAINPID=$(p MainPID)
rm -rf "$SYS_ROOT/etc/systemd/system/$UNIT.d/90-test-watchdog.conf"
cx systemctl daemon-reload
cx systemctl restart -- "$UNIT" || lab_fail "restart without the watchdog drop-in failed"
[ "$(p WatchdogUSec)" = 30s ] || lab_fail "WatchdogUSec is $(p WatchdogUSec), expected the unit's 30s again"
sys_wait_tunnel "$PORT" 30 || lab_fail "no tunnel after removing the watchdog drop-in"

# ---- a broken configuration ------------------------------------------------------------
CONF=$SYS_ROOT/etc/tether/$PORT.conf
cp "$CONF" "$LAB_DIR/conf.good"
MAINPID=$(p MainPID)
printf 'keepalive_interval = often\n' >>"$CONF"
out=$(cx systemctl reload -- "$UNIT" 2>&1) && lab_fail "systemctl reload accepted a broken conf"
[ "$(p ActiveState)" = active ] && [ "$(p MainPID)" = "$MAINPID" ] ||
    lab_fail "a refused reload changed the service: $(p ActiveState), MainPID $(p MainPID)"
lab_log "ok: systemctl reload with a broken conf is refused, pid $MAINPID keeps running"
n0=$(p NRestarts)
cx systemctl restart -- "$UNIT" >/dev/null 2>&1
sys_until 15 sys_unit_is "$UNIT" failed || { show_unit; lab_fail "the unit is $(p ActiveState) with a broken conf, expected failed"; }
sleep 6      # twice RestartSec=3: a restart loop would show by now
[ "$(p ActiveState)" = failed ] || lab_fail "the unit left failed: $(p ActiveState)"
[ "$(p ExecMainStatus)" = 3 ] || lab_fail "ExecMainStatus is $(p ExecMainStatus), expected 3 (bad configuration)"
[ "$(p NRestarts)" = "$n0" ] || lab_fail "NRestarts went from $n0 to $(p NRestarts): a restart loop"
j=$(sys_journal "$UNIT" -n 5 -o cat)
grep -q 'keepalive_interval' <<<"$j" || lab_fail "the journal does not say what is wrong: $j"
lab_log "ok: a broken conf -> failed, ExecMainStatus=3, NRestarts stays $n0, journal: $(grep -m1 keepalive_interval <<<"$j")"
out=$(cx "$SYS_TETHER" status -p "$PORT" 2>&1) && lab_fail "tether status exited 0 for a failed unit: $out"
printf '%s\n' "$out" | sed "s/^/[$LAB_NAME]   status: /"
grep -qE "failed .*exit 3 \(bad configuration" <<<"$out" ||
    lab_fail "tether status does not say why the unit failed: $out"
lab_log "ok: tether status says the unit failed with exit 3 (bad configuration)"
sys_bastion_port_open "$PORT" && lab_fail "the bastion still listens on $PORT while the unit is failed"
cp "$LAB_DIR/conf.good" "$CONF"
cx systemctl reset-failed -- "$UNIT"
cx systemctl start -- "$UNIT" || { show_unit; lab_fail "start after fixing the conf failed"; }
sys_wait_tunnel "$PORT" 30 || lab_fail "no tunnel after fixing the conf"
lab_log "ok: conf fixed, started again, the tunnel works"

# ---- reboot ------------------------------------------------------------------------------
sys_reboot
sys_until 60 sys_unit_is "$UNIT" active || { show_unit; lab_fail "$UNIT is $(p ActiveState) 60 s after the reboot"; }
t_unit=$(lab_since_us "$SYS_T0")
sys_wait_tunnel "$PORT" 30 || lab_fail "the tunnel does not carry ssh after the reboot"
t_ssh=$(lab_since_us "$SYS_T0")
sys_check_tunnel "$PORT" "after the reboot"
[ "$(p NRestarts)" = 0 ] || lab_fail "NRestarts=$(p NRestarts) after the reboot"
sys_measure "reboot: 'systemctl reboot' -> container running" "$SYS_T_RUNNING s"
sys_measure "reboot: container PID 1 start -> unit READY" "$(sys_boot_to_active sys_prop "$UNIT") s"
sys_measure "reboot: 'systemctl reboot' -> unit active / ssh through the tunnel" "$t_unit s / $t_ssh s"
out=$(cx "$SYS_TETHER" status 2>&1) || { printf '%s\n' "$out"; lab_fail "tether status after the reboot: exit $?"; }
grep -q forwarding <<<"$out" || lab_fail "tether status after the reboot: $out"

# ---- remove ------------------------------------------------------------------------------
MAINPID=$(p MainPID)
out=$(cx "$SYS_TETHER" remove -p "$PORT" 2>&1) || { printf '%s\n' "$out"; lab_fail "tether remove failed"; }
grep -qxF "Tunnel on port $PORT removed." <<<"$out" || lab_fail "remove printed: $out"
# Only the template is left: the instance may still be known to systemd by
# name ("loaded inactive dead", until its garbage collection), but nothing
# of its own remains, and it is neither running nor enabled.
listed=$(cx systemctl list-units --all --no-legend --plain -- 'tether@*' | grep -v ' inactive dead ')
[ -z "$listed" ] || lab_fail "systemd still has: $listed"
[ "$(p ActiveState)" = inactive ] || lab_fail "$UNIT is $(p ActiveState) after remove"
[ "$(p UnitFileState)" != enabled ] || lab_fail "$UNIT still enabled after remove"
[ -z "$(p DropInPaths)" ] || lab_fail "$UNIT still has drop-ins: $(p DropInPaths)"
[ -z "$(cx find /etc/systemd/system -name "$UNIT")" ] || lab_fail "an enablement link of $UNIT is left"
[ ! -e "$SYS_ROOT/etc/tether/$PORT.conf" ] || lab_fail "/etc/tether/$PORT.conf left"
[ ! -e "$SYS_ROOT/etc/systemd/system/$UNIT.d" ] || lab_fail "/etc/systemd/system/$UNIT.d left: $(ls -A "$SYS_ROOT/etc/systemd/system/$UNIT.d")"
[ -z "$(find "$SYS_ROOT/etc/systemd/system" -name "*$PORT*")" ] || lab_fail "left: $(find "$SYS_ROOT/etc/systemd/system" -name "*$PORT*")"
cx kill -0 "$MAINPID" 2>/dev/null && lab_fail "MainPID $MAINPID still runs after remove"
sys_until 10 sys_bastion_port_closed "$PORT" ||
    lab_fail "the bastion still listens on $PORT 10 s after remove"
lab_log "ok: remove: unit gone, config and drop-in gone, port $PORT closed on the bastion"

sys_pass "setup, READY, STATUS=, ssh through, status, kill -9, watchdog, bad conf, reboot, remove"
