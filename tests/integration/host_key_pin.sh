#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Host-key pinning and what a changed key says:
#  - --host-key with the bastion's real SHA256 fingerprint and an EMPTY
#    known_hosts: the tunnel comes up (known_hosts is not consulted);
#  - a pinned wrong fingerprint: refused (exit 5) naming both the presented
#    and the pinned fingerprint, nothing written to known_hosts;
#  - known_hosts holding another key for the bastion: refused (exit 5)
#    naming both the presented key's and the recorded key's fingerprints.
#
# usage: host_key_pin.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[host_key_pin] SKIP: pinning is tether's"; exit 77; }
lab_init "$@"
lab_start_bastion
lab_start_workstation
RPORT=$(lab_free_port) || lab_fail "no free port"
real=$(ssh-keygen -lf "$BASTION_HOST_KEY.pub" -E sha256 | awk '{ print $2 }')
EMPTY=$LAB_DIR/empty_known_hosts
: >"$EMPTY"
lab_log "the bastion's key: $real"

lab_start_tether run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$EMPTY" --host-key "$real" -R "127.0.0.1:$RPORT:127.0.0.1:$WS_PORT"
lab_wait_forward "$RPORT" 20 || lab_fail "the pinned tunnel did not come up"
[ "$(lab_ssh_through "$RPORT" echo pinned-ok)" = pinned-ok ] ||
    lab_fail "no ssh through the pinned tunnel"
lab_stop "$TETHER_PID" TERM 5
lab_log "ok: the real fingerprint pinned, empty known_hosts: the tunnel works"

wrong=SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
lab_run_tether run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$EMPTY" --host-key "$wrong" -R "127.0.0.1:$RPORT:127.0.0.1:$WS_PORT"
[ "$LAB_RC" = 5 ] || lab_fail "a wrong pin: exit $LAB_RC, expected 5: $LAB_OUT"
grep -qF "$real" <<<"$LAB_OUT" && grep -qF "$wrong" <<<"$LAB_OUT" ||
    lab_fail "a wrong pin: the message does not name both fingerprints: $LAB_OUT"
[ ! -s "$EMPTY" ] || lab_fail "a refused pin wrote to known_hosts"
lab_log "ok: a wrong pin is refused with both fingerprints"

other=$LAB_DIR/other_key
ssh-keygen -q -t ed25519 -N '' -f "$other"
old=$(ssh-keygen -lf "$other.pub" -E sha256 | awk '{ print $2 }')
echo "[127.0.0.1]:$BASTION_PORT $(cut -d' ' -f1,2 "$other.pub")" >"$LAB_DIR/changed"
lab_run_tether run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$LAB_DIR/changed" -R "127.0.0.1:$RPORT:127.0.0.1:$WS_PORT"
[ "$LAB_RC" = 5 ] || lab_fail "a changed key: exit $LAB_RC, expected 5: $LAB_OUT"
grep -qF "$real" <<<"$LAB_OUT" && grep -qF "$old" <<<"$LAB_OUT" ||
    lab_fail "a changed key: the message does not name the old and new fingerprints: $LAB_OUT"
lab_log "ok: a changed key names the new ($real) and the recorded ($old) fingerprints"
lab_pass "pinning works without known_hosts; refusals name both keys"
