#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# An ssh_config as a user has it, not as a lab writes it: a throwaway user
# whose passwd home holds ~/.ssh/config (read from its default place, no
# -F), paths written with ~ and tokens (ssh -G prints them unexpanded), an
# old RSA key first in the IdentityFile list that the bastion does not
# accept, the work key second, its certificate kept elsewhere
# (CertificateFile), and a key tether does not use (Ciphers). The bastion
# trusts only a user CA (no authorized_keys). ssh logs in that way first;
# then tether -b mybastion must: expand the paths as ssh does, offer the
# second key with its certificate after the first is refused, and name
# the unused key in one warning line. Then IdentityAgent (a socket named
# in the file, SSH_AUTH_SOCK unset), GlobalKnownHostsFile (the bastion
# known only there), AddressFamily inet6 (no IPv6 address: refused, named)
# and IdentitiesOnly with no key file (exit 4, named). setup resolves the
# alias as that user and records the result.
#
# usage: ssh_config_field.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[ssh_config_field] SKIP: compares tether with ssh itself"; exit 77; }
lab_init "$@"
command -v ssh >/dev/null || lab_skip "no OpenSSH client"
[ "$(id -u)" = 0 ] || lab_skip "needs root: a throwaway user with its own ~/.ssh/config"

FU=tfu$$
FH=$LAB_DIR/fieldhome
lab_add_user "$FU" "$FH"
as_fu() { lab_as_user "$FU" "$FH" "$@"; }

ssh-keygen -q -t ed25519 -N '' -C user-ca -f "$LAB_DIR/user_ca" || lab_fail "ssh-keygen (CA) failed"
as_fu ssh-keygen -q -t rsa -b 2048 -N '' -f "$FH/.ssh/id_rsa" || lab_fail "ssh-keygen (rsa) failed"
as_fu ssh-keygen -q -t ed25519 -N '' -f "$FH/.ssh/work_mybastion" || lab_fail "ssh-keygen (work) failed"
ssh-keygen -q -s "$LAB_DIR/user_ca" -I field-test -n "$FU" "$FH/.ssh/work_mybastion.pub" ||
    lab_fail "ssh-keygen could not sign the work key"
install -d -o "$FU" -g "$FU" "$FH/certs"
install -m 644 -o "$FU" "$FH/.ssh/work_mybastion-cert.pub" "$FH/certs/work.cert"
rm -f "$FH/.ssh/work_mybastion-cert.pub"

LAB_SSHD_EXTRA="AuthorizedKeysFile none
TrustedUserCAKeys $LAB_DIR/user_ca.pub" lab_start_bastion
lab_start_netload echo
install -m 644 -o "$FU" "$BASTION_KNOWN_HOSTS" "$FH/.ssh/known_hosts"
cat >"$FH/.ssh/config" <<CONF
Host mybastion
    HostName 127.0.0.1
    Port $BASTION_PORT
    IdentityFile ~/.ssh/id_rsa
    IdentityFile %d/.ssh/work_%n
    CertificateFile ~/certs/work.cert
    Ciphers aes256-ctr
Host agentbastion
    HostName 127.0.0.1
    Port $BASTION_PORT
    IdentityFile ~/.ssh/none
    IdentityAgent ~/agent.sock
Host globalbastion
    HostName 127.0.0.1
    Port $BASTION_PORT
    IdentityFile ~/.ssh/work_mybastion
    CertificateFile ~/certs/work.cert
    UserKnownHostsFile ~/.ssh/empty_known_hosts
    GlobalKnownHostsFile ~/global_known_hosts
Host v6only
    HostName 127.0.0.1
    Port $BASTION_PORT
    IdentityFile ~/.ssh/work_mybastion
    AddressFamily inet6
Host onlyfiles
    HostName 127.0.0.1
    Port $BASTION_PORT
    IdentityFile ~/.ssh/absent
    IdentitiesOnly yes
CONF
chown "$FU:$FU" "$FH/.ssh/config"
chmod 600 "$FH/.ssh/config"
RPORT=$(lab_free_port) || lab_fail "no free port"

lab_log "check: ssh, as the user, logs in through the alias (the lab is right)"
out=$(cd / && as_fu timeout 20 ssh -o BatchMode=yes -o IdentityAgent=none mybastion echo alias-ok 2>&1) ||
    lab_fail "ssh mybastion as $FU failed: $out"
[ "$(tail -n 1 <<<"$out")" = alias-ok ] || lab_fail "ssh printed '$out'"

