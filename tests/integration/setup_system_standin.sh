#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# setup / remove in system mode against a recording stand-in `systemctl`
# (first on PATH: it appends each call to a log and answers `show` from
# what enable/restart/disable did), as root inside a private mount
# namespace: /etc is an overlay whose changes live in a tmpfs (so the test
# user and /etc/tether exist only in here), tmpfs over /etc/tether,
# /etc/systemd/system and /run (with /run/systemd/system, so tether sees a
# manager). The host is never touched. Checked:
#  - the key must belong to the service user (exit 4);
#  - --dry-run prints every file and command, writes and calls nothing;
#  - SUDO_USER=<test user>: the config, the drop-in (User=/Group= of that
#    user), the template unit (no template is installed), exactly
#    daemon-reload, enable -- tether@P.service, restart --no-block -- ...,
#    each after the files it needs are in place;
#  - status merges systemd's view with the state file; setup again is a
#    no-op; a changed target rewrites the config and restarts;
#  - setup and remove as the tunnel's user without root: one line saying
#    sudo or --user, nothing changed;
#  - remove: exactly disable --now, daemon-reload, reset-failed -- the one
#    unit; every file of the port gone; again → exit 1.
#  - --run-as root (insisting) is honoured with a root-owned key;
#  - root alone (no SUDO_USER, or SUDO_USER=root, no --run-as): the unit
#    runs as the system account tether (made if missing) with a copy of
#    root's key in /etc/tether/keys/PORT.key (tether:tether 0600 from the
#    start, in a directory root:tether 0750) and of its certificate; a dry
#    run shows it all but the key; a renewed certificate is copied again; a
#    new key without one drops the old certificate; an opened directory is
#    closed again; refused: a group-readable key (4), another user's key
#    (4), a symlinked directory (1, nothing written through it), an account
#    tether of uid 0 (3); remove deletes the copy, keeps the account.
# Skips (77) when not root or when the namespace or mounts cannot be made.
#
# usage: setup_system_standin.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/private_etc.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/private_etc.sh"

# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
lab_init "$@"
lab_find_tool json_get -ljansson
JSON_GET=$LAB_TOOL
TETHER=$LAB_TETHER
TETHER_REAL=$(readlink -f "$TETHER")
unset TETHER_BASTION TETHER_KEY SCITEX_TUNNEL_BASTION_SERVER \
    SCITEX_TUNNEL_SECRET_KEY_PATH SUDO_USER XDG_RUNTIME_DIR RUNTIME_DIRECTORY

# A system user of our own; it exists only in this namespace's /etc.
TUSER=tether-t$$
useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin "$TUSER" >"$LAB_DIR/useradd.log" 2>&1 ||
    lab_skip "useradd failed: $(cat "$LAB_DIR/useradd.log")"
lab_on_exit "userdel '$TUSER' >/dev/null 2>&1"
TGROUP=$(id -gn "$TUSER")
TUID=$(id -u "$TUSER")
[ "$TUID" != 0 ] || lab_fail "the test user has uid 0"
grep -q "^$TUSER:" /proc/1/root/etc/passwd 2>/dev/null &&
    lab_fail "the test user leaked into the host's /etc/passwd"
lab_log "test user $TUSER (uid $TUID, group $TGROUP), private to this namespace"

# The bastion is never contacted: a known_hosts entry for it is enough.
BPORT=22022
PORT=$(lab_free_port) || lab_fail "no free port"
BASTION="tunnel@127.0.0.1:$BPORT"
KH=$LAB_DIR/known_hosts
ssh-keygen -q -t ed25519 -N '' -f "$LAB_DIR/fake_host_key" || lab_fail "ssh-keygen"
printf '[127.0.0.1]:%s %s\n' "$BPORT" "$(cut -d' ' -f1,2 "$LAB_DIR/fake_host_key.pub")" >"$KH"
chmod 755 "$LAB_DIR"
SVCKEY=$LAB_DIR/svc_key
{ cp "$LAB_KEY" "$SVCKEY" && chown "$TUSER:$TGROUP" "$SVCKEY" && chmod 600 "$SVCKEY"; } ||
    lab_fail "cannot give the test user a key"
ROOTKEY=$(readlink -f "$LAB_KEY")

