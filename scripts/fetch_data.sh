#!/usr/bin/env bash
# For users with internet: downloads LFW (deep-funneled), its pair lists and the YuNet detector
# into DEST (default: data/), verifying checksums. Never run by the tests.
set -euo pipefail
dest="${1:-$(dirname "$0")/../data}"
mkdir -p "$dest/lfw_pairs" "$dest/models"
cd "$dest"

fetch() {  # url file md5|sha256 sum
  local url=$1 file=$2 kind=$3 sum=$4
  if [ ! -f "$file" ]; then curl -fL --retry 3 -o "$file.part" "$url" && mv "$file.part" "$file"; fi
  echo "$sum  $file" | "${kind}sum" -c -
}

lfw=https://vis-www.cs.umass.edu/lfw
fetch "$lfw/lfw-deepfunneled.tgz" lfw-deepfunneled.tgz md5 68331da3eb755a505a502b5aacb3c201
fetch "$lfw/pairs.txt" lfw_pairs/pairs.txt md5 9f1ba174e4e1c508ff7cdf10ac338a7d
fetch "$lfw/pairsDevTrain.txt" lfw_pairs/pairsDevTrain.txt md5 4f27cbf15b2da4a85c1907eb4181ad21
fetch "$lfw/pairsDevTest.txt" lfw_pairs/pairsDevTest.txt md5 5132f7440eb68cf58910c8a45a2ac10b
fetch https://github.com/opencv/opencv_zoo/raw/4563a91ba7/models/face_detection_yunet/face_detection_yunet_2022mar.onnx \
  models/face_detection_yunet_2022mar.onnx sha256 50ef07f702a31741ca46a4c0d947773b64143b9362780237bf0d427d6c79bab7
if [ ! -d lfw ]; then tar xzf lfw-deepfunneled.tgz && mv lfw-deepfunneled lfw; fi
echo "data ready in $(pwd): export FACEID_DATA=$(pwd)"
