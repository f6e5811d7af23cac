#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Journal-style log lines: when JOURNAL_STREAM names tether's stderr
# ("dev:ino", as systemd sets it), every line is "<N>NAME: message" with N
# the syslog priority (6 info, 4 warning, 7 debug with -v, 3 error) and no
# timestamp. Without JOURNAL_STREAM, or with one naming another file, lines
# start with a timestamp "YYYY-MM-DD HH:MM:SS tether[NAME]: ".
#
# usage: journal_prefix.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[journal_prefix] SKIP: tether's log format; nothing to check with LAB_TUNNEL=ssh"; exit 77; }
lab_init "$@"
export RUNTIME_DIRECTORY=$LAB_DIR/run
unset JOURNAL_STREAM

lab_start_bastion
lab_start_netload echo
RPORT=$(lab_free_port) || lab_fail "no free port"
HOLD=$(lab_free_port) || lab_fail "no free port"
NAME=jtest
STAMP_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} tether\['
show() { sed "s/^/[$LAB_NAME]   $2: /" "$1"; }

# A holder on port HOLD makes the second forward refused: a warning line.
lab_spawn "$LAB_DIR/holder.log" "$NETLOAD" -d "$LAB_SERVER_DEADLINE" echo "$HOLD"
HOLDER_PID=$LAB_SPAWN_PID
lab_wait_tcp "$HOLD" 5 "$HOLDER_PID" || lab_fail "the port holder did not start"

# run_tether LOG JOURNAL_STREAM: tether -v with stderr (and stdout) to LOG,
# JOURNAL_STREAM set to the given value ("" = unset). Sets TETHER_PID.
run_tether() {
	local log=$1 js=$2 envs=(env -u JOURNAL_STREAM)
	[ -n "$js" ] && envs=(env "JOURNAL_STREAM=$js")
	TETHER_LOG=$log
	lab_spawn "$log" "${envs[@]}" "$LAB_TETHER" run -v -n "$NAME" \
	    -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
	    --known-hosts "$BASTION_KNOWN_HOSTS" \
	    -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT" \
	    -R "127.0.0.1:$HOLD:127.0.0.1:$TARGET_PORT" \
	    -o keepalive_interval=1 -o keepalive_count=3 -o backoff_initial=0.2 -o backoff_max=1
	TETHER_PID=$LAB_SPAWN_PID
	lab_wait_forward "$RPORT" 30 || lab_fail "the forward of port $RPORT was not ready within 30 s"
	lab_wait_log "$log" "bastion refused remote port $HOLD" 10 ||
	    lab_fail "no refusal of port $HOLD logged within 10 s"
	sleep 1.2        # a few keepalives (debug lines)
	lab_stop "$TETHER_PID" TERM 10
	[ "$LAB_RC" = 0 ] || lab_fail "tether exited with status $LAB_RC after SIGTERM, expected 0"
}

# ---- 1. JOURNAL_STREAM names stderr: "<N>NAME: " -------------------------
lab_log "check: JOURNAL_STREAM = stderr's dev:ino -> '<N>$NAME: message' lines"
JLOG=$LAB_DIR/tether-journal.log
: >"$JLOG"
JS=$(stat -c '%d:%i' "$JLOG") || lab_fail "stat of $JLOG failed"
lab_log "JOURNAL_STREAM=$JS"
run_tether "$JLOG" "$JS"
# Refused by a wrong key: an error line, also journal-style.
ELOG=$LAB_DIR/tether-journal-error.log
: >"$ELOG"
ssh-keygen -q -t ed25519 -N '' -C stranger -f "$LAB_DIR/id_stranger" || lab_fail "ssh-keygen failed"
JSE=$(stat -c '%d:%i' "$ELOG")
timeout -k 5 20 env "JOURNAL_STREAM=$JSE" "$LAB_TETHER" run -n "$NAME" \
    -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_DIR/id_stranger" \
    --known-hosts "$BASTION_KNOWN_HOSTS" -R "127.0.0.1:$RPORT:127.0.0.1:$TARGET_PORT" \
    </dev/null >"$ELOG" 2>&1
rc=$?
[ "$rc" = 6 ] || { show "$ELOG" tether; lab_fail "tether with a refused key exited $rc, expected 6"; }
head -n 8 "$JLOG" | sed "s/^/[$LAB_NAME]   journal: /"
show "$ELOG" journal

bad=$(cat "$JLOG" "$ELOG" | grep -vE "^<[3-7]>$NAME: [^ ]" | head -n 3)
[ -z "$bad" ] || lab_fail "lines without the '<N>$NAME: ' prefix under JOURNAL_STREAM: $bad"
if cat "$JLOG" "$ELOG" | grep -qE '^<[0-9]>[^:]*: [0-9]{4}-[0-9]{2}-[0-9]{2} |^[0-9]{4}-'; then
	lab_fail "a timestamp in journal-style lines: $(cat "$JLOG" "$ELOG" | grep -E '[0-9]{4}-[0-9]{2}-[0-9]{2} ' | head -n 1)"
fi
expect_prio() {   # FILE PRIO REGEX WHAT
	grep -qE "^<$2>$NAME: .*$3" "$1" ||
	    lab_fail "no '<$2>$NAME: ' line for $4 (regex '$3'); got: $(grep -E "$3" "$1" | head -n 1)"
	lab_log "ok: $4 -> $(grep -E "^<$2>$NAME: .*$3" "$1" | head -n 1)"
}
expect_prio "$JLOG" 6 "remote port $RPORT bound" "info (forward bound)"
expect_prio "$JLOG" 4 "bastion refused remote port $HOLD" "warning (forward refused)"
expect_prio "$JLOG" 7 "keepalive" "debug (-v, keepalive)"
expect_prio "$JLOG" 6 "stopping" "info (SIGTERM)"
expect_prio "$ELOG" 3 "." "error (key refused)"
lab_log "ok: $(wc -l <"$JLOG") + $(wc -l <"$ELOG") lines, all '<N>$NAME: ...', priorities 3, 4, 6, 7 seen"

# ---- 2. No JOURNAL_STREAM: timestamps ------------------------------------
lab_log "check: without JOURNAL_STREAM -> timestamped lines"
PLOG=$LAB_DIR/tether-plain.log
run_tether "$PLOG" ""
head -n 3 "$PLOG" | sed "s/^/[$LAB_NAME]   plain: /"
bad=$(grep -vE "${STAMP_RE}$NAME\]: " "$PLOG" | head -n 3)
[ -z "$bad" ] || lab_fail "lines without a timestamp when JOURNAL_STREAM is unset: $bad"
grep -qE '^<[0-9]>' "$PLOG" && lab_fail "a '<N>' prefix without JOURNAL_STREAM"
lab_log "ok: $(wc -l <"$PLOG") lines, all 'YYYY-MM-DD HH:MM:SS tether[$NAME]: ...'"

# ---- 3. JOURNAL_STREAM naming another file: timestamps -------------------
lab_log "check: JOURNAL_STREAM naming another file -> timestamped lines"
OLOG=$LAB_DIR/tether-other.log
: >"$LAB_DIR/not-stderr"
run_tether "$OLOG" "$(stat -c '%d:%i' "$LAB_DIR/not-stderr")"
bad=$(grep -vE "${STAMP_RE}$NAME\]: " "$OLOG" | head -n 3)
[ -z "$bad" ] || lab_fail "JOURNAL_STREAM naming another file still changed the format: $bad"
lab_log "ok: $(wc -l <"$OLOG") lines, all timestamped"

lab_pass "journal prefixes <3>/<4>/<6>/<7> under JOURNAL_STREAM, timestamps otherwise"
