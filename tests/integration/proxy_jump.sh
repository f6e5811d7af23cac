#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Native ProxyJump, no ssh binary on the way: the bastion is named by a
# host that resolves only on the jump host (its sshd runs in a private
# mount namespace whose /etc/hosts names it), so a direct dial cannot
# succeed. One jump host, then a chain of two, carry data; a frozen jump
# host (SIGSTOP of its session process) is found within interval x count
# and the chain is rebuilt; ProxyJump from ssh_config, with the jump host's
# own IdentityFile; a jump host whose key is unknown, or that cannot reach
# the next hop, is named.
#
# usage: proxy_jump.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[proxy_jump] SKIP: tether's ProxyJump"; exit 77; }
lab_init "$@"
command -v unshare >/dev/null || lab_fail "unshare is needed (util-linux)"
export RUNTIME_DIRECTORY=$LAB_DIR/run
lab_find_tool json_get -ljansson
JSON_GET=$LAB_TOOL

INNER=bastion.tether-lab.internal
getent hosts "$INNER" >/dev/null && lab_fail "$INNER resolves here; the test needs it not to"
lab_start_bastion
lab_start_netload echo
HOSTS=$LAB_DIR/jump-hosts
printf '127.0.0.1 localhost\n127.0.0.1 %s\n' "$INNER" >"$HOSTS"
lab_start_jump jump1 "$HOSTS"
J1=$JUMP_PORT J1_PID=$JUMP_PID
KH=$LAB_DIR/jump_known_hosts
{
	printf '[127.0.0.1]:%s %s\n' "$J1" "$JUMP_HOST_PUB"
	printf '[%s]:%s %s\n' "$INNER" "$BASTION_PORT" "$BASTION_HOST_PUB"
} >"$KH"
RPORT=$(lab_free_port) || lab_fail "no free port"
FWD="127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT"
B="$LAB_USER@$INNER:$BASTION_PORT"

lab_log "check: the lab is right: OpenSSH's ssh -N -R -J binds through the jump host"
SSHCFG=$LAB_DIR/ssh_client_config
cat >"$SSHCFG" <<CONF
Host *
    User $LAB_USER
    IdentityFile $LAB_KEY
    UserKnownHostsFile $KH
    StrictHostKeyChecking yes
    BatchMode yes
CONF
SPORT0=$(lab_free_port) || lab_fail "no free port"
lab_spawn "$LAB_DIR/ssh-J.log" ssh -F "$SSHCFG" -N -R "127.0.0.1:$SPORT0:127.0.0.1:$TARGET_PORT" \
    -J "127.0.0.1:$J1" -p "$BASTION_PORT" "$INNER"
SSH_J=$LAB_SPAWN_PID
lab_wait_tcp "$SPORT0" 20 "$SSH_J" || lab_fail "ssh -J did not bind: $(cat "$LAB_DIR/ssh-J.log")"
"$NETLOAD" -d 30 load "$SPORT0" 1 65536 >/dev/null || lab_fail "an echo through ssh -J failed"
lab_stop "$SSH_J" TERM 5

lab_log "check: the bastion cannot be reached directly"
"$LAB_TETHER" doctor -b "$B" -s "$LAB_KEY" --known-hosts "$KH" -p "$RPORT" >"$LAB_DIR/direct.out" 2>&1 &&
    lab_fail "a direct dial to $INNER worked: $(cat "$LAB_DIR/direct.out")"

lab_log "check: through one jump host the forward binds and carries data"
lab_start_tether run -J "$LAB_USER@127.0.0.1:$J1" -b "$B" -s "$LAB_KEY" --known-hosts "$KH" -R "$FWD" \
    -o keepalive_interval=1 -o keepalive_count=3 -o backoff_initial=0.2 -o backoff_max=1
lab_wait_forward "$RPORT" 20 || lab_fail "no forward through the jump host: $(tail -n 8 "$TETHER_LOG")"
"$NETLOAD" -d 30 load "$RPORT" 4 1048576 >/dev/null || lab_fail "an echo through the jump host failed"
lab_wait_log "$TETHER_LOG" "jump host 127.0.0.1:$J1 opened the way to $INNER:$BASTION_PORT" 2 ||
    lab_fail "the log does not say the jump host opened the way: $(cat "$TETHER_LOG")"
pgrep -x ssh -P "$TETHER_PID" >/dev/null && lab_fail "tether started an ssh process"

lab_log "check: the jump host frozen -> found within keepalive_interval x count, chain rebuilt"
sessions=$(lab__tree "$J1_PID" | tail -n +2 | tr '\n' ' ')
[ -n "$sessions" ] || lab_fail "no session process on the jump host"
n_bound=$(lab_log_count "$TETHER_LOG" "remote port $RPORT bound")
lab_us
t0=$LAB_US
# shellcheck disable=SC2086
kill -STOP $sessions
lab_wait_log "$TETHER_LOG" "jump host 127.0.0.1:$J1 did not answer for" 8 ||
    { kill -CONT $sessions; lab_fail "no 'jump host ... did not answer' within 8 s: $(tail -n 5 "$TETHER_LOG")"; }
