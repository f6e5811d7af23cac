#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# run --daemon's log file is bounded: with TETHER_LOG_MAX_BYTES=4096 (the
# default is 10 MiB) and -v, a daemon made to reconnect again and again
# (SIGUSR1) rotates its log once to LOG.1: LOG and LOG.1 each stay under
# 4096 bytes plus one line, there is no LOG.2, the tunnel still carries a
# real ssh, and the daemon still logs to LOG. A bad value is refused before
# anything starts (exit 3).
#
# usage: daemon_log_bound.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] && { echo "[daemon_log_bound] SKIP: run --daemon is tether's"; exit 77; }
lab_init "$@"
t() { lab_cmd "$@"; }
# bound TIMEOUT: until the bastion listens on RP and a real ssh gets through.
bound() {
	local end=$((SECONDS + $1)) out
	while [ "$SECONDS" -lt "$end" ]; do
		out=$(lab_ssh_through "$RP" 'echo tunnel-ok' 2>/dev/null) && [ "$out" = tunnel-ok ] && return 0
		sleep 0.2
	done
	return 1
}
show() { lab_show_cmd; }
lab_start_bastion
lab_start_workstation
RP=$(lab_free_port) || lab_fail "no free port"
D=$LAB_DIR/daemon
mkdir -p "$D"
LOG=$D/t.log
RUN=(run --daemon -v -n t -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY"
    --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$RP:127.0.0.1:$WS_PORT"
    --pidfile "$D/t.pid" --log-file "$LOG" --state-dir "$D")

t env TETHER_LOG_MAX_BYTES=lots "$LAB_TETHER" "${RUN[@]}"
{ [ "$RC" = 3 ] && lab_has "$ERR" "TETHER_LOG_MAX_BYTES='lots': give a number of bytes, 1024 or more"; } ||
    { show; lab_fail "a bad TETHER_LOG_MAX_BYTES: exit $RC"; }
[ -e "$D/t.pid" ] && lab_fail "a bad TETHER_LOG_MAX_BYTES started a daemon"
lab_log "ok: a bad TETHER_LOG_MAX_BYTES is refused: $ERR"

t env TETHER_LOG_MAX_BYTES=4096 "$LAB_TETHER" "${RUN[@]}"
[ "$RC" = 0 ] || { show; lab_fail "run --daemon: exit $RC"; }
DPID=$(cat "$D/t.pid")
lab_on_exit "kill $DPID 2>/dev/null"
bound 20 || lab_fail "the daemon's forward did not come up: $(tail -n 3 "$LOG")"
for i in $(seq 1 25); do
	kill -USR1 "$DPID"
	sleep 0.3
done
bound 20 || lab_fail "the forward did not come back after the reconnects"
sleep 0.5
s0=$(stat -c %s "$LOG" 2>/dev/null || echo missing)
s1=$(stat -c %s "$LOG.1" 2>/dev/null || echo missing)
lab_log "measured: $LOG $s0 bytes, $LOG.1 $s1 bytes after 25 reconnects"
[ "$s1" != missing ] || lab_fail "no $LOG.1: the log was never rotated ($LOG is $s0 bytes)"
[ "$s0" != missing ] && [ "$s0" -le $((4096 + 1024)) ] || lab_fail "$LOG is $s0 bytes, over the 4096-byte cap plus a line"
[ "$s1" -le $((4096 + 1024)) ] || lab_fail "$LOG.1 is $s1 bytes, over the cap plus a line"
[ -e "$LOG.2" ] && lab_fail "$LOG.2 exists: only one rotation is kept"
[ "$(stat -c %a "$LOG")" = 600 ] || lab_fail "the new $LOG has mode $(stat -c %a "$LOG")"
kill -USR1 "$DPID"
lab_wait_log "$LOG" 'connecting to' 10 || lab_fail "the daemon does not log to the new $LOG"
lab_log "ok: the log rotated once: $LOG $s0 bytes, $LOG.1 $s1 bytes, no $LOG.2; the daemon logs to the new file"
kill "$DPID"
lab_pass "daemon log bounded: one rotation at TETHER_LOG_MAX_BYTES"
