#!/usr/bin/env bash
# facetrain -> model bundle -> faceeval on a small real subset of LFW and an owner set:
# exit codes (docs/design.md §9) and outputs of the real binaries. Tiny training (seconds).
#   train_eval.sh BIN_DIR DATA_DIR
set -u
bin=$1 data=$2
source "$(dirname "$0")/check.sh"
scenario_start lfw owners/stads/anchor

# 12 LFW people with 4+ photos, 12 owner photos, 3 owner photos, an empty folder.
mkdir -p "$tmp/lfw" "$tmp/me" "$tmp/few" "$tmp/empty"
link_lfw "$tmp/lfw" 4 "${tiny_people[@]}"
link_photos "$tmp/me" "$data/owners/stads/anchor" 12
link_photos "$tmp/few" "$data/owners/stads/anchor" 3

tiny=(--arch koch-small --chip-size 80 --embedding-size 32 --epochs 1 --time-budget 0 --batch-people 4 --batch-photos 2
      --val-pairs 16 --val-fraction 0.3 --lr 1e-3 --references 4 --min-owner-tar 0 -q)
check empty_self 3 "^error: .*empty.*0 photo" -- "$bin/facetrain" --lfw "$tmp/lfw" --self "$tmp/empty" -o "$tmp/m0" --run-dir "$tmp/r0"
check too_few_self 3 "^error: .*few: 3 photo\(s\); facetrain needs at least 5" -- "$bin/facetrain" --lfw "$tmp/lfw" --self "$tmp/few" -o "$tmp/m0" --run-dir "$tmp/r0"
check missing_lfw 2 "^error: --lfw" -- "$bin/facetrain" --lfw "$tmp/nowhere" --self "$tmp/me"
check resume_without_run 2 "^error: --resume needs" -- "$bin/facetrain" --lfw "$tmp/lfw" --self "$tmp/me" --resume
check cuda_without_cuda 2 "^error: --device cuda" -- "$bin/facetrain" --lfw "$tmp/lfw" --self "$tmp/me" --device cuda -o "$tmp/m0" --run-dir "$tmp/r0" "${tiny[@]}"
check train 0 '"best_epoch": 1' -- "$bin/facetrain" --lfw "$tmp/lfw" --self "$tmp/me" -o "$tmp/model" --run-dir "$tmp/run" --json --fill-refs "$tmp/filled" "${tiny[@]}"
# Relative folders (as the README's commands give them) train the same way.
check train_relative_paths 0 '"best_epoch": 1' -- bash -c 'cd "$1" && shift && "$@"' _ "$tmp" "$(cd "$bin" && pwd)/facetrain" \
  --lfw lfw --self me -o model_rel --run-dir run_rel --json "${tiny[@]}"
