#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Failures that retrying cannot fix end tether at once with their own exit
# code and a message naming the problem:
#   5 host key changed ("changed"), 5 unknown host under strict (the key's
#   SHA256: fingerprint), 4 key readable by others ("permissions"), 4 key
#   missing, 3 bad config line ("FILE:LINE:" and the key), 3 malformed config
#   line, 2 unknown flag, 6 key not accepted by the bastion.
# A control run first proves the same arguments work when nothing is wrong.
#
# usage: errors.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[errors] SKIP: tether's exit codes and messages; nothing to check with LAB_TUNNEL=ssh"; exit 77; }
lab_init "$@"

lab_start_bastion
TPORT=$(lab_free_port) || lab_fail "no free port"
RPORT=$(lab_free_port) || lab_fail "no free port"
FWD="127.0.0.1:$RPORT:127.0.0.1:$TPORT"
BASTION="$LAB_USER@127.0.0.1:$BASTION_PORT"
FAILED=()

# expect NAME CODE PATTERN -- TETHER_ARGS...: tether exits by itself with CODE
# and its output contains the fixed string PATTERN ("" = no message check).
expect() {
	local name=$1 code=$2 pattern=$3
	shift 4
	lab_log "check: $name -> exit $code${pattern:+, message contains \"$pattern\"}"
	lab_run_tether "$@"
	printf '%s\n' "$LAB_OUT" | head -n 5 | sed "s/^/[$LAB_NAME]   tether: /"
	if [ "$LAB_RC" = 124 ] || [ "$LAB_RC" = 137 ]; then
		lab_log "FAILED: $name: tether did not exit within 20 s"
		FAILED+=("$name (timed out)")
	elif [ "$LAB_RC" != "$code" ]; then
		lab_log "FAILED: $name: exit $LAB_RC, expected $code"
		FAILED+=("$name (exit $LAB_RC, expected $code)")
	elif [ -n "$pattern" ] && ! grep -qF -- "$pattern" <<<"$LAB_OUT"; then
		lab_log "FAILED: $name: the message does not contain '$pattern'"
		FAILED+=("$name (no '$pattern' in the message)")
	else
		lab_log "ok: $name"
	fi
}

# Control: the same arguments work when nothing is wrong.
lab_log "check: control run with good arguments binds the forward"
lab_start_tether run -b "$BASTION" -s "$LAB_KEY" --known-hosts "$BASTION_KNOWN_HOSTS" -R "$FWD"
lab_wait_forward "$RPORT" 30 || lab_fail "control run: the forward of port $RPORT was not ready within 30 s"
lab_stop "$TETHER_PID" TERM 10
[ "$LAB_RC" = 0 ] || lab_fail "control run: tether exited $LAB_RC after SIGTERM, expected 0"
lab_log "ok: control run bound port $RPORT and stopped with exit 0"
# Let the bastion release the port before the next runs.
end=$((SECONDS + 10))
while lab_port_open "$RPORT" && [ "$SECONDS" -lt "$end" ]; do sleep 0.2; done

# 1. The bastion's key changed: known_hosts holds another key for it.
ssh-keygen -q -t ed25519 -N '' -C other -f "$LAB_DIR/other_host_key" || lab_fail "ssh-keygen failed"
printf '[127.0.0.1]:%s %s\n' "$BASTION_PORT" "$(cut -d' ' -f1,2 "$LAB_DIR/other_host_key.pub")" \
    >"$LAB_DIR/kh_changed"
expect "host key changed" 5 "changed" -- \
    run -b "$BASTION" -s "$LAB_KEY" --known-hosts "$LAB_DIR/kh_changed" -R "$FWD"

# 2. Unknown host under strict: empty known_hosts; the message shows the
#    bastion's fingerprint so a person can compare it; the file stays empty.
: >"$LAB_DIR/kh_empty"
FP=$(ssh-keygen -l -E sha256 -f "$BASTION_HOST_KEY.pub" | awk '{print $2}')
lab_log "bastion host key fingerprint: $FP"
expect "unknown host key (strict)" 5 "$FP" -- \
    run -b "$BASTION" -s "$LAB_KEY" --known-hosts "$LAB_DIR/kh_empty" \
    --host-key-policy strict -R "$FWD"
if [ -s "$LAB_DIR/kh_empty" ]; then
	lab_log "FAILED: strict policy wrote to known_hosts: $(cat "$LAB_DIR/kh_empty")"
	FAILED+=("strict policy wrote to known_hosts")
fi

# 3. A private key others can read.
cp "$LAB_KEY" "$LAB_DIR/id_644"
chmod 644 "$LAB_DIR/id_644"
expect "world-readable key (0644)" 4 "permissions" -- \
    run -b "$BASTION" -s "$LAB_DIR/id_644" --known-hosts "$BASTION_KNOWN_HOSTS" -R "$FWD"

# 4. A key file that does not exist: the message names it.
expect "missing key" 4 "$LAB_DIR/no_such_key" -- \
    run -b "$BASTION" -s "$LAB_DIR/no_such_key" --known-hosts "$BASTION_KNOWN_HOSTS" -R "$FWD"

# 5. A config file with a bad value on line 3: FILE:3: and the key.
CONF=$LAB_DIR/bad-value.conf
printf '# tether test config\n[tunnel]\nkeepalive_interval = soon\n' >"$CONF"
expect "config: bad value on line 3 (file:line)" 3 "$CONF:3:" -- \
    run -c "$CONF" -b "$BASTION" -s "$LAB_KEY" --known-hosts "$BASTION_KNOWN_HOSTS" -R "$FWD"
grep -qF "keepalive_interval" <<<"$LAB_OUT" || {
	lab_log "FAILED: config bad value: the message does not name the key keepalive_interval"
	FAILED+=("config bad value (key not named)")
}

# 6. A config line that is not "key = value".
CONF=$LAB_DIR/malformed.conf
printf '[tunnel]\nkeepalive_interval = 10\nthis line has no equals sign\n' >"$CONF"
expect "config: malformed line 3 (file:line)" 3 "$CONF:3:" -- \
    run -c "$CONF" -b "$BASTION" -s "$LAB_KEY" --known-hosts "$BASTION_KNOWN_HOSTS" -R "$FWD"

# 7. An unknown flag.
expect "unknown flag" 2 "no-such-flag" -- \
    run --no-such-flag -b "$BASTION" -s "$LAB_KEY" --known-hosts "$BASTION_KNOWN_HOSTS" -R "$FWD"

# 8. A key the bastion does not accept.
ssh-keygen -q -t ed25519 -N '' -C stranger -f "$LAB_DIR/id_stranger" || lab_fail "ssh-keygen failed"
expect "key not in authorized_keys (auth refused)" 6 "" -- \
    run -b "$BASTION" -s "$LAB_DIR/id_stranger" --known-hosts "$BASTION_KNOWN_HOSTS" -R "$FWD"

# shellcheck disable=SC2317  # called through lab_check
port_closed() { ! lab_port_open "$1"; }
lab_check "no failed run left port $RPORT bound on the bastion" port_closed "$RPORT"

if [ "${#FAILED[@]}" -gt 0 ]; then
	summary=${FAILED[0]}
	for f in "${FAILED[@]:1}"; do summary+="; $f"; done
	lab_fail "${#FAILED[@]} case(s) failed: $summary"
fi
lab_pass "every error case gave its exit code and message"
