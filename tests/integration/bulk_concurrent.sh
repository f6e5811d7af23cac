#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Bulk data both ways over many channels at once: 64 concurrent connections
# through the forwarded port to an echo server, each sending 8 MiB of
# pseudo-random data and reading the same 8 MiB back; every connection's
# checksum (and every byte) must match. The tunnel must survive it.
#
# usage: bulk_concurrent.sh TETHER_BINARY TESTS_BUILD_DIR
# env:   BULK_CONNS (64), BULK_BYTES (8388608), BULK_DEADLINE (240 s)
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
lab_init "$@"

CONNS=${BULK_CONNS:-64}
BYTES=${BULK_BYTES:-8388608}
DEADLINE=${BULK_DEADLINE:-240}

lab_start_bastion
lab_start_netload echo
RPORT=$(lab_free_port) || lab_fail "no free port"

lab_start_tether run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT"
lab_wait_forward "$RPORT" 30 || lab_fail "the forward of port $RPORT was not ready within 30 s"

lab_log "check: $CONNS concurrent connections x $BYTES bytes each way through port $RPORT, checksums match"
out=$LAB_DIR/load.out
lab_spawn "$out" "$NETLOAD" -d "$DEADLINE" load "$RPORT" "$CONNS" "$BYTES"
lab_wait_pid "$LAB_SPAWN_PID" $((DEADLINE + 15))
rc=$LAB_RC
head -n 20 "$out" | sed "s/^/[$LAB_NAME]   netload: /"
[ "$rc" = 0 ] || lab_fail "netload load exited with status $rc"
grep -q "^ok $CONNS/$CONNS, " "$out" || lab_fail "netload did not report ok $CONNS/$CONNS"
lab_log "ok: $(grep '^ok ' "$out")"

lab_check "the tunnel (pid $TETHER_PID) is still running after the load" lab_alive "$TETHER_PID"

lab_log "check: the tunnel still carries a new connection after the load"
"$NETLOAD" -d 30 load "$RPORT" 1 65536 >"$out" 2>&1 ||
    lab_fail "a connection after the load failed: $(cat "$out")"
lab_log "ok: $(cat "$out")"

lab_pass "$CONNS x $BYTES bytes both ways, all checksums match"