UNIT=tether@$PORT.service
CONF=/etc/tether/$PORT.conf
DROPIN_DIR=/etc/systemd/system/$UNIT.d
DROPIN=$DROPIN_DIR/50-tether-user.conf
TEMPLATE=/etc/systemd/system/tether@.service
# Each system tunnel has a runtime directory of its own (RuntimeDirectory=tether/%i).
STATE=/run/tether/$PORT/$PORT.json

# ---- the stand-in systemctl ----------------------------------------------
STANDIN=$LAB_DIR/standin
mkdir -p "$STANDIN/bin" "$STANDIN/state"
export STANDIN_LOG=$STANDIN/calls.log STANDIN_STATE=$STANDIN/state STANDIN_PORT=$PORT
cat >"$STANDIN/bin/systemctl" <<'SH'
#!/bin/bash
# Records each call with which of tether's files exist at that moment
# ([files CDT]: config, drop-in, template; 1 = present).
unit="tether@$STANDIN_PORT.service"
f=
for p in "/etc/tether/$STANDIN_PORT.conf" "/etc/systemd/system/$unit.d/50-tether-user.conf" \
    /etc/systemd/system/tether@.service; do
	[ -e "$p" ] && f+=1 || f+=0
done
printf '%s [files %s]\n' "$*" "$f" >>"$STANDIN_LOG"
case $1 in
show)
	ufs=disabled; as=inactive; ss=dead; pid=0; st=
	[ -e "$STANDIN_STATE/enabled" ] && ufs=enabled
	if [ -e "$STANDIN_STATE/active" ]; then
		as=active; ss=running; pid=${STANDIN_MAINPID:-4242}; st="forwarding 1/1 (stand-in)"
	fi
	printf 'MainPID=%s\nNRestarts=2\nStatusText=%s\nActiveState=%s\nSubState=%s\nUnitFileState=%s\n' \
	    "$pid" "$st" "$as" "$ss" "$ufs"
	;;
enable) touch "$STANDIN_STATE/enabled" ;;
restart) touch "$STANDIN_STATE/active" ;;
disable)
	rm -f "$STANDIN_STATE/enabled"
	[ "$2" = --now ] && rm -f "$STANDIN_STATE/active"
	;;
daemon-reload|reset-failed) ;;
*) echo "stand-in systemctl: unexpected call: $*" >&2; exit 1 ;;
esac
exit 0
SH
chmod 755 "$STANDIN/bin/systemctl"
export PATH=$STANDIN/bin:$PATH
[ "$(command -v systemctl)" = "$STANDIN/bin/systemctl" ] || lab_fail "the stand-in is not first on PATH"

# ---- helpers ---------------------------------------------------------------
# The lab's command runner and checks, by their short names.
t() { lab_cmd "$@"; }
show() { lab_show_cmd; }
has_line() { lab_has_line "$@"; }
has() { lab_has "$@"; }
# The calls since the log was last cleared, without the `show` queries.
changes() { grep -v '^show ' "$STANDIN_LOG" 2>/dev/null; }
calls() { cat "$STANDIN_LOG" 2>/dev/null; }
clear_calls() { : >"$STANDIN_LOG"; }
files_now() { find /etc/tether /etc/systemd/system /run/tether -mindepth 1 2>/dev/null | sort; }
# expect_changes WHAT LINE...: the non-show calls are exactly LINE...
expect_changes() {
	local what=$1 want
	shift
	want=$(printf '%s\n' "$@")
	[ "$(changes)" = "$want" ] || lab_fail "$what: systemctl calls were
$(calls)
expected (show queries aside)
$want"
}
BASE=(-p "$PORT" -b "$BASTION" --known-hosts "$KH" -t 127.0.0.1:22)
HAVE_TEMPLATE=
for d in /usr/local/lib/systemd/system /usr/lib/systemd/system /lib/systemd/system; do
	[ -e "$d/tether@.service" ] && HAVE_TEMPLATE=$d/tether@.service
done
[ -z "$HAVE_TEMPLATE" ] || lab_log "note: a template is installed at $HAVE_TEMPLATE: setup will not write one"

# ---- refused: a key of someone else ----------------------------------------
clear_calls
t env SUDO_USER="$TUSER" "$TETHER" setup "${BASE[@]}" -s "$ROOTKEY"
{ [ "$RC" = 4 ] && has "$ERR" "belongs to uid 0, but the tunnel runs as $TUSER"; } || { show; lab_fail "a root-owned key for $TUSER was not refused"; }
[ -z "$(files_now)$(calls)" ] || lab_fail "the refused setup wrote or called: $(files_now) $(calls)"
lab_log "ok: the key must belong to the service user (exit 4)"

