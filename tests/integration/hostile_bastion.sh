#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# A hostile bastion: tests/tools/hostile_bastion (libssh's server API) grants
# tether's tcpip-forward, then misbehaves, one mode at a time. tether must
# refuse what it did not ask for, never crash, keep its forward working where
# the mode allows, and stay bounded:
#
#   open-session, open-x11, open-agent, open-unrequested
#       the bastion opens a channel tether never asked for: tether refuses it
#       (and says so), the session stays up, and a legit forwarded-tcpip
#       channel opened right after echoes through the real forward.
#   flood
#       3000 forwarded-tcpip opens as fast as possible, none closed, with
#       -o max_channels=64: at most 64 accepted, the rest refused ("refused a
#       connection on remote port"; one line each for the first 10 per 5 s,
#       then one line counting the rest: every refusal is accounted for),
#       fds <= baseline + 64 + 2 and RSS <=
#       baseline + HOSTILE_RSS_SLACK_KB while they are held; once the bastion
#       closes them the forward works again and the fds come back.
#   flood-dead-target
#       the same flood against a forward whose target refuses connections:
#       "cannot connect to the target" goes through the rate limiter too (at
#       most 10 lines per 5 s, then one line counting the rest).
#   ignore-keepalive
#       no global request is answered after the forward (TCP stays open):
#       with -o keepalive_interval=1 -o keepalive_count=3 tether gives up
#       within 1 x 3 + 1 s of the bastion's last packet, then reconnects.
#   ignore-requests-chatty
#       no global request is answered after the forward, but an
#       SSH_MSG_IGNORE comes every 0.3 s: alive (the silence check must not
#       fire), yet deaf. With keepalive 1 s x 3 and connect_timeout 3, the
#       keepalive sent at +1 s goes unanswered and tether gives up 3 s
#       later ("did not answer a keepalive request"), rather than let it
#       hold every later request forever; then reconnects.
#   reload-in-flight
#       the ignore-requests-chatty bastion, and tether run from a config
#       file: a reload adds a forward (its request is never answered), a
#       second reload removes it again while that request is in flight.
#       tether keeps the dropped forward until the answer, which never
#       comes: the request deadline (3 s; keepalive 2 s x 1, so the forward
#       is the request in flight) ends the session, and tether
#       reconnects with the remaining forward. (The dropped forward once
#       pointed into the freed old config: the ASan build caught it.)
#   close-mid-handshake
#       four connections dropped during the handshake (FIN after the version
#       exchange, RST after the client's KEXINIT, FIN after the client's ECDH
#       init, a stall after the KEXINIT): tether logs each, retries
#       (-o connect_timeout=3 ends the stall), and its forward then works.
#   window-overrun
#       64 MiB sent past the window tether granted on a forwarded channel
#       whose target (an echo server) is left unread: tether's RSS must stay
#       under baseline + HOSTILE_RSS_SLACK_KB, and it must let the connection
#       go once the bastion closes the channel.
#   window-overrun-many
#       the same on 256 channels at once (4 MiB past the window each): the
#       process-wide cap bites (a log line says so), RSS grows by no more
#       than HOSTILE_CAP_KB (384 MiB), the session survives (no reconnect)
#       and the legit echo after it works.
#   window-reopen
#       256 KiB through the echo target; the bastion lets tether use up the
#       64000-byte window it granted, waits 0.5 s, then reopens it (one
#       WINDOW_ADJUST): the rest of the echo must come back within 5 s.
#       (-o keepalive_interval=10, so a stalled connection shows how long
#       it waits for an unrelated event; OpenSSH's ssh -R takes ~1 ms.)
#
# Every mode runs even when an earlier one failed; the verdict lists them all.
#
# usage: hostile_bastion.sh TETHER_BINARY TESTS_BUILD_DIR
# env:   HOSTILE_MODES (default: all of the above, in that order)
#        HOSTILE_RSS_SLACK_KB (16384)
# Exit 77 when the hostile bastion cannot be built here (no libssh-dev).
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
lab_init "$@"

[ "$LAB_TUNNEL" = tether ] || lab_skip "these checks read tether's own log (LAB_TUNNEL=$LAB_TUNNEL)"

