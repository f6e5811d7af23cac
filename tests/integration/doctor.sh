#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# tether doctor against the lab bastion (a real sshd on 127.0.0.1):
#  - a good setup: every check ok (key, known_hosts, reach, host key, auth,
#    forward, target), exit 0, the bastion-side advice (ClientAlive*,
#    GatewayPorts, UnusedConnectionTimeout) and the authorized_keys line
#    exactly as `tether bastion-line` prints it; the forward it asked for is
#    released (the port is closed on the bastion afterwards) and its session
#    is gone;
#  - each check fails for its own cause, with its exit code: missing key (4),
#    key mode 644 (4), bastion not in known_hosts (5), another host key
#    recorded (5), a key the bastion does not accept (6), the port held by
#    another listener on the bastion (7), nothing listening at the
#    bastion's address (1);
#  - the port held by the running tunnel itself (its state file): ok, "held
#    by the running tunnel (pid N)", exit 0;
#  - ssh-agent instead of -s: no agent (4), an agent with no keys (4), an
#    agent holding the key (0);
#  - -p PORT --user reads ~/.config/tether/PORT.conf; -p of a port with no
#    installed tunnel is refused (3).
#
# usage: doctor.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[doctor] SKIP: tether doctor's checks; nothing to compare with LAB_TUNNEL=ssh"; exit 77; }
lab_init "$@"
TETHER=$LAB_TETHER
{ command -v ssh-agent && command -v ssh-add; } >/dev/null ||
    lab_skip "ssh-agent/ssh-add not found (install openssh-client)"

lab_start_bastion
lab_start_netload echo          # the local target: TARGET_PORT
RPORT=$(lab_free_port) || lab_fail "no free port"
BASTION="$LAB_USER@127.0.0.1:$BASTION_PORT"
KH=$BASTION_KNOWN_HOSTS
FWD="127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT"
unset SSH_AUTH_SOCK TETHER_BASTION TETHER_KEY SCITEX_TUNNEL_BASTION_SERVER \
    SCITEX_TUNNEL_SECRET_KEY_PATH RUNTIME_DIRECTORY

N=0
# doc ARGS...: tether doctor ARGS (bounded); sets RC, OUT (stdout+stderr).
doc() {
	N=$((N + 1))
	timeout -k 5 40 "$TETHER" doctor "$@" </dev/null >"$LAB_DIR/doctor-$N.out" 2>&1
	RC=$?
	OUT=$(cat "$LAB_DIR/doctor-$N.out")
}
show() { printf '%s\n' "$OUT" | sed "s/^/[$LAB_NAME]   | /"; }
has() { grep -qF -- "$1" <<<"$OUT"; }
line_of() { grep -E "^$1 +$2:" <<<"$OUT"; }
# expect WHAT CODE CHECK MESSAGE ARGS...: doctor ARGS exits CODE, and the
# first FAIL line is for CHECK and contains MESSAGE.
expect_fail() {
	local what=$1 code=$2 check=$3 msg=$4 first
	shift 4
	doc "$@"
	[ "$RC" = "$code" ] || { show; lab_fail "$what: exit $RC, expected $code"; }
	first=$(grep -m1 '^FAIL ' <<<"$OUT")
	[[ $first == "FAIL  $check"* ]] || { show; lab_fail "$what: the first FAIL is not for '$check': $first"; }
	grep -qF -- "$msg" <<<"$first" || { show; lab_fail "$what: '$msg' is not in: $first"; }
	lab_log "ok: $what → exit $RC: ${first:0:150}"
}

# ---- a good setup ------------------------------------------------------------
doc -b "$BASTION" -s "$LAB_KEY" --known-hosts "$KH" -R "$FWD"
[ "$RC" = 0 ] || { show; lab_fail "good setup: exit $RC, expected 0"; }
for check in key known_hosts reach "host key" auth "forward $FWD" target; do
	line_of ok "$check" >/dev/null || { show; lab_fail "good setup: no 'ok  $check:' line"; }
done
grep -q '^FAIL' <<<"$OUT" && { show; lab_fail "good setup: a FAIL line"; }
line_of ok key | grep -qF "not encrypted, mode 0600" || { show; lab_fail "the key line does not say 'not encrypted, mode 0600'"; }
line_of ok "host key" | grep -qF "SHA256:" || { show; lab_fail "the host key line has no fingerprint"; }
line_of ok auth | grep -qF "for user $LAB_USER" || { show; lab_fail "the auth line does not name user $LAB_USER"; }
line_of ok "forward $FWD" | grep -qF "listen on 127.0.0.1:$RPORT (asked and released again)" ||
    { show; lab_fail "the forward line does not say it was asked and released"; }
