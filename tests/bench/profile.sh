#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Profile: where tether spends its time and syscalls in the bulk phase of
# tests/bench/bench.sh, next to OpenSSH's `ssh -N -R` on the same bastion.
# Not part of ctest (about 2 minutes). For tuning, not pass/fail.
#
# usage: tests/bench/profile.sh [BUILD_DIR] [CIPHER]
#        (CIPHER defaults to chacha20-poly1305@openssh.com; needs strace,
#        valgrind, and perf for the sampled profile)
#
# Same lab as bench.sh (loopback bastion sshd restricted to CIPHER, a
# benchnet target). For tether and for ssh, one tunnel each:
#   1. strace -f -s 0 attached during BYTES up (client->target), then BYTES
#      down (target->client, capped at 10 s: tether can stall, see bench):
#      syscalls per MiB carried, and the sizes of every read/recv and
#      write/send on the bastion socket and on the target socket;
#   2. perf record -e cpu-clock (a software clock: this VM has no hardware
#      counters, `perf stat -e instructions` is "not supported") during an
#      unprofiled-speed transfer each way: the top symbols;
#   3. tether only: valgrind --tool=callgrind, instrumentation switched on
#      with callgrind_control only around a shorter transfer each way: the
#      top functions by instructions (exclusive and inclusive).
# libssh has no debug symbols here: its static functions show as addresses
# in libssh.so.4 (install libssh-4-dbgsym for names).
#
# Output: docs/bench/profile-latest.txt (BENCH_OUT=DIR writes elsewhere) and
# a summary on stdout.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
CIPHER=${2:-chacha20-poly1305@openssh.com}
out_dir=${BENCH_OUT:-$here/../../docs/bench}
BYTES=$((64 << 20))
CG_BYTES=$((16 << 20))
ulimit -n "$(ulimit -Hn)" 2>/dev/null
LAB_NAME=profile
LAB_SERVER_DEADLINE=3600
# shellcheck source=tests/lib/lab.sh
. "$here/../lib/lab.sh"
lab_init "$build/tether" "$build/tests"
command -v strace >/dev/null || lab_skip "strace not found"
lab_find_tool benchnet
BN=$LAB_TOOL
report=$LAB_DIR/report.txt
: >"$report"

say() { printf '%s\n' "$*" | tee -a "$report"; }

lab_start_bastion
sed -i '/^Ciphers /d' "$LAB_DIR/bastion/sshd_config"
printf 'Ciphers %s\n' "$CIPHER" >>"$LAB_DIR/bastion/sshd_config"
lab_kill_bastion TERM
lab_restart_bastion
TARGET_MAIN=$(lab_free_port)
TARGET_BANNER=$(lab_free_port)
lab_spawn "$LAB_DIR/target.log" "$BN" -d 3600 serve "$TARGET_MAIN" "$TARGET_BANNER"
lab_wait_tcp "$TARGET_MAIN" 5 "$LAB_SPAWN_PID" || lab_fail "the target did not start"

# start_tunnel tether|ssh [WRAPPER...]: sets TUN_PID, R_MAIN.
start_tunnel() {
	local who=$1 t0
	shift
	R_MAIN=$(lab_free_port)
	t0=${EPOCHREALTIME/./}
	if [ "$who" = tether ]; then
		lab_spawn "$LAB_DIR/$who.log" "$@" "$LAB_TETHER" run -n profile \
		    -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
		    --known-hosts "$BASTION_KNOWN_HOSTS" --state-dir "$LAB_DIR/state" \
		    -R "127.0.0.1:$R_MAIN:127.0.0.1:$TARGET_MAIN" \
		    -o max_channels=1100 -o keepalive_interval=1 -o keepalive_count=3 \
		    -o backoff_initial=0.5 -o backoff_max=2
	else
		lab_spawn "$LAB_DIR/$who.log" "$@" ssh -F /dev/null -N \
		    -o ExitOnForwardFailure=yes -o BatchMode=yes \
		    -o IdentitiesOnly=yes -o IdentityAgent=none \
		    -o UserKnownHostsFile="$BASTION_KNOWN_HOSTS" \
		    -o ServerAliveInterval=1 -o ServerAliveCountMax=3 \
		    -i "$LAB_KEY" -p "$BASTION_PORT" \
		    -R "127.0.0.1:$R_MAIN:127.0.0.1:$TARGET_MAIN" "$LAB_USER@127.0.0.1"
	fi
	TUN_PID=$LAB_SPAWN_PID
	"$BN" -d 120 ready "$R_MAIN" "$t0" >/dev/null ||
	    lab_fail "$who did not come up: $(tail -n 5 "$LAB_DIR/$who.log")"
}

