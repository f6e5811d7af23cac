# SPDX-License-Identifier: AGPL-3.0-or-later
# shellcheck shell=bash
# interop.sh: the interop tier's checks, the same for every bastion that is
# not OpenSSH (tests/integration/interop_*.sh pick the server). Source it
# after lab.sh and lab_init, then call `interop_main dropbear|ssh2`.
#
#  1. Key types: for each client key type (ed25519, ecdsa-256, RSA 3072),
#     alone in the server's authorized keys, `tether run -s KEY` binds its
#     forward, a real ssh reaches the workstation sshd through it, and the
#     server logs that key's login (its SHA256 fingerprint; an RSA login
#     against ssh2 with a SHA-2 hash).
#  2. Frozen: a tunnel from a config file (keepalive 1 s x 3); SIGSTOP on
#     the server process(es) serving it (Dropbear: the connection process;
#     ssh2: its only process) -> "did not answer for" within 3 s + 1 s of
#     margin (measured from the stop). SIGCONT -> the forward is bound again
#     (printed, bounded) and ssh reaches the workstation.
#  3. Restart: the server killed and started again on its port -> the
#     forward is bound again within backoff_max 2 s + 1.5 s of its launch,
#     and ssh reaches the workstation.
#  4. SIGHUP after adding a forward to the config file: the new port
#     accepts and ssh reaches the workstation through it, in the same
#     session; SIGHUP after removing it: the server closes that port, the
#     first still works (ssh2 releases it in the same session; Dropbear
#     refuses the cancel, so tether reconnects to drop it).
#
# Timings are printed as "measured: ...". One key per check is authorized,
# so a login proves which key tether used.

DETECT_LIMIT_MS=4000      # keepalive_interval 1 s x keepalive_count 3 + 1 s
REBIND_LIMIT_MS=5000      # after SIGCONT: the old session must end first
RESTART_LIMIT_MS=3500     # backoff_max 2 s + 1.5 s, from the server's launch

# ---- the server under test: a few verbs over lab.sh's own -------------

interop__start() {
	case $INTEROP_SERVER in
	dropbear)
		lab_dropbear_usable || lab_skip_or_require TETHER_INTEROP "$LAB_WHY"
		lab_start_dropbear
		SRV_DEST=$DB_USER@127.0.0.1:$DB_PORT
		SRV_PORT=$DB_PORT
		SRV_KNOWN_HOSTS=$DB_KNOWN_HOSTS
		SRV_LOG=$DB_LOG
		SRV_LOGIN_RE='Pubkey auth succeeded'
		;;
	ssh2)
		lab_ssh2_install || lab_skip_or_require TETHER_INTEROP "$LAB_WHY"
		cp "$LAB_KEY.pub" "$LAB_DIR/ssh2_authorized_keys"
		lab_start_ssh2 "$LAB_DIR/ssh2_authorized_keys"
		SRV_DEST=$LAB_USER@127.0.0.1:$SSH2_PORT
		SRV_PORT=$SSH2_PORT
		SRV_KNOWN_HOSTS=$SSH2_KNOWN_HOSTS
		SRV_LOG=$SSH2_LOG
		SRV_LOGIN_RE='\] accepted '
		;;
	*) lab_fail "interop: unknown server '$INTEROP_SERVER'" ;;
	esac
}

# interop__authorize PUBKEY: the only key the server accepts from now on.
interop__authorize() {
	case $INTEROP_SERVER in
	dropbear) install -m 600 -o "$DB_USER" "$1" "$DB_HOME/.ssh/authorized_keys" ;;
	ssh2) cp "$1" "$LAB_DIR/ssh2_authorized_keys" ;;
	esac || lab_fail "cannot authorize $1 on $INTEROP_SERVER"
}

# interop__serving: the pids serving tether's connection right now.
interop__serving() {
	case $INTEROP_SERVER in
	dropbear) lab_dropbear_sessions ;;
	ssh2) printf '%s\n' "$SSH2_PID" ;;
	esac
}

interop__restart() {
	case $INTEROP_SERVER in
	dropbear) lab_restart_dropbear ;;
	ssh2) lab_restart_ssh2 ;;
	esac
}

