#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# tether metrics, as a fleet's Prometheus sees it: a tunnel with two
# forwards, one bound and one whose port another listener holds on the
# bastion, after an echo through the bound one.
#  - `tether metrics` prints tether_tunnel_up 0 (not every forward bound),
#    tether_forward_bound 1 and 0 by remote_port, bytes each way >= what the
#    echo carried, channels, reconnects, connected_since (unix time, now),
#    tether_info with the version and bastion; promtool (Debian's
#    prometheus) accepts it;
#  - `--textfile DIR` writes DIR/tether.prom; the real node_exporter
#    (prometheus-node-exporter) serves it from /metrics on loopback;
#  - once the holder lets go and the forward binds, tether_tunnel_up is 1.
#
# usage: metrics.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] && { echo "[metrics] SKIP: tether's verb"; exit 77; }
lab_init "$@"
lab_private_home
lab_start_bastion
lab_start_netload echo
RUP=$(lab_free_port) || lab_fail "no free port"
RHELD=$(lab_free_port) || lab_fail "no free port"
"${LAB_PDEATH[@]}" "$NETLOAD" -d 120 echo "$RHELD" >"$LAB_DIR/holder.log" 2>&1 &
HOLDER=$!
lab__own "$HOLDER"
lab_wait_tcp "$RHELD" 5 "$HOLDER" || lab_fail "the holder of $RHELD did not listen"

lab_start_tether run --name fleet-1 -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
    --known-hosts "$BASTION_KNOWN_HOSTS" --state-dir "$XDG_RUNTIME_DIR/tether" \
    -R "127.0.0.1:$RUP:127.0.0.1:$TARGET_PORT" -R "127.0.0.1:$RHELD:127.0.0.1:$TARGET_PORT" \
    -o backoff_initial=0.2 -o backoff_max=1 -o keepalive_interval=1
lab_wait_forward "$RUP" 20 || lab_fail "forward $RUP was not bound"
"$NETLOAD" -d 20 load "$RUP" 1 65536 >/dev/null || lab_fail "the echo through $RUP failed"

# metric NAME LABELS: the value of the sample NAME{tunnel="fleet-1"LABELS}.
metric() { awk -v s="$1{tunnel=\"fleet-1\"$2}" 'index($0, s " ") == 1 { print $NF }' <<<"$OUT"; }
lab_log "check: tether metrics says what status says"
end=$((SECONDS + 10))
while :; do
	lab_cmd "$LAB_TETHER" metrics
	[ "$RC" = 0 ] || { lab_show_cmd; lab_fail "tether metrics: exit $RC"; }
	[ "$(metric tether_bytes_total ',direction="from_target"')" -ge 65536 ] 2>/dev/null &&
	    [ -n "$(metric tether_keepalive_rtt_seconds)" ] && break
	[ "$SECONDS" -lt "$end" ] || { lab_show_cmd; lab_fail "tether_bytes_total from_target did not reach 65536"; }
	sleep 0.5
done
now=$(date +%s)
[ "$(metric tether_tunnel_up)" = 0 ] || lab_fail "tether_tunnel_up is '$(metric tether_tunnel_up)' with $RHELD held"
[ "$(metric tether_forward_bound ",remote_port=\"$RUP\"")" = 1 ] || lab_fail "forward $RUP is not 1"
[ "$(metric tether_forward_bound ",remote_port=\"$RHELD\"")" = 0 ] || lab_fail "forward $RHELD is not 0"
[ "$(metric tether_bytes_total ',direction="to_target"')" -ge 65536 ] || lab_fail "bytes to_target below 65536"
[ -n "$(metric tether_channels)" ] && [ -n "$(metric tether_reconnects_total)" ] || lab_fail "no channels or reconnects"
[ "$(metric tether_channels_total)" -ge 1 ] 2>/dev/null ||
    lab_fail "tether_channels_total is '$(metric tether_channels_total)' after a connection through $RUP"
