#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# tether bastion-status, run where the bastion's sshd runs (here the lab's
# throwaway sshd, with no tether config of its own): two tunnels hold a
# port each, one whose target is a real sshd (its banner comes back through
# the tunnel), one whose target is down (the connection is closed). Both
# ports are listed with the account that holds them and since when; the
# sshd daemons' own listeners are not; --json parses and --metrics passes
# promtool. Two more forwards reach an echo server, which accepts and says
# nothing ("no answer"): every port is asked at once, so the run takes one
# 2 s wait, not two. Run as another account (not root), it cannot read sshd's
# sessions and says so in one line, listing none of the ports.
#
# usage: bastion_status.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[bastion_status] SKIP: tether's own verb"; exit 77; }
lab_init "$@"
[ "$(id -u)" = 0 ] || lab_skip "needs root to see the sshd sessions' sockets"
lab_find_tool json_get -ljansson
JSON_GET=$LAB_TOOL

lab_start_bastion
lab_start_workstation
RUP=$(lab_free_port) || lab_fail "no free port"
RDOWN=$(lab_free_port) || lab_fail "no free port"
DEAD=$(lab_free_port) || lab_fail "no free port"
lab_start_netload echo
RQUIET1=$(lab_free_port) || lab_fail "no free port"
RQUIET2=$(lab_free_port) || lab_fail "no free port"
for spec in "$RUP:127.0.0.1:$WS_PORT" "$RDOWN:127.0.0.1:$DEAD" \
    "$RQUIET1:127.0.0.1:$TARGET_PORT" "$RQUIET2:127.0.0.1:$TARGET_PORT"; do
	lab_start_tether run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
	    --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$spec"
	lab_wait_forward "${spec%%:*}" 20 || lab_fail "forward ${spec%%:*} was not bound"
done
now=$(date +%s)

lab_log "check: the table lists both ports, their account and what answers"
lab_us
t0=$LAB_US
lab_cmd "$LAB_TETHER" bastion-status
lab_us
took=$(((LAB_US - t0) / 1000))
[ "$RC" = 0 ] || { lab_show_cmd; lab_fail "bastion-status: exit $RC"; }
printf '%s\n' "$OUT" | sed "s/^/[$LAB_NAME]   /"
row() { awk -v p="$1" '$1 == p' <<<"$OUT"; }
[[ "$(row "$RUP")" =~ ^$RUP\ +127\.0\.0\.1\ +$LAB_USER\ +[0-9T:-]+Z\ +ssh\ banner$ ]] ||
    lab_fail "port $RUP (target: an sshd) is not '... $LAB_USER ... ssh banner': '$(row "$RUP")'"
[[ "$(row "$RDOWN")" =~ ^$RDOWN\ +127\.0\.0\.1\ +$LAB_USER\ +[0-9T:-]+Z\ +closed$ ]] ||
    lab_fail "port $RDOWN (target down) is not '... closed': '$(row "$RDOWN")'"
for p in "$RQUIET1" "$RQUIET2"; do
	[[ "$(row "$p")" =~ ^$p\ +127\.0\.0\.1\ +$LAB_USER\ +[0-9T:-]+Z\ +no\ answer$ ]] ||
	    lab_fail "port $p (a silent echo server) is not '... no answer': '$(row "$p")'"
done
[ "$took" -lt 3500 ] ||
    lab_fail "bastion-status took $took ms with two silent ports: they were asked one after the other"
lab_log "ok: two silent ports, 'no answer', asked at once ($took ms)"
for p in "$BASTION_PORT" "$WS_PORT"; do
	[ -z "$(row "$p")" ] || lab_fail "an sshd's own listener ($p) is listed as a forward"
done

lab_log "check: --json, with since within the last minute"
"$LAB_TETHER" bastion-status --json >"$LAB_DIR/bs.json" || lab_fail "bastion-status --json failed"
n=0
while "$JSON_GET" "$LAB_DIR/bs.json" "ports.$n.port" >/dev/null 2>&1; do n=$((n + 1)); done
[ "$n" -ge 2 ] || lab_fail "--json lists $n ports: $(cat "$LAB_DIR/bs.json")"
found=0
for i in $(seq 0 $((n - 1))); do
	[ "$("$JSON_GET" "$LAB_DIR/bs.json" "ports.$i.port")" = "$RUP" ] || continue
	found=1
	since=$("$JSON_GET" "$LAB_DIR/bs.json" "ports.$i.since")
	t=$(date -d "$since" +%s) || lab_fail "since '$since' is not a time"
	[ "$t" -le "$now" ] && [ "$t" -gt $((now - 60)) ] || lab_fail "since $since is not within the last minute"
	[ "$("$JSON_GET" "$LAB_DIR/bs.json" "ports.$i.answer")" = "ssh banner" ] || lab_fail "--json: $RUP does not answer"
done
[ "$found" = 1 ] || lab_fail "--json does not list $RUP: $(cat "$LAB_DIR/bs.json")"

lab_log "check: --metrics, through promtool"
"$LAB_TETHER" bastion-status --metrics >"$LAB_DIR/bs.prom" || lab_fail "bastion-status --metrics failed"
grep -qx "tether_bastion_port_answers{port=\"$RUP\",account=\"$LAB_USER\"} 1" "$LAB_DIR/bs.prom" ||
    lab_fail "no answers 1 for $RUP: $(cat "$LAB_DIR/bs.prom")"
grep -qx "tether_bastion_port_answers{port=\"$RDOWN\",account=\"$LAB_USER\"} 0" "$LAB_DIR/bs.prom" ||
    lab_fail "no answers 0 for $RDOWN: $(cat "$LAB_DIR/bs.prom")"
if command -v promtool >/dev/null; then
	promtool check metrics <"$LAB_DIR/bs.prom" >"$LAB_DIR/promtool.txt" 2>&1 ||
	    lab_fail "promtool: $(cat "$LAB_DIR/promtool.txt")"
fi
lab_log "check: not root, it says in one line what it could not read"
OTHER=tbs$$
lab_add_user "$OTHER" "$LAB_DIR/home-$OTHER"
lab_cmd setpriv --reuid="$OTHER" --regid="$OTHER" --init-groups \
    env -i HOME="$LAB_DIR/home-$OTHER" PATH="$PATH" "$LAB_TETHER" bastion-status
[ "$RC" = 0 ] || { lab_show_cmd; lab_fail "bastion-status as $OTHER: exit $RC"; }
[ "$(grep -c 'could not be read' <<<"$ERR")" = 1 ] && lab_has "$ERR" "run as root" ||
    { lab_show_cmd; lab_fail "as $OTHER: no one line saying the sshd sessions could not be read"; }
[ -z "$(row "$RUP")" ] && [ -z "$(row "$RDOWN")" ] ||
    { lab_show_cmd; lab_fail "as $OTHER: a port is listed without its sshd session read"; }
lab_log "check: --json with --metrics is refused (exit 2), not one of them silently"
lab_cmd "$LAB_TETHER" bastion-status --json --metrics
[ "$RC" = 2 ] || { lab_show_cmd; lab_fail "--json --metrics: exit $RC, expected 2"; }
lab_pass "bastion-status: $RUP answers with an ssh banner, $RDOWN closed (target down), accounts and since; JSON and metrics"
