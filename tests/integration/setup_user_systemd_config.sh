#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The user unit and its configuration, under a REAL `systemd --user` manager
# (tests/lib/user_manager.sh), two behaviours checked independently (a
# failure is recorded, the other still runs, all are reported):
#  - XDG_CONFIG_HOME: a user whose login shell exports it (the manager, as
#    usual, does not have it) runs setup --user; the tunnel must come up
#    (unit active, a real ssh through it works);
#  - a configuration error: the unit's config gets a bad value (as an edit
#    by hand would); exit 3 is in RestartPreventExitStatus, so the unit must
#    end "failed" without restarts rather than retry every RestartSec.
# Skips (77) as setup_user_systemd.sh does.
#
# usage: setup_user_systemd_config.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/user_manager.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/user_manager.sh"
um_enter_namespace "$@"
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
lab_init "$@"
lab_tether_sanitized &&
    lab_skip "a sanitizer build cannot run inside the unit's sandbox (LeakSanitizer needs ptrace, which SystemCallFilter= forbids); the plain build runs this test"
um_start

# The lab's command runner and checks, by their short names.
t() { lab_cmd "$@"; }
show() { lab_show_cmd; }
FAILED=()
failed_check() { FAILED+=("$1"); lab_log "FAILED CHECK: $1"; }

lab_start_bastion
lab_start_workstation
um_give_key
BASTION="$LAB_USER@127.0.0.1:$BASTION_PORT"

# ---- XDG_CONFIG_HOME set in the user's shell ---------------------------------
XPORT=$(lab_free_port) || lab_fail "no free port"
XUNIT=tether@$XPORT.service
XCFG=$THOME/.xdg-config
install -o "$TUID" -g "$TGID" -m 700 -d "$XCFG"
t "${AS_USER[@]}" XDG_CONFIG_HOME="$XCFG" "$TETHER" setup --user --wait 8 -p "$XPORT" \
    -b "$BASTION" -s "$THOME/.ssh/id_tunnel" -t "127.0.0.1:$WS_PORT"
xrc=$RC
xout=$(printf '%s %s' "$OUT" "$ERR" | tr '\n' ' ')
xstate=$(uctl show -p ActiveState,SubState --value -- "$XUNIT" 2>/dev/null | tr '\n' '/')
xssh=
[ "$xrc" = 0 ] && xssh=$(lab_ssh_through "$XPORT" 'echo xdg-ok' 2>&1)
"${AS_USER[@]}" XDG_CONFIG_HOME="$XCFG" "$TETHER" remove --user -p "$XPORT" >/dev/null 2>&1
if [ "$xrc" = 0 ] && [ "$xstate" = active/running/ ] && [ "$xssh" = xdg-ok ]; then
	lab_log "ok: with XDG_CONFIG_HOME set, setup --user brings $XUNIT up and ssh goes through"
else
	failed_check "XDG_CONFIG_HOME=$XCFG: setup --user exits $xrc, $XUNIT is '$xstate': $xout"
fi

# ---- a configuration error is not retried forever -----------------------------
CPORT=$(lab_free_port) || lab_fail "no free port"
CUNIT=tether@$CPORT.service
t "${AS_USER[@]}" "$TETHER" setup --user --no-start -p "$CPORT" -b "$BASTION" \
    -s "$THOME/.ssh/id_tunnel" -t "127.0.0.1:$WS_PORT"
[ "$RC" = 0 ] || { show; lab_fail "setup --user --no-start: exit $RC"; }
printf 'keepalive_interval = banana\n' >>"$THOME/.config/tether/$CPORT.conf"
t "${AS_USER[@]}" "$TETHER" run --check -c "$THOME/.config/tether/$CPORT.conf"
[ "$RC" = 3 ] || { show; lab_fail "run --check of the broken config: exit $RC, expected 3"; }
uctl start --no-block -- "$CUNIT"
end=$((SECONDS + 10))
while [ "$SECONDS" -lt "$end" ]; do
	[ "$(uctl show -p ActiveState --value -- "$CUNIT")" = failed ] && break
	sleep 0.2
done
sleep 1
cstate=$(uctl show -p ActiveState,SubState,Result,NRestarts -- "$CUNIT" | sort | tr '\n' ' ')
cstatus=$(uctl status --no-pager -- "$CUNIT" 2>&1 | grep -E 'Active:|Process:' | tr -s ' ' | tr '\n' ' ')
"${AS_USER[@]}" "$TETHER" remove --user -p "$CPORT" >/dev/null 2>&1
case $cstate in
"ActiveState=failed NRestarts=0 "*) lab_log "ok: a config error (exit 3) fails the unit without restarts: $cstate" ;;
*) failed_check "a config error (exit 3) should leave $CUNIT failed with NRestarts=0; after about 11 s: $cstate|$cstatus" ;;
esac

[ "${#FAILED[@]}" = 0 ] || lab_fail "${#FAILED[@]} check(s) failed: $(printf '\n  - %s' "${FAILED[@]}")"
lab_pass "user units: XDG_CONFIG_HOME and configuration errors"
