#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The state file: with RUNTIME_DIRECTORY=<lab dir>/run, tether keeps
# RUNTIME_DIRECTORY/NAME.json (NAME = the first remote port here). Checked
# with tests/tools/json_get (strict jansson parse; no jq needed):
#  - it exists and shows state "forwarding", the forward "bound" with
#    bound_port = the port, our pid, the bastion, connected_since, no error;
#  - channels = 1 while a connection is open through the tunnel, 0 after;
#    bytes_to_target / bytes_from_target count a 4 x 1 MiB echo run;
#  - the bastion killed: "waiting-to-retry" with last_error {message, at}
#    and connected_since null; back to "forwarding" (reconnects >= 1) after
#    the bastion restarts, last_error null again and the outage kept as
#    previous_error {message, at, cleared_at};
#  - a reader parsing it every 10 ms for the whole run (traffic, outage,
#    reconnect) never sees it missing or invalid (atomic replacement);
#  - SIGTERM: exit 0 and the file (and any .tmp) is gone.
#
# usage: state_file.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[state_file] SKIP: the state file is tether's; nothing to check with LAB_TUNNEL=ssh"; exit 77; }
lab_init "$@"
lab_find_tool json_get -ljansson
JSON_GET=$LAB_TOOL
export RUNTIME_DIRECTORY=$LAB_DIR/run

lab_start_bastion
lab_start_netload echo
RPORT=$(lab_free_port) || lab_fail "no free port"
STATE=$RUNTIME_DIRECTORY/$RPORT.json

# field PATH: one value of the state file ("" if unreadable).
field() { "$JSON_GET" "$STATE" "$1" 2>/dev/null; }
# wait_field PATH VALUE TIMEOUT: until PATH reads VALUE.
wait_field() {
	local end=$((SECONDS + $3))
	until [ "$(field "$1")" = "$2" ]; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.05
	done
}
# wait_at_least PATH N TIMEOUT: until PATH reads a number >= N.
wait_at_least() {
	local end=$((SECONDS + $3)) v
	while :; do
		v=$(field "$1")
		[[ $v =~ ^[0-9]+$ ]] && [ "$v" -ge "$2" ] && return 0
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}
show() { sed "s/^/[$LAB_NAME]   state: /" "$STATE" 2>/dev/null || lab_log "   (no state file)"; }

lab_start_tether run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT" \
    -o keepalive_interval=1 -o keepalive_count=3 \
    -o backoff_initial=0.2 -o backoff_max=2 -o backoff_factor=2
lab_wait_forward "$RPORT" 30 || lab_fail "the forward of port $RPORT was not ready within 30 s"

lab_log "check: $STATE exists and shows the bound forward"
wait_field state forwarding 5 || { show; lab_fail "the state file does not show state 'forwarding' within 5 s of the forward being bound"; }
"$JSON_GET" "$STATE" >/dev/null || { show; lab_fail "the state file is not valid JSON"; }
show
# expect PATH VALUE: the field reads VALUE now.
expect() {
	local v
	v=$(field "$1")
	[ "$v" = "$2" ] || { show; lab_fail "state file: $1 is '$v', expected '$2'"; }
}
expect name "$RPORT"
expect pid "$TETHER_PID"
expect bastion "$LAB_USER@127.0.0.1:$BASTION_PORT"
expect forwards.0.remote_port "$RPORT"
expect forwards.0.bound_port "$RPORT"
expect forwards.0.state bound
expect reconnects 0
expect last_error null
expect channels 0
[[ $(field connected_since) =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]] ||
    lab_fail "connected_since is '$(field connected_since)', expected an ISO time"
[[ $(field updated) =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]] ||
    lab_fail "updated is '$(field updated)', expected an ISO time"
[ -n "$(field forwards.0.spec)" ] || lab_fail "forwards[0].spec is empty"
lab_log "ok: name, pid, bastion, forwards[0] (bound, bound_port $RPORT), connected_since, reconnects 0, last_error null"

# The reader: parses the file every 10 ms until told to stop.
PARSE_STOP=$LAB_DIR/parse.stop
PARSE_RESULT=$LAB_DIR/parse.result
parse_loop() {
	local ok=0 bad=0 missing=0 rc
	while [ ! -e "$PARSE_STOP" ]; do
		"$JSON_GET" "$STATE" >/dev/null 2>>"$LAB_DIR/parse-errors.txt"
		rc=$?
		case $rc in
		0) ok=$((ok + 1)) ;;
		2) missing=$((missing + 1)) ;;
		*) bad=$((bad + 1)); cp "$STATE" "$LAB_DIR/bad-state.$bad.json" 2>/dev/null ;;
		esac
		sleep 0.01
	done
	printf '%s %s %s\n' "$ok" "$bad" "$missing" >"$PARSE_RESULT"
}
parse_loop &
PARSE_PID=$!
lab__own "$PARSE_PID"