t env SUDO_USER="$TUSER" "$TETHER" setup "${BASE[@]}" -s "$SVCKEY" --run-as $'x\nExecStartPre=/bin/sh'
{ [ "$RC" = 3 ] && has "$ERR" "--run-as '"; } || { show; lab_fail "--run-as with a newline was not refused"; }
[ -z "$(files_now)$(calls)" ] || lab_fail "the refused setup wrote or called: $(files_now) $(calls)"

# ---- --dry-run ----------------------------------------------------------------
t env SUDO_USER="$TUSER" "$TETHER" setup --dry-run "${BASE[@]}" -s "$SVCKEY"
[ "$RC" = 0 ] || { show; lab_fail "setup --dry-run: exit $RC"; }
for line in "would write $CONF (mode 0644):" "would write $DROPIN (mode 0644):" \
    "would write /etc/tether/$PORT.known_hosts (mode 0644):" \
    "User=$TUSER" "would run: systemctl daemon-reload" "would run: systemctl enable -- $UNIT" \
    "would run: systemctl restart --no-block -- $UNIT"; do
	has_line "$OUT" "$line" || { show; lab_fail "--dry-run does not print '$line'"; }
done
[ -n "$HAVE_TEMPLATE" ] || has_line "$OUT" "would write $TEMPLATE (mode 0644):" || { show; lab_fail "--dry-run does not print the template"; }
[ -z "$(files_now)" ] || lab_fail "--dry-run wrote: $(files_now)"
[ -z "$(calls)" ] || lab_fail "--dry-run called systemctl: $(calls)"
lab_log "ok: --dry-run printed the files and the systemctl calls, did nothing"

# ---- setup with SUDO_USER ----------------------------------------------------
t env SUDO_USER="$TUSER" "$TETHER" setup "${BASE[@]}" -s "$SVCKEY"
[ "$RC" = 0 ] || { show; lab_fail "setup (SUDO_USER=$TUSER): exit $RC"; }
has_line "$OUT" "Tunnel on port $PORT set up successfully." || { show; lab_fail "no success message"; }
has_line "$OUT" "$UNIT is active: forwarding 1/1 (stand-in)" || { show; lab_fail "setup does not report the unit active with its status"; }
tf=111
[ -n "$HAVE_TEMPLATE" ] && tf=110
expect_changes "setup" "daemon-reload [files $tf]" "enable -- $UNIT [files $tf]" \
    "restart --no-block -- $UNIT [files $tf]"
calls | grep '^show ' | grep -qvxF "show --property=ActiveState,SubState,UnitFileState,StatusText,MainPID,NRestarts,Result,ExecMainStatus -- $UNIT [files $tf]" &&
    lab_fail "an unexpected show query: $(calls | grep '^show ')"
lab_log "ok: systemctl calls: daemon-reload, enable -- $UNIT, restart --no-block -- $UNIT (files in place first)"

want_conf="# Written by tether setup. Change it with tether setup -p $PORT, or edit it and
# reload the tunnel (systemctl reload tether@$PORT).
[tunnel]
name = $PORT
bastion = $BASTION
key = $SVCKEY
known_hosts = /etc/tether/$PORT.known_hosts
host_key_policy = strict
forward = $PORT:127.0.0.1:22"
[ "$(cat "$CONF")" = "$want_conf" ] || lab_fail "$CONF differs: $(diff <(echo "$want_conf") "$CONF")"
want_dropin="# Written by tether setup: the tunnel runs as the key's owner.
[Service]
User=$TUSER
Group=$TGROUP"
[ "$(cat "$DROPIN")" = "$want_dropin" ] || lab_fail "$DROPIN differs: $(cat "$DROPIN")"
want_kh="# Written by tether setup: the host keys tunnel $PORT trusts for its bastion.
# Copied from $KH; after a key change there, run setup again.
$(cat "$KH")"
[ "$(cat "/etc/tether/$PORT.known_hosts")" = "$want_kh" ] ||
    lab_fail "/etc/tether/$PORT.known_hosts differs: $(diff <(echo "$want_kh") "/etc/tether/$PORT.known_hosts")"
