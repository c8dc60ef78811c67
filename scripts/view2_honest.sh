#!/usr/bin/env bash
# An honest LFW View 2 for a learned model. View 2's 10 folds are people-disjoint; leaving all
# 4,281 of its people out of training leaves too few LFW identities to learn from, so: split the
# folds in two halves (1-5, 6-10), train one model per half with that half's people left out
# (otherwise the main job's training command: the default recipe), score each half with the model
# that never saw its people, and run the 10-fold protocol on the combined scores file. About
# 2 x 32 min on 2 cores; TIME_BUDGET (minutes) shortens each training, extra arguments go to facetrain.
#   scripts/view2_honest.sh [FACETRAIN FLAGS…]   (build first: scripts/build.sh; data: $FACEID_DATA)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${FACEID_DATA:-$(cd .. && pwd)/shared/data}
bin=build/bin
out=runs/view2_honest
mkdir -p "$out"
pairs=$data/lfw_pairs/pairs.txt
(printf '5\t300\n'; sed -n 2,3001p "$pairs") > "$out/folds1-5.txt"
(printf '5\t300\n'; sed -n 3002,6001p "$pairs") > "$out/folds6-10.txt"
for half in 1-5 6-10; do
  model=models/view2_folds$half
  if [ ! -f "$model/model.json" ]; then
    $bin/facetrain --lfw "$data/lfw" --self "$data/owners/stads/anchor" --exclude-pairs "$out/folds$half.txt" \
      -o "$model" --run-dir "$out/train_$half" ${TIME_BUDGET:+--time-budget "$TIME_BUDGET"} "$@" \
      | tee "$out/facetrain_$half.txt"
  fi
  $bin/faceeval pairs --model "$model" --lfw "$data/lfw" --pairs "$out/folds$half.txt" \
    --write-scores "$out/scores_$half.csv" --out "$out/eval_$half" | tee "$out/eval_$half.txt"
done
(cat "$out/scores_1-5.csv"; tail -n +2 "$out/scores_6-10.csv") > "$out/scores.csv"
$bin/faceeval pairs --scores "$out/scores.csv" --pairs "$pairs" --out "$out/eval_view2" | tee "$out/view2.txt"