awk -v t="$(metric tether_keepalive_rtt_seconds)" 'BEGIN { exit !(t > 0 && t < 1) }' ||
    lab_fail "tether_keepalive_rtt_seconds is '$(metric tether_keepalive_rtt_seconds)', not a loopback round trip"
since=$(metric tether_connected_since_seconds)
[ "${since%.*}" -le "$now" ] && [ "${since%.*}" -gt $((now - 60)) ] || lab_fail "connected_since is $since, now $now"
[ "$(metric tether_info ",version=\"$("$LAB_TETHER" --version | cut -d' ' -f2)\",bastion=\"$LAB_USER@127.0.0.1:$BASTION_PORT\"")" = 1 ] ||
    lab_fail "no tether_info with the version and bastion: $(grep '^tether_info' <<<"$OUT")"
if command -v promtool >/dev/null; then
	promtool check metrics <<<"$OUT" >"$LAB_DIR/promtool.txt" 2>&1 || lab_fail "promtool: $(cat "$LAB_DIR/promtool.txt")"
	lab_log "ok: promtool check metrics accepts it"
else
	lab_log "note: no promtool here (apt-get install prometheus)"
fi
lab_log "ok: up 0, forward $RUP 1 and $RHELD 0, bytes >= 64 KiB each way, since, info"

lab_log "check: --textfile, scraped by node_exporter"
TEXTDIR=$LAB_DIR/textfile
mkdir -p "$TEXTDIR"
lab_cmd "$LAB_TETHER" metrics --textfile "$TEXTDIR"
[ "$RC" = 0 ] && [ -s "$TEXTDIR/tether.prom" ] || { lab_show_cmd; lab_fail "--textfile wrote no $TEXTDIR/tether.prom"; }
ls "$TEXTDIR" | grep -qv '^tether.prom$' && lab_fail "--textfile left other files: $(ls "$TEXTDIR")"
lab_cmd "$LAB_TETHER" metrics --textfile "$LAB_DIR/nonexistent"
[ "$RC" = 1 ] && lab_has "$ERR" "--textfile" || { lab_show_cmd; lab_fail "--textfile into a missing dir: exit $RC"; }
NE=$(command -v prometheus-node-exporter || true)
if [ -n "$NE" ]; then
	NEPORT=$(lab_free_port) || lab_fail "no free port"
	"${LAB_PDEATH[@]}" "$NE" --web.listen-address="127.0.0.1:$NEPORT" --collector.disable-defaults \
	    --collector.textfile --collector.textfile.directory="$TEXTDIR" >"$LAB_DIR/node-exporter.log" 2>&1 &
	lab__own $!
	lab_wait_tcp "$NEPORT" 10 || lab_fail "node_exporter did not listen: $(tail -n 3 "$LAB_DIR/node-exporter.log")"
	scraped=$(curl -fsS "http://127.0.0.1:$NEPORT/metrics") || lab_fail "curl of node_exporter failed"
	grep -q "^tether_forward_bound{remote_port=\"$RUP\",tunnel=\"fleet-1\"} 1$" <<<"$scraped" ||
	    lab_fail "node_exporter does not serve tether_forward_bound for $RUP: $(grep tether_ <<<"$scraped" | head -n 5)"
	grep -q '^node_textfile_scrape_error 0$' <<<"$scraped" || lab_fail "node_exporter: textfile scrape error"
	lab_log "ok: node_exporter serves tether.prom from the textfile directory"
else
	lab_log "note: no prometheus-node-exporter here"
fi

lab_log "check: the holder goes, the forward binds, tether_tunnel_up is 1"
lab_stop "$HOLDER" TERM 5
lab_wait_forward "$RHELD" 30 || lab_fail "forward $RHELD was not bound once free"
end=$((SECONDS + 10))
until lab_cmd "$LAB_TETHER" metrics && [ "$(metric tether_tunnel_up)" = 1 ]; do
	[ "$SECONDS" -lt "$end" ] || lab_fail "tether_tunnel_up stayed $(metric tether_tunnel_up)"
	sleep 0.3
done
lab_pass "tether metrics: up/bound/bytes/since/info right, promtool and node_exporter take it"
