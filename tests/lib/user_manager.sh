# SPDX-License-Identifier: AGPL-3.0-or-later
# shellcheck shell=bash
# Globals set here are read by the test scripts that source this file.
# shellcheck disable=SC2034
#
# user_manager.sh: a REAL `systemd --user` manager for a throwaway user, on
# the host, with nothing of the host changed but two cgroups of our own
# (removed at the end). The recipe of docs/test-lab.md ("User manager on the
# host, no container"). Use:
#
#   source tests/lib/user_manager.sh
#   um_enter_namespace "$@"     # first: skips (77) unless root etc., then
#                               # re-runs the script in `unshare -m` with
#                               # tmpfs over /run and an overlay over /etc
#   source tests/lib/lab.sh; lab_init "$@"
#   um_start                    # user, tether copy, cgroups, the manager
#   "${AS_USER[@]}" CMD...      # CMD as the user (login environment,
#                               # XDG_RUNTIME_DIR=/run/user/UID)
#   uctl ARGS...                # systemctl --user ARGS as the user
#
# Sets TUSER TUID TGID THOME RUNDIR TETHER (the copy the user can run)
# MANAGER_PID MANAGER_LOG. The user and its home exist only inside the
# namespace (/etc is an overlay kept in the /run tmpfs); it is still
# deleted at the end (userdel -r). On exit, before the lab's cleanup: the
# manager is stopped (it stops its units), anything left in its cgroups is
# killed, the cgroups are removed deepest first; the mounts end with the
# namespace.

UM_SYSTEMD=/lib/systemd/systemd

um__skip() {
	echo "[$(basename "$0" .sh)] SKIP: $*"
	exit 77
}

# um_enter_namespace ARGS...: the script's own arguments.
um_enter_namespace() {
	if [ -z "${UM_INNER:-}" ]; then
		[ "$(id -u)" = 0 ] || um__skip "needs root (mount namespace, cgroups, useradd)"
		[ -x "$UM_SYSTEMD" ] || um__skip "$UM_SYSTEMD not found (install systemd)"
		command -v systemctl >/dev/null || um__skip "systemctl not found (install systemd)"
		command -v setpriv >/dev/null || um__skip "setpriv not found (util-linux)"
		command -v useradd >/dev/null || um__skip "useradd not found (passwd)"
		local err
		if ! err=$(unshare -m --propagation private true 2>&1); then
			um__skip "unshare -m failed: $err"
		fi
		UM_INNER=1 exec unshare -m --propagation private bash "$0" "$@"
	fi
	mount -t tmpfs -o mode=755 tmpfs /run || um__skip "cannot mount a tmpfs over /run"
	mkdir -p /run/.etc-upper/u /run/.etc-upper/w /run/systemd/system /run/sshd /run/home
	mount -t overlay overlay -o lowerdir=/etc,upperdir=/run/.etc-upper/u,workdir=/run/.etc-upper/w /etc ||
	    um__skip "cannot mount an overlay over /etc (for a throwaway user private to the test)"
}

uctl() { "${AS_USER[@]}" systemctl --user "$@"; }

um__cleanup() {
	local cg end pids p
	if [ -n "${MANAGER_PID:-}" ] && lab_alive "$MANAGER_PID"; then
		kill -TERM "$MANAGER_PID" 2>/dev/null
		lab_wait_pid "$MANAGER_PID" 10
	fi
	end=$((SECONDS + 10))
	while [ "${#UM_CGROUPS[@]}" -gt 0 ]; do
		pids=$(find "${UM_CGROUPS[@]}" -name cgroup.procs -exec cat {} + 2>/dev/null)
		[ -n "$pids" ] || break
		for p in $pids; do kill -KILL "$p" 2>/dev/null; done
		[ "$SECONDS" -lt "$end" ] || { lab_log "warning: processes left in $UM_CG_NAME: $pids"; break; }
		sleep 0.1
	done
	for cg in "${UM_CGROUPS[@]}"; do
		find "$cg" -depth -mindepth 1 -type d -exec rmdir {} + 2>/dev/null
		rmdir "$cg" 2>/dev/null || [ ! -d "$cg" ] || lab_log "warning: cannot remove $cg"
	done
	[ -n "${TUSER:-}" ] && userdel -r "$TUSER" >/dev/null 2>&1
	# The namespace takes its mounts along when the test ends; unmounting
	# here only makes that explicit (lazily: sshd may still hold /run).
	umount -l /etc 2>/dev/null
	umount -l /run 2>/dev/null
	return 0
}

