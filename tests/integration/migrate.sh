#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# tether migrate against a recording stand-in `systemctl` (first on PATH:
# it appends each call, with which seed unit files exist at that moment, to
# a log, and answers `show` per unit from what enable/restart/disable did),
# as root inside a private mount namespace: /etc is an overlay whose changes
# live in a tmpfs, tmpfs over /etc/tether, /etc/systemd/system and /run (with
# /run/systemd/system, so tether sees a manager). The host is never touched.
# Checked:
#  - two seed units (the seed's exact format, and one with extra ssh options,
#    quoting, a continuation line and options after the bastion):
#    --dry-run prints the plan (disable --now, remove, the files setup
#    writes, its systemctl calls, a final daemon-reload) and changes
#    nothing, calls nothing; without --yes and without a terminal: exit 2,
#    nothing changed;
#  - --yes: both autossh units gone, /etc/tether/PORT.conf holds the same
#    bastion, key, target (and known_hosts) and the drop-in the unit's User=;
#    the stand-in saw, per unit, disable --now of the old unit (its file
#    still there) before enable/restart of tether@PORT (its file gone), and
#    one daemon-reload at the end; migrating again finds nothing;
#  - --unit-dir with units it must not migrate (a ProxyCommand, an
#    ExecStartPre=, a key the unit's user does not own): each left untouched
#    with a reason naming it; the good one beside them (no User=: root) is
#    migrated; exit 3;
#  - setup failing after the old unit was stopped (the stand-in refuses to
#    enable tether@PORT): tether's files removed, the old unit put back
#    byte for byte and enabled --now again.
# Skips (77) when not root or when the namespace or mounts cannot be made.
#
# usage: migrate.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/private_etc.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/private_etc.sh"

# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
lab_init "$@"
TETHER=$LAB_TETHER
unset TETHER_BASTION TETHER_KEY SCITEX_TUNNEL_BASTION_SERVER \
    SCITEX_TUNNEL_SECRET_KEY_PATH SUDO_USER XDG_RUNTIME_DIR RUNTIME_DIRECTORY
chmod 755 "$LAB_DIR"

# The seed ran its units as the user who set them up: a user of our own,
# with a home, that exists only in this namespace's /etc.
TUSER=tether-m$$
THOME=$LAB_DIR/home-$TUSER
useradd --user-group --create-home --home-dir "$THOME" --shell /usr/sbin/nologin "$TUSER" \
    >"$LAB_DIR/useradd.log" 2>&1 || lab_skip "useradd failed: $(cat "$LAB_DIR/useradd.log")"
lab_on_exit "userdel '$TUSER' >/dev/null 2>&1"
TGROUP=$(id -gn "$TUSER")
grep -q "^$TUSER:" /proc/1/root/etc/passwd 2>/dev/null &&
    lab_fail "the test user leaked into the host's /etc/passwd"

# The bastion is never contacted: known_hosts entries for it are enough.
BPORT=22022
ssh-keygen -q -t ed25519 -N '' -f "$LAB_DIR/fake_host_key" || lab_fail "ssh-keygen"
HOSTPUB=$(cut -d' ' -f1,2 "$LAB_DIR/fake_host_key.pub")
install -d -m 700 -o "$TUSER" -g "$TGROUP" "$THOME/.ssh"
printf '127.0.0.1 %s\n' "$HOSTPUB" >"$THOME/.ssh/known_hosts"   # port 22: the seed's default
KH=$LAB_DIR/known_hosts
printf '[127.0.0.1]:%s %s\n' "$BPORT" "$HOSTPUB" >"$KH"
KEY=$THOME/.ssh/id_tunnel
{ cp "$LAB_KEY" "$KEY" && chown "$TUSER:$TGROUP" "$KEY" && chmod 600 "$KEY"; } ||
    lab_fail "cannot give the test user a key"
ROOTKEY=$(readlink -f "$LAB_KEY")

