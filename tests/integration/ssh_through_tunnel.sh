#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# End to end: a real ssh session reaches the workstation's sshd through the
# port tether forwards on the bastion, runs a command and gets its output.
# Then SIGTERM stops tether cleanly (exit 0) and the bastion frees the port.
#
# usage: ssh_through_tunnel.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
lab_init "$@"

lab_start_bastion
lab_start_workstation
RPORT=$(lab_free_port) || lab_fail "no free port"

lab_log "check: tether forwards bastion 127.0.0.1:$RPORT to the workstation sshd 127.0.0.1:$WS_PORT"
lab_start_tether run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$RPORT:127.0.0.1:$WS_PORT"
lab_wait_forward "$RPORT" 30 || lab_fail "the forward of port $RPORT was not ready within 30 s"

lab_log "check: ssh -p $RPORT (HostKeyAlias=lab-workstation) runs 'echo tunnel-ok' on the workstation"
for i in 1 2 3; do
	out=$(lab_ssh_through "$RPORT" 'echo tunnel-ok') ||
	    lab_fail "ssh through the tunnel failed (attempt $i, status $?): $out"
	[ "$out" = tunnel-ok ] || lab_fail "ssh through the tunnel printed '$out', expected 'tunnel-ok'"
	lab_log "ok: session $i printed '$out'"
done

lab_log "check: two sessions at once, each with its own output"
out1=$LAB_DIR/concurrent-1.out
out2=$LAB_DIR/concurrent-2.out
lab_ssh_through "$RPORT" 'sleep 1; echo one' >"$out1" 2>&1 &
p1=$!
lab__own "$p1"
lab_ssh_through "$RPORT" 'sleep 1; echo two' >"$out2" 2>&1 &
p2=$!
lab__own "$p2"
lab_wait_pid "$p1" 40; rc1=$LAB_RC
lab_wait_pid "$p2" 40; rc2=$LAB_RC
{ [ "$rc1" = 0 ] && [ "$(cat "$out1")" = one ]; } ||
    lab_fail "first concurrent session: status $rc1, output '$(cat "$out1")'"
{ [ "$rc2" = 0 ] && [ "$(cat "$out2")" = two ]; } ||
    lab_fail "second concurrent session: status $rc2, output '$(cat "$out2")'"
lab_log "ok: concurrent sessions printed 'one' and 'two'"

lab_check "the tunnel (pid $TETHER_PID) is still running" lab_alive "$TETHER_PID"

lab_log "check: SIGTERM stops the tunnel, and the bastion frees port $RPORT"
lab_stop "$TETHER_PID" TERM 10
if [ "$LAB_TUNNEL" = tether ]; then
	[ "$LAB_RC" = 0 ] || lab_fail "tether exited with status $LAB_RC after SIGTERM, expected 0"
	lab_log "ok: tether exited 0 after SIGTERM"
else
	lab_log "(LAB_TUNNEL=ssh: ssh exited with status $LAB_RC after SIGTERM; not checked)"
fi
end=$((SECONDS + 10))
while lab_port_open "$RPORT" && [ "$SECONDS" -lt "$end" ]; do sleep 0.2; done
lab_port_open "$RPORT" && lab_fail "port $RPORT on the bastion still accepts connections 10 s after the tunnel stopped"
lab_log "ok: port $RPORT is closed on the bastion"

lab_pass "ssh through the tunnel ran 'echo tunnel-ok'"
