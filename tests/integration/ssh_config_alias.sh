#!/usr/bin/env bash
# The bastion as an alias of the user's ssh_config, as autossh users have
# it (`autossh -M 0 -N -R ... mybastion`): HostName, Port, User and
# IdentityFile come from the file (read with ssh -G, as ssh reads it, Host
# patterns and Match included). ssh -R through the alias works first (the
# lab is right); then tether -b mybastion, with no -s, binds its forward.
# Flags still win (-b otheruser@mybastion sends that user), and a ProxyJump
# there is refused with exit 3, named, never ignored.
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
CONF
RPORT=$(lab_free_port) || lab_fail "no free port"

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

lab_log "check: ProxyJump in the file -> exit 3, named"
lab_run_tether run -o ssh_config="$CFG" -b jumpy --known-hosts "$BASTION_KNOWN_HOSTS" \
    -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT"
[ "$LAB_RC" = 3 ] || lab_fail "a ProxyJump bastion exited $LAB_RC, expected 3: $LAB_OUT"
grep -q "proxyjump (mybastion)" <<<"$LAB_OUT" || lab_fail "the error does not name the ProxyJump: $LAB_OUT"
lab_pass "ssh_config alias resolved as ssh -G does (HostName, Port, User, IdentityFile); -b's user wins; ProxyJump refused"