ALL_MODES="open-session open-x11 open-agent open-unrequested flood flood-dead-target ignore-keepalive ignore-requests-chatty reload-in-flight close-mid-handshake window-overrun window-overrun-many window-reopen"
read -r -a MODES <<<"${HOSTILE_MODES:-$ALL_MODES}"
SLACK_KB=${HOSTILE_RSS_SLACK_KB:-16384}
# ASan keeps freed memory in a quarantine (256 MiB by default): the plain
# build checks the memory bound; a sanitizer build checks everything else.
if lab_tether_sanitized && [ -z "${HOSTILE_RSS_SLACK_KB:-}" ]; then
	SLACK_KB=$((300 * 1024))
	lab_log "sanitizer build: RSS bounds relaxed to +$SLACK_KB KiB (ASan's quarantine)"
	[ -n "${HOSTILE_CAP_KB:-}" ] || HOSTILE_CAP_KB=$((768 * 1024))
	# 256 channels of traffic take the hostile bastion's 30 s phase limit
	# under ASan: the plain build checks 256; this one 64.
	SANITIZED_CHANNELS=64
fi
MAX_CHANNELS=64
FLOOD_OPENS=3000
OVERRUN_BYTES=$((64 << 20))
# window-overrun-many: 256 channels (max_channels) at once, 4 MiB past the
# window each; RSS may grow by what the process-wide cap lets libssh hold
# (32 MiB, then three shares of it a channel: 96 MiB, splice.c), libssh's
# buffer slack on it and 256 connections' own buffers: measured +306 MiB.
OVERRUN_CHANNELS=${SANITIZED_CHANNELS:-256}
OVERRUN_MANY_BYTES=$((4 << 20))
BASE_RSS_CAP_KB=${HOSTILE_CAP_KB:-$((384 * 1024))}

if [ -n "$LAB_BUILD" ] && [ -x "$LAB_BUILD/hostile_bastion" ]; then
	HOSTILE=$LAB_BUILD/hostile_bastion
else
	[ -f /usr/include/libssh/server.h ] ||
	    lab_skip "hostile_bastion is not built and libssh's headers are missing (apt-get install libssh-dev)"
	lab_find_tool hostile_bastion -lssh
	HOSTILE=$LAB_TOOL
fi

lab_start_netload echo
HB_KEY=$LAB_DIR/hostile_host_key
ssh-keygen -q -t ed25519 -N '' -C hostile-bastion -f "$HB_KEY" ||
    lab_fail "ssh-keygen (host key of the hostile bastion) failed"

FAILED=()
RESULTS=()
SKIPPED=()
mode=

# ---- helpers ------------------------------------------------------------

bad() {
	lab_log "FAIL ($mode): $*"
	FAILED+=("$mode: $*")
	return 1
}

note() {
	lab_log "ok ($mode): $*"
	RESULTS+=("$mode: $*")
}

# hb_start MODE ARGS...: the hostile bastion; sets HB_PID HB_PORT HB_LOG HB_KH.
hb_start() {
	local m=$1 end
	shift
	HB_LOG=$LAB_DIR/hostile-$mode.log
	lab_spawn "$HB_LOG" "$HOSTILE" -p 0 -k "$HB_KEY" -a "$LAB_KEY.pub" \
	    -m "$m" -d 150 "$@"
	HB_PID=$LAB_SPAWN_PID
	end=$((SECONDS + 10))
	HB_PORT=
	while [ -z "$HB_PORT" ] && [ "$SECONDS" -lt "$end" ]; do
		HB_PORT=$(sed -nE 's/.*listening on 127\.0\.0\.1:([0-9]+).*/\1/p' "$HB_LOG")
		lab_alive "$HB_PID" || break
		[ -n "$HB_PORT" ] || sleep 0.05
	done
	[ -n "$HB_PORT" ] || lab_fail "the hostile bastion ($m) did not start: $(cat "$HB_LOG")"
	HB_KH=$LAB_DIR/hostile_known_hosts
	printf '[127.0.0.1]:%s %s\n' "$HB_PORT" "$(cut -d' ' -f1,2 "$HB_KEY.pub")" >"$HB_KH"
	lab_log "hostile bastion ($m $*) pid $HB_PID on 127.0.0.1:$HB_PORT, log $HB_LOG"
}

# hb_tether ARGS...: tether against the hostile bastion, one forward to the
# echo server; sets RPORT (and TETHER_PID, TETHER_LOG).
hb_tether() {
	RPORT=$(lab_free_port) || lab_fail "no free port"
	lab_start_tether run -b "$LAB_USER@127.0.0.1:$HB_PORT" -s "$LAB_KEY" \
	    --known-hosts "$HB_KH" -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT" "$@"
}

