#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# A host key that changes under a running tunnel, then is fixed: the
# bastion restarts with a new host key, so tether refuses it and waits
# (state refused, refused_retry_interval 60 s); the admin puts the new key
# in the tunnel's known_hosts (a temp file renamed over it, as editors and
# tether trust do). tether must notice the file change and connect again
# at once: the forward is back within 5 s, not 60 (or the old 300), with
# no signal sent.
#
# usage: host_key_heal.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[host_key_heal] SKIP: ssh exits on a changed host key; the wait is tether's"; exit 77; }
lab_init "$@"
export RUNTIME_DIRECTORY=$LAB_DIR/run
HEAL_LIMIT=5

lab_start_bastion
lab_start_netload echo
RPORT=$(lab_free_port) || lab_fail "no free port"
KH=$LAB_DIR/tunnel_known_hosts
cp "$BASTION_KNOWN_HOSTS" "$KH"
lab_start_tether run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$KH" -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT" \
    -o backoff_initial=0.2 -o backoff_max=1 -o keepalive_interval=1 -o keepalive_count=2
lab_wait_forward "$RPORT" 30 || lab_fail "the forward was not ready within 30 s"

lab_log "check: the bastion comes back with a new host key -> refused, waiting"
lab_kill_bastion TERM
ssh-keygen -q -t ed25519 -N '' -C rotated -f "$BASTION_HOST_KEY" <<<y >/dev/null 2>&1 ||
    lab_fail "ssh-keygen could not make the new host key"
lab_restart_bastion
lab_wait_log "$TETHER_LOG" "changed.*asking again in 60 s .*as soon as known_hosts changes" 20 ||
    lab_fail "tether did not log the changed key and its wait: $(tail -n 3 "$TETHER_LOG")"
sleep 1
lab_check "the tunnel still runs, refusing the new key" lab_alive "$TETHER_PID"

lab_log "check: the new key put in $KH -> the forward is back within $HEAL_LIMIT s"
lab_us; t_fix=$LAB_US
printf '[127.0.0.1]:%s %s\n' "$BASTION_PORT" "$(cut -d' ' -f1,2 "$BASTION_HOST_KEY.pub")" >"$KH.new"
mv "$KH.new" "$KH"
lab_wait_log "$TETHER_LOG" "known_hosts changed: connecting again now" 5 ||
    lab_fail "tether did not notice that $KH changed: $(tail -n 3 "$TETHER_LOG")"
n=$(lab_log_count "$TETHER_LOG" "remote port $RPORT bound")
lab_wait_log_count "$TETHER_LOG" "remote port $RPORT bound" $((n + 1)) "$HEAL_LIMIT" ||
    lab_fail "port $RPORT was not bound again within $HEAL_LIMIT s of the fix"
took=$(lab_since_us "$t_fix")
lab_wait_tcp "$RPORT" 5 || lab_fail "port $RPORT does not accept connections after the fix"
lab_stop "$TETHER_PID" TERM 10
lab_pass "refused the rotated key, reconnected $took s after known_hosts was fixed"
