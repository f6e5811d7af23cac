#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# setup keeps a known_hosts of the tunnel's own (PORT.known_hosts beside
# PORT.conf), never the user's ~/.ssh: the tunnel trusts what setup saw,
# and nothing later written to ~/.ssh changes that. Daemon mode (--user,
# no user systemd), against the lab bastion, HOME in the lab dir.
#  - the bastion's keys are copied from the source file, hashed entries
#    included, one plain line each; other hosts' lines are left out; the
#    config points at the copy; the tunnel forwards with the source emptied;
#  - setup again with the source emptied keeps the tunnel's copy as it is
#    ("already set up"); with another key in the source, the copy follows;
#  - strict, and no key anywhere: refused (5), naming `tether trust`,
#    nothing written;
#  - read as OpenSSH would: a line longer than any buffer is one line (its
#    tail is no entry), a tab separates fields, host names ignore case
#    (LOCALHOST); a directory, or a relative file that does not exist, is
#    refused naming it;
#  - accept-new, and no key anywhere: setup learns the key from the bastion
#    (its fingerprint printed, the same as ssh-keygen -l says), the tunnel
#    forwards; the bastion unreachable: refused (1), nothing written;
#  - --host-key: the copy holds no key, only says it is pinned;
#  - remove deletes the copy.
#
# usage: setup_known_hosts.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[setup_known_hosts] SKIP: setup is tether's; nothing to check with LAB_TUNNEL=ssh"; exit 77; }
lab_init "$@"
TETHER=$(readlink -f "$LAB_TETHER")

export HOME=$LAB_DIR/home
export XDG_CONFIG_HOME=$LAB_DIR/xdg-config
export XDG_RUNTIME_DIR=$LAB_DIR/xdg-runtime
unset TETHER_BASTION TETHER_KEY SCITEX_TUNNEL_BASTION_SERVER \
    SCITEX_TUNNEL_SECRET_KEY_PATH SUDO_USER TETHER_DEBUG SCITEX_TUNNEL_DEBUG_MODE
mkdir -p "$HOME/.ssh" "$XDG_CONFIG_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"

lab_start_bastion
lab_start_workstation
BASTION="$LAB_USER@127.0.0.1:$BASTION_PORT"
PATTERN="[127.0.0.1]:$BASTION_PORT"
KEY=$(readlink -f "$LAB_KEY")
TARGET="127.0.0.1:$WS_PORT"
SRC=$HOME/.ssh/known_hosts
CONFDIR=$HOME/.config/tether
FP=$(ssh-keygen -l -E sha256 -f "$BASTION_HOST_KEY.pub" | cut -d' ' -f2)
[[ $FP == SHA256:* ]] || lab_fail "ssh-keygen -l gave no fingerprint for the bastion: $FP"

# The lab's command runner and checks, by their short names.
t() { lab_cmd "$@"; }
show() { lab_show_cmd; }
has() { lab_has "$@"; }
# keys FILE: the non-comment lines of FILE.
keys() { grep -v '^#' "$1"; }
setup() { t "$TETHER" setup --user -b "$BASTION" -s "$KEY" -t "$TARGET" "$@"; }
through() {
	local out
	out=$(lab_ssh_through "$1" 'echo tunnel-ok')
	[ "$out" = tunnel-ok ] || lab_fail "$2: ssh through port $1 failed: $out"
}
removed() {
	t "$TETHER" remove --user -p "$1"
	[ "$RC" = 0 ] || { show; lab_fail "remove -p $1: exit $RC"; }
	[ -e "$CONFDIR/$1.known_hosts" ] && lab_fail "remove -p $1 left $CONFDIR/$1.known_hosts"
	return 0
}

# ---- copied from the source: hashed, with other hosts around ----------------
other_pub=$(ssh-keygen -q -t ed25519 -N '' -f "$LAB_DIR/other" <<<y >/dev/null 2>&1; cut -d' ' -f1,2 "$LAB_DIR/other.pub")
{
	printf 'elsewhere.example %s\n' "$other_pub"
	printf '%s %s\n' "$PATTERN" "$BASTION_HOST_PUB"
	printf 'alias,%s %s\n' "$PATTERN" "$BASTION_HOST_PUB"
	printf '127.0.0.1 %s\n' "$other_pub"
} >"$SRC"
ssh-keygen -q -H -f "$SRC" >/dev/null 2>&1 || lab_fail "ssh-keygen -H failed"
rm -f "$SRC.old"
grep -q '^|1|' "$SRC" || lab_fail "the source is not hashed: $(cat "$SRC")"
P1=$(lab_free_port) || lab_fail "no free port"
KH1=$CONFDIR/$P1.known_hosts
setup -p "$P1"
[ "$RC" = 0 ] || { show; lab_fail "setup -p $P1 from a hashed ~/.ssh/known_hosts: exit $RC"; }
[ "$(keys "$KH1")" = "$PATTERN $BASTION_HOST_PUB" ] ||
    lab_fail "$KH1 should hold the bastion's key once, plainly: $(cat "$KH1")"
