#!/usr/bin/env bash
# The pretrained start measured (docs/pretrained.md): for each way of training from the face-api
# descriptor (facetrain --init face-api --train-layers head|last|all) and each seed, a model trained
# on LFW (pairsDevTest people left out) + owners/stads/anchor, then scripts/evaluate_model.sh on it:
# DevTest 10-fold, the owner's same evening and new day, oshoura 25/25, each against every face of
# the pairsDevTest people. Fine-tuning runs get MINUTES of training (default 5) at learning rate LR.
#   [SEEDS="1 2 3"] [MINUTES=5] [LR=1e-4] scripts/pretrained_report.sh OUT [VARIANT...]
# Writes OUT/<variant>_s<seed>/{model,run,refs,eval} and OUT/summary.md (one row per run).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/pretrained_report.sh OUT [VARIANT...]}
shift
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(head last all)
data=${FACEID_DATA:-$(cd .. && pwd)/shared/data}
mkdir -p "$out"
for variant in "${variants[@]}"; do
  for seed in ${SEEDS:-1 2 3}; do
    dir=$out/${variant}_s$seed
    rm -rf "$dir"
    mkdir -p "$dir"
    budget=()
    [ "$variant" = head ] || budget=(--time-budget "${MINUTES:-5}" --lr "${LR:-1e-4}")
    build/bin/facetrain --init face-api --train-layers "$variant" "${budget[@]}" --seed "$seed" \
      --lfw "$data/lfw" --self "$data/owners/stads/anchor" --exclude-pairs "$data/lfw_pairs/pairsDevTest.txt" \
      -o "$dir/model" --run-dir "$dir/run" --fill-refs "$dir/refs" 2>&1 | tee "$dir/facetrain.txt"
    bash scripts/evaluate_model.sh "$dir/model" "$dir/eval" "$dir/refs" > "$dir/evaluate.txt" 2>&1
    tail -n 1 "$dir/eval/summary.md" | sed "s#^| $dir/model #| ${variant}, seed ${seed} #" >> "$out/rows.md"
  done
done
{ head -n 2 "$(ls "$out"/*/eval/summary.md | head -1)"; cat "$out/rows.md"; } > "$out/summary.md"
cat "$out/summary.md"
