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
# ssh2 is installed once per build dir (npm registry); skipped (77) only
# without node/npm.
#
# usage: ssh2_bastion.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[ssh2_bastion] SKIP: checks tether against a non-OpenSSH server"; exit 77; }
lab_init "$@"
command -v node >/dev/null && command -v npm >/dev/null || lab_skip "node/npm not found (apt-get install nodejs npm)"
SSH2_VERSION=1.17.0
PREFIX=${LAB_BUILD:-$LAB_DIR}/npm-ssh2
if ! node -e "process.exit(require('$PREFIX/node_modules/ssh2/package.json').version === '$SSH2_VERSION' ? 0 : 1)" 2>/dev/null; then
	mkdir -p "$PREFIX" || lab_fail "cannot create $PREFIX"
	timeout 240 npm install --prefix "$PREFIX" --no-audit --no-fund --ignore-scripts \
	    --loglevel=error "ssh2@$SSH2_VERSION" >"$LAB_DIR/npm.log" 2>&1 ||
	    lab_fail "npm install ssh2@$SSH2_VERSION failed: $(tail -n 5 "$LAB_DIR/npm.log")"
fi

ssh-keygen -q -t ed25519 -N '' -f "$LAB_DIR/ssh2_host" || lab_fail "ssh-keygen (host) failed"
ssh-keygen -q -t rsa -b 3072 -N '' -f "$LAB_DIR/id_rsa" || lab_fail "ssh-keygen (rsa) failed"
PORT=$(lab_free_port) || lab_fail "no free port"
NODE_PATH=$PREFIX/node_modules lab_spawn "$LAB_DIR/ssh2.log" node "$LAB_SRC_DIR/tools/ssh2_bastion.js" \
    "$PORT" "$LAB_DIR/ssh2_host" "$LAB_DIR/id_rsa.pub" 120
lab_wait_tcp "$PORT" 10 "$LAB_SPAWN_PID" || lab_fail "the ssh2 bastion did not start: $(cat "$LAB_DIR/ssh2.log")"
printf '[127.0.0.1]:%s %s\n' "$PORT" "$(cut -d' ' -f1,2 "$LAB_DIR/ssh2_host.pub")" >"$LAB_DIR/ssh2_known_hosts"
lab_start_netload echo
RPORT=$(lab_free_port) || lab_fail "no free port"

lab_start_tether run -b "$LAB_USER@127.0.0.1:$PORT" -s "$LAB_DIR/id_rsa" \
    --known-hosts "$LAB_DIR/ssh2_known_hosts" -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT"
lab_wait_forward "$RPORT" 20 || lab_fail "no forward through the ssh2 bastion: $(tail -n 3 "$TETHER_LOG")"
grep -q "accepted ssh-rsa for $LAB_USER (hash sha256)\|accepted ssh-rsa for $LAB_USER (hash sha512)" "$LAB_DIR/ssh2.log" ||
    lab_fail "the ssh2 bastion did not log an rsa-sha2 login: $(cat "$LAB_DIR/ssh2.log")"
"$NETLOAD" -d 20 load "$RPORT" 1 65536 >/dev/null || lab_fail "an echo through the ssh2 bastion failed"
lab_stop "$TETHER_PID" TERM 10
lab_pass "RSA key against the ssh2 server (late EXT_INFO): rsa-sha2 login, forward bound, data through"
