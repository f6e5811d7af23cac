#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Data through a jump host past every internal limit: the jump host's and
# the bastion's sshd both re-key every MiB (RekeyLimit 1M), so each byte
# crosses two sessions that re-key under it, and the jump session's channel
# (a splice to a socketpair) carries the bastion session's bulk through
# window after window. Nothing may be lost or reordered, both sessions must
# survive every key exchange, and the jump session must not grow.
#
# usage: proxy_jump_rekey.sh TETHER_BINARY TESTS_BUILD_DIR
# env:   REKEY_CONNS (2), REKEY_BYTES (67108864 per connection each way)
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[proxy_jump_rekey] SKIP: tether's ProxyJump"; exit 77; }
lab_init "$@"

CONNS=${REKEY_CONNS:-2}
BYTES=${REKEY_BYTES:-67108864}

LAB_SSHD_EXTRA=$'RekeyLimit 1M\nLogLevel DEBUG1' lab_start_jump_tunnel
kex_b0=$(grep -c 'SSH2_MSG_KEXINIT sent' "$BASTION_LOG" || true)
kex_j0=$(grep -c 'SSH2_MSG_KEXINIT sent' "$JUMP_LOG" || true)
rss0=$(lab_rss_kb "$TETHER_PID")

lab_log "check: $CONNS connections x $BYTES bytes each way through the jump host, both re-keying every MiB"
out=$LAB_DIR/load.out
lab_spawn "$out" "$NETLOAD" -d 300 load "$RPORT" "$CONNS" "$BYTES"
lab_wait_pid "$LAB_SPAWN_PID" 315
sed "s/^/[$LAB_NAME]   netload: /" "$out" | head -n 20
[ "$LAB_RC" = 0 ] || lab_fail "the transfer failed (netload status $LAB_RC): $(tail -n 5 "$TETHER_LOG")"
grep -q "^ok $CONNS/$CONNS, " "$out" || lab_fail "netload did not report ok $CONNS/$CONNS"

kex_b=$(($(grep -c 'SSH2_MSG_KEXINIT sent' "$BASTION_LOG") - kex_b0))
kex_j=$(($(grep -c 'SSH2_MSG_KEXINIT sent' "$JUMP_LOG") - kex_j0))
rss1=$(lab_rss_kb "$TETHER_PID")
lab_log "key exchanges during the transfer: bastion $kex_b, jump host $kex_j; RSS $rss0 -> $rss1 KiB"
[ "$kex_b" -ge 50 ] && [ "$kex_j" -ge 50 ] ||
    lab_fail "too few key exchanges (bastion $kex_b, jump host $kex_j): the test did not test rekeys"
lab_check "the tunnel (pid $TETHER_PID) still runs" lab_alive "$TETHER_PID"
lab_check "neither session was lost" bash -c "! grep -qE 'lost the|did not answer|reconnecting' '$TETHER_LOG'"
# Under ASan the figure is its quarantine's, not ours.
lab_tether_sanitized ||
    [ "$rss1" -lt $((rss0 + 65536)) ] || lab_fail "tether grew from $rss0 to $rss1 KiB carrying the transfer"

lab_log "check: a new connection after the rekeys"
"$NETLOAD" -d 30 load "$RPORT" 1 65536 >"$out" 2>&1 ||
    lab_fail "a connection after the rekeys failed: $(cat "$out")"
lab_pass "$CONNS x $BYTES bytes each way through a jump host across $kex_b bastion and $kex_j jump-host rekeys, every byte back, RSS $rss0 -> $rss1 KiB"
