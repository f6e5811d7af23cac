#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The network comes back: tether waits to retry with a long backoff (20 s)
# after its link went down, and the netlink event of the link coming up
# makes it reconnect at once. Bastion sshd and tether run in two network
# namespaces joined by a veth pair (names unique to this run, deleted at
# the end; skipped when namespaces cannot be made). Checks: the dead link is
# noticed by the keepalive (1 s x 3); tether waits to retry (state file:
# waiting-to-retry) with at least 2.5 s left on its retry timer (full jitter
# can draw short waits: those attempts fail on the dead link and draw
# again); after `ip link set up` it logs "network change (...): reconnecting
# now" and the forward is bound again in < 1 s (printed), long before its
# retry timer, and carries data.
#
# The bastion runs ClientAliveInterval 1 / ClientAliveCountMax 2, and the
# link comes back only after it has dropped the dead session ("Timeout,
# client not responding"): otherwise that session may still hold the
# forwarded port when tether is back (the stale-port case, stale_port.sh),
# and the refused forward is retried on the backoff schedule, U(0, 20 s)
# here. A healthy session must first survive those 1 s probes (tether
# answers the bastion's keepalive@openssh.com).
#
# usage: network_return.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[network_return] SKIP: netlink-triggered reconnects are tether's; nothing to check with LAB_TUNNEL=ssh"; exit 77; }
lab_init "$@"
export RUNTIME_DIRECTORY=$LAB_DIR/run
lab_find_tool json_get -ljansson
JSON_GET=$LAB_TOOL

lab_netns_setup
lab_start_bastion_netns 1 2
NS_WS=$LAB_NS_WS
NS_BAS=$LAB_NS_BAS
RPORT=$(lab_free_port) || lab_fail "no free port"
TPORT=$(lab_free_port) || lab_fail "no free port"
STATE=$RUNTIME_DIRECTORY/$RPORT.json
LEFT_NEEDED_MS=2500      # on tether's retry timer when the link comes up

# The target (an echo server) next to tether, in the workstation namespace.
lab_spawn "$LAB_DIR/netload-echo.log" ip netns exec "$NS_WS" \
    "$NETLOAD" -d "$LAB_SERVER_DEADLINE" echo "$TPORT"
ECHO_PID=$LAB_SPAWN_PID
end=$((SECONDS + 5))
until lab_ns_tcp "$NS_WS" 127.0.0.1 "$TPORT"; do
	{ lab_alive "$ECHO_PID" && [ "$SECONDS" -lt "$end" ]; } ||
	    lab_fail "the echo server in $NS_WS did not start: $(cat "$LAB_DIR/netload-echo.log")"
	sleep 0.1
done

# through_tunnel CONNS BYTES: netload load from the bastion's side through
# the forwarded port to the echo server beside tether.
through_tunnel() {
	timeout -k 2 20 ip netns exec "$NS_BAS" "$NETLOAD" -d 15 load "$RPORT" "$1" "$2"
}
# last_wait: the wait (seconds, one decimal) of tether's last retry.
last_wait() {
	grep -oE 'reconnecting in [0-9]+\.[0-9] s' "$TETHER_LOG" | tail -n 1 | grep -oE '[0-9]+\.[0-9]'
}
n_sched() { lab_log_count "$TETHER_LOG" "reconnecting in [0-9.]+ s"; }

LAB_WRAP="ip netns exec $NS_WS"
lab_start_tether run -b "$LAB_USER@$LAB_NS_BAS_ADDR:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$RPORT:127.0.0.1:$TPORT" \
    -o keepalive_interval=1 -o keepalive_count=3 \
    -o backoff_initial=20 -o backoff_max=20 -o backoff_factor=2
LAB_WRAP=
lab_wait_log "$TETHER_LOG" "remote port $RPORT bound" 20 ||
    lab_fail "the forward of port $RPORT was not bound within 20 s"
out=$(through_tunnel 4 262144) || lab_fail "netload through the tunnel failed before the outage: $out"
lab_log "ok: before the outage: $out"
# The bastion probes after 1 s of silence: tether must answer for 3 s.
sleep 3
lab_check "the bastion kept the healthy session through its 1 s ClientAlive probes" \
    test "$(lab_log_count "$BASTION_LOG" "Timeout, client not responding")" = 0

lab_log "check: link $LAB_VETH_WS down -> both sides drop the session, tether waits to retry"
ip -n "$NS_WS" link set "$LAB_VETH_WS" down || lab_fail "ip link set down failed"
lab_us; t_down=$LAB_US
lab_wait_log "$TETHER_LOG" "did not answer for" 8 ||
    lab_fail "no 'did not answer for' within 8 s of the link going down (keepalive 1 s x 3)"
