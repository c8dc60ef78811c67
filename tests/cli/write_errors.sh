#!/usr/bin/env bash
# Write errors for real: a full disk (a file-size limit, `ulimit -f`, which binds root
# too; and a filled tmpfs where a user and mount namespace can be had), a read-only folder and a
# file where a folder belongs. Each must be one `error:` line naming the path, exit 3, and nothing
# partial: no file under the final name, no temporary. The faceeval cases need no data; faceprep,
# faceverify (picture and video) need the shared data and a tiny model trained here.
#   write_errors.sh BIN_DIR DATA_DIR
set -u
bin=$1 data=$2
source "$(dirname "$0")/check.sh"
tmp=$(mktemp -d); trap 'chmod -R u+w "$tmp"; rm -rf "$tmp"' EXIT
export FACEID_CACHE=$tmp/cache

synthetic_scores "$tmp"
evaluate=("$bin/faceeval" pairs --scores "$tmp/scores.csv" --pairs "$tmp/pairs.txt" -q)
check eval_reference 0 "" -- "${evaluate[@]}" --out "$tmp/ref"

# Full disk: nothing can be written; then room for roc.csv but not for roc.png.
check_write_error eval_full_disk "$tmp/full/roc.csv" "File too large" -- limited 0 "${evaluate[@]}" --out "$tmp/full"
[ -z "$(ls -A "$tmp/full")" ] || { echo "FAIL eval_full_disk: left $(ls -A "$tmp/full")"; fails=$((fails+1)); }
kib=$((($(stat -c %s "$tmp/ref/roc.csv") + 1023) / 1024))
if [ "$(stat -c %s "$tmp/ref/roc.png")" -gt $((kib * 1024)) ]; then
  check_write_error eval_disk_full_midway "$tmp/half/roc.png" "File too large" -- limited "$kib" "${evaluate[@]}" --out "$tmp/half"
  cmp -s "$tmp/ref/roc.csv" "$tmp/half/roc.csv" && [ ! -e "$tmp/half/report.json" ] ||
    { echo "FAIL eval_disk_full_midway: roc.csv is not whole or report.json was written"; fails=$((fails+1)); }
fi

# A filled tmpfs (ENOSPC) and a read-only mount (EROFS, which root meets too), in a namespace of
# their own when one can be had.
if unshare -rm true 2>/dev/null; then
  mkdir -p "$tmp/mnt"
  unshare -rm bash -c '
    source "$1"; tmp=$2; shift 2
    mount -t tmpfs -o size=64k tmpfs "$tmp/mnt" || { echo "SKIP tmpfs: cannot mount"; exit 0; }
    dd if=/dev/zero of="$tmp/mnt/filler" bs=4k 2>/dev/null
    check_write_error eval_tmpfs_full "$tmp/mnt/roc.csv" "No space left on device" -- "$@" --out "$tmp/mnt"
    umount "$tmp/mnt" && mount -t tmpfs -o ro tmpfs "$tmp/mnt"
    check_write_error eval_readonly_mount "$tmp/mnt/roc.csv" "Read-only file system" -- "$@" --out "$tmp/mnt"
    check_write_error eval_readonly_mount_subfolder "$tmp/mnt/new" "Read-only file system" -- "$@" --out "$tmp/mnt/new"
    exit "$fails"' _ "$(dirname "$0")/check.sh" "$tmp" "${evaluate[@]}"
  fails=$((fails + $?))
else
  echo "SKIP tmpfs and read-only mount: no user and mount namespace here (unshare -rm)"
fi
# A read-only folder by permissions: root writes there anyway, so only for other users.
if [ "$(id -u)" -ne 0 ]; then
  mkdir -p "$tmp/ro" && chmod 555 "$tmp/ro"
  check_write_error eval_readonly_folder "$tmp/ro/roc.csv" "Permission denied" -- "${evaluate[@]}" --out "$tmp/ro"
  check_write_error eval_readonly_parent "$tmp/ro/new" "Permission denied" -- "${evaluate[@]}" --out "$tmp/ro/new"
else
  echo "SKIP read-only folder by permissions: running as root, which ignores them (the read-only mount covers it)"
fi

# A file where a folder belongs.
echo "a file" > "$tmp/blocker"
check_write_error eval_file_as_folder "$tmp/blocker/report" "Not a directory" -- "${evaluate[@]}" --out "$tmp/blocker/report"
check_write_error train_run_dir_file_as_folder "$tmp/blocker/run" "Not a directory" -- "$bin/facetrain" --lfw "$tmp" --self "$tmp" --run-dir "$tmp/blocker/run" -o "$tmp/m"
check eval_out_is_a_file 3 "^error: .*blocker: cannot create the report folder: a file is in the way" -- "${evaluate[@]}" --out "$tmp/blocker"

# With the shared data: the face cache, an annotated picture and a video on a full disk.
[ -d "$data/lfw" ] && [ -d "$data/owners/stads/anchor" ] || {
  echo "SKIP faceprep/faceverify cases: shared data not found under $data (set FACEID_DATA)"; exit $((fails > 0)); }
data=$(cd "$data" && pwd)
export FACEID_DATA=$data
mkdir -p "$tmp/me" "$tmp/refs"
small_lfw "$tmp/lfw" ln
for f in $(ls "$data/owners/stads/anchor" | head -12); do ln -s "$data/owners/stads/anchor/$f" "$tmp/me/$f"; done
for f in $(ls "$data/owners/stads/anchor" | sed -n 20,23p); do ln -s "$data/owners/stads/anchor/$f" "$tmp/refs/$f"; done

# The face cache: the same file name in a fresh cache folder, which the limit leaves empty.
check prep_reference 0 "" -- "$bin/faceprep" --self "$tmp/me" -q
cache_file=$(ls "$tmp/cache")
FACEID_CACHE=$tmp/cache2 check_write_error prep_full_disk "$tmp/cache2/$cache_file" "File too large" -- limited 0 "$bin/faceprep" --self "$tmp/me" -q

one=$(ls "$tmp/me" | head -1)
/usr/bin/python3 - "$tmp/me/$one" "$tmp/clip.avi" <<'PY'  # a 12-frame video of an owner photo
import sys, cv2, numpy as np
photo = cv2.imread(sys.argv[1])
video = cv2.VideoWriter(sys.argv[2], cv2.VideoWriter_fourcc(*"MJPG"), 10, (photo.shape[1], photo.shape[0]))
for i in range(12): video.write(np.roll(photo, i, axis=1))
video.release()
PY
check train 0 "" -- "$bin/facetrain" --lfw "$tmp/lfw" --self "$tmp/me" -o "$tmp/model" --run-dir "$tmp/run" "${tiny_train[@]}" --epochs 1
verify=("$bin/faceverify" -m "$tmp/model" --refs "$tmp/refs" --threshold 0 --ratio 0 -q)
mkdir -p "$tmp/out"
check verify_reference 0 "" -- "${verify[@]}" "$tmp/me/$one" "$tmp/clip.avi" -o "$tmp/out"  # caches now warm
check_write_error verify_full_disk "$tmp/out/annotated.jpg" "File too large" -- limited 0 "${verify[@]}" "$tmp/me/$one" -o "$tmp/out/annotated.jpg"
check_write_error verify_video_full_disk "$tmp/out/clip_out.avi" "frames could be read back" -- limited 8 "${verify[@]}" "$tmp/clip.avi" -o "$tmp/out/clip_out.avi"
check_write_error verify_folder_file_as_folder "$tmp/blocker/annotated" "Not a directory" -- "${verify[@]}" "$tmp/me" -o "$tmp/blocker/annotated"

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