PA=$(lab_free_port) || lab_fail "no free port"
PB=$(lab_free_port) || lab_fail "no free port"
[ "$PA" != "$PB" ] || PB=$((PA + 1))
# migrate goes through the units by port: let A come first.
[ "$PA" -lt "$PB" ] || { p=$PA; PA=$PB; PB=$p; }
UNITS=/etc/systemd/system

# ---- the stand-in systemctl ------------------------------------------------
STANDIN=$LAB_DIR/standin
mkdir -p "$STANDIN/bin" "$STANDIN/state"
export STANDIN_LOG=$STANDIN/calls.log STANDIN_STATE=$STANDIN/state
export STANDIN_UNIT_DIR=$UNITS STANDIN_SEED_PORTS="$PA $PB" STANDIN_FAIL_ENABLE=
cat >"$STANDIN/bin/systemctl" <<'SH'
#!/bin/bash
# Records each call with which seed units exist ([seed F...], 1 = present,
# in the order of STANDIN_SEED_PORTS); keeps per-unit enabled/active state.
f=
for p in $STANDIN_SEED_PORTS; do
	[ -e "$STANDIN_UNIT_DIR/autossh-tunnel-$p.service" ] && f+=1 || f+=0
done
printf '%s [seed %s]\n' "$*" "$f" >>"$STANDIN_LOG"
unit=${!#}
now=0
for a in "$@"; do [ "$a" = --now ] && now=1; done
case $1 in
show)
	ufs=disabled; as=inactive; ss=dead; pid=0; st=
	[ -e "$STANDIN_STATE/enabled-$unit" ] && ufs=enabled
	if [ -e "$STANDIN_STATE/active-$unit" ]; then
		as=active; ss=running; pid=4242; st="forwarding 1/1 (stand-in)"
	fi
	printf 'MainPID=%s\nNRestarts=0\nStatusText=%s\nActiveState=%s\nSubState=%s\nUnitFileState=%s\n' \
	    "$pid" "$st" "$as" "$ss" "$ufs"
	;;
enable)
	if [ -n "$STANDIN_FAIL_ENABLE" ] && [ "$unit" = "$STANDIN_FAIL_ENABLE" ]; then
		echo "Failed to enable unit: stand-in refuses $unit" >&2
		exit 1
	fi
	touch "$STANDIN_STATE/enabled-$unit"
	[ "$now" = 1 ] && touch "$STANDIN_STATE/active-$unit"
	;;
restart) touch "$STANDIN_STATE/active-$unit" ;;
disable)
	rm -f "$STANDIN_STATE/enabled-$unit"
	[ "$now" = 1 ] && rm -f "$STANDIN_STATE/active-$unit"
	;;
daemon-reload|reset-failed) ;;
*) echo "stand-in systemctl: unexpected call: $*" >&2; exit 1 ;;
esac
exit 0
SH
chmod 755 "$STANDIN/bin/systemctl"
export PATH=$STANDIN/bin:$PATH
[ "$(command -v systemctl)" = "$STANDIN/bin/systemctl" ] || lab_fail "the stand-in is not first on PATH"

# ---- helpers ---------------------------------------------------------------------
LAB_CMD_TIMEOUT=60
# The lab's command runner and checks, by their short names.
t() { lab_cmd "$@"; }
show() { lab_show_cmd; }
has_line() { lab_has_line "$@"; }
has() { lab_has "$@"; }
changes() { grep -v '^show ' "$STANDIN_LOG" 2>/dev/null; }
calls() { cat "$STANDIN_LOG" 2>/dev/null; }
clear_calls() { : >"$STANDIN_LOG"; }
snapshot() { find /etc/tether /etc/systemd/system "$@" -type f -exec sha256sum {} + 2>/dev/null | sort; }
expect_changes() {
	local what=$1 want
	shift
	want=$(printf '%s\n' "$@")
	[ "$(changes)" = "$want" ] || lab_fail "$what: systemctl calls were
$(calls)
expected (show queries aside)
$want"
}

# ---- two seed units ---------------------------------------------------------------
# A: exactly what scitex-tunnel writes.
cat >"$UNITS/autossh-tunnel-$PA.service" <<UNIT
[Unit]
Description=AutoSSH tunnel on port $PA
After=network-online.target
Wants=network-online.target

