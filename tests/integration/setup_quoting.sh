#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# What setup writes and prints stays one word per path when tether lives
# in a directory with a space and a % in its name ("sec dir%x"):
#  - system mode (--dry-run, in a private /etc): the template unit it
#    would write has ExecStart="…/sec dir%%x/tether" run -c …, and
#    systemd-analyze verify finds nothing wrong with it;
#  - --user where no user systemd runs: the @reboot line it prints, read
#    as cron reads it (\% is %) and then as sh splits words, gives the
#    binary's path as one word and the daemon's arguments.
#
# usage: setup_quoting.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/private_etc.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/private_etc.sh"
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] && { echo "[setup_quoting] SKIP: setup is tether's"; exit 77; }
lab_init "$@"
command -v systemd-analyze >/dev/null || lab_skip "no systemd-analyze"
t() { lab_cmd "$@"; }
show() { lab_show_cmd; }
lab_start_bastion
lab_start_workstation
BIN="$LAB_DIR/sec dir%x/tether"
mkdir -p "$(dirname "$BIN")"
cp "$(readlink -f "$LAB_TETHER")" "$BIN"
B="$LAB_USER@127.0.0.1:$BASTION_PORT"
KH=$(readlink -f "$BASTION_KNOWN_HOSTS")
P=$(lab_free_port) || lab_fail "no free port"

# ---- the system unit -------------------------------------------------------
t "$BIN" setup --dry-run --run-as root -p "$P" -b "$B" -s "$LAB_KEY" --known-hosts "$KH" -t "127.0.0.1:$WS_PORT"
[ "$RC" = 0 ] || { show; lab_fail "setup --dry-run from '$BIN': exit $RC"; }
unit=$(awk '/^would write \/etc\/systemd\/system\/tether@\.service/ {on=1; next}
	on && /^would / {exit} on' <<<"$OUT")
[ -n "$unit" ] || { show; lab_fail "the dry run shows no template unit"; }
grep -qxF "ExecStart=\"$LAB_DIR/sec dir%%x/tether\" run -c /etc/tether/%i.conf" <<<"$unit" ||
    { grep '^Exec' <<<"$unit"; lab_fail "ExecStart= is not the quoted binary"; }
mkdir -p "$LAB_DIR/units"
printf '%s\n' "$unit" >"$LAB_DIR/units/tether@$P.service"
out=$(systemd-analyze verify --man=no "$LAB_DIR/units/tether@$P.service" 2>&1) ||
    lab_fail "systemd-analyze verify: $out"
[ -z "$out" ] || lab_fail "systemd-analyze verify warns: $out"
lab_log "ok: ExecStart=\"…/sec dir%%x/tether\"; systemd-analyze verify is clean"

# ---- the @reboot line --------------------------------------------------------
export HOME=$LAB_DIR/home XDG_RUNTIME_DIR=$LAB_DIR/xdg
mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
rm -rf /run/systemd/system
t "$BIN" setup --user -p "$P" -b "$B" -s "$LAB_KEY" --known-hosts "$KH" -t "127.0.0.1:$WS_PORT"
[ "$RC" = 0 ] || { show; lab_fail "setup --user from '$BIN': exit $RC"; }
line=$(grep '^@reboot ' <<<"$OUT") || { show; lab_fail "no @reboot line"; }
grep -q '[^\\]%' <<<"$line" && lab_fail "an unescaped % in the @reboot line (cron would cut it there): $line"
cmd=${line#@reboot }
cmd=${cmd//\\%/%}
eval "set -- $cmd"
[ "$1" = "$BIN" ] || lab_fail "the @reboot line's first word is '$1', not '$BIN': $line"
[ "$2 $3 $4" = "run --daemon -c" ] || lab_fail "the @reboot line's arguments: $*"
lab_log "ok: @reboot line: $line"
t "$BIN" remove --user -p "$P"
[ "$RC" = 0 ] || { show; lab_fail "remove --user: exit $RC"; }

lab_pass "a binary path with a space and a %: one quoted word in the unit and the crontab line"
