#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Every source, header, script, unit and build file of tether names its
# license (SPDX-License-Identifier: AGPL-3.0-or-later) in its first lines,
# LICENSE holds the AGPL's full text, and the package installs it. The
# bundled libssh (src/libssh) keeps its own license.
#
# usage: license_lines.sh TETHER_BINARY TESTS_BUILD_DIR
# shellcheck source=SCRIPTDIR/../lib/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"
lab_init "$@"
TOP=$(cd "$LAB_SRC_DIR/.." && pwd)
cd "$TOP" || lab_fail "cannot enter $TOP"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	mapfile -t FILES < <(git ls-files)
else
	mapfile -t FILES < <(find . -type f ! -path './build*' ! -path './.git/*' | sed 's|^\./||')
fi
missing=()
n=0
for f in "${FILES[@]}"; do
	case $f in
	src/libssh/*) continue ;;
	*.c | *.h | *.sh | *.bash | *.js | *.cmake | */CMakeLists.txt | CMakeLists.txt | *.service.in | \
	    .ci/run | .ci/packages | docs/completion/_tether | conf/tether.conf.example) ;;
	*) continue ;;
	esac
	n=$((n + 1))
	head -n 3 "$f" | grep -q 'SPDX-License-Identifier: AGPL-3.0-or-later' || missing+=("$f")
done
[ "${#missing[@]}" = 0 ] || lab_fail "${#missing[@]} of $n files lack the SPDX line in their first 3 lines: ${missing[*]}"
head -n 2 LICENSE | grep -q 'GNU AFFERO GENERAL PUBLIC LICENSE' && grep -q 'Version 3, 19 November 2007' LICENSE &&
    grep -q 'Remote Network Interaction' LICENSE || lab_fail "LICENSE is not the AGPL-3.0's full text"
[ "$(wc -l <LICENSE)" -gt 500 ] || lab_fail "LICENSE is too short for the full text"
grep -q 'install(FILES LICENSE' CMakeLists.txt || lab_fail "the build does not install LICENSE"
lab_pass "$n files carry the SPDX line; LICENSE is the AGPL-3.0 text and is installed"
