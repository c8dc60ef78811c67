#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz; clang-14 with libclang-rt-14-dev) in build-fuzz/ and
# runs each for SECONDS (default 60) on a working copy of its seed corpus (tests/fuzz/corpus/<target>,
# which stays as committed), then prints one table: target, seconds, executions, corpus size,
# crashes. Crashing inputs are kept in build-fuzz/crashes/<target>/; exit 1 when there is one.
#   bash scripts/fuzz.sh [SECONDS]                      all targets
#   FUZZ_TARGETS="bundle face_cache" bash scripts/fuzz.sh 120   some of them
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
jobs=${JOBS:-$(nproc)}
read -r -a targets <<< "${FUZZ_TARGETS:-lfw_pairs boxes image scores_csv face_cache embedding_cache face_index bundle proposal}"

cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="${FUZZ_CXX:-clang++-14}" \
  -DFACEID_FUZZ=ON -DFACEID_BUILD_TESTS=OFF > /dev/null
cmake --build build-fuzz -j "$jobs" --target "${targets[@]/#/fuzz_}"

# Leaks count as crashes too (libFuzzer's default): none are reported from OpenCV's decoders.
export ASAN_OPTIONS=halt_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# The targets write each input to a scratch file: in memory where there is a /dev/shm.
[ -z "${TMPDIR:-}" ] && [ -w /dev/shm ] && export TMPDIR=/dev/shm
rows=()
failed=0
for t in "${targets[@]}"; do
  corpus=build-fuzz/corpus/$t crashes=build-fuzz/crashes/$t log=build-fuzz/fuzz_$t.log
  mkdir -p "$corpus" "$crashes"
  cp -n tests/fuzz/corpus/"$t"/* "$corpus"/
  echo "fuzz: $t for ${seconds}s (log: $log)"
  build-fuzz/bin/fuzz_"$t" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$crashes"/ "$corpus" > "$log" 2>&1 || true
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
  found=$(find "$crashes" -type f | wc -l)
  [ "$found" -gt 0 ] && failed=1
  rows+=("$(printf '%-16s %7s %12s %11s %7s' "$t" "$seconds" "${execs:-?}" "$(ls "$corpus" | wc -l)" "$found")")
done
printf '%-16s %7s %12s %11s %7s\n' target seconds executions corpus crashes
printf '%s\n' "${rows[@]}"
exit $failed
