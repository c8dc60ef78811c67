#!/usr/bin/env bash
# Killed at a random moment: faceprep filling a face cache, facetrain (a tiny run that
# writes its run folder, checkpoints and bundle) and faceeval writing its report get SIGKILL or
# SIGINT after a random delay, in a bounded loop. After each kill every cache, bundle and report
# is whole or absent: the tools load it (faceverify the bundle), its format checks out (the face
# cache's records, the checkpoint's zip, the JSON files, the chart). facetrain handles SIGINT
# (checkpoint, exit) and leaves no temporary; faceprep and faceeval die of it as of SIGKILL, and a
# temporary of a killed process may remain beside the file it was writing: every reader ignores
# it, and the next successful write into its folder removes it, which the last part checks by
# finishing each tool once. FACEID_KILL_SEED repeats a run's delays.
#   kill.sh BIN_DIR DATA_DIR
set -u
bin=$1 data=$2
source "$(dirname "$0")/check.sh"
scenario_start lfw owners/stads/anchor
RANDOM=${FACEID_KILL_SEED:-$$}
echo "delays from seed ${FACEID_KILL_SEED:-$$}"

mkdir -p "$tmp/me" "$tmp/refs"
small_lfw "$tmp/lfw" cp
for f in $(ls "$data/owners/stads/anchor" | head -12); do cp "$data/owners/stads/anchor/$f" "$tmp/me/"; done
for f in $(ls "$data/owners/stads/anchor" | sed -n 20,23p); do ln -s "$data/owners/stads/anchor/$f" "$tmp/refs/$f"; done
synthetic_scores "$tmp"

# `killed MAX_TENTHS command...` runs the command and sends it SIGKILL or SIGINT (at random) after
# a random delay of up to MAX_TENTHS tenths of a second; sets $signal and $code and counts an exit
# code other than 0 or the signal's as a failure.
killed() {
  local max=$1; shift
  # A script's background commands start with SIGINT ignored; the tool gets it as from a terminal.
  env --default-signal=INT "$@" > /dev/null 2>> "$tmp/killed.log" &
  local pid=$! tenths=$((RANDOM % max + 1))
  if ((RANDOM % 2)); then signal=INT; else signal=KILL; fi
  sleep "$((tenths / 10)).$((tenths % 10))"
  kill -s "$signal" "$pid" 2>/dev/null
  { wait "$pid"; } 2>/dev/null; code=$?
  echo "     $(basename "$1") $signal after $((tenths / 10)).$((tenths % 10)) s: exit $code"
  # Finished (0), or ended by the signal: 130 for SIGINT (facetrain's own after its checkpoint), 137.
  case "$signal$code" in
    INT0 | KILL0 | INT130 | KILL137) ;;
    *) echo "FAIL $(basename "$1"): exit $code after SIG$signal"; tail -n 3 "$tmp/killed.log"; fails=$((fails+1)) ;;
  esac
}

# `whole NAME CHECK...` runs a check (a command that fails on a partial file) and counts a failure.
whole() {
  local name=$1; shift
  local out; out=$("$@" 2>&1) || { echo "FAIL $name: $out" | head -3; fails=$((fails+1)); return 1; }
}

# The face cache file format (lib/core/include/faceid/io/face_cache.hpp), read to its end marker.
face_cache_ok() {
  /usr/bin/python3 - "$@" <<'PY'
import struct, sys
for path in sys.argv[1:]:
    b = open(path, "rb").read()
    assert b[:4] == b"FIDC", path
    pos = 8
    chip, = struct.unpack_from("<I", b, pos); pos += 4
    n, = struct.unpack_from("<I", b, pos); pos += 4 + n
    count, = struct.unpack_from("<Q", b, pos); pos += 8
    for _ in range(count):
        n, = struct.unpack_from("<I", b, pos); pos += 4 + n + 16
        status = b[pos]; pos += 1 + 8
        for _ in range(2):
            n, = struct.unpack_from("<I", b, pos); pos += 4 + n
        if status == 0: pos += chip * chip * 3
    assert b[pos:] == b"END.", f"{path}: {len(b) - pos} bytes after the last record"
PY
}