for f in "$CONF" "$DROPIN" "/etc/tether/$PORT.known_hosts"; do
	[ "$(stat -c '%a %U' "$f")" = "644 root" ] || lab_fail "$f: mode/owner $(stat -c '%a %U' "$f")"
done
if [ -z "$HAVE_TEMPLATE" ]; then
	want_tpl=$(sed "s|@TETHER_BIN@|$TETHER_REAL|g" "$LAB_SRC_DIR/../units/tether@.service.in")
	[ "$(cat "$TEMPLATE")" = "$want_tpl" ] || lab_fail "$TEMPLATE is not units/tether@.service.in with ExecStart=$TETHER_REAL: $(diff <(echo "$want_tpl") "$TEMPLATE")"
	grep -q '^User=' "$TEMPLATE" && lab_fail "the template names a User="
	lab_log "ok: template written with ExecStart=$TETHER_REAL run -c /etc/tether/%i.conf"
fi
lab_log "ok: $CONF, the tunnel's own known_hosts (root's, 644) and the drop-in (User=$TUSER Group=$TGROUP) are exactly as expected"

# ---- status: systemd's view merged with the state file ---------------------
mkdir -p /run/tether/$PORT
cat >"$STATE" <<JSON
{"name": "$PORT", "pid": $$, "state": "forwarding", "bastion": "$BASTION",
 "forwards": [{"spec": "$PORT:127.0.0.1:22", "remote_port": $PORT, "bound_port": $PORT, "state": "bound"}],
 "connected_since": "2026-01-01T00:00:00Z", "reconnects": 0, "last_error": null,
 "channels": 0, "bytes_to_target": 0, "bytes_from_target": 0, "updated": "2026-01-01T00:00:00Z"}
JSON
t "$TETHER" status --system
[ "$RC" = 0 ] || { show; lab_fail "status --system: exit $RC"; }
grep -qE "^$PORT +system +systemd +forwarding +$PORT:127.0.0.1:22 " <<<"$OUT" || { show; lab_fail "status --system: no 'PORT system systemd forwarding' row"; }
t "$TETHER" status --system --json
printf '%s\n' "$OUT" >"$LAB_DIR/status.json"
jf() { "$JSON_GET" "$LAB_DIR/status.json" "$1" 2>/dev/null; }
for kv in "count=1" "tunnels.0.manager=systemd" "tunnels.0.mode=system" "tunnels.0.state=forwarding" \
    "tunnels.0.systemd.active_state=active" "tunnels.0.systemd.unit_file_state=enabled" \
    "tunnels.0.systemd.main_pid=4242" "tunnels.0.systemd.restarts=2" \
    "tunnels.0.systemd.status_text=forwarding 1/1 (stand-in)" "tunnels.0.live.pid=$$"; do
	[ "$(jf "${kv%%=*}")" = "${kv#*=}" ] || lab_fail "status --json: ${kv%%=*} is '$(jf "${kv%%=*}")', expected '${kv#*=}'"
done
lab_log "ok: status shows manager systemd, active/enabled, NRestarts, the STATUS= text and the live state"

# ---- setup again: no change; a changed target: rewrite and restart ---------
clear_calls
t env SUDO_USER="$TUSER" "$TETHER" setup "${BASE[@]}" -s "$SVCKEY"
{ [ "$RC" = 0 ] && has_line "$OUT" "Tunnel on port $PORT is already set up (no change)."; } || { show; lab_fail "second setup is not a no-op"; }
expect_changes "second setup" # no calls but show
lab_log "ok: setting up again: 'already set up', only show queries"

clear_calls
t env SUDO_USER="$TUSER" "$TETHER" setup -p "$PORT" -b "$BASTION" --known-hosts "$KH" -t 127.0.0.1:2022 -s "$SVCKEY"
[ "$RC" = 0 ] || { show; lab_fail "setup with a changed target: exit $RC"; }
has_line "$(cat "$CONF")" "forward = $PORT:127.0.0.1:2022" || lab_fail "the changed target is not in $CONF"
tf=111
expect_changes "setup with a changed target" "daemon-reload [files $tf]" "enable -- $UNIT [files $tf]" \
    "restart --no-block -- $UNIT [files $tf]"
lab_log "ok: a changed target rewrote the config and restarted the unit"

