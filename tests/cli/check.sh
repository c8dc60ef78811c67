# Sourced by the CLI scenario scripts: `check NAME EXPECTED_CODE REGEX -- command...` runs the
# command, compares its exit code and (when REGEX is not empty) its output, prints ok/FAIL and
# counts failures in $fails.
fails=0

# `scenario_start DIR...` (with $data set): skips the scenario (exit 77, saying so) unless every
# DIR is under $data; then makes $data absolute and exported as FACEID_DATA (so YuNet is found
# whoever runs the test; Haar would miss faces), and gives a $tmp removed on exit with its own
# face cache.
scenario_start() {
  local d
  for d in "$@"; do
    [ -d "$data/$d" ] || { echo "SKIP: shared data not found under $data (set FACEID_DATA)"; exit 77; }
  done
  data=$(cd "$data" && pwd)
  export FACEID_DATA=$data
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  export FACEID_CACHE=$tmp/cache
}

# `require_face_api`: skips the scenario (exit 77, saying so) unless the face-api package is
# installed; exports it as FACEID_FACE_API.
require_face_api() {
  local src; src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  local package=${FACEID_FACE_API:-$src/pretrained/face-api/node_modules/@vladmandic/face-api/model}
  [ -f "$package/face_recognition_model-weights_manifest.json" ] ||
    { echo "SKIP: the face-api package is not installed in $package (scripts/setup.sh)"; exit 77; }
  export FACEID_FACE_API=$package
}

# The twelve LFW people (4+ photos each) of the scenarios' tiny trainings.
tiny_people=(Abdullah_Gul Alejandro_Toledo Ariel_Sharon Arnold_Schwarzenegger Colin_Powell David_Beckham
             Donald_Rumsfeld George_W_Bush Gerhard_Schroeder Hugo_Chavez Jacques_Chirac Jean_Chretien)

# `link_lfw ROOT N PERSON...`: ROOT/PERSON/ holding links to the first N LFW photos of each person.
link_lfw() {
  local root=$1 n=$2 person f; shift 2
  for person in "$@"; do
    mkdir -p "$root/$person"
    for f in $(ls "$data/lfw/$person" | head -"$n"); do ln -s "$data/lfw/$person/$f" "$root/$person/$f"; done
  done
}

# `link_photos DIR SOURCE N`: DIR holding links to the first N photos of SOURCE.
link_photos() {
  local f; mkdir -p "$1"
  for f in $(ls "$2" | head -"$3"); do ln -s "$2/$f" "$1/$f"; done
}

check() {
  local name=$1 code=$2 regex=$3; shift 4
  local out; out=$("$@" 2>&1); local got=$?
  if [ "$got" -ne "$code" ]; then echo "FAIL $name: exit $got, expected $code"; printf '%s\n' "$out" | tail -5; fails=$((fails+1)); return; fi
  if [ -n "$regex" ] && ! printf '%s' "$out" | grep -Eq -- "$regex"; then
    echo "FAIL $name: output does not match /$regex/"; printf '%s\n' "$out" | tail -8; fails=$((fails+1)); return; fi
  echo "ok   $name (exit $got)"
}

# The write path's temporaries (.<stem>.tmp-<pid>-<n><ext>, lib/core/include/faceid/io/atomic_file.hpp)
# under the given folders, one per line.
temporaries() { find "$@" -name '.*.tmp-*' 2>/dev/null; }

# `limited KIB command...` runs the command with files limited to KIB KiB and SIGXFSZ ignored, so
# that a write beyond the limit fails with EFBIG ("File too large") as on a full disk.
limited() { bash -c 'trap "" XFSZ; ulimit -f "$0" && exec "$@"' "$@"; }

# `check_write_error NAME PATH REASON -- command...`: the command exits 3 with exactly one
# `error: PATH: cannot ...: ...REASON` line, PATH does not exist afterwards and no temporary is
# left in PATH's folder.
check_write_error() {
  local name=$1 path=$2 reason=$3; shift 4
  local err; err=$("$@" 2>&1 >/dev/null); local got=$?
  local problems="" errors; errors=$(printf '%s\n' "$err" | grep -c '^error: ')
  [ "$got" -eq 3 ] || problems+=" exit $got, expected 3;"
  [ "$errors" -eq 1 ] || problems+=" $errors error lines;"
  printf '%s\n' "$err" | grep -q "^error: $path: cannot .*$reason" || problems+=" no 'error: $path: cannot ...$reason';"
  [ ! -e "$path" ] || problems+=" $path exists;"
  [ -z "$(temporaries "$(dirname "$path")")" ] || problems+=" temporaries left: $(temporaries "$(dirname "$path")");"
  if [ -n "$problems" ]; then echo "FAIL $name:$problems"; printf '%s\n' "$err" | tail -5; fails=$((fails+1)); return; fi
  echo "ok   $name (exit 3) $(printf '%s\n' "$err" | grep '^error: ')"
}

# `synthetic_scores DIR` writes DIR/pairs.txt (View 2: 2 folds of 15 matched + 15 mismatched
# pairs) and DIR/scores.csv, another system's scores for them: `faceeval pairs --scores` then
# writes a whole report without images or a model.
synthetic_scores() {
  /usr/bin/python3 - "$1" <<'PY'
import sys
out = sys.argv[1]
people = [f"Person_{i}" for i in range(15)]
with open(out + "/pairs.txt", "w") as pairs, open(out + "/scores.csv", "w") as scores:
    pairs.write("2 15\n")
    scores.write("name1,n1,name2,n2,score\n")
    for fold in range(2):
        for i, name in enumerate(people):
            pairs.write(f"{name}\t{fold + 1}\t{fold + 3}\n")
            scores.write(f"{name},{fold + 1},{name},{fold + 3},{0.5 + i / 30:.4f}\n")
        for i, name in enumerate(people):
            other = people[(i + 3) % 15]
            pairs.write(f"{name}\t{fold + 1}\t{other}\t{fold + 2}\n")
            scores.write(f"{name},{fold + 1},{other},{fold + 2},{0.2 + i / 30:.4f}\n")
PY
}

# `small_lfw DIR ln|cp` fills DIR with 12 LFW people of 4 photos each from $data/lfw (links, or
# copies where the files' own modification times matter).
small_lfw() {
  local person f
  for person in Abdullah_Gul Alejandro_Toledo Ariel_Sharon Arnold_Schwarzenegger Colin_Powell David_Beckham \
                Donald_Rumsfeld George_W_Bush Gerhard_Schroeder Hugo_Chavez Jacques_Chirac Jean_Chretien; do
    mkdir -p "$1/$person"
    for f in "$data/lfw/$person/${person}_000"[1-4].jpg; do
      if [ "$2" = cp ]; then cp "$f" "$1/$person/"; else ln -s "$f" "$1/$person/"; fi
    done
  done
}

# A training of seconds (facetrain flags, --epochs to add): the small Koch net on 80 px chips.
tiny_train=(--arch koch-small --chip-size 80 --embedding-size 32 --time-budget 0 --batch-people 4
            --batch-photos 2 --val-pairs 16 --val-fraction 0.3 --references 4 --min-owner-tar 0 -q)
