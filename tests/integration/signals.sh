#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Signals on a live tunnel:
#  1. SIGHUP with a config file (-c) whose forward list gained a second
#     forward: the new forward works, while an ssh session opened through the
#     first one before the HUP keeps running ("survived"); the bastion sees
#     no new login.
#  2. The second forward removed, SIGHUP again: the bastion releases that
#     port; the first one still works.
#  3. SIGUSR1: a new session at once (a second login on the bastion), and
#     the tunnel works again (times printed). SIGINT then ends it with 0.
#  4. Under load: tether's open fds are counted before a netload run and
#     after it (equal: nothing leaked); SIGTERM during a second netload run
#     ends tether with exit 0 within 2 s (printed), no tether process left,
#     port closed on the bastion.
#
# usage: signals.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[signals] SKIP: reload (HUP) and reconnect (USR1) are tether's; nothing to check with LAB_TUNNEL=ssh"; exit 77; }
lab_init "$@"
export RUNTIME_DIRECTORY=$LAB_DIR/run

lab_start_bastion
lab_start_workstation
lab_start_netload echo
R1=$(lab_free_port) || lab_fail "no free port"
R2=$(lab_free_port) || lab_fail "no free port"
R3=$(lab_free_port) || lab_fail "no free port"
CONF=$LAB_DIR/tunnel.conf

# write_conf PORT...: the config file, one forward to the workstation per port.
write_conf() {
	local p
	{
		printf '[tunnel]\nname = signals\n'
		printf 'bastion = %s@127.0.0.1:%s\n' "$LAB_USER" "$BASTION_PORT"
		printf 'key = %s\nknown_hosts = %s\n' "$LAB_KEY" "$BASTION_KNOWN_HOSTS"
		printf 'keepalive_interval = 1\nkeepalive_count = 3\n'
		printf 'backoff_initial = 0.2\nbackoff_max = 2\nbackoff_factor = 2\n'
		for p in "$@"; do
			printf 'forward = 127.0.0.1:%s:127.0.0.1:%s\n' "$p" "$WS_PORT"
		done
	} >"$CONF.new"
	mv "$CONF.new" "$CONF"
}

# ssh_ok PORT WORD: ssh through PORT runs 'echo WORD'.
ssh_ok() {
	local out
	out=$(lab_ssh_through "$1" "echo $2") || lab_fail "ssh through port $1 failed: $out"
	[ "$out" = "$2" ] || lab_fail "ssh through port $1 printed '$out', expected '$2'"
}

logins() { lab_log_count "$BASTION_LOG" "Accepted publickey"; }
# shellcheck disable=SC2317  # called through lab_check
port_closed() { ! lab_port_open "$1"; }

# ---- 1. SIGHUP adds a forward; a session through the first one survives --
write_conf "$R1"
lab_start_tether run -c "$CONF"
lab_wait_forward "$R1" 30 || lab_fail "the forward of port $R1 was not ready within 30 s"
ssh_ok "$R1" first-ok
lab_log "ok: ssh through port $R1"

lab_log "check: SIGHUP adds forward $R2; an ssh session opened before through $R1 survives"
LONG_OUT=$LAB_DIR/long-session.out
lab_ssh_through "$R1" 'echo started; sleep 3; echo survived' >"$LONG_OUT" 2>&1 &
LONG_PID=$!
lab__own "$LONG_PID"
lab_wait_log "$LONG_OUT" '^started$' 15 || lab_fail "the long ssh session through $R1 did not start: $(cat "$LONG_OUT")"
n_login=$(logins)
write_conf "$R1" "$R2"
kill -HUP "$TETHER_PID"
lab_us; t_hup=$LAB_US
lab_wait_log "$TETHER_LOG" "forward .*:$R2:.* added" 5 ||
    lab_fail "no 'forward ... $R2 ... added' within 5 s of SIGHUP"
