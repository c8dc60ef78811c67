#!/usr/bin/env bash
# The tests that matter to users, for one model bundle, on the shared data (the main job's steps
# 4, 6 and 7; also run on each recipe and seed of docs/pretrained.md):
#   - LFW View 1: pairsDevTest, threshold from pairsDevTrain and by 10-fold CV (with the protocol);
#   - the owner's two capture sessions of owners/stads/positive (scripts/split_sessions.py: the same
#     evening as the training photos, and a new day) vs every face of the pairsDevTest people,
#     references REFS (default verification_data);
#   - a person the model never trained on (owners/oshoura): 25 photos as references, 25 probes,
#     the same strangers.
# Each owner report fits the rule to its references for --target-far 0.001 on the bundle's held-out
# strangers, and reports what that rule accepts, and TAR at FAR <= 0.001 chosen on the (disjoint)
# pairsDevTest strangers themselves (optimistic: the ceiling).
#   scripts/evaluate_model.sh MODEL OUT [REFS]     -> OUT/*.txt, OUT/*/ and OUT/summary.md
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:?usage: scripts/evaluate_model.sh MODEL OUT [REFS]}
out=${2:?usage: scripts/evaluate_model.sh MODEL OUT [REFS]}
refs=${3:-verification_data}
data=${FACEID_DATA:-$(cd .. && pwd)/shared/data}
bin=build/bin
pairs=$data/lfw_pairs/pairsDevTest.txt
mkdir -p "$out"

echo "== LFW View 1 (pairsDevTest; threshold from pairsDevTrain and 10-fold CV)"
$bin/faceeval pairs --model "$model" --lfw "$data/lfw" --pairs "$pairs" \
  --threshold-pairs "$data/lfw_pairs/pairsDevTrain.txt" --out "$out/eval_devtest" | tee "$out/faceeval.txt"

echo "== owner report per capture session vs the pairsDevTest people (never trained on)"
rm -rf "$out/sessions"
python3 scripts/split_sessions.py "$data/owners/stads/positive" "$out/sessions"
for s in "$out"/sessions/*/; do
  name=$(basename "$s")
  echo "-- session $name"
  $bin/faceeval owner --model "$model" --refs "$refs" --owner "$s" --strangers "$data/lfw" --strangers-pairs "$pairs" \
    --max-strangers 100000 --out "$out/owner_$name" | tee "$out/owner_report_$name.txt"
done

echo "== a person the model never trained on: owners/oshoura, 25 references, 25 probes"
rm -rf "$out/oshoura_refs" "$out/oshoura_probes"
mkdir -p "$out/oshoura_refs" "$out/oshoura_probes"
i=0
for f in "$data"/owners/oshoura/*; do
  if [ $((i % 2)) -eq 0 ]; then ln -s "$f" "$out/oshoura_refs/"; else ln -s "$f" "$out/oshoura_probes/"; fi
  i=$((i + 1))
done
$bin/faceeval owner --model "$model" --refs "$out/oshoura_refs" --owner "$out/oshoura_probes" --strangers "$data/lfw" \
  --strangers-pairs "$pairs" --max-strangers 100000 --out "$out/oshoura" | tee "$out/oshoura_report.txt"

python3 - "$model" "$out" > "$out/summary.md" <<'PY'
import glob, json, os, sys
model, out = sys.argv[1], sys.argv[2]
dev = json.load(open(os.path.join(out, "eval_devtest", "report.json")))
r = dev["report"]
owners = [p for p in sorted(glob.glob(os.path.join(out, "owner_*"))) if os.path.isdir(p)]
owners.append(os.path.join(out, "oshoura"))
def owner(path):
    rep = json.load(open(os.path.join(path, "owner_report.json")))
    s, n_o, n_s = rep["systems"][0], rep["owner_faces"], rep["stranger_faces"]
    f = s["for_target_far"]
    return (f"{s['owner_accepted']}/{n_o} (FAR {s['strangers_accepted']}/{n_s}); "
            f"{f['owner_accepted']}/{n_o} at FAR <= 0.001")
head = ["model", "LFW protocol", "DevTest 10-fold", "DevTest, DevTrain threshold", "AUC"]
head += ["owner " + os.path.basename(p)[len("owner_"):] for p in owners[:-1]] + ["oshoura 25/25"]
row = [model, dev.get("protocol", "?"), f"{r['accuracy_mean']:.3f} ± {r['accuracy_std']:.3f}",
       f"{r.get('fixed_threshold_accuracy', float('nan')):.3f}", f"{r['auc']:.3f}"] + [owner(p) for p in owners]
print("| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
print("| " + " | ".join(row) + " |")
PY
cat "$out/summary.md"