lab_log "check: channels while a connection is open, then bytes after a 4 x 1 MiB echo run"
exec 7<>"/dev/tcp/127.0.0.1/$RPORT" || lab_fail "cannot connect to port $RPORT"
wait_field channels 1 3 || { show; lab_fail "channels did not read 1 within 3 s with one connection open"; }
lab_log "ok: channels = 1 with a connection open"
exec 7>&-
wait_field channels 0 3 || { show; lab_fail "channels did not go back to 0 within 3 s after the connection closed"; }
lab_log "ok: channels = 0 after it closed"
out=$(timeout -k 2 40 "$NETLOAD" -d 30 load "$RPORT" 4 1048576) ||
    lab_fail "netload load through port $RPORT failed: $out"
lab_log "load: $out"
wait_at_least bytes_to_target 4194304 3 ||
    { show; lab_fail "bytes_to_target did not reach 4 MiB within 3 s after the load (reads '$(field bytes_to_target)')"; }
wait_at_least bytes_from_target 4194304 3 ||
    { show; lab_fail "bytes_from_target did not reach 4 MiB within 3 s after the load (reads '$(field bytes_from_target)')"; }
lab_log "ok: bytes_to_target $(field bytes_to_target), bytes_from_target $(field bytes_from_target), channels $(field channels)"

lab_log "check: the bastion killed -> waiting-to-retry with last_error"
lab_kill_bastion TERM
lab_us; t_kill=$LAB_US
wait_field state waiting-to-retry 5 || { show; lab_fail "the state file did not show waiting-to-retry within 5 s of the bastion going away"; }
lab_log "measured: waiting-to-retry in the state file $(lab_since_us "$t_kill") s after the kill"
sleep 1
show
[ "$(field state)" = waiting-to-retry ] || [ "$(field state)" = connecting ] ||
    lab_fail "state is '$(field state)' while the bastion is down"
msg=$(field last_error.message)
{ [ -n "$msg" ] && [ "$msg" != null ]; } || lab_fail "last_error.message is empty while the bastion is down"
[[ $(field last_error.at) =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]] ||
    lab_fail "last_error.at is '$(field last_error.at)', expected an ISO time"
expect connected_since null
expect forwards.0.bound_port 0
lab_log "ok: last_error.message '$msg'"

lab_log "check: the bastion back -> forwarding again, reconnects >= 1"
lab_restart_bastion
wait_field state forwarding 10 || { show; lab_fail "the state file did not show forwarding within 10 s of the bastion's restart"; }
wait_field forwards.0.bound_port "$RPORT" 5 || { show; lab_fail "bound_port is not $RPORT again"; }
wait_at_least reconnects 1 2 || { show; lab_fail "reconnects is '$(field reconnects)', expected >= 1"; }
lab_log "ok: forwarding again, reconnects $(field reconnects)"
lab_log "check: the outage is over -> last_error null, kept as previous_error with both times"
[ "$(field last_error)" = null ] || { show; lab_fail "last_error is still '$(field last_error.message)' after the recovery"; }
[ "$(field forwarding)" = true ] || { show; lab_fail "forwarding is '$(field forwarding)' while every forward is bound"; }
[ "$(field previous_error.message)" = "$msg" ] ||
    { show; lab_fail "previous_error.message is '$(field previous_error.message)', expected the outage's '$msg'"; }
for k in at cleared_at; do
	[[ $(field "previous_error.$k") =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]] ||
	    lab_fail "previous_error.$k is '$(field "previous_error.$k")', expected an ISO time"
done
lab_log "ok: previous_error '$msg' from $(field previous_error.at) to $(field previous_error.cleared_at)"
sleep 0.5

touch "$PARSE_STOP"
lab_wait_pid "$PARSE_PID" 10
read -r n_ok n_bad n_missing <"$PARSE_RESULT" || lab_fail "the parse loop left no result"
lab_log "measured: $n_ok parses of the live state file: $n_bad invalid, $n_missing missing"
[ "$n_bad" = 0 ] || lab_fail "the state file failed to parse $n_bad time(s): $(head -n 3 "$LAB_DIR/parse-errors.txt")"
[ "$n_missing" = 0 ] || lab_fail "the state file was missing $n_missing time(s) while tether ran (not replaced atomically?)"
[ "$n_ok" -ge 100 ] || lab_fail "only $n_ok parses: the reader did not really run"

lab_log "check: SIGTERM -> exit 0 and the state file removed"
lab_stop "$TETHER_PID" TERM 10
[ "$LAB_RC" = 0 ] || lab_fail "tether exited with status $LAB_RC after SIGTERM, expected 0"
[ ! -e "$STATE" ] || { show; lab_fail "$STATE is still there after a clean exit"; }
compgen -G "$STATE.*" >/dev/null && lab_fail "a temporary $STATE.* is left after a clean exit"
left=$(ls -A "$RUNTIME_DIRECTORY")
[ -z "$left" ] || lab_fail "files left in RUNTIME_DIRECTORY: $left"
lab_pass "state file valid in $n_ok reads; forwarding, counters, waiting-to-retry with last_error, removed on exit"