for advice in "ClientAliveInterval 10" "ClientAliveCountMax 3" "GatewayPorts clientspecified" \
    "UnusedConnectionTimeout"; do
	has "$advice" || { show; lab_fail "good setup: no advice '$advice'"; }
done
want_line=$("$TETHER" bastion-line -p "$RPORT" -s "$LAB_KEY") || lab_fail "tether bastion-line failed"
grep -qxF -- "  $want_line" <<<"$OUT" || { show; lab_fail "the authorized_keys line is not '$want_line'"; }
has "All checks passed." || { show; lab_fail "good setup: no 'All checks passed.'"; }
lab_log "ok: good setup: every check ok, advice and the bastion-line printed, exit 0"
lab_port_open "$RPORT" && lab_fail "port $RPORT is still open on the bastion after doctor"
end=$((SECONDS + 5))
while [ -n "$(lab_bastion_sessions)" ] && [ "$SECONDS" -lt "$end" ]; do sleep 0.1; done
[ -z "$(lab_bastion_sessions)" ] || lab_fail "doctor left a session on the bastion: $(lab_bastion_sessions | tr '\n' ' ')"
lab_log "ok: the forward was released and doctor's session is gone"

# The same through -p PORT -t TARGET (the seed's shorthand).
doc -b "$BASTION" -s "$LAB_KEY" --known-hosts "$KH" -p "$RPORT" -t "127.0.0.1:$TARGET_PORT"
[ "$RC" = 0 ] || { show; lab_fail "-p/-t: exit $RC"; }
line_of ok "forward $RPORT:127.0.0.1:$TARGET_PORT" >/dev/null || { show; lab_fail "-p/-t: no ok forward line"; }

# ---- each check fails for its own cause -----------------------------------------
expect_fail "missing key" 4 "key" "No such file" \
    -b "$BASTION" -s "$LAB_DIR/no-such-key" --known-hosts "$KH" -R "$FWD"
{ cp "$LAB_KEY" "$LAB_DIR/open_key" && chmod 644 "$LAB_DIR/open_key"; } || lab_fail "cannot make a key with mode 644"
expect_fail "key mode 644" 4 "key" "permissions 0644 are too open" \
    -b "$BASTION" -s "$LAB_DIR/open_key" --known-hosts "$KH" -R "$FWD"
has "chmod 600 $LAB_DIR/open_key" || { show; lab_fail "key mode 644: the fix (chmod 600) is not given"; }

: >"$LAB_DIR/kh_empty"
expect_fail "bastion not in known_hosts" 5 "known_hosts" "holds no key for [127.0.0.1]:$BASTION_PORT" \
    -b "$BASTION" -s "$LAB_KEY" --known-hosts "$LAB_DIR/kh_empty" -R "$FWD"
has "tether trust -b $BASTION --known-hosts $LAB_DIR/kh_empty" || { show; lab_fail "unknown host key: the fix (tether trust) is not given"; }
line_of FAIL "host key" | grep -qF "is not in $LAB_DIR/kh_empty" || { show; lab_fail "unknown host key: no FAIL host key line"; }
line_of skip auth >/dev/null || { show; lab_fail "unknown host key: auth was not skipped"; }
[ -s "$LAB_DIR/kh_empty" ] && lab_fail "doctor wrote to known_hosts"

ssh-keygen -q -t ed25519 -N '' -f "$LAB_DIR/other_host_key" || lab_fail "ssh-keygen"
printf '[127.0.0.1]:%s %s\n' "$BASTION_PORT" "$(cut -d' ' -f1,2 "$LAB_DIR/other_host_key.pub")" >"$LAB_DIR/kh_changed"
expect_fail "another host key recorded" 5 "host key" "changed" \
    -b "$BASTION" -s "$LAB_KEY" --known-hosts "$LAB_DIR/kh_changed" -R "$FWD"
line_of ok known_hosts >/dev/null || { show; lab_fail "changed key: the known_hosts entry exists, so that check should pass"; }

