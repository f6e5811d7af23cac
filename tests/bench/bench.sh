#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Bench: tether against OpenSSH's `ssh -N -R` (and autossh + ssh), side by
# side on the same throwaway loopback bastion sshd in the same run. Not part
# of ctest (a full run takes about 6 minutes; --quick about 1.5).
#
# usage: tests/bench/bench.sh [--quick] [--bundled BUNDLED_BUILD_DIR] [BUILD_DIR]
#        (BUILD_DIR defaults to ./build next to tests/; needs openssh-server,
#        autossh and, for the chart, gnuplot: apt-get install autossh gnuplot-nox)
#
# Lab: one bastion sshd on 127.0.0.1 (tests/lib/lab.sh), one target server
# (tests/tools/benchnet.c `serve`, TCP_NODELAY like the clients, so only the
# tunnel is measured). Each tunnel forwards two bastion ports to the target:
# one where the client speaks first, one where the target speaks first (as
# sshd does). For each cipher, chacha20-poly1305@openssh.com then
# aes128-gcm@openssh.com, the bastion's `Ciphers` is restricted to it (both
# clients must use it; tether has no cipher option) and the bastion is
# restarted; then ROUNDS rounds (5; --quick 2), each A B C:
#   A tether run ... -o max_channels=1100 -o keepalive_interval=1
#       -o keepalive_count=3 -o backoff_initial=0.5 -o backoff_max=2
#   B ssh -N -R ... -o ServerAliveInterval=1 -o ServerAliveCountMax=3
#       -o ExitOnForwardFailure=yes (a fresh process each round)
#   C AUTOSSH_GATETIME=0 AUTOSSH_POLL=2 AUTOSSH_FIRST_POLL=2 autossh -M 0
#       with B's ssh arguments: for RSS and recovery only.
#   GATETIME=0: retry even if the first ssh fails, as tether always does;
#   POLL=2: autossh's restart backoff is capped at the poll time, so this
#   is backoff_max=2 (autossh restarts at once 5 times, then waits
#   n*n/3*POLL/100 s, at least 1 s, at most POLL; it has no initial-delay
#   setting). -M 0: no monitor port, ssh's ServerAlive* detects a dead link
#   as tether's keepalive does.
# Measured in A and B, on one process per round:
#   READY      process start to the first successful TCP connect + 1-byte
#              echo through the forwarded port on the bastion (tried every
#              2 ms) - the same criterion for both, no log parsing;
#   RSS idle   VmRSS 0.5 s after READY; RSS peak = VmHWM after the bulk and
#              concurrency phases (the process is fresh each round);
#   bulk       BULK bytes client->target ("up"), then target->client
#              ("down"), one connection each, capped at CAP seconds (a stall
#              shows as a low rate, complete=0 in the rounds CSV); MB/s =
#              10^6 bytes/s; CPU s/GiB = utime+stime (/proc/PID/stat) of the
#              tunnel process over both transfers / GiB carried (also for
#              the bastion's sshd session processes, for information);
#   ping-pong  PING 1-byte round trips on one open connection, p50 and p99;
#   connect    CONNECT new connections per mode, GAP_MS (60) apart so each
#              meets a quiet bastion link (past the delayed-ACK timer), timed
#              from connect(): "first" until the target's first byte (the
#              target speaks first, like sshd); "echo" until a 1-byte echo
#              (the client speaks first, one write); "wwr" = write-write-read
#              after the target's byte: two 1-byte writes 1 ms apart, then
#              the answer (an SSH handshake's pattern - client banner, then
#              KEXINIT - the one Nagle + delayed ACK stall: libssh-notes);
#              p50 and the share of connections >= 20 ms. Then B2B "echo"
#              connections back to back (no gap: the previous connection's
#              EOF/CLOSE packets are still unacknowledged on the bastion
#              link, so Nagle on sshd's side can hold the next CHANNEL_OPEN);
#   concurrent 1,000 connections at once, each an echo round trip, all held
#              open until the last one is done: how many succeeded, and the
#              time from the first connect to the last echo.
# A2 (with --bundled): A again with the tether of a TETHER_BUNDLED_LIBSSH=ON
#   build (the patched libssh of src/libssh: 64 KiB reads, a 4 MiB window
#   kept nearly full), in the same rounds, so the three columns compare.
# CPU s/GiB is also split by direction: up (client->target, bastion to
#   tunnel) and down (target->client).
# Long link (after the ciphers, chacha20 only): tests/tools/delayline.c
#   relays the tunnel's connection to the bastion with a fixed delay each
#   way (no netem here); for RTT 20, 50 and 100 ms, each of tether, tether
#   bundled and ssh gets a fresh tunnel through it and moves LL_BYTES up and
#   down over ONE connection, capped at LL_CAP s: one connection's
#   throughput, bounded by the SSH channel window / RTT. Down is bounded by
#   sshd's window (2 MiB) for every client alike.
# Measured in A and C: recovery = time from lab_kill_bastion (listener and
# sessions SIGTERM) until a new connection through the forwarded port works
# again; lab_restart_bastion follows the kill at once (~0.1-0.3 s).
# "after back" subtracts the time until the bastion listened again.
# RSS for autossh + ssh = autossh's own VmRSS (phase C, idle) + the ssh
# figure of phase B of the same round.
#
# Output: a table (medians over rounds; tether, OpenSSH and tether/OpenSSH)
# on stdout and in docs/bench/latest.md (with the date, nproc, CPU, kernel,
# OpenSSH/libssh/autossh versions and the load average, since other jobs on
# the machine skew a 2-vCPU bench), docs/bench/latest.csv (the table),
# docs/bench/latest-rounds.csv (every measurement) and docs/bench/latest.png
# (tether/OpenSSH ratio per row, both ciphers). BENCH_OUT=DIR writes
# elsewhere. LAB_KEEP=1 keeps the lab dir (every log; the core file of a
# tunnel that crashed, if ulimit -c allows one). Exit status: 0 when every
# measurement was taken (targets met or not); 1, after writing the files,
# when some failed (NA in the rounds CSV; the reasons are logged above the
# table, e.g. "the tether process died during ... round N").
set -u
here=$(cd "$(dirname "$0")" && pwd)
quick=0
build=
bundled=
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--bundled)
		[ $# -ge 2 ] || { printf 'bench: --bundled needs a build dir\n' >&2; exit 2; }
		bundled=$(cd "$2" 2>/dev/null && pwd) || { printf 'bench: no build dir %s\n' "$2" >&2; exit 2; }
		[ -x "$bundled/tether" ] || { printf 'bench: no tether in %s\n' "$bundled" >&2; exit 2; }
		"$bundled/tether" --version | grep -q bundled ||
		    { printf 'bench: %s/tether is not a TETHER_BUNDLED_LIBSSH=ON build\n' "$bundled" >&2; exit 2; }
		shift ;;
	-h|--help) sed -n '2,/^set -u$/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
	-*) printf 'bench: unknown option %s\n' "$1" >&2; exit 2 ;;
	*) build=$1 ;;
	esac
	shift
