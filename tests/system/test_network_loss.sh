#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Network loss with the unit running under a real systemd
# (tests/system/lib.sh). tether@PORT.service is set up, then its conf gets
# keepalive_interval = 2, keepalive_count = 3 and backoff_max = 1 (edited,
# then `systemctl reload`: same MainPID). A blackhole (nft in the bastion's
# namespace drops the ssh port both ways: packets vanish, nothing is reset)
# lasts 2 x 2 s x 3 = 12 s, then is lifted. Checks:
#  - the service itself notices: the journal says "did not answer" within
#    keepalive_interval x keepalive_count (6 s) of the drop (it counts
#    from the last answer, which came before the drop; measured);
#  - it reconnects on its own: same MainPID, NRestarts unchanged, the unit
#    stays active all along;
#  - a real ssh through the tunnel works again after the lift; the time
#    from the lift to the forward bound again (journal) and to the first
#    ssh through it are measured and printed. A lifted blackhole makes no
#    netlink event (no route, address or link changes), so what decides it
#    is the attempt under way when the network returns: its next SYN
#    retransmission (every 1 s at first on this kernel, tcp_syn_linear_
#    timeouts), or, past its TCP_USER_TIMEOUT (interval x count = 6 s),
#    the next attempt after a backoff of at most backoff_max = 1 s. The
#    test asserts < LIMIT_S (default 5 s, TETHER_BLACKHOLE_LIMIT_S) and
#    reports whether it was within 1 s.
# The bastion drops a dead client after ClientAliveInterval 1 x CountMax 2,
# long before the lift: the old session does not hold the port.
#
# usage: test_network_loss.sh TETHER_BINARY TESTS_BUILD_DIR [BUILD_DIR]
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sys_init "$@"
command -v nft >/dev/null ||
    sys_skip "nft not found on the host: install the package nftables (it is in .ci/packages)"
SYS_BASTION_ALIVE=1
SYS_BASTION_ALIVE_COUNT=2
sys_boot

PORT=2204
UNIT=tether@$PORT.service
TUSER=tunnel
KA_INTERVAL=2
KA_COUNT=3
OUTAGE=$((2 * KA_INTERVAL * KA_COUNT))
LIMIT_S=${TETHER_BLACKHOLE_LIMIT_S:-5}
NFT_TABLE=tether_blackhole
p() { sys_prop "$UNIT" "$1"; }
show_unit() {
	cx systemctl status --no-pager -n 30 -- "$UNIT" 2>&1 | sed "s/^/[$LAB_NAME]   /"
}
blackhole_on() {
	ip netns exec "$LAB_NS_BAS" nft -f - <<NFT
table inet $NFT_TABLE {
	chain in { type filter hook input priority 0; policy accept; tcp dport $BASTION_SSH_PORT drop; }
	chain out { type filter hook output priority 0; policy accept; tcp sport $BASTION_SSH_PORT drop; }
}
NFT
}
blackhole_off() {
	ip netns exec "$LAB_NS_BAS" nft delete table inet "$NFT_TABLE"
}

# ---- a running tunnel with short keepalives and backoff ---------------------------
cx useradd -m -s /bin/bash "$TUSER" || lab_fail "useradd $TUSER failed"
sys_give_key "$TUSER"
cx_as "$TUSER" "$SYS_TETHER" trust -b "$BASTION" --yes >/dev/null 2>&1 || lab_fail "tether trust failed"
out=$(cx "$SYS_TETHER" setup -p "$PORT" -b "$BASTION" -s "/home/$TUSER/.ssh/id_ed25519" \
    --run-as "$TUSER" 2>&1) || { printf '%s\n' "$out"; show_unit; lab_fail "tether setup failed"; }
sys_unit_is "$UNIT" active || lab_fail "$UNIT is not active after setup"
MAINPID=$(p MainPID)
printf 'keepalive_interval = %s\nkeepalive_count = %s\nbackoff_max = 1\n' "$KA_INTERVAL" "$KA_COUNT" \
    >>"$SYS_ROOT/etc/tether/$PORT.conf"
lab_us; t0=$LAB_US
cx systemctl reload -- "$UNIT" || { show_unit; lab_fail "systemctl reload failed"; }
[ "$(p MainPID)" = "$MAINPID" ] || lab_fail "reload changed the MainPID"
l=$(sys_log_us "$t0" "reloaded" -u "$UNIT")
[ -n "$l" ] || lab_fail "no 'reloaded' in the journal after systemctl reload"
sys_wait_tunnel "$PORT" 20 || lab_fail "no tunnel after the reload"
sys_check_tunnel "$PORT" "after the reload (keepalive $KA_INTERVAL s x $KA_COUNT, backoff_max 1)"
# A healthy session answers the bastion's 1 s probes.
sleep 3
n_timeouts=$(lab_log_count "$BASTION_LOG" "Timeout, client not responding")
[ "$n_timeouts" = 0 ] || lab_fail "the bastion dropped the healthy session (its 1 s ClientAlive probes went unanswered)"
N0=$(p NRestarts)
n_bound0=$(sys_journal "$UNIT" -o cat | grep -c "remote port $PORT bound")

