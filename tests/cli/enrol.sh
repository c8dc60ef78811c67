#!/usr/bin/env bash
# faceenroll on a small real library with the pretrained descriptor (seconds of training): the
# owner's photos of two days proposed by day among strangers, a truncated photo skipped and counted,
# a second run that detects only the new photos, confirm with one face unticked, undo, and the bad
# inputs (empty seeds folder, seeds of nobody in the library, seeds without a face, a bad proposal).
#   enrol.sh BIN_DIR DATA_DIR
set -u
bin=$1 data=$2
source "$(dirname "$0")/check.sh"
scenario_start lfw owners/stads/anchor owners/stads/positive owners/stads/impostors
require_face_api

mkdir -p "$tmp/lfw" "$tmp/me"
link_lfw "$tmp/lfw" 4 "${tiny_people[@]}"
link_photos "$tmp/me" "$data/owners/stads/anchor" 12
"$bin/facetrain" --lfw "$tmp/lfw" --self "$tmp/me" --batch-people 4 --batch-photos 2 --val-pairs 16 \
  --references 4 --min-owner-tar 0 -o "$tmp/model" --run-dir "$tmp/run" -q > /dev/null ||
  { echo "FAIL train: facetrain failed"; exit 1; }

# The library: 8 photos of the evening and 6 of the new day (copies dated by their file time), 9
# of strangers, a truncated photo; the seeds: 4 other photos of the evening.
lib=$tmp/library seeds=$tmp/seeds
mkdir -p "$lib/2022/evening" "$lib/2022/later" "$lib/news" "$seeds"
copy_dated() {  # copy_dated DATE DEST FILE...
  local date=$1 dest=$2 f; shift 2
  for f in "$@"; do cp "$f" "$dest/" && touch -d "$date" "$dest/$(basename "$f")"; done
}
anchor=("$data"/owners/stads/anchor/*) positive=("$data"/owners/stads/positive/*)
copy_dated "2022-09-07 12:00" "$lib/2022/evening" "${anchor[@]:20:8}"
copy_dated "2022-09-10 12:00" "$lib/2022/later" "${positive[@]: -6}"
copy_dated "2022-09-07 12:00" "$seeds" "${anchor[@]:0:4}"
for person in Colin_Powell Hugo_Chavez Jacques_Chirac; do
  cp "$data"/lfw/$person/${person}_000[1-3].jpg "$lib/news/"
done
head -c 6000 "${anchor[40]}" > "$lib/broken.jpg"
scan=("$bin/faceenroll" scan "$lib" --seeds "$seeds" -m "$tmp/model" -o "$tmp/proposal")

check scan 0 "the owner .*: 14 faces on 2 day" -- "${scan[@]}"
check scan_says_dates 0 "2022-09-10 +6 faces +date from file time" -- "${scan[@]}"
check scan_counts_the_unreadable 0 "; 1 unreadable, 0 without a face" -- "${scan[@]}"
check scan_names_the_unreadable 0 "skipped: .*broken.jpg: truncated" -- "${scan[@]}"
check second_run_detects_nothing 0 "^24 photos \(0 detected now, 24 from the cache" -- "${scan[@]}"
copy_dated "2022-09-10 12:00" "$lib/2022/later" "${positive[@]: -8:2}"
check grown_library_detects_the_new_photos 0 "26 photos \(2 detected now, 24 from the cache" -- "${scan[@]}"
[ -f "$tmp/proposal/days/2022-09-07.png" ] && [ -f "$tmp/proposal/days/2022-09-10.png" ] &&
  echo "ok   contact_sheets" || { echo "FAIL contact_sheets: $(ls "$tmp/proposal/days")"; fails=$((fails+1)); }
[ ! -e "$tmp/enrolled" ] && echo "ok   nothing_written_before_confirm" ||
  { echo "FAIL nothing_written_before_confirm"; fails=$((fails+1)); }

untick=$(python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); print(p["owner"]["days"][1]["faces"][-1])' \
  "$tmp/proposal/proposal.json")
untick_file=$(python3 -c 'import json,os,sys; p=json.load(open(sys.argv[1])); f=p["faces"][int(sys.argv[2])]; print(os.path.splitext(os.path.basename(f["file"]))[0])' \
  "$tmp/proposal/proposal.json" "$untick")
other=$(python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); print(next(g["id"] for g in p["groups"] if not g["owner"] and g["size"] == 3))' \
  "$tmp/proposal/proposal.json")
check confirm 0 "enrolled 15 faces of 2 day\(s\).*; 3 faces of other people" -- \
  "$bin/faceenroll" confirm "$tmp/proposal/proposal.json" --into "$tmp/enrolled" --untick "$untick" --references 3 \
  --negatives "$other"
written=$(find "$tmp/enrolled/2022-09-07" "$tmp/enrolled/2022-09-10" -type f | wc -l)
refs=$(find "$tmp/enrolled/references" -type f | wc -l)
negatives=$(find "$tmp/enrolled/negatives/person-$other" -type f | wc -l)
if [ "$written" -eq 15 ] && [ "$refs" -eq 6 ] && [ "$negatives" -eq 3 ] && ! ls "$tmp/enrolled"/*/ | grep -q "^${untick_file}_"; then
  echo "ok   enrolled_exactly_the_ticked"
else echo "FAIL enrolled_exactly_the_ticked: $written faces, $refs references, $negatives negatives"; fails=$((fails+1)); fi
check enrolled_faces_verify 0 "" -- "$bin/faceverify" -m "$tmp/model" --refs "$tmp/enrolled/references" \
  "${anchor[60]}" -o "$tmp/verified.jpg"
check untick_unknown 2 "^error: --untick 99999: not one of the proposed faces" -- \
  "$bin/faceenroll" confirm "$tmp/proposal/proposal.json" --into "$tmp/enrolled2" --untick 99999
check confirm_twice 2 "^error: .*holds an enrolment already; undo it first" -- \
  "$bin/faceenroll" confirm "$tmp/proposal/proposal.json" --into "$tmp/enrolled"
check undo 0 "removed the 25 files" -- "$bin/faceenroll" undo "$tmp/enrolled"
[ -z "$(find "$tmp/enrolled" -type f 2>/dev/null)" ] && echo "ok   undo_leaves_nothing" ||
  { echo "FAIL undo_leaves_nothing: $(find "$tmp/enrolled" -type f | head -3)"; fails=$((fails+1)); }
check undo_nothing 3 "^error: .*no enrolment to undo" -- "$bin/faceenroll" undo "$tmp/enrolled"

mkdir -p "$tmp/empty_seeds" "$tmp/stranger_seeds" "$tmp/faceless_seeds"
check empty_seeds 2 "^error: .*no photos in the seeds folder" -- \
  "$bin/faceenroll" scan "$lib" --seeds "$tmp/empty_seeds" -m "$tmp/model" -o "$tmp/p2"
cp "$data"/owners/stads/impostors/* "$tmp/stranger_seeds/"
check seeds_of_nobody_here 1 "no face of .* matches the seeds" -- \
  "$bin/faceenroll" scan "$lib" --seeds "$tmp/stranger_seeds" -m "$tmp/model" -o "$tmp/p3"
/usr/bin/python3 -c 'import cv2, numpy as np, sys; cv2.imwrite(sys.argv[1], np.full((120, 160, 3), 90, np.uint8))' \
  "$tmp/faceless_seeds/grey.png"
check seeds_without_a_face 3 "^error: .*no face found" -- \
  "$bin/faceenroll" scan "$lib" --seeds "$tmp/faceless_seeds" -m "$tmp/model" -o "$tmp/p4"
echo '{"faces": 3}' > "$tmp/bad.json"
check out_inside_library 2 "^error: .* is inside the library" -- \
  "$bin/faceenroll" scan "$lib" --seeds "$seeds" -m "$tmp/model" -o "$lib/enrol"
[ ! -e "$lib/enrol" ] && echo "ok   library_untouched" || { echo "FAIL library_untouched"; fails=$((fails+1)); }
check bad_proposal 3 "^error: .*not a faceenroll proposal" -- \
  "$bin/faceenroll" confirm "$tmp/bad.json" --into "$tmp/x"
check no_subcommand 2 "^error: " -- "$bin/faceenroll" --seeds "$seeds"
check help 0 "--cluster TEXT:\{average,whispers\}=average" -- "$bin/faceenroll" --help

echo "$((fails == 0 ? 1 : 0)) passed, $fails failed"
[ "$fails" -eq 0 ]
