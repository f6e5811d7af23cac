#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Several bastions: tether -b A -b B serves the forward on A, the first
# choice; A is killed (its sshd and sessions, SIGKILL) and tether binds the
# same forward on B at once, without the backoff; A comes back and tether
# checks it with a session of its own, takes it over only once it has
# bound every forward, and releases B. Connections through the port work
# on A, then on B, then on A again. A and B are two sshds in two network
# namespaces (A in the bastion's, B beside tether), so the same remote
# port can be held on both. The figures (time to the forward on B, time
# back to A) are printed.
#
# usage: failover.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[failover] SKIP: ssh -R has no second bastion"; exit 77; }
lab_init "$@"
export RUNTIME_DIRECTORY=$LAB_DIR/run
lab_find_tool json_get -ljansson
JSON_GET=$LAB_TOOL

lab_netns_setup
NS_WS=$LAB_NS_WS
NS_BAS=$LAB_NS_BAS
# A: in the bastion's namespace. B: beside tether, on its loopback.
lab_start_sshd_ns bastion "$NS_BAS" "$LAB_NS_BAS_ADDR" 2222 1 2
A_PID=$LAB_SSHD_PID
A="$LAB_USER@$LAB_NS_BAS_ADDR:2222"
printf '[%s]:2222 %s\n' "$LAB_NS_BAS_ADDR" "$LAB_SSHD_HOSTPUB" >"$LAB_DIR/known_hosts"
lab_start_sshd_ns second "$NS_WS" 127.0.0.1 2223 1 2
B="$LAB_USER@127.0.0.1:2223"
printf '[127.0.0.1]:2223 %s\n' "$LAB_SSHD_HOSTPUB" >>"$LAB_DIR/known_hosts"
RPORT=$(lab_free_port) || lab_fail "no free port"
TPORT=$(lab_free_port) || lab_fail "no free port"
STATE=$RUNTIME_DIRECTORY/$RPORT.json

lab_spawn "$LAB_DIR/netload-echo.log" ip netns exec "$NS_WS" \
    "$NETLOAD" -d "$LAB_SERVER_DEADLINE" echo "$TPORT"
until lab_ns_tcp "$NS_WS" 127.0.0.1 "$TPORT"; do sleep 0.1; done

# through NS: an echo through the forwarded port as the bastion in NS has it.
through() {
	timeout -k 2 20 ip netns exec "$1" "$NETLOAD" -d 15 load "$RPORT" 2 65536
}
in_use() { "$JSON_GET" "$STATE" bastion 2>/dev/null; }

LAB_WRAP="ip netns exec $NS_WS"
lab_start_tether run -b "$A" -b "$B" -s "$LAB_KEY" --known-hosts "$LAB_DIR/known_hosts" \
    -R "127.0.0.1:$RPORT:127.0.0.1:$TPORT" -o keepalive_interval=1 -o keepalive_count=3 \
    -o connect_timeout=3 -o backoff_initial=1 -o backoff_max=4 -o failback_interval=2
LAB_WRAP=

lab_log "check: the forward is served by A, the first choice"
lab_wait_forward_ns() { # NS: until the port accepts connections in NS
	local end=$((SECONDS + $2))
	until lab_ns_tcp "$1" 127.0.0.1 "$RPORT"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.05
	done
}
lab_wait_forward_ns "$NS_BAS" 20 || lab_fail "no forward on A: $(tail -n 5 "$TETHER_LOG")"
out=$(through "$NS_BAS") || lab_fail "an echo through A failed: $out"
[ "$(in_use)" = "$A" ] || lab_fail "the state file says the bastion is '$(in_use)', not $A"

