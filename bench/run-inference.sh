#!/usr/bin/env bash
# The inference benchmarks of issue 14 (sampling, heads, Executor scaling) -> bench/results/inference-*.json and
# bench/REPORT-inference.md.
#   bash bench/run-inference.sh [--short|--full|--largest]   (after ./panmax bench has built bench/target/benchmarks.jar)
# --short: V = 32000 and 128256, peaked rows, the three configs; heads at d = 768; tasks 1 and the core count.
# --largest: after --short, the largest shapes on top of it: V = 256000 peaked and flat (panmax and its softmax
#          pass), heads at d = 1024, K = 128256, B = 1 and 8 (W 525 MB off-heap); the report merges both runs.
# --full:  the issue's whole matrix: V up to 256000, peaked and flat rows, heads B in {1, 8, 64} x d in {768, 1024}
#          x K in {1000, 32000, 128256} (W up to 525 MB off-heap: give the fork memory), tasks 1, 2, 4, ... cores.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mode="${1:---short}"; mode="${mode#--}"
case "$mode" in short|full|largest) ;; *) echo "usage: bench/run-inference.sh [--short|--full|--largest]" >&2; exit 2 ;; esac
java="${JAVA_HOME:?set JAVA_HOME to a JDK >= 23}/bin/java"
jar="$here/target/benchmarks.jar"
[[ -f "$jar" ]] || { echo "bench/run-inference.sh: build $jar first (./panmax bench, or mvn -f bench/pom.xml package)" >&2; exit 1; }
jvm=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED)
out="$here/results"
mkdir -p "$out"
cores=$(nproc)
tasks=1; t=2; while (( t < cores )); do tasks+=",$t"; t=$((t * 2)); done; tasks+=",$cores"
jmh() { "$java" "${jvm[@]}" -jar "$jar" "$@" -prof gc -foe true; }
files=("$out/inference-$mode-sampling.json" "$out/inference-$mode-heads.json" "$out/inference-$mode-split.json")
if [[ "$mode" == largest ]]; then
    for f in sampling heads split; do
        [[ -f "$out/inference-short-$f.json" ]] || { echo "bench/run-inference.sh: run --short first" >&2; exit 1; }
    done
    jmh SamplingBenchmark -wi 2 -i 4 -w 500ms -r 500ms -f 1 -p v=256000 -p rows=peaked,flat -p contender=panmax,softmax \
        -p config=topp,topp-topk40,minp -rf json -rff "$out/inference-largest-sampling.json"
    jmh HeadBenchmark -wi 2 -i 3 -w 1s -r 1s -f 1 -jvmArgsAppend "-Xmx4g" -p b=1,8 -p d=1024 -p k=128256 \
        -rf json -rff "$out/inference-largest-heads.json"
    files=("$out/inference-short-sampling.json" "$out/inference-largest-sampling.json" "$out/inference-short-heads.json"
           "$out/inference-largest-heads.json" "$out/inference-short-split.json")
elif [[ "$mode" == short ]]; then
    it=(-wi 2 -i 3 -w 500ms -r 500ms -f 1)
    jmh SamplingBenchmark "${it[@]}" -p v=32000,128256 -p rows=peaked -rf json -rff "$out/inference-short-sampling.json"
    jmh HeadBenchmark "${it[@]}" -p b=1,8,64 -p d=768 -p k=1000,32000 -rf json -rff "$out/inference-short-heads.json"
    jmh SplitBenchmark "${it[@]}" -p tasks="1,$cores" -rf json -rff "$out/inference-short-split.json"
else
    it=(-wi 3 -i 5 -w 1s -r 1s -f 2)
    jmh SamplingBenchmark "${it[@]}" -p v=32000,128256,256000 -p rows=peaked,flat -p config=topp,topp-topk40,minp,topk40,plain \
        -rf json -rff "$out/inference-full-sampling.json"
    jmh HeadBenchmark "${it[@]}" -jvmArgsAppend "-Xmx4g" -p contender=gemm,head-probs,head-top5,head-logits+probs \
        -rf json -rff "$out/inference-full-heads.json"
    jmh SplitBenchmark "${it[@]}" -p tasks="$tasks" -rf json -rff "$out/inference-full-split.json"
fi
# The inference section of the report: bench/REPORT-inference.md (medians, ratios, each target's verdict).
"$java" -cp "$jar" org.panmax.bench.InferenceReport "$here/REPORT-inference.md" "${files[@]}" -- \
    "Run: \`bench/run-inference.sh --$mode\` on $(date -u +%Y-%m-%d), commit $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')" \
    "CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $cores cores; JDK: $("$java" -version 2>&1 | head -1)"
echo "bench: inference results in $out/inference-$mode-*.json, the report in $here/REPORT-inference.md"
