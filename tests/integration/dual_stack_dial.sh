#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# A bastion name whose first address does not answer: in a private /etc
# (tests/lib/private_etc.sh), "dualhost" lists ::1 first and 127.0.0.1
# second, and sshd listens on 127.0.0.1 only, as with "localhost" on many
# machines. ssh connects (it tries the next address), run always did; trust
# and doctor must too, not stop at "Connection refused".
#
# usage: dual_stack_dial.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/private_etc.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/private_etc.sh"
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[dual_stack_dial] SKIP: tether's trust and doctor"; exit 77; }
lab_init "$@"
ip -6 addr show dev lo 2>/dev/null | grep -q '::1' || lab_skip "no ::1 on lo"
printf '::1 dualhost\n127.0.0.1 dualhost\n' >>/etc/hosts
first=$(getent ahosts dualhost | awk 'NR == 1 { print $1 }')
[ "$first" = ::1 ] || lab_skip "dualhost resolves to $first first, not ::1"

lab_start_bastion
lab_start_netload echo
RPORT=$(lab_free_port) || lab_fail "no free port"
out=$(timeout 20 ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o IdentityAgent=none \
    -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile="$LAB_DIR/ssh_kh" \
    -i "$LAB_KEY" -p "$BASTION_PORT" "$LAB_USER@dualhost" echo ok 2>&1) ||
    lab_fail "ssh to dualhost failed (the lab is wrong): $out"

lab_log "check: tether trust -b dualhost:PORT --yes records the key"
KH=$LAB_DIR/trusted
out=$(timeout 30 "$LAB_TETHER" trust -b "$LAB_USER@dualhost:$BASTION_PORT" --known-hosts "$KH" --yes 2>&1) ||
    lab_fail "tether trust failed: $out"
grep -q "^\[dualhost\]:$BASTION_PORT " "$KH" || lab_fail "trust recorded nothing for [dualhost]:$BASTION_PORT: $(cat "$KH" 2>/dev/null)"

lab_log "check: tether doctor -b dualhost:PORT reaches it"
out=$(timeout 40 "$LAB_TETHER" doctor -b "$LAB_USER@dualhost:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$KH" -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT" 2>&1)
rc=$?
grep -qE "^ok +reach:" <<<"$out" || lab_fail "doctor did not reach dualhost: $out"
[ "$rc" = 0 ] || lab_fail "doctor exited $rc: $out"
lab_pass "trust and doctor try the next address, as ssh and run do"
