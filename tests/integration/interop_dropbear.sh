#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The interop tier (label "interop"), against Dropbear (Debian dropbear-bin)
# as the bastion: key types, a frozen bastion, a restarted one and SIGHUP
# reloads (the checks are in tests/lib/interop.sh).
#
# Dropbear reads the login user's ~/.ssh/authorized_keys: the test makes a
# throwaway user (root needed). Without dropbear-bin or root it is skipped
# (77), and fails instead under TETHER_INTEROP=require (as CI sets).
#
# usage: interop_dropbear.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
# shellcheck source=SCRIPTDIR/../lib/interop.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/interop.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[interop_dropbear] SKIP: checks tether's reconnects and reloads"; exit 77; }
lab_init "$@"
interop_main dropbear