# ---- the blackhole ------------------------------------------------------------------
lab_log "blackhole: dropping tcp port $BASTION_SSH_PORT both ways in $LAB_NS_BAS for $OUTAGE s"
lab_us; t_drop=$LAB_US
blackhole_on || lab_fail "nft could not add the blackhole"
lab_on_exit "ip netns exec '$LAB_NS_BAS' nft delete table inet '$NFT_TABLE' 2>/dev/null"
end=$((SECONDS + OUTAGE + 5))
while [ -z "$(sys_log_us "$t_drop" "did not answer" -u "$UNIT")" ] && [ "$SECONDS" -lt "$end" ]; do
	sleep 0.2
done
t_noticed=$(sys_log_us "$t_drop" "did not answer" -u "$UNIT")
[ -n "$t_noticed" ] || { show_unit; lab_fail "no 'did not answer' in the journal $((OUTAGE + 5)) s into the blackhole"; }
lab_log "ok: tether noticed: $(sys_journal "$UNIT" -o cat | grep 'did not answer' | tail -n 1)"
sys_measure "blackhole -> 'did not answer' (keepalive $KA_INTERVAL s x $KA_COUNT)" "$(sys_secs "$t_drop" "$t_noticed") s"
sys_unit_is "$UNIT" active || lab_fail "$UNIT is $(p ActiveState) during the outage"
# The rest of the outage.
lab_us
left_us=$((t_drop + OUTAGE * 1000000 - LAB_US))
[ "$left_us" -le 0 ] || sleep "$((left_us / 1000000)).$(printf '%06d' $((left_us % 1000000)))"
sys_bastion_port_open "$PORT" && lab_fail "the bastion still holds port $PORT at the end of the outage (the old session was not dropped)"
grep -q "Timeout, client not responding" "$BASTION_LOG" ||
    lab_fail "the bastion did not drop the dead session during the outage"

# ---- lifted ---------------------------------------------------------------------------
lab_us; t_lift=$LAB_US
blackhole_off || lab_fail "nft could not delete the blackhole"
lab_log "blackhole lifted after $(sys_secs "$t_drop" "$t_lift") s"
end=$((SECONDS + 60))
t_ssh=
n_try=0
while [ "$SECONDS" -lt "$end" ]; do
	n_try=$((n_try + 1))
	lab_us; t_try=$LAB_US
	if out=$(sys_ssh_through "$PORT" hostname 2>&1) && [ "$out" = "$SYS_MACHINE" ]; then
		lab_us; t_ssh=$LAB_US
		printf '%s +%s s: ok in %s s\n' "$n_try" "$(sys_secs "$t_lift" "$t_try")" "$(sys_secs "$t_try" "$t_ssh")" >>"$LAB_DIR/ssh-tries.txt"
		break
	fi
	printf '%s +%s s: %s (%s s)\n' "$n_try" "$(sys_secs "$t_lift" "$t_try")" "$out" "$(lab_since_us "$t_try")" >>"$LAB_DIR/ssh-tries.txt"
	sleep 0.05
done
tail -n 4 "$LAB_DIR/ssh-tries.txt" | sed "s/^/[$LAB_NAME]   ssh try /"
[ -n "$t_ssh" ] || { show_unit; lab_fail "the tunnel does not carry ssh 60 s after the lift"; }
t_bound=$(sys_log_us "$t_lift" "remote port $PORT bound" -u "$UNIT")
[ -n "$t_bound" ] || t_bound=$(sys_log_us "$t_drop" "remote port $PORT bound" -u "$UNIT")
lab_log "tether during and after the outage:"
cx journalctl --no-pager -o short-precise -u "$UNIT" --since "@$((t_drop / 1000000))" 2>/dev/null |
    grep -E 'tether\[' | sed "s/^/[$LAB_NAME]   /"
sys_check_tunnel "$PORT" "after the outage"
[ "$(p MainPID)" = "$MAINPID" ] || lab_fail "MainPID changed from $MAINPID to $(p MainPID): the process was restarted"
[ "$(p NRestarts)" = "$N0" ] || lab_fail "NRestarts went from $N0 to $(p NRestarts)"
n_bound=$(sys_journal "$UNIT" -o cat | grep -c "remote port $PORT bound")
[ "$n_bound" -gt "$n_bound0" ] || lab_fail "no new 'remote port $PORT bound' in the journal"
lab_log "ok: reconnected by the service itself: MainPID $MAINPID, NRestarts $N0, active throughout"

rec_bound=$(sys_secs "$t_lift" "$t_bound")
rec_ssh=$(sys_secs "$t_lift" "$t_ssh")
within=no
[ $((t_ssh - t_lift)) -le 1000000 ] && within=yes
sys_measure "blackhole lifted -> forward bound again (journal)" "$rec_bound s"
sys_measure "blackhole lifted -> ssh through the tunnel works" "$rec_ssh s (the ssh that worked started at +$(sys_secs "$t_lift" "$t_try") s; within 1 s: $within)"
n_race=$(sys_journal "$UNIT" -o cat | grep -c "remote port $PORT, which this tunnel does not forward")
[ "$n_race" = 0 ] ||
    lab_log "note: tether refused $n_race connection(s) on port $PORT as 'not forwarded' while its forward request was being answered (a connection that arrives with the bastion's reply)"
[ $((t_ssh - t_lift)) -le $((LIMIT_S * 1000000)) ] ||
    lab_fail "the tunnel carried ssh only $rec_ssh s after the blackhole was lifted (limit $LIMIT_S s)"
sys_pass "blackhole noticed in $(sys_secs "$t_drop" "$t_noticed") s, same process reconnected, ssh $rec_ssh s after the lift"
