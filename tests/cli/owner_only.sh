#!/usr/bin/env bash
# The owner's own model: a tiny general model, then facetrain --owner-only --from it (both
# fine-tuning modes), faceverify without references on an owner photo and a stranger photo,
# faceeval's side-by-side owner report, and the one-line errors. Tiny training (seconds).
#   owner_only.sh BIN_DIR DATA_DIR
set -u
bin=$1 data=$2
source "$(dirname "$0")/check.sh"
scenario_start lfw owners/stads/anchor owners/stads/positive

# 12 LFW people with 4 photos (training strangers); 2 more people as --negatives; 3 more as
# evaluation strangers; the owner: session day1 = 10 anchor photos, day2 = 8 positive photos.
people=(Abdullah_Gul Alejandro_Toledo Ariel_Sharon Arnold_Schwarzenegger Colin_Powell David_Beckham Donald_Rumsfeld
        George_W_Bush Gerhard_Schroeder Hugo_Chavez Jacques_Chirac Jean_Chretien)
mkdir -p "$tmp/lfw" "$tmp/me/day1" "$tmp/me/day2" "$tmp/neg" "$tmp/others" "$tmp/empty" "$tmp/refs"
for person in "${people[@]}"; do
  mkdir -p "$tmp/lfw/$person"
  for f in $(ls "$data/lfw/$person" | head -4); do ln -s "$data/lfw/$person/$f" "$tmp/lfw/$person/$f"; done
done
for person in John_Ashcroft Junichiro_Koizumi; do
  for f in $(ls "$data/lfw/$person" | head -3); do ln -s "$data/lfw/$person/$f" "$tmp/neg/$f"; done
done
for person in Tony_Blair Vladimir_Putin Serena_Williams; do
  mkdir -p "$tmp/others/$person"
  for f in $(ls "$data/lfw/$person" | head -4); do ln -s "$data/lfw/$person/$f" "$tmp/others/$person/$f"; done
done
for f in $(ls "$data/owners/stads/anchor" | head -10); do ln -s "$data/owners/stads/anchor/$f" "$tmp/me/day1/$f"; done
for f in $(ls "$data/owners/stads/positive" | head -8); do ln -s "$data/owners/stads/positive/$f" "$tmp/me/day2/$f"; done
for f in $(ls "$data/owners/stads/anchor" | sed -n 20,23p); do ln -s "$data/owners/stads/anchor/$f" "$tmp/refs/$f"; done
owner_photo=$tmp/me/day1/$(ls "$tmp/me/day1" | head -1)
stranger_photo=$tmp/lfw/Colin_Powell/$(ls "$tmp/lfw/Colin_Powell" | head -1)

# The general model (siamese), tiny.
"$bin/facetrain" --lfw "$tmp/lfw" --self "$tmp/me/day1" -o "$tmp/base" --run-dir "$tmp/rb" --arch koch-small \
  --chip-size 80 --embedding-size 32 --time-budget 0 --epochs 1 --batch-people 4 --batch-photos 2 --val-pairs 16 \
  --val-fraction 0.3 --lr 1e-3 --references 4 --min-owner-tar 0 -q >/dev/null 2>&1 \
  || { echo "FAIL: the tiny general model did not train"; exit 1; }

owner=(--owner-only --from "$tmp/base" --lfw "$tmp/lfw" --owner-copies 2 --min-owner-tar 0 --val-fraction 0.3)
check owner_train 0 "owner threshold P\(owner\) > [0-9.]+: held-out owner photos [0-9]+ of 8" -- \
  "$bin/facetrain" "${owner[@]}" --self "$tmp/me/day1" "$tmp/me/day2" --negatives "$tmp/neg" -o "$tmp/owner" --run-dir "$tmp/ro"
if python3 - "$tmp/owner/model.json" "$tmp/base" "$tmp/ro/sessions.json" <<'PY'
import json, os, sys
m = json.load(open(sys.argv[1]))
assert m["kind"] == "owner" and m["format_version"] == 2, (m["kind"], m["format_version"])
assert m["owner"]["from"] == os.path.abspath(sys.argv[2]) and len(m["owner"]["from_checksum"]) == 16, m["owner"]
assert m["owner"]["fine_tune"] == "none" and m["owner"]["head"]["embedding_size"] == 32, m["owner"]
assert m["owner"]["fit"] == "centroid", m["owner"]["fit"]  # the default
t = m["thresholds"]
assert 0 <= t["owner"] < 1 and t["calibration"]["owner_faces"] == 8 and t["calibration"]["stranger_faces"] > 0, t
assert m["owner"]["training"]["negatives_people"] == 1, m["owner"]["training"]
assert m["owner"]["training"]["report"]["owner_faces"] == 10, m["owner"]["training"]["report"]
s = json.load(open(sys.argv[3]))
assert s["by_session"] and s["sessions"][1]["role"] == "held out", s
PY
then echo "ok   owner_bundle"; else echo "FAIL owner_bundle"; fails=$((fails+1)); fi
check owner_fine_tune_last 0 "fine-tune last" -- \
  "$bin/facetrain" "${owner[@]}" --self "$tmp/me/day1" "$tmp/me/day2" --fine-tune last --owner-steps 3 -o "$tmp/owner_last" --run-dir "$tmp/rl"
