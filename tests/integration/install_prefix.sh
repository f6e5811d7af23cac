#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# `cmake --install BUILD --prefix X` (and with DESTDIR) puts everything under
# the prefix given then, not the one cmake was configured with: tether, the
# scitex-tunnel link beside it (pointing at it), and both template units.
#
# usage: install_prefix.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] && { echo "[install_prefix] SKIP: tether's install"; exit 77; }
lab_init "$@"
TOP=$(dirname "$LAB_BUILD")
[ -f "$TOP/cmake_install.cmake" ] || lab_skip "no cmake_install.cmake in $TOP"

# installed ROOT PREFIX: the files of an install under ROOT/PREFIX are there.
installed() {
	local bin=$1$2/bin
	[ -x "$bin/tether" ] || lab_fail "no $bin/tether"
	[ "$(readlink "$bin/scitex-tunnel")" = tether ] ||
	    lab_fail "$bin/scitex-tunnel is '$(readlink "$bin/scitex-tunnel")', not a link to tether beside it"
	"$bin/scitex-tunnel" -V | grep -q '^scitex-tunnel ' || lab_fail "$bin/scitex-tunnel -V does not answer"
	for u in system user; do
		[ -f "$1$2/lib/systemd/$u/tether@.service" ] || lab_fail "no $1$2/lib/systemd/$u/tether@.service"
	done
}

lab_cmd cmake --install "$TOP" --prefix "$LAB_DIR/p1"
[ "$RC" = 0 ] || { lab_show_cmd; lab_fail "cmake --install --prefix: exit $RC"; }
installed "" "$LAB_DIR/p1"
lab_log "ok: --prefix $LAB_DIR/p1: tether, scitex-tunnel -> tether, both units"

lab_cmd env DESTDIR="$LAB_DIR/dest" cmake --install "$TOP" --prefix /opt/tether-test
[ "$RC" = 0 ] || { lab_show_cmd; lab_fail "DESTDIR=... cmake --install --prefix: exit $RC"; }
installed "$LAB_DIR/dest" /opt/tether-test
[ -e /opt/tether-test ] && lab_fail "DESTDIR was ignored: /opt/tether-test exists"
lab_pass "the install follows --prefix and DESTDIR"
