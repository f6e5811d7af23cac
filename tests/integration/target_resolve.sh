#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# A local target is looked up off the loop. tether runs in a network
# namespace whose DNS server never answers (resolv.conf names 127.0.0.1,
# where nft drops every DNS packet, timeout 3 s): ip netns exec puts this
# test's /etc/netns/NS/{hosts,resolv.conf} over /etc for tether alone.
# (A LAB_WRAP such as valgrind is kept, inside the namespace, and the
# timeout raised to 8 s for its slower start.) Two
# forwards: one to localhost (found in hosts at once), one to
# slow.tether.test (only DNS could answer, and it hangs). Checks:
#  - the fast forward is bound, and carries data, while the slow lookup
#    still hangs: a lookup on the loop would hold both for its 3 s;
#  - a connection to the slow forward meanwhile is refused, and said why
#    ("still being looked up"), and the lookup's failure is logged;
#  - once hosts names slow.tether.test, a later connection looks it up
#    again (at most once a second) and the forward then carries data.
#
# usage: target_resolve.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[target_resolve] SKIP: ssh looks each target up on its loop; nothing to check with LAB_TUNNEL=ssh"; exit 77; }
lab_init "$@"
export RUNTIME_DIRECTORY=$LAB_DIR/run
command -v nft >/dev/null || lab_skip "nft (nftables) not found"

lab_netns_setup
lab_start_bastion_netns 5 3
NS_WS=$LAB_NS_WS
NS_BAS=$LAB_NS_BAS
SLOW=slow.tether.test
# A wrapper (LAB_WRAP="valgrind ...") is kept inside the namespace; it
# slows tether's start, so the hanging lookup is given longer.
OUTER_WRAP=${LAB_WRAP:-}
DNS_TIMEOUT=3
[ -n "$OUTER_WRAP" ] && DNS_TIMEOUT=8

# What tether's namespace resolves with: a hosts file without SLOW, and a
# DNS server whose packets are dropped (no ICMP error: the lookup hangs).
ETC_NS=/etc/netns/$NS_WS
mkdir -p "$ETC_NS" || lab_fail "cannot create $ETC_NS"
lab_on_exit "rm -rf '$ETC_NS'"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$ETC_NS/hosts"
printf 'nameserver 127.0.0.1\noptions timeout:%d attempts:1\n' "$DNS_TIMEOUT" >"$ETC_NS/resolv.conf"
ip netns exec "$NS_WS" nft -f - <<'NFT' || lab_fail "nft: cannot drop DNS in $NS_WS"
table inet dns_blackhole {
	chain input {
		type filter hook input priority 0; policy accept;
		udp dport 53 drop
		tcp dport 53 drop
	}
}
NFT
lab_check "a lookup of $SLOW in $NS_WS hangs (>= 2 s) and fails" \
    bash -c "t0=\${EPOCHREALTIME/./}; ! ip netns exec '$NS_WS' getent ahosts '$SLOW' >/dev/null &&
        [ \$(( \${EPOCHREALTIME/./} - t0 )) -ge 2000000 ]"

TPORT=$(lab_free_port) || lab_fail "no free port"
RFAST=$(lab_free_port) || lab_fail "no free port"
RSLOW=$(lab_free_port) || lab_fail "no free port"
lab_spawn "$LAB_DIR/netload-echo.log" ip netns exec "$NS_WS" \
    "$NETLOAD" -d "$LAB_SERVER_DEADLINE" echo "$TPORT"
end=$((SECONDS + 5))
until lab_ns_tcp "$NS_WS" 127.0.0.1 "$TPORT"; do
	[ "$SECONDS" -lt "$end" ] || lab_fail "the echo server in $NS_WS did not start"
	sleep 0.1
done

# through PORT: 2 echo connections of 64 KiB from the bastion's side.
through() {
	timeout -k 2 15 ip netns exec "$NS_BAS" "$NETLOAD" -d 10 load "$1" 2 65536
}

LAB_WRAP="ip netns exec $NS_WS $OUTER_WRAP"
lab_us; t_start=$LAB_US
lab_start_tether run -v -b "$LAB_USER@$LAB_NS_BAS_ADDR:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" \
    -R "127.0.0.1:$RFAST:localhost:$TPORT" -R "127.0.0.1:$RSLOW:$SLOW:$TPORT"
LAB_WRAP=$OUTER_WRAP
lab_wait_log "$TETHER_LOG" "remote port $RFAST bound" 10 ||
    lab_fail "the forward of port $RFAST was not bound within 10 s"
t_bound=$(lab_since_us "$t_start")
lab_wait_log "$TETHER_LOG" "remote port $RSLOW bound" 5 ||
    lab_fail "the forward of port $RSLOW was not bound within 5 s"
grep -q "cannot resolve target $SLOW" "$TETHER_LOG" &&
    lab_fail "the lookup of $SLOW ended before port $RFAST was bound ($t_bound s): it did not hang"
out=$(through "$RFAST") || lab_fail "no data through port $RFAST while $SLOW was being looked up: $out"
lab_log "ok: port $RFAST bound $t_bound s after start and carried data ($out) while $SLOW was still being looked up"
lab_us_lt "$t_start" $((DNS_TIMEOUT * 1000 - 500)) ||
    lab_fail "that took $(lab_since_us "$t_start") s: the loop waited for the lookup"

lab_log "check: a connection to port $RSLOW meanwhile is refused, and why"
through "$RSLOW" >/dev/null 2>&1 && lab_fail "a connection to port $RSLOW got through with its target unresolved"
lab_wait_log "$TETHER_LOG" "refused a connection on remote port $RSLOW: its target $SLOW is still being looked up" 5 ||
    lab_fail "no 'still being looked up' refusal for port $RSLOW: $(grep -E "remote port $RSLOW" "$TETHER_LOG" | tail -n 3)"
lab_wait_log "$TETHER_LOG" "forward .*$SLOW.*: cannot resolve target $SLOW: " $((DNS_TIMEOUT * 3)) ||
    lab_fail "the failed lookup of $SLOW was not logged within $((DNS_TIMEOUT * 3)) s"
lab_log "ok: $(grep -m1 "cannot resolve target $SLOW" "$TETHER_LOG")"
lab_log "ok: the lookup failed $(lab_since_us "$t_start") s after start; the loop never waited for it"

lab_log "check: once hosts names $SLOW, a later connection resolves it and gets through"
printf '127.0.0.1 %s\n' "$SLOW" >>"$ETC_NS/hosts"
lab_us; t_named=$LAB_US
end=$((SECONDS + 10))
until out=$(through "$RSLOW" 2>&1); do
	[ "$SECONDS" -lt "$end" ] ||
	    lab_fail "10 s after $SLOW was added to hosts, port $RSLOW still refuses: $(grep -E "$SLOW" "$TETHER_LOG" | tail -n 3)"
	sleep 0.2
done
lab_log "ok: port $RSLOW carried data $(lab_since_us "$t_named") s after $SLOW was added to hosts ($out)"
lab_check "tether logged the new lookup" grep -q "target $SLOW resolved" "$TETHER_LOG"
lab_check "tether (pid $TETHER_PID) is still running" lab_alive "$TETHER_PID"

lab_stop "$TETHER_PID" TERM 10
[ "$LAB_RC" = 0 ] || lab_fail "tether exited with status $LAB_RC after SIGTERM, expected 0"
lab_pass "a hanging DNS lookup of one target held no other forward; the name resolved once it could"
