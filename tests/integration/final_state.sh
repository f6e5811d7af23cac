#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# A tunnel that fails for good says why in its state file before it exits:
# run against a bastion whose host key is not the one known_hosts holds,
# tether exits 5 and leaves RUNTIME_DIRECTORY/NAME.json with state
# "failed", exit {code 5, meaning} and last_error naming the key. (A
# clean stop removes the file: state_file.sh.)
#
# usage: final_state.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[final_state] SKIP: the state file is tether's"; exit 77; }
lab_init "$@"
lab_find_tool json_get -ljansson
JSON_GET=$LAB_TOOL
export RUNTIME_DIRECTORY=$LAB_DIR/run
mkdir -p "$RUNTIME_DIRECTORY"

lab_start_bastion
ssh-keygen -q -t ed25519 -N '' -f "$LAB_DIR/other_key" || lab_fail "ssh-keygen failed"
printf '[127.0.0.1]:%s %s\n' "$BASTION_PORT" "$(cut -d' ' -f1,2 "$LAB_DIR/other_key.pub")" >"$LAB_DIR/wrong_kh"
lab_run_tether run -n doomed -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$LAB_DIR/wrong_kh" -R "127.0.0.1:$(lab_free_port):127.0.0.1:22"
[ "$LAB_RC" = 5 ] || lab_fail "tether exited $LAB_RC, expected 5 (host key changed): $LAB_OUT"
STATE=$RUNTIME_DIRECTORY/doomed.json
[ -f "$STATE" ] || lab_fail "no final state file $STATE after the failure"
f() { "$JSON_GET" "$STATE" "$1" 2>/dev/null; }
[ "$(f state)" = failed ] || lab_fail "the final state is '$(f state)', expected failed"
[ "$(f exit.code)" = 5 ] || lab_fail "exit.code is '$(f exit.code)', expected 5"
[ "$(f exit.meaning)" = "bastion host key unknown or changed" ] || lab_fail "exit.meaning is '$(f exit.meaning)'"
grep -qi "host key" <<<"$(f last_error.message)" || lab_fail "last_error does not name the host key: '$(f last_error.message)'"
[ "$(f forwarding)" = false ] || lab_fail "forwarding is '$(f forwarding)' in the final state"
lab_pass "exit 5; final state failed, exit 5 ($(f exit.meaning)): $(f last_error.message)"
