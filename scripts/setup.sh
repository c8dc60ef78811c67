#!/usr/bin/env bash
# Installs the Debian packages faceid needs (build tools, LibTorch and Gloo's headers for its
# data-parallel training, OpenCV, CLI11, spdlog,
# nlohmann-json, tinyxml2, GoogleTest, OpenBLAS, the Haar cascades, PyTorch for the benchmark reference,
# cpp-httplib for faceserve, Chromium and Node.js for its browser test), then the browser test's
# npm packages (tests/web: puppeteer-core, pinned by package-lock.json; it never downloads a
# browser) and the pretrained face descriptor's (pretrained/face-api). Skips apt entirely when everything is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."

# From their lock files: puppeteer-core for tests/web (Debian's Chromium is the browser), and the
# pretrained face descriptor (@vladmandic/face-api with the TF.js it runs on, for the reference
# test) in pretrained/face-api, where facetrain --init face-api finds it.
npm_packages() {
  if ! command -v npm > /dev/null; then
    echo "setup: no npm: the browser test is skipped and --init face-api has no model"
    return
  fi
  if [ ! -d tests/web/node_modules/puppeteer-core ]; then
    echo "setup: npm ci in tests/web"
    (cd tests/web && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) ||
      echo "setup: npm ci failed: the browser test will be skipped"
  fi
  if [ ! -f pretrained/face-api/node_modules/@vladmandic/face-api/model/face_recognition_model.bin ]; then
    echo "setup: npm ci in pretrained/face-api"
    (cd pretrained/face-api && npm ci --no-audit --no-fund --loglevel=error) ||
      echo "setup: npm ci failed: facetrain --init face-api has no model (see README)"
  fi
}

packages=(
  build-essential cmake ccache pkg-config
  clang-format         # scripts/check_format.sh (CI)
  clang-14 libclang-rt-14-dev  # the libFuzzer targets (scripts/fuzz.sh, CI)
  libtorch-dev libgloo-dev libopencv-dev opencv-data libcli11-dev libspdlog-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev
  libtinyxml2-dev      # the imglab box files of the detection report
  libexif-dev          # photos' capture dates (faceenroll)
  libopenblas0-openmp   # LibTorch's dense layers run ~16x slower on Debian's reference BLAS
  python3-torch python3-numpy python3-opencv  # the reference PyTorch implementation of the benchmark
  libcpp-httplib-dev   # faceserve's HTTP server
  chromium             # faceserve's browser test (headless, driven by puppeteer-core)
)
command -v node > /dev/null || packages+=(nodejs npm)  # a Node.js already installed is kept
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  npm_packages
  exit 0
fi
echo "setup: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
npm_packages
