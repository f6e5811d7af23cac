#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# setup --user where no user systemd runs: the background-daemon fallback,
# end to end against the lab bastion, with HOME and the XDG directories in
# the lab dir (XDG_RUNTIME_DIR an empty directory: no systemd/private).
#  - hostile arguments are refused (exit 2/3/4) and nothing is written;
#  - setup brings the tunnel up ("Tunnel on port N set up successfully.",
#    a real ssh through it reaches the workstation sshd) and prints the
#    crontab @reboot line; the config file holds exactly the tunnel;
#  - status (table and --json) shows it forwarding, bound, manager daemon;
#  - setup again: "already set up", same daemon; run --daemon with the same
#    pidfile is refused naming the pid; --dry-run prints and changes nothing;
#  - remove stops the daemon, the bastion frees the port, no file for the
#    port is left; removing again is a clear error (exit 1);
#  - the seed's name: scitex-tunnel setup/remove through a symlink, its
#    environment variables, and its "bastion_server is required" message.
#
# usage: setup_daemon.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[setup_daemon] SKIP: setup is tether's; nothing to check with LAB_TUNNEL=ssh"; exit 77; }
lab_init "$@"
lab_find_tool json_get -ljansson
JSON_GET=$LAB_TOOL
TETHER=$LAB_TETHER
TETHER_REAL=$(readlink -f "$TETHER")

export HOME=$LAB_DIR/home
export XDG_CONFIG_HOME=$LAB_DIR/xdg-config
export XDG_RUNTIME_DIR=$LAB_DIR/xdg-runtime
unset TETHER_BASTION TETHER_KEY SCITEX_TUNNEL_BASTION_SERVER \
    SCITEX_TUNNEL_SECRET_KEY_PATH SUDO_USER TETHER_DEBUG SCITEX_TUNNEL_DEBUG_MODE
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
TREES=("$HOME" "$XDG_CONFIG_HOME" "$XDG_RUNTIME_DIR")

lab_start_bastion
lab_start_workstation
RPORT=$(lab_free_port) || lab_fail "no free port"
BASTION="$LAB_USER@127.0.0.1:$BASTION_PORT"
KEY=$(readlink -f "$LAB_KEY")
KH=$(readlink -f "$BASTION_KNOWN_HOSTS")
TARGET="127.0.0.1:$WS_PORT"
# User tunnels live in ~/.config whatever XDG_CONFIG_HOME says (see paths.c).
CONF=$HOME/.config/tether/$RPORT.conf
RUNDIR=$XDG_RUNTIME_DIR/tether
PIDF=$RUNDIR/$RPORT.pid
STATE=$RUNDIR/$RPORT.json
LOGF=$HOME/.local/state/tether/$RPORT.log