[Service]
User=$TUSER
ExecStart=/usr/bin/autossh -M 0 -N -i $KEY -R $PA:localhost:22 tunnel@127.0.0.1
Restart=always
RestartSec=3

[Install]
WantedBy=multi-user.target
UNIT
# B: edited by hand since: ssh options, quoting, a continuation line, the
# port after the bastion, its own known_hosts, another target.
cat >"$UNITS/autossh-tunnel-$PB.service" <<UNIT
[Unit]
Description=AutoSSH tunnel on port $PB
After=network-online.target
Wants=network-online.target

[Service]
User=$TUSER
Environment="AUTOSSH_GATETIME=0"
ExecStart=/usr/bin/autossh -M 0 -N -o "ServerAliveInterval 30" -o ServerAliveCountMax=3 \\
    -o ExitOnForwardFailure=yes -o UserKnownHostsFile=$KH -i "$KEY" \\
    -R 127.0.0.1:$PB:127.0.0.1:2022 tunnel@127.0.0.1 -p $BPORT
Restart=always
RestartSec=3

[Install]
WantedBy=multi-user.target
UNIT

# ---- --dry-run -----------------------------------------------------------------------
before=$(snapshot)
clear_calls
t "$TETHER" migrate --dry-run
[ "$RC" = 0 ] || { show; lab_fail "migrate --dry-run: exit $RC"; }
for line in \
    "autossh-tunnel-$PA.service -> tether@$PA.service: bastion tunnel@127.0.0.1, key $KEY, target localhost:22, user $TUSER" \
    "would run: systemctl disable --now -- autossh-tunnel-$PA.service" \
    "would remove $UNITS/autossh-tunnel-$PA.service" \
    "would write /etc/tether/$PA.conf (mode 0644):" \
    "bastion = tunnel@127.0.0.1:22" \
    "key = $KEY" \
    "would write /etc/tether/$PA.known_hosts (mode 0644):" \
    "# Copied from $THOME/.ssh/known_hosts; after a key change there, run setup again." \
    "127.0.0.1 $HOSTPUB" \
    "known_hosts = /etc/tether/$PA.known_hosts" \
    "forward = $PA:localhost:22" \
    "would write $UNITS/tether@$PA.service.d/50-tether-user.conf (mode 0644):" \
    "User=$TUSER" \
    "would run: systemctl enable -- tether@$PA.service" \
    "would run: systemctl restart --no-block -- tether@$PA.service" \
    "autossh-tunnel-$PB.service -> tether@$PB.service: bastion tunnel@127.0.0.1:$BPORT, key $KEY, target 127.0.0.1:2022, user $TUSER" \
    "would run: systemctl disable --now -- autossh-tunnel-$PB.service" \
    "would remove $UNITS/autossh-tunnel-$PB.service" \
    "bastion = tunnel@127.0.0.1:$BPORT" \
    "[127.0.0.1]:$BPORT $HOSTPUB" \
    "known_hosts = /etc/tether/$PB.known_hosts" \
    "forward = $PB:127.0.0.1:2022" \
    "would run: systemctl enable -- tether@$PB.service"; do
	has_line "$OUT" "$line" || { show; lab_fail "--dry-run does not print '$line'"; }
done
dropped=$(grep '^  not carried over: ' <<<"$OUT")
for what in Environment=AUTOSSH_GATETIME "-o ServerAliveInterval=30" "-o ExitOnForwardFailure=yes"; do
	has "$dropped" "$what" || { show; lab_fail "--dry-run does not list '$what' among what it drops"; }
done
[ "$(tail -n 1 <<<"$OUT")" = "would run: systemctl daemon-reload" ] || { show; lab_fail "--dry-run does not end with daemon-reload"; }
[ "$(grep -c '^would run: systemctl disable --now' <<<"$OUT")" = 2 ] || { show; lab_fail "--dry-run: not two disables"; }
[ "$(snapshot)" = "$before" ] || lab_fail "--dry-run changed files: $(diff <(echo "$before") <(snapshot))"
[ -z "$(calls)" ] || lab_fail "--dry-run called systemctl: $(calls)"
lab_log "ok: --dry-run printed both plans, changed and called nothing"

