#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# A forward the bastion will never allow: the key's authorized_keys line
# says permitlisten="127.0.0.1:OTHER", and tether asks for RPORT. tether
# must keep its session, ask again with backoff (fewer and fewer times),
# and once the refusals outlast stale_port_timeout (2 s here) say once,
# in its log and in `status`, that the port is probably not permitted
# rather than held; the state is waiting-for-port and status exits 1.
#
# usage: forward_not_permitted.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[forward_not_permitted] SKIP: the diagnosis is tether's"; exit 77; }
lab_init "$@"
lab_find_tool json_get -ljansson
JSON_GET=$LAB_TOOL
lab_user_runtime_dir

RPORT=$(lab_free_port) || lab_fail "no free port"
OTHER=$(lab_free_port) || lab_fail "no free port"
printf 'permitlisten="127.0.0.1:%s" %s\n' "$OTHER" "$(cat "$LAB_KEY.pub")" >"$LAB_DIR/authorized_keys"
lab_start_bastion
lab_start_netload echo

lab_start_tether run -n denied -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT" \
    -o stale_port_timeout=2 -o backoff_initial=0.25 -o backoff_max=60
lab_wait_log "$TETHER_LOG" "bastion refused remote port $RPORT" 15 ||
    lab_fail "tether did not log the refusal of port $RPORT"
lab_log "check: after stale_port_timeout (2 s) -> 'probably not permitted', once"
lab_wait_log "$TETHER_LOG" "still refuses remote port $RPORT .*probably not permitted; check permitlisten" 15 ||
    lab_fail "no 'probably not permitted' diagnosis: $(tail -n 3 "$TETHER_LOG")"
sleep 3
n=$(lab_log_count "$TETHER_LOG" "probably not permitted")
[ "$n" = 1 ] || lab_fail "the diagnosis was logged $n times, expected once"

lab_log "check: status says waiting-for-port, names the forward as not permitted, exits 1"
"$LAB_TETHER" status --user --json >"$LAB_DIR/status.json" 2>&1
rc=$?
table=$("$LAB_TETHER" status --user 2>&1)
printf '%s\n' "$table" | sed "s/^/[$LAB_NAME]   /"
tj() { "$JSON_GET" "$LAB_DIR/status.json" "$1" 2>/dev/null; }
[ "$rc" = 1 ] || lab_fail "status --json exited $rc, expected 1"
[ "$(tj tunnels.0.state)" = waiting-for-port ] || lab_fail "state is '$(tj tunnels.0.state)', expected waiting-for-port"
[ "$(tj tunnels.0.live.forwards.0.diagnosis)" = not-permitted ] ||
    lab_fail "diagnosis is '$(tj tunnels.0.live.forwards.0.diagnosis)', expected not-permitted"
grep -q "probably not permitted (permitlisten" <<<"$table" || lab_fail "the table does not say 'probably not permitted'"

lab_log "check: the asks back off (sshd's denials over 8 s)"
# From 6 s on, whatever the build's speed: the asks are 4 s or more apart
# by then (0.25 s doubling), where they were every 5 s before.
sleep 4
d0=$(grep -c "remote forward to host 127.0.0.1 port $RPORT, but the request was denied" "$BASTION_LOG" || true)
sleep 8
d1=$(grep -c "remote forward to host 127.0.0.1 port $RPORT, but the request was denied" "$BASTION_LOG" || true)
asks=$(lab_log_count "$TETHER_LOG" "remote port $RPORT bound")
lab_log "measured: $((d1 - d0)) denial line(s) in sshd's log over 8 s"
[ "$d0" -ge 3 ] || lab_fail "only $d0 denials before: the test did not see tether ask again"
# 0.25 s doubling: by now the asks are 4 s or more apart (every 5 s before).
[ $((d1 - d0)) -le 3 ] || lab_fail "$((d1 - d0)) denials in 8 s: the refused forward is not backing off"
[ "$asks" = 0 ] || lab_fail "port $RPORT was bound although not permitted"
n_acc=$(lab_log_count "$BASTION_LOG" "Accepted publickey")
[ "$n_acc" = 1 ] || lab_fail "the bastion saw $n_acc logins, expected 1 (the session must be kept)"
lab_stop "$TETHER_PID" TERM 10
lab_pass "not-permitted port diagnosed once after 2 s, status waiting-for-port (exit 1), asks backed off"
