#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# status tells the truth about a forward the bastion will not bind: with
# 127.0.0.1:RPORT held on the bastion by another listener and a second
# forward RPORT2 that binds, tether's own state, `tether status` (table and
# --json) and its exit code must all say the tunnel is not forwarding:
#  - state "partial", "forwarding": false, status exits 1;
#  - the forward RPORT refused, with refusals >= 1 and refused_since, and
#    the table's PROBLEM column naming it;
# and once the holder exits and RPORT is bound:
#  - state "forwarding", "forwarding": true, status exits 0, PROBLEM empty.
#
# usage: status_truth.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[status_truth] SKIP: tether's status only"; exit 77; }
lab_init "$@"
lab_find_tool json_get -ljansson
JSON_GET=$LAB_TOOL
lab_user_runtime_dir

lab_start_bastion
lab_start_netload echo
RPORT=$TARGET_PORT
HOLDER_PID=$TARGET_PID
RPORT2=$(lab_free_port) || lab_fail "no free port"
lab_log "port $RPORT is held on the bastion by netload echo (pid $HOLDER_PID); second forward on $RPORT2"

lab_start_tether run -n truth -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" \
    -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT" -R "127.0.0.1:$RPORT2:127.0.0.1:$TARGET_PORT" \
    -o backoff_initial=0.2 -o backoff_max=1
lab_wait_forward "$RPORT2" 30 || lab_fail "the second forward ($RPORT2) was not ready within 30 s"
lab_wait_log "$TETHER_LOG" "bastion refused remote port $RPORT" 10 ||
    lab_fail "tether did not log the refusal of port $RPORT"

# status_now: `tether status` and `status --json` (sets TABLE, JSON_FILE,
# RC_TABLE, RC_JSON).
status_now() {
	TABLE=$("$LAB_TETHER" status --user 2>&1)
	RC_TABLE=$?
	JSON_FILE=$LAB_DIR/status.json
	"$LAB_TETHER" status --user --json >"$JSON_FILE" 2>"$LAB_DIR/status.err"
	RC_JSON=$?
}
# tj PATH: a value of the status document.
tj() { "$JSON_GET" "$JSON_FILE" "$1" 2>/dev/null; }

lab_log "check: port $RPORT refused -> partial, not forwarding, status exits 1"
status_now
lab_log "status:"
printf '%s\n' "$TABLE" | sed "s/^/[$LAB_NAME]   /"
[ "$(tj tunnels.0.name)" = truth ] || lab_fail "status --json does not list the tunnel: $(cat "$JSON_FILE")"
[ "$(tj tunnels.0.state)" = partial ] || lab_fail "state is '$(tj tunnels.0.state)', expected partial"
[ "$(tj tunnels.0.forwarding)" = false ] || lab_fail "forwarding is '$(tj tunnels.0.forwarding)' while port $RPORT is refused"
[ "$RC_JSON" = 1 ] && [ "$RC_TABLE" = 1 ] ||
    lab_fail "status exited $RC_TABLE (table) and $RC_JSON (--json), expected 1 while a forward is not bound"
[ "$(tj tunnels.0.live.forwards.0.state)" != bound ] || lab_fail "forward $RPORT shows bound"
[ "$(tj tunnels.0.live.forwards.0.refusals)" -ge 1 ] || lab_fail "refusals is '$(tj tunnels.0.live.forwards.0.refusals)'"
[[ $(tj tunnels.0.live.forwards.0.refused_since) =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T ]] ||
    lab_fail "refused_since is '$(tj tunnels.0.live.forwards.0.refused_since)'"
grep -qE "partial .*forward 127\.0\.0\.1:$RPORT:[^ ]* refused [0-9]+ times? since .*not permitted" <<<"$TABLE" ||
    lab_fail "the table does not name the refused forward: $TABLE"
lab_log "ok: partial, forwarding false, exit 1, forward $RPORT refused $(tj tunnels.0.live.forwards.0.refusals) time(s) since $(tj tunnels.0.live.forwards.0.refused_since)"

lab_log "check: the holder exits -> forwarding, status exits 0, no problem shown"
lab_stop "$HOLDER_PID" TERM 5
lab_wait_log "$TETHER_LOG" "remote port $RPORT bound" 15 || lab_fail "port $RPORT was not bound after the holder exited"
sleep 0.3
status_now
printf '%s\n' "$TABLE" | sed "s/^/[$LAB_NAME]   /"
[ "$(tj tunnels.0.state)" = forwarding ] || lab_fail "state is '$(tj tunnels.0.state)' once every forward is bound"
[ "$(tj tunnels.0.forwarding)" = true ] || lab_fail "forwarding is '$(tj tunnels.0.forwarding)'"
[ "$RC_JSON" = 0 ] && [ "$RC_TABLE" = 0 ] || lab_fail "status exited $RC_TABLE / $RC_JSON once forwarding, expected 0"
! grep -q "refused" <<<"$TABLE" || lab_fail "the table still shows a refusal: $TABLE"
lab_stop "$TETHER_PID" TERM 10
lab_pass "partial with the refused forward named (exit 1), then forwarding (exit 0)"
