#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# One runtime directory per tunnel, under a real systemd (tests/system/lib.sh):
#  - two system tunnels (2201, 2202) set up for two users (tunnel1,
#    tunnel2): each unit's RuntimeDirectory is /run/tether/PORT, owned by
#    its own user (mode 0755: status by anyone still reads it), /run/tether stays root's; each state file
#    lives there and is kept current;
#  - restarting the second tunnel leaves the first one's directory with
#    its owner (a shared directory was re-chowned to the last unit's user:
#    the first then logged "Permission denied" and its status went stale);
#    the first tunnel's journal has no "Permission denied";
#  - tunnel2 cannot write into tunnel1's directory;
#  - root's foreground `tether run` and `run --daemon` (state files in
#    /run/tether itself) and both units are all listed by `tether status`;
#  - `remove -p 2201` removes /run/tether/2201 and leaves 2202 running.
#
# usage: test_runtime_dirs.sh TETHER_BINARY TESTS_BUILD_DIR [BUILD_DIR]
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sys_init "$@"
lab_find_tool json_get -ljansson
JSON_GET=$LAB_TOOL
sys_boot

show_unit() {
	cx systemctl status --no-pager -n 20 -- "tether@$1.service" 2>&1 | sed "s/^/[$LAB_NAME]   /"
}
owner_mode() { cx stat -c '%U %a' "$1" 2>/dev/null; }
# reconnects PORT: the state file's reconnect count. Its "updated" has
# one-second steps, and a reconnect often takes less.
reconnects() {
	cx cat "/run/tether/$1/$1.json" >"$LAB_DIR/st.json" 2>/dev/null || return 1
	"$JSON_GET" "$LAB_DIR/st.json" reconnects 2>/dev/null
}

# ---- two tunnels, two users -------------------------------------------------
for i in 1 2; do
	u=tunnel$i
	port=220$i
	cx useradd -m -s /bin/bash "$u" || lab_fail "useradd $u failed"
	sys_give_key "$u"
	out=$(cx_as "$u" "$SYS_TETHER" trust -b "$BASTION" --yes 2>&1) ||
	    lab_fail "tether trust --yes as $u: $out"
	out=$(cx "$SYS_TETHER" setup -p "$port" -b "$BASTION" -s "/home/$u/.ssh/id_ed25519" \
	    --run-as "$u" 2>&1) || { printf '%s\n' "$out"; show_unit "$port"; lab_fail "setup -p $port failed"; }
	sys_check_tunnel "$port" "tunnel $port as $u"
done

[ "$(owner_mode /run/tether)" = "root 755" ] || lab_fail "/run/tether is '$(owner_mode /run/tether)', expected 'root 755'"
for i in 1 2; do
	[ "$(owner_mode "/run/tether/220$i")" = "tunnel$i 755" ] ||
	    lab_fail "/run/tether/220$i is '$(owner_mode "/run/tether/220$i")', expected 'tunnel$i 755'"
	[ "$(cx stat -c %U "/run/tether/220$i/220$i.json")" = "tunnel$i" ] ||
	    lab_fail "no state file of tunnel$i in /run/tether/220$i: $(cx ls -la "/run/tether/220$i")"
done
lab_log "ok: /run/tether root 755; /run/tether/2201 tunnel1 755, /run/tether/2202 tunnel2 755, each with its state file"

# ---- the second tunnel restarts: the first keeps its directory ---------------
cx systemctl restart tether@2202.service || lab_fail "restart of tether@2202 failed"
sys_wait_tunnel 2202 30 || lab_fail "2202 does not carry ssh after its restart"
[ "$(owner_mode /run/tether/2201)" = "tunnel1 755" ] ||
    lab_fail "after 2202's restart, /run/tether/2201 is '$(owner_mode /run/tether/2201)'"
