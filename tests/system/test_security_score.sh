#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The hardening of the system unit as systemd itself scores it: inside the
# booted container (tests/system/lib.sh), `tether setup` installs and starts
# tether@PORT.service (with setup's User= drop-in, as users get it), then
# `systemd-analyze security tether@PORT.service` must give an overall
# exposure of at most 2.0 (the scale is 0.0 best .. 10.0 worst). Prints the
# score and every check that still costs exposure; the running tunnel is
# checked too (the hardening must not break it). The user unit's score is
# printed for information (a user manager cannot sandbox as much).
#
# usage: test_security_score.sh TETHER_BINARY TESTS_BUILD_DIR [BUILD_DIR]
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sys_init "$@"
sys_boot

PORT=2203
UNIT=tether@$PORT.service
TUSER=tunnel
LIMIT=2.0

cx useradd -m -s /bin/bash "$TUSER" || lab_fail "useradd $TUSER failed"
sys_give_key "$TUSER"
cx_as "$TUSER" "$SYS_TETHER" trust -b "$BASTION" --yes >/dev/null 2>&1 || lab_fail "tether trust failed"
out=$(cx "$SYS_TETHER" setup -p "$PORT" -b "$BASTION" -s "/home/$TUSER/.ssh/id_ed25519" \
    --run-as "$TUSER" 2>&1) || { printf '%s\n' "$out"; lab_fail "tether setup failed"; }
[ "$(sys_prop "$UNIT" ActiveState)" = active ] || lab_fail "$UNIT is not active"
sys_check_tunnel "$PORT" "the hardened unit forwards"

# score UNIT [--user USER]: runs systemd-analyze security, sets SCORE and
# saves the table to $LAB_DIR/security-NAME.txt.
score() {
	local unit=$1 user=${2:-} f
	f=$LAB_DIR/security-${user:-system}.txt
	if [ -n "$user" ]; then
		cx_as "$user" systemd-analyze --user security --no-pager -- "$unit" >"$f" 2>&1
	else
		cx systemd-analyze security --no-pager -- "$unit" >"$f" 2>&1
	fi
	SCORE=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9]*\.[0-9]\).*/\1/p' "$f")
	[ -n "$SCORE" ] || { cat "$f"; lab_fail "no 'Overall exposure level' from systemd-analyze security $unit"; }
}

score "$UNIT"
SYSTEM_SCORE=$SCORE
lab_log "systemd-analyze security $UNIT: checks that still cost exposure:"
# The rows with a non-zero exposure ("✗ NAME  DESCRIPTION  0.1").
grep -E '^✗' "$LAB_DIR/security-system.txt" | sed "s/^/[$LAB_NAME]   /"
grep 'Overall exposure' "$LAB_DIR/security-system.txt" | sed "s/^/[$LAB_NAME]   /"
sys_measure "systemd-analyze security $UNIT (system unit, User=$TUSER)" "$SCORE (limit $LIMIT)"

# The user unit: informational only.
U=lab
cx useradd -m -u 1001 -s /bin/bash "$U" || lab_fail "useradd $U failed"
cx loginctl enable-linger "$U" || lab_fail "enable-linger failed"
sys_until 30 sys_unit_is user@1001.service active || lab_fail "user@1001.service not active"
ufrag=$(cx_as "$U" systemctl --user show -p FragmentPath --value tether@$PORT.service)
if [ -n "$ufrag" ]; then
	score "tether@$PORT.service" "$U"
	sys_measure "systemd-analyze --user security tether@$PORT.service (user unit, for information)" "$SCORE"
else
	lab_log "note: the user manager finds no tether@.service template; user score not measured"
fi

awk -v s="$SYSTEM_SCORE" -v lim="$LIMIT" 'BEGIN { exit !(s + 0 <= lim + 0) }' ||
    lab_fail "systemd-analyze security scores $UNIT $SYSTEM_SCORE, above $LIMIT"
sys_pass "$UNIT scores $SYSTEM_SCORE (<= $LIMIT)"