# hb_stop: tether must still run and stop cleanly on SIGTERM; then the
# hostile bastion goes too. Returns 1 (after bad) if tether had died.
hb_stop() {
	local rc=0
	if ! lab_alive "$TETHER_PID"; then
		lab_wait_pid "$TETHER_PID" 1
		bad "tether died during the mode (status $LAB_RC): $(tail -n 3 "$TETHER_LOG")"
		rc=1
	else
		lab_stop "$TETHER_PID" TERM 10
		if [ "$LAB_RC" != 0 ]; then
			bad "tether exited with status $LAB_RC after SIGTERM (expected 0)"
			rc=1
		fi
	fi
	lab_stop "$HB_PID" TERM 5
	return "$rc"
}

# hb_t REGEX: the "+SECONDS" of the first hostile log line matching REGEX.
hb_t() {
	sed -nE "/$1/{s/^\[hostile \+([0-9.]+)\].*/\1/p;q}" "$HB_LOG"
}

# hb_verdict TIMEOUT: waits for the legit echo check of the hostile bastion;
# sets ECHO_LINE. Returns 1 (after bad) if it did not pass.
hb_echo_ok() {
	lab_wait_log "$HB_LOG" 'legit echo (ok|FAILED)' "$1" ||
	    { bad "no legit echo check within $1 s: $(tail -n 2 "$HB_LOG")"; return 1; }
	ECHO_LINE=$(grep -m1 -E 'legit echo (ok|FAILED)' "$HB_LOG")
	ECHO_LINE=${ECHO_LINE#*: }
	case $ECHO_LINE in
	*'legit echo ok'*) return 0 ;;
	esac
	bad "the real forward did not work: $ECHO_LINE"
}

# sample_until REGEX TIMEOUT: samples tether's RSS and fd count every 0.1 s
# until the hostile log matches REGEX; sets MAX_RSS MAX_FDS SAMPLES.
sample_until() {
	local end rss fds
	end=$((SECONDS + $2))
	MAX_RSS=0
	MAX_FDS=0
	SAMPLES=0
	while :; do
		rss=$(lab_rss_kb "$TETHER_PID") || return 1
		fds=$(lab_fd_count "$TETHER_PID") || return 1
		[ "$rss" -gt "$MAX_RSS" ] && MAX_RSS=$rss
		[ "$fds" -gt "$MAX_FDS" ] && MAX_FDS=$fds
		SAMPLES=$((SAMPLES + 1))
		grep -qE -- "$1" "$HB_LOG" && return 0
		[ "$SECONDS" -lt "$end" ] || return 2
		sleep 0.1
	done
}

# baseline: tether's RSS and fds once its forward is bound.
baseline() {
	lab_wait_log "$TETHER_LOG" "remote port $RPORT bound" 15 ||
	    { bad "the forward was not bound within 15 s: $(tail -n 3 "$TETHER_LOG")"; return 1; }
	sleep 0.3
	if ! BASE_RSS=$(lab_rss_kb "$TETHER_PID") ||
	    ! BASE_FDS=$(lab_fd_count "$TETHER_PID"); then
		bad "tether died before the misbehaviour"
		return 1
	fi
}

# fds_back TIMEOUT: until tether's fd count is back to BASE_FDS.
fds_back() {
	local end fds
	end=$((SECONDS + $1))
	while :; do
		fds=$(lab_fd_count "$TETHER_PID") || return 1
		[ "$fds" -le "$BASE_FDS" ] && return 0
		[ "$SECONDS" -lt "$end" ] || { FDS_NOW=$fds; return 1; }
		sleep 0.1
	done
}

# ---- the modes ------------------------------------------------------------

# mode_bogus TETHER_LOG_REGEX: the bastion opens a channel tether must refuse.
mode_bogus() {
	local pattern=$1 line
	hb_start "$mode"
	hb_tether
	hb_echo_ok 30
	local echo_ok=$?
	if grep -q 'BAD:' "$HB_LOG"; then
		bad "$(grep -m1 'BAD:' "$HB_LOG")"
	elif ! line=$(grep -m1 -E 'bogus .* refused by the client' "$HB_LOG"); then
		bad "the hostile bastion saw no refusal: $(tail -n 3 "$HB_LOG")"
	elif ! lab_wait_log "$TETHER_LOG" "$pattern" 5; then
		bad "tether's log does not say '$pattern'"
	elif grep -qE 'lost the bastion|reconnecting in' "$TETHER_LOG"; then
		bad "the session did not survive: $(grep -m1 -E 'lost the bastion|reconnecting in' "$TETHER_LOG")"
	elif [ "$echo_ok" = 0 ]; then
		note "refused (tether: \"$(grep -m1 -oE "${pattern}[^;]*" "$TETHER_LOG")\"; bastion: ${line#*: }); the session stayed up; then ${ECHO_LINE}"
	fi
	hb_stop
}

