#!/usr/bin/env bash
# Installs the Debian packages faceid needs (build tools, LibTorch, OpenCV, CLI11, spdlog,
# nlohmann-json, GoogleTest, OpenBLAS, the Haar cascades, PyTorch for the benchmark reference).
# Skips apt entirely when everything is already installed.
set -euo pipefail
packages=(
  build-essential cmake ccache pkg-config
  libtorch-dev libopencv-dev opencv-data libcli11-dev libspdlog-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev
  libopenblas0-openmp   # LibTorch's dense layers run ~16x slower on Debian's reference BLAS
  python3-torch python3-numpy python3-opencv  # the reference PyTorch implementation of the benchmark
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi
echo "setup: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