interop__logins() { lab_log_count "$SRV_LOG" "$SRV_LOGIN_RE"; }

# interop__ssh PORT WORD: a real ssh to the workstation through PORT on the
# server runs 'echo WORD'.
interop__ssh() {
	local out
	out=$(lab_ssh_through "$1" "echo $2" 2>&1) ||
	    lab_fail "$INTEROP_SERVER: ssh through port $1 failed: $out"
	[ "$out" = "$2" ] || lab_fail "$INTEROP_SERVER: ssh through port $1 printed '$out', expected '$2'"
}

# shellcheck disable=SC2317  # called through lab_check
interop__port_closed() { ! lab_port_open "$1"; }

# ---- 1. key types -------------------------------------------------------

interop__key_types() {
	local t key rport n line fp
	for t in ed25519 "ecdsa 256" "rsa 3072"; do
		key=$LAB_DIR/key_${t// /_}
		# shellcheck disable=SC2086  # "TYPE BITS" splits into -t and -b
		set -- $t
		ssh-keygen -q -t "$1" ${2:+-b "$2"} -N '' -C "interop $t" -f "$key" ||
		    lab_fail "ssh-keygen -t $t failed"
		interop__authorize "$key.pub"
		fp=$(ssh-keygen -l -f "$key.pub" | awk '{print $2}')
		rport=$(lab_free_port) || lab_fail "no free port"
		n=$(interop__logins)
		lab_log "check: $INTEROP_SERVER, $t key: the forward binds and ssh reaches the workstation through it"
		lab_start_tether run -b "$SRV_DEST" -s "$key" --known-hosts "$SRV_KNOWN_HOSTS" \
		    -R "127.0.0.1:$rport:127.0.0.1:$WS_PORT"
		lab_wait_forward "$rport" 20 ||
		    lab_fail "$INTEROP_SERVER, $t: the forward was not bound: $(tail -n 3 "$TETHER_LOG")"
		interop__ssh "$rport" "key-$1"
		line=$(grep -E -- "$SRV_LOGIN_RE" "$SRV_LOG" | sed -n "$((n + 1))p")
		lab_has "$line" "$fp" ||
		    lab_fail "$INTEROP_SERVER, $t: the server did not log a login with $fp: '$line'"
		if [ "$INTEROP_SERVER" = ssh2 ] && [ "$1" = rsa ]; then
			lab_has "$line" "(hash sha1)" &&
			    lab_fail "$INTEROP_SERVER, $t: tether signed with SHA-1 ssh-rsa: '$line'"
		fi
		lab_log "ok: $INTEROP_SERVER, $t: ${line#*] }"
		lab_stop "$TETHER_PID" TERM 5
		[ "$LAB_RC" = 0 ] || lab_fail "$INTEROP_SERVER, $t: tether exited $LAB_RC after SIGTERM"
	done
}

# ---- 2-4. one tunnel from a config file --------------------------------

# interop__write_conf PORT...: the tunnel's config file, one forward to the
# workstation per port.
interop__write_conf() {
	local p
	{
		printf '[tunnel]\nname = interop-%s\n' "$INTEROP_SERVER"
		printf 'bastion = %s\n' "$SRV_DEST"
		printf 'key = %s\nknown_hosts = %s\n' "$LAB_KEY" "$SRV_KNOWN_HOSTS"
		printf 'keepalive_interval = 1\nkeepalive_count = 3\n'
		printf 'backoff_initial = 0.2\nbackoff_max = 2\nbackoff_factor = 2\n'
		for p in "$@"; do
			printf 'forward = 127.0.0.1:%s:127.0.0.1:%s\n' "$p" "$WS_PORT"
		done
	} >"$INTEROP_CONF.new"
	mv "$INTEROP_CONF.new" "$INTEROP_CONF"
}

interop__frozen() {
	local n_bound p t_stop t_cont t_detect t_rebind
	sleep 1.5   # a few answered keepalives: detection is timed from a live session
	[ "$(lab_log_count "$TETHER_LOG" "did not answer")" = 0 ] ||
	    lab_fail "$INTEROP_SERVER: tether declared a healthy bastion dead: $(grep 'did not answer' "$TETHER_LOG")"
	INTEROP_FROZEN=()
	while read -r p; do INTEROP_FROZEN+=("$p"); done < <(interop__serving)
	[ "${#INTEROP_FROZEN[@]}" -gt 0 ] || lab_fail "$INTEROP_SERVER: no process serving tether's connection"
	n_bound=$(lab_log_count "$TETHER_LOG" "remote port $R1 bound")

	lab_log "check: $INTEROP_SERVER: SIGSTOP ${INTEROP_FROZEN[*]} -> 'did not answer for' in < $DETECT_LIMIT_MS ms (keepalive 1 s x 3)"
	# shellcheck disable=SC2016  # expanded when the hook runs
	lab_on_exit 'kill -CONT "${INTEROP_FROZEN[@]}" 2>/dev/null'
	kill -STOP "${INTEROP_FROZEN[@]}" || lab_fail "kill -STOP ${INTEROP_FROZEN[*]} failed"
	lab_us; t_stop=$LAB_US
	lab_wait_log_count "$TETHER_LOG" "did not answer for" 1 10 ||
	    lab_fail "$INTEROP_SERVER: no 'did not answer for' within 10 s of the freeze"
	t_detect=$(lab_since_us "$t_stop")
	lab_log "measured: $INTEROP_SERVER frozen, detected $t_detect s after SIGSTOP: $(grep -o 'did not answer for.*' "$TETHER_LOG" | head -n 1)"
	lab_us_lt "$t_stop" "$DETECT_LIMIT_MS" ||
	    lab_fail "$INTEROP_SERVER: the frozen bastion was seen after $t_detect s, expected < $DETECT_LIMIT_MS ms"
	INTEROP_DETECT=$t_detect
	sleep 1
	lab_check "$INTEROP_SERVER: tether (pid $TETHER_PID) runs on while the bastion is frozen" lab_alive "$TETHER_PID"

	lab_log "check: $INTEROP_SERVER: SIGCONT -> port $R1 bound again in < $REBIND_LIMIT_MS ms, ssh through it"
	kill -CONT "${INTEROP_FROZEN[@]}" 2>/dev/null
	lab_us; t_cont=$LAB_US
	lab_wait_log_count "$TETHER_LOG" "remote port $R1 bound" $((n_bound + 1)) 20 ||
	    lab_fail "$INTEROP_SERVER: port $R1 was not bound again within 20 s of SIGCONT"
	t_rebind=$(lab_since_us "$t_cont")
	lab_us_lt "$t_cont" "$REBIND_LIMIT_MS" ||
	    lab_fail "$INTEROP_SERVER: port $R1 bound again $t_rebind s after SIGCONT, expected < $REBIND_LIMIT_MS ms"
	lab_wait_tcp "$R1" 5 || lab_fail "$INTEROP_SERVER: port $R1 logged bound but does not accept"
	interop__ssh "$R1" after-freeze
	lab_log "measured: $INTEROP_SERVER: port $R1 bound again $t_rebind s after SIGCONT; ssh through it"
	INTEROP_REBIND=$t_rebind
}

interop__restarted() {
	local n_bound t_up t_bound
	n_bound=$(lab_log_count "$TETHER_LOG" "remote port $R1 bound")
	lab_log "check: $INTEROP_SERVER restarted on port $SRV_PORT -> port $R1 bound again in < $RESTART_LIMIT_MS ms, ssh through it"
	lab_us; t_up=$LAB_US
	interop__restart
	lab_wait_log_count "$TETHER_LOG" "remote port $R1 bound" $((n_bound + 1)) 15 ||
	    lab_fail "$INTEROP_SERVER: port $R1 was not bound again within 15 s of the restart"
	t_bound=$(lab_since_us "$t_up")
	lab_us_lt "$t_up" "$RESTART_LIMIT_MS" ||
	    lab_fail "$INTEROP_SERVER: port $R1 bound again $t_bound s after the restart, expected < $RESTART_LIMIT_MS ms"
	lab_wait_tcp "$R1" 5 || lab_fail "$INTEROP_SERVER: port $R1 logged bound but does not accept"
	interop__ssh "$R1" after-restart
	lab_log "measured: $INTEROP_SERVER: port $R1 bound again $t_bound s after the restart; ssh through it"
	INTEROP_RESTART=$t_bound
	lab_check "$INTEROP_SERVER: tether is the same process (pid $TETHER_PID)" lab_alive "$TETHER_PID"
}

interop__sighup() {
	local end n_login
	n_login=$(interop__logins)
	lab_log "check: $INTEROP_SERVER: forward $R2 added to the config + SIGHUP -> port $R2 accepts, ssh through it, same session"
	lab_check "$INTEROP_SERVER: port $R2 is closed before the SIGHUP" interop__port_closed "$R2"
	interop__write_conf "$R1" "$R2"
	kill -HUP "$TETHER_PID"
	lab_wait_forward "$R2" 10 || lab_fail "$INTEROP_SERVER: the added forward (port $R2) was not bound within 10 s of SIGHUP"
	interop__ssh "$R2" added
	[ "$(interop__logins)" = "$n_login" ] ||
	    lab_fail "$INTEROP_SERVER: adding a forward by SIGHUP made a new login; the session must be kept"
	lab_log "ok: $INTEROP_SERVER: ssh through the added port $R2, no new login"

	lab_log "check: $INTEROP_SERVER: forward $R2 removed + SIGHUP -> port $R2 closed, $R1 still works"
	interop__write_conf "$R1"
	kill -HUP "$TETHER_PID"
	end=$((SECONDS + 10))
	while lab_port_open "$R2" && [ "$SECONDS" -lt "$end" ]; do sleep 0.05; done
	lab_check "$INTEROP_SERVER: port $R2 is closed after the SIGHUP" interop__port_closed "$R2"
	lab_wait_tcp "$R1" 10 || lab_fail "$INTEROP_SERVER: port $R1 does not accept after removing $R2"
	interop__ssh "$R1" kept
	case $INTEROP_SERVER in
	ssh2)
		# It honours cancel-tcpip-forward: the session is kept.
		lab_wait_log "$TETHER_LOG" "remote port $R2 released on the bastion" 5 ||
		    lab_fail "$INTEROP_SERVER: no 'remote port $R2 released on the bastion'"
		[ "$(interop__logins)" = "$n_login" ] ||
		    lab_fail "$INTEROP_SERVER: removing a forward by SIGHUP made a new login"
		;;
	dropbear)
		# Dropbear 2022.83 answers the cancel with a failure and keeps
		# listening (libssh-notes.md): tether reconnects to drop it.
		lab_log "note: dropbear: logins during the removal: $(($(interop__logins) - n_login)): $(grep -o 'the bastion did not release remote port [0-9]*' "$TETHER_LOG" | tail -n 1)"
		;;
	esac
	lab_log "ok: $INTEROP_SERVER: port $R2 closed, port $R1 still works"
}

