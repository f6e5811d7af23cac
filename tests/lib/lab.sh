# SPDX-License-Identifier: AGPL-3.0-or-later
# shellcheck shell=bash
# Globals set here are read by the test scripts that source this file.
# shellcheck disable=SC2034
#
# lab.sh: the integration-test lab. Source it from a test script, then:
#
#   lab_init "$@"                 # $1 = tether binary, $2 = tests build dir
#   lab_start_bastion             # sets BASTION_PORT BASTION_PID BASTION_KNOWN_HOSTS
#   lab_start_workstation         # sets WS_PORT WS_PID
#   lab_start_netload echo|source # sets TARGET_PORT TARGET_PID
#   RPORT=$(lab_free_port)
#   lab_start_tether run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
#       --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$RPORT:127.0.0.1:$WS_PORT"
#   lab_wait_forward "$RPORT" 20 || lab_fail "..."
#   lab_ssh_through "$RPORT" 'echo tunnel-ok'
#   lab_pass
#
# Other helpers: lab_free_port, lab_wait_log FILE REGEX TIMEOUT,
# lab_wait_tcp PORT TIMEOUT [PID], lab_port_open PORT, lab_rss_kb PID,
# lab_alive PID, lab_spawn OUTFILE CMD... (background, recorded),
# lab_wait_pid PID TIMEOUT / lab_stop PID [SIG] [TIMEOUT] (set LAB_RC),
# lab_run_tether ARGS... (foreground under `timeout 20`; sets LAB_RC, LAB_OUT),
# lab_log, lab_check WHAT CMD..., lab_pass, lab_fail MSG (exit 1),
# lab_skip MSG (exit 77). Files: $LAB_DIR, $LAB_KEY (client key, mode 600),
# $NETLOAD (tests/tools/netload.c), $LAB_USER (the login on both sshds).
#
# Everything runs on 127.0.0.1 with ports picked by binding port 0. Every
# process the test starts is recorded; on exit (pass, fail, error, signal)
# the trap kills each one with its whole process tree (sshd's per-session
# children included), reaps the test's own children and removes the lab dir.
#
# Environment knobs:
#   LAB_TUNNEL=ssh   lab_start_tether runs OpenSSH's client (ssh -N -R ...)
#                    with the same arguments instead of tether (to validate
#                    the lab, or as a baseline for benchmarks).
#   LAB_KEEP=1       keep the lab dir (logs) after the test.
#   LAB_VERBOSE=1    print every log of the lab on exit, even on success.
#   LAB_WRAP="valgrind -q"  a command prefix for the background tether.
#   LAB_SSHD_EXTRA   lines put first in every sshd_config the lab writes, so
#                    they win over the lab's own (sshd keeps the first value):
#                    a cipher, a RekeyLimit, the field's server settings.
#
# Functions that start processes set global variables; never call them in
# $(...) or a pipeline (the process would not be a child of the test).

LAB_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_SRC_DIR=$(cd "$LAB_LIB_DIR/.." && pwd)       # tests/
LAB_SSHD=/usr/sbin/sshd
LAB_PIDS=()
LAB_PDEATH=()
LAB_SSHD_WRAP=() # a command sshd runs under (lab_start_jump)
declare -gA LAB_REAPED=()
LAB_DIR=
LAB_TUNNEL=${LAB_TUNNEL:-tether}
# Tests do not read the machine's ~/.ssh/config: those about ssh_config
# name their own file (-o ssh_config=FILE wins over this).
export TETHER_SSH_CONFIG=${TETHER_SSH_CONFIG:-none}
LAB_NAME=$(basename "$0" .sh)
LAB_RESULT=
LAB_TETHER_N=0
# Deadline handed to long-running netload servers: past the ctest TIMEOUT.
LAB_SERVER_DEADLINE=${LAB_SERVER_DEADLINE:-600}

lab_log() {
	printf '[%s] %s\n' "$LAB_NAME" "$*"
}

lab_skip() {
	LAB_RESULT=SKIP
	printf '[%s] SKIP: %s\n' "$LAB_NAME" "$*"
	exit 77
}

lab_fail() {
	LAB_RESULT=FAIL
	printf '[%s] FAIL: %s\n' "$LAB_NAME" "$*"
	lab__dump_logs
	exit 1
}

lab_pass() {
	LAB_RESULT=PASS
	printf '[%s] PASS%s\n' "$LAB_NAME" "${1:+: $*}"
	exit 0
}

# lab_check DESCRIPTION COMMAND...: run COMMAND, print "ok"/fail.
lab_check() {
	local what=$1
	shift
	if "$@"; then
		lab_log "ok: $what"
	else
		lab_fail "$what"
	fi
}

lab__dump_logs() {
	local f
	[ -n "$LAB_DIR" ] && [ -d "$LAB_DIR" ] || return 0
	for f in "$LAB_DIR"/*.log; do
		[ -f "$f" ] || continue
		printf '%s\n' "---- $(basename "$f") (last 40 lines) ----"
		tail -n 40 "$f"
	done
	printf '%s\n' "---- end of logs (lab dir $LAB_DIR) ----"
}

# ---- processes ----------------------------------------------------------

# lab__stat PID: sets LAB__STATE and LAB__PPID from /proc/PID/stat (no fork);
# returns 1 if the pid is gone.
lab__stat() {
	local s rest
	LAB__STATE=
	LAB__PPID=
	{ read -r s <"/proc/$1/stat"; } 2>/dev/null || return 1
	[ -n "$s" ] || return 1
	rest=${s##*) }           # after "pid (comm) "
	LAB__STATE=${rest%% *}
	rest=${rest#* }
	LAB__PPID=${rest%% *}
}

# Alive = exists and is not a zombie.
lab_alive() {
	lab__stat "$1" || return 1
	[ "$LAB__STATE" != Z ] && [ "$LAB__STATE" != X ]
}

# lab__tree PID...: prints the pids and all their descendants (parents first).
lab__tree() {
	local -A kids=()
	local d pid queue i
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		lab__stat "$pid" || continue
		kids[$LAB__PPID]+=" $pid"
	done
	queue=("$@")
	i=0
	while [ "$i" -lt "${#queue[@]}" ]; do
		pid=${queue[$i]}
		printf '%s\n' "$pid"
		# shellcheck disable=SC2206
		queue+=(${kids[$pid]:-})
		i=$((i + 1))
	done
}

# Pids of live processes carrying this lab's tag in their environment: the
# processes the test started and their descendants, even reparented ones
# (sshd's per-connection processes keep the environment they started with).
lab__tagged() {
	local f pid
	while read -r f; do
		pid=${f#/proc/}
		pid=${pid%/environ}
		[ "$pid" = "$$" ] && continue
		[ "$pid" = "$BASHPID" ] && continue
		lab_alive "$pid" && printf '%s\n' "$pid"
	done < <(grep -lsxzF "LAB_TAG=$LAB_TAG" /proc/[0-9]*/environ 2>/dev/null)
}

