#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# sd_notify: a fake $NOTIFY_SOCKET (tests/tools/notify_listen, a unix
# datagram socket this test binds) must receive, in this order:
#   READY=1 (first forward bound), STATUS=forwarding ... (naming the port),
#   WATCHDOG=1 every WATCHDOG_USEC/2 (WATCHDOG_USEC=1000000: gaps printed,
#   each < 1 s), RELOADING=1 then READY=1 after SIGHUP, STOPPING=1 after
#   SIGTERM (nothing but STATUS= after it).
# Then: an abstract socket ("@name") gets READY=1 too, and with WATCHDOG_PID
# naming another process no WATCHDOG=1 is sent.
#
# usage: notify.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[notify] SKIP: sd_notify is tether's; nothing to check with LAB_TUNNEL=ssh"; exit 77; }
lab_init "$@"
export RUNTIME_DIRECTORY=$LAB_DIR/run
lab_find_tool notify_listen
NOTIFY_LISTEN=$LAB_TOOL

lab_start_bastion
lab_start_netload echo
RPORT=$(lab_free_port) || lab_fail "no free port"
RPORT2=$(lab_free_port) || lab_fail "no free port"

# start_listener OUT ADDRESS SECONDS: notify_listen -t in the background
# (sets LISTEN_PID), once it says it is bound.
start_listener() {
	lab_spawn "$1" "$NOTIFY_LISTEN" -t "$2" "$3"
	LISTEN_PID=$LAB_SPAWN_PID
	lab_wait_log "$1" '^listening ' 5 || lab_fail "notify_listen did not bind $2: $(cat "$1")"
}

# first_line FILE REGEX [AFTER]: the number of the first line of FILE after
# line AFTER (default 0) whose message matches REGEX; empty if none.
first_line() {
	awk -v re="$2" -v after="${3:-0}" \
	    'NR > after { msg = $0; sub(/^[0-9.]+ /, "", msg); if (msg ~ re) { print NR; exit } }' "$1"
}
msgs() { sed -n '2,$p' "$1" | sed "s/^/[$LAB_NAME]   notify: /"; }

# ---- the main sequence ---------------------------------------------------
OUT=$LAB_DIR/notify-main.out
SOCK=$LAB_DIR/notify.sock
start_listener "$OUT" "$SOCK" 40
export NOTIFY_SOCKET=$SOCK WATCHDOG_USEC=1000000
unset WATCHDOG_PID
lab_start_tether run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT"
unset NOTIFY_SOCKET WATCHDOG_USEC
lab_wait_forward "$RPORT" 30 || lab_fail "the forward of port $RPORT was not ready within 30 s"
lab_wait_log "$OUT" ' READY=1$' 5 || { msgs "$OUT"; lab_fail "no READY=1 within 5 s of the forward being bound"; }
# Watchdog pings for ~2 s.
lab_wait_log_count "$OUT" ' WATCHDOG=1$' 4 5 || { msgs "$OUT"; lab_fail "fewer than 4 WATCHDOG=1 within 5 s (WATCHDOG_USEC=1000000: one every 0.5 s)"; }

n_before_hup=$(wc -l <"$OUT")
kill -HUP "$TETHER_PID"
lab_wait_log "$TETHER_LOG" "SIGHUP: reloading" 5 || lab_fail "tether did not log the SIGHUP"
lab_wait_log_count "$OUT" ' READY=1$' 2 5 || { msgs "$OUT"; lab_fail "no second READY=1 within 5 s of SIGHUP"; }
sleep 0.7        # one more WATCHDOG=1 after the reload
n_before_term=$(wc -l <"$OUT")
lab_stop "$TETHER_PID" TERM 10
[ "$LAB_RC" = 0 ] || lab_fail "tether exited with status $LAB_RC after SIGTERM, expected 0"
sleep 0.2
lab_stop "$LISTEN_PID" TERM 5
msgs "$OUT"

