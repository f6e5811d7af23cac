#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The shell completions (docs/completion) keep up with the command line:
#  - every verb `tether --help` lists is offered by the bash completion and
#    named in the zsh one;
#  - every long option a verb's --help lists is offered by the bash
#    completion after that verb (its real completion function, run here)
#    and appears in the zsh file;
#  - `-o` offers exactly the keys of conf/tether.conf.example.
# No network, no root.
#
# usage: completion.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[completion] SKIP: the completions are tether's; nothing to check with LAB_TUNNEL=ssh"; exit 77; }
lab_init "$@"
DOCS=$LAB_SRC_DIR/../docs/completion
ZSH_FILE=$DOCS/_tether
# shellcheck source=/dev/null
source "$DOCS/tether.bash" || lab_fail "cannot source $DOCS/tether.bash"

# offered WORDS...: what the bash completion offers for the command line
# WORDS (the last one being completed), one per line.
offered() {
	local COMP_WORDS=("$@") COMP_CWORD=$(($# - 1)) COMPREPLY=()
	_tether
	printf '%s\n' "${COMPREPLY[@]}"
}

verbs=$("$LAB_TETHER" --help | sed -nE 's/^  ([a-z][a-z-]+) .*/\1/p')
[ -n "$verbs" ] || lab_fail "tether --help lists no verbs"
top=$(offered tether '')
missing=()
for v in $verbs; do
	grep -qxF -- "$v" <<<"$top" || missing+=("bash: verb $v")
	grep -qE "'$v:" "$ZSH_FILE" || missing+=("zsh: verb $v")
done
nopts=0
for v in $verbs; do
	opts=$("$LAB_TETHER" "$v" --help 2>&1 | grep -oE '^ +(-[a-zA-Z], )?--[a-z][a-z-]*' | grep -oE -- '--[a-z-]+')
	have=$(offered tether "$v" '-')
	for o in $opts; do
		nopts=$((nopts + 1))
		grep -qxF -- "$o" <<<"$have" || missing+=("bash: $v $o")
		grep -qE -- "(['{,])$o([[',}]|\$)" "$ZSH_FILE" || missing+=("zsh: $v $o")
	done
done
[ "${#missing[@]}" = 0 ] || lab_fail "the completions lack: ${missing[*]}"
lab_log "ok: $(wc -w <<<"$verbs") verbs and $nopts verb options of --help, all in the bash and zsh completions"

keys=$(grep -oE '^[#;]? ?[a-z_]+ =' "$LAB_SRC_DIR/../conf/tether.conf.example" | grep -oE '[a-z_]+' | sort -u)
got=$(offered tether run -o '' | tr -d '=' | sort -u)
[ "$got" = "$keys" ] || lab_fail "-o offers other keys than conf/tether.conf.example has: $(diff <(echo "$keys") <(echo "$got") | grep '^[<>]' | tr '\n' ' ')"
lab_log "ok: -o offers the $(wc -l <<<"$keys") keys of conf/tether.conf.example"
lab_pass "the bash and zsh completions offer every verb, option and config key"