done
build=${build:-$here/../../build}
build=$(cd "$build" 2>/dev/null && pwd) || { printf 'bench: no build dir %s\n' "$1" >&2; exit 2; }
out_dir=${BENCH_OUT:-$here/../../docs/bench}
mkdir -p "$out_dir" && out_dir=$(cd "$out_dir" && pwd) || exit 2

if [ "$quick" = 1 ]; then
	ROUNDS=2 BULK=$((64 << 20)) CAP=2 PING=1000 CONNECT=10 B2B=15
	LL_ROUNDS=1 LL_BYTES=$((64 << 20)) LL_CAP=3
else
	ROUNDS=5 BULK=$((256 << 20)) CAP=3 PING=3000 CONNECT=20 B2B=30
	LL_ROUNDS=2 LL_BYTES=$((256 << 20)) LL_CAP=5
fi
LL_RTTS=(20 50 100)
TETHERS=(tether)
[ -n "$bundled" ] && TETHERS+=(tetherb)
GAP_MS=60
CONC=1000
CIPHERS=(chacha20-poly1305@openssh.com aes128-gcm@openssh.com)

# 1,000 forwarded connections need more than 1,024 descriptors in sshd's
# session process and in the tunnel, which inherit this limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
LAB_NAME=bench
LAB_SERVER_DEADLINE=3600
# shellcheck source=tests/lib/lab.sh
. "$here/../lib/lab.sh"
lab_init "$build/tether" "$build/tests"
[ "$(ulimit -n)" -ge $((CONC * 2 + 100)) ] ||
    lab_skip "RLIMIT_NOFILE is $(ulimit -n); 1,000 connections need $((CONC * 2 + 100))"
command -v autossh >/dev/null || lab_skip "autossh not found (apt-get install autossh)"
lab_find_tool benchnet
BN=$LAB_TOOL
lab_find_tool delayline
DL=$LAB_TOOL
# The tunnels run in the lab dir: a core file of a crashed one stays there
# (LAB_KEEP=1 keeps the dir), not in the caller's directory.
cd "$LAB_DIR" || lab_fail "cannot enter $LAB_DIR"
CLK_TCK=$(getconf CLK_TCK)
ROUNDS_CSV=$LAB_DIR/rounds.csv
echo "cipher,round,client,metric,value" >"$ROUNDS_CSV"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
src_rev=$(git -C "$here/../.." rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$here/../.." status --porcelain -- src include 2>/dev/null | wc -l)
[ "$dirty" = 0 ] || src_rev="$src_rev + uncommitted changes in $dirty file(s) of src/ include/ (git diff sha256 $(git -C "$here/../.." diff HEAD -- src include | sha256sum | cut -c1-12))"
t_start=$SECONDS

# ---- helpers --------------------------------------------------------------

now_us() { printf '%s\n' "${EPOCHREALTIME/./}"; }

# kv LINE KEY: the value of KEY=value in LINE (empty if absent).
kv() {
	local w
	for w in $1; do
		case $w in "$2"=*) printf '%s\n' "${w#*=}"; return 0 ;; esac
	done
	return 1
}

# rec CLIENT METRIC VALUE (NA when empty)
rec() {
	printf '%s,%s,%s,%s,%s\n' "$CIPHER_SHORT" "$ROUND" "$1" "$2" "${3:-NA}" >>"$ROUNDS_CSV"
}

