#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# `tether trust --known-hosts FILE` run as root on a file in another user's
# tree (as setup's advice used to say) must not write where that user's
# symlinks point, and setup's advice must name a command that is safe:
#  - FILE a symlink to a root-only 0600 file: refused ("is a symlink"),
#    the root file unchanged;
#  - the user's .ssh a symlink to a root directory: refused, nothing
#    created there;
#  - FILE a plain file of the user's: refused, naming "sudo -u";
#  - run as that user, trust records the key in FILE (exit 0);
#  - as root on a root-owned file: recorded (exit 0);
#  - setup (strict, FILE without the bastion's key) advises
#    "sudo -u USER tether trust ... --known-hosts FILE".
# Root only: it makes a throwaway user (deleted at the end) whose home is
# in the lab dir.
#
# usage: trust_safe_write.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[trust_safe_write] SKIP: trust is tether's"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "[trust_safe_write] SKIP: needs root (files of another uid)"; exit 77; }
lab_init "$@"
TETHER=$(readlink -f "$LAB_TETHER")
t() { lab_cmd "$@"; }
show() { lab_show_cmd; }
lab_start_bastion
B="$LAB_USER@127.0.0.1:$BASTION_PORT"

# A user's tree: traversable by that user, the lab dir too.
chmod 711 "$LAB_DIR"
UH=$LAB_DIR/uhome
UN=tt13-$$
useradd -M -N -d "$UH" -s /bin/sh "$UN" || lab_skip "useradd failed"
lab_on_exit "userdel $UN"
U=$(id -u "$UN")
mkdir -p "$UH/.ssh" "$LAB_DIR/rootdir"
chmod 700 "$LAB_DIR/rootdir"
printf 'root only\n' >"$LAB_DIR/rootonly"
chmod 600 "$LAB_DIR/rootonly"
ln -s "$LAB_DIR/rootonly" "$UH/.ssh/known_hosts"
chown -h -R "$U:$U" "$UH"
chmod 755 "$UH"
chmod 700 "$UH/.ssh"

root_file_intact() {
	[ "$(cat "$LAB_DIR/rootonly")" = "root only" ] ||
	    lab_fail "$1: the root-only file changed: $(head -c 300 "$LAB_DIR/rootonly")"
}

# ---- a symlink the user planted ------------------------------------------
t "$TETHER" trust -b "$B" --known-hosts "$UH/.ssh/known_hosts" --yes
root_file_intact "trust through the user's symlink"
{ [ "$RC" = 1 ] && lab_has "$ERR" "$UH/.ssh/known_hosts is a symlink (owned by $UN): refusing to write through it"; } ||
    { show; lab_fail "trust through a planted symlink: exit $RC"; }
lab_log "ok: symlinked known_hosts refused: $ERR"

# ---- the user's .ssh a symlink to a root directory -----------------------
rm -f "$UH/.ssh/known_hosts"
mv "$UH/.ssh" "$UH/ssh.real"
ln -s "$LAB_DIR/rootdir" "$UH/.ssh"
chown -h "$U:$U" "$UH/.ssh"
t "$TETHER" trust -b "$B" --known-hosts "$UH/.ssh/known_hosts" --yes
[ -e "$LAB_DIR/rootdir/known_hosts" ] && lab_fail "trust created a file in root's directory through the user's .ssh symlink"
{ [ "$RC" = 1 ] && lab_has "$ERR" "$UH/.ssh is a symlink (owned by $UN)"; } ||
    { show; lab_fail "trust through a symlinked .ssh: exit $RC"; }
lab_log "ok: symlinked .ssh refused: $ERR"
rm "$UH/.ssh"
mv "$UH/ssh.real" "$UH/.ssh"

# ---- a plain file of the user's: root does not write it ------------------
: >"$UH/.ssh/known_hosts"
chown "$U:$U" "$UH/.ssh/known_hosts"
t "$TETHER" trust -b "$B" --known-hosts "$UH/.ssh/known_hosts" --yes
{ [ "$RC" = 1 ] && lab_has "$ERR" "refusing to write $UH/.ssh/known_hosts: $UH/.ssh belongs to $UN; run the command as that user (sudo -u '$UN' ...)"; } ||
    { show; lab_fail "root's trust on a user's file: exit $RC"; }
[ -s "$UH/.ssh/known_hosts" ] && lab_fail "root's trust wrote the user's file"
lab_log "ok: root refused to write the user's file: $ERR"

# ---- as that user, it works ----------------------------------------------
t setpriv --reuid=$U --regid=$U --clear-groups env HOME="$UH" \
    "$TETHER" trust -b "$B" --known-hosts "$UH/.ssh/known_hosts" --yes
[ "$RC" = 0 ] || { show; lab_fail "trust as uid $U: exit $RC"; }
grep -q "^\[127.0.0.1\]:$BASTION_PORT ssh-ed25519 " "$UH/.ssh/known_hosts" ||
    lab_fail "trust as uid $U did not record the key: $(cat "$UH/.ssh/known_hosts")"
[ "$(stat -c %u "$UH/.ssh/known_hosts")" = "$U" ] ||
    lab_fail "the user's known_hosts now belongs to uid $(stat -c %u "$UH/.ssh/known_hosts")"
lab_log "ok: trust as $UN recorded the key"

# ---- root on its own file -------------------------------------------------
t "$TETHER" trust -b "$B" --known-hosts "$LAB_DIR/rootdir/known_hosts" --yes
[ "$RC" = 0 ] || { show; lab_fail "trust as root on a root file: exit $RC"; }
grep -q "^\[127.0.0.1\]:$BASTION_PORT ssh-ed25519 " "$LAB_DIR/rootdir/known_hosts" ||
    lab_fail "trust as root did not record the key"
lab_log "ok: trust as root on its own file recorded the key"

# ---- setup's advice ------------------------------------------------------
: >"$UH/.ssh/known_hosts"
export HOME=$LAB_DIR/home XDG_RUNTIME_DIR=$LAB_DIR/xdg
mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
P=$(lab_free_port) || lab_fail "no free port"
t "$TETHER" setup --user -p "$P" -b "$B" -s "$LAB_KEY" --known-hosts "$UH/.ssh/known_hosts" -t 127.0.0.1:22
{ [ "$RC" = 5 ] && lab_has "$ERR" "(sudo -u $UN tether trust -b 127.0.0.1:$BASTION_PORT --known-hosts $UH/.ssh/known_hosts)"; } ||
    { show; lab_fail "setup's advice does not run trust as the file's owner"; }
lab_log "ok: setup advises: $ERR"

lab_pass "trust writes only files of its caller, never through another user's symlinks"