if python3 -c 'import json,sys; f = json.load(open(sys.argv[1]))["owner"]["fit"]; assert f == "bce", f' "$tmp/owner_last/model.json"
then echo "ok   owner_fine_tune_fits_bce"; else echo "FAIL owner_fine_tune_fits_bce"; fails=$((fails+1)); fi
check owner_bce_fit 0 "head \(bce\)" -- \
  "$bin/facetrain" "${owner[@]}" --self "$tmp/me/day1" "$tmp/me/day2" --owner-fit bce -o "$tmp/owner_bce" --run-dir "$tmp/rb"
check owner_centroid_fine_tuned 2 "centroid" -- \
  "$bin/facetrain" "${owner[@]}" --self "$tmp/me/day1" "$tmp/me/day2" --owner-fit centroid --fine-tune last -o "$tmp/owner_x" --run-dir "$tmp/rx"
check owner_one_session_warns 0 "reliability: one capture session" -- \
  "$bin/facetrain" "${owner[@]}" --self "$tmp/me/day1" -o "$tmp/owner1" --run-dir "$tmp/r1"

# faceverify: no references needed; P(owner) per face in the JSON.
check verify_owner_no_refs 0 "OWNER \(1 face" -- "$bin/faceverify" -m "$tmp/owner" "$owner_photo" --threshold 0
check verify_stranger_no_refs 1 "no owner \(1 face, 0 owner; best P\(owner\)" -- "$bin/faceverify" -m "$tmp/owner" "$stranger_photo" --threshold 0.999999
"$bin/faceverify" -m "$tmp/owner" "$owner_photo" "$stranger_photo" --json -q > "$tmp/verify.json"
if python3 - "$tmp/verify.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["kind"] == "owner" and r["references"]["needed"] is False and r["references"]["folder"] is None, r["references"]
assert 0 <= r["thresholds"]["owner"] < 1
me, stranger = (img["faces"][0] for img in r["images"])
for f in (me, stranger):
    assert 0 <= f["owner_probability"] <= 1 and f["match_ratio"] == f["owner_probability"] and f["scores"] == [], f
# Both faces were seen in training: the head must tell them apart.
assert me["owner_probability"] > stranger["owner_probability"], (me["owner_probability"], stranger["owner_probability"])
PY
then echo "ok   verify_owner_json"; else echo "FAIL verify_owner_json"; fails=$((fails+1)); fi

# faceeval: the owner model alone, and side by side with the reference rule of its general model.
check eval_owner_model 0 "AUC of P\(owner\)" -- \
  "$bin/faceeval" owner --model "$tmp/owner" --owner "$tmp/me/day2" --strangers "$tmp/others" --impostors "$tmp/neg" -q
check eval_side_by_side 0 "TAR at FAR <= 0.001 +[0-9]+/8" -- \
  "$bin/faceeval" owner --model "$tmp/owner" --refs "$tmp/refs" --owner "$tmp/me/day2" --strangers "$tmp/others" --out "$tmp/eval" -q
if python3 - "$tmp/eval/owner_report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
owner, rule = r["systems"]
assert owner["kind"] == "owner" and rule["kind"] == "siamese" and r["kind"] == "owner", r["systems"]
assert owner["ms_per_face"] > 0 and rule["ms_per_face"] > 0 and 0 <= owner["auc"] <= 1, owner
assert r["owner_faces"] == 8 and r["stranger_faces"] == 12, (r["owner_faces"], r["stranger_faces"])
PY
then echo "ok   eval_side_by_side_json"; else echo "FAIL eval_side_by_side_json"; fails=$((fails+1)); fi

# Errors: one line, the project's exit codes.
check needs_from 2 "^error: --owner-only needs --from" -- "$bin/facetrain" --owner-only --lfw "$tmp/lfw" --self "$tmp/me/day1"
check from_not_a_bundle 4 "^error: .*absent: no such model folder" -- \
  "$bin/facetrain" --owner-only --from "$tmp/absent" --lfw "$tmp/lfw" --self "$tmp/me/day1" -o "$tmp/x" --run-dir "$tmp/rx"
check from_an_owner_bundle 4 "^error: .*an owner model .*facetrain --owner-only --from needs a siamese model" -- \
  "$bin/facetrain" --owner-only --from "$tmp/owner" --lfw "$tmp/lfw" --self "$tmp/me/day1" -o "$tmp/x" --run-dir "$tmp/rx"
check no_owner_photos 3 "^error: .*0 photo\(s\)" -- "$bin/facetrain" "${owner[@]}" --self "$tmp/empty" -o "$tmp/x" --run-dir "$tmp/rx"
check negatives_need_owner_only 2 "^error: --negatives requires --owner-only" -- \
  "$bin/facetrain" --lfw "$tmp/lfw" --self "$tmp/me/day1" --negatives "$tmp/neg"
check verify_ratio_owner_model 2 "^error: --ratio: an owner model" -- "$bin/faceverify" -m "$tmp/owner" "$owner_photo" --ratio 0.5
check pairs_owner_model 4 "^error: .*an owner model .*faceeval pairs needs a siamese model" -- \
  "$bin/faceeval" pairs --model "$tmp/owner" --lfw "$tmp/lfw" --pairs "$data/lfw_pairs/pairsDevTest.txt" --allow-overlap
[ ! -e "$tmp/x" ] || { echo "FAIL: a failed run left $tmp/x behind"; fails=$((fails+1)); }

echo "$((fails == 0 ? 1 : 0)) passed, $fails failed"
[ "$fails" -eq 0 ]
