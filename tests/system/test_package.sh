#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The Debian package (debian/, dpkg-buildpackage) under a real systemd
# (tests/system/lib.sh): built from a clean copy of the tree, then in the
# container
#  - install: tether, scitex-tunnel and the units are there; no unit is
#    enabled or started; the sysusers.d entry made the account tether;
#  - a tunnel made by the packaged binary with the packaged template
#    (the tier's own /usr/local install removed first) carries ssh;
#  - upgrade to a newer version: the tunnel keeps carrying ssh;
#  - remove the tunnel, purge the package: nothing of the package is left
#    (the listing is printed); the account stays, as Debian does.
#
# usage: test_package.sh TETHER_BINARY TESTS_BUILD_DIR [BUILD_DIR]
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sys_init "$@"
command -v dpkg-buildpackage >/dev/null && [ -x /usr/bin/dh ] ||
    sys_skip "no dpkg-buildpackage or debhelper (apt-get install dpkg-dev debhelper)"

# ---- build, from a clean copy ---------------------------------------------------
PKG=$LAB_DIR/pkg
mkdir -p "$PKG/tether"
TOP=$(cd "$LAB_SRC_DIR/.." && pwd)
(cd "$TOP" && git ls-files -co --exclude-standard 2>/dev/null || find . -type f ! -path './build*' ! -path './.git/*') |
    (cd "$TOP" && tar -cf - -T -) | tar -xf - -C "$PKG/tether" || lab_fail "cannot copy the tree"
lab_us; t0=$LAB_US
(cd "$PKG/tether" && dpkg-buildpackage -us -uc -b) >"$LAB_DIR/build.log" 2>&1 ||
    { tail -n 20 "$LAB_DIR/build.log"; lab_fail "dpkg-buildpackage failed"; }
sys_measure "dpkg-buildpackage" "$(lab_since_us "$t0") s"
ARCH=$(dpkg --print-architecture)
DEB1=$(ls "$PKG"/tether_*_"$ARCH".deb)
VERSION=$(dpkg-deb -f "$DEB1" Version)
# The upgrade: the same package, a newer version.
dpkg-deb -R "$DEB1" "$PKG/v2" || lab_fail "dpkg-deb -R failed"
sed -i "s/^Version: .*/Version: $VERSION+t1/" "$PKG/v2/DEBIAN/control"
DEB2=$PKG/tether_${VERSION}+t1_$ARCH.deb
dpkg-deb -b "$PKG/v2" "$DEB2" >/dev/null || lab_fail "dpkg-deb -b failed"

sys_boot
cp "$DEB1" "$DEB2" "$SYS_ROOT/var/tmp/"
# The tier installed tether under /usr/local: this test is the package's.
find "$SYS_ROOT/usr/local" \( -name '*tether*' -o -name 'scitex-tunnel*' \) -prune -exec rm -rf {} + ||
    lab_fail "cannot remove the tier's /usr/local install"
cx systemctl daemon-reload

# ---- install ------------------------------------------------------------------
out=$(cx dpkg -i "/var/tmp/$(basename "$DEB1")" 2>&1) || { printf '%s\n' "$out"; lab_fail "dpkg -i failed"; }
for f in /usr/bin/tether /usr/bin/scitex-tunnel /lib/systemd/system/tether@.service \
    /lib/systemd/system/tether-metrics.timer /usr/lib/systemd/user/tether@.service \
    /usr/share/man/man1/scitex-tunnel.1.gz /usr/lib/sysusers.d/tether.conf; do
	cx test -e "$f" || lab_fail "the package did not install $f"
done
[ "$(cx systemctl is-enabled tether-metrics.timer 2>/dev/null)" = disabled ] ||
    lab_fail "tether-metrics.timer is $(cx systemctl is-enabled tether-metrics.timer 2>&1) after install"
for u in tether-metrics.timer tether-metrics.service; do
	sys_unit_is "$u" inactive || lab_fail "$u is $(sys_prop "$u" ActiveState) after install"
done
cx getent passwd tether >/dev/null || lab_fail "the sysusers.d entry did not make the account tether"
lab_log "ok: installed $VERSION: files in place, nothing enabled or started, account tether made"

# ---- a tunnel with the packaged binary and template ------------------------------
cp "$LAB_KEY" "$SYS_ROOT/root/.ssh/id_ed25519"
chmod 600 "$SYS_ROOT/root/.ssh/id_ed25519"
out=$(cx /usr/bin/tether trust -b "$BASTION" --yes 2>&1) || lab_fail "trust: $out"
out=$(cx env -u SUDO_USER /usr/bin/tether setup -p 2251 -b "$BASTION" -s /root/.ssh/id_ed25519 2>&1) ||
    { printf '%s\n' "$out"; lab_fail "setup with the packaged tether failed"; }
cx test -e /etc/systemd/system/tether@.service && lab_fail "setup wrote a template although the package has one"
[ "$(sys_prop tether@2251.service ExecStart | grep -o 'path=[^ ;]*')" = "path=/usr/bin/tether" ] ||
    lab_fail "the unit does not run the packaged binary: $(sys_prop tether@2251.service ExecStart)"
sys_check_tunnel 2251 "a tunnel of the packaged tether"

# ---- upgrade -----------------------------------------------------------------------
out=$(cx dpkg -i "/var/tmp/$(basename "$DEB2")" 2>&1) || { printf '%s\n' "$out"; lab_fail "the upgrade failed"; }
[ "$(cx dpkg-query -W -f '${Version}' tether)" = "$VERSION+t1" ] || lab_fail "the upgrade did not take"
sys_check_tunnel 2251 "the tunnel after the upgrade to $VERSION+t1"

# ---- remove the tunnel, purge the package --------------------------------------------
out=$(cx /usr/bin/tether remove -p 2251 2>&1) || lab_fail "remove -p 2251: $out"
out=$(cx dpkg --purge tether 2>&1) || { printf '%s\n' "$out"; lab_fail "dpkg --purge failed"; }
left=$(cx find / -xdev \( -path /proc -o -path /sys -o -path /tmp -o -path /var/tmp -o -path /root/.ssh \) -prune -o \
    \( -name '*tether*' -o -name 'scitex-tunnel*' \) -print 2>/dev/null | grep -v '^/var/lib/systemd/deb-systemd' | sort)
lab_log "left after purge (find / -name '*tether*'):"
printf '%s\n' "${left:-(nothing)}" | sed "s/^/[$LAB_NAME]   /"
grep -vE '^(/etc/tether|/run/tether)$' <<<"$left" | grep -q . &&
    lab_fail "the purge left files of the package: $left"
cx getent passwd tether >/dev/null || lab_fail "the purge deleted the account (Debian keeps them)"
sys_pass "install, a tunnel, upgrade, purge: clean under the real systemd"
