#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Flow control: a target that writes endlessly, and a client on the bastion's
# forwarded port that reads ~10 KiB/s for ~8 s. The tunnel must stop reading
# from the target when the reader falls behind (channel window), not buffer
# everything: its RSS must stay under baseline + 16 MiB.
#
# usage: slow_reader.sh TETHER_BINARY TESTS_BUILD_DIR
# env:   SLOW_SECONDS (8), SLOW_READERS (1), SLOW_RSS_SLACK_KB (16384)
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
lab_init "$@"

SECS=${SLOW_SECONDS:-8}
READERS=${SLOW_READERS:-1}
SLACK_KB=${SLOW_RSS_SLACK_KB:-16384}

lab_start_bastion
lab_start_netload source
RPORT=$(lab_free_port) || lab_fail "no free port"

lab_start_tether run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT"
lab_wait_forward "$RPORT" 30 || lab_fail "the forward of port $RPORT was not ready within 30 s"
sleep 0.5
base=$(lab_rss_kb "$TETHER_PID") || lab_fail "cannot read VmRSS of pid $TETHER_PID"
limit=$((base + SLACK_KB))
lab_log "check: $READERS slow reader(s) for $SECS s; RSS of pid $TETHER_PID must stay under $base + $SLACK_KB = $limit KiB"

readers=()
for i in $(seq 1 "$READERS"); do
	lab_spawn "$LAB_DIR/slowread-$i.out" "$NETLOAD" -d $((SECS + 30)) slowread "$RPORT" "$SECS"
	readers+=("$LAB_SPAWN_PID")
done

max=$base
samples=0
end=$((SECONDS + SECS + 20))
while [ "$SECONDS" -lt "$end" ]; do
	running=0
	for p in "${readers[@]}"; do lab_alive "$p" && running=1; done
	rss=$(lab_rss_kb "$TETHER_PID") || lab_fail "the tunnel (pid $TETHER_PID) died during the slow read"
	[ "$rss" -gt "$max" ] && max=$rss
	samples=$((samples + 1))
	[ "$running" = 1 ] || break
	sleep 0.25
done
for i in "${!readers[@]}"; do
	lab_wait_pid "${readers[$i]}" 5
	n=$((i + 1))
	lab_log "reader $n (status $LAB_RC): $(cat "$LAB_DIR/slowread-$n.out")"
	[ "$LAB_RC" = 0 ] || lab_fail "slow reader $n failed with status $LAB_RC"
done
final=$(lab_rss_kb "$TETHER_PID") || lab_fail "the tunnel (pid $TETHER_PID) died after the slow read"
lab_log "RSS KiB: baseline $base, max $max (over $samples samples), after $final, limit $limit (growth $((max - base)))"
[ "$max" -le "$limit" ] ||
    lab_fail "RSS grew to $max KiB, more than baseline $base + $SLACK_KB KiB: the tunnel buffers what the reader does not take"
lab_log "ok: RSS stayed under the limit"

lab_check "the tunnel (pid $TETHER_PID) is still running" lab_alive "$TETHER_PID"
lab_pass "RSS max $max KiB <= $limit KiB with a slow reader"
