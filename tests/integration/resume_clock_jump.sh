#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# A suspend and resume, simulated: tether runs with the clockjump shim
# (tests/shim/clockjump.c, LD_PRELOAD), which moves CLOCK_BOOTTIME ahead of
# CLOCK_MONOTONIC by the offset written to a file, as a machine that slept
# would show it. tether's resume detector (supervisor_on_clock_check, every
# 2 s) compares the two clocks; it is unit-tested with made-up numbers
# (test_resume), and this proves it end to end, through the real clocks
# and a real session. Keepalive 5 s x 3 (15 s), backoff 60 s. Checks:
#  a. Forwarding, a jump of 600 s: tether logs "resumed after 600 s
#     asleep: reconnecting now", logs in again and binds its forward again
#     within 4 s of the jump (printed), and the tunnel carries data. The
#     bastion would have dropped a session that slept that long; waiting
#     for the keepalive to prove it would take 15 s.
#  b. Forwarding, a jump of 8 s (shorter than the keepalive's 15 s): the
#     session may well be alive; no "resumed after", no new login, no
#     new bind within 5 s (two clock checks).
#  c. The bastion goes away; tether waits to retry on a long timer (full
#     jitter draws U(0, 60 s): short draws fail against the dead bastion
#     and draw again, until one leaves >= 10 s); the bastion is back, and a
#     jump of 10 s (shorter than the keepalive's 15 s: only the pending
#     retry makes it count) makes tether reconnect at once: forward bound
#     again within 4 s of the jump (printed, with the wait it cut short).
# Each check can fail: without the shim (tether's /proc/PID/maps is checked
# too) or without the detector, a fails; a detector blind to the keepalive
# limit fails b; one that skips a pending retry fails c.
#
# usage: resume_clock_jump.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[resume_clock_jump] SKIP: the resume detector is tether's; nothing to check with LAB_TUNNEL=ssh"; exit 77; }
lab_init "$@"
export RUNTIME_DIRECTORY=$LAB_DIR/run
lab_find_tool json_get -ljansson
JSON_GET=$LAB_TOOL

BOUND_LIMIT_MS=4000      # from a jump to the forward bound again
LEFT_NEEDED_MS=10000     # on tether's retry timer when the clock jumps (c)
QUIET_S=5                # watched after the short jump (b): 2 clock checks

# The shim as built by CMake in the tests build dir, else compiled here.
if [ -n "$LAB_BUILD" ] && [ -f "$LAB_BUILD/libclockjump.so" ]; then
	SHIM=$LAB_BUILD/libclockjump.so
else
	command -v "${CC:-cc}" >/dev/null || lab_skip "libclockjump.so not built and no C compiler"
	"${CC:-cc}" -std=c17 -O2 -Wall -Wextra -Werror -shared -fPIC \
	    -o "$LAB_DIR/libclockjump.so" "$LAB_SRC_DIR/shim/clockjump.c" ||
	    lab_fail "could not compile tests/shim/clockjump.c"
	SHIM=$LAB_DIR/libclockjump.so
fi
OFFSET_FILE=$LAB_DIR/boottime-offset
# set_offset SECONDS: CLOCK_BOOTTIME runs SECONDS ahead in tether from now
# on (renamed into place: the shim never reads a half-written file).
set_offset() {
	{ printf '%s\n' "$1" >"$OFFSET_FILE.new" && mv -f "$OFFSET_FILE.new" "$OFFSET_FILE"; } ||
	    lab_fail "cannot write $OFFSET_FILE"
}
set_offset 0
# An ASan tether insists on its runtime coming first in the library list.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

lab_start_bastion
lab_start_netload echo
RPORT=$(lab_free_port) || lab_fail "no free port"
STATE=$RUNTIME_DIRECTORY/$RPORT.json

through_tunnel() {
	timeout -k 2 20 "$NETLOAD" -d 15 load "$RPORT" 4 262144
}
n_bound() { lab_log_count "$TETHER_LOG" "remote port $RPORT bound"; }
n_resumed() { lab_log_count "$TETHER_LOG" "resumed after [0-9]+ s asleep: reconnecting now"; }
logins() { lab_log_count "$BASTION_LOG" "Accepted publickey"; }
n_sched() { lab_log_count "$TETHER_LOG" "reconnecting in [0-9.]+ s"; }
# last_wait: the wait (seconds, one decimal) of tether's last retry.
last_wait() {
	grep -oE 'reconnecting in [0-9]+\.[0-9] s' "$TETHER_LOG" | tail -n 1 | grep -oE '[0-9]+\.[0-9]'
}
state() { "$JSON_GET" "$STATE" state 2>/dev/null; }
# shellcheck disable=SC2317  # called through lab_check
shim_loaded() { grep -qF "$SHIM" "/proc/$TETHER_PID/maps"; }