t_detect=$(lab_since_us "$t0")
lab_has "$(grep 'did not answer' "$TETHER_LOG")" "hop 1 of 1" ||
    { kill -CONT $sessions; lab_fail "the failure does not name the hop: $(grep 'did not answer' "$TETHER_LOG")"; }
# shellcheck disable=SC2086
kill -KILL $sessions
lab_wait_log_count "$TETHER_LOG" "remote port $RPORT bound" $((n_bound + 1)) 20 ||
    lab_fail "the chain was not rebuilt: $(tail -n 8 "$TETHER_LOG")"
"$NETLOAD" -d 30 load "$RPORT" 2 65536 >/dev/null || lab_fail "an echo through the rebuilt chain failed"
lab_log "measured: frozen jump host found in $t_detect s (keepalive 1 s x 3), chain rebuilt"
lab_stop "$TETHER_PID" TERM 10

lab_log "check: a chain of two jump hosts (the outer one cannot resolve $INNER either)"
lab_start_jump jump2
J2=$JUMP_PORT
printf '[127.0.0.1]:%s %s\n' "$J2" "$JUMP_HOST_PUB" >>"$KH"
# From a config file with one hop, then SIGHUP with the file naming two:
# a new way there is a new session, not a reconfigured one.
CONF=$LAB_DIR/tunnel.conf
write_conf() {
	printf '[tunnel]\nbastion = %s\nkey = %s\nknown_hosts = %s\nforward = %s\nproxy_jump = %s\n' \
	    "$B" "$LAB_KEY" "$KH" "$FWD" "$1" >"$CONF"
}
write_conf "$LAB_USER@127.0.0.1:$J1"
lab_start_tether run -c "$CONF"
lab_wait_forward "$RPORT" 20 || lab_fail "no forward through the jump host of the file: $(tail -n 8 "$TETHER_LOG")"
write_conf "$LAB_USER@127.0.0.1:$J2,$LAB_USER@127.0.0.1:$J1"
kill -HUP "$TETHER_PID"
lab_wait_log "$TETHER_LOG" "jump host 127.0.0.1:$J2 opened the way" 20 ||
    lab_fail "SIGHUP with a new proxy_jump did not take the new way: $(tail -n 8 "$TETHER_LOG")"
lab_wait_log_count "$TETHER_LOG" "remote port $RPORT bound" 2 20 ||
    lab_fail "no forward through two jump hosts after SIGHUP: $(tail -n 8 "$TETHER_LOG")"
"$NETLOAD" -d 30 load "$RPORT" 4 1048576 >/dev/null || lab_fail "an echo through two jump hosts failed"
lab_wait_log "$TETHER_LOG" "jump host 127.0.0.1:$J2 opened the way to 127.0.0.1:$J1" 2 ||
    lab_fail "the outer hop did not open the way to the inner one: $(cat "$TETHER_LOG")"
STATE=$RUNTIME_DIRECTORY/$RPORT.json
[ "$("$JSON_GET" "$STATE" jumps.0)" = "$LAB_USER@127.0.0.1:$J2" ] &&
    [ "$("$JSON_GET" "$STATE" jumps.1)" = "$LAB_USER@127.0.0.1:$J1" ] ||
    lab_fail "the state does not show the chain: $(cat "$STATE")"
lab_stop "$TETHER_PID" TERM 10

lab_log "check: ProxyJump from ssh_config, the jump host's own IdentityFile"
JKEY=$LAB_DIR/jump_key
ssh-keygen -q -t ed25519 -N '' -f "$JKEY" || lab_fail "ssh-keygen failed"
cat "$JKEY.pub" >>"$LAB_DIR/authorized_keys"
CFG=$LAB_DIR/ssh_config
cat >"$CFG" <<CONF
Host inner
    HostName $INNER
    Port $BASTION_PORT
    User $LAB_USER
    ProxyJump gate
Host gate
    HostName 127.0.0.1
    Port $J1
    User $LAB_USER
    IdentityFile $JKEY
CONF
out=$("$LAB_TETHER" run --check -F "$CFG" -b inner -s "$LAB_KEY" --known-hosts "$KH" -R "$FWD" 2>&1) ||
    lab_fail "--check with ProxyJump failed: $out"
lab_has "$out" "through jump host $LAB_USER@127.0.0.1:$J1 (gate), key $JKEY" ||
    lab_fail "--check does not show the resolved jump host: $out"
lab_start_tether run -F "$CFG" -b inner -s "$LAB_KEY" --known-hosts "$KH" -R "$FWD"
lab_wait_forward "$RPORT" 20 || lab_fail "no forward through ssh_config's ProxyJump: $(tail -n 8 "$TETHER_LOG")"
grep -q "Accepted publickey for $LAB_USER.*$(ssh-keygen -lf "$JKEY.pub" | cut -d' ' -f2)" \
    "$LAB_DIR/jump1-sshd.log" || lab_fail "the jump host was not offered its own IdentityFile"