# cpu_ticks PID...: utime + stime summed over the pids (clock ticks).
cpu_ticks() {
	local p s rest sum=0 f
	for p in "$@"; do
		{ read -r s <"/proc/$p/stat"; } 2>/dev/null || continue
		rest=${s##*) }
		# shellcheck disable=SC2086
		set -- $rest
		f=("$@")
		sum=$((sum + f[11] + f[12]))   # fields 14 and 15 of stat
	done
	printf '%s\n' "$sum"
}

hwm_kb() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

# bn ARGS...: benchnet, its output line on stdout; a failure is logged (the
# bench goes on and records NA).
bn() {
	local out rc
	out=$("$BN" "$@" 2>"$LAB_DIR/bn.err")
	rc=$?
	if [ "$rc" != 0 ]; then
		lab_log "benchnet $3 ${5:-} ${6:-}: status $rc: $(tr '\n' ' ' <"$LAB_DIR/bn.err")" >&2
	fi
	printf '%s\n' "$out"
	return "$rc"
}

# awk helpers for seconds
fdiv() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0 || a == "" || b == "") print ""; else printf "%.4f\n", a / b }'; }

ssh_args() {
	SSH_ARGS=(-F /dev/null -N -o ExitOnForwardFailure=yes -o BatchMode=yes
	    -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o IdentityAgent=none
	    -o UserKnownHostsFile="$BASTION_KNOWN_HOSTS"
	    -o ServerAliveInterval=1 -o ServerAliveCountMax=3
	    -i "$LAB_KEY" -p "$TUN_BASTION_PORT"
	    -R "127.0.0.1:$R_MAIN:127.0.0.1:$TARGET_MAIN"
	    -R "127.0.0.1:$R_BANNER:127.0.0.1:$TARGET_BANNER"
	    "$LAB_USER@127.0.0.1")
}

# start_tunnel tether|tetherb|ssh|autossh: a fresh tunnel on two fresh
# bastion ports, to TUN_BASTION_PORT (the bastion, or a delayline in front
# of it); sets TUN_PID, T0 (µs, just before the start), R_MAIN, R_BANNER.
start_tunnel() {
	local who=$1 log=$LAB_DIR/$1-$CIPHER_SHORT-$ROUND.log bin=$LAB_TETHER
	R_MAIN=$(lab_free_port)
	R_BANNER=$(lab_free_port)
	ssh_args
	T0=$(now_us)
	[ "$who" = tetherb ] && bin=$bundled/tether
	case $who in
	tether|tetherb)
		lab_spawn "$log" "$bin" run -n bench \
		    -b "$LAB_USER@127.0.0.1:$TUN_BASTION_PORT" -s "$LAB_KEY" \
		    --known-hosts "$BASTION_KNOWN_HOSTS" --state-dir "$LAB_DIR/state" \
		    -R "127.0.0.1:$R_MAIN:127.0.0.1:$TARGET_MAIN" \
		    -R "127.0.0.1:$R_BANNER:127.0.0.1:$TARGET_BANNER" \
		    -o max_channels=1100 -o keepalive_interval=1 -o keepalive_count=3 \
		    -o backoff_initial=0.5 -o backoff_max=2 ;;
	ssh)
		lab_spawn "$log" ssh "${SSH_ARGS[@]}" ;;
	autossh)
		lab_spawn "$log" env AUTOSSH_GATETIME=0 AUTOSSH_POLL=2 \
		    AUTOSSH_FIRST_POLL=2 AUTOSSH_PATH="$(command -v ssh)" \
		    AUTOSSH_LOGFILE="$LAB_DIR/autossh-$CIPHER_SHORT-$ROUND.log" \
		    autossh -M 0 "${SSH_ARGS[@]}" ;;
	esac
	TUN_PID=$LAB_SPAWN_PID
	TUN_LOG=$log
}

# wait_ready CLIENT: READY time of the tunnel just started; 1 if it never
# came up.
wait_ready() {
	local out
	out=$(bn -d 30 ready "$R_MAIN" "$T0") || return 1
	rec "$1" ready_s "$(kv "$out" seconds)"
	bn -d 10 ready "$R_BANNER" "$T0" banner >/dev/null || return 1
}