l_ready=$(first_line "$OUT" '^READY=1$')
l_status=$(first_line "$OUT" "^STATUS=forwarding .*$RPORT->127\\.0\\.0\\.1:$TARGET_PORT" "$l_ready")
l_wd=$(first_line "$OUT" '^WATCHDOG=1$' "$l_status")
l_reload=$(first_line "$OUT" '^RELOADING=1$' "$n_before_hup")
l_ready2=$(first_line "$OUT" '^READY=1$' "$l_reload")
l_stop=$(first_line "$OUT" '^STOPPING=1$' "$n_before_term")
lab_log "lines: READY=1 $l_ready, STATUS=forwarding $l_status, WATCHDOG=1 $l_wd, RELOADING=1 $l_reload (HUP after line $n_before_hup), READY=1 $l_ready2, STOPPING=1 $l_stop (TERM after line $n_before_term)"
[ -n "$l_ready" ] || lab_fail "no READY=1"
[ -n "$l_status" ] || lab_fail "no 'STATUS=forwarding ... $RPORT->127.0.0.1:$TARGET_PORT' after READY=1"
[ -n "$l_wd" ] || lab_fail "no WATCHDOG=1 after the STATUS=forwarding line"
[ -n "$l_reload" ] || lab_fail "no RELOADING=1 after SIGHUP"
[ -n "$l_ready2" ] || lab_fail "no READY=1 after RELOADING=1"
[ -n "$l_stop" ] || lab_fail "no STOPPING=1 after SIGTERM"
[ "$(first_line "$OUT" '^READY=1$' "$((l_ready))")" = "$l_ready2" ] ||
    lab_fail "READY=1 was sent again between the first one and the reload"
[ "$(first_line "$OUT" '^STOPPING=1$')" = "$l_stop" ] || lab_fail "STOPPING=1 was sent before SIGTERM"
after_stop=$(awk -v n="$l_stop" 'NR > n { sub(/^[0-9.]+ /, ""); if ($0 !~ /^STATUS=/) print }' "$OUT")
[ -z "$after_stop" ] || lab_fail "sent after STOPPING=1: $after_stop"
lab_log "ok: READY=1 < STATUS=forwarding < WATCHDOG=1 < RELOADING=1 < READY=1 < STOPPING=1"

# The watchdog gaps (from notify_listen's timestamps), between READY=1 and
# STOPPING=1: each must stay under WATCHDOG_USEC (1 s), about 0.5 s.
gaps=$(awk -v a="$l_ready" -v b="$l_stop" 'NR > a && NR < b && $2 == "WATCHDOG=1" {
	if (prev != "") printf "%.3f\n", $1 - prev; prev = $1 }' "$OUT")
n_wd=$(printf '%s\n' "$gaps" | grep -c .)
read -r gmin gmax < <(printf '%s\n' "$gaps" | sort -n | sed -n '1p;$p' | tr '\n' ' ')
lab_log "measured: $((n_wd + 1)) WATCHDOG=1, gaps min $gmin s, max $gmax s (expected 0.5 s, each < 1 s)"
[ "$n_wd" -ge 4 ] || lab_fail "only $((n_wd + 1)) WATCHDOG=1 between READY=1 and STOPPING=1"
awk -v g="$gmax" 'BEGIN { exit !(g < 1.0) }' || lab_fail "a WATCHDOG=1 gap of $gmax s reached WATCHDOG_USEC (1 s)"
awk -v g="$gmin" 'BEGIN { exit !(g > 0.25) }' || lab_fail "WATCHDOG=1 gaps as short as $gmin s (expected every 0.5 s)"

# ---- an abstract socket, and WATCHDOG_PID naming another process ---------
lab_log "check: NOTIFY_SOCKET=@name (abstract) gets READY=1; WATCHDOG_PID=1 -> no WATCHDOG=1"
OUT2=$LAB_DIR/notify-abstract.out
ASOCK=@tether-lab-notify-$$-$RANDOM
start_listener "$OUT2" "$ASOCK" 30
export NOTIFY_SOCKET=$ASOCK WATCHDOG_USEC=1000000 WATCHDOG_PID=1
lab_start_tether run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$RPORT2:127.0.0.1:$TARGET_PORT"
unset NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID
lab_wait_log "$OUT2" ' READY=1$' 20 || { msgs "$OUT2"; lab_fail "no READY=1 on the abstract socket $ASOCK within 20 s"; }
sleep 1.6
lab_stop "$TETHER_PID" TERM 10
[ "$LAB_RC" = 0 ] || lab_fail "tether exited with status $LAB_RC after SIGTERM, expected 0"
sleep 0.2
lab_stop "$LISTEN_PID" TERM 5
msgs "$OUT2"
n_wd2=$(lab_log_count "$OUT2" ' WATCHDOG=1$')
[ "$n_wd2" = 0 ] || lab_fail "$n_wd2 WATCHDOG=1 sent although WATCHDOG_PID=1 names another process"
grep -q ' STOPPING=1$' "$OUT2" || lab_fail "no STOPPING=1 on the abstract socket"
lab_log "ok: abstract socket got READY=1 and STOPPING=1; no WATCHDOG=1 for another WATCHDOG_PID"

