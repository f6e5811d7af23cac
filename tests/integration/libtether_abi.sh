#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# libtether's ABI, checked on the built library: its soname is
# libtether.so.0, and it exports exactly the functions listed in
# tests/abi/libtether.symbols with their version node, which are exactly
# the TETHER_API functions of include/tether/tether.h. An export that
# appears or disappears (a core function leaking out, a public one
# dropped) fails here before it reaches a user's program.
#
# usage: libtether_abi.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] && { echo "[libtether_abi] SKIP: tether's library"; exit 77; }
lab_init "$@"
LIB=$(dirname "$LAB_BUILD")/libtether.so
[ -e "$LIB" ] || lab_fail "no $LIB"
HEADER=$LAB_SRC_DIR/../include/tether/tether.h
WANT=$LAB_SRC_DIR/abi/libtether.symbols

lab_log "check: the soname"
soname=$(readelf -d "$LIB" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = libtether.so.0 ] || lab_fail "soname is '$soname', not libtether.so.0"

lab_log "check: the exports are the recorded list"
got=$(nm -D --defined-only "$LIB" | awk '$2 == "T" { print $3 }' | sort)
want=$(grep -v '^#' "$WANT" | sort)
[ "$got" = "$want" ] || lab_fail "libtether exports differ from $WANT:
$(diff <(echo "$want") <(echo "$got"))"
others=$(nm -D --defined-only "$LIB" | awk '$2 != "T" && $2 != "A" { print $3 }')
[ -z "$others" ] || lab_fail "libtether exports data: $others"

lab_log "check: the recorded list is the header's API"
declared=$(sed -n 's/^TETHER_API [^(]*[ *]\(tether_[a-z_]*\)(.*/\1/p' "$HEADER" | sort)
listed=$(sed 's/@.*//' <<<"$want" | sort)
[ "$declared" = "$listed" ] || lab_fail "tether.h declares another set of functions:
$(diff <(echo "$listed") <(echo "$declared"))"
lab_pass "libtether.so.0 exports the $(wc -l <<<"$want") functions of tether.h and nothing else"