mode_flood() {
	local done_line accepted refused logged unlogged
	hb_start flood -n "$FLOOD_OPENS" -H 4 -w 1
	hb_tether -o max_channels=$MAX_CHANNELS
	baseline || { hb_stop; return; }
	sample_until 'flood: closed|FAIL' 40
	case $? in
	1) bad "tether died during the flood"; hb_stop; return ;;
	2) bad "the flood did not finish within 40 s: $(tail -n 2 "$HB_LOG")" ;;
	esac
	done_line=$(grep -m1 -E 'flood (done|stalled)' "$HB_LOG")
	accepted=$(sed -nE 's/.* ([0-9]+) accepted.*/\1/p' <<<"$done_line")
	refused=$(sed -nE 's/.* ([0-9]+) refused.*/\1/p' <<<"$done_line")
	logged=$(lab_log_count "$TETHER_LOG" "refused a connection on remote port $RPORT: .*max_channels")
	lab_log "flood: ${done_line#*: }; tether logged $logged refusals; baseline RSS $BASE_RSS KiB, $BASE_FDS fds; max RSS $MAX_RSS KiB, $MAX_FDS fds over $SAMPLES samples"
	local ok=1
	if [ -z "$accepted" ] || [ "$accepted" -gt "$MAX_CHANNELS" ]; then
		bad "tether accepted ${accepted:-?} channels, more than max_channels=$MAX_CHANNELS"
		ok=0
	fi
	[ "${refused:-0}" -ge $((FLOOD_OPENS - MAX_CHANNELS)) ] ||
	    { bad "only ${refused:-?} of the $FLOOD_OPENS opens were refused"; ok=0; }
	[ "$logged" -ge 1 ] ||
	    { bad "tether's log never says 'refused a connection on remote port $RPORT ... (max_channels)'"; ok=0; }
	# One line each for the first 10 per 5 s, then one line with the count.
	lab_wait_log "$TETHER_LOG" 'and [0-9]+ more channel\(s\) refused, not logged' 8 ||
	    { bad "tether never said how many refusals it did not log"; ok=0; }
	unlogged=$(grep -oE 'and [0-9]+ more channel\(s\) refused' "$TETHER_LOG" | awk '{ n += $2 } END { print n + 0 }')
	[ "$logged" -le 20 ] ||
	    { bad "tether logged $logged refusal lines for a 0.2 s flood; at most 10 per 5 s were expected"; ok=0; }
	[ $((logged + unlogged)) = "${refused:-0}" ] ||
	    { bad "tether accounts for $logged logged + $unlogged unlogged refusals, the bastion saw ${refused:-?}"; ok=0; }
	[ "$MAX_FDS" -le $((BASE_FDS + MAX_CHANNELS + 2)) ] ||
	    { bad "tether held $MAX_FDS fds, more than baseline $BASE_FDS + $MAX_CHANNELS + 2"; ok=0; }
	[ "$MAX_RSS" -le $((BASE_RSS + SLACK_KB)) ] ||
	    { bad "tether's RSS reached $MAX_RSS KiB, more than baseline $BASE_RSS + $SLACK_KB KiB"; ok=0; }
	hb_echo_ok 20 || ok=0
	fds_back 5 ||
	    { bad "tether still holds ${FDS_NOW:-?} fds 5 s after the flood's channels closed (baseline $BASE_FDS)"; ok=0; }
	[ "$ok" = 1 ] && note "${done_line#*: }; tether logged $logged refusal lines and counted $unlogged more in one; fds $BASE_FDS -> max $MAX_FDS (bound $((BASE_FDS + MAX_CHANNELS + 2))) -> back to $BASE_FDS; RSS $BASE_RSS -> max $MAX_RSS KiB (bound $((BASE_RSS + SLACK_KB))); then ${ECHO_LINE}"
	hb_stop
}

