#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# tether bastion-line for several forwards with bind addresses: the line it
# prints, installed as the key's only authorized_keys line on a real sshd,
# lets tether bind exactly those forwards (127.0.0.1:P1 and the default
# bind's P2) and nothing else (P3, not in the line, is refused), and runs
# no command even for an account with a shell (command="/bin/false").
#
# usage: bastion_line.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[bastion_line] SKIP: tether's own line"; exit 77; }
lab_init "$@"
lab_start_netload echo
P1=$(lab_free_port) && P2=$(lab_free_port) && P3=$(lab_free_port) || lab_fail "no free port"

line=$("$LAB_TETHER" bastion-line -R "127.0.0.1:$P1:127.0.0.1:$TARGET_PORT" \
    -R "$P2:127.0.0.1:$TARGET_PORT" -s "$LAB_KEY") || lab_fail "bastion-line failed: $line"
lab_log "line: ${line:0:160}..."
grep -q "^command=\"/bin/false\",restrict,port-forwarding,permitlisten=\"127.0.0.1:$P1\",permitlisten=\"localhost:$P2\"" <<<"$line" ||
    lab_fail "the line does not permit exactly 127.0.0.1:$P1 and localhost:$P2: $line"
printf '%s\n' "$line" >"$LAB_DIR/authorized_keys"
lab_start_bastion

lab_start_tether run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$P1:127.0.0.1:$TARGET_PORT" \
    -R "$P2:127.0.0.1:$TARGET_PORT" -R "127.0.0.1:$P3:127.0.0.1:$TARGET_PORT"
lab_wait_forward "$P1" 20 || lab_fail "forward 127.0.0.1:$P1 was not bound under the line"
lab_wait_forward "$P2" 20 || lab_fail "forward $P2 (default bind) was not bound under the line"
lab_wait_log "$TETHER_LOG" "bastion refused remote port $P3" 10 || lab_fail "port $P3, not in the line, was not refused"
"$NETLOAD" -d 20 load "$P1" 1 4096 >/dev/null || lab_fail "no echo through $P1"
out=$(timeout 10 ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o IdentityAgent=none \
    -o UserKnownHostsFile="$BASTION_KNOWN_HOSTS" -i "$LAB_KEY" -p "$BASTION_PORT" \
    "$LAB_USER@127.0.0.1" echo shell 2>&1) && [ "$out" = shell ] && lab_fail "the line lets the key run a shell"
lab_stop "$TETHER_PID" TERM 10
lab_pass "bastion-line -R x2: both bound, a third refused, no shell"