# ---- the same as the tunnel's user, without root: one line, nothing done --
clear_calls
before=$(files_now; cat "$CONF")
for verb in setup remove; do
	args=("${BASE[@]}" -s "$SVCKEY")
	[ "$verb" = remove ] && args=(-p "$PORT")
	t setpriv --reuid="$TUID" --regid="$TUID" --clear-groups -- "$TETHER" "$verb" "${args[@]}"
	{ [ "$RC" = 1 ] && has "$ERR" "run $verb with sudo, or add --user for a tunnel of your own"; } ||
	    { show; lab_fail "$verb of a system tunnel as $TUSER, not root: exit $RC, not the one line that says sudo or --user"; }
	lab_log "ok: $verb as $TUSER: $(head -n 1 <<<"$ERR")"
done
[ "$(files_now; cat "$CONF")" = "$before" ] || lab_fail "setup/remove without root changed files"
expect_changes "setup/remove without root"
lab_log "ok: without root, setup and remove changed no file and called no systemctl"

# ---- remove --------------------------------------------------------------------
clear_calls
t "$TETHER" remove -p "$PORT"
{ [ "$RC" = 0 ] && has_line "$OUT" "Tunnel on port $PORT removed."; } || { show; lab_fail "remove: exit $RC"; }
tf=001
[ -n "$HAVE_TEMPLATE" ] && tf=000
ftf=111
[ -n "$HAVE_TEMPLATE" ] && ftf=110
expect_changes "remove" "disable --now -- $UNIT [files $ftf]" "daemon-reload [files $tf]" \
    "reset-failed -- $UNIT [files $tf]"
for f in "$CONF" "$DROPIN" "$DROPIN_DIR" "$STATE" "/run/tether/$PORT"; do
	[ -e "$f" ] && lab_fail "remove left $f"
done
left=$(files_now | grep -F "$PORT")
[ -z "$left" ] || lab_fail "remove left files of port $PORT: $left"
lab_log "ok: remove: disable --now, daemon-reload, reset-failed -- $UNIT only; files gone"

clear_calls
t "$TETHER" remove -p "$PORT"
[ "$RC" = 1 ] || { show; lab_fail "second remove: exit $RC, expected 1"; }
has_line "$ERR" "No tunnel on port $PORT to remove (nothing at $CONF; for a user tunnel add --user)." || { show; lab_fail "second remove: unclear message"; }
expect_changes "second remove" # only show
lab_log "ok: removing again: exit 1, clear message, nothing called but show"