# interop_main dropbear|ssh2
interop_main() {
	INTEROP_SERVER=$1
	export RUNTIME_DIRECTORY=$LAB_DIR/run
	interop__start
	lab_start_workstation
	interop__key_types

	interop__authorize "$LAB_KEY.pub"
	R1=$(lab_free_port) || lab_fail "no free port"
	R2=$(lab_free_port) || lab_fail "no free port"
	INTEROP_CONF=$LAB_DIR/tunnel.conf
	interop__write_conf "$R1"
	lab_start_tether run -c "$INTEROP_CONF"
	lab_wait_forward "$R1" 20 || lab_fail "$INTEROP_SERVER: the forward of port $R1 was not bound within 20 s"
	interop__ssh "$R1" before-freeze
	interop__frozen
	interop__restarted
	interop__sighup

	lab_stop "$TETHER_PID" TERM 10
	[ "$LAB_RC" = 0 ] || lab_fail "$INTEROP_SERVER: tether exited $LAB_RC after SIGTERM, expected 0"
	lab_pass "$INTEROP_SERVER: ed25519, ecdsa, rsa logins and ssh through; frozen seen in $INTEROP_DETECT s, back $INTEROP_REBIND s after SIGCONT; back $INTEROP_RESTART s after a restart; SIGHUP added and removed a forward"
}