# A pinned key needs no known_hosts (an empty one here); a wrong pin fails
# the host key check with both fingerprints.
FP=$(ssh-keygen -l -E sha256 -f "$BASTION_HOST_KEY.pub" | cut -d' ' -f2)
OTHER_FP=$(ssh-keygen -l -E sha256 -f "$LAB_DIR/other_host_key.pub" | cut -d' ' -f2)
doc -b "$BASTION" -s "$LAB_KEY" --known-hosts "$LAB_DIR/kh_empty" --host-key "$FP" -R "$FWD"
[ "$RC" = 0 ] || { show; lab_fail "pinned key: exit $RC, expected 0"; }
line_of ok known_hosts | grep -qF "not needed: the bastion's key is pinned (host_key $FP)" ||
    { show; lab_fail "pinned key: the known_hosts line does not say it is not needed"; }
line_of ok "host key" | grep -qF "$FP matches the pinned key" || { show; lab_fail "pinned key: no 'matches the pinned key'"; }
lab_log "ok: --host-key with an empty known_hosts: known_hosts not needed, host key matches the pin, exit 0"
expect_fail "a wrong pinned key" 5 "host key" "but the pinned key (--host-key) is $OTHER_FP" \
    -b "$BASTION" -s "$LAB_KEY" --known-hosts "$KH" --host-key "$OTHER_FP" -R "$FWD"
line_of FAIL "host key" | grep -qF "$FP" || { show; lab_fail "wrong pin: the bastion's real fingerprint is not named"; }

ssh-keygen -q -t ed25519 -N '' -C stranger -f "$LAB_DIR/stranger" || lab_fail "ssh-keygen"
expect_fail "a key the bastion does not accept" 6 "auth" "the bastion refused $LAB_DIR/stranger for user $LAB_USER" \
    -b "$BASTION" -s "$LAB_DIR/stranger" --known-hosts "$KH" -R "$FWD"
line_of skip forwards >/dev/null || { show; lab_fail "refused key: the forwards were not skipped"; }

HPORT=$(lab_free_port) || lab_fail "no free port"
lab_spawn "$LAB_DIR/holder.log" "$NETLOAD" -d "$LAB_SERVER_DEADLINE" echo "$HPORT"
HOLDER=$LAB_SPAWN_PID
lab_wait_tcp "$HPORT" 5 "$HOLDER" || lab_fail "the holder did not listen on $HPORT"
expect_fail "port held by another listener" 7 "forward 127.0.0.1:$HPORT" "the bastion refused to listen on 127.0.0.1:$HPORT" \
    -b "$BASTION" -s "$LAB_KEY" --known-hosts "$KH" -R "127.0.0.1:$HPORT:127.0.0.1:$TARGET_PORT"
has "held by the running tunnel" && { show; lab_fail "a foreign listener was taken for the running tunnel"; }
lab_stop "$HOLDER" TERM 5

DEAD=$(lab_free_port) || lab_fail "no free port"
# known_hosts has the bastion's key under the dead port too: only reach fails.
printf '[127.0.0.1]:%s %s\n' "$DEAD" "$BASTION_HOST_PUB" >"$LAB_DIR/kh_dead"
expect_fail "nothing listens at the bastion's address" 1 "reach" "cannot reach the bastion 127.0.0.1 port $DEAD" \
    -b "$LAB_USER@127.0.0.1:$DEAD" -s "$LAB_KEY" --known-hosts "$LAB_DIR/kh_dead" -R "$FWD"
line_of ok known_hosts >/dev/null || { show; lab_fail "dead bastion: the known_hosts check should pass"; }

# A target nobody listens on is a warning, not a failure.
doc -b "$BASTION" -s "$LAB_KEY" --known-hosts "$KH" -R "127.0.0.1:$RPORT:127.0.0.1:$DEAD"
[ "$RC" = 0 ] || { show; lab_fail "dead target: exit $RC, expected 0 (a warning)"; }
line_of warn target | grep -qF "127.0.0.1 port $DEAD does not accept connections" || { show; lab_fail "dead target: no warning"; }
lab_log "ok: a dead local target is a warning (exit 0)"

# ---- the port held by the running tunnel itself ---------------------------------
STATE=$LAB_DIR/state
lab_start_tether run -b "$BASTION" -s "$LAB_KEY" --known-hosts "$KH" -R "$FWD" --state-dir "$STATE"
lab_wait_forward "$RPORT" 30 || lab_fail "the tunnel did not bind $RPORT"
doc -b "$BASTION" -s "$LAB_KEY" --known-hosts "$KH" -R "$FWD" --state-dir "$STATE"
[ "$RC" = 0 ] || { show; lab_fail "port held by the running tunnel: exit $RC, expected 0"; }
line_of ok "forward $FWD" | grep -qF "port $RPORT is held by the running tunnel (pid $TETHER_PID)" ||
    { show; lab_fail "no 'held by the running tunnel (pid $TETHER_PID)'"; }