# perf CLIENT: the measurements of phases A and B on TUN_PID.
perf() {
	local who=$1 out c0 cm c1 s0 s1 up_b down_b gib mode port
	sleep 0.5
	rec "$who" rss_idle_kb "$(lab_rss_kb "$TUN_PID")"
	c0=$(cpu_ticks "$TUN_PID")
	# shellcheck disable=SC2046
	s0=$(cpu_ticks $(lab_bastion_sessions))
	out=$(bn -d $((CAP + 60)) throughput "$R_MAIN" up "$BULK" "$CAP")
	rec "$who" up_mbps "$(kv "$out" mbps)"
	rec "$who" up_complete "$(kv "$out" complete)"
	up_b=$(kv "$out" bytes)
	cm=$(cpu_ticks "$TUN_PID")
	out=$(bn -d $((CAP + 60)) throughput "$R_MAIN" down "$BULK" "$CAP")
	rec "$who" down_mbps "$(kv "$out" mbps)"
	rec "$who" down_complete "$(kv "$out" complete)"
	down_b=$(kv "$out" bytes)
	c1=$(cpu_ticks "$TUN_PID")
	rec "$who" cpu_up_s_per_gib "$(fdiv "$(fdiv $((cm - c0)) "$CLK_TCK")" "$(fdiv "${up_b:-0}" 1073741824)")"
	rec "$who" cpu_down_s_per_gib "$(fdiv "$(fdiv $((c1 - cm)) "$CLK_TCK")" "$(fdiv "${down_b:-0}" 1073741824)")"
	# shellcheck disable=SC2046
	s1=$(cpu_ticks $(lab_bastion_sessions))
	gib=$(awk -v a="${up_b:-0}" -v b="${down_b:-0}" 'BEGIN { printf "%.6f\n", (a + b) / 1073741824 }')
	rec "$who" cpu_s_per_gib "$(fdiv "$(fdiv $((c1 - c0)) "$CLK_TCK")" "$gib")"
	rec "$who" sshd_cpu_s_per_gib "$(fdiv "$(fdiv $((s1 - s0)) "$CLK_TCK")" "$gib")"
	out=$(bn -d 60 pingpong "$R_MAIN" "$PING")
	rec "$who" ping_p50_us "$(kv "$out" p50_us)"
	rec "$who" ping_p99_us "$(kv "$out" p99_us)"
	for mode in first echo wwr; do
		port=$R_BANNER
		[ "$mode" = echo ] && port=$R_MAIN
		out=$(bn -d 60 connect "$port" "$CONNECT" "$mode" "$GAP_MS")
		rec "$who" "conn_${mode}_p50_ms" "$(kv "$out" p50_ms)"
		rec "$who" "conn_${mode}_p99_ms" "$(kv "$out" p99_ms)"
		rec "$who" "conn_${mode}_slow_pct" "$(kv "$out" slow_pct)"
	done
	out=$(bn -d 60 connect "$R_MAIN" "$B2B" echo 0)
	rec "$who" b2b_echo_p50_ms "$(kv "$out" p50_ms)"
	rec "$who" b2b_echo_mean_ms "$(kv "$out" mean_ms)"
	rec "$who" b2b_echo_slow_pct "$(kv "$out" slow_pct)"
	out=$(bn -d 60 concurrent "$R_MAIN" "$CONC")
	rec "$who" conc_ok "$(kv "$out" ok)"
	rec "$who" conc_s "$(kv "$out" seconds)"
	rec "$who" rss_peak_kb "$(hwm_kb "$TUN_PID")"
	lab_alive "$TUN_PID" || lab_log "warning: the $who tunnel died during the round"
}

# recovery CLIENT: kill and restart the bastion; time until a new
# connection through R_MAIN works again.
recovery() {
	local who=$1 tk tu out total
	tk=$(now_us)
	lab_kill_bastion TERM
	lab_restart_bastion
	tu=$(now_us)
	out=$(bn -d 40 ready "$R_MAIN" "$tk")
	total=$(kv "$out" seconds)
	rec "$who" recovery_s "$total"
	[ -n "$total" ] && rec "$who" recovery_back_s \
	    "$(awk -v t="$total" -v d=$((tu - tk)) 'BEGIN { printf "%.3f\n", t - d / 1e6 }')"
}

# record_death CLIENT: whether the tunnel process (tether, ssh, autossh)
# died during the round, before we stopped it (its status and last log
# line are logged).
record_death() {
	if lab_alive "$TUN_PID"; then
		rec "$1" died 0
		return 0
	fi
	lab_wait_pid "$TUN_PID" 1
	lab_log "the $1 process died during $CIPHER_SHORT round $ROUND (status $LAB_RC): $(tail -n 1 "$TUN_LOG")"
	rec "$1" died 1
}

# set_cipher CIPHER: restrict the bastion to CIPHER, restart it, and check
# with ssh -v which cipher a client gets.
set_cipher() {
	local cfg=$LAB_DIR/bastion/sshd_config got
	sed -i '/^Ciphers /d' "$cfg"
	printf 'Ciphers %s\n' "$1" >>"$cfg"
	"$LAB_SSHD" -t -f "$cfg" || lab_fail "sshd rejects Ciphers $1"
	lab_kill_bastion TERM
	lab_restart_bastion
	got=$(timeout 20 ssh -v -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes \
	    -o IdentityAgent=none -o UserKnownHostsFile="$BASTION_KNOWN_HOSTS" \
	    -i "$LAB_KEY" -p "$BASTION_PORT" "$LAB_USER@127.0.0.1" true 2>&1 |
	    sed -n 's/.*kex: server->client cipher: \([^ ]*\).*/\1/p' | head -n 1)
	[ "$got" = "$1" ] || lab_fail "the bastion negotiated '$got', not $1"
	lab_log "bastion restarted with Ciphers $1 (ssh -v: $got)"
}

# ---- the run ---------------------------------------------------------------