lab_log "check: run --check shows the paths expanded as ssh does, and the unused key"
out=$(cd / && as_fu "$LAB_TETHER" run --check -b mybastion -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT" 2>&1) ||
    lab_fail "run --check failed: $out"
lab_has "$out" "ssh_config alias mybastion" || lab_fail "--check does not name the alias: $out"
lab_has "$out" "key $FH/.ssh/id_rsa" || lab_fail "~ in IdentityFile not expanded to the passwd home: $out"
lab_has "$out" "then key $FH/.ssh/work_mybastion" || lab_fail "%d/%n not expanded, or the second IdentityFile dropped: $out"
lab_has "$out" "certificate $FH/certs/work.cert" || lab_fail "CertificateFile not taken: $out"
lab_has "$out" "known_hosts $FH/.ssh/known_hosts" || lab_fail "the user's known_hosts not used: $out"
lab_has "$out" "not used from ssh_config: ciphers" || lab_fail "Ciphers not named as unused: $out"

lab_log "check: tether -b mybastion offers the next key with its certificate, and binds"
LAB_WRAP="setpriv --reuid=$FU --regid=$FU --init-groups env -i HOME=$FH PATH=$PATH" \
    lab_start_tether run -b mybastion -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT"
lab_wait_forward "$RPORT" 20 || lab_fail "no forward through the user's ssh_config: $(tail -n 5 "$TETHER_LOG")"
"$NETLOAD" -d 20 load "$RPORT" 1 65536 >/dev/null || lab_fail "an echo through the tunnel failed"
grep -q "bastion refused $FH/.ssh/id_rsa; offering $FH/.ssh/work_mybastion" "$TETHER_LOG" ||
    lab_fail "the refused first key and the next one are not logged: $(cat "$TETHER_LOG")"
grep -q 'Accepted certificate ID "field-test"' "$BASTION_LOG" || lab_fail "sshd did not log the certificate login"
[ "$(grep -c 'ssh_config sets ciphers for the bastion; tether does not use' "$TETHER_LOG")" = 1 ] ||
    lab_fail "not one warning line naming Ciphers: $(cat "$TETHER_LOG")"
lab_stop "$TETHER_PID" TERM 10

lab_log "check: setup -b mybastion records what the alias resolves to, keys from its known_hosts"
RPORT2=$(lab_free_port) || lab_fail "no free port"
out=$(cd / && as_fu "$LAB_TETHER" setup --user --dry-run -p "$RPORT2" -b mybastion -s "$FH/.ssh/work_mybastion" 2>&1) ||
    lab_fail "setup --dry-run through the alias failed: $out"
lab_has "$out" "bastion = $FU@127.0.0.1:$BASTION_PORT" || lab_fail "setup did not record the resolved bastion: $out"
lab_has "$out" "# bastion: the ssh_config alias mybastion, resolved by setup" || lab_fail "the alias is not named: $out"
lab_has "$out" "ssh_config = none" || lab_fail "the resolved config still reads ssh_config at run time: $out"
lab_has "$out" "[127.0.0.1]:$BASTION_PORT $BASTION_HOST_PUB" || lab_fail "the bastion's key was not copied: $out"

lab_log "check: IdentityAgent in the file is the agent, with SSH_AUTH_SOCK unset"
AGENT_OUT=$(as_fu ssh-agent -a "$FH/agent.sock" -s) || lab_fail "ssh-agent failed"
AGENT_PID=$(sed -n 's/^SSH_AGENT_PID=\([0-9]*\);.*/\1/p' <<<"$AGENT_OUT")
lab__own "$AGENT_PID"
# ssh-add takes KEY-cert.pub beside the key: the agent holds both.
install -m 644 -o "$FU" "$FH/certs/work.cert" "$FH/.ssh/work_mybastion-cert.pub"
as_fu env SSH_AUTH_SOCK="$FH/agent.sock" ssh-add -q "$FH/.ssh/work_mybastion" 2>/dev/null ||
    lab_fail "ssh-add failed"
rm -f "$FH/.ssh/work_mybastion-cert.pub"
out=$(cd / && as_fu env -u SSH_AUTH_SOCK timeout 20 "$LAB_TETHER" run -b agentbastion \
    -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT" -o exit_on_forward_failure=yes -o connect_timeout=10 --check 2>&1)
lab_has "$out" "ssh-agent $FH/agent.sock" || lab_fail "IdentityAgent not taken: $out"
LAB_WRAP="setpriv --reuid=$FU --regid=$FU --init-groups env -i HOME=$FH PATH=$PATH" \
    lab_start_tether run -b agentbastion -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT"
lab_wait_forward "$RPORT" 20 || lab_fail "no forward with the agent named by IdentityAgent: $(tail -n 5 "$TETHER_LOG")"
lab_stop "$TETHER_PID" TERM 10

lab_log "check: a bastion known only to GlobalKnownHostsFile is trusted"
install -m 644 -o "$FU" /dev/null "$FH/.ssh/empty_known_hosts"
install -m 644 "$BASTION_KNOWN_HOSTS" "$FH/global_known_hosts"
LAB_WRAP="setpriv --reuid=$FU --regid=$FU --init-groups env -i HOME=$FH PATH=$PATH" \
    lab_start_tether run -b globalbastion -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT"
lab_wait_forward "$RPORT" 20 || lab_fail "the global known_hosts was not asked: $(tail -n 5 "$TETHER_LOG")"
lab_stop "$TETHER_PID" TERM 10

lab_log "check: AddressFamily inet6 to an IPv4 address: refused, named"
out=$(cd / && as_fu timeout 4 "$LAB_TETHER" run -b v6only -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT" 2>&1)
lab_has "$out" "no IPv6 address (AddressFamily inet6)" || lab_fail "AddressFamily inet6 not honoured: $out"

lab_log "check: IdentitiesOnly yes with no IdentityFile there -> exit 4, named"
out=$(cd / && as_fu env SSH_AUTH_SOCK="$FH/agent.sock" timeout 20 "$LAB_TETHER" run -b onlyfiles \
    -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT" 2>&1)
rc=$?
[ "$rc" = 4 ] || lab_fail "IdentitiesOnly with no key file exited $rc, expected 4: $out"
lab_has "$out" "IdentitiesOnly yes for the bastion onlyfiles" || lab_fail "IdentitiesOnly not named: $out"

lab_pass "a user's own ~/.ssh/config: ~ and tokens expanded, the second key with its CertificateFile, IdentityAgent, GlobalKnownHostsFile, AddressFamily, IdentitiesOnly; Ciphers named as unused"
