#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The demo of README's first command: a throwaway bastion (sshd on
# 127.0.0.1) and a throwaway "workstation" (a second sshd), tether keeping a
# reverse tunnel from the workstation to the bastion, and a real ssh login
# that goes bastion → tunnel → workstation. Everything stops at the end.
#
# usage: tests/demo.sh [BUILD_DIR]     (default: build)
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
LAB_NAME=demo
# shellcheck source=tests/lib/lab.sh
. "$here/lib/lab.sh"
lab_init "$build/tether" "$build/tests"

lab_start_bastion
lab_start_workstation
RPORT=$(lab_free_port)
lab_log "bastion sshd on 127.0.0.1:$BASTION_PORT, workstation sshd on 127.0.0.1:$WS_PORT"
lab_log "tether run -b $LAB_USER@127.0.0.1:$BASTION_PORT -R 127.0.0.1:$RPORT:127.0.0.1:$WS_PORT"
lab_start_tether run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$RPORT:127.0.0.1:$WS_PORT"
lab_wait_forward "$RPORT" 20 || lab_fail "the tunnel did not come up"
echo "---- tether's log ----"
cat "$TETHER_LOG"
echo "---- ssh -p $RPORT $LAB_USER@127.0.0.1 (on the bastion) reaches the workstation: ----"
out=$(lab_ssh_through "$RPORT" 'echo "hello from the workstation, through tether: $(uname -n), sshd port $(echo $SSH_CONNECTION | cut -d" " -f4)"') ||
    lab_fail "ssh through the tunnel failed"
echo "$out"
case $out in
*"sshd port $WS_PORT"*) ;;
*) lab_fail "the login did not land on the workstation sshd" ;;
esac
lab_stop "$TETHER_PID" TERM 5
echo "---- tether stopped with exit code $LAB_RC ----"
lab_pass "a command ran on the workstation through the tunnel"
