#!/usr/bin/env bash
# facetrain without OpenCV (apps/facetrain/no_vision.cpp, the facetrain of a FACEID_BUILD_VISION=OFF
# build): it links no OpenCV, refuses clearly when a face cache is missing or stale, and from the
# caches faceprep filled it trains the very model the full facetrain trains. Tiny training (seconds).
#   no_vision.sh BIN_DIR DATA_DIR
set -u
bin=$1 data=$2
source "$(dirname "$0")/check.sh"
scenario_start lfw owners/stads/anchor

mkdir -p "$tmp/lfw" "$tmp/owner"
link_lfw "$tmp/lfw" 4 "${tiny_people[@]}"
link_photos "$tmp/owner" "$data/owners/stads/anchor" 10
train=(--lfw "$tmp/lfw" --self "$tmp/owner" --epochs 1 --threads 1 "${tiny_train[@]}")

# Its own dependencies (Debian's libtorch_cpu itself needs OpenCV; pytorch.org's LibTorch does not).
if readelf -d "$bin/facetrain_no_vision" | grep NEEDED | grep -q -e opencv -e faceid; then
  echo "FAIL needs_no_opencv: $(readelf -d "$bin/facetrain_no_vision" | grep NEEDED | grep opencv | head -1)"; fails=$((fails+1))
elif ! readelf -d "$bin/facetrain" | grep NEEDED | grep -q opencv; then
  echo "FAIL needs_no_opencv: the check cannot see OpenCV in the full facetrain either"; fails=$((fails+1))
else
  echo "ok   needs_no_opencv"
fi
check no_cache 3 "^error: .*/lfw: no face cache for these settings in .*faceprep --lfw DIR" -- \
  "$bin/facetrain_no_vision" -o "$tmp/m0" --run-dir "$tmp/r0" "${train[@]}"
check faceprep_lfw 0 "" -- "$bin/faceprep" --lfw "$tmp/lfw" --chip-size 80 -q
check owner_not_cached 3 "^error: .*/owner: no face cache for these settings" -- \
  "$bin/facetrain_no_vision" -o "$tmp/m0" --run-dir "$tmp/r0" "${train[@]}"
check faceprep_owner 0 "" -- "$bin/faceprep" --self "$tmp/owner" --chip-size 80 -q
check other_settings 3 "^error: .*/lfw: no face cache for these settings" -- \
  "$bin/facetrain_no_vision" -o "$tmp/m0" --run-dir "$tmp/r0" "${train[@]}" --padding 0.1
[ ! -e "$tmp/m0" ] && echo "ok   no_bundle_on_error" || { echo "FAIL no_bundle_on_error"; fails=$((fails+1)); }

check trains 0 "" -- "$bin/facetrain_no_vision" -o "$tmp/m1" --run-dir "$tmp/r1" "${train[@]}"
[ -s "$tmp/r1/metrics.csv" ] && [ ! -e "$tmp/r1/curves.png" ] && grep -q "no curves.png: this facetrain was built without OpenCV" "$tmp/r1/train.log" &&
  echo "ok   no_curves_but_metrics" || { echo "FAIL no_curves_but_metrics"; fails=$((fails+1)); }
check full_build_trains 0 "" -- "$bin/facetrain" -o "$tmp/m2" --run-dir "$tmp/r2" "${train[@]}"
# The same caches, seed and flags give the same weights (the bundle's checksum) and thresholds.
if python3 - "$tmp/m1/model.json" "$tmp/m2/model.json" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
assert a["weights"] == b["weights"], (a["weights"], b["weights"])
assert a["thresholds"] == b["thresholds"], (a["thresholds"], b["thresholds"])
assert a["preprocess"] == b["preprocess"] and a["preprocess"]["detector"] == "yunet", a["preprocess"]
PY
then echo "ok   same_model_as_full_build"; else echo "FAIL same_model_as_full_build"; fails=$((fails+1)); fi
check model_verifies 0 "" -- "$bin/faceverify" --model "$tmp/m1" --refs "$tmp/owner" "$tmp/owner/$(ls "$tmp/owner" | head -1)" -q
check owner_only 0 "" -- "$bin/facetrain_no_vision" --owner-only --from "$tmp/m1" --lfw "$tmp/lfw" --self "$tmp/owner" \
  -o "$tmp/o1" --run-dir "$tmp/ro1" --owner-copies 2 --min-owner-tar 0 --val-fraction 0.3 -q
[ -s "$tmp/o1/model.json" ] && echo "ok   owner_bundle" || { echo "FAIL owner_bundle"; fails=$((fails+1)); }

# A photo changed since the cache was filled (the link replaced by a copy: a new modification
# time, and the shared data untouched): refused, naming it.
changed=$tmp/owner/$(ls "$tmp/owner" | head -1)
cp --remove-destination "$(readlink -f "$changed")" "$changed"
check stale_cache 3 "^error: .*/owner: its face cache .* lacks 1 of 10 images \(new or changed since" -- \
  "$bin/facetrain_no_vision" -o "$tmp/m3" --run-dir "$tmp/r3" "${train[@]}"

echo "$((fails == 0 ? 1 : 0)) passed, $fails failed"
[ "$fails" -eq 0 ]