lab_log "ok: tether ended the session $(lab_since_us "$t_down") s after link down"
# Until the bastion has dropped the dead session and tether's retry timer
# has at least LEFT_NEEDED_MS to run. Each new wait is timed when it shows
# in the log (polled every 50 ms).
n_seen=0 wait_s='' wait_us=0 t_sched='' dropped=''
end=$((SECONDS + 40))
while :; do
	n=$(n_sched)
	if [ "$n" -gt "$n_seen" ]; then
		lab_us; t_sched=$LAB_US
		n_seen=$n
		wait_s=$(last_wait)
		wait_us=$(( ${wait_s%.*} * 1000000 + ${wait_s#*.} * 100000 ))
		lab_log "tether scheduled a retry in $wait_s s ($(lab_since_us "$t_down") s after link down)"
	fi
	if [ -z "$dropped" ] && grep -q "Timeout, client not responding" "$BASTION_LOG"; then
		dropped=1
		lab_log "ok: the bastion dropped the dead session ($(lab_since_us "$t_down") s after link down)"
	fi
	if [ -n "$dropped" ] && [ -n "$t_sched" ]; then
		lab_us
		[ $((wait_us - (LAB_US - t_sched))) -ge $((LEFT_NEEDED_MS * 1000)) ] && break
	fi
	[ "$SECONDS" -lt "$end" ] ||
	    lab_fail "40 s after link down: bastion dropped the session: ${dropped:-no}; tether's last wait: ${wait_s:-none} s (needed both, with >= $LEFT_NEEDED_MS ms left on tether's timer)"
	sleep 0.05
done
[ "$("$JSON_GET" "$STATE" state 2>/dev/null)" = waiting-to-retry ] ||
    lab_fail "the state file $STATE does not show waiting-to-retry: $(cat "$STATE" 2>&1)"
lab_log "ok: tether is waiting to retry (state file: waiting-to-retry), on a $wait_s s timer"
lab_check "tether (pid $TETHER_PID) is still running" lab_alive "$TETHER_PID"
n_bound=$(lab_log_count "$TETHER_LOG" "remote port $RPORT bound")
n_change=$(lab_log_count "$TETHER_LOG" "network change")
[ "$n_change" = 0 ] || lab_fail "tether logged 'network change' while the link was down: $(grep 'network change' "$TETHER_LOG")"

lab_log "check: link up -> 'network change', forward bound again in < 1 s"
lab_us; t_up=$LAB_US
timer_left_ms=$(( (wait_us - (t_up - t_sched)) / 1000 ))
ip -n "$NS_WS" link set "$LAB_VETH_WS" up || lab_fail "ip link set up failed"
lab_wait_log_count "$TETHER_LOG" "network change \(.*\): reconnecting now" 1 5 ||
    lab_fail "no 'network change (...): reconnecting now' within 5 s of link up (netlink not seen?)"
t_change=$(lab_since_us "$t_up")
lab_wait_log_count "$TETHER_LOG" "remote port $RPORT bound" $((n_bound + 1)) 25 ||
    lab_fail "the forward of port $RPORT was not bound again within 25 s of link up"
t_bound=$(lab_since_us "$t_up")
left=$((timer_left_ms / 1000)).$((timer_left_ms % 1000 / 100))
lab_log "measured: 'network change' logged $t_change s after link up; forward bound again $t_bound s after link up (the retry timer had $left s left; link down $(lab_since_us "$t_down") s before)"
grep -E 'network change|refused|bound|reconnecting' "$TETHER_LOG" | tail -n 5 | sed "s/^/[$LAB_NAME]   tether: /"
if grep -q "bastion refused remote port $RPORT" "$TETHER_LOG"; then
	lab_fail "the bastion refused port $RPORT after link up although it had dropped the old session (stale port?)"
fi
lab_us_lt "$t_up" 1000 || lab_fail "the forward was bound again $t_bound s after link up, expected < 1 s"
out=$(through_tunnel 4 262144) || lab_fail "netload through the tunnel failed after the link came back: $out"
lab_log "ok: after the outage: $out"
lab_check "tether (pid $TETHER_PID) is still running" lab_alive "$TETHER_PID"

lab_stop "$TETHER_PID" TERM 10
[ "$LAB_RC" = 0 ] || lab_fail "tether exited with status $LAB_RC after SIGTERM, expected 0"
lab_pass "link up -> network change after $t_change s, forward bound again after $t_bound s (retry timer had $left s left)"
