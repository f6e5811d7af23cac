#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# A user certificate beside the key, as ssh -i KEY uses it: the bastion
# trusts a user CA (TrustedUserCAKeys) and has no authorized_keys at all.
# OpenSSH's ssh -i KEY logs in (checked first, so the lab is right); tether
# -s KEY must find KEY-cert.pub and bind its forward. A certificate file
# that is not one is refused with exit 4, naming it.
#
# usage: certificate.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
lab_init "$@"

ssh-keygen -q -t ed25519 -N '' -C user-ca -f "$LAB_DIR/user_ca" || lab_fail "ssh-keygen (CA) failed"
ssh-keygen -q -s "$LAB_DIR/user_ca" -I tether-test -n "$LAB_USER" "$LAB_KEY.pub" ||
    lab_fail "ssh-keygen could not sign the key"
[ -f "$LAB_KEY-cert.pub" ] || lab_fail "no $LAB_KEY-cert.pub"
LAB_SSHD_EXTRA="AuthorizedKeysFile none
TrustedUserCAKeys $LAB_DIR/user_ca.pub" lab_start_bastion
lab_start_netload echo

lab_log "check: OpenSSH logs in with the certificate alone"
out=$(timeout 20 ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o IdentityAgent=none \
    -o UserKnownHostsFile="$BASTION_KNOWN_HOSTS" -i "$LAB_KEY" -p "$BASTION_PORT" \
    "$LAB_USER@127.0.0.1" echo cert-ok 2>&1) || lab_fail "ssh -i with the certificate failed: $out"
[ "$out" = cert-ok ] || lab_fail "ssh printed '$out'"

RPORT=$(lab_free_port) || lab_fail "no free port"
lab_start_tether run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT"
lab_wait_forward "$RPORT" 20 || lab_fail "tether did not bind its forward with the certificate: $(tail -n 3 "$TETHER_LOG")"
"$NETLOAD" -d 20 load "$RPORT" 1 65536 >/dev/null || lab_fail "an echo through the tunnel failed"
grep -q "Accepted certificate ID \"tether-test\"" "$BASTION_LOG" ||
    lab_fail "sshd did not log the certificate login"
lab_stop "$TETHER_PID" TERM 10

lab_log "check: a KEY-cert.pub that is not a certificate -> exit 4, named"
cp "$LAB_KEY.pub" "$LAB_KEY-cert.pub"
lab_run_tether run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT"
[ "$LAB_RC" = 4 ] || lab_fail "tether exited $LAB_RC with a bad certificate file, expected 4: $LAB_OUT"
grep -q "certificate $LAB_KEY-cert.pub" <<<"$LAB_OUT" || lab_fail "the error does not name the file: $LAB_OUT"
lab_pass "tether -s KEY logged in with KEY-cert.pub where only the CA is trusted; a bad one is refused, named"