lab_start_bastion
TUN_BASTION_PORT=$BASTION_PORT
TARGET_MAIN=$(lab_free_port)
TARGET_BANNER=$(lab_free_port)
lab_spawn "$LAB_DIR/target.log" "$BN" -d 3600 serve "$TARGET_MAIN" "$TARGET_BANNER"
lab_wait_tcp "$TARGET_MAIN" 5 "$LAB_SPAWN_PID" || lab_fail "the target did not start"
lab_wait_tcp "$TARGET_BANNER" 5 "$LAB_SPAWN_PID" || lab_fail "the target did not start"
lab_log "target pid $LAB_SPAWN_PID on 127.0.0.1:$TARGET_MAIN (client first) and :$TARGET_BANNER (target first)"
lab_log "$ROUNDS rounds per cipher; bulk $((BULK >> 20)) MiB capped at $CAP s; $PING pings; $CONNECT connects per mode ($GAP_MS ms apart), $B2B back to back; $CONC concurrent"

for CIPHER in "${CIPHERS[@]}"; do
	CIPHER_SHORT=${CIPHER%%@*}
	CIPHER_SHORT=${CIPHER_SHORT%-poly1305}
	set_cipher "$CIPHER"
	for ROUND in $(seq 1 "$ROUNDS"); do
		# A: tether (A2: tether with the bundled libssh)
		for who in "${TETHERS[@]}"; do
			start_tunnel "$who"
			if wait_ready "$who"; then
				perf "$who"
				recovery "$who"
			else
				lab_log "$who did not come up: $(tail -n 3 "$TUN_LOG")"
			fi
			record_death "$who"
			lab_stop "$TUN_PID" TERM 10
		done
		# B: ssh -N -R
		start_tunnel ssh
		ssh_peak=
		ssh_idle=
		if wait_ready ssh; then
			perf ssh
			ssh_peak=$(hwm_kb "$TUN_PID")
			ssh_idle=$(awk -F, -v c="$CIPHER_SHORT" -v r="$ROUND" \
			    '$1 == c && $2 == r && $3 == "ssh" && $4 == "rss_idle_kb" { print $5 }' "$ROUNDS_CSV")
		else
			lab_log "ssh did not come up: $(tail -n 3 "$TUN_LOG")"
		fi
		record_death ssh
		lab_stop "$TUN_PID" TERM 10
		# C: autossh -M 0 + ssh, for RSS and recovery
		start_tunnel autossh
		if bn -d 30 ready "$R_MAIN" "$T0" >/dev/null; then
			sleep 0.5
			a_rss=$(lab_rss_kb "$TUN_PID")
			rec autossh autossh_self_kb "$a_rss"
			if [ -n "$a_rss" ] && [ -n "$ssh_idle" ] && [ "$ssh_idle" != NA ]; then
				rec autossh rss_idle_kb $((a_rss + ssh_idle))
			fi
			if [ -n "$a_rss" ] && [ -n "$ssh_peak" ]; then
				rec autossh rss_peak_kb $((a_rss + ssh_peak))
			fi
			recovery autossh
		else
			lab_log "autossh did not come up: $(tail -n 3 "$TUN_LOG")"
		fi
		record_death autossh
		lab_stop "$TUN_PID" TERM 10
		lab_log "$CIPHER_SHORT round $ROUND/$ROUNDS done ($((SECONDS - t_start)) s)"
	done
done

# ---- the long link -----------------------------------------------------

# long_link RTT_MS: a delayline in front of the bastion; one connection's
# throughput each way through each client, LL_ROUNDS rounds.
long_link() {
	local rtt=$1 relay who out
	relay=$(lab_free_port)
	lab_spawn "$LAB_DIR/delayline-$rtt.log" "$DL" -d 3600 relay "$relay" \
	    "$BASTION_PORT" $((rtt / 2))
	lab_wait_tcp "$relay" 5 "$LAB_SPAWN_PID" || lab_fail "the delayline did not start"
	local dl_pid=$LAB_SPAWN_PID
	printf '[127.0.0.1]:%s %s\n' "$relay" "$BASTION_HOST_PUB" >>"$BASTION_KNOWN_HOSTS"
	TUN_BASTION_PORT=$relay
	for ROUND in $(seq 1 "$LL_ROUNDS"); do
		for who in "${TETHERS[@]}" ssh; do
			start_tunnel "$who"
			if bn -d 60 ready "$R_MAIN" "$T0" >/dev/null; then
				out=$(bn -d $((LL_CAP + 60)) throughput "$R_MAIN" up "$LL_BYTES" "$LL_CAP")
				rec "$who" "ll${rtt}_up_mbps" "$(kv "$out" mbps)"
				out=$(bn -d $((LL_CAP + 60)) throughput "$R_MAIN" down "$LL_BYTES" "$LL_CAP")
				rec "$who" "ll${rtt}_down_mbps" "$(kv "$out" mbps)"
			else
				lab_log "$who did not come up through the $rtt ms link: $(tail -n 3 "$TUN_LOG")"
				rec "$who" "ll${rtt}_up_mbps" ""
			fi
			lab_stop "$TUN_PID" TERM 10
		done
	done
	TUN_BASTION_PORT=$BASTION_PORT
	lab_stop "$dl_pid" TERM 5
	lab_log "long link, RTT $rtt ms: done ($((SECONDS - t_start)) s)"
}

CIPHER=${CIPHERS[0]}
CIPHER_SHORT=chacha20
set_cipher "$CIPHER"
for rtt in "${LL_RTTS[@]}"; do
	long_link "$rtt"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the table -------------------------------------------------------------

