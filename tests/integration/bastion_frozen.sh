#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# A frozen bastion: SIGSTOP on the sshd process(es) serving tether's
# session. The kernel still ACKs, so only an answered keepalive can tell.
# With keepalive_interval 1 s x keepalive_count 3, tether must log "did not
# answer for" within 3 s + 1 s (asserted < 4.0 s, printed). It then
# reconnects to the listener (not frozen); the frozen process still holds
# the forwarded port, so the bastion refuses it (the stale-port case) and
# tether keeps that session and asks again. After SIGCONT the old process
# sees its connection closed and exits, the port is freed, and the forward
# is bound again within backoff_max 2 s + 1.5 s (printed); a real ssh
# command reaches the workstation through it.
#
# usage: bastion_frozen.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[bastion_frozen] SKIP: ssh -N has no reconnect; keepalive detection is tether's here"; exit 77; }
lab_init "$@"
export RUNTIME_DIRECTORY=$LAB_DIR/run

DETECT_LIMIT_MS=4000      # keepalive_interval x keepalive_count + 1 s
REBIND_LIMIT_MS=3500      # backoff_max + 1.5 s

lab_start_bastion
lab_start_workstation
RPORT=$(lab_free_port) || lab_fail "no free port"

lab_start_tether run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$RPORT:127.0.0.1:$WS_PORT" \
    -o keepalive_interval=1 -o keepalive_count=3 \
    -o backoff_initial=0.2 -o backoff_max=2 -o backoff_factor=2
lab_wait_forward "$RPORT" 30 || lab_fail "the forward of port $RPORT was not ready within 30 s"
out=$(lab_ssh_through "$RPORT" 'echo before-freeze') ||
    lab_fail "ssh through the tunnel failed before the freeze: $out"
[ "$out" = before-freeze ] || lab_fail "ssh before the freeze printed '$out'"
lab_log "ok: ssh through the tunnel printed '$out'"
# A few answered keepalives first: detection is measured from a live session.
sleep 1.5
[ "$(lab_log_count "$TETHER_LOG" "did not answer")" = 0 ] ||
    lab_fail "tether declared a healthy bastion dead: $(grep 'did not answer' "$TETHER_LOG")"

FROZEN=()
while read -r p; do FROZEN+=("$p"); done < <(lab_bastion_sessions)
[ "${#FROZEN[@]}" -gt 0 ] || lab_fail "no sshd session process under the bastion listener $BASTION_PID"
n_bound=$(lab_log_count "$TETHER_LOG" "remote port $RPORT bound")

lab_log "check: SIGSTOP the bastion's session process(es) ${FROZEN[*]} -> 'did not answer' in < $DETECT_LIMIT_MS ms"
# If the test fails while they are stopped, the cleanup's SIGTERM would
# wait: continue them first.
# shellcheck disable=SC2016  # expanded when the hook runs
lab_on_exit 'kill -CONT "${FROZEN[@]}" 2>/dev/null'
kill -STOP "${FROZEN[@]}" || lab_fail "kill -STOP ${FROZEN[*]} failed"
lab_us; t_stop=$LAB_US
lab_wait_log_count "$TETHER_LOG" "did not answer for" 1 10 ||
    lab_fail "tether did not log 'did not answer for' within 10 s of the freeze (limit $DETECT_LIMIT_MS ms)"
t_detect=$(lab_since_us "$t_stop")
lab_log "measured: 'did not answer' logged $t_detect s after SIGSTOP: $(grep -o 'did not answer for.*' "$TETHER_LOG" | head -n 1)"
lab_us_lt "$t_stop" "$DETECT_LIMIT_MS" ||
    lab_fail "tether took $t_detect s to see the frozen bastion, expected < $DETECT_LIMIT_MS ms (keepalive 1 s x 3 + 1 s)"

lab_log "check: tether reconnects; the frozen process still holds port $RPORT, so it is refused and retried"
lab_wait_log_count "$BASTION_LOG" "Accepted publickey" 2 10 ||
    lab_fail "tether did not log in to the bastion again within 10 s after giving up on the frozen session"
lab_wait_log "$TETHER_LOG" "bastion refused remote port $RPORT" 10 ||
    lab_fail "the new session was not refused port $RPORT while the frozen process holds it (expected the stale-port case)"
lab_log "ok: new session up, port $RPORT refused as expected (still held by the frozen process)"
sleep 1
lab_check "tether (pid $TETHER_PID) is still running" lab_alive "$TETHER_PID"

lab_log "check: SIGCONT -> the old process exits, port $RPORT is bound again within $REBIND_LIMIT_MS ms"
kill -CONT "${FROZEN[@]}" 2>/dev/null
lab_us; t_cont=$LAB_US
lab_wait_log_count "$TETHER_LOG" "remote port $RPORT bound" $((n_bound + 1)) 20 ||
    lab_fail "port $RPORT was not bound again within 20 s of SIGCONT"
t_rebind=$(lab_since_us "$t_cont")
for p in "${FROZEN[@]}"; do
	lab_alive "$p" && lab_log "note: old session process $p is still alive"
done
lab_us_lt "$t_cont" "$REBIND_LIMIT_MS" ||
    lab_fail "port $RPORT was bound again $t_rebind s after SIGCONT, expected < $REBIND_LIMIT_MS ms"
grep -q "remote port $RPORT bound.*(the port was freed)" "$TETHER_LOG" ||
    lab_fail "the rebind was not logged as '(the port was freed)'"
out=$(lab_ssh_through "$RPORT" 'echo after-freeze') ||
    lab_fail "ssh through the tunnel failed after recovery: $out"
[ "$out" = after-freeze ] || lab_fail "ssh after recovery printed '$out'"
t_ssh=$(lab_since_us "$t_cont")
lab_log "measured: port bound again $t_rebind s after SIGCONT; ssh printed '$out' $t_ssh s after SIGCONT"
n_dead=$(lab_log_count "$TETHER_LOG" "did not answer for")
lab_check "exactly one session was declared dead (saw $n_dead)" test "$n_dead" = 1

lab_stop "$TETHER_PID" TERM 10
[ "$LAB_RC" = 0 ] || lab_fail "tether exited with status $LAB_RC after SIGTERM, expected 0"
lab_pass "frozen bastion detected in $t_detect s (< 4.0), tunnel back $t_rebind s after SIGCONT"