# --fill-refs: the owner photos held out from training (30 % of 12), and only owner photos.
n=$(ls "$tmp/filled" 2>/dev/null | wc -l)
if [ "$n" -ge 3 ] && [ "$n" -le 4 ] && (for f in "$tmp/filled"/*; do [ -e "$tmp/me/$(basename "$f")" ] || exit 1; done)
then echo "ok   fill_refs ($n held-out owner photos)"; else echo "FAIL fill_refs: $n files in $tmp/filled"; fails=$((fails+1)); fi
for f in model.json; do [ -f "$tmp/model/$f" ] || { echo "FAIL bundle: no $f"; fails=$((fails+1)); }; done
for f in params.json metrics.csv metrics.jsonl curves.png train.log checkpoint.pt; do
  [ -s "$tmp/run/$f" ] || { echo "FAIL run folder: no $f"; fails=$((fails+1)); }
done
[ "$(wc -l < "$tmp/run/metrics.csv")" -eq 2 ] || { echo "FAIL metrics.csv: expected header + 1 epoch"; fails=$((fails+1)); }
# Weight decay: the resnet recipe's 0.05 by default, the Koch nets keep the 5e-4 they were measured with.
check weight_decay_default 0 "--weight-decay FLOAT=0.05 " -- "$bin/facetrain" --help
grep -q '"weight_decay": 0.0005' "$tmp/run/params.json" || { echo "FAIL koch weight decay: $(grep -o '"weight_decay": [^,]*' "$tmp/run/params.json")"; fails=$((fails+1)); }
# --dropout: the resnet's, recorded in the bundle; the Koch nets have none to set.
check dropout_koch 2 "^error: --dropout is the resnet's" -- "$bin/facetrain" --lfw "$tmp/lfw" --self "$tmp/me" -o "$tmp/m0" --run-dir "$tmp/r0" "${tiny[@]}" --dropout 0.3
check dropout_resnet 0 '"best_epoch": 1' -- "$bin/facetrain" --lfw "$tmp/lfw" --self "$tmp/me" -o "$tmp/model_do" --run-dir "$tmp/run_do" --json "${tiny[@]:2}" --arch resnet --dropout 0.5
grep -q '"dropout": 0.5' "$tmp/model_do/model.json" || { echo "FAIL resnet dropout: $(grep -o '"dropout": [^,]*' "$tmp/model_do/model.json")"; fails=$((fails+1)); }

# Ctrl-C during an epoch: checkpoint, exit 130; --resume finishes the run.
long=(--lfw "$tmp/lfw" --self "$tmp/me" -o "$tmp/model_int" --run-dir "$tmp/run_int" --arch koch-small --chip-size 80
      --embedding-size 32 --epochs 40 --time-budget 0 --batch-people 4 --batch-photos 2 --val-pairs 16
      --val-fraction 0.3 --references 4 --min-owner-tar 0)
"$bin/facetrain" "${long[@]}" > "$tmp/int.out" 2> "$tmp/int.err" &
pid=$!
for _ in $(seq 1 120); do grep -q "epoch 1/40" "$tmp/int.err" 2>/dev/null && break; sleep 0.5; done
sleep 1
kill -INT "$pid"
wait "$pid"; code=$?
if [ "$code" -eq 130 ] && [ -s "$tmp/run_int/checkpoint.pt" ]; then echo "ok   ctrl_c (exit 130, checkpoint written)"
else echo "FAIL ctrl_c: exit $code, run folder: $(ls "$tmp/run_int" 2>&1)"; tail -3 "$tmp/int.err"; fails=$((fails+1)); fi
check resume_after_ctrl_c 0 "resuming at epoch [0-9]+ step [0-9]+" -- "$bin/facetrain" "${long[@]}" --resume
[ -f "$tmp/model_int/model.json" ] || { echo "FAIL resume: no model"; fails=$((fails+1)); }
[ "$(grep -c "run folder" "$tmp/run_int/train.log")" -eq 2 ] || { echo "FAIL resume: train.log lost the first session"; fails=$((fails+1)); }

printf '2\nGeorge_W_Bush\t1\t2\nColin_Powell\t1\t3\nGeorge_W_Bush\t1\tColin_Powell\t2\nAriel_Sharon\t1\tHugo_Chavez\t2\n' > "$tmp/pairs.txt"
check eval_refuses_overlap 3 "were in the model's training set" -- "$bin/faceeval" pairs --model "$tmp/model" --lfw "$tmp/lfw" --pairs "$tmp/pairs.txt"
check eval 0 "accuracy \([0-9]+-fold" -- "$bin/faceeval" pairs --model "$tmp/model" --lfw "$tmp/lfw" --pairs "$tmp/pairs.txt" --allow-overlap --out "$tmp/eval" --write-scores "$tmp/scores.csv" -q
[ -s "$tmp/eval/roc.png" ] && [ -s "$tmp/eval/roc.csv" ] && [ -s "$tmp/eval/report.json" ] || { echo "FAIL eval files"; fails=$((fails+1)); }
check eval_scores 0 '"auc"' -- "$bin/faceeval" pairs --scores "$tmp/scores.csv" --pairs "$tmp/pairs.txt" --json
check eval_lbp 0 '"auc"' -- "$bin/faceeval" pairs --scorer lbp --lfw "$tmp/lfw" --pairs "$tmp/pairs.txt" --write-scores "$tmp/lbp.csv" --json -q
"$bin/faceeval" pairs --scorer lbp --lfw "$tmp/lfw" --pairs "$tmp/pairs.txt" --json -q > "$tmp/lbp1.json"
"$bin/faceeval" pairs --scores "$tmp/lbp.csv" --pairs "$tmp/pairs.txt" --json -q > "$tmp/lbp2.json"
if /usr/bin/python3 -c "import json, sys; a, b = (json.load(open(f))['report'] for f in sys.argv[1:]); assert a['auc'] == b['auc'] and a['fold_accuracy'] == b['fold_accuracy'], (a['auc'], b['auc'])" "$tmp/lbp1.json" "$tmp/lbp2.json"
then echo "ok   eval_lbp_scores_round_trip"; else echo "FAIL eval_lbp_scores_round_trip"; fails=$((fails+1)); fi
check eval_two_scorers 2 "^error: give one of --model" -- "$bin/faceeval" pairs --scorer lbp --model "$tmp/model" --lfw "$tmp/lfw" --pairs "$tmp/pairs.txt"
check eval_no_report 2 "^error: give one report" -- "$bin/faceeval" --model "$tmp/model"
# The subcommand's own argument; the report chosen by its flag alone still works, with a warning.
check eval_subcommand_argument 0 '"auc"' -- "$bin/faceeval" pairs "$tmp/pairs.txt" --scores "$tmp/scores.csv" --json
check eval_flag_deprecated 0 "warning: choosing the report by its flag is deprecated.*faceeval pairs" -- \
  "$bin/faceeval" --scores "$tmp/scores.csv" --pairs "$tmp/pairs.txt"
check eval_subcommand_without_input 2 "^error: faceeval owner needs its input" -- "$bin/faceeval" owner --model "$tmp/model"
check eval_subcommand_other_input 2 "^error: faceeval detect needs its input, and no other" -- \
  "$bin/faceeval" detect --pairs "$tmp/pairs.txt"
printf '2\nGeorge_W_Bush\t1\t2\nColin_Powell\t1\tx\n' > "$tmp/bad_pairs.txt"
check eval_bad_pairs 3 "^error: .*bad_pairs.txt:3: image index 'x'" -- "$bin/faceeval" pairs --scores "$tmp/scores.csv" --pairs "$tmp/bad_pairs.txt"
printf '1\nGeorge_W_Bush\t1\t99\nGeorge_W_Bush\t1\tColin_Powell\t2\n' > "$tmp/missing_image.txt"
check eval_missing_image 3 "^error: .*missing_image.txt:2: image .*George_W_Bush_0099.jpg not found" -- "$bin/faceeval" pairs --model "$tmp/model" --lfw "$tmp/lfw" --pairs "$tmp/missing_image.txt" --allow-overlap

# faceverify with the tiny model and 4 reference photos; --threshold/--ratio force the decisions.
mkdir -p "$tmp/refs" "$tmp/mixed" "$tmp/norefs"
for f in $(ls "$data/owners/stads/anchor" | sed -n 20,23p); do ln -s "$data/owners/stads/anchor/$f" "$tmp/refs/$f"; done
one=$(ls "$tmp/me" | head -1)
ln -s "$tmp/me/$one" "$tmp/mixed/$one"
printf 'text, not a JPEG' > "$tmp/mixed/broken.jpg"
/usr/bin/python3 - "$tmp" "$tmp/me/$one" <<'PY'  # a picture without a face; a 12-frame video of an owner photo
import sys, cv2, numpy as np
tmp, photo = sys.argv[1], cv2.imread(sys.argv[2])
sky = np.zeros((240, 320, 3), np.uint8)
for y in range(240): sky[y] = (230 - y // 2, 180 - y // 3, 120)
cv2.circle(sky, (250, 50), 25, (60, 220, 250), -1)
cv2.imwrite(tmp + "/landscape.png", sky)
video = cv2.VideoWriter(tmp + "/clip.avi", cv2.VideoWriter_fourcc(*"MJPG"), 10, (photo.shape[1], photo.shape[0]))
for i in range(12): video.write(np.roll(photo, i, axis=1))
video.release()
PY
frames() { /usr/bin/python3 -c "import cv2, sys; c = cv2.VideoCapture(sys.argv[1]); n = 0
while c.read()[0]: n += 1
print(n)" "$1"; }
verify=("$bin/faceverify" -m "$tmp/model" --refs "$tmp/refs")
check verify_owner 0 "me/$one: OWNER \(1 face" -- "${verify[@]}" "$tmp/me/$one" --threshold 0 --ratio 0 -o "$tmp/annotated.jpg"
[ -s "$tmp/annotated.jpg" ] || { echo "FAIL verify: no annotated picture"; fails=$((fails+1)); }
check verify_no_owner 1 "no owner \(1 face" -- "${verify[@]}" "$tmp/me/$one" --threshold 1
check verify_no_face 1 "landscape.png,no_persons_found" -- "${verify[@]}" "$tmp/landscape.png" --csv
check verify_folder_with_broken_file 3 "mixed/$one,owner,1.0000" -- "${verify[@]}" "$tmp/mixed" --csv --threshold 0 --ratio 0
check verify_folder_reports_broken_file 3 "skipped .*broken.jpg: not a decodable image" -- "${verify[@]}" "$tmp/mixed" -o "$tmp/mixed_out"
[ -s "$tmp/mixed_out/$one" ] || { echo "FAIL verify folder: no annotated $one"; fails=$((fails+1)); }
check verify_missing_refs 3 "^error: .*nowhere: references folder not found" -- "$bin/faceverify" -m "$tmp/model" --refs "$tmp/nowhere" "$tmp/me/$one"
check verify_empty_refs 3 "^error: .*norefs: no reference photos" -- "$bin/faceverify" -m "$tmp/model" --refs "$tmp/norefs" "$tmp/me/$one"
check verify_never_overwrites_input 2 "^error: .*refusing to overwrite the input" -- "${verify[@]}" "$tmp/me/$one" -o "$tmp/me/$one"
check verify_video 0 "clip.avi: OWNER \(12 frames, 4 verified" -- "${verify[@]}" "$tmp/clip.avi" -o "$tmp/clip_out.avi" --every 3 --threshold 0 --ratio 0
[ "$(frames "$tmp/clip_out.avi")" = 12 ] || { echo "FAIL verify video: $(frames "$tmp/clip_out.avi") frames written, expected 12"; fails=$((fails+1)); }
"${verify[@]}" "$tmp/me/$one" "$tmp/landscape.png" --threshold 0 --ratio 0 --json -q > "$tmp/verify.json"
if /usr/bin/python3 - "$tmp/verify.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["references"]["used"] == 4 and r["thresholds"] == {**r["thresholds"], "detection": 0.0, "ratio": 0.0}, r
assert r["thresholds"]["min_face"] >= 0 and r["thresholds"]["min_sharpness"] >= 0, r["thresholds"]
face = r["images"][0]["faces"][0]
assert len(face["box"]) == 4 and face["box"][2] > 0 and face["box"][3] > 0, face["box"]
assert len(face["landmarks"]) == 5 and all(len(p) == 2 for p in face["landmarks"])
assert 0 < face["score"] <= 1 and face["decision"] == "owner" and face["match_ratio"] == 1.0
assert len(face["scores"]) == 4 and all(0 <= s <= 1 for s in face["scores"])
assert face["best_score"] == max(face["scores"])
assert set(r["images"][0]["timings_ms"]) == {"decode", "detect", "align", "embed", "compare"}
assert r["images"][1]["faces"] == [] and r["images"][1]["owner_found"] is False
assert r["summary"] == {**r["summary"], "inputs": 2, "with_owner": 1, "faces": 1, "unreadable": 0}
PY
then echo "ok   verify_json_schema"; else echo "FAIL verify_json_schema"; fails=$((fails+1)); fi

# Owner report: the owner photos vs strangers; the people the model trained or validated on are left out.
mkdir -p "$tmp/others"
for person in Tony_Blair Vladimir_Putin Serena_Williams; do
  mkdir -p "$tmp/others/$person"
  for f in $(ls "$data/lfw/$person" | head -4); do ln -s "$data/lfw/$person/$f" "$tmp/others/$person/$f"; done
done
check eval_owner_refuses_seen_strangers 3 "^error: .*no stranger photos left" -- "$bin/faceeval" owner --model "$tmp/model" --refs "$tmp/refs" --owner "$tmp/me" --strangers "$tmp/lfw"
check eval_owner 0 "strangers +12 +12" -- "$bin/faceeval" owner --model "$tmp/model" --refs "$tmp/refs" --owner "$tmp/me" --strangers "$tmp/others" --out "$tmp/owner_eval"
for f in owner_report.json owner_scores.csv owner_histograms.png; do
  [ -s "$tmp/owner_eval/$f" ] || { echo "FAIL owner report: no $f"; fails=$((fails+1)); }
done
[ "$(grep -c ',stranger,' "$tmp/owner_eval/owner_scores.csv")" -eq 12 ] || { echo "FAIL owner_scores.csv: expected 12 strangers"; fails=$((fails+1)); }

weights=$(ls "$tmp/model"/weights-*.pt)
head -c 1000 "$weights" > "$tmp/w" && mv "$tmp/w" "$weights"
check eval_corrupt_model 4 "^error: .*weights-.*truncated" -- "$bin/faceeval" pairs --model "$tmp/model" --lfw "$tmp/lfw" --pairs "$tmp/pairs.txt" --allow-overlap
check verify_corrupt_model 4 "^error: .*weights-.*truncated" -- "${verify[@]}" "$tmp/me/$one"
check eval_no_model 4 "^error: .*no such model folder" -- "$bin/faceeval" pairs --model "$tmp/nothing" --lfw "$tmp/lfw" --pairs "$tmp/pairs.txt"

echo "$((fails == 0 ? 1 : 0)) passed, $fails failed"
[ "$fails" -eq 0 ]