# key|label|unit|better|the OpenSSH column's client|chart label (- = not in the chart)
ROWS='up_mbps|Throughput client->target|MB/s|higher|ssh|up MB/s (higher better)
down_mbps|Throughput target->client|MB/s|higher|ssh|down MB/s (higher better)
ping_p50_us|1-byte ping-pong RTT p50|us|lower|ssh|ping p50
ping_p99_us|1-byte ping-pong RTT p99|us|lower|ssh|ping p99
conc_ok|1,000 concurrent echoes: served (min over rounds)|conns|higher|ssh|1000 conc. served (higher better)
conc_s|1,000 concurrent echoes: total time|s|lower|ssh|1000 conc. time
conn_first_p50_ms|New connection to first byte (target speaks first), p50|ms|lower|ssh|connect: first byte p50
conn_echo_p50_ms|New connection to 1-byte echo (client speaks first), p50|ms|lower|ssh|connect: echo p50
conn_wwr_p50_ms|New connection, SSH-like write-write-read, p50|ms|lower|ssh|connect: write-write-read p50
conn_wwr_slow_pct|New connection, SSH-like write-write-read, share >= 20 ms|%|lower|ssh|-
b2b_echo_p50_ms|Back-to-back new connections to 1-byte echo, p50|ms|lower|ssh|back-to-back connect p50
b2b_echo_slow_pct|Back-to-back new connections, share >= 20 ms|%|lower|ssh|-
ready_s|Process start to READY (first connect+echo through the port)|s|lower|ssh|start to READY
rss_idle_kb|RSS idle|KiB|lower|ssh|RSS idle
rss_peak_kb|RSS peak (bulk + 1,000 concurrent)|KiB|lower|ssh|RSS peak
rss_idle_kb|RSS idle vs autossh+ssh|KiB|lower|autossh|RSS idle vs autossh+ssh
rss_peak_kb|RSS peak vs autossh+ssh|KiB|lower|autossh|RSS peak vs autossh+ssh
cpu_s_per_gib|CPU per GiB carried, tunnel process|s/GiB|lower|ssh|CPU s/GiB
cpu_up_s_per_gib|CPU per GiB client->target, tunnel process|s/GiB|lower|ssh|CPU s/GiB up
cpu_down_s_per_gib|CPU per GiB target->client, tunnel process|s/GiB|lower|ssh|CPU s/GiB down
sshd_cpu_s_per_gib|CPU per GiB carried, bastion sshd session|s/GiB|lower|ssh|bastion sshd CPU s/GiB
died|Rounds in which the tunnel process died (sum; vs autossh+ssh)|rounds|lower|autossh|-
recovery_s|Recovery: bastion kill+restart to a working connection (vs autossh+ssh)|s|lower|autossh|recovery vs autossh
recovery_back_s|Recovery: bastion listening again to a working connection (vs autossh+ssh)|s|lower|autossh|recovery after restart vs autossh
ll20_up_mbps|Long link RTT 20 ms, one connection client->target|MB/s|higher|ssh|RTT 20 ms up (higher better)
ll20_down_mbps|Long link RTT 20 ms, one connection target->client|MB/s|higher|ssh|-
ll50_up_mbps|Long link RTT 50 ms, one connection client->target|MB/s|higher|ssh|RTT 50 ms up (higher better)
ll50_down_mbps|Long link RTT 50 ms, one connection target->client|MB/s|higher|ssh|-
ll100_up_mbps|Long link RTT 100 ms, one connection client->target|MB/s|higher|ssh|RTT 100 ms up (higher better)
ll100_down_mbps|Long link RTT 100 ms, one connection target->client|MB/s|higher|ssh|-'