mode_flood_dead_target() {
	local dead saved=$TARGET_PORT logged unlogged accepted done_line
	dead=$(lab_free_port) || lab_fail "no free port"
	hb_start flood -n "$FLOOD_OPENS" -H 2 -w 1
	TARGET_PORT=$dead
	hb_tether -o max_channels=$MAX_CHANNELS
	TARGET_PORT=$saved
	lab_wait_log "$HB_LOG" 'flood: closed|FAIL' 40 || bad "the flood did not finish within 40 s"
	done_line=$(grep -m1 -E 'flood (done|stalled)' "$HB_LOG")
	accepted=$(sed -nE 's/.* ([0-9]+) accepted.*/\1/p' <<<"$done_line")
	local ok=1
	lab_wait_log "$TETHER_LOG" 'and [0-9]+ more connection line\(s\) not logged' 8 ||
	    { bad "tether never said how many connection lines it did not log"; ok=0; }
	logged=$(lab_log_count "$TETHER_LOG" "cannot connect to the target")
	unlogged=$(grep -oE 'and [0-9]+ more connection line\(s\)' "$TETHER_LOG" | awk '{ n += $2 } END { print n + 0 }')
	lab_log "flood against a dead target: ${done_line#*: }; tether logged $logged 'cannot connect' lines and counted $unlogged more"
	[ "$logged" -ge 1 ] || { bad "no 'cannot connect to the target' line at all"; ok=0; }
	[ "$logged" -le 20 ] ||
	    { bad "tether logged $logged 'cannot connect to the target' lines for a flood of under a second; at most 10 per 5 s were expected"; ok=0; }
	[ "$unlogged" -ge 1 ] || { bad "nothing was counted instead of logged"; ok=0; }
	[ "$ok" = 1 ] && note "${done_line#*: }; $logged 'cannot connect to the target' lines, $unlogged more counted in one line"
	hb_stop
}

# hb_dropped WHAT PATTERN MIN MAX: tether gives up on the bastion (PATTERN
# in its log within 20 s), MIN to MAX s after the first grant (timed from
# the hostile log: sets TOOK), then reconnects and gets its forward back.
# Returns 1 (after bad) otherwise.
hb_dropped() {
	local what=$1 pattern=$2 min=$3 max=$4 t_grant t_end
	TOOK=
	if ! lab_wait_log "$TETHER_LOG" "$pattern" 20; then
		bad "tether did not give up on the $what bastion within 20 s: $(tail -n 2 "$TETHER_LOG")"
		return 1
	fi
	lab_wait_log "$HB_LOG" 'conn 1: connection ended' 10
	t_grant=$(hb_t 'conn 1: granted tcpip-forward')
	t_end=$(hb_t 'conn 1: connection ended')
	if [ -z "$t_grant" ] || [ -z "$t_end" ]; then
		bad "cannot time the detection from the hostile log"
		return 1
	fi
	TOOK=$(awk -v a="$t_grant" -v b="$t_end" 'BEGIN { printf "%.3f", b - a }')
	if ! awk -v t="$TOOK" -v lo="$min" -v hi="$max" 'BEGIN { exit !(t >= lo && t <= hi) }'; then
		bad "tether dropped the $what bastion $TOOK s after the grant; expected $min to $max s"
		return 1
	fi
	lab_wait_log "$HB_LOG" 'conn 2: granted tcpip-forward' 15 ||
	    { bad "tether did not reconnect and get its forward back within 15 s"; return 1; }
}

mode_ignore_keepalive() {
	hb_start ignore-keepalive
	hb_tether -o keepalive_interval=1 -o keepalive_count=3
	# Silent from the grant on: interval 1 x count 3, plus a second.
	hb_dropped silent 'did not answer for' 2.5 4 &&
	    note "silent bastion dropped $TOOK s after its last packet (limit 4 s): \"$(grep -m1 -oE 'bastion [^ ]+ did not answer[^;]*' "$TETHER_LOG")\"; reconnected, forward granted again at +$(hb_t 'conn 2: granted tcpip-forward') s"
	hb_stop
}