# 1. faceprep filling the cache (a third of the photos changed before each run).
echo "faceprep"
for _ in 1 2 3 4 5; do
  touch $(ls "$tmp"/lfw/*/*.jpg "$tmp"/me/*.jpg | awk -v r="$RANDOM" 'NR % 3 == r % 3')
  killed 25 "$bin/faceprep" --lfw "$tmp/lfw" --self "$tmp/me" --threads 1 -q
  whole face_cache face_cache_ok $(ls "$FACEID_CACHE"/faces-*.bin 2>/dev/null)
done

# 2. facetrain: run folder, checkpoint, bundle (the faces are cached by now).
echo "facetrain"
train=("$bin/facetrain" --lfw "$tmp/lfw" --self "$tmp/me" -o "$tmp/model" --run-dir "$tmp/run" "${tiny_train[@]}"
       --threads 1)
"$bin/faceprep" --lfw "$tmp/lfw" --self "$tmp/me" --chip-size 80 -q > /dev/null 2>&1
for _ in 1 2 3; do
  killed 60 "${train[@]}" --epochs 2
  [ ! -e "$tmp/model/model.json" ] ||
    whole bundle "$bin/faceverify" -m "$tmp/model" --refs "$tmp/refs" "$tmp/me/$(ls "$tmp/me" | head -1)" -q --threshold 0 --ratio 0
  [ ! -e "$tmp/run/checkpoint.pt" ] ||
    whole checkpoint /usr/bin/python3 -c 'import sys, zipfile; assert zipfile.ZipFile(sys.argv[1]).testzip() is None' "$tmp/run/checkpoint.pt"
  for f in "$tmp"/run/*.json; do [ ! -e "$f" ] || whole "$(basename "$f")" /usr/bin/python3 -m json.tool "$f"; done
  [ ! -e "$tmp/run/metrics.jsonl" ] ||
    whole metrics.jsonl /usr/bin/python3 -c 'import json, sys; [json.loads(l) for l in open(sys.argv[1])]' "$tmp/run/metrics.jsonl"
  [ ! -e "$tmp/run/curves.png" ] ||
    whole curves.png /usr/bin/python3 -c 'import cv2, sys; assert cv2.imread(sys.argv[1]) is not None' "$tmp/run/curves.png"
  [ -z "$(temporaries "$tmp/run" "$tmp/model")" ] || [ "$signal" = KILL ] ||
    { echo "FAIL facetrain: temporaries after SIGINT: $(temporaries "$tmp/run" "$tmp/model")"; fails=$((fails+1)); }
done

# 3. faceeval writing its report: each file absent or the same as an uninterrupted run's.
echo "faceeval"
evaluate=("$bin/faceeval" pairs --scores "$tmp/scores.csv" --pairs "$tmp/pairs.txt" -q)
"${evaluate[@]}" --out "$tmp/ref" > /dev/null
for _ in 1 2 3 4 5; do
  killed 5 "${evaluate[@]}" --out "$tmp/eval"
  for f in roc.csv roc.png; do [ ! -e "$tmp/eval/$f" ] || whole "$f" cmp "$tmp/ref/$f" "$tmp/eval/$f"; done
  [ ! -e "$tmp/eval/report.json" ] || whole report.json /usr/bin/python3 -m json.tool "$tmp/eval/report.json"
done

# 4. Each tool once to the end: whatever a kill left is used or replaced, no temporary remains.
echo "to the end"
touch "$tmp/me/$(ls "$tmp/me" | head -1)" "$tmp"/lfw/Hugo_Chavez/*_0001.jpg  # something to write into each cache
check prep_to_the_end 0 "" -- "$bin/faceprep" --lfw "$tmp/lfw" --self "$tmp/me" -q
check prep_to_the_end_80 0 "" -- "$bin/faceprep" --lfw "$tmp/lfw" --self "$tmp/me" --chip-size 80 -q
check train_to_the_end 0 "" -- "${train[@]}" --epochs 1
check verify_the_bundle 0 "OWNER" -- "$bin/faceverify" -m "$tmp/model" --refs "$tmp/refs" "$tmp/me/$(ls "$tmp/me" | head -1)" --threshold 0 --ratio 0
check eval_to_the_end 0 "" -- "${evaluate[@]}" --out "$tmp/eval"
whole face_caches face_cache_ok "$FACEID_CACHE"/faces-*.bin
left=$(temporaries "$tmp")
[ -z "$left" ] && echo "ok   no temporaries left" || { echo "FAIL temporaries left: $left"; fails=$((fails+1)); }

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