# median (min for conc_ok, sum for died) per cipher, client, metric
awk -F, 'NR > 1 && $5 != "NA" && $5 != "" { k = $1 SUBSEP $3 SUBSEP $4; v[k, ++n[k]] = $5 }
END {
	for (k in n) {
		m = n[k]
		for (i = 1; i <= m; i++) a[i] = v[k, i] + 0
		for (i = 2; i <= m; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
		split(k, p, SUBSEP)
		med = (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
		if (p[3] == "conc_ok") med = a[1]
		if (p[3] == "died") { med = 0; for (i = 1; i <= m; i++) med += a[i] }
		printf "%s,%s,%s,%s,%d\n", p[1], p[2], p[3], med, m
	}
}' "$ROUNDS_CSV" | sort >"$LAB_DIR/medians.csv"

med() {
	awk -F, -v c="$1" -v w="$2" -v m="$3" '$1 == c && $2 == w && $3 == m { print $4; exit }' "$LAB_DIR/medians.csv"
}
nrounds() {
	awk -F, -v c="$1" -v w="$2" -v m="$3" '$1 == c && $2 == w && $3 == m { print $5; exit }' "$LAB_DIR/medians.csv"
}
fmt() {
	awk -v x="$1" 'BEGIN { if (x == "") { print "n/a"; exit }
		if (x >= 1000) printf "%.0f\n", x; else if (x >= 100) printf "%.1f\n", x;
		else if (x >= 1) printf "%.2f\n", x; else printf "%.3f\n", x }'
}

mkdir -p "$out_dir"
csv=$out_dir/latest.csv
md=$out_dir/latest.md
dat=$LAB_DIR/ratios.dat
echo "cipher,metric,label,unit,better,tether,tether_bundled,openssh_client,openssh,ratio_tether_over_openssh,ratio_bundled_over_openssh,rounds" >"$csv"
table=$LAB_DIR/table.md
{
	echo "| Metric | Cipher | tether | tether, bundled libssh | OpenSSH | tether/OpenSSH | bundled/OpenSSH |"
	echo "|---|---|---:|---:|---:|---:|---:|"
} >"$table"
: >"$dat"
while IFS='|' read -r key label unit better oclient clabel; do
	line="\"$clabel\""
	for CIPHER in "${CIPHERS[@]}"; do
		c=${CIPHER%%@*}
		c=${c%-poly1305}
		t=$(med "$c" tether "$key")
		o=$(med "$c" "$oclient" "$key")
		if [ -z "$t$o" ]; then         # a row measured for one cipher only
			line="$line NaN NaN"
			continue
		fi
		b=$(med "$c" tetherb "$key")
		r=$(fdiv "$t" "$o")
		rb=$(fdiv "$b" "$o")
		n=$(nrounds "$c" tether "$key")
		echo "$c,$key,\"$label\",$unit,$better,${t:-NA},${b:-NA},$oclient,${o:-NA},${r:-NA},${rb:-NA},${n:-0}" >>"$csv"
		oname="OpenSSH ssh"
		[ "$oclient" = autossh ] && oname="autossh+ssh"
		rx=n/a
		[ -n "$r" ] && rx="$(fmt "$r")x"
		rbx=n/a
		[ -n "$rb" ] && rbx="$(fmt "$rb")x"
		bx=n/a
		[ -n "$b" ] && bx=$(fmt "$b")
		echo "| $label ($unit, $better is better) | $c | $(fmt "$t") | $bx | $(fmt "$o") ($oname) | $rx | $rbx |" >>"$table"
		line="$line ${r:-NaN} ${rb:-NaN}"
	done
	[ "$clabel" = - ] || echo "$line" >>"$dat"
done <<<"$ROWS"

# Targets (from the performance issue).
# From the medians, not the CSV: labels hold commas.
ratio() { fdiv "$(med "$1" tether "$2")" "$(med "$1" "$3" "$2")"; }
bratio() { fdiv "$(med "$1" tetherb "$2")" "$(med "$1" "$3" "$2")"; }
verdict() { if awk "BEGIN { exit !($1) }" 2>/dev/null; then echo MET; else echo MISSED; fi; }
targets=$LAB_DIR/targets.md
: >"$targets"
for CIPHER in "${CIPHERS[@]}"; do
	c=${CIPHER%%@*}
	c=${c%-poly1305}
	u=$(ratio "$c" up_mbps ssh); d=$(ratio "$c" down_mbps ssh)
	p=$(ratio "$c" ping_p50_us ssh)
	ok=$(awk -F, -v c="$c" 'NR > 1 && $1 == c && $3 == "tether" && $4 == "conc_ok" { if (min == "" || $5 + 0 < min) min = $5 + 0 } END { print min }' "$ROUNDS_CSV")
	ri=$(ratio "$c" rss_idle_kb autossh); rp=$(ratio "$c" rss_peak_kb autossh)
	rc=$(ratio "$c" recovery_s autossh)
	{
		echo "- $c: throughput >= 1.0x ssh both ways (up ${u:-NA}x, down ${d:-NA}x): $(verdict "${u:-0} >= 1.0 && ${d:-0} >= 1.0")"
		echo "- $c: ping-pong p50 <= 1.0x ssh (${p:-NA}x): $(verdict "${p:-9} <= 1.0")"
		echo "- $c: all 1,000 concurrent served in every round (min ${ok:-NA}): $(verdict "${ok:-0} >= $CONC")"
		echo "- $c: RSS <= 0.5x autossh+ssh (idle ${ri:-NA}x, peak ${rp:-NA}x): idle $(verdict "${ri:-9} <= 0.5"), peak $(verdict "${rp:-9} <= 0.5")"
		echo "- $c: recovery faster than autossh+ssh (${rc:-NA}x): $(verdict "${rc:-9} < 1.0")"
	} >>"$targets"
	[ -n "$bundled" ] || continue
	u=$(bratio "$c" up_mbps ssh); d=$(bratio "$c" down_mbps ssh)
	cu=$(bratio "$c" cpu_up_s_per_gib ssh); cd=$(bratio "$c" cpu_down_s_per_gib ssh)
	{
		echo "- $c, bundled libssh: throughput >= 1.0x ssh both ways (up ${u:-NA}x, down ${d:-NA}x): $(verdict "${u:-0} >= 1.0 && ${d:-0} >= 1.0")"
		echo "- $c, bundled libssh: CPU per GiB <= 1.0x ssh both ways (up ${cu:-NA}x, down ${cd:-NA}x): $(verdict "${cu:-9} <= 1.0 && ${cd:-9} <= 1.0")"
	} >>"$targets"
done
if [ -n "$bundled" ]; then
	l=$(bratio chacha20 ll100_up_mbps ssh)
	echo "- chacha20, bundled libssh: one connection over a 100 ms link faster than ssh -R (up ${l:-NA}x): $(verdict "${l:-0} > 1.0")" >>"$targets"
fi

{
	echo "# tether vs OpenSSH: side-by-side bench"
	echo
	echo "Made by \`tests/bench/bench.sh$( [ "$quick" = 1 ] && echo ' --quick')\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo
	echo "- Machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), kernel $(uname -r)"
	echo "- OpenSSH: $(ssh -V 2>&1) (client and bastion sshd; Debian openssh-server $(dpkg-query -W -f '${Version}' openssh-server 2>/dev/null))"
	echo "- libssh: $(dpkg-query -W -f '${Version}' libssh-4 2>/dev/null); $(autossh -V 2>&1 | head -n 1)"
	echo "- $("$LAB_TETHER" --version 2>&1 | head -n 1): $LAB_TETHER, built $(date -u -r "$LAB_TETHER" '+%Y-%m-%d %H:%M:%S UTC'), sha256 $(sha256sum "$LAB_TETHER" | cut -c1-12); source tree at run time: $src_rev"
	[ -n "$bundled" ] && echo "- bundled: $("$bundled/tether" --version 2>&1 | head -n 1): $bundled/tether, sha256 $(sha256sum "$bundled/tether" | cut -c1-12); patches: $(grep -v '^#' "$here/../../src/libssh/patches/series" | grep -c tether-) of tether's on Debian's 0.10.6 security series; channel_window 4 MiB (its default)"
	echo "- Long link: tests/tools/delayline.c between the tunnel and the bastion, RTT ${LL_RTTS[*]} ms (half each way), chacha20; one connection, $((LL_BYTES >> 20)) MiB each way capped at $LL_CAP s; $LL_ROUNDS round(s), medians"
	echo "- Load average (1/5/15 min) before: $load_before, after: $load_after (other jobs share these CPUs)"
	echo "- $ROUNDS rounds per cipher, A$( [ -n "$bundled" ] && echo ' A2') B C alternating; medians over rounds. Bulk: $((BULK >> 20)) MiB per direction, capped at $CAP s; $PING pings; $CONNECT connections per connect mode, $GAP_MS ms apart, and $B2B back to back; $CONC concurrent. Run time $((SECONDS - t_start)) s."
	echo "- tether: \`run -R ... -o max_channels=1100 -o keepalive_interval=1 -o keepalive_count=3 -o backoff_initial=0.5 -o backoff_max=2\`"
	echo "- ssh: \`ssh -N -R ... -o ServerAliveInterval=1 -o ServerAliveCountMax=3 -o ExitOnForwardFailure=yes\`; autossh: \`AUTOSSH_GATETIME=0 AUTOSSH_POLL=2 AUTOSSH_FIRST_POLL=2 autossh -M 0\` + the same ssh arguments"
	echo "- READY = first successful TCP connect + 1-byte echo through the forwarded port (same criterion for both). Recovery = from \`lab_kill_bastion\` (SIGTERM to the listener and sessions, then an immediate restart) to a working connection."
	echo
	cat "$table"
	echo
	echo "## Targets"
	echo
	cat "$targets"
	echo
	echo "Every measurement: latest-rounds.csv. Chart: latest.png (tether/OpenSSH per row; below 1 is better for the \"lower is better\" rows)."
} >"$md"
cp "$ROUNDS_CSV" "$out_dir/latest-rounds.csv"

if command -v gnuplot >/dev/null; then
	gnuplot <<GP 2>"$LAB_DIR/gnuplot.err" || lab_log "gnuplot failed: $(cat "$LAB_DIR/gnuplot.err")"
set terminal pngcairo size 1400,800 font "DejaVu Sans,10"
set output "$out_dir/latest.png"
set title "tether / OpenSSH, medians of $ROUNDS rounds (below 1 = tether better, except the two 'higher better' rows) - $(date -u +%Y-%m-%d)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set ylabel "ratio tether/OpenSSH (log scale)"
set grid ytics
set xtics rotate by -35 left font ",9"
set bmargin 9
set rmargin 20
set key top left
set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 lc rgb "black"
plot "$dat" using 2:xtic(1) title "chacha20-poly1305" lc rgb "#1f77b4", \
     "" using 3 title "chacha20-poly1305, bundled libssh" lc rgb "#aec7e8", \
     "" using 4 title "aes128-gcm" lc rgb "#ff7f0e", \
     "" using 5 title "aes128-gcm, bundled libssh" lc rgb "#ffbb78"
GP
else
	lab_log "gnuplot not found: no chart (apt-get install gnuplot-nox)"
fi

printf '\n'
if command -v column >/dev/null; then
	column -t -s '|' <(sed -e '2d' -e 's/^| //' -e 's/ |$//' -e 's/ | /|/g' "$table")
else
	cat "$table"
fi
printf '\n'
cat "$targets"
printf '\nwrote %s, %s, %s, %s\n' "$md" "$csv" "$out_dir/latest-rounds.csv" "$out_dir/latest.png"
na=$(grep -c ',NA$' "$ROUNDS_CSV")
[ "$na" = 0 ] || lab_fail "$na measurement(s) failed (NA in latest-rounds.csv)"
lab_pass "$ROUNDS rounds x ${#CIPHERS[@]} ciphers in $((SECONDS - t_start)) s"
