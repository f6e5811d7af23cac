#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The bastion dies while tether is busy: each round, 1000 concurrent echo
# connections through the tunnel (benchnet concurrent, all served), then
# the bastion's listener and sessions are killed (SIGTERM) and it is
# restarted at once; a new connection must get through again within 20 s
# (printed), and tether must still run. Eight rounds. A write that libssh
# fails inside the loop's last step before sleeping closes the socket under
# it; tether must notice then, not hand libev a closed descriptor (which
# aborted it within four rounds before the fix).
#
# usage: restart_under_load.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
lab_init "$@"
ROUNDS=8
CONC=1000
lab_find_tool benchnet
BN=$LAB_TOOL
lab_start_bastion
TMAIN=$(lab_free_port) || lab_fail "no free port"
TBANNER=$(lab_free_port) || lab_fail "no free port"
RPORT=$(lab_free_port) || lab_fail "no free port"
lab_spawn "$LAB_DIR/target.log" "$BN" -d "$LAB_SERVER_DEADLINE" serve "$TMAIN" "$TBANNER"
lab_wait_tcp "$TMAIN" 5 || lab_fail "the echo target did not listen on $TMAIN"
lab_start_tether run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$RPORT:127.0.0.1:$TMAIN" \
    -o max_channels=1100 -o keepalive_interval=1 -o keepalive_count=3 \
    -o backoff_initial=0.5 -o backoff_max=2
lab_wait_forward "$RPORT" 20 || lab_fail "the forward of port $RPORT was not bound within 20 s"
times=()
for r in $(seq "$ROUNDS"); do
	out=$("$BN" -d 60 concurrent "$RPORT" "$CONC") || lab_fail "round $r: $CONC concurrent echoes failed: $out"
	grep -q "ok=$CONC " <<<"$out " || lab_fail "round $r: not all $CONC echoes were served: $out"
	lab_us; t0=$LAB_US
	lab_kill_bastion TERM
	lab_restart_bastion
	out=$("$BN" -d 20 ready "$RPORT" "$t0") ||
	    lab_fail "round $r: no connection through port $RPORT within 20 s of the restart: $out; tether $(lab_alive "$TETHER_PID" && echo runs || echo died): $(tail -n 2 "$TETHER_LOG")"
	lab_alive "$TETHER_PID" || lab_fail "round $r: tether died: $(tail -n 2 "$TETHER_LOG")"
	times+=("$(sed -nE 's/.*seconds=([0-9.]+).*/\1/p' <<<"$out")")
done
lab_log "measured: through again after each kill+restart, s: ${times[*]}"
lab_check "tether (pid $TETHER_PID) is still running" lab_alive "$TETHER_PID"
lab_stop "$TETHER_PID" TERM 10
[ "$LAB_RC" = 0 ] || lab_fail "tether exited with status $LAB_RC after SIGTERM, expected 0"
lab_pass "$ROUNDS rounds of $CONC concurrent echoes, then a bastion kill+restart: tether came through each"
