#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The unit templates as setup installs them: systemd-analyze verify finds
# nothing wrong with them (system and user, and the metrics service and
# timer), and the system unit with the
# User= drop-in setup writes scores 2.0 or lower ("OK") on
# systemd-analyze security. The score is printed.
#
# usage: units_verify.sh TETHER_BINARY TESTS_BUILD_DIR
set -u
NAME=units_verify
log() { printf '[%s] %s\n' "$NAME" "$*"; }
fail() { log "FAIL: $*"; exit 1; }
tether=$(readlink -f "$1")
src=$(cd "$(dirname "$0")/../.." && pwd)
command -v systemd-analyze >/dev/null || { log "SKIP: no systemd-analyze (install systemd)"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

render() { sed "s|@TETHER_BIN@|$tether|g" "$src/units/$1"; }

render tether@.service.in > "$dir/tether@2222.service"
out=$(systemd-analyze verify --man=no "$dir/tether@2222.service" 2>&1) ||
    fail "systemd-analyze verify (system unit): $out"
[ -z "$out" ] || fail "systemd-analyze verify (system unit) warns: $out"
log "ok: systemd-analyze verify: the system unit is clean"

render tether-metrics.service.in > "$dir/tether-metrics.service"
cp "$src/units/tether-metrics.timer" "$dir/"
out=$(systemd-analyze verify --man=no "$dir/tether-metrics.service" "$dir/tether-metrics.timer" 2>&1) ||
    fail "systemd-analyze verify (metrics units): $out"
[ -z "$out" ] || fail "systemd-analyze verify (metrics units) warns: $out"
log "ok: systemd-analyze verify: tether-metrics.service and .timer are clean"

mkdir -p "$dir/user"
render tether-user@.service.in > "$dir/user/tether@2222.service"
if out=$(systemd-analyze verify --user --man=no "$dir/user/tether@2222.service" 2>&1); then
	[ -z "$out" ] || fail "systemd-analyze verify (user unit) warns: $out"
	log "ok: systemd-analyze verify --user: the user unit is clean"
elif grep -q "Failed to initialize manager" <<<"$out"; then
	log "note: no user manager here for verify --user; its syntax is checked by the system tier"
else
	fail "systemd-analyze verify --user: $out"
fi

# What setup writes: the template plus the User= drop-in.
mkdir -p "$dir/scored"
{ cat "$dir/tether@2222.service"; printf '[Service]\nUser=tunnel\nGroup=tunnel\n'; } \
    > "$dir/scored/tether@2222.service"
out=$(systemd-analyze security --offline=true "$dir/scored/tether@2222.service" 2>&1)
score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$out")
[ -n "$score" ] || fail "no score in: $(tail -3 <<<"$out")"
log "systemd-analyze security score of the system unit: $score"
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || fail "score $score is above 2.0"
log "PASS: both units verify, the system unit scores $score (<= 2.0)"
