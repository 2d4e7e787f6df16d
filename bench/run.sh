#!/usr/bin/env bash
# Runs the JMH suite and writes bench/results/<mode>-*.json, bench/REPORT.md and bench/chart.png.
#   bash bench/run.sh [--short|--full]     (the same as ./panmax bench [--short|--full])
# --short (default, ~5-9 min on 2 cores, by how many ISAs the CPU has): float32 softmax at n = 16, 1024, 4194304 and 256x1000 for
#   every contender, the other operations at n = 1024, the floors, all with -prof gc.
# --full (~35 min): every size of the issue, float64, off-heap segments, longer iterations.
# The suites themselves are defined in one place, src/main/java/org/panmax/cli/Bench.java (the CLI's `bench` command
# runs them: a progress line while JMH runs, its log in bench/results/<mode>-jmh.log, then a summary table and the
# report through org.panmax.bench.Report). PANMAX_BENCH_IT overrides the iteration options, e.g.
# "-wi 0 -i 1 -w 50ms -r 50ms -f 1" to smoke-test the --full matrix in minutes (its numbers mean nothing).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mode="${1:---short}"
case "$mode" in --short|--full) ;; *) echo "usage: bench/run.sh [--short|--full]" >&2; exit 2 ;; esac
exec "$(dirname "$here")/panmax" bench "$mode"