# um_start: after lab_init, inside the namespace.
um_start() {
	local r cg state end
	UM_CGROUPS=()
	lab_on_exit um__cleanup

	TUSER=tether-u$$
	THOME=/run/home/$TUSER
	useradd -m -d "$THOME" -s /bin/sh "$TUSER" >"$LAB_DIR/useradd.log" 2>&1 ||
	    lab_skip "useradd failed: $(cat "$LAB_DIR/useradd.log")"
	usermod -p '*' "$TUSER" || lab_fail "usermod -p '*' failed"
	TUID=$(id -u "$TUSER")
	TGID=$(id -g "$TUSER")
	[ "$TUID" != 0 ] || lab_fail "the throwaway user has uid 0"
	grep -q "^$TUSER:" /proc/1/root/etc/passwd 2>/dev/null &&
	    lab_fail "the throwaway user leaked into the host's /etc/passwd"
	RUNDIR=/run/user/$TUID
	mkdir -p "$RUNDIR"
	chown "$TUID:$TGID" "$RUNDIR"
	chmod 700 "$RUNDIR"
	AS_USER=(setpriv --reuid="$TUID" --regid="$TGID" --init-groups --
	    env -i HOME="$THOME" USER="$TUSER" LOGNAME="$TUSER" SHELL=/bin/sh
	    PATH=/usr/local/bin:/usr/bin:/bin XDG_RUNTIME_DIR="$RUNDIR" LAB_TAG="$LAB_TAG")
	lab_log "throwaway user $TUSER (uid $TUID), home $THOME, XDG_RUNTIME_DIR $RUNDIR"

	# The build dir may be closed to others: a copy the user can run.
	mkdir -p /run/tether-test-bin
	{ cp "$LAB_TETHER" /run/tether-test-bin/tether &&
	    chmod 755 /run/tether-test-bin /run/tether-test-bin/tether; } ||
	    lab_fail "cannot copy the tether binary"
	TETHER=/run/tether-test-bin/tether

	# A delegated cgroup (each hierarchy systemd uses) owned by the user.
	UM_CG_NAME=tether-test-$$
	if [ -d /sys/fs/cgroup/unified ] && [ -d /sys/fs/cgroup/systemd ]; then
		UM_CG_ROOTS=(/sys/fs/cgroup/systemd /sys/fs/cgroup/unified)  # hybrid
	elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		UM_CG_ROOTS=(/sys/fs/cgroup)                                 # v2 only
	else
		lab_skip "no name=systemd or cgroup2 hierarchy under /sys/fs/cgroup"
	fi
	# Empty cgroups of earlier runs that were killed (SIGKILL runs no
	# cleanup; their manager got SIGTERM and exited): remove them.
	for r in "${UM_CG_ROOTS[@]}"; do
		for cg in "$r"/tether-test-*; do
			if [ ! -d "$cg" ] || lab_alive "${cg##*-}"; then continue; fi
			find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
		done
	done
	for r in "${UM_CG_ROOTS[@]}"; do
		mkdir "$r/$UM_CG_NAME" 2>"$LAB_DIR/cgroup.err" ||
		    lab_skip "cannot create a cgroup in $r: $(cat "$LAB_DIR/cgroup.err")"
		UM_CGROUPS+=("$r/$UM_CG_NAME")
		chown -R "$TUID:$TGID" "$r/$UM_CG_NAME"
	done

	# A shell moves itself into the cgroups, then becomes the manager (which
	# gets SIGTERM, and stops its units, if the test dies without cleanup).
	MANAGER_LOG=$LAB_DIR/systemd-user.log
	# shellcheck disable=SC2016
	"${LAB_PDEATH[@]}" sh -c 'for cg in "$@"; do echo $$ >"$cg/cgroup.procs" || exit 90; done
	    exec setpriv --reuid='"$TUID"' --regid='"$TGID"' --init-groups --pdeathsig TERM -- env -i \
	        HOME='"$THOME"' USER='"$TUSER"' LOGNAME='"$TUSER"' PATH=/usr/local/bin:/usr/bin:/bin \
	        XDG_RUNTIME_DIR='"$RUNDIR"' LAB_TAG='"$LAB_TAG"' SYSTEMD_LOG_TARGET=console \
	        '"$UM_SYSTEMD"' --user' sh "${UM_CGROUPS[@]}" </dev/null >"$MANAGER_LOG" 2>&1 &
	MANAGER_PID=$!
	lab__own "$MANAGER_PID"
	end=$((SECONDS + 15))
	state=
	while [ "$SECONDS" -lt "$end" ]; do
		lab_alive "$MANAGER_PID" || break
		if [ -S "$RUNDIR/systemd/private" ]; then
			state=$(uctl is-system-running 2>/dev/null)
			case $state in running|degraded) break ;; esac
		fi
		sleep 0.1
	done
	if ! lab_alive "$MANAGER_PID"; then
		lab_wait_pid "$MANAGER_PID" 1
		lab_skip "systemd --user exited (status $LAB_RC) here: $(tail -n 5 "$MANAGER_LOG" | tr '\n' ' ')"
	fi
	case $state in
	running) ;;
	degraded) lab_log "note: the user manager is degraded: $(uctl --failed --no-legend 2>/dev/null | tr '\n' ' ')" ;;
	*) lab_skip "systemd --user did not reach running within 15 s (state '$state'): $(tail -n 5 "$MANAGER_LOG" | tr '\n' ' ')" ;;
	esac
	lab_log "systemd --user pid $MANAGER_PID is $state (cgroup $UM_CG_NAME)"
}

# um_give_key: the lab key and the bastion's known_hosts in the user's ~/.ssh.
um_give_key() {
	install -o "$TUID" -g "$TGID" -m 700 -d "$THOME/.ssh"
	install -o "$TUID" -g "$TGID" -m 600 "$LAB_KEY" "$THOME/.ssh/id_tunnel"
	install -o "$TUID" -g "$TGID" -m 644 "$BASTION_KNOWN_HOSTS" "$THOME/.ssh/known_hosts"
}