# ---- no --yes and no terminal -----------------------------------------------------------
t "$TETHER" migrate
{ [ "$RC" = 2 ] && has "$ERR" "nothing changed; rerun with --yes"; } || { show; lab_fail "migrate without --yes: exit $RC"; }
[ "$(snapshot)" = "$before" ] || lab_fail "migrate without --yes changed files"
[ -z "$(changes)" ] || lab_fail "migrate without --yes called systemctl: $(calls)"
lab_log "ok: without --yes and no terminal: exit 2, nothing changed"

# ---- --yes ---------------------------------------------------------------------------------
clear_calls
t "$TETHER" migrate --yes
[ "$RC" = 0 ] || { show; lab_fail "migrate --yes: exit $RC"; }
has_line "$OUT" "Migrated 2 of 2 autossh units to tether." || { show; lab_fail "no summary line"; }
has_line "$OUT" "Tunnel on port $PA set up successfully." || { show; lab_fail "setup of $PA did not succeed"; }
has_line "$OUT" "Tunnel on port $PB set up successfully." || { show; lab_fail "setup of $PB did not succeed"; }
for p in "$PA" "$PB"; do
	[ -e "$UNITS/autossh-tunnel-$p.service" ] && lab_fail "autossh-tunnel-$p.service is still there"
done
expect_changes "migrate --yes" \
    "disable --now -- autossh-tunnel-$PA.service [seed 11]" \
    "daemon-reload [seed 01]" \
    "enable -- tether@$PA.service [seed 01]" \
    "restart --no-block -- tether@$PA.service [seed 01]" \
    "disable --now -- autossh-tunnel-$PB.service [seed 01]" \
    "daemon-reload [seed 00]" \
    "enable -- tether@$PB.service [seed 00]" \
    "restart --no-block -- tether@$PB.service [seed 00]" \
    "daemon-reload [seed 00]"
lab_log "ok: per unit: disable --now of the old one (file present), then enable/restart of tether@PORT (file gone); daemon-reload at the end"

want_a="# Written by tether setup. Change it with tether setup -p $PA, or edit it and
# reload the tunnel (systemctl reload tether@$PA).
[tunnel]
name = $PA
bastion = tunnel@127.0.0.1:22
key = $KEY
known_hosts = /etc/tether/$PA.known_hosts
host_key_policy = strict
forward = $PA:localhost:22"
[ "$(cat "/etc/tether/$PA.conf")" = "$want_a" ] || lab_fail "/etc/tether/$PA.conf differs: $(diff <(echo "$want_a") "/etc/tether/$PA.conf")"
want_b="# Written by tether setup. Change it with tether setup -p $PB, or edit it and
# reload the tunnel (systemctl reload tether@$PB).
[tunnel]
name = $PB
bastion = tunnel@127.0.0.1:$BPORT
key = $KEY
known_hosts = /etc/tether/$PB.known_hosts
host_key_policy = strict
forward = $PB:127.0.0.1:2022"
[ "$(cat "/etc/tether/$PB.conf")" = "$want_b" ] || lab_fail "/etc/tether/$PB.conf differs: $(diff <(echo "$want_b") "/etc/tether/$PB.conf")"
[ "$(grep -v '^#' "/etc/tether/$PA.known_hosts")" = "127.0.0.1 $HOSTPUB" ] ||
    lab_fail "/etc/tether/$PA.known_hosts does not hold the key of $THOME/.ssh/known_hosts: $(cat "/etc/tether/$PA.known_hosts")"
[ "$(grep -v '^#' "/etc/tether/$PB.known_hosts")" = "[127.0.0.1]:$BPORT $HOSTPUB" ] ||
    lab_fail "/etc/tether/$PB.known_hosts does not hold the key of $KH: $(cat "/etc/tether/$PB.known_hosts")"
