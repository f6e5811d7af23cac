#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Proof against ssh itself: a corpus of ssh_config files (aliases,
# wildcards, negation, Include, Match host/user/localuser/all, tokens in
# HostName, IdentityFile and UserKnownHostsFile, first value wins) is
# resolved by `ssh -G -F FILE NAME` and by `tether run --check -F FILE -b
# NAME`; for every name the host, port, user, key, known_hosts, keepalive
# and connect timeout must be the same. No bastion is needed: --check
# stops before connecting.
#
# usage: ssh_config_corpus.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[ssh_config_corpus] SKIP: compares tether with ssh itself"; exit 77; }
lab_init "$@"
command -v ssh >/dev/null || lab_skip "no OpenSSH client"

D=$LAB_DIR/corpus
PWHOME=$(getent passwd "$(id -u)" | cut -d: -f6)
ME=$(id -un)
mkdir -p "$D/conf.d" "$D/keys"
for k in default web_key local_local.lab alias-one.internal_22 special; do
    ssh-keygen -q -t ed25519 -N '' -f "$D/keys/$k" || lab_fail "ssh-keygen $k failed"
done
: >"$D/known_hosts"

cat >"$D/conf.d/10-web.conf" <<CONF
Host web
    HostName 127.0.0.2
    Port 2202
    User webuser
    IdentityFile $D/keys/web_key
    ServerAliveInterval 11
    ServerAliveCountMax 4
CONF
cat >"$D/conf.d/20-never.conf" <<CONF
Host web
    HostName 127.0.0.99
    Port 9999
CONF
cat >"$D/config" <<CONF
Include $D/conf.d/*.conf
Host *.lab !skip.lab
    User labuser
    Port 2201
    ConnectTimeout 7
Host skip.lab
    HostName 127.0.0.9
Match host db.lab
    HostName 127.0.0.3
Match user special
    Port 2299
    IdentityFile $D/keys/special
Match localuser $ME host local.lab
    IdentityFile $D/keys/local_%h
Host alias-*
    HostName %h.internal
    IdentityFile $D/keys/%h_%p
Host *
    UserKnownHostsFile $D/known_hosts
    IdentityFile ~/.ssh/absent_key
    IdentityFile $D/keys/default
CONF

# One field of tether run --check's resolution, for NAME.
resolved() {
    "$LAB_TETHER" run --check -F "$D/config" -b "$1" -R 127.0.0.1:40000:127.0.0.1:22 2>&1
}

# ssh -G's answer in tether's words: "USER@HOST:PORT KEY KNOWN_HOSTS
# KEEPALIVE TIMEOUT", the key being the first IdentityFile that exists.
from_ssh() {
    local g key="" f interval count timeout h p r
    g=$(ssh -G -F "$D/config" ${2:+-l "$2"} -- "$1" 2>/dev/null) || return 1
    h=$(sed -n 's/^hostname //p' <<<"$g")
    p=$(sed -n 's/^port //p' <<<"$g")
    r=$(sed -n 's/^user //p' <<<"$g")
    # ssh expands IdentityFile after -G prints it: ~ %d %h %p %r %n.
    while read -r f; do
        f=${f/#\~/$PWHOME}
        f=${f//%d/$PWHOME}
        f=${f//%h/$h}
        f=${f//%p/$p}
        f=${f//%r/$r}
        f=${f//%n/$1}
        [ -e "$f" ] && { key=$f; break; }
    done < <(sed -n 's/^identityfile //p' <<<"$g")
    interval=$(sed -n 's/^serveraliveinterval //p' <<<"$g")
    count=$(sed -n 's/^serveralivecountmax //p' <<<"$g")
    timeout=$(sed -n 's/^connecttimeout //p' <<<"$g")
    # ssh's own defaults (0, none) leave tether's: 30 s x 3, 15 s.
    [ "$interval" = 0 ] && { interval=30; count=3; }
    [ "$timeout" = none ] && timeout=15
    printf '%s@%s:%s %s %s %s/%s %s\n' "$r" "$h" "$p" "$key" \
        "$(sed -n 's/^userknownhostsfile \([^ ]*\).*/\1/p' <<<"$g")" "$interval" "$count" "$timeout"
}

from_tether() {
    local out
    out=$(resolved "$1") || { echo "run --check failed: $out"; return 1; }
    printf '%s %s %s %s\n' \
        "$(sed -n 's/^  bastion \([^ ,]*\).*, key \(.*\)$/\1 \2/p' <<<"$out")" \
        "$(sed -n 's/^  known_hosts \([^ ]*\) .*/\1/p' <<<"$out")" \
        "$(sed -n 's/^  keepalive every \([0-9]*\) s, dead after \([0-9]*\) unanswered.*/\1\/\2/p' <<<"$out")" \
        "$(sed -n 's/.*; connect timeout \([0-9]*\) s.*/\1/p' <<<"$out")"
}

n=0
for name in web db.lab x.lab skip.lab local.lab alias-one plain special@other; do
    user=
    [[ $name == *@* ]] && { user=${name%@*}; host=${name#*@}; } || host=$name
    want=$(from_ssh "$host" "$user") || lab_fail "ssh -G $name failed"
    got=$(from_tether "$name")
    lab_log "check: $name: ssh -G says '$want', tether '$got'"
    [ "$want" = "$got" ] || lab_fail "$name resolves differently: ssh -G '$want', tether '$got'"
    n=$((n + 1))
done
lab_pass "$n names of the corpus resolve in tether exactly as ssh -G resolves them"
