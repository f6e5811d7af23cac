#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# No -s, and ssh-agent cannot help: tether must say what is wrong with the
# agent, not that the bastion refused its keys (which sends the user to
# the bastion's authorized_keys for nothing):
#  - a running agent with no keys: "holds no keys: ... ssh-add";
#  - SSH_AUTH_SOCK naming a socket nobody listens on: "cannot be used";
#  - the agent holding a key the bastion does not know: the refusal, as before.
# Each exits 6 (authentication), which a unit restarts.
#
# usage: agent_empty.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[agent_empty] SKIP: tether's messages"; exit 77; }
lab_init "$@"
command -v ssh-agent >/dev/null || lab_skip "no ssh-agent"
lab_start_bastion
RPORT=$(lab_free_port) || lab_fail "no free port"
args=(run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" --known-hosts "$BASTION_KNOWN_HOSTS"
    -R "127.0.0.1:$RPORT:127.0.0.1:22" -o connect_timeout=5)

eval "$(ssh-agent -s -a "$LAB_DIR/agent.sock")" >/dev/null || lab_fail "ssh-agent did not start"
lab__own "$SSH_AGENT_PID"

lab_log "check: an agent with no keys"
lab_run_tether "${args[@]}"
[ "$LAB_RC" = 6 ] || lab_fail "exit $LAB_RC with an empty agent, expected 6: $LAB_OUT"
grep -q "ssh-agent at $LAB_DIR/agent.sock holds no keys" <<<"$LAB_OUT" ||
    lab_fail "the message does not say the agent is empty: $LAB_OUT"

lab_log "check: SSH_AUTH_SOCK naming a dead socket"
(SSH_AUTH_SOCK=$LAB_DIR/nobody.sock lab_run_tether "${args[@]}"
 printf '%s\n%s' "$LAB_RC" "$LAB_OUT" >"$LAB_DIR/dead.out")
[ "$(head -n 1 "$LAB_DIR/dead.out")" = 6 ] || lab_fail "exit $(head -n 1 "$LAB_DIR/dead.out") with a dead agent socket, expected 6"
grep -q "ssh-agent at $LAB_DIR/nobody.sock cannot be used" "$LAB_DIR/dead.out" ||
    lab_fail "the message does not say the agent cannot be used: $(cat "$LAB_DIR/dead.out")"

lab_log "check: an agent key the bastion does not know -> the refusal"
ssh-keygen -q -t ed25519 -N '' -f "$LAB_DIR/stranger" || lab_fail "ssh-keygen failed"
ssh-add "$LAB_DIR/stranger" 2>/dev/null || lab_fail "ssh-add failed"
lab_run_tether "${args[@]}"
[ "$LAB_RC" = 6 ] || lab_fail "exit $LAB_RC with an unknown agent key, expected 6: $LAB_OUT"
grep -q "refused every ssh-agent key" <<<"$LAB_OUT" || lab_fail "no refusal message: $LAB_OUT"
lab_pass "empty agent, dead agent and refused agent keys each said as they are"
