#!/usr/bin/env bash
# Build the libFuzzer targets with clang (ASan + UBSan) and fuzz each for SECONDS, one after the other (one process,
# one core: the machine is shared). Prints executions, exec/s, coverage and any crash per target; exits 1 if any
# target found something.
#
# usage: tests/fuzz/run.sh [SECONDS] [TARGET...]       SECONDS defaults to 30; TARGETs: decode assemble interpret hex object
#                                                     verifier
#   tests/fuzz/run.sh              30 s each, every target
#   tests/fuzz/run.sh 3600         a long run
#   tests/fuzz/run.sh 300 interpret
# Environment:
#   CXX             the clang to build with (default clang++-16; Debian 12: apt-get install clang-16
#                   libfuzzer-16-dev libclang-rt-16-dev)
#   BUILD           build directory (default build-fuzz at the top of the tree)
#   XBPF_FUZZ_SKIP  open findings to step around (README.md, "Findings"), comma-separated names
#   FUZZ_FLAGS      more libFuzzer flags, e.g. "-dict=... -max_len=256"
# The growing corpus of each target is kept in $BUILD/corpus/<target>/ (so a run resumes where the last stopped),
# crash inputs in $BUILD/artifacts/<target>/, the full log in $BUILD/logs/<target>.log.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(decode assemble interpret hex object verifier jit)
build=${BUILD:-$root/build-fuzz}
cxx=${CXX:-clang++-16}

if ! command -v "$cxx" >/dev/null; then
  [ "$cxx" = clang++-16 ] && "$root/scripts/install-deps" --fuzz
  command -v "$cxx" >/dev/null || { echo "run.sh: $cxx not found" >&2; exit 2; }
fi
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root/tests/fuzz" -B "$build" "${generator[@]}" -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
fi
cmake --build "$build" -j "${JOBS:-2}"

# Per target: the largest input worth trying. Raw programs beyond 64 slots mostly slow the round trips down.
max_len() {
  case $1 in
    decode) echo 512 ;;
    object) echo 65536 ;;  # the seeds are whole clang objects of 7-23 KB
    verifier | jit) echo 2048 ;;  # a generated program needs a few hundred decision bytes; raw ones up to 255 slots
    *) echo 4096 ;;
  esac
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
found=0
summary=()
for t in "${targets[@]}"; do
  bin=$build/fuzz_$t
  [ -x "$bin" ] || { echo "run.sh: no target '$t'" >&2; exit 2; }
  mkdir -p "$build/corpus/$t" "$build/artifacts/$t" "$build/logs"
  # The object target also starts from the clang-built test programs of the main build, when there is one.
  if [ "$t" = object ] && [ -d "$root/build/tests/programs" ]; then
    cp -n "$root"/build/tests/programs/*.bpf.o "$build/corpus/$t/" 2>/dev/null || true
  fi
  # The JIT target reads the verifier's input format: it starts from the verifier's corpus too.
  extra=()
  [ "$t" = jit ] && extra=("$root/tests/fuzz/corpus/verifier")
  log=$build/logs/$t.log
  before=$(find "$build/artifacts/$t" -type f | wc -l)
  echo "== fuzz_$t for ${seconds}s (log: $log)"
  rc=0
  # shellcheck disable=SC2086
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$t")" -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$t/" ${FUZZ_FLAGS:-} "$build/corpus/$t" "$root/tests/fuzz/corpus/$t" \
    "${extra[@]}" >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\) corp: \([0-9]*\)\/\([^ ]*\).*/edges \1, features \2, corpus \3 (\4)/p' \
    <<<"$last")
  after=$(find "$build/artifacts/$t" -type f | wc -l)
  line="fuzz_$t: ${runs:-?} runs, ${speed:-?} exec/s, ${cov:-no coverage line}"
  if [ "$rc" -ne 0 ] || [ "$after" -gt "$before" ]; then
    found=1
    line="$line -- FOUND SOMETHING (exit $rc)"
    grep -E 'PROPERTY VIOLATED|ERROR: AddressSanitizer|runtime error|ERROR: libFuzzer|Test unit written' "$log" | head -5
  fi
  echo "$line"
  summary+=("$line")
done

echo
echo "== summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
exit $found
