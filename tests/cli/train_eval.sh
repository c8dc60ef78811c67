#!/usr/bin/env bash
# facetrain -> model bundle -> faceeval on a small real subset of LFW and an owner set:
# exit codes (DESIGN.md §9) and outputs of the real binaries. Tiny training (seconds).
#   train_eval.sh BIN_DIR DATA_DIR
set -u
bin=$1 data=$2
if [ ! -d "$data/lfw" ] || [ ! -d "$data/owners/stads/anchor" ]; then
  echo "SKIP: shared data not found under $data (set FACEID_DATA)"; exit 77
fi
data=$(cd "$data" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export FACEID_CACHE=$tmp/cache
fails=0
check() {  # check NAME EXPECTED_CODE REGEX -- command...
  local name=$1 code=$2 regex=$3; shift 4
  local out; out=$("$@" 2>&1); local got=$?
  if [ "$got" -ne "$code" ]; then echo "FAIL $name: exit $got, expected $code"; printf '%s\n' "$out" | tail -5; fails=$((fails+1)); return; fi
  if [ -n "$regex" ] && ! printf '%s' "$out" | grep -Eq -- "$regex"; then
    echo "FAIL $name: output does not match /$regex/"; printf '%s\n' "$out" | tail -5; fails=$((fails+1)); return; fi
  echo "ok   $name (exit $got)"
}

# 12 LFW people with 4+ photos, 12 owner photos, 3 owner photos, an empty folder.
mkdir -p "$tmp/lfw" "$tmp/me" "$tmp/few" "$tmp/empty"
for person in Abdullah_Gul Alejandro_Toledo Ariel_Sharon Arnold_Schwarzenegger Colin_Powell David_Beckham \
              Donald_Rumsfeld George_W_Bush Gerhard_Schroeder Hugo_Chavez Jacques_Chirac Jean_Chretien; do
  mkdir -p "$tmp/lfw/$person"
  for f in $(ls "$data/lfw/$person" | head -4); do ln -s "$data/lfw/$person/$f" "$tmp/lfw/$person/$f"; done
done
for f in $(ls "$data/owners/stads/anchor" | head -12); do ln -s "$data/owners/stads/anchor/$f" "$tmp/me/$f"; done
for f in $(ls "$data/owners/stads/anchor" | head -3); do ln -s "$data/owners/stads/anchor/$f" "$tmp/few/$f"; done

tiny=(--arch koch-small --chip-size 80 --embedding-size 32 --epochs 1 --identity-pairs 32 --owner-pairs 16
      --val-pairs 16 --batch-size 16 --val-fraction 0.3 --lr 1e-3 --references 4 -q)
check empty_self 3 "^error: .*empty.*0 photo" -- "$bin/facetrain" --lfw "$tmp/lfw" --self "$tmp/empty" -o "$tmp/m0" --run-dir "$tmp/r0"
check too_few_self 3 "^error: .*few: 3 photo\(s\); facetrain needs at least 5" -- "$bin/facetrain" --lfw "$tmp/lfw" --self "$tmp/few" -o "$tmp/m0" --run-dir "$tmp/r0"
check missing_lfw 2 "^error: --lfw" -- "$bin/facetrain" --lfw "$tmp/nowhere" --self "$tmp/me"
check resume_without_run 2 "^error: --resume needs" -- "$bin/facetrain" --lfw "$tmp/lfw" --self "$tmp/me" --resume
check cuda_without_cuda 2 "^error: --device cuda" -- "$bin/facetrain" --lfw "$tmp/lfw" --self "$tmp/me" --device cuda -o "$tmp/m0" --run-dir "$tmp/r0" "${tiny[@]}"
check train 0 '"best_epoch": 1' -- "$bin/facetrain" --lfw "$tmp/lfw" --self "$tmp/me" -o "$tmp/model" --run-dir "$tmp/run" --json "${tiny[@]}"
for f in model.json; do [ -f "$tmp/model/$f" ] || { echo "FAIL bundle: no $f"; fails=$((fails+1)); }; done
for f in params.json metrics.csv metrics.jsonl curves.png train.log checkpoint.pt; do
  [ -s "$tmp/run/$f" ] || { echo "FAIL run folder: no $f"; fails=$((fails+1)); }
done
[ "$(wc -l < "$tmp/run/metrics.csv")" -eq 2 ] || { echo "FAIL metrics.csv: expected header + 1 epoch"; fails=$((fails+1)); }

# Ctrl-C during an epoch: checkpoint, exit 130; --resume finishes the run.
long=(--lfw "$tmp/lfw" --self "$tmp/me" -o "$tmp/model_int" --run-dir "$tmp/run_int" --arch koch-small --chip-size 80
      --embedding-size 32 --epochs 1 --identity-pairs 1500 --owner-pairs 16 --val-pairs 16 --batch-size 16
      --val-fraction 0.3 --references 4)
"$bin/facetrain" "${long[@]}" > "$tmp/int.out" 2> "$tmp/int.err" &
pid=$!
for _ in $(seq 1 120); do grep -q "epoch 1/1" "$tmp/int.err" 2>/dev/null && break; sleep 0.5; done
sleep 1
kill -INT "$pid"
wait "$pid"; code=$?
if [ "$code" -eq 130 ] && [ -s "$tmp/run_int/checkpoint.pt" ]; then echo "ok   ctrl_c (exit 130, checkpoint written)"
else echo "FAIL ctrl_c: exit $code, run folder: $(ls "$tmp/run_int" 2>&1)"; tail -3 "$tmp/int.err"; fails=$((fails+1)); fi
check resume_after_ctrl_c 0 "resuming at epoch 1 batch [1-9]" -- "$bin/facetrain" "${long[@]}" --resume
[ -f "$tmp/model_int/model.json" ] || { echo "FAIL resume: no model"; fails=$((fails+1)); }

printf '2\nGeorge_W_Bush\t1\t2\nColin_Powell\t1\t3\nGeorge_W_Bush\t1\tColin_Powell\t2\nAriel_Sharon\t1\tHugo_Chavez\t2\n' > "$tmp/pairs.txt"
check eval_refuses_overlap 3 "were in the model's training set" -- "$bin/faceeval" --model "$tmp/model" --lfw "$tmp/lfw" --pairs "$tmp/pairs.txt"
check eval 0 "accuracy \([0-9]+-fold" -- "$bin/faceeval" --model "$tmp/model" --lfw "$tmp/lfw" --pairs "$tmp/pairs.txt" --allow-overlap --out "$tmp/eval" --write-scores "$tmp/scores.csv" -q
[ -s "$tmp/eval/roc.png" ] && [ -s "$tmp/eval/roc.csv" ] && [ -s "$tmp/eval/report.json" ] || { echo "FAIL eval files"; fails=$((fails+1)); }
check eval_scores 0 '"auc"' -- "$bin/faceeval" --scores "$tmp/scores.csv" --pairs "$tmp/pairs.txt" --json
printf '2\nGeorge_W_Bush\t1\t2\nColin_Powell\t1\tx\n' > "$tmp/bad_pairs.txt"
check eval_bad_pairs 3 "^error: .*bad_pairs.txt:3: image index 'x'" -- "$bin/faceeval" --scores "$tmp/scores.csv" --pairs "$tmp/bad_pairs.txt"
printf '1\nGeorge_W_Bush\t1\t99\nGeorge_W_Bush\t1\tColin_Powell\t2\n' > "$tmp/missing_image.txt"
check eval_missing_image 3 "^error: .*missing_image.txt:2: image .*George_W_Bush_0099.jpg not found" -- "$bin/faceeval" --model "$tmp/model" --lfw "$tmp/lfw" --pairs "$tmp/missing_image.txt" --allow-overlap
weights=$(ls "$tmp/model"/weights-*.pt)
head -c 1000 "$weights" > "$tmp/w" && mv "$tmp/w" "$weights"
check eval_corrupt_model 4 "^error: .*weights-.*truncated" -- "$bin/faceeval" --model "$tmp/model" --lfw "$tmp/lfw" --pairs "$tmp/pairs.txt" --allow-overlap
check eval_no_model 4 "^error: .*no such model folder" -- "$bin/faceeval" --model "$tmp/nothing" --lfw "$tmp/lfw" --pairs "$tmp/pairs.txt"

echo "$((fails == 0 ? 1 : 0)) passed, $fails failed"
[ "$fails" -eq 0 ]
