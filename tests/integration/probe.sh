#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The end-to-end probe: a session that is up but whose forward no longer
# reaches the target is caught. Every second (probe_interval=1) tether opens
# a direct-tcpip channel to the bastion's own end of the forward; the path
# comes back through the tunnel to the workstation sshd, whose banner
# proves it. Then the bastion's listener is made unreachable (an nft rule
# resets connections to it, as a silently lost listener does): tether says
# the probe failed and asks for the forward again; after the rule goes the
# tunnel carries ssh again. The round trip shows in the state file.
#
# usage: probe.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[probe] SKIP: OpenSSH's client has no end-to-end probe"; exit 77; }
lab_init "$@"
lab_find_tool json_get -ljansson
JSON_GET=$LAB_TOOL

lab_start_bastion
lab_start_workstation
RPORT=$(lab_free_port) || lab_fail "no free port"
STATE=$RUNTIME_DIRECTORY/$RPORT.json
lab_start_tether run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$RPORT:127.0.0.1:$WS_PORT" \
    -o probe_interval=1 -o probe_timeout=3 -v
lab_wait_forward "$RPORT" 20 || lab_fail "the tunnel did not come up"

lab_wait_log "$TETHER_LOG" "probe of remote port $RPORT: ok" 10 ||
    lab_fail "no successful probe within 10 s"
rtt=$("$JSON_GET" "$STATE" forwards.0.probe_rtt_ms)
lab_log "probe ok; state file probe_rtt_ms = $rtt"
awk -v r="$rtt" 'BEGIN { exit !(r > 0 && r < 3000) }' ||
    lab_fail "probe_rtt_ms '$rtt' is not a round trip"

command -v nft >/dev/null || lab_skip "nft not found (install nftables) for the listener fault"
[ "$(id -u)" = 0 ] || lab_skip "the listener fault needs root (nft)"
TABLE="tetherprobe$$"
nft add table inet "$TABLE" 2>/dev/null || lab_skip "cannot add an nft table here"
lab_on_exit "nft delete table inet $TABLE 2>/dev/null"
nft add chain inet "$TABLE" out '{ type filter hook output priority 0; policy accept; }'
nft add rule inet "$TABLE" out ip daddr 127.0.0.1 tcp dport "$RPORT" reject with tcp reset
lab_us; t0=$LAB_US
lab_wait_log "$TETHER_LOG" "probe of remote port $RPORT failed" 8 ||
    lab_fail "the unreachable listener was not caught by a probe within 8 s"
lab_log "probe failure caught $(lab_since_us "$t0") after the listener became unreachable"
nft delete table inet "$TABLE"
lab_us; t0=$LAB_US
end=$((SECONDS + 30))
until [ "$(lab_ssh_through "$RPORT" echo back 2>/dev/null)" = back ]; do
	[ "$SECONDS" -lt "$end" ] || lab_fail "the tunnel did not carry ssh within 30 s of the fix"
	sleep 0.2
done
lab_log "ssh through the tunnel again $(lab_since_us "$t0") after the fix"
lab_alive "$TETHER_PID" || lab_fail "tether exited"
lab_pass "the probe proved the path, caught its loss, and the tunnel recovered"
