#!/usr/bin/env bash
# One face cache, several processes at once: two faceprep runs on overlapping folders
# (a+b, b+c) and two faceeval runs (LBP scorer) that each add half of the LFW folder's images to
# its cache (the images of their pairs files: 1-2 and 3-4 of each person) start together on a
# cold cache, and again after some images changed. Every run must succeed; afterwards the caches
# must be whole (faceprep finds every image cached: no process's entries were lost) and equal to a
# single process's (the same faces per folder, the same LBP score for every pair).
#   cache_concurrency.sh BIN_DIR DATA_DIR
set -u
bin=$1 data=$2
source "$(dirname "$0")/check.sh"
scenario_start lfw/Tony_Blair lfw/George_W_Bush

# Real LFW images, copied (their modification time is part of the cache key): 10 people x 4 for
# the pairs, and three folders of 8 photos, a|b and b|c sharing b.
people=(Abdullah_Gul Alejandro_Toledo Ariel_Sharon Arnold_Schwarzenegger Colin_Powell David_Beckham Donald_Rumsfeld
        George_W_Bush Gerhard_Schroeder Hugo_Chavez)
mkdir -p "$tmp/lfw" "$tmp/a" "$tmp/b" "$tmp/c"
for person in "${people[@]}"; do
  mkdir -p "$tmp/lfw/$person" && cp "$data/lfw/$person/${person}_000"[1-4].jpg "$tmp/lfw/$person/"
done
for i in $(seq 1 24); do
  folder=$([ "$i" -le 8 ] && echo a || { [ "$i" -le 16 ] && echo b || echo c; })
  cp "$data/lfw/Tony_Blair/$(printf 'Tony_Blair_%04d.jpg' "$i")" "$tmp/$folder/"
done
for half in 12 34; do
  a=${half:0:1} b=${half:1:1}
  {
    echo 10
    for p in "${people[@]}"; do printf '%s\t%s\t%s\n' "$p" "$a" "$b"; done
    for i in $(seq 0 9); do printf '%s\t%s\t%s\t%s\n' "${people[i]}" "$a" "${people[(i + 1) % 10]}" "$b"; done
  } > "$tmp/pairs$half.txt"
done

cache=(--cache-dir "$tmp/cache" --threads 1)
prep1=("$bin/faceprep" "${cache[@]}" --self "$tmp/a" --self "$tmp/b" --json -q)
prep2=("$bin/faceprep" "${cache[@]}" --self "$tmp/b" --self "$tmp/c" --json -q)
evaluate=("$bin/faceeval" pairs --scorer lbp --lfw "$tmp/lfw" -q)

# `together ROUND`: the four at once; each must exit 0.
together() {
  local pids=() codes="" half pid
  "${prep1[@]}" > "$tmp/prep1.json" 2> "$tmp/prep1.err" & pids+=($!)
  "${prep2[@]}" > "$tmp/prep2.json" 2> "$tmp/prep2.err" & pids+=($!)
  for half in 12 34; do
    "${evaluate[@]}" "${cache[@]}" --pairs "$tmp/pairs$half.txt" --write-scores "$tmp/scores${half}_$1.csv" \
      > /dev/null 2> "$tmp/eval$half.err" & pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; codes+="$? "; done
  if [ "$codes" = "0 0 0 0 " ]; then echo "ok   together_$1 (faceprep a+b, faceprep b+c, faceeval 1-2, faceeval 3-4: exit 0)"
  else echo "FAIL together_$1: exits $codes"; tail -n 2 "$tmp"/*.err; fails=$((fails+1)); fi
}
together cold
touch "$tmp"/lfw/*/*_000[23].jpg "$tmp"/b/*  # changed files: detected again, by every process
together changed

# Whole: a further run over every folder finds every image cached, computes none.
every_folder() { "$bin/faceprep" --cache-dir "$1" --lfw "$tmp/lfw" --self "$tmp/a" --self "$tmp/b" --self "$tmp/c" --json -q; }
if every_folder "$tmp/cache" | tee "$tmp/final.json" | /usr/bin/python3 -c '
import json, sys
r = json.load(sys.stdin)
bad = [(s["source"], s["cache_hits"], s["images"]) for s in r["sources"] if s["computed"] or s["cache_hits"] != s["images"]]
sys.exit(f"not all cached (source, cached, images): {bad}" if bad else 0)'
then echo "ok   all_cached"; else echo "FAIL all_cached"; fails=$((fails+1)); fi
[ -z "$(temporaries "$tmp/cache")" ] || { echo "FAIL temporaries left: $(temporaries "$tmp/cache")"; fails=$((fails+1)); }

# Equal to one process's: faces per folder and every pair's LBP score.
every_folder "$tmp/single" > "$tmp/single.json"
for half in 12 34; do
  "${evaluate[@]}" --cache-dir "$tmp/single" --pairs "$tmp/pairs$half.txt" --write-scores "$tmp/scores${half}_single.csv" > /dev/null 2>&1
  "${evaluate[@]}" "${cache[@]}" --pairs "$tmp/pairs$half.txt" --write-scores "$tmp/scores${half}_final.csv" > /dev/null 2>&1
done
if /usr/bin/python3 - "$tmp" <<'PY'
import json, sys
tmp = sys.argv[1]
faces = lambda f: {s["source"]: (s["images"], s["faces"], s["no_face"], s["unreadable"]) for s in json.load(open(f))["sources"]}
assert faces(tmp + "/single.json") == faces(tmp + "/final.json"), (faces(tmp + "/single.json"), faces(tmp + "/final.json"))
PY
then echo "ok   same_faces_as_one_process"; else echo "FAIL same_faces_as_one_process"; fails=$((fails+1)); fi
for half in 12 34; do
  for round in cold changed final; do
    if cmp -s "$tmp/scores${half}_single.csv" "$tmp/scores${half}_$round.csv"; then echo "ok   same_scores_${half}_$round"
    else echo "FAIL same_scores_${half}_$round: the LBP scores differ from one process's"; fails=$((fails+1)); fi
  done
done

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