for p in "$PA" "$PB"; do
	has_line "$(cat "$UNITS/tether@$p.service.d/50-tether-user.conf")" "User=$TUSER" ||
	    lab_fail "the drop-in of tether@$p does not run it as $TUSER"
done
lab_log "ok: /etc/tether/$PA.conf and $PB.conf keep port, bastion, key, target; each has its own known_hosts with the key the seed trusted; drop-ins User=$TUSER"

t "$TETHER" migrate --yes
{ [ "$RC" = 0 ] && has "$OUT" "nothing to migrate"; } || { show; lab_fail "migrating again: exit $RC"; }
lab_log "ok: migrating again finds nothing"

# ---- --unit-dir: units it must leave alone, beside one it migrates ----------------------------
U2=$LAB_DIR/units2
mkdir -p "$U2"
declare -A taken=([$PA]=1 [$PB]=1)
distinct_port() { # prints a free port none of the others uses
	local p
	while :; do
		p=$(lab_free_port) || lab_fail "no free port"
		[ -z "${taken[$p]:-}" ] && break
	done
	taken[$p]=1
	DISTINCT=$p
}
distinct_port; PH=$DISTINCT
distinct_port; PI=$DISTINCT
distinct_port; PK=$DISTINCT
distinct_port; PR=$DISTINCT
distinct_port; PJ=$DISTINCT
seed_unit() { # PORT USER-LINE EXTRA-SERVICE-LINES EXECSTART
	printf '[Unit]\nDescription=AutoSSH tunnel on port %s\n\n[Service]\n%s\n%sExecStart=%s\nRestart=always\n\n[Install]\nWantedBy=multi-user.target\n' \
	    "$1" "$2" "$3" "$4" >"$U2/autossh-tunnel-$1.service"
}
seed_unit "$PH" "User=$TUSER" "" \
    "/usr/bin/autossh -M 0 -N -o \"ProxyCommand=sh -c 'touch $LAB_DIR/pwned'\" -i $KEY -R $PH:localhost:22 tunnel@127.0.0.1"
seed_unit "$PI" "User=$TUSER" "ExecStartPre=/bin/sh -c 'touch $LAB_DIR/pwned'
" "/usr/bin/autossh -M 0 -N -i $KEY -R $PI:localhost:22 tunnel@127.0.0.1"
seed_unit "$PK" "User=$TUSER" "" \
    "/usr/bin/autossh -M 0 -N -o UserKnownHostsFile=$KH -i $ROOTKEY -R $PK:localhost:22 tunnel@127.0.0.1 -p $BPORT"
seed_unit "$PR" "User=" "" \
    "/usr/bin/autossh -M 0 -N -o UserKnownHostsFile=$KH -i $ROOTKEY -R $PR:localhost:22 tunnel@127.0.0.1 -p $BPORT"
# A jump host (here the same sshd as the bastion: never contacted either).
seed_unit "$PJ" "User=$TUSER" "" \
    "/usr/bin/autossh -M 0 -N -o UserKnownHostsFile=$KH -J tunnel@127.0.0.1:$BPORT -i $KEY -R $PJ:localhost:22 tunnel@127.0.0.1 -p $BPORT"
export STANDIN_UNIT_DIR=$U2 STANDIN_SEED_PORTS="$PH $PI $PK $PR $PJ"
before=$(snapshot "$U2")
clear_calls
t "$TETHER" migrate --dry-run --unit-dir "$U2"
[ "$RC" = 3 ] || { show; lab_fail "--dry-run with units it refuses: exit $RC, expected 3"; }
has_line "$ERR" "tether: left as it is: autossh-tunnel-$PH.service line 6: ExecStart=: -o ProxyCommand is an ssh option migrate does not carry over; migrate this unit by hand (docs/migrating.md)" ||
    { show; lab_fail "the ProxyCommand unit is not refused by name and line"; }
has_line "$ERR" "tether: left as it is: autossh-tunnel-$PI.service line 6: ExecStartPre= is a setting migrate does not carry over; migrate this unit by hand (docs/migrating.md)" ||
    { show; lab_fail "the ExecStartPre= unit is not refused by name and line"; }