mode_ignore_requests_chatty() {
	local ok=1
	hb_start ignore-requests-chatty
	hb_tether -o keepalive_interval=1 -o keepalive_count=3 -o connect_timeout=3
	# The keepalive goes at +1 s; unanswered, it is given 3 s.
	hb_dropped deaf 'did not answer a keepalive request for 3 s' 3.5 5.5 || ok=0
	if grep -q 'did not answer for' "$TETHER_LOG"; then
		bad "the silence check fired although the bastion sent a packet every 0.3 s"
		ok=0
	fi
	[ "$ok" = 1 ] && note "deaf but chatty bastion dropped $TOOK s after the grant: \"$(grep -m1 -oE 'bastion [^ ]+ did not answer a [^(]*[^ (]' "$TETHER_LOG")\"; the silence check never fired; forward granted again at +$(hb_t 'conn 2: granted tcpip-forward') s"
	hb_stop
}

mode_reload_in_flight() {
	local conf=$LAB_DIR/reload.conf extra ok=1
	extra=$(lab_free_port) || lab_fail "no free port"
	RPORT=$(lab_free_port) || lab_fail "no free port"
	hb_start ignore-requests-chatty
	# conf FORWARD...: the tunnel's config file, written whole (a rename).
	conf() {
		{
			printf '[tunnel]\nbastion = %s@127.0.0.1:%s\nkey = %s\n' "$LAB_USER" "$HB_PORT" "$LAB_KEY"
			printf 'known_hosts = %s\nkeepalive_interval = 2\nkeepalive_count = 1\nconnect_timeout = 3\n' "$HB_KH"
			printf 'forward = %s\n' "$@"
		} >"$conf.new" && mv "$conf.new" "$conf"
	}
	conf "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT"
	lab_start_tether run -c "$conf"
	lab_wait_log "$HB_LOG" 'conn 1: granted tcpip-forward' 15 || { bad "no first forward: $(tail -n 2 "$TETHER_LOG")"; hb_stop; return; }
	# The bastion turns deaf 0.2 s after the grant; the keepalive is due
	# at 2 s: the added forward's request must be the one in flight.
	sleep 0.5
	conf "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT" "127.0.0.1:$extra:127.0.0.1:$TARGET_PORT"
	kill -HUP "$TETHER_PID"
	lab_wait_log "$TETHER_LOG" "forward 127.0.0.1:$extra:.* added" 5 || { bad "the reload did not add port $extra"; ok=0; }
	lab_wait_log "$HB_LOG" "conn 1: ignored global request" 5 || { bad "the added forward's request did not reach the bastion"; ok=0; }
	conf "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT"
	kill -HUP "$TETHER_PID"
	lab_wait_log "$TETHER_LOG" 'did not answer a forward request for 3 s' 10 ||
	    { bad "tether did not give up on the unanswered request within 10 s: $(tail -n 2 "$TETHER_LOG")"; ok=0; }
	lab_wait_log "$HB_LOG" 'conn 2: granted tcpip-forward' 15 ||
	    { bad "tether did not reconnect with its remaining forward within 15 s"; ok=0; }
	grep -q "conn 2: granted tcpip-forward .*$extra" "$HB_LOG" &&
	    { bad "the removed forward (port $extra) was asked for again after the reconnect"; ok=0; }
	lab_alive "$TETHER_PID" || { bad "tether died: $(tail -n 3 "$TETHER_LOG")"; ok=0; }
	[ "$ok" = 1 ] && note "a forward added, then removed while its request was unanswered: \"$(grep -m1 -oE 'did not answer a [^(]*[^ (]' "$TETHER_LOG")\"; reconnected with port $RPORT only"
	hb_stop
}

mode_close_mid_handshake() {
	local drops errors timeouts stall t_up
	hb_start close-mid-handshake -n 4 -H 20
	hb_tether -o connect_timeout=3
	hb_echo_ok 60
	local echo_ok=$?
	drops=$(lab_log_count "$HB_LOG" 'drop kind')
	errors=$(lab_log_count "$TETHER_LOG" 'cannot connect to the bastion')
	timeouts=$(lab_log_count "$TETHER_LOG" 'took longer than 3 s \(connect_timeout\)')
	stall=$(grep -m1 -oE 'the client gave up after [0-9.]+ s' "$HB_LOG")
	t_up=$(hb_t 'conn 5: granted tcpip-forward')
	lab_log "drops $drops, tether errors $errors, handshake timeouts $timeouts, stall: ${stall:-none}"
	local ok=1
	[ "$drops" = 4 ] || { bad "the hostile bastion dropped $drops connections, expected 4"; ok=0; }
	[ "$errors" -ge 3 ] || { bad "tether logged $errors 'cannot connect to the bastion' lines for 3 dropped handshakes"; ok=0; }
	if [ "$timeouts" -lt 1 ] || [ -z "$stall" ]; then
		bad "the stalled handshake did not end with tether's connect_timeout (timeouts logged: $timeouts, ${stall:-no stall end})"
		ok=0
	elif ! awk -v s="${stall##* after }" 'BEGIN { exit !(s + 0 <= 4.0) }'; then
		bad "tether waited ${stall##* after } on the stalled handshake (connect_timeout 3)"
		ok=0
	fi
	[ "$echo_ok" = 0 ] || ok=0
	[ "$ok" = 1 ] && note "4 handshakes dropped (FIN, RST, FIN after ECDH init, stall); tether logged $errors errors + $timeouts connect_timeout ($stall), retried with backoff, forward granted at +$t_up s; then ${ECHO_LINE}"
	hb_stop
}

