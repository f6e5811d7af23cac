# SPDX-License-Identifier: AGPL-3.0-or-later
# shellcheck shell=bash
# Globals set here are read by the test scripts that source this file.
# shellcheck disable=SC2034
#
# lib.sh: the system-test tier. tether under a REAL systemd (PID 1 of a
# Debian bookworm container booted with systemd-nspawn), with a throwaway
# bastion sshd in a network namespace of its own; docs/test-lab.md ("A real
# systemd", "Network faults with namespaces"). Use:
#
#   source tests/system/lib.sh
#   sys_init "$@"          # $1 tether binary, $2 tests build dir, [$3 build dir]
#                          # skips (77) unless root, namespaces, debootstrap
#                          # and nspawn work here
#   sys_boot               # root (cached), namespaces, bastion, the freshly
#                          # built tether installed, container booted
#   cx CMD...              # CMD inside the container, as root
#   cx_as USER CMD...      # CMD inside, as USER (XDG_RUNTIME_DIR, HOME set)
#   sys_prop UNIT PROP     # systemctl show -p PROP --value UNIT (inside)
#   sys_ssh_through PORT CMD...   # a real ssh from the bastion namespace to
#                          # 127.0.0.1:PORT there: through the tunnel into
#                          # the container's own sshd, as root
#   sys_reboot             # systemctl reboot inside; waits for the new boot
#   sys_measure NAME VALUE # record a measured time (printed at the end)
#   sys_pass / lab_fail / sys_skip
#
# The root: `debootstrap --variant=minbase --include=... bookworm` ONCE per
# build dir, cached as BUILD/system-root (stamp BUILD/system-root.stamp
# holds what it was built from; a missing or different stamp rebuilds it,
# under a lock). Each test boots an overlay of it (upper dir in the lab dir,
# thrown away at the end), so tests never see each other's changes and the
# cache stays pristine. The tether under test is installed into the overlay
# with `DESTDIR=... cmake --install BUILD` and the prefix BUILD was
# configured with, so the installed units' ExecStart= is the installed
# binary (checked).
#
# Network: the container boots inside LAB_NS_WS (10.231.0.1, with the
# container's own sshd on port 22 = tether's default target localhost:22);
# the bastion sshd runs in LAB_NS_BAS (10.231.0.2:2222) on the host, as
# root, with ClientAliveInterval SYS_BASTION_ALIVE x SYS_BASTION_ALIVE_COUNT.
# The namespace names carry the test's pid (unique per run).
#
# Cleanup on every exit path (pass, fail, error, INT/TERM/HUP): the
# container is powered off (SIGRTMIN+4 to its PID 1; after 20 s
# systemd-nspawn is terminated, then PID 1 killed: the whole pid namespace
# goes with it), the relaunch loop stops, the overlay is unmounted, the
# namespaces are deleted, the lab dir removed. If the test itself is
# SIGKILLed (no trap runs), systemd-nspawn and the bastion get SIGTERM from
# the kernel (pdeathsig) and stop; the overlay mount and the namespaces are
# left until the next run of the tier sweeps them (sys__sweep).
#
# Environment:
#   TETHER_SYSTEM_TESTS=require   a reason to skip is a failure instead (CI)
#   LAB_KEEP=1, LAB_VERBOSE=1     as in tests/lib/lab.sh

SYS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$SYS_LIB_DIR/../lib/lab.sh"

SYS_SUITE=bookworm
SYS_INCLUDE=systemd,systemd-sysv,dbus,libpam-systemd,openssh-server,openssh-client,iproute2,procps,libssh-4,libev4,libinih1,libjansson4,autossh
# Bump when the preparation of the cached root changes.
SYS_ROOT_VERSION=1
SYS_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
SYS_BASTION_ALIVE=${SYS_BASTION_ALIVE:-5}
SYS_BASTION_ALIVE_COUNT=${SYS_BASTION_ALIVE_COUNT:-3}
SYS_DIR=
SYS_ROOT=
SYS_OVERLAY=
SYS_LOOP_PID=
SYS_PID1=
SYS_BOOTS=0
SYS_MEASURES=()

