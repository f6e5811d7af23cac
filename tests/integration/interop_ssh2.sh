#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The interop tier (label "interop"), against the npm ssh2 server (an independent
# SSH implementation, tests/tools/ssh2_bastion.js) as the bastion: key types, a frozen bastion, a restarted one and SIGHUP
# reloads (the checks are in tests/lib/interop.sh).
#
# ssh2 is installed from the npm registry once per build dir
# (lab_ssh2_install). Without node/npm it is skipped (77), and fails
# instead under TETHER_INTEROP=require (as CI sets).
#
# usage: interop_ssh2.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
# shellcheck source=SCRIPTDIR/../lib/interop.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/interop.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] &&
    { echo "[interop_ssh2] SKIP: checks tether's reconnects and reloads"; exit 77; }
lab_init "$@"
interop_main ssh2
