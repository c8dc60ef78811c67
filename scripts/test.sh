#!/usr/bin/env bash
# The test command: set-up, build, and the whole suite (unit, real-data and CLI tests) via CTest.
# Real-data tests read $FACEID_DATA (default ../shared/data) and skip, saying so, without it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
export FACEID_DATA="${FACEID_DATA:-$(cd .. && pwd)/shared/data}"
cd build
ctest --output-on-failure -j "$(nproc)" "$@"
