#!/usr/bin/env bash
# facetrain's default start, the pretrained face-api descriptor -> bundle -> faceverify / faceeval on
# a small real subset: what the bundle records (architecture, 150 px chips of dlib's geometry, the
# package), the rule fitted to each reference folder, the LFW protocol named, and the importer's and
# flags' errors. Seconds of training (the descriptor frozen, one epoch of the head).
#   pretrained.sh BIN_DIR DATA_DIR
set -u
bin=$1 data=$2
source "$(dirname "$0")/check.sh"
scenario_start lfw owners/stads/anchor owners/oshoura
require_face_api
package=$FACEID_FACE_API

mkdir -p "$tmp/lfw" "$tmp/me"
link_lfw "$tmp/lfw" 4 "${tiny_people[@]}"
link_photos "$tmp/me" "$data/owners/stads/anchor" 12
small=(--lfw "$tmp/lfw" --self "$tmp/me" --batch-people 4 --batch-photos 2 --val-pairs 16 --references 4
       --min-owner-tar 0)

check arch_with_init 2 "^error: --init face-api: the architecture is the pretrained one" -- \
  "$bin/facetrain" "${small[@]}" --init face-api --arch koch -o "$tmp/m0" --run-dir "$tmp/r0"
check layers_without_pretrained 2 "^error: --train-layers is for a pretrained start" -- \
  "$bin/facetrain" "${small[@]}" --init none --train-layers last -o "$tmp/m0" --run-dir "$tmp/r0"
check missing_package 4 "^error: .*face_recognition_model-weights_manifest.json.*scripts/setup.sh" -- \
  "$bin/facetrain" "${small[@]}" --pretrained "$tmp/nowhere" -o "$tmp/m0" --run-dir "$tmp/r0"
mkdir -p "$tmp/broken"
cp "$package"/face_recognition_model-weights_manifest.json "$tmp/broken/"
head -c 100000 "$package/face_recognition_model.bin" > "$tmp/broken/face_recognition_model.bin"
check truncated_package 4 "^error: .*truncated.*scripts/setup.sh" -- \
  "$bin/facetrain" "${small[@]}" --pretrained "$tmp/broken" -o "$tmp/m0" --run-dir "$tmp/r0"
[ ! -e "$tmp/m0/model.json" ] || { echo "FAIL no_bundle_on_error: $tmp/m0/model.json written"; fails=$((fails+1)); }

check train 0 '"best_epoch": 1' -- "$bin/facetrain" "${small[@]}" -o "$tmp/model" --run-dir "$tmp/run" \
  --fill-refs "$tmp/refs" --json
if python3 - "$tmp/model/model.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
p, t = m["preprocess"], m["training"]["pretrained"]
assert m["model"]["name"] == "dlib-resnet" and m["model"]["embedding_size"] == 128, m["model"]
assert p["chip_size"] == 150 and p["alignment"] == "dlib" and abs(p["template"][0][1] - 0.216) < 1e-3, p
assert t["package"] == "@vladmandic/face-api" and t["version"] == "1.7.15" and t["licence"] == "MIT", t
assert t["train_layers"] == "head" and len(t["weights_checksum"]) == 16, t
PY
then echo "ok   bundle_records_the_start"; else echo "FAIL bundle_records_the_start"; fails=$((fails+1)); fi

# A photo of the owner the model never saw is the owner; someone else is not. Each reference
# folder gets its own rule.
unseen=$data/owners/stads/anchor/$(ls "$data/owners/stads/anchor" | tail -1)
other=$data/owners/oshoura/$(ls "$data/owners/oshoura" | head -1)
check verify_owner 0 "detection threshold [0-9.]+ fitted to these references" -- \
  "$bin/faceverify" --model "$tmp/model" --refs "$tmp/refs" "$unseen" -o "$tmp/owner.jpg"
check verify_someone_else 1 "" -- "$bin/faceverify" --model "$tmp/model" --refs "$tmp/refs" "$other" -o "$tmp/other.jpg"
printf '1\nGeorge_W_Bush\t1\t2\nColin_Powell\t1\tHugo_Chavez\t2\n' > "$tmp/pairs.txt"
check eval_names_the_protocol 0 "LFW protocol: unrestricted, labeled outside data" -- \
  "$bin/faceeval" pairs --model "$tmp/model" --lfw "$tmp/lfw" --pairs "$tmp/pairs.txt" --allow-overlap

echo "$((fails == 0 ? 1 : 0)) passed, $fails failed"
[ "$fails" -eq 0 ]
