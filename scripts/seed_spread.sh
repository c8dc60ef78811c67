#!/usr/bin/env bash
# The default recipe, trained once per seed, each model measured the same way: LFW DevTest
# (10-fold; people never trained on) and the calibrated owner rule on the held-out owner photos
# (from model.json), and that rule with the run's own held-out owner photos as references on each
# capture session of owners/stads/positive (minutes after the training photos; three days later)
# against every face of the pairsDevTest people.
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
rm -rf "$out/sessions"
python3 scripts/split_sessions.py "$data/owners/stads/positive" "$out/sessions" > /dev/null
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
  $bin/faceeval pairs --model "$model" --lfw "$data/lfw" --pairs "$data/lfw_pairs/pairsDevTest.txt" --json -q \
    > "$out/devtest_$seed.json"
  for sess in "$out"/sessions/*/; do
    $bin/faceeval owner --model "$model" --refs "$out/refs_$seed" --owner "$sess" --strangers "$data/lfw" \
      --strangers-pairs "$data/lfw_pairs/pairsDevTest.txt" --max-strangers 100000 --json -q \
      > "$out/owner_${seed}_$(basename "$sess").json"
  done
done
/usr/bin/python3 - "$out" "${TAG:+_$TAG}" "$@" <<'PY'
import json, os, sys
out, tag, seeds = sys.argv[1], sys.argv[2], sys.argv[3:]
sessions = sorted(os.listdir(f"{out}/sessions"))
rows = []
for s in seeds:
    r = json.load(open(f"{out}/devtest_{s}.json"))["report"]
    m = json.load(open(f"models/seed{s}{tag}/model.json"))
    cal = m["thresholds"]["calibration"]
    owner = [json.load(open(f"{out}/owner_{s}_{name}.json")) for name in sessions]
    rows.append((s, r["accuracy_mean"], r["auc"], cal.get("tar", float("nan")), cal.get("far", float("nan")),
                 [o["tar"] for o in owner], [f'{o["owner_accepted"]}/{o["owner_faces"]}' for o in owner],
                 [o["for_target_far"]["tar"] for o in owner], f'{owner[0]["strangers_accepted"]}/{owner[0]["stranger_faces"]}',
                 m["training"]["train_seconds"] / 60))
print("owner sessions (owners/stads/positive by capture time): " + ", ".join(sessions))
print("per session: photos accepted by the calibrated rule [best TAR at FAR <= 0.001 on these faces]")
print(f"{'seed':>6} {'DevTest acc':>12} {'AUC':>7} {'held-out TAR':>12} {'at FAR':>8} " +
      " ".join(f"{n:>24}" for n in sessions) + f" {'strangers':>10} {'minutes':>8}")
for s, acc, auc, tar, far, _, owner, best, strangers, minutes in rows:
    cells = " ".join(f"{f'{o} [{b:.2f}]':>24}" for o, b in zip(owner, best))
    print(f"{s:>6} {acc:>12.4f} {auc:>7.4f} {tar:>12.3f} {far:>8.4f} {cells} {strangers:>10} {minutes:>8.1f}")
def spread(name, v):
    print(f"{name}: min {min(v):.4f} / mean {sum(v) / len(v):.4f} / max {max(v):.4f} over {len(v)} seed(s)")
spread("accuracy", [r[1] for r in rows])
spread("owner TAR (held-out photos)", [r[3] for r in rows])
for i, name in enumerate(sessions):
    spread(f"owner TAR (session {name})", [r[5][i] for r in rows])
PY
