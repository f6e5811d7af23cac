#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# known_hosts means what it means to OpenSSH (each case checked against
# OpenSSH's own ssh on the same file first, then tether run, doctor, setup):
#  - @revoked for the bastion's key (beside a plain line for it): ssh says
#    "REVOKED HOST KEY DETECTED"; run exits 5 saying so, doctor fails on it,
#    setup --user refuses it (exit 5) and writes nothing;
#  - "![h]:p,!h,* KEY": ssh finds no key; run exits 5 ("is not in");
#  - the key only in /etc/ssh/ssh_known_hosts (private /etc overlay): ssh
#    with its own UserKnownHostsFile accepts it, but the tunnel trusts only
#    its own file: run exits 5;
#  - a @cert-authority line alone: run exits 5 naming the line and saying
#    host certificates are not supported;
#  - a good file: doctor names the file and the line that matched.
#
# usage: known_hosts_openssh.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/private_etc.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/private_etc.sh"
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[known_hosts_openssh] SKIP: checks tether's reading of known_hosts"; exit 77; }
lab_init "$@"
TETHER=$LAB_TETHER
t() { lab_cmd "$@"; }
show() { lab_show_cmd; }
lab_start_bastion
lab_start_workstation
export HOME=$LAB_DIR/home XDG_RUNTIME_DIR=$LAB_DIR/xdg
mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
H="[127.0.0.1]:$BASTION_PORT"
KEYLINE=$(cut -d' ' -f2,3 "$BASTION_KNOWN_HOSTS")
RP=$(lab_free_port) || lab_fail "no free port"
B="$LAB_USER@127.0.0.1:$BASTION_PORT"

# openssh FILE: OpenSSH's verdict on FILE (strict, that file only): sets RC/ERR.
openssh() {
	t ssh -F /dev/null -p "$BASTION_PORT" -o UserKnownHostsFile="$1" \
	    -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes \
	    -o BatchMode=yes -o IdentitiesOnly=yes -o IdentityAgent=none \
	    -i "$LAB_KEY" "$LAB_USER@127.0.0.1" true
}
# run_with FILE: tether run against FILE, for at most 8 s (a tunnel that
# trusts the key runs until then: exit 124).
run_with() {
	LAB_CMD_TIMEOUT=8 t "$TETHER" run -b "$B" -s "$LAB_KEY" --known-hosts "$1" \
	    -R "127.0.0.1:$RP:127.0.0.1:$WS_PORT"
}

# ---- @revoked -------------------------------------------------------------
KH=$LAB_DIR/revoked
printf '%s %s\n@revoked %s %s\n' "$H" "$KEYLINE" "$H" "$KEYLINE" >"$KH"
openssh "$KH"
{ [ "$RC" != 0 ] && lab_has "$ERR" "REVOKED HOST KEY DETECTED"; } || { show; lab_fail "OpenSSH does not refuse the revoked key"; }
run_with "$KH"
{ [ "$RC" = 5 ] && lab_has "$ERR" "REVOKED HOST KEY DETECTED" && lab_has "$ERR" "$KH line 2 marks @revoked"; } ||
    { show; lab_fail "run with a @revoked key: exit $RC"; }
lab_log "ok: run refuses the @revoked key: $ERR"
t "$TETHER" doctor -b "$B" -s "$LAB_KEY" --known-hosts "$KH" -R "127.0.0.1:$RP:127.0.0.1:$WS_PORT"
{ [ "$RC" != 0 ] && lab_has "$OUT$ERR" "REVOKED HOST KEY DETECTED"; } || { show; lab_fail "doctor with a @revoked key: exit $RC"; }
lab_log "ok: doctor refuses the @revoked key (exit $RC)"
t "$TETHER" setup --user -p "$RP" -b "$B" -s "$LAB_KEY" --known-hosts "$KH" -t "127.0.0.1:$WS_PORT"
{ [ "$RC" = 5 ] && lab_has "$ERR" "REVOKED HOST KEY DETECTED"; } || { show; lab_fail "setup with a @revoked key: exit $RC"; }
[ -e "$HOME/.config/tether/$RP.conf" ] && lab_fail "setup wrote a config for a revoked key"
lab_log "ok: setup refuses the @revoked key: $ERR"

# ---- negated patterns -----------------------------------------------------
KH=$LAB_DIR/negated
printf '!%s,!127.0.0.1,* %s\n' "$H" "$KEYLINE" >"$KH"
openssh "$KH"
[ "$RC" != 0 ] || { show; lab_fail "OpenSSH trusts the negated line (the test's premise is wrong)"; }
run_with "$KH"
{ [ "$RC" = 5 ] && lab_has "$ERR" "bastion $H is not in $KH"; } || { show; lab_fail "run with '!$H,...,*': exit $RC, expected 5"; }
lab_log "ok: a negated pattern excludes the line, as for OpenSSH: $ERR"

# ---- the global file does not override the tunnel's own --------------------
mkdir -p /etc/ssh
printf '%s %s\n' "$H" "$KEYLINE" >/etc/ssh/ssh_known_hosts
: >"$LAB_DIR/empty"
run_with "$LAB_DIR/empty"
{ [ "$RC" = 5 ] && lab_has "$ERR" "bastion $H is not in $LAB_DIR/empty"; } ||
    { show; lab_fail "run trusted /etc/ssh/ssh_known_hosts over its own file: exit $RC"; }
lab_log "ok: /etc/ssh/ssh_known_hosts does not stand in for the tunnel's file"
rm -f /etc/ssh/ssh_known_hosts

# ---- @cert-authority --------------------------------------------------------
KH=$LAB_DIR/ca
printf '@cert-authority %s %s\n' "$H" "$KEYLINE" >"$KH"
run_with "$KH"
{ [ "$RC" = 5 ] && lab_has "$ERR" "$KH line 1 is a @cert-authority line, but tether does not support host certificates"; } ||
    { show; lab_fail "run with a @cert-authority line: exit $RC"; }
lab_log "ok: @cert-authority named: $ERR"

# ---- doctor names the file and line that matched -----------------------------
KH=$LAB_DIR/good
printf '# a comment\nother.example %s\n%s %s\n' "$KEYLINE" "$H" "$KEYLINE" >"$KH"
t "$TETHER" doctor -b "$B" -s "$LAB_KEY" --known-hosts "$KH" -R "127.0.0.1:$RP:127.0.0.1:$WS_PORT"
lab_has "$OUT$ERR" "matches $KH line 3" || { show; lab_fail "doctor does not name $KH line 3"; }
lab_log "ok: doctor names the matching line ($KH line 3)"

lab_pass "@revoked, negation, global file, @cert-authority: as OpenSSH reads them"
