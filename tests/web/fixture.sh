#!/usr/bin/env bash
# The web tests' fixture: a tiny model trained in seconds on a small real subset (as
# tests/cli/train_eval.sh does), 4 owner reference photos, the test pictures (owner, stranger, no
# face, a group) and the fake-webcam video, and thresholds that separate the owner's pictures
# from the stranger's with this model (the test is of the server, not of the model).
#   fixture.sh BIN_DIR DATA_DIR WORK_DIR   ->  WORK_DIR/{model,refs,pictures,webcam.y4m,fixture.json}
set -euo pipefail
bin=$1 data=$2 work=$3
if [ ! -d "$data/lfw" ] || [ ! -d "$data/owners/stads/anchor" ]; then
  echo "SKIP: shared data not found under $data (set FACEID_DATA)"; exit 77
fi
data=$(cd "$data" && pwd)
rm -rf "$work" && mkdir -p "$work"/{lfw,me,refs,pictures}
export FACEID_CACHE=$work/cache

for person in Abdullah_Gul Alejandro_Toledo Ariel_Sharon Arnold_Schwarzenegger Colin_Powell David_Beckham \
              Donald_Rumsfeld George_W_Bush Gerhard_Schroeder Hugo_Chavez Jacques_Chirac Jean_Chretien; do
  mkdir -p "$work/lfw/$person"
  for f in $(ls "$data/lfw/$person" | head -4); do ln -s "$data/lfw/$person/$f" "$work/lfw/$person/$f"; done
done
anchor=$data/owners/stads/anchor
for f in $(ls "$anchor" | head -12); do ln -s "$anchor/$f" "$work/me/$f"; done
# References are copies: the reload test changes the folder.
for f in $(ls "$anchor" | sed -n 20,23p); do cp "$anchor/$f" "$work/refs/$f"; done

"$bin/facetrain" --lfw "$work/lfw" --self "$work/me" -o "$work/model" --run-dir "$work/run" --arch resnet \
  --chip-size 80 --embedding-size 32 --epochs 1 --time-budget 0 --batch-people 4 --batch-photos 2 --val-pairs 16 \
  --val-fraction 0.3 --lr 1e-3 --references 4 --min-owner-tar 0 -q

/usr/bin/python3 - "$work" "$data" "$bin" <<'PY'
import json, os, shutil, subprocess, sys
import cv2, numpy as np
work, data, bin_dir = sys.argv[1:4]
pics = work + "/pictures"
refs = sorted(os.listdir(work + "/refs"))
shutil.copy(f"{work}/refs/{refs[0]}", pics + "/owner.jpg")            # an owner photo (one of the references)
shutil.copy(f"{data}/lfw/Tony_Blair/Tony_Blair_0001.jpg", pics + "/stranger.jpg")
shutil.copy(f"{data}/scenes/faceapi/bbt1.jpg", pics + "/group.jpg")   # four strangers
sky = np.zeros((240, 320, 3), np.uint8)
for y in range(240): sky[y] = (230 - y // 2, 180 - y // 3, 120)
cv2.imwrite(pics + "/landscape.png", sky)                              # no face

# Fake webcam: 640x480 frames of the reference photos, as Chromium's fake capture reads them (Y4M, I420).
frames = []
for name in refs:
    photo = cv2.imread(f"{work}/refs/{name}")
    frame = np.full((480, 640, 3), 90, np.uint8)
    face = cv2.resize(photo, (400, 400))
    frame[40:440, 120:520] = face
    frames.append(frame)
cv2.imwrite(pics + "/webcam_frame.jpg", frames[0], [cv2.IMWRITE_JPEG_QUALITY, 85])
with open(work + "/webcam.y4m", "wb") as out:
    out.write(b"YUV4MPEG2 W640 H480 F5:1 Ip A1:1 C420jpeg\n")
    for frame in frames * 3:
        out.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())

# The best reference score of each picture with this model; the threshold goes halfway between
# the lowest owner picture and the stranger ("--ratio 0": the best reference decides).
def best(path):
    r = subprocess.run([bin_dir + "/faceverify", "-m", work + "/model", "--refs", work + "/refs",
                        path, "--json", "-q", "--threshold", "1"], capture_output=True, text=True)
    faces = json.loads(r.stdout)["images"][0]["faces"]
    return max(f["best_score"] for f in faces)
owner = min(best(pics + "/owner.jpg"), best(pics + "/webcam_frame.jpg"))
stranger = max(best(pics + "/stranger.jpg"), best(pics + "/group.jpg"))
if owner <= stranger:
    sys.exit(f"fixture: the tiny model scores the stranger ({stranger:.4f}) above the owner ({owner:.4f})")
threshold = (owner + stranger) / 2
json.dump({"threshold": threshold, "ratio": 0.0, "owner_best": owner, "stranger_best": stranger},
          open(work + "/fixture.json", "w"), indent=2)
print(f"fixture: owner best {owner:.6f}, stranger best {stranger:.6f} -> threshold {threshold:.6f}")
PY
