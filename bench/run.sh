#!/usr/bin/env bash
# Runs the JMH suite and writes bench/results/<mode>-*.json, bench/REPORT.md and bench/chart.png.
#   bash bench/run.sh [--short|--full]     (the same as ./panmax bench [--short|--full])
# --short (default, ~10-16 min on 2 cores, by how many ISAs the CPU has: 115-125 JMH cases of ~3.5 s each, an
#   onnxruntime case ~5 s with its session and library, plus the build; 5-9 min before issue 13's sizes): float32
#   softmax at n = 16, 128, 1024, 16384, 262144, 4194304 and 256x1000, 4096x10, 4096x16, 64x32000 for every
#   backend, the raw calls and onnxruntime; float64 softmax at n = 1024 for the best native backend and
#   onnxruntime; floor-c2pass (a minimal AVX2 C kernel) at n = 16 and 128; the other operations at n = 1024; the
#   floors; all with -prof gc.
# --full (~35 min): the sizes it had before issue 13 (every one above but 4096x10 and 4096x16), float64, off-heap
#   segments, longer iterations; onnxruntime and floor-c2pass are in --short only.
# The suites themselves are defined in one place, src/main/java/org/panmax/cli/Bench.java (the CLI's `bench` command
# runs them: a progress line while JMH runs, its log in bench/results/<mode>-jmh.log, then a summary table and the
# report through org.panmax.bench.Report). PANMAX_BENCH_IT overrides the iteration options, e.g.
# "-wi 0 -i 1 -w 50ms -r 50ms -f 1" to smoke-test the --full matrix in minutes (its numbers mean nothing).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mode="${1:---short}"
case "$mode" in --short|--full) ;; *) echo "usage: bench/run.sh [--short|--full]" >&2; exit 2 ;; esac
exec "$(dirname "$here")/panmax" bench "$mode"