has "$ERR" "tether: left as it is: autossh-tunnel-$PK.service: tether setup would refuse it: key $ROOTKEY belongs to uid 0, but the tunnel runs as $TUSER" ||
    { show; lab_fail "the unit whose user does not own the key is not refused"; }
has_line "$ERR" "tether: left as it is: autossh-tunnel-$PR.service: the unit has no User=, so it ran as root, and a tunnel needs no root; pass --run-as USER (the key's owner), or --run-as root to keep running it as root" ||
    { show; lab_fail "the unit without User= is not refused without --run-as"; }
has "$OUT" "autossh-tunnel-$PR.service ->" && { show; lab_fail "the unit without User= is planned without --run-as"; }
has_line "$OUT" "proxy_jump = tunnel@127.0.0.1:$BPORT" || { show; lab_fail "the unit's -J is not carried into the config"; }
[ "$(snapshot "$U2")" = "$before" ] || lab_fail "--dry-run --unit-dir changed files"
lab_log "ok: a unit's -J is carried into the tunnel's config as proxy_jump"
# The rest is about the refusals: the jump unit leaves the stage.
rm -f "$U2/autossh-tunnel-$PJ.service"
export STANDIN_SEED_PORTS="$PH $PI $PK $PR"
before=$(snapshot "$U2")
[ "$(snapshot "$U2")" = "$before" ] || lab_fail "--dry-run --unit-dir changed files"
lab_log "ok: without --run-as, the unit that ran as root is refused, saying what to pass"

t "$TETHER" migrate --dry-run --run-as root --unit-dir "$U2"
[ "$RC" = 3 ] || { show; lab_fail "--dry-run --run-as root with units it refuses: exit $RC, expected 3"; }
has_line "$OUT" "autossh-tunnel-$PR.service -> tether@$PR.service: bastion tunnel@127.0.0.1:$BPORT, key $ROOTKEY, target localhost:22, user root (--run-as; the unit ran as root)" ||
    { show; lab_fail "the unit without User= is not planned as root with --run-as root"; }
for p in "$PH" "$PI" "$PK"; do
	has "$OUT" "autossh-tunnel-$p.service ->" && { show; lab_fail "a refused unit ($p) is in the plan"; }
done
[ "$(snapshot "$U2")" = "$before" ] || lab_fail "--dry-run --unit-dir changed files"
[ -z "$(calls)" ] || lab_fail "--dry-run --unit-dir called systemctl: $(calls)"
lab_log "ok: --dry-run --unit-dir: three units refused by name and reason, the fourth planned as root; exit 3"

t "$TETHER" migrate --yes --run-as root --unit-dir "$U2"
[ "$RC" = 3 ] || { show; lab_fail "--yes with units it refuses: exit $RC, expected 3"; }
has_line "$OUT" "Migrated 1 of 4 autossh units to tether." || { show; lab_fail "not 1 of 4 migrated"; }
expect_changes "migrate --yes --unit-dir" \
    "disable --now -- autossh-tunnel-$PR.service [seed 1111]" \
    "daemon-reload [seed 1110]" \
    "enable -- tether@$PR.service [seed 1110]" \
    "restart --no-block -- tether@$PR.service [seed 1110]" \
    "daemon-reload [seed 1110]"
has_line "$(cat "$UNITS/tether@$PR.service.d/50-tether-user.conf")" "User=root" || lab_fail "the unit without User= is not kept as root"
for p in "$PH" "$PI" "$PK"; do
	grep -qF "$U2/autossh-tunnel-$p.service" <<<"$before" || lab_fail "lost track of $p"
	[ -e "/etc/tether/$p.conf" ] && lab_fail "a refused unit ($p) got a tether config"
done
[ "$(snapshot "$U2" | grep -F "$U2/")" = "$(grep -F "$U2/" <<<"$before" | grep -vF "autossh-tunnel-$PR.service")" ] ||
    lab_fail "the refused units were changed: $(snapshot "$U2")"
