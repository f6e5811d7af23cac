#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# A passphrase-protected key given with -s, held by ssh-agent: ssh -i KEY
# uses the agent for it, and so must tether (it runs unattended and never
# asks for the passphrase). Without an agent the same key is refused with
# exit 4 and the fix named.
#
# usage: agent_passphrase.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[agent_passphrase] SKIP: compares tether's key loading with ssh's"; exit 77; }
lab_init "$@"
command -v ssh-agent >/dev/null || lab_skip "no ssh-agent"

KEY=$LAB_DIR/id_locked
ssh-keygen -q -t ed25519 -N 'open sesame' -C locked -f "$KEY" || lab_fail "ssh-keygen failed"
cat "$KEY.pub" >>"$LAB_DIR/authorized_keys"
lab_start_bastion
lab_start_netload echo
RPORT=$(lab_free_port) || lab_fail "no free port"
args=(run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$KEY" --known-hosts "$BASTION_KNOWN_HOSTS"
    -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT")

lab_log "check: no agent -> exit 4, the passphrase named"
(unset SSH_AUTH_SOCK; lab_run_tether "${args[@]}"; echo "$LAB_RC" >"$LAB_DIR/rc"; printf '%s' "$LAB_OUT" >"$LAB_DIR/out")
[ "$(cat "$LAB_DIR/rc")" = 4 ] || lab_fail "without an agent tether exited $(cat "$LAB_DIR/rc"), expected 4: $(cat "$LAB_DIR/out")"
grep -q "passphrase" "$LAB_DIR/out" || lab_fail "the error does not mention the passphrase: $(cat "$LAB_DIR/out")"

lab_log "check: the key in ssh-agent -> tether logs in with it"
eval "$(ssh-agent -s -a "$LAB_DIR/agent.sock")" >/dev/null || lab_fail "ssh-agent did not start"
lab__own "$SSH_AGENT_PID"
printf '#!/bin/sh\necho "open sesame"\n' >"$LAB_DIR/askpass"
chmod 700 "$LAB_DIR/askpass"
SSH_ASKPASS=$LAB_DIR/askpass SSH_ASKPASS_REQUIRE=force DISPLAY=:0 ssh-add "$KEY" </dev/null >/dev/null 2>&1 ||
    lab_fail "ssh-add could not load the key"
lab_start_tether "${args[@]}"
lab_wait_forward "$RPORT" 20 || lab_fail "tether did not bind its forward with the agent's key: $(tail -n 3 "$TETHER_LOG")"
grep -q "protected by a passphrase: logging in with ssh-agent" "$TETHER_LOG" ||
    lab_fail "tether did not say it used the agent"
"$NETLOAD" -d 20 load "$RPORT" 1 65536 >/dev/null || lab_fail "an echo through the tunnel failed"
lab_stop "$TETHER_PID" TERM 10
lab_pass "a passphrase key: exit 4 without an agent, logged in through ssh-agent with one"