# Records a pid started by the test (a child of this shell).
lab__own() {
	LAB_PIDS+=("$1")
	unset "LAB_REAPED[$1]"
}

# lab_spawn OUTFILE CMD...: CMD in the background, stdout+stderr to OUTFILE,
# recorded for cleanup; sets LAB_SPAWN_PID. Reap it with lab_wait_pid.
lab_spawn() {
	local out=$1
	shift
	"${LAB_PDEATH[@]}" "$@" </dev/null >"$out" 2>&1 &
	LAB_SPAWN_PID=$!
	lab__own "$LAB_SPAWN_PID"
}

# lab_wait_pid PID TIMEOUT: wait up to TIMEOUT s for our child PID to exit,
# then reap it. Sets LAB_RC to its exit status, 124 if it had to be killed.
lab_wait_pid() {
	local pid=$1 timeout=${2:-10} end killed=0
	end=$((SECONDS + timeout))
	while lab_alive "$pid" && [ "$SECONDS" -lt "$end" ]; do
		sleep 0.1
	done
	if lab_alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		killed=1
	fi
	wait "$pid" 2>/dev/null
	LAB_RC=$?
	LAB_REAPED[$pid]=1
	[ "$killed" = 0 ] || LAB_RC=124
	return 0
}

# lab_stop PID [SIGNAL] [TIMEOUT]: signal one of our children and reap it;
# sets LAB_RC to its exit status (124 = did not stop in time, was killed).
lab_stop() {
	local pid=$1 sig=${2:-TERM} timeout=${3:-10}
	kill -"$sig" "$pid" 2>/dev/null
	lab_wait_pid "$pid" "$timeout"
}

lab__signalled() {
	LAB_RESULT=FAIL
	printf '[%s] FAIL: interrupted by SIG%s\n' "$LAB_NAME" "$1"
	lab__dump_logs
	exit "$2"
}

lab__cleanup() {
	local rc=$? pid live=() tree=() p end
	trap - EXIT INT TERM HUP
	# Collect every tree first: once a parent dies its children are
	# reparented and can no longer be found from the recorded pid.
	for pid in "${LAB_PIDS[@]}"; do
		[ -n "${LAB_REAPED[$pid]:-}" ] || live+=("$pid")
	done
	if [ "${#live[@]}" -gt 0 ]; then
		while read -r p; do tree+=("$p"); done < <(lab__tree "${live[@]}")
	fi
	if [ -n "${LAB_TAG:-}" ]; then
		while read -r p; do tree+=("$p"); done < <(lab__tagged)
	fi
	for p in "${tree[@]}"; do kill -TERM "$p" 2>/dev/null; done
	end=$((SECONDS + 5))
	for p in "${tree[@]}"; do
		while lab_alive "$p" && [ "$SECONDS" -lt "$end" ]; do sleep 0.05; done
	done
	for p in "${tree[@]}"; do
		lab_alive "$p" && kill -KILL "$p" 2>/dev/null
	done
	# Reap our own children.
	for pid in "${live[@]}"; do wait "$pid" 2>/dev/null; done
	# Not our children (sshd's session processes): wait until they are gone.
	end=$((SECONDS + 5))
	for p in "${tree[@]}"; do
		while lab_alive "$p" && [ "$SECONDS" -lt "$end" ]; do sleep 0.05; done
		lab_alive "$p" && lab_log "warning: pid $p survived SIGKILL"
	done
	if [ -z "$LAB_RESULT" ]; then
		# exit without lab_pass/lab_fail/lab_skip: an error in the script
		[ "$rc" = 0 ] && rc=1
		printf '[%s] FAIL: the test script ended without a verdict (status %s)\n' \
		    "$LAB_NAME" "$rc"
		lab__dump_logs
	elif [ -n "${LAB_VERBOSE:-}" ]; then
		lab__dump_logs
	fi
	if [ -n "$LAB_DIR" ] && [ -d "$LAB_DIR" ]; then
		if [ -n "${LAB_KEEP:-}" ]; then
			lab_log "lab dir kept: $LAB_DIR"
		else
			rm -rf "$LAB_DIR"
		fi
	fi
	exit "$rc"
}

# ---- setup --------------------------------------------------------------

# lab_init TETHER_BIN TESTS_BUILD_DIR
lab_init() {
	LAB_TETHER=${1:-}
	LAB_BUILD=${2:-}
	# Inherited by everything the test starts: the cleanup finds them by it.
	export LAB_TAG="tether-lab-$$-$RANDOM$RANDOM"
	trap lab__cleanup EXIT
	trap 'lab__signalled INT 130' INT
	trap 'lab__signalled TERM 143' TERM
	trap 'lab__signalled HUP 129' HUP
	LAB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tether-lab.$LAB_NAME.XXXXXX") ||
	    lab_fail "mktemp failed"
	chmod 700 "$LAB_DIR"
	# tether's state files go to the lab, never to the host's /run/tether.
	export RUNTIME_DIRECTORY=${RUNTIME_DIRECTORY:-$LAB_DIR/run}
	mkdir -p "$RUNTIME_DIRECTORY"
	LAB_USER=$(id -un)
	lab_log "lab dir $LAB_DIR, tunnel = $LAB_TUNNEL, user = $LAB_USER"

	[ -x "$LAB_SSHD" ] || lab_skip "$LAB_SSHD not found (install openssh-server)"
	command -v ssh >/dev/null || lab_skip "ssh not found (install openssh-client)"
	command -v ssh-keygen >/dev/null || lab_skip "ssh-keygen not found"
	if [ "$LAB_TUNNEL" = tether ]; then
		[ -n "$LAB_TETHER" ] || lab_fail "usage: $0 TETHER_BINARY TESTS_BUILD_DIR"
		[ -x "$LAB_TETHER" ] || lab_fail "tether binary '$LAB_TETHER' is missing or not executable"
	elif [ "$LAB_TUNNEL" != ssh ]; then
		lab_fail "LAB_TUNNEL='$LAB_TUNNEL': expected tether or ssh"
	fi
	lab__find_netload
	# If the test itself is killed (SIGKILL on a ctest timeout, so no trap
	# runs), the kernel sends SIGTERM to the processes it started.
	LAB_PDEATH=()
	if setpriv --pdeathsig TERM -- true 2>/dev/null; then
		LAB_PDEATH=(setpriv --pdeathsig TERM --)
	fi
	if [ "$(id -u)" = 0 ]; then
		mkdir -p /run/sshd && chmod 755 /run/sshd
	fi

	# The client key tether uses, accepted by both sshds.
	LAB_KEY=$LAB_DIR/id_ed25519
	ssh-keygen -q -t ed25519 -N '' -C "tether-lab" -f "$LAB_KEY" ||
	    lab_fail "ssh-keygen failed"
	chmod 600 "$LAB_KEY"
	cp "$LAB_KEY.pub" "$LAB_DIR/authorized_keys"
}

