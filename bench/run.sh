#!/usr/bin/env bash
# Runs the benchmark suites against a build: `bench/run.sh BUILD_DIR` (what `make bench` calls).
# Compute suite: the side-by-side comparison (one run, ratios against native code and the Linux kernel's JIT),
# then the Google Benchmark binary with a short minimum time. Extra arguments go to the Google Benchmark binary.
set -euo pipefail

build=${1:?usage: bench/run.sh BUILD_DIR [google-benchmark flags...]}
shift
bin="$build/bench"

if [ ! -x "$bin/xbpf-compare-compute" ]; then
  echo "bench/run.sh: $bin/xbpf-compare-compute not built (needs clang, llvm-objcopy; see cmake output)" >&2
  exit 1
fi

echo "== compute: side by side (bench/compare.cpp)"
"$bin/xbpf-compare-compute"
echo

if [ -x "$bin/xbpf-bench-compute" ]; then
  echo "== compute: Google Benchmark (bench/compute_bench.cpp)"
  "$bin/xbpf-bench-compute" --benchmark_min_time=0.05 "$@"
else
  echo "bench/run.sh: $bin/xbpf-bench-compute not built (Google Benchmark not found: libbenchmark-dev)" >&2
fi

if [ -x "$bin/xbpf-compare-map-prog" ]; then
  echo
  echo "== maps from a program: xbpf vs the kernel (bench/map_prog_compare.cpp)"
  "$bin/xbpf-compare-map-prog"
fi
if [ -x "$bin/xbpf-bench-maps" ]; then
  echo
  echo "== maps from the host: Google Benchmark (bench/map_bench.cpp)"
  "$bin/xbpf-bench-maps" --benchmark_min_time=0.05 "$@"
fi
if [ -x "$bin/xbpf-compare-jit-compile" ]; then
  echo
  echo "== JIT compile throughput (bench/jit_compile_compare.cpp)"
  "$bin/xbpf-compare-jit-compile"
fi
if [ -x "$bin/xbpf-compare-verifier" ]; then
  echo
  echo "== verifier: xbpf verify vs kernel BPF_PROG_LOAD (bench/verifier_compare.cpp)"
  "$bin/xbpf-compare-verifier"
fi
