#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The bastion as an alias of the user's ssh_config, as autossh users have
# it (`autossh -M 0 -N -R ... mybastion`): HostName, Port, User and
# IdentityFile come from the file (read with ssh -G, as ssh reads it, Host
# patterns and Match included). ssh -R through the alias works first (the
# lab is right); then tether -b mybastion, with no -s, binds its forward.
# Flags still win (-b otheruser@mybastion sends that user), and a ProxyJump
# there is taken, its jump host resolved through the same file.
# The session keys too, as ssh -G prints them: UserKnownHostsFile (no
# --known-hosts needed), StrictHostKeyChecking (accept-new taken, "no"
# refused with exit 3), ServerAliveInterval/CountMax as the keepalive,
# ConnectTimeout, ExitOnForwardFailure, and RemoteForward as the forwards
# when tether is given none (a dynamic one refused); run --check shows
# what the alias became, and tether's own -o still wins.
#
# usage: ssh_config_alias.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[ssh_config_alias] SKIP: compares tether with ssh itself"; exit 77; }
lab_init "$@"
command -v ssh >/dev/null || lab_skip "no OpenSSH client"

lab_start_bastion
lab_start_netload echo
CFG=$LAB_DIR/ssh_config
cat >"$CFG" <<CONF
Host mybastion
    HostName 127.0.0.1
    Port $BASTION_PORT
    User $LAB_USER
    IdentityFile $LAB_KEY
    UserKnownHostsFile $BASTION_KNOWN_HOSTS
Host jumpy
    HostName 127.0.0.1
    ProxyJump mybastion
Host fleet
    HostName 127.0.0.1
    Port $BASTION_PORT
    User $LAB_USER
    IdentityFile $LAB_KEY
    UserKnownHostsFile $BASTION_KNOWN_HOSTS
    StrictHostKeyChecking accept-new
    ServerAliveInterval 7
    ServerAliveCountMax 2
    ConnectTimeout 9
    ExitOnForwardFailure yes
    RemoteForward 127.0.0.1:@RPORT2@ 127.0.0.1:$TARGET_PORT
Host careless
    HostName 127.0.0.1
    StrictHostKeyChecking no
Host socks
    HostName 127.0.0.1
    RemoteForward 1080
CONF
RPORT=$(lab_free_port) || lab_fail "no free port"
RPORT2=$(lab_free_port) || lab_fail "no free port"
sed -i "s/@RPORT2@/$RPORT2/" "$CFG"

lab_log "check: ssh -R through the alias works"
out=$(timeout 20 ssh -F "$CFG" -o BatchMode=yes -o IdentityAgent=none mybastion echo alias-ok 2>&1) ||
    lab_fail "ssh mybastion failed: $out"
[ "$out" = alias-ok ] || lab_fail "ssh printed '$out'"

lab_log "check: tether -b mybastion (no -s) binds its forward"
lab_start_tether run -o ssh_config="$CFG" -b mybastion --known-hosts "$BASTION_KNOWN_HOSTS" \
    -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT"
lab_wait_forward "$RPORT" 20 || lab_fail "tether did not bind its forward through the alias: $(tail -n 3 "$TETHER_LOG")"
grep -q "connecting to $LAB_USER@127.0.0.1:$BASTION_PORT" "$TETHER_LOG" ||
    lab_fail "tether did not connect where ssh -G says: $(grep connecting "$TETHER_LOG")"
"$NETLOAD" -d 20 load "$RPORT" 1 65536 >/dev/null || lab_fail "an echo through the tunnel failed"
lab_stop "$TETHER_PID" TERM 10

lab_log "check: a user given with -b wins over the file's User"
lab_run_tether run -o ssh_config="$CFG" -b nosuchuser@mybastion --known-hosts "$BASTION_KNOWN_HOSTS" \
    -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT" -o connect_timeout=5
