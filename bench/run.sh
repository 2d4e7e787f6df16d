#!/usr/bin/env bash
# Runs the JMH suite and writes bench/results/<mode>-*.json, bench/REPORT.md and bench/chart.png.
#   bash bench/run.sh [--short|--full]     (./panmax bench does `mvn install` of the library first)
# --short (default, ~5-9 min on 2 cores, by how many ISAs the CPU has): float32 softmax at n = 16, 1024, 4194304 and 256x1000 for
#   every contender, the other operations at n = 1024, the floors, all with -prof gc.
# --full (~35 min): every size of the issue, float64, off-heap segments, longer iterations.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
mode="${1:---short}"; mode="${mode#--}"
case "$mode" in short|full) ;; *) echo "usage: bench/run.sh [--short|--full]" >&2; exit 2 ;; esac

if [[ -z "${JAVA_HOME:-}" || ! -x "$JAVA_HOME/bin/java" ]]; then
    echo "bench/run.sh: set JAVA_HOME to a JDK >= 23 (./panmax bench does it for you)" >&2
    exit 1
fi
java="$JAVA_HOME/bin/java"
jar="$here/target/benchmarks.jar"
if [[ ! -f "$jar" || -n "$(find "$here/src" "$here/pom.xml" "$root/target/panmax.jar" -newer "$jar" -print -quit 2>/dev/null)" ]]; then
    mvn -B -ntp -q -f "$here/pom.xml" package 1>&2
fi
jvm=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED)
backends=$("$java" "${jvm[@]}" -cp "$jar" org.panmax.cli.Main info 2>/dev/null | sed -n 's/.*"backends": \[\(.*\)\],*/\1/p' | tr -d '" ')
native=$(echo "$backends" | tr ',' '\n' | grep '^native' | head -1)
vectors=$(echo "$backends" | tr ',' '\n' | grep '^java-vector' | paste -sd, -)
vectors=${vectors:+$vectors,java-vector-libexp} # the bench variant: found by name, not listed by info
echo "bench: backends present: $backends (default native: ${native:-none})"
out="$here/results"
mkdir -p "$out"
jmh() { "$java" "${jvm[@]}" -jar "$jar" "$@" -prof gc -foe true; }

if [[ "$mode" == short ]]; then
    it=(-wi 2 -i 3 -w 400ms -r 400ms -f 1)
    shapes=1x16,1x1024,256x1000,1x4194304
    opsN=1024; dtypes=f32; memories=heap; floorBytes=64,4096,4194304,16777216
else
    it=(-wi 3 -i 5 -w 1s -r 1s -f 2)
    shapes=1x16,1x128,1x1024,1x16384,1x262144,1x4194304,256x1000,64x32000
    opsN=128,1024; dtypes=f32,f64; memories=heap,offheap
    floorBytes=64,512,4096,65536,128000,1048576,4194304,8192000,16777216,33554432
fi
# PANMAX_BENCH_IT overrides the iteration options, e.g. "-wi 0 -i 1 -w 50ms -r 50ms -f 1" to smoke-test the
# --full matrix in minutes (its numbers mean nothing).
if [[ -n "${PANMAX_BENCH_IT:-}" ]]; then
    read -ra it <<< "$PANMAX_BENCH_IT"
    echo "bench: iterations overridden by PANMAX_BENCH_IT: ${it[*]}"
fi
contenders="$backends${vectors:+,java-vector-libexp},raw-critical,raw-jextract"
jmh 'SoftmaxBenchmark' "${it[@]}" -p contender="$contenders" -p shape="$shapes" -p dtype="$dtypes" -p memory="$memories" \
    -rf json -rff "$out/$mode-softmax.json"
opsContenders=$(echo "${native:+$native,}${vectors:+$vectors,}java-scalar")
jmh 'OpsBenchmark' "${it[@]}" -p contender="$opsContenders" -p n="$opsN" -p dtype=f32 -rf json -rff "$out/$mode-ops.json"
jmh 'OpsBenchmark' "${it[@]}" -p contender="${native:+$native,}java-scalar" -p n=1024 -p dtype=f64 -p op=softmax \
    -rf json -rff "$out/$mode-ops-f64.json"
jmh 'FloorBenchmark' "${it[@]}" -p bytes="$floorBytes" -rf json -rff "$out/$mode-floors.json"

cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
"$java" -Djava.awt.headless=true -cp "$jar" org.panmax.bench.Report \
    "$out/$mode-softmax.json,$out/$mode-ops.json,$out/$mode-ops-f64.json,$out/$mode-floors.json" \
    "$here/REPORT.md" "$here/chart.png" \
    "Run: \`bench/run.sh --$mode\` on $(date -u +%Y-%m-%d), commit $commit" \
    "CPU: ${cpu:-unknown}, $(nproc) cores; native ISA: ${native:-none}; JDK: $("$java" -version 2>&1 | head -1)"
echo "bench: wrote $here/REPORT.md and $here/chart.png"