LD_PRELOAD=$SHIM${LD_PRELOAD:+:$LD_PRELOAD} CLOCKJUMP_BOOTTIME_OFFSET_FILE=$OFFSET_FILE \
    lab_start_tether run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT" \
    -o keepalive_interval=5 -o keepalive_count=3 \
    -o backoff_initial=60 -o backoff_max=60
lab_wait_forward "$RPORT" 30 || lab_fail "the forward of port $RPORT was not ready within 30 s"
lab_check "the clockjump shim is loaded in tether (pid $TETHER_PID)" shim_loaded
out=$(through_tunnel) || lab_fail "netload through the tunnel failed before the jumps: $out"
lab_log "ok: before the jumps: $out"
# The clock check at start is the baseline: one more passes with no jump,
# and must see no sleep (checked below).
sleep 2.1

# resumed_and_bound JUMP NR NB: after a jump of JUMP s at t_jump, tether
# logs its (NR+1)-th "resumed after JUMP s asleep" (one second either way),
# binds the forward an (NB+1)-th time within BOUND_LIMIT_MS (the clock is
# checked every 2 s, then a login), and the tunnel carries data. Sets
# T_RESUMED and T_BOUND: seconds from the jump.
resumed_and_bound() {
	local jump=$1 nr=$2 nb=$3 last out
	lab_wait_log_count "$TETHER_LOG" "resumed after [0-9]+ s asleep: reconnecting now" $((nr + 1)) 8 ||
	    lab_fail "no 'resumed after ... s asleep: reconnecting now' within 8 s of a $jump s jump"
	T_RESUMED=$(lab_since_us "$t_jump")
	last=$(grep -oE 'resumed after [0-9]+ s' "$TETHER_LOG" | tail -n 1 | grep -oE '[0-9]+')
	[ "$last" -ge $((jump - 1)) ] && [ "$last" -le $((jump + 1)) ] ||
	    lab_fail "tether saw a sleep of $last s, not $jump s"
	lab_wait_log_count "$TETHER_LOG" "remote port $RPORT bound" $((nb + 1)) 10 ||
	    lab_fail "the forward of port $RPORT was not bound again within 10 s of the jump"
	T_BOUND=$(lab_since_us "$t_jump")
	lab_us_lt "$t_jump" "$BOUND_LIMIT_MS" ||
	    lab_fail "the forward was bound again $T_BOUND s after the jump, expected < $BOUND_LIMIT_MS ms"
	lab_wait_tcp "$RPORT" 5 || lab_fail "port $RPORT does not accept connections after the reconnect"
	out=$(through_tunnel) || lab_fail "netload through the tunnel failed after the $jump s jump: $out"
	lab_log "ok: after the $jump s jump: $out"
}

# ---- a. a 600 s sleep while forwarding: reconnect now ---------------------
lab_log "check: CLOCK_BOOTTIME +600 s while forwarding -> 'resumed after 600 s asleep', forward bound again in < $((BOUND_LIMIT_MS / 1000)) s"
nb=$(n_bound)
nl=$(logins)
[ "$(n_resumed)" = 0 ] || lab_fail "tether logged 'resumed after' before any jump: $(grep 'resumed after' "$TETHER_LOG")"
set_offset 600
lab_us; t_jump=$LAB_US
resumed_and_bound 600 0 "$nb"
t_bound_a=$T_BOUND
lab_log "measured: (a) 'resumed after' logged $T_RESUMED s, forward bound again $t_bound_a s after the jump"
lab_check "a new login on the bastion after the jump" test "$(logins)" = $((nl + 1))

# ---- b. an 8 s sleep, shorter than the keepalive: nothing -----------------
lab_log "check: CLOCK_BOOTTIME +8 s (keepalive 5 s x 3 = 15 s) -> no reconnect within $QUIET_S s"
nb=$(n_bound)
nl=$(logins)
nr=$(n_resumed)
set_offset 608
lab_us; t_jump=$LAB_US
sleep "$QUIET_S"
lab_check "no new 'resumed after' line $(lab_since_us "$t_jump") s after an 8 s jump" \
    test "$(n_resumed)" = "$nr"