mode_window_overrun() {
	local line past growth
	hb_start window-overrun -b "$OVERRUN_BYTES" -H 3 -w 1
	hb_tether
	baseline || { hb_stop; return; }
	sample_until 'window-overrun: closing the channel|UNSUPPORTED|FAIL' 60
	case $? in
	1) bad "tether died during the overrun"; hb_stop; return ;;
	2) bad "the overrun did not finish within 60 s: $(tail -n 2 "$HB_LOG")" ;;
	esac
	if grep -q UNSUPPORTED "$HB_LOG"; then
		SKIPPED+=("$mode: $(grep -m1 UNSUPPORTED "$HB_LOG" | sed 's/.*UNSUPPORTED: //')")
		lab_log "skip ($mode): the hostile bastion cannot overrun a window with this libssh"
		hb_stop
		return
	fi
	line=$(grep -m1 -E 'window-overrun (done|stopped)' "$HB_LOG")
	past=$(sed -nE 's/.* ([0-9]+) past the window.*/\1/p' <<<"$line")
	growth=$((MAX_RSS - BASE_RSS))
	lab_log "overrun: ${line#*: }; RSS baseline $BASE_RSS KiB, max $MAX_RSS KiB (+$growth KiB) over $SAMPLES samples"
	local ok=1
	[ "$MAX_RSS" -le $((BASE_RSS + SLACK_KB)) ] ||
	    { bad "tether's RSS grew by $growth KiB (to $MAX_RSS) while the bastion sent ${past:-?} bytes past the window: it buffers what it never granted (bound: baseline + $SLACK_KB KiB)"; ok=0; }
	hb_echo_ok 20 || ok=0
	lab_wait_log "$HB_LOG" 'script done' 5
	fds_back 5 ||
	    { bad "5 s after the bastion closed the overrun channel tether still holds ${FDS_NOW:-?} fds (baseline $BASE_FDS): the connection to the target is never released"; ok=0; }
	[ "$ok" = 1 ] && note "${line#*: }; RSS $BASE_RSS -> max $MAX_RSS KiB (bound $((BASE_RSS + SLACK_KB))); then ${ECHO_LINE}; fds back to $BASE_FDS"
	hb_stop
}

mode_window_overrun_many() {
	local line growth bound=$((BASE_RSS_CAP_KB))
	hb_start window-overrun -C "$OVERRUN_CHANNELS" -b "$OVERRUN_MANY_BYTES" -H 3 -w 1 -d 200
	hb_tether
	baseline || { hb_stop; return; }
	sample_until 'window-overrun: closing the channels|UNSUPPORTED|FAIL' 120
	case $? in
	1) bad "tether died during the overrun of $OVERRUN_CHANNELS channels"; hb_stop; return ;;
	2) bad "the overrun did not finish within 120 s: $(tail -n 2 "$HB_LOG")" ;;
	esac
	if grep -q UNSUPPORTED "$HB_LOG"; then
		SKIPPED+=("$mode: $(grep -m1 UNSUPPORTED "$HB_LOG" | sed 's/.*UNSUPPORTED: //')")
		hb_stop
		return
	fi
	line=$(grep -m1 -E 'window-overrun (done|stopped)' "$HB_LOG")
	growth=$((MAX_RSS - BASE_RSS))
	lab_log "overrun of $OVERRUN_CHANNELS channels: ${line#*: }; RSS baseline $BASE_RSS KiB, max $MAX_RSS KiB (+$growth KiB) over $SAMPLES samples"
	local ok=1 capped
	[ "$growth" -le "$bound" ] ||
	    { bad "tether's RSS grew by $growth KiB over $OVERRUN_CHANNELS overrun channels (bound +$bound KiB: the process-wide cap)"; ok=0; }
	capped=$(grep -c "past tether's cap of" "$TETHER_LOG")
	[ "$capped" -gt 0 ] || { bad "no log line says the process-wide cap bit"; ok=0; }
	grep -q "past the channel's window" "$TETHER_LOG" || lab_log "note: no channel reached its own limit before the cap"
	hb_echo_ok 20 || ok=0
	[ "$(grep -c 'connecting to' "$TETHER_LOG")" = 1 ] ||
	    { bad "the session did not survive the overrun (it reconnected)"; ok=0; }
	[ "$ok" = 1 ] && note "$OVERRUN_CHANNELS channels overrun: RSS $BASE_RSS -> max $MAX_RSS KiB (+$growth, bound +$bound); cap hit $capped time(s); same session, then ${ECHO_LINE}"
	hb_stop
}