# NETLOAD: the tool built by CMake in the tests build dir, else compiled here.
lab__find_netload() {
	NETLOAD=
	if [ -n "$LAB_BUILD" ] && [ -x "$LAB_BUILD/netload" ]; then
		NETLOAD=$LAB_BUILD/netload
		return
	fi
	local cc=${CC:-cc}
	command -v "$cc" >/dev/null || lab_skip "netload not built and no C compiler"
	"$cc" -std=c17 -O2 -Wall -Wextra -Werror -Wmissing-prototypes \
	    -Wstrict-prototypes -o "$LAB_DIR/netload" "$LAB_SRC_DIR/tools/netload.c" ||
	    lab_fail "could not compile tests/tools/netload.c"
	NETLOAD=$LAB_DIR/netload
}

# Prints a free TCP port on 127.0.0.1 (bind port 0, read it back).
lab_free_port() {
	"$NETLOAD" freeport
}

# lab_wait_tcp PORT TIMEOUT [PID]: until 127.0.0.1:PORT accepts a connection;
# fails early if PID is given and exits.
lab_wait_tcp() {
	local port=$1 timeout=${2:-10} pid=${3:-} end
	end=$((SECONDS + timeout))
	while [ "$SECONDS" -lt "$end" ]; do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		if [ -n "$pid" ] && ! lab_alive "$pid"; then
			return 1
		fi
		sleep 0.1
	done
	return 1
}

# Whether 127.0.0.1:PORT accepts connections right now.
lab_port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# lab__start_sshd ROLE: a throwaway sshd in the foreground (-D), as our child.
# Sets LAB_SSHD_PORT, LAB_SSHD_PID, LAB_SSHD_HOSTPUB.
lab__start_sshd() {
	local role=$1 d=$LAB_DIR/$1 port attempt
	mkdir -p "$d"
	ssh-keygen -q -t ed25519 -N '' -C "$role" -f "$d/host_key" ||
	    lab_fail "ssh-keygen (host key of $role) failed"
	for attempt in 1 2 3 4 5; do
		port=$(lab_free_port) || lab_fail "netload freeport failed"
		cat >"$d/sshd_config" <<CFG
${LAB_SSHD_EXTRA:-}
Port $port
ListenAddress 127.0.0.1
HostKey $d/host_key
PidFile $d/sshd.pid
AuthorizedKeysFile $LAB_DIR/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding yes
GatewayPorts no
ClientAliveInterval 5
ClientAliveCountMax 3
MaxStartups 100:30:200
LogLevel VERBOSE
CFG
		"$LAB_SSHD" -t -f "$d/sshd_config" >"$LAB_DIR/$role-sshd-check.log" 2>&1 ||
		    lab_fail "sshd -t rejected the $role config: $(cat "$LAB_DIR/$role-sshd-check.log")"
		"${LAB_PDEATH[@]}" "${LAB_SSHD_WRAP[@]}" "$LAB_SSHD" -D -f "$d/sshd_config" \
		    -E "$LAB_DIR/$role-sshd.log" &
		LAB_SSHD_PID=$!
		lab__own "$LAB_SSHD_PID"
		if lab_wait_tcp "$port" 10 "$LAB_SSHD_PID"; then
			LAB_SSHD_PORT=$port
			LAB_SSHD_HOSTPUB=$(cut -d' ' -f1,2 "$d/host_key.pub")
			lab_log "$role sshd pid $LAB_SSHD_PID on 127.0.0.1:$port"
			return 0
		fi
		lab_stop "$LAB_SSHD_PID" TERM 5
		if grep -q 'Address already in use' "$LAB_DIR/$role-sshd.log" 2>/dev/null; then
			lab_log "$role sshd: port $port was taken, retrying"
			continue
		fi
		lab_fail "$role sshd did not start (status $LAB_RC)"
	done
	lab_fail "$role sshd: no free port after 5 attempts"
}

# The bastion: sets BASTION_PORT, BASTION_PID, BASTION_HOST_PUB,
# BASTION_KNOWN_HOSTS (a known_hosts file with "[127.0.0.1]:PORT key").
lab_start_bastion() {
	lab__start_sshd bastion
	BASTION_PORT=$LAB_SSHD_PORT
	BASTION_PID=$LAB_SSHD_PID
	BASTION_HOST_PUB=$LAB_SSHD_HOSTPUB
	BASTION_HOST_KEY=$LAB_DIR/bastion/host_key
	BASTION_LOG=$LAB_DIR/bastion-sshd.log
	BASTION_KNOWN_HOSTS=$LAB_DIR/known_hosts
	printf '[127.0.0.1]:%s %s\n' "$BASTION_PORT" "$BASTION_HOST_PUB" >"$BASTION_KNOWN_HOSTS"
}

