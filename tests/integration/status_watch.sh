#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# tether status --watch, for a tmux pane: it draws the table, and draws it
# again when a tunnel's state file changes — within a second (inotify),
# not at its 5-second refresh; SIGINT (Ctrl-C), SIGHUP (the terminal
# closed) and SIGTERM end it with exit 0 within a second; a reader that
# goes away (stdout closed) ends it too.
#
# usage: status_watch.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] && { echo "[status_watch] SKIP: tether's verb"; exit 77; }
lab_init "$@"
lab_private_home
lab_start_bastion
lab_start_netload echo
RPORT=$(lab_free_port) || lab_fail "no free port"
mkdir -p "$XDG_RUNTIME_DIR/tether"

# watcher: status --watch --user in the background, its output in WOUT.
watcher() {
	WOUT=$LAB_DIR/watch-$1.out
	"${LAB_PDEATH[@]}" "$LAB_TETHER" status --watch --user >"$WOUT" 2>&1 &
	WPID=$!
	lab__own "$WPID"
	lab_wait_log "$WOUT" "No tunnels|NAME" 5 || lab_fail "status --watch drew nothing: $(cat "$WOUT")"
}
# stops_on SIGNAL: the watcher exits 0 within a second of SIGNAL.
stops_on() {
	kill -"$1" "$WPID"
	lab_wait_pid "$WPID" 1 || lab_fail "status --watch still runs 1 s after SIG$1"
	[ "$LAB_RC" = 0 ] || lab_fail "status --watch exited $LAB_RC on SIG$1, expected 0"
}

watcher 1
sleep 0.5
lab_start_tether run --name watched -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" --state-dir "$XDG_RUNTIME_DIR/tether" \
    -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT"
lab_wait_forward "$RPORT" 20 || lab_fail "the forward was not bound"
lab_us; t0=$LAB_US
lab_wait_log "$WOUT" "^watched +user +[a-z]+ +forwarding " 3 ||
    lab_fail "status --watch did not draw the new tunnel forwarding: $(tail -n 3 "$WOUT")"
took=$(lab_since_us "$t0")
lab_us_lt "$t0" 1500 || lab_fail "the redraw took $took s: the 5 s refresh, not inotify"
lab_log "ok: the new tunnel appeared as forwarding $took s after it bound"
stops_on INT
lab_log "ok: Ctrl-C (SIGINT) ends it, exit 0"
watcher 2
stops_on HUP
watcher 3
stops_on TERM
lab_log "ok: SIGHUP (terminal closed) and SIGTERM end it, exit 0"

lab_us; t0=$LAB_US
timeout 15 "$LAB_TETHER" status --watch --user | head -n 1 >/dev/null
lab_us_lt "$t0" 12000 || lab_fail "status --watch did not end when its reader went away"
lab_pass "status --watch redraws on change (inotify) and ends cleanly"
