#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Builds the libFuzzer targets in a build directory of their own (clang,
# ASan + UBSan, tether_core instrumented too), replays every file of
# tests/fuzz/regressions/NAME/ and tests/fuzz/corpus/NAME/, then fuzzes each
# target for SECONDS on a copy of its corpus. Fails if any input crashes
# (or trips a sanitizer, a leak, an invariant check, a timeout or the
# memory limit); the inputs are kept for tests/fuzz/regressions/NAME/.
#
# usage: tests/fuzz/run.sh [-t SECONDS] [-B BUILD_DIR] [NAME...]
#   SECONDS     per target (default $FUZZ_SECONDS or 60); 0 = replay only
#   BUILD_DIR   default build-fuzz in the source tree ($FUZZ_BUILD)
#   NAME        config spec cli env mcp migrate (default: every fuzz_*.c)
# Environment: FUZZ_ARGS (extra libFuzzer flags), CC (default clang).
# Exit: 0 clean, 1 a crash or a failed step, 77 no clang/libFuzzer here.
set -u

FUZZ_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(cd "$FUZZ_DIR/../.." && pwd)
SECONDS_PER=${FUZZ_SECONDS:-60}
BUILD=${FUZZ_BUILD:-$SRC_DIR/build-fuzz}
CC=${CC:-clang}
SAN_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

log() { printf '[fuzz] %s\n' "$*"; }
die() { printf '[fuzz] FAIL: %s\n' "$*"; exit 1; }
skip() { printf '[fuzz] SKIP: %s\n' "$*"; exit 77; }

while getopts t:B: opt; do
	case $opt in
	t) SECONDS_PER=$OPTARG ;;
	B) BUILD=$OPTARG ;;
	*) sed -n '2,16p' "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
case $SECONDS_PER in
'' | *[!0-9]*) die "SECONDS must be a whole number, not '$SECONDS_PER'" ;;
esac

names=("$@")
if [ "${#names[@]}" = 0 ]; then
	for f in "$FUZZ_DIR"/fuzz_*.c; do
		n=${f##*/fuzz_}
		names+=("${n%.c}")
	done
fi

# ---- can libFuzzer run here? -------------------------------------------
command -v "$CC" >/dev/null || skip "$CC not found (apt-get install clang libclang-rt-14-dev)"
"$CC" --version | head -n 1 | grep -qi clang || skip "CC=$CC is not clang"
probe=$(mktemp -d) || die "mktemp failed"
trap 'rm -rf "$probe"' EXIT
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$probe/p.c"
"$CC" -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" 2>"$probe/err" ||
    skip "$CC cannot link -fsanitize=fuzzer,address,undefined (libclang-rt-14-dev missing?): $(head -n 3 "$probe/err")"

# ---- build ---------------------------------------------------------------
log "configuring $BUILD with $("$CC" --version | head -n 1)"
CC=$CC cmake -S "$SRC_DIR" -B "$BUILD" -DTETHER_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS="$SAN_FLAGS" \
    >"$probe/cmake.log" 2>&1 || { cat "$probe/cmake.log"; die "cmake configure failed"; }
log "building the fuzzers"
cmake --build "$BUILD" --target fuzzers -j"$(nproc 2>/dev/null || echo 2)" \
    >"$probe/build.log" 2>&1 || { tail -n 40 "$probe/build.log"; die "build failed"; }
BIN=$BUILD/tests/fuzz

WORK=$BUILD/fuzz-work
mkdir -p "$WORK"
failed=()
summary=()
# libFuzzer's crash code is 77 by default: the project's "skipped". Use 1.
COMMON=(-error_exitcode=1 -timeout_exitcode=1 -timeout=10 -rss_limit_mb=2048
    -malloc_limit_mb=1024)

for name in "${names[@]}"; do
	fuzzer=$BIN/fuzz_$name
	[ -x "$fuzzer" ] || die "no fuzzer fuzz_$name (tests/fuzz/fuzz_$name.c)"
	[ -d "$FUZZ_DIR/corpus/$name" ] || die "no seed corpus tests/fuzz/corpus/$name"
	w=$WORK/$name
	rm -rf "$w"
	mkdir -p "$w/corpus" "$w/crashes"

	# 1. Inputs that crashed before must not crash now; then the seeds.
	for set in regressions corpus; do
		d=$FUZZ_DIR/$set/$name
		[ -d "$d" ] || continue
		files=("$d"/*)
		[ -e "${files[0]}" ] || continue
		if ! "$fuzzer" "${COMMON[@]}" -runs=0 "$d" >"$w/replay-$set.log" 2>&1; then
			tail -n 30 "$w/replay-$set.log"
			failed+=("$name: replaying $set/$name crashes (log $w/replay-$set.log)")
			continue 2
		fi
		log "$name: replayed ${#files[@]} file(s) of $set/$name: no crash"
	done
	[ "$SECONDS_PER" -gt 0 ] || continue

	# 2. Fuzz a copy of the corpus.
	cp "$FUZZ_DIR/corpus/$name"/* "$w/corpus/"
	dict=()
	[ -f "$FUZZ_DIR/$name.dict" ] && dict=(-dict="$FUZZ_DIR/$name.dict")
	log "$name: fuzzing for $SECONDS_PER s (log $w/fuzz.log)"
	# shellcheck disable=SC2086  # FUZZ_ARGS is a list of flags
	"$fuzzer" "${COMMON[@]}" "${dict[@]}" -max_total_time="$SECONDS_PER" \
	    -print_final_stats=1 -artifact_prefix="$w/crashes/" ${FUZZ_ARGS:-} \
	    "$w/corpus" >"$w/fuzz.log" 2>&1
	rc=$?
	execs=$(awk '/^stat::number_of_executed_units/ { print $NF }' "$w/fuzz.log")
	last=$(grep -E '^#[0-9]+' "$w/fuzz.log" | tail -n 1)
	cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
	ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
	corp=$(sed -nE 's/.* corp: ([0-9]+)\/.*/\1/p' <<<"$last")
	crashes=$(find "$w/crashes" -type f | wc -l)
	summary+=("$(printf '%-7s execs %-9s cov %-5s ft %-6s corpus %-5s crashes %s' \
	    "$name" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes")")
	if [ "$rc" != 0 ] || [ "$crashes" -gt 0 ]; then
		grep -E 'ERROR: |runtime error|invariant broken|SUMMARY' "$w/fuzz.log" | head -n 10
		failed+=("$name: status $rc, $crashes crash input(s) in $w/crashes/ (log $w/fuzz.log); minimise with $fuzzer -minimize_crash=1 -runs=10000 FILE, fix, then add the file to tests/fuzz/regressions/$name/")
	fi
done

for line in "${summary[@]}"; do log "$line"; done
if [ "${#failed[@]}" -gt 0 ]; then
	for f in "${failed[@]}"; do log "FAIL: $f"; done
	exit 1
fi
log "PASS: ${names[*]}"
exit 0