# bastion_fd PID: the fd of PID's socket to the bastion.
bastion_fd() {
	ss -tnpH state established "( dport = :$BASTION_PORT )" 2>/dev/null |
	    grep -o "pid=$1,fd=[0-9]*" | head -n 1 | sed 's/.*fd=//'
}

# strace_phase WHO DIR: strace the tunnel during one transfer.
strace_phase() {
	local who=$1 dir=$2 spid out bfd
	bfd=$(bastion_fd "$TUN_PID")
	strace -f -s 0 -o "$LAB_DIR/strace-$who-$dir.txt" -p "$TUN_PID" 2>/dev/null &
	spid=$!
	lab__own "$spid"
	sleep 0.5
	out=$("$BN" -d 60 throughput "$R_MAIN" "$dir" "$BYTES" 10)
	kill -INT "$spid" 2>/dev/null
	lab_wait_pid "$spid" 10
	say ""
	say "== strace, $who, $dir: $out"
	awk -v bfd="$bfd" -v bytes="$(kv "$out" bytes)" -v tp="$TARGET_MAIN" '
	# strace -f lines: PID name(fd, ...) = ret   (or <unfinished ...> / resumed)
	{
		line = $0
		sub(/^[0-9]+ +/, "", line)
		if (line ~ /^<\.\.\. /) {            # "<... read resumed>..."
			name = line; sub(/^<\.\.\. /, "", name); sub(/ resumed.*/, "", name)
			fd = "?"
		} else if (line ~ /^[a-z_0-9]+\(/) {
			name = line; sub(/\(.*/, "", name)
			fd = line; sub(/^[a-z_0-9]+\(/, "", fd); sub(/[,)].*/, "", fd)
		} else next
		if (line ~ /unfinished \.\.\.>$/) { pend_name = name; pend_fd = fd; next }
		if (fd == "?") fd = pend_fd
		n[name]++
		if (line ~ /^connect\(/ && line ~ "htons\\(" tp "\\)") tfd = fd
		ret = line; sub(/.*= /, "", ret); sub(/ .*/, "", ret)
		num = (ret ~ /^[0-9]+$/) ? ret + 0 : -1
		if (name ~ /^(read|recvfrom|recvmsg|readv|write|sendto|sendmsg|writev)$/ && num >= 0) {
			k = name SUBSEP fd
			calls[k]++; sum[k] += num; if (num > max[k] + 0) max[k] = num
			hist[k, (num >= 65536 ? ">=64K" : num >= 32768 ? "32K-64K" : num >= 16384 ? "16K-32K" : num >= 4096 ? "4K-16K" : num >= 512 ? "512-4K" : "<512")]++
		} else if (name ~ /^(read|recvfrom|recvmsg|write|sendto|sendmsg)$/ && ret ~ /^-1/) {
			eagain[name SUBSEP fd]++
		}
	}
	END {
		mib = bytes / 1048576
		total = 0; for (s in n) total += n[s]
		printf "syscalls: %d in all, %.0f per MiB carried (%.1f MiB)\n", total, (mib > 0 ? total / mib : 0), mib
		cmd = "sort -k2,2nr | head -n 12"
		for (s in n) printf "  %-16s %8d  %8.1f/MiB\n", s, n[s], (mib > 0 ? n[s] / mib : 0) | cmd
		close(cmd)
		print "data calls by fd (bastion fd " bfd ", target fd " (tfd == "" ? "?" : tfd) "): calls, mean bytes, max, size histogram, EAGAIN"
		for (k in calls) {
			split(k, p, SUBSEP)
			role = (p[2] == bfd ? "bastion" : p[2] == tfd ? "target" : "fd " p[2])
			h = ""
			split("<512 512-4K 4K-16K 16K-32K 32K-64K >=64K", b, " ")
			for (i = 1; i <= 6; i++) if (hist[k, b[i]] > 0) h = h " " b[i] ":" hist[k, b[i]]
			printf "  %-9s %-8s %7d calls  mean %7.0f  max %6d  [%s ]  EAGAIN %d\n", p[1], role, calls[k], sum[k] / calls[k], max[k], h, eagain[k] + 0
		}
	}' "$LAB_DIR/strace-$who-$dir.txt" | tee -a "$report"
}

kv() {
	local w
	for w in $1; do
		case $w in "$2"=*) printf '%s\n' "${w#*=}"; return 0 ;; esac
	done
	return 1
}

# perf_phase WHO DIR: sampled CPU profile during one transfer.
perf_phase() {
	local who=$1 dir=$2 ppid out
	perf record -q -e cpu-clock -F 2999 -g -p "$TUN_PID" \
	    -o "$LAB_DIR/perf-$who-$dir.data" >/dev/null 2>&1 &
	ppid=$!
	lab__own "$ppid"
	sleep 0.5
	out=$("$BN" -d 60 throughput "$R_MAIN" "$dir" $((256 << 20)) 3)
	kill -INT "$ppid" 2>/dev/null
	lab_wait_pid "$ppid" 20
	say ""
	say "== perf (cpu-clock samples), $who, $dir: $out"
	say "-- by object"
	perf report -q -i "$LAB_DIR/perf-$who-$dir.data" --stdio --no-children \
	    --sort dso -g none 2>/dev/null | grep -v '^$' | head -n 8 | tee -a "$report"
	say "-- by symbol (user space; kernel symbols are mostly the syscalls' copy and wakeup paths)"
	perf report -q -i "$LAB_DIR/perf-$who-$dir.data" --stdio --no-children \
	    --sort dso,sym -g none --percent-limit 0.8 2>/dev/null |
	    grep -v '^$' | grep -v 'kernel.kallsyms' | head -n 15 | tee -a "$report"
}

say "profile of the bulk phase, $(date -u '+%Y-%m-%d %H:%M UTC'), cipher $CIPHER"
say "$(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
say "$(ssh -V 2>&1); libssh $(dpkg-query -W -f '${Version}' libssh-4 2>/dev/null); $("$LAB_TETHER" --version 2>&1 | head -n 1)"
say "strace: $((BYTES >> 20)) MiB each way (down capped at 10 s); perf: 256 MiB capped at 3 s; callgrind: $((CG_BYTES >> 20)) MiB"

perf_ok=0
perf record -q -e cpu-clock -o "$LAB_DIR/perf-check.data" true >/dev/null 2>&1 && perf_ok=1
for who in tether ssh; do
	start_tunnel "$who"
	strace_phase "$who" up
	strace_phase "$who" down
	if [ "$perf_ok" = 1 ]; then
		perf_phase "$who" up
		perf_phase "$who" down
	fi
	lab_stop "$TUN_PID" TERM 10
done

if command -v valgrind >/dev/null && command -v callgrind_control >/dev/null; then
	start_tunnel tether valgrind --tool=callgrind --instr-atstart=no \
	    --callgrind-out-file="$LAB_DIR/callgrind.out"
	for dir in up down; do
		callgrind_control -i on "$TUN_PID" >/dev/null
		out=$("$BN" -d 120 throughput "$R_MAIN" "$dir" "$CG_BYTES" 20)
		callgrind_control -i off "$TUN_PID" >/dev/null
		callgrind_control -d "cg-$dir" "$TUN_PID" >/dev/null
		say ""
		say "== callgrind, tether, $dir: $out"
		sleep 1
		# shellcheck disable=SC2012  # our own file names
		f=$(ls -t "$LAB_DIR"/callgrind.out* | head -n 1)
		say "-- exclusive (self) instructions, top 20"
		callgrind_annotate --inclusive=no "$f" 2>/dev/null |
		    sed -n '/^Ir/,$p' | sed -n '2,24p' | cut -c1-150 | tee -a "$report"
		say "-- inclusive, top 25"
		callgrind_annotate --inclusive=yes "$f" 2>/dev/null |
		    sed -n '/^Ir/,$p' | sed -n '2,29p' | cut -c1-150 | tee -a "$report"
		callgrind_control -z "$TUN_PID" >/dev/null
	done
	lab_stop "$TUN_PID" TERM 30
fi

mkdir -p "$out_dir"
cp "$report" "$out_dir/profile-latest.txt"
printf '\nwrote %s\n' "$out_dir/profile-latest.txt"
lab_pass "profile written"
