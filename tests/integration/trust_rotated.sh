#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The rotated-key path users expect: a tunnel that setup made (--user, here
# a background daemon) refuses its bastion's new host key; `tether trust -p
# PORT --user` shows the new fingerprint and, only with --yes (or a "yes"
# at a terminal), replaces the old key in the tunnel's own known_hosts,
# atomically, keeping its other lines (a @revoked one, a comment). The
# running tunnel notices the file change and forwards again within 5 s,
# with no signal and no setup. Misuse gets one line and a usage exit.
#
# usage: trust_rotated.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] && { echo "[trust_rotated] SKIP: tether's verbs"; exit 77; }
lab_init "$@"

lab_private_home
lab_start_bastion
lab_start_netload echo
RPORT=$(lab_free_port) || lab_fail "no free port"
TKH=$HOME/.config/tether/$RPORT.known_hosts
lab_on_exit "'$LAB_TETHER' remove --user -p '$RPORT' >/dev/null 2>&1"

lab_cmd "$LAB_TETHER" setup --user -p "$RPORT" -b "$LAB_USER@127.0.0.1:$BASTION_PORT" \
    -s "$(readlink -f "$LAB_KEY")" --known-hosts "$BASTION_KNOWN_HOSTS" -t "127.0.0.1:$TARGET_PORT"
[ "$RC" = 0 ] || { lab_show_cmd; lab_fail "setup --user: exit $RC"; }
LOGF=$HOME/.local/state/tether/$RPORT.log
# A line that trusts nothing for the bastion stays put through the rewrite.
OLDKEY=$(cut -d' ' -f1,2 "$BASTION_HOST_KEY.pub")
printf '# kept: a comment\n@revoked [127.0.0.1]:1 %s\n' "$(ssh-keygen -q -t ed25519 -N '' -f "$LAB_DIR/junk" <<<y >/dev/null 2>&1; cut -d' ' -f1,2 "$LAB_DIR/junk.pub")" >>"$TKH"

lab_log "check: the bastion comes back with a new host key -> the tunnel refuses it"
lab_kill_bastion TERM
ssh-keygen -q -t ed25519 -N '' -C rotated -f "$BASTION_HOST_KEY" <<<y >/dev/null 2>&1 ||
    lab_fail "ssh-keygen could not make the new host key"
NEWKEY=$(cut -d' ' -f1,2 "$BASTION_HOST_KEY.pub")
NEWFP=$(ssh-keygen -l -f "$BASTION_HOST_KEY.pub" | awk '{print $2}')
lab_restart_bastion
lab_wait_log "$LOGF" "changed" 20 || lab_fail "the tunnel did not refuse the new key: $(tail -n 3 "$LOGF")"
grep -q "re-keyed, confirm and record the new key with: tether trust -p $RPORT --user" "$LOGF" ||
    lab_fail "the refusal does not name the fix (tether trust -p $RPORT --user): $(grep changed "$LOGF" | tail -n 1)"

lab_log "check: misuse is one line and exit 2 or 3"
lab_cmd "$LAB_TETHER" trust -p "$RPORT" --user -b "x@127.0.0.1"
[ "$RC" = 2 ] && lab_has "$ERR" "drop -b and --known-hosts" || { lab_show_cmd; lab_fail "-p with -b: exit $RC"; }
lab_cmd "$LAB_TETHER" trust -p 1 --user
[ "$RC" = 3 ] && lab_has "$ERR" "no tunnel on port 1" || { lab_show_cmd; lab_fail "-p of no tunnel: exit $RC"; }

lab_log "check: without --yes and no terminal, nothing is replaced (exit 5)"
before=$(cat "$TKH")
lab_cmd "$LAB_TETHER" trust -p "$RPORT" --user
[ "$RC" = 5 ] && lab_has "$ERR" "now presents ssh-ed25519 $NEWFP" && lab_has "$ERR" "rerun with --yes" ||
    { lab_show_cmd; lab_fail "trust -p without --yes: exit $RC"; }
[ "$(cat "$TKH")" = "$before" ] || lab_fail "trust -p without --yes changed $TKH"

lab_log "check: --yes replaces the key; the tunnel forwards again within 5 s"
n=$(lab_log_count "$LOGF" "remote port $RPORT bound")
lab_us; t0=$LAB_US
lab_cmd "$LAB_TETHER" trust -p "$RPORT" --user --yes
[ "$RC" = 0 ] && lab_has "$OUT" "Replaced the key of the bastion [127.0.0.1]:$BASTION_PORT in $TKH" ||
    { lab_show_cmd; lab_fail "trust -p --yes: exit $RC"; }
grep -qF "$NEWKEY" "$TKH" || lab_fail "$TKH does not hold the new key"
grep -qF "$OLDKEY" "$TKH" && lab_fail "$TKH still trusts the old key"
grep -qx '# kept: a comment' "$TKH" && grep -q '^@revoked \[127.0.0.1\]:1 ' "$TKH" ||
    lab_fail "the rewrite lost lines that were not the bastion's: $(cat "$TKH")"
lab_wait_log_count "$LOGF" "remote port $RPORT bound" $((n + 1)) 5 ||
    lab_fail "the tunnel did not forward again within 5 s of trust -p: $(tail -n 3 "$LOGF")"
lab_log "ok: forwarding again $(lab_since_us "$t0") s after trust -p --yes"
lab_cmd "$LAB_TETHER" trust -p "$RPORT" --user
[ "$RC" = 0 ] && lab_has "$OUT" "already trusted" || { lab_show_cmd; lab_fail "trust -p again: exit $RC"; }
lab_pass "trust -p PORT --user --yes replaced the rotated key; the tunnel healed without a signal"