# On failure, the container's journal goes with the logs lab_fail prints.
eval "lab__fail_plain() $(declare -f lab_fail | tail -n +2)"
lab_fail() {
	if [ -n "$SYS_PID1" ] && lab_alive "$SYS_PID1"; then
		cx journalctl --no-pager -o short-precise -n 60 >"$LAB_DIR/container-journal.log" 2>&1
	fi
	if [ -n "${LAB_NS_BAS:-}" ]; then
		{
			echo "bastion pid ${BASTION_PID:-?}: $(ps -o stat=,cmd= -p "${BASTION_PID:-1}" 2>&1)"
			for ns in "$LAB_NS_WS" "$LAB_NS_BAS"; do
				echo "== $ns"
				ip -n "$ns" -br addr 2>&1
				ip netns exec "$ns" ss -tan 2>&1 | head -n 15
				ip netns exec "$ns" nft list ruleset 2>&1 | head -n 10
			done
		} >"$LAB_DIR/network.log" 2>&1
	fi
	lab__fail_plain "$@"
}

sys_skip() {
	if [ "${TETHER_SYSTEM_TESTS:-}" = require ]; then
		lab_fail "cannot run here, and TETHER_SYSTEM_TESTS=require: $*"
	fi
	lab_skip "$*"
}

# sys_measure NAME VALUE: prints it now and in the summary at the end.
sys_measure() {
	SYS_MEASURES+=("$1: $2")
	lab_log "measured: $1: $2"
}

sys_pass() {
	local m
	lab_log "---- measured times ----"
	for m in "${SYS_MEASURES[@]}"; do lab_log "  $m"; done
	lab_pass "$@"
}

# ---- init -----------------------------------------------------------------

# sys_init TETHER_BIN TESTS_BUILD_DIR [BUILD_DIR]
sys_init() {
	local tether=${1:-} tests_build=${2:-} c err
	SYS_BUILD=${3:-}
	[ -n "$SYS_BUILD" ] || SYS_BUILD=${tests_build:-.}/..
	SYS_BUILD=$(cd "$SYS_BUILD" 2>/dev/null && pwd) || SYS_BUILD=
	lab_init "$tether" "$tests_build"
	# Before the namespaces' hook: the container goes down first.
	lab_on_exit sys__cleanup
	[ "$(id -u)" = 0 ] ||
	    sys_skip "needs root (debootstrap, systemd-nspawn, network namespaces, mounts); run ctest as root"
	for c in debootstrap:debootstrap systemd-nspawn:systemd-container \
	    nsenter:util-linux setpriv:util-linux flock:util-linux ip:iproute2 \
	    cmake:cmake; do
		command -v "${c%%:*}" >/dev/null ||
		    sys_skip "${c%%:*} not found (install the package ${c#*:}; it is in .ci/packages)"
	done
	[ -n "$SYS_BUILD" ] && [ -f "$SYS_BUILD/CMakeCache.txt" ] ||
	    lab_fail "no CMake build dir at '$SYS_BUILD' (third argument)"
	if ldd "$LAB_TETHER" 2>/dev/null | grep -qE 'lib(asan|ubsan)'; then
		sys_skip "$LAB_TETHER is built with sanitizers; the container has no sanitizer runtime (run the system tier from a plain build)"
	fi
	if ! err=$(ip netns add "tether-sysprobe-$$" 2>&1); then
		sys_skip "ip netns add failed: $err"
	fi
	ip netns del "tether-sysprobe-$$" 2>/dev/null
	sys__sweep
	SYS_DIR=$LAB_DIR/sys
	mkdir -p "$SYS_DIR"
	echo "$$" >"$SYS_DIR/owner.pid"
	SYS_MACHINE=tsys$$
}

