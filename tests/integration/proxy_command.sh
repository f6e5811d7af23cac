#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# ProxyCommand, as ssh runs it: the bastion is named by a host that does
# not resolve (bastion.invalid), so only the command can reach it: a small
# relay (socat, not ssh -W) to the real sshd, %h %p %r %n expanded. The
# forward binds and carries data; the command's stderr comes to the log a
# line at a time; when the relay dies tether reconnects through a new one
# and the old one is reaped (no zombie); when tether stops no relay is
# left. The same from ssh_config (ProxyCommand in a Host block, and
# ProxyCommand none to turn it off). ProxyJump: see proxy_jump.sh.
#
# usage: proxy_command.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[proxy_command] SKIP: tether's ProxyCommand"; exit 77; }
lab_init "$@"
command -v socat >/dev/null || lab_fail "socat is needed (apt-get install socat)"

lab_start_bastion
lab_start_netload echo
RPORT=$(lab_free_port) || lab_fail "no free port"
KH=$LAB_DIR/proxy_known_hosts
printf '[bastion.invalid]:%s %s\n' "$BASTION_PORT" "$BASTION_HOST_PUB" >"$KH"
MARK="relay-$$"
# The relay: says hello on stderr, then carries the session to the sshd.
RELAY="sh -c 'echo $MARK for %r@%h:%p >&2; exec socat - TCP:127.0.0.1:%p'"
# The relays themselves (not the shells that started them).
relays() { pgrep -f "^socat - TCP:127.0.0.1:$BASTION_PORT" | tr '\n' ' '; }

lab_log "check: the forward binds through the command, its stderr in the log"
lab_start_tether run -b "$LAB_USER@bastion.invalid:$BASTION_PORT" -s "$LAB_KEY" --known-hosts "$KH" \
    -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT" -o "proxy_command=$RELAY" -o backoff_initial=0.5
lab_wait_forward "$RPORT" 20 || lab_fail "no forward through the ProxyCommand: $(tail -n 5 "$TETHER_LOG")"
"$NETLOAD" -d 20 load "$RPORT" 2 65536 >/dev/null || lab_fail "an echo through the tunnel failed"
lab_wait_log "$TETHER_LOG" "ProxyCommand: $MARK for $LAB_USER@bastion.invalid:$BASTION_PORT" 5 ||
    lab_fail "the command's stderr (with %r@%h:%p expanded) is not in the log: $(cat "$TETHER_LOG")"

lab_log "check: the relay dies -> tether reconnects through a new one, the old one reaped"
old=$(relays)
[ -n "$old" ] || lab_fail "no relay process found"
# shellcheck disable=SC2086
kill -KILL $old
lab_wait_log "$TETHER_LOG" "remote port $RPORT bound" 1 || true
end=$((SECONDS + 20))
until [ "$(lab_log_count "$TETHER_LOG" "remote port $RPORT bound")" -ge 2 ]; do
	[ "$SECONDS" -lt "$end" ] || lab_fail "no second forward after the relay died: $(tail -n 5 "$TETHER_LOG")"
	sleep 0.1
done
"$NETLOAD" -d 20 load "$RPORT" 1 65536 >/dev/null || lab_fail "an echo through the new relay failed"
for p in $old; do
	[ -e "/proc/$p" ] && lab_fail "the dead relay $p was not reaped ($(cut -d' ' -f3 "/proc/$p/stat"))"
done

lab_log "check: tether stops -> no relay is left"
lab_stop "$TETHER_PID" TERM 10
sleep 0.2
[ -z "$(relays)" ] || lab_fail "relays outlived tether: $(relays)"

lab_log "check: ProxyCommand from ssh_config, and ProxyCommand none"
CFG=$LAB_DIR/ssh_config
cat >"$CFG" <<CONF
Host viarelay
    HostName bastion.invalid
    Port $BASTION_PORT
    User $LAB_USER
    ProxyCommand socat - TCP:127.0.0.1:%p
Host direct
    HostName 127.0.0.1
    Port $BASTION_PORT
    ProxyCommand none
CONF
lab_start_tether run -F "$CFG" -b viarelay -s "$LAB_KEY" --known-hosts "$KH" \
    -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT"
lab_wait_forward "$RPORT" 20 || lab_fail "no forward through ssh_config's ProxyCommand: $(tail -n 5 "$TETHER_LOG")"
lab_stop "$TETHER_PID" TERM 10
out=$("$LAB_TETHER" run --check -F "$CFG" -b direct -s "$LAB_KEY" --known-hosts "$BASTION_KNOWN_HOSTS" \
    -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT" 2>&1) || lab_fail "--check with ProxyCommand none failed: $out"
lab_has "$out" "ProxyCommand" && lab_fail "ProxyCommand none still gives a command: $out"
lab_pass "ProxyCommand reaches a bastion nothing else can: data flows, stderr logged, a dead relay replaced and reaped, none left after stop; from ssh_config too"