# lab_start_jump NAME [HOSTS]: another sshd, a jump host; with HOSTS (a
# file) it runs in a private mount namespace where HOSTS is its /etc/hosts,
# so names in it resolve there and nowhere else. Sets JUMP_PORT, JUMP_PID
# and JUMP_HOST_PUB.
lab_start_jump() {
	local name=$1 hosts=${2:-}
	LAB_SSHD_WRAP=()
	[ -z "$hosts" ] || LAB_SSHD_WRAP=(unshare -m --propagation private
	    sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$hosts")
	lab__start_sshd "$name"
	LAB_SSHD_WRAP=()
	JUMP_PORT=$LAB_SSHD_PORT
	JUMP_PID=$LAB_SSHD_PID
	JUMP_HOST_PUB=$LAB_SSHD_HOSTPUB
}

# lab_start_jump_tunnel: a bastion and a jump host (both with
# $LAB_SSHD_EXTRA), an echo target, and tether reaching the bastion through
# the jump host with one forward, up. Sets JUMP_LOG, KH (both hosts' keys)
# and RPORT, beside what lab_start_bastion, lab_start_jump and
# lab_start_tether set.
lab_start_jump_tunnel() {
	lab_start_bastion
	lab_start_jump jump
	JUMP_LOG=$LAB_DIR/jump-sshd.log
	lab_start_netload echo
	KH=$LAB_DIR/jump_known_hosts
	{
		cat "$BASTION_KNOWN_HOSTS"
		printf '[127.0.0.1]:%s %s\n' "$JUMP_PORT" "$JUMP_HOST_PUB"
	} >"$KH"
	RPORT=$(lab_free_port) || lab_fail "no free port"
	lab_start_tether run -J "$LAB_USER@127.0.0.1:$JUMP_PORT" \
	    -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" --known-hosts "$KH" \
	    -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT"
	lab_wait_forward "$RPORT" 30 ||
	    lab_fail "the forward through the jump host was not ready within 30 s: $(tail -n 5 "$TETHER_LOG")"
}

# The workstation (the local target of the tunnel): sets WS_PORT, WS_PID and
# WS_KNOWN_HOSTS (its key under the alias "lab-workstation").
lab_start_workstation() {
	lab__start_sshd workstation
	WS_PORT=$LAB_SSHD_PORT
	WS_PID=$LAB_SSHD_PID
	WS_LOG=$LAB_DIR/workstation-sshd.log
	WS_KNOWN_HOSTS=$LAB_DIR/workstation_known_hosts
	printf 'lab-workstation %s\n' "$LAB_SSHD_HOSTPUB" >"$WS_KNOWN_HOSTS"
}

# lab_private_home: HOME, XDG_CONFIG_HOME and XDG_RUNTIME_DIR (0700) in the
# lab dir, and none of the environment that setup and run read from the
# caller (TETHER_*, SCITEX_TUNNEL_*, SUDO_USER): user-mode verbs then see
# only what the test made.
lab_private_home() {
	export HOME=$LAB_DIR/home XDG_CONFIG_HOME=$LAB_DIR/xdg-config
	export XDG_RUNTIME_DIR=$LAB_DIR/xdg-runtime
	unset TETHER_BASTION TETHER_KEY SCITEX_TUNNEL_BASTION_SERVER \
	    SCITEX_TUNNEL_SECRET_KEY_PATH SUDO_USER TETHER_DEBUG SCITEX_TUNNEL_DEBUG_MODE
	mkdir -p "$HOME/.ssh" "$XDG_CONFIG_HOME" "$XDG_RUNTIME_DIR"
	chmod 700 "$XDG_RUNTIME_DIR"
}

# lab_add_user NAME HOME: a throwaway login user (needs root) whose
# passwd home is HOME in the lab dir, with HOME/.ssh (0700), removed when
# the test ends. Key logins work ('*', not '!', as the password).
lab_add_user() {
	local name=$1 home=$2
	useradd --home-dir "$home" --create-home --shell /bin/sh "$name" ||
	    lab_fail "useradd $name failed"
	lab_on_exit "userdel '$name' >/dev/null 2>&1"
	usermod -p '*' "$name"
	chmod 755 "$LAB_DIR"
	install -d -m 700 -o "$name" -g "$name" "$home/.ssh"
}

# lab_as_user NAME HOME CMD...: CMD as that user, with only HOME, PATH and
# SSH_AUTH_SOCK (when set) from the environment, as a login would have.
lab_as_user() {
	local name=$1 home=$2
	shift 2
	setpriv --reuid="$name" --regid="$name" --init-groups \
	    env -i HOME="$home" USER="$name" PATH="$PATH" \
	    ${SSH_AUTH_SOCK:+SSH_AUTH_SOCK="$SSH_AUTH_SOCK"} "$@"
}

# lab_dropbear_usable: whether Dropbear can be the bastion here (it needs
# dropbear-bin and root, for a throwaway login user); else 1, with the
# reason in LAB_WHY.
lab_dropbear_usable() {
	LAB_WHY=
	[ -x /usr/sbin/dropbear ] || LAB_WHY="no /usr/sbin/dropbear (apt-get install dropbear-bin)"
	[ -n "$LAB_WHY" ] || [ "$(id -u)" = 0 ] || LAB_WHY="needs root to make a throwaway login user for Dropbear"
	[ -z "$LAB_WHY" ]
}

# lab_start_dropbear: Dropbear as a bastion on 127.0.0.1, logging in a
# throwaway user (home in the lab dir, removed on exit) whose
# authorized_keys holds LAB_KEY.pub. Sets DB_PORT, DB_PID (the listener),
# DB_USER, DB_HOME, DB_LOG and DB_KNOWN_HOSTS. Check lab_dropbear_usable
# first.
lab_start_dropbear() {
	DB_USER=tdb$$
	DB_HOME=$LAB_DIR/dbhome
	DB_LOG=$LAB_DIR/dropbear.log
	DB_KNOWN_HOSTS=$LAB_DIR/db_known_hosts
	lab_add_user "$DB_USER" "$DB_HOME"
	install -m 600 -o "$DB_USER" "$LAB_KEY.pub" "$DB_HOME/.ssh/authorized_keys"
	dropbearkey -t ed25519 -f "$LAB_DIR/db_host_key" >/dev/null 2>&1 || lab_fail "dropbearkey failed"
	DB_PORT=$(lab_free_port) || lab_fail "no free port"
	lab__dropbear_launch
	lab_wait_tcp "$DB_PORT" 10 "$DB_PID" || lab_fail "dropbear did not listen: $(cat "$DB_LOG")"
	printf '[127.0.0.1]:%s %s\n' "$DB_PORT" \
	    "$(dropbearkey -y -f "$LAB_DIR/db_host_key" | grep '^ssh-')" >"$DB_KNOWN_HOSTS"
	lab_log "dropbear $(/usr/sbin/dropbear -V 2>&1 | head -n 1) pid $DB_PID on 127.0.0.1:$DB_PORT, login $DB_USER"
}

# Dropbear in the foreground on DB_PORT, its log appended to DB_LOG; sets
# DB_PID. It forks one process per connection under this listener.
lab__dropbear_launch() {
	"${LAB_PDEATH[@]}" /usr/sbin/dropbear -F -E -s -p "127.0.0.1:$DB_PORT" \
	    -r "$LAB_DIR/db_host_key" -P "$LAB_DIR/dropbear.pid" 2>>"$DB_LOG" &
	DB_PID=$!
	lab__own "$DB_PID"
}

# lab_dropbear_sessions: the pids of Dropbear's per-connection processes.
lab_dropbear_sessions() {
	lab__tree "$DB_PID" | tail -n +2
}

# lab_restart_dropbear: kills Dropbear's listener and every connection
# process (SIGTERM, as a restart does), then starts it again on the same
# port with the same host key. Sets DB_PID.
lab_restart_dropbear() {
	local sessions=() p attempt end
	kill -STOP "$DB_PID" 2>/dev/null
	while read -r p; do sessions+=("$p"); done < <(lab_dropbear_sessions)
	[ "${#sessions[@]}" = 0 ] || kill -TERM "${sessions[@]}" 2>/dev/null
	kill -TERM "$DB_PID" 2>/dev/null
	kill -CONT "$DB_PID" 2>/dev/null
	lab_wait_pid "$DB_PID" 5
	end=$((SECONDS + 5))
	for p in "${sessions[@]}"; do
		while lab_alive "$p" && [ "$SECONDS" -lt "$end" ]; do sleep 0.05; done
		lab_alive "$p" && lab_fail "dropbear connection process $p survived SIGTERM"
	done
	for attempt in 1 2 3 4 5 6 7 8 9 10; do
		lab__dropbear_launch
		if lab_wait_tcp "$DB_PORT" 5 "$DB_PID"; then
			lab_log "dropbear restarted: pid $DB_PID on 127.0.0.1:$DB_PORT"
			return 0
		fi
		lab_wait_pid "$DB_PID" 2
		lab_log "dropbear did not listen again on port $DB_PORT (attempt $attempt), retrying"
		sleep 0.2
	done
	lab_fail "dropbear could not listen on port $DB_PORT again"
}

# lab_skip_or_require VAR MESSAGE: skip (77) for a missing dependency,
# unless the environment variable VAR is "require" (as CI sets it): then
# the test fails, so that a tier CI must run is never skipped there.
lab_skip_or_require() {
	if [ "${!1:-}" = require ]; then
		lab_fail "$2 ($1=require: this test must run here)"
	fi
	lab_skip "$2"
}

# lab_ssh2_install: the npm ssh2 package (the version the tests pin), from
# the npm registry once per build dir (LAB_BUILD/npm-ssh2). Sets
# SSH2_NODE_PATH. Returns 1 with the reason in LAB_WHY when node or npm is
# missing; fails the test if npm cannot install it.
SSH2_VERSION=1.17.0
lab_ssh2_install() {
	local prefix=${LAB_BUILD:-$LAB_DIR}/npm-ssh2
	LAB_WHY=
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		LAB_WHY="node/npm not found (apt-get install nodejs npm)"
		return 1
	fi
	if ! node -e "process.exit(require('$prefix/node_modules/ssh2/package.json').version === '$SSH2_VERSION' ? 0 : 1)" 2>/dev/null; then
		mkdir -p "$prefix" || lab_fail "cannot create $prefix"
		timeout 240 npm install --prefix "$prefix" --no-audit --no-fund --ignore-scripts \
		    --loglevel=error "ssh2@$SSH2_VERSION" >"$LAB_DIR/npm.log" 2>&1 ||
		    lab_fail "npm install ssh2@$SSH2_VERSION failed: $(tail -n 5 "$LAB_DIR/npm.log")"
	fi
	SSH2_NODE_PATH=$prefix/node_modules
}

# lab_start_ssh2 AUTHORIZED_KEYS: the npm ssh2 server (tests/tools/
# ssh2_bastion.js) as a bastion on 127.0.0.1, accepting the keys listed in
# AUTHORIZED_KEYS (read again at each login) for any user. One process
# serves every connection. Sets SSH2_PORT, SSH2_PID, SSH2_LOG and
# SSH2_KNOWN_HOSTS. Call lab_ssh2_install first.
lab_start_ssh2() {
	SSH2_AUTH=$1
	SSH2_LOG=$LAB_DIR/ssh2.log
	SSH2_KNOWN_HOSTS=$LAB_DIR/ssh2_known_hosts
	ssh-keygen -q -t ed25519 -N '' -C ssh2-bastion -f "$LAB_DIR/ssh2_host" ||
	    lab_fail "ssh-keygen (ssh2 host key) failed"
	SSH2_PORT=$(lab_free_port) || lab_fail "no free port"
	lab__ssh2_launch
	lab_wait_tcp "$SSH2_PORT" 10 "$SSH2_PID" ||
	    lab_fail "the ssh2 bastion did not start: $(cat "$SSH2_LOG")"
	printf '[127.0.0.1]:%s %s\n' "$SSH2_PORT" \
	    "$(cut -d' ' -f1,2 "$LAB_DIR/ssh2_host.pub")" >"$SSH2_KNOWN_HOSTS"
	lab_log "ssh2 $SSH2_VERSION server (node $(node --version)) pid $SSH2_PID on 127.0.0.1:$SSH2_PORT"
}

# node ssh2_bastion.js on SSH2_PORT, its output appended to SSH2_LOG; sets
# SSH2_PID.
lab__ssh2_launch() {
	NODE_PATH=$SSH2_NODE_PATH "${LAB_PDEATH[@]}" node "$LAB_SRC_DIR/tools/ssh2_bastion.js" \
	    "$SSH2_PORT" "$LAB_DIR/ssh2_host" "$SSH2_AUTH" "$LAB_SERVER_DEADLINE" \
	    </dev/null >>"$SSH2_LOG" 2>&1 &
	SSH2_PID=$!
	lab__own "$SSH2_PID"
}

# lab_restart_ssh2: kills the ssh2 server (SIGTERM) and starts it again on
# the same port with the same host key. Sets SSH2_PID.
lab_restart_ssh2() {
	local attempt
	lab_stop "$SSH2_PID" TERM 5
	for attempt in 1 2 3 4 5 6 7 8 9 10; do
		lab__ssh2_launch
		if lab_wait_tcp "$SSH2_PORT" 10 "$SSH2_PID"; then
			lab_log "ssh2 server restarted: pid $SSH2_PID on 127.0.0.1:$SSH2_PORT"
			return 0
		fi
		lab_wait_pid "$SSH2_PID" 2
		lab_log "the ssh2 server did not listen again on port $SSH2_PORT (attempt $attempt), retrying"
		sleep 0.2
	done
	lab_fail "the ssh2 server could not listen on port $SSH2_PORT again"
}

# lab_start_netload echo|source: a target server; sets TARGET_PORT, TARGET_PID.
lab_start_netload() {
	local kind=$1 port attempt
	for attempt in 1 2 3 4 5; do
		port=$(lab_free_port) || lab_fail "netload freeport failed"
		"${LAB_PDEATH[@]}" "$NETLOAD" -d "$LAB_SERVER_DEADLINE" "$kind" "$port" \
		    >"$LAB_DIR/netload-$kind.log" 2>&1 &
		TARGET_PID=$!
		lab__own "$TARGET_PID"
		if lab_wait_tcp "$port" 5 "$TARGET_PID"; then
			TARGET_PORT=$port
			lab_log "netload $kind server pid $TARGET_PID on 127.0.0.1:$port"
			return 0
		fi
		lab_stop "$TARGET_PID" TERM 2
	done
	lab_fail "netload $kind server did not start: $(cat "$LAB_DIR/netload-$kind.log")"
}

# ---- the tunnel ---------------------------------------------------------

# lab__ssh_argv ARGS...: translate tether's `run` arguments to OpenSSH's
# client (sets LAB_SSH_ARGV). Only what the tests use is supported.
lab__ssh_argv() {
	local dest="" port="" key="" kh="" policy=strict fwd=()
	[ "${1:-}" = run ] && shift
	while [ $# -gt 0 ]; do
		case $1 in
		-b|--bastion) dest=$2; shift 2 ;;
		-s|--key) key=$2; shift 2 ;;
		--known-hosts) kh=$2; shift 2 ;;
		-R|--remote) fwd+=(-R "$2"); shift 2 ;;
		--host-key-policy) policy=$2; shift 2 ;;
		-v|--verbose) shift ;;
		*) lab_fail "LAB_TUNNEL=ssh cannot translate tether argument '$1'" ;;
		esac
	done
	# user@host:port → user@host and -p port
	if [[ $dest =~ ^(.*):([0-9]+)$ ]]; then
		dest=${BASH_REMATCH[1]}
		port=${BASH_REMATCH[2]}
	fi
	[ "$policy" = accept-new ] && policy=accept-new || policy=yes
	LAB_SSH_ARGV=(ssh -F /dev/null -N -v
	    -o ExitOnForwardFailure=yes -o BatchMode=yes
	    -o StrictHostKeyChecking="$policy"
	    -o IdentitiesOnly=yes -o IdentityAgent=none
	    -o ServerAliveInterval=5 -o ServerAliveCountMax=3)
	[ -n "$kh" ] && LAB_SSH_ARGV+=(-o UserKnownHostsFile="$kh")
	[ -n "$key" ] && LAB_SSH_ARGV+=(-i "$key")
	[ -n "$port" ] && LAB_SSH_ARGV+=(-p "$port")
	LAB_SSH_ARGV+=("${fwd[@]}" "$dest")
}

