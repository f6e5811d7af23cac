#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Root alone, as the seed ran and as an MCP server under root runs, under a
# real systemd (tests/system/lib.sh): `tether setup -p 2231 -b BASTION -s
# /root/.ssh/id_ed25519` with no SUDO_USER and no --run-as
#  - uses the system account tether (nologin, no home; made by
#    sysusers.d at boot or by setup), copies root's key
#    to /etc/tether/keys/2231.key (tether:tether 0600) and runs the unit as
#    tether (User=, and the main process's owner), never as root; the
#    directory /etc/tether/keys is root:tether 0750, closed to others
#    (the user nobody can neither list it nor read the copy); setup again: no change;
#  - the tunnel carries ssh into the container;
#  - `remove -p 2231` deletes the copy and keeps the account.
#
# usage: test_root_account.sh TETHER_BINARY TESTS_BUILD_DIR [BUILD_DIR]
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sys_init "$@"
sys_boot
COPY=/etc/tether/keys/2231.key

cp "$LAB_KEY" "$SYS_ROOT/root/.ssh/id_ed25519"
chmod 600 "$SYS_ROOT/root/.ssh/id_ed25519"
out=$(cx "$SYS_TETHER" trust -b "$BASTION" --yes 2>&1) || lab_fail "tether trust --yes as root: $out"
# The installed sysusers.d entry may have made the account at boot; setup
# makes it otherwise (setup_system_standin checks that path).
cx getent passwd tether >/dev/null && lab_log "note: the account tether exists at boot (sysusers.d)"

out=$(cx env -u SUDO_USER "$SYS_TETHER" setup -p 2231 -b "$BASTION" -s /root/.ssh/id_ed25519 2>&1) ||
    { printf '%s\n' "$out"; lab_fail "setup as root alone failed"; }
grep -qF "It runs as the system account tether, with a copy of /root/.ssh/id_ed25519 at $COPY" <<<"$out" ||
    lab_fail "setup did not say it runs as tether with a copy of the key: $out"
[ "$(cx getent passwd tether | cut -d: -f6-7)" = "/nonexistent:/usr/sbin/nologin" ] ||
    lab_fail "the account tether is '$(cx getent passwd tether)'"
[ "$(cx stat -c '%U:%G %a' "$COPY")" = "tether:tether 600" ] ||
    lab_fail "$COPY is '$(cx stat -c '%U:%G %a' "$COPY" 2>&1)'"
sys_check_tunnel 2231 "tunnel 2231 as tether"
[ "$(sys_prop tether@2231.service User)" = tether ] || lab_fail "the unit's User= is '$(sys_prop tether@2231.service User)'"
pid=$(sys_prop tether@2231.service MainPID)
[ "$(cx ps -o user= -p "$pid" | tr -d ' ')" = tether ] ||
    lab_fail "the main process $pid runs as '$(cx ps -o user= -p "$pid")', not tether"
lab_log "ok: root alone: unit runs as tether (pid $pid), key copy $COPY tether:tether 600"
# The unit (PrivateUsers=yes) reads its copy through a directory only
# root writes and only the account's group may enter.
[ "$(cx stat -c '%U:%G %a' /etc/tether/keys)" = "root:tether 750" ] ||
    lab_fail "/etc/tether/keys is '$(cx stat -c '%U:%G %a' /etc/tether/keys 2>&1)'"
cx runuser -u nobody -- cat "$COPY" >/dev/null 2>&1 && lab_fail "nobody can read $COPY"
cx runuser -u nobody -- ls /etc/tether/keys >/dev/null 2>&1 && lab_fail "nobody can list /etc/tether/keys"
out=$(cx env -u SUDO_USER "$SYS_TETHER" setup -p 2231 -b "$BASTION" -s /root/.ssh/id_ed25519 2>&1)
grep -qxF "Tunnel on port 2231 is already set up (no change)." <<<"$out" ||
    lab_fail "setup again as root alone is not a no-op: $out"
lab_log "ok: /etc/tether/keys root:tether 750, closed to others; setup again: no change"

out=$(cx "$SYS_TETHER" remove -p 2231 2>&1) || lab_fail "remove -p 2231: $out"
cx test -e "$COPY" && lab_fail "remove left $COPY"
cx getent passwd tether >/dev/null || lab_fail "remove deleted the account tether"
sys_pass "root alone: a tunnel of the tether account with a copy of the key; remove deletes the copy"
