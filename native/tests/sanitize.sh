#!/usr/bin/env bash
# The C library once more, on its own: ctest built with AddressSanitizer + UndefinedBehaviorSanitizer
# (every finding is fatal: -fno-sanitize-recover=all). With PANMAX_VALGRIND=1 (and valgrind
# installed) also test_api under valgrind memcheck: PANMAX_TEST_MEMCHECK=1 keeps every call and
# memory/status check but skips the long-double comparisons, which valgrind's x87 emulation cannot
# do. It takes ~10 minutes on 2 cores, so CI leaves it off. Builds under target/.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$root/target/native-asan"
echo "== native: ctest under ASan + UBSan ($build)"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPANMAX_SANITIZE=ON >/dev/null
cmake --build "$build" -j 2 >/dev/null
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$build" --output-on-failure
if [[ "${PANMAX_VALGRIND:-0}" == 1 ]] && command -v valgrind >/dev/null 2>&1; then
    echo "== native: test_api under valgrind memcheck"
    plain="$root/target/native"
    [[ -x "$plain/tests/test_api" ]] || { cmake -S "$root" -B "$plain" >/dev/null && cmake --build "$plain" -j 2 >/dev/null; }
    PANMAX_TEST_MEMCHECK=1 valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
        "$plain/tests/test_api" > "$root/target/valgrind.log" 2>&1 || { tail -40 "$root/target/valgrind.log"; exit 1; }
    echo "valgrind memcheck: clean ($(grep -c . "$root/target/valgrind.log") lines of test output in target/valgrind.log)"
else
    echo "== native: valgrind memcheck skipped (PANMAX_VALGRIND=1 runs it; needs valgrind)"
fi