lab_log "check: A killed -> the forward on B, without the backoff"
lab_us
t_kill=$LAB_US
kill -KILL $(lab__tree "$A_PID") 2>/dev/null
lab_wait_pid "$A_PID" 5
lab_wait_forward_ns "$NS_WS" 20 || lab_fail "no forward on B after A died: $(tail -n 8 "$TETHER_LOG")"
to_b=$(lab_since_us "$t_kill")
out=$(through "$NS_WS") || lab_fail "an echo through B failed: $out"
grep -q "trying the next bastion, $B" "$TETHER_LOG" || lab_fail "the move to B is not logged: $(tail -n 8 "$TETHER_LOG")"
lab_wait_log "$STATE" "\"bastion\": \"$B\"" 5 || lab_fail "the state file does not name B: $(cat "$STATE")"
# keepalive 1 s x 3, then connecting to B (no backoff): well under 6 s.
awk -v t="$to_b" 'BEGIN { exit !(t < 6) }' || lab_fail "the forward took $to_b s to be bound on B"
lab_log "check: status's JSON lists both bastions: B in use, A failed with why"
[ "$("$JSON_GET" "$STATE" bastions.1.in_use)" = true ] &&
    [ "$("$JSON_GET" "$STATE" bastions.0.in_use)" = false ] ||
    lab_fail "the state's bastions do not say B is in use: $(cat "$STATE")"
[ -n "$("$JSON_GET" "$STATE" bastions.0.last_error)" ] ||
    lab_fail "the state does not say why A failed: $(cat "$STATE")"

lab_log "check: A back -> tether returns to A once A has bound the forward, and releases B"
lab_restart_sshd_ns bastion "$NS_BAS" "$LAB_NS_BAS_ADDR" 2222
lab_us
t_back=$LAB_US
lab_wait_log "$TETHER_LOG" "back on bastion $LAB_NS_BAS_ADDR, the first choice" 30 ||
    lab_fail "tether did not return to A: $(tail -n 8 "$TETHER_LOG")"
to_a=$(lab_since_us "$t_back")
out=$(through "$NS_BAS") || lab_fail "an echo through A failed after the return: $out"
end=$((SECONDS + 5))
while lab_ns_tcp "$NS_WS" 127.0.0.1 "$RPORT"; do
	[ "$SECONDS" -lt "$end" ] || lab_fail "B still holds port $RPORT after the return to A"
	sleep 0.1
done
lab_wait_log "$STATE" "\"bastion\": \"$A\"" 5 || lab_fail "the state file does not name A again: $(cat "$STATE")"
lab_log "failover: forward bound on B $to_b s after A was killed; back on A $to_a s after A returned (failback_interval 2 s)"

lab_log "check: A refuses the port (another program holds it there) -> B serves it; A frees it -> back to A"
lab_stop "$TETHER_PID" TERM 10
end=$((SECONDS + 10))
while lab_ns_tcp "$NS_BAS" 127.0.0.1 "$RPORT"; do
	[ "$SECONDS" -lt "$end" ] || lab_fail "A still holds port $RPORT after tether stopped"
	sleep 0.1
done
lab_spawn "$LAB_DIR/squatter.log" ip netns exec "$NS_BAS" "$NETLOAD" -d "$LAB_SERVER_DEADLINE" echo "$RPORT"
SQUATTER=$LAB_SPAWN_PID
until lab_ns_tcp "$NS_BAS" 127.0.0.1 "$RPORT"; do sleep 0.05; done
LAB_WRAP="ip netns exec $NS_WS"
lab_start_tether run -b "$A" -b "$B" -s "$LAB_KEY" --known-hosts "$LAB_DIR/known_hosts" \
    -R "127.0.0.1:$RPORT:127.0.0.1:$TPORT" -o keepalive_interval=1 -o keepalive_count=3 \
    -o connect_timeout=3 -o backoff_initial=1 -o backoff_max=4 -o failback_interval=2
LAB_WRAP=
lab_wait_forward_ns "$NS_WS" 20 || lab_fail "no forward on B while A refuses the port: $(tail -n 8 "$TETHER_LOG")"
grep -q "refused remote port $RPORT.*trying the next bastion, $B" "$TETHER_LOG" ||
    lab_fail "the move to B does not say A refused the port: $(tail -n 8 "$TETHER_LOG")"
out=$(through "$NS_WS") || lab_fail "an echo through B failed: $out"
lab_stop "$SQUATTER" TERM 5
lab_wait_log "$TETHER_LOG" "back on bastion $LAB_NS_BAS_ADDR, the first choice" 30 ||
    lab_fail "tether did not return to A once the port was free: $(tail -n 8 "$TETHER_LOG")"
out=$(through "$NS_BAS") || lab_fail "an echo through A failed after the return: $out"
lab_pass "A killed: B served in $to_b s; A back: served by A again in $to_a s, B released; a port A refused served by B, then by A once free"