has "$(cat "$KH1")" "# Copied from $SRC" || lab_fail "$KH1 does not say where its key came from: $(cat "$KH1")"
[ "$(stat -c %a "$KH1")" = 644 ] || lab_fail "$KH1 has mode $(stat -c %a "$KH1")"
grep -qxF "known_hosts = $KH1" "$CONFDIR/$P1.conf" || lab_fail "$P1.conf does not use $KH1: $(cat "$CONFDIR/$P1.conf")"
lab_log "ok: the bastion's key, hashed in $SRC among others, copied plainly to $KH1 (mode 644), the config uses it"

: >"$SRC"
pid=$(cat "$XDG_RUNTIME_DIR/tether/$P1.pid")
kill -USR1 "$pid" || lab_fail "cannot signal the daemon $pid"
lab_wait_log "$HOME/.local/state/tether/$P1.log" "reconnecting now" 5 ||
    lab_fail "the daemon did not reconnect on SIGUSR1"
lab_wait_log "$HOME/.local/state/tether/$P1.log" "remote port $P1 bound.*\$" 10
end=$((SECONDS + 10))
until [ "$(grep -c "remote port $P1 bound" "$HOME/.local/state/tether/$P1.log")" -ge 2 ]; do
	[ "$SECONDS" -lt "$end" ] || lab_fail "no second 'bound' after the reconnect: $(tail -n 5 "$HOME/.local/state/tether/$P1.log")"
	sleep 0.1
done
through "$P1" "after emptying ~/.ssh/known_hosts and reconnecting"
lab_log "ok: with ~/.ssh/known_hosts emptied, the tunnel reconnected and forwards: it reads only its own copy"

# ---- setup again ------------------------------------------------------------
before=$(stat -c '%i %Y' "$KH1")
setup -p "$P1"
[ "$RC" = 0 ] || { show; lab_fail "setup again with the source empty: exit $RC"; }
has "$OUT" "already set up (no change)" || { show; lab_fail "setup again should be a no-op"; }
[ "$(stat -c '%i %Y' "$KH1")" = "$before" ] || lab_fail "setup again rewrote $KH1"
lab_log "ok: setup again with the source empty kept the tunnel's copy (no change)"

printf '%s %s\n' "$PATTERN" "$other_pub" >"$SRC"
setup -p "$P1" --dry-run
[ "$RC" = 0 ] || { show; lab_fail "setup --dry-run with another key in the source: exit $RC"; }
has "$OUT" "would write $KH1 (mode 0644):" || { show; lab_fail "the dry run does not rewrite $KH1"; }
has "$OUT" "$PATTERN $other_pub" || { show; lab_fail "the dry run does not show the new key"; }
[ "$(keys "$KH1")" = "$PATTERN $BASTION_HOST_PUB" ] || lab_fail "--dry-run changed $KH1"
lab_log "ok: another key in the source: setup would copy it (dry run), the copy is untouched"
removed "$P1"
lab_log "ok: remove deleted $KH1"

# ---- strict and no key anywhere ------------------------------------------------
P2=$(lab_free_port) || lab_fail "no free port"
: >"$SRC"
setup -p "$P2"
[ "$RC" = 5 ] || { show; lab_fail "strict with no key: exit $RC, expected 5"; }
has "$ERR" "$SRC has no key for the bastion 127.0.0.1 port $BASTION_PORT" || { show; lab_fail "strict with no key: unclear message"; }
has "$ERR" "tether trust -b 127.0.0.1:$BASTION_PORT --known-hosts $SRC" || { show; lab_fail "strict with no key: no tether trust hint"; }
[ -e "$CONFDIR/$P2.known_hosts" ] || [ -e "$CONFDIR/$P2.conf" ] && lab_fail "a refused setup wrote files"
lab_log "ok: strict, no key: exit 5, '$(head -n 1 <<<"$ERR")'"