# sys__sweep: what a SIGKILLed run of this tier left behind (no trap runs
# then; its container went down with it, by pdeathsig): overlays whose
# owner is gone, with their lab dirs, and the cgroups and namespaces named
# after a dead pid.
sys__sweep() {
	local m dir owner ns pid d
	while read -r m; do
		dir=${m%/sys/root}
		owner=$(cat "$dir/sys/owner.pid" 2>/dev/null) || continue
		[ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null || continue
		pgrep -f -- "systemd-nspawn -D $m " >/dev/null && continue
		lab_log "sweep: unmounting $m (left by the killed run $owner)"
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		mountpoint -q "$m" || rm -rf "$dir"
	done < <(awk '$3 == "overlay" && $2 ~ /\/tether-lab\.[^/]*\/sys\/root$/ { print $2 }' /proc/mounts)
	for d in /sys/fs/cgroup/tether-sys-* /sys/fs/cgroup/*/tether-sys-*; do
		[ -d "$d" ] || continue
		pid=${d##*-}
		kill -0 "$pid" 2>/dev/null && continue
		lab_log "sweep: removing the cgroup $d (its run $pid is gone)"
		sys__rm_cgroups "$d"
	done
	for ns in /run/netns/tether-ws-* /run/netns/tether-bas-*; do
		[ -e "$ns" ] || continue
		pid=${ns##*-}
		case $pid in ''|*[!0-9]*) continue ;; esac
		kill -0 "$pid" 2>/dev/null && continue
		lab_log "sweep: deleting the namespace ${ns#/run/netns/} (its run $pid is gone)"
		ip netns del "${ns#/run/netns/}" 2>/dev/null
	done
	return 0
}

# ---- the root -------------------------------------------------------------

# sys__root: sets SYS_CACHE to the cached bookworm root, building it first
# if needed (under a lock: concurrent runs of one build dir wait).
sys__root() {
	local stamp want t0 rc
	SYS_CACHE=$SYS_BUILD/system-root
	stamp=$SYS_BUILD/system-root.stamp
	want="debootstrap --variant=minbase --include=$SYS_INCLUDE $SYS_SUITE (prepared v$SYS_ROOT_VERSION)"
	exec 8>"$SYS_BUILD/system-root.lock"
	flock 8
	if [ -f "$stamp" ] && [ "$(head -n 1 "$stamp")" = "$want" ] &&
	    [ -x "$SYS_CACHE/lib/systemd/systemd" ]; then
		lab_log "root: cached $SYS_CACHE ($(sed -n 2p "$stamp"))"
		sys_measure "debootstrap" "0 s (cached root, $(sed -n 2p "$stamp"))"
		exec 8>&-
		return 0
	fi
	rm -rf "$SYS_CACHE" "$SYS_CACHE.tmp" "$stamp"
	lab_log "root: debootstrap $SYS_SUITE into $SYS_CACHE (once per build dir; needs the Debian archive)"
	lab_us; t0=$LAB_US
	debootstrap --variant=minbase --include="$SYS_INCLUDE" "$SYS_SUITE" \
	    "$SYS_CACHE.tmp" >"$LAB_DIR/debootstrap.txt" 2>&1
	rc=$?
	if [ "$rc" != 0 ]; then
		tail -n 15 "$LAB_DIR/debootstrap.txt" | sed "s/^/[$LAB_NAME]   debootstrap: /"
		rm -rf "$SYS_CACHE.tmp"
		exec 8>&-
		sys_skip "debootstrap $SYS_SUITE failed (exit $rc; no access to the Debian archive?), see above"
	fi
	# Prepared once: no package cache (270 MB is enough).
	rm -f "$SYS_CACHE.tmp"/var/cache/apt/archives/*.deb
	mv "$SYS_CACHE.tmp" "$SYS_CACHE"
	printf '%s\n%s\n' "$want" "built $(date -u +%FT%TZ) in $(lab_since_us "$t0") s, $(du -sh "$SYS_CACHE" | cut -f1)" \
	    >"$stamp.tmp" && mv "$stamp.tmp" "$stamp"
	sys_measure "debootstrap" "$(lab_since_us "$t0") s ($(du -sh "$SYS_CACHE" | cut -f1))"
	exec 8>&-
}

# sys__overlay: SYS_ROOT = a writable overlay of the cached root (a copy
# where overlayfs is not available).
sys__overlay() {
	local err
	SYS_ROOT=$SYS_DIR/root
	mkdir -p "$SYS_DIR/upper" "$SYS_DIR/work" "$SYS_ROOT"
	chmod 755 "$SYS_DIR/upper" "$SYS_ROOT"
	if err=$(mount -t overlay overlay \
	    -o "lowerdir=$SYS_CACHE,upperdir=$SYS_DIR/upper,workdir=$SYS_DIR/work" \
	    "$SYS_ROOT" 2>&1); then
		SYS_OVERLAY=1
		lab_log "root: overlay of the cached root at $SYS_ROOT"
	else
		lab_log "root: overlayfs failed ($err): copying the root instead"
		cp -a --reflink=auto "$SYS_CACHE/." "$SYS_ROOT/" || lab_fail "cp -a of the root failed"
	fi
}

# sys__install: the tether under test into the root, as `cmake --install`
# puts it (the build's own prefix), and what the tests need inside.
sys__install() {
	local prefix unit exec_bin
	prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:[A-Z]*=//p' "$SYS_BUILD/CMakeCache.txt")
	[ -n "$prefix" ] || lab_fail "no CMAKE_INSTALL_PREFIX in $SYS_BUILD/CMakeCache.txt"
	DESTDIR=$SYS_ROOT cmake --install "$SYS_BUILD" >"$LAB_DIR/install.txt" 2>&1 ||
	    lab_fail "DESTDIR=$SYS_ROOT cmake --install $SYS_BUILD failed: $(tail -n 5 "$LAB_DIR/install.txt")"
	SYS_TETHER=$prefix/bin/tether
	cmp -s "$LAB_TETHER" "$SYS_ROOT$SYS_TETHER" ||
	    lab_fail "the installed $SYS_TETHER is not the binary under test ($LAB_TETHER)"
	unit=$SYS_ROOT$prefix/lib/systemd/system/tether@.service
	[ -f "$unit" ] || lab_fail "cmake --install did not install $prefix/lib/systemd/system/tether@.service"
	exec_bin=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$unit")
	[ "$exec_bin" = "$SYS_TETHER" ] ||
	    lab_fail "the installed unit runs '$exec_bin', but the binary is installed as $SYS_TETHER"
	lab_log "root: installed $SYS_TETHER and its units under $prefix (ExecStart=$exec_bin)"
	# As the Debian installer leaves a machine (debootstrap writes neither):
	# localhost in /etc/hosts; no /etc/hostname, so the container keeps its
	# machine name as hostname (the tests check ssh lands in it by name).
	printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' \
	    >"$SYS_ROOT/etc/hosts"
	rm -f "$SYS_ROOT/etc/hostname"
	# root's key for the container's own sshd: the end of the tunnel.
	mkdir -p "$SYS_ROOT/root/.ssh"
	chmod 700 "$SYS_ROOT/root/.ssh"
	cp "$LAB_KEY.pub" "$SYS_ROOT/root/.ssh/authorized_keys"
	chmod 600 "$SYS_ROOT/root/.ssh/authorized_keys"
	SYS_CT_KNOWN_HOSTS=$LAB_DIR/container_known_hosts
	printf 'tether-container %s\n' "$(cut -d' ' -f1,2 "$SYS_ROOT/etc/ssh/ssh_host_ed25519_key.pub")" \
	    >"$SYS_CT_KNOWN_HOSTS"
}

# ---- the container ----------------------------------------------------------

# The relaunch loop: systemd-nspawn exits 133 when the container reboots.
# Writes the current nspawn pid to $SYS_DIR/nspawn.pid; stops relaunching
# once $SYS_DIR/stop exists.
SYS_LOOP='
dir=$1 root=$2 machine=$3 ns=$4 console=$5 n=0
shift 5
# The cgroups of this container alone (sys__cgroups): systemd-nspawn makes
# its "payload" and "supervisor" cgroups next to where it starts.
for cg in "$@"; do
	echo "$$" 2>>"$console" >"$cg/cgroup.procs" ||
	    { echo "sys-loop: cannot move into the cgroup $cg" >>"$console"; exit 125; }
done
while :; do
	[ -e "$dir/stop" ] && exit 0
	n=$((n + 1))
	echo "==== boot $n $(date +%T.%N) ====" >>"$console"
	setpriv --pdeathsig TERM -- systemd-nspawn -D "$root" -M "$machine" \
	    --register=no --keep-unit --network-namespace-path="/run/netns/$ns" \
	    --console=pipe -b </dev/null >>"$console" 2>&1 &
	echo "$!" >"$dir/nspawn.pid.new" && mv "$dir/nspawn.pid.new" "$dir/nspawn.pid"
	wait "$!"
	rc=$?
	echo "==== boot $n: systemd-nspawn exited $rc ====" >>"$console"
	[ "$rc" = 133 ] || exit "$rc"
done
'

# sys__cgroups: SYS_CGROUPS = a cgroup of this test's own in the
# hierarchies systemd-nspawn uses (the named "systemd" one and the unified
# one on a hybrid host; the one tree on a pure cgroup2 host). Without it,
# every container started from the same cgroup shares one "payload"
# cgroup: two tests running at once would manage each other's units
# (measured: "Failed to kill control group ...: Input/output error").
SYS_CGROUPS=()
sys__cgroups() {
	local h d
	if [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then
		set -- /sys/fs/cgroup
	else
		set -- /sys/fs/cgroup/systemd /sys/fs/cgroup/unified
	fi
	for h in "$@"; do
		[ -f "$h/cgroup.procs" ] || continue
		d=$h/tether-sys-$$
		mkdir -p "$d" || lab_fail "cannot create the cgroup $d"
		SYS_CGROUPS+=("$d")
	done
	[ "${#SYS_CGROUPS[@]}" -gt 0 ] || lab_log "note: no cgroup hierarchy found to give the container a cgroup of its own"
}

# sys__rm_cgroups DIR...: kills what is left in them, removes them deepest
# first.
sys__rm_cgroups() {
	local cg pids p end=$((SECONDS + 5))
	[ $# -gt 0 ] || return 0
	while :; do
		pids=$(find "$@" -name cgroup.procs -exec cat {} + 2>/dev/null)
		[ -n "$pids" ] || break
		for p in $pids; do kill -KILL "$p" 2>/dev/null; done
		[ "$SECONDS" -lt "$end" ] || { lab_log "warning: processes left in $*: $pids"; break; }
		sleep 0.1
	done
	for cg in "$@"; do
		find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
		[ ! -d "$cg" ] || lab_log "warning: cannot remove the cgroup $cg"
	done
	return 0
}

# sys__pid1: prints the pid (on the host) of the container's PID 1.
sys__pid1() {
	local np
	np=$(cat "$SYS_DIR/nspawn.pid" 2>/dev/null) || return 1
	[ -n "$np" ] || return 1
	pgrep -P "$np" -x systemd | head -n 1 | grep .
}

# sys__wait_boot OLD_PID1 TIMEOUT: until a PID 1 other than OLD_PID1 runs
# and reports running (or degraded). Sets SYS_PID1, SYS_T_PID1 (s to PID 1)
# and SYS_T_RUNNING (s to running) from SYS_T0 (lab_us).
sys__wait_boot() {
	local old=$1 timeout=$2 end p st=
	end=$((SECONDS + timeout))
	SYS_PID1=
	while [ "$SECONDS" -lt "$end" ]; do
		p=$(sys__pid1) && [ "$p" != "$old" ] && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ] && break
		lab_alive "$SYS_LOOP_PID" || return 1
		sleep 0.02
	done
	[ -n "${p:-}" ] && [ "$p" != "$old" ] || return 1
	SYS_PID1=$p
	SYS_T_PID1=$(lab_since_us "$SYS_T0")
	while [ "$SECONDS" -lt "$end" ]; do
		st=$(cx systemctl is-system-running 2>/dev/null)
		case $st in
		running|degraded) break ;;
		esac
		lab_alive "$SYS_PID1" || return 1
		sleep 0.05
	done
	SYS_T_RUNNING=$(lab_since_us "$SYS_T0")
	SYS_STATE=$st
	case $st in
	running|degraded) return 0 ;;
	esac
	return 1
}

# sys_boot: everything up to a booted container with tether installed and
# a bastion listening. Sets SYS_PID1, BASTION_IP, BASTION_SSH_PORT,
# BASTION (root@BASTION_IP:PORT, what tether's -b takes), SYS_TETHER.
sys_boot() {
	sys__root
	lab_netns_setup
	lab_start_bastion_netns "$SYS_BASTION_ALIVE" "$SYS_BASTION_ALIVE_COUNT"
	BASTION_IP=$LAB_NS_BAS_ADDR
	BASTION_SSH_PORT=$BASTION_PORT
	BASTION=root@$BASTION_IP:$BASTION_SSH_PORT
	sys__overlay
	sys__install
	SYS_CONSOLE=$LAB_DIR/container-console.log
	: >"$SYS_CONSOLE"
	lab_us; SYS_T0=$LAB_US
	sys__cgroups
	"${LAB_PDEATH[@]}" bash -c "$SYS_LOOP" sys-loop "$SYS_DIR" "$SYS_ROOT" \
	    "$SYS_MACHINE" "$LAB_NS_WS" "$SYS_CONSOLE" "${SYS_CGROUPS[@]}" </dev/null &
	SYS_LOOP_PID=$!
	lab__own "$SYS_LOOP_PID"
	if ! sys__wait_boot "" 60; then
		tail -n 20 "$SYS_CONSOLE" | sed "s/^/[$LAB_NAME]   console: /"
		sys_skip "systemd-nspawn could not boot the container here (PID 1: ${SYS_PID1:-none}, state: ${SYS_STATE:-none}); console above"
	fi
	SYS_BOOTS=1
	lab_log "container $SYS_MACHINE: PID 1 = host pid $SYS_PID1, in $LAB_NS_WS"
	sys_measure "boot to running" "$SYS_T_RUNNING s (PID 1 after $SYS_T_PID1 s; state $SYS_STATE)"
	[ "$SYS_STATE" = running ] ||
	    lab_log "note: degraded: $(cx systemctl --failed --no-legend --plain 2>&1 | tr '\n' ' ')"
	cx "$SYS_TETHER" --version >"$LAB_DIR/version.out" 2>&1 ||
	    lab_fail "the installed tether does not run inside the container: $(cat "$LAB_DIR/version.out")"
	lab_log "inside: $(cat "$LAB_DIR/version.out"), $(cx systemctl --version | head -n 1)"
}

# sys_reboot: `systemctl reboot` inside; waits for the next boot. Sets
# SYS_PID1, SYS_T0 (when reboot was asked), SYS_T_RUNNING.
sys_reboot() {
	local old=$SYS_PID1
	lab_us; SYS_T0=$LAB_US
	cx systemctl reboot >/dev/null 2>&1
	sys__wait_boot "$old" 90 || {
		tail -n 20 "$SYS_CONSOLE" | sed "s/^/[$LAB_NAME]   console: /"
		lab_fail "the container did not come back from reboot (state: ${SYS_STATE:-none})"
	}
	SYS_BOOTS=$((SYS_BOOTS + 1))
	lab_log "container rebooted: PID 1 = host pid $SYS_PID1 (boot $SYS_BOOTS), running $SYS_T_RUNNING s after 'systemctl reboot'"
}

sys__cleanup() {
	local np end p
	[ -n "$SYS_DIR" ] || return 0
	touch "$SYS_DIR/stop" 2>/dev/null
	if [ -n "$SYS_LOOP_PID" ] && lab_alive "$SYS_LOOP_PID"; then
		p=$(sys__pid1) && kill -s SIGRTMIN+4 "$p" 2>/dev/null   # systemd: poweroff
		end=$((SECONDS + 20))
		while lab_alive "$SYS_LOOP_PID" && [ "$SECONDS" -lt "$end" ]; do sleep 0.1; done
		if lab_alive "$SYS_LOOP_PID"; then
			lab_log "cleanup: the container did not power off in 20 s; terminating systemd-nspawn"
			np=$(cat "$SYS_DIR/nspawn.pid" 2>/dev/null)
			p=$(sys__pid1)
			[ -n "$np" ] && kill -TERM "$np" 2>/dev/null
			end=$((SECONDS + 5))
			while lab_alive "$SYS_LOOP_PID" && [ "$SECONDS" -lt "$end" ]; do sleep 0.1; done
			[ -n "$p" ] && kill -KILL "$p" 2>/dev/null
			[ -n "$np" ] && kill -KILL "$np" 2>/dev/null
		fi
		lab_wait_pid "$SYS_LOOP_PID" 5
		lab_log "cleanup: container stopped ($(grep -c '^==== boot [0-9]*:' "$SYS_CONSOLE" 2>/dev/null) boot(s); last: $(grep '^==== boot [0-9]*:' "$SYS_CONSOLE" 2>/dev/null | tail -n 1))"
	fi
	sys__rm_cgroups "${SYS_CGROUPS[@]}"
	if [ -n "$SYS_OVERLAY" ]; then
		umount "$SYS_ROOT" 2>/dev/null || {
			sleep 0.5
			umount "$SYS_ROOT" 2>/dev/null
		} || {
			lab_log "cleanup: $SYS_ROOT busy, unmounting lazily"
			umount -l "$SYS_ROOT"
		}
		mountpoint -q "$SYS_ROOT" && lab_log "warning: $SYS_ROOT is still mounted"
	fi
	return 0
}

# ---- inside -------------------------------------------------------------------

# cx CMD...: CMD inside the container as root, with a clean environment,
# at most 60 s.
cx() {
	timeout -k 5 60 nsenter -t "$SYS_PID1" -a \
	    env -i PATH="$SYS_PATH" HOME=/root LANG=C.UTF-8 TERM=dumb \
	    SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"
}

# cx_as USER CMD...: CMD inside as USER, as a user's shell would have it
# (HOME, XDG_RUNTIME_DIR=/run/user/UID for systemctl --user).
cx_as() {
	local u=$1 uid home
	shift
	uid=$(cx id -u "$u") || return 1
	home=$(cx getent passwd "$u" | cut -d: -f6)
	cx runuser -u "$u" -- env HOME="$home" USER="$u" LOGNAME="$u" \
	    XDG_RUNTIME_DIR="/run/user/$uid" "$@"
}

sys_prop() { cx systemctl show -p "$2" --value -- "$1" 2>/dev/null; }
sys_uprop() { cx_as "$1" systemctl --user show -p "$3" --value -- "$2" 2>/dev/null; }

# sys_ready_latency PROPCMD...: seconds from the main process's start to
# READY=1 (ExecMainStartTimestamp to ActiveEnterTimestamp, monotonic).
# PROPCMD is "sys_prop UNIT" or "sys_uprop USER UNIT".
sys_ready_latency() {
	local a b
	a=$("$@" ExecMainStartTimestampMonotonic)
	b=$("$@" ActiveEnterTimestampMonotonic)
	[ -n "$a" ] && [ -n "$b" ] && [ "$b" -ge "$a" ] || { echo "?"; return; }
	printf '%d.%03d\n' $(((b - a) / 1000000)) $(((b - a) % 1000000 / 1000))
}

# sys_boot_to_active PROPCMD...: seconds from the container's PID 1 start
# (the manager's UserspaceTimestamp) to the unit's READY=1.
sys_boot_to_active() {
	local a b
	a=$(cx systemctl show -p UserspaceTimestampMonotonic --value)
	b=$("$@" ActiveEnterTimestampMonotonic)
	[ -n "$a" ] && [ -n "$b" ] && [ "$b" -ge "$a" ] || { echo "?"; return; }
	printf '%d.%03d\n' $(((b - a) / 1000000)) $(((b - a) % 1000000 / 1000))
}

# sys_ssh_through PORT CMD...: from the bastion's namespace, a real ssh to
# 127.0.0.1:PORT (the forwarded port), which the tunnel carries to the
# container's sshd; prints CMD's output.
sys_ssh_through() {
	local port=$1
	shift
	timeout -k 5 30 ip netns exec "$LAB_NS_BAS" ssh -F /dev/null -p "$port" \
	    -o HostKeyAlias=tether-container -o UserKnownHostsFile="$SYS_CT_KNOWN_HOSTS" \
	    -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=10 \
	    -o IdentitiesOnly=yes -o IdentityAgent=none -o LogLevel=ERROR \
	    -i "$LAB_KEY" root@127.0.0.1 "$@" </dev/null
}

# sys_check_tunnel PORT WHAT: one ssh through the tunnel must reach the
# container (its hostname is the machine name).
sys_check_tunnel() {
	local out
	out=$(sys_ssh_through "$1" 'echo "via-tunnel $(hostname) pid1=$(cat /proc/1/comm)"' 2>&1) ||
	    lab_fail "$2: ssh -p $1 on the bastion failed: $out"
	[ "$out" = "via-tunnel $SYS_MACHINE pid1=systemd" ] ||
	    lab_fail "$2: ssh through the tunnel printed '$out'"
	lab_log "ok: $2: ssh -p $1 on the bastion ran a command in the container ($out)"
}

# sys_wait_tunnel PORT TIMEOUT: until an ssh through PORT works (polled);
# returns 1 on timeout.
sys_wait_tunnel() {
	local port=$1 end out
	end=$((SECONDS + $2))
	while [ "$SECONDS" -lt "$end" ]; do
		out=$(sys_ssh_through "$port" 'hostname' 2>/dev/null) && [ "$out" = "$SYS_MACHINE" ] && return 0
		sleep 0.1
	done
	return 1
}

# sys_bastion_port_open PORT: whether the bastion listens on 127.0.0.1:PORT.
sys_bastion_port_open() {
	lab_ns_tcp "$LAB_NS_BAS" 127.0.0.1 "$1"
}
sys_bastion_port_closed() { ! sys_bastion_port_open "$1"; }

# sys_unit_is UNIT STATE / sys_uunit_is USER UNIT STATE: whether the unit's
# ActiveState is STATE now (for sys_until).
sys_unit_is() { [ "$(sys_prop "$1" ActiveState)" = "$2" ]; }
sys_uunit_is() { [ "$(sys_uprop "$1" "$2" ActiveState)" = "$3" ]; }

# sys_give_key USER: USER (created here, home /home/USER) owns the client
# key as ~/.ssh/id_ed25519 (mode 600); prints nothing.
sys_give_key() {
	local u=$1 home
	home=$(cx getent passwd "$u" | cut -d: -f6)
	mkdir -p "$SYS_ROOT$home/.ssh"
	cp "$LAB_KEY" "$SYS_ROOT$home/.ssh/id_ed25519"
	cp "$LAB_KEY.pub" "$SYS_ROOT$home/.ssh/id_ed25519.pub"
	cx chown -R "$u:" "$home/.ssh" || lab_fail "chown of $home/.ssh failed"
	cx chmod 700 "$home/.ssh"
	cx chmod 600 "$home/.ssh/id_ed25519"
}

# sys_journal UNIT [journalctl args]: the unit's journal inside, as text.
sys_journal() {
	local u=$1
	shift
	cx journalctl --no-pager -o short-precise -u "$u" "$@" 2>&1
}

# sys_log_us SINCE_US REGEX JOURNALCTL_ARGS...: the time (microseconds since
# the epoch, like lab_us) of the first journal line since SINCE_US that
# matches REGEX; e.g. sys_log_us "$t0" 'bound' -u UNIT. Empty if none.
sys_log_us() {
	local since=$1 re=$2 t
	shift 2
	t=$(cx journalctl --no-pager -o short-unix --since "@$((since / 1000000))" "$@" 2>/dev/null |
	    awk -v since="$since" -v re="$re" '
		{ split($1, p, "."); us = p[1] substr(p[2] "000000", 1, 6) }
		us + 0 >= since + 0 && $0 ~ re { print us; exit }')
	printf '%s\n' "$t"
}

# sys_secs T0_US T1_US: prints T1 - T0 in seconds, two decimals ("?" if
# either is empty).
sys_secs() {
	[ -n "$1" ] && [ -n "$2" ] || { echo "?"; return; }
	local d=$(($2 - $1)) sign=
	[ "$d" -lt 0 ] && { sign=-; d=$((-d)); }
	printf '%s%d.%02d\n' "$sign" $((d / 1000000)) $((d % 1000000 / 10000))
}

# sys_until TIMEOUT CMD...: until CMD succeeds (every 0.1 s); 1 on timeout.
sys_until() {
	local end=$((SECONDS + $1))
	shift
	while :; do
		"$@" && return 0
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}
