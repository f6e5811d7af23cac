#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# libtether and the Python API, as a user outside the build gets them:
# installed into a temporary prefix with cmake --install, then
#  - a C program built with `pkg-config --cflags --libs tether` against the
#    installed header sets up a user tunnel (a real ssh goes through it),
#    reads its status (forwarding, as JSON), removes it (nothing left), and
#    gets bad values back as failed results with the command line's words;
#  - the seed's Python lines, through scitex_tunnel and through tether (ctypes,
#    found beside the prefix without LD_LIBRARY_PATH), do the same;
#  - without the library, importing says which package to install.
#
# usage: libtether.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
[ "${LAB_TUNNEL:-tether}" = ssh ] && { echo "[libtether] SKIP: tether's library"; exit 77; }
lab_init "$@"
TOP=$(dirname "$LAB_BUILD")
[ -f "$TOP/cmake_install.cmake" ] || lab_skip "no cmake_install.cmake in $TOP"
for tool in cc pkg-config python3; do
    command -v "$tool" >/dev/null || lab_fail "$tool is needed (apt-get install build-essential pkg-config python3)"
done

PREFIX=$LAB_DIR/prefix
lab_cmd cmake --install "$TOP" --prefix "$PREFIX"
[ "$RC" = 0 ] || { lab_show_cmd; lab_fail "cmake --install --prefix: exit $RC"; }
PC=$(find "$PREFIX" -name tether.pc) && [ -n "$PC" ] || lab_fail "no tether.pc under $PREFIX"
export PKG_CONFIG_PATH=${PC%/tether.pc}
PYDIR=$(dirname "$(find "$PREFIX" -type d -name scitex_tunnel)") && [ -d "$PYDIR/tether" ] ||
    lab_fail "no Python modules under $PREFIX"
[ "$(pkg-config --variable=prefix tether)" = "$PREFIX" ] || lab_fail "tether.pc names another prefix"

# A sanitizer build's library needs its runtime loaded first in a program
# (cc's, python3) that is not built with it; python3's own leaks are not ours.
LIBSO=$(find "$PREFIX" -name 'libtether.so.0' | head -n 1)
PRELOAD=
PY_ASAN=${ASAN_OPTIONS:-}
if readelf -d "$LIBSO" | grep -q 'libasan'; then
    PRELOAD=$(cc -print-file-name=libasan.so)
    PY_ASAN="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
fi

lab_private_home
lab_start_bastion
lab_start_workstation
BASTION="$LAB_USER@127.0.0.1:$BASTION_PORT"

lab_log "check: a C program builds against the installed header with pkg-config"
cat >"$LAB_DIR/prog.c" <<'C'
/* prog VERB NAME=VALUE...: one libtether call; prints what it returned. */
#include <stdio.h>
#include <string.h>
#include <tether/tether.h>

int
main(int argc, char **argv)
{
	tether_options *o = tether_options_new();
	tether_result *r;
	const char *json;
	char name[64];
	int i;

	for (i = 2; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');

		snprintf(name, sizeof name, "%.*s", (int)(eq - argv[i]), argv[i]);
		if (tether_options_set(o, name, eq + 1) != 0) {
			printf("unknown option %s\n", name);
			return 99;
		}
	}
	r = strcmp(argv[1], "setup") == 0 ? tether_setup(o) :
	    strcmp(argv[1], "status") == 0 ? tether_status(o) : tether_remove(o);
	json = tether_result_json(r);
	printf("success=%d exit=%d version=%s\n--stdout\n%s--stderr\n%s--json\n%s\n",
	    tether_result_success(r), tether_result_exit_code(r),
	    tether_version(), tether_result_stdout(r), tether_result_stderr(r),
	    json != NULL ? json : "(none)");
	tether_result_free(r);
	tether_options_free(o);
	return 0;
}
C
# shellcheck disable=SC2046
cc -std=c17 -Wall -Wextra -Werror -o "$LAB_DIR/prog" "$LAB_DIR/prog.c" \
    $(pkg-config --cflags --libs tether) -Wl,-rpath,"$(pkg-config --variable=libdir tether)" ||
    lab_fail "the C program did not build with pkg-config tether"
prog() { OUT=$(LD_PRELOAD=$PRELOAD "$LAB_DIR/prog" "$@" 2>&1); RC=$?; [ "$RC" = 0 ] || lab_fail "prog $1 crashed ($RC): $OUT"; }

RPORT=$(lab_free_port) || lab_fail "no free port"
lab_log "check: C: setup in user mode forwards, and ssh goes through"
prog setup port="$RPORT" bastion="$BASTION" key="$LAB_KEY" known_hosts="$BASTION_KNOWN_HOSTS" \
    target="127.0.0.1:$WS_PORT" user=yes wait=20
lab_has "$OUT" "success=1 exit=0" || lab_fail "C setup failed: $OUT"
lab_wait_tcp "$RPORT" 10 || lab_fail "port $RPORT is not open on the bastion after setup"
out=$(lab_ssh_through "$RPORT" "echo through-c") || lab_fail "ssh through the C-made tunnel failed: $out"
lab_has "$out" through-c || lab_fail "ssh printed '$out'"
pid=$(cat "$XDG_RUNTIME_DIR/tether/$RPORT.pid" 2>/dev/null)
[ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe")" = "$(readlink -f "$PREFIX/bin/tether")" ] ||
    lab_fail "the daemon is not the tether installed with the library: $(readlink "/proc/$pid/exe" 2>/dev/null)"