# ---- what OpenSSH accepts, and what must not fool the copy ------------------------
# A line longer than any fixed buffer, whose tail reads like an entry for
# the bastion with another key (it is one long name: no entry at all); the
# real entry separated by a tab; the bastion named in capitals.
{
	printf '%s[localhost]:%s %s\n' "$(head -c 9000 /dev/zero | tr '\0' a)" "$BASTION_PORT" "$other_pub"
	printf '[localhost]:%s\t%s\n' "$BASTION_PORT" "$BASTION_HOST_PUB"
} >"$SRC"
P4=$(lab_free_port) || lab_fail "no free port"
t "$TETHER" setup --user -b "$LAB_USER@LOCALHOST:$BASTION_PORT" -s "$KEY" -t "$TARGET" -p "$P4"
[ "$RC" = 0 ] || { show; lab_fail "setup with a long line, a tab and LOCALHOST: exit $RC"; }
[ "$(keys "$CONFDIR/$P4.known_hosts")" = "[localhost]:$BASTION_PORT $BASTION_HOST_PUB" ] ||
    lab_fail "the copy should hold the tab-separated entry only: $(keys "$CONFDIR/$P4.known_hosts" | cut -c1-200)"
through "$P4" "bastion named LOCALHOST"
lab_log "ok: a 9000-character line ignored, a tab-separated entry copied, LOCALHOST matched [localhost]; the tunnel forwards"
removed "$P4"

mkdir -p "$LAB_DIR/kh_dir"
setup -p "$P4" --known-hosts "$LAB_DIR/kh_dir"
{ [ "$RC" = 5 ] && has "$ERR" "cannot read $LAB_DIR/kh_dir: Is a directory"; } ||
    { show; lab_fail "a directory as --known-hosts: exit $RC, expected 5 and 'Is a directory'"; }
cd "$LAB_DIR" || lab_fail "cd $LAB_DIR"
t "$TETHER" setup --user -b "$BASTION" -s "$KEY" -t "$TARGET" -p "$P4" --known-hosts no_such_file
cd - >/dev/null || lab_fail "cd back"
{ [ "$RC" = 5 ] && has "$ERR" "$LAB_DIR/no_such_file has no key for the bastion"; } ||
    { show; lab_fail "a relative --known-hosts that does not exist: exit $RC, expected 5 naming $LAB_DIR/no_such_file"; }
[ -e "$CONFDIR/$P4.conf" ] && lab_fail "a refused setup wrote $CONFDIR/$P4.conf"
lab_log "ok: a directory (cannot read it: Is a directory) and a missing relative file (named absolutely) are refused"
: >"$SRC"

# ---- accept-new: learned from the bastion at setup ------------------------------
setup -p "$P2" --host-key-policy accept-new
[ "$RC" = 0 ] || { show; lab_fail "accept-new with no key: exit $RC"; }
has "$OUT" "The bastion presented ssh-ed25519 $FP: recorded on first use in $CONFDIR/$P2.known_hosts (accept-new)." ||
    { show; lab_fail "accept-new: the learned key's fingerprint ($FP) is not printed"; }
[ "$(keys "$CONFDIR/$P2.known_hosts")" = "$PATTERN $BASTION_HOST_PUB" ] ||
    lab_fail "accept-new: $CONFDIR/$P2.known_hosts does not hold the bastion's key: $(cat "$CONFDIR/$P2.known_hosts")"
[ -s "$SRC" ] && lab_fail "accept-new wrote to $SRC"
through "$P2" "accept-new"
lab_log "ok: accept-new learned $FP at setup (as ssh-keygen -l says) into the tunnel's copy; it forwards"
removed "$P2"

P3=$(lab_free_port) || lab_fail "no free port"
t "$TETHER" setup --user -p "$P3" -b "$LAB_USER@127.0.0.1:$P3" -s "$KEY" -t "$TARGET" --host-key-policy accept-new
[ "$RC" = 1 ] || { show; lab_fail "accept-new with the bastion unreachable: exit $RC, expected 1"; }
has "$ERR" "cannot reach the bastion 127.0.0.1 port $P3 to learn its host key" || { show; lab_fail "accept-new unreachable: unclear message"; }
[ -e "$CONFDIR/$P3.known_hosts" ] || [ -e "$CONFDIR/$P3.conf" ] && lab_fail "a refused setup wrote files"
lab_log "ok: accept-new, bastion unreachable: exit 1, '$(head -n 1 <<<"$ERR")'"

# ---- pinned ------------------------------------------------------------------------
setup -p "$P3" --host-key "$FP"
[ "$RC" = 0 ] || { show; lab_fail "setup --host-key: exit $RC"; }
[ -z "$(keys "$CONFDIR/$P3.known_hosts")" ] || lab_fail "pinned: the copy holds keys: $(cat "$CONFDIR/$P3.known_hosts")"
has "$(cat "$CONFDIR/$P3.known_hosts")" "pinned (host_key in $CONFDIR/$P3.conf)" || lab_fail "pinned: the copy does not say so"
through "$P3" "pinned"
lab_log "ok: --host-key: the copy only says the key is pinned; the tunnel forwards"
removed "$P3"

lab_pass "setup keeps the tunnel's own known_hosts: copied, kept, learned (accept-new), pinned, removed"