lab_wait_forward "$R2" 5 || lab_fail "the added forward (port $R2) was not bound within 5 s of SIGHUP"
t_add=$(lab_since_us "$t_hup")
ssh_ok "$R2" second-ok
lab_log "measured: forward $R2 bound $t_add s after SIGHUP; ssh through it works"
lab_wait_pid "$LONG_PID" 15
{ [ "$LAB_RC" = 0 ] && [ "$(tr '\n' ' ' <"$LONG_OUT")" = "started survived " ]; } ||
    lab_fail "the ssh session opened through $R1 before SIGHUP did not survive (status $LAB_RC, output '$(tr '\n' ' ' <"$LONG_OUT")')"
lab_log "ok: the session opened before SIGHUP printed 'survived'"
[ "$(logins)" = "$n_login" ] || lab_fail "SIGHUP made a new bastion login ($n_login -> $(logins)); the session must be kept"
grep -q "reloaded: same bastion, updating forwards" "$TETHER_LOG" ||
    lab_fail "tether did not log 'reloaded: same bastion, updating forwards'"
lab_log "ok: same bastion session (no new login)"

# ---- 2. SIGHUP removes a forward: the bastion releases its port ----------
lab_log "check: forward $R2 removed + SIGHUP -> the bastion releases port $R2"
write_conf "$R1"
kill -HUP "$TETHER_PID"
lab_us; t_hup=$LAB_US
lab_wait_log "$TETHER_LOG" "remote port $R2 released on the bastion" 5 ||
    lab_fail "no 'remote port $R2 released on the bastion' within 5 s of SIGHUP"
end=$((SECONDS + 5))
while lab_port_open "$R2" && [ "$SECONDS" -lt "$end" ]; do sleep 0.05; done
lab_check "port $R2 is closed on the bastion" port_closed "$R2"
lab_log "measured: port $R2 released $(lab_since_us "$t_hup") s after SIGHUP"
if grep -q "remote port $R2 released on the bastion (it had already gone)" "$TETHER_LOG"; then
	lab_fail "the bastion did not hold port $R2 any more when tether cancelled it"
fi
ssh_ok "$R1" first-still-ok
[ "$(logins)" = "$n_login" ] || lab_fail "removing a forward made a new bastion login"
lab_log "ok: port $R1 still works, same session"

# ---- 3. SIGUSR1: a new session now ---------------------------------------
lab_log "check: SIGUSR1 -> a new session, the tunnel works again"
n_bound=$(lab_log_count "$TETHER_LOG" "remote port $R1 bound")
kill -USR1 "$TETHER_PID"
lab_us; t_usr=$LAB_US
lab_wait_log "$TETHER_LOG" "SIGUSR1: reconnecting now" 5 || lab_fail "no 'SIGUSR1: reconnecting now' within 5 s"
lab_wait_log_count "$BASTION_LOG" "Accepted publickey" $((n_login + 1)) 10 ||
    lab_fail "the bastion saw no new login within 10 s of SIGUSR1"
t_login=$(lab_since_us "$t_usr")
lab_wait_log_count "$TETHER_LOG" "remote port $R1 bound" $((n_bound + 1)) 10 ||
    lab_fail "port $R1 was not bound again within 10 s of SIGUSR1"
t_bound=$(lab_since_us "$t_usr")
ssh_ok "$R1" after-usr1
lab_log "measured: new login $t_login s, port $R1 bound again $t_bound s, ssh through it $(lab_since_us "$t_usr") s after SIGUSR1"
lab_check "tether (pid $TETHER_PID) is still running" lab_alive "$TETHER_PID"

lab_log "check: SIGINT -> exit 0"
lab_stop "$TETHER_PID" INT 5
[ "$LAB_RC" = 0 ] || lab_fail "tether exited with status $LAB_RC after SIGINT, expected 0"
lab_log "ok: SIGINT ended tether with exit 0"

# ---- 4. No fd leak across a load run; SIGTERM under load -----------------
lab_log "check: fds before and after a netload run are equal; SIGTERM under load exits 0 in < 2 s"
lab_start_tether run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$R3:127.0.0.1:$TARGET_PORT" \
    -o keepalive_interval=1 -o keepalive_count=3
