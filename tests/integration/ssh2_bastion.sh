#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# A bastion that is not OpenSSH: the npm ssh2 server (tests/tools/
# ssh2_bastion.js), which sends its EXT_INFO only after the client's
# NEWKEYS. With an RSA key, libssh used to pick the signature algorithm
# before server-sig-algs arrived, fall back to SHA-1 ssh-rsa and refuse
# itself ("refused ... add the public key"), while ssh logs in. tether must
# log in with rsa-sha2 (the server logs the hash), bind its forward and
# carry data through it.
#
# ssh2 is installed once per build dir (npm registry, lab_ssh2_install);
# skipped (77) only without node/npm, and then failed under
# TETHER_INTEROP=require (as CI sets).
#
# usage: ssh2_bastion.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[ssh2_bastion] SKIP: checks tether against a non-OpenSSH server"; exit 77; }
lab_init "$@"
lab_ssh2_install || lab_skip_or_require TETHER_INTEROP "$LAB_WHY"
ssh-keygen -q -t rsa -b 3072 -N '' -f "$LAB_DIR/id_rsa" || lab_fail "ssh-keygen (rsa) failed"
lab_start_ssh2 "$LAB_DIR/id_rsa.pub"
lab_start_netload echo
RPORT=$(lab_free_port) || lab_fail "no free port"

lab_start_tether run -b "$LAB_USER@127.0.0.1:$SSH2_PORT" -s "$LAB_DIR/id_rsa" \
    --known-hosts "$SSH2_KNOWN_HOSTS" -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT"
lab_wait_forward "$RPORT" 20 || lab_fail "no forward through the ssh2 bastion: $(tail -n 3 "$TETHER_LOG")"
grep -q "accepted ssh-rsa for $LAB_USER (hash sha256)\|accepted ssh-rsa for $LAB_USER (hash sha512)" "$SSH2_LOG" ||
    lab_fail "the ssh2 bastion did not log an rsa-sha2 login: $(cat "$SSH2_LOG")"
"$NETLOAD" -d 20 load "$RPORT" 1 65536 >/dev/null || lab_fail "an echo through the ssh2 bastion failed"
lab_stop "$TETHER_PID" TERM 10
lab_pass "RSA key against the ssh2 server (late EXT_INFO): rsa-sha2 login, forward bound, data through"
