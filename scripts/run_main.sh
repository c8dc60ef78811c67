#!/usr/bin/env bash
# The main job on a fresh machine: set-up, build, then a real run on real data —
#   1. detect and align all of LFW and the owner's photos into the face cache (faceprep),
#   2. score the detectors against the hand-drawn boxes of scenes/dlib (facedetect),
#   3. train the owner's model with the LFW people of pairsDevTest left out (facetrain); the owner
#      photos held out from training become faceverify's references (verification_data/),
#   4. evaluate it on LFW View 1 (faceeval: pairsDevTest, threshold from pairsDevTrain),
#   5. find the owner in the other session's photos and in group photos (faceverify),
#   6. owner report: that session vs 1,000 faces of LFW people the model never saw (faceeval),
#   7. the classical baseline on LFW View 2: LBP scores file -> the same report (faceeval).
# Everything lands in runs/main/, models/stads/ and verification_data/. About 50 minutes on 2 cores.
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
  --fill-refs verification_data | tee "$out/facetrain.txt"

echo "== 4. LFW View 1 (pairsDevTest; threshold from pairsDevTrain and 10-fold CV)"
$bin/faceeval --model models/stads --lfw "$data/lfw" --pairs "$data/lfw_pairs/pairsDevTest.txt" \
  --threshold-pairs "$data/lfw_pairs/pairsDevTrain.txt" --out "$out/eval_devtest" | tee "$out/faceeval.txt"

# faceverify's exit code 1 means "no owner found": an answer, not a failure.
verify() { $bin/faceverify --model models/stads "$@" || [ $? -eq 1 ]; }
echo "== 5. faceverify: the owner's other session, group photos, someone else"
verify "$data/owners/stads/positive" --csv -q > "$out/verify_positive.csv"
echo "owner verified in $(grep -c ',owner,' "$out/verify_positive.csv") of $(ls "$data/owners/stads/positive" | wc -l) photos of the other session"
verify "$data/scenes/faceapi/bbt1.jpg" "$data/scenes/dlib/bald_guys.jpg" "$data/owners/stads/impostors" \
  "$(ls -d "$data"/owners/stads/positive/* | head -1)" -o "$out/verified"

echo "== 6. owner report: other session vs LFW people never seen in training"
$bin/faceeval --model models/stads --owner "$data/owners/stads/positive" --strangers "$data/lfw" \
  --strangers-pairs "$data/lfw_pairs/pairsDevTest.txt" --out "$out/owner" | tee "$out/owner_report.txt"

echo "== 7. LFW View 2 for the LBP baseline, as a scores file"
$bin/faceeval --scorer lbp --lfw "$data/lfw" --pairs "$data/lfw_pairs/pairs.txt" \
  --write-scores "$out/lbp_view2_scores.csv" -q > /dev/null
$bin/faceeval --scores "$out/lbp_view2_scores.csv" --pairs "$data/lfw_pairs/pairs.txt" --out "$out/eval_lbp_view2" \
  | tee "$out/lbp_view2.txt"
echo "done: see $out/ (curves: $out/train/curves.png, ROC: $out/eval_devtest/roc.png, pictures: $out/verified/," \
  "histograms: $out/owner/owner_histograms.png)"