grep -q "connecting to nosuchuser@127.0.0.1:$BASTION_PORT" <<<"$LAB_OUT" ||
    lab_fail "-b nosuchuser@mybastion did not send that user: $LAB_OUT"

lab_log "check: ProxyJump in the file -> the jump host, resolved as ssh -G resolves it"
lab_run_tether run --check -o ssh_config="$CFG" -b jumpy -s "$LAB_KEY" --known-hosts "$BASTION_KNOWN_HOSTS" \
    -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT"
[ "$LAB_RC" = 0 ] || lab_fail "a ProxyJump bastion: run --check exited $LAB_RC: $LAB_OUT"
lab_has "$LAB_OUT" "through jump host $LAB_USER@127.0.0.1:$BASTION_PORT (mybastion), key $LAB_KEY" ||
    lab_fail "--check does not show the jump host mybastion resolved: $LAB_OUT"
lab_log "check: run --check shows what 'fleet' became, the values ssh -G gives"
G=$(ssh -G -F "$CFG" fleet)
g() { awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' <<<"$G"; }
lab_run_tether run --check -o ssh_config="$CFG" -b fleet
[ "$LAB_RC" = 0 ] || lab_fail "run --check -b fleet: exit $LAB_RC: $LAB_OUT"
for want in "bastion $(g user)@$(g hostname):$(g port), key $(g identityfile)" \
    "known_hosts $(g userknownhostsfile | cut -d' ' -f1) ($(g stricthostkeychecking))" \
    "keepalive every $(g serveraliveinterval) s, dead after $(g serveralivecountmax) unanswered; connect timeout $(g connecttimeout) s; exit on forward failure" \
    "forward 127.0.0.1:$RPORT2:127.0.0.1:$TARGET_PORT"; do
	grep -qxF "  $want" <<<"$LAB_OUT" || lab_fail "run --check does not say '$want' (ssh -G's values): $LAB_OUT"
done
lab_run_tether run --check -o ssh_config="$CFG" -b fleet -o keepalive_interval=30 --known-hosts /dev/null
grep -qF "keepalive every 30 s, dead after 3 unanswered" <<<"$LAB_OUT" &&
    grep -qF "known_hosts /dev/null (accept-new)" <<<"$LAB_OUT" ||
    lab_fail "tether's own -o keepalive_interval / --known-hosts did not win over ssh_config: $LAB_OUT"
lab_log "ok: --check says what ssh -G says for fleet; tether's own flags win"

lab_log "check: tether -b fleet, no -R, no --known-hosts: ssh_config's RemoteForward is bound"
lab_start_tether run -o ssh_config="$CFG" -b fleet
lab_wait_forward "$RPORT2" 20 ||
    lab_fail "ssh_config's RemoteForward $RPORT2 was not bound: $(tail -n 3 "$TETHER_LOG")"
"$NETLOAD" -d 20 load "$RPORT2" 1 65536 >/dev/null || lab_fail "an echo through ssh_config's forward failed"
lab_stop "$TETHER_PID" TERM 10

lab_log "check: StrictHostKeyChecking no, and a dynamic RemoteForward -> exit 3, named"
lab_run_tether run -o ssh_config="$CFG" -b careless -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT"
[ "$LAB_RC" = 3 ] && grep -q "StrictHostKeyChecking false for the bastion careless" <<<"$LAB_OUT" ||
    lab_fail "StrictHostKeyChecking no: exit $LAB_RC: $LAB_OUT"
lab_run_tether run -o ssh_config="$CFG" -b socks
[ "$LAB_RC" = 3 ] && grep -q "RemoteForward tether cannot carry" <<<"$LAB_OUT" ||
    lab_fail "a dynamic RemoteForward: exit $LAB_RC: $LAB_OUT"
lab_pass "ssh_config alias resolved as ssh -G does (HostName, Port, User, IdentityFile, known hosts, keepalive, timeouts, forwards); tether's flags win; ProxyJump resolved; StrictHostKeyChecking no and SOCKS refused"
