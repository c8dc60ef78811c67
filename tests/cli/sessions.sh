#!/usr/bin/env bash
# facetrain --self with capture sessions: two folders (or one folder of session sub-folders) hold
# out a whole session and report per-session TAR; a byte-identical copy of a training photo in
# the held-out session trains instead; one session warns. Tiny training (seconds).
#   sessions.sh BIN_DIR DATA_DIR
set -u
bin=$1 data=$2
source "$(dirname "$0")/check.sh"
scenario_start lfw owners/stads/anchor owners/stads/positive

# 12 LFW people with 4 photos; session "day1" = 10 anchor photos, session "day2" = 8 photos of the
# other capture session plus a byte-identical copy (new name) of a day1 photo.
mkdir -p "$tmp/lfw" "$tmp/all/day1" "$tmp/all/day2"
link_lfw "$tmp/lfw" 4 "${tiny_people[@]}"
link_photos "$tmp/all/day1" "$data/owners/stads/anchor" 10
link_photos "$tmp/all/day2" "$data/owners/stads/positive" 8
first=$(ls "$data/owners/stads/anchor" | head -1)
cp "$data/owners/stads/anchor/$first" "$tmp/all/day2/copy_of_day1.jpg"

tiny=(--lfw "$tmp/lfw" --arch koch-small --chip-size 80 --embedding-size 32 --time-budget 0 --epochs 1 --batch-people 4
      --batch-photos 2 --val-pairs 16 --val-fraction 0.3 --lr 1e-3 --references 4 --min-owner-tar 0)

check two_sessions 0 "session day2 \(held out\): owner rule accepts [0-9]+ of [0-9]+ photos" -- \
  "$bin/facetrain" --self "$tmp/all/day1" "$tmp/all/day2" -o "$tmp/m2" --run-dir "$tmp/r2" "${tiny[@]}"
if python3 - "$tmp/r2/sessions.json" "$tmp/m2/model.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["by_session"] is True, s
day1, day2 = s["sessions"]
assert day1["name"] == "day1" and day1["role"] == "trained", day1
assert day2["name"] == "day2" and day2["role"] == "held out", day2
assert day2["faces"] >= 8 and day2["held_out_faces"] == day2["faces"] - 1, day2   # the copy of a day1 photo trains
assert s["duplicates"]["held_out_copies_moved_to_training"] == 1, s
assert s["duplicates"]["groups"] >= 1, s
assert 0 <= day2["tar"] <= 1 and day2["accepted"] <= day2["faces"]
m = json.load(open(sys.argv[2]))
assert m["thresholds"]["calibration"]["owner_split"] == "whole sessions held out"
assert m["training"]["owner_photos_val"] == day2["held_out_faces"], m["training"]
PY
then echo "ok   two_sessions_report"; else echo "FAIL two_sessions_report"; fails=$((fails+1)); fi
check sub_folders 0 "session day2 \(held out\)" -- \
  "$bin/facetrain" --self "$tmp/all" -o "$tmp/m3" --run-dir "$tmp/r3" "${tiny[@]}"
check one_session_warns 0 "warning.*one capture session" -- \
  "$bin/facetrain" --self "$tmp/all/day1" -o "$tmp/m1" --run-dir "$tmp/r1" "${tiny[@]}"
check same_folder_twice 2 "^error: --self .*given twice" -- \
  "$bin/facetrain" --self "$tmp/all/day1" "$tmp/all/day1" -o "$tmp/m0" --run-dir "$tmp/r0" "${tiny[@]}"

echo "$((fails == 0 ? 1 : 0)) passed, $fails failed"
[ "$fails" -eq 0 ]