lab_check "no new bind of port $RPORT (still $nb)" test "$(n_bound)" = "$nb"
lab_check "no new login on the bastion (still $nl)" test "$(logins)" = "$nl"
lab_check "tether is still forwarding (state file)" test "$(state)" = forwarding
out=$(through_tunnel) || lab_fail "netload through the tunnel failed after the 8 s jump: $out"
lab_log "ok: after the 8 s jump, the same session: $out"

# ---- c. waiting to retry on a long timer: a resume cuts it short ----------
lab_log "check: bastion gone, tether waiting to retry (>= $((LEFT_NEEDED_MS / 1000)) s left), bastion back, CLOCK_BOOTTIME +10 s -> forward bound in < $((BOUND_LIMIT_MS / 1000)) s"
nb=$(n_bound)
ns=$(n_sched)
lab_us; t_kill=$LAB_US
lab_kill_bastion TERM
# Each new wait is timed when it shows in the log (polled every 50 ms);
# the first retry after a stable session is immediate (0.0 s).
n_seen=$ns wait_s='' wait_us=0 t_sched=''
end=$((SECONDS + 60))
while :; do
	n=$(n_sched)
	if [ "$n" -gt "$n_seen" ]; then
		lab_us; t_sched=$LAB_US
		waits=$(grep -oE 'reconnecting in [0-9]+\.[0-9] s' "$TETHER_LOG" |
		    tail -n $((n - n_seen)) | grep -oE '[0-9]+\.[0-9]' | paste -sd, -)
		n_seen=$n
		wait_s=$(last_wait)
		wait_us=$(( ${wait_s%.*} * 1000000 + ${wait_s#*.} * 100000 ))
		lab_log "tether scheduled retries in: $waits s ($(lab_since_us "$t_kill") s after the kill)"
	fi
	# Room for the bastion's restart (well under a second) on top.
	if [ -n "$t_sched" ]; then
		lab_us
		[ $((wait_us - (LAB_US - t_sched))) -ge $((LEFT_NEEDED_MS * 1000 + 2000000)) ] && break
	fi
	[ "$SECONDS" -lt "$end" ] ||
	    lab_fail "60 s after the bastion went away tether's last wait was ${wait_s:-none} s (needed one with >= $((LEFT_NEEDED_MS / 1000 + 2)) s left)"
	sleep 0.05
done
lab_restart_bastion
[ "$(state)" = waiting-to-retry ] ||
    lab_fail "the state file $STATE does not show waiting-to-retry: $(cat "$STATE" 2>&1)"
lab_check "port $RPORT is not bound while tether waits (no retry ran)" test "$(n_bound)" = "$nb"
nr=$(n_resumed)
set_offset 618
lab_us; t_jump=$LAB_US
left_ms=$(( (wait_us - (t_jump - t_sched)) / 1000 ))
left=$((left_ms / 1000)).$((left_ms % 1000 / 100))
[ "$left_ms" -ge "$LEFT_NEEDED_MS" ] ||
    lab_fail "only $left s were left on tether's $wait_s s retry timer at the jump (restarting the bastion took too long), needed $((LEFT_NEEDED_MS / 1000)) s"
lab_log "jump with $left s left on tether's $wait_s s retry timer"
resumed_and_bound 10 "$nr" "$nb"
t_bound_c=$T_BOUND
lab_log "measured: (c) 'resumed after' logged $T_RESUMED s, forward bound again $t_bound_c s after the jump; it cut short a $wait_s s retry wait with $left s left"
grep -E 'resumed|bound|reconnecting' "$TETHER_LOG" | tail -n 4 | sed "s/^/[$LAB_NAME]   tether: /"
lab_check "tether (pid $TETHER_PID) is still running" lab_alive "$TETHER_PID"

lab_stop "$TETHER_PID" TERM 10
[ "$LAB_RC" = 0 ] || lab_fail "tether exited with status $LAB_RC after SIGTERM, expected 0"
lab_pass "600 s jump -> bound again in $t_bound_a s; 8 s jump -> no reconnect; 10 s jump while waiting ($left s left of $wait_s s) -> bound again in $t_bound_c s"
