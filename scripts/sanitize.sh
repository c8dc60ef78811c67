#!/usr/bin/env bash
# Builds faceid with AddressSanitizer and UndefinedBehaviorSanitizer in build-sanitize/ (the
# compiler of the normal build, RelWithDebInfo for line numbers in the reports) and runs the CTest
# suite under them: the first error stops the test that hit it with a stack trace, and fails it.
#   bash scripts/sanitize.sh            # FACEID_DATA (default ../shared/data) for the real-data tests
#   SANITIZE=address bash scripts/sanitize.sh -R Boxes   # other sanitizers; extra args go to ctest
# Only faceid's own code is instrumented: LibTorch, OpenCV, spdlog and the rest are Debian's.
set -euo pipefail
cd "$(dirname "$0")/.."
sanitize=${SANITIZE:-address,undefined}
jobs=${JOBS:-$(nproc)}
# The CLI and web tests take the data folder from the environment at configure time.
export FACEID_DATA=${FACEID_DATA:-$(cd .. && pwd)/shared/data}

# -O1 -g1: what the sanitizers recommend (fast enough, exact lines in reports), and it compiles
# much faster than -O2 -g through the LibTorch headers (here: about twice as fast).
cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DFACEID_SANITIZE="$sanitize" > /dev/null
# GCC warns -Wmaybe-uninitialized inside LibTorch's headers in this build only (copies of
# c10::optional<Tensor> in torch::nn::functional options): false positives of the instrumentation.
cmake --build build-sanitize -j "$jobs"

# Leak checking stays on: LeakSanitizer reports nothing from LibTorch or OpenCV in this suite.
export ASAN_OPTIONS=halt_on_error=1:print_stacktrace=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
cd build-sanitize
ctest -j "$jobs" --output-on-failure "$@"
