#!/usr/bin/env bash
# Configures and builds faceid (Release, binaries in build/bin) with both cores.
# FACEID_WERROR=ON (set by CI) makes every warning in faceid's own code an error.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${FACEID_WERROR:+-DFACEID_WERROR=$FACEID_WERROR} "$@"
cmake --build build -j "$(nproc)"
