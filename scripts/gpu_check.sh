#!/usr/bin/env bash
# The GPU check, one prepared run on a CUDA machine (docs/gpu.md): builds the no-OpenCV facetrain
# against that machine's LibTorch (a pip PyTorch's, or LIBTORCH=/path/to/libtorch), trains the
# from-scratch recipe for MINUTES on the GPU while nvidia-smi samples the GPU's use, and writes the
# bundle, the run folder and a summary to OUT for scoring on any machine (faceeval on a CPU).
#   FACEID_DATA=DIR FACEID_CACHE=DIR OUT=DIR PRECISION=fp32|bf16 scripts/gpu_check.sh [MINUTES]
# FACEID_CACHE: the face caches filled where OpenCV is (faceprep), for the same photo paths.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-3}
data=${FACEID_DATA:-$(cd .. && pwd)/shared/data}
out=${OUT:-runs/gpu_check}
mkdir -p "$out"
prefix=${LIBTORCH:-$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')}
# Data-parallel training needs the headers of the Gloo that LibTorch was built with: off here.
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DFACEID_BUILD_VISION=OFF -DFACEID_BUILD_TESTS=OFF \
  -DCMAKE_PREFIX_PATH="$prefix" -DGLOO_INCLUDE_DIR=OFF > "$out/cmake.txt"
cmake --build build-gpu -j "$(nproc)" --target facetrain > "$out/build.txt"
nvidia-smi --query-gpu=name,utilization.gpu,memory.used --format=csv,noheader,nounits -l 5 \
  > "$out/nvidia-smi.csv" &
smi=$!
trap 'kill $smi 2>/dev/null || true' EXIT
build-gpu/bin/facetrain --init none --device cuda --precision "${PRECISION:-fp32}" \
  --time-budget "$minutes" --lfw "$data/lfw" --self "$data/owners/stads/anchor" \
  --exclude-pairs "$data/lfw_pairs/pairsDevTest.txt" ${FACEID_CACHE:+--cache-dir "$FACEID_CACHE"} \
  -o "$out/model" --run-dir "$out/run" 2> "$out/facetrain.log"
kill $smi
python3 - "$out" <<'PY'
import csv, json, sys
out = sys.argv[1]
epochs = [json.loads(line) for line in open(f"{out}/run/metrics.jsonl")]
use = [float(r[1]) for r in csv.reader(open(f"{out}/nvidia-smi.csv")) if len(r) == 3]
mem = [float(r[2]) for r in csv.reader(open(f"{out}/nvidia-smi.csv")) if len(r) == 3]
name = next(csv.reader(open(f"{out}/nvidia-smi.csv")))[0]
summary = {"gpu": name, "epochs": len(epochs),
           "images_per_second": [round(e["images_per_second"]) for e in epochs],
           "data_wait_share": [round(e.get("data_wait_share", 0), 3) for e in epochs],
           "gpu_busy_percent_mean": round(sum(use) / max(1, len(use)), 1),
           "gpu_memory_mb_max": max(mem, default=0),
           "best_val_auc": max(e["val_auc"] for e in epochs)}
json.dump(summary, open(f"{out}/summary.json", "w"), indent=2)
print(json.dumps(summary))
PY