lab_log "ok: a port the running tunnel holds: ok, names pid $TETHER_PID"
lab_port_open "$RPORT" || lab_fail "doctor disturbed the running tunnel's port"
lab_stop "$TETHER_PID" TERM 10
end=$((SECONDS + 10))
while lab_port_open "$RPORT" && [ "$SECONDS" -lt "$end" ]; do sleep 0.2; done

# ---- ssh-agent instead of -s -------------------------------------------------------
expect_fail "no key and no agent" 4 "key" "no ssh-agent (SSH_AUTH_SOCK is not set" \
    -b "$BASTION" --known-hosts "$KH" -R "$FWD"
lab_spawn "$LAB_DIR/agent.log" ssh-agent -D -a "$LAB_DIR/agent.sock"
AGENT=$LAB_SPAWN_PID
end=$((SECONDS + 5))
while [ ! -S "$LAB_DIR/agent.sock" ] && [ "$SECONDS" -lt "$end" ]; do sleep 0.05; done
[ -S "$LAB_DIR/agent.sock" ] || lab_fail "ssh-agent did not create its socket"
export SSH_AUTH_SOCK=$LAB_DIR/agent.sock
expect_fail "an agent with no keys" 4 "key" "holds no keys" \
    -b "$BASTION" --known-hosts "$KH" -R "$FWD"
ssh-add -q "$LAB_KEY" 2>/dev/null || lab_fail "ssh-add failed"
doc -b "$BASTION" --known-hosts "$KH" -R "$FWD"
[ "$RC" = 0 ] || { show; lab_fail "agent with the key: exit $RC, expected 0"; }
line_of ok key | grep -qF "holds 1 key" || { show; lab_fail "agent: the key line does not count 1 key"; }
line_of ok auth | grep -qF "accepted the agent's keys" || { show; lab_fail "agent: auth not through the agent"; }
has "tether bastion-line -p PORT -s KEY" || { show; lab_fail "agent: no hint for the authorized_keys line"; }
unset SSH_AUTH_SOCK
lab_stop "$AGENT" TERM 5
lab_log "ok: ssh-agent: none (4), empty (4), holding the key (0)"

# ---- an installed tunnel: -p PORT --user -------------------------------------------
H=$LAB_DIR/home
mkdir -p "$H/.config/tether"
cat >"$H/.config/tether/$RPORT.conf" <<CONF
# Written by tether setup.
[tunnel]
name = $RPORT
bastion = $BASTION
key = $LAB_KEY
known_hosts = $KH
host_key_policy = strict
forward = $RPORT:127.0.0.1:$TARGET_PORT
CONF
N=$((N + 1))
HOME=$H timeout -k 5 40 "$TETHER" doctor -p "$RPORT" --user </dev/null >"$LAB_DIR/doctor-$N.out" 2>&1
RC=$?
OUT=$(cat "$LAB_DIR/doctor-$N.out")
[ "$RC" = 0 ] || { show; lab_fail "-p $RPORT --user: exit $RC"; }
has "($H/.config/tether/$RPORT.conf)" || { show; lab_fail "-p --user does not name the config it read"; }
line_of ok "forward $RPORT:127.0.0.1:$TARGET_PORT" >/dev/null || { show; lab_fail "-p --user: no ok forward line"; }
lab_log "ok: -p $RPORT --user checked $H/.config/tether/$RPORT.conf"
N=$((N + 1))
HOME=$H timeout -k 5 40 "$TETHER" doctor -p "$DEAD" --user </dev/null >"$LAB_DIR/doctor-$N.out" 2>&1
RC=$?
OUT=$(cat "$LAB_DIR/doctor-$N.out")
{ [ "$RC" = 3 ] && has "no installed tunnel on port $DEAD: $H/.config/tether/$DEAD.conf does not exist"; } ||
    { show; lab_fail "-p of a port with no tunnel: exit $RC"; }
lab_log "ok: -p of a port with nothing installed: exit 3, names the file"

doc --bogus
[ "$RC" = 2 ] || { show; lab_fail "unknown option: exit $RC, expected 2"; }

lab_pass "doctor: a good setup passes; key, known_hosts, host key, auth, forward, reach each fail with their own code"
