#!/usr/bin/env bash
# Configures and builds faceid (Release, binaries in build/bin) with both cores.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build -j "$(nproc)"