# The lab's command runner and checks, by their short names.
t() { lab_cmd "$@"; }
show() { lab_show_cmd; }
has_line() { lab_has_line "$@"; }
has() { lab_has "$@"; }
# Every file and directory under the lab HOME and XDG dirs (not the roots).
tree_listing() { find "${TREES[@]}" -mindepth 1 -printf '%p %y %m %s\n' 2>/dev/null | sort; }
# tether processes of this lab (the daemons are not our children).
tether_pids() {
	local p
	for p in $(lab__tagged); do
		[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$TETHER_REAL" ] && printf '%s\n' "$p"
	done
}
pid_of_file() { cat "$PIDF" 2>/dev/null; }

# ---- hostile arguments: refused, nothing written -------------------------
mkdir -p "$LAB_DIR/keys"
NLKEY="$LAB_DIR/keys/id"$'\n'"ExecStartPre=evil"
SCKEY="$LAB_DIR/keys/id;evil"
OPENKEY=$LAB_DIR/keys/id_open
{ cp "$LAB_KEY" "$NLKEY" && cp "$LAB_KEY" "$SCKEY" && cp "$LAB_KEY" "$OPENKEY"; } ||
    lab_fail "cannot copy the key"
chmod 600 "$NLKEY" "$SCKEY"
chmod 644 "$OPENKEY"

# refused EXPECTED_RC WHAT MESSAGE ARGS...: setup ARGS is refused with
# EXPECTED_RC and MESSAGE on stderr, writes nothing and starts nothing.
refused() {
	local want=$1 what=$2 msg=$3 before after
	shift 3
	before=$(tree_listing)
	t "$TETHER" setup "$@"
	after=$(tree_listing)
	[ "$RC" = "$want" ] || { show; lab_fail "$what: exit $RC, expected $want"; }
	has "$ERR" "$msg" || { show; lab_fail "$what: stderr lacks '$msg'"; }
	[ "$before" = "$after" ] || lab_fail "$what: files changed: $(diff <(echo "$before") <(echo "$after"))"
	[ -z "$(tether_pids)" ] || lab_fail "$what: a tether process runs: $(tether_pids)"
	has "$OUT" "successfully" && lab_fail "$what: stdout claims success: $OUT"
	lab_log "ok: $what → exit $RC"
}
BASE=(--known-hosts "$KH" -t "$TARGET")
refused 3 "bastion with a newline" "bastion '" \
    --user -p "$RPORT" -b "$BASTION"$'\nExecStartPre=/bin/sh' -s "$KEY" "${BASE[@]}"
refused 3 "bastion that reads as an ssh option" "bastion '" \
    --user -p "$RPORT" -b "-oProxyCommand=touch $LAB_DIR/pwned" -s "$KEY" "${BASE[@]}"
refused 3 "key path with a newline" "key path '" \
    --user -p "$RPORT" -b "$BASTION" -s "$NLKEY" "${BASE[@]}"
refused 3 "key path with ';'" "key path '" \
    --user -p "$RPORT" -b "$BASTION" -s "$SCKEY" "${BASE[@]}"
refused 4 "key others can read" "too open" \
    --user -p "$RPORT" -b "$BASTION" -s "$OPENKEY" "${BASE[@]}"
refused 4 "missing key" "No such file" \
    --user -p "$RPORT" -b "$BASTION" -s "$LAB_DIR/keys/none" "${BASE[@]}"
refused 3 "target with spaces" "target '" \
    --user -p "$RPORT" -b "$BASTION" -s "$KEY" --known-hosts "$KH" -t "local host:22"
refused 3 "known_hosts path with a newline" "known_hosts path '" \
    --user -p "$RPORT" -b "$BASTION" -s "$KEY" --known-hosts "/tmp/kh"$'\n'"x" -t "$TARGET"
# A port out of range is a bad command line (2), as for `tether run -p`.
refused 2 "port 0" "the port must be a number from 1 to 65535" \
    --user -p 0 -b "$BASTION" -s "$KEY" "${BASE[@]}"
refused 2 "port 70000" "the port must be a number from 1 to 65535" \
    --user -p 70000 -b "$BASTION" -s "$KEY" "${BASE[@]}"
refused 3 "--run-as with a newline (system mode)" "--run-as '" \
    -p "$RPORT" -b "$BASTION" -s "$KEY" --run-as $'root\nExecStartPre=/bin/sh' "${BASE[@]}"
refused 3 "--run-as with a newline (--user)" "--run-as '" \
    --user -p "$RPORT" -b "$BASTION" -s "$KEY" --run-as $'root\nExecStartPre=/bin/sh' "${BASE[@]}"
refused 5 "strict host keys and a bastion not in known_hosts" "has no key for the bastion" \
    --user -p "$RPORT" -b "$BASTION" -s "$KEY" --known-hosts "$LAB_DIR/keys/none" -t "$TARGET"
[ -e "$LAB_DIR/pwned" ] && lab_fail "the ProxyCommand bastion ran something"
[ -z "$(tree_listing)" ] || lab_fail "refused setups left files: $(tree_listing)"
lab_log "ok: nothing at all under the lab HOME and XDG dirs after the refusals"

# ---- --dry-run before anything exists ------------------------------------
t "$TETHER" setup --user --dry-run -p "$RPORT" -b "$BASTION" -s "$KEY" "${BASE[@]}"
[ "$RC" = 0 ] || { show; lab_fail "setup --dry-run: exit $RC"; }
has_line "$OUT" "would write $CONF (mode 0644):" || { show; lab_fail "dry run does not show the config file"; }
has_line "$OUT" "forward = $RPORT:$TARGET" || { show; lab_fail "dry run does not show the forward"; }
has_line "$OUT" "would run: $TETHER_REAL run --daemon -c $CONF --pidfile $PIDF --log-file $LOGF --state-dir $RUNDIR" ||
    { show; lab_fail "dry run does not show the daemon command"; }
[ -z "$(tree_listing)" ] || lab_fail "--dry-run wrote: $(tree_listing)"
[ -z "$(tether_pids)" ] || lab_fail "--dry-run started tether: $(tether_pids)"
lab_port_open "$RPORT" && lab_fail "--dry-run: port $RPORT is open on the bastion"
lab_log "ok: --dry-run printed the file and the command, wrote and started nothing"

# ---- setup ---------------------------------------------------------------
lab_us; t0=$LAB_US
t "$TETHER" setup --user -p "$RPORT" -b "$BASTION" -s "$KEY" "${BASE[@]}"
took=$(lab_since_us "$t0")
[ "$RC" = 0 ] || { show; lab_fail "setup --user: exit $RC"; }
has_line "$OUT" "Tunnel on port $RPORT set up successfully." || { show; lab_fail "no success message"; }
has_line "$OUT" "@reboot '$TETHER_REAL' 'run' '--daemon' '-c' '$CONF' '--pidfile' '$PIDF' '--log-file' '$LOGF' '--state-dir' '$RUNDIR'" ||
    { show; lab_fail "no crontab @reboot line"; }
DPID=$(pid_of_file)
{ [[ $DPID =~ ^[0-9]+$ ]] && lab_alive "$DPID"; } || { show; lab_fail "no live daemon in $PIDF ('$DPID')"; }
has "$OUT" "daemon pid $DPID is forwarding" || { show; lab_fail "setup does not name the daemon pid $DPID"; }
[ -f "$STATE" ] || lab_fail "no live state file $STATE"
lab_log "ok: setup --user: daemon pid $DPID forwarding, ${took} s"
[ "$(tether_pids)" = "$DPID" ] || lab_fail "tether processes: $(tether_pids | tr '\n' ' '), expected only $DPID"

want_conf="# Written by tether setup. Change it with tether setup -p $RPORT, or edit it and
# reload the tunnel (systemctl reload tether@$RPORT).
[tunnel]
name = $RPORT
bastion = $BASTION
key = $KEY
known_hosts = $HOME/.config/tether/$RPORT.known_hosts
host_key_policy = strict
forward = $RPORT:$TARGET"
[ "$(cat "$CONF")" = "$want_conf" ] || lab_fail "$CONF is not the expected file: $(diff <(echo "$want_conf") "$CONF")"
[ "$(stat -c %a "$CONF")" = 644 ] || lab_fail "$CONF has mode $(stat -c %a "$CONF")"
lab_log "ok: $CONF holds exactly the tunnel"

out=$(lab_ssh_through "$RPORT" 'echo tunnel-ok') || lab_fail "ssh through port $RPORT failed: $out"
[ "$out" = tunnel-ok ] || lab_fail "ssh through the tunnel printed '$out'"
lab_log "ok: a real ssh through port $RPORT reached the workstation"

# ---- status --------------------------------------------------------------
# As root, plain `tether status` also lists system tunnels: /etc/tether and
# the state files other root `tether run`s (other tests, run in parallel)
# keep in /run/tether. So the exact checks use --user, and plain `status`
# runs where those two directories are private and empty (when it can).
status_row() {
	row=$(grep -E "^$RPORT +user +daemon +forwarding +" <<<"$OUT") ||
	    { show; lab_fail "$1: no 'RPORT user daemon forwarding' row"; }
	has "$row" " $RPORT:$TARGET " || lab_fail "$1: the row lacks the forward: $row"
	has "$row" "(!)" && lab_fail "$1: the row marks the forward unbound: $row"
	[ "$(grep -c . <<<"$OUT")" = 2 ] || { show; lab_fail "$1: expected a header and one row"; }
}
t "$TETHER" status --user
[ "$RC" = 0 ] || { show; lab_fail "status --user: exit $RC"; }
status_row "status --user"
lab_log "ok: status --user table: $(tr -s ' ' <<<"$row")"
if [ "$(id -u)" = 0 ] && unshare -m --propagation private true 2>/dev/null; then
	# shellcheck disable=SC2016
	t unshare -m --propagation private sh -c 'for d in /etc/tether /run/tether; do
		[ -d "$d" ] || continue; mount -t tmpfs -o mode=755 tmpfs "$d" || exit 99; done
		exec "$0" status' "$TETHER"
	[ "$RC" = 99 ] && lab_fail "could not mount a private /run/tether"
	[ "$RC" = 0 ] || { show; lab_fail "status: exit $RC"; }
	status_row "status"
	lab_log "ok: status (no system tunnels visible): exit 0, one row"
else
	t "$TETHER" status
	grep -qE "^$RPORT +user +daemon +forwarding +" <<<"$OUT" || { show; lab_fail "status: no row for $RPORT"; }
	lab_log "ok: status lists $RPORT (exit $RC; system tunnels of the host may be listed too)"
fi

t "$TETHER" status --user --json
[ "$RC" = 0 ] || { show; lab_fail "status --user --json: exit $RC"; }
printf '%s\n' "$OUT" >"$LAB_DIR/status.json"
jf() { "$JSON_GET" "$LAB_DIR/status.json" "$1" 2>/dev/null; }
"$JSON_GET" "$LAB_DIR/status.json" || lab_fail "status --json is not one valid JSON document: $OUT"
for kv in "count=1" "forwarding=1" "tunnels.0.name=$RPORT" "tunnels.0.port=$RPORT" \
    "tunnels.0.mode=user" "tunnels.0.manager=daemon" "tunnels.0.state=forwarding" \
    "tunnels.0.forwarding=true" "tunnels.0.daemon_pid=$DPID" "tunnels.0.live.pid=$DPID" \
    "tunnels.0.live.forwards.0.state=bound" "tunnels.0.live.forwards.0.bound_port=$RPORT" \
    "tunnels.0.live.forwards.0.spec=$RPORT:$TARGET"; do
	[ "$(jf "${kv%%=*}")" = "${kv#*=}" ] || lab_fail "status --json: ${kv%%=*} is '$(jf "${kv%%=*}")', expected '${kv#*=}'"
done
lab_log "ok: status --json: manager daemon, state forwarding, bound_port $RPORT, daemon_pid $DPID"

t "$TETHER" status -p "$RPORT" --json
[ "$RC" = 0 ] || { show; lab_fail "status -p $RPORT --json: exit $RC"; }
printf '%s\n' "$OUT" >"$LAB_DIR/status.json"
[ "$(jf tunnels.0.manager)/$(jf tunnels.0.state)/$(jf count)" = daemon/forwarding/1 ] ||
    lab_fail "status -p $RPORT --json: $OUT"

# ---- setting up again ----------------------------------------------------
conf_before=$(stat -c '%i %Y' "$CONF")
t "$TETHER" setup --user -p "$RPORT" -b "$BASTION" -s "$KEY" "${BASE[@]}"
[ "$RC" = 0 ] || { show; lab_fail "second setup: exit $RC"; }
has_line "$OUT" "Tunnel on port $RPORT is already set up (no change)." || { show; lab_fail "second setup does not say 'already set up'"; }
{ [ "$(pid_of_file)" = "$DPID" ] && lab_alive "$DPID"; } || lab_fail "second setup replaced the daemon ($DPID → $(pid_of_file))"
[ "$(stat -c '%i %Y' "$CONF")" = "$conf_before" ] || lab_fail "second setup rewrote $CONF"
lab_log "ok: setting up again: 'already set up', same daemon pid $DPID"

# ---- a second daemon on the same pidfile ---------------------------------
t "$TETHER" run --daemon -c "$CONF" --pidfile "$PIDF" --log-file "$LOGF" --state-dir "$RUNDIR"
[ "$RC" = 1 ] || { show; lab_fail "run --daemon on a held pidfile: exit $RC, expected 1"; }
has "$ERR" "this tunnel already runs (pid $DPID holds $PIDF)" || { show; lab_fail "the refusal does not name pid $DPID"; }
[ "$(tether_pids)" = "$DPID" ] || lab_fail "after the refused run: tether processes $(tether_pids | tr '\n' ' ')"
lab_log "ok: run --daemon with the same pidfile refused: $ERR"

# ---- --dry-run with the tunnel up: prints, changes nothing ----------------
# The running daemon renames its state file into $RUNDIR whenever a figure
# changes, so that directory's own mtime is the daemon's, not the dry run's.
snapshot() { find "${TREES[@]}" -mindepth 1 ! -name '*.json' ! -name '*.json.??????' ! -name '*.log' ! -path "$RUNDIR" \
    -printf '%p %i %T@ %s\n' | sort; }
before=$(snapshot)
t "$TETHER" setup --user --dry-run -p "$RPORT" -b "$BASTION" -s "$KEY" --known-hosts "$KH" \
    -t "127.0.0.1:$BASTION_PORT"
[ "$RC" = 0 ] || { show; lab_fail "setup --dry-run (changed target): exit $RC"; }
has_line "$OUT" "forward = $RPORT:127.0.0.1:$BASTION_PORT" || { show; lab_fail "dry run does not show the new forward"; }
has "$OUT" "would run: $TETHER_REAL run --daemon" || { show; lab_fail "dry run does not show the command"; }
after=$(snapshot)
[ "$before" = "$after" ] || lab_fail "--dry-run changed files: $(diff <(echo "$before") <(echo "$after"))"
{ [ "$(pid_of_file)" = "$DPID" ] && lab_alive "$DPID"; } || lab_fail "--dry-run touched the daemon"
has_line "$(cat "$CONF")" "forward = $RPORT:$TARGET" || lab_fail "--dry-run changed the config"
lab_log "ok: --dry-run with a changed target printed the plan, changed nothing"

# ---- a killed daemon: status says so and how to start it ------------------
kill -KILL "$DPID"
end=$((SECONDS + 5))
while lab_alive "$DPID" && [ "$SECONDS" -lt "$end" ]; do sleep 0.1; done
t "$TETHER" status --user
lab_log "status --user after kill -9 of the daemon (exit $RC):"; printf '%s\n' "$OUT" >&2
[ "$RC" = 1 ] || { show; lab_fail "status --user with a dead daemon: exit $RC, expected 1"; }
START="$TETHER_REAL run --daemon -c $CONF --pidfile $PIDF --log-file $LOGF --state-dir $RUNDIR"
has "$OUT" "daemon not running; start it with: $START" ||
    { show; lab_fail "status does not give the command that starts the dead daemon"; }
# shellcheck disable=SC2086
t $START
[ "$RC" = 0 ] || { show; lab_fail "the command status gave failed: exit $RC"; }
end=$((SECONDS + 20))
until t "$TETHER" status --user && [ "$RC" = 0 ]; do
	[ "$SECONDS" -lt "$end" ] || { show; lab_fail "not forwarding 20 s after the command status gave"; }
	sleep 0.2
done
DPID=$(pid_of_file)
lab_log "ok: a killed daemon: status says so with the command; that command brought it back (pid $DPID)"

# ---- remove --------------------------------------------------------------
t "$TETHER" remove --user -p "$RPORT"
[ "$RC" = 0 ] || { show; lab_fail "remove --user: exit $RC"; }
has_line "$OUT" "Tunnel on port $RPORT removed." || { show; lab_fail "no 'removed' message"; }
end=$((SECONDS + 5))
while lab_alive "$DPID" && [ "$SECONDS" -lt "$end" ]; do sleep 0.1; done
lab_alive "$DPID" && lab_fail "daemon pid $DPID still runs after remove"
end=$((SECONDS + 10))
while lab_port_open "$RPORT" && [ "$SECONDS" -lt "$end" ]; do sleep 0.2; done
lab_port_open "$RPORT" && lab_fail "the bastion still listens on $RPORT 10 s after remove"
left=$(find "${TREES[@]}" -name "*$RPORT*")
[ -z "$left" ] || lab_fail "remove left files behind: $left"
[ -z "$(tether_pids)" ] || lab_fail "tether processes after remove: $(tether_pids)"
lab_log "ok: remove stopped pid $DPID, freed port $RPORT, left no file for it"
printf '%s\n' "$OUT" | sed 's/^/  remove: /' >&2
for d in "$HOME/.config/tether" "$HOME/.local/state/tether"; do
	[ ! -e "$d" ] || lab_fail "remove --user left the empty directory $d: $(ls -A "$d")"
	has_line "$OUT" "Removed the empty directory $d" || { show; lab_fail "remove does not say it removed $d"; }
done
has "$OUT" "If you added setup's @reboot line to your crontab, delete it now (crontab -e): it runs $CONF" ||
    { show; lab_fail "remove --user does not remind of the crontab line"; }
lab_log "ok: remove --user removed the empty directories and reminded of the crontab line"

t "$TETHER" status -p "$RPORT" --user
{ [ "$RC" = 1 ] && has_line "$ERR" "No tunnel on port $RPORT."; } || { show; lab_fail "status -p after remove"; }

t "$TETHER" remove --user -p "$RPORT"
[ "$RC" = 1 ] || { show; lab_fail "second remove: exit $RC, expected 1"; }
has_line "$ERR" "No tunnel on port $RPORT to remove (nothing at $CONF)." || { show; lab_fail "second remove: unclear message"; }
lab_log "ok: removing again: exit 1, '$ERR'"

# ---- the seed's name ------------------------------------------------------
mkdir -p "$LAB_DIR/bin"
ln -s "$TETHER_REAL" "$LAB_DIR/bin/scitex-tunnel"
SEED=$LAB_DIR/bin/scitex-tunnel
SPORT=$(lab_free_port) || lab_fail "no free port"
for verb in setup setup-tunnel; do
	t "$SEED" "$verb" --user -p "$SPORT" -s "$KEY"
	[ "$RC" = 1 ] || { show; lab_fail "scitex-tunnel $verb without a bastion: exit $RC, expected 1"; }
	has_line "$ERR" "bastion_server is required. Provide it as an argument or set SCITEX_TUNNEL_BASTION_SERVER environment variable." ||
	    { show; lab_fail "scitex-tunnel $verb without a bastion: not the seed's message"; }
done
lab_log "ok: scitex-tunnel setup without -b: the seed's message, exit 1"

# The seed's environment variables, and no XDG_RUNTIME_DIR (a plain HPC
# login): the daemon's files go under ~/.local/state/tether.
lab_us; t0=$LAB_US
t env -u XDG_RUNTIME_DIR SCITEX_TUNNEL_BASTION_SERVER="$BASTION" SCITEX_TUNNEL_SECRET_KEY_PATH="$KEY" \
    "$SEED" setup --user -p "$SPORT" --known-hosts "$KH" -t "$TARGET"
[ "$RC" = 0 ] || { show; lab_fail "scitex-tunnel setup --user: exit $RC"; }
has_line "$OUT" "Tunnel on port $SPORT set up successfully." || { show; lab_fail "scitex-tunnel setup: no success message"; }
SPIDF=$HOME/.local/state/tether/$SPORT.pid
has "$OUT" "'--pidfile' '$SPIDF' " || { show; lab_fail "scitex-tunnel setup: the @reboot line does not use $SPIDF"; }
SPID=$(cat "$SPIDF" 2>/dev/null)
lab_alive "${SPID:-0}" || lab_fail "scitex-tunnel setup: no live daemon in $SPIDF"
out=$(lab_ssh_through "$SPORT" 'echo seed-ok') || lab_fail "ssh through port $SPORT failed: $out"
[ "$out" = seed-ok ] || lab_fail "ssh through the seed-made tunnel printed '$out'"
lab_log "ok: scitex-tunnel setup (SCITEX_* variables) brought port $SPORT up in $(lab_since_us "$t0") s"
t env -u XDG_RUNTIME_DIR "$SEED" status -p "$SPORT"
{ [ "$RC" = 0 ] && grep -qE "^$SPORT +user +daemon +forwarding " <<<"$OUT"; } || { show; lab_fail "scitex-tunnel status -p $SPORT"; }
t env -u XDG_RUNTIME_DIR "$SEED" remove --user -p "$SPORT"
{ [ "$RC" = 0 ] && has_line "$OUT" "Tunnel on port $SPORT removed."; } || { show; lab_fail "scitex-tunnel remove"; }
end=$((SECONDS + 5))
while lab_alive "$SPID" && [ "$SECONDS" -lt "$end" ]; do sleep 0.1; done
lab_alive "$SPID" && lab_fail "scitex-tunnel remove left pid $SPID running"
left=$(find "${TREES[@]}" -name "*$SPORT*")
[ -z "$left" ] || lab_fail "scitex-tunnel remove left files behind: $left"
t env -u XDG_RUNTIME_DIR "$SEED" remove --user -p "$SPORT"
[ "$RC" = 0 ] && has "$OUT" "No tunnel on port $SPORT to remove." ||
    { show; lab_fail "scitex-tunnel remove again: exit $RC, expected the seed's 0"; }
lab_log "ok: scitex-tunnel remove: daemon gone, no files, again → exit 0, as the seed"

# ---- a system manager runs, but no user one: the message says which --------
if [ "$(id -u)" = 0 ] && unshare -m --propagation private true 2>/dev/null; then
	NPORT=$(lab_free_port) || lab_fail "no free port"
	# shellcheck disable=SC2016
	t unshare -m --propagation private sh -c 'mkdir -p /run/systemd &&
		mount -t tmpfs -o mode=755 tmpfs /run/systemd && mkdir /run/systemd/system || exit 99
		"$0" setup --user --no-start -p "$1" -b "$2" -s "$3" --known-hosts "$4" -t "$5"; rc=$?
		"$0" remove --user -p "$1" >/dev/null; exit $rc' \
	    "$TETHER" "$NPORT" "$BASTION" "$KEY" "$KH" "$TARGET"
	[ "$RC" = 99 ] && lab_fail "could not mount a private /run/systemd"
	[ "$RC" = 0 ] || { show; lab_fail "setup --user with a system manager but no user one: exit $RC"; }
	has "$OUT" "No user systemd here (systemd runs, but no systemd --user instance for $(id -un)" ||
	    { show; lab_fail "the fallback does not say 'no user systemd' where the system manager runs"; }
	has "$OUT" "No systemd here" && { show; lab_fail "the fallback says 'No systemd here' where the system manager runs"; }
	lab_log "ok: system manager without a user one: $(grep -m1 'No user systemd' <<<"$OUT")"
fi

lab_pass "daemon fallback: setup, status, idempotence, lock, dry run, remove, seed names"
