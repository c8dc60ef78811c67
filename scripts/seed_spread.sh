#!/usr/bin/env bash
# The default recipe, trained once per seed, each model measured the same way: LFW DevTest
# (10-fold; people never trained on) and the calibrated owner rule on the held-out owner photos
# (from model.json), and that rule with the run's own held-out owner photos as references on the
# owner's other session (owners/stads/positive) against every face of the pairsDevTest people.
# Prints one row per seed and min / mean / max. Each seed costs the training's time budget (30 min
# by default) plus ~2 min.
#   scripts/seed_spread.sh SEED...      (build first: scripts/build.sh; data: $FACEID_DATA)
# TIME_BUDGET (minutes) shortens each training; extra facetrain flags go in FACETRAIN_FLAGS; TAG names
# the set (models/seed<SEED>_<TAG>, runs/seeds_<TAG>); FACEID_BIN runs other binaries than build/bin.
set -euo pipefail
cd "$(dirname "$0")/.."
export FACEID_DATA=${FACEID_DATA:-$(cd .. && pwd)/shared/data}
data=$FACEID_DATA
bin=${FACEID_BIN:-build/bin}
out=runs/seeds${TAG:+_$TAG}
mkdir -p "$out"
[ $# -gt 0 ] || { echo "usage: scripts/seed_spread.sh SEED..." >&2; exit 2; }
for seed in "$@"; do
  model=models/seed$seed${TAG:+_$TAG}
  if [ ! -f "$model/model.json" ]; then
    # Exit 1 (an unusable model) is a result to report here, not a reason to stop.
    $bin/facetrain --lfw "$data/lfw" --self "$data/owners/stads/anchor" \
      --exclude-pairs "$data/lfw_pairs/pairsDevTest.txt" -o "$model" --run-dir "$out/train_$seed" --seed "$seed" \
      --fill-refs "$out/refs_$seed" ${TIME_BUDGET:+--time-budget "$TIME_BUDGET"} ${FACETRAIN_FLAGS:-} -q \
      > "$out/facetrain_$seed.txt" || [ $? -eq 1 ]
  fi
  $bin/faceeval --model "$model" --lfw "$data/lfw" --pairs "$data/lfw_pairs/pairsDevTest.txt" --json -q \
    > "$out/devtest_$seed.json"
  $bin/faceeval --model "$model" --refs "$out/refs_$seed" --owner "$data/owners/stads/positive" --strangers "$data/lfw" \
    --strangers-pairs "$data/lfw_pairs/pairsDevTest.txt" --max-strangers 100000 --json -q > "$out/owner_$seed.json"
done
/usr/bin/python3 - "$out" "${TAG:+_$TAG}" "$@" <<'PY'
import json, sys
out, tag, seeds = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = []
for s in seeds:
    r = json.load(open(f"{out}/devtest_{s}.json"))["report"]
    m = json.load(open(f"models/seed{s}{tag}/model.json"))
    cal = m["thresholds"]["calibration"]
    o = json.load(open(f"{out}/owner_{s}.json"))
    rows.append((s, r["accuracy_mean"], r["auc"], cal.get("tar", float("nan")), cal.get("far", float("nan")),
                 o["tar"], f'{o["owner_accepted"]}/{o["owner_faces"]}', f'{o["strangers_accepted"]}/{o["stranger_faces"]}',
                 m["training"]["train_seconds"] / 60))
print(f"{'seed':>6} {'DevTest acc':>12} {'AUC':>7} {'owner TAR':>10} {'at FAR':>8} {'other session':>14} {'strangers':>10} {'minutes':>8}")
for s, acc, auc, tar, far, other, owner, strangers, minutes in rows:
    print(f"{s:>6} {acc:>12.4f} {auc:>7.4f} {tar:>10.3f} {far:>8.4f} {owner:>14} {strangers:>10} {minutes:>8.1f}")
for name, i in (("accuracy", 1), ("owner TAR (held-out photos)", 3), ("owner TAR (other session)", 5)):
    v = [r[i] for r in rows]
    print(f"{name}: min {min(v):.4f} / mean {sum(v) / len(v):.4f} / max {max(v):.4f} over {len(v)} seed(s)")
PY
