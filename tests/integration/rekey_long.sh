#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# A transfer past libssh's rekey limit: libssh re-keys every 1 GiB per
# direction with 8-byte-block ciphers (chacha20-poly1305 included), and
# while the key exchange runs ssh_channel_write() takes nothing. One
# connection through the tunnel carries REKEY_BYTES (1.5 GiB + 64 MiB) each
# way to an echo server, first with chacha20-poly1305 (OpenSSH's default),
# then with aes256-gcm; every byte must come back, in order, and the
# tunnel must be the one it was.
#
# usage: rekey_long.sh TETHER_BINARY TESTS_BUILD_DIR
# env:   REKEY_BYTES (1677721600), REKEY_DEADLINE (240 s per cipher)
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
lab_init "$@"

BYTES=${REKEY_BYTES:-1677721600}
DEADLINE=${REKEY_DEADLINE:-240}

lab_start_netload echo

# rekey_through CIPHER: a bastion that speaks only CIPHER, a tunnel to it,
# one connection of BYTES each way; checks every byte and that the tunnel
# neither restarted the session nor dropped the connection.
rekey_through() {
	local cipher=$1 rport out
	LAB_SSHD_EXTRA=$'Ciphers '"$cipher"$'\nLogLevel DEBUG1' lab_start_bastion
	rport=$(lab_free_port) || lab_fail "no free port"
	lab_start_tether run -b "$LAB_USER@127.0.0.1:$BASTION_PORT" -s "$LAB_KEY" \
	    --known-hosts "$BASTION_KNOWN_HOSTS" \
	    -R "127.0.0.1:$rport:127.0.0.1:$TARGET_PORT"
	lab_wait_forward "$rport" 30 || lab_fail "$cipher: the forward was not ready within 30 s"

	lab_log "check: $cipher: one connection, $BYTES bytes each way, every byte back"
	out=$LAB_DIR/load-$cipher.out
	lab_spawn "$out" "$NETLOAD" -d "$DEADLINE" load "$rport" 1 "$BYTES"
	lab_wait_pid "$LAB_SPAWN_PID" $((DEADLINE + 15))
	sed "s/^/[$LAB_NAME]   netload: /" "$out" | head -n 20
	[ "$LAB_RC" = 0 ] || lab_fail "$cipher: the transfer failed (netload status $LAB_RC)"
	grep -q '^ok 1/1, ' "$out" || lab_fail "$cipher: netload did not report ok 1/1"
	lab_log "ok: $cipher: $(grep '^ok ' "$out")"

	lab_check "$cipher: the tunnel (pid $TETHER_PID) still runs" lab_alive "$TETHER_PID"
	# The first KEXINIT is the session's own; every later one is a rekey.
	kex=$(grep -c 'SSH2_MSG_KEXINIT received' "$BASTION_LOG" || true)
	lab_log "$cipher: the bastion saw $((kex - 1)) rekey(s) during the transfer"
	[ "$kex" -ge 2 ] || lab_fail "$cipher: no rekey during the transfer: the test did not test one"
	if grep -E 'took [0-9]+ of|lost the bastion|connection .*: ' "$TETHER_LOG" |
	    grep -v 'closed, ' | grep -q .; then
		lab_fail "$cipher: the tunnel logged a lost connection or session: $(grep -E 'took|lost|connection ' "$TETHER_LOG" | head -n 5)"
	fi
	lab_stop "$TETHER_PID" TERM 10
	lab_stop "$BASTION_PID" TERM 5
	rm -rf "$LAB_DIR/bastion"
}

rekey_through chacha20-poly1305@openssh.com
rekey_through aes256-gcm@openssh.com

lab_pass "$BYTES bytes each way through one connection, with chacha20-poly1305 and aes256-gcm, every byte back"