# ---- the watchdog keeps its pace while the bastion hangs -----------------
# A frozen bastion (listener and session stopped): the keepalive gives up,
# the next connect hangs in the handshake (the kernel accepts, sshd never
# speaks). A blocking connect would starve the loop and systemd would kill
# tether for a missed watchdog: every gap must stay < WATCHDOG_USEC.
lab_log "check: WATCHDOG=1 keeps coming every 0.5 s while the bastion is frozen (keepalive loss + hanging connect)"
OUT3=$LAB_DIR/notify-frozen.out
RPORT3=$(lab_free_port) || lab_fail "no free port"
start_listener "$OUT3" "$LAB_DIR/notify3.sock" 40
export NOTIFY_SOCKET=$LAB_DIR/notify3.sock WATCHDOG_USEC=1000000
unset WATCHDOG_PID
lab_start_tether run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$RPORT3:127.0.0.1:$TARGET_PORT" \
    -o keepalive_interval=1 -o keepalive_count=3 -o connect_timeout=10 \
    -o backoff_initial=0.2 -o backoff_max=0.5
unset NOTIFY_SOCKET WATCHDOG_USEC
lab_wait_forward "$RPORT3" 30 || lab_fail "the forward of port $RPORT3 was not ready within 30 s"
FROZEN=("$BASTION_PID")
while read -r p; do FROZEN+=("$p"); done < <(lab_bastion_sessions)
# shellcheck disable=SC2016  # expanded when the hook runs
lab_on_exit 'kill -CONT "${FROZEN[@]}" 2>/dev/null'
kill -STOP "${FROZEN[@]}"
n_conn=$(lab_log_count "$TETHER_LOG" "connecting to ")
lab_wait_log "$TETHER_LOG" "did not answer for" 6 ||
    { kill -CONT "${FROZEN[@]}"; lab_fail "no 'did not answer for' within 6 s of freezing the bastion"; }
lab_wait_log_count "$TETHER_LOG" "connecting to " $((n_conn + 1)) 5 ||
    { kill -CONT "${FROZEN[@]}"; lab_fail "tether did not try to connect again within 5 s"; }
sleep 2          # inside the hanging handshake
kill -CONT "${FROZEN[@]}"
lab_wait_log_count "$TETHER_LOG" "remote port $RPORT3 bound" 2 15 ||
    lab_log "note: port $RPORT3 not bound again within 15 s after SIGCONT (not checked here)"
lab_stop "$TETHER_PID" TERM 10
[ "$LAB_RC" = 0 ] || lab_fail "tether exited with status $LAB_RC after SIGTERM, expected 0"
sleep 0.2
lab_stop "$LISTEN_PID" TERM 5
grep -v ' WATCHDOG=1$' "$OUT3" | sed -n '2,$p' | sed "s/^/[$LAB_NAME]   notify: /"
read -r n_wd3 gmax3 < <(awk '$2 == "WATCHDOG=1" { n++; if (prev != "" && $1 - prev > m) m = $1 - prev; prev = $1 }
	END { printf "%d %.3f\n", n, m }' "$OUT3")
lab_log "measured: $n_wd3 WATCHDOG=1 over the freeze, largest gap $gmax3 s"
[ "$n_wd3" -ge 8 ] || lab_fail "only $n_wd3 WATCHDOG=1 during a run of more than 5 s"
awk -v g="$gmax3" 'BEGIN { exit !(g < 1.0) }' ||
    lab_fail "a WATCHDOG=1 gap of $gmax3 s while the bastion was frozen: the loop blocked (systemd would kill tether)"

lab_pass "READY, STATUS, WATCHDOG (gaps $gmin-$gmax s; $gmax3 s max while the bastion hung), RELOADING+READY, STOPPING in order"
