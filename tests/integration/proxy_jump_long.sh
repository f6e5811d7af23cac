#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# One connection through a jump host past libssh's own rekey limit (1 GiB
# per direction): the jump session's channel carries every byte of the
# bastion session, so both sessions re-key on their own side mid-transfer,
# the jump session while its channel is full of the bastion's packets.
# Every byte must come back in order, over the same sessions.
#
# usage: proxy_jump_long.sh TETHER_BINARY TESTS_BUILD_DIR
# env:   LONG_BYTES (1181116006, 1.1 GiB each way), LONG_DEADLINE (240 s)
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[proxy_jump_long] SKIP: tether's ProxyJump"; exit 77; }
lab_init "$@"

BYTES=${LONG_BYTES:-1181116006}
DEADLINE=${LONG_DEADLINE:-240}

LAB_SSHD_EXTRA='LogLevel DEBUG1' lab_start_jump_tunnel
kex_b0=$(grep -c 'SSH2_MSG_KEXINIT received' "$BASTION_LOG" || true)
kex_j0=$(grep -c 'SSH2_MSG_KEXINIT received' "$JUMP_LOG" || true)

lab_log "check: one connection of $BYTES bytes each way through the jump host"
out=$LAB_DIR/load.out
lab_spawn "$out" "$NETLOAD" -d "$DEADLINE" load "$RPORT" 1 "$BYTES"
lab_wait_pid "$LAB_SPAWN_PID" $((DEADLINE + 15))
sed "s/^/[$LAB_NAME]   netload: /" "$out" | head -n 5
[ "$LAB_RC" = 0 ] || lab_fail "the transfer failed (netload status $LAB_RC): $(tail -n 5 "$TETHER_LOG")"
grep -q "^ok 1/1, " "$out" || lab_fail "netload did not report ok 1/1"
kex_b=$(($(grep -c 'SSH2_MSG_KEXINIT received' "$BASTION_LOG") - kex_b0))
kex_j=$(($(grep -c 'SSH2_MSG_KEXINIT received' "$JUMP_LOG") - kex_j0))
lab_log "key exchanges tether started during the transfer: bastion $kex_b, jump host $kex_j"
[ "$kex_b" -ge 1 ] && [ "$kex_j" -ge 1 ] ||
    lab_fail "no rekey from tether's side (bastion $kex_b, jump host $kex_j): the transfer stayed under libssh's limit"
lab_check "neither session was lost" bash -c "! grep -qE 'lost the|did not answer|reconnecting' '$TETHER_LOG'"
[ "$(lab_log_count "$TETHER_LOG" "authenticated to the")" = 2 ] ||
    lab_fail "the sessions were made again: $(grep 'authenticated to the' "$TETHER_LOG")"
lab_pass "$BYTES bytes each way on one connection through a jump host, across $kex_b bastion and $kex_j jump-host rekeys of tether's own"