# lab_start_tether ARGS...: tether ARGS in the background (or, with
# LAB_TUNNEL=ssh, the equivalent `ssh -N -R`). Sets TETHER_PID, TETHER_LOG.
lab_start_tether() {
	LAB_TETHER_N=$((LAB_TETHER_N + 1))
	TETHER_LOG=$LAB_DIR/tether-$LAB_TETHER_N.log
	if [ "$LAB_TUNNEL" = ssh ]; then
		lab__ssh_argv "$@"
		lab_log "starting (LAB_TUNNEL=ssh): ${LAB_SSH_ARGV[*]}"
		"${LAB_PDEATH[@]}" "${LAB_SSH_ARGV[@]}" </dev/null >"$TETHER_LOG" 2>&1 &
	else
		lab_log "starting: ${LAB_WRAP:+$LAB_WRAP }$LAB_TETHER $*"
		# shellcheck disable=SC2086
		"${LAB_PDEATH[@]}" ${LAB_WRAP:-} "$LAB_TETHER" "$@" </dev/null >"$TETHER_LOG" 2>&1 &
	fi
	TETHER_PID=$!
	lab__own "$TETHER_PID"
	lab_log "tunnel pid $TETHER_PID, log $TETHER_LOG"
}

# lab_wait_log FILE PATTERN TIMEOUT: until a line of FILE matches the
# extended regex PATTERN. Returns 1 on timeout.
lab_wait_log() {
	local file=$1 pattern=$2 timeout=${3:-10} end
	end=$((SECONDS + timeout))
	while [ "$SECONDS" -lt "$end" ]; do
		grep -qE -- "$pattern" "$file" 2>/dev/null && return 0
		sleep 0.1
	done
	grep -qE -- "$pattern" "$file" 2>/dev/null
}

