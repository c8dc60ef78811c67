#!/usr/bin/env bash
# The main job on a fresh machine: set-up, build, then a real run on real data —
#   1. detect and align all of LFW and the owner's photos into the face cache (faceprep),
#   2. score the detectors against the hand-drawn boxes of scenes/dlib (facedetect),
#   3. train the owner's model with the LFW people of pairsDevTest left out (facetrain),
#   4. evaluate it on LFW View 1 (faceeval: pairsDevTest, threshold from pairsDevTrain).
# Everything lands in runs/main/ and models/stads/. Takes about 45 minutes on 2 cores.
# FACEID_DATA (default ../shared/data) points at the data; EPOCHS shortens the training.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
export FACEID_DATA="${FACEID_DATA:-$(cd .. && pwd)/shared/data}"
data=$FACEID_DATA
out=runs/main
mkdir -p "$out"
bin=build/bin

echo "== 1. face cache: LFW + owner photos"
$bin/faceprep --lfw "$data/lfw" --self "$data/owners/stads/anchor" --preview "$out/lfw_chips.png" | tee "$out/faceprep.txt"

echo "== 2. detectors vs hand-drawn boxes"
$bin/facedetect --boxes "$data/scenes/dlib/training.xml" --detector all | tee "$out/detection.txt"
$bin/facedetect "$data/scenes/faceapi/bbt1.jpg" -o "$out/bbt1_faces.png"

echo "== 3. train (LFW people of pairsDevTest excluded)"
$bin/facetrain --lfw "$data/lfw" --self "$data/owners/stads/anchor" \
  --exclude-pairs "$data/lfw_pairs/pairsDevTest.txt" -o models/stads --run-dir "$out/train" \
  --arch koch-small --epochs "${EPOCHS:-11}" --identity-pairs 6000 --owner-pairs 1000 --lr 2e-4 --patience 4 \
  | tee "$out/facetrain.txt"

echo "== 4. LFW View 1 (pairsDevTest; threshold from pairsDevTrain and 10-fold CV)"
$bin/faceeval --model models/stads --lfw "$data/lfw" --pairs "$data/lfw_pairs/pairsDevTest.txt" \
  --threshold-pairs "$data/lfw_pairs/pairsDevTrain.txt" --out "$out/eval_devtest" | tee "$out/faceeval.txt"
echo "done: see $out/ (curves: $out/train/curves.png, ROC: $out/eval_devtest/roc.png)"
