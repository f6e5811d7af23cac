#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Soak: the bastion is killed, frozen and restarted at random for a while
# (default 600 s); after every fault the tunnel must carry a real ssh command
# again. Prints recovery times and tether's fd count and RSS after each
# recovery; fails on a tunnel that does not come back, or on fd or memory
# growth. Not part of ctest (it takes minutes).
#
# usage: tests/bench/soak.sh [BUILD_DIR] [SECONDS]
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
duration=${2:-600}
LAB_NAME=soak
# shellcheck source=tests/lib/lab.sh
. "$here/../lib/lab.sh"
lab_init "$build/tether" "$build/tests"

lab_start_bastion
lab_start_workstation
RPORT=$(lab_free_port)
lab_start_tether run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$RPORT:127.0.0.1:$WS_PORT" \
    -o keepalive_interval=2 -o keepalive_count=3 -o backoff_initial=0.5 \
    -o backoff_max=5 -o stable_after=10
lab_wait_forward "$RPORT" 20 || lab_fail "the tunnel did not come up"

# until_works: seconds until a real ssh through the tunnel works (max 90).
until_works() {
	local start=$EPOCHREALTIME end=$((SECONDS + 90))
	while [ "$SECONDS" -lt "$end" ]; do
		if [ "$(lab_ssh_through "$RPORT" echo ok 2>/dev/null)" = ok ]; then
			awk -v a="$EPOCHREALTIME" -v b="$start" 'BEGIN { printf "%.2f\n", a - b }'
			return 0
		fi
		sleep 0.2
	done
	return 1
}

sample() {
	printf '%s %s\n' "$(lab_fd_count "$TETHER_PID")" "$(lab_rss_kb "$TETHER_PID")"
}

until_works >/dev/null || lab_fail "no ssh through the tunnel at the start"
read -r fd0 rss0 < <(sample)
lab_log "start: $fd0 fds, RSS $rss0 KiB"
faults=0 worst=0 fdmax=$fd0 rssmax=$rss0
end=$((SECONDS + duration))
while [ "$SECONDS" -lt "$end" ]; do
	sleep $((5 + RANDOM % 15))
	case $((RANDOM % 3)) in
	0) what="bastion killed and restarted at once"
	   lab_kill_bastion KILL; lab_restart_bastion ;;
	1) what="bastion down for 5 s"
	   lab_kill_bastion TERM; sleep 5; lab_restart_bastion ;;
	2) what="bastion session frozen for 10 s"
	   mapfile -t frozen < <(lab_bastion_sessions)
	   [ "${#frozen[@]}" -gt 0 ] && kill -STOP "${frozen[@]}"
	   sleep 10
	   [ "${#frozen[@]}" -gt 0 ] && kill -CONT "${frozen[@]}" ;;
	esac
	faults=$((faults + 1))
	t=$(until_works) || lab_fail "fault $faults ($what): the tunnel did not come back within 90 s"
	read -r fd rss < <(sample)
	lab_log "fault $faults: $what; back in ${t} s; $fd fds, RSS $rss KiB"
	awk -v t="$t" -v w="$worst" 'BEGIN { exit !(t > w) }' && worst=$t
	[ "$fd" -gt "$fdmax" ] && fdmax=$fd
	[ "$rss" -gt "$rssmax" ] && rssmax=$rss
done
read -r fd1 rss1 < <(sample)
lab_log "after $faults faults in $duration s: worst recovery $worst s"
lab_log "fds: start $fd0, end $fd1, max $fdmax; RSS KiB: start $rss0, end $rss1, max $rssmax"
lab_log "reconnects logged: $(grep -c 'reconnecting in' "$TETHER_LOG")"
[ "$fd1" -le "$fd0" ] || lab_fail "fd count grew from $fd0 to $fd1"
[ "$rss1" -le $((rss0 + 2048)) ] || lab_fail "RSS grew from $rss0 to $rss1 KiB"
lab_pass "$faults faults, tunnel always back (worst $worst s), no fd or memory growth"