lab_wait_forward "$R3" 30 || lab_fail "the forward of port $R3 was not ready within 30 s"
sleep 0.3
fd_before=$(lab_fd_count "$TETHER_PID") || lab_fail "cannot count tether's fds"
out=$(timeout -k 2 60 "$NETLOAD" -d 50 load "$R3" 32 1048576) ||
    lab_fail "netload load (32 x 1 MiB) through port $R3 failed: $out"
lab_log "ok: load run: $out"
# Channels close asynchronously: allow 3 s for the count to settle.
end=$((SECONDS + 3))
fd_after=$(lab_fd_count "$TETHER_PID")
while [ "$fd_after" != "$fd_before" ] && [ "$SECONDS" -lt "$end" ]; do
	sleep 0.1
	fd_after=$(lab_fd_count "$TETHER_PID")
done
lab_log "measured: tether had $fd_before fds before the load, $fd_after after it"
[ "$fd_after" = "$fd_before" ] ||
    lab_fail "fd leak: $fd_before fds before the load, $fd_after after it: $(find "/proc/$TETHER_PID/fd" -mindepth 1 -printf '%l\n' 2>/dev/null | sed 's/:\[.*//' | sort | uniq -c | sort -rn | head -n 5 | tr '\n' ';')"

LOAD_OUT=$LAB_DIR/load-during-term.out
"${LAB_PDEATH[@]}" "$NETLOAD" -d 60 load "$R3" 16 67108864 >"$LOAD_OUT" 2>&1 &
LOAD_PID=$!
lab__own "$LOAD_PID"
# Wait until the load's connections are open through tether.
end=$((SECONDS + 10))
until [ "$(lab_fd_count "$TETHER_PID")" -ge $((fd_before + 16)) ]; do
	{ lab_alive "$LOAD_PID" && [ "$SECONDS" -lt "$end" ]; } ||
	    lab_fail "the load's connections did not open through tether: $(cat "$LOAD_OUT")"
	sleep 0.05
done
sleep 0.5
lab_alive "$LOAD_PID" || lab_fail "the load run ended before SIGTERM (too fast?): $(cat "$LOAD_OUT")"
fds_load=$(lab_fd_count "$TETHER_PID")
kill -TERM "$TETHER_PID"
lab_us; t_term=$LAB_US
end=$((${EPOCHREALTIME//[!0-9]/} + 5000000))
while lab_alive "$TETHER_PID" && [ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ]; do sleep 0.02; done
t_exit=$(lab_since_us "$t_term")
lab_alive "$TETHER_PID" && lab_fail "tether was still running 5 s after SIGTERM under load"
lab_wait_pid "$TETHER_PID" 1
lab_log "measured: tether ($fds_load fds, under load) exited $t_exit s after SIGTERM, status $LAB_RC"
[ "$LAB_RC" = 0 ] || lab_fail "tether exited with status $LAB_RC after SIGTERM under load, expected 0"
lab_us_lt "$t_term" 2000 || lab_fail "tether took $t_exit s to exit after SIGTERM under load, expected < 2 s"
left=()
for p in $(lab__tagged); do
	[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$(readlink -f "$LAB_TETHER")" ] && left+=("$p")
done
[ "${#left[@]}" = 0 ] || lab_fail "tether process(es) left after SIGTERM: ${left[*]}"
lab_log "ok: no tether process left"
lab_wait_pid "$LOAD_PID" 10
lab_log "(the interrupted load run ended with status $LAB_RC: $(tail -n 1 "$LOAD_OUT"))"
end=$((SECONDS + 10))
while lab_port_open "$R3" && [ "$SECONDS" -lt "$end" ]; do sleep 0.1; done
lab_check "port $R3 is closed on the bastion after SIGTERM" port_closed "$R3"

lab_pass "HUP add $t_add s, USR1 rebind $t_bound s, fds $fd_before = $fd_after, SIGTERM under load exit 0 in $t_exit s"
