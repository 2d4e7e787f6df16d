#!/usr/bin/env bash
# The C tests once more, cross-compiled for aarch64 and run under qemu-aarch64 (user-mode emulation),
# so that every run of ./panmax test executes the NEON kernels on an x86 machine: test_api against
# the long double reference, test_exp (exp ulps, lanes, the fused kernels), test_kernels (every slot against scalar) and the fuzz corpus.
#
# Emulation is slow (and aarch64's long double is IEEE quad, computed in software), so test_api runs
# with PANMAX_TEST_QUICK=1 (shorter size lists, see test_api.c) and only for the NEON kernels
# (PANMAX_TEST_ISA_ONLY=neon; the scalar ones are the same C as on x86-64, tested natively). It
# reuses the Maven build's target/native-aarch64 when that is there. Needs gcc-aarch64-linux-gnu
# and qemu-user (Debian); without them it says so and skips.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$root/target/native-aarch64"
sysroot="${PANMAX_AARCH64_SYSROOT:-/usr/aarch64-linux-gnu}"
echo "== native (aarch64): ctest under qemu-aarch64 ($build)"
missing=""
command -v "${PANMAX_AARCH64_PREFIX:-aarch64-linux-gnu-}gcc" >/dev/null 2>&1 || missing+=" gcc-aarch64-linux-gnu"
command -v qemu-aarch64 >/dev/null 2>&1 || missing+=" qemu-user"
[[ -e "$sysroot/lib/ld-linux-aarch64.so.1" ]] || missing+=" libc6-arm64-cross (no $sysroot/lib/ld-linux-aarch64.so.1)"
if [[ -n "$missing" ]]; then
    echo "== native (aarch64): SKIPPED: missing$missing (Debian: apt-get install gcc-aarch64-linux-gnu qemu-user);"
    echo "   the NEON kernels were not executed on this machine"
    exit 0
fi
start=$SECONDS
bash "$root/native/cmake/build-aarch64.sh" "$build" required -DCMAKE_BUILD_TYPE=Release -DPANMAX_TEST_TIMEOUT=2400
PANMAX_TEST_QUICK=1 PANMAX_TEST_ISA_ONLY=neon ctest --test-dir "$build" -j 2 --output-on-failure

# The jar's linux-aarch64 folder, alone in an empty directory, as NativeLoader extracts it: it must
# load (RUNPATH $ORIGIN finds the bundled OpenBLAS, libgcc_s comes from the system) and run NEON.
jar="$root/target/panmax.jar"
probe_dir="$(mktemp -d)"
trap 'rm -rf "$probe_dir"' EXIT
if [[ -f "$jar" ]] && unzip -l "$jar" 'native/linux-aarch64/libpanmax.so' >/dev/null 2>&1; then
    unzip -q -j "$jar" 'native/linux-aarch64/*' -d "$probe_dir/lib"
    from="$jar"
else
    mkdir -p "$probe_dir/lib" && cp -p "$build"/jar/* "$probe_dir/lib/"
    from="$build/jar (no target/panmax.jar with linux-aarch64 yet)"
fi
"${PANMAX_AARCH64_PREFIX:-aarch64-linux-gnu-}gcc" -std=c11 -O1 -Wall -Wextra -Werror \
    -o "$probe_dir/bundle_probe" "$root/native/tests/bundle_probe.c" -lm
echo "== native (aarch64): the bundled folder from $from: $(cd "$probe_dir/lib" && ls | tr '\n' ' ')"
QEMU_LD_PREFIX="$sysroot" qemu-aarch64 "$probe_dir/bundle_probe" "$probe_dir/lib/libpanmax.so" neon
echo "== native (aarch64): done in $((SECONDS - start)) s"
