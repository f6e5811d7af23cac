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

lab_log "check: doctor shows the certificate's ID, principals and end"
out=$(timeout 40 "$LAB_TETHER" doctor -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT" 2>&1) ||
    lab_fail "doctor failed with a good certificate: $out"
lab_has "$out" "ok    certificate: $LAB_KEY-cert.pub: ID \"tether-test\", principals $LAB_USER, valid until forever" ||
    lab_fail "doctor did not describe the certificate: $out"

# doctor_cert VALIDITY PRINCIPAL: signs the key so, runs doctor; RC, OUT.
doctor_cert() {
    ssh-keygen -q -s "$LAB_DIR/user_ca" -I tether-test -n "$2" -V "$1" "$LAB_KEY.pub" ||
        lab_fail "ssh-keygen -V $1 failed"
    OUT=$(timeout 40 "$LAB_TETHER" doctor -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
        --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT" 2>&1)
    RC=$?
}
lab_log "check: doctor warns of a certificate that ends within a week"
doctor_cert -5m:+2d "$LAB_USER"
[ "$RC" = 0 ] || lab_fail "doctor exited $RC for a certificate valid two more days: $OUT"
grep -q "warn  certificate: $LAB_KEY-cert.pub (ID \"tether-test\") expires at .*, in 4[78] hours; renew it" <<<"$OUT" ||
    lab_fail "no warning before the certificate expires: $OUT"
lab_log "check: an expired certificate fails doctor with exit 4"
doctor_cert 20200101:20200102 "$LAB_USER"
[ "$RC" = 4 ] || lab_fail "doctor exited $RC for an expired certificate, expected 4: $OUT"
lab_has "$OUT" "FAIL  certificate: $LAB_KEY-cert.pub expired at 2020-01-02T00:00:00Z" ||
    lab_fail "the expiry is not named: $OUT"
lab_log "check: a certificate for another principal fails doctor with exit 4"
doctor_cert -5m:forever someoneelse
[ "$RC" = 4 ] || lab_fail "doctor exited $RC for another principal's certificate, expected 4: $OUT"
lab_has "$OUT" "is for someoneelse, not for $LAB_USER" || lab_fail "the principal is not named: $OUT"

lab_log "check: a KEY-cert.pub that is not a certificate -> exit 4, named"
cp "$LAB_KEY.pub" "$LAB_KEY-cert.pub"
lab_run_tether run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT"
[ "$LAB_RC" = 4 ] || lab_fail "tether exited $LAB_RC with a bad certificate file, expected 4: $LAB_OUT"
grep -q "certificate $LAB_KEY-cert.pub" <<<"$LAB_OUT" || lab_fail "the error does not name the file: $LAB_OUT"
lab_pass "tether -s KEY logged in with KEY-cert.pub where only the CA is trusted; a bad one is refused, named"