[ -e "$LAB_DIR/pwned" ] && lab_fail "something of a hostile unit ran"
lab_log "ok: --yes --unit-dir: only the good unit migrated (as root), the others untouched; exit 3"

# ---- User=root is root too: refused without --run-as -----------------------------------------
U4=$LAB_DIR/units4
mkdir -p "$U4"
distinct_port; PRR=$DISTINCT
U2_SAVED=$U2; U2=$U4
seed_unit "$PRR" "User=root" "" \
    "/usr/bin/autossh -M 0 -N -o UserKnownHostsFile=$KH -i $ROOTKEY -R $PRR:localhost:22 tunnel@127.0.0.1 -p $BPORT"
U2=$U2_SAVED
before=$(snapshot "$U4")
clear_calls
t "$TETHER" migrate --dry-run --unit-dir "$U4"
[ "$RC" = 3 ] || { show; lab_fail "--dry-run with a User=root unit: exit $RC, expected 3"; }
has_line "$ERR" "tether: left as it is: autossh-tunnel-$PRR.service: the unit says User=root, so it ran as root, and a tunnel needs no root; pass --run-as USER (the key's owner), or --run-as root to keep running it as root" ||
    { show; lab_fail "the User=root unit is not refused without --run-as"; }
[ "$(snapshot "$U4")" = "$before" ] || lab_fail "--dry-run changed files"
[ -z "$(calls)" ] || lab_fail "--dry-run called systemctl: $(calls)"
lab_log "ok: a User=root unit is refused without --run-as, as one with no User="

# ---- setup fails after the old unit was stopped: put back ---------------------------------------
U3=$LAB_DIR/units3
mkdir -p "$U3"
distinct_port; PZ=$DISTINCT
cat >"$U3/autossh-tunnel-$PZ.service" <<UNIT
[Service]
User=$TUSER
ExecStart=/usr/bin/autossh -M 0 -N -i $KEY -R $PZ:localhost:22 tunnel@127.0.0.1
UNIT
orig=$(sha256sum <"$U3/autossh-tunnel-$PZ.service")
export STANDIN_UNIT_DIR=$U3 STANDIN_SEED_PORTS="$PZ" STANDIN_FAIL_ENABLE="tether@$PZ.service"
clear_calls
t "$TETHER" migrate --yes --unit-dir "$U3"
[ "$RC" = 1 ] || { show; lab_fail "a failing setup: exit $RC, expected 1"; }
has "$ERR" "put $U3/autossh-tunnel-$PZ.service back and started it again" || { show; lab_fail "no word of putting the old unit back"; }
[ "$(sha256sum <"$U3/autossh-tunnel-$PZ.service")" = "$orig" ] || lab_fail "the old unit was not put back byte for byte"
[ -e "/etc/tether/$PZ.conf" ] && lab_fail "tether's config of the failed port is still there"
expect_changes "a failing setup" \
    "disable --now -- autossh-tunnel-$PZ.service [seed 1]" \
    "daemon-reload [seed 0]" \
    "enable -- tether@$PZ.service [seed 0]" \
    "disable --now -- tether@$PZ.service [seed 0]" \
    "daemon-reload [seed 0]" \
    "reset-failed -- tether@$PZ.service [seed 0]" \
    "daemon-reload [seed 1]" \
    "enable --now -- autossh-tunnel-$PZ.service [seed 1]"
lab_log "ok: setup failed: tether@$PZ removed, the old unit put back and enabled --now; exit 1"

t "$TETHER" migrate --bogus
[ "$RC" = 2 ] || { show; lab_fail "an unknown option: exit $RC, expected 2"; }
t "$TETHER" migrate --unit-dir "$LAB_DIR/none" --dry-run
{ [ "$RC" = 1 ] && has "$ERR" "cannot read the unit directory $LAB_DIR/none"; } || { show; lab_fail "a missing --unit-dir"; }

lab_pass "migrate: dry run, both seed units replaced, odd ones left alone, a failed setup rolled back"