lab_stop "$TETHER_PID" TERM 10

lab_log "check: doctor goes through the jump host and checks the bastion beyond it"
out=$("$LAB_TETHER" doctor -J "$LAB_USER@127.0.0.1:$J1" -b "$B" -s "$LAB_KEY" --known-hosts "$KH" -R "$FWD" 2>&1) ||
    lab_fail "doctor through a jump host failed: $out"
lab_has "$out" "ok    jump hosts: 1 jump host(s) reached" || lab_fail "doctor does not report the jump host: $out"
lab_has "$out" "ok    auth:" || lab_fail "doctor did not sign in to the bastion beyond the jump host: $out"

lab_log "check: trust -J records the jump host's key, then the bastion's through it"
KH2=$LAB_DIR/trusted_known_hosts
out=$("$LAB_TETHER" trust -J "$LAB_USER@127.0.0.1:$J1" -s "$LAB_KEY" -b "$B" --known-hosts "$KH2" --yes 2>&1) ||
    lab_fail "trust -J failed: $out"
lab_has "$out" "Recorded the jump host [127.0.0.1]:$J1" || lab_fail "trust did not record the jump host: $out"
lab_has "$out" "Recorded the bastion [$INNER]:$BASTION_PORT" || lab_fail "trust did not record the bastion: $out"
lab_start_tether run -J "$LAB_USER@127.0.0.1:$J1" -b "$B" -s "$LAB_KEY" --known-hosts "$KH2" -R "$FWD"
lab_wait_forward "$RPORT" 20 || lab_fail "no forward with the keys trust recorded: $(tail -n 8 "$TETHER_LOG")"
lab_stop "$TETHER_PID" TERM 10

lab_log "check: setup -J writes the jump host into the tunnel's config, and the tunnel forwards"
SPORT=$(lab_free_port) || lab_fail "no free port"
(
	lab_private_home
	out=$("$LAB_TETHER" setup --user -J "$LAB_USER@127.0.0.1:$J1" -p "$SPORT" -b "$B" -s "$LAB_KEY" \
	    --known-hosts "$KH2" -t "127.0.0.1:$TARGET_PORT" 2>&1) || lab_fail "setup -J failed: $out"
	conf=$HOME/.config/tether/$SPORT.conf
	grep -qx "proxy_jump = $LAB_USER@127.0.0.1:$J1" "$conf" || lab_fail "setup did not record the jump host: $(cat "$conf")"
	"$NETLOAD" -d 30 load "$SPORT" 2 65536 >/dev/null || lab_fail "an echo through the set-up tunnel failed"
	out=$("$LAB_TETHER" remove --user -p "$SPORT" 2>&1) || lab_fail "remove failed: $out"
) || exit 1

lab_log "check: a jump host not in known_hosts is refused, named"
sed -i "/^\[127.0.0.1\]:$J1 /d" "$KH"
lab_run_tether run -J "$LAB_USER@127.0.0.1:$J1" -b "$B" -s "$LAB_KEY" --known-hosts "$KH" -R "$FWD"
[ "$LAB_RC" = 5 ] || lab_fail "unknown jump host key: exit $LAB_RC, expected 5: $LAB_OUT"
lab_has "$LAB_OUT" "127.0.0.1" || lab_fail "the refusal does not name the jump host: $LAB_OUT"
out=$("$LAB_TETHER" doctor -J "$LAB_USER@127.0.0.1:$J1" -b "$B" -s "$LAB_KEY" --known-hosts "$KH" -R "$FWD" 2>&1)
rc=$?
[ "$rc" = 5 ] || lab_fail "doctor with an unknown jump host key: exit $rc, expected 5: $out"
lab_has "$out" "FAIL  jump hosts: hop 1 of 1 to the bastion:" || lab_fail "doctor does not name the hop: $out"

lab_log "check: a jump host that cannot reach the next hop is named"
printf '[127.0.0.1]:%s %s\n' "$J2" "$JUMP_HOST_PUB" >"$KH"
lab_start_tether run -J "$LAB_USER@127.0.0.1:$J2" -b "$B" -s "$LAB_KEY" --known-hosts "$KH" -R "$FWD"
lab_wait_log "$TETHER_LOG" "jump host 127.0.0.1:$J2 cannot reach $INNER:$BASTION_PORT" 10 ||
    lab_fail "the unreachable next hop is not named: $(tail -n 5 "$TETHER_LOG")"
lab_stop "$TETHER_PID" TERM 10
lab_pass "ProxyJump: one and two jump hosts carry data to a bastion only they can name; a frozen hop found in $t_detect s and the chain rebuilt; ssh_config's ProxyJump with the hop's own key; unknown or stuck hops named"
