#!/usr/bin/env bash
# The enrolment tests' fixture: a model that tells people apart (the pretrained face-api descriptor,
# frozen, and one epoch of the head: seconds, as tests/cli/pretrained.sh trains it), 5 seed photos
# of the owner, and a small photo library with capture dates:
#   library/phone/    12 owner photos (owners/stads/anchor, not the seeds), file times on two days
#   library/camera/   6 owner photos (owners/stads/positive) with an EXIF DateTimeOriginal
#   library/friends/  12 LFW photos of 4 people
#   library/tv/       scenes/faceapi/bbt1.jpg (four strangers)
# The library's files are copies (their modification times are the dates), made read-only.
#   enrol_fixture.sh BIN_DIR DATA_DIR WORK_DIR  ->  WORK_DIR/{model,seeds,library,fixture.json}
# Skips (77) without the shared data or the face-api package.
set -euo pipefail
bin=$1 data=$2 work=$3
rm -f "$work/fixture.json"  # a skip leaves no fixture of an earlier run behind
for d in lfw owners/stads/anchor owners/stads/positive scenes/faceapi; do
  [ -d "$data/$d" ] || { echo "SKIP: shared data not found under $data (set FACEID_DATA)"; exit 77; }
done
src=$(cd "$(dirname "$0")/../.." && pwd)
package=${FACEID_FACE_API:-$src/pretrained/face-api/node_modules/@vladmandic/face-api/model}
[ -f "$package/face_recognition_model-weights_manifest.json" ] ||
  { echo "SKIP: the face-api package is not installed in $package (scripts/setup.sh)"; exit 77; }
export FACEID_FACE_API=$package
data=$(cd "$data" && pwd)
rm -rf "$work" && mkdir -p "$work"/{lfw,me,seeds,library/phone,library/camera,library/friends,library/tv}
export FACEID_CACHE=$work/cache

# The model: trained on other people and other owner photos than the library's and the seeds. 40
# LFW people and 200 validation pairs (5 s of training) make a head and a pair threshold that keep
# the library's strangers out of the owner's group, which tests/cli/pretrained.sh's smaller set
# does not.
library_people=(Tony_Blair Serena_Williams John_Ashcroft Junichiro_Koizumi)
n=0
for person in $(ls "$data/lfw"); do
  [ "$(ls "$data/lfw/$person" | wc -l)" -ge 6 ] && [[ ! " ${library_people[*]} " =~ " $person " ]] || continue
  mkdir -p "$work/lfw/$person"
  for f in $(ls "$data/lfw/$person" | head -6); do ln -s "$data/lfw/$person/$f" "$work/lfw/$person/$f"; done
  n=$((n + 1)); [ $n -lt 40 ] || break
done
anchor=$data/owners/stads/anchor positive=$data/owners/stads/positive
for f in $(ls "$anchor" | sed -n 40,70p); do ln -s "$anchor/$f" "$work/me/$f"; done
"$bin/facetrain" --lfw "$work/lfw" --self "$work/me" -o "$work/model" --run-dir "$work/run" \
  --batch-people 4 --batch-photos 2 --val-pairs 200 --references 4 --min-owner-tar 0 -q

for f in $(ls "$anchor" | sed -n 20,24p); do cp "$anchor/$f" "$work/seeds/"; done
i=0
for f in $(ls "$anchor" | head -12); do
  cp "$anchor/$f" "$work/library/phone/"
  touch -d "$([ $i -lt 6 ] && echo 2024-05-18 || echo 2024-06-02) 1$((i % 6)):00" "$work/library/phone/$f"
  i=$((i + 1))
done
for f in $(ls "$positive" | head -6); do cp "$positive/$f" "$work/library/camera/"; done
for person in "${library_people[@]}"; do
  for f in $(ls "$data/lfw/$person" | head -3); do cp "$data/lfw/$person/$f" "$work/library/friends/"; done
done
touch -d "2024-06-02 18:00" "$work"/library/friends/*
cp "$data/scenes/faceapi/bbt1.jpg" "$work/library/tv/"
touch -d "2024-05-18 21:00" "$work/library/tv/bbt1.jpg"

/usr/bin/python3 - "$work" <<'PY'
import json, os, struct, sys
work = sys.argv[1]
lib = os.path.join(work, "library")

def with_exif(jpeg, taken):
    """`jpeg` with an APP1 Exif segment holding DateTimeOriginal = `taken` ("YYYY:MM:DD HH:MM:SS")."""
    ifd0 = struct.pack("<H", 1) + struct.pack("<HHII", 0x8769, 4, 1, 26) + struct.pack("<I", 0)
    exif_ifd = struct.pack("<H", 1) + struct.pack("<HHII", 0x9003, 2, 20, 44) + struct.pack("<I", 0)
    tiff = b"II*\x00" + struct.pack("<I", 8) + ifd0 + exif_ifd + taken.encode() + b"\x00"
    app1 = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + jpeg[2:]

camera = os.path.join(lib, "camera")
for k, name in enumerate(sorted(os.listdir(camera))):
    path = os.path.join(camera, name)
    data = open(path, "rb").read()
    open(path, "wb").write(with_exif(data, f"2022:09:10 1{k}:05:00"))
    os.utime(path, (1717336800, 1717336800))  # 2024-06-02: the EXIF date wins

def files(folder):
    return sorted(os.path.join(lib, folder, f) for f in os.listdir(os.path.join(lib, folder)))
json.dump({"model": os.path.join(work, "model"), "seeds": os.path.join(work, "seeds"), "library": lib,
           "owner_files": files("phone") + files("camera"), "other_files": files("friends") + files("tv")},
          open(os.path.join(work, "fixture.json"), "w"), indent=2)
PY
find "$work/library" -type f -exec chmod a-w {} +  # the tests also check that nothing changed
echo "fixture: $(find "$work/library" -type f | wc -l) library photos, $(ls "$work/seeds" | wc -l) seeds, model $work/model"
