#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# A host key that changes under a running tunnel, then is fixed: the
# bastion restarts with a new host key, so tether refuses it and waits
# (state refused, refused_retry_interval 60 s); the admin puts the new key
# in the tunnel's known_hosts (a temp file renamed over it, as editors and
# tether trust do). tether must notice the file change and connect again
# at once: the forward is back within 5 s, not 60 (or the old 300), with
# no signal sent. Then the bastion is re-keyed once more and the fix is
# `tether trust -p PORT --user --yes`, which replaces the old key in the
# tunnel's own known_hosts (one line left): the watcher, re-armed on the
# file the first fix renamed into place, heals the tunnel again as fast.
#
# usage: host_key_heal.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[host_key_heal] SKIP: ssh exits on a changed host key; the wait is tether's"; exit 77; }
lab_init "$@"
export RUNTIME_DIRECTORY=$LAB_DIR/run
HEAL_LIMIT=5

lab_private_home
lab_start_bastion
lab_start_netload echo
RPORT=$(lab_free_port) || lab_fail "no free port"
# A tunnel as setup --user leaves it: ~/.config/tether/PORT.conf and its own
# PORT.known_hosts (tether trust -p PORT --user finds both).
mkdir -p "$HOME/.config/tether"
KH=$HOME/.config/tether/$RPORT.known_hosts
CONF=$HOME/.config/tether/$RPORT.conf
cp "$BASTION_KNOWN_HOSTS" "$KH"
cat >"$CONF" <<CONF
[tunnel]
name = $RPORT
bastion = $LAB_USER@127.0.0.1:$BASTION_PORT
key = $LAB_KEY
known_hosts = $KH
forward = 127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT
backoff_initial = 0.2
backoff_max = 1
keepalive_interval = 1
keepalive_count = 2
CONF
lab_start_tether run -c "$CONF"
lab_wait_forward "$RPORT" 30 || lab_fail "the forward was not ready within 30 s"

# rekey_bastion N: the bastion restarts with a new host key; the tunnel
# must refuse it (its Nth refusal) and keep running.
rekey_bastion() {
	lab_kill_bastion TERM
	ssh-keygen -q -t ed25519 -N '' -C rotated -f "$BASTION_HOST_KEY" <<<y >/dev/null 2>&1 ||
	    lab_fail "ssh-keygen could not make the new host key"
	lab_restart_bastion
	lab_wait_log_count "$TETHER_LOG" "changed.*asking again in 60 s .*as soon as known_hosts changes" "$1" 20 ||
	    lab_fail "tether did not log the changed key and its wait: $(tail -n 3 "$TETHER_LOG")"
	sleep 1
	lab_check "the tunnel still runs, refusing the new key" lab_alive "$TETHER_PID"
}

lab_log "check: the bastion comes back with a new host key -> refused, waiting"
rekey_bastion 1

lab_log "check: the new key put in $KH -> the forward is back within $HEAL_LIMIT s"
lab_us; t_fix=$LAB_US
printf '[127.0.0.1]:%s %s\n' "$BASTION_PORT" "$(cut -d' ' -f1,2 "$BASTION_HOST_KEY.pub")" >"$KH.new"
mv "$KH.new" "$KH"
lab_wait_log "$TETHER_LOG" "known_hosts changed: connecting again now" 5 ||
    lab_fail "tether did not notice that $KH changed: $(tail -n 3 "$TETHER_LOG")"
n=$(lab_log_count "$TETHER_LOG" "remote port $RPORT bound")
lab_wait_log_count "$TETHER_LOG" "remote port $RPORT bound" $((n + 1)) "$HEAL_LIMIT" ||
    lab_fail "port $RPORT was not bound again within $HEAL_LIMIT s of the fix"
took=$(lab_since_us "$t_fix")
lab_wait_tcp "$RPORT" 5 || lab_fail "port $RPORT does not accept connections after the fix"

lab_log "check: re-keyed again; 'tether trust -p $RPORT --user --yes' replaces the key -> back within $HEAL_LIMIT s"
OLDKEY=$(cut -d' ' -f1,2 "$BASTION_HOST_KEY.pub")
rekey_bastion 2
NEWKEY=$(cut -d' ' -f1,2 "$BASTION_HOST_KEY.pub")
n=$(lab_log_count "$TETHER_LOG" "remote port $RPORT bound")
lab_us; t_trust=$LAB_US
lab_cmd "$LAB_TETHER" trust -p "$RPORT" --user --yes
if [ "$RC" != 0 ] || ! lab_has "$OUT" "Replaced the key of the bastion [127.0.0.1]:$BASTION_PORT in $KH"; then
	lab_show_cmd
	lab_fail "tether trust -p $RPORT --user --yes: exit $RC"
fi
grep -qF "$NEWKEY" "$KH" || lab_fail "trust -p did not record the new key in $KH: $(cat "$KH")"
grep -qF "$OLDKEY" "$KH" && lab_fail "trust -p left the old key in $KH: $(cat "$KH")"
[ "$(grep -c . "$KH")" = 1 ] || lab_fail "$KH should hold one line now: $(cat "$KH")"
lab_wait_log_count "$TETHER_LOG" "known_hosts changed: connecting again now" 2 5 ||
    lab_fail "tether did not notice trust -p's change to $KH: $(tail -n 3 "$TETHER_LOG")"
lab_wait_log_count "$TETHER_LOG" "remote port $RPORT bound" $((n + 1)) "$HEAL_LIMIT" ||
    lab_fail "port $RPORT was not bound again within $HEAL_LIMIT s of trust -p"
took2=$(lab_since_us "$t_trust")
lab_wait_tcp "$RPORT" 5 || lab_fail "port $RPORT does not accept connections after trust -p"

lab_stop "$TETHER_PID" TERM 10
lab_pass "refused the rotated key, reconnected $took s after known_hosts was fixed, $took2 s after trust -p"