# lab_wait_forward RPORT TIMEOUT: until the tunnel logs that RPORT is bound
# on the bastion (tether: "remote port RPORT bound"; ssh -v: "remote forward
# success for: listen 127.0.0.1:RPORT") and the port accepts connections.
# Fails early if the tunnel process exits.
lab_wait_forward() {
	local rport=$1 timeout=${2:-20} pattern end
	if [ "$LAB_TUNNEL" = ssh ]; then
		pattern="remote forward success for: listen [^ ]*:${rport}[, ]"
	else
		pattern="remote port $rport bound"
	fi
	end=$((SECONDS + timeout))
	while [ "$SECONDS" -lt "$end" ]; do
		if grep -qE -- "$pattern" "$TETHER_LOG" 2>/dev/null; then
			if lab_wait_tcp "$rport" $((end - SECONDS + 1)); then
				lab_log "forward ready: 127.0.0.1:$rport on the bastion"
				return 0
			fi
			lab_log "log says '$pattern' but 127.0.0.1:$rport does not accept connections"
			return 1
		fi
		if ! lab_alive "$TETHER_PID"; then
			lab_log "the tunnel (pid $TETHER_PID) exited before binding port $rport"
			return 1
		fi
		sleep 0.1
	done
	lab_log "no '$pattern' in $TETHER_LOG after $timeout s"
	return 1
}

# lab_run_tether ARGS...: run tether in the foreground under `timeout 20`;
# sets LAB_RC (124 = timed out) and LAB_OUT (stdout + stderr).
lab_run_tether() {
	local out=$LAB_DIR/run-$((LAB_TETHER_N += 1)).log
	lab_log "running: timeout 20 $LAB_TETHER $*"
	timeout -k 5 20 "$LAB_TETHER" "$@" </dev/null >"$out" 2>&1
	LAB_RC=$?
	LAB_OUT=$(cat "$out")
}

# lab_ssh_through PORT CMD: a real ssh to the workstation sshd through the
# forwarded PORT on the bastion; prints CMD's output.
lab_ssh_through() {
	local port=$1
	shift
	timeout -k 5 30 ssh -F /dev/null -p "$port" \
	    -o HostKeyAlias=lab-workstation -o UserKnownHostsFile="$WS_KNOWN_HOSTS" \
	    -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=10 \
	    -o IdentitiesOnly=yes -o IdentityAgent=none -o LogLevel=ERROR \
	    -i "$LAB_KEY" "$LAB_USER@127.0.0.1" "$@" </dev/null
}

# lab_cmd ARGS...: runs a command in the foreground, no input, under a time
# limit (LAB_CMD_TIMEOUT, default 40 s); sets RC, OUT (its stdout) and ERR
# (its stderr), each also kept in $LAB_DIR/cmd-N.{out,err}.
LAB_CMD_N=0
lab_cmd() {
	LAB_CMD_N=$((LAB_CMD_N + 1))
	timeout -k 5 "${LAB_CMD_TIMEOUT:-40}" "$@" </dev/null \
	    >"$LAB_DIR/cmd-$LAB_CMD_N.out" 2>"$LAB_DIR/cmd-$LAB_CMD_N.err"
	RC=$?
	OUT=$(cat "$LAB_DIR/cmd-$LAB_CMD_N.out")
	ERR=$(cat "$LAB_DIR/cmd-$LAB_CMD_N.err")
}

# lab_show_cmd: the last lab_cmd's status and output, for a failure report.
lab_show_cmd() {
	lab_log "  rc=$RC"
	printf '%s\n' "$OUT" | sed "s/^/[$LAB_NAME]   out: /"
	printf '%s\n' "$ERR" | sed "s/^/[$LAB_NAME]   err: /"
}

# lab_has TEXT STRING: whether TEXT contains STRING; lab_has_line TEXT
# LINE: whether one of its lines is exactly LINE.
lab_has() { grep -qF -- "$2" <<<"$1"; }
lab_has_line() { grep -qxF -- "$2" <<<"$1"; }

# lab_rss_kb PID: resident set size in KiB (VmRSS of /proc/PID/status).
lab_rss_kb() {
	awk '/^VmRSS:/ { print $2; found = 1 } END { exit !found }' "/proc/$1/status" 2>/dev/null
}

# ---- timing, logs, bastion faults, tools, namespaces ---------------------
# (added for the resilience tests: bastion_restart, bastion_frozen,
# stale_port, signals, notify, state_file, network_return, journal_prefix)

