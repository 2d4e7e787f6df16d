#!/usr/bin/env bash
# Cross-builds native/ for linux-aarch64 (libpanmax.so with the NEON kernels, its OpenBLAS from the
# linux-arm64 jar, and the ctest programs) and stages the libraries the jar carries.
#
#   native/cmake/build-aarch64.sh BUILD_DIR MODE [cmake args...]
#
# MODE: auto      build if the cross compiler is there, else say loudly that it is skipped (exit 0);
#       required  the same, but a missing cross compiler is an error (release builds, CI);
#       skip      build nothing.
# Output: BUILD_DIR/lib (the build) and BUILD_DIR/jar (what the Maven build bundles as
# /native/linux-aarch64/). BUILD_DIR/jar, and PANMAX_AARCH64_JAR_COPY if set (the copy of an earlier
# build in target/classes), are emptied first, so a skipped or failed build never leaves a stale
# aarch64 library for the jar.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
[[ $# -ge 2 ]] || { echo "usage: $0 BUILD_DIR auto|required|skip [cmake args...]" >&2; exit 2; }
build="$1" mode="$2"
shift 2
cc="${PANMAX_AARCH64_PREFIX:-aarch64-linux-gnu-}gcc"
say() { printf '[panmax] %s\n' "$*" >&2; }

rm -rf "$build/jar"
if [[ -n "${PANMAX_AARCH64_JAR_COPY:-}" ]]; then
    rm -rf "$PANMAX_AARCH64_JAR_COPY"
fi
case "$mode" in
    skip)
        say "linux-aarch64: skipped (panmax.aarch64=skip); the jar carries linux-x86_64 only"
        exit 0 ;;
    auto | required) ;;
    *)
        say "panmax.aarch64 must be auto, required or skip, not '$mode'"
        exit 2 ;;
esac
if ! command -v "$cc" >/dev/null 2>&1; then
    why="the aarch64 cross compiler $cc is not on the PATH (Debian: apt-get install gcc-aarch64-linux-gnu)"
    if [[ "$mode" == required ]]; then
        say "ERROR: panmax.aarch64=required, but $why"
        exit 1
    fi
    say "WARNING: linux-aarch64 SKIPPED: $why. This jar carries linux-x86_64 only (on aarch64 the"
    say "         pure-Java backends serve). -Dpanmax.aarch64=required makes this an error."
    exit 0
fi
cmake -S "$root" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$root/native/cmake/aarch64-linux-gnu.cmake" "$@" >/dev/null
cmake --build "$build" -j 2 >/dev/null
mkdir -p "$build/jar"
# libpanmax.so and the OpenBLAS libraries CMake copied next to it (PanmaxOpenBLAS.cmake decides which)
for f in "$build"/lib/*.so*; do
    cp -p "$f" "$build/jar/"
done
say "linux-aarch64: built ($(cd "$build/jar" && ls | tr '\n' ' '))"