# A reconnect of 2201 rewrites its state file: it must still be able to.
r0=$(reconnects 2201) || lab_fail "cannot read 2201's state file"
cx systemctl kill -s USR1 tether@2201.service
end=$((SECONDS + 20))
while [ "$(reconnects 2201)" = "$r0" ] && [ "$SECONDS" -lt "$end" ]; do sleep 0.2; done
[ "$(reconnects 2201)" != "$r0" ] || lab_fail "2201's state file was not rewritten after SIGUSR1 (reconnects still $r0)"
sys_wait_tunnel 2201 30 || lab_fail "2201 does not carry ssh after SIGUSR1"
j=$(sys_journal tether@2201.service)
grep -q "Permission denied" <<<"$j" && { grep "Permission denied" <<<"$j"; lab_fail "tunnel 2201 logged 'Permission denied'"; }
lab_log "ok: 2202 restarted, 2201 keeps /run/tether/2201 and its state file current; no 'Permission denied'"

out=$(cx_as tunnel2 sh -c 'echo forged >/run/tether/2201/2201.json' 2>&1) &&
    lab_fail "tunnel2 could write tunnel1's state file"
lab_log "ok: tunnel2 cannot write into /run/tether/2201 ($out)"

# ---- hand-started tunnels: a foreground run and a daemon, as root -------------
KH=/home/tunnel1/.ssh/known_hosts
KEY=/home/tunnel1/.ssh/id_ed25519
cx systemd-run --unit=tether-fg --quiet "$SYS_TETHER" run -n fg -b "$BASTION" -s "$KEY" \
    --known-hosts "$KH" -R 2203:localhost:22 || lab_fail "systemd-run of a foreground tether failed"
out=$(cx "$SYS_TETHER" run --daemon -n dm -b "$BASTION" -s "$KEY" --known-hosts "$KH" \
    -R 2204:localhost:22 2>&1) || lab_fail "run --daemon as root: $out"
sys_wait_tunnel 2203 30 || lab_fail "the foreground run's 2203 does not carry ssh"
sys_wait_tunnel 2204 30 || lab_fail "the daemon's 2204 does not carry ssh"

cx "$SYS_TETHER" status --json >"$LAB_DIR/status.json" 2>"$LAB_DIR/status.err" ||
    lab_fail "tether status --json: $(cat "$LAB_DIR/status.err")"
names=$(for n in 0 1 2 3 4 5; do "$JSON_GET" "$LAB_DIR/status.json" "tunnels.$n.name" 2>/dev/null; done | grep . | sort | tr '\n' ' ')
[ "$names" = "2201 2202 dm fg " ] || { cat "$LAB_DIR/status.json"; lab_fail "status lists '$names', expected '2201 2202 dm fg '"; }
for n in 0 1 2 3; do
	st=$("$JSON_GET" "$LAB_DIR/status.json" "tunnels.$n.state")
	[ "$st" = forwarding ] || { cat "$LAB_DIR/status.json"; lab_fail "status: tunnel $n is '$st'"; }
done
cx "$SYS_TETHER" status | sed "s/^/[$LAB_NAME]   status: /"
lab_log "ok: status lists 2201, 2202 (units), fg (foreground) and dm (daemon), all forwarding"

# ---- remove one: its directory goes, the other stays --------------------------
out=$(cx "$SYS_TETHER" remove -p 2201 2>&1) || { printf '%s\n' "$out"; lab_fail "remove -p 2201 failed"; }
cx test -e /run/tether/2201 && lab_fail "/run/tether/2201 is left after remove: $(cx ls -la /run/tether/2201)"
[ "$(sys_prop tether@2202.service ActiveState)" = active ] || lab_fail "tether@2202 is not active after removing 2201"
sys_check_tunnel 2202 "2202 after removing 2201"
lab_log "ok: remove -p 2201 removed /run/tether/2201; 2202 still forwarding"

sys_pass "one runtime directory per tunnel, each its user's; status finds units, foreground and daemon runs"