# lab_us: sets LAB_US to the wall clock in microseconds (no fork).
lab_us() {
	LAB_US=${EPOCHREALTIME//[!0-9]/}
}

# lab_since_us T0: prints the seconds since T0 (microseconds, from lab_us)
# with two decimals.
lab_since_us() {
	local now=${EPOCHREALTIME//[!0-9]/} d
	d=$((now - $1))
	printf '%d.%02d\n' $((d / 1000000)) $((d % 1000000 / 10000))
}

# lab_us_lt T0 LIMIT_MS: whether less than LIMIT_MS ms passed since T0.
lab_us_lt() {
	local now=${EPOCHREALTIME//[!0-9]/}
	[ $((now - $1)) -lt $(($2 * 1000)) ]
}

# lab_log_count FILE REGEX: prints how many lines of FILE match (0 if none).
lab_log_count() {
	local n
	n=$(grep -cE -- "$2" "$1" 2>/dev/null) || true
	printf '%s\n' "${n:-0}"
}

# lab_wait_log_count FILE REGEX N TIMEOUT: until at least N lines of FILE
# match the extended regex (polled every 50 ms). Returns 1 on timeout.
lab_wait_log_count() {
	local file=$1 pattern=$2 want=$3 timeout=${4:-10} end n
	end=$((${EPOCHREALTIME//[!0-9]/} + timeout * 1000000))
	while :; do
		n=$(grep -cE -- "$pattern" "$file" 2>/dev/null) || true
		[ "${n:-0}" -ge "$want" ] && return 0
		[ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ] || return 1
		sleep 0.05
	done
}

# lab_fd_count PID: prints the number of open file descriptors of PID.
lab_fd_count() {
	local fds
	fds=("/proc/$1/fd/"*)
	[ -e "${fds[0]}" ] || return 1
	printf '%s\n' "${#fds[@]}"
}

# lab_bastion_sessions: prints the pids of the bastion sshd's per-connection
# processes (every descendant of the listener BASTION_PID).
lab_bastion_sessions() {
	lab__tree "$BASTION_PID" | tail -n +2
}

# lab_kill_bastion [SIGNAL]: kills the bastion's listener and every session
# process it has (as a restart or a crash does; default SIGTERM), reaps the
# listener and waits up to 5 s until the sessions are gone. The listener
# is stopped first: otherwise a client reconnecting within a millisecond of
# its session's death can still be accepted, and served by a new session
# process, before the listener handles the signal.
lab_kill_bastion() {
	local sig=${1:-TERM} sessions=() p end
	kill -STOP "$BASTION_PID" 2>/dev/null
	while read -r p; do sessions+=("$p"); done < <(lab_bastion_sessions)
	[ "${#sessions[@]}" = 0 ] || kill -"$sig" "${sessions[@]}" 2>/dev/null
	kill -"$sig" "$BASTION_PID" 2>/dev/null
	kill -CONT "$BASTION_PID" 2>/dev/null
	lab_wait_pid "$BASTION_PID" 5
	# A connection accepted just before the stop gets its session process
	# after our list was taken: sweep for sshd sessions of ours that are not
	# the workstation's.
	while read -r p; do sessions+=("$p"); done < <(lab__stray_sshd_sessions)
	[ "${#sessions[@]}" = 0 ] || kill -"$sig" "${sessions[@]}" 2>/dev/null
	end=$((SECONDS + 5))
	for p in "${sessions[@]}"; do
		while lab_alive "$p" && [ "$SECONDS" -lt "$end" ]; do sleep 0.05; done
		lab_alive "$p" && lab_fail "bastion session process $p survived SIG$sig"
	done
	return 0
}

# lab_restart_bastion: starts the bastion sshd again with its config (same
# port, same host key), after lab_kill_bastion. Sets BASTION_PID.
lab_restart_bastion() {
	local attempt
	for attempt in 1 2 3 4 5 6 7 8 9 10; do
		"${LAB_PDEATH[@]}" "$LAB_SSHD" -D -f "$LAB_DIR/bastion/sshd_config" \
		    -E "$LAB_DIR/bastion-sshd.log" &
		BASTION_PID=$!
		lab__own "$BASTION_PID"
		if lab_wait_tcp "$BASTION_PORT" 10 "$BASTION_PID"; then
			lab_log "bastion sshd restarted: pid $BASTION_PID on 127.0.0.1:$BASTION_PORT"
			return 0
		fi
		lab_wait_pid "$BASTION_PID" 2
		lab_log "bastion sshd did not start again on port $BASTION_PORT (attempt $attempt), retrying"
		sleep 0.2
	done
	lab_fail "the bastion sshd could not listen on port $BASTION_PORT again"
}

# lab_user_runtime_dir: the tunnel writes its state file where
# `tether status --user` looks for it, in the lab dir (XDG_RUNTIME_DIR).
lab_user_runtime_dir() {
	export XDG_RUNTIME_DIR=$LAB_DIR/xdg
	export RUNTIME_DIRECTORY=$XDG_RUNTIME_DIR/tether
	mkdir -p "$RUNTIME_DIRECTORY"
}

# lab_find_tool NAME [CC ARGS...]: sets LAB_TOOL to tests/tools/NAME.c as
# built by CMake in the tests build dir, else compiles it here with the
# extra CC ARGS (e.g. libraries).
lab_find_tool() {
	local name=$1 cc=${CC:-cc}
	shift
	if [ -n "$LAB_BUILD" ] && [ -x "$LAB_BUILD/$name" ]; then
		LAB_TOOL=$LAB_BUILD/$name
		return 0
	fi
	command -v "$cc" >/dev/null || lab_skip "$name not built and no C compiler"
	"$cc" -std=c17 -O2 -Wall -Wextra -Werror -o "$LAB_DIR/$name" \
	    "$LAB_SRC_DIR/tools/$name.c" "$@" ||
	    lab_fail "could not compile tests/tools/$name.c"
	LAB_TOOL=$LAB_DIR/$name
}

# lab_on_exit COMMAND: run COMMAND (a string, eval'd) when the test ends,
# before the usual cleanup (which then kills every recorded process).
LAB_EXIT_HOOKS=()
lab_on_exit() {
	LAB_EXIT_HOOKS+=("$1")
	trap lab__exit_with_hooks EXIT
}

lab__exit_with_hooks() {
	local rc=$? h
	for h in "${LAB_EXIT_HOOKS[@]}"; do
		eval "$h" || true
	done
	(exit "$rc")
	lab__cleanup
}

# lab_netns_setup: two network namespaces joined by a veth pair, names
# unique to this run: LAB_NS_WS (the workstation, where tether runs; its
# end LAB_VETH_WS has 10.231.0.1/30) and LAB_NS_BAS (the bastion; its end
# LAB_VETH_BAS has 10.231.0.2/30). Deleted when the test ends. Skips (77)
# when namespaces cannot be made (not root, no CAP_SYS_ADMIN).
lab_netns_setup() {
	local id=$$
	LAB_NS_WS=tether-ws-$id
	LAB_NS_BAS=tether-bas-$id
	LAB_VETH_WS=tw$id
	LAB_VETH_BAS=tb$id
	LAB_NS_WS_ADDR=10.231.0.1
	LAB_NS_BAS_ADDR=10.231.0.2
	command -v ip >/dev/null || lab_skip "ip (iproute2) not found"
	if ! ip netns add "$LAB_NS_WS" 2>"$LAB_DIR/netns.err"; then
		lab_skip "ip netns add failed (needs root): $(cat "$LAB_DIR/netns.err")"
	fi
	lab_on_exit lab__netns_delete
	ip netns add "$LAB_NS_BAS" || lab_fail "ip netns add $LAB_NS_BAS failed"
	ip link add "$LAB_VETH_WS" type veth peer name "$LAB_VETH_BAS" ||
	    lab_fail "ip link add (veth) failed"
	{ ip link set "$LAB_VETH_WS" netns "$LAB_NS_WS" &&
	    ip link set "$LAB_VETH_BAS" netns "$LAB_NS_BAS" &&
	    ip -n "$LAB_NS_WS" addr add "$LAB_NS_WS_ADDR/30" dev "$LAB_VETH_WS" &&
	    ip -n "$LAB_NS_BAS" addr add "$LAB_NS_BAS_ADDR/30" dev "$LAB_VETH_BAS" &&
	    ip -n "$LAB_NS_WS" link set lo up &&
	    ip -n "$LAB_NS_BAS" link set lo up &&
	    ip -n "$LAB_NS_WS" link set "$LAB_VETH_WS" up &&
	    ip -n "$LAB_NS_BAS" link set "$LAB_VETH_BAS" up; } ||
	    lab_fail "configuring the veth pair in the namespaces failed"
	lab_log "namespaces $LAB_NS_WS ($LAB_NS_WS_ADDR) and $LAB_NS_BAS ($LAB_NS_BAS_ADDR)"
}

lab__netns_delete() {
	local ns
	for ns in "${LAB_NS_WS:-}" "${LAB_NS_BAS:-}"; do
		[ -n "$ns" ] || continue
		ip netns del "$ns" 2>/dev/null
	done
	# Normally gone with the namespace; left over if a move failed.
	[ -n "${LAB_VETH_WS:-}" ] && ip link del "$LAB_VETH_WS" 2>/dev/null
	return 0
}

# lab_ns_tcp NS ADDR PORT: whether ADDR:PORT accepts a connection inside NS.
lab_ns_tcp() {
	# shellcheck disable=SC2016  # expanded by the inner bash
	ip netns exec "$1" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$2" "$3" 2>/dev/null
}

# lab_start_bastion_netns [ALIVE_INTERVAL [ALIVE_COUNT]]: the bastion sshd
# inside LAB_NS_BAS, listening on LAB_NS_BAS_ADDR (and its loopback, where
# the forwarded ports are), with ClientAliveInterval/ClientAliveCountMax
# (default 5 and 3). Sets the same variables as lab_start_bastion.
lab_start_bastion_netns() {
	lab_start_sshd_ns bastion "$LAB_NS_BAS" "$LAB_NS_BAS_ADDR" 2222 "$@"
	BASTION_PID=$LAB_SSHD_PID
	BASTION_PORT=2222
	BASTION_HOST_PUB=$LAB_SSHD_HOSTPUB
	BASTION_HOST_KEY=$LAB_DIR/bastion/host_key
	BASTION_LOG=$LAB_DIR/bastion-sshd.log
	BASTION_KNOWN_HOSTS=$LAB_DIR/known_hosts
	printf '[%s]:%s %s\n' "$LAB_NS_BAS_ADDR" 2222 "$BASTION_HOST_PUB" >"$BASTION_KNOWN_HOSTS"
}

# lab_start_sshd_ns ROLE NS ADDR PORT [ALIVE [ALIVE_COUNT]]: an sshd as ROLE
# inside network namespace NS, on ADDR:PORT (ClientAliveInterval ALIVE,
# default 5, ClientAliveCountMax ALIVE_COUNT, default 3), config and host
# key in LAB_DIR/ROLE, log LAB_DIR/ROLE-sshd.log. Sets LAB_SSHD_PID and
# LAB_SSHD_HOSTPUB. lab_restart_sshd_ns ROLE NS ADDR PORT starts it again.
lab_start_sshd_ns() {
	local role=$1 ns=$2 addr=$3 port=$4 alive=${5:-5} alive_count=${6:-3}
	local d=$LAB_DIR/$1
	mkdir -p "$d"
	ssh-keygen -q -t ed25519 -N '' -C "$role" -f "$d/host_key" ||
	    lab_fail "ssh-keygen (host key of $role) failed"
	cat >"$d/sshd_config" <<CFG
Port $port
ListenAddress $addr
HostKey $d/host_key
PidFile $d/sshd.pid
AuthorizedKeysFile $LAB_DIR/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding yes
GatewayPorts no
ClientAliveInterval $alive
ClientAliveCountMax $alive_count
MaxStartups 100:30:200
LogLevel VERBOSE
CFG
	lab_restart_sshd_ns "$@"
	LAB_SSHD_HOSTPUB=$(cut -d' ' -f1,2 "$d/host_key.pub")
}

lab_restart_sshd_ns() {
	local role=$1 ns=$2 addr=$3 port=$4 end
	"${LAB_PDEATH[@]}" ip netns exec "$ns" "$LAB_SSHD" -D \
	    -f "$LAB_DIR/$role/sshd_config" -E "$LAB_DIR/$role-sshd.log" &
	LAB_SSHD_PID=$!
	lab__own "$LAB_SSHD_PID"
	end=$((SECONDS + 10))
	until lab_ns_tcp "$ns" "$addr" "$port"; do
		{ lab_alive "$LAB_SSHD_PID" && [ "$SECONDS" -lt "$end" ]; } ||
		    lab_fail "the $role sshd in $ns did not start: $(tail -n 5 "$LAB_DIR/$role-sshd.log" 2>/dev/null)"
		sleep 0.1
	done
	lab_log "$role sshd pid $LAB_SSHD_PID in $ns on $addr:$port"
}

# lab__stray_sshd_sessions: pids of this lab's sshd per-connection processes
# ("sshd: USER...", not a listener) outside the workstation sshd's tree.
lab__stray_sshd_sessions() {
	local -A ws=()
	local p cmd
	if [ -n "${WS_PID:-}" ] && lab_alive "$WS_PID"; then
		while read -r p; do ws[$p]=1; done < <(lab__tree "$WS_PID")
	fi
	while read -r p; do
		[ -n "${ws[$p]:-}" ] && continue
		cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline") || continue
		case $cmd in
		*'[listener]'*) ;;
		'sshd: '*) printf '%s\n' "$p" ;;
		esac
	done < <(lab__tagged)
}

# lab_tether_sanitized: whether the tether under test is an ASan/UBSan build
# (its memory figures include the sanitizer's quarantine; LeakSanitizer
# cannot run inside a sandbox that forbids ptrace).
lab_tether_sanitized() {
	ldd "$LAB_TETHER" 2>/dev/null | grep -qE 'lib(asan|ubsan)'
}
