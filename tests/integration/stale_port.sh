#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# A stale remote port: another listener (a netload echo server) holds
# 127.0.0.1:RPORT on the bastion before tether starts, as a dead session of
# our own often does. tether must log the refusal once, keep its session
# (no "reconnecting" line, one login on the bastion) and ask again with
# backoff (counted with -v); a second forward of the same tunnel works
# meanwhile (real ssh through it). Once the holder exits, RPORT is bound
# within backoff_max 2 s + 1.5 s (printed), logged "(the port was freed)",
# and ssh through it works.
#
# usage: stale_port.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[stale_port] SKIP: ssh -R gives up on a refused forward (or ignores it); retrying it is tether's"; exit 77; }
lab_init "$@"
export RUNTIME_DIRECTORY=$LAB_DIR/run

BIND_LIMIT_MS=3500        # backoff_max + 1.5 s

lab_start_bastion
lab_start_workstation
# The holder: an echo server on the port tether will ask the bastion for.
lab_start_netload echo
RPORT=$TARGET_PORT
HOLDER_PID=$TARGET_PID
RPORT2=$(lab_free_port) || lab_fail "no free port"
lab_log "port $RPORT is held by netload echo (pid $HOLDER_PID); second forward on $RPORT2"

lab_start_tether run -v -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" \
    -R "127.0.0.1:$RPORT:127.0.0.1:$WS_PORT" -R "127.0.0.1:$RPORT2:127.0.0.1:$WS_PORT" \
    -o keepalive_interval=1 -o keepalive_count=3 \
    -o backoff_initial=0.2 -o backoff_max=2 -o backoff_factor=2

lab_log "check: the second forward ($RPORT2) works while $RPORT is refused"
lab_wait_forward "$RPORT2" 30 || lab_fail "the second forward (port $RPORT2) was not ready within 30 s"
lab_wait_log "$TETHER_LOG" "bastion refused remote port $RPORT" 10 ||
    lab_fail "tether did not log 'bastion refused remote port $RPORT' within 10 s"
out=$(lab_ssh_through "$RPORT2" 'echo second-forward-ok') ||
    lab_fail "ssh through the second forward failed: $out"
[ "$out" = second-forward-ok ] || lab_fail "ssh through the second forward printed '$out'"
lab_log "ok: ssh through port $RPORT2 printed '$out'"
# The port still reaches the holder, not tether.
reply=$(exec 3<>"/dev/tcp/127.0.0.1/$RPORT" && printf 'holder?\n' >&3 &&
    timeout 2 head -c 8 <&3) || true
[ "$reply" = "holder?" ] || lab_log "note: port $RPORT did not echo like the holder ('$reply')"

lab_log "check: several retries over 4 s, refusal logged once, session kept"
sleep 4
n_refused=$(lab_log_count "$TETHER_LOG" "bastion refused remote port $RPORT")
n_retry=$(lab_log_count "$TETHER_LOG" "asking for refused forwards again")
n_reconn=$(lab_log_count "$TETHER_LOG" "reconnecting")
n_acc=$(lab_log_count "$BASTION_LOG" "Accepted publickey")
lab_log "measured: refusal logged $n_refused time(s), $n_retry retries scheduled, $n_reconn 'reconnecting' lines, $n_acc bastion login(s)"
[ "$n_refused" = 1 ] || lab_fail "the refusal was logged $n_refused times, expected once: $(grep 'refused remote port' "$TETHER_LOG")"
[ "$n_retry" -ge 2 ] || lab_fail "tether asked for port $RPORT again only $n_retry time(s) in 4 s (backoff max 2 s)"
[ "$n_reconn" = 0 ] || lab_fail "tether dropped its session over a refused forward: $(grep reconnecting "$TETHER_LOG")"
[ "$n_acc" = 1 ] || lab_fail "the bastion saw $n_acc logins, expected 1 (the session must be kept)"
out=$(lab_ssh_through "$RPORT2" 'echo still-ok') || lab_fail "ssh through port $RPORT2 failed after the retries: $out"
lab_log "ok: port $RPORT2 still works ('$out')"

lab_log "check: the holder exits -> port $RPORT bound within $BIND_LIMIT_MS ms"
lab_us; t_free=$LAB_US
lab_stop "$HOLDER_PID" TERM 5
lab_wait_log "$TETHER_LOG" "remote port $RPORT bound.*\(the port was freed\)" 15 ||
    lab_fail "port $RPORT was not bound (with '(the port was freed)') within 15 s of the holder exiting"
t_bound=$(lab_since_us "$t_free")
lab_us_lt "$t_free" "$BIND_LIMIT_MS" ||
    lab_fail "port $RPORT was bound $t_bound s after it was freed, expected < $BIND_LIMIT_MS ms"
lab_wait_tcp "$RPORT" 5 || lab_fail "port $RPORT is logged bound but does not accept connections"
out=$(lab_ssh_through "$RPORT" 'echo freed-port-ok') ||
    lab_fail "ssh through port $RPORT failed after it was bound: $out"
[ "$out" = freed-port-ok ] || lab_fail "ssh through port $RPORT printed '$out'"
lab_log "measured: port $RPORT bound $t_bound s after the holder exited; ssh through it printed '$out'"
n_reconn=$(lab_log_count "$TETHER_LOG" "reconnecting")
[ "$n_reconn" = 0 ] || lab_fail "tether reconnected during the test: $(grep reconnecting "$TETHER_LOG")"
n_acc=$(lab_log_count "$BASTION_LOG" "Accepted publickey")
[ "$n_acc" = 1 ] || lab_fail "the bastion saw $n_acc logins, expected 1"

lab_stop "$TETHER_PID" TERM 10
[ "$LAB_RC" = 0 ] || lab_fail "tether exited with status $LAB_RC after SIGTERM, expected 0"
lab_pass "refusal logged once, $n_retry retries in one session, port bound $t_bound s after it was freed"
