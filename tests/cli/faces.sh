#!/usr/bin/env bash
# facetrain --faces: folder-per-person face sets as more strangers, beside --lfw or instead of it;
# their people are named <root>/<person> in the bundle. Tiny training (seconds).
#   faces.sh BIN_DIR DATA_DIR
set -u
bin=$1 data=$2
source "$(dirname "$0")/check.sh"
scenario_start lfw owners/stads/anchor scenes/faceapi/amy

# 12 LFW people with 4 photos; a second folder-per-person set of 6 other LFW people ("archive");
# scenes/faceapi: 8 people x 5 photos (its loose group photos are not people and are ignored).
mkdir -p "$tmp/lfw" "$tmp/archive" "$tmp/other/archive" "$tmp/owner" "$tmp/negatives"
link_lfw "$tmp/lfw" 4 "${tiny_people[@]}"
link_lfw "$tmp/archive" 4 John_Ashcroft Junichiro_Koizumi Kofi_Annan Laura_Bush Lleyton_Hewitt Luiz_Inacio_Lula_da_Silva
link_lfw "$tmp/other/archive" 4 Tony_Blair
link_photos "$tmp/owner" "$data/owners/stads/anchor" 10

tiny=(--self "$tmp/owner" --arch koch-small --chip-size 80 --embedding-size 32 --time-budget 0 --epochs 1
      --batch-people 4 --batch-photos 2 --val-pairs 16 --val-fraction 0.3 --lr 1e-3 --references 4 --min-owner-tar 0)

# The bundle lists the roots and the people trained on and held out: "<root>/<person>" for --faces.
people_check() {  # people_check NAME MODEL_DIR EXPECTED_LFW_PEOPLE
  if python3 - "$2/model.json" "$3" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["training"]
people = t["trained_people"] + t["validation_people"]
faceapi = sorted(p for p in people if p.startswith("faceapi/"))
archive = sorted(p for p in people if p.startswith("archive/"))
lfw = [p for p in people if "/" not in p]
assert len(faceapi) == 8 and "faceapi/amy" in faceapi, faceapi
assert len(archive) == 6 and "archive/Kofi_Annan" in archive, archive
assert len(lfw) == int(sys.argv[2]), lfw
assert [r.rsplit("/", 1)[1] for r in t["faces"]] == ["faceapi", "archive"], t["faces"]
assert t["people_train"] + t["people_val"] == len(people), t
PY
  then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails+1)); fi
}

check lfw_and_faces 0 "archive: 24 images, [0-9]+ faces" -- \
  "$bin/facetrain" --lfw "$tmp/lfw" --faces "$data/scenes/faceapi" "$tmp/archive" -o "$tmp/m1" --run-dir "$tmp/r1" "${tiny[@]}"
people_check lfw_and_faces_people "$tmp/m1" 12
check faces_only 0 "training on [0-9]+ owner photos \+ [0-9]+ people" -- \
  "$bin/facetrain" --faces "$data/scenes/faceapi" "$tmp/archive" -o "$tmp/m2" --run-dir "$tmp/r2" "${tiny[@]}"
people_check faces_only_people "$tmp/m2" 0
check no_strangers 2 "^error: give the strangers: --lfw DIR, --faces DIR" -- \
  "$bin/facetrain" -o "$tmp/m3" --run-dir "$tmp/r3" "${tiny[@]}"
check same_root_name 2 "^error: --faces .*other/archive: another root is also named 'archive'" -- \
  "$bin/facetrain" --faces "$tmp/archive" "$tmp/other/archive" -o "$tmp/m4" --run-dir "$tmp/r4" "${tiny[@]}"
check root_overlaps_lfw 2 "^error: --faces .*/lfw: overlaps .*/lfw" -- \
  "$bin/facetrain" --lfw "$tmp/lfw" --faces "$tmp/lfw" -o "$tmp/m6" --run-dir "$tmp/r6" "${tiny[@]}"
check root_named_negatives 2 "^error: --faces .*negatives: a root named 'negatives'" -- \
  "$bin/facetrain" --faces "$tmp/negatives" -o "$tmp/m7" --run-dir "$tmp/r7" "${tiny[@]}"
check root_without_people 3 "^error: .*owner: no person folders with images" -- \
  "$bin/facetrain" --faces "$tmp/owner" -o "$tmp/m5" --run-dir "$tmp/r5" "${tiny[@]}"
[ ! -e "$tmp/m3" ] && [ ! -e "$tmp/m4" ] && [ ! -e "$tmp/m5" ] && [ ! -e "$tmp/m6" ] && echo "ok   no_bundle_on_error" ||
  { echo "FAIL no_bundle_on_error"; fails=$((fails+1)); }

echo "$((fails == 0 ? 1 : 0)) passed, $fails failed"
[ "$fails" -eq 0 ]
