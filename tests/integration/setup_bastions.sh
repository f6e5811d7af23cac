#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Several bastions from setup to doctor: setup -b A -b B writes both (most
# preferred first) and copies each one's key into the tunnel's known_hosts;
# a second bastion whose key is unknown is refused by name, with the trust
# line to run; doctor checks every bastion and names the one that fails.
#
# usage: setup_bastions.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[setup_bastions] SKIP: setup is tether's"; exit 77; }
lab_init "$@"
lab_private_home

lab_start_bastion
lab_start_jump second
B_PORT=$JUMP_PORT B_PID=$JUMP_PID
lab_start_netload echo
A="$LAB_USER@127.0.0.1:$BASTION_PORT"
B="$LAB_USER@127.0.0.1:$B_PORT"
KH=$LAB_DIR/both_known_hosts
{ cat "$BASTION_KNOWN_HOSTS"; printf '[127.0.0.1]:%s %s\n' "$B_PORT" "$JUMP_HOST_PUB"; } >"$KH"
RPORT=$(lab_free_port) || lab_fail "no free port"
CONF=$HOME/.config/tether/$RPORT.conf

lab_log "check: trust -b A -b B records both bastions' keys"
KH3=$LAB_DIR/trusted_known_hosts
out=$("$LAB_TETHER" trust -b "$A" -b "$B" --known-hosts "$KH3" --yes 2>&1) || lab_fail "trust -b A -b B failed: $out"
for p in "$BASTION_PORT" "$B_PORT"; do
	lab_has "$out" "Recorded the bastion [127.0.0.1]:$p" || lab_fail "trust did not record 127.0.0.1:$p: $out"
done

lab_log "check: a second bastion not in known_hosts is refused by name"
out=$("$LAB_TETHER" setup --user -p "$RPORT" -b "$A" -b "$B" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" -t "127.0.0.1:$TARGET_PORT" 2>&1)
rc=$?
[ "$rc" = 5 ] || lab_fail "setup with B's key unknown: exit $rc, expected 5: $out"
lab_has "$out" "has no key for the bastion 127.0.0.1 port $B_PORT" || lab_fail "the refusal does not name B: $out"
lab_has "$out" "tether trust -b 127.0.0.1:$B_PORT" || lab_fail "the refusal does not say how to trust B: $out"
[ -e "$CONF" ] && lab_fail "a refused setup wrote $CONF"

lab_log "check: setup -b A -b B writes both, with both keys, and forwards on A"
out=$("$LAB_TETHER" setup --user -p "$RPORT" -b "$A" -b "$B" -s "$LAB_KEY" \
    --known-hosts "$KH" -t "127.0.0.1:$TARGET_PORT" 2>&1) || lab_fail "setup -b A -b B failed: $out"
grep -qx "bastion = $A, $B" "$CONF" || lab_fail "the config does not list both bastions: $(cat "$CONF")"
for p in "$BASTION_PORT" "$B_PORT"; do
	grep -q "^\[127.0.0.1\]:$p " "$HOME/.config/tether/$RPORT.known_hosts" ||
	    lab_fail "the tunnel's known_hosts lacks 127.0.0.1:$p: $(cat "$HOME/.config/tether/$RPORT.known_hosts")"
done
"$NETLOAD" -d 30 load "$RPORT" 2 65536 >/dev/null || lab_fail "an echo through the tunnel failed"

# Both lab bastions are this machine: while the tunnel holds the port on A,
# B cannot bind it here (in the field they are two machines).
DPID=$(cat "$XDG_RUNTIME_DIR/tether/$RPORT.pid") || lab_fail "no pidfile for the tunnel"
kill -TERM "$DPID"
end=$((SECONDS + 10))
while lab_port_open "$RPORT"; do
	[ "$SECONDS" -lt "$end" ] || lab_fail "port $RPORT still held 10 s after the tunnel stopped"
	sleep 0.1
done

lab_log "check: doctor checks both bastions"
out=$("$LAB_TETHER" doctor --user -p "$RPORT" 2>&1) || lab_fail "doctor with two healthy bastions failed: $out"
lab_has "$out" "bastion 1 of 2: 127.0.0.1 port $BASTION_PORT" || lab_fail "doctor does not check A: $out"
lab_has "$out" "bastion 2 of 2: 127.0.0.1 port $B_PORT" || lab_fail "doctor does not check B: $out"
[ "$(grep -c '^ok    auth:' <<<"$out")" = 2 ] || lab_fail "doctor did not sign in to both: $out"
[ "$(grep -c '^ok    forward ' <<<"$out")" = 2 ] || lab_fail "doctor did not check the forward on both: $out"

lab_log "check: B down -> doctor names B, A still checked"
lab_stop "$B_PID" TERM 5
out=$("$LAB_TETHER" doctor --user -p "$RPORT" 2>&1)
rc=$?
[ "$rc" = 1 ] || lab_fail "doctor with B down: exit $rc, expected 1: $out"
after_b=$(sed -n '/^bastion 2 of 2/,$p' <<<"$out")
lab_has "$after_b" "FAIL  reach: cannot reach the bastion 127.0.0.1 port $B_PORT" ||
    lab_fail "doctor does not name B as the one that fails: $out"
lab_has "$(sed -n '/^bastion 1 of 2/,/^bastion 2 of 2/p' <<<"$out")" "ok    auth:" ||
    lab_fail "doctor did not check A before B: $out"
out=$("$LAB_TETHER" remove --user -p "$RPORT" 2>&1) || lab_fail "remove failed: $out"
lab_pass "trust -b A -b B records both; setup -b A -b B: both written with their keys, an unknown one refused by name; doctor checks each and names the one down"
