#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The bastion restarts: its sshd (the listener and the process serving
# tether's session) is killed and started again on the same port after a
# 1.5 s outage. tether notices the closed connection, retries with backoff
# (initial 0.2 s, factor 2, max 2 s, full jitter) and, once the bastion
# listens again, binds its forward within the backoff bound: backoff_max
# 2 s + 1.5 s of slack (printed). A real ssh command then reaches the
# workstation through the tunnel again, tether is the same process and has
# as many open fds as before.
#
# usage: bastion_restart.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[bastion_restart] SKIP: ssh -N exits when the bastion goes away; reconnecting is tether's"; exit 77; }
lab_init "$@"
export RUNTIME_DIRECTORY=$LAB_DIR/run

BACKOFF_MAX=2
BOUND_LIMIT_MS=3500       # backoff_max + 1.5 s slack

lab_start_bastion
lab_start_workstation
RPORT=$(lab_free_port) || lab_fail "no free port"

lab_start_tether run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$RPORT:127.0.0.1:$WS_PORT" \
    -o keepalive_interval=1 -o keepalive_count=3 \
    -o backoff_initial=0.2 -o backoff_max="$BACKOFF_MAX" -o backoff_factor=2
lab_wait_forward "$RPORT" 30 || lab_fail "the forward of port $RPORT was not ready within 30 s"
out=$(lab_ssh_through "$RPORT" 'echo before-restart') ||
    lab_fail "ssh through the tunnel failed before the restart: $out"
[ "$out" = before-restart ] || lab_fail "ssh before the restart printed '$out'"
lab_log "ok: ssh through the tunnel before the restart printed '$out'"
PID_BEFORE=$TETHER_PID
sleep 0.3
FDS_BEFORE=$(lab_fd_count "$TETHER_PID") || lab_fail "cannot count tether's fds"
n_bound=$(lab_log_count "$TETHER_LOG" "remote port $RPORT bound")
old_sessions=$(lab_bastion_sessions | tr '\n' ' ')

lab_log "check: kill the bastion (listener $BASTION_PID, session processes $old_sessions)"
lab_us; t_kill=$LAB_US
lab_kill_bastion TERM
lab_wait_log_count "$TETHER_LOG" "reconnecting in [0-9.]+ s" 1 10 ||
    lab_fail "tether did not notice the bastion going away within 10 s (no 'reconnecting in')"
lab_log "measured: tether noticed the lost session $(lab_since_us "$t_kill") s after the kill"

# An outage long enough for a few refused connects and a grown backoff.
sleep 1.5
lab_check "tether (pid $TETHER_PID) keeps running while the bastion is down" lab_alive "$TETHER_PID"
# shellcheck disable=SC2317  # called through lab_check
port_closed() { ! lab_port_open "$1"; }
lab_check "port $RPORT is closed while the bastion is down" port_closed "$RPORT"
n_retries=$(lab_log_count "$TETHER_LOG" "reconnecting in [0-9.]+ s")
lab_log "tether scheduled $n_retries retries during the outage: $(grep -oE 'reconnecting in [0-9.]+ s' "$TETHER_LOG" | tr '\n' ',' | sed 's/,$//; s/reconnecting in //g')"

lab_log "check: restart the bastion on port $BASTION_PORT -> forward bound within $((BOUND_LIMIT_MS / 1000)).$((BOUND_LIMIT_MS % 1000 / 100)) s"
lab_us; t_up=$LAB_US     # from the launch: includes sshd's own start
lab_restart_bastion
lab_wait_log_count "$TETHER_LOG" "remote port $RPORT bound" $((n_bound + 1)) 15 ||
    lab_fail "the forward of port $RPORT was not bound again within 15 s of the bastion's restart"
t_bound=$(lab_since_us "$t_up")
lab_us_lt "$t_up" "$BOUND_LIMIT_MS" ||
    lab_fail "the forward was bound again $t_bound s after the restart, expected < $BOUND_LIMIT_MS ms (backoff_max $BACKOFF_MAX s + 1.5 s)"
out=$(lab_ssh_through "$RPORT" 'echo after-restart') ||
    lab_fail "ssh through the tunnel failed after the restart: $out"
[ "$out" = after-restart ] || lab_fail "ssh after the restart printed '$out'"
t_ssh=$(lab_since_us "$t_up")
lab_log "measured: forward bound again $t_bound s after the bastion was started again; ssh through the tunnel printed '$out' $t_ssh s after it (outage $(lab_since_us "$t_kill") s in all)"

lab_check "tether is the same process (pid $PID_BEFORE)" test "$TETHER_PID" = "$PID_BEFORE"
lab_check "tether (pid $TETHER_PID) is alive" lab_alive "$TETHER_PID"
# No fd left behind by the dead session (channels close asynchronously).
end=$((SECONDS + 3))
fds_after=$(lab_fd_count "$TETHER_PID")
while [ "$fds_after" != "$FDS_BEFORE" ] && [ "$SECONDS" -lt "$end" ]; do
	sleep 0.1
	fds_after=$(lab_fd_count "$TETHER_PID")
done
[ "$fds_after" = "$FDS_BEFORE" ] ||
    lab_fail "tether had $FDS_BEFORE fds before the restart and $fds_after after recovering: a leak across reconnects"
lab_log "ok: tether has $fds_after fds, as before the restart"
n_acc=$(lab_log_count "$BASTION_LOG" "Accepted publickey")
lab_check "the bastion accepted 2 logins (before and after the restart), saw $n_acc" test "$n_acc" = 2

lab_stop "$TETHER_PID" TERM 10
[ "$LAB_RC" = 0 ] || lab_fail "tether exited with status $LAB_RC after SIGTERM, expected 0"
lab_pass "forward bound again $t_bound s after the bastion restarted, ssh through it after $t_ssh s"
