#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# A machine still running scitex-tunnel's units, under a real systemd
# (tests/system/lib.sh): two autossh-tunnel-PORT.service units, written as
# the seed writes them (autossh -M 0 -N -i KEY -R PORT:localhost:22
# BASTION, User=), enabled and carrying ssh through the bastion. Then:
#  - `scitex-tunnel status` lists both as legacy, each with "run: tether
#    migrate", and exits 0 (whether autossh forwards, tether cannot tell);
#  - `scitex-tunnel remove -p PORT` and `tether setup -p PORT` refuse at
#    once, naming the unit and tether migrate; the old unit keeps running;
#  - the seed's name knows migrate and doctor;
#  - `tether migrate --yes` replaces both: tether@PORT forwards each port,
#    the old units are gone, status has no legacy row and exits 0.
#
# usage: test_legacy_units.sh TETHER_BINARY TESTS_BUILD_DIR [BUILD_DIR]
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sys_init "$@"
sys_boot
SEED=$(dirname "$SYS_TETHER")/scitex-tunnel
U=tunnel1
KEY=/home/$U/.ssh/id_ed25519
cx useradd -m -s /bin/bash "$U" || lab_fail "useradd $U failed"
sys_give_key "$U"
out=$(cx_as "$U" "$SYS_TETHER" trust -b "$BASTION" --yes 2>&1) || lab_fail "tether trust --yes as $U: $out"

# ---- two units as scitex-tunnel writes them ---------------------------------
for port in 2223 2224; do
	cat >"$SYS_ROOT/etc/systemd/system/autossh-tunnel-$port.service" <<UNIT
[Unit]
Description=AutoSSH tunnel on port $port
After=network-online.target
Wants=network-online.target

[Service]
User=$U
Environment="AUTOSSH_GATETIME=0"
ExecStart=/usr/bin/autossh -M 0 -N -i $KEY -R $port:localhost:22 root@$BASTION_IP -p $BASTION_SSH_PORT
Restart=always
RestartSec=3

[Install]
WantedBy=multi-user.target
UNIT
done
cx systemctl daemon-reload || lab_fail "daemon-reload failed"
cx systemctl enable --now autossh-tunnel-2223.service autossh-tunnel-2224.service >/dev/null 2>&1 ||
    lab_fail "the autossh units did not start"
for port in 2223 2224; do
	sys_wait_tunnel "$port" 30 || lab_fail "autossh-tunnel-$port does not carry ssh"
done
lab_log "ok: two scitex-tunnel units (autossh) carry ssh on 2223 and 2224"

# ---- status lists them ------------------------------------------------------
out=$(cx "$SEED" status 2>&1); rc=$?
printf '%s\n' "$out" | sed "s/^/[$LAB_NAME]   status: /"
[ "$rc" = 0 ] || lab_fail "scitex-tunnel status with only legacy units: exit $rc"
for port in 2223 2224; do
	grep -E "^autossh-$port +system +legacy +legacy .*scitex-tunnel's autossh-tunnel-$port.service \(systemd: active\); run: tether migrate" <<<"$out" >/dev/null ||
	    lab_fail "status does not list autossh-tunnel-$port.service as legacy with 'run: tether migrate'"
done
lab_log "ok: scitex-tunnel status lists both units as legacy, pointing to tether migrate (exit 0)"

# ---- remove and setup on their ports refuse at once -------------------------
want="port 2223 belongs to autossh-tunnel-2223.service, a unit of scitex-tunnel (autossh)"
out=$(cx "$SEED" remove -p 2223 2>&1); rc=$?
[ "$rc" = 1 ] && grep -qF "$want" <<<"$out" && grep -qF "tether migrate" <<<"$out" ||
    lab_fail "scitex-tunnel remove -p 2223: exit $rc, '$out'"
lab_us; t0=$LAB_US
out=$(cx "$SYS_TETHER" setup -p 2223 -b "$BASTION" -s "$KEY" --run-as "$U" 2>&1); rc=$?
took=$(lab_since_us "$t0")
[ "$rc" = 1 ] && grep -qF "$want" <<<"$out" ||
    lab_fail "tether setup -p 2223 with the legacy unit there: exit $rc after $took s, '$out'"
sys_unit_is autossh-tunnel-2223.service active || lab_fail "the legacy unit stopped"
sys_check_tunnel 2223 "the legacy unit after the refusals"
lab_log "ok: remove and setup on 2223 refuse naming the unit and migrate (setup in $took s); autossh still runs"

# ---- the seed's name knows migrate and doctor -------------------------------
for verb in migrate doctor; do
	cx "$SEED" "$verb" --help >/dev/null 2>&1 || lab_fail "scitex-tunnel $verb --help failed"
done
out=$(cx "$SEED" migrate --dry-run 2>&1) || lab_fail "scitex-tunnel migrate --dry-run: $out"
grep -q "autossh-tunnel-2224.service" <<<"$out" || lab_fail "migrate --dry-run does not name the units: $out"
lab_log "ok: scitex-tunnel migrate and doctor run; migrate --dry-run names both units"

# ---- migrate replaces them --------------------------------------------------
out=$(cx "$SYS_TETHER" migrate --yes 2>&1) || { printf '%s\n' "$out"; lab_fail "tether migrate --yes failed"; }
for port in 2223 2224; do
	sys_wait_tunnel "$port" 60 || lab_fail "tether@$port does not carry ssh after migrate"
	sys_unit_is "tether@$port.service" active || lab_fail "tether@$port.service is not active after migrate"
	[ -e "$SYS_ROOT/etc/systemd/system/autossh-tunnel-$port.service" ] &&
	    lab_fail "autossh-tunnel-$port.service is still there after migrate"
done
sys_until 30 cx "$SYS_TETHER" status >/dev/null 2>&1 || lab_fail "status does not exit 0 after migrate: $(cx "$SYS_TETHER" status 2>&1)"
out=$(cx "$SYS_TETHER" status 2>&1)
grep -q legacy <<<"$out" && lab_fail "status still lists a legacy unit after migrate: $out"
sys_pass "legacy units listed and pointed to migrate; setup/remove refuse on their ports; migrate replaced both"