lab_log "check: C: status says forwarding, as JSON"
prog status port="$RPORT" user=yes
lab_has "$OUT" "success=1" || lab_fail "C status failed: $OUT"
lab_has "$OUT" '"state": "forwarding"' || lab_has "$OUT" '"state":"forwarding"' ||
    lab_fail "C status JSON does not say forwarding: $OUT"

lab_log "check: C: remove leaves nothing"
prog remove port="$RPORT" user=yes
lab_has "$OUT" "success=1 exit=0" || lab_fail "C remove failed: $OUT"
[ -e "$HOME/.config/tether/$RPORT.conf" ] && lab_fail "remove left $RPORT.conf"
lab_port_open "$RPORT" && lab_fail "port $RPORT still open after remove"

lab_log "check: C: bad values come back as failed results with the CLI's message"
prog setup port=0 bastion="$BASTION" key="$LAB_KEY" user=yes
lab_has "$OUT" "success=0 exit=2" || lab_fail "port 0 was not refused with exit 2: $OUT"
lab_has "$OUT" "option 'port': '0' is not a port from 1 to 65535" || lab_fail "port 0: no message: $OUT"
prog setup port="$RPORT" bastion="$BASTION" key="$LAB_DIR/no-such-key" user=yes
lab_has "$OUT" "success=0 exit=4" || lab_fail "a missing key was not refused with exit 4: $OUT"
lab_has "$OUT" "No such file or directory" || lab_fail "a missing key: not the CLI's message: $OUT"
out=$(LD_PRELOAD=$PRELOAD "$LAB_DIR/prog" setup colour=yes 2>&1)
lab_has "$out" "unknown option colour" || lab_fail "an unknown option name was accepted: $out"

RPORT2=$(lab_free_port) || lab_fail "no free port"
lab_log "check: Python: the seed's lines through scitex_tunnel and tether"
cat >"$LAB_DIR/seed.py" <<'PY'
import os, subprocess, sys
import scitex_tunnel, tether

port, bastion, key, kh, target, ssh_through = sys.argv[1:7]
result = scitex_tunnel.setup(int(port), bastion, key, user=True,
                             known_hosts=kh, target=target)
assert result["success"] and result["exit_code"] == 0, result
assert "stdout" in result and "stderr" in result
out = subprocess.run(["bash", "-c", ssh_through], capture_output=True, text=True)
assert "through-py" in out.stdout, out
result = scitex_tunnel.status(port=int(port))
assert result["success"], result
assert [t["state"] for t in result["tunnels"]] == ["forwarding"], result
assert tether.status()["success"]
result = tether.remove(int(port), user=True)
assert result["success"], result
assert not os.path.exists(os.path.expanduser("~/.config/tether/%s.conf" % port))
bad = scitex_tunnel.setup(0, bastion, key, user=True)
assert not bad["success"] and bad["exit_code"] == 2, bad
assert "is not a port from 1 to 65535" in bad["stderr"], bad
bad = scitex_tunnel.setup(int(port), bastion, "~/no-such-key", user=True)
assert not bad["success"] and bad["exit_code"] == 4, bad
assert "No such file or directory" in bad["stderr"], bad
try:
    tether.setup(int(port), bastion, key, colour=True)
    raise AssertionError("an unknown keyword was accepted")
except TypeError as e:
    assert "unexpected keyword argument 'colour'" in str(e), e
print("python ok")
PY
SSH_THROUGH="timeout 30 ssh -F /dev/null -p $RPORT2 -o HostKeyAlias=lab-workstation \
-o UserKnownHostsFile=$WS_KNOWN_HOSTS -o StrictHostKeyChecking=yes -o BatchMode=yes \
-o IdentitiesOnly=yes -o IdentityAgent=none -o LogLevel=ERROR -i $LAB_KEY $LAB_USER@127.0.0.1 echo through-py"
out=$(cd / && LD_PRELOAD=$PRELOAD ASAN_OPTIONS=$PY_ASAN PYTHONPATH=$PYDIR python3 "$LAB_DIR/seed.py" "$RPORT2" "$BASTION" "$LAB_KEY" \
    "$BASTION_KNOWN_HOSTS" "127.0.0.1:$WS_PORT" "$SSH_THROUGH" 2>&1) ||
    lab_fail "the seed's Python lines failed: $out"
lab_has "$out" "python ok" || lab_fail "python printed: $out"

lab_log "check: Python without the library: ImportError naming the package"
mkdir -p "$LAB_DIR/nolib"
cp -r "$PYDIR/tether" "$PYDIR/scitex_tunnel" "$LAB_DIR/nolib/"
out=$(cd / && LD_PRELOAD=$PRELOAD ASAN_OPTIONS=$PY_ASAN PYTHONPATH=$LAB_DIR/nolib python3 -c 'import scitex_tunnel' 2>&1) &&
    lab_fail "import worked without libtether"
lab_has "$out" "ImportError: tether's Python API needs libtether" || lab_fail "not the ImportError: $out"
lab_has "$out" "apt-get install libtether0" || lab_fail "the package is not named: $out"

lab_pass "libtether from an install: C via pkg-config and Python via scitex_tunnel/tether set up, show and remove a forwarding tunnel; bad values are failed results"