mode_window_reopen() {
	local took
	hb_start window-reopen -e 262144 -H 0.5
	hb_tether -o keepalive_interval=10
	lab_wait_log "$HB_LOG" 'window-reopen: channel|UNSUPPORTED|FAIL' 15
	if grep -q UNSUPPORTED "$HB_LOG"; then
		SKIPPED+=("$mode: $(grep -m1 UNSUPPORTED "$HB_LOG" | sed 's/.*UNSUPPORTED: //')")
		hb_stop
		return
	fi
	if ! lab_wait_log "$HB_LOG" 'legit echo (ok|FAILED)' 20; then
		bad "the echo did not finish within 20 s: $(tail -n 2 "$HB_LOG")"
		hb_stop
		return
	fi
	ECHO_LINE=$(grep -m1 -E 'legit echo (ok|FAILED)' "$HB_LOG")
	ECHO_LINE=${ECHO_LINE#*: }
	took=$(sed -nE 's/.*legit echo ok: .* in ([0-9.]+) s$/\1/p' <<<"$ECHO_LINE")
	if [ -z "$took" ]; then
		bad "the echo failed after the window reopened: $ECHO_LINE"
	elif ! awk -v t="$took" 'BEGIN { exit !(t <= 5) }'; then
		bad "after the bastion reopened the window, the rest of the echo took $took s (limit 5 s): the connection stayed parked until an unrelated event (keepalive_interval 10 s)"
	else
		note "the rest of the echo came back $took s after the window reopened"
	fi
	hb_stop
}

# ---- run ------------------------------------------------------------------

for mode in "${MODES[@]}"; do
	lab_log "==== mode $mode"
	case $mode in
	open-session) mode_bogus 'refused a session channel the bastion tried to open' ;;
	open-x11) mode_bogus 'refused a x11 channel the bastion tried to open' ;;
	open-agent) mode_bogus 'refused a auth-agent channel the bastion tried to open' ;;
	open-unrequested) mode_bogus 'refused a connection for remote port [0-9]+, which this tunnel does not forward' ;;
	flood) mode_flood ;;
	ignore-keepalive) mode_ignore_keepalive ;;
	ignore-requests-chatty) mode_ignore_requests_chatty ;;
	reload-in-flight) mode_reload_in_flight ;;
	close-mid-handshake) mode_close_mid_handshake ;;
	window-overrun) mode_window_overrun ;;
	window-overrun-many) mode_window_overrun_many ;;
	flood-dead-target) mode_flood_dead_target ;;
	window-reopen) mode_window_reopen ;;
	*) lab_fail "unknown mode '$mode' in HOSTILE_MODES (known: $ALL_MODES)" ;;
	esac
done

lab_log "==== summary"
for r in "${RESULTS[@]}"; do lab_log "PASS $r"; done
for r in "${SKIPPED[@]}"; do lab_log "SKIP $r"; done
for r in "${FAILED[@]}"; do lab_log "FAIL $r"; done
[ "${#FAILED[@]}" = 0 ] || lab_fail "${#FAILED[@]} check(s) failed (see above)"
[ "${#RESULTS[@]}" -gt 0 ] || lab_skip "no mode could run here: ${SKIPPED[*]}"
lab_pass "${#RESULTS[@]} mode(s) passed${SKIPPED:+, ${#SKIPPED[@]} skipped}"
