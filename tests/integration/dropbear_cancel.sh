#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Dropbear as the bastion (Debian dropbear-bin 2022.83): it answers a
# cancel-tcpip-forward for a localhost forward with a failure and keeps
# listening. A forward removed by SIGHUP must really go: tether says the
# bastion did not release it and reconnects, after which the port is closed
# on the bastion and the other forward works; adding it back by SIGHUP then
# binds it again.
#
# Dropbear reads the login user's ~/.ssh/authorized_keys, so the test makes
# a throwaway user whose home is in the lab dir (removed on exit).
#
# usage: dropbear_cancel.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[dropbear_cancel] SKIP: reload by SIGHUP is tether's"; exit 77; }
lab_init "$@"
lab_dropbear_usable || lab_skip "$LAB_WHY"
lab_start_dropbear
lab_start_netload echo

R1=$(lab_free_port) || lab_fail "no free port"
R2=$(lab_free_port) || lab_fail "no free port"
CONF=$LAB_DIR/tunnel.conf
# write_conf PORT...: one localhost forward to the echo server per port.
write_conf() {
	local p
	{
		printf '[tunnel]\nname = dropbear\n'
		printf 'bastion = %s@127.0.0.1:%s\n' "$DB_USER" "$DB_PORT"
		printf 'key = %s\nknown_hosts = %s\n' "$LAB_KEY" "$DB_KNOWN_HOSTS"
		printf 'backoff_initial = 0.2\nbackoff_max = 2\n'
		for p in "$@"; do
			printf 'forward = %s:127.0.0.1:%s\n' "$p" "$TARGET_PORT"
		done
	} >"$CONF.new"
	mv "$CONF.new" "$CONF"
}
echo_ok() { "$NETLOAD" -d 20 load "$1" 1 4096 >/dev/null 2>&1; }

write_conf "$R1" "$R2"
lab_start_tether run -c "$CONF"
lab_wait_forward "$R1" 20 || lab_fail "forward $R1 was not bound on Dropbear"
lab_wait_forward "$R2" 20 || lab_fail "forward $R2 was not bound on Dropbear"

lab_log "check: $R2 removed + SIGHUP -> tether says Dropbear kept it and reconnects; the port closes"
write_conf "$R1"
n=$(lab_log_count "$TETHER_LOG" "remote port $R1 bound")
kill -HUP "$TETHER_PID"
lab_wait_log "$TETHER_LOG" "did not release remote port $R2 .*reconnecting" 10 ||
    lab_fail "tether did not say that Dropbear kept port $R2: $(tail -n 4 "$TETHER_LOG")"
! grep -q "remote port $R2 released" "$TETHER_LOG" || lab_fail "tether claimed a release that did not happen"
lab_wait_log_count "$TETHER_LOG" "remote port $R1 bound" $((n + 1)) 15 ||
    lab_fail "forward $R1 was not bound again after the reconnect"
for _ in $(seq 1 50); do lab_port_open "$R2" || break; sleep 0.1; done
lab_port_open "$R2" && lab_fail "Dropbear still listens on $R2 after the reconnect"
echo_ok "$R1" || lab_fail "an echo through $R1 failed after the reconnect"
lab_log "ok: $R2 closed on Dropbear, $R1 works"

lab_log "check: $R2 added back + SIGHUP -> bound again"
write_conf "$R1" "$R2"
n=$(lab_log_count "$TETHER_LOG" "remote port $R2 bound")
kill -HUP "$TETHER_PID"
lab_wait_log_count "$TETHER_LOG" "remote port $R2 bound" $((n + 1)) 10 ||
    lab_fail "forward $R2 was not bound again: $(tail -n 3 "$TETHER_LOG")"
lab_wait_tcp "$R2" 5 && echo_ok "$R2" || lab_fail "an echo through $R2 failed after it was added back"
lab_stop "$TETHER_PID" TERM 10
lab_pass "Dropbear kept the removed port: tether said so and reconnected; the port closed, and came back when re-added"
