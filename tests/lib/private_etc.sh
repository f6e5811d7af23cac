# SPDX-License-Identifier: AGPL-3.0-or-later
# shellcheck shell=bash
# private_etc.sh: the rest of the test runs in a mount namespace of its own,
# with a tmpfs /run, an overlay over /etc (users added there stay there) and
# empty /etc/tether and /etc/systemd/system, so setup, remove and migrate
# can do their system-mode work for real without touching the host.
# Source it first thing (before lab.sh): it re-executes the script inside
# the namespace, and skips (exit 77) when not root or when the namespace or
# a mount cannot be made.

if [ -z "${PRIVATE_ETC_INNER:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "[$(basename "$0" .sh)] SKIP: needs root (mount namespace, tmpfs, useradd)"; exit 77; }
	if ! err=$(unshare -m --propagation private true 2>&1); then
		echo "[$(basename "$0" .sh)] SKIP: unshare -m failed: $err"
		exit 77
	fi
	PRIVATE_ETC_INNER=1 exec unshare -m --propagation private bash "$0" "$@"
fi

private_etc__skip() { echo "[$(basename "$0" .sh)] SKIP: $*"; exit 77; }
mount -t tmpfs -o mode=755 tmpfs /run || private_etc__skip "cannot mount a tmpfs over /run"
mkdir -p /run/.etc-upper/u /run/.etc-upper/w
mount -t overlay overlay -o lowerdir=/etc,upperdir=/run/.etc-upper/u,workdir=/run/.etc-upper/w /etc ||
    private_etc__skip "cannot mount an overlay over /etc (needed for /etc/tether and a private test user)"
mkdir -p /etc/tether /etc/systemd/system
mount -t tmpfs -o mode=755 tmpfs /etc/tether || private_etc__skip "cannot mount a tmpfs over /etc/tether"
mount -t tmpfs -o mode=755 tmpfs /etc/systemd/system || private_etc__skip "cannot mount a tmpfs over /etc/systemd/system"
mkdir -p /run/systemd/system
