#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Every key type a user brings from ~/.ssh, against both bastions a user
# meets: OpenSSH's sshd and Dropbear (Debian dropbear-bin 2022.83). For
# each of ed25519, ecdsa-256/384/521 and RSA 2048/3072, `tether run -s KEY`
# must authenticate, bind the forward and carry an echo, and the bastion's
# log must name that key's fingerprint (and, for sshd, its type).
#
# Dropbear reads the login user's ~/.ssh/authorized_keys, so the test makes
# a throwaway user whose home is in the lab dir (removed on exit); without
# root or Dropbear only the OpenSSH half runs.
#
# usage: key_types.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
lab_init "$@"

TYPES=("ed25519" "ecdsa 256" "ecdsa 384" "ecdsa 521" "rsa 2048" "rsa 3072")
lab_start_bastion
lab_start_netload echo

# key_path TYPE [BITS]: a fresh key of that type, its path printed.
key_path() {
	local k=$LAB_DIR/key_$1${2:+_$2}
	[ -f "$k" ] ||
	    ssh-keygen -q -t "$1" ${2:+-b "$2"} -N '' -C "lab $1 $2" -f "$k" ||
	    lab_fail "ssh-keygen -t $1 ${2:+-b $2} failed"
	printf '%s' "$k"
}

# through BASTION KNOWN_HOSTS KEY LABEL: tether with KEY binds a forward on
# BASTION and carries an echo; it is stopped after.
through() {
	local bastion=$1 kh=$2 key=$3 label=$4 rport
	rport=$(lab_free_port) || lab_fail "no free port"
	lab_start_tether run -b "$bastion" -s "$key" --known-hosts "$kh" \
	    -R "127.0.0.1:$rport:127.0.0.1:$TARGET_PORT"
	lab_wait_forward "$rport" 20 ||
	    lab_fail "$label: the forward was not bound: $(tail -n 3 "$TETHER_LOG")"
	"$NETLOAD" -d 20 load "$rport" 2 65536 >/dev/null 2>&1 ||
	    lab_fail "$label: the echo through port $rport failed"
	lab_stop "$TETHER_PID" TERM 5
}

for t in "${TYPES[@]}"; do
	# shellcheck disable=SC2086
	key=$(key_path $t)
	cp "$key.pub" "$LAB_DIR/authorized_keys"
	n=$(lab_log_count "$BASTION_LOG" "Accepted publickey")
	through "$LAB_USER@127.0.0.1:$BASTION_PORT" "$BASTION_KNOWN_HOSTS" "$key" "OpenSSH, $t"
	line=$(grep "Accepted publickey" "$BASTION_LOG" | sed -n "$((n + 1))p")
	want="$(ssh-keygen -l -f "$key.pub" | awk '{print $NF " " $2}' | tr -d '()')"
	lab_has "$line" "$want" ||
	    lab_fail "OpenSSH, $t: sshd did not log the $want key: '$line'"
	lab_log "ok: OpenSSH, $t: ${line#*Accepted }"
done

if ! lab_dropbear_usable; then
	lab_log "note: no Dropbear half: $LAB_WHY"
	lab_pass "every key type against OpenSSH"
fi
lab_start_dropbear

for t in "${TYPES[@]}"; do
	# shellcheck disable=SC2086
	key=$(key_path $t)
	install -m 600 -o "$DB_USER" "$key.pub" "$DB_HOME/.ssh/authorized_keys"
	n=$(lab_log_count "$DB_LOG" "auth succeeded")
	through "$DB_USER@127.0.0.1:$DB_PORT" "$DB_KNOWN_HOSTS" "$key" "Dropbear, $t"
	line=$(grep -E "Pubkey auth succeeded" "$DB_LOG" | sed -n "$((n + 1))p")
	fp=$(ssh-keygen -l -f "$key.pub" | awk '{print $2}')
	lab_has "$line" "$fp" ||
	    lab_fail "Dropbear, $t: no 'Pubkey auth succeeded ... $fp' in its log: '$line'"
	lab_log "ok: Dropbear, $t: ${line#*] }"
done
lab_pass "every key type against OpenSSH and Dropbear"
