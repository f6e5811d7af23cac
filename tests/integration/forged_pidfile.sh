#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# What a service user can plant in a runtime directory it owns must not
# make tether (often run as root) signal or write anything it names:
#  - system mode: `tether remove -p PORT` never reads /run/tether/PORT.pid:
#    a pidfile naming another process, locked with flock, kills nothing and
#    is no tunnel ("No tunnel on port N to remove");
#  - user mode: a locked pidfile naming a process that is not tether is
#    refused ("not tether"), the process lives; so is a symlinked pidfile;
#  - `run --daemon` with a pidfile or log file that is a symlink to another
#    file refuses it ("is a symlink"), the file is untouched, nothing starts.
#
# usage: forged_pidfile.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[forged_pidfile] SKIP: remove and run --daemon are tether's"; exit 77; }
lab_init "$@"
TETHER=$LAB_TETHER
export HOME=$LAB_DIR/home
export XDG_RUNTIME_DIR=$LAB_DIR/xdg-runtime
unset TETHER_BASTION TETHER_KEY SCITEX_TUNNEL_BASTION_SERVER SCITEX_TUNNEL_SECRET_KEY_PATH
mkdir -p "$HOME" "$XDG_RUNTIME_DIR/tether"
chmod 700 "$XDG_RUNTIME_DIR"
t() { lab_cmd "$@"; }
show() { lab_show_cmd; }
PORT=$(lab_free_port) || lab_fail "no free port"

# The victim: a process of the caller's that is not tether.
lab_spawn "$LAB_DIR/victim.out" sleep 300
VICTIM=$LAB_SPAWN_PID

# hold_lock FILE: someone holds FILE's lock, as a live daemon would.
hold_lock() {
	lab_spawn "$LAB_DIR/flock.out" flock "$1" sleep 300
	LOCKER=$LAB_SPAWN_PID
	local end=$((SECONDS + 5))
	until flock -n "$1" true 2>/dev/null; [ $? = 1 ]; do
		[ "$SECONDS" -lt "$end" ] || lab_fail "flock did not take $1"
		sleep 0.05
	done
}

# ---- user mode: a locked pidfile naming a process that is not tether ------
PIDF=$XDG_RUNTIME_DIR/tether/$PORT.pid
echo "$VICTIM" >"$PIDF"
hold_lock "$PIDF"
t "$TETHER" remove --user -p "$PORT"
sleep 0.2
lab_alive "$VICTIM" || lab_fail "remove --user killed pid $VICTIM (sleep) named in $PIDF"
[ "$RC" = 1 ] || { show; lab_fail "remove --user with a forged pidfile: exit $RC, expected 1"; }
lab_has "$ERR" "refusing to signal pid $VICTIM: it is $(readlink /proc/$VICTIM/exe), not tether" ||
    { show; lab_fail "remove --user: the refusal does not say why"; }
lab_log "ok: remove --user refused pid $VICTIM: $ERR"
lab_stop "$LOCKER" KILL

# The same pidfile reached through a symlink.
mv "$PIDF" "$PIDF.real"
ln -s "$PIDF.real" "$PIDF"
hold_lock "$PIDF.real"
t "$TETHER" remove --user -p "$PORT"
sleep 0.2
lab_alive "$VICTIM" || lab_fail "remove --user killed pid $VICTIM through a symlinked pidfile"
{ [ "$RC" = 1 ] && lab_has "$ERR" "is a symlink: refusing to follow it"; } ||
    { show; lab_fail "remove --user with a symlinked pidfile"; }
lab_log "ok: remove --user refused the symlinked pidfile: $ERR"
lab_stop "$LOCKER" KILL
rm -f "$PIDF" "$PIDF.real"

# ---- system mode: the pidfile is never read ------------------------------
if [ "$(id -u)" = 0 ] && unshare -m --propagation private true 2>/dev/null; then
	# A private /run (no systemd there, no host tunnel state), a runtime
	# directory handed to uid 4242 as RuntimeDirectory= would, and in it
	# the victim's pid under a lock.
	# shellcheck disable=SC2016
	t unshare -m --propagation private sh -c '
		mount -t tmpfs -o mode=755 tmpfs /run || exit 99
		mkdir /run/tether && chown 4242:4242 /run/tether
		echo "$2" >/run/tether/$1.pid && chown 4242:4242 /run/tether/$1.pid
		flock /run/tether/$1.pid sleep 30 & locker=$!
		sleep 0.3
		"$0" remove -p "$1"; rc=$?
		kill $locker; exit $rc' "$TETHER" "$PORT" "$VICTIM"
	[ "$RC" = 99 ] && lab_fail "could not mount a private /run"
	sleep 0.2
	lab_alive "$VICTIM" || lab_fail "root's remove -p $PORT killed pid $VICTIM named in a user's /run/tether/$PORT.pid"
	{ [ "$RC" = 1 ] && lab_has "$ERR" "No tunnel on port $PORT to remove"; } ||
	    { show; lab_fail "system remove with only a forged pidfile: exit $RC"; }
	lab_log "ok: system remove ignored the forged pidfile: $ERR"
else
	lab_log "system mode part skipped (needs root and unshare -m)"
fi

# ---- run --daemon: no symlinked pidfile or log file ----------------------
printf 'root only\n' >"$LAB_DIR/victim"
chmod 600 "$LAB_DIR/victim"
ln -s "$LAB_DIR/victim" "$LAB_DIR/evil.pid"
ln -s "$LAB_DIR/victim" "$LAB_DIR/evil.log"
RUN=(run --daemon -b "$LAB_USER@127.0.0.1:1" -s "$LAB_KEY" -R "1:127.0.0.1:1"
    --state-dir "$LAB_DIR/state")
for which in pidfile log; do
	if [ $which = pidfile ]; then
		t "$TETHER" "${RUN[@]}" --pidfile "$LAB_DIR/evil.pid" --log-file "$LAB_DIR/ok.log"
	else
		t "$TETHER" "${RUN[@]}" --pidfile "$LAB_DIR/ok.pid" --log-file "$LAB_DIR/evil.log"
	fi
	[ "$(cat "$LAB_DIR/victim")" = "root only" ] ||
	    lab_fail "run --daemon wrote through the symlinked $which: $(head -c 200 "$LAB_DIR/victim")"
	{ [ "$RC" = 1 ] && lab_has "$ERR" "is a symlink: refusing to follow it; remove it"; } ||
	    { show; lab_fail "run --daemon with a symlinked $which: exit $RC"; }
	lab_log "ok: run --daemon refused the symlinked $which: $ERR"
done

lab_stop "$VICTIM" KILL
lab_pass "forged pidfiles and symlinks: nothing signalled, nothing written"
