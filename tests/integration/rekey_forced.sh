#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# A bastion that re-keys all the time: sshd with RekeyLimit 1M starts a key
# exchange every MiB it sends or receives, so connections through the
# tunnel meet hundreds of them mid-transfer, in both directions and while
# several channels write at once. Nothing may be lost or reordered, and the
# session must survive every one.
#
# usage: rekey_forced.sh TETHER_BINARY TESTS_BUILD_DIR
# env:   REKEY_CONNS (4), REKEY_BYTES (67108864 per connection each way)
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
lab_init "$@"

CONNS=${REKEY_CONNS:-4}
BYTES=${REKEY_BYTES:-67108864}

LAB_SSHD_EXTRA=$'RekeyLimit 1M\nLogLevel DEBUG1' lab_start_bastion
lab_start_netload echo
RPORT=$(lab_free_port) || lab_fail "no free port"
lab_start_tether run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT"
lab_wait_forward "$RPORT" 30 || lab_fail "the forward was not ready within 30 s"
kex_before=$(grep -c 'SSH2_MSG_KEXINIT sent' "$BASTION_LOG" || true)

lab_log "check: $CONNS connections x $BYTES bytes each way across the bastion's rekeys"
out=$LAB_DIR/load.out
lab_spawn "$out" "$NETLOAD" -d 240 load "$RPORT" "$CONNS" "$BYTES"
lab_wait_pid "$LAB_SPAWN_PID" 255
sed "s/^/[$LAB_NAME]   netload: /" "$out" | head -n 20
[ "$LAB_RC" = 0 ] || lab_fail "the transfer failed (netload status $LAB_RC)"
grep -q "^ok $CONNS/$CONNS, " "$out" || lab_fail "netload did not report ok $CONNS/$CONNS"

kex=$(($(grep -c 'SSH2_MSG_KEXINIT sent' "$BASTION_LOG") - kex_before))
lab_log "the bastion started $kex key exchanges during the transfer"
[ "$kex" -ge 50 ] || lab_fail "only $kex key exchanges during the transfer: the test did not test rekeys"
lab_check "the tunnel (pid $TETHER_PID) still runs" lab_alive "$TETHER_PID"
lab_check "the session was never lost" bash -c "! grep -q 'lost the bastion' '$TETHER_LOG'"

lab_log "check: a new connection after the rekeys"
"$NETLOAD" -d 30 load "$RPORT" 1 65536 >"$out" 2>&1 ||
    lab_fail "a connection after the rekeys failed: $(cat "$out")"
lab_pass "$CONNS x $BYTES bytes each way across $kex rekeys, every byte back"