# ---- --run-as root, insisting, with a root-owned key --------------------------
rm -f "$STANDIN_STATE"/*
PORT2=$(lab_free_port) || lab_fail "no free port"
clear_calls
t "$TETHER" setup -p "$PORT2" -b "$BASTION" --known-hosts "$KH" -s "$ROOTKEY" --run-as root --no-start
[ "$RC" = 0 ] || { show; lab_fail "setup --run-as root --no-start: exit $RC"; }
has_line "$(cat "/etc/systemd/system/tether@$PORT2.service.d/50-tether-user.conf")" "User=root" ||
    lab_fail "--run-as root is not in the drop-in"
changes | grep -q '^restart' && lab_fail "--no-start restarted the unit: $(calls)"
t "$TETHER" remove -p "$PORT2"
[ "$RC" = 0 ] || { show; lab_fail "remove -p $PORT2: exit $RC"; }
lab_log "ok: --run-as root (insisting) is honoured; --no-start enables without starting"

# ---- root alone: the tether account, with a copy of root's key ------------------
rm -f "$STANDIN_STATE"/*
PORT3=$(lab_free_port) || lab_fail "no free port"
KEYS=/etc/tether/keys
COPY=$KEYS/$PORT3.key
# root's key with a certificate beside it (a CA of the test's own).
RKEY=$LAB_DIR/root_key
{ cp "$LAB_KEY" "$RKEY" && chmod 600 "$RKEY" && ssh-keygen -y -f "$RKEY" >"$RKEY.pub" &&
    ssh-keygen -q -t ed25519 -N '' -f "$LAB_DIR/ca" &&
    ssh-keygen -q -s "$LAB_DIR/ca" -I cert-1 -n tunnel "$RKEY.pub"; } >"$LAB_DIR/cert.log" 2>&1 ||
    lab_fail "cannot make root's key and certificate: $(cat "$LAB_DIR/cert.log")"
R3=(-p "$PORT3" -b "$BASTION" --known-hosts "$KH")
# A host with the package has the account; this /etc is the test's own copy.
if getent passwd tether >/dev/null; then
	userdel tether >/dev/null 2>&1 || lab_fail "cannot delete the host's account tether in the private /etc"
	lab_log "note: the host has an account tether (the package's); deleted in this namespace's /etc only"
fi
getent passwd tether >/dev/null && lab_fail "an account 'tether' exists before the test (in its private /etc)"
before=$(files_now)
clear_calls
t "$TETHER" setup "${R3[@]}" -s "$RKEY" --dry-run
[ "$RC" = 0 ] || { show; lab_fail "root alone, --dry-run: exit $RC"; }
for want in "would run: useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin tether" \
    "would make the directory $KEYS (root:tether, mode 0750)" \
    "would write $COPY (tether:tether, mode 0600): a private key, not shown" \
    "would write $COPY-cert.pub (mode 0644):" \
    "key = $COPY" "User=tether" "Group=tether"; do
	has_line "$OUT" "$want" || { show; lab_fail "root alone, --dry-run does not say '$want'"; }
done
has "$OUT" "$(sed -n 2p "$RKEY")" && lab_fail "--dry-run printed the private key"
has "$OUT" "chown" && lab_fail "--dry-run still chowns the copy after writing it"
[ "$(files_now)" = "$before" ] && ! getent passwd tether >/dev/null ||
    lab_fail "root alone, --dry-run changed something"
lab_log "ok: root alone, --dry-run: useradd, $KEYS root:tether 0750, the copy tether:tether 0600 (not shown), nothing done"

t env SUDO_USER=root "$TETHER" setup "${R3[@]}" -s "$RKEY" --no-start
[ "$RC" = 0 ] && has "$OUT" "It runs as the system account tether, with a copy of $RKEY at $COPY" ||
    { show; lab_fail "root alone (SUDO_USER=root): exit $RC"; }
getent passwd tether | grep -q ':/nonexistent:/usr/sbin/nologin$' || lab_fail "no system account tether: $(getent passwd tether)"
[ "$(stat -c '%U:%G %a' "$COPY")" = "tether:tether 600" ] || lab_fail "$COPY is $(stat -c '%U:%G %a' "$COPY")"
[ "$(stat -c '%U:%G %a' "$KEYS")" = "root:tether 750" ] || lab_fail "$KEYS is $(stat -c '%U:%G %a' "$KEYS")"
cmp -s "$RKEY" "$COPY" || lab_fail "$COPY is not a copy of $RKEY"
cmp -s "$RKEY-cert.pub" "$COPY-cert.pub" || lab_fail "$COPY-cert.pub is not a copy of $RKEY-cert.pub"
has_line "$(cat "/etc/tether/$PORT3.conf")" "key = $COPY" || lab_fail "the config does not name $COPY"
has_line "$(cat "/etc/systemd/system/tether@$PORT3.service.d/50-tether-user.conf")" "User=tether" ||
    lab_fail "the drop-in does not run the unit as tether"
left=$(find "$KEYS" -mindepth 1 ! -name "$PORT3.key" ! -name "$PORT3.key-cert.pub")
[ -z "$left" ] || lab_fail "a temporary file is left in $KEYS: $left"
lab_log "ok: root alone: the account tether (nologin), $KEYS root:tether 750, $COPY tether:tether 600 with its certificate, User=tether"

# A renewed certificate for the same key is work to do, not "no change".
t env SUDO_USER=root "$TETHER" setup "${R3[@]}" -s "$RKEY"
[ "$RC" = 0 ] || { show; lab_fail "root alone, started: exit $RC"; }
ssh-keygen -q -s "$LAB_DIR/ca" -I cert-2 -n tunnel "$RKEY.pub" >"$LAB_DIR/cert.log" 2>&1 || lab_fail "ssh-keygen -s"
t "$TETHER" setup "${R3[@]}" -s "$RKEY"
{ [ "$RC" = 0 ] && ! has "$OUT" "already set up"; } || { show; lab_fail "a renewed certificate was 'no change'"; }
cmp -s "$RKEY-cert.pub" "$COPY-cert.pub" || lab_fail "the renewed certificate was not copied"
lab_log "ok: a renewed certificate is copied again, not 'already set up'"

# A new key without a certificate: the old certificate must not stay
# beside it (the tunnel would send it with the wrong key and exit 4).
RKEY2=$LAB_DIR/root_key2
ssh-keygen -q -t ed25519 -N '' -f "$RKEY2" || lab_fail "ssh-keygen"
t "$TETHER" setup "${R3[@]}" -s "$RKEY2"
[ "$RC" = 0 ] || { show; lab_fail "setup with a new key: exit $RC"; }
cmp -s "$RKEY2" "$COPY" || lab_fail "$COPY is not the new key"
[ -e "$COPY-cert.pub" ] && lab_fail "the old key's certificate stayed beside the new key"
[ "$(stat -c '%U:%G %a' "$COPY")" = "tether:tether 600" ] || lab_fail "the new $COPY is $(stat -c '%U:%G %a' "$COPY")"
t "$TETHER" setup "${R3[@]}" -s "$RKEY2"
{ [ "$RC" = 0 ] && has_line "$OUT" "Tunnel on port $PORT3 is already set up (no change)."; } ||
    { show; lab_fail "setup again with the same key is not a no-op"; }
lab_log "ok: a new key without a certificate replaces the copy and drops the old certificate; again: no change"

# An opened directory is closed again.
chmod 755 "$KEYS"
t "$TETHER" setup "${R3[@]}" -s "$RKEY2"
{ [ "$RC" = 0 ] && ! has "$OUT" "already set up"; } || { show; lab_fail "setup over a $KEYS of mode 755 was 'no change'"; }
[ "$(stat -c '%U:%G %a' "$KEYS")" = "root:tether 750" ] || lab_fail "$KEYS is $(stat -c '%U:%G %a' "$KEYS") after setup"
lab_log "ok: $KEYS opened to 755 is set back to root:tether 750"

# Refused: a group-readable key; someone else's key; the key copy's
# directory a symlink; an account tether of uid 0.
chmod 640 "$RKEY2"
t "$TETHER" setup "${R3[@]}" -s "$RKEY2"
{ [ "$RC" = 4 ] && has "$ERR" "too open"; } || { show; lab_fail "a group-readable key was not refused with exit 4"; }
chmod 600 "$RKEY2"
lab_log "ok: root alone, a group-readable key: exit 4, $(head -n 1 <<<"$ERR")"
t "$TETHER" setup "${R3[@]}" -s "$SVCKEY"
{ [ "$RC" = 4 ] && has "$ERR" "belongs to uid $TUID, not root"; } || { show; lab_fail "root alone with $TUSER's key: not refused clearly"; }
lab_log "ok: root alone, $TUSER's key: exit 4, $(head -n 1 <<<"$ERR")"

t "$TETHER" remove -p "$PORT3"
[ "$RC" = 0 ] || { show; lab_fail "remove -p $PORT3: exit $RC"; }
[ -e "$COPY" ] && lab_fail "remove left $COPY"
getent passwd tether >/dev/null || lab_fail "remove deleted the account (other tunnels may use it)"
lab_log "ok: remove deleted the copy of the key, kept the account"

rm -rf "$KEYS"
mkdir -m 777 "$LAB_DIR/elsewhere"
ln -s "$LAB_DIR/elsewhere" "$KEYS"
t "$TETHER" setup "${R3[@]}" -s "$RKEY" --no-start
{ [ "$RC" = 1 ] && has "$ERR" "$KEYS is not a directory of root's"; } || { show; lab_fail "a symlinked $KEYS was followed"; }
[ -z "$(ls -A "$LAB_DIR/elsewhere")" ] || lab_fail "setup wrote through the symlink: $(ls -A "$LAB_DIR/elsewhere")"
rm -f "$KEYS"
lab_log "ok: $KEYS a symlink: exit 1, $(head -n 1 <<<"$ERR"), nothing written through it"
"$TETHER" remove -p "$PORT3" >/dev/null 2>&1

usermod -o -u 0 tether >"$LAB_DIR/usermod.log" 2>&1 || lab_fail "usermod: $(cat "$LAB_DIR/usermod.log")"
before=$(files_now)
t "$TETHER" setup "${R3[@]}" -s "$RKEY" --no-start
{ [ "$RC" = 3 ] && has "$ERR" "the account tether has uid 0"; } || { show; lab_fail "an account tether of uid 0 was used"; }
[ "$(files_now)" = "$before" ] || lab_fail "the refused setup wrote: $(files_now)"
lab_log "ok: an account tether of uid 0: exit 3, $(head -n 1 <<<"$ERR")"

lab_pass "system mode against a stand-in systemctl: files, calls, status, remove"
